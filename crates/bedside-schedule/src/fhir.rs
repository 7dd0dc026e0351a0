//! FHIR R4 `Schedule`, `Slot` and `Appointment`: typed resources that import and export the
//! JSON losslessly for the elements modelled, and conversions from the live [`Schedule`].
//!
//! Free text (narrative, descriptions, comments, displays, identifier values) is held in
//! [`Sensitive`] so it never shows in `Debug`. [`round_trip`] imports one resource and exports
//! it again, reporting whether anything was lost.

use bedside_core::{Instant, Period, Sensitive};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clinic::{Appointment, Schedule, SlotQuery};
use crate::{AppointmentStatus, Preferences};

/// Errors importing FHIR scheduling resources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    /// Occurs when the input is not JSON.
    #[error("not JSON at line {line}, column {column}")]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Occurs when the resource type is not `Schedule`, `Slot` or `Appointment`.
    #[error("unsupported resource type `{resource_type}`")]
    Unsupported {
        /// The type found.
        resource_type: String,
    },
    /// Occurs when the resource does not match the R4 shape or rules; every problem is listed
    /// with its path.
    #[error("invalid resource: {}", problems.join("; "))]
    Invalid {
        /// Problems, each starting with a path such as `participant[1].status`.
        problems: Vec<String>,
    },
}

/// FHIR `Coding` (every element optional, as in R4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirCoding {
    /// Code system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// FHIR `CodeableConcept`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<FhirCoding>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<String>>,
}

/// FHIR `Reference`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirReference {
    /// Literal reference, e.g. `Practitioner/123`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Display text (may name a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Sensitive<String>>,
}

/// FHIR `Identifier`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirIdentifier {
    /// Use.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// System.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Sensitive<String>>,
}

/// FHIR `Period` with the instants kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirPeriod {
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// FHIR R4 `Schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FhirSchedule {
    /// Always `Schedule`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Narrative (opaque, may hold PHI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<Value>>,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<FhirIdentifier>,
    /// Whether in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Service categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_category: Vec<FhirConcept>,
    /// Service types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_type: Vec<FhirConcept>,
    /// Specialties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specialty: Vec<FhirConcept>,
    /// Whose schedule (practitioner, location, device …).
    #[serde(default)]
    pub actor: Vec<FhirReference>,
    /// Period covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planning_horizon: Option<FhirPeriod>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Sensitive<String>>,
}

/// FHIR R4 `Slot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FhirSlot {
    /// Always `Slot`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Narrative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<Value>>,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<FhirIdentifier>,
    /// Service categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_category: Vec<FhirConcept>,
    /// Service types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_type: Vec<FhirConcept>,
    /// Specialties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specialty: Vec<FhirConcept>,
    /// Appointment type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_type: Option<FhirConcept>,
    /// The schedule.
    pub schedule: FhirReference,
    /// `busy | free | busy-unavailable | busy-tentative | entered-in-error`.
    pub status: String,
    /// Start.
    pub start: String,
    /// End.
    pub end: String,
    /// Whether overbooked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overbooked: Option<bool>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Sensitive<String>>,
}

/// One participant of an appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FhirParticipant {
    /// Roles.
    #[serde(default, rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<FhirConcept>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<FhirReference>,
    /// `required | optional | information-only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// `accepted | declined | tentative | needs-action`.
    pub status: String,
    /// When they take part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
}

/// FHIR R4 `Appointment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FhirAppointment {
    /// Always `Appointment`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Narrative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<Value>>,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<FhirIdentifier>,
    /// Status code.
    pub status: AppointmentStatus,
    /// Why cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelation_reason: Option<FhirConcept>,
    /// Service categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_category: Vec<FhirConcept>,
    /// Service types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_type: Vec<FhirConcept>,
    /// Specialties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specialty: Vec<FhirConcept>,
    /// Appointment type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_type: Option<FhirConcept>,
    /// Reasons (coded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_code: Vec<FhirConcept>,
    /// Reasons (references).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_reference: Vec<FhirReference>,
    /// Priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Sensitive<String>>,
    /// Supporting information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supporting_information: Vec<FhirReference>,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Length in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_duration: Option<u32>,
    /// Slots used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slot: Vec<FhirReference>,
    /// When created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Sensitive<String>>,
    /// Instructions for the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_instruction: Option<Sensitive<String>>,
    /// Based on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub based_on: Vec<FhirReference>,
    /// Participants.
    #[serde(default)]
    pub participant: Vec<FhirParticipant>,
    /// Requested periods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested_period: Vec<FhirPeriod>,
}

/// An imported scheduling resource.
#[derive(Debug, Clone, PartialEq)]
pub enum FhirResource {
    /// A schedule.
    Schedule(FhirSchedule),
    /// A slot.
    Slot(FhirSlot),
    /// An appointment.
    Appointment(Box<FhirAppointment>),
}

impl FhirResource {
    /// The resource as FHIR JSON.
    pub fn to_json(&self) -> Value {
        let v = match self {
            FhirResource::Schedule(s) => serde_json::to_value(s),
            FhirResource::Slot(s) => serde_json::to_value(s),
            FhirResource::Appointment(a) => serde_json::to_value(a),
        };
        v.unwrap_or(Value::Null)
    }
}

const SLOT_STATUSES: [&str; 5] = [
    "busy",
    "free",
    "busy-unavailable",
    "busy-tentative",
    "entered-in-error",
];
const PARTICIPANT_STATUSES: [&str; 4] = ["accepted", "declined", "tentative", "needs-action"];
const REQUIRED: [&str; 3] = ["required", "optional", "information-only"];

fn check_instant(path: &str, v: Option<&String>, problems: &mut Vec<String>) -> Option<Instant> {
    let s = v?;
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            problems.push(format!("{path}: not a FHIR instant"));
            None
        }
    }
}

fn check_order(path: &str, a: Option<Instant>, b: Option<Instant>, problems: &mut Vec<String>) {
    if let (Some(a), Some(b)) = (a, b)
        && b < a
    {
        problems.push(format!("{path}: end before start"));
    }
}

/// Imports one resource from a JSON value, checking the R4 rules this crate relies on.
///
/// # Errors
/// [`FhirError::Unsupported`] or [`FhirError::Invalid`] (all problems with paths).
pub fn import(value: &Value) -> Result<FhirResource, FhirError> {
    let rt = value
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let shape = |e: serde_json::Error| FhirError::Invalid {
        problems: vec![format!("shape: {}", strip_position(&e.to_string()))],
    };
    let mut problems = Vec::new();
    let resource = match rt.as_str() {
        "Schedule" => {
            let s: FhirSchedule = serde_json::from_value(value.clone()).map_err(shape)?;
            if s.actor.is_empty() {
                problems.push("actor: at least one required".to_string());
            }
            if let Some(h) = &s.planning_horizon {
                let a = check_instant("planningHorizon.start", h.start.as_ref(), &mut problems);
                let b = check_instant("planningHorizon.end", h.end.as_ref(), &mut problems);
                check_order("planningHorizon", a, b, &mut problems);
            }
            FhirResource::Schedule(s)
        }
        "Slot" => {
            let s: FhirSlot = serde_json::from_value(value.clone()).map_err(shape)?;
            if !SLOT_STATUSES.contains(&s.status.as_str()) {
                problems.push("status: unknown slot status".to_string());
            }
            let a = check_instant("start", Some(&s.start), &mut problems);
            let b = check_instant("end", Some(&s.end), &mut problems);
            check_order("start/end", a, b, &mut problems);
            FhirResource::Slot(s)
        }
        "Appointment" => {
            let a: FhirAppointment = serde_json::from_value(value.clone()).map_err(shape)?;
            if a.participant.is_empty() {
                problems.push("participant: at least one required".to_string());
            }
            for (i, p) in a.participant.iter().enumerate() {
                if !PARTICIPANT_STATUSES.contains(&p.status.as_str()) {
                    problems.push(format!("participant[{i}].status: unknown"));
                }
                if p.required
                    .as_deref()
                    .is_some_and(|r| !REQUIRED.contains(&r))
                {
                    problems.push(format!("participant[{i}].required: unknown"));
                }
                if p.actor.is_none() && p.kind.is_empty() {
                    problems.push(format!("participant[{i}]: needs a type or an actor"));
                }
            }
            let s = check_instant("start", a.start.as_ref(), &mut problems);
            let e = check_instant("end", a.end.as_ref(), &mut problems);
            check_order("start/end", s, e, &mut problems);
            if a.start.is_some() != a.end.is_some() {
                problems.push("start/end: both or neither".to_string());
            }
            let booked_like = matches!(
                a.status,
                AppointmentStatus::Booked
                    | AppointmentStatus::Arrived
                    | AppointmentStatus::Fulfilled
                    | AppointmentStatus::Noshow
                    | AppointmentStatus::CheckedIn
            );
            if booked_like && a.start.is_none() {
                problems
                    .push("start: required unless proposed, cancelled or waitlisted".to_string());
            }
            FhirResource::Appointment(Box::new(a))
        }
        other => {
            return Err(FhirError::Unsupported {
                resource_type: other.chars().take(64).collect(),
            });
        }
    };
    if problems.is_empty() {
        Ok(resource)
    } else {
        Err(FhirError::Invalid { problems })
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(cut) => msg[..cut].to_string(),
        None => msg.to_string(),
    }
}

/// The outcome of importing and re-exporting one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTrip {
    /// Exported JSON equals the input.
    Exact,
    /// Imported, but these top-level or nested paths were not carried over.
    Lossy {
        /// Paths of elements that differ.
        paths: Vec<String>,
    },
}

/// Imports `bytes` as one resource and exports it again.
///
/// # Errors
/// [`FhirError::NotJson`] or any error of [`import`].
pub fn round_trip(bytes: &[u8]) -> Result<(FhirResource, RoundTrip), FhirError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| FhirError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let resource = import(&value)?;
    let out = resource.to_json();
    let mut paths = Vec::new();
    diff("", &value, &out, &mut paths);
    let rt = if paths.is_empty() {
        RoundTrip::Exact
    } else {
        RoundTrip::Lossy { paths }
    };
    Ok((resource, rt))
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if out.len() >= 50 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match y.get(k) {
                    Some(vb) => diff(&p, va, vb, out),
                    None => out.push(p),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                });
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a == b => {}
        _ => out.push(path.to_string()),
    }
}

fn instant_text(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn reference(kind: &str, id: impl std::fmt::Display) -> FhirReference {
    FhirReference {
        reference: Some(format!("{kind}/{id}")),
        display: None,
    }
}

/// Exports a booked appointment.
pub fn appointment_to_fhir(ap: &Appointment) -> FhirAppointment {
    let mut participant = vec![
        FhirParticipant {
            kind: Vec::new(),
            actor: Some(reference("Patient", ap.patient)),
            required: Some("required".into()),
            status: "accepted".into(),
            period: None,
        },
        FhirParticipant {
            kind: Vec::new(),
            actor: Some(reference("Practitioner", ap.provider)),
            required: Some("required".into()),
            status: "accepted".into(),
            period: None,
        },
    ];
    if let Some(room) = ap.room {
        participant.push(FhirParticipant {
            kind: Vec::new(),
            actor: Some(reference("Location", room)),
            required: Some("required".into()),
            status: "accepted".into(),
            period: None,
        });
    }
    FhirAppointment {
        resource_type: "Appointment".into(),
        id: Some(ap.id.to_string()),
        text: None,
        identifier: Vec::new(),
        status: ap.status,
        cancelation_reason: None,
        service_category: Vec::new(),
        service_type: vec![FhirConcept {
            coding: vec![FhirCoding {
                system: Some("urn:bedside:appointment-type".into()),
                code: Some(ap.appointment_type.clone()),
                display: None,
            }],
            text: None,
        }],
        specialty: Vec::new(),
        appointment_type: None,
        reason_code: Vec::new(),
        reason_reference: Vec::new(),
        priority: None,
        description: None,
        supporting_information: Vec::new(),
        start: Some(instant_text(ap.period.start())),
        end: Some(instant_text(ap.period.end())),
        minutes_duration: u32::try_from(ap.period.duration().num_minutes()).ok(),
        slot: Vec::new(),
        created: ap.history.first().map(|h| instant_text(h.at)),
        comment: None,
        patient_instruction: None,
        based_on: Vec::new(),
        participant,
        requested_period: Vec::new(),
    }
}

/// Exports a provider's `Schedule` over `horizon`.
pub fn provider_schedule_to_fhir(
    schedule: &Schedule,
    provider: usize,
    horizon: Period,
) -> Option<FhirSchedule> {
    let p = schedule.providers().get(provider)?;
    Some(FhirSchedule {
        resource_type: "Schedule".into(),
        id: Some(p.id.to_string()),
        text: None,
        identifier: Vec::new(),
        active: Some(true),
        service_category: Vec::new(),
        service_type: Vec::new(),
        specialty: p
            .skills
            .iter()
            .map(|s| FhirConcept {
                coding: vec![FhirCoding {
                    system: Some("urn:bedside:skill".into()),
                    code: Some(s.clone()),
                    display: None,
                }],
                text: None,
            })
            .collect(),
        actor: vec![reference("Practitioner", p.id)],
        planning_horizon: Some(FhirPeriod {
            start: Some(instant_text(horizon.start())),
            end: Some(instant_text(horizon.end())),
        }),
        comment: None,
    })
}

/// Exports the free slots of `appointment_type` for one provider within `horizon`, as FHIR
/// `Slot`s with status `free` (at most `limit`).
///
/// # Errors
/// Any error of [`Schedule::find_slots`].
pub fn free_slots_to_fhir(
    schedule: &Schedule,
    provider: usize,
    appointment_type: &str,
    horizon: Period,
    limit: usize,
) -> Result<Vec<FhirSlot>, crate::ScheduleError> {
    let Some(p) = schedule.providers().get(provider) else {
        return Err(crate::ScheduleError::NotFound { kind: "provider" });
    };
    let q = SlotQuery {
        appointment_type: appointment_type.to_string(),
        patient: None,
        now: horizon.start(),
        earliest: horizon.start(),
        latest: horizon.end(),
        providers: vec![p.id],
        preferences: Preferences::default(),
        limit,
        self_booking: false,
    };
    Ok(schedule
        .find_slots(&q)?
        .into_iter()
        .map(|o| FhirSlot {
            resource_type: "Slot".into(),
            id: None,
            text: None,
            identifier: Vec::new(),
            service_category: Vec::new(),
            service_type: vec![FhirConcept {
                coding: vec![FhirCoding {
                    system: Some("urn:bedside:appointment-type".into()),
                    code: Some(o.appointment_type.clone()),
                    display: None,
                }],
                text: None,
            }],
            specialty: Vec::new(),
            appointment_type: None,
            schedule: reference("Schedule", p.id),
            status: "free".into(),
            start: instant_text(o.period.start()),
            end: instant_text(o.period.end()),
            overbooked: None,
            comment: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPT: &str = r#"{"resourceType":"Appointment","id":"a1","status":"booked",
      "description":"Follow-up of a private matter","start":"2026-06-01T09:00:00Z","end":"2026-06-01T09:30:00Z",
      "participant":[{"actor":{"reference":"Patient/p1","display":"Jane Q Private"},"status":"accepted"},
                     {"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"status":"accepted"}]}"#;

    #[test]
    fn appointment_round_trips_exactly_and_hides_free_text() {
        let (res, rt) = round_trip(APPT.as_bytes()).unwrap();
        assert_eq!(rt, RoundTrip::Exact);
        let dbg = format!("{res:?}");
        assert!(
            !dbg.contains("Jane") && !dbg.contains("private matter"),
            "{dbg}"
        );
    }

    #[test]
    fn unknown_elements_are_reported_as_lossy() {
        let mut v: Value = serde_json::from_str(APPT).unwrap();
        v["extension"] = serde_json::json!([{"url": "x", "valueString": "y"}]);
        let (_, rt) = round_trip(v.to_string().as_bytes()).unwrap();
        assert_eq!(
            rt,
            RoundTrip::Lossy {
                paths: vec!["extension".into()]
            }
        );
    }

    #[test]
    fn invalid_resources_list_every_problem() {
        let bad = r#"{"resourceType":"Appointment","status":"booked","start":"yesterday",
          "participant":[{"status":"maybe","required":"always"}]}"#;
        let Err(FhirError::Invalid { problems }) = round_trip(bad.as_bytes()) else {
            panic!("expected invalid")
        };
        assert_eq!(
            problems,
            vec![
                "participant[0].status: unknown",
                "participant[0].required: unknown",
                "participant[0]: needs a type or an actor",
                "start: not a FHIR instant",
                "start/end: both or neither",
            ]
        );
        assert!(matches!(
            round_trip(b"{\"resourceType\":\"Patient\"}"),
            Err(FhirError::Unsupported { .. })
        ));
        assert!(matches!(
            round_trip(b"{oops"),
            Err(FhirError::NotJson { line: 1, .. })
        ));
        let slot = r#"{"resourceType":"Slot","schedule":{"reference":"Schedule/s"},"status":"open","start":"2026-01-01T10:00:00Z","end":"2026-01-01T09:00:00Z"}"#;
        let Err(FhirError::Invalid { problems }) = round_trip(slot.as_bytes()) else {
            panic!("expected invalid")
        };
        assert_eq!(
            problems,
            vec!["status: unknown slot status", "start/end: end before start"]
        );
    }
}
