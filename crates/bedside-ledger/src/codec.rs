//! The journal codec: an append-only byte log of account openings, closings and entries.
//!
//! Each record is framed as `len: u32 LE | checksum(payload): u64 LE | payload` (see
//! [`checksum`]). Replaying the
//! log through [`replay`] rebuilds a ledger equal to the one that wrote it. A torn tail (a
//! record cut short) or a corrupted record (checksum mismatch, malformed payload) stops the
//! replay at that record's offset and is reported in [`Replay::stopped`]; nothing after it is
//! applied.

use crate::ledger::{
    AccountIndex, AccountOwner, AccountSpec, EntryId, EntryKind, Ledger, NewEntry, Op, Posting,
    References, Rejection, Side,
};
use crate::money::{Currency, Money};
use bedside_core::{AccountId, Actor, ClaimId, EncounterId, OrganisationId, PatientId, Timestamp};
use chrono::DateTime;

/// Largest payload a record may declare.
pub const MAX_RECORD_BYTES: usize = 4096;

const TAG_OPEN: u8 = 1;
const TAG_CLOSE: u8 = 2;
const TAG_ENTRY: u8 = 3;

/// Longest actor (as JSON) an entry record carries.
const MAX_ACTOR_BYTES: usize = 1024;

/// Why a replay stopped before the end of the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Occurs when the log ends in the middle of a record (a torn write).
    #[error("torn record at byte {offset}: {available} of {needed} bytes present")]
    TornTail {
        /// Offset of the record.
        offset: usize,
        /// Bytes present from the offset.
        available: usize,
        /// Bytes the record needs.
        needed: usize,
    },
    /// Occurs when a record's checksum does not match its payload.
    #[error("checksum mismatch at byte {offset}")]
    ChecksumMismatch {
        /// Offset of the record.
        offset: usize,
    },
    /// Occurs when a record is framed correctly but its payload cannot be decoded.
    #[error("malformed record at byte {offset}: {reason}")]
    Malformed {
        /// Offset of the record.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Occurs when a decoded entry is rejected by the ledger (the log disagrees with itself).
    #[error("record at byte {offset} rejected: {reason}")]
    Rejected {
        /// Offset of the record.
        offset: usize,
        /// The ledger's reason.
        reason: Rejection,
    },
}

/// The record checksum: a 64-bit multiply–xorshift chain over the payload's 8-byte words,
/// finalised with the length. Each step is a bijection of the state for a fixed word, so any
/// change confined to one 8-byte word is always detected; other corruptions escape with
/// probability about 2⁻⁶⁴. It runs at several bytes per cycle, which the replay rate needs.
pub fn checksum(data: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, w: u64| {
        let h = (h ^ w).wrapping_mul(K);
        h ^ (h >> 29)
    };
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = step(h, w);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(b));
    }
    h = step(h, data.len() as u64);
    h ^= h >> 32;
    h.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ (h >> 31)
}

const HEADER: usize = 12;

fn frame(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    write(out);
    let payload_len = out.len() - start - HEADER;
    let sum = checksum(&out[start + HEADER..]);
    out[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[start + 4..start + HEADER].copy_from_slice(&sum.to_le_bytes());
}

fn put_instant(out: &mut Vec<u8>, at: Timestamp) {
    out.extend_from_slice(&at.timestamp().to_le_bytes());
    out.extend_from_slice(&at.timestamp_subsec_nanos().to_le_bytes());
}

fn put_currency(out: &mut Vec<u8>, c: Currency) {
    out.extend_from_slice(&c.code_bytes());
    out.push(c.exponent());
}

/// Appends an account-opening record.
pub fn encode_open(spec: &AccountSpec, out: &mut Vec<u8>) {
    frame(out, |o| {
        o.push(TAG_OPEN);
        o.extend_from_slice(spec.id.as_uuid().as_bytes());
        let (kind, limit) = spec.encode_parts();
        o.push(kind);
        o.push(limit);
        put_currency(o, spec.currency);
        o.extend_from_slice(&spec.code.to_le_bytes());
        match spec.owner {
            AccountOwner::Clinic => o.push(0),
            AccountOwner::Guarantor(p) => {
                o.push(1);
                o.extend_from_slice(p.as_uuid().as_bytes());
            }
            AccountOwner::Payer(p) => {
                o.push(2);
                o.extend_from_slice(p.as_uuid().as_bytes());
            }
        }
    });
}

/// Appends an account-closing record.
pub fn encode_close(account: AccountIndex, out: &mut Vec<u8>) {
    frame(out, |o| {
        o.push(TAG_CLOSE);
        o.extend_from_slice(&account.get().to_le_bytes());
    });
}

/// Appends an entry record. An entry with more postings than [`crate::MAX_POSTINGS`] cannot
/// be applied anyway; its record keeps at most 255 postings and replay reports it rejected.
pub fn encode_entry(e: &NewEntry<'_>, out: &mut Vec<u8>) {
    frame(out, |o| {
        o.push(TAG_ENTRY);
        o.extend_from_slice(&e.id.get().to_le_bytes());
        put_instant(o, e.at);
        o.extend_from_slice(&e.code.to_le_bytes());
        match e.kind {
            EntryKind::Posted => o.push(0),
            EntryKind::Pending { expires_at } => {
                o.push(1);
                match expires_at {
                    Some(x) => {
                        o.push(1);
                        put_instant(o, x);
                    }
                    None => o.push(0),
                }
            }
            EntryKind::PostPending { pending } => {
                o.push(2);
                o.extend_from_slice(&pending.get().to_le_bytes());
            }
            EntryKind::VoidPending { pending } => {
                o.push(3);
                o.extend_from_slice(&pending.get().to_le_bytes());
            }
            EntryKind::ExpirePending { pending } => {
                o.push(4);
                o.extend_from_slice(&pending.get().to_le_bytes());
            }
            EntryKind::Reversal { of } => {
                o.push(5);
                o.extend_from_slice(&of.get().to_le_bytes());
            }
        }
        // The actor is written as JSON after the postings; an actor too long for a record
        // (a component name of kilobytes) is left out rather than breaking the record.
        let actor = e
            .actor
            .and_then(|a| serde_json::to_vec(a).ok())
            .filter(|j| j.len() <= MAX_ACTOR_BYTES);
        let flags = u8::from(e.refs.patient.is_some())
            | u8::from(e.refs.claim.is_some()) << 1
            | u8::from(e.refs.encounter.is_some()) << 2
            | u8::from(actor.is_some()) << 3;
        o.push(flags);
        if let Some(p) = e.refs.patient {
            o.extend_from_slice(p.as_uuid().as_bytes());
        }
        if let Some(c) = e.refs.claim {
            o.extend_from_slice(c.as_uuid().as_bytes());
        }
        if let Some(x) = e.refs.encounter {
            o.extend_from_slice(x.as_uuid().as_bytes());
        }
        o.push(e.postings.len().min(255) as u8);
        for p in e.postings.iter().take(255) {
            o.extend_from_slice(&p.account.get().to_le_bytes());
            o.push(match p.side {
                Side::Debit => 0,
                Side::Credit => 1,
            });
            o.extend_from_slice(&p.amount.amount_minor().to_le_bytes());
            put_currency(o, p.amount.currency());
        }
        if let Some(j) = actor {
            o.extend_from_slice(&(j.len() as u16).to_le_bytes());
            o.extend_from_slice(&j);
        }
    });
}

impl Ledger {
    /// Writes the whole ledger as a journal (openings, closings and entries in the order they
    /// happened).
    pub fn write_journal(&self, out: &mut Vec<u8>) {
        for op in self.ops() {
            match op {
                Op::Open(i) => {
                    if let Some(a) = self.account(AccountIndex::new(i)) {
                        encode_open(a.spec(), out);
                    }
                }
                Op::Close(i) => encode_close(AccountIndex::new(i), out),
                Op::Entry(s) => encode_entry(&self.request(s), out),
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|s| s.try_into().ok())
    }
    fn u16(&mut self) -> Option<u16> {
        self.arr().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.arr().map(u32::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.arr().map(i64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.arr().map(u128::from_le_bytes)
    }
    fn uuid(&mut self) -> Option<uuid::Uuid> {
        self.arr::<16>().map(uuid::Uuid::from_bytes)
    }
    fn instant(&mut self) -> Option<Timestamp> {
        let secs = self.i64()?;
        let nanos = self.u32()?;
        DateTime::from_timestamp(secs, nanos)
    }
    fn currency(&mut self) -> Option<Currency> {
        let code: [u8; 3] = self.arr()?;
        let exp = self.u8()?;
        Currency::new(std::str::from_utf8(&code).ok()?, exp).ok()
    }
}

/// One decoded journal record (postings are written into a caller's buffer).
enum Record {
    Open(AccountSpec),
    Close(AccountIndex),
    Entry {
        id: EntryId,
        at: Timestamp,
        code: u16,
        kind: EntryKind,
        refs: References,
        actor: Option<Actor>,
    },
}

// Over 100 lines, not split: one match over the record layout, field by field in wire order; splitting it would scatter the format.
fn decode(payload: &[u8], postings: &mut Vec<Posting>) -> Option<Record> {
    let mut r = Reader { b: payload, pos: 0 };
    let rec = match r.u8()? {
        TAG_OPEN => {
            let id = AccountId::from_uuid(r.uuid()?);
            let kind = r.u8()?;
            let limit = r.u8()?;
            let (kind, limit) = AccountSpec::decode_parts(kind, limit)?;
            let currency = r.currency()?;
            let code = r.u16()?;
            let owner = match r.u8()? {
                0 => AccountOwner::Clinic,
                1 => AccountOwner::Guarantor(PatientId::from_uuid(r.uuid()?)),
                2 => AccountOwner::Payer(OrganisationId::from_uuid(r.uuid()?)),
                _ => return None,
            };
            Record::Open(AccountSpec {
                id,
                kind,
                currency,
                owner,
                limit,
                code,
            })
        }
        TAG_CLOSE => Record::Close(AccountIndex::new(r.u32()?)),
        TAG_ENTRY => {
            let id = EntryId::new(r.u128()?);
            let at = r.instant()?;
            let code = r.u16()?;
            let kind = match r.u8()? {
                0 => EntryKind::Posted,
                1 => EntryKind::Pending {
                    expires_at: match r.u8()? {
                        0 => None,
                        1 => Some(r.instant()?),
                        _ => return None,
                    },
                },
                2 => EntryKind::PostPending {
                    pending: EntryId::new(r.u128()?),
                },
                3 => EntryKind::VoidPending {
                    pending: EntryId::new(r.u128()?),
                },
                4 => EntryKind::ExpirePending {
                    pending: EntryId::new(r.u128()?),
                },
                5 => EntryKind::Reversal {
                    of: EntryId::new(r.u128()?),
                },
                _ => return None,
            };
            let flags = r.u8()?;
            if flags & !0b1111 != 0 {
                return None;
            }
            let mut refs = References::default();
            if flags & 1 != 0 {
                refs.patient = Some(PatientId::from_uuid(r.uuid()?));
            }
            if flags & 2 != 0 {
                refs.claim = Some(ClaimId::from_uuid(r.uuid()?));
            }
            if flags & 4 != 0 {
                refs.encounter = Some(EncounterId::from_uuid(r.uuid()?));
            }
            let n = r.u8()?;
            postings.clear();
            for _ in 0..n {
                let account = AccountIndex::new(r.u32()?);
                let side = match r.u8()? {
                    0 => Side::Debit,
                    1 => Side::Credit,
                    _ => return None,
                };
                let amount = r.i64()?;
                let currency = r.currency()?;
                postings.push(Posting {
                    account,
                    side,
                    amount: Money::new(amount, currency),
                });
            }
            let actor = if flags & 8 != 0 {
                let n = usize::from(r.u16()?);
                Some(serde_json::from_slice(r.take(n)?).ok()?)
            } else {
                None
            };
            Record::Entry {
                id,
                at,
                code,
                kind,
                refs,
                actor,
            }
        }
        _ => return None,
    };
    if r.pos != payload.len() {
        return None;
    }
    Some(rec)
}

/// The result of replaying a journal.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The rebuilt ledger (every record before the stopping point).
    pub ledger: Ledger,
    /// Number of records applied.
    pub records: usize,
    /// Bytes consumed (offset of the first record not applied).
    pub consumed: usize,
    /// Why the replay stopped early, if it did. `None` means the whole log was applied.
    pub stopped: Option<JournalError>,
}

/// Replays a journal into a fresh ledger.
pub fn replay(bytes: &[u8]) -> Replay {
    replay_into(Ledger::new(), bytes)
}

/// Replays a journal into `ledger` (for example one created with
/// [`Ledger::with_capacity`]).
// Over 100 lines, not split: the framing checks and the apply step read top to bottom as the record format does.
pub fn replay_into(mut ledger: Ledger, bytes: &[u8]) -> Replay {
    let mut pos = 0usize;
    let mut records = 0usize;
    let mut postings: Vec<Posting> = Vec::with_capacity(8);
    let stopped = loop {
        if pos == bytes.len() {
            break None;
        }
        let rest = &bytes[pos..];
        if rest.len() < HEADER {
            break Some(JournalError::TornTail {
                offset: pos,
                available: rest.len(),
                needed: HEADER,
            });
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let mut sum_bytes = [0u8; 8];
        sum_bytes.copy_from_slice(&rest[4..HEADER]);
        let sum = u64::from_le_bytes(sum_bytes);
        if len > MAX_RECORD_BYTES {
            break Some(JournalError::Malformed {
                offset: pos,
                reason: "record longer than the maximum",
            });
        }
        if rest.len() < HEADER + len {
            break Some(JournalError::TornTail {
                offset: pos,
                available: rest.len(),
                needed: HEADER + len,
            });
        }
        let payload = &rest[HEADER..HEADER + len];
        if checksum(payload) != sum {
            break Some(JournalError::ChecksumMismatch { offset: pos });
        }
        let Some(rec) = decode(payload, &mut postings) else {
            break Some(JournalError::Malformed {
                offset: pos,
                reason: "payload does not decode",
            });
        };
        let outcome = match rec {
            Record::Open(spec) => {
                ledger
                    .create_account(spec)
                    .map(|_| ())
                    .map_err(|_| JournalError::Malformed {
                        offset: pos,
                        reason: "account opening conflicts with an earlier one",
                    })
            }
            Record::Close(i) => ledger
                .close_account(i)
                .map_err(|_| JournalError::Malformed {
                    offset: pos,
                    reason: "account closing is not possible",
                }),
            Record::Entry {
                id,
                at,
                code,
                kind,
                refs,
                actor,
            } => {
                let e = NewEntry {
                    id,
                    at,
                    kind,
                    postings: &postings,
                    refs,
                    code,
                    actor: actor.as_ref(),
                };
                match ledger.apply_replayed(&e) {
                    Ok(a) if !a.replayed => Ok(()),
                    Ok(_) => Err(JournalError::Malformed {
                        offset: pos,
                        reason: "entry id appears twice",
                    }),
                    Err(reason) => Err(JournalError::Rejected {
                        offset: pos,
                        reason,
                    }),
                }
            }
        };
        if let Err(e) = outcome {
            break Some(e);
        }
        records += 1;
        pos += HEADER + len;
    };
    Replay {
        ledger,
        records,
        consumed: pos,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_detects_every_single_word_change() {
        let data: Vec<u8> = (0..67u8).collect();
        let base = checksum(&data);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                assert_ne!(checksum(&d), base, "byte {i} bit {bit}");
            }
        }
        assert_ne!(checksum(&data[..66]), base);
        assert_ne!(checksum(b""), checksum(&[0]));
    }
}
