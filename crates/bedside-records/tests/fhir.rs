//! FHIR R4 JSON import/export: field mapping, preservation of unknown content, bundles,
//! snapshots of exported JSON, and export∘import identity on generated records.

mod proptest_strategies;

use bedside_core::{
    Channel, CodeableConcept, Coding, ManualClock, PartialDate, PatientId, SeededIdGenerator,
    Sensitive,
};
use bedside_fhir::ElementPath;
use bedside_records::fhir::{self, Bundle, Resource, RoundTrip, semantic_diff};
use bedside_records::model::*;
use bedside_records::{ClinicalEntry, ClinicalKind, Confidentiality, FhirError};
use proptest::prelude::*;
use std::sync::Arc;

fn ids() -> SeededIdGenerator {
    SeededIdGenerator::new(
        Arc::new(ManualClock::new(
            "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
        )),
        11,
    )
}

const RICH: &str = include_str!("data/patient-rich.json");
const BUNDLE: &str = include_str!("data/bundle-small.json");

#[test]
fn rich_patient_maps_modelled_fields() -> Result<(), FhirError> {
    let imported = Patient::from_fhir(RICH.as_bytes(), &ids())?;
    let p = &imported.value;
    assert_eq!(p.logical_id, LogicalId::Other("rich-1".into()));
    assert_eq!(p.active, Some(true));
    assert_eq!(p.identifiers.len(), 2);
    assert_eq!(p.identifiers[0].kind(), IdentifierKind::MedicalRecordNumber);
    assert_eq!(p.identifiers[1].kind(), IdentifierKind::NationalId);
    assert_eq!(
        p.identifiers[0]
            .assigner
            .as_ref()
            .and_then(|a| a.display.as_ref())
            .map(|d| d.expose().as_str()),
        Some("Riverside Clinic")
    );
    assert_eq!(p.names[0].use_, Some(NameUse::Official));
    assert_eq!(p.names[0].given.len(), 2);
    assert_eq!(p.names[1].use_, Some(NameUse::Maiden));
    assert_eq!(
        p.birth_date.map(|b| *b.expose()),
        Some(PartialDate::YearMonth(1979, 4))
    );
    assert_eq!(p.gender, Some(AdministrativeGender::Female));
    assert_eq!(p.deceased, Some(Deceased::Flag(false)));
    assert_eq!(p.telecom[1].verification, Verification::Verified);
    assert_eq!(p.interpreter_needed, Some(true));
    assert_eq!(
        p.preferred_language().map(|l| l.to_string()).as_deref(),
        Some("cy")
    );
    let routes = p.contact_routes(ContactPurpose::AppointmentReminders);
    assert_eq!(routes.len(), 1, "the opted-out e-mail route is not used");
    assert_eq!(routes[0].channel, Channel::Sms);
    assert!(p.opted_out(
        ContactPurpose::AppointmentReminders,
        &bedside_core::ContactRoute::new(Channel::Email, "morgan@example.org")
    ));
    assert_eq!(
        p.quiet_hours().map(|q| q.zone),
        Some(chrono_tz::Europe::London)
    );
    assert!(p.has_emergency_contact());
    assert!(p.care_team().primary_provider().is_some());
    // Unknown elements are kept and reported, not dropped.
    let mut kept: Vec<&str> = p.unmodelled.keys().collect();
    kept.sort_unstable();
    assert_eq!(kept, ["_birthDate", "extension", "meta", "text"]);
    for path in [
        "Patient.name[0]._family",
        "Patient.meta",
        "Patient.extension",
    ] {
        assert!(
            imported.unmodelled.iter().any(|p| p.to_string() == path),
            "{path}"
        );
    }
    assert_eq!(p.multiple_birth, Some(MultipleBirth::Order(1)));
    assert!(
        p.marital_status
            .as_ref()
            .is_some_and(|m| m.coding[0].code == "M")
    );
    assert_eq!(
        p.managing_organization
            .as_ref()
            .and_then(|o| o.reference.as_deref()),
        Some("Organization/1")
    );
    Ok(())
}

#[test]
fn rich_patient_round_trips_exactly() -> Result<(), FhirError> {
    let (_, outcome) = fhir::round_trip(RICH.as_bytes(), &ids())?;
    assert_eq!(outcome, RoundTrip::Exact);
    Ok(())
}

#[test]
fn export_writes_model_changes() -> Result<(), FhirError> {
    let mut p = Patient::from_fhir(RICH.as_bytes(), &ids())?.value;
    p.names[0].family = Some(Sensitive::new("Quail".into()));
    p.interpreter_needed = None;
    let original: serde_json::Value = serde_json::from_str(RICH).unwrap_or_default();
    let diff = semantic_diff(&original, &p.to_fhir());
    assert_eq!(diff, ["$.extension", "$.name[0].family"]);
    Ok(())
}

/// One malformed-input case: the input and the expected error message.
fn check_error(input: &str, expected: &str) {
    let got = fhir::import(input.as_bytes(), &ids())
        .err()
        .map(|e| e.to_string());
    assert_eq!(got.as_deref(), Some(expected), "{input}");
}

#[test]
fn malformed_input_is_reported_with_position() {
    check_error("{\"resourceType\": ", "``: not JSON (line 1, column 17)");
    check_error("[1, 2]", "``: expected an object");
    check_error("{\"id\": \"x\"}", "`resourceType`: expected a string");
    check_error(
        "{\"resourceType\": \"RelatedPerson\", \"id\": \"x\"}",
        "`RelatedPerson.patient`: required element missing",
    );
    check_error(
        "{\"resourceType\": \"Condition\"}",
        "`Condition.subject`: required element missing",
    );
    let wrong = Patient::from_fhir(br#"{"resourceType": "Coverage"}"#, &ids())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        wrong.as_deref(),
        Some("`resourceType`: expected resourceType `Patient`")
    );
}

#[test]
fn values_of_the_wrong_shape_are_kept_not_lost() -> Result<(), FhirError> {
    let input = r#"{"resourceType": "Patient", "gender": "robot", "birthDate": "1970-13",
        "telecom": [{"system": "phone", "value": "+15550001111", "rank": 1.5}],
        "name": [{"given": []}], "active": "yes"}"#;
    let (imported, outcome) = fhir::round_trip(input.as_bytes(), &ids())?;
    assert_eq!(outcome, RoundTrip::Exact);
    let Resource::Patient(p) = imported.value else {
        return Err(FhirError::rejected(&ElementPath::default(), "unexpected"));
    };
    assert_eq!(p.gender, None);
    assert_eq!(p.birth_date, None);
    assert_eq!(p.active, None);
    assert_eq!(p.telecom[0].rank, None);
    assert_eq!(p.logical_id, LogicalId::Absent);
    Ok(())
}

#[test]
fn bundle_round_trips_and_assembles_records() -> Result<(), FhirError> {
    let (imported, outcome) = fhir::round_trip(BUNDLE.as_bytes(), &ids())?;
    assert_eq!(
        outcome,
        RoundTrip::Exact,
        "the malformed entry is carried through verbatim"
    );
    let Resource::Bundle(bundle) = imported.value else {
        return Err(FhirError::rejected(&ElementPath::default(), "unexpected"));
    };
    assert_eq!(bundle.modelled_counts(), (3, 2));
    assert_eq!(bundle.rejected.len(), 1);
    assert_eq!(bundle.rejected[0].0, 4);
    assert_eq!(
        bundle.rejected[0].1.to_string(),
        "`Bundle.entry[4].resource.patient`: required element missing"
    );
    let records = bundle.records();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.patient.coverages.len(), 1);
    assert_eq!(record.clinical.len(), 1);
    let condition = &record.clinical[0];
    assert!(condition.security().has_sensitivity("PSY"));
    assert_eq!(
        condition.security().confidentiality,
        Some(Confidentiality::Restricted)
    );
    assert_eq!(condition.patient_id(), Some(record.patient.id));
    Ok(())
}

#[test]
fn security_labels_in_unexpected_order_are_kept_verbatim() -> Result<(), FhirError> {
    let input = r#"{"resourceType": "Condition", "subject": {"reference": "Patient/1"},
        "meta": {"security": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"},
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}]}}"#;
    let (imported, outcome) = fhir::round_trip(input.as_bytes(), &ids())?;
    assert_eq!(outcome, RoundTrip::Exact);
    let Resource::Clinical(entry) = imported.value else {
        return Err(FhirError::rejected(&ElementPath::default(), "unexpected"));
    };
    assert!(entry.security.sensitivity.is_empty());
    Ok(())
}

fn hand_built() -> (Patient, Vec<ClinicalEntry>) {
    let ids = ids();
    let id: PatientId = ids.generate();
    let mut p = Patient::new(id);
    p.active = Some(true);
    p.identifiers.push(
        Identifier::new(
            IdentifierKind::MedicalRecordNumber,
            "urn:oid:1.2.3.4",
            "MRN-7781",
        )
        .assigned_by(Reference::to("Organization/riverside")),
    );
    p.identifiers.push(Identifier::new(
        IdentifierKind::NationalId,
        NHS_NUMBER_SYSTEM,
        "9434765919",
    ));
    p.names
        .push(HumanName::new(NameUse::Official, &["Morgan"], "Quayle"));
    p.names
        .push(HumanName::new(NameUse::Nickname, &["Mo"], "Quayle"));
    p.birth_date = Some(Sensitive::new(PartialDate::Date(
        chrono::NaiveDate::from_ymd_opt(1979, 4, 12).unwrap_or_default(),
    )));
    p.gender = Some(AdministrativeGender::Female);
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+447700900123",
        Some(TelecomUse::Mobile),
    ));
    p.addresses.push(Address {
        use_: Some(AddressUse::Home),
        lines: vec![Sensitive::new("12 Mill Lane".into())],
        city: Some(Sensitive::new("Leeds".into())),
        postal_code: Some(Sensitive::new("LS1 4AP".into())),
        country: Some("GB".into()),
        ..Address::default()
    });
    if let Ok(lang) = bedside_core::Language::new("cy") {
        p.communication.push(Communication::preferred(&lang));
    }
    p.interpreter_needed = Some(false);
    p.set_preference(
        ContactPurpose::Results,
        vec![RoutePreference {
            route: bedside_core::ContactRoute::new(Channel::Portal, "portal:mq"),
            state: OptState::OptedIn,
        }],
    );
    p.contacts.push(PatientContact::emergency(
        HumanName::new(NameUse::Usual, &["Sam"], "Quayle"),
        "+447700900999",
    ));
    p.care_team.set_primary_provider(ids.generate());
    let mut rp = RelatedPerson::new(ids.generate(), id);
    rp.names
        .push(HumanName::new(NameUse::Usual, &["Sam"], "Quayle"));
    rp.proxy_scopes = vec![ProxyScope::Scheduling, ProxyScope::Billing];
    p.related_persons.push(rp);
    let mut cov = Coverage::new(
        ids.generate(),
        id,
        Reference::to("Organization/acme-health"),
        "AH-55501",
    );
    cov.order = Some(1);
    cov.period = Some(FhirPeriod::new(FhirDateTime::parse("2025-01-01"), None));
    p.coverages.push(cov);
    let entry = ClinicalEntry::new(
        ids.generate(),
        id,
        ClinicalKind::Encounter(bedside_records::clinical::Encounter {
            status: Some("finished".into()),
            class: Some(Coding::new(bedside_core::code::system::ACT_CODE, "IMP")),
            period: Some(FhirPeriod::new(
                FhirDateTime::parse("2026-01-03T09:00:00Z"),
                FhirDateTime::parse("2026-01-05T14:30:00Z"),
            )),
            discharge_disposition: Some(CodeableConcept::from_coding(Coding::new(
                "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                "home",
            ))),
            discharge_instructions: Some(Sensitive::new("Rest; no driving for a week".into())),
            follow_up_plan: Some(Sensitive::new("Clinic review in 2 weeks".into())),
            ..Default::default()
        }),
    )
    .labelled(bedside_records::SecurityLabels::new(
        &[bedside_core::code::sensitivity::PSY],
        Some(Confidentiality::Restricted),
    ));
    (p, vec![entry])
}

#[test]
fn snapshot_hand_built_patient() {
    let (p, _) = hand_built();
    insta::assert_json_snapshot!("hand_built_patient", p.to_fhir(), {
        ".id" => "[id]",
        ".generalPractitioner[].reference" => "[reference]",
    });
}

#[test]
fn snapshot_hand_built_bundle() {
    let (p, clinical) = hand_built();
    insta::assert_json_snapshot!("hand_built_bundle", Bundle::from_patient(&p, &clinical).to_fhir(), {
        ".entry[].fullUrl" => "[url]",
        ".entry[].resource.id" => "[id]",
        ".entry[].resource.patient.reference" => "[reference]",
        ".entry[].resource.subject.reference" => "[reference]",
        ".entry[].resource.beneficiary.reference" => "[reference]",
        ".entry[].resource.generalPractitioner[].reference" => "[reference]",
    });
}

#[test]
fn snapshot_minimal_patient() {
    let mut p = Patient::new(ids().generate());
    p.names.push(HumanName::new(NameUse::Usual, &["Lee"], "Ng"));
    insta::assert_json_snapshot!("minimal_patient", p.to_fhir(), { ".id" => "[id]" });
}

#[test]
fn hand_built_bundle_imports_back_to_the_same_record() -> Result<(), FhirError> {
    let (p, clinical) = hand_built();
    let json = Bundle::from_patient(&p, &clinical).to_fhir().to_string();
    let bundle = Bundle::from_fhir(json.as_bytes(), &ids())?.value;
    let records = relative_again(bundle.records());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].patient, p);
    assert_eq!(records[0].clinical, clinical);
    Ok(())
}

/// A transaction references its patient by `fullUrl` (`urn:uuid:<id>`); the records built
/// here reference `Patient/<id>`. Maps the former back to the latter.
fn relative_again(mut records: Vec<fhir::PatientRecord>) -> Vec<fhir::PatientRecord> {
    for record in &mut records {
        let id = record.patient.id;
        let full_url = format!("urn:uuid:{id}");
        let fix = |r: &mut Reference| {
            if r.reference.as_deref() == Some(full_url.as_str()) {
                r.reference = Some(format!("Patient/{id}"));
            }
        };
        for rp in &mut record.patient.related_persons {
            fix(&mut rp.patient);
        }
        for c in &mut record.patient.coverages {
            c.beneficiary.iter_mut().for_each(fix);
        }
        for c in &mut record.clinical {
            fix(&mut c.subject);
        }
    }
    records
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// import(export(p)) == p for the `Patient` resource.
    #[test]
    fn patient_export_then_import_is_identity(p in proptest_strategies::patient()) {
        let json = p.to_fhir().to_string();
        let back = Patient::from_fhir(json.as_bytes(), &ids());
        prop_assert!(back.is_ok());
        let back = back.map(|b| b.value).ok();
        prop_assert_eq!(back.as_ref(), Some(&p));
    }

    /// The same through a bundle, with related persons, coverages and clinical entries.
    #[test]
    fn bundle_export_then_import_is_identity(
        (p, related, coverages, clinical) in proptest_strategies::patient().prop_flat_map(|p| {
            let id = p.id;
            (
                Just(p),
                proptest::collection::vec(proptest_strategies::related_person(id), 0..2),
                proptest::collection::vec(proptest_strategies::coverage(id), 0..3),
                proptest::collection::vec(proptest_strategies::clinical(id), 0..3),
            )
        })
    ) {
        let mut p = p;
        p.related_persons = related;
        p.coverages = coverages;
        let json = Bundle::from_patient(&p, &clinical).to_fhir().to_string();
        let bundle = Bundle::from_fhir(json.as_bytes(), &ids());
        prop_assert!(bundle.is_ok());
        let records = relative_again(bundle.map(|b| b.value.records()).unwrap_or_default());
        prop_assert_eq!(records.len(), 1);
        prop_assert_eq!(&records[0].patient, &p);
        prop_assert_eq!(&records[0].clinical, &clinical);
    }

    /// export(import(json)) reproduces any generated patient's JSON.
    #[test]
    fn json_round_trip_is_exact(p in proptest_strategies::patient()) {
        let json = p.to_fhir().to_string();
        let outcome = fhir::round_trip(json.as_bytes(), &ids()).map(|(_, o)| o);
        prop_assert_eq!(outcome.ok(), Some(RoundTrip::Exact));
    }
}

#[test]
fn transaction_entries_reference_each_other_by_full_url() {
    let (p, clinical) = hand_built();
    let bundle = Bundle::from_patient(&p, &clinical).to_fhir();
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    let full_urls: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["fullUrl"].as_str())
        .collect();
    assert_eq!(full_urls.len(), entries.len());
    let patient_url = full_urls[0];
    assert_eq!(patient_url, format!("urn:uuid:{}", p.id));
    for (entry, element) in [(1, "patient"), (2, "beneficiary"), (3, "subject")] {
        assert_eq!(
            entries[entry]["resource"][element]["reference"].as_str(),
            Some(patient_url),
            "{element}"
        );
    }
    // Every `urn:uuid` reference names an entry.
    let text = bundle.to_string();
    for part in text.split("\"reference\":\"").skip(1) {
        let reference = part.split('"').next().unwrap_or_default();
        if reference.starts_with("urn:uuid:") {
            assert!(full_urls.contains(&reference), "{reference}");
        }
    }
}

#[test]
fn required_elements_are_written_from_any_state() {
    let ids = ids();
    let patient: PatientId = ids.generate();
    let mut cov = Coverage::new(ids.generate(), patient, Reference::default(), "M");
    cov.status = None;
    cov.beneficiary = None;
    cov.payor.clear();
    let json = cov.to_fhir();
    assert_eq!(json["status"], "active");
    assert!(json["beneficiary"]["extension"].is_array());
    assert!(json["payor"][0]["extension"].is_array());
    let back = Coverage::from_fhir(json.to_string().as_bytes(), &ids).map(|c| c.value);
    assert_eq!(back.as_ref().map(|c| c.beneficiary.is_none()), Ok(true));
    assert_eq!(back.map(|c| c.payor.is_empty()), Ok(true));
    let kinds = [
        ClinicalKind::Encounter(Default::default()),
        ClinicalKind::Medication(Default::default()),
        ClinicalKind::Document(Default::default()),
    ];
    let expected = [
        ("status", "unknown", "class"),
        ("status", "unknown", "medicationCodeableConcept"),
        ("status", "current", "content"),
    ];
    for (kind, (status, value, complex)) in kinds.into_iter().zip(expected) {
        let entry = ClinicalEntry::new(ids.generate(), patient, kind);
        let json = entry.to_fhir();
        assert_eq!(json[status], value);
        assert!(!json[complex].is_null(), "{complex}");
        let back = ClinicalEntry::from_fhir(json.to_string().as_bytes(), &ids).map(|e| e.value);
        assert_eq!(back.as_ref().map(|e| e.unmodelled.is_empty()), Ok(true));
    }
}
