//! Tamper-evident audit: [`AuditEvent`]s (FHIR AuditEvent fields) in a SHA-256 hash chain, with
//! [`verify`] locating modified, removed, inserted or reordered events, and a line-per-event text
//! form whose every byte is covered by the chain ([`verify_serialized`]).
//!
//! Each [`AuditEntry`] stores its sequence number, the previous entry's hash and its own hash,
//! `SHA-256(previous hash ‖ canonical JSON of the event)`. The canonical encoding is
//! `serde_json` of [`AuditEvent`] with its fields in declaration order and no whitespace.
//!
//! A chain alone cannot catch someone who rewrites it from some point on and re-hashes the rest;
//! periodic [`Checkpoint`]s kept elsewhere, signed with HMAC-SHA256 ([`SignedCheckpoint`]), can.

use crate::decision::{Decision, Effect};
use crate::request::Request;
use crate::vocab::{AccessChannel, Action, ActorKind, ClassSet, Purpose};
use bedside_core::{Actor, AuditEventId, OrganisationId, PatientId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The hash before the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// One audited decision, with the FHIR AuditEvent fields: who, what, when, patient, purpose,
/// outcome and the deciding rule. It contains no PHI: actors appear as id labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// Position in the chain, from 0.
    pub seq: u64,
    /// Event id.
    pub id: AuditEventId,
    /// When the decision was made.
    pub recorded: Timestamp,
    /// Who asked (PHI-free label, e.g. `staff:<id>`).
    pub actor: String,
    /// The actor's kind.
    pub actor_kind: ActorKind,
    /// The receiving organisation for external recipients.
    #[serde(default)]
    pub recipient: Option<OrganisationId>,
    /// Whose data.
    pub patient: PatientId,
    /// What.
    pub action: Action,
    /// The classes requested.
    pub requested: ClassSet,
    /// The classes released.
    pub released: ClassSet,
    /// Why.
    pub purpose: Purpose,
    /// How.
    pub channel: AccessChannel,
    /// Permit or deny.
    pub outcome: Effect,
    /// The deciding source, as the explanation names it.
    pub deciding: String,
    /// Whether break-the-glass decided.
    pub break_glass: bool,
    /// Whether a patient consent authorised the release.
    pub authorised_by_consent: bool,
}

impl AuditEvent {
    /// The event for a decision (its `seq` is set when appended).
    pub fn from_decision(id: AuditEventId, request: &Request, decision: &Decision) -> Self {
        let recipient = match &request.actor {
            Actor::External { organisation } => Some(*organisation),
            _ => None,
        };
        AuditEvent {
            seq: 0,
            id,
            recorded: request.context.at,
            actor: request.actor.label(),
            actor_kind: ActorKind::of(&request.actor),
            recipient,
            patient: request.patient,
            action: request.action,
            requested: request.data.classes,
            released: decision.permitted,
            purpose: request.purpose,
            channel: request.channel,
            outcome: decision.effect,
            deciding: decision.explanation.deciding().map_or_else(
                || "no rule or consent permits".to_owned(),
                |a| a.source.to_string(),
            ),
            break_glass: decision.broke_glass(),
            authorised_by_consent: decision.authorised_by_consent(),
        }
    }

    /// The canonical encoding that is hashed.
    pub fn canonical(&self) -> Vec<u8> {
        // Serialising a struct of plain fields to a Vec cannot fail; an empty encoding would
        // still be chained and then fail verification, never pass it silently.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// An event with its chain links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Previous entry's hash, lowercase hex.
    pub prev: String,
    /// This entry's hash, lowercase hex.
    pub hash: String,
    /// The event.
    pub event: AuditEvent,
}

/// What is wrong with a chain, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at event {index}: {fault}")]
pub struct ChainError {
    /// Index of the first bad entry (line number from 0 in the text form).
    pub index: usize,
    /// What is wrong.
    pub fault: ChainFault,
}

impl bedside_core::DomainError for ChainError {
    /// Always [`Internal`](bedside_core::ErrorKind::Internal): a broken chain is corruption or
    /// tampering, never the caller's input being wrong.
    fn kind(&self) -> bedside_core::ErrorKind {
        match self.fault {
            ChainFault::Modified
            | ChainFault::BrokenLink
            | ChainFault::Removed { .. }
            | ChainFault::Inserted
            | ChainFault::Reordered
            | ChainFault::Malformed
            | ChainFault::CheckpointMismatch => bedside_core::ErrorKind::Internal,
        }
    }
}

/// The kinds of chain faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainFault {
    /// The entry's content does not hash to its stored hash.
    Modified,
    /// The entry does not link to the previous entry's hash (an earlier entry was replaced).
    BrokenLink,
    /// Events are missing before this entry.
    Removed {
        /// How many.
        missing: u64,
    },
    /// This entry repeats a sequence number already seen.
    Inserted,
    /// This entry is out of order.
    Reordered,
    /// The text line is not a canonical entry.
    Malformed,
    /// The chain does not contain a checkpoint it should.
    CheckpointMismatch,
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainFault::Modified => f.write_str("content modified"),
            ChainFault::BrokenLink => {
                f.write_str("link to previous event broken (an earlier event was replaced)")
            }
            ChainFault::Removed { missing } => write!(f, "{missing} event(s) removed before it"),
            ChainFault::Inserted => f.write_str("inserted (sequence number repeated)"),
            ChainFault::Reordered => f.write_str("out of order"),
            ChainFault::Malformed => f.write_str("not a canonical entry"),
            ChainFault::CheckpointMismatch => f.write_str("does not match the checkpoint"),
        }
    }
}

/// A head of the chain, to be kept elsewhere (e.g. published daily) and checked later with
/// [`AuditLog::verify_checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Number of events covered.
    pub len: u64,
    /// Hash of the last covered event (hex).
    pub hash: String,
}

impl Checkpoint {
    /// Signs the checkpoint with HMAC-SHA256 under `key` (a secret the privacy officer keeps
    /// apart from the log), so that whoever can rewrite the log cannot forge the checkpoint.
    pub fn sign(&self, key: &[u8]) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: self.clone(),
            mac: hex(&hmac_sha256(key, &self.message())),
        }
    }

    fn message(&self) -> Vec<u8> {
        format!("bedside-audit-checkpoint:{}:{}", self.len, self.hash).into_bytes()
    }
}

/// A [`Checkpoint`] with an HMAC-SHA256 tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// HMAC-SHA256 of the checkpoint under the signing key (hex).
    pub mac: String,
}

impl SignedCheckpoint {
    /// Whether the tag is valid for `key`.
    pub fn is_authentic(&self, key: &[u8]) -> bool {
        let expected = hex(&hmac_sha256(key, &self.checkpoint.message()));
        // Compare without an early exit so timing does not reveal how much of a forgery matched.
        expected.len() == self.mac.len()
            && expected
                .bytes()
                .zip(self.mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// HMAC-SHA256 (RFC 2104) over SHA-256, as the signed checkpoints use it (also the clinic's
/// batch-chain checkpoints).
///
/// ```
/// let tag = bedside_consent::audit::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
/// assert_eq!(tag[0], 0x5b); // RFC 4231, test case 2
/// ```
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// An append-only audit log.
///
/// A log either holds its whole chain, or was [resumed](AuditLog::resume) from a checkpoint
/// and holds only the entries after it (the earlier ones stay wherever the checkpoint's
/// owner keeps them, e.g. a database): sequence numbers, links and [`AuditLog::checkpoint`]
/// then continue the full chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditLog {
    entries: Vec<AuditEntry>,
    /// Entries before the first one held (0 unless resumed).
    base: u64,
    /// The hash of the last entry before the first one held (`None`: the genesis hash).
    base_hash: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn chain_hash(prev: &str, event: &AuditEvent) -> String {
    hash_bytes(prev, &event.canonical())
}

fn hash_bytes(prev: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical);
    hex(&h.finalize())
}

/// The canonical channel field of a telephone event, and how versions before the `voice` code
/// wrote it. Events written then were hashed with `phone`; they must still verify.
const VOICE_FIELD: &str = r#""channel":"voice""#;
const LEGACY_VOICE_FIELD: &str = r#""channel":"phone""#;

/// `text` with the channel written the old way, when the event is a telephone one. String
/// values in the JSON escape their quotes, so the unescaped field can only be the channel.
fn legacy_spelling(text: &str) -> Option<String> {
    text.contains(VOICE_FIELD)
        .then(|| text.replacen(VOICE_FIELD, LEGACY_VOICE_FIELD, 1))
}

/// Whether `e.hash` is the hash of its event, as written now or (telephone events) before the
/// `phone` → `voice` rename.
fn hash_matches(e: &AuditEntry) -> bool {
    let canonical = e.event.canonical();
    if hash_bytes(&e.prev, &canonical) == e.hash {
        return true;
    }
    e.event.channel == AccessChannel::Voice
        && std::str::from_utf8(&canonical)
            .ok()
            .and_then(legacy_spelling)
            .is_some_and(|old| hash_bytes(&e.prev, old.as_bytes()) == e.hash)
}

impl AuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log continuing the chain that `checkpoint` is the head of, holding none of its
    /// entries: the next one appended gets sequence number `checkpoint.len` and links to
    /// `checkpoint.hash`. Verifying the earlier entries is the checkpoint owner's business
    /// (read them with [`AuditLog::from_text`]).
    ///
    /// ```
    /// use bedside_consent::audit::{AuditLog, Checkpoint};
    /// let log = AuditLog::resume(Checkpoint { len: 41, hash: "ab".repeat(32) });
    /// assert_eq!(log.len(), 41);
    /// assert!(log.entries().is_empty());
    /// assert_eq!(log.checkpoint().hash, "ab".repeat(32));
    /// ```
    pub fn resume(checkpoint: Checkpoint) -> Self {
        AuditLog {
            entries: Vec::new(),
            base: checkpoint.len,
            base_hash: Some(checkpoint.hash),
        }
    }

    /// The number of entries in the whole chain, those before a resumed log's checkpoint
    /// included.
    pub fn len(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Whether the chain has no entry at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sequence number of the first entry held in memory (0 unless resumed).
    pub fn first_held(&self) -> u64 {
        self.base
    }

    /// The entry with sequence number `seq`, if this log holds it.
    pub fn get(&self, seq: u64) -> Option<&AuditEntry> {
        let index = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.entries.get(index).filter(|e| e.event.seq == seq)
    }

    fn last_hash(&self) -> String {
        self.entries
            .last()
            .map(|e| e.hash.clone())
            .or_else(|| self.base_hash.clone())
            .unwrap_or_else(|| hex(&GENESIS))
    }

    /// Appends an event, setting its sequence number, and returns the entry.
    pub fn append(&mut self, mut event: AuditEvent) -> &AuditEntry {
        event.seq = self.len();
        let prev = self.last_hash();
        let hash = chain_hash(&prev, &event);
        self.entries.push(AuditEntry { prev, hash, event });
        let last = self.entries.len() - 1;
        &self.entries[last]
    }

    /// Records a decision.
    pub fn record(
        &mut self,
        id: AuditEventId,
        request: &Request,
        decision: &Decision,
    ) -> &AuditEntry {
        self.append(AuditEvent::from_decision(id, request, decision))
    }

    /// The entries held: the whole chain, or for a [resumed](AuditLog::resume) log those
    /// after its checkpoint.
    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }

    /// The events held (see [`AuditLog::entries`]).
    pub fn events(&self) -> impl Iterator<Item = &AuditEvent> {
        self.entries.iter().map(|e| &e.event)
    }

    /// The current head.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.len(),
            hash: self.last_hash(),
        }
    }

    /// Verifies the chain held: from genesis, or for a resumed log from its checkpoint.
    ///
    /// # Errors
    /// The first fault found.
    pub fn verify(&self) -> Result<(), ChainError> {
        let prev = self.base_hash.clone().unwrap_or_else(|| hex(&GENESIS));
        verify_from(self.base, prev, &self.entries)
    }

    /// Verifies the chain and that it still contains `checkpoint` (detects truncation and
    /// wholesale re-hashing after the checkpoint was taken).
    ///
    /// # Errors
    /// The first fault found.
    pub fn verify_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), ChainError> {
        self.verify()?;
        let index = usize::try_from(checkpoint.len).unwrap_or(usize::MAX);
        let ok = match checkpoint.len.checked_sub(1) {
            None => true,
            // A resumed log can check its own starting point, nothing before it.
            Some(_) if checkpoint.len == self.base => {
                self.base_hash.as_deref() == Some(checkpoint.hash.as_str())
            }
            Some(seq) => self.get(seq).is_some_and(|e| e.hash == checkpoint.hash),
        };
        if ok {
            Ok(())
        } else {
            Err(ChainError {
                index: index.saturating_sub(1).min(self.entries.len()),
                fault: ChainFault::CheckpointMismatch,
            })
        }
    }

    /// Verifies the chain against a signed checkpoint: the tag must be authentic under `key` and
    /// the chain must contain the checkpoint.
    ///
    /// # Errors
    /// The first chain fault, or [`ChainFault::CheckpointMismatch`] for a forged tag.
    pub fn verify_signed(&self, signed: &SignedCheckpoint, key: &[u8]) -> Result<(), ChainError> {
        if !signed.is_authentic(key) {
            let index = usize::try_from(signed.checkpoint.len).unwrap_or(usize::MAX);
            return Err(ChainError {
                index: index.saturating_sub(1).min(self.entries.len()),
                fault: ChainFault::CheckpointMismatch,
            });
        }
        self.verify_checkpoint(&signed.checkpoint)
    }

    /// The text form of the entries held: one canonical JSON entry per line, each line
    /// ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&encode_line(e));
            out.push('\n');
        }
        out
    }

    /// Reads the text form and verifies it.
    ///
    /// # Errors
    /// The first fault found; a line that does not parse or is not canonical is
    /// [`ChainFault::Malformed`] at that line.
    pub fn from_text(text: &[u8]) -> Result<Self, ChainError> {
        let entries = parse_lines(text)?;
        verify(&entries)?;
        Ok(AuditLog {
            entries,
            ..AuditLog::default()
        })
    }

    /// Appends entries written elsewhere (another process serving the same clinic) in their
    /// text form, verifying that they continue this chain: each links to the one before, with
    /// the next sequence number. Nothing is appended when any line is refused.
    ///
    /// # Errors
    /// The first fault, indexed from the first new line.
    pub fn extend_from_text(&mut self, text: &[u8]) -> Result<usize, ChainError> {
        let fresh = parse_lines(text)?;
        let base = self.len();
        let mut prev = self.last_hash();
        for (index, e) in fresh.iter().enumerate() {
            let expected = base + index as u64;
            let fault = if e.event.seq < expected {
                Some(ChainFault::Inserted)
            } else if e.event.seq > expected {
                Some(ChainFault::Removed {
                    missing: e.event.seq - expected,
                })
            } else if e.prev != prev {
                Some(ChainFault::BrokenLink)
            } else if !hash_matches(e) {
                Some(ChainFault::Modified)
            } else {
                None
            };
            if let Some(fault) = fault {
                return Err(ChainError { index, fault });
            }
            prev = e.hash.clone();
        }
        let added = fresh.len();
        self.entries.extend(fresh);
        Ok(added)
    }
}

fn encode_line(e: &AuditEntry) -> String {
    // As for `canonical`: serialising plain fields cannot fail.
    serde_json::to_string(e).unwrap_or_default()
}

fn parse_lines(text: &[u8]) -> Result<Vec<AuditEntry>, ChainError> {
    let mut entries = Vec::new();
    if text.is_empty() {
        return Ok(entries);
    }
    let body = match text.strip_suffix(b"\n") {
        Some(b) => b,
        None => {
            return Err(ChainError {
                index: text.split(|b| *b == b'\n').count() - 1,
                fault: ChainFault::Malformed,
            });
        }
    };
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        let malformed = ChainError {
            index,
            fault: ChainFault::Malformed,
        };
        let entry: AuditEntry = serde_json::from_slice(line).map_err(|_| malformed.clone())?;
        let encoded = encode_line(&entry);
        let canonical = encoded.as_bytes() == line
            || legacy_spelling(&encoded).is_some_and(|old| old.as_bytes() == line);
        if !canonical {
            return Err(malformed);
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Verifies the text form of a chain.
///
/// # Errors
/// The first fault found.
pub fn verify_serialized(text: &[u8]) -> Result<(), ChainError> {
    AuditLog::from_text(text).map(|_| ())
}

/// Verifies a chain of entries starting at sequence 0.
///
/// # Errors
/// The first fault found, with its index.
pub fn verify(entries: &[AuditEntry]) -> Result<(), ChainError> {
    verify_from(0, hex(&GENESIS), entries)
}

/// Verifies entries that continue a chain at sequence `first` from the hash `prev`.
fn verify_from(first: u64, mut prev: String, entries: &[AuditEntry]) -> Result<(), ChainError> {
    for (index, e) in entries.iter().enumerate() {
        let expected = first + index as u64;
        let seq = e.event.seq;
        if seq != expected {
            let fault = if seq > expected {
                if entries[index + 1..]
                    .iter()
                    .any(|later| later.event.seq == expected)
                {
                    ChainFault::Reordered
                } else {
                    ChainFault::Removed {
                        missing: seq - expected,
                    }
                }
            } else if entries[..index]
                .iter()
                .any(|earlier| earlier.event.seq == seq)
            {
                ChainFault::Inserted
            } else {
                ChainFault::Reordered
            };
            return Err(ChainError { index, fault });
        }
        if e.prev != prev {
            return Err(ChainError {
                index,
                fault: ChainFault::BrokenLink,
            });
        }
        if !hash_matches(e) {
            return Err(ChainError {
                index,
                fault: ChainFault::Modified,
            });
        }
        prev.clone_from(&e.hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn telephone_events_written_as_phone_still_verify() -> Result<(), ChainError> {
        let event: AuditEvent = match serde_json::from_str(
            r#"{"seq":0,"id":"00000000-0000-7000-8000-000000000001","recorded":"2026-06-10T09:00:00Z","actor":"patient:1","actor_kind":"patient","recipient":null,"patient":"00000000-0000-7000-8000-000000000002","action":"read","requested":["appointments"],"released":["appointments"],"purpose":"PATRQT","channel":"phone","outcome":"permit","deciding":"rule right-of-access","break_glass":false,"authorised_by_consent":false}"#,
        ) {
            Ok(e) => e,
            Err(e) => panic!("event parses: {e}"),
        };
        assert_eq!(event.channel, AccessChannel::Voice);
        // The entry as an earlier version wrote it: hashed over `"channel":"phone"`.
        let old = legacy_spelling(&String::from_utf8_lossy(&event.canonical())).unwrap_or_default();
        let hash = hash_bytes(&hex(&GENESIS), old.as_bytes());
        let line = format!(
            r#"{{"prev":"{}","hash":"{hash}","event":{old}}}"#,
            hex(&GENESIS)
        );
        let log = AuditLog::from_text(format!("{line}\n").as_bytes())?;
        // Another process's copy of the same old entry extends an empty log too.
        let mut caught_up = AuditLog::new();
        assert_eq!(
            caught_up.extend_from_text(format!("{line}\n").as_bytes())?,
            1
        );
        // Written back with today's spelling, it still verifies.
        let text = log.to_text();
        assert!(text.contains(VOICE_FIELD));
        AuditLog::from_text(text.as_bytes())?;
        // A real modification is still caught.
        let forged = text.replace("PATRQT", "TREAT");
        assert!(AuditLog::from_text(forged.as_bytes()).is_err());
        Ok(())
    }

    #[test]
    fn signed_checkpoints() {
        let cp = Checkpoint {
            len: 0,
            hash: hex(&GENESIS),
        };
        let signed = cp.sign(b"officer key");
        assert!(signed.is_authentic(b"officer key"));
        assert!(!signed.is_authentic(b"other key"));
        let log = AuditLog::new();
        assert!(log.verify_signed(&signed, b"officer key").is_ok());
        let mut forged = signed.clone();
        forged.checkpoint.len = 1;
        assert_eq!(
            log.verify_signed(&forged, b"officer key")
                .map_err(|e| e.fault),
            Err(ChainFault::CheckpointMismatch)
        );
    }

    fn event(n: u128) -> AuditEvent {
        let text = format!(
            r#"{{"seq":0,"id":"00000000-0000-7000-8000-{n:012x}","recorded":"2026-06-10T09:00:00Z","actor":"patient:1","actor_kind":"patient","recipient":null,"patient":"00000000-0000-7000-8000-000000000002","action":"read","requested":["appointments"],"released":["appointments"],"purpose":"PATRQT","channel":"portal","outcome":"permit","deciding":"rule right-of-access","break_glass":false,"authorised_by_consent":false}}"#
        );
        match serde_json::from_str(&text) {
            Ok(e) => e,
            Err(e) => panic!("event parses: {e}"),
        }
    }

    #[test]
    fn a_resumed_log_continues_the_chain_it_was_cut_from() -> Result<(), ChainError> {
        let mut whole = AuditLog::new();
        for n in 0..5 {
            whole.append(event(n));
        }
        let cut = whole.checkpoint();
        let mut resumed = AuditLog::resume(cut.clone());
        for n in 5..8 {
            whole.append(event(n));
            resumed.append(event(n));
        }
        assert_eq!(resumed.entries(), &whole.entries()[5..]);
        assert_eq!(resumed.checkpoint(), whole.checkpoint());
        assert_eq!((resumed.len(), resumed.first_held()), (8, 5));
        assert!(resumed.get(4).is_none());
        assert_eq!(resumed.get(6), whole.get(6));
        resumed.verify()?;
        resumed.verify_checkpoint(&cut)?;
        resumed.verify_checkpoint(&whole.checkpoint())?;
        // Before its starting point a resumed log cannot vouch for anything.
        let earlier = Checkpoint {
            len: 2,
            hash: whole.entries()[1].hash.clone(),
        };
        assert!(resumed.verify_checkpoint(&earlier).is_err());
        // Another process's later entries extend it as they extend the whole log.
        let mut more = AuditLog::resume(cut);
        let tail: String = whole
            .to_text()
            .lines()
            .skip(5)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(more.extend_from_text(tail.as_bytes())?, 3);
        assert_eq!(more, resumed);
        // A resumed log refuses entries that do not continue its checkpoint.
        let mut wrong = AuditLog::resume(Checkpoint {
            len: 5,
            hash: "00".repeat(32),
        });
        assert!(wrong.extend_from_text(tail.as_bytes()).is_err());
        assert!(!wrong.is_empty() && wrong.entries().is_empty());
        Ok(())
    }
}
