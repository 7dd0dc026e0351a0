//! Integration tests of patient matching: comparators (data-driven), EM, blocking,
//! deduplication, `match_one`, FHIR grades, links, and the invariants as properties.

use bedside_core::{Actor, ManualClock, PatientId, SeededIdGenerator};
use bedside_records::matching::synthetic::population;
use bedside_records::matching::{
    Agreement, BirthDate, Field, LinkError, LinkRegistry, MatchGrade, MatchIndex, MatchRecord,
    Matcher, MatcherConfig, Model, Outcome, Reason, clusters_of,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

fn person(given: &str, family: &str, birth: &str) -> MatchRecord {
    MatchRecord::new()
        .given(given)
        .family(family)
        .birth_date(BirthDate::parse(birth))
}

/// Compares `a` and `b` and checks the agreement and reason of one field.
fn check(field: Field, a: MatchRecord, b: MatchRecord, agreement: Agreement, reason: Reason) {
    let c = Matcher::default().compare(&a, &b);
    assert_eq!(
        (c.agreement(field), c.reason(field)),
        (agreement, reason),
        "{field:?}"
    );
}

#[test]
fn name_comparators() {
    use Agreement::*;
    let cases = [
        ("margaret", "margaret", Exact, Reason::Equal),
        ("peggy", "margaret", Strong, Reason::Nickname),
        ("bill", "william", Strong, Reason::Nickname),
        ("martha", "marhta", Strong, Reason::Similar),
        ("catherine", "kathryn", Strong, Reason::Nickname),
        ("smyth", "smith", Weak, Reason::SoundsAlike),
        ("robert", "zoe", Disagree, Reason::Different),
        ("", "zoe", Missing, Reason::Missing),
    ];
    for (a, b, agreement, reason) in cases {
        check(
            Field::Given,
            person(a, "x", ""),
            person(b, "x", ""),
            agreement,
            reason,
        );
    }
}

#[test]
fn swapped_names_are_recognised() {
    let a = person("kyra", "wilde", "1922-06-01");
    let b = person("wilde", "kyra", "1922-06-01");
    check(
        Field::Given,
        a.clone(),
        b.clone(),
        Agreement::Exact,
        Reason::Swapped,
    );
    check(Field::Family, a, b, Agreement::Exact, Reason::Swapped);
}

#[test]
fn birth_date_comparators() {
    use Agreement::*;
    let cases = [
        ("1970-03-14", "1970-03-14", Exact, Reason::Equal),
        (
            "1970-03-04",
            "1970-04-03",
            Strong,
            Reason::DayMonthTransposed,
        ),
        ("1970-03", "1970-03-14", Strong, Reason::PartialDate),
        ("1970", "1970-03-14", Strong, Reason::PartialDate),
        ("1970-03-14", "1971-03-14", Weak, Reason::OneDatePartDiffers),
        ("19700231", "19700230", Weak, Reason::OneDatePartDiffers),
        ("1970-03-14", "1980-05-14", Disagree, Reason::Different),
        ("", "1980-05-14", Missing, Reason::Missing),
    ];
    for (a, b, agreement, reason) in cases {
        check(
            Field::BirthDate,
            person("a", "b", a),
            person("a", "b", b),
            agreement,
            reason,
        );
    }
}

#[test]
fn other_field_comparators() {
    use Agreement::*;
    let base = || MatchRecord::new();
    let cases: Vec<(Field, MatchRecord, MatchRecord, Agreement, Reason)> = vec![
        (
            Field::Identifier,
            base().identifier("ssn", "1234567"),
            base().identifier("ssn", "1234567"),
            Exact,
            Reason::Equal,
        ),
        (
            Field::Identifier,
            base().identifier("ssn", "1234567"),
            base().identifier("ssn", "1243567"),
            Strong,
            Reason::OneEdit,
        ),
        (
            Field::Identifier,
            base().identifier("ssn", "1234567"),
            base().identifier("mrn", "1234567"),
            Missing,
            Reason::Missing,
        ),
        (
            Field::Identifier,
            base().identifier("ssn", "1234567"),
            base().identifier("ssn", "7654321"),
            Disagree,
            Reason::Different,
        ),
        (
            Field::Postcode,
            base().postcode("2600"),
            base().postcode("2060"),
            Strong,
            Reason::OneEdit,
        ),
        (
            Field::Postcode,
            base().postcode("2600"),
            base().postcode("2699"),
            Weak,
            Reason::SamePrefix,
        ),
        (
            Field::Postcode,
            base().postcode("2600"),
            base().postcode("4000"),
            Disagree,
            Reason::Different,
        ),
        (
            Field::Phone,
            base().phone("0412 345 678"),
            base().phone("0412345678"),
            Exact,
            Reason::Equal,
        ),
        (
            Field::Phone,
            base().phone("0412345678"),
            base().phone("0412345687"),
            Strong,
            Reason::OneEdit,
        ),
        (
            Field::Address,
            base().address_line("12 Pridham Street"),
            base().address_line("12 pridhamstreet"),
            Exact,
            Reason::Equal,
        ),
        (
            Field::Address,
            base()
                .address_line("studley street")
                .address_line("rose vale"),
            base()
                .address_line("studley steet")
                .address_line("rose vale"),
            Strong,
            Reason::MostTokens,
        ),
        (
            Field::Address,
            base().address_line("studley street"),
            base().address_line("kenyon street"),
            Weak,
            Reason::SomeTokens,
        ),
        (
            Field::Address,
            base().address_line("studley street"),
            base().address_line("kenyon circuit"),
            Disagree,
            Reason::Different,
        ),
        (
            Field::Locality,
            base().locality("Erindale"),
            base().locality("erinadle"),
            Strong,
            Reason::Similar,
        ),
        (
            Field::Region,
            base().region("NSW"),
            base().region("qld"),
            Disagree,
            Reason::Different,
        ),
        (
            Field::HouseNumber,
            base().house_number("12"),
            base().house_number("21"),
            Strong,
            Reason::OneEdit,
        ),
    ];
    for (field, a, b, agreement, reason) in cases {
        check(field, a, b, agreement, reason);
    }
}

/// A model trained once on a synthetic population with duplicates.
fn trained() -> &'static (
    Model,
    Vec<bedside_records::matching::synthetic::SyntheticPerson>,
) {
    static MODEL: OnceLock<(
        Model,
        Vec<bedside_records::matching::synthetic::SyntheticPerson>,
    )> = OnceLock::new();
    MODEL.get_or_init(|| {
        let people = population(11, 1500, 0.3);
        let records: Vec<MatchRecord> = people.iter().map(|p| p.record.clone()).collect();
        (Matcher::default().train(&records), people)
    })
}

#[test]
fn em_learns_that_agreement_means_match() {
    let (model, _) = trained();
    for field in [
        Field::Given,
        Field::Family,
        Field::BirthDate,
        Field::Identifier,
    ] {
        let p = model.field(field);
        assert!(
            p.m[0] > p.u[0],
            "{field:?}: exact agreement is likelier for matches"
        );
        assert!(p.weight(0) > 0.0 && p.weight(3) < 0.0, "{field:?}");
        // Weights never increase as agreement weakens.
        assert!(
            p.weight(0) >= p.weight(1) && p.weight(1) >= p.weight(2) && p.weight(2) >= p.weight(3)
        );
    }
    assert!(model.prior() > 0.0 && model.prior() < 1.0);
}

#[test]
fn deduplication_finds_synthetic_duplicates() {
    let people = population(5, 2000, 0.3);
    let records: Vec<MatchRecord> = people.iter().map(|p| p.record.clone()).collect();
    let d = Matcher::default().deduplicate(&records);
    let mut truth = 0usize;
    let mut by_entity: HashMap<u32, usize> = HashMap::new();
    for p in &people {
        *by_entity.entry(p.entity).or_default() += 1;
    }
    for n in by_entity.values() {
        truth += n * (n - 1) / 2;
    }
    let mut tp = 0usize;
    let mut predicted = 0usize;
    for c in &d.clusters {
        for (x, &i) in c.iter().enumerate() {
            for &j in &c[x + 1..] {
                predicted += 1;
                if people[i].entity == people[j].entity {
                    tp += 1;
                }
            }
        }
    }
    let precision = tp as f64 / predicted as f64;
    let recall = tp as f64 / truth as f64;
    assert!(precision > 0.99, "precision {precision}");
    assert!(recall > 0.9, "recall {recall}");
    // Blocking keeps the work far below all pairs.
    let all_pairs = records.len() * (records.len() - 1) / 2;
    assert!(
        d.pairs_compared * 100 < all_pairs,
        "{} pairs",
        d.pairs_compared
    );
    // Every reported decision is explained field by field.
    let e = d.model.explain(&d.matches[0].comparison);
    assert_eq!(e.fields.len(), Field::ALL.len());
    assert_eq!(e.outcome, Outcome::Match);
}

#[test]
fn linking_two_sets() {
    let people = population(9, 600, 1.0);
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &people {
        if seen.insert(p.entity) {
            left.push(p.clone());
        } else if right
            .iter()
            .all(|r: &bedside_records::matching::synthetic::SyntheticPerson| r.entity != p.entity)
        {
            right.push(p.clone());
        }
    }
    let l: Vec<MatchRecord> = left.iter().map(|p| p.record.clone()).collect();
    let r: Vec<MatchRecord> = right.iter().map(|p| p.record.clone()).collect();
    let linkage = Matcher::default().link_datasets(&l, &r);
    let correct = linkage
        .matches
        .iter()
        .filter(|d| left[d.left].entity == right[d.right].entity)
        .count();
    assert_eq!(correct, linkage.matches.len(), "no false links");
    assert!(
        correct * 10 >= right.len() * 9,
        "{correct} of {}",
        right.len()
    );
}

#[test]
fn match_one_ranks_the_duplicate_first_and_grades_it() {
    let (model, people) = trained();
    let clock = Arc::new(ManualClock::new(
        "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
    ));
    let ids = SeededIdGenerator::new(clock, 3);
    let mut index = MatchIndex::new(model.clone(), MatcherConfig::default());
    let mut patient_of: HashMap<u32, PatientId> = HashMap::new();
    let mut queries = Vec::new();
    for p in people {
        if let std::collections::hash_map::Entry::Vacant(e) = patient_of.entry(p.entity) {
            let id: PatientId = ids.generate();
            e.insert(id);
            index.upsert(id, &p.record);
        } else {
            queries.push(p);
        }
    }
    assert!(queries.len() > 100);
    let mut top_correct = 0;
    for q in &queries {
        let found = index.match_one(&q.record, 5);
        if found.first().map(|m| m.patient) == patient_of.get(&q.entity).copied() {
            top_correct += 1;
            let m = &found[0];
            assert!((0.0..=1.0).contains(&m.score));
            assert_eq!(
                m.grade == MatchGrade::Certain,
                m.explanation.outcome == Outcome::Match
            );
        }
        // Ranked: scores never increase down the list.
        assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    }
    assert!(
        top_correct * 100 >= queries.len() * 95,
        "{top_correct} of {}",
        queries.len()
    );

    // Incremental update: removing a patient removes it from results.
    let q = &queries[0];
    let target = patient_of[&q.entity];
    assert!(index.remove(target));
    assert!(
        index
            .match_one(&q.record, 5)
            .iter()
            .all(|m| m.patient != target)
    );
    assert!(!index.remove(target));
}

#[test]
fn grades_follow_fhir_codes() {
    let (model, _) = trained();
    assert_eq!(
        MatchGrade::of(Outcome::Match, 0.99, model).code(),
        "certain"
    );
    assert_eq!(
        MatchGrade::of(Outcome::NonMatch, 0.01, model).code(),
        "certainly-not"
    );
    let t = model.thresholds();
    let high = MatchGrade::of(Outcome::PossibleMatch, t.match_probability - 1e-6, model);
    let low = MatchGrade::of(Outcome::PossibleMatch, t.review_probability, model);
    assert_eq!((high, low), (MatchGrade::Probable, MatchGrade::Possible));
}

#[test]
fn explanation_snapshot() {
    let (model, _) = trained();
    let a = person("Peggy", "Smith", "1970-03-04")
        .postcode("2600")
        .identifier("mrn", "10000001");
    let b = person("Margaret", "Smith", "1970-04-03")
        .postcode("2600")
        .identifier("mrn", "10000001");
    let e = Matcher::default().explain(model, &a, &b);
    assert_eq!(e.outcome, Outcome::Match);
    // Redact the estimated numbers; the structure and reasons are what a reviewer reads.
    let text: String = e
        .to_string()
        .lines()
        .map(|l| {
            l.split(['+', '-'])
                .next()
                .unwrap_or("")
                .trim_end()
                .to_owned()
        })
        .map(|l| {
            if l.starts_with("Match:") {
                "Match: probability <p>, total weight".to_owned()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(text);
    // No PHI in the explanation.
    assert!(!format!("{e:?}{e}").to_lowercase().contains("smith"));
}

#[test]
fn debug_output_has_no_phi() {
    let r = person("Peggy", "Smith", "1970-03-04")
        .phone("0412345678")
        .identifier("mrn", "X99");
    let text = format!("{r:?}");
    for secret in ["peggy", "smith", "1970", "0412", "x99"] {
        assert!(
            !text.to_lowercase().contains(secret),
            "{secret} leaked: {text}"
        );
    }
}

fn ids(n: usize) -> Vec<PatientId> {
    let clock = Arc::new(ManualClock::new(
        "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
    ));
    let g = SeededIdGenerator::new(clock, 1);
    let mut v: Vec<PatientId> = (0..n).map(|_| g.generate()).collect();
    v.sort();
    v
}

#[test]
fn link_registry_is_versioned_and_attributed() {
    let at: bedside_core::Timestamp = "2026-03-01T10:00:00Z".parse().unwrap_or_default();
    let p = ids(3);
    let actor = Actor::system("mpi-review");
    let mut links = LinkRegistry::new();
    assert_eq!(links.link(p[0], p[1], &actor, at), Ok(1));
    assert_eq!(links.link(p[1], p[2], &actor, at), Ok(2));
    assert_eq!(links.clusters(), vec![vec![p[0], p[1], p[2]]]);
    assert_eq!(
        links.link(p[1], p[0], &actor, at),
        Err(LinkError::AlreadyLinked { a: p[0], b: p[1] })
    );
    assert_eq!(links.link(p[0], p[0], &actor, at), Err(LinkError::SelfLink));
    assert_eq!(
        links.unlink(p[0], p[2], &actor, at),
        Err(LinkError::NotLinked { a: p[0], b: p[2] })
    );
    assert_eq!(links.version(), 2, "failed operations change nothing");
    assert_eq!(links.unlink(p[2], p[1], &actor, at), Ok(3));
    assert_eq!(links.clusters(), vec![vec![p[0], p[1]]]);
    assert_eq!(links.clusters_at(2), vec![vec![p[0], p[1], p[2]]]);
    assert!(links.history().iter().all(|e| e.actor == actor));
    let err = LinkError::NotLinked { a: p[0], b: p[1] }.to_string();
    assert!(err.starts_with("records `"), "{err}");
}

#[test]
fn clusters_of_edges() {
    assert_eq!(
        clusters_of(5, [(0, 3), (3, 4), (1, 2)]),
        vec![vec![0, 3, 4], vec![1, 2]]
    );
    assert_eq!(clusters_of(2, [(0, 7)]), Vec::<Vec<usize>>::new());
}

fn arb_record() -> impl Strategy<Value = MatchRecord> {
    (
        "[a-z]{2,10}",
        "[a-z]{2,12}",
        (1900u16..2025, 1u8..13, 1u8..29),
        proptest::option::of("[0-9]{4}"),
        proptest::option::of("[0-9]{10}"),
        proptest::option::of("[0-9]{7}"),
        proptest::option::of("[a-z]{3,8} (street|road)"),
    )
        .prop_map(|(g, f, (y, m, d), post, phone, id, street)| {
            let mut r = MatchRecord::new()
                .given(&g)
                .family(&f)
                .birth_date(BirthDate::from_parts(y, m, d));
            if let Some(p) = post {
                r = r.postcode(&p);
            }
            if let Some(p) = phone {
                r = r.phone(&p);
            }
            if let Some(i) = id {
                r = r.identifier("ssn", &i);
            }
            if let Some(s) = street {
                r = r.address_line(&s);
            }
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn score_is_symmetric(a in arb_record(), b in arb_record()) {
        let (model, _) = trained();
        let m = Matcher::default();
        let ab = m.explain(model, &a, &b);
        let ba = m.explain(model, &b, &a);
        prop_assert_eq!(ab.probability.to_bits(), ba.probability.to_bits());
        prop_assert_eq!(ab.total_weight.to_bits(), ba.total_weight.to_bits());
    }

    #[test]
    fn a_record_matches_an_exact_copy(a in arb_record()) {
        let (model, _) = trained();
        let e = Matcher::default().explain(model, &a, &a.clone());
        prop_assert_eq!(e.outcome, Outcome::Match);
        prop_assert!(e.fields.iter().all(|f| matches!(f.agreement, Agreement::Exact | Agreement::Missing)));
    }

    #[test]
    fn unlink_after_link_restores_clusters(
        edges in proptest::collection::vec((0usize..8, 0usize..8), 0..10),
        extra in (0usize..8, 0usize..8),
    ) {
        let at: bedside_core::Timestamp = "2026-03-01T10:00:00Z".parse().unwrap_or_default();
        let p = ids(8);
        let actor = Actor::system("test");
        let mut links = LinkRegistry::new();
        for (a, b) in edges {
            let _ = links.link(p[a], p[b], &actor, at);
        }
        let before = links.clusters();
        let (a, b) = extra;
        if links.link(p[a], p[b], &actor, at).is_ok() {
            prop_assert!(links.same_person(p[a], p[b]));
            prop_assert!(links.unlink(p[a], p[b], &actor, at).is_ok());
        }
        prop_assert_eq!(links.clusters(), before);
    }
}

#[test]
fn model_survives_serde_with_identical_decisions() -> Result<(), serde_json::Error> {
    let (model, people) = trained();
    let json = serde_json::to_string(model)?;
    let back: Model = serde_json::from_str(&json)?;
    let m = Matcher::default();
    for pair in people.windows(2).take(50) {
        let a = m.explain(model, &pair[0].record, &pair[1].record);
        let b = m.explain(&back, &pair[0].record, &pair[1].record);
        assert_eq!(a.probability.to_bits(), b.probability.to_bits());
    }
    Ok(())
}

#[test]
fn match_index_upsert_replaces_the_previous_record() {
    let (model, _) = trained();
    let p = ids(2);
    let mut index = MatchIndex::new(model.clone(), MatcherConfig::default());
    let old = person("Margaret", "Smith", "1970-03-14")
        .postcode("2600")
        .identifier("mrn", "1");
    let new = person("Aroha", "Te Whare", "2001-01-20")
        .postcode("6011")
        .identifier("mrn", "2");
    index.upsert(p[0], &old);
    index.upsert(p[1], &new);
    let similar = person("Aroha", "Te Whare", "2001-01-20")
        .postcode("6011")
        .identifier("mrn", "9");
    index.upsert(p[0], &similar);
    assert_eq!(index.len(), 2);
    assert!(index.match_one(&old, 5).is_empty());
    let found: Vec<PatientId> = index.match_one(&new, 5).iter().map(|m| m.patient).collect();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0], p[1],
        "the exact copy, identifier included, ranks first"
    );
}
