//! Clinic scheduling: availability, slot search, safe booking, an optimising solver, reminders and SMS replies.
//!
//! - [`solver`]: batch optimisation ([`solver::solve`]) with a lexicographic [`solver::Score`]
//!   and per-request explanations; [`clinic_slots`] reads the `clinic-slots-v1` benchmark.
//!
//! ```
//! use bedside_schedule::solver::{solve, IterationBudget, Problem, SolverConfig, SolverProvider, SolverRequest, Weights};
//!
//! let provider = SolverProvider { available: vec![u128::from(u32::MAX)] };
//! let mut request = SolverRequest::new(2, vec![0]);
//! request.preferred_window = Some((4, 6));
//! let problem = Problem::new(1, 32, vec![provider], vec![request], Weights::default())?;
//! let solution = solve(&problem, &SolverConfig::default(), &mut IterationBudget(100))?;
//! assert_eq!(solution.score.objective(), 0);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod calendar;
pub mod clinic;
pub mod clinic_slots;
mod error;
pub mod fhir;
pub mod reminders;
pub mod replies;
pub mod solver;
mod status;

pub use calendar::{Calendar, CalendarException, ExceptionKind, WeeklyBlock, WeeklyTemplate};
pub use chrono_tz::Tz;
pub use clinic::{
    Appointment, AppointmentType, CancelReason, EquipmentId, EquipmentPool, GridConfig, HoldId,
    Offer, OverbookPolicy, Preferences, Provider, RepairReport, RepairWeights, Room, Schedule,
    SlotOption, SlotQuery, VisitKind, VisitMode, WaitlistEntry, WaitlistEntryId,
};
pub use error::ScheduleError;
pub use replies::{ReplyIntent, parse_reply};
pub use status::AppointmentStatus;
