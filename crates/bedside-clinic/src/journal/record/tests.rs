//! The record types against the domain types: every fixture body reads to the command the
//! derived serde form reads, survives a trip through its record, and bad values are refused
//! by field name without the value.

use super::Entry;
use super::common::instant_text;
use crate::clinic::Command;
use crate::journal::tests::{essential, fixtures};
use crate::journal::{JournalError, decode};
use serde_json::Value;

/// The derived serde form of a command (what the domain types say today).
fn derived(command: &Command) -> Value {
    serde_json::to_value(command).expect("commands serialize")
}

/// Every fixture row: (where, kind, body).
fn rows() -> Vec<(String, String, String)> {
    fixtures()
        .into_iter()
        .flat_map(|(file, rows)| {
            rows.into_iter()
                .enumerate()
                .map(move |(i, (_, kind, body))| (format!("{file} line {}", i + 1), kind, body))
        })
        .collect()
}

#[test]
fn every_kind_survives_a_trip_through_its_record() {
    let mut kinds = std::collections::BTreeSet::new();
    for (at, kind, body) in rows() {
        let command = decode(&body).unwrap_or_else(|e| panic!("{at}: {e}"));
        let back = Command::try_from(Entry::from(&command)).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(derived(&back), derived(&command), "{at}");
        kinds.insert(kind);
    }
    assert_eq!(kinds.len(), 26, "{kinds:?}");
}

#[test]
fn format_1_bodies_read_to_what_the_derived_forms_say() {
    for (at, _, body) in rows() {
        let command = decode(&body).unwrap_or_else(|e| panic!("{at}: {e}"));
        let fixture: Value = serde_json::from_str(&body).expect("fixture JSON");
        assert_eq!(essential(derived(&command)), essential(fixture), "{at}");
        // The build that wrote format 1 read it through the derived forms: so do the records.
        let before: Command = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(derived(&command), derived(&before), "{at}");
    }
}

const PATIENT: &str = "01900000-0000-7000-8000-0000000000aa";
const STAFF: &str = r#"{"kind":"staff","id":"01900000-0000-7000-8000-000000000015","roles":["billing"],"organisation":"00000000-0000-0000-0000-000000c1141c"}"#;

#[test]
fn bodies_from_before_a_field_existed_read_as_the_derived_forms_did() {
    let charge = format!(
        r#"{{"kind":"charge","appointment":"{PATIENT}","codes":["99213"],"charge_ids":["{PATIENT}"],"claim":"{PATIENT}"}}"#
    );
    let payment = format!(
        r#"{{"kind":"payment","patient":"{PATIENT}","amount_minor":500,"id":"{PATIENT}"}}"#
    );
    let remittance = r#"{"kind":"remittance","body":"ISA*00~"}"#.to_string();
    let setup = fixtures()
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .find(|(_, kind, _)| kind == "setup")
        .map(|(_, _, body)| {
            let mut v: Value = serde_json::from_str(&body).expect("fixture JSON");
            let map = v.as_object_mut().expect("an object");
            map.remove("fees");
            map.remove("payer");
            v.to_string()
        })
        .expect("a setup fixture");
    for body in [charge, payment, remittance, setup] {
        let command = decode(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
        let before: Command = serde_json::from_str(&body).expect("the derived form reads it");
        assert_eq!(derived(&command), derived(&before), "{body}");
    }
}

/// A body with a bad value is `Invalid`, names `field`, and does not quote `secret`.
fn check_invalid(body: &str, field: &str, secret: &str) {
    match decode(body) {
        Err(JournalError::Invalid(message)) => {
            assert!(message.contains(&format!("`{field}`")), "{message}");
            assert!(!message.contains(secret), "{message}");
        }
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn invalid_values_are_refused_by_field_without_the_value() {
    let period = |start: &str, end: &str| format!(r#"{{"start":"{start}","end":"{end}"}}"#);
    let good = period("2026-06-10T06:00:00Z", "2026-06-11T00:00:00Z");
    for (body, field, secret) in [
        (
            r#"{"kind":"discharge","patient":"Maria-Garcia"}"#.to_string(),
            "patient",
            "Maria",
        ),
        (
            format!(r#"{{"kind":"verify_phone","patient":"{PATIENT}x","success":true}}"#),
            "patient",
            PATIENT,
        ),
        (
            r#"{"kind":"ack_alert","alert":"01900000-0000-7000-8000-0000000000aa","by":{"kind":"staff","id":"Maria Garcia","roles":[],"organisation":"00000000-0000-0000-0000-000000c1141c"}}"#.to_string(),
            "by.id",
            "Maria",
        ),
        (
            format!(
                r#"{{"kind":"add_note","patient":"{PATIENT}","text":"x","by":{{"kind":"staff","id":"{PATIENT}","roles":["Nurse Maria"],"organisation":"{PATIENT}"}}}}"#
            ),
            "by.roles",
            "Maria",
        ),
        (
            format!(
                r#"{{"kind":"unavailable","provider":"{PATIENT}","period":{},"by":{STAFF}}}"#,
                period("1984-03-02T25:00:00Z", "2026-06-11T00:00:00Z")
            ),
            "period",
            "1984",
        ),
        (
            format!(
                r#"{{"kind":"unavailable","provider":"{PATIENT}","period":{},"by":{STAFF}}}"#,
                period("2026-06-11T00:00:00Z", "1984-03-02T00:00:00Z")
            ),
            "period",
            "1984",
        ),
        (
            format!(r#"{{"kind":"unavailable","provider":"dr-maria","period":{good},"by":{STAFF}}}"#),
            "provider",
            "maria",
        ),
        (
            format!(
                r#"{{"kind":"register","patient":{{"id":"{PATIENT}","logical_id":{{"kind":"typed_id"}},"birth_date":"1984-13-45"}},"by":{STAFF}}}"#
            ),
            "patient.birth_date",
            "1984",
        ),
        (
            format!(
                r#"{{"kind":"update","patient":"{PATIENT}","base_version":1,"record":{{"id":"{PATIENT}","logical_id":{{"kind":"typed_id"}},"quiet_hours":{{"zone":"Maria/Garcia","start":"21:00:00","end":"08:00:00"}}}},"by":{STAFF}}}"#
            ),
            "quiet_hours.zone",
            "Maria",
        ),
        (
            format!(
                r#"{{"kind":"set_phone","patient":"{PATIENT}","phone":"+12125550177","verified":false,"code":{{"hash":"ab","expires_at":"1984-03-02"}},"by":{STAFF}}}"#
            ),
            "code",
            "1984",
        ),
    ] {
        check_invalid(&body, field, secret);
    }
}

#[test]
fn instants_are_written_as_the_derived_forms_wrote_them() {
    for text in [
        "2026-06-08T13:00:00Z",
        "2026-06-08T13:00:00.250Z",
        "2026-06-08T13:00:00.000250Z",
        "2026-06-08T13:00:00.000000250Z",
        "1970-01-01T00:00:00Z",
    ] {
        let at: bedside_core::Timestamp = text.parse().expect("an instant");
        let derived = serde_json::to_value(at).expect("instants serialize");
        assert_eq!(Value::String(instant_text(&at)), derived, "{text}");
        assert_eq!(instant_text(&at), text);
    }
}

#[test]
fn the_hold_kinds_survive_a_trip_through_their_records_and_are_pinned() {
    let by = format!(r#"{{"kind":"patient","patient":"{PATIENT}"}}"#);
    let option = r#"{"appointment_type":"gp-visit","provider":"01900000-0000-7000-8000-000000000001","room":"01900000-0000-7000-8000-00000000000a","period":{"start":"2026-06-09T13:00:00Z","end":"2026-06-09T13:15:00Z"},"score":0}"#;
    let hold = "01a23c91-e912-7756-bbb7-640d2d6118aa";
    let bodies = [
        format!(
            r#"{{"v":2,"kind":"hold","option":{option},"patient":"{PATIENT}","id":"{hold}","expires_at":"2026-06-08T13:10:00Z","by":{by}}}"#
        ),
        format!(
            r#"{{"v":2,"kind":"book_hold","hold":"{hold}","patient":"{PATIENT}","client_token":"hold:{hold}/key-1","id":"01a23c91-e912-7756-bbb7-640d2d6118bb","by":{STAFF}}}"#
        ),
    ];
    let mut text = String::new();
    for body in &bodies {
        let command = decode(body).unwrap_or_else(|e| panic!("{body}: {e}"));
        let back = Command::try_from(Entry::from(&command)).expect("a trip");
        assert_eq!(derived(&back), derived(&command), "{body}");
        let stored = crate::journal::encode(&command).expect("encode");
        assert_eq!(&stored, body, "written as read");
        text.push_str(&stored);
        text.push('\n');
    }
    insta::assert_snapshot!(text);
    // A bad value is refused by field, without the value.
    check_invalid(
        &bodies[0].replace("2026-06-08T13:10:00Z", "1984-13-45"),
        "expires_at",
        "1984",
    );
    check_invalid(&bodies[1].replace(hold, "Maria-Garcia"), "hold", "Maria");
}

#[test]
fn the_sign_in_commands_round_trip_in_format_2() {
    use crate::clinic::{PhoneCode, SignIn, SignInCode, SignInCodeEntry};
    use crate::journal::encode;
    let patient: bedside_core::PatientId = PATIENT.parse().expect("id");
    let code = SignInCode {
        codes: vec![SignInCodeEntry {
            patient,
            code: PhoneCode {
                hash: "ab".repeat(32),
                expires_at: "2026-06-08T13:15:00Z".parse().expect("instant"),
            },
        }],
    };
    let unknown = SignInCode { codes: Vec::new() };
    let failed = SignIn {
        patients: vec![patient],
        signed_in: None,
    };
    let signed_in = SignIn {
        patients: vec![patient],
        signed_in: Some(patient),
    };
    let expected = [
        format!(
            r#"{{"v":2,"kind":"sign_in_code","codes":[{{"patient":"{PATIENT}","code":{{"hash":"{}","expires_at":"2026-06-08T13:15:00Z"}}}}]}}"#,
            "ab".repeat(32)
        ),
        r#"{"v":2,"kind":"sign_in_code"}"#.to_string(),
        format!(r#"{{"v":2,"kind":"sign_in","patients":["{PATIENT}"]}}"#),
        format!(r#"{{"v":2,"kind":"sign_in","patients":["{PATIENT}"],"signed_in":"{PATIENT}"}}"#),
    ];
    let commands: [Command; 4] = [code.into(), unknown.into(), failed.into(), signed_in.into()];
    for (command, want) in commands.iter().zip(expected) {
        let stored = encode(command).expect("encode");
        assert_eq!(stored, want);
        let back = decode(&stored).expect("decode");
        assert_eq!(derived(&back), derived(command));
        assert_eq!(back.kind(), command.kind());
    }
    // A bad id is refused by field name, without quoting it.
    let bad = r#"{"v":2,"kind":"sign_in","patients":["Maria Garcia"]}"#;
    let e = decode(bad).expect_err("refused").to_string();
    assert!(e.contains("patients") && !e.contains("Maria"), "{e}");
}
