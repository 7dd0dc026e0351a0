//! `clinic-startup` and `clinic-registration`: how the reference backend scales with its
//! history and its population, on SQLite or PostgreSQL.
//!
//! Both drive the clinic's own services in-process (the same code the HTTP handlers call) so
//! that building a large history takes minutes, not hours; the HTTP layer is measured by
//! `examples/load.rs`.

use super::Command;
use bedside_clinic::integrity::{ChainKey, FileAnchor, MemoryAnchor};
use bedside_clinic::pgtest::{ClusterOptions, TempCluster};
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, PostgresStore, Principal, Registration, SqliteStore, Store,
    seed,
};
use bedside_core::{Clock, ManualClock, PatientId};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The subcommands this module registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "clinic-startup",
            about: "[--commands N] [--patients P] [--database sqlite|postgres] [--keep DIR]: journal N commands (P registrations, discharges, vitals uploads) through the services (or reuse those a run with --keep DIR built), then time a restart from the whole journal, a state snapshot, and a restart from the snapshot (its phases on stderr)",
            run: startup,
        },
        Command {
            name: "clinic-find",
            about: "[--requests N] [--bookings B] [--database sqlite|postgres]: latency of the slot search behind FHIR `Appointment/$find` and `Slot` search (`Clinic::slot_resources`: the slot search plus stable slot ids and the Slot export) on the demo seed with B more bookings, over N windows across the 14-day horizon",
            run: find,
        },
        Command {
            name: "clinic-registration",
            about: "[--patients N] [--queries Q] [--database sqlite|postgres]: registration latency (duplicate check by the MatchIndex included) inside the backend at N patients",
            run: registration,
        },
    ]
}

pub(super) fn flag(args: &[String], name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// Where the clinic lives for one run; the cluster (if any) lives as long as this.
pub(super) struct Place {
    dir: std::path::PathBuf,
    url: Option<String>,
    anchor: Anchoring,
    /// `--keep DIR`: the database is kept (and reused) rather than deleted.
    kept: bool,
    /// Whether the database is new (nothing built in it yet).
    fresh: bool,
    _cluster: Option<TempCluster>,
}

/// Where a PostgreSQL store's checkpoints go: memory for a throwaway database, a file in the
/// kept directory otherwise (a kept database's chain must verify on the next run).
enum Anchoring {
    Memory(MemoryAnchor),
    File(std::path::PathBuf),
}

impl Place {
    /// A throwaway place, or with `keep` one in that directory kept across runs.
    pub(super) fn new(database: &str, keep: Option<&str>) -> Res<Self> {
        let kept = keep.is_some();
        let dir = match keep {
            Some(dir) => std::path::PathBuf::from(dir),
            None => std::env::temp_dir().join(format!(
                "bedside-scale-{}",
                bedside_core::uuid::Uuid::now_v7()
            )),
        };
        std::fs::create_dir_all(&dir)?;
        let (url, cluster, fresh) = match database {
            "sqlite" => (None, None, !dir.join("clinic.db").exists()),
            "postgres" if kept => {
                let (c, fresh) =
                    TempCluster::start_kept(dir.join("pg"), &ClusterOptions::default())?;
                let url = if fresh {
                    c.create_database("scale")?
                } else {
                    c.url("scale")
                };
                (Some(url), Some(c), fresh)
            }
            "postgres" => {
                let c = TempCluster::start()?;
                (Some(c.create_database("scale")?), Some(c), true)
            }
            other => return Err(format!("--database: sqlite or postgres, not `{other}`").into()),
        };
        let anchor = if kept {
            Anchoring::File(dir.join("anchor"))
        } else {
            Anchoring::Memory(MemoryAnchor::new())
        };
        Ok(Place {
            dir,
            url,
            anchor,
            kept,
            fresh,
            _cluster: cluster,
        })
    }

    fn store(&self) -> Res<Box<dyn Store>> {
        Ok(match &self.url {
            None => Box::new(SqliteStore::open(
                &self.dir.join("clinic.db"),
                Durability::Normal,
            )?),
            Some(url) => Box::new(PostgresStore::connect(
                url,
                Durability::Normal,
                match &self.anchor {
                    Anchoring::Memory(a) => Box::new(a.clone()),
                    Anchoring::File(path) => Box::new(FileAnchor::new(path, Durability::Normal)),
                },
                ChainKey::development(),
            )?),
        })
    }

    pub(super) fn open(&self, clock: Arc<ManualClock>) -> Res<Clinic> {
        Ok(Clinic::open(self.store()?, clock, ClinicConfig::default())?)
    }

    /// The marker a finished build leaves in a kept directory: what was built.
    fn marker(&self) -> std::path::PathBuf {
        self.dir.join("built")
    }

    /// Lets the database finish the work the build and the snapshot left it (PostgreSQL: a
    /// checkpoint, then waiting up to a minute for autovacuum), so the restart is timed as a
    /// node starts on a settled database, not racing the server's own clean-up for the two
    /// cores. Returns the seconds waited.
    fn settle(&self) -> Res<f64> {
        let t = Instant::now();
        if let Some(url) = &self.url {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            c.batch_execute("CHECKPOINT")?;
            while t.elapsed().as_secs() < 60 {
                let busy: i64 = c
                    .query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity
                         WHERE backend_type = 'autovacuum worker'",
                        &[],
                    )?
                    .get(0);
                if busy == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
        Ok(t.elapsed().as_secs_f64())
    }

    /// Deletes the stored state snapshots, so a kept database starts the run as a freshly
    /// built one does (replaying its whole journal) and the run times this build's format.
    fn drop_snapshots(&self) -> Res<()> {
        match &self.url {
            None => {
                rusqlite::Connection::open(self.dir.join("clinic.db"))?
                    .execute("DELETE FROM snapshots", [])?;
            }
            Some(url) => {
                postgres::Client::connect(url, postgres::NoTls)?
                    .execute("DELETE FROM snapshots", &[])?;
            }
        }
        Ok(())
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Resident set size of this process, in bytes (Linux `/proc/self/statm`).
fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ber", "dan", "fel", "gor", "han", "jul",
    "kov", "lin", "mar", "nor", "pel", "quist", "ros", "sten", "tal", "wen",
];
const GIVEN: [&str; 40] = [
    "Amara", "Bjorn", "Chiara", "Dev", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wanjiru", "Xavier", "Yara", "Zoran", "Aiko", "Bruno", "Carmen", "Dmitri", "Esme", "Femi",
    "Gianna", "Hassan", "Ingrid", "Jamal", "Keiko", "Luca", "Mira", "Nils",
];

/// A deterministic scramble of `n` (SplitMix64), so neighbouring people differ everywhere.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A registration form for synthetic person `n`: a three- or four-syllable family name, one of
/// forty given names, a birth date between 1930 and 2009.
pub(super) fn form(n: u64) -> Registration {
    let h = mix(n);
    let syllables = 3 + (h % 2) as usize;
    let mut family = String::new();
    for i in 0..syllables {
        family.push_str(SYLLABLES[((h >> (8 + 5 * i)) % 24) as usize]);
    }
    let mut family: Vec<char> = family.chars().collect();
    family[0] = family[0].to_ascii_uppercase();
    let g = mix(n ^ 0xabcdef);
    Registration {
        given: vec![GIVEN[(g % 40) as usize].to_string()],
        family: family.into_iter().collect(),
        birth_date: format!(
            "{}-{:02}-{:02}",
            1930 + (g >> 8) % 80,
            1 + (g >> 16) % 12,
            1 + (g >> 24) % 28
        ),
        phone: None,
        email: None,
        postal_code: Some(format!("{:05}", 10000 + (g >> 32) % 80000)),
        sms_reminders: None,
        language: None,
    }
}

/// The patient a registration reply names (through its serde form, so the eval does not
/// depend on the reply's Rust type).
pub(super) fn patient_id(reply: &impl serde::Serialize) -> Res<PatientId> {
    let v = serde_json::to_value(reply)?;
    Ok(v["patient"].as_str().ok_or("no patient id")?.parse()?)
}

fn startup(args: &[String]) -> ExitCode {
    exit("clinic-startup", startup_run(args))
}

/// 0 when the run met its target, 1 when it did not, 2 when it could not run.
pub(super) fn exit(name: &str, result: Res<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(2)
        }
    }
}

fn startup_run(args: &[String]) -> Res<bool> {
    let target: u64 = flag(args, "--commands").map_or(Ok(20_000), |v| v.parse())?;
    // Default: the mix of earlier runs, six registrations in ten commands.
    let patients: u64 = flag(args, "--patients").map_or(Ok(target * 6 / 10), |v| v.parse())?;
    let database = flag(args, "--database").unwrap_or_else(|| "sqlite".into());
    // `--keep DIR`: build the history once into DIR/<database>-<commands>-<patients> and reuse
    // it on later runs with the same figures (building 1 M commands takes minutes on SQLite
    // and about half an hour on PostgreSQL).
    let keep = flag(args, "--keep").map(|dir| format!("{dir}/{database}-{target}-{patients}"));
    let place = Place::new(&database, keep.as_deref())?;
    let start: bedside_core::Timestamp = "2026-06-08T13:00:00Z".parse()?;
    let clock = Arc::new(ManualClock::new(start));
    let built = match std::fs::read_to_string(place.marker()) {
        Ok(text) if !place.fresh => {
            let mut words = text.split_whitespace();
            let mut next = || words.next().ok_or("a malformed `built` marker");
            let (commands, patients): (u64, u64) = (next()?.parse()?, next()?.parse()?);
            clock.set(next()?.parse()?);
            println!(
                "reusing {commands} commands ({patients} patients) built in {} s on {database} in {}",
                next()?,
                place.dir.display()
            );
            place.drop_snapshots()?;
            (commands, patients)
        }
        _ => {
            let built = Instant::now();
            let (commands, patients) = build(&place, &clock, target, patients)?;
            let build_seconds = built.elapsed().as_secs_f64();
            println!(
                "built {commands} commands ({patients} patients) in {build_seconds:.1} s on {database}"
            );
            if place.kept {
                std::fs::write(
                    place.marker(),
                    format!(
                        "{commands} {patients} {} {build_seconds:.0}\n",
                        clock.now().to_rfc3339()
                    ),
                )?;
            }
            (commands, patients)
        }
    };
    let (commands, patients) = built;
    // 1. The whole journal, as a clinic without a snapshot (or an older build) starts.
    let rss_before = rss_bytes().unwrap_or(0);
    let t = Instant::now();
    let replayed = place.open(clock.clone())?;
    let replay_seconds = t.elapsed().as_secs_f64();
    let rss_after = rss_bytes().unwrap_or(0);
    let per_patient = rss_after.saturating_sub(rss_before) as f64 / patients as f64;
    // 2. A snapshot (what a running node writes every `snapshot_every` commands).
    let t = Instant::now();
    let at = replayed.write_snapshot()?;
    let snapshot_seconds = t.elapsed().as_secs_f64();
    drop(replayed);
    let settled = place.settle()?;
    // 3. Start-up from the snapshot, each phase timed, then the full chain check a node runs
    // after it.
    let rss_dropped = rss_bytes().unwrap_or(0);
    let recording = bedside_clinic::phases::record();
    let t = Instant::now();
    let reopened = place.open(clock.clone())?;
    let open_seconds = t.elapsed().as_secs_f64();
    let phases = recording.finish();
    let rss_reopened = rss_bytes().unwrap_or(0);
    eprintln!(
        "database settled in {settled:.1} s; start-up from the snapshot, by phase (start, duration):"
    );
    for p in &phases {
        eprintln!(
            "  {:>7.3} s  {:>7.3} s  {}",
            p.start.as_secs_f64(),
            p.duration.as_secs_f64(),
            p.name
        );
    }
    assert!(reopened.is_set_up() && reopened.started_from_snapshot());
    let t = Instant::now();
    let broken = reopened.verify_history()?;
    let verify_seconds = t.elapsed().as_secs_f64();
    if let Some(b) = broken {
        return Err(format!("the chain does not verify: {b}").into());
    }
    // Resident memory of the clinic started from the snapshot: what the process holds beyond
    // what it held before the first start-up (the allocator may keep some of the replayed
    // clinic's freed memory, so this is an upper bound).
    let resident = rss_reopened.saturating_sub(rss_before);
    println!(
        "clinic-startup: {database}, {commands} journaled commands, {patients} patients: start-up {open_seconds:.2} s from a snapshot ({replay_seconds:.2} s replaying the whole journal), +{:.0} MB resident after the replay ({per_patient:.0} B per patient), +{:.0} MB after the start from the snapshot ({:.0} B per patient; {:.0} MB before it); snapshot at command {} written in {snapshot_seconds:.2} s; full chain check {verify_seconds:.2} s in the background; target <= 2 s",
        rss_after.saturating_sub(rss_before) as f64 / 1e6,
        resident as f64 / 1e6,
        resident as f64 / patients as f64,
        rss_dropped.saturating_sub(rss_before) as f64 / 1e6,
        at.commands
    );
    Ok(open_seconds <= 2.0)
}

/// Journals `target` commands through the services: `patients` registrations spread over the
/// run, each registered patient discharged once, every other command a home-vitals upload
/// (two readings) by a discharged patient. Returns the commands and patients (the seed's
/// included) journaled.
fn build(place: &Place, clock: &Arc<ManualClock>, target: u64, patients: u64) -> Res<(u64, u64)> {
    let clinic = place.open(clock.clone())?;
    seed::seed(&clinic)?;
    let reception = seed::demo_staff("reception")?;
    let nurse = seed::demo_staff("nurse")?;
    let built = Instant::now();
    let mut commands = 0u64;
    let mut discharged: Vec<PatientId> = Vec::new();
    let mut registered: Vec<PatientId> = Vec::new();
    let mut n = 0u64;
    while commands < target {
        // The first thousand register up front, so no patient meets the daily upload cap.
        let due = ((commands + 1) * patients / target.max(1)).max(patients.min(1_000));
        if n < due && n < patients {
            let v = clinic.register(&form(n), Some(&reception))?;
            registered.push(patient_id(&v)?);
            n += 1;
        } else if let Some(p) = registered.pop() {
            clinic.discharge(&nurse, p)?;
            discharged.push(p);
        } else if !discharged.is_empty() {
            let p = discharged[(mix(commands) % discharged.len() as u64) as usize];
            clock.advance(chrono::TimeDelta::seconds(61));
            let me = Principal::Patient { patient: p };
            let at = clock.now();
            let mut body = String::new();
            for r in 0..2 {
                let t = (at - chrono::TimeDelta::seconds(50 - r * 10)).to_rfc3339();
                body.push_str(&format!(
                    "{{\"patient\":\"{p}\",\"kind\":\"heart_rate\",\"at\":\"{t}\",\"value\":{},\"unit\":\"/min\",\"source\":\"app:scale\"}}\n",
                    60 + r
                ));
            }
            clinic.upload_vitals(&me, p, &body)?;
        } else {
            return Err("nothing to do: --patients must be at least 1".into());
        }
        commands += 1;
        if commands.is_multiple_of(100_000) {
            eprintln!(
                "  {commands} commands, {n} patients, {:.0} s",
                built.elapsed().as_secs_f64()
            );
        }
    }
    Ok((commands, n + 6))
}

fn find(args: &[String]) -> ExitCode {
    exit("clinic-find", find_run(args))
}

fn find_run(args: &[String]) -> Res<bool> {
    use bedside_clinic::SlotSearch;
    let requests: u64 = flag(args, "--requests").map_or(Ok(2_000), |v| v.parse())?;
    let bookings: u64 = flag(args, "--bookings").map_or(Ok(200), |v| v.parse())?;
    let database = flag(args, "--database").unwrap_or_else(|| "sqlite".into());
    let place = Place::new(&database, None)?;
    let start: bedside_core::Timestamp = "2026-06-08T13:00:00Z".parse()?;
    let clock = Arc::new(ManualClock::new(start));
    let clinic = place.open(clock)?;
    let demo = seed::seed(&clinic)?;
    let desk = seed::demo_staff("scheduler")?;
    // A busier book: the first free slot of each of B searches, for the demo patients in turn.
    let mut booked = 0u64;
    for n in 0..bookings {
        let from = start + chrono::TimeDelta::minutes(i64::try_from(n * 97 % (14 * 24 * 60))?);
        let search = SlotSearch {
            appointment_type: "gp-visit".into(),
            from: Some(from),
            limit: Some(1),
            ..SlotSearch::default()
        };
        let patient = demo.patients[(n as usize) % demo.patients.len()].0;
        if let Some(option) = clinic.find_slots(&search)?.into_iter().next()
            && clinic
                .book(&desk, patient, option, &format!("eval-{n}"))
                .is_ok()
        {
            booked += 1;
        }
    }
    let types = ["gp-visit", "gp-follow-up", "cardio-follow-up"];
    let mut times = Vec::with_capacity(requests as usize);
    let mut found = 0usize;
    for q in 0..requests {
        let from = start + chrono::TimeDelta::minutes(i64::try_from(q * 131 % (13 * 24 * 60))?);
        let search = SlotSearch {
            appointment_type: types[(q as usize) % types.len()].into(),
            from: Some(from),
            to: Some(from + chrono::TimeDelta::days(1)),
            limit: Some(bedside_clinic::clinic::MAX_SLOT_RESULTS),
            ..SlotSearch::default()
        };
        let t = Instant::now();
        let slots = clinic.slot_resources(&search)?;
        times.push(t.elapsed());
        found += slots.len();
    }
    let mut samples = times.clone();
    let p50 = bedside_benches::timing::quantile(&mut samples, 0.5).as_secs_f64() * 1e3;
    let p99 = bedside_benches::timing::quantile(&mut samples, 0.99).as_secs_f64() * 1e3;
    println!(
        "clinic-find: {database}, demo seed + {booked} bookings, {requests} one-day windows: p50 {p50:.3} ms, p99 {p99:.3} ms (target < 20 ms), {:.1} slots per answer",
        found as f64 / requests.max(1) as f64
    );
    Ok(found > 0 && p99 < 20.0)
}

fn registration(args: &[String]) -> ExitCode {
    exit("clinic-registration", registration_run(args))
}

fn registration_run(args: &[String]) -> Res<bool> {
    let patients: u64 = flag(args, "--patients").map_or(Ok(100_000), |v| v.parse())?;
    let queries: u64 = flag(args, "--queries").map_or(Ok(2_000), |v| v.parse())?;
    let database = flag(args, "--database").unwrap_or_else(|| "sqlite".into());
    let place = Place::new(&database, None)?;
    let clock = Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?));
    let clinic = place.open(clock)?;
    seed::seed(&clinic)?;
    let reception = seed::demo_staff("reception")?;
    let built = Instant::now();
    let mut ids = Vec::with_capacity(patients as usize);
    for n in 0..patients {
        ids.push(patient_id(&clinic.register(&form(n), Some(&reception))?)?);
    }
    println!(
        "registered {patients} patients in {:.1} s on {database}",
        built.elapsed().as_secs_f64()
    );
    // Half the queries are new people, half re-register an existing one with a typo in the
    // family name (which the staff queue must catch).
    let mut times = Vec::with_capacity(queries as usize);
    let mut expected = std::collections::HashMap::new();
    let mut fresh = std::collections::HashSet::new();
    for q in 0..queries {
        let (f, original) = if q % 2 == 0 {
            (form(patients + 1_000_000 + q), None)
        } else {
            let n = (q * 7919) % patients;
            let mut f = form(n);
            f.family.insert(2, 'x');
            (f, Some(ids[n as usize]))
        };
        let t = Instant::now();
        let v = clinic.register(&f, Some(&reception))?;
        times.push(t.elapsed());
        let id = patient_id(&v)?.to_string();
        match original {
            Some(o) => {
                expected.insert(id, o.to_string());
            }
            None => {
                fresh.insert(id);
            }
        }
    }
    let (mut caught, mut false_alarms) = (0u64, 0u64);
    for case in serde_json::to_value(clinic.duplicates(&reception)?)?
        .as_array()
        .into_iter()
        .flatten()
    {
        let patient = case["patient"].as_str().unwrap_or_default();
        let existing = case["existing"].as_str().unwrap_or_default();
        if expected.get(patient).map(String::as_str) == Some(existing) {
            caught += 1;
        } else if fresh.contains(patient) {
            false_alarms += 1;
        }
    }
    times.sort_unstable();
    let pct = |p: f64| -> Duration { times[((times.len() - 1) as f64 * p).round() as usize] };
    let p99 = pct(0.99).as_secs_f64() * 1e3;
    println!(
        "clinic-registration: {database}, {patients} patients, {queries} registrations: p50 {:.2} ms, p99 {p99:.2} ms (target < 5 ms); duplicate queue caught {caught} of {} typo re-registrations, {false_alarms} of {} new people queued",
        pct(0.5).as_secs_f64() * 1e3,
        expected.len(),
        fresh.len()
    );
    Ok(p99 < 5.0)
}
