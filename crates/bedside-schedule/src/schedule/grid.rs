//! The slot grid: instants to slot indices, calendars rasterised into availability bitsets,
//! and marking resources busy or free.

use super::*;

/// `(block start, block end, encounter start, encounter end)` in slots: the block includes
/// the type's buffers (provider and room time), the encounter does not (patient and
/// equipment time).
pub(super) type SlotRanges = (usize, usize, usize, usize);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Track {
    pub(super) avail: Vec<u64>,
    pub(super) busy: Vec<u64>,
}

impl Track {
    pub(super) fn new(words: usize) -> Self {
        Self {
            avail: vec![0; words],
            busy: vec![0; words],
        }
    }
    pub(super) fn free_word(&self, w: usize) -> u64 {
        match (self.avail.get(w), self.busy.get(w)) {
            (Some(a), Some(b)) => a & !b,
            _ => 0,
        }
    }
    pub(super) fn all_free(&self, a: usize, b: usize) -> bool {
        (a..b).all(|s| self.free_word(s / 64) >> (s % 64) & 1 == 1)
    }
    pub(super) fn set(bits: &mut [u64], a: usize, b: usize, on: bool) {
        for s in a..b {
            if let Some(w) = bits.get_mut(s / 64) {
                if on {
                    *w |= 1 << (s % 64);
                } else {
                    *w &= !(1 << (s % 64));
                }
            }
        }
    }
    /// Bits `i` of word `w` such that slots `64w+i .. 64w+i+len` are all free.
    pub(super) fn run_starts(&self, w: usize, len: u32) -> u64 {
        let x = u128::from(self.free_word(w)) | (u128::from(self.free_word(w + 1)) << 64);
        let mut m = x;
        for j in 1..len {
            m &= x >> j;
        }
        m as u64
    }
}

impl Schedule {
    pub(super) fn grid_range(&self) -> Period {
        Period::starting_at(
            self.grid.origin,
            TimeDelta::minutes(i64::from(self.grid.granularity_minutes) * self.slots as i64),
        )
    }

    /// Slot index of `at`, rounded down (None outside the grid).
    pub(super) fn slot_floor(&self, at: Timestamp) -> Option<usize> {
        let mins = (at - self.grid.origin).num_minutes();
        if mins < 0 {
            return None;
        }
        let s = (mins / i64::from(self.grid.granularity_minutes)) as usize;
        (s < self.slots).then_some(s)
    }

    /// Slot index of `at`, rounded up, clamped to the grid.
    pub(super) fn slot_ceil(&self, at: Timestamp) -> usize {
        let secs = (at - self.grid.origin).num_seconds();
        if secs <= 0 {
            return 0;
        }
        let g = i64::from(self.grid.granularity_minutes) * 60;
        (((secs + g - 1) / g) as usize).min(self.slots)
    }

    pub(super) fn slot_instant(&self, s: usize) -> Timestamp {
        self.grid.origin + TimeDelta::minutes(i64::from(self.grid.granularity_minutes) * s as i64)
    }

    pub(super) fn rasterise(&self, calendar: &Calendar) -> Vec<u64> {
        let mut bits = vec![0u64; self.words];
        for p in calendar.availability(self.grid_range()) {
            let a = self.slot_ceil(p.start());
            // Only whole slots count as available.
            let secs = (p.end() - self.grid.origin).num_seconds().max(0);
            let b =
                ((secs / (i64::from(self.grid.granularity_minutes) * 60)) as usize).min(self.slots);
            if a < b {
                Track::set(&mut bits, a, b, true);
            }
        }
        bits
    }

    pub(super) fn provider_index(&self, id: ProviderId) -> Result<usize, ScheduleError> {
        self.providers
            .iter()
            .position(|p| p.id == id)
            .ok_or(ScheduleError::NotFound { kind: "provider" })
    }

    pub(super) fn type_of(&self, code: &str) -> Result<&AppointmentType, ScheduleError> {
        self.types.get(code).ok_or_else(|| self.unknown_type(code))
    }

    /// `(buffer_before, duration, buffer_after)` in slots.
    pub(super) fn type_slots(&self, t: &AppointmentType) -> (usize, usize, usize) {
        let g = self.grid.granularity_minutes;
        (
            (t.buffer_before_minutes / g) as usize,
            (t.duration_minutes / g) as usize,
            (t.buffer_after_minutes / g) as usize,
        )
    }

    pub(super) fn patient_free(&self, patient: Option<PatientId>, a: usize, b: usize) -> bool {
        let Some(p) = patient else { return true };
        let Some(busy) = self.patient_busy.get(&p) else {
            return true;
        };
        // The latest interval starting before `b` must end at or before `a`.
        busy.range(..b).next_back().is_none_or(|(_, &end)| end <= a)
    }

    pub(super) fn pool_free(&self, pool: usize, units: u16, a: usize, b: usize) -> bool {
        let count = self.pools[pool].count;
        self.pool_use[pool]
            .get(a..b)
            .is_some_and(|u| u.iter().all(|&x| x + units <= count))
    }

    /// The slot ranges of a stored appointment; see [`Schedule::block_at`].
    pub(super) fn block_of(&self, ap: &Appointment) -> Result<SlotRanges, ScheduleError> {
        self.block_at(&ap.appointment_type, ap.period)
    }

    /// The slot ranges of an option; see [`Schedule::block_at`].
    pub(super) fn block_ranges(&self, option: &SlotOption) -> Result<SlotRanges, ScheduleError> {
        self.block_at(&option.appointment_type, option.period)
    }

    /// `(block start, block end, encounter start, encounter end)` in slots of an encounter of
    /// type `code` over `period`: the block adds the type's buffers.
    fn block_at(&self, code: &str, period: Period) -> Result<SlotRanges, ScheduleError> {
        let t = self.type_of(code)?;
        let (bb, dur, ba) = self.type_slots(t);
        let start = self
            .slot_floor(period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        Ok((
            start.saturating_sub(bb),
            start + dur + ba,
            start,
            start + dur,
        ))
    }

    /// Marks or clears the resources of `option` over the given slot ranges.
    pub(super) fn occupy(
        &mut self,
        option: &SlotOption,
        patient: PatientId,
        ranges: SlotRanges,
        on: bool,
    ) {
        let (a, b, va, vb) = ranges;
        if let Some(p) = self.providers.iter().position(|x| x.id == option.provider) {
            Track::set(&mut self.provider_tracks[p].busy, a, b, on);
        }
        if let Some(room) = option.room
            && let Some(r) = self.rooms.iter().position(|x| x.id == room)
        {
            Track::set(&mut self.room_tracks[r].busy, a, b, on);
        }
        if let Some(eq) = option.equipment
            && let Some(q) = self.pools.iter().position(|x| x.id == eq)
        {
            let units = self
                .types
                .get(&option.appointment_type)
                .and_then(|t| t.equipment.as_ref())
                .map_or(1, |e| e.1);
            for s in va..vb {
                if on {
                    self.pool_use[q][s] += units;
                } else {
                    self.pool_use[q][s] = self.pool_use[q][s].saturating_sub(units);
                }
            }
        }
        let busy = self.patient_busy.entry(patient).or_default();
        if on {
            busy.insert(va, vb);
        } else {
            busy.remove(&va);
        }
    }

    /// The option a stored appointment occupies.
    pub(super) fn option_of(ap: &Appointment) -> SlotOption {
        SlotOption {
            appointment_type: ap.appointment_type.clone(),
            provider: ap.provider,
            room: ap.room,
            equipment: ap.equipment,
            period: ap.period,
            score: 0,
        }
    }

    /// The free (available and not busy) slots of provider `p` in the `len` slots from `from`,
    /// as a day mask (bit `k` = slot `k` after `from`).
    pub(crate) fn free_mask(&self, p: usize, from: Timestamp, len: u16) -> u128 {
        let Some(track) = self.provider_tracks.get(p) else {
            return 0;
        };
        let Some(base) = self.slot_floor(from) else {
            return 0;
        };
        let mut m = 0u128;
        for k in 0..usize::from(len).min(128) {
            let s = base + k;
            if s < self.slots && track.free_word(s / 64) >> (s % 64) & 1 == 1 {
                m |= 1u128 << k;
            }
        }
        m
    }

    /// The error for an unregistered type `code`, listing the registered ones.
    pub(crate) fn unknown_type(&self, code: &str) -> ScheduleError {
        ScheduleError::UnknownAppointmentType {
            code: code.chars().take(64).collect(),
            valid: self
                .types
                .keys()
                .take(crate::error::MAX_LISTED_CODES)
                .cloned()
                .collect(),
        }
    }
}
