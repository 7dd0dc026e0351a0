//! The privacy desk: a phone call where the agent is told which verification steps remain; a
//! proxy's access within their grant; a break-the-glass read and its review entry; a patient's
//! accounting of disclosures; and the audit chain catching a tampered event.
//!
//! Run with `cargo run --example privacy_desk`.

use bedside::consent::{
    AccessChannel, Action, AuditLog, BreakGlass, CareTeam, DataClass, Engine, Policy, ProxyGrant,
    Purpose, Relationship, Request, ReviewQueue, VerificationStep, accounting,
};
use bedside::core::{
    Actor, Clock, ManualClock, PatientId, Period, Role, SeededIdGenerator, Sensitive, Staff,
};
use chrono::TimeDelta;
use std::sync::Arc;

/// The clinic's policy: minimum necessary, right of access, sensitive categories, break-the-glass
/// and verification checklists, as data.
const POLICY: &str = include_str!("../crates/bedside-consent/tests/data/clinic-policy.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = Arc::new(ManualClock::new("2026-06-10T09:00:00Z".parse()?));
    let ids = SeededIdGenerator::new(clock.clone(), 11);
    let clinic = ids.generate();
    let patient: PatientId = ids.generate();
    let staff = |role: Role| {
        Actor::Staff(Staff {
            id: ids.generate(),
            roles: vec![role],
            organisation: clinic,
            provider: Some(ids.generate()),
        })
    };
    let family_doctor = staff(Role::CLINICIAN);
    let er_doctor = staff(Role::CLINICIAN);

    let mut engine = Engine::new(Policy::from_json(POLICY)?);
    let team_provider = family_doctor.as_staff().and_then(|s| s.provider);
    engine.set_care_team(
        patient,
        CareTeam {
            staff: Vec::new(),
            providers: team_provider.into_iter().collect(),
        },
    );
    let mut audit = AuditLog::new();
    let ask = |actor: Actor, action, classes: &[DataClass], purpose, channel| {
        Request::new(actor, patient, action, purpose, clock.now())
            .classes(classes.iter().copied())
            .channel(channel)
    };

    println!("== 1. a caller asks for their lab results");
    let mut call = ask(
        Actor::Patient { patient },
        Action::Read,
        &[DataClass::LabResults],
        Purpose::Patrqt,
        AccessChannel::Voice,
    );
    call.context.verified.insert(VerificationStep::Name);
    let decision = engine.decide(&call);
    for missing in &decision.missing_steps {
        let steps: Vec<_> = missing.any_of.iter().map(|s| s.code()).collect();
        println!(
            "   still to ask ({}): one of {}",
            missing.checklist,
            steps.join(", ")
        );
    }
    call.context.verified.insert(VerificationStep::DateOfBirth);
    call.context
        .verified
        .insert(VerificationStep::IdentifierLast4);
    let decision = engine.decide(&call);
    println!(
        "   after date of birth and last four: {:?}",
        decision.effect
    );
    audit.record(ids.generate(), &call, &decision);

    println!("== 2. an adult daughter acting as proxy");
    let daughter = ids.generate();
    engine.add_proxy_grant(ProxyGrant::new(
        daughter,
        patient,
        Relationship::AdultChild,
        [DataClass::Appointments, DataClass::Medications]
            .into_iter()
            .collect(),
        Period::starting_at(clock.now() - TimeDelta::days(30), TimeDelta::days(365)),
    ));
    let proxy = Actor::Proxy {
        related_person: daughter,
        patient,
    };
    let request = ask(
        proxy,
        Action::Read,
        &[DataClass::Appointments, DataClass::LabResults],
        Purpose::Famrqt,
        AccessChannel::Portal,
    );
    let decision = engine.decide(&request);
    println!(
        "   {:?}, released {:?}",
        decision.effect, decision.permitted
    );
    print!("{}", decision.explanation);
    audit.record(ids.generate(), &request, &decision);

    println!("== 3. break-the-glass in the emergency department");
    clock.advance(TimeDelta::hours(2));
    let mut emergency = ask(
        er_doctor,
        Action::Read,
        &[DataClass::Medications, DataClass::Problems],
        Purpose::Etreat,
        AccessChannel::Internal,
    );
    let refused = engine.decide(&emergency);
    println!("   without a declaration: {:?}", refused.effect);
    audit.record(ids.generate(), &emergency, &refused);
    emergency.context.break_glass = Some(BreakGlass {
        justification: Sensitive::new("unresponsive on arrival, allergies unknown".into()),
        started_at: clock.now(),
    });
    let decision = engine.decide(&emergency);
    println!(
        "   with one: {:?}, obligations {:?}",
        decision.effect, decision.obligations
    );
    let entry = audit.record(ids.generate(), &emergency, &decision).clone();
    let mut reviews = ReviewQueue::new();
    if let Some(declared) = &emergency.context.break_glass {
        reviews.enqueue(&entry.event, declared.justification.clone());
    }
    for item in reviews.pending() {
        println!(
            "   review queue: event #{} by {} (justification {:?})",
            item.seq, item.actor, item.justification
        );
    }

    println!("== 4. the patient asks who received their data");
    let registry = Actor::External {
        organisation: ids.generate(),
    };
    let hospital = Actor::External {
        organisation: ids.generate(),
    };
    for (recipient, purpose) in [(registry, Purpose::Pubhlth), (hospital, Purpose::Treat)] {
        clock.advance(TimeDelta::days(3));
        let disclosure = ask(
            recipient,
            Action::Disclose,
            &[DataClass::LabResults],
            purpose,
            AccessChannel::Internal,
        );
        let decision = engine.decide(&disclosure);
        audit.record(ids.generate(), &disclosure, &decision);
    }
    for line in accounting(audit.events(), patient, clock.now()) {
        println!(
            "   {} to {} for {}: {:?}",
            line.at.date_naive(),
            line.recipient,
            line.purpose,
            line.data
        );
    }
    println!("   (the treatment disclosure is excluded, as HIPAA §164.528 says)");

    println!("== 5. someone edits an audit event");
    println!("   chain verifies: {}", audit.verify().is_ok());
    let mut text = audit.to_text();
    text = text.replacen("\"outcome\":\"deny\"", "\"outcome\":\"permit\"", 1);
    match AuditLog::from_text(text.as_bytes()) {
        Ok(_) => println!("   tampering went unnoticed"),
        Err(e) => println!("   caught: {e}"),
    }
    Ok(())
}
