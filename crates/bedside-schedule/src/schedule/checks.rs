//! Whether an option can be booked: grid alignment, skill, and every resource free.

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
}
