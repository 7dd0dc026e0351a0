//! A reference clinic backend composed from the Bedside domain crates: application services,
//! an embedded SQLite store and an HTTP JSON API.
//!
//! - [`Clinic`] ([`clinic`]): the application services — registration with a duplicate check,
//!   self-service and staff-approved changes, slot search and booking with reminders, inbound
//!   SMS replies, sick-day repair, proxies, break-the-glass, accounting of disclosures,
//!   check-in, charges, claims, 835 remittance, statements, payments and aging, post-visit
//!   surveys with a manager report, home vitals with NEWS2 alerts. Every read of patient data asks the consent engine with the
//!   caller's actor and purpose and appends the decision to the audit chain.
//! - [`Store`] ([`store`]): the persistence port; [`SqliteStore`] keeps a command journal,
//!   the audit chain, the outbox and hashed tokens in SQLite (WAL, versioned migrations, one
//!   transaction per command).
//! - [`Principal`] ([`auth`]): bearer tokens for staff (with roles), patients and proxies.
//! - [`Notifier`] ([`notify`]): delivers outbox messages.
//! - [`http::router`]: the axum router (documented in `docs/API.md`).
//! - [`seed`]: a realistic demo clinic.
//!
//! ```
//! use bedside_clinic::{Clinic, ClinicConfig, SqliteStore, seed};
//! use bedside_core::ManualClock;
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new("2026-06-05T14:00:00Z".parse()?));
//! let clinic = Clinic::open(Box::new(SqliteStore::in_memory()?), clock, ClinicConfig::default())?;
//! let demo = seed::seed(&clinic)?;
//! let slots = clinic.find_slots(&bedside_clinic::SlotSearch {
//!     appointment_type: "gp-visit".into(),
//!     ..Default::default()
//! })?;
//! assert!(!slots.is_empty());
//! // The patient books the first slot; reminders wait in the outbox.
//! let patient = demo.patients[0].0;
//! let me = bedside_clinic::Principal::Patient { patient };
//! clinic.book(&me, patient, slots[0].clone(), "checkout-1")?;
//! assert!(!clinic.outbox(&me, Some("pending"), None)?.is_empty());
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod access;
pub mod auth;
pub mod clinic;
pub mod error;
pub mod fhir;
pub mod http;
pub mod integrity;
pub mod journal;
pub mod limits;
pub mod notify;
pub mod pgtest;
pub mod phases;
pub mod portal;
pub mod seed;
pub mod server;
pub mod store;

pub use auth::Principal;
pub use clinic::{Clinic, ClinicConfig, Command, PaymentRequest, Registration, SlotSearch};
pub use error::{ClinicError, StoreError};
pub use notify::{FileNotifier, LogNotifier, MemoryNotifier, Notifier};
pub use store::{Durability, GroupSync, PostgresStore, SqliteStore, Store};
