//! Criterion benches of `bedside-survey`: validating and scoring one response, aggregating
//! post-visit responses by provider and month, and FHIR Questionnaire export/import.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use bedside_benches::survey::PostVisitWorkload;
use bedside_survey::fhir::{export_questionnaire, import_questionnaire};
use bedside_survey::{AnswerValue, Builtin, ResponseBuilder, Validator};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn survey(c: &mut Criterion) {
    let Ok(workload) = PostVisitWorkload::new() else {
        return;
    };
    let responses = workload.responses(10_000, 7);
    let validator = Validator::new(workload.definition());
    let mut group = c.benchmark_group("survey");

    let mut i = 0usize;
    group.bench_function("validate_post_visit", |b| {
        b.iter(|| {
            i = (i + 1) % responses.len();
            black_box(validator.validate(black_box(&responses[i])))
        })
    });

    if let Ok(phq9) = Builtin::Phq9.definition() {
        let mut r = ResponseBuilder::new(&phq9);
        for item in 1..=9 {
            r = r.answer(
                &format!("phq9-{item}"),
                AnswerValue::code((item % 4).to_string()),
            );
        }
        let response = r.build();
        let v = Validator::new(&phq9);
        group.bench_function("validate_and_score_phq9", |b| {
            b.iter(|| black_box(v.validate_and_score(black_box(&response))).is_ok())
        });
    }

    group.throughput(Throughput::Elements(responses.len() as u64));
    group.bench_function("aggregate_10k_by_provider_month", |b| {
        b.iter_batched(
            || workload.aggregator(),
            |agg| {
                let Ok(mut agg) = agg else {
                    return None;
                };
                for r in &responses {
                    agg.add(r);
                }
                Some(agg.finish())
            },
            BatchSize::LargeInput,
        )
    });

    if let Ok(hcahps) = Builtin::HcahpsCommunication.definition() {
        let json = export_questionnaire(&hcahps);
        group.throughput(Throughput::Elements(1));
        group.bench_function("fhir_questionnaire_import_hcahps", |b| {
            b.iter(|| black_box(import_questionnaire(black_box(&json))).is_ok())
        });
    }
    group.finish();
}

criterion_group!(benches, survey);
criterion_main!(benches);
