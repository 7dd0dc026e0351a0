//! Coverage-aware patient responsibility: deductible, copay, coinsurance (basis points) and the
//! out-of-pocket maximum; pre-visit estimates; the No Surprises Act good-faith estimate for
//! self-pay patients with its $400 dispute threshold.
//!
//! Order of cost sharing per service (a common plan design, documented so estimates can be
//! explained): the copay applies first and does not count toward the deductible; the rest of
//! the allowed amount goes to the deductible until it is met; coinsurance applies to what is
//! left. The patient's total is capped by what remains of the out-of-pocket maximum; a cap
//! reduces coinsurance first, then deductible, then copay.

use crate::money::{BasisPoints, Currency, Money, MoneyError};
use serde::{Deserialize, Serialize};

/// A plan's cost-sharing terms for one benefit year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefits {
    /// Annual deductible.
    pub deductible: Money,
    /// Copay per service.
    pub copay: Money,
    /// Coinsurance after the deductible.
    pub coinsurance: BasisPoints,
    /// Annual out-of-pocket maximum.
    pub out_of_pocket_max: Money,
}

/// What the patient has paid toward the year's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accumulators {
    /// Deductible met so far.
    pub deductible_met: Money,
    /// Out-of-pocket spending so far.
    pub out_of_pocket_met: Money,
}

impl Accumulators {
    /// Nothing met yet.
    pub fn zero(currency: Currency) -> Self {
        Self {
            deductible_met: Money::zero(currency),
            out_of_pocket_met: Money::zero(currency),
        }
    }
}

/// The split of one allowed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responsibility {
    /// The allowed amount.
    pub allowed: Money,
    /// Copay.
    pub copay: Money,
    /// Deductible.
    pub deductible: Money,
    /// Coinsurance.
    pub coinsurance: Money,
    /// Copay + deductible + coinsurance.
    pub patient: Money,
    /// Allowed − patient.
    pub payer: Money,
}

/// Splits an allowed amount between patient and payer and advances the accumulators.
///
/// # Errors
/// [`MoneyError`] on currency mismatch or overflow.
pub fn responsibility(
    allowed: Money,
    benefits: &Benefits,
    accumulators: &mut Accumulators,
) -> Result<Responsibility, MoneyError> {
    let allowed_pos = allowed.clamp_non_negative();
    let copay = benefits.copay.clamp_non_negative().min(allowed_pos)?;
    let after_copay = allowed_pos.checked_sub(copay)?;
    let deductible_left = benefits
        .deductible
        .checked_sub(accumulators.deductible_met)?
        .clamp_non_negative();
    let mut deductible = after_copay.min(deductible_left)?;
    let rest = after_copay.checked_sub(deductible)?;
    let mut coinsurance = rest.mul_bps(benefits.coinsurance)?;
    let mut copay = copay;
    let oop_left = benefits
        .out_of_pocket_max
        .checked_sub(accumulators.out_of_pocket_met)?
        .clamp_non_negative();
    let mut patient = copay.checked_add(deductible)?.checked_add(coinsurance)?;
    if patient.amount_minor() > oop_left.amount_minor() {
        let mut excess = patient.checked_sub(oop_left)?;
        for part in [&mut coinsurance, &mut deductible, &mut copay] {
            let cut = excess.min(*part)?;
            *part = part.checked_sub(cut)?;
            excess = excess.checked_sub(cut)?;
        }
        patient = oop_left;
    }
    accumulators.deductible_met = accumulators.deductible_met.checked_add(deductible)?;
    accumulators.out_of_pocket_met = accumulators.out_of_pocket_met.checked_add(patient)?;
    Ok(Responsibility {
        allowed: allowed_pos,
        copay,
        deductible,
        coinsurance,
        patient,
        payer: allowed_pos.checked_sub(patient)?,
    })
}

/// One line of an estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateLine {
    /// Plain-language description.
    pub description: String,
    /// Procedure code.
    pub code: String,
    /// Expected charge.
    pub charge: Money,
    /// The split (for insured patients; for self-pay the patient owes the whole charge).
    pub split: Responsibility,
}

/// A pre-visit estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Lines.
    pub lines: Vec<EstimateLine>,
    /// What the patient is expected to owe.
    pub patient_total: Money,
    /// What the payer is expected to pay.
    pub payer_total: Money,
    /// Whether this is a good-faith estimate for a self-pay or uninsured patient.
    pub good_faith: bool,
}

/// One expected service: description, code, expected charge and (for insured patients) the
/// allowed amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedService {
    /// Plain-language description.
    pub description: String,
    /// Procedure code.
    pub code: String,
    /// Expected charge.
    pub charge: Money,
    /// The payer's allowed amount (ignored for self-pay).
    pub allowed: Money,
}

/// Estimates before the visit. With no coverage the result is a good-faith estimate of the
/// full charges.
///
/// # Errors
/// [`MoneyError`] on currency mismatch or overflow.
pub fn estimate(
    services: &[ExpectedService],
    coverage: Option<(&Benefits, Accumulators)>,
    currency: Currency,
) -> Result<Estimate, MoneyError> {
    let mut lines = Vec::with_capacity(services.len());
    let mut patient_total = Money::zero(currency);
    let mut payer_total = Money::zero(currency);
    let mut acc = coverage.map(|(_, a)| a);
    for s in services {
        let split = match (coverage, acc.as_mut()) {
            (Some((b, _)), Some(a)) => responsibility(s.allowed, b, a)?,
            _ => Responsibility {
                allowed: s.charge,
                copay: Money::zero(currency),
                deductible: Money::zero(currency),
                coinsurance: Money::zero(currency),
                patient: s.charge,
                payer: Money::zero(currency),
            },
        };
        patient_total = patient_total.checked_add(split.patient)?;
        payer_total = payer_total.checked_add(split.payer)?;
        lines.push(EstimateLine {
            description: s.description.clone(),
            code: s.code.clone(),
            charge: s.charge,
            split,
        });
    }
    Ok(Estimate {
        lines,
        patient_total,
        payer_total,
        good_faith: coverage.is_none(),
    })
}

/// The outcome of comparing a bill with its good-faith estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeCheck {
    /// Billed − estimated.
    pub over_estimate: Money,
    /// Whether the bill is at least $400 above the estimate, so the patient may start the
    /// federal patient-provider dispute resolution process.
    pub dispute_eligible: bool,
}

/// The No Surprises Act threshold, in major units.
pub const DISPUTE_THRESHOLD_MAJOR: i64 = 400;

/// Compares billed charges with a good-faith estimate.
///
/// # Errors
/// [`MoneyError`] on currency mismatch or overflow.
pub fn dispute_check(estimate: &Estimate, billed: Money) -> Result<DisputeCheck, MoneyError> {
    let over = billed.checked_sub(estimate.patient_total)?;
    let threshold = Money::from_major(DISPUTE_THRESHOLD_MAJOR, billed.currency())?;
    Ok(DisputeCheck {
        over_estimate: over,
        dispute_eligible: estimate.good_faith && over.amount_minor() >= threshold.amount_minor(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(m: i64) -> Money {
        Money::new(m, Currency::USD)
    }

    fn plan() -> Benefits {
        Benefits {
            deductible: usd(50_000),
            copay: usd(2_500),
            coinsurance: BasisPoints::percent(20),
            out_of_pocket_max: usd(100_000),
        }
    }

    #[test]
    fn cost_sharing_cases() {
        // (allowed, deductible met, oop met) -> (copay, deductible, coinsurance, patient)
        let cases = [
            ((20_000, 0, 0), (2_500, 17_500, 0, 20_000)),
            ((80_000, 0, 0), (2_500, 50_000, 5_500, 58_000)),
            ((80_000, 50_000, 0), (2_500, 0, 15_500, 18_000)),
            ((80_000, 50_000, 95_000), (2_500, 0, 2_500, 5_000)),
            ((80_000, 50_000, 100_000), (0, 0, 0, 0)),
            ((1_000, 0, 0), (1_000, 0, 0, 1_000)),
        ];
        for ((allowed, ded, oop), (copay, deductible, coins, patient)) in cases {
            let mut acc = Accumulators {
                deductible_met: usd(ded),
                out_of_pocket_met: usd(oop),
            };
            let r = responsibility(usd(allowed), &plan(), &mut acc);
            let r = r.map(|r| {
                (
                    r.copay.amount_minor(),
                    r.deductible.amount_minor(),
                    r.coinsurance.amount_minor(),
                    r.patient.amount_minor(),
                    r.payer.amount_minor(),
                )
            });
            assert_eq!(
                r,
                Ok((copay, deductible, coins, patient, allowed - patient)),
                "{allowed} {ded} {oop}"
            );
            assert_eq!(acc.out_of_pocket_met, usd(oop + patient));
        }
    }

    #[test]
    fn good_faith_estimate_and_dispute_threshold() {
        let services = [ExpectedService {
            description: "MRI".into(),
            code: "70551".into(),
            charge: usd(120_000),
            allowed: usd(0),
        }];
        let gfe = estimate(&services, None, Currency::USD).unwrap_or_else(|_| Estimate {
            lines: vec![],
            patient_total: usd(0),
            payer_total: usd(0),
            good_faith: false,
        });
        assert!(gfe.good_faith);
        assert_eq!(gfe.patient_total, usd(120_000));
        let check = |billed| dispute_check(&gfe, usd(billed)).map(|d| d.dispute_eligible);
        assert_eq!(check(159_999), Ok(false));
        assert_eq!(check(160_000), Ok(true));
        let insured = estimate(
            &services,
            Some((&plan(), Accumulators::zero(Currency::USD))),
            Currency::USD,
        );
        assert_eq!(insured.map(|e| e.good_faith), Ok(false));
    }
}
