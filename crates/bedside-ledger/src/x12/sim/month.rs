//! A synthetic clinic month, run through the whole claim cycle: visits priced and captured,
//! weekly 837P batches, 999s and 277CAs (one claim rejected for a mistyped member id, fixed
//! and resubmitted), replacements and voids, each payer's 835 posted, secondary claims with
//! the primary's adjudication, their 835s, patients paying what is left, claims closed.
//!
//! Deterministic for a seed; every interchange either side writes is kept in
//! [`MonthRun::files`] in the order it was exchanged.

use super::cast::{Clinic, DIAGNOSES, FEES, SimPatient, Visit, at, clinic, err, patients};
use super::{clearinghouse_999, read_837};
use crate::books::Books;
use crate::charge::{
    BillTo, Charge, ChargeId, ChargeRequest, FeeSchedule, Modifier, ProcedureCode,
};
use crate::claim::{ClaimBook, ClaimDraft, ClaimStatus, PayerSequence};
use crate::money::{Currency, Money};
use crate::patient::{PatientPayment, PaymentId, PaymentMethod};
use crate::remit::{ClaimMatcher, RemittancePoster};
use crate::x12::ack::{Acknowledgements, parse_277ca, parse_999};
use crate::x12::balance::validate;
use crate::x12::envelope::Submissions;
use crate::x12::party::{DiagnosisCode, PlaceOfService, Subscriber};
use crate::x12::read835::{ClaimPayment, parse};
use crate::x12::write837::{Batch, ClaimInput, PriorPayer, write};
use bedside_core::{ClaimId, EncounterId, ProviderId, SeededRng, Timestamp};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// What kind of file an exchanged interchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// An 837P the clinic wrote.
    Claim837,
    /// A 999 from the clearinghouse.
    Ack999,
    /// A 277CA from a payer.
    Ack277,
    /// An 835 from a payer.
    Remit835,
}

/// One interchange exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangedFile {
    /// A file name (`01-week1.837`, …).
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The outcome of [`run_month`].
#[derive(Debug)]
pub struct MonthRun {
    /// Every interchange, in the order exchanged.
    pub files: Vec<ExchangedFile>,
    /// Claims written to 837s (CLM segments, resubmissions included).
    pub claims_written: usize,
    /// Distinct claims that had to be adjudicated (primaries and secondaries, not the replaced
    /// or voided ones).
    pub claims_due: usize,
    /// Of those, claims whose adjudication was posted.
    pub claims_posted: usize,
    /// Claims that are neither closed nor replaced at the end.
    pub claims_open: usize,
    /// 835 transactions that failed the balancing rules.
    pub remittances_unbalanced: usize,
    /// Replacements and voids sent.
    pub corrections: (usize, usize),
    /// Rejections queued by acknowledgements.
    pub rejections: usize,
    /// The books at the end.
    pub books: Books,
    /// The claims at the end.
    pub claims: ClaimBook,
    /// Control numbers issued.
    pub submissions: Submissions,
}

struct State {
    clinic: Clinic,
    books: Books,
    claims: ClaimBook,
    submissions: Submissions,
    acks: Acknowledgements,
    poster: RemittancePoster,
    fees: FeeSchedule,
    patients: Vec<SimPatient>,
    visits: Vec<Visit>,
    /// The primary's CLP and payment date, per primary claim.
    remitted: HashMap<ClaimId, (ClaimPayment, NaiveDate)>,
    /// Secondary claim → (visit, primary claim).
    secondaries: Vec<(ClaimId, usize, ClaimId)>,
    files: Vec<ExchangedFile>,
    claims_written: usize,
    unbalanced: usize,
    next_control_in: u32,
    next_charge: u128,
}

/// Who does the simulated clinic's billing work (charges, payments, replacements, voids).
pub(crate) fn billing_desk() -> bedside_core::Actor {
    bedside_core::Actor::System {
        component: "simulated-billing-desk".into(),
    }
}

/// One service line the simulator bills.
struct SimLine<'a> {
    code: &'a str,
    modifiers: &'a [&'a str],
    units: u32,
    date: NaiveDate,
    pointers: Vec<u8>,
}

impl State {
    fn file(&mut self, name: String, kind: FileKind, bytes: Vec<u8>) {
        let n = self.files.len() + 1;
        self.files.push(ExchangedFile {
            name: format!("{n:02}-{name}"),
            kind,
            bytes,
        });
    }

    /// Prices `line` of `visit` and captures it to the primary payer's receivable.
    fn charge(
        &mut self,
        visit: usize,
        line: SimLine<'_>,
        captured: Timestamp,
    ) -> Result<Charge, String> {
        let SimLine {
            code,
            modifiers,
            units,
            date,
            pointers,
        } = line;
        self.next_charge += 1;
        let p = &self.patients[self.visits[visit].patient];
        let req = ChargeRequest {
            patient: p.id,
            encounter: EncounterId::from_uuid(uuid::Uuid::from_u128(0xE0_0000 + visit as u128)),
            code: ProcedureCode::parse(code).map_err(err)?,
            modifiers: modifiers
                .iter()
                .map(|m| Modifier::parse(m))
                .collect::<Result<_, _>>()
                .map_err(err)?,
            units,
            date_of_service: date,
            rendering_provider: ProviderId::from_uuid(uuid::Uuid::from_u128(
                0xD0_0000 + self.visits[visit].rendering as u128,
            )),
            diagnosis_pointers: pointers,
        };
        let c = self
            .fees
            .price(
                ChargeId::from_uuid(uuid::Uuid::from_u128(0xCC_0000 + self.next_charge)),
                req,
            )
            .map_err(err)?;
        let payer = self.clinic.orgs[p.primary.payer];
        self.books
            .capture_charge(&c, BillTo::Payer(payer), &billing_desk(), captured)
            .map_err(err)?;
        Ok(c)
    }

    fn input<'a>(
        &'a self,
        claim: ClaimId,
        typo_subscriber: &'a Option<Subscriber>,
    ) -> Result<ClaimInput<'a>, String> {
        let c = self.claims.get(claim).ok_or("unknown claim")?;
        let (visit, primary) = match c.sequence {
            PayerSequence::Primary => (
                self.visits.iter().find(|v| {
                    v.claim == claim
                        || self
                            .claims
                            .get(v.claim)
                            .is_some_and(|o| o.replaced_by == Some(claim))
                }),
                None,
            ),
            PayerSequence::Secondary { primary } => (
                self.secondaries
                    .iter()
                    .find(|s| s.0 == claim)
                    .map(|s| &self.visits[s.1]),
                Some(primary),
            ),
        };
        let visit = visit.ok_or("claim of no visit")?;
        let p = &self.patients[visit.patient];
        let (coverage, prior) = match primary {
            None => (&p.primary, None),
            Some(primary) => {
                let (clp, on) = self
                    .remitted
                    .get(&primary)
                    .ok_or("secondary before primary remit")?;
                (
                    p.secondary.as_ref().ok_or("no secondary coverage")?,
                    Some(PriorPayer {
                        payer: self.clinic.payers[p.primary.payer].payer(),
                        subscriber: &p.primary.subscriber,
                        remittance: clp,
                        adjudicated_on: *on,
                    }),
                )
            }
        };
        Ok(ClaimInput {
            claim: c,
            payer: self.clinic.payers[coverage.payer].payer(),
            subscriber: typo_subscriber.as_ref().unwrap_or(&coverage.subscriber),
            diagnoses: &visit.diagnoses,
            place_of_service: visit.place,
            rendering: Some(&self.clinic.rendering[visit.rendering]),
            prior,
        })
    }

    /// Writes one 837 with `ids`, marks them submitted, and runs the 999 and every payer's
    /// 277CA over it.
    fn submit(&mut self, name: &str, ids: &[ClaimId], when: Timestamp) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let typos: Vec<Option<Subscriber>> = ids
            .iter()
            .map(|id| {
                let v = self.visits.iter().find(|v| v.claim == *id && v.typo)?;
                let s = &self.patients[v.patient].primary.subscriber;
                Some(Subscriber {
                    member_id: bedside_core::Sensitive::new(format!("{}X", s.member_id.expose())),
                    ..s.clone()
                })
            })
            .collect();
        let mut bytes = Vec::new();
        {
            let inputs = ids
                .iter()
                .zip(&typos)
                .map(|(id, t)| self.input(*id, t))
                .collect::<Result<Vec<_>, _>>()?;
            let batch = Batch {
                parties: &self.clinic.parties,
                submitter: &self.clinic.submitter,
                billing: &self.clinic.billing,
                claims: &inputs,
            };
            let mut submissions = self.submissions.clone();
            write(&batch, &mut submissions, when, &mut bytes).map_err(err)?;
            self.submissions = submissions;
        }
        for v in self.visits.iter_mut().filter(|v| ids.contains(&v.claim)) {
            v.typo = false;
        }
        self.claims_written += ids.len();
        for id in ids {
            if self
                .claims
                .get(*id)
                .is_some_and(|c| c.status.can_move_to(ClaimStatus::Submitted))
            {
                self.claims
                    .transition(*id, ClaimStatus::Submitted, when)
                    .map_err(err)?;
            }
        }
        self.file(format!("{name}.837"), FileKind::Claim837, bytes.clone());
        let read = read_837(&bytes);
        self.next_control_in += 1;
        let ack = clearinghouse_999(&read, &[], self.next_control_in, when);
        let parsed = parse_999(&ack);
        self.acks
            .apply_999(&parsed, &self.submissions, &mut self.claims, when);
        self.file(format!("{name}.999"), FileKind::Ack999, ack);
        for k in 0..self.clinic.payers.len() {
            if !read
                .claims
                .iter()
                .any(|c| c.payer_id == self.clinic.payers[k].payer().payer_id)
            {
                continue;
            }
            self.next_control_in += 1;
            let (ack, _) = self.clinic.payers[k].receive(&read, self.next_control_in, when);
            let parsed = parse_277ca(&ack);
            self.acks.apply_277ca(&parsed, &mut self.claims, when);
            let id = self.clinic.payers[k].payer().payer_id.clone();
            self.file(format!("{name}-{id}.277"), FileKind::Ack277, ack);
        }
        Ok(())
    }

    /// Corrections after week 2: three accepted claims coded too low are replaced (the
    /// payer's claim number goes back as REF*F8), the next two, billed in error, voided.
    /// Returns (replaced, voided, claims to send).
    fn correct(&mut self, when: Timestamp) -> Result<(usize, usize, Vec<ClaimId>), String> {
        let (mut replaced, mut voided) = (0, 0);
        let held: Vec<(usize, ClaimId)> = self
            .visits
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                self.claims
                    .get(v.claim)
                    .is_some_and(|c| c.status == ClaimStatus::Accepted)
            })
            .map(|(i, v)| (i, v.claim))
            .collect();
        let mut out = Vec::new();
        for &(vi, id) in held.iter().take(3) {
            let old = self.claims.get(id).cloned().ok_or("claim")?;
            let date = old.lines[0].date_of_service;
            let visit_line = SimLine {
                code: "99215",
                modifiers: &[],
                units: 1,
                date,
                pointers: vec![1],
            };
            let mut charges = vec![self.charge(vi, visit_line, when)?];
            for l in old.lines.iter().skip(1) {
                let mods: Vec<&str> = l.modifiers.iter().map(|m| m.as_str()).collect();
                let line = SimLine {
                    code: l.code.as_str(),
                    modifiers: &mods,
                    units: l.units,
                    date,
                    pointers: l.diagnosis_pointers.clone(),
                };
                charges.push(self.charge(vi, line, when)?);
            }
            let new_id = ClaimId::from_uuid(uuid::Uuid::from_u128(0xC7_0000 + vi as u128));
            let draft = ClaimDraft {
                id: new_id,
                payer: old.payer,
                coverage: old.coverage,
                control_number: old.control_number.expose().clone(),
                charges: &charges,
            };
            self.claims
                .build_replacement(&mut self.books, id, draft, &billing_desk(), when)
                .map_err(err)?;
            self.visits[vi].claim = new_id;
            out.push(new_id);
            replaced += 1;
        }
        for &(_, id) in held.iter().skip(3).take(2) {
            self.claims
                .void(&mut self.books, id, &billing_desk(), when)
                .map_err(err)?;
            out.push(id);
            voided += 1;
        }
        Ok((replaced, voided, out))
    }

    /// Secondary claims for what the primaries left to patients with a second coverage.
    fn bill_secondaries(&mut self, month_end: NaiveDate) -> Result<Vec<ClaimId>, String> {
        let mut second = Vec::new();
        for vi in 0..self.visits.len() {
            let v = self.visits[vi].clone();
            let p = &self.patients[v.patient];
            let Some(sec) = p.secondary.clone() else {
                continue;
            };
            let share = self
                .claims
                .get(v.claim)
                .filter(|c| matches!(c.status, ClaimStatus::Paid | ClaimStatus::PartiallyPaid))
                .and_then(|c| c.adjudication.as_ref())
                .and_then(|a| a.patient.total().ok());
            if !share.is_some_and(|m| m.is_positive()) || !self.remitted.contains_key(&v.claim) {
                continue;
            }
            let id = ClaimId::from_uuid(uuid::Uuid::from_u128(0xC5_0000 + vi as u128));
            let control = format!(
                "{}S",
                self.claims
                    .get(v.claim)
                    .map(|c| c.control_number.expose().clone())
                    .unwrap_or_default()
            );
            let draft = ClaimDraft {
                id,
                payer: self.clinic.orgs[sec.payer],
                coverage: sec.coverage,
                control_number: control,
                charges: &[],
            };
            self.claims
                .build_secondary(
                    &mut self.books,
                    v.claim,
                    draft,
                    &billing_desk(),
                    at(month_end, 14),
                )
                .map_err(err)?;
            self.secondaries.push((id, vi, v.claim));
            second.push(id);
        }
        Ok(second)
    }

    /// Patients pay what is left; adjudicated claims close.
    fn settle(&mut self, pay_day: Timestamp) -> Result<(), String> {
        for (i, p) in self.patients.iter().enumerate() {
            let account = self.books.patient_account(p.id).map_err(err)?;
            let owed = self
                .books
                .ledger
                .balance(account)
                .map(|b| b.posted)
                .unwrap_or(Money::zero(Currency::USD));
            if owed.is_positive() {
                let payment = PatientPayment {
                    id: PaymentId::from_uuid(uuid::Uuid::from_u128(0xFA_0000 + i as u128)),
                    patient: p.id,
                    amount: owed,
                    method: PaymentMethod::Cash,
                    received_at: pay_day,
                };
                self.books
                    .record_patient_payment(&payment, &billing_desk())
                    .map_err(err)?;
            }
        }
        let ids: Vec<ClaimId> = self.claims.iter().map(|c| c.id).collect();
        for id in ids {
            if self.claims.get(id).is_some_and(|c| {
                c.status.can_move_to(ClaimStatus::Closed) && c.adjudication.is_some()
            }) {
                self.claims
                    .transition(id, ClaimStatus::Closed, pay_day)
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    /// Every payer remits what it holds; each 835 is posted and its adjudications recorded.
    fn remit(&mut self, paid_on: NaiveDate, label: &str) -> Result<(), String> {
        let when = at(paid_on, 12);
        let importer = bedside_core::Actor::System {
            component: "remittance-import".into(),
        };
        for k in 0..self.clinic.payers.len() {
            self.next_control_in += 1;
            let bytes = self.clinic.payers[k].remit(paid_on, self.next_control_in, when);
            if bytes.is_empty() {
                continue;
            }
            let r = parse(&bytes);
            for tx in &r.transactions {
                if !validate(tx).is_empty() {
                    self.unbalanced += 1;
                    continue;
                }
                let summary = self
                    .poster
                    .post_and_record(&mut self.books, &mut self.claims, tx, &importer, when)
                    .map_err(err)?;
                if let Some((claim, status)) = summary.not_recorded.first() {
                    return Err(format!(
                        "claim {claim} ({status}) could not record its adjudication"
                    ));
                }
                for clp in &tx.claims {
                    if let Some(t) = self.claims.find(clp.control_number.expose()) {
                        let _ = self
                            .claims
                            .record_payer_claim_number(t.claim, clp.payer_control_number.expose());
                        self.remitted.insert(t.claim, (clp.clone(), paid_on));
                    }
                }
            }
            let id = self.clinic.payers[k].payer().payer_id.clone();
            self.file(format!("{label}-{id}.835"), FileKind::Remit835, bytes);
        }
        Ok(())
    }
}

fn visit_date(v: usize, visits: usize, start: NaiveDate) -> NaiveDate {
    start + chrono::Duration::days((v * 27 / visits.max(1)) as i64)
}

/// Prices, captures and builds the claims of visits `range`.
fn build_visits(
    s: &mut State,
    rng: &mut SeededRng,
    range: std::ops::Range<usize>,
    visits: usize,
    start: NaiveDate,
) -> Result<(), String> {
    for v in range {
        let patient = v % s.patients.len();
        let date = visit_date(v, visits, start);
        let n_dx = 1 + rng.index(4);
        let mut dx: Vec<&str> = Vec::new();
        while dx.len() < n_dx {
            let d = DIAGNOSES[rng.index(DIAGNOSES.len())];
            if !dx.contains(&d) {
                dx.push(d);
            }
        }
        s.visits.push(Visit {
            patient,
            claim: ClaimId::from_uuid(uuid::Uuid::from_u128(0xC0_0000 + v as u128)),
            diagnoses: dx
                .iter()
                .map(|d| DiagnosisCode::parse(d))
                .collect::<Result<_, _>>()
                .map_err(err)?,
            place: if rng.chance(0.15) {
                PlaceOfService::TELEHEALTH
            } else {
                PlaceOfService::OFFICE
            },
            rendering: rng.index(3),
            typo: v == 7,
        });
        let medicare = s.patients[patient].primary.payer == 2;
        let em = ["99213", "99214", "99203"][rng.index(3)];
        let mut lines: Vec<(&str, Vec<&str>, u32)> = vec![(em, vec![], 1)];
        match rng.index(5) {
            0 => lines.push(("93000", vec![], 1)),
            1 => lines.extend([("36415", vec![], 1), ("87880", vec![], 1)]),
            2 if medicare => lines.push(("G0008", vec![], 1)),
            2 => lines.extend([("90686", vec![], 1), ("90471", vec![], 1)]),
            3 => lines.push(("97110", vec!["GP"], 2)),
            _ => {}
        }
        if lines.len() > 1 {
            lines[0].1.push("25");
        }
        let mut charges = Vec::new();
        for (i, (code, mods, units)) in lines.iter().enumerate() {
            let pointers = (1..=n_dx.min(4) as u8)
                .skip(i % n_dx.min(4))
                .take(2)
                .collect::<Vec<_>>();
            let pointers = if pointers.is_empty() {
                vec![1]
            } else {
                pointers
            };
            let line = SimLine {
                code,
                modifiers: mods,
                units: *units,
                date,
                pointers,
            };
            charges.push(s.charge(v, line, at(date, 17))?);
        }
        let p = &s.patients[patient];
        let draft = ClaimDraft {
            id: s.visits[v].claim,
            payer: s.clinic.orgs[p.primary.payer],
            coverage: p.primary.coverage,
            control_number: format!("BSD{:05}", v + 1),
            charges: &charges,
        };
        s.claims
            .build(&mut s.books, draft, at(date, 18))
            .map_err(err)?;
    }
    Ok(())
}

/// Runs a clinic month of `visits` visits (at least 50 makes a useful run) from `seed`.
///
/// # Errors
/// A description of the first step that failed (a bug in the simulation or the crate).
// Over 100 lines, not split: the month as a list of phases, each a call; its length is the script of the month.
pub fn run_month(seed: u64, visits: usize, start: NaiveDate) -> Result<MonthRun, String> {
    let mut rng = SeededRng::new(seed);
    let clinic = clinic().map_err(err)?;
    let mut fees = FeeSchedule::new();
    for (code, price, description) in FEES {
        fees.set(
            ProcedureCode::parse(code).map_err(err)?,
            None,
            Money::new(price, Currency::USD),
            description,
        );
    }
    let books = Books::open(Currency::USD).map_err(err)?;
    let poster = RemittancePoster::new(books.clinic);
    let patients = patients(&mut rng, (visits * 2 / 3).max(1)).map_err(err)?;
    let mut s = State {
        clinic,
        books,
        claims: ClaimBook::new(),
        submissions: Submissions::new(),
        acks: Acknowledgements::new(),
        poster,
        fees,
        patients,
        visits: Vec::new(),
        remitted: HashMap::new(),
        secondaries: Vec::new(),
        files: Vec::new(),
        claims_written: 0,
        unbalanced: 0,
        next_control_in: 0,
        next_charge: 0,
    };
    for p in &s.patients {
        s.clinic.payers[p.primary.payer].enrol(p.primary.subscriber.member_id.expose());
        if let Some(c) = &p.secondary {
            s.clinic.payers[c.payer].enrol(c.subscriber.member_id.expose());
        }
    }
    let mut built = 0;
    // Weekly batches; rejected claims go again with the next batch once fixed.
    let mut replaced = 0;
    let mut voided = 0;
    for week in 0..4u32 {
        let from = start + chrono::Duration::days(i64::from(week) * 7);
        let to = from + chrono::Duration::days(7);
        let mut upto = built;
        while upto < visits && (week == 3 || visit_date(upto, visits, start) < to) {
            upto += 1;
        }
        build_visits(&mut s, &mut rng, built..upto, visits, start)?;
        built = upto;
        let mut ids: Vec<ClaimId> = s
            .visits
            .iter()
            .map(|v| v.claim)
            .filter(|id| {
                s.claims.get(*id).is_some_and(|c| {
                    let d = c.lines[0].date_of_service;
                    (c.status == ClaimStatus::Draft && d >= from && (d < to || week == 3))
                        || c.status == ClaimStatus::Rejected
                })
            })
            .collect();
        ids.sort();
        let when = at(to, 8);
        s.submit(&format!("week{}", week + 1), &ids, when)?;
        if week == 1 {
            // Corrections: three claims coded too low are replaced, two billed in error are
            // voided.
            let (r, v, out) = s.correct(when)?;
            replaced += r;
            voided += v;
            s.submit("corrections", &out, when + chrono::Duration::hours(2))?;
        }
    }
    let month_end = start + chrono::Duration::days(30);
    // Claims rejected by the last week's 277CAs go again, fixed, before the month closes.
    let rejected: Vec<ClaimId> = s
        .visits
        .iter()
        .map(|v| v.claim)
        .filter(|id| {
            s.claims
                .get(*id)
                .is_some_and(|c| c.status == ClaimStatus::Rejected)
        })
        .collect();
    let when = at(month_end - chrono::Duration::days(1), 8);
    s.submit("resubmitted", &rejected, when)?;
    s.remit(month_end, "primary")?;
    // Secondary claims for what the primaries left to patients with a second coverage.
    let second = s.bill_secondaries(month_end)?;
    let sec_when = at(month_end + chrono::Duration::days(1), 8);
    s.submit("secondary", &second, sec_when)?;
    s.remit(month_end + chrono::Duration::days(15), "secondary")?;
    // Patients pay what is left; adjudicated claims close.
    let pay_day = at(month_end + chrono::Duration::days(20), 10);
    s.settle(pay_day)?;
    let due: Vec<&crate::claim::Claim> = s
        .claims
        .iter()
        .filter(|c| {
            c.status != ClaimStatus::Replaced && c.frequency != crate::claim::ClaimFrequency::Void
        })
        .collect();
    let claims_due = due.len();
    let claims_posted = due.iter().filter(|c| c.adjudication.is_some()).count();
    let claims_open = s
        .claims
        .iter()
        .filter(|c| !matches!(c.status, ClaimStatus::Closed | ClaimStatus::Replaced))
        .count();
    let _ = month_end.day();
    Ok(MonthRun {
        files: s.files,
        claims_written: s.claims_written,
        claims_due,
        claims_posted,
        claims_open,
        remittances_unbalanced: s.unbalanced,
        corrections: (replaced, voided),
        rejections: s.acks.work_queue().len(),
        books: s.books,
        claims: s.claims,
        submissions: s.submissions,
    })
}
