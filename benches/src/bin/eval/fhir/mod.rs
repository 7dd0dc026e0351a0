//! `fhir-roundtrip` and `fhir-export`: every FHIR resource Bedside reads or writes, through the
//! crate that models its type, judged afterwards by `../shared/tools/fhir-validate`.

use crate::Command;
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

#[cfg(feature = "consent")]
mod consent;
#[cfg(feature = "ledger")]
mod ledger;
#[cfg(feature = "records")]
mod records;
#[cfg(feature = "schedule")]
mod schedule;
#[cfg(feature = "survey")]
mod survey;
#[cfg(feature = "vitals")]
mod vitals;

/// The subcommands this module registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "fhir-roundtrip",
            about: "<dir> --out <out_dir>: every resource (bundle entries too) through the crate that models it",
            run: fhir_roundtrip,
        },
        Command {
            name: "fhir-export",
            about: "<out_dir>: resources built from scratch through public domain APIs",
            run: fhir_export,
        },
    ]
}

/// One crate's part: its types, its round trip, its from-scratch corpus.
struct Domain {
    name: &'static str,
    types: &'static [&'static str],
    round_trip: fn(&Value) -> Result<Value, String>,
    corpus: fn() -> Vec<(String, Value)>,
}

#[allow(
    clippy::vec_init_then_push,
    reason = "each push sits behind its own feature"
)]
fn domains() -> Vec<Domain> {
    let mut all = Vec::new();
    #[cfg(feature = "records")]
    all.push(Domain {
        name: "records",
        types: records::TYPES,
        round_trip: records::round_trip,
        corpus: records::corpus,
    });
    #[cfg(feature = "consent")]
    all.push(Domain {
        name: "consent",
        types: consent::TYPES,
        round_trip: consent::round_trip,
        corpus: consent::corpus,
    });
    #[cfg(feature = "schedule")]
    all.push(Domain {
        name: "schedule",
        types: schedule::TYPES,
        round_trip: schedule::round_trip,
        corpus: schedule::corpus,
    });
    #[cfg(feature = "ledger")]
    all.push(Domain {
        name: "ledger",
        types: ledger::TYPES,
        round_trip: ledger::round_trip,
        corpus: ledger::corpus,
    });
    #[cfg(feature = "survey")]
    all.push(Domain {
        name: "survey",
        types: survey::TYPES,
        round_trip: survey::round_trip,
        corpus: survey::corpus,
    });
    #[cfg(feature = "vitals")]
    all.push(Domain {
        name: "vitals",
        types: vitals::TYPES,
        round_trip: vitals::round_trip,
        corpus: vitals::corpus,
    });
    all
}

#[derive(Default)]
struct Tally {
    resources: usize,
    ok: usize,
    lossy: usize,
    failed: usize,
    unmodelled: usize,
}

/// Round-trips one resource, or carries it verbatim when no crate models its type.
fn one(resource: &Value, at: &str, domains: &[Domain], tally: &mut Tally) -> Value {
    tally.resources += 1;
    let kind = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(domain) = domains.iter().find(|d| d.types.contains(&kind)) else {
        tally.unmodelled += 1;
        return resource.clone();
    };
    match (domain.round_trip)(resource) {
        Ok(out) => {
            let diff = bedside_fhir::semantic_diff(resource, &out);
            if diff.is_empty() {
                tally.ok += 1;
            } else {
                tally.lossy += 1;
                let shown: Vec<&String> = diff.iter().take(6).collect();
                println!("lossy {at} ({kind} via {}): {shown:?}", domain.name);
            }
            out
        }
        Err(e) => {
            tally.failed += 1;
            println!("failed {at} ({kind} via {}): {e}", domain.name);
            resource.clone()
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn json_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn fhir_roundtrip(args: &[String]) -> ExitCode {
    let (Some(dir), Some(out_dir)) = (args.first(), flag(args, "--out")) else {
        eprintln!("fhir-roundtrip: usage: eval fhir-roundtrip <dir> --out <out_dir>");
        return ExitCode::from(2);
    };
    let files = match json_files(Path::new(dir))
        .and_then(|f| std::fs::create_dir_all(out_dir).map(|()| f))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fhir-roundtrip: cannot read `{dir}` or create `{out_dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    let domains = domains();
    let mut tally = Tally::default();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let input: Value = match std::fs::read(path).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(v)) => v,
            _ => {
                tally.resources += 1;
                tally.failed += 1;
                println!("failed {name}: not JSON");
                continue;
            }
        };
        let output = if input.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            let mut bundle = input.clone();
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                for (i, entry) in entries.iter_mut().enumerate() {
                    if let Some(resource) = entry.get_mut("resource") {
                        *resource = one(
                            resource,
                            &format!("{name} entry[{i}]"),
                            &domains,
                            &mut tally,
                        );
                    }
                }
            }
            bundle
        } else {
            one(&input, &name, &domains, &mut tally)
        };
        let text = serde_json::to_vec_pretty(&output).unwrap_or_default();
        if let Err(e) = std::fs::write(Path::new(out_dir).join(&name), text) {
            eprintln!("fhir-roundtrip: cannot write `{name}`: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "fhir-roundtrip: {} files, {} resources, {} ok, {} lossy, {} failed, {} unmodelled",
        files.len(),
        tally.resources,
        tally.ok,
        tally.lossy,
        tally.failed,
        tally.unmodelled
    );
    if tally.failed > 0 || files.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn fhir_export(args: &[String]) -> ExitCode {
    let Some(out_dir) = args.first() else {
        eprintln!("fhir-export: usage: eval fhir-export <out_dir>");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(out_dir) {
        eprintln!("fhir-export: cannot create `{out_dir}`: {e}");
        return ExitCode::FAILURE;
    }
    let mut count = 0;
    let mut types = std::collections::BTreeMap::<String, usize>::new();
    for domain in domains() {
        for (name, resource) in (domain.corpus)() {
            let kind = resource
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            *types.entry(kind).or_default() += 1;
            count += 1;
            let text = serde_json::to_vec_pretty(&resource).unwrap_or_default();
            if let Err(e) = std::fs::write(Path::new(out_dir).join(&name), text) {
                eprintln!("fhir-export: cannot write `{name}`: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for (kind, n) in &types {
        println!("{kind}: {n}");
    }
    let thin: Vec<&String> = types
        .iter()
        .filter(|(_, n)| **n < 3)
        .map(|(k, _)| k)
        .collect();
    println!("fhir-export: {count} resources of {} types", types.len());
    if !thin.is_empty() {
        eprintln!("fhir-export: fewer than three resources of {thin:?}");
        return ExitCode::FAILURE;
    }
    if count == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
