//! Scoring: [`Scale`]s (sum or mean, reverse scoring, subscales, [`Band`]s, proration of missing
//! items) and [`FlagRule`]s raised by single answers or scale scores.
//!
//! Item scores come from the definition: a Likert point's or option's `score` (FHIR
//! `ordinalValue`), the number itself for integer, decimal, NPS and star items, 1/0 for
//! booleans. A reversed item scores `min + max − score` over its range.
//!
//! Missing items: when at most `max_missing` scale items are unanswered (or disabled), a sum is
//! prorated to `mean × item count`, rounded half up to a whole number, as is conventional for
//! PHQ-9 and GAD-7; a mean is taken over the answered items. With more missing there is no
//! score.
//!
//! Bands: a score falls in the last band whose `min` it reaches, up to the last band's `max`;
//! bands are published as inclusive whole-number ranges (PHQ-9 5–9, 10–14).

use crate::definition::{Operator, SurveyDefinition};
use crate::enable::{answers_by_entry, enabled_entries};
use crate::index::Index;
use crate::response::{AnswerValue, SurveyResponse};
use crate::text::Texts;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// How item scores combine into a scale score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMethod {
    /// The sum of item scores.
    #[default]
    Sum,
    /// The mean of item scores.
    Mean,
}

/// A labelled range of scale scores (inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Lowest score in the band.
    pub min: f64,
    /// Highest score in the band.
    pub max: f64,
    /// A stable code (`moderate`).
    pub code: String,
    /// The label shown (`Moderate depression`).
    pub label: Texts,
}

/// A scale: a total or subscale over some items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// Stable id (`total`).
    pub id: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Texts::is_empty")]
    pub title: Texts,
    /// Sum or mean.
    #[serde(default)]
    pub method: ScoreMethod,
    /// The items (or matrix rows) scored.
    pub items: Vec<String>,
    /// Items this scale reverse-scores, beyond those reversed by their own definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverse: Vec<String>,
    /// How many items may be missing before there is no score; up to this many are prorated.
    #[serde(default)]
    pub max_missing: u32,
    /// Score bands, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    /// The scale this one is a subscale of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The code of the score (the LOINC code of a published total, e.g. PHQ-9 `44261-6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<bedside_core::Coding>,
}

impl Scale {
    /// A sum scale `id` over `items`: no title, no reversed items, no missing item allowed, no
    /// bands, no parent, no code. Change those with the builder methods or the fields.
    ///
    /// ```
    /// use bedside_survey::{Scale, ScoreMethod, Texts};
    ///
    /// let scale = Scale::new("experience", ["scheduling-ease", "staff-comfort"])
    ///     .titled(Texts::en("Experience (mean, 1–5)"))
    ///     .method(ScoreMethod::Mean);
    /// assert_eq!(scale.items, ["scheduling-ease", "staff-comfort"]);
    /// ```
    pub fn new<I, S>(id: impl Into<String>, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            id: id.into(),
            title: Texts::default(),
            method: ScoreMethod::Sum,
            items: items.into_iter().map(Into::into).collect(),
            reverse: Vec::new(),
            max_missing: 0,
            bands: Vec::new(),
            parent: None,
            code: None,
        }
    }

    /// The same scale with a title.
    #[must_use]
    pub fn titled(mut self, title: Texts) -> Self {
        self.title = title;
        self
    }

    /// The same scale combining item scores by `method`.
    #[must_use]
    pub fn method(mut self, method: ScoreMethod) -> Self {
        self.method = method;
        self
    }

    /// The same scale allowing (and prorating) up to `max_missing` missing items.
    #[must_use]
    pub fn max_missing(mut self, max_missing: u32) -> Self {
        self.max_missing = max_missing;
        self
    }

    /// The same scale with score bands (ascending).
    #[must_use]
    pub fn with_bands(mut self, bands: Vec<Band>) -> Self {
        self.bands = bands;
        self
    }

    /// The band a score falls in: the last band whose `min` the score reaches, provided the
    /// score lies within the first band's `min` and the last band's `max`. Bands therefore
    /// cover the whole range without gaps even for prorated or mean scores (4.5 on PHQ-9 is
    /// still "minimal").
    pub fn band_of(&self, score: f64) -> Option<&Band> {
        let last = self.bands.last()?;
        if score > last.max {
            return None;
        }
        self.bands.iter().rev().find(|b| score >= b.min)
    }
}

/// How urgently a raised survey flag needs someone to follow up (PHQ-9 item 9 above 0 is
/// [`FlagSeverity::Urgent`]).
///
/// Not to be confused with `bedside_vitals::AlertSeverity` (the clinical risk of a vitals
/// alert) or [`bedside_core::IssueSeverity`] (how bad a validation finding is). A score's
/// range label is a [`Band`], not a severity. On the wire it is the snake_case code
/// ([`FlagSeverity::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagSeverity {
    /// For information.
    Info,
    /// Someone should follow up in the ordinary course.
    FollowUp,
    /// Someone must follow up now (for example thoughts of self-harm).
    Urgent,
}

impl FlagSeverity {
    /// The wire code (`info`, `follow_up`, `urgent`), as serde writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlagSeverity::Info => "info",
            FlagSeverity::FollowUp => "follow_up",
            FlagSeverity::Urgent => "urgent",
        }
    }
}

impl std::fmt::Display for FlagSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What raises a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum FlagTrigger {
    /// A single answer. A numeric `value` is compared with the item's (unreversed) score when
    /// the item has one; otherwise answers are compared directly.
    Answer {
        /// The item.
        item: String,
        /// The comparison.
        operator: Operator,
        /// The value compared against.
        value: AnswerValue,
    },
    /// A scale score.
    Scale {
        /// The scale.
        scale: String,
        /// The comparison.
        operator: Operator,
        /// The threshold.
        value: f64,
    },
}

impl FlagTrigger {
    /// The item or scale the trigger looks at.
    pub fn target(&self) -> &str {
        match self {
            FlagTrigger::Answer { item, .. } => item,
            FlagTrigger::Scale { scale, .. } => scale,
        }
    }
}

/// A rule that raises a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagRule {
    /// Stable id (`self-harm`).
    pub id: String,
    /// What raises it.
    pub trigger: FlagTrigger,
    /// How urgent.
    pub severity: FlagSeverity,
    /// What the person handling it is told.
    pub message: Texts,
}

/// One scale's result for one response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleScore {
    /// The scale id.
    pub scale: String,
    /// The score, or `None` when too many items are missing.
    pub score: Option<f64>,
    /// Items answered.
    pub answered: u32,
    /// Items missing (unanswered or disabled).
    pub missing: u32,
    /// Whether the score was prorated for missing items.
    pub prorated: bool,
    /// The band code, when the scale has bands and a score.
    pub band: Option<String>,
}

/// A flag raised by a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaisedFlag {
    /// The flag rule's id.
    pub flag: String,
    /// Its severity.
    pub severity: FlagSeverity,
}

/// All scores and flags of one response.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ScoreSheet {
    /// One entry per scale, in definition order.
    pub scales: Vec<ScaleScore>,
    /// Raised flags, in definition order.
    pub flags: Vec<RaisedFlag>,
}

impl ScoreSheet {
    /// The result for scale `id`.
    pub fn scale(&self, id: &str) -> Option<&ScaleScore> {
        self.scales.iter().find(|s| s.scale == id)
    }

    /// Whether a flag of at least `severity` was raised.
    pub fn has_flag_at_least(&self, severity: FlagSeverity) -> bool {
        self.flags.iter().any(|f| f.severity >= severity)
    }
}

/// Why a response could not be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreError {
    /// Occurs when the response answers another survey or version.
    #[error("response answers `{found}`, not `{expected}`")]
    WrongSurvey {
        /// The definition's reference.
        expected: String,
        /// The response's reference.
        found: String,
    },
    /// Occurs when a scored item has an answer with no score (an unknown option or the wrong
    /// type).
    #[error("answer to `{item}` has no score")]
    Unscorable {
        /// The item.
        item: String,
    },
}

impl bedside_core::DomainError for ScoreError {
    fn kind(&self) -> bedside_core::ErrorKind {
        match self {
            ScoreError::WrongSurvey { .. } | ScoreError::Unscorable { .. } => {
                bedside_core::ErrorKind::Invalid
            }
        }
    }
}

/// Scores a response: every scale and every flag rule.
///
/// # Errors
/// [`ScoreError::WrongSurvey`] when the response is for another definition or version;
/// [`ScoreError::Unscorable`] when an enabled scored item's answer has no score. A response that
/// [`crate::validate()`] accepts always scores.
pub fn score(
    definition: &SurveyDefinition,
    response: &SurveyResponse,
) -> Result<ScoreSheet, ScoreError> {
    let index = Index::new(definition);
    score_indexed(&index, response)
}

// Not split: scales then flags in one pass over the index; helpers would re-borrow the same state.
pub(crate) fn score_indexed(
    index: &Index<'_>,
    response: &SurveyResponse,
) -> Result<ScoreSheet, ScoreError> {
    let definition = index.definition;
    if response.survey != definition.reference() {
        return Err(ScoreError::WrongSurvey {
            expected: definition.reference().to_string(),
            found: response.survey.to_string(),
        });
    }
    let answers = answers_by_entry(index, response);
    let enabled = enabled_entries(index, &answers);
    let mut sheet = ScoreSheet::default();
    for scale in &definition.scales {
        let mut total = 0.0;
        let mut answered = 0u32;
        let mut missing = 0u32;
        for id in &scale.items {
            let Some((i, entry)) = index.get(id) else {
                missing += 1;
                continue;
            };
            let given = if enabled[i] { &answers[i] } else { &[] };
            if given.is_empty() {
                missing += 1;
                continue;
            }
            let mut item_total = 0.0;
            for v in given {
                let s = entry
                    .score_of(v)
                    .ok_or_else(|| ScoreError::Unscorable { item: id.clone() })?;
                let reversed = entry.reverse() || scale.reverse.iter().any(|r| r == id);
                item_total += match (reversed, entry.range) {
                    (true, Some((lo, hi))) => lo + hi - s,
                    _ => s,
                };
            }
            total += item_total;
            answered += 1;
        }
        let n = scale.items.len() as u32;
        let (value, prorated) = if answered == 0 || missing > scale.max_missing {
            (None, false)
        } else {
            let mean = total / f64::from(answered);
            match scale.method {
                ScoreMethod::Mean => (Some(mean), missing > 0),
                ScoreMethod::Sum if missing == 0 => (Some(total), false),
                ScoreMethod::Sum => (Some((mean * f64::from(n) + 0.5).floor()), true),
            }
        };
        sheet.scales.push(ScaleScore {
            scale: scale.id.clone(),
            score: value,
            answered,
            missing,
            prorated,
            band: value.and_then(|v| scale.band_of(v)).map(|b| b.code.clone()),
        });
    }
    for rule in &definition.flags {
        let raised = match &rule.trigger {
            FlagTrigger::Answer {
                item,
                operator,
                value,
            } => match index.get(item) {
                Some((i, entry)) if enabled[i] => {
                    let given = &answers[i];
                    if *operator == Operator::Exists {
                        crate::enable::condition_holds(
                            &crate::definition::Condition::new(item, *operator, value.clone()),
                            given,
                        )
                    } else {
                        given.iter().any(|v| {
                            let lhs = match (value.as_number(), entry.score_of(v)) {
                                (Some(_), Some(s)) => AnswerValue::Decimal(s),
                                _ => (*v).clone(),
                            };
                            compare_holds(*operator, &lhs, value)
                        })
                    }
                }
                _ => false,
            },
            FlagTrigger::Scale {
                scale,
                operator,
                value,
            } => sheet.scale(scale).and_then(|s| s.score).is_some_and(|s| {
                compare_holds(
                    *operator,
                    &AnswerValue::Decimal(s),
                    &AnswerValue::Decimal(*value),
                )
            }),
        };
        if raised {
            sheet.flags.push(RaisedFlag {
                flag: rule.id.clone(),
                severity: rule.severity,
            });
        }
    }
    Ok(sheet)
}

fn compare_holds(op: Operator, lhs: &AnswerValue, rhs: &AnswerValue) -> bool {
    match op {
        Operator::Exists => true,
        Operator::Equal => lhs.matches(rhs),
        Operator::NotEqual => !lhs.matches(rhs),
        _ => match lhs.compare(rhs) {
            Some(Ordering::Greater) => matches!(op, Operator::Greater | Operator::GreaterOrEqual),
            Some(Ordering::Less) => matches!(op, Operator::Less | Operator::LessOrEqual),
            Some(Ordering::Equal) => matches!(op, Operator::GreaterOrEqual | Operator::LessOrEqual),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(bands: &[(f64, f64, &str)]) -> Scale {
        Scale {
            id: "s".into(),
            title: Texts::default(),
            method: ScoreMethod::Sum,
            items: vec![],
            reverse: vec![],
            max_missing: 0,
            bands: bands
                .iter()
                .map(|(min, max, code)| Band {
                    min: *min,
                    max: *max,
                    code: (*code).into(),
                    label: Texts::default(),
                })
                .collect(),
            parent: None,
            code: None,
        }
    }

    #[test]
    fn band_of_covers_the_range_without_gaps() {
        let s = scale(&[(0.0, 4.0, "a"), (5.0, 9.0, "b"), (10.0, 27.0, "c")]);
        let cases = [
            (-1.0, None),
            (0.0, Some("a")),
            (4.0, Some("a")),
            (4.5, Some("a")),
            (5.0, Some("b")),
            (9.99, Some("b")),
            (10.0, Some("c")),
            (27.0, Some("c")),
            (27.5, None),
        ];
        for (score, expected) in cases {
            assert_eq!(
                s.band_of(score).map(|b| b.code.as_str()),
                expected,
                "{score}"
            );
        }
        assert_eq!(scale(&[]).band_of(3.0), None);
    }

    #[test]
    fn comparisons() {
        use AnswerValue::{Decimal as D, Integer as I};
        let cases = [
            (Operator::Greater, I(1), I(0), true),
            (Operator::GreaterOrEqual, D(2.0), I(2), true),
            (Operator::Less, I(1), I(1), false),
            (Operator::LessOrEqual, I(1), I(1), true),
            (Operator::Equal, D(1.0), I(1), true),
            (Operator::NotEqual, I(2), I(1), true),
            (Operator::Greater, AnswerValue::code("a"), I(0), false),
        ];
        for (op, lhs, rhs, expected) in cases {
            assert_eq!(
                compare_holds(op, &lhs, &rhs),
                expected,
                "{op} {lhs:?} {rhs:?}"
            );
        }
    }
}
