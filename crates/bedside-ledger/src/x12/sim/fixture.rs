//! [`ClaimFixture`]: many ready-to-write primary claims from the synthetic clinic, for
//! throughput benches and property tests of the 837P writer.

use super::cast::{DIAGNOSES, FEES, at, clinic, err, patients};
use crate::books::Books;
use crate::charge::{BillTo, ChargeId, ChargeRequest, FeeSchedule, Modifier, ProcedureCode};
use crate::claim::{Claim, ClaimBook, ClaimDraft};
use crate::money::{Currency, Money};
use crate::x12::envelope::EnvelopeParties;
use crate::x12::party::{
    BillingProvider, DiagnosisCode, Payer, PlaceOfService, RenderingProvider, Submitter, Subscriber,
};
use crate::x12::write837::{Batch, ClaimInput};
use bedside_core::{ClaimId, EncounterId, ProviderId, SeededRng};
use chrono::NaiveDate;

/// Owned parties and claims; [`ClaimFixture::inputs`] borrows them as [`ClaimInput`]s.
#[derive(Debug)]
pub struct ClaimFixture {
    /// Envelope parties.
    pub parties: EnvelopeParties,
    /// Submitter and receiver.
    pub submitter: Submitter,
    /// Billing provider.
    pub billing: BillingProvider,
    /// Clinicians.
    pub rendering: Vec<RenderingProvider>,
    /// Payers.
    pub payers: Vec<Payer>,
    /// `(payer index, subscriber)` per patient.
    pub subscribers: Vec<(usize, Subscriber)>,
    /// Diagnoses per claim.
    pub diagnoses: Vec<Vec<DiagnosisCode>>,
    /// The claims, each for patient `i % subscribers.len()`.
    pub claims: Vec<Claim>,
    /// The claim book they were built in (drafts), for acknowledgement tests.
    pub book: ClaimBook,
}

impl ClaimFixture {
    /// `n` primary claims of one to three lines each, over 1 000 patients and four payers,
    /// built and captured through [`ClaimBook`] and [`Books`].
    ///
    /// # Errors
    /// A description of the first step that failed.
    pub fn new(seed: u64, n: usize) -> Result<Self, String> {
        let mut rng = SeededRng::new(seed);
        let c = clinic().map_err(err)?;
        let people = patients(&mut rng, 1_000.min(n.max(1))).map_err(err)?;
        let mut fees = FeeSchedule::new();
        for (code, price, description) in FEES {
            let code = ProcedureCode::parse(code).map_err(err)?;
            fees.set(code, None, Money::new(price, Currency::USD), description);
        }
        let mut books = Books::open(Currency::USD).map_err(err)?;
        let mut book = ClaimBook::new();
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).ok_or("date")?;
        let when = at(date, 18);
        let modifier = Modifier::parse("25").map_err(err)?;
        let mut ids = Vec::with_capacity(n);
        let mut diagnoses = Vec::with_capacity(n);
        for i in 0..n {
            let p = &people[i % people.len()];
            let lines = 1 + rng.index(3);
            let mut charges = Vec::with_capacity(lines);
            for l in 0..lines {
                let (code, _, _) = FEES[(i + l * 3) % FEES.len()];
                let req = ChargeRequest {
                    patient: p.id,
                    encounter: EncounterId::from_uuid(uuid::Uuid::from_u128(
                        0xE1_0000_0000 + i as u128,
                    )),
                    code: ProcedureCode::parse(code).map_err(err)?,
                    modifiers: if l == 0 && lines > 1 {
                        vec![modifier]
                    } else {
                        vec![]
                    },
                    units: 1,
                    date_of_service: date,
                    rendering_provider: ProviderId::from_uuid(uuid::Uuid::from_u128(7)),
                    diagnosis_pointers: vec![1],
                };
                let id = ChargeId::from_uuid(uuid::Uuid::from_u128(
                    0xCF_0000_0000 + (i * 4 + l) as u128,
                ));
                let charge = fees.price(id, req).map_err(err)?;
                books
                    .capture_charge(
                        &charge,
                        BillTo::Payer(c.orgs[p.primary.payer]),
                        &super::month::billing_desk(),
                        when,
                    )
                    .map_err(err)?;
                charges.push(charge);
            }
            let id = ClaimId::from_uuid(uuid::Uuid::from_u128(0xCE_0000_0000 + i as u128));
            let draft = ClaimDraft {
                id,
                payer: c.orgs[p.primary.payer],
                coverage: p.primary.coverage,
                control_number: format!("BF{i:08}"),
                charges: &charges,
            };
            book.build(&mut books, draft, when).map_err(err)?;
            ids.push(id);
            let d = DIAGNOSES[i % DIAGNOSES.len()];
            diagnoses.push(vec![DiagnosisCode::parse(d).map_err(err)?]);
        }
        let claims = ids
            .iter()
            .map(|id| book.get(*id).cloned().ok_or("claim"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            parties: c.parties,
            submitter: c.submitter,
            billing: c.billing,
            rendering: c.rendering,
            payers: c.payers.iter().map(|p| p.payer().clone()).collect(),
            subscribers: people
                .into_iter()
                .map(|p| (p.primary.payer, p.primary.subscriber))
                .collect(),
            diagnoses,
            claims,
            book,
        })
    }

    /// Every claim as a writer input.
    pub fn inputs(&self) -> Vec<ClaimInput<'_>> {
        self.claims
            .iter()
            .enumerate()
            .map(|(i, claim)| {
                let (payer, subscriber) = &self.subscribers[i % self.subscribers.len()];
                ClaimInput {
                    claim,
                    payer: &self.payers[*payer],
                    subscriber,
                    diagnoses: &self.diagnoses[i],
                    place_of_service: PlaceOfService::OFFICE,
                    rendering: self.rendering.get(i % 3),
                    prior: None,
                }
            })
            .collect()
    }

    /// A batch of `inputs` from this clinic.
    pub fn batch<'a>(&'a self, inputs: &'a [ClaimInput<'a>]) -> Batch<'a> {
        Batch {
            parties: &self.parties,
            submitter: &self.submitter,
            billing: &self.billing,
            claims: inputs,
        }
    }
}
