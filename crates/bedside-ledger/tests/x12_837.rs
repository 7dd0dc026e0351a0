//! 837P generation: a human-facing sample (snapshot), refusals that leave everything
//! untouched, and properties of every generated interchange (re-parses, counts right,
//! deterministic).

use bedside_core::{ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId};
use bedside_ledger::x12::envelope::{EnvelopeParties, Usage, WriteError};
use bedside_ledger::x12::party::{
    Address, BillingProvider, ClaimFiling, DiagnosisCode, Npi, Payer, Person, PlaceOfService,
    Relationship, RenderingProvider, Sex, Submitter, Subscriber, TaxId, Taxonomy,
};
use bedside_ledger::x12::sim::fixture::ClaimFixture;
use bedside_ledger::x12::sim::read_837;
use bedside_ledger::x12::write837::{Batch, ClaimInput, write};
use bedside_ledger::x12::{Submissions, sim::month::run_month};
use bedside_ledger::{
    BillTo, Books, ChargeId, ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus, Currency,
    FeeSchedule, Modifier, Money, ProcedureCode,
};
use chrono::NaiveDate;
use proptest::prelude::*;

fn uuid(n: u128) -> bedside_ledger::Uuid {
    bedside_ledger::Uuid::from_u128(n)
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn at() -> bedside_core::Timestamp {
    ok("2026-03-09T08:00:00Z".parse())
}

struct Sample {
    books: Books,
    claims: ClaimBook,
    parties: EnvelopeParties,
    submitter: Submitter,
    billing: BillingProvider,
    rendering: RenderingProvider,
    payer: Payer,
    subscriber: Subscriber,
    diagnoses: Vec<DiagnosisCode>,
}

const CLAIM: u128 = 500;

/// One visit of a child on a parent's plan: an office visit with modifier 25 and an ECG.
fn sample() -> Sample {
    let mut books = ok(Books::open(Currency::USD));
    let mut fees = FeeSchedule::new();
    for (code, price) in [("99214", 22_000), ("93000", 6_000)] {
        fees.set(
            ok(ProcedureCode::parse(code)),
            None,
            Money::new(price, Currency::USD),
            "x",
        );
    }
    let payer_org = OrganisationId::from_uuid(uuid(2));
    let charges: Vec<_> = [
        ("99214", vec!["25"], vec![1, 2]),
        ("93000", vec![], vec![2]),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (code, mods, pointers))| {
        let c = ok(fees.price(
            ChargeId::from_uuid(uuid(100 + i as u128)),
            ChargeRequest {
                patient: PatientId::from_uuid(uuid(1)),
                encounter: EncounterId::from_uuid(uuid(3)),
                code: ok(ProcedureCode::parse(code)),
                modifiers: mods.iter().map(|m| ok(Modifier::parse(m))).collect(),
                units: 1,
                date_of_service: date(2026, 3, 2),
                rendering_provider: ProviderId::from_uuid(uuid(4)),
                diagnosis_pointers: pointers,
            },
        ));
        ok(books.capture_charge(&c, BillTo::Payer(payer_org), &desk(), at()));
        c
    })
    .collect();
    let mut claims = ClaimBook::new();
    ok(claims.build(
        &mut books,
        ClaimDraft {
            id: ClaimId::from_uuid(uuid(CLAIM)),
            payer: payer_org,
            coverage: CoverageId::from_uuid(uuid(6)),
            control_number: "BSD00042".into(),
            charges: &charges,
        },
        at(),
    ));
    let home = ok(Address::new(
        "12 ELM STREET",
        Some("APT 3"),
        "SPRINGFIELD",
        "IL",
        "62704",
    ));
    let parent = ok(Person::new(
        "García",
        "Ana",
        date(1984, 5, 17),
        Sex::Female,
        home.clone(),
    ));
    let child = ok(Person::new(
        "García",
        "Leo",
        date(2016, 9, 2),
        Sex::Male,
        home,
    ));
    Sample {
        books,
        claims,
        parties: ok(EnvelopeParties::new(
            "BEDSIDECLINIC",
            "CLEARINGHOUSE",
            "BEDSIDECLINIC",
            "CLEARINGHOUSE",
            Usage::Test,
        )),
        submitter: ok(Submitter::new(
            "Bedside Family Clinic",
            "BEDSIDE01",
            "Billing office",
            "(217) 555-0100",
            ("Clearinghouse", "CH0001"),
        )),
        billing: ok(BillingProvider::new(
            "Bedside Family Clinic",
            ok(Npi::parse("1234567893")),
            ok(TaxId::parse("12-3456789")),
            Some(ok(Taxonomy::parse("207Q00000X"))),
            ok(Address::new(
                "100 Main Street",
                None,
                "Springfield",
                "IL",
                "62701-1234",
            )),
        )),
        rendering: RenderingProvider {
            last: "Quinn".into(),
            first: "Michaela".into(),
            npi: ok(Npi::parse("1234567893")),
            taxonomy: None,
        },
        payer: ok(Payer::new(
            "Acme Commercial",
            "ACME1",
            ClaimFiling::Commercial,
        )),
        subscriber: ok(Subscriber::with_dependant(
            parent,
            "ACM123456789",
            Some("GRP100"),
            Relationship::Child,
            child,
        )),
        diagnoses: vec![
            ok(DiagnosisCode::parse("J06.9")),
            ok(DiagnosisCode::parse("R05.9")),
        ],
    }
}

fn write_sample(
    s: &Sample,
    submissions: &mut Submissions,
    out: &mut Vec<u8>,
) -> Result<(), WriteError> {
    let claim = s
        .claims
        .get(ClaimId::from_uuid(uuid(CLAIM)))
        .ok_or(WriteError::Empty)?;
    let inputs = [ClaimInput {
        claim,
        payer: &s.payer,
        subscriber: &s.subscriber,
        diagnoses: &s.diagnoses,
        place_of_service: PlaceOfService::OFFICE,
        rendering: Some(&s.rendering),
        prior: None,
    }];
    let batch = Batch {
        parties: &s.parties,
        submitter: &s.submitter,
        billing: &s.billing,
        claims: &inputs,
    };
    write(&batch, submissions, at(), out).map(|_| ())
}

#[test]
fn sample_claim_for_a_dependant() {
    let s = sample();
    let mut out = Vec::new();
    let mut submissions = Submissions::new();
    ok(write_sample(&s, &mut submissions, &mut out));
    let text = String::from_utf8_lossy(&out).replace('~', "~\n");
    insta::assert_snapshot!("claim_for_a_dependant", text);
    let record = submissions.get(1).cloned();
    let positions = record
        .map(|r| r.transactions[0].claims.clone())
        .unwrap_or_default();
    assert_eq!(positions.len(), 1);
    // The claim spans its subscriber HL to its last DTP; a 999 pointing inside finds it.
    let tx = submissions.transaction(1, "0001").cloned();
    assert_eq!(
        tx.and_then(|t| t.claim_at(positions[0].first_segment + 3)),
        Some(ClaimId::from_uuid(uuid(CLAIM)))
    );
    assert!(s.books.ledger.trial_balance().is_zero());
}

#[test]
fn refusals_write_nothing_and_issue_no_control_number() {
    type Mutate = fn(&mut Sample);
    let cases: [(&str, Mutate, WriteError); 4] = [
        (
            "no diagnoses",
            |s| s.diagnoses.clear(),
            WriteError::Diagnoses {
                claim: ClaimId::from_uuid(uuid(CLAIM)),
            },
        ),
        (
            "pointer past the diagnoses",
            |s| s.diagnoses.truncate(1),
            WriteError::DiagnosisPointer {
                claim: ClaimId::from_uuid(uuid(CLAIM)),
                line: 1,
            },
        ),
        (
            "thirteen diagnoses",
            |s| s.diagnoses = vec![s.diagnoses[0].clone(); 13],
            WriteError::Diagnoses {
                claim: ClaimId::from_uuid(uuid(CLAIM)),
            },
        ),
        (
            "void without the payer's claim number",
            |s| {
                let id = ClaimId::from_uuid(uuid(CLAIM));
                let when = at();
                ok(s.claims.transition(id, ClaimStatus::Submitted, when));
                ok(s.claims.void(&mut s.books, id, &desk(), when));
            },
            WriteError::MissingPayerClaimNumber {
                claim: ClaimId::from_uuid(uuid(CLAIM)),
            },
        ),
    ];
    for (name, mutate, expected) in cases {
        let mut s = sample();
        mutate(&mut s);
        let mut out = b"kept".to_vec();
        let mut submissions = Submissions::new();
        assert_eq!(
            write_sample(&s, &mut submissions, &mut out),
            Err(expected),
            "{name}"
        );
        assert_eq!(out, b"kept", "{name}");
        assert!(submissions.is_empty(), "{name}");
    }
    // A void with the payer's number goes out as CLM05-3 = 8 with REF*F8.
    let mut s = sample();
    let id = ClaimId::from_uuid(uuid(CLAIM));
    ok(s.claims.transition(id, ClaimStatus::Submitted, at()));
    ok(s.claims.record_payer_claim_number(id, "ACME100001"));
    ok(s.claims.void(&mut s.books, id, &desk(), at()));
    let mut out = Vec::new();
    ok(write_sample(&s, &mut Submissions::new(), &mut out));
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("*11:B:8*") && text.contains("~REF*F8*ACME100001~"),
        "{text}"
    );
    assert!(s.books.ledger.trial_balance().is_zero());
}

#[test]
fn no_phi_in_debug_output() {
    let s = sample();
    let shown = format!(
        "{:?} {:?}",
        s.subscriber,
        s.claims.get(ClaimId::from_uuid(uuid(CLAIM)))
    );
    for phi in [
        "Garc",
        "Ana",
        "Leo",
        "ACM123456789",
        "GRP100",
        "ELM",
        "62704",
        "2016",
        "BSD00042",
    ] {
        assert!(!shown.contains(phi), "{phi} in {shown}");
    }
}

#[test]
fn throughput_fixture_writes_one_interchange_per_batch() {
    let f = ok(ClaimFixture::new(1, 300));
    let inputs = f.inputs();
    let mut out = Vec::new();
    let mut submissions = Submissions::new();
    let record = ok(write(&f.batch(&inputs), &mut submissions, at(), &mut out));
    let read = read_837(&out);
    assert_eq!(read.diagnostics, vec![]);
    assert_eq!(read.claims.len(), 300);
    assert_eq!(record.claims().count(), 300);
    assert_eq!(read.transactions.len(), record.transactions.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Every 837 of any month re-parses clean (SE01, GE01, IEA02 right), carries each claim
    /// once with CLM02 = Σ SV102, and the same seed gives the same bytes.
    #[test]
    fn generated_837s_reparse_with_counts_right(seed in any::<u64>(), visits in 8usize..40) {
        let start = date(2026, 3, 2);
        let run = run_month(seed, visits, start);
        prop_assert!(run.is_ok(), "{:?}", run.as_ref().err());
        let Ok(run) = run else { return Ok(()) };
        let mut written = 0;
        for f in run.files.iter().filter(|f| f.name.ends_with(".837")) {
            let read = read_837(&f.bytes);
            prop_assert_eq!(&read.diagnostics, &vec![], "{}", f.name);
            for c in &read.claims {
                let lines: i64 = c.lines.iter().map(|l| l.charge.amount_minor()).sum();
                prop_assert_eq!(lines, c.total.amount_minor());
                prop_assert!(!c.diagnoses.is_empty() && c.diagnoses.len() <= 12);
                prop_assert!(c.lines.iter().all(|l| l.pointers.iter().all(|&p| p >= 1 && usize::from(p) <= c.diagnoses.len())));
            }
            written += read.claims.len();
        }
        prop_assert_eq!(written, run.claims_written);
        let again = run_month(seed, visits, start).map(|r| r.files);
        prop_assert!(again.is_ok_and(|files| files == run.files));
        prop_assert_eq!(run.claims_posted, run.claims_due);
        prop_assert!(run.books.ledger.trial_balance().is_zero());
    }
}

fn desk() -> bedside_core::Actor {
    bedside_core::Actor::System {
        component: "billing-desk".into(),
    }
}
