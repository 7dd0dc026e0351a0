//! FHIR R4 (4.0.1) JSON import and export of `Patient`, `RelatedPerson`, `Coverage`,
//! `AllergyIntolerance`, `Condition`, `Encounter` (plus `MedicationStatement` and
//! `DocumentReference`) and `Bundle`s of them, on `bedside-fhir`'s [`Reader`] and [`Writer`].
//!
//! Import never drops anything: elements the model has no field for, and elements whose value
//! does not have the shape the model expects, are kept verbatim in the nearest
//! [`Unmodelled`] map and written back on export. Their paths are
//! reported in [`Imported::unmodelled`]. Resources of other types inside a bundle are carried
//! through unchanged as [`Resource::Other`].
//!
//! Bedside-specific data (verified contact points, communication preferences, quiet hours,
//! proxy scopes, discharge instructions and follow-up plan) travel as extensions under
//! [`EXTENSION_BASE`] (the workspace's one namespace).
//!
//! Export is valid R4 from any state the public API can reach: a required element the model
//! does not hold is derived (`Coverage.status` `active`, as [`Coverage::is_in_force`] reads an
//! absent status; `Encounter.status` and `MedicationStatement.status` `unknown`;
//! `DocumentReference.status` `current`) or, for a complex element, written with the
//! [`DATA_ABSENT_REASON`] extension — unless the input kept that element verbatim.

mod bundle;
mod clinical;
mod patient;

pub use bedside_fhir::codes::EXTENSION_BASE;
pub use bedside_fhir::{Imported, semantic_diff};
pub use bundle::{Bundle, BundleEntry, BundleRequest, PatientRecord};

use crate::clinical::ClinicalEntry;
use crate::error::FhirError;
use crate::model::{Coverage, Patient, RelatedPerson, Unmodelled};
use bedside_core::IdGenerator;
use bedside_fhir::{ElementPath, Limits, Problem, Reader, Writer};
use serde_json::{Value, json};

/// The standard extension for "interpreter required" on a Patient.
pub const INTERPRETER_REQUIRED: &str =
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired";

/// The standard extension saying why a value is absent; export writes it (with `unknown`)
/// for an element R4 requires that the model does not hold.
pub const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/// A complex value that says only "unknown", for a required element the model lacks.
pub(crate) fn data_absent() -> Value {
    json!({"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]})
}

/// Takes `key` when it holds exactly what export writes for an absent required element
/// (`absent`), so that an export reads back as the state it came from.
pub(crate) fn take_absent(r: &mut Reader<'_>, key: &str, absent: &Value) -> bool {
    r.take_if(key, |v| v == absent).is_some()
}

/// Writes `value` under `key` for an element R4 requires, unless the input kept that
/// element (or another of its `choices`) verbatim, which export then writes back instead.
pub(crate) fn write_required(
    w: &mut Writer,
    kept: &Unmodelled,
    choices: &[&str],
    key: &str,
    value: Value,
) {
    let held = |k: &str| {
        let kept = kept.expose();
        kept.contains_key(k) || kept.contains_key(&format!("_{k}"))
    };
    if !held(key) && !choices.iter().any(|k| held(k)) {
        w.value(key, Some(value));
    }
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

/// Takes the extensions whose `url` satisfies `claim` (see [`Reader::claim_extensions`]),
/// as JSON, for mappings that compare them with what export would write.
pub(crate) fn claim_extensions(r: &mut Reader<'_>, claim: impl Fn(&str) -> bool) -> Vec<Value> {
    r.claim_extensions(claim)
        .iter()
        .map(bedside_fhir::Extension::to_json)
        .collect()
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

/// Parses JSON text within [`Limits::default`] (size, depth, items per array — bundle
/// entries included).
///
/// # Errors
/// [`Problem::TooLarge`], [`Problem::NotJson`] (with the position only), [`Problem::TooDeep`]
/// or [`Problem::TooMany`].
pub fn parse_json(input: &[u8]) -> Result<Value, FhirError> {
    let value = parse_unchecked(input)?;
    Limits::default().check(&value)?;
    Ok(value)
}

/// Parses within the size limit only; the caller checks depth and arrays.
fn parse_unchecked(input: &[u8]) -> Result<Value, FhirError> {
    let limits = Limits::default();
    if input.len() > limits.max_bytes {
        let problem = Problem::TooLarge {
            limit: limits.max_bytes,
        };
        return Err(FhirError::new(ElementPath::default(), problem));
    }
    serde_json::from_slice(input).map_err(|e| FhirError::from_serde(&ElementPath::default(), &e))
}

/// Imports any supported resource (or bundle) from JSON bytes. New typed ids come from `ids`
/// when the FHIR id is not a UUID.
///
/// # Errors
/// Any [`FhirError`]: invalid JSON, input over the [`Limits`], not an object, no
/// `resourceType`, or a missing required reference.
pub fn import(input: &[u8], ids: &dyn IdGenerator) -> Result<Imported<Resource>, FhirError> {
    import_value(parse_unchecked(input)?, ids)
}

/// Imports any supported resource from a parsed JSON value.
///
/// # Errors
/// As [`import`], without the JSON syntax errors.
pub fn import_value(value: Value, ids: &dyn IdGenerator) -> Result<Imported<Resource>, FhirError> {
    Limits::default().check(&value)?;
    let mut notes = Vec::new();
    let value = read_resource(value, None, ids, &mut notes)?;
    Ok(Imported {
        value,
        unmodelled: notes,
    })
}

/// Reads one resource; `at` is where it sits (a bundle entry), `None` at the top.
pub(crate) fn read_resource(
    value: Value,
    at: Option<ElementPath>,
    ids: &dyn IdGenerator,
    notes: &mut Vec<ElementPath>,
) -> Result<Resource, FhirError> {
    let Value::Object(mut map) = value else {
        return Err(FhirError::wrong_type(&at.unwrap_or_default(), "an object"));
    };
    let resource_type = match map.get("resourceType") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            let path = at.unwrap_or_default().child("resourceType");
            return Err(FhirError::wrong_type(&path, "a string"));
        }
    };
    if !is_modelled_type(&resource_type) {
        return Ok(Resource::Other(OtherResource {
            resource_type,
            content: Unmodelled::new(map),
        }));
    }
    map.remove("resourceType");
    let label = at.unwrap_or_else(|| ElementPath::root(&resource_type));
    let missing = |element: &str| FhirError::missing(&label.child(element));
    let reader = Reader::new(map, label.clone(), notes);
    Ok(match resource_type.as_str() {
        "Patient" => Resource::Patient(Box::new(patient::read_patient(reader, ids))),
        "RelatedPerson" => Resource::RelatedPerson(Box::new(
            patient::read_related_person(reader, ids).ok_or_else(|| missing("patient"))?,
        )),
        "Coverage" => Resource::Coverage(Box::new(patient::read_coverage(reader, ids))),
        "Bundle" => Resource::Bundle(Box::new(bundle::read_bundle(reader, ids))),
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
    match pick(imported.value) {
        Some(value) => Ok(Imported {
            value,
            unmodelled: imported.unmodelled,
        }),
        // The error names only the expected type, so input text never reaches it.
        None => Err(FhirError::new(
            ElementPath::parse("resourceType"),
            Problem::WrongResourceType { expected },
        )),
    }
}

impl Patient {
    /// Imports a FHIR `Patient` from JSON bytes.
    ///
    /// # Errors
    /// Any [`FhirError`], including [`Problem::WrongResourceType`] for another resource.
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
    /// Any [`FhirError`], including [`Problem::WrongResourceType`] for another resource.
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
    /// Any [`FhirError`], including [`Problem::WrongResourceType`] for another resource.
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
    /// Any [`FhirError`], including [`Problem::WrongResourceType`] for another resource.
    pub fn from_fhir(
        input: &[u8],
        ids: &dyn IdGenerator,
    ) -> Result<Imported<ClinicalEntry>, FhirError> {
        typed(
            input,
            ids,
            "AllergyIntolerance|Condition|Encounter|MedicationStatement|DocumentReference",
            |r| match r {
                Resource::Clinical(c) => Some(*c),
                _ => None,
            },
        )
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
    /// Any [`FhirError`], including [`Problem::WrongResourceType`] for another resource.
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
    let original = parse_unchecked(input)?;
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
