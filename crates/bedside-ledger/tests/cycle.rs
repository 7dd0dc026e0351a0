//! The revenue cycle end to end: estimate, charges, claim, 835 posting (with re-import,
//! reversal, PLB and an unmatched claim), statement, payment, payment plan, aging, outreach.

use bedside_core::{
    Channel, ClaimId, ContactRoute, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId,
    QuietHours, Sensitive, Timestamp,
};
use bedside_ledger::coverage::{self, Accumulators, Benefits, ExpectedService};
use bedside_ledger::outreach::{self, OutreachInput, OutreachPlan};
use bedside_ledger::statement::{self, StatementInput, StatementOptions};
use bedside_ledger::x12;
use bedside_ledger::{
    BasisPoints, BillTo, Books, Charge, ChargeId, ChargeRequest, ClaimBook, ClaimDraft,
    ClaimStatus, Currency, EntryId, FeeSchedule, Money, PatientPayment, PaymentId, PaymentMethod,
    PaymentPlan, PlanInterval, PlanTerms, ProcedureCode, Reference, RemitError, RemittancePoster,
    WorkReason, aging,
};
use chrono::{NaiveDate, NaiveTime};

fn usd(m: i64) -> Money {
    Money::new(m, Currency::USD)
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap_or_default()
}

struct Clinic {
    books: Books,
    claims: ClaimBook,
    poster: RemittancePoster,
    patient: PatientId,
    payer: OrganisationId,
    claim: ClaimId,
}

fn patient_id() -> PatientId {
    PatientId::from_uuid(EntryId::new(1).to_uuid())
}

fn clinic() -> Clinic {
    let mut books = Books::open(Currency::USD).unwrap_or_else(|e| panic!("{e}"));
    let patient = patient_id();
    let payer = OrganisationId::from_uuid(EntryId::new(2).to_uuid());
    let mut fees = FeeSchedule::new();
    let code = |c| ProcedureCode::parse(c).unwrap_or_else(|e| panic!("{e}"));
    fees.set(
        code("99214"),
        None,
        usd(25_000),
        "Office visit, established patient",
    );
    fees.set(code("93000"), None, usd(8_000), "Heart tracing (ECG)");
    let dos = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let charges: Vec<Charge> = ["99214", "93000"]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            fees.price(
                ChargeId::from_uuid(EntryId::new(100 + i as u128).to_uuid()),
                ChargeRequest {
                    patient,
                    encounter: EncounterId::from_uuid(EntryId::new(3).to_uuid()),
                    code: code(c),
                    modifiers: vec![],
                    units: 1,
                    date_of_service: dos,
                    rendering_provider: ProviderId::from_uuid(EntryId::new(4).to_uuid()),
                    diagnosis_pointers: vec![1],
                },
            )
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for c in &charges {
        let r = books.capture_charge(
            c,
            BillTo::Payer(payer),
            &clerk(),
            at("2026-01-05T15:00:00Z"),
        );
        assert!(r.is_ok(), "{r:?}");
    }
    let mut claims = ClaimBook::new();
    let claim = ClaimId::from_uuid(EntryId::new(5).to_uuid());
    let built = claims.build(
        &mut books,
        ClaimDraft {
            id: claim,
            payer,
            coverage: CoverageId::from_uuid(EntryId::new(6).to_uuid()),
            control_number: "BSD0001".into(),
            charges: &charges,
        },
        at("2026-01-06T09:00:00Z"),
    );
    assert_eq!(built, Ok(claim));
    assert!(
        claims
            .transition(claim, ClaimStatus::Submitted, at("2026-01-06T09:00:00Z"))
            .is_ok()
    );
    let poster = RemittancePoster::new(books.clinic);
    Clinic {
        books,
        claims,
        poster,
        patient,
        payer,
        claim,
    }
}

fn post(
    c: &mut Clinic,
    file: &str,
    when: &str,
) -> Result<bedside_ledger::PostingSummary, RemitError> {
    let bytes = std::fs::read(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_default();
    let r = x12::parse(&bytes);
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    let tx = &r.transactions[0];
    let s = c
        .poster
        .post_and_record(&mut c.books, &mut c.claims, tx, &importer(), at(when))?;
    assert_eq!(s.not_recorded, []);
    Ok(s)
}

fn importer() -> bedside_core::Actor {
    bedside_core::Actor::System {
        component: "remittance-import".into(),
    }
}

fn balance(c: &Clinic, a: bedside_ledger::AccountIndex) -> i64 {
    c.books
        .ledger
        .balance(a)
        .map(|b| b.posted.amount_minor())
        .unwrap_or(i64::MIN)
}

#[test]
fn estimate_before_the_visit() {
    let benefits = Benefits {
        deductible: usd(50_000),
        copay: usd(2_500),
        coinsurance: BasisPoints::percent(20),
        out_of_pocket_max: usd(300_000),
    };
    let services = [
        ExpectedService {
            description: "Office visit".into(),
            code: "99214".into(),
            charge: usd(25_000),
            allowed: usd(18_000),
        },
        ExpectedService {
            description: "ECG".into(),
            code: "93000".into(),
            charge: usd(8_000),
            allowed: usd(5_000),
        },
    ];
    let met = Accumulators {
        deductible_met: usd(45_000),
        out_of_pocket_met: usd(45_000),
    };
    let e = coverage::estimate(&services, Some((&benefits, met)), Currency::USD);
    let e = e.unwrap_or_else(|err| panic!("{err}"));
    // Visit: copay 25, deductible 50, 20% of 105 = 21 → 96. ECG: copay 25, 20% of 25 = 5 → 30.
    assert_eq!(e.patient_total, usd(12_600));
    assert_eq!(e.payer_total, usd(10_400));
    assert!(!e.good_faith);
}

#[test]
fn remittance_posts_by_group_code_and_reimport_is_a_no_op() {
    let mut c = clinic();
    let payer_ar = c
        .books
        .payer_account(c.payer)
        .unwrap_or_else(|e| panic!("{e}"));
    let patient_ar = c
        .books
        .patient_account(c.patient)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(balance(&c, payer_ar), 33_000);

    // Expected insurer payment as a pending hold until the remittance arrives.
    let claim = c
        .claims
        .get(c.claim)
        .cloned()
        .unwrap_or_else(|| panic!("claim"));
    let hold = c.books.expect_payment(
        &claim,
        usd(20_000),
        at("2026-03-01T00:00:00Z"),
        at("2026-01-06T09:00:00Z"),
    );
    assert!(hold.is_ok(), "{hold:?}");
    let cash = c
        .books
        .ledger
        .balance(c.books.clinic.cash)
        .map(|b| (b.posted, b.pending));
    assert_eq!(cash, Some((usd(0), usd(20_000))));

    let s = post(&mut c, "visit.835", "2026-01-20T10:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.entries_applied, s.claims_matched, s.claims_unmatched),
        (3, 1, 1)
    );
    for _ in 0..2 {
        let released = c
            .books
            .release_expected_payment(c.claim, at("2026-01-20T10:00:00Z"));
        assert!(released.is_ok(), "{released:?}");
    }
    let pending = c
        .books
        .ledger
        .balance(c.books.clinic.cash)
        .map(|b| b.pending);
    assert_eq!(pending, Some(usd(0)));
    assert_eq!(
        (s.deductible, s.coinsurance, s.copay),
        (usd(5_000), usd(3_100), usd(2_500))
    );
    assert_eq!(s.by_group.get(&x12::GroupCode::CO), Some(&usd(14_000)));
    assert_eq!(balance(&c, payer_ar), 0);
    assert_eq!(balance(&c, patient_ar), 10_600);
    assert_eq!(balance(&c, c.books.clinic.cash), 18_550);
    assert_eq!(balance(&c, c.books.clinic.contractual), 10_000);
    assert_eq!(balance(&c, c.books.clinic.unapplied), 6_000);
    assert_eq!(balance(&c, c.books.clinic.provider_level), -150);
    assert_eq!(
        c.claims.get(c.claim).map(|k| k.status),
        Some(ClaimStatus::Paid)
    );
    let queue = c.poster.work_queue();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].reason, WorkReason::UnmatchedClaim);
    assert!(!format!("{queue:?}").contains("UNKNOWN77"));

    let snapshot = c.books.ledger.clone();
    let again = post(&mut c, "visit.835", "2026-01-21T10:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.entries_applied, again.entries_replayed), (0, 3));
    assert_eq!(c.books.ledger, snapshot);
    assert_eq!(c.poster.work_queue().len(), 1);
    assert!(c.books.ledger.trial_balance().is_zero());
    let claim_entries = c
        .books
        .ledger
        .entries_by_reference(Reference::Claim(c.claim));
    assert_eq!(claim_entries.len(), 3, "hold, remittance posting, release");
}

#[test]
fn reversal_and_corrected_payment() {
    let mut c = clinic();
    let patient_ar = c
        .books
        .patient_account(c.patient)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(post(&mut c, "visit.835", "2026-01-20T10:00:00Z").is_ok());
    let s =
        post(&mut c, "correction.835", "2026-02-10T10:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.entries_applied, 2);
    let entries = c
        .books
        .ledger
        .entries_by_reference(Reference::Claim(c.claim));
    assert_eq!(entries.len(), 3);
    assert!(matches!(
        entries[1].kind,
        bedside_ledger::EntryKind::Reversal { .. }
    ));
    assert_eq!(entries[0].resolved_by, Some(entries[1].id));
    assert_eq!(balance(&c, patient_ar), 7_500);
    assert_eq!(balance(&c, c.books.clinic.cash), 18_550 + 3_100);
    assert!(c.books.ledger.trial_balance().is_zero());
    assert_eq!(
        c.claims.get(c.claim).map(|k| k.status),
        Some(ClaimStatus::Paid)
    );
}

#[test]
fn unbalanced_remittance_is_refused_whole() {
    let mut c = clinic();
    let bytes = std::fs::read(format!(
        "{}/tests/data/visit.835",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace("CAS*CO*45*30.00", "CAS*CO*45*31.00");
    let r = x12::parse(text.as_bytes());
    let before = c.books.ledger.clone();
    let out = c.poster.post(
        &mut c.books.ledger,
        &r.transactions[0],
        &c.claims,
        &importer(),
        at("2026-01-20T10:00:00Z"),
    );
    let Err(RemitError::Unbalanced(problems)) = out else {
        panic!("expected imbalance, got {out:?}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(c.books.ledger, before);
}

fn statement_after_visit() -> (Clinic, bedside_ledger::Statement) {
    let mut c = clinic();
    assert!(post(&mut c, "visit.835", "2026-01-20T10:00:00Z").is_ok());
    // The statement comes from the books alone: the remittance recorded the insurer's
    // decision on the claim, and the ledger holds the payments.
    let s = c
        .books
        .statement(&c.claims, c.patient, statement_options())
        .unwrap_or_else(|e| panic!("{e}"));
    (c, s)
}

fn statement_options() -> StatementOptions {
    StatementOptions::new(NaiveDate::from_ymd_opt(2026, 1, 21).unwrap_or_default())
        .with_how_to_pay("Online: use the payment link in your text or e-mail")
        .with_how_to_pay("By phone: call the billing office, weekdays 8:00–18:00")
        .with_how_to_pay("Need more time? Ask for a payment plan — no interest, no fees")
}

#[test]
fn plain_language_statement() {
    let (_, s) = statement_after_visit();
    assert_eq!(s.amount_due, usd(10_600));
    assert_eq!(
        s.total_billed,
        s.total_insurance_paid
            .checked_add(s.total_adjusted)
            .and_then(|m| m.checked_add(s.total_you_owe))
            .unwrap_or(usd(-1))
    );
    insta::assert_snapshot!("statement_text", s.render_text());
    insta::assert_snapshot!("statement_markdown", s.render_markdown());
}

#[test]
fn payment_plan_aging_refunds_and_outreach() {
    let (mut c, s) = statement_after_visit();
    let paid = c.books.record_patient_payment(
        &PatientPayment {
            id: PaymentId::from_uuid(EntryId::new(50).to_uuid()),
            patient: c.patient,
            amount: usd(3_000),
            method: PaymentMethod::Card {
                reference: Sensitive::new("ch_4242".into()),
            },
            received_at: at("2026-01-25T12:00:00Z"),
        },
        &clerk(),
    );
    assert!(paid.is_ok());
    let owed = s.amount_due.checked_sub(usd(3_000)).unwrap_or(usd(-1));
    let plan = PaymentPlan::new(
        c.patient,
        owed,
        PlanTerms {
            first_due: NaiveDate::from_ymd_opt(2026, 2, 25).unwrap_or_default(),
            count: 3,
            interval: PlanInterval::Monthly,
            autopay: true,
            grace_days: 7,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let amounts: Vec<i64> = plan
        .instalments
        .iter()
        .map(|i| i.amount.amount_minor())
        .collect();
    assert_eq!(amounts, vec![2_534, 2_533, 2_533]);

    // Aging as of 1 March: the patient's 76.00 came over from insurance on 20 January.
    let report = aging(&c.books, at("2026-03-01T00:00:00Z")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.patients.buckets,
        [usd(0), usd(7_600), usd(0), usd(0)]
    );
    assert_eq!(report.payers.total, usd(0));
    // As of 10 January the payer still owed everything, 5 days old.
    let early = aging(&c.books, at("2026-01-10T00:00:00Z")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(early.payers.buckets[0], usd(33_000));
    assert_eq!(early.patients.total, usd(0));
    insta::assert_snapshot!("aging_totals", report.render_totals());

    // Overpayment → refund queue.
    let over = c.books.record_patient_payment(
        &PatientPayment {
            id: PaymentId::from_uuid(EntryId::new(51).to_uuid()),
            patient: c.patient,
            amount: usd(10_000),
            method: PaymentMethod::Cash,
            received_at: at("2026-03-02T12:00:00Z"),
        },
        &clerk(),
    );
    assert!(over.is_ok());
    let queue = c.books.refund_queue();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].amount, usd(2_400));
    let refund_id = PaymentId::from_uuid(EntryId::new(52).to_uuid());
    assert!(
        c.books
            .refund(
                refund_id,
                c.patient,
                usd(2_401),
                &clerk(),
                at("2026-03-03T12:00:00Z")
            )
            .is_err()
    );
    assert!(
        c.books
            .refund(
                refund_id,
                c.patient,
                usd(2_400),
                &clerk(),
                at("2026-03-03T12:00:00Z")
            )
            .is_ok()
    );
    assert!(c.books.refund_queue().is_empty());
    assert!(c.books.ledger.trial_balance().is_zero());

    // Outreach: text first, outside quiet hours; paused during an estimate dispute.
    let quiet = QuietHours::new(
        chrono_tz::America::Chicago,
        NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
    );
    let routes = [
        ContactRoute::new(Channel::Email, "patient@example.org"),
        ContactRoute::new(Channel::Sms, "+13125550123"),
    ];
    let input = OutreachInput {
        balance: owed,
        statement_at: at("2026-01-21T03:00:00Z"),
        routes: &routes,
        quiet: &quiet,
        estimate_dispute_open: false,
        on_current_plan: false,
    };
    let OutreachPlan::Scheduled { steps } = outreach::plan(&input) else {
        panic!("expected a schedule");
    };
    assert_eq!(steps[0].channel, Channel::Sms);
    assert_eq!(steps[0].at, at("2026-01-21T15:00:00Z"));
    assert!(matches!(
        outreach::plan(&OutreachInput {
            estimate_dispute_open: true,
            ..input
        }),
        OutreachPlan::Paused { .. }
    ));
}

#[test]
fn fhir_export_of_the_cycle_round_trips() {
    use bedside_ledger::fhir::{self, BillingResource};
    let (c, s) = statement_after_visit();
    let claim = c
        .claims
        .get(c.claim)
        .cloned()
        .unwrap_or_else(|| panic!("claim"));
    let adjudication = claim
        .adjudication
        .clone()
        .unwrap_or_else(|| panic!("adjudication"));
    let ctx = fhir::ClaimContext::new(OrganisationId::from_uuid(EntryId::new(99).to_uuid()))
        .with_icd10("J06.9");
    let export =
        |r: Result<BillingResource, fhir::ExportError>| r.unwrap_or_else(|e| panic!("{e}"));
    let resources = [
        export(fhir::export_claim(&claim, &ctx).map(BillingResource::Claim)),
        export(
            fhir::export_claim_response(&claim, &adjudication).map(BillingResource::ClaimResponse),
        ),
        export(
            fhir::export_explanation_of_benefit(&claim, &adjudication, &ctx)
                .map(BillingResource::ExplanationOfBenefit),
        ),
        BillingResource::Invoice(fhir::export_invoice(c.patient, &s)),
        BillingResource::Account(fhir::export_account(c.patient, s.amount_due)),
    ];
    for r in &resources {
        let json = r.to_json();
        let back = fhir::round_trip(&json).unwrap_or_else(|e| panic!("{e}"));
        assert!(back.stable, "{}", r.resource_type());
        assert_eq!(back.lost, Vec::<String>::new(), "{}", r.resource_type());
        assert_eq!(&back.resource, r);
    }
    insta::assert_json_snapshot!("claim_response", resources[1].to_json());
}

#[test]
fn claim_lifecycle_and_secondary_claim() {
    let mut c = clinic();
    // A claim that is not adjudicated has nothing to pass on.
    let secondary_payer = OrganisationId::from_uuid(EntryId::new(7).to_uuid());
    let draft = |id: u128, control: &str| ClaimDraft {
        id: ClaimId::from_uuid(EntryId::new(id).to_uuid()),
        payer: secondary_payer,
        coverage: CoverageId::from_uuid(EntryId::new(8).to_uuid()),
        control_number: control.into(),
        charges: &[],
    };
    let early = c.claims.build_secondary(
        &mut c.books,
        c.claim,
        draft(9, "BSD0001-2"),
        &clerk(),
        at("2026-01-10T00:00:00Z"),
    );
    assert_eq!(early, Err(bedside_ledger::ClaimError::NothingForSecondary));
    // Invalid transitions are refused with both states named.
    let refused = c
        .claims
        .transition(c.claim, ClaimStatus::Closed, at("2026-01-10T00:00:00Z"));
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err("cannot move a claim from submitted to closed".to_string())
    );

    assert!(post(&mut c, "visit.835", "2026-01-20T10:00:00Z").is_ok());
    let patient_ar = c
        .books
        .patient_account(c.patient)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(balance(&c, patient_ar), 10_600);
    let secondary = c
        .claims
        .build_secondary(
            &mut c.books,
            c.claim,
            draft(9, "BSD0001-2"),
            &clerk(),
            at("2026-01-22T00:00:00Z"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let s = c
        .claims
        .get(secondary)
        .cloned()
        .unwrap_or_else(|| panic!("secondary"));
    assert_eq!(s.billed_to_payer, usd(10_600));
    assert_eq!(s.status, ClaimStatus::Draft);
    assert!(matches!(
        s.sequence,
        bedside_ledger::claim::PayerSequence::Secondary { .. }
    ));
    // The patient's share moved to the secondary payer's receivable.
    assert_eq!(balance(&c, patient_ar), 0);
    let secondary_ar = c
        .books
        .payer_account(secondary_payer)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(balance(&c, secondary_ar), 10_600);
    assert!(c.books.ledger.trial_balance().is_zero());
    // Appeal and close the primary.
    for to in [
        ClaimStatus::Appealed,
        ClaimStatus::Paid,
        ClaimStatus::Closed,
    ] {
        assert!(
            c.claims
                .transition(c.claim, to, at("2026-02-01T00:00:00Z"))
                .is_ok(),
            "{to}"
        );
    }
    assert_eq!(c.claims.get(c.claim).map(|k| k.transitions.len()), Some(6));
}

fn clerk() -> bedside_core::Actor {
    bedside_core::Actor::System {
        component: "billing-desk".into(),
    }
}

#[test]
fn manual_insurer_payment_posts_like_an_835_claim() {
    use bedside_ledger::ManualPayment;
    use bedside_ledger::x12::GroupCode;
    let mut c = clinic();
    let when = at("2026-01-20T10:00:00Z");
    // The paper EOB of visit.835's claim: 330.00 billed, 124.00 paid, 100.00 contractual,
    // 106.00 patient share (75.00 deductible, 21.00 coinsurance, 10.00 copay).
    let eob = ManualPayment::new(c.payer, c.claim, usd(12_400), "CHK-88412")
        .with_adjustment(GroupCode::CO, "45", usd(10_000))
        .with_adjustment(GroupCode::PR, "1", usd(7_500))
        .with_adjustment(GroupCode::PR, "2", usd(2_100))
        .with_adjustment(GroupCode::PR, "3", usd(1_000));

    // Off by one cent: nothing posts.
    let mut short = eob.clone();
    short.paid = usd(12_399);
    let before = c.books.ledger.clone();
    let out = c
        .poster
        .post_manual(&mut c.books, &mut c.claims, &short, &clerk(), when);
    assert!(matches!(out, Err(RemitError::Unbalanced(_))), "{out:?}");
    assert_eq!(c.books.ledger, before);

    let s = c
        .poster
        .post_manual(&mut c.books, &mut c.claims, &eob, &clerk(), when)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.entries_applied, s.claims_matched), (1, 1));
    assert_eq!(
        c.claims.get(c.claim).map(|x| x.status),
        Some(ClaimStatus::Paid)
    );
    let statement = c
        .books
        .statement(&c.claims, c.patient, statement_options())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(statement.total_insurance_paid, usd(12_400));
    assert_eq!(statement.amount_due, usd(10_600));
    // The entry records who posted it.
    let entry = c
        .books
        .ledger
        .entries_by_reference(Reference::Claim(c.claim));
    assert_eq!(entry.last().and_then(|e| e.actor), Some(&clerk()));

    // Posting the same EOB again changes nothing.
    let again = c
        .poster
        .post_manual(&mut c.books, &mut c.claims, &eob, &clerk(), when)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.entries_applied, again.entries_replayed), (0, 1));

    // The payer's 835 for the same claim afterwards is a second payment: queued, not posted
    // against the claim.
    let s = post(&mut c, "visit.835", "2026-01-21T10:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.claims_duplicate, 1);
    assert!(
        c.poster
            .work_queue()
            .iter()
            .any(|w| w.reason == WorkReason::DuplicatePayment)
    );

    // Wrong payer, unknown claim, no reference.
    let other = OrganisationId::from_uuid(EntryId::new(99).to_uuid());
    let refusals = [
        ManualPayment::new(other, c.claim, usd(1), "X"),
        ManualPayment::new(
            c.payer,
            ClaimId::from_uuid(EntryId::new(98).to_uuid()),
            usd(1),
            "X",
        ),
        ManualPayment::new(c.payer, c.claim, usd(1), "  "),
    ];
    for (m, kind) in refusals.iter().zip([
        bedside_core::ErrorKind::Conflict,
        bedside_core::ErrorKind::NotFound,
        bedside_core::ErrorKind::Invalid,
    ]) {
        let out = c
            .poster
            .post_manual(&mut c.books, &mut c.claims, m, &clerk(), when);
        let e = out.err().unwrap_or_else(|| panic!("{m:?} posted"));
        assert_eq!(bedside_core::DomainError::kind(&e), kind, "{e}");
    }
}

#[test]
fn derived_statement_counts_ledger_payments_and_matches_caller_built_input() {
    let (mut c, _) = statement_after_visit();
    let pay = PatientPayment {
        id: PaymentId::from_uuid(EntryId::new(500).to_uuid()),
        patient: c.patient,
        amount: usd(4_000),
        method: PaymentMethod::Card {
            reference: Sensitive::new("tok_1".into()),
        },
        received_at: at("2026-01-22T10:00:00Z"),
    };
    assert!(c.books.record_patient_payment(&pay, &clerk()).is_ok());
    assert_eq!(c.books.patient_payments(c.patient), Ok(usd(4_000)));
    let derived = c
        .books
        .statement(&c.claims, c.patient, statement_options())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (derived.your_payments, derived.amount_due),
        (usd(4_000), usd(6_600))
    );
    let claims: Vec<_> = c.claims.iter().collect();
    let built = statement::build(
        &StatementInput::new(&claims, usd(4_000), statement_options()),
        Currency::USD,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(built, derived);
}

#[test]
fn books_claims_and_poster_survive_storage() {
    use bedside_ledger::{ClaimBookSnapshot, PosterSnapshot};
    let (c, before) = statement_after_visit();
    // What an embedder stores: the ledger's journal and the two snapshots as JSON.
    let mut journal = Vec::new();
    c.books.ledger.write_journal(&mut journal);
    let claims_json = serde_json::to_string(&c.claims.snapshot()).unwrap_or_default();
    let poster_json = serde_json::to_string(&c.poster.snapshot()).unwrap_or_default();

    let replayed = bedside_ledger::replay(&journal);
    assert_eq!(replayed.stopped, None);
    let books = Books::open_in(replayed.ledger, Currency::USD).unwrap_or_else(|e| panic!("{e}"));
    let claims_back: ClaimBookSnapshot =
        serde_json::from_str(&claims_json).unwrap_or_else(|e| panic!("{e}"));
    let poster_back: PosterSnapshot =
        serde_json::from_str(&poster_json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims_back, c.claims.snapshot());
    let mut r = Clinic {
        poster: RemittancePoster::restore(books.clinic, poster_back),
        claims: ClaimBook::restore(claims_back),
        books,
        ..c
    };
    assert_eq!(
        r.books.existing_patient_account(r.patient),
        Some(
            r.claims
                .get(r.claim)
                .map(|x| x.patient_account)
                .unwrap_or(bedside_ledger::AccountIndex::new(u32::MAX))
        )
    );
    assert_eq!(
        r.claims.snapshot(),
        ClaimBook::restore(r.claims.snapshot()).snapshot()
    );
    assert_eq!(r.poster.work_queue().len(), 1);
    let after = r
        .books
        .statement(&r.claims, r.patient, statement_options())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after, before);
    // The restored poster knows the file: importing it again changes nothing.
    let again = post(&mut r, "visit.835", "2026-01-22T10:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.entries_applied, again.claims_duplicate), (0, 0));
    assert_eq!(r.poster.work_queue().len(), 1);
}
