//! Workloads for `bedside-survey`: generated post-visit responses across providers and months.

use bedside_core::SeededRng;
use bedside_survey::{
    Aggregator, AnalyticsConfig, AnswerValue, Builtin, Dimension, ResponseBuilder,
    SurveyDefinition, SurveyError, SurveyResponse, analytics::AnalyticsError,
};
use chrono::{TimeZone, Utc};

/// Providers in the generated clinic.
pub const PROVIDERS: usize = 40;
/// Months covered (January 2026 onwards).
pub const MONTHS: u32 = 12;

/// The built-in post-visit survey and a seeded response generator for it.
#[derive(Debug)]
pub struct PostVisitWorkload {
    definition: SurveyDefinition,
    providers: Vec<String>,
}

impl PostVisitWorkload {
    /// Loads the post-visit definition.
    ///
    /// # Errors
    /// If the built-in definition does not parse.
    pub fn new() -> Result<Self, SurveyError> {
        Ok(Self {
            definition: Builtin::PostVisit.definition()?,
            providers: (0..PROVIDERS).map(|p| format!("provider-{p:02}")).collect(),
        })
    }

    /// The definition.
    pub fn definition(&self) -> &SurveyDefinition {
        &self.definition
    }

    /// `n` valid responses from `seed`. Providers differ in quality so reports show spread.
    pub fn responses(&self, n: usize, seed: u64) -> Vec<SurveyResponse> {
        let mut rng = SeededRng::new(seed);
        (0..n).map(|_| self.one(&mut rng)).collect()
    }

    fn one(&self, rng: &mut SeededRng) -> SurveyResponse {
        let p = rng.index(self.providers.len());
        // Provider quality in [0, 1): shifts every answer up or down.
        let quality = p as f64 / PROVIDERS as f64;
        let mut pick = |lo: i64, hi: i64| -> i64 {
            let span = (hi - lo + 1) as f64;
            let biased = (rng.next_f64() * 0.6 + quality * 0.4) * span;
            (lo + biased as i64).clamp(lo, hi)
        };
        let scheduling = pick(1, 5);
        let wait = ["over-30", "15-30", "5-15", "under-5"][(pick(1, 4) - 1) as usize];
        let concerns = ["no", "partly", "completely"][(pick(1, 3) - 1) as usize];
        let comfort = pick(1, 5);
        let recommend = pick(0, 10);
        let explain_better = pick(0, 3) == 0;
        let month = rng.below(u64::from(MONTHS)) as u32 + 1;
        let day = rng.below(28) as u32 + 1;
        let mut b = ResponseBuilder::new(&self.definition);
        // Months 1–12 and days 1–28 always form a valid date.
        if let Some(at) = Utc.with_ymd_and_hms(2026, month, day, 15, 30, 0).single() {
            b = b.authored(at.fixed_offset());
        }
        let mut b = b
            .dimension("provider", self.providers[p].clone())
            .answer("scheduling-ease", AnswerValue::code(scheduling.to_string()))
            .answer("wait", AnswerValue::code(wait))
            .answer("concerns-addressed", AnswerValue::code(concerns))
            .answer("explain-better", AnswerValue::Boolean(explain_better));
        if explain_better {
            b = b.answer(
                "explain-what",
                AnswerValue::text("the plan for my medicines"),
            );
        }
        b = b
            .answer("staff-comfort", AnswerValue::code(comfort.to_string()))
            .answer("recommend", AnswerValue::Integer(recommend));
        if rng.chance(0.2) {
            b = b.answer("comment", AnswerValue::text("thank you"));
        }
        b.build()
    }

    /// An aggregator by provider and month.
    ///
    /// # Errors
    /// Never in practice: two dimensions are within the breakdown limit.
    pub fn aggregator(&self) -> Result<Aggregator<'_>, AnalyticsError> {
        let config =
            AnalyticsConfig::default().by(vec![Dimension::attribute("provider"), Dimension::Month]);
        Aggregator::new(&self.definition, config)
    }
}

/// Summary of a finished aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregateSummary {
    /// Cells in the provider × month breakdown.
    pub cells: usize,
    /// Cells withheld for having too few responses.
    pub suppressed: usize,
}

/// Finishes an aggregator from [`PostVisitWorkload::aggregator`].
pub fn aggregate_by_provider_and_month(aggregator: Aggregator<'_>) -> AggregateSummary {
    let report = aggregator.finish();
    let cells = report.breakdowns.first().map_or(&[][..], |b| &b.cells[..]);
    AggregateSummary {
        cells: cells.len(),
        suppressed: cells.iter().filter(|c| c.is_suppressed()).count(),
    }
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux; nanosecond
/// precision); `None` elsewhere. On a shared machine wall time includes waiting for a core, so
/// one-core figures are taken in CPU time.
pub fn thread_cpu_time() -> Option<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// Runs `f`, returning its result, wall time and CPU time (CPU time falls back to wall time).
pub fn timed_cpu<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration, std::time::Duration) {
    let cpu0 = thread_cpu_time();
    let wall0 = std::time::Instant::now();
    let out = f();
    let wall = wall0.elapsed();
    let cpu = match (cpu0, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (out, wall, cpu)
}
