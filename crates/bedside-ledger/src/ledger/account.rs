//! Accounts: their handles, kinds, owners, limits and specs, and their balances.

use crate::money::{Currency, Money};
use bedside_core::{AccountId, OrganisationId, PatientId};
use serde::{Deserialize, Serialize};

/// Dense handle of an account inside one [`Ledger`](super::Ledger) (its creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountIndex(pub(super) u32);

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

/// An account's state (a copy; see [`Ledger::account`](super::Ledger::account)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub(super) spec: AccountSpec,
    pub(super) closed: bool,
    pub(super) balances: Balances,
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

pub(super) fn normal_net(kind: AccountKind, debits: u64, credits: u64) -> i64 {
    // Both counters are at most i64::MAX (enforced on every write), so this cannot overflow.
    let d = debits as i64;
    let c = credits as i64;
    if kind.is_debit_normal() { d - c } else { c - d }
}

pub(super) fn balance_view(spec: &AccountSpec, b: Balances) -> AccountBalance {
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
