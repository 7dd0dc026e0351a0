//! `Debug` output of records never contains names, birth dates, identifiers, addresses or
//! telecom values.

mod proptest_strategies;

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::model::*;
use bedside_records::{PatientRegistry, fhir};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

const RICH: &str = include_str!("data/patient-rich.json");

fn ids() -> SeededIdGenerator {
    SeededIdGenerator::new(
        Arc::new(ManualClock::new(
            "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
        )),
        1,
    )
}

/// Every PHI string in the rich fixture.
const SECRETS: [&str; 16] = [
    "Quayle",
    "Morgan",
    "Ellis",
    "Hart",
    "1979",
    "MRN-0042",
    "9434765919",
    "Riverside",
    "Mill Lane",
    "Leeds",
    "LS1 4AP",
    "7700900123",
    "morgan@",
    "7700900999",
    "Sam",
    "teal",
];

#[test]
fn debug_of_an_imported_patient_has_no_phi() -> Result<(), bedside_records::FhirError> {
    let p = Patient::from_fhir(RICH.as_bytes(), &ids())?.value;
    for out in [format!("{p:?}"), format!("{p:#?}")] {
        for secret in SECRETS {
            assert!(!out.contains(secret), "`{secret}` leaked");
        }
        assert!(out.contains("<redacted>"));
    }
    Ok(())
}

#[test]
fn debug_of_bundles_registries_and_errors_has_no_phi() -> Result<(), bedside_records::FhirError> {
    let imported = fhir::import(RICH.as_bytes(), &ids())?;
    let debug = format!("{imported:?}");
    for secret in SECRETS {
        assert!(!debug.contains(secret), "`{secret}` leaked");
    }
    let at: bedside_core::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    let mut registry = PatientRegistry::new(Arc::new(ids()));
    let mut p = Patient::from_fhir(RICH.as_bytes(), &ids())?.value;
    p.telecom[0].value = Some(bedside_core::Sensitive::new("Quayle-phone".into()));
    let err = registry
        .register(p, &bedside_core::Actor::system("test"), "Quayle asked", at)
        .err()
        .map(|e| format!("{e} {e:?}"))
        .unwrap_or_default();
    assert!(err.contains("PhoneNotE164"), "{err}");
    assert!(!err.contains("Quayle"), "{err}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn debug_never_shows_generated_values(p in proptest_strategies::patient()) {
        let debug = format!("{p:?}");
        let mut secrets: Vec<String> = Vec::new();
        for n in &p.names {
            secrets.extend(n.family.iter().map(|s| s.expose().clone()));
            secrets.extend(n.given.iter().map(|s| s.expose().clone()));
        }
        secrets.extend(p.identifiers.iter().filter_map(|i| i.value.as_ref()).map(|v| v.expose().clone()));
        secrets.extend(p.telecom.iter().filter_map(|t| t.value.as_ref()).map(|v| v.expose().clone()));
        for a in &p.addresses {
            secrets.extend(a.lines.iter().map(|s| s.expose().clone()));
            secrets.extend(a.postal_code.iter().map(|s| s.expose().clone()));
        }
        if let Some(b) = &p.birth_date {
            secrets.push(b.expose().to_string());
        }
        // Short values (one or two letters) can occur by chance in field names.
        for s in secrets.iter().filter(|s| s.len() >= 5) {
            prop_assert!(!debug.contains(s.as_str()), "leaked a value");
        }
    }
}

#[test]
fn debug_of_a_clinical_entry_hides_its_content() -> Result<(), bedside_records::FhirError> {
    let input = r#"{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
        "code": {"text": "Burnt left ear at work"},
        "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}}"#;
    let entry = bedside_records::ClinicalEntry::from_fhir(input.as_bytes(), &ids())?.value;
    let debug = format!("{entry:?}");
    assert!(!debug.contains("Burnt"), "{debug}");
    assert!(
        debug.contains("Condition") && debug.contains("PSY"),
        "{debug}"
    );
    Ok(())
}

#[test]
fn errors_do_not_echo_input_text() {
    let err = Patient::from_fhir(br#"{"resourceType": "Mrs Jane Quayle"}"#, &ids())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(err, "`resourceType`: expected resourceType `Patient`");
    let err = Patient::from_fhir(b"{\"name\": \"Quayle\" ", &ids())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("``: not JSON (line 1"), "{err}");
    assert!(!err.contains("Quayle"), "{err}");
}

const PHI: &str = "Ada Lovelace 1985-12-10 MRN-4471";

/// Every element the importers model, per resource type (nested ones by their parent).
const ELEMENTS: &[(&str, &[&str])] = &[
    (
        "Patient",
        &[
            "id",
            "extension",
            "active",
            "identifier",
            "name",
            "telecom",
            "gender",
            "birthDate",
            "deceasedBoolean",
            "deceasedDateTime",
            "maritalStatus",
            "multipleBirthBoolean",
            "multipleBirthInteger",
            "address",
            "contact",
            "communication",
            "generalPractitioner",
            "managingOrganization",
            "link",
            "resourceType",
        ],
    ),
    (
        "RelatedPerson",
        &[
            "id",
            "extension",
            "active",
            "patient",
            "relationship",
            "name",
            "telecom",
            "gender",
            "birthDate",
            "address",
            "period",
            "resourceType",
        ],
    ),
    (
        "Coverage",
        &[
            "id",
            "identifier",
            "status",
            "type",
            "policyHolder",
            "subscriber",
            "subscriberId",
            "beneficiary",
            "dependent",
            "relationship",
            "period",
            "payor",
            "class",
            "order",
            "network",
            "resourceType",
        ],
    ),
    (
        "AllergyIntolerance",
        &[
            "id",
            "meta",
            "patient",
            "clinicalStatus",
            "verificationStatus",
            "type",
            "category",
            "criticality",
            "code",
            "onsetDateTime",
            "recordedDate",
            "reaction",
            "resourceType",
        ],
    ),
    (
        "Condition",
        &[
            "id",
            "meta",
            "subject",
            "clinicalStatus",
            "verificationStatus",
            "category",
            "severity",
            "code",
            "encounter",
            "onsetDateTime",
            "abatementDateTime",
            "recordedDate",
            "resourceType",
        ],
    ),
    (
        "Encounter",
        &[
            "id",
            "meta",
            "extension",
            "subject",
            "status",
            "class",
            "type",
            "participant",
            "period",
            "reasonCode",
            "hospitalization",
            "serviceProvider",
            "resourceType",
        ],
    ),
    (
        "MedicationStatement",
        &[
            "id",
            "meta",
            "subject",
            "status",
            "medicationCodeableConcept",
            "effectivePeriod",
            "dosage",
            "resourceType",
        ],
    ),
    (
        "DocumentReference",
        &[
            "id",
            "meta",
            "subject",
            "status",
            "type",
            "description",
            "date",
            "content",
            "resourceType",
        ],
    ),
    ("Bundle", &["id", "type", "entry", "resourceType"]),
];

/// Nested elements: (parent, child) pairs, each given a wrongly typed child.
const NESTED: &[(&str, &str)] = &[
    ("name", "family"),
    ("name", "given"),
    ("telecom", "value"),
    ("telecom", "rank"),
    ("address", "line"),
    ("identifier", "value"),
    ("identifier", "period"),
    ("patient", "reference"),
    ("subject", "reference"),
    ("period", "start"),
    ("reaction", "severity"),
    ("participant", "individual"),
    ("content", "attachment"),
    ("entry", "resource"),
    ("entry", "fullUrl"),
    ("entry", "request"),
];

/// The PHI string in every JSON shape, so each element gets a wrong type somewhere.
fn shapes() -> Vec<Value> {
    vec![
        json!(PHI),
        json!([PHI]),
        json!({"value": PHI, PHI: PHI}),
        json!([{"reference": PHI, PHI: [PHI]}]),
        json!(19851210),
        json!(true),
        json!(null),
        json!({"resourceType": PHI}),
        json!([{"resourceType": PHI, "id": PHI}]),
    ]
}

fn assert_clean(input: &Value) {
    let text = input.to_string();
    for result in [
        fhir::import(text.as_bytes(), &ids()).map(|_| ()),
        Patient::from_fhir(text.as_bytes(), &ids()).map(|_| ()),
        bedside_records::ClinicalEntry::from_fhir(text.as_bytes(), &ids()).map(|_| ()),
        fhir::Bundle::from_fhir(text.as_bytes(), &ids()).map(|_| ()),
    ] {
        if let Err(e) = result {
            for shown in [e.to_string(), format!("{e:?}")] {
                for part in ["Ada", "Lovelace", "1985", "4471"] {
                    assert!(!shown.contains(part), "{shown} from {text}");
                }
            }
        }
    }
}

#[test]
fn phi_in_every_wrongly_typed_position_never_reaches_an_error() {
    let subject = json!({"reference": "Patient/1"});
    for (resource_type, elements) in ELEMENTS {
        for element in *elements {
            for shape in shapes() {
                for with_subject in [false, true] {
                    let mut resource = json!({"resourceType": resource_type});
                    if with_subject {
                        resource["subject"] = subject.clone();
                        resource["patient"] = subject.clone();
                    }
                    resource[*element] = shape.clone();
                    assert_clean(&resource);
                    // Inside a bundle entry too.
                    assert_clean(
                        &json!({"resourceType": "Bundle", "entry": [{"resource": resource}]}),
                    );
                }
            }
        }
        for (parent, child) in NESTED {
            for shape in shapes() {
                let mut inner = json!({});
                inner[*child] = shape;
                for parent_value in [inner.clone(), json!([inner])] {
                    let mut resource = json!({"resourceType": resource_type});
                    resource[*parent] = parent_value;
                    assert_clean(&resource);
                }
            }
        }
    }
    // Not JSON, with PHI around the error position.
    for text in [
        format!("{{\"name\": \"{PHI}"),
        format!("{{\"{PHI}\": 1,"),
        format!("[\"{PHI}\"]"),
        PHI.to_string(),
    ] {
        let e = fhir::import(text.as_bytes(), &ids())
            .err()
            .map(|e| format!("{e} {e:?}"));
        assert!(e.as_deref().is_some_and(|e| !e.contains("Ada")), "{e:?}");
    }
}
