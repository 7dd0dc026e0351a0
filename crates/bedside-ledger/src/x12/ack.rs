//! 999 implementation acknowledgements (005010X231A1) and 277CA claim acknowledgements
//! (005010X214): readers, and [`Acknowledgements`], which moves each claim through its
//! lifecycle and queues every rejection with its reason in plain words.
//!
//! - A 999 answers transaction sets: an accepted set (IK501 `A` or `E`) moves its claims from
//!   submitted to [`ClaimStatus::Acknowledged`]; a rejected one (`R`, `M`, `W`, `X`, or an
//!   AK9 rejecting the whole group) moves them to [`ClaimStatus::Rejected`]. The set is found
//!   through [`Submissions`] (AK102 is the GS06 Bedside issued, AK202 the ST02), and each IK3
//!   error is attributed to the claim whose segments include its position (IK302).
//! - A 277CA answers claims (TRN02 of loop 2200D is CLM01): category `A0`/`A1` acknowledges,
//!   `A2`/`A5` accepts into adjudication (and REF*1K is kept as the payer's claim number for
//!   later replacements and voids), `A3`, `A4`, `A6`, `A7`, `A8` reject.
//!
//! A claim that has moved on (paid, closed, voided) is not moved back; a rejection of a void
//! is still queued, since the payer then holds a claim the clinic considers void. Applying the
//! same acknowledgement again changes nothing and queues nothing new. Bad-data copies (IK404)
//! and names are never kept: they can hold PHI.
//!
//! This file is over 800 lines and not split further: the 999 and 277CA readers and the
//! processor share the acknowledgement codes; about 50 lines are tests.

use super::codes::{
    category_words, element_error_words, entity_words, segment_error_words, set_error_words,
    status_words,
};
use super::diagnostic::{Diagnostic, Problem, Severity};
use super::envelope::Submissions;
use super::segment::{Seg, Tokens, decode, tokenize};
use crate::claim::{ClaimBook, ClaimFrequency, ClaimStatus};
use crate::remit::ClaimMatcher;
use bedside_core::{ClaimId, Sensitive, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// An acknowledgement code (IK501, AK901).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckCode {
    /// `A`.
    Accepted,
    /// `E`: accepted, errors noted.
    AcceptedWithErrors,
    /// `P`: some transaction sets of the group accepted (AK9 only).
    PartiallyAccepted,
    /// `R`.
    Rejected,
    /// `M`: rejected, message authentication code failed.
    RejectedAuthentication,
    /// `W`: rejected, assurance failed validity tests.
    RejectedAssurance,
    /// `X`: rejected, content could not be analysed.
    RejectedContent,
}

impl AckCode {
    fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "A" => AckCode::Accepted,
            "E" => AckCode::AcceptedWithErrors,
            "P" => AckCode::PartiallyAccepted,
            "R" => AckCode::Rejected,
            "M" => AckCode::RejectedAuthentication,
            "W" => AckCode::RejectedAssurance,
            "X" => AckCode::RejectedContent,
            _ => return None,
        })
    }

    /// Whether the claims it covers go on to the payer.
    pub fn is_accepted(self) -> bool {
        matches!(self, AckCode::Accepted | AckCode::AcceptedWithErrors)
    }
}

/// An element error (IK4); the bad value itself (IK404) is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementError {
    /// IK401: position in the segment (`n` or `n:c`).
    pub position: String,
    /// IK402: data element reference number.
    pub reference: String,
    /// IK403: error code.
    pub code: String,
}

/// A segment error (IK3) and its element errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentError {
    /// IK301: the segment id in error.
    pub segment_id: String,
    /// IK302: its position in the transaction set (ST = 1).
    pub position: usize,
    /// IK303: the loop.
    pub loop_id: String,
    /// IK304: the error code.
    pub code: String,
    /// IK4s.
    pub elements: Vec<ElementError>,
}

/// A transaction set's acknowledgement (AK2 … IK5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAck {
    /// AK202: the ST02 acknowledged.
    pub control: String,
    /// IK501.
    pub status: AckCode,
    /// IK502–IK506: transaction set error codes.
    pub set_errors: Vec<String>,
    /// IK3 loops.
    pub segment_errors: Vec<SegmentError>,
    /// Segment ordinal of the AK2.
    pub segment: usize,
}

/// A functional group's acknowledgement (AK1 … AK9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAck {
    /// AK101: functional identifier (`HC` for claims).
    pub functional_id: String,
    /// AK102: the GS06 acknowledged.
    pub group_control: u32,
    /// The transaction sets.
    pub sets: Vec<SetAck>,
    /// AK901 (absent when AK9 is missing).
    pub status: Option<AckCode>,
    /// AK905–AK909: functional group error codes.
    pub group_errors: Vec<String>,
    /// Segment ordinal of the AK1.
    pub segment: usize,
}

/// A read 999.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack999 {
    /// Functional groups acknowledged.
    pub groups: Vec<GroupAck>,
    /// Everything worth reporting.
    pub diagnostics: Vec<Diagnostic>,
}

fn need(s: &Seg<'_>, n: usize, out: &mut Vec<Diagnostic>) -> bool {
    if s.e(n).is_empty() {
        let element = format!("{}{:02}", s.id, n);
        out.push(s.diag(Severity::Error, Problem::MissingElement { element }));
        false
    } else {
        true
    }
}

fn codes_from(s: &Seg<'_>, from: usize, to: usize) -> Vec<String> {
    (from..=to)
        .map(|n| s.e(n))
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(3).collect())
        .collect()
}

fn check_st(s: &Seg<'_>, expected: &str, out: &mut Vec<Diagnostic>) -> bool {
    if s.e(1) == expected {
        return true;
    }
    out.push(s.diag(
        Severity::Error,
        Problem::WrongTransactionSet {
            expected: expected.into(),
            found: s.e(1).chars().take(6).collect(),
        },
    ));
    false
}

/// Reads a 999. Never panics; problems become [`Diagnostic`]s and the records they affect are
/// left out.
// Over 100 lines, not split: one state machine over the AK1/AK2/IK3/IK4/IK5/AK9 loop structure.
pub fn parse_999(input: &[u8]) -> Ack999 {
    let mut out = Ack999 {
        groups: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { segs, .. }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    let d = &mut out.diagnostics;
    let mut in_999 = false;
    for s in &segs {
        match s.id {
            "ST" => in_999 = check_st(s, "999", d),
            "SE" => in_999 = false,
            _ if !in_999 => {}
            "AK1" => {
                if !need(s, 2, d) {
                    continue;
                }
                let Ok(group_control) = s.e(2).parse::<u32>() else {
                    let element = "AK102".to_string();
                    d.push(s.diag(Severity::Error, Problem::MissingElement { element }));
                    continue;
                };
                out.groups.push(GroupAck {
                    functional_id: s.e(1).chars().take(2).collect(),
                    group_control,
                    sets: Vec::new(),
                    status: None,
                    group_errors: Vec::new(),
                    segment: s.ordinal,
                });
            }
            "AK2" => {
                let Some(g) = out.groups.last_mut() else {
                    d.push(s.diag(
                        Severity::Error,
                        Problem::OutOfPlace {
                            segment: "AK2".into(),
                        },
                    ));
                    continue;
                };
                if !need(s, 2, d) {
                    continue;
                }
                g.sets.push(SetAck {
                    control: s.e(2).chars().take(9).collect(),
                    // Until IK5 says otherwise; a set without IK5 is reported below.
                    status: AckCode::Rejected,
                    set_errors: Vec::new(),
                    segment_errors: Vec::new(),
                    segment: s.ordinal,
                });
            }
            "IK3" => {
                let Some(set) = out.groups.last_mut().and_then(|g| g.sets.last_mut()) else {
                    d.push(s.diag(
                        Severity::Error,
                        Problem::OutOfPlace {
                            segment: "IK3".into(),
                        },
                    ));
                    continue;
                };
                set.segment_errors.push(SegmentError {
                    segment_id: s.e(1).chars().take(3).collect(),
                    position: s.e(2).parse().unwrap_or(0),
                    loop_id: s.e(3).chars().take(6).collect(),
                    code: s.e(4).chars().take(3).collect(),
                    elements: Vec::new(),
                });
            }
            "IK4" => {
                let Some(seg) = out
                    .groups
                    .last_mut()
                    .and_then(|g| g.sets.last_mut())
                    .and_then(|t| t.segment_errors.last_mut())
                else {
                    d.push(s.diag(
                        Severity::Error,
                        Problem::OutOfPlace {
                            segment: "IK4".into(),
                        },
                    ));
                    continue;
                };
                seg.elements.push(ElementError {
                    position: s.e(1).chars().take(7).collect(),
                    reference: s.e(2).chars().take(4).collect(),
                    code: s.e(3).chars().take(3).collect(),
                });
            }
            "IK5" => {
                let Some(set) = out.groups.last_mut().and_then(|g| g.sets.last_mut()) else {
                    d.push(s.diag(
                        Severity::Error,
                        Problem::OutOfPlace {
                            segment: "IK5".into(),
                        },
                    ));
                    continue;
                };
                match AckCode::parse(s.e(1)) {
                    Some(code) => set.status = code,
                    None => {
                        let element = "IK501".to_string();
                        d.push(s.diag(Severity::Error, Problem::MissingElement { element }));
                    }
                }
                set.set_errors = codes_from(s, 2, 6);
            }
            "AK9" => {
                let Some(g) = out.groups.last_mut() else {
                    d.push(s.diag(
                        Severity::Error,
                        Problem::OutOfPlace {
                            segment: "AK9".into(),
                        },
                    ));
                    continue;
                };
                g.status = AckCode::parse(s.e(1));
                if g.status.is_none() {
                    let element = "AK901".to_string();
                    d.push(s.diag(Severity::Error, Problem::MissingElement { element }));
                }
                g.group_errors = codes_from(s, 5, 9);
            }
            _ => {}
        }
    }
    out
}

/// A claim status (STC01, STC10 or STC11): category, status and entity codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusCode {
    /// Health care claim status category code (`A1`, `A2`, `A3`, …).
    pub category: String,
    /// Claim status code (list 508).
    pub status: String,
    /// Entity identifier code the status is about (`85` billing provider, `IL` subscriber, …).
    pub entity: String,
}

impl StatusCode {
    /// What this status does to the claim.
    pub fn outcome(&self) -> Outcome {
        match self.category.as_str() {
            "A0" | "A1" => Outcome::Acknowledged,
            "A2" | "A5" => Outcome::Accepted,
            "A3" | "A4" | "A6" | "A7" | "A8" => Outcome::Rejected,
            _ => Outcome::Informational,
        }
    }

    /// The status in plain words, e.g. "rejected: subscriber and subscriber id not found
    /// (subscriber)".
    pub fn plain(&self) -> String {
        let mut s = category_words(&self.category).to_string();
        let status = status_words(&self.status);
        if !status.is_empty() {
            s.push_str(": ");
            s.push_str(&status);
        }
        let entity = entity_words(&self.entity);
        if !entity.is_empty() {
            s.push_str(" (");
            s.push_str(entity);
            s.push(')');
        }
        s
    }
}

/// What a claim acknowledgement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Received, not yet accepted.
    Acknowledged,
    /// Accepted into adjudication.
    Accepted,
    /// Rejected: fix and resubmit.
    Rejected,
    /// Neither (pending, finalised, request for information, …).
    Informational,
}

/// One claim's statuses in a 277CA (loop 2200D).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStatusAck {
    /// TRN02: the claim's CLM01.
    pub control_number: Sensitive<String>,
    /// Every STC composite (STC01, STC10, STC11), in order.
    pub statuses: Vec<StatusCode>,
    /// REF*1K: the payer's claim control number.
    pub payer_claim_number: Option<Sensitive<String>>,
    /// Segment ordinal of the TRN.
    pub segment: usize,
}

impl ClaimStatusAck {
    /// The claim's outcome: rejected if any status rejects, else accepted if any accepts,
    /// else acknowledged if any acknowledges.
    pub fn outcome(&self) -> Outcome {
        let has = |o| self.statuses.iter().any(|s| s.outcome() == o);
        if has(Outcome::Rejected) {
            Outcome::Rejected
        } else if has(Outcome::Accepted) {
            Outcome::Accepted
        } else if has(Outcome::Acknowledged) {
            Outcome::Acknowledged
        } else {
            Outcome::Informational
        }
    }
}

/// A read 277CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack277 {
    /// Claim-level statuses.
    pub claims: Vec<ClaimStatusAck>,
    /// Statuses above claim level (receiver, billing provider), with their STC's ordinal.
    pub batch_statuses: Vec<(StatusCode, usize)>,
    /// Everything worth reporting.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a 277CA. Never panics.
pub fn parse_277ca(input: &[u8]) -> Ack277 {
    let mut out = Ack277 {
        claims: Vec::new(),
        batch_statuses: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { sep, segs }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    let d = &mut out.diagnostics;
    let (mut in_277, mut in_claim) = (false, false);
    for s in &segs {
        match s.id {
            "ST" => in_277 = check_st(s, "277", d),
            "SE" => (in_277, in_claim) = (false, false),
            _ if !in_277 => {}
            // 2000D (patient) opens a claim; 2000A–C are batch levels.
            "HL" => in_claim = s.e(3) == "PT",
            "TRN" if in_claim => {
                if !need(s, 2, d) {
                    continue;
                }
                out.claims.push(ClaimStatusAck {
                    control_number: Sensitive::new(s.e(2).to_string()),
                    statuses: Vec::new(),
                    payer_claim_number: None,
                    segment: s.ordinal,
                });
            }
            "STC" => {
                let mut found = Vec::new();
                for n in [1, 10, 11] {
                    let category = s.c(n, 1, sep.component);
                    if category.is_empty() {
                        continue;
                    }
                    found.push(StatusCode {
                        category: category.chars().take(3).collect(),
                        status: s.c(n, 2, sep.component).chars().take(5).collect(),
                        entity: s.c(n, 3, sep.component).chars().take(3).collect(),
                    });
                }
                if found.is_empty() {
                    let element = "STC01".to_string();
                    d.push(s.diag(Severity::Error, Problem::MissingElement { element }));
                    continue;
                }
                match out.claims.last_mut().filter(|_| in_claim) {
                    Some(c) => c.statuses.extend(found),
                    None => out
                        .batch_statuses
                        .extend(found.into_iter().map(|f| (f, s.ordinal))),
                }
            }
            "REF" if in_claim && s.e(1) == "1K" => {
                if let Some(c) = out.claims.last_mut() {
                    c.payer_claim_number = Some(Sensitive::new(s.e(2).to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Where an acknowledgement work item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckSource {
    /// A 999 from the clearinghouse.
    Implementation,
    /// A 277CA from the clearinghouse or the payer.
    ClaimAcknowledgement,
}

/// A rejection a person must work: which claim, why in plain words, and the codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AckWorkItem {
    /// The claim, when the acknowledgement names one Bedside knows.
    pub claim: Option<ClaimId>,
    /// Where it came from.
    pub source: AckSource,
    /// The reason in plain words (codes and element names only, never patient values).
    pub reason: String,
    /// The codes, as received (`IK304 8`, `A3:33:IL`, …).
    pub codes: Vec<String>,
    /// Segment ordinal in the acknowledgement.
    pub segment: usize,
}

/// What applying one acknowledgement did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckSummary {
    /// Claims moved to acknowledged.
    pub acknowledged: usize,
    /// Claims moved to accepted.
    pub accepted: usize,
    /// Claims moved to rejected.
    pub rejected: usize,
    /// Claims already past the state the acknowledgement would move them to.
    pub unchanged: usize,
    /// Acknowledgements naming no claim Bedside knows.
    pub unmatched: usize,
    /// Work items added.
    pub queued: usize,
}

/// Applies acknowledgements to a [`ClaimBook`] and keeps the rejection work queue.
#[derive(Debug, Clone, Default)]
pub struct Acknowledgements {
    queue: Vec<AckWorkItem>,
    queued: HashSet<AckWorkItem>,
}

impl Acknowledgements {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejections to work, oldest first.
    pub fn work_queue(&self) -> &[AckWorkItem] {
        &self.queue
    }

    fn push(&mut self, item: AckWorkItem, summary: &mut AckSummary) {
        if self.queued.insert(item.clone()) {
            self.queue.push(item);
            summary.queued += 1;
        }
    }

    fn move_claim(
        claims: &mut ClaimBook,
        id: ClaimId,
        to: ClaimStatus,
        at: Timestamp,
        summary: &mut AckSummary,
    ) {
        let Some(c) = claims.get(id) else {
            summary.unmatched += 1;
            return;
        };
        if c.status == to || !c.status.can_move_to(to) {
            summary.unchanged += 1;
            return;
        }
        if claims.transition(id, to, at).is_ok() {
            match to {
                ClaimStatus::Acknowledged => summary.acknowledged += 1,
                ClaimStatus::Accepted => summary.accepted += 1,
                _ => summary.rejected += 1,
            }
        }
    }

    /// Applies a 999 to the claims of the transaction sets it names.
    pub fn apply_999(
        &mut self,
        ack: &Ack999,
        submissions: &Submissions,
        claims: &mut ClaimBook,
        at: Timestamp,
    ) -> AckSummary {
        let mut summary = AckSummary::default();
        for g in &ack.groups {
            let Some(record) = submissions.get(g.group_control) else {
                summary.unmatched += 1;
                continue;
            };
            // A group rejected with no set named rejects every set in it.
            let implied: Vec<SetAck>;
            let sets: &[SetAck] = if g.sets.is_empty() {
                let status = g.status.unwrap_or(AckCode::Rejected);
                implied = record
                    .transactions
                    .iter()
                    .map(|t| SetAck {
                        control: t.control.clone(),
                        status,
                        set_errors: g.group_errors.clone(),
                        segment_errors: Vec::new(),
                        segment: g.segment,
                    })
                    .collect();
                &implied
            } else {
                &g.sets
            };
            for set in sets {
                let Some(tx) = submissions.transaction(g.group_control, &set.control) else {
                    summary.unmatched += 1;
                    continue;
                };
                for position in &tx.claims {
                    let id = position.claim;
                    if set.status.is_accepted() {
                        Self::move_claim(claims, id, ClaimStatus::Acknowledged, at, &mut summary);
                        continue;
                    }
                    let own: Vec<&SegmentError> = set
                        .segment_errors
                        .iter()
                        .filter(|e| tx.claim_at(e.position) == Some(id))
                        .collect();
                    let (reason, codes) = set_rejection_words(set, &own);
                    let item = AckWorkItem {
                        claim: Some(id),
                        source: AckSource::Implementation,
                        reason,
                        codes,
                        segment: set.segment,
                    };
                    self.reject(claims, item, at, &mut summary);
                }
            }
        }
        summary
    }

    /// Queues `item` (its claim set) and moves the claim to rejected, unless it was a void the
    /// payer refused (the payer still holds the claim then).
    fn reject(
        &mut self,
        claims: &mut ClaimBook,
        item: AckWorkItem,
        at: Timestamp,
        summary: &mut AckSummary,
    ) {
        let Some(id) = item.claim else {
            self.push(item, summary);
            return;
        };
        let AckWorkItem {
            source,
            reason,
            codes,
            segment,
            ..
        } = item;
        let void = claims
            .get(id)
            .is_some_and(|c| c.frequency == ClaimFrequency::Void);
        let reason = if void {
            format!("the payer did not take the void, so it still holds the claim: {reason}")
        } else {
            Self::move_claim(claims, id, ClaimStatus::Rejected, at, summary);
            reason
        };
        self.push(
            AckWorkItem {
                claim: Some(id),
                source,
                reason,
                codes,
                segment,
            },
            summary,
        );
    }

    /// Applies a 277CA: each claim it names (by CLM01) is acknowledged, accepted (its payer
    /// claim number recorded) or rejected; batch-level rejections are queued without a claim.
    pub fn apply_277ca(
        &mut self,
        ack: &Ack277,
        claims: &mut ClaimBook,
        at: Timestamp,
    ) -> AckSummary {
        let mut summary = AckSummary::default();
        for (status, segment) in &ack.batch_statuses {
            if status.outcome() == Outcome::Rejected {
                let item = AckWorkItem {
                    claim: None,
                    source: AckSource::ClaimAcknowledgement,
                    reason: format!("a whole batch was {}", status.plain()),
                    codes: vec![code_text(status)],
                    segment: *segment,
                };
                self.push(item, &mut summary);
            }
        }
        for c in &ack.claims {
            let Some(target) = claims.find(c.control_number.expose()) else {
                summary.unmatched += 1;
                continue;
            };
            let id = target.claim;
            match c.outcome() {
                Outcome::Acknowledged => {
                    Self::move_claim(claims, id, ClaimStatus::Acknowledged, at, &mut summary)
                }
                Outcome::Accepted => {
                    if let Some(n) = &c.payer_claim_number {
                        let _ = claims.record_payer_claim_number(id, n.expose());
                    }
                    if claims
                        .get(id)
                        .is_some_and(|x| x.status == ClaimStatus::Submitted)
                    {
                        Self::move_claim(claims, id, ClaimStatus::Acknowledged, at, &mut summary);
                    }
                    Self::move_claim(claims, id, ClaimStatus::Accepted, at, &mut summary)
                }
                Outcome::Rejected => {
                    let rejecting: Vec<&StatusCode> = c
                        .statuses
                        .iter()
                        .filter(|s| s.outcome() == Outcome::Rejected)
                        .collect();
                    let reason = format!(
                        "the payer {}",
                        rejecting
                            .iter()
                            .map(|s| s.plain())
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    let codes = rejecting.iter().map(|s| code_text(s)).collect();
                    let item = AckWorkItem {
                        claim: Some(id),
                        source: AckSource::ClaimAcknowledgement,
                        reason,
                        codes,
                        segment: c.segment,
                    };
                    self.reject(claims, item, at, &mut summary);
                }
                Outcome::Informational => summary.unchanged += 1,
            }
        }
        summary
    }
}

fn code_text(s: &StatusCode) -> String {
    let mut t = s.category.clone();
    for part in [&s.status, &s.entity] {
        if !part.is_empty() {
            t.push(':');
            t.push_str(part);
        }
    }
    t
}

fn set_rejection_words(set: &SetAck, own: &[&SegmentError]) -> (String, Vec<String>) {
    let mut codes = vec![format!("IK501 {}", ik5_code(set.status))];
    codes.extend(set.set_errors.iter().map(|c| format!("IK502 {c}")));
    let mut parts: Vec<String> = Vec::new();
    for e in own {
        codes.push(format!("IK304 {}", e.code));
        let mut p = format!(
            "segment {} at position {} (loop {}): {}",
            e.segment_id,
            e.position,
            e.loop_id,
            segment_error_words(&e.code)
        );
        for el in &e.elements {
            codes.push(format!("IK403 {}", el.code));
            p.push_str(&format!(
                "; element {} (data element {}): {}",
                el.position,
                el.reference,
                element_error_words(&el.code)
            ));
        }
        parts.push(p);
    }
    let why = if parts.is_empty() {
        let set_words: Vec<&str> = set.set_errors.iter().map(|c| set_error_words(c)).collect();
        if set_words.is_empty() {
            "its transaction set was rejected (errors elsewhere in the set)".to_string()
        } else {
            format!("its transaction set was rejected: {}", set_words.join("; "))
        }
    } else {
        parts.join("; ")
    };
    (
        format!("the clearinghouse rejected the claim: {why}"),
        codes,
    )
}

fn ik5_code(c: AckCode) -> &'static str {
    match c {
        AckCode::Accepted => "A",
        AckCode::AcceptedWithErrors => "E",
        AckCode::PartiallyAccepted => "P",
        AckCode::Rejected => "R",
        AckCode::RejectedAuthentication => "M",
        AckCode::RejectedAssurance => "W",
        AckCode::RejectedContent => "X",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: &str = "ISA*00*          *00*          *ZZ*CH             *ZZ*CLINIC         *260105*1200*^*00501*000000009*0*P*:~GS*FA*CH*CLINIC*20260105*1200*9*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*7*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK2*837*0002*005010X222A1~IK3*NM1*14*2010AA*8~IK4*9*67*7*BADVALUE~IK5*R*5~AK9*P*2*2*1~SE*10*0001~GE*1*9~IEA*1*000000009~";

    #[test]
    fn reads_999_without_keeping_bad_values() {
        let a = parse_999(ACK.as_bytes());
        assert_eq!(a.diagnostics, vec![]);
        let g = &a.groups[0];
        assert_eq!(
            (g.group_control, g.status),
            (7, Some(AckCode::PartiallyAccepted))
        );
        assert_eq!(g.sets[0].status, AckCode::Accepted);
        assert_eq!(g.sets[1].status, AckCode::Rejected);
        assert_eq!(g.sets[1].set_errors, vec!["5".to_string()]);
        assert_eq!(g.sets[1].segment_errors[0].position, 14);
        assert_eq!(g.sets[1].segment_errors[0].elements[0].code, "7");
        assert!(!format!("{a:?}").contains("BADVALUE"));
    }

    #[test]
    fn plain_words() {
        let s = StatusCode {
            category: "A3".into(),
            status: "33".into(),
            entity: "IL".into(),
        };
        assert_eq!(s.outcome(), Outcome::Rejected);
        assert_eq!(
            s.plain(),
            "returned as unprocessable: subscriber and subscriber id not found (subscriber)"
        );
        assert_eq!(
            status_words("9999"),
            "status code 9999 (see the X12 claim status code list)"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            "",
            "ISA",
            "ST*999~IK5*R",
            "ISA*00*          *00*          *ZZ*S *ZZ*R *260101*1200*^*00501*1*0*P*:~ST*999*1~IK4*1~IK3~AK2~AK9*Q~SE~",
        ] {
            let _ = parse_999(input.as_bytes());
            let _ = parse_277ca(input.as_bytes());
        }
    }
}
