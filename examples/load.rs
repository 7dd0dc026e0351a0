//! Load test of the clinic HTTP API over loopback: requests per second and latency
//! percentiles for slot search, booking and home-vitals upload.
//!
//! Starts the backend in-process on ephemeral ports with a fresh database, seeds the demo
//! clinic, then drives it with keep-alive HTTP/1.1 clients (`ureq`) from several threads.
//!
//! `cargo run --release --example load [-- --threads N] [--fsync] [--database URL|postgres]
//! [--nodes N] [--only slots|booking|vitals]`
//!
//! - `--fsync`: every acknowledged commit flushed, by group commit (`Durability::Group`:
//!   one flush of the log for all commits waiting; PostgreSQL `synchronous_commit=on`);
//!   `--fsync-each`: SQLite `synchronous=FULL`, one flush per commit under the lock.
//! - `--database postgres`: a throwaway PostgreSQL cluster started for the run (Debian's
//!   `postgresql` package); `--database postgres://…`: an existing database (emptied first).
//! - `--nodes N` (PostgreSQL only): N clinic nodes, each its own `Clinic` with its own
//!   connection and HTTP server, on one database; the client threads spread requests over them.
//! - `--only PHASE`: run one phase (the vitals phase books first, untimed), e.g. to profile it.

use bedside::core::SystemClock;
use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, PostgresStore, Principal, SlotSearch, SqliteStore, Store,
    http, seed,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One keep-alive HTTP/1.1 client.
struct Conn {
    agent: ureq::Agent,
    base: String,
}

impl Conn {
    fn open(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Conn {
            agent,
            base: base.to_string(),
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<u16, BoxError> {
        let url = format!("{}{path}", self.base);
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut response = if method == "GET" {
            let mut req = self.agent.get(&url);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()?
        } else {
            let mut req = self.agent.post(&url);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(body)?
        };
        let status = response.status().as_u16();
        // Read the body to the end so the connection is reused.
        let _ = response.body_mut().read_to_vec()?;
        Ok(status)
    }
}

struct Stats {
    name: &'static str,
    latencies: Vec<Duration>,
    elapsed: Duration,
    ok: usize,
    other: usize,
}

impl Stats {
    fn print(&mut self, unit: Option<(&str, usize)>) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or_default()
        };
        let n = self.latencies.len();
        let rps = n as f64 / self.elapsed.as_secs_f64();
        print!(
            "{:<14} {:>6} req in {:>6.2} s: {:>8.0} req/s, p50 {:>6.2} ms, p99 {:>6.2} ms ({} 2xx, {} other)",
            self.name,
            n,
            self.elapsed.as_secs_f64(),
            rps,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            self.ok,
            self.other
        );
        if let Some((what, per_request)) = unit {
            print!(", {:.0} {what}/s", rps * per_request as f64);
        }
        println!();
    }
}

/// Runs `jobs` split over `threads` connections (thread `t` talks to node `t % nodes`);
/// `job(i)` gives (method, path, token, body).
fn drive<F>(
    name: &'static str,
    nodes: &[String],
    threads: usize,
    jobs: usize,
    job: F,
) -> Result<Stats, BoxError>
where
    F: Fn(usize) -> (String, String, Option<String>, Vec<u8>) + Send + Sync + 'static,
{
    let job = Arc::new(job);
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..threads {
        let job = job.clone();
        let base = nodes[t % nodes.len()].clone();
        handles.push(std::thread::spawn(
            move || -> Result<(Vec<Duration>, usize, usize), BoxError> {
                let mut conn = Conn::open(&base);
                let mut lat = Vec::new();
                let (mut ok, mut other) = (0, 0);
                let mut i = t;
                while i < jobs {
                    let (method, path, token, body) = job(i);
                    let t0 = Instant::now();
                    let status = conn.request(&method, &path, token.as_deref(), &body)?;
                    lat.push(t0.elapsed());
                    if (200..300).contains(&status) {
                        ok += 1
                    } else {
                        other += 1
                    }
                    i += threads;
                }
                Ok((lat, ok, other))
            },
        ));
    }
    let mut stats = Stats {
        name,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        ok: 0,
        other: 0,
    };
    for h in handles {
        let (lat, ok, other) = h.join().map_err(|_| "client thread panicked")??;
        stats.latencies.extend(lat);
        stats.ok += ok;
        stats.other += other;
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

fn main() -> Result<(), BoxError> {
    let mut threads = 8;
    let mut durability = Durability::Normal;
    let mut database: Option<String> = None;
    let mut node_count = 1;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().ok_or("--threads needs a number")?.parse()?,
            "--fsync" => durability = Durability::Group,
            "--fsync-each" => durability = Durability::Full,
            "--database" => database = Some(args.next().ok_or("--database needs a URL")?),
            "--nodes" => node_count = args.next().ok_or("--nodes needs a number")?.parse()?,
            "--only" => only = Some(args.next().ok_or("--only needs a phase")?),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if node_count > 1 && database.is_none() {
        return Err("--nodes needs --database (SQLite is one process)".into());
    }
    let dir = std::env::temp_dir().join(format!("bedside-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _cluster;
    let url = match database.as_deref() {
        None => None,
        Some("postgres") => {
            let c = TempCluster::start()?;
            let url = c.create_database("load")?;
            _cluster = Some(c);
            Some(url)
        }
        Some(url) => {
            PostgresStore::drop_all(url)?;
            Some(url.to_string())
        }
    };
    let anchor = MemoryAnchor::new();
    let open = || -> Result<Arc<Clinic>, BoxError> {
        let store: Box<dyn Store> = match &url {
            None => Box::new(SqliteStore::open(&dir.join("clinic.db"), durability)?),
            Some(url) => Box::new(PostgresStore::connect(
                url,
                durability,
                Box::new(anchor.clone()),
                ChainKey::development(),
            )?),
        };
        Ok(Arc::new(Clinic::open(
            store,
            Arc::new(SystemClock),
            ClinicConfig::default(),
        )?))
    };
    let clinic = open()?;
    seed::seed(&clinic)?;
    let mut clinics = vec![clinic.clone()];
    for _ in 1..node_count {
        clinics.push(open()?);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut nodes = Vec::new();
    for server in &clinics {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        nodes.push(format!("http://{}", listener.local_addr()?));
        let server = server.clone();
        runtime.spawn(async move {
            let _ = http::serve_with(
                listener,
                server,
                &bedside_clinic::limits::RateLimits::disabled(),
                std::future::pending(),
            )
            .await;
        });
    }
    let store = match &database {
        None => format!("SQLite in {}", dir.display()),
        Some(_) => format!("PostgreSQL, {node_count} node(s)"),
    };
    println!("clinic on {nodes:?}, {threads} client threads, {durability:?} durability, {store}");

    if let Some(phase) = &only
        && !["slots", "booking", "vitals"].contains(&phase.as_str())
    {
        return Err(format!("--only: no phase `{phase}` (slots, booking or vitals)").into());
    }
    let runs = |phase: &str| only.as_deref().is_none_or(|o| o == phase);

    // 1. Slot search.
    if runs("slots") {
        let mut s = drive("slot search", &nodes, threads, 20_000, |i| {
            let kind = ["gp-visit", "gp-follow-up", "cardio-follow-up"][i % 3];
            (
                "GET".into(),
                format!("/v1/slots?appointment_type={kind}&limit=5"),
                None,
                Vec::new(),
            )
        })?;
        s.print(None);
    }
    if only.as_deref() == Some("slots") {
        return Ok(());
    }

    // 2. Booking: distinct open options (found in-process, not timed), one new patient each.
    let mut options = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut from = clinic.now();
    while options.len() < 1_000 {
        let found = clinic.find_slots(&SlotSearch {
            appointment_type: "gp-visit".into(),
            from: Some(from),
            limit: Some(20),
            ..SlotSearch::default()
        })?;
        let Some(last) = found.last() else { break };
        from = last.period.start() + chrono::TimeDelta::minutes(15);
        for o in found {
            // Distinct provider and room times, so every booking can succeed.
            let room = o.room.map(|r| r.to_string()).unwrap_or_default();
            if !seen.contains(&(o.provider.to_string(), o.period.start()))
                && !seen.contains(&(room.clone(), o.period.start()))
            {
                seen.insert((o.provider.to_string(), o.period.start()));
                seen.insert((room, o.period.start()));
                options.push(o);
            }
        }
    }
    let reception = seed::demo_staff("reception")?;
    let mut patients = Vec::new();
    for i in 0..options.len() {
        let form: bedside_clinic::Registration = serde_json::from_value(serde_json::json!({
            "given": [format!("Load{i}")], "family": format!("Patient{i}"),
            "birth_date": format!("19{:02}-0{}-1{}", 30 + i % 60, 1 + i % 9, i % 10)
        }))?;
        let id = clinic.register(&form, Some(&reception))?.patient();
        patients.push((id, clinic.issue_token(&Principal::Patient { patient: id })?));
    }
    let jobs: Arc<Vec<(String, String, Vec<u8>)>> = Arc::new(
        options
            .iter()
            .zip(&patients)
            .enumerate()
            .map(|(i, (o, (p, t)))| {
                let body = serde_json::json!({"option": o, "client_token": format!("load-{i}")});
                (
                    format!("/v1/patients/{p}/appointments"),
                    t.clone(),
                    body.to_string().into_bytes(),
                )
            })
            .collect(),
    );
    let n = jobs.len();
    let j = jobs.clone();
    let mut s = drive("booking", &nodes, threads, n, move |i| {
        let (path, token, body) = &j[i];
        (
            "POST".into(),
            path.clone(),
            Some(token.clone()),
            body.clone(),
        )
    })?;
    if runs("booking") {
        s.print(None);
    }
    clinic.check_invariants()?;
    if !runs("vitals") {
        drop(runtime);
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }

    // 3. Vitals upload: 100 discharged patients, 1,000 readings per upload.
    let nurse = seed::demo_staff("nurse")?;
    let per_upload = 1_000;
    let mut uploads = Vec::new();
    for (k, (p, t)) in patients.iter().take(100).enumerate() {
        clinic.discharge(&nurse, *p)?;
        for u in 0..4 {
            let mut body = String::with_capacity(per_upload * 200);
            let base = clinic.now() + chrono::TimeDelta::seconds(1);
            for r in 0..per_upload {
                let at =
                    (base + chrono::TimeDelta::seconds((u * per_upload + r) as i64)).to_rfc3339();
                let pulse = 60 + (k + r) % 40;
                body.push_str(&format!(
                    "{{\"patient\":\"{p}\",\"kind\":\"heart_rate\",\"at\":\"{at}\",\"value\":{pulse},\"unit\":\"/min\",\"source\":\"app:load\"}}\n"
                ));
            }
            uploads.push((
                format!("/v1/patients/{p}/vitals"),
                t.clone(),
                body.into_bytes(),
            ));
        }
    }
    let uploads = Arc::new(uploads);
    let n = uploads.len();
    let u = uploads.clone();
    let mut s = drive("vitals upload", &nodes, threads, n, move |i| {
        let (path, token, body) = &u[i];
        (
            "POST".into(),
            path.clone(),
            Some(token.clone()),
            body.clone(),
        )
    })?;
    s.print(Some(("readings", per_upload)));

    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
