//! [`PostgresStore`]: the [`Store`] port on PostgreSQL, for clinics that outgrow one file.
//!
//! The tables are the SQLite store's (command journal, audit, review queue, batch chain,
//! outbox, tokens, meta) in PostgreSQL types, with the same batch chain and the same
//! announce → commit → confirm protocol against the [`Anchor`]. Every commit runs under a
//! cluster-wide advisory lock held from the announcement to the confirmation, so writers on
//! several processes append to **one** chain in one order: the batch and command sequence
//! numbers are assigned inside that lock from the database (`MAX + 1`), never from a counter
//! in memory, and their primary keys make a second writer of the same number fail rather than
//! fork the chain.
//!
//! The client is the blocking [`postgres`] crate (the synchronous face of `tokio-postgres`,
//! same maintainers): the store port is synchronous, like `rusqlite`, and the backend calls it
//! from blocking threads, never from the async runtime.
//!
//! This file is over 800 lines: one method per [`Store`] method on one connection, plus the
//! migrations; the group write is apart in `group`.

use super::{
    Batch, Chained, Durability, Loaded, OutboxMessage, Store, TokenRow, announcement, corrupt,
};
use crate::error::StoreError;
use crate::integrity::{
    self, Anchor, BatchRow, CHAINED, ChainKey, ChainReport, ChainTip, ChainedTable, Checkpoint,
    Record, RecordSource, TableStream,
};
use postgres::{Client, NoTls, Transaction};

mod group;

/// The newest PostgreSQL schema version this build knows.
pub const PG_SCHEMA_VERSION: i64 = 5;

/// PostgreSQL migrations; `PG_MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
/// Never edit a released migration: append a new one.
const PG_MIGRATIONS: [&str; 5] = [
    "
    CREATE TABLE batches (seq BIGINT PRIMARY KEY, digest TEXT NOT NULL, head TEXT NOT NULL);
    CREATE TABLE commands (
        seq BIGINT PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        batch BIGINT
    );
    CREATE INDEX commands_batch ON commands (batch, seq);
    CREATE TABLE audit (seq BIGINT PRIMARY KEY, entry TEXT NOT NULL, batch BIGINT);
    CREATE INDEX audit_batch ON audit (batch, seq);
    CREATE TABLE reviews (audit_seq BIGINT PRIMARY KEY, justification TEXT NOT NULL, batch BIGINT);
    CREATE INDEX reviews_batch ON reviews (batch, audit_seq);
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
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
    CREATE INDEX outbox_pending ON outbox (status, send_at);
    CREATE INDEX outbox_patient ON outbox (patient);
    CREATE INDEX outbox_purpose ON outbox (purpose) WHERE status = 'pending';
    CREATE TABLE tokens (hash TEXT PRIMARY KEY, principal TEXT NOT NULL, expires_at TEXT NOT NULL);
",
    // Keys the database itself keeps unique (see `Batch::unique`).
    "CREATE TABLE unique_keys (kind TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (kind, key));",
    // Snapshots of the clinic's state (see `Store::save_snapshot`).
    "CREATE TABLE snapshots (
        commands BIGINT PRIMARY KEY,
        audit BIGINT NOT NULL,
        batches BIGINT NOT NULL,
        head TEXT NOT NULL,
        body TEXT NOT NULL,
        mac TEXT NOT NULL
    );
    -- Stored out of line uncompressed: pglz on a 100 MB body costs seconds each way.
    ALTER TABLE snapshots ALTER COLUMN body SET STORAGE EXTERNAL;",
    // What booked appointments occupy (see `Batch::holds`): no two holds of one resource
    // overlap. Checked at commit, so a batch may release and re-hold in one statement.
    // btree_gist (shipped with PostgreSQL, a trusted extension) lets the exclusion compare the
    // resource by equality.
    "CREATE EXTENSION IF NOT EXISTS btree_gist;
    CREATE TABLE holds (
        appointment TEXT NOT NULL,
        resource TEXT NOT NULL,
        during TSTZRANGE NOT NULL CHECK (NOT isempty(during)),
        CONSTRAINT holds_no_overlap EXCLUDE USING gist (resource WITH =, during WITH &&)
            DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX holds_appointment ON holds (appointment);
    -- Filled from the state by the next start (`holds_filled` marks it done).
    DELETE FROM meta WHERE key = 'holds_filled';",
    // Snapshot bodies stored LZ4-compressed (`packed`, see `pack`): a third of the bytes to
    // read back at start-up and to write to the log. Rows written before keep `body`.
    "ALTER TABLE snapshots ALTER COLUMN body DROP NOT NULL;
    ALTER TABLE snapshots ADD COLUMN packed BYTEA;
    ALTER TABLE snapshots ALTER COLUMN packed SET STORAGE EXTERNAL;",
];

/// Advisory lock keys (arbitrary constants, "bedside" in ASCII plus a purpose digit).
const MIGRATE_LOCK: i64 = 0x6265_6473_6964_6501;
const WRITE_LOCK: i64 = 0x6265_6473_6964_6502;

/// The body of a packed snapshot (LZ4 block, its length first). The length is checked against
/// what LZ4 can expand to before anything is allocated, so an edited row cannot make the
/// reader allocate gigabytes; the snapshot's tag is checked on the text afterwards.
fn unpack(packed: &[u8]) -> Result<String, StoreError> {
    /// LZ4 expands a block at most about 255-fold.
    const MAX_RATIO: usize = 255;
    let bad = || corrupt("snapshots", "the packed body does not decompress");
    let (len, block) = packed.split_first_chunk::<4>().ok_or_else(bad)?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| bad())?;
    if len > block.len().saturating_mul(MAX_RATIO) {
        return Err(bad());
    }
    let bytes = lz4_flex::block::decompress(block, len).map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| corrupt("snapshots", "the packed body is not text"))
}

/// Rows fetched per round trip while verifying the chain.
const FETCH: usize = 2_000;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The server's DETAIL line may quote row values (a duplicate key's value): keep only
        // the SQLSTATE and the primary message.
        match e.as_db_error() {
            Some(db) => StoreError::Postgres {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
            },
            None => StoreError::Postgres {
                code: "connection".into(),
                message: if e.is_closed() {
                    "connection closed".into()
                } else {
                    "client or connection error".into()
                },
            },
        }
    }
}

/// PostgreSQL store. Any number of processes may open the same database: commits are
/// serialised by an advisory lock and numbered from the database.
pub struct PostgresStore {
    client: Conn,
    /// The write path's statements, prepared once per connection (each unprepared statement
    /// costs an extra round trip).
    sql: Prepared,
    /// Nesting depth of [`Store::lock_writes`].
    locks_held: u32,
    /// Whether `tip` is the database's head for certain: this process holds the write lock and
    /// has read or written the head since taking it.
    tip_fresh: bool,
    anchor: Box<dyn Anchor>,
    key: ChainKey,
    /// The head after this store's last commit or the last head it read.
    tip: ChainTip,
    /// The group flusher ([`Durability::Group`]): commits are asynchronous under the write
    /// lock, and a request is answered after one synchronous commit on a second connection
    /// has flushed the log past it (with the anchor file first).
    group: Option<std::sync::Arc<super::GroupSync>>,
    /// Token lookups on connections of their own ([`Store::token_reader`]).
    tokens: std::sync::Arc<TokenPool>,
    /// Batches accepted and not yet written, in order (group commit, see [`Pending`]).
    pending: Vec<Pending>,
    /// Whether held-back batches failed to be written since [`Store::take_lost`] last asked.
    lost: bool,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Requests may be waiting for these: written, or failed and recorded as failed for
        // them, never left pending.
        if let Err(e) = self.write_pending() {
            eprintln!("postgres store: writing the last group at close failed: {e}");
        }
    }
}

/// Connections for token lookups beside the store's own, opened on demand and kept for
/// reuse (at most [`TokenPool::IDLE`] idle).
struct TokenPool {
    url: String,
    /// Idle connections with the lookup prepared on each (an unprepared query costs a second
    /// round trip and a parse every time).
    idle: std::sync::Mutex<Vec<(Conn, postgres::Statement)>>,
}

/// The token lookup.
const TOKEN_SQL: &str = "SELECT hash, principal, expires_at FROM tokens WHERE hash = $1";

impl TokenPool {
    const IDLE: usize = 8;
}

impl super::TokenReader for TokenPool {
    fn token(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (mut conn, lookup) = match taken {
            Some(idle) => idle,
            None => {
                let mut conn = Conn(Some(Client::connect(&self.url, NoTls)?));
                let lookup = conn.prepare(TOKEN_SQL)?;
                (conn, lookup)
            }
        };
        let row = conn.query_opt(&lookup, &[&hash])?.map(token_from_row);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < Self::IDLE {
            idle.push((conn, lookup));
        }
        Ok(row)
    }
}

fn token_from_row(r: postgres::Row) -> TokenRow {
    TokenRow {
        hash: r.get(0),
        principal: r.get(1),
        expires_at: r.get(2),
    }
}

fn token_row(client: &mut Client, hash: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(client.query_opt(TOKEN_SQL, &[&hash])?.map(token_from_row))
}

/// Statements of the write path.
#[derive(Clone)]
struct Prepared {
    tip: postgres::Statement,
    /// A group of batches in one statement (one round trip, its own transaction).
    write_group: postgres::Statement,
    /// The write lock's take and release: prepared, so each is one round trip, not two.
    lock: postgres::Statement,
    unlock: postgres::Statement,
}

impl Prepared {
    fn new(client: &mut Client) -> Result<Self, StoreError> {
        Ok(Prepared {
            tip: client.prepare("SELECT seq, head FROM batches ORDER BY seq DESC LIMIT 1")?,
            write_group: client.prepare(group::WRITE_GROUP)?,
            lock: client.prepare("SELECT pg_advisory_lock($1)")?,
            unlock: client.prepare("SELECT pg_advisory_unlock($1)")?,
        })
    }
}

/// The connection, handed to a plain thread when the store is dropped on an async runtime's
/// thread (closing a blocking client there would panic).
struct Conn(Option<Client>);

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        match &self.0 {
            Some(c) => c,
            None => unreachable!("the connection is only taken by drop"),
        }
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        match &mut self.0 {
            Some(c) => c,
            None => unreachable!("the connection is only taken by drop"),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("bedside-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("batches", &self.tip.batches)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`), applies pending migrations, and
    /// keeps the checkpoint in `anchor` signed with `key`. Every process serving the same
    /// database must share the anchor (a file on shared storage, for example) and the key.
    ///
    /// # Errors
    /// [`StoreError`] when the server cannot be reached, a migration fails, or the database
    /// was written by a newer schema.
    pub fn connect(
        url: &str,
        durability: Durability,
        anchor: Box<dyn Anchor>,
        key: ChainKey,
    ) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls)?;
        let sync = match durability {
            Durability::Normal | Durability::Group => "off",
            Durability::Full => "on",
        };
        client.batch_execute(&format!("SET synchronous_commit = {sync}"))?;
        let group = match durability {
            Durability::Group => Some(std::sync::Arc::new(group_flusher(url, &*anchor)?)),
            Durability::Normal | Durability::Full => None,
        };
        // Migrate before preparing: the statements name the tables.
        migrate(&mut client)?;
        let sql = Prepared::new(&mut client)?;
        let mut store = PostgresStore {
            client: Conn(Some(client)),
            sql,
            locks_held: 0,
            tip_fresh: false,
            anchor,
            key,
            tip: ChainTip::EMPTY,
            group,
            tokens: std::sync::Arc::new(TokenPool {
                url: url.to_owned(),
                idle: std::sync::Mutex::new(Vec::new()),
            }),
            pending: Vec::new(),
            lost: false,
        };
        store.tip = read_tip(&mut store.client)?;
        Ok(store)
    }

    /// Drops every table this store created (for `--reset` in demos and tests): the clinic in
    /// that database is gone afterwards.
    ///
    /// # Errors
    /// [`StoreError`] when the server cannot be reached or refuses.
    pub fn drop_all(url: &str) -> Result<(), StoreError> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute(
            "DROP TABLE IF EXISTS commands, audit, reviews, batches, outbox, tokens, unique_keys, meta CASCADE",
        )?;
        Ok(())
    }

    /// The schema version of the database.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        schema_version(&mut self.client)
    }

    /// Writes `batches` in order with the write lock held (announce, commit, confirm): one
    /// statement and one transaction, so all of them are stored or none.
    fn write_locked(&mut self, batches: &[&Batch]) -> Result<(), StoreError> {
        let chained = batches
            .iter()
            .map(|b| Chained::of(b))
            .collect::<Result<Vec<_>, _>>()?;
        // Another process may have committed since this one last looked: the chain continues
        // from the database's head, not from memory (unless this process holds the lock and
        // has seen the head since taking it).
        let tip = if self.tip_fresh {
            self.tip
        } else {
            read_tip_with(&mut self.client, &self.sql.tip)?
        };
        let (links, next) = group::links(tip, &chained)?;
        let chains = next.batches != tip.batches;
        if chains {
            // One announcement covers the group: the database holds all of it or none.
            self.anchor
                .write(&announcement(&tip, &next).sign(&self.key))?;
        }
        let rows = group::GroupRows::of(batches, &chained, &links);
        if let Err(e) = write_group(&mut self.client, &self.sql, &rows) {
            // Whether it committed is unknown: read the head again next time.
            self.tip_fresh = false;
            return Err(e);
        }
        self.tip = next;
        if chains {
            let confirmed = Checkpoint {
                confirmed: next.point(),
                pending: None,
            };
            // As in the SQLite store: a failed confirmation leaves an announcement that
            // still accepts the database as it now is.
            let _ = self.anchor.confirm(&confirmed.sign(&self.key));
        }
        // Under the write lock the head this store just wrote stays the database's head.
        self.tip_fresh = self.locks_held > 0;
        Ok(())
    }

    /// Writes the batches [`Store::commit`] accepted and held back (see [`Pending`]), as one
    /// group. A failure is recorded against their tickets, so each waiting request learns
    /// its write was lost, and marks the clinic's memory as ahead of the database
    /// ([`Store::take_lost`]).
    fn write_pending(&mut self) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.pending);
        let (Some(first), Some(last)) = (pending.first(), pending.last()) else {
            return Ok(());
        };
        let tickets = (first.ticket, last.ticket);
        let batches: Vec<&Batch> = pending.iter().map(|p| &p.batch).collect();
        let written = self.write_locked(&batches);
        if let Some(group) = &self.group {
            match &written {
                Ok(()) => group.written(tickets.1),
                Err(e) => group.failed(tickets.0, tickets.1, e),
            }
        }
        if written.is_err() {
            self.lost = true;
        }
        written
    }
}

/// A batch [`Store::commit`] accepted under the write lock with [`Durability::Group`] and
/// holds back until the lock is released, another read needs the database, or
/// [`group::MAX_GROUP`] are waiting: its request is answered only after the group flush,
/// which waits for it to be written ([`super::GroupSync::wait`]).
struct Pending {
    batch: Batch,
    ticket: u64,
}

/// Writes a group's rows with [`group::WRITE_GROUP`]: one round trip, its own transaction.
fn write_group(
    client: &mut Client,
    sql: &Prepared,
    rows: &group::GroupRows<'_>,
) -> Result<(), StoreError> {
    let r = rows;
    let written = client.execute(
        &sql.write_group,
        &[
            &r.command_at,
            &r.command_kind,
            &r.command_body,
            &r.command_batch,
            &r.audit_seq,
            &r.audit_entry,
            &r.audit_batch,
            &r.review_seq,
            &r.review_text,
            &r.review_batch,
            &r.batch_seq,
            &r.batch_digest,
            &r.batch_head,
            &r.withdraw_sms,
            &r.withdraw_purposes,
            &r.outbox[0],
            &r.outbox[1],
            &r.outbox[2],
            &r.outbox[3],
            &r.outbox[4],
            &r.outbox[5],
            &r.outbox[6],
            &r.outbox[7],
            &r.token_hash,
            &r.token_principal,
            &r.token_expires,
            &r.unique_kind,
            &r.unique_key,
            &r.release,
            &r.hold_appointment,
            &r.hold_resource,
            &r.hold_start,
            &r.hold_end,
        ],
    );
    match written {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_db_error().is_some_and(|db| {
                db.code() == &postgres::error::SqlState::EXCLUSION_VIOLATION
                    && db.constraint() == Some("holds_no_overlap")
            }) =>
        {
            Err(StoreError::Conflict {
                what: "double booking",
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The group flusher of a [`Durability::Group`] store: the anchor file, then one synchronous
/// commit on a connection of its own, which returns once the server's log is flushed past
/// every commit made before it (the log is one sequence, so this covers the asynchronous
/// commits of every connection).
fn group_flusher(url: &str, anchor: &dyn Anchor) -> Result<super::GroupSync, StoreError> {
    let mut client = Client::connect(url, NoTls)?;
    client.batch_execute("SET synchronous_commit = on")?;
    let flusher = std::sync::Mutex::new(Conn(Some(client)));
    let files: Vec<std::path::PathBuf> =
        anchor.file().map(|p| p.to_path_buf()).into_iter().collect();
    let flush: super::ExtraFlush = Box::new(move || {
        let mut conn = flusher.lock().unwrap_or_else(|p| p.into_inner());
        // An id makes the transaction write a commit record, and a synchronous commit waits
        // for the log to be flushed up to it.
        conn.batch_execute("SELECT txid_current()")?;
        Ok(())
    });
    Ok(super::GroupSync::with_flush(files, None, Some(flush)))
}

fn schema_version(client: &mut Client) -> Result<i64, StoreError> {
    let row = client.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?;
    match row {
        None => Ok(0),
        Some(r) => r
            .get::<_, String>(0)
            .parse()
            .map_err(|_| corrupt("meta", "schema_version is not a number")),
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    // Several nodes may start at once: one migrates, the others wait and then see it done.
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])?;
    let result = migrate_locked(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
    result?;
    unlocked?;
    Ok(())
}

/// How many PostgreSQL migrations this build has (tests compare it with the version).
#[cfg(test)]
pub(super) fn migration_count() -> usize {
    PG_MIGRATIONS.len()
}

fn migrate_locked(client: &mut Client) -> Result<(), StoreError> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    let found = schema_version(client)?;
    for (to, sql) in super::pending_migrations(found, &PG_MIGRATIONS)? {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&to.to_string()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn read_tip(client: &mut Client) -> Result<ChainTip, StoreError> {
    let stmt = client.prepare("SELECT seq, head FROM batches ORDER BY seq DESC LIMIT 1")?;
    read_tip_with(client, &stmt)
}

fn read_tip_with(client: &mut Client, stmt: &postgres::Statement) -> Result<ChainTip, StoreError> {
    let row = client.query_opt(stmt, &[])?;
    Ok(match row {
        None => ChainTip::EMPTY,
        Some(r) => ChainTip {
            batches: u64::try_from(r.get::<_, i64>(0))
                .unwrap_or(0)
                .saturating_add(1),
            head: integrity::parse_hash(r.get::<_, &str>(1)).unwrap_or(integrity::GENESIS_HEAD),
        },
    })
}

/// A server-side cursor over one chained table, fetched [`FETCH`] rows at a time.
struct Cursor {
    name: &'static str,
    width: usize,
    buffered: std::collections::VecDeque<Record>,
    done: bool,
}

impl Cursor {
    /// A cursor over the table's rows from batch `from` on.
    fn open(tx: &mut Transaction<'_>, table: ChainedTable, from: u64) -> Result<Self, StoreError> {
        let (name, width, select) = match table {
            ChainedTable::Commands => (
                "walk_commands",
                3,
                "SELECT batch, seq, at, kind, body FROM commands
                 WHERE batch >= {from} ORDER BY batch, seq",
            ),
            ChainedTable::Audit => (
                "walk_audit",
                1,
                "SELECT batch, seq, entry FROM audit WHERE batch >= {from} ORDER BY batch, seq",
            ),
            ChainedTable::Reviews => (
                "walk_reviews",
                1,
                "SELECT batch, audit_seq, justification FROM reviews
                 WHERE batch >= {from} ORDER BY batch, audit_seq",
            ),
        };
        // `from` is an integer: formatting it in cannot inject anything.
        let select = select.replace("{from}", &from.to_string());
        tx.batch_execute(&format!("DECLARE {name} NO SCROLL CURSOR FOR {select}"))?;
        Ok(Cursor {
            name,
            width,
            buffered: Default::default(),
            done: false,
        })
    }
}

impl<'c> RecordSource<&std::cell::RefCell<Transaction<'c>>> for Cursor {
    fn next_record(
        &mut self,
        tx: &mut &std::cell::RefCell<Transaction<'c>>,
    ) -> Result<Option<Record>, StoreError> {
        if self.buffered.is_empty() && !self.done {
            let rows = tx
                .borrow_mut()
                .query(&format!("FETCH {FETCH} FROM {}", self.name), &[])?;
            self.done = rows.len() < FETCH;
            for row in rows {
                let mut texts = [None, None, None];
                for (i, slot) in texts.iter_mut().enumerate().take(self.width) {
                    *slot = row.get::<_, Option<String>>(i + 2).map(String::into_bytes);
                }
                self.buffered.push_back(Record {
                    batch: row.get(0),
                    key: row.get(1),
                    texts,
                });
            }
        }
        Ok(self.buffered.pop_front())
    }
}

/// A read-only transaction on one snapshot of the database, so the tables it reads agree.
fn read_snapshot(client: &mut Client) -> Result<Transaction<'_>, postgres::Error> {
    client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
}

impl Store for PostgresStore {
    fn load_after(&mut self, commands: u64, audit: u64) -> Result<Loaded, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        crate::phases::time("journal read", || {
            let commands = i64::try_from(commands).map_err(|_| corrupt("commands", "overflow"))?;
            let audit = i64::try_from(audit).map_err(|_| corrupt("audit", "overflow"))?;
            let mut tx = read_snapshot(&mut self.client)?;
            let mut loaded = Loaded::default();
            for r in tx.query(
                "SELECT at, kind, body FROM commands WHERE seq > $1 ORDER BY seq",
                &[&commands],
            )? {
                loaded.commands.push((r.get(0), r.get(1), r.get(2)));
            }
            for r in tx.query(
                "SELECT entry FROM audit WHERE seq >= $1 ORDER BY seq",
                &[&audit],
            )? {
                loaded.audit.push(r.get(0));
            }
            for r in tx.query(
            "SELECT audit_seq, justification FROM reviews WHERE audit_seq >= $1 ORDER BY audit_seq",
            &[&audit],
        )? {
            let seq = u64::try_from(r.get::<_, i64>(0))
                .map_err(|_| corrupt("reviews", "negative sequence"))?;
            loaded.reviews.push((seq, r.get(1)));
        }
            tx.commit()?;
            Ok(loaded)
        })
    }

    fn chain_point(&mut self) -> Result<integrity::ChainPoint, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        Ok(read_tip_with(&mut self.client, &self.sql.tip)?.point())
    }

    fn save_snapshot(
        &mut self,
        commands: u64,
        audit: u64,
        chain: &integrity::ChainPoint,
        body: &str,
    ) -> Result<(), StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        let int = |v: u64| i64::try_from(v).map_err(|_| corrupt("snapshots", "overflow"));
        let (commands_i, audit_i) = (int(commands)?, int(audit)?);
        let mut tx = self.client.transaction()?;
        let mac = super::snapshot_mac(&self.key, commands, audit, chain, body);
        let batches = int(chain.batches)?;
        let packed = lz4_flex::block::compress_prepend_size(body.as_bytes());
        tx.execute(
            "INSERT INTO snapshots (commands, audit, batches, head, packed, mac)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (commands) DO NOTHING",
            &[&commands_i, &audit_i, &batches, &chain.head, &packed, &mac],
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE commands NOT IN
             (SELECT commands FROM snapshots ORDER BY commands DESC LIMIT $1)",
            &[&super::SNAPSHOTS_KEPT],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn audit_mentioning(&mut self, needle: &str, before: u64) -> Result<Vec<String>, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        let before = i64::try_from(before).map_err(|_| corrupt("audit", "overflow"))?;
        Ok(self
            .client
            .query(
                "SELECT entry FROM audit WHERE seq < $1 AND strpos(entry, $2) > 0 ORDER BY seq",
                &[&before, &needle],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn latest_snapshot(&mut self) -> Result<Option<super::StoredSnapshot>, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        let Some(r) = crate::phases::time("snapshot row read", || {
            self.client.query_opt(
                "SELECT commands, audit, batches, head, body, packed, mac FROM snapshots
                 ORDER BY commands DESC LIMIT 1",
                &[],
            )
        })?
        else {
            return Ok(None);
        };
        let nat = |v: i64| u64::try_from(v).map_err(|_| corrupt("snapshots", "negative position"));
        let batches: i64 = r.get(2);
        let mac: String = r.get(6);
        // A body in plain text (written before schema 5, or edited by hand) wins over a
        // packed one; either way the tag decides whether it is used.
        let body = match (r.get::<_, Option<String>>(4), r.get::<_, Option<&[u8]>>(5)) {
            (Some(body), _) => body,
            (None, Some(packed)) => crate::phases::time("snapshot decompress", || unpack(packed))?,
            (None, None) => return Err(corrupt("snapshots", "a snapshot without a body")),
        };
        let row = super::StoredSnapshot {
            commands: nat(r.get(0))?,
            audit: nat(r.get(1))?,
            chain: integrity::ChainPoint {
                batches: nat(batches)?,
                head: r.get(3),
            },
            body,
        };
        let stored_head: Option<String> = self
            .client
            .query_opt("SELECT head FROM batches WHERE seq = $1", &[&(batches - 1)])?
            .map(|h| h.get(0));
        crate::phases::time("snapshot tag check", || {
            super::check_snapshot(&self.key, row, &mac, stored_head.as_deref())
        })
        .map(Some)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Group commit under the write lock: the request is answered after the shared flush
        // anyway, so its rows wait for the others' and go in one statement with them.
        if let Some(group) = &self.group
            && self.locks_held > 0
        {
            let ticket = group.reserve();
            super::note_commit(ticket);
            self.pending.push(Pending {
                batch: batch.clone(),
                ticket,
            });
            if self.pending.len() >= group::MAX_GROUP {
                self.write_pending()?;
            }
            return Ok(());
        }
        self.lock_writes()?;
        let result = self.write_locked(&[batch]);
        if result.is_ok()
            && let Some(group) = &self.group
        {
            super::note_commit(group.committed());
        }
        let unlocked = self.unlock_writes();
        result?;
        unlocked?;
        Ok(())
    }

    fn take_lost(&mut self) -> bool {
        std::mem::take(&mut self.lost)
    }

    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        token_row(&mut self.client, hash)
    }

    fn token_reader(&self) -> Option<std::sync::Arc<dyn super::TokenReader>> {
        Some(self.tokens.clone())
    }

    fn outbox(
        &mut self,
        status: Option<&str>,
        patient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.client.query(
            "SELECT id, created_at, send_at, patient, purpose, channel, address, body, status
             FROM outbox
             WHERE ($1::TEXT IS NULL OR status = $1) AND ($2::TEXT IS NULL OR patient = $2)
             ORDER BY send_at, id LIMIT $3",
            &[&status, &patient, &limit],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxMessage {
                id: r.get(0),
                created_at: r.get(1),
                send_at: r.get(2),
                patient: r.get(3),
                purpose: r.get(4),
                channel: r.get(5),
                address: r.get(6),
                body: r.get(7),
                status: r.get(8),
            })
            .collect())
    }

    fn mark_sent(&mut self, ids: &[i64], at: &str) -> Result<(), StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        self.client.execute(
            "UPDATE outbox SET status = 'sent', sent_at = $2
             WHERE id = ANY($1) AND status = 'pending'",
            &[&ids, &at],
        )?;
        Ok(())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        Ok(self
            .client
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        self.client.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn verify_chain_from(
        &mut self,
        from: Option<&integrity::ChainPoint>,
    ) -> Result<ChainReport, StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        crate::phases::time("chain check", || {
            let start = from
                .and_then(ChainTip::from_point)
                .unwrap_or(ChainTip::EMPTY);
            let anchored = match self.anchor.read() {
                Ok(found) => Ok(found),
                Err(StoreError::Corrupt { .. }) => Err(integrity::BreakReason::MalformedAnchor),
                Err(e) => return Err(e),
            };
            let mut probes = vec![self.tip.batches];
            if let Ok(Some(signed)) = &anchored {
                probes.push(signed.checkpoint.confirmed.batches);
                probes.extend(signed.checkpoint.pending.as_ref().map(|p| p.batches));
            }
            let mut tx = read_snapshot(&mut self.client)?;
            let stored: i64 = tx.query_one("SELECT COUNT(*) FROM batches", &[])?.get(0);
            let mut streams = [
                TableStream::new(
                    ChainedTable::Commands,
                    Cursor::open(&mut tx, ChainedTable::Commands, start.batches)?,
                ),
                TableStream::new(
                    ChainedTable::Audit,
                    Cursor::open(&mut tx, ChainedTable::Audit, start.batches)?,
                ),
                TableStream::new(
                    ChainedTable::Reviews,
                    Cursor::open(&mut tx, ChainedTable::Reviews, start.batches)?,
                ),
            ];
            tx.batch_execute(&format!(
                "DECLARE walk_batches NO SCROLL CURSOR FOR
             SELECT seq, digest, head FROM batches WHERE seq >= {} ORDER BY seq",
                start.batches
            ))?;
            let mut pending: std::collections::VecDeque<BatchRow> = Default::default();
            let mut exhausted = false;
            let tx_cell = std::cell::RefCell::new(tx);
            let mut next_batch = || -> Result<Option<BatchRow>, StoreError> {
                if pending.is_empty() && !exhausted {
                    let rows = tx_cell
                        .borrow_mut()
                        .query(&format!("FETCH {FETCH} FROM walk_batches"), &[])?;
                    exhausted = rows.len() < FETCH;
                    pending.extend(rows.into_iter().map(|r| BatchRow {
                        seq: r.get(0),
                        digest: r.get(1),
                        head: r.get(2),
                    }));
                }
                Ok(pending.pop_front())
            };
            let mut ctx = &tx_cell;
            let mut walk =
                integrity::walk_streams(&mut ctx, &mut streams, &mut next_batch, &probes, start)?;
            let mut tx = tx_cell.into_inner();
            walk.stored = u64::try_from(stored).unwrap_or(0);
            if walk.broken.is_none() && start.batches == 0 {
                walk.broken = unchained(&mut tx, walk.tip.batches)?;
            }
            tx.commit()?;
            // Other processes advance the chain: judge against the newest head this process has
            // seen, which is at least the one it last committed.
            let remembered = if walk.tip.batches >= self.tip.batches {
                walk.tip
            } else {
                self.tip
            };
            let broken = match walk.broken.clone() {
                Some(inside) => Some(inside),
                None => integrity::judge(&walk, anchored, &self.key, &remembered),
            };
            Ok(ChainReport {
                batches: walk.stored,
                head: integrity::hex(&walk.tip.head),
                broken,
            })
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn group_sync(&self) -> Option<std::sync::Arc<super::GroupSync>> {
        self.group.clone()
    }

    fn lock_writes(&mut self) -> Result<(), StoreError> {
        // Reentrant: only the outermost call talks to the database.
        if self.locks_held == 0 {
            self.client.execute(&self.sql.lock, &[&WRITE_LOCK])?;
            self.tip_fresh = false;
        }
        self.locks_held += 1;
        Ok(())
    }

    fn unlock_writes(&mut self) -> Result<(), StoreError> {
        match self.locks_held {
            0 => Ok(()),
            1 => {
                // Held-back batches are written before another process may write.
                let written = self.write_pending();
                self.locks_held = 0;
                self.tip_fresh = false;
                self.client.execute(&self.sql.unlock, &[&WRITE_LOCK])?;
                written
            }
            _ => {
                self.locks_held -= 1;
                Ok(())
            }
        }
    }

    fn load_since(&mut self, commands: u64, audit: u64) -> Result<Loaded, StoreError> {
        // Under the write lock, with the head read or written since taking it, nobody else
        // can have committed: no round trip at all.
        if self.locks_held > 0 && self.tip_fresh {
            return Ok(Loaded::default());
        }
        self.write_pending()?;
        // One round trip when nothing happened: every chained row arrives with a batch, so an
        // unchanged head means nothing new to read.
        let tip = read_tip_with(&mut self.client, &self.sql.tip)?;
        if tip == self.tip {
            self.tip_fresh = self.locks_held > 0;
            return Ok(Loaded::default());
        }
        let loaded = self.load_after(commands, audit)?;
        // Only now: a failure above must make the next call read again. Under the write lock
        // nobody else moves the head, so it stays known until the lock is released.
        self.tip = tip;
        self.tip_fresh = self.locks_held > 0;
        Ok(loaded)
    }

    fn reanchor(&mut self) -> Result<(), StoreError> {
        // What this process committed is in the database before it is read.
        self.write_pending()?;
        let tip = read_tip(&mut self.client)?;
        let checkpoint = Checkpoint {
            confirmed: tip.point(),
            pending: None,
        };
        self.anchor.write(&checkpoint.sign(&self.key))?;
        self.tip = tip;
        Ok(())
    }
}

/// Rows whose batch number is missing or names no batch.
fn unchained(
    tx: &mut Transaction<'_>,
    batches: u64,
) -> Result<Option<integrity::ChainBreak>, StoreError> {
    for table in CHAINED {
        // Two EXISTS, not `batch NOT IN (SELECT …)`: that is planned as a subplan, hashed only
        // while the batches fit in work_mem and otherwise scanned once per row (a 1 M-row
        // journal took over ten minutes); NOT EXISTS is an anti-join.
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {t} WHERE batch IS NULL)
                 OR EXISTS (SELECT 1 FROM {t} x
                            WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.seq = x.batch))",
            t = table.name()
        );
        if tx.query_one(&sql, &[])?.get::<_, bool>(0) {
            let reason = integrity::BreakReason::UnchainedRows { table };
            return Ok(Some(integrity::ChainBreak::new(
                batches,
                batches.checked_sub(1),
                reason,
            )));
        }
    }
    Ok(None)
}
