//! The eligibility side of the simulation: a 270 reader (the payer's view), a payer answering
//! with a 271 from its plan and the member's accumulators, and [`run_eligibility`], which asks
//! about planned visits and turns the answers into pre-visit estimates.

use super::PayerSimulator;
use super::cast::{FEES, at, clinic, err, patients};
use crate::coverage::{Estimate, ExpectedService, estimate};
use crate::money::{Currency, Money};
use crate::x12::diagnostic::{Diagnostic, Problem, Severity};
use crate::x12::eligibility::{Batch270, EligibilityRequest, Response271, parse_271, write_270};
use crate::x12::envelope::Submissions;
use crate::x12::segment::{Tokens, date8, decode, tokenize};
use crate::x12::writer::SegmentWriter;
use bedside_core::{SeededRng, Sensitive, Timestamp};
use chrono::NaiveDate;

/// One 270 request as the payer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request270 {
    /// ST02.
    pub transaction: String,
    /// NM109 of 2100A: the payer asked.
    pub payer_id: String,
    /// NM109 of 2100B: the provider asking.
    pub provider_npi: String,
    /// TRN02.
    pub trace: String,
    /// NM109 of 2100C.
    pub member_id: Sensitive<String>,
    /// DMG02.
    pub birth_date: Option<NaiveDate>,
    /// DTP*291.
    pub date: Option<NaiveDate>,
    /// EQ01s.
    pub service_types: Vec<String>,
    /// Segment ids from ST to SE, in order (for checks against the guide's segment table).
    pub segments: Vec<String>,
}

/// What [`read_270`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read270 {
    /// Every request.
    pub requests: Vec<Request270>,
    /// Problems (SE01 mismatches, not a 270).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a 270. Never panics.
pub fn read_270(input: &[u8]) -> Read270 {
    let mut out = Read270 {
        requests: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { segs, .. }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    let (mut st_start, mut level) = (0, String::new());
    for s in &segs {
        if let Some(r) = out.requests.last_mut().filter(|_| st_start > 0) {
            r.segments.push(s.id.to_string());
        }
        match s.id {
            "ST" => {
                st_start = s.ordinal;
                if s.e(1) != "270" {
                    out.diagnostics.push(s.diag(
                        Severity::Error,
                        Problem::WrongTransactionSet {
                            expected: "270".into(),
                            found: s.e(1).chars().take(6).collect(),
                        },
                    ));
                }
                out.requests.push(Request270 {
                    transaction: s.e(2).to_string(),
                    payer_id: String::new(),
                    provider_npi: String::new(),
                    trace: String::new(),
                    member_id: Sensitive::new(String::new()),
                    birth_date: None,
                    date: None,
                    service_types: Vec::new(),
                    segments: vec!["ST".into()],
                });
            }
            "SE" => {
                let counted = s.ordinal + 1 - st_start;
                if s.e(1).parse::<usize>().ok() != Some(counted) {
                    let declared = s.e(1).parse().unwrap_or(0);
                    out.diagnostics.push(s.diag(
                        Severity::Error,
                        Problem::SegmentCountMismatch { declared, counted },
                    ));
                }
                st_start = 0;
            }
            "HL" => level = s.e(3).to_string(),
            _ => {}
        }
        let Some(r) = out.requests.last_mut().filter(|_| st_start > 0) else {
            continue;
        };
        match (s.id, level.as_str()) {
            ("NM1", "20") => r.payer_id = s.e(9).to_string(),
            ("NM1", "21") => r.provider_npi = s.e(9).to_string(),
            ("NM1", "22") => r.member_id = Sensitive::new(s.e(9).to_string()),
            ("TRN", "22") => r.trace = s.e(2).to_string(),
            ("DMG", "22") => r.birth_date = date8(s.e(2)),
            ("DTP", "22") if s.e(1) == "291" => r.date = date8(s.e(3)),
            ("EQ", "22") => r.service_types.push(s.e(1).to_string()),
            _ => {}
        }
    }
    out
}

impl PayerSimulator {
    /// Answers the requests of a 270 addressed to this payer with a 271: active coverage for
    /// enrolled members (AAA*75 subscriber not found for others), the plan's copay,
    /// coinsurance, deductible and out-of-pocket limit, and what remains of both limits.
    pub fn answer_270(&self, read: &Read270, control: u32, at: Timestamp) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = SegmentWriter::new(&mut buf);
        super::open(&mut w, "HB", "005010X279A1", control, at);
        let usd = Currency::USD;
        let zero = Money::zero(usd);
        let b = self.plan.benefits;
        let mut sets = 0;
        for r in read
            .requests
            .iter()
            .filter(|r| r.payer_id == self.payer.payer_id)
        {
            sets += 1;
            let start = w.segments;
            let st = format!("{sets:04}");
            w.seg("ST").code("271").code(&st).code("005010X279A1").end();
            w.seg("BHT")
                .code("0022")
                .code("11")
                .code(&r.trace)
                .date(at.date_naive())
                .time(at.time())
                .end();
            w.seg("HL").code("1").none().code("20").code("1").end();
            w.seg("NM1")
                .code("PR")
                .code("2")
                .text(&self.payer.name, 60)
                .skip(4);
            w.code("PI").code(&self.payer.payer_id).end();
            w.seg("HL").code("2").code("1").code("21").code("1").end();
            w.seg("NM1").code("1P").code("2").code("CLINIC").skip(4);
            w.code("XX").code(&r.provider_npi).end();
            w.seg("HL").code("3").code("2").code("22").code("0").end();
            w.seg("TRN").code("2").code(&r.trace).code("9").end();
            w.seg("NM1").code("IL").code("1").code("MEMBER").skip(4);
            w.code("MI").code(r.member_id.expose()).end();
            let known = self.enrolled.is_empty() || self.enrolled.contains(r.member_id.expose());
            if !known {
                w.seg("AAA").code("N").none().code("75").code("C").end();
            } else {
                let acc = self.accumulators.get(r.member_id.expose());
                let met = |f: fn(&crate::coverage::Accumulators) -> Money| acc.map_or(zero, f);
                let ded_left = b
                    .deductible
                    .checked_sub(met(|a| a.deductible_met))
                    .unwrap_or(zero)
                    .clamp_non_negative();
                let oop_left = b
                    .out_of_pocket_max
                    .checked_sub(met(|a| a.out_of_pocket_met))
                    .unwrap_or(zero)
                    .clamp_non_negative();
                w.seg("EB").code("1").code("IND").code("30").none();
                w.text(&self.payer.name, 50).end();
                let service = r.service_types.last().map_or("30", String::as_str);
                w.seg("EB")
                    .code("B")
                    .code("IND")
                    .code(service)
                    .skip(3)
                    .money(b.copay);
                w.skip(4).code("Y").end();
                w.seg("EB").code("A").code("IND").code(service).skip(4);
                let pct = b.coinsurance.get();
                w.code(&format!("{}.{:04}", pct / 10_000, pct % 10_000))
                    .skip(3)
                    .code("Y")
                    .end();
                for (code, total, left) in [
                    ("C", b.deductible, ded_left),
                    ("G", b.out_of_pocket_max, oop_left),
                ] {
                    w.seg("EB")
                        .code(code)
                        .code("IND")
                        .code("30")
                        .skip(2)
                        .code("23")
                        .money(total);
                    w.skip(4).code("Y").end();
                    w.seg("EB")
                        .code(code)
                        .code("IND")
                        .code("30")
                        .skip(2)
                        .code("29")
                        .money(left);
                    w.skip(4).code("Y").end();
                }
            }
            let count = w.segments - start + 1;
            w.seg("SE").int(count as u64).code(&st).end();
        }
        w.seg("GE").int(sets).int(u64::from(control)).end();
        w.seg("IEA").code("1").code(&format!("{control:09}")).end();
        buf
    }
}

/// The outcome of [`run_eligibility`].
#[derive(Debug)]
pub struct EligibilityRun {
    /// The 270 interchanges, one per payer, with a file name each.
    pub requests: Vec<(String, Vec<u8>)>,
    /// The 271 answers.
    pub responses: Vec<(String, Vec<u8>)>,
    /// Requests written.
    pub requests_written: usize,
    /// Requests [`read_270`] read back with the trace, member id, date and service types
    /// sent.
    pub requests_read_back: usize,
    /// Subscribers [`parse_271`] read with active coverage and benefits.
    pub answered: usize,
    /// The pre-visit estimate per request, in request order.
    pub estimates: Vec<Estimate>,
    /// Every 271 read.
    pub read: Vec<Response271>,
}

/// Asks each payer about `visits` planned office visits (service types `30` and `98`) on
/// `date` and estimates each patient's share of an established-patient visit.
///
/// # Errors
/// A description of the first step that failed.
pub fn run_eligibility(
    seed: u64,
    visits: usize,
    date: NaiveDate,
) -> Result<EligibilityRun, String> {
    let mut rng = SeededRng::new(seed);
    let mut c = clinic().map_err(err)?;
    let people = patients(&mut rng, visits.max(1)).map_err(err)?;
    for p in &people {
        c.payers[p.primary.payer].enrol(p.primary.subscriber.member_id.expose());
    }
    let traces: Vec<String> = (0..people.len())
        .map(|i| format!("EL{:06}", i + 1))
        .collect();
    let when = at(date, 7);
    let mut submissions = Submissions::new();
    let mut run = EligibilityRun {
        requests: Vec::new(),
        responses: Vec::new(),
        requests_written: 0,
        requests_read_back: 0,
        answered: 0,
        estimates: Vec::new(),
        read: Vec::new(),
    };
    let types: [&str; 2] = ["30", "98"];
    let mut control_in = 500;
    for k in 0..c.payers.len() {
        let mine: Vec<usize> = (0..people.len())
            .filter(|&i| people[i].primary.payer == k)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let requests: Vec<EligibilityRequest<'_>> = mine
            .iter()
            .map(|&i| EligibilityRequest {
                payer: c.payers[k].payer(),
                subscriber: &people[i].primary.subscriber,
                service_types: &types,
                date,
                trace: &traces[i],
            })
            .collect();
        let mut bytes = Vec::new();
        let batch = Batch270 {
            parties: &c.parties,
            provider: &c.billing,
            requests: &requests,
        };
        write_270(&batch, &mut submissions, when, &mut bytes).map_err(err)?;
        run.requests_written += requests.len();
        let back = read_270(&bytes);
        for (req, got) in requests.iter().zip(&back.requests) {
            let same = got.trace == req.trace
                && got.member_id.expose() == req.subscriber.member_id.expose()
                && got.date == Some(date)
                && got.service_types == types;
            if same && back.diagnostics.is_empty() {
                run.requests_read_back += 1;
            }
        }
        control_in += 1;
        let answer = c.payers[k].answer_270(&back, control_in, when);
        let parsed = parse_271(&answer);
        let id = c.payers[k].payer().payer_id.clone();
        for e in &parsed.subscribers {
            let Some((benefits, accumulators)) = e.benefits("98", Currency::USD) else {
                continue;
            };
            run.answered += 1;
            let (code, price, description) = FEES[0];
            let charge = Money::new(price, Currency::USD);
            let allowed = charge.mul_bps(c.payers[k].plan.allowed).map_err(err)?;
            let services = [ExpectedService {
                description: description.to_string(),
                code: code.to_string(),
                charge,
                allowed,
            }];
            run.estimates.push(
                estimate(&services, Some((&benefits, accumulators)), Currency::USD).map_err(err)?,
            );
        }
        run.requests.push((format!("{id}.270"), bytes));
        run.responses.push((format!("{id}.271"), answer));
        run.read.push(parsed);
    }
    Ok(run)
}
