//! Criterion benches of `bedside-vitals`: the NDJSON ingest pipeline (parse, validate,
//! normalise, dedup, store, threshold rules) against a bare `serde_json` parse of the same
//! bytes into a plain struct, measured in the same run; the ratio is printed at the end.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_benches::vitals::{generate, serde_baseline};
use bedside_core::Actor;
use bedside_vitals::{Batch, IngestConfig, Tz, VitalsStore, ndjson};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;

const READINGS: usize = 100_000;

fn vitals(c: &mut Criterion) {
    let w = generate(READINGS, 10_000, 14, 7);
    let at = chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_600);
    let gateway = Actor::system("bench");
    let fresh = || {
        let mut s = VitalsStore::new(IngestConfig::default());
        for p in &w.patients {
            s.register_patient(*p, Tz::UTC);
        }
        s
    };
    let mut group = c.benchmark_group("vitals");
    group.throughput(Throughput::Elements(READINGS as u64));
    group.sample_size(10);
    group.bench_function("ndjson_pipeline", |b| {
        b.iter_batched(
            fresh,
            |mut s| {
                black_box(
                    ndjson::ingest(
                        &mut s,
                        w.ndjson.as_slice(),
                        &Batch::new("bench", &gateway, at),
                    )
                    .map(|r| r.accepted),
                )
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("serde_baseline", |b| {
        b.iter(|| black_box(serde_baseline(&w.ndjson)))
    });
    group.finish();

    // The ratio the issue asks for, from one interleaved pass of each in this run.
    let mut pipeline = f64::INFINITY;
    let mut serde = f64::INFINITY;
    for _ in 0..3 {
        let mut s = fresh();
        let t = Instant::now();
        let _ = black_box(ndjson::ingest(
            &mut s,
            w.ndjson.as_slice(),
            &Batch::new("ratio", &gateway, at),
        ));
        pipeline = pipeline.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(serde_baseline(&w.ndjson));
        serde = serde.min(t.elapsed().as_secs_f64());
    }
    println!(
        "vitals: pipeline {:.0} readings/s, serde baseline {:.0} lines/s, serde_ratio {:.2}",
        READINGS as f64 / pipeline,
        READINGS as f64 / serde,
        serde / pipeline
    );
}

criterion_group!(benches, vitals);
criterion_main!(benches);
