//! Distribution planning: pure functions that decide which survey to send after which event, to
//! whom, on which channel and when, with reminder and expiry.
//!
//! [`plan`] takes trigger events (appointment completed, discharge, billing resolved), the
//! [`DistributionRule`]s, what is known about each [`Recipient`] and a [`FatiguePolicy`], and
//! returns a [`DistributionPlan`]: the sends, and every skipped event with its reason. Nothing is
//! sent and no clock is read; the same inputs and seed always give the same plan.
//!
//! For each event, in order of due time (event time + the rule's delay):
//! 1. a recipient who opted out of surveys gets nothing;
//! 2. fatigue: nothing if the patient was surveyed (before, or earlier in this plan) less than
//!    `min_days_between` days before the due time;
//! 3. sampling: the event is kept with the rule's `sampling_rate`, drawn from the seed;
//! 4. channel: the first of the rule's channels for which the recipient has a contact route;
//! 5. timing: interruptive channels (SMS, e-mail, voice) wait for the end of the recipient's
//!    quiet hours; the survey expires `expires_after_minutes` after the due time; a reminder
//!    goes `reminder_after_minutes` after the send (also outside quiet hours) if that is before
//!    expiry.

use crate::definition::SurveyRef;
use bedside_core::{Channel, ContactRoute, PatientId, QuietHours, SeededRng, Timestamp};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What happened that may call for a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// An appointment was completed.
    AppointmentCompleted,
    /// The patient was discharged.
    Discharged,
    /// A billing question or dispute was resolved.
    BillingResolved,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerEvent {
    /// What happened.
    pub kind: TriggerKind,
    /// To whom.
    pub patient: PatientId,
    /// When.
    pub at: Timestamp,
}

/// When and how to send one survey after one kind of event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionRule {
    /// The survey to send.
    pub survey: SurveyRef,
    /// The event that triggers it.
    pub trigger: TriggerKind,
    /// How long after the event it is due (for example discharge + 2 days).
    pub delay_minutes: i64,
    /// The share of events that get a survey, in `[0, 1]`.
    pub sampling_rate: f64,
    /// Channels in order of preference.
    pub channels: Vec<Channel>,
    /// When to remind, after the send; `None` for no reminder.
    pub reminder_after_minutes: Option<i64>,
    /// How long after the due time the survey link stops working.
    pub expires_after_minutes: i64,
}

impl DistributionRule {
    /// Sends `survey` on `trigger` by the first of `channels` the recipient has: due at the
    /// event, to every recipient (sampling rate 1), no reminder, expiring after 7 days. Change
    /// those with the builder methods.
    ///
    /// ```
    /// use bedside_core::Channel;
    /// use bedside_survey::Builtin;
    /// use bedside_survey::distribution::{DistributionRule, TriggerKind};
    ///
    /// let survey = Builtin::PostVisit.definition()?.reference();
    /// let rule = DistributionRule::new(survey, TriggerKind::AppointmentCompleted, vec![Channel::Sms])
    ///     .delay_minutes(120)
    ///     .sampling_rate(0.6)
    ///     .reminder_after_minutes(48 * 60);
    /// assert_eq!(rule.expires_after_minutes, 7 * 24 * 60);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(survey: SurveyRef, trigger: TriggerKind, channels: Vec<Channel>) -> Self {
        Self {
            survey,
            trigger,
            delay_minutes: 0,
            sampling_rate: 1.0,
            channels,
            reminder_after_minutes: None,
            expires_after_minutes: 7 * 24 * 60,
        }
    }

    /// Due `minutes` after the event.
    #[must_use]
    pub fn delay_minutes(mut self, minutes: i64) -> Self {
        self.delay_minutes = minutes;
        self
    }

    /// Surveys this share of events, in `[0, 1]`.
    #[must_use]
    pub fn sampling_rate(mut self, rate: f64) -> Self {
        self.sampling_rate = rate;
        self
    }

    /// Reminds `minutes` after the send.
    #[must_use]
    pub fn reminder_after_minutes(mut self, minutes: i64) -> Self {
        self.reminder_after_minutes = Some(minutes);
        self
    }

    /// Expires `minutes` after the due time.
    #[must_use]
    pub fn expires_after_minutes(mut self, minutes: i64) -> Self {
        self.expires_after_minutes = minutes;
        self
    }
}

/// Whether a person accepts surveys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SurveyConsent {
    /// Surveys may be sent.
    #[default]
    Accepts,
    /// The person opted out: never send.
    OptedOut,
}

/// What the planner knows about a patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    /// The patient.
    pub patient: PatientId,
    /// Opt-in status.
    pub consent: SurveyConsent,
    /// Contact routes.
    pub routes: Vec<ContactRoute>,
    /// Quiet hours, if the patient has any.
    pub quiet_hours: Option<QuietHours>,
    /// When the patient was last sent a survey.
    pub last_surveyed: Option<Timestamp>,
}

/// Limits on how often one person is surveyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FatiguePolicy {
    /// At most one survey per patient in this many days.
    pub min_days_between: i64,
}

impl Default for FatiguePolicy {
    fn default() -> Self {
        Self {
            min_days_between: 30,
        }
    }
}

/// One planned send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedSend {
    /// Index of the triggering event in the input.
    pub event: usize,
    /// The patient.
    pub patient: PatientId,
    /// The survey.
    pub survey: SurveyRef,
    /// The channel.
    pub channel: Channel,
    /// When to send.
    pub send_at: Timestamp,
    /// When to remind, if at all.
    pub reminder_at: Option<Timestamp>,
    /// When the survey expires.
    pub expires_at: Timestamp,
}

/// Why an event got no survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No rule for this kind of event.
    NoRule,
    /// The patient is not among the recipients given.
    UnknownRecipient,
    /// The patient opted out.
    OptedOut,
    /// The patient was surveyed too recently.
    Fatigue,
    /// Not drawn by sampling.
    NotSampled,
    /// The patient has no route on any of the rule's channels.
    NoChannel,
    /// Quiet hours push the send past expiry.
    ExpiresBeforeSend,
}

impl SkipReason {
    /// A short explanation for people (`the patient opted out of surveys`).
    pub fn describe(&self) -> &'static str {
        match self {
            SkipReason::NoRule => "no distribution rule for this kind of event",
            SkipReason::UnknownRecipient => "the patient is not among the recipients",
            SkipReason::OptedOut => "the patient opted out of surveys",
            SkipReason::Fatigue => "the patient was surveyed too recently",
            SkipReason::NotSampled => "not drawn in the sample",
            SkipReason::NoChannel => "the patient has no route on the rule's channels",
            SkipReason::ExpiresBeforeSend => "quiet hours push the send past expiry",
        }
    }
}

/// One skipped event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Index of the event in the input.
    pub event: usize,
    /// Why.
    pub reason: SkipReason,
}

/// The result of planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DistributionPlan {
    /// Sends, in order of send time.
    pub sends: Vec<PlannedSend>,
    /// Skipped events, in order of due time.
    pub skipped: Vec<Skipped>,
}

/// Plans survey sends for `events`. Each event is handled by the first rule for its kind.
pub fn plan(
    rules: &[DistributionRule],
    events: &[TriggerEvent],
    recipients: &[Recipient],
    policy: &FatiguePolicy,
    seed: u64,
) -> DistributionPlan {
    let by_patient: HashMap<PatientId, &Recipient> =
        recipients.iter().map(|r| (r.patient, r)).collect();
    let mut last_sent: HashMap<PatientId, Timestamp> = recipients
        .iter()
        .filter_map(|r| r.last_surveyed.map(|t| (r.patient, t)))
        .collect();
    let mut rng = SeededRng::new(seed);
    let mut out = DistributionPlan::default();

    // Pair each event with its rule and due time, then handle them in due order (ties by input
    // order) so that fatigue keeps the earliest survey.
    let mut queue: Vec<(Timestamp, usize, Option<&DistributionRule>)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let rule = rules.iter().find(|r| r.trigger == e.kind);
            let due = rule.map_or(e.at, |r| e.at + TimeDelta::minutes(r.delay_minutes));
            (due, i, rule)
        })
        .collect();
    queue.sort_by_key(|(due, i, _)| (*due, *i));

    for (due, i, rule) in queue {
        let event = &events[i];
        let skip = |reason| Skipped { event: i, reason };
        let Some(rule) = rule else {
            out.skipped.push(skip(SkipReason::NoRule));
            continue;
        };
        let Some(recipient) = by_patient.get(&event.patient) else {
            out.skipped.push(skip(SkipReason::UnknownRecipient));
            continue;
        };
        if recipient.consent == SurveyConsent::OptedOut {
            out.skipped.push(skip(SkipReason::OptedOut));
            continue;
        }
        if let Some(last) = last_sent.get(&event.patient)
            && due - *last < TimeDelta::days(policy.min_days_between)
        {
            out.skipped.push(skip(SkipReason::Fatigue));
            continue;
        }
        if !rng.chance(rule.sampling_rate.clamp(0.0, 1.0)) {
            out.skipped.push(skip(SkipReason::NotSampled));
            continue;
        }
        let Some(channel) = rule
            .channels
            .iter()
            .copied()
            .find(|c| recipient.routes.iter().any(|r| r.channel == *c))
        else {
            out.skipped.push(skip(SkipReason::NoChannel));
            continue;
        };
        let respect_quiet = |t: Timestamp| match (&recipient.quiet_hours, channel.is_interruptive())
        {
            (Some(q), true) => q.next_allowed(t),
            _ => t,
        };
        let send_at = respect_quiet(due);
        let expires_at = due + TimeDelta::minutes(rule.expires_after_minutes);
        if send_at >= expires_at {
            out.skipped.push(skip(SkipReason::ExpiresBeforeSend));
            continue;
        }
        let reminder_at = rule
            .reminder_after_minutes
            .map(|m| respect_quiet(send_at + TimeDelta::minutes(m)))
            .filter(|t| *t < expires_at);
        last_sent.insert(event.patient, send_at);
        out.sends.push(PlannedSend {
            event: i,
            patient: event.patient,
            survey: rule.survey.clone(),
            channel,
            send_at,
            reminder_at,
            expires_at,
        });
    }
    out.sends.sort_by_key(|s| (s.send_at, s.event));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_core::{ManualClock, SeededIdGenerator};
    use chrono::NaiveTime;
    use std::sync::Arc;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    fn patients(n: usize) -> Vec<PatientId> {
        let ids = SeededIdGenerator::new(Arc::new(ManualClock::new(at("2026-01-01T00:00:00Z"))), 9);
        (0..n).map(|_| ids.generate()).collect()
    }

    fn rule(trigger: TriggerKind, delay_minutes: i64, rate: f64) -> DistributionRule {
        DistributionRule {
            survey: SurveyRef {
                id: "post-visit".into(),
                version: "1.0.0".into(),
            },
            trigger,
            delay_minutes,
            sampling_rate: rate,
            channels: vec![Channel::Sms, Channel::Email],
            reminder_after_minutes: Some(48 * 60),
            expires_after_minutes: 7 * 24 * 60,
        }
    }

    fn recipient(patient: PatientId, channels: &[Channel]) -> Recipient {
        Recipient {
            patient,
            consent: SurveyConsent::Accepts,
            routes: channels
                .iter()
                .map(|c| ContactRoute::new(*c, "x"))
                .collect(),
            quiet_hours: None,
            last_surveyed: None,
        }
    }

    fn event(kind: TriggerKind, patient: PatientId, when: &str) -> TriggerEvent {
        TriggerEvent {
            kind,
            patient,
            at: at(when),
        }
    }

    #[test]
    fn skip_reasons() {
        let p = patients(6);
        let mut opted = recipient(p[1], &[Channel::Sms]);
        opted.consent = SurveyConsent::OptedOut;
        let mut recent = recipient(p[2], &[Channel::Sms]);
        recent.last_surveyed = Some(at("2026-03-01T00:00:00Z"));
        let recipients = vec![
            recipient(p[0], &[Channel::Sms]),
            opted,
            recent,
            recipient(p[3], &[Channel::Postal]),
        ];
        let rules = vec![rule(TriggerKind::AppointmentCompleted, 60, 1.0)];
        let ac = TriggerKind::AppointmentCompleted;
        let events = vec![
            event(ac, p[0], "2026-03-10T15:00:00Z"),
            event(ac, p[1], "2026-03-10T15:00:00Z"),
            event(ac, p[2], "2026-03-10T15:00:00Z"),
            event(ac, p[3], "2026-03-10T15:00:00Z"),
            event(ac, p[4], "2026-03-10T15:00:00Z"),
            event(TriggerKind::BillingResolved, p[0], "2026-03-10T15:00:00Z"),
            // Same patient a day later: fatigue.
            event(ac, p[0], "2026-03-11T15:00:00Z"),
        ];
        let out = plan(&rules, &events, &recipients, &FatiguePolicy::default(), 1);
        let reasons: Vec<(usize, SkipReason)> = out
            .skipped
            .iter()
            .map(|s| (s.event, s.reason.clone()))
            .collect();
        assert_eq!(
            reasons,
            [
                // No rule, so due at the event itself: first in due order.
                (5, SkipReason::NoRule),
                (1, SkipReason::OptedOut),
                (2, SkipReason::Fatigue),
                (3, SkipReason::NoChannel),
                (4, SkipReason::UnknownRecipient),
                (6, SkipReason::Fatigue),
            ]
        );
        assert_eq!(out.sends.len(), 1);
        let s = &out.sends[0];
        assert_eq!((s.event, s.channel), (0, Channel::Sms));
        assert_eq!(s.send_at, at("2026-03-10T16:00:00Z"));
        assert_eq!(s.reminder_at, Some(at("2026-03-12T16:00:00Z")));
        assert_eq!(s.expires_at, at("2026-03-17T16:00:00Z"));
    }

    #[test]
    fn discharge_delay_and_quiet_hours() {
        let p = patients(2);
        let mut r = recipient(p[0], &[Channel::Sms]);
        r.quiet_hours = Some(QuietHours::new(
            chrono_tz::America::New_York,
            NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        ));
        let mut portal = recipient(p[1], &[Channel::Portal]);
        portal.quiet_hours = r.quiet_hours;
        let mut d = rule(TriggerKind::Discharged, 2 * 24 * 60, 1.0);
        d.channels = vec![Channel::Sms, Channel::Portal];
        // Discharged 02:00Z = 22:00 EDT; due two days later at 22:00 EDT, quiet until 08:00.
        let events = vec![
            event(TriggerKind::Discharged, p[0], "2026-06-10T02:00:00Z"),
            event(TriggerKind::Discharged, p[1], "2026-06-10T02:00:00Z"),
        ];
        let out = plan(&[d], &events, &[r, portal], &FatiguePolicy::default(), 3);
        assert!(out.skipped.is_empty());
        let sms = out.sends.iter().find(|s| s.event == 0);
        assert_eq!(sms.map(|s| s.send_at), Some(at("2026-06-12T12:00:00Z")));
        // Portal messages wait to be read: quiet hours do not apply.
        let portal = out.sends.iter().find(|s| s.event == 1);
        assert_eq!(portal.map(|s| s.send_at), Some(at("2026-06-12T02:00:00Z")));
    }

    #[test]
    fn expiry_before_quiet_hours_end_skips_and_late_reminder_is_dropped() {
        let p = patients(1);
        let mut r = recipient(p[0], &[Channel::Voice]);
        r.quiet_hours = Some(QuietHours::new(
            chrono_tz::Europe::London,
            NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
        ));
        let mut short = rule(TriggerKind::BillingResolved, 0, 1.0);
        short.channels = vec![Channel::Voice];
        short.expires_after_minutes = 60;
        let events = vec![event(
            TriggerKind::BillingResolved,
            p[0],
            "2026-01-15T21:00:00Z",
        )];
        let out = plan(
            &[short.clone()],
            &events,
            &[r.clone()],
            &FatiguePolicy::default(),
            0,
        );
        assert_eq!(out.skipped[0].reason, SkipReason::ExpiresBeforeSend);

        short.expires_after_minutes = 24 * 60;
        short.reminder_after_minutes = Some(23 * 60);
        let out = plan(&[short], &events, &[r], &FatiguePolicy::default(), 0);
        assert_eq!(out.sends[0].send_at, at("2026-01-16T09:00:00Z"));
        assert_eq!(out.sends[0].reminder_at, None);
    }

    #[test]
    fn sampling_is_seeded_and_near_the_rate() {
        let p = patients(2000);
        let recipients: Vec<Recipient> =
            p.iter().map(|x| recipient(*x, &[Channel::Email])).collect();
        let events: Vec<TriggerEvent> = p
            .iter()
            .map(|x| {
                event(
                    TriggerKind::AppointmentCompleted,
                    *x,
                    "2026-05-01T12:00:00Z",
                )
            })
            .collect();
        let rules = [rule(TriggerKind::AppointmentCompleted, 0, 0.25)];
        let a = plan(&rules, &events, &recipients, &FatiguePolicy::default(), 11);
        let b = plan(&rules, &events, &recipients, &FatiguePolicy::default(), 11);
        let c = plan(&rules, &events, &recipients, &FatiguePolicy::default(), 12);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((400..600).contains(&a.sends.len()), "{}", a.sends.len());
        assert_eq!(a.sends.len() + a.skipped.len(), 2000);
    }
}
