//! The double-entry core: [`Ledger`], [`AccountSpec`], [`Posting`], [`NewEntry`] and the typed
//! [`Rejection`] reasons.
//!
//! # Invariants
//! - Every applied entry balances per currency; the trial balance is zero per currency after
//!   any sequence of operations.
//! - Entries are immutable and never deleted: corrections are [`EntryKind::Reversal`] entries
//!   linked to the original; pending holds are resolved by separate post/void/expire entries.
//! - An entry is applied entirely or not at all: every check runs before the first write.
//! - Balance counters never exceed `i64::MAX` minor units, so every net balance fits a [`Money`].
//!
//! # Rejection order
//! [`Ledger::apply`] checks, in this order, and reports the first failure:
//! 1. the id is not zero ([`Rejection::ZeroId`]);
//! 2. idempotency: a known id with the same content returns the original outcome with
//!    `replayed = true`; with different content, [`Rejection::DuplicateIdDifferentContent`]
//!    naming the first differing [`EntryField`] (kind, code, references, postings in order);
//! 3. the kind may be submitted ([`Rejection::InvalidKind`]);
//! 4. the ledger holds fewer entries than its limit ([`Rejection::EntryLimitReached`], see
//!    [`MAX_ENTRIES`]);
//! 5. the posting count fits the kind ([`Rejection::TooFewPostings`],
//!    [`Rejection::TooManyPostings`], [`Rejection::UnexpectedPostings`]);
//! 6. each posting in order: account exists, amount positive, currency matches the account,
//!    account open ([`Rejection::UnknownAccount`], [`Rejection::NonPositiveAmount`],
//!    [`Rejection::CurrencyMismatch`], [`Rejection::AccountClosed`]);
//! 7. debits equal credits per currency ([`Rejection::Unbalanced`]);
//! 8. the timestamp does not go backwards ([`Rejection::TimestampRegressed`]);
//! 9. the referenced pending or original entry: found, of the right kind, unresolved, not
//!    expired, matching shape, not exceeded ([`Rejection::PendingNotFound`] …
//!    [`Rejection::AlreadyReversed`]), and the accounts it touches are open;
//! 10. no balance counter overflows ([`Rejection::Overflow`]);
//! 11. account limits hold ([`Rejection::WouldExceedLimit`]).
//!
//! The request's [`NewEntry::actor`] is stored with the entry (the audit field,
//! [`EntryView::actor`]) and is not compared on a retry.
//!
//! Rejected entries are not recorded, so a corrected retry with the same id is evaluated fresh.
//!
//! This file is over 800 lines and not split further: what remains is the apply path (checks,
//! deltas, writes), which the invariants above are read against; accounts, the id table,
//! rejections and queries are in their own modules.

use crate::money::{Currency, Money};
use bedside_core::{AccountId, Actor, ClaimId, EncounterId, PatientId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

mod account;
mod id_table;
mod query;
mod rejection;

use account::balance_view;
pub use account::{
    Account, AccountBalance, AccountIndex, AccountKind, AccountLimit, AccountOwner, AccountSpec,
    Balances,
};
pub(crate) use id_table::FastMap;
use id_table::IdTable;
#[cfg(test)]
use id_table::Slot;
pub use query::{EntryView, HistoryLine, Reference, TrialBalance, TrialLine};
pub use rejection::{EntryField, LedgerError, Rejection};

/// Most postings one entry may carry.
pub const MAX_POSTINGS: usize = 32;

/// Most entries one ledger holds: 100 million, a century of a large clinic's entries at a few
/// thousand a day. Entry positions are `u32` and every entry may carry [`MAX_POSTINGS`]
/// postings, so this bound keeps positions and posting offsets inside `u32` with room to
/// spare. A ledger can be given a lower limit with [`Ledger::with_entry_limit`]; once it is
/// reached, [`Ledger::apply`] refuses new entries with [`Rejection::EntryLimitReached`]
/// (idempotent retries of stored entries still answer), and the embedder starts a new ledger
/// (for example one per fiscal year, opened with the closing balances).
pub const MAX_ENTRIES: u32 = 100_000_000;

/// Largest value a balance counter may reach (so net balances always fit in `i64`).
const COUNTER_MAX: u64 = i64::MAX as u64;

/// A client-supplied entry id (128 bits, never zero). Retrying with the same id is safe.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId(u128);

impl EntryId {
    /// Wraps a raw id. Zero is representable but rejected by [`Ledger::apply`].
    pub const fn new(raw: u128) -> Self {
        Self(raw)
    }

    /// The raw value.
    pub const fn get(self) -> u128 {
        self.0
    }

    /// The id as a UUID, handy for deriving stable typed ids from natural keys.
    pub fn to_uuid(self) -> uuid::Uuid {
        uuid::Uuid::from_u128(self.0)
    }

    /// Derives a stable id from natural-key parts (128-bit FNV-1a over length-prefixed parts),
    /// so the same business event always maps to the same entry id.
    pub fn derive(parts: &[&[u8]]) -> Self {
        const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
        const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;
        let mut h = OFFSET;
        for part in parts {
            for &b in (part.len() as u64).to_le_bytes().iter().chain(part.iter()) {
                h ^= u128::from(b);
                h = h.wrapping_mul(PRIME);
            }
        }
        Self(if h == 0 { 1 } else { h })
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryId({:032x})", self.0)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Debit or credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Debit (left) side.
    Debit,
    /// Credit (right) side.
    Credit,
}

impl Side {
    /// The other side.
    pub fn flip(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }
}

/// One line of an entry: an account, a side and a positive amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Posting {
    /// The account.
    pub account: AccountIndex,
    /// Debit or credit.
    pub side: Side,
    /// Positive amount in the account's currency.
    pub amount: Money,
}

impl Posting {
    /// A debit.
    pub fn debit(account: AccountIndex, amount: Money) -> Self {
        Self {
            account,
            side: Side::Debit,
            amount,
        }
    }
    /// A credit.
    pub fn credit(account: AccountIndex, amount: Money) -> Self {
        Self {
            account,
            side: Side::Credit,
            amount,
        }
    }
}

/// What an entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Posted immediately.
    Posted,
    /// A hold (for example an expected insurer payment), optionally expiring at an instant.
    Pending {
        /// Holds expire at this instant; posting or voiding at or after it is rejected.
        expires_at: Option<Timestamp>,
    },
    /// Posts a pending hold, fully (no postings) or partially (same accounts and sides, amounts
    /// no larger than held). The rest of the hold is released.
    PostPending {
        /// The pending entry.
        pending: EntryId,
    },
    /// Releases a pending hold without posting. Carries no postings.
    VoidPending {
        /// The pending entry.
        pending: EntryId,
    },
    /// Written by [`Ledger::expire_pending`] only: releases a hold whose expiry has passed.
    ExpirePending {
        /// The pending entry.
        pending: EntryId,
    },
    /// Reverses a posted entry (sides swapped). Carries no postings.
    Reversal {
        /// The entry being corrected.
        of: EntryId,
    },
}

impl EntryKind {
    /// The linked entry (hold or original), if the kind links one.
    pub fn target(&self) -> Option<EntryId> {
        match *self {
            EntryKind::Posted | EntryKind::Pending { .. } => None,
            EntryKind::PostPending { pending }
            | EntryKind::VoidPending { pending }
            | EntryKind::ExpirePending { pending } => Some(pending),
            EntryKind::Reversal { of } => Some(of),
        }
    }
}

/// Business references carried by an entry, indexed for queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct References {
    /// The patient the money concerns.
    pub patient: Option<PatientId>,
    /// The claim.
    pub claim: Option<ClaimId>,
    /// The encounter.
    pub encounter: Option<EncounterId>,
}

/// A request to apply an entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewEntry<'a> {
    /// Client-supplied idempotency id.
    pub id: EntryId,
    /// When it happens (must not go backwards).
    pub at: Timestamp,
    /// What it does.
    pub kind: EntryKind,
    /// Postings (empty for voids and reversals, optional for posting a hold).
    pub postings: &'a [Posting],
    /// References for queries.
    pub refs: References,
    /// Purpose code (see [`crate::chart`]).
    pub code: u16,
    /// Who did it (the person posting a charge, a payment, an adjustment, a write-off or a
    /// void; the importer for automated postings). Stored with the entry as its audit field and
    /// written to the journal; not part of the content an idempotent retry is compared on, so a
    /// retry by another actor still replays.
    pub actor: Option<&'a Actor>,
}

impl<'a> NewEntry<'a> {
    /// A posted entry with no references and code 0.
    pub fn posted(id: EntryId, at: Timestamp, postings: &'a [Posting]) -> Self {
        Self {
            id,
            at,
            kind: EntryKind::Posted,
            postings,
            refs: References::default(),
            code: 0,
            actor: None,
        }
    }

    /// An entry of another kind with no postings (void, reversal, full post).
    pub fn linked(id: EntryId, at: Timestamp, kind: EntryKind) -> Self {
        Self {
            id,
            at,
            kind,
            postings: &[],
            refs: References::default(),
            code: 0,
            actor: None,
        }
    }

    /// Sets references.
    pub fn with_refs(mut self, refs: References) -> Self {
        self.refs = refs;
        self
    }

    /// Sets the purpose code.
    pub fn with_code(mut self, code: u16) -> Self {
        self.code = code;
        self
    }

    /// Sets who does it (see [`NewEntry::actor`]).
    pub fn by(mut self, actor: &'a Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: EntryKind) -> Self {
        self.kind = kind;
        self
    }
}

/// The result of an applied entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Position of the entry in the ledger (0-based).
    pub seq: u32,
    /// Whether this was an idempotent retry of an earlier identical entry.
    pub replayed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredKind {
    Posted,
    Pending,
    PostPending { pending: u32 },
    VoidPending { pending: u32 },
    ExpirePending { pending: u32 },
    Reversal { of: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EntryRecord {
    /// The id as two halves, so the record is 8-byte aligned and stays small (the hot path
    /// writes one record per entry).
    id: [u64; 2],
    at: Timestamp,
    kind: StoredKind,
    code: u16,
    start: u32,
    len: u16,
    /// The request carried no postings; the stored ones were derived from the linked entry.
    derived: bool,
    /// For holds: the entry that resolved it; for posted entries: the reversal.
    resolution: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Open(u32),
    Close(u32),
    Entry(u32),
}

impl EntryRecord {
    fn id(&self) -> EntryId {
        EntryId((u128::from(self.id[1]) << 64) | u128::from(self.id[0]))
    }
}

/// Per stored posting: its entry and the previous posting of the same account (a per-account
/// linked list, so applying an entry writes nothing outside the sequential arenas and the
/// touched accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    entry: u32,
    prev: u32,
}

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hot {
    balances: Balances,
    currency: Currency,
    limit: AccountLimit,
    closed: bool,
}

#[derive(Debug, Clone, Copy)]
struct Delta {
    account: u32,
    side: Side,
    posted_add: u64,
    pending_add: u64,
    pending_sub: u64,
}

/// An in-memory double-entry ledger. See the [module docs](self) for invariants and the order
/// of checks.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Cold account data (queries, journal).
    specs: Vec<AccountSpec>,
    /// Hot account data, 40 bytes each, all the apply path reads and writes.
    hot: Vec<Hot>,
    account_ids: HashMap<AccountId, u32>,
    entries: Vec<EntryRecord>,
    postings: Vec<Posting>,
    links: Vec<Link>,
    /// Last stored posting of each account (`NONE` when none).
    last_posting: Vec<u32>,
    by_id: IdTable,
    by_ref: HashMap<Reference, Vec<u32>>,
    refs: FastMap<u32, References>,
    expiries: FastMap<u32, Timestamp>,
    /// The audit field: who applied each entry that named an actor.
    actors: FastMap<u32, Actor>,
    /// A lower entry limit than [`MAX_ENTRIES`], if one was set.
    entry_limit: Option<u32>,
    open_expiring: Vec<u32>,
    /// Account openings and closings with the number of entries applied before each.
    account_ops: Vec<(u32, Op)>,
    last_at: Option<Timestamp>,
    scratch: Vec<(u32, Balances)>,
    deltas: Vec<Delta>,
}

impl PartialEq for Ledger {
    /// Two ledgers are equal when their accounts, entries and postings are equal (indices and
    /// scratch space are derived from those).
    fn eq(&self, other: &Self) -> bool {
        self.specs == other.specs
            && self.hot == other.hot
            && self.entries == other.entries
            && self.postings == other.postings
            && self.account_ops == other.account_ops
            && self.refs == other.refs
            && self.expiries == other.expiries
            && self.actors == other.actors
    }
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty ledger with room for `accounts` accounts and `entries` two-posting entries.
    /// The memory is reserved and written once up front (like TigerBeetle's static
    /// allocation), so applying entries takes no page faults until the capacity is used.
    pub fn with_capacity(accounts: usize, entries: usize) -> Self {
        fn prefaulted<T: Clone>(n: usize, fill: T) -> Vec<T> {
            let mut v = vec![fill; n];
            v.clear();
            v
        }
        let no_posting = Posting {
            account: AccountIndex(NONE),
            side: Side::Credit,
            amount: Money::new(-1, Currency::USD),
        };
        let no_entry = EntryRecord {
            id: [u64::MAX; 2],
            at: Timestamp::MAX_UTC,
            kind: StoredKind::Reversal { of: NONE },
            code: u16::MAX,
            start: NONE,
            len: u16::MAX,
            derived: true,
            resolution: Some(NONE),
        };
        Self {
            specs: Vec::with_capacity(accounts),
            hot: Vec::with_capacity(accounts),
            last_posting: Vec::with_capacity(accounts),
            entries: prefaulted(entries, no_entry),
            postings: prefaulted(entries * 2, no_posting),
            links: prefaulted(
                entries * 2,
                Link {
                    entry: NONE,
                    prev: NONE,
                },
            ),
            by_id: IdTable::with_capacity(entries),
            ..Self::default()
        }
    }

    /// Opens an account. Opening the same id with the same spec again returns the same index.
    ///
    /// # Errors
    /// [`LedgerError::AccountExists`] when the id exists with a different spec.
    pub fn create_account(&mut self, spec: AccountSpec) -> Result<AccountIndex, LedgerError> {
        if let Some(&i) = self.account_ids.get(&spec.id) {
            return if self.specs[i as usize] == spec {
                Ok(AccountIndex(i))
            } else {
                Err(LedgerError::AccountExists)
            };
        }
        let i = u32::try_from(self.specs.len()).map_err(|_| LedgerError::TooManyAccounts)?;
        self.specs.push(spec);
        self.hot.push(Hot {
            balances: Balances::default(),
            currency: spec.currency,
            limit: spec.limit,
            closed: false,
        });
        self.last_posting.push(NONE);
        self.account_ids.insert(spec.id, i);
        self.account_ops
            .push((self.entries.len() as u32, Op::Open(i)));
        Ok(AccountIndex(i))
    }

    /// Closes an account to new postings (history stays).
    ///
    /// # Errors
    /// [`LedgerError::UnknownAccount`], [`LedgerError::AlreadyClosed`], or
    /// [`LedgerError::PendingOnClose`] when holds are still open on it.
    pub fn close_account(&mut self, account: AccountIndex) -> Result<(), LedgerError> {
        let a = self
            .hot
            .get_mut(account.0 as usize)
            .ok_or(LedgerError::UnknownAccount)?;
        if a.closed {
            return Err(LedgerError::AlreadyClosed);
        }
        if a.balances.debits_pending != 0 || a.balances.credits_pending != 0 {
            return Err(LedgerError::PendingOnClose);
        }
        a.closed = true;
        self.account_ops
            .push((self.entries.len() as u32, Op::Close(account.0)));
        Ok(())
    }

    /// The account at an index.
    pub fn account(&self, account: AccountIndex) -> Option<Account> {
        let i = account.0 as usize;
        Some(Account {
            spec: *self.specs.get(i)?,
            closed: self.hot.get(i)?.closed,
            balances: self.hot.get(i)?.balances,
        })
    }

    /// The index of an account id.
    pub fn account_index(&self, id: AccountId) -> Option<AccountIndex> {
        self.account_ids.get(&id).map(|&i| AccountIndex(i))
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.specs.len()
    }

    /// This ledger with a lower entry limit than [`MAX_ENTRIES`] (values above it are
    /// capped at it). See [`MAX_ENTRIES`] for what happens at the limit.
    pub fn with_entry_limit(mut self, limit: u32) -> Self {
        self.entry_limit = Some(limit.min(MAX_ENTRIES));
        self
    }

    /// The most entries this ledger holds ([`MAX_ENTRIES`] unless lowered).
    pub fn entry_limit(&self) -> u32 {
        self.entry_limit.unwrap_or(MAX_ENTRIES)
    }

    /// Number of applied entries.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// Applies an entry atomically. See the [module docs](self) for the order of checks.
    ///
    /// # Errors
    /// The first [`Rejection`] found; nothing changes on rejection.
    pub fn apply(&mut self, entry: &NewEntry<'_>) -> Result<Applied, Rejection> {
        if entry.id.0 == 0 {
            return Err(Rejection::ZeroId);
        }
        let slot = match self.by_id.find(entry.id) {
            Ok(seq) => return self.compare_retry(seq, entry),
            Err(slot) => slot,
        };
        if matches!(entry.kind, EntryKind::ExpirePending { .. }) {
            return Err(Rejection::InvalidKind);
        }
        self.apply_new(entry, slot)
    }

    /// Resolves every open hold whose expiry is at or before `at`, writing one
    /// [`EntryKind::ExpirePending`] entry each (ids derived from the hold's id). Returns the
    /// ids of the expired holds.
    pub fn expire_pending(&mut self, at: Timestamp) -> Vec<EntryId> {
        let due: Vec<u32> = self
            .open_expiring
            .iter()
            .copied()
            .filter(|&i| {
                let e = &self.entries[i as usize];
                e.resolution.is_none()
                    && matches!(e.kind, StoredKind::Pending)
                    && self.expiries.get(&i).is_some_and(|x| *x <= at)
            })
            .collect();
        let mut expired = Vec::new();
        for i in due {
            let pending = self.entries[i as usize].id();
            let id = EntryId::derive(&[b"expire", &pending.0.to_le_bytes()]);
            let at = self.last_at.map_or(at, |l| l.max(at));
            let e = NewEntry::linked(id, at, EntryKind::ExpirePending { pending });
            let applied = match self.by_id.find(id) {
                Ok(_) => false,
                Err(slot) => self.apply_new(&e, slot).is_ok(),
            };
            if applied {
                expired.push(pending);
            }
        }
        self.open_expiring
            .retain(|&i| self.entries[i as usize].resolution.is_none());
        expired
    }

    /// Applies a journal record (which may be an expiry). Used by replay.
    pub(crate) fn apply_replayed(&mut self, entry: &NewEntry<'_>) -> Result<Applied, Rejection> {
        if entry.id.0 == 0 {
            return Err(Rejection::ZeroId);
        }
        let slot = match self.by_id.find(entry.id) {
            Ok(seq) => return self.compare_retry(seq, entry),
            Err(slot) => slot,
        };
        let out = self.apply_new(entry, slot)?;
        if matches!(entry.kind, EntryKind::ExpirePending { .. }) {
            self.open_expiring
                .retain(|&i| self.entries[i as usize].resolution.is_none());
        }
        Ok(out)
    }

    fn public_kind(&self, seq: u32) -> EntryKind {
        let id = |i: u32| self.entries[i as usize].id();
        match self.entries[seq as usize].kind {
            StoredKind::Posted => EntryKind::Posted,
            StoredKind::Pending => EntryKind::Pending {
                expires_at: self.expiries.get(&seq).copied(),
            },
            StoredKind::PostPending { pending } => EntryKind::PostPending {
                pending: id(pending),
            },
            StoredKind::VoidPending { pending } => EntryKind::VoidPending {
                pending: id(pending),
            },
            StoredKind::ExpirePending { pending } => EntryKind::ExpirePending {
                pending: id(pending),
            },
            StoredKind::Reversal { of } => EntryKind::Reversal { of: id(of) },
        }
    }

    fn compare_retry(&self, seq: u32, e: &NewEntry<'_>) -> Result<Applied, Rejection> {
        let r = &self.entries[seq as usize];
        let differ = |field| Err(Rejection::DuplicateIdDifferentContent { field });
        if self.public_kind(seq) != e.kind {
            return differ(EntryField::Kind);
        }
        if r.code != e.code {
            return differ(EntryField::Code);
        }
        let refs = self.refs.get(&seq).copied().unwrap_or_default();
        if refs.patient != e.refs.patient {
            return differ(EntryField::Patient);
        }
        if refs.claim != e.refs.claim {
            return differ(EntryField::Claim);
        }
        if refs.encounter != e.refs.encounter {
            return differ(EntryField::Encounter);
        }
        let stored: &[Posting] = if r.derived {
            &[]
        } else {
            &self.postings[r.start as usize..r.start as usize + r.len as usize]
        };
        if stored.len() != e.postings.len() {
            return differ(EntryField::PostingCount);
        }
        for (i, (a, b)) in stored.iter().zip(e.postings).enumerate() {
            if a.account != b.account {
                return differ(EntryField::PostingAccount(i));
            }
            if a.side != b.side {
                return differ(EntryField::PostingSide(i));
            }
            if a.amount != b.amount {
                return differ(EntryField::PostingAmount(i));
            }
        }
        Ok(Applied {
            seq,
            replayed: true,
        })
    }

    fn check_postings(&self, postings: &[Posting]) -> Result<(), Rejection> {
        for (i, p) in postings.iter().enumerate() {
            let Some(a) = self.hot.get(p.account.0 as usize) else {
                return Err(Rejection::UnknownAccount { posting: i });
            };
            if p.amount.amount_minor() <= 0 {
                return Err(Rejection::NonPositiveAmount { posting: i });
            }
            if p.amount.currency() != a.currency {
                return Err(Rejection::CurrencyMismatch { posting: i });
            }
            if a.closed {
                return Err(Rejection::AccountClosed { posting: i });
            }
        }
        // Balance per currency: the common single-currency case needs no table.
        let first = postings.first().map(|p| p.amount.currency());
        let mut single = true;
        let mut net: i128 = 0;
        for p in postings {
            if Some(p.amount.currency()) != first {
                single = false;
                break;
            }
            let a = i128::from(p.amount.amount_minor());
            net += if p.side == Side::Debit { a } else { -a };
        }
        if single {
            if net != 0
                && let Some(currency) = first
            {
                return Err(Rejection::Unbalanced { currency });
            }
            return Ok(());
        }
        let mut sums: [(Option<Currency>, i128); MAX_POSTINGS] = [(None, 0); MAX_POSTINGS];
        for p in postings {
            let c = p.amount.currency();
            let a = i128::from(p.amount.amount_minor());
            let signed = if p.side == Side::Debit { a } else { -a };
            if let Some(slot) = sums.iter_mut().find(|s| s.0 == Some(c) || s.0.is_none()) {
                slot.0 = Some(c);
                slot.1 += signed;
            }
        }
        for (c, s) in sums.iter() {
            if let (Some(currency), true) = (c, *s != 0) {
                return Err(Rejection::Unbalanced {
                    currency: *currency,
                });
            }
        }
        Ok(())
    }

    // Over 100 lines, not split: the hot path: checks then writes in one body, so "every check runs before the first write" can be read off it.
    fn apply_new(&mut self, e: &NewEntry<'_>, slot: usize) -> Result<Applied, Rejection> {
        let limit = self.entry_limit();
        if self.entries.len() >= limit as usize {
            return Err(Rejection::EntryLimitReached { limit });
        }
        let n = e.postings.len();
        match e.kind {
            EntryKind::Posted | EntryKind::Pending { .. } => {
                if n < 2 {
                    return Err(Rejection::TooFewPostings);
                }
            }
            EntryKind::PostPending { .. } => {
                if n == 1 {
                    return Err(Rejection::TooFewPostings);
                }
            }
            EntryKind::VoidPending { .. }
            | EntryKind::ExpirePending { .. }
            | EntryKind::Reversal { .. } => {
                if n != 0 {
                    return Err(Rejection::UnexpectedPostings);
                }
            }
        }
        if n > MAX_POSTINGS {
            return Err(Rejection::TooManyPostings);
        }
        self.check_postings(e.postings)?;
        if let Some(last) = self.last_at
            && e.at < last
        {
            return Err(Rejection::TimestampRegressed);
        }

        // Resolve the linked entry and build the deltas.
        let mut deltas = std::mem::take(&mut self.deltas);
        deltas.clear();
        let resolved = self.build_deltas(e, &mut deltas);
        let target = match resolved {
            Ok(t) => t,
            Err(r) => {
                self.deltas = deltas;
                return Err(r);
            }
        };
        let checked = self.check_deltas(&deltas);
        let mut scratch = match checked {
            Ok(s) => s,
            Err(r) => {
                self.deltas = deltas;
                return Err(r);
            }
        };

        // Commit: nothing below can fail.
        for &(acct, b) in scratch.iter() {
            self.hot[acct as usize].balances = b;
        }
        scratch.clear();
        self.scratch = scratch;
        let seq = self.entries.len() as u32;
        let start = self.postings.len() as u32;
        let derived = n == 0;
        let stored_kind = match (e.kind, target) {
            (EntryKind::Posted, _) => StoredKind::Posted,
            (EntryKind::Pending { .. }, _) => StoredKind::Pending,
            (EntryKind::PostPending { .. }, Some(t)) => StoredKind::PostPending { pending: t },
            (EntryKind::VoidPending { .. }, Some(t)) => StoredKind::VoidPending { pending: t },
            (EntryKind::ExpirePending { .. }, Some(t)) => StoredKind::ExpirePending { pending: t },
            (EntryKind::Reversal { .. }, Some(t)) => StoredKind::Reversal { of: t },
            // build_deltas returns a target for every linked kind.
            (_, None) => StoredKind::Posted,
        };
        if derived {
            if let Some(t) = target {
                let tr = &self.entries[t as usize];
                let (s, l) = (tr.start as usize, tr.len as usize);
                let flip = matches!(e.kind, EntryKind::Reversal { .. });
                for j in s..s + l {
                    let mut p = self.postings[j];
                    if flip {
                        p.side = p.side.flip();
                    }
                    self.postings.push(p);
                }
            }
        } else {
            self.postings.extend_from_slice(e.postings);
        }
        let len = self.postings.len() as u32 - start;
        for j in start..start + len {
            let acct = self.postings[j as usize].account.0 as usize;
            let prev = std::mem::replace(&mut self.last_posting[acct], j);
            self.links.push(Link { entry: seq, prev });
        }
        if let Some(t) = target {
            self.entries[t as usize].resolution = Some(seq);
        }
        if let EntryKind::Pending {
            expires_at: Some(x),
        } = e.kind
        {
            self.open_expiring.push(seq);
            self.expiries.insert(seq, x);
        }
        if let Some(actor) = e.actor {
            self.actors.insert(seq, actor.clone());
        }
        if e.refs != References::default() {
            self.refs.insert(seq, e.refs);
        }
        self.entries.push(EntryRecord {
            id: [e.id.0 as u64, (e.id.0 >> 64) as u64],
            at: e.at,
            kind: stored_kind,
            code: e.code,
            start,
            len: len as u16,
            derived,
            resolution: None,
        });
        self.by_id.insert_at(slot, e.id, seq);
        if let Some(p) = e.refs.patient {
            self.by_ref
                .entry(Reference::Patient(p))
                .or_default()
                .push(seq);
        }
        if let Some(c) = e.refs.claim {
            self.by_ref
                .entry(Reference::Claim(c))
                .or_default()
                .push(seq);
        }
        if let Some(x) = e.refs.encounter {
            self.by_ref
                .entry(Reference::Encounter(x))
                .or_default()
                .push(seq);
        }
        self.last_at = Some(e.at);
        self.deltas = deltas;
        Ok(Applied {
            seq,
            replayed: false,
        })
    }

    /// Resolves the linked entry and fills `deltas`. Returns the linked entry's index.
    // Over 100 lines, not split: one match over entry kinds resolving the linked entry; the checks per kind sit together.
    fn build_deltas(
        &self,
        e: &NewEntry<'_>,
        deltas: &mut Vec<Delta>,
    ) -> Result<Option<u32>, Rejection> {
        let resolve_pending = |id: EntryId| -> Result<(u32, &EntryRecord), Rejection> {
            let t = self.by_id.get(id).ok_or(Rejection::PendingNotFound)?;
            let r = &self.entries[t as usize];
            let StoredKind::Pending = r.kind else {
                return Err(Rejection::NotPending);
            };
            let expires_at = self.expiries.get(&t);
            if r.resolution.is_some() {
                return Err(Rejection::PendingAlreadyResolved);
            }
            let expired = expires_at.is_some_and(|x| e.at >= *x);
            let is_expiry = matches!(e.kind, EntryKind::ExpirePending { .. });
            if expired != is_expiry {
                return Err(Rejection::PendingExpired);
            }
            Ok((t, r))
        };
        let check_open = |postings: &[Posting]| -> Result<(), Rejection> {
            for (i, p) in postings.iter().enumerate() {
                if self.hot[p.account.0 as usize].closed {
                    return Err(Rejection::AccountClosed { posting: i });
                }
            }
            Ok(())
        };
        let slice =
            |r: &EntryRecord| &self.postings[r.start as usize..r.start as usize + r.len as usize];
        match e.kind {
            EntryKind::Posted => {
                deltas.extend(e.postings.iter().map(|p| Delta {
                    account: p.account.0,
                    side: p.side,
                    posted_add: p.amount.amount_minor() as u64,
                    pending_add: 0,
                    pending_sub: 0,
                }));
                Ok(None)
            }
            EntryKind::Pending { .. } => {
                deltas.extend(e.postings.iter().map(|p| Delta {
                    account: p.account.0,
                    side: p.side,
                    posted_add: 0,
                    pending_add: p.amount.amount_minor() as u64,
                    pending_sub: 0,
                }));
                Ok(None)
            }
            EntryKind::PostPending { pending } => {
                let (t, r) = resolve_pending(pending)?;
                let held = slice(r);
                check_open(held)?;
                if e.postings.is_empty() {
                    deltas.extend(held.iter().map(|p| Delta {
                        account: p.account.0,
                        side: p.side,
                        posted_add: p.amount.amount_minor() as u64,
                        pending_add: 0,
                        pending_sub: p.amount.amount_minor() as u64,
                    }));
                } else {
                    if held.len() != e.postings.len() {
                        return Err(Rejection::PostingsDoNotMatchPending {
                            posting: held.len().min(e.postings.len()),
                        });
                    }
                    for (i, (h, p)) in held.iter().zip(e.postings).enumerate() {
                        if h.account != p.account || h.side != p.side {
                            return Err(Rejection::PostingsDoNotMatchPending { posting: i });
                        }
                        if p.amount.amount_minor() > h.amount.amount_minor() {
                            return Err(Rejection::PostExceedsPending { posting: i });
                        }
                        deltas.push(Delta {
                            account: p.account.0,
                            side: p.side,
                            posted_add: p.amount.amount_minor() as u64,
                            pending_add: 0,
                            pending_sub: h.amount.amount_minor() as u64,
                        });
                    }
                }
                Ok(Some(t))
            }
            EntryKind::VoidPending { pending } | EntryKind::ExpirePending { pending } => {
                let (t, r) = resolve_pending(pending)?;
                let held = slice(r);
                if matches!(e.kind, EntryKind::VoidPending { .. }) {
                    check_open(held)?;
                }
                deltas.extend(held.iter().map(|p| Delta {
                    account: p.account.0,
                    side: p.side,
                    posted_add: 0,
                    pending_add: 0,
                    pending_sub: p.amount.amount_minor() as u64,
                }));
                Ok(Some(t))
            }
            EntryKind::Reversal { of } => {
                let t = self.by_id.get(of).ok_or(Rejection::OriginalNotFound)?;
                let r = &self.entries[t as usize];
                if !matches!(r.kind, StoredKind::Posted | StoredKind::PostPending { .. }) {
                    return Err(Rejection::NotReversible);
                }
                if r.resolution.is_some() {
                    return Err(Rejection::AlreadyReversed);
                }
                let orig = slice(r);
                check_open(orig)?;
                deltas.extend(orig.iter().map(|p| Delta {
                    account: p.account.0,
                    side: p.side.flip(),
                    posted_add: p.amount.amount_minor() as u64,
                    pending_add: 0,
                    pending_sub: 0,
                }));
                Ok(Some(t))
            }
        }
    }

    /// Computes new counters for every touched account, checking overflow and limits.
    fn check_deltas(&mut self, deltas: &[Delta]) -> Result<Vec<(u32, Balances)>, Rejection> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let result = (|| {
            for (i, d) in deltas.iter().enumerate() {
                let slot = match scratch.iter().position(|s| s.0 == d.account) {
                    Some(k) => k,
                    None => {
                        scratch.push((d.account, self.hot[d.account as usize].balances));
                        scratch.len() - 1
                    }
                };
                let b = &mut scratch[slot].1;
                let over = Rejection::Overflow { posting: i };
                let (posted, pending) = match d.side {
                    Side::Debit => (&mut b.debits_posted, &mut b.debits_pending),
                    Side::Credit => (&mut b.credits_posted, &mut b.credits_pending),
                };
                *posted = posted
                    .checked_add(d.posted_add)
                    .filter(|v| *v <= COUNTER_MAX)
                    .ok_or(over.clone())?;
                *pending = pending
                    .checked_add(d.pending_add)
                    .and_then(|v| v.checked_sub(d.pending_sub))
                    .filter(|v| *v <= COUNTER_MAX)
                    .ok_or(over)?;
            }
            for (i, d) in deltas.iter().enumerate() {
                let grows = d.posted_add + d.pending_add > d.pending_sub;
                if !grows {
                    continue;
                }
                let a = &self.hot[d.account as usize];
                let Some(b) = scratch.iter().find(|s| s.0 == d.account).map(|s| s.1) else {
                    continue;
                };
                let broken = match (a.limit, d.side) {
                    (AccountLimit::DebitsMustNotExceedCredits, Side::Debit) => {
                        u128::from(b.debits_posted) + u128::from(b.debits_pending)
                            > u128::from(b.credits_posted)
                    }
                    (AccountLimit::CreditsMustNotExceedDebits, Side::Credit) => {
                        u128::from(b.credits_posted) + u128::from(b.credits_pending)
                            > u128::from(b.debits_posted)
                    }
                    _ => false,
                };
                if broken {
                    return Err(Rejection::WouldExceedLimit { posting: i });
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(scratch),
            Err(r) => {
                self.scratch = scratch;
                Err(r)
            }
        }
    }

    /// Every operation in order: openings, closings and entries.
    pub(crate) fn ops(&self) -> Vec<Op> {
        let mut out = Vec::with_capacity(self.entries.len() + self.account_ops.len());
        let mut next = 0u32;
        for &(before, op) in &self.account_ops {
            while next < before {
                out.push(Op::Entry(next));
                next += 1;
            }
            out.push(op);
        }
        while (next as usize) < self.entries.len() {
            out.push(Op::Entry(next));
            next += 1;
        }
        out
    }

    /// Rebuilds the request that produced entry `seq` (for the journal).
    pub(crate) fn request(&self, seq: u32) -> NewEntry<'_> {
        let v = self.view(seq);
        NewEntry {
            id: v.id,
            at: v.at,
            kind: v.kind,
            postings: if v.derived { &[] } else { v.postings },
            refs: v.refs,
            code: v.code,
            actor: v.actor,
        }
    }
}

fn apply_effect(b: &mut Balances, side: Side, (posted, add, sub): (u64, u64, u64)) {
    let (p, q) = match side {
        Side::Debit => (&mut b.debits_posted, &mut b.debits_pending),
        Side::Credit => (&mut b.credits_posted, &mut b.credits_pending),
    };
    *p = p.saturating_add(posted);
    *q = q.saturating_add(add).saturating_sub(sub);
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn hot_records_stay_small() {
        // The apply path writes one entry record, two postings and two links per entry, and
        // reads one hot account record per posting; keep them compact.
        assert_eq!(std::mem::size_of::<EntryRecord>(), 56);
        assert_eq!(std::mem::size_of::<Hot>(), 40);
        assert_eq!(std::mem::size_of::<Posting>(), 24);
        assert_eq!(std::mem::size_of::<Link>(), 8);
        assert_eq!(std::mem::size_of::<Slot>(), 24);
    }
}
