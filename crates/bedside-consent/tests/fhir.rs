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
    const HEAD: &str = r#""resourceType":"Consent","id":"x","status":"active","patient":{"reference":"Patient/1"}"#;
    let cases = [
        ("{".to_string(), ""),
        (r#"{"resourceType":"Patient"}"#.to_string(), "Consent.resourceType"),
        (
            format!(r#"{{{HEAD},"provision":{{"purpose":[{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"NOPE"}}]}}}}"#),
            "Consent.provision.purpose[0]",
        ),
        (
            format!(r#"{{{HEAD},"provision":{{"provision":[{{"type":"maybe"}}]}}}}"#),
            "Consent.provision.provision[0].type",
        ),
        (
            r#"{"resourceType":"Consent","id":"x","status":"active"}"#.to_string(),
            "Consent.patient",
        ),
        (
            r#"{"resourceType":"Consent","id":"x","status":"done","patient":{"reference":"Patient/1"}}"#.to_string(),
            "Consent.status",
        ),
        // Dates whose inclusive-to-exclusive step cannot be represented: the invalid-date
        // error, never a panic (issue 19).
        (
            r#"{"resourceType":"Consent","provision":{"period":{"end":"+262142-12-31"}}}"#.to_string(),
            "Consent.provision.period.end",
        ),
        (
            r#"{"resourceType":"Consent","provision":{"dataPeriod":{"end":"+262142-12-31"}}}"#.to_string(),
            "Consent.provision.dataPeriod.end",
        ),
        (
            r#"{"resourceType":"Consent","provision":{"provision":[{"provision":[{"period":{"end":"+262142-12-31"}}]}]}}"#.to_string(),
            "Consent.provision.provision[0].provision[0].period.end",
        ),
        (
            r#"{"resourceType":"Consent","provision":{"period":{"start":"-262143-01-01"}}}"#.to_string(),
            "Consent.provision.period.start",
        ),
        (
            format!(r#"{{{HEAD},"provision":{{"dataPeriod":{{"start":"2026-06-03T10:00:00+99:00"}}}}}}"#),
            "Consent.provision.dataPeriod.start",
        ),
        (
            format!(r#"{{{HEAD},"provision":{{"period":{{"start":"2026-06-03","end":"2026-06-01"}}}}}}"#),
            "Consent.provision.period",
        ),
    ];
    for (json, want) in cases {
        match import(json.as_bytes()) {
            Err(ConsentError::Fhir(e)) => {
                assert_eq!(e.path.to_string(), want, "{json}");
                assert!(
                    e.problem
                        == bedside_fhir::Problem::Invalid {
                            expected: "a FHIR date or dateTime"
                        }
                        || !want.contains("eriod."),
                    "{json}: {e}"
                );
            }
            other => panic!("{json}: {other:?}"),
        }
    }
}

#[test]
fn the_last_representable_dates_import() {
    for end in ["9999-12-31", "9999-12", "9999"] {
        let json = format!(
            r#"{{"resourceType":"Consent","id":"x","status":"active","patient":{{"reference":"Patient/1"}},"provision":{{"period":{{"end":"{end}"}},"dataPeriod":{{"end":"{end}"}}}}}}"#
        );
        let imported = import(json.as_bytes()).unwrap();
        let again = import(export(&imported.consent).to_string().as_bytes()).unwrap();
        assert_eq!(again.consent, imported.consent, "{end}");
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

/// A consent naming a resource type, a MIME type and the label `SPI`, none of which the engine
/// knows: kept, round-tripped, and matched against requests naming the same codes.
#[test]
fn open_classes_and_labels_are_kept_and_usable() {
    let json = r#"{"resourceType":"Consent","id":"open","status":"active",
      "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
      "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
      "patient":{"reference":"Patient/00000000-0000-0000-0000-000000000001"},
      "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
      "provision":{"type":"permit","provision":[
        {"type":"deny","class":[{"system":"http://hl7.org/fhir/resource-types","code":"MedicationRequest"},
                                {"system":"urn:ietf:bcp:13","code":"application/hl7-cda+xml"}]},
        {"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SPI"}]}]}}"#;
    let imported = import(json.as_bytes()).unwrap();
    let exported = export(&imported.consent);
    assert!(bedside_fhir::semantic_diff(&parsed(json), &exported).is_empty());
    let again = import(exported.to_string().as_bytes()).unwrap();
    assert_eq!(again.consent, imported.consent);
    // And written from the model alone, with the systems of their kinds.
    let mut model = imported.consent.clone();
    model.fhir = None;
    let written = export(&model);
    assert_eq!(
        written["provision"]["provision"][0]["class"],
        parsed(
            r#"[{"system":"http://hl7.org/fhir/resource-types","code":"MedicationRequest"},
                {"system":"urn:ietf:bcp:13","code":"application/hl7-cda+xml"}]"#
        )
    );
    assert_eq!(
        import(written.to_string().as_bytes())
            .unwrap()
            .consent
            .provision,
        model.provision
    );

    let mut engine = Engine::new(
        Policy::from_json(
            r#"{"rules":[{"id":"all","effect":"permit",
        "actors":["staff"],"classes":["MedicationRequest","application/hl7-cda+xml","vitals"]}]}"#,
        )
        .unwrap(),
    );
    engine
        .consents_mut()
        .add(imported.consent, common::now(), &Actor::system("import"))
        .unwrap();
    let med = DataClass::open("MedicationRequest").unwrap();
    let cda = DataClass::open("application/hl7-cda+xml").unwrap();
    let spi = SecurityLabel::open("SPI").unwrap();
    let ask = |classes: &[DataClass]| {
        common::request(
            common::doctor_in_team(),
            Action::Read,
            classes,
            Purpose::Treat,
        )
    };
    // The unknown classes in a deny provision deny; the rest is permitted.
    assert!(!engine.decide(&ask(&[med])).is_permit());
    assert!(!engine.decide(&ask(&[cda])).is_permit());
    assert!(engine.decide(&ask(&[DataClass::Vitals])).is_permit());
    let d = engine.decide(&ask(&[DataClass::Vitals, med]));
    assert_eq!(d.permitted, DataClass::Vitals.into());
    // The unknown label denies data carrying it.
    let mut labelled = ask(&[DataClass::Vitals]);
    labelled.data = labelled.data.labelled(spi);
    assert!(!engine.decide(&labelled).is_permit());
}

/// Consents built only through the public API export every element R4 requires.
#[test]
fn consents_built_from_scratch_carry_scope_category_policy_and_roles() {
    use bedside_consent::{Consent, ConsentStore, Provision};
    use bedside_core::ConsentId;
    use uuid::Uuid;
    let id = |n| ConsentId::from_uuid(Uuid::from_u128(n));
    let permit = Consent::new(
        id(1),
        common::patient(),
        Provision::new(ProvisionType::Permit)
            .actor(ActorRef::Organisation(common::hospital()))
            .purpose(Purpose::Treat),
    );
    let mut store = ConsentStore::new();
    store
        .stop(
            common::patient(),
            AccessChannel::Sms,
            id(2),
            common::now(),
            &Actor::system("sms"),
        )
        .unwrap();
    let stop = store.get(id(2)).unwrap().clone();
    for (consent, scope, rule) in [
        (&permit, "treatment", "OPTIN"),
        (&stop, "patient-privacy", "OPTOUT"),
    ] {
        let out = export(consent);
        assert_eq!(out["scope"]["coding"][0]["code"], scope);
        assert_eq!(out["category"][0]["coding"][0]["code"], "59284-0");
        assert_eq!(out["policyRule"]["coding"][0]["code"], rule);
        for actor in out["provision"]["actor"].as_array().into_iter().flatten() {
            assert!(actor["role"]["coding"][0]["code"].is_string(), "{out}");
        }
        let again = import(out.to_string().as_bytes()).unwrap().consent;
        assert_eq!(again.provision, consent.provision);
        assert_eq!(again.default_type, consent.default_type);
    }
}

/// A PHI-like string in every position of the wrong type never reaches the error.
#[test]
fn errors_never_carry_input_text() {
    const PHI_TEXT: &str = "Ada Lovelace 1985-12-10 MRN-4471";
    let base = parsed(PART2);
    let phi = serde_json::Value::String(PHI_TEXT.into());
    let mut paths: Vec<Vec<String>> = Vec::new();
    fn walk(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, c) in m {
                    at.push(k.clone());
                    out.push(at.clone());
                    walk(c, at, out);
                    at.pop();
                }
            }
            serde_json::Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    at.push(i.to_string());
                    out.push(at.clone());
                    walk(c, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    walk(&base, &mut Vec::new(), &mut paths);
    let hostile = [
        phi.clone(),
        serde_json::json!([PHI_TEXT]),
        serde_json::json!({ "reference": PHI_TEXT, "code": PHI_TEXT, PHI_TEXT: PHI_TEXT }),
        serde_json::json!(19851210),
        serde_json::json!(true),
    ];
    let mut errors = 0;
    for path in &paths {
        for value in &hostile {
            let mut doc = base.clone();
            let mut slot = &mut doc;
            for step in path {
                slot = match step.parse::<usize>() {
                    Ok(i) if slot.is_array() => &mut slot[i],
                    _ => &mut slot[step.as_str()],
                };
            }
            *slot = value.clone();
            if let Err(e) = import(doc.to_string().as_bytes()) {
                errors += 1;
                let shown = format!("{e} {e:?}");
                for part in ["Ada", "Lovelace", "1985", "4471"] {
                    assert!(!shown.contains(part), "{path:?}: {shown}");
                }
            }
        }
    }
    assert!(
        errors > 50,
        "only {errors} errors: the hostile values did not reach the reader"
    );
    // Not JSON, with PHI in it.
    let e = import(format!("{{\"resourceType\": \"Consent\", \"id\": \"{PHI_TEXT}").as_bytes())
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("Ada"));
}
