//! Tamper evidence for the store: a hash chain over committed batches, anchored outside the
//! database by a signed [`Checkpoint`].
//!
//! The audit chain of `bedside-consent` detects an edited or deleted *middle* audit entry, but
//! not a deleted tail, a deleted review item, an edited command (a payment of 10.00 turned into
//! 1,000.00) or rows edited and re-hashed consistently. This module closes those gaps:
//!
//! - **Batch digest.** Every committed [`Batch`](crate::store::Batch) that writes journal,
//!   audit or review rows gets a sequence number and a digest: SHA-256 over a length-prefixed
//!   encoding of exactly the rows it inserted — `commands (at, kind, body)`,
//!   `audit (seq, entry)`, `reviews (audit_seq, justification)` — in that order, each table's
//!   rows by key. The rows carry their batch number.
//! - **Head chain.** `head[n] = SHA-256(head[n-1] || n || digest[n])`, `head[-1]` = 32 zero
//!   bytes, stored beside the digest in the `batches` table.
//! - **Anchor.** The newest head also lives outside the database, in a [`Checkpoint`] signed
//!   with HMAC-SHA256 under a [`ChainKey`] that the database does not hold, kept by an
//!   [`Anchor`] ([`FileAnchor`] or [`MemoryAnchor`]). Whoever rewrites the database cannot
//!   forge a checkpoint for the rewritten head.
//!
//! The write protocol is crash-safe and lets verification be exact:
//!
//! 1. Before the SQLite transaction of batch `n` commits, the anchor is written with
//!    `{confirmed: (n, head[n-1]), pending: (n + 1, head[n])}` (lengths count batches).
//! 2. The transaction commits the rows, their batch number and the `batches` row together.
//! 3. After the commit the anchor is rewritten as `{confirmed: (n + 1, head[n])}`.
//! 4. Verification recomputes every digest and head from the rows and requires the database to
//!    end exactly at `confirmed` or at `pending`; a crash between 1 and 2 leaves it at
//!    `confirmed`, a crash between 2 and 3 at `pending`, both fine.
//! 5. Anything else is a [`ChainBreak`]: a digest that does not match the rows, a head that does
//!    not link, a missing batch, rows outside any batch, fewer or more batches than anchored, a
//!    missing, malformed or wrongly signed checkpoint.
//!
//! **Not chained:** the `tokens`, `outbox` and `meta` tables hold mutable operational data (a
//! token is replaced, an outbox message goes from pending to sent); they are not evidence and
//! are not covered. **Limits:** an attacker who can write both the database and the anchor can
//! restore an older authentic checkpoint together with a truncated database (a replay); the
//! running store also checks the database against the head it keeps in memory, which catches
//! that while the server runs, and an [`Anchor`] on other storage (another host, write-once
//! media) closes it for good. For the same reason, deleting every chained row *and* the
//! checkpoint looks like a new, empty database. A store opened with the public development
//! key ([`ChainKey::development`]) detects changes but not a forger who has read this source. With [`Durability::Normal`] a power loss may lose the last few
//! commits and then the checkpoint is ahead of the database, which verification reports as
//! [`BreakReason::Truncated`]; use [`Durability::Full`] where that must not happen.
//!
//! ```
//! use bedside_clinic::integrity::{BreakReason, ChainKey, MemoryAnchor};
//! use bedside_clinic::store::Batch;
//! use bedside_clinic::{SqliteStore, Store};
//!
//! let anchor = MemoryAnchor::new();
//! let key = ChainKey::new(b"from the configuration".to_vec())?;
//! let mut store = SqliteStore::in_memory_with(Box::new(anchor.clone()), key)?;
//! store.commit(&Batch { audit: vec![(1, "entry".into())], ..Batch::default() })?;
//! assert!(store.verify_chain()?.is_intact());
//! // Losing the checkpoint is a break, reported in words a privacy officer can act on.
//! anchor.set(None);
//! let report = store.verify_chain()?;
//! assert_eq!(report.broken.map(|b| b.reason), Some(BreakReason::MissingAnchor));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::StoreError;
use crate::store::Durability;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A SHA-256 value.
pub(crate) type Hash = [u8; 32];

/// The head before the first batch.
pub(crate) const GENESIS_HEAD: Hash = [0; 32];

mod chain;
#[cfg(test)]
mod tests;

pub(crate) use chain::{
    BatchHasher, BatchRow, CHAINED, ChainTip, Record, RecordSource, TableStream, judge,
    seal_genesis, walk, walk_streams,
};

/// The secret that signs checkpoints. `Debug` does not print it.
///
/// Keep it apart from the database (configuration, a secret store): whoever holds it can sign
/// a checkpoint for a rewritten database.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey(Vec<u8>);

/// Why a [`ChainKey`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainKeyError {
    /// Occurs when the key is shorter than [`ChainKey::MIN_LEN`] bytes.
    #[error("chain key too short: {found} bytes, at least {minimum} required")]
    TooShort {
        /// Length given.
        found: usize,
        /// Length required.
        minimum: usize,
    },
}

impl ChainKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 16;

    /// The fixed, **public** key used by [`SqliteStore::open`](crate::SqliteStore::open) and
    /// [`SqliteStore::in_memory`](crate::SqliteStore::in_memory): the ASCII bytes
    /// `bedside-development-chain-key`. It still detects truncation and naive edits, but anyone
    /// who reads this source can forge a checkpoint with it; production passes its own key to
    /// [`SqliteStore::open_with`](crate::SqliteStore::open_with).
    pub const DEVELOPMENT: &'static [u8] = b"bedside-development-chain-key";

    /// Wraps key bytes.
    ///
    /// # Errors
    /// [`ChainKeyError::TooShort`] when `bytes` has fewer than [`ChainKey::MIN_LEN`] bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, ChainKeyError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ChainKeyError::TooShort {
                found: bytes.len(),
                minimum: Self::MIN_LEN,
            });
        }
        Ok(Self(bytes))
    }

    /// The public development key ([`ChainKey::DEVELOPMENT`]).
    pub fn development() -> Self {
        Self(Self::DEVELOPMENT.to_vec())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

/// A position in the chain: how many batches, and the head after the last of them (hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainPoint {
    /// Number of batches covered.
    pub batches: u64,
    /// Head after the last covered batch (hex SHA-256; 64 zeros for no batch).
    pub head: String,
}

/// What the anchor vouches for: the last confirmed position and, while a commit is under way,
/// the position that commit will reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The database is known to have reached this position.
    pub confirmed: ChainPoint,
    /// A commit to this position was about to happen (one batch past `confirmed`).
    pub pending: Option<ChainPoint>,
}

impl Checkpoint {
    /// Signs the checkpoint with HMAC-SHA256 under `key`.
    pub fn sign(&self, key: &ChainKey) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: self.clone(),
            mac: hex(&hmac_sha256(&key.0, &self.message())),
        }
    }

    fn message(&self) -> Vec<u8> {
        let pending = match &self.pending {
            Some(p) => format!("{}:{}", p.batches, p.head),
            None => "-".to_string(),
        };
        format!(
            "bedside-chain-checkpoint-v1:{}:{}:{pending}",
            self.confirmed.batches, self.confirmed.head
        )
        .into_bytes()
    }
}

/// A [`Checkpoint`] with its HMAC-SHA256 tag, as an [`Anchor`] stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// HMAC-SHA256 of the checkpoint under the chain key (hex).
    pub mac: String,
}

impl SignedCheckpoint {
    /// Whether the tag is valid for `key` (compared in constant time).
    pub fn is_authentic(&self, key: &ChainKey) -> bool {
        let expected = hex(&hmac_sha256(&key.0, &self.checkpoint.message()));
        expected.len() == self.mac.len()
            && expected
                .bytes()
                .zip(self.mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Keeps the newest [`SignedCheckpoint`] outside the database.
pub trait Anchor: Send {
    /// The stored checkpoint, `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when what is stored is not a checkpoint; [`StoreError::Io`] when
    /// it cannot be read.
    fn read(&self) -> Result<Option<SignedCheckpoint>, StoreError>;
    /// Replaces the stored checkpoint, atomically (a reader sees the old or the new one) and
    /// as durably as the anchor is configured to be: a commit follows it.
    ///
    /// # Errors
    /// [`StoreError::Io`] when it cannot be written; the old checkpoint then stays.
    fn write(&mut self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError>;
    /// Like [`Anchor::write`] for a checkpoint that only confirms a commit already durable in
    /// the database. It need not be durable itself: losing it leaves the announcement before
    /// it, which accepts the committed database. The default calls [`Anchor::write`].
    ///
    /// # Errors
    /// [`StoreError::Io`] when it cannot be written; the old checkpoint then stays.
    fn confirm(&mut self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError> {
        self.write(checkpoint)
    }
    /// The file the anchor keeps, when it is one: a store in
    /// [`Durability::Group`] flushes it (before the database) for a group of commits at once.
    fn file(&self) -> Option<&Path> {
        None
    }
}

/// An [`Anchor`] in a small file of two fixed-size slots, created with mode 0600 on unix.
///
/// Each write overwrites the *older* slot in place with the checkpoint and a generation
/// number, and a read takes the newest slot that parses. A write torn by a crash damages only
/// the slot being written, so a reader sees the old checkpoint or the new one, never a mix —
/// the atomicity of write-then-rename at a fraction of its cost (a rename costs about 140 µs on
/// ext4, a slot write about 1 µs; two happen per commit). The generation is not signed: whoever
/// can edit the file can at most make the previous checkpoint current, a replay (see the
/// module documentation).
///
/// With [`Durability::Full`] every [`Anchor::write`] is followed by `fdatasync`, so a commit's
/// announcement is on disk before the commit ([`Anchor::confirm`] skips it, see there); with
/// [`Durability::Normal`] the file survives a process crash like the database does.
#[derive(Debug)]
pub struct FileAnchor {
    path: PathBuf,
    durability: Durability,
    /// The open file and the generation last written, after the first write.
    open: Option<(std::fs::File, u64)>,
}

/// Bytes per slot; a signed checkpoint with its generation takes under 400 (two counters of at
/// most 20 digits, three 64-digit hex values, fixed field names).
const SLOT_LEN: usize = 512;

/// What one slot holds.
#[derive(Serialize, Deserialize)]
struct Slot {
    generation: u64,
    signed: SignedCheckpoint,
}

impl FileAnchor {
    /// An anchor at `path`.
    pub fn new(path: impl Into<PathBuf>, durability: Durability) -> Self {
        Self {
            path: path.into(),
            durability,
            open: None,
        }
    }

    /// The anchor of the database at `database`: `<database>.checkpoint` (for example
    /// `clinic.db.checkpoint`).
    pub fn beside(database: &Path, durability: Durability) -> Self {
        let mut name = database.as_os_str().to_owned();
        name.push(".checkpoint");
        Self::new(PathBuf::from(name), durability)
    }

    /// Where the checkpoint is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest readable slot; `None` for a missing or empty file.
    fn newest(&self) -> Result<Option<Slot>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if bytes.is_empty() {
            return Ok(None);
        }
        let newest = bytes
            .chunks(SLOT_LEN)
            .take(2)
            .filter_map(|slot| serde_json::from_slice::<Slot>(slot.trim_ascii()).ok())
            .max_by_key(|slot| slot.generation);
        match newest {
            Some(slot) => Ok(Some(slot)),
            None => Err(StoreError::Corrupt {
                table: "checkpoint",
                message: "the checkpoint file holds no signed checkpoint".into(),
            }),
        }
    }

    /// Opens (creating, mode 0600) the file and learns the newest generation in it.
    fn open_file(&self) -> Result<(std::fs::File, u64), StoreError> {
        // A damaged file is overwritten from generation 0: its slots are unreadable anyway.
        let generation = match self.newest() {
            Ok(found) => found.map_or(0, |slot| slot.generation),
            Err(StoreError::Corrupt { .. }) => 0,
            Err(e) => return Err(e),
        };
        let existed = self.path.exists();
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&self.path)?;
        if !existed && self.durability == Durability::Full {
            sync_parent(&self.path)?;
        }
        Ok((file, generation))
    }
}

impl Anchor for FileAnchor {
    fn read(&self) -> Result<Option<SignedCheckpoint>, StoreError> {
        Ok(self.newest()?.map(|slot| slot.signed))
    }

    fn write(&mut self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError> {
        self.put(checkpoint, self.durability)
    }

    fn confirm(&mut self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError> {
        self.put(checkpoint, Durability::Normal)
    }

    fn file(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

impl FileAnchor {
    /// Writes `checkpoint` into the older slot, synced when `durability` is `Full`.
    fn put(
        &mut self,
        checkpoint: &SignedCheckpoint,
        durability: Durability,
    ) -> Result<(), StoreError> {
        use std::io::{Seek, SeekFrom, Write};
        let (mut file, generation) = match self.open.take() {
            Some((file, generation)) if still_at(&file, &self.path) => (file, generation),
            _ => self.open_file()?,
        };
        let generation = generation.saturating_add(1);
        let slot = Slot {
            generation,
            signed: checkpoint.clone(),
        };
        let mut bytes = serde_json::to_vec(&slot).map_err(std::io::Error::other)?;
        if bytes.len() >= SLOT_LEN {
            return Err(std::io::Error::other("checkpoint larger than its slot").into());
        }
        bytes.resize(SLOT_LEN - 1, b' ');
        bytes.push(b'\n');
        let offset = if generation % 2 == 0 { 0 } else { SLOT_LEN };
        file.seek(SeekFrom::Start(u64::try_from(offset).unwrap_or(0)))?;
        file.write_all(&bytes)?;
        if durability == Durability::Full {
            file.sync_data()?;
        }
        // Kept only after a complete write: after a failure the next write reopens the file
        // and learns the generation again.
        self.open = Some((file, generation));
        Ok(())
    }
}

/// Whether `file` is still the file at `path` (not deleted or replaced since it was opened).
fn still_at(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Options that create a new file readable and writable by its owner only (0600 on unix).
pub(crate) fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn sync_parent(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// An [`Anchor`] in memory, for in-memory stores and tests. Clones share the slot, so a test
/// can keep one and inspect or replace the checkpoint the store wrote.
#[derive(Debug, Clone, Default)]
pub struct MemoryAnchor {
    slot: Arc<Mutex<Option<SignedCheckpoint>>>,
}

impl MemoryAnchor {
    /// An empty anchor.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored checkpoint.
    pub fn get(&self) -> Option<SignedCheckpoint> {
        self.lock().clone()
    }

    /// Replaces (or, with `None`, removes) the stored checkpoint.
    pub fn set(&self, checkpoint: Option<SignedCheckpoint>) {
        *self.lock() = checkpoint;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SignedCheckpoint>> {
        // A panic while holding the lock cannot leave a half-written checkpoint (assignment of
        // an `Option` is not observable half-way), so a poisoned lock is still usable.
        self.slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Anchor for MemoryAnchor {
    fn read(&self) -> Result<Option<SignedCheckpoint>, StoreError> {
        Ok(self.get())
    }

    fn write(&mut self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError> {
        self.set(Some(checkpoint.clone()));
        Ok(())
    }
}

/// The result of [`Store::verify_chain`](crate::Store::verify_chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// Number of batches in the database.
    pub batches: u64,
    /// Head recomputed through the last batch that verified (hex; 64 zeros for none).
    pub head: String,
    /// The first break found, `None` when the chain is intact and anchored.
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    /// Whether no break was found.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.broken {
            None => write!(
                f,
                "integrity chain intact: {} batches, head {}",
                self.batches, self.head
            ),
            Some(b) => write!(f, "integrity chain broken: {b}"),
        }
    }
}

/// Where and why the chain is broken. Names batch numbers only, never row contents.
///
/// The damage lies after `last_good_batch` (from the start when `None`) and at or before
/// `first_bad_batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The first batch the break concerns (for a deleted tail, the first missing batch).
    pub first_bad_batch: u64,
    /// The last batch before the break that passed every check applicable to it; `None` when
    /// none can be vouched for (the chain was re-hashed, or the checkpoint cannot be trusted).
    pub last_good_batch: Option<u64>,
    /// What was found.
    pub reason: BreakReason,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at batch {} (last good batch: ", self.first_bad_batch)?;
        match self.last_good_batch {
            Some(n) => write!(f, "{n}")?,
            None => f.write_str("none")?,
        }
        write!(f, "): {}", self.reason)
    }
}

/// A table covered by the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainedTable {
    /// The command journal.
    Commands,
    /// The audit chain.
    Audit,
    /// The break-the-glass review queue.
    Reviews,
}

impl fmt::Display for ChainedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainedTable::Commands => "command journal",
            ChainedTable::Audit => "audit log",
            ChainedTable::Reviews => "review queue",
        })
    }
}

/// What kind of break was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BreakReason {
    /// The batch's rows differ from what was committed: a row was edited, deleted or added.
    DigestMismatch,
    /// A stored head does not follow from the one before, or the newest head differs from the
    /// checkpoint's: rows were edited and the chain re-hashed, or a batch was replaced.
    HeadMismatch,
    /// A batch is missing from the middle of the chain.
    MissingBatch,
    /// Rows belong to no committed batch: they were added outside the application.
    UnchainedRows {
        /// Where.
        table: ChainedTable,
    },
    /// The database holds fewer batches than the checkpoint confirms: the newest were deleted.
    Truncated {
        /// Batches the checkpoint confirms.
        expected: u64,
        /// Batches found.
        found: u64,
    },
    /// The database holds more batches than the checkpoint covers: batches were added outside
    /// the application.
    Extended {
        /// Batches the checkpoint covers (at most).
        anchored: u64,
        /// Batches found.
        found: u64,
    },
    /// The database holds batches but there is no checkpoint.
    MissingAnchor,
    /// The checkpoint's signature does not verify: it was forged, or the key is wrong.
    BadSignature,
    /// What the anchor holds is not a checkpoint.
    MalformedAnchor,
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::DigestMismatch => f.write_str(
                "the rows of this batch differ from what was committed (a row was edited, deleted or added)",
            ),
            BreakReason::HeadMismatch => f.write_str(
                "the chain of batch hashes does not match (rows were edited and re-hashed, or a batch was replaced)",
            ),
            BreakReason::MissingBatch => f.write_str("a batch is missing from the chain"),
            BreakReason::UnchainedRows { table } => write!(
                f,
                "rows in the {table} belong to no committed batch (added outside the application)"
            ),
            BreakReason::Truncated { expected, found } => write!(
                f,
                "the database holds {found} batches but the checkpoint confirms {expected} (the newest were deleted)"
            ),
            BreakReason::Extended { anchored, found } => write!(
                f,
                "the database holds {found} batches but the checkpoint covers {anchored} (batches were added outside the application)"
            ),
            BreakReason::MissingAnchor => {
                f.write_str("the checkpoint is missing although the database holds batches")
            }
            BreakReason::BadSignature => f.write_str(
                "the checkpoint's signature does not verify (forged checkpoint or wrong key)",
            ),
            BreakReason::MalformedAnchor => f.write_str("the checkpoint is damaged"),
        }
    }
}

impl ChainBreak {
    pub(crate) fn new(
        first_bad_batch: u64,
        last_good_batch: Option<u64>,
        reason: BreakReason,
    ) -> Self {
        Self {
            first_bad_batch,
            last_good_batch,
            reason,
        }
    }

    /// A break that makes the whole chain untrustworthy (the checkpoint).
    pub(crate) fn whole_chain(reason: BreakReason) -> Self {
        Self::new(0, None, reason)
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Parses 64 hex digits.
pub(crate) fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// HMAC-SHA256: the one the consent crate's signed audit checkpoints use.
use bedside_consent::audit::hmac_sha256;
