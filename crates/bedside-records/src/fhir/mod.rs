//! FHIR R4 (4.0.1) JSON import and export of `Patient`, `RelatedPerson`, `Coverage`,
//! `AllergyIntolerance`, `Condition`, `Encounter` (plus `MedicationStatement` and
//! `DocumentReference`) and `Bundle`s of them, written by hand with `serde_json`.
//!
//! Import never drops anything: elements the model has no field for, and elements whose value
//! does not have the shape the model expects, are kept verbatim in the nearest
//! [`Unmodelled`] map and written back on export. Their paths are
//! reported in [`Imported::unmodelled`]. Resources of other types inside a bundle are carried
//! through unchanged as [`Resource::Other`].
//!
//! Bedside-specific data (verified contact points, communication preferences, quiet hours,
//! proxy scopes, discharge instructions and follow-up plan) travel as extensions under
//! [`EXTENSION_BASE`].

mod bundle;
mod clinical;
mod json;
mod patient;

pub use bundle::{Bundle, BundleEntry, BundleRequest, PatientRecord};
pub use json::semantic_diff;

use crate::clinical::ClinicalEntry;
use crate::error::FhirError;
use crate::model::{Coverage, Patient, RelatedPerson, Unmodelled};
use bedside_core::IdGenerator;
use json::Reader;
use serde_json::Value;

/// The URL prefix of Bedside's FHIR extensions.
pub const EXTENSION_BASE: &str = "https://fhir.bedside.invalid/StructureDefinition/";
pub(crate) const EXT: &str = EXTENSION_BASE;
/// The standard extension for "interpreter required" on a Patient.
pub const INTERPRETER_REQUIRED: &str =
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired";

/// Largest accepted input, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
/// Most entries accepted in one bundle.
pub const MAX_BUNDLE_ENTRIES: usize = 100_000;

pub(crate) fn to_code<T: PartialEq>(table: &[(T, &'static str)], value: &T) -> &'static str {
    // Every table lists every variant, so the fallback is never used.
    table
        .iter()
        .find(|(v, _)| v == value)
        .map_or("", |(_, c)| c)
}

pub(crate) fn from_code<T: Copy>(table: &[(T, &'static str)], code: &str) -> Option<T> {
    table.iter().find(|(_, c)| *c == code).map(|(v, _)| *v)
}

/// Whether an extension object has exactly `url` and the listed keys.
pub(crate) fn ext_url_only(ext: &Value, keys: &[&str]) -> bool {
    ext.as_object().is_some_and(|o| {
        o.len() == keys.len() + 1
            && o.get("url").is_some_and(Value::is_string)
            && keys.iter().all(|k| o.contains_key(*k))
    })
}

/// The string `value_key` of a nested extension whose url is `url`.
pub(crate) fn ext_string_value<'a>(ext: &'a Value, url: &str, value_key: &str) -> Option<&'a str> {
    if !ext_url_only(ext, &[value_key]) || ext.get("url")?.as_str()? != url {
        return None;
    }
    ext.get(value_key)?.as_str()
}

/// An imported value plus the paths of elements kept verbatim because the model has no field
/// for them (or they did not have the expected shape).
#[derive(Debug, Clone, PartialEq)]
pub struct Imported<T> {
    /// The imported value.
    pub value: T,
    /// Element paths kept as unmodelled JSON, for example `Patient.maritalStatus`.
    pub unmodelled: Vec<String>,
}

/// A resource that another system may hold but Bedside does not model: kept verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherResource {
    /// The `resourceType`.
    pub resource_type: String,
    /// The whole resource.
    pub content: Unmodelled,
}

/// Any resource Bedside can import.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Resource {
    /// A patient.
    Patient(Box<Patient>),
    /// A related person.
    RelatedPerson(Box<RelatedPerson>),
    /// A coverage.
    Coverage(Box<Coverage>),
    /// An allergy, condition, encounter, medication statement or document reference.
    Clinical(Box<ClinicalEntry>),
    /// A bundle.
    Bundle(Box<Bundle>),
    /// A resource of a type Bedside does not model, carried through unchanged.
    Other(OtherResource),
}

impl Resource {
    /// The FHIR `resourceType`.
    pub fn resource_type(&self) -> &str {
        match self {
            Resource::Patient(_) => "Patient",
            Resource::RelatedPerson(_) => "RelatedPerson",
            Resource::Coverage(_) => "Coverage",
            Resource::Clinical(c) => c.content.resource_type(),
            Resource::Bundle(_) => "Bundle",
            Resource::Other(o) => &o.resource_type,
        }
    }

    /// Whether the resource is of a modelled type (not carried through verbatim).
    pub fn is_modelled(&self) -> bool {
        !matches!(self, Resource::Other(_))
    }

    /// Writes the resource as FHIR JSON.
    pub fn to_fhir(&self) -> Value {
        match self {
            Resource::Patient(p) => patient::write_patient(p),
            Resource::RelatedPerson(p) => patient::write_related_person(p),
            Resource::Coverage(c) => patient::write_coverage(c),
            Resource::Clinical(c) => clinical::write_clinical(c),
            Resource::Bundle(b) => bundle::write_bundle(b),
            Resource::Other(o) => Value::Object(o.content.expose().clone()),
        }
    }
}

/// Parses JSON text, reporting the position of a syntax error.
///
/// # Errors
/// [`FhirError::TooLarge`] or [`FhirError::InvalidJson`].
pub fn parse_json(input: &[u8]) -> Result<Value, FhirError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(FhirError::TooLarge {
            bytes: input.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    serde_json::from_slice(input).map_err(|e| FhirError::InvalidJson {
        line: e.line(),
        column: e.column(),
        reason: match e.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end of input",
        }
        .to_string(),
    })
}

/// Imports any supported resource (or bundle) from JSON bytes. New typed ids come from `ids`
/// when the FHIR id is not a UUID.
///
/// # Errors
/// Any [`FhirError`]: invalid JSON, not an object, no `resourceType`, a missing required
/// reference, or a bundle over the size limit.
pub fn import(input: &[u8], ids: &dyn IdGenerator) -> Result<Imported<Resource>, FhirError> {
    import_value(parse_json(input)?, ids)
}

/// Imports any supported resource from a parsed JSON value.
///
/// # Errors
/// As [`import`], without the JSON syntax errors.
pub fn import_value(value: Value, ids: &dyn IdGenerator) -> Result<Imported<Resource>, FhirError> {
    let mut notes = Vec::new();
    let value = read_resource(value, "$".to_string(), ids, &mut notes)?;
    Ok(Imported {
        value,
        unmodelled: notes,
    })
}

pub(crate) fn read_resource(
    value: Value,
    path: String,
    ids: &dyn IdGenerator,
    notes: &mut Vec<String>,
) -> Result<Resource, FhirError> {
    let Value::Object(mut map) = value else {
        return Err(FhirError::NotAnObject { path });
    };
    let resource_type = match map.get("resourceType") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(FhirError::MissingResourceType { path }),
    };
    if !is_modelled_type(&resource_type) {
        return Ok(Resource::Other(OtherResource {
            resource_type,
            content: Unmodelled::new(map),
        }));
    }
    map.remove("resourceType");
    let label = if path == "$" {
        resource_type.clone()
    } else {
        format!("{path}({resource_type})")
    };
    let missing = |element: &str| FhirError::MissingElement {
        path: format!("{label}.{element}"),
    };
    let reader = Reader::new(map, label.clone(), notes);
    Ok(match resource_type.as_str() {
        "Patient" => Resource::Patient(Box::new(patient::read_patient(reader, ids))),
        "RelatedPerson" => Resource::RelatedPerson(Box::new(
            patient::read_related_person(reader, ids).ok_or_else(|| missing("patient"))?,
        )),
        "Coverage" => Resource::Coverage(Box::new(patient::read_coverage(reader, ids))),
        "Bundle" => Resource::Bundle(Box::new(bundle::read_bundle(reader, ids)?)),
        clinical_type => {
            let subject = if clinical_type == "AllergyIntolerance" {
                "patient"
            } else {
                "subject"
            };
            Resource::Clinical(Box::new(
                clinical::read_clinical(reader, clinical_type, ids)
                    .ok_or_else(|| missing(subject))?,
            ))
        }
    })
}

pub(crate) fn is_modelled_type(t: &str) -> bool {
    matches!(t, "Patient" | "RelatedPerson" | "Coverage" | "Bundle")
        || clinical::CLINICAL_TYPES.contains(&t)
}

fn typed<T>(
    input: &[u8],
    ids: &dyn IdGenerator,
    expected: &'static str,
    pick: impl FnOnce(Resource) -> Option<T>,
) -> Result<Imported<T>, FhirError> {
    let imported = import(input, ids)?;
    // A resource type is echoed only when it looks like one, so input text never reaches
    // the error.
    let raw = imported.value.resource_type();
    let plausible = raw.len() <= 64
        && raw.starts_with(|c: char| c.is_ascii_uppercase())
        && raw.chars().all(|c| c.is_ascii_alphanumeric());
    let found = if plausible {
        raw.to_string()
    } else {
        "<unrecognised>".to_string()
    };
    match pick(imported.value) {
        Some(value) => Ok(Imported {
            value,
            unmodelled: imported.unmodelled,
        }),
        None => Err(FhirError::WrongResourceType {
            path: "$".into(),
            expected,
            found,
        }),
    }
}

impl Patient {
    /// Imports a FHIR `Patient` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`FhirError::WrongResourceType`] for another resource.
    pub fn from_fhir(input: &[u8], ids: &dyn IdGenerator) -> Result<Imported<Patient>, FhirError> {
        typed(input, ids, "Patient", |r| match r {
            Resource::Patient(p) => Some(*p),
            _ => None,
        })
    }

    /// Exports the `Patient` resource (related persons and coverages are separate resources:
    /// see [`Bundle::from_patient`]).
    pub fn to_fhir(&self) -> Value {
        patient::write_patient(self)
    }
}

impl RelatedPerson {
    /// Imports a FHIR `RelatedPerson` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`FhirError::WrongResourceType`] for another resource.
    pub fn from_fhir(
        input: &[u8],
        ids: &dyn IdGenerator,
    ) -> Result<Imported<RelatedPerson>, FhirError> {
        typed(input, ids, "RelatedPerson", |r| match r {
            Resource::RelatedPerson(p) => Some(*p),
            _ => None,
        })
    }

    /// Exports the `RelatedPerson` resource.
    pub fn to_fhir(&self) -> Value {
        patient::write_related_person(self)
    }
}

impl Coverage {
    /// Imports a FHIR `Coverage` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`FhirError::WrongResourceType`] for another resource.
    pub fn from_fhir(input: &[u8], ids: &dyn IdGenerator) -> Result<Imported<Coverage>, FhirError> {
        typed(input, ids, "Coverage", |r| match r {
            Resource::Coverage(c) => Some(*c),
            _ => None,
        })
    }

    /// Exports the `Coverage` resource.
    pub fn to_fhir(&self) -> Value {
        patient::write_coverage(self)
    }
}

impl ClinicalEntry {
    /// Imports a FHIR `AllergyIntolerance`, `Condition`, `Encounter`, `MedicationStatement` or
    /// `DocumentReference` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`FhirError::WrongResourceType`] for another resource.
    pub fn from_fhir(
        input: &[u8],
        ids: &dyn IdGenerator,
    ) -> Result<Imported<ClinicalEntry>, FhirError> {
        typed(input, ids, "a clinical resource", |r| match r {
            Resource::Clinical(c) => Some(*c),
            _ => None,
        })
    }

    /// Exports the resource.
    pub fn to_fhir(&self) -> Value {
        clinical::write_clinical(self)
    }
}

impl Bundle {
    /// Imports a FHIR `Bundle` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`FhirError::WrongResourceType`] for another resource.
    pub fn from_fhir(input: &[u8], ids: &dyn IdGenerator) -> Result<Imported<Bundle>, FhirError> {
        typed(input, ids, "Bundle", |r| match r {
            Resource::Bundle(b) => Some(*b),
            _ => None,
        })
    }

    /// Exports the bundle.
    pub fn to_fhir(&self) -> Value {
        bundle::write_bundle(self)
    }
}

/// The result of checking one document's round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTrip {
    /// Export reproduced the input exactly (up to member order and number formatting).
    Exact,
    /// Export differs at these paths.
    Lossy(Vec<String>),
}

/// Imports `input`, exports the result and compares the two JSON documents semantically.
/// Returns the import (for its report) and the comparison.
///
/// # Errors
/// Any [`FhirError`] from [`import`].
pub fn round_trip(
    input: &[u8],
    ids: &dyn IdGenerator,
) -> Result<(Imported<Resource>, RoundTrip), FhirError> {
    let original = parse_json(input)?;
    let imported = import_value(original.clone(), ids)?;
    let exported = imported.value.to_fhir();
    let diff = semantic_diff(&original, &exported);
    let outcome = if diff.is_empty() {
        RoundTrip::Exact
    } else {
        RoundTrip::Lossy(diff)
    };
    Ok((imported, outcome))
}

/// Pretty-prints FHIR JSON.
pub fn to_pretty_string(value: &Value) -> String {
    // Serialising a `Value` to a `String` cannot fail: every key is a string.
    serde_json::to_string_pretty(value).unwrap_or_default()
}
