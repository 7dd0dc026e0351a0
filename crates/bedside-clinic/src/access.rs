//! Who may call each endpoint: **one declaration** ([`Endpoint::rule`]), enforced by the
//! services ([`permit`]) and the HTTP layer (before any body is read), and rendered as the role
//! table of `docs/API.md` ([`markdown_table`]; a test keeps the two equal).
//!
//! The declaration is the first gate only. Reads and writes of patient data then ask the
//! consent engine (the `consent` column), which may still refuse — a clinician outside the
//! patient's care team, say — and every such decision is audited.
//!
//! Proxies act within the classes the patient granted them. The classes grant these writes:
//!
//! | class | writes |
//! |---|---|
//! | `appointments` | book, cancel, reschedule |
//! | `billing` | pay |
//! | `vitals` | upload home vitals |
//!
//! `contact` and `demographics` together let a proxy read the record; no class lets a proxy
//! change it (the record's history names who changed what, and the registry accepts changes
//! only from the patient and staff). Granting and revoking proxies, the accounting of disclosures, survey answers and phone
//! verification stay with the patient alone.

use crate::auth::Principal;
use crate::error::ClinicError;
use bedside_consent::{ClassSet, DataClass};
use bedside_core::PatientId;

/// One kind of caller an endpoint admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone, without a token.
    Anyone,
    /// Staff holding any of these roles.
    Staff(&'static [&'static str]),
    /// The patient the request is about.
    Patient,
    /// A proxy of the patient the request is about, holding **all** these classes (an empty
    /// list: any live grant; the answer is then filtered to the granted classes).
    Proxy(&'static [DataClass]),
}

/// The declaration of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// HTTP method.
    pub method: &'static str,
    /// Route, with `{…}` parameters.
    pub path: &'static str,
    /// Who may call it (any one suffices).
    pub callers: &'static [Caller],
    /// The data classes the consent engine is asked about (empty: no consent check).
    pub consent: &'static [DataClass],
    /// A note for the docs (no PHI, no secrets).
    pub note: &'static str,
}

/// Every endpoint of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    missing_docs,
    reason = "each variant is documented by its rule in `Endpoint::rule` (method, route, callers, note), which also generates docs/API.md; a doc line per variant would repeat the route"
)]
pub enum Endpoint {
    Health,
    SelfRegister,
    StaffRegister,
    Duplicates,
    ResolveDuplicate,
    ReadPatient,
    ChangeProfile,
    SetPhone,
    VerifyPhone,
    ChangeRequests,
    ApproveRequest,
    Slots,
    Providers,
    Book,
    Appointments,
    Cancel,
    Reschedule,
    ProviderUnavailable,
    InboundSms,
    GrantProxy,
    RevokeProxy,
    AddNote,
    Notes,
    Disclosures,
    Reviews,
    VerifyAudit,
    Discharge,
    UploadVitals,
    Alerts,
    AckAlert,
    CheckIn,
    Complete,
    AnswerSurvey,
    SurveyReport,
    Charge,
    Remittance,
    WorkQueue,
    Statement,
    Pay,
    Aging,
    Outbox,
    FhirMetadata,
    FhirReadPatient,
    FhirVreadPatient,
    FhirPatientHistory,
    FhirSearchPatient,
    FhirReadSchedule,
    FhirSearchSchedule,
    FhirReadAppointment,
    FhirSearchAppointment,
    FhirSearchSlot,
    FhirFind,
    FhirHold,
    FhirBook,
    FhirUpdateAppointment,
}

const FRONT_DESK: &[&str] = &["reception", "scheduler"];
const REGISTRARS: &[&str] = &["reception", "scheduler", "admin"];
const CARE: &[&str] = &["clinician", "nurse"];
const ALL_BUT_SECRETS: &[DataClass] = &[];
/// Who may read a patient's record, in the JSON API and the FHIR face alike.
const RECORD_READERS: &[Caller] = &[
    Patient,
    Proxy(&[C::Demographics, C::Contact]),
    Staff(&["reception", "scheduler", "clinician", "nurse"]),
];
/// Who may read a patient's appointments, in the JSON API and the FHIR face alike.
const APPOINTMENT_READERS: &[Caller] = &[
    Patient,
    Proxy(&[C::Appointments]),
    Staff(&["reception", "scheduler", "clinician", "nurse"]),
];
/// Who may book, hold or cancel for a patient, in the JSON API and the FHIR face alike.
const BOOKERS: &[Caller] = &[Patient, Proxy(&[C::Appointments]), Staff(FRONT_DESK)];
/// The classes a read of the record asks the consent engine about.
const RECORD_CLASSES: &[DataClass] = &[C::Demographics, C::Contact];

use Caller::{Anyone, Patient, Proxy, Staff};
use DataClass as C;

impl Endpoint {
    /// Every endpoint, in the order of the docs.
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::Health,
        Endpoint::SelfRegister,
        Endpoint::StaffRegister,
        Endpoint::Duplicates,
        Endpoint::ResolveDuplicate,
        Endpoint::ReadPatient,
        Endpoint::ChangeProfile,
        Endpoint::SetPhone,
        Endpoint::VerifyPhone,
        Endpoint::ChangeRequests,
        Endpoint::ApproveRequest,
        Endpoint::Slots,
        Endpoint::Providers,
        Endpoint::Book,
        Endpoint::Appointments,
        Endpoint::Cancel,
        Endpoint::Reschedule,
        Endpoint::ProviderUnavailable,
        Endpoint::InboundSms,
        Endpoint::GrantProxy,
        Endpoint::RevokeProxy,
        Endpoint::AddNote,
        Endpoint::Notes,
        Endpoint::Disclosures,
        Endpoint::Reviews,
        Endpoint::VerifyAudit,
        Endpoint::Discharge,
        Endpoint::UploadVitals,
        Endpoint::Alerts,
        Endpoint::AckAlert,
        Endpoint::CheckIn,
        Endpoint::Complete,
        Endpoint::AnswerSurvey,
        Endpoint::SurveyReport,
        Endpoint::Charge,
        Endpoint::Remittance,
        Endpoint::WorkQueue,
        Endpoint::Statement,
        Endpoint::Pay,
        Endpoint::Aging,
        Endpoint::Outbox,
        Endpoint::FhirMetadata,
        Endpoint::FhirReadPatient,
        Endpoint::FhirVreadPatient,
        Endpoint::FhirPatientHistory,
        Endpoint::FhirSearchPatient,
        Endpoint::FhirReadSchedule,
        Endpoint::FhirSearchSchedule,
        Endpoint::FhirReadAppointment,
        Endpoint::FhirSearchAppointment,
        Endpoint::FhirSearchSlot,
        Endpoint::FhirFind,
        Endpoint::FhirHold,
        Endpoint::FhirBook,
        Endpoint::FhirUpdateAppointment,
    ];

    /// The declaration: method, route, callers, consent classes.
    // Not split: one arm per endpoint is the access table itself; split, it would no longer
    // read as one table (docs/API.md is generated from it).
    pub const fn rule(self) -> Rule {
        const fn r(
            method: &'static str,
            path: &'static str,
            callers: &'static [Caller],
            consent: &'static [DataClass],
            note: &'static str,
        ) -> Rule {
            Rule {
                method,
                path,
                callers,
                consent,
                note,
            }
        }
        match self {
            Endpoint::Health => r("GET", "/health", &[Anyone], &[], ""),
            Endpoint::SelfRegister => r(
                "POST",
                "/v1/register",
                &[Anyone],
                &[],
                "same answer whether or not the person is already a patient",
            ),
            Endpoint::StaffRegister => r("POST", "/v1/patients", &[Staff(REGISTRARS)], &[], ""),
            Endpoint::Duplicates => r("GET", "/v1/duplicates", &[Staff(REGISTRARS)], &[], ""),
            Endpoint::ResolveDuplicate => r(
                "POST",
                "/v1/duplicates/{id}/resolve",
                &[Staff(REGISTRARS)],
                &[],
                "",
            ),
            Endpoint::ReadPatient => r(
                "GET",
                "/v1/patients/{id}",
                RECORD_READERS,
                RECORD_CLASSES,
                "`X-Break-Glass` honoured for clinicians only",
            ),
            Endpoint::ChangeProfile => r(
                "PATCH",
                "/v1/patients/{id}",
                &[Patient],
                &[C::Contact],
                "contact details apply at once, a name change becomes a request",
            ),
            Endpoint::SetPhone => r(
                "POST",
                "/v1/patients/{id}/phone",
                &[Patient, Staff(FRONT_DESK)],
                &[C::Contact],
                "patient: unverified until the code is confirmed; staff: verified",
            ),
            Endpoint::VerifyPhone => r(
                "POST",
                "/v1/patients/{id}/phone/verify",
                &[Patient],
                &[C::Contact],
                "",
            ),
            Endpoint::ChangeRequests => r(
                "GET",
                "/v1/patients/{id}/change-requests",
                &[Staff(REGISTRARS)],
                &[],
                "",
            ),
            Endpoint::ApproveRequest => r(
                "POST",
                "/v1/change-requests/{id}/approve",
                &[Staff(&["reception", "admin"])],
                &[],
                "",
            ),
            Endpoint::Slots => r("GET", "/v1/slots", &[Anyone], &[], ""),
            Endpoint::Providers => r("GET", "/v1/providers", &[Anyone], &[], ""),
            Endpoint::Book => r(
                "POST",
                "/v1/patients/{id}/appointments",
                &[Patient, Proxy(&[C::Appointments]), Staff(FRONT_DESK)],
                &[C::Appointments],
                "the option must be one the server's slot search offers",
            ),
            Endpoint::Appointments => r(
                "GET",
                "/v1/patients/{id}/appointments",
                APPOINTMENT_READERS,
                &[C::Appointments],
                "",
            ),
            Endpoint::Cancel => r(
                "POST",
                "/v1/appointments/{id}/cancel",
                &[Patient, Proxy(&[C::Appointments]), Staff(FRONT_DESK)],
                &[C::Appointments],
                "",
            ),
            Endpoint::Reschedule => r(
                "POST",
                "/v1/appointments/{id}/reschedule",
                &[Patient, Proxy(&[C::Appointments]), Staff(FRONT_DESK)],
                &[C::Appointments],
                "",
            ),
            Endpoint::ProviderUnavailable => r(
                "POST",
                "/v1/providers/{id}/unavailable",
                &[Staff(&["scheduler", "admin"])],
                &[],
                "",
            ),
            Endpoint::InboundSms => r(
                "POST",
                "/v1/sms/inbound",
                &[Staff(&["sms-gateway"])],
                &[],
                "verified senders only; replays by `message_id` do nothing",
            ),
            Endpoint::GrantProxy => r("POST", "/v1/patients/{id}/proxies", &[Patient], &[], ""),
            Endpoint::RevokeProxy => r(
                "DELETE",
                "/v1/patients/{id}/proxies/{proxy}",
                &[Patient],
                &[],
                "the proxy's token stops working at once",
            ),
            Endpoint::AddNote => r(
                "POST",
                "/v1/patients/{id}/notes",
                &[Staff(CARE)],
                &[C::ClinicalNotes],
                "",
            ),
            Endpoint::Notes => r(
                "GET",
                "/v1/patients/{id}/notes",
                &[Staff(CARE)],
                &[C::ClinicalNotes],
                "`X-Break-Glass` honoured for clinicians only",
            ),
            Endpoint::Disclosures => r(
                "GET",
                "/v1/patients/{id}/disclosures",
                &[Patient],
                &[C::Demographics],
                "",
            ),
            Endpoint::Reviews => r(
                "GET",
                "/v1/reviews",
                &[Staff(&["privacy-officer"])],
                &[],
                "",
            ),
            Endpoint::VerifyAudit => r(
                "GET",
                "/v1/audit/verify",
                &[Staff(&["privacy-officer", "admin"])],
                &[],
                "",
            ),
            Endpoint::Discharge => r(
                "POST",
                "/v1/patients/{id}/discharge",
                &[Staff(CARE)],
                &[],
                "",
            ),
            Endpoint::UploadVitals => r(
                "POST",
                "/v1/patients/{id}/vitals",
                &[Patient, Proxy(&[C::Vitals])],
                &[C::Vitals],
                "",
            ),
            Endpoint::Alerts => r("GET", "/v1/alerts", &[Staff(CARE)], &[], ""),
            Endpoint::AckAlert => r("POST", "/v1/alerts/{id}/ack", &[Staff(CARE)], &[], ""),
            Endpoint::CheckIn => r(
                "POST",
                "/v1/appointments/{id}/check-in",
                &[Staff(FRONT_DESK)],
                &[],
                "",
            ),
            Endpoint::Complete => r(
                "POST",
                "/v1/appointments/{id}/complete",
                &[Staff(CARE)],
                &[],
                "",
            ),
            Endpoint::AnswerSurvey => r("POST", "/v1/surveys/{id}/response", &[Patient], &[], ""),
            Endpoint::SurveyReport => r(
                "GET",
                "/v1/surveys/report",
                &[Staff(&["manager", "admin"])],
                &[],
                "",
            ),
            Endpoint::Charge => r(
                "POST",
                "/v1/appointments/{id}/charges",
                &[Staff(&["billing", "reception"])],
                &[],
                "one claim per visit",
            ),
            Endpoint::Remittance => r(
                "POST",
                "/v1/billing/remittance",
                &[Staff(&["billing"])],
                &[],
                "",
            ),
            Endpoint::WorkQueue => r(
                "GET",
                "/v1/billing/work-queue",
                &[Staff(&["billing"])],
                &[],
                "",
            ),
            Endpoint::Statement => r(
                "GET",
                "/v1/patients/{id}/statement",
                &[Patient, Proxy(&[C::Billing]), Staff(&["billing"])],
                &[C::Billing],
                "",
            ),
            Endpoint::Pay => r(
                "POST",
                "/v1/patients/{id}/payments",
                &[Patient, Proxy(&[C::Billing]), Staff(&["billing"])],
                &[C::Billing],
                "`Idempotency-Key`; a credit only by billing staff",
            ),
            Endpoint::Aging => r(
                "GET",
                "/v1/billing/aging",
                &[Staff(&["billing", "manager"])],
                &[],
                "",
            ),
            Endpoint::Outbox => r(
                "GET",
                "/v1/outbox",
                &[
                    Patient,
                    Proxy(ALL_BUT_SECRETS),
                    Staff(&["reception", "scheduler", "billing", "clinician", "nurse"]),
                ],
                &[],
                "staff name a `patient` and see only their role's messages",
            ),
            Endpoint::FhirMetadata => r(
                "GET",
                "/fhir/metadata",
                &[Anyone],
                &[],
                "the CapabilityStatement, generated from the FHIR route table",
            ),
            Endpoint::FhirReadPatient => r(
                "GET",
                "/fhir/Patient/{id}",
                RECORD_READERS,
                RECORD_CLASSES,
                "the JSON read's service; another patient's id is 404",
            ),
            Endpoint::FhirVreadPatient => r(
                "GET",
                "/fhir/Patient/{id}/_history/{vid}",
                RECORD_READERS,
                RECORD_CLASSES,
                "",
            ),
            Endpoint::FhirPatientHistory => r(
                "GET",
                "/fhir/Patient/{id}/_history",
                RECORD_READERS,
                RECORD_CLASSES,
                "",
            ),
            Endpoint::FhirSearchPatient => r(
                "GET",
                "/fhir/Patient",
                RECORD_READERS,
                RECORD_CLASSES,
                "results the caller may not see are left out; patients and proxies find only their own record",
            ),
            Endpoint::FhirReadSchedule => r(
                "GET",
                "/fhir/Schedule/{id}",
                &[Anyone],
                &[],
                "one per provider (public, like `/v1/providers`)",
            ),
            Endpoint::FhirSearchSchedule => r("GET", "/fhir/Schedule", &[Anyone], &[], ""),
            Endpoint::FhirReadAppointment => r(
                "GET",
                "/fhir/Appointment/{id}",
                APPOINTMENT_READERS,
                &[C::Appointments],
                "the JSON appointments service; another patient's appointment is 404",
            ),
            Endpoint::FhirSearchAppointment => r(
                "GET",
                "/fhir/Appointment",
                APPOINTMENT_READERS,
                &[C::Appointments],
                "staff name a `patient`; patients and proxies find only their own",
            ),
            Endpoint::FhirSearchSlot => r(
                "GET",
                "/fhir/Slot",
                &[Anyone],
                &[],
                "free slots from the slot search (public, like `/v1/slots`)",
            ),
            Endpoint::FhirFind => r(
                "GET",
                "/fhir/Appointment/$find",
                &[Anyone],
                &[],
                "proposed appointments (public); a `patient` needs a token that may book for them",
            ),
            Endpoint::FhirHold => r(
                "POST",
                "/fhir/Appointment/$hold",
                BOOKERS,
                &[C::Appointments],
                "the slot must be one the slot search offers; held for 10 minutes of the clinic clock",
            ),
            Endpoint::FhirBook => r(
                "POST",
                "/fhir/Appointment/$book",
                BOOKERS,
                &[C::Appointments],
                "a slot or a live hold; idempotent by `Idempotency-Key`",
            ),
            Endpoint::FhirUpdateAppointment => r(
                "PUT",
                "/fhir/Appointment/{id}",
                BOOKERS,
                &[C::Appointments],
                "only `status: cancelled` (the cancel service); any other change is 422",
            ),
        }
    }

    /// Whether `Caller::Patient` is among the callers.
    pub fn admits_patient(self) -> bool {
        self.rule().callers.contains(&Patient)
    }
}

/// The data classes a proxy's message or write needs, by outbox purpose.
pub fn class_of_purpose(purpose: &str) -> DataClass {
    if purpose.starts_with("appointment-reminders") || purpose == "notice" || purpose == "survey" {
        DataClass::Appointments
    } else if purpose == "nurse-alert" {
        DataClass::Vitals
    } else if purpose == "statement" {
        DataClass::Billing
    } else {
        DataClass::Contact
    }
}

/// The first gate: may `principal` call `endpoint` about `subject`?
///
/// `proxy_classes` are the classes of the proxy's live grant (ignored for other callers); a
/// revoked or expired grant is the empty set.
///
/// A patient or proxy asking about any patient but their own gets the same refusal whether
/// that id exists or not, so the answer is no existence oracle.
///
/// # Errors
/// [`ClinicError::Unauthenticated`] without a principal on a non-public endpoint;
/// [`ClinicError::Forbidden`] (`role`, `own record only`, `proxy grant`) otherwise.
pub fn permit(
    endpoint: Endpoint,
    principal: Option<&Principal>,
    subject: Option<PatientId>,
    proxy_classes: ClassSet,
) -> Result<(), ClinicError> {
    let rule = endpoint.rule();
    if rule.callers.contains(&Anyone) {
        return Ok(());
    }
    let Some(principal) = principal else {
        return Err(ClinicError::Unauthenticated);
    };
    let own = |patient: &PatientId| subject.is_none_or(|s| s == *patient);
    match principal {
        Principal::Staff { roles, .. } => {
            let allowed = rule.callers.iter().any(|c| match c {
                Staff(names) => roles.iter().any(|r| names.contains(&r.as_str())),
                _ => false,
            });
            if allowed {
                Ok(())
            } else {
                Err(ClinicError::forbidden("role"))
            }
        }
        Principal::Patient { patient } => {
            if !own(patient) {
                Err(ClinicError::forbidden("own record only"))
            } else if rule.callers.contains(&Patient) {
                Ok(())
            } else {
                Err(ClinicError::forbidden("role"))
            }
        }
        Principal::Proxy { patient, .. } => {
            if !own(patient) {
                return Err(ClinicError::forbidden("own record only"));
            }
            let allowed = rule.callers.iter().any(|c| match c {
                Proxy(needed) => {
                    !proxy_classes.is_empty() && needed.iter().all(|n| proxy_classes.contains(*n))
                }
                _ => false,
            });
            if allowed {
                Ok(())
            } else {
                Err(ClinicError::forbidden("proxy grant"))
            }
        }
    }
}

fn callers_text(callers: &[Caller]) -> String {
    let parts: Vec<String> = callers
        .iter()
        .map(|c| match c {
            Anyone => "anyone".to_string(),
            Patient => "the patient".to_string(),
            Proxy([]) => "a proxy (its classes only)".to_string(),
            Proxy(classes) => {
                let codes: Vec<String> =
                    classes.iter().map(|c| format!("`{}`", c.code())).collect();
                format!("a proxy with {}", codes.join(" + "))
            }
            Staff(roles) => {
                let codes: Vec<String> = roles.iter().map(|r| format!("`{r}`")).collect();
                format!("staff: {}", codes.join(", "))
            }
        })
        .collect();
    parts.join("; ")
}

/// The role table of `docs/API.md`, generated from the declaration.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| method and path | who may call | consent classes | note |\n|---|---|---|---|\n",
    );
    for e in Endpoint::ALL {
        let r = e.rule();
        let consent: Vec<String> = r
            .consent
            .iter()
            .map(|c| format!("`{}`", c.code()))
            .collect();
        out.push_str(&format!(
            "| `{} {}` | {} | {} | {} |\n",
            r.method,
            r.path,
            callers_text(r.callers),
            consent.join(", "),
            r.note
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_core::{RelatedPersonId, Role, StaffId};

    fn staff(role: &str) -> Principal {
        Principal::Staff {
            id: StaffId::from_uuid(uuid::Uuid::from_u128(7)),
            roles: vec![Role::new(role).unwrap_or(Role::ADMIN)],
            provider: None,
        }
    }

    #[test]
    fn every_endpoint_is_declared_once() {
        let mut seen = std::collections::BTreeSet::new();
        for e in Endpoint::ALL {
            let r = e.rule();
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
        }
    }

    type GateCase = (
        Endpoint,
        Option<Principal>,
        PatientId,
        ClassSet,
        Option<u16>,
    );

    #[test]
    fn the_gate_follows_the_declaration() {
        let me = PatientId::from_uuid(uuid::Uuid::from_u128(1));
        let other = PatientId::from_uuid(uuid::Uuid::from_u128(2));
        let proxy = Principal::Proxy {
            related_person: RelatedPersonId::from_uuid(uuid::Uuid::from_u128(3)),
            patient: me,
        };
        let billing = ClassSet::EMPTY.with(DataClass::Billing);
        let cases: &[GateCase] = &[
            (
                Endpoint::Cancel,
                Some(proxy.clone()),
                me,
                billing,
                Some(403),
            ),
            (Endpoint::Pay, Some(proxy.clone()), me, billing, None),
            (
                Endpoint::Pay,
                Some(proxy.clone()),
                me,
                ClassSet::EMPTY,
                Some(403),
            ),
            (Endpoint::Pay, Some(proxy), other, billing, Some(403)),
            (Endpoint::Book, Some(staff("admin")), me, billing, Some(403)),
            (Endpoint::Book, Some(staff("scheduler")), me, billing, None),
            (Endpoint::Book, None, me, billing, Some(401)),
            (Endpoint::Slots, None, me, billing, None),
            (
                Endpoint::ReadPatient,
                Some(Principal::Patient { patient: me }),
                other,
                billing,
                Some(403),
            ),
        ];
        for (endpoint, who, subject, classes, want) in cases {
            let got = permit(*endpoint, who.as_ref(), Some(*subject), *classes)
                .err()
                .map(|e| e.status());
            assert_eq!(got, *want, "{endpoint:?} {who:?}");
        }
    }
}
