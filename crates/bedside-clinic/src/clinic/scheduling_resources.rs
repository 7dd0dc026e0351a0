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
