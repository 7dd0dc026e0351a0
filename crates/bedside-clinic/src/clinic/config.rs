//! The clinic's configuration and its set-up command.

use super::*;

/// The clinic's consent policy (minimum necessary, right of access, proxies, break-the-glass).
pub const DEFAULT_POLICY: &str = include_str!("../policy.json");

/// Most options a slot search returns.
pub const MAX_SLOT_RESULTS: usize = 20;

/// Static configuration of a clinic.
#[derive(Debug, Clone)]
pub struct ClinicConfig {
    /// The organisation id used in staff actors.
    pub organisation: OrganisationId,
    /// Name shown in messages.
    pub name: String,
    /// Phone number shown in messages.
    pub phone: String,
    /// Consent policy document (JSON).
    pub policy_json: String,
    /// How long issued tokens live.
    pub token_ttl: TimeDelta,
    /// Most units of one procedure code on one claim line, by code (repeated codes in a
    /// charge request aggregate into units); codes not listed use `default_max_units`.
    pub max_units: BTreeMap<String, u32>,
    /// Per-line unit cap for codes not in `max_units`.
    pub default_max_units: u32,
    /// Most home-vitals uploads one patient may send per day (UTC); more get 429.
    pub vitals_uploads_per_day: u32,
    /// Journaled commands after which [`Clinic::snapshot_due`] says a new state snapshot is
    /// worth writing (start-up replays at most about this many commands after the newest).
    pub snapshot_every: u64,
}

impl Default for ClinicConfig {
    fn default() -> Self {
        Self {
            organisation: OrganisationId::from_uuid(uuid::Uuid::from_u128(0xC11_41C)),
            name: "Riverside Clinic".into(),
            phone: "+1 212 555 0100".into(),
            policy_json: DEFAULT_POLICY.into(),
            token_ttl: TimeDelta::days(30),
            // Office visits are billed once per day (the CMS "medically unlikely edit" is 1).
            max_units: BTreeMap::from([
                ("99213".to_string(), 1),
                ("99214".to_string(), 1),
                ("93000".to_string(), 1),
            ]),
            default_max_units: 4,
            vitals_uploads_per_day: 24,
            snapshot_every: 20_000,
        }
    }
}

/// A provider in the set-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSpec {
    /// Id.
    pub id: ProviderId,
    /// Display name (staff, not PHI).
    pub name: String,
    /// Skill code matched by appointment types.
    pub skill: String,
    /// Working hours, local (start, end), Monday to Friday; lunch 12–13 is blocked.
    pub hours: (u32, u32),
}

/// The clinic set-up: zone, grid, providers, rooms and visit types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupSpec {
    /// Grid (origin, granularity, horizon, zone).
    pub grid: GridConfig,
    /// Providers.
    pub providers: Vec<ProviderSpec>,
    /// Exam rooms (all with the `exam` capability, open 8–18 on weekdays).
    pub rooms: Vec<RoomId>,
    /// Visit types.
    pub appointment_types: Vec<AppointmentType>,
    /// Monitoring plan for discharged patients.
    pub care_plan: CarePlan,
    /// The fee schedule charges are priced from. Journals written before it was part of the
    /// set-up read as [`crate::seed::legacy_fee_schedule`], the schedule they were priced with.
    #[serde(default = "crate::seed::legacy_fee_schedule")]
    pub fees: Vec<FeeLine>,
    /// The payer claims go to. Journals written before it was part of the set-up read as
    /// [`crate::seed::DEMO_PAYER`].
    #[serde(default = "crate::seed::legacy_payer")]
    pub payer: OrganisationId,
}

/// One line of the fee schedule: a CPT/HCPCS code, its price and its plain-words text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// The procedure code (`99213`).
    pub code: String,
    /// The price in cents.
    pub amount_minor: i64,
    /// What the patient's statement calls it.
    pub description: String,
}

impl FeeLine {
    /// A fee line.
    pub fn new(code: &str, amount_minor: i64, description: &str) -> Self {
        Self {
            code: code.to_string(),
            amount_minor,
            description: description.to_string(),
        }
    }
}

impl Apply for SetupSpec {
    type Reply = ();
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<(), ClinicError> {
        let spec = self;
        if st.setup.is_some() {
            return Err(ClinicError::conflict("the clinic is already set up"));
        }
        let schedule = build_schedule(spec)?;
        st.billing.fees = billing_desk_fees(spec)?;
        st.schedule = Some(schedule);
        st.setup = Some(spec.clone());
        Ok(())
    }
}
/// Monday to Friday, `from`:00 to `to`:00 local, in the grid's zone.
pub(super) fn weekday_hours(
    zone: chrono_tz::Tz,
    from: u32,
    to: u32,
) -> Result<Calendar, ClinicError> {
    Ok(Calendar::weekdays(zone, hour(from)?, hour(to)?)?)
}

pub(super) fn hour(h: u32) -> Result<NaiveTime, ClinicError> {
    NaiveTime::from_hms_opt(h, 0, 0).ok_or_else(|| ClinicError::bad("hour out of range"))
}

pub(super) fn build_schedule(spec: &SetupSpec) -> Result<Schedule, ClinicError> {
    let mut s = Schedule::new(spec.grid)?;
    for p in &spec.providers {
        s.add_provider(Provider {
            id: p.id,
            skills: BTreeSet::from([p.skill.clone()]),
            // Lunch is blocked every weekday.
            calendar: weekday_hours(spec.grid.zone, p.hours.0, p.hours.1)?
                .with_weekday_break(hour(12)?, hour(13)?)?,
        })?;
    }
    for r in &spec.rooms {
        s.add_room(Room {
            id: *r,
            capabilities: BTreeSet::from(["exam".to_string()]),
            calendar: weekday_hours(spec.grid.zone, 8, 18)?,
        })?;
    }
    for t in &spec.appointment_types {
        s.add_appointment_type(t.clone())?;
    }
    Ok(s)
}
