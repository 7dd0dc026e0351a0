//! The `clinic-slots-v1` benchmark format: reading an instance into a solver [`Problem`] and
//! writing a solution the family's independent checker (`score.py`) accepts.
//!
//! An instance has `days` days of `slots_per_day` slots, providers with availability intervals
//! of global slots, and requests with a duration, allowed providers, a preferred day and an
//! in-day window. The penalty of a start is the number of slots outside the window plus
//! `day_penalty` per day away from the preferred day; each unscheduled request costs
//! `unscheduled_penalty`. A solution maps the request id (a string) to
//! `[provider id, global start slot]`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::solver::{
    MAX_DAYS, MAX_SLOTS_PER_DAY, Placement, Problem, SolverError, SolverProvider, SolverRequest,
    Weights,
};

/// Errors reading a `clinic-slots-v1` instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClinicSlotsError {
    /// Occurs when the input is not JSON of the instance shape.
    #[error("malformed instance at line {line}, column {column}: {reason}")]
    Malformed {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What was wrong.
        reason: String,
    },
    /// Occurs when the instance is well-formed JSON but inconsistent (ids out of order,
    /// intervals outside the horizon, …); every problem is listed with its path.
    #[error("invalid instance: {}", problems.join("; "))]
    Invalid {
        /// One entry per problem.
        problems: Vec<String>,
    },
    /// Occurs when the mapped problem fails the solver's validation.
    #[error(transparent)]
    Solver(#[from] SolverError),
}

impl bedside_core::DomainError for ClinicSlotsError {
    fn kind(&self) -> bedside_core::ErrorKind {
        match self {
            ClinicSlotsError::Malformed { .. } | ClinicSlotsError::Invalid { .. } => {
                bedside_core::ErrorKind::Invalid
            }
            ClinicSlotsError::Solver(e) => e.kind(),
        }
    }
}

/// One provider of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProvider {
    /// Provider id (equal to its index).
    pub id: u32,
    /// Skill codes held.
    pub skills: Vec<u32>,
    /// Availability as `[start, end)` global-slot intervals.
    pub avail: Vec<[u32; 2]>,
}

/// One request of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRequest {
    /// Request id (equal to its index).
    pub id: u32,
    /// Appointment type (skill needed).
    #[serde(rename = "type")]
    pub kind: u32,
    /// Duration in slots.
    pub dur: u16,
    /// Providers allowed.
    pub allowed: Vec<u32>,
    /// Preferred day.
    pub pref_day: u16,
    /// Preferred in-day window `[start, end)`.
    pub win: [u16; 2],
}

/// A `clinic-slots-v1` instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Family name, `clinic-slots-v1`.
    pub family: String,
    /// Generator seed.
    pub seed: u64,
    /// Minutes per slot.
    pub slot_minutes: u32,
    /// Slots per day.
    pub slots_per_day: u16,
    /// Days in the horizon.
    pub days: u16,
    /// Providers, by id.
    pub providers: Vec<InstanceProvider>,
    /// Requests, by id.
    pub requests: Vec<InstanceRequest>,
    /// Penalty per day away from the preferred day.
    pub day_penalty: i64,
    /// Penalty per unscheduled request.
    pub unscheduled_penalty: i64,
}

impl Instance {
    /// Parses an instance from JSON bytes.
    ///
    /// # Errors
    /// [`ClinicSlotsError::Malformed`] with the position of the first syntax or shape error.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ClinicSlotsError> {
        serde_json::from_slice(bytes).map_err(|e| ClinicSlotsError::Malformed {
            line: e.line(),
            column: e.column(),
            reason: e.classify_reason(),
        })
    }

    /// Maps the instance to a solver problem (one slot per instance slot, provider and request
    /// indices equal to their ids; only the window and day weights are non-zero).
    ///
    /// # Errors
    /// [`ClinicSlotsError::Invalid`] listing every inconsistency, or
    /// [`ClinicSlotsError::Solver`] if the problem fails validation.
    pub fn to_problem(&self) -> Result<Problem, ClinicSlotsError> {
        let mut problems = Vec::new();
        if self.slots_per_day == 0 || self.slots_per_day > MAX_SLOTS_PER_DAY {
            problems.push(format!("slots_per_day: must be 1..={MAX_SLOTS_PER_DAY}"));
        }
        if self.days == 0 || self.days > MAX_DAYS {
            problems.push(format!("days: must be 1..={MAX_DAYS}"));
        }
        if !problems.is_empty() {
            return Err(ClinicSlotsError::Invalid { problems });
        }
        let spd = u32::from(self.slots_per_day);
        let horizon = spd * u32::from(self.days);
        let mut providers = Vec::with_capacity(self.providers.len());
        for (i, p) in self.providers.iter().enumerate() {
            if p.id as usize != i {
                problems.push(format!("providers[{i}].id: must equal its index"));
            }
            let mut available = vec![0u128; usize::from(self.days)];
            for (j, &[a, b]) in p.avail.iter().enumerate() {
                if a > b || b > horizon {
                    problems.push(format!("providers[{i}].avail[{j}]: outside the horizon"));
                    continue;
                }
                for t in a..b {
                    available[(t / spd) as usize] |= 1u128 << (t % spd);
                }
            }
            providers.push(SolverProvider { available });
        }
        let mut requests = Vec::with_capacity(self.requests.len());
        for (i, r) in self.requests.iter().enumerate() {
            if r.id as usize != i {
                problems.push(format!("requests[{i}].id: must equal its index"));
            }
            let mut req = SolverRequest::new(r.dur, r.allowed.clone());
            req.preferred_day = Some(r.pref_day);
            req.preferred_window = Some((r.win[0], r.win[1]));
            req.unscheduled_penalty = self.unscheduled_penalty;
            requests.push(req);
        }
        if !problems.is_empty() {
            return Err(ClinicSlotsError::Invalid { problems });
        }
        let weights = Weights {
            window_slot: 1,
            day: self.day_penalty,
            provider: 0,
            late_day: 0,
            idle_gap_slot: 0,
            overload_slot: 0,
        };
        Ok(Problem::new(
            self.days,
            self.slots_per_day,
            providers,
            requests,
            weights,
        )?)
    }

    /// The solution in the checker's format: request id → `[provider, global start]`, for
    /// scheduled requests only.
    pub fn solution(&self, placements: &[Option<Placement>]) -> BTreeMap<String, [u32; 2]> {
        placements
            .iter()
            .enumerate()
            .filter_map(|(i, pl)| {
                pl.map(|pl| {
                    (
                        i.to_string(),
                        [pl.provider, pl.global_start(self.slots_per_day)],
                    )
                })
            })
            .collect()
    }
}

trait ClassifyReason {
    fn classify_reason(&self) -> String;
}

impl ClassifyReason for serde_json::Error {
    fn classify_reason(&self) -> String {
        // serde_json messages quote field names and types, never values of PHI: instances
        // carry no personal data.
        let msg = self.to_string();
        match msg.find(" at line ") {
            Some(cut) => msg[..cut].to_string(),
            None => msg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::{IterationBudget, SolverConfig, evaluate, solve};

    const TINY: &str = r#"{"family":"clinic-slots-v1","seed":1,"slot_minutes":15,"slots_per_day":32,"days":2,
      "providers":[{"id":0,"skills":[0],"avail":[[0,64]]},{"id":1,"skills":[0],"avail":[[0,16],[32,48]]}],
      "requests":[
        {"id":0,"type":0,"dur":4,"allowed":[0,1],"pref_day":0,"win":[0,4]},
        {"id":1,"type":0,"dur":4,"allowed":[0,1],"pref_day":0,"win":[0,4]},
        {"id":2,"type":0,"dur":4,"allowed":[0,1],"pref_day":0,"win":[0,4]},
        {"id":3,"type":0,"dur":2,"allowed":[1],"pref_day":1,"win":[20,24]}],
      "day_penalty":16,"unscheduled_penalty":1000}"#;

    #[test]
    fn tiny_instance_solves_to_its_optimum() {
        let inst = Instance::from_json(TINY.as_bytes()).unwrap();
        let pb = inst.to_problem().unwrap();
        let sol = solve(&pb, &SolverConfig::default(), &mut IterationBudget(500)).unwrap();
        // Two requests fit the window on the two providers; the third is 4 slots late;
        // request 3 must go to provider 1's afternoon-less day 1 → window [20,24) unavailable
        // (provider 1 works 32..48 = day 1 slots 0..16), so it sits at slot 14: 14+2-24 < 0,
        // dev = 20 - 14 = 6.
        assert_eq!(sol.score.unscheduled, 0);
        assert_eq!(sol.score.soft, 4 + 6);
        assert_eq!(evaluate(&pb, &sol.placements).unwrap(), sol.score);
        let out = inst.solution(&sol.placements);
        assert_eq!(out.len(), 4);
        assert_eq!(out["3"], [1, 32 + 14]);
    }

    #[test]
    fn malformed_and_invalid_instances_are_reported() {
        let err = Instance::from_json(b"{\"family\": 3").unwrap_err();
        assert!(
            matches!(err, ClinicSlotsError::Malformed { line: 1, .. }),
            "{err}"
        );
        let mut inst = Instance::from_json(TINY.as_bytes()).unwrap();
        inst.providers[1].avail.push([60, 200]);
        inst.requests[2].id = 9;
        let err = inst.to_problem().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("providers[1].avail[2]") && msg.contains("requests[2].id"),
            "{msg}"
        );
    }
}
