//! Accounting of disclosures (HIPAA §164.528): what a patient may ask to see about who received
//! their data over the last six years.
//!
//! Included: permitted `disclose` and `export` events for the patient within six years before
//! the as-of instant. Excluded, as §164.528(a)(1) says: disclosures for treatment, payment and
//! health-care operations (`TREAT`, `ETREAT`, `HPAYMT`, `HOPERAT`, `CAREMGT`); to the individual
//! or their personal representative (patient and proxy actors, `PATRQT`); to persons involved in
//! the individual's care (`FAMRQT`); and disclosures made pursuant to an authorisation (a patient
//! consent decided them).

use crate::audit::AuditEvent;
use crate::decision::Effect;
use crate::vocab::{Action, ActorKind, ClassSet, Purpose};
use bedside_core::{AuditEventId, PatientId, Timestamp};
use chrono::Months;
use serde::{Deserialize, Serialize};

/// How far back an accounting reaches.
pub const ACCOUNTING_MONTHS: u32 = 72;

/// One line of an accounting of disclosures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureEntry {
    /// The audit event.
    pub event: AuditEventId,
    /// Date of the disclosure.
    pub at: Timestamp,
    /// Who received it (PHI-free label).
    pub recipient: String,
    /// Description of the data: the classes released.
    pub data: ClassSet,
    /// The purpose.
    pub purpose: Purpose,
}

/// Whether a purpose is excluded from the accounting.
pub fn purpose_excluded(purpose: Purpose) -> bool {
    matches!(
        purpose,
        Purpose::Treat
            | Purpose::Etreat
            | Purpose::Hpaymt
            | Purpose::Hoperat
            | Purpose::Caremgt
            | Purpose::Patrqt
            | Purpose::Famrqt
    )
}

/// The accounting of disclosures for `patient` as of `as_of`, oldest first.
pub fn accounting<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    patient: PatientId,
    as_of: Timestamp,
) -> Vec<DisclosureEntry> {
    let from = as_of
        .checked_sub_months(Months::new(ACCOUNTING_MONTHS))
        .unwrap_or(Timestamp::MIN_UTC);
    let mut out: Vec<DisclosureEntry> = events
        .into_iter()
        .filter(|e| {
            e.patient == patient
                && e.outcome == Effect::Permit
                && matches!(e.action, Action::Disclose | Action::Export)
                && e.recorded >= from
                && e.recorded <= as_of
                && !purpose_excluded(e.purpose)
                && !matches!(e.actor_kind, ActorKind::Patient | ActorKind::Proxy)
                && !e.authorised_by_consent
        })
        .map(|e| DisclosureEntry {
            event: e.id,
            at: e.recorded,
            recipient: e.actor.clone(),
            data: e.released,
            purpose: e.purpose,
        })
        .collect();
    out.sort_by_key(|d| d.at);
    out
}
