//! FHIR R4 appointment statuses.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The status of an appointment, as FHIR R4 `Appointment.status` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppointmentStatus {
    /// Some participants have not yet been asked.
    Proposed,
    /// Waiting for confirmation (also: displaced by a repair and awaiting staff).
    Pending,
    /// Confirmed; resources are reserved.
    Booked,
    /// The patient has arrived (checked in).
    Arrived,
    /// The encounter took place.
    Fulfilled,
    /// Cancelled before it started.
    Cancelled,
    /// The patient did not come.
    Noshow,
    /// Created in error.
    EnteredInError,
    /// Checked in but not yet seen (kept for interoperability; this crate uses `arrived`).
    CheckedIn,
    /// On the waitlist.
    Waitlist,
}

impl AppointmentStatus {
    /// Every status, in FHIR order.
    pub const ALL: [AppointmentStatus; 10] = [
        AppointmentStatus::Proposed,
        AppointmentStatus::Pending,
        AppointmentStatus::Booked,
        AppointmentStatus::Arrived,
        AppointmentStatus::Fulfilled,
        AppointmentStatus::Cancelled,
        AppointmentStatus::Noshow,
        AppointmentStatus::EnteredInError,
        AppointmentStatus::CheckedIn,
        AppointmentStatus::Waitlist,
    ];

    /// The FHIR code.
    pub fn code(&self) -> &'static str {
        match self {
            AppointmentStatus::Proposed => "proposed",
            AppointmentStatus::Pending => "pending",
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Arrived => "arrived",
            AppointmentStatus::Fulfilled => "fulfilled",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Noshow => "noshow",
            AppointmentStatus::EnteredInError => "entered-in-error",
            AppointmentStatus::CheckedIn => "checked-in",
            AppointmentStatus::Waitlist => "waitlist",
        }
    }

    /// Parses a FHIR code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether an appointment in this status keeps its provider, room, equipment and patient
    /// time reserved.
    pub fn holds_resources(&self) -> bool {
        matches!(
            self,
            AppointmentStatus::Booked
                | AppointmentStatus::Arrived
                | AppointmentStatus::CheckedIn
                | AppointmentStatus::Fulfilled
                | AppointmentStatus::Noshow
        )
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::from_code(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        assert_eq!(AppointmentStatus::from_code("booked "), None);
    }
}
