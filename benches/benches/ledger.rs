//! Criterion benches of `bedside-ledger`: two-posting entries with idempotency, limits and
//! checked arithmetic on, against a bare `HashMap` balance update (the physical limit); journal
//! encode + replay; and a healthcare mix (charges, claims, 835 posting, payments) for 100,000
//! patients. `eval ledger-throughput` prints the same figures as one summary line. `x12_837p`
//! measures 837P generation: 50,000 claims (one to three lines each) into one interchange.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_benches::ledger::{
    IdOrder, apply_transfers, encode_transfers, hashmap_baseline, healthcare_mix,
    run_healthcare_mix, setup_ledger, transfer_workload,
};
use bedside_ledger::Ledger;
use bedside_ledger::codec::replay_into;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ENTRIES: usize = 200_000;
const ACCOUNTS: usize = 10_000;

fn transfers(c: &mut Criterion) {
    let w = transfer_workload(ACCOUNTS, ENTRIES, 7, IdOrder::Sequential);
    let random = transfer_workload(ACCOUNTS, ENTRIES, 7, IdOrder::Random);
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.bench_function("hashmap_baseline", |b| {
        b.iter(|| black_box(hashmap_baseline(&w)))
    });
    for (name, workload) in [("apply_sequential_ids", &w), ("apply_random_ids", &random)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut ledger = setup_ledger(workload);
                    let start = Instant::now();
                    black_box(apply_transfers(&mut ledger, workload));
                    total += start.elapsed();
                }
                total
            })
        });
    }
    let setup = {
        let mut b = Vec::new();
        setup_ledger(&w).write_journal(&mut b);
        b
    };
    group.bench_function("journal_encode_replay", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut journal = vec![0u8; setup.len() + ENTRIES * 80];
                journal.clear();
                journal.extend_from_slice(&setup);
                let fresh = Ledger::with_capacity(ACCOUNTS + 1, ENTRIES + ACCOUNTS);
                let start = Instant::now();
                encode_transfers(&w, &mut journal);
                let r = replay_into(fresh, &journal);
                total += start.elapsed();
                black_box(r.records);
            }
            total
        })
    });
    group.finish();
}

fn healthcare(c: &mut Criterion) {
    let patients = 100_000;
    let mix = healthcare_mix(patients);
    let mut group = c.benchmark_group("ledger_healthcare_mix");
    group.sample_size(10);
    // Four ledger entries per patient: two charges, one 835 claim posting, one payment.
    group.throughput(Throughput::Elements(4 * patients as u64));
    group.bench_function("patients_100k", |b| {
        b.iter(|| black_box(run_healthcare_mix(&mix).map(|(n, _)| n)))
    });
    group.finish();
}

fn x12_837p(c: &mut Criterion) {
    use bedside_ledger::x12::Submissions;
    use bedside_ledger::x12::sim::fixture::ClaimFixture;
    use bedside_ledger::x12::write837::write;
    const CLAIMS: usize = 50_000;
    let Ok(fixture) = ClaimFixture::new(18, CLAIMS) else {
        eprintln!("x12_837p: fixture failed");
        return;
    };
    let inputs = fixture.inputs();
    let batch = fixture.batch(&inputs);
    let at = chrono::DateTime::from_timestamp(1_772_438_400, 0).unwrap_or_default();
    let mut group = c.benchmark_group("x12_837p");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CLAIMS as u64));
    let mut out = Vec::with_capacity(CLAIMS * 600);
    group.bench_function("write_50k_claims", |b| {
        b.iter(|| {
            out.clear();
            let mut submissions = Submissions::new();
            black_box(write(&batch, &mut submissions, at, &mut out).map(|r| r.control))
        })
    });
    group.finish();
}

criterion_group!(benches, transfers, healthcare, x12_837p);
criterion_main!(benches);
