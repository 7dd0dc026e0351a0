//! Import never panics and never loses anything: for arbitrary JSON objects shaped like the
//! resources Bedside models (right and wrong shapes mixed, Bedside's own extensions included),
//! import either reports an error or the export reproduces the input exactly — but for the
//! elements R4 requires, which export adds when the input lacked them.

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::fhir::{self, RoundTrip};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::Arc;

fn ids() -> SeededIdGenerator {
    SeededIdGenerator::new(
        Arc::new(ManualClock::new(
            "2026-01-01T00:00:00Z".parse().unwrap_or_default(),
        )),
        3,
    )
}

const KEYS: &[&str] = &[
    "id",
    "extension",
    "url",
    "valueBoolean",
    "valueCode",
    "valueString",
    "valueTime",
    "active",
    "identifier",
    "use",
    "type",
    "system",
    "value",
    "period",
    "start",
    "end",
    "assigner",
    "reference",
    "display",
    "name",
    "family",
    "given",
    "prefix",
    "text",
    "telecom",
    "rank",
    "gender",
    "birthDate",
    "deceasedBoolean",
    "deceasedDateTime",
    "address",
    "line",
    "city",
    "postalCode",
    "country",
    "contact",
    "relationship",
    "communication",
    "language",
    "preferred",
    "generalPractitioner",
    "managingOrganization",
    "link",
    "other",
    "maritalStatus",
    "multipleBirthBoolean",
    "multipleBirthInteger",
    "coding",
    "code",
    "meta",
    "security",
    "subject",
    "patient",
    "status",
    "class",
    "hospitalization",
    "dischargeDisposition",
    "participant",
    "individual",
    "reaction",
    "manifestation",
    "severity",
    "onsetDateTime",
    "category",
    "payor",
    "order",
    "subscriberId",
    "beneficiary",
    "criticality",
    "dosage",
    "content",
    "attachment",
    "_birthDate",
    "unknownThing",
];

const STRINGS: &[&str] = &[
    "",
    "male",
    "usual",
    "official",
    "home",
    "mobile",
    "phone",
    "email",
    "C",
    "seealso",
    "2020",
    "2020-02",
    "2020-02-30",
    "2021-03-04",
    "2021-03-04T05:06:07Z",
    "2021-03-04T05:06:07+05:30",
    "not a date",
    "Patient/0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f",
    "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f",
    "0190F5A4-6B2E-7C3D-8E4F-1A2B3C4D5E6F",
    "urn:ietf:bcp:47",
    "en-GB",
    "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "PSY",
    "R",
    "N",
    "http://terminology.hl7.org/CodeSystem/v2-0131",
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
    "https://fhir.bedside.invalid/StructureDefinition/contact-point-verified",
    "https://fhir.bedside.invalid/StructureDefinition/communication-preference",
    "https://fhir.bedside.invalid/StructureDefinition/quiet-hours",
    "https://fhir.bedside.invalid/StructureDefinition/proxy-scope",
    "https://fhir.bedside.invalid/StructureDefinition/discharge-instructions",
    "https://fhir.bedside.invalid/StructureDefinition/follow-up-plan",
    "purpose",
    "route",
    "channel",
    "sms",
    "opted-in",
    "zone",
    "Europe/London",
    "21:00:00",
    "records",
    "high",
    "severe",
    "active",
    "POST",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..5).prop_map(Value::from),
        (-2.5f64..2.5).prop_map(|f| Value::from((f * 4.0).round() / 4.0)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

fn resource() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "Patient",
            "RelatedPerson",
            "Coverage",
            "AllergyIntolerance",
            "Condition",
            "Encounter",
            "MedicationStatement",
            "DocumentReference",
            "Observation",
        ]),
        prop::collection::vec((prop::sample::select(KEYS), json()), 0..10),
        any::<bool>(),
    )
        .prop_map(|(t, kv, linked)| {
            let mut m: Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            // Give most resources their required patient reference so import gets past it.
            if linked {
                let key = if t == "AllergyIntolerance" || t == "RelatedPerson" {
                    "patient"
                } else {
                    "subject"
                };
                m.insert(key.into(), serde_json::json!({"reference": "Patient/1"}));
            }
            m.insert("resourceType".into(), Value::String(t.into()));
            Value::Object(m)
        })
}

fn bundle() -> impl Strategy<Value = Value> {
    prop::collection::vec((resource(), json(), any::<bool>()), 0..4).prop_map(|entries| {
        let entries: Vec<Value> = entries
            .into_iter()
            .map(|(r, request, full)| {
                let mut e = Map::new();
                e.insert("resource".into(), r);
                e.insert("request".into(), request);
                if full {
                    e.insert("fullUrl".into(), Value::String("urn:uuid:x".into()));
                }
                Value::Object(e)
            })
            .collect();
        serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    })
}

/// Elements R4 requires that export writes (derived, or with a data-absent-reason) when the
/// input lacked them.
const REQUIRED: &[&str] = &[
    "status",
    "class",
    "beneficiary",
    "payor",
    "medicationCodeableConcept",
    "content",
];

/// The value at a diff path (`$.entry[0].resource.status`).
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut here = v;
    for part in path
        .trim_start_matches('$')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        here = here.get(name)?;
        for index in rest.split('[').filter(|i| !i.is_empty()) {
            here = here.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(here)
}

/// Import fails cleanly, or export reproduces the input exactly but for required elements
/// the input lacked; and exporting again what that export imports to changes nothing.
fn outcome(text: &str) -> Result<(), String> {
    let Ok((imported, outcome)) = fhir::round_trip(text.as_bytes(), &ids()) else {
        return Ok(());
    };
    let input: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let RoundTrip::Lossy(paths) = outcome {
        for path in paths {
            let key = path.rsplit('.').next().unwrap_or_default();
            if !REQUIRED.contains(&key) || at(&input, &path).is_some() {
                return Err(format!("lost or changed `{path}`"));
            }
        }
    }
    let export = imported.value.to_fhir().to_string();
    match fhir::round_trip(export.as_bytes(), &ids()) {
        Ok((_, RoundTrip::Exact)) => Ok(()),
        other => Err(format!(
            "export does not round-trip: {:?}",
            other.map(|(_, o)| o)
        )),
    }
}

fn check(value: &Value) -> Result<(), TestCaseError> {
    let text = value.to_string();
    let result = outcome(&text);
    prop_assert!(result.is_ok(), "{:?}: {}", result, text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_resources_round_trip_exactly_or_fail_cleanly(r in resource()) {
        check(&r)?;
    }

    #[test]
    fn arbitrary_bundles_round_trip_exactly_or_fail_cleanly(b in bundle()) {
        check(&b)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = fhir::import(&bytes, &ids());
    }
}

/// Shapes the random generator rarely reaches, each of which once lost data.
#[test]
fn edge_shapes_round_trip_exactly() {
    let cases = [
        r#"{"resourceType": "Patient", "extension": null}"#,
        r#"{"resourceType": "Patient", "extension": []}"#,
        r#"{"resourceType": "Condition", "subject": {}, "meta": {}}"#,
        r#"{"resourceType": "Condition", "subject": {}, "meta": {"security": []}}"#,
        r#"{"resourceType": "Condition", "subject": {}, "meta": {"security": 7}}"#,
        r#"{"resourceType": "Encounter", "subject": {}, "hospitalization": {}}"#,
        r#"{"resourceType": "DocumentReference", "subject": {}, "content": [{"attachment": {}}]}"#,
        r#"{"resourceType": "Patient", "communication": [{}]}"#,
        r#"{"resourceType": "Coverage", "class": [{"value": "x"}]}"#,
        r#"{"resourceType": "Patient", "link": [{"other": {}, "type": "nonsense"}]}"#,
        r#"{"resourceType": "Patient", "extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/quiet-hours", "extension": []}]}"#,
        r#"{"resourceType": "Patient", "telecom": [{"extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/contact-point-verified", "valueBoolean": false}]}]}"#,
        r#"{"resourceType": "Bundle", "entry": [{"request": {"method": "POST"}}, {"resource": 5}]}"#,
        // Bedside's extensions before a foreign one, out of canonical order, duplicated or
        // partly malformed: all kept verbatim.
        r#"{"resourceType": "Patient", "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": true}, {"url": "http://x"}]}"#,
        r#"{"resourceType": "Patient", "extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/quiet-hours", "extension": [{"url": "zone", "valueCode": "UTC"}, {"url": "start", "valueTime": "21:00:00"}, {"url": "end", "valueTime": "07:00:00"}]}, {"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": true}]}"#,
        r#"{"resourceType": "Patient", "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": true}, {"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": false}]}"#,
        r#"{"resourceType": "Patient", "extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/communication-preference", "extension": [{"url": "purpose", "valueCode": "surveys"}]}, {"url": "https://fhir.bedside.invalid/StructureDefinition/communication-preference", "extension": [{"url": "purpose", "valueCode": "billing"}]}]}"#,
        r#"{"resourceType": "RelatedPerson", "patient": {}, "extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/proxy-scope", "valueCode": "billing"}, {"url": "https://fhir.bedside.invalid/StructureDefinition/proxy-scope", "valueCode": "everything"}]}"#,
        r#"{"resourceType": "Patient", "telecom": [{"extension": [{"url": "https://fhir.bedside.invalid/StructureDefinition/contact-point-verified", "valueBoolean": true}, {"url": "https://fhir.bedside.invalid/StructureDefinition/contact-point-verified", "valueBoolean": true}]}]}"#,
    ];
    for case in cases {
        assert_eq!(outcome(case), Ok(()), "{case}");
        assert!(fhir::round_trip(case.as_bytes(), &ids()).is_ok(), "{case}");
    }
}
