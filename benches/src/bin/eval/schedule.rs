//! Eval subcommands of `bedside-schedule`.

use std::process::ExitCode;
use std::time::Instant;

use bedside_schedule::clinic_slots::Instance;
use bedside_schedule::fhir;
use bedside_schedule::solver::{SolverConfig, explain, solve};

use std::sync::Arc;

use bedside_benches::schedule::{build_clinic, queries};
use bedside_benches::timing::{quantile, timed};
use bedside_core::{ManualClock, SeededIdGenerator};

use crate::Command;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "schedule",
            about: "<instance.json> [--seconds S] [--seed N] [--out solution.json]: solve a clinic-slots-v1 instance",
            run: run_schedule,
        },
        Command {
            name: "fhir-schedule",
            about: "<dir>: import and round-trip every FHIR R4 Schedule, Slot and Appointment",
            run: run_fhir_schedule,
        },
        Command {
            name: "slot-search",
            about: "[--queries N]: top-10 search latency on a 50-provider, 20-room, 90-day, 5-minute clinic at 80% utilisation",
            run: run_slot_search,
        },
    ]
}

fn run_schedule(args: &[String]) -> ExitCode {
    let mut path = None;
    let mut seconds = 1.0f64;
    let mut seed = 1u64;
    let mut out = None;
    let mut config = SolverConfig::default();
    let mut iterations: Option<u64> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => seconds = s,
                None => return usage("--seconds needs a number"),
            },
            "--seed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => seed = s,
                None => return usage("--seed needs an integer"),
            },
            "--t0" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.start_temperature = s,
                None => return usage("--t0 needs a number"),
            },
            "--t1" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.end_temperature = s,
                None => return usage("--t1 needs a number"),
            },
            "--max-removed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.max_removed = s,
                None => return usage("--max-removed needs an integer"),
            },
            "--blink" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.blink = s,
                None => return usage("--blink needs a number"),
            },
            "--cascade" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.cascade = s,
                None => return usage("--cascade needs a number"),
            },
            "--pressure" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.pressure_weight = s,
                None => return usage("--pressure needs an integer"),
            },
            "--iterations" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => iterations = Some(n),
                None => return usage("--iterations needs an integer"),
            },
            "--seed-first" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => config.seed_first = s,
                None => return usage("--seed-first needs a number"),
            },
            "--out" => match it.next() {
                Some(s) => out = Some(s.clone()),
                None => return usage("--out needs a path"),
            },
            other if path.is_none() && !other.starts_with("--") => path = Some(other.to_string()),
            other => return usage(&format!("unexpected argument `{other}`")),
        }
    }
    let Some(path) = path else {
        return usage("missing instance path");
    };
    let started = Instant::now();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("schedule: cannot read `{path}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    let instance = match Instance::from_json(&bytes) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("schedule: {e}");
            return ExitCode::FAILURE;
        }
    };
    let problem = match instance.to_problem() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("schedule: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The budget covers reading, solving and writing: stop the search a little early.
    let deadline = seconds.max(0.0) * 0.97 - 0.01;
    let search_start = Instant::now();
    let already = search_start.duration_since(started).as_secs_f64();
    let search_seconds = (deadline - already).max(0.0);
    // With --iterations the run is deterministic (and --seconds is ignored).
    let mut budget = |done: u64| match iterations {
        Some(n) => done as f64 / n.max(1) as f64,
        None if search_seconds <= 0.0 => 1.0,
        None => search_start.elapsed().as_secs_f64() / search_seconds,
    };
    config.seed = seed;
    let solution = match solve(&problem, &config, &mut budget) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("schedule: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(out) = out {
        let json = match serde_json::to_string(&instance.solution(&solution.placements)) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("schedule: cannot serialise the solution: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(&out, json) {
            eprintln!("schedule: cannot write `{out}`: {e}");
            return ExitCode::FAILURE;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Ok(ex) = explain(&problem, &solution.placements) {
        let sum = |f: fn(&bedside_schedule::solver::PlacementCost) -> i64| -> i64 {
            ex.requests.iter().map(|r| f(&r.cost)).sum()
        };
        let penalised = ex.requests.iter().filter(|r| r.cost.total() > 0).count();
        println!(
            "explanation: window {} day {} provider {} late {} unscheduled {} ({} requests penalised)",
            sum(|c| c.window),
            sum(|c| c.day),
            sum(|c| c.provider),
            sum(|c| c.late),
            ex.score.unscheduled,
            penalised
        );
    }
    let unscheduled = solution.placements.iter().filter(|p| p.is_none()).count();
    println!(
        "instance {path}: requests {} unscheduled {unscheduled} preference_penalty {} lower_bound {} iterations {}",
        problem.requests().len(),
        solution.score.soft,
        solution.lower_bound,
        solution.iterations
    );
    println!(
        "schedule: objective {} seconds {elapsed:.3}",
        solution.score.objective()
    );
    ExitCode::SUCCESS
}

fn run_slot_search(args: &[String]) -> ExitCode {
    let mut count = 20_000usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next().and_then(|s| s.parse().ok())) {
            ("--queries", Some(n)) => count = n,
            _ => {
                eprintln!("slot-search: usage: eval slot-search [--queries N]");
                return ExitCode::from(2);
            }
        }
    }
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, 5);
    let (clinic, build) = timed(|| build_clinic(1, 0.80, &ids));
    let clinic = match clinic {
        Ok(c) => c,
        Err(e) => {
            eprintln!("slot-search: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "clinic: 50 providers, 20 rooms, 90 days, 5-minute slots; {} appointments, provider utilisation {:.1}% (built in {:.2} s)",
        clinic.booked,
        clinic.utilisation * 100.0,
        build.as_secs_f64()
    );
    let queries = queries(&clinic, 2, count, &ids);
    // Warm up caches and the allocator.
    let mut warm = 0usize;
    for q in queries.iter().take(500) {
        warm += clinic.schedule.find_slots(q).map_or(0, |v| v.len());
    }
    std::hint::black_box(warm);
    let mut found = 0usize;
    let mut samples = Vec::with_capacity(queries.len());
    let mut empty = 0usize;
    for q in &queries {
        let (res, dt) = timed(|| clinic.schedule.find_slots(q));
        match res {
            Ok(v) => {
                if v.is_empty() {
                    empty += 1;
                }
                found += v.len();
            }
            Err(e) => {
                eprintln!("slot-search: {e}");
                return ExitCode::FAILURE;
            }
        }
        samples.push(dt);
    }
    let p50 = quantile(&mut samples, 0.50);
    let p99 = quantile(&mut samples, 0.99);
    let max = quantile(&mut samples, 1.0);
    println!(
        "queries {count}: options returned {found}, queries with no option {empty}, max_us {:.1}",
        max.as_secs_f64() * 1e6
    );
    println!(
        "slot-search: p50_us {:.1} p99_us {:.1}",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    if clinic.utilisation < 0.75 || empty * 2 > count {
        eprintln!("slot-search: workload out of shape (utilisation or empty results)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn run_fhir_schedule(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("fhir-schedule: usage: eval fhir-schedule <dir>");
        return ExitCode::from(2);
    };
    let mut files: Vec<std::path::PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("fhir-schedule: cannot read `{dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let (mut ok, mut lossy, mut failed) = (0usize, 0usize, 0usize);
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("{}: unreadable", path.display());
            failed += 1;
            continue;
        };
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            eprintln!("{}: not JSON", path.display());
            failed += 1;
            continue;
        };
        // Top-level resources and the resources of a Bundle's entries.
        let mut resources = vec![value.clone()];
        if let Some(entries) = value.get("entry").and_then(|e| e.as_array()) {
            resources.extend(entries.iter().filter_map(|e| e.get("resource").cloned()));
        }
        for (i, res) in resources.iter().enumerate() {
            let rt = res
                .get("resourceType")
                .and_then(|r| r.as_str())
                .unwrap_or_default();
            if !matches!(rt, "Schedule" | "Slot" | "Appointment") {
                continue;
            }
            let label = format!("{}#{i} {rt}", path.display());
            match fhir::round_trip(res.to_string().as_bytes()) {
                Ok((_, fhir::RoundTrip::Exact)) => {
                    ok += 1;
                    println!("{label}: ok");
                }
                Ok((_, fhir::RoundTrip::Lossy { paths })) => {
                    lossy += 1;
                    println!("{label}: lossy ({})", paths.join(", "));
                }
                Err(e) => {
                    failed += 1;
                    println!("{label}: failed: {e}");
                }
            }
        }
    }
    println!("fhir-schedule: {ok} ok, {lossy} lossy, {failed} failed");
    if failed > 0 || ok + lossy == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage(msg: &str) -> ExitCode {
    eprintln!(
        "schedule: {msg}\nusage: eval schedule <instance.json> [--seconds S] [--seed N] [--out solution.json]"
    );
    ExitCode::from(2)
}
