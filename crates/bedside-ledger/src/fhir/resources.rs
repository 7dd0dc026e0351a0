//! The six billing resources: what each models, how it is read and written.
//!
//! Reading takes the modelled elements out of the JSON object and keeps the rest verbatim in
//! `unmodelled`; writing puts the modelled elements back and merges the rest, so an import
//! followed by an export reproduces the input.

use super::parts::{
    AdjudicationLine, ConceptOrReference, Diagnosis, Header, Insurance, Item, Payment, Procedure,
    ResponseItem, Total, code, list,
};
use bedside_core::{CodeableConcept, Sensitive};
use bedside_fhir::{
    FhirDateTime, FhirError, Money, Period, Quantity, Reader, Reference, Unmodelled, Writer,
};
use serde_json::Value;

/// FHIR `Claim`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FhirClaim {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// Claim type (`professional`, `institutional`, `pharmacy`, …).
    pub type_: Option<CodeableConcept>,
    /// `claim | preauthorization | predetermination`.
    pub use_: Option<String>,
    /// The patient.
    pub patient: Option<Reference>,
    /// Period of the services billed.
    pub billable_period: Option<Period>,
    /// When created.
    pub created: Option<FhirDateTime>,
    /// The payer.
    pub insurer: Option<Reference>,
    /// The billing provider.
    pub provider: Option<Reference>,
    /// Processing priority.
    pub priority: Option<CodeableConcept>,
    /// Diagnoses (coded or referenced).
    pub diagnosis: Vec<Diagnosis>,
    /// Procedures (coded or referenced).
    pub procedure: Vec<Procedure>,
    /// Coverages billed.
    pub insurance: Vec<Insurance>,
    /// Lines.
    pub item: Vec<Item>,
    /// Total billed.
    pub total: Option<Money>,
    /// Elements not modelled (`supportingInfo`, `prescription`, `careTeam`, …), verbatim.
    pub unmodelled: Unmodelled,
}

impl FhirClaim {
    /// Reads a `Claim` object (after `resourceType`).
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id`, `status`, `use` or `created`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            type_: r.concept("type"),
            use_: r.try_parsed("use", "a code", code)?,
            patient: r.reference("patient"),
            billable_period: r.period("billablePeriod"),
            created: r.try_date_time("created")?,
            insurer: r.reference("insurer"),
            provider: r.reference("provider"),
            priority: r.concept("priority"),
            diagnosis: r.objects("diagnosis", Diagnosis::read),
            procedure: r.objects("procedure", Procedure::read),
            insurance: r.objects("insurance", Insurance::read),
            item: r.objects("item", Item::read),
            total: r.money("total"),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Claim");
        self.header.write(&mut w);
        w.concept("type", self.type_.as_ref());
        w.str("use", self.use_.as_deref());
        w.reference("patient", self.patient.as_ref());
        w.period("billablePeriod", self.billable_period.as_ref());
        w.date_time("created", self.created.as_ref());
        w.reference("insurer", self.insurer.as_ref());
        w.reference("provider", self.provider.as_ref());
        w.concept("priority", self.priority.as_ref());
        list(&mut w, "diagnosis", &self.diagnosis, Diagnosis::to_json);
        list(&mut w, "procedure", &self.procedure, Procedure::to_json);
        list(&mut w, "insurance", &self.insurance, Insurance::to_json);
        list(&mut w, "item", &self.item, Item::to_json);
        w.money("total", self.total.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// FHIR `ClaimResponse`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FhirClaimResponse {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// Claim type.
    pub type_: Option<CodeableConcept>,
    /// `claim | preauthorization | predetermination`.
    pub use_: Option<String>,
    /// The patient.
    pub patient: Option<Reference>,
    /// When created.
    pub created: Option<FhirDateTime>,
    /// The payer.
    pub insurer: Option<Reference>,
    /// The claim answered.
    pub request: Option<Reference>,
    /// `queued | complete | error | partial`.
    pub outcome: Option<String>,
    /// Line adjudications.
    pub item: Vec<ResponseItem>,
    /// Totals.
    pub total: Vec<Total>,
    /// The payment.
    pub payment: Option<Payment>,
    /// Elements not modelled, verbatim.
    pub unmodelled: Unmodelled,
}

impl FhirClaimResponse {
    /// Reads a `ClaimResponse` object.
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id`, `status`, `use`, `outcome` or `created`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            type_: r.concept("type"),
            use_: r.try_parsed("use", "a code", code)?,
            patient: r.reference("patient"),
            created: r.try_date_time("created")?,
            insurer: r.reference("insurer"),
            request: r.reference("request"),
            outcome: r.try_parsed("outcome", "a code", code)?,
            item: r.objects("item", ResponseItem::read),
            total: r.objects("total", Total::read),
            payment: r.object("payment", Payment::read),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("ClaimResponse");
        self.header.write(&mut w);
        w.concept("type", self.type_.as_ref());
        w.str("use", self.use_.as_deref());
        w.reference("patient", self.patient.as_ref());
        w.date_time("created", self.created.as_ref());
        w.reference("insurer", self.insurer.as_ref());
        w.reference("request", self.request.as_ref());
        w.str("outcome", self.outcome.as_deref());
        list(&mut w, "item", &self.item, ResponseItem::to_json);
        list(&mut w, "total", &self.total, Total::to_json);
        w.value("payment", self.payment.as_ref().map(Payment::to_json));
        w.finish(&self.unmodelled)
    }
}

/// FHIR `ExplanationOfBenefit`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplanationOfBenefit {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// Claim type.
    pub type_: Option<CodeableConcept>,
    /// `claim | preauthorization | predetermination`.
    pub use_: Option<String>,
    /// The patient.
    pub patient: Option<Reference>,
    /// Period of the services billed.
    pub billable_period: Option<Period>,
    /// When created.
    pub created: Option<FhirDateTime>,
    /// The payer.
    pub insurer: Option<Reference>,
    /// The billing provider.
    pub provider: Option<Reference>,
    /// The claim.
    pub claim: Option<Reference>,
    /// The claim response.
    pub claim_response: Option<Reference>,
    /// `queued | complete | error | partial`.
    pub outcome: Option<String>,
    /// Diagnoses.
    pub diagnosis: Vec<Diagnosis>,
    /// Procedures.
    pub procedure: Vec<Procedure>,
    /// Coverages.
    pub insurance: Vec<Insurance>,
    /// Lines with their adjudications.
    pub item: Vec<Item>,
    /// Totals.
    pub total: Vec<Total>,
    /// The payment.
    pub payment: Option<Payment>,
    /// Elements not modelled (`careTeam`, `referral`, `supportingInfo`, …), verbatim.
    pub unmodelled: Unmodelled,
}

impl ExplanationOfBenefit {
    /// Reads an `ExplanationOfBenefit` object.
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id`, `status`, `use`, `outcome` or `created`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            type_: r.concept("type"),
            use_: r.try_parsed("use", "a code", code)?,
            patient: r.reference("patient"),
            billable_period: r.period("billablePeriod"),
            created: r.try_date_time("created")?,
            insurer: r.reference("insurer"),
            provider: r.reference("provider"),
            claim: r.reference("claim"),
            claim_response: r.reference("claimResponse"),
            outcome: r.try_parsed("outcome", "a code", code)?,
            diagnosis: r.objects("diagnosis", Diagnosis::read),
            procedure: r.objects("procedure", Procedure::read),
            insurance: r.objects("insurance", Insurance::read),
            item: r.objects("item", Item::read),
            total: r.objects("total", Total::read),
            payment: r.object("payment", Payment::read),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("ExplanationOfBenefit");
        self.header.write(&mut w);
        w.concept("type", self.type_.as_ref());
        w.str("use", self.use_.as_deref());
        w.reference("patient", self.patient.as_ref());
        w.period("billablePeriod", self.billable_period.as_ref());
        w.date_time("created", self.created.as_ref());
        w.reference("insurer", self.insurer.as_ref());
        w.reference("provider", self.provider.as_ref());
        w.reference("claim", self.claim.as_ref());
        w.reference("claimResponse", self.claim_response.as_ref());
        w.str("outcome", self.outcome.as_deref());
        list(&mut w, "diagnosis", &self.diagnosis, Diagnosis::to_json);
        list(&mut w, "procedure", &self.procedure, Procedure::to_json);
        list(&mut w, "insurance", &self.insurance, Insurance::to_json);
        list(&mut w, "item", &self.item, Item::to_json);
        list(&mut w, "total", &self.total, Total::to_json);
        w.value("payment", self.payment.as_ref().map(Payment::to_json));
        w.finish(&self.unmodelled)
    }
}

/// `ChargeItem.performer`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Performer {
    /// What the performer did.
    pub function: Option<CodeableConcept>,
    /// Who.
    pub actor: Option<Reference>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Performer {
    /// Reads a performer object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            function: r.concept("function"),
            actor: r.reference("actor"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concept("function", self.function.as_ref());
        w.reference("actor", self.actor.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// FHIR `ChargeItem`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChargeItem {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// What was charged (CPT, HCPCS, …).
    pub code: Option<CodeableConcept>,
    /// The patient.
    pub subject: Option<Reference>,
    /// The encounter.
    pub context: Option<Reference>,
    /// When (`occurrenceDateTime`; a period or timing stays unmodelled).
    pub occurrence_date_time: Option<FhirDateTime>,
    /// Performers.
    pub performer: Vec<Performer>,
    /// Units.
    pub quantity: Option<Quantity>,
    /// Price per unit, overriding the definition's.
    pub price_override: Option<Money>,
    /// Accounts charged.
    pub account: Vec<Reference>,
    /// Elements not modelled, verbatim.
    pub unmodelled: Unmodelled,
}

impl ChargeItem {
    /// Reads a `ChargeItem` object.
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id`, `status` or `occurrenceDateTime`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            code: r.concept("code"),
            subject: r.reference("subject"),
            context: r.reference("context"),
            occurrence_date_time: r.try_date_time("occurrenceDateTime")?,
            performer: r.objects("performer", Performer::read),
            quantity: r.quantity("quantity"),
            price_override: r.money("priceOverride"),
            account: r.references("account"),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("ChargeItem");
        self.header.write(&mut w);
        w.concept("code", self.code.as_ref());
        w.reference("subject", self.subject.as_ref());
        w.reference("context", self.context.as_ref());
        w.date_time("occurrenceDateTime", self.occurrence_date_time.as_ref());
        list(&mut w, "performer", &self.performer, Performer::to_json);
        w.quantity("quantity", self.quantity.as_ref());
        w.money("priceOverride", self.price_override.as_ref());
        w.references("account", &self.account);
        w.finish(&self.unmodelled)
    }
}

/// `Invoice.lineItem.priceComponent`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceComponent {
    /// `base | surcharge | deduction | discount | tax | informational`.
    pub type_: Option<String>,
    /// What the component is.
    pub code: Option<CodeableConcept>,
    /// Amount, exactly as written.
    pub amount: Option<Money>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl PriceComponent {
    /// Reads a price component object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            type_: r.parsed("type", code),
            code: r.concept("code"),
            amount: r.money("amount"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("type", self.type_.as_deref());
        w.concept("code", self.code.as_ref());
        w.money("amount", self.amount.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// `Invoice.lineItem`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineItem {
    /// Sequence.
    pub sequence: Option<u32>,
    /// `chargeItem[x]`: a reference to a ChargeItem or a code.
    pub charge_item: Option<ConceptOrReference>,
    /// Price components.
    pub price_component: Vec<PriceComponent>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl LineItem {
    /// Reads a line item object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            sequence: r.uint("sequence"),
            charge_item: ConceptOrReference::read(&mut r, "chargeItem"),
            price_component: r.objects("priceComponent", PriceComponent::read),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("sequence", self.sequence);
        ConceptOrReference::write(self.charge_item.as_ref(), &mut w, "chargeItem");
        list(
            &mut w,
            "priceComponent",
            &self.price_component,
            PriceComponent::to_json,
        );
        w.finish(&self.unmodelled)
    }
}

/// FHIR `Invoice`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Invoice {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// The patient.
    pub subject: Option<Reference>,
    /// When issued.
    pub date: Option<FhirDateTime>,
    /// The account billed.
    pub account: Option<Reference>,
    /// Lines.
    pub line_item: Vec<LineItem>,
    /// Net total (what is owed).
    pub total_net: Option<Money>,
    /// Gross total (what was billed).
    pub total_gross: Option<Money>,
    /// Elements not modelled, verbatim.
    pub unmodelled: Unmodelled,
}

impl Invoice {
    /// Reads an `Invoice` object.
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id`, `status` or `date`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            subject: r.reference("subject"),
            date: r.try_date_time("date")?,
            account: r.reference("account"),
            line_item: r.objects("lineItem", LineItem::read),
            total_net: r.money("totalNet"),
            total_gross: r.money("totalGross"),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Invoice");
        self.header.write(&mut w);
        w.reference("subject", self.subject.as_ref());
        w.date_time("date", self.date.as_ref());
        w.reference("account", self.account.as_ref());
        list(&mut w, "lineItem", &self.line_item, LineItem::to_json);
        w.money("totalNet", self.total_net.as_ref());
        w.money("totalGross", self.total_gross.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// `Account.guarantor`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Guarantor {
    /// Who is responsible.
    pub party: Option<Reference>,
    /// Whether the guarantee is suspended.
    pub on_hold: Option<bool>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Guarantor {
    /// Reads a guarantor object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            party: r.reference("party"),
            on_hold: r.boolean("onHold"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.reference("party", self.party.as_ref());
        w.boolean("onHold", self.on_hold);
        w.finish(&self.unmodelled)
    }
}

/// FHIR `Account`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    /// Id, meta, narrative, contained, identifiers, status.
    pub header: Header,
    /// Account type.
    pub type_: Option<CodeableConcept>,
    /// Name (often the patient's).
    pub name: Option<Sensitive<String>>,
    /// Whom the account is for.
    pub subject: Vec<Reference>,
    /// Description (free text).
    pub description: Option<Sensitive<String>>,
    /// Guarantors.
    pub guarantor: Vec<Guarantor>,
    /// Elements not modelled, verbatim.
    pub unmodelled: Unmodelled,
}

impl Account {
    /// Reads an `Account` object.
    ///
    /// # Errors
    /// [`FhirError`] for an invalid `id` or `status`.
    pub fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            header: Header::read(&mut r)?,
            type_: r.concept("type"),
            name: r.sensitive("name"),
            subject: r.references("subject"),
            description: r.sensitive("description"),
            guarantor: r.objects("guarantor", Guarantor::read),
            unmodelled: r.finish(),
        })
    }

    /// The JSON resource.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Account");
        self.header.write(&mut w);
        w.concept("type", self.type_.as_ref());
        w.sensitive("name", self.name.as_ref());
        w.references("subject", &self.subject);
        w.sensitive("description", self.description.as_ref());
        list(&mut w, "guarantor", &self.guarantor, Guarantor::to_json);
        w.finish(&self.unmodelled)
    }
}

/// The adjudications of a line, for callers matching on categories.
pub fn adjudication_amount<'a>(
    lines: &'a [AdjudicationLine],
    system: &str,
    category: &str,
) -> Option<&'a Money> {
    lines
        .iter()
        .find(|a| a.category.as_ref().is_some_and(|c| c.has(system, category)))
        .and_then(|a| a.amount.as_ref())
}
