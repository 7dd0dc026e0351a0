//! FHIR R4 `Questionnaire` and `QuestionnaireResponse` import and export.
//!
//! Mapping:
//! - Item types map to [`ItemKind`]s: `choice` is single choice, or multiple choice with
//!   `repeats`; `string`/`text` are short/long text (`maxLength`, the `regex` extension);
//!   `integer`/`decimal` take the `minValue`/`maxValue` and `questionnaire-unit` extensions.
//!   Kinds FHIR lacks (Likert, NPS, star rating, Likert matrix) are exported as `choice`,
//!   `integer` and `group` items marked with the [`ITEM_KIND`] extension, so other FHIR tools
//!   still render them.
//! - `enableWhen` (all `answer[x]` types) and `enableBehavior` map to [`Condition`]s.
//! - `answerOption` (`valueCoding`, `valueInteger`, `valueString`) maps to [`AnswerOption`], its
//!   score to the `ordinalValue` extension. `answerValueSet` pointing at a contained `ValueSet`
//!   is resolved into options for validation and exported as the reference again.
//! - Translations use the standard `translation` extension on `_text`, `_title` and
//!   `_display`.
//! - Scoring rules ([`Scale`], [`FlagRule`]) have no FHIR R4 element; they travel as JSON in the
//!   [`SCORING`] extension. Response dimensions travel in the [`DIMENSION`] extension.
//! - Every element not listed here is kept verbatim (`fhir_extra`) and written back on export,
//!   so importing and exporting a resource gives back an equivalent resource.

use crate::definition::{
    AnswerOption, Condition, DefinitionStatus, EnableBehavior, Item, ItemKind, MatrixRow, Operator,
    OptionType, Reporting, SurveyDefinition, SurveyRef,
};
use crate::error::SurveyError;
use crate::extra::FhirExtra;
use crate::response::{
    Answer, AnswerCoding, AnswerValue, ResponseItem, ResponseStatus, SurveyResponse,
};
use crate::scoring::{FlagRule, Scale};
use crate::text::{Texts, english};
use bedside_core::{Language, PartialDate, ResponseId, Sensitive};
use chrono::{DateTime, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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
pub const ITEM_KIND: &str = "https://bedside.example/fhir/StructureDefinition/survey-item-kind";
/// Bedside: an item or matrix row is reverse-scored.
pub const REVERSE: &str = "https://bedside.example/fhir/StructureDefinition/survey-reverse";
/// Bedside: an item's reporting rules, as JSON.
pub const REPORTING: &str = "https://bedside.example/fhir/StructureDefinition/survey-reporting";
/// Bedside: a definition's scales and flag rules, as JSON.
pub const SCORING: &str = "https://bedside.example/fhir/StructureDefinition/survey-scoring";
/// Bedside: one analytics dimension of a response (`key` and `value` sub-extensions).
pub const DIMENSION: &str = "https://bedside.example/fhir/StructureDefinition/survey-dimension";

/// Scales and flags as carried in the [`SCORING`] extension.
#[derive(Serialize, Deserialize, Default)]
struct Scoring {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scales: Vec<Scale>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flags: Vec<FlagRule>,
}

/// Parses JSON bytes into a value, reporting position on failure.
///
/// # Errors
/// [`SurveyError::Json`] when the bytes are not JSON.
pub fn parse_json(bytes: &[u8]) -> Result<Value, SurveyError> {
    serde_json::from_slice(bytes).map_err(|e| SurveyError::json(&e))
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, SurveyError> {
    v.as_object()
        .ok_or_else(|| SurveyError::fhir(path, "expected an object"))
}

fn into_obj(v: Value, path: &str) -> Result<Map<String, Value>, SurveyError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(SurveyError::fhir(path, "expected an object")),
    }
}

fn check_type(o: &Map<String, Value>, expected: &str) -> Result<(), SurveyError> {
    let found = o.get("resourceType").and_then(Value::as_str).unwrap_or("");
    if found == expected {
        Ok(())
    } else {
        Err(SurveyError::WrongResourceType {
            expected: expected.to_string(),
            found: found.chars().take(40).collect(),
        })
    }
}

fn take_str(
    o: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, SurveyError> {
    match o.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SurveyError::fhir(
            format!("{path}.{key}"),
            "expected a string",
        )),
    }
}

fn take_bool(o: &mut Map<String, Value>, key: &str, path: &str) -> Result<bool, SurveyError> {
    match o.remove(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(SurveyError::fhir(
            format!("{path}.{key}"),
            "expected a boolean",
        )),
    }
}

fn take_array(
    o: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Vec<Value>, SurveyError> {
    match o.remove(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(SurveyError::fhir(
            format!("{path}.{key}"),
            "expected an array",
        )),
    }
}

/// Removes and returns the extensions with `url` from `o["extension"]`; other extensions stay.
fn take_extensions(o: &mut Map<String, Value>, url: &str) -> Vec<Map<String, Value>> {
    let Some(Value::Array(all)) = o.get_mut("extension") else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    all.retain(|e| {
        let matches = e.get("url").and_then(Value::as_str) == Some(url);
        if matches {
            if let Some(m) = e.as_object() {
                taken.push(m.clone());
            }
        }
        !matches
    });
    if all.is_empty() {
        o.remove("extension");
    }
    taken
}

fn take_extension(o: &mut Map<String, Value>, url: &str) -> Option<Map<String, Value>> {
    take_extensions(o, url).into_iter().next()
}

/// Appends extensions after any preserved ones.
fn push_extensions(o: &mut Map<String, Value>, extensions: Vec<Value>) {
    if extensions.is_empty() {
        return;
    }
    let entry = o
        .entry("extension")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = entry {
        a.extend(extensions);
    }
}

fn ext(url: &str, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("url".into(), Value::String(url.into()));
    m.insert(key.into(), value);
    Value::Object(m)
}

/// Reads `key` and its `_key` translations into [`Texts`]; leftovers of `_key` stay in `o`.
fn take_texts(
    o: &mut Map<String, Value>,
    key: &str,
    language: &Language,
    path: &str,
) -> Result<Option<Texts>, SurveyError> {
    let Some(primary) = take_str(o, key, path)? else {
        return Ok(None);
    };
    let mut texts = Texts::new(language.clone(), primary);
    let under = format!("_{key}");
    if let Some(Value::Object(mut meta)) = o.remove(&under) {
        for t in take_extensions(&mut meta, TRANSLATION) {
            let sub = t.get("extension").and_then(Value::as_array);
            let find = |name: &str, field: &str| {
                sub.and_then(|s| {
                    s.iter()
                        .find(|e| e.get("url").and_then(Value::as_str) == Some(name))
                        .and_then(|e| e.get(field))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
            };
            match (find("lang", "valueCode"), find("content", "valueString")) {
                (Some(lang), Some(content)) => match Language::new(&lang) {
                    Ok(l) => texts.set(l, content),
                    Err(_) => {
                        return Err(SurveyError::fhir(
                            format!("{path}.{under}"),
                            "invalid translation language",
                        ));
                    }
                },
                _ => {
                    return Err(SurveyError::fhir(
                        format!("{path}.{under}"),
                        "translation lacks lang or content",
                    ));
                }
            }
        }
        if !meta.is_empty() {
            o.insert(under, Value::Object(meta));
        }
    }
    Ok(Some(texts))
}

fn put_texts(o: &mut Map<String, Value>, key: &str, texts: &Texts) {
    let Some((_, first)) = texts.entries().first() else {
        return;
    };
    o.insert(key.into(), Value::String(first.clone()));
    let translations: Vec<Value> = texts.entries()[1..]
        .iter()
        .map(|(l, t)| {
            json!({"url": TRANSLATION, "extension": [
                {"url": "lang", "valueCode": l.as_str()},
                {"url": "content", "valueString": t}
            ]})
        })
        .collect();
    if !translations.is_empty() {
        let under = format!("_{key}");
        let meta = o.entry(under).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = meta {
            push_extensions(m, translations);
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn f64_value(x: f64) -> Value {
    // Whole numbers are written without a fraction so `4` stays `4`.
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

// ---------------------------------------------------------------------------------------------
// Questionnaire

/// Imports a FHIR R4 `Questionnaire`.
///
/// # Errors
/// [`SurveyError::WrongResourceType`] for another resource; [`SurveyError::Fhir`] with the path
/// of the first element that cannot be represented.
pub fn import_questionnaire(resource: &Value) -> Result<SurveyDefinition, SurveyError> {
    let mut o = obj(resource, "Questionnaire")?.clone();
    check_type(&o, "Questionnaire")?;
    o.remove("resourceType");
    let path = "Questionnaire";
    // The resource language is the primary language of every text. Export writes it back from
    // the title's primary language when that is not English, so only then is it taken out of
    // the preserved elements (an explicit `en` stays verbatim).
    let language = match o.get("language").and_then(Value::as_str).map(Language::new) {
        Some(Ok(l)) => {
            if l.as_str() != "en" {
                o.remove("language");
            }
            l
        }
        _ => english(),
    };
    let id = take_str(&mut o, "id", path)?.unwrap_or_default();
    let version = take_str(&mut o, "version", path)?.unwrap_or_default();
    let url = take_str(&mut o, "url", path)?;
    let status = match take_str(&mut o, "status", path)?.as_deref() {
        Some("draft") | None => DefinitionStatus::Draft,
        Some("active") => DefinitionStatus::Active,
        Some("retired") => DefinitionStatus::Retired,
        Some(_) => {
            return Err(SurveyError::fhir(
                "Questionnaire.status",
                "unsupported status",
            ));
        }
    };
    let title = take_texts(&mut o, "title", &language, path)?.unwrap_or_default();
    let description = take_texts(&mut o, "description", &language, path)?;
    let scoring = match take_extension(&mut o, SCORING) {
        Some(e) => {
            let text = e.get("valueString").and_then(Value::as_str).unwrap_or("{}");
            serde_json::from_str::<Scoring>(text).map_err(|_| {
                SurveyError::fhir("Questionnaire.extension", "invalid scoring extension")
            })?
        }
        None => Scoring::default(),
    };
    let contained = o.get("contained").cloned();
    let items = take_array(&mut o, "item", path)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            import_item(
                v,
                &format!("{path}.item[{i}]"),
                &language,
                contained.as_ref(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SurveyDefinition {
        id,
        version,
        url,
        status,
        title,
        description,
        items,
        scales: scoring.scales,
        flags: scoring.flags,
        fhir_extra: o.into(),
    })
}

fn kind_marker(o: &mut Map<String, Value>) -> Option<String> {
    take_extension(o, ITEM_KIND).and_then(|e| {
        e.get("valueCode")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

fn take_bound(o: &mut Map<String, Value>, url: &str) -> Option<Value> {
    let e = take_extension(o, url)?;
    e.get("valueInteger")
        .or_else(|| e.get("valueDecimal"))
        .cloned()
}

fn import_item(
    v: Value,
    path: &str,
    language: &Language,
    contained: Option<&Value>,
) -> Result<Item, SurveyError> {
    let mut o = into_obj(v, path)?;
    let id = take_str(&mut o, "linkId", path)?
        .ok_or_else(|| SurveyError::fhir(path, "item has no linkId"))?;
    let text = take_texts(&mut o, "text", language, path)?;
    let prefix = take_str(&mut o, "prefix", path)?;
    let fhir_type = take_str(&mut o, "type", path)?
        .ok_or_else(|| SurveyError::fhir(path, "item has no type"))?;
    let required = take_bool(&mut o, "required", path)?;
    let mut repeats = take_bool(&mut o, "repeats", path)?;
    let marker = kind_marker(&mut o);
    let reverse = take_extension(&mut o, REVERSE)
        .and_then(|e| e.get("valueBoolean").and_then(Value::as_bool))
        .unwrap_or(false);
    let reporting = match take_extension(&mut o, REPORTING) {
        Some(e) => Some(
            serde_json::from_str::<Reporting>(
                e.get("valueString").and_then(Value::as_str).unwrap_or(""),
            )
            .map_err(|_| SurveyError::fhir(path, "invalid reporting extension"))?,
        ),
        None => None,
    };
    let enable_when = take_array(&mut o, "enableWhen", path)?
        .iter()
        .enumerate()
        .map(|(i, c)| import_condition(c, &format!("{path}.enableWhen[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let enable_behavior = match take_str(&mut o, "enableBehavior", path)?.as_deref() {
        None | Some("any") => EnableBehavior::Any,
        Some("all") => EnableBehavior::All,
        Some(_) => {
            return Err(SurveyError::fhir(
                format!("{path}.enableBehavior"),
                "unknown behaviour",
            ));
        }
    };
    let mut children = take_array(&mut o, "item", path)?;
    let is_choice = matches!(fhir_type.as_str(), "choice" | "open-choice");
    let (options, value_set) = if is_choice {
        let value_set = take_str(&mut o, "answerValueSet", path)?;
        let mut options = take_array(&mut o, "answerOption", path)?
            .into_iter()
            .enumerate()
            .map(|(i, a)| import_option(a, &format!("{path}.answerOption[{i}]"), language))
            .collect::<Result<Vec<_>, _>>()?;
        if options.is_empty() {
            if let Some(vs) = &value_set {
                options = resolve_value_set(vs, contained);
            }
        }
        (options, value_set)
    } else {
        (Vec::new(), None)
    };
    let text_limits =
        |o: &mut Map<String, Value>| -> Result<(Option<u32>, Option<String>), SurveyError> {
            let max_length = match o.remove("maxLength") {
                None => None,
                Some(v) => Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(
                    || {
                        SurveyError::fhir(
                            format!("{path}.maxLength"),
                            "expected a small positive integer",
                        )
                    },
                )?),
            };
            let pattern = take_extension(o, REGEX).and_then(|e| {
                e.get("valueString")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            Ok((max_length, pattern))
        };
    let unit = |o: &mut Map<String, Value>| {
        take_extension(o, UNIT).and_then(|e| {
            e.get("valueCoding")
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let kind = match (fhir_type.as_str(), marker.as_deref()) {
        ("group", Some("likert-matrix")) => {
            let mut points = Vec::new();
            for (i, c) in std::mem::take(&mut children).into_iter().enumerate() {
                let cpath = format!("{path}.item[{i}]");
                let row = import_item(c, &cpath, language, contained)?;
                let is_row = row
                    .fhir_extra
                    .get("_matrixRow")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if let (true, ItemKind::Likert { points: p, reverse }) = (is_row, &row.kind) {
                    if points.is_empty() {
                        points = p.clone();
                    }
                    rows.push(MatrixRow {
                        id: row.id.clone(),
                        text: row.text.clone().unwrap_or_default(),
                        reverse: *reverse,
                        required: row.required,
                    });
                } else {
                    items.push(row);
                }
            }
            ItemKind::LikertMatrix {
                points,
                rows: std::mem::take(&mut rows),
            }
        }
        ("group", _) => ItemKind::Group,
        ("display", _) => ItemKind::Display,
        ("boolean", _) => ItemKind::Boolean,
        ("integer", Some("nps")) => {
            take_bound(&mut o, MIN_VALUE);
            take_bound(&mut o, MAX_VALUE);
            ItemKind::Nps
        }
        ("integer", Some("star-rating")) => {
            take_bound(&mut o, MIN_VALUE);
            let max = take_bound(&mut o, MAX_VALUE)
                .and_then(|v| v.as_u64())
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| {
                    SurveyError::fhir(path, "star rating needs a maxValue of at most 255")
                })?;
            ItemKind::StarRating { max }
        }
        ("integer", _) => ItemKind::Integer {
            min: take_bound(&mut o, MIN_VALUE).and_then(|v| v.as_i64()),
            max: take_bound(&mut o, MAX_VALUE).and_then(|v| v.as_i64()),
            unit: unit(&mut o),
        },
        ("decimal", _) => ItemKind::Decimal {
            min: take_bound(&mut o, MIN_VALUE).as_ref().and_then(number),
            max: take_bound(&mut o, MAX_VALUE).as_ref().and_then(number),
            unit: unit(&mut o),
        },
        ("date", _) => ItemKind::Date,
        ("dateTime", _) => ItemKind::DateTime,
        ("time", _) => ItemKind::Time,
        ("string", _) => {
            let (max_length, pattern) = text_limits(&mut o)?;
            ItemKind::ShortText {
                max_length,
                pattern,
            }
        }
        ("text", _) => {
            let (max_length, pattern) = text_limits(&mut o)?;
            ItemKind::LongText {
                max_length,
                pattern,
            }
        }
        ("choice", Some("likert" | "matrix-row")) => {
            if marker.as_deref() == Some("matrix-row") {
                o.insert("_matrixRow".into(), Value::Bool(true));
            }
            ItemKind::Likert {
                points: options,
                reverse,
            }
        }
        ("choice", _) if repeats => {
            repeats = false;
            ItemKind::MultipleChoice { options, value_set }
        }
        ("choice", _) => ItemKind::SingleChoice { options, value_set },
        ("open-choice", _) => ItemKind::OpenChoice { options, value_set },
        (other, _) => ItemKind::Other {
            fhir_type: other.to_string(),
        },
    };
    if !matches!(kind, ItemKind::LikertMatrix { .. }) {
        items = children
            .into_iter()
            .enumerate()
            .map(|(i, c)| import_item(c, &format!("{path}.item[{i}]"), language, contained))
            .collect::<Result<Vec<_>, _>>()?;
    }
    Ok(Item {
        id,
        text,
        prefix,
        kind,
        required,
        repeats,
        enable_when,
        enable_behavior,
        reporting,
        items,
        fhir_extra: o.into(),
    })
}

/// Options from a contained `ValueSet` (`#id`) with an inline `compose.include[].concept[]`.
fn resolve_value_set(reference: &str, contained: Option<&Value>) -> Vec<AnswerOption> {
    let Some(id) = reference.strip_prefix('#') else {
        return Vec::new();
    };
    let Some(vs) = contained.and_then(Value::as_array).and_then(|c| {
        c.iter().find(|r| {
            r.get("resourceType").and_then(Value::as_str) == Some("ValueSet")
                && r.get("id").and_then(Value::as_str) == Some(id)
        })
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let includes = vs
        .pointer("/compose/include")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for inc in includes {
        let system = inc
            .get("system")
            .and_then(Value::as_str)
            .map(str::to_string);
        for c in inc
            .get("concept")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let Some(code) = c.get("code").and_then(Value::as_str) else {
                continue;
            };
            out.push(AnswerOption {
                code: code.to_string(),
                system: system.clone(),
                display: c.get("display").and_then(Value::as_str).map(Texts::en),
                score: None,
                value_type: OptionType::Coding,
                fhir_extra: FhirExtra::new(),
            });
        }
    }
    out
}

fn import_option(v: Value, path: &str, language: &Language) -> Result<AnswerOption, SurveyError> {
    let mut o = into_obj(v, path)?;
    let mut score =
        take_extension(&mut o, ORDINAL_VALUE).and_then(|e| e.get("valueDecimal").and_then(number));
    let (code, system, display, value_type) = if let Some(c) = o.remove("valueCoding") {
        let mut c = into_obj(c, path)?;
        let cpath = format!("{path}.valueCoding");
        if score.is_none() {
            score = take_extension(&mut c, ORDINAL_VALUE)
                .and_then(|e| e.get("valueDecimal").and_then(number));
        }
        let code = take_str(&mut c, "code", &cpath)?
            .ok_or_else(|| SurveyError::fhir(&cpath, "option coding has no code"))?;
        let system = take_str(&mut c, "system", &cpath)?;
        let display = take_texts(&mut c, "display", language, &cpath)?;
        if !c.is_empty() {
            o.insert("valueCoding".into(), Value::Object(c));
        }
        (code, system, display, OptionType::Coding)
    } else if let Some(i) = o.remove("valueInteger") {
        let n = i
            .as_i64()
            .ok_or_else(|| SurveyError::fhir(path, "valueInteger is not an integer"))?;
        (n.to_string(), None, None, OptionType::Integer)
    } else if let Some(s) = take_str(&mut o, "valueString", path)? {
        (s, None, None, OptionType::String)
    } else {
        return Err(SurveyError::fhir(
            path,
            "answerOption value must be valueCoding, valueInteger or valueString",
        ));
    };
    Ok(AnswerOption {
        code,
        system,
        display,
        score,
        value_type,
        fhir_extra: o.into(),
    })
}

fn import_condition(v: &Value, path: &str) -> Result<Condition, SurveyError> {
    let o = obj(v, path)?;
    let question = o
        .get("question")
        .and_then(Value::as_str)
        .ok_or_else(|| SurveyError::fhir(path, "enableWhen has no question"))?;
    let operator = o
        .get("operator")
        .and_then(Value::as_str)
        .and_then(Operator::parse)
        .ok_or_else(|| SurveyError::fhir(path, "enableWhen has no known operator"))?;
    let (key, value) = o
        .iter()
        .find(|(k, _)| k.starts_with("answer"))
        .ok_or_else(|| SurveyError::fhir(path, "enableWhen has no answer[x]"))?;
    let answer = import_value(&key["answer".len()..], value.clone(), path)?;
    Ok(Condition::new(question, operator, answer))
}

/// Imports a `value[x]`/`answer[x]` given its type suffix (`Coding`, `Integer`).
fn import_value(suffix: &str, v: Value, path: &str) -> Result<AnswerValue, SurveyError> {
    let bad = || SurveyError::fhir(path, format!("malformed {suffix} value"));
    Ok(match suffix {
        "Boolean" => AnswerValue::Boolean(v.as_bool().ok_or_else(bad)?),
        "Integer" => AnswerValue::Integer(v.as_i64().ok_or_else(bad)?),
        "Decimal" => AnswerValue::Decimal(v.as_f64().ok_or_else(bad)?),
        "Date" => AnswerValue::Date(
            v.as_str()
                .and_then(|s| s.parse::<PartialDate>().ok())
                .ok_or_else(bad)?,
        ),
        "DateTime" => AnswerValue::DateTime(v.as_str().ok_or_else(bad)?.to_string()),
        "Time" => AnswerValue::Time(v.as_str().ok_or_else(bad)?.to_string()),
        "String" => AnswerValue::String(Sensitive::new(v.as_str().ok_or_else(bad)?.to_string())),
        "Coding" => {
            let Value::Object(mut c) = v else {
                return Err(bad());
            };
            let take = |c: &mut Map<String, Value>, k: &str| match c.remove(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(bad()),
            };
            AnswerValue::Coding(AnswerCoding {
                system: take(&mut c, "system")?,
                code: take(&mut c, "code")?,
                display: take(&mut c, "display")?,
                fhir_extra: c.into(),
            })
        }
        other => AnswerValue::Other {
            element: format!("value{other}"),
            value: Sensitive::new(v),
        },
    })
}

/// Exports a `value[x]` as `(suffix, json)`.
fn export_value(v: &AnswerValue) -> (String, Value) {
    match v {
        AnswerValue::Boolean(b) => ("Boolean".into(), Value::Bool(*b)),
        AnswerValue::Integer(i) => ("Integer".into(), Value::from(*i)),
        AnswerValue::Decimal(d) => ("Decimal".into(), f64_value(*d)),
        AnswerValue::Date(d) => ("Date".into(), Value::String(d.to_string())),
        AnswerValue::DateTime(s) => ("DateTime".into(), Value::String(s.clone())),
        AnswerValue::Time(s) => ("Time".into(), Value::String(s.clone())),
        AnswerValue::String(s) => ("String".into(), Value::String(s.expose().clone())),
        AnswerValue::Coding(c) => {
            let mut m = Map::new();
            if let Some(s) = &c.system {
                m.insert("system".into(), Value::String(s.clone()));
            }
            if let Some(s) = &c.code {
                m.insert("code".into(), Value::String(s.clone()));
            }
            if let Some(s) = &c.display {
                m.insert("display".into(), Value::String(s.clone()));
            }
            for (k, v) in c.fhir_extra.iter() {
                m.insert(k.clone(), v.clone());
            }
            ("Coding".into(), Value::Object(m))
        }
        AnswerValue::Other { element, value } => (
            element.strip_prefix("value").unwrap_or(element).to_string(),
            value.expose().clone(),
        ),
    }
}

/// Exports a definition as a FHIR R4 `Questionnaire`.
pub fn export_questionnaire(definition: &SurveyDefinition) -> Value {
    let mut o = Map::new();
    o.insert("resourceType".into(), "Questionnaire".into());
    if !definition.id.is_empty() {
        o.insert("id".into(), definition.id.clone().into());
    }
    for (k, v) in definition.fhir_extra.iter() {
        o.insert(k.clone(), v.clone());
    }
    let primary = definition.title.primary_language().cloned();
    if !o.contains_key("language") {
        if let Some(l) = primary.filter(|l| l.as_str() != "en") {
            o.insert("language".into(), l.as_str().into());
        }
    }
    if let Some(url) = &definition.url {
        o.insert("url".into(), url.clone().into());
    }
    if !definition.version.is_empty() {
        o.insert("version".into(), definition.version.clone().into());
    }
    put_texts(&mut o, "title", &definition.title);
    o.insert("status".into(), definition.status.as_str().into());
    if let Some(d) = &definition.description {
        put_texts(&mut o, "description", d);
    }
    if !definition.scales.is_empty() || !definition.flags.is_empty() {
        let scoring = Scoring {
            scales: definition.scales.clone(),
            flags: definition.flags.clone(),
        };
        let text = serde_json::to_string(&scoring).unwrap_or_default();
        push_extensions(&mut o, vec![ext(SCORING, "valueString", text.into())]);
    }
    if !definition.items.is_empty() {
        o.insert(
            "item".into(),
            Value::Array(definition.items.iter().map(export_item).collect()),
        );
    }
    Value::Object(o)
}

fn export_option(opt: &AnswerOption) -> Value {
    let mut o = Map::new();
    let mut extra = opt.fhir_extra.to_map();
    let coding_extra = match extra.remove("valueCoding") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in extra {
        o.insert(k, v);
    }
    match opt.value_type {
        OptionType::Coding => {
            let mut c = coding_extra;
            if let Some(s) = &opt.system {
                c.insert("system".into(), s.clone().into());
            }
            c.insert("code".into(), opt.code.clone().into());
            if let Some(d) = &opt.display {
                put_texts(&mut c, "display", d);
            }
            if let Some(s) = opt.score {
                push_extensions(
                    &mut c,
                    vec![ext(ORDINAL_VALUE, "valueDecimal", f64_value(s))],
                );
            }
            o.insert("valueCoding".into(), Value::Object(c));
        }
        OptionType::Integer => {
            let n: i64 = opt.code.parse().unwrap_or_default();
            o.insert("valueInteger".into(), n.into());
        }
        OptionType::String => {
            o.insert("valueString".into(), opt.code.clone().into());
        }
    }
    if opt.score.is_some() && opt.value_type != OptionType::Coding {
        push_extensions(
            &mut o,
            vec![ext(
                ORDINAL_VALUE,
                "valueDecimal",
                f64_value(opt.score.unwrap_or_default()),
            )],
        );
    }
    Value::Object(o)
}

fn export_item(item: &Item) -> Value {
    let mut o = item.fhir_extra.to_map();
    let matrix_row = o.remove("_matrixRow").is_some();
    o.insert("linkId".into(), item.id.clone().into());
    if let Some(p) = &item.prefix {
        o.insert("prefix".into(), p.clone().into());
    }
    if let Some(t) = &item.text {
        put_texts(&mut o, "text", t);
    }
    let mut exts = Vec::new();
    let marker = |name: &str| ext(ITEM_KIND, "valueCode", name.into());
    let bound = |url: &str, v: Value, key: &str| ext(url, key, v);
    let mut repeats = item.repeats;
    let mut options: Option<&[AnswerOption]> = None;
    let mut value_set = None;
    let mut children: Vec<Value> = Vec::new();
    let fhir_type = match &item.kind {
        ItemKind::Group => "group".to_string(),
        ItemKind::Display => "display".to_string(),
        ItemKind::Boolean => "boolean".to_string(),
        ItemKind::SingleChoice {
            options: opts,
            value_set: vs,
        } => {
            options = Some(opts);
            value_set = vs.clone();
            "choice".to_string()
        }
        ItemKind::MultipleChoice {
            options: opts,
            value_set: vs,
        } => {
            options = Some(opts);
            value_set = vs.clone();
            repeats = true;
            "choice".to_string()
        }
        ItemKind::OpenChoice {
            options: opts,
            value_set: vs,
        } => {
            options = Some(opts);
            value_set = vs.clone();
            "open-choice".to_string()
        }
        ItemKind::Integer { min, max, unit } => {
            if let Some(m) = min {
                exts.push(bound(MIN_VALUE, (*m).into(), "valueInteger"));
            }
            if let Some(m) = max {
                exts.push(bound(MAX_VALUE, (*m).into(), "valueInteger"));
            }
            if let Some(u) = unit {
                exts.push(ext(
                    UNIT,
                    "valueCoding",
                    json!({"system": "http://unitsofmeasure.org", "code": u}),
                ));
            }
            "integer".to_string()
        }
        ItemKind::Decimal { min, max, unit } => {
            if let Some(m) = min {
                exts.push(bound(MIN_VALUE, f64_value(*m), "valueDecimal"));
            }
            if let Some(m) = max {
                exts.push(bound(MAX_VALUE, f64_value(*m), "valueDecimal"));
            }
            if let Some(u) = unit {
                exts.push(ext(
                    UNIT,
                    "valueCoding",
                    json!({"system": "http://unitsofmeasure.org", "code": u}),
                ));
            }
            "decimal".to_string()
        }
        ItemKind::Date => "date".to_string(),
        ItemKind::DateTime => "dateTime".to_string(),
        ItemKind::Time => "time".to_string(),
        ItemKind::ShortText {
            max_length,
            pattern,
        }
        | ItemKind::LongText {
            max_length,
            pattern,
        } => {
            if let Some(m) = max_length {
                o.insert("maxLength".into(), (*m).into());
            }
            if let Some(p) = pattern {
                exts.push(ext(REGEX, "valueString", p.clone().into()));
            }
            if matches!(item.kind, ItemKind::ShortText { .. }) {
                "string"
            } else {
                "text"
            }
            .to_string()
        }
        ItemKind::Likert { points, reverse } => {
            options = Some(points);
            exts.push(marker(if matrix_row { "matrix-row" } else { "likert" }));
            if *reverse {
                exts.push(ext(REVERSE, "valueBoolean", true.into()));
            }
            "choice".to_string()
        }
        ItemKind::Nps => {
            exts.push(marker("nps"));
            exts.push(bound(MIN_VALUE, 0.into(), "valueInteger"));
            exts.push(bound(MAX_VALUE, 10.into(), "valueInteger"));
            "integer".to_string()
        }
        ItemKind::StarRating { max } => {
            exts.push(marker("star-rating"));
            exts.push(bound(MIN_VALUE, 1.into(), "valueInteger"));
            exts.push(bound(MAX_VALUE, (*max).into(), "valueInteger"));
            "integer".to_string()
        }
        ItemKind::LikertMatrix { points, rows } => {
            exts.push(marker("likert-matrix"));
            for row in rows {
                let mut r = Item::new(
                    row.id.clone(),
                    "",
                    ItemKind::Likert {
                        points: points.clone(),
                        reverse: row.reverse,
                    },
                );
                r.text = Some(row.text.clone());
                r.required = row.required;
                r.fhir_extra.insert("_matrixRow".into(), Value::Bool(true));
                children.push(export_item(&r));
            }
            "group".to_string()
        }
        ItemKind::Other { fhir_type } => fhir_type.clone(),
    };
    if let Some(r) = &item.reporting {
        if let Ok(text) = serde_json::to_string(r) {
            exts.push(ext(REPORTING, "valueString", text.into()));
        }
    }
    o.insert("type".into(), fhir_type.into());
    if !item.enable_when.is_empty() {
        let conds: Vec<Value> = item
            .enable_when
            .iter()
            .map(|c| {
                let (suffix, value) = export_value(&c.answer);
                let mut m = Map::new();
                m.insert("question".into(), c.question.clone().into());
                m.insert("operator".into(), c.operator.as_str().into());
                m.insert(format!("answer{suffix}"), value);
                Value::Object(m)
            })
            .collect();
        o.insert("enableWhen".into(), Value::Array(conds));
    }
    if item.enable_behavior == EnableBehavior::All {
        o.insert("enableBehavior".into(), "all".into());
    }
    if item.required {
        o.insert("required".into(), true.into());
    }
    if repeats {
        o.insert("repeats".into(), true.into());
    }
    match (value_set, options) {
        (Some(vs), _) => {
            o.insert("answerValueSet".into(), vs.into());
        }
        (None, Some(opts)) if !opts.is_empty() => {
            o.insert(
                "answerOption".into(),
                Value::Array(opts.iter().map(export_option).collect()),
            );
        }
        _ => {}
    }
    push_extensions(&mut o, exts);
    children.extend(item.items.iter().map(export_item));
    if !children.is_empty() {
        o.insert("item".into(), Value::Array(children));
    }
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------
// QuestionnaireResponse

/// Imports a FHIR R4 `QuestionnaireResponse`. The survey reference comes from `questionnaire`
/// (`Questionnaire/phq-9|1.0.0` gives id `phq-9`, version `1.0.0`); without it the reference is
/// empty and the caller sets it.
///
/// # Errors
/// [`SurveyError::WrongResourceType`] for another resource; [`SurveyError::Fhir`] with the path
/// of the first element that cannot be represented.
pub fn import_questionnaire_response(resource: &Value) -> Result<SurveyResponse, SurveyError> {
    let mut o = obj(resource, "QuestionnaireResponse")?.clone();
    check_type(&o, "QuestionnaireResponse")?;
    o.remove("resourceType");
    let path = "QuestionnaireResponse";
    let id = match o
        .get("id")
        .and_then(Value::as_str)
        .map(str::parse::<ResponseId>)
    {
        Some(Ok(id)) => {
            o.remove("id");
            Some(id)
        }
        _ => None,
    };
    let survey = match o.get("questionnaire").and_then(Value::as_str) {
        Some(canonical) => {
            let r = parse_canonical(canonical);
            if canonical_of(&r) == canonical {
                o.remove("questionnaire");
            }
            r
        }
        None => SurveyRef::default(),
    };
    let status = match take_str(&mut o, "status", path)? {
        None => ResponseStatus::Completed,
        Some(s) => ResponseStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| SurveyError::fhir("QuestionnaireResponse.status", "unknown status"))?,
    };
    let authored = match o.get("authored").and_then(Value::as_str) {
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) if t.to_rfc3339_opts(SecondsFormat::AutoSi, true) == s => {
                o.remove("authored");
                Some(t)
            }
            // Partial or unusually written date-times stay verbatim.
            _ => None,
        },
        None => None,
    };
    let language = match o.get("language").and_then(Value::as_str).map(Language::new) {
        Some(Ok(l)) => {
            o.remove("language");
            Some(l)
        }
        _ => None,
    };
    let mut dimensions = std::collections::BTreeMap::new();
    for d in take_extensions(&mut o, DIMENSION) {
        let sub = d.get("extension").and_then(Value::as_array);
        let get = |name: &str| {
            sub.and_then(|s| {
                s.iter()
                    .find(|e| e.get("url").and_then(Value::as_str) == Some(name))
                    .and_then(|e| e.get("valueString"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        };
        if let (Some(k), Some(v)) = (get("key"), get("value")) {
            dimensions.insert(k, v);
        }
    }
    let items = import_response_items(take_array(&mut o, "item", path)?, path)?;
    Ok(SurveyResponse {
        id,
        survey,
        status,
        authored,
        language,
        dimensions,
        items,
        fhir_extra: o.into(),
    })
}

fn parse_canonical(canonical: &str) -> SurveyRef {
    let (base, version) = canonical.split_once('|').unwrap_or((canonical, ""));
    let id = base.rsplit('/').next().unwrap_or(base);
    SurveyRef {
        id: id.to_string(),
        version: version.to_string(),
    }
}

fn canonical_of(r: &SurveyRef) -> String {
    if r.version.is_empty() {
        format!("Questionnaire/{}", r.id)
    } else {
        format!("Questionnaire/{}|{}", r.id, r.version)
    }
}

fn import_response_items(items: Vec<Value>, path: &str) -> Result<Vec<ResponseItem>, SurveyError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let ipath = format!("{path}.item[{i}]");
            let mut o = into_obj(v, &ipath)?;
            let link_id = take_str(&mut o, "linkId", &ipath)?
                .ok_or_else(|| SurveyError::fhir(&ipath, "item has no linkId"))?;
            let text = take_str(&mut o, "text", &ipath)?;
            let answers = take_array(&mut o, "answer", &ipath)?
                .into_iter()
                .enumerate()
                .map(|(j, a)| {
                    let apath = format!("{ipath}.answer[{j}]");
                    let mut a = into_obj(a, &apath)?;
                    let key = a
                        .keys()
                        .find(|k| k.starts_with("value"))
                        .cloned()
                        .ok_or_else(|| SurveyError::fhir(&apath, "answer has no value[x]"))?;
                    let raw = a.remove(&key).unwrap_or(Value::Null);
                    let value = import_value(&key["value".len()..], raw, &apath)?;
                    let items = import_response_items(take_array(&mut a, "item", &apath)?, &apath)?;
                    Ok(Answer {
                        value,
                        items,
                        fhir_extra: a.into(),
                    })
                })
                .collect::<Result<Vec<_>, SurveyError>>()?;
            let items = import_response_items(take_array(&mut o, "item", &ipath)?, &ipath)?;
            Ok(ResponseItem {
                link_id,
                text,
                answers,
                items,
                fhir_extra: o.into(),
            })
        })
        .collect()
}

/// Exports a response as a FHIR R4 `QuestionnaireResponse`.
pub fn export_questionnaire_response(response: &SurveyResponse) -> Value {
    let mut o = Map::new();
    o.insert("resourceType".into(), "QuestionnaireResponse".into());
    if let Some(id) = &response.id {
        o.insert("id".into(), id.to_string().into());
    }
    for (k, v) in response.fhir_extra.iter() {
        o.insert(k.clone(), v.clone());
    }
    if !o.contains_key("questionnaire") && !response.survey.id.is_empty() {
        o.insert(
            "questionnaire".into(),
            canonical_of(&response.survey).into(),
        );
    }
    o.insert("status".into(), response.status.as_str().into());
    if let Some(a) = &response.authored {
        o.insert(
            "authored".into(),
            a.to_rfc3339_opts(SecondsFormat::AutoSi, true).into(),
        );
    }
    if let Some(l) = &response.language {
        o.insert("language".into(), l.as_str().into());
    }
    let dims: Vec<Value> = response
        .dimensions
        .iter()
        .map(|(k, v)| {
            json!({"url": DIMENSION, "extension": [
                {"url": "key", "valueString": k},
                {"url": "value", "valueString": v}
            ]})
        })
        .collect();
    push_extensions(&mut o, dims);
    if !response.items.is_empty() {
        o.insert("item".into(), export_response_items(&response.items));
    }
    Value::Object(o)
}

fn export_response_items(items: &[ResponseItem]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| {
                let mut o = item.fhir_extra.to_map();
                o.insert("linkId".into(), item.link_id.clone().into());
                if let Some(t) = &item.text {
                    o.insert("text".into(), t.clone().into());
                }
                if !item.answers.is_empty() {
                    let answers: Vec<Value> = item
                        .answers
                        .iter()
                        .map(|a| {
                            let mut m = a.fhir_extra.to_map();
                            let (suffix, v) = export_value(&a.value);
                            m.insert(format!("value{suffix}"), v);
                            if !a.items.is_empty() {
                                m.insert("item".into(), export_response_items(&a.items));
                            }
                            Value::Object(m)
                        })
                        .collect();
                    o.insert("answer".into(), Value::Array(answers));
                }
                if !item.items.is_empty() {
                    o.insert("item".into(), export_response_items(&item.items));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

/// The first place where two JSON documents differ, ignoring object key order and comparing
/// numbers by value (`4` equals `4.0`); `None` when they are equivalent.
pub fn first_difference(a: &Value, b: &Value) -> Option<String> {
    fn go(a: &Value, b: &Value, path: &mut String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let base = path.len();
                    path.push('.');
                    path.push_str(k);
                    let found = match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => go(p, q, path),
                        _ => Some(path.clone()),
                    };
                    path.truncate(base);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return Some(format!("{path} (length {} vs {})", x.len(), y.len()));
                }
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    let base = path.len();
                    path.push_str(&format!("[{i}]"));
                    let found = go(p, q, path);
                    path.truncate(base);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64() != y.as_f64()).then(|| path.clone())
            }
            _ => (a != b).then(|| path.clone()),
        }
    }
    go(a, b, &mut String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_references() {
        let cases = [
            ("Questionnaire/gcs", ("gcs", "")),
            (
                "http://example.org/Questionnaire/phq-9|1.0.0",
                ("phq-9", "1.0.0"),
            ),
            ("phq-9", ("phq-9", "")),
        ];
        for (input, (id, version)) in cases {
            let r = parse_canonical(input);
            assert_eq!(
                (r.id.as_str(), r.version.as_str()),
                (id, version),
                "{input}"
            );
        }
        let r = SurveyRef {
            id: "nps".into(),
            version: "2".into(),
        };
        assert_eq!(canonical_of(&r), "Questionnaire/nps|2");
    }

    #[test]
    fn differences_ignore_key_order_and_number_form() {
        let a = json!({"a": 1, "b": [1, {"c": 4}]});
        let same = json!({"b": [1.0, {"c": 4.0}], "a": 1});
        assert_eq!(first_difference(&a, &same), None);
        let cases = [
            (json!({"a": 1, "b": [1, {"c": 5}]}), ".b[1].c"),
            (json!({"a": 1, "b": [1]}), ".b (length 2 vs 1)"),
            (json!({"a": 1}), ".b"),
            (json!({"a": "1", "b": [1, {"c": 4}]}), ".a"),
        ];
        for (other, at) in cases {
            assert_eq!(first_difference(&a, &other).as_deref(), Some(at), "{other}");
        }
    }

    #[test]
    fn whole_decimals_are_written_as_integers() {
        assert_eq!(f64_value(4.0), json!(4));
        assert_eq!(f64_value(3.25), json!(3.25));
    }
}
