//! No importer error carries input text: every element of real resources is replaced, one at a
//! time, by PHI-like values of the wrong JSON type (a string where an object, number, boolean
//! or array is expected, and objects, arrays, numbers and booleans wrapping the string where a
//! string is expected), and the error's `Display` and `Debug` must not contain it.

use bedside_survey::fhir::{
    export_questionnaire, export_questionnaire_response, import_questionnaire,
    import_questionnaire_response,
};
use bedside_survey::{AnswerValue, Builtin, ResponseBuilder};
use serde_json::{Value, json};

const PHI: &str = "Ada Lovelace 1985-12-10 MRN-4471";

/// Every way of putting the PHI string where `v` was.
fn replacements(v: &Value) -> Vec<Value> {
    let mut out = vec![
        json!({"text": PHI, "Ada Lovelace 1985-12-10 MRN-4471": PHI}),
        json!([PHI]),
        json!([{"linkId": PHI, "type": PHI}]),
    ];
    if !v.is_string() {
        out.push(Value::String(PHI.into()));
    }
    out
}

/// Every copy of `root` with one element (at any depth) replaced.
fn mutants(root: &Value) -> Vec<Value> {
    fn go(
        v: &Value,
        out: &mut Vec<Box<dyn Fn(Value) -> Value>>,
        rebuild: std::rc::Rc<dyn Fn(Value) -> Value>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let (m, k, r) = (m.clone(), k.clone(), rebuild.clone());
                    let next: std::rc::Rc<dyn Fn(Value) -> Value> = std::rc::Rc::new(move |x| {
                        let mut m = m.clone();
                        m.insert(k.clone(), x);
                        r(Value::Object(m))
                    });
                    let leaf = next.clone();
                    out.push(Box::new(move |x| leaf(x)));
                    go(child, out, next);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    let (a, r) = (a.clone(), rebuild.clone());
                    let next: std::rc::Rc<dyn Fn(Value) -> Value> = std::rc::Rc::new(move |x| {
                        let mut a = a.clone();
                        a[i] = x;
                        r(Value::Array(a))
                    });
                    let leaf = next.clone();
                    out.push(Box::new(move |x| leaf(x)));
                    go(child, out, next);
                }
            }
            _ => {}
        }
    }
    // Pair each rebuild with the value it replaces.
    fn values<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        match v {
            Value::Object(m) => m.values().for_each(|c| {
                out.push(c);
                values(c, out);
            }),
            Value::Array(a) => a.iter().for_each(|c| {
                out.push(c);
                values(c, out);
            }),
            _ => {}
        }
    }
    let mut rebuilds = Vec::new();
    go(root, &mut rebuilds, std::rc::Rc::new(|x| x));
    let mut originals = Vec::new();
    values(root, &mut originals);
    rebuilds
        .iter()
        .zip(originals)
        .flat_map(|(rebuild, original)| replacements(original).into_iter().map(rebuild))
        .collect()
}

fn check(resources: &[Value], import: impl Fn(&Value) -> Option<String>) -> usize {
    let mut errors = 0;
    for resource in resources {
        for mutant in mutants(resource) {
            if let Some(shown) = import(&mutant) {
                errors += 1;
                assert!(!shown.contains("Ada") && !shown.contains("4471"), "{shown}");
            }
        }
    }
    errors
}

#[test]
fn questionnaire_errors_never_show_input() -> Result<(), Box<dyn std::error::Error>> {
    let mut resources = vec![serde_json::from_str(include_str!(
        "data/questionnaire-clinic-intake.json"
    ))?];
    for b in [
        Builtin::Phq9,
        Builtin::HcahpsCommunication,
        Builtin::StaffWellbeing,
    ] {
        resources.push(export_questionnaire(&b.definition()?));
    }
    let errors = check(&resources, |v| {
        import_questionnaire(v).err().map(|e| format!("{e} {e:?}"))
    });
    assert!(errors > 100, "{errors}");
    Ok(())
}

#[test]
fn questionnaire_response_errors_never_show_input() -> Result<(), Box<dyn std::error::Error>> {
    let def = Builtin::Phq9.definition()?;
    let built = ResponseBuilder::new(&def)
        .subject("0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?)
        .dimension("site", "north")
        .answer("phq9-1", AnswerValue::code("1"))
        .answer("phq9-difficulty", AnswerValue::text("some"))
        .build();
    let resources = vec![
        serde_json::from_str(include_str!(
            "data/questionnaire-response-clinic-intake.json"
        ))?,
        export_questionnaire_response(&built),
        json!({"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
            {"linkId": "a", "answer": [{"valueBoolean": true}, {"valueInteger": 1},
             {"valueDecimal": 1.5}, {"valueDate": "2020"}, {"valueDateTime": "2020-01-01"},
             {"valueTime": "10:00:00"}, {"valueString": "x"},
             {"valueCoding": {"system": "s", "code": "c", "display": "d"}, "item": [{"linkId": "b"}]}]}]}),
    ];
    let errors = check(&resources, |v| {
        import_questionnaire_response(v)
            .err()
            .map(|e| format!("{e} {e:?}"))
    });
    assert!(errors > 50, "{errors}");
    Ok(())
}
