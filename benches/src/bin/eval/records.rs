//! Eval subcommands of `bedside-records`.
//!
//! `fhir-records <dir>`: imports every `Patient-*.json`, `RelatedPerson-*.json`,
//! `Coverage-*.json`, `AllergyIntolerance-*.json`, `Condition-*.json`, `Encounter-*.json` and
//! every `*.json` bundle in `<dir>`, exports each, and compares the two JSON documents
//! semantically (member order and number formatting aside). For a bundle the comparison covers
//! the whole bundle — entry order, `fullUrl`, `request`, and resources of types Bedside does not
//! model, which are carried through verbatim — and the entries are also assembled into patient
//! records by resolving references, which must link every related person, coverage and clinical
//! entry to a patient in the bundle.

use crate::Command;
use bedside_benches::timing::{per_second, timed};
use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::fhir::{self, Resource, RoundTrip};
use bedside_records::validate;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![Command {
        name: "fhir-records",
        about: "<dir>: FHIR R4 import/export round trip of patient-record resources and bundles",
        run: fhir_records,
    }]
}

const PREFIXES: [&str; 6] = [
    "Patient-",
    "RelatedPerson-",
    "Coverage-",
    "AllergyIntolerance-",
    "Condition-",
    "Encounter-",
];

fn is_bundle(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("resourceType")?.as_str().map(|s| s == "Bundle"))
        .unwrap_or(false)
}

#[derive(Default)]
struct Totals {
    ok: usize,
    lossy: usize,
    failed: usize,
    resources: usize,
    modelled: usize,
    carried: usize,
    unmodelled_paths: usize,
    records: usize,
    links_expected: usize,
    links_resolved: usize,
    bytes: usize,
    patients_validated: usize,
    problems: BTreeMap<String, usize>,
}

/// Validates a patient as of a fixed instant and tallies the problems by severity and kind.
fn tally(t: &mut Totals, patient: &bedside_records::Patient) {
    let at: bedside_core::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    t.patients_validated += 1;
    for p in validate(patient, at).problems {
        let key = format!("{:?} {:?}", p.severity, p.kind);
        *t.problems.entry(key).or_default() += 1;
    }
}

fn count_links(bundle: &fhir::Bundle) -> (usize, usize, usize) {
    let expected = bundle
        .entries
        .iter()
        .filter(|e| {
            matches!(
                e.resource,
                Some(Resource::RelatedPerson(_) | Resource::Coverage(_) | Resource::Clinical(_))
            )
        })
        .count();
    let records = bundle.records();
    let resolved = records
        .iter()
        .map(|r| r.clinical.len() + r.patient.coverages.len() + r.patient.related_persons.len())
        .sum();
    (records.len(), expected, resolved)
}

fn fhir_records(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: eval fhir-records <dir>");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("fhir-records: cannot read `{dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000),
    ));
    let ids = SeededIdGenerator::new(clock, 3);
    let mut t = Totals::default();
    let mut elapsed = std::time::Duration::ZERO;
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                println!("{name}: error: cannot read file: {e}");
                t.failed += 1;
                continue;
            }
        };
        if !PREFIXES.iter().any(|p| name.starts_with(p)) && !is_bundle(&bytes) {
            continue;
        }
        t.bytes += bytes.len();
        let (result, took) = timed(|| fhir::round_trip(&bytes, &ids));
        elapsed += took;
        match result {
            Err(e) => {
                println!("{name}: error: {e}");
                t.failed += 1;
            }
            Ok((imported, outcome)) => {
                t.unmodelled_paths += imported.unmodelled.len();
                let mut rejected = Vec::new();
                match &imported.value {
                    Resource::Bundle(b) => {
                        let (m, c) = b.modelled_counts();
                        t.modelled += m;
                        t.carried += c;
                        t.resources += m + c;
                        for record in b.records() {
                            tally(&mut t, &record.patient);
                        }
                        let (records, expected, resolved) = count_links(b);
                        t.records += records;
                        t.links_expected += expected;
                        t.links_resolved += resolved;
                        rejected = b
                            .rejected
                            .iter()
                            .map(|(i, e)| format!("entry {i}: {e}"))
                            .collect();
                    }
                    r => {
                        if let Resource::Patient(p) = r {
                            tally(&mut t, p);
                        }
                        t.resources += 1;
                        if r.is_modelled() {
                            t.modelled += 1;
                        } else {
                            t.carried += 1;
                        }
                    }
                }
                if !rejected.is_empty() {
                    println!("{name}: error: {}", rejected.join("; "));
                    t.failed += 1;
                    continue;
                }
                match outcome {
                    RoundTrip::Exact => {
                        println!("{name}: ok");
                        t.ok += 1;
                    }
                    RoundTrip::Lossy(paths) => {
                        println!("{name}: lossy: {}", paths.join(", "));
                        t.lossy += 1;
                    }
                }
            }
        }
    }
    let files_seen = t.ok + t.lossy + t.failed;
    println!(
        "detail: {} resources ({} modelled, {} carried through verbatim), {} unmodelled element paths kept, {} patient records assembled, {}/{} references resolved to a patient, {:.1} MB/s for the whole round trip (parse, import, export, compare)",
        t.resources,
        t.modelled,
        t.carried,
        t.unmodelled_paths,
        t.records,
        t.links_resolved,
        t.links_expected,
        per_second(t.bytes as u64, elapsed) / 1e6,
    );
    let problems: Vec<String> = t.problems.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "validation (as of 2026-01-01) of {} imported patients: {}",
        t.patients_validated,
        if problems.is_empty() {
            "no problems".to_string()
        } else {
            problems.join(", ")
        }
    );
    println!(
        "fhir-records: {} ok, {} lossy, {} failed",
        t.ok, t.lossy, t.failed
    );
    if t.failed > 0 || files_seen == 0 || t.links_resolved != t.links_expected {
        if files_seen == 0 {
            eprintln!(
                "fhir-records: no matching files in `{}`",
                Path::new(dir).display()
            );
        }
        if t.links_resolved != t.links_expected {
            eprintln!("fhir-records: some bundle references did not resolve to a patient");
        }
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
