//! Clinic scheduling: availability, slot search, safe booking, an optimising solver, reminders and SMS replies.
//!
//! - [`calendar`]: a resource's [`Calendar`] in an IANA zone — [`WeeklyTemplate`]s with
//!   effective dates, recurring blocked time and dated [`CalendarException`]s — resolved into
//!   UTC periods that are correct across DST changes.
//! - [`schedule`]: the live [`Schedule`]: [`Provider`]s (skills), [`Room`]s (capabilities),
//!   [`EquipmentPool`]s (counted), [`AppointmentType`]s (duration, buffers, mode, notice and
//!   horizon); [`Schedule::find_slots`] (FHIR `$find`, top-k ranked by [`Preferences`]),
//!   [`Schedule::hold`] / [`Schedule::book_hold`] (`$hold` / `$book`, idempotent by client
//!   token), [`Schedule::cancel`], [`Schedule::reschedule`], [`Schedule::check_in`],
//!   [`Schedule::mark_no_show`] — versioned, [`Actor`](bedside_core::Actor)-attributed, with
//!   FHIR [`AppointmentStatus`]es and no double booking — plus waitlist offers, repair after a
//!   provider becomes unavailable, and bounded overbooking.
//! - [`solver`]: batch optimisation ([`solver::solve`]) by constructive start and
//!   ruin-and-recreate LNS with delta scoring; lexicographic [`solver::Score`] with
//!   per-request [`solver::explain`]ations; [`clinic_slots`] reads the `clinic-slots-v1`
//!   benchmark.
//! - [`reminders`]: reminder plans (offsets, quiet hours, re-plan and withdraw) and message
//!   templates per language; [`replies`]: SMS reply intents ([`parse_reply`]).
//! - [`fhir`]: FHIR R4 `Schedule`, `Slot` and `Appointment` import and export.
//!
//! The everyday journey: working hours, a schedule, a slot search, a booking, a
//! cancellation.
//!
//! ```
//! use bedside_core::{Actor, AppointmentId, PatientId, ProviderId, RoomId, Timestamp};
//! use bedside_schedule::{
//!     AppointmentType, BookRequest, Calendar, CancelReason, CancelRequest, GridConfig, Provider,
//!     Room, Schedule, SlotQuery, Tz,
//! };
//! use bedside_core::uuid::Uuid;
//! use chrono::{NaiveTime, TimeDelta};
//!
//! let uuid = Uuid::from_u128;
//! let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).ok_or("bad time");
//! let zone = Tz::Europe__London;
//! // Two weeks of 15-minute slots from Monday 1 June 2026, 00:00 London (BST).
//! let origin: Timestamp = "2026-05-31T23:00:00Z".parse()?;
//! let mut schedule = Schedule::new(GridConfig { origin, granularity_minutes: 15, horizon_days: 14, zone })?;
//! let provider = ProviderId::from_uuid(uuid(1));
//! schedule.add_provider(Provider {
//!     id: provider,
//!     skills: ["derm".to_string()].into(),
//!     calendar: Calendar::weekdays(zone, hm(9)?, hm(17)?)?.with_weekday_break(hm(12)?, hm(13)?)?,
//! })?;
//! schedule.add_room(Room {
//!     id: RoomId::from_uuid(uuid(2)),
//!     capabilities: ["exam".to_string()].into(),
//!     calendar: Calendar::weekdays(zone, hm(8)?, hm(18)?)?,
//! })?;
//! schedule.add_appointment_type(AppointmentType::new("derm-new", 30, "derm").with_room_capability("exam"))?;
//!
//! // A patient searches on Sunday for the first week and books the earliest option.
//! let at: Timestamp = "2026-05-31T12:00:00Z".parse()?;
//! let patient = PatientId::from_uuid(uuid(3));
//! let query = SlotQuery::new("derm-new", at, at + TimeDelta::days(7)).for_patient(patient).booked_by_patient(at);
//! let options = schedule.find_slots(&query)?;
//! assert_eq!(options[0].period.start(), "2026-06-01T08:00:00Z".parse::<Timestamp>()?); // 09:00 BST
//! let me = Actor::Patient { patient };
//! let id = schedule.book(&BookRequest::new(&options[0], patient, "checkout-1", AppointmentId::from_uuid(uuid(4))), &me, at)?;
//!
//! // Cancelling frees the time again.
//! let freed = schedule.cancel(&CancelRequest::new(id, CancelReason::Patient), &me, at)?;
//! assert_eq!(schedule.find_slots(&query)?[0].period, freed.period);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The batch solver's example is in [`solver`]; SMS replies read as `parse_reply("yes, but
//! STOP texting me") == ReplyIntent::OptOut` (see [`replies`]).
//!
//! # Attribution
//!
//! Every change a person makes to an appointment takes the acting
//! [`Actor`](bedside_core::Actor) and an `at` instant, and is recorded in the appointment's
//! versioned history ([`Appointment::history`]): [`Schedule::book`], [`Schedule::book_hold`],
//! [`Schedule::book_overbooked`], [`Schedule::cancel`], [`Schedule::reschedule`],
//! [`Schedule::check_in`], [`Schedule::fulfil`], [`Schedule::mark_no_show`] and
//! [`Schedule::repair_unavailable`] (each moved or unplaced appointment records the actor);
//! [`Schedule::add_to_waitlist`] and [`Schedule::remove_from_waitlist`] record theirs in
//! [`Schedule::waitlist_history`]. The crate never reads a clock: every operation takes
//! `at`. These `&mut self` methods take no Actor:
//!
//! - [`Schedule::add_provider`], [`Schedule::add_room`], [`Schedule::add_equipment`],
//!   [`Schedule::add_appointment_type`], [`Schedule::set_overbook_policy`]: configuration of
//!   the clinic, not a change to any patient's care; the embedder attributes its setup.
//! - [`Schedule::hold`] and [`Schedule::expire_holds`]: a hold is a transient reservation
//!   during checkout that leaves no record; it becomes attributable when booked.
//! - `Calendar::add_*` and the `with_*` builders: values not yet stored in a schedule.
//!
//! # Persistence
//!
//! - [`Schedule`]: not serde, because it holds availability bitsets, busy indices and
//!   per-slot tables derived from its state. Store [`Schedule::snapshot`] (a plain serde
//!   [`ScheduleSnapshot`]: grid, resources, types, policy, repair unavailability,
//!   appointments with their history, holds, client tokens, waitlist and its history) and
//!   reload with
//!   [`Schedule::restore`], which rebuilds the caches and checks the no-double-booking
//!   invariant. For 2 providers and 1 room over 28 days of 15-minute slots the JSON snapshot
//!   is 2.0 KB empty and 24.5 KB with 40 appointments (most of it their history), against
//!   25.9 KB and 52.1 KB for the former serde form of the whole schedule with its caches.
//! - [`Calendar`], [`AppointmentType`], [`Provider`], [`Room`], [`EquipmentPool`],
//!   [`SlotOption`], [`Appointment`], [`WaitlistEntry`]: serde derives; their field names
//!   are a compatibility promise (embedders journal them).
//! - Reminder plans ([`reminders`]) and solver [`solver::Problem`]s are plain serde values.
//! - Requests ([`BookRequest`], [`CancelRequest`], …) borrow their inputs and are built per
//!   call, not stored.

pub mod calendar;
pub mod clinic_slots;
mod error;
pub mod fhir;
pub mod reminders;
pub mod replies;
pub mod schedule;
pub mod solver;
mod status;
pub mod waitlist_plan;

pub use calendar::{Calendar, CalendarException, ExceptionKind, WeeklyBlock, WeeklyTemplate};
pub use chrono_tz::Tz;
pub use error::{MAX_LISTED_CODES, ScheduleError};
pub use replies::{ReplyIntent, parse_reply};
pub use schedule::{
    Appointment, AppointmentType, BookHoldRequest, BookRequest, Booker, CancelReason,
    CancelRequest, Change, EncounterKind, EncounterMode, EquipmentId, EquipmentPool, GridConfig,
    HistoryEntry, HoldId, HoldRequest, HoldSnapshot, Offer, OverbookPolicy, Preferences, Provider,
    RepairReport, RepairRequest, RepairWeights, RescheduleRequest, Room, Schedule,
    ScheduleSnapshot, SlotOption, SlotQuery, WaitlistAction, WaitlistChange, WaitlistEntry,
    WaitlistEntryId,
};
pub use status::AppointmentStatus;
pub use waitlist_plan::{PlanWindow, WaitlistPlan};
