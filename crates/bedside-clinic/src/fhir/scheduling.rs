//! `Schedule` (read, search `actor`) and `Appointment` (read, search `patient`, `status`,
//! `date`, `practitioner`, `_sort` on the start):
//! resources exported by `bedside-schedule`'s FHIR layer, through the clinic's services.
//!
//! A `Schedule` is public, like the JSON API's provider directory: one per provider, its id
//! the provider's, planning over the next
//! [`SCHEDULE_HORIZON_DAYS`](crate::clinic::SCHEDULE_HORIZON_DAYS) days. An `Appointment`
//! is read through [`Clinic::appointments`](crate::Clinic::appointments), so the gate, the
//! consent decision and the audit entry are the JSON API's; a patient or proxy sees only
//! their own, and another patient's appointment id is 404 like a missing one.

use super::dates::DateBound;
use super::search::Handling;
use super::search::{DEFAULT_COUNT, MAX_OFFSET, encode, nameable, number};
use super::{FhirResult, Shared, base_url, handling, resource_response};
use crate::access::Endpoint;
use crate::clinic::MAX_SEARCH_PAGE;
use crate::error::ClinicError;
use crate::http::{blocking, principal, query_pairs};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bedside_core::{AppointmentId, PatientId, ProviderId};
use bedside_schedule::fhir::FhirAppointment;
use serde_json::{Value, json};

/// A search parameter as the CapabilityStatement lists it: name, type, definition.
pub type ParamDecl = (&'static str, &'static str, &'static str);

/// The search parameters of `Schedule`.
pub const SCHEDULE_PARAMS: &[ParamDecl] = &[(
    "actor",
    "reference",
    "http://hl7.org/fhir/SearchParameter/Schedule-actor",
)];

/// The search parameters of `Appointment`.
pub const APPOINTMENT_PARAMS: &[ParamDecl] = &[
    (
        "patient",
        "reference",
        "http://hl7.org/fhir/SearchParameter/Appointment-patient",
    ),
    (
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/Appointment-status",
    ),
    (
        "date",
        "date",
        "http://hl7.org/fhir/SearchParameter/Appointment-date",
    ),
    (
        "practitioner",
        "reference",
        "http://hl7.org/fhir/SearchParameter/Appointment-practitioner",
    ),
];

/// The id of a `Type/{id}` reference (or a bare id), when it parses as a UUID.
pub(super) fn reference<T: std::str::FromStr>(value: &str, kind: &str) -> Option<T> {
    let id = value
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(value);
    id.parse().ok()
}

/// The refusal of a parameter this search does not know, naming it only when that is safe.
pub(super) fn unknown(name: &str) -> ClinicError {
    if nameable(name) {
        ClinicError::bad(format!("unknown or unsupported search parameter `{name}`"))
    } else {
        ClinicError::bad("unknown search parameter")
    }
}

/// A `searchset` bundle of `resources` (already one page), with its links.
pub(super) fn searchset(
    base: &str,
    self_url: String,
    next_url: Option<String>,
    total: usize,
    resources: Vec<Value>,
) -> Value {
    let mut links = vec![json!({"relation": "self", "url": self_url})];
    if let Some(url) = next_url {
        links.push(json!({"relation": "next", "url": url}));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!(
                "{base}/{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": url, "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

pub(super) async fn read_schedule(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
) -> FhirResult {
    let schedule = blocking(clinic, move |c| {
        c.permit(Endpoint::FhirReadSchedule, None, None)?;
        let id: ProviderId = id
            .parse()
            .map_err(|_| ClinicError::NotFound { kind: "schedule" })?;
        c.provider_schedule(id)
    })
    .await?;
    Ok(resource_response(StatusCode::OK, None, &schedule.to_json()))
}

pub(super) async fn search_schedule(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let base = base_url(&headers);
    let handling = handling(&headers);
    let (applied, schedules) = blocking(clinic, move |c| {
        c.permit(Endpoint::FhirSearchSchedule, None, None)?;
        let mut actors: Option<Vec<ProviderId>> = None;
        let mut applied = Vec::new();
        for (name, value) in query_pairs(query.as_deref())? {
            match name.as_str() {
                "actor" if value.is_empty() => {}
                "actor" => {
                    let ids = value
                        .split(',')
                        .map(|v| reference::<ProviderId>(v, "Practitioner"))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| ClinicError::bad("actor: expected Practitioner/{id}"))?;
                    actors.get_or_insert_with(Vec::new).extend(ids);
                    applied.push(format!("actor={}", encode(&value)));
                }
                _ if handling == Handling::Lenient => {}
                other => return Err(unknown(other)),
            }
        }
        let mut all = c.provider_schedules()?;
        if let Some(actors) = actors {
            all.retain(|s| {
                actors
                    .iter()
                    .any(|a| s.id.as_deref() == Some(a.to_string().as_str()))
            });
        }
        Ok((applied, all))
    })
    .await?;
    let total = schedules.len();
    let resources = schedules.iter().map(|s| s.to_json()).collect();
    let self_url = if applied.is_empty() {
        format!("{base}/Schedule")
    } else {
        format!("{base}/Schedule?{}", applied.join("&"))
    };
    Ok(resource_response(
        StatusCode::OK,
        None,
        &searchset(&base, self_url, None, total, resources),
    ))
}

pub(super) async fn read_appointment(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> FhirResult {
    let appointment = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        // After authentication, so an unauthenticated caller learns nothing from the id.
        let id: AppointmentId = id.parse().map_err(|_| ClinicError::NotFound {
            kind: "appointment",
        })?;
        c.appointment_resource(Endpoint::FhirReadAppointment, &who, id)
    })
    .await?;
    let version = version_of(&appointment);
    Ok(resource_response(
        StatusCode::OK,
        version,
        &appointment.to_json(),
    ))
}

/// An appointment's version (`meta.versionId`), for its `ETag`.
pub(super) fn version_of(appointment: &FhirAppointment) -> Option<u32> {
    appointment
        .meta
        .as_ref()
        .and_then(|m| m.version_id.as_deref())
        .and_then(|v| v.parse().ok())
}

/// A parsed Appointment search.
struct AppointmentQuery {
    patient: Option<PatientId>,
    statuses: Option<Vec<String>>,
    /// `date` criteria on the start, all of which must hold.
    dates: Vec<DateBound>,
    /// `practitioner`: any of these.
    practitioners: Option<Vec<ProviderId>>,
    /// `_sort=-date`: newest start first (else oldest first, also for `_sort=date`).
    newest_first: bool,
    applied: Vec<String>,
    count: usize,
    offset: usize,
}

fn parse_appointment_query(
    pairs: Vec<(String, String)>,
    handling: Handling,
) -> Result<AppointmentQuery, ClinicError> {
    let mut q = AppointmentQuery {
        patient: None,
        statuses: None,
        dates: Vec::new(),
        practitioners: None,
        newest_first: false,
        applied: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
    };
    for (name, value) in pairs {
        match name.as_str() {
            "_count" => q.count = number(&value, "_count", usize::MAX)?.min(MAX_SEARCH_PAGE),
            "_offset" => q.offset = number(&value, "_offset", MAX_OFFSET)?,
            "patient" | "status" | "date" | "practitioner" | "_sort" if value.is_empty() => {}
            "date" => {
                q.dates.push(DateBound::parse("date", &value)?);
                q.applied.push(format!("date={}", encode(&value)));
            }
            "practitioner" => {
                let ids = value
                    .split(',')
                    .map(|v| reference::<ProviderId>(v, "Practitioner"))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| ClinicError::bad("practitioner: expected Practitioner/{id}"))?;
                q.practitioners.get_or_insert_with(Vec::new).extend(ids);
                q.applied.push(format!("practitioner={}", encode(&value)));
            }
            "_sort" => {
                q.newest_first = match value.as_str() {
                    "date" => false,
                    "-date" => true,
                    _ => return Err(ClinicError::bad("_sort: only `date` and `-date`")),
                };
                q.applied.push(format!("_sort={}", encode(&value)));
            }
            "patient" => {
                let id = reference::<PatientId>(&value, "Patient")
                    .ok_or_else(|| ClinicError::bad("patient: expected Patient/{id}"))?;
                if q.patient.is_some_and(|p| p != id) {
                    return Err(ClinicError::bad("patient: one patient per search"));
                }
                q.patient = Some(id);
                q.applied.push(format!("patient={}", encode(&value)));
            }
            "status" => {
                let codes: Vec<String> = value.split(',').map(str::to_string).collect();
                if codes
                    .iter()
                    .any(|c| bedside_schedule::AppointmentStatus::from_code(c).is_none())
                {
                    return Err(ClinicError::bad(
                        "status: expected an appointment status code",
                    ));
                }
                q.statuses.get_or_insert_with(Vec::new).extend(codes);
                q.applied.push(format!("status={}", encode(&value)));
            }
            _ if handling == Handling::Lenient => {}
            other => return Err(unknown(other)),
        }
    }
    Ok(q)
}

pub(super) async fn search_appointment(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let base = base_url(&headers);
    let handling = handling(&headers);
    let (q, found) = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        // The gate before the query is read, as for every endpoint.
        c.permit(
            Endpoint::FhirSearchAppointment,
            Some(&who),
            who.acting_for(),
        )?;
        let q = parse_appointment_query(query_pairs(query.as_deref())?, handling)?;
        let patient = match (who.acting_for(), q.patient) {
            // A patient or proxy finds only their own, whatever they ask: another patient's
            // id finds nothing, exactly like a missing one.
            (Some(me), Some(asked)) if asked != me => return Ok((q, Vec::new())),
            (Some(me), _) => me,
            (None, Some(asked)) => asked,
            (None, None) => return Err(ClinicError::bad("patient: required for staff")),
        };
        let mut found = c.appointment_resources(&who, patient)?;
        if let Some(statuses) = &q.statuses {
            found.retain(|a| statuses.iter().any(|s| s == a.status.code()));
        }
        let mut found: Vec<Value> = found.iter().map(FhirAppointment::to_json).collect();
        found.retain(|a| {
            let start = a["start"]
                .as_str()
                .and_then(|t| t.parse::<bedside_core::Timestamp>().ok());
            let dated =
                q.dates.is_empty() || start.is_some_and(|t| q.dates.iter().all(|d| d.matches(t)));
            let by = |p: &ProviderId| {
                let wanted = format!("Practitioner/{p}");
                a["participant"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x["actor"]["reference"] == wanted.as_str())
            };
            dated && q.practitioners.as_ref().is_none_or(|ps| ps.iter().any(by))
        });
        // Oldest start first already (`appointment_resources`); `-date` reverses it.
        if q.newest_first {
            found.reverse();
        }
        Ok((q, found))
    })
    .await?;
    let total = found.len();
    let url = |offset: usize| {
        let mut parts = q.applied.clone();
        parts.push(format!("_count={}", q.count));
        parts.push(format!("_offset={offset}"));
        format!("{base}/Appointment?{}", parts.join("&"))
    };
    let end = q.offset.saturating_add(q.count);
    let next = (q.count > 0 && end < total).then(|| url(end));
    let page = found.iter().skip(q.offset).take(q.count).cloned().collect();
    Ok(resource_response(
        StatusCode::OK,
        None,
        &searchset(&base, url(q.offset), next, total, page),
    ))
}
