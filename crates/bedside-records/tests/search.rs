//! Integration tests of `PatientIndex`: name (exact, prefix, typo, nickname), birth date,
//! identifier, phone, postcode, combinations, ranking, limits and incremental updates.

use bedside_core::{ManualClock, PatientId, SeededIdGenerator};
use bedside_records::matching::{BirthDate, MatchRecord};
use bedside_records::search::{PatientIndex, PatientQuery};
use proptest::prelude::*;
use std::sync::Arc;

fn ids(n: usize) -> Vec<PatientId> {
    let clock = Arc::new(ManualClock::new(
        "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
    ));
    let g = SeededIdGenerator::new(clock, 5);
    (0..n).map(|_| g.generate()).collect()
}

struct Fixture {
    index: PatientIndex,
    ids: Vec<PatientId>,
}

/// Five patients; positions in `ids` are used as names in the cases below.
fn fixture() -> Fixture {
    let ids = ids(5);
    let records = [
        MatchRecord::new()
            .given("Margaret")
            .family("Smith")
            .birth_date(BirthDate::parse("1970-03-14"))
            .postcode("2600")
            .phone("0412 345 678")
            .identifier("mrn", "A-1001"),
        MatchRecord::new()
            .given("Thomas")
            .family("Smyth")
            .birth_date(BirthDate::parse("1985-11-02"))
            .postcode("2600")
            .identifier("mrn", "A-1002"),
        MatchRecord::new()
            .given("Tom")
            .family("Smithers")
            .birth_date(BirthDate::parse("1970-07-01"))
            .postcode("3000")
            .phone("0400000000"),
        MatchRecord::new()
            .given("Aroha")
            .family("Te Whare")
            .birth_date(BirthDate::parse("2001-01-20"))
            .postcode("6011"),
        MatchRecord::new()
            .given("Margot")
            .family("Jones")
            .birth_date(BirthDate::parse("1970-03-14"))
            .postcode("2600"),
    ];
    let mut index = PatientIndex::new();
    for (id, r) in ids.iter().zip(&records) {
        index.upsert(*id, r);
    }
    Fixture { index, ids }
}

/// Runs `query` and checks the positions of the patients found, in rank order.
fn check(query: PatientQuery, expected: &[usize]) {
    let f = fixture();
    let got: Vec<usize> = f
        .index
        .search(&query)
        .iter()
        .filter_map(|h| f.ids.iter().position(|id| *id == h.patient))
        .collect();
    assert_eq!(got, expected, "{query:?}");
}

#[test]
fn name_searches() {
    check(PatientQuery::new().name("smith"), &[0, 2, 1]);
    check(PatientQuery::new().name("Smith Margaret"), &[0]);
    check(PatientQuery::new().name("smi"), &[0, 2]);
    check(PatientQuery::new().name("smiht"), &[0]);
    check(PatientQuery::new().name("smyth"), &[1, 0]);
    check(PatientQuery::new().name("peggy smith"), &[0]);
    check(PatientQuery::new().name("thomas"), &[1, 2]);
    check(PatientQuery::new().name("te whare"), &[3]);
    check(PatientQuery::new().name("marg"), &[0, 4]);
    check(PatientQuery::new().name("nobody"), &[]);
    check(PatientQuery::new(), &[]);
}

#[test]
fn other_criteria_and_combinations() {
    check(
        PatientQuery::new().birth_date(BirthDate::parse("1970-03-14")),
        &[0, 4],
    );
    check(
        PatientQuery::new().birth_date(BirthDate::parse("1970")),
        &[0, 2, 4],
    );
    check(
        PatientQuery::new().birth_date(BirthDate::parse("1970-07")),
        &[2],
    );
    check(PatientQuery::new().identifier("a1002"), &[1]);
    check(PatientQuery::new().phone("+0412-345-678"), &[0]);
    check(PatientQuery::new().postcode("2600"), &[0, 1, 4]);
    check(PatientQuery::new().postcode("2600").name("sm"), &[0, 1]);
    check(
        PatientQuery::new()
            .name("marg")
            .birth_date(BirthDate::parse("1970-03-14")),
        &[0, 4],
    );
    check(PatientQuery::new().name("jones").postcode("3000"), &[]);
    check(PatientQuery::new().postcode("2600").limit(2), &[0, 1]);
}

#[test]
fn incremental_updates() {
    let mut f = fixture();
    // Margaret changes her family name.
    f.index.upsert(
        f.ids[0],
        &MatchRecord::new()
            .given("Margaret")
            .family("Brown")
            .postcode("2600"),
    );
    let found = |index: &PatientIndex, q: &PatientQuery| -> Vec<PatientId> {
        index.search(q).into_iter().map(|h| h.patient).collect()
    };
    assert_eq!(
        found(&f.index, &PatientQuery::new().name("smith")),
        vec![f.ids[2], f.ids[1]]
    );
    assert_eq!(
        found(&f.index, &PatientQuery::new().name("brown")),
        vec![f.ids[0]]
    );
    assert!(found(&f.index, &PatientQuery::new().identifier("a1001")).is_empty());
    assert!(f.index.remove(f.ids[1]));
    assert!(!f.index.remove(f.ids[1]));
    assert_eq!(f.index.len(), 4);
    assert!(found(&f.index, &PatientQuery::new().name("smyth")).is_empty());
    // The freed slot is reused without confusing the patients.
    let newcomer = ids(6)[5];
    f.index
        .upsert(newcomer, &MatchRecord::new().given("Ana").family("Smyth"));
    assert_eq!(
        found(&f.index, &PatientQuery::new().name("smyth")),
        vec![newcomer]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every indexed patient is found by their exact family name, given name and birth date,
    /// and no result violates a criterion.
    #[test]
    fn every_patient_is_found_by_exact_name(
        people in proptest::collection::vec(("[a-z]{2,8}", "[a-z]{4,9}", 1950u16..2000, 1u8..13, 1u8..29), 1..40)
    ) {
        let ids = ids(people.len());
        let mut index = PatientIndex::new();
        for (id, (g, f, y, m, d)) in ids.iter().zip(&people) {
            index.upsert(*id, &MatchRecord::new().given(g).family(f).birth_date(BirthDate::from_parts(*y, *m, *d)));
        }
        for (id, (g, f, y, m, d)) in ids.iter().zip(&people) {
            let q = PatientQuery::new()
                .name(&format!("{f} {g}"))
                .birth_date(BirthDate::from_parts(*y, *m, *d))
                .limit(1000);
            let hits = index.search(&q);
            prop_assert!(hits.iter().any(|h| h.patient == *id));
            prop_assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        }
    }
}
