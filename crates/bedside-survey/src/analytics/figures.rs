//! The figures an analysis produces: [`AnalyticsReport`] with its [`CellReport`]s,
//! [`ItemStats`], [`Boxes`], [`Nps`] and [`ScaleStats`], and the [`BoxAdjustment`] hook.

use super::Dimension;
use crate::definition::SurveyRef;
use serde::Serialize;

/// Net Promoter Score of a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Nps {
    /// Promoters (9–10).
    pub promoters: u64,
    /// Passives (7–8).
    pub passives: u64,
    /// Detractors (0–6).
    pub detractors: u64,
    /// % promoters − % detractors, in [−100, 100].
    pub score: f64,
    /// Lower end of the 95% confidence interval.
    pub ci_low: f64,
    /// Upper end of the 95% confidence interval.
    pub ci_high: f64,
}

impl Nps {
    /// NPS from counts; `None` when there are no answers.
    pub fn from_counts(promoters: u64, passives: u64, detractors: u64) -> Option<Nps> {
        let n = promoters + passives + detractors;
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let p = promoters as f64 / nf;
        let d = detractors as f64 / nf;
        let score = 100.0 * (p - d);
        let variance = ((p + d - (p - d).powi(2)) / nf).max(0.0);
        let half = 1.96 * 100.0 * variance.sqrt();
        Some(Nps {
            promoters,
            passives,
            detractors,
            score,
            ci_low: (score - half).max(-100.0),
            ci_high: (score + half).min(100.0),
        })
    }

    /// NPS of 0–10 ratings, counted naively.
    pub fn from_ratings(ratings: &[i64]) -> Option<Nps> {
        let promoters = ratings.iter().filter(|r| **r >= 9).count() as u64;
        let detractors = ratings.iter().filter(|r| **r <= 6).count() as u64;
        let passives = ratings.len() as u64 - promoters - detractors;
        Nps::from_counts(promoters, passives, detractors)
    }
}

/// Shares of answers in the top, middle and bottom boxes, as percentages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Boxes {
    /// % in the top box.
    pub top: f64,
    /// % in the middle box.
    pub middle: f64,
    /// % in the bottom box.
    pub bottom: f64,
}

/// Figures for one item in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    /// The item (or matrix row) id.
    pub item: String,
    /// How many answers.
    pub answered: u64,
    /// Counts per option code or numeric value, in scale order.
    pub distribution: Vec<(String, u64)>,
    /// Mean score, for numeric items.
    pub mean: Option<f64>,
    /// Box shares, for items with reporting rules.
    pub boxes: Option<Boxes>,
    /// NPS, for NPS items.
    pub nps: Option<Nps>,
    /// % satisfied, for items with a satisfied threshold.
    pub csat: Option<f64>,
}

/// Figures for one scale in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleStats {
    /// The scale id.
    pub scale: String,
    /// Responses with a score.
    pub scored: u64,
    /// Mean score.
    pub mean: Option<f64>,
    /// Responses per band code, in band order.
    pub bands: Vec<(String, u64)>,
}

/// One cell: all responses sharing the breakdown's dimension values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellReport {
    /// `(dimension, value)` pairs; empty for the overall cell.
    pub key: Vec<(String, String)>,
    /// How many responses; `None` when withheld.
    pub responses: Option<u64>,
    /// Item figures; items answered fewer than `min_cell_size` times are left out.
    pub items: Vec<ItemStats>,
    /// Scale figures; scales scored fewer than `min_cell_size` times are left out.
    pub scales: Vec<ScaleStats>,
}

impl CellReport {
    /// Whether the cell's figures were withheld.
    pub fn is_suppressed(&self) -> bool {
        self.responses.is_none()
    }

    /// The figures for `item`.
    pub fn item(&self, item: &str) -> Option<&ItemStats> {
        self.items.iter().find(|i| i.item == item)
    }

    /// The value of `dimension` in this cell's key.
    pub fn value_of(&self, dimension: &str) -> Option<&str> {
        self.key
            .iter()
            .find(|(d, _)| d == dimension)
            .map(|(_, v)| v.as_str())
    }
}

/// One breakdown's cells, sorted by key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownReport {
    /// Dimension names.
    pub dimensions: Vec<String>,
    /// The cells.
    pub cells: Vec<CellReport>,
}

/// The result of an aggregation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyticsReport {
    /// The survey.
    pub survey: SurveyRef,
    /// The survey's title in its primary language.
    pub title: String,
    /// The suppression threshold used.
    pub min_cell_size: u64,
    /// Responses to other surveys or versions, skipped.
    pub skipped: u64,
    /// All responses together.
    pub overall: CellReport,
    /// One entry per configured breakdown.
    pub breakdowns: Vec<BreakdownReport>,
}

/// A hook for adjusting box shares after aggregation, such as the CMS HCAHPS patient-mix and
/// survey-mode adjustments. Bedside computes raw shares; an adjustment model supplied by the
/// caller changes them cell by cell.
pub trait BoxAdjustment {
    /// Returns the adjusted shares for `item` in the cell with `key` (empty for overall).
    fn adjust(&self, item: &str, key: &[(String, String)], raw: Boxes) -> Boxes;
}

impl AnalyticsReport {
    /// Applies `adjustment` to every box share in the report (overall and every cell), in
    /// place. Shares are clamped to [0, 100].
    pub fn adjust_boxes(&mut self, adjustment: &dyn BoxAdjustment) {
        let cells = std::iter::once(&mut self.overall)
            .chain(self.breakdowns.iter_mut().flat_map(|b| b.cells.iter_mut()));
        for cell in cells {
            let key = cell.key.clone();
            for item in &mut cell.items {
                if let Some(raw) = item.boxes {
                    let a = adjustment.adjust(&item.item, &key, raw);
                    item.boxes = Some(Boxes {
                        top: a.top.clamp(0.0, 100.0),
                        middle: a.middle.clamp(0.0, 100.0),
                        bottom: a.bottom.clamp(0.0, 100.0),
                    });
                }
            }
        }
    }

    /// The trend of `item` over time: one `(month, figures)` pair per month of the `[month]`
    /// breakdown, oldest first; figures are `None` where withheld. Empty when no such breakdown
    /// was configured.
    pub fn trend(&self, item: &str) -> Vec<(&str, Option<&ItemStats>)> {
        self.breakdowns
            .iter()
            .find(|b| b.dimensions.len() == 1 && b.dimensions[0] == Dimension::Month.name())
            .map(|b| {
                b.cells
                    .iter()
                    .map(|c| (c.key[0].1.as_str(), c.item(item)))
                    .collect()
            })
            .unwrap_or_default()
    }
}
