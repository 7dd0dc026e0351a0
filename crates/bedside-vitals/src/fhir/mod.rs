//! FHIR R4 import (`Observation`, `Bundle` of them) and export (vital-signs `Observation`).
//!
//! Import streams: a Bundle's `entry` array is visited one entry at a time, so memory holds
//! one resource, never the whole file. An Observation is a vitals record when its code is a
//! supported kind (including legacy LOINC aliases) or its category is `vital-signs`; other
//! resources (Patient, Encounter, lab Observations, …) are counted and skipped. Each vitals
//! record gets exactly one [`Outcome`] in the [`BatchReport`]; its [`Position`] record is the
//! entry index (0 for a bare Observation).
//!
//! Each vitals record is read through the one [`Observation`] model (on
//! [`bedside_fhir::Reader`]); an element vitals cannot do without that is invalid rejects the
//! record with its element path as the detail, never its value. Accepted statuses are
//! `final`, `amended` and `corrected`; others are [`RejectReason::NotFinal`].
//! `effectiveDateTime`, `effectiveInstant` and `effectivePeriod.start` give the instant; a
//! date-only value means midnight UTC and stays a date on export. Blood pressure is read from
//! components 8480-6 (systolic), 8462-4 (diastolic) and 8478-0 (mean); a component with a
//! `dataAbsentReason` instead of a value makes a partial reading. The subject reference is
//! resolved with [`VitalsStore::resolve_reference`].
//!
//! [`import_observation`] is the lossless path: every element not modelled stays in the
//! [`Observation`]'s unmodelled rest and [`Observation::to_json`] writes it back.
//! [`to_observation`] exports a stored reading as valid R4 (see
//! [`Observation::from_reading`]).

mod observation;

pub use observation::{
    BP_PROFILE, Component, DATA_ABSENT_REASON, Effective, Measured, OBSERVATION_CATEGORY,
    Observation, ObservationStatus, VITAL_SIGNS_PROFILE, import_observation,
};

use crate::error::{Field, RejectReason, VitalsError};
use crate::flat::{LimitedReader, ResourceBudget};
use crate::kind::{
    LOINC_DIASTOLIC, LOINC_MEAN_BP, LOINC_SYSTOLIC, LOINC_VITAL_SIGNS_PANEL, ReadingContext,
    TemperatureSite, VitalKind,
};
use crate::reading::{Position, Reading, Source};
use crate::store::{Batch, BatchReport, Candidate, Outcome, Partial, VitalsStore};
use crate::timefmt;
use bedside_fhir::{FhirError, Reference};
use observation::{has_vital_signs_category, kind_of, measured};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::io::Read;

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
            if resource.get("resourceType").and_then(Value::as_str) == Some("Patient")
                && let Some(id) = resource.get("id").and_then(Value::as_str)
            {
                out.push(format!("Patient/{id}"));
                out.push(format!("urn:uuid:{id}"));
            }
        },
    )?;
    Ok(out)
}

/// The rejection an import error stands for: the element it is at, never its value.
fn rejection(e: &FhirError) -> RejectReason {
    let path = e.path.to_string();
    let element = path.strip_prefix("Observation.").unwrap_or(&path);
    if element.starts_with("status") {
        RejectReason::NotFinal
    } else if element.starts_with("effective") {
        RejectReason::InvalidField(Field::At)
    } else if element.starts_with("valueQuantity") || element.starts_with("component") {
        RejectReason::InvalidField(Field::Value)
    } else if element.starts_with("code") {
        RejectReason::UnsupportedKind
    } else {
        RejectReason::Malformed
    }
}

/// A value of a quantity vitals can use, or why not.
fn reading_value(
    q: Option<&bedside_fhir::Quantity>,
) -> Result<Option<(f64, crate::unit::Unit)>, RejectReason> {
    let Some(q) = q else { return Ok(None) };
    let m = measured(q).ok_or(RejectReason::InvalidField(Field::Value))?;
    let unit = m.unit.ok_or(if q.code.is_none() && q.unit.is_none() {
        RejectReason::MissingField(Field::Unit)
    } else {
        RejectReason::UnknownUnit
    })?;
    Ok(Some((m.value, unit)))
}

/// A candidate's values: `v0`, `v1`, mean, their unit, and which one is absent.
type Values = (f64, Option<f64>, Option<f64>, crate::unit::Unit, Partial);

/// A blood pressure's values: both, or a partial one when a component says its value is
/// absent.
fn blood_pressure(obs: &Observation) -> Result<Values, RejectReason> {
    let part = |code| obs.component(code);
    let value = |code| reading_value(part(code).and_then(Component::value));
    let absent = |code| part(code).is_some_and(Component::is_absent);
    let (sys, dia, mean) = (
        value(LOINC_SYSTOLIC)?,
        value(LOINC_DIASTOLIC)?,
        value(LOINC_MEAN_BP)?,
    );
    let mean_in = |u| mean.filter(|m| m.1 == u).map(|m| m.0);
    match (sys, dia) {
        (Some((s, u)), Some((d, du))) if u == du => Ok((s, Some(d), mean_in(u), u, Partial::Whole)),
        (Some(_), Some(_)) => Err(RejectReason::UnknownUnit),
        (Some((s, u)), None) if absent(LOINC_DIASTOLIC) => {
            Ok((s, None, mean_in(u), u, Partial::DiastolicAbsent))
        }
        (None, Some((d, u))) if absent(LOINC_SYSTOLIC) => {
            Ok((f64::NAN, Some(d), mean_in(u), u, Partial::SystolicAbsent))
        }
        _ if obs.is_absent()
            || (!obs.components().is_empty()
                && obs.components().iter().all(Component::is_absent)) =>
        {
            Err(RejectReason::NoValue)
        }
        (None, _) => Err(RejectReason::MissingField(Field::Systolic)),
        (_, None) => Err(RejectReason::MissingField(Field::Diastolic)),
    }
}

fn observation_candidate(
    store: &mut VitalsStore,
    obs: &Observation,
    kind: VitalKind,
    default_source: &Source,
) -> Result<Candidate, RejectReason> {
    if !obs.status().is_result() {
        return Err(RejectReason::NotFinal);
    }
    let reference = obs
        .subject()
        .and_then(|s| s.reference.as_deref())
        .ok_or(RejectReason::MissingField(Field::Patient))?;
    let patient = store
        .resolve_reference(reference)
        .ok_or(RejectReason::UnknownPatient)?;
    let at = obs
        .effective()
        .and_then(Effective::reading_time)
        .ok_or(RejectReason::MissingField(Field::At))?;
    let stamp =
        timefmt::parse_fhir_datetime(at.as_str()).ok_or(RejectReason::InvalidField(Field::At))?;
    let (v0, v1, mean, unit, partial) = if kind == VitalKind::BloodPressure {
        blood_pressure(obs)?
    } else {
        match reading_value(obs.value())? {
            Some((v, u)) => (v, None, None, u, Partial::Whole),
            None if obs.is_absent() => return Err(RejectReason::NoValue),
            None => return Err(RejectReason::MissingField(Field::Value)),
        }
    };
    let context = if kind == VitalKind::BodyTemperature && obs.has_loinc("8331-1") {
        ReadingContext::Site {
            site: TemperatureSite::Oral,
        }
    } else {
        ReadingContext::None
    };
    let source = obs
        .device()
        .and_then(|d| d.reference.as_deref())
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
        partial,
    })
}

/// Imports the vital-sign Observations of one FHIR JSON document (an Observation or a
/// Bundle) as the [`Batch`] `batch` (the future-timestamp check is against `batch.at`).
/// Observations without a `device` reference get `default_source`.
///
/// # Errors
/// [`VitalsError::Format`] when the document is not valid JSON or not an object; records
/// before the error keep their outcomes.
pub fn ingest<R: Read>(
    store: &mut VitalsStore,
    input: R,
    default_source: &Source,
    batch: &Batch,
) -> Result<FhirReport, VitalsError> {
    let now_ms = batch.at.timestamp_millis();
    let batch = store.open_batch(batch);
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
        let vital = has_vital_signs_category(resource.get("category"));
        let kind = kind_of(resource.get("code"));
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
            let panel = resource
                .get("code")
                .and_then(|c| c.get("coding"))
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.get("code").and_then(Value::as_str) == Some(LOINC_VITAL_SIGNS_PANEL)
                    })
                });
            out.report.record_with_detail(
                position,
                Outcome::Rejected {
                    reason: RejectReason::UnsupportedKind,
                },
                if panel { "vital-signs panel" } else { "" }.into(),
            );
            return;
        };
        let Value::Object(map) = resource else {
            return;
        };
        let mut notes = Vec::new();
        let candidate = Observation::read(map, &mut notes)
            .map_err(|e| (rejection(&e), e.path.to_string()))
            .and_then(|obs| {
                observation_candidate(store, &obs, kind, default_source)
                    .map_err(|r| (r, String::new()))
            });
        match candidate {
            Ok(c) => {
                store.admit(&c, position, now_ms, &mut out.report);
            }
            Err((reason, detail)) => {
                out.report
                    .record_with_detail(position, Outcome::Rejected { reason }, detail)
            }
        }
    })?;
    Ok(out)
}

/// Exports a reading as a FHIR R4 `Observation`: [`Observation::from_reading`] with the
/// literal reference `subject_reference` (how the receiver names the patient, for example
/// `Patient/<id>`).
pub fn to_observation(reading: &Reading, subject_reference: &str) -> Value {
    Observation::from_reading(reading, Reference::to(subject_reference)).to_json()
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
