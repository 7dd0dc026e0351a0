//! Sign-in with a texted code, account creation with phone verification, sign-out.

use super::*;
use crate::clinic::{Registration, RegistrationReply, e164};
use crate::http::blocking;
use axum::extract::State;

/// The signed-in patient, looked up off the async threads.
pub(crate) async fn current(p: &Shared, headers: &HeaderMap) -> Result<Session, ClinicError> {
    let headers = headers.clone();
    blocking(p.clinic.clone(), move |c| session(c, &headers)).await
}

/// The pre-session secret of this browser, and the cookie to set when it is new.
fn pre_session(p: &Portal, headers: &HeaderMap) -> Result<(String, Vec<String>), ClinicError> {
    match cookie(headers, PRE_SESSION_COOKIE) {
        Some(secret) => Ok((secret, Vec::new())),
        None => {
            let secret = new_pre_session()?;
            let set = set_cookie(p.config, PRE_SESSION_COOKIE, &secret, 3600);
            Ok((secret, vec![set]))
        }
    }
}

fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// `/portal`: home when signed in, else sign-in.
pub(crate) async fn root(State(p): State<Shared>, headers: HeaderMap) -> Response {
    match current(&p, &headers).await {
        Ok(_) => see_other("/portal/home", &[]),
        Err(_) => see_other("/portal/sign-in", &[]),
    }
}

fn phone_form(t: &Text, csrf: &str, phone: &str, errors: &[FieldError]) -> Markup {
    html! {
        (error_summary(t, errors))
        p { (t.sign_in_intro) }
        form method="post" action="/portal/sign-in" novalidate {
            (csrf_field(csrf))
            (Input { id: "phone", label: t.phone, hint: Some(t.phone_hint), value: phone,
                kind: "tel", autocomplete: "tel", required: true, inputmode: None }.render(errors))
            button type="submit" { (t.send_code) }
        }
        p { (t.no_account) " " a href="/portal/register" { (t.create_account) } }
    }
}

fn code_form(t: &Text, csrf: &str, phone: &str, errors: &[FieldError], sent: bool) -> Markup {
    html! {
        (error_summary(t, errors))
        @if sent { p.notice role="status" { (t.code_sent) } }
        form method="post" action="/portal/sign-in/code" novalidate {
            (csrf_field(csrf))
            input type="hidden" name="phone" value=(phone);
            (Input { id: "code", label: t.code, hint: Some(t.code_hint), value: "",
                kind: "text", autocomplete: "one-time-code", required: true,
                inputmode: Some("numeric") }.render(errors))
            button type="submit" { (t.sign_in) }
        }
        p { a href="/portal/sign-in" { (t.send_code) } }
    }
}

/// `GET /portal/sign-in`.
pub(crate) async fn sign_in_page(State(p): State<Shared>, headers: HeaderMap) -> Response {
    let lang = request_lang(&headers);
    let t = lang.text();
    let (secret, cookies) = match pre_session(&p, &headers) {
        Ok(x) => x,
        Err(e) => return error_page(lang, &e, None),
    };
    let body = phone_form(t, &csrf_token(&secret), "", &[]);
    with_cookies(
        page(StatusCode::OK, layout(lang, t.sign_in, None, body)),
        &cookies,
    )
}

/// The form of an anonymous post, after its CSRF check against the pre-session cookie.
async fn anonymous_form(headers: &HeaderMap, body: Body) -> Result<(String, Form), Response> {
    let lang = request_lang(headers);
    let Some(secret) = cookie(headers, PRE_SESSION_COOKIE) else {
        return Err(csrf_refused(lang));
    };
    let form = Form::read(body)
        .await
        .map_err(|e| error_page(lang, &e, None))?;
    if !form.csrf_ok(&secret) {
        return Err(csrf_refused(lang));
    }
    Ok((secret, form))
}

/// `POST /portal/sign-in`: sends a code if the number is a verified patient's, and shows the
/// code form either way.
pub(crate) async fn send_code(State(p): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let lang = request_lang(&headers);
    let t = lang.text();
    let (secret, form) = match anonymous_form(&headers, body).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    let csrf = csrf_token(&secret);
    let Some(phone) = e164(form.get("phone")) else {
        let errors = [FieldError {
            field: "phone",
            message: t.phone_invalid,
        }];
        let body = phone_form(t, &csrf, form.get("phone"), &errors);
        return page(StatusCode::BAD_REQUEST, layout(lang, t.sign_in, None, body));
    };
    let number = phone.clone();
    match blocking(p.clinic.clone(), move |c| c.request_sign_in_code(&number)).await {
        Ok(()) => page(
            StatusCode::OK,
            layout(
                lang,
                t.enter_code,
                None,
                code_form(t, &csrf, &phone, &[], true),
            ),
        ),
        Err(e) => error_page(lang, &e, None),
    }
}

/// `POST /portal/sign-in/code`: a matching code starts a session.
pub(crate) async fn check_code(
    State(p): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let lang = request_lang(&headers);
    let t = lang.text();
    let (secret, form) = match anonymous_form(&headers, body).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    let csrf = csrf_token(&secret);
    let phone = form.get("phone").to_string();
    let code = form.get("code").to_string();
    let wrong = |phone: &str| {
        let errors = [FieldError {
            field: "code",
            message: t.code_wrong,
        }];
        page(
            StatusCode::BAD_REQUEST,
            layout(
                lang,
                t.enter_code,
                None,
                code_form(t, &csrf, phone, &errors, false),
            ),
        )
    };
    if e164(&phone).is_none() {
        let errors = [FieldError {
            field: "phone",
            message: t.phone_invalid,
        }];
        let body = phone_form(t, &csrf, &phone, &errors);
        return page(StatusCode::BAD_REQUEST, layout(lang, t.sign_in, None, body));
    }
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return wrong(&phone);
    }
    let number = phone.clone();
    let signed_in = blocking(p.clinic.clone(), move |c| {
        let (patient, token) = c.sign_in(&number, &code)?;
        let principal = Principal::Patient { patient };
        // The patient's own language preference picks the pages' language from now on.
        let preferred = c
            .patient(&principal, patient, None)
            .ok()
            .and_then(|v| v.record.preferred_language())
            .and_then(|l| Lang::from_tag(l.as_str()));
        Ok((token, preferred))
    })
    .await;
    match signed_in {
        Ok((token, preferred)) => {
            let mut cookies = vec![
                session_cookie(p.config, &token),
                set_cookie(p.config, PRE_SESSION_COOKIE, "", 0),
            ];
            if let Some(l) = preferred {
                cookies.push(set_cookie(p.config, LANG_COOKIE, l.tag(), 365 * 86400));
            }
            see_other("/portal/home", &cookies)
        }
        Err(ClinicError::Unauthenticated) => wrong(&phone),
        Err(e) => error_page(lang, &e, None),
    }
}

/// What the registration form holds, to show it again with its errors.
#[derive(Default)]
struct RegisterValues {
    given: String,
    family: String,
    birth_date: String,
    phone: String,
    email: String,
    postal_code: String,
    language: String,
}

fn register_form(t: &Text, csrf: &str, v: &RegisterValues, errors: &[FieldError]) -> Markup {
    let language_error = errors.iter().find(|e| e.field == "language");
    html! {
        (error_summary(t, errors))
        p { (t.register_intro) }
        form method="post" action="/portal/register" novalidate {
            (csrf_field(csrf))
            (Input { id: "given", label: t.given, hint: None, value: &v.given, kind: "text",
                autocomplete: "given-name", required: true, inputmode: None }.render(errors))
            (Input { id: "family", label: t.family, hint: None, value: &v.family, kind: "text",
                autocomplete: "family-name", required: true, inputmode: None }.render(errors))
            (Input { id: "birth_date", label: t.birth_date, hint: Some(t.birth_date_hint),
                value: &v.birth_date, kind: "text", autocomplete: "bday", required: true,
                inputmode: Some("numeric") }.render(errors))
            (Input { id: "phone", label: t.phone, hint: Some(t.phone_hint), value: &v.phone,
                kind: "tel", autocomplete: "tel", required: true, inputmode: None }.render(errors))
            (Input { id: "email", label: &format!("{} ({})", t.email, t.optional), hint: None,
                value: &v.email, kind: "email", autocomplete: "email", required: false,
                inputmode: None }.render(errors))
            (Input { id: "postal_code", label: &format!("{} ({})", t.postal_code, t.optional),
                hint: None, value: &v.postal_code, kind: "text", autocomplete: "postal-code",
                required: false, inputmode: None }.render(errors))
            div.field {
                label for="language" { (t.language) }
                @if let Some(e) = language_error {
                    span.error-message #language-error { (e.message) }
                }
                select #language name="language"
                    aria-describedby=[language_error.map(|_| "language-error")]
                    aria-invalid=[language_error.map(|_| "true")] {
                    option value="en" selected[v.language != "es"] { "English" }
                    option value="es" lang="es" selected[v.language == "es"] { "Español" }
                }
            }
            button type="submit" { (t.create_account) }
        }
        p { a href="/portal/sign-in" { (t.sign_in) } }
    }
}

/// `GET /portal/register`.
pub(crate) async fn register_page(State(p): State<Shared>, headers: HeaderMap) -> Response {
    let lang = request_lang(&headers);
    let t = lang.text();
    let (secret, cookies) = match pre_session(&p, &headers) {
        Ok(x) => x,
        Err(e) => return error_page(lang, &e, None),
    };
    let values = RegisterValues {
        language: lang.tag().into(),
        ..RegisterValues::default()
    };
    let body = register_form(t, &csrf_token(&secret), &values, &[]);
    with_cookies(
        page(StatusCode::OK, layout(lang, t.create_account, None, body)),
        &cookies,
    )
}

/// The field a registration problem is about (the service's details start with the field's
/// path), and what the form says about it.
fn registration_problem(t: &'static Text, detail: &str) -> FieldError {
    let (field, message) = if detail.starts_with("given") {
        ("given", t.required_given)
    } else if detail.starts_with("family") {
        ("family", t.required_family)
    } else if detail.starts_with("phone") {
        ("phone", t.phone_invalid)
    } else if detail.starts_with("email") {
        ("email", t.invalid_email)
    } else if detail.starts_with("postal_code") {
        ("postal_code", t.invalid_postal_code)
    } else if detail.starts_with("birth") || detail.contains("birthDate") {
        ("birth_date", t.invalid_birth_date)
    } else {
        ("given", t.registration_refused)
    };
    FieldError { field, message }
}

/// `POST /portal/register`: the self-registration of `POST /v1/register`, then phone
/// verification. Nothing is saved unless every field is valid.
pub(crate) async fn register(State(p): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let (secret, form) = match anonymous_form(&headers, body).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    let values = RegisterValues {
        given: form.get("given").into(),
        family: form.get("family").into(),
        birth_date: form.get("birth_date").into(),
        phone: form.get("phone").into(),
        email: form.get("email").into(),
        postal_code: form.get("postal_code").into(),
        language: form.get("language").into(),
    };
    let lang = Lang::from_tag(&values.language).unwrap_or_else(|| request_lang(&headers));
    let t = lang.text();
    let optional = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let registration = Registration {
        given: values
            .given
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        family: values.family.clone(),
        birth_date: values.birth_date.clone(),
        phone: Some(values.phone.clone()),
        email: optional(&values.email),
        postal_code: optional(&values.postal_code),
        sms_reminders: None,
        language: Some(lang.tag().into()),
    };
    let reply = blocking(p.clinic.clone(), move |c| c.register(&registration, None)).await;
    match reply {
        Ok(RegistrationReply::Patient(r)) => {
            let cookies = [
                session_cookie(p.config, r.token.expose()),
                set_cookie(p.config, PRE_SESSION_COOKIE, "", 0),
                set_cookie(p.config, LANG_COOKIE, lang.tag(), 365 * 86400),
            ];
            see_other("/portal/verify-phone", &cookies)
        }
        Ok(RegistrationReply::Staff(_)) => error_page(lang, &ClinicError::Internal, None),
        Err(ClinicError::BadRequest { details, .. }) => {
            let mut errors: Vec<FieldError> = Vec::new();
            for d in &details {
                let e = registration_problem(t, d);
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
            // In the order of the form, so the summary reads top to bottom.
            let order = [
                "given",
                "family",
                "birth_date",
                "phone",
                "email",
                "postal_code",
            ];
            errors.sort_by_key(|e| order.iter().position(|f| *f == e.field));
            let body = register_form(t, &csrf_token(&secret), &values, &errors);
            page(
                StatusCode::BAD_REQUEST,
                layout(lang, t.create_account, None, body),
            )
        }
        Err(e) => error_page(lang, &e, None),
    }
}

fn verify_form(t: &Text, s: &Session, errors: &[FieldError]) -> Markup {
    html! {
        (error_summary(t, errors))
        p { (t.verify_intro) }
        form method="post" action="/portal/verify-phone" novalidate {
            (csrf_field(&s.csrf()))
            (Input { id: "code", label: t.code, hint: Some(t.code_hint), value: "",
                kind: "text", autocomplete: "one-time-code", required: true,
                inputmode: Some("numeric") }.render(errors))
            button type="submit" { (t.verify) }
        }
    }
}

/// `GET /portal/verify-phone`.
pub(crate) async fn verify_page(State(p): State<Shared>, headers: HeaderMap) -> Response {
    let s = match current(&p, &headers).await {
        Ok(s) => s,
        Err(_) => return see_other("/portal/sign-in", &[]),
    };
    let t = s.lang.text();
    page(
        StatusCode::OK,
        layout(s.lang, t.verify_phone, Some(&s), verify_form(t, &s, &[])),
    )
}

/// `POST /portal/verify-phone`: the code texted at registration.
pub(crate) async fn verify(State(p): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let lang = request_lang(&headers);
    let s = match current(&p, &headers).await {
        Ok(s) => s,
        Err(e) => return error_page(lang, &e, None),
    };
    let t = s.lang.text();
    let form = match Form::read(body).await {
        Ok(f) => f,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    if !form.csrf_ok(&s.token) {
        return csrf_refused(s.lang);
    }
    let code = form.get("code").to_string();
    let (principal, patient) = (s.principal.clone(), s.patient);
    let result = blocking(p.clinic.clone(), move |c| {
        c.verify_phone(&principal, patient, &code)
    })
    .await;
    let refused = |status: StatusCode, message: &'static str| {
        let errors = [FieldError {
            field: "code",
            message,
        }];
        page(
            status,
            layout(
                s.lang,
                t.verify_phone,
                Some(&s),
                verify_form(t, &s, &errors),
            ),
        )
    };
    match result {
        Ok(_) => see_other("/portal/home?notice=verified", &[]),
        Err(ClinicError::BadRequest { .. }) => refused(StatusCode::BAD_REQUEST, t.code_wrong),
        Err(ClinicError::Conflict { .. }) => refused(StatusCode::CONFLICT, t.verify_expired),
        Err(e) => error_page(s.lang, &e, Some(&s)),
    }
}

/// `POST /portal/sign-out`: the session token stops working everywhere, the cookie goes.
pub(crate) async fn sign_out(State(p): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let lang = request_lang(&headers);
    let clear = [set_cookie(p.config, SESSION_COOKIE, "", 0)];
    let Ok(s) = current(&p, &headers).await else {
        // Nothing to revoke: the session already ended.
        return see_other("/portal/sign-in", &clear);
    };
    let form = match Form::read(body).await {
        Ok(f) => f,
        Err(e) => return error_page(lang, &e, Some(&s)),
    };
    if !form.csrf_ok(&s.token) {
        return csrf_refused(lang);
    }
    let token = s.token.clone();
    match blocking(p.clinic.clone(), move |c| c.revoke_token(&token)).await {
        Ok(()) => see_other("/portal/sign-in", &clear),
        Err(e) => error_page(lang, &e, Some(&s)),
    }
}
