//! Criterion benches of `bedside-records`' matching and search: `match_one` and search against
//! an index of synthetic patients (1,000,000 by default; set `BEDSIDE_BENCH_PATIENTS` to change),
//! and batch deduplication of 5,000 synthetic records.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_benches::matching::search_workload;
use bedside_records::matching::synthetic::population;
use bedside_records::matching::{MatchRecord, Matcher};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn patients() -> usize {
    std::env::var("BEDSIDE_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn matching(c: &mut Criterion) {
    let n = patients();
    let w = search_workload(n, 2_000, 2026);
    let mut group = c.benchmark_group(format!("records_{n}_patients"));
    group.throughput(Throughput::Elements(1));
    let mut k = 0usize;
    group.bench_function("match_one", |b| {
        b.iter(|| {
            k = (k + 1) % w.match_queries.len().max(1);
            black_box(w.match_index.match_one(&w.match_queries[k].0, 10).len())
        })
    });
    let mut k = 0usize;
    group.bench_function("search", |b| {
        b.iter(|| {
            k = (k + 1) % w.search_queries.len().max(1);
            black_box(w.index.search(&w.search_queries[k].0).len())
        })
    });
    group.finish();

    let records: Vec<MatchRecord> = population(7, 4_000, 0.25)
        .into_iter()
        .map(|p| p.record)
        .collect();
    let mut group = c.benchmark_group("records_deduplicate");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.sample_size(20);
    group.bench_function("deduplicate_5000", |b| {
        b.iter(|| black_box(Matcher::default().deduplicate(&records).clusters.len()))
    });
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
