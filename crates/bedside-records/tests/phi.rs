//! `Debug` output of records never contains names, birth dates, identifiers, addresses or
//! telecom values.

mod proptest_strategies;

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::model::*;
use bedside_records::{PatientRegistry, fhir};
use proptest::prelude::*;
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
    let clock = Arc::new(ManualClock::new(
        "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
    ));
    let mut registry = PatientRegistry::new(clock.clone(), Arc::new(ids()));
    let mut p = Patient::from_fhir(RICH.as_bytes(), &ids())?.value;
    p.telecom[0].value = Some(bedside_core::Sensitive::new("Quayle-phone".into()));
    let err = registry
        .register(p, &bedside_core::Actor::system("test"), "Quayle asked")
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
    assert_eq!(err, "`$` is a `<unrecognised>`, expected `Patient`");
    let err = Patient::from_fhir(b"{\"name\": \"Quayle\" ", &ids())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("invalid JSON at line 1"), "{err}");
    assert!(!err.contains("Quayle"), "{err}");
}
