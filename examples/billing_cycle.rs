//! A billing cycle from estimate to aging: a visit with two procedures, the patient's estimate
//! before the visit, charge capture and the claim, the payer's 835 remittance posted (and
//! re-imported harmlessly), the plain-language statement, a payment plan for the balance, and
//! the aging report.
//!
//! Run with `cargo run --example billing_cycle`.

use bedside::core::{
    ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId, Sensitive, Timestamp,
};
use bedside::ledger::coverage::{self, Accumulators, Benefits, ExpectedService};
use bedside::ledger::statement::StatementOptions;
use bedside::ledger::x12;
use bedside::ledger::{
    BasisPoints, BillTo, Books, ChargeId, ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus,
    Currency, EntryId, FeeSchedule, Money, PatientPayment, PaymentId, PaymentMethod, PaymentPlan,
    PlanInterval, PlanTerms, ProcedureCode, RemittancePoster, aging,
};
use chrono::NaiveDate;

/// The payer's remittance for the visit: a contractual write-off, copay, deductible and
/// coinsurance, line by line.
const REMITTANCE: &str = "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*BEDSIDECLINIC  *260120*0930*^*00501*000000101*0*P*:~\
GS*HP*ACMEHEALTH*BEDSIDECLINIC*20260120*0930*101*X*005010X221A1~ST*835*0101~\
BPR*I*124.00*C*ACH************20260120~TRN*1*EFT20260120A*1999999999~N1*PR*ACME HEALTH PLAN~\
N1*PE*BEDSIDE CLINIC*XX*1234567893~LX*1~CLP*BSD0001*1*330.00*124.00*106.00*12*PAYCLM1~\
SVC*HC:99214*250.00*84.00**1~CAS*CO*45*70.00~CAS*PR*3*25.00**1*50.00**2*21.00~\
SVC*HC:93000*80.00*40.00**1~CAS*CO*45*30.00~CAS*PR*2*10.00~SE*13*0101~GE*1*101~IEA*1*000000101~";

fn at(s: &str) -> Result<Timestamp, Box<dyn std::error::Error>> {
    Ok(s.parse()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usd = |minor| Money::new(minor, Currency::USD);
    let stable = |n: u128| EntryId::new(n).to_uuid();
    let patient = PatientId::from_uuid(stable(1));
    let payer = OrganisationId::from_uuid(stable(2));

    // 1. The estimate before the visit.
    let benefits = Benefits {
        deductible: usd(50_000),
        copay: usd(2_500),
        coinsurance: BasisPoints::percent(20),
        out_of_pocket_max: usd(300_000),
    };
    let so_far = Accumulators {
        deductible_met: usd(45_000),
        out_of_pocket_met: usd(45_000),
    };
    let expected = [
        ExpectedService {
            description: "Office visit".into(),
            code: "99214".into(),
            charge: usd(25_000),
            allowed: usd(18_000),
        },
        ExpectedService {
            description: "Heart tracing (ECG)".into(),
            code: "93000".into(),
            charge: usd(8_000),
            allowed: usd(5_000),
        },
    ];
    let estimate = coverage::estimate(&expected, Some((&benefits, so_far)), Currency::USD)?;
    println!(
        "Estimate: you pay about {}, your plan about {}\n",
        estimate.patient_total.format_human(),
        estimate.payer_total.format_human()
    );

    // 2. The visit: two procedures priced from the fee schedule and captured.
    let mut books = Books::open(Currency::USD)?;
    // Every posting records who made it.
    let desk = bedside::core::Actor::System {
        component: "billing-desk".into(),
    };
    let mut fees = FeeSchedule::new();
    fees.set(
        ProcedureCode::parse("99214")?,
        None,
        usd(25_000),
        "Office visit, established patient",
    );
    fees.set(
        ProcedureCode::parse("93000")?,
        None,
        usd(8_000),
        "Heart tracing (ECG)",
    );
    let mut charges = Vec::new();
    for (n, code) in ["99214", "93000"].into_iter().enumerate() {
        let charge = fees.price(
            ChargeId::from_uuid(stable(10 + n as u128)),
            // One unit, no modifiers, first diagnosis: the defaults of `ChargeRequest::new`.
            ChargeRequest::new(
                patient,
                EncounterId::from_uuid(stable(3)),
                ProcedureCode::parse(code)?,
                NaiveDate::from_ymd_opt(2026, 1, 5).ok_or("date")?,
                ProviderId::from_uuid(stable(4)),
            ),
        )?;
        books.capture_charge(
            &charge,
            BillTo::Payer(payer),
            &desk,
            at("2026-01-05T15:00:00Z")?,
        )?;
        charges.push(charge);
    }

    // 3. The claim.
    let mut claims = ClaimBook::new();
    let claim = claims.build(
        &mut books,
        ClaimDraft {
            id: ClaimId::from_uuid(stable(5)),
            payer,
            coverage: CoverageId::from_uuid(stable(6)),
            control_number: "BSD0001".into(),
            charges: &charges,
        },
        at("2026-01-06T09:00:00Z")?,
    )?;
    claims.transition(claim, ClaimStatus::Submitted, at("2026-01-06T09:00:00Z")?)?;

    // 4. The 835 arrives; importing it twice changes nothing the second time.
    let mut poster = RemittancePoster::new(books.clinic);
    let importer = bedside::core::Actor::System {
        component: "remittance-import".into(),
    };
    for round in 1..=2 {
        let remittance = x12::parse(REMITTANCE.as_bytes());
        for tx in &remittance.transactions {
            // Posting also records the payer's decision on the claim (paid, partially paid,
            // denied), so the statement below shows the insurer payment.
            let summary = poster.post_and_record(
                &mut books,
                &mut claims,
                tx,
                &importer,
                at("2026-01-20T10:00:00Z")?,
            )?;
            println!(
                "835 import {round}: ledger entries new {}, already posted {}; patient share: deductible {}, coinsurance {}, copay {}",
                summary.entries_applied,
                summary.entries_replayed,
                summary.deductible.format_human(),
                summary.coinsurance.format_human(),
                summary.copay.format_human()
            );
        }
    }
    assert!(books.ledger.trial_balance().is_zero());

    // 5. The statement, derived from the books: the claim as the remittance decided it, and
    //    the payments the ledger holds.
    let options = StatementOptions::new(NaiveDate::from_ymd_opt(2026, 1, 21).ok_or("date")?)
        .with_how_to_pay("Online: use the payment link in your text or e-mail")
        .with_how_to_pay("Need more time? Ask for a payment plan — no interest, no fees");
    let statement = books.statement(&claims, patient, options)?;
    println!("\n{}", statement.render_text());

    // 6. A first payment, then a plan for the rest.
    books.record_patient_payment(
        &PatientPayment {
            id: PaymentId::from_uuid(stable(20)),
            patient,
            amount: usd(3_000),
            method: PaymentMethod::Card {
                reference: Sensitive::new("ch_demo".into()),
            },
            received_at: at("2026-01-25T12:00:00Z")?,
        },
        &desk,
    )?;
    let plan = PaymentPlan::new(
        patient,
        statement.amount_due.checked_sub(usd(3_000))?,
        PlanTerms {
            first_due: NaiveDate::from_ymd_opt(2026, 2, 25).ok_or("date")?,
            count: 3,
            interval: PlanInterval::Monthly,
            autopay: true,
            grace_days: 7,
        },
    )?;
    println!("Payment plan:");
    for i in &plan.instalments {
        println!("  {}  {}", i.due, i.amount.format_human());
    }

    // 7. Aging as of 1 March.
    let report = aging(&books, at("2026-03-01T00:00:00Z")?)?;
    println!("\n{}", report.render_totals());
    Ok(())
}
