//! Filling the waitlist with the optimiser: the schedule's free time over a run of clinic days
//! becomes a solver [`Problem`], every waitlist entry a request, and the
//! solver's placements become verified [`SlotOption`]s (with a room and equipment chosen).

use std::collections::HashMap;

use bedside_core::{Actor, PatientId};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::ScheduleError;
use crate::calendar::resolve_local;
use crate::schedule::{BookRequest, Schedule, SlotOption, SlotQuery, WaitlistEntryId};
use crate::solver::{
    self, Budget, Placement, Problem, SolverConfig, SolverProvider, SolverRequest, Weights,
};

/// Which clinic days to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanWindow {
    /// First local date.
    pub first_day: NaiveDate,
    /// Number of days (1..=31).
    pub days: u16,
    /// Local opening time of each day.
    pub open: NaiveTime,
    /// Local closing time (at most 128 grid slots after opening).
    pub close: NaiveTime,
}

/// The optimiser's proposal for the waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistPlan {
    /// Entries placed, with a bookable option each (checked together: they do not collide).
    pub proposals: Vec<(WaitlistEntryId, PatientId, SlotOption)>,
    /// Entries left on the waitlist.
    pub unplaced: Vec<WaitlistEntryId>,
    /// The solver's score of the plan.
    pub score: solver::Score,
    /// The solver's lower bound.
    pub lower_bound: i64,
}

impl Schedule {
    /// Plans the whole waitlist at once over `window`: urgent entries first (their unscheduled
    /// penalty grows with urgency and they are due sooner), preferred providers and times of
    /// day honoured where possible. Nothing is booked: the caller books the proposals.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] for a window that is empty, longer than 31 days or 128
    /// slots a day; [`ScheduleError::UnknownAppointmentType`] for an entry of an unknown type.
    // Long (about 120 lines) because it is one pipeline: map entries to solver requests, solve, book the
    // placements in a scratch copy; splitting would pass its shared index tables around.
    pub fn plan_waitlist(
        &self,
        window: PlanWindow,
        config: &SolverConfig,
        budget: &mut dyn Budget,
    ) -> Result<WaitlistPlan, ScheduleError> {
        let g = self.grid().granularity_minutes;
        let open_min = (window.open - NaiveTime::MIN).num_minutes();
        let close_min = (window.close - NaiveTime::MIN).num_minutes();
        let span = (close_min - open_min) / i64::from(g);
        if window.days == 0 || window.days > 31 || span <= 0 || span > 128 {
            return Err(ScheduleError::InvalidConfig {
                reason: "plan window must be 1..=31 days of 1..=128 slots",
            });
        }
        let spd = span as u16;
        let zone = self.grid().zone;
        // Grid slot of each day's opening.
        let mut bases = Vec::with_capacity(usize::from(window.days));
        for d in 0..window.days {
            let date = window.first_day + TimeDelta::days(i64::from(d));
            bases.push(resolve_local(zone, date.and_time(window.open)));
        }
        let providers: Vec<SolverProvider> = (0..self.providers().len())
            .map(|p| SolverProvider {
                available: bases.iter().map(|&b| self.free_mask(p, b, spd)).collect(),
            })
            .collect();
        let entries: Vec<(WaitlistEntryId, crate::WaitlistEntry)> =
            self.waitlist().map(|(id, e)| (*id, e.clone())).collect();
        let mut patients: HashMap<PatientId, u32> = HashMap::new();
        let mut requests = Vec::with_capacity(entries.len());
        let mut buffers = Vec::with_capacity(entries.len());
        for (_, e) in &entries {
            let t = self
                .appointment_type(&e.appointment_type)
                .ok_or_else(|| self.unknown_type(&e.appointment_type))?;
            let bb = t.buffer_before_minutes / g;
            let run = (t.buffer_before_minutes + t.duration_minutes + t.buffer_after_minutes) / g;
            let allowed: Vec<u32> = self
                .providers()
                .iter()
                .enumerate()
                .filter(|(_, p)| p.skills.contains(&t.skill))
                .map(|(i, _)| i as u32)
                .collect();
            let allowed = if allowed.is_empty() {
                // No provider can ever see it; keep the problem valid and let it stay unplaced.
                vec![]
            } else {
                allowed
            };
            let mut r = SolverRequest::new(run.clamp(1, u32::from(spd)) as u16, allowed);
            r.unscheduled_penalty = 1000 * (1 + i64::from(e.urgency.min(10)));
            r.preferred_provider = e
                .preferences
                .provider
                .and_then(|id| self.providers().iter().position(|p| p.id == id))
                .map(|i| i as u32);
            r.preferred_window = e.preferences.time_of_day.and_then(|(a, b)| {
                let a = (i64::from(a) - open_min).max(0) / i64::from(g);
                let b = ((i64::from(b) - open_min) / i64::from(g)).min(i64::from(spd));
                (a < b).then_some((a as u16, b as u16))
            });
            r.due_day = Some(u16::from(10 - e.urgency.min(10)).min(window.days - 1));
            let next = patients.len() as u32;
            r.patient = Some(*patients.entry(e.patient).or_insert(next));
            requests.push(r);
            buffers.push(bb);
        }
        // Entries no provider can see are left out of the problem and reported unplaced.
        let solvable: Vec<usize> = (0..requests.len())
            .filter(|&i| !requests[i].allowed_providers.is_empty())
            .collect();
        let problem = Problem::new(
            window.days,
            spd,
            providers,
            solvable.iter().map(|&i| requests[i].clone()).collect(),
            Weights::default(),
        )
        .map_err(|_| ScheduleError::InvalidConfig {
            reason: "waitlist does not form a valid problem",
        })?;
        let solution =
            solver::solve(&problem, config, budget).map_err(|_| ScheduleError::InvalidConfig {
                reason: "solver rejected the problem",
            })?;
        // Turn placements into options, verifying each against a scratch copy of the schedule
        // so that rooms, equipment and patients' other appointments are respected together.
        let mut scratch = self.clone();
        let actor = Actor::system("waitlist-planner");
        let mut proposals = Vec::new();
        let mut unplaced: Vec<WaitlistEntryId> = (0..requests.len())
            .filter(|i| !solvable.contains(i))
            .map(|i| entries[i].0)
            .collect();
        for (k, &i) in solvable.iter().enumerate() {
            let (entry, e) = &entries[i];
            let option = solution.placements[k]
                .and_then(|pl| self.option_at(&scratch, e, pl, &bases, buffers[i], g));
            let booked = option.and_then(|o| {
                let token = format!("plan-{entry}");
                let id = bedside_core::AppointmentId::from_uuid(entry.as_uuid());
                scratch
                    .book(
                        &BookRequest::new(&o, e.patient, &token, id),
                        &actor,
                        bases[0],
                    )
                    .ok()
                    .map(|_| o)
            });
            match booked {
                Some(o) => proposals.push((*entry, e.patient, o)),
                None => unplaced.push(*entry),
            }
        }
        Ok(WaitlistPlan {
            proposals,
            unplaced,
            score: solution.score,
            lower_bound: solution.lower_bound,
        })
    }

    /// The option at a solver placement: the provider at that encounter start, with a room and
    /// equipment found in `scratch`.
    fn option_at(
        &self,
        scratch: &Schedule,
        e: &crate::WaitlistEntry,
        pl: Placement,
        bases: &[bedside_core::Timestamp],
        buffer_before_slots: u32,
        g: u32,
    ) -> Option<SlotOption> {
        let provider = self.providers().get(pl.provider as usize)?.id;
        let start = *bases.get(usize::from(pl.day))?
            + TimeDelta::minutes(
                i64::from(u32::from(pl.start_slot) + buffer_before_slots) * i64::from(g),
            );
        let q = SlotQuery::new(e.appointment_type.clone(), start, start)
            .for_patient(e.patient)
            .with_providers(vec![provider])
            .with_limit(1);
        scratch
            .find_slots(&q)
            .ok()?
            .into_iter()
            .find(|o| o.period.start() == start)
    }
}
