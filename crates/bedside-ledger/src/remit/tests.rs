//! Unit tests of [`super`]: kept beside the module, out of its file.

use super::*;
use crate::books::Books;
use crate::x12;
use bedside_core::OrganisationId;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap_or_default()
}

fn importer() -> Actor {
    Actor::System {
        component: "remittance-import".into(),
    }
}

/// Matches CLP01 `BSD0001` to one claim.
struct OneClaim(ClaimTarget);

impl ClaimMatcher for OneClaim {
    fn find(&self, control_number: &str) -> Option<ClaimTarget> {
        (control_number == "BSD0001").then_some(self.0)
    }
}

struct Fixture {
    books: Books,
    poster: RemittancePoster,
    claims: OneClaim,
}

/// Books with one claim of 330.00 billed to the payer.
fn fixture() -> Fixture {
    let mut books = Books::open(Currency::USD).unwrap_or_else(|e| panic!("{e}"));
    let id = |n: u128| uuid::Uuid::from_u128(n);
    let patient = PatientId::from_uuid(id(1));
    let payer = OrganisationId::from_uuid(id(2));
    let target = ClaimTarget {
        claim: ClaimId::from_uuid(id(3)),
        patient,
        payer_receivable: books.payer_account(payer).unwrap_or_else(|e| panic!("{e}")),
        patient_receivable: books
            .patient_account(patient)
            .unwrap_or_else(|e| panic!("{e}")),
    };
    let charge = Money::new(33_000, Currency::USD);
    let postings = [
        Posting::debit(target.payer_receivable, charge),
        Posting::credit(books.clinic.revenue, charge),
    ];
    let e = NewEntry::posted(EntryId::new(1), at("2026-01-05T15:00:00Z"), &postings);
    assert!(books.ledger.apply(&e).is_ok());
    Fixture {
        poster: RemittancePoster::new(books.clinic),
        books,
        claims: OneClaim(target),
    }
}

/// A balanced 835 with one transaction under `trace` made of `clps`.
fn remit(trace: &str, payment: &str, clps: &[&str]) -> Transaction {
    let body: Vec<&str> = clps.iter().flat_map(|c| c.split_terminator('~')).collect();
    let mut segments = vec![
        "ST*835*0001".to_string(),
        format!("BPR*I*{payment}*C*ACH************20260120"),
        format!("TRN*1*{trace}*1999999999"),
        "N1*PR*ACME HEALTH PLAN".into(),
        "N1*PE*BEDSIDE CLINIC*XX*1234567893".into(),
        "LX*1".into(),
    ];
    segments.extend(body.iter().map(|s| s.to_string()));
    segments.push(format!("SE*{}*0001", segments.len() + 1));
    let text = format!(
        "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*BEDSIDECLINIC  *260120*0930*^*00501*000000101*0*P*:~\
         GS*HP*ACMEHEALTH*BEDSIDECLINIC*20260120*0930*101*X*005010X221A1~{}~GE*1*101~IEA*1*000000101~",
        segments.join("~")
    );
    let r = x12::parse(text.as_bytes());
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    r.transactions
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no transaction"))
}

/// Paid 124.00 of 330.00; patient share 106.00 (deductible 50, coinsurance 31, copay 25).
const PAID: &str = "CLP*BSD0001*1*330.00*124.00*106.00*12*PAYCLM1~CAS*CO*45*100.00~\
                    CAS*PR*1*50.00**2*31.00**3*25.00~";
/// Reverses [`PAID`].
const REVERSAL: &str = "CLP*BSD0001*22*-330.00*-124.00*-106.00*12*PAYCLM1~\
                        CAS*CO*45*-100.00~CAS*PR*1*-50.00**2*-31.00**3*-25.00~";
/// The payer's correction after [`REVERSAL`]: paid 155.00, patient share 75.00.
const CORRECTED: &str =
    "CLP*BSD0001*1*330.00*155.00*75.00*12*PAYCLM2~CAS*CO*45*100.00~CAS*PR*1*50.00**3*25.00~";
/// A denial: all of it written off.
const DENIED: &str = "CLP*BSD0001*4*330.00*0*0*12*PAYCLM1~CAS*CO*50*330.00~";

/// One file: trace number, BPR02, CLPs.
type File = (&'static str, &'static str, &'static [&'static str]);

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    patient_receivable: i64,
    payer_receivable: i64,
    unapplied: i64,
    cash: i64,
    /// (reason, TRN02, earlier TRN02) per work item.
    queue: Vec<(WorkReason, String, Option<String>)>,
    /// (applied, replayed, matched, duplicate, adjudications) of the last file.
    last: (usize, usize, usize, usize, usize),
}

fn run(files: &[File]) -> Outcome {
    let mut f = fixture();
    let mut last = None;
    for (i, &(trace, payment, clps)) in files.iter().enumerate() {
        let tx = remit(trace, payment, clps);
        let when = at("2026-01-20T10:00:00Z") + chrono::Duration::days(i as i64);
        let s = f
            .poster
            .post(&mut f.books.ledger, &tx, &f.claims, &importer(), when)
            .unwrap_or_else(|e| panic!("file {i}: {e}"));
        last = Some(s);
    }
    assert!(f.books.ledger.trial_balance().is_zero());
    let balance = |a| {
        f.books
            .ledger
            .balance(a)
            .map_or(i64::MIN, |b| b.posted.amount_minor())
    };
    let s = last.unwrap_or_else(|| panic!("no files"));
    Outcome {
        patient_receivable: balance(f.claims.0.patient_receivable),
        payer_receivable: balance(f.claims.0.payer_receivable),
        unapplied: balance(f.books.clinic.unapplied),
        cash: balance(f.books.clinic.cash),
        queue: f
            .poster
            .work_queue()
            .iter()
            .map(|w| {
                (
                    w.reason,
                    w.trace_number.clone(),
                    w.earlier_trace_number.clone(),
                )
            })
            .collect(),
        last: (
            s.entries_applied,
            s.entries_replayed,
            s.claims_matched,
            s.claims_duplicate,
            s.adjudications.len(),
        ),
    }
}

fn duplicate(trace: &str, earlier: &str) -> (WorkReason, String, Option<String>) {
    (
        WorkReason::DuplicatePayment,
        trace.into(),
        Some(earlier.into()),
    )
}

#[test]
fn duplicate_payment_rule() {
    let cases: &[(&str, &[File], Outcome)] = &[
        (
            "same file twice replays",
            &[("T1", "124.00", &[PAID]), ("T1", "124.00", &[PAID])],
            Outcome {
                patient_receivable: 10_600,
                payer_receivable: 0,
                unapplied: 0,
                cash: 12_400,
                queue: vec![],
                last: (0, 1, 1, 0, 1),
            },
        ),
        (
            "same claim under a new trace goes to unapplied",
            &[("T1", "124.00", &[PAID]), ("T2", "124.00", &[PAID])],
            Outcome {
                patient_receivable: 10_600,
                payer_receivable: 0,
                unapplied: 12_400,
                cash: 24_800,
                queue: vec![duplicate("T2", "T1")],
                last: (1, 0, 0, 1, 0),
            },
        ),
        (
            "the duplicate file imported again replays",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "124.00", &[PAID]),
                ("T2", "124.00", &[PAID]),
            ],
            Outcome {
                patient_receivable: 10_600,
                payer_receivable: 0,
                unapplied: 12_400,
                cash: 24_800,
                queue: vec![duplicate("T2", "T1")],
                last: (0, 1, 0, 1, 0),
            },
        ),
        (
            "a denial counts as the claim's adjudication",
            &[("T1", "0", &[DENIED]), ("T2", "124.00", &[PAID])],
            Outcome {
                patient_receivable: 0,
                payer_receivable: 0,
                unapplied: 12_400,
                cash: 12_400,
                queue: vec![duplicate("T2", "T1")],
                last: (1, 0, 0, 1, 0),
            },
        ),
        (
            "reversal then corrected payment under new traces posts",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "-124.00", &[REVERSAL]),
                ("T3", "155.00", &[CORRECTED]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 0,
                cash: 15_500,
                queue: vec![],
                last: (1, 0, 1, 0, 1),
            },
        ),
        (
            "reversal and correction in one file",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "31.00", &[REVERSAL, CORRECTED]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 0,
                cash: 15_500,
                queue: vec![],
                last: (2, 0, 2, 0, 2),
            },
        ),
        (
            "correction listed before its reversal",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "31.00", &[CORRECTED, REVERSAL]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 0,
                cash: 15_500,
                queue: vec![],
                last: (2, 0, 2, 0, 2),
            },
        ),
        (
            "the corrected payment sent again is a duplicate of it",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "31.00", &[REVERSAL, CORRECTED]),
                ("T3", "155.00", &[CORRECTED]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 15_500,
                cash: 31_000,
                queue: vec![duplicate("T3", "T2")],
                last: (1, 0, 0, 1, 0),
            },
        ),
        (
            "the reversed original imported again replays",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "31.00", &[REVERSAL, CORRECTED]),
                ("T1", "124.00", &[PAID]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 0,
                cash: 15_500,
                queue: vec![],
                last: (0, 1, 1, 0, 1),
            },
        ),
        (
            "re-importing the reversed original keeps the correction standing",
            &[
                ("T1", "124.00", &[PAID]),
                ("T2", "31.00", &[REVERSAL, CORRECTED]),
                ("T1", "124.00", &[PAID]),
                ("T3", "155.00", &[CORRECTED]),
            ],
            Outcome {
                patient_receivable: 7_500,
                payer_receivable: 0,
                unapplied: 15_500,
                cash: 31_000,
                queue: vec![duplicate("T3", "T2")],
                last: (1, 0, 0, 1, 0),
            },
        ),
    ];
    for (name, files, expected) in cases {
        assert_eq!(&run(files), expected, "{name}");
    }
}

#[test]
fn duplicate_work_item_hides_the_control_number() {
    let mut f = fixture();
    for (i, trace) in ["T1", "T2"].iter().enumerate() {
        let tx = remit(trace, "124.00", &[PAID]);
        let when = at("2026-01-20T10:00:00Z") + chrono::Duration::days(i as i64);
        assert!(
            f.poster
                .post(&mut f.books.ledger, &tx, &f.claims, &importer(), when)
                .is_ok()
        );
    }
    let queue = f.poster.work_queue();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].paid, Money::new(12_400, Currency::USD));
    assert!(!format!("{queue:?}").contains("BSD0001"));
}

#[test]
fn older_work_items_and_summaries_decode() {
    let mut f = fixture();
    let mut summary = None;
    for (i, trace) in ["T1", "T2"].iter().enumerate() {
        let tx = remit(trace, "124.00", &[PAID]);
        let when = at("2026-01-20T10:00:00Z") + chrono::Duration::days(i as i64);
        summary = f
            .poster
            .post(&mut f.books.ledger, &tx, &f.claims, &importer(), when)
            .ok();
    }
    let item = f.poster.work_queue().first().cloned();
    let mut json = serde_json::to_value(&item).unwrap_or_default();
    assert_eq!(json["reason"], "duplicate_payment");
    assert_eq!(json["earlier_trace_number"], "T1");
    if let Some(o) = json.as_object_mut() {
        o.remove("earlier_trace_number");
    }
    let old: Option<WorkItem> = serde_json::from_value(json).ok();
    assert_eq!(old.map(|w| w.earlier_trace_number), Some(None));

    let mut json = serde_json::to_value(&summary).unwrap_or_default();
    assert_eq!(json["claims_duplicate"], 1);
    if let Some(o) = json.as_object_mut() {
        o.remove("claims_duplicate");
    }
    let old: Option<PostingSummary> = serde_json::from_value(json).ok();
    assert_eq!(old.map(|s| s.claims_duplicate), Some(0));
}

mod proptest_strategies {
    use proptest::prelude::*;

    /// A paid claim as (contractual, patient share, paid) in cents, charge their sum.
    pub fn claim_amounts() -> impl Strategy<Value = (i64, i64, i64)> {
        (0i64..50_000, 0i64..50_000, 1i64..50_000)
    }

    /// Which of `k` trace numbers each import uses (repeats are re-imports).
    pub fn imports() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0u8..4, 1..10)
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Posting one remittance under any sequence of trace numbers leaves both receivables
    /// as one posting does; every further distinct trace's cash waits in unapplied.
    #[test]
    fn a_claim_is_paid_once_whatever_the_traces(
        (co, pr, paid) in proptest_strategies::claim_amounts(),
        imports in proptest_strategies::imports(),
    ) {
        let cents = |m: i64| format!("{}.{:02}", m / 100, m % 100);
        let clp = format!(
            "CLP*BSD0001*1*{}*{}*{}*12*PAYCLM1~CAS*CO*45*{}~CAS*PR*2*{}~",
            cents(co + pr + paid), cents(paid), cents(pr), cents(co), cents(pr),
        );
        let mut f = fixture();
        let payer_before = f.books.ledger.balance(f.claims.0.payer_receivable)
            .map(|b| b.posted.amount_minor());
        let mut distinct = Vec::new();
        for (i, t) in imports.iter().enumerate() {
            let trace = format!("TRACE{t}");
            let tx = remit(&trace, &cents(paid), &[clp.as_str()]);
            let when = at("2026-01-20T10:00:00Z") + chrono::Duration::hours(i as i64);
            let s = f.poster.post(&mut f.books.ledger, &tx, &f.claims, &importer(), when);
            proptest::prop_assert!(s.is_ok(), "{s:?}");
            if !distinct.contains(t) {
                distinct.push(*t);
            }
        }
        let balance = |a| f.books.ledger.balance(a).map(|b| b.posted.amount_minor());
        let k = distinct.len() as i64;
        proptest::prop_assert_eq!(balance(f.claims.0.patient_receivable), Some(pr));
        proptest::prop_assert_eq!(
            balance(f.claims.0.payer_receivable),
            payer_before.map(|b| b - (co + pr + paid))
        );
        proptest::prop_assert_eq!(balance(f.books.clinic.unapplied), Some((k - 1) * paid));
        proptest::prop_assert_eq!(balance(f.books.clinic.cash), Some(k * paid));
        proptest::prop_assert_eq!(f.poster.work_queue().len() as i64, k - 1);
        proptest::prop_assert!(f.books.ledger.trial_balance().is_zero());
    }
}
