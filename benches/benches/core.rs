//! Criterion benches of `bedside-core`: typed-id generation, formatting and parsing.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_core::{IdGeneratorExt, ManualClock, PatientId, SeededIdGenerator, SystemIdGenerator};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;

fn ids(c: &mut Criterion) {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let seeded = SeededIdGenerator::new(clock, 7);
    let mut group = c.benchmark_group("ids");
    group.bench_function("generate_seeded", |b| {
        b.iter(|| black_box(seeded.generate::<PatientId>()))
    });
    group.bench_function("generate_system", |b| {
        b.iter(|| black_box(SystemIdGenerator.generate::<PatientId>()))
    });
    let id: PatientId = seeded.generate();
    let text = id.to_string();
    group.bench_function("display", |b| {
        b.iter(|| black_box(black_box(id).to_string()))
    });
    group.bench_function("parse", |b| {
        b.iter(|| black_box(black_box(&text).parse::<PatientId>()))
    });
    group.finish();
}

criterion_group!(benches, ids);
criterion_main!(benches);
