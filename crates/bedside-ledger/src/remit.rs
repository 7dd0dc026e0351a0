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
//!
//! A claim is adjudicated once. When a CLP that is not a reversal matches a known claim for
//! which this poster has already posted a non-reversal CLP (a payment or a denial) under a
//! *different* trace number, and that earlier CLP has not been reversed since (a CLP02 = 22
//! for the same payer, CLP01 and CLP07, in an earlier file or anywhere in this one, or a
//! ledger reversal of its entry), the CLP is a duplicate payment: its CLP04 posts to the
//! unapplied account as for an unmatched claim, it goes to the work queue as
//! [`WorkReason::DuplicatePayment`] with the earlier trace number, it is counted in
//! [`PostingSummary::claims_duplicate`], and it yields no [`Adjudication`]. The claim's
//! receivables are not touched again, so the patient's share is not billed twice. A
//! reversal followed by a corrected payment under a new trace number is the payer's
//! correction and posts normally. Re-importing a file replays each CLP on the path its first
//! import took (against the claim, or to the unapplied account), so it is never refused.
//!
//! This file is over 800 lines and not split further: the posting rules above are one algorithm
//! over one CLP; its tests live in `remit/tests.rs`.

use crate::books::{Books, ClinicAccounts};
use crate::chart;
use crate::claim::{Adjudication, ClaimBook, ClaimStatus, LineAdjudication, PatientShare};
use crate::ledger::{
    AccountIndex, EntryId, EntryKind, Ledger, NewEntry, Posting, References, Rejection, Side,
};
use crate::money::{Currency, Money, MoneyError};
use crate::x12::{Adjustment, BalanceError, ClaimPayment, GroupCode, Transaction, validate};
use bedside_core::{
    Actor, ClaimId, DomainError, ErrorKind, OrganisationId, PatientId, Sensitive, Timestamp,
};
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
    /// Occurs when a payer pays a claim again under a new trace number (TRN02) while its
    /// earlier payment ([`WorkItem::earlier_trace_number`]) stands unreversed. The payment sits
    /// in the unapplied account and the claim's receivables are untouched; a person asks the
    /// payer to recoup or reverse one of the two payments, or refunds the overpayment.
    DuplicatePayment,
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
    /// For [`WorkReason::DuplicatePayment`]: the TRN02 of the payment already posted.
    #[serde(default)]
    pub earlier_trace_number: Option<String>,
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
    /// Occurs when a manual payment names a claim the claim book does not hold.
    #[error("unknown claim `{claim}`")]
    UnknownClaim {
        /// The claim (an id, not PHI).
        claim: ClaimId,
    },
    /// Occurs when a manual payment's payer is not the payer the claim was billed to.
    #[error("claim `{claim}` was billed to another payer")]
    PayerMismatch {
        /// The claim (an id, not PHI).
        claim: ClaimId,
    },
    /// Occurs when a manual payment has no reference (check or EFT trace number), which is
    /// what makes posting it again safe.
    #[error("a manual payment needs a reference (check or EFT trace number)")]
    MissingReference,
}

impl DomainError for RemitError {
    fn kind(&self) -> ErrorKind {
        match self {
            RemitError::Unbalanced(_) | RemitError::MissingReference => ErrorKind::Invalid,
            RemitError::Rejected { reason, .. } => reason.kind(),
            RemitError::Money(e) => e.kind(),
            RemitError::UnknownClaim { .. } => ErrorKind::NotFound,
            RemitError::PayerMismatch { .. } => ErrorKind::Conflict,
        }
    }
}

/// An insurer payment recorded by hand, without an 835 (a paper check with a paper EOB, a
/// payment the payer phoned through). It posts exactly as one 835 claim payment (CLP) would:
/// the claim's billed amount (`billed_to_payer`, CLP03) minus the adjustments (CAS) must equal
/// `paid` (CLP04), or nothing is posted; the payer and `reference` (TRN02) make posting it again
/// a no-op; a claim already paid under another reference stays paid once, the new payment going
/// to the work queue as [`WorkReason::DuplicatePayment`].
///
/// ```
/// use bedside_ledger::{ManualPayment, Money, Currency};
/// use bedside_ledger::x12::GroupCode;
/// # let (payer, claim) = (bedside_core::OrganisationId::from_uuid(uuid::Uuid::from_u128(1)),
/// #     bedside_core::ClaimId::from_uuid(uuid::Uuid::from_u128(2)));
/// let usd = |s: &str| Money::parse_decimal(s, Currency::USD);
/// let payment = ManualPayment::new(payer, claim, usd("120.00")?, "CHK-88412")
///     .with_adjustment(GroupCode::CO, "45", usd("20.00")?)
///     .with_adjustment(GroupCode::PR, "3", usd("10.00")?);
/// assert_eq!(payment.adjustments.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualPayment {
    /// The payer that paid (must be the claim's payer).
    pub payer: OrganisationId,
    /// The claim paid.
    pub claim: ClaimId,
    /// What the payer paid (CLP04).
    pub paid: Money,
    /// Check or EFT trace number (TRN02): with the payer, the payment's idempotency key.
    pub reference: String,
    /// Adjustments as the payer's EOB lists them (CAS group, reason code, amount).
    pub adjustments: Vec<(GroupCode, String, Money)>,
}

impl ManualPayment {
    /// A payment with no adjustments (add them with [`ManualPayment::with_adjustment`]).
    pub fn new(
        payer: OrganisationId,
        claim: ClaimId,
        paid: Money,
        reference: impl Into<String>,
    ) -> Self {
        Self {
            payer,
            claim,
            paid,
            reference: reference.into(),
            adjustments: Vec::new(),
        }
    }

    /// Adds an adjustment: `group` and the claim adjustment reason code `reason` (CARC 45 for
    /// a contractual reduction, PR 1/2/3 for deductible, coinsurance and copay).
    pub fn with_adjustment(
        mut self,
        group: GroupCode,
        reason: impl Into<String>,
        amount: Money,
    ) -> Self {
        self.adjustments.push((group, reason.into(), amount));
        self
    }

    /// The one-claim 835 transaction this payment posts as.
    fn transaction(&self, claim: &crate::Claim) -> Transaction {
        let adjustments = self
            .adjustments
            .iter()
            .map(|(group, reason, amount)| Adjustment {
                group: *group,
                reason: reason.clone(),
                amount: *amount,
                quantity: None,
                segment: 0,
            })
            .collect();
        // CLP02: processed as primary (1) or secondary (2), as the payer would report it.
        let status = match claim.sequence {
            crate::claim::PayerSequence::Primary => 1,
            crate::claim::PayerSequence::Secondary { .. } => 2,
        };
        Transaction {
            control_number: "manual".into(),
            handling: "I".into(),
            payment: self.paid,
            credit_debit: "C".into(),
            method: "NON".into(),
            payment_date: None,
            trace_number: self.reference.trim().to_string(),
            payer_id: self.payer.to_string(),
            payer_name: String::new(),
            payee_id: String::new(),
            claims: vec![ClaimPayment {
                control_number: claim.control_number.clone(),
                status,
                charge: claim.billed_to_payer,
                paid: self.paid,
                patient_responsibility: None,
                filing_indicator: None,
                payer_control_number: claim
                    .payer_claim_number
                    .clone()
                    .unwrap_or_else(|| Sensitive::new(String::new())),
                adjustments,
                services: Vec::new(),
                period_start: None,
                period_end: None,
                amounts: Vec::new(),
                segment: 0,
            }],
            provider_adjustments: Vec::new(),
            segment: 0,
        }
    }
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
    /// Claims already paid under another trace number: posted to unapplied and queued as
    /// [`WorkReason::DuplicatePayment`], not counted in `claims_matched`.
    #[serde(default)]
    pub claims_duplicate: usize,
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
    /// Decisions per matched claim. [`RemittancePoster::post_and_record`] records them in the
    /// claim book; after the lower-level [`RemittancePoster::post`], pass each to
    /// [`crate::ClaimBook::record_adjudication`].
    pub adjudications: Vec<(ClaimId, Adjudication)>,
    /// Claims whose adjudication posted to the ledger but whose lifecycle could not move (for
    /// example a draft that was never submitted), with their status: a person looks at them.
    /// Filled by [`RemittancePoster::post_and_record`] only.
    #[serde(default)]
    pub not_recorded: Vec<(ClaimId, ClaimStatus)>,
}

/// The stored form of a [`RemittancePoster`]: what later remittances need to know of earlier
/// ones, as plain serde data (see the crate's "Persistence" section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosterSnapshot {
    /// Posted payments (payer key, CLP01, CLP07) with their entry, CLP03 and CLP04, for
    /// reversals to find.
    pub payments: Vec<PostedPayment>,
    /// Per claim, its standing adjudication: (claim, TRN02, payer key, CLP01, CLP07, entry).
    pub adjudicated: Vec<StandingAdjudication>,
    /// The work queue, oldest first.
    pub queue: Vec<WorkItem>,
    /// Entries already queued (so a re-import queues nothing twice).
    pub queued: Vec<EntryId>,
}

/// One payment a [`RemittancePoster`] posted (part of a [`PosterSnapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedPayment {
    /// TRN03 or payer name.
    pub payer_key: String,
    /// CLP01.
    pub control_number: Sensitive<String>,
    /// CLP07.
    pub payer_control_number: Sensitive<String>,
    /// The entry, CLP03 and CLP04.
    pub posted: (EntryId, Money, Money),
}

/// The payment standing for a claim (part of a [`PosterSnapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingAdjudication {
    /// The claim.
    pub claim: ClaimId,
    /// TRN02 of the payment.
    pub trace_number: String,
    /// The payment (its `posted` is unused here and repeats the entry).
    pub payment: PostedPayment,
}

/// Payer, CLP01 and CLP07: what a reversal names of the payment it reverses.
type PaymentKey = (String, String, String);

/// The standing adjudication of a claim: the last non-reversal CLP posted against it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Adjudicated {
    trace_number: String,
    key: PaymentKey,
    entry: EntryId,
}

/// Posts remittances and keeps what later remittances need: earlier payments (for reversals
/// and for duplicate payments, see the [module documentation](self)) and the work queue.
///
/// The billing cycle in one go: a charge captured to the payer's receivable in the
/// [`Books`], a claim in the [`ClaimBook`], the payer's 835, and the patient's statement
/// showing what insurance paid.
///
/// ```
/// use bedside_core::{Actor, ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId};
/// use bedside_ledger::statement::StatementOptions;
/// use bedside_ledger::{
///     BillTo, Books, ChargeId, ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus, Currency,
///     FeeSchedule, Money, ProcedureCode, RemittancePoster, x12,
/// };
///
/// let id = |n: u128| uuid::Uuid::from_u128(n);
/// let (patient, payer) = (PatientId::from_uuid(id(1)), OrganisationId::from_uuid(id(2)));
/// let usd = |s: &str| Money::parse_decimal(s, Currency::USD);
/// let at = |s: &str| s.parse::<bedside_core::Timestamp>();
/// let clerk = Actor::System { component: "billing-desk".into() };
///
/// // A visit priced from the fee schedule and billed to the payer.
/// let mut books = Books::open(Currency::USD)?;
/// let mut fees = FeeSchedule::new();
/// let visit = ProcedureCode::parse("99213")?;
/// fees.set(visit.clone(), None, usd("150.00")?, "Office visit");
/// let dos = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).ok_or("date")?;
/// let request = ChargeRequest::new(
///     patient, EncounterId::from_uuid(id(3)), visit, dos, ProviderId::from_uuid(id(4)));
/// let charge = fees.price(ChargeId::from_uuid(id(5)), request)?;
/// books.capture_charge(&charge, BillTo::Payer(payer), &clerk, at("2026-03-02T15:00:00Z")?)?;
///
/// // The claim, sent to the payer under control number BSD0042.
/// let mut claims = ClaimBook::new();
/// let claim = claims.build(&mut books, ClaimDraft {
///     id: ClaimId::from_uuid(id(6)),
///     payer,
///     coverage: CoverageId::from_uuid(id(7)),
///     control_number: "BSD0042".into(),
///     charges: std::slice::from_ref(&charge),
/// }, at("2026-03-03T09:00:00Z")?)?;
/// claims.transition(claim, ClaimStatus::Submitted, at("2026-03-03T09:00:00Z")?)?;
///
/// // The payer's 835: 150.00 billed, 100.00 paid, 30.00 contractual, 20.00 copay.
/// let remittance = "\
/// ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*BEDSIDECLINIC  *260320*0930*^*00501*000000101*0*P*:~\
/// GS*HP*ACMEHEALTH*BEDSIDECLINIC*20260320*0930*101*X*005010X221A1~\
/// ST*835*0101~\
/// BPR*I*100.00*C*ACH*CCP*01*011000015*DA*000111222*1999999999**01*021000021*DA*333444555*20260320~\
/// TRN*1*EFT20260320A*1999999999~\
/// N1*PR*ACME HEALTH PLAN~\
/// N1*PE*BEDSIDE CLINIC*XX*1234567893~\
/// LX*1~\
/// CLP*BSD0042*1*150.00*100.00*20.00*12*PAYCLM42~\
/// CAS*CO*45*30.00~\
/// CAS*PR*3*20.00~\
/// SE*11*0101~\
/// GE*1*101~\
/// IEA*1*000000101~";
/// let parsed = x12::parse(remittance.as_bytes());
/// assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
///
/// // Posting records the payer's decision on the claim too.
/// let mut poster = RemittancePoster::new(books.clinic);
/// let summary = poster.post_and_record(
///     &mut books, &mut claims, &parsed.transactions[0], &clerk, at("2026-03-20T10:00:00Z")?)?;
/// assert_eq!((summary.claims_matched, summary.copay), (1, usd("20.00")?));
/// assert_eq!(claims.get(claim).map(|c| c.status), Some(ClaimStatus::Paid));
///
/// // The statement comes from the books and shows the insurer payment.
/// let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 21).ok_or("date")?;
/// let statement = books.statement(&claims, patient, StatementOptions::new(date))?;
/// assert_eq!(statement.total_insurance_paid, usd("100.00")?);
/// assert_eq!(statement.amount_due, usd("20.00")?);
/// assert!(statement.render_text().contains("Insurance paid $100.00"));
/// assert!(books.ledger.trial_balance().is_zero());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RemittancePoster {
    accounts: ClinicAccounts,
    payments: HashMap<PaymentKey, (EntryId, Money, Money)>,
    adjudicated: HashMap<ClaimId, Adjudicated>,
    queue: Vec<WorkItem>,
    queued: HashSet<EntryId>,
}

/// One CLP being posted.
struct ClaimContext<'a> {
    tx: &'a Transaction,
    clp: &'a ClaimPayment,
    id: EntryId,
    at: Timestamp,
    by: &'a Actor,
    reversed_here: &'a HashSet<PaymentKey>,
}

fn payment_key(tx: &Transaction, clp: &ClaimPayment) -> PaymentKey {
    (
        tx.payer_key().to_string(),
        clp.control_number.expose().clone(),
        clp.payer_control_number.expose().clone(),
    )
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
            adjudicated: HashMap::new(),
            queue: Vec::new(),
            queued: HashSet::new(),
        }
    }

    /// What later remittances need of this poster, for storage; [`RemittancePoster::restore`]
    /// takes it back.
    pub fn snapshot(&self) -> PosterSnapshot {
        let payment = |(payer, control, payer_control): &PaymentKey, posted| PostedPayment {
            payer_key: payer.clone(),
            control_number: Sensitive::new(control.clone()),
            payer_control_number: Sensitive::new(payer_control.clone()),
            posted,
        };
        let mut payments: Vec<PostedPayment> =
            self.payments.iter().map(|(k, v)| payment(k, *v)).collect();
        payments.sort_by_key(|p| p.posted.0);
        let zero = Money::zero(Currency::USD);
        let mut adjudicated: Vec<StandingAdjudication> = self
            .adjudicated
            .iter()
            .map(|(claim, a)| StandingAdjudication {
                claim: *claim,
                trace_number: a.trace_number.clone(),
                payment: payment(&a.key, (a.entry, zero, zero)),
            })
            .collect();
        adjudicated.sort_by_key(|a| a.claim);
        let mut queued: Vec<EntryId> = self.queued.iter().copied().collect();
        queued.sort();
        PosterSnapshot {
            payments,
            adjudicated,
            queue: self.queue.clone(),
            queued,
        }
    }

    /// A poster for `accounts` that knows what the snapshot's poster knew.
    pub fn restore(accounts: ClinicAccounts, snapshot: PosterSnapshot) -> Self {
        let key = |p: &PostedPayment| -> PaymentKey {
            (
                p.payer_key.clone(),
                p.control_number.expose().clone(),
                p.payer_control_number.expose().clone(),
            )
        };
        let mut poster = Self::new(accounts);
        for p in &snapshot.payments {
            poster.payments.insert(key(p), p.posted);
        }
        for a in &snapshot.adjudicated {
            poster.adjudicated.insert(
                a.claim,
                Adjudicated {
                    trace_number: a.trace_number.clone(),
                    key: key(&a.payment),
                    entry: a.payment.posted.0,
                },
            );
        }
        poster.queue = snapshot.queue;
        poster.queued = snapshot.queued.into_iter().collect();
        poster
    }

    /// The work queue (unmatched claims, reversals without originals, duplicate payments),
    /// oldest first.
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

    /// Validates and posts one transaction and records every matched claim's adjudication in
    /// `claims` (moving it to paid, partially paid or denied, or back to accepted for a
    /// reversal), so a statement built afterwards shows the insurer payment. This is the call
    /// to use with a [`ClaimBook`]; [`RemittancePoster::post`] is the lower-level step for
    /// other [`ClaimMatcher`]s. Every entry records `by` (whoever imported the file).
    ///
    /// A claim whose lifecycle refuses the move (see [`PostingSummary::not_recorded`]) does not
    /// stop the import: its money is posted.
    ///
    /// # Errors
    /// As [`RemittancePoster::post`].
    pub fn post_and_record(
        &mut self,
        books: &mut Books,
        claims: &mut ClaimBook,
        tx: &Transaction,
        by: &Actor,
        at: Timestamp,
    ) -> Result<PostingSummary, RemitError> {
        let mut summary = self.post(&mut books.ledger, tx, claims, by, at)?;
        for (claim, adjudication) in &summary.adjudications {
            if claims
                .record_adjudication(*claim, adjudication.clone(), at)
                .is_err()
                && let Some(c) = claims.get(*claim)
            {
                summary.not_recorded.push((*claim, c.status));
            }
        }
        Ok(summary)
    }

    /// Posts an insurer payment recorded by hand (see [`ManualPayment`]) and records its
    /// adjudication on the claim, as [`RemittancePoster::post_and_record`] does for an 835.
    ///
    /// # Errors
    /// [`RemitError::UnknownClaim`], [`RemitError::PayerMismatch`],
    /// [`RemitError::MissingReference`]; [`RemitError::Unbalanced`] when the claim's billed
    /// amount minus the adjustments is not the payment (nothing posted); ledger rejections.
    pub fn post_manual(
        &mut self,
        books: &mut Books,
        claims: &mut ClaimBook,
        payment: &ManualPayment,
        by: &Actor,
        at: Timestamp,
    ) -> Result<PostingSummary, RemitError> {
        let claim = claims.get(payment.claim).ok_or(RemitError::UnknownClaim {
            claim: payment.claim,
        })?;
        if claim.payer != payment.payer {
            return Err(RemitError::PayerMismatch {
                claim: payment.claim,
            });
        }
        if payment.reference.trim().is_empty() {
            return Err(RemitError::MissingReference);
        }
        let tx = payment.transaction(claim);
        self.post_and_record(books, claims, &tx, by, at)
    }

    /// Validates and posts one transaction, each entry recording `by`. The adjudications are
    /// returned in [`PostingSummary::adjudications`], not recorded anywhere: with a
    /// [`ClaimBook`], call [`RemittancePoster::post_and_record`] instead.
    ///
    /// # Errors
    /// [`RemitError::Unbalanced`] (nothing posted) or [`RemitError::Rejected`].
    pub fn post(
        &mut self,
        ledger: &mut Ledger,
        tx: &Transaction,
        claims: &dyn ClaimMatcher,
        by: &Actor,
        at: Timestamp,
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
            claims_duplicate: 0,
            by_group: BTreeMap::new(),
            deductible: zero,
            coinsurance: zero,
            copay: zero,
            claim_payments: zero,
            provider_adjustments: zero,
            adjudications: Vec::new(),
            not_recorded: Vec::new(),
        };
        let payer = tx.payer_key().to_string();
        // Payments this file reverses, wherever the reversal stands in it, so a corrected
        // payment listed before its reversal is not taken for a duplicate.
        let reversed_here: HashSet<PaymentKey> = tx
            .claims
            .iter()
            .filter(|c| c.is_reversal())
            .map(|c| payment_key(tx, c))
            .collect();
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
            let ctx = ClaimContext {
                tx,
                clp,
                id,
                at,
                by,
                reversed_here: &reversed_here,
            };
            self.post_claim(ledger, &ctx, claims, &mut summary)?;
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
            let e = NewEntry::posted(id, at, &postings)
                .with_code(chart::entry::REMIT_PLB)
                .by(by);
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

    /// Posts CLP04 against the unapplied account (no claim to apply it to).
    fn post_unapplied(
        &mut self,
        ledger: &mut Ledger,
        ctx: &ClaimContext<'_>,
        summary: &mut PostingSummary,
    ) -> Result<(), RemitError> {
        let clp = ctx.clp;
        let v = clp.paid.amount_minor();
        let postings = net_postings(
            &[
                (self.accounts.cash, v),
                (
                    self.accounts.unapplied,
                    v.checked_neg().ok_or(MoneyError::Overflow)?,
                ),
            ],
            clp.paid.currency(),
        );
        if postings.len() >= 2 {
            let e = NewEntry::posted(ctx.id, ctx.at, &postings)
                .with_code(chart::entry::REMIT_CLAIM)
                .by(ctx.by);
            self.apply(ledger, &e, clp.segment, summary)?;
        }
        Ok(())
    }

    /// The trace number of the claim's standing adjudication when `ctx` would adjudicate the
    /// claim a second time (see the [module documentation](self)).
    fn earlier_payment(
        &self,
        ledger: &Ledger,
        ctx: &ClaimContext<'_>,
        claim: ClaimId,
    ) -> Option<String> {
        if ctx.clp.is_reversal() {
            return None;
        }
        // Re-importing a file takes the path its first import took: an entry that posted
        // against the claim replays there.
        if ledger.entry(ctx.id).is_some_and(|v| v.refs.claim.is_some()) {
            return None;
        }
        let earlier = self.adjudicated.get(&claim)?;
        // Another trace number, or the same one from another payer key (a payment posted by
        // hand, then imported in an 835), is another payment.
        let standing = (earlier.trace_number != ctx.tx.trace_number
            || earlier.key.0 != ctx.tx.payer_key())
            && !ctx.reversed_here.contains(&earlier.key)
            && ledger
                .entry(earlier.entry)
                .is_some_and(|v| v.resolved_by.is_none());
        standing.then(|| earlier.trace_number.clone())
    }

    fn post_claim(
        &mut self,
        ledger: &mut Ledger,
        ctx: &ClaimContext<'_>,
        claims: &dyn ClaimMatcher,
        summary: &mut PostingSummary,
    ) -> Result<(), RemitError> {
        let (tx, clp, id, at) = (ctx.tx, ctx.clp, ctx.id, ctx.at);
        let currency = clp.paid.currency();
        let Some(target) = claims.find(clp.control_number.expose()) else {
            summary.claims_unmatched += 1;
            self.post_unapplied(ledger, ctx, summary)?;
            self.enqueue(id, WorkReason::UnmatchedClaim, tx, clp, None);
            return Ok(());
        };
        if let Some(earlier) = self.earlier_payment(ledger, ctx, target.claim) {
            summary.claims_duplicate += 1;
            self.post_unapplied(ledger, ctx, summary)?;
            self.enqueue(id, WorkReason::DuplicatePayment, tx, clp, Some(earlier));
            return Ok(());
        }
        // A CLP that went to the unapplied account when first imported (its claim was not
        // known yet, or it was a duplicate whose earlier payment has since been reversed)
        // replays there: its cash is already in the unapplied account, to be applied by hand.
        if ledger.entry(id).is_some_and(|v| v.refs.claim.is_none()) {
            summary.claims_unmatched += 1;
            self.post_unapplied(ledger, ctx, summary)?;
            self.enqueue(id, WorkReason::UnmatchedClaim, tx, clp, None);
            return Ok(());
        }
        summary.claims_matched += 1;
        let (lines, adjudication) = self.adjudicate(clp, &target, summary)?;
        summary.adjudications.push((target.claim, adjudication));
        let refs = References {
            patient: Some(target.patient),
            claim: Some(target.claim),
            encounter: None,
        };
        let key = payment_key(tx, clp);
        if clp.is_reversal() {
            // The payer withdrew this adjudication: a later payment is a correction.
            if self
                .adjudicated
                .get(&target.claim)
                .is_some_and(|a| a.key == key)
            {
                self.adjudicated.remove(&target.claim);
            }
            if let Some(&(orig, charge, paid)) = self.payments.get(&key) {
                let mirrors = charge.checked_neg().ok() == Some(clp.charge)
                    && paid.checked_neg().ok() == Some(clp.paid);
                let reversible = ledger
                    .entry(orig)
                    .is_some_and(|v| v.resolved_by.is_none() || v.resolved_by == Some(id));
                if mirrors && reversible {
                    let e = NewEntry::linked(id, at, EntryKind::Reversal { of: orig })
                        .with_refs(refs)
                        .with_code(chart::entry::REMIT_CLAIM)
                        .by(ctx.by);
                    return self.apply(ledger, &e, clp.segment, summary);
                }
            } else {
                self.enqueue(id, WorkReason::ReversalWithoutOriginal, tx, clp, None);
            }
        }
        let postings = net_postings(&lines, currency);
        if postings.len() >= 2 {
            let e = NewEntry::posted(id, at, &postings)
                .with_refs(refs)
                .with_code(chart::entry::REMIT_CLAIM)
                .by(ctx.by);
            self.apply(ledger, &e, clp.segment, summary)?;
            if !clp.is_reversal() {
                // A re-imported payment that has since been reversed is not the standing one.
                if ledger.entry(id).is_some_and(|v| v.resolved_by.is_none()) {
                    self.adjudicated.insert(
                        target.claim,
                        Adjudicated {
                            trace_number: tx.trace_number.clone(),
                            key: key.clone(),
                            entry: id,
                        },
                    );
                }
                self.payments.insert(key, (id, clp.charge, clp.paid));
            }
        }
        Ok(())
    }

    /// The postings of a matched CLP (cash, payer receivable, one line per CAS by group code)
    /// and the payer's decision it carries; adds the PR split to `summary`.
    fn adjudicate(
        &self,
        clp: &ClaimPayment,
        target: &ClaimTarget,
        summary: &mut PostingSummary,
    ) -> Result<(Vec<(AccountIndex, i64)>, Adjudication), RemitError> {
        let currency = clp.paid.currency();
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
            lines.push((self.account_for(a.group, target), a.amount.amount_minor()));
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
        let adjudication = Adjudication {
            lines: line_results,
            charge: clp.charge,
            paid: clp.paid,
            contractual,
            other_adjustments: other,
            patient: share,
            denied: clp.is_denied(),
            reversal: clp.is_reversal(),
        };
        Ok((lines, adjudication))
    }

    fn enqueue(
        &mut self,
        id: EntryId,
        reason: WorkReason,
        tx: &Transaction,
        clp: &ClaimPayment,
        earlier_trace_number: Option<String>,
    ) {
        if self.queued.insert(id) {
            self.queue.push(WorkItem {
                reason,
                trace_number: tx.trace_number.clone(),
                control_number: clp.control_number.clone(),
                paid: clp.paid,
                segment: clp.segment,
                earlier_trace_number,
            });
        }
    }
}

#[cfg(test)]
mod tests;
