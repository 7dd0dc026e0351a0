//! Behaviour of the double-entry core and its journal.

use bedside_core::{AccountId, ClaimId, PatientId};
use bedside_ledger::codec::{encode_entry, replay};
use bedside_ledger::{
    AccountIndex, AccountKind, AccountLimit, AccountOwner, AccountSpec, Currency, EntryField,
    EntryId, EntryKind, JournalError, Ledger, Money, NewEntry, Posting, Reference, References,
    Rejection, Side,
};
use chrono::{DateTime, TimeDelta, Utc};

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap_or_default()
}

fn usd(m: i64) -> Money {
    Money::new(m, Currency::USD)
}

fn uuid(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

struct Fixture {
    ledger: Ledger,
    cash: AccountIndex,
    receivable: AccountIndex,
    revenue: AccountIndex,
    limited: AccountIndex,
    euro: AccountIndex,
}

fn fixture() -> Fixture {
    let mut ledger = Ledger::new();
    let mut open = |n: u128, kind, currency, limit| {
        ledger
            .create_account(
                AccountSpec::new(
                    AccountId::from_uuid(uuid(n)),
                    kind,
                    currency,
                    AccountOwner::Clinic,
                )
                .with_limit(limit),
            )
            .unwrap_or(AccountIndex::new(u32::MAX))
    };
    let cash = open(1, AccountKind::Asset, Currency::USD, AccountLimit::None);
    let receivable = open(2, AccountKind::Asset, Currency::USD, AccountLimit::None);
    let revenue = open(3, AccountKind::Revenue, Currency::USD, AccountLimit::None);
    let limited = open(
        4,
        AccountKind::Liability,
        Currency::USD,
        AccountLimit::DebitsMustNotExceedCredits,
    );
    let euro = open(5, AccountKind::Asset, Currency::EUR, AccountLimit::None);
    Fixture {
        ledger,
        cash,
        receivable,
        revenue,
        limited,
        euro,
    }
}

fn id(n: u128) -> EntryId {
    EntryId::new(n)
}

#[test]
fn posted_entry_moves_balances_and_trial_balance_stays_zero() {
    let mut f = fixture();
    let p = [
        Posting::debit(f.receivable, usd(15_000)),
        Posting::credit(f.revenue, usd(15_000)),
    ];
    let out = f.ledger.apply(&NewEntry::posted(id(1), t(0), &p));
    assert_eq!(out.map(|a| a.replayed), Ok(false));
    assert_eq!(
        f.ledger.balance(f.receivable).map(|b| b.posted),
        Some(usd(15_000))
    );
    assert_eq!(
        f.ledger.balance(f.revenue).map(|b| b.posted),
        Some(usd(15_000))
    );
    assert!(f.ledger.trial_balance().is_zero());
}

#[test]
fn rejections_are_typed_and_change_nothing() {
    let mut f = fixture();
    let before = f.ledger.clone();
    let closed = {
        let i = f.ledger.create_account(AccountSpec::new(
            AccountId::from_uuid(uuid(9)),
            AccountKind::Asset,
            Currency::USD,
            AccountOwner::Clinic,
        ));
        let i = i.unwrap_or(AccountIndex::new(0));
        assert_eq!(f.ledger.close_account(i), Ok(()));
        i
    };
    let cases: Vec<(Vec<Posting>, Rejection)> = vec![
        (
            vec![Posting::debit(f.cash, usd(1))],
            Rejection::TooFewPostings,
        ),
        (
            vec![
                Posting::debit(f.cash, usd(1)),
                Posting::credit(AccountIndex::new(99), usd(1)),
            ],
            Rejection::UnknownAccount { posting: 1 },
        ),
        (
            vec![
                Posting::debit(f.cash, usd(0)),
                Posting::credit(f.revenue, usd(0)),
            ],
            Rejection::NonPositiveAmount { posting: 0 },
        ),
        (
            vec![
                Posting::debit(f.cash, usd(5)),
                Posting::credit(f.euro, usd(5)),
            ],
            Rejection::CurrencyMismatch { posting: 1 },
        ),
        (
            vec![
                Posting::debit(closed, usd(5)),
                Posting::credit(f.revenue, usd(5)),
            ],
            Rejection::AccountClosed { posting: 0 },
        ),
        (
            vec![
                Posting::debit(f.cash, usd(5)),
                Posting::credit(f.revenue, usd(4)),
            ],
            Rejection::Unbalanced {
                currency: Currency::USD,
            },
        ),
        (
            vec![
                Posting::debit(f.limited, usd(5)),
                Posting::credit(f.revenue, usd(5)),
            ],
            Rejection::WouldExceedLimit { posting: 0 },
        ),
        (
            vec![
                Posting::debit(f.cash, usd(i64::MAX)),
                Posting::credit(f.revenue, usd(i64::MAX)),
                Posting::debit(f.cash, usd(1)),
                Posting::credit(f.revenue, usd(1)),
            ],
            Rejection::Overflow { posting: 2 },
        ),
    ];
    let with_closed = f.ledger.clone();
    for (i, (postings, want)) in cases.into_iter().enumerate() {
        let e = NewEntry::posted(id(100 + i as u128), t(0), &postings);
        assert_eq!(f.ledger.apply(&e), Err(want.clone()), "case {i}");
    }
    assert_eq!(f.ledger, with_closed);
    assert_ne!(before, with_closed);
    let p = [
        Posting::debit(f.cash, usd(1)),
        Posting::credit(f.revenue, usd(1)),
    ];
    assert_eq!(
        f.ledger.apply(&NewEntry::posted(id(0), t(0), &p)),
        Err(Rejection::ZeroId)
    );
}

#[test]
fn multi_currency_entries_balance_per_currency() {
    let mut f = fixture();
    let eur_rev = f
        .ledger
        .create_account(AccountSpec::new(
            AccountId::from_uuid(uuid(20)),
            AccountKind::Revenue,
            Currency::EUR,
            AccountOwner::Clinic,
        ))
        .unwrap_or(AccountIndex::new(0));
    let eur = |m| Money::new(m, Currency::EUR);
    let ok = [
        Posting::debit(f.cash, usd(10)),
        Posting::debit(f.euro, eur(7)),
        Posting::credit(f.revenue, usd(10)),
        Posting::credit(eur_rev, eur(7)),
    ];
    assert!(f.ledger.apply(&NewEntry::posted(id(1), t(0), &ok)).is_ok());
    let bad = [
        Posting::debit(f.cash, usd(10)),
        Posting::debit(f.euro, eur(7)),
        Posting::credit(f.revenue, usd(10)),
        Posting::credit(eur_rev, eur(6)),
        Posting::credit(eur_rev, eur(2)),
    ];
    assert_eq!(
        f.ledger.apply(&NewEntry::posted(id(2), t(0), &bad)),
        Err(Rejection::Unbalanced {
            currency: Currency::EUR
        })
    );
    assert!(f.ledger.trial_balance().is_zero());
    assert_eq!(f.ledger.trial_balance().lines.len(), 2);
}

#[test]
fn idempotent_retry_returns_original_and_names_differing_field() {
    let mut f = fixture();
    let p = [
        Posting::debit(f.receivable, usd(500)),
        Posting::credit(f.revenue, usd(500)),
    ];
    let first = f.ledger.apply(&NewEntry::posted(id(7), t(0), &p));
    let snapshot = f.ledger.clone();
    let again = f.ledger.apply(&NewEntry::posted(id(7), t(5), &p));
    assert_eq!(
        again.map(|a| (a.seq, a.replayed)),
        first.map(|a| (a.seq, true))
    );
    assert_eq!(f.ledger, snapshot);

    let changed_amount = [
        Posting::debit(f.receivable, usd(501)),
        Posting::credit(f.revenue, usd(501)),
    ];
    let changed_account = [
        Posting::debit(f.cash, usd(500)),
        Posting::credit(f.revenue, usd(500)),
    ];
    let cases = [
        (
            NewEntry::posted(id(7), t(5), &changed_amount),
            EntryField::PostingAmount(0),
        ),
        (
            NewEntry::posted(id(7), t(5), &changed_account),
            EntryField::PostingAccount(0),
        ),
        (
            NewEntry::posted(id(7), t(5), &p[..1]),
            EntryField::PostingCount,
        ),
        (
            NewEntry::posted(id(7), t(5), &p).with_code(3),
            EntryField::Code,
        ),
        (
            NewEntry::posted(id(7), t(5), &p).with_refs(References {
                claim: Some(ClaimId::from_uuid(uuid(3))),
                ..References::default()
            }),
            EntryField::Claim,
        ),
        (
            NewEntry::posted(id(7), t(5), &p).with_kind(EntryKind::Pending { expires_at: None }),
            EntryField::Kind,
        ),
    ];
    for (e, field) in cases {
        assert_eq!(
            f.ledger.apply(&e),
            Err(Rejection::DuplicateIdDifferentContent { field })
        );
    }
    let msg = Rejection::DuplicateIdDifferentContent {
        field: EntryField::PostingAmount(1),
    }
    .to_string();
    assert_eq!(
        msg,
        "duplicate entry id with different content in `postings[1].amount`"
    );
}

#[test]
fn two_phase_post_partial_void_and_expire() {
    let mut f = fixture();
    let hold = [
        Posting::debit(f.cash, usd(10_000)),
        Posting::credit(f.receivable, usd(10_000)),
    ];
    let pending = NewEntry::posted(id(1), t(0), &hold).with_kind(EntryKind::Pending {
        expires_at: Some(t(100)),
    });
    assert!(f.ledger.apply(&pending).is_ok());
    let b = f.ledger.balance(f.cash);
    assert_eq!(
        b.map(|b| (b.posted, b.pending)),
        Some((usd(0), usd(10_000)))
    );

    // Partial post: 80.00 of the 100.00 hold; the rest is released.
    let partial = [
        Posting::debit(f.cash, usd(8_000)),
        Posting::credit(f.receivable, usd(8_000)),
    ];
    let too_much = [
        Posting::debit(f.cash, usd(10_001)),
        Posting::credit(f.receivable, usd(10_001)),
    ];
    let swapped = [
        Posting::credit(f.cash, usd(8_000)),
        Posting::debit(f.receivable, usd(8_000)),
    ];
    let post = |postings| NewEntry {
        postings,
        ..NewEntry::linked(id(2), t(10), EntryKind::PostPending { pending: id(1) })
    };
    assert_eq!(
        f.ledger.apply(&post(&too_much)),
        Err(Rejection::PostExceedsPending { posting: 0 })
    );
    assert_eq!(
        f.ledger.apply(&post(&swapped)),
        Err(Rejection::PostingsDoNotMatchPending { posting: 0 })
    );
    assert!(f.ledger.apply(&post(&partial)).is_ok());
    let b = f.ledger.balance(f.cash);
    assert_eq!(b.map(|b| (b.posted, b.pending)), Some((usd(8_000), usd(0))));
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(11),
            EntryKind::VoidPending { pending: id(1) }
        )),
        Err(Rejection::PendingAlreadyResolved)
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(11),
            EntryKind::VoidPending { pending: id(9) }
        )),
        Err(Rejection::PendingNotFound)
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(11),
            EntryKind::VoidPending { pending: id(2) }
        )),
        Err(Rejection::NotPending)
    );

    // A second hold expires.
    let pending = NewEntry::posted(id(4), t(20), &hold).with_kind(EntryKind::Pending {
        expires_at: Some(t(50)),
    });
    assert!(f.ledger.apply(&pending).is_ok());
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(5),
            t(60),
            EntryKind::VoidPending { pending: id(4) }
        )),
        Err(Rejection::PendingExpired)
    );
    assert!(f.ledger.expire_pending(t(40)).is_empty());
    assert_eq!(f.ledger.expire_pending(t(60)), vec![id(4)]);
    assert_eq!(f.ledger.balance(f.cash).map(|b| b.pending), Some(usd(0)));
    assert!(f.ledger.trial_balance().is_zero());

    // A third hold is voided.
    let pending =
        NewEntry::posted(id(6), t(70), &hold).with_kind(EntryKind::Pending { expires_at: None });
    assert!(f.ledger.apply(&pending).is_ok());
    assert!(
        f.ledger
            .apply(&NewEntry::linked(
                id(7),
                t(71),
                EntryKind::VoidPending { pending: id(6) }
            ))
            .is_ok()
    );
    assert_eq!(f.ledger.balance(f.cash).map(|b| b.pending), Some(usd(0)));
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(8),
            t(72),
            EntryKind::ExpirePending { pending: id(6) }
        )),
        Err(Rejection::InvalidKind)
    );
}

#[test]
fn reversal_restores_balances_and_cannot_repeat() {
    let mut f = fixture();
    let p = [
        Posting::debit(f.receivable, usd(12_345)),
        Posting::credit(f.revenue, usd(12_345)),
    ];
    assert!(f.ledger.apply(&NewEntry::posted(id(1), t(0), &p)).is_ok());
    let rev = NewEntry::linked(id(2), t(1), EntryKind::Reversal { of: id(1) });
    assert!(f.ledger.apply(&rev).is_ok());
    assert_eq!(
        f.ledger.balance(f.receivable).map(|b| b.posted),
        Some(usd(0))
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(2),
            EntryKind::Reversal { of: id(1) }
        )),
        Err(Rejection::AlreadyReversed)
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(2),
            EntryKind::Reversal { of: id(2) }
        )),
        Err(Rejection::NotReversible)
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::linked(
            id(3),
            t(2),
            EntryKind::Reversal { of: id(77) }
        )),
        Err(Rejection::OriginalNotFound)
    );
    let original = f.ledger.entry(id(1));
    assert_eq!(original.and_then(|v| v.resolved_by), Some(id(2)));
    // Both entries remain: nothing is deleted.
    assert_eq!(f.ledger.entry_count(), 2);
}

#[test]
fn queries_as_of_history_and_references() {
    let mut f = fixture();
    let patient = PatientId::from_uuid(uuid(42));
    let refs = References {
        patient: Some(patient),
        ..References::default()
    };
    for (n, amount) in [(1, 10_000), (2, 2_500)] {
        let p = [
            Posting::debit(f.receivable, usd(amount)),
            Posting::credit(f.revenue, usd(amount)),
        ];
        let e = NewEntry::posted(id(n), t(n as i64 * 100), &p).with_refs(refs);
        assert!(f.ledger.apply(&e).is_ok());
    }
    let pay = [
        Posting::debit(f.cash, usd(4_000)),
        Posting::credit(f.receivable, usd(4_000)),
    ];
    assert!(
        f.ledger
            .apply(&NewEntry::posted(id(3), t(300), &pay))
            .is_ok()
    );
    let as_of = |s| f.ledger.balance_as_of(f.receivable, t(s)).map(|b| b.posted);
    assert_eq!(as_of(50), Some(usd(0)));
    assert_eq!(as_of(100), Some(usd(10_000)));
    assert_eq!(as_of(250), Some(usd(12_500)));
    assert_eq!(as_of(300), Some(usd(8_500)));
    let running: Vec<i64> = f
        .ledger
        .history(f.receivable)
        .iter()
        .map(|h| h.balance.posted.amount_minor())
        .collect();
    assert_eq!(running, vec![10_000, 12_500, 8_500]);
    assert_eq!(
        f.ledger
            .entries_by_reference(Reference::Patient(patient))
            .len(),
        2
    );
    assert_eq!(
        f.ledger.apply(&NewEntry::posted(id(4), t(299), &pay)),
        Err(Rejection::TimestampRegressed)
    );
    assert_eq!(
        f.ledger.history(f.cash).first().map(|h| h.side),
        Some(Side::Debit)
    );
}

fn busy_ledger() -> Ledger {
    let mut f = fixture();
    let p = [
        Posting::debit(f.receivable, usd(9_000)),
        Posting::credit(f.revenue, usd(9_000)),
    ];
    let refs = References {
        patient: Some(PatientId::from_uuid(uuid(42))),
        claim: Some(ClaimId::from_uuid(uuid(43))),
        encounter: None,
    };
    let _ = f.ledger.apply(
        &NewEntry::posted(id(1), t(0), &p)
            .with_refs(refs)
            .with_code(1),
    );
    let hold = [
        Posting::debit(f.cash, usd(5_000)),
        Posting::credit(f.receivable, usd(5_000)),
    ];
    let _ = f.ledger.apply(
        &NewEntry::posted(id(2), t(1), &hold).with_kind(EntryKind::Pending {
            expires_at: Some(t(1_000) + TimeDelta::nanoseconds(5)),
        }),
    );
    let _ = f.ledger.apply(&NewEntry::linked(
        id(3),
        t(2),
        EntryKind::PostPending { pending: id(2) },
    ));
    let _ = f.ledger.apply(&NewEntry::linked(
        id(4),
        t(3),
        EntryKind::Reversal { of: id(1) },
    ));
    let _ = f.ledger.apply(
        &NewEntry::posted(id(5), t(4), &hold).with_kind(EntryKind::Pending {
            expires_at: Some(t(10)),
        }),
    );
    let _ = f.ledger.expire_pending(t(20));
    let _ = f.ledger.close_account(f.limited);
    assert_eq!(f.ledger.entry_count(), 6);
    f.ledger
}

#[test]
fn journal_replay_rebuilds_identical_state() {
    let ledger = busy_ledger();
    let mut log = Vec::new();
    ledger.write_journal(&mut log);
    let r = replay(&log);
    assert_eq!(r.stopped, None);
    assert_eq!(r.consumed, log.len());
    assert_eq!(r.ledger, ledger);
    assert_eq!(r.ledger.trial_balance(), ledger.trial_balance());
}

#[test]
fn torn_and_corrupt_tails_are_reported_not_applied() {
    let ledger = busy_ledger();
    let mut log = Vec::new();
    ledger.write_journal(&mut log);
    let full = replay(&log);
    let total = full.records;

    // Cut the log in the middle of the last record.
    let torn = &log[..log.len() - 3];
    let r = replay(torn);
    assert!(matches!(r.stopped, Some(JournalError::TornTail { .. })));
    assert_eq!(r.records, total - 1);

    // Cut inside a header.
    let r = replay(&log[..log.len() - (log.len() - r.consumed) + 5]);
    assert!(matches!(
        r.stopped,
        Some(JournalError::TornTail { needed: 12, .. })
    ));

    // Flip one payload bit in the last record.
    let mut bad = log.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x10;
    let r = replay(&bad);
    assert!(matches!(
        r.stopped,
        Some(JournalError::ChecksumMismatch { .. })
    ));
    assert_eq!(r.records, total - 1);
    assert_ne!(r.ledger, ledger);

    // A record that decodes but disagrees with the ledger is rejected with its reason.
    let mut f = fixture();
    let mut log = Vec::new();
    f.ledger.write_journal(&mut log);
    let p = [
        Posting::debit(f.cash, usd(5)),
        Posting::credit(f.revenue, usd(4)),
    ];
    encode_entry(&NewEntry::posted(id(1), t(0), &p), &mut log);
    let r = replay(&log);
    assert!(matches!(
        r.stopped,
        Some(JournalError::Rejected {
            reason: Rejection::Unbalanced { .. },
            ..
        })
    ));
    let _ = f.ledger.apply(&NewEntry::posted(id(9), t(0), &p[..1]));
}

#[test]
fn the_entry_limit_is_explicit_and_a_typed_refusal() {
    use bedside_core::{DomainError, ErrorKind};
    let mut f = fixture();
    f.ledger = f.ledger.with_entry_limit(2);
    assert_eq!(f.ledger.entry_limit(), 2);
    let postings = [
        Posting::debit(f.cash, usd(100)),
        Posting::credit(f.revenue, usd(100)),
    ];
    for n in 1..=2 {
        assert!(
            f.ledger
                .apply(&NewEntry::posted(EntryId::new(n), t(0), &postings))
                .is_ok()
        );
    }
    let third = f
        .ledger
        .apply(&NewEntry::posted(EntryId::new(3), t(0), &postings));
    assert_eq!(third, Err(Rejection::EntryLimitReached { limit: 2 }));
    assert_eq!(
        third.err().map(|e| e.kind()),
        Some(ErrorKind::LimitExceeded)
    );
    // A retry of a stored entry still answers at the limit.
    let retry = f
        .ledger
        .apply(&NewEntry::posted(EntryId::new(2), t(0), &postings));
    assert_eq!(retry.map(|a| a.replayed), Ok(true));
    // The limit is capped at MAX_ENTRIES.
    assert_eq!(
        Ledger::new().with_entry_limit(u32::MAX).entry_limit(),
        bedside_ledger::MAX_ENTRIES
    );
}

#[test]
fn the_actor_is_the_audit_field_and_survives_the_journal() {
    let mut f = fixture();
    let clerk = bedside_core::Actor::System {
        component: "billing-desk".into(),
    };
    let postings = [
        Posting::debit(f.cash, usd(100)),
        Posting::credit(f.revenue, usd(100)),
    ];
    let by = NewEntry::posted(EntryId::new(1), t(0), &postings).by(&clerk);
    assert!(f.ledger.apply(&by).is_ok());
    assert!(
        f.ledger
            .apply(&NewEntry::posted(EntryId::new(2), t(1), &postings))
            .is_ok()
    );
    // A retry by someone else replays: the actor is not content.
    let other = bedside_core::Actor::System {
        component: "retry-job".into(),
    };
    let retry = NewEntry::posted(EntryId::new(1), t(0), &postings).by(&other);
    assert_eq!(f.ledger.apply(&retry).map(|a| a.replayed), Ok(true));
    let actor = |l: &Ledger, n| l.entry(EntryId::new(n)).and_then(|e| e.actor.cloned());
    assert_eq!(actor(&f.ledger, 1), Some(clerk.clone()));
    assert_eq!(actor(&f.ledger, 2), None);
    let mut log = Vec::new();
    f.ledger.write_journal(&mut log);
    let back = replay(&log);
    assert_eq!(back.stopped, None);
    assert_eq!(actor(&back.ledger, 1), Some(clerk));
    assert_eq!(back.ledger, f.ledger);
}
