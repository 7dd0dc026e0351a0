//! FHIR R4 mapping for the billing resources: `Account`, `ChargeItem`, `Claim`,
//! `ClaimResponse`, `ExplanationOfBenefit` and `Invoice`, on [`bedside_fhir`].
//!
//! Import ([`BillingResource::from_json`], [`BillingResource::from_slice`]) reads the elements
//! the ledger uses into typed models and keeps every other element verbatim in the models'
//! `unmodelled` maps — including `contained` resources, both forms of the choice elements
//! (`diagnosisCodeableConcept` / `diagnosisReference`, …), `supportingInfo`, `meta` — so
//! export writes back what came in. Money stays a [`bedside_fhir::Money`] on an exact decimal
//! (`112.41600000000001` is kept as written); it becomes ledger [`crate::Money`] only when it
//! is posted, through [`to_ledger_money`], by the ledger's one rounding rule (half away from
//! zero). Errors are [`bedside_fhir::FhirError`]: an element path and what was expected, never
//! input text.
//!
//! Export ([`export_claim`], [`export_claim_response`], [`export_explanation_of_benefit`],
//! [`export_charge_item`], [`export_invoice`], [`export_account`]) maps Bedside's claims,
//! adjudications, charges and statements to valid R4: every required element is written
//! (the claim's billing provider comes from a [`ClaimContext`], its creation time from its
//! status history) and every code carries its system.
//!
//! ```
//! use bedside_ledger::fhir::{BillingResource, round_trip, to_ledger_money};
//! let eob = serde_json::json!({"resourceType": "ExplanationOfBenefit", "status": "active",
//!     "total": [{"category": {"coding": [{"system":
//!         "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}]},
//!         "amount": {"value": 112.41600000000001, "currency": "USD"}}],
//!     "careTeam": [{"sequence": 1, "provider": {"reference": "Practitioner/1"}}]});
//! let r = round_trip(&eob)?;
//! assert!(r.lost.is_empty() && r.stable);
//! let BillingResource::ExplanationOfBenefit(e) = r.resource else { unreachable!() };
//! let posted = e.total[0].amount.as_ref().and_then(to_ledger_money);
//! assert_eq!(posted.map(|m| m.amount_minor()), Some(11_242));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod export;
mod parts;
mod resources;

pub use bedside_fhir::{FhirError, Imported};
pub use export::{
    ADJUDICATION_SYSTEM, ClaimContext, ExportError, bedside_adjudication_system, export_account,
    export_charge_item, export_claim, export_claim_response, export_explanation_of_benefit,
    export_invoice,
};
pub use parts::{
    AdjudicationLine, ConceptOrReference, Diagnosis, Header, Insurance, Item, Payment, Procedure,
    ResponseItem, Total,
};
pub use resources::{
    Account, ChargeItem, ExplanationOfBenefit, FhirClaim, FhirClaimResponse, Guarantor, Invoice,
    LineItem, Performer, PriceComponent, adjudication_amount,
};

use crate::money::{Currency, Money};
use bedside_fhir::{ElementPath, Limits, Problem, Reader, Rounding};
use serde_json::Value;

/// The resource types this module reads and writes.
pub const RESOURCE_TYPES: [&str; 6] = [
    "Account",
    "ChargeItem",
    "Claim",
    "ClaimResponse",
    "ExplanationOfBenefit",
    "Invoice",
];

/// One billing resource.
#[allow(
    clippy::large_enum_variant,
    reason = "resources are imported and exported one at a time, never held in bulk, so the size difference between variants costs nothing worth a box"
)]
#[derive(Debug, Clone, PartialEq)]
pub enum BillingResource {
    /// Account.
    Account(Account),
    /// ChargeItem.
    ChargeItem(ChargeItem),
    /// Claim.
    Claim(FhirClaim),
    /// ClaimResponse.
    ClaimResponse(FhirClaimResponse),
    /// ExplanationOfBenefit.
    ExplanationOfBenefit(ExplanationOfBenefit),
    /// Invoice.
    Invoice(Invoice),
}

impl BillingResource {
    /// Imports a resource from bytes, within [`Limits::default`].
    ///
    /// # Errors
    /// As [`Limits::parse_resource`] and [`BillingResource::import`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, FhirError> {
        let map = Limits::default().parse_resource(bytes)?;
        Self::import(Value::Object(map)).map(|i| i.value)
    }

    /// Imports a resource from JSON.
    ///
    /// # Errors
    /// As [`BillingResource::import`].
    pub fn from_json(value: Value) -> Result<Self, FhirError> {
        Self::import(value).map(|i| i.value)
    }

    /// Imports a resource from JSON, with the paths of the elements kept unmodelled.
    ///
    /// # Errors
    /// [`FhirError`] when the value breaks the depth or array [`Limits`], is not an object
    /// whose `resourceType` is a billing resource, or has an invalid `id`, `status`, `use`,
    /// `outcome` or date. No error carries input text.
    pub fn import(value: Value) -> Result<Imported<Self>, FhirError> {
        Limits::default().check(&value)?;
        let Value::Object(mut map) = value else {
            return Err(FhirError::wrong_type(&ElementPath::default(), "an object"));
        };
        let kind = match map.remove("resourceType") {
            Some(Value::String(s)) => s,
            _ => {
                return Err(FhirError::wrong_type(
                    &ElementPath::parse("resourceType"),
                    "a string",
                ));
            }
        };
        let Some(kind) = RESOURCE_TYPES.iter().find(|t| **t == kind) else {
            return Err(FhirError::new(
                ElementPath::parse("resourceType"),
                Problem::WrongResourceType {
                    expected: "a billing resource",
                },
            ));
        };
        let mut notes = Vec::new();
        let r = Reader::new(map, ElementPath::root(kind), &mut notes);
        let value = match *kind {
            "Account" => Self::Account(Account::read(r)?),
            "ChargeItem" => Self::ChargeItem(ChargeItem::read(r)?),
            "Claim" => Self::Claim(FhirClaim::read(r)?),
            "ClaimResponse" => Self::ClaimResponse(FhirClaimResponse::read(r)?),
            "ExplanationOfBenefit" => Self::ExplanationOfBenefit(ExplanationOfBenefit::read(r)?),
            _ => Self::Invoice(Invoice::read(r)?),
        };
        Ok(Imported {
            value,
            unmodelled: notes,
        })
    }

    /// The resource type name.
    pub fn resource_type(&self) -> &'static str {
        match self {
            Self::Account(_) => "Account",
            Self::ChargeItem(_) => "ChargeItem",
            Self::Claim(_) => "Claim",
            Self::ClaimResponse(_) => "ClaimResponse",
            Self::ExplanationOfBenefit(_) => "ExplanationOfBenefit",
            Self::Invoice(_) => "Invoice",
        }
    }

    /// Exports to JSON: the modelled elements, with the unmodelled ones merged back.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Account(r) => r.to_json(),
            Self::ChargeItem(r) => r.to_json(),
            Self::Claim(r) => r.to_json(),
            Self::ClaimResponse(r) => r.to_json(),
            Self::ExplanationOfBenefit(r) => r.to_json(),
            Self::Invoice(r) => r.to_json(),
        }
    }
}

/// What a round trip kept and lost.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    /// The imported resource.
    pub resource: BillingResource,
    /// The exported JSON.
    pub exported: Value,
    /// Paths (`$.item[0].net`) where the export differs from the input, by
    /// [`bedside_fhir::semantic_diff`]; element names and indexes only, never values.
    pub lost: Vec<String>,
    /// Whether importing the export gives the same model.
    pub stable: bool,
}

/// Imports, exports and re-imports a resource, reporting where the export differs.
///
/// # Errors
/// [`FhirError`] when the input (or, which would be a bug, the export) cannot be imported.
pub fn round_trip(input: &Value) -> Result<RoundTrip, FhirError> {
    let resource = BillingResource::from_json(input.clone())?;
    let exported = resource.to_json();
    let again = BillingResource::from_json(exported.clone())?;
    Ok(RoundTrip {
        lost: bedside_fhir::semantic_diff(input, &exported),
        stable: again == resource,
        resource,
        exported,
    })
}

/// A FHIR amount as ledger money, for posting: the currency must be one the ledger knows,
/// and the amount is rounded to its minor unit half away from zero (the ledger's one
/// rounding rule, see [`crate::money`]). `None` when the currency is unknown or missing, the
/// value is missing, or it does not fit.
pub fn to_ledger_money(amount: &bedside_fhir::Money) -> Option<Money> {
    let currency = Currency::from_code(amount.currency.as_deref()?).ok()?;
    let minor = amount
        .value
        .as_ref()?
        .to_scaled(u32::from(currency.exponent()), Rounding::HalfAwayFromZero)?;
    Some(Money::new(i64::try_from(minor).ok()?, currency))
}

/// Ledger money as a FHIR amount, exactly, in the text a JSON number reads back as
/// (`250.0`, `10.5`), so an exported model equals its re-import.
pub fn to_fhir_money(amount: Money) -> bedside_fhir::Money {
    let scaled = bedside_fhir::Decimal::from_scaled(
        i128::from(amount.amount_minor()),
        u32::from(amount.currency().exponent()),
    );
    let value = scaled
        .to_json()
        .as_number()
        .and_then(bedside_fhir::Decimal::from_number)
        .unwrap_or(scaled);
    bedside_fhir::Money::new(value, amount.currency().code())
}

#[cfg(test)]
mod tests;
