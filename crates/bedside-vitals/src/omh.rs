//! Open mHealth data points: schema conformance and ingestion.
//!
//! [`validate_body`] checks a data-point body against the constraints of its schema version,
//! written out from the published Open mHealth schemas (blood-pressure 1.0–4.0, heart-rate
//! 1.0–2.0, body-weight 1.0–3.0, body-temperature 1.0–4.0, body-height 1.0–2.0,
//! blood-glucose 1.0–4.0, oxygen-saturation 1.0–2.0, respiratory-rate 1.0–2.0,
//! body-mass-index 1.0–3.0): required properties, unit enums, value types, the `oneOf`
//! time-frame and time-interval alternatives (exactly one must match), RFC 3339 date-times,
//! and the enums of posture, location, activity, sleep, meal and descriptive statistic.
//! Properties a version does not define are unconstrained, as in the schemas (no
//! `additionalProperties: false`). Versions that refer to the IEEE 1752.1 time frame
//! (blood-pressure 4.0, body-weight 3.0, body-temperature 4.0, body-height 2.0,
//! blood-glucose 4.0, body-mass-index 3.0) do not admit the `date` + `part_of_day` interval.
//!
//! [`ingest`] takes whole data points (`{"header": …, "body": …}`; one object or an array of
//! them, streamed element by element) and stores their measurements.

use crate::error::{Field, RejectReason, VitalsError};
use crate::kind::{ReadingContext, VitalKind, parse_meal, parse_position, parse_site};
use crate::reading::{Position, Source};
use crate::store::{Batch, BatchReport, Candidate, Outcome, Partial, VitalsStore};
use crate::timefmt::{self, Stamp};
use crate::unit::Unit;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::io::Read;

/// An Open mHealth schema: name and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OmhSchema {
    /// The measure.
    pub kind: VitalKind,
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl OmhSchema {
    /// The schema with an Open mHealth name (`blood-pressure`) and version (`4.0`); `None`
    /// for a name this crate does not ingest or a version it does not know.
    pub fn new(name: &str, version: &str) -> Option<OmhSchema> {
        let kind = match name {
            "blood-pressure" => VitalKind::BloodPressure,
            "heart-rate" => VitalKind::HeartRate,
            "body-weight" => VitalKind::BodyWeight,
            "body-temperature" => VitalKind::BodyTemperature,
            "body-height" => VitalKind::BodyHeight,
            "blood-glucose" => VitalKind::BloodGlucose,
            "oxygen-saturation" => VitalKind::OxygenSaturation,
            "respiratory-rate" => VitalKind::RespiratoryRate,
            "body-mass-index" => VitalKind::Bmi,
            _ => return None,
        };
        let (major, minor) = version.split_once('.')?;
        let s = OmhSchema {
            kind,
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        };
        let latest = match kind {
            VitalKind::BloodPressure | VitalKind::BodyTemperature | VitalKind::BloodGlucose => 4,
            VitalKind::BodyWeight | VitalKind::Bmi => 3,
            _ => 2,
        };
        (s.major >= 1 && s.major <= latest).then_some(s)
    }

    fn ieee_time_frame(self) -> bool {
        matches!(
            (self.kind, self.major),
            (VitalKind::BloodPressure, 4)
                | (VitalKind::BodyWeight, 3)
                | (VitalKind::BodyTemperature, 4)
                | (VitalKind::BodyHeight, 2)
                | (VitalKind::BloodGlucose, 4)
                | (VitalKind::Bmi, 3)
        )
    }

    fn time_frame_required(self) -> bool {
        match self.kind {
            VitalKind::BloodPressure | VitalKind::BodyTemperature | VitalKind::BloodGlucose => {
                self.major >= 3
            }
            _ => self.major >= 2,
        }
    }
}

/// A schema violation: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the offending value (`body.effective_time_frame`).
    pub path: String,
    /// What is wrong.
    pub problem: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// A measurement read from a conforming body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OmhMeasurement {
    /// The kind.
    pub kind: VitalKind,
    /// Primary value (systolic for BP) in `unit`.
    pub value: f64,
    /// Diastolic pressure in `unit`, for BP.
    pub diastolic: Option<f64>,
    /// The unit.
    pub unit: Unit,
    /// The effective instant: the date-time, or the interval's start (else end); `None` for
    /// a `date` + `part_of_day` interval or no time frame.
    pub effective: Option<(i64, i16)>,
    /// Kind-specific detail.
    pub context: ReadingContext,
}

const DESCRIPTIVE_STATISTIC: &[&str] = &[
    "average",
    "count",
    "maximum",
    "median",
    "minimum",
    "standard deviation",
    "sum",
    "variance",
    "20th percentile",
    "80th percentile",
    "lower quartile",
    "upper quartile",
    "quartile deviation",
    "1st quintile",
    "2nd quintile",
    "3rd quintile",
    "4th quintile",
];
const PHYSICAL_ACTIVITY: &[&str] = &[
    "at rest",
    "active",
    "before exercise",
    "after exercise",
    "during exercise",
];
const SLEEP: &[&str] = &["before sleeping", "during sleep", "on waking"];
const MEAL: &[&str] = &[
    "fasting",
    "not fasting",
    "before meal",
    "after meal",
    "before breakfast",
    "after breakfast",
    "before lunch",
    "after lunch",
    "before dinner",
    "after dinner",
    "2 hours postprandial",
    "with meal",
    "with food",
];
const PART_OF_DAY: &[&str] = &["morning", "afternoon", "evening", "night"];
const DURATION_UNITS: &[&str] = &[
    "ps", "ns", "us", "ms", "sec", "min", "h", "d", "wk", "Mo", "yr",
];
const MASS_UNITS: &[&str] = &[
    "fg",
    "pg",
    "ng",
    "ug",
    "mg",
    "g",
    "kg",
    "Metric Ton",
    "gr",
    "oz",
    "lb",
    "Ton",
];
const LENGTH_UNITS: &[&str] = &[
    "fm", "pm", "nm", "um", "mm", "cm", "m", "km", "in", "ft", "yd", "mi",
];
const BODY_LOCATION: &[&str] = &[
    "left ankle",
    "right ankle",
    "left hip",
    "right hip",
    "left thigh",
    "right thigh",
    "left thorax",
    "middle left thorax",
    "left upper arm",
    "right upper arm",
    "left wrist",
    "right wrist",
];
const SPECIMEN_SOURCE: &[&str] = &[
    "interstitial fluid",
    "capillary blood",
    "plasma",
    "serum",
    "tears",
    "whole blood",
];

struct Check<'v> {
    violations: Vec<Violation>,
    body: &'v Map<String, Value>,
}

impl<'v> Check<'v> {
    fn fail(&mut self, path: &str, problem: &'static str) {
        self.violations.push(Violation {
            path: format!("body.{path}"),
            problem,
        });
    }

    fn enum_prop(&mut self, key: &str, allowed: &[&str]) {
        if let Some(v) = self.body.get(key)
            && !v.as_str().is_some_and(|s| allowed.contains(&s))
        {
            self.fail(key, "not one of the allowed values");
        }
    }

    fn string_prop(&mut self, key: &str) {
        if self.body.get(key).is_some_and(|v| !v.is_string()) {
            self.fail(key, "not a string");
        }
    }

    fn unit_value(&mut self, key: &str, units: &[&str], required: bool) -> Option<(f64, &'v str)> {
        let Some(v) = self.body.get(key) else {
            if required {
                self.fail(key, "required");
            }
            return None;
        };
        let r = unit_value(v, units);
        if let Err(problem) = r {
            self.fail(key, problem);
        }
        r.ok()
    }
}

fn unit_value<'v>(v: &'v Value, units: &[&str]) -> Result<(f64, &'v str), &'static str> {
    let o = v.as_object().ok_or("not an object")?;
    let value = o
        .get("value")
        .ok_or("value required")?
        .as_f64()
        .ok_or("value not a number")?;
    let unit = o
        .get("unit")
        .ok_or("unit required")?
        .as_str()
        .ok_or("unit not a string")?;
    if !units.contains(&unit) {
        return Err("unit not allowed");
    }
    Ok((value, unit))
}

fn date_time(v: Option<&Value>) -> Option<Stamp> {
    v?.as_str().and_then(timefmt::parse_rfc3339)
}

fn full_date(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str).is_some_and(|s| {
        s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    })
}

/// Validates a time interval; returns its effective stamp (start, else end) on success.
fn time_interval(v: &Value, ieee: bool) -> Result<Option<Stamp>, &'static str> {
    let o = v.as_object().ok_or("time_interval not an object")?;
    let dt_ok = |k: &str| o.get(k).is_none_or(|x| date_time(Some(x)).is_some());
    let duration_ok = o
        .get("duration")
        .is_none_or(|d| unit_value(d, DURATION_UNITS).is_ok());
    let has = |k: &str| o.contains_key(k);
    let mut matches = 0;
    if has("start_date_time") && has("duration") && dt_ok("start_date_time") && duration_ok {
        matches += 1;
    }
    if has("end_date_time") && has("duration") && dt_ok("end_date_time") && duration_ok {
        matches += 1;
    }
    if has("start_date_time")
        && has("end_date_time")
        && dt_ok("start_date_time")
        && dt_ok("end_date_time")
    {
        matches += 1;
    }
    if !ieee
        && has("date")
        && has("part_of_day")
        && full_date(o.get("date"))
        && o.get("part_of_day")
            .and_then(Value::as_str)
            .is_some_and(|p| PART_OF_DAY.contains(&p))
    {
        matches += 1;
    }
    if matches != 1 {
        return Err("time_interval must match exactly one form");
    }
    Ok(date_time(o.get("start_date_time")).or_else(|| date_time(o.get("end_date_time"))))
}

/// Validates a time frame (`oneOf` date_time / time_interval).
fn time_frame(v: &Value, ieee: bool) -> Result<Option<Stamp>, &'static str> {
    let o = v.as_object().ok_or("not an object")?;
    let dt = o.get("date_time").map(|d| date_time(Some(d)));
    let ti = o.get("time_interval").map(|t| time_interval(t, ieee));
    let dt_match = matches!(dt, Some(Some(_)));
    let ti_match = matches!(ti, Some(Ok(_)));
    match (dt_match, ti_match) {
        (true, false) => Ok(dt.flatten()),
        (false, true) => ti.and_then(Result::ok).ok_or("invalid time_interval"),
        (true, true) => Err("must be either date_time or time_interval, not both"),
        (false, false) => Err(match ti {
            Some(Err(e)) => e,
            _ if dt.is_some() => "date_time is not an RFC 3339 date-time",
            _ => "needs date_time or time_interval",
        }),
    }
}

/// Checks `body` against `schema`; on success returns the measurement.
///
/// # Errors
/// Every violation found, each with its path.
// Not split: one flat check per Open mHealth schema, read side by side with the schema table.
pub fn validate_body(schema: OmhSchema, body: &Value) -> Result<OmhMeasurement, Vec<Violation>> {
    let Some(map) = body.as_object() else {
        return Err(vec![Violation {
            path: "body".into(),
            problem: "not an object",
        }]);
    };
    let mut c = Check {
        violations: Vec::new(),
        body: map,
    };
    let (major, minor) = (schema.major, schema.minor);
    let mut context = ReadingContext::None;
    let (value, diastolic, unit) = match schema.kind {
        VitalKind::BloodPressure => {
            let s = c.unit_value("systolic_blood_pressure", &["mmHg"], true);
            let d = c.unit_value("diastolic_blood_pressure", &["mmHg"], true);
            if major == 1 {
                c.enum_prop(
                    "position_during_measurement",
                    &["sitting", "lying down", "standing"],
                );
            } else {
                c.enum_prop(
                    "body_posture",
                    &["sitting", "lying down", "standing", "semi-recumbent"],
                );
            }
            if major <= 2 {
                c.string_prop("user_notes");
            } else {
                c.enum_prop("measurement_location", BODY_LOCATION);
            }
            if major >= 4 || (major == 3 && minor >= 1) {
                c.enum_prop(
                    "temporal_relationship_to_physical_activity",
                    PHYSICAL_ACTIVITY,
                );
            }
            let posture = map
                .get(if major == 1 {
                    "position_during_measurement"
                } else {
                    "body_posture"
                })
                .and_then(Value::as_str)
                .and_then(parse_position);
            if let Some(position) = posture {
                context = ReadingContext::Position { position };
            }
            (s.map(|x| x.0), d.map(|x| x.0), s.map(|x| x.1))
        }
        VitalKind::HeartRate => {
            let v = c.unit_value("heart_rate", &["beats/min"], true);
            c.enum_prop(
                "temporal_relationship_to_physical_activity",
                PHYSICAL_ACTIVITY,
            );
            if major >= 2 || minor >= 1 {
                c.enum_prop("temporal_relationship_to_sleep", SLEEP);
            }
            if major == 1 {
                c.string_prop("user_notes");
            }
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::BodyWeight => {
            let v = c.unit_value("body_weight", MASS_UNITS, true);
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::BodyHeight => {
            let v = c.unit_value("body_height", LENGTH_UNITS, true);
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::BodyTemperature => {
            let v = c.unit_value("body_temperature", &["K", "F", "C"], true);
            if major == 1 {
                c.enum_prop(
                    "measurement_location",
                    &[
                        "oral", "rectal", "vaginal", "axillary", "otic", "wrist", "chest",
                        "temporal",
                    ],
                );
            } else {
                c.enum_prop(
                    "measurement_location",
                    &[
                        "axillary",
                        "finger",
                        "forehead",
                        "oral",
                        "rectal",
                        "temporal artery",
                        "toe",
                        "tympanic",
                        "wrist",
                        "vagina",
                    ],
                );
                c.enum_prop("temporal_relationship_to_sleep", SLEEP);
            }
            if let Some(site) = map.get("measurement_location").and_then(Value::as_str) {
                context = ReadingContext::Site {
                    site: parse_site(site).unwrap_or(crate::kind::TemperatureSite::Other),
                };
            }
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::BloodGlucose => {
            let v = c.unit_value("blood_glucose", &["mg/dL", "mmol/L"], true);
            c.enum_prop("temporal_relationship_to_meal", MEAL);
            c.enum_prop("temporal_relationship_to_sleep", SLEEP);
            if major == 2 {
                c.enum_prop("specimen_source", SPECIMEN_SOURCE);
            }
            if major <= 2 {
                c.string_prop("user_notes");
            }
            if let Some(meal) = map
                .get("temporal_relationship_to_meal")
                .and_then(Value::as_str)
                .and_then(parse_meal)
            {
                context = ReadingContext::Meal { meal };
            }
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::OxygenSaturation => {
            let v = c.unit_value("oxygen_saturation", &["%"], true);
            c.enum_prop("system", &["peripheral capillary"]);
            c.enum_prop("oxygen_therapy_mode_of_administration", &["nasal cannula"]);
            c.enum_prop("measurement_method", &["pulse oximetry"]);
            if let Some(flow) = map.get("supplemental_oxygen_flow_rate") {
                match unit_value(flow, &["L/min"]) {
                    Ok((rate, _)) => {
                        context = ReadingContext::Oxygen {
                            on_oxygen: rate > 0.0,
                        }
                    }
                    Err(p) => c.fail("supplemental_oxygen_flow_rate", p),
                }
            }
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::RespiratoryRate => {
            let v = c.unit_value("respiratory_rate", &["breaths/min"], true);
            c.enum_prop(
                "temporal_relationship_to_physical_activity",
                PHYSICAL_ACTIVITY,
            );
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        VitalKind::Bmi => {
            let unit = if major == 1 { "kg/m2" } else { "kg/m^2" };
            let v = c.unit_value("body_mass_index", &[unit], true);
            (v.map(|x| x.0), None, v.map(|x| x.1))
        }
        // Open mHealth has no schema for these; `OmhSchema::new` never names them.
        VitalKind::HeadCircumference | VitalKind::MeanArterialPressure => (None, None, None),
    };
    c.enum_prop("descriptive_statistic", DESCRIPTIVE_STATISTIC);
    let effective = match map.get("effective_time_frame") {
        Some(tf) => match time_frame(tf, schema.ieee_time_frame()) {
            Ok(s) => s,
            Err(problem) => {
                c.fail("effective_time_frame", problem);
                None
            }
        },
        None => {
            if schema.time_frame_required() {
                c.fail("effective_time_frame", "required");
            }
            None
        }
    };
    if !c.violations.is_empty() {
        return Err(c.violations);
    }
    let (Some(value), Some(unit_text)) = (value, unit) else {
        return Err(vec![Violation {
            path: "body".into(),
            problem: "no measurement",
        }]);
    };
    let unit = match unit_text {
        "mmHg" => Some(Unit::MillimetreOfMercury),
        "beats/min" | "breaths/min" => Some(Unit::PerMinute),
        "%" => Some(Unit::Percent),
        "C" => Some(Unit::Celsius),
        "F" => Some(Unit::Fahrenheit),
        "kg" => Some(Unit::Kilogram),
        "g" => Some(Unit::Gram),
        "lb" => Some(Unit::Pound),
        "cm" => Some(Unit::Centimetre),
        "m" => Some(Unit::Metre),
        "in" => Some(Unit::Inch),
        "kg/m2" | "kg/m^2" => Some(Unit::KilogramPerSquareMetre),
        "mg/dL" => Some(Unit::MilligramPerDecilitre),
        "mmol/L" => Some(Unit::MillimolePerLitre),
        _ => None,
    };
    let Some(unit) = unit else {
        return Err(vec![Violation {
            path: "body".into(),
            problem: "unit valid in the schema but not convertible by bedside-vitals",
        }]);
    };
    Ok(OmhMeasurement {
        kind: schema.kind,
        value,
        diastolic,
        unit,
        effective: effective.map(|s| (s.utc_ms, s.offset_minutes)),
        context,
    })
}

fn header_schema(header: &Value) -> Option<OmhSchema> {
    let id = header.get("schema_id")?;
    OmhSchema::new(id.get("name")?.as_str()?, id.get("version")?.as_str()?)
}

fn data_point_candidate(
    store: &mut VitalsStore,
    dp: &Value,
) -> Result<Candidate, (RejectReason, String)> {
    let plain = |r: RejectReason| (r, String::new());
    let header = dp
        .get("header")
        .ok_or((RejectReason::SchemaViolation, "header: required".into()))?;
    let body = dp
        .get("body")
        .ok_or((RejectReason::SchemaViolation, "body: required".into()))?;
    let schema = header_schema(header).ok_or(plain(RejectReason::UnsupportedKind))?;
    let m = validate_body(schema, body).map_err(|v| {
        let detail = v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        (RejectReason::SchemaViolation, detail)
    })?;
    let user = header
        .get("user_id")
        .and_then(Value::as_str)
        .ok_or(plain(RejectReason::MissingField(Field::Patient)))?;
    let patient = store
        .resolve_reference(user)
        .ok_or(plain(RejectReason::UnknownPatient))?;
    let stamp = match m.effective {
        Some((utc_ms, offset_minutes)) => Stamp {
            utc_ms,
            offset_minutes,
        },
        None => date_time(header.get("creation_date_time"))
            .ok_or(plain(RejectReason::MissingField(Field::At)))?,
    };
    let app = header
        .get("acquisition_provenance")
        .and_then(|p| p.get("source_name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 128)
        .unwrap_or("open-mhealth");
    let source = store.intern_source(Source::App {
        name: app.to_owned(),
    });
    Ok(Candidate {
        patient,
        kind: m.kind,
        v0: m.value,
        v1: m.diastolic,
        mean: None,
        unit: m.unit,
        original_unit: m.unit,
        stamp,
        source,
        device: 0,
        context: m.context,
        partial: Partial::Whole,
    })
}

struct Points<'a, 'f> {
    on: &'a mut (dyn FnMut(u32, Value) + 'f),
}

impl<'de> DeserializeSeed<'de> for Points<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Points<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a data point or an array of data points")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0u32;
        while let Some(v) = seq.next_element::<Value>()? {
            (self.on)(i, v);
            i = i.saturating_add(1);
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        (self.on)(0, v);
        Ok(())
    }
}

use serde::Deserialize;

/// Ingests Open mHealth data points (one object, or an array streamed element by element).
/// `header.user_id` is resolved with [`VitalsStore::resolve_reference`]; the effective time
/// comes from the body (else the header's `creation_date_time`); the source is the app in
/// `header.acquisition_provenance.source_name`. They form the [`Batch`] `batch` (the
/// future-timestamp check is against `batch.at`).
///
/// # Errors
/// [`VitalsError::Format`] when the input is not JSON; records before keep their outcomes.
pub fn ingest<R: Read>(
    store: &mut VitalsStore,
    input: R,
    batch: &Batch,
) -> Result<BatchReport, VitalsError> {
    let now_ms = batch.at.timestamp_millis();
    let batch = store.open_batch(batch);
    let mut report = BatchReport {
        batch,
        ..BatchReport::default()
    };
    let budget = crate::flat::ResourceBudget::new(store.config().max_resource_bytes);
    let reader = crate::flat::LimitedReader::new(input, budget.clone());
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let result = Points {
        on: &mut |i, dp| {
            let position = Position { batch, record: i };
            match data_point_candidate(store, &dp) {
                Ok(c) => {
                    store.admit(&c, position, now_ms, &mut report);
                }
                Err((reason, detail)) => {
                    report.record_with_detail(position, Outcome::Rejected { reason }, detail)
                }
            }
            budget.reset();
        },
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    result.map_err(|e| VitalsError::Format {
        format: "open mhealth json",
        detail: if budget.exceeded() {
            "a data point exceeds the size limit".to_owned()
        } else {
            format!("error at line {} column {}", e.line(), e.column())
        },
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(name: &str, v: &str) -> OmhSchema {
        OmhSchema::new(name, v).unwrap_or(OmhSchema {
            kind: VitalKind::Bmi,
            major: 0,
            minor: 0,
        })
    }

    #[test]
    fn time_frame_one_of() {
        let s = schema("body-weight", "1.0");
        let ok = json!({"body_weight": {"value": 50, "unit": "kg"},
            "effective_time_frame": {"time_interval": {"date": "2013-02-05", "part_of_day": "evening"}}});
        assert!(validate_body(s, &ok).is_ok());
        let ieee = schema("body-weight", "3.0");
        assert!(validate_body(ieee, &ok).is_err());
        let both = json!({"body_weight": {"value": 50, "unit": "kg"},
            "effective_time_frame": {"date_time": "2013-02-05T07:25:00Z",
                "time_interval": {"start_date_time": "2013-02-05T07:25:00Z", "end_date_time": "2013-02-05T08:25:00Z"}}});
        assert!(validate_body(s, &both).is_err());
        let three = json!({"body_weight": {"value": 50, "unit": "kg"},
            "effective_time_frame": {"time_interval": {"start_date_time": "2013-02-05T07:25:00Z",
                "end_date_time": "2013-02-05T08:25:00Z", "duration": {"value": 1, "unit": "h"}}}});
        assert!(validate_body(s, &three).is_err());
        assert_eq!(OmhSchema::new("step-count", "1.0"), None);
        assert_eq!(OmhSchema::new("heart-rate", "9.0"), None);
    }
}
