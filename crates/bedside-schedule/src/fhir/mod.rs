//! FHIR R4 `Schedule`, `Slot` and `Appointment`: the resource mappings of this crate on the
//! shared [`bedside_fhir`] layer, and exports of the live [`Schedule`](crate::Schedule).
//!
//! Import is lossless: [`import`] takes the elements modelled here and keeps everything else
//! (extensions, `contained`, elements of an unexpected shape) in each resource's
//! [`Unmodelled`], which export merges back. Import fails only when an element the domain
//! cannot do without is missing or invalid (a status, a slot's `schedule`, `start` and `end`,
//! an appointment's participants), and its [`FhirError`] names the element path, never the
//! input text. [`round_trip`] imports and exports one resource and reports any difference.
//!
//! Export from the domain ([`appointment_to_fhir`], [`schedule_appointment_to_fhir`],
//! [`provider_schedule_to_fhir`], [`free_slots_to_fhir`]) always writes the elements R4
//! requires: a cancelled appointment carries its `cancelationReason`, every participant its
//! `status`, and every code its system.
//!
//! ```
//! use bedside_schedule::fhir::{self, FhirResource, RoundTrip};
//! let slot = br#"{"resourceType": "Slot", "schedule": {"reference": "Schedule/s1"},
//!   "status": "free", "start": "2026-06-01T09:00:00Z", "end": "2026-06-01T09:30:00Z",
//!   "extension": [{"url": "https://example.org/x", "valueString": "kept"}]}"#;
//! let (resource, outcome) = fhir::round_trip(slot)?;
//! assert_eq!(outcome, RoundTrip::Exact);
//! assert!(matches!(resource, FhirResource::Slot(_)));
//! let bad = br#"{"resourceType": "Slot", "status": "Ada Lovelace 1985-12-10"}"#;
//! let e = fhir::round_trip(bad).err().ok_or("refused")?;
//! assert_eq!(e.to_string(), "`Slot.status`: expected a slot status code");
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod export;
mod read;

pub use bedside_fhir::FhirError;
pub use export::{
    appointment_to_fhir, free_slots_to_fhir, provider_schedule_to_fhir,
    schedule_appointment_to_fhir, slot_to_fhir,
};
pub use read::{import, import_bytes};

use bedside_core::{CodeableConcept, Sensitive};
use bedside_fhir::{
    FhirDateTime, Identifier, Limits, Meta, Narrative, Period, Reference, Unmodelled, Writer,
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::AppointmentStatus;

/// `Slot.status` (required binding `SlotStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotStatus {
    /// Taken.
    Busy,
    /// Available for booking.
    Free,
    /// Not available.
    BusyUnavailable,
    /// Tentatively taken.
    BusyTentative,
    /// Created in error.
    EnteredInError,
}

const SLOT_STATUSES: &[(SlotStatus, &str)] = &[
    (SlotStatus::Busy, "busy"),
    (SlotStatus::Free, "free"),
    (SlotStatus::BusyUnavailable, "busy-unavailable"),
    (SlotStatus::BusyTentative, "busy-tentative"),
    (SlotStatus::EnteredInError, "entered-in-error"),
];

impl SlotStatus {
    /// The FHIR code.
    pub fn code(&self) -> &'static str {
        bedside_fhir::codes::to_code(SLOT_STATUSES, self)
    }

    /// Parses a FHIR code.
    pub fn from_code(code: &str) -> Option<Self> {
        bedside_fhir::codes::from_code(SLOT_STATUSES, code)
    }
}

/// `Appointment.participant.status` (required binding `ParticipationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantStatus {
    /// Will take part.
    Accepted,
    /// Will not take part.
    Declined,
    /// May take part.
    Tentative,
    /// Has not answered yet.
    NeedsAction,
}

const PARTICIPANT_STATUSES: &[(ParticipantStatus, &str)] = &[
    (ParticipantStatus::Accepted, "accepted"),
    (ParticipantStatus::Declined, "declined"),
    (ParticipantStatus::Tentative, "tentative"),
    (ParticipantStatus::NeedsAction, "needs-action"),
];

impl ParticipantStatus {
    /// The FHIR code.
    pub fn code(&self) -> &'static str {
        bedside_fhir::codes::to_code(PARTICIPANT_STATUSES, self)
    }

    /// Parses a FHIR code.
    pub fn from_code(code: &str) -> Option<Self> {
        bedside_fhir::codes::from_code(PARTICIPANT_STATUSES, code)
    }
}

/// `Appointment.participant.required` (required binding `ParticipantRequired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantRequired {
    /// Must attend.
    Required,
    /// May attend.
    Optional,
    /// Only informed.
    InformationOnly,
}

const REQUIRED: &[(ParticipantRequired, &str)] = &[
    (ParticipantRequired::Required, "required"),
    (ParticipantRequired::Optional, "optional"),
    (ParticipantRequired::InformationOnly, "information-only"),
];

impl ParticipantRequired {
    /// The FHIR code.
    pub fn code(&self) -> &'static str {
        bedside_fhir::codes::to_code(REQUIRED, self)
    }

    /// Parses a FHIR code.
    pub fn from_code(code: &str) -> Option<Self> {
        bedside_fhir::codes::from_code(REQUIRED, code)
    }
}

/// FHIR R4 `Schedule`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FhirSchedule {
    /// Logical id.
    pub id: Option<String>,
    /// Metadata.
    pub meta: Option<Meta>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Business identifiers.
    pub identifier: Vec<Identifier>,
    /// Whether in use.
    pub active: Option<bool>,
    /// Service categories.
    pub service_category: Vec<CodeableConcept>,
    /// Service types.
    pub service_type: Vec<CodeableConcept>,
    /// Specialties.
    pub specialty: Vec<CodeableConcept>,
    /// Whose schedule (practitioner, location, device …); R4 requires at least one.
    pub actor: Vec<Reference>,
    /// Period covered.
    pub planning_horizon: Option<Period>,
    /// Comment.
    pub comment: Option<Sensitive<String>>,
    /// Elements not modelled, written back on export.
    pub unmodelled: Unmodelled,
}

/// FHIR R4 `Slot`.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirSlot {
    /// Logical id.
    pub id: Option<String>,
    /// Metadata.
    pub meta: Option<Meta>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Business identifiers.
    pub identifier: Vec<Identifier>,
    /// Service categories.
    pub service_category: Vec<CodeableConcept>,
    /// Service types.
    pub service_type: Vec<CodeableConcept>,
    /// Specialties.
    pub specialty: Vec<CodeableConcept>,
    /// Appointment type.
    pub appointment_type: Option<CodeableConcept>,
    /// The schedule the slot belongs to.
    pub schedule: Reference,
    /// Status.
    pub status: SlotStatus,
    /// Start (an instant).
    pub start: FhirDateTime,
    /// End (an instant).
    pub end: FhirDateTime,
    /// Whether overbooked.
    pub overbooked: Option<bool>,
    /// Comment.
    pub comment: Option<Sensitive<String>>,
    /// Elements not modelled, written back on export.
    pub unmodelled: Unmodelled,
}

/// One participant of an appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirParticipant {
    /// Roles (`type`).
    pub kind: Vec<CodeableConcept>,
    /// Who.
    pub actor: Option<Reference>,
    /// Whether attendance is required.
    pub required: Option<ParticipantRequired>,
    /// Whether they take part (required in R4).
    pub status: ParticipantStatus,
    /// When they take part.
    pub period: Option<Period>,
    /// Elements not modelled, written back on export.
    pub unmodelled: Unmodelled,
}

/// FHIR R4 `Appointment`.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirAppointment {
    /// Logical id.
    pub id: Option<String>,
    /// Metadata (the domain version is `meta.versionId`).
    pub meta: Option<Meta>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Business identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: AppointmentStatus,
    /// Why cancelled.
    pub cancelation_reason: Option<CodeableConcept>,
    /// Service categories.
    pub service_category: Vec<CodeableConcept>,
    /// Service types.
    pub service_type: Vec<CodeableConcept>,
    /// Specialties.
    pub specialty: Vec<CodeableConcept>,
    /// Appointment type.
    pub appointment_type: Option<CodeableConcept>,
    /// Reasons (coded).
    pub reason_code: Vec<CodeableConcept>,
    /// Reasons (references).
    pub reason_reference: Vec<Reference>,
    /// Priority (0 undefined, 1 highest).
    pub priority: Option<u32>,
    /// Description.
    pub description: Option<Sensitive<String>>,
    /// Supporting information.
    pub supporting_information: Vec<Reference>,
    /// Start (an instant).
    pub start: Option<FhirDateTime>,
    /// End (an instant).
    pub end: Option<FhirDateTime>,
    /// Length in minutes (positive).
    pub minutes_duration: Option<u32>,
    /// Slots used.
    pub slot: Vec<Reference>,
    /// When created.
    pub created: Option<FhirDateTime>,
    /// Comment.
    pub comment: Option<Sensitive<String>>,
    /// Instructions for the patient.
    pub patient_instruction: Option<Sensitive<String>>,
    /// Based on.
    pub based_on: Vec<Reference>,
    /// Participants; R4 requires at least one.
    pub participant: Vec<FhirParticipant>,
    /// Requested periods.
    pub requested_period: Vec<Period>,
    /// Elements not modelled, written back on export.
    pub unmodelled: Unmodelled,
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
        match self {
            FhirResource::Schedule(s) => s.to_json(),
            FhirResource::Slot(s) => s.to_json(),
            FhirResource::Appointment(a) => a.to_json(),
        }
    }
}

/// Writes the elements every resource here shares.
fn header(w: &mut Writer, id: Option<&String>, meta: Option<&Meta>, text: Option<&Narrative>) {
    w.str("id", id.map(String::as_str));
    w.meta("meta", meta);
    w.narrative("text", text);
}

impl FhirSchedule {
    /// The resource as FHIR JSON.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Schedule");
        header(
            &mut w,
            self.id.as_ref(),
            self.meta.as_ref(),
            self.text.as_ref(),
        );
        w.identifiers("identifier", &self.identifier);
        w.boolean("active", self.active);
        w.concepts("serviceCategory", &self.service_category);
        w.concepts("serviceType", &self.service_type);
        w.concepts("specialty", &self.specialty);
        w.references("actor", &self.actor);
        w.period("planningHorizon", self.planning_horizon.as_ref());
        w.sensitive("comment", self.comment.as_ref());
        w.finish(&self.unmodelled)
    }
}

impl FhirSlot {
    /// The resource as FHIR JSON.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Slot");
        header(
            &mut w,
            self.id.as_ref(),
            self.meta.as_ref(),
            self.text.as_ref(),
        );
        w.identifiers("identifier", &self.identifier);
        w.concepts("serviceCategory", &self.service_category);
        w.concepts("serviceType", &self.service_type);
        w.concepts("specialty", &self.specialty);
        w.concept("appointmentType", self.appointment_type.as_ref());
        w.reference("schedule", Some(&self.schedule));
        w.str("status", Some(self.status.code()));
        w.date_time("start", Some(&self.start));
        w.date_time("end", Some(&self.end));
        w.boolean("overbooked", self.overbooked);
        w.sensitive("comment", self.comment.as_ref());
        w.finish(&self.unmodelled)
    }
}

impl FhirParticipant {
    /// The participant as FHIR JSON.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concepts("type", &self.kind);
        w.reference("actor", self.actor.as_ref());
        w.str(
            "required",
            self.required.as_ref().map(ParticipantRequired::code),
        );
        w.str("status", Some(self.status.code()));
        w.period("period", self.period.as_ref());
        w.finish(&self.unmodelled)
    }
}

impl FhirAppointment {
    /// The resource as FHIR JSON.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Appointment");
        header(
            &mut w,
            self.id.as_ref(),
            self.meta.as_ref(),
            self.text.as_ref(),
        );
        w.identifiers("identifier", &self.identifier);
        w.str("status", Some(self.status.code()));
        w.concept("cancelationReason", self.cancelation_reason.as_ref());
        w.concepts("serviceCategory", &self.service_category);
        w.concepts("serviceType", &self.service_type);
        w.concepts("specialty", &self.specialty);
        w.concept("appointmentType", self.appointment_type.as_ref());
        w.concepts("reasonCode", &self.reason_code);
        w.references("reasonReference", &self.reason_reference);
        w.uint("priority", self.priority);
        w.sensitive("description", self.description.as_ref());
        w.references("supportingInformation", &self.supporting_information);
        w.date_time("start", self.start.as_ref());
        w.date_time("end", self.end.as_ref());
        w.uint("minutesDuration", self.minutes_duration);
        w.references("slot", &self.slot);
        w.date_time("created", self.created.as_ref());
        w.sensitive("comment", self.comment.as_ref());
        w.sensitive("patientInstruction", self.patient_instruction.as_ref());
        w.references("basedOn", &self.based_on);
        w.list(
            "participant",
            self.participant
                .iter()
                .map(FhirParticipant::to_json)
                .collect(),
        );
        w.list(
            "requestedPeriod",
            self.requested_period.iter().map(Period::to_json).collect(),
        );
        w.finish(&self.unmodelled)
    }
}

/// Serialises as the FHIR JSON of [`FhirSchedule::to_json`] etc., so `serde_json::to_value`
/// and snapshot tests see exactly what an integrator receives.
macro_rules! serialize_as_fhir {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }
    )*};
}

serialize_as_fhir!(
    FhirSchedule,
    FhirSlot,
    FhirAppointment,
    FhirParticipant,
    FhirResource
);

/// The outcome of importing and re-exporting one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTrip {
    /// Exported JSON equals the input (member order and number formatting aside).
    Exact,
    /// Imported, but the export differs at these paths.
    Lossy {
        /// JSON paths where the export differs (`$.participant[0].status`).
        paths: Vec<String>,
    },
}

/// Imports `bytes` as one resource (within [`Limits::default`]) and exports it again.
///
/// # Errors
/// Any error of [`import_bytes`]; no error carries input text.
pub fn round_trip(bytes: &[u8]) -> Result<(FhirResource, RoundTrip), FhirError> {
    let map = Limits::default().parse_resource(bytes)?;
    let input = Value::Object(map);
    let resource = import(&input)?;
    let paths = bedside_fhir::semantic_diff(&input, &resource.to_json());
    let outcome = if paths.is_empty() {
        RoundTrip::Exact
    } else {
        RoundTrip::Lossy { paths }
    };
    Ok((resource, outcome))
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
    fn unknown_elements_are_kept() {
        let mut v: Value = serde_json::from_str(APPT).unwrap();
        v["extension"] = serde_json::json!([{"url": "x", "valueString": "y"}]);
        v["participant"][0]["required"] = serde_json::json!("sometimes");
        v["serviceType"] = serde_json::json!([{"coding": [{"code": "52"}]}]);
        let (res, rt) = round_trip(v.to_string().as_bytes()).unwrap();
        assert_eq!(rt, RoundTrip::Exact);
        let FhirResource::Appointment(a) = res else {
            panic!("an appointment")
        };
        assert!(a.unmodelled.keys().any(|k| k == "extension"));
        assert_eq!(a.participant[0].required, None);
    }

    fn refused(json: &str) -> String {
        match round_trip(json.as_bytes()) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn refusals_name_the_path() {
        let cases = [
            (
                r#"{"resourceType":"Appointment","status":"booked","start":"yesterday","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"}]}"#,
                "`Appointment.start`: expected a FHIR instant",
            ),
            (
                r#"{"resourceType":"Appointment","status":"proposed","participant":[{"status":"maybe"}]}"#,
                "`Appointment.participant[0].status`: expected a participant status code",
            ),
            (
                r#"{"resourceType":"Appointment","status":"proposed","participant":[{"status":"accepted"}]}"#,
                "`Appointment.participant[0]`: a participant needs a type or an actor",
            ),
            (
                r#"{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"display":"x"},"status":"accepted"}]}"#,
                "`Appointment.start`: only proposed, cancelled or waitlisted appointments may lack start and end",
            ),
            (
                r#"{"resourceType":"Appointment","status":"proposed","start":"2026-01-01T10:00:00Z","participant":[{"actor":{"display":"x"},"status":"accepted"}]}"#,
                "`Appointment`: start and end are both present or both absent",
            ),
            (
                r#"{"resourceType":"Appointment","status":"proposed"}"#,
                "`Appointment.participant`: required element missing",
            ),
            (
                r#"{"resourceType":"Slot","schedule":{"reference":"Schedule/s"},"status":"open","start":"2026-01-01T10:00:00Z","end":"2026-01-01T09:00:00Z"}"#,
                "`Slot.status`: expected a slot status code",
            ),
            (
                r#"{"resourceType":"Slot","schedule":{"reference":"Schedule/s"},"status":"free","start":"2026-01-01T10:00:00Z","end":"2026-01-01T09:00:00Z"}"#,
                "`Slot.end`: end before start",
            ),
            (
                r#"{"resourceType":"Schedule","actor":[]}"#,
                "`Schedule.actor`: required element missing",
            ),
            (
                r#"{"resourceType":"Patient"}"#,
                "`resourceType`: expected resourceType `Schedule, Slot or Appointment`",
            ),
            ("{oops", "``: not JSON (line 1, column 2)"),
        ];
        for (json, expected) in cases {
            assert_eq!(refused(json), expected, "{json}");
        }
    }
}
