//! Every FHIR refusal as an `OperationOutcome`, with the status a FHIR client expects.
//!
//! The text of an outcome comes from [`ClinicError`]'s messages, which name fields, rules and
//! parameter names but never a request's values or PHI.

use super::{FHIR_JSON, resource_response};
use crate::error::ClinicError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Why the FHIR face refused a request.
#[derive(Debug)]
pub enum Refusal {
    /// A refusal of the clinic services (or of the FHIR layer's own parsing).
    Clinic(ClinicError),
    /// The route exists but not with this method (create, update, delete: not implemented).
    MethodNotAllowed,
    /// No such route: an unknown resource type or operation.
    UnknownRoute,
    /// `If-Match` names a version the resource is no longer at (412).
    PreconditionFailed,
    /// A well-formed request this server does not carry out (422): an update that changes
    /// more than the one thing updates may change.
    Unprocessable(&'static str),
}

impl From<ClinicError> for Refusal {
    fn from(e: ClinicError) -> Self {
        Refusal::Clinic(e)
    }
}

/// An `OperationOutcome` with one issue of severity `error`.
pub fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    })
}

/// Status, issue type code and text of a refusal.
fn classify(refusal: &Refusal) -> (StatusCode, &'static str, String) {
    let e = match refusal {
        Refusal::MethodNotAllowed => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                "not-supported",
                "this interaction is not supported (see /fhir/metadata)".into(),
            );
        }
        Refusal::UnknownRoute => {
            return (
                StatusCode::NOT_FOUND,
                "not-supported",
                "unknown resource type or operation (see /fhir/metadata)".into(),
            );
        }
        Refusal::PreconditionFailed => {
            return (
                StatusCode::PRECONDITION_FAILED,
                "conflict",
                "If-Match: the resource is at another version".into(),
            );
        }
        Refusal::Unprocessable(why) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "business-rule",
                (*why).to_string(),
            );
        }
        Refusal::Clinic(e) => e,
    };
    let text = e.to_string();
    match e {
        ClinicError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "invalid", text),
        ClinicError::Unauthenticated => (StatusCode::UNAUTHORIZED, "login", text),
        // Another patient's record looks exactly like a missing one (no existence oracle).
        ClinicError::Forbidden { reason } if reason == "own record only" => (
            StatusCode::NOT_FOUND,
            "not-found",
            "patient not found".into(),
        ),
        ClinicError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", text),
        ClinicError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found", text),
        ClinicError::Conflict { .. } | ClinicError::AlreadyExists { .. } => {
            (StatusCode::CONFLICT, "conflict", text)
        }
        ClinicError::LimitReached { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled", text),
        ClinicError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too-costly", text),
        ClinicError::Degraded | ClinicError::Storage(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "transient", text)
        }
        // A bug in a worker; nothing in a request can cause it.
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "exception", text),
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if let Refusal::Clinic(ClinicError::Storage(e)) = &self {
            eprintln!("storage failure: {e}");
        }
        let (status, code, text) = classify(&self);
        let mut response = resource_response(status, None, &operation_outcome(code, &text));
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Refusal::Clinic(ClinicError::LimitReached {
            retry_after_seconds,
            ..
        }) = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        debug_assert_eq!(
            headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
            Some(FHIR_JSON.as_bytes())
        );
        response
    }
}
