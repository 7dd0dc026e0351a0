//! The patient side: payments (card, cash, cheque), credit balances routed to a refund queue,
//! and payment plans with instalment schedules, autopay dates, missed-payment detection and
//! re-planning.

use crate::books::Books;
use crate::chart;
use crate::ledger::{Applied, EntryId, LedgerError, NewEntry, Posting, References, Rejection};
use crate::money::{Money, MoneyError};
use bedside_core::{Actor, PatientId, Sensitive, Timestamp};
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

bedside_core::define_id! {
    /// A patient payment.
    PaymentId
}

/// Errors of patient-side operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatientError {
    /// Occurs when a payment or refund amount is not positive.
    #[error("amount must be positive")]
    NonPositiveAmount,
    /// Occurs when a refund is larger than the patient's credit balance.
    #[error("refund exceeds the credit balance")]
    RefundExceedsCredit,
    /// Occurs when a plan has no instalments or more than 120.
    #[error("a plan needs 1 to 120 instalments")]
    InstalmentCount,
    /// Occurs when a date computation leaves the calendar.
    #[error("instalment dates out of range")]
    DateOutOfRange,
    /// Occurs when nothing remains to plan.
    #[error("nothing left to pay")]
    NothingToPlan,
    /// Occurs on money errors.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Occurs when the ledger rejects the entry.
    #[error("entry rejected: {0}")]
    Rejected(#[from] Rejection),
    /// Occurs when an account cannot be opened.
    #[error(transparent)]
    Account(#[from] LedgerError),
}

/// How a patient paid. References are PHI-adjacent and kept [`Sensitive`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PaymentMethod {
    /// Card, with the processor's reference (never the card number).
    Card {
        /// Processor reference or last four digits.
        reference: Sensitive<String>,
    },
    /// Cash at the desk.
    Cash,
    /// Cheque.
    Cheque {
        /// Cheque number.
        number: Sensitive<String>,
    },
}

/// A payment received from a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPayment {
    /// Id (idempotency key).
    pub id: PaymentId,
    /// Who paid.
    pub patient: PatientId,
    /// Amount.
    pub amount: Money,
    /// Method.
    pub method: PaymentMethod,
    /// When.
    pub received_at: Timestamp,
}

/// A patient owed money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundItem {
    /// The patient.
    pub patient: PatientId,
    /// The credit balance.
    pub amount: Money,
}

impl Books {
    /// Records a patient payment: debits cash, credits the patient's receivable. Recording the
    /// same payment id again is a no-op.
    ///
    /// # Errors
    /// [`PatientError::NonPositiveAmount`] or a ledger rejection.
    pub fn record_patient_payment(
        &mut self,
        payment: &PatientPayment,
        by: &Actor,
    ) -> Result<Applied, PatientError> {
        if !payment.amount.is_positive() {
            return Err(PatientError::NonPositiveAmount);
        }
        let account = self.patient_account(payment.patient)?;
        let postings = [
            Posting::debit(self.clinic.cash, payment.amount),
            Posting::credit(account, payment.amount),
        ];
        let e = NewEntry::posted(
            EntryId::derive(&[b"payment", payment.id.as_uuid().as_bytes()]),
            payment.received_at,
            &postings,
        )
        .with_refs(References {
            patient: Some(payment.patient),
            ..References::default()
        })
        .with_code(chart::entry::PATIENT_PAYMENT)
        .by(by);
        Ok(self.ledger.apply(&e)?)
    }

    /// Patients whose receivable is in credit (they paid more than they owe), largest first:
    /// the refund queue.
    pub fn refund_queue(&self) -> Vec<RefundItem> {
        let mut out: Vec<RefundItem> = self
            .patient_accounts()
            .filter_map(|(patient, a)| {
                let b = self.ledger.balance(a)?;
                b.posted.is_negative().then(|| RefundItem {
                    patient,
                    amount: Money::new(-b.posted.amount_minor(), b.posted.currency()),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.amount
                .amount_minor()
                .cmp(&a.amount.amount_minor())
                .then(a.patient.cmp(&b.patient))
        });
        out
    }

    /// Pays back (part of) a credit balance: debits the patient's receivable, credits cash.
    ///
    /// # Errors
    /// [`PatientError::RefundExceedsCredit`], [`PatientError::NonPositiveAmount`] or a ledger
    /// rejection.
    pub fn refund(
        &mut self,
        refund_id: PaymentId,
        patient: PatientId,
        amount: Money,
        by: &Actor,
        at: Timestamp,
    ) -> Result<Applied, PatientError> {
        if !amount.is_positive() {
            return Err(PatientError::NonPositiveAmount);
        }
        let account = self.patient_account(patient)?;
        let id = EntryId::derive(&[b"refund", refund_id.as_uuid().as_bytes()]);
        if self.ledger.entry(id).is_none() {
            let credit = self
                .ledger
                .balance(account)
                .map(|b| -b.posted.amount_minor())
                .unwrap_or(0);
            if amount.amount_minor() > credit {
                return Err(PatientError::RefundExceedsCredit);
            }
        }
        let postings = [
            Posting::debit(account, amount),
            Posting::credit(self.clinic.cash, amount),
        ];
        let e = NewEntry::posted(id, at, &postings)
            .with_refs(References {
                patient: Some(patient),
                ..References::default()
            })
            .with_code(chart::entry::REFUND)
            .by(by);
        Ok(self.ledger.apply(&e)?)
    }
}

/// How often instalments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "days")]
pub enum PlanInterval {
    /// Same day each month (clamped to the month's end).
    Monthly,
    /// Every `n` days.
    EveryDays(u32),
}

/// One instalment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    /// Due date.
    pub due: NaiveDate,
    /// Amount due.
    pub amount: Money,
    /// Amount paid toward it.
    pub paid: Money,
}

impl Instalment {
    /// Whether it is fully paid.
    pub fn is_paid(&self) -> bool {
        self.paid.amount_minor() >= self.amount.amount_minor()
    }
}

/// Where a plan stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PlanStatus {
    /// Every instalment due (after grace) is paid.
    Current,
    /// Some instalments are overdue past the grace period.
    Missed {
        /// How many.
        instalments: usize,
        /// How much is overdue.
        overdue: Money,
    },
    /// Fully paid.
    Completed,
}

/// A payment plan: the balance split into instalments (largest remainder, so they sum exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPlan {
    /// The patient.
    pub patient: PatientId,
    /// Total under the plan.
    pub total: Money,
    /// Instalments in date order.
    pub instalments: Vec<Instalment>,
    /// Whether instalments are charged automatically on their due dates.
    pub autopay: bool,
    /// Days after a due date before an unpaid instalment counts as missed.
    pub grace_days: u32,
}

/// Terms for a new plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTerms {
    /// First due date.
    pub first_due: NaiveDate,
    /// Number of instalments (1–120).
    pub count: usize,
    /// Spacing.
    pub interval: PlanInterval,
    /// Autopay on due dates.
    pub autopay: bool,
    /// Grace days.
    pub grace_days: u32,
}

fn due_dates(terms: &PlanTerms) -> Result<Vec<NaiveDate>, PatientError> {
    (0..terms.count)
        .map(|i| {
            let d = match terms.interval {
                PlanInterval::Monthly => terms
                    .first_due
                    .checked_add_months(Months::new(u32::try_from(i).unwrap_or(u32::MAX))),
                PlanInterval::EveryDays(n) => terms
                    .first_due
                    .checked_add_days(Days::new(u64::from(n) * i as u64)),
            };
            d.ok_or(PatientError::DateOutOfRange)
        })
        .collect()
}

impl PaymentPlan {
    /// Splits `total` into instalments.
    ///
    /// # Errors
    /// [`PatientError::InstalmentCount`], [`PatientError::NothingToPlan`] or date errors.
    pub fn new(patient: PatientId, total: Money, terms: PlanTerms) -> Result<Self, PatientError> {
        if terms.count == 0 || terms.count > 120 {
            return Err(PatientError::InstalmentCount);
        }
        if !total.is_positive() {
            return Err(PatientError::NothingToPlan);
        }
        let amounts = total.allocate_evenly(terms.count)?;
        let dates = due_dates(&terms)?;
        Ok(Self {
            patient,
            total,
            instalments: dates
                .into_iter()
                .zip(amounts)
                .map(|(due, amount)| Instalment {
                    due,
                    amount,
                    paid: Money::zero(total.currency()),
                })
                .collect(),
            autopay: terms.autopay,
            grace_days: terms.grace_days,
        })
    }

    /// Applies a payment to the earliest unpaid instalments; returns what was left over.
    ///
    /// # Errors
    /// Money errors.
    pub fn apply_payment(&mut self, amount: Money) -> Result<Money, PatientError> {
        let mut left = amount;
        for i in self.instalments.iter_mut() {
            if !left.is_positive() {
                break;
            }
            let owed = i.amount.checked_sub(i.paid)?.clamp_non_negative();
            let take = left.min(owed)?;
            i.paid = i.paid.checked_add(take)?;
            left = left.checked_sub(take)?;
        }
        Ok(left)
    }

    /// Total still unpaid.
    ///
    /// # Errors
    /// Money errors.
    pub fn remaining(&self) -> Result<Money, PatientError> {
        let mut r = Money::zero(self.total.currency());
        for i in &self.instalments {
            r = r.checked_add(i.amount.checked_sub(i.paid)?.clamp_non_negative())?;
        }
        Ok(r)
    }

    /// The plan's status on `as_of`.
    ///
    /// # Errors
    /// Money errors.
    pub fn status(&self, as_of: NaiveDate) -> Result<PlanStatus, PatientError> {
        if self.instalments.iter().all(Instalment::is_paid) {
            return Ok(PlanStatus::Completed);
        }
        let mut count = 0;
        let mut overdue = Money::zero(self.total.currency());
        for i in &self.instalments {
            let late_after = i
                .due
                .checked_add_days(Days::new(u64::from(self.grace_days)));
            if !i.is_paid() && late_after.is_some_and(|d| as_of > d) {
                count += 1;
                overdue = overdue.checked_add(i.amount.checked_sub(i.paid)?)?;
            }
        }
        Ok(if count == 0 {
            PlanStatus::Current
        } else {
            PlanStatus::Missed {
                instalments: count,
                overdue,
            }
        })
    }

    /// Dates autopay will charge (unpaid instalments), empty without autopay.
    pub fn autopay_dates(&self) -> Vec<NaiveDate> {
        if !self.autopay {
            return Vec::new();
        }
        self.instalments
            .iter()
            .filter(|i| !i.is_paid())
            .map(|i| i.due)
            .collect()
    }

    /// A new plan for what remains (after missed payments, for example), on new terms.
    ///
    /// # Errors
    /// [`PatientError::NothingToPlan`] when fully paid; other errors as [`PaymentPlan::new`].
    pub fn replan(&self, terms: PlanTerms) -> Result<PaymentPlan, PatientError> {
        PaymentPlan::new(self.patient, self.remaining()?, terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn plan_schedule_missed_payments_and_replan() {
        let patient = PatientId::from_uuid(crate::EntryId::new(5).to_uuid());
        let terms = PlanTerms {
            first_due: date(2026, 1, 31),
            count: 3,
            interval: PlanInterval::Monthly,
            autopay: true,
            grace_days: 5,
        };
        let plan = PaymentPlan::new(patient, Money::new(10_000, Currency::USD), terms);
        let Ok(mut plan) = plan else {
            panic!("plan: {plan:?}");
        };
        let dues: Vec<_> = plan
            .instalments
            .iter()
            .map(|i| (i.due, i.amount.amount_minor()))
            .collect();
        assert_eq!(
            dues,
            vec![
                (date(2026, 1, 31), 3_334),
                (date(2026, 2, 28), 3_333),
                (date(2026, 3, 31), 3_333)
            ]
        );
        assert_eq!(plan.status(date(2026, 2, 5)), Ok(PlanStatus::Current));
        assert_eq!(
            plan.status(date(2026, 2, 6)),
            Ok(PlanStatus::Missed {
                instalments: 1,
                overdue: Money::new(3_334, Currency::USD)
            })
        );
        assert_eq!(
            plan.apply_payment(Money::new(4_000, Currency::USD)),
            Ok(Money::new(0, Currency::USD))
        );
        assert_eq!(plan.status(date(2026, 3, 5)), Ok(PlanStatus::Current));
        assert_eq!(
            plan.status(date(2026, 3, 6)),
            Ok(PlanStatus::Missed {
                instalments: 1,
                overdue: Money::new(2_667, Currency::USD)
            })
        );
        assert_eq!(
            plan.autopay_dates(),
            vec![date(2026, 2, 28), date(2026, 3, 31)]
        );
        assert_eq!(
            plan.status(date(2026, 4, 10))
                .map(|s| matches!(s, PlanStatus::Missed { instalments: 2, .. })),
            Ok(true)
        );
        let again = plan.replan(PlanTerms {
            first_due: date(2026, 4, 15),
            count: 4,
            ..terms
        });
        assert_eq!(again.map(|p| p.total), Ok(Money::new(6_000, Currency::USD)));
        assert_eq!(
            plan.apply_payment(Money::new(7_000, Currency::USD)),
            Ok(Money::new(1_000, Currency::USD))
        );
        assert_eq!(plan.status(date(2026, 9, 1)), Ok(PlanStatus::Completed));
    }
}
