//! Home vitals ingestion: parsing, units, validation, dedup, time series and alert rules including NEWS2.
//!
//! After discharge, patients log their readings at home and nurses check in without calling.
//! This crate takes those readings in from any source, accounts for every record, and tells a
//! nurse when to act. It does no I/O: parsers take `impl BufRead`/`impl Read` and stream, and
//! "now" comes from a [`bedside_core::Clock`].
//!
//! - [`VitalKind`] ties each kind to its LOINC codes (with legacy aliases such as 55284-4 for
//!   the BP panel and 8331-1 for oral temperature) and UCUM [`Unit`]s; [`UnitConfig`]
//!   normalises with exact factors and a named, configurable glucose factor
//!   ([`unit::GLUCOSE_MG_DL_PER_MMOL_L`]).
//! - [`Reading`]: patient, kind, canonical value(s), instant with its original UTC offset,
//!   [`Source`] and provenance [`Position`].
//! - [`VitalsStore`]: compact per-patient, per-kind series (48 bytes a reading) with range
//!   queries, latest value, [`DailyAggregate`]s in the patient's zone and least-squares
//!   [`Trend`]s; every parser feeds its admission pipeline (validate, normalise,
//!   de-duplicate, store, threshold rules) and gets a [`BatchReport`] in which every record
//!   has exactly one [`Outcome`].
//! - Parsers: [`ndjson`] (our schema, below), [`csv`] (with a header mapping), [`fhir`] (R4
//!   `Observation` and `Bundle` on `bedside-fhir`: streaming ingestion, the lossless
//!   [`fhir::import_observation`], and always-valid export) and [`omh`] (Open mHealth data
//!   points).
//! - Alerts: [`alert::evaluate`] is a pure function of readings and a [`CarePlan`]
//!   (thresholds, rate of change, missing data, NEWS2), with suppression windows; an
//!   [`AlertBook`] holds acknowledgements by an [`bedside_core::Actor`].
//! - [`news2`]: NEWS2 scored exactly from the chart of the **Royal College of Physicians,
//!   National Early Warning Score (NEWS) 2, 2017**. NEWS2 is © Royal College of Physicians;
//!   we implement its published logic with acknowledgement and do not reproduce the chart.
//!
//! # The NDJSON reading schema
//!
//! One JSON object per line (UTF-8, `\n` or `\r\n` line ends; blank lines are skipped). Values
//! are strings, numbers, booleans or null (null = absent); nested values make the line
//! malformed; unknown keys are ignored; a repeated key is malformed.
//!
//! | key | type | required | meaning |
//! |---|---|---|---|
//! | `patient` | string | yes | the patient's id (UUID, as [`bedside_core::PatientId`] prints) |
//! | `kind` | string | yes | `blood_pressure`, `heart_rate`, `respiratory_rate`, `oxygen_saturation`, `body_temperature`, `body_weight`, `body_height`, `bmi`, `blood_glucose`, `head_circumference`, `mean_arterial_pressure`, or an accepted LOINC code |
//! | `at` | string | yes | RFC 3339 instant **with** offset (`2026-03-01T08:00:00+01:00`); the offset is kept |
//! | `value` | number | all but BP | the measurement |
//! | `systolic`, `diastolic` | number | BP | pressures |
//! | `mean` | number | no | mean arterial pressure (BP) |
//! | `unit` | string | yes | UCUM code (`mm[Hg]`, `kPa`, `/min`, `%`, `Cel`, `[degF]`, `kg`, `g`, `[lb_av]`, `cm`, `m`, `[in_i]`, `kg/m2`, `mg/dL`, `mmol/L`) or a common spelling (`mmHg`, `bpm`, `lb`, `F`) |
//! | `source` | string | yes | `device:<uuid>`, `app:<name>`, `manual` or `clinic` |
//! | `device_model` | string | no | model of a device source |
//! | `position` | string | no | BP: `sitting`, `standing`, `lying` |
//! | `site` | string | no | temperature: `oral`, `axillary`, `tympanic`, `rectal`, `temporal`, `other` |
//! | `meal` | string | no | glucose: `fasting`, `before_meal`, `after_meal`, `random` |
//! | `on_oxygen` | boolean | no | SpO2: on supplemental oxygen |
//!
//! ```text
//! {"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"blood_pressure","at":"2026-03-01T08:00:00+01:00","systolic":142,"diastolic":88,"unit":"mm[Hg]","source":"device:0190f5a4-0000-7000-8000-000000000001","position":"sitting"}
//! ```
//!
//! The [`csv`] parser takes the same fields as columns, named by a [`csv::CsvMapping`].
//!
//! # Example
//!
//! ```
//! use bedside_core::{Clock, ManualClock, PatientId};
//! use bedside_vitals::{ndjson, CarePlan, IngestConfig, VitalKind, VitalsStore};
//!
//! let clock = ManualClock::new("2026-03-02T00:00:00Z".parse()?);
//! let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
//! let mut store = VitalsStore::new(IngestConfig::default());
//! store.register_patient(patient, chrono_tz::Europe::London);
//!
//! let input = concat!(
//!     r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"body_weight","at":"2026-03-01T08:00:00Z","value":176.4,"unit":"[lb_av]","source":"manual"}"#, "\n",
//!     r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"body_weight","at":"2026-03-01T08:00:00Z","value":176.4,"unit":"[lb_av]","source":"manual"}"#, "\n",
//!     r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"blood_pressure","at":"2026-03-01T08:05:00Z","systolic":900,"diastolic":80,"unit":"mmHg","source":"manual"}"#, "\n",
//!     "not json\n",
//! );
//! let report = ndjson::ingest(&mut store, input.as_bytes(), "upload-1", &clock)?;
//! assert_eq!((report.accepted, report.duplicate, report.rejected_total()), (1, 1, 2));
//!
//! let weight = store.latest(patient, VitalKind::BodyWeight).ok_or("no weight")?;
//! assert!(weight.value.primary().is_some_and(|kg| (kg - 80.013_694_068).abs() < 1e-9)); // 176.4 lb in kg
//!
//! let period = bedside_core::Period::new("2026-03-01T00:00:00Z".parse()?, clock.now())?;
//! let alerts = bedside_vitals::alert::evaluate(&store, patient, &CarePlan::default(), &period);
//! assert!(alerts.is_empty());
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod alert;
pub mod csv;
pub mod error;
pub mod fhir;
mod flat;
pub mod kind;
pub mod ndjson;
pub mod news2;
pub mod omh;
pub mod reading;
pub mod store;
mod timefmt;
pub mod unit;

pub use alert::{Alert, AlertBook, CarePlan, Response, Severity, ThresholdRule};
/// The IANA time zone type patients are registered with (re-exported from `chrono-tz`).
pub use chrono_tz::Tz;
pub use error::{Field, RejectReason, VitalsError};
pub use kind::{BodyPosition, MealContext, ReadingContext, TemperatureSite, VitalKind};
pub use news2::{News2Band, News2Input, News2Score, SpO2Scale};
pub use reading::{EffectivePrecision, Position, Reading, ReadingValue, Source};
pub use store::{
    BatchReport, DailyAggregate, IngestConfig, Outcome, Rejection, Trend, VitalsStore,
};
pub use unit::{Unit, UnitConfig};
