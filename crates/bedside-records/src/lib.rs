//! The patient record: demographics, contact preferences, coverage, clinical entries, versioned
//! history, validation, matching and search, FHIR R4 JSON.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and
//! `bedside-fhir` (the shared FHIR R4 layer) and does no I/O of its own.
//!
//! - [`Patient`] ([`model`]): identifiers, names, birth date, gender, addresses, telecom,
//!   languages, per-purpose contact routes with opt-in state and quiet hours, contacts and
//!   [`RelatedPerson`]s (with proxy scopes), [`Coverage`]s and the [`GeneralPractitioners`]. Every
//!   identifying value is a [`bedside_core::Sensitive`], so `Debug` output is safe to log.
//! - [`ClinicalEntry`] ([`clinical`]): allergies, conditions, medication statements,
//!   encounters and documents, each with [`SecurityLabels`] (HL7 v3 sensitivity codes and a
//!   [`Confidentiality`]).
//! - [`PatientRegistry`] ([`history`]): every version kept, optimistic concurrency with
//!   conflict details, self-service changes versus staff-approved [`ChangeRequest`]s,
//!   [`PatientRegistry::as_of`] and [`PatientRegistry::diff`].
//! - [`validate()`] ([`mod@validate`]): every problem with its field path — dates, E.164,
//!   e-mail, postal codes, NHS number, NPI and MBI checks, duplicate identifiers, overlapping
//!   primary coverage — plus warnings.
//! - [`fhir`]: FHIR R4 JSON import and export that keeps unknown elements and extensions,
//!   on `bedside-fhir`; every export is valid R4.
//! - [`matching`] and [`search`]: finding the same person across records.
//!
//! ```
//! use bedside_core::{Actor, Channel, IdGeneratorExt, ManualClock, SeededIdGenerator, Timestamp};
//! use bedside_records::{
//!     ContactPoint, ContactPurpose, HumanName, NameUse, Patient, PatientRegistry, RecordEdit,
//!     TelecomSystem, TelecomUse,
//! };
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new("2026-03-01T09:00:00Z".parse()?));
//! let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 7));
//! let mut patient = Patient::new(ids.generate());
//! patient.names.push(HumanName::new(NameUse::Official, &["Ada"], "Lovelace"));
//! patient.birth_date = Some(bedside_core::Sensitive::new("1985-12-10".parse()?));
//! patient.telecom.push(ContactPoint::new(
//!     TelecomSystem::Phone,
//!     "+447700900123",
//!     Some(TelecomUse::Mobile),
//! ));
//!
//! let mut registry = PatientRegistry::new(ids.clone());
//! let actor = Actor::system("front-desk-import");
//! let id = patient.id;
//! let at: Timestamp = "2026-03-01T09:00:00Z".parse()?;
//! registry.register(patient, &actor, "new patient", at)?;
//!
//! // The patient changes their own phone number: applied at once as version 2.
//! let mut edited = registry.current(id).ok_or("registered")?.clone();
//! edited.telecom[0] = ContactPoint::new(TelecomSystem::Phone, "+447700900456", Some(TelecomUse::Mobile));
//! let edit = RecordEdit::new(id, 1, edited, "new phone");
//! let outcome = registry.update(edit, &Actor::Patient { patient: id }, at + chrono::TimeDelta::days(1))?;
//! assert_eq!(outcome.applied, Some(2));
//! assert_eq!(registry.diff(id, 1, 2)?, ["telecom[0].value"]);
//!
//! let current = registry.current(id).ok_or("registered")?;
//! let routes = current.contact_routes(ContactPurpose::AppointmentReminders);
//! assert_eq!(routes[0].channel, Channel::Sms);
//! // No PHI in debug output.
//! assert!(!format!("{current:?}").contains("Lovelace"));
//!
//! // FHIR R4 JSON out and back in.
//! let json = current.to_fhir();
//! let back = Patient::from_fhir(json.to_string().as_bytes(), ids.as_ref())?;
//! assert_eq!(&back.value, current);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Persistence
//!
//! - [`PatientRegistry`]: [`PatientRegistry::snapshot`] gives a [`RegistrySnapshot`] (every
//!   patient with their whole version history, every change request; plain serde data, patients
//!   by id) and [`PatientRegistry::restore`] takes it back, checking the registry's invariants
//!   (numbering, time order, each version holding its patient's record) and refusing a damaged
//!   snapshot with [`RegistryError::InvalidSnapshot`].
//! - [`Patient`], [`ClinicalEntry`] and the other model types derive serde; FHIR R4 JSON
//!   ([`fhir`]) is the interchange form.
//! - [`matching::LinkRegistry`] derives serde (links and their history are its whole state).
//! - [`matching::MatchIndex`] and [`search::PatientIndex`] are derived caches: rebuild them from
//!   the registry's current records after a restore rather than storing them.
//!
//! # Attribution
//!
//! Every change a person makes takes the acting [`bedside_core::Actor`] and the instant `at`,
//! kept on the version, request or link event: [`PatientRegistry::register`],
//! [`PatientRegistry::update`], [`PatientRegistry::approve`], [`PatientRegistry::reject`],
//! [`matching::LinkRegistry::link`] and [`matching::LinkRegistry::unlink`]. These mutations take
//! no actor:
//!
//! - [`matching::MatchIndex::upsert`] / `remove` and [`search::PatientIndex::upsert`] / `remove`:
//!   derived caches over records whose changes the registry already attributes.
//! - [`Patient::set_preference`] and [`GeneralPractitioners::set_primary_provider`]: edits of a
//!   record value not yet stored; storing it through the registry attributes the change.

pub mod clinical;
pub mod error;
pub mod fhir;
pub mod history;
pub mod model;
pub mod snapshot;
pub mod validate;

pub mod matching;
pub mod search;

pub use clinical::{ClinicalEntry, ClinicalEntryId, ClinicalKind, Confidentiality, SecurityLabels};
pub use error::{FhirError, RegistryError};
pub use history::{
    ChangeRequest, ChangeRequestId, PatientRegistry, RecordEdit, RequestStatus, UpdateOutcome,
    Version, VersionKind,
};
pub use model::{
    Address, AdministrativeGender, Communication, ContactPoint, ContactPurpose, Coverage,
    CoverageRank, GeneralPractitioners, HumanName, Identifier, IdentifierKind, NameUse, OptState,
    Patient, PatientContact, ProxyScope, RelatedPerson, RoutePreference, TelecomSystem, TelecomUse,
};
pub use snapshot::{PatientHistory, RegistrySnapshot};
pub use validate::{IssueSeverity, Problem, ProblemKind, Report, validate};
