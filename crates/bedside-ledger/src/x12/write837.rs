//! 837P professional claims (005010X222A1) from the [`ClaimBook`](crate::ClaimBook).
//!
//! [`write()`] turns a [`Batch`] of claims into one interchange: one ISA/GS, and one
//! transaction set per payer (at most [`MAX_CLAIMS_PER_TRANSACTION`] claims each, in the order
//! the claims are given). Each claim is its own subscriber loop (2000B, with 2000C when the
//! patient is a dependant) under the clinic's billing provider (2000A). The ledger supplies
//! what it knows — lines, codes, modifiers, units, charges, dates, diagnosis pointers, control
//! number, claim frequency and payer claim number — and the caller supplies what it does not:
//! the parties, diagnoses and place of service ([`ClaimInput`]).
//!
//! A secondary claim ([`PayerSequence::Secondary`]) carries the primary payer's adjudication
//! from its posted 835 ([`PriorPayer`]): loop 2320 with the claim-level adjustments, the
//! amount paid (AMT*D) and the remaining patient liability (AMT*EAF), loops 2330A/B naming the
//! primary's subscriber and payer, and per service line loop 2430 (SVD, CAS, DTP*573) when the
//! 835 reported lines.
//!
//! Everything is checked before a byte is written, so an error leaves the output and the
//! [`Submissions`] untouched; on success the interchange's control number is recorded with the
//! position of every claim. The same inputs give the same bytes.

use super::envelope::{
    ClaimPosition, EnvelopeParties, InterchangeRecord, Submissions, TransactionKind,
    TransactionRecord, WriteError, close_interchange, open_interchange, st_control,
};
use super::party::{
    BillingProvider, DiagnosisCode, Payer, Person, PlaceOfService, Relationship, RenderingProvider,
    Submitter, Subscriber,
};
use super::read835::{Adjustment, ClaimPayment, ServicePayment};
use super::writer::{SegmentWriter, clean};
use crate::claim::{Claim, ClaimFrequency, ClaimLine, PayerSequence};
use crate::money::Money;
use bedside_core::Timestamp;
use chrono::NaiveDate;

/// Most claims in one transaction set (the implementation guide's recommended limit).
pub const MAX_CLAIMS_PER_TRANSACTION: usize = 5_000;
/// Most service lines on one professional claim.
pub const MAX_LINES: usize = 50;
/// Most diagnoses on one professional claim.
pub const MAX_DIAGNOSES: usize = 12;

/// The primary payer's adjudication of a claim, for its secondary claim.
#[derive(Debug, Clone, Copy)]
pub struct PriorPayer<'a> {
    /// The primary payer.
    pub payer: &'a Payer,
    /// The subscriber under the primary coverage.
    pub subscriber: &'a Subscriber,
    /// The primary's CLP loop from the posted 835.
    pub remittance: &'a ClaimPayment,
    /// When the primary adjudicated (the 835's payment date).
    pub adjudicated_on: NaiveDate,
}

/// One claim to write, with what the ledger does not hold.
#[derive(Debug, Clone, Copy)]
pub struct ClaimInput<'a> {
    /// The claim.
    pub claim: &'a Claim,
    /// The payer it goes to.
    pub payer: &'a Payer,
    /// The subscriber of the coverage billed.
    pub subscriber: &'a Subscriber,
    /// ICD-10-CM diagnoses, principal first (one to twelve); lines point into this list.
    pub diagnoses: &'a [DiagnosisCode],
    /// Where the services were rendered.
    pub place_of_service: PlaceOfService,
    /// The clinician, when not the billing provider.
    pub rendering: Option<&'a RenderingProvider>,
    /// For a secondary claim, the primary's adjudication; `None` for a primary.
    pub prior: Option<PriorPayer<'a>>,
}

impl<'a> ClaimInput<'a> {
    /// A primary claim rendered by the billing provider; add a rendering clinician or the
    /// primary's adjudication (for a secondary claim) with the `with_*` methods.
    pub fn new(
        claim: &'a Claim,
        payer: &'a Payer,
        subscriber: &'a Subscriber,
        diagnoses: &'a [DiagnosisCode],
        place_of_service: PlaceOfService,
    ) -> Self {
        Self {
            claim,
            payer,
            subscriber,
            diagnoses,
            place_of_service,
            rendering: None,
            prior: None,
        }
    }

    /// The clinician who rendered the services.
    #[must_use]
    pub fn with_rendering(mut self, rendering: &'a RenderingProvider) -> Self {
        self.rendering = Some(rendering);
        self
    }

    /// For a secondary claim: the primary payer's adjudication.
    #[must_use]
    pub fn with_prior(mut self, prior: PriorPayer<'a>) -> Self {
        self.prior = Some(prior);
        self
    }
}

/// One interchange's worth of claims.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// ISA/GS sender and receiver.
    pub parties: &'a EnvelopeParties,
    /// Submitter and receiver loops (1000A/B).
    pub submitter: &'a Submitter,
    /// The billing provider (2010AA).
    pub billing: &'a BillingProvider,
    /// The claims, in the order they are written.
    pub claims: &'a [ClaimInput<'a>],
}

/// Whether a value can be written as is (it is matched back from acknowledgements and
/// remittances, so cleaning it would break the match).
fn exact(v: &str, max: usize) -> bool {
    let mut cleaned = Vec::new();
    clean(v, max, &mut cleaned);
    !v.is_empty() && cleaned == v.as_bytes()
}

fn check(input: &ClaimInput<'_>) -> Result<(), WriteError> {
    let c = input.claim;
    if c.lines.is_empty() || c.lines.len() > MAX_LINES {
        return Err(WriteError::Lines { claim: c.id });
    }
    if input.diagnoses.is_empty() || input.diagnoses.len() > MAX_DIAGNOSES {
        return Err(WriteError::Diagnoses { claim: c.id });
    }
    for (i, l) in c.lines.iter().enumerate() {
        let pointers_ok = l
            .diagnosis_pointers
            .iter()
            .all(|&p| p >= 1 && usize::from(p) <= input.diagnoses.len());
        if !pointers_ok || l.diagnosis_pointers.len() > 4 {
            return Err(WriteError::DiagnosisPointer {
                claim: c.id,
                line: i + 1,
            });
        }
        if l.amount.is_negative() {
            return Err(WriteError::NegativeCharge { claim: c.id });
        }
    }
    if c.total.is_negative() {
        return Err(WriteError::NegativeCharge { claim: c.id });
    }
    if !exact(c.control_number.expose(), 38) {
        return Err(WriteError::InvalidField {
            field: "control_number",
        });
    }
    if c.frequency != ClaimFrequency::Original
        && !c
            .payer_claim_number
            .as_ref()
            .is_some_and(|n| exact(n.expose(), 50))
    {
        return Err(WriteError::MissingPayerClaimNumber { claim: c.id });
    }
    let secondary = matches!(c.sequence, PayerSequence::Secondary { .. });
    if secondary != input.prior.is_some() {
        return Err(WriteError::CoordinationOfBenefits { claim: c.id });
    }
    if let Some(p) = &input.prior {
        let reasons_ok = p
            .remittance
            .all_adjustments()
            .all(|a| !a.reason.is_empty() && a.reason.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !reasons_ok {
            return Err(WriteError::InvalidField {
                field: "prior.remittance.adjustment",
            });
        }
    }
    Ok(())
}

/// Writes one interchange of 837P claims to `out` and records it in `submissions`.
///
/// # Errors
/// [`WriteError::Empty`] for no claims; [`WriteError::ControlNumbersExhausted`]; and the
/// per-claim checks: [`WriteError::Lines`], [`WriteError::Diagnoses`],
/// [`WriteError::DiagnosisPointer`], [`WriteError::NegativeCharge`],
/// [`WriteError::InvalidField`] for a control number X12 cannot carry exactly,
/// [`WriteError::MissingPayerClaimNumber`] for a replacement or void, and
/// [`WriteError::CoordinationOfBenefits`] when a secondary claim lacks the primary's
/// adjudication (or a primary has one). Nothing is written or recorded on error.
pub fn write(
    batch: &Batch<'_>,
    submissions: &mut Submissions,
    at: Timestamp,
    out: &mut Vec<u8>,
) -> Result<InterchangeRecord, WriteError> {
    if batch.claims.is_empty() {
        return Err(WriteError::Empty);
    }
    for input in batch.claims {
        check(input)?;
    }
    let control = submissions.peek()?;
    // One transaction set per payer, in order of first appearance, chunked.
    let mut payers: Vec<&str> = Vec::new();
    for input in batch.claims {
        if !payers.contains(&input.payer.payer_id.as_str()) {
            payers.push(&input.payer.payer_id);
        }
    }
    let mut w = SegmentWriter::new(out);
    open_interchange(
        &mut w,
        batch.parties,
        control,
        at,
        TransactionKind::Claim837P,
    );
    let mut transactions = Vec::new();
    for payer in payers {
        let of_payer: Vec<&ClaimInput<'_>> = batch
            .claims
            .iter()
            .filter(|c| c.payer.payer_id == payer)
            .collect();
        for chunk in of_payer.chunks(MAX_CLAIMS_PER_TRANSACTION) {
            let st = st_control(transactions.len() + 1);
            transactions.push(write_transaction(&mut w, batch, chunk, control, &st, at));
        }
    }
    close_interchange(&mut w, control, transactions.len());
    let record = InterchangeRecord {
        control,
        at,
        receiver: batch.parties.receiver_id().to_string(),
        transactions,
    };
    submissions.record(record.clone());
    Ok(record)
}

fn write_transaction(
    w: &mut SegmentWriter<'_>,
    batch: &Batch<'_>,
    claims: &[&ClaimInput<'_>],
    control: u32,
    st: &str,
    at: Timestamp,
) -> TransactionRecord {
    let start = w.segments;
    let kind = TransactionKind::Claim837P;
    w.seg("ST")
        .code(kind.set_id())
        .code(st)
        .code(kind.version())
        .end();
    let mut reference = Vec::with_capacity(14);
    super::writer::push_padded(&mut reference, u64::from(control), 9);
    reference.extend_from_slice(st.as_bytes());
    let reference = String::from_utf8_lossy(&reference).into_owned();
    w.seg("BHT")
        .code("0019")
        .code("00")
        .code(&reference)
        .date(at.date_naive())
        .time(at.time())
        .code("CH")
        .end();
    let s = batch.submitter;
    w.seg("NM1").code("41").code("2").text(&s.name, 60).skip(4);
    w.code("46").code(&s.id).end();
    w.seg("PER")
        .code("IC")
        .text(&s.contact, 60)
        .code("TE")
        .code(&s.phone)
        .end();
    w.seg("NM1")
        .code("40")
        .code("2")
        .text(&s.receiver_name, 60)
        .skip(4);
    w.code("46").code(&s.receiver_id).end();
    let b = batch.billing;
    w.seg("HL").code("1").none().code("20").code("1").end();
    if let Some(t) = &b.taxonomy {
        w.seg("PRV").code("BI").code("PXC").code(t.as_str()).end();
    }
    w.seg("NM1").code("85").code("2").text(&b.name, 60).skip(4);
    w.code("XX").code(b.npi.as_str()).end();
    address(w, &b.address);
    w.seg("REF").code("EI").code(b.tax_id.as_str()).end();
    let mut hl = 1u64;
    let mut positions = Vec::with_capacity(claims.len());
    for input in claims {
        let first_segment = w.segments - start + 1;
        write_claim(w, input, &mut hl);
        positions.push(ClaimPosition {
            claim: input.claim.id,
            first_segment,
            last_segment: w.segments - start,
        });
    }
    let count = w.segments - start + 1;
    w.seg("SE").int(count as u64).code(st).end();
    TransactionRecord {
        control: st.to_string(),
        kind,
        claims: positions,
        segments: count,
    }
}

fn address(w: &mut SegmentWriter<'_>, a: &super::party::Address) {
    w.seg("N3").text(a.line1.expose(), 55);
    if let Some(l2) = &a.line2 {
        w.text(l2.expose(), 55);
    }
    w.end();
    w.seg("N4")
        .text(a.city.expose(), 30)
        .code(a.state.expose())
        .code(a.postal_code.expose())
        .end();
}

fn person_name(w: &mut SegmentWriter<'_>, entity: &str, p: &Person) {
    w.seg("NM1")
        .code(entity)
        .code("1")
        .text(p.last.expose(), 60)
        .text(p.first.expose(), 35);
}

fn demographics(w: &mut SegmentWriter<'_>, p: &Person) {
    w.seg("DMG")
        .code("D8")
        .date(*p.birth_date.expose())
        .code(p.sex.code())
        .end();
}

// Over 100 lines, not split: loop 2300 and its 2400 lines in guide order; one body keeps the segment order visible.
fn write_claim(w: &mut SegmentWriter<'_>, input: &ClaimInput<'_>, hl: &mut u64) {
    let c = input.claim;
    let sub = input.subscriber;
    let dependant = sub
        .patient
        .as_ref()
        .filter(|_| sub.relationship != Relationship::Subscriber);
    // 2000B subscriber.
    *hl += 1;
    let subscriber_hl = *hl;
    w.seg("HL")
        .int(subscriber_hl)
        .code("1")
        .code("22")
        .code(if dependant.is_some() { "1" } else { "0" })
        .end();
    let sequence = match c.sequence {
        PayerSequence::Primary => "P",
        PayerSequence::Secondary { .. } => "S",
    };
    w.seg("SBR").code(sequence);
    w.code(if dependant.is_none() { "18" } else { "" });
    match &sub.group_number {
        Some(g) => w.text(g.expose(), 50),
        None => w.none(),
    };
    w.skip(5).code(input.payer.filing.code()).end();
    person_name(w, "IL", &sub.person);
    w.skip(3).code("MI").text(sub.member_id.expose(), 80).end();
    if dependant.is_none() {
        address(w, &sub.person.address);
        demographics(w, &sub.person);
    }
    w.seg("NM1")
        .code("PR")
        .code("2")
        .text(&input.payer.name, 60)
        .skip(4);
    w.code("PI").code(&input.payer.payer_id).end();
    // 2000C patient.
    if let Some(p) = dependant {
        *hl += 1;
        w.seg("HL")
            .int(*hl)
            .int(subscriber_hl)
            .code("23")
            .code("0")
            .end();
        w.seg("PAT").code(sub.relationship.code()).end();
        person_name(w, "QC", p);
        w.end();
        address(w, &p.address);
        demographics(w, p);
    }
    // 2300 claim.
    let frequency = [c.frequency.code() as u8];
    let frequency = std::str::from_utf8(&frequency).unwrap_or("1");
    w.seg("CLM")
        .code(c.control_number.expose())
        .money(c.total)
        .skip(2)
        .comp(&[input.place_of_service.as_str(), "B", frequency])
        .code("Y")
        .code("A")
        .code("Y")
        .code("Y")
        .end();
    if c.frequency != ClaimFrequency::Original
        && let Some(n) = &c.payer_claim_number
    {
        w.seg("REF").code("F8").code(n.expose()).end();
    }
    diagnoses(w, input.diagnoses);
    if let Some(r) = input.rendering {
        w.seg("NM1")
            .code("82")
            .code("1")
            .text(&r.last, 60)
            .text(&r.first, 35)
            .skip(3)
            .code("XX")
            .code(r.npi.as_str())
            .end();
        if let Some(t) = &r.taxonomy {
            w.seg("PRV").code("PE").code("PXC").code(t.as_str()).end();
        }
    }
    let matched = input
        .prior
        .map(|p| match_lines(&c.lines, &p.remittance.services));
    if let Some(p) = &input.prior {
        other_payer(
            w,
            p,
            matched
                .as_deref()
                .is_some_and(|m| m.iter().any(Option::is_some)),
        );
    }
    for (i, line) in c.lines.iter().enumerate() {
        service_line(w, i, line);
        if let (Some(p), Some(Some(svc))) = (&input.prior, matched.as_ref().map(|m| m[i])) {
            line_adjudication(w, p, line, svc);
        }
    }
}

fn diagnoses(w: &mut SegmentWriter<'_>, codes: &[DiagnosisCode]) {
    w.seg("HI");
    for (i, d) in codes.iter().enumerate() {
        w.comp(&[if i == 0 { "ABK" } else { "ABF" }, d.as_str()]);
    }
    w.end();
}

fn service_line(w: &mut SegmentWriter<'_>, i: usize, line: &ClaimLine) {
    w.seg("LX").int(i as u64 + 1).end();
    let mut proc: [&str; 6] = ["HC", line.code.as_str(), "", "", "", ""];
    for (k, m) in line.modifiers.iter().take(4).enumerate() {
        proc[2 + k] = m.as_str();
    }
    let mut pointers: [&str; 4] = [""; 4];
    const DIGITS: [&str; 13] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
    ];
    for (k, p) in line.diagnosis_pointers.iter().take(4).enumerate() {
        pointers[k] = DIGITS[usize::from(*p).min(12)];
    }
    if line.diagnosis_pointers.is_empty() {
        pointers[0] = "1";
    }
    w.seg("SV1")
        .comp(&proc)
        .money(line.amount)
        .code("UN")
        .int(u64::from(line.units))
        .skip(2)
        .comp(&pointers)
        .end();
    w.seg("DTP")
        .code("472")
        .code("D8")
        .date(line.date_of_service)
        .end();
}

/// For each claim line, the 835 service line that adjudicated it: by position when the
/// counts agree, else the first unused service line with the same code and charge.
fn match_lines<'r>(
    lines: &[ClaimLine],
    services: &'r [ServicePayment],
) -> Vec<Option<&'r ServicePayment>> {
    if lines.len() == services.len() {
        return services.iter().map(Some).collect();
    }
    let mut used = vec![false; services.len()];
    lines
        .iter()
        .map(|l| {
            let k = services.iter().enumerate().position(|(k, s)| {
                !used[k] && s.procedure.code == l.code.as_str() && s.charge == l.amount
            })?;
            used[k] = true;
            Some(&services[k])
        })
        .collect()
}

fn cas(w: &mut SegmentWriter<'_>, adjustments: &[&Adjustment]) {
    let mut groups: Vec<super::read835::GroupCode> = Vec::new();
    for a in adjustments {
        if !groups.contains(&a.group) {
            groups.push(a.group);
        }
    }
    for g in groups {
        let of_group: Vec<&&Adjustment> = adjustments.iter().filter(|a| a.group == g).collect();
        for chunk in of_group.chunks(6) {
            w.seg("CAS").code(g.as_str());
            for a in chunk {
                w.code(&a.reason).money(a.amount).none();
            }
            w.end();
        }
    }
}

fn other_payer(w: &mut SegmentWriter<'_>, p: &PriorPayer<'_>, with_lines: bool) {
    let r = p.remittance;
    // 2320 other subscriber information.
    w.seg("SBR")
        .code("P")
        .code(p.subscriber.relationship.code());
    match &p.subscriber.group_number {
        Some(g) => w.text(g.expose(), 50),
        None => w.none(),
    };
    w.skip(5).code(p.payer.filing.code()).end();
    let claim_level: Vec<&Adjustment> = if with_lines {
        r.adjustments.iter().collect()
    } else {
        r.all_adjustments().collect()
    };
    cas(w, &claim_level);
    w.seg("AMT").code("D").money(r.paid).end();
    let mut patient = Money::zero(r.paid.currency());
    for a in r.all_adjustments() {
        if a.group == super::read835::GroupCode::PR {
            patient = patient.checked_add(a.amount).unwrap_or(patient);
        }
    }
    if patient.is_positive() {
        w.seg("AMT").code("EAF").money(patient).end();
    }
    w.seg("OI").skip(2).code("Y").skip(2).code("Y").end();
    // 2330A other subscriber, 2330B other payer.
    person_name(w, "IL", &p.subscriber.person);
    w.skip(3)
        .code("MI")
        .text(p.subscriber.member_id.expose(), 80)
        .end();
    w.seg("NM1")
        .code("PR")
        .code("2")
        .text(&p.payer.name, 60)
        .skip(4);
    w.code("PI").code(&p.payer.payer_id).end();
    if !with_lines {
        w.seg("DTP")
            .code("573")
            .code("D8")
            .date(p.adjudicated_on)
            .end();
    }
}

fn line_adjudication(
    w: &mut SegmentWriter<'_>,
    p: &PriorPayer<'_>,
    line: &ClaimLine,
    svc: &ServicePayment,
) {
    let mut proc: [&str; 6] = ["HC", line.code.as_str(), "", "", "", ""];
    for (k, m) in line.modifiers.iter().take(4).enumerate() {
        proc[2 + k] = m.as_str();
    }
    w.seg("SVD")
        .code(&p.payer.payer_id)
        .money(svc.paid)
        .comp(&proc)
        .none()
        .int(u64::from(line.units))
        .end();
    let adjustments: Vec<&Adjustment> = svc.adjustments.iter().collect();
    cas(w, &adjustments);
    w.seg("DTP")
        .code("573")
        .code("D8")
        .date(p.adjudicated_on)
        .end();
}
