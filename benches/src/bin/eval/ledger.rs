//! Eval subcommands of `bedside-ledger`: `x12-835`, `fhir-billing` and `ledger-throughput`.

use crate::Command;
use bedside_core::{ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId};
use bedside_ledger::x12::{self, Severity};
use bedside_ledger::{
    BillTo, Books, ChargeId, ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus, Currency, EntryId,
    FeeSchedule, Money, ProcedureCode, RemittancePoster,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::path::Path;
use std::process::ExitCode;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "x12-835",
            about: "<dir>: parse, validate, post and re-import every *.835; trial balance must be zero",
            run: x12_835,
        },
        Command {
            name: "fhir-billing",
            about: "<dir>: round-trip the FHIR R4 billing resources (Account, ChargeItem, Claim, ClaimResponse, ExplanationOfBenefit, Invoice)",
            run: fhir_billing,
        },
        Command {
            name: "ledger-throughput",
            about: "[--entries N]: ledger apply, journal encode+replay and 1M-entry recovery rates",
            run: bedside_benches::ledger::throughput_command,
        },
    ]
}

fn uuid_of(parts: &[&[u8]]) -> bedside_ledger::Uuid {
    EntryId::derive(parts).to_uuid()
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// Creates, for every CLP01 in the file, a claim with charges that sum to CLP03.
fn seed_claims(
    books: &mut Books,
    claims: &mut ClaimBook,
    tx: &x12::Transaction,
) -> Result<(), String> {
    let payer = OrganisationId::from_uuid(uuid_of(&[b"payer", tx.payer_key().as_bytes()]));
    let mut fees = FeeSchedule::new();
    for clp in tx.claims.iter().filter(|c| !c.is_reversal()) {
        let key = clp.control_number.expose().as_bytes();
        let patient = PatientId::from_uuid(uuid_of(&[b"patient", key]));
        let line_sum: i64 = clp.services.iter().map(|s| s.charge.amount_minor()).sum();
        let lines: Vec<(String, Money)> =
            if !clp.services.is_empty() && line_sum == clp.charge.amount_minor() {
                clp.services
                    .iter()
                    .map(|s| (s.procedure.code.clone(), s.charge))
                    .collect()
            } else {
                vec![("99499".to_string(), clp.charge)]
            };
        let mut charges = Vec::new();
        for (i, (code, amount)) in lines.iter().enumerate() {
            let code = ProcedureCode::parse(code)
                .or_else(|_| ProcedureCode::parse("99499"))
                .map_err(|e| e.to_string())?;
            fees.set(code.clone(), None, *amount, "service");
            let charge = fees
                .price(
                    ChargeId::from_uuid(uuid_of(&[b"charge", key, &(i as u64).to_le_bytes()])),
                    ChargeRequest {
                        patient,
                        encounter: EncounterId::from_uuid(uuid_of(&[b"encounter", key])),
                        code,
                        modifiers: Vec::new(),
                        units: 1,
                        date_of_service: clp
                            .period_start
                            .unwrap_or(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()),
                        rendering_provider: ProviderId::from_uuid(uuid_of(&[b"provider"])),
                        diagnosis_pointers: vec![1],
                    },
                )
                .map_err(|e| e.to_string())?;
            books
                .capture_charge(&charge, BillTo::Payer(payer), &desk(), at())
                .map_err(|e| e.to_string())?;
            charges.push(charge);
        }
        let id = ClaimId::from_uuid(uuid_of(&[b"claim", key]));
        if claims.get(id).is_some() {
            continue;
        }
        claims
            .build(
                books,
                ClaimDraft {
                    id,
                    payer,
                    coverage: CoverageId::from_uuid(uuid_of(&[b"coverage", key])),
                    control_number: clp.control_number.expose().clone(),
                    charges: &charges,
                },
                at(),
            )
            .map_err(|e| e.to_string())?;
        claims
            .transition(id, ClaimStatus::Submitted, at())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

struct FileResult {
    line: String,
    notes: Vec<String>,
    ok: bool,
}

fn run_file(bytes: &[u8]) -> Result<FileResult, String> {
    let remittance = x12::parse(bytes);
    let warnings = remittance
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if remittance.has_errors() {
        let first = remittance
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .unwrap_or_default();
        return Err(format!("parse error: {first}"));
    }
    if remittance.transactions.is_empty() {
        return Err("no 835 transaction".into());
    }
    let mut books = Books::open(Currency::USD).map_err(|e| e.to_string())?;
    let mut claims = ClaimBook::new();
    let mut poster = RemittancePoster::new(books.clinic);
    let importer = bedside_core::Actor::System {
        component: "remittance-import".into(),
    };
    let mut payment = Money::zero(Currency::USD);
    let mut n_claims = 0;
    let mut matched = 0;
    let mut groups: std::collections::BTreeMap<x12::GroupCode, Money> = Default::default();
    for tx in &remittance.transactions {
        seed_claims(&mut books, &mut claims, tx)?;
        let summary = poster
            .post_and_record(&mut books, &mut claims, tx, &importer, at())
            .map_err(|e| match e {
                bedside_ledger::RemitError::Unbalanced(errs) => errs
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            })?;
        if let Some((claim, status)) = summary.not_recorded.first() {
            return Err(format!(
                "claim {claim} ({status}) did not record its adjudication"
            ));
        }
        payment = payment.checked_add(tx.payment).map_err(|e| e.to_string())?;
        n_claims += tx.claims.len();
        matched += summary.claims_matched;
        for (g, m) in summary.by_group {
            let slot = groups.entry(g).or_insert(Money::zero(Currency::USD));
            *slot = slot.checked_add(m).map_err(|e| e.to_string())?;
        }
    }
    // Cash must equal what the payer sent.
    let cash = books
        .ledger
        .balance(books.clinic.cash)
        .map(|b| b.posted)
        .unwrap_or(Money::zero(Currency::USD));
    if cash != payment {
        return Err(format!(
            "cash posted {cash} differs from BPR02 total {payment}"
        ));
    }
    // Re-import: must change nothing.
    let snapshot = books.ledger.clone();
    let queue_before = poster.work_queue().len();
    let again = x12::parse(bytes);
    let mut replayed = 0;
    for tx in &again.transactions {
        let s = poster
            .post(&mut books.ledger, tx, &claims, &importer, at())
            .map_err(|e| e.to_string())?;
        if s.entries_applied != 0 {
            return Err(format!(
                "re-import applied {} new entries",
                s.entries_applied
            ));
        }
        replayed += s.entries_replayed;
    }
    if books.ledger != snapshot || poster.work_queue().len() != queue_before {
        return Err("re-import changed the ledger".into());
    }
    if !books.ledger.trial_balance().is_zero() {
        return Err("trial balance is not zero".into());
    }
    let adjustments = groups
        .iter()
        .map(|(g, m)| format!("{g} {}", m.format_decimal()))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(FileResult {
        line: format!(
            "payment {} USD, {n_claims} claims ({matched} matched, {} queued), adjustments {adjustments}, {warnings} warnings, re-import {replayed} entries unchanged",
            payment.format_decimal(),
            poster.work_queue().len(),
        ),
        notes: remittance
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect(),
        ok: true,
    })
}

fn x12_835(args: &[String]) -> ExitCode {
    let Some(dir) = args.first() else {
        eprintln!("usage: eval x12-835 <dir>");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(Path::new(dir)) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "835"))
            .collect(),
        Err(e) => {
            eprintln!("x12-835: cannot read `{dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let (mut ok, mut failed) = (0, 0);
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let result = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| run_file(&b));
        match result {
            Ok(r) if r.ok => {
                ok += 1;
                println!("{name}: {}, ok", r.line);
                for n in &r.notes {
                    println!("  {n}");
                }
            }
            Ok(r) => {
                failed += 1;
                println!("{name}: {}, error", r.line);
            }
            Err(e) => {
                failed += 1;
                println!("{name}: {e}, error");
            }
        }
    }
    println!("trial balance: zero in every file's ledger (checked per file)");
    println!("x12-835: {ok} ok, {failed} failed");
    if failed == 0 && ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

const BILLING_TYPES: [&str; 6] = bedside_ledger::fhir::RESOURCE_TYPES;

fn fhir_billing(args: &[String]) -> ExitCode {
    use bedside_ledger::fhir::round_trip;
    let Some(dir) = args.first() else {
        eprintln!("usage: eval fhir-billing <dir>");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(Path::new(dir)) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("fhir-billing: cannot read `{dir}`: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let (mut ok, mut lossy, mut failed) = (0, 0, 0);
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let value: serde_json::Value = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                failed += 1;
                println!("{name}: failed: {e}");
                continue;
            }
        };
        let kind = value
            .get("resourceType")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if !BILLING_TYPES.contains(&kind) {
            continue;
        }
        match round_trip(&value) {
            Ok(r) if !r.stable => {
                failed += 1;
                println!("{name}: failed: re-import differs from import");
            }
            Ok(r) if r.lost.is_empty() => {
                ok += 1;
                println!("{name}: ok");
            }
            Ok(r) => {
                lossy += 1;
                let mut tops: Vec<String> = r
                    .lost
                    .iter()
                    .map(|p| {
                        p.trim_start_matches("$.")
                            .split(['.', '['])
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect();
                tops.dedup();
                tops.sort();
                tops.dedup();
                println!(
                    "{name}: lossy: {} element values not modelled (under {})",
                    r.lost.len(),
                    tops.join(", ")
                );
            }
            Err(e) => {
                failed += 1;
                println!("{name}: failed: {e}");
            }
        }
    }
    println!("fhir-billing: {ok} ok, {lossy} lossy, {failed} failed");
    if failed == 0 && ok + lossy > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Who does the evaluated clinic's billing work.
fn desk() -> bedside_core::Actor {
    bedside_core::Actor::System {
        component: "billing-desk".into(),
    }
}
