//! Export: the live schedule → FHIR. Every resource written here is valid R4 whatever state
//! the domain API reached: required elements are derived from the domain (participant
//! statuses from the appointment's status and history, the cancellation reason from who
//! cancelled and why), and every code carries its system.

use bedside_core::{Actor, CodeableConcept, Coding, Period as DomainPeriod, Timestamp};
use bedside_fhir::codes::code_system_url;
use bedside_fhir::{FhirDateTime, Meta, Period, Reference, Unmodelled};

use super::{
    FhirAppointment, FhirParticipant, FhirSchedule, FhirSlot, ParticipantRequired,
    ParticipantStatus, SlotStatus,
};
use crate::schedule::{Appointment, AppointmentType, Change, Schedule, SlotQuery};
use crate::{AppointmentStatus, CancelReason, EncounterKind};

/// HL7's code system of `Appointment.cancelationReason`.
const CANCELLATION_REASON: &str =
    "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason";
/// HL7 v2 table 0276 (appointment reason codes), bound to `appointmentType`.
const V2_0276: &str = "http://terminology.hl7.org/CodeSystem/v2-0276";
/// HL7 v3 participation types, used for `participant.type`.
const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

/// An instant as FHIR text, or `None` when its year has no four-digit FHIR form.
fn instant(t: Timestamp) -> Option<FhirDateTime> {
    FhirDateTime::parse_instant(FhirDateTime::from_instant(t).as_str())
}

/// Whether `code` has the R4 `code` form: no leading, trailing or double whitespace.
fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .split(' ')
            .all(|w| !w.is_empty() && !w.contains(char::is_whitespace))
}

/// A concept of one Bedside code; a text that is not a valid code goes into `text`, so the
/// export stays valid and nothing is lost.
fn bedside_concept(system: &str, code: &str) -> Option<CodeableConcept> {
    if is_code(code) {
        Some(CodeableConcept {
            coding: vec![Coding::new(code_system_url(system), code)],
            text: None,
        })
    } else if code.trim().is_empty() {
        None
    } else {
        Some(CodeableConcept {
            coding: Vec::new(),
            text: Some(code.to_string()),
        })
    }
}

fn coding(system: &str, code: &str, display: &str) -> Coding {
    let mut c = Coding::new(system, code);
    c.display = Some(display.to_string());
    c
}

/// The last cancellation in the history, with who made it.
fn last_cancellation(ap: &Appointment) -> Option<(CancelReason, &Actor)> {
    ap.history.iter().rev().find_map(|h| match h.change {
        Change::Cancelled { reason } => Some((reason, &h.actor)),
        _ => None,
    })
}

/// `cancelationReason`: HL7's code for who cancelled, and Bedside's exact reason.
fn cancelation_reason(reason: CancelReason) -> CodeableConcept {
    let (hl7, display, ours) = match reason {
        CancelReason::Patient => ("pat", "Patient", "patient"),
        CancelReason::Provider => ("prov", "Provider", "provider"),
        CancelReason::Clinic => ("other", "Other", "clinic"),
        CancelReason::Rescheduled => ("other", "Other", "rescheduled"),
        CancelReason::Other => ("other", "Other", "other"),
    };
    CodeableConcept {
        coding: vec![
            coding(CANCELLATION_REASON, hl7, display),
            Coding::new(code_system_url("cancel-reason"), ours),
        ],
        text: None,
    }
}

/// Participant statuses of (patient, provider, room), from the appointment's state.
fn participant_statuses(
    ap: &Appointment,
) -> (ParticipantStatus, ParticipantStatus, ParticipantStatus) {
    use ParticipantStatus::{Accepted, Declined, NeedsAction};
    let cancelled = last_cancellation(ap);
    let by_patient = cancelled.is_some_and(|(reason, actor)| {
        reason == CancelReason::Patient
            || matches!(actor, Actor::Patient { .. } | Actor::Proxy { .. })
    });
    match ap.status {
        AppointmentStatus::Proposed => (NeedsAction, NeedsAction, Accepted),
        AppointmentStatus::Pending => match cancelled {
            // Displaced by a repair: the provider became unavailable.
            Some((CancelReason::Provider, _)) => (NeedsAction, Declined, Accepted),
            _ => (NeedsAction, Accepted, Accepted),
        },
        AppointmentStatus::Waitlist => (Accepted, NeedsAction, Accepted),
        AppointmentStatus::Cancelled => match cancelled {
            Some((CancelReason::Provider, _)) => (Accepted, Declined, Accepted),
            Some((CancelReason::Clinic, _)) if ap.room.is_some() => (Accepted, Accepted, Declined),
            Some((CancelReason::Clinic, _)) => (Accepted, Declined, Accepted),
            _ if by_patient => (Declined, Accepted, Accepted),
            _ => (Accepted, Accepted, Accepted),
        },
        _ => (Accepted, Accepted, Accepted),
    }
}

fn participant(
    kind: Option<Coding>,
    actor: Reference,
    status: ParticipantStatus,
) -> FhirParticipant {
    FhirParticipant {
        kind: kind
            .map(|c| CodeableConcept {
                coding: vec![c],
                text: None,
            })
            .into_iter()
            .collect(),
        actor: Some(actor),
        required: Some(ParticipantRequired::Required),
        status,
        period: None,
        unmodelled: Unmodelled::default(),
    }
}

/// Exports an appointment: status, times, participants with their statuses, the
/// appointment type as `serviceType`, the domain version as `meta.versionId`, and for a
/// cancelled one its `cancelationReason`.
pub fn appointment_to_fhir(ap: &Appointment) -> FhirAppointment {
    let (patient, provider, room) = participant_statuses(ap);
    let mut participants = vec![
        participant(None, Reference::relative("Patient", ap.patient), patient),
        participant(
            Some(coding(PARTICIPATION_TYPE, "ATND", "attender")),
            Reference::relative("Practitioner", ap.provider),
            provider,
        ),
    ];
    if let Some(id) = ap.room {
        participants.push(participant(None, Reference::relative("Location", id), room));
    }
    let (start, end) = match (instant(ap.period.start()), instant(ap.period.end())) {
        (Some(s), Some(e)) => (Some(s), Some(e)),
        _ => (None, None),
    };
    let minutes = u32::try_from(ap.period.duration().num_minutes())
        .ok()
        .filter(|m| *m > 0 && start.is_some());
    let cancelation_reason = (ap.status == AppointmentStatus::Cancelled)
        .then(|| cancelation_reason(last_cancellation(ap).map_or(CancelReason::Other, |(r, _)| r)));
    FhirAppointment {
        id: Some(ap.id.to_string()),
        meta: Some(Meta {
            version_id: Some(ap.version.to_string()),
            ..Meta::default()
        }),
        text: None,
        identifier: Vec::new(),
        status: ap.status,
        cancelation_reason,
        service_category: Vec::new(),
        service_type: bedside_concept("appointment-type", &ap.appointment_type)
            .into_iter()
            .collect(),
        specialty: Vec::new(),
        appointment_type: None,
        reason_code: Vec::new(),
        reason_reference: Vec::new(),
        priority: None,
        description: None,
        supporting_information: Vec::new(),
        start,
        end,
        minutes_duration: minutes,
        slot: Vec::new(),
        created: ap.history.first().and_then(|h| instant(h.at)),
        comment: None,
        patient_instruction: None,
        based_on: Vec::new(),
        participant: participants,
        requested_period: Vec::new(),
        unmodelled: Unmodelled::default(),
    }
}

/// `appointmentType` (HL7 v2 table 0276) of an encounter kind.
fn encounter_kind_concept(kind: EncounterKind) -> CodeableConcept {
    let c = match kind {
        EncounterKind::New => coding(
            V2_0276,
            "ROUTINE",
            "Routine appointment - default if not valued",
        ),
        EncounterKind::FollowUp => coding(
            V2_0276,
            "FOLLOWUP",
            "A follow up visit from a previous appointment",
        ),
    };
    CodeableConcept {
        coding: vec![c],
        text: None,
    }
}

/// Exports appointment `id` of `schedule` as [`appointment_to_fhir`] does, adding what the
/// schedule knows of its type: `appointmentType` (new or follow-up) and the `specialty`
/// (the skill the type needs). `None` when there is no such appointment.
pub fn schedule_appointment_to_fhir(
    schedule: &Schedule,
    id: bedside_core::AppointmentId,
) -> Option<FhirAppointment> {
    let ap = schedule.appointment(id)?;
    let mut out = appointment_to_fhir(ap);
    if let Some(t) = schedule.appointment_type(&ap.appointment_type) {
        describe_type(&mut out.appointment_type, &mut out.specialty, t);
    }
    Some(out)
}

fn describe_type(
    appointment_type: &mut Option<CodeableConcept>,
    specialty: &mut Vec<CodeableConcept>,
    t: &AppointmentType,
) {
    *appointment_type = Some(encounter_kind_concept(t.kind));
    specialty.extend(bedside_concept("skill", &t.skill));
}

/// Exports provider number `provider`'s `Schedule` over `horizon`: the practitioner as
/// actor, their skills as specialties. `None` when there is no such provider.
pub fn provider_schedule_to_fhir(
    schedule: &Schedule,
    provider: usize,
    horizon: DomainPeriod,
) -> Option<FhirSchedule> {
    let p = schedule.providers().get(provider)?;
    let planning_horizon = match (instant(horizon.start()), instant(horizon.end())) {
        (Some(s), Some(e)) => Some(Period::new(Some(s), Some(e))),
        _ => None,
    };
    Some(FhirSchedule {
        id: Some(p.id.to_string()),
        active: Some(true),
        specialty: p
            .skills
            .iter()
            .filter_map(|s| bedside_concept("skill", s))
            .collect(),
        actor: vec![Reference::relative("Practitioner", p.id)],
        planning_horizon,
        ..FhirSchedule::default()
    })
}

/// Exports the free slots of `appointment_type` for provider number `provider` within
/// `horizon`, as FHIR `Slot`s with status `free` (at most `limit`), each pointing at the
/// provider's [`provider_schedule_to_fhir`] schedule.
///
/// # Errors
/// [`crate::ScheduleError::NotFound`] for an unknown provider, or any error of
/// [`Schedule::find_slots`].
pub fn free_slots_to_fhir(
    schedule: &Schedule,
    provider: usize,
    appointment_type: &str,
    horizon: DomainPeriod,
    limit: usize,
) -> Result<Vec<FhirSlot>, crate::ScheduleError> {
    let Some(p) = schedule.providers().get(provider) else {
        return Err(crate::ScheduleError::NotFound { kind: "provider" });
    };
    let q = SlotQuery::new(appointment_type, horizon.start(), horizon.end())
        .with_providers(vec![p.id])
        .with_limit(limit);
    Ok(schedule
        .find_slots(&q)?
        .iter()
        .filter_map(|o| slot_to_fhir(schedule, o))
        .collect())
}

/// Exports one option of [`Schedule::find_slots`] as a FHIR `Slot` with status `free`: its
/// provider's [`provider_schedule_to_fhir`] schedule, the appointment type as `serviceType`,
/// and what the schedule knows of the type (`appointmentType`, `specialty`). No `id`: the
/// embedder names slots. `None` when a time is out of FHIR's range.
pub fn slot_to_fhir(schedule: &Schedule, o: &crate::SlotOption) -> Option<FhirSlot> {
    let mut appointment_type = None;
    let mut specialty = Vec::new();
    if let Some(t) = schedule.appointment_type(&o.appointment_type) {
        describe_type(&mut appointment_type, &mut specialty, t);
    }
    Some(FhirSlot {
        id: None,
        meta: None,
        text: None,
        identifier: Vec::new(),
        service_category: Vec::new(),
        service_type: bedside_concept("appointment-type", &o.appointment_type)
            .into_iter()
            .collect(),
        specialty,
        appointment_type,
        schedule: Reference::relative("Schedule", o.provider),
        status: SlotStatus::Free,
        start: instant(o.period.start())?,
        end: instant(o.period.end())?,
        overbooked: None,
        comment: None,
        unmodelled: Unmodelled::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_r4_form() {
        assert!(is_code("derm-new"));
        assert!(is_code("a b"));
        assert!(!is_code(""));
        assert!(!is_code(" a"));
        assert!(!is_code("a  b"));
        assert!(!is_code("a\tb"));
        assert_eq!(bedside_concept("x", "  "), None);
        assert_eq!(
            bedside_concept("x", " odd ").and_then(|c| c.text),
            Some(" odd ".to_string())
        );
    }
}
