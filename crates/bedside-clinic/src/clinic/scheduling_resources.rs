//! The scheduling resources of the FHIR face (`Schedule`, `Appointment`), exported by
//! `bedside-schedule`'s FHIR layer from the live schedule, behind the same gates as the JSON
//! API's appointment services.

use super::*;
use bedside_schedule::fhir::{FhirAppointment, FhirSchedule};

/// How far ahead a provider's `Schedule` plans: the window the slot search uses by default.
pub const SCHEDULE_HORIZON_DAYS: i64 = 14;

impl Clinic {
    /// The `Schedule` of every provider, in directory order (public: no patient data).
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the schedule is not loaded.
    pub fn provider_schedules(&self) -> Result<Vec<FhirSchedule>, ClinicError> {
        let horizon = self.schedule_horizon()?;
        let inner = self.read();
        let s = inner.state.schedule()?;
        Ok((0..s.providers().len())
            .filter_map(|i| bedside_schedule::fhir::provider_schedule_to_fhir(s, i, horizon))
            .collect())
    }

    /// The `Schedule` of provider `id` (public: no patient data).
    ///
    /// # Errors
    /// Not found for an unknown provider.
    pub fn provider_schedule(&self, id: ProviderId) -> Result<FhirSchedule, ClinicError> {
        let horizon = self.schedule_horizon()?;
        let inner = self.read();
        let s = inner.state.schedule()?;
        s.providers()
            .iter()
            .position(|p| p.id == id)
            .and_then(|i| bedside_schedule::fhir::provider_schedule_to_fhir(s, i, horizon))
            .ok_or(ClinicError::NotFound { kind: "schedule" })
    }

    fn schedule_horizon(&self) -> Result<Period, ClinicError> {
        let now = self.now();
        now.checked_add_signed(TimeDelta::days(SCHEDULE_HORIZON_DAYS))
            .and_then(|end| Period::new(now, end).ok())
            .ok_or_else(|| ClinicError::bad("schedule horizon out of range"))
    }

    /// Appointment `id` as a FHIR resource, for whoever may read that patient's appointments
    /// ([`Clinic::appointments`]: the same gate, consent decision and audit entry). Someone
    /// else's appointment is not found to a patient or proxy, exactly like a missing one.
    ///
    /// # Errors
    /// Not found; unauthenticated; forbidden.
    pub fn appointment_resource(
        &self,
        endpoint: Endpoint,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<FhirAppointment, ClinicError> {
        let patient = self.permit_appointment(endpoint, principal, id)?;
        let mut found = self.appointment_resources(principal, patient)?;
        found.retain(|a| a.id.as_deref() == Some(id.to_string().as_str()));
        found.pop().ok_or(ClinicError::NotFound {
            kind: "appointment",
        })
    }

    /// A patient's appointments as FHIR resources, through [`Clinic::appointments`] (its gate,
    /// consent decision and audit entry), oldest start first.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn appointment_resources(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Vec<FhirAppointment>, ClinicError> {
        let mut views = self.appointments(principal, patient)?;
        views.sort_by_key(|v| (v.start, v.id));
        let inner = self.read();
        let s = inner.state.schedule()?;
        Ok(views
            .iter()
            .filter_map(|v| bedside_schedule::fhir::schedule_appointment_to_fhir(s, v.id))
            .collect())
    }
}

/// A free slot the FHIR face serves: its id ([`Clinic::slot_option`] reads it back), the
/// option, and its FHIR export.
#[derive(Debug, Clone)]
pub struct ServedSlot {
    /// The slot's id: `{type}.{start as YYYYMMDDHHMM, UTC}.{provider index}.{room index or x}`.
    pub id: String,
    /// The option it stands for.
    pub option: SlotOption,
    /// The `Slot` resource (without its id).
    pub resource: bedside_schedule::fhir::FhirSlot,
}

/// Longest FHIR id (R4: 1 to 64 of `A-Z a-z 0-9 - .`).
const MAX_FHIR_ID: usize = 64;

/// The id of `option` in `schedule`, when it fits a FHIR id.
fn slot_id(schedule: &Schedule, option: &SlotOption) -> Option<String> {
    let provider = schedule
        .providers()
        .iter()
        .position(|p| p.id == option.provider)?;
    let room = match option.room {
        Some(r) => schedule.rooms().iter().position(|x| x.id == r)?.to_string(),
        None => "x".into(),
    };
    let start = option.period.start().format("%Y%m%d%H%M");
    let id = format!("{}.{start}.{provider}.{room}", option.appointment_type);
    let fhir_id = id.len() <= MAX_FHIR_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    fhir_id.then_some(id)
}

fn served(s: &Schedule, option: SlotOption) -> Option<ServedSlot> {
    let id = slot_id(s, &option)?;
    let resource = bedside_schedule::fhir::slot_to_fhir(s, &option)?;
    Some(ServedSlot {
        id,
        option,
        resource,
    })
}

impl Clinic {
    /// Free slots as FHIR `Slot`s with stable ids: [`Clinic::find_slots`] (the same booking
    /// window and rules as `/v1/slots`), each named so that [`Clinic::slot_option`] finds the
    /// option again. An option whose id would not fit a FHIR id (an appointment type code
    /// too long for one) is left out.
    ///
    /// # Errors
    /// As [`Clinic::find_slots`].
    pub fn slot_resources(&self, search: &SlotSearch) -> Result<Vec<ServedSlot>, ClinicError> {
        let options = self.find_slots(search)?;
        let inner = self.read();
        let s = inner.state.schedule()?;
        Ok(options
            .into_iter()
            .filter_map(|option| served(s, option))
            .collect())
    }

    /// The served form of one option (a held or booked one, say), when it has a FHIR id.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the schedule is not loaded.
    pub fn served_slot(&self, option: SlotOption) -> Result<Option<ServedSlot>, ClinicError> {
        let inner = self.read();
        Ok(served(inner.state.schedule()?, option))
    }

    /// The option a slot id of [`Clinic::slot_resources`] names. Only its shape is checked
    /// here: booking and holding re-derive the option from the slot search, so an edited id
    /// (another start, provider or room, a time in the past) names nothing bookable.
    ///
    /// # Errors
    /// Bad request for what is not a slot id; conflict for one that names no provider, room
    /// or appointment type of this clinic (as for an option the search never offered).
    pub fn slot_option(&self, id: &str) -> Result<SlotOption, ClinicError> {
        let malformed = || ClinicError::bad("slot: not a slot id of this server");
        let not_offered = || ClinicError::conflict("option: not offered by the slot search");
        if id.len() > MAX_FHIR_ID {
            return Err(malformed());
        }
        let mut parts = id.rsplitn(4, '.');
        let (Some(room), Some(provider), Some(start), Some(kind)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let start = chrono::NaiveDateTime::parse_from_str(start, "%Y%m%d%H%M")
            .map_err(|_| malformed())?
            .and_utc();
        let provider: usize = provider.parse().map_err(|_| malformed())?;
        let room: Option<usize> = match room {
            "x" => None,
            r => Some(r.parse().map_err(|_| malformed())?),
        };
        let inner = self.read();
        let s = inner.state.schedule()?;
        let t = s.appointment_type(kind).ok_or_else(not_offered)?;
        let provider = s.providers().get(provider).ok_or_else(not_offered)?.id;
        let room = match room {
            Some(i) => Some(s.rooms().get(i).ok_or_else(not_offered)?.id),
            None => None,
        };
        let end = start
            .checked_add_signed(TimeDelta::minutes(i64::from(t.duration_minutes)))
            .ok_or_else(not_offered)?;
        Ok(SlotOption {
            appointment_type: t.code.clone(),
            provider,
            room,
            equipment: None,
            period: Period::new(start, end).map_err(|_| not_offered())?,
            score: 0,
        })
    }

    /// Cancels appointment `id` if it is still at `version` (the FHIR face's update, whose
    /// comparison and `If-Match` were made against that version): the check and the
    /// cancellation happen under one lock, so nothing can change in between.
    ///
    /// # Errors
    /// As [`Clinic::cancel`]; conflict when the appointment is no longer at `version`.
    pub fn cancel_at_version(
        &self,
        principal: &Principal,
        id: AppointmentId,
        version: u32,
    ) -> Result<StatusChange, ClinicError> {
        let mut inner = self.lock();
        self.permit_appointment_locked(&inner, Endpoint::Cancel, principal, id)?;
        let current = inner.state.schedule()?.appointment(id).map(|a| a.version);
        if current != Some(version) {
            return Err(ClinicError::conflict("version conflict"));
        }
        let by = self.actor(principal);
        self.execute_locked(&mut inner, Cancel { id, by })
    }
}
