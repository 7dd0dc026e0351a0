//! [`Reading`]: one measurement, normalised, with where it came from.

use crate::kind::{ReadingContext, VitalKind};
use crate::unit::Unit;
use bedside_core::{DeviceId, PatientId};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The measured value(s), always in the kind's canonical unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ReadingValue {
    /// One number (every kind except blood pressure).
    Single {
        /// The value.
        value: f64,
    },
    /// A blood-pressure pair in mmHg. One of the pair may be absent (a FHIR component with a
    /// `dataAbsentReason`): a partial reading; never both.
    BloodPressure {
        /// Systolic pressure, unless the source said it is absent.
        systolic: Option<f64>,
        /// Diastolic pressure, unless the source said it is absent.
        diastolic: Option<f64>,
        /// Mean arterial pressure, when the device reports one.
        mean: Option<f64>,
    },
}

impl ReadingValue {
    /// The value used for thresholds, trends and aggregates: the number itself, or systolic
    /// pressure for blood pressure (`None` for a partial reading without systolic).
    pub fn primary(&self) -> Option<f64> {
        match *self {
            ReadingValue::Single { value } => Some(value),
            ReadingValue::BloodPressure { systolic, .. } => systolic,
        }
    }
}

/// Where a reading came from. Two readings are duplicates only when their sources are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Source {
    /// A connected device.
    Device {
        /// The device.
        id: DeviceId,
        /// The device model, when reported (not part of the source's identity).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// A patient-facing app.
    App {
        /// The app's name.
        name: String,
    },
    /// Typed in by the patient or a carer.
    Manual,
    /// Measured in clinic.
    Clinic,
}

impl Source {
    /// The identity used for duplicate detection and interning (`device:<id>`, `app:<name>`,
    /// `manual`, `clinic`); the same text the NDJSON schema's `source` field takes.
    pub fn key(&self) -> String {
        match self {
            Source::Device { id, .. } => format!("device:{id}"),
            Source::App { name } => format!("app:{name}"),
            Source::Manual => "manual".to_owned(),
            Source::Clinic => "clinic".to_owned(),
        }
    }

    /// Parses the `source` field of the NDJSON/CSV schema; `None` when malformed.
    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "manual" => Some(Source::Manual),
            "clinic" => Some(Source::Clinic),
            _ => {
                if let Some(id) = text.strip_prefix("device:") {
                    id.parse().ok().map(|id| Source::Device { id, model: None })
                } else if let Some(name) = text.strip_prefix("app:") {
                    (!name.is_empty() && name.len() <= 128).then(|| Source::App {
                        name: name.to_owned(),
                    })
                } else {
                    None
                }
            }
        }
    }
}

/// Where in the input a record was found: the batch (file or upload) and the 1-based line
/// number or 0-based entry index within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// The batch, as numbered by the store ([`crate::VitalsStore::open_batch`]).
    pub batch: u32,
    /// Line number (NDJSON, CSV; 1-based) or entry index (FHIR Bundle, Open mHealth; 0-based).
    pub record: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "batch {} record {}", self.batch, self.record)
    }
}

/// How precisely a reading's time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectivePrecision {
    /// To the second (or better), with an offset.
    #[default]
    Timestamp,
    /// Only the calendar day (a FHIR `date` such as `2026-06-03`).
    Date,
}

/// One measurement for one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The patient.
    pub patient: PatientId,
    /// What was measured.
    pub kind: VitalKind,
    /// The value(s) in the canonical unit of `kind`.
    pub value: ReadingValue,
    /// The unit the value arrived in (kept so exports can say what the device said).
    pub original_unit: Unit,
    /// When it was measured, with the UTC offset it was reported in.
    pub effective: DateTime<FixedOffset>,
    /// Whether `effective` is an instant or only a day (then it is midnight UTC of that day,
    /// and FHIR export writes the date alone).
    #[serde(default)]
    pub effective_precision: EffectivePrecision,
    /// Who or what produced it.
    pub source: Source,
    /// Kind-specific detail (position, site, meal, oxygen).
    pub context: ReadingContext,
    /// Where in the input it came from.
    pub provenance: Position,
}

impl Reading {
    /// A reading of `kind` for `patient`, measured at `effective`, with `value` in the kind's
    /// canonical unit; it arrived in that unit, at an exact instant, entered manually, without
    /// context, at record 0 of batch 0. Change those with the builder methods.
    ///
    /// ```
    /// use bedside_core::{Actor, PatientId};
    /// use bedside_vitals::{Batch, BatchReport, Outcome, Position, Reading, ReadingValue, VitalKind, VitalsStore};
    ///
    /// let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
    /// let mut store = VitalsStore::default();
    /// store.register_patient(patient, chrono_tz::UTC);
    /// let at = "2026-03-01T09:00:00Z".parse()?;
    /// let batch = store.open_batch(&Batch::new("ward round", &Actor::system("ward-tablet"), at));
    /// let reading = Reading::new(
    ///     patient,
    ///     VitalKind::HeartRate,
    ///     ReadingValue::Single { value: 72.0 },
    ///     "2026-03-01T08:55:00+00:00".parse()?,
    /// )
    /// .at_position(Position { batch, record: 1 });
    /// let mut report = BatchReport { batch, ..BatchReport::default() };
    /// assert_eq!(store.ingest_reading(&reading, at, &mut report), Outcome::Accepted);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        patient: PatientId,
        kind: VitalKind,
        value: ReadingValue,
        effective: DateTime<FixedOffset>,
    ) -> Self {
        Self {
            patient,
            kind,
            value,
            original_unit: kind.canonical_unit(),
            effective,
            effective_precision: EffectivePrecision::Timestamp,
            source: Source::Manual,
            context: ReadingContext::None,
            provenance: Position {
                batch: 0,
                record: 0,
            },
        }
    }

    /// The same reading from another source.
    #[must_use]
    pub fn from_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// The same reading with kind-specific context.
    #[must_use]
    pub fn with_context(mut self, context: ReadingContext) -> Self {
        self.context = context;
        self
    }

    /// The same reading, noting the unit it arrived in (the value stays canonical).
    #[must_use]
    pub fn arrived_in(mut self, unit: Unit) -> Self {
        self.original_unit = unit;
        self
    }

    /// The same reading known only to the day of `effective`.
    #[must_use]
    pub fn date_only(mut self) -> Self {
        self.effective_precision = EffectivePrecision::Date;
        self
    }

    /// The same reading at `position` in its input.
    #[must_use]
    pub fn at_position(mut self, position: Position) -> Self {
        self.provenance = position;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_keys_round_trip() {
        for text in [
            "manual",
            "clinic",
            "app:healthkit",
            "device:0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f",
        ] {
            let s = Source::parse(text);
            assert_eq!(s.map(|s| s.key()).as_deref(), Some(text));
        }
        assert_eq!(Source::parse("device:nope"), None);
        assert_eq!(Source::parse("app:"), None);
        assert_eq!(Source::parse("fax"), None);
    }
}
