//! Claims: built from charges and coverage, with the lifecycle draft → submitted →
//! accepted/rejected → adjudicated (paid, partially paid, denied) → appealed/closed, and
//! secondary claims after the primary is adjudicated.

use crate::books::Books;
use crate::charge::{Charge, ChargeId, Modifier, ProcedureCode};
use crate::chart;
use crate::ledger::{AccountIndex, EntryId, LedgerError, NewEntry, Posting, References, Rejection};
use crate::money::{Money, MoneyError};
use crate::remit::{ClaimMatcher, ClaimTarget};
use bedside_core::{ClaimId, CoverageId, Instant, OrganisationId, PatientId, Sensitive};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Errors of claim operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Occurs when a claim is built with no charges.
    #[error("a claim needs at least one charge")]
    NoCharges,
    /// Occurs when charges belong to different patients.
    #[error("charges belong to different patients")]
    MixedPatients,
    /// Occurs when a claim id or control number is already used.
    #[error("claim id or control number already used")]
    Duplicate,
    /// Occurs when a claim id is unknown.
    #[error("unknown claim")]
    UnknownClaim,
    /// Occurs when a status change is not allowed.
    #[error("cannot move a claim from {from} to {to}")]
    InvalidTransition {
        /// Current status.
        from: ClaimStatus,
        /// Requested status.
        to: ClaimStatus,
    },
    /// Occurs when a secondary claim is requested before the primary is adjudicated or when
    /// nothing is left for a secondary payer.
    #[error("primary claim has no remaining patient responsibility to bill")]
    NothingForSecondary,
    /// Occurs on money errors.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Occurs when the ledger rejects a transfer.
    #[error("transfer rejected: {0}")]
    Rejected(#[from] Rejection),
    /// Occurs when an account cannot be opened.
    #[error(transparent)]
    Account(#[from] LedgerError),
}

/// Where a claim is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Being prepared.
    Draft,
    /// Sent to the payer.
    Submitted,
    /// Accepted for processing (277CA).
    Accepted,
    /// Rejected at the front door; fix and resubmit.
    Rejected,
    /// Adjudicated and paid as billed (after contractual adjustment and patient share).
    Paid,
    /// Adjudicated with some lines reduced or unpaid.
    PartiallyPaid,
    /// Adjudicated with nothing paid.
    Denied,
    /// Appealed after adjudication.
    Appealed,
    /// Finished.
    Closed,
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClaimStatus::Draft => "draft",
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Accepted => "accepted",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::Paid => "paid",
            ClaimStatus::PartiallyPaid => "partially paid",
            ClaimStatus::Denied => "denied",
            ClaimStatus::Appealed => "appealed",
            ClaimStatus::Closed => "closed",
        })
    }
}

impl ClaimStatus {
    fn is_adjudicated(self) -> bool {
        matches!(
            self,
            ClaimStatus::Paid | ClaimStatus::PartiallyPaid | ClaimStatus::Denied
        )
    }

    /// Whether moving to `to` is allowed.
    pub fn can_move_to(self, to: ClaimStatus) -> bool {
        use ClaimStatus::*;
        match (self, to) {
            (Draft, Submitted) | (Submitted, Accepted | Rejected) | (Rejected, Submitted) => true,
            // Payers often remit without a separate acceptance, so adjudication may follow
            // submission directly; an appeal can be re-adjudicated; a reversal reopens.
            (Submitted | Accepted | Appealed, Paid | PartiallyPaid | Denied) => true,
            (Paid | PartiallyPaid | Denied, Appealed | Closed | Accepted) => true,
            (Rejected, Closed) => true,
            (Paid | PartiallyPaid | Denied, Paid | PartiallyPaid | Denied) => true,
            _ => false,
        }
    }
}

/// Primary or secondary billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PayerSequence {
    /// Billed first.
    Primary,
    /// Billed after the primary adjudicated.
    Secondary {
        /// The primary claim.
        primary: ClaimId,
    },
}

/// One claim line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimLine {
    /// The charge.
    pub charge: ChargeId,
    /// Procedure.
    pub code: ProcedureCode,
    /// Modifiers.
    pub modifiers: Vec<Modifier>,
    /// Units.
    pub units: u32,
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// Billed amount.
    pub amount: Money,
    /// Plain-language description.
    pub description: String,
}

/// The patient's share as the payer adjudicated it (PR group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientShare {
    /// CARC 1.
    pub deductible: Money,
    /// CARC 2.
    pub coinsurance: Money,
    /// CARC 3.
    pub copay: Money,
    /// Other PR reasons.
    pub other: Money,
}

impl PatientShare {
    /// Zero in the currency.
    pub fn zero(c: crate::money::Currency) -> Self {
        Self {
            deductible: Money::zero(c),
            coinsurance: Money::zero(c),
            copay: Money::zero(c),
            other: Money::zero(c),
        }
    }
    /// The total.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn total(&self) -> Result<Money, MoneyError> {
        self.deductible
            .checked_add(self.coinsurance)?
            .checked_add(self.copay)?
            .checked_add(self.other)
    }
}

/// The payer's decision on one service line (from an 835 SVC loop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAdjudication {
    /// Procedure code as the payer returned it.
    pub code: String,
    /// Line charge.
    pub charge: Money,
    /// Line payment.
    pub paid: Money,
    /// Contractual, other and payer-initiated adjustments on the line.
    pub adjusted: Money,
    /// Patient share on the line.
    pub patient: Money,
}

/// The payer's decision on a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjudication {
    /// Charge the payer saw.
    pub charge: Money,
    /// Paid.
    pub paid: Money,
    /// Contractual write-off (CO).
    pub contractual: Money,
    /// Other and payer-initiated adjustments (OA, PI, CR).
    pub other_adjustments: Money,
    /// Patient share (PR).
    pub patient: PatientShare,
    /// CLP02 = 4.
    pub denied: bool,
    /// CLP02 = 22 (this adjudication reverses an earlier one).
    pub reversal: bool,
    /// Per-line decisions, when the payer reported service lines.
    pub lines: Vec<LineAdjudication>,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Id.
    pub id: ClaimId,
    /// Patient.
    pub patient: PatientId,
    /// Payer.
    pub payer: OrganisationId,
    /// Coverage billed.
    pub coverage: CoverageId,
    /// Primary or secondary.
    pub sequence: PayerSequence,
    /// Patient control number sent as CLM01 and returned as CLP01.
    pub control_number: Sensitive<String>,
    /// Lines.
    pub lines: Vec<ClaimLine>,
    /// Total billed.
    pub total: Money,
    /// Amount this payer is asked to consider (the total for primaries; the primary's patient
    /// share for secondaries).
    pub billed_to_payer: Money,
    /// Status.
    pub status: ClaimStatus,
    /// Status history.
    pub transitions: Vec<(Instant, ClaimStatus)>,
    /// Latest adjudication.
    pub adjudication: Option<Adjudication>,
    /// Payer receivable account.
    pub payer_account: AccountIndex,
    /// Patient receivable account.
    pub patient_account: AccountIndex,
}

/// All claims, indexed by id and control number.
#[derive(Debug, Clone, Default)]
pub struct ClaimBook {
    claims: HashMap<ClaimId, Claim>,
    by_control: HashMap<String, ClaimId>,
}

/// What to build a claim from.
#[derive(Debug, Clone)]
pub struct ClaimDraft<'a> {
    /// New claim id.
    pub id: ClaimId,
    /// Payer.
    pub payer: OrganisationId,
    /// Coverage.
    pub coverage: CoverageId,
    /// Patient control number (CLM01).
    pub control_number: String,
    /// Charges to bill.
    pub charges: &'a [Charge],
}

impl ClaimBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// A claim by id.
    pub fn get(&self, id: ClaimId) -> Option<&Claim> {
        self.claims.get(&id)
    }

    /// Every claim (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Claim> {
        self.claims.values()
    }

    /// Builds a draft primary claim from charges.
    ///
    /// # Errors
    /// [`ClaimError::NoCharges`], [`ClaimError::MixedPatients`], [`ClaimError::Duplicate`],
    /// money or account errors.
    pub fn build(
        &mut self,
        books: &mut Books,
        draft: ClaimDraft<'_>,
        at: Instant,
    ) -> Result<ClaimId, ClaimError> {
        let first = draft.charges.first().ok_or(ClaimError::NoCharges)?;
        let patient = first.request.patient;
        if draft.charges.iter().any(|c| c.request.patient != patient) {
            return Err(ClaimError::MixedPatients);
        }
        if self.claims.contains_key(&draft.id)
            || self.by_control.contains_key(&draft.control_number)
        {
            return Err(ClaimError::Duplicate);
        }
        let mut total = Money::zero(first.amount.currency());
        for c in draft.charges {
            total = total.checked_add(c.amount)?;
        }
        let claim = Claim {
            id: draft.id,
            patient,
            payer: draft.payer,
            coverage: draft.coverage,
            sequence: PayerSequence::Primary,
            control_number: Sensitive::new(draft.control_number.clone()),
            lines: draft
                .charges
                .iter()
                .map(|c| ClaimLine {
                    charge: c.id,
                    code: c.request.code.clone(),
                    modifiers: c.request.modifiers.clone(),
                    units: c.request.units,
                    date_of_service: c.request.date_of_service,
                    amount: c.amount,
                    description: c.description.clone(),
                })
                .collect(),
            total,
            billed_to_payer: total,
            status: ClaimStatus::Draft,
            transitions: vec![(at, ClaimStatus::Draft)],
            adjudication: None,
            payer_account: books.payer_account(draft.payer)?,
            patient_account: books.patient_account(patient)?,
        };
        self.by_control.insert(draft.control_number, draft.id);
        self.claims.insert(draft.id, claim);
        Ok(draft.id)
    }

    /// Moves a claim to a new status.
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`] or [`ClaimError::InvalidTransition`].
    pub fn transition(
        &mut self,
        id: ClaimId,
        to: ClaimStatus,
        at: Instant,
    ) -> Result<(), ClaimError> {
        let c = self.claims.get_mut(&id).ok_or(ClaimError::UnknownClaim)?;
        if !c.status.can_move_to(to) {
            return Err(ClaimError::InvalidTransition { from: c.status, to });
        }
        c.status = to;
        c.transitions.push((at, to));
        Ok(())
    }

    /// Records a payer decision and moves the claim to paid, partially paid or denied (or back
    /// to accepted for a reversal).
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`] or [`ClaimError::InvalidTransition`].
    pub fn record_adjudication(
        &mut self,
        id: ClaimId,
        adjudication: Adjudication,
        at: Instant,
    ) -> Result<ClaimStatus, ClaimError> {
        let c = self.claims.get(&id).ok_or(ClaimError::UnknownClaim)?;
        let to = if adjudication.reversal {
            ClaimStatus::Accepted
        } else if adjudication.denied
            || (adjudication.paid.is_zero() && adjudication.patient.total()?.is_zero())
        {
            ClaimStatus::Denied
        } else if adjudication.other_adjustments.is_zero() {
            ClaimStatus::Paid
        } else {
            ClaimStatus::PartiallyPaid
        };
        // Re-importing the same remittance must not fail or add history.
        if c.status == to && c.adjudication.as_ref() == Some(&adjudication) {
            return Ok(to);
        }
        self.transition(id, to, at)?;
        if let Some(c) = self.claims.get_mut(&id) {
            c.adjudication = Some(adjudication);
        }
        Ok(to)
    }

    /// Builds a secondary claim for what the primary left to the patient and moves that
    /// amount from the patient's receivable to the secondary payer's.
    ///
    /// # Errors
    /// [`ClaimError::NothingForSecondary`] when the primary is not adjudicated or left
    /// nothing; ledger and money errors.
    pub fn build_secondary(
        &mut self,
        books: &mut Books,
        primary: ClaimId,
        draft: ClaimDraft<'_>,
        at: Instant,
    ) -> Result<ClaimId, ClaimError> {
        let p = self.claims.get(&primary).ok_or(ClaimError::UnknownClaim)?;
        let share = match (p.adjudication.as_ref(), p.status.is_adjudicated()) {
            (Some(a), true) => a.patient.total()?,
            _ => return Err(ClaimError::NothingForSecondary),
        };
        if !share.is_positive() {
            return Err(ClaimError::NothingForSecondary);
        }
        if self.claims.contains_key(&draft.id)
            || self.by_control.contains_key(&draft.control_number)
        {
            return Err(ClaimError::Duplicate);
        }
        let payer_account = books.payer_account(draft.payer)?;
        let mut claim = p.clone();
        claim.id = draft.id;
        claim.payer = draft.payer;
        claim.coverage = draft.coverage;
        claim.sequence = PayerSequence::Secondary { primary };
        claim.control_number = Sensitive::new(draft.control_number.clone());
        claim.billed_to_payer = share;
        claim.status = ClaimStatus::Draft;
        claim.transitions = vec![(at, ClaimStatus::Draft)];
        claim.adjudication = None;
        claim.payer_account = payer_account;
        let postings = [
            Posting::debit(payer_account, share),
            Posting::credit(claim.patient_account, share),
        ];
        let entry = NewEntry::posted(
            EntryId::derive(&[b"secondary", draft.id.as_uuid().as_bytes()]),
            at,
            &postings,
        )
        .with_refs(References {
            patient: Some(claim.patient),
            claim: Some(draft.id),
            encounter: None,
        })
        .with_code(chart::entry::SECONDARY_TRANSFER);
        books.ledger.apply(&entry)?;
        self.by_control.insert(draft.control_number, draft.id);
        self.claims.insert(draft.id, claim);
        Ok(draft.id)
    }
}

impl ClaimMatcher for ClaimBook {
    fn find(&self, control_number: &str) -> Option<ClaimTarget> {
        let id = self.by_control.get(control_number)?;
        let c = self.claims.get(id)?;
        Some(ClaimTarget {
            claim: c.id,
            patient: c.patient,
            payer_receivable: c.payer_account,
            patient_receivable: c.patient_account,
        })
    }
}

/// Entry id of the expected-payment hold for a claim.
pub fn expected_payment_id(claim: ClaimId) -> EntryId {
    EntryId::derive(&[b"expected-payment", claim.as_uuid().as_bytes()])
}

impl Books {
    /// Records the payment a payer is expected to make on a claim as a two-phase pending hold
    /// (debit cash, credit the payer's receivable), expiring at `expires_at`. The hold shows in
    /// pending balances, so expected insurer cash can be forecast without posting it.
    ///
    /// # Errors
    /// [`ClaimError::Rejected`] when the ledger refuses the hold.
    pub fn expect_payment(
        &mut self,
        claim: &Claim,
        amount: Money,
        expires_at: Instant,
        at: Instant,
    ) -> Result<EntryId, ClaimError> {
        let id = expected_payment_id(claim.id);
        let postings = [
            Posting::debit(self.clinic.cash, amount),
            Posting::credit(claim.payer_account, amount),
        ];
        let entry = NewEntry::posted(id, at, &postings)
            .with_kind(crate::ledger::EntryKind::Pending {
                expires_at: Some(expires_at),
            })
            .with_refs(References {
                patient: Some(claim.patient),
                claim: Some(claim.id),
                encounter: None,
            })
            .with_code(chart::entry::EXPECTED_PAYMENT);
        self.ledger.apply(&entry)?;
        Ok(id)
    }

    /// Releases a claim's expected-payment hold once the remittance has been posted (the
    /// payment itself posts through the remittance). Releasing twice is a no-op.
    ///
    /// # Errors
    /// [`ClaimError::Rejected`], for example [`Rejection::PendingExpired`] when the hold has
    /// already lapsed (see [`crate::Ledger::expire_pending`]).
    pub fn release_expected_payment(
        &mut self,
        claim: ClaimId,
        at: Instant,
    ) -> Result<(), ClaimError> {
        let pending = expected_payment_id(claim);
        let id = EntryId::derive(&[b"expected-payment-release", claim.as_uuid().as_bytes()]);
        let entry = NewEntry::linked(id, at, crate::ledger::EntryKind::VoidPending { pending })
            .with_refs(References {
                claim: Some(claim),
                ..References::default()
            })
            .with_code(chart::entry::EXPECTED_PAYMENT);
        self.ledger.apply(&entry)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClaimStatus::*;

    #[test]
    fn lifecycle_transitions() {
        let allowed = [
            (Draft, Submitted),
            (Submitted, Accepted),
            (Submitted, Rejected),
            (Rejected, Submitted),
            (Accepted, Paid),
            (Accepted, PartiallyPaid),
            (Accepted, Denied),
            (Denied, Appealed),
            (Appealed, Paid),
            (Paid, Closed),
        ];
        for (a, b) in allowed {
            assert!(a.can_move_to(b), "{a} -> {b}");
        }
        let refused = [
            (Draft, Paid),
            (Closed, Submitted),
            (Draft, Accepted),
            (Appealed, Draft),
        ];
        for (a, b) in refused {
            assert!(!a.can_move_to(b), "{a} -> {b}");
        }
    }
}
