//! Slot search (FHIR `$find`): every required resource free at once, ranked by preferences.

use super::*;

impl Schedule {
    pub(super) fn score(
        &self,
        prefs: &Preferences,
        provider: ProviderId,
        start: usize,
        from: usize,
    ) -> i64 {
        let g = i64::from(self.grid.granularity_minutes);
        let mut s = (start as i64 - from as i64) * g;
        if prefs.provider.is_some_and(|p| p != provider) {
            s += prefs.other_provider_penalty_minutes;
        }
        let (wd, mins) = self.local[start];
        if !prefs.weekdays.is_empty()
            && !prefs
                .weekdays
                .iter()
                .any(|w| w.num_days_from_monday() as u8 == wd)
        {
            s += prefs.other_weekday_penalty_minutes;
        }
        if let Some((a, b)) = prefs.time_of_day
            && !(a..b).contains(&u32::from(mins))
        {
            s += prefs.other_time_penalty_minutes;
        }
        s
    }

    /// The top options for `query`: every required resource free at once, the patient free,
    /// the type's rules respected; ranked by [`Preferences`] (earliest first, then penalties).
    ///
    /// # Errors
    /// [`ScheduleError::UnknownAppointmentType`] or [`ScheduleError::NotFound`] for an unknown
    /// provider filter.
    pub fn find_slots(&self, query: &SlotQuery) -> Result<Vec<SlotOption>, ScheduleError> {
        let t = self.type_of(&query.appointment_type)?;
        let (bb, dur, ba) = self.type_slots(t);
        let run = (bb + dur + ba) as u32;
        let limit = query.limit.clamp(1, MAX_OPTIONS);
        let mut earliest = query.earliest;
        let mut latest = query.latest;
        if query.self_booking {
            earliest =
                earliest.max(query.now + TimeDelta::minutes(i64::from(t.min_notice_minutes)));
            latest = latest.min(query.now + TimeDelta::days(i64::from(t.max_horizon_days)));
        }
        if latest < earliest {
            return Ok(Vec::new());
        }
        // Range of block starts (buffer included): visit start = block start + bb.
        let first_visit = self.slot_ceil(earliest);
        let last_visit = match self.slot_floor(latest) {
            Some(s) => s,
            None if latest >= self.grid_range().end() => self.slots.saturating_sub(1),
            None => return Ok(Vec::new()),
        };
        if first_visit < bb || first_visit > last_visit {
            if first_visit < bb && last_visit >= bb {
                return self.find_from(query, t, bb, bb, last_visit, run, limit);
            }
            return Ok(Vec::new());
        }
        self.find_from(query, t, bb, first_visit, last_visit, run, limit)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn find_from(
        &self,
        query: &SlotQuery,
        t: &AppointmentType,
        bb: usize,
        first_visit: usize,
        last_visit: usize,
        run: u32,
        limit: usize,
    ) -> Result<Vec<SlotOption>, ScheduleError> {
        let (_, dur, _) = self.type_slots(t);
        let mut provs: Vec<usize> = Vec::new();
        if query.providers.is_empty() {
            provs.extend(
                (0..self.providers.len()).filter(|&i| self.providers[i].skills.contains(&t.skill)),
            );
        } else {
            for &id in &query.providers {
                let i = self.provider_index(id)?;
                if self.providers[i].skills.contains(&t.skill) {
                    provs.push(i);
                }
            }
        }
        let rooms: Vec<usize> = match (&t.room_capability, t.mode) {
            (Some(cap), VisitMode::InPerson) => (0..self.rooms.len())
                .filter(|&i| self.rooms[i].capabilities.contains(cap))
                .collect(),
            _ => Vec::new(),
        };
        let needs_room = matches!((&t.room_capability, t.mode), (Some(_), VisitMode::InPerson));
        let pools: Vec<usize> = match &t.equipment {
            Some((kind, _)) => (0..self.pools.len())
                .filter(|&i| &self.pools[i].kind == kind)
                .collect(),
            None => Vec::new(),
        };
        if provs.is_empty()
            || (needs_room && rooms.is_empty())
            || (t.equipment.is_some() && pools.is_empty())
        {
            return Ok(Vec::new());
        }
        let max_penalty = query.preferences.other_provider_penalty_minutes.max(0)
            + query.preferences.other_weekday_penalty_minutes.max(0)
            + query.preferences.other_time_penalty_minutes.max(0);
        let g = i64::from(self.grid.granularity_minutes);
        let first_block = first_visit - bb;
        let last_block = last_visit - bb;
        let mut best: Vec<SlotOption> = Vec::with_capacity(limit + 1);
        let mut w = first_block / 64;
        while w * 64 <= last_block {
            // Stop once no later start can beat the current worst of a full list.
            if best.len() == limit
                && let Some(worst) = best.last()
                && (w as i64 * 64 - first_block as i64) * g > worst.score + max_penalty
            {
                break;
            }
            let mut range_mask = u64::MAX;
            if w * 64 < first_block {
                range_mask &= u64::MAX << (first_block - w * 64);
            }
            if last_block < w * 64 + 63 {
                range_mask &= u64::MAX >> (63 - (last_block - w * 64));
            }
            let room_mask = if needs_room {
                rooms
                    .iter()
                    .fold(0u64, |acc, &r| acc | self.room_tracks[r].run_starts(w, run))
            } else {
                u64::MAX
            };
            let common = range_mask & room_mask;
            if common != 0 {
                for &p in &provs {
                    let mut m = self.provider_tracks[p].run_starts(w, run) & common;
                    while m != 0 {
                        let bit = m.trailing_zeros() as usize;
                        m &= m - 1;
                        let block = w * 64 + bit;
                        let visit = block + bb;
                        if visit + dur > self.slots {
                            continue;
                        }
                        let score = self.score(
                            &query.preferences,
                            self.providers[p].id,
                            visit,
                            first_visit,
                        );
                        if best.len() == limit && best.last().is_some_and(|b| b.score <= score) {
                            continue;
                        }
                        if !self.patient_free(query.patient, visit, visit + dur) {
                            continue;
                        }
                        let room = if needs_room {
                            match rooms.iter().find(|&&r| {
                                self.room_tracks[r].all_free(block, block + run as usize)
                            }) {
                                Some(&r) => Some(self.rooms[r].id),
                                None => continue,
                            }
                        } else {
                            None
                        };
                        let equipment = match &t.equipment {
                            Some((_, units)) => match pools
                                .iter()
                                .find(|&&q| self.pool_free(q, *units, visit, visit + dur))
                            {
                                Some(&q) => Some(self.pools[q].id),
                                None => continue,
                            },
                            None => None,
                        };
                        let option = SlotOption {
                            appointment_type: t.code.clone(),
                            provider: self.providers[p].id,
                            room,
                            equipment,
                            period: Period::starting_at(
                                self.slot_instant(visit),
                                TimeDelta::minutes(dur as i64 * g),
                            ),
                            score,
                        };
                        let pos = best.partition_point(|b| {
                            (b.score, b.period.start()) <= (score, option.period.start())
                        });
                        best.insert(pos, option);
                        best.truncate(limit);
                    }
                }
            }
            w += 1;
        }
        Ok(best)
    }
}
