//! Holds (`$hold`), idempotent booking (`$book`), cancellation and rescheduling.

use super::*;

impl Schedule {
    /// Checks that `option` can be booked for `patient` right now, ignoring `ignore`'s own
    /// occupancy. Returns the slot ranges: (block start, block end, visit start, visit end).
    pub(super) fn check_option(
        &self,
        option: &SlotOption,
        patient: PatientId,
        ignore: Option<AppointmentId>,
    ) -> Result<(usize, usize, usize, usize), ScheduleError> {
        let t = self.type_of(&option.appointment_type)?;
        let (bb, dur, ba) = self.type_slots(t);
        let g = i64::from(self.grid.granularity_minutes);
        let visit = self
            .slot_floor(option.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        if self.slot_instant(visit) != option.period.start()
            || option.period.duration() != TimeDelta::minutes(dur as i64 * g)
        {
            return Err(ScheduleError::RuleViolation {
                reason: "not aligned to the type's grid slots",
            });
        }
        if visit < bb || visit + dur + ba > self.slots {
            return Err(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            });
        }
        let (a, b) = (visit - bb, visit + dur + ba);
        let p = self.provider_index(option.provider)?;
        if !self.providers[p].skills.contains(&t.skill) {
            return Err(ScheduleError::RuleViolation {
                reason: "provider lacks the skill",
            });
        }
        // Temporarily consider the ignored appointment's own slots free.
        let own = ignore
            .and_then(|id| self.appointments.get(&id))
            .filter(|a| a.status.holds_resources() && !a.overbooked);
        let own_block = own.and_then(|ap| self.block_of(ap).ok());
        let free_except_own = |track: &Track, resource_matches: bool| {
            (a..b).all(|s| {
                let own_here = resource_matches
                    && own_block.is_some_and(|(oa, ob, _, _)| (oa..ob).contains(&s));
                own_here || track.free_word(s / 64) >> (s % 64) & 1 == 1
            })
        };
        let own_provider = own.is_some_and(|ap| ap.provider == option.provider);
        if !free_except_own(&self.provider_tracks[p], own_provider) {
            return Err(ScheduleError::Conflict {
                reason: "provider busy or unavailable",
            });
        }
        let needs_room = matches!((&t.room_capability, t.mode), (Some(_), VisitMode::InPerson));
        match (needs_room, option.room) {
            (true, Some(room)) => {
                let r = self
                    .rooms
                    .iter()
                    .position(|x| x.id == room)
                    .ok_or(ScheduleError::NotFound { kind: "room" })?;
                if let Some(cap) = &t.room_capability
                    && !self.rooms[r].capabilities.contains(cap)
                {
                    return Err(ScheduleError::RuleViolation {
                        reason: "room lacks the capability",
                    });
                }
                let own_room = own.is_some_and(|ap| ap.room == Some(room));
                if !free_except_own(&self.room_tracks[r], own_room) {
                    return Err(ScheduleError::Conflict {
                        reason: "room busy or closed",
                    });
                }
            }
            (true, None) => {
                return Err(ScheduleError::RuleViolation {
                    reason: "a room is required",
                });
            }
            (false, Some(_)) => {
                return Err(ScheduleError::RuleViolation {
                    reason: "no room is needed",
                });
            }
            (false, None) => {}
        }
        match (&t.equipment, option.equipment) {
            (Some((kind, units)), Some(eq)) => {
                let q =
                    self.pools
                        .iter()
                        .position(|x| x.id == eq)
                        .ok_or(ScheduleError::NotFound {
                            kind: "equipment pool",
                        })?;
                if &self.pools[q].kind != kind {
                    return Err(ScheduleError::RuleViolation {
                        reason: "wrong equipment kind",
                    });
                }
                let own_eq = own.filter(|ap| ap.equipment == Some(eq)).and(own_block);
                let ok = (visit..visit + dur).all(|s| {
                    let mine = own_eq.is_some_and(|(_, _, va, vb)| (va..vb).contains(&s));
                    let used = self.pool_use[q][s] - if mine { *units } else { 0 };
                    used + units <= self.pools[q].count
                });
                if !ok {
                    return Err(ScheduleError::Conflict {
                        reason: "equipment in use",
                    });
                }
            }
            (Some(_), None) => {
                return Err(ScheduleError::RuleViolation {
                    reason: "equipment is required",
                });
            }
            (None, Some(_)) => {
                return Err(ScheduleError::RuleViolation {
                    reason: "no equipment is needed",
                });
            }
            (None, None) => {}
        }
        let own_patient = own.filter(|ap| ap.patient == patient).and(own_block);
        if let Some(busy) = self.patient_busy.get(&patient) {
            let clash = busy
                .range(..visit + dur)
                .any(|(&s, &e)| e > visit && own_patient.is_none_or(|(_, _, va, _)| va != s));
            if clash {
                return Err(ScheduleError::Conflict {
                    reason: "patient already booked",
                });
            }
        }
        Ok((a, b, visit, visit + dur))
    }

    /// Releases every hold that expired at or before `now`.
    pub fn expire_holds(&mut self, now: Timestamp) {
        let expired: Vec<HoldId> = self
            .holds
            .iter()
            .filter(|(_, h)| h.expires_at <= now)
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

    /// Holds `option` for `patient` until `expires_at` (FHIR `$hold`): nobody else can take it
    /// meanwhile.
    ///
    /// # Errors
    /// [`ScheduleError::Conflict`] or [`ScheduleError::RuleViolation`] if the option is not
    /// bookable.
    pub fn hold(
        &mut self,
        option: &SlotOption,
        patient: PatientId,
        now: Timestamp,
        expires_at: Timestamp,
        id: HoldId,
    ) -> Result<HoldId, ScheduleError> {
        self.expire_holds(now);
        let ranges = self.check_option(option, patient, None)?;
        self.occupy(option, patient, ranges, true);
        self.holds.insert(
            id,
            Hold {
                option: option.clone(),
                patient,
                expires_at,
            },
        );
        Ok(id)
    }

    /// Books a held option (FHIR `$book`), idempotently: the same `client_token` always yields
    /// the same appointment, and a second call changes nothing.
    ///
    /// # Errors
    /// [`ScheduleError::HoldExpired`], [`ScheduleError::NotFound`] for an unknown hold, or
    /// [`ScheduleError::TokenReused`].
    pub fn book_hold(
        &mut self,
        hold: HoldId,
        client_token: &str,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        if let Some(&existing) = self.tokens.get(client_token) {
            return Ok(existing);
        }
        let h = match self.holds.get(&hold) {
            Some(h) if h.expires_at <= now => {
                self.expire_holds(now);
                return Err(ScheduleError::HoldExpired);
            }
            Some(h) => h.clone(),
            None => return Err(ScheduleError::NotFound { kind: "hold" }),
        };
        self.expire_holds(now);
        // The hold already occupies the resources; turn it into an appointment.
        self.holds.remove(&hold);
        self.insert_appointment(id, &h.option, h.patient, actor, now, false, 0);
        self.tokens.insert(client_token.to_string(), id);
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_appointment(
        &mut self,
        id: AppointmentId,
        option: &SlotOption,
        patient: PatientId,
        actor: &Actor,
        now: Timestamp,
        overbooked: bool,
        no_show_permille: u16,
    ) {
        self.appointments.insert(
            id,
            Appointment {
                id,
                patient,
                appointment_type: option.appointment_type.clone(),
                provider: option.provider,
                room: option.room,
                equipment: option.equipment,
                period: option.period,
                status: AppointmentStatus::Booked,
                overbooked,
                no_show_probability_permille: no_show_permille,
                version: 1,
                history: vec![HistoryEntry {
                    version: 1,
                    at: now,
                    actor: actor.clone(),
                    change: Change::Booked,
                }],
            },
        );
    }

    /// The appointment a `client_token` booked, if any (so a caller can recognise a retried
    /// request before re-checking the option).
    pub fn appointment_for_token(&self, client_token: &str) -> Option<AppointmentId> {
        self.tokens.get(client_token).copied()
    }

    /// Books `option` directly (staff booking, or self-booking without a hold), idempotent by
    /// `client_token`.
    ///
    /// # Errors
    /// [`ScheduleError::Conflict`] if anything is taken, [`ScheduleError::RuleViolation`] if
    /// the option breaks the type's rules, [`ScheduleError::TokenReused`] if the token booked
    /// a different option.
    pub fn book(
        &mut self,
        option: &SlotOption,
        patient: PatientId,
        client_token: &str,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        if let Some(&existing) = self.tokens.get(client_token) {
            let same = self.appointments.get(&existing).is_some_and(|a| {
                a.patient == patient
                    && Self::option_of(a).period == option.period
                    && a.provider == option.provider
            });
            return if same {
                Ok(existing)
            } else {
                Err(ScheduleError::TokenReused)
            };
        }
        self.expire_holds(now);
        let ranges = self.check_option(option, patient, None)?;
        self.occupy(option, patient, ranges, true);
        self.insert_appointment(id, option, patient, actor, now, false, 0);
        self.tokens.insert(client_token.to_string(), id);
        Ok(id)
    }

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
        id: AppointmentId,
        reason: CancelReason,
        expected_version: Option<u32>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<SlotOption, ScheduleError> {
        use AppointmentStatus as S;
        self.change(
            id,
            expected_version,
            "cancel",
            &[S::Proposed, S::Pending, S::Booked],
        )?;
        self.release(id);
        let ap = self
            .appointments
            .get_mut(&id)
            .ok_or(ScheduleError::NotFound {
                kind: "appointment",
            })?;
        ap.status = S::Cancelled;
        Self::record(ap, actor, now, Change::Cancelled { reason });
        Ok(Self::option_of(ap))
    }

    /// Moves a booked appointment to `option`, all or nothing (the old time stays if the new
    /// one is not free).
    ///
    /// # Errors
    /// As [`Schedule::book`], plus [`ScheduleError::InvalidTransition`] unless booked or
    /// pending.
    pub fn reschedule(
        &mut self,
        id: AppointmentId,
        option: &SlotOption,
        expected_version: Option<u32>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(), ScheduleError> {
        self.move_to(id, option, expected_version, actor, now, false)
    }

    pub(super) fn move_to(
        &mut self,
        id: AppointmentId,
        option: &SlotOption,
        expected_version: Option<u32>,
        actor: &Actor,
        now: Timestamp,
        repair: bool,
    ) -> Result<(), ScheduleError> {
        use AppointmentStatus as S;
        let patient = self
            .change(id, expected_version, "reschedule", &[S::Booked, S::Pending])?
            .patient;
        self.expire_holds(now);
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
        ap.status = S::Booked;
        let change = if repair {
            Change::Repaired { from }
        } else {
            Change::Rescheduled { from }
        };
        Self::record(ap, actor, now, change);
        Ok(())
    }
}
