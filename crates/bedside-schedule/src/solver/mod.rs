//! Batch optimisation of many appointment requests over providers and days.
//!
//! A [`Problem`] holds a slotted horizon (days of equal slot counts), providers with per-day
//! availability masks and [`SolverRequest`]s with hard rules (allowed providers, duration, no
//! day crossing, patient conflicts, pinned placements) and soft preferences (window, day,
//! provider, due day), plus non-separable soft terms (idle gaps, overload) weighted by
//! [`Weights`]. [`solve`] builds a constructive start (most constrained first, cheapest free
//! placement) and improves it by ruin-and-recreate large-neighbourhood search with incremental
//! (delta) scoring under simulated-annealing acceptance. It is anytime: a [`Budget`] decides
//! when to stop ([`IterationBudget`] makes a run fully deterministic for a seed). The
//! [`Score`] is lexicographic — hard violations, then unscheduled requests by priority, then
//! soft cost — and [`explain`] breaks it down per request and per provider.
//!
//! ```
//! use bedside_schedule::solver::{solve, IterationBudget, Problem, SolverConfig, SolverProvider, SolverRequest, Weights};
//!
//! // Two 30-minute requests (two slots each) that both want slots 4..6 of the one provider.
//! let provider = SolverProvider { available: vec![u128::from(u32::MAX)] };
//! let mut a = SolverRequest::new(2, vec![0]);
//! a.preferred_window = Some((4, 6));
//! let b = a.clone();
//! let problem = Problem::new(1, 32, vec![provider], vec![a, b], Weights::default())?;
//! let solution = solve(&problem, &SolverConfig::default(), &mut IterationBudget(100))?;
//! // One gets the window, the other sits next to it: two slots outside its window.
//! assert_eq!(solution.score.unscheduled, 0);
//! assert_eq!(solution.score.soft, 2);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod engine;
pub mod model;

use serde::{Deserialize, Serialize};

pub use model::{
    DayMask, MAX_DAYS, MAX_REQUESTS, MAX_SLOTS_PER_DAY, Placement, PlacementCost, Problem,
    SolverProvider, SolverRequest, Weights,
};

/// Errors of the solver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SolverError {
    /// Occurs when a problem fails validation; every problem found is listed with its path.
    #[error("invalid problem: {}", problems.join("; "))]
    Invalid {
        /// One entry per problem, each starting with the path of the offending field.
        problems: Vec<String>,
    },
    /// Occurs when a pinned request cannot stay where it is pinned (unavailable or overlapping).
    #[error("pinned request {request} does not fit where it is pinned")]
    PinnedConflict {
        /// Index of the request.
        request: usize,
    },
    /// Occurs when a schedule breaks a hard constraint (see [`evaluate`]).
    #[error("request {request} breaks a hard constraint: {reason}")]
    HardViolation {
        /// Index of the request.
        request: usize,
        /// Which constraint.
        reason: &'static str,
    },
    /// Occurs when a schedule has a different number of entries than the problem has requests.
    #[error("schedule has {got} entries, problem has {expected} requests")]
    LengthMismatch {
        /// Requests in the problem.
        expected: usize,
        /// Entries in the schedule.
        got: usize,
    },
}

impl bedside_core::DomainError for SolverError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self {
            SolverError::Invalid { .. }
            | SolverError::HardViolation { .. }
            | SolverError::LengthMismatch { .. } => ErrorKind::Invalid,
            SolverError::PinnedConflict { .. } => ErrorKind::Conflict,
        }
    }
}

/// Decides when an anytime search stops and how far along it is.
pub trait Budget {
    /// Called every few iterations with the count so far; returns the fraction of the budget
    /// used (`>= 1.0` stops the search).
    fn fraction_used(&mut self, iterations: u64) -> f64;
}

/// A budget of a fixed number of iterations: runs are deterministic for a given seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IterationBudget(pub u64);

impl Budget for IterationBudget {
    fn fraction_used(&mut self, iterations: u64) -> f64 {
        if self.0 == 0 {
            1.0
        } else {
            iterations as f64 / self.0 as f64
        }
    }
}

impl<F: FnMut(u64) -> f64> Budget for F {
    fn fraction_used(&mut self, iterations: u64) -> f64 {
        self(iterations)
    }
}

/// Search parameters. The defaults are tuned on the `clinic-slots-v1` family.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SolverConfig {
    /// Seed of all random choices.
    pub seed: u64,
    /// Annealing temperature at the start, in soft-score units.
    pub start_temperature: f64,
    /// Annealing temperature at the end of the budget.
    pub end_temperature: f64,
    /// Most requests removed by one ruin step.
    pub max_removed: usize,
    /// Most slots a ruined time range is widened by on each side.
    pub max_extension_slots: usize,
    /// Probability of also ruining around one of the removed requests' own preferred place.
    pub cascade: f64,
    /// Weight of slot pressure (expected demand) when breaking ties between equally cheap
    /// placements; zero breaks ties by snugness alone.
    pub pressure_weight: i64,
    /// Probability of re-inserting the ruin's seed request (the costly one) first.
    pub seed_first: f64,
    /// Probability of skipping a feasible option while recreating (diversification).
    pub blink: f64,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            start_temperature: 2.0,
            end_temperature: 0.05,
            max_removed: 24,
            max_extension_slots: 3,
            blink: 0.02,
            cascade: 0.5,
            seed_first: 0.0,
            pressure_weight: 1,
        }
    }
}

/// A lexicographic score: fewer hard violations first, then a lower unscheduled penalty, then
/// a lower soft cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Score {
    /// Hard-constraint violations (always zero for solver output).
    pub hard: i64,
    /// Sum of the unscheduled penalties of unscheduled requests.
    pub unscheduled: i64,
    /// Soft cost.
    pub soft: i64,
}

impl Score {
    /// `unscheduled + soft`: the single number benchmarks such as `clinic-slots-v1` report.
    pub fn objective(&self) -> i64 {
        self.unscheduled + self.soft
    }
}

/// The result of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    /// Per request: where it is placed, or `None` if unscheduled.
    pub placements: Vec<Option<Placement>>,
    /// The score of `placements`.
    pub score: Score,
    /// A lower bound on `score.objective()` for this problem.
    pub lower_bound: i64,
    /// Search iterations run.
    pub iterations: u64,
}

/// Solves `problem` with `config`, stopping when `budget` says so.
///
/// # Errors
/// Returns [`SolverError::PinnedConflict`] when pinned requests cannot all stay put.
pub fn solve(
    problem: &Problem,
    config: &SolverConfig,
    budget: &mut dyn Budget,
) -> Result<Solution, SolverError> {
    let outcome = engine::search(problem, config, budget)?;
    let score = evaluate(problem, &outcome.best)?;
    Ok(Solution {
        placements: outcome.best,
        score,
        lower_bound: lower_bound(problem),
        iterations: outcome.iterations,
    })
}

/// Scores a schedule from scratch, checking every hard constraint.
///
/// # Errors
/// Returns [`SolverError::HardViolation`] for the first broken hard constraint found and
/// [`SolverError::LengthMismatch`] when the schedule does not cover every request.
pub fn evaluate(problem: &Problem, placements: &[Option<Placement>]) -> Result<Score, SolverError> {
    Ok(explain(problem, placements)?.score)
}

/// Per-request part of an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestExplanation {
    /// Index of the request.
    pub request: usize,
    /// Where it is placed, if anywhere.
    pub placement: Option<Placement>,
    /// Its unscheduled penalty if unscheduled, else zero.
    pub unscheduled: i64,
    /// Its soft cost by constraint (zero if unscheduled).
    pub cost: PlacementCost,
}

/// Per-provider part of an [`Explanation`] (terms that depend on several requests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderExplanation {
    /// Index of the provider.
    pub provider: usize,
    /// Cost of idle gaps between appointments, over all days.
    pub idle_gaps: i64,
    /// Cost of load above the fair share.
    pub overload: i64,
}

/// Which constraint cost how much: the parts sum exactly to [`Explanation::score`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The total.
    pub score: Score,
    /// One entry per request.
    pub requests: Vec<RequestExplanation>,
    /// One entry per provider.
    pub providers: Vec<ProviderExplanation>,
}

/// Checks every hard constraint of `placements` and explains its score.
///
/// # Errors
/// As [`evaluate`].
// Long because it recomputes the score from scratch term by term, as an independent check of the
// engine's delta scoring; each term sits beside the explanation it produces.
pub fn explain(
    problem: &Problem,
    placements: &[Option<Placement>],
) -> Result<Explanation, SolverError> {
    let n = problem.requests().len();
    if placements.len() != n {
        return Err(SolverError::LengthMismatch {
            expected: n,
            got: placements.len(),
        });
    }
    let days = usize::from(problem.days());
    let n_prov = problem.providers().len();
    let mut occ: Vec<DayMask> = vec![0; n_prov * days];
    let mut patient_occ: std::collections::HashMap<(u32, u16), DayMask> =
        std::collections::HashMap::new();
    let mut load = vec![0i64; n_prov];
    let mut requests = Vec::with_capacity(n);
    let mut score = Score {
        hard: 0,
        unscheduled: 0,
        soft: 0,
    };
    for (i, pl) in placements.iter().enumerate() {
        let req = &problem.requests()[i];
        let Some(pl) = *pl else {
            if req.pinned.is_some() {
                return Err(SolverError::HardViolation {
                    request: i,
                    reason: "pinned request unscheduled",
                });
            }
            score.unscheduled += req.unscheduled_penalty;
            requests.push(RequestExplanation {
                request: i,
                placement: None,
                unscheduled: req.unscheduled_penalty,
                cost: PlacementCost::default(),
            });
            continue;
        };
        if let Some(pin) = req.pinned
            && pin != pl
        {
            return Err(SolverError::HardViolation {
                request: i,
                reason: "pinned request moved",
            });
        }
        if !problem.placement_allowed(i, pl) {
            return Err(SolverError::HardViolation {
                request: i,
                reason: "provider not allowed or not available",
            });
        }
        let m = model::run_mask(req.duration_slots) << pl.start_slot;
        let pd = pl.provider as usize * days + usize::from(pl.day);
        if occ[pd] & m != 0 {
            return Err(SolverError::HardViolation {
                request: i,
                reason: "provider double-booked",
            });
        }
        occ[pd] |= m;
        if let Some(pt) = req.patient {
            let e = patient_occ.entry((pt, pl.day)).or_insert(0);
            if *e & m != 0 {
                return Err(SolverError::HardViolation {
                    request: i,
                    reason: "patient double-booked",
                });
            }
            *e |= m;
        }
        load[pl.provider as usize] += i64::from(req.duration_slots);
        let cost = problem.placement_cost(i, pl);
        score.soft += cost.total();
        requests.push(RequestExplanation {
            request: i,
            placement: Some(pl),
            unscheduled: 0,
            cost,
        });
    }
    let w = problem.weights();
    let total_demand: i64 = problem
        .requests()
        .iter()
        .map(|r| i64::from(r.duration_slots))
        .sum();
    let fair = if n_prov == 0 {
        0
    } else {
        (total_demand + n_prov as i64 - 1) / n_prov as i64
    };
    let mut providers = Vec::with_capacity(n_prov);
    for p in 0..n_prov {
        let mut idle = 0;
        for d in 0..days {
            let o = occ[p * days + d];
            if o != 0 {
                let span = 128 - o.leading_zeros() - o.trailing_zeros();
                idle += i64::from(span - o.count_ones());
            }
        }
        let idle_gaps = idle * w.idle_gap_slot;
        let overload = (load[p] - fair).max(0) * w.overload_slot;
        score.soft += idle_gaps + overload;
        providers.push(ProviderExplanation {
            provider: p,
            idle_gaps,
            overload,
        });
    }
    Ok(Explanation {
        score,
        requests,
        providers,
    })
}

/// A lower bound on the objective from the relaxation that drops every capacity constraint:
/// each request at its cheapest placement allowed on its own (or unscheduled if cheaper).
/// Weak where demand concentrates (it ignores that two requests cannot share a slot), but
/// always valid, so the reported gap is an upper bound on the true gap.
pub fn lower_bound(problem: &Problem) -> i64 {
    let mut total = 0;
    for (i, r) in problem.requests().iter().enumerate() {
        let mut best = r.unscheduled_penalty;
        for &p in &r.allowed_providers {
            for d in 0..problem.days() {
                for k in 0..=problem.slots_per_day().saturating_sub(r.duration_slots) {
                    let pl = Placement {
                        provider: p,
                        day: d,
                        start_slot: k,
                    };
                    if problem.placement_allowed(i, pl) {
                        best = best.min(problem.placement_cost(i, pl).total());
                    }
                }
            }
            if best == 0 {
                break;
            }
        }
        total += best;
    }
    total
}
