//! FHIR R4 mapping for the billing resources: `Account`, `ChargeItem`, `Claim`,
//! `ClaimResponse`, `ExplanationOfBenefit` and `Invoice`.
//!
//! Each resource has a typed model that reads the elements Bedside uses (import) and writes
//! them back (export); elements outside the model are dropped, and [`round_trip`] reports them
//! so a caller knows what a round trip loses. Money amounts become [`Money`] (integer minor
//! units); the JSON number is read through its decimal text, never through arithmetic on a
//! float. Names, free text and identifier values are held as [`Sensitive`]. The `export_*`
//! functions map Bedside's own claims, adjudications, charges and statements to FHIR.

use crate::charge::Charge;
use crate::claim::{Adjudication, Claim, ClaimStatus};
use crate::money::{Currency, Money};
use crate::statement::Statement;
use bedside_core::{PatientId, Sensitive};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

/// Errors of FHIR import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    /// Occurs when the input is not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// Occurs when `resourceType` is not one of the billing resources.
    #[error("unsupported resourceType `{0}`")]
    Unsupported(String),
    /// Occurs when an element has the wrong shape (the message names the element, not data).
    #[error("invalid {resource}: {message}")]
    Invalid {
        /// Resource type.
        resource: &'static str,
        /// What was wrong.
        message: String,
    },
}

/// A FHIR `Money`: `{ "value": 135.57, "currency": "USD" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FhirMoney(pub Money);

impl Serialize for FhirMoney {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value: Number = self
            .0
            .format_decimal()
            .parse()
            .map_err(serde::ser::Error::custom)?;
        let mut m = Map::new();
        m.insert("value".into(), Value::Number(value));
        m.insert(
            "currency".into(),
            Value::String(self.0.currency().code().into()),
        );
        Value::Object(m).serialize(s)
    }
}

impl<'de> Deserialize<'de> for FhirMoney {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            value: Option<Number>,
            currency: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        let code = raw
            .currency
            .ok_or_else(|| D::Error::custom("Money.currency is required by Bedside"))?;
        let currency =
            Currency::from_code(&code).map_err(|_| D::Error::custom("unknown Money.currency"))?;
        let value = raw
            .value
            .ok_or_else(|| D::Error::custom("Money.value is missing"))?;
        // serde_json prints the shortest decimal that reads back as the same number, which
        // for money amounts is the decimal that was written.
        Money::parse_decimal(&value.to_string(), currency)
            .map(FhirMoney)
            .map_err(|_| D::Error::custom("Money.value is not an amount in its currency"))
    }
}

/// `Coding`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Coding {
    /// System.
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Display.
    pub display: Option<String>,
}

/// `CodeableConcept`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codings.
    pub coding: Vec<Coding>,
    /// Text.
    pub text: Option<String>,
}

impl CodeableConcept {
    fn code(system: Option<&str>, code: &str, display: Option<&str>) -> Self {
        Self {
            coding: vec![Coding {
                system: system.map(str::to_string),
                code: Some(code.to_string()),
                display: display.map(str::to_string),
            }],
            text: None,
        }
    }
    /// The first code.
    pub fn first_code(&self) -> Option<&str> {
        self.coding.iter().find_map(|c| c.code.as_deref())
    }
}

/// `Identifier` (the value is PHI-adjacent and kept sensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Identifier {
    /// System.
    pub system: Option<String>,
    /// Value.
    pub value: Option<Sensitive<String>>,
}

/// `Reference`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Reference {
    /// Literal reference (`Patient/123`).
    pub reference: Option<String>,
    /// Logical identifier.
    pub identifier: Option<Identifier>,
    /// Display text (often a name).
    pub display: Option<Sensitive<String>>,
}

impl Reference {
    fn to(kind: &str, id: impl std::fmt::Display) -> Self {
        Self {
            reference: Some(format!("{kind}/{id}")),
            ..Self::default()
        }
    }
}

/// `Period` (dateTime strings kept as written).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Period {
    /// Start.
    pub start: Option<String>,
    /// End.
    pub end: Option<String>,
}

/// `Narrative`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Narrative {
    /// Status.
    pub status: Option<String>,
    /// XHTML (free text: sensitive).
    pub div: Option<Sensitive<String>>,
}

/// `Quantity` (value only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Quantity {
    /// Value.
    pub value: Option<Number>,
}

/// `Annotation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Annotation {
    /// Author.
    pub author_reference: Option<Reference>,
    /// Time.
    pub time: Option<String>,
    /// Text (sensitive).
    pub text: Option<Sensitive<String>>,
}

/// `Account.coverage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccountCoverage {
    /// Coverage.
    pub coverage: Option<Reference>,
    /// Priority.
    pub priority: Option<u32>,
}

/// `Account.guarantor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Guarantor {
    /// Party.
    pub party: Option<Reference>,
    /// On hold.
    pub on_hold: Option<bool>,
    /// Period.
    pub period: Option<Period>,
}

/// FHIR `Account`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Account {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Name (often contains the patient's name).
    pub name: Option<Sensitive<String>>,
    /// Subjects.
    pub subject: Vec<Reference>,
    /// Service period.
    pub service_period: Option<Period>,
    /// Coverages.
    pub coverage: Vec<AccountCoverage>,
    /// Owner.
    pub owner: Option<Reference>,
    /// Description.
    pub description: Option<Sensitive<String>>,
    /// Guarantors.
    pub guarantor: Vec<Guarantor>,
}

/// `ChargeItem.performer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Performer {
    /// Function.
    pub function: Option<CodeableConcept>,
    /// Actor.
    pub actor: Option<Reference>,
}

/// FHIR `ChargeItem`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ChargeItem {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Definition URIs.
    pub definition_uri: Vec<String>,
    /// Status.
    pub status: Option<String>,
    /// Code.
    pub code: Option<CodeableConcept>,
    /// Subject.
    pub subject: Option<Reference>,
    /// Encounter or episode.
    pub context: Option<Reference>,
    /// When (date-time).
    pub occurrence_date_time: Option<String>,
    /// When (period).
    pub occurrence_period: Option<Period>,
    /// Performers.
    pub performer: Vec<Performer>,
    /// Performing organisation.
    pub performing_organization: Option<Reference>,
    /// Requesting organisation.
    pub requesting_organization: Option<Reference>,
    /// Quantity.
    pub quantity: Option<Quantity>,
    /// Price factor override.
    pub factor_override: Option<Number>,
    /// Price override.
    pub price_override: Option<FhirMoney>,
    /// Why overridden (free text).
    pub override_reason: Option<Sensitive<String>>,
    /// Enterer.
    pub enterer: Option<Reference>,
    /// Entered date.
    pub entered_date: Option<String>,
    /// Reasons.
    pub reason: Vec<CodeableConcept>,
    /// Services.
    pub service: Vec<Reference>,
    /// Accounts.
    pub account: Vec<Reference>,
    /// Notes.
    pub note: Vec<Annotation>,
}

/// `Claim.payee` / `ExplanationOfBenefit.payee`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Payee {
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Party.
    pub party: Option<Reference>,
}

/// `Claim.careTeam`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CareTeam {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Provider.
    pub provider: Option<Reference>,
}

/// `Claim.supportingInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SupportingInfo {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Category.
    pub category: Option<CodeableConcept>,
    /// Code.
    pub code: Option<CodeableConcept>,
    /// Timing (date).
    pub timing_date: Option<String>,
    /// Timing (period).
    pub timing_period: Option<Period>,
    /// Value (free text).
    pub value_string: Option<Sensitive<String>>,
    /// Reason.
    pub reason: Option<CodeableConcept>,
}

/// `Claim.diagnosis`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Diagnosis {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Diagnosis code.
    pub diagnosis_codeable_concept: Option<CodeableConcept>,
}

/// `Claim.procedure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClaimProcedure {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Types.
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    /// Date.
    pub date: Option<String>,
    /// Procedure code.
    pub procedure_codeable_concept: Option<CodeableConcept>,
    /// Devices.
    pub udi: Vec<Reference>,
}

/// `Claim.insurance` / `ExplanationOfBenefit.insurance`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Insurance {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Focal.
    pub focal: Option<bool>,
    /// Identifier.
    pub identifier: Option<Identifier>,
    /// Coverage.
    pub coverage: Option<Reference>,
}

/// An adjudication line (`ClaimResponse.item.adjudication`, EOB the same).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AdjudicationLine {
    /// Category (`submitted`, `eligible`, `copay`, `deductible`, `benefit`, …).
    pub category: Option<CodeableConcept>,
    /// Reason.
    pub reason: Option<CodeableConcept>,
    /// Amount.
    pub amount: Option<FhirMoney>,
    /// Non-monetary value (percent).
    pub value: Option<Number>,
}

/// A billed line, with details and sub-details (`Claim.item`, EOB `item`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Item {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Care team pointers.
    pub care_team_sequence: Vec<u32>,
    /// Diagnosis pointers.
    pub diagnosis_sequence: Vec<u32>,
    /// Supporting information pointers.
    pub information_sequence: Vec<u32>,
    /// Product or service.
    pub product_or_service: Option<CodeableConcept>,
    /// Date of service.
    pub serviced_date: Option<String>,
    /// Place of service.
    pub location_codeable_concept: Option<CodeableConcept>,
    /// Unit price.
    pub unit_price: Option<FhirMoney>,
    /// Price factor.
    pub factor: Option<Number>,
    /// Net.
    pub net: Option<FhirMoney>,
    /// Body site.
    pub body_site: Option<CodeableConcept>,
    /// Sub-sites.
    pub sub_site: Vec<CodeableConcept>,
    /// Encounters.
    pub encounter: Vec<Reference>,
    /// Devices.
    pub udi: Vec<Reference>,
    /// Adjudication (EOB).
    pub adjudication: Vec<AdjudicationLine>,
    /// Details.
    pub detail: Vec<Item>,
    /// Sub-details.
    pub sub_detail: Vec<Item>,
}

/// FHIR `Claim`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FhirClaim {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Sub-type.
    pub sub_type: Option<CodeableConcept>,
    /// Use.
    #[serde(rename = "use")]
    pub purpose: Option<String>,
    /// Patient.
    pub patient: Option<Reference>,
    /// Created.
    pub created: Option<String>,
    /// Enterer.
    pub enterer: Option<Reference>,
    /// Insurer.
    pub insurer: Option<Reference>,
    /// Provider.
    pub provider: Option<Reference>,
    /// Priority.
    pub priority: Option<CodeableConcept>,
    /// Payee.
    pub payee: Option<Payee>,
    /// Facility.
    pub facility: Option<Reference>,
    /// Care team.
    pub care_team: Vec<CareTeam>,
    /// Supporting information.
    pub supporting_info: Vec<SupportingInfo>,
    /// Diagnoses.
    pub diagnosis: Vec<Diagnosis>,
    /// Procedures.
    pub procedure: Vec<ClaimProcedure>,
    /// Insurance.
    pub insurance: Vec<Insurance>,
    /// Items.
    pub item: Vec<Item>,
    /// Total.
    pub total: Option<FhirMoney>,
}

/// `ClaimResponse.item`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseItem {
    /// The claim item.
    pub item_sequence: Option<u32>,
    /// Adjudication.
    pub adjudication: Vec<AdjudicationLine>,
}

/// `ClaimResponse.total` / EOB `total`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Total {
    /// Category.
    pub category: Option<CodeableConcept>,
    /// Amount.
    pub amount: Option<FhirMoney>,
}

/// `ClaimResponse.payment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Payment {
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Date.
    pub date: Option<String>,
    /// Amount.
    pub amount: Option<FhirMoney>,
    /// Identifier.
    pub identifier: Option<Identifier>,
}

/// `ClaimResponse.processNote`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProcessNote {
    /// Number.
    pub number: Option<u32>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Text.
    pub text: Option<Sensitive<String>>,
    /// Language.
    pub language: Option<CodeableConcept>,
}

/// `ClaimResponse.error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseError {
    /// Item.
    pub item_sequence: Option<u32>,
    /// Detail.
    pub detail_sequence: Option<u32>,
    /// Code.
    pub code: Option<CodeableConcept>,
}

/// FHIR `ClaimResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FhirClaimResponse {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Sub-type.
    pub sub_type: Option<CodeableConcept>,
    /// Use.
    #[serde(rename = "use")]
    pub purpose: Option<String>,
    /// Patient.
    pub patient: Option<Reference>,
    /// Created.
    pub created: Option<String>,
    /// Insurer.
    pub insurer: Option<Reference>,
    /// Requestor.
    pub requestor: Option<Reference>,
    /// The claim.
    pub request: Option<Reference>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Disposition (free text).
    pub disposition: Option<Sensitive<String>>,
    /// Payee type.
    pub payee_type: Option<CodeableConcept>,
    /// Items.
    pub item: Vec<ResponseItem>,
    /// Totals.
    pub total: Vec<Total>,
    /// Payment.
    pub payment: Option<Payment>,
    /// Form code.
    pub form_code: Option<CodeableConcept>,
    /// Notes.
    pub process_note: Vec<ProcessNote>,
    /// Communication requests.
    pub communication_request: Vec<Reference>,
    /// Errors.
    pub error: Vec<ResponseError>,
}

/// FHIR `ExplanationOfBenefit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ExplanationOfBenefit {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    /// Use.
    #[serde(rename = "use")]
    pub purpose: Option<String>,
    /// Patient.
    pub patient: Option<Reference>,
    /// Created.
    pub created: Option<String>,
    /// Enterer.
    pub enterer: Option<Reference>,
    /// Insurer.
    pub insurer: Option<Reference>,
    /// Provider.
    pub provider: Option<Reference>,
    /// Payee.
    pub payee: Option<Payee>,
    /// Facility.
    pub facility: Option<Reference>,
    /// The claim.
    pub claim: Option<Reference>,
    /// The claim response.
    pub claim_response: Option<Reference>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Disposition.
    pub disposition: Option<Sensitive<String>>,
    /// Care team.
    pub care_team: Vec<CareTeam>,
    /// Insurance.
    pub insurance: Vec<Insurance>,
    /// Items.
    pub item: Vec<Item>,
    /// Totals.
    pub total: Vec<Total>,
}

/// `Invoice.participant`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Participant {
    /// Role.
    pub role: Option<CodeableConcept>,
    /// Actor.
    pub actor: Option<Reference>,
}

/// FHIR `Invoice`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Invoice {
    /// Logical id.
    pub id: Option<String>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Identifiers.
    pub identifier: Vec<Identifier>,
    /// Status.
    pub status: Option<String>,
    /// Subject.
    pub subject: Option<Reference>,
    /// Date.
    pub date: Option<String>,
    /// Participants.
    pub participant: Vec<Participant>,
    /// Issuer.
    pub issuer: Option<Reference>,
    /// Account.
    pub account: Option<Reference>,
    /// Total net.
    pub total_net: Option<FhirMoney>,
    /// Total gross.
    pub total_gross: Option<FhirMoney>,
}

/// One billing resource.
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

/// Drops anything serde quotes from the input (`invalid type: string "…"`), keeping element
/// names (in backticks) and expected types, so messages never carry PHI.
fn redact_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for ch in message.chars() {
        if ch == '"' {
            if !quoted {
                out.push_str("\"<redacted>\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(ch);
        }
    }
    out
}

fn typed<T: for<'de> Deserialize<'de>>(v: Value, resource: &'static str) -> Result<T, FhirError> {
    serde_json::from_value(v).map_err(|e| FhirError::Invalid {
        resource,
        message: redact_message(&e.to_string()),
    })
}

/// Removes nulls, empty arrays and empty objects.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(a) => {
            let a: Vec<Value> = a.into_iter().filter_map(prune).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(o) => {
            let o: Map<String, Value> = o
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!o.is_empty()).then_some(Value::Object(o))
        }
        other => Some(other),
    }
}

impl BillingResource {
    /// Imports a resource from JSON.
    ///
    /// # Errors
    /// [`FhirError`] for bad JSON, other resource types or malformed elements.
    pub fn from_json(value: Value) -> Result<Self, FhirError> {
        let kind = value
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Ok(match kind.as_str() {
            "Account" => Self::Account(typed(value, "Account")?),
            "ChargeItem" => Self::ChargeItem(typed(value, "ChargeItem")?),
            "Claim" => Self::Claim(typed(value, "Claim")?),
            "ClaimResponse" => Self::ClaimResponse(typed(value, "ClaimResponse")?),
            "ExplanationOfBenefit" => {
                Self::ExplanationOfBenefit(typed(value, "ExplanationOfBenefit")?)
            }
            "Invoice" => Self::Invoice(typed(value, "Invoice")?),
            _ => return Err(FhirError::Unsupported(kind.chars().take(40).collect())),
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

    /// Exports to JSON (with `resourceType` first, no empty elements).
    pub fn to_json(&self) -> Value {
        let body = match self {
            Self::Account(r) => serde_json::to_value(r),
            Self::ChargeItem(r) => serde_json::to_value(r),
            Self::Claim(r) => serde_json::to_value(r),
            Self::ClaimResponse(r) => serde_json::to_value(r),
            Self::ExplanationOfBenefit(r) => serde_json::to_value(r),
            Self::Invoice(r) => serde_json::to_value(r),
        };
        let mut out = Map::new();
        out.insert(
            "resourceType".into(),
            Value::String(self.resource_type().into()),
        );
        if let Some(Value::Object(o)) = body.ok().and_then(prune) {
            out.extend(o);
        }
        Value::Object(out)
    }
}

/// What a round trip kept and lost.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    /// The imported resource.
    pub resource: BillingResource,
    /// The exported JSON.
    pub exported: Value,
    /// Leaf element paths of the input that the export does not reproduce.
    pub lost: Vec<String>,
    /// Whether importing the export gives the same model.
    pub stable: bool,
}

fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                leaves(x, format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{path}[{i}]"), out);
            }
        }
        other => out.push((path, other.clone())),
    }
}

fn same_leaf(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_string() == y.to_string() || x.as_f64() == y.as_f64()
        }
        _ => a == b,
    }
}

/// Imports, exports and re-imports a resource, reporting lost elements by path (the paths
/// are element names and indices, never values).
///
/// # Errors
/// [`FhirError`] when the input cannot be imported.
pub fn round_trip(input: &Value) -> Result<RoundTrip, FhirError> {
    let resource = BillingResource::from_json(input.clone())?;
    let exported = resource.to_json();
    let again = BillingResource::from_json(exported.clone())?;
    let mut original = Vec::new();
    leaves(input, String::new(), &mut original);
    let mut produced = Vec::new();
    leaves(&exported, String::new(), &mut produced);
    let produced: std::collections::HashMap<String, Value> = produced.into_iter().collect();
    let lost = original
        .into_iter()
        .filter(|(p, v)| !produced.get(p).is_some_and(|w| same_leaf(v, w)))
        .map(|(p, _)| p)
        .collect();
    Ok(RoundTrip {
        stable: again == resource,
        resource,
        exported,
        lost,
    })
}

fn money(m: Money) -> Option<FhirMoney> {
    Some(FhirMoney(m))
}

fn category(code: &str) -> Option<CodeableConcept> {
    Some(CodeableConcept::code(
        Some("http://terminology.hl7.org/CodeSystem/adjudication"),
        code,
        None,
    ))
}

/// Exports a Bedside claim as a FHIR `Claim`.
pub fn export_claim(claim: &Claim) -> FhirClaim {
    FhirClaim {
        id: Some(claim.id.to_string()),
        status: Some(
            match claim.status {
                ClaimStatus::Draft => "draft",
                // Superseded by a corrected claim: no longer in force.
                ClaimStatus::Replaced => "cancelled",
                _ => "active",
            }
            .into(),
        ),
        kind: Some(CodeableConcept::code(
            Some("http://terminology.hl7.org/CodeSystem/claim-type"),
            "professional",
            None,
        )),
        purpose: Some("claim".into()),
        patient: Some(Reference::to("Patient", claim.patient)),
        insurer: Some(Reference::to("Organization", claim.payer)),
        priority: Some(CodeableConcept::code(None, "normal", None)),
        insurance: vec![Insurance {
            sequence: Some(1),
            focal: Some(true),
            coverage: Some(Reference::to("Coverage", claim.coverage)),
            ..Insurance::default()
        }],
        item: claim
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| Item {
                sequence: Some(i as u32 + 1),
                product_or_service: Some(CodeableConcept::code(
                    Some("http://www.ama-assn.org/go/cpt"),
                    l.code.as_str(),
                    None,
                )),
                serviced_date: Some(l.date_of_service.to_string()),
                net: money(l.amount),
                ..Item::default()
            })
            .collect(),
        total: money(claim.total),
        ..FhirClaim::default()
    }
}

/// Exports a payer decision as a FHIR `ClaimResponse` (claim-level adjudication and totals).
pub fn export_claim_response(claim: &Claim, a: &Adjudication) -> FhirClaimResponse {
    let patient = a.patient.total().unwrap_or(a.patient.other);
    FhirClaimResponse {
        id: Some(format!("{}-response", claim.id)),
        status: Some("active".into()),
        purpose: Some("claim".into()),
        patient: Some(Reference::to("Patient", claim.patient)),
        insurer: Some(Reference::to("Organization", claim.payer)),
        request: Some(Reference::to("Claim", claim.id)),
        outcome: Some(if a.denied { "error" } else { "complete" }.into()),
        item: a
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| ResponseItem {
                item_sequence: Some(i as u32 + 1),
                adjudication: vec![
                    AdjudicationLine {
                        category: category("submitted"),
                        amount: money(l.charge),
                        ..AdjudicationLine::default()
                    },
                    AdjudicationLine {
                        category: category("benefit"),
                        amount: money(l.paid),
                        ..AdjudicationLine::default()
                    },
                ],
            })
            .collect(),
        total: vec![
            Total {
                category: category("submitted"),
                amount: money(a.charge),
            },
            Total {
                category: category("benefit"),
                amount: money(a.paid),
            },
            Total {
                category: category("deductible"),
                amount: money(a.patient.deductible),
            },
            Total {
                category: category("copay"),
                amount: money(a.patient.copay),
            },
            Total {
                category: Some(CodeableConcept::code(None, "patient-responsibility", None)),
                amount: money(patient),
            },
        ],
        payment: Some(Payment {
            amount: money(a.paid),
            ..Payment::default()
        }),
        ..FhirClaimResponse::default()
    }
}

/// Exports a claim and its decision as a FHIR `ExplanationOfBenefit`.
pub fn export_explanation_of_benefit(claim: &Claim, a: &Adjudication) -> ExplanationOfBenefit {
    let response = export_claim_response(claim, a);
    ExplanationOfBenefit {
        id: Some(format!("{}-eob", claim.id)),
        status: Some("active".into()),
        purpose: Some("claim".into()),
        patient: response.patient.clone(),
        insurer: response.insurer.clone(),
        claim: Some(Reference::to("Claim", claim.id)),
        outcome: response.outcome.clone(),
        item: export_claim(claim)
            .item
            .into_iter()
            .zip(response.item.iter())
            .map(|(mut item, r)| {
                item.adjudication = r.adjudication.clone();
                item
            })
            .collect(),
        total: response.total,
        ..ExplanationOfBenefit::default()
    }
}

/// Exports a charge as a FHIR `ChargeItem`.
pub fn export_charge_item(charge: &Charge) -> ChargeItem {
    ChargeItem {
        id: Some(charge.id.to_string()),
        status: Some("billable".into()),
        code: Some(CodeableConcept::code(
            Some("http://www.ama-assn.org/go/cpt"),
            charge.request.code.as_str(),
            Some(&charge.description),
        )),
        subject: Some(Reference::to("Patient", charge.request.patient)),
        context: Some(Reference::to("Encounter", charge.request.encounter)),
        occurrence_date_time: Some(charge.request.date_of_service.to_string()),
        performer: vec![Performer {
            function: None,
            actor: Some(Reference::to(
                "Practitioner",
                charge.request.rendering_provider,
            )),
        }],
        quantity: Some(Quantity {
            value: Some(Number::from(charge.request.units)),
        }),
        price_override: money(charge.unit_price),
        ..ChargeItem::default()
    }
}

/// Exports a statement as a FHIR `Invoice` (net = what the patient owes now, gross = billed).
pub fn export_invoice(patient: PatientId, statement: &Statement) -> Invoice {
    Invoice {
        status: Some("issued".into()),
        subject: Some(Reference::to("Patient", patient)),
        date: Some(statement.statement_date.to_string()),
        total_net: money(statement.amount_due),
        total_gross: money(statement.total_billed),
        ..Invoice::default()
    }
}

/// Exports a patient's billing account with its current balance in the description.
pub fn export_account(patient: PatientId, balance: Money) -> Account {
    Account {
        id: Some(format!("{patient}-billing")),
        status: Some("active".into()),
        kind: Some(CodeableConcept::code(
            Some("http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            "PBILLACCT",
            Some("patient billing account"),
        )),
        subject: vec![Reference::to("Patient", patient)],
        description: Some(Sensitive::new(format!(
            "balance {}",
            balance.format_decimal()
        ))),
        guarantor: vec![Guarantor {
            party: Some(Reference::to("Patient", patient)),
            on_hold: Some(false),
            period: None,
        }],
        ..Account::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_reads_decimal_text_and_round_trips() {
        let v = json!({"resourceType": "Invoice", "id": "x", "totalNet": {"value": 135.57, "currency": "USD"}, "totalGross": {"value": 40, "currency": "EUR"}});
        let r = round_trip(&v).unwrap_or_else(|e| panic!("{e}"));
        let BillingResource::Invoice(inv) = &r.resource else {
            panic!("not an invoice")
        };
        assert_eq!(
            inv.total_net,
            Some(FhirMoney(Money::new(13_557, Currency::USD)))
        );
        assert_eq!(
            inv.total_gross,
            Some(FhirMoney(Money::new(4_000, Currency::EUR)))
        );
        assert!(r.stable);
        assert_eq!(r.lost, Vec::<String>::new());
    }

    #[test]
    fn unmodelled_elements_are_reported_as_lost() {
        let v = json!({"resourceType": "Account", "id": "a", "status": "active", "partOf": {"reference": "Account/b"}});
        let r = round_trip(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.lost, vec![".partOf.reference".to_string()]);
    }

    #[test]
    fn error_messages_never_echo_values() {
        let v = json!({"resourceType": "Account", "name": ["Peter Chalmers"]});
        let err = round_trip(&v).map(|_| ()).unwrap_err().to_string();
        assert!(!err.contains("Peter"), "{err}");
        let v = json!({"resourceType": "Account", "status": {"x": "Peter Chalmers"}});
        let err = round_trip(&v).map(|_| ()).unwrap_err().to_string();
        assert!(!err.contains("Peter"), "{err}");
        assert_eq!(
            redact_message(r#"invalid type: string "Jane", expected u32"#),
            r#"invalid type: string "<redacted>", expected u32"#
        );
    }

    #[test]
    fn bad_money_and_types_fail_cleanly() {
        for v in [
            json!({"resourceType": "Invoice", "totalNet": {"value": 1.234, "currency": "USD"}}),
            json!({"resourceType": "Invoice", "totalNet": {"value": 1}}),
            json!({"resourceType": "Patient"}),
            json!({"resourceType": "Claim", "item": "nope"}),
        ] {
            assert!(round_trip(&v).is_err(), "{v}");
        }
    }
}
