//! Plain-language patient statements: what was done, what was billed, what insurance paid and
//! adjusted, what the patient owes, by when, and how to pay; rendered to text and Markdown.
//!
//! Statements carry no names or identifiers: they are addressed by the delivery channel, and
//! the text says "you".

use crate::books::Books;
use crate::charge::Charge;
use crate::chart;
use crate::claim::{Adjudication, Claim, ClaimBook, ClaimStatus};
use crate::ledger::{EntryKind, Reference, Side};
use crate::money::{Currency, Money, MoneyError};
use bedside_core::PatientId;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One service on the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// What was done, in plain words.
    pub description: String,
    /// Procedure code.
    pub code: String,
    /// Billed.
    pub billed: Money,
    /// Insurance paid.
    pub insurance_paid: Money,
    /// Insurance adjustments (discounts under the contract and other write-offs).
    pub adjusted: Money,
    /// The patient's share.
    pub you_owe: Money,
    /// Whether insurance has not decided yet.
    pub waiting_for_insurance: bool,
}

/// A statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Issue date.
    pub statement_date: NaiveDate,
    /// Pay by.
    pub due_by: NaiveDate,
    /// Lines in date order.
    pub lines: Vec<StatementLine>,
    /// Σ billed.
    pub total_billed: Money,
    /// Σ insurance paid.
    pub total_insurance_paid: Money,
    /// Σ adjustments.
    pub total_adjusted: Money,
    /// Σ patient share.
    pub total_you_owe: Money,
    /// Payments already made by the patient.
    pub your_payments: Money,
    /// What is due now (never negative; see `credit`).
    pub amount_due: Money,
    /// Money owed back to the patient, if they overpaid.
    pub credit: Money,
    /// How to pay, one option per entry.
    pub how_to_pay: Vec<String>,
    /// An optional note (payment plan, estimate dispute rights).
    pub note: Option<String>,
}

/// How a statement is laid out: its date, when it is due, how to pay and an optional note.
///
/// ```
/// use bedside_ledger::statement::StatementOptions;
///
/// let date = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).ok_or("date")?;
/// let options = StatementOptions::new(date)
///     .with_due_in_days(21)
///     .with_how_to_pay("Online: use the link in your e-mail");
/// assert_eq!((options.due_in_days, options.how_to_pay.len()), (21, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementOptions {
    /// Issue date.
    pub statement_date: NaiveDate,
    /// Days until due (30 unless set).
    pub due_in_days: u32,
    /// Payment options, one per entry (none unless added).
    pub how_to_pay: Vec<String>,
    /// Optional note (payment plan, estimate dispute rights).
    pub note: Option<String>,
}

impl StatementOptions {
    /// Days until due when not set: 30.
    pub const DEFAULT_DUE_IN_DAYS: u32 = 30;

    /// A statement issued on `statement_date`, due in 30 days, with no payment options or note.
    pub fn new(statement_date: NaiveDate) -> Self {
        Self {
            statement_date,
            due_in_days: Self::DEFAULT_DUE_IN_DAYS,
            how_to_pay: Vec::new(),
            note: None,
        }
    }

    /// Sets the days until due.
    #[must_use]
    pub fn with_due_in_days(mut self, days: u32) -> Self {
        self.due_in_days = days;
        self
    }

    /// Adds a payment option.
    #[must_use]
    pub fn with_how_to_pay(mut self, option: impl Into<String>) -> Self {
        self.how_to_pay.push(option.into());
        self
    }

    /// Sets the note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// What a statement is built from by [`build`]: claims, self-pay charges and payments the
/// caller supplies. [`Books::statement`] derives all of it from the books instead.
#[derive(Debug, Clone)]
pub struct StatementInput<'a> {
    /// The patient's claims.
    pub claims: &'a [&'a Claim],
    /// Self-pay charges (no claim).
    pub self_pay: &'a [&'a Charge],
    /// Patient payments so far.
    pub payments: Money,
    /// Date, due days, payment options and note.
    pub options: StatementOptions,
}

impl<'a> StatementInput<'a> {
    /// A statement of `claims` with `payments` made so far and no self-pay charges.
    pub fn new(claims: &'a [&'a Claim], payments: Money, options: StatementOptions) -> Self {
        Self {
            claims,
            self_pay: &[],
            payments,
            options,
        }
    }

    /// Adds self-pay charges (billed to the patient, no claim).
    #[must_use]
    pub fn with_self_pay(mut self, self_pay: &'a [&'a Charge]) -> Self {
        self.self_pay = self_pay;
        self
    }
}

impl Books {
    /// What the patient has paid, net of refunds, as the ledger records it: patient payments
    /// ([`chart::entry::PATIENT_PAYMENT`]) less refunds ([`chart::entry::REFUND`]), a reversed
    /// payment or refund counting for nothing. Zero for a patient with no account.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn patient_payments(&self, patient: PatientId) -> Result<Money, MoneyError> {
        let mut total = Money::zero(self.currency);
        let Some(account) = self.existing_patient_account(patient) else {
            return Ok(total);
        };
        for e in self
            .ledger
            .entries_by_reference(Reference::Patient(patient))
        {
            let counted = matches!(e.code, chart::entry::PATIENT_PAYMENT | chart::entry::REFUND)
                && e.kind == EntryKind::Posted
                && e.resolved_by.is_none();
            if !counted {
                continue;
            }
            for p in e.postings.iter().filter(|p| p.account == account) {
                total = match p.side {
                    Side::Credit => total.checked_add(p.amount)?,
                    Side::Debit => total.checked_sub(p.amount)?,
                };
            }
        }
        Ok(total)
    }

    /// The patient's statement derived from the books: every claim of the patient in `claims`
    /// (with the insurer payments and adjustments the remittances recorded) and the payments
    /// the ledger holds ([`Books::patient_payments`]). Self-pay charges are not in the claim
    /// book; to list them, build a [`StatementInput`] with [`StatementInput::with_self_pay`]
    /// and call [`build`].
    ///
    /// # Errors
    /// [`MoneyError`] on overflow or mixed currencies.
    pub fn statement(
        &self,
        claims: &ClaimBook,
        patient: PatientId,
        options: StatementOptions,
    ) -> Result<Statement, MoneyError> {
        let mut mine: Vec<&Claim> = claims.iter().filter(|c| c.patient == patient).collect();
        // The claim book iterates in no particular order; lines are sorted later, but a
        // stable claim order keeps ties (same date and code) stable.
        mine.sort_by_key(|c| c.id);
        let payments = self.patient_payments(patient)?;
        build(
            &StatementInput::new(&mine, payments, options),
            self.currency,
        )
    }
}

/// Builds a statement.
///
/// # Errors
/// [`MoneyError`] on overflow or mixed currencies.
// Over 100 lines, not split: one pass over claims, then self-pay, then totals; the per-claim figures are already in `line_figures`.
pub fn build(input: &StatementInput<'_>, currency: Currency) -> Result<Statement, MoneyError> {
    let zero = Money::zero(currency);
    let mut lines = Vec::new();
    // A replaced claim's charges were reversed and are billed on its replacement.
    for claim in input
        .claims
        .iter()
        .filter(|c| c.status != ClaimStatus::Replaced)
    {
        let weights: Vec<u64> = claim
            .lines
            .iter()
            .map(|l| l.amount.amount_minor().max(0) as u64)
            .collect();
        let decided = claim.adjudication.as_ref().filter(|_| {
            matches!(
                claim.status,
                ClaimStatus::Paid
                    | ClaimStatus::PartiallyPaid
                    | ClaimStatus::Denied
                    | ClaimStatus::Appealed
                    | ClaimStatus::Closed
            )
        });
        let n = claim.lines.len();
        let split = |m: Money| -> Result<Vec<Money>, MoneyError> {
            if weights.iter().all(|w| *w == 0) {
                m.allocate_evenly(n)
            } else {
                m.allocate(&weights)
            }
        };
        let (paid, adjusted, owe) = match decided {
            Some(a) => match line_figures(claim, a)? {
                // The payer's own per-line figures, with claim-level adjustments spread
                // over the lines in proportion to their charges.
                Some(figures) => figures,
                None => (
                    split(a.paid)?,
                    split(a.contractual.checked_add(a.other_adjustments)?)?,
                    split(a.patient.total()?)?,
                ),
            },
            None => (vec![zero; n], vec![zero; n], vec![zero; n]),
        };
        for (i, l) in claim.lines.iter().enumerate() {
            lines.push(StatementLine {
                date_of_service: l.date_of_service,
                description: l.description.clone(),
                code: l.code.to_string(),
                billed: l.amount,
                insurance_paid: paid[i],
                adjusted: adjusted[i],
                you_owe: owe[i],
                waiting_for_insurance: decided.is_none(),
            });
        }
    }
    for c in input.self_pay {
        lines.push(StatementLine {
            date_of_service: c.request.date_of_service,
            description: c.description.clone(),
            code: c.request.code.to_string(),
            billed: c.amount,
            insurance_paid: zero,
            adjusted: zero,
            you_owe: c.amount,
            waiting_for_insurance: false,
        });
    }
    lines.sort_by(|a, b| {
        a.date_of_service
            .cmp(&b.date_of_service)
            .then(a.code.cmp(&b.code))
    });
    let o = &input.options;
    let mut s = Statement {
        statement_date: o.statement_date,
        due_by: o
            .statement_date
            .checked_add_days(Days::new(u64::from(o.due_in_days)))
            .unwrap_or(o.statement_date),
        lines: Vec::new(),
        total_billed: zero,
        total_insurance_paid: zero,
        total_adjusted: zero,
        total_you_owe: zero,
        your_payments: input.payments,
        amount_due: zero,
        credit: zero,
        how_to_pay: o.how_to_pay.clone(),
        note: o.note.clone(),
    };
    for l in &lines {
        s.total_billed = s.total_billed.checked_add(l.billed)?;
        s.total_insurance_paid = s.total_insurance_paid.checked_add(l.insurance_paid)?;
        s.total_adjusted = s.total_adjusted.checked_add(l.adjusted)?;
        s.total_you_owe = s.total_you_owe.checked_add(l.you_owe)?;
    }
    s.lines = lines;
    let net = s.total_you_owe.checked_sub(input.payments)?;
    if net.is_negative() {
        s.credit = net.checked_neg()?;
    } else {
        s.amount_due = net;
    }
    Ok(s)
}

type Figures = (Vec<Money>, Vec<Money>, Vec<Money>);

/// Matches the payer's service lines to the claim's lines (same code and charge, in order) and
/// returns per-line paid, adjusted and patient amounts; `None` when they do not all match.
fn line_figures(claim: &Claim, a: &Adjudication) -> Result<Option<Figures>, MoneyError> {
    if a.lines.len() != claim.lines.len() || claim.lines.is_empty() {
        return Ok(None);
    }
    let mut used = vec![false; a.lines.len()];
    let mut order = Vec::with_capacity(claim.lines.len());
    for l in &claim.lines {
        let found = a
            .lines
            .iter()
            .enumerate()
            .position(|(k, r)| !used[k] && r.code == l.code.as_str() && r.charge == l.amount);
        let Some(k) = found else { return Ok(None) };
        used[k] = true;
        order.push(k);
    }
    let currency = a.paid.currency();
    let mut line_adjusted = Money::zero(currency);
    let mut line_patient = Money::zero(currency);
    for r in &a.lines {
        line_adjusted = line_adjusted.checked_add(r.adjusted)?;
        line_patient = line_patient.checked_add(r.patient)?;
    }
    let claim_adjusted = a
        .contractual
        .checked_add(a.other_adjustments)?
        .checked_sub(line_adjusted)?;
    let claim_patient = a.patient.total()?.checked_sub(line_patient)?;
    let weights: Vec<u64> = claim
        .lines
        .iter()
        .map(|l| l.amount.amount_minor().max(1) as u64)
        .collect();
    let extra_adjusted = claim_adjusted.allocate(&weights)?;
    let extra_patient = claim_patient.allocate(&weights)?;
    let mut paid = Vec::new();
    let mut adjusted = Vec::new();
    let mut owe = Vec::new();
    for (i, &k) in order.iter().enumerate() {
        let r = &a.lines[k];
        paid.push(r.paid);
        adjusted.push(r.adjusted.checked_add(extra_adjusted[i])?);
        owe.push(r.patient.checked_add(extra_patient[i])?);
    }
    Ok(Some((paid, adjusted, owe)))
}

fn neg(m: Money) -> String {
    if m.is_zero() {
        m.format_human()
    } else {
        format!("-{}", m.format_human())
    }
}

impl Statement {
    /// Plain text for e-mail, SMS links and print.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "YOUR STATEMENT — {}", self.statement_date);
        let _ = writeln!(o);
        if self.amount_due.is_positive() {
            let _ = writeln!(
                o,
                "You owe {} — please pay by {}.",
                self.amount_due.format_human(),
                self.due_by
            );
        } else if self.credit.is_positive() {
            let _ = writeln!(
                o,
                "You paid {} more than you owe. We will refund it; you do not need to do anything.",
                self.credit.format_human()
            );
        } else {
            let _ = writeln!(o, "You owe nothing right now.");
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "WHAT WAS DONE");
        for l in &self.lines {
            let _ = writeln!(o, "  {}  {} ({})", l.date_of_service, l.description, l.code);
            if l.waiting_for_insurance {
                let _ = writeln!(
                    o,
                    "      Billed {} · Waiting for your insurance to decide — nothing to pay yet",
                    l.billed.format_human()
                );
            } else {
                let _ = writeln!(
                    o,
                    "      Billed {} · Insurance paid {} · Insurance discount {} · Your share {}",
                    l.billed.format_human(),
                    l.insurance_paid.format_human(),
                    l.adjusted.format_human(),
                    l.you_owe.format_human()
                );
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "HOW WE GOT TO YOUR AMOUNT");
        let rows = [
            ("Billed", self.total_billed.format_human()),
            ("Insurance paid", neg(self.total_insurance_paid)),
            ("Insurance discounts", neg(self.total_adjusted)),
            ("Your share", self.total_you_owe.format_human()),
            ("Your payments", neg(self.your_payments)),
            ("You owe now", self.amount_due.format_human()),
        ];
        for (k, v) in rows {
            let _ = writeln!(o, "  {k:<22}{v:>14}");
        }
        if !self.how_to_pay.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "HOW TO PAY");
            for h in &self.how_to_pay {
                let _ = writeln!(o, "  - {h}");
            }
        }
        if let Some(n) = &self.note {
            let _ = writeln!(o);
            let _ = writeln!(o, "{n}");
        }
        o
    }

    /// Markdown for the patient portal.
    pub fn render_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Your statement — {}", self.statement_date);
        let _ = writeln!(o);
        if self.amount_due.is_positive() {
            let _ = writeln!(
                o,
                "**You owe {}** — please pay by **{}**.",
                self.amount_due.format_human(),
                self.due_by
            );
        } else if self.credit.is_positive() {
            let _ = writeln!(
                o,
                "You paid **{}** more than you owe. We will refund it; you do not need to do anything.",
                self.credit.format_human()
            );
        } else {
            let _ = writeln!(o, "You owe **nothing** right now.");
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## What was done");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "| Date | Service | Billed | Insurance paid | Insurance discount | Your share |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|");
        for l in &self.lines {
            if l.waiting_for_insurance {
                let _ = writeln!(
                    o,
                    "| {} | {} ({}) | {} | waiting | waiting | — |",
                    l.date_of_service,
                    l.description,
                    l.code,
                    l.billed.format_human()
                );
            } else {
                let _ = writeln!(
                    o,
                    "| {} | {} ({}) | {} | {} | {} | {} |",
                    l.date_of_service,
                    l.description,
                    l.code,
                    l.billed.format_human(),
                    l.insurance_paid.format_human(),
                    l.adjusted.format_human(),
                    l.you_owe.format_human()
                );
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## How we got to your amount");
        let _ = writeln!(o);
        let _ = writeln!(o, "| | |\n|---|---:|");
        let rows = [
            ("Billed", self.total_billed.format_human()),
            ("Insurance paid", neg(self.total_insurance_paid)),
            ("Insurance discounts", neg(self.total_adjusted)),
            ("Your share", self.total_you_owe.format_human()),
            ("Your payments", neg(self.your_payments)),
            (
                "**You owe now**",
                format!("**{}**", self.amount_due.format_human()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(o, "| {k} | {v} |");
        }
        if !self.how_to_pay.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "## How to pay");
            let _ = writeln!(o);
            for h in &self.how_to_pay {
                let _ = writeln!(o, "- {h}");
            }
        }
        if let Some(n) = &self.note {
            let _ = writeln!(o);
            let _ = writeln!(o, "> {n}");
        }
        o
    }
}
