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
    AppointmentType, Calendar, CancelReason, GridConfig, PlanWindow, Preferences, Provider,
    RepairWeights, ReplyIntent, Room, Schedule, SlotQuery, VisitKind, VisitMode, WaitlistEntry,
    WeeklyBlock, WeeklyTemplate, parse_reply,
};
use chrono::{NaiveTime, TimeDelta, Weekday};

fn hm(h: u32, m: u32) -> Result<NaiveTime, Box<dyn std::error::Error>> {
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| "bad time".into())
}

fn weekdays(
    zone: chrono_tz::Tz,
    from: u32,
    to: u32,
) -> Result<Calendar, Box<dyn std::error::Error>> {
    let mut c = Calendar::new(zone);
    let mut blocks = Vec::new();
    for w in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ] {
        blocks.push(WeeklyBlock::new(w, hm(from, 0)?, hm(to, 0)?)?);
        // Lunch is blocked every day.
        c.add_blocked(WeeklyBlock::new(w, hm(12, 0)?, hm(13, 0)?)?)?;
    }
    c.add_template(WeeklyTemplate {
        effective_from: "2026-01-01".parse()?,
        effective_until: None,
        blocks,
    })?;
    Ok(c)
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
    schedule.add_appointment_type(AppointmentType {
        code: "derm-follow-up".into(),
        duration_minutes: 30,
        skill: "derm".into(),
        room_capability: Some("exam".into()),
        equipment: None,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        mode: VisitMode::InPerson,
        kind: VisitKind::FollowUp,
        min_notice_minutes: 24 * 60,
        max_horizon_days: 60,
    })?;
    // Most of Monday is already booked for both dermatologists.
    for (i, start) in (0..12).map(|i| ("2026-06-08T13:00:00Z", i)).enumerate() {
        let t: Timestamp = start.0.parse::<Timestamp>()? + TimeDelta::minutes(30 * start.1);
        for (k, &p) in providers[..2].iter().enumerate() {
            let q = SlotQuery {
                appointment_type: "derm-follow-up".into(),
                patient: None,
                now,
                earliest: t,
                latest: t,
                providers: vec![p],
                preferences: Preferences::default(),
                limit: 1,
                self_booking: false,
            };
            if let Some(o) = schedule.find_slots(&q)?.first() {
                let other: PatientId = ids.generate();
                schedule.book(
                    o,
                    other,
                    &format!("seed-{i}-{k}"),
                    ids.generate(),
                    &desk,
                    now,
                )?;
            }
        }
    }

    // 1. Maria searches: her own dermatologist, Tuesday to Thursday afternoons if possible.
    let maria: PatientId = ids.generate();
    let prefs = Preferences {
        provider: Some(providers[0]),
        other_provider_penalty_minutes: 24 * 60,
        weekdays: vec![Weekday::Tue, Weekday::Wed, Weekday::Thu],
        other_weekday_penalty_minutes: 24 * 60,
        time_of_day: Some((14 * 60, 17 * 60)),
        other_time_penalty_minutes: 8 * 60,
    };
    let query = SlotQuery {
        appointment_type: "derm-follow-up".into(),
        patient: Some(maria),
        now,
        earliest: now,
        latest: now + TimeDelta::days(14),
        providers: vec![],
        preferences: prefs.clone(),
        limit: 3,
        self_booking: true,
    };
    let options = schedule.find_slots(&query)?;
    println!("Options offered to the patient:");
    for o in &options {
        let who = if o.provider == providers[0] {
            "her dermatologist"
        } else {
            "another dermatologist"
        };
        println!(
            "  {} with {who} (score {})",
            local(o.period.start()),
            o.score
        );
    }
    let chosen = options.first().ok_or("no options")?.clone();

    // 2. Checkout: hold for ten minutes, then book. A retried request with the same client
    //    token returns the same appointment instead of booking twice.
    let hold = schedule.hold(
        &chosen,
        maria,
        now,
        now + TimeDelta::minutes(10),
        ids.generate(),
    )?;
    let appointment = schedule.book_hold(
        hold,
        "checkout-7f3a",
        ids.generate(),
        &Actor::Patient { patient: maria },
        now,
    )?;
    let again = schedule.book_hold(
        hold,
        "checkout-7f3a",
        ids.generate(),
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
        visit_label: "dermatology follow-up".into(),
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
            appointment,
            pick,
            Some(1),
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
        schedule.repair_unavailable(providers[0], sick, RepairWeights::default(), &desk, now)?;
    println!(
        "\nSick day repaired: {} moved, {} unplaced, {} patients to notify",
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
        );
    }
    let victim = schedule
        .appointments()
        .find(|a| a.patient != maria && a.status == bedside::schedule::AppointmentStatus::Booked)
        .map(|a| a.id)
        .ok_or("nothing to cancel")?;
    let freed = schedule.cancel(victim, CancelReason::Patient, None, &desk, now)?;
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
            &first.option,
            first.patient,
            "waitlist-accept",
            ids.generate(),
            &desk,
            now,
        )?;
        schedule.remove_from_waitlist(first.entry)?;
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
        "\nOptimiser: {} waitlisted requests placed, {} left; soft cost {} (lower bound {})",
        plan.proposals.len(),
        plan.unplaced.len(),
        plan.score.soft,
        plan.lower_bound
    );
    for (k, (entry, patient, option)) in plan.proposals.iter().enumerate() {
        schedule.book(
            option,
            *patient,
            &format!("plan-{k}"),
            ids.generate(),
            &desk,
            now,
        )?;
        schedule.remove_from_waitlist(*entry)?;
        println!("  booked {}", local(option.period.start()));
    }
    schedule.check_invariants()?;
    println!("\nNo resource or patient is double-booked.");
    Ok(())
}
