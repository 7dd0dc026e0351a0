//! Claims: built from charges and coverage, with the lifecycle draft → submitted →
//! accepted/rejected → adjudicated (paid, partially paid, denied) → appealed/closed,
//! secondary claims after the primary is adjudicated, and replacement (corrected) claims.
//!
//! A visit is billed once: [`ClaimBook::for_encounter`] finds the current primary claim of an
//! encounter, and a visit is billed again only through [`ClaimBook::build_replacement`], which
//! reverses the replaced claim's charge captures in the ledger (so the payer receivable is not
//! counted twice) and marks it [`ClaimStatus::Replaced`]. Only a claim no remittance has
//! posted against can be replaced (draft, submitted, accepted — which includes a claim whose
//! payment the payer reversed — or rejected): a remittance has already credited an adjudicated
//! claim's charge to the payer receivable, so a paid, partially paid, denied, appealed or
//! closed claim is corrected by the payer's own process (a CLP02 = 22 reversal reopens it, and
//! it can be replaced after that). The replacement tells the payer it replaces a claim it holds
//! (X12 837 CLM05-3 = `7`, [`ClaimFrequency::Replacement`]) when the original was submitted or
//! accepted; a draft or front-door rejected original never reached adjudication, so its
//! replacement goes out as an original (`1`).
//!
//! This file is over 800 lines and not split further: it is one type's lifecycle (build,
//! replace, void, secondary), whose rules refer to each other; its tests live in
//! `claim/tests.rs`.

use crate::books::Books;
use crate::charge::{Charge, ChargeId, Modifier, ProcedureCode, capture_entry_id};
use crate::chart;
use crate::ledger::{
    AccountIndex, EntryId, EntryKind, LedgerError, NewEntry, Posting, References, Rejection,
};
use crate::money::{Money, MoneyError};
use crate::remit::{ClaimMatcher, ClaimTarget};
use bedside_core::{
    Actor, ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, Sensitive, Timestamp,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
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
    /// Occurs when a replacement is requested for a claim that was already replaced; replace
    /// the current claim (`by`) instead.
    #[error("claim was already replaced by claim `{by}`")]
    AlreadyReplaced {
        /// The claim that replaced it (an id, not PHI).
        by: ClaimId,
    },
    /// Occurs when a replacement is requested for a claim a remittance has posted against
    /// (paid, partially paid, denied, appealed or closed): the payer corrects it, with a
    /// CLP02 = 22 reversal after which the claim can be replaced.
    #[error("a {status} claim cannot be replaced; the payer must reverse its adjudication first")]
    NotReplaceable {
        /// The claim's status.
        status: ClaimStatus,
    },
    /// Occurs when a replacement is requested for a secondary claim; correct the primary and
    /// build the secondary again from its adjudication.
    #[error("a secondary claim cannot be replaced; replace the primary claim")]
    SecondaryNotReplaceable,
    /// Occurs when a replacement's charges belong to another patient than the original claim.
    #[error("replacement charges belong to another patient than the original claim")]
    ReplacementPatientMismatch,
    /// Occurs when a replacement names another payer than the original claim (a replacement
    /// is sent to the payer that holds the original).
    #[error("a replacement claim goes to the payer of the original claim")]
    ReplacementPayerMismatch,
    /// Occurs when a void is requested for a claim the payer does not hold (not submitted,
    /// acknowledged or accepted) or for a secondary claim.
    #[error("a {status} claim cannot be voided")]
    NotVoidable {
        /// The claim's status.
        status: ClaimStatus,
    },
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
    /// Received by the clearinghouse or the payer's front end, not yet accepted for
    /// processing (a 999 accepting its transaction set, or a 277CA category A0 or A1).
    Acknowledged,
    /// Accepted for processing by the payer (277CA category A2).
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
    /// Superseded by a replacement (corrected) claim; its charge captures were reversed.
    /// Reached only through [`ClaimBook::build_replacement`] and final.
    Replaced,
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClaimStatus::Draft => "draft",
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Acknowledged => "acknowledged",
            ClaimStatus::Accepted => "accepted",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::Paid => "paid",
            ClaimStatus::PartiallyPaid => "partially paid",
            ClaimStatus::Denied => "denied",
            ClaimStatus::Appealed => "appealed",
            ClaimStatus::Closed => "closed",
            ClaimStatus::Replaced => "replaced",
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

    /// Whether a claim in this status can be replaced by a corrected claim: no remittance has
    /// posted against it (see the [module documentation](self)).
    pub fn can_be_replaced(self) -> bool {
        matches!(
            self,
            ClaimStatus::Draft
                | ClaimStatus::Submitted
                | ClaimStatus::Acknowledged
                | ClaimStatus::Accepted
                | ClaimStatus::Rejected
        )
    }

    /// Whether moving to `to` is allowed. Never into or out of [`ClaimStatus::Replaced`]:
    /// replacing goes through [`ClaimBook::build_replacement`], which also reverses the
    /// charges, and a replaced claim is final.
    pub fn can_move_to(self, to: ClaimStatus) -> bool {
        use ClaimStatus::*;
        match (self, to) {
            (Replaced, _) | (_, Replaced) => false,
            (Draft, Submitted) | (Submitted, Accepted | Rejected) | (Rejected, Submitted) => true,
            (Submitted, Acknowledged) | (Acknowledged, Accepted | Rejected) => true,
            // Payers often remit without a separate acceptance, so adjudication may follow
            // submission directly; an appeal can be re-adjudicated; a reversal reopens.
            (Submitted | Acknowledged | Accepted | Appealed, Paid | PartiallyPaid | Denied) => true,
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

/// What a claim is to the payer: the X12 837 claim frequency type code (CLM05-3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClaimFrequency {
    /// `1`: a claim the payer has not seen before.
    #[default]
    Original,
    /// `7`: replaces a claim the payer holds (a corrected claim).
    Replacement,
    /// `8`: voids a claim the payer holds (see [`ClaimBook::void`]).
    Void,
}

impl ClaimFrequency {
    /// The CLM05-3 code: `1` original, `7` replacement, `8` void.
    pub fn code(self) -> char {
        match self {
            ClaimFrequency::Original => '1',
            ClaimFrequency::Replacement => '7',
            ClaimFrequency::Void => '8',
        }
    }
}

/// One claim line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimLine {
    /// The charge.
    pub charge: ChargeId,
    /// The encounter of the charge (absent in data written before it was recorded).
    #[serde(default)]
    pub encounter: Option<EncounterId>,
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
    /// Pointers (1-based) into the claim's diagnosis list, from the charge (empty in data
    /// written before they were recorded).
    #[serde(default)]
    pub diagnosis_pointers: Vec<u8>,
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
    pub transitions: Vec<(Timestamp, ClaimStatus)>,
    /// Latest adjudication.
    pub adjudication: Option<Adjudication>,
    /// Payer receivable account.
    pub payer_account: AccountIndex,
    /// Patient receivable account.
    pub patient_account: AccountIndex,
    /// The claim this one replaces (see [`ClaimBook::build_replacement`]).
    #[serde(default)]
    pub replaces: Option<ClaimId>,
    /// The claim that replaced this one, once [`ClaimStatus::Replaced`].
    #[serde(default)]
    pub replaced_by: Option<ClaimId>,
    /// What the payer is told this claim is (CLM05-3).
    #[serde(default)]
    pub frequency: ClaimFrequency,
    /// The payer's claim control number (277CA REF*1K or 835 CLP07), which a replacement or
    /// void sends back as REF*F8.
    #[serde(default)]
    pub payer_claim_number: Option<Sensitive<String>>,
}

impl Claim {
    /// The X12 837 claim frequency type code (CLM05-3): `1` original, `7` replacement.
    pub fn frequency_code(&self) -> char {
        self.frequency.code()
    }

    /// The distinct encounters of the claim's lines, in line order.
    pub fn encounters(&self) -> Vec<EncounterId> {
        let mut out: Vec<EncounterId> = Vec::new();
        for e in self.lines.iter().filter_map(|l| l.encounter) {
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }
}

/// All claims, indexed by id, control number and encounter.
///
/// A claim is built from captured charges ([`ClaimBook::build`]), moved through its
/// lifecycle ([`ClaimBook::transition`]) and decided by the payer's remittance, which
/// [`crate::RemittancePoster::post_and_record`] (an 835) or
/// [`crate::RemittancePoster::post_manual`] (a paper EOB) records on it; the poster's
/// documentation shows the whole cycle, from charge to statement.
#[derive(Debug, Clone, Default)]
pub struct ClaimBook {
    claims: HashMap<ClaimId, Claim>,
    by_control: HashMap<String, ClaimId>,
    /// The current (not replaced) primary claim per encounter; the first one built wins.
    by_encounter: HashMap<EncounterId, ClaimId>,
}

/// The stored form of a [`ClaimBook`]: its claims, as plain serde data. The indexes (by
/// control number, by encounter) are derived and rebuilt by [`ClaimBook::restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimBookSnapshot {
    /// Every claim, in the order they were built.
    pub claims: Vec<Claim>,
}

/// Entry id of the reversal of a charge's capture when `claim` is replaced.
pub fn replacement_reversal_id(claim: ClaimId, charge: ChargeId) -> EntryId {
    EntryId::derive(&[
        b"replacement-reversal",
        claim.as_uuid().as_bytes(),
        charge.as_uuid().as_bytes(),
    ])
}

/// Entry id of the reversal of a charge's capture when `claim` is voided.
pub fn void_reversal_id(claim: ClaimId, charge: ChargeId) -> EntryId {
    EntryId::derive(&[
        b"void-reversal",
        claim.as_uuid().as_bytes(),
        charge.as_uuid().as_bytes(),
    ])
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

    /// The book's claims, in the order they were built, for storage (see the crate's
    /// "Persistence" section).
    pub fn snapshot(&self) -> ClaimBookSnapshot {
        let mut claims: Vec<Claim> = self.claims.values().cloned().collect();
        claims.sort_by_key(build_order);
        ClaimBookSnapshot { claims }
    }

    /// A book holding the snapshot's claims, with its indexes rebuilt as building them did:
    /// a control number names the last claim built with it, and an encounter's current
    /// primary claim is the first primary built for it that is neither replaced nor voided.
    pub fn restore(snapshot: ClaimBookSnapshot) -> Self {
        let mut claims = snapshot.claims;
        claims.sort_by_key(build_order);
        let mut book = Self::new();
        for c in claims {
            let current = c.sequence == PayerSequence::Primary
                && c.status != ClaimStatus::Replaced
                && c.frequency != ClaimFrequency::Void;
            if current {
                for e in c.encounters() {
                    book.by_encounter.entry(e).or_insert(c.id);
                }
            }
            book.by_control
                .insert(c.control_number.expose().clone(), c.id);
            book.claims.insert(c.id, c);
        }
        book
    }

    /// A claim by id.
    pub fn get(&self, id: ClaimId) -> Option<&Claim> {
        self.claims.get(&id)
    }

    /// Every claim (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Claim> {
        self.claims.values()
    }

    /// The current primary claim of an encounter: not replaced (after a replacement, the
    /// replacement). `None` when no claim was built from the encounter's charges. If several
    /// primary claims were built for one encounter ([`ClaimBook::build`] does not refuse
    /// that), the first one built.
    pub fn for_encounter(&self, encounter: EncounterId) -> Option<&Claim> {
        self.by_encounter
            .get(&encounter)
            .and_then(|id| self.claims.get(id))
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
        at: Timestamp,
    ) -> Result<ClaimId, ClaimError> {
        if self.claims.contains_key(&draft.id)
            || self.by_control.contains_key(&draft.control_number)
        {
            return Err(ClaimError::Duplicate);
        }
        let claim = Self::draft_claim(books, &draft, at)?;
        self.insert(claim);
        Ok(draft.id)
    }

    /// Builds a replacement (corrected) claim for `original` from `draft` and marks the
    /// original [`ClaimStatus::Replaced`].
    ///
    /// The original's charge captures (entry ids from [`capture_entry_id`]) are reversed with
    /// ledger [`EntryKind::Reversal`] entries ([`replacement_reversal_id`]), so its receivable
    /// is not counted twice; nothing is deleted. Charges the draft carries over (same
    /// [`ChargeId`]) keep their capture, and captures that were never made or are already
    /// reversed have nothing to reverse. Capture the draft's new charges with
    /// [`Books::capture_charge`], as for [`ClaimBook::build`]. The original's expected-payment
    /// hold, if still pending, is voided.
    ///
    /// The draft may reuse the original's control number (CLM01): remittances for it then
    /// match the replacement. Remittances for a replaced claim's own control number match
    /// nothing ([`ClaimMatcher::find`]) and go to the work queue.
    ///
    /// Every check runs before any entry is applied. Should the ledger still refuse a
    /// reversal (a closed account), the reversals already applied stay (their ids are
    /// derived, so nothing is reversed twice) and calling again after the fix completes it.
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`]; [`ClaimError::AlreadyReplaced`];
    /// [`ClaimError::SecondaryNotReplaceable`]; [`ClaimError::NotReplaceable`] for a claim a
    /// remittance has posted against; [`ClaimError::NoCharges`];
    /// [`ClaimError::ReplacementPatientMismatch`]; [`ClaimError::ReplacementPayerMismatch`];
    /// [`ClaimError::Duplicate`] when the new id, or a control number other than the
    /// original's, is taken; money, account and ledger errors.
    // Over 100 lines, not split: every check runs before any entry is applied, which is easiest to verify in one body.
    pub fn build_replacement(
        &mut self,
        books: &mut Books,
        original: ClaimId,
        draft: ClaimDraft<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ClaimId, ClaimError> {
        let orig = self.claims.get(&original).ok_or(ClaimError::UnknownClaim)?;
        if let Some(by) = orig.replaced_by {
            return Err(ClaimError::AlreadyReplaced { by });
        }
        if orig.sequence != PayerSequence::Primary {
            return Err(ClaimError::SecondaryNotReplaceable);
        }
        if !orig.status.can_be_replaced() {
            return Err(ClaimError::NotReplaceable {
                status: orig.status,
            });
        }
        if draft.charges.is_empty() {
            return Err(ClaimError::NoCharges);
        }
        if draft
            .charges
            .iter()
            .any(|c| c.request.patient != orig.patient)
        {
            return Err(ClaimError::ReplacementPatientMismatch);
        }
        if draft.payer != orig.payer {
            return Err(ClaimError::ReplacementPayerMismatch);
        }
        let control_taken = self
            .by_control
            .get(&draft.control_number)
            .is_some_and(|&c| c != original);
        if self.claims.contains_key(&draft.id) || control_taken {
            return Err(ClaimError::Duplicate);
        }
        let mut claim = Self::draft_claim(books, &draft, at)?;
        claim.replaces = Some(original);
        // The payer holds a submitted or accepted claim; a draft or a front-door rejection
        // never reached adjudication, so its correction is a new original to the payer.
        claim.frequency = match orig.status {
            ClaimStatus::Submitted | ClaimStatus::Acknowledged | ClaimStatus::Accepted => {
                ClaimFrequency::Replacement
            }
            _ => ClaimFrequency::Original,
        };
        if claim.frequency == ClaimFrequency::Replacement {
            claim.payer_claim_number = orig.payer_claim_number.clone();
        }
        let kept: HashSet<ChargeId> = draft.charges.iter().map(|c| c.id).collect();
        let reversals: Vec<(EntryId, EntryId, Option<EncounterId>)> = orig
            .lines
            .iter()
            .filter(|l| !kept.contains(&l.charge))
            .filter_map(|l| {
                let capture = capture_entry_id(l.charge);
                let reverse = replacement_reversal_id(original, l.charge);
                books.ledger.entry(capture).and_then(|v| {
                    let open = v.kind == EntryKind::Posted && v.resolved_by.is_none();
                    open.then_some((capture, reverse, l.encounter))
                })
            })
            .collect();
        let hold = expected_payment_id(original);
        let hold_open = books.ledger.entry(hold).is_some_and(|v| {
            v.resolved_by.is_none()
                && matches!(v.kind, EntryKind::Pending { expires_at }
                    if expires_at.is_none_or(|x| at < x))
        });
        let patient = orig.patient;
        for (capture, reverse, encounter) in reversals {
            let entry = NewEntry::linked(reverse, at, EntryKind::Reversal { of: capture })
                .with_refs(References {
                    patient: Some(patient),
                    claim: Some(original),
                    encounter,
                })
                .with_code(chart::entry::CHARGE)
                .by(actor);
            books.ledger.apply(&entry)?;
        }
        if hold_open {
            books.release_expected_payment(original, at)?;
        }
        let id = claim.id;
        let control = claim.control_number.expose().clone();
        if let Some(o) = self.claims.get_mut(&original) {
            for e in o.encounters() {
                if self.by_encounter.get(&e) == Some(&original) {
                    self.by_encounter.remove(&e);
                }
            }
            o.status = ClaimStatus::Replaced;
            o.transitions.push((at, ClaimStatus::Replaced));
            o.replaced_by = Some(id);
        }
        self.by_control.insert(control, id);
        self.insert(claim);
        Ok(id)
    }

    /// Voids a primary claim the payer holds (submitted, acknowledged or accepted): the visit
    /// should not have been billed to this payer at all. The claim's charge captures are
    /// reversed ([`void_reversal_id`]), its expected-payment hold is voided, it no longer
    /// stands for its encounter, its frequency becomes [`ClaimFrequency::Void`] (send it
    /// again, as an 837 with CLM05-3 = `8`, to tell the payer) and it is
    /// [`ClaimStatus::Closed`]. Nothing is deleted.
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`]; [`ClaimError::AlreadyReplaced`];
    /// [`ClaimError::NotVoidable`]; ledger errors (reversals already applied stay, and a
    /// retry completes the void, as for [`ClaimBook::build_replacement`]).
    pub fn void(
        &mut self,
        books: &mut Books,
        id: ClaimId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), ClaimError> {
        let claim = self.claims.get(&id).ok_or(ClaimError::UnknownClaim)?;
        if let Some(by) = claim.replaced_by {
            return Err(ClaimError::AlreadyReplaced { by });
        }
        let held = matches!(
            claim.status,
            ClaimStatus::Submitted | ClaimStatus::Acknowledged | ClaimStatus::Accepted
        );
        if !held || claim.sequence != PayerSequence::Primary {
            return Err(ClaimError::NotVoidable {
                status: claim.status,
            });
        }
        let reversals: Vec<(EntryId, EntryId, Option<EncounterId>)> = claim
            .lines
            .iter()
            .filter_map(|l| {
                let capture = capture_entry_id(l.charge);
                books.ledger.entry(capture).and_then(|v| {
                    let open = v.kind == EntryKind::Posted && v.resolved_by.is_none();
                    open.then_some((capture, void_reversal_id(id, l.charge), l.encounter))
                })
            })
            .collect();
        let hold = expected_payment_id(id);
        let hold_open = books.ledger.entry(hold).is_some_and(|v| {
            v.resolved_by.is_none()
                && matches!(v.kind, EntryKind::Pending { expires_at }
                    if expires_at.is_none_or(|x| at < x))
        });
        let patient = claim.patient;
        for (capture, reverse, encounter) in reversals {
            let entry = NewEntry::linked(reverse, at, EntryKind::Reversal { of: capture })
                .with_refs(References {
                    patient: Some(patient),
                    claim: Some(id),
                    encounter,
                })
                .with_code(chart::entry::CHARGE)
                .by(actor);
            books.ledger.apply(&entry)?;
        }
        if hold_open {
            books.release_expected_payment(id, at)?;
        }
        if let Some(c) = self.claims.get_mut(&id) {
            for e in c.encounters() {
                if self.by_encounter.get(&e) == Some(&id) {
                    self.by_encounter.remove(&e);
                }
            }
            c.status = ClaimStatus::Closed;
            c.transitions.push((at, ClaimStatus::Closed));
            c.frequency = ClaimFrequency::Void;
        }
        Ok(())
    }

    /// Records the payer's claim control number (from a 277CA or an 835), which replacements
    /// and voids send back. Recording the same number again changes nothing.
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`].
    pub fn record_payer_claim_number(
        &mut self,
        id: ClaimId,
        number: &str,
    ) -> Result<(), ClaimError> {
        let c = self.claims.get_mut(&id).ok_or(ClaimError::UnknownClaim)?;
        if !number.trim().is_empty() {
            c.payer_claim_number = Some(Sensitive::new(number.trim().to_string()));
        }
        Ok(())
    }

    /// Validates a draft and prices it into a draft primary claim (opening receivables).
    fn draft_claim(
        books: &mut Books,
        draft: &ClaimDraft<'_>,
        at: Timestamp,
    ) -> Result<Claim, ClaimError> {
        let first = draft.charges.first().ok_or(ClaimError::NoCharges)?;
        let patient = first.request.patient;
        if draft.charges.iter().any(|c| c.request.patient != patient) {
            return Err(ClaimError::MixedPatients);
        }
        let mut total = Money::zero(first.amount.currency());
        for c in draft.charges {
            total = total.checked_add(c.amount)?;
        }
        Ok(Claim {
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
                    encounter: Some(c.request.encounter),
                    code: c.request.code.clone(),
                    modifiers: c.request.modifiers.clone(),
                    units: c.request.units,
                    date_of_service: c.request.date_of_service,
                    amount: c.amount,
                    description: c.description.clone(),
                    diagnosis_pointers: c.request.diagnosis_pointers.clone(),
                })
                .collect(),
            total,
            billed_to_payer: total,
            status: ClaimStatus::Draft,
            transitions: vec![(at, ClaimStatus::Draft)],
            adjudication: None,
            payer_account: books.payer_account(draft.payer)?,
            patient_account: books.patient_account(patient)?,
            replaces: None,
            replaced_by: None,
            frequency: ClaimFrequency::Original,
            payer_claim_number: None,
        })
    }

    /// Adds a new primary claim to the indexes (its control number is free or its own).
    fn insert(&mut self, claim: Claim) {
        for e in claim.encounters() {
            self.by_encounter.entry(e).or_insert(claim.id);
        }
        self.by_control
            .insert(claim.control_number.expose().clone(), claim.id);
        self.claims.insert(claim.id, claim);
    }

    /// Moves a claim to a new status.
    ///
    /// # Errors
    /// [`ClaimError::UnknownClaim`] or [`ClaimError::InvalidTransition`].
    pub fn transition(
        &mut self,
        id: ClaimId,
        to: ClaimStatus,
        at: Timestamp,
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
        at: Timestamp,
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
        actor: &Actor,
        at: Timestamp,
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
        claim.replaces = None;
        claim.replaced_by = None;
        claim.frequency = ClaimFrequency::Original;
        claim.payer_claim_number = None;
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
        .with_code(chart::entry::SECONDARY_TRANSFER)
        .by(actor);
        books.ledger.apply(&entry)?;
        self.by_control.insert(draft.control_number, draft.id);
        self.claims.insert(draft.id, claim);
        Ok(draft.id)
    }
}

impl ClaimMatcher for ClaimBook {
    /// The claim of a control number; a replaced claim matches nothing, so a payment for it
    /// waits in the work queue instead of posting against a superseded claim.
    fn find(&self, control_number: &str) -> Option<ClaimTarget> {
        let id = self.by_control.get(control_number)?;
        let c = self
            .claims
            .get(id)
            .filter(|c| c.status != ClaimStatus::Replaced)?;
        Some(ClaimTarget {
            claim: c.id,
            patient: c.patient,
            payer_receivable: c.payer_account,
            patient_receivable: c.patient_account,
        })
    }
}

/// When a claim was built (its first status), then its id: the order claims were built in.
fn build_order(c: &Claim) -> (Option<Timestamp>, ClaimId) {
    (c.transitions.first().map(|t| t.0), c.id)
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
        expires_at: Timestamp,
        at: Timestamp,
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
        at: Timestamp,
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
mod tests;
