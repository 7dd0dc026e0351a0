//! Definition checks and response validation: every problem reported, each with its path.

use bedside_survey::{
    AnswerOption, AnswerValue, Band, Condition, DefinitionProblemKind as D, FlagRule, FlagSeverity,
    FlagTrigger, Item, ItemKind, MatrixRow, Operator, ResponseBuilder, ResponseItem,
    ResponseProblemKind as P, ResponseStatus, Scale, ScoreMethod, SurveyDefinition, SurveyResponse,
    Texts, Validator, check_definition, score, validate,
};

fn opts(codes: &[&str]) -> Vec<AnswerOption> {
    codes
        .iter()
        .enumerate()
        .map(|(i, c)| AnswerOption::scored(*c, c, i as f64 + 1.0))
        .collect()
}

/// A definition using every item kind.
fn everything() -> SurveyDefinition {
    let mut d = SurveyDefinition::new("all-kinds", "2", Texts::en("All kinds"));
    d.items = vec![
        Item::new("intro", "Welcome", ItemKind::Display),
        Item::new("consent", "Happy to answer?", ItemKind::Boolean).required(),
        Item::new("about", "About you", ItemKind::Group)
            .enabled_when(Condition::new(
                "consent",
                Operator::Equal,
                AnswerValue::Boolean(true),
            ))
            .with_items(vec![
                Item::new(
                    "age",
                    "Age",
                    ItemKind::Integer {
                        min: Some(0),
                        max: Some(120),
                        unit: Some("a".into()),
                    },
                )
                .required(),
                Item::new(
                    "weight",
                    "Weight",
                    ItemKind::Decimal {
                        min: Some(0.5),
                        max: Some(400.0),
                        unit: Some("kg".into()),
                    },
                ),
                Item::new("visit-date", "Date", ItemKind::Date),
                Item::new("arrived", "Arrived", ItemKind::DateTime),
                Item::new("slot", "Slot", ItemKind::Time),
                Item::new(
                    "postcode",
                    "Postcode",
                    ItemKind::ShortText {
                        max_length: Some(8),
                        pattern: Some("[A-Z0-9 ]+".into()),
                    },
                ),
                Item::new(
                    "story",
                    "Story",
                    ItemKind::LongText {
                        max_length: Some(20),
                        pattern: None,
                    },
                ),
            ]),
        Item::new(
            "colour",
            "Colour",
            ItemKind::SingleChoice {
                options: opts(&["red", "blue"]),
                value_set: None,
            },
        )
        .required(),
        Item::new(
            "symptoms",
            "Symptoms",
            ItemKind::MultipleChoice {
                options: opts(&["cough", "fever"]),
                value_set: None,
            },
        ),
        Item::new(
            "pharmacy",
            "Pharmacy",
            ItemKind::OpenChoice {
                options: opts(&["boots"]),
                value_set: None,
            },
        ),
        Item::new(
            "agree",
            "Agree",
            ItemKind::Likert {
                points: opts(&["1", "2", "3", "4", "5"]),
                reverse: true,
            },
        ),
        Item::new("recommend", "Recommend", ItemKind::Nps).required(),
        Item::new("stars", "Stars", ItemKind::StarRating { max: 5 }),
        Item::new(
            "staff",
            "Staff were…",
            ItemKind::LikertMatrix {
                points: opts(&["never", "sometimes", "usually", "always"]),
                rows: vec![
                    MatrixRow {
                        id: "kind".into(),
                        text: Texts::en("kind"),
                        reverse: false,
                        required: true,
                    },
                    MatrixRow {
                        id: "quick".into(),
                        text: Texts::en("quick"),
                        reverse: false,
                        required: false,
                    },
                ],
            },
        ),
    ];
    d.scales = vec![Scale {
        id: "total".into(),
        title: Texts::en("Total"),
        method: ScoreMethod::Sum,
        items: vec!["agree".into(), "stars".into(), "kind".into()],
        reverse: vec![],
        max_missing: 1,
        bands: vec![
            Band {
                min: 0.0,
                max: 7.0,
                code: "low".into(),
                label: Texts::en("Low"),
            },
            Band {
                min: 8.0,
                max: 14.0,
                code: "high".into(),
                label: Texts::en("High"),
            },
        ],
        parent: None,
        code: None,
    }];
    d
}

fn valid(def: &SurveyDefinition) -> SurveyResponse {
    ResponseBuilder::new(def)
        .answer("consent", AnswerValue::Boolean(true))
        .answer("age", AnswerValue::Integer(40))
        .answer("weight", AnswerValue::Decimal(70.5))
        .answer(
            "visit-date",
            AnswerValue::Date(
                "2026-03-01"
                    .parse()
                    .unwrap_or(bedside_core::PartialDate::Year(2026)),
            ),
        )
        .answer(
            "arrived",
            AnswerValue::DateTime("2026-03-01T09:00:00+01:00".into()),
        )
        .answer("slot", AnswerValue::Time("09:15:00".into()))
        .answer("postcode", AnswerValue::text("SW1A 1AA"))
        .answer("story", AnswerValue::text("short"))
        .answer("colour", AnswerValue::code("red"))
        .answer("symptoms", AnswerValue::code("cough"))
        .answer("symptoms", AnswerValue::code("fever"))
        .answer("pharmacy", AnswerValue::text("corner shop"))
        .answer("agree", AnswerValue::code("2"))
        .answer("recommend", AnswerValue::Integer(9))
        .answer("stars", AnswerValue::Integer(4))
        .answer("kind", AnswerValue::code("always"))
        .build()
}

#[test]
fn everything_checks_clean_and_a_full_response_is_valid_and_scores()
-> Result<(), Box<dyn std::error::Error>> {
    let def = everything();
    assert_eq!(check_definition(&def), vec![]);
    let r = valid(&def);
    assert_eq!(validate(&def, &r), vec![]);
    let sheet = score(&def, &r)?;
    // agree 2 reversed on 1–5 is 4; stars 4; kind "always" is 4: 12, band high.
    let total = sheet.scale("total").ok_or("no total")?;
    assert_eq!(
        (total.score, total.band.as_deref()),
        (Some(12.0), Some("high"))
    );
    Ok(())
}

/// Replaces (or adds) the answer to `id` and returns the problems found.
fn problems_after(def: &SurveyDefinition, id: &str, value: AnswerValue) -> Vec<(String, P)> {
    let mut r = valid(def);
    fn set(items: &mut [ResponseItem], id: &str, value: &AnswerValue) -> bool {
        for item in items {
            if item.link_id == id {
                item.answers = vec![bedside_survey::Answer::new(value.clone())];
                return true;
            }
            if set(&mut item.items, id, value) {
                return true;
            }
            for a in &mut item.answers {
                if set(&mut a.items, id, value) {
                    return true;
                }
            }
        }
        false
    }
    if !set(&mut r.items, id, &value) {
        r.items.push(ResponseItem::answered(id, value));
    }
    validate(def, &r)
        .into_iter()
        .map(|p| (p.path, p.kind))
        .collect()
}

/// Problems found: (path, kind).
type Found = Vec<(String, P)>;

#[test]
fn each_wrong_answer_is_reported_with_its_path() {
    let def = everything();
    let s = |x: &str| x.to_string();
    let cases: Vec<(&str, AnswerValue, Found)> = vec![
        (
            "age",
            AnswerValue::Integer(121),
            vec![(
                s("item[1].item[0].answer[0]"),
                P::OutOfRange { item: s("age") },
            )],
        ),
        (
            "age",
            AnswerValue::text("forty"),
            vec![(
                s("item[1].item[0].answer[0]"),
                P::WrongType {
                    item: s("age"),
                    kind: s("integer"),
                    found: s("string"),
                },
            )],
        ),
        (
            "weight",
            AnswerValue::Decimal(0.1),
            vec![(
                s("item[1].item[1].answer[0]"),
                P::OutOfRange { item: s("weight") },
            )],
        ),
        (
            "arrived",
            AnswerValue::DateTime("yesterday".into()),
            vec![(
                s("item[1].item[3].answer[0]"),
                P::Malformed {
                    item: s("arrived"),
                    kind: s("date_time"),
                },
            )],
        ),
        (
            "slot",
            AnswerValue::Time("25:00".into()),
            vec![(
                s("item[1].item[4].answer[0]"),
                P::Malformed {
                    item: s("slot"),
                    kind: s("time"),
                },
            )],
        ),
        (
            "postcode",
            AnswerValue::text("sw1a"),
            vec![(
                s("item[1].item[5].answer[0]"),
                P::PatternMismatch {
                    item: s("postcode"),
                },
            )],
        ),
        (
            "postcode",
            AnswerValue::text("SW1A 1AA 9"),
            vec![(
                s("item[1].item[5].answer[0]"),
                P::TooLong {
                    item: s("postcode"),
                    max_length: 8,
                },
            )],
        ),
        (
            "story",
            AnswerValue::text("this is far too long a story"),
            vec![(
                s("item[1].item[6].answer[0]"),
                P::TooLong {
                    item: s("story"),
                    max_length: 20,
                },
            )],
        ),
        (
            "colour",
            AnswerValue::code("green"),
            vec![(
                s("item[2].answer[0]"),
                P::UnknownOption { item: s("colour") },
            )],
        ),
        (
            "pharmacy",
            AnswerValue::code("lloyds"),
            vec![(
                s("item[4].answer[0]"),
                P::UnknownOption {
                    item: s("pharmacy"),
                },
            )],
        ),
        (
            "agree",
            AnswerValue::code("6"),
            vec![(
                s("item[5].answer[0]"),
                P::UnknownOption { item: s("agree") },
            )],
        ),
        (
            "recommend",
            AnswerValue::Integer(11),
            vec![(
                s("item[6].answer[0]"),
                P::OutOfRange {
                    item: s("recommend"),
                },
            )],
        ),
        (
            "recommend",
            AnswerValue::Decimal(9.0),
            vec![(
                s("item[6].answer[0]"),
                P::WrongType {
                    item: s("recommend"),
                    kind: s("nps"),
                    found: s("decimal"),
                },
            )],
        ),
        (
            "stars",
            AnswerValue::Integer(0),
            vec![(s("item[7].answer[0]"), P::OutOfRange { item: s("stars") })],
        ),
        (
            "kind",
            AnswerValue::code("often"),
            vec![(
                s("item[8].item[0].answer[0]"),
                P::UnknownOption { item: s("kind") },
            )],
        ),
        (
            "intro",
            AnswerValue::Boolean(true),
            vec![(s("item[9]"), P::NotAQuestion { item: s("intro") })],
        ),
        (
            "nonsense",
            AnswerValue::Boolean(true),
            vec![(
                s("item[9]"),
                P::UnknownItem {
                    item: s("nonsense"),
                },
            )],
        ),
        ("slot", AnswerValue::Time("09:00:00".into()), vec![]),
    ];
    for (id, value, expected) in cases {
        assert_eq!(
            problems_after(&def, id, value.clone()),
            expected,
            "{id} = {value:?}"
        );
    }
    let mut r = valid(&def);
    r.items
        .push(ResponseItem::answered("stars", AnswerValue::Integer(3)));
    let got: Vec<P> = validate(&def, &r).into_iter().map(|p| p.kind).collect();
    assert_eq!(
        got,
        vec![P::Repeated {
            item: "stars".into()
        }]
    );

    let mut r = valid(&def);
    let stars = r.items.remove(7);
    r.items[1].items.push(stars);
    let got: Vec<String> = validate(&def, &r).iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        ["item[1].item[7]: item `stars` is not nested as the definition says"]
    );
}

#[test]
fn every_problem_at_once() {
    let def = everything();
    let r = ResponseBuilder::new(&def)
        .answer("consent", AnswerValue::Boolean(false))
        .answer("age", AnswerValue::Integer(30))
        .answer("colour", AnswerValue::code("red"))
        .answer("colour", AnswerValue::code("blue"))
        .answer("recommend", AnswerValue::Integer(-1))
        .build();
    let got: Vec<String> = validate(&def, &r).iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "item[1].item[0]: item `age` is disabled but answered",
            "item[2]: item `colour` allows one answer, got 2",
            "item[3].answer[0]: answer to `recommend` is out of range",
            "item(staff).item(kind): required item `kind` has no answer",
        ]
    );
    // In progress: required answers are not yet demanded.
    let mut partial = r.clone();
    partial.status = ResponseStatus::InProgress;
    assert_eq!(validate(&def, &partial).len(), 3);
}

#[test]
fn responses_are_tied_to_the_exact_version() {
    let def = everything();
    let mut r = valid(&def);
    r.survey.version = "1".into();
    let problems = validate(&def, &r);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].to_string(),
        "questionnaire: response answers `all-kinds|1`, not `all-kinds|2`"
    );
    assert!(score(&def, &r).is_err());
}

#[test]
fn messages_never_echo_free_text() {
    let def = everything();
    let secret = "Ada Lovelace lives at 12 Byron Road";
    let r = ResponseBuilder::new(&def)
        .answer("consent", AnswerValue::Boolean(true))
        .answer("story", AnswerValue::text(secret))
        .answer("postcode", AnswerValue::text(secret))
        .build();
    for p in validate(&def, &r) {
        let shown = format!("{p} {p:?}");
        assert!(
            !shown.contains("Ada") && !shown.contains("Byron"),
            "{shown}"
        );
    }
    assert!(!format!("{r:?}").contains("Ada"));
    let when = AnswerValue::DateTime("1970-01-02T03:04:05Z".into());
    let born = AnswerValue::Date(
        "1970-01-02"
            .parse()
            .unwrap_or(bedside_core::PartialDate::Year(1)),
    );
    assert!(!format!("{when:?} {born:?}").contains("1970"));
}

#[test]
fn validator_validate_and_score() {
    let def = everything();
    let v = Validator::new(&def);
    assert!(v.validate_and_score(&valid(&def)).is_ok());
    let bad = ResponseBuilder::new(&def).build();
    assert!(matches!(v.validate_and_score(&bad), Err((problems, None)) if !problems.is_empty()));
}

/// Definition problems: (mutation, expected (path, problem) list).
#[test]
fn definition_problems_are_all_reported() {
    let base = everything;
    let s = |x: &str| x.to_string();
    type Mutation = fn(&mut SurveyDefinition);
    let cases: Vec<(Mutation, Vec<(String, D)>)> = vec![
        (
            |d| d.items[3].id = "consent".into(),
            vec![(s("items[3]"), D::DuplicateId { id: s("consent") })],
        ),
        (
            |d| d.items[0].id = String::new(),
            vec![(s("items[0]"), D::EmptyId)],
        ),
        (
            |d| d.items[2].enable_when[0].question = "ghost".into(),
            vec![(
                s("items[2].enable_when[0]"),
                D::UnknownQuestion {
                    question: s("ghost"),
                },
            )],
        ),
        (
            |d| {
                d.items[1].enable_when.push(Condition::new(
                    "colour",
                    Operator::Equal,
                    AnswerValue::code("red"),
                ))
            },
            vec![(
                s("items[1].enable_when[0]"),
                D::LaterQuestion {
                    question: s("colour"),
                },
            )],
        ),
        (
            |d| {
                d.items[1].enable_when.push(Condition::new(
                    "intro",
                    Operator::Exists,
                    AnswerValue::Boolean(true),
                ))
            },
            vec![(
                s("items[1].enable_when[0]"),
                D::QuestionTakesNoAnswers {
                    question: s("intro"),
                },
            )],
        ),
        (
            |d| d.items[2].enable_when[0].operator = Operator::Greater,
            vec![(
                s("items[2].enable_when[0]"),
                D::OperatorMismatch {
                    operator: s(">"),
                    answer: s("boolean"),
                    kind: s("boolean"),
                    question: s("consent"),
                },
            )],
        ),
        (
            |d| d.items[2].enable_when[0].answer = AnswerValue::Integer(1),
            vec![(
                s("items[2].enable_when[0]"),
                D::OperatorMismatch {
                    operator: s("="),
                    answer: s("integer"),
                    kind: s("boolean"),
                    question: s("consent"),
                },
            )],
        ),
        (
            |d| {
                d.items[2].enable_when[0].operator = Operator::Exists;
                d.items[2].enable_when[0].answer = AnswerValue::Integer(1);
            },
            vec![(s("items[2].enable_when[0]"), D::ExistsWithoutBoolean)],
        ),
        (
            |d| {
                d.items[3].kind = ItemKind::SingleChoice {
                    options: vec![],
                    value_set: None,
                }
            },
            vec![(s("items[3]"), D::ChoiceWithoutOptions)],
        ),
        (
            |d| {
                d.items[6].kind = ItemKind::Likert {
                    points: opts(&["1"]),
                    reverse: false,
                }
            },
            vec![(s("items[6]"), D::TooFewPoints)],
        ),
        (
            |d| {
                if let ItemKind::Likert { points, .. } = &mut d.items[6].kind {
                    points[0].score = None;
                    points[1].code = "3".into();
                }
            },
            vec![
                (s("items[6]"), D::UnscoredPoint { code: s("1") }),
                (s("items[6]"), D::DuplicateOption { code: s("3") }),
            ],
        ),
        (
            |d| {
                d.items[2].items[0].kind = ItemKind::Integer {
                    min: Some(5),
                    max: Some(1),
                    unit: None,
                }
            },
            vec![(s("items[2].items[0]"), D::InvalidRange)],
        ),
        (
            |d| {
                d.items[2].items[5].kind = ItemKind::ShortText {
                    max_length: None,
                    pattern: Some("(".into()),
                }
            },
            vec![(s("items[2].items[5]"), D::InvalidPattern)],
        ),
        (
            |d| d.items[8].kind = ItemKind::StarRating { max: 0 },
            vec![(s("items[8]"), D::NoStars)],
        ),
        (
            |d| {
                d.items[9].kind = ItemKind::LikertMatrix {
                    points: opts(&["a", "b"]),
                    rows: vec![],
                }
            },
            vec![
                (s("items[9]"), D::MatrixWithoutRows),
                (
                    s("scales[0]"),
                    D::ScaleUnknownItem {
                        scale: s("total"),
                        item: s("kind"),
                    },
                ),
            ],
        ),
        (
            |d| d.scales[0].items.push("postcode".into()),
            vec![(
                s("scales[0]"),
                D::ScaleNonNumericItem {
                    scale: s("total"),
                    item: s("postcode"),
                },
            )],
        ),
        (
            |d| d.scales[0].items.push("nowhere".into()),
            vec![(
                s("scales[0]"),
                D::ScaleUnknownItem {
                    scale: s("total"),
                    item: s("nowhere"),
                },
            )],
        ),
        (
            |d| d.scales[0].items.clear(),
            vec![(s("scales[0]"), D::EmptyScale { scale: s("total") })],
        ),
        (|d| d.scales[0].reverse.push("weight".into()), vec![]),
        (
            |d| d.scales[0].reverse.push("story".into()),
            vec![(
                s("scales[0]"),
                D::ReverseWithoutRange {
                    scale: s("total"),
                    item: s("story"),
                },
            )],
        ),
        (
            |d| d.scales[0].parent = Some("missing".into()),
            vec![(
                s("scales[0]"),
                D::UnknownParentScale {
                    scale: s("total"),
                    parent: s("missing"),
                },
            )],
        ),
        (
            |d| d.scales.push(d.scales[0].clone()),
            vec![(s("scales[1]"), D::DuplicateScale { scale: s("total") })],
        ),
        (
            |d| d.scales[0].bands[1].min = 7.0,
            vec![(s("scales[0]"), D::InvalidBands { scale: s("total") })],
        ),
        (
            |d| {
                d.flags.push(FlagRule {
                    id: "f".into(),
                    trigger: FlagTrigger::Scale {
                        scale: "nope".into(),
                        operator: Operator::Greater,
                        value: 1.0,
                    },
                    severity: FlagSeverity::Info,
                    message: Texts::en("x"),
                })
            },
            vec![(
                s("flags[0]"),
                D::FlagUnknownTarget {
                    flag: s("f"),
                    target: s("nope"),
                },
            )],
        ),
    ];
    for (n, (mutate, expected)) in cases.into_iter().enumerate() {
        let mut d = base();
        mutate(&mut d);
        let got: Vec<(String, D)> = check_definition(&d)
            .into_iter()
            .map(|p| (p.path, p.kind))
            .collect();
        assert_eq!(got, expected, "case {n}");
    }
}

#[test]
fn cycles_are_found() {
    let mut d = SurveyDefinition::new("cyc", "1", Texts::en("Cycle"));
    d.items = vec![
        Item::new("a", "a", ItemKind::Boolean).enabled_when(Condition::new(
            "b",
            Operator::Exists,
            AnswerValue::Boolean(true),
        )),
        Item::new("b", "b", ItemKind::Boolean).enabled_when(Condition::new(
            "a",
            Operator::Exists,
            AnswerValue::Boolean(true),
        )),
        Item::new("c", "c", ItemKind::Boolean).enabled_when(Condition::new(
            "c",
            Operator::Exists,
            AnswerValue::Boolean(true),
        )),
    ];
    let got: Vec<String> = check_definition(&d)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "items[0].enable_when[0]: condition refers to later item `b`",
            "items[2].enable_when[0]: condition refers to later item `c`",
            "items[0]: conditions form a cycle through `a`",
            "items[1]: conditions form a cycle through `b`",
            "items[2]: conditions form a cycle through `c`",
        ]
    );
}
