//! [`SurveyDefinition`] → `Questionnaire`.

use super::questionnaire::Scoring;
use super::value::{export_value, put_texts};
use super::{
    ITEM_KIND, MAX_VALUE, MIN_VALUE, ORDINAL_VALUE, REGEX, REPORTING, REVERSE, SCORING, UNIT, ext,
    f64_value, is_fhir_string, is_fhir_uri, push_extensions,
};
use crate::definition::{
    AnswerOption, EnableBehavior, Item, ItemKind, OptionType, SurveyDefinition,
};
use bedside_fhir::datatypes::is_id;
use bedside_fhir::json::coding_to_json;
use bedside_fhir::{Unmodelled, Writer};
use serde_json::{Map, Value, json};

/// Exports a definition as a FHIR R4 `Questionnaire`.
///
/// Always valid R4: `status` is always written, an id that is not an R4 id and texts that are
/// not R4 strings (empty ones) are left out, and items without an id get one from their
/// position.
pub fn export_questionnaire(definition: &SurveyDefinition) -> Value {
    let mut kept = definition.fhir_extra.to_map();
    let mut o = Map::new();
    o.insert("resourceType".into(), "Questionnaire".into());
    if is_id(&definition.id) {
        o.insert("id".into(), definition.id.clone().into());
    }
    let primary = definition.title.primary_language().cloned();
    if !kept.contains_key("language")
        && let Some(l) = primary.filter(|l| l.as_str() != "en")
    {
        o.insert("language".into(), l.as_str().into());
    }
    if let Some(url) = definition.url.as_ref().filter(|u| is_fhir_uri(u)) {
        o.insert("url".into(), url.clone().into());
    }
    if is_fhir_string(&definition.version) {
        o.insert("version".into(), definition.version.clone().into());
    }
    put_texts(&mut o, &mut kept, "title", &definition.title);
    if !kept.contains_key("status") {
        o.insert("status".into(), definition.status.as_str().into());
    }
    if let Some(d) = &definition.description {
        put_texts(&mut o, &mut kept, "description", d);
    }
    if !definition.codes.is_empty() {
        let codes = definition.codes.iter().map(coding_to_json).collect();
        o.insert("code".into(), Value::Array(codes));
    }
    if !definition.scales.is_empty() || !definition.flags.is_empty() {
        let scoring = Scoring {
            scales: definition.scales.clone(),
            flags: definition.flags.clone(),
        };
        // Scales and flags are plain data (no maps with non-string keys), so this succeeds.
        let text = serde_json::to_string(&scoring).unwrap_or_default();
        push_extensions(&mut o, vec![ext(SCORING, "valueString", text.into())]);
    }
    if !definition.items.is_empty() {
        let items = definition
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| export_item(item, &(i + 1).to_string()))
            .collect();
        o.insert("item".into(), Value::Array(items));
    }
    merge(o, kept)
}

/// Merges kept elements into modelled ones through [`Writer::finish`] (kept extensions first).
pub(super) fn merge(modelled: Map<String, Value>, kept: Map<String, Value>) -> Value {
    let mut w = Writer::new();
    for (k, v) in modelled {
        w.value(&k, Some(v));
    }
    w.finish(&Unmodelled::new(kept))
}

fn export_option(opt: &AnswerOption) -> Value {
    let mut kept = opt.fhir_extra.to_map();
    let mut coding_kept = match kept.remove("valueCoding") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut o = Map::new();
    match opt.value_type {
        OptionType::Coding => {
            let mut c = Map::new();
            if let Some(s) = opt.system.as_ref().filter(|s| is_fhir_uri(s)) {
                c.insert("system".into(), s.clone().into());
            }
            c.insert("code".into(), opt.code.clone().into());
            if let Some(d) = &opt.display {
                put_texts(&mut c, &mut coding_kept, "display", d);
            }
            if let Some(s) = opt.score.and_then(f64_value) {
                push_extensions(&mut c, vec![ext(ORDINAL_VALUE, "valueDecimal", s)]);
            }
            o.insert("valueCoding".into(), merge(c, coding_kept));
        }
        OptionType::Integer => {
            let n: i64 = opt.code.parse().unwrap_or_default();
            o.insert("valueInteger".into(), n.into());
        }
        OptionType::String => {
            o.insert("valueString".into(), opt.code.clone().into());
        }
    }
    if opt.value_type != OptionType::Coding
        && let Some(s) = opt.score.and_then(f64_value)
    {
        push_extensions(&mut o, vec![ext(ORDINAL_VALUE, "valueDecimal", s)]);
    }
    merge(o, kept)
}

/// Exports one item; `position` (`2.1`) names an item without an id.
// Not split: one arm per item kind, mirroring the FHIR mapping table in fhir/mod.rs.
fn export_item(item: &Item, position: &str) -> Value {
    let mut kept = item.fhir_extra.to_map();
    let matrix_row = kept.remove("_matrixRow").is_some();
    let mut o = Map::new();
    let link_id = if item.id.is_empty() {
        format!("item-{position}")
    } else {
        item.id.clone()
    };
    o.insert("linkId".into(), link_id.into());
    if let Some(p) = item.prefix.as_ref().filter(|p| is_fhir_string(p)) {
        o.insert("prefix".into(), p.clone().into());
    }
    if let Some(t) = &item.text {
        put_texts(&mut o, &mut kept, "text", t);
    }
    if !item.codes.is_empty() {
        let codes = item.codes.iter().map(coding_to_json).collect();
        o.insert("code".into(), Value::Array(codes));
    }
    let mut exts = Vec::new();
    let marker = |name: &str| ext(ITEM_KIND, "valueCode", name.into());
    let mut repeats = item.repeats;
    let mut options: Option<&[AnswerOption]> = None;
    let mut value_set = None;
    let mut children: Vec<Value> = Vec::new();
    let unit_ext = |u: &String| {
        ext(
            UNIT,
            "valueCoding",
            json!({"system": "http://unitsofmeasure.org", "code": u}),
        )
    };
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
                exts.push(ext(MIN_VALUE, "valueInteger", (*m).into()));
            }
            if let Some(m) = max {
                exts.push(ext(MAX_VALUE, "valueInteger", (*m).into()));
            }
            exts.extend(unit.iter().map(unit_ext));
            "integer".to_string()
        }
        ItemKind::Decimal { min, max, unit } => {
            if let Some(m) = min.and_then(f64_value) {
                exts.push(ext(MIN_VALUE, "valueDecimal", m));
            }
            if let Some(m) = max.and_then(f64_value) {
                exts.push(ext(MAX_VALUE, "valueDecimal", m));
            }
            exts.extend(unit.iter().map(unit_ext));
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
            if let Some(p) = pattern.as_ref().filter(|p| is_fhir_string(p)) {
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
            exts.push(ext(MIN_VALUE, "valueInteger", 0.into()));
            exts.push(ext(MAX_VALUE, "valueInteger", 10.into()));
            "integer".to_string()
        }
        ItemKind::StarRating { max } => {
            exts.push(marker("star-rating"));
            exts.push(ext(MIN_VALUE, "valueInteger", 1.into()));
            exts.push(ext(MAX_VALUE, "valueInteger", (*max).into()));
            "integer".to_string()
        }
        ItemKind::LikertMatrix { points, rows } => {
            exts.push(marker("likert-matrix"));
            for (i, row) in rows.iter().enumerate() {
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
                children.push(export_item(&r, &format!("{position}.{}", i + 1)));
            }
            "group".to_string()
        }
        ItemKind::Other { fhir_type } => fhir_type.clone(),
    };
    if let Some(r) = &item.reporting
        && let Ok(text) = serde_json::to_string(r)
    {
        exts.push(ext(REPORTING, "valueString", text.into()));
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
    let offset = children.len();
    children.extend(
        item.items
            .iter()
            .enumerate()
            .map(|(i, c)| export_item(c, &format!("{position}.{}", offset + i + 1))),
    );
    if !children.is_empty() {
        o.insert("item".into(), Value::Array(children));
    }
    merge(o, kept)
}
