//! Booking through FHIR: `Slot` search, the IHE ITI Scheduling operations
//! `Appointment/$find`, `$hold` and `$book`, and cancelling by updating an appointment's
//! status. Every one calls the JSON API's services ([`Clinic::find_slots`],
//! [`Clinic::book`], [`Clinic::hold`], [`Clinic::book_hold`], [`Clinic::cancel_at_version`]),
//! so the booking window, minimum notice, consent, audit, idempotency and the
//! double-booking refusals are theirs.
//!
//! A slot's id names its appointment type, start, provider and room
//! ([`crate::clinic::ServedSlot`]); a proposed appointment of `$find` has the slot's id, and
//! a held one the hold's id (a UUID). `$hold` and `$book` re-derive the option from the slot
//! search, so an edited id books nothing.

use super::dates::DateBound;
use super::outcome::Refusal;
use super::scheduling::{reference, searchset, unknown};
use super::search::Handling;
use super::search::{DEFAULT_COUNT, MAX_OFFSET, encode, nameable, number};
use super::{FhirResult, Shared, base_url, handling, resource_response};
use crate::access::Endpoint;
use crate::auth::Principal;
use crate::clinic::{Clinic, MAX_SLOT_RESULTS, ServedSlot, SlotSearch};
use crate::error::ClinicError;
use crate::http::{MAX_JSON_BYTES, blocking, parse_json, principal, query_pairs, read_body};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use bedside_core::{AppointmentId, PatientId, ProviderId};
use bedside_schedule::HoldId;
use serde_json::{Value, json};

/// The search parameters of `Slot`.
pub const SLOT_PARAMS: &[super::scheduling::ParamDecl] = &[
    (
        "schedule",
        "reference",
        "http://hl7.org/fhir/SearchParameter/Slot-schedule",
    ),
    (
        "start",
        "date",
        "http://hl7.org/fhir/SearchParameter/Slot-start",
    ),
    (
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/Slot-status",
    ),
    (
        "service-type",
        "token",
        "http://hl7.org/fhir/SearchParameter/Slot-service-type",
    ),
];

/// The canonical definitions of the IHE ITI Scheduling operations.
pub const FIND_DEFINITION: &str =
    "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-find";
/// `$hold`'s definition.
pub const HOLD_DEFINITION: &str =
    "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-hold";
/// `$book`'s definition.
pub const BOOK_DEFINITION: &str =
    "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-book";

/// The slot statuses R4 defines; only `free` slots are served, so the others find nothing.
const SLOT_STATUSES: &[&str] = &[
    "free",
    "busy",
    "busy-unavailable",
    "busy-tentative",
    "entered-in-error",
];

/// The appointment type code of a `service-type` token (`code` or `system|code`).
fn service_type(value: &str) -> &str {
    value.rsplit_once('|').map_or(value, |(_, code)| code)
}

/// The caller, when the request carries a token (a bad token is refused, not ignored).
fn optional_principal(c: &Clinic, headers: &HeaderMap) -> Result<Option<Principal>, ClinicError> {
    if headers.contains_key(header::AUTHORIZATION) {
        principal(c, headers).map(Some)
    } else {
        Ok(None)
    }
}

/// A slot search: the option search and the page asked for.
struct SlotQuery {
    search: SlotSearch,
    /// Whether a status other than `free` was asked for alone (nothing matches).
    none: bool,
    applied: Vec<String>,
    count: usize,
    offset: usize,
}

fn parse_slot_query(
    pairs: Vec<(String, String)>,
    handling: Handling,
) -> Result<SlotQuery, ClinicError> {
    let mut q = SlotQuery {
        search: SlotSearch {
            limit: Some(MAX_SLOT_RESULTS),
            ..SlotSearch::default()
        },
        none: false,
        applied: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
    };
    let mut bounds = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "_count" => q.count = number(&value, "_count", usize::MAX)?.min(MAX_SLOT_RESULTS),
            "_offset" => q.offset = number(&value, "_offset", MAX_OFFSET)?,
            "schedule" | "start" | "status" | "service-type" if value.is_empty() => {}
            "schedule" => {
                if value.contains(',') || q.search.provider.is_some() {
                    return Err(ClinicError::bad("schedule: one schedule per search"));
                }
                q.search.provider = Some(
                    reference::<ProviderId>(&value, "Schedule")
                        .ok_or_else(|| ClinicError::bad("schedule: expected Schedule/{id}"))?,
                );
            }
            "start" => bounds.push(DateBound::parse("start", &value)?),
            "status" => {
                let codes: Vec<&str> = value.split(',').collect();
                if codes.iter().any(|c| !SLOT_STATUSES.contains(c)) {
                    return Err(ClinicError::bad("status: expected a slot status code"));
                }
                q.none = !codes.contains(&"free");
            }
            "service-type" => {
                if value.contains(',') || !q.search.appointment_type.is_empty() {
                    return Err(ClinicError::bad("service-type: one type per search"));
                }
                q.search.appointment_type = service_type(&value).to_string();
            }
            // Ignored, and so left out of the links.
            _ if handling == Handling::Lenient => continue,
            other => return Err(unknown(other)),
        }
        if !matches!(name.as_str(), "_count" | "_offset") && !value.is_empty() {
            q.applied
                .push(format!("{}={}", encode(&name), encode(&value)));
        }
    }
    if q.search.appointment_type.is_empty() {
        return Err(ClinicError::bad("service-type: required"));
    }
    q.search.from = bounds.iter().filter_map(DateBound::earliest).max();
    q.search.to = bounds.iter().filter_map(DateBound::latest).min();
    Ok(q)
}

/// A `Slot` with its id.
fn slot_json(slot: &ServedSlot) -> Value {
    let mut v = slot.resource.to_json();
    v["id"] = Value::String(slot.id.clone());
    v
}

/// An `Appointment` for a slot: `proposed` (from `$find`, named by the slot) or `pending`
/// (held, named by the hold), with its provider, room and, when known, patient.
fn appointment_for_slot(
    slot: &ServedSlot,
    id: &str,
    status: &str,
    patient: Option<PatientId>,
) -> Value {
    let s = slot.resource.to_json();
    let (provider_status, patient_status) = if status == "proposed" {
        ("needs-action", "needs-action")
    } else {
        ("tentative", "accepted")
    };
    let mut participants = vec![json!({
        "type": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "ATND",
            "display": "attender",
        }]}],
        "actor": {"reference": format!("Practitioner/{}", slot.option.provider)},
        "required": "required",
        "status": provider_status,
    })];
    if let Some(room) = slot.option.room {
        participants.push(json!({
            "actor": {"reference": format!("Location/{room}")},
            "required": "required",
            "status": provider_status,
        }));
    }
    if let Some(p) = patient {
        participants.push(json!({
            "actor": {"reference": format!("Patient/{p}")},
            "required": "required",
            "status": patient_status,
        }));
    }
    let mut a = json!({
        "resourceType": "Appointment",
        "id": id,
        "status": status,
        "start": s["start"],
        "end": s["end"],
        "slot": [{"reference": format!("Slot/{}", slot.id)}],
        "participant": participants,
    });
    for k in ["serviceType", "specialty", "appointmentType"] {
        if let Some(v) = s.get(k) {
            a[k] = v.clone();
        }
    }
    let minutes = slot.option.period.duration().num_minutes();
    if minutes > 0 {
        a["minutesDuration"] = json!(minutes);
    }
    a
}

pub(super) async fn search_slot(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let base = base_url(&headers);
    let handling = handling(&headers);
    let (q, slots) = blocking(clinic, move |c| {
        c.permit(Endpoint::FhirSearchSlot, None, None)?;
        let q = parse_slot_query(query_pairs(query.as_deref())?, handling)?;
        let slots = if q.none {
            Vec::new()
        } else {
            c.slot_resources(&q.search)?
        };
        Ok((q, slots))
    })
    .await?;
    let page = slots
        .iter()
        .skip(q.offset)
        .take(q.count)
        .map(slot_json)
        .collect();
    let bundle = paged(
        &base,
        "Slot",
        &q.applied,
        q.count,
        q.offset,
        slots.len(),
        page,
    );
    Ok(resource_response(StatusCode::OK, None, &bundle))
}

/// A `searchset` of one page of `total` matches, with `self` and `next` links.
fn paged(
    base: &str,
    path: &str,
    applied: &[String],
    count: usize,
    offset: usize,
    total: usize,
    page: Vec<Value>,
) -> Value {
    let url = |offset: usize| {
        let mut parts = applied.to_vec();
        parts.push(format!("_count={count}"));
        parts.push(format!("_offset={offset}"));
        format!("{base}/{path}?{}", parts.join("&"))
    };
    let end = offset.saturating_add(count);
    let next = (count > 0 && end < total).then(|| url(end));
    searchset(base, url(offset), next, total, page)
}

pub(super) async fn find(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let base = base_url(&headers);
    let handling = handling(&headers);
    let (applied, count, slots, patient) = blocking(clinic, move |c| {
        let who = optional_principal(c, &headers)?;
        c.permit(Endpoint::FhirFind, who.as_ref(), None)?;
        let mut search = SlotSearch {
            limit: Some(MAX_SLOT_RESULTS),
            ..SlotSearch::default()
        };
        let mut patient = None;
        let mut count = MAX_SLOT_RESULTS;
        let mut applied = Vec::new();
        for (name, value) in query_pairs(query.as_deref())? {
            let instant = |v: &str| {
                chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| t.to_utc())
                    .map_err(|_| ClinicError::bad(format!("{name}: expected an instant")))
            };
            match name.as_str() {
                "_count" => count = number(&value, "_count", usize::MAX)?.min(MAX_SLOT_RESULTS),
                _ if value.is_empty() => {}
                "start" => search.from = Some(instant(&value)?),
                "end" => search.to = Some(instant(&value)?),
                "service-type" => search.appointment_type = service_type(&value).to_string(),
                "practitioner" => {
                    search.provider = Some(
                        reference::<ProviderId>(&value, "Practitioner").ok_or_else(|| {
                            ClinicError::bad("practitioner: expected Practitioner/{id}")
                        })?,
                    );
                }
                "patient" => {
                    patient = Some(
                        reference::<PatientId>(&value, "Patient")
                            .ok_or_else(|| ClinicError::bad("patient: expected Patient/{id}"))?,
                    );
                }
                _ if handling == Handling::Lenient => continue,
                other => return Err(unknown(other)),
            }
            if name != "_count" {
                applied.push(format!("{}={}", encode(&name), encode(&value)));
            }
        }
        if search.appointment_type.is_empty() {
            return Err(ClinicError::bad("service-type: required"));
        }
        // A patient is named on the proposals only for a caller who may book for them, so
        // `$find` tells nobody else anything about a patient id.
        let patient = patient.or_else(|| who.as_ref().and_then(Principal::acting_for));
        if let Some(p) = patient {
            let who = who.as_ref().ok_or(ClinicError::Unauthenticated)?;
            c.permit(Endpoint::Book, Some(who), Some(p))?;
        }
        Ok((applied, count, c.slot_resources(&search)?, patient))
    })
    .await?;
    let total = slots.len();
    let page = slots
        .iter()
        .take(count)
        .map(|s| appointment_for_slot(s, &s.id, "proposed", patient))
        .collect();
    let mut parts = applied;
    parts.push(format!("_count={count}"));
    let self_url = format!("{base}/Appointment/$find?{}", parts.join("&"));
    Ok(resource_response(
        StatusCode::OK,
        None,
        &searchset(&base, self_url, None, total, page),
    ))
}

/// What `$hold` or `$book` is asked to act on.
enum Target {
    /// A slot (a proposed appointment of `$find`).
    Slot(String),
    /// A hold (a pending appointment of `$hold`).
    Hold(HoldId),
}

/// A `$hold` or `$book` request, from a `Parameters` body or a bare `Appointment`.
struct OperationRequest {
    target: Target,
    patient: Option<PatientId>,
    client_token: Option<String>,
}

/// The target an id names: a hold's UUID, or else a slot id.
fn target_of(id: &str) -> Target {
    match id.parse::<HoldId>() {
        Ok(h) => Target::Hold(h),
        Err(_) => Target::Slot(id.to_string()),
    }
}

/// The id in a `Type/{id}` reference (relative, or absolute ending in one).
fn referenced<'a>(reference: &'a str, kind: &str) -> Option<&'a str> {
    let (before, id) = reference.rsplit_once('/')?;
    let kind_matches = before == kind || before.ends_with(&format!("/{kind}"));
    (kind_matches && !id.is_empty()).then_some(id)
}

/// Reads an `Appointment` resource's target (its slot, else its id) and patient.
fn from_appointment(a: &Value) -> Result<(Option<Target>, Option<PatientId>), ClinicError> {
    if a["resourceType"] != "Appointment" {
        return Err(ClinicError::bad(
            "appointment-resource: expected an Appointment",
        ));
    }
    let slot = a["slot"]
        .as_array()
        .and_then(|s| s.first())
        .and_then(|s| s["reference"].as_str())
        .map(|r| {
            referenced(r, "Slot")
                .map(|id| Target::Slot(id.to_string()))
                .ok_or_else(|| ClinicError::bad("appointment-resource.slot: expected Slot/{id}"))
        })
        .transpose()?;
    let target = slot.or_else(|| a["id"].as_str().map(target_of));
    let mut patient = None;
    for p in a["participant"].as_array().into_iter().flatten() {
        if let Some(id) = p["actor"]["reference"]
            .as_str()
            .and_then(|r| referenced(r, "Patient"))
        {
            patient = Some(id.parse().map_err(|_| {
                ClinicError::bad("appointment-resource.participant: expected Patient/{id}")
            })?);
        }
    }
    Ok((target, patient))
}

fn parse_operation(body: &Value, headers: &HeaderMap) -> Result<OperationRequest, ClinicError> {
    let mut target = None;
    let mut patient = None;
    let mut client_token = None;
    match body["resourceType"].as_str() {
        Some("Appointment") => (target, patient) = from_appointment(body)?,
        Some("Parameters") => {
            for p in body["parameter"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                match name {
                    "appointment-reference" => {
                        let id = p["valueReference"]["reference"]
                            .as_str()
                            .and_then(|r| referenced(r, "Appointment"))
                            .ok_or_else(|| {
                                ClinicError::bad("appointment-reference: expected Appointment/{id}")
                            })?;
                        target = Some(target_of(id));
                    }
                    "appointment-resource" => {
                        let (t, p) = from_appointment(&p["resource"])?;
                        target = t.or(target);
                        patient = p.or(patient);
                    }
                    "patient" | "patient-reference" => {
                        patient = Some(
                            p["valueReference"]["reference"]
                                .as_str()
                                .and_then(|r| referenced(r, "Patient"))
                                .and_then(|id| id.parse().ok())
                                .ok_or_else(|| {
                                    ClinicError::bad("patient: expected Patient/{id}")
                                })?,
                        );
                    }
                    "client-token" => {
                        client_token = Some(
                            p["valueString"]
                                .as_str()
                                .ok_or_else(|| ClinicError::bad("client-token: expected a string"))?
                                .to_string(),
                        );
                    }
                    other if nameable(other) => {
                        return Err(ClinicError::bad(format!(
                            "unknown or unsupported parameter `{other}`"
                        )));
                    }
                    _ => return Err(ClinicError::bad("unknown parameter")),
                }
            }
        }
        _ => {
            return Err(ClinicError::bad(
                "body: expected Parameters or an Appointment",
            ));
        }
    }
    if let Some(key) = headers.get("idempotency-key") {
        let key = key
            .to_str()
            .map_err(|_| ClinicError::bad("idempotency-key: must be visible ASCII"))?;
        client_token = Some(key.trim().to_string());
    }
    let target = target.ok_or_else(|| {
        ClinicError::bad("appointment-reference or appointment-resource: required")
    })?;
    Ok(OperationRequest {
        target,
        patient,
        client_token,
    })
}

/// Authenticates, applies `endpoint`'s gate before the body is read, then reads the body.
async fn gated_body(
    clinic: &Shared,
    headers: &HeaderMap,
    endpoint: Endpoint,
    body: Body,
) -> Result<(Principal, Value), Refusal> {
    let h = headers.clone();
    let who = blocking(clinic.clone(), move |c| {
        let who = principal(c, &h)?;
        c.permit(endpoint, Some(&who), who.acting_for())?;
        Ok(who)
    })
    .await?;
    let value: Value = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    Ok((who, value))
}

/// The patient an operation is for: the one named, or the caller's own.
fn patient_of(req: &OperationRequest, who: &Principal) -> Result<PatientId, ClinicError> {
    req.patient
        .or_else(|| who.acting_for())
        .ok_or_else(|| ClinicError::bad("patient: required for staff"))
}

pub(super) async fn hold(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> FhirResult {
    let (who, value) = gated_body(&clinic, &headers, Endpoint::FhirHold, body).await?;
    let req = parse_operation(&value, &headers)?;
    let (held, slot) = blocking(clinic, move |c| {
        let Target::Slot(id) = &req.target else {
            return Err(ClinicError::bad(
                "appointment-reference: expected a proposed appointment of $find",
            ));
        };
        let patient = patient_of(&req, &who)?;
        let option = c.slot_option(id)?;
        let held = c.hold(&who, patient, option)?;
        let slot = c
            .served_slot(held.option.clone())?
            .ok_or(ClinicError::Internal)?;
        Ok((held, slot))
    })
    .await?;
    let mut body =
        appointment_for_slot(&slot, &held.hold.to_string(), "pending", Some(held.patient));
    body["comment"] = json!(format!(
        "held until {}",
        held.expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ));
    Ok(resource_response(StatusCode::OK, None, &body))
}

pub(super) async fn book(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> FhirResult {
    let (who, value) = gated_body(&clinic, &headers, Endpoint::FhirBook, body).await?;
    let req = parse_operation(&value, &headers)?;
    let appointment = blocking(clinic, move |c| {
        let token = req.client_token.as_deref().ok_or_else(|| {
            ClinicError::bad("Idempotency-Key header or client-token parameter: required")
        })?;
        let booked = match &req.target {
            Target::Hold(h) => c.book_hold(&who, *h, token)?,
            Target::Slot(id) => {
                let patient = patient_of(&req, &who)?;
                let option = c.slot_option(id)?;
                c.book(&who, patient, option, token)?
            }
        };
        c.appointment_resource(Endpoint::FhirBook, &who, booked.appointment)
    })
    .await?;
    let version = super::scheduling::version_of(&appointment);
    Ok(resource_response(
        StatusCode::OK,
        version,
        &appointment.to_json(),
    ))
}

/// The version an `If-Match` header names (`W/"3"` or `"3"`).
fn if_match(headers: &HeaderMap) -> Result<Option<u32>, ClinicError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ClinicError::bad("if-match: expected an ETag such as W/\"1\"");
    let v = v.to_str().map_err(|_| bad())?.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(bad)
}

/// An appointment as compared by an update: without `meta` and `text`, which the server
/// writes.
fn comparable(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.remove("meta");
        map.remove("text");
    }
    v
}

pub(super) async fn update_appointment(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> FhirResult {
    let h = headers.clone();
    let (who, id) = blocking(clinic.clone(), move |c| {
        let who = principal(c, &h)?;
        let id: AppointmentId = id.parse().map_err(|_| ClinicError::NotFound {
            kind: "appointment",
        })?;
        c.permit_appointment(Endpoint::FhirUpdateAppointment, &who, id)?;
        Ok((who, id))
    })
    .await?;
    let sent: Value = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    let expected = if_match(&headers)?;
    let after = blocking(clinic, move |c| {
        let current = c.appointment_resource(Endpoint::FhirUpdateAppointment, &who, id)?;
        let version = super::scheduling::version_of(&current).ok_or(ClinicError::Internal)?;
        if expected.is_some_and(|v| v != version) {
            return Ok(Err(Refusal::PreconditionFailed));
        }
        let mut sent = comparable(sent);
        let current_json = comparable(current.to_json());
        if sent["status"] != "cancelled" {
            return Ok(Err(Refusal::Unprocessable(
                "an update may only change `status` to `cancelled`",
            )));
        }
        sent["status"] = current_json["status"].clone();
        if sent != current_json {
            return Ok(Err(Refusal::Unprocessable(
                "an update may only change `status` to `cancelled`; other elements differ",
            )));
        }
        c.cancel_at_version(&who, id, version)?;
        c.appointment_resource(Endpoint::FhirUpdateAppointment, &who, id)
            .map(Ok)
    })
    .await??;
    let version = super::scheduling::version_of(&after);
    Ok(resource_response(StatusCode::OK, version, &after.to_json()))
}
