//! The synthetic clinic's cast: the clinic and its clinicians, five payers with their plans,
//! patients with primary (and some secondary) coverage, the fee schedule and diagnoses.

use super::{PayerSimulator, Plan};
use crate::coverage::Benefits;
use crate::money::{BasisPoints, Currency, Money};
use crate::x12::envelope::{EnvelopeParties, Usage, WriteError};
use crate::x12::party::{
    Address, BillingProvider, ClaimFiling, DiagnosisCode, Npi, Payer, Person, PlaceOfService,
    Relationship, RenderingProvider, Sex, Submitter, Subscriber, TaxId, Taxonomy,
};
use bedside_core::{ClaimId, CoverageId, OrganisationId, PatientId, SeededRng, Timestamp};
use chrono::NaiveDate;

#[derive(Debug, Clone)]
pub(super) struct Coverage {
    pub(super) payer: usize,
    pub(super) subscriber: Subscriber,
    pub(super) coverage: CoverageId,
}

#[derive(Debug, Clone)]
pub(super) struct SimPatient {
    pub(super) id: PatientId,
    pub(super) primary: Coverage,
    pub(super) secondary: Option<Coverage>,
}

#[derive(Debug, Clone)]
pub(super) struct Visit {
    pub(super) patient: usize,
    pub(super) claim: ClaimId,
    pub(super) diagnoses: Vec<DiagnosisCode>,
    pub(super) place: PlaceOfService,
    pub(super) rendering: usize,
    /// The first submission carries a mistyped member id.
    pub(super) typo: bool,
}

pub(super) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub(super) fn npi(base: u32) -> Result<Npi, String> {
    (0..10)
        .find_map(|d| Npi::parse(&format!("{base:09}{d}")).ok())
        .ok_or_else(|| "no npi".to_string())
}

pub(super) fn at(date: NaiveDate, hour: u32) -> Timestamp {
    date.and_hms_opt(hour, 0, 0).unwrap_or_default().and_utc()
}

pub(super) const FEES: [(&str, i64, &str); 11] = [
    (
        "99213",
        15_000,
        "Office visit, established patient, low complexity",
    ),
    (
        "99214",
        22_000,
        "Office visit, established patient, moderate complexity",
    ),
    (
        "99215",
        30_000,
        "Office visit, established patient, high complexity",
    ),
    ("99203", 20_000, "Office visit, new patient"),
    ("93000", 6_000, "Electrocardiogram"),
    ("36415", 1_500, "Blood draw"),
    ("87880", 3_500, "Rapid strep test"),
    ("90471", 3_000, "Vaccine administration"),
    ("90686", 4_500, "Influenza vaccine"),
    (
        "G0008",
        3_500,
        "Influenza vaccine administration (Medicare)",
    ),
    ("97110", 9_000, "Therapeutic exercise, 15 minutes"),
];

pub(super) const DIAGNOSES: [&str; 10] = [
    "J06.9", "J20.9", "E11.9", "I10", "Z00.00", "M54.50", "R05.9", "Z23", "F41.1", "E78.5",
];

pub(super) const LAST: [&str; 8] = [
    "GARCIA", "NGUYEN", "O'BRIEN", "SMITH", "MÜLLER", "OKAFOR", "LI", "COHEN",
];
pub(super) const FIRST: [&str; 8] = ["ANA", "MINH", "SEAN", "JOAN", "LUKAS", "ADA", "WEI", "NOAH"];

pub(super) struct Clinic {
    pub(super) parties: EnvelopeParties,
    pub(super) submitter: Submitter,
    pub(super) billing: BillingProvider,
    pub(super) rendering: Vec<RenderingProvider>,
    pub(super) payers: Vec<PayerSimulator>,
    pub(super) orgs: Vec<OrganisationId>,
}

pub(super) fn clinic() -> Result<Clinic, WriteError> {
    let addr = |l: &str, z: &str| Address::new(l, None, "SPRINGFIELD", "IL", z);
    let billing = BillingProvider::new(
        "BEDSIDE FAMILY CLINIC",
        Npi::parse("1234567893")?,
        TaxId::parse("12-3456789")?,
        Some(Taxonomy::parse("207Q00000X")?),
        addr("100 MAIN STREET", "627011234")?,
    )?;
    let rendering = (0..3)
        .map(|i| {
            Ok(RenderingProvider {
                last: ["HOUSE", "QUINN", "WELBY"][i].to_string(),
                first: ["GREGORY", "MICHAELA", "MARCUS"][i].to_string(),
                npi: npi(165_432_100 + i as u32)
                    .map_err(|_| WriteError::InvalidField { field: "npi" })?,
                taxonomy: Some(Taxonomy::parse("207Q00000X")?),
            })
        })
        .collect::<Result<Vec<_>, WriteError>>()?;
    let usd = |m| Money::new(m, Currency::USD);
    let plan = |allowed: u16, deductible, copay, coinsurance: u16| Plan {
        allowed: BasisPoints::percent(allowed),
        benefits: Benefits {
            deductible: usd(deductible),
            copay: usd(copay),
            coinsurance: BasisPoints::percent(coinsurance),
            out_of_pocket_max: usd(300_000),
        },
    };
    let payers = vec![
        PayerSimulator::new(
            Payer::new("ACME COMMERCIAL", "ACME1", ClaimFiling::Commercial)?,
            plan(80, 50_000, 2_500, 20),
        ),
        PayerSimulator::new(
            Payer::new("BLUE SHIELD OF ILLINOIS", "BSIL1", ClaimFiling::BlueCross)?,
            plan(75, 25_000, 3_000, 10),
        ),
        PayerSimulator::new(
            Payer::new("MEDICARE PART B", "MCRB1", ClaimFiling::MedicarePartB)?,
            plan(60, 24_000, 0, 20),
        ),
        PayerSimulator::new(
            Payer::new("STATE MEDICAID", "MCAID", ClaimFiling::Medicaid)?,
            plan(50, 0, 0, 0),
        ),
        PayerSimulator::new(
            Payer::new("MEDIGAP SUPPLEMENT", "MGAP1", ClaimFiling::Commercial)?,
            plan(100, 0, 0, 0),
        ),
    ];
    let orgs = (0..payers.len())
        .map(|i| OrganisationId::from_uuid(uuid::Uuid::from_u128(0xBA_0000 + i as u128)))
        .collect();
    Ok(Clinic {
        parties: EnvelopeParties::new(
            "BEDSIDECLINIC",
            "CLEARINGHOUSE",
            "BEDSIDECLINIC",
            "CLEARINGHOUSE",
            Usage::Production,
        )?,
        submitter: Submitter::new(
            "BEDSIDE FAMILY CLINIC",
            "BEDSIDE01",
            "BILLING OFFICE",
            "217-555-0100",
            ("CLEARINGHOUSE", "CH0001"),
        )?,
        billing,
        rendering,
        payers,
        orgs,
    })
}

pub(super) fn person(rng: &mut SeededRng, born: i32) -> Result<Person, WriteError> {
    let address = Address::new(
        &format!("{} OAK STREET", 10 + rng.below(900)),
        rng.chance(0.3).then_some("APT 2"),
        "SPRINGFIELD",
        "IL",
        "62704",
    )?;
    let birth = NaiveDate::from_ymd_opt(born, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
        .unwrap_or_default();
    let sex = [Sex::Female, Sex::Male, Sex::Unknown][rng.index(3).min(2)];
    Person::new(
        LAST[rng.index(LAST.len())],
        FIRST[rng.index(FIRST.len())],
        birth,
        sex,
        address,
    )
}

pub(super) fn patients(rng: &mut SeededRng, n: usize) -> Result<Vec<SimPatient>, WriteError> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = PatientId::from_uuid(uuid::Uuid::from_u128(0x9A_0000 + i as u128));
        let payer = rng.index(4);
        let medicare = payer == 2;
        let born = if medicare {
            1945 + rng.below(15) as i32
        } else {
            1970 + rng.below(30) as i32
        };
        let member = format!("M{:02}{:06}", payer, 100_000 + i);
        let group = (!medicare && payer != 3).then(|| format!("GRP{}", 100 + payer));
        let subscriber_person = person(rng, born)?;
        let subscriber = if !medicare && rng.chance(0.25) {
            let born = 2012 + rng.below(10) as i32;
            let child = person(rng, born)?;
            Subscriber::with_dependant(
                subscriber_person,
                &member,
                group.as_deref(),
                Relationship::Child,
                child,
            )?
        } else {
            Subscriber::patient_self(subscriber_person, &member, group.as_deref())?
        };
        let secondary_payer = match payer {
            2 if rng.chance(0.6) => Some(4),
            0 | 1 if rng.chance(0.2) => Some(1 - payer),
            _ => None,
        };
        let secondary = match secondary_payer {
            Some(p) => {
                let member = format!("S{:02}{:06}", p, 100_000 + i);
                let sub = Subscriber {
                    member_id: bedside_core::Sensitive::new(member),
                    group_number: None,
                    ..subscriber.clone()
                };
                Some(Coverage {
                    payer: p,
                    subscriber: sub,
                    coverage: CoverageId::from_uuid(uuid::Uuid::from_u128(0xC2_0000 + i as u128)),
                })
            }
            None => None,
        };
        out.push(SimPatient {
            id,
            primary: Coverage {
                payer,
                subscriber,
                coverage: CoverageId::from_uuid(uuid::Uuid::from_u128(0xC1_0000 + i as u128)),
            },
            secondary,
        });
    }
    Ok(out)
}
