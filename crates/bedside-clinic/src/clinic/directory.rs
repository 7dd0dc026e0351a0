//! What the clinic offers, for anyone to read (no patient data): its time zone and the
//! visit types patients may book themselves.

use super::*;

/// A visit type as the booking pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitTypeListing {
    /// The code (`gp-visit`).
    pub code: String,
    /// Length of the encounter.
    pub duration_minutes: u32,
    /// The skill a provider must hold for it.
    pub skill: String,
}

impl Clinic {
    /// The clinic's time zone (UTC before set-up).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.read().state.zone()
    }

    /// The visit types, in set-up order (empty before set-up).
    pub fn visit_types(&self) -> Vec<VisitTypeListing> {
        let inner = self.read();
        inner
            .state
            .setup
            .as_ref()
            .map(|s| {
                s.appointment_types
                    .iter()
                    .map(|t| VisitTypeListing {
                        code: t.code.clone(),
                        duration_minutes: t.duration_minutes,
                        skill: t.skill.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
