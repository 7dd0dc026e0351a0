//! Shared fixtures for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use bedside_consent::{Action, CareTeam, DataClass, Engine, Policy, Purpose, Request};
use bedside_core::{
    Actor, OrganisationId, PatientId, ProviderId, RelatedPersonId, Role, Staff, StaffId, Timestamp,
};
use uuid::Uuid;

pub const POLICY: &str = include_str!("../data/clinic-policy.json");

pub fn now() -> Timestamp {
    "2026-06-10T09:00:00Z".parse().unwrap()
}

pub fn patient() -> PatientId {
    PatientId::from_uuid(Uuid::from_u128(1))
}

pub fn other_patient() -> PatientId {
    PatientId::from_uuid(Uuid::from_u128(2))
}

pub fn clinic() -> OrganisationId {
    OrganisationId::from_uuid(Uuid::from_u128(100))
}

pub fn hospital() -> OrganisationId {
    OrganisationId::from_uuid(Uuid::from_u128(101))
}

pub fn lab_org() -> OrganisationId {
    OrganisationId::from_uuid(Uuid::from_u128(102))
}

pub fn staff(n: u128, role: &str) -> Actor {
    Actor::Staff(Staff {
        id: StaffId::from_uuid(Uuid::from_u128(1000 + n)),
        roles: vec![Role::new(role).unwrap()],
        organisation: clinic(),
        provider: Some(ProviderId::from_uuid(Uuid::from_u128(2000 + n))),
    })
}

/// Dr 1 is in the patient's care team; Dr 2 is not.
pub fn doctor_in_team() -> Actor {
    staff(1, "clinician")
}

pub fn doctor_outside() -> Actor {
    staff(2, "clinician")
}

pub fn proxy_person() -> RelatedPersonId {
    RelatedPersonId::from_uuid(Uuid::from_u128(300))
}

pub fn engine() -> Engine {
    let mut e = Engine::new(Policy::from_json(POLICY).unwrap());
    e.set_care_team(
        patient(),
        CareTeam {
            staff: vec![],
            providers: vec![ProviderId::from_uuid(Uuid::from_u128(2001))],
        },
    );
    e
}

pub fn request(actor: Actor, action: Action, classes: &[DataClass], purpose: Purpose) -> Request {
    Request::new(actor, patient(), action, purpose, now()).classes(classes.iter().copied())
}
