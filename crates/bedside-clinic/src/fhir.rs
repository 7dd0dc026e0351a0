//! The FHIR R4 face of the clinic, under `/fhir`: a CapabilityStatement, `Patient` read,
//! vread, history and search, `Schedule` and `Appointment` read and search
//! ([`scheduling`]), and `Slot` search, `Appointment/$find`, `$hold`, `$book` and cancel by
//! update ([`booking`]), in `application/fhir+json`.
//!
//! One table, [`INTERACTIONS`], lists what is implemented: the router is built from it and
//! `GET /fhir/metadata` describes it, so the two cannot drift. Who may call each interaction
//! is declared in [`crate::access`] like every other endpoint, and every read goes through the
//! same [`Clinic`] services as the JSON API, so consent decisions and audit entries are the
//! same. Resources are exported by `bedside-records`' FHIR layer ([`Patient::to_fhir`]); this
//! module adds only the server's envelope (`id`, `meta`, bundles, outcomes). Every refusal is
//! an `OperationOutcome` ([`outcome`]).

pub mod booking;
pub mod dates;
pub mod outcome;
pub mod scheduling;
pub mod search;

use crate::access::Endpoint;
use crate::clinic::Clinic;
use crate::http::{blocking, break_glass, principal, query_pairs};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use bedside_core::{PatientId, Timestamp};
use bedside_records::Patient;
use outcome::Refusal;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The content type of every FHIR answer.
pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";

/// The FHIR version the CapabilityStatement declares: R4. Written `4.0.0`, the release's
/// code, rather than its technical correction `4.0.1`: the official R4 JSON Schema's
/// `fhirVersion` enumeration stops at `4.0.0`, and what this server writes must pass every
/// validator (`.ci/run` checks it with three); clients match `4.0` either way, as the media
/// type's `fhirVersion=4.0` does.
pub const FHIR_VERSION: &str = "4.0.0";

/// One FHIR interaction the server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interaction {
    /// The endpoint, whose [`Endpoint::rule`] gives the method, route and callers.
    pub endpoint: Endpoint,
    /// The resource type, or `None` for a system-level interaction.
    pub resource: Option<&'static str>,
    /// The R4 interaction code (`read`, `vread`, `update`, `history-instance`,
    /// `search-type`), `operation` for an operation (named by [`operation`]), or, for
    /// `capabilities`, the system interaction that has no code in a CapabilityStatement.
    pub code: &'static str,
}

/// The name and canonical definition of an operation interaction.
pub fn operation(endpoint: Endpoint) -> Option<(&'static str, &'static str)> {
    match endpoint {
        Endpoint::FhirFind => Some(("find", booking::FIND_DEFINITION)),
        Endpoint::FhirHold => Some(("hold", booking::HOLD_DEFINITION)),
        Endpoint::FhirBook => Some(("book", booking::BOOK_DEFINITION)),
        _ => None,
    }
}

/// Everything the FHIR face implements: the router and the CapabilityStatement both read it.
pub const INTERACTIONS: &[Interaction] = &[
    Interaction {
        endpoint: Endpoint::FhirMetadata,
        resource: None,
        code: "capabilities",
    },
    Interaction {
        endpoint: Endpoint::FhirReadPatient,
        resource: Some("Patient"),
        code: "read",
    },
    Interaction {
        endpoint: Endpoint::FhirVreadPatient,
        resource: Some("Patient"),
        code: "vread",
    },
    Interaction {
        endpoint: Endpoint::FhirPatientHistory,
        resource: Some("Patient"),
        code: "history-instance",
    },
    Interaction {
        endpoint: Endpoint::FhirSearchPatient,
        resource: Some("Patient"),
        code: "search-type",
    },
    Interaction {
        endpoint: Endpoint::FhirReadSchedule,
        resource: Some("Schedule"),
        code: "read",
    },
    Interaction {
        endpoint: Endpoint::FhirSearchSchedule,
        resource: Some("Schedule"),
        code: "search-type",
    },
    Interaction {
        endpoint: Endpoint::FhirReadAppointment,
        resource: Some("Appointment"),
        code: "read",
    },
    Interaction {
        endpoint: Endpoint::FhirSearchAppointment,
        resource: Some("Appointment"),
        code: "search-type",
    },
    Interaction {
        endpoint: Endpoint::FhirUpdateAppointment,
        resource: Some("Appointment"),
        code: "update",
    },
    Interaction {
        endpoint: Endpoint::FhirFind,
        resource: Some("Appointment"),
        code: "operation",
    },
    Interaction {
        endpoint: Endpoint::FhirHold,
        resource: Some("Appointment"),
        code: "operation",
    },
    Interaction {
        endpoint: Endpoint::FhirBook,
        resource: Some("Appointment"),
        code: "operation",
    },
    Interaction {
        endpoint: Endpoint::FhirSearchSlot,
        resource: Some("Slot"),
        code: "search-type",
    },
];

pub(crate) type Shared = Arc<Clinic>;
pub(crate) type FhirResult = Result<Response, Refusal>;

/// The FHIR routes: those anyone may call and those that need a token, for the router to put
/// under the matching rate limits. Every route answers an unsupported method with a 405
/// `OperationOutcome`.
pub fn routes(clinic: Arc<Clinic>) -> (Router, Router) {
    // Interactions sharing a path (an appointment's read and update) share one route.
    let mut paths: Vec<(&'static str, bool, MethodRouter<Shared>)> = Vec::new();
    for i in INTERACTIONS {
        let rule = i.endpoint.rule();
        let anyone = rule.callers.contains(&crate::access::Caller::Anyone);
        match paths
            .iter_mut()
            .find(|(p, a, _)| *p == rule.path && *a == anyone)
        {
            Some((_, _, route)) => *route = std::mem::take(route).merge(handler(i.endpoint)),
            None => paths.push((rule.path, anyone, handler(i.endpoint))),
        }
    }
    let mut anonymous = Router::new();
    let mut authenticated = Router::new();
    for (path, anyone, route) in paths {
        let route = route.fallback(method_not_allowed);
        if anyone {
            anonymous = anonymous.route(path, route);
        } else {
            authenticated = authenticated.route(path, route);
        }
    }
    (
        anonymous.with_state(clinic.clone()),
        authenticated.with_state(clinic),
    )
}

/// The handler of an interaction, on its declared method.
fn handler(endpoint: Endpoint) -> MethodRouter<Shared> {
    match endpoint {
        Endpoint::FhirMetadata => get(metadata),
        Endpoint::FhirReadPatient => get(read_patient),
        Endpoint::FhirVreadPatient => get(vread_patient),
        Endpoint::FhirPatientHistory => get(patient_history),
        Endpoint::FhirSearchPatient => get(search_patient),
        Endpoint::FhirReadSchedule => get(scheduling::read_schedule),
        Endpoint::FhirSearchSchedule => get(scheduling::search_schedule),
        Endpoint::FhirReadAppointment => get(scheduling::read_appointment),
        Endpoint::FhirSearchAppointment => get(scheduling::search_appointment),
        Endpoint::FhirUpdateAppointment => put(booking::update_appointment),
        Endpoint::FhirFind => get(booking::find),
        Endpoint::FhirHold => post(booking::hold),
        Endpoint::FhirBook => post(booking::book),
        Endpoint::FhirSearchSlot => get(booking::search_slot),
        _ => MethodRouter::new(),
    }
}

async fn method_not_allowed() -> Response {
    Refusal::MethodNotAllowed.into_response()
}

/// The answer to a request under `/fhir` that matches no route.
pub fn unknown_route() -> Response {
    Refusal::UnknownRoute.into_response()
}

/// A FHIR JSON response, with a weak `ETag` of `version` when given.
pub fn resource_response(status: StatusCode, version: Option<u32>, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    if let Some(v) = version
        && let Ok(etag) = HeaderValue::from_str(&format!("W/\"{v}\""))
    {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// The server's base URL for absolute references: `http://` and the `Host` header when it
/// looks like a host name (anything else would be echoed input), else `localhost`.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}/fhir")
}

fn fhir_instant(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A patient record as a FHIR resource of this server: the shared layer's export, with the
/// server's `id` and `meta` (`versionId`, and `lastUpdated` when known) in front.
pub fn patient_resource(
    id: PatientId,
    version: u32,
    updated: Option<Timestamp>,
    record: &Patient,
) -> Value {
    let exported = match record.to_fhir() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut meta = json!({"versionId": version.to_string()});
    if let Some(t) = updated {
        meta["lastUpdated"] = Value::String(fhir_instant(t));
    }
    let mut out = Map::new();
    out.insert("resourceType".into(), Value::String("Patient".into()));
    out.insert("id".into(), Value::String(id.to_string()));
    out.insert("meta".into(), meta);
    for (k, v) in exported {
        if !matches!(k.as_str(), "resourceType" | "id" | "meta") {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// A patient id from a path: anything but a UUID cannot name a patient, so it is not found.
fn patient_id(raw: &str) -> Result<PatientId, Refusal> {
    raw.parse()
        .map_err(|_| Refusal::Clinic(crate::error::ClinicError::NotFound { kind: "patient" }))
}

async fn metadata(State(clinic): State<Shared>, headers: HeaderMap) -> FhirResult {
    let statement = capability_statement(&base_url(&headers), clinic.now());
    Ok(resource_response(StatusCode::OK, None, &statement))
}

/// The search parameters of resource type `t`: name, type, definition.
fn search_params(t: &str) -> Vec<scheduling::ParamDecl> {
    match t {
        "Patient" => search::PATIENT_PARAMS
            .iter()
            .map(|d| (d.code, d.type_, d.definition))
            .collect(),
        "Schedule" => scheduling::SCHEDULE_PARAMS.to_vec(),
        "Appointment" => scheduling::APPOINTMENT_PARAMS.to_vec(),
        "Slot" => booking::SLOT_PARAMS.to_vec(),
        _ => Vec::new(),
    }
}

/// The CapabilityStatement of [`INTERACTIONS`] and each type's search parameters.
pub fn capability_statement(base: &str, date: Timestamp) -> Value {
    let mut types: Vec<&str> = INTERACTIONS.iter().filter_map(|i| i.resource).collect();
    types.dedup();
    let resources: Vec<Value> = types
        .iter()
        .map(|t| {
            let of_type = || INTERACTIONS.iter().filter(|i| i.resource == Some(t));
            let interactions: Vec<Value> = of_type()
                .filter(|i| i.code != "operation")
                .map(|i| json!({"code": i.code}))
                .collect();
            let operations: Vec<Value> = of_type()
                .filter_map(|i| operation(i.endpoint))
                .map(|(name, definition)| json!({"name": name, "definition": definition}))
                .collect();
            // Schedules and slots have no versions; patients and appointments carry
            // `versionId`.
            let versioning = if matches!(*t, "Schedule" | "Slot") {
                "no-version"
            } else {
                "versioned"
            };
            let mut r = json!({
                "type": t,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{t}"),
                "interaction": interactions,
                "versioning": versioning,
                "readHistory": of_type().any(|i| i.code == "vread"),
            });
            if !operations.is_empty() {
                r["operation"] = Value::Array(operations);
            }
            if of_type().any(|i| i.code == "update") {
                r["updateCreate"] = Value::Bool(false);
            }
            if of_type().any(|i| i.code == "search-type") {
                r["searchParam"] = search_params(t)
                    .iter()
                    .map(|(name, type_, definition)| {
                        json!({"name": name, "definition": definition, "type": type_})
                    })
                    .collect();
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhir_instant(date),
        "publisher": "Bedside",
        "kind": "instance",
        "software": {"name": "Bedside clinic", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Bedside clinic FHIR R4 server", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "description": "Bearer tokens issued by the clinic (`Authorization: Bearer`); \
                    every read is consent-checked and audited"
            },
            "resource": resources,
        }],
    })
}

async fn read_patient(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> FhirResult {
    let id = patient_id(&id)?;
    let view = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        c.permit(Endpoint::FhirReadPatient, Some(&who), Some(id))?;
        c.patient(&who, id, break_glass(&headers)?.as_deref())
    })
    .await?;
    let body = patient_resource(id, view.version, None, &view.record);
    Ok(resource_response(StatusCode::OK, Some(view.version), &body))
}

async fn vread_patient(
    State(clinic): State<Shared>,
    Path((id, vid)): Path<(String, String)>,
    headers: HeaderMap,
) -> FhirResult {
    let id = patient_id(&id)?;
    let version = vid.parse::<u32>().ok();
    let view = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        c.permit(Endpoint::FhirVreadPatient, Some(&who), Some(id))?;
        let bg = break_glass(&headers)?;
        // Gate and consent first, so a bad version number tells nothing more than a good one.
        let version = version.unwrap_or(0);
        c.patient_version(&who, id, version, bg.as_deref())
    })
    .await?;
    let body = patient_resource(id, view.version, Some(view.at), &view.record);
    Ok(resource_response(StatusCode::OK, Some(view.version), &body))
}

async fn patient_history(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let id = patient_id(&id)?;
    let base = base_url(&headers);
    let versions = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        c.permit(Endpoint::FhirPatientHistory, Some(&who), Some(id))?;
        if !query_pairs(query.as_deref())?.is_empty() {
            return Err(crate::error::ClinicError::bad(
                "history parameters are not supported",
            ));
        }
        c.patient_history(&who, id, break_glass(&headers)?.as_deref())
    })
    .await?;
    // Newest first, as R4 orders a history.
    let entries: Vec<Value> = versions
        .iter()
        .rev()
        .map(|v| {
            let (method, url, status) = if v.version == 1 {
                ("POST", "Patient".to_string(), "201 Created")
            } else {
                ("PUT", format!("Patient/{id}"), "200 OK")
            };
            json!({
                "fullUrl": format!("{base}/Patient/{id}"),
                "resource": patient_resource(id, v.version, Some(v.at), &v.record),
                "request": {"method": method, "url": url},
                "response": {
                    "status": status,
                    "etag": format!("W/\"{}\"", v.version),
                    "lastModified": fhir_instant(v.at),
                },
            })
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "history",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{base}/Patient/{id}/_history")}],
        "entry": entries,
    });
    Ok(resource_response(StatusCode::OK, None, &bundle))
}

/// How the request asks unknown search parameters to be handled (`Prefer: handling=…`).
pub(crate) fn handling(headers: &HeaderMap) -> search::Handling {
    let lenient = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=lenient"));
    if lenient {
        search::Handling::Lenient
    } else {
        search::Handling::Strict
    }
}

async fn search_patient(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> FhirResult {
    let base = base_url(&headers);
    let handling = handling(&headers);
    let (q, page) = blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        // The gate before the query is read, as for every endpoint.
        c.permit(Endpoint::FhirSearchPatient, Some(&who), who.acting_for())?;
        let q = search::parse(query_pairs(query.as_deref())?, handling)?;
        let count = if q.summary_count { 0 } else { q.count };
        let page = c.search_patients(&who, &q.search, q.offset, count)?;
        Ok((q, page))
    })
    .await?;
    Ok(resource_response(
        StatusCode::OK,
        None,
        &q.bundle(&base, &page),
    ))
}
