//! `Questionnaire` ↔ [`SurveyDefinition`].

use super::value::{import_value, map_texts, texts};
use super::{
    ITEM_KIND, ImportWarning, MAX_VALUE, MIN_VALUE, ORDINAL_VALUE, REGEX, REPORTING, REVERSE,
    SCORING, UNIT, WarningKind, array, boolean, object, string, take_extension,
    take_map_extensions,
};
use crate::definition::{
    AnswerOption, Condition, DefinitionStatus, EnableBehavior, Item, ItemKind, MatrixRow, Operator,
    OptionType, Reporting, SurveyDefinition,
};
use crate::error::SurveyError;
use crate::extra::FhirExtra;
use crate::scoring::{FlagRule, Scale};
use crate::text::{Texts, english};
use bedside_core::{Coding, Language};
use bedside_fhir::json::coding_from_json;
use bedside_fhir::{ElementPath, FhirError, Problem, Reader, Segment};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Scales and flags as carried in the [`SCORING`] extension.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct Scoring {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) scales: Vec<Scale>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) flags: Vec<FlagRule>,
}

/// A Questionnaire import: the definition, what was repaired, and which elements were kept
/// verbatim because the model has no field for them.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionnaireImport {
    /// The imported definition.
    pub definition: SurveyDefinition,
    /// Repairs, such as a generated `linkId` for a display item without one.
    pub warnings: Vec<ImportWarning>,
    /// Paths of elements kept verbatim in `fhir_extra`.
    pub unmodelled: Vec<ElementPath>,
}

/// What item import needs from the whole resource.
struct Context<'a> {
    resource: &'a Value,
    language: Language,
    link_ids: HashSet<String>,
    warnings: Vec<ImportWarning>,
}

/// Checks `resource` is an object of `expected` type.
pub(super) fn resource_object<'a>(
    resource: &'a Value,
    expected: &'static str,
) -> Result<&'a Map<String, Value>, FhirError> {
    let Value::Object(map) = resource else {
        return Err(FhirError::wrong_type(&ElementPath::default(), "an object"));
    };
    if map.get("resourceType").and_then(Value::as_str) != Some(expected) {
        return Err(FhirError::new(
            ElementPath::parse("resourceType"),
            Problem::WrongResourceType { expected },
        ));
    }
    Ok(map)
}

/// Imports a FHIR R4 `Questionnaire`.
///
/// # Errors
/// [`SurveyError::Fhir`] with the path of the first element that cannot be represented (or
/// the resource type, when it is not a `Questionnaire`).
pub fn import_questionnaire(resource: &Value) -> Result<SurveyDefinition, SurveyError> {
    import_questionnaire_report(resource).map(|r| r.definition)
}

/// Imports a FHIR R4 `Questionnaire`, reporting repairs and unmodelled elements.
///
/// # Errors
/// As [`import_questionnaire`].
pub fn import_questionnaire_report(resource: &Value) -> Result<QuestionnaireImport, SurveyError> {
    let map = resource_object(resource, "Questionnaire")?.clone();
    let mut notes = Vec::new();
    let mut r = Reader::new(map, ElementPath::root("Questionnaire"), &mut notes);
    r.take("resourceType");
    // The resource language is the primary language of every text. Export writes it back from
    // the title's primary language when that is not English, so only then is it taken out of
    // the preserved elements (an explicit `en` stays verbatim).
    let language = match r
        .peek("language")
        .and_then(Value::as_str)
        .map(Language::new)
    {
        Some(Ok(l)) => {
            if l.as_str() != "en" {
                r.take("language");
            }
            l
        }
        _ => english(),
    };
    let id = string(&mut r, "id")?.unwrap_or_default();
    let version = string(&mut r, "version")?.unwrap_or_default();
    let url = string(&mut r, "url")?;
    let status = match r.peek("status") {
        // `unknown` has no domain meaning; it stays verbatim and export writes it back.
        Some(Value::String(s)) if s == "unknown" => DefinitionStatus::Draft,
        _ => r
            .try_parsed(
                "status",
                "one of draft|active|retired|unknown",
                |s| match s {
                    "draft" => Some(DefinitionStatus::Draft),
                    "active" => Some(DefinitionStatus::Active),
                    "retired" => Some(DefinitionStatus::Retired),
                    _ => None,
                },
            )?
            .unwrap_or(DefinitionStatus::Draft),
    };
    let title = texts(&mut r, "title", &language)?.unwrap_or_default();
    let description = texts(&mut r, "description", &language)?;
    let codes = codings(&mut r, "code");
    let scoring = match take_extension(&mut r, SCORING) {
        Some(e) => {
            let text = e.get("valueString").and_then(Value::as_str).unwrap_or("{}");
            serde_json::from_str::<Scoring>(text).map_err(|_| {
                FhirError::invalid(
                    &r.child_path("extension"),
                    "a survey-scoring extension with scales and flags as JSON",
                )
            })?
        }
        None => Scoring::default(),
    };
    let mut ctx = Context {
        resource,
        language,
        link_ids: HashSet::new(),
        warnings: Vec::new(),
    };
    collect_link_ids(resource.get("item"), &mut ctx.link_ids);
    let items_path = r.child_path("item");
    let mut items = Vec::new();
    for (i, v) in array(&mut r, "item")?.into_iter().enumerate() {
        let path = items_path.index(i);
        let map = object(v, &path)?;
        items.push(import_item(map, path, r.notes_mut(), &mut ctx)?);
    }
    let kept = r.finish();
    Ok(QuestionnaireImport {
        definition: SurveyDefinition {
            id,
            version,
            url,
            status,
            title,
            description,
            codes,
            items,
            scales: scoring.scales,
            flags: scoring.flags,
            fhir_extra: kept.into_inner().into(),
        },
        warnings: ctx.warnings,
        unmodelled: notes,
    })
}

/// Takes a `Coding` array when every coding is exactly representable.
fn codings(r: &mut Reader<'_>, key: &str) -> Vec<Coding> {
    let parse = |v: &Value| {
        v.as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(coding_from_json).collect::<Option<Vec<_>>>())
    };
    match r.peek(key).and_then(parse) {
        Some(list) => {
            r.take(key);
            list
        }
        None => Vec::new(),
    }
}

fn collect_link_ids(items: Option<&Value>, out: &mut HashSet<String>) {
    let Some(Value::Array(items)) = items else {
        return;
    };
    for item in items {
        if let Some(id) = item.get("linkId").and_then(Value::as_str) {
            out.insert(id.to_string());
        }
        collect_link_ids(item.get("item"), out);
    }
}

/// A `linkId` from an item's position (`display-3.1` for `item[2].item[0]`), unique in the
/// questionnaire.
fn generated_link_id(path: &ElementPath, taken: &mut HashSet<String>) -> String {
    let position: Vec<String> = path
        .segments()
        .iter()
        .filter_map(|s| match s {
            Segment::Index(i) => Some((i + 1).to_string()),
            Segment::Element(_) => None,
        })
        .collect();
    let base = format!("display-{}", position.join("."));
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

fn kind_marker(r: &mut Reader<'_>) -> Option<String> {
    take_extension(r, ITEM_KIND).and_then(|e| {
        e.get("valueCode")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

fn take_bound(r: &mut Reader<'_>, url: &str) -> Option<Value> {
    let e = take_extension(r, url)?;
    e.get("valueInteger")
        .or_else(|| e.get("valueDecimal"))
        .cloned()
}

fn text_limits(r: &mut Reader<'_>) -> Result<(Option<u32>, Option<String>), FhirError> {
    let max_length = match r.peek("maxLength") {
        None => None,
        Some(v) => {
            let n = v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    FhirError::invalid(&r.child_path("maxLength"), "a non-negative integer")
                })?;
            r.take("maxLength");
            Some(n)
        }
    };
    let pattern = take_extension(r, REGEX).and_then(|e| {
        e.get("valueString")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    Ok((max_length, pattern))
}

fn unit(r: &mut Reader<'_>) -> Option<String> {
    take_extension(r, UNIT).and_then(|e| {
        e.get("valueCoding")
            .and_then(|c| c.get("code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

// Not split: one arm per FHIR item type, mirroring export_item so the round trip reads as a pair.
fn import_item(
    map: Map<String, Value>,
    path: ElementPath,
    notes: &mut Vec<ElementPath>,
    ctx: &mut Context<'_>,
) -> Result<Item, FhirError> {
    let mut r = Reader::new(map, path, notes);
    let link_id = string(&mut r, "linkId")?;
    let fhir_type =
        string(&mut r, "type")?.ok_or_else(|| FhirError::missing(&r.child_path("type")))?;
    let id = match link_id {
        Some(id) => id,
        None if fhir_type == "display" => {
            let link_id = generated_link_id(r.path(), &mut ctx.link_ids);
            ctx.warnings.push(ImportWarning {
                path: r.path().clone(),
                kind: WarningKind::GeneratedLinkId {
                    link_id: link_id.clone(),
                },
            });
            link_id
        }
        None => return Err(FhirError::missing(&r.child_path("linkId"))),
    };
    let language = ctx.language.clone();
    let text = texts(&mut r, "text", &language)?;
    let prefix = string(&mut r, "prefix")?;
    let codes = codings(&mut r, "code");
    let required = boolean(&mut r, "required")?;
    let mut repeats = boolean(&mut r, "repeats")?;
    let marker = kind_marker(&mut r);
    let reverse = take_extension(&mut r, REVERSE)
        .and_then(|e| e.get("valueBoolean").and_then(Value::as_bool))
        .unwrap_or(false);
    let reporting = match take_extension(&mut r, REPORTING) {
        Some(e) => Some(
            serde_json::from_str::<Reporting>(
                e.get("valueString").and_then(Value::as_str).unwrap_or(""),
            )
            .map_err(|_| {
                FhirError::invalid(
                    &r.child_path("extension"),
                    "a survey-reporting extension with reporting rules as JSON",
                )
            })?,
        ),
        None => None,
    };
    let when_path = r.child_path("enableWhen");
    let enable_when = array(&mut r, "enableWhen")?
        .iter()
        .enumerate()
        .map(|(i, c)| import_condition(c, &when_path.index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let enable_behavior = r
        .try_parsed("enableBehavior", "one of all|any", |s| match s {
            "any" => Some(EnableBehavior::Any),
            "all" => Some(EnableBehavior::All),
            _ => None,
        })?
        .unwrap_or(EnableBehavior::Any);
    let children_path = r.child_path("item");
    let mut children = array(&mut r, "item")?;
    let is_choice = matches!(fhir_type.as_str(), "choice" | "open-choice");
    let (options, value_set) = if is_choice {
        let value_set = string(&mut r, "answerValueSet")?;
        let options_path = r.child_path("answerOption");
        let mut options = Vec::new();
        for (i, a) in array(&mut r, "answerOption")?.into_iter().enumerate() {
            let path = options_path.index(i);
            options.push(import_option(object(a, &path)?, &path, &language)?);
        }
        if options.is_empty()
            && let Some(vs) = &value_set
        {
            options = resolve_value_set(vs, ctx.resource);
        }
        (options, value_set)
    } else {
        (Vec::new(), None)
    };
    let mut items = Vec::new();
    let kind = match (fhir_type.as_str(), marker.as_deref()) {
        ("group", Some("likert-matrix")) => {
            let mut points = Vec::new();
            let mut rows = Vec::new();
            for (i, c) in std::mem::take(&mut children).into_iter().enumerate() {
                let cpath = children_path.index(i);
                let row = import_item(object(c, &cpath)?, cpath, r.notes_mut(), ctx)?;
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
            ItemKind::LikertMatrix { points, rows }
        }
        ("group", _) => ItemKind::Group,
        ("display", _) => ItemKind::Display,
        ("boolean", _) => ItemKind::Boolean,
        ("integer", Some("nps")) => {
            take_bound(&mut r, MIN_VALUE);
            take_bound(&mut r, MAX_VALUE);
            ItemKind::Nps
        }
        ("integer", Some("star-rating")) => {
            take_bound(&mut r, MIN_VALUE);
            let max = take_bound(&mut r, MAX_VALUE)
                .and_then(|v| v.as_u64())
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| {
                    FhirError::invalid(
                        &r.child_path("extension"),
                        "a star rating maxValue of at most 255",
                    )
                })?;
            ItemKind::StarRating { max }
        }
        ("integer", _) => ItemKind::Integer {
            min: take_bound(&mut r, MIN_VALUE).and_then(|v| v.as_i64()),
            max: take_bound(&mut r, MAX_VALUE).and_then(|v| v.as_i64()),
            unit: unit(&mut r),
        },
        ("decimal", _) => ItemKind::Decimal {
            min: take_bound(&mut r, MIN_VALUE).and_then(|v| v.as_f64()),
            max: take_bound(&mut r, MAX_VALUE).and_then(|v| v.as_f64()),
            unit: unit(&mut r),
        },
        ("date", _) => ItemKind::Date,
        ("dateTime", _) => ItemKind::DateTime,
        ("time", _) => ItemKind::Time,
        ("string", _) => {
            let (max_length, pattern) = text_limits(&mut r)?;
            ItemKind::ShortText {
                max_length,
                pattern,
            }
        }
        ("text", _) => {
            let (max_length, pattern) = text_limits(&mut r)?;
            ItemKind::LongText {
                max_length,
                pattern,
            }
        }
        ("choice", Some("likert" | "matrix-row")) => ItemKind::Likert {
            points: options,
            reverse,
        },
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
        for (i, c) in children.into_iter().enumerate() {
            let cpath = children_path.index(i);
            items.push(import_item(object(c, &cpath)?, cpath, r.notes_mut(), ctx)?);
        }
    }
    let mut fhir_extra: FhirExtra = r.finish().into_inner().into();
    if marker.as_deref() == Some("matrix-row") && fhir_type == "choice" {
        // Remembered so that the enclosing matrix (or, outside one, export) knows the row.
        fhir_extra.insert("_matrixRow".into(), Value::Bool(true));
    }
    Ok(Item {
        id,
        text,
        prefix,
        codes,
        kind,
        required,
        repeats,
        enable_when,
        enable_behavior,
        reporting,
        items,
        fhir_extra,
    })
}

/// Options from a contained `ValueSet` (`#id`) with an inline `compose.include[].concept[]`.
fn resolve_value_set(reference: &str, resource: &Value) -> Vec<AnswerOption> {
    let Some(vs) = bedside_fhir::contained::resolve(resource, reference)
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("ValueSet"))
    else {
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

fn ordinal(e: Option<Map<String, Value>>) -> Option<f64> {
    e.and_then(|e| e.get("valueDecimal").and_then(Value::as_f64))
}

fn import_option(
    mut o: Map<String, Value>,
    path: &ElementPath,
    language: &Language,
) -> Result<AnswerOption, FhirError> {
    let mut score = ordinal(
        take_map_extensions(&mut o, ORDINAL_VALUE)
            .into_iter()
            .next(),
    );
    let (code, system, display, value_type) = if let Some(c) = o.remove("valueCoding") {
        let cpath = path.child("valueCoding");
        let mut c = object(c, &cpath)?;
        if score.is_none() {
            score = ordinal(
                take_map_extensions(&mut c, ORDINAL_VALUE)
                    .into_iter()
                    .next(),
            );
        }
        let mut take = |k: &str| match c.remove(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(FhirError::wrong_type(&cpath.child(k), "a string")),
        };
        let code = take("code")?.ok_or_else(|| FhirError::missing(&cpath.child("code")))?;
        let system = take("system")?;
        let display = map_texts(&mut c, "display", language, &cpath)?;
        if !c.is_empty() {
            o.insert("valueCoding".into(), Value::Object(c));
        }
        (code, system, display, OptionType::Coding)
    } else if let Some(i) = o.remove("valueInteger") {
        let n = i
            .as_i64()
            .ok_or_else(|| FhirError::wrong_type(&path.child("valueInteger"), "an integer"))?;
        (n.to_string(), None, None, OptionType::Integer)
    } else if let Some(s) = o.remove("valueString") {
        let Value::String(s) = s else {
            return Err(FhirError::wrong_type(
                &path.child("valueString"),
                "a string",
            ));
        };
        (s, None, None, OptionType::String)
    } else {
        // valueDate, valueTime and valueReference are valid R4 but have no option model.
        return Err(FhirError::invalid(
            &path.child("value"),
            "an answerOption valueCoding, valueInteger or valueString",
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

fn import_condition(v: &Value, path: &ElementPath) -> Result<Condition, FhirError> {
    let o = v
        .as_object()
        .ok_or_else(|| FhirError::wrong_type(path, "an object"))?;
    let question = match o.get("question") {
        None => return Err(FhirError::missing(&path.child("question"))),
        Some(q) => q
            .as_str()
            .ok_or_else(|| FhirError::wrong_type(&path.child("question"), "a string"))?,
    };
    let operator = o
        .get("operator")
        .and_then(Value::as_str)
        .and_then(Operator::parse)
        .ok_or_else(|| {
            FhirError::invalid(&path.child("operator"), "one of exists|=|!=|>|<|>=|<=")
        })?;
    let (key, value) = o
        .iter()
        .find(|(k, _)| k.starts_with("answer"))
        .ok_or_else(|| FhirError::missing(&path.child("answer")))?;
    let answer = import_value("answer", &key["answer".len()..], value.clone(), path)?;
    Ok(Condition::new(question, operator, answer))
}
