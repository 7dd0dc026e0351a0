//! Errors of calendars, slot search and booking.

use bedside_core::{DomainError, ErrorKind};

use crate::AppointmentStatus;

/// Most registered codes an [`ScheduleError::UnknownAppointmentType`] lists.
pub const MAX_LISTED_CODES: usize = 50;

/// Errors of calendars, slot search, holds and booking operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// Occurs when a calendar entry is inconsistent (a block ending before it starts, an empty
    /// effective range, too many entries).
    #[error("invalid calendar: {reason}")]
    InvalidCalendar {
        /// What is wrong.
        reason: &'static str,
    },
    /// Occurs when the schedule configuration or a resource definition is unusable.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// Occurs when an appointment type code is not registered.
    #[error("unknown appointment type `{code}`; registered codes: {}", valid.join(", "))]
    UnknownAppointmentType {
        /// The code asked for (at most 64 characters).
        code: String,
        /// The registered codes (at most [`MAX_LISTED_CODES`]), in order.
        valid: Vec<String>,
    },
    /// Occurs when a provider, room, equipment pool, appointment, hold or waitlist entry is not
    /// known to the schedule.
    #[error("unknown {kind}")]
    NotFound {
        /// Which kind of thing.
        kind: &'static str,
    },
    /// Occurs when an option is no longer free: a resource or the patient is already booked
    /// or held, or the resource is unavailable.
    #[error("the option is no longer available: {reason}")]
    Conflict {
        /// Which resource conflicts.
        reason: &'static str,
    },
    /// Occurs when an option breaks the appointment type's rules (notice, horizon, skill,
    /// capability, grid alignment).
    #[error("the option breaks a booking rule: {reason}")]
    RuleViolation {
        /// Which rule.
        reason: &'static str,
    },
    /// Occurs when a hold has expired before it was booked.
    #[error("the hold has expired")]
    HoldExpired,
    /// Occurs when a client token already booked a different option.
    #[error("client token already used for a different booking")]
    TokenReused,
    /// Occurs when an operation does not apply to an appointment in its current status.
    #[error("cannot {action} an appointment that is {status}")]
    InvalidTransition {
        /// The operation attempted.
        action: &'static str,
        /// The appointment's status.
        status: AppointmentStatus,
    },
    /// Occurs when the caller's expected version differs from the stored one (a concurrent
    /// change happened first).
    #[error("version conflict: expected {expected}, found {found}")]
    VersionConflict {
        /// Version the caller saw.
        expected: u32,
        /// Version stored.
        found: u32,
    },
    /// Occurs when an overbooking request exceeds the policy's expected-overtime bound or is
    /// outside a designated overbooking session.
    #[error("overbooking not allowed: {reason}")]
    OverbookingRefused {
        /// Why.
        reason: &'static str,
    },
}

impl DomainError for ScheduleError {
    fn kind(&self) -> ErrorKind {
        match self {
            ScheduleError::InvalidCalendar { .. }
            | ScheduleError::InvalidConfig { .. }
            | ScheduleError::UnknownAppointmentType { .. }
            | ScheduleError::RuleViolation { .. } => ErrorKind::Invalid,
            ScheduleError::NotFound { .. } => ErrorKind::NotFound,
            ScheduleError::Conflict { .. }
            | ScheduleError::HoldExpired
            | ScheduleError::TokenReused
            | ScheduleError::InvalidTransition { .. }
            | ScheduleError::VersionConflict { .. }
            | ScheduleError::OverbookingRefused { .. } => ErrorKind::Conflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let check = |e: ScheduleError, kind: ErrorKind, message: &str| {
            assert_eq!(e.kind(), kind, "{e:?}");
            assert_eq!(e.to_string(), message);
        };
        check(
            ScheduleError::UnknownAppointmentType {
                code: "derm-nw".into(),
                valid: vec!["derm-new".into(), "gp-15".into()],
            },
            ErrorKind::Invalid,
            "unknown appointment type `derm-nw`; registered codes: derm-new, gp-15",
        );
        check(
            ScheduleError::NotFound { kind: "hold" },
            ErrorKind::NotFound,
            "unknown hold",
        );
        check(
            ScheduleError::VersionConflict {
                expected: 1,
                found: 2,
            },
            ErrorKind::Conflict,
            "version conflict: expected 1, found 2",
        );
        check(
            ScheduleError::RuleViolation {
                reason: "provider lacks the skill",
            },
            ErrorKind::Invalid,
            "the option breaks a booking rule: provider lacks the skill",
        );
    }
}
