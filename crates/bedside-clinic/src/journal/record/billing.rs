//! Billing: `charge`, `remittance` and `payment`. Amounts are integer cents (`_minor`).

use super::common::{id, id_text, id_texts, ids, opt_id};
use super::people::{ActorRecord, system_actor};
use crate::clinic::{Charge, Payment, Remittance};
use crate::journal::JournalError;
use bedside_core::Sensitive;
use serde::{Deserialize, Serialize};

/// Who charged or recorded a payment in journals written before it was recorded (the
/// clinic's billing desk).
pub(crate) const BILLING_DESK: &str = "billing-desk";

/// Who posted a remittance in journals written before it was recorded.
pub(crate) const REMITTANCE_IMPORTER: &str = "remittance-import";

fn actor_or(by: Option<ActorRecord>, component: &str) -> Result<bedside_core::Actor, JournalError> {
    by.unwrap_or_else(|| system_actor(component)).try_into()
}

/// `charge`: visit charges from the fee schedule, billed as one claim.
#[derive(Serialize, Deserialize)]
pub struct ChargeRecord {
    /// The appointment.
    pub appointment: String,
    /// Procedure codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// New charge ids, one per code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charge_ids: Vec<String>,
    /// New claim id.
    pub claim: String,
    /// Units per code (absent in older journals: one each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<u32>,
    /// The claim this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// Who charged (absent in older journals: the billing desk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ActorRecord>,
}

impl TryFrom<ChargeRecord> for Charge {
    type Error = JournalError;
    fn try_from(r: ChargeRecord) -> Result<Self, JournalError> {
        Ok(Charge {
            appointment: id(&r.appointment, "appointment")?,
            codes: r.codes,
            charge_ids: ids(&r.charge_ids, "charge_ids")?,
            claim: id(&r.claim, "claim")?,
            units: r.units,
            replaces: opt_id(r.replaces.as_deref(), "replaces")?,
            by: actor_or(r.by, BILLING_DESK)?,
        })
    }
}

impl From<&Charge> for ChargeRecord {
    fn from(c: &Charge) -> Self {
        let Charge {
            appointment,
            codes,
            charge_ids,
            claim,
            units,
            replaces,
            by,
        } = c;
        Self {
            appointment: id_text(appointment),
            codes: codes.clone(),
            charge_ids: id_texts(charge_ids),
            claim: id_text(claim),
            units: units.clone(),
            replaces: replaces.as_ref().map(id_text),
            by: Some(by.into()),
        }
    }
}

/// `remittance`: an X12 835 file posted to the ledger.
#[derive(Serialize, Deserialize)]
pub struct RemittanceRecord {
    /// The file's text.
    pub body: String,
    /// Who posted it (absent in older journals: the importer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ActorRecord>,
}

impl TryFrom<RemittanceRecord> for Remittance {
    type Error = JournalError;
    fn try_from(r: RemittanceRecord) -> Result<Self, JournalError> {
        Ok(Remittance {
            body: Sensitive::new(r.body),
            by: actor_or(r.by, REMITTANCE_IMPORTER)?,
        })
    }
}

impl From<&Remittance> for RemittanceRecord {
    fn from(c: &Remittance) -> Self {
        let Remittance { body, by } = c;
        Self {
            body: body.expose().clone(),
            by: Some(by.into()),
        }
    }
}

/// `payment`: a patient payment.
#[derive(Serialize, Deserialize)]
pub struct PaymentRecord {
    /// The patient.
    pub patient: String,
    /// Amount in cents.
    pub amount_minor: i64,
    /// Payment id.
    pub id: String,
    /// The caller's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Whether more than the balance is recorded as a credit.
    #[serde(default)]
    pub credit: bool,
    /// Who paid or recorded it (absent in older journals: the billing desk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ActorRecord>,
}

impl TryFrom<PaymentRecord> for Payment {
    type Error = JournalError;
    fn try_from(r: PaymentRecord) -> Result<Self, JournalError> {
        Ok(Payment {
            patient: id(&r.patient, "patient")?,
            amount_minor: r.amount_minor,
            id: id(&r.id, "id")?,
            client_token: r.client_token,
            credit: r.credit,
            by: actor_or(r.by, BILLING_DESK)?,
        })
    }
}

impl From<&Payment> for PaymentRecord {
    fn from(c: &Payment) -> Self {
        let Payment {
            patient,
            amount_minor,
            id,
            client_token,
            credit,
            by,
        } = c;
        Self {
            patient: id_text(patient),
            amount_minor: *amount_minor,
            id: id_text(id),
            client_token: client_token.clone(),
            credit: *credit,
            by: Some(by.into()),
        }
    }
}
