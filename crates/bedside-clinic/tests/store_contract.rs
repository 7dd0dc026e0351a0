//! One contract for every store: the same cases run against SQLite and PostgreSQL.
//!
//! PostgreSQL comes from a throwaway cluster ([`bedside_clinic::pgtest::TempCluster`]); where it
//! is not installed the PostgreSQL half skips with one line, unless
//! `BEDSIDE_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::integrity::{BreakReason, ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::store::{Batch, Hold, OutboxMessage, TokenRow};
use bedside_clinic::{Durability, PostgresStore, SqliteStore, Store};
use std::path::PathBuf;

type Res = Result<(), Box<dyn std::error::Error>>;
/// What a tampering case must be reported as.
type Expect = fn(&BreakReason) -> bool;

/// Where a contract case runs.
enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn open(&self, anchor: &MemoryAnchor) -> Result<Box<dyn Store>, Box<dyn std::error::Error>> {
        let key = ChainKey::development();
        Ok(match self {
            Backend::Sqlite(path) => Box::new(SqliteStore::open_with(
                path,
                Durability::Normal,
                Box::new(anchor.clone()),
                key,
            )?),
            Backend::Postgres(url) => Box::new(PostgresStore::connect(
                url,
                Durability::Normal,
                Box::new(anchor.clone()),
                key,
            )?),
        })
    }

    /// Runs SQL behind the store's back (the attacker with database access).
    fn tamper(&self, sql: &str) -> Res {
        match self {
            Backend::Sqlite(path) => {
                rusqlite::Connection::open(path)?.execute_batch(sql)?;
            }
            Backend::Postgres(url) => {
                postgres::Client::connect(url, postgres::NoTls)?.batch_execute(sql)?;
            }
        }
        Ok(())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Sqlite(path) = self {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// A case's databases; the cluster (if any) outlives the backends on it and stops at drop.
/// (A cluster per test, not one per process: statics are never dropped, and a server left
/// running after the tests is a leak.)
struct Fixture {
    backends: Vec<Backend>,
    cluster: Option<TempCluster>,
}

fn cluster() -> Option<TempCluster> {
    TempCluster::start_or_skip("the PostgreSQL store contract").unwrap()
}

/// Every backend available here, each on a fresh database.
fn backends(case: &str) -> Fixture {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let mut backends = vec![Backend::Sqlite(
        std::env::temp_dir().join(format!("bedside-contract-{case}-{id}.db")),
    )];
    let cluster = cluster();
    if let Some(c) = &cluster {
        backends.push(Backend::Postgres(c.create_database("contract").unwrap()));
    }
    Fixture { backends, cluster }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.backends.clear();
        self.cluster.take();
    }
}

fn message(patient: &str, purpose: &str, send_at: &str) -> OutboxMessage {
    OutboxMessage {
        id: 0,
        created_at: "2026-06-01T09:00:00+00:00".into(),
        send_at: send_at.into(),
        patient: patient.into(),
        purpose: purpose.into(),
        channel: "sms".into(),
        address: "+12125550100".into(),
        body: "Reminder".into(),
        status: "pending".into(),
    }
}

fn command(n: u32) -> Batch {
    Batch {
        command: Some((
            format!("2026-06-01T09:{:02}:00+00:00", n % 60),
            "book".into(),
            format!("{{\"n\":{n}}}"),
        )),
        audit: vec![(u64::from(n), format!("{{\"seq\":{n}}}"))],
        ..Batch::default()
    }
}

#[test]
fn batches_read_back_in_order_and_the_chain_verifies() -> Res {
    for b in &backends("order").backends {
        let anchor = MemoryAnchor::new();
        let mut store = b.open(&anchor)?;
        assert!(store.load()?.commands.is_empty(), "{}", b.name());
        assert!(store.verify_chain()?.is_intact(), "{}", b.name());
        for n in 1..=25 {
            store.commit(&command(n))?;
        }
        store.commit(&Batch {
            reviews: vec![(25, "break-glass: unconscious patient".into())],
            ..Batch::default()
        })?;
        let loaded = store.load()?;
        assert_eq!(loaded.commands.len(), 25, "{}", b.name());
        assert_eq!(loaded.commands[9].2, "{\"n\":10}", "{}", b.name());
        assert_eq!(loaded.audit.len(), 25);
        assert_eq!(
            loaded.reviews,
            vec![(25, "break-glass: unconscious patient".into())]
        );
        let report = store.verify_chain()?;
        assert!(report.is_intact(), "{}: {:?}", b.name(), report.broken);
        assert_eq!(report.batches, 26, "{}", b.name());
        // Reopened, the same rows and the same head.
        drop(store);
        let mut again = b.open(&anchor)?;
        assert_eq!(again.load()?.commands.len(), 25);
        let second = again.verify_chain()?;
        assert!(second.is_intact(), "{}", b.name());
        assert_eq!(second.head, report.head, "{}", b.name());
    }
    Ok(())
}

#[test]
fn a_failing_batch_leaves_nothing() -> Res {
    for b in &backends("atomic").backends {
        let mut store = b.open(&MemoryAnchor::new())?;
        store.commit(&command(1))?;
        let bad = Batch {
            command: Some(("t".into(), "k".into(), "{}".into())),
            // Audit sequence 1 exists: the primary key refuses the batch half-way through.
            audit: vec![(2, "a".into()), (1, "b".into())],
            outbox: vec![message("p1", "notice", "2026-06-02T09:00:00+00:00")],
            ..Batch::default()
        };
        assert!(store.commit(&bad).is_err(), "{}", b.name());
        let loaded = store.load()?;
        assert_eq!(loaded.commands.len(), 1, "{}", b.name());
        assert_eq!(loaded.audit.len(), 1, "{}", b.name());
        assert!(store.outbox(None, None, 10)?.is_empty(), "{}", b.name());
        assert!(store.verify_chain()?.is_intact(), "{}", b.name());
        // And the store goes on working.
        store.commit(&command(2))?;
        assert!(store.verify_chain()?.is_intact(), "{}", b.name());
    }
    Ok(())
}

#[test]
fn outbox_tokens_and_meta_behave_alike() -> Res {
    for b in &backends("operational").backends {
        let mut store = b.open(&MemoryAnchor::new())?;
        let appt = "0190aaaa-0000-7000-8000-000000000001";
        store.commit(&Batch {
            outbox: vec![
                message(
                    "p1",
                    &format!("appointment-reminders:{appt}"),
                    "2026-06-03T09:00:00+00:00",
                ),
                message("p1", "notice", "2026-06-02T09:00:00+00:00"),
                message("p2", "notice", "2026-06-04T09:00:00+00:00"),
            ],
            tokens: vec![TokenRow {
                hash: "h1".into(),
                principal: "{\"staff\":1}".into(),
                expires_at: "2026-06-10T00:00:00+00:00".into(),
            }],
            ..Batch::default()
        })?;
        let all = store.outbox(Some("pending"), None, 10)?;
        assert_eq!(all.len(), 3, "{}", b.name());
        assert!(
            all.windows(2).all(|w| w[0].send_at <= w[1].send_at),
            "{}",
            b.name()
        );
        assert_eq!(store.outbox(None, Some("p2"), 10)?.len(), 1, "{}", b.name());
        assert_eq!(store.outbox(None, None, 2)?.len(), 2, "{}", b.name());
        // Withdrawing an appointment's reminders leaves the notices alone.
        store.commit(&Batch {
            withdraw: vec![appt.into()],
            ..Batch::default()
        })?;
        assert_eq!(
            store.outbox(Some("withdrawn"), None, 10)?.len(),
            1,
            "{}",
            b.name()
        );
        let first = store.outbox(Some("pending"), None, 1)?;
        store.mark_sent(&[first[0].id], "2026-06-02T09:00:01+00:00")?;
        assert_eq!(
            store.outbox(Some("sent"), None, 10)?.len(),
            1,
            "{}",
            b.name()
        );
        // Marking again changes nothing.
        store.mark_sent(&[first[0].id], "2026-06-02T09:00:02+00:00")?;
        assert_eq!(
            store.outbox(Some("pending"), None, 10)?.len(),
            1,
            "{}",
            b.name()
        );
        // `sms:<patient>` withdraws every pending SMS to that patient.
        store.commit(&Batch {
            withdraw: vec!["sms:p2".into()],
            ..Batch::default()
        })?;
        assert!(
            store.outbox(Some("pending"), None, 10)?.is_empty(),
            "{}",
            b.name()
        );

        assert_eq!(
            store.token("h1")?.map(|t| t.principal).as_deref(),
            Some("{\"staff\":1}")
        );
        assert_eq!(store.token("nope")?, None, "{}", b.name());
        // A token is replaced, not duplicated.
        store.commit(&Batch {
            tokens: vec![TokenRow {
                hash: "h1".into(),
                principal: "{\"staff\":2}".into(),
                expires_at: "2026-06-11T00:00:00+00:00".into(),
            }],
            ..Batch::default()
        })?;
        assert_eq!(
            store.token("h1")?.map(|t| t.principal).as_deref(),
            Some("{\"staff\":2}")
        );

        assert_eq!(store.meta("k")?, None, "{}", b.name());
        store.set_meta("k", "v1")?;
        store.set_meta("k", "v2")?;
        assert_eq!(store.meta("k")?.as_deref(), Some("v2"), "{}", b.name());
        // Operational rows are not evidence: the chain is untouched by them.
        assert!(store.verify_chain()?.is_intact(), "{}", b.name());
    }
    Ok(())
}

#[test]
fn edits_behind_the_stores_back_are_reported() -> Res {
    let cases: [(&str, &str, Expect); 3] = [
        (
            "edited",
            "UPDATE commands SET body = '{\"n\":999}' WHERE seq = 3",
            |r| matches!(r, BreakReason::DigestMismatch),
        ),
        (
            "tail",
            "DELETE FROM commands WHERE batch = 9; DELETE FROM audit WHERE batch = 9;
             DELETE FROM batches WHERE seq = 9",
            |r| matches!(r, BreakReason::Truncated { .. }),
        ),
        (
            "unchained",
            "INSERT INTO audit (seq, entry, batch) VALUES (500, 'forged', NULL)",
            |r| matches!(r, BreakReason::UnchainedRows { .. }),
        ),
    ];
    for (name, sql, expected) in cases {
        for b in &backends(name).backends {
            let anchor = MemoryAnchor::new();
            let mut store = b.open(&anchor)?;
            for n in 1..=10 {
                store.commit(&command(n))?;
            }
            drop(store);
            b.tamper(sql)?;
            let mut reopened = b.open(&anchor)?;
            let report = reopened.verify_chain()?;
            let reason = report.broken.as_ref().map(|x| x.reason.clone());
            assert!(
                reason.as_ref().is_some_and(expected),
                "{} {name}: {reason:?}",
                b.name()
            );
        }
    }
    Ok(())
}

#[test]
fn two_processes_append_to_one_chain() -> Res {
    // Only PostgreSQL serves several processes; SQLite is one writer by design.
    let Some(c) = cluster() else { return Ok(()) };
    let url = c.create_database("two_writers")?;
    let _cluster = &c;
    let b = Backend::Postgres(url);
    let anchor = MemoryAnchor::new();
    let mut first = b.open(&anchor)?;
    let mut second = b.open(&anchor)?;
    for n in 1..=20 {
        let store = if n % 2 == 0 { &mut first } else { &mut second };
        store.commit(&command(n))?;
    }
    let loaded = first.load()?;
    assert_eq!(loaded.commands.len(), 20);
    let bodies: Vec<_> = loaded.commands.iter().map(|c| c.2.clone()).collect();
    let expected: Vec<_> = (1..=20).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(bodies, expected, "one order, the commit order");
    for store in [&mut first, &mut second] {
        let report = store.verify_chain()?;
        assert!(report.is_intact(), "{:?}", report.broken);
        assert_eq!(report.batches, 20);
    }
    // Concurrent writers from threads: every batch lands once, the chain stays whole.
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let anchor = anchor.clone();
            let url = match &b {
                Backend::Postgres(u) => u.clone(),
                Backend::Sqlite(_) => unreachable!(),
            };
            std::thread::spawn(move || -> Result<(), String> {
                let mut s = PostgresStore::connect(
                    &url,
                    Durability::Normal,
                    Box::new(anchor),
                    ChainKey::development(),
                )
                .map_err(|e| e.to_string())?;
                for i in 0..25 {
                    let n = 1000 + t * 100 + i;
                    let batch = Batch {
                        command: Some(("t".into(), "k".into(), format!("{{\"n\":{n}}}"))),
                        ..Batch::default()
                    };
                    s.commit(&batch).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "writer panicked")??;
    }
    assert_eq!(first.load()?.commands.len(), 120);
    let report = second.verify_chain()?;
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.batches, 120);
    Ok(())
}

#[test]
fn a_key_the_database_has_seen_fails_the_whole_batch() -> Res {
    for b in &backends("unique").backends {
        let mut store = b.open(&MemoryAnchor::new())?;
        let paid = |n: u32| Batch {
            unique: vec![("payment-key".into(), "patient-1/checkout-7".into())],
            outbox: vec![message("p1", "notice", "2026-06-02T09:00:00+00:00")],
            ..command(n)
        };
        store.commit(&paid(1))?;
        // The same key again (a second process whose own check missed it): refused whole.
        assert!(store.commit(&paid(2)).is_err(), "{}", b.name());
        let loaded = store.load()?;
        assert_eq!(loaded.commands.len(), 1, "{}", b.name());
        assert_eq!(store.outbox(None, None, 10)?.len(), 1, "{}", b.name());
        // Another kind, or another key, is fine; the chain is whole.
        store.commit(&Batch {
            unique: vec![
                ("booking-token".into(), "patient-1/checkout-7".into()),
                ("payment-key".into(), "patient-2/checkout-7".into()),
            ],
            ..command(3)
        })?;
        assert!(store.verify_chain()?.is_intact(), "{}", b.name());
    }
    Ok(())
}

fn hold(appointment: &str, resource: &str, start: i64, end: i64) -> Hold {
    Hold {
        appointment: appointment.into(),
        resource: resource.into(),
        start: 1_780_000_000 + start,
        end: 1_780_000_000 + end,
    }
}

/// The double-booking rule lives in the database: a batch whose hold overlaps another
/// appointment's on the same resource is refused whole (the process's own state may be
/// stale), while back-to-back holds, other resources, a release and a move are fine.
#[test]
fn the_database_refuses_a_double_booking_whatever_the_process_believes() -> Res {
    for b in &backends("holds").backends {
        let name = b.name();
        let mut store = b.open(&MemoryAnchor::new())?;
        let booked = |n: u32, holds: Vec<Hold>, release: Vec<&str>| Batch {
            holds,
            release: release.into_iter().map(String::from).collect(),
            outbox: vec![message(
                "p1",
                "appointment-reminders:x",
                "2026-06-02T09:00:00+00:00",
            )],
            ..command(n)
        };
        store.commit(&booked(
            1,
            vec![
                hold("a1", "provider:1", 0, 900),
                hold("a1", "patient:1", 0, 900),
            ],
            vec![],
        ))?;
        // Back to back, and the same time for another provider and patient: no overlap.
        store.commit(&booked(
            2,
            vec![
                hold("a2", "provider:1", 900, 1_800),
                hold("a2", "patient:2", 900, 1_800),
            ],
            vec![],
        ))?;
        store.commit(&booked(
            3,
            vec![
                hold("a3", "provider:2", 0, 900),
                hold("a3", "patient:3", 0, 900),
            ],
            vec![],
        ))?;
        // Provider 1 at 10:05 for another patient: refused, and nothing of the batch kept.
        let before = (
            store.load()?.commands.len(),
            store.outbox(None, None, 50)?.len(),
        );
        let clash = store.commit(&booked(
            4,
            vec![
                hold("a4", "provider:1", 300, 1_200),
                hold("a4", "patient:4", 300, 1_200),
            ],
            vec![],
        ));
        assert!(
            matches!(clash, Err(bedside_clinic::StoreError::Conflict { .. })),
            "{name}: {clash:?}"
        );
        let after = (
            store.load()?.commands.len(),
            store.outbox(None, None, 50)?.len(),
        );
        assert_eq!(before, after, "{name}: a refused batch leaves nothing");
        // The same patient twice at once, with two providers: refused too.
        let twice = store.commit(&booked(
            4,
            vec![
                hold("a5", "provider:3", 0, 900),
                hold("a5", "patient:1", 300, 600),
            ],
            vec![],
        ));
        assert!(twice.is_err(), "{name}");
        // A move within its own time (release and hold again in one batch) is fine, and
        // frees what it left: a2's old slot is then bookable.
        store.commit(&booked(
            4,
            vec![
                hold("a2", "provider:1", 1_200, 2_100),
                hold("a2", "patient:2", 1_200, 2_100),
            ],
            vec!["a2"],
        ))?;
        store.commit(&booked(
            5,
            vec![
                hold("a6", "provider:1", 900, 1_200),
                hold("a6", "patient:6", 900, 1_200),
            ],
            vec![],
        ))?;
        // A cancellation releases: a1's time can be booked again.
        store.commit(&booked(6, vec![], vec!["a1"]))?;
        store.commit(&booked(
            7,
            vec![
                hold("a7", "provider:1", 0, 900),
                hold("a7", "patient:7", 0, 900),
            ],
            vec![],
        ))?;
        assert!(store.verify_chain()?.is_intact(), "{name}");
        assert_eq!(store.load()?.commands.len(), 7, "{name}");
    }
    Ok(())
}

#[test]
fn a_database_of_the_previous_schema_migrates_and_keeps_its_chain() -> Res {
    for b in &backends("migrate").backends {
        let anchor = MemoryAnchor::new();
        let mut store = b.open(&anchor)?;
        for n in 1..=5 {
            store.commit(&command(n))?;
        }
        let before = store.verify_chain()?;
        drop(store);
        // Back to the schema before `unique_keys` and snapshots (SQLite 3, PostgreSQL 1),
        // data kept.
        match b {
            Backend::Sqlite(_) => b.tamper(
                "DROP TABLE unique_keys; DROP TABLE snapshots; DROP INDEX commands_batch;
                 DROP INDEX audit_batch; DROP INDEX reviews_batch; DROP TABLE holds;
                 PRAGMA user_version = 3;",
            )?,
            Backend::Postgres(_) => b.tamper(
                "DROP TABLE unique_keys; DROP TABLE snapshots; DROP TABLE holds;
                 UPDATE meta SET value = '1' WHERE key = 'schema_version';",
            )?,
        }
        let mut store = b.open(&anchor)?;
        let after = store.verify_chain()?;
        assert!(after.is_intact(), "{}: {:?}", b.name(), after.broken);
        assert_eq!(after.head, before.head, "{}", b.name());
        assert_eq!(store.load()?.commands.len(), 5, "{}", b.name());
        // The migrated database enforces unique keys.
        let keyed = Batch {
            unique: vec![("payment-key".into(), "p/1".into())],
            ..command(6)
        };
        store.commit(&keyed)?;
        assert!(store.commit(&keyed).is_err(), "{}", b.name());
        // And keeps holds from overlapping.
        store.commit(&Batch {
            holds: vec![hold("a1", "provider:x", 0, 900)],
            ..command(7)
        })?;
        let overlap = store.commit(&Batch {
            holds: vec![hold("a2", "provider:x", 600, 1_500)],
            ..command(8)
        });
        assert!(overlap.is_err(), "{}", b.name());
        // And opening it again migrates nothing twice.
        drop(store);
        assert_eq!(b.open(&anchor)?.load()?.commands.len(), 7, "{}", b.name());
    }
    Ok(())
}

#[test]
fn snapshots_are_authenticated_pruned_and_verified_from() -> Res {
    for b in &backends("snapshots").backends {
        let anchor = MemoryAnchor::new();
        let mut store = b.open(&anchor)?;
        assert!(store.latest_snapshot()?.is_none(), "{}", b.name());
        for n in 1..=3 {
            store.commit(&command(n))?;
        }
        let point = store.chain_point()?;
        store.save_snapshot(3, 0, &point, "{\"state\":3}")?;
        for n in 4..=6 {
            store.commit(&command(n))?;
        }
        let found = store.latest_snapshot()?.ok_or("no snapshot")?;
        assert_eq!((found.commands, found.audit), (3, 0), "{}", b.name());
        assert_eq!(found.body, "{\"state\":3}", "{}", b.name());
        assert_eq!(found.chain.batches, 3, "{}", b.name());
        // The journal after it, and the chain verified from it.
        assert_eq!(store.load_after(3, 0)?.commands.len(), 3, "{}", b.name());
        let from = store.verify_chain_from(Some(&found.chain))?;
        assert!(from.is_intact(), "{}: {:?}", b.name(), from.broken);
        assert_eq!(from.head, store.verify_chain()?.head, "{}", b.name());
        // Only the newest two are kept; the same position twice is one snapshot.
        let point = store.chain_point()?;
        store.save_snapshot(6, 0, &point, "{\"state\":6}")?;
        store.save_snapshot(6, 0, &point, "{\"state\":6}")?;
        store.commit(&command(7))?;
        let point = store.chain_point()?;
        store.save_snapshot(7, 0, &point, "{\"state\":7}")?;
        assert_eq!(
            store.latest_snapshot()?.ok_or("none")?.commands,
            7,
            "{}",
            b.name()
        );
        drop(store);
        if let Backend::Postgres(_) = b {
            // PostgreSQL stores the body packed (LZ4): a packed body edited, cut short, or
            // claiming more than LZ4 can expand to is refused like an edited one.
            for edit in [
                "set_byte(packed, length(packed) - 1, 255)",
                "substring(packed from 1 for 9)",
                "'\\xffffff7f00'::bytea",
            ] {
                b.tamper("CREATE TABLE IF NOT EXISTS kept AS SELECT packed FROM snapshots WHERE commands = 7")?;
                b.tamper(&format!(
                    "UPDATE snapshots SET packed = {edit} WHERE commands = 7"
                ))?;
                let mut store = b.open(&anchor)?;
                assert!(store.latest_snapshot().is_err(), "{edit}");
                drop(store);
                b.tamper(
                    "UPDATE snapshots SET packed = (SELECT packed FROM kept) WHERE commands = 7",
                )?;
            }
            let mut store = b.open(&anchor)?;
            assert_eq!(store.latest_snapshot()?.ok_or("none")?.commands, 7);
            drop(store);
        }
        // An edited body fails its tag: start-up must not use it.
        b.tamper("UPDATE snapshots SET body = '{\"state\":8}' WHERE commands = 7")?;
        let mut store = b.open(&anchor)?;
        assert!(store.latest_snapshot().is_err(), "{}", b.name());
        drop(store);
        // So does a snapshot whose batch head no longer matches the chain (the rows it
        // vouches for were rewritten), even with its own fields intact.
        b.tamper("DELETE FROM snapshots WHERE commands = 7")?;
        b.tamper("UPDATE batches SET head = 'ff' WHERE seq = 5")?;
        let mut store = b.open(&anchor)?;
        assert!(store.latest_snapshot().is_err(), "{}", b.name());
        assert!(!store.verify_chain()?.is_intact(), "{}", b.name());
    }
    Ok(())
}

impl Backend {
    /// The store with group commit ([`Durability::Group`]): on PostgreSQL, batches committed
    /// under the write lock are held back and written together when it is released.
    fn open_grouped(
        &self,
        anchor: &MemoryAnchor,
    ) -> Result<Box<dyn Store>, Box<dyn std::error::Error>> {
        let key = ChainKey::development();
        Ok(match self {
            Backend::Sqlite(path) => Box::new(SqliteStore::open_with(
                path,
                Durability::Group,
                Box::new(anchor.clone()),
                key,
            )?),
            Backend::Postgres(url) => Box::new(PostgresStore::connect(
                url,
                Durability::Group,
                Box::new(anchor.clone()),
                key,
            )?),
        })
    }
}

/// Batches committed in a row under the write lock leave what committing them one by one
/// leaves, however a store groups them: a later batch withdraws an earlier one's reminder,
/// moves its appointment and lets another appointment take the time it gave up, and a token
/// written twice keeps its last principal. Nothing is visible to another process before the
/// lock is released, and every commit is flushed once waited for.
#[test]
fn commits_under_one_write_lock_read_back_as_if_written_one_by_one() -> Res {
    for b in &backends("grouped").backends {
        let name = b.name();
        let anchor = MemoryAnchor::new();
        let mut store = b.open_grouped(&anchor)?;
        let group = store.group_sync().ok_or("group commit has a flusher")?;
        let token = |principal: &str| TokenRow {
            hash: "h1".into(),
            principal: principal.into(),
            expires_at: "2026-07-01T00:00:00+00:00".into(),
        };
        let mut notice = message("p2", "notice", "2026-06-02T09:00:00+00:00");
        notice.body = "Notice".into();
        let batches = [
            Batch {
                outbox: vec![
                    message(
                        "p1",
                        "appointment-reminders:a1",
                        "2026-06-02T09:00:00+00:00",
                    ),
                    notice,
                ],
                holds: vec![hold("a1", "provider:1", 0, 900)],
                release: vec!["a1".into()],
                tokens: vec![token("one")],
                ..command(1)
            },
            Batch {
                withdraw: vec!["a1".into()],
                outbox: vec![message(
                    "p1",
                    "appointment-reminders:a1",
                    "2026-06-03T09:00:00+00:00",
                )],
                holds: vec![hold("a1", "provider:1", 3_600, 4_500)],
                release: vec!["a1".into()],
                ..command(2)
            },
            Batch {
                withdraw: vec!["sms:p2".into()],
                tokens: vec![token("two")],
                ..Batch::default()
            },
            Batch {
                holds: vec![hold("a2", "provider:1", 0, 900)],
                release: vec!["a2".into()],
                ..command(3)
            },
        ];
        store.lock_writes()?;
        for batch in &batches {
            store.commit(batch)?;
        }
        if let Backend::Postgres(_) = b {
            let mut other = b.open(&anchor)?;
            assert!(other.load()?.commands.is_empty(), "{name}: held back");
        }
        store.unlock_writes()?;
        assert!(!store.take_lost(), "{name}");
        group.wait_for(1, 4)?;
        let loaded = store.load()?;
        let bodies: Vec<&str> = loaded.commands.iter().map(|c| c.2.as_str()).collect();
        assert_eq!(bodies, ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], "{name}");
        let statuses: Vec<(String, String)> = store
            .outbox(None, None, 10)?
            .into_iter()
            .map(|m| (m.send_at, m.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("2026-06-02T09:00:00+00:00".into(), "withdrawn".into()),
                ("2026-06-02T09:00:00+00:00".into(), "withdrawn".into()),
                ("2026-06-03T09:00:00+00:00".into(), "pending".into()),
            ],
            "{name}"
        );
        assert_eq!(store.token("h1")?.map(|t| t.principal), Some("two".into()));
        // a1 holds its new time and a2 the time a1 gave up: both refuse a third appointment.
        for taken in [0, 3_600] {
            let clash = Batch {
                holds: vec![hold("a3", "provider:1", taken, taken + 900)],
                ..command(9)
            };
            assert!(
                matches!(
                    store.commit(&clash),
                    Err(bedside_clinic::StoreError::Conflict { .. })
                ),
                "{name}: {taken}"
            );
        }
        let report = store.verify_chain()?;
        assert!(report.is_intact(), "{name}: {:?}", report.broken);
        assert_eq!(report.batches, 3, "{name}");
    }
    Ok(())
}

/// A group is written whole or not at all: when one of its batches breaks a rule the
/// database keeps, none is stored, every request of the group is told so, the store reports
/// the loss so the clinic rebuilds its memory, and the next commit goes through.
#[test]
fn a_group_that_breaks_a_rule_is_lost_whole_and_reported_to_every_request() -> Res {
    let fixture = backends("grouped-fail");
    let Some(b) = fixture
        .backends
        .iter()
        .find(|b| matches!(b, Backend::Postgres(_)))
    else {
        return Ok(());
    };
    let anchor = MemoryAnchor::new();
    let mut store = b.open_grouped(&anchor)?;
    let group = store.group_sync().ok_or("group commit has a flusher")?;
    store.lock_writes()?;
    store.commit(&Batch {
        holds: vec![hold("a1", "provider:1", 0, 900)],
        ..command(1)
    })?;
    // A second appointment at the same time: the process's state was wrong, the database
    // is not.
    store.commit(&Batch {
        holds: vec![hold("a2", "provider:1", 0, 900)],
        ..command(2)
    })?;
    let unlocked = store.unlock_writes();
    assert!(
        matches!(unlocked, Err(bedside_clinic::StoreError::Conflict { .. })),
        "{unlocked:?}"
    );
    assert!(store.take_lost(), "the loss is reported");
    assert!(!store.take_lost(), "once");
    for ticket in [1, 2] {
        assert!(matches!(
            group.wait_for(ticket, ticket),
            Err(bedside_clinic::StoreError::Conflict { .. })
        ));
    }
    assert!(store.load()?.commands.is_empty());
    assert!(store.verify_chain()?.is_intact());
    store.commit(&command(3))?;
    group.wait_for(3, 3)?;
    assert_eq!(store.load()?.commands.len(), 1);
    assert!(store.verify_chain()?.is_intact());
    Ok(())
}
