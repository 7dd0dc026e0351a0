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
//! 3. the kind may be submitted ([`Rejection::InvalidKind`]) and the posting count fits it
//!    ([`Rejection::TooFewPostings`], [`Rejection::TooManyPostings`],
//!    [`Rejection::UnexpectedPostings`]);
//! 4. each posting in order: account exists, amount positive, currency matches the account,
//!    account open ([`Rejection::UnknownAccount`], [`Rejection::NonPositiveAmount`],
//!    [`Rejection::CurrencyMismatch`], [`Rejection::AccountClosed`]);
//! 5. debits equal credits per currency ([`Rejection::Unbalanced`]);
//! 6. the timestamp does not go backwards ([`Rejection::TimestampRegressed`]);
//! 7. the referenced pending or original entry: found, of the right kind, unresolved, not
//!    expired, matching shape, not exceeded ([`Rejection::PendingNotFound`] …
//!    [`Rejection::AlreadyReversed`]), and the accounts it touches are open;
//! 8. no balance counter overflows ([`Rejection::Overflow`]);
//! 9. account limits hold ([`Rejection::WouldExceedLimit`]).
//!
//! Rejected entries are not recorded, so a corrected retry with the same id is evaluated fresh.

use crate::money::{Currency, Money};
use bedside_core::{AccountId, ClaimId, EncounterId, OrganisationId, PatientId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// Most postings one entry may carry.
pub const MAX_POSTINGS: usize = 32;

/// Largest value a balance counter may reach (so net balances always fit in `i64`).
const COUNTER_MAX: u64 = i64::MAX as u64;

/// A fast, non-cryptographic hasher for 128-bit entry ids. Ids come from the clinic's own
/// systems, so hash flooding is not in the threat model.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ (z >> 33)
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = mix64(self.0 ^ u64::from_le_bytes(b));
        }
    }
    fn write_u128(&mut self, v: u128) {
        let x = (v as u64) ^ ((v >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The low bits pick the bucket, so time-ordered or sequential ids fill neighbouring
        // buckets (cache-friendly inserts and lookups); the top seven bits, which the table
        // uses as a tag while probing, come from a full mix so probes stay selective.
        const LOW: u64 = u64::MAX >> 7;
        self.0 = (x & LOW) | (mix64(x) & !LOW);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = mix64(self.0 ^ v);
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = mix64(self.0 ^ u64::from(v));
    }
    fn write_u8(&mut self, v: u8) {
        self.0 = mix64(self.0 ^ u64::from(v));
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// One slot of the [`IdTable`]. `seq == NONE` marks an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    key: [u64; 2],
    seq: u32,
}

const EMPTY_SLOT: Slot = Slot {
    key: [0, 0],
    seq: u32::MAX,
};

/// The idempotency index: an open-addressing table (linear probing, load at most one half)
/// from entry id to entry position. Lookup and insert share one probe: [`IdTable::find`]
/// returns either the entry or the empty slot where it goes. Buckets keep the order of the
/// ids' low bits, so sequential or time-ordered ids fill neighbouring slots (every other one)
/// and the table is written and read almost sequentially.
#[derive(Debug, Clone, Default)]
struct IdTable {
    slots: Vec<Slot>,
    len: usize,
}

impl IdTable {
    fn with_capacity(entries: usize) -> Self {
        let cap = entries.saturating_mul(2).next_power_of_two().max(16);
        // `vec![EMPTY_SLOT; cap]` writes every slot, so the memory is faulted in up front
        // (like TigerBeetle's static allocation) rather than on the hot path.
        Self {
            slots: vec![EMPTY_SLOT; cap],
            len: 0,
        }
    }

    fn key(id: EntryId) -> [u64; 2] {
        [id.0 as u64, (id.0 >> 64) as u64]
    }

    fn home(key: [u64; 2], mask: usize) -> usize {
        // Fold each half onto itself so ids that vary only in high bits still vary in low
        // bits; consecutive ids keep consecutive values. Neighbouring ids then go to every
        // other slot: dense runs would leave no room for a displaced key and make probes long.
        let fold = |v: u64| v ^ v.rotate_right(32);
        let x = fold(key[0]) ^ fold(key[1].wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (x << 1) as usize & mask
    }

    /// `Ok(seq)` when the id is present, else `Err(slot)` for [`IdTable::insert_at`].
    fn find(&self, id: EntryId) -> Result<u32, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let key = Self::key(id);
        let mask = self.slots.len() - 1;
        let mut i = Self::home(key, mask);
        loop {
            let s = self.slots[i];
            if s.seq == NONE {
                return Err(i);
            }
            if s.key == key {
                return Ok(s.seq);
            }
            i = (i + 1) & mask;
        }
    }

    fn get(&self, id: EntryId) -> Option<u32> {
        self.find(id).ok()
    }

    /// Inserts at the slot `find` returned (re-probing after growth).
    fn insert_at(&mut self, slot: usize, id: EntryId, seq: u32) {
        if slot == usize::MAX || (self.len + 1) * 2 > self.slots.len() {
            self.grow();
            if let Err(s) = self.find(id) {
                self.slots[s] = Slot {
                    key: Self::key(id),
                    seq,
                };
                self.len += 1;
            }
            return;
        }
        self.slots[slot] = Slot {
            key: Self::key(id),
            seq,
        };
        self.len += 1;
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s.seq != NONE) {
            let mut i = Self::home(s.key, mask);
            while self.slots[i].seq != NONE {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

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

/// Dense handle of an account inside one [`Ledger`] (its creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountIndex(u32);

impl AccountIndex {
    /// Wraps a raw index (used by codecs and tests).
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw index.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// What an account represents in the chart of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Something owed to the clinic or held by it (receivables, cash).
    Asset,
    /// Something the clinic owes (patient credit balances, refunds due).
    Liability,
    /// Income from services (gross charges).
    Revenue,
    /// Reductions of revenue (contractual write-offs, adjustments).
    ContraRevenue,
    /// Costs (bad debt, bank fees).
    Expense,
}

impl AccountKind {
    /// Whether the kind's balance grows with debits (asset, expense, contra-revenue).
    pub fn is_debit_normal(self) -> bool {
        matches!(
            self,
            AccountKind::Asset | AccountKind::Expense | AccountKind::ContraRevenue
        )
    }
    fn code(self) -> u8 {
        match self {
            AccountKind::Asset => 0,
            AccountKind::Liability => 1,
            AccountKind::Revenue => 2,
            AccountKind::ContraRevenue => 3,
            AccountKind::Expense => 4,
        }
    }
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => AccountKind::Asset,
            1 => AccountKind::Liability,
            2 => AccountKind::Revenue,
            3 => AccountKind::ContraRevenue,
            4 => AccountKind::Expense,
            _ => return None,
        })
    }
}

/// Who an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum AccountOwner {
    /// The patient (as guarantor of their own bill).
    Guarantor(PatientId),
    /// An insurer or other payer organisation.
    Payer(OrganisationId),
    /// The clinic itself.
    Clinic,
}

/// An optional balance constraint, checked on posted plus pending amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountLimit {
    /// No constraint.
    None,
    /// Debits (posted + pending) must not exceed posted credits.
    DebitsMustNotExceedCredits,
    /// Credits (posted + pending) must not exceed posted debits.
    CreditsMustNotExceedDebits,
}

impl AccountLimit {
    fn code(self) -> u8 {
        match self {
            AccountLimit::None => 0,
            AccountLimit::DebitsMustNotExceedCredits => 1,
            AccountLimit::CreditsMustNotExceedDebits => 2,
        }
    }
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => AccountLimit::None,
            1 => AccountLimit::DebitsMustNotExceedCredits,
            2 => AccountLimit::CreditsMustNotExceedDebits,
            _ => return None,
        })
    }
}

/// Everything needed to open an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Stable id.
    pub id: AccountId,
    /// Kind in the chart of accounts.
    pub kind: AccountKind,
    /// The one currency the account holds.
    pub currency: Currency,
    /// Owner.
    pub owner: AccountOwner,
    /// Balance constraint.
    pub limit: AccountLimit,
    /// Free purpose code for reporting (see [`crate::chart`]).
    pub code: u16,
}

impl AccountSpec {
    /// A spec with no limit and code 0.
    pub fn new(id: AccountId, kind: AccountKind, currency: Currency, owner: AccountOwner) -> Self {
        Self {
            id,
            kind,
            currency,
            owner,
            limit: AccountLimit::None,
            code: 0,
        }
    }

    /// Sets the limit.
    pub fn with_limit(mut self, limit: AccountLimit) -> Self {
        self.limit = limit;
        self
    }

    /// Sets the purpose code.
    pub fn with_code(mut self, code: u16) -> Self {
        self.code = code;
        self
    }

    pub(crate) fn encode_parts(&self) -> (u8, u8) {
        (self.kind.code(), self.limit.code())
    }

    pub(crate) fn decode_parts(kind: u8, limit: u8) -> Option<(AccountKind, AccountLimit)> {
        Some((
            AccountKind::from_code(kind)?,
            AccountLimit::from_code(limit)?,
        ))
    }
}

/// The four balance counters of an account, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Balances {
    /// Sum of posted debits.
    pub debits_posted: u64,
    /// Sum of posted credits.
    pub credits_posted: u64,
    /// Sum of debits held pending.
    pub debits_pending: u64,
    /// Sum of credits held pending.
    pub credits_pending: u64,
}

/// An account's state (a copy; see [`Ledger::account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    spec: AccountSpec,
    closed: bool,
    balances: Balances,
}

impl Account {
    /// The spec it was opened with.
    pub fn spec(&self) -> &AccountSpec {
        &self.spec
    }
    /// Whether the account is closed to new postings.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
    /// Raw counters.
    pub fn balances(&self) -> Balances {
        self.balances
    }
}

/// A balance seen from the account's normal side (debit-normal kinds are positive when debits
/// exceed credits; credit-normal kinds the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBalance {
    /// Posted balance.
    pub posted: Money,
    /// Net pending holds (what posting every open hold would add).
    pub pending: Money,
    /// The raw counters.
    pub counters: Balances,
}

fn normal_net(kind: AccountKind, debits: u64, credits: u64) -> i64 {
    // Both counters are at most i64::MAX (enforced on every write), so this cannot overflow.
    let d = debits as i64;
    let c = credits as i64;
    if kind.is_debit_normal() { d - c } else { c - d }
}

fn balance_view(spec: &AccountSpec, b: Balances) -> AccountBalance {
    AccountBalance {
        posted: Money::new(
            normal_net(spec.kind, b.debits_posted, b.credits_posted),
            spec.currency,
        ),
        pending: Money::new(
            normal_net(spec.kind, b.debits_pending, b.credits_pending),
            spec.currency,
        ),
        counters: b,
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

    /// Sets the kind.
    pub fn with_kind(mut self, kind: EntryKind) -> Self {
        self.kind = kind;
        self
    }
}

/// A field of an entry, named when an idempotent retry differs from the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field", content = "index")]
pub enum EntryField {
    /// The kind (including linked ids and expiry).
    Kind,
    /// The purpose code.
    Code,
    /// The patient reference.
    Patient,
    /// The claim reference.
    Claim,
    /// The encounter reference.
    Encounter,
    /// The number of postings.
    PostingCount,
    /// A posting's account.
    PostingAccount(usize),
    /// A posting's side.
    PostingSide(usize),
    /// A posting's amount or currency.
    PostingAmount(usize),
}

impl fmt::Display for EntryField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryField::Kind => f.write_str("kind"),
            EntryField::Code => f.write_str("code"),
            EntryField::Patient => f.write_str("refs.patient"),
            EntryField::Claim => f.write_str("refs.claim"),
            EntryField::Encounter => f.write_str("refs.encounter"),
            EntryField::PostingCount => f.write_str("postings.len"),
            EntryField::PostingAccount(i) => write!(f, "postings[{i}].account"),
            EntryField::PostingSide(i) => write!(f, "postings[{i}].side"),
            EntryField::PostingAmount(i) => write!(f, "postings[{i}].amount"),
        }
    }
}

/// Why an entry was rejected. Checked in the order documented in [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Rejection {
    /// Occurs when the entry id is zero.
    #[error("entry id must not be zero")]
    ZeroId,
    /// Occurs when an id is reused with different content.
    #[error("duplicate entry id with different content in `{field}`")]
    DuplicateIdDifferentContent {
        /// The first field that differs.
        field: EntryField,
    },
    /// Occurs when a client submits a kind only the ledger may write (expiry).
    #[error("entry kind may not be submitted by clients")]
    InvalidKind,
    /// Occurs when an entry has fewer than two postings.
    #[error("entry needs at least two postings")]
    TooFewPostings,
    /// Occurs when an entry has more than [`MAX_POSTINGS`] postings.
    #[error("entry has more than the maximum number of postings")]
    TooManyPostings,
    /// Occurs when a void or reversal carries postings.
    #[error("void and reversal entries carry no postings")]
    UnexpectedPostings,
    /// Occurs when a posting names an account that does not exist.
    #[error("posting {posting} names an unknown account")]
    UnknownAccount {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when a posting amount is zero or negative.
    #[error("posting {posting} amount must be positive")]
    NonPositiveAmount {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when a posting's currency differs from its account's.
    #[error("posting {posting} currency differs from the account currency")]
    CurrencyMismatch {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when a posting (or a linked entry's posting) touches a closed account.
    #[error("posting {posting} touches a closed account")]
    AccountClosed {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when debits and credits differ in a currency.
    #[error("debits and credits differ in `{currency}`")]
    Unbalanced {
        /// The unbalanced currency.
        currency: Currency,
    },
    /// Occurs when the entry's instant is before the last applied entry's.
    #[error("entry timestamp is before the last applied entry")]
    TimestampRegressed,
    /// Occurs when the linked pending entry does not exist.
    #[error("pending entry not found")]
    PendingNotFound,
    /// Occurs when the linked entry is not a pending hold.
    #[error("linked entry is not pending")]
    NotPending,
    /// Occurs when the pending hold was already posted, voided or expired.
    #[error("pending entry already resolved")]
    PendingAlreadyResolved,
    /// Occurs when the pending hold's expiry has passed (or, for expiry, has not yet come).
    #[error("pending entry expired")]
    PendingExpired,
    /// Occurs when a partial post's postings do not match the hold's accounts and sides.
    #[error("posting {posting} does not match the pending entry")]
    PostingsDoNotMatchPending {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when a partial post asks for more than was held.
    #[error("posting {posting} exceeds the pending amount")]
    PostExceedsPending {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when the entry to reverse does not exist.
    #[error("original entry not found")]
    OriginalNotFound,
    /// Occurs when the entry to reverse is a hold, void, expiry or reversal.
    #[error("entry kind cannot be reversed")]
    NotReversible,
    /// Occurs when the entry was already reversed.
    #[error("entry already reversed")]
    AlreadyReversed,
    /// Occurs when a balance counter would exceed `i64::MAX` minor units.
    #[error("posting {posting} would overflow a balance")]
    Overflow {
        /// Posting index.
        posting: usize,
    },
    /// Occurs when an account's limit would be broken.
    #[error("posting {posting} would exceed the account limit")]
    WouldExceedLimit {
        /// Posting index.
        posting: usize,
    },
}

/// Errors of account operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Occurs when an account id exists with a different spec.
    #[error("account already exists with a different spec")]
    AccountExists,
    /// Occurs when an account index or id is unknown.
    #[error("unknown account")]
    UnknownAccount,
    /// Occurs when closing an account that still has pending holds.
    #[error("account has pending holds")]
    PendingOnClose,
    /// Occurs when the account is already closed.
    #[error("account already closed")]
    AlreadyClosed,
    /// Occurs when the account table is full (`u32::MAX` accounts).
    #[error("too many accounts")]
    TooManyAccounts,
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

/// A read-only view of an applied entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryView<'a> {
    /// Position in the ledger.
    pub seq: u32,
    /// Id.
    pub id: EntryId,
    /// Timestamp.
    pub at: Timestamp,
    /// Kind.
    pub kind: EntryKind,
    /// Effective postings (for voids and expiries: the released holds; for reversals: the
    /// swapped postings).
    pub postings: &'a [Posting],
    /// Whether the request carried no postings (they were derived from the linked entry).
    pub derived: bool,
    /// References.
    pub refs: References,
    /// Purpose code.
    pub code: u16,
    /// The entry that resolved this hold or reversed this entry.
    pub resolved_by: Option<EntryId>,
}

/// One line of an account history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLine {
    /// The entry.
    pub entry: EntryId,
    /// Timestamp.
    pub at: Timestamp,
    /// Kind of the entry.
    pub kind: EntryKind,
    /// Side of the posting on this account.
    pub side: Side,
    /// Posting amount.
    pub amount: Money,
    /// Running balance after the line.
    pub balance: AccountBalance,
}

/// One currency of the trial balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialLine {
    /// Currency.
    pub currency: Currency,
    /// Σ posted debits over all accounts.
    pub debits_posted: u128,
    /// Σ posted credits.
    pub credits_posted: u128,
    /// Σ pending debits.
    pub debits_pending: u128,
    /// Σ pending credits.
    pub credits_pending: u128,
}

/// The trial balance: per currency, debits equal credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalance {
    /// One line per currency, sorted by code.
    pub lines: Vec<TrialLine>,
}

impl TrialBalance {
    /// Whether every currency balances (posted and pending).
    pub fn is_zero(&self) -> bool {
        self.lines
            .iter()
            .all(|l| l.debits_posted == l.credits_posted && l.debits_pending == l.credits_pending)
    }
}

/// A reference to query entries by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference {
    /// By patient.
    Patient(PatientId),
    /// By claim.
    Claim(ClaimId),
    /// By encounter.
    Encounter(EncounterId),
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
            if net != 0 {
                if let Some(currency) = first {
                    return Err(Rejection::Unbalanced { currency });
                }
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

    fn apply_new(&mut self, e: &NewEntry<'_>, slot: usize) -> Result<Applied, Rejection> {
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
        if let Some(last) = self.last_at {
            if e.at < last {
                return Err(Rejection::TimestampRegressed);
            }
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

    fn view(&self, seq: u32) -> EntryView<'_> {
        let r = &self.entries[seq as usize];
        EntryView {
            seq,
            id: r.id(),
            at: r.at,
            kind: self.public_kind(seq),
            postings: &self.postings[r.start as usize..r.start as usize + r.len as usize],
            derived: r.derived,
            refs: self.refs.get(&seq).copied().unwrap_or_default(),
            code: r.code,
            resolved_by: r.resolution.map(|i| self.entries[i as usize].id()),
        }
    }

    /// The entry with an id.
    pub fn entry(&self, id: EntryId) -> Option<EntryView<'_>> {
        self.by_id.get(id).map(|s| self.view(s))
    }

    /// All entries in order.
    pub fn entries(&self) -> impl Iterator<Item = EntryView<'_>> + '_ {
        (0..self.entries.len() as u32).map(|s| self.view(s))
    }

    /// Entries carrying a reference, in order.
    pub fn entries_by_reference(&self, reference: Reference) -> Vec<EntryView<'_>> {
        self.by_ref
            .get(&reference)
            .map(|v| v.iter().map(|&s| self.view(s)).collect())
            .unwrap_or_default()
    }

    /// The current balance of an account.
    pub fn balance(&self, account: AccountIndex) -> Option<AccountBalance> {
        let i = account.0 as usize;
        Some(balance_view(self.specs.get(i)?, self.hot.get(i)?.balances))
    }

    /// How one stored posting changes counters: (posted_add, pending_add, pending_sub).
    fn effect(&self, j: u32) -> (u64, u64, u64) {
        let seq = self.links[j as usize].entry;
        let r = &self.entries[seq as usize];
        let amount = self.postings[j as usize].amount.amount_minor() as u64;
        let held = |t: u32| {
            let tr = &self.entries[t as usize];
            let k = tr.start + (j - r.start);
            self.postings[k as usize].amount.amount_minor() as u64
        };
        match r.kind {
            StoredKind::Posted | StoredKind::Reversal { .. } => (amount, 0, 0),
            StoredKind::Pending => (0, amount, 0),
            StoredKind::PostPending { pending } => (amount, 0, held(pending)),
            StoredKind::VoidPending { .. } | StoredKind::ExpirePending { .. } => (0, 0, amount),
        }
    }

    /// Stored posting indices of an account, oldest first.
    fn account_postings(&self, account: AccountIndex) -> Vec<u32> {
        let mut out = Vec::new();
        let mut j = self
            .last_posting
            .get(account.0 as usize)
            .copied()
            .unwrap_or(NONE);
        while j != NONE {
            out.push(j);
            j = self.links[j as usize].prev;
        }
        out.reverse();
        out
    }

    /// The balance of an account including only entries at or before `at`.
    pub fn balance_as_of(&self, account: AccountIndex, at: Timestamp) -> Option<AccountBalance> {
        let a = self.specs.get(account.0 as usize)?;
        let mut b = Balances::default();
        for j in self.account_postings(account) {
            let seq = self.links[j as usize].entry;
            if self.entries[seq as usize].at > at {
                break;
            }
            apply_effect(&mut b, self.postings[j as usize].side, self.effect(j));
        }
        Some(balance_view(a, b))
    }

    /// The account's postings in order with the running balance after each.
    pub fn history(&self, account: AccountIndex) -> Vec<HistoryLine> {
        let Some(a) = self.specs.get(account.0 as usize) else {
            return Vec::new();
        };
        let mut b = Balances::default();
        let indices = self.account_postings(account);
        let mut out = Vec::with_capacity(indices.len());
        for j in indices {
            let seq = self.links[j as usize].entry;
            let r = &self.entries[seq as usize];
            let p = self.postings[j as usize];
            apply_effect(&mut b, p.side, self.effect(j));
            out.push(HistoryLine {
                entry: r.id(),
                at: r.at,
                kind: self.public_kind(seq),
                side: p.side,
                amount: p.amount,
                balance: balance_view(a, b),
            });
        }
        out
    }

    /// Posted postings of an account at or before `at`, as (instant, signed normal-side amount).
    /// Used by aging.
    pub fn posted_movements(&self, account: AccountIndex, at: Timestamp) -> Vec<(Timestamp, i64)> {
        let Some(a) = self.specs.get(account.0 as usize) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for j in self.account_postings(account) {
            let seq = self.links[j as usize].entry;
            let r = &self.entries[seq as usize];
            if r.at > at {
                break;
            }
            let (posted, _, _) = self.effect(j);
            if posted == 0 {
                continue;
            }
            let p = self.postings[j as usize];
            let v = posted as i64;
            let normal = (p.side == Side::Debit) == a.kind.is_debit_normal();
            out.push((r.at, if normal { v } else { -v }));
        }
        out
    }

    /// The trial balance over all accounts.
    pub fn trial_balance(&self) -> TrialBalance {
        let mut lines: Vec<TrialLine> = Vec::new();
        for a in &self.hot {
            let c = a.currency;
            let idx = match lines.iter().position(|l| l.currency == c) {
                Some(i) => i,
                None => {
                    lines.push(TrialLine {
                        currency: c,
                        debits_posted: 0,
                        credits_posted: 0,
                        debits_pending: 0,
                        credits_pending: 0,
                    });
                    lines.len() - 1
                }
            };
            let l = &mut lines[idx];
            l.debits_posted += u128::from(a.balances.debits_posted);
            l.credits_posted += u128::from(a.balances.credits_posted);
            l.debits_pending += u128::from(a.balances.debits_pending);
            l.credits_pending += u128::from(a.balances.credits_pending);
        }
        lines.sort_by(|a, b| a.currency.code().cmp(b.currency.code()));
        TrialBalance { lines }
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
