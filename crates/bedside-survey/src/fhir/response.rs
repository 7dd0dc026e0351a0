//! `QuestionnaireResponse` ↔ [`SurveyResponse`].

use super::questionnaire::resource_object;
use super::questionnaire_export::merge;
use super::value::{export_value, exportable, import_value};
use super::{
    DIMENSION, array, is_fhir_string, is_fhir_uri, object, push_extensions, string, take_extensions,
};
use crate::definition::SurveyRef;
use crate::error::SurveyError;
use crate::response::{Answer, ResponseItem, ResponseStatus, SurveyResponse};
use bedside_core::{Language, PatientId, ResponseId};
use bedside_fhir::{ElementPath, FhirError, Reader, Reference, Target};
use chrono::{DateTime, Datelike, SecondsFormat};
use serde_json::{Map, Value, json};

/// Imports a FHIR R4 `QuestionnaireResponse`. The survey reference comes from `questionnaire`
/// (`Questionnaire/phq-9|1.0.0` gives id `phq-9`, version `1.0.0`); without it the reference is
/// empty and the caller sets it. A `subject` that is a plain `Patient/<uuid>` reference becomes
/// the response's patient; any other subject is kept verbatim.
///
/// # Errors
/// [`SurveyError::Fhir`] with the path of the first element that cannot be represented (or
/// the resource type, when it is not a `QuestionnaireResponse`).
pub fn import_questionnaire_response(resource: &Value) -> Result<SurveyResponse, SurveyError> {
    let map = resource_object(resource, "QuestionnaireResponse")?.clone();
    let mut notes = Vec::new();
    let mut r = Reader::new(map, ElementPath::root("QuestionnaireResponse"), &mut notes);
    r.take("resourceType");
    let id = r.parsed("id", |s| s.parse::<ResponseId>().ok());
    let survey = match r.peek("questionnaire").and_then(Value::as_str) {
        Some(canonical) => {
            let s = parse_canonical(canonical);
            if canonical_of(&s) == canonical {
                r.take("questionnaire");
            }
            s
        }
        None => SurveyRef::default(),
    };
    let status = r
        .try_parsed(
            "status",
            "one of in-progress|completed|amended|entered-in-error|stopped",
            |s| ResponseStatus::ALL.into_iter().find(|x| x.as_str() == s),
        )?
        .unwrap_or(ResponseStatus::Completed);
    // Partial or unusually written date-times stay verbatim.
    let authored = r.parsed("authored", |s| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .filter(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true) == s)
    });
    let language = r.parsed("language", |s| Language::new(s).ok());
    let subject = subject(&mut r);
    let mut dimensions = std::collections::BTreeMap::new();
    for d in take_extensions(&mut r, DIMENSION) {
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
    let items_path = r.child_path("item");
    let raw_items = array(&mut r, "item")?;
    let items = import_items(raw_items, &items_path, r.notes_mut())?;
    Ok(SurveyResponse {
        id,
        survey,
        status,
        authored,
        language,
        subject,
        dimensions,
        items,
        // FHIR keeps who changed a response in Provenance, not in the resource.
        history: Vec::new(),
        fhir_extra: r.finish().into_inner().into(),
    })
}

/// Takes `subject` when it is exactly `{"reference": "Patient/<uuid>"}`.
fn subject(r: &mut Reader<'_>) -> Option<PatientId> {
    let patient = r.peek("subject").and_then(Value::as_object).and_then(|o| {
        if o.len() != 1 {
            return None;
        }
        match Target::parse(o.get("reference")?.as_str()?) {
            Target::Relative {
                resource_type: "Patient",
                id,
                version: None,
            } => id.parse().ok(),
            _ => None,
        }
    })?;
    r.take("subject");
    Some(patient)
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

fn import_items(
    items: Vec<Value>,
    path: &ElementPath,
    notes: &mut Vec<ElementPath>,
) -> Result<Vec<ResponseItem>, FhirError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.into_iter().enumerate() {
        let ipath = path.index(i);
        let mut r = Reader::new(object(v, &ipath)?, ipath, notes);
        let link_id =
            string(&mut r, "linkId")?.ok_or_else(|| FhirError::missing(&r.child_path("linkId")))?;
        let text = string(&mut r, "text")?;
        let answers_path = r.child_path("answer");
        let mut answers = Vec::new();
        for (j, a) in array(&mut r, "answer")?.into_iter().enumerate() {
            let apath = answers_path.index(j);
            let mut a = object(a, &apath)?;
            let key = a
                .keys()
                .find(|k| k.starts_with("value"))
                .cloned()
                .ok_or_else(|| FhirError::missing(&apath.child("value")))?;
            let raw = a.remove(&key).unwrap_or(Value::Null);
            let value = import_value("value", &key["value".len()..], raw, &apath)?;
            let nested_path = apath.child("item");
            let nested = match a.remove("item") {
                None => Vec::new(),
                Some(Value::Array(items)) => import_items(items, &nested_path, r.notes_mut())?,
                Some(_) => return Err(FhirError::wrong_type(&nested_path, "an array")),
            };
            answers.push(Answer {
                value,
                items: nested,
                fhir_extra: a.into(),
            });
        }
        let nested_path = r.child_path("item");
        let nested = array(&mut r, "item")?;
        let items = import_items(nested, &nested_path, r.notes_mut())?;
        out.push(ResponseItem {
            link_id,
            text,
            answers,
            items,
            fhir_extra: r.finish().into_inner().into(),
        });
    }
    Ok(out)
}

/// Exports a response as a FHIR R4 `QuestionnaireResponse`, with `subject` when the response
/// knows its patient.
///
/// Always valid R4: `status` is always written; answers whose value R4 cannot hold (an empty
/// text, an integer beyond 32 bits, a date-time that is not one) and dimensions with empty
/// keys or values are left out.
pub fn export_questionnaire_response(response: &SurveyResponse) -> Value {
    let kept = response.fhir_extra.to_map();
    let mut o = Map::new();
    o.insert("resourceType".into(), "QuestionnaireResponse".into());
    if let Some(id) = &response.id {
        o.insert("id".into(), id.to_string().into());
    }
    let canonical = canonical_of(&response.survey);
    if !kept.contains_key("questionnaire")
        && !response.survey.id.is_empty()
        && is_fhir_uri(&canonical)
    {
        o.insert("questionnaire".into(), canonical.into());
    }
    o.insert("status".into(), response.status.as_str().into());
    if let Some(patient) = &response.subject {
        o.insert(
            "subject".into(),
            Reference::relative("Patient", patient).to_json(),
        );
    }
    if let Some(a) = response.authored.filter(|a| (1..=9999).contains(&a.year())) {
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
        .filter(|(k, v)| is_fhir_string(k) && is_fhir_string(v))
        .map(|(k, v)| {
            json!({"url": DIMENSION, "extension": [
                {"url": "key", "valueString": k},
                {"url": "value", "valueString": v}
            ]})
        })
        .collect();
    push_extensions(&mut o, dims);
    if !response.items.is_empty() {
        o.insert("item".into(), export_items(&response.items));
    }
    merge(o, kept)
}

fn export_items(items: &[ResponseItem]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| {
                let mut o = Map::new();
                o.insert("linkId".into(), item.link_id.clone().into());
                if let Some(t) = item.text.as_ref().filter(|t| is_fhir_string(t)) {
                    o.insert("text".into(), t.clone().into());
                }
                let answers: Vec<Value> = item
                    .answers
                    .iter()
                    .filter(|a| exportable(&a.value))
                    .map(|a| {
                        let mut m = Map::new();
                        let (suffix, v) = export_value(&a.value);
                        m.insert(format!("value{suffix}"), v);
                        if !a.items.is_empty() {
                            m.insert("item".into(), export_items(&a.items));
                        }
                        merge(m, a.fhir_extra.to_map())
                    })
                    .collect();
                if !answers.is_empty() {
                    o.insert("answer".into(), Value::Array(answers));
                }
                if !item.items.is_empty() {
                    o.insert("item".into(), export_items(&item.items));
                }
                merge(o, item.fhir_extra.to_map())
            })
            .collect(),
    )
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
}
