//! Alert rules and their evaluation: thresholds, rate of change, missing data and NEWS2,
//! with suppression-window de-duplication and acknowledgement.
//!
//! [`evaluate`] is a pure function of the stored readings, the [`CarePlan`] and the period:
//! re-running it gives the same alerts with the same ids, so an [`AlertBook`] can merge the
//! result again and again without duplicating anything.

mod book;

pub use book::{Acknowledgement, AlertBook, AlertRecord};

use crate::kind::{ReadingContext, VitalKind};
use crate::news2::{self, News2Input, SpO2Scale};
use crate::store::{Stored, VitalsStore};
use bedside_core::{AlertId, PatientId, Period, Timestamp};
use chrono::{DateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How serious a vitals alert is: the clinical risk a reading (or NEWS2 score) shows.
///
/// Not to be confused with `bedside_survey::FlagSeverity` (how urgently a survey answer needs a
/// follow-up) or [`bedside_core::IssueSeverity`] (how bad a validation finding is).
///
/// On the wire it is always the lowercase code of [`AlertSeverity::as_str`] (`"high"`); the
/// capitalised spelling some earlier responses used (`"High"`) is still accepted on input.
///
/// ```
/// use bedside_vitals::AlertSeverity;
///
/// assert_eq!(serde_json::to_string(&AlertSeverity::High)?, r#""high""#);
/// assert_eq!(serde_json::from_str::<AlertSeverity>(r#""High""#)?, AlertSeverity::High);
/// assert_eq!(AlertSeverity::Critical.to_string(), "critical");
/// assert!(AlertSeverity::Critical > AlertSeverity::Low);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// Worth noting at the next routine review.
    #[serde(alias = "Low")]
    Low,
    /// Needs a look today.
    #[serde(alias = "Medium")]
    Medium,
    /// Needs a look now.
    #[serde(alias = "High")]
    High,
    /// Life-threatening.
    #[serde(alias = "Critical")]
    Critical,
}

impl AlertSeverity {
    /// Every severity, least serious first.
    pub const ALL: [AlertSeverity; 4] = [
        AlertSeverity::Low,
        AlertSeverity::Medium,
        AlertSeverity::High,
        AlertSeverity::Critical,
    ];

    /// The wire code (`low`, `medium`, `high`, `critical`), as serde writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Low => "low",
            AlertSeverity::Medium => "medium",
            AlertSeverity::High => "high",
            AlertSeverity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a nurse should do (the NEWS2 response ladder, reused for every rule).
///
/// On the wire it is the snake_case code of [`Response::as_str`] (`"nurse_review"`); the
/// capitalised and run-together spellings earlier responses used (`"NurseReview"`,
/// `"nursereview"`) are still accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// Continue routine monitoring.
    #[serde(alias = "Routine")]
    Routine,
    /// A registered nurse reviews.
    #[serde(alias = "NurseReview", alias = "nursereview")]
    NurseReview,
    /// Urgent clinical review.
    #[serde(alias = "Urgent")]
    Urgent,
    /// Emergency response.
    #[serde(alias = "Emergency")]
    Emergency,
}

impl Response {
    /// The wire code (`routine`, `nurse_review`, `urgent`, `emergency`), as serde writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Response::Routine => "routine",
            Response::NurseReview => "nurse_review",
            Response::Urgent => "urgent",
            Response::Emergency => "emergency",
        }
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which value of a reading a threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// The primary value (systolic for blood pressure).
    Primary,
    /// Diastolic pressure.
    Diastolic,
}

/// How a value is compared with a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// value ≥ limit.
    AtLeast,
    /// value ≤ limit.
    AtMost,
    /// value > limit.
    Above,
    /// value < limit.
    Below,
}

/// Fires when one reading crosses a limit (in the kind's canonical unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRule {
    /// A stable rule name (`sbp-high`), part of the alert's identity.
    pub name: String,
    /// The kind it applies to.
    pub kind: VitalKind,
    /// Which value.
    pub component: Component,
    /// How to compare.
    pub comparison: Comparison,
    /// The limit, canonical unit.
    pub limit: f64,
    /// Severity of the alert.
    pub severity: AlertSeverity,
    /// Suggested response.
    pub response: Response,
}

impl ThresholdRule {
    /// A rule on the primary value (systolic for blood pressure) that raises a
    /// [`AlertSeverity::High`] alert with an [`Response::Urgent`] review; change that with
    /// [`ThresholdRule::with_outcome`] and the value looked at with
    /// [`ThresholdRule::on_component`].
    ///
    /// ```
    /// use bedside_vitals::alert::{Comparison, Component, ThresholdRule};
    /// use bedside_vitals::{AlertSeverity, Response, VitalKind};
    ///
    /// let rule = ThresholdRule::new("dbp-high", VitalKind::BloodPressure, Comparison::AtLeast, 110.0)
    ///     .on_component(Component::Diastolic)
    ///     .with_outcome(AlertSeverity::Medium, Response::NurseReview);
    /// assert!(rule.fires(150.0, 112.0));
    /// assert!(!rule.fires(150.0, 95.0));
    /// ```
    pub fn new(name: &str, kind: VitalKind, comparison: Comparison, limit: f64) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            component: Component::Primary,
            comparison,
            limit,
            severity: AlertSeverity::High,
            response: Response::Urgent,
        }
    }

    /// The same rule with another severity and suggested response.
    #[must_use]
    pub fn with_outcome(mut self, severity: AlertSeverity, response: Response) -> Self {
        self.severity = severity;
        self.response = response;
        self
    }

    /// The same rule looking at another value of the reading.
    #[must_use]
    pub fn on_component(mut self, component: Component) -> Self {
        self.component = component;
        self
    }

    /// The default thresholds: SBP ≥ 180 or ≤ 90, SpO2 < 92, pulse > 130 or < 40,
    /// temperature ≥ 39.1 °C, glucose < 4.0 or > 20.0 mmol/L.
    pub fn defaults() -> Vec<ThresholdRule> {
        use Comparison::*;
        use VitalKind::*;
        let review = |rule: Self| rule.with_outcome(AlertSeverity::Medium, Response::NurseReview);
        vec![
            Self::new("sbp-high", BloodPressure, AtLeast, 180.0),
            Self::new("sbp-low", BloodPressure, AtMost, 90.0),
            Self::new("spo2-low", OxygenSaturation, Below, 92.0),
            Self::new("pulse-high", HeartRate, Above, 130.0),
            Self::new("pulse-low", HeartRate, Below, 40.0),
            review(Self::new("fever", BodyTemperature, AtLeast, 39.1)),
            Self::new("glucose-low", BloodGlucose, Below, 4.0),
            review(Self::new("glucose-high", BloodGlucose, Above, 20.0)),
        ]
    }

    /// Whether the rule fires on canonical values (`v1` is diastolic or NaN).
    pub fn fires(&self, v0: f64, v1: f64) -> bool {
        let v = match self.component {
            Component::Primary => v0,
            Component::Diastolic => v1,
        };
        if v.is_nan() {
            return false;
        }
        match self.comparison {
            Comparison::AtLeast => v >= self.limit,
            Comparison::AtMost => v <= self.limit,
            Comparison::Above => v > self.limit,
            Comparison::Below => v < self.limit,
        }
    }
}

/// Fires when a value rises by more than `rise` within `window_hours` (the heart-failure
/// weight rule: more than 2 kg in 48 hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateOfChangeRule {
    /// Rule name.
    pub name: String,
    /// The kind.
    pub kind: VitalKind,
    /// The rise that fires, canonical unit (strictly greater than).
    pub rise: f64,
    /// The look-back window in hours.
    pub window_hours: u32,
    /// Severity.
    pub severity: AlertSeverity,
    /// Suggested response.
    pub response: Response,
}

impl RateOfChangeRule {
    /// A rule firing on a rise of more than `rise` (canonical unit) within `window_hours`,
    /// raising a [`AlertSeverity::High`] alert with an [`Response::Urgent`] review; change
    /// that with [`RateOfChangeRule::with_outcome`].
    pub fn new(name: &str, kind: VitalKind, rise: f64, window_hours: u32) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            rise,
            window_hours,
            severity: AlertSeverity::High,
            response: Response::Urgent,
        }
    }

    /// The same rule with another severity and suggested response.
    #[must_use]
    pub fn with_outcome(mut self, severity: AlertSeverity, response: Response) -> Self {
        self.severity = severity;
        self.response = response;
        self
    }

    /// Weight gain of more than 2 kg in 48 hours.
    pub fn heart_failure_weight() -> Self {
        Self::new("weight-gain-2kg-48h", VitalKind::BodyWeight, 2.0, 48)
    }
}

/// Fires when no reading of a kind arrives for `max_gap_hours`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingDataRule {
    /// Rule name.
    pub name: String,
    /// The kind expected.
    pub kind: VitalKind,
    /// Longest acceptable gap in hours.
    pub max_gap_hours: u32,
    /// Severity.
    pub severity: AlertSeverity,
}

/// Scores NEWS2 whenever a contributing reading arrives, from the latest reading of each
/// parameter within `window_minutes` before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2Rule {
    /// The SpO2 scale prescribed (scale 2 for a hypercapnic 88–92% target).
    pub scale: SpO2Scale,
    /// How far back a parameter's reading may be to count in a set.
    pub window_minutes: u32,
}

/// The rules for one patient. [`CarePlan::default`] is the default plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarePlan {
    /// Threshold rules.
    pub thresholds: Vec<ThresholdRule>,
    /// Rate-of-change rules.
    pub rates: Vec<RateOfChangeRule>,
    /// Missing-data rules.
    pub missing: Vec<MissingDataRule>,
    /// NEWS2, when the plan asks for it.
    pub news2: Option<News2Rule>,
    /// An alert of the same rule within this many minutes of the last one shown is folded
    /// into it (counted, not shown) unless its severity is higher.
    pub suppression_minutes: u32,
    /// When monitoring started (missing-data rules count gaps from here).
    pub monitoring_start: Option<Timestamp>,
}

impl Default for CarePlan {
    fn default() -> Self {
        Self {
            thresholds: ThresholdRule::defaults(),
            rates: vec![RateOfChangeRule::heart_failure_weight()],
            missing: vec![MissingDataRule {
                name: "daily-weight-missing".into(),
                kind: VitalKind::BodyWeight,
                max_gap_hours: 48,
                severity: AlertSeverity::Medium,
            }],
            news2: Some(News2Rule {
                scale: SpO2Scale::Scale1,
                window_minutes: 60,
            }),
            suppression_minutes: 12 * 60,
            monitoring_start: None,
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Deterministic id from patient, rule and trigger instant.
    pub id: AlertId,
    /// The patient.
    pub patient: PatientId,
    /// The rule that fired.
    pub rule: String,
    /// The kind involved, when one is.
    pub kind: Option<VitalKind>,
    /// Severity.
    pub severity: AlertSeverity,
    /// Suggested response.
    pub response: Response,
    /// When the condition arose.
    pub triggered_at: Timestamp,
    /// What was seen (numbers and units only; no PHI). When later alerts of the rule were
    /// folded into this one, it describes the **latest** of them (the newest NEWS2 score, the
    /// newest value past the limit), seen at [`Alert::latest_at`].
    pub message: String,
    /// How many later alerts of the same rule were folded into this one.
    pub suppressed: u32,
    /// When the latest alert folded into this one was triggered (what [`Alert::message`]
    /// describes); `None` when nothing was folded and the message is the one seen at
    /// `triggered_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_at: Option<Timestamp>,
}

impl Alert {
    /// The instant [`Alert::message`] describes: the latest folded alert's, or the trigger.
    pub fn message_at(&self) -> Timestamp {
        self.latest_at.unwrap_or(self.triggered_at)
    }
}

fn fnv(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn alert_id(patient: PatientId, rule: &str, at_ms: i64) -> AlertId {
    let mut key = patient.as_uuid().as_bytes().to_vec();
    key.extend_from_slice(rule.as_bytes());
    key.extend_from_slice(&at_ms.to_be_bytes());
    let hi = fnv(&key, 0);
    let lo = fnv(&key, 0x9e37_79b9_7f4a_7c15);
    // Version 8 (custom) UUID: deterministic, with the version and variant bits set.
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    AlertId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

fn instant(ms: i64) -> Timestamp {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

struct Candidate {
    rule: String,
    kind: Option<VitalKind>,
    severity: AlertSeverity,
    response: Response,
    at_ms: i64,
    message: String,
}

fn in_period(series: &[Stored], start: i64, end: i64) -> &[Stored] {
    let lo = series.partition_point(|s| s.utc_ms < start);
    let hi = series.partition_point(|s| s.utc_ms < end);
    &series[lo..hi.max(lo)]
}

fn fmt_value(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Evaluates every rule of `plan` on the patient's readings whose instants fall in `period`
/// (rate-of-change and NEWS2 look back before `period` for context). Returns the alerts
/// after suppression, ordered by trigger instant then rule name.
pub fn evaluate(
    store: &VitalsStore,
    patient: PatientId,
    plan: &CarePlan,
    period: &Period,
) -> Vec<Alert> {
    let window = Window {
        start: period.start().timestamp_millis(),
        end: period.end().timestamp_millis(),
    };
    let mut candidates = Vec::new();
    threshold_candidates(store, patient, plan, window, &mut candidates);
    rate_candidates(store, patient, plan, window, &mut candidates);
    missing_candidates(store, patient, plan, window, &mut candidates);
    if let Some(rule) = &plan.news2 {
        news2_candidates(store, patient, rule, window, &mut candidates);
    }
    suppress(
        patient,
        candidates,
        i64::from(plan.suppression_minutes) * 60_000,
    )
}

/// The evaluated period in epoch milliseconds, half-open.
#[derive(Clone, Copy)]
struct Window {
    start: i64,
    end: i64,
}

fn threshold_candidates(
    store: &VitalsStore,
    patient: PatientId,
    plan: &CarePlan,
    window: Window,
    out: &mut Vec<Candidate>,
) {
    let Window { start, end } = window;
    for rule in &plan.thresholds {
        for s in in_period(store.series(patient, rule.kind), start, end) {
            if rule.fires(s.v0, s.v1) {
                let v = match rule.component {
                    Component::Primary => s.v0,
                    Component::Diastolic => s.v1,
                };
                out.push(Candidate {
                    rule: rule.name.clone(),
                    kind: Some(rule.kind),
                    severity: rule.severity,
                    response: rule.response,
                    at_ms: s.utc_ms,
                    message: format!(
                        "{} {} {} (limit {})",
                        rule.kind,
                        fmt_value(v),
                        rule.kind.canonical_unit().human(),
                        fmt_value(rule.limit)
                    ),
                });
            }
        }
    }
}

fn rate_candidates(
    store: &VitalsStore,
    patient: PatientId,
    plan: &CarePlan,
    window: Window,
    out: &mut Vec<Candidate>,
) {
    let Window { start, end } = window;
    for rule in &plan.rates {
        let series = store.series(patient, rule.kind);
        let window = i64::from(rule.window_hours) * 3_600_000;
        let first = series.partition_point(|s| s.utc_ms < start);
        for (i, s) in series.iter().enumerate().skip(first) {
            if s.utc_ms >= end {
                break;
            }
            let lo = series[..i].partition_point(|p| p.utc_ms < s.utc_ms - window);
            let min = series[lo..i]
                .iter()
                .map(|p| p.v0)
                .fold(f64::INFINITY, f64::min);
            if min.is_finite() && s.v0 - min > rule.rise {
                out.push(Candidate {
                    rule: rule.name.clone(),
                    kind: Some(rule.kind),
                    severity: rule.severity,
                    response: rule.response,
                    at_ms: s.utc_ms,
                    message: format!(
                        "{} up {} {} within {} h",
                        rule.kind,
                        fmt_value(s.v0 - min),
                        rule.kind.canonical_unit().human(),
                        rule.window_hours
                    ),
                });
            }
        }
    }
}

fn missing_candidates(
    store: &VitalsStore,
    patient: PatientId,
    plan: &CarePlan,
    window: Window,
    out: &mut Vec<Candidate>,
) {
    let Window { start, end } = window;
    for rule in &plan.missing {
        let series = store.series(patient, rule.kind);
        let gap = i64::from(rule.max_gap_hours) * 3_600_000;
        let mut last = plan.monitoring_start.map(|t| t.timestamp_millis());
        let before = series.partition_point(|s| s.utc_ms < start);
        if let Some(prev) = before.checked_sub(1).and_then(|i| series.get(i)) {
            last = Some(last.map_or(prev.utc_ms, |l| l.max(prev.utc_ms)));
        }
        let mut times: Vec<i64> = in_period(series, start, end)
            .iter()
            .map(|s| s.utc_ms)
            .collect();
        times.push(end);
        for t in times {
            if let Some(l) = last {
                let due = l + gap;
                if due < t && due >= start {
                    out.push(Candidate {
                        rule: rule.name.clone(),
                        kind: Some(rule.kind),
                        severity: rule.severity,
                        response: Response::NurseReview,
                        at_ms: due,
                        message: format!("no {} for more than {} h", rule.kind, rule.max_gap_hours),
                    });
                }
            }
            last = Some(last.map_or(t, |l| l.max(t)));
        }
    }
}

fn news2_candidates(
    store: &VitalsStore,
    patient: PatientId,
    rule: &News2Rule,
    window: Window,
    out: &mut Vec<Candidate>,
) {
    let Window { start, end } = window;
    let window = i64::from(rule.window_minutes) * 60_000;
    let kinds = [
        VitalKind::RespiratoryRate,
        VitalKind::OxygenSaturation,
        VitalKind::BloodPressure,
        VitalKind::HeartRate,
        VitalKind::BodyTemperature,
    ];
    let mut instants: Vec<i64> = kinds
        .iter()
        .flat_map(|&k| {
            in_period(store.series(patient, k), start, end)
                .iter()
                .map(|s| s.utc_ms)
        })
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let latest = |k: VitalKind, t: i64| -> Option<Stored> {
        let s = store.series(patient, k);
        let n = s.partition_point(|x| x.utc_ms <= t);
        n.checked_sub(1)
            .and_then(|i| s.get(i))
            .filter(|x| t - x.utc_ms <= window)
            .copied()
    };
    for t in instants {
        let spo2 = latest(VitalKind::OxygenSaturation, t);
        let on_oxygen = spo2.and_then(|s| match ReadingContext::unpack(s.context) {
            ReadingContext::Oxygen { on_oxygen } => Some(on_oxygen),
            _ => None,
        });
        let input = News2Input {
            respiration_rate: latest(VitalKind::RespiratoryRate, t).map(|s| s.v0),
            spo2: spo2.map(|s| s.v0),
            scale: rule.scale,
            on_oxygen,
            // A partial blood pressure without systolic leaves systolic unscored.
            systolic: latest(VitalKind::BloodPressure, t)
                .map(|s| s.v0)
                .filter(|v| !v.is_nan()),
            pulse: latest(VitalKind::HeartRate, t).map(|s| s.v0),
            // Consciousness is not a home reading; the score says so by being partial.
            consciousness: None,
            temperature_c: latest(VitalKind::BodyTemperature, t).map(|s| s.v0),
        };
        let score = news2::score(&input);
        let response = score.response();
        if response == Response::Routine || score.parameters.len() < 2 {
            continue;
        }
        let severity = match score.band {
            news2::News2Band::Low => AlertSeverity::Low,
            news2::News2Band::LowMedium => AlertSeverity::Medium,
            news2::News2Band::Medium => AlertSeverity::High,
            news2::News2Band::High => AlertSeverity::Critical,
        };
        let partial = if score.complete {
            String::new()
        } else {
            format!(" (partial: {} of 7 parameters)", score.parameters.len())
        };
        out.push(Candidate {
            rule: "news2".into(),
            kind: None,
            severity,
            response,
            at_ms: t,
            message: format!(
                "NEWS2 {} {}{}{}",
                score.total,
                score.band.as_str(),
                if score.red_flag { ", red score" } else { "" },
                partial
            ),
        });
    }
}

fn suppress(patient: PatientId, mut candidates: Vec<Candidate>, window_ms: i64) -> Vec<Alert> {
    candidates.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.rule.cmp(&b.rule)));
    let mut out: Vec<Alert> = Vec::new();
    let mut last_shown: BTreeMap<String, usize> = BTreeMap::new();
    for c in candidates {
        if let Some(&i) = last_shown.get(&c.rule)
            && let Some(prev) = out.get_mut(i)
        {
            let within = c.at_ms - prev.triggered_at.timestamp_millis() <= window_ms;
            if within && c.severity <= prev.severity {
                // The alert keeps its identity (rule and first trigger) and its peak
                // severity, but a nurse reading it must see the newest state, not the
                // first: a NEWS2 alert that went 5 -> 6 shows 6.
                prev.suppressed += 1;
                prev.message = c.message;
                prev.latest_at = Some(instant(c.at_ms));
                continue;
            }
        }
        last_shown.insert(c.rule.clone(), out.len());
        out.push(Alert {
            id: alert_id(patient, &c.rule, c.at_ms),
            patient,
            rule: c.rule,
            kind: c.kind,
            severity: c.severity,
            response: c.response,
            triggered_at: instant(c.at_ms),
            message: c.message,
            suppressed: 0,
            latest_at: None,
        });
    }
    out
}

/// The time span an alert rule looks back, as a [`TimeDelta`] (for callers sizing periods).
pub fn lookback(plan: &CarePlan) -> TimeDelta {
    let hours = plan
        .rates
        .iter()
        .map(|r| r.window_hours)
        .chain(plan.missing.iter().map(|m| m.max_gap_hours))
        .max()
        .unwrap_or(0);
    TimeDelta::hours(i64::from(hours))
}
