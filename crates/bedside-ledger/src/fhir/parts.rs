//! Backbone elements the billing resources share: the resource header, claim and EOB items,
//! adjudications, totals, insurance, diagnoses, procedures and payments.
//!
//! Each part models the elements the ledger reads or writes and keeps everything else in
//! its [`Unmodelled`] map, so nothing is dropped on a round trip.

use bedside_core::CodeableConcept;
use bedside_fhir::datatypes::is_id;
use bedside_fhir::{
    Decimal, FhirDateTime, FhirError, Identifier, Meta, Money, Narrative, Quantity, Reader,
    Reference, Unmodelled, Writer,
};
use serde_json::Value;

/// The elements every billing resource starts with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    /// Logical id.
    pub id: Option<String>,
    /// Metadata (profiles, tags).
    pub meta: Option<Meta>,
    /// Narrative.
    pub text: Option<Narrative>,
    /// Contained resources, verbatim; `#id` references to them stay valid (dom-3).
    pub contained: Vec<Value>,
    /// Business identifiers.
    pub identifier: Vec<Identifier>,
    /// The status code, as written (required bindings are checked by the domain, not here).
    pub status: Option<String>,
}

impl Header {
    /// A header with an id and a status.
    pub fn new(id: impl Into<String>, status: &str) -> Self {
        Self {
            id: Some(id.into()),
            status: Some(status.to_string()),
            ..Self::default()
        }
    }

    /// Reads the header elements.
    ///
    /// # Errors
    /// [`FhirError`] when `id` is not a FHIR id or `status` is not a string.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, FhirError> {
        Ok(Self {
            id: r.try_parsed("id", "a FHIR id", |s| is_id(s).then(|| s.to_string()))?,
            // The writer leaves out an empty `meta`, so an empty one stays verbatim.
            meta: if r
                .peek("meta")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                r.meta("meta")
            } else {
                None
            },
            text: r.narrative("text"),
            // An empty array is not valid R4 but is kept verbatim, as the writer would drop it.
            contained: if r
                .peek("contained")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                r.contained()
            } else {
                Vec::new()
            },
            identifier: r.identifiers("identifier"),
            status: r.try_parsed("status", "a code", code)?,
        })
    }

    /// Writes the header elements.
    pub fn write(&self, w: &mut Writer) {
        w.str("id", self.id.as_deref());
        w.meta("meta", self.meta.as_ref());
        w.narrative("text", self.text.as_ref());
        w.list("contained", self.contained.clone());
        w.identifiers("identifier", &self.identifier);
        w.str("status", self.status.as_deref());
    }
}

/// A FHIR `code`: non-empty, no leading or trailing whitespace.
pub(crate) fn code(s: &str) -> Option<String> {
    (!s.is_empty() && s.trim() == s).then(|| s.to_string())
}

/// A choice element `<name>CodeableConcept` / `<name>Reference` (`diagnosis[x]`,
/// `procedure[x]`, `chargeItem[x]`): both forms are kept.
#[derive(Debug, Clone, PartialEq)]
pub enum ConceptOrReference {
    /// The coded form.
    Concept(CodeableConcept),
    /// The reference form (a Condition, Procedure, ChargeItem …).
    Reference(Reference),
}

impl ConceptOrReference {
    /// Takes `<name>CodeableConcept` or `<name>Reference`, whichever is present and readable.
    pub fn read(r: &mut Reader<'_>, name: &str) -> Option<Self> {
        if let Some(c) = r.concept(&format!("{name}CodeableConcept")) {
            return Some(Self::Concept(c));
        }
        r.reference(&format!("{name}Reference"))
            .map(Self::Reference)
    }

    /// Writes the element under its typed name.
    pub fn write(value: Option<&Self>, w: &mut Writer, name: &str) {
        match value {
            Some(Self::Concept(c)) => w.concept(&format!("{name}CodeableConcept"), Some(c)),
            Some(Self::Reference(r)) => w.reference(&format!("{name}Reference"), Some(r)),
            None => {}
        }
    }
}

/// `Claim.diagnosis` / `ExplanationOfBenefit.diagnosis`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnosis {
    /// Sequence (1-based, what item `diagnosisSequence` points at).
    pub sequence: Option<u32>,
    /// `diagnosis[x]`: an ICD-10 code or a reference to a Condition.
    pub diagnosis: Option<ConceptOrReference>,
    /// Types (`principal`, `admitting`, …).
    pub type_: Vec<CodeableConcept>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Diagnosis {
    /// Reads a diagnosis object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            sequence: r.uint("sequence"),
            diagnosis: ConceptOrReference::read(&mut r, "diagnosis"),
            type_: r.concepts("type"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("sequence", self.sequence);
        ConceptOrReference::write(self.diagnosis.as_ref(), &mut w, "diagnosis");
        w.concepts("type", &self.type_);
        w.finish(&self.unmodelled)
    }
}

/// `Claim.procedure` / `ExplanationOfBenefit.procedure`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Procedure {
    /// Sequence.
    pub sequence: Option<u32>,
    /// When performed.
    pub date: Option<FhirDateTime>,
    /// `procedure[x]`: a code or a reference to a Procedure.
    pub procedure: Option<ConceptOrReference>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Procedure {
    /// Reads a procedure object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            sequence: r.uint("sequence"),
            date: r.date_time("date"),
            procedure: ConceptOrReference::read(&mut r, "procedure"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("sequence", self.sequence);
        w.date_time("date", self.date.as_ref());
        ConceptOrReference::write(self.procedure.as_ref(), &mut w, "procedure");
        w.finish(&self.unmodelled)
    }
}

/// `Claim.insurance` / `ExplanationOfBenefit.insurance` (the EOB form has no `sequence`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Insurance {
    /// Sequence (Claim only).
    pub sequence: Option<u32>,
    /// Whether this coverage is the one adjudicating.
    pub focal: Option<bool>,
    /// The coverage.
    pub coverage: Option<Reference>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Insurance {
    /// Reads an insurance object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            sequence: r.uint("sequence"),
            focal: r.boolean("focal"),
            coverage: r.reference("coverage"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("sequence", self.sequence);
        w.boolean("focal", self.focal);
        w.reference("coverage", self.coverage.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// An adjudication (`ClaimResponse.item.adjudication`, EOB `item.adjudication`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdjudicationLine {
    /// Category (`submitted`, `eligible`, `copay`, `deductible`, `benefit`, …).
    pub category: Option<CodeableConcept>,
    /// Reason.
    pub reason: Option<CodeableConcept>,
    /// Amount, exactly as written.
    pub amount: Option<Money>,
    /// Non-monetary value (a percentage).
    pub value: Option<Decimal>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl AdjudicationLine {
    /// An amount in a category.
    pub fn new(category: CodeableConcept, amount: Money) -> Self {
        Self {
            category: Some(category),
            amount: Some(amount),
            ..Self::default()
        }
    }

    /// Reads an adjudication object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            category: r.concept("category"),
            reason: r.concept("reason"),
            amount: r.money("amount"),
            value: r.decimal("value"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concept("category", self.category.as_ref());
        w.concept("reason", self.reason.as_ref());
        w.money("amount", self.amount.as_ref());
        w.decimal("value", self.value.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// A billed line (`Claim.item`, `ExplanationOfBenefit.item`); details stay unmodelled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    /// Sequence.
    pub sequence: Option<u32>,
    /// Product or service (CPT, HCPCS, SNOMED CT …).
    pub product_or_service: Option<CodeableConcept>,
    /// Date of service (`servicedDate`; a `servicedPeriod` stays unmodelled).
    pub serviced_date: Option<FhirDateTime>,
    /// Quantity.
    pub quantity: Option<Quantity>,
    /// Unit price.
    pub unit_price: Option<Money>,
    /// Net amount.
    pub net: Option<Money>,
    /// Encounters.
    pub encounter: Vec<Reference>,
    /// Adjudications (EOB only).
    pub adjudication: Vec<AdjudicationLine>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Item {
    /// Reads an item object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            sequence: r.uint("sequence"),
            product_or_service: r.concept("productOrService"),
            serviced_date: r.parsed("servicedDate", FhirDateTime::parse_date),
            quantity: r.quantity("quantity"),
            unit_price: r.money("unitPrice"),
            net: r.money("net"),
            encounter: r.references("encounter"),
            adjudication: r.objects("adjudication", AdjudicationLine::read),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("sequence", self.sequence);
        w.concept("productOrService", self.product_or_service.as_ref());
        w.date_time("servicedDate", self.serviced_date.as_ref());
        w.quantity("quantity", self.quantity.as_ref());
        w.money("unitPrice", self.unit_price.as_ref());
        w.money("net", self.net.as_ref());
        w.references("encounter", &self.encounter);
        w.list(
            "adjudication",
            self.adjudication
                .iter()
                .map(AdjudicationLine::to_json)
                .collect(),
        );
        w.finish(&self.unmodelled)
    }
}

/// `ClaimResponse.item`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseItem {
    /// The claim item adjudicated.
    pub item_sequence: Option<u32>,
    /// Adjudications.
    pub adjudication: Vec<AdjudicationLine>,
    /// Elements not modelled (details).
    pub unmodelled: Unmodelled,
}

impl ResponseItem {
    /// Reads an item object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            item_sequence: r.uint("itemSequence"),
            adjudication: r.objects("adjudication", AdjudicationLine::read),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.uint("itemSequence", self.item_sequence);
        w.list(
            "adjudication",
            self.adjudication
                .iter()
                .map(AdjudicationLine::to_json)
                .collect(),
        );
        w.finish(&self.unmodelled)
    }
}

/// `ClaimResponse.total` / `ExplanationOfBenefit.total`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Total {
    /// Category.
    pub category: Option<CodeableConcept>,
    /// Amount, exactly as written.
    pub amount: Option<Money>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Total {
    /// An amount in a category.
    pub fn new(category: CodeableConcept, amount: Money) -> Self {
        Self {
            category: Some(category),
            amount: Some(amount),
            unmodelled: Unmodelled::default(),
        }
    }

    /// Reads a total object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            category: r.concept("category"),
            amount: r.money("amount"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concept("category", self.category.as_ref());
        w.money("amount", self.amount.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// `ClaimResponse.payment` / `ExplanationOfBenefit.payment`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payment {
    /// `complete | partial` (ex-paymenttype).
    pub type_: Option<CodeableConcept>,
    /// When paid.
    pub date: Option<FhirDateTime>,
    /// Amount, exactly as written.
    pub amount: Option<Money>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

impl Payment {
    /// Reads a payment object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            type_: r.concept("type"),
            date: r.parsed("date", FhirDateTime::parse_date),
            amount: r.money("amount"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concept("type", self.type_.as_ref());
        w.date_time("date", self.date.as_ref());
        w.money("amount", self.amount.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// Writes a list of parts.
pub(crate) fn list<T>(w: &mut Writer, key: &str, items: &[T], to_json: fn(&T) -> Value) {
    w.list(key, items.iter().map(to_json).collect());
}
