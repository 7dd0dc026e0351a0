//! Replaying a journal gives the same state whatever format its rows are in: each fixture
//! journal (format 1, written by the build before the record types) is replayed as stored,
//! re-encoded in today's format, and as a mix of both, and the three states are compared
//! through their snapshots (every field of the state, in a stable order).

use super::snapshot::SnapshotPosition;
use super::*;

type Rows = Vec<(String, String, String)>;

fn replayed(rows: &Rows) -> String {
    let config = ClinicConfig::default();
    let mut state = State::new(&config.policy_json).expect("policy");
    state.replay(rows, 0, &config).expect("the journal replays");
    let position = SnapshotPosition {
        commands: rows.len() as u64,
        audit: 0,
    };
    serde_json::to_string(&state.snapshot(position)).expect("snapshot JSON")
}

fn reencoded(rows: &Rows, every: usize) -> Rows {
    rows.iter()
        .enumerate()
        .map(|(i, (at, kind, body))| {
            let body = if i % every == 0 {
                crate::journal::encode(&crate::journal::decode(body).expect("format 1"))
                    .expect("encode")
            } else {
                body.clone()
            };
            (at.clone(), kind.clone(), body)
        })
        .collect()
}

#[test]
fn every_fixture_replays_to_the_same_state_in_either_format() {
    for (file, rows) in crate::journal::tests::fixtures() {
        let before = replayed(&rows);
        let after = replayed(&reencoded(&rows, 1));
        assert!(before == after, "{file}: format 2 replays to another state");
        let mixed = replayed(&reencoded(&rows, 2));
        assert!(
            before == mixed,
            "{file}: a mixed journal replays to another state"
        );
    }
}

/// What a storage error says (the operator's log line; clients see only "unavailable").
fn stored(e: ClinicError) -> String {
    match e {
        ClinicError::Storage(e) => e.to_string(),
        other => panic!("not a storage error: {other}"),
    }
}

#[test]
fn a_body_that_does_not_decode_names_its_position_not_its_content() {
    let (_, mut rows) = crate::journal::tests::fixtures()
        .into_iter()
        .find(|(_, rows)| rows.len() > 3)
        .expect("a fixture with a few rows");
    rows[2].2 = r#"{"v":2,"kind":"discharge","patient":"Maria Garcia"}"#.into();
    let config = ClinicConfig::default();
    let mut state = State::new(&config.policy_json).expect("policy");
    let e = stored(state.replay(&rows, 40, &config).expect_err("a bad row"));
    assert!(e.contains("command 43"), "{e}");
    assert!(!e.contains("Maria"), "{e}");
    rows[2].2 = r#"{"v":7,"kind":"discharge"}"#.into();
    let mut state = State::new(&config.policy_json).expect("policy");
    let e = stored(state.replay(&rows, 0, &config).expect_err("a newer format"));
    assert!(e.contains("command 3") && e.contains("format 7"), "{e}");
}
