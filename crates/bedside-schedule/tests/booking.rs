//! Slot search, holds, idempotent booking and the booking operations.

mod common;

use bedside_core::{AppointmentId, PatientId};
use bedside_schedule::{
    AppointmentStatus, BookHoldRequest, BookRequest, Booker, CancelReason, CancelRequest, HoldId,
    HoldRequest, OverbookPolicy, Preferences, RepairRequest, RepairWeights, RescheduleRequest,
    Schedule, ScheduleError, WaitlistEntry,
};
use chrono::{TimeDelta, Weekday};
use common::*;

#[test]
fn search_respects_rules_resources_and_ranking() {
    let c = clinic();
    let patient: PatientId = c.ids.generate();
    let options = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(patient)))
        .unwrap();
    assert_eq!(options.len(), 10);
    // Earliest first: Monday 09:00 London (08:00Z) on both dermatologists, then 09:15 ...
    assert_eq!(options[0].period.start(), at("2026-06-01T08:00:00Z"));
    assert_eq!(options[0].period.duration(), TimeDelta::minutes(30));
    assert!(
        options
            .iter()
            .all(|o| o.room.is_some() && c.providers[..2].contains(&o.provider))
    );
    assert!(options.windows(2).all(|w| w[0].score <= w[1].score));
    // Video encounters need no room; the GP-only provider and the mixed one qualify.
    let video = c.schedule.find_slots(&query(&c, "gp-video", None)).unwrap();
    assert!(
        video
            .iter()
            .all(|o| o.room.is_none() && c.providers[1..].contains(&o.provider))
    );
    // Lunch on Monday is blocked: no option overlaps 12:00-13:00 London (11:00-12:00Z).
    let mut q = query(&c, "derm-new", None);
    q.earliest = at("2026-06-01T10:30:00Z");
    q.limit = 20;
    let lunch = c.schedule.find_slots(&q).unwrap();
    assert!(
        lunch
            .iter()
            .all(|o| o.period.end() <= at("2026-06-01T11:00:00Z")
                || o.period.start() >= at("2026-06-01T12:00:00Z"))
    );
    // Minimum notice: a query "now" at 08:30Z on Monday cannot book before 10:30Z.
    let mut q = query(&c, "derm-new", None);
    q.earliest = at("2026-06-01T08:30:00Z");
    q.booker = Booker::Patient { at: q.earliest };
    assert_eq!(
        c.schedule.find_slots(&q).unwrap()[0].period.start(),
        at("2026-06-01T10:30:00Z")
    );
    // Preferences: continuity of care and a preferred weekday and time outrank earliness.
    let mut q = query(&c, "derm-new", None);
    q.preferences = Preferences {
        provider: Some(c.providers[1]),
        other_provider_penalty_minutes: 24 * 60,
        weekdays: vec![Weekday::Wed],
        other_weekday_penalty_minutes: 3 * 24 * 60,
        time_of_day: Some((14 * 60, 16 * 60)),
        other_time_penalty_minutes: 600,
    };
    let best = &c.schedule.find_slots(&q).unwrap()[0];
    assert_eq!(best.provider, c.providers[1]);
    assert_eq!(best.period.start(), at("2026-06-03T13:00:00Z"));
    // Unknown types are errors.
    assert!(matches!(
        c.schedule.find_slots(&query(&c, "nope", None)),
        Err(ScheduleError::UnknownAppointmentType { .. })
    ));
}

#[test]
fn holds_block_others_and_expire() {
    let mut c = clinic();
    let (alice, bob): (PatientId, PatientId) = (c.ids.generate(), c.ids.generate());
    let first = c
        .schedule
        .find_slots(&query(&c, "derm-proc", Some(alice)))
        .unwrap()[0]
        .clone();
    let hold: HoldId = c.ids.generate();
    c.schedule
        .hold(
            &HoldRequest::new(&first, alice, c.now + TimeDelta::minutes(10), hold),
            c.now,
        )
        .unwrap();
    // Bob cannot take the same option: the procedure room and the only ultrasound are held.
    assert!(matches!(
        c.schedule.hold(
            &HoldRequest::new(
                &first,
                bob,
                c.now + TimeDelta::minutes(10),
                c.ids.generate()
            ),
            c.now
        ),
        Err(ScheduleError::Conflict { .. })
    ));
    let bobs = c
        .schedule
        .find_slots(&query(&c, "derm-proc", Some(bob)))
        .unwrap();
    assert!(bobs.iter().all(|o| !o.period.overlaps(&first.period)));
    // The hold reads back as placed; it lapses at its expiry, not before.
    let snapshot = c.schedule.hold_of(hold).unwrap();
    assert_eq!((snapshot.patient, &snapshot.option), (alice, &first));
    assert!(!c.schedule.has_lapsed_holds(c.now + TimeDelta::minutes(9)));
    assert!(c.schedule.has_lapsed_holds(c.now + TimeDelta::minutes(10)));
    // After expiry the hold cannot be booked and the option is free again.
    let later = c.now + TimeDelta::minutes(11);
    let appt: AppointmentId = c.ids.generate();
    assert_eq!(
        c.schedule
            .book_hold(&BookHoldRequest::new(hold, "tok-a", appt), &staff(), later),
        Err(ScheduleError::HoldExpired)
    );
    let hold2: HoldId = c.ids.generate();
    c.schedule
        .hold(
            &HoldRequest::new(&first, bob, later + TimeDelta::minutes(10), hold2),
            later,
        )
        .unwrap();
    let id = c
        .schedule
        .book_hold(&BookHoldRequest::new(hold2, "tok-b", appt), &staff(), later)
        .unwrap();
    // Idempotent: the same token gives the same appointment and changes nothing.
    assert_eq!(
        c.schedule
            .book_hold(
                &BookHoldRequest::new(hold2, "tok-b", c.ids.generate()),
                &staff(),
                later
            )
            .unwrap(),
        id
    );
    assert_eq!(c.schedule.appointments().count(), 1);
    // Released when it lapsed, booked when it became an appointment: neither reads back.
    assert!(c.schedule.hold_of(hold).is_none() && c.schedule.hold_of(hold2).is_none());
    assert!(!c.schedule.has_lapsed_holds(later));
    c.schedule.check_invariants().unwrap();
}

#[test]
fn book_is_idempotent_and_never_double_books() {
    let mut c = clinic();
    let (alice, bob): (PatientId, PatientId) = (c.ids.generate(), c.ids.generate());
    let o = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(alice)))
        .unwrap()[0]
        .clone();
    let id = c
        .schedule
        .book(
            &BookRequest::new(&o, alice, "client-1", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    assert_eq!(
        c.schedule
            .book(
                &BookRequest::new(&o, alice, "client-1", c.ids.generate()),
                &staff(),
                c.now
            )
            .unwrap(),
        id
    );
    assert!(matches!(
        c.schedule.book(
            &BookRequest::new(&o, bob, "client-2", c.ids.generate()),
            &staff(),
            c.now
        ),
        Err(ScheduleError::Conflict { .. })
    ));
    let other = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(alice)))
        .unwrap()[3]
        .clone();
    assert_eq!(
        c.schedule.book(
            &BookRequest::new(&other, alice, "client-1", c.ids.generate()),
            &staff(),
            c.now
        ),
        Err(ScheduleError::TokenReused)
    );
    // Alice cannot be in two places at once, even with another provider and room.
    let mut q = query(&c, "derm-new", None);
    q.providers = vec![c.providers[1]];
    let clash = c
        .schedule
        .find_slots(&q)
        .unwrap()
        .into_iter()
        .find(|x| x.period == o.period && x.provider != o.provider)
        .unwrap();
    assert!(matches!(
        c.schedule.book(
            &BookRequest::new(&clash, alice, "client-3", c.ids.generate()),
            &staff(),
            c.now
        ),
        Err(ScheduleError::Conflict {
            reason: "patient already booked"
        })
    ));
    let found = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(alice)))
        .unwrap();
    assert!(found.iter().all(|x| !x.period.overlaps(&o.period)));
    c.schedule.check_invariants().unwrap();
}

#[test]
fn lifecycle_is_versioned_and_follows_fhir_statuses() {
    let mut c = clinic();
    let alice: PatientId = c.ids.generate();
    let opts = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(alice)))
        .unwrap();
    let id = c
        .schedule
        .book(
            &BookRequest::new(&opts[0], alice, "t1", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    // Reschedule to a free option; a stale version is refused and changes nothing.
    let target = opts
        .iter()
        .find(|o| !o.period.overlaps(&opts[0].period))
        .unwrap()
        .clone();
    assert_eq!(
        c.schedule.reschedule(
            &RescheduleRequest::new(id, &target).expecting_version(7),
            &staff(),
            c.now
        ),
        Err(ScheduleError::VersionConflict {
            expected: 7,
            found: 1
        })
    );
    c.schedule
        .reschedule(
            &RescheduleRequest::new(id, &target).expecting_version(1),
            &staff(),
            c.now,
        )
        .unwrap();
    let ap = c.schedule.appointment(id).unwrap();
    assert_eq!(
        (ap.version, ap.period, ap.status),
        (2, target.period, AppointmentStatus::Booked)
    );
    // The old option is free again.
    let bob: PatientId = c.ids.generate();
    c.schedule
        .book(
            &BookRequest::new(&opts[0], bob, "t2", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    // Rescheduling onto Bob's slot fails and leaves Alice where she was (all-or-nothing).
    assert!(
        c.schedule
            .reschedule(&RescheduleRequest::new(id, &opts[0]), &staff(), c.now)
            .is_err()
    );
    assert_eq!(c.schedule.appointment(id).unwrap().period, target.period);
    // No-show only after the start; check-in and fulfil follow.
    assert!(matches!(
        c.schedule.mark_no_show(id, &staff(), c.now),
        Err(ScheduleError::RuleViolation { .. })
    ));
    c.schedule
        .check_in(id, &staff(), target.period.start())
        .unwrap();
    assert!(matches!(
        c.schedule.cancel(
            &CancelRequest::new(id, CancelReason::Patient),
            &staff(),
            c.now
        ),
        Err(ScheduleError::InvalidTransition { .. })
    ));
    c.schedule
        .fulfil(id, &staff(), target.period.end())
        .unwrap();
    let ap = c.schedule.appointment(id).unwrap();
    assert_eq!(ap.status, AppointmentStatus::Fulfilled);
    assert_eq!(
        ap.history.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(ap.history.iter().all(|h| h.actor == staff()));
    c.schedule.check_invariants().unwrap();
}

#[test]
fn cancellation_feeds_ranked_waitlist_offers() {
    let mut c = clinic();
    let alice: PatientId = c.ids.generate();
    let o = c
        .schedule
        .find_slots(&query(&c, "derm-new", Some(alice)))
        .unwrap()[0]
        .clone();
    let id = c
        .schedule
        .book(
            &BookRequest::new(&o, alice, "t", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    let (low, high, old, wrong): (PatientId, PatientId, PatientId, PatientId) = (
        c.ids.generate(),
        c.ids.generate(),
        c.ids.generate(),
        c.ids.generate(),
    );
    let entry = |p, urgency, days_ago: i64, code: &str| WaitlistEntry {
        patient: p,
        appointment_type: code.into(),
        urgency,
        added_at: c.now - TimeDelta::days(days_ago),
        preferences: Preferences::default(),
    };
    let e_low = c.schedule.add_to_waitlist(
        c.ids.generate(),
        entry(low, 1, 1, "derm-new"),
        &staff(),
        c.now,
    );
    let e_old = c.schedule.add_to_waitlist(
        c.ids.generate(),
        entry(old, 1, 20, "derm-new"),
        &staff(),
        c.now,
    );
    let e_high = c.schedule.add_to_waitlist(
        c.ids.generate(),
        entry(high, 8, 0, "derm-new"),
        &staff(),
        c.now,
    );
    c.schedule.add_to_waitlist(
        c.ids.generate(),
        entry(wrong, 9, 0, "gp-video"),
        &staff(),
        c.now,
    );
    let freed = c
        .schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Patient).expecting_version(1),
            &staff(),
            c.now,
        )
        .unwrap();
    let offers = c.schedule.waitlist_offers(&freed, c.now, 5).unwrap();
    // The GP request does not fit a dermatologist's slot; urgency first, then time waited.
    assert_eq!(
        offers.iter().map(|o| o.entry).collect::<Vec<_>>(),
        vec![e_high, e_old, e_low]
    );
    assert_eq!(offers[0].option.period, o.period);
    let first = &offers[0];
    c.schedule
        .book(
            &BookRequest::new(&first.option, first.patient, "wl", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    c.schedule
        .remove_from_waitlist(first.entry, &staff(), c.now)
        .unwrap();
    assert_eq!(c.schedule.waitlist().count(), 3);
    // Four additions and one removal, each attributed.
    let history = c.schedule.waitlist_history();
    assert_eq!(history.len(), 5);
    assert_eq!(history[4].entry, first.entry);
    assert_eq!(history[4].action, bedside_schedule::WaitlistAction::Removed);
    assert_eq!(history[4].actor, staff());
}

#[test]
fn repair_moves_with_minimal_disruption_and_lists_patients() {
    let mut c = clinic();
    let sick = c.providers[0];
    let mut q = query(&c, "derm-new", None);
    q.providers = vec![sick];
    q.limit = 30;
    let opts = c.schedule.find_slots(&q).unwrap();
    let mut patients = Vec::new();
    // Fill Monday 09:00-12:00 London (08:00-11:00Z) of the provider with six 30-minute encounters.
    for (i, o) in opts
        .iter()
        .filter(|o| o.period.start() < at("2026-06-01T11:00:00Z"))
        .enumerate()
    {
        let p: PatientId = c.ids.generate();
        if c.schedule
            .book(
                &BookRequest::new(o, p, &format!("r{i}"), c.ids.generate()),
                &staff(),
                c.now,
            )
            .is_ok()
        {
            patients.push(p);
        }
    }
    assert_eq!(patients.len(), 6);
    // The other dermatologist is busy all Monday except 09:00-10:00 London.
    let mut q2 = query(&c, "derm-new", None);
    q2.providers = vec![c.providers[1]];
    q2.earliest = at("2026-06-01T09:00:00Z");
    q2.latest = at("2026-06-01T16:00:00Z");
    q2.limit = 100;
    for o in c.schedule.find_slots(&q2).unwrap() {
        let _ = c.schedule.book(
            &BookRequest::new(
                &o,
                c.ids.generate(),
                &format!("x{}", o.period.start()),
                c.ids.generate(),
            ),
            &staff(),
            c.now,
        );
    }
    assert!(c.schedule.find_slots(&q2).unwrap().is_empty());
    let period =
        bedside_core::Period::new(at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z")).unwrap();
    let weights = RepairWeights {
        same_provider_per_day: 10,
        other_provider_same_day: 5,
        per_hour_shift: 3,
        search_days: 7,
    };
    let report = c
        .schedule
        .repair_unavailable(
            &RepairRequest::new(sick, period).with_weights(weights),
            &staff(),
            c.now,
        )
        .unwrap();
    assert_eq!(report.moved.len() + report.unplaced.len(), 6);
    assert!(report.unplaced.is_empty());
    assert_eq!(report.notify, patients);
    // Two go to the other dermatologist the same day; the rest stay with their provider on Tuesday.
    let same_day = report
        .moved
        .iter()
        .filter(|(_, _, o)| o.provider == c.providers[1])
        .count();
    assert_eq!(same_day, 2);
    assert_eq!(report.cost, 2 * 5 + 4 * 10);
    for (id, _, o) in &report.moved {
        let ap = c.schedule.appointment(*id).unwrap();
        assert_eq!(ap.status, AppointmentStatus::Booked);
        assert!(!o.period.overlaps(&period) || o.provider != sick);
        assert!(matches!(
            ap.history.last().unwrap().change,
            bedside_schedule::schedule::Change::Repaired { .. }
        ));
    }
    c.schedule.check_invariants().unwrap();
}

#[test]
fn overbooking_is_bounded_by_expected_overtime() {
    let mut c = clinic();
    let gp = c.providers[2];
    let session =
        bedside_core::Period::new(at("2026-06-02T08:00:00Z"), at("2026-06-02T09:00:00Z")).unwrap();
    c.schedule.set_overbook_policy(OverbookPolicy {
        sessions: vec![(gp, session)],
        max_expected_overtime_minutes: 5,
    });
    let mut q = query(&c, "gp-video", None);
    q.providers = vec![gp];
    q.earliest = session.start();
    q.latest = session.end() - TimeDelta::minutes(15);
    let opts = c.schedule.find_slots(&q).unwrap();
    assert_eq!(opts.len(), 4);
    for (i, o) in opts.iter().enumerate() {
        c.schedule
            .book(
                &BookRequest::new(o, c.ids.generate(), &format!("b{i}"), c.ids.generate()),
                &staff(),
                c.now,
            )
            .unwrap();
    }
    let (p1, p2, p3): (PatientId, PatientId, PatientId) =
        (c.ids.generate(), c.ids.generate(), c.ids.generate());
    // With a 40% no-show rate on top of four full-show encounters: expected 60 + 9 = 69 min > 65.
    assert!(matches!(
        c.schedule.book_overbooked(
            &BookRequest::new(&opts[0], p1, "o1", c.ids.generate())
                .with_no_show_probability_permille(400),
            &staff(),
            c.now
        ),
        Err(ScheduleError::OverbookingRefused { .. })
    ));
    // A 70% no-show patient adds 4.5 expected minutes: allowed once.
    c.schedule
        .book_overbooked(
            &BookRequest::new(&opts[0], p1, "o2", c.ids.generate())
                .with_no_show_probability_permille(700),
            &staff(),
            c.now,
        )
        .unwrap();
    assert!(matches!(
        c.schedule.book_overbooked(
            &BookRequest::new(&opts[0], p2, "o3", c.ids.generate())
                .with_no_show_probability_permille(990),
            &staff(),
            c.now
        ),
        Err(ScheduleError::OverbookingRefused { .. })
    ));
    // Outside the session: refused.
    let mut q = query(&c, "gp-video", None);
    q.providers = vec![gp];
    q.earliest = at("2026-06-03T08:00:00Z");
    let outside = c.schedule.find_slots(&q).unwrap()[0].clone();
    assert!(matches!(
        c.schedule.book_overbooked(
            &BookRequest::new(&outside, p3, "o4", c.ids.generate())
                .with_no_show_probability_permille(900),
            &staff(),
            c.now
        ),
        Err(ScheduleError::OverbookingRefused { .. })
    ));
    c.schedule.check_invariants().unwrap();
    // The overbooking (its session, its slot already taken twice) survives a snapshot.
    let mut restored = Schedule::restore(c.schedule.snapshot()).unwrap();
    assert_eq!(restored.snapshot(), c.schedule.snapshot());
    assert!(matches!(
        restored.book_overbooked(
            &BookRequest::new(&opts[0], p2, "o5", c.ids.generate()),
            &staff(),
            c.now
        ),
        Err(ScheduleError::OverbookingRefused {
            reason: "slot already overbooked"
        })
    ));
}

#[test]
fn fhir_export_of_booked_schedule() {
    use bedside_schedule::fhir::{
        RoundTrip, appointment_to_fhir, free_slots_to_fhir, provider_schedule_to_fhir, round_trip,
    };
    let mut c = clinic();
    let alice: PatientId = c.ids.generate();
    let o = c
        .schedule
        .find_slots(&query(&c, "derm-proc", Some(alice)))
        .unwrap()[0]
        .clone();
    let id = c
        .schedule
        .book(
            &BookRequest::new(&o, alice, "f", c.ids.generate()),
            &staff(),
            c.now,
        )
        .unwrap();
    let appt = appointment_to_fhir(c.schedule.appointment(id).unwrap());
    let json = serde_json::to_value(&appt).unwrap();
    // What we export, we import again without loss.
    assert_eq!(
        round_trip(json.to_string().as_bytes()).unwrap().1,
        RoundTrip::Exact
    );
    let horizon =
        bedside_core::Period::new(at("2026-06-01T08:00:00Z"), at("2026-06-01T09:00:00Z")).unwrap();
    let sched = provider_schedule_to_fhir(&c.schedule, 0, horizon).unwrap();
    let slots = free_slots_to_fhir(&c.schedule, 0, "derm-new", horizon, 3).unwrap();
    assert!(
        slots
            .iter()
            .all(|s| s.status == bedside_schedule::fhir::SlotStatus::Free)
    );
    insta::assert_json_snapshot!("fhir_export", (json, sched, slots), {
        "[0].id" => "[id]",
        "[0].participant[].actor.reference" => "[reference]",
        "[1].id" => "[id]",
        "[1].actor[].reference" => "[reference]",
        "[2][].schedule.reference" => "[reference]",
    });
}

#[test]
fn the_optimiser_fills_the_waitlist_without_collisions() {
    use bedside_schedule::PlanWindow;
    use bedside_schedule::solver::{IterationBudget, SolverConfig};
    let mut c = clinic();
    let mut entries = Vec::new();
    for i in 0..14u8 {
        let patient: PatientId = c.ids.generate();
        let prefs = Preferences {
            provider: (i % 2 == 0).then_some(c.providers[1]),
            time_of_day: Some((9 * 60, 11 * 60)),
            ..Preferences::default()
        };
        let code = if i % 5 == 4 { "gp-video" } else { "derm-new" };
        let id = c.schedule.add_to_waitlist(
            c.ids.generate(),
            WaitlistEntry {
                patient,
                appointment_type: code.into(),
                urgency: i % 4,
                added_at: c.now,
                preferences: prefs,
            },
            &staff(),
            c.now,
        );
        entries.push(id);
    }
    let window = PlanWindow {
        first_day: "2026-06-02".parse().unwrap(),
        days: 2,
        open: t(9, 0),
        close: t(17, 0),
    };
    let plan = c
        .schedule
        .plan_waitlist(window, &SolverConfig::default(), &mut IterationBudget(2000))
        .unwrap();
    assert_eq!(plan.proposals.len(), 14, "unplaced: {:?}", plan.unplaced);
    assert!(plan.lower_bound <= plan.score.objective());
    // Even-numbered entries asked for the second dermatologist and get them: there is room.
    for (entry, _, option) in &plan.proposals {
        let i = entries.iter().position(|e| e == entry).unwrap();
        if i % 2 == 0 && i % 5 != 4 {
            assert_eq!(option.provider, c.providers[1]);
        }
        assert!(
            option.period.start() >= at("2026-06-02T08:00:00Z")
                && option.period.end() <= at("2026-06-03T16:00:00Z")
        );
    }
    // The proposals book together in the real schedule.
    for (k, (entry, patient, option)) in plan.proposals.iter().enumerate() {
        c.schedule
            .book(
                &BookRequest::new(option, *patient, &format!("plan{k}"), c.ids.generate()),
                &staff(),
                c.now,
            )
            .unwrap();
        c.schedule
            .remove_from_waitlist(*entry, &staff(), c.now)
            .unwrap();
    }
    c.schedule.check_invariants().unwrap();
    assert_eq!(c.schedule.waitlist().count(), 0);
    let bad = PlanWindow { days: 0, ..window };
    assert!(
        c.schedule
            .plan_waitlist(bad, &SolverConfig::default(), &mut IterationBudget(10))
            .is_err()
    );
}
