//! Pieces shared by both resources: translated texts and `value[x]`/`answer[x]`.

use super::{
    TRANSLATION, is_fhir_code, is_fhir_string, is_fhir_uri, push_extensions, string,
    take_map_extensions,
};
use crate::response::{AnswerCoding, AnswerValue};
use crate::text::Texts;
use bedside_core::{Language, PartialDate, Sensitive};
use bedside_fhir::{ElementPath, FhirDateTime, FhirError, Reader};
use serde_json::{Map, Value, json};

/// The `value[x]` types this crate models, by suffix.
const MODELLED: &[&str] = &[
    "Boolean", "Integer", "Decimal", "Date", "DateTime", "Time", "String", "Coding",
];

/// Reads translations from a `_key` object's `translation` extensions into `texts`; what is
/// left of the object is returned.
fn read_translations(
    mut meta: Map<String, Value>,
    texts: &mut Texts,
    path: &ElementPath,
) -> Result<Map<String, Value>, FhirError> {
    for t in take_map_extensions(&mut meta, TRANSLATION) {
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
                    return Err(FhirError::invalid(
                        path,
                        "a translation in a BCP-47 language",
                    ));
                }
            },
            _ => {
                return Err(FhirError::invalid(
                    path,
                    "a translation with lang and content",
                ));
            }
        }
    }
    Ok(meta)
}

/// Takes `key` and its `_key` translations into [`Texts`]; leftovers of `_key` stay.
pub(super) fn texts(
    r: &mut Reader<'_>,
    key: &str,
    language: &Language,
) -> Result<Option<Texts>, FhirError> {
    let Some(primary) = string(r, key)? else {
        return Ok(None);
    };
    let mut texts = Texts::new(language.clone(), primary);
    let under = format!("_{key}");
    let path = r.child_path(&under);
    if let Some(Value::Object(_)) = r.peek(&under)
        && let Some(Value::Object(meta)) = r.take(&under)
    {
        let rest = read_translations(meta, &mut texts, &path)?;
        if !rest.is_empty() {
            r.give_back(&under, Value::Object(rest));
        }
    }
    Ok(Some(texts))
}

/// The same for a plain map (codings inside options).
pub(super) fn map_texts(
    m: &mut Map<String, Value>,
    key: &str,
    language: &Language,
    path: &ElementPath,
) -> Result<Option<Texts>, FhirError> {
    let primary = match m.remove(key) {
        None => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(FhirError::wrong_type(&path.child(key), "a string")),
    };
    let mut texts = Texts::new(language.clone(), primary);
    let under = format!("_{key}");
    if let Some(Value::Object(meta)) = m.remove(&under) {
        let rest = read_translations(meta, &mut texts, &path.child(&under))?;
        if !rest.is_empty() {
            m.insert(under, Value::Object(rest));
        }
    } else if let Some(other) = m.remove(&under) {
        m.insert(under, other);
    }
    Ok(Some(texts))
}

/// Writes `texts` as `key` plus translations in `_key` (merged into a kept `_key` object taken
/// from `kept`). Texts whose primary is not a valid FHIR string are not written.
pub(super) fn put_texts(
    out: &mut Map<String, Value>,
    kept: &mut Map<String, Value>,
    key: &str,
    texts: &Texts,
) {
    let Some((_, first)) = texts.entries().first() else {
        return;
    };
    if !is_fhir_string(first) {
        return;
    }
    out.insert(key.into(), Value::String(first.clone()));
    let translations: Vec<Value> = texts.entries()[1..]
        .iter()
        .filter(|(_, t)| is_fhir_string(t))
        .map(|(l, t)| {
            json!({"url": TRANSLATION, "extension": [
                {"url": "lang", "valueCode": l.as_str()},
                {"url": "content", "valueString": t}
            ]})
        })
        .collect();
    let under = format!("_{key}");
    if translations.is_empty() {
        if let Some(v) = kept.remove(&under) {
            out.insert(under, v);
        }
        return;
    }
    let mut meta = match kept.remove(&under) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    push_extensions(&mut meta, translations);
    out.insert(under, Value::Object(meta));
}

/// Imports a `value[x]`/`answer[x]` element `prefix + suffix` of `parent`.
///
/// # Errors
/// When a modelled type has the wrong JSON shape. Unmodelled types are kept as
/// [`AnswerValue::Other`].
pub(super) fn import_value(
    prefix: &str,
    suffix: &str,
    v: Value,
    parent: &ElementPath,
) -> Result<AnswerValue, FhirError> {
    if !MODELLED.contains(&suffix) {
        return Ok(AnswerValue::Other {
            element: format!("value{suffix}"),
            value: Sensitive::new(v),
        });
    }
    let path = parent.child(&format!("{prefix}{suffix}"));
    let wrong = |expected: &'static str| FhirError::wrong_type(&path, expected);
    Ok(match suffix {
        "Boolean" => AnswerValue::Boolean(v.as_bool().ok_or_else(|| wrong("a boolean"))?),
        "Integer" => AnswerValue::Integer(v.as_i64().ok_or_else(|| wrong("an integer"))?),
        "Decimal" => AnswerValue::Decimal(v.as_f64().ok_or_else(|| wrong("a number"))?),
        "Date" => {
            let s = v.as_str().ok_or_else(|| wrong("a string"))?;
            AnswerValue::Date(
                s.parse::<PartialDate>()
                    .map_err(|_| FhirError::invalid(&path, "a FHIR date"))?,
            )
        }
        "DateTime" => AnswerValue::DateTime(v.as_str().ok_or_else(|| wrong("a string"))?.into()),
        "Time" => AnswerValue::Time(v.as_str().ok_or_else(|| wrong("a string"))?.into()),
        "String" => AnswerValue::String(Sensitive::new(
            v.as_str().ok_or_else(|| wrong("a string"))?.into(),
        )),
        _ => {
            let Value::Object(mut c) = v else {
                return Err(wrong("a Coding"));
            };
            let mut take = |k: &str| match c.remove(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(FhirError::wrong_type(&path.child(k), "a string")),
            };
            let system = take("system")?;
            let code = take("code")?;
            let display = take("display")?;
            AnswerValue::Coding(AnswerCoding {
                system,
                code,
                display,
                fhir_extra: c.into(),
            })
        }
    })
}

/// A `value[x]` as `(suffix, json)`.
pub(super) fn export_value(v: &AnswerValue) -> (String, Value) {
    match v {
        AnswerValue::Boolean(b) => ("Boolean".into(), Value::Bool(*b)),
        AnswerValue::Integer(i) => ("Integer".into(), Value::from(*i)),
        AnswerValue::Decimal(d) => (
            "Decimal".into(),
            super::f64_value(*d).unwrap_or(Value::Null),
        ),
        AnswerValue::Date(d) => ("Date".into(), Value::String(d.to_string())),
        AnswerValue::DateTime(s) => ("DateTime".into(), Value::String(s.clone())),
        AnswerValue::Time(s) => ("Time".into(), Value::String(s.clone())),
        AnswerValue::String(s) => ("String".into(), Value::String(s.expose().clone())),
        AnswerValue::Coding(c) => {
            let mut m = c.fhir_extra.to_map();
            for (k, v) in [
                ("system", &c.system),
                ("code", &c.code),
                ("display", &c.display),
            ] {
                if let Some(s) = v {
                    m.insert(k.into(), Value::String(s.clone()));
                }
            }
            ("Coding".into(), Value::Object(m))
        }
        AnswerValue::Other { element, value } => (
            element.strip_prefix("value").unwrap_or(element).to_string(),
            value.expose().clone(),
        ),
    }
}

/// Whether `s` is an R4 `time` (`hh:mm:ss` with optional fraction).
fn is_fhir_time(s: &str) -> bool {
    let b = s.as_bytes();
    let two = |i: usize, max: u8| {
        b.get(i..i + 2).is_some_and(|d| {
            d.iter().all(u8::is_ascii_digit) && (d[0] - b'0') * 10 + (d[1] - b'0') <= max
        })
    };
    b.len() >= 8
        && two(0, 23)
        && b[2] == b':'
        && two(3, 59)
        && b[5] == b':'
        && two(6, 60)
        && (b.len() == 8 || (b[8] == b'.' && b.len() > 9 && b[9..].iter().all(u8::is_ascii_digit)))
}

/// Whether a value can be written as valid R4. Export leaves out answers that cannot (an empty
/// text, an integer beyond 32 bits, a date-time that is not one), since an answer without its
/// value is invalid too.
pub(super) fn exportable(v: &AnswerValue) -> bool {
    match v {
        AnswerValue::Boolean(_) | AnswerValue::Date(_) | AnswerValue::Other { .. } => true,
        AnswerValue::Integer(i) => i32::try_from(*i).is_ok(),
        AnswerValue::Decimal(d) => d.is_finite(),
        AnswerValue::DateTime(s) => FhirDateTime::parse(s).is_some(),
        AnswerValue::Time(s) => is_fhir_time(s),
        AnswerValue::String(s) => is_fhir_string(s.expose()),
        AnswerValue::Coding(c) => {
            let ok_code = c.code.as_deref().is_none_or(is_fhir_code);
            let ok_system = c.system.as_deref().is_none_or(is_fhir_uri);
            let ok_display = c.display.as_deref().is_none_or(is_fhir_string);
            let some = c.code.is_some() || c.system.is_some() || c.display.is_some();
            ok_code && ok_system && ok_display && (some || !c.fhir_extra.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_exportable_values() {
        for (t, ok) in [
            ("14:15:00", true),
            ("23:59:60.5", true),
            ("24:00:00", false),
            ("1:00:00", false),
            ("10:00", false),
        ] {
            assert_eq!(is_fhir_time(t), ok, "{t}");
        }
        assert!(!exportable(&AnswerValue::Integer(1 << 40)));
        assert!(!exportable(&AnswerValue::text("")));
        assert!(!exportable(&AnswerValue::Coding(AnswerCoding::default())));
        assert!(exportable(&AnswerValue::code("1")));
    }
}
