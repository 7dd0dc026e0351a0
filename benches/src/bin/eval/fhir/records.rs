//! The `bedside-records` part of `fhir-roundtrip` and `fhir-export`.

use bedside_core::{
    Actor, Channel, CodeableConcept, Coding, ContactRoute, IdGeneratorExt, Language, ManualClock,
    PartialDate, PatientId, QuietHours, SeededIdGenerator, Sensitive, code,
};
use bedside_records::clinical::{
    AllergyIntolerance, Condition, Criticality, DocumentReference, Encounter, EncounterParticipant,
    MedicationStatement, Reaction, ReactionSeverity,
};
use bedside_records::fhir::{self, Bundle};
use bedside_records::model::{
    Address, AddressType, AddressUse, AdministrativeGender, COVERAGE_CLASS_SYSTEM, Communication,
    CoverageClass, Deceased, FhirDateTime, FhirPeriod, LinkType, MultipleBirth, PatientLink,
    Reference, Verification,
};
use bedside_records::{
    ClinicalEntry, ClinicalKind, Confidentiality, ContactPoint, ContactPurpose, Coverage,
    HumanName, Identifier, IdentifierKind, NameUse, OptState, Patient, PatientContact,
    PatientRegistry, ProxyScope, RelatedPerson, RoutePreference, SecurityLabels, TelecomSystem,
    TelecomUse,
};
use serde_json::Value;
use std::sync::Arc;

/// The resource types `bedside-records` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &[
    "Patient",
    "RelatedPerson",
    "Coverage",
    "AllergyIntolerance",
    "Condition",
    "Encounter",
    "MedicationStatement",
    "DocumentReference",
];

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000),
    ))
}

fn ids() -> Arc<SeededIdGenerator> {
    Arc::new(SeededIdGenerator::new(clock(), 19))
}

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    fhir::import_value(resource.clone(), ids().as_ref())
        .map(|imported| imported.value.to_fhir())
        .map_err(|e| e.to_string())
}

fn dt(text: &str) -> Option<FhirDateTime> {
    FhirDateTime::parse(text)
}

fn concept(system: &str, code: &str, display: &str) -> CodeableConcept {
    let mut c = Coding::new(system, code);
    c.display = Some(display.into());
    CodeableConcept::from_coding(c)
}

fn typical_patient(ids: &SeededIdGenerator) -> Patient {
    let mut p = Patient::new(ids.generate());
    p.names
        .push(HumanName::new(NameUse::Official, &["Ada"], "Lovelace"));
    p.birth_date = "1985-12-10".parse::<PartialDate>().ok().map(Sensitive::new);
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
    p.contacts.push(PatientContact::emergency(
        HumanName::new(NameUse::Usual, &["Byron"], "Lovelace"),
        "+447700900999",
    ));
    p.set_preference(
        ContactPurpose::AppointmentReminders,
        vec![RoutePreference {
            route: ContactRoute::new(Channel::Sms, "+447700900123"),
            state: OptState::OptedIn,
        }],
    );
    p
}

fn full_patient(ids: &SeededIdGenerator) -> Patient {
    let mut p = typical_patient(ids);
    p.active = Some(true);
    p.identifiers.push(
        Identifier::new(
            IdentifierKind::MedicalRecordNumber,
            "urn:oid:1.2.3.4",
            "MRN-4471",
        )
        .assigned_by(Reference::relative("Organization", "clinic")),
    );
    p.identifiers.push(Identifier::new(
        IdentifierKind::NationalId,
        bedside_records::model::NHS_NUMBER_SYSTEM,
        "9434765919",
    ));
    let mut maiden = HumanName::new(NameUse::Maiden, &["Augusta", "Ada"], "Byron");
    maiden.period = Some(FhirPeriod::new(dt("1815-12-10"), dt("1835-07-08")));
    p.names.push(maiden);
    p.deceased = Some(Deceased::At(
        dt("2025-11-27T10:30:00+00:00")
            .unwrap_or_else(|| FhirDateTime::from_date(chrono::NaiveDate::MIN)),
    ));
    p.marital_status = Some(concept(
        "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
        "M",
        "Married",
    ));
    p.multiple_birth = Some(MultipleBirth::Order(1));
    let mut email = ContactPoint::new(
        TelecomSystem::Email,
        "ada@example.org",
        Some(TelecomUse::Home),
    );
    email.verification = Verification::Verified;
    email.rank = Some(2);
    p.telecom.push(email);
    p.addresses.push(Address {
        use_: Some(AddressUse::Billing),
        type_: Some(AddressType::Postal),
        text: Some(Sensitive::new("PO Box 7, Leeds".into())),
        district: Some(Sensitive::new("West Yorkshire".into())),
        state: Some(Sensitive::new("England".into())),
        period: Some(FhirPeriod::new(dt("2020-01"), None)),
        ..Address::default()
    });
    if let Ok(lang) = Language::new("en-GB") {
        p.communication.push(Communication::preferred(&lang));
    }
    if let Ok(lang) = Language::new("cy") {
        p.communication.push(Communication::spoken(&lang));
    }
    p.interpreter_needed = Some(false);
    p.set_preference(
        ContactPurpose::Results,
        vec![
            RoutePreference {
                route: ContactRoute::new(Channel::Portal, "portal:ada"),
                state: OptState::OptedIn,
            },
            RoutePreference {
                route: ContactRoute::new(Channel::Email, "ada@example.org"),
                state: OptState::OptedOut,
            },
        ],
    );
    // The zone type is chrono-tz's, which this crate does not depend on: serde names it.
    p.quiet_hours = serde_json::from_value::<QuietHours>(serde_json::json!({
        "zone": "Europe/London", "start": "21:00:00", "end": "07:30:00"
    }))
    .ok();
    p.contacts.push(PatientContact {
        relationship: vec![concept(
            "http://terminology.hl7.org/CodeSystem/v2-0131",
            "E",
            "Employer",
        )],
        organization: Some(Reference::relative("Organization", "employer")),
        period: Some(FhirPeriod::new(dt("2024-01-01"), None)),
        gender: Some(AdministrativeGender::Other),
        ..PatientContact::default()
    });
    p.care_team.set_primary_provider(ids.generate());
    p.managing_organization =
        Some(Reference::relative("Organization", "clinic").with_display("Clinic"));
    p.links.push(PatientLink {
        other: Reference::relative("Patient", "old-record"),
        type_: LinkType::Replaces,
        unmodelled: Default::default(),
    });
    p
}

fn related_people(ids: &SeededIdGenerator, patient: PatientId) -> Vec<RelatedPerson> {
    let minimal = RelatedPerson::new(ids.generate(), patient);
    let mut typical = RelatedPerson::new(ids.generate(), patient);
    typical.relationship.push(concept(
        "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
        "SPS",
        "spouse",
    ));
    typical
        .names
        .push(HumanName::new(NameUse::Usual, &["William"], "King"));
    typical.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+447700900456",
        Some(TelecomUse::Home),
    ));
    let mut full = typical.clone();
    full.id = ids.generate();
    full.active = Some(true);
    full.gender = Some(AdministrativeGender::Male);
    full.birth_date = "1805-02-21".parse::<PartialDate>().ok().map(Sensitive::new);
    full.addresses.push(Address {
        use_: Some(AddressUse::Home),
        city: Some(Sensitive::new("Ockham".into())),
        country: Some("GB".into()),
        ..Address::default()
    });
    full.period = Some(FhirPeriod::new(dt("1835-07-08"), None));
    full.proxy_scopes = vec![
        ProxyScope::Scheduling,
        ProxyScope::Billing,
        ProxyScope::Results,
    ];
    vec![minimal, typical, full]
}

fn coverages(ids: &SeededIdGenerator, patient: PatientId) -> Vec<Coverage> {
    let payer = || Reference::relative("Organization", "acme-health").with_display("Acme Health");
    let minimal = Coverage::new(ids.generate(), patient, payer(), "AH-1");
    let mut typical = Coverage::new(ids.generate(), patient, payer(), "AH-55501");
    typical.order = Some(1);
    typical.period = Some(FhirPeriod::new(dt("2025-01-01"), None));
    typical.classes.push(CoverageClass {
        type_: CodeableConcept::from_coding(Coding::new(COVERAGE_CLASS_SYSTEM, "group")),
        value: Some("G-100".into()),
        name: Some("Acme staff".into()),
        unmodelled: Default::default(),
    });
    let mut full = typical.clone();
    full.id = ids.generate();
    full.identifiers.push(Identifier::new(
        IdentifierKind::InsuranceMember,
        "https://acme-health.example/members",
        "AH-55501-01",
    ));
    full.type_ = Some(concept(
        code::system::ACT_CODE,
        "EHCPOL",
        "extended healthcare",
    ));
    full.policy_holder = Some(Reference::relative("Patient", patient));
    full.subscriber = Some(Reference::relative("Patient", patient));
    full.dependent = Some("01".into());
    full.relationship = Some(concept(
        "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
        "self",
        "Self",
    ));
    full.order = Some(2);
    full.period = Some(FhirPeriod::new(dt("2025-01-01"), dt("2026-12-31")));
    full.classes.push(CoverageClass {
        type_: CodeableConcept::from_coding(Coding::new(COVERAGE_CLASS_SYSTEM, "plan")),
        value: Some("P-7".into()),
        name: None,
        unmodelled: Default::default(),
    });
    full.network = Some("Acme Select".into());
    // Every public field cleared that R4 requires: export still writes them.
    let mut cleared = Coverage::new(ids.generate(), patient, payer(), "AH-2");
    cleared.status = None;
    cleared.beneficiary = None;
    cleared.payor.clear();
    vec![minimal, typical, full, cleared]
}

fn labels() -> SecurityLabels {
    SecurityLabels::new(&[code::sensitivity::PSY], Some(Confidentiality::Restricted))
}

fn clinical(ids: &SeededIdGenerator, patient: PatientId) -> Vec<(&'static str, ClinicalEntry)> {
    let entry = |kind| ClinicalEntry::new(ids.generate(), patient, kind);
    let snomed = |c: &str, d: &str| concept(code::system::SNOMED_CT, c, d);
    let mut out = vec![(
        "allergyintolerance-minimal",
        entry(ClinicalKind::Allergy(AllergyIntolerance::default())),
    )];
    out.push((
        "allergyintolerance-typical",
        entry(ClinicalKind::Allergy(AllergyIntolerance {
            code: Some(snomed("91936005", "Allergy to penicillin")),
            criticality: Some(Criticality::High),
            category: vec!["medication".into()],
            ..AllergyIntolerance::default()
        })),
    ));
    out.push((
        "allergyintolerance-full",
        entry(ClinicalKind::Allergy(AllergyIntolerance {
            clinical_status: Some(concept(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "active",
                "Active",
            )),
            verification_status: Some(concept(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "confirmed",
                "Confirmed",
            )),
            type_: Some("allergy".into()),
            category: vec!["food".into(), "environment".into()],
            criticality: Some(Criticality::Low),
            code: Some(snomed("227493005", "Cashew nuts")),
            onset: dt("2004"),
            recorded: dt("2024-03-01T10:00:00Z"),
            reactions: vec![Reaction {
                substance: Some(snomed("227493005", "Cashew nuts")),
                manifestation: vec![snomed("39579001", "Anaphylactic reaction")],
                description: Some(Sensitive::new("Swelling after a cashew biscuit".into())),
                onset: dt("2004-06-12"),
                severity: Some(ReactionSeverity::Severe),
                unmodelled: Default::default(),
            }],
        }))
        .labelled(labels()),
    ));

    out.push((
        "condition-minimal",
        entry(ClinicalKind::Condition(Condition::default())),
    ));
    out.push((
        "condition-typical",
        entry(ClinicalKind::Condition(Condition {
            code: Some(snomed("44054006", "Diabetes mellitus type 2")),
            onset: dt("2019-04"),
            ..Condition::default()
        })),
    ));
    let encounter_id: bedside_records::ClinicalEntryId = ids.generate();
    out.push((
        "condition-full",
        entry(ClinicalKind::Condition(Condition {
            clinical_status: Some(concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "resolved",
                "Resolved",
            )),
            verification_status: Some(concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "confirmed",
                "Confirmed",
            )),
            category: vec![concept(
                "http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis",
                "Encounter Diagnosis",
            )],
            severity: Some(snomed("24484000", "Severe")),
            code: Some(snomed("35489007", "Depressive disorder")),
            encounter: Some(Reference::relative("Encounter", encounter_id)),
            onset: dt("2023-01-10"),
            abatement: dt("2024-02-01T09:00:00+01:00"),
            recorded: dt("2023-01-10T15:20:00Z"),
        }))
        .labelled(labels()),
    ));

    out.push((
        "encounter-minimal",
        entry(ClinicalKind::Encounter(Encounter::default())),
    ));
    out.push((
        "encounter-typical",
        entry(ClinicalKind::Encounter(Encounter {
            status: Some("finished".into()),
            class: Some(Coding::new(code::system::ACT_CODE, "AMB")),
            period: Some(FhirPeriod::new(
                dt("2026-01-03T09:00:00Z"),
                dt("2026-01-03T09:20:00Z"),
            )),
            ..Encounter::default()
        })),
    ));
    let mut full = ClinicalEntry::new(
        encounter_id,
        patient,
        ClinicalKind::Encounter(Encounter {
            status: Some("finished".into()),
            class: Some(Coding::new(code::system::ACT_CODE, "IMP")),
            types: vec![snomed("32485007", "Hospital admission")],
            participants: vec![EncounterParticipant {
                types: vec![concept(
                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "ATND",
                    "attender",
                )],
                individual: Some(Reference::relative("Practitioner", "dr-who")),
                period: Some(FhirPeriod::new(dt("2026-01-03T09:00:00Z"), None)),
                unmodelled: Default::default(),
            }],
            period: Some(FhirPeriod::new(
                dt("2026-01-03T09:00:00Z"),
                dt("2026-01-05T14:30:00Z"),
            )),
            reasons: vec![snomed("35489007", "Depressive disorder")],
            discharge_disposition: Some(concept(
                "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                "home",
                "Home",
            )),
            discharge_instructions: Some(Sensitive::new("Rest; no driving for a week".into())),
            follow_up_plan: Some(Sensitive::new("Clinic review in 2 weeks".into())),
            service_provider: Some(Reference::relative("Organization", "clinic")),
            hospitalization_unmodelled: Default::default(),
        }),
    );
    full = full.labelled(labels());
    out.push(("encounter-full", full));

    out.push((
        "medicationstatement-minimal",
        entry(ClinicalKind::Medication(MedicationStatement::default())),
    ));
    out.push((
        "medicationstatement-typical",
        entry(ClinicalKind::Medication(MedicationStatement {
            status: Some("active".into()),
            medication: Some(concept(
                "http://www.nlm.nih.gov/research/umls/rxnorm",
                "860975",
                "metformin 500 MG Oral Tablet",
            )),
            ..MedicationStatement::default()
        })),
    ));
    out.push((
        "medicationstatement-full",
        entry(ClinicalKind::Medication(MedicationStatement {
            status: Some("completed".into()),
            medication: Some(snomed("108979001", "Sertraline")),
            effective: Some(FhirPeriod::new(dt("2023-01-10"), dt("2024-02-01"))),
            dosage_text: Some(Sensitive::new("50 mg once daily".into())),
        }))
        .labelled(labels()),
    ));

    out.push((
        "documentreference-minimal",
        entry(ClinicalKind::Document(DocumentReference::default())),
    ));
    out.push((
        "documentreference-typical",
        entry(ClinicalKind::Document(DocumentReference {
            type_: Some(concept(code::system::LOINC, "18842-5", "Discharge summary")),
            content_type: Some("application/pdf".into()),
            url: Some("https://docs.example.org/d/1".into()),
            date: dt("2026-01-05T15:00:00Z"),
            ..DocumentReference::default()
        })),
    ));
    out.push((
        "documentreference-full",
        entry(ClinicalKind::Document(DocumentReference {
            status: Some("superseded".into()),
            type_: Some(concept(code::system::LOINC, "11488-4", "Consult note")),
            description: Some(Sensitive::new("Letter to the GP".into())),
            content_type: Some("text/plain".into()),
            url: Some("https://docs.example.org/d/2".into()),
            date: dt("2026-01-06T08:00:00+01:00"),
        }))
        .labelled(labels()),
    ));
    out
}

/// Resources built from scratch through the crate's public API only: for every exported
/// type a minimal, a typical and an everything-set one. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let ids = ids();
    let mut out = Vec::new();
    let mut put = |name: &str, v: Value| out.push((format!("records-{name}.json"), v));

    let minimal = Patient::new(ids.generate());
    put("patient-minimal", minimal.to_fhir());
    // A typical patient as the registry holds it after registration.
    let mut registry = PatientRegistry::new(ids.clone());
    let typical = typical_patient(&ids);
    let registered = registry
        .register(
            typical.clone(),
            &Actor::system("eval"),
            "registration",
            bedside_core::Clock::now(clock().as_ref()),
        )
        .ok()
        .and_then(|_| registry.current(typical.id).cloned())
        .unwrap_or(typical);
    put("patient-typical", registered.to_fhir());
    let full = full_patient(&ids);
    put("patient-full", full.to_fhir());

    let people = related_people(&ids, full.id);
    for (variant, p) in ["minimal", "typical", "full"].iter().zip(&people) {
        put(&format!("relatedperson-{variant}"), p.to_fhir());
    }
    let covers = coverages(&ids, full.id);
    for (variant, c) in ["minimal", "typical", "full", "unknown-parties"]
        .iter()
        .zip(&covers)
    {
        put(&format!("coverage-{variant}"), c.to_fhir());
    }
    let entries = clinical(&ids, full.id);
    for (name, e) in &entries {
        put(name, e.to_fhir());
    }

    put(
        "bundle-minimal",
        Bundle::from_patient(&minimal, &[]).to_fhir(),
    );
    let mut with_cover = registered.clone();
    with_cover.coverages.push(covers[0].clone());
    with_cover.coverages[0].beneficiary = Some(Reference::relative("Patient", registered.id));
    with_cover
        .related_persons
        .push(RelatedPerson::new(ids.generate(), registered.id));
    let typical_clinical: Vec<ClinicalEntry> = clinical(&ids, registered.id)
        .into_iter()
        .filter(|(n, _)| n.ends_with("typical"))
        .map(|(_, e)| e)
        .collect();
    put(
        "bundle-typical",
        Bundle::from_patient(&with_cover, &typical_clinical).to_fhir(),
    );
    let mut everything = full.clone();
    everything.related_persons = people;
    everything.coverages = covers;
    let all: Vec<ClinicalEntry> = entries.into_iter().map(|(_, e)| e).collect();
    put(
        "bundle-full",
        Bundle::from_patient(&everything, &all).to_fhir(),
    );
    out
}
