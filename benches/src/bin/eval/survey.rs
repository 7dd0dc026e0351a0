//! Eval subcommands of `bedside-survey`:
//!
//! - `fhir-survey <dir>`: imports every `Questionnaire` and `QuestionnaireResponse` JSON file in
//!   `<dir>`, validates each response against its questionnaire when both are present, exports
//!   each resource again and compares it with the input. Last line
//!   `fhir-survey: N ok, M lossy, K failed`; exits 1 when any resource fails to import or when
//!   the directory holds none.
//! - `survey-throughput [--responses N]`: aggregates N (default 1,000,000) generated post-visit
//!   responses by provider and month, and times validating one response. Last line
//!   `survey-throughput: aggregate_1m_s S validate_us V`.

use crate::Command;
use bedside_benches::survey::{PostVisitWorkload, aggregate_by_provider_and_month, timed_cpu};
use bedside_survey::fhir::{
    export_questionnaire, export_questionnaire_response, import_questionnaire_report,
    import_questionnaire_response,
};
use bedside_survey::{SurveyDefinition, SurveyResponse, Validator, check_definition};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "fhir-survey",
            about: "<dir>: import/validate/export FHIR R4 Questionnaire(Response) files",
            run: fhir_survey,
        },
        Command {
            name: "survey-throughput",
            about: "[--responses N]: aggregate post-visit responses; validate latency",
            run: survey_throughput,
        },
    ]
}

enum Outcome {
    Ok,
    Lossy(String),
    Failed(String),
}

fn fhir_survey(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: eval fhir-survey <dir>");
        return ExitCode::from(2);
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fhir-survey: cannot read `{dir}`: {e}");
            return ExitCode::from(1);
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();

    let mut questionnaires: BTreeMap<String, SurveyDefinition> = BTreeMap::new();
    let mut responses: Vec<(String, SurveyResponse)> = Vec::new();
    let (mut ok, mut lossy, mut failed) = (0usize, 0usize, 0usize);
    let mut tally = |name: &str, outcome: Outcome| match outcome {
        Outcome::Ok => {
            ok += 1;
            println!("ok      {name}");
        }
        Outcome::Lossy(at) => {
            lossy += 1;
            println!("lossy   {name}: first difference at {at}");
        }
        Outcome::Failed(why) => {
            failed += 1;
            println!("failed  {name}: {why}");
        }
    };

    for path in &files {
        let name = file_name(path);
        let kind = if name.starts_with("QuestionnaireResponse") {
            "QuestionnaireResponse"
        } else if name.starts_with("Questionnaire") {
            "Questionnaire"
        } else {
            continue;
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                tally(&name, Outcome::Failed(format!("cannot read: {e}")));
                continue;
            }
        };
        let json = match bedside_fhir::Limits::default().parse_resource(&bytes) {
            Ok(j) => serde_json::Value::Object(j),
            Err(e) => {
                tally(&name, Outcome::Failed(e.to_string()));
                continue;
            }
        };
        let stem = name
            .trim_end_matches(".json")
            .split_once('-')
            .map(|(_, s)| s.to_string())
            .unwrap_or_default();
        if kind == "Questionnaire" {
            match import_questionnaire_report(&json) {
                Ok(report) => {
                    for w in &report.warnings {
                        println!("  note  {name}: {w}");
                    }
                    let def = report.definition;
                    let problems = check_definition(&def);
                    for p in &problems {
                        println!("  note  {name}: definition {p}");
                    }
                    let back = export_questionnaire(&def);
                    let outcome = match bedside_fhir::semantic_diff(&json, &back).first() {
                        None => Outcome::Ok,
                        Some(at) => Outcome::Lossy(at.clone()),
                    };
                    questionnaires.insert(stem, def);
                    tally(&name, outcome);
                }
                Err(e) => tally(&name, Outcome::Failed(e.to_string())),
            }
        } else {
            match import_questionnaire_response(&json) {
                Ok(resp) => {
                    let back = export_questionnaire_response(&resp);
                    let outcome = match bedside_fhir::semantic_diff(&json, &back).first() {
                        None => Outcome::Ok,
                        Some(at) => Outcome::Lossy(at.clone()),
                    };
                    responses.push((stem, resp));
                    tally(&name, outcome);
                }
                Err(e) => tally(&name, Outcome::Failed(e.to_string())),
            }
        }
    }

    // Validate each response against its questionnaire: by the `questionnaire` reference when
    // given, else by the shared file-name stem.
    let mut validated = 0usize;
    for (stem, resp) in &responses {
        let def = questionnaires
            .values()
            .find(|d| !resp.survey.id.is_empty() && d.id == resp.survey.id)
            .or_else(|| questionnaires.get(stem));
        let Some(def) = def else {
            println!("  note  response `{stem}`: no questionnaire in the directory");
            continue;
        };
        let mut resp = resp.clone();
        if resp.survey.id.is_empty() || resp.survey.version.is_empty() {
            // The response names no (or no versioned) questionnaire; pair it with the one found.
            resp.survey = def.reference();
        }
        let problems = Validator::new(def).validate(&resp);
        validated += 1;
        println!(
            "  validated response `{stem}` against `{}`: {} problem(s)",
            def.id,
            problems.len()
        );
        for p in &problems {
            println!("    {p}");
        }
    }
    println!("{validated} response(s) validated against their questionnaire");
    println!("fhir-survey: {ok} ok, {lossy} lossy, {failed} failed");
    if failed > 0 || ok + lossy == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn survey_throughput(args: &[String]) -> ExitCode {
    let count: usize = match args {
        [] => 1_000_000,
        [flag, n] if flag == "--responses" => match n.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("survey-throughput: --responses needs a positive integer");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: eval survey-throughput [--responses N]");
            return ExitCode::from(2);
        }
    };
    let workload = match PostVisitWorkload::new() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("survey-throughput: {e}");
            return ExitCode::from(1);
        }
    };

    // Aggregation: responses are generated in chunks (to bound memory) and only the aggregation
    // of each chunk is timed. Figures are CPU time of this thread: the machine is shared, and
    // wall time would include waiting for a core. Wall time is printed alongside.
    let chunk_size = 100_000usize;
    let mut aggregate_cpu = Duration::ZERO;
    let mut aggregate_wall = Duration::ZERO;
    let mut aggregator = match workload.aggregator() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("survey-throughput: {e}");
            return ExitCode::from(1);
        }
    };
    let mut generated = 0usize;
    let mut seed = 0u64;
    while generated < count {
        let n = chunk_size.min(count - generated);
        let chunk = workload.responses(n, seed);
        seed += 1;
        let ((), wall, cpu) = timed_cpu(|| {
            for r in &chunk {
                aggregator.add(black_box(r));
            }
        });
        aggregate_cpu += cpu;
        aggregate_wall += wall;
        generated += n;
    }
    let (report, wall, cpu) = timed_cpu(|| aggregate_by_provider_and_month(aggregator));
    aggregate_cpu += cpu;
    aggregate_wall += wall;
    let per_million = 1_000_000.0 / count as f64;
    let aggregate_1m_s = aggregate_cpu.as_secs_f64() * per_million;

    // Validation latency: the mean over many validations of varied responses.
    let sample = workload.responses(10_000, 999);
    let validator = Validator::new(workload.definition());
    let mut invalid = 0usize;
    let rounds = 20;
    let ((), v_wall, v_cpu) = timed_cpu(|| {
        for _ in 0..rounds {
            for r in &sample {
                if !black_box(validator.validate(r)).is_empty() {
                    invalid += 1;
                }
            }
        }
    });
    let validations = (rounds * sample.len()) as f64;
    let validate_us = v_cpu.as_secs_f64() * 1e6 / validations;
    println!(
        "aggregated {count} post-visit responses into {} provider×month cells ({} suppressed): cpu {:.3} s, wall {:.3} s",
        report.cells,
        report.suppressed,
        aggregate_cpu.as_secs_f64(),
        aggregate_wall.as_secs_f64()
    );
    println!(
        "validated {validations} responses ({invalid} invalid): cpu {validate_us:.3} µs each, wall {:.3} µs each",
        v_wall.as_secs_f64() * 1e6 / validations
    );
    println!("survey-throughput: aggregate_1m_s {aggregate_1m_s:.3} validate_us {validate_us:.3}");
    if invalid > 0 {
        eprintln!("survey-throughput: generated responses should all be valid");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
