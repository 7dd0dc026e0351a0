//! Data-driven checks of `enable_when` operators with FHIR R4 semantics.

use bedside_survey::{
    AnswerCoding, AnswerValue, Condition, EnableBehavior, Item, ItemKind, Operator,
    ResponseBuilder, SurveyDefinition, Texts, condition_holds, enabled_items,
};

fn code(c: &str) -> AnswerValue {
    AnswerValue::code(c)
}

fn date(s: &str) -> AnswerValue {
    AnswerValue::Date(s.parse().unwrap_or(bedside_core::PartialDate::Year(1900)))
}

/// One case: operator, condition value, the question's answers, expected result.
fn check(op: Operator, value: AnswerValue, answers: &[AnswerValue], expected: bool) {
    let c = Condition::new("q", op, value);
    let given: Vec<&AnswerValue> = answers.iter().collect();
    assert_eq!(
        condition_holds(&c, &given),
        expected,
        "{op} {:?} on {answers:?}",
        c.answer
    );
}

#[test]
fn operators() {
    use AnswerValue::{Boolean as B, Decimal as D, Integer as I};
    use Operator::*;
    // exists true/false.
    check(Exists, B(true), &[I(1)], true);
    check(Exists, B(true), &[], false);
    check(Exists, B(false), &[], true);
    check(Exists, B(false), &[I(1)], false);
    // = and != on each type; with no answers neither holds.
    check(Equal, I(3), &[I(3)], true);
    check(Equal, I(3), &[I(4)], false);
    check(Equal, I(3), &[D(3.0)], true);
    check(Equal, B(true), &[B(true)], true);
    check(Equal, code("y"), &[code("y")], true);
    check(Equal, code("y"), &[code("n"), code("y")], true);
    check(Equal, I(3), &[], false);
    check(NotEqual, I(3), &[I(4)], true);
    check(NotEqual, I(3), &[I(3)], false);
    check(NotEqual, I(3), &[], false);
    check(NotEqual, code("y"), &[code("y"), code("n")], true);
    // Coding equality uses system when both give one.
    let sys = |s: &str, c: &str| {
        AnswerValue::Coding(AnswerCoding {
            system: Some(s.into()),
            ..AnswerCoding::code(c)
        })
    };
    check(Equal, sys("a", "1"), &[sys("a", "1")], true);
    check(Equal, sys("a", "1"), &[sys("b", "1")], false);
    check(Equal, sys("a", "1"), &[code("1")], true);
    // Ordering on numbers, band edges inclusive for >= and <=.
    check(Greater, I(5), &[I(6)], true);
    check(Greater, I(5), &[I(5)], false);
    check(GreaterOrEqual, I(5), &[I(5)], true);
    check(GreaterOrEqual, I(5), &[I(4)], false);
    check(Less, I(5), &[I(4)], true);
    check(Less, I(5), &[I(5)], false);
    check(LessOrEqual, I(5), &[I(5)], true);
    check(LessOrEqual, I(5), &[I(6)], false);
    check(Greater, D(2.5), &[I(3)], true);
    check(Greater, I(5), &[], false);
    // Ordering on dates, date-times, times and strings.
    check(Greater, date("2026-01-01"), &[date("2026-02-01")], true);
    check(Less, date("2026-01-01"), &[date("2025-12-31")], true);
    check(
        Greater,
        AnswerValue::DateTime("2026-01-01T10:00:00Z".into()),
        &[AnswerValue::DateTime("2026-01-01T06:00:00-05:00".into())],
        true,
    );
    check(
        Less,
        AnswerValue::Time("12:00:00".into()),
        &[AnswerValue::Time("09:30:00".into())],
        true,
    );
    check(
        Greater,
        AnswerValue::text("b"),
        &[AnswerValue::text("c")],
        true,
    );
    // Values that cannot be ordered never satisfy an ordering operator.
    check(Greater, I(1), &[code("2")], false);
    check(Greater, I(1), &[B(true)], false);
}

fn item(id: &str, kind: ItemKind) -> Item {
    Item::new(id, id, kind)
}

fn int() -> ItemKind {
    ItemKind::Integer {
        min: None,
        max: None,
        unit: None,
    }
}

/// A definition: a; b enabled when a > 2; group g enabled when b exists, with child c; d
/// enabled when a = 1 or c = 7 (any) and e when both (all).
fn definition() -> SurveyDefinition {
    let mut d = SurveyDefinition::new("branching", "1", Texts::en("Branching"));
    let mut d_item = item("d", ItemKind::Boolean)
        .enabled_when(Condition::new(
            "a",
            Operator::Equal,
            AnswerValue::Integer(1),
        ))
        .enabled_when(Condition::new(
            "c",
            Operator::Equal,
            AnswerValue::Integer(7),
        ));
    d_item.enable_behavior = EnableBehavior::Any;
    let mut e_item = item("e", ItemKind::Boolean)
        .enabled_when(Condition::new(
            "a",
            Operator::Equal,
            AnswerValue::Integer(1),
        ))
        .enabled_when(Condition::new(
            "c",
            Operator::Equal,
            AnswerValue::Integer(7),
        ));
    e_item.enable_behavior = EnableBehavior::All;
    d.items = vec![
        item("a", int()),
        item("b", int()).enabled_when(Condition::new(
            "a",
            Operator::Greater,
            AnswerValue::Integer(2),
        )),
        item("g", ItemKind::Group)
            .enabled_when(Condition::new(
                "b",
                Operator::Exists,
                AnswerValue::Boolean(true),
            ))
            .with_items(vec![item("c", int())]),
        d_item,
        e_item,
    ];
    d
}

/// Answers given, items expected enabled.
type Case<'a> = (&'a [(&'a str, i64)], &'a [&'a str]);

#[test]
fn enablement_cascades_and_combines() {
    let def = definition();
    let cases: &[Case] = &[
        (&[], &["a"]),
        (&[("a", 1)], &["a", "d"]),
        (&[("a", 3)], &["a", "b"]),
        (&[("a", 3), ("b", 0)], &["a", "b", "g", "c"]),
        (&[("a", 3), ("b", 0), ("c", 7)], &["a", "b", "g", "c", "d"]),
        // b answered while disabled (a = 1): its answer counts as absent, so g stays disabled
        // and c's answer cannot enable d or e.
        (&[("a", 1), ("b", 0), ("c", 7)], &["a", "d"]),
    ];
    for (answers, expected) in cases {
        let mut b = ResponseBuilder::new(&def);
        for (id, v) in *answers {
            b = b.answer(id, AnswerValue::Integer(*v));
        }
        let r = b.build();
        assert_eq!(enabled_items(&def, &r), *expected, "{answers:?}");
    }
}
