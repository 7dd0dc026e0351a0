//! The FHIR datatypes a patient record is made of, as stored: codings, concepts, periods,
//! references and identifiers. FHIR elements the model keeps verbatim (`unmodelled`) are
//! stored as the JSON they arrived as: they are FHIR, not a Rust type's serde form.

use super::common::{each, exposed, invalid, opt_exposed};
use crate::journal::JournalError;
use bedside_core::{CodeableConcept, Coding, Sensitive};
use bedside_records::model::{FhirDateTime, FhirPeriod, Reference, Unmodelled};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// FHIR elements a model type has no field for, kept verbatim.
pub type Elements = Map<String, Value>;

/// The stored form of unmodelled elements.
pub(crate) fn elements(u: &Unmodelled) -> Elements {
    u.expose().clone()
}

/// A stored FHIR `date` or `dateTime`.
pub(crate) fn date_time(text: &str, field: &str) -> Result<FhirDateTime, JournalError> {
    FhirDateTime::parse(text).ok_or_else(|| invalid(field, "a FHIR dateTime"))
}

/// A coded value.
#[derive(Serialize, Deserialize)]
pub struct CodingRecord {
    /// The code system.
    pub system: String,
    /// The code.
    pub code: String,
    /// The system's display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl From<CodingRecord> for Coding {
    fn from(r: CodingRecord) -> Self {
        let CodingRecord {
            system,
            code,
            display,
        } = r;
        Coding {
            system,
            code,
            display,
        }
    }
}

impl From<&Coding> for CodingRecord {
    fn from(c: &Coding) -> Self {
        let Coding {
            system,
            code,
            display,
        } = c;
        Self {
            system: system.clone(),
            code: code.clone(),
            display: display.clone(),
        }
    }
}

/// A concept: codings and text.
#[derive(Serialize, Deserialize)]
pub struct ConceptRecord {
    /// The codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<CodingRecord>,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl From<ConceptRecord> for CodeableConcept {
    fn from(r: ConceptRecord) -> Self {
        CodeableConcept {
            coding: r.coding.into_iter().map(Coding::from).collect(),
            text: r.text,
        }
    }
}

impl From<&CodeableConcept> for ConceptRecord {
    fn from(c: &CodeableConcept) -> Self {
        let CodeableConcept { coding, text } = c;
        Self {
            coding: coding.iter().map(CodingRecord::from).collect(),
            text: text.clone(),
        }
    }
}

/// Concepts read back.
pub(crate) fn concepts(records: Vec<ConceptRecord>) -> Vec<CodeableConcept> {
    records.into_iter().map(CodeableConcept::from).collect()
}

/// Concepts as stored.
pub(crate) fn concept_records(concepts: &[CodeableConcept]) -> Vec<ConceptRecord> {
    concepts.iter().map(ConceptRecord::from).collect()
}

/// A FHIR period: optional bounds at any precision.
#[derive(Serialize, Deserialize)]
pub struct FhirPeriodRecord {
    /// Start, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End, inclusive at its precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl FhirPeriodRecord {
    /// The period; `field` names it in errors.
    pub(crate) fn read(self, field: &str) -> Result<FhirPeriod, JournalError> {
        Ok(FhirPeriod {
            start: self.start.map(|s| date_time(&s, field)).transpose()?,
            end: self.end.map(|s| date_time(&s, field)).transpose()?,
            unmodelled: Unmodelled::new(self.unmodelled),
        })
    }

    /// An optional period; `field` names it in errors.
    pub(crate) fn read_opt(
        record: Option<Self>,
        field: &str,
    ) -> Result<Option<FhirPeriod>, JournalError> {
        record.map(|p| p.read(field)).transpose()
    }
}

impl From<&FhirPeriod> for FhirPeriodRecord {
    fn from(p: &FhirPeriod) -> Self {
        let FhirPeriod {
            start,
            end,
            unmodelled,
        } = p;
        Self {
            start: start.as_ref().map(|d| d.as_str().to_string()),
            end: end.as_ref().map(|d| d.as_str().to_string()),
            unmodelled: elements(unmodelled),
        }
    }
}

/// An optional period as stored.
pub(crate) fn period_record(p: Option<&FhirPeriod>) -> Option<FhirPeriodRecord> {
    p.map(FhirPeriodRecord::from)
}

/// A FHIR identifier as a reference carries it (`Reference.identifier`).
#[derive(Serialize, Deserialize)]
pub struct FhirIdentifierRecord {
    /// `usual | official | temp | secondary | old` (kept as text, as the model does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// The kind of identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ConceptRecord>,
    /// The namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// When valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl FhirIdentifierRecord {
    fn read(self) -> Result<bedside_fhir::Identifier, JournalError> {
        Ok(bedside_fhir::Identifier {
            use_: self.use_,
            type_: self.type_.map(CodeableConcept::from),
            system: self.system,
            value: self.value.map(Sensitive::new),
            period: FhirPeriodRecord::read_opt(self.period, "reference.identifier.period")?,
            unmodelled: Unmodelled::new(self.unmodelled),
        })
    }
}

impl From<&bedside_fhir::Identifier> for FhirIdentifierRecord {
    fn from(i: &bedside_fhir::Identifier) -> Self {
        let bedside_fhir::Identifier {
            use_,
            type_,
            system,
            value,
            period,
            unmodelled,
        } = i;
        Self {
            use_: use_.clone(),
            type_: type_.as_ref().map(ConceptRecord::from),
            system: system.clone(),
            value: opt_exposed(value.as_ref()),
            period: period_record(period.as_ref()),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A FHIR reference.
#[derive(Serialize, Deserialize)]
pub struct ReferenceRecord {
    /// The literal reference text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `Reference.type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// A logical reference by business identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Box<FhirIdentifierRecord>>,
    /// Text alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<ReferenceRecord> for Reference {
    type Error = JournalError;
    fn try_from(r: ReferenceRecord) -> Result<Self, JournalError> {
        Ok(Reference {
            reference: r.reference,
            resource_type: r.resource_type,
            identifier: r.identifier.map(|i| i.read().map(Box::new)).transpose()?,
            display: r.display.map(Sensitive::new),
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&Reference> for ReferenceRecord {
    fn from(r: &Reference) -> Self {
        let Reference {
            reference,
            resource_type,
            identifier,
            display,
            unmodelled,
        } = r;
        Self {
            reference: reference.clone(),
            resource_type: resource_type.clone(),
            identifier: identifier
                .as_deref()
                .map(|i| Box::new(FhirIdentifierRecord::from(i))),
            display: display.as_ref().map(exposed),
            unmodelled: elements(unmodelled),
        }
    }
}

/// An optional reference read back.
pub(crate) fn reference(r: Option<ReferenceRecord>) -> Result<Option<Reference>, JournalError> {
    r.map(Reference::try_from).transpose()
}

/// References read back.
pub(crate) fn references(rs: Vec<ReferenceRecord>) -> Result<Vec<Reference>, JournalError> {
    each(rs, Reference::try_from)
}

/// References as stored.
pub(crate) fn reference_records(rs: &[Reference]) -> Vec<ReferenceRecord> {
    rs.iter().map(ReferenceRecord::from).collect()
}
