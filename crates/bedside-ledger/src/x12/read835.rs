//! A tolerant, never-panicking reader for X12 835 (005010X221A1) health care claim payment and
//! remittance advice, and the validator for its balancing rules.
//!
//! The reader honours the separators the ISA segment declares (element separator at ISA
//! position 4, component separator ISA16, repetition separator ISA11, segment terminator after
//! ISA16). It is tolerant: unknown segments are skipped, a composite written with a different
//! component separator than declared is read and reported as a warning, and a malformed
//! record is reported with its reason and position and left out. It never stores names or
//! member identifiers (NM1 segments are skipped); claim control numbers are kept as
//! [`Sensitive`] values.
//!
//! [`validate`] checks the balancing rules: `CLP03 − ΣCAS = CLP04` per claim (claim- and
//! service-level adjustments), `SVC02 − ΣCAS = SVC03` per service line, and
//! `ΣCLP04 − ΣPLB = BPR02` per transaction.
//!
//! This file is over 800 lines and not split further: the reader is one loop-structure state
//! machine, and about 270 lines are its tests with their inline 835s.

use super::diagnostic::{Diagnostic, Problem, Severity};
use super::segment::{DateReading, Seg, Separators, Tokens, date8, decode, repair_date, tokenize};
use crate::money::{Currency, Money};
use bedside_core::Sensitive;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Claim adjustment group codes (CAS01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupCode {
    /// Contractual obligation: written off by the provider.
    CO,
    /// Patient responsibility.
    PR,
    /// Other adjustment.
    OA,
    /// Payer-initiated reduction.
    PI,
    /// Correction and reversal (older versions).
    CR,
}

impl GroupCode {
    /// Parses the two-letter code.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "CO" => GroupCode::CO,
            "PR" => GroupCode::PR,
            "OA" => GroupCode::OA,
            "PI" => GroupCode::PI,
            "CR" => GroupCode::CR,
            _ => return None,
        })
    }
    /// The two-letter code.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupCode::CO => "CO",
            GroupCode::PR => "PR",
            GroupCode::OA => "OA",
            GroupCode::PI => "PI",
            GroupCode::CR => "CR",
        }
    }
}

impl fmt::Display for GroupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One CAS adjustment triplet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Group code.
    pub group: GroupCode,
    /// Claim adjustment reason code (CARC), e.g. `1` deductible, `2` coinsurance, `3` copay.
    pub reason: String,
    /// Amount (may be negative).
    pub amount: Money,
    /// Quantity, as written.
    pub quantity: Option<String>,
    /// Segment ordinal of the CAS.
    pub segment: usize,
}

/// A procedure composite (SVC01/SVC06).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Qualifier (`HC` for CPT/HCPCS, `NU` revenue code, …).
    pub qualifier: String,
    /// Code.
    pub code: String,
    /// Modifiers.
    pub modifiers: Vec<String>,
}

/// One SVC service line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePayment {
    /// Procedure.
    pub procedure: Procedure,
    /// SVC02 line charge.
    pub charge: Money,
    /// SVC03 line payment.
    pub paid: Money,
    /// SVC04 revenue code.
    pub revenue_code: Option<String>,
    /// SVC05 units, as written.
    pub units: Option<String>,
    /// Service date (DTM 472, or 150 start).
    pub service_date: Option<NaiveDate>,
    /// Line adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Amounts (AMT qualifier and value).
    pub amounts: Vec<(String, Money)>,
    /// Segment ordinal of the SVC.
    pub segment: usize,
}

/// One CLP claim payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPayment {
    /// CLP01, the provider's patient control number (claim submitter's identifier).
    pub control_number: Sensitive<String>,
    /// CLP02 claim status code (1 primary, 2 secondary, 3 tertiary, 4 denied, 22 reversal, …).
    pub status: u16,
    /// CLP03 total charge.
    pub charge: Money,
    /// CLP04 payment.
    pub paid: Money,
    /// CLP05 patient responsibility.
    pub patient_responsibility: Option<Money>,
    /// CLP06 claim filing indicator.
    pub filing_indicator: Option<String>,
    /// CLP07 payer claim control number.
    pub payer_control_number: Sensitive<String>,
    /// Claim-level adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Service lines.
    pub services: Vec<ServicePayment>,
    /// Statement period start (DTM 232).
    pub period_start: Option<NaiveDate>,
    /// Statement period end (DTM 233).
    pub period_end: Option<NaiveDate>,
    /// Claim amounts (AMT).
    pub amounts: Vec<(String, Money)>,
    /// Segment ordinal of the CLP.
    pub segment: usize,
}

impl ClaimPayment {
    /// Whether this is a reversal of an earlier payment (CLP02 = 22).
    pub fn is_reversal(&self) -> bool {
        self.status == 22
    }

    /// Whether the payer denied the claim (CLP02 = 4).
    pub fn is_denied(&self) -> bool {
        self.status == 4
    }

    /// All adjustments, claim level then service level.
    pub fn all_adjustments(&self) -> impl Iterator<Item = &Adjustment> {
        self.adjustments
            .iter()
            .chain(self.services.iter().flat_map(|s| s.adjustments.iter()))
    }
}

/// One PLB provider-level adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAdjustment {
    /// Reason code (PLB03-1), e.g. `WO` overpayment recovery, `L6` interest.
    pub reason: String,
    /// Reference (PLB03-2).
    pub reference: Option<Sensitive<String>>,
    /// Amount: positive reduces the payment, negative increases it.
    pub amount: Money,
    /// Segment ordinal.
    pub segment: usize,
}

/// One 835 transaction set (ST…SE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// ST02.
    pub control_number: String,
    /// BPR01 transaction handling code.
    pub handling: String,
    /// BPR02 total actual provider payment.
    pub payment: Money,
    /// BPR03 credit (`C`) or debit (`D`).
    pub credit_debit: String,
    /// BPR04 payment method (`ACH`, `CHK`, `NON`, …).
    pub method: String,
    /// BPR16 payment date.
    pub payment_date: Option<NaiveDate>,
    /// TRN02 check or EFT trace number.
    pub trace_number: String,
    /// TRN03 payer identifier.
    pub payer_id: String,
    /// N1*PR payer name (an organisation, not PHI).
    pub payer_name: String,
    /// N1*PE payee identifier (N104).
    pub payee_id: String,
    /// Claims.
    pub claims: Vec<ClaimPayment>,
    /// PLB adjustments.
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// Segment ordinal of the ST.
    pub segment: usize,
}

impl Transaction {
    /// The payer key used for idempotency: TRN03, else the payer name.
    pub fn payer_key(&self) -> &str {
        if self.payer_id.is_empty() {
            &self.payer_name
        } else {
            &self.payer_id
        }
    }
}

/// A parsed interchange: its transactions and every diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remittance {
    /// The declared separators (absent when the ISA could not be read).
    pub separators: Option<Separators>,
    /// ISA13 interchange control number.
    pub interchange_control: String,
    /// Transactions.
    pub transactions: Vec<Transaction>,
    /// Everything worth reporting.
    pub diagnostics: Vec<Diagnostic>,
}

impl Remittance {
    /// Whether any diagnostic is an error (some record was left out).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Parses an 835 interchange. Never panics; problems become [`Diagnostic`]s.
pub fn parse(input: &[u8]) -> Remittance {
    let mut out = Remittance {
        separators: None,
        interchange_control: String::new(),
        transactions: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { sep, segs }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    out.separators = Some(sep);
    Parser {
        sep,
        out: &mut out,
        tx: None,
        claim_rejected: false,
        in_service: false,
        st_ordinal: 0,
        payer_loop: None,
        payer_contact: false,
    }
    .run(&segs);
    out
}

struct Parser<'r> {
    sep: Separators,
    out: &'r mut Remittance,
    tx: Option<Transaction>,
    claim_rejected: bool,
    in_service: bool,
    st_ordinal: usize,
    /// The N1*PR of the current transaction (ordinal, offset) until its loop 1000A closes.
    payer_loop: Option<(usize, usize)>,
    /// Whether loop 1000A had its required PER*BL.
    payer_contact: bool,
}

impl Parser<'_> {
    fn diag(&mut self, s: &Seg<'_>, severity: Severity, problem: Problem) {
        self.out.diagnostics.push(Diagnostic {
            severity,
            segment: s.ordinal,
            offset: s.offset,
            problem,
        });
    }

    fn amount(&mut self, s: &Seg<'_>, n: usize, required: bool) -> Result<Option<Money>, ()> {
        let raw = s.e(n);
        let element = format!("{}{:02}", s.id, n);
        if raw.is_empty() {
            if required {
                self.diag(s, Severity::Error, Problem::MissingElement { element });
                return Err(());
            }
            return Ok(None);
        }
        match Money::parse_decimal(raw, Currency::USD) {
            Ok(m) => Ok(Some(m)),
            Err(_) => {
                self.diag(s, Severity::Error, Problem::BadAmount { element });
                Err(())
            }
        }
    }

    /// A `CCYYMMDD` date. A date in another layout with exactly one reading is read with a
    /// warning; one with two readings (`03/04/2005`) is an error and left out; anything else
    /// is reported and left out (as before: a date is never guessed).
    fn date(&mut self, s: &Seg<'_>, n: usize) -> Option<NaiveDate> {
        let raw = s.e(n);
        if raw.is_empty() {
            return None;
        }
        if let Some(d) = date8(raw) {
            return Some(d);
        }
        let element = format!("{}{:02}", s.id, n);
        match repair_date(raw) {
            DateReading::One(d) => {
                self.diag(s, Severity::Warning, Problem::DateRepaired { element });
                Some(d)
            }
            DateReading::Two => {
                self.diag(s, Severity::Error, Problem::AmbiguousDate { element });
                None
            }
            DateReading::None => {
                self.diag(s, Severity::Warning, Problem::BadDate { element });
                None
            }
        }
    }

    /// Closes loop 1000A: warns when it had no PER*BL (the guide requires the payer's
    /// technical contact; nothing Bedside posts depends on it).
    fn close_payer_loop(&mut self) {
        if let Some((segment, offset)) = self.payer_loop.take()
            && !self.payer_contact
        {
            self.out.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                segment,
                offset,
                problem: Problem::MissingSegment {
                    segment: "PER*BL".into(),
                    loop_id: "1000A".into(),
                },
            });
        }
        self.payer_contact = false;
    }

    fn composite(&mut self, s: &Seg<'_>, raw: &str) -> Procedure {
        let declared = self.sep.component;
        let mut sep = declared;
        if !raw.contains(declared) {
            // Tolerate a composite written with another separator: a two-letter qualifier
            // followed by punctuation (for example `HC>55669` when ISA16 declares `:`).
            let mut it = raw.chars();
            let (a, b, c) = (it.next(), it.next(), it.next());
            if let (Some(a), Some(b), Some(c)) = (a, b, c)
                && a.is_ascii_alphabetic()
                && b.is_ascii_alphanumeric()
                && c.is_ascii_punctuation()
                && c != self.sep.element
            {
                sep = c;
                self.diag(
                    s,
                    Severity::Warning,
                    Problem::ComponentSeparatorMismatch { found: c, declared },
                );
            }
        }
        let mut parts = raw.split(sep).map(|p| p.trim().to_string());
        let qualifier = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        let modifiers = parts.filter(|m| !m.is_empty()).take(4).collect();
        Procedure {
            qualifier,
            code,
            modifiers,
        }
    }

    fn current_claim(&mut self) -> Option<&mut ClaimPayment> {
        self.tx.as_mut().and_then(|t| t.claims.last_mut())
    }

    fn run(mut self, segs: &[Seg<'_>]) {
        for s in segs {
            match s.id {
                "ISA" => self.out.interchange_control = s.e(13).to_string(),
                "ST" => self.start(s),
                "SE" => self.end(s),
                _ if self.tx.is_none() => {}
                "BPR" => self.bpr(s),
                "TRN" => {
                    if let Some(t) = self.tx.as_mut() {
                        t.trace_number = s.e(2).to_string();
                        t.payer_id = s.e(3).to_string();
                    }
                }
                "PER" if self.payer_loop.is_some() && s.e(1) == "BL" => self.payer_contact = true,
                "N1" => {
                    if s.e(1) == "PR" {
                        self.close_payer_loop();
                        self.payer_loop = Some((s.ordinal, s.offset));
                    } else {
                        self.close_payer_loop();
                    }
                    let (q, name, id) = (s.e(1), s.e(2).to_string(), s.e(4).to_string());
                    if let Some(t) = self.tx.as_mut() {
                        match q {
                            "PR" => t.payer_name = name,
                            "PE" => t.payee_id = id,
                            _ => {}
                        }
                    }
                }
                "LX" => self.close_payer_loop(),
                "CLP" => {
                    self.close_payer_loop();
                    self.clp(s)
                }
                "CAS" => self.cas(s),
                "SVC" => self.svc(s),
                "DTM" => self.dtm(s),
                "AMT" => self.amt(s),
                "PLB" => self.plb(s),
                _ => {}
            }
        }
        if self.tx.is_some() {
            let ordinal = segs.last().map_or(0, |s| s.ordinal);
            self.out.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                segment: ordinal,
                offset: segs.last().map_or(0, |s| s.offset),
                problem: Problem::UnclosedTransaction,
            });
            self.tx = None;
        }
    }

    fn start(&mut self, s: &Seg<'_>) {
        if s.e(1) != "835" {
            self.diag(
                s,
                Severity::Error,
                Problem::NotAn835 {
                    code: s.e(1).chars().take(6).collect(),
                },
            );
            return;
        }
        self.st_ordinal = s.ordinal;
        self.claim_rejected = false;
        self.in_service = false;
        self.tx = Some(Transaction {
            control_number: s.e(2).to_string(),
            handling: String::new(),
            payment: Money::zero(Currency::USD),
            credit_debit: String::new(),
            method: String::new(),
            payment_date: None,
            trace_number: String::new(),
            payer_id: String::new(),
            payer_name: String::new(),
            payee_id: String::new(),
            claims: Vec::new(),
            provider_adjustments: Vec::new(),
            segment: s.ordinal,
        });
    }

    fn end(&mut self, s: &Seg<'_>) {
        self.close_payer_loop();
        let Some(t) = self.tx.take() else { return };
        let counted = s.ordinal + 1 - self.st_ordinal;
        if let Ok(declared) = s.e(1).parse::<usize>()
            && declared != counted
        {
            self.diag(
                s,
                Severity::Warning,
                Problem::SegmentCountMismatch { declared, counted },
            );
        }
        self.out.transactions.push(t);
    }

    fn bpr(&mut self, s: &Seg<'_>) {
        let Ok(amount) = self.amount(s, 2, true) else {
            return;
        };
        let date = self.date(s, 16);
        if let Some(t) = self.tx.as_mut() {
            t.handling = s.e(1).to_string();
            t.payment = amount.unwrap_or(Money::zero(Currency::USD));
            t.credit_debit = s.e(3).to_string();
            t.method = s.e(4).to_string();
            t.payment_date = date;
        }
    }

    fn clp(&mut self, s: &Seg<'_>) {
        self.in_service = false;
        self.claim_rejected = true;
        if s.e(1).is_empty() {
            let element = "CLP01".to_string();
            return self.diag(s, Severity::Error, Problem::MissingElement { element });
        }
        let Ok(status) = s.e(2).parse::<u16>() else {
            let element = "CLP02".to_string();
            return self.diag(s, Severity::Error, Problem::MissingElement { element });
        };
        let (Ok(Some(charge)), Ok(Some(paid)), Ok(resp)) = (
            self.amount(s, 3, true),
            self.amount(s, 4, true),
            self.amount(s, 5, false),
        ) else {
            return;
        };
        self.claim_rejected = false;
        let claim = ClaimPayment {
            control_number: Sensitive::new(s.e(1).to_string()),
            status,
            charge,
            paid,
            patient_responsibility: resp,
            filing_indicator: Some(s.e(6).to_string()).filter(|x| !x.is_empty()),
            payer_control_number: Sensitive::new(s.e(7).to_string()),
            adjustments: Vec::new(),
            services: Vec::new(),
            period_start: None,
            period_end: None,
            amounts: Vec::new(),
            segment: s.ordinal,
        };
        if let Some(t) = self.tx.as_mut() {
            t.claims.push(claim);
        }
    }

    fn in_claim(&mut self, s: &Seg<'_>) -> bool {
        if self.claim_rejected {
            self.diag(s, Severity::Error, Problem::SkippedWithClaim);
            return false;
        }
        if self.current_claim().is_none() {
            let segment = s.id.chars().take(3).collect();
            self.diag(s, Severity::Error, Problem::OutOfPlace { segment });
            return false;
        }
        true
    }

    fn cas(&mut self, s: &Seg<'_>) {
        if !self.in_claim(s) {
            return;
        }
        let Some(group) = GroupCode::parse(s.e(1)) else {
            let code = s.e(1).chars().take(2).collect();
            return self.diag(s, Severity::Error, Problem::UnknownGroupCode { code });
        };
        let mut adjustments = Vec::new();
        for k in 0..6 {
            let (r, a, q) = (2 + 3 * k, 3 + 3 * k, 4 + 3 * k);
            if s.e(r).is_empty() && s.e(a).is_empty() {
                continue;
            }
            if s.e(r).is_empty() {
                let element = format!("CAS{r:02}");
                self.diag(s, Severity::Error, Problem::MissingElement { element });
                continue;
            }
            let Ok(Some(amount)) = self.amount(s, a, true) else {
                continue;
            };
            adjustments.push(Adjustment {
                group,
                reason: s.e(r).chars().take(5).collect(),
                amount,
                quantity: Some(s.e(q).to_string()).filter(|x| !x.is_empty()),
                segment: s.ordinal,
            });
        }
        let in_service = self.in_service;
        if let Some(c) = self.current_claim() {
            match c.services.last_mut() {
                Some(svc) if in_service => svc.adjustments.extend(adjustments),
                _ => c.adjustments.extend(adjustments),
            }
        }
    }

    fn svc(&mut self, s: &Seg<'_>) {
        if !self.in_claim(s) {
            return;
        }
        let Some(split) = self.split_composite(s) else {
            self.in_service = false;
            return;
        };
        let composite;
        let joined;
        let s = match split {
            0 => s,
            k => {
                // Rebuild the segment as it should have been written: SVC01's components
                // joined, the later elements moved back into their places.
                composite = s.el[1..=k].join(&self.sep.component.to_string());
                joined = Seg {
                    id: s.id,
                    el: std::iter::once(s.el[0])
                        .chain(std::iter::once(composite.as_str()))
                        .chain(s.el[k + 1..].iter().copied())
                        .collect(),
                    ordinal: s.ordinal,
                    offset: s.offset,
                };
                &joined
            }
        };
        let (Ok(Some(charge)), Ok(Some(paid))) = (self.amount(s, 2, true), self.amount(s, 3, true))
        else {
            // The line is left out; later CAS for it would be misattributed, so mark the
            // service context closed and let the validator report the claim imbalance.
            self.in_service = false;
            return;
        };
        let procedure = self.composite(s, s.e(1));
        let line = ServicePayment {
            procedure,
            charge,
            paid,
            revenue_code: Some(s.e(4).to_string()).filter(|x| !x.is_empty()),
            units: Some(s.e(5).to_string()).filter(|x| !x.is_empty()),
            service_date: None,
            adjustments: Vec::new(),
            amounts: Vec::new(),
            segment: s.ordinal,
        };
        self.in_service = true;
        if let Some(c) = self.current_claim() {
            c.services.push(line);
        }
    }

    /// How many elements SVC01's components were spread over when it was written with the
    /// element separator (`SVC*HC*99213*100*80`): 0 when SVC01 is a proper composite, `Some(k)`
    /// when exactly one reading fits, `None` (reported) when several do.
    fn split_composite(&mut self, s: &Seg<'_>) -> Option<usize> {
        const QUALIFIERS: [&str; 9] = ["HC", "AD", "ER", "HP", "IV", "N4", "NU", "WK", "ZZ"];
        let first = s.e(1);
        if !QUALIFIERS.contains(&first) || s.e(2).is_empty() {
            return Some(0);
        }
        let amount = |n: usize| Money::parse_decimal(s.e(n), Currency::USD).is_ok();
        let n = s.el.len() - 1;
        // k = elements taken by SVC01: qualifier, code and 0–4 modifiers.
        let readings: Vec<usize> = (2..=6)
            .filter(|&k| {
                let modifiers_ok = (3..=k).all(|m| {
                    let v = s.e(m);
                    v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphanumeric())
                });
                let units_ok = s.e(k + 4).is_empty() || amount(k + 4);
                modifiers_ok && amount(k + 1) && amount(k + 2) && units_ok && n <= k + 6
            })
            .collect();
        let element = "SVC01".to_string();
        match readings.as_slice() {
            [k] => {
                self.diag(s, Severity::Warning, Problem::CompositeSplit { element });
                Some(*k)
            }
            [] => Some(0),
            more => {
                let readings = more.len();
                self.diag(
                    s,
                    Severity::Error,
                    Problem::AmbiguousComposite { element, readings },
                );
                None
            }
        }
    }

    fn dtm(&mut self, s: &Seg<'_>) {
        if self.claim_rejected || self.current_claim().is_none() {
            return;
        }
        let date = self.date(s, 2);
        let q = s.e(1);
        let in_service = self.in_service;
        if let Some(c) = self.current_claim() {
            match (q, in_service) {
                ("472" | "150", true) => {
                    if let Some(svc) = c.services.last_mut() {
                        svc.service_date = date;
                    }
                }
                ("232", _) => c.period_start = date,
                ("233", _) => c.period_end = date,
                _ => {}
            }
        }
    }

    fn amt(&mut self, s: &Seg<'_>) {
        if self.claim_rejected || self.current_claim().is_none() {
            return;
        }
        let Ok(Some(amount)) = self.amount(s, 2, true) else {
            return;
        };
        let q = s.e(1).chars().take(3).collect::<String>();
        let in_service = self.in_service;
        if let Some(c) = self.current_claim() {
            match c.services.last_mut() {
                Some(svc) if in_service => svc.amounts.push((q, amount)),
                _ => c.amounts.push((q, amount)),
            }
        }
    }

    fn plb(&mut self, s: &Seg<'_>) {
        self.in_service = false;
        self.claim_rejected = false;
        let mut found = Vec::new();
        for k in 0..6 {
            let (c, a) = (3 + 2 * k, 4 + 2 * k);
            if s.e(c).is_empty() && s.e(a).is_empty() {
                continue;
            }
            let Ok(Some(amount)) = self.amount(s, a, true) else {
                continue;
            };
            let raw = s.e(c);
            let sep = if raw.contains(self.sep.component) {
                self.sep.component
            } else {
                ':'
            };
            let mut parts = raw.splitn(2, sep);
            let reason: String = parts.next().unwrap_or_default().chars().take(4).collect();
            let reference = parts
                .next()
                .filter(|r| !r.is_empty())
                .map(|r| Sensitive::new(r.to_string()));
            found.push(ProviderAdjustment {
                reason,
                reference,
                amount,
                segment: s.ordinal,
            });
        }
        if let Some(t) = self.tx.as_mut() {
            t.provider_adjustments.extend(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::balance::{BalanceError, validate};
    use super::*;

    fn usd(m: i64) -> Money {
        Money::new(m, Currency::USD)
    }

    const MINI: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000001*0*P*:~\
GS*HP*S*R*20260101*1200*1*X*005010X221A1~ST*835*0001~BPR*I*80.00*C*ACH************20260105~\
TRN*1*TRACE1*1999999999~N1*PR*ACME HEALTH~PER*BL*EDI*TE*8005550100~N1*PE*CLINIC*XX*1234567893~LX*1~\
CLP*CLAIM-1*1*100.00*80.00*20.00*12*PAYERREF1~NM1*QC*1*DOE*JANE****MI*X1~\
SVC*HC:99213:25*100.00*80.00**1~DTM*472*20251220~CAS*PR*3*20.00~SE*13*0001~GE*1*1~IEA*1*000000001~";

    #[test]
    fn reads_declared_separators_and_records() {
        let r = parse(MINI.as_bytes());
        assert_eq!(r.diagnostics, vec![]);
        let sep = r.separators.unwrap_or(Separators {
            element: '?',
            component: '?',
            repetition: None,
            segment: '?',
        });
        assert_eq!(
            (sep.element, sep.component, sep.repetition, sep.segment),
            ('*', ':', Some('^'), '~')
        );
        let tx = &r.transactions[0];
        assert_eq!(tx.payment, usd(8_000));
        assert_eq!(tx.trace_number, "TRACE1");
        let c = &tx.claims[0];
        assert_eq!(c.control_number.expose(), "CLAIM-1");
        assert_eq!(c.services[0].procedure.code, "99213");
        assert_eq!(c.services[0].procedure.modifiers, vec!["25".to_string()]);
        assert_eq!(c.services[0].adjustments[0].group, GroupCode::PR);
        assert_eq!(validate(tx), vec![]);
        // Names never reach the model or its debug output.
        assert!(!format!("{r:?}").contains("JANE"));
        assert!(!format!("{r:?}").contains("CLAIM-1"));
    }

    #[test]
    fn honours_other_separators() {
        let alt = MINI
            .replace('*', "|")
            .replace('~', "\n")
            .replace("HC:99213:25", "HC>99213>25")
            .replace("|:\n", "|>\n");
        let r = parse(alt.as_bytes());
        assert_eq!(r.diagnostics, vec![]);
        assert_eq!(
            r.transactions[0].claims[0].services[0].procedure.code,
            "99213"
        );
    }

    #[test]
    fn tolerates_component_separator_quirk() {
        let quirk = MINI.replace("HC:99213:25", "HC>99213>25");
        let r = parse(quirk.as_bytes());
        assert!(matches!(
            r.diagnostics.as_slice(),
            [Diagnostic {
                severity: Severity::Warning,
                problem: Problem::ComponentSeparatorMismatch {
                    found: '>',
                    declared: ':'
                },
                ..
            }]
        ));
        assert_eq!(
            r.transactions[0].claims[0].services[0].procedure.modifiers,
            vec!["25".to_string()]
        );
    }

    /// One deviation: the MINI remittance with `from` replaced by `to`, and what the reader
    /// must make of it.
    fn tolerance(from: &str, to: &str) -> (Vec<(Severity, Problem, usize)>, Remittance) {
        let r = parse(MINI.replace(from, to).as_bytes());
        let d = r
            .diagnostics
            .iter()
            .map(|d| (d.severity, d.problem.clone(), d.segment))
            .collect();
        (d, r)
    }

    #[test]
    fn tolerated_deviations_are_read_and_reported() {
        let w = Severity::Warning;
        let e = Severity::Error;
        let el = |s: &str| s.to_string();
        // Composite written with the element separator: one reading fits.
        let (d, r) = tolerance(
            "SVC*HC:99213:25*100.00*80.00**1",
            "SVC*HC*99213*LT*100.00*80.00**1",
        );
        assert_eq!(
            d,
            vec![(
                w,
                Problem::CompositeSplit {
                    element: el("SVC01")
                },
                12
            )]
        );
        let svc = &r.transactions[0].claims[0].services[0];
        assert_eq!(
            (svc.procedure.code.as_str(), svc.charge),
            ("99213", usd(10_000))
        );
        assert_eq!(svc.procedure.modifiers, vec![el("LT")]);
        assert_eq!(validate(&r.transactions[0]), vec![]);
        // Two readings (a numeric modifier or a charge of 25?): an error, the line left out.
        let (d, _) = tolerance("SVC*HC:99213:25*100.00*80.00**1", "SVC*HC*99213*25*100*80");
        assert_eq!(
            d,
            vec![(
                e,
                Problem::AmbiguousComposite {
                    element: el("SVC01"),
                    readings: 2
                },
                12
            )]
        );
        // A date in another layout with one reading; one with two.
        let (d, r) = tolerance("DTM*472*20251220", "DTM*472*12/20/2025");
        assert_eq!(
            d,
            vec![(
                w,
                Problem::DateRepaired {
                    element: el("DTM02")
                },
                13
            )]
        );
        let date = NaiveDate::from_ymd_opt(2025, 12, 20);
        assert_eq!(r.transactions[0].claims[0].services[0].service_date, date);
        let (d, _) = tolerance("DTM*472*20251220", "DTM*472*2025-12-20");
        assert_eq!(
            d,
            vec![(
                w,
                Problem::DateRepaired {
                    element: el("DTM02")
                },
                13
            )]
        );
        let (d, r) = tolerance("DTM*472*20251220", "DTM*472*03/04/2025");
        assert_eq!(
            d,
            vec![(
                e,
                Problem::AmbiguousDate {
                    element: el("DTM02")
                },
                13
            )]
        );
        assert_eq!(r.transactions[0].claims[0].services[0].service_date, None);
        let (d, _) = tolerance("DTM*472*20251220", "DTM*472*20251320");
        assert_eq!(
            d,
            vec![(
                w,
                Problem::BadDate {
                    element: el("DTM02")
                },
                13
            )]
        );
        // A missing PER*BL is a warning at the payer's N1, and everything is still read.
        let (d, r) = tolerance("PER*BL*EDI*TE*8005550100~", "");
        let missing = Problem::MissingSegment {
            segment: el("PER*BL"),
            loop_id: el("1000A"),
        };
        assert!(d.contains(&(w, missing, 6)), "{d:?}");
        assert_eq!(r.transactions[0].claims.len(), 1);
    }

    #[test]
    fn reports_bad_records_with_positions_and_imbalance() {
        let bad = MINI.replace("CAS*PR*3*20.00", "CAS*PR*3*2O.00");
        let r = parse(bad.as_bytes());
        assert!(r.has_errors());
        assert_eq!(r.diagnostics[0].segment, 14);
        assert_eq!(
            r.diagnostics[0].to_string(),
            "error at segment 14 (byte 418): element CAS03 is not a valid amount"
        );
        let errs = validate(&r.transactions[0]);
        assert_eq!(errs.len(), 2, "{errs:?}");

        let unbalanced = MINI.replace("BPR*I*80.00", "BPR*I*81.00");
        let r = parse(unbalanced.as_bytes());
        assert!(matches!(
            validate(&r.transactions[0]).as_slice(),
            [BalanceError::Payment { .. }]
        ));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let r = parse(&bytes);
                for t in &r.transactions {
                    let _ = validate(t);
                }
            }

            #[test]
            fn mutated_remittances_never_panic_and_stay_checked(
                edits in proptest::collection::vec((0usize..MINI.len(), any::<u8>()), 1..8),
            ) {
                let mut bytes = MINI.as_bytes().to_vec();
                for (i, b) in edits {
                    bytes[i] = b;
                }
                let r = parse(&bytes);
                for t in &r.transactions {
                    // A transaction that validates really does balance.
                    if validate(t).is_empty() {
                        let paid: i64 = t.claims.iter().map(|c| c.paid.amount_minor()).sum();
                        let plb: i64 = t.provider_adjustments.iter().map(|p| p.amount.amount_minor()).sum();
                        prop_assert_eq!(paid - plb, t.payment.amount_minor());
                    }
                }
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            "",
            "ISA",
            "ISA*",
            "ISA*00",
            "GS*HP~ST*835~",
            "\u{feff}ISA*a*b",
            "ISA*00*          *00*          *ZZ*S *ZZ*R *260101*1200*^*00501*1*0*P*:",
        ] {
            let r = parse(input.as_bytes());
            assert!(
                r.transactions.is_empty()
                    || r.has_errors()
                    || !r.diagnostics.is_empty()
                    || r.transactions[0].claims.is_empty()
            );
        }
        let cut: String = MINI.chars().take(400).collect();
        let r = parse(cut.as_bytes());
        assert!(r.has_errors());
    }
}
