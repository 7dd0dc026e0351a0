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
    assert!(imported.unmodelled.is_empty(), "{:?}", imported.unmodelled);
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

const NARRATIVE: &str = include_str!("data/Consent-narrative-extensions.json");

/// The names, numbers and free text in `Consent-narrative-extensions.json`.
const PHI: [&str; 8] = [
    "Zora",
    "Quillfeather",
    "Orrin",
    "Blackwood",
    "07700",
    "Lakeside",
    "Riverside",
    "CNS-4471",
];

fn parsed(json: &str) -> serde_json::Value {
    serde_json::from_str(json).unwrap()
}

#[test]
fn round_trip_keeps_narrative_extensions_and_unknown_elements() {
    let imported = import(NARRATIVE.as_bytes()).unwrap();
    let exported = export(&imported.consent);
    // Exact: member order aside (serde_json compares objects as maps), every element and value.
    assert_eq!(exported, parsed(NARRATIVE));
    // And again from the export.
    let again = import(exported.to_string().as_bytes()).unwrap();
    assert_eq!(export(&again.consent), parsed(NARRATIVE));
    assert_eq!(again.consent, imported.consent);
    // The model itself was read: the unmodelled parts did not stop it.
    let c = &imported.consent;
    let notes = &c.provision.provisions[0];
    assert!(notes.labels.contains(SecurityLabel::Psy));
    assert!(notes.purposes.contains(Purpose::Hoperat));
    assert!(
        c.provision.provisions[1]
            .channels
            .contains(AccessChannel::Sms)
    );
}

#[test]
fn unmodelled_paths_are_reported() {
    let imported = import(NARRATIVE.as_bytes()).unwrap();
    let want = [
        "meta",
        "text",
        "extension",
        "identifier",
        "scope.text",
        "category[0].coding[0].userSelected",
        "patient.display",
        "patient.type",
        "performer",
        "organization[0].display",
        "sourceAttachment",
        "verification",
        "futureElement",
        "provision.provision[0].actor[0].reference.display",
        "provision.provision[0].action[0].text",
        "provision.provision[0].code",
        "provision.provision[0].modifierNote",
        "provision.provision[1].extension[1]",
    ];
    let mut got = imported.unmodelled.clone();
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn debug_of_an_imported_consent_shows_no_narrative_or_names() {
    let imported = import(NARRATIVE.as_bytes()).unwrap();
    for out in [
        format!("{:?}", imported.consent),
        format!("{:#?}", imported.consent),
        format!("{imported:?}"),
    ] {
        for phi in PHI {
            assert!(!out.contains(phi), "`{phi}` in {out}");
        }
        assert!(!out.contains("xhtml"), "narrative in {out}");
        assert!(out.contains(bedside_core::REDACTED), "{out}");
    }
}

#[test]
fn import_errors_show_no_narrative_or_names() {
    // The same resource with one unsupported purpose: the error names the path only.
    let bad = NARRATIVE.replace("\"HOPERAT\"", "\"NOPE\"");
    let e = import(bad.as_bytes()).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("provision.provision[0].purpose[1]"), "{text}");
    for phi in PHI {
        assert!(!text.contains(phi), "`{phi}` in {text}");
    }
}

#[test]
fn export_writes_model_changes_and_keeps_unmodelled_elements() {
    let mut c = import(NARRATIVE.as_bytes()).unwrap().consent;
    // Revoke, and drop the marketing exception.
    c.status = ConsentStatus::Inactive;
    c.provision.provisions.pop();
    let out = export(&c);
    let mut want = parsed(NARRATIVE);
    want["status"] = "inactive".into();
    want["provision"]["provision"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    assert_eq!(out, want);

    // A new exception is written from the model, next to the kept ones.
    let mut c = import(NARRATIVE.as_bytes()).unwrap().consent;
    c.provision.provisions[0].purposes.insert(Purpose::Hpaymt);
    let out = export(&c);
    let notes = &out["provision"]["provision"][0];
    assert_eq!(notes["modifierNote"], "unknown element inside a provision");
    assert_eq!(notes["code"][0]["text"], "Consult note");
    let codes: Vec<&str> = notes["purpose"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"HPAYMT"), "{codes:?}");
    assert_eq!(out["text"], parsed(NARRATIVE)["text"]);
    let back = import(out.to_string().as_bytes()).unwrap().consent;
    assert!(
        back.provision.provisions[0]
            .purposes
            .contains(Purpose::Hpaymt)
    );
}

#[test]
fn consent_built_in_code_exports_the_model_alone() {
    let mut c = import(NARRATIVE.as_bytes()).unwrap().consent;
    if let Some(f) = c.fhir.as_deref_mut() {
        f.source = None;
    }
    let out = export(&c);
    for key in [
        "text",
        "meta",
        "extension",
        "futureElement",
        "sourceAttachment",
    ] {
        assert!(out.get(key).is_none(), "{key}");
    }
    assert!(out["patient"].get("display").is_none());
    assert_eq!(
        import(out.to_string().as_bytes())
            .unwrap()
            .consent
            .provision,
        c.provision
    );
}

/// Imports the narrative fixture, applies `change` to the model, exports, and compares with the
/// fixture after `expect` edits it.
fn check_change(
    change: impl FnOnce(&mut bedside_consent::Consent),
    expect: impl FnOnce(&mut serde_json::Value),
) {
    let mut c = import(NARRATIVE.as_bytes()).unwrap().consent;
    change(&mut c);
    let out = export(&c);
    let mut want = parsed(NARRATIVE);
    expect(&mut want);
    assert_eq!(out, want);
    // What was written reads back as the changed model.
    let back = import(out.to_string().as_bytes()).unwrap().consent;
    assert_eq!(back.provision, c.provision);
    assert_eq!(back.status, c.status);
    assert_eq!(back.patient, c.patient);
}

#[test]
fn model_changes_merge_into_the_kept_resource() {
    // A channel removed: the unknown extension beside it stays.
    check_change(
        |c| c.provision.provisions[1].channels = Default::default(),
        |w| {
            let ext = &mut w["provision"]["provision"][1]["extension"];
            let kept = ext[1].clone();
            *ext = serde_json::json!([kept]);
        },
    );
    // A label removed from a set the source lists in another order: the other keeps its spelling.
    check_change(
        |c| {
            c.provision.provisions[0].labels = Default::default();
        },
        |w| {
            let labels = &mut w["provision"]["provision"][0]["securityLabel"];
            let confidentiality = labels[0].clone();
            *labels = serde_json::json!([confidentiality]);
        },
    );
    // An actor's role changed: the role is written from the model, the reference (and its
    // display) is kept.
    check_change(
        |c| {
            c.provision.provisions[0].actors[0].role = Some(Box::new(bedside_core::Coding::new(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "IRCP",
            )));
        },
        |w| {
            w["provision"]["provision"][0]["actor"][0]["role"]["coding"][0]["code"] = "IRCP".into();
        },
    );
    // Another patient: the old display name must not follow the new reference.
    let other = bedside_core::PatientId::from_uuid(uuid_of(7));
    check_change(
        |c| c.patient = other,
        |w| w["patient"] = serde_json::json!({ "reference": format!("Patient/{other}") }),
    );
    // A channel added where the source had no extension.
    check_change(
        |c| {
            c.provision.provisions[0]
                .channels
                .insert(AccessChannel::Portal)
        },
        |w| {
            w["provision"]["provision"][0]["extension"] = serde_json::json!([{
                "url": bedside_consent::fhir::CHANNEL_EXTENSION,
                "valueCode": AccessChannel::Portal.code(),
            }]);
        },
    );
}

fn uuid_of(n: u8) -> uuid::Uuid {
    uuid::Uuid::from_bytes([n; 16])
}
