//! The shared vocabulary of Bedside: typed ids, codes, periods, the clock, actors, outreach
//! routes and PHI redaction.
//!
//! Every other Bedside crate speaks in these types, so they can exchange plain values without
//! depending on each other:
//!
//! - [`PatientId`], [`AppointmentId`], … — one newtype per entity over UUID v7, made by an
//!   injectable [`IdGenerator`] ([`SeededIdGenerator`] in tests, [`SystemIdGenerator`] in
//!   services); [`define_id!`] makes more.
//! - [`Clock`] with [`SystemClock`] and [`ManualClock`]: domain code never reads the system
//!   clock. [`Period`] is a half-open `[start, end)` interval; [`PartialDate`] is a FHIR-style
//!   date known to the year, month or day.
//! - [`Coding`] and [`CodeableConcept`], with the code systems in [`code::system`].
//! - [`Actor`]: who did something. Every change a person makes takes one (each crate's
//!   "Attribution" section lists the mutations that do not, and why).
//! - [`Channel`], [`ContactRoute`], [`QuietHours`] and [`Language`] for outreach.
//! - [`Sensitive`]: holds PHI and prints `<redacted>`.
//! - [`Confidentiality`]: the HL7 v3 level (`N`, `R`, `V`) records label and consent decides on.
//! - [`ErrorKind`] and [`DomainError`]: every crate's error says what kind of failure it is
//!   (invalid, not found, conflict, forbidden, …), so services map errors without matching text.
//! - [`Timestamp`]: an instant in UTC (`chrono::DateTime<Utc>`), the one instant type.
//! - [`chrono`], [`chrono_tz`] and [`uuid`] are re-exported: their types are in every signature.
//! - [`SeededRng`]: deterministic randomness from a seed.
//!
//! ```
//! use bedside_core::{
//!     Actor, Channel, Clock, ContactRoute, IdGeneratorExt, ManualClock, PatientId, Period,
//!     QuietHours, SeededIdGenerator,
//! };
//! use chrono::{NaiveTime, TimeDelta};
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new("2026-06-10T02:00:00Z".parse()?));
//! let ids = SeededIdGenerator::new(clock.clone(), 42);
//! let patient: PatientId = ids.generate();
//! let actor = Actor::Patient { patient };
//!
//! // The phone number never appears in debug output.
//! let route = ContactRoute::new(Channel::Sms, "+12125550123");
//! assert!(!format!("{route:?}").contains("555"));
//!
//! // 22:00 in New York is inside 21:00–08:00 quiet hours: the reminder waits until 08:00.
//! let quiet = QuietHours::new(
//!     chrono_tz::America::New_York,
//!     NaiveTime::from_hms_opt(21, 0, 0).ok_or("time")?,
//!     NaiveTime::from_hms_opt(8, 0, 0).ok_or("time")?,
//! );
//! let send_at = quiet.next_allowed(clock.now());
//! assert_eq!(send_at.to_rfc3339(), "2026-06-10T12:00:00+00:00");
//!
//! let visit = Period::starting_at(send_at, TimeDelta::minutes(30));
//! assert!(visit.contains(send_at) && !visit.contains(visit.end()));
//! assert!(actor.label().starts_with("patient:"));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod actor;
pub mod code;
pub mod confidentiality;
pub mod error;
pub mod id;
#[cfg(feature = "time")]
pub mod interop_time;
pub mod outreach;
pub mod rng;
pub mod sensitive;
pub mod time;

pub use actor::{Actor, Role, Staff};
pub use code::{CodeableConcept, Coding};
pub use confidentiality::Confidentiality;
pub use error::{CoreError, DomainError, ErrorKind, IssueSeverity};
pub use id::{
    AccountId, AlertId, AppointmentId, AuditEventId, ClaimId, ConsentId, CoverageId, DeviceId,
    EncounterId, IdGenerator, IdGeneratorExt, OrganisationId, PatientId, ProviderId,
    RelatedPersonId, ResponseId, RoomId, SeededIdGenerator, StaffId, SystemIdGenerator, TypedId,
};
pub use outreach::{Channel, ContactRoute, Language, QuietHours};
pub use rng::SeededRng;
pub use sensitive::{REDACTED, Sensitive};
pub use time::{Clock, ManualClock, PartialDate, Period, SystemClock, Timestamp};

/// The date-time crate whose types ([`chrono::DateTime`], [`chrono::NaiveDate`],
/// [`chrono::TimeDelta`]) appear in Bedside signatures, re-exported so embedders use the same
/// version.
pub use chrono;
/// IANA time zones ([`chrono_tz::Tz`]) for clinic-local times, re-exported for the same reason.
pub use chrono_tz;
/// The UUID crate behind every typed id ([`TypedId::as_uuid`]), re-exported for the same reason.
pub use uuid;

/// Re-exports used by [`define_id!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use uuid::Uuid;
}
