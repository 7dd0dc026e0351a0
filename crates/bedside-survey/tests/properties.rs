//! Properties over generated definitions and responses:
//! - a response the validator accepts always scores;
//! - FHIR export then import is the identity, for definitions and responses;
//! - NPS stays within [−100, 100], inside its interval, and matches a naive recount.

use bedside_core::{Language, SeededRng};
use bedside_survey::fhir::{
    export_questionnaire, export_questionnaire_response, import_questionnaire,
    import_questionnaire_response,
};
use bedside_survey::{
    AnalyticsConfig, AnswerOption, AnswerValue, Band, Builtin, Condition, EnableBehavior, Item,
    ItemKind, MatrixRow, Nps, Operator, Reporting, ResponseBuilder, Scale, ScoreMethod,
    SurveyDefinition, SurveyResponse, Texts, analyse, check_definition, score, validate,
};
use proptest::prelude::*;

mod proptest_strategies {
    use super::*;

    fn options(rng: &mut SeededRng, prefix: &str) -> Vec<AnswerOption> {
        let n = 2 + rng.index(4);
        (0..n)
            .map(|i| AnswerOption::scored(format!("{prefix}{i}"), &format!("Option {i}"), i as f64))
            .collect()
    }

    fn kind(rng: &mut SeededRng, id: &str, depth: usize) -> ItemKind {
        match rng.index(if depth == 0 { 17 } else { 15 }) {
            0 => ItemKind::Boolean,
            1 => ItemKind::SingleChoice {
                options: options(rng, "c"),
                value_set: None,
            },
            2 => ItemKind::MultipleChoice {
                options: options(rng, "m"),
                value_set: None,
            },
            3 => ItemKind::OpenChoice {
                options: options(rng, "o"),
                value_set: None,
            },
            4 => {
                let min = rng.below(5) as i64;
                ItemKind::Integer {
                    min: Some(min),
                    max: Some(min + 1 + rng.below(20) as i64),
                    unit: None,
                }
            }
            5 => ItemKind::Decimal {
                min: Some(0.5),
                max: Some(99.25),
                unit: Some("kg".into()),
            },
            6 => ItemKind::Date,
            7 => ItemKind::DateTime,
            8 => ItemKind::Time,
            9 => ItemKind::ShortText {
                max_length: Some(5 + rng.below(10) as u32),
                pattern: Some("[a-z ]*".into()),
            },
            10 => ItemKind::LongText {
                max_length: Some(40),
                pattern: None,
            },
            11 => ItemKind::Likert {
                points: options(rng, "p"),
                reverse: rng.chance(0.5),
            },
            12 => ItemKind::Nps,
            13 => ItemKind::StarRating {
                max: 3 + rng.below(5) as u8,
            },
            14 => ItemKind::Display,
            15 => ItemKind::LikertMatrix {
                points: options(rng, "s"),
                rows: (0..2)
                    .map(|r| MatrixRow {
                        id: format!("{id}-row{r}"),
                        text: Texts::en(format!("Row {r}")),
                        reverse: rng.chance(0.3),
                        required: rng.chance(0.5),
                    })
                    .collect(),
            },
            _ => ItemKind::Group,
        }
    }

    /// A valid answer for a kind, when it takes one.
    pub fn valid_answer(rng: &mut SeededRng, kind: &ItemKind) -> Option<AnswerValue> {
        Some(match kind {
            ItemKind::Boolean => AnswerValue::Boolean(rng.chance(0.5)),
            ItemKind::SingleChoice { options, .. }
            | ItemKind::MultipleChoice { options, .. }
            | ItemKind::OpenChoice { options, .. }
            | ItemKind::Likert {
                points: options, ..
            }
            | ItemKind::LikertMatrix {
                points: options, ..
            } => AnswerValue::code(options[rng.index(options.len())].code.clone()),
            ItemKind::Integer { min, max, .. } => {
                let (lo, hi) = (min.unwrap_or(0), max.unwrap_or(10));
                AnswerValue::Integer(lo + rng.below((hi - lo + 1) as u64) as i64)
            }
            ItemKind::Decimal { .. } => AnswerValue::Decimal(1.0 + rng.below(9000) as f64 / 100.0),
            ItemKind::Date => AnswerValue::Date("2026-02-03".parse().ok()?),
            ItemKind::DateTime => AnswerValue::DateTime("2026-02-03T10:00:00+01:00".into()),
            ItemKind::Time => AnswerValue::Time("10:30:00".into()),
            ItemKind::ShortText { .. } => AnswerValue::text("abc"),
            ItemKind::LongText { .. } => AnswerValue::text("free text"),
            ItemKind::Nps => AnswerValue::Integer(rng.below(11) as i64),
            ItemKind::StarRating { max } => {
                AnswerValue::Integer(1 + rng.below(u64::from(*max)) as i64)
            }
            _ => return None,
        })
    }

    /// Anything at all, often of the wrong type or out of range.
    fn wild_answer(rng: &mut SeededRng) -> AnswerValue {
        match rng.index(6) {
            0 => AnswerValue::Integer(rng.below(30) as i64 - 5),
            1 => AnswerValue::Boolean(true),
            2 => AnswerValue::code(format!("p{}", rng.below(8))),
            3 => AnswerValue::text("a much longer text than allowed here"),
            4 => AnswerValue::Decimal(-1.5),
            _ => AnswerValue::Time("23:59:00".into()),
        }
    }

    pub fn definition(seed: u64) -> SurveyDefinition {
        let mut rng = SeededRng::new(seed);
        let mut d = SurveyDefinition::new(
            format!("gen-{}", seed % 1000),
            "1.0",
            Texts::en("Generated"),
        );
        if rng.chance(0.5)
            && let Ok(es) = Language::new("es")
        {
            d.title.set(es, "Generada");
        }
        let mut questions: Vec<(String, ItemKind)> = Vec::new();
        let n = 1 + rng.index(8);
        for i in 0..n {
            let id = format!("i{i}");
            let mut item = Item::new(id.clone(), &format!("Question {i}"), kind(&mut rng, &id, 0));
            item.required = rng.chance(0.4) && item.is_question();
            if matches!(item.kind, ItemKind::Group) {
                let children = 1 + rng.index(2);
                item.items = (0..children)
                    .map(|c| {
                        let cid = format!("{id}.{c}");
                        let k = kind(&mut rng, &cid, 1);
                        Item::new(cid, "Child", k)
                    })
                    .collect();
            }
            if !questions.is_empty() && rng.chance(0.4) {
                for _ in 0..1 + rng.index(2) {
                    let (qid, qkind) = questions[rng.index(questions.len())].clone();
                    let condition = match valid_answer(&mut rng, &qkind) {
                        Some(v) if rng.chance(0.6) => Condition::new(qid, Operator::Equal, v),
                        _ => Condition::new(
                            qid,
                            Operator::Exists,
                            AnswerValue::Boolean(rng.chance(0.7)),
                        ),
                    };
                    item.enable_when.push(condition);
                }
                if rng.chance(0.5) {
                    item.enable_behavior = EnableBehavior::All;
                }
            }
            if matches!(item.kind, ItemKind::Nps | ItemKind::Likert { .. }) && rng.chance(0.5) {
                item.reporting = Some(Reporting {
                    top_at_least: 3.0,
                    middle_at_least: 2.0,
                    satisfied_at_least: Some(2.0),
                });
            }
            for entry in std::iter::once(&item).chain(item.items.iter()) {
                match &entry.kind {
                    ItemKind::LikertMatrix { points, rows } => {
                        for r in rows {
                            questions.push((
                                r.id.clone(),
                                ItemKind::Likert {
                                    points: points.clone(),
                                    reverse: r.reverse,
                                },
                            ));
                        }
                    }
                    k if entry.is_question() => questions.push((entry.id.clone(), k.clone())),
                    _ => {}
                }
            }
            d.items.push(item);
        }
        let numeric: Vec<String> = questions
            .iter()
            .filter(|(_, k)| {
                matches!(
                    k,
                    ItemKind::Likert { .. }
                        | ItemKind::Nps
                        | ItemKind::StarRating { .. }
                        | ItemKind::Integer { .. }
                        | ItemKind::Boolean
                        | ItemKind::SingleChoice { .. }
                )
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !numeric.is_empty() {
            d.scales.push(Scale {
                id: "total".into(),
                title: Texts::en("Total"),
                method: if rng.chance(0.5) {
                    ScoreMethod::Sum
                } else {
                    ScoreMethod::Mean
                },
                items: numeric,
                reverse: Vec::new(),
                max_missing: rng.below(3) as u32,
                bands: vec![
                    Band {
                        min: 0.0,
                        max: 4.0,
                        code: "low".into(),
                        label: Texts::en("Low"),
                    },
                    Band {
                        min: 5.0,
                        max: 1000.0,
                        code: "high".into(),
                        label: Texts::en("High"),
                    },
                ],
                parent: None,
                code: None,
            });
        }
        d
    }

    /// A response: each question answered validly, wildly, or not at all.
    pub fn response(definition: &SurveyDefinition, seed: u64, wild: f64) -> SurveyResponse {
        let mut rng = SeededRng::new(seed);
        let mut b = ResponseBuilder::new(definition);
        for item in definition.walk() {
            let targets: Vec<(String, ItemKind)> = match &item.kind {
                ItemKind::LikertMatrix { points, rows } => rows
                    .iter()
                    .map(|r| {
                        (
                            r.id.clone(),
                            ItemKind::Likert {
                                points: points.clone(),
                                reverse: false,
                            },
                        )
                    })
                    .collect(),
                k => vec![(item.id.clone(), k.clone())],
            };
            for (id, kind) in targets {
                if rng.chance(0.25) {
                    continue;
                }
                let value = if rng.chance(wild) {
                    Some(wild_answer(&mut rng))
                } else {
                    valid_answer(&mut rng, &kind)
                };
                if let Some(v) = value {
                    b = b.answer(&id, v);
                }
            }
        }
        b.build()
    }

    pub fn seeds() -> impl Strategy<Value = (u64, u64)> {
        (any::<u64>(), any::<u64>())
    }
}

use proptest_strategies as strategy;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn generated_definitions_check_clean((d_seed, _) in strategy::seeds()) {
        let def = strategy::definition(d_seed);
        prop_assert_eq!(check_definition(&def), vec![]);
    }

    #[test]
    fn accepted_responses_always_score((d_seed, r_seed) in strategy::seeds(), wild in 0.0f64..0.5) {
        let def = strategy::definition(d_seed);
        let response = strategy::response(&def, r_seed, wild);
        if validate(&def, &response).is_empty() {
            let sheet = score(&def, &response);
            prop_assert!(sheet.is_ok(), "{:?}", sheet);
        }
    }

    #[test]
    fn export_then_import_is_identity((d_seed, r_seed) in strategy::seeds()) {
        let def = strategy::definition(d_seed);
        let back = import_questionnaire(&export_questionnaire(&def));
        prop_assert_eq!(back.as_ref().ok(), Some(&def), "{:?}", back.as_ref().err());
        let mut response = strategy::response(&def, r_seed, 0.2);
        response.authored = chrono::DateTime::parse_from_rfc3339("2026-05-06T07:08:09+02:00").ok();
        response.dimensions.insert("provider".into(), format!("p{}", r_seed % 7));
        let back = import_questionnaire_response(&export_questionnaire_response(&response));
        prop_assert_eq!(back.as_ref().ok(), Some(&response), "{:?}", back.as_ref().err());
    }

    #[test]
    fn nps_is_bounded_and_matches_a_naive_recount(ratings in proptest::collection::vec(0i64..=10, 0..300)) {
        let def = Builtin::Nps.definition().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let responses: Vec<SurveyResponse> = ratings
            .iter()
            .map(|r| ResponseBuilder::new(&def).answer("recommend", AnswerValue::Integer(*r)).build())
            .collect();
        let config = AnalyticsConfig { min_cell_size: 1, breakdowns: Vec::new() };
        let report = analyse(&def, &responses, config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got = report.overall.item("recommend").and_then(|s| s.nps);
        let naive = {
            let n = ratings.len() as f64;
            let p = ratings.iter().filter(|r| **r >= 9).count() as f64;
            let d = ratings.iter().filter(|r| **r <= 6).count() as f64;
            (n > 0.0).then(|| 100.0 * (p - d) / n)
        };
        match (got.map(|n| n.score), naive) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b),
            (a, b) => prop_assert_eq!(a, b),
        }
        prop_assert_eq!(got, Nps::from_ratings(&ratings));
        if let Some(n) = got {
            prop_assert!((-100.0..=100.0).contains(&n.score));
            prop_assert!(-100.0 <= n.ci_low && n.ci_low <= n.score + 1e-9);
            prop_assert!(n.score <= n.ci_high + 1e-9 && n.ci_high <= 100.0);
        }
    }
}

/// Guards against a vacuous property: many generated responses are accepted (and so scored),
/// and wild answers are caught.
#[test]
fn generated_responses_are_often_accepted() {
    let (mut accepted, mut wild_rejected) = (0, 0);
    for seed in 0..200u64 {
        let def = strategy::definition(seed);
        if validate(&def, &strategy::response(&def, seed, 0.0)).is_empty() {
            accepted += 1;
        }
        if !validate(&def, &strategy::response(&def, seed, 1.0)).is_empty() {
            wild_rejected += 1;
        }
    }
    assert!(accepted >= 40, "{accepted}");
    assert!(wild_rejected >= 150, "{wild_rejected}");
}

/// JSON shaped roughly like FHIR, with the keys and values the importers look at.
fn fhirish_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20i64..20).prop_map(Value::from),
        (-5.0f64..5.0).prop_map(Value::from),
        prop::sample::select(vec![
            "Questionnaire",
            "QuestionnaireResponse",
            "choice",
            "open-choice",
            "group",
            "integer",
            "decimal",
            "string",
            "text",
            "boolean",
            "date",
            "dateTime",
            "time",
            "display",
            "quantity",
            "=",
            "!=",
            ">",
            "exists",
            "all",
            "any",
            "#vs",
            "draft",
            "completed",
            "a",
            "b",
            "1",
            "2026-01-02",
            "10:00:00",
            "2026-01-02T10:00:00Z",
            "lang",
            "content",
            "http://hl7.org/fhir/StructureDefinition/ordinalValue",
            "http://hl7.org/fhir/StructureDefinition/translation",
            "https://bedside.example/fhir/StructureDefinition/survey-item-kind",
            "https://fhir.bedside.invalid/StructureDefinition/survey-item-kind",
            "likert",
            "nps",
            "star-rating",
            "likert-matrix",
            "matrix-row",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "resourceType",
                        "id",
                        "status",
                        "item",
                        "linkId",
                        "type",
                        "text",
                        "_text",
                        "required",
                        "repeats",
                        "answerOption",
                        "answerValueSet",
                        "valueCoding",
                        "valueInteger",
                        "valueString",
                        "valueBoolean",
                        "valueDate",
                        "valueDecimal",
                        "code",
                        "system",
                        "display",
                        "enableWhen",
                        "enableBehavior",
                        "question",
                        "operator",
                        "answerBoolean",
                        "answerCoding",
                        "answerInteger",
                        "extension",
                        "url",
                        "valueCode",
                        "answer",
                        "contained",
                        "compose",
                        "include",
                        "concept",
                        "maxLength",
                        "title",
                        "_title",
                        "language",
                        "questionnaire",
                        "authored",
                        "version",
                    ]),
                    inner,
                ),
                0..6,
            )
            .prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Importers never panic on arbitrary input, and whatever they accept exports and imports
    /// again.
    #[test]
    fn importers_never_panic(mut json in fhirish_json(), as_response in any::<bool>()) {
        if let serde_json::Value::Object(m) = &mut json {
            let t = if as_response { "QuestionnaireResponse" } else { "Questionnaire" };
            m.insert("resourceType".into(), serde_json::Value::String(t.into()));
        }
        if let Ok(def) = import_questionnaire(&json) {
            let again = import_questionnaire(&export_questionnaire(&def));
            prop_assert!(again.is_ok(), "{:?}", again.err());
            let _ = check_definition(&def);
        }
        if let Ok(r) = import_questionnaire_response(&json) {
            let again = import_questionnaire_response(&export_questionnaire_response(&r));
            prop_assert!(again.is_ok(), "{:?}", again.err());
        }
    }
}
