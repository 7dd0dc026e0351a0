//! The journal format against journals written by the build before it (format 1, recorded
//! by the HTTP journeys and the trust table: `BEDSIDE_RECORD_JOURNALS=1 cargo test -p
//! bedside-clinic --test http --test trust`, before the record types existed).

use super::*;
use serde_json::Value;

/// One fixture journal: (file name, rows of (instant, kind, body)).
pub(crate) type Fixture = (String, Vec<(String, String, String)>);

/// Every fixture journal.
pub(crate) fn fixtures() -> Vec<Fixture> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture journals")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixture journals missing from {dir:?}");
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("fixture journal");
            let rows = text
                .lines()
                .map(|line| {
                    let mut parts = line.splitn(3, '\t');
                    let mut next = || parts.next().expect("three fields").to_string();
                    (next(), next(), next())
                })
                .collect();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, rows)
        })
        .collect()
}

/// A JSON value without the fields a format-2 body may leave out (`null`, `[]`, `{}`) and
/// without the version field.
pub(crate) fn essential(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "v")
                .map(|(k, v)| (k, essential(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(essential).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[test]
fn every_kind_is_in_the_fixtures() {
    let kinds: std::collections::BTreeSet<String> = fixtures()
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(_, kind, _)| kind))
        .collect();
    for kind in [
        "setup",
        "register",
        "set_phone",
        "verify_phone",
        "inbound_sms",
        "revoke_proxy",
        "update",
        "approve",
        "resolve_duplicate",
        "book",
        "cancel",
        "reschedule",
        "confirm",
        "stop_sms",
        "unavailable",
        "grant_proxy",
        "add_note",
        "discharge",
        "vitals",
        "check_in",
        "complete",
        "survey_answer",
        "charge",
        "remittance",
        "payment",
        "ack_alert",
    ] {
        assert!(kinds.contains(kind), "no fixture journals a {kind}");
    }
}

#[test]
fn format_1_bodies_are_read_without_losing_a_field() {
    for (file, rows) in fixtures() {
        for (i, (_, kind, body)) in rows.iter().enumerate() {
            let at = format!("{file} line {}", i + 1);
            assert_eq!(format_of(body), Ok(1), "{at}");
            let command = decode(body).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(command.kind(), kind, "{at}");
            let stored = encode(&command).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(format_of(&stored), Ok(FORMAT), "{at}");
            let old: Value = serde_json::from_str(body).expect("fixture JSON");
            let new: Value = serde_json::from_str(&stored).expect("encoded JSON");
            assert_eq!(essential(new), essential(old), "{at}: a field changed");
        }
    }
}

#[test]
fn format_2_bodies_read_back_to_the_same_body() {
    for (file, rows) in fixtures() {
        for (i, (_, _, body)) in rows.iter().enumerate() {
            let at = format!("{file} line {}", i + 1);
            let stored = encode(&decode(body).expect("format 1")).expect("encode");
            let again =
                encode(&decode(&stored).unwrap_or_else(|e| panic!("{at}: {e}"))).expect("encode");
            assert_eq!(again, stored, "{at}");
            assert!(
                stored.len() <= body.len() + 6,
                "{at}: format 2 is not larger"
            );
        }
    }
}

#[test]
fn unknown_formats_and_bad_bodies_are_refused_without_quoting_them() {
    let newer = r#"{"v":9,"kind":"discharge","patient":"01900000-0000-7000-8000-0000000000aa"}"#;
    assert_eq!(decode(newer).err(), Some(JournalError::UnknownFormat(9)));
    let later = r#"{"kind":"discharge","v":12,"patient":"01900000-0000-7000-8000-0000000000aa"}"#;
    assert_eq!(decode(later).err(), Some(JournalError::UnknownFormat(12)));
    for body in [
        "not json",
        r#"{"kind":"register","patient":"Maria Garcia 1984-03-02"}"#,
        r#"{"kind":"discharge","patient":"Maria Garcia"}"#,
        r#"{"kind":"no-such-kind","name":"Maria Garcia"}"#,
        r#"{"kind":"add_note","patient":"01900000-0000-7000-8000-0000000000aa","text":7,"by":"Maria Garcia"}"#,
    ] {
        let e = decode(body).expect_err(body).to_string();
        assert!(!e.contains("Maria") && !e.contains("1984"), "{e}");
    }
    // A kind a newer build added, in a format this one reads: upgrade, not "malformed"; a
    // known kind with a bad field stays malformed.
    let future = r#"{"v":2,"kind":"teleport","patient":"Maria Garcia"}"#;
    assert_eq!(decode(future).err(), Some(JournalError::UnknownKind));
    assert!(JournalError::UnknownKind.to_string().contains("upgrade"));
    let bad = r#"{"v":2,"kind":"discharge","patient":7}"#;
    assert!(matches!(decode(bad), Err(JournalError::Malformed(_))));
}

/// The command table names each kind once, the kinds added within format 2 included (an
/// older build reports those as unknown kinds, asking for an upgrade).
#[test]
fn the_command_table_lists_every_kind_once() {
    let mut kinds = Command::KINDS.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), Command::KINDS.len(), "a kind named twice");
    for kind in [
        "setup",
        "book",
        "hold",
        "book_hold",
        "sign_in_code",
        "sign_in",
    ] {
        assert!(Command::KINDS.contains(&kind), "{kind}");
    }
}

#[test]
fn the_format_2_forms_are_pinned() {
    // One body of each kind, as this build stores it: a change here is a change of the
    // on-disk format (add a format, never edit one).
    let mut seen = std::collections::BTreeMap::new();
    for (_, rows) in fixtures() {
        for (_, kind, body) in rows {
            seen.entry(kind)
                .or_insert_with(|| encode(&decode(&body).expect("format 1")).expect("encode"));
        }
    }
    let text: String = seen.values().map(|b| format!("{b}\n")).collect();
    insta::assert_snapshot!(text);
}
