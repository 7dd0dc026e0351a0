//! The balancing rules of an 835: `CLP03 − ΣCAS = CLP04` per claim (claim- and service-level
//! adjustments), `SVC02 − ΣCAS = SVC03` per service line, and `ΣCLP04 − ΣPLB = BPR02` per
//! transaction. A remittance that breaks one is never posted.

use super::read835::Transaction;
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// A broken balancing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// Occurs when `CLP03 − ΣCAS ≠ CLP04`.
    #[error(
        "claim at segment {segment}: charge {charge} minus adjustments {adjustments} is not payment {paid}"
    )]
    Claim {
        /// Segment of the CLP.
        segment: usize,
        /// CLP03.
        charge: Money,
        /// ΣCAS.
        adjustments: Money,
        /// CLP04.
        paid: Money,
    },
    /// Occurs when `SVC02 − ΣCAS ≠ SVC03`.
    #[error(
        "service at segment {segment}: charge {charge} minus adjustments {adjustments} is not payment {paid}"
    )]
    Service {
        /// Segment of the SVC.
        segment: usize,
        /// SVC02.
        charge: Money,
        /// ΣCAS on the line.
        adjustments: Money,
        /// SVC03.
        paid: Money,
    },
    /// Occurs when `ΣCLP04 − ΣPLB ≠ BPR02`.
    #[error(
        "transaction at segment {segment}: claim payments {claims} minus provider adjustments {provider} is not {payment}"
    )]
    Payment {
        /// Segment of the ST.
        segment: usize,
        /// ΣCLP04.
        claims: Money,
        /// ΣPLB.
        provider: Money,
        /// BPR02.
        payment: Money,
    },
    /// Occurs when a sum overflows.
    #[error("amounts at segment {segment} overflow")]
    Overflow {
        /// Segment.
        segment: usize,
    },
}

fn sum<'a>(items: impl Iterator<Item = &'a Money>) -> Option<Money> {
    let mut total = Money::zero(Currency::USD);
    for m in items {
        total = total.checked_add(*m).ok()?;
    }
    Some(total)
}

/// Checks the balancing rules of one transaction; returns every broken rule.
pub fn validate(tx: &Transaction) -> Vec<BalanceError> {
    let mut errors = Vec::new();
    for c in &tx.claims {
        let Some(adj) = sum(c.all_adjustments().map(|a| &a.amount)) else {
            errors.push(BalanceError::Overflow { segment: c.segment });
            continue;
        };
        if c.charge.checked_sub(adj).ok() != Some(c.paid) {
            errors.push(BalanceError::Claim {
                segment: c.segment,
                charge: c.charge,
                adjustments: adj,
                paid: c.paid,
            });
        }
        for s in &c.services {
            let Some(adj) = sum(s.adjustments.iter().map(|a| &a.amount)) else {
                errors.push(BalanceError::Overflow { segment: s.segment });
                continue;
            };
            if s.charge.checked_sub(adj).ok() != Some(s.paid) {
                errors.push(BalanceError::Service {
                    segment: s.segment,
                    charge: s.charge,
                    adjustments: adj,
                    paid: s.paid,
                });
            }
        }
    }
    match (
        sum(tx.claims.iter().map(|c| &c.paid)),
        sum(tx.provider_adjustments.iter().map(|p| &p.amount)),
    ) {
        (Some(claims), Some(provider)) => {
            if claims.checked_sub(provider).ok() != Some(tx.payment) {
                errors.push(BalanceError::Payment {
                    segment: tx.segment,
                    claims,
                    provider,
                    payment: tx.payment,
                });
            }
        }
        _ => errors.push(BalanceError::Overflow {
            segment: tx.segment,
        }),
    }
    errors
}
