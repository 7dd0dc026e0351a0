//! Home, booking (search, options, confirm, confirmation with `.ics`), the appointments list
//! with cancel and reschedule.

use super::account::current;
use super::search::{
    Directory, Search, check_search, directory, options_list, read_option, run_search, search_form,
};
use super::*;
use crate::auth::os_random;
use crate::clinic::{AppointmentView, ProviderListing};
use crate::http::{blocking, query_pairs};
use axum::extract::{Path, RawQuery, State};
use bedside_core::{AppointmentId, ProviderId, Timestamp};
use chrono::{Datelike, Timelike};

/// The session, or the response for a request without one: a page GET goes to sign-in, a
/// form POST is refused with 401 (nothing is read or changed).
async fn signed_in(p: &Shared, headers: &HeaderMap, get: bool) -> Result<Session, Response> {
    match current(p, headers).await {
        Ok(s) => Ok(s),
        Err(ClinicError::Unauthenticated) if get => Err(see_other("/portal/sign-in", &[])),
        Err(e) => Err(error_page(request_lang(headers), &e, None)),
    }
}

/// A signed-in form post after its CSRF check.
async fn signed_in_form(
    p: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Session, Form), Response> {
    let s = signed_in(p, headers, false).await?;
    let form = Form::read(body)
        .await
        .map_err(|e| error_page(s.lang, &e, Some(&s)))?;
    if !form.csrf_ok(&s.token) {
        return Err(csrf_refused(s.lang));
    }
    Ok((s, form))
}

/// A local instant in words: "Tuesday 9 June 2026, 10:30".
pub(super) fn when(t: &Text, zone: chrono_tz::Tz, at: Timestamp) -> String {
    let local = at.with_timezone(&zone);
    let weekday = t.weekdays[local.weekday().num_days_from_monday() as usize];
    let month = t.months[local.month0() as usize];
    format!(
        "{weekday} {} {month} {}, {:02}:{:02}",
        local.day(),
        local.year(),
        local.hour(),
        local.minute()
    )
}

/// A visit type's words: its code read out (`gp-follow-up` → "Gp follow up").
pub(super) fn visit_label(code: &str) -> String {
    let words = code.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn provider_name(providers: &[ProviderListing], id: ProviderId) -> String {
    providers
        .iter()
        .find(|p| p.id == id)
        .map_or_else(String::new, |p| p.name.clone())
}

fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}${}.{:02}", abs / 100, abs % 100)
}

fn status_text(t: &Text, status: &str) -> &'static str {
    match status {
        "booked" => t.status_booked,
        "cancelled" => t.status_cancelled,
        _ => t.status_other,
    }
}

/// The notice a redirect asked for (fixed messages only: nothing from the query is shown).
fn notice(t: &Text, query: Option<&str>) -> Option<&'static str> {
    let pairs = query_pairs(query).ok()?;
    let (_, v) = pairs.iter().find(|(k, _)| k == "notice")?;
    match v.as_str() {
        "verified" => Some(t.verified),
        "cancelled" => Some(t.cancelled_notice),
        "rescheduled" => Some(t.rescheduled_notice),
        "booked" => Some(t.booked_text),
        _ => None,
    }
}

/// What the home page shows.
struct HomeData {
    name: String,
    appointments: Vec<AppointmentView>,
    due_minor: i64,
    providers: Vec<ProviderListing>,
    zone: chrono_tz::Tz,
    now: Timestamp,
}

/// `GET /portal/home`: next appointment, balance due, things to do, alerts.
pub(crate) async fn home(
    State(p): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let (principal, patient) = (s.principal.clone(), s.patient);
    let data = blocking(p.clinic.clone(), move |c| {
        let record = c.patient(&principal, patient, None)?;
        let name = record
            .record
            .names
            .first()
            .and_then(|n| n.given.first())
            .map(|g| g.expose().clone())
            .unwrap_or_default();
        Ok(HomeData {
            name,
            appointments: c.appointments(&principal, patient)?,
            due_minor: c.statement(&principal, patient)?.amount_due_minor,
            providers: c.providers(),
            zone: c.zone(),
            now: c.now(),
        })
    })
    .await;
    let d = match data {
        Ok(d) => d,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let next = d
        .appointments
        .iter()
        .filter(|a| a.status == "booked" && a.start > d.now)
        .min_by_key(|a| a.start);
    let alerts: Vec<&AppointmentView> = d
        .appointments
        .iter()
        .filter(|a| a.status == "pending" && a.start > d.now)
        .collect();
    let mut todo: Vec<(&str, &str)> = Vec::new();
    if next.is_none() {
        todo.push(("/portal/book", t.todo_book));
    }
    if let Some(n) = next
        && !n.confirmed
    {
        todo.push(("/portal/appointments", t.todo_confirm));
    }
    if d.due_minor > 0 {
        todo.push(("#balance", t.todo_pay));
    }
    let title = if d.name.is_empty() {
        t.hello.to_string()
    } else {
        format!("{}, {}", t.hello, d.name)
    };
    let body = html! {
        @if let Some(n) = notice(t, query.as_deref()) { p.notice role="status" { (n) } }
        div.grid {
            section.card aria-labelledby="next-title" {
                h2 #next-title { (t.next_appointment) }
                @match next {
                    Some(a) => {
                        p { strong { (visit_label(&a.appointment_type)) } }
                        p { (when(t, d.zone, a.start)) }
                        p { (t.with) " " (provider_name(&d.providers, a.provider)) }
                        p { a href={ "/portal/appointments/" (a.id) } { (t.nav_appointments) } }
                    }
                    None => {
                        p.empty { (t.no_upcoming) }
                        p { a.button href="/portal/book" { (t.nav_book) } }
                    }
                }
            }
            section.card #balance aria-labelledby="balance-title" {
                h2 #balance-title { (t.balance_due) }
                @if d.due_minor > 0 {
                    p.amount { (money(d.due_minor)) }
                } @else {
                    p.empty { (t.nothing_due) }
                }
            }
            section.card aria-labelledby="todo-title" {
                h2 #todo-title { (t.to_do) }
                @if todo.is_empty() {
                    p.empty { (t.nothing_to_do) }
                } @else {
                    ul { @for (href, text) in &todo { li { a href=(href) { (text) } } } }
                }
            }
            section.card aria-labelledby="alerts-title" {
                h2 #alerts-title { (t.alerts) }
                @if alerts.is_empty() {
                    p.empty { (t.no_alerts) }
                } @else {
                    ul { @for a in &alerts { li { (t.alert_pending) " (" (when(t, d.zone, a.start)) ")" } } }
                }
            }
        }
    };
    page(StatusCode::OK, layout(s.lang, &title, Some(&s), body))
}

/// `GET /portal/book`: the search form and, once searched, the options.
pub(crate) async fn search(
    State(p): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let asked = Search::from_query(query.as_deref(), None);
    let result = blocking(p.clinic.clone(), move |c| {
        let d = directory(c);
        let outcome = match &asked {
            None => None,
            Some(search) => Some(match check_search(t, &d, search) {
                Ok(q) => Ok(run_search(c, &q, d.zone)?),
                Err(errors) => Err(errors),
            }),
        };
        Ok((d, asked, outcome))
    })
    .await;
    let (d, asked, outcome) = match result {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let form_values = asked.unwrap_or_else(|| Search {
        visit_type: d.types.first().map(|k| k.code.clone()).unwrap_or_default(),
        ..Search::default()
    });
    let (status, errors, options) = match outcome {
        None => (StatusCode::OK, Vec::new(), None),
        Some(Ok(o)) => (StatusCode::OK, Vec::new(), Some(o)),
        Some(Err(e)) => (StatusCode::BAD_REQUEST, e, None),
    };
    let body = html! {
        (search_form(t, &d, &form_values, "/portal/book", false, &errors))
        @if let Some(o) = &options { (options_list(t, &d, o, None)) }
    };
    page(status, layout(s.lang, t.book_title, Some(&s), body))
}

/// `GET /portal/book/confirm`: what will be booked (or moved), with the confirm button.
pub(crate) async fn confirm_page(
    State(p): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let pairs = query_pairs(query.as_deref()).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or_else(String::new, |(_, v)| v.trim().to_string())
    };
    let Some(option) = read_option(get) else {
        return error_page(s.lang, &ClinicError::bad("option"), Some(&s));
    };
    let moving = match get("move").as_str() {
        "" => None,
        raw => match raw.parse::<AppointmentId>() {
            Ok(id) => Some(id),
            Err(_) => {
                return error_page(
                    s.lang,
                    &ClinicError::NotFound {
                        kind: "appointment",
                    },
                    Some(&s),
                );
            }
        },
    };
    let d = match blocking(p.clinic.clone(), |c| Ok(directory(c))).await {
        Ok(d) => d,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    // A fresh idempotency key per confirm page: submitting this form twice books once.
    let client_token = match os_random(16) {
        Ok(b) => hex(&b),
        Err(_) => return error_page(s.lang, &ClinicError::Internal, Some(&s)),
    };
    let action = match moving {
        Some(id) => format!("/portal/appointments/{id}/reschedule"),
        None => "/portal/book/confirm".to_string(),
    };
    let body = html! {
        div.card {
            p { strong { (visit_label(&option.appointment_type)) } }
            p { (when(t, d.zone, option.period.start())) }
            p { (t.with) " " (provider_name(&d.providers, option.provider)) }
        }
        form method="post" action=(action) {
            (csrf_field(&s.csrf()))
            input type="hidden" name="client_token" value=(client_token);
            input type="hidden" name="type" value=(option.appointment_type);
            input type="hidden" name="provider" value=(option.provider);
            input type="hidden" name="start" value=(option.period.start().to_rfc3339());
            input type="hidden" name="end" value=(option.period.end().to_rfc3339());
            @if let Some(r) = option.room { input type="hidden" name="room" value=(r); }
            button type="submit" { @if moving.is_some() { (t.confirm_move) } @else { (t.confirm_booking) } }
        }
    };
    page(
        StatusCode::OK,
        layout(s.lang, t.confirm_title, Some(&s), body),
    )
}

/// The page for an option that is gone (taken meanwhile, or never offered).
fn slot_gone(s: &Session) -> Response {
    let t = s.lang.text();
    page(
        StatusCode::CONFLICT,
        layout(
            s.lang,
            t.confirm_title,
            Some(s),
            html! {
                p role="alert" { (t.slot_gone) }
                p { a href="/portal/book" { (t.nav_book) } }
            },
        ),
    )
}

/// `POST /portal/book/confirm`: books once per confirm page (its client token).
pub(crate) async fn book(State(p): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let (s, form) = match signed_in_form(&p, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(option) = read_option(|k| form.get(k).to_string()) else {
        return error_page(s.lang, &ClinicError::bad("option"), Some(&s));
    };
    let client_token = form.get("client_token").to_string();
    let (principal, patient) = (s.principal.clone(), s.patient);
    let booked = blocking(p.clinic.clone(), move |c| {
        c.book(&principal, patient, option, &client_token)
    })
    .await;
    match booked {
        Ok(b) => see_other(
            &format!("/portal/appointments/{}?notice=booked", b.appointment),
            &[],
        ),
        Err(ClinicError::Conflict { .. }) => slot_gone(&s),
        Err(e) => error_page(s.lang, &e, Some(&s)),
    }
}

/// The signed-in patient's appointments, the directory, and the one asked for by id (from
/// the patient's own list: another patient's id is simply not found).
async fn own_appointments(
    p: &Shared,
    s: &Session,
) -> Result<(Vec<AppointmentView>, Directory), ClinicError> {
    let (principal, patient) = (s.principal.clone(), s.patient);
    blocking(p.clinic.clone(), move |c| {
        Ok((c.appointments(&principal, patient)?, directory(c)))
    })
    .await
}

fn find(list: &[AppointmentView], raw: &str) -> Result<AppointmentView, ClinicError> {
    let id: AppointmentId = raw.parse().map_err(|_| ClinicError::NotFound {
        kind: "appointment",
    })?;
    list.iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or(ClinicError::NotFound {
            kind: "appointment",
        })
}

/// The cancel and reschedule controls of a future booked appointment.
fn controls(t: &Text, s: &Session, a: &AppointmentView, d: &Directory) -> Markup {
    let label = when(t, d.zone, a.start);
    html! {
        @if a.status == "booked" && a.start > d.now {
            div.actions {
                a.button.secondary href={ "/portal/appointments/" (a.id) "/reschedule" } {
                    (t.reschedule) span.skip { ": " (label) }
                }
                form method="post" action={ "/portal/appointments/" (a.id) "/cancel" } {
                    (csrf_field(&s.csrf()))
                    button.secondary type="submit" { (t.cancel) span.skip { ": " (label) } }
                }
            }
        }
    }
}

/// `GET /portal/appointments`.
pub(crate) async fn list(
    State(p): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let (mut list, d) = match own_appointments(&p, &s).await {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    // Upcoming first (soonest first), then the past (latest first).
    list.sort_by_key(|a| {
        let future = a.start > d.now;
        (
            !future,
            if future {
                a.start.timestamp()
            } else {
                -a.start.timestamp()
            },
        )
    });
    let body = html! {
        @if let Some(n) = notice(t, query.as_deref()) { p.notice role="status" { (n) } }
        @if list.is_empty() {
            p.empty { (t.no_appointments) }
            p { a.button href="/portal/book" { (t.nav_book) } }
        } @else {
            ul.appointments {
                @for a in &list {
                    li {
                        strong { (visit_label(&a.appointment_type)) }
                        br;
                        (when(t, d.zone, a.start)) " — " (provider_name(&d.providers, a.provider))
                        br;
                        (t.status) ": " (status_text(t, a.status))
                        (controls(t, &s, a, &d))
                    }
                }
            }
        }
    };
    page(
        StatusCode::OK,
        layout(s.lang, t.appointments_title, Some(&s), body),
    )
}

/// `GET /portal/appointments/{id}`: one appointment (the confirmation after booking).
pub(crate) async fn detail(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let found = own_appointments(&p, &s)
        .await
        .and_then(|(list, d)| Ok((find(&list, &id)?, d)));
    let (a, d) = match found {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let notice = notice(t, query.as_deref());
    let title = if notice == Some(t.booked_text) {
        t.booked_title
    } else {
        t.nav_appointments
    };
    let body = html! {
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        div.card {
            p { strong { (visit_label(&a.appointment_type)) } }
            p { (when(t, d.zone, a.start)) }
            p { (t.with) " " (provider_name(&d.providers, a.provider)) }
            p { (t.status) ": " (status_text(t, a.status)) }
            @if a.status == "booked" {
                p { a href={ "/portal/appointments/" (a.id) "/calendar.ics" } download="appointment.ics" { (t.add_to_calendar) } }
            }
            (controls(t, &s, &a, &d))
        }
        p { a href="/portal/appointments" { (t.appointments_title) } }
    };
    page(StatusCode::OK, layout(s.lang, title, Some(&s), body))
}

/// `GET /portal/appointments/{id}/calendar.ics`.
pub(crate) async fn calendar(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = own_appointments(&p, &s)
        .await
        .and_then(|(list, d)| Ok((find(&list, &id)?, d)));
    let (a, d) = match found {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let name = p.clinic.config().name.clone();
    let uid = format!("{}@bedside", a.id);
    let summary = format!("{} — {name}", visit_label(&a.appointment_type));
    let text = ics::calendar(&ics::Event {
        uid: &uid,
        stamp: d.now,
        start: a.start,
        end: a.end,
        summary: &summary,
        location: &name,
    });
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"appointment.ics\"",
            ),
        ],
        text,
    )
        .into_response()
}

/// `POST /portal/appointments/{id}/cancel`: the id is the client's, so the clinic's own
/// appointment gate decides (someone else's appointment is not found, nothing changes).
pub(crate) async fn cancel(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (s, _form) = match signed_in_form(&p, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<AppointmentId>() else {
        return no_such_appointment(&s);
    };
    let principal = s.principal.clone();
    match blocking(p.clinic.clone(), move |c| c.cancel(&principal, id)).await {
        Ok(_) => see_other("/portal/appointments?notice=cancelled", &[]),
        Err(e) => error_page(s.lang, &e, Some(&s)),
    }
}

/// `GET /portal/appointments/{id}/reschedule`: the search for a new time of the same visit.
pub(crate) async fn reschedule_page(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match signed_in(&p, &headers, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = s.lang.text();
    let found = own_appointments(&p, &s)
        .await
        .and_then(|(list, _)| find(&list, &id));
    let a = match found {
        Ok(a) => a,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let asked = Search::from_query(query.as_deref(), Some(&a.appointment_type));
    let searched = asked.is_some();
    let values = asked.unwrap_or_else(|| Search {
        visit_type: a.appointment_type.clone(),
        provider: a.provider.to_string(),
        ..Search::default()
    });
    let v = values.clone();
    let result = blocking(p.clinic.clone(), move |c| {
        let d = directory(c);
        let outcome = if searched {
            Some(match check_search(t, &d, &v) {
                Ok(q) => Ok(run_search(c, &q, d.zone)?),
                Err(errors) => Err(errors),
            })
        } else {
            None
        };
        Ok((d, outcome))
    })
    .await;
    let (d, outcome) = match result {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let (status, errors, options) = match outcome {
        None => (StatusCode::OK, Vec::new(), None),
        Some(Ok(o)) => (StatusCode::OK, Vec::new(), Some(o)),
        Some(Err(e)) => (StatusCode::BAD_REQUEST, e, None),
    };
    let action = format!("/portal/appointments/{}/reschedule", a.id);
    let body = html! {
        div.card {
            p { strong { (visit_label(&a.appointment_type)) } }
            p { (when(t, d.zone, a.start)) }
        }
        (search_form(t, &d, &values, &action, true, &errors))
        @if let Some(o) = &options { (options_list(t, &d, o, Some(a.id))) }
    };
    page(status, layout(s.lang, t.reschedule_title, Some(&s), body))
}

/// `POST /portal/appointments/{id}/reschedule`: moves the appointment (the clinic's gate
/// decides whose it is; the option is re-derived from the server's own search).
pub(crate) async fn reschedule(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (s, form) = match signed_in_form(&p, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<AppointmentId>() else {
        return no_such_appointment(&s);
    };
    let Some(option) = read_option(|k| form.get(k).to_string()) else {
        return error_page(s.lang, &ClinicError::bad("option"), Some(&s));
    };
    let principal = s.principal.clone();
    match blocking(p.clinic.clone(), move |c| {
        c.reschedule(&principal, id, option)
    })
    .await
    {
        Ok(_) => see_other(
            &format!("/portal/appointments/{id}?notice=rescheduled"),
            &[],
        ),
        Err(ClinicError::Conflict { .. }) => slot_gone(&s),
        Err(e) => error_page(s.lang, &e, Some(&s)),
    }
}

/// The page an appointment id that is not one gets: not found, like someone else's.
fn no_such_appointment(s: &Session) -> Response {
    error_page(
        s.lang,
        &ClinicError::NotFound {
            kind: "appointment",
        },
        Some(s),
    )
}
