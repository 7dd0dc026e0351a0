//! Criterion benches of `bedside-consent`, side by side with `cedar-policy` on the same scenario:
//! 12 static rules, then 12 rules + 1,000 template-linked consents, then ours alone at 100,000
//! patients with three consents each.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_benches::consent::{Scenario, ScenarioConfig, cedar_permits};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn scenario(patients: usize, consents: usize, cedar: bool) -> Option<Scenario> {
    Scenario::build(ScenarioConfig {
        patients,
        consents,
        requests: 1_000,
        seed: 42,
        cedar,
    })
    .map_err(|e| eprintln!("consent bench: {e}"))
    .ok()
}

fn decide(c: &mut Criterion) {
    let mut group = c.benchmark_group("consent");
    for (name, patients, consents, cedar) in [
        ("static-12", 400, 0, true),
        ("static-12+1000-consents", 400, 1_000, true),
        ("100000-patients-x3", 100_000, 300_000, false),
    ] {
        let Some(s) = scenario(patients, consents, cedar) else {
            continue;
        };
        let n = s.requests.len();
        let mut i = 0usize;
        group.bench_function(format!("ours/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % n;
                black_box(s.engine.decide(black_box(&s.requests[i])))
            })
        });
        if let Some(cedar) = &s.cedar {
            let authorizer = cedar_policy::Authorizer::new();
            let mut j = 0usize;
            group.bench_function(format!("cedar/{name}"), |b| {
                b.iter(|| {
                    j = (j + 1) % n;
                    black_box(cedar_permits(cedar, j, &authorizer))
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = decide
}
criterion_main!(benches);
