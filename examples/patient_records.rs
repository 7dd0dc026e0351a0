//! The patient record and its history: register a patient, let them change their own address
//! (applied at once), ask for a name change (waits for staff, then approved), print the history
//! and the diff between versions, validate, and export the record to FHIR R4 JSON.
//!
//! Run with `cargo run --example patient_records`.

use bedside::core::{
    Actor, Channel, Clock, ContactRoute, IdGeneratorExt, ManualClock, PartialDate, Role,
    SeededIdGenerator, Sensitive, Staff,
};
use bedside::records::fhir::{self, Bundle};
use bedside::records::model::{Address, AddressUse, FhirDateTime, FhirPeriod, Reference};
use bedside::records::{
    ContactPoint, ContactPurpose, Coverage, HumanName, Identifier, IdentifierKind, NameUse,
    OptState, Patient, PatientContact, PatientRegistry, RecordEdit, RoutePreference, TelecomSystem,
    TelecomUse, validate,
};
use chrono::TimeDelta;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A clock and id generator we control, so every run prints the same thing.
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse()?));
    let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 2026));
    let mut registry = PatientRegistry::new(ids.clone());
    let reception = Actor::Staff(Staff {
        id: ids.generate(),
        roles: vec![Role::RECEPTION],
        organisation: ids.generate(),
        provider: None,
    });

    // Registration at the front desk.
    let mut patient = Patient::new(ids.generate());
    patient.identifiers.push(Identifier::new(
        IdentifierKind::MedicalRecordNumber,
        "urn:oid:2.16.840.1.113883.19.5",
        "MRN-100234",
    ));
    patient.names.push(HumanName::new(
        NameUse::Official,
        &["Rosa", "Maria"],
        "Delgado",
    ));
    patient.birth_date = Some(Sensitive::new("1986-07-19".parse::<PartialDate>()?));
    patient.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+12125550147",
        Some(TelecomUse::Mobile),
    ));
    patient.addresses.push(Address {
        use_: Some(AddressUse::Home),
        lines: vec![Sensitive::new("41 Orchard Street".into())],
        city: Some(Sensitive::new("New York".into())),
        state: Some(Sensitive::new("NY".into())),
        postal_code: Some(Sensitive::new("10002".into())),
        country: Some("US".into()),
        ..Address::default()
    });
    patient.contacts.push(PatientContact::emergency(
        HumanName::new(NameUse::Usual, &["Luis"], "Delgado"),
        "+12125550199",
    ));
    patient.set_preference(
        ContactPurpose::AppointmentReminders,
        vec![RoutePreference {
            route: ContactRoute::new(Channel::Sms, "+12125550147"),
            state: OptState::OptedIn,
        }],
    );
    let mut coverage = Coverage::new(
        ids.generate(),
        patient.id,
        Reference::to("Organization/empire-health"),
        "EH-88120",
    );
    coverage.order = Some(1);
    coverage.period = Some(FhirPeriod::new(FhirDateTime::parse("2026-01-01"), None));
    patient.coverages.push(coverage);
    let id = patient.id;
    let report = validate(&patient, clock.now());
    println!(
        "== validation at registration: {} problem(s)",
        report.problems.len()
    );
    for p in &report.problems {
        println!("   {p}");
    }
    registry.register(
        patient,
        &reception,
        "new patient at front desk",
        clock.now(),
    )?;

    // The patient moves and updates their address in the portal: self-service, applied at once.
    clock.advance(TimeDelta::days(12));
    let me = Actor::Patient { patient: id };
    let mut edit = registry.current(id).ok_or("registered")?.clone();
    edit.addresses[0].lines = vec![Sensitive::new("9 Bayard Street, Apt 3".into())];
    edit.addresses[0].postal_code = Some(Sensitive::new("10013".into()));
    let outcome = registry.update(RecordEdit::new(id, 1, edit, "moved"), &me, clock.now())?;
    println!(
        "\n== self-service address change: applied as version {:?}",
        outcome.applied
    );

    // The patient asks for a name change after marriage: it waits for staff.
    clock.advance(TimeDelta::days(3));
    let mut edit = registry.current(id).ok_or("registered")?.clone();
    edit.names[0].use_ = Some(NameUse::Maiden);
    edit.names.insert(
        0,
        HumanName::new(NameUse::Official, &["Rosa", "Maria"], "Okafor"),
    );
    let outcome = registry.update(RecordEdit::new(id, 2, edit, "married"), &me, clock.now())?;
    let request = outcome.pending.ok_or("identity changes need approval")?;
    println!(
        "== name change from the patient: applied {:?}, pending request {}",
        outcome.applied, request
    );
    println!(
        "   pending requests for the patient: {}",
        registry.pending_requests(id).len()
    );

    // Staff see the marriage certificate and approve.
    clock.advance(TimeDelta::days(1));
    let version = registry.approve(
        request,
        &reception,
        "marriage certificate seen",
        clock.now(),
    )?;
    println!("== approved by staff: version {version}");

    println!("\n== history");
    for v in registry.history(id) {
        println!(
            "v{} {} by {} ({:?}): changed {}",
            v.number,
            v.at.to_rfc3339(),
            v.actor.label(),
            v.kind,
            if v.changed.is_empty() {
                "-".to_string()
            } else {
                v.changed.join(", ")
            }
        );
    }
    println!("\n== diff v1 -> v3");
    for path in registry.diff(id, 1, 3)? {
        println!("   {path}");
    }
    let before = clock.now() - TimeDelta::days(5);
    println!(
        "== as of {}: version {:?}",
        before.to_rfc3339(),
        registry.as_of(id, before).map(|v| v.number)
    );

    let current = registry.current(id).ok_or("registered")?;
    println!("\n== debug output carries no PHI");
    println!("{:?}", current.names[0]);

    println!("\n== FHIR R4 Patient");
    println!("{}", fhir::to_pretty_string(&current.to_fhir()));
    let bundle = Bundle::from_patient(current, &[]);
    println!(
        "== transaction bundle: {} entries ({} bytes)",
        bundle.entries.len(),
        bundle.to_fhir().to_string().len()
    );
    Ok(())
}
