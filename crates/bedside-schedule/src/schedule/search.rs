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
        let mut earliest = query.earliest;
        let mut latest = query.latest;
        if let Booker::Patient { at } = query.booker {
            earliest = earliest.max(at + TimeDelta::minutes(i64::from(t.min_notice_minutes)));
            latest = latest.min(at + TimeDelta::days(i64::from(t.max_horizon_days)));
        }
        if latest < earliest {
            return Ok(Vec::new());
        }
        // Range of encounter starts; a block (buffer included) starts `bb` slots earlier.
        let first_start = self.slot_ceil(earliest);
        let last_start = match self.slot_floor(latest) {
            Some(s) => s,
            None if latest >= self.grid_range().end() => self.slots.saturating_sub(1),
            None => return Ok(Vec::new()),
        };
        // An encounter cannot start before its leading buffer fits on the grid.
        let first_start = first_start.max(bb);
        if first_start > last_start {
            return Ok(Vec::new());
        }
        let Some(candidates) = self.candidates(query, t)? else {
            return Ok(Vec::new());
        };
        let window = SearchWindow {
            buffer_before: bb,
            duration: dur,
            first_start,
            last_start,
            run: (bb + dur + ba) as u32,
            limit: query.limit.clamp(1, MAX_OPTIONS),
        };
        Ok(self.scan(query, t, &candidates, &window))
    }

    /// The providers, rooms and pools that could serve `t`, or `None` when some required
    /// kind has none.
    fn candidates(
        &self,
        query: &SlotQuery,
        t: &AppointmentType,
    ) -> Result<Option<Candidates>, ScheduleError> {
        let mut providers: Vec<usize> = Vec::new();
        if query.providers.is_empty() {
            providers.extend(
                (0..self.providers.len()).filter(|&i| self.providers[i].skills.contains(&t.skill)),
            );
        } else {
            for &id in &query.providers {
                let i = self.provider_index(id)?;
                if self.providers[i].skills.contains(&t.skill) {
                    providers.push(i);
                }
            }
        }
        let needs_room = matches!(
            (&t.room_capability, t.mode),
            (Some(_), EncounterMode::InPerson)
        );
        let rooms: Vec<usize> = match (&t.room_capability, t.mode) {
            (Some(cap), EncounterMode::InPerson) => (0..self.rooms.len())
                .filter(|&i| self.rooms[i].capabilities.contains(cap))
                .collect(),
            _ => Vec::new(),
        };
        let pools: Vec<usize> = match &t.equipment {
            Some((kind, _)) => (0..self.pools.len())
                .filter(|&i| &self.pools[i].kind == kind)
                .collect(),
            None => Vec::new(),
        };
        if providers.is_empty()
            || (needs_room && rooms.is_empty())
            || (t.equipment.is_some() && pools.is_empty())
        {
            return Ok(None);
        }
        Ok(Some(Candidates {
            providers,
            needs_room,
            rooms,
            pools,
        }))
    }

    /// Walks the grid a 64-slot word at a time, keeping the best `limit` options, and stops
    /// once no later start can beat the worst kept one.
    fn scan(
        &self,
        query: &SlotQuery,
        t: &AppointmentType,
        candidates: &Candidates,
        window: &SearchWindow,
    ) -> Vec<SlotOption> {
        let max_penalty = query.preferences.other_provider_penalty_minutes.max(0)
            + query.preferences.other_weekday_penalty_minutes.max(0)
            + query.preferences.other_time_penalty_minutes.max(0);
        let g = i64::from(self.grid.granularity_minutes);
        let first_block = window.first_start - window.buffer_before;
        let last_block = window.last_start - window.buffer_before;
        let limit = window.limit;
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
            let room_mask = if candidates.needs_room {
                candidates.rooms.iter().fold(0u64, |acc, &r| {
                    acc | self.room_tracks[r].run_starts(w, window.run)
                })
            } else {
                u64::MAX
            };
            let common = range_mask & room_mask;
            if common != 0 {
                for &p in &candidates.providers {
                    let mut m = self.provider_tracks[p].run_starts(w, window.run) & common;
                    while m != 0 {
                        let bit = m.trailing_zeros() as usize;
                        m &= m - 1;
                        let block = w * 64 + bit;
                        let start = block + window.buffer_before;
                        if start + window.duration > self.slots {
                            continue;
                        }
                        let score = self.score(
                            &query.preferences,
                            self.providers[p].id,
                            start,
                            window.first_start,
                        );
                        if best.len() == limit && best.last().is_some_and(|b| b.score <= score) {
                            continue;
                        }
                        if !self.patient_free(query.patient, start, start + window.duration) {
                            continue;
                        }
                        let Some(option) = self.complete(t, candidates, window, (p, block), score)
                        else {
                            continue;
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
        best
    }

    /// The option of provider `p` at `block` with a free room and pool, if there are.
    fn complete(
        &self,
        t: &AppointmentType,
        candidates: &Candidates,
        window: &SearchWindow,
        (p, block): (usize, usize),
        score: i64,
    ) -> Option<SlotOption> {
        let start = block + window.buffer_before;
        let end = start + window.duration;
        let room = if candidates.needs_room {
            let r = candidates
                .rooms
                .iter()
                .find(|&&r| self.room_tracks[r].all_free(block, block + window.run as usize))?;
            Some(self.rooms[*r].id)
        } else {
            None
        };
        let equipment = match &t.equipment {
            Some((_, units)) => {
                let q = candidates
                    .pools
                    .iter()
                    .find(|&&q| self.pool_free(q, *units, start, end))?;
                Some(self.pools[*q].id)
            }
            None => None,
        };
        let g = i64::from(self.grid.granularity_minutes);
        Some(SlotOption {
            appointment_type: t.code.clone(),
            provider: self.providers[p].id,
            room,
            equipment,
            period: Period::starting_at(
                self.slot_instant(start),
                TimeDelta::minutes(window.duration as i64 * g),
            ),
            score,
        })
    }
}

/// Resources that could serve a search's appointment type (indices into the schedule).
struct Candidates {
    providers: Vec<usize>,
    needs_room: bool,
    rooms: Vec<usize>,
    pools: Vec<usize>,
}

/// The slot range and sizes of one search.
struct SearchWindow {
    /// Slots of buffer before the encounter.
    buffer_before: usize,
    /// Slots of the encounter.
    duration: usize,
    /// First and last slot an encounter may start at.
    first_start: usize,
    last_start: usize,
    /// Slots of the whole block (buffers included).
    run: u32,
    /// Most options kept.
    limit: usize,
}
