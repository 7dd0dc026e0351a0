//! 270 eligibility inquiries and 271 responses (005010X279A1), so the clinic can tell the
//! patient what a visit will cost before it happens.
//!
//! [`write_270`] asks each payer about one subscriber per request (loop 2000C, the patient as
//! subscriber: the guide's advice when the member has their own id) for the service types of
//! the planned visit on its date. [`parse_271`] reads the answer into [`Eligibility`]: whether
//! coverage is active, the copay, coinsurance, deductible and out-of-pocket limit with what
//! remains of each, and the payer's request-validation rejections (AAA) in plain words.
//! [`Eligibility::benefits`] turns it into the [`Benefits`] and [`Accumulators`] that
//! [`coverage::estimate`](crate::coverage::estimate) takes.
//!
//! From EB segments the reader prefers, for each amount, in-network (EB12 `Y`, or `W` both)
//! over out-of-network, individual (EB02 `IND`) over family, and the visit's service type
//! over plan-level (`30`). Amounts are exact ([`Money`]); EB08 percentages become
//! [`BasisPoints`], read exactly from the decimal.

use super::diagnostic::{Diagnostic, Problem, Severity};
use super::envelope::{
    EnvelopeParties, InterchangeRecord, Submissions, TransactionKind, TransactionRecord,
    WriteError, close_interchange, open_interchange, st_control,
};
use super::party::{BillingProvider, Payer, Subscriber};
use super::segment::{Seg, Tokens, date8, decode, tokenize};
use super::writer::SegmentWriter;
use crate::coverage::{Accumulators, Benefits};
use crate::money::{BasisPoints, Currency, Money};
use bedside_core::{Sensitive, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Most requests in one 270 interchange.
pub const MAX_REQUESTS: usize = 99;

/// One eligibility question: who, with which payer, for what and when.
#[derive(Debug, Clone, Copy)]
pub struct EligibilityRequest<'a> {
    /// The payer asked.
    pub payer: &'a Payer,
    /// The subscriber (the patient).
    pub subscriber: &'a Subscriber,
    /// Service type codes of the planned visit (EQ01), e.g. `30` plan coverage, `98`
    /// professional office visit; one to 99.
    pub service_types: &'a [&'a str],
    /// The planned visit's date (DTP*291).
    pub date: NaiveDate,
    /// A trace number the clinic chooses (TRN02, 1–50 letters or digits), echoed in the 271.
    pub trace: &'a str,
}

/// One 270 interchange's worth of eligibility requests.
#[derive(Debug, Clone, Copy)]
pub struct Batch270<'a> {
    /// ISA/GS sender and receiver.
    pub parties: &'a EnvelopeParties,
    /// The provider asking (loop 2100B).
    pub provider: &'a BillingProvider,
    /// The requests, one transaction set each, in the order they are written.
    pub requests: &'a [EligibilityRequest<'a>],
}

/// Writes a 270 interchange: one transaction set per request of `batch`, under its provider.
///
/// # Errors
/// [`WriteError::Empty`]; [`WriteError::InvalidField`] for a trace or service type code X12
/// cannot carry; [`WriteError::ControlNumbersExhausted`].
// Over 100 lines, not split: segments are written in the order the 005010X279A1 guide lists them; one body keeps that order visible.
pub fn write_270(
    batch: &Batch270<'_>,
    submissions: &mut Submissions,
    at: Timestamp,
    out: &mut Vec<u8>,
) -> Result<InterchangeRecord, WriteError> {
    let Batch270 {
        parties,
        provider,
        requests,
    } = *batch;
    if requests.is_empty() || requests.len() > MAX_REQUESTS {
        return Err(WriteError::Empty);
    }
    for r in requests {
        let alnum = |v: &str, max| {
            !v.is_empty() && v.len() <= max && v.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !alnum(r.trace, 50) {
            return Err(WriteError::InvalidField { field: "trace" });
        }
        if r.service_types.is_empty()
            || r.service_types.len() > 99
            || !r.service_types.iter().all(|s| alnum(s, 2))
        {
            return Err(WriteError::InvalidField {
                field: "service_types",
            });
        }
    }
    let control = submissions.peek()?;
    let kind = TransactionKind::Eligibility270;
    let mut w = SegmentWriter::new(out);
    open_interchange(&mut w, parties, control, at, kind);
    let mut transactions = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let st = st_control(i + 1);
        let start = w.segments;
        w.seg("ST")
            .code(kind.set_id())
            .code(&st)
            .code(kind.version())
            .end();
        w.seg("BHT")
            .code("0022")
            .code("13")
            .code(r.trace)
            .date(at.date_naive())
            .time(at.time())
            .end();
        w.seg("HL").code("1").none().code("20").code("1").end();
        w.seg("NM1")
            .code("PR")
            .code("2")
            .text(&r.payer.name, 60)
            .skip(4);
        w.code("PI").code(&r.payer.payer_id).end();
        w.seg("HL").code("2").code("1").code("21").code("1").end();
        w.seg("NM1")
            .code("1P")
            .code("2")
            .text(&provider.name, 60)
            .skip(4);
        w.code("XX").code(provider.npi.as_str()).end();
        w.seg("HL").code("3").code("2").code("22").code("0").end();
        let mut originator = String::with_capacity(10);
        originator.push('9');
        originator.push_str(provider.tax_id.as_str());
        w.seg("TRN").code("1").code(r.trace).code(&originator).end();
        let p = r.subscriber.patient();
        w.seg("NM1")
            .code("IL")
            .code("1")
            .text(p.last.expose(), 60)
            .text(p.first.expose(), 35)
            .skip(3)
            .code("MI")
            .text(r.subscriber.member_id.expose(), 80)
            .end();
        w.seg("DMG")
            .code("D8")
            .date(*p.birth_date.expose())
            .code(p.sex.code())
            .end();
        w.seg("DTP").code("291").code("D8").date(r.date).end();
        for s in r.service_types {
            w.seg("EQ").code(s).end();
        }
        let count = w.segments - start + 1;
        w.seg("SE").int(count as u64).code(&st).end();
        transactions.push(TransactionRecord {
            control: st,
            kind,
            claims: Vec::new(),
            segments: count,
        });
    }
    close_interchange(&mut w, control, transactions.len());
    let record = InterchangeRecord {
        control,
        at,
        receiver: parties.receiver_id().to_string(),
        transactions,
    };
    submissions.record(record.clone());
    Ok(record)
}

/// Whether a benefit applies in network (EB12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// `Y`.
    In,
    /// `N`.
    Out,
    /// `W` (both) or not stated.
    Either,
}

/// One EB benefit line, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitLine {
    /// EB01 eligibility or benefit information code (`1` active, `6` inactive, `A`
    /// coinsurance, `B` copay, `C` deductible, `G` out-of-pocket, …).
    pub code: String,
    /// EB02 coverage level (`IND`, `FAM`, …).
    pub level: String,
    /// EB03 service type codes (repeated with the repetition separator).
    pub service_types: Vec<String>,
    /// EB06 time period qualifier (`23` calendar year, `27` visit, `29` remaining, …).
    pub period: String,
    /// EB07 amount.
    pub amount: Option<Money>,
    /// EB08 percent, as basis points.
    pub percent: Option<BasisPoints>,
    /// EB12.
    pub network: Network,
    /// Segment ordinal.
    pub segment: usize,
}

/// A request the payer refused to answer (AAA), in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRejection {
    /// AAA03 reject reason code.
    pub code: String,
    /// The reason in plain words.
    pub reason: String,
    /// AAA04 follow-up action code (`C` correct and resubmit, `N` do not resubmit, …).
    pub follow_up: String,
    /// Segment ordinal.
    pub segment: usize,
}

/// What a 271 says about one subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// TRN02 of the subscriber loop: the trace the 270 sent.
    pub trace: String,
    /// Member id as the payer returned it.
    pub member_id: Sensitive<String>,
    /// `Some(true)` for EB01 `1`, `Some(false)` for `6`, `7` or `8`; `None` when not stated.
    pub active: Option<bool>,
    /// Every EB line.
    pub lines: Vec<BenefitLine>,
    /// AAA rejections.
    pub rejections: Vec<RequestRejection>,
}

/// A read 271.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response271 {
    /// One entry per subscriber loop.
    pub subscribers: Vec<Eligibility>,
    /// Rejections above subscriber level (payer or provider loop).
    pub rejections: Vec<RequestRejection>,
    /// Everything worth reporting.
    pub diagnostics: Vec<Diagnostic>,
}

/// AAA03 reject reason codes in plain words.
pub fn reject_reason_words(code: &str) -> &'static str {
    match code {
        "04" => "authorised quantity exceeded",
        "15" => "required application data missing",
        "33" => "input errors",
        "41" => "authorisation or access restrictions",
        "42" => "the payer's system is unable to respond now",
        "43" => "invalid or missing provider identification",
        "45" => "invalid or missing provider specialty",
        "47" => "invalid or missing provider state",
        "48" => "invalid or missing referring provider identification number",
        "51" => "provider not on file",
        "52" => "service dates not within provider plan enrollment",
        "56" => "inappropriate date",
        "57" => "invalid or missing dates of service",
        "58" => "invalid or missing date of birth",
        "60" => "date of birth follows dates of service",
        "61" => "date of death precedes dates of service",
        "62" => "date of service not within allowable inquiry period",
        "63" => "date of service in future",
        "71" => "patient birth date does not match that for the patient on the database",
        "72" => "invalid or missing subscriber or insured id",
        "73" => "invalid or missing subscriber or insured name",
        "74" => "invalid or missing subscriber or insured gender code",
        "75" => "subscriber or insured not found",
        "76" => "duplicate subscriber or insured id number",
        "78" => "subscriber or insured not in group or plan identified",
        "79" => "invalid participant identification",
        _ => "rejected for a reason not in Bedside's list (see the X12 271 code list)",
    }
}

/// Reads an EB08 percent into basis points, exactly. X12 writes it as a fraction (`.2` is
/// 20 %), so anything above `1` is refused rather than guessed.
fn percent(raw: &str) -> Option<BasisPoints> {
    let m = Money::parse_decimal(raw, Currency::new("XPT", 4).ok()?).ok()?;
    let bps = m.amount_minor();
    (0..=10_000)
        .contains(&bps)
        .then(|| BasisPoints::new(bps as u32))
}

/// Reads a 271. Never panics.
pub fn parse_271(input: &[u8]) -> Response271 {
    let mut out = Response271 {
        subscribers: Vec::new(),
        rejections: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { sep, segs }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    let (mut in_271, mut in_subscriber) = (false, false);
    for s in &segs {
        match s.id {
            "ST" => {
                in_271 = s.e(1) == "271";
                if !in_271 {
                    out.diagnostics.push(s.diag(
                        Severity::Error,
                        Problem::WrongTransactionSet {
                            expected: "271".into(),
                            found: s.e(1).chars().take(6).collect(),
                        },
                    ));
                }
            }
            "SE" => (in_271, in_subscriber) = (false, false),
            _ if !in_271 => {}
            "HL" => {
                in_subscriber = matches!(s.e(3), "22" | "23");
                if in_subscriber {
                    out.subscribers.push(Eligibility {
                        trace: String::new(),
                        member_id: Sensitive::new(String::new()),
                        active: None,
                        lines: Vec::new(),
                        rejections: Vec::new(),
                    });
                }
            }
            "TRN" if in_subscriber => {
                if let Some(e) = out.subscribers.last_mut().filter(|e| e.trace.is_empty()) {
                    e.trace = s.e(2).chars().take(50).collect();
                }
            }
            "NM1" if in_subscriber && matches!(s.e(1), "IL" | "03") => {
                if let Some(e) = out.subscribers.last_mut() {
                    e.member_id = Sensitive::new(s.e(9).to_string());
                }
            }
            "AAA" => {
                let r = RequestRejection {
                    code: s.e(3).chars().take(2).collect(),
                    reason: reject_reason_words(s.e(3)).to_string(),
                    follow_up: s.e(4).chars().take(1).collect(),
                    segment: s.ordinal,
                };
                match out.subscribers.last_mut().filter(|_| in_subscriber) {
                    Some(e) => e.rejections.push(r),
                    None => out.rejections.push(r),
                }
            }
            "EB" if in_subscriber => {
                if let Some(line) = benefit_line(s, sep.repetition, &mut out.diagnostics)
                    && let Some(e) = out.subscribers.last_mut()
                {
                    match line.code.as_str() {
                        "1" => e.active = Some(true),
                        "6" | "7" | "8" if e.active.is_none() => e.active = Some(false),
                        _ => {}
                    }
                    e.lines.push(line);
                }
            }
            "DTP"
                if in_subscriber
                    && !s.e(3).is_empty()
                    && s.e(2) == "D8"
                    && date8(s.e(3)).is_none() =>
            {
                let element = "DTP03".to_string();
                out.diagnostics
                    .push(s.diag(Severity::Warning, Problem::BadDate { element }));
            }
            _ => {}
        }
    }
    out
}

fn benefit_line(
    s: &Seg<'_>,
    repetition: Option<char>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<BenefitLine> {
    if s.e(1).is_empty() {
        let element = "EB01".to_string();
        diagnostics.push(s.diag(Severity::Error, Problem::MissingElement { element }));
        return None;
    }
    let amount = match s.e(7) {
        "" => None,
        raw => match Money::parse_decimal(raw, Currency::USD) {
            Ok(m) => Some(m),
            Err(_) => {
                let element = "EB07".to_string();
                diagnostics.push(s.diag(Severity::Error, Problem::BadAmount { element }));
                return None;
            }
        },
    };
    let pct = match s.e(8) {
        "" => None,
        raw => match percent(raw) {
            Some(p) => Some(p),
            None => {
                let element = "EB08".to_string();
                diagnostics.push(s.diag(Severity::Error, Problem::BadAmount { element }));
                return None;
            }
        },
    };
    let types = s.e(3);
    let service_types = match repetition {
        Some(r) => types.split(r).map(|t| t.trim().to_string()).collect(),
        None => vec![types.to_string()],
    };
    Some(BenefitLine {
        code: s.e(1).chars().take(2).collect(),
        level: s.e(2).chars().take(3).collect(),
        service_types: service_types
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect(),
        period: s.e(6).chars().take(2).collect(),
        amount,
        percent: pct,
        network: match s.e(12) {
            "Y" => Network::In,
            "N" => Network::Out,
            _ => Network::Either,
        },
        segment: s.ordinal,
    })
}

impl Eligibility {
    /// The best line for `code` (and `period`, when given) for `service_type`: in network
    /// before out, individual before family, the service type before plan level.
    fn best(&self, code: &str, periods: &[&str], service_type: &str) -> Option<&BenefitLine> {
        self.lines
            .iter()
            .filter(|l| l.code == code && l.network != Network::Out)
            .filter(|l| periods.is_empty() || periods.contains(&l.period.as_str()))
            .min_by_key(|l| {
                let service = if l.service_types.iter().any(|t| t == service_type) {
                    0
                } else if l.service_types.is_empty() || l.service_types.iter().any(|t| t == "30") {
                    1
                } else {
                    2
                };
                let level = if l.level == "IND" || l.level.is_empty() {
                    0
                } else {
                    1
                };
                let network = if l.network == Network::In { 0 } else { 1 };
                (service, level, network, l.segment)
            })
            .filter(|l| {
                l.service_types.is_empty()
                    || l.service_types
                        .iter()
                        .any(|t| t == service_type || t == "30")
            })
    }

    /// The plan terms and what the patient has met so far, for a visit of `service_type`
    /// (`98` office visit, …), in `currency`. `None` when coverage is not active. Terms the
    /// payer did not state count as zero (no copay, no deductible); an out-of-pocket limit
    /// not stated is taken as no limit ([`Money`]'s largest amount).
    pub fn benefits(
        &self,
        service_type: &str,
        currency: Currency,
    ) -> Option<(Benefits, Accumulators)> {
        if self.active != Some(true) {
            return None;
        }
        let zero = Money::zero(currency);
        let amount = |code: &str, periods: &[&str]| {
            self.best(code, periods, service_type)
                .and_then(|l| l.amount)
                .map(|m| Money::new(m.amount_minor(), currency))
        };
        let copay = amount("B", &[]).unwrap_or(zero);
        let coinsurance = self
            .best("A", &[], service_type)
            .and_then(|l| l.percent)
            .unwrap_or(BasisPoints::ZERO);
        let deductible = amount("C", &["23", "24", "25", "32", ""]).unwrap_or(zero);
        let deductible_left = amount("C", &["29"]).unwrap_or(deductible);
        let oop = amount("G", &["23", "24", "25", "32", ""]);
        let oop_left = amount("G", &["29"]);
        let out_of_pocket_max = oop.unwrap_or(Money::new(i64::MAX / 4, currency));
        let met = |total: Money, left: Money| {
            total.checked_sub(left).unwrap_or(zero).clamp_non_negative()
        };
        Some((
            Benefits {
                deductible,
                copay,
                coinsurance,
                out_of_pocket_max,
            },
            Accumulators {
                deductible_met: met(deductible, deductible_left),
                out_of_pocket_met: met(out_of_pocket_max, oop_left.unwrap_or(out_of_pocket_max)),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_exact() {
        assert_eq!(percent(".2"), Some(BasisPoints::new(2_000)));
        assert_eq!(percent("0.125"), Some(BasisPoints::new(1_250)));
        assert_eq!(percent("1"), Some(BasisPoints::new(10_000)));
        assert_eq!(percent("20"), None);
        assert_eq!(percent("x"), None);
    }
}
