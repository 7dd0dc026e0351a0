//! [`Books`]: a ledger with the clinic's chart of accounts and one receivable account per
//! patient (guarantor) and per payer, opened on first use with stable derived ids.

use crate::chart;
use crate::ledger::{
    AccountIndex, AccountKind, AccountOwner, AccountSpec, EntryId, Ledger, LedgerError,
};
use crate::money::Currency;
use bedside_core::{AccountId, OrganisationId, PatientId};
use std::collections::HashMap;

/// The clinic-wide accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClinicAccounts {
    /// Cash and card clearing (asset).
    pub cash: AccountIndex,
    /// Gross patient-service revenue.
    pub revenue: AccountIndex,
    /// Contractual write-offs, group CO (contra-revenue).
    pub contractual: AccountIndex,
    /// Other adjustments, groups OA and CR (contra-revenue).
    pub other_adjustment: AccountIndex,
    /// Payer-initiated reductions, group PI (contra-revenue).
    pub payer_initiated: AccountIndex,
    /// Provider-level adjustments, PLB (contra-revenue).
    pub provider_level: AccountIndex,
    /// Payments received that match no claim yet (liability, worked from the queue).
    pub unapplied: AccountIndex,
}

/// A ledger plus its chart of accounts.
///
/// A self-pay visit: the charge is priced from the fee schedule and captured on the patient's
/// receivable, the patient pays at the desk, and the receivable is settled. For the insured
/// cycle (claim, 835 remittance, statement) see [`crate::RemittancePoster`].
///
/// ```
/// use bedside_core::{Actor, EncounterId, PatientId, ProviderId, Sensitive};
/// use bedside_ledger::{
///     BillTo, Books, ChargeId, ChargeRequest, Currency, FeeSchedule, Money, PatientPayment,
///     PaymentId, PaymentMethod, ProcedureCode,
/// };
/// use uuid::Uuid;
///
/// let usd = |minor| Money::new(minor, Currency::USD);
/// let patient = PatientId::from_uuid(Uuid::from_u128(1));
/// let desk = Actor::system("billing-desk");
/// let mut books = Books::open(Currency::USD)?;
/// let mut fees = FeeSchedule::new();
/// fees.set(ProcedureCode::parse("99213")?, None, usd(12_000), "Office visit");
/// let request = ChargeRequest::new(
///     patient,
///     EncounterId::from_uuid(Uuid::from_u128(2)),
///     ProcedureCode::parse("99213")?,
///     chrono::NaiveDate::from_ymd_opt(2026, 3, 2).ok_or("date")?,
///     ProviderId::from_uuid(Uuid::from_u128(3)),
/// );
/// let charge = fees.price(ChargeId::from_uuid(Uuid::from_u128(4)), request)?;
/// books.capture_charge(&charge, BillTo::SelfPay, &desk, "2026-03-02T15:00:00Z".parse()?)?;
/// let receivable = books.patient_account(patient)?;
/// assert_eq!(books.ledger.balance(receivable).map(|b| b.posted), Some(usd(12_000)));
///
/// books.record_patient_payment(
///     &PatientPayment {
///         id: PaymentId::from_uuid(Uuid::from_u128(5)),
///         patient,
///         amount: usd(12_000),
///         method: PaymentMethod::Card { reference: Sensitive::new("ch_1".into()) },
///         received_at: "2026-03-02T15:05:00Z".parse()?,
///     },
///     &desk,
/// )?;
/// assert_eq!(books.ledger.balance(receivable).map(|b| b.posted), Some(usd(0)));
/// assert_eq!(books.patient_payments(patient)?, usd(12_000));
/// assert!(books.ledger.trial_balance().is_zero());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Books {
    /// The ledger.
    pub ledger: Ledger,
    /// The currency of every account.
    pub currency: Currency,
    /// Clinic-wide accounts.
    pub clinic: ClinicAccounts,
    patients: HashMap<PatientId, AccountIndex>,
    payers: HashMap<OrganisationId, AccountIndex>,
}

fn derived_account_id(parts: &[&[u8]]) -> AccountId {
    AccountId::from_uuid(uuid::Uuid::from_u128(EntryId::derive(parts).get()))
}

impl Books {
    /// Opens books in `currency` with the clinic accounts.
    ///
    /// # Errors
    /// [`LedgerError`] if an account cannot be opened (never for a fresh ledger).
    pub fn open(currency: Currency) -> Result<Self, LedgerError> {
        Self::open_in(Ledger::new(), currency)
    }

    /// Opens books on an existing ledger (for example one with reserved capacity or a
    /// replayed journal). Clinic accounts that already exist are reused, and the patient and
    /// payer receivables the ledger holds are found again from their owners, so books
    /// reloaded from their journal ([`Ledger::write_journal`], [`crate::replay`]) are the
    /// books that wrote it.
    ///
    /// # Errors
    /// [`LedgerError::AccountExists`] when a clinic account id exists with another spec.
    pub fn open_in(mut ledger: Ledger, currency: Currency) -> Result<Self, LedgerError> {
        let mut open = |name: &str, kind, code| {
            ledger.create_account(
                AccountSpec::new(
                    derived_account_id(&[b"clinic", name.as_bytes(), currency.code().as_bytes()]),
                    kind,
                    currency,
                    AccountOwner::Clinic,
                )
                .with_code(code),
            )
        };
        let clinic = ClinicAccounts {
            cash: open("cash", AccountKind::Asset, chart::account::CASH)?,
            revenue: open("revenue", AccountKind::Revenue, chart::account::REVENUE)?,
            contractual: open(
                "contractual",
                AccountKind::ContraRevenue,
                chart::account::CONTRACTUAL,
            )?,
            other_adjustment: open(
                "other-adjustment",
                AccountKind::ContraRevenue,
                chart::account::OTHER_ADJUSTMENT,
            )?,
            payer_initiated: open(
                "payer-initiated",
                AccountKind::ContraRevenue,
                chart::account::PAYER_INITIATED,
            )?,
            provider_level: open(
                "provider-level",
                AccountKind::ContraRevenue,
                chart::account::PROVIDER_LEVEL,
            )?,
            unapplied: open(
                "unapplied",
                AccountKind::Liability,
                chart::account::PATIENT_CREDIT,
            )?,
        };
        let mut patients = HashMap::new();
        let mut payers = HashMap::new();
        for i in 0..ledger.account_count() {
            let index = AccountIndex::new(i as u32);
            let Some(spec) = ledger.account(index).map(|a| *a.spec()) else {
                continue;
            };
            if spec.currency != currency || spec.kind != AccountKind::Asset {
                continue;
            }
            match (spec.owner, spec.code) {
                (AccountOwner::Guarantor(p), chart::account::PATIENT_RECEIVABLE) => {
                    patients.entry(p).or_insert(index);
                }
                (AccountOwner::Payer(o), chart::account::PAYER_RECEIVABLE) => {
                    payers.entry(o).or_insert(index);
                }
                _ => {}
            }
        }
        Ok(Self {
            ledger,
            currency,
            clinic,
            patients,
            payers,
        })
    }

    /// The patient's receivable account, opened on first use.
    ///
    /// # Errors
    /// [`LedgerError`] if the account cannot be opened.
    pub fn patient_account(&mut self, patient: PatientId) -> Result<AccountIndex, LedgerError> {
        if let Some(&a) = self.patients.get(&patient) {
            return Ok(a);
        }
        let spec = AccountSpec::new(
            derived_account_id(&[b"patient", patient.as_uuid().as_bytes()]),
            AccountKind::Asset,
            self.currency,
            AccountOwner::Guarantor(patient),
        )
        .with_code(chart::account::PATIENT_RECEIVABLE);
        let a = self.ledger.create_account(spec)?;
        self.patients.insert(patient, a);
        Ok(a)
    }

    /// The payer's receivable account, opened on first use.
    ///
    /// # Errors
    /// [`LedgerError`] if the account cannot be opened.
    pub fn payer_account(&mut self, payer: OrganisationId) -> Result<AccountIndex, LedgerError> {
        if let Some(&a) = self.payers.get(&payer) {
            return Ok(a);
        }
        let spec = AccountSpec::new(
            derived_account_id(&[b"payer", payer.as_uuid().as_bytes()]),
            AccountKind::Asset,
            self.currency,
            AccountOwner::Payer(payer),
        )
        .with_code(chart::account::PAYER_RECEIVABLE);
        let a = self.ledger.create_account(spec)?;
        self.payers.insert(payer, a);
        Ok(a)
    }

    /// The patient's receivable account if opened.
    pub fn existing_patient_account(&self, patient: PatientId) -> Option<AccountIndex> {
        self.patients.get(&patient).copied()
    }

    /// Every patient with a receivable account, with the account.
    pub fn patient_accounts(&self) -> impl Iterator<Item = (PatientId, AccountIndex)> + '_ {
        self.patients.iter().map(|(p, a)| (*p, *a))
    }

    /// Every payer with a receivable account, with the account.
    pub fn payer_accounts(&self) -> impl Iterator<Item = (OrganisationId, AccountIndex)> + '_ {
        self.payers.iter().map(|(p, a)| (*p, *a))
    }
}
