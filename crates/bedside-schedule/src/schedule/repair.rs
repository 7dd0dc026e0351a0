//! Repair after a provider becomes unavailable: move affected appointments with least disruption.

use super::*;

impl Schedule {
    /// Makes `provider` unavailable over `period` (sick day, leave) and moves the affected
    /// appointments with minimal disruption: the same provider on another day (cost per day
    /// moved) or another provider the same day (fixed cost), plus a cost per hour shifted.
    /// All-or-nothing per appointment; appointments with no option become `pending` and are
    /// listed. Returns the patients to notify.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown provider.
    pub fn repair_unavailable(
        &mut self,
        provider: ProviderId,
        period: Period,
        weights: RepairWeights,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<RepairReport, ScheduleError> {
        use AppointmentStatus as S;
        let p = self.provider_index(provider)?;
        let a = self.slot_ceil(period.start());
        let b = self.slot_ceil(period.end());
        Track::set(
            &mut self.provider_tracks[p].avail,
            a.min(self.slots),
            b,
            false,
        );
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
        let day = TimeDelta::days(1);
        for (start, id) in affected {
            let Some(ap) = self.appointments.get(&id).cloned() else {
                continue;
            };
            // Free it first so that its own old slots never block a candidate.
            self.release(id);
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
                .filter(|x| x.id != provider)
                .map(|x| x.id)
                .collect();
            if !others.is_empty() {
                let q = SlotQuery {
                    appointment_type: ap.appointment_type.clone(),
                    patient: Some(ap.patient),
                    now,
                    earliest: day_start.max(now),
                    latest: day_start + day,
                    providers: others,
                    preferences: Preferences::default(),
                    limit: 20,
                    self_booking: false,
                };
                for o in self.find_slots(&q)? {
                    let c = weights.other_provider_same_day + weights.per_hour_shift * hours(&o);
                    if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                        best = Some((c, o));
                    }
                }
            }
            // Same provider, other days.
            let q = SlotQuery {
                appointment_type: ap.appointment_type.clone(),
                patient: Some(ap.patient),
                now,
                earliest: (day_start - TimeDelta::days(weights.search_days)).max(now),
                latest: day_start + TimeDelta::days(weights.search_days + 1),
                providers: vec![provider],
                preferences: Preferences::default(),
                limit: MAX_OPTIONS,
                self_booking: false,
            };
            for o in self.find_slots(&q)? {
                let o_day = o.period.start().with_timezone(&self.grid.zone).date_naive();
                let days = (o_day - local_day).num_days().abs();
                let c = weights.same_provider_per_day * days + weights.per_hour_shift * hours(&o);
                if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                    best = Some((c, o));
                }
            }
            // Put it back as it was (resources freed) before applying the move atomically.
            if let Some(stored) = self.appointments.get_mut(&id) {
                stored.status = S::Pending;
            }
            match best {
                Some((c, o)) => {
                    self.move_to(id, &o, None, actor, now, true)?;
                    report.cost += c;
                    report.moved.push((id, ap.period, o));
                }
                None => {
                    if let Some(stored) = self.appointments.get_mut(&id) {
                        Self::record(
                            stored,
                            actor,
                            now,
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
}
