//! Invariants of the ledger under arbitrary operation sequences.

use bedside_core::AccountId;
use bedside_ledger::{
    AccountIndex, AccountKind, AccountLimit, AccountOwner, AccountSpec, Currency, EntryId,
    EntryKind, Ledger, Money, NewEntry, Posting, replay,
};
use chrono::{DateTime, Utc};
use proptest::prelude::*;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap_or_default()
}

/// One step of a random workload.
#[derive(Debug, Clone)]
enum Op {
    Posted {
        legs: Vec<(u8, i64)>,
    },
    Pending {
        legs: Vec<(u8, i64)>,
        expires: Option<u8>,
    },
    Post {
        target: u8,
        partial: bool,
    },
    Void {
        target: u8,
    },
    Reverse {
        target: u8,
    },
    Retry {
        target: u8,
    },
    Expire,
    Advance {
        secs: u8,
    },
}

fn legs() -> impl Strategy<Value = Vec<(u8, i64)>> {
    proptest::collection::vec((0u8..6, 1i64..1_000_000), 1..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => legs().prop_map(|legs| Op::Posted { legs }),
        2 => (legs(), proptest::option::of(0u8..50)).prop_map(|(legs, expires)| Op::Pending { legs, expires }),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(target, partial)| Op::Post { target, partial }),
        1 => any::<u8>().prop_map(|target| Op::Void { target }),
        2 => any::<u8>().prop_map(|target| Op::Reverse { target }),
        2 => any::<u8>().prop_map(|target| Op::Retry { target }),
        1 => Just(Op::Expire),
        1 => (0u8..30).prop_map(|secs| Op::Advance { secs }),
    ]
}

fn setup() -> (Ledger, Vec<AccountIndex>) {
    let mut ledger = Ledger::new();
    let kinds = [
        (AccountKind::Asset, AccountLimit::None),
        (AccountKind::Asset, AccountLimit::None),
        (AccountKind::Revenue, AccountLimit::None),
        (AccountKind::ContraRevenue, AccountLimit::None),
        (
            AccountKind::Liability,
            AccountLimit::DebitsMustNotExceedCredits,
        ),
        (AccountKind::Asset, AccountLimit::CreditsMustNotExceedDebits),
    ];
    let accounts = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, (kind, limit))| {
            ledger
                .create_account(
                    AccountSpec::new(
                        AccountId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1)),
                        *kind,
                        Currency::USD,
                        AccountOwner::Clinic,
                    )
                    .with_limit(*limit),
                )
                .ok()
        })
        .collect();
    (ledger, accounts)
}

/// Balanced postings: every leg is debited to its account and credited to the next one.
fn postings(accounts: &[AccountIndex], legs: &[(u8, i64)]) -> Vec<Posting> {
    let mut out = Vec::new();
    for &(a, amount) in legs {
        let from = accounts[a as usize % accounts.len()];
        let to = accounts[(a as usize + 1) % accounts.len()];
        out.push(Posting::debit(from, Money::new(amount, Currency::USD)));
        out.push(Posting::credit(to, Money::new(amount, Currency::USD)));
    }
    out
}

/// Runs the workload, returning the ledger and the requests that were accepted.
fn run(ops: &[Op]) -> Ledger {
    let (mut ledger, accounts) = setup();
    let mut now = 0i64;
    let mut applied: Vec<(EntryId, Vec<Posting>, EntryKind)> = Vec::new();
    let pick = |applied: &Vec<(EntryId, Vec<Posting>, EntryKind)>, t: u8| {
        if applied.is_empty() {
            None
        } else {
            Some(applied[t as usize % applied.len()].clone())
        }
    };
    for (next, op) in (1u128..).zip(ops.iter()) {
        let id = EntryId::new(next);
        let (postings, kind) = match op {
            Op::Posted { legs } => (postings(&accounts, legs), EntryKind::Posted),
            Op::Pending { legs, expires } => (
                postings(&accounts, legs),
                EntryKind::Pending {
                    expires_at: expires.map(|e| t(now + i64::from(e))),
                },
            ),
            Op::Post { target, partial } => {
                let Some((pending, held, _)) = pick(&applied, *target) else {
                    continue;
                };
                let p = if *partial {
                    held.iter()
                        .map(|p| Posting {
                            amount: Money::new((p.amount.amount_minor() + 1) / 2, Currency::USD),
                            ..*p
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                (p, EntryKind::PostPending { pending })
            }
            Op::Void { target } => {
                let Some((pending, _, _)) = pick(&applied, *target) else {
                    continue;
                };
                (Vec::new(), EntryKind::VoidPending { pending })
            }
            Op::Reverse { target } => {
                let Some((of, _, _)) = pick(&applied, *target) else {
                    continue;
                };
                (Vec::new(), EntryKind::Reversal { of })
            }
            Op::Retry { target } => {
                let Some((old, p, kind)) = pick(&applied, *target) else {
                    continue;
                };
                let before = ledger.clone();
                let e = NewEntry {
                    postings: &p,
                    ..NewEntry::linked(old, t(now), kind)
                };
                let out = ledger.apply(&e);
                assert!(
                    out.map(|a| a.replayed).unwrap_or(false),
                    "retry must replay"
                );
                assert_eq!(ledger, before, "retry must change nothing");
                continue;
            }
            Op::Expire => {
                ledger.expire_pending(t(now));
                continue;
            }
            Op::Advance { secs } => {
                now += i64::from(*secs);
                continue;
            }
        };
        let e = NewEntry {
            postings: &postings,
            ..NewEntry::linked(id, t(now), kind)
        };
        let before = ledger.clone();
        match ledger.apply(&e) {
            Ok(_) => applied.push((id, postings, kind)),
            Err(_) => assert_eq!(ledger, before, "a rejected entry must change nothing"),
        }
    }
    ledger
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn trial_balance_is_zero_and_replay_reproduces(ops in proptest::collection::vec(op(), 1..60)) {
        let ledger = run(&ops);
        prop_assert!(ledger.trial_balance().is_zero());
        let mut log = Vec::new();
        ledger.write_journal(&mut log);
        let r = replay(&log);
        prop_assert_eq!(r.stopped, None);
        prop_assert_eq!(&r.ledger, &ledger);
    }

    #[test]
    fn reversal_restores_every_balance(
        ops in proptest::collection::vec(op(), 0..30),
        legs in legs(),
    ) {
        let mut ledger = run(&ops);
        let (_, accounts) = setup();
        let before: Vec<_> = accounts.iter().map(|a| ledger.balance(*a).map(|b| b.posted)).collect();
        let p = postings(&accounts, &legs);
        let at = ledger.entries().last().map(|e| e.at).unwrap_or(t(0));
        let id = EntryId::new(u128::MAX - 1);
        if ledger.apply(&NewEntry::posted(id, at, &p)).is_ok() {
            let rev = NewEntry::linked(EntryId::new(u128::MAX), at, EntryKind::Reversal { of: id });
            prop_assert!(ledger.apply(&rev).is_ok());
            let after: Vec<_> = accounts.iter().map(|a| ledger.balance(*a).map(|b| b.posted)).collect();
            prop_assert_eq!(before, after);
        }
    }
}
