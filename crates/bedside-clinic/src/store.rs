//! Persistence: the [`Store`] trait and its SQLite implementation [`SqliteStore`].
//!
//! The clinic keeps its domain state in memory and journals every accepted command. A
//! [`Batch`] — the command, the audit entries, review-queue items, outbox messages and tokens it
//! produced — is written in **one** SQLite transaction, so a crash leaves the whole change or
//! none of it. On start-up the journal is replayed to rebuild the state, and the audit chain is
//! read back and verified.

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// Schema migrations, applied in order; `MIGRATIONS[i]` takes the schema from version `i` to
/// `i + 1`. Never edit a released migration: append a new one.
const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE commands (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
     CREATE TABLE audit (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
     CREATE TABLE reviews (audit_seq INTEGER PRIMARY KEY, justification TEXT NOT NULL);
     CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        send_at TEXT NOT NULL,
        patient TEXT NOT NULL,
        purpose TEXT NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        sent_at TEXT
     );
     CREATE TABLE tokens (hash TEXT PRIMARY KEY, principal TEXT NOT NULL, expires_at TEXT NOT NULL);",
    "CREATE INDEX outbox_pending ON outbox (status, send_at);
     CREATE INDEX outbox_patient ON outbox (patient);",
];

/// An outbound message waiting in the outbox. `Debug` omits the address and text.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxMessage {
    /// Row id (0 until stored).
    pub id: i64,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// When it should be sent, not earlier (RFC 3339).
    pub send_at: String,
    /// The patient it concerns (or the nurse queue's id for alerts).
    pub patient: String,
    /// Why: `appointment-reminders`, `notice`, `statement`, `survey`, `nurse-alert`.
    pub purpose: String,
    /// `sms`, `email`, `portal` or `internal`.
    pub channel: String,
    /// Where to deliver (phone number, e-mail address, queue name).
    pub address: String,
    /// The text.
    pub body: String,
    /// `pending`, `sent` or `withdrawn`.
    pub status: String,
}

impl std::fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("id", &self.id)
            .field("send_at", &self.send_at)
            .field("purpose", &self.purpose)
            .field("channel", &self.channel)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A stored bearer token (only its SHA-256 hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// The principal, as JSON.
    pub principal: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
}

/// Everything one command (or audited read) writes, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The journaled command: (at, kind, JSON body).
    pub command: Option<(String, String, String)>,
    /// Audit entries (canonical JSON lines), in chain order.
    pub audit: Vec<(u64, String)>,
    /// Review-queue items: (audit sequence number, justification).
    pub reviews: Vec<(u64, String)>,
    /// Outbound messages to queue.
    pub outbox: Vec<OutboxMessage>,
    /// Pending outbox rows to withdraw: an appointment id withdraws its reminders;
    /// `sms:<patient id>` withdraws every pending SMS to that patient.
    pub withdraw: Vec<String>,
    /// Tokens to store.
    pub tokens: Vec<TokenRow>,
}

impl Batch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.command.is_none()
            && self.audit.is_empty()
            && self.reviews.is_empty()
            && self.outbox.is_empty()
            && self.withdraw.is_empty()
            && self.tokens.is_empty()
    }
}

/// What start-up reads back.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Journaled commands in order: (at, kind, JSON body).
    pub commands: Vec<(String, String, String)>,
    /// Audit entries in order.
    pub audit: Vec<String>,
    /// Review items: (audit sequence number, justification).
    pub reviews: Vec<(u64, String)>,
}

/// The persistence port. [`SqliteStore`] implements it; a PostgreSQL adapter would implement
/// the same methods (see `docs/ARCHITECTURE.md`).
pub trait Store: Send {
    /// Reads the journal, audit chain and review queue.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn load(&mut self) -> Result<Loaded, StoreError>;
    /// Writes a batch atomically.
    ///
    /// # Errors
    /// [`StoreError`] when the transaction fails; nothing of the batch is then stored.
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// Looks a token up by hash.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Outbox messages, filtered by status and (optionally) patient, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn outbox(
        &mut self,
        status: Option<&str>,
        patient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Marks messages as sent.
    ///
    /// # Errors
    /// [`StoreError`] when the update fails (then none is marked).
    fn mark_sent(&mut self, ids: &[i64], at: &str) -> Result<(), StoreError>;
    /// A metadata value.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets a metadata value.
    ///
    /// # Errors
    /// [`StoreError`] when the write fails.
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
}

/// How hard each commit is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a process crash loses nothing acknowledged; a power
    /// loss may lose the last few commits (never half of one).
    #[default]
    Normal,
    /// `synchronous=FULL`: every acknowledged commit survives a power loss too.
    Full,
}

/// SQLite store: WAL mode, versioned migrations at open, one transaction per batch.
pub struct SqliteStore {
    conn: Connection,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated, or was written by a newer
    /// schema.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn, durability)
    }

    /// An in-memory database (tests and demos).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, Durability::Normal)
    }

    fn init(conn: Connection, durability: Durability) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    /// The schema version of the open database.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate() {
            let to = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
            if to <= found {
                continue;
            }
            // Each migration and its version bump commit together.
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
        }
        Ok(())
    }
}

fn corrupt(table: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.into(),
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let mut loaded = Loaded::default();
        let mut stmt = self
            .conn
            .prepare("SELECT at, kind, body FROM commands ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            loaded.commands.push(row?);
        }
        let mut stmt = self.conn.prepare("SELECT entry FROM audit ORDER BY seq")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            loaded.audit.push(row?);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT audit_seq, justification FROM reviews ORDER BY audit_seq")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (seq, text) = row?;
            let seq = u64::try_from(seq).map_err(|_| corrupt("reviews", "negative sequence"))?;
            loaded.reviews.push((seq, text));
        }
        Ok(loaded)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        if let Some((at, kind, body)) = &batch.command {
            tx.prepare_cached("INSERT INTO commands (at, kind, body) VALUES (?1, ?2, ?3)")?
                .execute(params![at, kind, body])?;
        }
        for (seq, entry) in &batch.audit {
            let seq = i64::try_from(*seq).map_err(|_| corrupt("audit", "sequence overflow"))?;
            tx.prepare_cached("INSERT INTO audit (seq, entry) VALUES (?1, ?2)")?
                .execute(params![seq, entry])?;
        }
        for (seq, text) in &batch.reviews {
            let seq = i64::try_from(*seq).map_err(|_| corrupt("reviews", "sequence overflow"))?;
            tx.prepare_cached("INSERT INTO reviews (audit_seq, justification) VALUES (?1, ?2)")?
                .execute(params![seq, text])?;
        }
        // Withdraw first: a re-planned appointment withdraws its old reminders and queues
        // new ones in the same batch.
        for reference in &batch.withdraw {
            if let Some(patient) = reference.strip_prefix("sms:") {
                tx.prepare_cached(
                    "UPDATE outbox SET status = 'withdrawn'
                     WHERE patient = ?1 AND channel = 'sms' AND status = 'pending'",
                )?
                .execute(params![patient])?;
            } else {
                tx.prepare_cached(
                    "UPDATE outbox SET status = 'withdrawn' WHERE purpose = ?1 AND status = 'pending'",
                )?
                .execute(params![format!("appointment-reminders:{reference}")])?;
            }
        }
        for m in &batch.outbox {
            tx.prepare_cached(
                "INSERT INTO outbox (created_at, send_at, patient, purpose, channel, address, body, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                m.created_at,
                m.send_at,
                m.patient,
                m.purpose,
                m.channel,
                m.address,
                m.body,
                m.status
            ])?;
        }
        for t in &batch.tokens {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO tokens (hash, principal, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![t.hash, t.principal, t.expires_at])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT hash, principal, expires_at FROM tokens WHERE hash = ?1")?
            .query_row(params![hash], |r| {
                Ok(TokenRow {
                    hash: r.get(0)?,
                    principal: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn outbox(
        &mut self,
        status: Option<&str>,
        patient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, created_at, send_at, patient, purpose, channel, address, body, status FROM outbox
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR patient = ?2)
             ORDER BY send_at, id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![status, patient, limit], |r| {
            Ok(OutboxMessage {
                id: r.get(0)?,
                created_at: r.get(1)?,
                send_at: r.get(2)?,
                patient: r.get(3)?,
                purpose: r.get(4)?,
                channel: r.get(5)?,
                address: r.get(6)?,
                body: r.get(7)?,
                status: r.get(8)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    fn mark_sent(&mut self, ids: &[i64], at: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_versioned_and_idempotent() -> Result<(), Box<dyn std::error::Error>> {
        let path = std::env::temp_dir().join(format!("bedside-store-{}.db", uuid::Uuid::now_v7()));
        {
            let store = SqliteStore::open(&path, Durability::Normal)?;
            assert_eq!(store.schema_version()?, SCHEMA_VERSION);
        }
        let mut store = SqliteStore::open(&path, Durability::Normal)?;
        assert_eq!(store.schema_version()?, SCHEMA_VERSION);
        store.set_meta("k", "v")?;
        assert_eq!(store.meta("k")?.as_deref(), Some("v"));
        drop(store);
        let _ = std::fs::remove_file(&path);
        Ok(())
    }

    #[test]
    fn a_failing_batch_leaves_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let mut store = SqliteStore::in_memory()?;
        let batch = Batch {
            command: Some(("t".into(), "k".into(), "{}".into())),
            // The same audit sequence twice violates the primary key half-way through.
            audit: vec![(1, "a".into()), (1, "b".into())],
            ..Batch::default()
        };
        assert!(store.commit(&batch).is_err());
        let loaded = store.load()?;
        assert!(loaded.commands.is_empty() && loaded.audit.is_empty());
        Ok(())
    }
}
