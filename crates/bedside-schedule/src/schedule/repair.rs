//! Repair after a provider becomes unavailable: move affected appointments with least
//! disruption.

use super::booking::{MoveKind, RescheduleRequest};
use super::*;

/// A provider becoming unavailable over a period, and how disruptive each kind of move is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRequest {
    /// Who is unavailable.
    pub provider: ProviderId,
    /// When.
    pub period: Period,
    /// Costs of the moves.
    pub weights: RepairWeights,
}

impl RepairRequest {
    /// `provider` is unavailable over `period`; moves are weighed by
    /// [`RepairWeights::default`].
    pub fn new(provider: ProviderId, period: Period) -> Self {
        Self {
            provider,
            period,
            weights: RepairWeights::default(),
        }
    }

    /// Weighs moves by `weights`.
    #[must_use]
    pub fn with_weights(mut self, weights: RepairWeights) -> Self {
        self.weights = weights;
        self
    }
}

impl Schedule {
    /// Makes the request's provider unavailable over its period (sick day, leave) and moves
    /// the affected appointments with minimal disruption: the same provider on another day
    /// (cost per day moved) or another provider the same day (fixed cost), plus a cost per
    /// hour shifted. All-or-nothing per appointment; appointments with no option become
    /// `pending` and are listed. Returns the patients to notify.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown provider.
    pub fn repair_unavailable(
        &mut self,
        request: &RepairRequest,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<RepairReport, ScheduleError> {
        use AppointmentStatus as S;
        let (provider, period) = (request.provider, request.period);
        let p = self.provider_index(provider)?;
        self.mark_unavailable(p, period);
        self.unavailable.push((provider, period));
        let mut affected: Vec<(Timestamp, AppointmentId)> = self
            .appointments
            .values()
            .filter(|ap| {
                ap.provider == provider
                    && matches!(ap.status, S::Booked | S::Pending)
                    && ap.period.overlaps(&period)
            })
            .map(|ap| (ap.period.start(), ap.id))
            .collect();
        affected.sort();
        let mut report = RepairReport::default();
        for (_, id) in affected {
            let Some(ap) = self.appointments.get(&id).cloned() else {
                continue;
            };
            // Free it first so that its own old slots never block a candidate.
            self.release(id);
            let best = self.best_move(&ap, request, at)?;
            // Put it back as it was (resources freed) before applying the move atomically.
            if let Some(stored) = self.appointments.get_mut(&id) {
                stored.status = S::Pending;
            }
            match best {
                Some((c, o)) => {
                    self.move_to(
                        &RescheduleRequest::new(id, &o),
                        MoveKind::Repaired,
                        actor,
                        at,
                    )?;
                    report.cost += c;
                    report.moved.push((id, ap.period, o));
                }
                None => {
                    if let Some(stored) = self.appointments.get_mut(&id) {
                        Self::record(
                            stored,
                            actor,
                            at,
                            Change::Cancelled {
                                reason: CancelReason::Provider,
                            },
                        );
                        stored.status = S::Pending;
                    }
                    report.unplaced.push(id);
                }
            }
            if !report.notify.contains(&ap.patient) {
                report.notify.push(ap.patient);
            }
        }
        Ok(report)
    }

    /// Clears provider `p`'s availability over `period` (whole slots it touches).
    pub(super) fn mark_unavailable(&mut self, p: usize, period: Period) {
        let a = self.slot_ceil(period.start());
        let b = self.slot_ceil(period.end());
        Track::set(
            &mut self.provider_tracks[p].avail,
            a.min(self.slots),
            b,
            false,
        );
    }

    /// The cheapest new option for `ap` (whose resources are already released) and its
    /// cost: another provider the same local day, or the same provider within
    /// `search_days`.
    fn best_move(
        &self,
        ap: &Appointment,
        request: &RepairRequest,
        at: Timestamp,
    ) -> Result<Option<(i64, SlotOption)>, ScheduleError> {
        let weights = request.weights;
        let start = ap.period.start();
        let local_day = start.with_timezone(&self.grid.zone).date_naive();
        let day_start = crate::calendar::resolve_local(
            self.grid.zone,
            local_day.and_time(chrono::NaiveTime::MIN),
        );
        let mut best: Option<(i64, SlotOption)> = None;
        let hours = |o: &SlotOption| {
            let o_local = o.period.start().with_timezone(&self.grid.zone).time();
            let s_local = start.with_timezone(&self.grid.zone).time();
            (o_local - s_local).num_minutes().abs() / 60
        };
        // Another provider, same day.
        let others: Vec<ProviderId> = self
            .providers
            .iter()
            .filter(|x| x.id != request.provider)
            .map(|x| x.id)
            .collect();
        if !others.is_empty() {
            let q = SlotQuery::new(
                ap.appointment_type.clone(),
                day_start.max(at),
                day_start + TimeDelta::days(1),
            )
            .for_patient(ap.patient)
            .with_providers(others)
            .with_limit(20);
            for o in self.find_slots(&q)? {
                let c = weights.other_provider_same_day + weights.per_hour_shift * hours(&o);
                if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                    best = Some((c, o));
                }
            }
        }
        // Same provider, other days.
        let q = SlotQuery::new(
            ap.appointment_type.clone(),
            (day_start - TimeDelta::days(weights.search_days)).max(at),
            day_start + TimeDelta::days(weights.search_days + 1),
        )
        .for_patient(ap.patient)
        .with_providers(vec![request.provider])
        .with_limit(MAX_OPTIONS);
        for o in self.find_slots(&q)? {
            let o_day = o.period.start().with_timezone(&self.grid.zone).date_naive();
            let days = (o_day - local_day).num_days().abs();
            let c = weights.same_provider_per_day * days + weights.per_hour_shift * hours(&o);
            if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                best = Some((c, o));
            }
        }
        Ok(best)
    }
}
