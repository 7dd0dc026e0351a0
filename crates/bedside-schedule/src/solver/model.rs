//! The solver's problem model: a slotted horizon, providers with per-day availability masks,
//! requests with hard rules and soft preferences, and the weights of the soft score.

use serde::{Deserialize, Serialize};

use super::SolverError;

/// The largest supported number of slots in one day (one `u128` availability mask per day).
pub const MAX_SLOTS_PER_DAY: u16 = 128;
/// The largest supported number of days in one horizon.
pub const MAX_DAYS: u16 = 366;
/// The largest supported number of requests in one problem.
pub const MAX_REQUESTS: usize = 200_000;

/// A per-day availability or occupancy mask: bit `k` is slot `k` of the day.
pub type DayMask = u128;

/// Where a request is placed: a provider, a day and the first slot of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Placement {
    /// Index of the provider in [`Problem::providers`].
    pub provider: u32,
    /// Day index within the horizon.
    pub day: u16,
    /// First slot within the day.
    pub start_slot: u16,
}

impl Placement {
    /// The global slot index of the start: `day * slots_per_day + start_slot`.
    pub fn global_start(&self, slots_per_day: u16) -> u32 {
        u32::from(self.day) * u32::from(slots_per_day) + u32::from(self.start_slot)
    }
}

/// One provider as the solver sees it: which slots of each day they can work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverProvider {
    /// One mask per day of the horizon; bit `k` set means slot `k` is available.
    pub available: Vec<DayMask>,
}

/// One appointment request to place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverRequest {
    /// Length in slots (at least one, at most a day).
    pub duration_slots: u16,
    /// Providers (indices) allowed to see this request: they hold the needed skill.
    pub allowed_providers: Vec<u32>,
    /// Preferred day; each day away costs [`Weights::day`].
    pub preferred_day: Option<u16>,
    /// Preferred in-day window `[start, end)` in slots; each slot outside costs
    /// [`Weights::window_slot`].
    pub preferred_window: Option<(u16, u16)>,
    /// Preferred provider for continuity of care; any other costs [`Weights::provider`].
    pub preferred_provider: Option<u32>,
    /// Last day by which the request should be seen (urgency); each later day costs
    /// [`Weights::late_day`].
    pub due_day: Option<u16>,
    /// Cost of leaving the request unscheduled (its priority), in the unscheduled tier.
    pub unscheduled_penalty: i64,
    /// Dense patient key: two requests with the same key never overlap in time.
    pub patient: Option<u32>,
    /// A fixed placement that the solver keeps.
    pub pinned: Option<Placement>,
}

impl SolverRequest {
    /// A request of `duration_slots` for any of `allowed_providers`, with no preferences and an
    /// unscheduled penalty of 1000.
    pub fn new(duration_slots: u16, allowed_providers: Vec<u32>) -> Self {
        Self {
            duration_slots,
            allowed_providers,
            preferred_day: None,
            preferred_window: None,
            preferred_provider: None,
            due_day: None,
            unscheduled_penalty: 1000,
            patient: None,
            pinned: None,
        }
    }
}

/// Weights of the soft score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Per slot of the appointment outside the preferred window.
    pub window_slot: i64,
    /// Per day away from the preferred day.
    pub day: i64,
    /// For a provider other than the preferred one.
    pub provider: i64,
    /// Per day after the due day.
    pub late_day: i64,
    /// Per idle slot between a provider's first and last appointment of a day.
    pub idle_gap_slot: i64,
    /// Per booked slot of a provider above the fair share of the total demand.
    pub overload_slot: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            window_slot: 1,
            day: 16,
            provider: 8,
            late_day: 4,
            idle_gap_slot: 0,
            overload_slot: 0,
        }
    }
}

/// A validated batch-scheduling problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    days: u16,
    slots_per_day: u16,
    providers: Vec<SolverProvider>,
    requests: Vec<SolverRequest>,
    weights: Weights,
}

impl Problem {
    /// Validates and creates a problem over `days` days of `slots_per_day` slots.
    ///
    /// # Errors
    /// Returns [`SolverError::Invalid`] listing every problem found, each with a path such as
    /// `requests[3].allowed_providers[0]`.
    pub fn new(
        days: u16,
        slots_per_day: u16,
        providers: Vec<SolverProvider>,
        requests: Vec<SolverRequest>,
        weights: Weights,
    ) -> Result<Self, SolverError> {
        let mut problems = Vec::new();
        if days == 0 || days > MAX_DAYS {
            problems.push(format!("days: must be 1..={MAX_DAYS}"));
        }
        if slots_per_day == 0 || slots_per_day > MAX_SLOTS_PER_DAY {
            problems.push(format!("slots_per_day: must be 1..={MAX_SLOTS_PER_DAY}"));
        }
        if requests.len() > MAX_REQUESTS {
            problems.push(format!("requests: more than {MAX_REQUESTS}"));
        }
        if u32::try_from(providers.len()).is_err() {
            problems.push("providers: too many".to_string());
        }
        for (i, p) in providers.iter().enumerate() {
            if p.available.len() != usize::from(days) {
                problems.push(format!("providers[{i}].available: needs one mask per day"));
            }
        }
        let n_prov = providers.len();
        let check_placement = |pl: &Placement, dur: u16| -> bool {
            (pl.provider as usize) < n_prov
                && pl.day < days
                && u32::from(pl.start_slot) + u32::from(dur) <= u32::from(slots_per_day)
        };
        for (i, r) in requests.iter().enumerate() {
            if r.duration_slots == 0 || r.duration_slots > slots_per_day {
                problems.push(format!(
                    "requests[{i}].duration_slots: must be 1..=slots_per_day"
                ));
            }
            if r.allowed_providers.is_empty() {
                problems.push(format!("requests[{i}].allowed_providers: empty"));
            }
            for (j, &p) in r.allowed_providers.iter().enumerate() {
                if p as usize >= n_prov {
                    problems.push(format!(
                        "requests[{i}].allowed_providers[{j}]: unknown provider"
                    ));
                }
            }
            if let Some(d) = r.preferred_day
                && d >= days
            {
                problems.push(format!("requests[{i}].preferred_day: outside the horizon"));
            }
            if let Some((a, b)) = r.preferred_window
                && (a >= b || b > slots_per_day)
            {
                problems.push(format!(
                    "requests[{i}].preferred_window: must be a non-empty range within the day"
                ));
            }
            if r.unscheduled_penalty < 0 {
                problems.push(format!("requests[{i}].unscheduled_penalty: negative"));
            }
            if let Some(pl) = &r.pinned {
                if !check_placement(pl, r.duration_slots) {
                    problems.push(format!("requests[{i}].pinned: outside the horizon"));
                } else if !r.allowed_providers.contains(&pl.provider) {
                    problems.push(format!("requests[{i}].pinned: provider not allowed"));
                }
            }
        }
        for (name, w) in [
            ("window_slot", weights.window_slot),
            ("day", weights.day),
            ("provider", weights.provider),
            ("late_day", weights.late_day),
            ("idle_gap_slot", weights.idle_gap_slot),
            ("overload_slot", weights.overload_slot),
        ] {
            if !(0..=1_000_000).contains(&w) {
                problems.push(format!("weights.{name}: must be 0..=1000000"));
            }
        }
        if !problems.is_empty() {
            return Err(SolverError::Invalid { problems });
        }
        Ok(Self {
            days,
            slots_per_day,
            providers,
            requests,
            weights,
        })
    }

    /// Number of days in the horizon.
    pub fn days(&self) -> u16 {
        self.days
    }

    /// Number of slots in each day.
    pub fn slots_per_day(&self) -> u16 {
        self.slots_per_day
    }

    /// The providers, by index.
    pub fn providers(&self) -> &[SolverProvider] {
        &self.providers
    }

    /// The requests, by index.
    pub fn requests(&self) -> &[SolverRequest] {
        &self.requests
    }

    /// The soft-score weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The placement-dependent soft cost of `request` at `placement`, split into its parts
    /// (window, day, provider, late). Gaps and overload depend on other requests and are not
    /// included.
    pub fn placement_cost(&self, request: usize, placement: Placement) -> PlacementCost {
        let Some(r) = self.requests.get(request) else {
            return PlacementCost::default();
        };
        let w = &self.weights;
        let k = i64::from(placement.start_slot);
        let dur = i64::from(r.duration_slots);
        let window = match r.preferred_window {
            Some((ws, we)) => {
                let dev = (i64::from(ws) - k).max(k + dur - i64::from(we)).max(0);
                dev * w.window_slot
            }
            None => 0,
        };
        let day = match r.preferred_day {
            Some(pd) => (i64::from(placement.day) - i64::from(pd)).abs() * w.day,
            None => 0,
        };
        let provider = match r.preferred_provider {
            Some(pp) if pp != placement.provider => w.provider,
            _ => 0,
        };
        let late = match r.due_day {
            Some(dd) => (i64::from(placement.day) - i64::from(dd)).max(0) * w.late_day,
            None => 0,
        };
        PlacementCost {
            window,
            day,
            provider,
            late,
        }
    }

    /// Whether `placement` respects the request's hard rules on its own: allowed provider,
    /// inside the horizon and inside the provider's availability.
    pub fn placement_allowed(&self, request: usize, placement: Placement) -> bool {
        let Some(r) = self.requests.get(request) else {
            return false;
        };
        if !r.allowed_providers.contains(&placement.provider) || placement.day >= self.days {
            return false;
        }
        let end = u32::from(placement.start_slot) + u32::from(r.duration_slots);
        if end > u32::from(self.slots_per_day) {
            return false;
        }
        let Some(p) = self.providers.get(placement.provider as usize) else {
            return false;
        };
        let mask = run_mask(r.duration_slots) << placement.start_slot;
        p.available
            .get(usize::from(placement.day))
            .is_some_and(|a| a & mask == mask)
    }
}

/// The soft cost of one placement, by constraint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementCost {
    /// Slots outside the preferred window, weighted.
    pub window: i64,
    /// Days away from the preferred day, weighted.
    pub day: i64,
    /// Non-preferred provider, weighted.
    pub provider: i64,
    /// Days after the due day, weighted.
    pub late: i64,
}

impl PlacementCost {
    /// The sum of the parts.
    pub fn total(&self) -> i64 {
        self.window + self.day + self.provider + self.late
    }
}

/// A mask of `len` consecutive low bits.
pub(crate) fn run_mask(len: u16) -> DayMask {
    if len >= 128 {
        DayMask::MAX
    } else {
        (1u128 << len) - 1
    }
}
