//! FHIR R4 Consent import and export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::fhir::{export, import};
use bedside_consent::{
    AccessChannel, Action, ActorRef, ConsentError, ConsentStatus, DataClass, Engine, Policy,
    ProvisionType, Purpose, SecurityLabel,
};
use bedside_core::Actor;

const PART2: &str = include_str!("data/Consent-part2-referral.json");

#[test]
fn round_trip_is_lossless_for_modelled_fields() {
    let imported = import(PART2.as_bytes()).unwrap();
    assert!(imported.dropped.is_empty(), "{:?}", imported.dropped);
    let c = &imported.consent;
    assert_eq!(c.status, ConsentStatus::Active);
    assert_eq!(c.provision.provisions.len(), 2);
    let part2 = &c.provision.provisions[0];
    assert!(part2.labels.contains(SecurityLabel::Eth));
    assert!(matches!(
        part2.actors[0].reference,
        ActorRef::Organisation(_)
    ));
    assert!(
        c.provision.provisions[1]
            .channels
            .contains(AccessChannel::Sms)
    );
    assert_eq!(c.provision.provisions[1].kind, Some(ProvisionType::Deny));
    let exported = export(c);
    let original: serde_json::Value = serde_json::from_str(PART2).unwrap();
    assert_eq!(exported, original);
    let again = import(exported.to_string().as_bytes()).unwrap();
    assert_eq!(&again.consent, c);
    insta::assert_json_snapshot!(exported);
}

#[test]
fn imported_consent_decides() {
    let c = import(PART2.as_bytes()).unwrap().consent;
    let rehab = match c.provision.provisions[0].actors[0].reference {
        ActorRef::Organisation(o) => o,
        _ => unreachable!("checked above"),
    };
    let mut engine = Engine::new(Policy::from_json(common::POLICY).unwrap());
    let patient = c.patient;
    engine
        .consents_mut()
        .add(c, common::now(), &Actor::system("import"))
        .unwrap();
    let mut r = common::request(
        Actor::External {
            organisation: rehab,
        },
        Action::Disclose,
        &[DataClass::ClinicalNotes],
        Purpose::Treat,
    );
    r.patient = patient;
    r.data = r.data.labelled(SecurityLabel::Eth);
    assert!(engine.decide(&r).is_permit());
}

#[test]
fn rejects_with_paths() {
    let cases = [
        ("{", "$"),
        (r#"{"resourceType":"Patient"}"#, "resourceType"),
        (
            r#"{"resourceType":"Consent","id":"x","status":"active","patient":{"reference":"Patient/1"},"provision":{"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"NOPE"}]}}"#,
            "provision.purpose[0]",
        ),
        (
            r#"{"resourceType":"Consent","id":"x","status":"active","patient":{"reference":"Patient/1"},"provision":{"provision":[{"type":"maybe"}]}}"#,
            "provision.provision[0].type",
        ),
        (
            r#"{"resourceType":"Consent","id":"x","status":"active"}"#,
            "patient",
        ),
        (
            r#"{"resourceType":"Consent","id":"x","status":"done","patient":{"reference":"Patient/1"}}"#,
            "status",
        ),
    ];
    for (json, want) in cases {
        match import(json.as_bytes()) {
            Err(ConsentError::Fhir { path, .. }) => assert_eq!(path, want, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
}
