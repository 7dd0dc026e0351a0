//! Engine snapshots: stored as JSON and restored, the engine decides exactly as before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::{
    AccessChannel, Action, Consent, DataClass, Engine, EngineSnapshot, Policy, Provision,
    ProvisionType, ProxyGrant, Purpose, Relationship,
};
use bedside_core::{Actor, ConsentId, Period};
use common::*;
use uuid::Uuid;

fn consent_id(n: u128) -> ConsentId {
    ConsentId::from_uuid(Uuid::from_u128(500 + n))
}

fn busy_engine() -> Engine {
    let mut e = engine();
    let desk = Actor::system("desk");
    let research = Provision::new(ProvisionType::Permit).purpose(Purpose::Hresch);
    e.consents_mut()
        .add(
            Consent::new(consent_id(1), patient(), research),
            now(),
            &desk,
        )
        .unwrap();
    let deny_notes = Provision::new(ProvisionType::Deny).class(DataClass::ClinicalNotes);
    e.consents_mut()
        .add(
            Consent::new(consent_id(2), other_patient(), deny_notes),
            now(),
            &desk,
        )
        .unwrap();
    e.consents_mut()
        .revoke(consent_id(1), now() + chrono::TimeDelta::days(1), &desk)
        .unwrap();
    e.consents_mut()
        .stop(patient(), AccessChannel::Sms, consent_id(3), now(), &desk)
        .unwrap();
    e.add_proxy_grant(ProxyGrant {
        related_person: proxy_person(),
        patient: patient(),
        relationship: Relationship::AdultChild,
        classes: [DataClass::Appointments].into_iter().collect(),
        actions: [Action::Read].into_iter().collect(),
        period: Period::new(now(), now() + chrono::TimeDelta::days(30)).unwrap(),
    });
    e
}

#[test]
fn snapshot_round_trips_through_json_and_decides_the_same() {
    let before = busy_engine();
    let json = serde_json::to_string(&before.snapshot()).unwrap();
    let snapshot: EngineSnapshot = serde_json::from_str(&json).unwrap();
    let after = Engine::restore(Policy::from_json(POLICY).unwrap(), snapshot).unwrap();
    assert_eq!(after.snapshot(), before.snapshot());
    assert_eq!(after.consents().history(), before.consents().history());
    assert_eq!(after.care_team(patient()), before.care_team(patient()));
    let proxy = Actor::Proxy {
        patient: patient(),
        related_person: proxy_person(),
    };
    let asks = [
        request(
            doctor_in_team(),
            Action::Read,
            &[DataClass::LabResults],
            Purpose::Treat,
        ),
        request(
            doctor_outside(),
            Action::Read,
            &[DataClass::ClinicalNotes],
            Purpose::Treat,
        ),
        request(
            proxy,
            Action::Read,
            &[DataClass::Appointments],
            Purpose::Famrqt,
        ),
        request(
            Actor::system("research"),
            Action::Read,
            &[DataClass::Vitals],
            Purpose::Hresch,
        ),
    ];
    for ask in &asks {
        assert_eq!(after.decide(ask), before.decide(ask), "{ask:?}");
    }
}

#[test]
fn restore_refuses_duplicate_consent_ids() {
    let mut snapshot = busy_engine().snapshot();
    let first = snapshot.store.consents[0].clone();
    snapshot.store.consents.push(first);
    let last = snapshot.store.consents.len() - 1;
    let err = Engine::restore(Policy::from_json(POLICY).unwrap(), snapshot).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "consent is invalid at `consents[{last}].id`: a consent with this id is already stored"
        )
    );
}
