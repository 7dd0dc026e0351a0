//! Charges: CPT/HCPCS procedure codes, modifiers, units, date of service, rendering provider and
//! diagnosis pointers, priced from a [`FeeSchedule`] and captured to the ledger.

use crate::books::Books;
use crate::chart;
use crate::ledger::{Applied, EntryId, LedgerError, NewEntry, Posting, References, Rejection};
use crate::money::{Money, MoneyError};
use bedside_core::{Actor, EncounterId, OrganisationId, PatientId, ProviderId, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

bedside_core::define_id! {
    /// A captured charge.
    ChargeId
}

/// Errors from pricing and capturing charges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChargeError {
    /// Occurs when a code is neither CPT (`99213`, `0001F`, `0042T`) nor HCPCS Level II (`J1100`).
    #[error("`{code}` is not a CPT or HCPCS code")]
    InvalidCode {
        /// The code as given (codes are not PHI).
        code: String,
    },
    /// Occurs when a modifier is not two letters or digits.
    #[error("modifier `{modifier}` is not two letters or digits")]
    InvalidModifier {
        /// The modifier.
        modifier: String,
    },
    /// Occurs when more than four modifiers are given.
    #[error("at most four modifiers are allowed")]
    TooManyModifiers,
    /// Occurs when units are zero.
    #[error("units must be at least one")]
    ZeroUnits,
    /// Occurs when diagnosis pointers are missing, out of 1..=12, repeated or more than four.
    #[error("diagnosis pointers must be one to four distinct values in 1..=12")]
    InvalidDiagnosisPointers,
    /// Occurs when the fee schedule has no price for the code.
    #[error("no fee schedule price for `{code}`")]
    NoPrice {
        /// The code.
        code: String,
    },
    /// Occurs when price times units overflows.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Occurs when the ledger rejects the capture entry.
    #[error("capture rejected: {0}")]
    Rejected(#[from] Rejection),
    /// Occurs when a receivable account cannot be opened.
    #[error(transparent)]
    Account(#[from] LedgerError),
}

/// Which code set a procedure code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodeSet {
    /// CPT (AMA), five digits or four digits and F/T/U.
    Cpt,
    /// HCPCS Level II: a letter A–V and four digits.
    Hcpcs,
}

/// A validated CPT or HCPCS Level II code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

impl ProcedureCode {
    /// Validates a code.
    ///
    /// # Errors
    /// [`ChargeError::InvalidCode`].
    pub fn parse(code: &str) -> Result<Self, ChargeError> {
        let c = code.trim().to_ascii_uppercase();
        let b = c.as_bytes();
        let ok = b.len() == 5
            && (b.iter().all(u8::is_ascii_digit)
                || (b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'F' | b'T' | b'U'))
                || ((b'A'..=b'V').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit)));
        if ok {
            Ok(Self(c))
        } else {
            Err(ChargeError::InvalidCode {
                code: code.chars().take(12).collect(),
            })
        }
    }

    /// The code set.
    pub fn code_set(&self) -> CodeSet {
        if self.0.as_bytes()[0].is_ascii_digit() {
            CodeSet::Cpt
        } else {
            CodeSet::Hcpcs
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = ChargeError;
    fn try_from(s: String) -> Result<Self, ChargeError> {
        Self::parse(&s)
    }
}

impl From<ProcedureCode> for String {
    fn from(c: ProcedureCode) -> String {
        c.0
    }
}

/// A two-character procedure modifier (`25`, `59`, `LT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Modifier([u8; 2]);

impl Modifier {
    /// Validates a modifier.
    ///
    /// # Errors
    /// [`ChargeError::InvalidModifier`].
    pub fn parse(m: &str) -> Result<Self, ChargeError> {
        let u = m.trim().to_ascii_uppercase();
        let b = u.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphanumeric) {
            Ok(Self([b[0], b[1]]))
        } else {
            Err(ChargeError::InvalidModifier {
                modifier: m.chars().take(4).collect(),
            })
        }
    }
    /// The modifier text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl TryFrom<String> for Modifier {
    type Error = ChargeError;
    fn try_from(s: String) -> Result<Self, ChargeError> {
        Self::parse(&s)
    }
}

impl From<Modifier> for String {
    fn from(m: Modifier) -> String {
        m.as_str().to_string()
    }
}

/// One fee schedule row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// Unit price.
    pub price: Money,
    /// Plain-language description for statements ("Office visit, established patient").
    pub description: String,
}

/// Prices per procedure code, optionally per first modifier.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeeSchedule {
    fees: HashMap<(ProcedureCode, Option<Modifier>), Fee>,
}

impl FeeSchedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a price (for a code, or a code with a first modifier).
    pub fn set(
        &mut self,
        code: ProcedureCode,
        modifier: Option<Modifier>,
        price: Money,
        description: &str,
    ) {
        self.fees.insert(
            (code, modifier),
            Fee {
                price,
                description: description.to_string(),
            },
        );
    }

    /// The fee for a code and modifiers: the first modifier's row, else the code's row.
    pub fn fee(&self, code: &ProcedureCode, modifiers: &[Modifier]) -> Option<&Fee> {
        modifiers
            .first()
            .and_then(|m| self.fees.get(&(code.clone(), Some(*m))))
            .or_else(|| self.fees.get(&(code.clone(), None)))
    }

    /// Prices a charge request.
    ///
    /// # Errors
    /// Validation errors, [`ChargeError::NoPrice`] or overflow.
    pub fn price(&self, id: ChargeId, req: ChargeRequest) -> Result<Charge, ChargeError> {
        if req.modifiers.len() > 4 {
            return Err(ChargeError::TooManyModifiers);
        }
        if req.units == 0 {
            return Err(ChargeError::ZeroUnits);
        }
        let p = &req.diagnosis_pointers;
        let distinct = p.iter().enumerate().all(|(i, x)| !p[..i].contains(x));
        if p.is_empty() || p.len() > 4 || !distinct || p.iter().any(|x| !(1..=12).contains(x)) {
            return Err(ChargeError::InvalidDiagnosisPointers);
        }
        let fee = self
            .fee(&req.code, &req.modifiers)
            .ok_or_else(|| ChargeError::NoPrice {
                code: req.code.to_string(),
            })?;
        let amount = fee.price.checked_mul(i64::from(req.units))?;
        Ok(Charge {
            id,
            unit_price: fee.price,
            amount,
            description: fee.description.clone(),
            request: req,
        })
    }
}

/// What was done, before pricing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    /// The patient.
    pub patient: PatientId,
    /// The encounter.
    pub encounter: EncounterId,
    /// Procedure code.
    pub code: ProcedureCode,
    /// Up to four modifiers.
    pub modifiers: Vec<Modifier>,
    /// Units (at least one).
    pub units: u32,
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// Rendering provider.
    pub rendering_provider: ProviderId,
    /// Pointers (1-based) into the claim's diagnosis list, one to four.
    pub diagnosis_pointers: Vec<u8>,
}

impl ChargeRequest {
    /// One unit of `code` with no modifiers, pointing at the claim's first diagnosis; change
    /// those with the `with_*` methods.
    pub fn new(
        patient: PatientId,
        encounter: EncounterId,
        code: ProcedureCode,
        date_of_service: NaiveDate,
        rendering_provider: ProviderId,
    ) -> Self {
        Self {
            patient,
            encounter,
            code,
            modifiers: Vec::new(),
            units: 1,
            date_of_service,
            rendering_provider,
            diagnosis_pointers: vec![1],
        }
    }

    /// Sets the units.
    #[must_use]
    pub fn with_units(mut self, units: u32) -> Self {
        self.units = units;
        self
    }

    /// Adds a modifier.
    #[must_use]
    pub fn with_modifier(mut self, modifier: Modifier) -> Self {
        self.modifiers.push(modifier);
        self
    }

    /// Sets the diagnosis pointers (1-based, one to four).
    #[must_use]
    pub fn with_diagnosis_pointers(mut self, pointers: Vec<u8>) -> Self {
        self.diagnosis_pointers = pointers;
        self
    }
}

/// A priced charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// Id.
    pub id: ChargeId,
    /// What was done.
    pub request: ChargeRequest,
    /// Unit price from the fee schedule.
    pub unit_price: Money,
    /// Unit price × units.
    pub amount: Money,
    /// Plain-language description.
    pub description: String,
}

/// Who a charge is billed to first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillTo {
    /// An insurer: the charge goes to its receivable.
    Payer(OrganisationId),
    /// The patient pays directly.
    SelfPay,
}

/// Entry id of a charge's capture.
pub fn capture_entry_id(charge: ChargeId) -> EntryId {
    EntryId::derive(&[b"charge", charge.as_uuid().as_bytes()])
}

impl Books {
    /// Captures a charge: debits the payer's or patient's receivable and credits revenue.
    /// Capturing the same charge again is an idempotent no-op.
    ///
    /// # Errors
    /// [`ChargeError::Rejected`] when the ledger refuses; [`ChargeError::Account`].
    pub fn capture_charge(
        &mut self,
        charge: &Charge,
        bill_to: BillTo,
        by: &Actor,
        at: Timestamp,
    ) -> Result<Applied, ChargeError> {
        let receivable = match bill_to {
            BillTo::Payer(p) => self.payer_account(p)?,
            BillTo::SelfPay => self.patient_account(charge.request.patient)?,
        };
        let postings = [
            Posting::debit(receivable, charge.amount),
            Posting::credit(self.clinic.revenue, charge.amount),
        ];
        let entry = NewEntry::posted(capture_entry_id(charge.id), at, &postings)
            .with_refs(References {
                patient: Some(charge.request.patient),
                claim: None,
                encounter: Some(charge.request.encounter),
            })
            .with_code(chart::entry::CHARGE)
            .by(by);
        Ok(self.ledger.apply(&entry)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_modifiers() {
        for ok in ["99213", "0001F", "0042T", "J1100", "G0008", "a4550"] {
            assert!(ProcedureCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["9921", "992133", "W1234", "J110A", "", "99-13"] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ProcedureCode::parse("j1100").map(|c| c.code_set()),
            Ok(CodeSet::Hcpcs)
        );
        assert!(Modifier::parse("25").is_ok());
        assert!(Modifier::parse("2").is_err());
    }
}
