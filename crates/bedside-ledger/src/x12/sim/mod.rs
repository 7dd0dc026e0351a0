//! Test support: a clearinghouse and payers that answer what Bedside sends, so the whole
//! claim cycle can run in a test, a bench or the eval with no network.
//!
//! - [`read_837`] reads an 837P back (the clearinghouse's and payer's view of it);
//! - [`clearinghouse_999`] answers an interchange with a 999, accepting each transaction set
//!   whose envelope is sound and rejecting the others (with IK3/IK5 codes);
//! - [`PayerSimulator`] accepts or rejects each claim in a 277CA (unknown members are rejected
//!   with category `A3`, status `33`), holds accepted claims (a replacement takes its
//!   original's place, a void removes it), and adjudicates what it holds into an 835 with the
//!   crate's own cost-sharing rule ([`responsibility`]) over a plan's allowed amounts;
//! - [`month`] builds a synthetic clinic month and runs it through all of the above.
//!
//! The simulated 835 for a secondary claim reports as CLP03 the amount the secondary was asked
//! to consider (the primary's remaining patient liability, AMT*EAF), not the full charge:
//! that is the amount [`RemittancePoster`](crate::RemittancePoster) credits to the secondary
//! payer's receivable.

mod cast;
pub mod eligibility;
pub mod fixture;
pub mod month;
mod read837;

pub use read837::{Claim837, Line837, Read837, read_837};

use super::party::Payer;
use super::writer::SegmentWriter;
use crate::coverage::{Accumulators, Benefits, responsibility};
use crate::money::{BasisPoints, Currency, Money};
use bedside_core::Timestamp;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn open(w: &mut SegmentWriter<'_>, functional: &str, version: &str, control: u32, at: Timestamp) {
    let date = at.date_naive();
    w.seg("ISA")
        .code("00")
        .code("          ")
        .code("00")
        .code("          ");
    w.code("ZZ")
        .code("CLEARINGHOUSE  ")
        .code("ZZ")
        .code("CLINIC         ");
    w.date6(date).time(at.time()).code("^").code("00501");
    w.code(&format!("{control:09}"))
        .code("0")
        .code("T")
        .code(":")
        .end();
    w.seg("GS")
        .code(functional)
        .code("CLEARINGHOUSE")
        .code("CLINIC")
        .date(date)
        .time(at.time())
        .int(u64::from(control))
        .code("X")
        .code(version)
        .end();
}

fn close(w: &mut SegmentWriter<'_>, control: u32) {
    w.seg("GE").code("1").int(u64::from(control)).end();
    w.seg("IEA").code("1").code(&format!("{control:09}")).end();
}

/// A 999 for an 837P interchange: each transaction set whose SE01 is right and whose ST02
/// is not in `reject` is accepted (IK5*A), the others rejected (IK5*R with IK3/IK4 naming the
/// first claim's CLM segment when rejected on request).
pub fn clearinghouse_999(read: &Read837, reject: &[&str], control: u32, at: Timestamp) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = SegmentWriter::new(&mut buf);
    open(&mut w, "FA", "005010X231A1", control, at);
    let start = w.segments;
    w.seg("ST")
        .code("999")
        .code("0001")
        .code("005010X231A1")
        .end();
    let group = read.transactions.first().map_or(0, |t| t.0);
    w.seg("AK1")
        .code("HC")
        .int(u64::from(group))
        .code("005010X222A1")
        .end();
    let mut accepted = 0;
    for (_, st, _) in &read.transactions {
        w.seg("AK2").code("837").code(st).code("005010X222A1").end();
        let bad_count = read
            .diagnostics
            .iter()
            .any(|d| matches!(d.problem, super::Problem::SegmentCountMismatch { .. }));
        if reject.contains(&st.as_str()) {
            // The element a payer most often refuses: CLM01 (required element missing).
            w.seg("IK3")
                .code("CLM")
                .code("22")
                .code("2300")
                .code("8")
                .end();
            w.seg("IK4").code("1").code("1028").code("1").end();
            w.seg("IK5").code("R").code("5").end();
        } else if bad_count {
            w.seg("IK5").code("R").code("4").end();
        } else {
            accepted += 1;
            w.seg("IK5").code("A").end();
        }
    }
    let n = read.transactions.len();
    let code = match accepted {
        0 => "R",
        a if a == n => "A",
        _ => "P",
    };
    w.seg("AK9")
        .code(code)
        .int(n as u64)
        .int(n as u64)
        .int(accepted as u64)
        .end();
    let count = w.segments - start + 1;
    w.seg("SE").int(count as u64).code("0001").end();
    close(&mut w, control);
    buf
}

/// A plan's terms as the simulated payer applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Allowed amount as a share of the charge.
    pub allowed: BasisPoints,
    /// Cost sharing.
    pub benefits: Benefits,
}

/// A simulated payer.
#[derive(Debug, Clone)]
pub struct PayerSimulator {
    payer: Payer,
    plan: Plan,
    enrolled: BTreeSet<String>,
    next_claim_number: u64,
    /// Accepted claims not yet adjudicated, by payer claim number.
    held: BTreeMap<String, Claim837>,
    accumulators: HashMap<String, Accumulators>,
    remits: u32,
}

/// What the payer did with each claim of an 837.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Received {
    /// Claims accepted into adjudication.
    pub accepted: usize,
    /// Claims rejected.
    pub rejected: usize,
    /// Voids applied.
    pub voided: usize,
}

impl PayerSimulator {
    /// A payer applying `plan`; it knows the members given to [`PayerSimulator::enrol`] (or
    /// everyone, when none are).
    pub fn new(payer: Payer, plan: Plan) -> Self {
        Self {
            payer,
            plan,
            enrolled: BTreeSet::new(),
            next_claim_number: 1,
            held: BTreeMap::new(),
            accumulators: HashMap::new(),
            remits: 0,
        }
    }

    /// The payer.
    pub fn payer(&self) -> &Payer {
        &self.payer
    }

    /// Adds a member the payer will accept claims for.
    pub fn enrol(&mut self, member_id: &str) {
        self.enrolled.insert(member_id.to_string());
    }

    /// How many accepted claims wait for adjudication.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Receives the claims of an 837 addressed to this payer and answers with a 277CA.
    pub fn receive(&mut self, read: &Read837, control: u32, at: Timestamp) -> (Vec<u8>, Received) {
        let mut done = Received::default();
        let mut buf = Vec::new();
        let mut w = SegmentWriter::new(&mut buf);
        open(&mut w, "HN", "005010X214", control, at);
        let start = w.segments;
        let date = at.date_naive();
        w.seg("ST")
            .code("277")
            .code("0001")
            .code("005010X214")
            .end();
        w.seg("BHT")
            .code("0085")
            .code("08")
            .int(u64::from(control))
            .date(date)
            .time(at.time())
            .code("TH")
            .end();
        w.seg("HL").code("1").none().code("20").code("1").end();
        w.seg("NM1")
            .code("PR")
            .code("2")
            .text(&self.payer.name, 60)
            .skip(4);
        w.code("PI").code(&self.payer.payer_id).end();
        w.seg("TRN").code("1").int(u64::from(control)).end();
        w.seg("DTP").code("050").code("D8").date(date).end();
        w.seg("DTP").code("009").code("D8").date(date).end();
        w.seg("HL").code("2").code("1").code("21").code("1").end();
        w.seg("NM1").code("41").code("2").code("CLINIC").skip(4);
        w.code("46").code("CLINIC").end();
        w.seg("TRN").code("2").int(u64::from(control)).end();
        w.seg("HL").code("3").code("2").code("19").code("1").end();
        w.seg("NM1").code("85").code("2").code("CLINIC").skip(4);
        w.code("XX").code("1234567893").end();
        let mut hl = 3u64;
        for c in read
            .claims
            .iter()
            .filter(|c| c.payer_id == self.payer.payer_id)
        {
            hl += 1;
            w.seg("HL").int(hl).code("3").code("PT").end();
            w.seg("NM1").code("QC").code("1").code("PATIENT").skip(4);
            w.code("MI").code(c.member_id.expose()).end();
            w.seg("TRN").code("2").code(c.control_number.expose()).end();
            let known = self.enrolled.is_empty() || self.enrolled.contains(c.member_id.expose());
            let target = c.payer_claim_number.as_ref().map(|n| n.expose().clone());
            let (status, number) = if !known {
                done.rejected += 1;
                ("A3:33:IL", None)
            } else if c.frequency == '8' {
                done.voided += 1;
                if let Some(t) = &target {
                    self.held.remove(t);
                }
                ("A2:20:PR", target)
            } else {
                done.accepted += 1;
                if let Some(t) = target.as_ref().filter(|_| c.frequency == '7') {
                    self.held.remove(t);
                }
                let number = format!("{}{:08}", self.payer.payer_id, self.next_claim_number);
                self.next_claim_number += 1;
                self.held.insert(number.clone(), c.clone());
                ("A2:20:PR", Some(number))
            };
            w.seg("STC")
                .code(status)
                .date(date)
                .code(if number.is_some() { "WQ" } else { "U" })
                .money(c.total)
                .end();
            if let Some(n) = &number {
                w.seg("REF").code("1K").code(n).end();
            }
            if let Some(d) = c.lines.first().and_then(|l| l.date_of_service) {
                w.seg("DTP").code("472").code("D8").date(d).end();
            }
        }
        let count = w.segments - start + 1;
        w.seg("SE").int(count as u64).code("0001").end();
        close(&mut w, control);
        (buf, done)
    }

    /// Adjudicates every held claim into one 835 paid on `paid_on` (empty when nothing is
    /// held).
    pub fn remit(&mut self, paid_on: NaiveDate, control: u32, at: Timestamp) -> Vec<u8> {
        if self.held.is_empty() {
            return Vec::new();
        }
        self.remits += 1;
        let held = std::mem::take(&mut self.held);
        let usd = Currency::USD;
        let mut clps = Vec::new();
        let mut total = Money::zero(usd);
        for (number, c) in &held {
            let clp = self.adjudicate(c);
            total = total.checked_add(clp.paid).unwrap_or(total);
            clps.push((number, c, clp));
        }
        let mut buf = Vec::new();
        let mut w = SegmentWriter::new(&mut buf);
        open(&mut w, "HP", "005010X221A1", control, at);
        let start = w.segments;
        w.seg("ST").code("835").code("0001").end();
        w.seg("BPR")
            .code("I")
            .money(total)
            .code("C")
            .code("CHK")
            .skip(11);
        w.date(paid_on).end();
        let trace = format!("{}{:06}", self.payer.payer_id, self.remits);
        w.seg("TRN").code("1").code(&trace).code("1999999999").end();
        w.seg("DTM").code("405").date(paid_on).end();
        w.seg("N1").code("PR").text(&self.payer.name, 60).end();
        w.seg("N3").code("1 PAYER WAY").end();
        w.seg("N4").code("HARTFORD").code("CT").code("06101").end();
        w.seg("PER")
            .code("BL")
            .code("CLAIMS")
            .code("TE")
            .code("8005550100")
            .end();
        w.seg("N1")
            .code("PE")
            .code("CLINIC")
            .code("XX")
            .code("1234567893")
            .end();
        w.seg("REF").code("TJ").code("123456789").end();
        w.seg("LX").code("1").end();
        for (number, c, clp) in &clps {
            w.seg("CLP")
                .code(c.control_number.expose())
                .code(if c.sequence == 'S' { "2" } else { "1" })
                .money(clp.charge)
                .money(clp.paid)
                .money(clp.patient)
                .code(self.payer.filing.code())
                .code(number)
                .code(&c.place_of_service)
                .code("1")
                .end();
            w.seg("NM1").code("QC").code("1").code("PATIENT").skip(4);
            w.code("MI").code(c.member_id.expose()).end();
            if clp.lines.is_empty() {
                cas_segments(&mut w, &clp.adjustments);
            }
            for (line, l) in c.lines.iter().zip(&clp.lines) {
                let mut comp = vec!["HC", line.code.as_str()];
                comp.extend(line.modifiers.iter().map(String::as_str));
                w.seg("SVC")
                    .comp(&comp)
                    .money(line.charge)
                    .money(l.paid)
                    .none()
                    .int(u64::from(line.units))
                    .end();
                if let Some(d) = line.date_of_service {
                    w.seg("DTM").code("472").date(d).end();
                }
                cas_segments(&mut w, &l.adjustments);
                w.seg("AMT").code("B6").money(l.allowed).end();
            }
        }
        let count = w.segments - start + 1;
        w.seg("SE").int(count as u64).code("0001").end();
        close(&mut w, control);
        buf
    }

    fn adjudicate(&mut self, c: &Claim837) -> SimClaim {
        let usd = Currency::USD;
        let zero = Money::zero(usd);
        let acc = self
            .accumulators
            .entry(c.member_id.expose().clone())
            .or_insert(Accumulators::zero(usd));
        if c.sequence == 'S' {
            // The secondary considers the primary's remaining patient liability and pays its
            // coinsurance share of it; the rest stays with the patient.
            let considered = c.prior_patient.unwrap_or(zero);
            let patient = considered
                .mul_bps(self.plan.benefits.coinsurance)
                .unwrap_or(zero);
            let paid = considered.checked_sub(patient).unwrap_or(zero);
            let adjustments = if patient.is_positive() {
                vec![("PR", "2", patient)]
            } else {
                vec![]
            };
            return SimClaim {
                charge: considered,
                paid,
                patient,
                adjustments,
                lines: vec![],
            };
        }
        let mut out = SimClaim {
            charge: c.total,
            paid: zero,
            patient: zero,
            adjustments: vec![],
            lines: vec![],
        };
        for line in &c.lines {
            let allowed = line
                .charge
                .mul_bps(self.plan.allowed)
                .unwrap_or(line.charge);
            let split = responsibility(allowed, &self.plan.benefits, acc).unwrap_or(
                crate::coverage::Responsibility {
                    allowed,
                    copay: zero,
                    deductible: zero,
                    coinsurance: zero,
                    patient: zero,
                    payer: allowed,
                },
            );
            let mut adjustments = Vec::new();
            let contractual = line.charge.checked_sub(allowed).unwrap_or(zero);
            if contractual.is_positive() {
                adjustments.push(("CO", "45", contractual));
            }
            for (reason, m) in [
                ("1", split.deductible),
                ("2", split.coinsurance),
                ("3", split.copay),
            ] {
                if m.is_positive() {
                    adjustments.push(("PR", reason, m));
                }
            }
            out.paid = out.paid.checked_add(split.payer).unwrap_or(out.paid);
            out.patient = out
                .patient
                .checked_add(split.patient)
                .unwrap_or(out.patient);
            out.lines.push(SimLine {
                allowed,
                paid: split.payer,
                adjustments,
            });
        }
        out
    }
}

struct SimLine {
    allowed: Money,
    paid: Money,
    adjustments: Vec<(&'static str, &'static str, Money)>,
}

struct SimClaim {
    charge: Money,
    paid: Money,
    patient: Money,
    adjustments: Vec<(&'static str, &'static str, Money)>,
    lines: Vec<SimLine>,
}

fn cas_segments(w: &mut SegmentWriter<'_>, adjustments: &[(&str, &str, Money)]) {
    for group in ["CO", "PR"] {
        let of: Vec<_> = adjustments.iter().filter(|a| a.0 == group).collect();
        if of.is_empty() {
            continue;
        }
        w.seg("CAS").code(group);
        for (_, reason, m) in of {
            w.code(reason).money(*m).none();
        }
        w.end();
    }
}
