//! Whether an option can be booked: grid alignment, skill, and every resource free.

use super::*;

impl Schedule {
    /// Checks that `option` can be booked for `patient` right now, ignoring `ignore`'s own
    /// occupancy. Returns the slot ranges: (block start, block end, start start, start end).
    pub(super) fn check_option(
        &self,
        option: &SlotOption,
        patient: PatientId,
        ignore: Option<AppointmentId>,
    ) -> Result<grid::SlotRanges, ScheduleError> {
        let t = self.type_of(&option.appointment_type)?;
        let (bb, dur, ba) = self.type_slots(t);
        let g = i64::from(self.grid.granularity_minutes);
        let start = self
            .slot_floor(option.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        if self.slot_instant(start) != option.period.start()
            || option.period.duration() != TimeDelta::minutes(dur as i64 * g)
        {
            return Err(ScheduleError::RuleViolation {
                reason: "not aligned to the type's grid slots",
            });
        }
        if start < bb || start + dur + ba > self.slots {
            return Err(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            });
        }
        let (a, b) = (start - bb, start + dur + ba);
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
        let own = Own {
            block: own.and_then(|ap| self.block_of(ap).ok()),
            ap: own,
        };
        let ranges = (a, b, start, start + dur);
        let own_provider = own.ap.is_some_and(|ap| ap.provider == option.provider);
        if !own.free(&self.provider_tracks[p], own_provider, (a, b)) {
            return Err(ScheduleError::Conflict {
                reason: "provider busy or unavailable",
            });
        }
        self.check_room(t, option, &own, (a, b))?;
        self.check_equipment(t, option, &own, (start, start + dur))?;
        self.check_patient(patient, &own, (start, start + dur))?;
        Ok(ranges)
    }

    /// A room exactly when the type needs one, with the capability, free over the block.
    fn check_room(
        &self,
        t: &AppointmentType,
        option: &SlotOption,
        own: &Own<'_>,
        block: (usize, usize),
    ) -> Result<(), ScheduleError> {
        let needs_room = matches!(
            (&t.room_capability, t.mode),
            (Some(_), EncounterMode::InPerson)
        );
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
                let own_room = own.ap.is_some_and(|ap| ap.room == Some(room));
                if !own.free(&self.room_tracks[r], own_room, block) {
                    return Err(ScheduleError::Conflict {
                        reason: "room busy or closed",
                    });
                }
                Ok(())
            }
            (true, None) => Err(ScheduleError::RuleViolation {
                reason: "a room is required",
            }),
            (false, Some(_)) => Err(ScheduleError::RuleViolation {
                reason: "no room is needed",
            }),
            (false, None) => Ok(()),
        }
    }

    /// A pool exactly when the type needs equipment, of its kind, with the units free over
    /// the encounter.
    fn check_equipment(
        &self,
        t: &AppointmentType,
        option: &SlotOption,
        own: &Own<'_>,
        (start, end): (usize, usize),
    ) -> Result<(), ScheduleError> {
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
                let own_eq = own.ap.filter(|ap| ap.equipment == Some(eq)).and(own.block);
                let ok = (start..end).all(|s| {
                    let mine = own_eq.is_some_and(|(_, _, va, vb)| (va..vb).contains(&s));
                    let used = self.pool_use[q][s] - if mine { *units } else { 0 };
                    used + units <= self.pools[q].count
                });
                if ok {
                    Ok(())
                } else {
                    Err(ScheduleError::Conflict {
                        reason: "equipment in use",
                    })
                }
            }
            (Some(_), None) => Err(ScheduleError::RuleViolation {
                reason: "equipment is required",
            }),
            (None, Some(_)) => Err(ScheduleError::RuleViolation {
                reason: "no equipment is needed",
            }),
            (None, None) => Ok(()),
        }
    }

    /// The patient has no other appointment or hold over the encounter.
    fn check_patient(
        &self,
        patient: PatientId,
        own: &Own<'_>,
        (start, end): (usize, usize),
    ) -> Result<(), ScheduleError> {
        let own_patient = own.ap.filter(|ap| ap.patient == patient).and(own.block);
        if let Some(busy) = self.patient_busy.get(&patient) {
            let clash = busy
                .range(..end)
                .any(|(&s, &e)| e > start && own_patient.is_none_or(|(_, _, va, _)| va != s));
            if clash {
                return Err(ScheduleError::Conflict {
                    reason: "patient already booked",
                });
            }
        }
        Ok(())
    }
}

/// The appointment being moved, whose own slots count as free while its new option is
/// checked.
struct Own<'a> {
    ap: Option<&'a Appointment>,
    block: Option<grid::SlotRanges>,
}

impl Own<'_> {
    /// Whether every slot of `[a, b)` is free on `track`, or is this appointment's own
    /// (when `resource_matches`: it uses the same resource).
    fn free(&self, track: &Track, resource_matches: bool, (a, b): (usize, usize)) -> bool {
        (a..b).all(|s| {
            let own_here = resource_matches
                && self
                    .block
                    .is_some_and(|(oa, ob, _, _)| (oa..ob).contains(&s));
            own_here || track.free_word(s / 64) >> (s % 64) & 1 == 1
        })
    }
}
