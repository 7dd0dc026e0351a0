//! FHIR R4 `Questionnaire` and `QuestionnaireResponse` import and export, on
//! [`bedside_fhir`]'s reader, writer and errors.
//!
//! Mapping:
//! - Item types map to [`ItemKind`](crate::ItemKind)s: `choice` is single choice, or multiple
//!   choice with `repeats`; `string`/`text` are short/long text (`maxLength`, the `regex`
//!   extension); `integer`/`decimal` take the `minValue`/`maxValue` and `questionnaire-unit`
//!   extensions. Kinds FHIR lacks (Likert, NPS, star rating, Likert matrix) are exported as
//!   `choice`, `integer` and `group` items marked with the [`ITEM_KIND`] extension, so other
//!   FHIR tools still render them.
//! - `code` of the questionnaire and of each item maps to `codes` (PHQ-9 and GAD-7 carry their
//!   LOINC codes); a `QuestionnaireResponse` has no item codes in R4, so responses carry none.
//! - `enableWhen` (all `answer[x]` types) and `enableBehavior` map to
//!   [`Condition`](crate::Condition)s.
//! - `answerOption` (`valueCoding`, `valueInteger`, `valueString`) maps to
//!   [`AnswerOption`](crate::AnswerOption), its score to the `ordinalValue` extension.
//!   `answerValueSet` pointing at a contained `ValueSet` is resolved into options for
//!   validation and exported as the reference again.
//! - Translations use the standard `translation` extension on `_text`, `_title` and
//!   `_display`.
//! - Scoring rules ([`Scale`](crate::Scale), [`FlagRule`](crate::FlagRule)) have no FHIR R4
//!   element; they travel as JSON in the [`SCORING`] extension. Response dimensions travel in
//!   the [`DIMENSION`] extension. `subject` maps to the response's patient.
//! - Bedside's extensions live in [`bedside_fhir::EXTENSION_BASE`]; import also accepts them
//!   under [`LEGACY_EXTENSION_BASE`], so files exported before the namespace moved still read.
//! - Every element not listed here is kept verbatim (`fhir_extra`) and written back on export,
//!   so importing and exporting a resource gives back an equivalent resource.
//! - A display item without `linkId` (R4 requires one, but such files exist) imports with a
//!   generated id and an [`ImportWarning`]; export writes that id, so a second round trip is
//!   exact.
//!
//! Errors are [`SurveyError::Fhir`](crate::SurveyError::Fhir) holding a
//! [`bedside_fhir::FhirError`]: an element path and what was expected, never input text.

mod questionnaire;
mod questionnaire_export;
mod response;
mod value;

pub use questionnaire::{QuestionnaireImport, import_questionnaire, import_questionnaire_report};
pub use questionnaire_export::export_questionnaire;
pub use response::{export_questionnaire_response, import_questionnaire_response};

use bedside_fhir::{EXTENSION_BASE, ElementPath, FhirError, Reader};
use serde_json::{Map, Value};
use std::fmt;

/// The standard translation extension.
pub const TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
/// The standard ordinal value (score) extension.
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
/// The standard minimum value extension.
pub const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
/// The standard maximum value extension.
pub const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// The standard regular expression extension.
pub const REGEX: &str = "http://hl7.org/fhir/StructureDefinition/regex";
/// The standard unit extension for numeric questions.
pub const UNIT: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";
/// Bedside: the survey item kind where FHIR has none (`likert`, `nps`, `star-rating`,
/// `likert-matrix`, `matrix-row`).
pub const ITEM_KIND: &str = "https://fhir.bedside.invalid/StructureDefinition/survey-item-kind";
/// Bedside: an item or matrix row is reverse-scored.
pub const REVERSE: &str = "https://fhir.bedside.invalid/StructureDefinition/survey-reverse";
/// Bedside: an item's reporting rules, as JSON.
pub const REPORTING: &str = "https://fhir.bedside.invalid/StructureDefinition/survey-reporting";
/// Bedside: a definition's scales and flag rules, as JSON.
pub const SCORING: &str = "https://fhir.bedside.invalid/StructureDefinition/survey-scoring";
/// Bedside: one analytics dimension of a response (`key` and `value` sub-extensions).
pub const DIMENSION: &str = "https://fhir.bedside.invalid/StructureDefinition/survey-dimension";
/// Where this crate's extensions lived before the workspace had one namespace; import still
/// accepts them there.
pub const LEGACY_EXTENSION_BASE: &str = "https://bedside.example/fhir/StructureDefinition/";

/// Whether `url` names extension `ours` (one of the constants above), in the current or the
/// legacy namespace.
fn url_is(url: &str, ours: &str) -> bool {
    if url == ours {
        return true;
    }
    match (
        ours.strip_prefix(EXTENSION_BASE),
        url.strip_prefix(LEGACY_EXTENSION_BASE),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Something an import accepted but had to repair; the resource still imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    /// Where.
    pub path: ElementPath,
    /// What was repaired.
    pub kind: WarningKind,
}

/// What an import repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// Occurs when a display item has no `linkId`: one was generated (from the item's position,
    /// so it is the same on every import) and export writes it.
    GeneratedLinkId {
        /// The generated id.
        link_id: String,
    },
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WarningKind::GeneratedLinkId { link_id } => write!(
                f,
                "`{}`: display item has no linkId; `{link_id}` generated",
                self.path
            ),
        }
    }
}

/// Takes a string that must be a string when present.
fn string(r: &mut Reader<'_>, key: &str) -> Result<Option<String>, FhirError> {
    r.try_parsed(key, "a string", |s| Some(s.to_string()))
}

/// Takes a boolean that must be a boolean when present; absent is `false`.
fn boolean(r: &mut Reader<'_>, key: &str) -> Result<bool, FhirError> {
    match r.peek(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => {
            let b = *b;
            r.take(key);
            Ok(b)
        }
        Some(_) => Err(FhirError::wrong_type(&r.child_path(key), "a boolean")),
    }
}

/// Takes an array that must be an array when present.
fn array(r: &mut Reader<'_>, key: &str) -> Result<Vec<Value>, FhirError> {
    match r.peek(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(_)) => match r.take(key) {
            Some(Value::Array(items)) => Ok(items),
            _ => Ok(Vec::new()),
        },
        Some(_) => Err(FhirError::wrong_type(&r.child_path(key), "an array")),
    }
}

/// An array item that must be an object.
fn object(v: Value, path: &ElementPath) -> Result<Map<String, Value>, FhirError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(FhirError::wrong_type(path, "an object")),
    }
}

/// Splits an `extension` array into the objects whose `url` is `url` and the rest (`None`
/// when nothing is left).
fn split_extensions(value: Value, url: &str) -> (Vec<Map<String, Value>>, Option<Value>) {
    let Value::Array(all) = value else {
        return (Vec::new(), Some(value));
    };
    let mut taken = Vec::new();
    let mut rest = Vec::new();
    for e in all {
        match e {
            Value::Object(m)
                if m.get("url")
                    .and_then(Value::as_str)
                    .is_some_and(|u| url_is(u, url)) =>
            {
                taken.push(m);
            }
            other => rest.push(other),
        }
    }
    (taken, (!rest.is_empty()).then_some(Value::Array(rest)))
}

/// Takes the extensions with `url`; the others stay.
fn take_extensions(r: &mut Reader<'_>, url: &str) -> Vec<Map<String, Value>> {
    let Some(value) = r.take("extension") else {
        return Vec::new();
    };
    let (taken, rest) = split_extensions(value, url);
    if let Some(rest) = rest {
        r.give_back("extension", rest);
    }
    taken
}

/// Takes the first extension with `url` (all of them are taken).
fn take_extension(r: &mut Reader<'_>, url: &str) -> Option<Map<String, Value>> {
    take_extensions(r, url).into_iter().next()
}

/// Takes the extensions with `url` from a plain map.
fn take_map_extensions(m: &mut Map<String, Value>, url: &str) -> Vec<Map<String, Value>> {
    let Some(value) = m.remove("extension") else {
        return Vec::new();
    };
    let (taken, rest) = split_extensions(value, url);
    if let Some(rest) = rest {
        m.insert("extension".into(), rest);
    }
    taken
}

/// An extension object with one value.
fn ext(url: &str, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("url".into(), Value::String(url.into()));
    m.insert(key.into(), value);
    Value::Object(m)
}

/// Appends extensions to a plain map, after any kept ones.
fn push_extensions(o: &mut Map<String, Value>, extensions: Vec<Value>) {
    if extensions.is_empty() {
        return;
    }
    let entry = o
        .entry("extension")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = entry {
        a.extend(extensions);
    } else {
        *entry = Value::Array(extensions);
    }
}

/// A number as JSON: whole numbers without a fraction so `4` stays `4`; `None` for values
/// JSON (and FHIR) cannot hold.
fn f64_value(x: f64) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Some(Value::from(x as i64))
    } else {
        serde_json::Number::from_f64(x).map(Value::Number)
    }
}

/// Whether `s` is a valid R4 `string`: not empty, and no whitespace but space, tab and line
/// breaks.
fn is_fhir_string(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() || matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Whether `s` is a valid R4 `code` or `uri`-like token: non-empty, no leading, trailing or
/// doubled whitespace.
fn is_fhir_code(s: &str) -> bool {
    !s.is_empty() && s.trim() == s && !s.contains("  ") && !s.contains(['\t', '\r', '\n'])
}

/// Whether `s` is a valid R4 `uri`/`canonical`: non-empty and without whitespace.
fn is_fhir_uri(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_urls_are_in_the_one_namespace_and_legacy_ones_still_match() {
        for url in [ITEM_KIND, REVERSE, REPORTING, SCORING, DIMENSION] {
            assert!(url.starts_with(EXTENSION_BASE), "{url}");
            let name = url.trim_start_matches(EXTENSION_BASE);
            assert!(url_is(&format!("{LEGACY_EXTENSION_BASE}{name}"), url));
            assert!(!url_is(&format!("{LEGACY_EXTENSION_BASE}{name}x"), url));
        }
        assert!(!url_is(TRANSLATION, ITEM_KIND));
    }

    #[test]
    fn whole_decimals_are_written_as_integers() {
        assert_eq!(f64_value(4.0), Some(Value::from(4)));
        assert_eq!(f64_value(3.25), Some(Value::from(3.25)));
        assert_eq!(f64_value(f64::NAN), None);
    }

    #[test]
    fn fhir_primitive_forms() {
        assert!(is_fhir_string("a b\nc") && !is_fhir_string("") && !is_fhir_string("a\u{b}"));
        assert!(is_fhir_code("a b") && !is_fhir_code(" a") && !is_fhir_code("a  b"));
        assert!(is_fhir_uri("Questionnaire/x|1") && !is_fhir_uri("a b"));
    }
}
