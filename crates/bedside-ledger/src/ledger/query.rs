//! Reading the ledger: entry views, references, balances (current and as of an instant),
//! account histories and the trial balance.

use super::{
    AccountBalance, AccountIndex, Balances, EntryId, EntryKind, Ledger, NONE, Posting, References,
    Side, StoredKind, apply_effect, balance_view,
};
use crate::money::{Currency, Money};
use bedside_core::{Actor, ClaimId, EncounterId, PatientId, Timestamp};

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
    /// Who applied it, when the request named an actor (the audit field).
    pub actor: Option<&'a Actor>,
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

impl Ledger {
    pub(super) fn view(&self, seq: u32) -> EntryView<'_> {
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
            actor: self.actors.get(&seq),
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
}
