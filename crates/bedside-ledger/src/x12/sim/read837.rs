//! A small 837P reader: what a payer needs to adjudicate (control number, frequency, payer
//! claim number, sequence, member, lines, prior payer amounts) and the envelope checks a
//! clearinghouse makes (SE01 and GE01 counts, control numbers matching).

use crate::money::{Currency, Money};
use crate::x12::diagnostic::{Diagnostic, Problem, Severity};
use crate::x12::segment::{Seg, Tokens, date8, decode, tokenize};
use bedside_core::Sensitive;
use chrono::NaiveDate;

/// One service line as the payer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line837 {
    /// Procedure code (SV101-2).
    pub code: String,
    /// Modifiers (SV101-3 …).
    pub modifiers: Vec<String>,
    /// SV102.
    pub charge: Money,
    /// SV104.
    pub units: u32,
    /// DTP*472.
    pub date_of_service: Option<NaiveDate>,
    /// Diagnosis pointers (SV107).
    pub pointers: Vec<u8>,
}

/// One claim as the payer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim837 {
    /// GS06 of the group that carried it.
    pub group: u32,
    /// ST02 of its transaction set.
    pub transaction: String,
    /// CLM01.
    pub control_number: Sensitive<String>,
    /// CLM02.
    pub total: Money,
    /// CLM05-1.
    pub place_of_service: String,
    /// CLM05-3.
    pub frequency: char,
    /// REF*F8.
    pub payer_claim_number: Option<Sensitive<String>>,
    /// SBR01 of the subscriber loop: `P` primary, `S` secondary.
    pub sequence: char,
    /// NM109 of 2010BA.
    pub member_id: Sensitive<String>,
    /// NM109 of 2010BB.
    pub payer_id: String,
    /// HI codes, principal first.
    pub diagnoses: Vec<String>,
    /// AMT*D of 2320: what the prior payer paid.
    pub prior_paid: Option<Money>,
    /// AMT*EAF of 2320: the patient liability the prior payer left.
    pub prior_patient: Option<Money>,
    /// Lines.
    pub lines: Vec<Line837>,
}

/// What [`read_837`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read837 {
    /// ISA13.
    pub interchange: u32,
    /// Every claim, in order.
    pub claims: Vec<Claim837>,
    /// `(GS06, ST02, segments counted)` per transaction set.
    pub transactions: Vec<(u32, String, usize)>,
    /// Problems (SE01, GE01, IEA01 mismatches, unreadable amounts).
    pub diagnostics: Vec<Diagnostic>,
}

fn amount(s: &Seg<'_>, n: usize, out: &mut Vec<Diagnostic>) -> Money {
    match Money::parse_decimal(s.e(n), Currency::USD) {
        Ok(m) => m,
        Err(_) => {
            let element = format!("{}{:02}", s.id, n);
            out.push(s.diag(Severity::Error, Problem::BadAmount { element }));
            Money::zero(Currency::USD)
        }
    }
}

/// Reads an 837P interchange. Never panics.
// Over 100 lines, not split: one state machine over the 837P loops; a test reader, kept in one place.
pub fn read_837(input: &[u8]) -> Read837 {
    let mut out = Read837 {
        interchange: 0,
        claims: Vec::new(),
        transactions: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(text) = decode(input, &mut out.diagnostics) else {
        return out;
    };
    let Some(Tokens { sep, segs }) = tokenize(&text, &mut out.diagnostics) else {
        return out;
    };
    let comp = sep.component;
    let (mut group, mut st, mut st_start) = (0u32, String::new(), 0);
    // In a subscriber loop before its claim; after the claim's 2320 SBR.
    let (mut in_2000b, mut claim_seen, mut in_2320) = (false, false, false);
    let (mut sequence, mut member, mut payer) = ('P', String::new(), String::new());
    let mut sets_in_group = 0usize;
    for s in &segs {
        match s.id {
            "ISA" => out.interchange = s.e(13).parse().unwrap_or(0),
            "GS" => {
                group = s.e(6).parse().unwrap_or(0);
                sets_in_group = 0;
            }
            "ST" => {
                st = s.e(2).to_string();
                st_start = s.ordinal;
                sets_in_group += 1;
            }
            "SE" => {
                let counted = s.ordinal + 1 - st_start;
                if s.e(1).parse::<usize>().ok() != Some(counted) || s.e(2) != st {
                    let declared = s.e(1).parse().unwrap_or(0);
                    out.diagnostics.push(s.diag(
                        Severity::Error,
                        Problem::SegmentCountMismatch { declared, counted },
                    ));
                }
                out.transactions.push((group, st.clone(), counted));
            }
            "GE" if s.e(1).parse::<usize>().ok() != Some(sets_in_group)
                || s.e(2).parse::<u32>().ok() != Some(group) =>
            {
                let declared = s.e(1).parse().unwrap_or(0);
                out.diagnostics.push(s.diag(
                    Severity::Error,
                    Problem::SegmentCountMismatch {
                        declared,
                        counted: sets_in_group,
                    },
                ));
            }
            "IEA" if s.e(2).parse::<u32>().ok() != Some(out.interchange) => {
                out.diagnostics.push(s.diag(
                    Severity::Error,
                    Problem::MissingElement {
                        element: "IEA02".into(),
                    },
                ));
            }
            "HL" => {
                in_2000b = s.e(3) == "22";
                claim_seen = false;
                in_2320 = false;
            }
            "SBR" if !claim_seen => {
                sequence = s.e(1).chars().next().unwrap_or('P');
            }
            "SBR" => in_2320 = true,
            "NM1" if in_2000b && !in_2320 && s.e(1) == "IL" => member = s.e(9).to_string(),
            "NM1" if in_2000b && !in_2320 && s.e(1) == "PR" => payer = s.e(9).to_string(),
            "CLM" => {
                claim_seen = true;
                let total = amount(s, 2, &mut out.diagnostics);
                out.claims.push(Claim837 {
                    group,
                    transaction: st.clone(),
                    control_number: Sensitive::new(s.e(1).to_string()),
                    total,
                    place_of_service: s.c(5, 1, comp).to_string(),
                    frequency: s.c(5, 3, comp).chars().next().unwrap_or('1'),
                    payer_claim_number: None,
                    sequence,
                    member_id: Sensitive::new(member.clone()),
                    payer_id: payer.clone(),
                    diagnoses: Vec::new(),
                    prior_paid: None,
                    prior_patient: None,
                    lines: Vec::new(),
                });
            }
            "REF" if s.e(1) == "F8" => {
                if let Some(c) = out.claims.last_mut() {
                    c.payer_claim_number = Some(Sensitive::new(s.e(2).to_string()));
                }
            }
            "HI" => {
                if let Some(c) = out.claims.last_mut() {
                    for k in 1..s.el.len() {
                        c.diagnoses.push(s.c(k, 2, comp).to_string());
                    }
                }
            }
            "AMT" if in_2320 => {
                let m = amount(s, 2, &mut out.diagnostics);
                if let Some(c) = out.claims.last_mut() {
                    match s.e(1) {
                        "D" => c.prior_paid = Some(m),
                        "EAF" => c.prior_patient = Some(m),
                        _ => {}
                    }
                }
            }
            "SV1" => {
                let charge = amount(s, 2, &mut out.diagnostics);
                let composite: Vec<&str> = s.e(1).split(comp).collect();
                let line = Line837 {
                    code: composite.get(1).copied().unwrap_or("").to_string(),
                    modifiers: composite.iter().skip(2).map(|m| m.to_string()).collect(),
                    charge,
                    units: s.e(4).parse().unwrap_or(1),
                    date_of_service: None,
                    pointers: s.e(7).split(comp).filter_map(|p| p.parse().ok()).collect(),
                };
                in_2320 = false;
                if let Some(c) = out.claims.last_mut() {
                    c.lines.push(line);
                }
            }
            "DTP" if s.e(1) == "472" => {
                if let Some(l) = out.claims.last_mut().and_then(|c| c.lines.last_mut()) {
                    l.date_of_service = date8(s.e(3));
                }
            }
            _ => {}
        }
    }
    out
}
