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
