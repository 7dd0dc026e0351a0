//! The error type of `bedside-core`.

use thiserror::Error;

/// Errors raised when parsing or constructing core values.
///
/// Messages never contain protected health information: a rejected partial birth date reports
/// its shape, not its digits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// Occurs when a string is not a valid id of the named kind.
    #[error("invalid {kind} id: expected a hyphenated UUID")]
    InvalidId {
        /// The id kind, for example `PatientId`.
        kind: &'static str,
    },
    /// Occurs when a period's end comes before its start.
    #[error("invalid period: end is before start")]
    PeriodEndBeforeStart,
    /// Occurs when a partial date is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or names a day that
    /// does not exist.
    #[error("invalid partial date: expected `YYYY`, `YYYY-MM` or `YYYY-MM-DD` naming a real date")]
    InvalidPartialDate,
    /// Occurs when a language tag is not a well-formed BCP-47 tag.
    #[error("invalid language tag `{tag}`: expected BCP-47 such as `en`, `pt-BR` or `zh-Hant-TW`")]
    InvalidLanguage {
        /// The rejected tag (language tags are not PHI).
        tag: String,
    },
    /// Occurs when a role code is empty or contains characters other than lowercase ASCII
    /// letters, digits, `-` and `_`.
    #[error("invalid role `{role}`: use lowercase letters, digits, `-` and `_`")]
    InvalidRole {
        /// The rejected role code.
        role: String,
    },
    /// Occurs when a channel name is not one of the known outreach channels.
    #[error("unknown channel `{name}`: expected sms, email, voice, portal or postal")]
    UnknownChannel {
        /// The rejected name.
        name: String,
    },
    /// Occurs when a local time cannot be represented in a zone (out of range).
    #[error("local time not representable in zone `{zone}`")]
    UnrepresentableLocalTime {
        /// The IANA zone name.
        zone: String,
    },
}

/// What kind of failure an error is, shared by every Bedside crate so that a service maps any
/// domain error to a response (an HTTP status, a retry, a queue for staff) without matching on
/// message text.
///
/// ```
/// use bedside_core::{CoreError, DomainError, ErrorKind};
///
/// let e = "1999-13".parse::<bedside_core::PartialDate>().unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Invalid);
/// assert_eq!(ErrorKind::NotFound.http_status(), 404);
/// # let _ = CoreError::PeriodEndBeforeStart;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule of the domain (a bad code, an end before its
    /// start, an unbalanced remittance). Retrying the same input fails again.
    Invalid,
    /// Something the request names does not exist (an unknown patient, slot or claim).
    NotFound,
    /// The request is well formed but collides with the current state (a slot already taken, a
    /// stale version, a payment already posted under another amount). Retrying after reading
    /// the new state may succeed.
    Conflict,
    /// The actor is not allowed to do this (a consent denial, a missing role).
    Forbidden,
    /// A configured limit was reached (too many entries, an attempt budget spent).
    LimitExceeded,
    /// Stored or derived data is inconsistent: a bug or corruption, not the caller's fault.
    Internal,
}

impl ErrorKind {
    /// The HTTP status a service would answer with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 422,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Forbidden => 403,
            ErrorKind::LimitExceeded => 429,
            ErrorKind::Internal => 500,
        }
    }

    /// A stable lowercase name (`invalid`, `not-found`, …) for logs and wire formats.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::LimitExceeded => "limit-exceeded",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of a Bedside domain crate: every crate's error type implements it, so callers can
/// classify any of them with [`DomainError::kind`].
pub trait DomainError: std::error::Error {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
}

impl DomainError for CoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            CoreError::InvalidId { .. }
            | CoreError::PeriodEndBeforeStart
            | CoreError::InvalidPartialDate
            | CoreError::InvalidLanguage { .. }
            | CoreError::InvalidRole { .. }
            | CoreError::UnknownChannel { .. }
            | CoreError::UnrepresentableLocalTime { .. } => ErrorKind::Invalid,
        }
    }
}

/// How serious a finding of a validator or reader is — a record that fails validation, a
/// segment an X12 reader could not use. Ordered: [`Warning`](IssueSeverity::Warning) <
/// [`Error`](IssueSeverity::Error). (Clinical severities are other types: a vitals alert's
/// urgency, a questionnaire score's band.)
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IssueSeverity {
    /// Worth knowing; the input was still accepted or read.
    Warning,
    /// The record was refused or left out.
    Error,
}
