//! Bedside: reusable building blocks for patient-centred clinic operations.
//!
//! This facade re-exports every Bedside crate so one dependency gives the whole toolkit. Each
//! domain sits behind a Cargo feature of the same short name, all on by default:
//!
//! | module | crate | feature |
//! |---|---|---|
//! | [`core`] | `bedside-core` — ids, codes, periods, clock, actors, PHI redaction | always |
//! | `records` | `bedside-records` — the patient record | `records` |
//! | `consent` | `bedside-consent` — privacy policy, consent and audit | `consent` |
//! | `schedule` | `bedside-schedule` — availability, booking, solver, reminders | `schedule` |
//! | `ledger` | `bedside-ledger` — double-entry billing | `ledger` |
//! | `survey` | `bedside-survey` — surveys, scoring, analytics | `survey` |
//! | `vitals` | `bedside-vitals` — home vitals ingestion and alerts | `vitals` |
//!
//! ```
//! use bedside::core::{Clock, ManualClock, PatientId, SeededIdGenerator};
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new("2026-03-14T09:00:00Z".parse()?));
//! let ids = SeededIdGenerator::new(clock.clone(), 7);
//! let patient: PatientId = ids.generate();
//! assert_eq!(patient.to_string().parse::<PatientId>()?, patient);
//! assert_eq!(clock.now().to_rfc3339(), "2026-03-14T09:00:00+00:00");
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use bedside_core as core;
/// The FHIR R4 JSON layer every domain's `fhir` module is built on: datatypes, lossless
/// reading, PHI-safe errors, semantic diff.
pub use bedside_fhir as fhir;

#[cfg(feature = "records")]
pub use bedside_records as records;

#[cfg(feature = "consent")]
pub use bedside_consent as consent;

#[cfg(feature = "schedule")]
pub use bedside_schedule as schedule;

#[cfg(feature = "ledger")]
pub use bedside_ledger as ledger;

#[cfg(feature = "survey")]
pub use bedside_survey as survey;

#[cfg(feature = "vitals")]
pub use bedside_vitals as vitals;
