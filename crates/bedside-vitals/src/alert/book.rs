//! [`AlertBook`]: the alerts a care team sees, merged from evaluations, with acknowledgements.

use super::Alert;
use crate::error::VitalsError;
use bedside_core::{Actor, AlertId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An acknowledgement of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Who acknowledged.
    pub by: Actor,
    /// When.
    pub at: Timestamp,
}

/// An alert and its acknowledgement, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The alert.
    pub alert: Alert,
    /// The acknowledgement.
    pub acknowledged: Option<Acknowledgement>,
}

/// The alerts a care team sees, keyed by id. Merging the same evaluation twice changes
/// nothing; acknowledgements survive re-evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertBook {
    alerts: BTreeMap<AlertId, AlertRecord>,
}

impl AlertBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds alerts not yet in the book (by id) and updates those that are: the suppression
    /// count becomes the larger one, and the message becomes the one describing the later
    /// state (by [`Alert::message_at`]), so a re-evaluated NEWS2 alert shows its latest
    /// score. Acknowledgements are kept. Returns how many alerts were new.
    pub fn merge(&mut self, alerts: impl IntoIterator<Item = Alert>) -> usize {
        let mut new = 0;
        for a in alerts {
            match self.alerts.get_mut(&a.id) {
                Some(rec) => {
                    let held = &mut rec.alert;
                    held.suppressed = held.suppressed.max(a.suppressed);
                    if a.message_at() >= held.message_at() {
                        held.message = a.message;
                        held.latest_at = a.latest_at;
                    }
                }
                None => {
                    new += 1;
                    self.alerts.insert(
                        a.id,
                        AlertRecord {
                            alert: a,
                            acknowledged: None,
                        },
                    );
                }
            }
        }
        new
    }

    /// Acknowledges an alert.
    ///
    /// # Errors
    /// [`VitalsError::UnknownAlert`] when the id is not in the book;
    /// [`VitalsError::AlreadyAcknowledged`] when it was acknowledged before (the first
    /// acknowledgement is kept).
    pub fn acknowledge(
        &mut self,
        id: AlertId,
        by: &Actor,
        at: Timestamp,
    ) -> Result<&AlertRecord, VitalsError> {
        let rec = self
            .alerts
            .get_mut(&id)
            .ok_or(VitalsError::UnknownAlert(id))?;
        if rec.acknowledged.is_some() {
            return Err(VitalsError::AlreadyAcknowledged(id));
        }
        rec.acknowledged = Some(Acknowledgement { by: by.clone(), at });
        Ok(rec)
    }

    /// An alert by id.
    pub fn get(&self, id: AlertId) -> Option<&AlertRecord> {
        self.alerts.get(&id)
    }

    /// Unacknowledged alerts, most severe first, then oldest first.
    pub fn open(&self) -> Vec<&AlertRecord> {
        let mut v: Vec<&AlertRecord> = self
            .alerts
            .values()
            .filter(|r| r.acknowledged.is_none())
            .collect();
        v.sort_by(|a, b| {
            b.alert
                .severity
                .cmp(&a.alert.severity)
                .then(a.alert.triggered_at.cmp(&b.alert.triggered_at))
                .then(a.alert.rule.cmp(&b.alert.rule))
        });
        v
    }

    /// Number of alerts held.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }
}
