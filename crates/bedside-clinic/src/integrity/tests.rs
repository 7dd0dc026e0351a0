//! Tests of the chain: tampering with a database file behind the store's back by direct SQL,
//! and the parts (HMAC, anchors, encodings, reports).

use super::{
    Anchor, BatchHasher, BreakReason, ChainBreak, ChainKey, ChainTip, ChainedTable, FileAnchor,
    MemoryAnchor, hex,
};
use crate::error::StoreError;
use crate::store::{Batch, Durability, MIGRATIONS, SCHEMA_VERSION, SqliteStore, Store, TokenRow};
use rusqlite::{Connection, params};
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KEY: &[u8] = b"test chain key, not a secret";

/// A fresh directory per test, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("bedside-chain-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
    fn db(&self) -> PathBuf {
        self.0.join("clinic.db")
    }
    fn checkpoint(&self) -> PathBuf {
        self.0.join("clinic.db.checkpoint")
    }
    fn open_with_key(&self, key: &[u8]) -> Result<SqliteStore, Box<dyn std::error::Error>> {
        let anchor = FileAnchor::beside(&self.db(), Durability::Normal);
        let key = ChainKey::new(key.to_vec())?;
        Ok(SqliteStore::open_with(
            &self.db(),
            Durability::Normal,
            Box::new(anchor),
            key,
        )?)
    }
    fn open(&self) -> Result<SqliteStore, Box<dyn std::error::Error>> {
        self.open_with_key(KEY)
    }
    fn sql(&self) -> rusqlite::Result<Connection> {
        Connection::open(self.db())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command(kind: &str, body: &str) -> Option<(String, String, String)> {
    Some(("2026-06-05T14:00:00Z".into(), kind.into(), body.into()))
}

/// Four chained batches, then a token-only batch that is not chained:
/// 0: a registration and audit 1; 1: a break-the-glass read (audit 2, review 2);
/// 2: a payment of 10.00 and audit 3; 3: audit 4, review 4 and audit 5.
fn populate(store: &mut SqliteStore) -> Result<(), StoreError> {
    let batches = [
        Batch {
            command: command("register", r#"{"patient":"p1"}"#),
            audit: vec![(1, "a1".into())],
            ..Batch::default()
        },
        Batch {
            audit: vec![(2, "a2".into())],
            reviews: vec![(2, "unconscious in ED".into())],
            ..Batch::default()
        },
        Batch {
            command: command("payment", r#"{"amount":"10.00"}"#),
            audit: vec![(3, "a3".into())],
            ..Batch::default()
        },
        Batch {
            audit: vec![(5, "a5".into()), (4, "a4".into())],
            reviews: vec![(4, "sepsis alert".into())],
            ..Batch::default()
        },
        Batch {
            tokens: vec![TokenRow {
                hash: "h".into(),
                principal: "{}".into(),
                expires_at: "2026-07-01T00:00:00Z".into(),
            }],
            ..Batch::default()
        },
    ];
    for batch in &batches {
        store.commit(batch)?;
    }
    Ok(())
}

/// Recomputes every stored digest and head from the rows, as an attacker who knows the
/// scheme would after an edit.
fn rehash(conn: &Connection) -> rusqlite::Result<()> {
    let seqs: Vec<i64> = conn
        .prepare("SELECT seq FROM batches ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut tip = ChainTip::EMPTY;
    for seq in seqs {
        let mut h = BatchHasher::new();
        let mut stmt =
            conn.prepare("SELECT at, kind, body FROM commands WHERE batch = ?1 ORDER BY seq")?;
        for row in stmt.query_map([seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (at, kind, body) = row?;
            h.command(at.as_bytes(), kind.as_bytes(), body.as_bytes());
        }
        let mut stmt =
            conn.prepare("SELECT seq, entry FROM audit WHERE batch = ?1 ORDER BY seq")?;
        for row in stmt.query_map([seq], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (n, entry) = row?;
            h.audit(n, entry.as_bytes());
        }
        let mut stmt = conn.prepare(
            "SELECT audit_seq, justification FROM reviews WHERE batch = ?1 ORDER BY audit_seq",
        )?;
        for row in stmt.query_map([seq], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (n, text) = row?;
            h.review(n, text.as_bytes());
        }
        let digest = h.finish();
        tip = tip.append(&digest);
        conn.execute(
            "INSERT OR REPLACE INTO batches (seq, digest, head) VALUES (?1, ?2, ?3)",
            params![seq, hex(&digest), hex(&tip.head)],
        )?;
    }
    Ok(())
}

type Tamper = fn(&Connection, &Scratch) -> TestResult;

/// The expected break: first bad batch, last good batch, reason; `None` for intact.
type Expected = Option<(u64, Option<u64>, BreakReason)>;

/// Populates a database, tampers while the store runs, verifies on the running store and
/// again after reopening it.
fn check(name: &str, tamper: Tamper, expected: Expected) -> TestResult {
    let scratch = Scratch::new()?;
    let mut running = scratch.open()?;
    populate(&mut running)?;
    tamper(&scratch.sql()?, &scratch)?;
    let expected = expected.map(|(first_bad_batch, last_good_batch, reason)| ChainBreak {
        first_bad_batch,
        last_good_batch,
        reason,
    });
    let report = running.verify_chain()?;
    assert_eq!(report.broken, expected, "{name}, running: {report}");
    drop(running);
    let report = scratch.open()?.verify_chain()?;
    assert_eq!(report.broken, expected, "{name}, reopened: {report}");
    Ok(())
}

#[test]
fn tampering_is_detected() -> TestResult {
    use BreakReason::*;
    let cases: [(&str, Tamper, Expected); 15] = [
        ("untouched", |_, _| Ok(()), None),
        (
            "last audit rows deleted",
            |c, _| Ok(c.execute_batch("DELETE FROM audit WHERE seq >= 4")?),
            Some((3, Some(2), DigestMismatch)),
        ),
        (
            "middle review row deleted",
            |c, _| Ok(c.execute_batch("DELETE FROM reviews WHERE audit_seq = 2")?),
            Some((1, Some(0), DigestMismatch)),
        ),
        (
            "review justification edited",
            |c, _| {
                Ok(c.execute_batch(
                    "UPDATE reviews SET justification = 'routine' WHERE audit_seq = 4",
                )?)
            },
            Some((3, Some(2), DigestMismatch)),
        ),
        (
            "payment of 10.00 edited to 1,000.00",
            |c, _| {
                let n = c.execute("UPDATE commands SET body = replace(body, '10.00', '1000.00') WHERE kind = 'payment'", [])?;
                assert_eq!(n, 1);
                Ok(())
            },
            Some((2, Some(1), DigestMismatch)),
        ),
        (
            "audit row edited and the chain re-hashed",
            |c, _| {
                c.execute_batch("UPDATE audit SET entry = 'forged' WHERE seq = 1")?;
                Ok(rehash(c)?)
            },
            Some((3, None, HeadMismatch)),
        ),
        (
            "a stored head overwritten",
            |c, _| {
                Ok(c.execute_batch(
                    "UPDATE batches SET head = substr(head, 2) || '0' WHERE seq = 2",
                )?)
            },
            Some((2, Some(1), HeadMismatch)),
        ),
        (
            "delete a whole last batch (rows and batches row)",
            |c, _| {
                Ok(c.execute_batch(
                    "DELETE FROM audit WHERE batch = 3; DELETE FROM reviews WHERE batch = 3;
                     DELETE FROM batches WHERE seq = 3;",
                )?)
            },
            Some((
                3,
                Some(2),
                Truncated {
                    expected: 4,
                    found: 3,
                },
            )),
        ),
        (
            "delete a whole middle batch",
            |c, _| {
                Ok(c.execute_batch(
                    "DELETE FROM audit WHERE batch = 1; DELETE FROM reviews WHERE batch = 1;
                     DELETE FROM batches WHERE seq = 1;",
                )?)
            },
            Some((1, Some(0), MissingBatch)),
        ),
        (
            "command inserted outside the application",
            |c, _| {
                Ok(c.execute_batch(
                    "INSERT INTO commands (at, kind, body) VALUES ('t', 'payment', '{}')",
                )?)
            },
            Some((
                4,
                Some(3),
                UnchainedRows {
                    table: ChainedTable::Commands,
                },
            )),
        ),
        (
            "well-formed batch appended outside the application",
            |c, _| {
                c.execute_batch(
                    "INSERT INTO audit (seq, entry, batch) VALUES (6, 'a6', 4);
                                 INSERT INTO batches (seq, digest, head) VALUES (4, '', '')",
                )?;
                Ok(rehash(c)?)
            },
            Some((
                4,
                Some(3),
                Extended {
                    anchored: 4,
                    found: 5,
                },
            )),
        ),
        (
            "checkpoint file deleted",
            |_, s| Ok(std::fs::remove_file(s.checkpoint())?),
            Some((0, None, MissingAnchor)),
        ),
        (
            "checkpoint re-signed with another key",
            |_, s| {
                let mut anchor = FileAnchor::new(s.checkpoint(), Durability::Normal);
                let found = anchor.read()?.ok_or("no checkpoint")?;
                let attacker = ChainKey::new(b"attacker's own key".to_vec())?;
                Ok(anchor.write(&found.checkpoint.sign(&attacker))?)
            },
            Some((0, None, BadSignature)),
        ),
        (
            "checkpoint file damaged",
            |_, s| Ok(std::fs::write(s.checkpoint(), b"{\"checkpoint\":")?),
            Some((0, None, MalformedAnchor)),
        ),
        (
            "tokens and outbox changed (not chained)",
            |c, _| Ok(c.execute_batch("DELETE FROM tokens; UPDATE meta SET value = 'x';")?),
            None,
        ),
    ];
    for (name, tamper, expected) in cases {
        check(name, tamper, expected)?;
    }
    Ok(())
}

#[test]
fn opening_with_another_key_reports_a_bad_signature() -> TestResult {
    let scratch = Scratch::new()?;
    populate(&mut scratch.open()?)?;
    let report = scratch
        .open_with_key(b"a different configured key")?
        .verify_chain()?;
    assert_eq!(
        report.broken.map(|b| b.reason),
        Some(BreakReason::BadSignature)
    );
    Ok(())
}

#[test]
fn a_crash_between_announcement_and_commit_verifies() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.open()?;
    populate(&mut store)?;
    // The announcement is written, then the transaction fails (audit 1 exists): the state
    // a crash between steps 1 and 2 leaves.
    let doomed = Batch {
        command: command("payment", r#"{"amount":"5.00"}"#),
        audit: vec![(1, "again".into())],
        ..Batch::default()
    };
    assert!(store.commit(&doomed).is_err());
    let anchored = FileAnchor::new(scratch.checkpoint(), Durability::Normal)
        .read()?
        .ok_or("no checkpoint")?;
    assert_eq!(anchored.checkpoint.confirmed.batches, 4);
    assert_eq!(anchored.checkpoint.pending.map(|p| p.batches), Some(5));
    assert!(store.verify_chain()?.is_intact());
    drop(store);
    let mut store = scratch.open()?;
    assert!(store.verify_chain()?.is_intact());
    store.commit(&Batch {
        audit: vec![(6, "a6".into())],
        ..Batch::default()
    })?;
    let report = store.verify_chain()?;
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.batches, 5);
    Ok(())
}

/// An anchor whose confirmations are lost: a crash between the commit and step 3.
struct LosesConfirmations(MemoryAnchor);

impl Anchor for LosesConfirmations {
    fn read(&self) -> Result<Option<super::SignedCheckpoint>, StoreError> {
        self.0.read()
    }
    fn write(&mut self, checkpoint: &super::SignedCheckpoint) -> Result<(), StoreError> {
        self.0.write(checkpoint)
    }
    fn confirm(&mut self, _: &super::SignedCheckpoint) -> Result<(), StoreError> {
        Err(std::io::Error::other("crashed before confirming").into())
    }
}

#[test]
fn a_crash_between_commit_and_confirmation_verifies() -> TestResult {
    let memory = MemoryAnchor::new();
    let anchor = Box::new(LosesConfirmations(memory.clone()));
    let mut store = SqliteStore::in_memory_with(anchor, ChainKey::new(KEY.to_vec())?)?;
    populate(&mut store)?;
    let anchored = memory.get().ok_or("no checkpoint")?.checkpoint;
    assert_eq!(anchored.confirmed.batches, 3);
    assert_eq!(anchored.pending.map(|p| p.batches), Some(4));
    let report = store.verify_chain()?;
    assert!(report.is_intact() && report.batches == 4, "{report}");
    Ok(())
}

#[test]
fn changes_while_running_are_caught_even_with_an_older_checkpoint() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.open()?;
    populate(&mut store)?;
    let old = std::fs::read(scratch.checkpoint())?;
    store.commit(&Batch {
        audit: vec![(6, "a6".into())],
        ..Batch::default()
    })?;
    // Delete the newest batch and put back the (authentic) checkpoint from before it.
    scratch
        .sql()?
        .execute_batch("DELETE FROM audit WHERE batch = 4; DELETE FROM batches WHERE seq = 4;")?;
    std::fs::write(scratch.checkpoint(), &old)?;
    let report = store.verify_chain()?;
    let expected = BreakReason::Truncated {
        expected: 5,
        found: 4,
    };
    assert_eq!(report.broken.map(|b| b.reason), Some(expected));
    // The known limit: a store opened afterwards has only the replayed checkpoint to go by.
    drop(store);
    assert!(scratch.open()?.verify_chain()?.is_intact());
    Ok(())
}

#[test]
fn a_new_database_needs_no_checkpoint_until_its_first_batch() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.open()?;
    let report = store.verify_chain()?;
    assert!(report.is_intact() && report.batches == 0, "{report}");
    assert!(!scratch.checkpoint().exists());
    store.commit(&Batch {
        audit: vec![(1, "a1".into())],
        ..Batch::default()
    })?;
    assert!(scratch.checkpoint().exists());
    assert!(store.verify_chain()?.is_intact());
    Ok(())
}

#[test]
fn reanchoring_accepts_the_database_as_it_is() -> TestResult {
    let scratch = Scratch::new()?;
    populate(&mut scratch.open()?)?;
    scratch
        .sql()?
        .execute_batch("DELETE FROM audit WHERE batch = 3; DELETE FROM reviews WHERE batch = 3; DELETE FROM batches WHERE seq = 3;")?;
    let mut store = scratch.open()?;
    assert!(!store.verify_chain()?.is_intact());
    store.reanchor()?;
    assert!(store.verify_chain()?.is_intact());
    store.commit(&Batch {
        audit: vec![(4, "a4 again".into())],
        ..Batch::default()
    })?;
    assert!(scratch.open()?.verify_chain()?.is_intact());
    Ok(())
}

#[test]
fn a_version_2_database_is_sealed_as_batch_0() -> TestResult {
    let scratch = Scratch::new()?;
    {
        let conn = scratch.sql()?;
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(
            "INSERT INTO commands (at, kind, body) VALUES ('t1', 'register', '{}'), ('t2', 'payment', '{\"amount\":\"10.00\"}');
             INSERT INTO audit (seq, entry) VALUES (1, 'a1'), (2, 'a2');
             INSERT INTO reviews (audit_seq, justification) VALUES (2, 'why');
             PRAGMA user_version = 2;",
        )?;
    }
    let mut store = scratch.open()?;
    assert_eq!(store.schema_version()?, SCHEMA_VERSION);
    let report = store.verify_chain()?;
    assert!(report.is_intact() && report.batches == 1, "{report}");
    store.commit(&Batch {
        audit: vec![(3, "a3".into())],
        ..Batch::default()
    })?;
    assert_eq!(store.load()?.commands.len(), 2);
    drop(store);
    scratch.sql()?.execute_batch(
        "UPDATE commands SET body = '{\"amount\":\"1000.00\"}' WHERE kind = 'payment'",
    )?;
    let report = scratch.open()?.verify_chain()?;
    let expected = ChainBreak {
        first_bad_batch: 0,
        last_good_batch: None,
        reason: BreakReason::DigestMismatch,
    };
    assert_eq!(report.broken, Some(expected));
    Ok(())
}

#[test]
fn an_in_memory_store_shares_its_anchor() -> TestResult {
    let anchor = MemoryAnchor::new();
    let mut store =
        SqliteStore::in_memory_with(Box::new(anchor.clone()), ChainKey::new(KEY.to_vec())?)?;
    populate(&mut store)?;
    assert_eq!(
        anchor.get().map(|s| s.checkpoint.confirmed.batches),
        Some(4)
    );
    assert!(store.verify_chain()?.is_intact());
    anchor.set(None);
    let report = store.verify_chain()?;
    assert_eq!(
        report.broken.map(|b| b.reason),
        Some(BreakReason::MissingAnchor)
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn data_files_are_created_private() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new()?;
    let mut store = scratch.open()?;
    populate(&mut store)?;
    let wal = scratch.0.join("clinic.db-wal");
    let shm = scratch.0.join("clinic.db-shm");
    for path in [scratch.db(), wal, shm, scratch.checkpoint()] {
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    Ok(())
}

#[test]
fn hmac_matches_rfc_4231_case_2() {
    let mac = super::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(
        hex(&mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn checkpoints_verify_under_their_key_only() -> TestResult {
    let checkpoint = super::Checkpoint {
        confirmed: super::ChainPoint {
            batches: 4,
            head: hex(&[7; 32]),
        },
        pending: None,
    };
    let signed = checkpoint.sign(&ChainKey::new(KEY.to_vec())?);
    assert!(signed.is_authentic(&ChainKey::new(KEY.to_vec())?));
    assert!(!signed.is_authentic(&ChainKey::development()));
    let mut moved = signed.clone();
    moved.checkpoint.confirmed.batches = 3;
    assert!(!moved.is_authentic(&ChainKey::new(KEY.to_vec())?));
    let mut announced = signed;
    announced.checkpoint.pending = Some(announced.checkpoint.confirmed.clone());
    assert!(!announced.is_authentic(&ChainKey::new(KEY.to_vec())?));
    Ok(())
}

#[test]
fn keys_are_checked_and_never_printed() {
    assert_eq!(
        ChainKey::new(b"short".to_vec()),
        Err(super::ChainKeyError::TooShort {
            found: 5,
            minimum: 16
        })
    );
    let key = ChainKey::development();
    assert_eq!(format!("{key:?}"), "ChainKey(<redacted>)");
}

#[test]
fn row_encodings_are_unambiguous() {
    let digest = |rows: &[(&str, &str, &str)]| {
        let mut h = BatchHasher::new();
        for (at, kind, body) in rows {
            h.command(at.as_bytes(), kind.as_bytes(), body.as_bytes());
        }
        h.finish()
    };
    type Rows<'a> = &'a [(&'a str, &'a str, &'a str)];
    let cases: [(Rows<'_>, Rows<'_>); 3] = [
        (&[("ab", "c", "")], &[("a", "bc", "")]),
        (
            &[("a", "b", "c"), ("d", "e", "f")],
            &[("d", "e", "f"), ("a", "b", "c")],
        ),
        (&[("a", "b", "")], &[("a", "b", ""), ("", "", "")]),
    ];
    for (left, right) in cases {
        assert_ne!(digest(left), digest(right), "{left:?} / {right:?}");
    }
    let mut audit = BatchHasher::new();
    audit.audit(1, b"x");
    let mut review = BatchHasher::new();
    review.review(1, b"x");
    assert_ne!(audit.finish(), review.finish());
}

#[test]
fn hashes_round_trip_through_hex() {
    let hash = [0xa5; 32];
    assert_eq!(super::parse_hash(&hex(&hash)), Some(hash));
    for bad in ["", "00", &"g".repeat(64), &"0".repeat(63)] {
        assert_eq!(super::parse_hash(bad), None, "{bad}");
    }
}

#[test]
fn the_file_anchor_reads_what_it_wrote() -> TestResult {
    let scratch = Scratch::new()?;
    let mut anchor = FileAnchor::new(scratch.checkpoint(), Durability::Full);
    assert_eq!(anchor.read()?, None);
    let at = |batches: u64| {
        super::Checkpoint {
            confirmed: super::ChainPoint {
                batches,
                head: hex(&[0; 32]),
            },
            pending: None,
        }
        .sign(&ChainKey::development())
    };
    anchor.write(&at(1))?;
    anchor.write(&at(2))?;
    assert_eq!(anchor.read()?, Some(at(2)));
    // A write torn half-way through damages only its own slot: the previous checkpoint reads.
    let mut bytes = std::fs::read(scratch.checkpoint())?;
    bytes[..100].fill(b'#');
    std::fs::write(scratch.checkpoint(), &bytes)?;
    assert_eq!(anchor.read()?, Some(at(1)));
    anchor.write(&at(3))?;
    assert_eq!(anchor.read()?, Some(at(3)));
    // A file deleted under the open anchor is created again by the next write.
    std::fs::remove_file(scratch.checkpoint())?;
    anchor.write(&at(4))?;
    assert_eq!(
        FileAnchor::new(scratch.checkpoint(), Durability::Normal).read()?,
        Some(at(4))
    );
    std::fs::write(scratch.checkpoint(), b"not json")?;
    assert!(matches!(anchor.read(), Err(StoreError::Corrupt { .. })));
    Ok(())
}

#[test]
fn break_reports_read_plainly() {
    use BreakReason::*;
    let cases = [
        (
            ChainBreak {
                first_bad_batch: 2,
                last_good_batch: Some(1),
                reason: DigestMismatch,
            },
            "at batch 2 (last good batch: 1): the rows of this batch differ from what was \
             committed (a row was edited, deleted or added)",
        ),
        (
            ChainBreak {
                first_bad_batch: 3,
                last_good_batch: Some(2),
                reason: Truncated {
                    expected: 4,
                    found: 3,
                },
            },
            "at batch 3 (last good batch: 2): the database holds 3 batches but the checkpoint \
             confirms 4 (the newest were deleted)",
        ),
        (
            ChainBreak {
                first_bad_batch: 4,
                last_good_batch: Some(3),
                reason: UnchainedRows {
                    table: ChainedTable::Reviews,
                },
            },
            "at batch 4 (last good batch: 3): rows in the review queue belong to no committed \
             batch (added outside the application)",
        ),
        (
            ChainBreak {
                first_bad_batch: 0,
                last_good_batch: None,
                reason: MissingAnchor,
            },
            "at batch 0 (last good batch: none): the checkpoint is missing although the \
             database holds batches",
        ),
    ];
    for (found, expected) in cases {
        assert_eq!(found.to_string(), expected);
    }
}
