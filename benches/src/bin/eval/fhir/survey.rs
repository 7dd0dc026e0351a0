//! The `bedside-survey` part of `fhir-roundtrip` and `fhir-export`.

use bedside_core::{Language, PartialDate, PatientId, ResponseId, Sensitive};
use bedside_survey::fhir::{
    export_questionnaire, export_questionnaire_response, import_questionnaire,
    import_questionnaire_response,
};
use bedside_survey::{
    AnswerOption, AnswerValue, Builtin, Condition, DefinitionStatus, EnableBehavior, Item,
    ItemKind, MatrixRow, Operator, Reporting, ResponseBuilder, ResponseStatus, SurveyDefinition,
    SurveyResponse, Texts,
};
use serde_json::{Value, json};

/// The resource types `bedside-survey` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &["Questionnaire", "QuestionnaireResponse"];

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Questionnaire") => import_questionnaire(resource)
            .map(|d| export_questionnaire(&d))
            .map_err(|e| e.to_string()),
        _ => import_questionnaire_response(resource)
            .map(|r| export_questionnaire_response(&r))
            .map_err(|e| e.to_string()),
    }
}

/// A custom definition with every item kind, translations, branching on every answer type,
/// codes, units, bounds and reporting rules.
fn everything() -> SurveyDefinition {
    let spanish = Language::new("es").ok();
    let mut title = Texts::en("Clinic intake");
    if let Some(es) = &spanish {
        title.set(es.clone(), "Ingreso");
    }
    let mut d = SurveyDefinition::new("survey-everything", "2.0", title);
    d.url = Some("https://fhir.bedside.invalid/Questionnaire/survey-everything".into());
    d.status = DefinitionStatus::Active;
    d.description = Some(Texts::en("Every kind of item Bedside models."));
    d.codes = vec![bedside_core::Coding::new("http://loinc.org", "44249-1")];
    let options = || {
        vec![
            AnswerOption::scored("low", "Low", 0.0),
            AnswerOption::scored("high", "High", 1.0),
        ]
    };
    let when = |q: &str, op: Operator, v: AnswerValue| Condition::new(q, op, v);
    let mut smoker = Item::new("smoker", "Do you smoke?", ItemKind::Boolean).required();
    smoker.prefix = Some("1.".into());
    smoker.codes = vec![bedside_core::Coding::new("http://loinc.org", "72166-2")];
    let mut follow = Item::new(
        "cigarettes",
        "How many a day?",
        ItemKind::Integer {
            min: Some(0),
            max: Some(100),
            unit: Some("/d".into()),
        },
    )
    .enabled_when(when("smoker", Operator::Equal, AnswerValue::Boolean(true)));
    follow.enable_behavior = EnableBehavior::All;
    follow
        .enable_when
        .push(when("smoker", Operator::Exists, AnswerValue::Boolean(true)));
    let smoker = smoker.with_items(vec![follow]);
    let mut nps = Item::new("recommend", "Would you recommend us?", ItemKind::Nps);
    nps.reporting = Some(Reporting {
        top_at_least: 9.0,
        middle_at_least: 7.0,
        satisfied_at_least: Some(7.0),
    });
    d.items = vec![
        Item::new("intro", "Welcome.", ItemKind::Display),
        smoker,
        Item::new(
            "weight",
            "Weight",
            ItemKind::Decimal {
                min: Some(0.5),
                max: Some(350.25),
                unit: Some("kg".into()),
            },
        )
        .enabled_when(when(
            "cigarettes",
            Operator::Greater,
            AnswerValue::Integer(5),
        )),
        Item::new("born", "Date of birth", ItemKind::Date),
        Item::new("seen", "Last seen", ItemKind::DateTime),
        Item::new("wake", "Usual wake time", ItemKind::Time).enabled_when(when(
            "born",
            Operator::Less,
            AnswerValue::Date(PartialDate::Year(2000)),
        )),
        Item::new(
            "initials",
            "Initials",
            ItemKind::ShortText {
                max_length: Some(3),
                pattern: Some("[A-Z]+".into()),
            },
        ),
        Item::new(
            "notes",
            "Anything else?",
            ItemKind::LongText {
                max_length: Some(500),
                pattern: None,
            },
        )
        .enabled_when(when(
            "initials",
            Operator::NotEqual,
            AnswerValue::text("XX"),
        )),
        Item::new(
            "pain",
            "Pain",
            ItemKind::SingleChoice {
                options: options(),
                value_set: None,
            },
        ),
        Item::new(
            "symptoms",
            "Symptoms",
            ItemKind::MultipleChoice {
                options: options(),
                value_set: None,
            },
        )
        .enabled_when(when("pain", Operator::Equal, AnswerValue::code("high"))),
        Item::new(
            "other",
            "Other",
            ItemKind::OpenChoice {
                options: options(),
                value_set: None,
            },
        ),
        Item::new(
            "mood",
            "Mood",
            ItemKind::Likert {
                points: options(),
                reverse: true,
            },
        ),
        nps,
        Item::new("stars", "Rate us", ItemKind::StarRating { max: 5 }).enabled_when(when(
            "weight",
            Operator::GreaterOrEqual,
            AnswerValue::Decimal(40.5),
        )),
        Item::new(
            "grid",
            "How much do you agree?",
            ItemKind::LikertMatrix {
                points: options(),
                rows: vec![
                    MatrixRow {
                        id: "grid-a".into(),
                        text: Texts::en("Staff were kind"),
                        reverse: false,
                        required: true,
                    },
                    MatrixRow {
                        id: "grid-b".into(),
                        text: Texts::en("I waited long"),
                        reverse: true,
                        required: false,
                    },
                ],
            },
        ),
        Item::new("visit", "About the visit", ItemKind::Group).with_items(vec![Item::new(
            "again",
            "Would you come again?",
            ItemKind::Boolean,
        )]),
    ];
    d
}

fn q(name: &str, d: &SurveyDefinition) -> (String, Value) {
    (
        format!("survey-questionnaire-{name}.json"),
        export_questionnaire(d),
    )
}

fn qr(name: &str, r: &SurveyResponse) -> (String, Value) {
    (
        format!("survey-questionnaireresponse-{name}.json"),
        export_questionnaire_response(r),
    )
}

/// Resources built from scratch through the crate's public API only: for every exported
/// type a minimal, a typical and an everything-set one. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let minimal = SurveyDefinition::new("survey-minimal", "1", Texts::en("Minimal"));
    out.push(q("minimal", &minimal));
    for b in Builtin::ALL {
        if let Ok(d) = b.definition() {
            out.push(q(&d.id.clone(), &d));
        }
    }
    let all = everything();
    out.push(q("everything", &all));

    // Responses: empty, a typical PHQ-9 about a patient, and every answer type.
    out.push(qr("minimal", &SurveyResponse::new(minimal.reference())));
    let Ok(patient) = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse::<PatientId>() else {
        return out;
    };
    if let Ok(phq9) = Builtin::Phq9.definition() {
        let mut b = ResponseBuilder::new(&phq9).subject(patient);
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339("2026-04-01T09:30:00+02:00") {
            b = b.authored(at);
        }
        for (i, points) in [1, 2, 1, 1, 0, 1, 2, 0, 1].iter().enumerate() {
            b = b.answer(
                &format!("phq9-{}", i + 1),
                AnswerValue::code(points.to_string()),
            );
        }
        out.push(qr("phq-9", &b.build()));
    }
    let mut b = ResponseBuilder::new(&all)
        .subject(patient)
        .dimension("department", "cardiology")
        .answer("smoker", AnswerValue::Boolean(true))
        .answer("cigarettes", AnswerValue::Integer(10))
        .answer("weight", AnswerValue::Decimal(72.5))
        .answer("born", AnswerValue::Date(PartialDate::Year(1985)))
        .answer("seen", AnswerValue::DateTime("2026-03-02T10:00:00+01:00".into()))
        .answer("wake", AnswerValue::Time("07:15:00".into()))
        .answer("initials", AnswerValue::text("AL"))
        .answer("notes", AnswerValue::text("Prefers mornings"))
        .answer("pain", AnswerValue::code("high"))
        .answer("symptoms", AnswerValue::code("low"))
        .answer("symptoms", AnswerValue::code("high"))
        .answer(
            "other",
            AnswerValue::Other {
                element: "valueQuantity".into(),
                value: Sensitive::new(json!({"value": 3, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"})),
            },
        )
        .answer("mood", AnswerValue::code("low"))
        .answer("recommend", AnswerValue::Integer(9))
        .answer("stars", AnswerValue::Integer(4))
        .answer("grid-a", AnswerValue::code("high"))
        .answer("again", AnswerValue::Boolean(true));
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:05:00Z") {
        b = b.authored(at);
    }
    let mut r = b.build();
    r.id = "0190f5a4-6b2e-7c3d-8e4f-000a000b000c"
        .parse::<ResponseId>()
        .ok();
    r.status = ResponseStatus::Amended;
    r.language = Language::new("en-GB").ok();
    out.push(qr("everything", &r));
    out
}
