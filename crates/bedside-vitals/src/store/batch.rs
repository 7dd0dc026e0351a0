//! What a batch is and what became of it: [`Batch`] (who sends readings, when), the
//! [`IngestConfig`] admission follows, and the [`BatchReport`] with one [`Outcome`] per record.

use crate::alert::ThresholdRule;
use crate::error::RejectReason;
use crate::kind::VitalKind;
use crate::reading::Position;
use crate::unit::UnitConfig;
use bedside_core::{Actor, PatientId, Sensitive, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Ingestion settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestConfig {
    /// Two readings of the same patient, kind and source whose instants differ by at most
    /// this many milliseconds are the same reading (default 60 000: one minute).
    pub duplicate_tolerance_ms: i64,
    /// How far past "now" a timestamp may be before it is rejected as in the future
    /// (device clocks drift; default 300 000: five minutes).
    pub future_skew_ms: i64,
    /// Unit-conversion settings (the glucose factor).
    pub units: UnitConfig,
    /// Threshold rules checked on every accepted reading during ingestion.
    pub thresholds: Vec<ThresholdRule>,
    /// Longest accepted record (line) in bytes; longer records are rejected as
    /// [`RejectReason::TooLong`] without being buffered whole.
    pub max_record_bytes: usize,
    /// Largest JSON resource (a FHIR Bundle entry, an Open mHealth data point) read while a
    /// document streams, in bytes (approximate to one 8 KiB read buffer); a larger one stops
    /// the document with [`crate::VitalsError::Format`]. Default 4 MiB.
    pub max_resource_bytes: usize,
}

/// Default of [`IngestConfig::max_resource_bytes`].
pub const DEFAULT_MAX_RESOURCE_BYTES: usize = 4 * 1024 * 1024;

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            duplicate_tolerance_ms: 60_000,
            future_skew_ms: 300_000,
            units: UnitConfig::default(),
            thresholds: ThresholdRule::defaults(),
            max_record_bytes: 16 * 1024,
            max_resource_bytes: DEFAULT_MAX_RESOURCE_BYTES,
        }
    }
}

/// One batch of readings being taken in (a file, an upload, a feed delivery): what it is
/// called, who sends it and when it is taken in. Every parser's `ingest` takes one, and the
/// store keeps it (see [`crate::VitalsStore::batch`]) so each reading's [`Position::batch`] says who
/// put it there.
///
/// ```
/// use bedside_core::{Actor, PatientId};
/// use bedside_vitals::Batch;
///
/// let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
/// let batch = Batch::new("upload-1", &Actor::Patient { patient }, "2026-03-02T00:00:00Z".parse()?);
/// assert_eq!(batch.by, Actor::Patient { patient });
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// A label (a file name, an upload id). [`Sensitive`] because file names can carry
    /// patient names.
    pub label: Sensitive<String>,
    /// Who sends the batch: the patient uploading from home, a nurse entering readings, a
    /// device gateway as [`Actor::System`].
    pub by: Actor,
    /// When the batch is taken in. A reading stamped more than
    /// [`IngestConfig::future_skew_ms`] after this is rejected as
    /// [`RejectReason::FutureTimestamp`].
    pub at: Timestamp,
}

impl Batch {
    /// A batch labelled `label`, sent by `by`, taken in at `at`.
    pub fn new(label: impl Into<String>, by: &Actor, at: Timestamp) -> Self {
        Self {
            label: Sensitive::new(label.into()),
            by: by.clone(),
            at,
        }
    }
}

/// What happened to one input record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Stored as a new reading.
    Accepted,
    /// Already stored (same patient, kind and source, instant within the tolerance).
    Duplicate,
    /// Not stored, for this reason.
    Rejected {
        /// The reason.
        reason: RejectReason,
    },
}

/// One rejected record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Where it was.
    pub position: Position,
    /// Why it was rejected.
    pub reason: RejectReason,
    /// A PHI-free detail (a schema path such as `effective_time_frame.time_interval`), or empty.
    pub detail: String,
}

/// A threshold rule that fired on an accepted reading during ingestion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdHit {
    /// The patient.
    pub patient: PatientId,
    /// The kind.
    pub kind: VitalKind,
    /// Milliseconds since the epoch of the reading.
    pub at_ms: i64,
    /// Index of the rule in [`IngestConfig::thresholds`].
    pub rule: usize,
    /// Where the reading came from.
    pub position: Position,
}

/// Outcome counts of one batch. Every record read is counted exactly once:
/// `records == accepted + duplicate + rejected total`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// The batch number.
    pub batch: u32,
    /// Records read.
    pub records: u64,
    /// Records stored.
    pub accepted: u64,
    /// Records already stored.
    pub duplicate: u64,
    /// Rejected records by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Every rejected record with its position, in input order. It grows with the number
    /// of rejected records (about 40 bytes each): reporting each one is the contract, so
    /// callers ingesting untrusted feeds should size batches accordingly.
    pub rejections: Vec<Rejection>,
    /// Threshold rules that fired on accepted readings.
    pub threshold_hits: Vec<ThresholdHit>,
    /// Record numbers of the accepted records, in input order (so a caller can keep exactly
    /// what was stored — a journal, say — and drop duplicates and rejections). Not serialised:
    /// the counts above are the report of record.
    #[serde(skip)]
    pub accepted_records: Vec<u32>,
}

impl BatchReport {
    /// The number of rejected records.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Records an outcome.
    pub fn record(&mut self, position: Position, outcome: Outcome) {
        self.record_with_detail(position, outcome, String::new());
    }

    /// Records an outcome with a PHI-free detail for rejections.
    pub fn record_with_detail(&mut self, position: Position, outcome: Outcome, detail: String) {
        self.records += 1;
        match outcome {
            Outcome::Accepted => {
                self.accepted += 1;
                self.accepted_records.push(position.record);
            }
            Outcome::Duplicate => self.duplicate += 1,
            Outcome::Rejected { reason } => {
                *self.rejected.entry(reason).or_insert(0) += 1;
                self.rejections.push(Rejection {
                    position,
                    reason,
                    detail,
                });
            }
        }
    }

    /// A plain-text summary, one `label: count` per line (no record content).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "batch {}: {} records, {} accepted, {} duplicate, {} rejected\n",
            self.batch,
            self.records,
            self.accepted,
            self.duplicate,
            self.rejected_total()
        );
        for (reason, n) in &self.rejected {
            out.push_str(&format!("  {reason}: {n}\n"));
        }
        out
    }
}
