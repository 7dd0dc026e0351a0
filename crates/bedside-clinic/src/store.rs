//! Persistence: the [`Store`] trait and its SQLite implementation [`SqliteStore`].
//!
//! The clinic keeps its domain state in memory and journals every accepted command. A
//! [`Batch`] — the command, the audit entries, review-queue items, outbox messages and tokens it
//! produced — is written in **one** SQLite transaction, so a crash leaves the whole change or
//! none of it. On start-up the journal is replayed to rebuild the state, and the audit chain is
//! read back and verified.
//!
//! Every batch that writes journal, audit or review rows is also a link of a hash chain whose
//! head is anchored outside the database ([`crate::integrity`]), so
//! [`Store::verify_chain`] detects rows edited, deleted or added behind the application's
//! back, including a deleted tail and a consistently re-hashed chain.
//!
//! This file is over 800 lines: the port, its batch and group-sync types and the SQLite adapter
//! share the chain protocol and are read together; the adapter is the part to move out
//! (`store/sqlite.rs`) when it grows further.

use crate::error::StoreError;
use crate::integrity::{
    self, Anchor, BreakReason, ChainKey, ChainReport, ChainTip, Checkpoint, FileAnchor, Hash,
    MemoryAnchor,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::Path;

mod postgres;

pub use postgres::{PG_SCHEMA_VERSION, PostgresStore};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 6;

/// The schema version that introduced the batch chain (and seals older rows as batch 0).
const CHAIN_VERSION: i64 = 3;

/// Schema migrations, applied in order; `MIGRATIONS[i]` takes the schema from version `i` to
/// `i + 1`. Never edit a released migration: append a new one.
pub(crate) const MIGRATIONS: [&str; 6] = [
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
    // The batch chain; rows already present are sealed as batch 0 by the store right after
    // this runs, in the same transaction.
    "ALTER TABLE commands ADD COLUMN batch INTEGER;
     ALTER TABLE audit ADD COLUMN batch INTEGER;
     ALTER TABLE reviews ADD COLUMN batch INTEGER;
     CREATE TABLE batches (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, head TEXT NOT NULL);",
    // Keys the database itself keeps unique (payment idempotency keys, booking client tokens,
    // gateway message ids), beside the services' own checks. Keys from before this version
    // are checked by the services only.
    "CREATE TABLE unique_keys (kind TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (kind, key));",
    // Snapshots of the clinic's state (start-up replays only the journal after the newest),
    // and batch indexes so verifying the chain from a snapshot reads only the rows after it.
    "CREATE TABLE snapshots (
        commands INTEGER PRIMARY KEY,
        audit INTEGER NOT NULL,
        batches INTEGER NOT NULL,
        head TEXT NOT NULL,
        body TEXT NOT NULL,
        mac TEXT NOT NULL
     );
     CREATE INDEX commands_batch ON commands (batch, seq);
     CREATE INDEX audit_batch ON audit (batch, seq);
     CREATE INDEX reviews_batch ON reviews (batch, audit_seq);",
    // What each booked appointment occupies (provider, room, patient over its encounter),
    // kept free of overlaps by the database itself (see [`Hold`]); filled from the state for
    // appointments booked before this version by the clinic's first start on it.
    "CREATE TABLE holds (
        appointment TEXT NOT NULL,
        resource TEXT NOT NULL,
        start_at INTEGER NOT NULL,
        end_at INTEGER NOT NULL,
        CHECK (start_at < end_at)
     );
     CREATE INDEX holds_appointment ON holds (appointment);
     CREATE INDEX holds_resource ON holds (resource, end_at);
     CREATE TRIGGER holds_no_overlap BEFORE INSERT ON holds
     WHEN EXISTS (SELECT 1 FROM holds WHERE resource = NEW.resource
                  AND end_at > NEW.start_at AND start_at < NEW.end_at)
     BEGIN SELECT RAISE(ABORT, 'holds_no_overlap'); END;
     DELETE FROM meta WHERE key = 'holds_filled';",
];

/// Snapshots a store keeps; older ones are deleted when a newer one is written.
pub(crate) const SNAPSHOTS_KEPT: i64 = 2;

/// The migrations still to apply to a database at schema `found`, as (version after it, SQL);
/// refuses a database written by a newer schema than `migrations` knows.
pub(crate) fn pending_migrations(
    found: i64,
    migrations: &'static [&'static str],
) -> Result<Vec<(i64, &'static str)>, StoreError> {
    let supported = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    Ok((1..=supported)
        .zip(migrations.iter().copied())
        .filter(|(to, _)| *to > found)
        .collect())
}

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

/// Looks tokens up concurrently with the store's own work (see [`Store::token_reader`]).
pub trait TokenReader: Send + Sync {
    /// Looks a token up by hash, as [`Store::token`] does.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn token(&self, hash: &str) -> Result<Option<TokenRow>, StoreError>;
}

/// Everything one command (or audited read) writes, in one transaction.
///
/// The command, audit entries and review items are evidence and are chained (see
/// [`crate::integrity`]); outbox messages, withdrawals and tokens are mutable operational data
/// and are not.
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
    /// Keys the database must not have seen before, as (kind, key): a payment's idempotency
    /// key, a booking's client token, a gateway message id. A key already stored fails the
    /// whole batch, so no process can apply the same request twice even if its own check
    /// missed it.
    pub unique: Vec<(String, String)>,
    /// Appointments whose [`Hold`]s are dropped before `holds` are written (a cancelled or
    /// moved appointment gives up what it occupied; a moved one holds again).
    pub release: Vec<String>,
    /// What booked appointments occupy. An overlap with another appointment's hold on the
    /// same resource fails the whole batch with [`StoreError::Conflict`]: no process can
    /// double-book a provider, room or patient even if its own state was stale.
    pub holds: Vec<Hold>,
}

/// One resource an appointment occupies over its encounter (buffers excluded; designated
/// overbooking holds nothing), as the database's double-booking constraint sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The appointment id.
    pub appointment: String,
    /// `provider:<id>`, `room:<id>` or `patient:<id>`.
    pub resource: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End (exclusive), Unix seconds.
    pub end: i64,
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
            && self.unique.is_empty()
            && self.release.is_empty()
            && self.holds.is_empty()
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

/// A stored snapshot of the clinic's state, authenticated by the store (see
/// [`Store::latest_snapshot`]).
#[derive(Clone)]
pub struct StoredSnapshot {
    /// Journaled commands it covers.
    pub commands: u64,
    /// Audit entries it covers.
    pub audit: u64,
    /// The chain position it was taken at; verifying from here covers everything after it.
    pub chain: integrity::ChainPoint,
    /// The clinic's serialized state.
    pub body: String,
}

impl std::fmt::Debug for StoredSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSnapshot")
            .field("commands", &self.commands)
            .field("audit", &self.audit)
            .field("chain", &self.chain)
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The tag a store writes beside a snapshot: HMAC-SHA256 under the chain key over its position,
/// chain point and the SHA-256 of its body. Whoever can edit the database but not read the key
/// cannot make a snapshot start-up accepts.
pub(crate) fn snapshot_mac(
    key: &ChainKey,
    commands: u64,
    audit: u64,
    chain: &integrity::ChainPoint,
    body: &str,
) -> String {
    use sha2::Digest;
    let digest = integrity::hex(&sha2::Sha256::digest(body.as_bytes()));
    let message = format!(
        "bedside-state-snapshot-v1:{commands}:{audit}:{}:{}:{digest}",
        chain.batches, chain.head
    );
    integrity::hex(&bedside_consent::audit::hmac_sha256(
        key.bytes(),
        message.as_bytes(),
    ))
}

/// Checks a stored snapshot row: its tag, and that the batch it names still has the head it
/// recorded (`stored_head`, `None` when that batch is gone).
pub(crate) fn check_snapshot(
    key: &ChainKey,
    row: StoredSnapshot,
    mac: &str,
    stored_head: Option<&str>,
) -> Result<StoredSnapshot, StoreError> {
    let bad = |message: &str| StoreError::Corrupt {
        table: "snapshots",
        message: format!("snapshot at command {}: {message}", row.commands),
    };
    let expected = snapshot_mac(key, row.commands, row.audit, &row.chain, &row.body);
    let same = expected.len() == mac.len()
        && expected
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(bad("its tag does not verify under the chain key"));
    }
    let head_ok = if row.chain.batches == 0 {
        row.chain.head == integrity::hex(&integrity::GENESIS_HEAD)
    } else {
        stored_head == Some(row.chain.head.as_str())
    };
    if !head_ok {
        return Err(bad("the chain no longer has the head it was taken at"));
    }
    Ok(row)
}

/// The persistence port. [`SqliteStore`] implements it; a PostgreSQL adapter would implement
/// the same methods (see `docs/ARCHITECTURE.md`).
pub trait Store: Send {
    /// Reads the journal, audit chain and review queue.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn load(&mut self) -> Result<Loaded, StoreError> {
        self.load_after(0, 0)
    }
    /// The journal rows after the first `commands`, and the audit entries and review items
    /// from audit sequence number `audit` on, always read from the database (start-up after a
    /// snapshot).
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn load_after(&mut self, commands: u64, audit: u64) -> Result<Loaded, StoreError>;
    /// The chain position after the last batch, as the database has it (read under the
    /// write lock, it is the position of everything the caller has applied).
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn chain_point(&mut self) -> Result<integrity::ChainPoint, StoreError>;
    /// Stores a snapshot of the clinic's state covering the first `commands` journaled
    /// commands and `audit` audit entries, taken when the chain stood at `chain` (from
    /// [`Store::chain_point`] at the moment the state was copied). Older snapshots beyond the
    /// newest few are deleted; a snapshot at the same position already stored is kept.
    ///
    /// # Errors
    /// [`StoreError`] when the write fails (the journal is untouched either way).
    fn save_snapshot(
        &mut self,
        commands: u64,
        audit: u64,
        chain: &integrity::ChainPoint,
        body: &str,
    ) -> Result<(), StoreError>;
    /// The newest snapshot, if any, after checking its tag and that the chain still has the
    /// head it was taken at.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] (table `snapshots`) when the newest snapshot fails those checks:
    /// the caller then replays the whole journal; other [`StoreError`]s when the database
    /// cannot be read.
    fn latest_snapshot(&mut self) -> Result<Option<StoredSnapshot>, StoreError>;
    /// Stored audit entries before sequence number `before` whose text mentions `needle` (a
    /// patient id), in order: a clinic resumed from a snapshot holds only later entries in
    /// memory. The caller parses them and keeps those that really concern the patient.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn audit_mentioning(&mut self, needle: &str, before: u64) -> Result<Vec<String>, StoreError>;
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
    /// Re-reads the database (not memory), recomputes every batch digest and the head chain,
    /// and checks the result against the anchored checkpoint and the head this store committed
    /// last. A break is a report, not an error.
    ///
    /// # Errors
    /// [`StoreError`] when the database or the anchor cannot be read.
    fn verify_chain(&mut self) -> Result<ChainReport, StoreError> {
        self.verify_chain_from(None)
    }
    /// As [`Store::verify_chain`], but trusting the chain up to `from` (a point a checked
    /// snapshot vouches for) and re-reading only the batches after it: start-up's check. Rows
    /// outside any batch are looked for only by the full check.
    ///
    /// # Errors
    /// [`StoreError`] when the database or the anchor cannot be read.
    fn verify_chain_from(
        &mut self,
        from: Option<&integrity::ChainPoint>,
    ) -> Result<ChainReport, StoreError>;
    /// Whether other processes may write the same database. The clinic then holds
    /// [`Store::lock_writes`] while it serves a request and catches up with
    /// [`Store::load_since`] first, so every process applies every command in one order.
    fn shared(&self) -> bool {
        false
    }
    /// Takes the database-wide write lock (reentrant; held until [`Store::unlock_writes`]).
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached.
    fn lock_writes(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Releases the lock taken by [`Store::lock_writes`].
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached.
    fn unlock_writes(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The journal rows after the first `commands`, and the audit entries and review items
    /// from audit sequence number `audit` on: what other processes committed since this one
    /// last looked. A store nobody else writes has nothing to report.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    fn load_since(&mut self, commands: u64, audit: u64) -> Result<Loaded, StoreError> {
        let _ = (commands, audit);
        Ok(Loaded::default())
    }
    /// A token reader that works beside this store, for a store whose lookups cost a round
    /// trip: the clinic then authenticates without holding its lock, so a request's token
    /// check never waits behind another request's write. `None` (SQLite: a lookup is an
    /// in-process index probe) looks tokens up through [`Store::token`] under the lock.
    fn token_reader(&self) -> Option<std::sync::Arc<dyn TokenReader>> {
        None
    }
    /// Whether batches this store accepted from [`Store::commit`] and held back were lost
    /// since the last call: a group write failed after the commits had returned, so the
    /// caller's memory is ahead of the database and must be rebuilt. Their requests learn it
    /// from [`GroupSync::wait_for`]. A store that writes every batch at once never loses one.
    fn take_lost(&mut self) -> bool {
        false
    }
    /// The group flusher of a store opened with [`Durability::Group`], shared with the clinic
    /// so requests wait for it outside the clinic's lock.
    fn group_sync(&self) -> Option<std::sync::Arc<GroupSync>> {
        None
    }
    /// Writes a fresh checkpoint for the database's current head, accepting the database as it
    /// now is: for a privacy officer's explicit decision after investigating a break (breaks
    /// inside the database stay visible to [`Store::verify_chain`]).
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read or the anchor not written.
    fn reanchor(&mut self) -> Result<(), StoreError>;
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
    /// Group commit: commits are written as with [`Durability::Normal`], and a request is
    /// acknowledged only after [`GroupSync::wait`] has flushed the checkpoint file and the
    /// write-ahead log with one `fdatasync` each for every commit made before it started, so
    /// concurrent requests share a flush. Acknowledged commits survive a power loss, as with
    /// [`Durability::Full`]. The HTTP layer waits ([`Clinic::wait_durable`]); an in-process
    /// embedder calls [`Clinic::wait_durable`] itself before treating a write as durable.
    /// PostgreSQL treats it as `synchronous_commit=on`.
    ///
    /// [`Clinic::wait_durable`]: crate::Clinic::wait_durable
    Group,
}

thread_local! {
    /// The group-sync tickets of the first and last commits this thread made since they were
    /// last taken (0: none).
    static COMMITS: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Notes that this thread made the commit with `ticket`.
pub(crate) fn note_commit(ticket: u64) {
    COMMITS.with(|c| {
        let (first, _) = c.get();
        c.set((if first == 0 { ticket } else { first }, ticket));
    });
}

/// Takes the tickets of the first and last commits this thread made, if any (`(0, 0)`: none).
pub(crate) fn take_commits() -> (u64, u64) {
    COMMITS.with(|c| c.replace((0, 0)))
}

/// Flushes committed-but-unsynced data for a group of commits at once (see
/// [`Durability::Group`]). One flush runs at a time; a waiter whose commit an earlier flush
/// already covered returns at once, and the others are covered by the next flush together.
pub struct GroupSync {
    /// Flushed in this order: the anchor before the log, so a crash between the two leaves the
    /// checkpoint ahead (an announcement the database can still satisfy), never behind.
    files: Vec<std::path::PathBuf>,
    /// The directory holding them, flushed once (a newly created log needs its entry).
    dir: Option<std::path::PathBuf>,
    /// A flush after the files': PostgreSQL's log, made durable by one synchronous commit
    /// on a connection of its own (see `PostgresStore`).
    then: Option<ExtraFlush>,
    commits: std::sync::atomic::AtomicU64,
    flushes: std::sync::atomic::AtomicU64,
    state: std::sync::Mutex<SyncState>,
    flushed: std::sync::Condvar,
}

/// A store's own flush, run by [`GroupSync`] after the files.
pub(crate) type ExtraFlush = Box<dyn Fn() -> Result<(), StoreError> + Send + Sync>;

impl std::fmt::Debug for GroupSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (commits, flushes) = self.counts();
        f.debug_struct("GroupSync")
            .field("files", &self.files)
            .field("commits", &commits)
            .field("flushes", &flushes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct SyncState {
    synced: u64,
    /// The last ticket whose batch is in the database (a store may hold batches back and
    /// write them as a group; see [`GroupSync::written`]).
    written: u64,
    /// Ticket ranges whose batches were never written, and why (newest last, at most
    /// [`FAILURES_KEPT`]).
    failed: std::collections::VecDeque<(u64, u64, StoreError)>,
    flushing: bool,
    dir_synced: bool,
}

/// Failed ticket ranges remembered for requests still to wait: one range per failed group,
/// and a waiter asks right after its commit, so a few suffice.
const FAILURES_KEPT: usize = 256;

impl GroupSync {
    fn new(files: Vec<std::path::PathBuf>, dir: Option<std::path::PathBuf>) -> Self {
        Self::with_flush(files, dir, None)
    }

    /// A flusher of `files` (and `dir` once) followed by `then`.
    pub(crate) fn with_flush(
        files: Vec<std::path::PathBuf>,
        dir: Option<std::path::PathBuf>,
        then: Option<ExtraFlush>,
    ) -> Self {
        Self {
            files,
            dir,
            then,
            commits: std::sync::atomic::AtomicU64::new(0),
            flushes: std::sync::atomic::AtomicU64::new(0),
            state: std::sync::Mutex::new(SyncState::default()),
            flushed: std::sync::Condvar::new(),
        }
    }

    /// Commits recorded and flushes done so far: the ratio is the group size.
    pub fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::SeqCst;
        (self.commits.load(SeqCst), self.flushes.load(SeqCst))
    }

    /// Records a commit already in the database and returns its ticket.
    pub(crate) fn committed(&self) -> u64 {
        let ticket = self.reserve();
        self.written(ticket);
        ticket
    }

    /// A ticket for a commit its store holds back, to be reported with
    /// [`GroupSync::written`] or [`GroupSync::failed`].
    pub(crate) fn reserve(&self) -> u64 {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            .saturating_add(1)
    }

    /// Every commit up to `ticket` is in the database: waiters may flush it.
    pub(crate) fn written(&self, ticket: u64) {
        let mut st = self.lock_state();
        st.written = st.written.max(ticket);
        drop(st);
        self.flushed.notify_all();
    }

    /// The commits `first..=last` were never written: their waiters get `error`.
    pub(crate) fn failed(&self, first: u64, last: u64, error: &StoreError) {
        let mut st = self.lock_state();
        st.written = st.written.max(last);
        if st.failed.len() == FAILURES_KEPT {
            st.failed.pop_front();
        }
        st.failed.push_back((first, last, error.duplicate()));
        drop(st);
        self.flushed.notify_all();
    }

    /// Returns once the commit with `ticket` is flushed.
    ///
    /// # Errors
    /// [`StoreError::Io`] when a flush fails (the waiter's commit is then not known durable).
    pub fn wait(&self, ticket: u64) -> Result<(), StoreError> {
        self.wait_for(ticket, ticket)
    }

    /// Returns once the commits `first..=last` are written and flushed.
    ///
    /// # Errors
    /// The store's error when any of them was never written (a held-back group failed, as a
    /// whole); [`StoreError::Io`] when a flush fails.
    pub fn wait_for(&self, first: u64, last: u64) -> Result<(), StoreError> {
        let mut st = self.lock_state();
        loop {
            if let Some((_, _, e)) = st.failed.iter().find(|(a, b, _)| *a <= last && first <= *b) {
                return Err(e.duplicate());
            }
            if st.synced >= last {
                return Ok(());
            }
            if st.flushing || st.written < last {
                st = self.flushed.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            st.flushing = true;
            let sync_dir = !st.dir_synced;
            // Every commit written so far is in the files: one flush covers them all.
            let target = st.written;
            drop(st);
            let result = self.flush(sync_dir);
            st = self.lock_state();
            st.flushing = false;
            if result.is_ok() {
                st.synced = st.synced.max(target);
                st.dir_synced |= sync_dir;
            }
            self.flushed.notify_all();
            result?;
        }
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flush(&self, sync_dir: bool) -> Result<(), StoreError> {
        self.flushes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for f in &self.files {
            match std::fs::File::open(f) {
                Ok(file) => file.sync_data()?,
                // The log is created at the first write; nothing to flush before it exists.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        if sync_dir && let Some(dir) = &self.dir {
            std::fs::File::open(dir)?.sync_all()?;
        }
        match &self.then {
            Some(flush) => flush(),
            None => Ok(()),
        }
    }
}

/// SQLite store: WAL mode, versioned migrations at open, one transaction per batch, a hash
/// chain over batches anchored by an [`Anchor`].
///
/// One store per database file at a time: the store numbers batches from the head it keeps in
/// memory, so a second writer's commits would collide with its own (and be refused).
pub struct SqliteStore {
    conn: Connection,
    anchor: Box<dyn Anchor>,
    key: ChainKey,
    /// The head this store committed last (read from the database at open); kept so a commit
    /// does not re-read the chain, and so verification notices changes made while it runs.
    tip: ChainTip,
    /// The group flusher ([`Durability::Group`] on a file database).
    group: Option<std::sync::Arc<GroupSync>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations, with the
    /// checkpoint in `<path>.checkpoint` ([`FileAnchor::beside`]) signed by the **public**
    /// development key ([`ChainKey::development`]). Production uses [`SqliteStore::open_with`]
    /// and a key from its configuration.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated, or was written by a newer
    /// schema.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let anchor = FileAnchor::beside(path, durability);
        Self::open_with(path, durability, Box::new(anchor), ChainKey::development())
    }

    /// Opens (creating if needed, mode 0600 on unix so SQLite's `-wal` and `-shm` files get it
    /// too) the database file and applies pending migrations; checkpoints go to `anchor`, signed
    /// with `key`.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be created, opened or migrated, or was written by a
    /// newer schema, or the genesis checkpoint of an upgrade cannot be written.
    pub fn open_with(
        path: &Path,
        durability: Durability,
        anchor: Box<dyn Anchor>,
        key: ChainKey,
    ) -> Result<Self, StoreError> {
        match integrity::private_options().open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let conn = Connection::open(path)?;
        let group = (durability == Durability::Group).then(|| {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            let mut files: Vec<std::path::PathBuf> =
                anchor.file().map(Path::to_path_buf).into_iter().collect();
            files.push(wal.into());
            let dir = path.parent().map(|d| {
                if d.as_os_str().is_empty() {
                    std::path::PathBuf::from(".")
                } else {
                    d.to_path_buf()
                }
            });
            std::sync::Arc::new(GroupSync::new(files, dir))
        });
        let mut store = Self::init(conn, durability, anchor, key)?;
        store.group = group;
        Ok(store)
    }

    /// An in-memory database (tests and demos) with a [`MemoryAnchor`] and the public
    /// development key ([`ChainKey::development`]).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::in_memory_with(Box::new(MemoryAnchor::new()), ChainKey::development())
    }

    /// An in-memory database whose checkpoints go to `anchor`, signed with `key`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn in_memory_with(anchor: Box<dyn Anchor>, key: ChainKey) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::init(conn, Durability::Normal, anchor, key)
    }

    fn init(
        conn: Connection,
        durability: Durability,
        anchor: Box<dyn Anchor>,
        key: ChainKey,
    ) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match durability {
            // Group commit flushes the log itself, for many commits at once.
            Durability::Normal | Durability::Group => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = SqliteStore {
            conn,
            anchor,
            key,
            tip: ChainTip::EMPTY,
            group: None,
        };
        store.migrate()?;
        store.tip = ChainTip::read(&store.conn)?;
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
        for (to, sql) in pending_migrations(found, &MIGRATIONS)? {
            // Each migration and its version bump commit together.
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            let genesis = match to {
                CHAIN_VERSION => integrity::seal_genesis(&tx)?,
                _ => None,
            };
            tx.pragma_update(None, "user_version", to)?;
            if let Some(genesis) = genesis {
                // The same protocol as a commit: announce, commit, confirm.
                let announce = announcement(&ChainTip::EMPTY, &genesis);
                self.anchor.write(&announce.sign(&self.key))?;
            }
            tx.commit()?;
            if let Some(genesis) = genesis {
                self.confirm(genesis);
            }
        }
        Ok(())
    }

    /// Step 3 of the protocol: the commit of `tip` is durable; record it as confirmed.
    fn confirm(&mut self, tip: ChainTip) {
        self.tip = tip;
        let confirmed = Checkpoint {
            confirmed: tip.point(),
            pending: None,
        };
        // Not an error when this fails: the anchor still holds `{confirmed: n, pending: n + 1}`,
        // which accepts the database as it now is, and the next commit's announcement replaces
        // it. Failing here would report a durable commit as lost.
        let _ = self.anchor.confirm(&confirmed.sign(&self.key));
    }
}

/// The checkpoint written before the commit that moves the chain from `from` to `to`.
pub(crate) fn announcement(from: &ChainTip, to: &ChainTip) -> Checkpoint {
    Checkpoint {
        confirmed: from.point(),
        pending: Some(to.point()),
    }
}

/// Sequence-numbered rows as stored (SQLite integers), in key order: the order the digest and
/// verification read them in.
fn keyed<'b>(
    table: &'static str,
    rows: &'b [(u64, String)],
) -> Result<Vec<(i64, &'b str)>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for (seq, text) in rows {
        let seq = i64::try_from(*seq).map_err(|_| corrupt(table, "sequence overflow"))?;
        out.push((seq, text.as_str()));
    }
    out.sort_by_key(|(seq, _)| *seq);
    Ok(out)
}

/// The chained part of a batch, ready to write.
pub(crate) struct Chained<'b> {
    pub(crate) command: Option<&'b (String, String, String)>,
    pub(crate) audit: Vec<(i64, &'b str)>,
    pub(crate) reviews: Vec<(i64, &'b str)>,
}

impl<'b> Chained<'b> {
    pub(crate) fn of(batch: &'b Batch) -> Result<Self, StoreError> {
        Ok(Self {
            command: batch.command.as_ref(),
            audit: keyed("audit", &batch.audit)?,
            reviews: keyed("reviews", &batch.reviews)?,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.command.is_none() && self.audit.is_empty() && self.reviews.is_empty()
    }

    /// The batch digest, over exactly the rows [`Chained::insert`] writes.
    pub(crate) fn digest(&self) -> Hash {
        let mut hasher = integrity::BatchHasher::new();
        if let Some((at, kind, body)) = self.command {
            hasher.command(at.as_bytes(), kind.as_bytes(), body.as_bytes());
        }
        for (seq, entry) in &self.audit {
            hasher.audit(*seq, entry.as_bytes());
        }
        for (seq, text) in &self.reviews {
            hasher.review(*seq, text.as_bytes());
        }
        hasher.finish()
    }

    fn insert(&self, tx: &Transaction<'_>, batch: Option<i64>) -> Result<(), StoreError> {
        if let Some((at, kind, body)) = self.command {
            tx.prepare_cached(
                "INSERT INTO commands (at, kind, body, batch) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![at, kind, body, batch])?;
        }
        for (seq, entry) in &self.audit {
            tx.prepare_cached("INSERT INTO audit (seq, entry, batch) VALUES (?1, ?2, ?3)")?
                .execute(params![seq, entry, batch])?;
        }
        for (seq, text) in &self.reviews {
            tx.prepare_cached(
                "INSERT INTO reviews (audit_seq, justification, batch) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![seq, text, batch])?;
        }
        Ok(())
    }
}

pub(crate) fn corrupt(table: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.into(),
    }
}

/// Writes the operational (unchained) part of a batch: withdrawals, outbox messages, tokens.
fn write_operational(tx: &Transaction<'_>, batch: &Batch) -> Result<(), StoreError> {
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
    for (kind, key) in &batch.unique {
        tx.prepare_cached("INSERT INTO unique_keys (kind, key) VALUES (?1, ?2)")?
            .execute(params![kind, key])?;
    }
    // Releases first: a moved appointment's new holds may overlap its old ones.
    for appointment in &batch.release {
        tx.prepare_cached("DELETE FROM holds WHERE appointment = ?1")?
            .execute(params![appointment])?;
    }
    for h in &batch.holds {
        tx.prepare_cached(
            "INSERT INTO holds (appointment, resource, start_at, end_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![h.appointment, h.resource, h.start, h.end])
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(_, Some(m)) if m == "holds_no_overlap" => {
                StoreError::Conflict {
                    what: "double booking",
                }
            }
            _ => StoreError::Sqlite(e),
        })?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn load_after(&mut self, commands: u64, audit: u64) -> Result<Loaded, StoreError> {
        crate::phases::time("journal read", || {
            let commands = i64::try_from(commands).map_err(|_| corrupt("commands", "overflow"))?;
            let audit = i64::try_from(audit).map_err(|_| corrupt("audit", "overflow"))?;
            let mut loaded = Loaded::default();
            // One read transaction, so the three tables agree.
            let tx = self.conn.unchecked_transaction()?;
            let mut stmt =
                tx.prepare("SELECT at, kind, body FROM commands WHERE seq > ?1 ORDER BY seq")?;
            let rows = stmt.query_map([commands], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            for row in rows {
                loaded.commands.push(row?);
            }
            let mut stmt = tx.prepare("SELECT entry FROM audit WHERE seq >= ?1 ORDER BY seq")?;
            for row in stmt.query_map([audit], |r| r.get::<_, String>(0))? {
                loaded.audit.push(row?);
            }
            let mut stmt = tx.prepare(
            "SELECT audit_seq, justification FROM reviews WHERE audit_seq >= ?1 ORDER BY audit_seq",
        )?;
            for row in stmt.query_map([audit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })? {
                let (seq, text) = row?;
                let seq =
                    u64::try_from(seq).map_err(|_| corrupt("reviews", "negative sequence"))?;
                loaded.reviews.push((seq, text));
            }
            Ok(loaded)
        })
    }

    fn chain_point(&mut self) -> Result<integrity::ChainPoint, StoreError> {
        Ok(self.tip.point())
    }

    fn save_snapshot(
        &mut self,
        commands: u64,
        audit: u64,
        chain: &integrity::ChainPoint,
        body: &str,
    ) -> Result<(), StoreError> {
        let mac = snapshot_mac(&self.key, commands, audit, chain, body);
        let int = |v: u64, table| i64::try_from(v).map_err(|_| corrupt(table, "overflow"));
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO snapshots (commands, audit, batches, head, body, mac)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                int(commands, "snapshots")?,
                int(audit, "snapshots")?,
                int(chain.batches, "snapshots")?,
                chain.head,
                body,
                mac
            ],
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE commands NOT IN
             (SELECT commands FROM snapshots ORDER BY commands DESC LIMIT ?1)",
            [SNAPSHOTS_KEPT],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn audit_mentioning(&mut self, needle: &str, before: u64) -> Result<Vec<String>, StoreError> {
        let before = i64::try_from(before).map_err(|_| corrupt("audit", "overflow"))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT entry FROM audit WHERE seq < ?1 AND instr(entry, ?2) > 0 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![before, needle], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
    }

    fn latest_snapshot(&mut self) -> Result<Option<StoredSnapshot>, StoreError> {
        let row: Option<(i64, i64, i64, String, String, String)> =
            crate::phases::time("snapshot row read", || {
                self.conn
                    .query_row(
                        "SELECT commands, audit, batches, head, body, mac FROM snapshots
                 ORDER BY commands DESC LIMIT 1",
                        [],
                        |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        },
                    )
                    .optional()
            })?;
        let Some((commands, audit, batches, head, body, mac)) = row else {
            return Ok(None);
        };
        let nat = |v: i64| u64::try_from(v).map_err(|_| corrupt("snapshots", "negative position"));
        let row = StoredSnapshot {
            commands: nat(commands)?,
            audit: nat(audit)?,
            chain: integrity::ChainPoint {
                batches: nat(batches)?,
                head,
            },
            body,
        };
        let stored_head: Option<String> = self
            .conn
            .query_row(
                "SELECT CAST(head AS TEXT) FROM batches WHERE seq = ?1",
                [batches - 1],
                |r| r.get(0),
            )
            .optional()?;
        crate::phases::time("snapshot tag check", || {
            check_snapshot(&self.key, row, &mac, stored_head.as_deref())
        })
        .map(Some)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let chained = Chained::of(batch)?;
        // The next link: (its sequence number, digest, the tip after it). The head of the last
        // batch is cached, so this costs one SHA-256 over the batch's rows and no read.
        let link = if chained.is_empty() {
            None
        } else {
            let seq = i64::try_from(self.tip.batches)
                .map_err(|_| corrupt("batches", "sequence overflow"))?;
            let digest = chained.digest();
            let next = self.tip.append(&digest);
            // Step 1 of the protocol: the anchor learns of the commit before it happens.
            let announce = announcement(&self.tip, &next);
            self.anchor.write(&announce.sign(&self.key))?;
            Some((seq, digest, next))
        };
        let tx = self.conn.transaction()?;
        chained.insert(&tx, link.as_ref().map(|(seq, _, _)| *seq))?;
        if let Some((seq, digest, next)) = &link {
            tx.prepare_cached("INSERT INTO batches (seq, digest, head) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    seq,
                    integrity::hex(digest),
                    integrity::hex(&next.head)
                ])?;
        }
        write_operational(&tx, batch)?;
        tx.commit()?;
        if let Some((_, _, next)) = link {
            self.confirm(next);
        }
        if let Some(group) = &self.group {
            note_commit(group.committed());
        }
        Ok(())
    }

    fn group_sync(&self) -> Option<std::sync::Arc<GroupSync>> {
        self.group.clone()
    }

    fn verify_chain_from(
        &mut self,
        from: Option<&integrity::ChainPoint>,
    ) -> Result<ChainReport, StoreError> {
        crate::phases::time("chain check", || {
            let anchored = match self.anchor.read() {
                Ok(found) => Ok(found),
                Err(StoreError::Corrupt { .. }) => Err(BreakReason::MalformedAnchor),
                Err(e) => return Err(e),
            };
            let mut probes = vec![self.tip.batches];
            if let Ok(Some(signed)) = &anchored {
                probes.push(signed.checkpoint.confirmed.batches);
                probes.extend(signed.checkpoint.pending.as_ref().map(|p| p.batches));
            }
            let start = from
                .and_then(ChainTip::from_point)
                .unwrap_or(ChainTip::EMPTY);
            let walk = integrity::walk(&self.conn, &probes, start)?;
            let broken = match walk.broken.clone() {
                Some(inside) => Some(inside),
                None => integrity::judge(&walk, anchored, &self.key, &self.tip),
            };
            Ok(ChainReport {
                batches: walk.stored,
                head: integrity::hex(&walk.tip.head),
                broken,
            })
        })
    }

    fn reanchor(&mut self) -> Result<(), StoreError> {
        let tip = ChainTip::read(&self.conn)?;
        let checkpoint = Checkpoint {
            confirmed: tip.point(),
            pending: None,
        };
        self.anchor.write(&checkpoint.sign(&self.key))?;
        self.tip = tip;
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
    fn schema_versions_count_their_migrations() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(usize::try_from(SCHEMA_VERSION)?, MIGRATIONS.len());
        assert_eq!(
            usize::try_from(PG_SCHEMA_VERSION)?,
            postgres::migration_count()
        );
        assert_eq!(pending_migrations(2, &MIGRATIONS)?.len(), 4);
        assert!(matches!(
            pending_migrations(SCHEMA_VERSION + 1, &MIGRATIONS),
            Err(StoreError::SchemaTooNew { .. })
        ));
        Ok(())
    }

    #[test]
    fn group_commit_flushes_many_commits_at_once() -> Result<(), Box<dyn std::error::Error>> {
        let path = std::env::temp_dir().join(format!("bedside-group-{}.db", uuid::Uuid::now_v7()));
        let mut store = SqliteStore::open(&path, Durability::Group)?;
        let group = store
            .group_sync()
            .ok_or("a file store in Group mode has a flusher")?;
        let mut tickets = Vec::new();
        for n in 0..20 {
            store.commit(&Batch {
                audit: vec![(n, format!("entry {n}"))],
                ..Batch::default()
            })?;
            tickets.push(take_commits().1);
        }
        assert_eq!(tickets, (1..=20).collect::<Vec<u64>>());
        // The last waiter's flush covers all twenty; the earlier tickets are then free.
        group.wait(20)?;
        for t in tickets {
            group.wait(t)?;
        }
        assert_eq!(group.counts(), (20, 1));
        assert_eq!(take_commits(), (0, 0), "taken once");
        drop(store);
        for suffix in ["", "-wal", "-shm", ".checkpoint"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
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
