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
