//! Summaries of a series: [`DailyAggregate`] and least-squares [`Trend`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Count, minimum, maximum and mean of one day's readings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyAggregate {
    /// The calendar day in the patient's zone.
    pub date: NaiveDate,
    /// Number of readings.
    pub count: u32,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl DailyAggregate {
    pub(crate) fn of(date: NaiveDate, values: impl Iterator<Item = f64>) -> Option<Self> {
        let (mut count, mut min, mut max, mut sum) = (0u32, f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for v in values {
            count += 1;
            min = min.min(v);
            max = max.max(v);
            sum += v;
        }
        (count > 0).then(|| DailyAggregate {
            date,
            count,
            min,
            max,
            mean: sum / f64::from(count),
        })
    }
}

/// A least-squares line through (days, value) points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Slope in canonical units per day.
    pub slope_per_day: f64,
    /// Number of points fitted.
    pub points: u32,
}

impl Trend {
    /// Fits `(x_days, y)` points; `None` with fewer than two points or zero spread in x.
    pub fn fit(points: &[(f64, f64)]) -> Option<Trend> {
        let n = points.len();
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
        let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        (sxx > 0.0).then(|| Trend {
            slope_per_day: sxy / sxx,
            points: u32::try_from(n).unwrap_or(u32::MAX),
        })
    }
}
