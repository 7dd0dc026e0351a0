//! The chain itself: batch digests, head links, and the walk that re-reads the database.

use super::{
    BreakReason, ChainBreak, ChainKey, ChainPoint, ChainedTable, Checkpoint, GENESIS_HEAD, Hash,
    SignedCheckpoint, hex, parse_hash,
};
use crate::error::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Rows, params};
use sha2::{Digest, Sha256};

/// Builds a batch digest from rows in the canonical order: commands, then audit by `seq`, then
/// reviews by `audit_seq`. Every record starts with a tag byte and every text is prefixed with
/// its length (8 bytes, big-endian), so no two row sets share an encoding.
pub(crate) struct BatchHasher(Sha256);

impl BatchHasher {
    pub(crate) fn new() -> Self {
        let mut h = Sha256::new();
        h.update(b"bedside-batch-v1");
        Self(h)
    }

    pub(crate) fn command(&mut self, at: &[u8], kind: &[u8], body: &[u8]) {
        self.0.update(b"C");
        for text in [at, kind, body] {
            self.text(text);
        }
    }

    pub(crate) fn audit(&mut self, seq: i64, entry: &[u8]) {
        self.0.update(b"A");
        self.0.update(seq.to_be_bytes());
        self.text(entry);
    }

    pub(crate) fn review(&mut self, audit_seq: i64, justification: &[u8]) {
        self.0.update(b"R");
        self.0.update(audit_seq.to_be_bytes());
        self.text(justification);
    }

    fn text(&mut self, bytes: &[u8]) {
        self.0
            .update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        self.0.update(bytes);
    }

    pub(crate) fn finish(self) -> Hash {
        self.0.finalize().into()
    }
}

/// `SHA-256(previous || seq || digest)`.
pub(crate) fn link(previous: &Hash, seq: u64, digest: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(seq.to_be_bytes());
    h.update(digest);
    h.finalize().into()
}

/// The newest position of the chain, as the store keeps it in memory between commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainTip {
    /// Batches committed; also the sequence number of the next batch.
    pub(crate) batches: u64,
    /// Head after the last of them.
    pub(crate) head: Hash,
}

impl ChainTip {
    /// The empty chain.
    pub(crate) const EMPTY: ChainTip = ChainTip {
        batches: 0,
        head: GENESIS_HEAD,
    };

    /// The tip a chain point names; `None` when its head is not a hash.
    pub(crate) fn from_point(point: &ChainPoint) -> Option<ChainTip> {
        Some(ChainTip {
            batches: point.batches,
            head: parse_hash(&point.head)?,
        })
    }

    pub(crate) fn point(&self) -> ChainPoint {
        ChainPoint {
            batches: self.batches,
            head: hex(&self.head),
        }
    }

    /// The tip after appending a batch with `digest`.
    pub(crate) fn append(&self, digest: &Hash) -> ChainTip {
        ChainTip {
            batches: self.batches.saturating_add(1),
            head: link(&self.head, self.batches, digest),
        }
    }

    /// The newest batch stored in the database (its stored head, not re-verified: that is
    /// [`walk`]'s job). A malformed stored head reads as the zero head; the walk then reports
    /// that batch.
    pub(crate) fn read(conn: &Connection) -> Result<ChainTip, StoreError> {
        let last: Option<(i64, String)> = conn
            .query_row(
                "SELECT seq, CAST(head AS TEXT) FROM batches ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })?;
        Ok(match last {
            None => ChainTip::EMPTY,
            Some((seq, head)) => ChainTip {
                batches: u64::try_from(seq).unwrap_or(0).saturating_add(1),
                head: parse_hash(&head).unwrap_or(GENESIS_HEAD),
            },
        })
    }
}

pub(crate) const CHAINED: [ChainedTable; 3] = [
    ChainedTable::Commands,
    ChainedTable::Audit,
    ChainedTable::Reviews,
];

impl ChainedTable {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChainedTable::Commands => "commands",
            ChainedTable::Audit => "audit",
            ChainedTable::Reviews => "reviews",
        }
    }

    /// Rows with an integer batch number from batch `?1` on, in the canonical order:
    /// `batch, key, texts…`.
    fn select(self) -> &'static str {
        match self {
            ChainedTable::Commands => {
                "SELECT batch, seq, at, kind, body FROM commands
                 WHERE typeof(batch) = 'integer' AND batch >= ?1 ORDER BY batch, seq"
            }
            ChainedTable::Audit => {
                "SELECT batch, seq, entry FROM audit
                 WHERE typeof(batch) = 'integer' AND batch >= ?1 ORDER BY batch, seq"
            }
            ChainedTable::Reviews => {
                "SELECT batch, audit_seq, justification FROM reviews
                 WHERE typeof(batch) = 'integer' AND batch >= ?1 ORDER BY batch, audit_seq"
            }
        }
    }
}

/// One stored row of a chained table. A text that is not stored as text is `None`: the
/// application never writes one, so the batch then fails its digest.
pub(crate) struct Record {
    pub(crate) batch: i64,
    pub(crate) key: i64,
    pub(crate) texts: [Option<Vec<u8>>; 3],
}

/// Where a [`TableStream`] reads its rows from, in `(batch, key)` order: SQLite rows, or a
/// PostgreSQL cursor. `C` is whatever the source needs to read (a transaction).
pub(crate) trait RecordSource<C: ?Sized> {
    /// The next row, or `None` at the end.
    fn next_record(&mut self, ctx: &mut C) -> Result<Option<Record>, StoreError>;
}

/// SQLite rows of one chained table's [`ChainedTable::select`].
struct SqliteRows<'s>(Rows<'s>);

impl RecordSource<()> for SqliteRows<'_> {
    fn next_record(&mut self, _: &mut ()) -> Result<Option<Record>, StoreError> {
        let Some(row) = self.0.next()? else {
            return Ok(None);
        };
        let width = row.as_ref().column_count().saturating_sub(2);
        let mut texts = [None, None, None];
        for (i, slot) in texts.iter_mut().enumerate().take(width) {
            if let ValueRef::Text(t) = row.get_ref(i + 2)? {
                *slot = Some(t.to_vec());
            }
        }
        Ok(Some(Record {
            batch: row.get(0)?,
            key: row.get(1)?,
            texts,
        }))
    }
}

/// The rows of one chained table in `(batch, key)` order, consumed batch by batch.
pub(crate) struct TableStream<S> {
    table: ChainedTable,
    source: S,
    peeked: Option<Record>,
}

impl<S> TableStream<S> {
    pub(crate) fn new(table: ChainedTable, source: S) -> Self {
        Self {
            table,
            source,
            peeked: None,
        }
    }

    /// Feeds the rows of batch `seq` to `hasher`; `false` when one of them is malformed.
    fn hash_batch<C: ?Sized>(
        &mut self,
        ctx: &mut C,
        seq: i64,
        hasher: &mut BatchHasher,
    ) -> Result<bool, StoreError>
    where
        S: RecordSource<C>,
    {
        let mut well_formed = true;
        loop {
            if self.peeked.is_none() {
                self.peeked = self.source.next_record(ctx)?;
            }
            let Some(record) = &self.peeked else {
                return Ok(well_formed);
            };
            if record.batch > seq {
                return Ok(well_formed);
            }
            // Rows of a batch number absent from `batches` are skipped here; the
            // unchained-rows check reports them.
            if record.batch == seq {
                well_formed &= feed(self.table, record, hasher);
            }
            self.peeked = None;
        }
    }
}

/// One row of the `batches` table; a value not stored as text is `None`.
pub(crate) struct BatchRow {
    pub(crate) seq: i64,
    pub(crate) digest: Option<String>,
    pub(crate) head: Option<String>,
}

fn feed(table: ChainedTable, record: &Record, hasher: &mut BatchHasher) -> bool {
    match (table, &record.texts) {
        (ChainedTable::Commands, [Some(at), Some(kind), Some(body)]) => {
            hasher.command(at, kind, body);
            true
        }
        (ChainedTable::Audit, [Some(entry), ..]) => {
            hasher.audit(record.key, entry);
            true
        }
        (ChainedTable::Reviews, [Some(text), ..]) => {
            hasher.review(record.key, text);
            true
        }
        _ => false,
    }
}

/// What re-reading the database found.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    /// Rows in `batches`.
    pub(crate) stored: u64,
    /// Batches verified, from 0 without a gap.
    pub(crate) tip: ChainTip,
    /// The verified head after each requested number of batches that was reached.
    pub(crate) probes: Vec<ChainTip>,
    /// The first break inside the database.
    pub(crate) broken: Option<ChainBreak>,
}

/// Re-reads every chained row and batch from `from` on (the whole chain from
/// [`ChainTip::EMPTY`]) in one read transaction, recomputes each digest and head, and stops at
/// the first break. Memory use is constant: the tables are streamed side by side in batch
/// order. Rows outside any batch are looked for only on a walk from the start.
pub(crate) fn walk(
    conn: &Connection,
    probe_lengths: &[u64],
    from: ChainTip,
) -> Result<Walk, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let stored: i64 = tx.query_row("SELECT COUNT(*) FROM batches", [], |r| r.get(0))?;
    let first = i64::try_from(from.batches).unwrap_or(i64::MAX);
    let mut commands = tx.prepare(ChainedTable::Commands.select())?;
    let mut audit = tx.prepare(ChainedTable::Audit.select())?;
    let mut reviews = tx.prepare(ChainedTable::Reviews.select())?;
    let mut streams = [
        TableStream::new(ChainedTable::Commands, SqliteRows(commands.query([first])?)),
        TableStream::new(ChainedTable::Audit, SqliteRows(audit.query([first])?)),
        TableStream::new(ChainedTable::Reviews, SqliteRows(reviews.query([first])?)),
    ];
    let mut batches =
        tx.prepare("SELECT seq, digest, head FROM batches WHERE seq >= ?1 ORDER BY seq")?;
    let mut rows = batches.query([first])?;
    let text = |v: ValueRef<'_>| match v {
        ValueRef::Text(t) => String::from_utf8(t.to_vec()).ok(),
        _ => None,
    };
    let mut next_batch = || -> Result<Option<BatchRow>, StoreError> {
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        Ok(Some(BatchRow {
            seq: row.get(0)?,
            digest: text(row.get_ref(1)?),
            head: text(row.get_ref(2)?),
        }))
    };
    let mut walked = walk_streams(&mut (), &mut streams, &mut next_batch, probe_lengths, from)?;
    walked.stored = u64::try_from(stored).unwrap_or(0);
    if walked.broken.is_none() && from.batches == 0 {
        walked.broken = unchained(&tx, walked.tip.batches)?;
    }
    Ok(walked)
}

/// The store-independent part of [`walk`]: recompute every batch digest and head from the
/// streamed rows, stopping at the first break. `stored` is left 0 and the unchained-rows check
/// to the caller.
pub(crate) fn walk_streams<C: ?Sized, S: RecordSource<C>>(
    ctx: &mut C,
    streams: &mut [TableStream<S>; 3],
    next_batch: &mut dyn FnMut() -> Result<Option<BatchRow>, StoreError>,
    probe_lengths: &[u64],
    from: ChainTip,
) -> Result<Walk, StoreError> {
    let mut tip = from;
    let mut probes: Vec<ChainTip> = Vec::new();
    let mut broken = None;
    loop {
        if probe_lengths.contains(&tip.batches) {
            probes.push(tip);
        }
        let Some(row) = next_batch()? else { break };
        let last_good = tip.batches.checked_sub(1);
        match u64::try_from(row.seq) {
            Ok(s) if s == tip.batches => {}
            found => {
                let reason = match found {
                    Ok(_) => BreakReason::MissingBatch,
                    Err(_) => BreakReason::HeadMismatch,
                };
                broken = Some(ChainBreak::new(tip.batches, last_good, reason));
                break;
            }
        }
        let mut hasher = BatchHasher::new();
        let mut well_formed = true;
        for stream in streams.iter_mut() {
            well_formed &= stream.hash_batch(ctx, row.seq, &mut hasher)?;
        }
        let digest = hasher.finish();
        if !well_formed || row.digest.as_deref() != Some(hex(&digest).as_str()) {
            let reason = BreakReason::DigestMismatch;
            broken = Some(ChainBreak::new(tip.batches, last_good, reason));
            break;
        }
        let next = tip.append(&digest);
        if row.head.as_deref() != Some(hex(&next.head).as_str()) {
            let reason = BreakReason::HeadMismatch;
            broken = Some(ChainBreak::new(tip.batches, last_good, reason));
            break;
        }
        tip = next;
    }
    Ok(Walk {
        stored: 0,
        tip,
        probes,
        broken,
    })
}

/// Rows whose batch number is missing, not an integer, or names no batch.
fn unchained(conn: &Connection, batches: u64) -> Result<Option<ChainBreak>, StoreError> {
    for table in CHAINED {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE typeof(batch) != 'integer'
             OR batch NOT IN (SELECT seq FROM batches))",
            table.name()
        );
        if conn.query_row(&sql, [], |r| r.get::<_, bool>(0))? {
            let reason = BreakReason::UnchainedRows { table };
            return Ok(Some(ChainBreak::new(
                batches,
                batches.checked_sub(1),
                reason,
            )));
        }
    }
    Ok(None)
}

/// Inside migration 3's transaction: puts every row written before the chain existed into
/// batch 0 and records that batch's digest and head. `None` when there were no such rows.
pub(crate) fn seal_genesis(tx: &Connection) -> Result<Option<ChainTip>, StoreError> {
    let mut assigned = 0;
    for table in CHAINED {
        let sql = format!("UPDATE {} SET batch = 0 WHERE batch IS NULL", table.name());
        assigned += tx.execute(&sql, [])?;
    }
    if assigned == 0 {
        return Ok(None);
    }
    let mut hasher = BatchHasher::new();
    for table in CHAINED {
        let mut stmt = tx.prepare(table.select())?;
        // A malformed legacy row is left out here and fails batch 0's digest at verification,
        // which is the report it deserves.
        TableStream::new(table, SqliteRows(stmt.query([0i64])?)).hash_batch(
            &mut (),
            0,
            &mut hasher,
        )?;
    }
    let digest = hasher.finish();
    let tip = ChainTip::EMPTY.append(&digest);
    tx.execute(
        "INSERT INTO batches (seq, digest, head) VALUES (0, ?1, ?2)",
        params![hex(&digest), hex(&tip.head)],
    )?;
    Ok(Some(tip))
}

/// Judges a walk that found no break inside the database against what the anchor holds and
/// against the tip the running store kept in memory.
pub(crate) fn judge(
    walk: &Walk,
    anchored: Result<Option<SignedCheckpoint>, BreakReason>,
    key: &ChainKey,
    remembered: &ChainTip,
) -> Option<ChainBreak> {
    let checkpoint = match anchored {
        Err(reason) => return Some(ChainBreak::whole_chain(reason)),
        Ok(None) if walk.tip.batches == 0 => None,
        Ok(None) => return Some(ChainBreak::whole_chain(BreakReason::MissingAnchor)),
        Ok(Some(signed)) if !signed.is_authentic(key) => {
            return Some(ChainBreak::whole_chain(BreakReason::BadSignature));
        }
        Ok(Some(signed)) => Some(signed.checkpoint),
    };
    if let Some(found) = checkpoint.as_ref().and_then(|c| compare(walk, c)) {
        return Some(found);
    }
    // The store's own memory catches changes made while it runs, even when the checkpoint was
    // swapped for an older authentic one.
    let remembered = Checkpoint {
        confirmed: remembered.point(),
        pending: None,
    };
    compare(walk, &remembered)
}

/// Where the verified chain stands relative to an authentic checkpoint.
fn compare(walk: &Walk, checkpoint: &Checkpoint) -> Option<ChainBreak> {
    let here = walk.tip.point();
    if here == checkpoint.confirmed || checkpoint.pending.as_ref() == Some(&here) {
        return None;
    }
    let found = walk.tip.batches;
    let confirmed = checkpoint.confirmed.batches;
    if found < confirmed {
        let reason = BreakReason::Truncated {
            expected: confirmed,
            found,
        };
        return Some(ChainBreak::new(found, found.checked_sub(1), reason));
    }
    let newest = checkpoint.pending.as_ref().unwrap_or(&checkpoint.confirmed);
    let prefix_intact = walk.probes.iter().any(|probe| {
        let point = probe.point();
        point == checkpoint.confirmed || Some(&point) == checkpoint.pending.as_ref()
    });
    if found > newest.batches && prefix_intact {
        let reason = BreakReason::Extended {
            anchored: newest.batches,
            found,
        };
        let first_bad = newest.batches;
        return Some(ChainBreak::new(first_bad, first_bad.checked_sub(1), reason));
    }
    // As long as an anchored position (or longer) but a different head: the chain was re-hashed,
    // and the edit may lie anywhere before.
    Some(ChainBreak::new(
        found.saturating_sub(1),
        None,
        BreakReason::HeadMismatch,
    ))
}
