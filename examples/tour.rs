//! A walk through `bedside-core`, the vocabulary every Bedside crate speaks: deterministic typed
//! ids, an injectable clock, half-open periods, partial birth dates, codes, actors, outreach
//! routes with quiet hours, and PHI redaction.
//!
//! Run with `cargo run --example tour`.

use bedside::core::code::{purpose, sensitivity, system};
use bedside::core::{
    Actor, AppointmentId, Channel, Clock, CodeableConcept, Coding, ContactRoute, Language,
    ManualClock, OrganisationId, PartialDate, PatientId, Period, QuietHours, Role,
    SeededIdGenerator, Sensitive, Staff, StaffId,
};
use chrono::{NaiveTime, TimeDelta};
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Time comes from a clock we control, so this walk prints the same thing every run.
    let clock = Arc::new(ManualClock::new("2026-03-07T23:30:00Z".parse()?));
    let ids = SeededIdGenerator::new(clock.clone(), 2026);
    println!("== clock and ids");
    println!("now                    {}", clock.now().to_rfc3339());

    let patient: PatientId = ids.generate();
    let appointment: AppointmentId = ids.generate();
    println!("patient id             {patient}");
    println!("appointment id         {appointment}");
    let parsed: PatientId = patient.to_string().parse()?;
    println!("round trip             {}", parsed == patient);
    match "not-an-id".parse::<PatientId>() {
        Ok(_) => println!("unexpected: a bad id parsed"),
        Err(e) => println!("bad id rejected        {e}"),
    }

    println!("\n== periods (half-open)");
    let start = clock.now() + TimeDelta::hours(34);
    let first = Period::starting_at(start, TimeDelta::minutes(30));
    let second = Period::starting_at(first.end(), TimeDelta::minutes(30));
    let overlapping = Period::starting_at(start + TimeDelta::minutes(15), TimeDelta::minutes(30));
    println!("first                  {first}");
    println!("second                 {second}");
    println!("first overlaps second  {}", first.overlaps(&second));
    println!(
        "first ∩ overlapping    {}",
        first
            .intersection(&overlapping)
            .map_or("none".to_string(), |p| p.to_string())
    );

    println!("\n== partial dates (FHIR birthDate)");
    for text in ["1970", "1970-03", "1970-03-14", "1970-02-30"] {
        match text.parse::<PartialDate>() {
            Ok(d) => println!("{text:<22} earliest {} latest {}", d.earliest(), d.latest()),
            Err(e) => println!("{text:<22} {e}"),
        }
    }

    println!("\n== codes");
    let bp = CodeableConcept::from_coding(
        Coding::new(system::LOINC, "85354-9").with_display("Blood pressure panel"),
    );
    println!(
        "vital sign             {}|{}",
        system::LOINC,
        bp.coding[0].code
    );
    println!(
        "purposes               {} {} {}; sensitivity {} {}",
        purpose::TREAT,
        purpose::HPAYMT,
        purpose::PATRQT,
        sensitivity::PSY,
        sensitivity::ETH
    );

    println!("\n== actors");
    let organisation: OrganisationId = ids.generate();
    let nurse = Actor::Staff(Staff {
        id: ids.generate::<StaffId>(),
        roles: vec![Role::NURSE, Role::new("triage")?],
        organisation,
        provider: None,
    });
    let self_service = Actor::Patient { patient };
    let job = Actor::system("reminder-planner");
    for actor in [&nurse, &self_service, &job] {
        println!(
            "{:<22} {}",
            actor.label().split(':').next().unwrap_or(""),
            actor
        );
    }

    println!("\n== outreach: quiet hours across the New York spring-forward night");
    let route = ContactRoute::new(Channel::Sms, "+12125550123");
    let language = Language::new("es_us")?;
    let quiet = QuietHours::new(
        chrono_tz::America::New_York,
        NaiveTime::from_hms_opt(21, 0, 0).ok_or("bad time")?,
        NaiveTime::from_hms_opt(2, 30, 0).ok_or("bad time")?,
    );
    let wanted = clock.now() + TimeDelta::hours(6);
    let allowed = quiet.next_allowed(wanted);
    println!("route                  {route:?}");
    println!(
        "language               {language} (fallbacks {:?})",
        language.fallbacks()
    );
    println!(
        "wanted to send at      {}",
        wanted.with_timezone(&quiet.zone)
    );
    println!(
        "first allowed send     {}",
        allowed.with_timezone(&quiet.zone)
    );

    println!("\n== PHI redaction");
    let birth_date = Sensitive::new("1970-03-14".parse::<PartialDate>()?);
    println!("debug of birth date    {birth_date:?}");
    println!("display of route       {}", route.address);
    println!("explicitly exposed     {}", birth_date.expose().year());
    Ok(())
}
