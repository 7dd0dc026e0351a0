//! Online booking for a small clinic week: a patient finds and books a slot (hold, then an
//! idempotent book), gets a reminder plan, replies "R" and is offered new times, a provider
//! calls in sick and the day is repaired, and a cancellation is offered to the waitlist.
//!
//! Run with `cargo run --example online_booking`.

use std::collections::BTreeSet;
use std::sync::Arc;

use bedside::core::{
    Actor, Channel, ContactRoute, Language, ManualClock, PatientId, Period, ProviderId, QuietHours,
    RoomId, SeededIdGenerator, Timestamp,
};
use bedside::schedule::reminders::{
    ContactPreferences, MessageContext, ReminderConfig, ReminderSubject, diff_plans,
    plan_reminders, render,
};
use bedside::schedule::solver::{IterationBudget, SolverConfig};
use bedside::schedule::{
    AppointmentType, BookHoldRequest, BookRequest, Calendar, CancelReason, CancelRequest,
    EncounterKind, GridConfig, HoldRequest, PlanWindow, Preferences, Provider, RepairRequest,
    ReplyIntent, RescheduleRequest, Room, Schedule, SlotQuery, WaitlistEntry, parse_reply,
};
use chrono::{NaiveTime, TimeDelta, Weekday};

fn hm(h: u32, m: u32) -> Result<NaiveTime, Box<dyn std::error::Error>> {
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| "bad time".into())
}

/// Monday to Friday, `from`:00 to `to`:00 local, lunch blocked every day.
fn weekdays(
    zone: chrono_tz::Tz,
    from: u32,
    to: u32,
) -> Result<Calendar, Box<dyn std::error::Error>> {
    Ok(Calendar::weekdays(zone, hm(from, 0)?, hm(to, 0)?)?
        .with_weekday_break(hm(12, 0)?, hm(13, 0)?)?)
}

fn local(t: Timestamp) -> String {
    t.with_timezone(&chrono_tz::America::New_York)
        .format("%a %d %b %H:%M")
        .to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let zone = chrono_tz::America::New_York;
    let now: Timestamp = "2026-06-05T14:00:00Z".parse()?;
    let clock = Arc::new(ManualClock::new(now));
    let ids = SeededIdGenerator::new(clock, 11);
    let desk = Actor::system("front-desk");

    // The clinic week: two dermatologists and a GP, two exam rooms, Monday 8 June onwards.
    let mut schedule = Schedule::new(GridConfig {
        origin: "2026-06-08T04:00:00Z".parse()?,
        granularity_minutes: 15,
        horizon_days: 14,
        zone,
    })?;
    let mut providers: Vec<ProviderId> = Vec::new();
    for skill in ["derm", "derm", "gp"] {
        let id: ProviderId = ids.generate();
        schedule.add_provider(Provider {
            id,
            skills: BTreeSet::from([skill.to_string()]),
            calendar: weekdays(zone, 9, 17)?,
        })?;
        providers.push(id);
    }
    for _ in 0..2 {
        let id: RoomId = ids.generate();
        schedule.add_room(Room {
            id,
            capabilities: BTreeSet::from(["exam".to_string()]),
            calendar: weekdays(zone, 8, 18)?,
        })?;
    }
    schedule.add_appointment_type(
        AppointmentType::new("derm-follow-up", 30, "derm")
            .with_room_capability("exam")
            .with_kind(EncounterKind::FollowUp)
            .with_self_booking_window(24 * 60, 60),
    )?;
    // Most of Monday is already booked for both dermatologists.
    for (i, start) in (0..12).map(|i| ("2026-06-08T13:00:00Z", i)).enumerate() {
        let t: Timestamp = start.0.parse::<Timestamp>()? + TimeDelta::minutes(30 * start.1);
        for (k, &p) in providers[..2].iter().enumerate() {
            let q = SlotQuery::new("derm-follow-up", t, t)
                .with_providers(vec![p])
                .with_limit(1);
            if let Some(o) = schedule.find_slots(&q)?.first() {
                let other: PatientId = ids.generate();
                schedule.book(
                    &BookRequest::new(o, other, &format!("seed-{i}-{k}"), ids.generate()),
                    &desk,
                    now,
                )?;
            }
        }
    }

    // 1. Maria searches: her own dermatologist, Tuesday to Thursday afternoons if possible.
    let maria: PatientId = ids.generate();
    let prefs = Preferences::default()
        .prefer_provider(providers[0], 24 * 60)
        .prefer_weekdays(vec![Weekday::Tue, Weekday::Wed, Weekday::Thu], 24 * 60)
        .prefer_time_of_day(14 * 60, 17 * 60, 8 * 60);
    let query = SlotQuery::new("derm-follow-up", now, now + TimeDelta::days(14))
        .for_patient(maria)
        .with_preferences(prefs.clone())
        .with_limit(3)
        .booked_by_patient(now);
    let options = schedule.find_slots(&query)?;
    println!("Options offered to the patient (ranking score: lower fits her preferences better):");
    for o in &options {
        let who = if o.provider == providers[0] {
            "her dermatologist"
        } else {
            "another dermatologist"
        };
        println!(
            "  {} with {who} (ranking score {})",
            local(o.period.start()),
            o.score
        );
    }
    let chosen = options.first().ok_or("no options")?.clone();

    // 2. Checkout: hold for ten minutes, then book. A retried request with the same client
    //    token returns the same appointment instead of booking twice.
    let hold = schedule.hold(
        &HoldRequest::new(&chosen, maria, now + TimeDelta::minutes(10), ids.generate()),
        now,
    )?;
    let appointment = schedule.book_hold(
        &BookHoldRequest::new(hold, "checkout-7f3a", ids.generate()),
        &Actor::Patient { patient: maria },
        now,
    )?;
    let again = schedule.book_hold(
        &BookHoldRequest::new(hold, "checkout-7f3a", ids.generate()),
        &Actor::Patient { patient: maria },
        now,
    )?;
    assert_eq!(appointment, again);
    println!(
        "\nBooked {} (retry returned the same booking)",
        local(chosen.period.start())
    );

    // 3. Reminders: SMS and email, quiet 21:00-08:00, English.
    let contact = ContactPreferences {
        routes: vec![
            ContactRoute::new(Channel::Sms, "+12125550142"),
            ContactRoute::new(Channel::Email, "maria@example.org"),
        ],
        quiet_hours: Some(QuietHours::new(zone, hm(21, 0)?, hm(8, 0)?)),
        language: Language::new("en-US")?,
        sms_opted_out: false,
    };
    let subject = |schedule: &Schedule| -> Result<ReminderSubject, Box<dyn std::error::Error>> {
        let ap = schedule.appointment(appointment).ok_or("missing")?;
        Ok(ReminderSubject {
            appointment,
            status: ap.status,
            start: ap.period.start(),
            zone,
        })
    };
    let plan = plan_reminders(
        &subject(&schedule)?,
        &contact,
        &ReminderConfig::default(),
        now,
    );
    println!("\nReminder plan:");
    for r in &plan {
        println!(
            "  {:<5} at {} ({} min before)",
            r.channel,
            local(r.send_at),
            r.offset_minutes
        );
    }
    let ctx = MessageContext {
        clinic_name: "Riverside Dermatology".into(),
        clinic_phone: "+1 212 555 0100".into(),
        encounter_label: "dermatology follow-up".into(),
    };
    println!(
        "  SMS text: {}",
        render(&subject(&schedule)?, Channel::Sms, &contact.language, &ctx).body
    );

    // 4. Maria replies "R": she is offered three new times and takes the first.
    let reply = "R";
    let intent = parse_reply(reply);
    println!("\nReply {reply:?} parsed as {intent:?}");
    if intent == ReplyIntent::Reschedule {
        let mut q = query.clone();
        q.earliest = chosen.period.end();
        let new_options = schedule.find_slots(&q)?;
        for o in &new_options {
            println!("  new option: {}", local(o.period.start()));
        }
        let pick = new_options.first().ok_or("no new options")?;
        schedule.reschedule(
            &RescheduleRequest::new(appointment, pick).expecting_version(1),
            &Actor::Patient { patient: maria },
            now,
        )?;
        let new_plan = plan_reminders(
            &subject(&schedule)?,
            &contact,
            &ReminderConfig::default(),
            now,
        );
        let change = diff_plans(&plan, &new_plan);
        println!(
            "  moved to {}; reminders withdrawn {}, scheduled {}",
            local(pick.period.start()),
            change.withdraw.len(),
            change.schedule.len()
        );
    }
    println!(
        "  STOP wins over anything else: {:?}",
        parse_reply("yes ok STOP")
    );

    // 5. Her dermatologist calls in sick for the day of the appointment: repair.
    let ap = schedule.appointment(appointment).ok_or("missing")?.clone();
    let day_start = ap.period.start() - TimeDelta::hours(10);
    let sick = Period::new(day_start, day_start + TimeDelta::days(1))?;
    let report =
        schedule.repair_unavailable(&RepairRequest::new(providers[0], sick), &desk, now)?;
    println!(
        "\nSick day repaired: appointments moved {}, left unplaced {}; patients to notify {}",
        report.moved.len(),
        report.unplaced.len(),
        report.notify.len()
    );
    for (_, old, new) in &report.moved {
        let who = if new.provider == providers[0] {
            "same provider"
        } else {
            "other provider"
        };
        println!(
            "  {} -> {} ({who})",
            local(old.start()),
            local(new.period.start())
        );
    }

    // 6. Someone cancels; the waitlist is offered the freed time, most urgent first.
    let waiting: Vec<PatientId> = (0..3).map(|_| ids.generate()).collect();
    for (i, &p) in waiting.iter().enumerate() {
        schedule.add_to_waitlist(
            ids.generate(),
            WaitlistEntry {
                patient: p,
                appointment_type: "derm-follow-up".into(),
                urgency: [2, 7, 2][i],
                added_at: now - TimeDelta::days([3, 1, 10][i]),
                preferences: Preferences::default(),
            },
            &desk,
            now,
        );
    }
    let victim = schedule
        .appointments()
        .find(|a| a.patient != maria && a.status == bedside::schedule::AppointmentStatus::Booked)
        .map(|a| a.id)
        .ok_or("nothing to cancel")?;
    let freed = schedule.cancel(
        &CancelRequest::new(victim, CancelReason::Patient),
        &desk,
        now,
    )?;
    let offers = schedule.waitlist_offers(&freed, now, 3)?;
    println!("\nFreed {}; offers in order:", local(freed.period.start()));
    for o in &offers {
        let i = waiting.iter().position(|p| *p == o.patient).unwrap_or(0);
        println!(
            "  waitlisted patient #{i}: urgency {}, waiting {} days",
            [2, 7, 2][i],
            [3, 1, 10][i]
        );
    }
    if let Some(first) = offers.first() {
        schedule.book(
            &BookRequest::new(
                &first.option,
                first.patient,
                "waitlist-accept",
                ids.generate(),
            ),
            &desk,
            now,
        )?;
        schedule.remove_from_waitlist(first.entry, &desk, now)?;
        println!("  the most urgent patient took it");
    }

    // 7. The rest of the waitlist, plus a few new requests, is planned at once by the
    //    optimiser over Wednesday to Friday, then booked.
    for i in 0..6 {
        let p: PatientId = ids.generate();
        schedule.add_to_waitlist(
            ids.generate(),
            WaitlistEntry {
                patient: p,
                appointment_type: "derm-follow-up".into(),
                urgency: (i % 3) as u8,
                added_at: now,
                preferences: Preferences {
                    provider: Some(providers[i % 2]),
                    time_of_day: Some((9 * 60, 12 * 60)),
                    ..Preferences::default()
                },
            },
            &desk,
            now,
        );
    }
    let window = PlanWindow {
        first_day: "2026-06-10".parse()?,
        days: 3,
        open: hm(9, 0)?,
        close: hm(17, 0)?,
    };
    let plan = schedule.plan_waitlist(
        window,
        &SolverConfig::default(),
        &mut IterationBudget(5_000),
    )?;
    println!(
        "\nOptimiser: waitlisted requests placed {}, left {}; soft-constraint cost {} (0: none broken; the solver's lower bound is {})",
        plan.proposals.len(),
        plan.unplaced.len(),
        plan.score.soft,
        plan.lower_bound
    );
    for (k, (entry, patient, option)) in plan.proposals.iter().enumerate() {
        schedule.book(
            &BookRequest::new(option, *patient, &format!("plan-{k}"), ids.generate()),
            &desk,
            now,
        )?;
        schedule.remove_from_waitlist(*entry, &desk, now)?;
        println!("  booked {}", local(option.period.start()));
    }
    schedule.check_invariants()?;
    println!("\nNo resource or patient is double-booked.");
    Ok(())
}
