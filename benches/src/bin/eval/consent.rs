//! Eval subcommands of `bedside-consent`: `fhir-consent` and `consent-vs-cedar`.

use crate::Command;
use bedside_benches::consent::{Scenario, ScenarioConfig, cedar_permits};
use bedside_benches::timing::timed;
use bedside_consent::Effect;
use bedside_consent::fhir::{export, import};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "fhir-consent",
            about: "<dir>: round-trip every Consent-*.json through import and export",
            run: fhir_consent,
        },
        Command {
            name: "consent-vs-cedar",
            about: "[--requests N] [--seed S]: same scenario and requests in our engine and in cedar-policy",
            run: consent_vs_cedar,
        },
    ]
}

fn diff(path: &str, original: &Value, exported: &Value, out: &mut Vec<String>) {
    match (original, exported) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => diff(&p, v, w, out),
                    None => out.push(format!("dropped {p}")),
                }
            }
            for k in b.keys() {
                if !a.contains_key(k) {
                    out.push(format!("added {path}.{k}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, v) in a.iter().enumerate() {
                match b.get(i) {
                    Some(w) => diff(&format!("{path}[{i}]"), v, w, out),
                    None => out.push(format!("dropped {path}[{i}]")),
                }
            }
            if b.len() > a.len() {
                out.push(format!("added {path}[{}..]", a.len()));
            }
        }
        // Number formatting aside (`1.0` and `1` are the same FHIR decimal value).
        (Value::Number(a), Value::Number(b)) if a == b || a.as_f64() == b.as_f64() => {}
        (a, b) if a != b => out.push(format!("changed {path}")),
        _ => {}
    }
}

fn fhir_consent(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: eval fhir-consent <dir>");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("Consent-") && n.ends_with(".json"))
            })
            .collect(),
        Err(e) => {
            eprintln!("fhir-consent: cannot read `{dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let (mut ok, mut lossy, mut failed) = (0, 0, 0);
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match round_trip(path) {
            Ok(trip) if trip.differences.is_empty() => {
                ok += 1;
                println!("{name}: ok ({})", trip.note());
            }
            Ok(trip) => {
                lossy += 1;
                println!(
                    "{name}: lossy ({}; {})",
                    trip.differences.join(", "),
                    trip.note()
                );
            }
            Err(reason) => {
                failed += 1;
                println!("{name}: failed ({reason})");
            }
        }
    }
    println!("fhir-consent: {ok} ok, {lossy} lossy, {failed} failed");
    if failed == 0 && !files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What one round trip found.
struct Trip {
    /// Where the export differs from the file (empty = lossless).
    differences: Vec<String>,
    /// Elements the engine does not evaluate, carried verbatim.
    unmodelled: usize,
    /// Modelled elements that the model alone (without the kept source) writes differently
    /// from the file: the source's spelling is what makes those lossless.
    respelled: Vec<String>,
}

impl Trip {
    fn note(&self) -> String {
        let mut note = format!("{} unmodelled elements kept verbatim", self.unmodelled);
        if !self.respelled.is_empty() {
            note.push_str(&format!(
                "; model alone respells {}",
                self.respelled.join(", ")
            ));
        }
        note
    }
}

/// The consent without its kept source resource: the model alone.
fn model_only(consent: &bedside_consent::Consent) -> bedside_consent::Consent {
    let mut c = consent.clone();
    if let Some(f) = c.fhir.as_deref_mut() {
        f.source = None;
    }
    c
}

/// Imports, exports and re-imports one file. The model must survive the trip unchanged (else
/// failed); elements that the export does not reproduce are listed (lossy). Member order and
/// number formatting aside, the comparison is exact.
fn round_trip(path: &Path) -> Result<Trip, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let original: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let first = import(&bytes).map_err(|e| e.to_string())?;
    let exported = export(&first.consent);
    let text = serde_json::to_vec(&exported).map_err(|e| e.to_string())?;
    let second = import(&text).map_err(|e| format!("re-import: {e}"))?;
    if model_only(&second.consent) != model_only(&first.consent) {
        return Err("re-imported consent differs".into());
    }
    let mut differences = Vec::new();
    diff("", &original, &exported, &mut differences);
    // The model writer on its own: every difference should be an element the import reported
    // as unmodelled; anything else is a modelled value written in another spelling.
    let mut alone = Vec::new();
    diff(
        "",
        &original,
        &export(&model_only(&first.consent)),
        &mut alone,
    );
    let respelled = alone
        .into_iter()
        .filter(|d| {
            let path = d.split_once(' ').map_or(d.as_str(), |(_, p)| p);
            let path = path.trim_start_matches('.');
            !first.unmodelled.iter().any(|u| {
                path == u
                    || path
                        .strip_prefix(u.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            })
        })
        .collect();
    Ok(Trip {
        differences,
        unmodelled: first.unmodelled.len(),
        respelled,
    })
}

struct Measured {
    permits: usize,
    proxy_permits: usize,
    agree: usize,
    n: usize,
    ours_ns: f64,
    cedar_ns: f64,
}

fn measure(label: &str, scenario: &Scenario) -> Result<Measured, String> {
    let Some(cedar) = &scenario.cedar else {
        return Err("scenario built without cedar".into());
    };
    let n = scenario.requests.len();
    let ours: Vec<bool> = scenario
        .requests
        .iter()
        .map(|r| scenario.engine.decide(r).effect == Effect::Permit)
        .collect();
    let authorizer = cedar_policy::Authorizer::new();
    let (theirs, cedar_cpu) = cpu_timed(|| {
        (0..n)
            .map(|i| black_box(cedar_permits(cedar, i, &authorizer)))
            .collect::<Vec<bool>>()
    });
    let mut agree = 0;
    let mut shown = 0;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        if a == b {
            agree += 1;
        } else if shown < 5 {
            shown += 1;
            let r = &scenario.requests[i];
            let d = scenario.engine.decide(r);
            println!(
                "{label}: disagreement on request {i}: ours {:?} cedar {} — {} {} {} {:?} labels {:?} {} verified {:?} break-glass {}\n{}",
                d.effect,
                if *b { "permit" } else { "deny" },
                r.actor.label(),
                r.action,
                r.purpose,
                r.data.classes,
                r.data.labels,
                r.channel,
                r.context.verified,
                r.context.break_glass.is_some(),
                d.explanation
            );
        }
    }
    let ours_ns = time_ours(scenario);
    let cedar_ns = cedar_cpu / n.max(1) as f64;
    Ok(Measured {
        permits: ours.iter().filter(|p| **p).count(),
        proxy_permits: ours
            .iter()
            .zip(&scenario.requests)
            .filter(|(p, r)| **p && matches!(r.actor, bedside_core::Actor::Proxy { .. }))
            .count(),
        agree,
        n,
        ours_ns,
        cedar_ns,
    })
}

/// This process's CPU time (user + system) from `/proc/self/stat`, in nanoseconds (10 ms
/// resolution). The machine is shared, so wall time includes time spent descheduled; CPU time
/// does not.
fn cpu_ns() -> Option<u128> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u128 = fields.get(11)?.parse().ok()?;
    let stime: u128 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) * 10_000_000)
}

/// Runs `f` and returns its CPU nanoseconds (falling back to wall time off Linux).
fn cpu_timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let cpu_before = cpu_ns();
    let (out, wall) = timed(f);
    let cpu = match (cpu_before, cpu_ns()) {
        (Some(b), Some(a)) => (a - b) as f64,
        _ => wall.as_nanos() as f64,
    };
    (out, cpu)
}

/// CPU nanoseconds per decision of our engine: the best of three rounds of at least 0.5 s of
/// CPU each.
fn time_ours(scenario: &Scenario) -> f64 {
    let n = scenario.requests.len().max(1);
    // Warm up once.
    for r in &scenario.requests {
        black_box(scenario.engine.decide(r));
    }
    (0..3)
        .map(|_| {
            let (decisions, cpu) = cpu_timed(|| {
                let start = cpu_ns().unwrap_or(0);
                let mut decisions = 0usize;
                loop {
                    for r in &scenario.requests {
                        black_box(scenario.engine.decide(black_box(r)));
                    }
                    decisions += n;
                    let spent = cpu_ns().map_or(u128::MAX, |now| now - start);
                    if spent >= 500_000_000 || decisions >= 50_000_000 {
                        break decisions;
                    }
                }
            });
            cpu / decisions as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn parse_flags(args: &[String]) -> Result<(usize, u64), String> {
    let mut requests = 100_000usize;
    let mut seed = 42u64;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--requests" => {
                requests = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--requests needs a positive integer")?
            }
            "--seed" => seed = value.parse().map_err(|_| "--seed needs an integer")?,
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    Ok((requests, seed))
}

fn consent_vs_cedar(args: &[String]) -> ExitCode {
    let (requests, seed) = match parse_flags(args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "consent-vs-cedar: {e}\nusage: eval consent-vs-cedar [--requests N] [--seed S]"
            );
            return ExitCode::from(2);
        }
    };
    match run(requests, seed) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("consent-vs-cedar: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(requests: usize, seed: u64) -> Result<bool, String> {
    // First, while the heap is fresh so that the RSS growth is this scenario's alone: ours at
    // 100,000 patients with three consents each (Cedar, evaluating every linked policy, would
    // take seconds per decision here).
    let before = rss_bytes();
    let big = Scenario::build(ScenarioConfig {
        patients: 100_000,
        consents: 300_000,
        requests: requests.min(100_000),
        seed,
        cedar: false,
    })?;
    let after = rss_bytes();
    let consents = big.engine.consents().len();
    let approx = big
        .engine
        .consents()
        .iter()
        .map(|c| c.approximate_bytes())
        .sum::<usize>()
        / consents.max(1);
    let rss_per_consent = match (before, after) {
        (Some(b), Some(a)) => format!("{:.0}", a.saturating_sub(b) as f64 / consents.max(1) as f64),
        _ => "n/a".to_owned(),
    };
    let big_ns = time_ours(&big);
    drop(big);
    println!(
        "ours-100000-patients: consents {consents} ns_per_decision {big_ns:.0} (target <= 2000 ns: {}) approx_bytes_per_consent {approx} rss_bytes_per_consent {rss_per_consent} (target <= 1024, rss includes requests, care teams and index)",
        if big_ns <= 2000.0 { "met" } else { "missed" }
    );
    let config = ScenarioConfig {
        patients: 400,
        consents: 0,
        requests,
        seed,
        cedar: true,
    };
    let fixed = Scenario::build(config)?;
    let s = measure("static", &fixed)?;
    println!(
        "static-12-rules: permits {} (proxy {}) agree {}/{} ours_ns {:.0} cedar_ns {:.0} speedup {:.1} (target ours <= 1000 ns: {})",
        s.permits,
        s.proxy_permits,
        s.agree,
        s.n,
        s.ours_ns,
        s.cedar_ns,
        s.cedar_ns / s.ours_ns,
        if s.ours_ns <= 1000.0 { "met" } else { "missed" }
    );
    drop(fixed);

    let with_consents = Scenario::build(ScenarioConfig {
        consents: 1_000,
        ..config
    })?;
    let links = with_consents.cedar.as_ref().map_or(0, |c| c.links);
    let c = measure("consents", &with_consents)?;
    println!(
        "static+{links}-consents: permits {} (proxy {}) agree {}/{} ours_ns {:.0} cedar_ns {:.0} speedup {:.1}",
        c.permits,
        c.proxy_permits,
        c.agree,
        c.n,
        c.ours_ns,
        c.cedar_ns,
        c.cedar_ns / c.ours_ns
    );
    drop(with_consents);

    println!(
        "consent-vs-cedar: agree {}/{} ours_ns {:.0} cedar_ns {:.0} speedup {:.1}",
        c.agree,
        c.n,
        c.ours_ns,
        c.cedar_ns,
        c.cedar_ns / c.ours_ns
    );
    Ok(s.agree == s.n && c.agree == c.n)
}
