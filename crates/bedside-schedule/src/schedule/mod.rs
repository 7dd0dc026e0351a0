//! The live schedule of a clinic: resources on a slotted grid, appointment types, slot search
//! (FHIR `$find`), holds (`$hold`), idempotent booking (`$book`), and the booking operations.
//!
//! Time is a grid of `granularity_minutes` slots from an origin instant. Every resource
//! (provider, room) has an availability bitset rasterised from its [`Calendar`] and a busy
//! bitset; equipment pools keep a per-slot use count. Every booking goes through one
//! check-then-mark path, so no resource, pool or patient is ever double-booked (designated
//! overbooking, see [`Schedule::book_overbooked`], is tracked separately and bounded).
//!
//! Where things are: `types` (the plain data), `grid` (instants to slots, calendars to
//! bitsets, marking resources), `search` (`find_slots`), `checks` (is an option bookable),
//! `booking` (holds, book, cancel, reschedule and their request types), `transitions` (the
//! status table: check-in, fulfil, no-show), `waitlist`, `repair`, `overbooking`,
//! `invariants` and `snapshot` (persistence).

mod booking;
mod checks;
mod grid;
mod invariants;
mod overbooking;
mod repair;
mod search;
mod snapshot;
mod transitions;
mod types;
mod waitlist;

pub use booking::{BookHoldRequest, BookRequest, CancelRequest, HoldRequest, RescheduleRequest};
pub use repair::RepairRequest;
pub use snapshot::{HoldSnapshot, SNAPSHOT_VERSION, ScheduleSnapshot};
pub use types::*;
pub use waitlist::{WaitlistAction, WaitlistChange};

use std::collections::{BTreeMap, HashMap};

use bedside_core::{Actor, AppointmentId, PatientId, Period, ProviderId, Timestamp};
use chrono::{Datelike, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::{AppointmentStatus, ScheduleError};
use grid::Track;
use types::Hold;

/// The live schedule: resources, appointment types, appointments, holds and the waitlist on
/// one slot grid.
///
/// Not serde: its availability bitsets and busy indices are caches. Store
/// [`Schedule::snapshot`] and reload with [`Schedule::restore`].
///
/// ```
/// use bedside_core::uuid::Uuid;
/// use bedside_core::{Actor, AppointmentId, PatientId, ProviderId, Timestamp};
/// use bedside_schedule::{
///     AppointmentStatus, AppointmentType, BookRequest, Calendar, CancelReason, CancelRequest,
///     EncounterMode, GridConfig, Provider, Schedule, SlotQuery, Tz,
/// };
/// use chrono::{NaiveTime, TimeDelta};
///
/// let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).ok_or("bad time");
/// let origin: Timestamp = "2026-06-01T00:00:00Z".parse()?; // a Monday
/// let grid = GridConfig { origin, granularity_minutes: 15, horizon_days: 7, zone: Tz::UTC };
/// let mut schedule = Schedule::new(grid)?;
/// let gp = ProviderId::from_uuid(Uuid::from_u128(1));
/// schedule.add_provider(Provider {
///     id: gp,
///     skills: ["gp".to_string()].into(),
///     calendar: Calendar::weekdays(Tz::UTC, hm(9)?, hm(12)?)?,
/// })?;
/// // A video encounter needs no room.
/// schedule.add_appointment_type(AppointmentType::new("gp-video", 15, "gp").with_mode(EncounterMode::Video))?;
///
/// let patient = PatientId::from_uuid(Uuid::from_u128(2));
/// let query = SlotQuery::new("gp-video", origin, origin + TimeDelta::days(1)).for_patient(patient);
/// let option = schedule.find_slots(&query)?.remove(0);
/// let desk = Actor::system("front-desk");
/// let id = AppointmentId::from_uuid(Uuid::from_u128(3));
/// schedule.book(&BookRequest::new(&option, patient, "req-1", id), &desk, origin)?;
/// // The same patient cannot be booked twice at once; the next option starts later.
/// assert!(schedule.find_slots(&query)?[0].period.start() >= option.period.end());
///
/// schedule.cancel(&CancelRequest::new(id, CancelReason::Patient), &desk, origin)?;
/// assert_eq!(schedule.appointment(id).map(|a| a.status), Some(AppointmentStatus::Cancelled));
/// assert_eq!(schedule.appointment(id).map(|a| a.version), Some(2));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
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
    /// Periods providers were made unavailable by a repair (not in their calendars).
    unavailable: Vec<(ProviderId, Period)>,
    /// Who added and removed waitlist entries.
    waitlist_history: Vec<WaitlistChange>,
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
            unavailable: Vec::new(),
            waitlist_history: Vec::new(),
        })
    }

    /// The grid.
    pub fn grid(&self) -> &GridConfig {
        &self.grid
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
}
