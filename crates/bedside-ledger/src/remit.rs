//! Auto-posting of a validated 835 into the ledger.
//!
//! Per claim (CLP) one balanced entry: cash is debited with CLP04, the payer receivable is
//! credited with CLP03, and every CAS amount is debited by group code — CO to contractual
//! write-offs, PR to the patient's receivable (CARC 1 deductible, 2 coinsurance, 3 copay),
//! OA and CR to other adjustments, PI to payer-initiated reductions. Negative amounts post to
//! the opposite side. A reversal (CLP02 = 22) that mirrors an earlier payment becomes a
//! ledger [`EntryKind::Reversal`] of it. Each PLB amount moves cash against provider-level
//! adjustments. Claims that match no known claim post their payment to the unapplied account
//! and go to the [`WorkItem`] queue, so no money is lost.
//!
//! Entry ids are derived from natural keys (payer, TRN02, CLP01, CLP07, CLP02 and the
//! occurrence within the transaction), so importing the same 835 again changes nothing.

use crate::books::ClinicAccounts;
use crate::chart;
use crate::claim::{Adjudication, LineAdjudication, PatientShare};
use crate::ledger::{
    AccountIndex, EntryId, EntryKind, Ledger, NewEntry, Posting, References, Rejection, Side,
};
use crate::money::{Currency, Money, MoneyError};
use crate::x12::{BalanceError, ClaimPayment, GroupCode, Transaction, validate};
use bedside_core::{ClaimId, Instant, PatientId, Sensitive};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The accounts a matched claim posts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTarget {
    /// The claim.
    pub claim: ClaimId,
    /// Its patient.
    pub patient: PatientId,
    /// Payer receivable.
    pub payer_receivable: AccountIndex,
    /// Patient receivable.
    pub patient_receivable: AccountIndex,
}

/// Finds the claim a CLP01 refers to.
pub trait ClaimMatcher {
    /// The claim whose patient control number is `control_number`.
    fn find(&self, control_number: &str) -> Option<ClaimTarget>;
}

/// Why a remittance record needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkReason {
    /// CLP01 matches no claim; the payment sits in the unapplied account.
    UnmatchedClaim,
    /// A CLP02 = 22 reversal has no earlier payment to reverse; posted by amounts.
    ReversalWithoutOriginal,
}

/// One item of the remittance work queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Why.
    pub reason: WorkReason,
    /// TRN02.
    pub trace_number: String,
    /// CLP01.
    pub control_number: Sensitive<String>,
    /// CLP04.
    pub paid: Money,
    /// Segment of the CLP.
    pub segment: usize,
}

/// Errors that stop a remittance from posting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemitError {
    /// Occurs when the transaction breaks a balancing rule; nothing is posted.
    #[error("remittance does not balance ({} problems)", .0.len())]
    Unbalanced(Vec<BalanceError>),
    /// Occurs when the ledger refuses an entry (earlier entries of the same file stay posted;
    /// importing again after the fix is idempotent).
    #[error("entry for segment {segment} rejected: {reason}")]
    Rejected {
        /// Segment of the CLP or PLB.
        segment: usize,
        /// The ledger's reason.
        reason: Rejection,
    },
    /// Occurs on money overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// What posting one transaction did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingSummary {
    /// New entries applied.
    pub entries_applied: usize,
    /// Entries that were already there (re-import).
    pub entries_replayed: usize,
    /// Claims matched to known claims.
    pub claims_matched: usize,
    /// Claims sent to the work queue.
    pub claims_unmatched: usize,
    /// Σ CAS by group code.
    pub by_group: BTreeMap<GroupCode, Money>,
    /// PR split: deductible (CARC 1).
    pub deductible: Money,
    /// PR split: coinsurance (CARC 2).
    pub coinsurance: Money,
    /// PR split: copay (CARC 3).
    pub copay: Money,
    /// Σ CLP04.
    pub claim_payments: Money,
    /// Σ PLB.
    pub provider_adjustments: Money,
    /// Decisions per matched claim, for [`crate::ClaimBook::record_adjudication`].
    pub adjudications: Vec<(ClaimId, Adjudication)>,
}

/// Posts remittances and keeps what later remittances need: earlier payments (for reversals)
/// and the work queue.
#[derive(Debug, Clone)]
pub struct RemittancePoster {
    accounts: ClinicAccounts,
    payments: HashMap<(String, String, String), (EntryId, Money, Money)>,
    queue: Vec<WorkItem>,
    queued: HashSet<EntryId>,
}

fn net_postings(lines: &[(AccountIndex, i64)], currency: Currency) -> Vec<Posting> {
    let mut merged: Vec<(AccountIndex, i64)> = Vec::new();
    for &(a, v) in lines {
        match merged.iter_mut().find(|m| m.0 == a) {
            Some(m) => m.1 += v,
            None => merged.push((a, v)),
        }
    }
    merged
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(a, v)| Posting {
            account: a,
            side: if v > 0 { Side::Debit } else { Side::Credit },
            amount: Money::new(v.abs(), currency),
        })
        .collect()
}

impl RemittancePoster {
    /// A poster for the clinic's accounts.
    pub fn new(accounts: ClinicAccounts) -> Self {
        Self {
            accounts,
            payments: HashMap::new(),
            queue: Vec::new(),
            queued: HashSet::new(),
        }
    }

    /// The work queue (unmatched claims, reversals without originals), oldest first.
    pub fn work_queue(&self) -> &[WorkItem] {
        &self.queue
    }

    fn account_for(&self, group: GroupCode, target: &ClaimTarget) -> AccountIndex {
        match group {
            GroupCode::CO => self.accounts.contractual,
            GroupCode::PR => target.patient_receivable,
            GroupCode::OA | GroupCode::CR => self.accounts.other_adjustment,
            GroupCode::PI => self.accounts.payer_initiated,
        }
    }

    /// Validates and posts one transaction.
    ///
    /// # Errors
    /// [`RemitError::Unbalanced`] (nothing posted) or [`RemitError::Rejected`].
    pub fn post(
        &mut self,
        ledger: &mut Ledger,
        tx: &Transaction,
        claims: &dyn ClaimMatcher,
        at: Instant,
    ) -> Result<PostingSummary, RemitError> {
        let problems = validate(tx);
        if !problems.is_empty() {
            return Err(RemitError::Unbalanced(problems));
        }
        let currency = tx.payment.currency();
        let zero = Money::zero(currency);
        let mut summary = PostingSummary {
            entries_applied: 0,
            entries_replayed: 0,
            claims_matched: 0,
            claims_unmatched: 0,
            by_group: BTreeMap::new(),
            deductible: zero,
            coinsurance: zero,
            copay: zero,
            claim_payments: zero,
            provider_adjustments: zero,
            adjudications: Vec::new(),
        };
        let payer = tx.payer_key().to_string();
        let mut seen: HashMap<EntryId, u32> = HashMap::new();
        for clp in &tx.claims {
            summary.claim_payments = summary.claim_payments.checked_add(clp.paid)?;
            for a in clp.all_adjustments() {
                let slot = summary.by_group.entry(a.group).or_insert(zero);
                *slot = slot.checked_add(a.amount)?;
            }
            let base = EntryId::derive(&[
                b"835-claim",
                payer.as_bytes(),
                tx.trace_number.as_bytes(),
                clp.control_number.expose().as_bytes(),
                clp.payer_control_number.expose().as_bytes(),
                clp.status.to_string().as_bytes(),
            ]);
            let occurrence = seen.entry(base).or_insert(0);
            *occurrence += 1;
            let id = EntryId::derive(&[&base.get().to_le_bytes(), &occurrence.to_le_bytes()]);
            self.post_claim(ledger, tx, clp, id, claims, at, &mut summary)?;
        }
        for (i, plb) in tx.provider_adjustments.iter().enumerate() {
            summary.provider_adjustments = summary.provider_adjustments.checked_add(plb.amount)?;
            let v = plb.amount.amount_minor();
            let postings = net_postings(
                &[
                    (self.accounts.provider_level, v),
                    (
                        self.accounts.cash,
                        v.checked_neg().ok_or(MoneyError::Overflow)?,
                    ),
                ],
                currency,
            );
            if postings.len() < 2 {
                continue;
            }
            let id = EntryId::derive(&[
                b"835-plb",
                payer.as_bytes(),
                tx.trace_number.as_bytes(),
                &(i as u64).to_le_bytes(),
            ]);
            let e = NewEntry::posted(id, at, &postings).with_code(chart::entry::REMIT_PLB);
            self.apply(ledger, &e, plb.segment, &mut summary)?;
        }
        Ok(summary)
    }

    fn apply(
        &mut self,
        ledger: &mut Ledger,
        e: &NewEntry<'_>,
        segment: usize,
        summary: &mut PostingSummary,
    ) -> Result<(), RemitError> {
        match ledger.apply(e) {
            Ok(a) if a.replayed => summary.entries_replayed += 1,
            Ok(_) => summary.entries_applied += 1,
            Err(reason) => return Err(RemitError::Rejected { segment, reason }),
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn post_claim(
        &mut self,
        ledger: &mut Ledger,
        tx: &Transaction,
        clp: &ClaimPayment,
        id: EntryId,
        claims: &dyn ClaimMatcher,
        at: Instant,
        summary: &mut PostingSummary,
    ) -> Result<(), RemitError> {
        let currency = clp.paid.currency();
        let Some(target) = claims.find(clp.control_number.expose()) else {
            summary.claims_unmatched += 1;
            let v = clp.paid.amount_minor();
            let postings = net_postings(
                &[
                    (self.accounts.cash, v),
                    (
                        self.accounts.unapplied,
                        v.checked_neg().ok_or(MoneyError::Overflow)?,
                    ),
                ],
                currency,
            );
            if postings.len() >= 2 {
                let e = NewEntry::posted(id, at, &postings).with_code(chart::entry::REMIT_CLAIM);
                self.apply(ledger, &e, clp.segment, summary)?;
            }
            self.enqueue(id, WorkReason::UnmatchedClaim, tx, clp);
            return Ok(());
        };
        summary.claims_matched += 1;
        let zero = Money::zero(currency);
        let mut share = PatientShare::zero(currency);
        let mut contractual = zero;
        let mut other = zero;
        let mut lines: Vec<(AccountIndex, i64)> = vec![
            (self.accounts.cash, clp.paid.amount_minor()),
            (
                target.payer_receivable,
                clp.charge
                    .amount_minor()
                    .checked_neg()
                    .ok_or(MoneyError::Overflow)?,
            ),
        ];
        for a in clp.all_adjustments() {
            lines.push((self.account_for(a.group, &target), a.amount.amount_minor()));
            match (a.group, a.reason.as_str()) {
                (GroupCode::PR, "1") => {
                    share.deductible = share.deductible.checked_add(a.amount)?;
                    summary.deductible = summary.deductible.checked_add(a.amount)?;
                }
                (GroupCode::PR, "2") => {
                    share.coinsurance = share.coinsurance.checked_add(a.amount)?;
                    summary.coinsurance = summary.coinsurance.checked_add(a.amount)?;
                }
                (GroupCode::PR, "3") => {
                    share.copay = share.copay.checked_add(a.amount)?;
                    summary.copay = summary.copay.checked_add(a.amount)?;
                }
                (GroupCode::PR, _) => share.other = share.other.checked_add(a.amount)?,
                (GroupCode::CO, _) => contractual = contractual.checked_add(a.amount)?,
                _ => other = other.checked_add(a.amount)?,
            }
        }
        let mut line_results = Vec::with_capacity(clp.services.len());
        for svc in &clp.services {
            let mut adjusted = zero;
            let mut patient = zero;
            for a in &svc.adjustments {
                if a.group == GroupCode::PR {
                    patient = patient.checked_add(a.amount)?;
                } else {
                    adjusted = adjusted.checked_add(a.amount)?;
                }
            }
            line_results.push(LineAdjudication {
                code: svc.procedure.code.clone(),
                charge: svc.charge,
                paid: svc.paid,
                adjusted,
                patient,
            });
        }
        summary.adjudications.push((
            target.claim,
            Adjudication {
                lines: line_results,
                charge: clp.charge,
                paid: clp.paid,
                contractual,
                other_adjustments: other,
                patient: share,
                denied: clp.is_denied(),
                reversal: clp.is_reversal(),
            },
        ));
        let refs = References {
            patient: Some(target.patient),
            claim: Some(target.claim),
            encounter: None,
        };
        let key = (
            tx.payer_key().to_string(),
            clp.control_number.expose().clone(),
            clp.payer_control_number.expose().clone(),
        );
        if clp.is_reversal() {
            if let Some(&(orig, charge, paid)) = self.payments.get(&key) {
                let mirrors = charge.checked_neg().ok() == Some(clp.charge)
                    && paid.checked_neg().ok() == Some(clp.paid);
                let reversible = ledger
                    .entry(orig)
                    .is_some_and(|v| v.resolved_by.is_none() || v.resolved_by == Some(id));
                if mirrors && reversible {
                    let e = NewEntry::linked(id, at, EntryKind::Reversal { of: orig })
                        .with_refs(refs)
                        .with_code(chart::entry::REMIT_CLAIM);
                    return self.apply(ledger, &e, clp.segment, summary);
                }
            } else {
                self.enqueue(id, WorkReason::ReversalWithoutOriginal, tx, clp);
            }
        }
        let postings = net_postings(&lines, currency);
        if postings.len() >= 2 {
            let e = NewEntry::posted(id, at, &postings)
                .with_refs(refs)
                .with_code(chart::entry::REMIT_CLAIM);
            self.apply(ledger, &e, clp.segment, summary)?;
            if !clp.is_reversal() {
                self.payments.insert(key, (id, clp.charge, clp.paid));
            }
        }
        Ok(())
    }

    fn enqueue(&mut self, id: EntryId, reason: WorkReason, tx: &Transaction, clp: &ClaimPayment) {
        if self.queued.insert(id) {
            self.queue.push(WorkItem {
                reason,
                trace_number: tx.trace_number.clone(),
                control_number: clp.control_number.clone(),
                paid: clp.paid,
                segment: clp.segment,
            });
        }
    }
}
