//! Import: JSON → [`FhirResource`], element by element through [`Reader`], so whatever is
//! not modelled stays in each resource's `unmodelled` map.

use bedside_fhir::{ElementPath, FhirDateTime, FhirError, Imported, Limits, Reader, Reference};
use serde_json::{Map, Value};

use super::{
    FhirAppointment, FhirParticipant, FhirResource, FhirSchedule, FhirSlot, ParticipantRequired,
    ParticipantStatus, SlotStatus,
};
use crate::AppointmentStatus;

/// Imports one `Schedule`, `Slot` or `Appointment` from parsed JSON, after checking it
/// against [`Limits::default`].
///
/// # Errors
/// A [`FhirError`] at the element path of the first problem: a wrong `resourceType`, a
/// required element missing or of the wrong type, a code outside a required binding, or an
/// R4 invariant broken (`end` before `start`, a participant with neither `type` nor `actor`,
/// a booked appointment without times). No error carries input text.
pub fn import(value: &Value) -> Result<FhirResource, FhirError> {
    import_with_notes(value).map(|i| i.value)
}

/// Imports one resource from bytes, with the paths of the elements kept unmodelled.
///
/// # Errors
/// As [`import`], plus the input errors of [`Limits::parse_resource`].
pub fn import_bytes(bytes: &[u8]) -> Result<Imported<FhirResource>, FhirError> {
    let map = Limits::default().parse_resource(bytes)?;
    import_map(map)
}

fn import_with_notes(value: &Value) -> Result<Imported<FhirResource>, FhirError> {
    Limits::default().check(value)?;
    match value {
        Value::Object(map) => import_map(map.clone()),
        _ => Err(FhirError::wrong_type(&ElementPath::default(), "an object")),
    }
}

fn import_map(map: Map<String, Value>) -> Result<Imported<FhirResource>, FhirError> {
    let kind = map
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut notes = Vec::new();
    let value = match kind.as_str() {
        "Schedule" => FhirResource::Schedule(schedule(reader(map, "Schedule", &mut notes))?),
        "Slot" => FhirResource::Slot(slot(reader(map, "Slot", &mut notes))?),
        "Appointment" => FhirResource::Appointment(Box::new(appointment(reader(
            map,
            "Appointment",
            &mut notes,
        ))?)),
        _ => {
            let problem = bedside_fhir::Problem::WrongResourceType {
                expected: "Schedule, Slot or Appointment",
            };
            return Err(FhirError::new(ElementPath::parse("resourceType"), problem));
        }
    };
    Ok(Imported {
        value,
        unmodelled: notes,
    })
}

fn reader<'n>(map: Map<String, Value>, kind: &str, notes: &'n mut Vec<ElementPath>) -> Reader<'n> {
    let mut r = Reader::new(map, ElementPath::root(kind), notes);
    let _ = r.take("resourceType");
    r
}

/// `meta`, unless it is an empty object (which export would not write back).
fn meta(r: &mut Reader<'_>) -> Option<bedside_fhir::Meta> {
    let empty = r
        .peek("meta")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty);
    if empty { None } else { r.meta("meta") }
}

/// A required instant: absent is [`bedside_fhir::Problem::Missing`].
fn require_instant(r: &mut Reader<'_>, key: &str) -> Result<FhirDateTime, FhirError> {
    r.require_parsed(key, "a FHIR instant", FhirDateTime::parse_instant)
}

/// Refuses an end before its start (both instants, so both have a start).
fn check_order(
    r: &Reader<'_>,
    key: &str,
    start: Option<&FhirDateTime>,
    end: Option<&FhirDateTime>,
) -> Result<(), FhirError> {
    let (Some(a), Some(b)) = (
        start.and_then(FhirDateTime::start),
        end.and_then(FhirDateTime::start),
    ) else {
        return Ok(());
    };
    if b < a {
        return Err(FhirError::rejected(&r.child_path(key), "end before start"));
    }
    Ok(())
}

/// A non-empty array of references that R4 requires (`Schedule.actor`).
fn require_references(r: &mut Reader<'_>, key: &str) -> Result<Vec<Reference>, FhirError> {
    let refs = r.try_objects(key, |o| Ok(Reference::read(o)))?;
    if refs.is_empty() {
        return Err(FhirError::missing(&r.child_path(key)));
    }
    Ok(refs)
}

fn schedule(mut r: Reader<'_>) -> Result<FhirSchedule, FhirError> {
    let actor = require_references(&mut r, "actor")?;
    let planning_horizon = r.period("planningHorizon");
    if let Some(h) = &planning_horizon {
        let at = ElementPath::root("Schedule").child("planningHorizon");
        let (start, end) = (
            h.start.as_ref().and_then(FhirDateTime::start),
            h.end.as_ref(),
        );
        // A horizon's end is inclusive at its precision, so compare with its exclusive end.
        if let (Some(a), Some(b)) = (start, end.and_then(FhirDateTime::end_exclusive))
            && b < a
        {
            return Err(FhirError::rejected(&at.child("end"), "end before start"));
        }
    }
    Ok(FhirSchedule {
        id: r.string("id"),
        meta: meta(&mut r),
        text: r.narrative("text"),
        identifier: r.identifiers("identifier"),
        active: r.boolean("active"),
        service_category: r.concepts("serviceCategory"),
        service_type: r.concepts("serviceType"),
        specialty: r.concepts("specialty"),
        actor,
        planning_horizon,
        comment: r.sensitive("comment"),
        unmodelled: r.finish(),
    })
}

fn slot(mut r: Reader<'_>) -> Result<FhirSlot, FhirError> {
    let status = r.require_parsed("status", "a slot status code", SlotStatus::from_code)?;
    let schedule = match r.peek("schedule") {
        None => return Err(FhirError::missing(&r.child_path("schedule"))),
        Some(v) if !v.is_object() => {
            return Err(FhirError::wrong_type(
                &r.child_path("schedule"),
                "an object",
            ));
        }
        Some(_) => r.reference("schedule").unwrap_or_default(),
    };
    let start = require_instant(&mut r, "start")?;
    let end = require_instant(&mut r, "end")?;
    check_order(&r, "end", Some(&start), Some(&end))?;
    Ok(FhirSlot {
        id: r.string("id"),
        meta: meta(&mut r),
        text: r.narrative("text"),
        identifier: r.identifiers("identifier"),
        service_category: r.concepts("serviceCategory"),
        service_type: r.concepts("serviceType"),
        specialty: r.concepts("specialty"),
        appointment_type: r.concept("appointmentType"),
        schedule,
        status,
        start,
        end,
        overbooked: r.boolean("overbooked"),
        comment: r.sensitive("comment"),
        unmodelled: r.finish(),
    })
}

fn participant(mut r: Reader<'_>) -> Result<FhirParticipant, FhirError> {
    let status = r.require_parsed(
        "status",
        "a participant status code",
        ParticipantStatus::from_code,
    )?;
    let kind = r.concepts("type");
    let actor = r.reference("actor");
    // app-1; a `type` kept unmodelled (not exactly representable) still counts.
    if actor.is_none() && kind.is_empty() && !r.has("type") && !r.has("actor") {
        return Err(FhirError::rejected(
            r.path(),
            "a participant needs a type or an actor",
        ));
    }
    Ok(FhirParticipant {
        kind,
        actor,
        required: r.parsed("required", ParticipantRequired::from_code),
        status,
        period: r.period("period"),
        unmodelled: r.finish(),
    })
}

fn appointment(mut r: Reader<'_>) -> Result<FhirAppointment, FhirError> {
    let status = r.require_parsed(
        "status",
        "an appointment status code",
        AppointmentStatus::from_code,
    )?;
    let start = r.try_parsed("start", "a FHIR instant", FhirDateTime::parse_instant)?;
    let end = r.try_parsed("end", "a FHIR instant", FhirDateTime::parse_instant)?;
    if start.is_some() != end.is_some() {
        return Err(FhirError::rejected(
            r.path(),
            "start and end are both present or both absent",
        ));
    }
    let may_lack_times = matches!(
        status,
        AppointmentStatus::Proposed | AppointmentStatus::Cancelled | AppointmentStatus::Waitlist
    );
    if start.is_none() && !may_lack_times {
        return Err(FhirError::rejected(
            &r.child_path("start"),
            "only proposed, cancelled or waitlisted appointments may lack start and end",
        ));
    }
    check_order(&r, "end", start.as_ref(), end.as_ref())?;
    let participant = r.try_objects("participant", participant)?;
    if participant.is_empty() {
        return Err(FhirError::missing(&r.child_path("participant")));
    }
    Ok(FhirAppointment {
        id: r.string("id"),
        meta: meta(&mut r),
        text: r.narrative("text"),
        identifier: r.identifiers("identifier"),
        status,
        cancelation_reason: r.concept("cancelationReason"),
        service_category: r.concepts("serviceCategory"),
        service_type: r.concepts("serviceType"),
        specialty: r.concepts("specialty"),
        appointment_type: r.concept("appointmentType"),
        reason_code: r.concepts("reasonCode"),
        reason_reference: r.references("reasonReference"),
        priority: r.uint("priority"),
        description: r.sensitive("description"),
        supporting_information: r.references("supportingInformation"),
        start,
        end,
        minutes_duration: r.uint("minutesDuration"),
        slot: r.references("slot"),
        created: r.date_time("created"),
        comment: r.sensitive("comment"),
        patient_instruction: r.sensitive("patientInstruction"),
        based_on: r.references("basedOn"),
        participant,
        requested_period: r.objects("requestedPeriod", bedside_fhir::Period::read),
        unmodelled: r.finish(),
    })
}
