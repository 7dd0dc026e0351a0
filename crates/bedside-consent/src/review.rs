//! The break-the-glass review queue and seeded audit sampling plans for compliance review.

use crate::audit::AuditEvent;
use crate::error::ConsentError;
use crate::vocab::ActorKind;
use bedside_core::{AuditEventId, PatientId, Period, SeededRng, Sensitive, StaffId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The privacy officer's finding on a reviewed access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ReviewStatus {
    /// Not yet reviewed.
    Pending,
    /// The access was justified.
    Justified {
        /// Reviewer.
        reviewer: StaffId,
        /// When.
        at: Timestamp,
    },
    /// The access was not justified and is referred for action.
    Referred {
        /// Reviewer.
        reviewer: StaffId,
        /// When.
        at: Timestamp,
    },
}

/// One access awaiting (or after) review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The audit event.
    pub event: AuditEventId,
    /// Its position in the audit chain.
    pub seq: u64,
    /// Who accessed (PHI-free label).
    pub actor: String,
    /// Whose data.
    pub patient: PatientId,
    /// When.
    pub at: Timestamp,
    /// The justification given (free text).
    pub justification: Sensitive<String>,
    /// Review status.
    pub status: ReviewStatus,
}

/// Break-the-glass accesses awaiting post-hoc review. Serialises as its items, oldest first
/// (a service's snapshot of its state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReviewQueue {
    items: Vec<ReviewItem>,
}

impl ReviewQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues an audited access with its justification.
    pub fn enqueue(&mut self, event: &AuditEvent, justification: Sensitive<String>) {
        self.items.push(ReviewItem {
            event: event.id,
            seq: event.seq,
            actor: event.actor.clone(),
            patient: event.patient,
            at: event.recorded,
            justification,
            status: ReviewStatus::Pending,
        });
    }

    /// Items still pending, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &ReviewItem> {
        self.items
            .iter()
            .filter(|i| i.status == ReviewStatus::Pending)
    }

    /// Every item.
    pub fn items(&self) -> &[ReviewItem] {
        &self.items
    }

    /// Records a finding.
    ///
    /// # Errors
    /// [`ConsentError::InvalidConsent`] when the event is not queued or already reviewed.
    pub fn resolve(
        &mut self,
        event: AuditEventId,
        status: ReviewStatus,
    ) -> Result<(), ConsentError> {
        let item = self
            .items
            .iter_mut()
            .find(|i| i.event == event && i.status == ReviewStatus::Pending)
            .ok_or_else(|| ConsentError::InvalidConsent {
                path: "review".into(),
                reason: "no pending review for this event".into(),
            })?;
        item.status = status;
        Ok(())
    }
}

/// Why an event is in a review sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SampleReason {
    /// Every break-the-glass access is reviewed.
    BreakGlass,
    /// Drawn at random for this staff member in this period.
    Random {
        /// The staff member (label).
        actor: String,
        /// Period number from the window start.
        period: u32,
    },
}

/// One event selected for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleItem {
    /// Position in the audit chain.
    pub seq: u64,
    /// Event id.
    pub event: AuditEventId,
    /// Why it was selected.
    pub reason: SampleReason,
}

/// A staggered, seeded review plan: every break-the-glass event, plus up to `per_staff` random
/// other staff accesses per staff member per period of `period_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingPlan {
    /// Seed: the same seed and events give the same sample.
    pub seed: u64,
    /// Period length in days (at least 1).
    pub period_days: u32,
    /// Random accesses per staff member per period.
    pub per_staff: usize,
}

impl SamplingPlan {
    /// Selects events recorded within `window`, ordered by chain position.
    pub fn select<'a>(
        &self,
        events: impl IntoIterator<Item = &'a AuditEvent>,
        window: Period,
    ) -> Vec<SampleItem> {
        let period_seconds = i64::from(self.period_days.max(1)) * 86_400;
        let mut out = Vec::new();
        let mut buckets: BTreeMap<(String, u32), Vec<&AuditEvent>> = BTreeMap::new();
        for e in events {
            if !window.contains(e.recorded) {
                continue;
            }
            if e.break_glass {
                out.push(SampleItem {
                    seq: e.seq,
                    event: e.id,
                    reason: SampleReason::BreakGlass,
                });
            } else if e.actor_kind == ActorKind::Staff {
                let offset = (e.recorded - window.start()).num_seconds();
                let period = u32::try_from(offset / period_seconds).unwrap_or(u32::MAX);
                buckets
                    .entry((e.actor.clone(), period))
                    .or_default()
                    .push(e);
            }
        }
        for ((actor, period), mut candidates) in buckets {
            candidates.sort_by_key(|e| e.seq);
            let mut rng =
                SeededRng::new(self.seed ^ fnv(actor.as_bytes()) ^ (u64::from(period) << 32));
            rng.shuffle(&mut candidates);
            for e in candidates.into_iter().take(self.per_staff) {
                out.push(SampleItem {
                    seq: e.seq,
                    event: e.id,
                    reason: SampleReason::Random {
                        actor: actor.clone(),
                        period,
                    },
                });
            }
        }
        out.sort_by_key(|s| s.seq);
        out
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
