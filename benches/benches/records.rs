//! Criterion benches of `bedside-records`: FHIR export and import of a full patient record,
//! validation, and a self-service update through the versioned registry.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_core::{
    Actor, Channel, ContactRoute, ManualClock, PartialDate, SeededIdGenerator, Sensitive,
};
use bedside_records::fhir::Bundle;
use bedside_records::model::{Address, AddressUse, Reference};
use bedside_records::{
    ContactPoint, ContactPurpose, Coverage, HumanName, Identifier, IdentifierKind, NameUse,
    OptState, Patient, PatientContact, PatientRegistry, RecordEdit, RoutePreference, TelecomSystem,
    TelecomUse, validate,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;

fn patient(ids: &SeededIdGenerator) -> Patient {
    let mut p = Patient::new(ids.generate());
    p.identifiers.push(Identifier::new(
        IdentifierKind::MedicalRecordNumber,
        "urn:oid:1.2.3",
        "MRN-1",
    ));
    p.names.push(HumanName::new(
        NameUse::Official,
        &["Rosa", "Maria"],
        "Delgado",
    ));
    p.birth_date = Some(Sensitive::new(PartialDate::Year(1986)));
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+12125550147",
        Some(TelecomUse::Mobile),
    ));
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Email,
        "rosa@example.org",
        None,
    ));
    p.addresses.push(Address {
        use_: Some(AddressUse::Home),
        lines: vec![Sensitive::new("41 Orchard Street".into())],
        postal_code: Some(Sensitive::new("10002".into())),
        country: Some("US".into()),
        ..Address::default()
    });
    p.contacts.push(PatientContact::emergency(
        HumanName::new(NameUse::Usual, &["Luis"], "Delgado"),
        "+12125550199",
    ));
    p.set_preference(
        ContactPurpose::AppointmentReminders,
        vec![RoutePreference {
            route: ContactRoute::new(Channel::Sms, "+12125550147"),
            state: OptState::OptedIn,
        }],
    );
    let mut c = Coverage::new(
        ids.generate(),
        p.id,
        Reference::to("Organization/payer"),
        "M-1",
    );
    c.order = Some(1);
    p.coverages.push(c);
    p
}

fn records(c: &mut Criterion) {
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000),
    ));
    let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 7));
    let p = patient(&ids);
    let json = p.to_fhir().to_string();
    let bundle = Bundle::from_patient(&p, &[]).to_fhir().to_string();
    let now = bedside_core::Clock::now(clock.as_ref());
    let mut group = c.benchmark_group("records");
    group.bench_function("patient_to_fhir", |b| b.iter(|| black_box(p.to_fhir())));
    group.bench_function("patient_from_fhir", |b| {
        b.iter(|| black_box(Patient::from_fhir(json.as_bytes(), ids.as_ref())))
    });
    group.bench_function("bundle_from_fhir", |b| {
        b.iter(|| black_box(Bundle::from_fhir(bundle.as_bytes(), ids.as_ref())))
    });
    group.bench_function("validate", |b| b.iter(|| black_box(validate(&p, now))));
    group.bench_function("registry_self_service_update", |b| {
        b.iter_batched(
            || {
                let mut registry = PatientRegistry::new(ids.clone());
                let staff = Actor::system("bench");
                let _ = registry.register(p.clone(), &staff, "bench", now);
                let mut edit = p.clone();
                edit.telecom[1].value = Some(Sensitive::new("rosa@example.net".into()));
                (registry, edit)
            },
            |(mut registry, edit)| {
                black_box(registry.update(
                    RecordEdit::new(edit.id, 1, edit, "new e-mail"),
                    &Actor::Patient { patient: p.id },
                    now,
                ))
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
