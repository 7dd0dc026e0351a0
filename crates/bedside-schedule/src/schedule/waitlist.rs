//! The waitlist and offers of freed time.

use super::*;

impl Schedule {
    /// Adds a request to the waitlist.
    pub fn add_to_waitlist(
        &mut self,
        id: WaitlistEntryId,
        entry: WaitlistEntry,
    ) -> WaitlistEntryId {
        self.waitlist.insert(id, entry);
        id
    }

    /// Removes a waitlist entry (booked or withdrawn).
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown entry.
    pub fn remove_from_waitlist(
        &mut self,
        id: WaitlistEntryId,
    ) -> Result<WaitlistEntry, ScheduleError> {
        self.waitlist.remove(&id).ok_or(ScheduleError::NotFound {
            kind: "waitlist entry",
        })
    }

    /// The waitlist.
    pub fn waitlist(&self) -> impl Iterator<Item = (&WaitlistEntryId, &WaitlistEntry)> {
        self.waitlist.iter()
    }

    /// Offers for a freed time: every waitlisted request that fits `freed` (on its provider,
    /// within its period), ranked by urgency, then time waited, then preference fit; at most
    /// one offer per entry and `limit` offers. Time waited is measured up to `at`.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown provider.
    pub fn waitlist_offers(
        &self,
        freed: &SlotOption,
        at: Timestamp,
        limit: usize,
    ) -> Result<Vec<Offer>, ScheduleError> {
        let mut offers = Vec::new();
        for (&entry, w) in &self.waitlist {
            let q = SlotQuery::new(
                w.appointment_type.clone(),
                freed.period.start().max(at),
                freed.period.end(),
            )
            .for_patient(w.patient)
            .with_providers(vec![freed.provider])
            .with_preferences(w.preferences.clone())
            .with_limit(1);
            let Ok(found) = self.find_slots(&q) else {
                continue;
            };
            let Some(option) = found
                .into_iter()
                .find(|o| o.period.end() <= freed.period.end())
            else {
                continue;
            };
            let waited_hours = (at - w.added_at).num_hours().max(0);
            let rank =
                -i64::from(w.urgency) * 1_000_000 - waited_hours * 100 + option.score.min(99);
            offers.push(Offer {
                entry,
                patient: w.patient,
                option,
                rank,
            });
        }
        offers.sort_by_key(|o| (o.rank, o.entry));
        offers.truncate(limit.min(MAX_OPTIONS));
        Ok(offers)
    }
}
