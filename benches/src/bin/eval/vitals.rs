//! Eval subcommands of `bedside-vitals`: `vitals-fhir`, `openmhealth`, `news2` and
//! `vitals-throughput`.

use crate::Command;
use bedside_benches::timing::{per_second, timed};
use bedside_benches::vitals::{generate, serde_baseline, serde_owned_baseline, timed_cpu};
use bedside_core::{Actor, Clock, PatientId, SystemClock};
use bedside_vitals::news2::{self, Consciousness, News2Input, SpO2Scale};
use bedside_vitals::omh::{self, OmhSchema};
use bedside_vitals::{Batch, IngestConfig, RejectReason, Source, VitalsStore, fhir, ndjson};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "vitals-fhir",
            about: "<dir>: ingest the vital-sign Observations of FHIR R4 resources and Bundles",
            run: run_fhir,
        },
        Command {
            name: "openmhealth",
            about: "<dir>: Open mHealth test-data: shouldPass accepted, shouldFail rejected",
            run: run_openmhealth,
        },
        Command {
            name: "news2",
            about: "<file.csv>: NEWS2 for each observation set",
            run: run_news2,
        },
        Command {
            name: "vitals-throughput",
            about: "[--readings N]: NDJSON ingest pipeline vs bare serde_json, bytes per reading",
            run: run_throughput,
        },
    ]
}

fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// A patient id for an external reference: its UUID when it is one, else a stable id
/// derived from the text (FNV-1a), so fixtures with ids like `example` can be registered.
fn patient_for(reference: &str) -> PatientId {
    let tail = reference
        .strip_prefix("urn:uuid:")
        .or_else(|| reference.rsplit('/').next())
        .unwrap_or(reference);
    if let Ok(id) = tail.parse() {
        return id;
    }
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for b in tail.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    // 32 hex digits is the simple UUID form, which PatientId parses.
    format!("{h:016x}{:016x}", h.rotate_left(29))
        .parse()
        .unwrap_or_else(|_| fallback())
}

fn fallback() -> PatientId {
    // Unreachable in practice (32 hex digits always parse); a fixed id keeps this total.
    PatientId::from_uuid(Default::default())
}

fn run_fhir(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: eval vitals-fhir <dir>");
        return ExitCode::from(2);
    };
    let files = match json_files(Path::new(dir)) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("vitals-fhir: no .json files in {dir}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("vitals-fhir: cannot read {dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut store = VitalsStore::new(IngestConfig::default());
    // Pass 1: the patients present in the data set are the known patients.
    for f in &files {
        let refs = std::fs::File::open(f)
            .map_err(|e| e.to_string())
            .and_then(|r| fhir::patient_references(r).map_err(|e| e.to_string()));
        match refs {
            Ok(refs) => {
                for r in refs {
                    let id = patient_for(&r);
                    store.register_patient(id, bedside_vitals::Tz::UTC);
                    store.register_alias(r, id);
                }
            }
            Err(e) => {
                eprintln!("vitals-fhir: {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let now = SystemClock.now();
    let importer = Actor::system("eval");
    let (mut a, mut d, mut r, mut u) = (0u64, 0u64, 0u64, 0u64);
    let mut failures = 0u64;
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = std::fs::File::open(f)
            .map_err(|e| e.to_string())
            .and_then(|file| {
                fhir::ingest(
                    &mut store,
                    file,
                    &Source::Clinic,
                    &Batch::new(name.as_str(), &importer, now),
                )
                .map_err(|e| e.to_string())
            });
        let rep = match result {
            Ok(rep) => rep,
            Err(e) => {
                eprintln!("vitals-fhir: {name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let b = &rep.report;
        if b.records == 0 {
            continue;
        }
        let unsupported = b
            .rejected
            .get(&RejectReason::UnsupportedKind)
            .copied()
            .unwrap_or(0);
        let rejected = b.rejected_total() - unsupported;
        println!(
            "{name}: {} accepted, {} duplicate, {} rejected, {} unsupported-kind ({} other resources skipped)",
            b.accepted, b.duplicate, rejected, unsupported, rep.skipped_resources
        );
        for rej in &b.rejections {
            if rej.reason == RejectReason::UnsupportedKind {
                continue;
            }
            // A cancelled Observation or one with dataAbsentReason carries no measurement:
            // rejecting it is correct. Any other rejection of a supported kind is a failure.
            let expected = matches!(rej.reason, RejectReason::NotFinal | RejectReason::NoValue);
            if !expected {
                failures += 1;
            }
            println!(
                "  entry {}: rejected {}{}",
                rej.position.record,
                rej.reason,
                if expected {
                    " (no measurement: expected)"
                } else {
                    " (FAILURE)"
                }
            );
        }
        a += b.accepted;
        d += b.duplicate;
        r += rejected;
        u += unsupported;
    }
    println!("vitals-fhir: {a} accepted, {d} duplicate, {r} rejected, {u} unsupported-kind");
    if failures == 0 && a > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_openmhealth(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: eval openmhealth <dir>");
        return ExitCode::from(2);
    };
    let user = "omh-eval-user";
    let patient = patient_for(user);
    let now = SystemClock.now();
    let importer = Actor::system("eval");
    let (mut p, mut pt, mut f, mut ft) = (0u32, 0u32, 0u32, 0u32);
    let mut cases = Vec::new();
    let schemas = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect::<Vec<_>>(),
        Err(e) => {
            eprintln!("openmhealth: cannot read {dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for schema_dir in schemas {
        let Some(name) = schema_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            continue;
        };
        let Ok(versions) = std::fs::read_dir(&schema_dir) else {
            continue;
        };
        for v in versions.filter_map(Result::ok).map(|e| e.path()) {
            let version = v
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (expect_pass, sub) in [(true, "shouldPass"), (false, "shouldFail")] {
                if let Ok(files) = json_files(&v.join(sub)) {
                    for file in files {
                        cases.push((name.clone(), version.clone(), expect_pass, file));
                    }
                }
            }
        }
    }
    cases.sort_by(|a, b| a.3.cmp(&b.3));
    for (name, version, expect_pass, file) in cases {
        let label = format!(
            "{name}/{version}/{}",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        if OmhSchema::new(&name, &version).is_none() {
            println!("{label}: schema not supported");
            if expect_pass {
                pt += 1
            } else {
                ft += 1
            }
            continue;
        }
        let body: serde_json::Value = match std::fs::File::open(&file)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                serde_json::from_reader(std::io::BufReader::new(r)).map_err(|e| e.to_string())
            }) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("openmhealth: {label}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Wrap the body in a data point and run the full ingestion pipeline on it.
        let point = serde_json::json!({
            "header": {
                "id": "eval",
                "creation_date_time": "2024-01-01T00:00:00Z",
                "schema_id": {"namespace": "omh", "name": name, "version": version},
                "user_id": user,
                "acquisition_provenance": {"source_name": "omh-test-data"}
            },
            "body": body
        });
        let mut store = VitalsStore::new(IngestConfig::default());
        store.register_patient(patient, bedside_vitals::Tz::UTC);
        store.register_alias(user, patient);
        let bytes = serde_json::to_vec(&point).unwrap_or_default();
        let report = match omh::ingest(
            &mut store,
            bytes.as_slice(),
            &Batch::new(label.as_str(), &importer, now),
        ) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("openmhealth: {label}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let accepted = report.accepted == 1;
        let reason = report
            .rejections
            .first()
            .map(|r| format!("{}: {}", r.reason, r.detail))
            .unwrap_or_default();
        if expect_pass {
            pt += 1;
            if accepted {
                p += 1;
                println!("{label}: pass accepted");
            } else {
                println!("{label}: pass REJECTED ({reason})");
            }
        } else {
            ft += 1;
            if !accepted && !reason.is_empty() {
                f += 1;
                println!("{label}: fail rejected ({reason})");
            } else {
                println!("{label}: fail ACCEPTED");
            }
        }
    }
    println!("openmhealth: {p}/{pt} pass-accepted, {f}/{ft} fail-rejected");
    if p == pt && f == ft && pt + ft > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

const NEWS2_HEADER: &str =
    "resp_rate,spo2,spo2_scale,on_oxygen,systolic,pulse,consciousness,temp_c";

fn parse_news2_row(line: &str) -> Result<News2Input, String> {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    let [rr, spo2, scale, oxygen, sbp, pulse, avpu, temp] = cells.as_slice() else {
        return Err(format!("expected 8 fields, found {}", cells.len()));
    };
    let num = |name: &str, s: &str| -> Result<Option<f64>, String> {
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or(format!("{name}: not a number"))
    };
    Ok(News2Input {
        respiration_rate: num("resp_rate", rr)?,
        spo2: num("spo2", spo2)?,
        scale: match *scale {
            "" | "1" => SpO2Scale::Scale1,
            "2" => SpO2Scale::Scale2,
            _ => return Err("spo2_scale: must be 1 or 2".into()),
        },
        on_oxygen: match *oxygen {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => return Err("on_oxygen: must be true or false".into()),
        },
        systolic: num("systolic", sbp)?,
        pulse: num("pulse", pulse)?,
        consciousness: match *avpu {
            "" => None,
            c => Some(Consciousness::parse(c).ok_or("consciousness: one of A C V P U")?),
        },
        temperature_c: num("temp_c", temp)?,
    })
}

fn run_news2(args: &[String]) -> ExitCode {
    let [path] = args else {
        eprintln!("usage: eval news2 <file.csv>");
        return ExitCode::from(2);
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("news2: cannot open {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut lines = std::io::BufReader::new(file).lines();
    match lines.next() {
        Some(Ok(h)) if h.trim() == NEWS2_HEADER => {}
        _ => {
            eprintln!("news2: header must be `{NEWS2_HEADER}`");
            return ExitCode::FAILURE;
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut rows = 0u64;
    for (i, line) in lines.enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("news2: read error at line {}: {e}", i + 2);
                return ExitCode::FAILURE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_news2_row(&line) {
            Ok(input) => {
                let s = news2::score(&input);
                let _ = writeln!(
                    out,
                    "{},{},{},{}",
                    s.total,
                    s.band.as_str(),
                    s.red_flag,
                    s.complete
                );
                rows += 1;
            }
            Err(e) => {
                eprintln!("news2: line {}: {e}", i + 2);
                return ExitCode::FAILURE;
            }
        }
    }
    let _ = writeln!(out, "news2: {rows} rows");
    ExitCode::SUCCESS
}

fn run_throughput(args: &[String]) -> ExitCode {
    let readings: usize = match args {
        [] => 5_000_000,
        [flag, n] if flag == "--readings" => match n.parse() {
            Ok(n) if n >= 1000 => n,
            _ => {
                eprintln!("vitals-throughput: --readings needs an integer ≥ 1000");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: eval vitals-throughput [--readings N]");
            return ExitCode::from(2);
        }
    };
    let (w, gen_time) = timed(|| generate(readings, 10_000, 14, 7));
    println!(
        "generated {} lines ({} bytes, {} malformed, {} duplicate) in {:.2?}",
        w.lines,
        w.ndjson.len(),
        w.malformed,
        w.duplicates,
        gen_time
    );
    let at = chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_600);
    let batch = Batch::new("throughput", &Actor::system("eval"), at);
    let mut store = VitalsStore::new(IngestConfig::default());
    for p in &w.patients {
        store.register_patient(*p, bedside_vitals::Tz::UTC);
    }
    let (report, ingest_wall, ingest_cpu) =
        timed_cpu(|| ndjson::ingest(&mut store, w.ndjson.as_slice(), &batch));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vitals-throughput: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (parsed, serde_wall, serde_cpu) = timed_cpu(|| serde_baseline(&w.ndjson));
    // Per-core throughput: CPU time of this thread (the machine may be shared).
    let pipeline_rate = per_second(report.records, ingest_cpu);
    let serde_rate = per_second(w.lines as u64, serde_cpu);
    // For context only: the same parse into owned `String` fields. The summary's ratio uses
    // the stricter borrowed-`&str` baseline above.
    let (_, _, owned_cpu) = timed_cpu(|| serde_owned_baseline(&w.ndjson));
    let owned_rate = per_second(w.lines as u64, owned_cpu);
    println!(
        "context: serde into owned Strings {:.0}/s cpu, pipeline/owned ratio {:.2}",
        owned_rate,
        pipeline_rate / owned_rate
    );
    let before = store.heap_bytes();
    store.shrink_to_fit();
    let after = store.heap_bytes();
    let stored = store.len().max(1);
    println!("{}", report.summary().trim_end());
    println!(
        "pipeline cpu {:.2?} wall {:.2?} ({:.0}/s cpu, {:.0}/s wall); serde baseline cpu {:.2?} wall {:.2?} ({:.0}/s cpu, {:.0}/s wall, {parsed} parsed); threshold hits {}",
        ingest_cpu,
        ingest_wall,
        pipeline_rate,
        per_second(report.records, ingest_wall),
        serde_cpu,
        serde_wall,
        serde_rate,
        per_second(w.lines as u64, serde_wall),
        report.threshold_hits.len()
    );
    println!(
        "heap {} bytes before shrink ({:.1}/reading), {} after ({:.1}/reading), {} stored",
        before,
        before as f64 / stored as f64,
        after,
        after as f64 / stored as f64,
        store.len()
    );
    let accounted = report.accepted + report.duplicate + report.rejected_total() == w.lines as u64;
    println!(
        "vitals-throughput: readings_per_s {:.0} serde_ratio {:.2} bytes_per_reading {:.1}",
        pipeline_rate,
        pipeline_rate / serde_rate,
        after as f64 / stored as f64
    );
    if accounted && report.duplicate as usize >= w.duplicates {
        ExitCode::SUCCESS
    } else {
        eprintln!("vitals-throughput: outcome counts do not add up");
        ExitCode::FAILURE
    }
}
