//! Invariants under random operation sequences and random solver problems.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected error"
)]

mod common;

use bedside_core::{PatientId, Period};
use bedside_schedule::solver::{
    IterationBudget, Problem, SolverConfig, SolverProvider, SolverRequest, Weights, evaluate,
    explain, solve,
};
use bedside_schedule::{
    BookRequest, CancelReason, CancelRequest, RepairRequest, RescheduleRequest,
};
use chrono::TimeDelta;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Book {
        patient: usize,
        code: usize,
        pick: usize,
    },
    Cancel {
        which: usize,
    },
    Reschedule {
        which: usize,
        pick: usize,
    },
    Repair {
        provider: usize,
        day: i64,
    },
    NoShowOrCheckIn {
        which: usize,
        check_in: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..6usize, 0..3usize, 0..10usize).prop_map(|(patient, code, pick)| Op::Book { patient, code, pick }),
        1 => (0..50usize).prop_map(|which| Op::Cancel { which }),
        2 => (0..50usize, 0..10usize).prop_map(|(which, pick)| Op::Reschedule { which, pick }),
        1 => (0..3usize, 0..5i64).prop_map(|(provider, day)| Op::Repair { provider, day }),
        1 => (0..50usize, any::<bool>()).prop_map(|(which, check_in)| Op::NoShowOrCheckIn { which, check_in }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn no_resource_or_patient_is_ever_double_booked(ops in prop::collection::vec(op(), 1..40)) {
        let mut c = clinic();
        let patients: Vec<PatientId> = (0..6).map(|_| c.ids.generate()).collect();
        let codes = ["derm-new", "derm-proc", "gp-video"];
        let mut booked = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Book { patient, code, pick } => {
                    let q = query(&c, codes[code], Some(patients[patient]));
                    let opts = c.schedule.find_slots(&q).unwrap();
                    if let Some(o) = opts.get(pick % opts.len().max(1)) {
                        // Every option found must be bookable.
                        let id = c.schedule.book(&BookRequest::new(o, patients[patient], &format!("t{i}"), c.ids.generate()), &staff(), c.now).unwrap();
                        booked.push(id);
                    }
                }
                Op::Cancel { which } if !booked.is_empty() => {
                    let _ = c.schedule.cancel(&CancelRequest::new(booked[which % booked.len()], CancelReason::Patient), &staff(), c.now);
                }
                Op::Reschedule { which, pick } if !booked.is_empty() => {
                    let id = booked[which % booked.len()];
                    let ap = c.schedule.appointment(id).unwrap().clone();
                    let opts = c.schedule.find_slots(&query(&c, &ap.appointment_type, Some(ap.patient))).unwrap();
                    if let Some(o) = opts.get(pick % opts.len().max(1)) {
                        let before = c.schedule.appointment(id).unwrap().version;
                        match c.schedule.reschedule(&RescheduleRequest::new(id, o), &staff(), c.now) {
                            Ok(()) => prop_assert_eq!(c.schedule.appointment(id).unwrap().version, before + 1),
                            Err(_) => prop_assert_eq!(c.schedule.appointment(id).unwrap(), &ap),
                        }
                    }
                }
                Op::Repair { provider, day } => {
                    let start = at("2026-06-01T00:00:00Z") + TimeDelta::days(day);
                    let period = Period::new(start, start + TimeDelta::days(1)).unwrap();
                    c.schedule.repair_unavailable(&RepairRequest::new(c.providers[provider], period), &staff(), c.now).unwrap();
                }
                Op::NoShowOrCheckIn { which, check_in } if !booked.is_empty() => {
                    let id = booked[which % booked.len()];
                    let late = at("2026-06-20T00:00:00Z");
                    let _ = if check_in { c.schedule.check_in(id, &staff(), late) } else { c.schedule.mark_no_show(id, &staff(), late) };
                }
                _ => {}
            }
            prop_assert_eq!(c.schedule.check_invariants(), Ok(()));
        }
    }
}

fn problem_strategy() -> impl Strategy<Value = Problem> {
    let provider = prop::collection::vec(any::<u32>(), 2).prop_map(|masks| SolverProvider {
        available: masks
            .into_iter()
            .map(|m| u128::from(m | 0x00ff_ff00))
            .collect(),
    });
    let request = (
        1u16..5,
        prop::collection::vec(0u32..4, 1..3),
        0u16..2,
        0u16..28,
        2u16..8,
        prop::option::of(0u32..4),
        prop::option::of(0u32..6),
        any::<bool>(),
    )
        .prop_map(|(dur, allowed, day, ws, wl, pref, patient, late)| {
            let mut r = SolverRequest::new(dur, allowed);
            r.preferred_day = Some(day);
            r.preferred_window = Some((ws, (ws + wl).min(32)));
            r.preferred_provider = pref;
            r.patient = patient;
            r.due_day = late.then_some(0);
            r
        });
    (
        prop::collection::vec(provider, 4),
        prop::collection::vec(request, 1..40),
        0i64..3,
        0i64..3,
    )
        .prop_map(|(providers, requests, gap, over)| {
            let weights = Weights {
                idle_gap_slot: gap,
                overload_slot: over,
                ..Weights::default()
            };
            Problem::new(2, 32, providers, requests, weights).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn solver_output_is_feasible_explained_and_deterministic(pb in problem_strategy(), seed in 0u64..1000) {
        let config = SolverConfig { seed, ..SolverConfig::default() };
        let a = solve(&pb, &config, &mut IterationBudget(300)).unwrap();
        // evaluate() re-checks every hard constraint from scratch.
        let score = evaluate(&pb, &a.placements).unwrap();
        prop_assert_eq!(score, a.score);
        prop_assert_eq!(score.hard, 0);
        let ex = explain(&pb, &a.placements).unwrap();
        let parts: i64 = ex.requests.iter().map(|r| r.cost.total()).sum::<i64>() + ex.providers.iter().map(|p| p.idle_gaps + p.overload).sum::<i64>();
        prop_assert_eq!(parts, score.soft);
        prop_assert_eq!(ex.requests.iter().map(|r| r.unscheduled).sum::<i64>(), score.unscheduled);
        prop_assert!(a.lower_bound <= score.objective());
        let b = solve(&pb, &config, &mut IterationBudget(300)).unwrap();
        prop_assert_eq!(a.placements, b.placements);
    }

    #[test]
    fn pinned_requests_stay_put(pb in problem_strategy(), seed in 0u64..1000) {
        // Pin request 0 wherever an unconstrained run put it, then solve again.
        let free = solve(&pb, &SolverConfig { seed, ..SolverConfig::default() }, &mut IterationBudget(50)).unwrap();
        if let Some(pl) = free.placements[0] {
            let mut reqs = pb.requests().to_vec();
            reqs[0].pinned = Some(pl);
            let pinned = Problem::new(pb.days(), pb.slots_per_day(), pb.providers().to_vec(), reqs, *pb.weights()).unwrap();
            let sol = solve(&pinned, &SolverConfig { seed: seed + 1, ..SolverConfig::default() }, &mut IterationBudget(200)).unwrap();
            prop_assert_eq!(sol.placements[0], Some(pl));
        }
    }
}

/// Applies `op` to `schedule`; returns a description of the outcome so two schedules can be
/// compared step by step.
fn apply(
    schedule: &mut bedside_schedule::Schedule,
    c: &Clinic,
    patients: &[PatientId],
    (i, op, id): (usize, &Op, bedside_core::AppointmentId),
) -> String {
    let codes = ["derm-new", "derm-proc", "gp-video"];
    let booked: Vec<_> = schedule.appointments().map(|a| a.id).collect();
    match *op {
        Op::Book {
            patient,
            code,
            pick,
        } => {
            let q = query(c, codes[code], Some(patients[patient]));
            let opts = schedule.find_slots(&q).unwrap();
            match opts.get(pick % opts.len().max(1)) {
                Some(o) => format!(
                    "{:?}",
                    schedule.book(
                        &BookRequest::new(o, patients[patient], &format!("t{i}"), id),
                        &staff(),
                        c.now
                    )
                ),
                None => "no option".into(),
            }
        }
        Op::Cancel { which } if !booked.is_empty() => format!(
            "{:?}",
            schedule.cancel(
                &CancelRequest::new(booked[which % booked.len()], CancelReason::Patient),
                &staff(),
                c.now
            )
        ),
        Op::Reschedule { which, pick } if !booked.is_empty() => {
            let ap = schedule
                .appointment(booked[which % booked.len()])
                .unwrap()
                .clone();
            let opts = schedule
                .find_slots(&query(c, &ap.appointment_type, Some(ap.patient)))
                .unwrap();
            match opts.get(pick % opts.len().max(1)) {
                Some(o) => format!(
                    "{:?}",
                    schedule.reschedule(&RescheduleRequest::new(ap.id, o), &staff(), c.now)
                ),
                None => "no option".into(),
            }
        }
        Op::Repair { provider, day } => {
            let start = at("2026-06-01T00:00:00Z") + TimeDelta::days(day);
            let period = Period::new(start, start + TimeDelta::days(1)).unwrap();
            format!(
                "{:?}",
                schedule.repair_unavailable(
                    &RepairRequest::new(c.providers[provider], period),
                    &staff(),
                    c.now
                )
            )
        }
        Op::NoShowOrCheckIn { which, check_in } if !booked.is_empty() => {
            let id = booked[which % booked.len()];
            let late = at("2026-06-20T00:00:00Z");
            format!(
                "{:?}",
                if check_in {
                    schedule.check_in(id, &staff(), late)
                } else {
                    schedule.mark_no_show(id, &staff(), late)
                }
            )
        }
        _ => "skipped".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A schedule restored from its snapshot (through JSON) finds the same slots and
    /// answers every later operation exactly as the original does.
    #[test]
    fn restore_of_snapshot_behaves_identically(
        before in prop::collection::vec(op(), 1..30),
        after in prop::collection::vec(op(), 1..15),
    ) {
        let c = clinic();
        let patients: Vec<PatientId> = (0..6).map(|_| c.ids.generate()).collect();
        let mut original = c.schedule.clone();
        for (i, op) in before.iter().enumerate() {
            let id = c.ids.generate();
            apply(&mut original, &c, &patients, (i, op, id));
        }
        // A live hold must survive the round trip too.
        if let Some(o) = original.find_slots(&query(&c, "gp-video", Some(patients[5]))).unwrap().first() {
            let hold = c.ids.generate();
            let expires = c.now + TimeDelta::days(30);
            original.hold(&bedside_schedule::HoldRequest::new(o, patients[5], expires, hold), c.now).unwrap();
        }
        let json = serde_json::to_string(&original.snapshot()).unwrap();
        let mut restored = bedside_schedule::Schedule::restore(serde_json::from_str(&json).unwrap()).unwrap();
        prop_assert_eq!(restored.snapshot(), original.snapshot());
        for code in ["derm-new", "derm-proc", "gp-video"] {
            for &p in &patients {
                let q = query(&c, code, Some(p)).with_limit(50);
                prop_assert_eq!(restored.find_slots(&q), original.find_slots(&q));
            }
        }
        for (i, op) in after.iter().enumerate() {
            let id = c.ids.generate();
            let step = (before.len() + i, op, id);
            prop_assert_eq!(
                apply(&mut restored, &c, &patients, step),
                apply(&mut original, &c, &patients, step)
            );
            prop_assert_eq!(restored.check_invariants(), Ok(()));
        }
        prop_assert_eq!(restored.snapshot(), original.snapshot());
    }
}
