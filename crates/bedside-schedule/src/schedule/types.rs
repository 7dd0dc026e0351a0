//! The plain data of a schedule: grid, resources, appointment types, queries, options,
//! appointments and their history, waitlist entries, overbooking and repair settings.

use std::collections::BTreeSet;

use bedside_core::{
    Actor, AppointmentId, PatientId, Period, ProviderId, RoomId, Timestamp, define_id,
};
use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::AppointmentStatus;
use crate::calendar::Calendar;

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
pub enum EncounterMode {
    /// At the clinic: needs a room if the type names a capability.
    InPerson,
    /// Video call: never needs a room.
    Video,
}

/// New patient or follow-up (FHIR `Appointment.appointmentType`, HL7 v2 table 0276).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncounterKind {
    /// First encounter for this problem.
    New,
    /// Follow-up.
    FollowUp,
}

/// An appointment type and its booking rules.
///
/// Build one with [`AppointmentType::new`] and the `with_*` methods; the fields stay public
/// plain data (and keep their serde names, which embedders journal).
///
/// ```
/// use bedside_schedule::{AppointmentType, EncounterKind};
///
/// let t = AppointmentType::new("derm-proc", 30, "derm")
///     .with_room_capability("procedure")
///     .with_equipment("ultrasound", 1)
///     .with_buffers(0, 15)
///     .with_kind(EncounterKind::FollowUp)
///     .with_self_booking_window(120, 60);
/// assert_eq!(t.buffer_after_minutes, 15);
/// assert_eq!(t.max_horizon_days, 60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentType {
    /// Code (e.g. `derm-new`).
    pub code: String,
    /// Length of the encounter.
    pub duration_minutes: u32,
    /// Skill the provider must hold.
    pub skill: String,
    /// Room capability needed (in person only).
    pub room_capability: Option<String>,
    /// Equipment kind and units needed.
    pub equipment: Option<(String, u16)>,
    /// Provider and room time blocked before the encounter.
    pub buffer_before_minutes: u32,
    /// Provider and room time blocked after the encounter.
    pub buffer_after_minutes: u32,
    /// In person or video.
    pub mode: EncounterMode,
    /// New or follow-up.
    pub kind: EncounterKind,
    /// Self-booking: earliest start is this long after the search instant.
    pub min_notice_minutes: u32,
    /// Self-booking: latest start is this many days after the search instant.
    pub max_horizon_days: u32,
}

impl AppointmentType {
    /// Default self-booking horizon of [`AppointmentType::new`], in days.
    pub const DEFAULT_MAX_HORIZON_DAYS: u32 = 90;

    /// A type `code` of `duration_minutes` needing a provider with `skill`: in person, new,
    /// no room, equipment or buffers, no self-booking notice and a
    /// [`DEFAULT_MAX_HORIZON_DAYS`](Self::DEFAULT_MAX_HORIZON_DAYS) horizon.
    pub fn new(code: impl Into<String>, duration_minutes: u32, skill: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            duration_minutes,
            skill: skill.into(),
            room_capability: None,
            equipment: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            mode: EncounterMode::InPerson,
            kind: EncounterKind::New,
            min_notice_minutes: 0,
            max_horizon_days: Self::DEFAULT_MAX_HORIZON_DAYS,
        }
    }

    /// Needs a room with `capability` (when in person).
    #[must_use]
    pub fn with_room_capability(mut self, capability: impl Into<String>) -> Self {
        self.room_capability = Some(capability.into());
        self
    }

    /// Needs `units` of equipment of `kind`.
    #[must_use]
    pub fn with_equipment(mut self, kind: impl Into<String>, units: u16) -> Self {
        self.equipment = Some((kind.into(), units));
        self
    }

    /// Blocks provider and room time before and after the encounter.
    #[must_use]
    pub fn with_buffers(mut self, before_minutes: u32, after_minutes: u32) -> Self {
        self.buffer_before_minutes = before_minutes;
        self.buffer_after_minutes = after_minutes;
        self
    }

    /// In person or video.
    #[must_use]
    pub fn with_mode(mut self, mode: EncounterMode) -> Self {
        self.mode = mode;
        self
    }

    /// New or follow-up.
    #[must_use]
    pub fn with_kind(mut self, kind: EncounterKind) -> Self {
        self.kind = kind;
        self
    }

    /// Self-booking rules: the earliest start is `min_notice_minutes` after the search
    /// instant, the latest `max_horizon_days` after it.
    #[must_use]
    pub fn with_self_booking_window(
        mut self,
        min_notice_minutes: u32,
        max_horizon_days: u32,
    ) -> Self {
        self.min_notice_minutes = min_notice_minutes;
        self.max_horizon_days = max_horizon_days;
        self
    }
}

/// How options are ranked (lower score first); penalties are in minutes of delay.
///
/// `Preferences::default()` ranks by earliest start only; the `prefer_*` methods add one
/// preference each.
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

impl Preferences {
    /// Prefers `provider`; any other costs `penalty_minutes`.
    #[must_use]
    pub fn prefer_provider(mut self, provider: ProviderId, penalty_minutes: i64) -> Self {
        self.provider = Some(provider);
        self.other_provider_penalty_minutes = penalty_minutes;
        self
    }

    /// Prefers local `weekdays`; any other costs `penalty_minutes`.
    #[must_use]
    pub fn prefer_weekdays(mut self, weekdays: Vec<Weekday>, penalty_minutes: i64) -> Self {
        self.weekdays = weekdays;
        self.other_weekday_penalty_minutes = penalty_minutes;
        self
    }

    /// Prefers local starts in `[start_minute, end_minute)` after midnight; others cost
    /// `penalty_minutes`.
    #[must_use]
    pub fn prefer_time_of_day(
        mut self,
        start_minute: u32,
        end_minute: u32,
        penalty_minutes: i64,
    ) -> Self {
        self.time_of_day = Some((start_minute, end_minute));
        self.other_time_penalty_minutes = penalty_minutes;
        self
    }
}

/// Who is booking, which decides whether the appointment type's self-booking rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Booker {
    /// Staff booking: the type's notice and horizon do not apply.
    Staff,
    /// The patient books themselves at `at`: the type's minimum notice and maximum horizon
    /// are measured from that instant.
    Patient {
        /// When the patient searches.
        at: Timestamp,
    },
}

/// A slot-search query.
///
/// ```
/// use bedside_schedule::{Booker, SlotQuery};
/// use bedside_core::Timestamp;
///
/// let at: Timestamp = "2026-06-01T08:00:00Z".parse()?;
/// let q = SlotQuery::new("derm-new", at, at + chrono::TimeDelta::days(7))
///     .booked_by_patient(at)
///     .with_limit(5);
/// assert_eq!(q.booker, Booker::Patient { at });
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQuery {
    /// Appointment type code.
    pub appointment_type: String,
    /// Patient (their own appointments must not overlap).
    pub patient: Option<PatientId>,
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
    /// Staff or the patient (whose bookings follow the type's notice and horizon).
    pub booker: Booker,
}

impl SlotQuery {
    /// Default number of options of [`SlotQuery::new`].
    pub const DEFAULT_LIMIT: usize = 10;

    /// Starts of `appointment_type` between `earliest` and `latest`: any patient, any
    /// provider with the skill, no preferences, [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT)
    /// options, booked by staff.
    pub fn new(
        appointment_type: impl Into<String>,
        earliest: Timestamp,
        latest: Timestamp,
    ) -> Self {
        Self {
            appointment_type: appointment_type.into(),
            patient: None,
            earliest,
            latest,
            providers: Vec::new(),
            preferences: Preferences::default(),
            limit: Self::DEFAULT_LIMIT,
            booker: Booker::Staff,
        }
    }

    /// For `patient`: options overlapping their own appointments are left out.
    #[must_use]
    pub fn for_patient(mut self, patient: PatientId) -> Self {
        self.patient = Some(patient);
        self
    }

    /// Only these providers (empty: all with the skill).
    #[must_use]
    pub fn with_providers(mut self, providers: Vec<ProviderId>) -> Self {
        self.providers = providers;
        self
    }

    /// Ranks by `preferences`.
    #[must_use]
    pub fn with_preferences(mut self, preferences: Preferences) -> Self {
        self.preferences = preferences;
        self
    }

    /// At most `limit` options (capped at [`MAX_OPTIONS`]).
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The patient books themselves at `at`: the type's notice and horizon apply.
    #[must_use]
    pub fn booked_by_patient(mut self, at: Timestamp) -> Self {
        self.booker = Booker::Patient { at };
        self
    }
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
    /// The encounter itself (buffers excluded).
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
        /// Previous period.
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
    /// The encounter took place.
    Fulfilled,
    /// Moved by a repair because the provider became unavailable.
    Repaired {
        /// Previous period.
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
    /// The encounter (buffers excluded).
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
pub(crate) struct Hold {
    pub(crate) option: SlotOption,
    pub(crate) patient: PatientId,
    pub(crate) expires_at: Timestamp,
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
