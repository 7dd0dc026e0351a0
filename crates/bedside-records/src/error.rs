//! Error types of `bedside-records`: [`FhirError`] (bedside-fhir's) for FHIR JSON import and
//! [`RegistryError`] for the versioned registry. Messages name fields and positions, never values.

use crate::validate::Problem;
use bedside_core::PatientId;
use thiserror::Error;

/// The error of FHIR JSON import: bedside-fhir's one PHI-safe error (a typed element path
/// and what was expected, never input text).
pub use bedside_fhir::FhirError;

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
    /// Occurs when a [`crate::RegistrySnapshot`] being restored is inconsistent (stored data
    /// damaged or edited by hand); `path` names the element, never its content.
    #[error("registry snapshot is inconsistent at `{path}`: {reason}")]
    InvalidSnapshot {
        /// Path of the element, e.g. `patients[3].versions[1].number`.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl bedside_core::DomainError for RegistryError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self {
            RegistryError::UnknownPatient(_)
            | RegistryError::UnknownVersion { .. }
            | RegistryError::UnknownRequest(_) => ErrorKind::NotFound,
            RegistryError::AlreadyRegistered(_)
            | RegistryError::Conflict { .. }
            | RegistryError::AlreadyDecided(_) => ErrorKind::Conflict,
            RegistryError::Invalid { .. } | RegistryError::IdChanged | RegistryError::NoChange => {
                ErrorKind::Invalid
            }
            RegistryError::Forbidden { .. } => ErrorKind::Forbidden,
            RegistryError::InvalidSnapshot { .. } => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_core::{DomainError, ErrorKind};

    #[test]
    fn kinds() {
        let id = PatientId::from_uuid(uuid::Uuid::from_u128(1));
        let check = |e: RegistryError, kind: ErrorKind| assert_eq!(e.kind(), kind, "{e}");
        check(RegistryError::UnknownPatient(id), ErrorKind::NotFound);
        check(RegistryError::AlreadyRegistered(id), ErrorKind::Conflict);
        check(RegistryError::NoChange, ErrorKind::Invalid);
        check(
            RegistryError::Forbidden {
                actor: "external:x".into(),
                action: "update",
            },
            ErrorKind::Forbidden,
        );
    }
}
