//! The HTTP JSON API (axum). Every handler authenticates, parses its input itself (so every
//! refusal is the JSON error shape, never a 500 and never an echo of the input), and calls
//! the [`Clinic`] services. See `docs/API.md`. The FHIR face under `/fhir` is [`crate::fhir`].
//!
//! This file is over 800 lines: one short handler per JSON endpoint, kept beside the router
//! that names them so a route and its handler read together.

use crate::access::Endpoint;
use crate::auth::Principal;
use crate::clinic::{
    Clinic, DuplicateVerdict, PaymentRequest, ProfileChange, Registration, SlotSearch,
};
use crate::error::ClinicError;
use crate::limits::RateLimits;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bedside_consent::Relationship;
use bedside_core::{
    AlertId, AppointmentId, ClaimId, PatientId, Period, ProviderId, RelatedPersonId, Timestamp,
};
use bedside_records::history::ChangeRequestId;
use bedside_schedule::SlotOption;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// Largest vitals upload accepted (NDJSON).
pub const MAX_VITALS_BYTES: usize = 8 * 1024 * 1024;

type Shared = Arc<Clinic>;

impl IntoResponse for ClinicError {
    fn into_response(self) -> Response {
        if let ClinicError::Storage(e) = &self {
            eprintln!("storage failure: {e}");
        }
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, axum::Json(self.body())).into_response();
        if let ClinicError::LimitReached {
            retry_after_seconds,
            ..
        } = &self
            && let Ok(v) = header::HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

type ApiResult = Result<Response, ClinicError>;

fn ok<T: Serialize>(value: T) -> ApiResult {
    Ok((StatusCode::OK, axum::Json(value)).into_response())
}

fn created<T: Serialize>(value: T) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

/// The router over a clinic, with the default rate limits ([`RateLimits::default`]).
pub fn router(clinic: Arc<Clinic>) -> Router {
    router_with(clinic, &RateLimits::default())
}

/// The router over a clinic with explicit rate limits (tests use
/// [`RateLimits::disabled`]). Anonymous endpoints get the stricter per-address limit.
pub fn router_with(clinic: Arc<Clinic>, limits: &RateLimits) -> Router {
    // `/health` sits with the authenticated group so monitors are not held to the strict
    // anonymous limit.
    let (fhir_anonymous, fhir_authenticated) = crate::fhir::routes(clinic.clone());
    // The patient portal's sign-in and registration posts share the anonymous limit.
    let (portal_anonymous, portal) =
        crate::portal::routes(clinic.clone(), crate::portal::PortalConfig::from_env());
    let anonymous = Router::new()
        .route("/v1/register", post(self_register))
        .route("/v1/slots", get(slots))
        .route("/v1/providers", get(providers))
        .with_state(clinic.clone())
        .merge(fhir_anonymous)
        .merge(portal_anonymous);
    let authenticated = Router::new()
        .route("/health", get(health))
        .route("/v1/patients", post(staff_register))
        .route("/v1/patients/{id}", get(patient).patch(change_profile))
        .route(
            "/v1/patients/{id}/appointments",
            get(appointments).post(book),
        )
        .route("/v1/patients/{id}/notes", get(notes).post(add_note))
        .route("/v1/patients/{id}/proxies", post(grant_proxy))
        .route("/v1/patients/{id}/proxies/{proxy}", delete(revoke_proxy))
        .route("/v1/patients/{id}/phone", post(set_phone))
        .route("/v1/patients/{id}/phone/verify", post(verify_phone))
        .route("/v1/patients/{id}/disclosures", get(disclosures))
        .route("/v1/patients/{id}/change-requests", get(change_requests))
        .route("/v1/patients/{id}/discharge", post(discharge))
        .route("/v1/patients/{id}/vitals", post(upload_vitals))
        .route("/v1/change-requests/{id}/approve", post(approve))
        .route("/v1/duplicates", get(duplicates))
        .route("/v1/duplicates/{id}/resolve", post(resolve_duplicate))
        .route("/v1/providers/{id}/unavailable", post(unavailable))
        .route("/v1/appointments/{id}/cancel", post(cancel))
        .route("/v1/appointments/{id}/reschedule", post(reschedule))
        .route("/v1/appointments/{id}/check-in", post(check_in))
        .route("/v1/appointments/{id}/complete", post(complete))
        .route("/v1/surveys/{id}/response", post(answer_survey))
        .route("/v1/surveys/report", get(survey_report))
        .route("/v1/appointments/{id}/charges", post(charge_visit))
        .route("/v1/billing/remittance", post(post_remittance))
        .route("/v1/billing/work-queue", get(work_queue))
        .route("/v1/billing/aging", get(aging))
        .route("/v1/patients/{id}/statement", get(statement))
        .route("/v1/patients/{id}/payments", post(pay))
        .route("/v1/sms/inbound", post(inbound_sms))
        .route("/v1/reviews", get(reviews))
        .route("/v1/audit/verify", get(verify_audit))
        .route("/v1/alerts", get(alerts))
        .route("/v1/alerts/{id}/ack", post(ack_alert))
        .route("/v1/outbox", get(outbox))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(clinic)
        // After the JSON API's method fallback, so the FHIR routes keep their own.
        .merge(fhir_authenticated)
        .merge(portal);
    crate::limits::apply(anonymous, authenticated, limits)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path == "/fhir" || path.starts_with("/fhir/") {
        return crate::fhir::unknown_route();
    }
    ClinicError::NotFound { kind: "route" }.into_response()
}

async fn method_not_allowed() -> Response {
    let body = json!({ "error": { "code": "method_not_allowed", "message": "method not allowed on this route", "details": [] } });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

pub(crate) fn principal(clinic: &Clinic, headers: &HeaderMap) -> Result<Principal, ClinicError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ClinicError::Unauthenticated)?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or(ClinicError::Unauthenticated)?
        .trim();
    if token.is_empty() || token.len() > 200 {
        return Err(ClinicError::Unauthenticated);
    }
    clinic.authenticate(token)
}

/// Authenticates and applies the endpoint's gate for a patient-addressed route, before any
/// body is read.
fn gate(
    clinic: &Clinic,
    headers: &HeaderMap,
    endpoint: Endpoint,
    patient: Option<PatientId>,
) -> Result<Principal, ClinicError> {
    let who = principal(clinic, headers)?;
    clinic.permit(endpoint, Some(&who), patient)?;
    Ok(who)
}

/// As [`gate`] for a route addressed by appointment id.
fn gate_appointment(
    clinic: &Clinic,
    headers: &HeaderMap,
    endpoint: Endpoint,
    id: AppointmentId,
) -> Result<Principal, ClinicError> {
    let who = principal(clinic, headers)?;
    clinic.permit_appointment(endpoint, &who, id)?;
    Ok(who)
}

/// Runs `f` on a blocking thread: every store call (SQLite, PostgreSQL, fsync) and every wait
/// for the clinic's lock happens there, never on the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    clinic: Shared,
    f: impl FnOnce(&Clinic) -> Result<T, ClinicError> + Send + 'static,
) -> Result<T, ClinicError> {
    tokio::task::spawn_blocking(move || {
        let answer = f(&clinic);
        // Group commit: what this request wrote (a refusal may have written its audit entry)
        // is flushed, together with other requests' writes, before the answer leaves.
        clinic.wait_durable()?;
        answer
    })
    .await
    .map_err(|_| ClinicError::Internal)?
}

async fn gate_async(
    clinic: &Shared,
    headers: &HeaderMap,
    endpoint: Endpoint,
    patient: Option<PatientId>,
) -> Result<Principal, ClinicError> {
    let headers = headers.clone();
    blocking(clinic.clone(), move |c| {
        gate(c, &headers, endpoint, patient)
    })
    .await
}

async fn gate_appointment_async(
    clinic: &Shared,
    headers: &HeaderMap,
    endpoint: Endpoint,
    id: AppointmentId,
) -> Result<Principal, ClinicError> {
    let headers = headers.clone();
    blocking(clinic.clone(), move |c| {
        gate_appointment(c, &headers, endpoint, id)
    })
    .await
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ClinicError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ClinicError::PayloadTooLarge)
}

/// Parses JSON without echoing any of the input in the error.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ClinicError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            serde_json::error::Category::Data => {
                "a field has the wrong type, is missing or is unknown"
            }
            serde_json::error::Category::Io => "unreadable body",
        };
        ClinicError::BadRequest {
            message: format!("{what} at line {} column {}", e.line(), e.column()),
            details: vec![what.to_string()],
        }
    })
}

fn parse_id<T: std::str::FromStr>(raw: &str, kind: &str) -> Result<T, ClinicError> {
    raw.parse()
        .map_err(|_| ClinicError::bad(format!("{kind}: expected a UUID")))
}

pub(crate) fn break_glass(headers: &HeaderMap) -> Result<Option<String>, ClinicError> {
    match headers.get("x-break-glass") {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| ClinicError::bad("x-break-glass: must be visible ASCII"))?
                .trim();
            if s.len() < 10 || s.len() > 500 {
                return Err(ClinicError::bad(
                    "x-break-glass: a justification of 10 to 500 characters",
                ));
            }
            Ok(Some(s.to_string()))
        }
    }
}

/// Minimal `a=b&c=d` parsing with percent-decoding.
pub(crate) fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ClinicError> {
    let mut out = Vec::new();
    for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, ClinicError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ClinicError::bad("query: bad percent-encoding"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ClinicError::bad("query: not UTF-8"))
}

/// The years the API accepts in instants: nothing before 1900 (year 0 included) or after 2200.
fn year_in_range(t: Timestamp) -> bool {
    use chrono::Datelike;
    (1900..=2200).contains(&t.year())
}

fn instant_param(v: &str, name: &str) -> Result<Timestamp, ClinicError> {
    v.parse::<Timestamp>()
        .ok()
        .filter(|t| year_in_range(*t))
        .ok_or_else(|| {
            ClinicError::bad(format!(
                "{name}: expected an RFC 3339 instant between 1900 and 2200"
            ))
        })
}

/// A period the API accepts: start before end (never zero-length), both in range.
fn checked_period(start: Timestamp, end: Timestamp) -> Result<Period, ClinicError> {
    if !year_in_range(start) || !year_in_range(end) {
        return Err(ClinicError::bad(
            "start, end: between the years 1900 and 2200",
        ));
    }
    if end <= start {
        return Err(ClinicError::bad("end: must be after start"));
    }
    Period::new(start, end).map_err(|_| ClinicError::bad("end: must be after start"))
}

async fn health(State(clinic): State<Shared>) -> ApiResult {
    blocking(clinic, |c| {
        let status = if c.degraded().is_some() {
            "degraded"
        } else {
            "ok"
        };
        ok(json!({ "status": status, "set_up": c.is_set_up() }))
    })
    .await
}

async fn self_register(State(clinic): State<Shared>, body: Body) -> ApiResult {
    let form: Registration = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| created(c.register(&form, None)?)).await
}

async fn staff_register(State(clinic): State<Shared>, headers: HeaderMap, body: Body) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::StaffRegister, None).await?;
    let form: Registration = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| created(c.register(&form, Some(&who))?)).await
}

async fn patient(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        let id: PatientId = parse_id(&id, "patient")?;
        ok(c.patient(&who, id, break_glass(&headers)?.as_deref())?)
    })
    .await
}

async fn change_profile(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::ChangeProfile, Some(id)).await?;
    let change: ProfileChange = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| ok(c.change_profile(&who, id, &change)?)).await
}

async fn appointments(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.appointments(&who, parse_id(&id, "patient")?)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookBody {
    option: SlotOption,
    client_token: String,
}

async fn book(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::Book, Some(id)).await?;
    let b: BookBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| {
        created(c.book(&who, id, b.option, &b.client_token)?)
    })
    .await
}

async fn notes(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.notes(
            &who,
            parse_id(&id, "patient")?,
            break_glass(&headers)?.as_deref(),
        )?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

async fn add_note(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::AddNote, Some(id)).await?;
    let b: NoteBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| created(c.add_note(&who, id, &b.text)?)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProxyBody {
    classes: Vec<String>,
    relationship: Relationship,
}

async fn grant_proxy(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::GrantProxy, Some(id)).await?;
    let b: ProxyBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| {
        created(c.grant_proxy(&who, id, &b.classes, b.relationship)?)
    })
    .await
}

async fn revoke_proxy(
    State(clinic): State<Shared>,
    Path((id, proxy)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let id: PatientId = parse_id(&id, "patient")?;
        let proxy: RelatedPersonId = parse_id(&proxy, "proxy")?;
        let who = gate(c, &headers, Endpoint::RevokeProxy, Some(id))?;
        ok(c.revoke_proxy(&who, id, proxy)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: String,
}

async fn set_phone(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::SetPhone, Some(id)).await?;
    let b: PhoneBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| ok(c.set_phone(&who, id, &b.phone)?)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

async fn verify_phone(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::VerifyPhone, Some(id)).await?;
    let b: CodeBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| ok(c.verify_phone(&who, id, &b.code)?)).await
}

async fn disclosures(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.disclosures(&who, parse_id(&id, "patient")?)?)
    })
    .await
}

async fn change_requests(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.change_requests(&who, parse_id(&id, "patient")?)?)
    })
    .await
}

async fn approve(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        let id: ChangeRequestId = parse_id(&id, "change request")?;
        ok(c.approve_request(&who, id)?)
    })
    .await
}

async fn duplicates(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.duplicates(&who)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    same_person: bool,
}

async fn resolve_duplicate(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::ResolveDuplicate, None).await?;
    let id: PatientId = parse_id(&id, "patient")?;
    let b: ResolveBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| {
        let verdict = if b.same_person {
            DuplicateVerdict::SamePerson
        } else {
            DuplicateVerdict::DifferentPeople
        };
        ok(c.resolve_duplicate(&who, id, verdict)?)
    })
    .await
}

async fn discharge(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.discharge(&who, parse_id(&id, "patient")?)?)
    })
    .await
}

async fn upload_vitals(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::UploadVitals, Some(id)).await?;
    let bytes = read_body(body, MAX_VITALS_BYTES).await?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| ClinicError::bad("body: not UTF-8"))?;
    blocking(clinic, move |c| ok(c.upload_vitals(&who, id, &text)?)).await
}

async fn slots(State(clinic): State<Shared>, RawQuery(query): RawQuery) -> ApiResult {
    blocking(clinic, move |c| {
        let mut search = SlotSearch::default();
        for (k, v) in query_pairs(query.as_deref())? {
            match k.as_str() {
                "appointment_type" => search.appointment_type = v,
                "from" => search.from = Some(instant_param(&v, "from")?),
                "to" => search.to = Some(instant_param(&v, "to")?),
                "provider" => search.provider = Some(parse_id(&v, "provider")?),
                "limit" => {
                    search.limit = Some(
                        v.parse()
                            .map_err(|_| ClinicError::bad("limit: expected a number"))?,
                    )
                }
                // The name is not echoed: error messages carry codes and field paths only.
                _ => return Err(ClinicError::bad("unknown query parameter")),
            }
        }
        if search.appointment_type.is_empty() {
            return Err(ClinicError::bad("appointment_type: required"));
        }
        let options = c.find_slots(&search)?;
        ok(json!(options))
    })
    .await
}

async fn providers(State(clinic): State<Shared>) -> ApiResult {
    blocking(clinic, move |c| ok(json!(c.providers()))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodBody {
    start: Timestamp,
    end: Timestamp,
}

async fn unavailable(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::ProviderUnavailable, None).await?;
    let id: ProviderId = parse_id(&id, "provider")?;
    let b: PeriodBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    let period = checked_period(b.start, b.end)?;
    blocking(clinic, move |c| {
        ok(c.provider_unavailable(&who, id, period)?)
    })
    .await
}

async fn cancel(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        let id: AppointmentId = parse_id(&id, "appointment")?;
        ok(c.cancel(&who, id)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RescheduleBody {
    option: SlotOption,
}

async fn reschedule(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: AppointmentId = parse_id(&id, "appointment")?;
    let who = gate_appointment_async(&clinic, &headers, Endpoint::Reschedule, id).await?;
    let b: RescheduleBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| ok(c.reschedule(&who, id, b.option)?)).await
}

async fn check_in(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.check_in(&who, parse_id(&id, "appointment")?)?)
    })
    .await
}

async fn complete(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.complete(&who, parse_id(&id, "appointment")?)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyBody {
    answers: serde_json::Map<String, Value>,
}

async fn answer_survey(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    use crate::clinic::SurveyAnswerValue as A;
    let who = gate_async(&clinic, &headers, Endpoint::AnswerSurvey, None).await?;
    let id: AppointmentId = parse_id(&id, "survey invitation")?;
    let b: SurveyBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    let mut answers = Vec::new();
    let mut problems = Vec::new();
    for (item, value) in b.answers {
        let item_path: String = item.chars().take(64).collect();
        match value {
            Value::Bool(x) => answers.push((item, A::Boolean(x))),
            Value::Number(n) => match n.as_i64() {
                Some(n) => answers.push((item, A::Integer(n))),
                None => problems.push(format!("answers.{item_path}: expected an integer")),
            },
            Value::String(t) if t.len() <= 2000 => {
                answers.push((item, A::Text(bedside_core::Sensitive::new(t))));
            }
            _ => problems.push(format!(
                "answers.{item_path}: expected a code, text, integer or boolean"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ClinicError::BadRequest {
            message: format!("{} problem(s) in the answers", problems.len()),
            details: problems,
        });
    }
    blocking(clinic, move |c| {
        created(c.answer_survey(&who, id, answers)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChargeBody {
    codes: Vec<String>,
    /// The claim a corrected claim replaces.
    #[serde(default)]
    replaces: Option<ClaimId>,
}

async fn charge_visit(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::Charge, None).await?;
    let id: AppointmentId = parse_id(&id, "appointment")?;
    let b: ChargeBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| {
        created(c.charge_visit(&who, id, &b.codes, b.replaces)?)
    })
    .await
}

async fn post_remittance(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::Remittance, None).await?;
    let bytes = read_body(body, MAX_VITALS_BYTES).await?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| ClinicError::bad("body: not UTF-8"))?;
    blocking(clinic, move |c| ok(c.post_remittance(&who, &text)?)).await
}

async fn work_queue(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.work_queue(&who)?)
    })
    .await
}

async fn aging(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.aging(&who)?)
    })
    .await
}

async fn statement(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.statement(&who, parse_id(&id, "patient")?)?)
    })
    .await
}

async fn pay(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id: PatientId = parse_id(&id, "patient")?;
    let who = gate_async(&clinic, &headers, Endpoint::Pay, Some(id)).await?;
    let mut b: PaymentRequest = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    if let Some(key) = headers.get("idempotency-key") {
        let key = key
            .to_str()
            .map_err(|_| ClinicError::bad("idempotency-key: must be visible ASCII"))?;
        match &b.client_token {
            Some(t) if t != key => {
                return Err(ClinicError::bad(
                    "idempotency-key: differs from client_token in the body",
                ));
            }
            _ => b.client_token = Some(key.to_string()),
        }
    }
    blocking(clinic, move |c| created(c.pay(&who, id, &b)?)).await
}

async fn survey_report(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.survey_report(&who)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsBody {
    message_id: String,
    from: String,
    body: String,
}

async fn inbound_sms(State(clinic): State<Shared>, headers: HeaderMap, body: Body) -> ApiResult {
    let who = gate_async(&clinic, &headers, Endpoint::InboundSms, None).await?;
    let b: SmsBody = parse_json(&read_body(body, MAX_JSON_BYTES).await?)?;
    blocking(clinic, move |c| {
        ok(c.inbound_sms(&who, &b.message_id, &b.from, &b.body)?)
    })
    .await
}

async fn reviews(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.reviews(&who)?)
    })
    .await
}

async fn verify_audit(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.verify_audit(&who)?)
    })
    .await
}

async fn alerts(State(clinic): State<Shared>, headers: HeaderMap) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        ok(c.alerts(&who)?)
    })
    .await
}

async fn ack_alert(
    State(clinic): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        let id: AlertId = parse_id(&id, "alert")?;
        ok(c.acknowledge_alert(&who, id)?)
    })
    .await
}

async fn outbox(
    State(clinic): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult {
    blocking(clinic, move |c| {
        let who = principal(c, &headers)?;
        let mut status = None;
        let mut patient = None;
        for (k, v) in query_pairs(query.as_deref())? {
            match (k.as_str(), v.as_str()) {
                ("status", "pending" | "sent" | "withdrawn") => status = Some(v),
                ("status", _) => {
                    return Err(ClinicError::bad("status: pending, sent or withdrawn"));
                }
                ("patient", _) => patient = Some(parse_id::<PatientId>(&v, "patient")?),
                _ => return Err(ClinicError::bad("unknown query parameter")),
            }
        }
        ok(json!(c.outbox(&who, status.as_deref(), patient)?))
    })
    .await
}

/// Serves the API on `listener` until `shutdown` completes, with the default rate limits.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    clinic: Arc<Clinic>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, clinic, &RateLimits::default(), shutdown).await
}

/// Serves the API on `listener` with `limits` until `shutdown` completes (the load generator
/// measures the backend with [`RateLimits::disabled`]).
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    clinic: Arc<Clinic>,
    limits: &RateLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the per-address rate limits.
    axum::serve(
        listener,
        router_with(clinic, limits).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
