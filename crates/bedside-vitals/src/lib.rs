//! Home vitals ingestion: parsing, units, validation, dedup, time series and alert rules including NEWS2.
//!
//! After discharge, patients log their readings at home and nurses check in without calling.
//! This crate takes those readings in from any source, accounts for every record, and tells a
//! nurse when to act. It does no I/O and reads no clock: parsers take `impl BufRead`/`impl Read`
//! and stream, and the instant a batch is taken in is the `at` of its [`Batch`].
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
//!   [`AlertBook`] holds acknowledgements by an [`bedside_core::Actor`]. [`AlertSeverity`] is
//!   how serious an alert is (not the survey crate's `FlagSeverity`, nor
//!   [`bedside_core::IssueSeverity`] of validators).
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
//! use bedside_core::{Actor, PatientId};
//! use bedside_vitals::{Batch, CarePlan, IngestConfig, VitalKind, VitalsStore, ndjson};
//!
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
//! // The patient uploads from home; the batch is taken in at `at`.
//! let at = "2026-03-02T00:00:00Z".parse()?;
//! let upload = Batch::new("upload-1", &Actor::Patient { patient }, at);
//! let report = ndjson::ingest(&mut store, input.as_bytes(), &upload)?;
//! assert_eq!((report.accepted, report.duplicate, report.rejected_total()), (1, 1, 2));
//!
//! let weight = store.latest(patient, VitalKind::BodyWeight).ok_or("no weight")?;
//! assert!(weight.value.primary().is_some_and(|kg| (kg - 80.013_694_068).abs() < 1e-9)); // 176.4 lb in kg
//!
//! let period = bedside_core::Period::new("2026-03-01T00:00:00Z".parse()?, at)?;
//! let alerts = bedside_vitals::alert::evaluate(&store, patient, &CarePlan::default(), &period);
//! assert!(alerts.is_empty());
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Attribution
//!
//! Every change a person makes is attributable to a [`bedside_core::Actor`]: readings enter
//! only in a [`Batch`], which names who sent it (`Batch::by`) and when (`Batch::at`); the store
//! keeps every batch ([`VitalsStore::batch`]) and each reading's [`Position::batch`] points to
//! it. [`AlertBook::acknowledge`] takes the acknowledging actor and records it with the
//! instant. These public `&mut self` methods take no `Actor`, on purpose:
//!
//! - [`VitalsStore::register_patient`] and [`VitalsStore::register_alias`]: set-up the
//!   embedder derives from its own patient records (who enrolled a patient in monitoring is
//!   recorded there); the store keeps no history of them.
//! - [`VitalsStore::ingest_reading`]: admits into a batch already opened with
//!   [`VitalsStore::open_batch`], whose [`Batch`] names the actor.
//! - [`VitalsStore::shrink_to_fit`]: releases memory; nothing observable changes.
//! - [`AlertBook::merge`]: stores the output of [`alert::evaluate`], a pure function of the
//!   readings and the care plan; no person raises an alert.
//! - [`BatchReport::record`] and [`BatchReport::record_with_detail`]: build a report value.
//!
//! # Persistence
//!
//! - [`VitalsStore`] has no serde form (its packed series and hash indexes are derived state).
//!   Store [`VitalsStore::snapshot`], a serde [`VitalsSnapshot`] (settings, aliases, the
//!   source, zone and actor tables, and the patients, batches and every reading packed into
//!   compact bytes, exact to the bit), and reload it with [`VitalsStore::restore`], which
//!   rebuilds the indexes so de-duplication works as before. The snapshot holds PHI; it is
//!   versioned ([`store::SNAPSHOT_VERSION`]); [`store::Packed`] documents the packed layout.
//! - [`AlertBook`] derives `Serialize`/`Deserialize`: it is plain data (alerts and their
//!   acknowledgements by id); serialise it as is. Re-running [`alert::evaluate`] after a
//!   restore and merging gives the same ids, so nothing is duplicated and acknowledgements stay.
//! - [`CarePlan`], [`IngestConfig`], [`Reading`], [`Alert`] and [`BatchReport`] derive serde.
//!   An embedder that keeps a format of record (`bedside-clinic` journals the accepted input
//!   lines) may instead rebuild a store by re-ingesting it.
//!
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

pub use alert::{Alert, AlertBook, AlertSeverity, CarePlan, Response, ThresholdRule};
/// The IANA time zone type patients are registered with (re-exported from `chrono-tz`).
pub use chrono_tz::Tz;
pub use error::{Field, RejectReason, VitalsError};
pub use kind::{BodyPosition, MealContext, ReadingContext, TemperatureSite, VitalKind};
pub use news2::{News2Band, News2Input, News2Score, SpO2Scale};
pub use reading::{EffectivePrecision, Position, Reading, ReadingValue, Source};
pub use store::{
    Batch, BatchReport, DailyAggregate, IngestConfig, Outcome, Rejection, Trend, VitalsSnapshot,
    VitalsStore,
};
pub use unit::{Unit, UnitConfig};
