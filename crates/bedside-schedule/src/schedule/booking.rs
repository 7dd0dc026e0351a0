//! Holds (`$hold`), idempotent booking (`$book`), cancellation and rescheduling, each taking
//! one request value.

use super::transitions::Action;
use super::*;

/// A booking: `option` for `patient` as appointment `id`, idempotent by `client_token`.
///
/// Used by [`Schedule::book`] and [`Schedule::book_overbooked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookRequest<'a> {
    /// The option to book (from [`Schedule::find_slots`]).
    pub option: &'a SlotOption,
    /// The patient.
    pub patient: PatientId,
    /// The caller's idempotency token: a retry with the same token returns the same
    /// appointment.
    pub client_token: &'a str,
    /// The new appointment's id.
    pub id: AppointmentId,
    /// Probability the patient does not come, in permille (0 by default; clamped to 1000).
    /// Overbooking uses it to bound expected overtime.
    pub no_show_probability_permille: u16,
}

impl<'a> BookRequest<'a> {
    /// Books `option` for `patient` as `id`, idempotent by `client_token`, with a no-show
    /// probability of 0.
    pub fn new(
        option: &'a SlotOption,
        patient: PatientId,
        client_token: &'a str,
        id: AppointmentId,
    ) -> Self {
        Self {
            option,
            patient,
            client_token,
            id,
            no_show_probability_permille: 0,
        }
    }

    /// Sets the no-show probability, in permille.
    #[must_use]
    pub fn with_no_show_probability_permille(mut self, permille: u16) -> Self {
        self.no_show_probability_permille = permille;
        self
    }
}

/// A hold (FHIR `$hold`): `option` reserved for `patient` until `expires_at`, as hold `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldRequest<'a> {
    /// The option to hold.
    pub option: &'a SlotOption,
    /// The patient it is held for.
    pub patient: PatientId,
    /// When the hold lapses.
    pub expires_at: Timestamp,
    /// The hold's id.
    pub id: HoldId,
}

impl<'a> HoldRequest<'a> {
    /// Holds `option` for `patient` until `expires_at` as `id`.
    pub fn new(
        option: &'a SlotOption,
        patient: PatientId,
        expires_at: Timestamp,
        id: HoldId,
    ) -> Self {
        Self {
            option,
            patient,
            expires_at,
            id,
        }
    }
}

/// Booking a hold (FHIR `$book`): hold `hold` becomes appointment `id`, idempotent by
/// `client_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookHoldRequest<'a> {
    /// The hold.
    pub hold: HoldId,
    /// The caller's idempotency token.
    pub client_token: &'a str,
    /// The new appointment's id.
    pub id: AppointmentId,
}

impl<'a> BookHoldRequest<'a> {
    /// Books `hold` as `id`, idempotent by `client_token`.
    pub fn new(hold: HoldId, client_token: &'a str, id: AppointmentId) -> Self {
        Self {
            hold,
            client_token,
            id,
        }
    }
}

/// A cancellation of appointment `id` for `reason`, optionally guarded by the version the
/// caller saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// The appointment.
    pub id: AppointmentId,
    /// Why.
    pub reason: CancelReason,
    /// The version the caller saw; `None` skips the check.
    pub expected_version: Option<u32>,
}

impl CancelRequest {
    /// Cancels `id` for `reason`, whatever its version.
    pub fn new(id: AppointmentId, reason: CancelReason) -> Self {
        Self {
            id,
            reason,
            expected_version: None,
        }
    }

    /// Refuses the cancellation if the appointment is no longer at `version`.
    #[must_use]
    pub fn expecting_version(mut self, version: u32) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// A move of appointment `id` to `option`, optionally guarded by the version the caller saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RescheduleRequest<'a> {
    /// The appointment.
    pub id: AppointmentId,
    /// Where it moves.
    pub option: &'a SlotOption,
    /// The version the caller saw; `None` skips the check.
    pub expected_version: Option<u32>,
}

impl<'a> RescheduleRequest<'a> {
    /// Moves `id` to `option`, whatever its version.
    pub fn new(id: AppointmentId, option: &'a SlotOption) -> Self {
        Self {
            id,
            option,
            expected_version: None,
        }
    }

    /// Refuses the move if the appointment is no longer at `version`.
    #[must_use]
    pub fn expecting_version(mut self, version: u32) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// Whether a new appointment occupies its resources or sits on top of another booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    Regular,
    Overbooked,
}

impl Schedule {
    /// Releases every hold that expired at or before `at`.
    pub fn expire_holds(&mut self, at: Timestamp) {
        let expired: Vec<HoldId> = self
            .holds
            .iter()
            .filter(|(_, h)| h.expires_at <= at)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(h) = self.holds.remove(&id)
                && let Ok(r) = self.block_ranges(&h.option)
            {
                self.occupy(&h.option, h.patient, r, false);
            }
        }
    }

    /// Hold `id` as plain data, while it occupies its option (live, or lapsed but not yet
    /// released by a command that expires holds).
    pub fn hold_of(&self, id: HoldId) -> Option<HoldSnapshot> {
        self.holds.get(&id).map(|h| HoldSnapshot {
            id,
            option: h.option.clone(),
            patient: h.patient,
            expires_at: h.expires_at,
        })
    }

    /// Whether a hold that lapsed by `at` still occupies its option: a read-only search at
    /// `at` then sees it busy until [`Schedule::expire_holds`] (which every booking and hold
    /// calls first) releases it.
    pub fn has_lapsed_holds(&self, at: Timestamp) -> bool {
        self.holds.values().any(|h| h.expires_at <= at)
    }

    /// Holds an option for a patient until the request's `expires_at` (FHIR `$hold`): nobody
    /// else can take it meanwhile. Holds that expired by `at` are released first.
    ///
    /// # Errors
    /// [`ScheduleError::Conflict`] or [`ScheduleError::RuleViolation`] if the option is not
    /// bookable.
    pub fn hold(
        &mut self,
        request: &HoldRequest<'_>,
        at: Timestamp,
    ) -> Result<HoldId, ScheduleError> {
        self.expire_holds(at);
        let ranges = self.check_option(request.option, request.patient, None)?;
        self.occupy(request.option, request.patient, ranges, true);
        self.holds.insert(
            request.id,
            Hold {
                option: request.option.clone(),
                patient: request.patient,
                expires_at: request.expires_at,
            },
        );
        Ok(request.id)
    }

    /// Books a held option (FHIR `$book`), idempotently: the same `client_token` always yields
    /// the same appointment, and a second call changes nothing.
    ///
    /// # Errors
    /// [`ScheduleError::HoldExpired`], [`ScheduleError::NotFound`] for an unknown hold, or
    /// [`ScheduleError::TokenReused`].
    pub fn book_hold(
        &mut self,
        request: &BookHoldRequest<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        if let Some(&existing) = self.tokens.get(request.client_token) {
            return Ok(existing);
        }
        let h = match self.holds.get(&request.hold) {
            Some(h) if h.expires_at <= at => {
                self.expire_holds(at);
                return Err(ScheduleError::HoldExpired);
            }
            Some(h) => h.clone(),
            None => return Err(ScheduleError::NotFound { kind: "hold" }),
        };
        self.expire_holds(at);
        // The hold already occupies the resources; turn it into an appointment.
        self.holds.remove(&request.hold);
        let booking = BookRequest::new(&h.option, h.patient, request.client_token, request.id);
        self.insert_appointment(&booking, Placement::Regular, actor, at);
        Ok(request.id)
    }

    /// Stores a new booked appointment (its resources are already marked) and its token.
    pub(super) fn insert_appointment(
        &mut self,
        request: &BookRequest<'_>,
        placement: Placement,
        actor: &Actor,
        at: Timestamp,
    ) {
        let option = request.option;
        self.appointments.insert(
            request.id,
            Appointment {
                id: request.id,
                patient: request.patient,
                appointment_type: option.appointment_type.clone(),
                provider: option.provider,
                room: option.room,
                equipment: option.equipment,
                period: option.period,
                status: AppointmentStatus::Booked,
                overbooked: placement == Placement::Overbooked,
                no_show_probability_permille: request.no_show_probability_permille.min(1000),
                version: 1,
                history: vec![HistoryEntry {
                    version: 1,
                    at,
                    actor: actor.clone(),
                    change: Change::Booked,
                }],
            },
        );
        self.tokens
            .insert(request.client_token.to_string(), request.id);
    }

    /// The appointment a `client_token` booked, if any (so a caller can recognise a retried
    /// request before re-checking the option).
    pub fn appointment_for_token(&self, client_token: &str) -> Option<AppointmentId> {
        self.tokens.get(client_token).copied()
    }

    /// Books an option directly (staff booking, or self-booking without a hold), idempotent
    /// by the request's `client_token`.
    ///
    /// # Errors
    /// [`ScheduleError::Conflict`] if anything is taken, [`ScheduleError::RuleViolation`] if
    /// the option breaks the type's rules, [`ScheduleError::TokenReused`] if the token booked
    /// a different option.
    pub fn book(
        &mut self,
        request: &BookRequest<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        let (option, patient) = (request.option, request.patient);
        if let Some(&existing) = self.tokens.get(request.client_token) {
            let same = self.appointments.get(&existing).is_some_and(|a| {
                a.patient == patient && a.period == option.period && a.provider == option.provider
            });
            return if same {
                Ok(existing)
            } else {
                Err(ScheduleError::TokenReused)
            };
        }
        self.expire_holds(at);
        let ranges = self.check_option(option, patient, None)?;
        self.occupy(option, patient, ranges, true);
        self.insert_appointment(request, Placement::Regular, actor, at);
        Ok(request.id)
    }

    /// Frees the resources of appointment `id` if its status holds them.
    pub(super) fn release(&mut self, id: AppointmentId) {
        let Some(ap) = self.appointments.get(&id).cloned() else {
            return;
        };
        if !ap.status.holds_resources() {
            return;
        }
        if ap.overbooked {
            if let (Some(p), Ok((_, _, va, vb))) = (
                self.providers.iter().position(|x| x.id == ap.provider),
                self.block_of(&ap),
            ) {
                Track::set(&mut self.overbook_busy[p], va, vb, false);
            }
            if let Ok((_, _, va, _)) = self.block_of(&ap)
                && let Some(busy) = self.patient_busy.get_mut(&ap.patient)
            {
                busy.remove(&va);
            }
            return;
        }
        if let Ok(r) = self.block_of(&ap) {
            self.occupy(&Self::option_of(&ap), ap.patient, r, false);
        }
    }

    /// Cancels an appointment and frees its resources; returns the freed option (to offer to
    /// the waitlist).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidTransition`] unless proposed, pending or booked;
    /// [`ScheduleError::VersionConflict`] if `expected_version` is stale.
    pub fn cancel(
        &mut self,
        request: &CancelRequest,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<SlotOption, ScheduleError> {
        let id = request.id;
        self.change(id, request.expected_version, Action::Cancel)?;
        self.release(id);
        let ap = self.change(id, None, Action::Cancel)?;
        ap.status = AppointmentStatus::Cancelled;
        Self::record(
            ap,
            actor,
            at,
            Change::Cancelled {
                reason: request.reason,
            },
        );
        Ok(Self::option_of(ap))
    }

    /// Moves a booked appointment to the request's option, all or nothing (the old time stays
    /// if the new one is not free).
    ///
    /// # Errors
    /// As [`Schedule::book`], plus [`ScheduleError::InvalidTransition`] unless booked or
    /// pending.
    pub fn reschedule(
        &mut self,
        request: &RescheduleRequest<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        self.move_to(request, MoveKind::Rescheduled, actor, at)
    }

    /// Moves an appointment, recording the move as `kind`.
    pub(super) fn move_to(
        &mut self,
        request: &RescheduleRequest<'_>,
        kind: MoveKind,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ScheduleError> {
        let (id, option) = (request.id, request.option);
        let patient = self
            .change(id, request.expected_version, Action::Reschedule)?
            .patient;
        self.expire_holds(at);
        let held = self
            .appointments
            .get(&id)
            .is_some_and(|a| a.status.holds_resources());
        let ranges = self.check_option(option, patient, if held { Some(id) } else { None })?;
        if held {
            self.release(id);
        }
        self.occupy(option, patient, ranges, true);
        let ap = self
            .appointments
            .get_mut(&id)
            .ok_or(ScheduleError::NotFound {
                kind: "appointment",
            })?;
        let from = ap.period;
        ap.provider = option.provider;
        ap.room = option.room;
        ap.equipment = option.equipment;
        ap.period = option.period;
        ap.overbooked = false;
        ap.status = AppointmentStatus::Booked;
        let change = match kind {
            MoveKind::Rescheduled => Change::Rescheduled { from },
            MoveKind::Repaired => Change::Repaired { from },
        };
        Self::record(ap, actor, at, change);
        Ok(())
    }
}

/// How a move is recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MoveKind {
    Rescheduled,
    Repaired,
}
