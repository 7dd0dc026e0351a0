//! Unit tests of [`super`]: kept beside the module, out of its file.

use super::*;
use ClaimStatus::*;

#[test]
fn lifecycle_transitions() {
    let allowed = [
        (Draft, Submitted),
        (Submitted, Accepted),
        (Submitted, Rejected),
        (Rejected, Submitted),
        (Accepted, Paid),
        (Accepted, PartiallyPaid),
        (Accepted, Denied),
        (Denied, Appealed),
        (Appealed, Paid),
        (Paid, Closed),
    ];
    for (a, b) in allowed {
        assert!(a.can_move_to(b), "{a} -> {b}");
    }
    let refused = [
        (Draft, Paid),
        (Closed, Submitted),
        (Draft, Accepted),
        (Appealed, Draft),
        (Draft, Replaced),
        (Submitted, Replaced),
        (Replaced, Submitted),
        (Replaced, Draft),
    ];
    for (a, b) in refused {
        assert!(!a.can_move_to(b), "{a} -> {b}");
    }
}

use crate::charge::{BillTo, ChargeRequest, FeeSchedule};
use crate::money::Currency;
use bedside_core::ProviderId;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap_or_default()
}

fn uuid(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

fn desk() -> Actor {
    Actor::System {
        component: "billing-desk".into(),
    }
}

const PAYER: u128 = 2;
const OTHER_PAYER: u128 = 9;
const ORIGINAL: u128 = 50;
const VISIT: u128 = 3;

struct Fixture {
    books: Books,
    claims: ClaimBook,
    fees: FeeSchedule,
    /// Minutes since the start of the test; every ledger write takes the next instant.
    clock: i64,
}

impl Fixture {
    fn tick(&mut self) -> Timestamp {
        self.clock += 1;
        at("2026-01-05T09:00:00Z") + chrono::Duration::minutes(self.clock)
    }

    /// A charge of `code` for `patient` at `encounter`, captured to the payer.
    fn charge(&mut self, id: u128, code: &str, patient: u128, encounter: u128) -> Charge {
        let code = ProcedureCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
        let c = self
            .fees
            .price(
                ChargeId::from_uuid(uuid(id)),
                ChargeRequest {
                    patient: PatientId::from_uuid(uuid(patient)),
                    encounter: EncounterId::from_uuid(uuid(encounter)),
                    code,
                    modifiers: vec![],
                    units: 1,
                    date_of_service: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
                    rendering_provider: ProviderId::from_uuid(uuid(4)),
                    diagnosis_pointers: vec![1],
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let payer = OrganisationId::from_uuid(uuid(PAYER));
        let now = self.tick();
        let captured = self
            .books
            .capture_charge(&c, BillTo::Payer(payer), &desk(), now);
        assert!(captured.is_ok(), "{captured:?}");
        c
    }

    fn payer_receivable(&mut self) -> i64 {
        let a = self
            .books
            .payer_account(OrganisationId::from_uuid(uuid(PAYER)))
            .unwrap_or_else(|e| panic!("{e}"));
        self.books
            .ledger
            .balance(a)
            .map_or(i64::MIN, |b| b.posted.amount_minor())
    }

    fn replace(
        &mut self,
        original: u128,
        id: u128,
        control_number: &str,
        charges: &[Charge],
    ) -> Result<ClaimId, ClaimError> {
        let now = self.tick();
        self.claims.build_replacement(
            &mut self.books,
            ClaimId::from_uuid(uuid(original)),
            draft(id, PAYER, control_number, charges),
            &desk(),
            now,
        )
    }
}

fn draft<'a>(id: u128, payer: u128, control: &str, charges: &'a [Charge]) -> ClaimDraft<'a> {
    ClaimDraft {
        id: ClaimId::from_uuid(uuid(id)),
        payer: OrganisationId::from_uuid(uuid(payer)),
        coverage: CoverageId::from_uuid(uuid(6)),
        control_number: control.into(),
        charges,
    }
}

/// Claim `ORIGINAL` (control `BSD0001`) for patient 1's visit: 99214 (charge 100) and
/// 93000 (charge 101), 330.00 captured to the payer, moved along `path`.
fn fixture(path: &[ClaimStatus]) -> (Fixture, Vec<Charge>) {
    let mut fees = FeeSchedule::new();
    let usd = |m| Money::new(m, Currency::USD);
    for (code, price) in [("99214", 25_000), ("93000", 8_000), ("99215", 30_000)] {
        let code = ProcedureCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
        fees.set(code, None, usd(price), "service");
    }
    let mut f = Fixture {
        books: Books::open(Currency::USD).unwrap_or_else(|e| panic!("{e}")),
        claims: ClaimBook::new(),
        fees,
        clock: 0,
    };
    let charges = vec![
        f.charge(100, "99214", 1, VISIT),
        f.charge(101, "93000", 1, VISIT),
    ];
    let now = f.tick();
    let built = f.claims.build(
        &mut f.books,
        draft(ORIGINAL, PAYER, "BSD0001", &charges),
        now,
    );
    assert_eq!(built, Ok(ClaimId::from_uuid(uuid(ORIGINAL))));
    for &to in path {
        let now = f.tick();
        let moved = f
            .claims
            .transition(ClaimId::from_uuid(uuid(ORIGINAL)), to, now);
        assert!(moved.is_ok(), "{to}: {moved:?}");
    }
    (f, charges)
}

#[test]
fn replacement_reverses_dropped_charges_and_takes_over_the_visit() {
    let (mut f, charges) = fixture(&[Submitted]);
    assert_eq!(f.payer_receivable(), 33_000);
    let original = ClaimId::from_uuid(uuid(ORIGINAL));
    let visit = EncounterId::from_uuid(uuid(VISIT));
    assert_eq!(f.claims.for_encounter(visit).map(|c| c.id), Some(original));
    assert_eq!(f.claims.get(original).map(Claim::frequency_code), Some('1'));

    // The visit was a 99215, not a 99214; the ECG line is carried over unchanged.
    let corrected = vec![f.charge(102, "99215", 1, VISIT), charges[1].clone()];
    let replaced = f.replace(ORIGINAL, 51, "BSD0001", &corrected);
    let new = ClaimId::from_uuid(uuid(51));
    assert_eq!(replaced, Ok(new));
    assert_eq!(f.payer_receivable(), 38_000, "330 reversed 250, added 300");
    assert!(f.books.ledger.trial_balance().is_zero());

    let old = f.claims.get(original).cloned();
    assert_eq!(
        old.as_ref().map(|c| (c.status, c.replaced_by)),
        Some((Replaced, Some(new)))
    );
    assert_eq!(
        old.and_then(|c| c.transitions.last().map(|t| t.1)),
        Some(Replaced)
    );
    let claim = f.claims.get(new).cloned();
    assert_eq!(
        claim
            .as_ref()
            .map(|c| (c.replaces, c.frequency, c.frequency_code(), c.status)),
        Some((
            Some(original),
            ClaimFrequency::Replacement,
            '7',
            ClaimStatus::Draft
        ))
    );
    assert_eq!(claim.map(|c| c.total.amount_minor()), Some(38_000));
    assert_eq!(f.claims.for_encounter(visit).map(|c| c.id), Some(new));
    assert_eq!(f.claims.find("BSD0001").map(|t| t.claim), Some(new));

    // The dropped charge's capture is reversed, not deleted; the kept one stands.
    let dropped = f.books.ledger.entry(capture_entry_id(charges[0].id));
    assert_eq!(
        dropped.and_then(|v| v.resolved_by),
        Some(replacement_reversal_id(original, charges[0].id))
    );
    let kept = f.books.ledger.entry(capture_entry_id(charges[1].id));
    assert_eq!(kept.map(|v| v.resolved_by), Some(None));

    // Replacing the replaced claim again is refused and changes nothing.
    let before = f.books.ledger.clone();
    assert_eq!(
        f.replace(ORIGINAL, 52, "BSD0002", &corrected),
        Err(ClaimError::AlreadyReplaced { by: new })
    );
    assert_eq!(f.books.ledger, before);
    // The replacement itself can be replaced in turn.
    let again = vec![f.charge(103, "99214", 1, VISIT)];
    assert_eq!(
        f.replace(51, 52, "BSD0001", &again),
        Ok(ClaimId::from_uuid(uuid(52)))
    );
    assert_eq!(f.payer_receivable(), 25_000);
    assert_eq!(
        f.claims.for_encounter(visit).map(|c| c.id),
        Some(ClaimId::from_uuid(uuid(52)))
    );
}

#[test]
fn replacement_frequency_follows_what_the_payer_holds() {
    let cases: &[(&[ClaimStatus], char)] = &[
        (&[], '1'),
        (&[Submitted], '7'),
        (&[Submitted, Accepted], '7'),
        (&[Submitted, Rejected], '1'),
        // A payer reversal (CLP02 = 22) reopens a paid claim to accepted.
        (&[Submitted, Paid, Accepted], '7'),
    ];
    for (path, code) in cases {
        let (mut f, _) = fixture(path);
        let corrected = vec![f.charge(102, "99215", 1, VISIT)];
        let r = f.replace(ORIGINAL, 51, "BSD0001", &corrected);
        assert!(r.is_ok(), "{path:?}: {r:?}");
        let got = f
            .claims
            .get(ClaimId::from_uuid(uuid(51)))
            .map(Claim::frequency_code);
        assert_eq!(got, Some(*code), "{path:?}");
        assert_eq!(f.payer_receivable(), 30_000, "{path:?}");
    }
}

#[test]
fn replacement_refusals_leave_everything_untouched() {
    struct Case {
        name: &'static str,
        path: &'static [ClaimStatus],
        original: u128,
        id: u128,
        payer: u128,
        control: &'static str,
        /// (charge id, patient); empty for no charges.
        charges: &'static [(u128, u128)],
        expected: ClaimError,
    }
    let base = Case {
        name: "",
        path: &[Submitted],
        original: ORIGINAL,
        id: 51,
        payer: PAYER,
        control: "BSD0001",
        charges: &[(102, 1)],
        expected: ClaimError::UnknownClaim,
    };
    let cases = [
        Case {
            name: "unknown original",
            original: 77,
            ..base
        },
        Case {
            name: "paid original",
            path: &[Submitted, Paid],
            expected: ClaimError::NotReplaceable { status: Paid },
            ..base
        },
        Case {
            name: "partially paid original",
            path: &[Submitted, PartiallyPaid],
            expected: ClaimError::NotReplaceable {
                status: PartiallyPaid,
            },
            ..base
        },
        Case {
            name: "denied original",
            path: &[Submitted, Denied],
            expected: ClaimError::NotReplaceable { status: Denied },
            ..base
        },
        Case {
            name: "appealed original",
            path: &[Submitted, Denied, Appealed],
            expected: ClaimError::NotReplaceable { status: Appealed },
            ..base
        },
        Case {
            name: "closed original",
            path: &[Submitted, Paid, Closed],
            expected: ClaimError::NotReplaceable { status: Closed },
            ..base
        },
        Case {
            name: "another patient's charges",
            charges: &[(102, 1), (103, 8)],
            expected: ClaimError::ReplacementPatientMismatch,
            ..base
        },
        Case {
            name: "another payer",
            payer: OTHER_PAYER,
            expected: ClaimError::ReplacementPayerMismatch,
            ..base
        },
        Case {
            name: "no charges",
            charges: &[],
            expected: ClaimError::NoCharges,
            ..base
        },
        Case {
            name: "claim id taken",
            id: ORIGINAL,
            expected: ClaimError::Duplicate,
            ..base
        },
    ];
    for case in cases {
        let (mut f, _) = fixture(case.path);
        let charges: Vec<Charge> = case
            .charges
            .iter()
            .map(|&(id, patient)| f.charge(id, "99215", patient, VISIT))
            .collect();
        let before = (
            f.books.ledger.clone(),
            f.claims.get(ClaimId::from_uuid(uuid(ORIGINAL))).cloned(),
        );
        let now = f.tick();
        let r = f.claims.build_replacement(
            &mut f.books,
            ClaimId::from_uuid(uuid(case.original)),
            draft(case.id, case.payer, case.control, &charges),
            &desk(),
            now,
        );
        assert_eq!(r, Err(case.expected), "{}", case.name);
        let after = (
            f.books.ledger.clone(),
            f.claims.get(ClaimId::from_uuid(uuid(ORIGINAL))).cloned(),
        );
        assert!(after == before, "{}", case.name);
    }
}

#[test]
fn replacement_control_number_of_another_claim_is_refused() {
    let (mut f, _) = fixture(&[Submitted]);
    let other = vec![f.charge(110, "99214", 1, 30)];
    let now = f.tick();
    let built = f
        .claims
        .build(&mut f.books, draft(60, PAYER, "BSD0009", &other), now);
    assert!(built.is_ok());
    let corrected = vec![f.charge(102, "99215", 1, VISIT)];
    assert_eq!(
        f.replace(ORIGINAL, 51, "BSD0009", &corrected),
        Err(ClaimError::Duplicate)
    );
}

#[test]
fn secondary_claim_cannot_be_replaced() {
    let (mut f, _) = fixture(&[Submitted]);
    let original = ClaimId::from_uuid(uuid(ORIGINAL));
    let usd = |m| Money::new(m, Currency::USD);
    let share = PatientShare {
        deductible: usd(5_000),
        ..PatientShare::zero(Currency::USD)
    };
    let adjudication = Adjudication {
        charge: usd(33_000),
        paid: usd(20_000),
        contractual: usd(8_000),
        other_adjustments: usd(0),
        patient: share,
        denied: false,
        reversal: false,
        lines: vec![],
    };
    let when = f.tick();
    assert_eq!(
        f.claims.record_adjudication(original, adjudication, when),
        Ok(Paid)
    );
    let secondary = f.claims.build_secondary(
        &mut f.books,
        original,
        draft(70, OTHER_PAYER, "BSD0001-2", &[]),
        &desk(),
        when,
    );
    assert!(secondary.is_ok(), "{secondary:?}");
    let visit = EncounterId::from_uuid(uuid(VISIT));
    assert_eq!(
        f.claims.for_encounter(visit).map(|c| c.id),
        Some(original),
        "the encounter's claim is the primary"
    );
    let corrected = vec![f.charge(102, "99215", 1, VISIT)];
    assert_eq!(
        f.replace(70, 51, "BSD0001-2", &corrected),
        Err(ClaimError::SecondaryNotReplaceable)
    );
}

#[test]
fn replaced_claim_matches_no_remittance_and_its_hold_is_voided() {
    let (mut f, _) = fixture(&[Submitted]);
    let original = ClaimId::from_uuid(uuid(ORIGINAL));
    let claim = f.claims.get(original).cloned();
    let Some(claim) = claim else { panic!("claim") };
    let now = f.tick();
    let hold = f.books.expect_payment(
        &claim,
        Money::new(20_000, Currency::USD),
        at("2026-03-01T00:00:00Z"),
        now,
    );
    assert!(hold.is_ok(), "{hold:?}");
    let corrected = vec![f.charge(102, "99215", 1, VISIT)];
    // A new control number: the old one then names only the replaced claim.
    assert!(f.replace(ORIGINAL, 51, "BSD0002", &corrected).is_ok());
    assert_eq!(f.claims.find("BSD0001"), None);
    assert_eq!(
        f.claims.find("BSD0002").map(|t| t.claim),
        Some(ClaimId::from_uuid(uuid(51)))
    );
    let pending = f
        .books
        .ledger
        .balance(f.books.clinic.cash)
        .map(|b| b.pending.amount_minor());
    assert_eq!(pending, Some(0));
    let now = f.tick();
    assert_eq!(
        f.claims.transition(original, Submitted, now),
        Err(ClaimError::InvalidTransition {
            from: Replaced,
            to: Submitted
        })
    );
}

#[test]
fn for_encounter_of_an_unbilled_visit_is_none() {
    let (f, _) = fixture(&[]);
    assert!(
        f.claims
            .for_encounter(EncounterId::from_uuid(uuid(999)))
            .is_none()
    );
}

#[test]
fn older_claims_decode_and_replaced_round_trips() {
    let (f, _) = fixture(&[Submitted]);
    let claim = f.claims.get(ClaimId::from_uuid(uuid(ORIGINAL))).cloned();
    let mut json = serde_json::to_value(&claim).unwrap_or_default();
    if let Some(o) = json.as_object_mut() {
        for field in ["replaces", "replaced_by", "frequency"] {
            assert!(o.remove(field).is_some(), "{field}");
        }
    }
    if let Some(lines) = json["lines"].as_array_mut() {
        for l in lines {
            if let Some(o) = l.as_object_mut() {
                o.remove("encounter");
            }
        }
    }
    let old: Option<Claim> = serde_json::from_value(json).ok();
    assert_eq!(
        old.as_ref()
            .map(|c| (c.replaces, c.replaced_by, c.frequency_code())),
        Some((None, None, '1'))
    );
    assert_eq!(old.map(|c| c.encounters()), Some(vec![]));
    assert_eq!(
        serde_json::to_string(&Replaced).ok(),
        Some(r#""replaced""#.into())
    );
    assert_eq!(
        serde_json::from_str::<ClaimStatus>(r#""replaced""#).ok(),
        Some(Replaced)
    );
    assert_eq!(Replaced.to_string(), "replaced");
}
