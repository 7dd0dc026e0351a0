//! The booking search: the form (visit type, provider, day, morning or afternoon), its
//! checks, the day-by-day slot search and the options list.

use super::appointments::{provider_name, visit_label, when};
use super::*;
use crate::clinic::{ProviderListing, SlotSearch};
use crate::http::query_pairs;
use bedside_core::{AppointmentId, Period, ProviderId, RoomId, Timestamp};
use bedside_schedule::SlotOption;
use chrono::{NaiveDate, TimeZone};

/// Options shown for one search.
pub(super) const SHOWN_OPTIONS: usize = 12;
/// How far ahead the day picker accepts.
const MAX_DAYS_AHEAD: i64 = 90;

/// The booking search as the form holds it.
#[derive(Default, Clone)]
pub(super) struct Search {
    pub(super) visit_type: String,
    pub(super) provider: String,
    pub(super) day: String,
    pub(super) part: String,
}

impl Search {
    /// The search a query asks for (`None` when nothing was searched yet); a reschedule
    /// passes the visit type it keeps.
    pub(super) fn from_query(query: Option<&str>, fixed_type: Option<&str>) -> Option<Search> {
        let pairs = query_pairs(query).ok()?;
        if pairs.is_empty() {
            return None;
        }
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let visit_type = match fixed_type {
            Some(t) => t.to_string(),
            None => get("type")?,
        };
        Some(Search {
            visit_type,
            provider: get("provider").unwrap_or_default(),
            day: get("day").unwrap_or_default(),
            part: get("part").unwrap_or_default(),
        })
    }
}

/// The directory the booking pages need.
pub(super) struct Directory {
    pub(super) types: Vec<crate::clinic::VisitTypeListing>,
    pub(super) providers: Vec<ProviderListing>,
    pub(super) zone: chrono_tz::Tz,
    pub(super) now: Timestamp,
}

pub(super) fn directory(c: &Clinic) -> Directory {
    Directory {
        types: c.visit_types(),
        providers: c.providers(),
        zone: c.zone(),
        now: c.now(),
    }
}

/// Checks a search: every problem next to its field.
pub(super) fn check_search(
    t: &'static Text,
    d: &Directory,
    s: &Search,
) -> Result<CheckedSearch, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(kind) = d.types.iter().find(|k| k.code == s.visit_type) else {
        errors.push(FieldError {
            field: "type",
            message: t.invalid_visit_type,
        });
        return Err(errors);
    };
    let provider = match s.provider.as_str() {
        "" => None,
        raw => match raw.parse::<ProviderId>() {
            Ok(id)
                if d.providers
                    .iter()
                    .any(|p| p.id == id && p.skill == kind.skill) =>
            {
                Some(id)
            }
            _ => {
                errors.push(FieldError {
                    field: "provider",
                    message: t.invalid_provider,
                });
                None
            }
        },
    };
    let today = d.now.with_timezone(&d.zone).date_naive();
    // No day: each of the next two weeks' days.
    let days: Vec<NaiveDate> = if s.day.is_empty() {
        today.iter_days().take(14).collect()
    } else {
        NaiveDate::parse_from_str(&s.day, "%Y-%m-%d")
            .ok()
            .filter(|day| *day >= today && (*day - today).num_days() <= MAX_DAYS_AHEAD)
            .into_iter()
            .collect()
    };
    if days.is_empty() {
        errors.push(FieldError {
            field: "day",
            message: t.invalid_day,
        });
    }
    let morning = match s.part.as_str() {
        "morning" => Some(true),
        "afternoon" => Some(false),
        _ => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedSearch {
        base: SlotSearch {
            appointment_type: kind.code.clone(),
            from: None,
            to: None,
            provider,
            limit: Some(SHOWN_OPTIONS),
        },
        days,
        morning,
    })
}

/// A search that passed its checks: the days to look at and the part of the day.
pub(super) struct CheckedSearch {
    base: SlotSearch,
    days: Vec<NaiveDate>,
    /// `Some(true)` mornings (before noon), `Some(false)` afternoons, `None` all day.
    morning: Option<bool>,
}

/// The instants of a local day's part: from its first minute to its last second.
fn part_window(
    zone: chrono_tz::Tz,
    day: NaiveDate,
    morning: Option<bool>,
) -> Option<(Timestamp, Timestamp)> {
    let (from_hour, to) = match morning {
        Some(true) => (0, day.and_hms_opt(12, 0, 0)?),
        Some(false) => (12, day.succ_opt()?.and_hms_opt(0, 0, 0)?),
        None => (0, day.succ_opt()?.and_hms_opt(0, 0, 0)?),
    };
    let from = zone
        .from_local_datetime(&day.and_hms_opt(from_hour, 0, 0)?)
        .earliest()?;
    let to = zone.from_local_datetime(&to).earliest()?;
    Some((from.to_utc(), to.to_utc() - chrono::TimeDelta::seconds(1)))
}

/// The search form (`fixed_type`: a reschedule keeps the visit type).
pub(super) fn search_form(
    t: &Text,
    d: &Directory,
    s: &Search,
    action: &str,
    fixed_type: bool,
    errors: &[FieldError],
) -> Markup {
    let err = |f: &str| errors.iter().find(|e| e.field == f);
    html! {
        (error_summary(t, errors))
        form method="get" action=(action) novalidate {
            @if fixed_type {
                input type="hidden" name="type" value=(s.visit_type);
            } @else {
                div.field {
                    label for="type" { (t.visit_type) }
                    @if let Some(e) = err("type") { span.error-message #type-error { (e.message) } }
                    select #type name="type" aria-describedby=[err("type").map(|_| "type-error")]
                        aria-invalid=[err("type").map(|_| "true")] {
                        @for k in &d.types {
                            option value=(k.code) selected[k.code == s.visit_type] {
                                (visit_label(&k.code)) " (" (k.duration_minutes) " " (t.minutes) ")"
                            }
                        }
                    }
                }
            }
            div.field {
                label for="provider" { (t.provider) }
                @if let Some(e) = err("provider") { span.error-message #provider-error { (e.message) } }
                select #provider name="provider" aria-describedby=[err("provider").map(|_| "provider-error")]
                    aria-invalid=[err("provider").map(|_| "true")] {
                    option value="" { (t.any_provider) }
                    @for p in &d.providers {
                        option value=(p.id) selected[p.id.to_string() == s.provider] {
                            (p.name) " (" (p.skill) ")"
                        }
                    }
                }
            }
            (Input { id: "day", label: &format!("{} ({})", t.day, t.optional), hint: Some(t.day_hint),
                value: &s.day, kind: "text", autocomplete: "off", required: false,
                inputmode: Some("numeric") }
                .render(errors))
            fieldset.radios {
                legend { (t.part_of_day) }
                @for (value, text) in [("", t.any_time), ("morning", t.morning), ("afternoon", t.afternoon)] {
                    @let id = if value.is_empty() { "part-any".to_string() } else { format!("part-{value}") };
                    label for=(id) {
                        input #(id) type="radio" name="part" value=(value) checked[s.part == value];
                        (text)
                    }
                }
            }
            button type="submit" { (t.find_times) }
        }
    }
}

/// The query of one option (what the confirm page reads back; the server re-derives it).
fn option_query(o: &SlotOption) -> String {
    let mut q = format!(
        "type={}&provider={}&start={}&end={}",
        url_encode(&o.appointment_type),
        o.provider,
        url_encode(&o.period.start().to_rfc3339()),
        url_encode(&o.period.end().to_rfc3339()),
    );
    if let Some(r) = o.room {
        q.push_str(&format!("&room={r}"));
    }
    q
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Reads an option from form or query fields.
pub(super) fn read_option(get: impl Fn(&str) -> String) -> Option<SlotOption> {
    let start: Timestamp = get("start").parse().ok()?;
    let end: Timestamp = get("end").parse().ok()?;
    let room = match get("room").as_str() {
        "" => None,
        r => Some(r.parse::<RoomId>().ok()?),
    };
    let appointment_type = get("type");
    if appointment_type.is_empty() || appointment_type.len() > 100 {
        return None;
    }
    Some(SlotOption {
        appointment_type,
        provider: get("provider").parse().ok()?,
        room,
        equipment: None,
        period: Period::new(start, end).ok()?,
        score: 0,
    })
}

/// The options list of a search (`reschedule`: the appointment being moved).
pub(super) fn options_list(
    t: &Text,
    d: &Directory,
    options: &[SlotOption],
    reschedule: Option<AppointmentId>,
) -> Markup {
    html! {
        section aria-labelledby="options-title" {
            h2 #options-title { (t.options) }
            @if options.is_empty() {
                p.empty role="status" { (t.no_options) }
            } @else {
                ul.options {
                    @for o in options {
                        @let href = match reschedule {
                            Some(id) => format!("/portal/book/confirm?{}&move={id}", option_query(o)),
                            None => format!("/portal/book/confirm?{}", option_query(o)),
                        };
                        li {
                            (when(t, d.zone, o.period.start())) " — " (provider_name(&d.providers, o.provider))
                            div.actions {
                                a.button.secondary href=(href) {
                                    (t.choose) span.skip { ": " (when(t, d.zone, o.period.start())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Runs a checked search day by day: the options of the chosen part of the day, earliest
/// first, at most [`SHOWN_OPTIONS`].
pub(super) fn run_search(
    c: &Clinic,
    search: &CheckedSearch,
    zone: chrono_tz::Tz,
) -> Result<Vec<SlotOption>, ClinicError> {
    let mut options: Vec<SlotOption> = Vec::new();
    for day in &search.days {
        if options.len() >= SHOWN_OPTIONS {
            break;
        }
        let Some((from, to)) = part_window(zone, *day, search.morning) else {
            continue;
        };
        if to <= c.now() {
            continue;
        }
        let mut q = search.base.clone();
        q.from = Some(from);
        q.to = Some(to);
        let mut found = c.find_slots(&q)?;
        found.sort_by_key(|o| (o.period.start(), o.provider));
        options.extend(found);
    }
    options.truncate(SHOWN_OPTIONS);
    Ok(options)
}
