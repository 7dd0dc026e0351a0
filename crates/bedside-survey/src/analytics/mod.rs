//! Analytics over many responses: per-item distributions, means, top/middle/bottom box shares,
//! NPS with a 95% confidence interval, CSAT, scale scores and band counts — overall and broken
//! down by any dimension attached to responses (provider, department, interaction type, month),
//! with small-cell suppression.
//!
//! [`Aggregator`] is a single-pass accumulator: add responses one by one (they need not fit in
//! memory together), then [`Aggregator::finish`] into an [`AnalyticsReport`]. Responses are
//! assumed to have passed [`crate::validate()`]; answers are counted as given.
//!
//! Means use the raw item score; top/middle/bottom boxes and CSAT use the score after the
//! item's own reverse flag, so the top box is always the most positive answer.
//!
//! Small cells: a cell (or an item within a cell) with fewer than `min_cell_size` responses
//! (default 5) has its figures withheld, so a report never singles out a patient or a staff
//! member.
//!
//! NPS: % promoters (9–10) − % detractors (0–6), passives (7–8) in the denominator. Its 95%
//! interval is the normal approximation `NPS ± 1.96 · 100 · √((p + d − (p − d)²) / n)`, where `p`
//! and `d` are the promoter and detractor proportions, clamped to [−100, 100].

use crate::definition::{ItemKind, SurveyDefinition};
use crate::index::{FastMap, Index};
use crate::response::{AnswerValue, ResponseStatus, SurveyResponse};
use chrono::Datelike;
use serde::{Deserialize, Serialize};

mod figures;

pub use figures::{
    AnalyticsReport, BoxAdjustment, Boxes, BreakdownReport, CellReport, ItemStats, Nps, ScaleStats,
};

/// The most dimensions one breakdown may combine.
pub const MAX_BREAKDOWN_DIMENSIONS: usize = 4;
/// The default minimum cell size.
pub const DEFAULT_MIN_CELL_SIZE: u64 = 5;
/// The widest numeric answer range given a per-value distribution.
const MAX_DISTRIBUTION_VALUES: i64 = 101;

/// Something responses can be grouped by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The `YYYY-MM` month the response was authored in.
    Month,
    /// A value from the response's `dimensions` map (`provider`, `department`).
    Attribute(String),
}

impl Dimension {
    /// A dimension from a response attribute.
    pub fn attribute(name: impl Into<String>) -> Self {
        Dimension::Attribute(name.into())
    }

    /// The name shown in reports.
    pub fn name(&self) -> &str {
        match self {
            Dimension::Month => "month",
            Dimension::Attribute(a) => a,
        }
    }
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsConfig {
    /// Cells with fewer responses are withheld (k-anonymity threshold).
    pub min_cell_size: u64,
    /// Breakdowns to compute, each a list of up to [`MAX_BREAKDOWN_DIMENSIONS`] dimensions
    /// (`[provider]`, `[month]`, `[provider, month]`).
    pub breakdowns: Vec<Vec<Dimension>>,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            min_cell_size: DEFAULT_MIN_CELL_SIZE,
            breakdowns: Vec::new(),
        }
    }
}

impl AnalyticsConfig {
    /// Adds a breakdown, returning the config.
    #[must_use]
    pub fn by(mut self, dimensions: Vec<Dimension>) -> Self {
        self.breakdowns.push(dimensions);
        self
    }
}

/// Why an aggregator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// Occurs when a breakdown has no dimensions or more than [`MAX_BREAKDOWN_DIMENSIONS`].
    #[error("a breakdown needs 1 to {max} dimensions, got {got}")]
    BreakdownSize {
        /// The limit.
        max: usize,
        /// What was given.
        got: usize,
    },
}

impl bedside_core::DomainError for AnalyticsError {
    fn kind(&self) -> bedside_core::ErrorKind {
        match self {
            AnalyticsError::BreakdownSize { .. } => bedside_core::ErrorKind::Invalid,
        }
    }
}

/// What one answer contributes.
#[derive(Clone, Copy)]
struct Contribution {
    entry: u32,
    /// Index in the item's distribution, if any.
    bucket: Option<u32>,
    score: Option<f64>,
    /// The score after the item's own reverse flag: higher is always more positive.
    oriented: Option<f64>,
    /// Whether this is the response's first answer to the entry (answers count once per
    /// response; a multiple-choice item adds one distribution count per option chosen).
    first: bool,
}

#[derive(Clone, Default)]
struct ItemAcc {
    answered: u64,
    distribution: Vec<u64>,
    sum: f64,
    scored: u64,
    boxes: [u64; 3],
    nps: [u64; 3],
    satisfied: u64,
}

#[derive(Clone, Default)]
struct ScaleAcc {
    scored: u64,
    sum: f64,
    bands: Vec<u64>,
}

#[derive(Clone)]
struct CellAcc {
    responses: u64,
    items: Vec<ItemAcc>,
    scales: Vec<ScaleAcc>,
}

impl CellAcc {
    /// Adds another cell's counts to this one.
    fn merge(&mut self, other: &CellAcc) {
        self.responses += other.responses;
        for (a, b) in self.items.iter_mut().zip(&other.items) {
            a.answered += b.answered;
            for (x, y) in a.distribution.iter_mut().zip(&b.distribution) {
                *x += y;
            }
            a.sum += b.sum;
            a.scored += b.scored;
            for k in 0..3 {
                a.boxes[k] += b.boxes[k];
                a.nps[k] += b.nps[k];
            }
            a.satisfied += b.satisfied;
        }
        for (a, b) in self.scales.iter_mut().zip(&other.scales) {
            a.scored += b.scored;
            a.sum += b.sum;
            for (x, y) in a.bands.iter_mut().zip(&b.bands) {
                *x += y;
            }
        }
    }
}

/// How an entry is reported.
struct EntryPlan {
    /// Distribution labels (option codes or numeric values).
    labels: Vec<String>,
    /// For numeric distributions, the value of bucket 0.
    numeric_base: Option<i64>,
    /// Whether the entry is a yes/no item (distribution `no`, `yes`).
    boolean: bool,
    nps: bool,
    reporting: Option<crate::definition::Reporting>,
    /// Whether the entry is reported at all (questions only).
    reported: bool,
}

struct Breakdown {
    dimensions: Vec<Dimension>,
    /// Interned values per dimension.
    interned: Vec<FastMap<String, u32>>,
    cells: FastMap<[u32; MAX_BREAKDOWN_DIMENSIONS], usize>,
    accs: Vec<CellAcc>,
}

const NO_VALUE: u32 = u32::MAX;

/// A single-pass accumulator over responses to one definition.
pub struct Aggregator<'a> {
    index: Index<'a>,
    config: AnalyticsConfig,
    plans: Vec<EntryPlan>,
    /// Per scale: entry indexes of its items.
    scale_items: Vec<Vec<usize>>,
    empty: CellAcc,
    overall: CellAcc,
    breakdowns: Vec<Breakdown>,
    skipped: u64,
    buffer: Vec<Contribution>,
    /// Per entry: this response's item score (summed over its answers, reversed as scales
    /// need); reset after each response.
    item_score: Vec<Option<f64>>,
    scale_scores: Vec<Option<f64>>,
    /// Per entry: the number of the last response that answered it.
    seen: Vec<u64>,
    /// Responses added so far, including skipped ones (the stamp for `seen`).
    stamp: u64,
}

impl std::fmt::Debug for Aggregator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregator")
            .field("survey", &self.index.definition.reference())
            .field("responses", &self.overall.responses)
            .finish_non_exhaustive()
    }
}

impl<'a> Aggregator<'a> {
    /// An aggregator for responses to `definition`.
    ///
    /// # Errors
    /// [`AnalyticsError::BreakdownSize`] when a breakdown has no dimensions or too many.
    pub fn new(
        definition: &'a SurveyDefinition,
        config: AnalyticsConfig,
    ) -> Result<Self, AnalyticsError> {
        for b in &config.breakdowns {
            if b.is_empty() || b.len() > MAX_BREAKDOWN_DIMENSIONS {
                return Err(AnalyticsError::BreakdownSize {
                    max: MAX_BREAKDOWN_DIMENSIONS,
                    got: b.len(),
                });
            }
        }
        let index = Index::new(definition);
        let plans: Vec<EntryPlan> = index.entries.iter().map(plan_entry).collect();
        let scale_items = definition
            .scales
            .iter()
            .map(|s| {
                s.items
                    .iter()
                    .filter_map(|id| index.get(id).map(|(i, _)| i))
                    .collect()
            })
            .collect();
        let empty = CellAcc {
            responses: 0,
            items: plans
                .iter()
                .map(|p| ItemAcc {
                    distribution: vec![0; p.labels.len()],
                    ..ItemAcc::default()
                })
                .collect(),
            scales: definition
                .scales
                .iter()
                .map(|s| ScaleAcc {
                    bands: vec![0; s.bands.len()],
                    ..ScaleAcc::default()
                })
                .collect(),
        };
        let breakdowns = config
            .breakdowns
            .iter()
            .map(|dims| Breakdown {
                dimensions: dims.clone(),
                interned: vec![FastMap::default(); dims.len()],
                cells: FastMap::default(),
                accs: Vec::new(),
            })
            .collect();
        let n = index.entries.len();
        Ok(Self {
            index,
            config,
            plans,
            scale_items,
            overall: empty.clone(),
            empty,
            breakdowns,
            skipped: 0,
            buffer: Vec::with_capacity(16),
            item_score: vec![None; n],
            seen: vec![u64::MAX; n],
            stamp: 0,
            scale_scores: Vec::new(),
        })
    }

    /// Adds one response. Responses to another survey or version, and responses that are not
    /// completed or amended (in progress, stopped, entered in error), are counted as skipped.
    // Not split: the per-response hot loop of analytics (single pass, no allocation per answer).
    pub fn add(&mut self, response: &SurveyResponse) {
        if response.survey.id != self.index.definition.id
            || response.survey.version != self.index.definition.version
            || !matches!(
                response.status,
                ResponseStatus::Completed | ResponseStatus::Amended
            )
        {
            self.skipped += 1;
            return;
        }
        self.buffer.clear();
        self.stamp += 1;
        let stamp = self.stamp;
        let index = &self.index;
        let plans = &self.plans;
        let buffer = &mut self.buffer;
        let item_score = &mut self.item_score;
        let seen = &mut self.seen;
        let mut hint = 0usize;
        response.for_each_answer(|id, value| {
            let Some(e) = index.find_hinted(id, hint) else {
                return;
            };
            hint = e + 1;
            let plan = &plans[e];
            if !plan.reported {
                return;
            }
            let entry = &index.entries[e];
            let (bucket, score) = match (plan.numeric_base, value) {
                (Some(base), AnswerValue::Integer(v)) => {
                    let i = v - base;
                    (
                        (0..plan.labels.len() as i64)
                            .contains(&i)
                            .then_some(i as u32),
                        Some(*v as f64),
                    )
                }
                (None, AnswerValue::Boolean(b)) if plan.boolean => {
                    (Some(u32::from(*b)), Some(if *b { 1.0 } else { 0.0 }))
                }
                (None, v) if !plan.labels.is_empty() => {
                    let options = entry.item.kind.options().unwrap_or_default();
                    match options.iter().position(|o| o.matches(v)) {
                        Some(p) => (Some(p as u32), options[p].score),
                        None => (None, None),
                    }
                }
                (_, v) => (None, entry.score_of(v)),
            };
            let oriented = score.map(|s| match (entry.reverse(), entry.range) {
                (true, Some((lo, hi))) => lo + hi - s,
                _ => s,
            });
            // Reverse-scored items enter scales reversed, and several answers add up, as in
            // `score`.
            if let Some(o) = oriented {
                item_score[e] = Some(item_score[e].unwrap_or(0.0) + o);
            }
            let first = seen[e] != stamp;
            seen[e] = stamp;
            buffer.push(Contribution {
                entry: e as u32,
                bucket,
                score,
                oriented,
                first,
            });
        });

        // Scale scores for this response, from the item scores gathered above.
        let mut scale_scores = std::mem::take(&mut self.scale_scores);
        scale_scores.clear();
        scale_scores.resize(self.scale_items.len(), None);
        for (s_no, (scale, items)) in self
            .index
            .definition
            .scales
            .iter()
            .zip(&self.scale_items)
            .enumerate()
        {
            let mut sum = 0.0;
            let mut answered = 0u32;
            for &e in items {
                if let Some(v) = self.item_score[e] {
                    let v = if scale.reverse.iter().any(|r| r == self.index.entries[e].id)
                        && !self.index.entries[e].reverse()
                    {
                        self.index.entries[e]
                            .range
                            .map_or(v, |(lo, hi)| lo + hi - v)
                    } else {
                        v
                    };
                    sum += v;
                    answered += 1;
                }
            }
            let n = scale.items.len() as u32;
            let missing = n - answered.min(n);
            if answered > 0 && missing <= scale.max_missing {
                let mean = sum / f64::from(answered);
                scale_scores[s_no] = Some(match scale.method {
                    crate::scoring::ScoreMethod::Mean => mean,
                    crate::scoring::ScoreMethod::Sum if missing == 0 => sum,
                    crate::scoring::ScoreMethod::Sum => (mean * f64::from(n) + 0.5).floor(),
                });
            }
        }
        for c in &self.buffer {
            self.item_score[c.entry as usize] = None;
        }

        let scales = &self.index.definition.scales;
        // With a breakdown, every response lands in exactly one of its cells, so the overall
        // figures are the sum of that breakdown's cells and are merged at the end instead.
        if self.breakdowns.is_empty() {
            apply(
                &mut self.overall,
                &self.buffer,
                plans,
                &scale_scores,
                scales,
            );
        }
        for b in &mut self.breakdowns {
            let mut key = [NO_VALUE; MAX_BREAKDOWN_DIMENSIONS];
            for (d, dim) in b.dimensions.iter().enumerate() {
                key[d] = match dim {
                    Dimension::Month => response
                        .authored
                        .map_or(NO_VALUE, |a| (a.year().max(0) as u32) * 12 + a.month0()),
                    Dimension::Attribute(name) => match response.dimensions.get(name) {
                        None => NO_VALUE,
                        Some(v) => match b.interned[d].get(v.as_str()) {
                            Some(&i) => i,
                            None => {
                                let i = b.interned[d].len() as u32;
                                b.interned[d].insert(v.clone(), i);
                                i
                            }
                        },
                    },
                };
            }
            let next = b.accs.len();
            let cell = *b.cells.entry(key).or_insert(next);
            if cell == next {
                b.accs.push(self.empty.clone());
            }
            apply(
                &mut b.accs[cell],
                &self.buffer,
                plans,
                &scale_scores,
                scales,
            );
        }
        self.scale_scores = scale_scores;
    }

    /// Finishes the aggregation.
    pub fn finish(mut self) -> AnalyticsReport {
        if let Some(first) = self.breakdowns.first() {
            let mut overall = self.empty.clone();
            for acc in &first.accs {
                overall.merge(acc);
            }
            self.overall = overall;
        }
        let k = self.config.min_cell_size;
        let def = self.index.definition;
        let overall = self.cell_report(Vec::new(), &self.overall, k);
        let breakdowns = self
            .breakdowns
            .iter()
            .map(|b| {
                let names: Vec<Vec<(u32, &str)>> = b
                    .interned
                    .iter()
                    .map(|m| {
                        let mut v: Vec<(u32, &str)> =
                            m.iter().map(|(s, i)| (*i, s.as_str())).collect();
                        v.sort_unstable();
                        v
                    })
                    .collect();
                let mut cells: Vec<CellReport> = b
                    .cells
                    .iter()
                    .map(|(key, &cell)| {
                        let labels = b
                            .dimensions
                            .iter()
                            .enumerate()
                            .map(|(d, dim)| {
                                let value = match (dim, key[d]) {
                                    (_, NO_VALUE) => "(none)".to_string(),
                                    (Dimension::Month, m) => {
                                        format!("{:04}-{:02}", m / 12, m % 12 + 1)
                                    }
                                    (Dimension::Attribute(_), i) => names[d]
                                        .get(i as usize)
                                        .map_or_else(String::new, |(_, s)| (*s).to_string()),
                                };
                                (dim.name().to_string(), value)
                            })
                            .collect();
                        self.cell_report(labels, &b.accs[cell], k)
                    })
                    .collect();
                cells.sort_by(|a, b| a.key.cmp(&b.key));
                BreakdownReport {
                    dimensions: b.dimensions.iter().map(|d| d.name().to_string()).collect(),
                    cells,
                }
            })
            .collect();
        AnalyticsReport {
            survey: def.reference(),
            title: def.title.primary().to_string(),
            min_cell_size: k,
            skipped: self.skipped,
            overall,
            breakdowns,
        }
    }

    fn cell_report(&self, key: Vec<(String, String)>, acc: &CellAcc, k: u64) -> CellReport {
        if acc.responses < k {
            return CellReport {
                key,
                responses: None,
                items: Vec::new(),
                scales: Vec::new(),
            };
        }
        let pct = |x: u64, n: u64| 100.0 * x as f64 / n as f64;
        let items = self
            .index
            .entries
            .iter()
            .zip(&self.plans)
            .zip(&acc.items)
            .filter(|((_, plan), a)| plan.reported && a.answered >= k)
            .map(|((entry, plan), a)| {
                let scored = a.scored;
                ItemStats {
                    item: entry.id.to_string(),
                    answered: a.answered,
                    distribution: plan
                        .labels
                        .iter()
                        .cloned()
                        .zip(a.distribution.iter().copied())
                        .collect(),
                    mean: (scored > 0).then(|| a.sum / scored as f64),
                    boxes: plan.reporting.filter(|_| scored > 0).map(|_| Boxes {
                        top: pct(a.boxes[0], scored),
                        middle: pct(a.boxes[1], scored),
                        bottom: pct(a.boxes[2], scored),
                    }),
                    nps: if plan.nps {
                        Nps::from_counts(a.nps[0], a.nps[1], a.nps[2])
                    } else {
                        None
                    },
                    csat: plan
                        .reporting
                        .and_then(|r| r.satisfied_at_least)
                        .filter(|_| scored > 0)
                        .map(|_| pct(a.satisfied, scored)),
                }
            })
            .collect();
        let scales = self
            .index
            .definition
            .scales
            .iter()
            .zip(&acc.scales)
            .filter(|(_, a)| a.scored >= k)
            .map(|(s, a)| ScaleStats {
                scale: s.id.clone(),
                scored: a.scored,
                mean: (a.scored > 0).then(|| a.sum / a.scored as f64),
                bands: s
                    .bands
                    .iter()
                    .map(|b| b.code.clone())
                    .zip(a.bands.iter().copied())
                    .collect(),
            })
            .collect();
        CellReport {
            key,
            responses: Some(acc.responses),
            items,
            scales,
        }
    }
}

fn plan_entry(entry: &crate::index::Entry<'_>) -> EntryPlan {
    let reported = entry.is_question()
        && !matches!(
            entry.item.kind,
            ItemKind::ShortText { .. } | ItemKind::LongText { .. } | ItemKind::Other { .. }
        );
    let (labels, numeric_base) = match (&entry.item.kind, entry.range) {
        (
            ItemKind::Nps | ItemKind::StarRating { .. } | ItemKind::Integer { .. },
            Some((lo, hi)),
        ) if ((hi - lo) as i64) < MAX_DISTRIBUTION_VALUES => {
            let (lo, hi) = (lo as i64, hi as i64);
            ((lo..=hi).map(|v| v.to_string()).collect(), Some(lo))
        }
        (kind, _) => (
            kind.options()
                .map(|o| o.iter().map(|o| o.code.clone()).collect())
                .unwrap_or_default(),
            None,
        ),
    };
    let boolean = matches!(entry.item.kind, ItemKind::Boolean);
    let labels = if boolean {
        vec!["no".to_string(), "yes".to_string()]
    } else {
        labels
    };
    EntryPlan {
        labels,
        numeric_base,
        boolean,
        nps: matches!(entry.item.kind, ItemKind::Nps),
        reporting: entry.item.reporting,
        reported,
    }
}

fn apply(
    acc: &mut CellAcc,
    contributions: &[Contribution],
    plans: &[EntryPlan],
    scale_scores: &[Option<f64>],
    scales: &[crate::scoring::Scale],
) {
    acc.responses += 1;
    for c in contributions {
        let e = c.entry as usize;
        let plan = &plans[e];
        let a = &mut acc.items[e];
        if c.first {
            a.answered += 1;
        }
        if let Some(b) = c.bucket {
            a.distribution[b as usize] += 1;
        }
        if let (Some(s), Some(o)) = (c.score, c.oriented) {
            a.sum += s;
            a.scored += 1;
            if let Some(r) = &plan.reporting {
                // Boxes and CSAT use the oriented score: the top box is the most positive answer.
                let s = o;
                let b = if s >= r.top_at_least {
                    0
                } else if s >= r.middle_at_least {
                    1
                } else {
                    2
                };
                a.boxes[b] += 1;
                if r.satisfied_at_least.is_some_and(|t| s >= t) {
                    a.satisfied += 1;
                }
            }
            if plan.nps {
                let b = if s >= 9.0 {
                    0
                } else if s >= 7.0 {
                    1
                } else {
                    2
                };
                a.nps[b] += 1;
            }
        }
    }
    for ((scale, a), score) in scales.iter().zip(&mut acc.scales).zip(scale_scores) {
        if let Some(s) = score {
            a.scored += 1;
            a.sum += s;
            if let Some(b) = scale.band_of(*s)
                && let Some(pos) = scale.bands.iter().position(|x| std::ptr::eq(x, b))
            {
                a.bands[pos] += 1;
            }
        }
    }
}

/// Aggregates `responses` in one call.
///
/// # Errors
/// As [`Aggregator::new`].
pub fn analyse<'r>(
    definition: &SurveyDefinition,
    responses: impl IntoIterator<Item = &'r SurveyResponse>,
    config: AnalyticsConfig,
) -> Result<AnalyticsReport, AnalyticsError> {
    let mut agg = Aggregator::new(definition, config)?;
    for r in responses {
        agg.add(r);
    }
    Ok(agg.finish())
}
