//! Several batches in one statement: the PostgreSQL store's group write.
//!
//! Under [`Durability::Group`](crate::Durability::Group) a request is answered only after a
//! shared flush, so the rows of the commands applied while a burst of requests hands the
//! write lock from one to the next can wait for that flush too, and go to the database
//! together: one round trip and one transaction for up to [`MAX_GROUP`] batches instead of
//! one each. [`GroupRows::of`] turns the batches, in order, into the rows of one
//! [`WRITE_GROUP`] statement with exactly the effect of writing them one after another:
//!
//! - data-modifying `WITH` clauses see only the rows that existed before the statement, so a
//!   withdrawal or a hold release in a later batch of the group cannot reach what an earlier
//!   batch of the same group writes. Their net effect is worked out here instead: an earlier
//!   batch's pending message that a later batch withdraws is written already `withdrawn`, and
//!   an appointment's holds are those left after its last release in the group;
//! - a token written twice keeps its last row (one `INSERT … ON CONFLICT` may not touch a row
//!   twice);
//! - every batch keeps its own chain link, so the chain is the one sequential commits would
//!   have written, and all of them are stored or none.

use super::super::{Batch, Chained, Hold};
use crate::error::StoreError;
use crate::integrity::{self, ChainTip, Hash};
use std::collections::{HashMap, HashSet};

/// Most batches written by one statement: bounds the statement's size and how long the first
/// request of a burst waits for the last.
pub(crate) const MAX_GROUP: usize = 64;

/// Every row of a group of batches written by one statement (see the module docs). `$n`
/// numbers the arrays [`GroupRows`] fills, in its field order.
pub(crate) const WRITE_GROUP: &str = "
WITH
 w_sms AS (UPDATE outbox SET status = 'withdrawn'
           WHERE patient = ANY($14::text[]) AND channel = 'sms' AND status = 'pending'),
 w_rem AS (UPDATE outbox SET status = 'withdrawn'
           WHERE purpose = ANY($15::text[]) AND status = 'pending'),
 cmd AS (INSERT INTO commands (seq, at, kind, body, batch)
         SELECT (SELECT COALESCE(MAX(seq), 0) FROM commands) + t.n, t.a, t.k, t.b, t.bt
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
              WITH ORDINALITY AS t(a, k, b, bt, n)),
 aud AS (INSERT INTO audit (seq, entry, batch)
         SELECT * FROM unnest($5::bigint[], $6::text[], $7::bigint[])),
 rev AS (INSERT INTO reviews (audit_seq, justification, batch)
         SELECT * FROM unnest($8::bigint[], $9::text[], $10::bigint[])),
 bat AS (INSERT INTO batches (seq, digest, head)
         SELECT * FROM unnest($11::bigint[], $12::text[], $13::text[])),
 outb AS (INSERT INTO outbox (created_at, send_at, patient, purpose, channel, address, body, status)
          SELECT * FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
                               $21::text[], $22::text[], $23::text[])),
 tok AS (INSERT INTO tokens (hash, principal, expires_at)
         SELECT * FROM unnest($24::text[], $25::text[], $26::text[])
         ON CONFLICT (hash) DO UPDATE
         SET principal = EXCLUDED.principal, expires_at = EXCLUDED.expires_at),
 rel AS (DELETE FROM holds WHERE appointment = ANY($29::text[])),
 hld AS (INSERT INTO holds (appointment, resource, during)
         SELECT a, r, tstzrange(to_timestamp(s), to_timestamp(e))
         FROM unnest($30::text[], $31::text[], $32::bigint[], $33::bigint[]) AS t(a, r, s, e))
INSERT INTO unique_keys (kind, key) SELECT * FROM unnest($27::text[], $28::text[])";

/// One batch's link in the chain: its batch number, digest and the head after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) seq: i64,
    pub(crate) digest: Hash,
    pub(crate) next: ChainTip,
}

/// The chain links of `batches` appended to `tip` in order (`None` for a batch with nothing
/// chained), and the tip after the last.
///
/// # Errors
/// [`StoreError::Corrupt`] when a sequence number overflows.
pub(crate) fn links(
    tip: ChainTip,
    chained: &[Chained<'_>],
) -> Result<(Vec<Option<Link>>, ChainTip), StoreError> {
    let mut tip = tip;
    let mut out = Vec::with_capacity(chained.len());
    for c in chained {
        if c.is_empty() {
            out.push(None);
            continue;
        }
        let seq = i64::try_from(tip.batches)
            .map_err(|_| super::corrupt("batches", "sequence overflow"))?;
        let digest = c.digest();
        let next = tip.append(&digest);
        out.push(Some(Link { seq, digest, next }));
        tip = next;
    }
    Ok((out, tip))
}

/// The columns of one [`WRITE_GROUP`] statement, in parameter order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupRows<'a> {
    pub(crate) command_at: Vec<&'a str>,
    pub(crate) command_kind: Vec<&'a str>,
    pub(crate) command_body: Vec<&'a str>,
    pub(crate) command_batch: Vec<Option<i64>>,
    pub(crate) audit_seq: Vec<i64>,
    pub(crate) audit_entry: Vec<&'a str>,
    pub(crate) audit_batch: Vec<Option<i64>>,
    pub(crate) review_seq: Vec<i64>,
    pub(crate) review_text: Vec<&'a str>,
    pub(crate) review_batch: Vec<Option<i64>>,
    pub(crate) batch_seq: Vec<i64>,
    pub(crate) batch_digest: Vec<String>,
    pub(crate) batch_head: Vec<String>,
    /// Patients whose pending SMS stored before the statement are withdrawn.
    pub(crate) withdraw_sms: Vec<String>,
    /// Purposes whose pending messages stored before the statement are withdrawn.
    pub(crate) withdraw_purposes: Vec<String>,
    /// Outbox columns: created_at, send_at, patient, purpose, channel, address, body, status.
    pub(crate) outbox: [Vec<&'a str>; 8],
    pub(crate) token_hash: Vec<&'a str>,
    pub(crate) token_principal: Vec<&'a str>,
    pub(crate) token_expires: Vec<&'a str>,
    pub(crate) unique_kind: Vec<&'a str>,
    pub(crate) unique_key: Vec<&'a str>,
    /// Appointments whose holds stored before the statement are deleted.
    pub(crate) release: Vec<&'a str>,
    pub(crate) hold_appointment: Vec<&'a str>,
    pub(crate) hold_resource: Vec<&'a str>,
    pub(crate) hold_start: Vec<i64>,
    pub(crate) hold_end: Vec<i64>,
}

/// What a withdrawal reference names: every pending SMS to a patient (`sms:<patient>`), or an
/// appointment's pending reminders.
enum Withdrawal<'a> {
    Sms(&'a str),
    Purpose(String),
}

fn withdrawal(reference: &str) -> Withdrawal<'_> {
    match reference.strip_prefix("sms:") {
        Some(patient) => Withdrawal::Sms(patient),
        None => Withdrawal::Purpose(format!("appointment-reminders:{reference}")),
    }
}

impl<'a> GroupRows<'a> {
    /// The rows of `batches` (with their `links`, one per batch) written in order.
    pub(crate) fn of(
        batches: &[&'a Batch],
        chained: &[Chained<'a>],
        links: &[Option<Link>],
    ) -> Self {
        let mut rows = GroupRows::default();
        for ((batch, chained), link) in batches.iter().zip(chained).zip(links) {
            rows.push_chained(chained, link.as_ref());
            for (kind, key) in &batch.unique {
                rows.unique_kind.push(kind);
                rows.unique_key.push(key);
            }
        }
        rows.push_withdrawals(batches);
        rows.push_outbox(batches);
        rows.push_tokens(batches);
        rows.push_holds(batches);
        rows
    }

    fn push_chained(&mut self, chained: &Chained<'a>, link: Option<&Link>) {
        let seq = link.map(|l| l.seq);
        if let Some((at, kind, body)) = chained.command {
            self.command_at.push(at);
            self.command_kind.push(kind);
            self.command_body.push(body);
            self.command_batch.push(seq);
        }
        for (s, entry) in &chained.audit {
            self.audit_seq.push(*s);
            self.audit_entry.push(entry);
            self.audit_batch.push(seq);
        }
        for (s, text) in &chained.reviews {
            self.review_seq.push(*s);
            self.review_text.push(text);
            self.review_batch.push(seq);
        }
        if let Some(link) = link {
            self.batch_seq.push(link.seq);
            self.batch_digest.push(integrity::hex(&link.digest));
            self.batch_head.push(integrity::hex(&link.next.head));
        }
    }

    /// Every withdrawal of the group applies to the messages stored before it.
    fn push_withdrawals(&mut self, batches: &[&'a Batch]) {
        let mut sms = HashSet::new();
        let mut purposes = HashSet::new();
        for reference in batches.iter().flat_map(|b| &b.withdraw) {
            match withdrawal(reference) {
                Withdrawal::Sms(p) => {
                    if sms.insert(p) {
                        self.withdraw_sms.push(p.to_string());
                    }
                }
                Withdrawal::Purpose(p) => {
                    if purposes.insert(p.clone()) {
                        self.withdraw_purposes.push(p);
                    }
                }
            }
        }
    }

    /// Messages in order; a pending one that a later batch of the group withdraws is written
    /// `withdrawn`, as the later batch's own statement would have left it.
    fn push_outbox(&mut self, batches: &[&'a Batch]) {
        // Withdrawals made by batches after the one at hand, gathered walking backwards.
        let mut later_sms: HashSet<&str> = HashSet::new();
        let mut later_purposes: HashSet<String> = HashSet::new();
        let mut statuses: Vec<Vec<&'a str>> = vec![Vec::new(); batches.len()];
        for (i, batch) in batches.iter().enumerate().rev() {
            statuses[i] = batch
                .outbox
                .iter()
                .map(|m| {
                    let withdrawn = m.status == "pending"
                        && ((m.channel == "sms" && later_sms.contains(m.patient.as_str()))
                            || later_purposes.contains(&m.purpose));
                    if withdrawn {
                        "withdrawn"
                    } else {
                        m.status.as_str()
                    }
                })
                .collect();
            for reference in &batch.withdraw {
                match withdrawal(reference) {
                    Withdrawal::Sms(p) => {
                        later_sms.insert(p);
                    }
                    Withdrawal::Purpose(p) => {
                        later_purposes.insert(p);
                    }
                }
            }
        }
        for (batch, statuses) in batches.iter().zip(statuses) {
            for (m, status) in batch.outbox.iter().zip(statuses) {
                let [created, send, patient, purpose, channel, address, body, st] =
                    &mut self.outbox;
                created.push(&m.created_at);
                send.push(&m.send_at);
                patient.push(&m.patient);
                purpose.push(&m.purpose);
                channel.push(&m.channel);
                address.push(&m.address);
                body.push(&m.body);
                st.push(status);
            }
        }
    }

    /// One row per token hash: the last written.
    fn push_tokens(&mut self, batches: &[&'a Batch]) {
        let mut at: HashMap<&str, usize> = HashMap::new();
        for token in batches.iter().flat_map(|b| &b.tokens) {
            match at.get(token.hash.as_str()) {
                Some(&i) => {
                    self.token_principal[i] = &token.principal;
                    self.token_expires[i] = &token.expires_at;
                }
                None => {
                    at.insert(&token.hash, self.token_hash.len());
                    self.token_hash.push(&token.hash);
                    self.token_principal.push(&token.principal);
                    self.token_expires.push(&token.expires_at);
                }
            }
        }
    }

    /// Each appointment's holds after the group: a release drops what the appointment held
    /// before it (stored or written earlier in the group); holds add to what is left.
    fn push_holds(&mut self, batches: &[&'a Batch]) {
        let mut order: Vec<&'a str> = Vec::new();
        let mut state: HashMap<&'a str, (bool, Vec<&'a Hold>)> = HashMap::new();
        for batch in batches {
            for appointment in &batch.release {
                let entry = state.entry(appointment).or_insert_with(|| {
                    order.push(appointment);
                    (false, Vec::new())
                });
                *entry = (true, Vec::new());
            }
            for hold in &batch.holds {
                state
                    .entry(&hold.appointment)
                    .or_insert_with(|| {
                        order.push(&hold.appointment);
                        (false, Vec::new())
                    })
                    .1
                    .push(hold);
            }
        }
        for appointment in order {
            let Some((released, holds)) = state.remove(appointment) else {
                continue;
            };
            if released {
                self.release.push(appointment);
            }
            for hold in holds {
                self.hold_appointment.push(&hold.appointment);
                self.hold_resource.push(&hold.resource);
                self.hold_start.push(hold.start);
                self.hold_end.push(hold.end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::store::{OutboxMessage, TokenRow};

    fn message(patient: &str, purpose: &str, channel: &str) -> OutboxMessage {
        OutboxMessage {
            id: 0,
            created_at: "t".into(),
            send_at: "t".into(),
            patient: patient.into(),
            purpose: purpose.into(),
            channel: channel.into(),
            address: "a".into(),
            body: "b".into(),
            status: "pending".into(),
        }
    }

    fn hold(appointment: &str, resource: &str, start: i64) -> Hold {
        Hold {
            appointment: appointment.into(),
            resource: resource.into(),
            start,
            end: start + 900,
        }
    }

    fn rows<'a>(batches: &[&'a Batch]) -> GroupRows<'a> {
        let chained: Vec<Chained<'a>> = batches.iter().map(|b| Chained::of(b).unwrap()).collect();
        let (links, _) = links(ChainTip::EMPTY, &chained).unwrap();
        GroupRows::of(batches, &chained, &links)
    }

    #[test]
    fn a_later_withdrawal_reaches_an_earlier_message_of_the_group_and_never_a_later_one() {
        let booked = Batch {
            outbox: vec![
                message("p1", "appointment-reminders:a1", "sms"),
                message("p1", "notice", "email"),
            ],
            ..Batch::default()
        };
        let cancelled = Batch {
            withdraw: vec!["a1".into()],
            outbox: vec![message("p1", "appointment-reminders:a1", "sms")],
            ..Batch::default()
        };
        let opted_out = Batch {
            withdraw: vec!["sms:p2".into()],
            ..Batch::default()
        };
        let texted = Batch {
            outbox: vec![message("p2", "notice", "sms")],
            ..Batch::default()
        };
        let r = rows(&[&booked, &cancelled, &opted_out, &texted]);
        // The first reminder is withdrawn by the cancellation; the e-mail is untouched; the
        // cancellation's own message and the SMS queued after the opt-out stay pending.
        assert_eq!(
            r.outbox[7],
            vec!["withdrawn", "pending", "pending", "pending"]
        );
        assert_eq!(r.withdraw_purposes, vec!["appointment-reminders:a1"]);
        assert_eq!(r.withdraw_sms, vec!["p2"]);
    }

    #[test]
    fn holds_are_what_each_appointment_holds_after_its_last_release() {
        let book = Batch {
            release: vec!["a1".into()],
            holds: vec![hold("a1", "provider:x", 0), hold("a1", "patient:p", 0)],
            ..Batch::default()
        };
        let moved = Batch {
            release: vec!["a1".into()],
            holds: vec![hold("a1", "provider:x", 3600)],
            ..Batch::default()
        };
        let other = Batch {
            release: vec!["a2".into()],
            holds: vec![hold("a2", "provider:y", 0)],
            ..Batch::default()
        };
        let cancelled = Batch {
            release: vec!["a2".into()],
            ..Batch::default()
        };
        let r = rows(&[&book, &moved, &other, &cancelled]);
        assert_eq!(r.release, vec!["a1", "a2"]);
        assert_eq!(r.hold_appointment, vec!["a1"]);
        assert_eq!(r.hold_start, vec![3600]);
    }

    #[test]
    fn a_token_written_twice_keeps_its_last_row() {
        let token = |principal: &str| TokenRow {
            hash: "h".into(),
            principal: principal.into(),
            expires_at: "e".into(),
        };
        let first = Batch {
            tokens: vec![token("one")],
            ..Batch::default()
        };
        let second = Batch {
            tokens: vec![token("two")],
            ..Batch::default()
        };
        let r = rows(&[&first, &second]);
        assert_eq!(r.token_hash, vec!["h"]);
        assert_eq!(r.token_principal, vec!["two"]);
    }

    #[test]
    fn each_chained_batch_gets_its_own_link_in_order() {
        let command = |n: &str| Batch {
            command: Some(("t".into(), "k".into(), n.into())),
            audit: vec![(7, "e".into())],
            ..Batch::default()
        };
        let (a, b) = (command("1"), command("2"));
        let plain = Batch {
            outbox: vec![message("p", "notice", "email")],
            ..Batch::default()
        };
        let batches = [&a, &plain, &b];
        let chained: Vec<Chained<'_>> = batches.iter().map(|x| Chained::of(x).unwrap()).collect();
        let (links, tip) = links(ChainTip::EMPTY, &chained).unwrap();
        assert!(links[1].is_none());
        let (la, lb) = (links[0].unwrap(), links[2].unwrap());
        assert_eq!((la.seq, lb.seq, tip.batches), (0, 1, 2));
        // The same chain sequential commits write: each link appends to the one before.
        assert_eq!(la.next.append(&lb.digest).head, tip.head);
        let r = GroupRows::of(&batches, &chained, &links);
        assert_eq!(r.command_batch, vec![Some(0), Some(1)]);
        assert_eq!(r.audit_batch, vec![Some(0), Some(1)]);
        assert_eq!(r.batch_seq, vec![0, 1]);
    }
}
