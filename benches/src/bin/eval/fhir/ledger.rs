//! The `bedside-ledger` part of `fhir-roundtrip` and `fhir-export`.

use bedside_core::{
    ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId, Timestamp,
};
use bedside_ledger::fhir::{self, BillingResource, ClaimContext};
use bedside_ledger::statement::{self, StatementInput, StatementOptions};
use bedside_ledger::{
    Adjudication, BillTo, Books, Charge, ChargeId, ChargeRequest, ClaimBook, ClaimDraft,
    ClaimStatus, Currency, EntryId, FeeSchedule, Money, PatientShare, ProcedureCode,
};
use chrono::NaiveDate;
use serde_json::Value;

/// The resource types `bedside-ledger` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &fhir::RESOURCE_TYPES;

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    BillingResource::from_json(resource.clone())
        .map(|r| r.to_json())
        .map_err(|e| e.to_string())
}

fn id(n: u128) -> bedside_ledger::Uuid {
    EntryId::new(n).to_uuid()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap_or_default()
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default()
}

/// Everything the corpus is built from, through the ledger's public API.
struct Built {
    charges: Vec<Charge>,
    claims: ClaimBook,
    /// Minimal (one line, draft), typical (two lines, paid), replacement (three lines,
    /// partially paid), and the replaced original.
    ids: [ClaimId; 4],
    statements: Vec<(PatientId, statement::Statement)>,
    balances: Vec<(PatientId, Money)>,
}

fn build() -> Result<Built, String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut books = Books::open(Currency::USD).map_err(|x| e(&x))?;
    let mut fees = FeeSchedule::new();
    let code = |c: &str| ProcedureCode::parse(c).map_err(|x| x.to_string());
    fees.set(
        code("99213")?,
        None,
        usd(14_500),
        "Office visit, established patient",
    );
    fees.set(code("93000")?, None, usd(8_000), "Heart tracing (ECG)");
    fees.set(code("J1100")?, None, usd(1_250), "Dexamethasone injection");
    let payer = OrganisationId::from_uuid(id(2));
    let patients = [PatientId::from_uuid(id(10)), PatientId::from_uuid(id(11))];
    let charge =
        |fees: &FeeSchedule, n: u128, patient, c: &str, units, d| -> Result<Charge, String> {
            fees.price(
                ChargeId::from_uuid(id(n)),
                ChargeRequest {
                    patient,
                    encounter: EncounterId::from_uuid(id(n / 10)),
                    code: ProcedureCode::parse(c).map_err(|x| x.to_string())?,
                    modifiers: Vec::new(),
                    units,
                    date_of_service: day(d),
                    rendering_provider: ProviderId::from_uuid(id(4)),
                    diagnosis_pointers: vec![1],
                },
            )
            .map_err(|x| x.to_string())
        };
    let charges = vec![
        charge(&fees, 100, patients[0], "99213", 1, 2)?,
        charge(&fees, 200, patients[1], "99213", 1, 3)?,
        charge(&fees, 201, patients[1], "93000", 1, 3)?,
        charge(&fees, 300, patients[0], "99213", 1, 4)?,
        charge(&fees, 301, patients[0], "93000", 1, 4)?,
        charge(&fees, 302, patients[0], "J1100", 2, 5)?,
    ];
    let desk = bedside_core::Actor::System {
        component: "billing-desk".into(),
    };
    for c in &charges {
        books
            .capture_charge(c, BillTo::Payer(payer), &desk, at("2026-03-05T15:00:00Z"))
            .map_err(|x| e(&x))?;
    }
    let mut claims = ClaimBook::new();
    let ids = [
        ClaimId::from_uuid(id(1000)),
        ClaimId::from_uuid(id(2000)),
        ClaimId::from_uuid(id(3001)),
        ClaimId::from_uuid(id(3000)),
    ];
    let coverage = |n| CoverageId::from_uuid(id(n));
    let draft = |cid, control: &str, cov, charges| ClaimDraft {
        id: cid,
        payer,
        coverage: coverage(cov),
        control_number: control.into(),
        charges,
    };
    let when = at("2026-03-06T09:00:00Z");
    claims
        .build(
            &mut books,
            draft(ids[0], "BSD1000", 20, &charges[0..1]),
            when,
        )
        .map_err(|x| e(&x))?;
    claims
        .build(
            &mut books,
            draft(ids[1], "BSD2000", 21, &charges[1..3]),
            when,
        )
        .map_err(|x| e(&x))?;
    claims
        .build(
            &mut books,
            draft(ids[3], "BSD3000", 20, &charges[3..5]),
            when,
        )
        .map_err(|x| e(&x))?;
    for c in [ids[1], ids[3]] {
        claims
            .transition(c, ClaimStatus::Submitted, when)
            .map_err(|x| e(&x))?;
    }
    // The third visit is corrected: a J-code line added, submitted as a replacement.
    claims
        .build_replacement(
            &mut books,
            ids[3],
            draft(ids[2], "BSD3000", 20, &charges[3..6]),
            &desk,
            at("2026-03-07T10:00:00Z"),
        )
        .map_err(|x| e(&x))?;
    claims
        .transition(ids[2], ClaimStatus::Submitted, at("2026-03-07T10:00:00Z"))
        .map_err(|x| e(&x))?;
    // Adjudications as the remittance poster records them.
    let paid = Adjudication {
        charge: usd(22_500),
        paid: usd(15_000),
        contractual: usd(4_500),
        other_adjustments: usd(0),
        patient: PatientShare {
            copay: usd(2_500),
            deductible: usd(500),
            ..PatientShare::zero(Currency::USD)
        },
        denied: false,
        reversal: false,
        lines: Vec::new(),
    };
    claims
        .record_adjudication(ids[1], paid, at("2026-03-20T12:00:00Z"))
        .map_err(|x| e(&x))?;
    let partial = Adjudication {
        charge: usd(25_000),
        paid: usd(12_000),
        contractual: usd(3_000),
        other_adjustments: usd(2_500),
        patient: PatientShare {
            deductible: usd(5_000),
            coinsurance: usd(2_500),
            ..PatientShare::zero(Currency::USD)
        },
        denied: false,
        reversal: false,
        lines: vec![
            line("99213", 14_500, 9_000, 2_000, 3_500),
            line("93000", 8_000, 3_000, 1_000, 4_000),
            line("J1100", 2_500, 0, 2_500, 0),
        ],
    };
    claims
        .record_adjudication(ids[2], partial, at("2026-03-21T12:00:00Z"))
        .map_err(|x| e(&x))?;
    let mut statements = Vec::new();
    let mut balances = Vec::new();
    for (i, p) in patients.iter().enumerate() {
        let mine: Vec<&bedside_ledger::Claim> = claims.iter().filter(|c| c.patient == *p).collect();
        let input = StatementInput::new(
            &mine,
            usd(if i == 0 { 2_000 } else { 0 }),
            StatementOptions::new(day(25 + i as u32)).with_how_to_pay("Pay online"),
        );
        let s = statement::build(&input, Currency::USD).map_err(|x| e(&x))?;
        balances.push((*p, s.amount_due));
        statements.push((*p, s));
    }
    // A statement with nothing billed yet: no lines.
    let empty = StatementInput::new(&[], usd(0), StatementOptions::new(day(31)));
    let s = statement::build(&empty, Currency::USD).map_err(|x| e(&x))?;
    let nobody = PatientId::from_uuid(id(12));
    statements.push((nobody, s));
    balances.push((nobody, usd(0)));
    balances.push((patients[0], usd(-1_250)));
    Ok(Built {
        charges,
        claims,
        ids,
        statements,
        balances,
    })
}

fn line(
    code: &str,
    charge: i64,
    paid: i64,
    adjusted: i64,
    patient: i64,
) -> bedside_ledger::claim::LineAdjudication {
    bedside_ledger::claim::LineAdjudication {
        code: code.into(),
        charge: usd(charge),
        paid: usd(paid),
        adjusted: usd(adjusted),
        patient: usd(patient),
    }
}

/// Resources built from scratch through the crate's public API only: for every exported
/// type a minimal, a typical and an everything-set one. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let built = match build() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("fhir-export: ledger corpus: {e}");
            return Vec::new();
        }
    };
    let clinic = OrganisationId::from_uuid(id(3));
    let minimal = ClaimContext::new(clinic);
    let full = ClaimContext::new(clinic)
        .with_icd10("I10")
        .with_icd10("E11.9");
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut push = |name: &str, r: Result<BillingResource, fhir::ExportError>| match r {
        Ok(r) => out.push((format!("ledger-{name}.json"), r.to_json())),
        Err(e) => eprintln!("fhir-export: ledger {name}: {e}"),
    };
    let names = ["minimal", "typical", "replacement", "replaced"];
    for (cid, variant) in built.ids.iter().zip(names) {
        let Some(c) = built.claims.get(*cid) else {
            continue;
        };
        let ctx = if variant == "minimal" {
            &minimal
        } else {
            &full
        };
        push(
            &format!("claim-{variant}"),
            fhir::export_claim(c, ctx).map(BillingResource::Claim),
        );
        if let Some(a) = &c.adjudication {
            push(
                &format!("claimresponse-{variant}"),
                fhir::export_claim_response(c, a).map(BillingResource::ClaimResponse),
            );
            push(
                &format!("explanationofbenefit-{variant}"),
                fhir::export_explanation_of_benefit(c, a, ctx)
                    .map(BillingResource::ExplanationOfBenefit),
            );
        }
    }
    // A denial: nothing paid, everything written off.
    if let Some(c) = built.claims.get(built.ids[0]) {
        let denied = Adjudication {
            charge: c.total,
            paid: usd(0),
            contractual: c.total,
            other_adjustments: usd(0),
            patient: PatientShare::zero(Currency::USD),
            denied: true,
            reversal: false,
            lines: Vec::new(),
        };
        let mut book = built.claims.clone();
        let decided = book
            .transition(c.id, ClaimStatus::Submitted, at("2026-03-06T10:00:00Z"))
            .and_then(|()| {
                book.record_adjudication(c.id, denied.clone(), at("2026-03-22T12:00:00Z"))
            });
        if let (Ok(_), Some(c)) = (decided, book.get(c.id)) {
            push(
                "claimresponse-denied",
                fhir::export_claim_response(c, &denied).map(BillingResource::ClaimResponse),
            );
            push(
                "explanationofbenefit-denied",
                fhir::export_explanation_of_benefit(c, &denied, &minimal)
                    .map(BillingResource::ExplanationOfBenefit),
            );
        }
    }
    for (charge, variant) in built.charges.iter().zip(["minimal", "typical", "units"]) {
        push(
            &format!("chargeitem-{variant}"),
            Ok(BillingResource::ChargeItem(fhir::export_charge_item(
                charge,
            ))),
        );
    }
    if let Some(j) = built.charges.last() {
        push(
            "chargeitem-hcpcs",
            Ok(BillingResource::ChargeItem(fhir::export_charge_item(j))),
        );
    }
    for ((patient, s), variant) in built
        .statements
        .iter()
        .zip(["everything", "typical", "minimal"])
    {
        push(
            &format!("invoice-{variant}"),
            Ok(BillingResource::Invoice(fhir::export_invoice(*patient, s))),
        );
    }
    for ((patient, balance), variant) in built
        .balances
        .iter()
        .zip(["owing", "typical", "zero", "credit"])
    {
        push(
            &format!("account-{variant}"),
            Ok(BillingResource::Account(fhir::export_account(
                *patient, *balance,
            ))),
        );
    }
    out
}
