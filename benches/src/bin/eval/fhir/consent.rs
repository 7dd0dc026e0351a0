//! The `bedside-consent` part of `fhir-roundtrip` and `fhir-export`.

use bedside_consent::consent::DataReference;
use bedside_consent::fhir::{export, import};
use bedside_consent::{
    AccessChannel, Action, ActorRef, Confidentiality, Consent, ConsentStore, DataClass, Provision,
    ProvisionType, Purpose, SecurityLabel,
};
use bedside_core::{
    Actor, ConsentId, OrganisationId, PatientId, Period, ProviderId, RelatedPersonId, StaffId,
    Timestamp,
};
use serde_json::Value;
use std::str::FromStr;

/// The resource types `bedside-consent` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &["Consent"];

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    let bytes = serde_json::to_vec(resource).map_err(|_| "not serialisable".to_string())?;
    let imported = import(&bytes).map_err(|e| e.to_string())?;
    Ok(export(&imported.consent))
}

fn at(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// A fixed id of any kind (the bench crate has no `uuid` of its own).
fn id<T: FromStr>(n: u32) -> Option<T> {
    format!("01920000-0000-7000-8000-{n:012}").parse().ok()
}

/// Resources built from scratch through the crate's public API only: for every exported
/// type a minimal, a typical and an everything-set one. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    // Only fails if the fixed ids do not parse, which they do.
    let _ = build(&mut out);
    out
}

fn build(out: &mut Vec<(String, Value)>) -> Option<()> {
    let patient: PatientId = id(1)?;
    let hospital: OrganisationId = id(2)?;
    // Minimal: a permit with no criteria.
    let minimal = Consent::new(
        id::<ConsentId>(10)?,
        patient,
        Provision::new(ProvisionType::Permit),
    );
    out.push(("consent-consent-minimal.json".to_string(), export(&minimal)));

    // Typical: treatment disclosures to a hospital, except substance-use data.
    let typical = Consent::new(
        id::<ConsentId>(11)?,
        patient,
        Provision::new(ProvisionType::Permit)
            .actor(ActorRef::Organisation(hospital))
            .action(Action::Disclose)
            .purpose(Purpose::Treat)
            .except(Provision::new(ProvisionType::Deny).label(SecurityLabel::Eth)),
    );
    out.push(("consent-consent-typical.json".to_string(), export(&typical)));

    // Everything set: every actor kind, open classes and labels, periods, data references.
    let (Some(start), Some(end), Some(data_end)) = (
        at("2026-01-01T00:00:00Z"),
        at("2027-01-01T00:00:00Z"),
        at("2026-06-03T10:30:00Z"),
    ) else {
        return Some(());
    };
    let period = Period::new(start, end).ok();
    let data_period = Period::new(start, data_end).ok();
    let mut root = Provision::new(ProvisionType::Permit)
        .actor(ActorRef::Staff(id::<StaffId>(3)?))
        .actor(ActorRef::Provider(id::<ProviderId>(4)?))
        .actor(ActorRef::Organisation(hospital))
        .actor(ActorRef::RelatedPerson(id::<RelatedPersonId>(5)?))
        .actor(ActorRef::Patient(patient))
        .action(Action::Read)
        .action(Action::Disclose)
        .purpose(Purpose::Treat)
        .purpose(Purpose::Caremgt)
        .class(DataClass::Vitals)
        .class(DataClass::LabResults);
    for code in ["MedicationRequest", "application/hl7-cda+xml"] {
        if let Some(class) = DataClass::open(code) {
            root = root.class(class);
        }
    }
    root.period = period;
    root.data_period = data_period;
    root.confidentiality.push(Confidentiality::Restricted);
    let mut deny = Provision::new(ProvisionType::Deny)
        .label(SecurityLabel::Psy)
        .channel(AccessChannel::Sms);
    if let Some(spi) = SecurityLabel::open("SPI") {
        deny = deny.label(spi);
    }
    deny.data.push(DataReference {
        meaning: "related".into(),
        reference: "DocumentReference/01920000-0000-7000-8000-000000000006".into(),
    });
    let everything = Consent::new(id::<ConsentId>(12)?, patient, root.except(deny));
    out.push((
        "consent-consent-everything.json".to_string(),
        export(&everything),
    ));

    // A communication opt-out recorded by an SMS STOP.
    let stop_id: ConsentId = id(13)?;
    let mut store = ConsentStore::new();
    store
        .stop(
            patient,
            AccessChannel::Sms,
            stop_id,
            start,
            &Actor::system("sms-gateway"),
        )
        .ok()?;
    let stop = store.get(stop_id)?;
    out.push(("consent-consent-sms-stop.json".to_string(), export(stop)));
    Some(())
}
