//! Status changes of an appointment: one table says which statuses each action starts from
//! and where the simple ones (check-in, fulfil, no-show) lead; every change is versioned and
//! attributed.

use super::*;

/// What is done to an existing appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Cancel,
    Reschedule,
    CheckIn,
    Fulfil,
    NoShow,
}

/// One row of the transition table.
struct Rule {
    /// The verb used in [`ScheduleError::InvalidTransition`].
    verb: &'static str,
    /// Statuses the action applies to.
    from: &'static [AppointmentStatus],
    /// Status afterwards, for the actions that only change the status.
    to: Option<(AppointmentStatus, Change)>,
}

impl Action {
    /// The transition table.
    fn rule(self) -> Rule {
        use AppointmentStatus as S;
        match self {
            Action::Cancel => Rule {
                verb: "cancel",
                from: &[S::Proposed, S::Pending, S::Booked],
                to: None,
            },
            Action::Reschedule => Rule {
                verb: "reschedule",
                from: &[S::Booked, S::Pending],
                to: None,
            },
            Action::CheckIn => Rule {
                verb: "check in",
                from: &[S::Booked],
                to: Some((S::Arrived, Change::CheckedIn)),
            },
            Action::Fulfil => Rule {
                verb: "fulfil",
                from: &[S::Arrived],
                to: Some((S::Fulfilled, Change::Fulfilled)),
            },
            Action::NoShow => Rule {
                verb: "mark as no-show",
                from: &[S::Booked],
                to: Some((S::Noshow, Change::NoShow)),
            },
        }
    }
}

impl Schedule {
    /// The appointment `id`, if `action` applies to its status and its version is
    /// `expected_version` (when given).
    pub(super) fn change(
        &mut self,
        id: AppointmentId,
        expected_version: Option<u32>,
        action: Action,
    ) -> Result<&mut Appointment, ScheduleError> {
        let ap = self
            .appointments
            .get_mut(&id)
            .ok_or(ScheduleError::NotFound {
                kind: "appointment",
            })?;
        if let Some(v) = expected_version
            && v != ap.version
        {
            return Err(ScheduleError::VersionConflict {
                expected: v,
                found: ap.version,
            });
        }
        let rule = action.rule();
        if !rule.from.contains(&ap.status) {
            return Err(ScheduleError::InvalidTransition {
                action: rule.verb,
                status: ap.status,
            });
        }
        Ok(ap)
    }

    /// Appends `change` to the history as the next version.
    pub(super) fn record(ap: &mut Appointment, actor: &Actor, at: Timestamp, change: Change) {
        ap.version += 1;
        ap.history.push(HistoryEntry {
            version: ap.version,
            at,
            actor: actor.clone(),
            change,
        });
    }

    /// Applies a status-only action from the table.
    fn transition(
        &mut self,
        id: AppointmentId,
        action: Action,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        let ap = self.change(id, None, action)?;
        if action == Action::NoShow && at < ap.period.start() {
            return Err(ScheduleError::RuleViolation {
                reason: "the appointment has not started",
            });
        }
        if let Some((status, change)) = action.rule().to {
            ap.status = status;
            Self::record(ap, actor, at, change);
        }
        Ok(())
    }

    /// Marks a booked appointment as arrived (checked in).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless booked.
    pub fn check_in(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        self.transition(id, Action::CheckIn, actor, at)
    }

    /// Marks an arrived appointment as fulfilled.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless arrived.
    pub fn fulfil(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        self.transition(id, Action::Fulfil, actor, at)
    }

    /// Marks a booked appointment whose start has passed by `at` as a no-show; its resources
    /// stay recorded as used.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless booked, or
    /// [`ScheduleError::RuleViolation`] before the start.
    pub fn mark_no_show(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        self.transition(id, Action::NoShow, actor, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action's table row names at least one start status, and the status-only
    /// actions never start from their own target (a repeated call is refused, not a no-op).
    #[test]
    fn table_is_consistent() {
        for action in [
            Action::Cancel,
            Action::Reschedule,
            Action::CheckIn,
            Action::Fulfil,
            Action::NoShow,
        ] {
            let rule = action.rule();
            assert!(!rule.from.is_empty());
            if let Some((to, _)) = rule.to {
                assert!(!rule.from.contains(&to), "{action:?}");
            }
        }
    }
}
