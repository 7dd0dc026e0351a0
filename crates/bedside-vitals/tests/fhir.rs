//! FHIR Observation import and export: partial blood pressure, the newer kinds, export
//! semantics (category, profile, date precision, code systems), lossless import, PHI-safe
//! errors and no panics on hostile input.

use bedside_core::{Actor, PatientId};
use bedside_vitals::{
    Batch, EffectivePrecision, IngestConfig, ReadingValue, RejectReason, Source, Tz, VitalKind,
    VitalsStore, fhir,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const P: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";
const PHI: &str = "Ada Lovelace 1985-12-10 MRN-4471";

fn patient() -> PatientId {
    P.parse()
        .unwrap_or_else(|_| PatientId::from_uuid(Default::default()))
}

fn batch(label: &str) -> Batch {
    Batch::new(
        label,
        &Actor::system("test-upload"),
        "2026-07-01T00:00:00Z".parse().unwrap_or_default(),
    )
}

fn store() -> VitalsStore {
    let mut s = VitalsStore::new(IngestConfig::default());
    s.register_patient(patient(), Tz::UTC);
    s
}

fn coding(code: &str) -> Value {
    json!({"coding": [{"system": "http://loinc.org", "code": code}]})
}

fn quantity(value: f64, code: &str) -> Value {
    json!({"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code})
}

fn absent() -> Value {
    json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown"}]})
}

fn observation(code: &str, rest: Value) -> Value {
    let mut o = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": coding(code),
        "subject": {"reference": format!("Patient/{P}")},
        "effectiveDateTime": "2026-06-03T08:00:00+02:00",
    });
    if let (Some(o), Value::Object(r)) = (o.as_object_mut(), rest) {
        o.extend(r);
    }
    o
}

fn bp(sys: Option<f64>, dia: Option<f64>) -> Value {
    let part = |code: &str, v: Option<f64>| match v {
        Some(v) => json!({"code": coding(code), "valueQuantity": quantity(v, "mm[Hg]")}),
        None => json!({"code": coding(code), "dataAbsentReason": absent()}),
    };
    observation(
        "85354-9",
        json!({"component": [part("8480-6", sys), part("8462-4", dia)]}),
    )
}

/// Ingests one Observation; the rejection reason, if any, and the store.
fn ingest(obs: &Value) -> (Option<RejectReason>, VitalsStore) {
    let mut s = store();
    let bytes = serde_json::to_vec(obs).unwrap_or_default();
    let r = fhir::ingest(&mut s, bytes.as_slice(), &Source::Clinic, &batch("t"));
    let reason = r
        .ok()
        .and_then(|r| r.report.rejections.first().map(|x| x.reason));
    (reason, s)
}

#[test]
fn partial_blood_pressure_is_stored_and_exported_with_data_absent_reason() {
    let cases = [
        (bp(Some(142.0), None), Some(142.0), None),
        (bp(None, Some(88.0)), None, Some(88.0)),
        (bp(Some(142.0), Some(88.0)), Some(142.0), Some(88.0)),
    ];
    for (obs, systolic, diastolic) in cases {
        let (reason, s) = ingest(&obs);
        assert_eq!(reason, None, "{obs}");
        let r = s.latest(patient(), VitalKind::BloodPressure);
        let Some(r) = r else { panic!("stored: {obs}") };
        assert_eq!(
            r.value,
            ReadingValue::BloodPressure {
                systolic,
                diastolic,
                mean: None
            }
        );
        let out = fhir::to_observation(&r, &format!("Patient/{P}"));
        let components = out["component"].as_array().cloned().unwrap_or_default();
        assert_eq!(components.len(), 2);
        for (c, v) in components.iter().zip([systolic, diastolic]) {
            assert_eq!(c.get("valueQuantity").is_some(), v.is_some(), "{c}");
            assert_eq!(c.get("dataAbsentReason").is_some(), v.is_none(), "{c}");
        }
        // The export ingests again to the same values.
        let (again, s2) = ingest(&out);
        assert_eq!(again, None, "{out}");
        let back = s2
            .latest(patient(), VitalKind::BloodPressure)
            .map(|b| b.value);
        assert_eq!(back, Some(r.value));
    }
    let (reason, _) = ingest(&bp(None, None));
    assert_eq!(reason, Some(RejectReason::NoValue));
    // A missing diastolic with no reason is still an error.
    let no_reason = observation(
        "85354-9",
        json!({"component": [{"code": coding("8480-6"), "valueQuantity": quantity(120.0, "mm[Hg]")}]}),
    );
    assert_eq!(
        ingest(&no_reason).0,
        Some(RejectReason::MissingField(bedside_vitals::Field::Diastolic))
    );
}

#[test]
fn head_circumference_and_mean_arterial_pressure() {
    let check = |obs: Value, kind: VitalKind, expected: f64| {
        let (reason, s) = ingest(&obs);
        assert_eq!(reason, None, "{obs}");
        let v = s.latest(patient(), kind).and_then(|r| r.value.primary());
        assert!(
            v.is_some_and(|v| (v - expected).abs() < 1e-9),
            "{kind}: {v:?}"
        );
    };
    let hc = |v: f64, u: &str| observation("9843-4", json!({"valueQuantity": quantity(v, u)}));
    check(hc(35.0, "cm"), VitalKind::HeadCircumference, 35.0);
    check(hc(14.0, "[in_i]"), VitalKind::HeadCircumference, 35.56);
    assert_eq!(ingest(&hc(350.0, "cm")).0, Some(RejectReason::Implausible));
    let map = observation("8478-0", json!({"valueQuantity": quantity(93.0, "mm[Hg]")}));
    check(map, VitalKind::MeanArterialPressure, 93.0);
    // Within a panel, 8478-0 is the mean component.
    let mut panel = bp(Some(120.0), Some(80.0));
    if let Some(c) = panel["component"].as_array_mut() {
        c.push(json!({"code": coding("8478-0"), "valueQuantity": quantity(93.0, "mm[Hg]")}));
    }
    let (_, s) = ingest(&panel);
    let mean = s
        .latest(patient(), VitalKind::BloodPressure)
        .and_then(|r| match r.value {
            ReadingValue::BloodPressure { mean, .. } => mean,
            ReadingValue::Single { .. } => None,
        });
    assert_eq!(mean, Some(93.0));
}

fn codes_have_systems(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            let ok = !m.contains_key("code")
                || !m.get("code").is_some_and(Value::is_string)
                || m.contains_key("system");
            ok && m.values().all(codes_have_systems)
        }
        Value::Array(a) => a.iter().all(codes_have_systems),
        _ => true,
    }
}

#[test]
fn export_semantics() {
    let day = observation(
        "2339-0",
        json!({"effectiveDateTime": "2026-06-03", "valueQuantity": quantity(126.0, "mg/dL")}),
    );
    let (reason, s) = ingest(&day);
    assert_eq!(reason, None);
    let Some(glucose) = s.latest(patient(), VitalKind::BloodGlucose) else {
        panic!("glucose stored")
    };
    assert_eq!(glucose.effective_precision, EffectivePrecision::Date);
    // A snapshot keeps the date-only precision.
    let restored = VitalsStore::restore(s.snapshot()).ok();
    assert_eq!(
        restored.and_then(|r| r.latest(patient(), VitalKind::BloodGlucose)),
        Some(glucose.clone())
    );
    let out = fhir::to_observation(&glucose, "Patient/p");
    assert_eq!(out["effectiveDateTime"], json!("2026-06-03"));
    assert!(out.get("category").is_none(), "{out}");
    assert!(out.get("meta").is_none(), "{out}");
    assert_eq!(out["valueQuantity"]["code"], json!("mmol/L"));
    assert!(codes_have_systems(&out));
    let temp = observation("8310-5", json!({"valueQuantity": quantity(98.6, "[degF]")}));
    let (_, s) = ingest(&temp);
    let Some(t) = s.latest(patient(), VitalKind::BodyTemperature) else {
        panic!("temperature stored")
    };
    let out = fhir::to_observation(&t, "Patient/p");
    assert_eq!(out["effectiveDateTime"], json!("2026-06-03T08:00:00+02:00"));
    assert_eq!(
        out["category"][0]["coding"][0]["code"],
        json!("vital-signs")
    );
    assert_eq!(out["meta"]["profile"][0], json!(fhir::VITAL_SIGNS_PROFILE));
    assert_eq!(out["valueQuantity"]["value"].as_f64(), Some(37.0));
    assert_eq!(out["valueQuantity"]["code"], json!("Cel"));
    assert!(codes_have_systems(&out));
}

#[test]
fn import_is_lossless() {
    let mut obs = bp(Some(142.0), None);
    if let Some(o) = obs.as_object_mut() {
        o.insert("id".into(), json!("bp-1"));
        o.insert("note".into(), json!([{"text": "after a walk"}]));
        o.insert("code".into(), json!({"coding": [{"system": "http://loinc.org", "code": "85354-9", "version": "2.7"}], "text": "BP"}));
        o.insert("effectiveDateTime".into(), json!("2026-06"));
        o.insert("valueString".into(), json!("x"));
    }
    let imported = fhir::import_observation(&obs);
    let Ok(imported) = imported else {
        panic!("imports: {imported:?}")
    };
    assert_eq!(imported.value.kind(), Some(VitalKind::BloodPressure));
    let out = imported.value.to_json();
    assert!(bedside_fhir::semantic_diff(&obs, &out).is_empty(), "{out}");
    let names: Vec<String> = imported.unmodelled.iter().map(|p| p.to_string()).collect();
    assert!(names.contains(&"Observation.note".to_string()), "{names:?}");
}

/// Every position the importer reads, for the PHI test.
const POSITIONS: &[&str] = &[
    "resourceType",
    "status",
    "code",
    "code.coding",
    "code.coding.0",
    "code.coding.0.code",
    "code.coding.0.system",
    "category",
    "category.0",
    "category.0.coding",
    "subject",
    "subject.reference",
    "effectiveDateTime",
    "effectiveInstant",
    "effectivePeriod",
    "effectivePeriod.start",
    "valueQuantity",
    "valueQuantity.value",
    "valueQuantity.unit",
    "valueQuantity.code",
    "valueQuantity.system",
    "dataAbsentReason",
    "device",
    "device.reference",
    "meta",
    "meta.profile",
    "component",
    "component.0",
    "component.0.code",
    "component.0.valueQuantity",
    "component.0.valueQuantity.value",
    "component.0.dataAbsentReason",
    "component.1.code.coding",
];

fn set(v: &mut Value, path: &str, new: Value) {
    let mut at = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let next = match (at, p.parse::<usize>()) {
            (Value::Array(a), Ok(n)) if n < a.len() => &mut a[n],
            (Value::Object(m), _) => {
                if last {
                    m.insert((*p).to_string(), new);
                    return;
                }
                m.entry((*p).to_string()).or_insert_with(|| json!({}))
            }
            _ => return,
        };
        if last {
            *next = new;
            return;
        }
        at = next;
    }
}

#[test]
fn errors_never_carry_input_text() {
    let bases = [
        observation(
            "8867-4",
            json!({"valueQuantity": quantity(72.0, "/min"), "device": {"reference": "Device/x"}}),
        ),
        bp(Some(142.0), None),
    ];
    let wrong = [
        json!(PHI),
        json!({ PHI: PHI }),
        json!([PHI]),
        json!([{ "value": PHI }]),
        json!(1985.1210),
        json!(true),
    ];
    let mut errors = 0;
    for base in &bases {
        for path in POSITIONS {
            for w in &wrong {
                let mut obs = base.clone();
                set(&mut obs, path, w.clone());
                if let Err(e) = fhir::import_observation(&obs) {
                    errors += 1;
                    for text in [e.to_string(), format!("{e:?}")] {
                        for needle in ["Ada", "Lovelace", "1985", "4471"] {
                            assert!(!text.contains(needle), "{path}: {text}");
                        }
                    }
                }
                let mut s = store();
                let bytes = serde_json::to_vec(&obs).unwrap_or_default();
                let r = fhir::ingest(&mut s, bytes.as_slice(), &Source::Clinic, &batch("t"));
                let shown = match r {
                    Ok(r) => format!("{:?} {}", r, r.report.summary()),
                    Err(e) => format!("{e} {e:?}"),
                };
                assert!(!shown.contains("Lovelace"), "{path}: {shown}");
            }
        }
    }
    assert!(
        errors > 50,
        "only {errors} errors: the strict positions refuse"
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1.0e12f64..1.0e12).prop_map(|f| json!(f)),
        "[a-zA-Z0-9:/.+\\- \\[\\]%]{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("final"),
            Just("2026-06-03"),
            Just("2026-06-03T08:00:00Z"),
            Just("+262142-12-31"),
            Just("8480-6"),
            Just("8462-4"),
            Just("85354-9"),
            Just("9843-4"),
            Just("http://loinc.org"),
            Just("mm[Hg]"),
            Just("[degF]"),
            Just("9999-12-31T23:59:59+14:00"),
        ]
        .prop_map(|s| json!(s)),
    ];
    let keys = prop_oneof![
        Just("status"),
        Just("code"),
        Just("coding"),
        Just("system"),
        Just("value"),
        Just("unit"),
        Just("component"),
        Just("valueQuantity"),
        Just("dataAbsentReason"),
        Just("subject"),
        Just("reference"),
        Just("effectiveDateTime"),
        Just("effectiveInstant"),
        Just("effectivePeriod"),
        Just("start"),
        Just("category"),
        Just("device"),
        Just("meta"),
        Just("profile"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// Drops empty objects and arrays (and members or items that become empty), which R4 JSON
/// never contains and `bedside-fhir`'s writer never writes (`"meta": {}` is not a Meta).
fn prune_empty(v: &mut Value) -> bool {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !prune_empty(x));
            m.is_empty()
        }
        Value::Array(a) => {
            a.retain_mut(|x| !prune_empty(x));
            a.is_empty()
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Hostile Observations never panic the importer or ingestion; whatever imports exports
    /// back unchanged.
    #[test]
    fn import_never_panics_and_is_lossless(mut obs in json_value(), status in prop::bool::ANY) {
        prune_empty(&mut obs);
        if let Value::Object(m) = &mut obs {
            m.insert("resourceType".into(), json!("Observation"));
            if status {
                m.insert("status".into(), json!("final"));
            }
        }
        if let Ok(imported) = fhir::import_observation(&obs) {
            let out = imported.value.to_json();
            prop_assert!(bedside_fhir::semantic_diff(&obs, &out).is_empty(), "{} -> {}", obs, out);
        }
        let mut s = store();
        let bytes = serde_json::to_vec(&obs).unwrap_or_default();
        if let Ok(r) = fhir::ingest(&mut s, bytes.as_slice(), &Source::Clinic, &batch("p")) {
            prop_assert_eq!(r.report.accepted + r.report.duplicate + r.report.rejected_total(), r.report.records);
            for k in VitalKind::ALL {
                for reading in s.all(patient(), k) {
                    let _ = fhir::to_observation(&reading, "Patient/p");
                }
            }
        }
    }
}
