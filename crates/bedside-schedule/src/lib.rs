//! Clinic scheduling: availability, slot search, safe booking, an optimising solver, reminders and SMS replies.
//!
//! - [`calendar`]: a resource's [`Calendar`] in an IANA zone — [`WeeklyTemplate`]s with
//!   effective dates, recurring blocked time and dated [`CalendarException`]s — resolved into
//!   UTC periods that are correct across DST changes.
//! - [`clinic`]: the live [`Schedule`]: [`Provider`]s (skills), [`Room`]s (capabilities),
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
//! ```
//! use bedside_schedule::solver::{solve, IterationBudget, Problem, SolverConfig, SolverProvider, SolverRequest, Weights};
//! use bedside_schedule::{parse_reply, ReplyIntent};
//!
//! // Two 30-minute requests (two slots each) that both want slots 4..6 of the one provider.
//! let provider = SolverProvider { available: vec![u128::from(u32::MAX)] };
//! let mut a = SolverRequest::new(2, vec![0]);
//! a.preferred_window = Some((4, 6));
//! let b = a.clone();
//! let problem = Problem::new(1, 32, vec![provider], vec![a, b], Weights::default())?;
//! let solution = solve(&problem, &SolverConfig::default(), &mut IterationBudget(100))?;
//! // One gets the window, the other sits next to it: two slots outside its window.
//! assert_eq!(solution.score.unscheduled, 0);
//! assert_eq!(solution.score.soft, 2);
//!
//! assert_eq!(parse_reply("yes, but STOP texting me"), ReplyIntent::OptOut);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
    ScheduleSnapshot, SlotOption, SlotQuery, WaitlistEntry, WaitlistEntryId,
};
pub use status::AppointmentStatus;
pub use waitlist_plan::{PlanWindow, WaitlistPlan};
