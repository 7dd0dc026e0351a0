//! FHIR R4 import (`Observation`, `Bundle` of them) and export (vital-signs `Observation`).
//!
//! Import streams: a Bundle's `entry` array is visited one entry at a time, so memory holds
//! one resource, never the whole file. An Observation is a vitals record when its code is a
//! supported kind (including legacy LOINC aliases) or its category is `vital-signs`; other
//! resources (Patient, Encounter, lab Observations, …) are counted and skipped. Each vitals
//! record gets exactly one [`Outcome`] in the [`BatchReport`]; its [`Position`] record is the
//! entry index (0 for a bare Observation).
//!
//! Accepted statuses are `final`, `amended` and `corrected`; others are
//! [`RejectReason::NotFinal`]. `effectiveDateTime`, `effectiveInstant` and
//! `effectivePeriod.start` give the instant; a date-only value means midnight UTC.
//! Blood pressure is read from components 8480-6 (systolic), 8462-4 (diastolic) and 8478-0
//! (mean). The subject reference is resolved with [`VitalsStore::resolve_reference`].

use crate::error::{Field, RejectReason, VitalsError};
use crate::flat::{LimitedReader, ResourceBudget};
use crate::kind::{
    LOINC_DIASTOLIC, LOINC_MEAN_BP, LOINC_SYSTOLIC, LOINC_VITAL_SIGNS_PANEL, ReadingContext,
    TemperatureSite, VitalKind,
};
use crate::reading::{Position, Reading, ReadingValue, Source};
use crate::store::{BatchReport, Candidate, Outcome, VitalsStore};
use crate::timefmt;
use crate::unit::Unit;
use bedside_core::Clock;
use bedside_core::code::system;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};
use std::io::Read;

/// The observation-category code system.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// The base vital-signs profile.
pub const VITAL_SIGNS_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";

/// The outcome of a FHIR import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FhirReport {
    /// Outcomes of the vitals records (Observations).
    pub report: BatchReport,
    /// Resources that are not vitals records (skipped, not outcomes).
    pub skipped_resources: u64,
    /// Vitals records whose category is `vital-signs` (a subset of `report.records`).
    pub vital_signs_category: u64,
}

type OnResource<'f> = dyn FnMut(u32, Value) + 'f;

struct EntriesSeed<'a, 'f> {
    on: &'a mut OnResource<'f>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Bundle entry array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0u32;
        while let Some(entry) = seq.next_element::<Value>()? {
            let resource = match entry {
                Value::Object(mut m) => m.remove("resource").unwrap_or(Value::Null),
                _ => Value::Null,
            };
            (self.on)(i, resource);
            i = i.saturating_add(1);
        }
        Ok(())
    }
}

struct TopSeed<'a, 'f> {
    on: &'a mut OnResource<'f>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Map<String, Value>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a FHIR resource object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut top = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "entry" {
                map.next_value_seed(EntriesSeed { on: &mut *self.on })?;
            } else {
                let v: Value = map.next_value()?;
                top.insert(key, v);
            }
        }
        Ok(top)
    }
}

/// Streams the resources of one FHIR JSON document (a resource, or a Bundle's entries) to
/// `on(index, resource)`.
fn stream_resources<R: Read>(
    input: R,
    max_resource_bytes: usize,
    on: &mut OnResource<'_>,
) -> Result<(), VitalsError> {
    let budget = ResourceBudget::new(max_resource_bytes);
    let reader = std::io::BufReader::new(LimitedReader::new(input, budget.clone()));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut each = |i: u32, v: Value| {
        on(i, v);
        budget.reset();
    };
    let top = TopSeed { on: &mut each }
        .deserialize(&mut de)
        .and_then(|top| de.end().map(|()| top))
        .map_err(|e| VitalsError::Format {
            format: "fhir json",
            detail: if budget.exceeded() {
                format!("a resource exceeds {max_resource_bytes} bytes")
            } else {
                format!(
                    "{} at line {} column {}",
                    classify(&e),
                    e.line(),
                    e.column()
                )
            },
        })?;
    if top.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        on(0, Value::Object(top));
    }
    Ok(())
}

fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected structure",
        serde_json::error::Category::Eof => "unexpected end of input",
    }
}

/// The references by which the patients in a FHIR document can be cited: `Patient/<id>` for
/// every Patient resource, and the entry's `urn:uuid:<id>` form. Streams like [`ingest`].
///
/// # Errors
/// [`VitalsError::Format`] when the input is not a JSON object.
pub fn patient_references<R: Read>(input: R) -> Result<Vec<String>, VitalsError> {
    let mut out = Vec::new();
    stream_resources(
        input,
        crate::store::DEFAULT_MAX_RESOURCE_BYTES,
        &mut |_, resource| {
            if resource.get("resourceType").and_then(Value::as_str) == Some("Patient") {
                if let Some(id) = resource.get("id").and_then(Value::as_str) {
                    out.push(format!("Patient/{id}"));
                    out.push(format!("urn:uuid:{id}"));
                }
            }
        },
    )?;
    Ok(out)
}

fn loinc_codes(concept: Option<&Value>) -> impl Iterator<Item = &str> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(system::LOINC))
        .filter_map(|c| c.get("code").and_then(Value::as_str))
}

fn is_vital_signs(obs: &Value) -> bool {
    obs.get("category")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("coding").and_then(Value::as_array))
        .flatten()
        .any(|c| {
            c.get("code").and_then(Value::as_str) == Some("vital-signs")
                && c.get("system").and_then(Value::as_str) == Some(OBSERVATION_CATEGORY)
        })
}

fn quantity(q: Option<&Value>) -> Result<Option<(f64, Unit)>, RejectReason> {
    let Some(q) = q else { return Ok(None) };
    let value = q
        .get("value")
        .and_then(Value::as_f64)
        .ok_or(RejectReason::InvalidField(Field::Value))?;
    let ucum = q
        .get("code")
        .filter(|_| {
            q.get("system")
                .and_then(Value::as_str)
                .is_none_or(|s| s == system::UCUM)
        })
        .and_then(Value::as_str);
    let unit = ucum
        .or_else(|| q.get("unit").and_then(Value::as_str))
        .ok_or(RejectReason::MissingField(Field::Unit))?;
    let unit = Unit::parse(unit).ok_or(RejectReason::UnknownUnit)?;
    Ok(Some((value, unit)))
}

fn component<'v>(obs: &'v Value, code: &str) -> Option<&'v Value> {
    obs.get("component")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| loinc_codes(c.get("code")).any(|k| k == code))
}

fn observation_candidate(
    store: &mut VitalsStore,
    obs: &Value,
    kind: VitalKind,
    default_source: &Source,
) -> Result<Candidate, RejectReason> {
    match obs.get("status").and_then(Value::as_str) {
        Some("final" | "amended" | "corrected") => {}
        _ => return Err(RejectReason::NotFinal),
    }
    let reference = obs
        .get("subject")
        .and_then(|s| s.get("reference"))
        .and_then(Value::as_str)
        .ok_or(RejectReason::MissingField(Field::Patient))?;
    let patient = store
        .resolve_reference(reference)
        .ok_or(RejectReason::UnknownPatient)?;
    let at = obs
        .get("effectiveDateTime")
        .or_else(|| obs.get("effectiveInstant"))
        .or_else(|| obs.get("effectivePeriod").and_then(|p| p.get("start")))
        .and_then(Value::as_str)
        .ok_or(RejectReason::MissingField(Field::At))?;
    let stamp = timefmt::parse_fhir_datetime(at).ok_or(RejectReason::InvalidField(Field::At))?;
    let absent = obs.get("dataAbsentReason").is_some();
    let (v0, v1, mean, unit) = if kind == VitalKind::BloodPressure {
        let sys = quantity(component(obs, LOINC_SYSTOLIC).and_then(|c| c.get("valueQuantity")))?;
        let dia = quantity(component(obs, LOINC_DIASTOLIC).and_then(|c| c.get("valueQuantity")))?;
        let mean = quantity(component(obs, LOINC_MEAN_BP).and_then(|c| c.get("valueQuantity")))?;
        match (sys, dia) {
            (Some((s, u)), Some((d, du))) if u == du => {
                (s, Some(d), mean.filter(|m| m.1 == u).map(|m| m.0), u)
            }
            (Some(_), Some(_)) => return Err(RejectReason::UnknownUnit),
            _ if absent
                || obs.get("component").is_some_and(|c| {
                    c.as_array()
                        .is_some_and(|a| a.iter().all(|x| x.get("dataAbsentReason").is_some()))
                }) =>
            {
                return Err(RejectReason::NoValue);
            }
            (None, _) => return Err(RejectReason::MissingField(Field::Systolic)),
            (_, None) => return Err(RejectReason::MissingField(Field::Diastolic)),
        }
    } else {
        match quantity(obs.get("valueQuantity"))? {
            Some((v, u)) => (v, None, None, u),
            None if absent => return Err(RejectReason::NoValue),
            None => return Err(RejectReason::MissingField(Field::Value)),
        }
    };
    let codes: Vec<&str> = loinc_codes(obs.get("code")).collect();
    let context = if kind == VitalKind::BodyTemperature && codes.contains(&"8331-1") {
        ReadingContext::Site {
            site: TemperatureSite::Oral,
        }
    } else {
        ReadingContext::None
    };
    let source = obs
        .get("device")
        .and_then(|d| d.get("reference"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("Device/"))
        .and_then(|id| id.parse().ok())
        .map_or_else(
            || default_source.clone(),
            |id| Source::Device { id, model: None },
        );
    let source = store.intern_source(source);
    Ok(Candidate {
        patient,
        kind,
        v0,
        v1,
        mean,
        unit,
        original_unit: unit,
        stamp,
        source,
        device: 0,
        context,
    })
}

/// Imports the vital-sign Observations of one FHIR JSON document (an Observation or a
/// Bundle) as a batch labelled `label`. Observations without a `device` reference get
/// `default_source`.
///
/// # Errors
/// [`VitalsError::Format`] when the document is not valid JSON or not an object; records
/// before the error keep their outcomes.
pub fn ingest<R: Read>(
    store: &mut VitalsStore,
    input: R,
    label: &str,
    default_source: &Source,
    clock: &dyn Clock,
) -> Result<FhirReport, VitalsError> {
    let batch = store.open_batch(label);
    let now_ms = clock.now().timestamp_millis();
    let mut out = FhirReport {
        report: BatchReport {
            batch,
            ..BatchReport::default()
        },
        ..FhirReport::default()
    };
    let max = store.config().max_resource_bytes;
    stream_resources(input, max, &mut |index, resource| {
        if resource.get("resourceType").and_then(Value::as_str) != Some("Observation") {
            out.skipped_resources += 1;
            return;
        }
        let vital = is_vital_signs(&resource);
        let codes: Vec<&str> = loinc_codes(resource.get("code")).collect();
        let kind = codes.iter().find_map(|c| VitalKind::from_loinc(c));
        if kind.is_none() && !vital {
            out.skipped_resources += 1;
            return;
        }
        if vital {
            out.vital_signs_category += 1;
        }
        let position = Position {
            batch,
            record: index,
        };
        let Some(kind) = kind else {
            let detail = if codes.contains(&LOINC_VITAL_SIGNS_PANEL) {
                "vital-signs panel"
            } else {
                ""
            };
            out.report.record_with_detail(
                position,
                Outcome::Rejected {
                    reason: RejectReason::UnsupportedKind,
                },
                detail.into(),
            );
            return;
        };
        match observation_candidate(store, &resource, kind, default_source) {
            Ok(c) => {
                store.admit(&c, position, now_ms, &mut out.report);
            }
            Err(reason) => out.report.record(position, Outcome::Rejected { reason }),
        }
    })?;
    Ok(out)
}

fn round_for_export(v: f64) -> Value {
    // Canonical values are exact conversions; export them to 6 decimals so 176.4 lb does not
    // print as 80.01390546799999.
    let r = (v * 1e6).round() / 1e6;
    json!(r)
}

fn quantity_json(v: f64, unit: Unit) -> Value {
    json!({
        "value": round_for_export(v),
        "unit": unit.human(),
        "system": system::UCUM,
        "code": unit.ucum(),
    })
}

/// Exports a reading as a FHIR R4 vital-signs `Observation` (status `final`, category
/// `vital-signs`, the kind's primary LOINC code, canonical UCUM unit; blood pressure as
/// systolic/diastolic/mean components). `subject_reference` is how the receiver names the
/// patient (for example `Patient/<id>`).
pub fn to_observation(reading: &Reading, subject_reference: &str) -> Value {
    let kind = reading.kind;
    let unit = kind.canonical_unit();
    let mut obs = json!({
        "resourceType": "Observation",
        "meta": {"profile": [if kind == VitalKind::BloodPressure {
            "http://hl7.org/fhir/StructureDefinition/bp"
        } else {
            VITAL_SIGNS_PROFILE
        }]},
        "status": "final",
        "category": [{"coding": [{
            "system": OBSERVATION_CATEGORY,
            "code": "vital-signs",
            "display": "Vital Signs",
        }]}],
        "code": {"coding": [{
            "system": system::LOINC,
            "code": kind.loinc(),
            "display": kind.display(),
        }]},
        "subject": {"reference": subject_reference},
        "effectiveDateTime": reading.effective.to_rfc3339(),
    });
    let comp = |code: &str, display: &str, v: f64| {
        json!({
            "code": {"coding": [{"system": system::LOINC, "code": code, "display": display}]},
            "valueQuantity": quantity_json(v, unit),
        })
    };
    match reading.value {
        ReadingValue::BloodPressure {
            systolic,
            diastolic,
            mean,
        } => {
            let mut components = vec![
                comp(LOINC_SYSTOLIC, "Systolic blood pressure", systolic),
                comp(LOINC_DIASTOLIC, "Diastolic blood pressure", diastolic),
            ];
            if let Some(m) = mean {
                components.push(comp(LOINC_MEAN_BP, "Mean blood pressure", m));
            }
            obs["component"] = Value::Array(components);
        }
        ReadingValue::Single { value } => obs["valueQuantity"] = quantity_json(value, unit),
    }
    if let Source::Device { id, .. } = &reading.source {
        obs["device"] = json!({"reference": format!("Device/{id}")});
    }
    obs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_bundle_entries_in_order() {
        let doc = r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"resource":{"resourceType":"Patient","id":"p1"}},
            {"fullUrl":"x","resource":{"resourceType":"Observation","id":"o"}}
        ]}"#;
        let mut seen = Vec::new();
        let r = stream_resources(doc.as_bytes(), 1 << 20, &mut |i, v| {
            seen.push((i, v["resourceType"].as_str().unwrap_or("").to_owned()))
        });
        assert!(r.is_ok());
        assert_eq!(
            seen,
            vec![(0, "Patient".to_owned()), (1, "Observation".to_owned())]
        );
        assert!(stream_resources(&b"[1,2]"[..], 1 << 20, &mut |_, _| {}).is_err());
        assert!(stream_resources(&b"{\"a\":1} x"[..], 1 << 20, &mut |_, _| {}).is_err());
        // One entry far over the limit stops the document instead of being buffered.
        let big = format!(
            r#"{{"resourceType":"Bundle","entry":[{{"resource":{{"resourceType":"Basic","text":"{}"}}}}]}}"#,
            "x".repeat(100_000)
        );
        let r = stream_resources(big.as_bytes(), 20_000, &mut |_, _| {});
        assert!(matches!(r, Err(VitalsError::Format { detail, .. }) if detail.contains("exceeds")));
        let refs = patient_references(doc.as_bytes());
        assert_eq!(
            refs.ok(),
            Some(vec!["Patient/p1".to_owned(), "urn:uuid:p1".to_owned()])
        );
    }
}
