//! FHIR R4 Questionnaire and QuestionnaireResponse: import, validation and lossless export, on
//! fixtures written for this crate and on every built-in definition.

use bedside_fhir::semantic_diff;
use bedside_survey::fhir::{
    WarningKind, export_questionnaire, export_questionnaire_response, import_questionnaire,
    import_questionnaire_report, import_questionnaire_response,
};
use bedside_survey::{
    AnswerValue, Builtin, ItemKind, ResponseBuilder, SurveyError, check_definition, score, validate,
};

type R = Result<(), Box<dyn std::error::Error>>;

fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, SurveyError> {
    bedside_fhir::Limits::default()
        .parse_resource(bytes)
        .map(serde_json::Value::Object)
        .map_err(SurveyError::from)
}

/// The first difference, for assertions.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    semantic_diff(a, b).into_iter().next()
}

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
        Some("$.item[1].answer[0].valueInteger")
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
            "`resourceType`: expected resourceType `Questionnaire`",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"type":"string"}]}"#,
            "`Questionnaire.item[0].linkId`: required element missing",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a"}]}"#,
            "`Questionnaire.item[0].type`: required element missing",
        ),
        (
            r#"{"resourceType":"Questionnaire","status":"final"}"#,
            "`Questionnaire.status`: expected one of draft|active|retired|unknown",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"choice","answerOption":[{"valueDate":"2020"}]}]}"#,
            "`Questionnaire.item[0].answerOption[0].value`: expected an answerOption valueCoding, valueInteger or valueString",
        ),
        (
            r#"{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"boolean","enableWhen":[{"question":"b","operator":"~","answerBoolean":true}]}]}"#,
            "`Questionnaire.item[0].enableWhen[0].operator`: expected one of exists|=|!=|>|<|>=|<=",
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
        matches!(&bad, Err(SurveyError::Fhir(e)) if matches!(e.problem, bedside_fhir::Problem::NotJson { line: 2, .. })),
        "{bad:?}"
    );
    let r = parse_json(br#"{"resourceType":"QuestionnaireResponse","item":[{"linkId":"a","answer":[{"valueBoolean":"yes"}]}]}"#)
        .and_then(|v| import_questionnaire_response(&v));
    assert_eq!(
        r.err().map(|e| e.to_string()).as_deref(),
        Some("`QuestionnaireResponse.item[0].answer[0].valueBoolean`: expected a boolean")
    );
}

#[test]
fn display_items_without_link_id_import_with_a_warning() -> R {
    let json = parse_json(
        br#"{"resourceType":"Questionnaire","status":"active","item":[
            {"linkId":"g","type":"group","item":[{"type":"display","text":"Read this"},
                                                 {"linkId":"q","type":"boolean"}]},
            {"linkId":"display-2","type":"string"},
            {"type":"display","text":"Thanks"}]}"#,
    )?;
    let report = import_questionnaire_report(&json)?;
    let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "`Questionnaire.item[0].item[0]`: display item has no linkId; `display-1.1` generated",
            "`Questionnaire.item[2]`: display item has no linkId; `display-3` generated",
        ]
    );
    assert!(
        matches!(&report.warnings[0].kind, WarningKind::GeneratedLinkId { link_id } if link_id == "display-1.1")
    );
    let def = report.definition;
    assert!(def.item("display-1.1").is_some() && def.item("display-3").is_some());
    // Export writes the generated ids; from then on the round trip is exact.
    let exported = export_questionnaire(&def);
    assert_eq!(
        semantic_diff(&json, &exported),
        ["$.item[0].item[0].linkId", "$.item[2].linkId"]
    );
    let again = import_questionnaire_report(&exported)?;
    assert!(again.warnings.is_empty());
    assert_eq!(again.definition, def);
    // Only display items may lack one.
    let question = parse_json(br#"{"resourceType":"Questionnaire","item":[{"type":"boolean"}]}"#)?;
    assert!(import_questionnaire(&question).is_err());
    Ok(())
}

#[test]
fn legacy_extension_urls_still_import_and_export_in_the_new_namespace() -> R {
    let old = parse_json(
        br#"{"resourceType":"Questionnaire","status":"active","item":[{"linkId":"n","type":"integer",
            "extension":[{"url":"https://bedside.example/fhir/StructureDefinition/survey-item-kind","valueCode":"nps"}]}]}"#,
    )?;
    let def = import_questionnaire(&old)?;
    assert!(matches!(def.items[0].kind, ItemKind::Nps));
    let text = export_questionnaire(&def).to_string();
    assert!(text.contains(bedside_fhir::EXTENSION_BASE), "{text}");
    assert!(!text.contains("bedside.example"), "{text}");
    for b in Builtin::ALL {
        let text = export_questionnaire(&b.definition()?).to_string();
        assert!(!text.contains("bedside.example"), "{b}");
    }
    Ok(())
}

#[test]
fn phq9_and_gad7_items_carry_their_loinc_codes() -> R {
    let cases = [
        (
            Builtin::Phq9,
            "44249-1",
            &[
                "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
                "44253-3", "44260-8",
            ][..],
            "44261-6",
        ),
        (
            Builtin::Gad7,
            "69737-5",
            &[
                "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7",
            ][..],
            "70274-6",
        ),
    ];
    for (b, panel, items, total) in cases {
        let json = export_questionnaire(&b.definition()?);
        assert_eq!(json["code"][0]["code"], panel, "{b}");
        let codes: Vec<&str> = json["item"]
            .as_array()
            .ok_or("no items")?
            .iter()
            .filter_map(|i| i["code"][0]["code"].as_str())
            .collect();
        assert_eq!(codes, items, "{b}");
        for i in json["item"].as_array().ok_or("no items")? {
            if let Some(c) = i.get("code") {
                assert_eq!(c[0]["system"], "http://loinc.org");
            }
        }
        let def = b.definition()?;
        let scale = def
            .scales
            .iter()
            .find(|s| s.id == "total")
            .ok_or("no total")?;
        assert_eq!(scale.code.as_ref().map(|c| c.code.as_str()), Some(total));
    }
    Ok(())
}

#[test]
fn responses_name_their_patient() -> R {
    let def = Builtin::Phq9.definition()?;
    let patient: bedside_core::PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
    let r = ResponseBuilder::new(&def)
        .subject(patient)
        .answer("phq9-1", AnswerValue::code("1"))
        .build();
    let json = export_questionnaire_response(&r);
    assert_eq!(
        json["subject"],
        serde_json::json!({"reference": "Patient/0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"})
    );
    // Response items mirror the questionnaire's without codes (R4 has none there).
    assert!(json["item"][0].get("code").is_none());
    assert_eq!(import_questionnaire_response(&json)?, r);
    // Other subjects stay verbatim.
    let group = parse_json(
        br#"{"resourceType":"QuestionnaireResponse","status":"completed","subject":{"reference":"Group/g1"}}"#,
    )?;
    let back = import_questionnaire_response(&group)?;
    assert_eq!(back.subject, None);
    assert_eq!(
        first_difference(&group, &export_questionnaire_response(&back)),
        None
    );
    Ok(())
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
