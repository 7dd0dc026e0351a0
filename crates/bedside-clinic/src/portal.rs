//! The patient portal: server-rendered HTML pages under `/portal`, built from the same
//! [`Clinic`] services as the JSON API (so every page passes the same gates, consent checks
//! and audit). See `docs/PORTAL.md`.
//!
//! - **Templates**: [`maud`] macros, checked at compile time, escaping every interpolation.
//! - **Sessions**: the `bedside_session` cookie holds a patient bearer token issued by the
//!   clinic's token machinery (stored only as SHA-256, valid on every node, expiring after
//!   [`SESSION_TTL_HOURS`]); `HttpOnly`, `SameSite=Strict`,
//!   `Path=/portal`, `Max-Age`, and `Secure` when [`PortalConfig::secure_cookies`] is set
//!   (`BEDSIDE_PORTAL_SECURE_COOKIES=1`). Signing out expires the token in the store.
//! - **CSRF**: every form carries SHA-256 of a label and the session token (before sign-in,
//!   of a random `bedside_pre` cookie); a POST without the matching value is refused with 403
//!   before anything is read or changed.
//! - **Headers**: every response carries a strict Content-Security-Policy (no scripts at
//!   all), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and, except for
//!   the stylesheet, `Cache-Control: no-store`.

use crate::auth::{Principal, hex, os_random};
use crate::clinic::{Clinic, SESSION_TTL_HOURS};
use crate::error::ClinicError;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bedside_core::PatientId;
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};
use std::sync::Arc;

mod account;
mod appointments;
pub mod i18n;
pub mod ics;
mod records;
mod search;

use i18n::{Lang, Text};

/// The portal's stylesheet, served at `/portal/portal.css`.
pub const STYLESHEET: &str = include_str!("portal/portal.css");

/// The Content-Security-Policy of every portal response: nothing but same-origin styles,
/// same-origin or inline-data images, and forms posting back to the portal.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bedside_session";
/// The pre-session cookie (CSRF on the sign-in and registration forms).
pub const PRE_SESSION_COOKIE: &str = "bedside_pre";
/// The language cookie (the patient's preference, set at sign-in; not personal data).
pub const LANG_COOKIE: &str = "bedside_lang";

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// How the portal is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortalConfig {
    /// Whether cookies carry `Secure` (the backend is reached over HTTPS, directly or behind
    /// a TLS-terminating proxy).
    pub secure_cookies: bool,
}

impl PortalConfig {
    /// From the environment: `BEDSIDE_PORTAL_SECURE_COOKIES=1` (or `true`) sets
    /// [`PortalConfig::secure_cookies`].
    pub fn from_env() -> Self {
        let secure = std::env::var("BEDSIDE_PORTAL_SECURE_COOKIES")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        PortalConfig {
            secure_cookies: secure,
        }
    }
}

/// What every portal handler shares.
pub(crate) struct Portal {
    pub(crate) clinic: Arc<Clinic>,
    pub(crate) config: PortalConfig,
}

type Shared = Arc<Portal>;

/// The portal's routes as two routers: the anonymous form posts (sign-in, registration),
/// which the HTTP layer puts under the strict per-address rate limit, and every other page.
pub fn routes(clinic: Arc<Clinic>, config: PortalConfig) -> (Router, Router) {
    let portal = Arc::new(Portal { clinic, config });
    let limited = Router::new()
        .route("/portal/sign-in", post(account::send_code))
        .route("/portal/sign-in/code", post(account::check_code))
        .route("/portal/register", post(account::register))
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(portal.clone());
    let pages = Router::new()
        .route("/portal", get(account::root))
        .route("/portal/", get(account::root))
        .route("/portal/portal.css", get(stylesheet))
        .route("/portal/sign-in", get(account::sign_in_page))
        .route("/portal/register", get(account::register_page))
        .route(
            "/portal/verify-phone",
            get(account::verify_page).post(account::verify),
        )
        .route("/portal/sign-out", post(account::sign_out))
        .route("/portal/home", get(appointments::home))
        .route("/portal/book", get(appointments::search))
        .route(
            "/portal/book/confirm",
            get(appointments::confirm_page).post(appointments::book),
        )
        .route("/portal/records", get(records::show))
        .route("/portal/records/address", post(records::save_address))
        .route("/portal/appointments", get(appointments::list))
        .route("/portal/appointments/{id}", get(appointments::detail))
        .route(
            "/portal/appointments/{id}/calendar.ics",
            get(appointments::calendar),
        )
        .route(
            "/portal/appointments/{id}/cancel",
            post(appointments::cancel),
        )
        .route(
            "/portal/appointments/{id}/reschedule",
            get(appointments::reschedule_page).post(appointments::reschedule),
        )
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(portal);
    (limited, pages)
}

/// Adds the security headers to every portal response.
async fn secure_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A signed-in patient.
pub(crate) struct Session {
    /// The session token (the cookie's value).
    pub(crate) token: String,
    /// Who the token is.
    pub(crate) principal: Principal,
    /// The patient.
    pub(crate) patient: PatientId,
    /// The page language.
    pub(crate) lang: Lang,
}

impl Session {
    /// The CSRF token of this session's forms.
    pub(crate) fn csrf(&self) -> String {
        csrf_token(&self.token)
    }
}

/// The CSRF token derived from a session (or pre-session) secret.
pub(crate) fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"bedside-portal-csrf-v1\0");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// Whether `given` is the CSRF token of `secret` (compared without stopping early).
pub(crate) fn csrf_matches(secret: &str, given: Option<&str>) -> bool {
    let want = csrf_token(secret);
    let Some(given) = given else {
        return false;
    };
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 200)
}

/// The language of a request: the language cookie, then `Accept-Language`, then English.
pub(crate) fn request_lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::from_tag(&v))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map_or(Lang::En, Lang::from_accept_language)
        })
}

/// The signed-in patient, if the session cookie holds a live patient token.
pub(crate) fn session(clinic: &Clinic, headers: &HeaderMap) -> Result<Session, ClinicError> {
    let token = cookie(headers, SESSION_COOKIE).ok_or(ClinicError::Unauthenticated)?;
    let principal = clinic.authenticate(&token)?;
    // Staff and proxy tokens are not portal sessions (proxies get their own pages later).
    let Principal::Patient { patient } = principal else {
        return Err(ClinicError::Unauthenticated);
    };
    Ok(Session {
        token,
        principal,
        patient,
        lang: request_lang(headers),
    })
}

/// A `Set-Cookie` value for a portal cookie (`max_age` 0 deletes it).
pub(crate) fn set_cookie(
    config: PortalConfig,
    name: &str,
    value: &str,
    max_age_seconds: i64,
) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path=/portal; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// The session cookie for a token.
pub(crate) fn session_cookie(config: PortalConfig, token: &str) -> String {
    set_cookie(config, SESSION_COOKIE, token, SESSION_TTL_HOURS * 3600)
}

/// A fresh pre-session secret.
pub(crate) fn new_pre_session() -> Result<String, ClinicError> {
    os_random(32)
        .map(|b| hex(&b))
        .map_err(|_| ClinicError::Internal)
}

/// The parsed fields of a form body.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Reads an `application/x-www-form-urlencoded` body (at most 16 KiB).
    pub(crate) async fn read(body: Body) -> Result<Form, ClinicError> {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ClinicError::PayloadTooLarge)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| ClinicError::bad("form: not UTF-8"))?;
        Ok(Form(crate::http::query_pairs(Some(text))?))
    }

    /// A field's value (the first, trimmed), or `""`.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Whether the form carries the CSRF token of `secret`.
    pub(crate) fn csrf_ok(&self, secret: &str) -> bool {
        csrf_matches(
            secret,
            self.0
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str()),
        )
    }
}

/// A form problem: which field (its `id`) and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) message: &'static str,
}

/// The error summary at the top of a form: a heading and a link to each field.
pub(crate) fn error_summary(t: &Text, errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 #error-summary-title { (t.error_summary) }
                ul {
                    @for e in errors {
                        li { a href={ "#" (e.field) } { (e.message) } }
                    }
                }
            }
        }
    }
}

/// One labelled text input with its hint and error, tied by `aria-describedby`.
pub(crate) struct Input<'a> {
    pub(crate) id: &'static str,
    pub(crate) label: &'a str,
    pub(crate) hint: Option<&'a str>,
    pub(crate) value: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) autocomplete: &'static str,
    pub(crate) required: bool,
    pub(crate) inputmode: Option<&'static str>,
}

impl Input<'_> {
    /// The field, with the error for it from `errors` if there is one.
    pub(crate) fn render(&self, errors: &[FieldError]) -> Markup {
        let error = errors.iter().find(|e| e.field == self.id);
        let hint_id = format!("{}-hint", self.id);
        let error_id = format!("{}-error", self.id);
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if error.is_some() {
            described.push(error_id.clone());
        }
        let described = described.join(" ");
        html! {
            div.field {
                label for=(self.id) { (self.label) }
                @if let Some(h) = self.hint { span.hint id=(hint_id) { (h) } }
                @if let Some(e) = error { span.error-message id=(error_id) { (e.message) } }
                input id=(self.id) name=(self.id) type=(self.kind) value=(self.value)
                    autocomplete=(self.autocomplete)
                    inputmode=[self.inputmode]
                    required[self.required]
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                    aria-invalid=[error.map(|_| "true")];
            }
        }
    }
}

/// The hidden CSRF field.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A whole page: `lang`, title, skip link, header (navigation and sign-out when signed in).
pub(crate) fn layout(lang: Lang, title: &str, session: Option<&Session>, body: Markup) -> Markup {
    let t = lang.text();
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (t.portal) }
                link rel="stylesheet" href="/portal/portal.css";
            }
            body {
                a.skip href="#main" { (t.skip) }
                header {
                    a.brand href="/portal" { (t.portal) }
                    @if let Some(s) = session {
                        nav aria-label=(t.portal) {
                            ul {
                                li { a href="/portal/home" { (t.nav_home) } }
                                li { a href="/portal/book" { (t.nav_book) } }
                                li { a href="/portal/appointments" { (t.nav_appointments) } }
                                li { a href="/portal/records" { (t.nav_records) } }
                                li {
                                    form method="post" action="/portal/sign-out" {
                                        (csrf_field(&s.csrf()))
                                        button.link type="submit" { (t.sign_out) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML response.
pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A `303 See Other` to `to`, with cookies to set.
pub(crate) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The page shown for a refusal: the status of the error and a plain sentence (never the
/// error's text, which is for API clients, and never a stack trace).
pub(crate) fn error_page(lang: Lang, error: &ClinicError, session: Option<&Session>) -> Response {
    if let ClinicError::Storage(e) = error {
        eprintln!("portal: storage failure: {e}");
    }
    let t = lang.text();
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let (title, text) = match error {
        ClinicError::Unauthenticated => (t.sign_in, t.session_ended),
        ClinicError::Forbidden { .. } => (t.portal, t.forbidden),
        ClinicError::NotFound { .. } => (t.portal, t.not_found),
        ClinicError::Conflict { .. } | ClinicError::AlreadyExists { .. } => (t.portal, t.conflict),
        ClinicError::LimitReached { .. } => (t.portal, t.too_many),
        ClinicError::BadRequest { .. } | ClinicError::PayloadTooLarge => (t.portal, t.bad_request),
        _ => (t.portal, t.unavailable),
    };
    let (href, link) = match error {
        ClinicError::Unauthenticated => ("/portal/sign-in", t.sign_in),
        _ => ("/portal", t.back_home),
    };
    let session = session.filter(|_| !matches!(error, ClinicError::Unauthenticated));
    page(
        status,
        layout(
            lang,
            title,
            session,
            html! {
                p { (text) }
                p { a href=(href) { (link) } }
            },
        ),
    )
}

/// The refusal of a form post without a valid CSRF token.
pub(crate) fn csrf_refused(lang: Lang) -> Response {
    error_page(
        lang,
        &ClinicError::Forbidden {
            reason: "csrf".into(),
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_tied_to_their_secret() {
        let a = csrf_token("pt_aaaa");
        assert_eq!(a.len(), 64);
        assert!(csrf_matches("pt_aaaa", Some(&a)));
        assert!(!csrf_matches("pt_bbbb", Some(&a)));
        assert!(!csrf_matches("pt_aaaa", Some("")));
        assert!(!csrf_matches("pt_aaaa", None));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x_bedside_session=evil; bedside_session=pt_1; other=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("pt_1"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn session_cookies_carry_every_flag() {
        let plain = session_cookie(PortalConfig::default(), "pt_1");
        assert_eq!(
            plain,
            "bedside_session=pt_1; Path=/portal; Max-Age=43200; HttpOnly; SameSite=Strict"
        );
        let secure = session_cookie(
            PortalConfig {
                secure_cookies: true,
            },
            "pt_1",
        );
        assert!(secure.ends_with("; Secure"), "{secure}");
    }
}
