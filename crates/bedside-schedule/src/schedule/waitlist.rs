//! The waitlist and offers of freed time.

use super::*;

/// What happened to a waitlist entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistAction {
    /// The entry was added.
    Added,
    /// The entry was removed (booked or withdrawn).
    Removed,
}

/// One attributed change of the waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistChange {
    /// The entry.
    pub entry: WaitlistEntryId,
    /// Added or removed.
    pub action: WaitlistAction,
    /// Who.
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
}

impl Schedule {
    /// Adds a request to the waitlist, recording who added it.
    pub fn add_to_waitlist(
        &mut self,
        id: WaitlistEntryId,
        entry: WaitlistEntry,
        actor: &Actor,
        at: Timestamp,
    ) -> WaitlistEntryId {
        self.waitlist.insert(id, entry);
        self.record_waitlist(id, WaitlistAction::Added, actor, at);
        id
    }

    /// Removes a waitlist entry (booked or withdrawn), recording who removed it.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`] for an unknown entry.
    pub fn remove_from_waitlist(
        &mut self,
        id: WaitlistEntryId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<WaitlistEntry, ScheduleError> {
        let entry = self.waitlist.remove(&id).ok_or(ScheduleError::NotFound {
            kind: "waitlist entry",
        })?;
        self.record_waitlist(id, WaitlistAction::Removed, actor, at);
        Ok(entry)
    }

    fn record_waitlist(
        &mut self,
        entry: WaitlistEntryId,
        action: WaitlistAction,
        actor: &Actor,
        at: Timestamp,
    ) {
        self.waitlist_history.push(WaitlistChange {
            entry,
            action,
            actor: actor.clone(),
            at,
        });
    }

    /// Every change of the waitlist, oldest first.
    pub fn waitlist_history(&self) -> &[WaitlistChange] {
        &self.waitlist_history
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
