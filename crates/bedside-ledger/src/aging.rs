//! Accounts-receivable aging as of any instant, split by payer and by patient.
//!
//! Each receivable is aged open-item style: posted debits (charges, transfers of patient
//! responsibility) are open items dated by their entry; posted credits (payments,
//! adjustments) settle the oldest open items first. What is left is bucketed by its age in
//! days on the report date: 0–30, 31–60, 61–90 and over 90. A receivable in credit is reported
//! as a credit, not aged.

use crate::books::Books;
use crate::ledger::{AccountIndex, Ledger};
use crate::money::{Currency, Money, MoneyError};
use bedside_core::{OrganisationId, PatientId, Timestamp};
use serde::{Deserialize, Serialize};

/// The four aging buckets.
pub const BUCKETS: [&str; 4] = ["0-30", "31-60", "61-90", "90+"];

/// One party's aged balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgedBalance {
    /// Amounts per bucket (see [`BUCKETS`]).
    pub buckets: [Money; 4],
    /// Sum of the buckets.
    pub total: Money,
    /// Credit balance (money owed back), zero when none.
    pub credit: Money,
}

/// Who owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Party {
    /// An insurer.
    Payer(OrganisationId),
    /// A patient.
    Patient(PatientId),
}

/// The aging report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingReport {
    /// Report instant.
    pub as_of: Timestamp,
    /// Rows with anything outstanding, payers first then patients, each sorted by id.
    pub rows: Vec<(Party, AgedBalance)>,
    /// Totals of payer rows.
    pub payers: AgedBalance,
    /// Totals of patient rows.
    pub patients: AgedBalance,
}

fn bucket(days: i64) -> usize {
    match days {
        ..=30 => 0,
        31..=60 => 1,
        61..=90 => 2,
        _ => 3,
    }
}

/// Ages one receivable account.
///
/// # Errors
/// [`MoneyError::Overflow`].
pub fn age_account(
    ledger: &Ledger,
    account: AccountIndex,
    currency: Currency,
    as_of: Timestamp,
) -> Result<AgedBalance, MoneyError> {
    let mut open: Vec<(Timestamp, i64)> = Vec::new();
    let mut credit: i64 = 0;
    for (at, v) in ledger.posted_movements(account, as_of) {
        if v > 0 {
            // A new debit first absorbs any unapplied credit.
            let absorbed = v.min(credit);
            credit -= absorbed;
            if v > absorbed {
                open.push((at, v - absorbed));
            }
        } else {
            let mut pay = v.checked_neg().ok_or(MoneyError::Overflow)?;
            for item in open.iter_mut() {
                let take = item.1.min(pay);
                item.1 -= take;
                pay -= take;
                if pay == 0 {
                    break;
                }
            }
            open.retain(|i| i.1 > 0);
            credit = credit.checked_add(pay).ok_or(MoneyError::Overflow)?;
        }
    }
    let mut buckets = [Money::zero(currency); 4];
    let mut total = Money::zero(currency);
    let day = as_of.date_naive();
    for (at, v) in open {
        let age = (day - at.date_naive()).num_days();
        let m = Money::new(v, currency);
        buckets[bucket(age)] = buckets[bucket(age)].checked_add(m)?;
        total = total.checked_add(m)?;
    }
    Ok(AgedBalance {
        buckets,
        total,
        credit: Money::new(credit, currency),
    })
}

fn add(a: &mut AgedBalance, b: &AgedBalance) -> Result<(), MoneyError> {
    for (x, y) in a.buckets.iter_mut().zip(b.buckets.iter()) {
        *x = x.checked_add(*y)?;
    }
    a.total = a.total.checked_add(b.total)?;
    a.credit = a.credit.checked_add(b.credit)?;
    Ok(())
}

/// The aging report for every payer and patient receivable, as of `as_of`.
///
/// # Errors
/// [`MoneyError::Overflow`].
pub fn aging(books: &Books, as_of: Timestamp) -> Result<AgingReport, MoneyError> {
    let c = books.currency;
    let zero = AgedBalance {
        buckets: [Money::zero(c); 4],
        total: Money::zero(c),
        credit: Money::zero(c),
    };
    let mut payers = zero;
    let mut patients = zero;
    let mut payer_rows = Vec::new();
    let mut patient_rows = Vec::new();
    for (payer, a) in books.payer_accounts() {
        let aged = age_account(&books.ledger, a, c, as_of)?;
        if !aged.total.is_zero() || !aged.credit.is_zero() {
            add(&mut payers, &aged)?;
            payer_rows.push((Party::Payer(payer), aged));
        }
    }
    for (patient, a) in books.patient_accounts() {
        let aged = age_account(&books.ledger, a, c, as_of)?;
        if !aged.total.is_zero() || !aged.credit.is_zero() {
            add(&mut patients, &aged)?;
            patient_rows.push((Party::Patient(patient), aged));
        }
    }
    payer_rows.sort_by_key(|r| r.0);
    patient_rows.sort_by_key(|r| r.0);
    payer_rows.extend(patient_rows);
    Ok(AgingReport {
        as_of,
        rows: payer_rows,
        payers,
        patients,
    })
}

impl AgingReport {
    /// A plain-text table of the totals (no identifiers).
    pub fn render_totals(&self) -> String {
        let mut s = format!(
            "Aging as of {}\n{:<10}{:>12}{:>12}{:>12}{:>12}{:>12}\n",
            self.as_of.date_naive(),
            "",
            BUCKETS[0],
            BUCKETS[1],
            BUCKETS[2],
            BUCKETS[3],
            "total"
        );
        for (name, row) in [("payers", &self.payers), ("patients", &self.patients)] {
            s.push_str(&format!("{name:<10}"));
            for b in row.buckets {
                s.push_str(&format!("{:>12}", b.format_decimal()));
            }
            s.push_str(&format!("{:>12}\n", row.total.format_decimal()));
        }
        s
    }
}
