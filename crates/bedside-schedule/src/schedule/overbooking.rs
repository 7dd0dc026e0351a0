//! Designated overbooking sessions, bounded by expected overtime.

use super::booking::Placement;
use super::*;

impl Schedule {
    /// Sets the overbooking policy.
    pub fn set_overbook_policy(&mut self, policy: OverbookPolicy) {
        self.overbook = policy;
    }

    /// Books the request's option on top of an existing booking inside a designated overbooking session,
    /// if the session's expected overtime (expected work minus session length, using each
    /// appointment's show probability) stays within the policy bound. At most one extra
    /// booking per slot.
    ///
    /// # Errors
    /// [`ScheduleError::OverbookingRefused`] outside a session, above the bound, or when the
    /// slot is already overbooked; [`ScheduleError::Conflict`] for a patient clash.
    /// The request's [`no_show_probability_permille`](BookRequest::no_show_probability_permille)
    /// is the new appointment's expected absence.
    pub fn book_overbooked(
        &mut self,
        request: &BookRequest<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        let (option, patient) = (request.option, request.patient);
        let no_show_permille = request.no_show_probability_permille;
        if let Some(&existing) = self.tokens.get(request.client_token) {
            return Ok(existing);
        }
        let session = self
            .overbook
            .sessions
            .iter()
            .find(|(p, s)| *p == option.provider && s.contains_period(&option.period))
            .map(|(_, s)| *s)
            .ok_or(ScheduleError::OverbookingRefused {
                reason: "not in a designated session",
            })?;
        let p = self.provider_index(option.provider)?;
        let t = self.type_of(&option.appointment_type)?;
        let (_, dur, _) = self.type_slots(t);
        let start = self
            .slot_floor(option.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        if (start..start + dur).any(|s| self.overbook_busy[p][s / 64] >> (s % 64) & 1 == 1) {
            return Err(ScheduleError::OverbookingRefused {
                reason: "slot already overbooked",
            });
        }
        if !self.providers[p].skills.contains(&t.skill) {
            return Err(ScheduleError::RuleViolation {
                reason: "provider lacks the skill",
            });
        }
        if !self.patient_free(Some(patient), start, start + dur) {
            return Err(ScheduleError::Conflict {
                reason: "patient already booked",
            });
        }
        let expected_permille: i64 = self
            .appointments
            .values()
            .filter(|a| {
                a.provider == option.provider
                    && a.status == AppointmentStatus::Booked
                    && session.contains_period(&a.period)
            })
            .map(|a| {
                a.period.duration().num_minutes()
                    * (1000 - i64::from(a.no_show_probability_permille))
            })
            .sum::<i64>()
            + option.period.duration().num_minutes()
                * (1000 - i64::from(no_show_permille.min(1000)));
        let overtime_permille = expected_permille - session.duration().num_minutes() * 1000;
        if overtime_permille > self.overbook.max_expected_overtime_minutes * 1000 {
            return Err(ScheduleError::OverbookingRefused {
                reason: "expected overtime above the bound",
            });
        }
        Track::set(&mut self.overbook_busy[p], start, start + dur, true);
        self.patient_busy
            .entry(patient)
            .or_default()
            .insert(start, start + dur);
        self.insert_appointment(request, Placement::Overbooked, actor, at);
        Ok(request.id)
    }
}
