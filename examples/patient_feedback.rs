//! Patient feedback after a visit, end to end with `bedside::survey`: define a post-visit survey
//! in code, plan who is asked after their appointments, collect a few hundred generated
//! responses across providers, validate them, and print the manager's report with NPS and
//! top-box shares by provider (small groups withheld).
//!
//! Run with `cargo run --example patient_feedback`.

use bedside::core::{Channel, ContactRoute, ManualClock, PatientId, SeededIdGenerator, SeededRng};
use bedside::survey::distribution::{
    DistributionRule, FatiguePolicy, Recipient, SurveyConsent, TriggerEvent, TriggerKind, plan,
};
use bedside::survey::report::{Format, render};
use bedside::survey::{
    AnalyticsConfig, AnswerOption, AnswerValue, Condition, DefinitionStatus, Dimension, Item,
    ItemKind, Operator, Reporting, ResponseBuilder, Scale, ScoreMethod, SurveyDefinition, Texts,
    Validator, analyse, check_definition,
};
use std::sync::Arc;

/// A 1–5 Likert scale with the given labels.
fn five_points(labels: [&str; 5]) -> Vec<AnswerOption> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| AnswerOption::scored((i + 1).to_string(), l, i as f64 + 1.0))
        .collect()
}

fn post_visit_survey() -> SurveyDefinition {
    let top_two = Some(Reporting {
        top_at_least: 5.0,
        middle_at_least: 4.0,
        satisfied_at_least: Some(4.0),
    });
    let mut scheduling = Item::new(
        "scheduling-ease",
        "How easy was it to schedule your appointment?",
        ItemKind::Likert {
            points: five_points([
                "Very difficult",
                "Difficult",
                "Neutral",
                "Easy",
                "Very easy",
            ]),
            reverse: false,
        },
    )
    .required();
    scheduling.reporting = top_two;
    let mut wait = Item::new(
        "wait",
        "After your appointment time, how long did you wait to be seen?",
        ItemKind::SingleChoice {
            options: vec![
                AnswerOption::scored("under-5", "Less than 5 minutes", 4.0),
                AnswerOption::scored("5-15", "5 to 15 minutes", 3.0),
                AnswerOption::scored("15-30", "15 to 30 minutes", 2.0),
                AnswerOption::scored("over-30", "More than 30 minutes", 1.0),
            ],
            value_set: None,
        },
    )
    .required();
    wait.reporting = Some(Reporting {
        top_at_least: 4.0,
        middle_at_least: 3.0,
        satisfied_at_least: None,
    });
    let mut concerns = Item::new(
        "concerns-addressed",
        "Were your concerns addressed?",
        ItemKind::Likert {
            points: vec![
                AnswerOption::scored("no", "No", 1.0),
                AnswerOption::scored("partly", "Yes, partly", 2.0),
                AnswerOption::scored("completely", "Yes, completely", 3.0),
            ],
            reverse: false,
        },
    )
    .required();
    concerns.reporting = Some(Reporting {
        top_at_least: 3.0,
        middle_at_least: 2.0,
        satisfied_at_least: None,
    });
    let explain = Item::new(
        "explain-better",
        "Could something have been explained better?",
        ItemKind::Boolean,
    )
    .required()
    .with_items(vec![
        Item::new(
            "explain-what",
            "What could have been explained better?",
            ItemKind::LongText {
                max_length: Some(1000),
                pattern: None,
            },
        )
        .enabled_when(Condition::new(
            "explain-better",
            Operator::Equal,
            AnswerValue::Boolean(true),
        )),
    ]);
    let mut comfort = Item::new(
        "staff-comfort",
        "I felt comfortable with the staff who cared for me.",
        ItemKind::Likert {
            points: five_points([
                "Strongly disagree",
                "Disagree",
                "Neither",
                "Agree",
                "Strongly agree",
            ]),
            reverse: false,
        },
    )
    .required();
    comfort.reporting = top_two;
    let mut recommend = Item::new(
        "recommend",
        "How likely are you to recommend us to friends and family?",
        ItemKind::Nps,
    )
    .required();
    recommend.reporting = Some(Reporting {
        top_at_least: 9.0,
        middle_at_least: 7.0,
        satisfied_at_least: None,
    });
    let comment = Item::new(
        "comment",
        "Is there anything else you would like to tell us?",
        ItemKind::LongText {
            max_length: Some(2000),
            pattern: None,
        },
    );

    let mut survey = SurveyDefinition::new("post-visit-example", "1.0.0", Texts::en("Your visit"));
    survey.status = DefinitionStatus::Active;
    survey.items = vec![
        scheduling, wait, concerns, explain, comfort, recommend, comment,
    ];
    survey.scales = vec![
        Scale::new("experience", ["scheduling-ease", "staff-comfort"])
            .titled(Texts::en("Experience (mean, 1–5)"))
            .method(ScoreMethod::Mean),
    ];
    survey
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let survey = post_visit_survey();
    let problems = check_definition(&survey);
    println!(
        "== definition `{}`: {} problem(s)",
        survey.id,
        problems.len()
    );
    for p in &problems {
        println!("  {p}");
    }

    // Who is asked: one week of completed appointments, a 60% sample, no one twice in 30 days,
    // SMS first then e-mail, outside quiet hours.
    let clock = Arc::new(ManualClock::new("2026-03-02T08:00:00Z".parse()?));
    let ids = SeededIdGenerator::new(clock, 7);
    let patients: Vec<PatientId> = (0..40).map(|_| ids.generate()).collect();
    let recipients: Vec<Recipient> = patients
        .iter()
        .enumerate()
        .map(|(i, p)| Recipient {
            patient: *p,
            consent: if i % 10 == 0 {
                SurveyConsent::OptedOut
            } else {
                SurveyConsent::Accepts
            },
            routes: vec![ContactRoute::new(
                if i % 3 == 0 {
                    Channel::Email
                } else {
                    Channel::Sms
                },
                "address on file",
            )],
            quiet_hours: None,
            last_surveyed: None,
        })
        .collect();
    let monday: chrono::DateTime<chrono::Utc> = "2026-03-02T09:00:00Z".parse()?;
    let events: Vec<TriggerEvent> = (0..60)
        .map(|i| TriggerEvent {
            kind: TriggerKind::AppointmentCompleted,
            patient: patients[i % patients.len()],
            at: monday + chrono::TimeDelta::hours(i as i64 * 2),
        })
        .collect();
    let rule = DistributionRule::new(
        survey.reference(),
        TriggerKind::AppointmentCompleted,
        vec![Channel::Sms, Channel::Email],
    )
    .delay_minutes(120)
    .sampling_rate(0.6)
    .reminder_after_minutes(48 * 60)
    .expires_after_minutes(7 * 24 * 60);
    let sends = plan(&[rule], &events, &recipients, &FatiguePolicy::default(), 3);
    println!(
        "== distribution: {} events, {} surveys planned, {} skipped",
        events.len(),
        sends.sends.len(),
        sends.skipped.len()
    );
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &sends.skipped {
        *reasons.entry(s.reason.describe()).or_default() += 1;
    }
    for (reason, n) in &reasons {
        println!("  {n:>2} event(s) skipped: {reason}");
    }
    if let Some(first) = sends.sends.first() {
        let reminder = first.reminder_at.map_or("no reminder".to_owned(), |r| {
            format!("reminder at {}", r.format("%Y-%m-%d %H:%M UTC"))
        });
        println!(
            "  first send: survey {} by {} at {}, {reminder}, link expires {}",
            first.survey,
            first.channel,
            first.send_at.format("%Y-%m-%d %H:%M UTC"),
            first.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }

    // A few hundred responses across six providers of different quality (generated, seeded).
    let providers = [
        ("dr-adams", 0.85, 90),
        ("dr-baker", 0.7, 80),
        ("dr-chen", 0.55, 60),
        ("dr-diaz", 0.4, 50),
        ("dr-evans", 0.25, 30),
        ("locum", 0.5, 4),
    ];
    let mut rng = SeededRng::new(2026);
    let validator = Validator::new(&survey);
    let mut responses = Vec::new();
    for (provider, quality, count) in providers {
        for _ in 0..count {
            let mut pick = |lo: i64, hi: i64| {
                let span = (hi - lo + 1) as f64;
                (lo + ((rng.next_f64() * 0.55 + quality * 0.5) * span) as i64).clamp(lo, hi)
            };
            let explain_better = pick(0, 3) == 0;
            let month = pick(1, 3);
            let mut b = ResponseBuilder::new(&survey)
                .authored(chrono::DateTime::parse_from_rfc3339(&format!(
                    "2026-{month:02}-10T14:00:00+00:00"
                ))?)
                .dimension("provider", provider)
                .answer("scheduling-ease", AnswerValue::code(pick(1, 5).to_string()))
                .answer(
                    "wait",
                    AnswerValue::code(
                        ["over-30", "15-30", "5-15", "under-5"][(pick(1, 4) - 1) as usize],
                    ),
                )
                .answer(
                    "concerns-addressed",
                    AnswerValue::code(["no", "partly", "completely"][(pick(1, 3) - 1) as usize]),
                )
                .answer("explain-better", AnswerValue::Boolean(explain_better));
            if explain_better {
                b = b.answer("explain-what", AnswerValue::text("the next steps"));
            }
            let response = b
                .answer("staff-comfort", AnswerValue::code(pick(1, 5).to_string()))
                .answer("recommend", AnswerValue::Integer(pick(0, 10)))
                .build();
            let problems = validator.validate(&response);
            if problems.is_empty() {
                responses.push(response);
            } else {
                println!("rejected a response: {}", problems[0]);
            }
        }
    }
    println!("== {} valid responses\n", responses.len());

    let config = AnalyticsConfig::default()
        .by(vec![Dimension::attribute("provider")])
        .by(vec![Dimension::Month]);
    let report = analyse(&survey, &responses, config)?;
    print!("{}", render(&survey, &report, Format::Markdown));
    Ok(())
}
