//! Status changes of a booked appointment: versioned, attributed, checked against a table.

use super::*;

impl Schedule {
    pub(super) fn change(
        &mut self,
        id: AppointmentId,
        expected_version: Option<u32>,
        action: &'static str,
        allowed: &[AppointmentStatus],
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
        if !allowed.contains(&ap.status) {
            return Err(ScheduleError::InvalidTransition {
                action,
                status: ap.status,
            });
        }
        Ok(ap)
    }

    pub(super) fn record(ap: &mut Appointment, actor: &Actor, now: Timestamp, change: Change) {
        ap.version += 1;
        ap.history.push(HistoryEntry {
            version: ap.version,
            at: now,
            actor: actor.clone(),
            change,
        });
    }

    /// Marks a booked appointment as arrived (checked in).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless booked.
    pub fn check_in(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(), ScheduleError> {
        let ap = self.change(id, None, "check in", &[AppointmentStatus::Booked])?;
        ap.status = AppointmentStatus::Arrived;
        Self::record(ap, actor, now, Change::CheckedIn);
        Ok(())
    }

    /// Marks an arrived appointment as fulfilled.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless arrived.
    pub fn fulfil(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(), ScheduleError> {
        let ap = self.change(id, None, "fulfil", &[AppointmentStatus::Arrived])?;
        ap.status = AppointmentStatus::Fulfilled;
        Self::record(ap, actor, now, Change::Fulfilled);
        Ok(())
    }

    /// Marks a booked appointment whose start has passed as a no-show; its resources stay
    /// recorded as used.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless booked, or
    /// [`ScheduleError::RuleViolation`] before the start.
    pub fn mark_no_show(
        &mut self,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(), ScheduleError> {
        let ap = self.change(id, None, "mark as no-show", &[AppointmentStatus::Booked])?;
        if now < ap.period.start() {
            return Err(ScheduleError::RuleViolation {
                reason: "the appointment has not started",
            });
        }
        ap.status = AppointmentStatus::Noshow;
        Self::record(ap, actor, now, Change::NoShow);
        Ok(())
    }
}
