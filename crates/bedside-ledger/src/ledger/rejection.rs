//! Why the ledger refuses something: [`Rejection`] for entries, [`LedgerError`] for account
//! operations, and the [`EntryField`] an idempotent retry differs in.

use crate::money::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// Why an entry was rejected. Checked in the order documented in [module docs](super).
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
    /// Occurs when an entry has more than [`MAX_POSTINGS`](super::MAX_POSTINGS) postings.
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
    /// Occurs when the ledger already holds its entry limit ([`MAX_ENTRIES`](super::MAX_ENTRIES)
    /// or the lower limit it was given): start a new ledger.
    #[error("the ledger holds its limit of {limit} entries")]
    EntryLimitReached {
        /// The limit.
        limit: u32,
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
