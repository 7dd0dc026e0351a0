//! The `bedside-vitals` part of `fhir-roundtrip` and `fhir-export`.

use bedside_core::{Actor, PatientId};
use bedside_vitals::{Batch, IngestConfig, Source, Tz, VitalKind, VitalsStore, fhir, ndjson};
use serde_json::{Value, json};

/// The resource types `bedside-vitals` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &["Observation"];

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    let imported = fhir::import_observation(resource).map_err(|e| e.to_string())?;
    Ok(imported.value.to_json())
}

const PATIENT: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";
const DEVICE: &str = "0190f5a4-0000-7000-8000-000000000001";

/// One NDJSON line: minimal (manual, canonical unit) or typical (converted unit, an app).
fn line(kind: &str, at: &str, fields: &str, source: &str) -> String {
    format!(r#"{{"patient":"{PATIENT}","kind":"{kind}","at":"{at}",{fields},"source":"{source}"}}"#)
}

/// A FHIR Observation of one LOINC code, from a device, known only to the day.
fn observation(code: &str, day: u32, value: Value) -> Value {
    let mut obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{PATIENT}")},
        "effectiveDateTime": format!("2026-06-{day:02}"),
        "device": {"reference": format!("Device/{DEVICE}")},
    });
    if let (Some(o), Value::Object(v)) = (obs.as_object_mut(), value) {
        o.extend(v);
    }
    obs
}

fn ucum(value: f64, code: &str) -> Value {
    json!({"valueQuantity": {"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code}})
}

fn bp_component(code: &str, value: Option<f64>) -> Value {
    match value {
        Some(v) => json!({
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": v, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        }),
        None => json!({
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error"}]},
        }),
    }
}

/// Resources built from scratch through the crate's public API only: readings ingested
/// into a store (NDJSON for the minimal and typical ones; a FHIR Bundle for the ones with a
/// device, a date-only time or a partial blood pressure), then exported with
/// `fhir::to_observation`. Three or more per kind. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let Ok(patient) = PATIENT.parse::<PatientId>() else {
        return Vec::new();
    };
    let Ok(now) = "2026-07-01T00:00:00Z".parse() else {
        return Vec::new();
    };
    let clinic = Actor::system("eval-corpus");
    let mut store = VitalsStore::new(IngestConfig::default());
    store.register_patient(patient, Tz::Europe__London);
    let t = |hour: u32| format!("2026-05-01T{hour:02}:00:00+01:00");
    let lines = [
        line(
            "blood_pressure",
            &t(1),
            r#""systolic":120,"diastolic":80,"unit":"mm[Hg]""#,
            "manual",
        ),
        line(
            "blood_pressure",
            &t(2),
            r#""systolic":16,"diastolic":10,"mean":12,"unit":"kPa","position":"sitting""#,
            "app:cuff",
        ),
        line("heart_rate", &t(1), r#""value":72,"unit":"/min""#, "manual"),
        line(
            "heart_rate",
            &t(2),
            r#""value":88,"unit":"bpm""#,
            "app:watch",
        ),
        line(
            "respiratory_rate",
            &t(1),
            r#""value":16,"unit":"/min""#,
            "manual",
        ),
        line(
            "respiratory_rate",
            &t(2),
            r#""value":18,"unit":"breaths/min""#,
            "app:watch",
        ),
        line(
            "oxygen_saturation",
            &t(1),
            r#""value":97,"unit":"%""#,
            "manual",
        ),
        line(
            "oxygen_saturation",
            &t(2),
            r#""value":93,"unit":"%","on_oxygen":true"#,
            "app:oximeter",
        ),
        line(
            "body_temperature",
            &t(1),
            r#""value":37,"unit":"Cel""#,
            "manual",
        ),
        line(
            "body_temperature",
            &t(2),
            r#""value":98.6,"unit":"[degF]","site":"oral""#,
            "app:thermometer",
        ),
        line("body_weight", &t(1), r#""value":80,"unit":"kg""#, "manual"),
        line(
            "body_weight",
            &t(2),
            r#""value":176.4,"unit":"[lb_av]""#,
            "app:scale",
        ),
        line("body_height", &t(1), r#""value":180,"unit":"cm""#, "manual"),
        line(
            "body_height",
            &t(2),
            r#""value":70,"unit":"[in_i]""#,
            "clinic",
        ),
        line("bmi", &t(1), r#""value":24.7,"unit":"kg/m2""#, "manual"),
        line("bmi", &t(2), r#""value":22.1,"unit":"kg/m2""#, "app:scale"),
        line(
            "blood_glucose",
            &t(1),
            r#""value":5.5,"unit":"mmol/L""#,
            "manual",
        ),
        line(
            "blood_glucose",
            &t(2),
            r#""value":180,"unit":"mg/dL","meal":"fasting""#,
            "app:meter",
        ),
        line(
            "head_circumference",
            &t(1),
            r#""value":35,"unit":"cm""#,
            "manual",
        ),
        line(
            "head_circumference",
            &t(2),
            r#""value":14,"unit":"[in_i]""#,
            "clinic",
        ),
        line(
            "mean_arterial_pressure",
            &t(1),
            r#""value":93,"unit":"mm[Hg]""#,
            "manual",
        ),
        line(
            "mean_arterial_pressure",
            &t(2),
            r#""value":12,"unit":"kPa""#,
            "app:cuff",
        ),
    ];
    let _ = ndjson::ingest(
        &mut store,
        lines.join("\n").as_bytes(),
        &Batch::new("corpus", &clinic, now),
    );
    let bp = |sys, dia, mean: Option<f64>| {
        let mut c = vec![bp_component("8480-6", sys), bp_component("8462-4", dia)];
        if mean.is_some() {
            c.push(bp_component("8478-0", mean));
        }
        json!({"component": c})
    };
    let resources = [
        observation("85354-9", 3, bp(Some(142.0), None, None)),
        observation("55284-4", 4, bp(None, Some(88.0), None)),
        observation("85354-9", 5, bp(Some(150.0), Some(95.0), Some(113.0))),
        observation("8867-4", 3, ucum(60.0, "/min")),
        observation("9279-1", 3, ucum(14.0, "/min")),
        observation("59408-5", 3, ucum(99.0, "%")),
        observation("8331-1", 3, ucum(100.4, "[degF]")),
        observation("29463-7", 3, ucum(70_500.0, "g")),
        observation("8302-2", 3, ucum(1.75, "m")),
        observation("39156-5", 3, ucum(30.0, "kg/m2")),
        observation("2339-0", 3, ucum(126.0, "mg/dL")),
        observation("9843-4", 3, ucum(40.0, "cm")),
        observation("8478-0", 3, ucum(85.0, "mm[Hg]")),
    ];
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": resources.iter().map(|r| json!({"resource": r})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&bundle).unwrap_or_default();
    let _ = fhir::ingest(
        &mut store,
        bytes.as_slice(),
        &Source::Clinic,
        &Batch::new("corpus-fhir", &clinic, now),
    );
    let subject = format!("Patient/{PATIENT}");
    let variants = ["minimal", "typical", "everything", "partial"];
    let mut out = Vec::new();
    for kind in VitalKind::ALL {
        for (i, reading) in store.all(patient, kind).iter().enumerate() {
            let variant = variants.get(i).copied().unwrap_or("more");
            let name = format!("vitals-observation-{kind}-{variant}-{i}.json").replace('_', "-");
            out.push((name, fhir::to_observation(reading, &subject)));
        }
    }
    out
}
