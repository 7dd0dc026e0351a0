//! Error types of `bedside-records`: [`FhirError`] for FHIR JSON import and [`RegistryError`]
//! for the versioned registry. Messages name fields and positions, never values.

use crate::validate::Problem;
use bedside_core::PatientId;
use thiserror::Error;

/// Errors raised when importing FHIR JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FhirError {
    /// Occurs when the input is not well-formed JSON.
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected (never echoes input text).
        reason: String,
    },
    /// Occurs when the input is larger than [`crate::fhir::MAX_INPUT_BYTES`].
    #[error("input of {bytes} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Occurs when a resource is not a JSON object.
    #[error("`{path}` is not a JSON object")]
    NotAnObject {
        /// Where the value was found.
        path: String,
    },
    /// Occurs when a resource has no string `resourceType`.
    #[error("`{path}` has no `resourceType`")]
    MissingResourceType {
        /// Where the resource was found.
        path: String,
    },
    /// Occurs when a typed import finds a different resource type.
    #[error("`{path}` is a `{found}`, expected `{expected}`")]
    WrongResourceType {
        /// Where the resource was found.
        path: String,
        /// The type the caller asked for.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// Occurs when a required element is absent or has the wrong shape.
    #[error("required element `{path}` is missing or malformed")]
    MissingElement {
        /// The element path, for example `RelatedPerson.patient`.
        path: String,
    },
    /// Occurs when a bundle has more entries than [`crate::fhir::MAX_BUNDLE_ENTRIES`].
    #[error("bundle has {entries} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// Entries found.
        entries: usize,
        /// The limit.
        limit: usize,
    },
}

/// Errors raised by [`crate::PatientRegistry`]. All are returned before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Occurs when registering a patient id that is already registered.
    #[error("patient {0} is already registered")]
    AlreadyRegistered(PatientId),
    /// Occurs when a patient id is not registered.
    #[error("patient {0} is not registered")]
    UnknownPatient(PatientId),
    /// Occurs when an update names a version that does not exist.
    #[error("patient {patient} has no version {version}")]
    UnknownVersion {
        /// The patient.
        patient: PatientId,
        /// The version asked for.
        version: u32,
    },
    /// Occurs when an update was based on a version that is no longer current: someone else
    /// wrote in between.
    #[error(
        "stale update of patient {patient}: based on version {based_on}, current is {current}; the other writer changed {}",
        their_changes.join(", ")
    )]
    Conflict {
        /// The patient.
        patient: PatientId,
        /// The version the update was based on.
        based_on: u32,
        /// The current version.
        current: u32,
        /// Field paths the other writer(s) changed since `based_on`.
        their_changes: Vec<String>,
    },
    /// Occurs when the new record has validation errors; every problem is listed.
    #[error("record has {} validation error(s): {}", problems.len(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The errors (warnings are not included).
        problems: Vec<Problem>,
    },
    /// Occurs when an update changes the patient id.
    #[error("an update may not change the patient id")]
    IdChanged,
    /// Occurs when an update changes nothing.
    #[error("the update changes nothing")]
    NoChange,
    /// Occurs when the actor may not make this change (an external party, or a patient or
    /// proxy acting for a different patient, or a non-staff actor reviewing a request).
    #[error("actor `{actor}` may not {action}")]
    Forbidden {
        /// The actor's label (typed ids only, no PHI).
        actor: String,
        /// What was refused.
        action: &'static str,
    },
    /// Occurs when a change request id is unknown.
    #[error("unknown change request {0}")]
    UnknownRequest(crate::history::ChangeRequestId),
    /// Occurs when a change request was already approved or rejected.
    #[error("change request {0} was already decided")]
    AlreadyDecided(crate::history::ChangeRequestId),
}
