//! Typed ids backed by UUID v7, and the injectable [`IdGenerator`] that makes them.
//!
//! Every entity has its own newtype (`PatientId`, `AppointmentId`, …) so an appointment id can
//! never be passed where a patient id is expected. Ids display and parse as hyphenated UUIDs and
//! serialise as strings. UUID v7 puts a millisecond timestamp first, so ids sort roughly by
//! creation time and index well.

use crate::error::CoreError;
use crate::time::Clock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// A source of fresh UUIDs. Inject one into every service that creates entities so tests can
/// use a [`SeededIdGenerator`] and get the same ids on every run.
pub trait IdGenerator: Send + Sync {
    /// Returns a new UUID, distinct from every earlier one from this generator.
    fn next_uuid(&self) -> Uuid;
}

/// Extension methods available on every [`IdGenerator`], including trait objects.
pub trait IdGeneratorExt: IdGenerator {
    /// Generates a typed id.
    fn generate<I: TypedId>(&self) -> I {
        I::from_uuid(self.next_uuid())
    }
}

impl<G: IdGenerator + ?Sized> IdGeneratorExt for G {}

impl<G: IdGenerator + ?Sized> IdGenerator for Arc<G> {
    fn next_uuid(&self) -> Uuid {
        (**self).next_uuid()
    }
}

impl<G: IdGenerator + ?Sized> IdGenerator for &G {
    fn next_uuid(&self) -> Uuid {
        (**self).next_uuid()
    }
}

/// Generates UUID v7 from the operating system's clock and random number generator.
///
/// Use it in production services; domain code receives it as `&dyn IdGenerator`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemIdGenerator;

impl IdGenerator for SystemIdGenerator {
    fn next_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Generates deterministic UUID v7: the timestamp comes from a [`Clock`] and the random bits
/// from a seeded SplitMix64 sequence. The same clock readings and seed give the same ids.
pub struct SeededIdGenerator {
    clock: Arc<dyn Clock>,
    state: AtomicU64,
}

impl std::fmt::Debug for SeededIdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeededIdGenerator")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SeededIdGenerator {
    /// Creates a generator reading timestamps from `clock`, with random bits from `seed`.
    pub fn new(clock: Arc<dyn Clock>, seed: u64) -> Self {
        Self {
            clock,
            state: AtomicU64::new(seed),
        }
    }

    /// Generates a typed id; shorthand for [`IdGeneratorExt::generate`].
    pub fn generate<I: TypedId>(&self) -> I {
        I::from_uuid(self.next_uuid())
    }

    /// Where the sequence stands: a generator made with `new(clock, position)` goes on
    /// exactly where this one is (a service saves it with a snapshot of its state).
    pub fn position(&self) -> u64 {
        self.state.load(Ordering::Relaxed)
    }
}

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): a tiny, well-distributed mixer that
/// needs no dependency and is fully determined by its input.
pub(crate) fn splitmix64(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl IdGenerator for SeededIdGenerator {
    fn next_uuid(&self) -> Uuid {
        let step = self.state.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed);
        let a = splitmix64(step);
        let b = splitmix64(step ^ 0xD1B5_4A32_D192_ED03);
        // Instants before the Unix epoch have no v7 encoding; clamp them to the epoch.
        let millis = u64::try_from(self.clock.now().timestamp_millis()).unwrap_or(0);
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&a.to_be_bytes());
        random[8..].copy_from_slice(&b.to_be_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

/// Implemented by every typed id.
pub trait TypedId: Copy + Eq + std::hash::Hash + std::fmt::Display + std::str::FromStr {
    /// The type's name, used in error messages (`PatientId`).
    const KIND: &'static str;
    /// Wraps a UUID.
    fn from_uuid(uuid: Uuid) -> Self;
    /// The underlying UUID.
    fn as_uuid(&self) -> Uuid;
}

/// Parses a hyphenated (or simple) UUID for an id of the given kind.
///
/// # Errors
/// Returns [`CoreError::InvalidId`] when `s` is not a UUID.
pub fn parse_uuid(kind: &'static str, s: &str) -> Result<Uuid, CoreError> {
    Uuid::try_parse(s).map_err(|_| CoreError::InvalidId { kind })
}

/// Defines a typed id newtype over [`Uuid`] with `Display`/`FromStr`, string serde and
/// [`TypedId`]. Domain crates use it for ids that only they know about.
///
/// ```
/// bedside_core::define_id! {
///     /// A widget.
///     WidgetId
/// }
/// let id: WidgetId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
/// assert_eq!(id.to_string(), "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($crate::__private::Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(uuid: $crate::__private::Uuid) -> Self {
                Self(uuid)
            }
            /// The underlying UUID.
            pub const fn as_uuid(&self) -> $crate::__private::Uuid {
                self.0
            }
        }

        impl $crate::TypedId for $name {
            const KIND: &'static str = stringify!($name);
            fn from_uuid(uuid: $crate::__private::Uuid) -> Self {
                Self(uuid)
            }
            fn as_uuid(&self) -> $crate::__private::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::CoreError;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::id::parse_uuid(stringify!($name), s).map(Self)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                let mut buf = $crate::__private::Uuid::encode_buffer();
                serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s: ::std::borrow::Cow<'de, str> =
                    $crate::__private::serde::Deserialize::deserialize(deserializer)?;
                s.parse().map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

define_id! {
    /// A patient.
    PatientId
}
define_id! {
    /// A care provider (physician, nurse practitioner, therapist) who can be scheduled.
    ProviderId
}
define_id! {
    /// A member of staff acting in the system (may also be a provider).
    StaffId
}
define_id! {
    /// An organisation: the clinic itself, a payer, an external recipient.
    OrganisationId
}
define_id! {
    /// A related person (family member, guardian, caregiver) who may act as a proxy.
    RelatedPersonId
}
define_id! {
    /// A scheduled appointment.
    AppointmentId
}
define_id! {
    /// A schedulable room or location.
    RoomId
}
define_id! {
    /// A ledger account.
    AccountId
}
define_id! {
    /// A patient consent.
    ConsentId
}
define_id! {
    /// An encounter (a visit, admission or teleconsultation).
    EncounterId
}
define_id! {
    /// An insurance coverage.
    CoverageId
}
define_id! {
    /// An insurance claim.
    ClaimId
}
define_id! {
    /// A survey response.
    ResponseId
}
define_id! {
    /// A home-monitoring device.
    DeviceId
}
define_id! {
    /// An alert raised for staff.
    AlertId
}
define_id! {
    /// A recorded audit event.
    AuditEventId
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;
    use std::collections::HashSet;

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            chrono::DateTime::from_timestamp(1_773_480_000, 0).unwrap_or_default(),
        ))
    }

    #[test]
    fn seeded_generator_is_deterministic_and_distinct() {
        let a = SeededIdGenerator::new(clock(), 42);
        let b = SeededIdGenerator::new(clock(), 42);
        let xs: Vec<PatientId> = (0..1000).map(|_| a.generate()).collect();
        let ys: Vec<PatientId> = (0..1000).map(|_| b.generate()).collect();
        assert_eq!(xs, ys);
        assert_eq!(xs.iter().collect::<HashSet<_>>().len(), 1000);
        let c = SeededIdGenerator::new(clock(), 43);
        assert_ne!(c.generate::<PatientId>(), xs[0]);
    }

    #[test]
    fn generated_ids_are_v7_with_clock_timestamp() {
        let g = SeededIdGenerator::new(clock(), 1);
        let id: AppointmentId = g.generate();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let (secs, _) = id
            .as_uuid()
            .get_timestamp()
            .map(|t| t.to_unix())
            .unwrap_or((0, 0));
        assert_eq!(secs, 1_773_480_000);
    }

    #[test]
    fn parse_errors_name_the_kind() {
        let err = "not-a-uuid".parse::<PatientId>().err();
        assert_eq!(err, Some(CoreError::InvalidId { kind: "PatientId" }));
        assert_eq!(
            err.map(|e| e.to_string()).unwrap_or_default(),
            "invalid PatientId id: expected a hyphenated UUID"
        );
    }

    #[test]
    fn serde_as_string() -> Result<(), serde_json::Error> {
        let id: ConsentId = SeededIdGenerator::new(clock(), 9).generate();
        let json = serde_json::to_string(&id)?;
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<ConsentId>(&json)?, id);
        assert!(serde_json::from_str::<ConsentId>("\"zzz\"").is_err());
        Ok(())
    }

    #[test]
    fn system_generator_yields_v7() {
        let id: PatientId = SystemIdGenerator.generate();
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }
}
