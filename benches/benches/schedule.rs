//! Criterion benches of `bedside-schedule`: top-10 slot search on the 50-provider, 20-room,
//! 90-day, 5-minute clinic at 80% utilisation, and solver iterations on a generated batch.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use bedside_benches::schedule::{build_clinic, queries};
use bedside_core::{ManualClock, SeededIdGenerator, SeededRng};
use bedside_schedule::solver::{
    IterationBudget, Problem, SolverConfig, SolverProvider, SolverRequest, Weights, solve,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn slot_search(c: &mut Criterion) {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, 5);
    let Ok(clinic) = build_clinic(1, 0.80, &ids) else {
        return;
    };
    let qs = queries(&clinic, 2, 1024, &ids);
    let mut i = 0usize;
    c.bench_function("slot_search_top10_50p_20r_90d_5min_80pct", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(clinic.schedule.find_slots(&qs[i]))
        })
    });
}

/// A clinic-slots-like batch: 20 providers with 3 of 8 skills, 5 days of 32 slots, 600
/// requests with morning-heavy windows.
fn batch(seed: u64) -> Option<Problem> {
    let mut rng = SeededRng::new(seed);
    let skills: Vec<Vec<usize>> = (0..20)
        .map(|_| {
            let mut all: Vec<usize> = (0..8).collect();
            rng.shuffle(&mut all);
            all.truncate(3);
            all
        })
        .collect();
    let providers = vec![
        SolverProvider {
            available: vec![u128::from(u32::MAX); 5]
        };
        20
    ];
    let requests = (0..600)
        .map(|_| {
            let skill = rng.index(8);
            let allowed: Vec<u32> = (0..20u32)
                .filter(|&p| skills[p as usize].contains(&skill))
                .collect();
            let allowed = if allowed.is_empty() { vec![0] } else { allowed };
            let mut r = SolverRequest::new(1 + rng.below(4) as u16, allowed);
            r.preferred_day = Some(rng.below(5) as u16);
            let ws = if rng.chance(0.5) {
                rng.below(5) as u16
            } else {
                rng.below(29) as u16
            };
            r.preferred_window = Some((ws, (ws + 4 + 2 * rng.below(3) as u16).min(32)));
            r
        })
        .collect();
    let weights = Weights {
        provider: 0,
        late_day: 0,
        ..Weights::default()
    };
    Problem::new(5, 32, providers, requests, weights).ok()
}

fn solver(c: &mut Criterion) {
    let Some(problem) = batch(3) else { return };
    let mut group = c.benchmark_group("solver");
    group.sample_size(10);
    group.bench_function("600_requests_20k_iterations", |b| {
        b.iter(|| {
            black_box(solve(
                &problem,
                &SolverConfig::default(),
                &mut IterationBudget(20_000),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, slot_search, solver);
criterion_main!(benches);
