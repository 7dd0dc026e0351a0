//! Bedside: reusable building blocks for patient-centred clinic operations.
//!
//! This facade re-exports every Bedside crate so one dependency gives the whole toolkit. Each
//! domain sits behind a Cargo feature of the same short name, all on by default:
//!
//! | module | what it does | start with | feature |
//! |---|---|---|---|
//! | [`core`] | ids, codes, periods, clock, actors, PHI redaction, error kinds | [`core::PatientId`], [`core::Timestamp`], [`core::Actor`], [`core::ErrorKind`] | always |
//! | [`fhir`] | the FHIR R4 JSON layer under every domain's `fhir` module | [`fhir::json::Reader`], [`fhir::FhirError`] | always |
//! | [`records`] | the patient record: model, history, validation, matching, search | [`records::PatientRegistry`], [`records::Patient`], [`records::matching::MatchIndex`] | `records` |
//! | [`consent`] | privacy policy, consent, break-glass, tamper-evident audit | [`consent::Engine`], [`consent::Policy`], [`consent::AuditLog`] | `consent` |
//! | [`schedule`] | availability, slot search, booking, solver, reminders, SMS replies | [`schedule::Schedule`], [`schedule::Calendar`] | `schedule` |
//! | [`ledger`] | double-entry billing in integer money, claims, X12, statements | [`ledger::Books`], [`ledger::ClaimBook`] | `ledger` |
//! | [`survey`] | survey definitions, branching, validation, scoring, analytics | [`survey::Builtin`], [`survey::SurveyResponse`] | `survey` |
//! | [`vitals`] | home vitals ingestion, units, time series, NEWS2 and alert rules | [`vitals::VitalsStore`], [`vitals::AlertBook`] | `vitals` |
//!
//! Each module is the crate of the same name (`bedside-records`, …), inlined here so these docs
//! reach every item; each crate's page opens with a runnable example of its everyday use.
//! [`chrono`], [`chrono_tz`] and [`uuid`] are re-exported because their types appear in every
//! signature: depend on `bedside` alone and use `bedside::chrono`.
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

#[doc(inline)]
pub use bedside_core as core;

/// The date-time crate of every Bedside signature (same version as the crates use).
#[doc(no_inline)]
pub use bedside_core::chrono;
/// IANA time zones for clinic-local times.
#[doc(no_inline)]
pub use bedside_core::chrono_tz;
/// The UUID crate behind every typed id.
#[doc(no_inline)]
pub use bedside_core::uuid;
/// The FHIR R4 JSON layer every domain's `fhir` module is built on: datatypes, lossless
/// reading, PHI-safe errors, semantic diff.
#[doc(inline)]
pub use bedside_fhir as fhir;

#[cfg(feature = "records")]
#[doc(inline)]
pub use bedside_records as records;

#[cfg(feature = "consent")]
#[doc(inline)]
pub use bedside_consent as consent;

#[cfg(feature = "schedule")]
#[doc(inline)]
pub use bedside_schedule as schedule;

#[cfg(feature = "ledger")]
#[doc(inline)]
pub use bedside_ledger as ledger;

#[cfg(feature = "survey")]
#[doc(inline)]
pub use bedside_survey as survey;

#[cfg(feature = "vitals")]
#[doc(inline)]
pub use bedside_vitals as vitals;
