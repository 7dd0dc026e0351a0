//! Data-driven tests of the minimum-necessary table in `tests/data/clinic-policy.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::{Action, DataClass, Effect, Obligation, Purpose, Source};
use common::*;

/// (actor, action, purpose, class, expected effect, deciding rule or "-" for no permit)
fn check(
    actor: bedside_core::Actor,
    action: Action,
    purpose: Purpose,
    class: DataClass,
    expected: Effect,
    deciding: &str,
) {
    let e = engine();
    let d = e.decide(&request(actor.clone(), action, &[class], purpose));
    let got = match d.explanation.deciding().map(|a| &a.source) {
        Some(Source::Rule { id }) => id.to_string(),
        Some(other) => other.to_string(),
        None => "-".to_owned(),
    };
    assert_eq!(
        (d.effect, got.as_str()),
        (expected, deciding),
        "{} {action} {purpose} {class}\n{}",
        actor.label(),
        d.explanation
    );
    assert_eq!(d.explanation.replay().effect, d.effect);
}

#[test]
fn minimum_necessary_table() {
    use Action::*;
    use DataClass::*;
    use Effect::*;
    use Purpose::*;
    let sched = || staff(10, "scheduler");
    let recep = || staff(11, "reception");
    let bill = || staff(12, "billing");
    let nurse_outside = || staff(13, "nurse");
    let cases = [
        (sched(), Read, Hoperat, Demographics, Permit, "front-desk"),
        (
            sched(),
            Read,
            Hoperat,
            DataClass::Contact,
            Permit,
            "front-desk",
        ),
        (sched(), Update, Hoperat, Appointments, Permit, "front-desk"),
        (recep(), Read, Treat, Appointments, Permit, "front-desk"),
        (sched(), Read, Hoperat, LabResults, Deny, "-"),
        (sched(), Read, Hoperat, Coverage, Deny, "-"),
        (sched(), Read, Hpaymt, Demographics, Deny, "-"),
        (bill(), Read, Hpaymt, Coverage, Permit, "billing-office"),
        (bill(), Update, Hpaymt, Billing, Permit, "billing-office"),
        (bill(), Read, Hpaymt, ClinicalNotes, Deny, "-"),
        (bill(), Read, Treat, Billing, Deny, "-"),
        (
            doctor_in_team(),
            Read,
            Treat,
            LabResults,
            Permit,
            "care-team",
        ),
        (
            doctor_in_team(),
            Update,
            Treat,
            ClinicalNotes,
            Permit,
            "care-team",
        ),
        (doctor_in_team(), Read, Treat, Billing, Deny, "-"),
        (doctor_in_team(), Read, Hpaymt, LabResults, Deny, "-"),
        (doctor_outside(), Read, Treat, LabResults, Deny, "-"),
        (nurse_outside(), Read, Treat, Vitals, Deny, "-"),
        (doctor_in_team(), Disclose, Treat, LabResults, Deny, "-"),
    ];
    for (actor, action, purpose, class, effect, deciding) in cases {
        check(actor, action, purpose, class, effect, deciding);
    }
}

#[test]
fn patient_right_of_access_only_to_own_record() {
    let e = engine();
    let mut r = request(
        bedside_core::Actor::Patient { patient: patient() },
        Action::Read,
        &[DataClass::LabResults],
        Purpose::Patrqt,
    );
    assert!(e.decide(&r).is_permit());
    r.actor = bedside_core::Actor::Patient {
        patient: other_patient(),
    };
    assert!(!e.decide(&r).is_permit());
}

#[test]
fn mixed_request_is_restricted_to_permitted_classes_with_mask() {
    let e = engine();
    let r = request(
        staff(10, "scheduler"),
        Action::Read,
        &[DataClass::Demographics, DataClass::LabResults],
        Purpose::Hoperat,
    );
    let d = e.decide(&r);
    assert!(d.is_permit());
    assert_eq!(d.permitted, DataClass::Demographics.into());
    assert!(d.obligations.contains(&Obligation::RestrictToClasses(
        DataClass::Demographics.into()
    )));
    assert!(
        d.obligations
            .iter()
            .any(|o| matches!(o, Obligation::Mask { keep_last: 4, .. }))
    );
}

#[test]
fn disclosures_carry_log_obligation() {
    let e = engine();
    let r = request(
        bedside_core::Actor::External {
            organisation: hospital(),
        },
        Action::Disclose,
        &[DataClass::LabResults],
        Purpose::Treat,
    );
    let d = e.decide(&r);
    assert!(d.is_permit());
    assert!(d.obligations.contains(&Obligation::LogDisclosure));
}
