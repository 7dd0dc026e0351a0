//! Interchange (ISA/IEA), functional group (GS/GE) and transaction set (ST/SE) envelopes, and
//! [`Submissions`]: the record of every control number issued and the claims each transaction
//! set carried, so that a 999 (which names a group and a transaction set) or a 277CA finds the
//! claims it answers.
//!
//! Control numbers are issued once: ISA13 and GS06 carry the same number, taken from one
//! counter that only goes up; ST02 counts from `0001` within the group. A [`Submissions`]
//! that has issued 999 999 999 interchanges refuses to issue more rather than reuse one.

use super::writer::SegmentWriter;
use bedside_core::{ClaimId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Errors of the X12 writers. Messages name fields and ids, never patient values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Occurs when 999 999 999 interchange control numbers have been issued.
    #[error("interchange control numbers are exhausted")]
    ControlNumbersExhausted,
    /// Occurs when an envelope or party field is empty, too long or has characters X12
    /// cannot carry.
    #[error("field `{field}` is empty, too long or not writable")]
    InvalidField {
        /// The field, e.g. `sender_id`.
        field: &'static str,
    },
    /// Occurs when a batch has no claims (or a request batch no requests).
    #[error("nothing to write")]
    Empty,
    /// Occurs when a claim has no diagnosis, or more than twelve.
    #[error("claim `{claim}` needs one to twelve diagnoses")]
    Diagnoses {
        /// The claim.
        claim: ClaimId,
    },
    /// Occurs when a line points at a diagnosis the claim does not have.
    #[error("line {line} of claim `{claim}` points at a diagnosis the claim does not have")]
    DiagnosisPointer {
        /// The claim.
        claim: ClaimId,
        /// 1-based line number.
        line: usize,
    },
    /// Occurs when a claim has no lines, or more than 50 (the 837P limit).
    #[error("claim `{claim}` needs one to fifty service lines")]
    Lines {
        /// The claim.
        claim: ClaimId,
    },
    /// Occurs when a replacement or void goes out without the payer's claim control number
    /// (REF*F8), which the payer needs to find the claim it holds.
    #[error("claim `{claim}` replaces or voids a claim but the payer's claim number is unknown")]
    MissingPayerClaimNumber {
        /// The claim.
        claim: ClaimId,
    },
    /// Occurs when a secondary claim is written without the primary payer's adjudication, or
    /// a primary claim with one.
    #[error("claim `{claim}`: coordination of benefits does not match its payer sequence")]
    CoordinationOfBenefits {
        /// The claim.
        claim: ClaimId,
    },
    /// Occurs when an amount is negative where X12 needs a non-negative one.
    #[error("claim `{claim}` has a negative charge")]
    NegativeCharge {
        /// The claim.
        claim: ClaimId,
    },
}

/// Production or test data (ISA15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// `P`.
    Production,
    /// `T`.
    Test,
}

/// Who an interchange is from and to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeParties {
    sender_id: String,
    receiver_id: String,
    application_sender: String,
    application_receiver: String,
    usage: Usage,
}

fn id_field(v: &str, min: usize, max: usize, field: &'static str) -> Result<String, WriteError> {
    let v = v.trim();
    let ok = (min..=max).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'.'));
    if ok {
        Ok(v.to_string())
    } else {
        Err(WriteError::InvalidField { field })
    }
}

impl EnvelopeParties {
    /// Parties with mutually defined (`ZZ`) interchange ids (ISA06/ISA08, 1–15 letters,
    /// digits, spaces, `-` or `.`) and application codes (GS02/GS03, 2–15).
    ///
    /// # Errors
    /// [`WriteError::InvalidField`].
    pub fn new(
        sender_id: &str,
        receiver_id: &str,
        application_sender: &str,
        application_receiver: &str,
        usage: Usage,
    ) -> Result<Self, WriteError> {
        Ok(Self {
            sender_id: id_field(sender_id, 1, 15, "sender_id")?,
            receiver_id: id_field(receiver_id, 1, 15, "receiver_id")?,
            application_sender: id_field(application_sender, 2, 15, "application_sender")?,
            application_receiver: id_field(application_receiver, 2, 15, "application_receiver")?,
            usage,
        })
    }

    /// ISA08, the receiver.
    pub fn receiver_id(&self) -> &str {
        &self.receiver_id
    }
}

/// What a transaction set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// 837 professional claim, 005010X222A1.
    Claim837P,
    /// 270 eligibility inquiry, 005010X279A1.
    Eligibility270,
}

impl TransactionKind {
    /// ST01.
    pub fn set_id(self) -> &'static str {
        match self {
            TransactionKind::Claim837P => "837",
            TransactionKind::Eligibility270 => "270",
        }
    }
    /// GS01 functional identifier code.
    pub fn functional_id(self) -> &'static str {
        match self {
            TransactionKind::Claim837P => "HC",
            TransactionKind::Eligibility270 => "HS",
        }
    }
    /// GS08 and ST03: the implementation guide.
    pub fn version(self) -> &'static str {
        match self {
            TransactionKind::Claim837P => "005010X222A1",
            TransactionKind::Eligibility270 => "005010X279A1",
        }
    }
}

/// Where one claim sits in a transaction set: its segments, ST counted as 1 (the positions a
/// 999 IK302 uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPosition {
    /// The claim.
    pub claim: ClaimId,
    /// Position of its first segment (the subscriber HL).
    pub first_segment: usize,
    /// Position of its last segment.
    pub last_segment: usize,
}

/// One transaction set written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRecord {
    /// ST02.
    pub control: String,
    /// What it is.
    pub kind: TransactionKind,
    /// Its claims in order (empty for a 270).
    pub claims: Vec<ClaimPosition>,
    /// SE01: segments from ST to SE.
    pub segments: usize,
}

impl TransactionRecord {
    /// The claim whose segments include `position`.
    pub fn claim_at(&self, position: usize) -> Option<ClaimId> {
        self.claims
            .iter()
            .find(|c| (c.first_segment..=c.last_segment).contains(&position))
            .map(|c| c.claim)
    }
}

/// One interchange written: ISA13 (which is also GS06), when, to whom, and its transaction
/// sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterchangeRecord {
    /// ISA13 and GS06.
    pub control: u32,
    /// When it was written.
    pub at: Timestamp,
    /// ISA08.
    pub receiver: String,
    /// Its transaction sets.
    pub transactions: Vec<TransactionRecord>,
}

impl InterchangeRecord {
    /// ISA13 as written (nine digits).
    pub fn control_text(&self) -> String {
        format!("{:09}", self.control)
    }

    /// Every claim carried, in order.
    pub fn claims(&self) -> impl Iterator<Item = ClaimId> + '_ {
        self.transactions
            .iter()
            .flat_map(|t| t.claims.iter().map(|c| c.claim))
    }
}

/// Every interchange written and the next control number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submissions {
    next: u32,
    records: BTreeMap<u32, InterchangeRecord>,
}

impl Default for Submissions {
    fn default() -> Self {
        Self::new()
    }
}

/// The largest ISA13.
pub const MAX_CONTROL_NUMBER: u32 = 999_999_999;

impl Submissions {
    /// Nothing issued yet; the first interchange is `000000001`.
    pub fn new() -> Self {
        Self::starting_at(1)
    }

    /// The first interchange gets `first` (for a clinic continuing another system's
    /// numbering); `0` is taken as `1`.
    pub fn starting_at(first: u32) -> Self {
        Self {
            next: first.max(1),
            records: BTreeMap::new(),
        }
    }

    /// The interchange (or functional group) with this control number.
    pub fn get(&self, control: u32) -> Option<&InterchangeRecord> {
        self.records.get(&control)
    }

    /// The transaction set a 999 names: GS06 of the group and ST02.
    pub fn transaction(&self, group: u32, st02: &str) -> Option<&TransactionRecord> {
        self.get(group)?
            .transactions
            .iter()
            .find(|t| t.control == st02)
    }

    /// Every interchange, in control-number order.
    pub fn iter(&self) -> impl Iterator<Item = &InterchangeRecord> {
        self.records.values()
    }

    /// How many interchanges were written.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The next control number, without issuing it.
    pub fn peek(&self) -> Result<u32, WriteError> {
        if self.next > MAX_CONTROL_NUMBER || self.records.contains_key(&self.next) {
            return Err(WriteError::ControlNumbersExhausted);
        }
        Ok(self.next)
    }

    /// Records a written interchange and moves the counter past it.
    pub(crate) fn record(&mut self, record: InterchangeRecord) {
        self.next = record.control.saturating_add(1);
        self.records.insert(record.control, record);
    }
}

/// Writes ISA and GS.
pub(crate) fn open_interchange(
    w: &mut SegmentWriter<'_>,
    parties: &EnvelopeParties,
    control: u32,
    at: Timestamp,
    kind: TransactionKind,
) {
    let date = at.date_naive();
    let time = at.time();
    w.seg("ISA")
        .code("00")
        .code("          ")
        .code("00")
        .code("          ");
    w.code("ZZ").code(&format!("{:<15}", parties.sender_id));
    w.code("ZZ").code(&format!("{:<15}", parties.receiver_id));
    w.date6(date).time(time).code("^").code("00501");
    w.code(&format!("{control:09}"))
        .code("1")
        .code(match parties.usage {
            Usage::Production => "P",
            Usage::Test => "T",
        })
        .code(":");
    w.end();
    w.seg("GS")
        .code(kind.functional_id())
        .code(&parties.application_sender)
        .code(&parties.application_receiver)
        .date(date)
        .time(time)
        .int(u64::from(control))
        .code("X")
        .code(kind.version())
        .end();
}

/// Writes GE and IEA.
pub(crate) fn close_interchange(w: &mut SegmentWriter<'_>, control: u32, transactions: usize) {
    w.seg("GE")
        .int(transactions as u64)
        .int(u64::from(control))
        .end();
    w.seg("IEA").code("1").code(&format!("{control:09}")).end();
}

/// ST02 for the `n`th (1-based) transaction set of a group.
pub(crate) fn st_control(n: usize) -> String {
    format!("{n:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_numbers_are_issued_once() {
        let mut s = Submissions::starting_at(MAX_CONTROL_NUMBER - 1);
        let at = Timestamp::default();
        for expected in [MAX_CONTROL_NUMBER - 1, MAX_CONTROL_NUMBER] {
            assert_eq!(s.peek(), Ok(expected));
            s.record(InterchangeRecord {
                control: expected,
                at,
                receiver: "R".into(),
                transactions: vec![],
            });
        }
        assert_eq!(s.peek(), Err(WriteError::ControlNumbersExhausted));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn parties_are_checked() {
        assert!(EnvelopeParties::new("CLINIC", "CH", "CLINIC", "CH", Usage::Test).is_ok());
        for bad in ["", "SIXTEEN-CHARS-XX", "A*B"] {
            assert_eq!(
                EnvelopeParties::new(bad, "CH", "CLINIC", "CH", Usage::Test),
                Err(WriteError::InvalidField { field: "sender_id" })
            );
        }
    }
}
