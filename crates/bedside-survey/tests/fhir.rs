//! FHIR R4 Questionnaire and QuestionnaireResponse: import, validation and lossless export, on
//! fixtures written for this crate and on every built-in definition.

use bedside_survey::fhir::{
    export_questionnaire, export_questionnaire_response, first_difference, import_questionnaire,
    import_questionnaire_response, parse_json,
};
use bedside_survey::{
    AnswerValue, Builtin, ItemKind, ResponseBuilder, SurveyError, check_definition, score, validate,
};

type R = Result<(), Box<dyn std::error::Error>>;

const INTAKE: &str = include_str!("data/questionnaire-clinic-intake.json");
const INTAKE_RESPONSE: &str = include_str!("data/questionnaire-response-clinic-intake.json");

#[test]
fn questionnaire_imports_validates_and_exports_unchanged() -> R {
    let json = parse_json(INTAKE.as_bytes())?;
    let def = import_questionnaire(&json)?;
    assert_eq!(
        (def.id.as_str(), def.version.as_str()),
        ("clinic-intake", "3.1")
    );
    assert_eq!(
        def.title_in(&bedside_core::Language::new("es-MX")?),
        "Ingreso a la clínica"
    );
    assert_eq!(check_definition(&def), vec![]);
    // The contained value set resolves into options.
    let pain = def.item("pain").ok_or("no pain item")?;
    assert!(
        matches!(&pain.kind, ItemKind::SingleChoice { options, value_set: Some(_) } if options.len() == 3)
    );
    // Scores from ordinalValue.
    let mood = def.item("mood").ok_or("no mood")?;
    let scores: Vec<Option<f64>> = mood
        .kind
        .options()
        .unwrap_or_default()
        .iter()
        .map(|o| o.score)
        .collect();
    assert_eq!(scores, [Some(1.0), Some(2.0), Some(3.0)]);
    assert!(
        matches!(def.item("weight").map(|i| &i.kind), Some(ItemKind::Other { fhir_type }) if fhir_type == "quantity")
    );
    assert_eq!(first_difference(&json, &export_questionnaire(&def)), None);
    Ok(())
}

#[test]
fn response_imports_validates_and_exports_unchanged() -> R {
    let def = import_questionnaire(&parse_json(INTAKE.as_bytes())?)?;
    let json = parse_json(INTAKE_RESPONSE.as_bytes())?;
    let resp = import_questionnaire_response(&json)?;
    assert_eq!(resp.survey, def.reference());
    assert_eq!(validate(&def, &resp), vec![]);
    assert_eq!(
        first_difference(&json, &export_questionnaire_response(&resp)),
        None
    );
    // The contained patient's name never shows in debug output.
    assert!(!format!("{resp:?}").contains("Jane"));

    // Changing an answer is reflected on export and caught by validation.
    let mut changed = resp.clone();
    changed.items[1].answers[0].value = AnswerValue::Integer(500);
    let problems: Vec<String> = validate(&def, &changed)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        ["item[1].answer[0]: answer to `cigarettes` is out of range"]
    );
    assert_eq!(
        first_difference(&json, &export_questionnaire_response(&changed)).as_deref(),
        Some(".item[1].answer[0].valueInteger")
    );
    Ok(())
}

#[test]
fn enable_behavior_all_from_fhir() -> R {
    let def = import_questionnaire(&parse_json(INTAKE.as_bytes())?)?;
    let good_mood = ResponseBuilder::new(&def)
        .answer("smoker", AnswerValue::Boolean(false))
        .answer("pain", AnswerValue::code("some"))
        .answer("mood", AnswerValue::code("good"))
        .answer("since", AnswerValue::Date("2026-01".parse()?))
        .build();
    let problems: Vec<String> = validate(&def, &good_mood)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        ["item[3].item[0]: item `since` is disabled but answered"]
    );
    Ok(())
}

#[test]
fn every_builtin_survives_export_then_import() -> R {
    for b in Builtin::ALL {
        let def = b.definition()?;
        let exported = export_questionnaire(&def);
        let back = import_questionnaire(&exported)?;
        assert_eq!(back, def, "{b}");
        assert_eq!(
            first_difference(&exported, &export_questionnaire(&back)),
            None,
            "{b}"
        );
    }
    Ok(())
}

#[test]
fn built_responses_survive_export_then_import() -> R {
    let def = Builtin::HcahpsCommunication.definition()?;
    let mut r = ResponseBuilder::new(&def)
        .dimension("department", "cardiology")
        .answer("nurse-courtesy", AnswerValue::code("always"))
        .answer("hospital-rating", AnswerValue::Integer(8))
        .build();
    r.authored = Some(chrono::DateTime::parse_from_rfc3339(
        "2026-04-01T12:00:00Z",
    )?);
    let back = import_questionnaire_response(&export_questionnaire_response(&r))?;
    assert_eq!(back, r);
    assert_eq!(score(&def, &back)?, score(&def, &r)?);
    Ok(())
}

#[test]
fn rejected_resources_say_why_and_where() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"resourceType":"Patient"}"#,
            "expected resourceType `Questionnaire`, found `Patient`",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"type":"string"}]}"#,
            "Questionnaire.item[0]: item has no linkId",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a"}]}"#,
            "Questionnaire.item[0]: item has no type",
        ),
        (
            r#"{"resourceType":"Questionnaire","status":"unknown"}"#,
            "Questionnaire.status: unsupported status",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"choice","answerOption":[{"valueDate":"2020"}]}]}"#,
            "Questionnaire.item[0].answerOption[0]: answerOption value must be valueCoding, valueInteger or valueString",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"boolean","enableWhen":[{"question":"b","operator":"~","answerBoolean":true}]}]}"#,
            "Questionnaire.item[0].enableWhen[0]: enableWhen has no known operator",
        ),
    ];
    for (json, expected) in cases {
        let got = parse_json(json.as_bytes()).and_then(|v| import_questionnaire(&v));
        assert_eq!(
            got.err().map(|e| e.to_string()).as_deref(),
            Some(*expected),
            "{json}"
        );
    }
    let bad = parse_json(b"{\"resourceType\": \"Questionnaire\",\n  \"id\": }");
    assert!(
        matches!(bad, Err(SurveyError::Json { line: 2, .. })),
        "{bad:?}"
    );
    let r = parse_json(br#"{"resourceType":"QuestionnaireResponse","item":[{"linkId":"a","answer":[{"valueBoolean":"yes"}]}]}"#)
        .and_then(|v| import_questionnaire_response(&v));
    assert_eq!(
        r.err().map(|e| e.to_string()).as_deref(),
        Some("QuestionnaireResponse.item[0].answer[0]: malformed Boolean value")
    );
}

#[test]
fn resource_language_is_the_primary_language_of_texts() -> R {
    for json in [
        r#"{"resourceType":"Questionnaire","language":"es","title":"Su visita","_title":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/translation","extension":[{"url":"lang","valueCode":"en"},{"url":"content","valueString":"Your visit"}]}]},"status":"draft","item":[{"linkId":"a","text":"¿Algo más?","type":"string"}]}"#,
        r#"{"resourceType":"Questionnaire","language":"en","title":"Your visit","status":"draft"}"#,
        r#"{"resourceType":"Questionnaire","title":"Your visit","status":"draft"}"#,
    ] {
        let input = parse_json(json.as_bytes())?;
        let def = import_questionnaire(&input)?;
        assert_eq!(
            first_difference(&input, &export_questionnaire(&def)),
            None,
            "{json}"
        );
        assert_eq!(import_questionnaire(&export_questionnaire(&def))?, def);
    }
    let es = import_questionnaire(&parse_json(
        br#"{"resourceType":"Questionnaire","language":"es","title":"Su visita","status":"draft","item":[{"linkId":"a","text":"Hola","type":"display"}]}"#,
    )?)?;
    let english = bedside_core::Language::new("en")?;
    assert_eq!(es.title.primary_language().map(|l| l.as_str()), Some("es"));
    assert_eq!(es.title_in(&english), "Su visita");
    assert_eq!(es.items[0].text_in(&english), "Hola");
    Ok(())
}

#[test]
fn nps_questionnaire_snapshot() -> R {
    let def = Builtin::Nps.definition()?;
    insta::assert_json_snapshot!("nps_questionnaire", export_questionnaire(&def));
    Ok(())
}
