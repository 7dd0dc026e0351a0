//! My record: demographics as the clinic has them, and the home address edited at once (the
//! `PATCH /v1/patients/{id}` rules: contact details are self-service, a stale version is
//! refused, nothing is half-saved).

use super::account::current;
use super::*;
use crate::clinic::{AddressChange, PatientView, ProfileChange};
use crate::http::blocking;
use axum::extract::{RawQuery, State};

/// The address form as typed.
#[derive(Default)]
struct AddressValues {
    street: String,
    city: String,
    postal_code: String,
}

fn address_of(view: &PatientView) -> AddressValues {
    let home = view
        .record
        .addresses
        .iter()
        .find(|a| a.use_ == Some(bedside_records::model::AddressUse::Home))
        .or_else(|| view.record.addresses.first());
    match home {
        None => AddressValues::default(),
        Some(a) => AddressValues {
            street: a
                .lines
                .iter()
                .map(|l| l.expose().as_str())
                .collect::<Vec<_>>()
                .join(", "),
            city: a
                .city
                .as_ref()
                .map(|c| c.expose().clone())
                .unwrap_or_default(),
            postal_code: a
                .postal_code
                .as_ref()
                .map(|c| c.expose().clone())
                .unwrap_or_default(),
        },
    }
}

fn record_page(
    s: &Session,
    view: &PatientView,
    values: &AddressValues,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Markup {
    let t = s.lang.text();
    let r = &view.record;
    let name = r
        .names
        .first()
        .map(|n| {
            let mut parts: Vec<String> = n.given.iter().map(|g| g.expose().clone()).collect();
            if let Some(f) = &n.family {
                parts.push(f.expose().clone());
            }
            parts.join(" ")
        })
        .unwrap_or_default();
    let birth = r.birth_date.as_ref().map(|b| b.expose().to_string());
    let telecom = |system: bedside_records::TelecomSystem| {
        r.telecom
            .iter()
            .find(|c| c.system == Some(system))
            .and_then(|c| c.value.as_ref().map(|v| v.expose().clone()))
    };
    let phone = telecom(bedside_records::TelecomSystem::Phone);
    let email = telecom(bedside_records::TelecomSystem::Email);
    let language = r.preferred_language().map(|l| l.as_str().to_string());
    let row = |label: &str, value: Option<String>| {
        html! {
            dt { (label) }
            dd { @match value { Some(v) if !v.is_empty() => { (v) } _ => { span.empty { (t.not_on_file) } } } }
        }
    };
    html! {
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        (error_summary(t, errors))
        section.card aria-labelledby="about-title" {
            h2 #about-title { (t.records_title) }
            dl {
                (row(t.name, Some(name)))
                (row(t.birth_date, birth))
                (row(t.language, language))
            }
            p.hint { (t.name_change_note) }
        }
        section.card aria-labelledby="contact-title" {
            h2 #contact-title { (t.contact_title) }
            dl {
                (row(t.phone, phone))
                (row(t.email, email))
            }
        }
        section.card aria-labelledby="address-title" {
            h2 #address-title { (t.address_title) }
            form method="post" action="/portal/records/address" novalidate {
                (csrf_field(&s.csrf()))
                input type="hidden" name="base_version" value=(view.version);
                (Input { id: "street", label: t.street, hint: None, value: &values.street,
                    kind: "text", autocomplete: "street-address", required: false,
                    inputmode: None }.render(errors))
                (Input { id: "city", label: t.city, hint: None, value: &values.city,
                    kind: "text", autocomplete: "address-level2", required: false,
                    inputmode: None }.render(errors))
                (Input { id: "postal_code", label: t.postal_code, hint: None,
                    value: &values.postal_code, kind: "text", autocomplete: "postal-code",
                    required: false, inputmode: None }.render(errors))
                button type="submit" { (t.save_address) }
            }
        }
    }
}

/// `GET /portal/records`.
pub(crate) async fn show(
    State(p): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let s = match current(&p, &headers).await {
        Ok(s) => s,
        Err(ClinicError::Unauthenticated) => return see_other("/portal/sign-in", &[]),
        Err(e) => return error_page(request_lang(&headers), &e, None),
    };
    let t = s.lang.text();
    let (principal, patient) = (s.principal.clone(), s.patient);
    let view = match blocking(p.clinic.clone(), move |c| {
        c.patient(&principal, patient, None)
    })
    .await
    {
        Ok(v) => v,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let saved = query.as_deref() == Some("notice=saved");
    let body = record_page(
        &s,
        &view,
        &address_of(&view),
        &[],
        saved.then_some(t.address_saved),
    );
    page(
        StatusCode::OK,
        layout(s.lang, t.records_title, Some(&s), body),
    )
}

/// Every problem of an address form, next to its field.
fn check_address(t: &'static Text, v: &AddressValues) -> Vec<FieldError> {
    let bad = |value: &str, max: usize| value.len() > max || value.chars().any(char::is_control);
    let mut errors = Vec::new();
    if bad(&v.street, 200) {
        errors.push(FieldError {
            field: "street",
            message: t.invalid_street,
        });
    }
    if bad(&v.city, 200) {
        errors.push(FieldError {
            field: "city",
            message: t.invalid_city,
        });
    }
    if bad(&v.postal_code, 20) {
        errors.push(FieldError {
            field: "postal_code",
            message: t.invalid_postal,
        });
    }
    errors
}

/// `POST /portal/records/address`: the new home address, applied at once.
pub(crate) async fn save_address(
    State(p): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Response {
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
    let values = AddressValues {
        street: form.get("street").into(),
        city: form.get("city").into(),
        postal_code: form.get("postal_code").into(),
    };
    let Ok(base_version) = form.get("base_version").parse::<u32>() else {
        return error_page(s.lang, &ClinicError::bad("base_version"), Some(&s));
    };
    let mut errors = check_address(t, &values);
    let optional = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let change = ProfileChange {
        base_version,
        address: Some(AddressChange {
            lines: optional(&values.street).into_iter().collect(),
            city: optional(&values.city),
            postal_code: optional(&values.postal_code),
        }),
        sms_reminders: None,
        email_reminders: None,
        quiet_hours: None,
        name: None,
    };
    let (principal, patient) = (s.principal.clone(), s.patient);
    let valid = errors.is_empty();
    let outcome = blocking(p.clinic.clone(), move |c| {
        let saved = if valid {
            Some(c.change_profile(&principal, patient, &change))
        } else {
            None
        };
        Ok((saved, c.patient(&principal, patient, None)?))
    })
    .await;
    let (saved, view) = match outcome {
        Ok(x) => x,
        Err(e) => return error_page(s.lang, &e, Some(&s)),
    };
    let status = match saved {
        Some(Ok(_)) => return see_other("/portal/records?notice=saved", &[]),
        Some(Err(ClinicError::Conflict { .. })) => {
            errors.push(FieldError {
                field: "street",
                message: t.stale_record,
            });
            StatusCode::CONFLICT
        }
        Some(Err(ClinicError::BadRequest { details, .. })) => {
            for d in details {
                let (field, message) = if d.starts_with("address.city") {
                    ("city", t.invalid_city)
                } else if d.starts_with("address.postal_code") {
                    ("postal_code", t.invalid_postal)
                } else {
                    ("street", t.invalid_street)
                };
                if !errors.iter().any(|e| e.field == field) {
                    errors.push(FieldError { field, message });
                }
            }
            StatusCode::BAD_REQUEST
        }
        Some(Err(e)) => return error_page(s.lang, &e, Some(&s)),
        None => StatusCode::BAD_REQUEST,
    };
    let body = record_page(&s, &view, &values, &errors, None);
    page(status, layout(s.lang, t.records_title, Some(&s), body))
}
