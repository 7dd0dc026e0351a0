//! FHIR import and export of `Schedule`, `Slot` and `Appointment`: exports from every state
//! the domain API reaches are complete, import never echoes input and never panics, and an
//! accepted resource always exports back unchanged.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected error"
)]

mod common;

use bedside_core::{Actor, PatientId};
use bedside_schedule::fhir::{self, RoundTrip};
use bedside_schedule::{BookRequest, CancelReason, CancelRequest, RescheduleRequest};
use common::{at, clinic, query, staff};
use proptest::prelude::*;
use serde_json::{Value, json};

const PHI: &str = "Ada Lovelace 1985-12-10 MRN-4471";

fn slot() -> Value {
    json!({"resourceType": "Slot", "id": "s1",
        "identifier": [{"system": "http://example.org/slots", "value": "123"}],
        "serviceCategory": [{"coding": [{"code": "17"}]}],
        "serviceType": [{"coding": [{"code": "57"}]}],
        "specialty": [{"coding": [{"code": "408480009"}]}],
        "appointmentType": {"coding": [{"code": "WALKIN"}]},
        "schedule": {"reference": "Schedule/example"}, "status": "free",
        "start": "2026-06-01T09:00:00Z", "end": "2026-06-01T09:15:00Z",
        "overbooked": false, "comment": "c", "meta": {"versionId": "1"},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})
}

fn schedule() -> Value {
    json!({"resourceType": "Schedule", "id": "example", "active": true,
        "identifier": [{"use": "usual", "system": "http://example.org/scheduleid", "value": "45"}],
        "serviceCategory": [{"coding": [{"code": "17"}]}],
        "serviceType": [{"coding": [{"code": "57"}]}],
        "specialty": [{"coding": [{"code": "408480009"}]}],
        "actor": [{"reference": "Location/1", "display": "South Wing"}],
        "planningHorizon": {"start": "2026-06-01T09:00:00Z", "end": "2026-06-01T10:00:00Z"},
        "comment": "c"})
}

fn appointment() -> Value {
    json!({"resourceType": "Appointment", "id": "a1", "status": "booked",
        "cancelationReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason", "code": "pat"}]},
        "serviceCategory": [{"coding": [{"code": "gp"}]}],
        "serviceType": [{"coding": [{"code": "52"}]}],
        "specialty": [{"coding": [{"code": "394814009"}]}],
        "appointmentType": {"coding": [{"code": "FOLLOWUP"}]},
        "reasonCode": [{"text": "r"}], "reasonReference": [{"reference": "Condition/1"}],
        "priority": 5, "description": "d",
        "supportingInformation": [{"reference": "DiagnosticReport/1"}],
        "start": "2026-06-01T09:00:00Z", "end": "2026-06-01T09:30:00Z",
        "minutesDuration": 30, "slot": [{"reference": "Slot/1"}], "created": "2026-05-01",
        "comment": "c", "patientInstruction": "p", "basedOn": [{"reference": "ServiceRequest/1"}],
        "participant": [{"type": [{"coding": [{"code": "ATND"}]}],
            "actor": {"reference": "Patient/1", "display": "Peter"}, "required": "required",
            "status": "accepted",
            "period": {"start": "2026-06-01T09:00:00Z", "end": "2026-06-01T09:30:00Z"}}],
        "requestedPeriod": [{"start": "2026-06-01T09:00:00Z", "end": "2026-06-01T12:00:00Z"}]})
}

/// Wrongly typed stand-ins for an element, each carrying the PHI-like text.
fn hostile_values() -> Vec<Value> {
    vec![
        json!(PHI),
        json!({"reference": PHI, "value": PHI, "start": PHI}),
        json!([PHI]),
        json!([{"x": PHI}]),
        json!(4471),
        json!(-1),
        json!(1.5e300),
        json!(true),
        json!(null),
        json!({}),
        json!([]),
    ]
}

/// Every object path (as JSON pointers) in `v`, the root included.
fn object_paths(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, item) in map {
                object_paths(item, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                object_paths(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Asserts the refusal, if any, shows no input; returns whether it was refused.
fn assert_no_phi(input: &Value) -> bool {
    let Err(e) = fhir::round_trip(input.to_string().as_bytes()) else {
        return false;
    };
    let shown = format!("{e} {e:?}");
    for part in ["Ada", "Lovelace", "1985", "4471"] {
        assert!(!shown.contains(part), "`{shown}` leaks input for {input}");
    }
    true
}

#[test]
fn errors_never_carry_input_text() {
    let (mut cases, mut refused) = (0, 0);
    for base in [slot(), schedule(), appointment()] {
        let mut objects = Vec::new();
        object_paths(&base, String::new(), &mut objects);
        for pointer in objects {
            let keys: Vec<String> = base
                .pointer(&pointer)
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            // Every element replaced by every wrong shape, and a foreign key added.
            for key in keys.iter().map(String::as_str).chain([PHI]) {
                for bad in hostile_values() {
                    let mut v = base.clone();
                    if let Some(Value::Object(o)) = v.pointer_mut(&pointer) {
                        o.insert(key.to_string(), bad);
                    }
                    refused += usize::from(assert_no_phi(&v));
                    cases += 1;
                }
            }
        }
        // The PHI-like text as the resource type, and as bytes that are not JSON.
        let mut v = base.clone();
        v["resourceType"] = json!(PHI);
        assert!(assert_no_phi(&v));
        let broken = format!("{{\"resourceType\": \"Slot\", \"comment\": \"{PHI}");
        let e = fhir::round_trip(broken.as_bytes()).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("Ada"));
    }
    assert!(
        cases > 1000 && refused > 100,
        "{cases} cases, {refused} refused"
    );
}

#[test]
fn hostile_inputs_are_refused_or_kept_without_panic() {
    let deep = format!(
        "{{\"resourceType\":\"Slot\",\"x\":{}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let cases: Vec<String> = vec![
        deep,
        r#"{"resourceType":"Appointment","status":"cancelled","participant":[{"actor":{},"status":"declined","period":{"end":"+262142-12-31"}}],"requestedPeriod":[{"end":"9999-12-31"}]}"#.into(),
        r#"{"resourceType":"Schedule","actor":[{}],"planningHorizon":{"start":"9999-12-31T23:59:59+14:00","end":"0001-01-01"}}"#.into(),
        r#"{"resourceType":"Slot","schedule":{},"status":"free","start":"9999-12-31T23:59:59-14:00","end":"9999-12-31T23:59:60Z"}"#.into(),
        r#"{"resourceType":"Appointment","status":"waitlist","minutesDuration":18446744073709551616,"priority":-0,"participant":[{"type":[],"status":"tentative"}]}"#.into(),
        r#"{"resourceType":"Appointment","status":"proposed","participant":[null,1]}"#.into(),
        "\u{feff}{}".into(),
        "".into(),
    ];
    for case in cases {
        let _ = fhir::round_trip(case.as_bytes());
        let _ = fhir::import_bytes(case.as_bytes());
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9 :+.\\-#/]{0,24}".prop_map(Value::String),
        Just(json!("2026-06-01T09:00:00Z")),
        Just(json!("free")),
        Just(json!("accepted")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever replaces an element, import does not panic, and what it accepts exports
    /// back unchanged (nothing is ever dropped).
    #[test]
    fn accepted_resources_round_trip_exactly(
        which in 0usize..3,
        pick in any::<prop::sample::Index>(),
        value in json_value(),
    ) {
        let mut base = [slot(), schedule(), appointment()][which].clone();
        let mut objects = Vec::new();
        object_paths(&base, String::new(), &mut objects);
        let pointer = pick.get(&objects).clone();
        let keys: Vec<String> = base
            .pointer(&pointer)
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let key = keys[pick.index(keys.len())].clone();
        if key != "resourceType"
            && let Some(Value::Object(o)) = base.pointer_mut(&pointer)
        {
            o.insert(key, value);
        }
        if let Ok((_, outcome)) = fhir::round_trip(base.to_string().as_bytes()) {
            prop_assert_eq!(outcome, RoundTrip::Exact);
        }
    }
}

/// Checks what R4 requires of an exported appointment, and that it imports back exactly.
fn check_appointment(v: &Value, status: &str, cancel_code: Option<&str>) {
    assert_eq!(v["status"], status, "{v}");
    let participants = v["participant"].as_array().unwrap();
    assert!(!participants.is_empty());
    for p in participants {
        assert!(p["status"].is_string(), "{p}");
    }
    let reason = v["cancelationReason"]["coding"][0].clone();
    match cancel_code {
        Some(code) => {
            assert_eq!(
                reason["system"],
                "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
            );
            assert_eq!(reason["code"], code);
        }
        None => assert!(v.get("cancelationReason").is_none(), "{v}"),
    }
    let mut codings = Vec::new();
    collect_codings(v, &mut codings);
    assert!(!codings.is_empty());
    for c in codings {
        assert!(c["system"].is_string(), "coding without a system: {c}");
    }
    assert_eq!(
        fhir::round_trip(v.to_string().as_bytes()).unwrap().1,
        RoundTrip::Exact
    );
}

fn collect_codings<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(cs)) = o.get("coding") {
                out.extend(cs);
            }
            o.values().for_each(|x| collect_codings(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_codings(x, out)),
        _ => {}
    }
}

fn participant_status(v: &Value, reference_prefix: &str) -> String {
    v["participant"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["actor"]["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with(reference_prefix))
        })
        .map(|p| p["status"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn exports_from_every_appointment_state_are_complete() {
    let mut c = clinic();
    let export = |c: &common::Clinic, id| {
        fhir::schedule_appointment_to_fhir(&c.schedule, id)
            .unwrap()
            .to_json()
    };
    let book = |c: &mut common::Clinic, code: &str, n: usize| {
        let patient: PatientId = c.ids.generate();
        let o = c
            .schedule
            .find_slots(&query(c, code, Some(patient)))
            .unwrap()[n]
            .clone();
        let id = c
            .schedule
            .book(
                &BookRequest::new(&o, patient, &format!("t{n}{code}"), c.ids.generate()),
                &staff(),
                c.now,
            )
            .unwrap();
        (id, patient)
    };
    let (id, _) = book(&mut c, "derm-new", 0);
    check_appointment(&export(&c, id), "booked", None);

    let (id, patient) = book(&mut c, "derm-new", 1);
    let actor = Actor::Patient { patient };
    c.schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Patient),
            &actor,
            c.now,
        )
        .unwrap();
    let v = export(&c, id);
    check_appointment(&v, "cancelled", Some("pat"));
    assert_eq!(participant_status(&v, "Patient/"), "declined");
    assert_eq!(participant_status(&v, "Practitioner/"), "accepted");

    let (id, _) = book(&mut c, "derm-new", 2);
    c.schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Provider),
            &staff(),
            c.now,
        )
        .unwrap();
    let v = export(&c, id);
    check_appointment(&v, "cancelled", Some("prov"));
    assert_eq!(participant_status(&v, "Practitioner/"), "declined");

    for (n, reason) in [
        CancelReason::Clinic,
        CancelReason::Rescheduled,
        CancelReason::Other,
    ]
    .into_iter()
    .enumerate()
    {
        let (id, _) = book(&mut c, "gp-video", n);
        c.schedule
            .cancel(&CancelRequest::new(id, reason), &staff(), c.now)
            .unwrap();
        check_appointment(&export(&c, id), "cancelled", Some("other"));
    }

    let (id, _) = book(&mut c, "derm-proc", 0);
    let later = c
        .schedule
        .find_slots(&query(&c, "derm-proc", None))
        .unwrap()[1]
        .clone();
    c.schedule
        .reschedule(&RescheduleRequest::new(id, &later), &staff(), c.now)
        .unwrap();
    check_appointment(&export(&c, id), "booked", None);
    let start = c.schedule.appointment(id).unwrap().period.start();
    c.schedule.check_in(id, &staff(), start).unwrap();
    check_appointment(&export(&c, id), "arrived", None);
    c.schedule.fulfil(id, &staff(), start).unwrap();
    check_appointment(&export(&c, id), "fulfilled", None);

    let (id, _) = book(&mut c, "gp-video", 3);
    c.schedule
        .mark_no_show(id, &staff(), at("2026-06-20T00:00:00Z"))
        .unwrap();
    let v = export(&c, id);
    check_appointment(&v, "noshow", None);
    // Without the schedule there is no appointment type, but the service type keeps its system.
    let bare = fhir::appointment_to_fhir(c.schedule.appointment(id).unwrap()).to_json();
    assert!(bare.get("appointmentType").is_none());
    check_appointment(&bare, "noshow", None);
}
