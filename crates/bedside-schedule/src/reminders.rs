//! Reminder planning and message texts.
//!
//! [`plan_reminders`] turns an appointment and the patient's contact preferences into
//! [`PlannedReminder`]s: one per configured offset (e.g. 7 days, 48 hours, 2 hours before) and
//! contact route, moved out of the patient's quiet hours, never at or after the appointment and
//! never in the past. Re-planning after a change is a new plan plus [`diff_plans`]; a cancelled
//! appointment plans nothing, so the diff withdraws everything. [`render`] fills per-language
//! templates; SMS texts never carry clinical detail (no appointment type or provider).

use bedside_core::{AppointmentId, Channel, ContactRoute, Language, QuietHours, Timestamp};
use chrono::TimeDelta;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::AppointmentStatus;

/// Most offsets and routes considered (limits plan size).
pub const MAX_OFFSETS: usize = 16;

/// When to remind, before the appointment start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderConfig {
    /// Offsets in minutes before the start (e.g. 10080, 2880, 120).
    pub offsets_minutes: Vec<i64>,
    /// A reminder must leave at least this long before the start.
    pub min_lead_minutes: i64,
}

impl Default for ReminderConfig {
    fn default() -> Self {
        Self {
            offsets_minutes: vec![7 * 24 * 60, 48 * 60, 120],
            min_lead_minutes: 30,
        }
    }
}

/// How to reach the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPreferences {
    /// Routes to use, in order of preference (each gets its own reminders).
    pub routes: Vec<ContactRoute>,
    /// Quiet hours in the patient's zone.
    pub quiet_hours: Option<QuietHours>,
    /// Message language.
    pub language: Language,
    /// Whether the patient opted out of SMS (a STOP reply).
    pub sms_opted_out: bool,
}

/// What a reminder is about (no clinical detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSubject {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Its status (only `booked` and `pending` get reminders).
    pub status: AppointmentStatus,
    /// Start instant.
    pub start: Timestamp,
    /// Zone used to show the local date and time.
    pub zone: Tz,
}

/// One planned reminder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlannedReminder {
    /// When to send.
    pub send_at: Timestamp,
    /// The appointment.
    pub appointment: AppointmentId,
    /// Channel.
    pub channel: Channel,
    /// The configured offset it stands for, in minutes.
    pub offset_minutes: i64,
}

/// Plans reminders for `subject`, as of `at`.
pub fn plan_reminders(
    subject: &ReminderSubject,
    contact: &ContactPreferences,
    config: &ReminderConfig,
    at: Timestamp,
) -> Vec<PlannedReminder> {
    if !matches!(
        subject.status,
        AppointmentStatus::Booked | AppointmentStatus::Pending
    ) {
        return Vec::new();
    }
    let latest = subject.start - TimeDelta::minutes(config.min_lead_minutes.max(0));
    let mut out: Vec<PlannedReminder> = Vec::new();
    for route in contact.routes.iter().take(MAX_OFFSETS) {
        if route.channel == Channel::Sms && contact.sms_opted_out {
            continue;
        }
        for &offset in config.offsets_minutes.iter().take(MAX_OFFSETS) {
            let ideal = subject.start - TimeDelta::minutes(offset);
            let Some(send_at) = fit(ideal, latest, at, contact.quiet_hours.as_ref()) else {
                continue;
            };
            // Two offsets that land at the same moment send one message.
            if out
                .iter()
                .any(|r| r.channel == route.channel && r.send_at == send_at)
            {
                continue;
            }
            out.push(PlannedReminder {
                send_at,
                appointment: subject.appointment,
                channel: route.channel,
                offset_minutes: offset,
            });
        }
    }
    out.sort();
    out
}

/// Moves `ideal` out of quiet hours: forward if that still leaves before `latest`, else back
/// to the end of the last allowed stretch before it. `None` if nothing fits after `at`.
fn fit(
    ideal: Timestamp,
    latest: Timestamp,
    at: Timestamp,
    quiet: Option<&QuietHours>,
) -> Option<Timestamp> {
    // An offset already in the past is dropped: a later offset covers it.
    if ideal < at {
        return None;
    }
    let Some(q) = quiet else {
        return (ideal <= latest).then_some(ideal);
    };
    let forward = q.next_allowed(ideal);
    if forward <= latest {
        return Some(forward);
    }
    // Step back in 15-minute steps (at most two days) to the last allowed instant.
    let mut t = ideal.min(latest);
    for _ in 0..(2 * 24 * 4) {
        if t < at {
            return None;
        }
        if !q.is_quiet(t) {
            return Some(t);
        }
        t -= TimeDelta::minutes(15);
    }
    None
}

/// What changes between two plans: reminders to withdraw and reminders to schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanChange {
    /// In the old plan only.
    pub withdraw: Vec<PlannedReminder>,
    /// In the new plan only.
    pub schedule: Vec<PlannedReminder>,
}

/// The change from `old` to `new` (for a reschedule, or a cancel where `new` is empty).
pub fn diff_plans(old: &[PlannedReminder], new: &[PlannedReminder]) -> PlanChange {
    PlanChange {
        withdraw: old.iter().filter(|r| !new.contains(r)).cloned().collect(),
        schedule: new.iter().filter(|r| !old.contains(r)).cloned().collect(),
    }
}

/// Context for a message text. Only email may name the encounter type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContext {
    /// Clinic name as patients know it.
    pub clinic_name: String,
    /// Clinic phone number for questions.
    pub clinic_phone: String,
    /// Label of the encounter for email (e.g. "Dermatology follow-up"); never used in SMS.
    /// (Read also as `visit_label`, its former name.)
    #[serde(alias = "visit_label")]
    pub encounter_label: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Channel.
    pub channel: Channel,
    /// Language actually used (after fallback).
    pub language: Language,
    /// Subject line (email only).
    pub subject: Option<String>,
    /// Body text.
    pub body: String,
}

struct Template {
    lang: &'static str,
    sms: &'static str,
    email_subject: &'static str,
    email: &'static str,
    months: [&'static str; 12],
}

const TEMPLATES: [Template; 3] = [
    Template {
        lang: "en",
        sms: "{clinic}: reminder of your appointment on {date} at {time}. Reply C to confirm, R to reschedule, STOP to opt out.",
        email_subject: "Your appointment on {date}",
        email: "Hello,\n\nThis is a reminder of your {encounter} at {clinic} on {date} at {time}.\nTo confirm, cancel or reschedule, reply to this message or call {phone}.\n\n{clinic}",
        months: [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    },
    Template {
        lang: "es",
        sms: "{clinic}: le recordamos su cita el {date} a las {time}. Responda C para confirmar, R para cambiarla, STOP para no recibir más mensajes.",
        email_subject: "Su cita el {date}",
        email: "Hola:\n\nLe recordamos su {encounter} en {clinic} el {date} a las {time}.\nPara confirmar, cancelar o cambiar la cita, responda a este mensaje o llame al {phone}.\n\n{clinic}",
        months: [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
    },
    Template {
        lang: "fr",
        sms: "{clinic} : rappel de votre rendez-vous le {date} à {time}. Répondez C pour confirmer, R pour le déplacer, STOP pour ne plus recevoir de messages.",
        email_subject: "Votre rendez-vous du {date}",
        email: "Bonjour,\n\nNous vous rappelons votre {encounter} à {clinic} le {date} à {time}.\nPour confirmer, annuler ou déplacer le rendez-vous, répondez à ce message ou appelez le {phone}.\n\n{clinic}",
        months: [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
    },
];

/// The languages with templates.
pub fn template_languages() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.lang).collect()
}

/// Renders the reminder text for `channel` in `language` (falling back along the tag, then to
/// English), showing the start in `subject.zone`.
pub fn render(
    subject: &ReminderSubject,
    channel: Channel,
    language: &Language,
    context: &MessageContext,
) -> Message {
    let template = language
        .fallbacks()
        .iter()
        .find_map(|l| TEMPLATES.iter().find(|t| t.lang == l.as_str()))
        .unwrap_or(&TEMPLATES[0]);
    let local = subject.start.with_timezone(&subject.zone);
    let month = template.months[chrono::Datelike::month0(&local) as usize % 12];
    let day = chrono::Datelike::day(&local);
    let date = match template.lang {
        "en" => format!("{day} {month}"),
        "es" => format!("{day} de {month}"),
        _ => format!("{day} {month}"),
    };
    let time = local.format("%H:%M").to_string();
    let fill = |s: &str, encounter: &str| {
        s.replace("{clinic}", &context.clinic_name)
            .replace("{date}", &date)
            .replace("{time}", &time)
            .replace("{phone}", &context.clinic_phone)
            .replace("{encounter}", encounter)
    };
    let used = Language::new(template.lang).unwrap_or_else(|_| language.clone());
    match channel {
        Channel::Email => Message {
            channel,
            language: used,
            subject: Some(fill(template.email_subject, "")),
            body: fill(template.email, &context.encounter_label),
        },
        // Every other channel gets the short text without clinical detail.
        _ => Message {
            channel,
            language: used,
            subject: None,
            body: fill(template.sms, ""),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_core::{ManualClock, SeededIdGenerator};
    use chrono::NaiveTime;
    use std::sync::Arc;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn subject(start: &str) -> ReminderSubject {
        let ids = SeededIdGenerator::new(Arc::new(ManualClock::new(at("2026-01-01T00:00:00Z"))), 1);
        ReminderSubject {
            appointment: ids.generate(),
            status: AppointmentStatus::Booked,
            start: at(start),
            zone: chrono_tz::America::New_York,
        }
    }

    fn contact(quiet: bool) -> ContactPreferences {
        ContactPreferences {
            routes: vec![
                ContactRoute::new(Channel::Sms, "+12125550123"),
                ContactRoute::new(Channel::Email, "pat@example.org"),
            ],
            quiet_hours: quiet.then(|| {
                QuietHours::new(
                    chrono_tz::America::New_York,
                    NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
                    NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                )
            }),
            language: Language::new("en-US").unwrap(),
            sms_opted_out: false,
        }
    }

    fn times(plan: &[PlannedReminder], channel: Channel) -> Vec<String> {
        plan.iter()
            .filter(|r| r.channel == channel)
            .map(|r| r.send_at.to_rfc3339())
            .collect()
    }

    #[test]
    fn offsets_move_out_of_quiet_hours_and_never_after_the_start() {
        // 08:30 New York (12:30Z) on Wednesday 10 June 2026.
        let s = subject("2026-06-10T12:30:00Z");
        let plan = plan_reminders(
            &s,
            &contact(true),
            &ReminderConfig::default(),
            at("2026-06-01T00:00:00Z"),
        );
        // 7 days before: 08:30 local, allowed. 48 h before: 08:30, allowed.
        // 2 h before: 06:30 local is quiet; 08:00 would leave 30 min — allowed at exactly the
        // minimum lead (08:00 = start - 30 min).
        assert_eq!(
            times(&plan, Channel::Sms),
            vec![
                "2026-06-03T12:30:00+00:00",
                "2026-06-08T12:30:00+00:00",
                "2026-06-10T12:00:00+00:00"
            ]
        );
        assert_eq!(times(&plan, Channel::Email).len(), 3);
        // An 08:10 start: forward to 08:00 leaves only 10 minutes, so the 2-hour reminder goes
        // back, in 15-minute steps, to 20:55 the evening before (quiet from 21:00).
        let s = subject("2026-06-10T12:10:00Z");
        let plan = plan_reminders(
            &s,
            &contact(true),
            &ReminderConfig::default(),
            at("2026-06-01T00:00:00Z"),
        );
        assert_eq!(times(&plan, Channel::Sms)[2], "2026-06-10T00:55:00+00:00");
        assert!(plan.iter().all(|r| r.send_at < s.start));
    }

    #[test]
    fn past_offsets_are_dropped_and_opt_out_is_respected() {
        let s = subject("2026-06-10T15:00:00Z");
        let mut c = contact(false);
        let plan = plan_reminders(
            &s,
            &c,
            &ReminderConfig::default(),
            at("2026-06-09T00:00:00Z"),
        );
        assert_eq!(
            times(&plan, Channel::Sms),
            vec!["2026-06-10T13:00:00+00:00"]
        );
        c.sms_opted_out = true;
        let plan = plan_reminders(
            &s,
            &c,
            &ReminderConfig::default(),
            at("2026-06-09T00:00:00Z"),
        );
        assert!(times(&plan, Channel::Sms).is_empty());
        assert_eq!(times(&plan, Channel::Email).len(), 1);
    }

    #[test]
    fn reschedule_replans_and_cancel_withdraws() {
        let now = at("2026-06-01T00:00:00Z");
        let s = subject("2026-06-10T15:00:00Z");
        let c = contact(true);
        let old = plan_reminders(&s, &c, &ReminderConfig::default(), now);
        let mut moved = s.clone();
        moved.start = at("2026-06-12T15:00:00Z");
        let new = plan_reminders(&moved, &c, &ReminderConfig::default(), now);
        let change = diff_plans(&old, &new);
        assert_eq!(change.withdraw.len(), 6);
        assert_eq!(change.schedule.len(), 6);
        let mut cancelled = moved.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        let none = plan_reminders(&cancelled, &c, &ReminderConfig::default(), now);
        let change = diff_plans(&new, &none);
        assert_eq!((change.withdraw.len(), change.schedule.len()), (6, 0));
    }

    #[test]
    fn messages_per_language() {
        let s = subject("2026-06-10T13:30:00Z");
        let ctx = MessageContext {
            clinic_name: "Riverside Clinic".into(),
            clinic_phone: "+1 212 555 0100".into(),
            encounter_label: "Dermatology follow-up".into(),
        };
        let mut all = Vec::new();
        for lang in ["en-GB", "es", "fr-CA", "de"] {
            for ch in [Channel::Sms, Channel::Email] {
                let m = render(&s, ch, &Language::new(lang).unwrap(), &ctx);
                if ch == Channel::Sms {
                    assert!(!m.body.contains("Dermatology"), "{}", m.body);
                    assert!(m.body.contains("STOP"));
                }
                all.push(m);
            }
        }
        // German has no template and falls back to English.
        assert_eq!(all[6].language.as_str(), "en");
        insta::assert_json_snapshot!(all);
    }
}
