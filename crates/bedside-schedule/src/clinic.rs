//! The live schedule of a clinic: resources on a slotted grid, appointment types, slot search
//! (FHIR `$find`), holds (`$hold`), idempotent booking (`$book`), and the booking operations.
//!
//! Time is a grid of `granularity_minutes` slots from an origin instant. Every resource
//! (provider, room) has an availability bitset rasterised from its [`Calendar`] and a busy
//! bitset; equipment pools keep a per-slot use count. Every booking goes through one
//! check-then-mark path, so no resource, pool or patient is ever double-booked (designated
//! overbooking, see [`Schedule::book_overbooked`], is tracked separately and bounded).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bedside_core::{
    Actor, AppointmentId, PatientId, Period, ProviderId, RoomId, Timestamp, define_id,
};
use chrono::{Datelike, TimeDelta, Timelike, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::{AppointmentStatus, ScheduleError};

define_id!(
    /// Identifies an equipment pool (e.g. the clinic's ultrasound machines).
    EquipmentId
);
define_id!(
    /// Identifies a hold on an option during checkout.
    HoldId
);
define_id!(
    /// Identifies a waitlist entry.
    WaitlistEntryId
);

/// Most slots an appointment (with buffers) may span.
pub const MAX_RUN_SLOTS: u32 = 64;
/// Most days in a schedule's grid.
pub const MAX_HORIZON_DAYS: u32 = 400;
/// Most options one search returns.
pub const MAX_OPTIONS: usize = 100;

/// The slot grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridConfig {
    /// First instant of the grid.
    pub origin: Timestamp,
    /// Minutes per slot (1..=60, dividing 1440).
    pub granularity_minutes: u32,
    /// Days covered.
    pub horizon_days: u32,
    /// Zone used for local weekdays and times of day when ranking.
    pub zone: Tz,
}

/// A provider and what they can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// The provider.
    pub id: ProviderId,
    /// Skill or credential codes held (e.g. `cardiology`, `ultrasound`).
    pub skills: BTreeSet<String>,
    /// When they work.
    pub calendar: Calendar,
}

/// A room and what it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    /// The room.
    pub id: RoomId,
    /// Capability codes (e.g. `exam`, `procedure`).
    pub capabilities: BTreeSet<String>,
    /// When it is open.
    pub calendar: Calendar,
}

/// A counted pool of interchangeable equipment, available whenever the clinic is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentPool {
    /// The pool.
    pub id: EquipmentId,
    /// Kind code (e.g. `ultrasound`).
    pub kind: String,
    /// How many units.
    pub count: u16,
}

/// In person or by video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitMode {
    /// At the clinic: needs a room if the type names a capability.
    InPerson,
    /// Video call: never needs a room.
    Video,
}

/// New patient or follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// First visit for this problem.
    New,
    /// Follow-up.
    FollowUp,
}

/// An appointment type and its booking rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentType {
    /// Code (e.g. `derm-new`).
    pub code: String,
    /// Length of the visit.
    pub duration_minutes: u32,
    /// Skill the provider must hold.
    pub skill: String,
    /// Room capability needed (in person only).
    pub room_capability: Option<String>,
    /// Equipment kind and units needed.
    pub equipment: Option<(String, u16)>,
    /// Provider and room time blocked before the visit.
    pub buffer_before_minutes: u32,
    /// Provider and room time blocked after the visit.
    pub buffer_after_minutes: u32,
    /// In person or video.
    pub mode: VisitMode,
    /// New or follow-up.
    pub kind: VisitKind,
    /// Self-booking: earliest start is this long after now.
    pub min_notice_minutes: u32,
    /// Self-booking: latest start is this many days after now.
    pub max_horizon_days: u32,
}

/// How options are ranked (lower score first); penalties are in minutes of delay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Preferences {
    /// Preferred provider (continuity of care).
    pub provider: Option<ProviderId>,
    /// Penalty for any other provider.
    pub other_provider_penalty_minutes: i64,
    /// Preferred local weekdays (empty: any).
    pub weekdays: Vec<Weekday>,
    /// Penalty for other weekdays.
    pub other_weekday_penalty_minutes: i64,
    /// Preferred local time-of-day window, in minutes after midnight, `[start, end)`.
    pub time_of_day: Option<(u32, u32)>,
    /// Penalty for starts outside that window.
    pub other_time_penalty_minutes: i64,
}

/// A slot-search query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQuery {
    /// Appointment type code.
    pub appointment_type: String,
    /// Patient (their own appointments must not overlap).
    pub patient: Option<PatientId>,
    /// The current instant (self-booking notice and horizon are measured from it).
    pub now: Timestamp,
    /// Earliest start wanted.
    pub earliest: Timestamp,
    /// Latest start wanted.
    pub latest: Timestamp,
    /// Restrict to these providers (empty: all with the skill).
    pub providers: Vec<ProviderId>,
    /// Ranking preferences.
    pub preferences: Preferences,
    /// How many options (capped at [`MAX_OPTIONS`]).
    pub limit: usize,
    /// Whether the type's self-booking notice and horizon apply (false for staff booking).
    pub self_booking: bool,
}

/// A bookable option: everything needed at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotOption {
    /// Appointment type code.
    pub appointment_type: String,
    /// The provider.
    pub provider: ProviderId,
    /// The room, if the type needs one.
    pub room: Option<RoomId>,
    /// The equipment pool, if the type needs equipment.
    pub equipment: Option<EquipmentId>,
    /// The visit itself (buffers excluded).
    pub period: Period,
    /// Ranking score (lower is better).
    pub score: i64,
}

/// Why an appointment was cancelled (codes only; free text would risk PHI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The patient cancelled.
    Patient,
    /// The provider is unavailable.
    Provider,
    /// The clinic cancelled (closure, equipment failure).
    Clinic,
    /// Replaced by another appointment.
    Rescheduled,
    /// Anything else.
    Other,
}

/// What a history entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Change {
    /// Booked.
    Booked,
    /// Moved to a new time or resource.
    Rescheduled {
        /// Previous visit period.
        from: Period,
    },
    /// Cancelled.
    Cancelled {
        /// Why.
        reason: CancelReason,
    },
    /// Patient checked in.
    CheckedIn,
    /// Patient did not come.
    NoShow,
    /// Visit completed.
    Fulfilled,
    /// Moved by a repair because the provider became unavailable.
    Repaired {
        /// Previous visit period.
        from: Period,
    },
}

/// One versioned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Version after the change (1 for the booking).
    pub version: u32,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    pub change: Change,
}

/// A booked (or formerly booked) appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// The appointment.
    pub id: AppointmentId,
    /// The patient.
    pub patient: PatientId,
    /// Type code.
    pub appointment_type: String,
    /// Provider.
    pub provider: ProviderId,
    /// Room.
    pub room: Option<RoomId>,
    /// Equipment pool.
    pub equipment: Option<EquipmentId>,
    /// The visit.
    pub period: Period,
    /// FHIR status.
    pub status: AppointmentStatus,
    /// Whether it sits in a designated overbooking session on top of another booking.
    pub overbooked: bool,
    /// Probability the patient does not come (used by overbooking).
    pub no_show_probability_permille: u16,
    /// Current version (number of changes).
    pub version: u32,
    /// Every change, oldest first.
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Hold {
    option: SlotOption,
    patient: PatientId,
    expires_at: Timestamp,
}

/// A request on the waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    /// The patient.
    pub patient: PatientId,
    /// Type wanted.
    pub appointment_type: String,
    /// Clinical urgency, higher first (0–10).
    pub urgency: u8,
    /// When they joined.
    pub added_at: Timestamp,
    /// What they would like.
    pub preferences: Preferences,
}

/// An offer of a freed slot to a waitlisted patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The waitlist entry.
    pub entry: WaitlistEntryId,
    /// The patient.
    pub patient: PatientId,
    /// The option offered.
    pub option: SlotOption,
    /// Ranking score (lower first): urgency, then time waited, then preference fit.
    pub rank: i64,
}

/// Designated overbooking sessions and the bound on expected overtime.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OverbookPolicy {
    /// Sessions where a second booking may sit on top of a first.
    pub sessions: Vec<(ProviderId, Period)>,
    /// Bound on the expected minutes of work beyond the session end.
    pub max_expected_overtime_minutes: i64,
}

/// Weights of a repair: how disruptive each kind of move is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairWeights {
    /// Cost of keeping the provider but moving to another day, per day moved.
    pub same_provider_per_day: i64,
    /// Cost of another provider on the same day.
    pub other_provider_same_day: i64,
    /// Cost per hour of shift within a day.
    pub per_hour_shift: i64,
    /// Days searched either side for the same provider.
    pub search_days: i64,
}

impl Default for RepairWeights {
    fn default() -> Self {
        Self {
            same_provider_per_day: 10,
            other_provider_same_day: 15,
            per_hour_shift: 1,
            search_days: 14,
        }
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RepairReport {
    /// Appointments moved: id, old period, new option.
    pub moved: Vec<(AppointmentId, Period, SlotOption)>,
    /// Appointments that could not be placed (left `pending` for staff).
    pub unplaced: Vec<AppointmentId>,
    /// Patients to notify, without duplicates, in appointment order.
    pub notify: Vec<PatientId>,
    /// Total disruption cost.
    pub cost: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Track {
    avail: Vec<u64>,
    busy: Vec<u64>,
}

impl Track {
    fn new(words: usize) -> Self {
        Self {
            avail: vec![0; words],
            busy: vec![0; words],
        }
    }
    fn free_word(&self, w: usize) -> u64 {
        match (self.avail.get(w), self.busy.get(w)) {
            (Some(a), Some(b)) => a & !b,
            _ => 0,
        }
    }
    fn all_free(&self, a: usize, b: usize) -> bool {
        (a..b).all(|s| self.free_word(s / 64) >> (s % 64) & 1 == 1)
    }
    fn set(bits: &mut [u64], a: usize, b: usize, on: bool) {
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
    fn run_starts(&self, w: usize, len: u32) -> u64 {
        let x = u128::from(self.free_word(w)) | (u128::from(self.free_word(w + 1)) << 64);
        let mut m = x;
        for j in 1..len {
            m &= x >> j;
        }
        m as u64
    }
}

/// The live schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schedule {
    grid: GridConfig,
    slots: usize,
    words: usize,
    /// Local weekday (0 = Monday) and minute of day of each slot start.
    local: Vec<(u8, u16)>,
    providers: Vec<Provider>,
    provider_tracks: Vec<Track>,
    rooms: Vec<Room>,
    room_tracks: Vec<Track>,
    pools: Vec<EquipmentPool>,
    pool_use: Vec<Vec<u16>>,
    types: BTreeMap<String, AppointmentType>,
    appointments: BTreeMap<AppointmentId, Appointment>,
    patient_busy: HashMap<PatientId, BTreeMap<usize, usize>>,
    holds: BTreeMap<HoldId, Hold>,
    tokens: HashMap<String, AppointmentId>,
    waitlist: BTreeMap<WaitlistEntryId, WaitlistEntry>,
    overbook: OverbookPolicy,
    overbook_busy: Vec<Vec<u64>>,
}

impl Schedule {
    /// Creates an empty schedule on `grid`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] for a granularity that does not divide a day or a
    /// horizon above [`MAX_HORIZON_DAYS`].
    pub fn new(grid: GridConfig) -> Result<Self, ScheduleError> {
        if grid.granularity_minutes == 0
            || grid.granularity_minutes > 60
            || 1440 % grid.granularity_minutes != 0
        {
            return Err(ScheduleError::InvalidConfig {
                reason: "granularity must divide a day and be at most 60 minutes",
            });
        }
        if grid.horizon_days == 0 || grid.horizon_days > MAX_HORIZON_DAYS {
            return Err(ScheduleError::InvalidConfig {
                reason: "horizon must be 1..=400 days",
            });
        }
        let slots = (grid.horizon_days * 1440 / grid.granularity_minutes) as usize;
        let words = slots.div_ceil(64) + 1;
        let local = (0..slots)
            .map(|s| {
                let t = grid.origin
                    + TimeDelta::minutes(i64::from(grid.granularity_minutes) * s as i64);
                let l = t.with_timezone(&grid.zone);
                (
                    l.weekday().num_days_from_monday() as u8,
                    (l.hour() * 60 + l.minute()) as u16,
                )
            })
            .collect();
        Ok(Self {
            grid,
            slots,
            words,
            local,
            providers: Vec::new(),
            provider_tracks: Vec::new(),
            rooms: Vec::new(),
            room_tracks: Vec::new(),
            pools: Vec::new(),
            pool_use: Vec::new(),
            types: BTreeMap::new(),
            appointments: BTreeMap::new(),
            patient_busy: HashMap::new(),
            holds: BTreeMap::new(),
            tokens: HashMap::new(),
            waitlist: BTreeMap::new(),
            overbook: OverbookPolicy::default(),
            overbook_busy: Vec::new(),
        })
    }

    /// The grid.
    pub fn grid(&self) -> &GridConfig {
        &self.grid
    }

    fn grid_range(&self) -> Period {
        Period::starting_at(
            self.grid.origin,
            TimeDelta::minutes(i64::from(self.grid.granularity_minutes) * self.slots as i64),
        )
    }

    /// Slot index of `at`, rounded down (None outside the grid).
    fn slot_floor(&self, at: Timestamp) -> Option<usize> {
        let mins = (at - self.grid.origin).num_minutes();
        if mins < 0 {
            return None;
        }
        let s = (mins / i64::from(self.grid.granularity_minutes)) as usize;
        (s < self.slots).then_some(s)
    }

    /// Slot index of `at`, rounded up, clamped to the grid.
    fn slot_ceil(&self, at: Timestamp) -> usize {
        let secs = (at - self.grid.origin).num_seconds();
        if secs <= 0 {
            return 0;
        }
        let g = i64::from(self.grid.granularity_minutes) * 60;
        (((secs + g - 1) / g) as usize).min(self.slots)
    }

    fn slot_instant(&self, s: usize) -> Timestamp {
        self.grid.origin + TimeDelta::minutes(i64::from(self.grid.granularity_minutes) * s as i64)
    }

    fn rasterise(&self, calendar: &Calendar) -> Vec<u64> {
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

    /// Adds a provider.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] if the id is already present.
    pub fn add_provider(&mut self, provider: Provider) -> Result<(), ScheduleError> {
        if self.providers.iter().any(|p| p.id == provider.id) {
            return Err(ScheduleError::InvalidConfig {
                reason: "duplicate provider",
            });
        }
        let mut track = Track::new(self.words);
        track.avail = self.rasterise(&provider.calendar);
        self.providers.push(provider);
        self.provider_tracks.push(track);
        self.overbook_busy.push(vec![0; self.words]);
        Ok(())
    }

    /// Adds a room.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] if the id is already present.
    pub fn add_room(&mut self, room: Room) -> Result<(), ScheduleError> {
        if self.rooms.iter().any(|r| r.id == room.id) {
            return Err(ScheduleError::InvalidConfig {
                reason: "duplicate room",
            });
        }
        let mut track = Track::new(self.words);
        track.avail = self.rasterise(&room.calendar);
        self.rooms.push(room);
        self.room_tracks.push(track);
        Ok(())
    }

    /// Adds an equipment pool.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] if the id is already present or the count is zero.
    pub fn add_equipment(&mut self, pool: EquipmentPool) -> Result<(), ScheduleError> {
        if pool.count == 0 || self.pools.iter().any(|p| p.id == pool.id) {
            return Err(ScheduleError::InvalidConfig {
                reason: "duplicate or empty equipment pool",
            });
        }
        self.pools.push(pool);
        self.pool_use.push(vec![0; self.slots]);
        Ok(())
    }

    /// Registers (or replaces) an appointment type.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] if the duration is not a positive multiple of the
    /// granularity or the total run exceeds [`MAX_RUN_SLOTS`].
    pub fn add_appointment_type(&mut self, t: AppointmentType) -> Result<(), ScheduleError> {
        let g = self.grid.granularity_minutes;
        let all = [
            t.duration_minutes,
            t.buffer_before_minutes,
            t.buffer_after_minutes,
        ];
        if t.duration_minutes == 0 || all.iter().any(|m| m % g != 0) {
            return Err(ScheduleError::InvalidConfig {
                reason: "durations and buffers must be multiples of the granularity",
            });
        }
        if all.iter().sum::<u32>() / g > MAX_RUN_SLOTS {
            return Err(ScheduleError::InvalidConfig {
                reason: "appointment too long",
            });
        }
        self.types.insert(t.code.clone(), t);
        Ok(())
    }

    /// Sets the overbooking policy.
    pub fn set_overbook_policy(&mut self, policy: OverbookPolicy) {
        self.overbook = policy;
    }

    /// The appointment with `id`.
    pub fn appointment(&self, id: AppointmentId) -> Option<&Appointment> {
        self.appointments.get(&id)
    }

    /// All appointments, by id.
    pub fn appointments(&self) -> impl Iterator<Item = &Appointment> {
        self.appointments.values()
    }

    /// The providers.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The rooms.
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// An appointment type.
    pub fn appointment_type(&self, code: &str) -> Option<&AppointmentType> {
        self.types.get(code)
    }

    fn provider_index(&self, id: ProviderId) -> Result<usize, ScheduleError> {
        self.providers
            .iter()
            .position(|p| p.id == id)
            .ok_or(ScheduleError::NotFound { kind: "provider" })
    }

    fn type_of(&self, code: &str) -> Result<&AppointmentType, ScheduleError> {
        self.types
            .get(code)
            .ok_or_else(|| ScheduleError::UnknownAppointmentType {
                code: code.chars().take(64).collect(),
            })
    }

    /// `(buffer_before, duration, buffer_after)` in slots.
    fn type_slots(&self, t: &AppointmentType) -> (usize, usize, usize) {
        let g = self.grid.granularity_minutes;
        (
            (t.buffer_before_minutes / g) as usize,
            (t.duration_minutes / g) as usize,
            (t.buffer_after_minutes / g) as usize,
        )
    }

    fn patient_free(&self, patient: Option<PatientId>, a: usize, b: usize) -> bool {
        let Some(p) = patient else { return true };
        let Some(busy) = self.patient_busy.get(&p) else {
            return true;
        };
        // The latest interval starting before `b` must end at or before `a`.
        busy.range(..b).next_back().is_none_or(|(_, &end)| end <= a)
    }

    fn pool_free(&self, pool: usize, units: u16, a: usize, b: usize) -> bool {
        let count = self.pools[pool].count;
        self.pool_use[pool]
            .get(a..b)
            .is_some_and(|u| u.iter().all(|&x| x + units <= count))
    }

    fn score(&self, prefs: &Preferences, provider: ProviderId, start: usize, from: usize) -> i64 {
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
    fn find_from(
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

    /// Checks that `option` can be booked for `patient` right now, ignoring `ignore`'s own
    /// occupancy. Returns the slot ranges: (block start, block end, visit start, visit end).
    fn check_option(
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

    fn block_of(&self, ap: &Appointment) -> Result<(usize, usize, usize, usize), ScheduleError> {
        let t = self.type_of(&ap.appointment_type)?;
        let (bb, dur, ba) = self.type_slots(t);
        let visit = self
            .slot_floor(ap.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        Ok((
            visit.saturating_sub(bb),
            visit + dur + ba,
            visit,
            visit + dur,
        ))
    }

    /// Marks or clears the resources of `option` over the given slot ranges.
    fn occupy(
        &mut self,
        option: &SlotOption,
        patient: PatientId,
        ranges: (usize, usize, usize, usize),
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

    fn option_of(ap: &Appointment) -> SlotOption {
        SlotOption {
            appointment_type: ap.appointment_type.clone(),
            provider: ap.provider,
            room: ap.room,
            equipment: ap.equipment,
            period: ap.period,
            score: 0,
        }
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

    fn block_ranges(
        &self,
        option: &SlotOption,
    ) -> Result<(usize, usize, usize, usize), ScheduleError> {
        let t = self.type_of(&option.appointment_type)?;
        let (bb, dur, ba) = self.type_slots(t);
        let visit = self
            .slot_floor(option.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        Ok((
            visit.saturating_sub(bb),
            visit + dur + ba,
            visit,
            visit + dur,
        ))
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
    fn insert_appointment(
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

    fn change(
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

    fn record(ap: &mut Appointment, actor: &Actor, now: Timestamp, change: Change) {
        ap.version += 1;
        ap.history.push(HistoryEntry {
            version: ap.version,
            at: now,
            actor: actor.clone(),
            change,
        });
    }

    fn release(&mut self, id: AppointmentId) {
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

    fn move_to(
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

    /// Adds a request to the waitlist.
    pub fn add_to_waitlist(
        &mut self,
        id: WaitlistEntryId,
        entry: WaitlistEntry,
    ) -> WaitlistEntryId {
        self.waitlist.insert(id, entry);
        id
    }

    /// Removes a waitlist entry (booked or withdrawn).
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown entry.
    pub fn remove_from_waitlist(
        &mut self,
        id: WaitlistEntryId,
    ) -> Result<WaitlistEntry, ScheduleError> {
        self.waitlist.remove(&id).ok_or(ScheduleError::NotFound {
            kind: "waitlist entry",
        })
    }

    /// The waitlist.
    pub fn waitlist(&self) -> impl Iterator<Item = (&WaitlistEntryId, &WaitlistEntry)> {
        self.waitlist.iter()
    }

    /// Offers for a freed time: every waitlisted request that fits `freed` (on its provider,
    /// within its period), ranked by urgency, then time waited, then preference fit; at most
    /// one offer per entry and `limit` offers.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown provider.
    pub fn waitlist_offers(
        &self,
        freed: &SlotOption,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Offer>, ScheduleError> {
        let mut offers = Vec::new();
        for (&entry, w) in &self.waitlist {
            let q = SlotQuery {
                appointment_type: w.appointment_type.clone(),
                patient: Some(w.patient),
                now,
                earliest: freed.period.start().max(now),
                latest: freed.period.end(),
                providers: vec![freed.provider],
                preferences: w.preferences.clone(),
                limit: 1,
                self_booking: false,
            };
            let Ok(found) = self.find_slots(&q) else {
                continue;
            };
            let Some(option) = found
                .into_iter()
                .find(|o| o.period.end() <= freed.period.end())
            else {
                continue;
            };
            let waited_hours = (now - w.added_at).num_hours().max(0);
            let rank =
                -i64::from(w.urgency) * 1_000_000 - waited_hours * 100 + option.score.min(99);
            offers.push(Offer {
                entry,
                patient: w.patient,
                option,
                rank,
            });
        }
        offers.sort_by_key(|o| (o.rank, o.entry));
        offers.truncate(limit.min(MAX_OPTIONS));
        Ok(offers)
    }

    /// Makes `provider` unavailable over `period` (sick day, leave) and moves the affected
    /// appointments with minimal disruption: the same provider on another day (cost per day
    /// moved) or another provider the same day (fixed cost), plus a cost per hour shifted.
    /// All-or-nothing per appointment; appointments with no option become `pending` and are
    /// listed. Returns the patients to notify.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown provider.
    pub fn repair_unavailable(
        &mut self,
        provider: ProviderId,
        period: Period,
        weights: RepairWeights,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<RepairReport, ScheduleError> {
        use AppointmentStatus as S;
        let p = self.provider_index(provider)?;
        let a = self.slot_ceil(period.start());
        let b = self.slot_ceil(period.end());
        Track::set(
            &mut self.provider_tracks[p].avail,
            a.min(self.slots),
            b,
            false,
        );
        let mut affected: Vec<(Timestamp, AppointmentId)> = self
            .appointments
            .values()
            .filter(|ap| {
                ap.provider == provider
                    && matches!(ap.status, S::Booked | S::Pending)
                    && ap.period.overlaps(&period)
            })
            .map(|ap| (ap.period.start(), ap.id))
            .collect();
        affected.sort();
        let mut report = RepairReport::default();
        let day = TimeDelta::days(1);
        for (start, id) in affected {
            let Some(ap) = self.appointments.get(&id).cloned() else {
                continue;
            };
            // Free it first so that its own old slots never block a candidate.
            self.release(id);
            let local_day = start.with_timezone(&self.grid.zone).date_naive();
            let day_start = crate::calendar::resolve_local(
                self.grid.zone,
                local_day.and_time(chrono::NaiveTime::MIN),
            );
            let mut best: Option<(i64, SlotOption)> = None;
            let hours = |o: &SlotOption| {
                let o_local = o.period.start().with_timezone(&self.grid.zone).time();
                let s_local = start.with_timezone(&self.grid.zone).time();
                (o_local - s_local).num_minutes().abs() / 60
            };
            // Another provider, same day.
            let others: Vec<ProviderId> = self
                .providers
                .iter()
                .filter(|x| x.id != provider)
                .map(|x| x.id)
                .collect();
            if !others.is_empty() {
                let q = SlotQuery {
                    appointment_type: ap.appointment_type.clone(),
                    patient: Some(ap.patient),
                    now,
                    earliest: day_start.max(now),
                    latest: day_start + day,
                    providers: others,
                    preferences: Preferences::default(),
                    limit: 20,
                    self_booking: false,
                };
                for o in self.find_slots(&q)? {
                    let c = weights.other_provider_same_day + weights.per_hour_shift * hours(&o);
                    if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                        best = Some((c, o));
                    }
                }
            }
            // Same provider, other days.
            let q = SlotQuery {
                appointment_type: ap.appointment_type.clone(),
                patient: Some(ap.patient),
                now,
                earliest: (day_start - TimeDelta::days(weights.search_days)).max(now),
                latest: day_start + TimeDelta::days(weights.search_days + 1),
                providers: vec![provider],
                preferences: Preferences::default(),
                limit: MAX_OPTIONS,
                self_booking: false,
            };
            for o in self.find_slots(&q)? {
                let o_day = o.period.start().with_timezone(&self.grid.zone).date_naive();
                let days = (o_day - local_day).num_days().abs();
                let c = weights.same_provider_per_day * days + weights.per_hour_shift * hours(&o);
                if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                    best = Some((c, o));
                }
            }
            // Put it back as it was (resources freed) before applying the move atomically.
            if let Some(stored) = self.appointments.get_mut(&id) {
                stored.status = S::Pending;
            }
            match best {
                Some((c, o)) => {
                    self.move_to(id, &o, None, actor, now, true)?;
                    report.cost += c;
                    report.moved.push((id, ap.period, o));
                }
                None => {
                    if let Some(stored) = self.appointments.get_mut(&id) {
                        Self::record(
                            stored,
                            actor,
                            now,
                            Change::Cancelled {
                                reason: CancelReason::Provider,
                            },
                        );
                        stored.status = S::Pending;
                    }
                    report.unplaced.push(id);
                }
            }
            if !report.notify.contains(&ap.patient) {
                report.notify.push(ap.patient);
            }
        }
        Ok(report)
    }

    /// Books `option` on top of an existing booking inside a designated overbooking session,
    /// if the session's expected overtime (expected work minus session length, using each
    /// appointment's show probability) stays within the policy bound. At most one extra
    /// booking per slot.
    ///
    /// # Errors
    /// [`ScheduleError::OverbookingRefused`] outside a session, above the bound, or when the
    /// slot is already overbooked; [`ScheduleError::Conflict`] for a patient clash.
    #[allow(clippy::too_many_arguments)]
    pub fn book_overbooked(
        &mut self,
        option: &SlotOption,
        patient: PatientId,
        no_show_permille: u16,
        client_token: &str,
        id: AppointmentId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<AppointmentId, ScheduleError> {
        if let Some(&existing) = self.tokens.get(client_token) {
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
        let visit = self
            .slot_floor(option.period.start())
            .ok_or(ScheduleError::RuleViolation {
                reason: "outside the schedule",
            })?;
        if (visit..visit + dur).any(|s| self.overbook_busy[p][s / 64] >> (s % 64) & 1 == 1) {
            return Err(ScheduleError::OverbookingRefused {
                reason: "slot already overbooked",
            });
        }
        if !self.providers[p].skills.contains(&t.skill) {
            return Err(ScheduleError::RuleViolation {
                reason: "provider lacks the skill",
            });
        }
        if !self.patient_free(Some(patient), visit, visit + dur) {
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
        Track::set(&mut self.overbook_busy[p], visit, visit + dur, true);
        self.patient_busy
            .entry(patient)
            .or_default()
            .insert(visit, visit + dur);
        self.insert_appointment(
            id,
            option,
            patient,
            actor,
            now,
            true,
            no_show_permille.min(1000),
        );
        self.tokens.insert(client_token.to_string(), id);
        Ok(id)
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

    /// Verifies the schedule's invariant from scratch: no provider, room or patient has two
    /// resource-holding appointments or holds at once (designated overbookings aside), and
    /// equipment use never exceeds a pool. Returns a description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen: HashMap<(u8, u128), Vec<(usize, usize)>> = HashMap::new();
        let mut items: Vec<(SlotOption, PatientId)> = self
            .appointments
            .values()
            .filter(|a| a.status.holds_resources() && !a.overbooked)
            .map(|a| (Self::option_of(a), a.patient))
            .collect();
        items.extend(self.holds.values().map(|h| (h.option.clone(), h.patient)));
        let mut eq_use: HashMap<u128, Vec<u16>> = HashMap::new();
        for (o, patient) in &items {
            let (a, b, va, vb) = self.block_ranges(o).map_err(|e| e.to_string())?;
            let mut keys = vec![
                (0u8, o.provider.as_uuid().as_u128(), a, b),
                (2u8, patient.as_uuid().as_u128(), va, vb),
            ];
            if let Some(r) = o.room {
                keys.push((1u8, r.as_uuid().as_u128(), a, b));
            }
            for (kind, key, x, y) in keys {
                let v = seen.entry((kind, key)).or_default();
                if v.iter().any(|&(s, e)| s < y && x < e) {
                    return Err(format!(
                        "double booking of a {}",
                        ["provider", "room", "patient"][kind as usize]
                    ));
                }
                v.push((x, y));
            }
            if let Some(eq) = o.equipment {
                let units = self
                    .types
                    .get(&o.appointment_type)
                    .and_then(|t| t.equipment.as_ref())
                    .map_or(1, |e| e.1);
                let u = eq_use
                    .entry(eq.as_uuid().as_u128())
                    .or_insert_with(|| vec![0; self.slots]);
                for x in &mut u[va..vb] {
                    *x += units;
                }
            }
        }
        for pool in &self.pools {
            if let Some(u) = eq_use.get(&pool.id.as_uuid().as_u128())
                && u.iter().any(|&x| x > pool.count)
            {
                return Err("equipment over-used".to_string());
            }
        }
        Ok(())
    }
}
