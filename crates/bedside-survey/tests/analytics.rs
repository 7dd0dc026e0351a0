//! Analytics: NPS and its interval, boxes, CSAT, scale bands, breakdowns and trends, small-cell
//! suppression, and the manager's report (insta snapshots).

use bedside_core::SeededRng;
use bedside_survey::report::{Format, render};
use bedside_survey::{
    AnalyticsConfig, AnswerValue, Builtin, Dimension, Nps, ResponseBuilder, SurveyDefinition,
    SurveyResponse, analyse,
};

type R = Result<(), Box<dyn std::error::Error>>;

fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_default()
}

/// Post-visit responses: (provider, month, recommend, scheduling, staff comfort).
fn post_visit(def: &SurveyDefinition, rows: &[(&str, u32, i64, u8, u8)]) -> Vec<SurveyResponse> {
    rows.iter()
        .map(|(provider, month, nps, sched, comfort)| {
            ResponseBuilder::new(def)
                .authored(at(&format!("2026-{month:02}-15T10:00:00Z")))
                .dimension("provider", *provider)
                .answer("scheduling-ease", AnswerValue::code(sched.to_string()))
                .answer("wait", AnswerValue::code("5-15"))
                .answer("concerns-addressed", AnswerValue::code("completely"))
                .answer("explain-better", AnswerValue::Boolean(false))
                .answer("staff-comfort", AnswerValue::code(comfort.to_string()))
                .answer("recommend", AnswerValue::Integer(*nps))
                .build()
        })
        .collect()
}

#[test]
fn nps_boxes_csat_and_interval() -> R {
    let def = Builtin::PostVisit.definition()?;
    // 10 answers: promoters 10,10,9,9,9; passives 8,7; detractors 6,3,0 → NPS 20.
    let rows: Vec<(&str, u32, i64, u8, u8)> = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
        .iter()
        .zip([5u8, 5, 5, 4, 4, 4, 3, 2, 1, 1])
        .map(|(n, s)| ("dr-a", 1, *n, s, s))
        .collect();
    let responses = post_visit(&def, &rows);
    let report = analyse(&def, &responses, AnalyticsConfig::default())?;
    let rec = report.overall.item("recommend").ok_or("no recommend")?;
    let nps = rec.nps.ok_or("no nps")?;
    assert_eq!((nps.promoters, nps.passives, nps.detractors), (5, 2, 3));
    assert!((nps.score - 20.0).abs() < 1e-9);
    // Variance (0.5 + 0.3 − 0.2²) / 10 = 0.076; half width 1.96 · 100 · √0.076 ≈ 54.03.
    assert!(
        (nps.ci_low - (20.0 - 54.034)).abs() < 0.01,
        "{}",
        nps.ci_low
    );
    assert!((nps.ci_high - 74.034).abs() < 0.01, "{}", nps.ci_high);
    // NPS boxes: top 9–10 (5), middle 7–8 (2), bottom 0–6 (3).
    let b = rec.boxes.ok_or("no boxes")?;
    assert_eq!((b.top, b.middle, b.bottom), (50.0, 20.0, 30.0));
    assert_eq!(rec.distribution[10], ("10".to_string(), 2));
    // Scheduling: 3 fives top, 3 fours middle, 4 bottom; CSAT (≥ 4) 60%; mean 3.4.
    let s = report
        .overall
        .item("scheduling-ease")
        .ok_or("no scheduling")?;
    let b = s.boxes.ok_or("no boxes")?;
    assert_eq!((b.top, b.middle, b.bottom), (30.0, 30.0, 40.0));
    assert_eq!(s.csat, Some(60.0));
    assert_eq!(s.mean, Some(3.4));
    // The experience scale is the mean of scheduling and comfort (equal here).
    let scale = &report.overall.scales[0];
    assert_eq!((scale.scale.as_str(), scale.scored), ("experience", 10));
    assert!((scale.mean.unwrap_or_default() - 3.4).abs() < 1e-9);
    Ok(())
}

#[test]
fn nps_edges() {
    assert_eq!(Nps::from_counts(0, 0, 0), None);
    let all_promoters = Nps::from_counts(7, 0, 0);
    assert_eq!(
        all_promoters.map(|n| (n.score, n.ci_low, n.ci_high)),
        Some((100.0, 100.0, 100.0))
    );
    let all_detractors = Nps::from_ratings(&[0, 6, 3]);
    assert_eq!(all_detractors.map(|n| n.score), Some(-100.0));
    // Passives count in the denominator.
    assert_eq!(
        Nps::from_ratings(&[10, 7, 8, 9]).map(|n| n.score),
        Some(50.0)
    );
}

#[test]
fn small_cells_are_withheld() -> R {
    let def = Builtin::PostVisit.definition()?;
    let mut rows = vec![("dr-a", 1, 9, 5, 5); 6];
    rows.extend(vec![("dr-b", 1, 3, 2, 2); 4]);
    let mut responses = post_visit(&def, &rows);
    // Five responses from dr-a also answered the follow-up; only four from dr-b did.
    for r in responses.iter_mut() {
        r.items.retain(|i| i.link_id != "explain-better");
    }
    let config = AnalyticsConfig::default().by(vec![Dimension::attribute("provider")]);
    let report = analyse(&def, &responses, config)?;
    let cells = &report.breakdowns[0].cells;
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0].value_of("provider"), Some("dr-a"));
    assert_eq!(cells[0].responses, Some(6));
    assert!(cells[1].is_suppressed());
    assert!(cells[1].items.is_empty() && cells[1].scales.is_empty());
    // An item answered fewer than k times inside a shown cell is left out too.
    assert!(cells[0].item("explain-better").is_none());
    assert!(cells[0].item("recommend").is_some());
    // k = 3 shows dr-b.
    let config = AnalyticsConfig {
        min_cell_size: 3,
        breakdowns: vec![vec![Dimension::attribute("provider")]],
    };
    let report = analyse(&def, &responses, config)?;
    assert_eq!(report.breakdowns[0].cells[1].responses, Some(4));
    Ok(())
}

#[test]
fn trends_by_month_and_two_dimension_breakdowns() -> R {
    let def = Builtin::PostVisit.definition()?;
    let mut rows = vec![("dr-a", 1, 10, 5, 5); 5];
    rows.extend(vec![("dr-a", 2, 0, 1, 1); 5]);
    rows.extend(vec![("dr-b", 2, 8, 4, 4); 5]);
    let mut responses = post_visit(&def, &rows);
    responses.push(
        ResponseBuilder::new(&def)
            .dimension("provider", "dr-c")
            .build(),
    );
    let mut other = responses[0].clone();
    other.survey.version = "0.9".into();
    responses.push(other);
    let mut mistaken = responses[0].clone();
    mistaken.status = bedside_survey::ResponseStatus::EnteredInError;
    responses.push(mistaken);
    let config = AnalyticsConfig {
        min_cell_size: 1,
        breakdowns: vec![
            vec![Dimension::Month],
            vec![Dimension::attribute("provider"), Dimension::Month],
        ],
    };
    let report = analyse(&def, &responses, config)?;
    assert_eq!(report.skipped, 2);
    let trend: Vec<(&str, Option<f64>)> = report
        .trend("recommend")
        .into_iter()
        .map(|(m, s)| (m, s.and_then(|s| s.nps).map(|n| n.score)))
        .collect();
    assert_eq!(
        trend,
        [
            ("(none)", None),
            ("2026-01", Some(100.0)),
            ("2026-02", Some(-50.0))
        ]
    );
    let months: Vec<(String, Option<f64>)> = report.breakdowns[0]
        .cells
        .iter()
        .map(|c| {
            let nps = c.item("recommend").and_then(|s| s.nps).map(|n| n.score);
            (c.key[0].1.clone(), nps)
        })
        .collect();
    assert_eq!(
        months,
        [
            ("(none)".to_string(), None),
            ("2026-01".to_string(), Some(100.0)),
            ("2026-02".to_string(), Some(-50.0))
        ]
    );
    let keys: Vec<Vec<String>> = report.breakdowns[1]
        .cells
        .iter()
        .map(|c| c.key.iter().map(|(_, v)| v.clone()).collect())
        .collect();
    assert_eq!(
        keys,
        [
            ["dr-a", "2026-01"],
            ["dr-a", "2026-02"],
            ["dr-b", "2026-02"],
            ["dr-c", "(none)"]
        ]
    );
    assert!(bedside_survey::Aggregator::new(&def, AnalyticsConfig::default().by(vec![])).is_err());
    Ok(())
}

#[test]
fn phq9_band_counts() -> R {
    let def = Builtin::Phq9.definition()?;
    let totals = [0u8, 3, 5, 9, 10, 12, 15, 20, 27];
    let responses: Vec<SurveyResponse> = totals
        .iter()
        .map(|t| {
            let mut left = *t;
            let mut b = ResponseBuilder::new(&def);
            for i in 1..=9 {
                let s = left.min(3);
                left -= s;
                b = b.answer(&format!("phq9-{i}"), AnswerValue::code(s.to_string()));
            }
            b.build()
        })
        .collect();
    let config = AnalyticsConfig {
        min_cell_size: 1,
        breakdowns: vec![],
    };
    let report = analyse(&def, &responses, config)?;
    let bands: Vec<(String, u64)> = report.overall.scales[0].bands.clone();
    let expected: Vec<(String, u64)> = [
        ("minimal", 2),
        ("mild", 2),
        ("moderate", 2),
        ("moderately-severe", 1),
        ("severe", 2),
    ]
    .iter()
    .map(|(b, n)| (b.to_string(), *n))
    .collect();
    assert_eq!(bands, expected);
    Ok(())
}

/// A seeded clinic: three providers of different sizes over three months.
fn clinic(def: &SurveyDefinition) -> Vec<SurveyResponse> {
    let mut rng = SeededRng::new(2026);
    let providers = [
        ("dr-adams", 40, 0.8),
        ("dr-baker", 25, 0.5),
        ("dr-cole", 3, 0.3),
    ];
    let mut out = Vec::new();
    for (provider, n, quality) in providers {
        for _ in 0..n {
            let mut pick = |lo: i64, hi: i64| {
                let span = (hi - lo + 1) as f64;
                (lo + ((rng.next_f64() * 0.5 + quality * 0.5) * span) as i64).clamp(lo, hi)
            };
            let month = pick(1, 3) as u32;
            let row = (
                provider,
                month,
                pick(0, 10),
                pick(1, 5) as u8,
                pick(1, 5) as u8,
            );
            out.extend(post_visit(def, &[row]));
        }
    }
    out
}

#[test]
fn manager_report_snapshots() -> R {
    let def = Builtin::PostVisit.definition()?;
    let responses = clinic(&def);
    let config = AnalyticsConfig::default()
        .by(vec![Dimension::attribute("provider")])
        .by(vec![Dimension::Month]);
    let report = analyse(&def, &responses, config)?;
    insta::assert_snapshot!(
        "post_visit_markdown",
        render(&def, &report, Format::Markdown)
    );
    insta::assert_snapshot!("post_visit_text", render(&def, &report, Format::Text));
    Ok(())
}

#[test]
fn staff_wellbeing_report_withholds_small_teams() -> R {
    let def = Builtin::StaffWellbeing.definition()?;
    let mut responses = Vec::new();
    for (team, n) in [("ward-a", 6), ("ward-b", 2)] {
        for i in 0..n {
            responses.push(
                ResponseBuilder::new(&def)
                    .dimension("team", team)
                    .answer("week-rating", AnswerValue::Integer(1 + (i % 5)))
                    .answer("coping", AnswerValue::code(((i % 5) + 1).to_string()))
                    .answer("supported", AnswerValue::code("4"))
                    .answer("drained", AnswerValue::code("2"))
                    .answer("breaks", AnswerValue::code("3"))
                    .answer("talk", AnswerValue::Boolean(i == 0))
                    .build(),
            );
        }
    }
    let config = AnalyticsConfig::default().by(vec![Dimension::attribute("team")]);
    let report = analyse(&def, &responses, config)?;
    let text = render(&def, &report, Format::Markdown);
    assert!(text.contains("| ward-b |"));
    insta::assert_snapshot!("staff_wellbeing_markdown", text);
    Ok(())
}

/// A toy mode adjustment: phone-mode cells get 3 points moved from top box to middle box.
struct PhoneMode;

impl bedside_survey::BoxAdjustment for PhoneMode {
    fn adjust(
        &self,
        _item: &str,
        key: &[(String, String)],
        raw: bedside_survey::Boxes,
    ) -> bedside_survey::Boxes {
        if key.iter().any(|(d, v)| d == "mode" && v == "phone") {
            bedside_survey::Boxes {
                top: raw.top - 3.0,
                middle: raw.middle + 3.0,
                bottom: raw.bottom,
            }
        } else {
            raw
        }
    }
}

#[test]
fn hcahps_boxes_take_an_adjustment_hook() -> R {
    let def = Builtin::HcahpsCommunication.definition()?;
    let responses: Vec<SurveyResponse> = (0..10)
        .map(|i| {
            ResponseBuilder::new(&def)
                .dimension("mode", if i < 5 { "phone" } else { "mail" })
                .answer(
                    "nurse-courtesy",
                    AnswerValue::code(if i % 2 == 0 { "always" } else { "usually" }),
                )
                .answer("hospital-recommend", AnswerValue::code("definitely-yes"))
                .build()
        })
        .collect();
    let config = AnalyticsConfig::default().by(vec![Dimension::attribute("mode")]);
    let mut report = analyse(&def, &responses, config)?;
    let raw = report
        .overall
        .item("nurse-courtesy")
        .and_then(|s| s.boxes)
        .ok_or("no boxes")?;
    assert_eq!((raw.top, raw.middle, raw.bottom), (50.0, 50.0, 0.0));
    report.adjust_boxes(&PhoneMode);
    let cells = &report.breakdowns[0].cells;
    let phone = cells[1]
        .item("hospital-recommend")
        .and_then(|s| s.boxes)
        .ok_or("no boxes")?;
    let mail = cells[0]
        .item("hospital-recommend")
        .and_then(|s| s.boxes)
        .ok_or("no boxes")?;
    assert_eq!(
        (cells[1].value_of("mode"), phone.top, phone.middle),
        (Some("phone"), 97.0, 3.0)
    );
    assert_eq!(mail.top, 100.0);
    Ok(())
}

#[test]
fn yes_no_distribution_and_multiple_choice_counted_once_per_response() -> R {
    use bedside_survey::{AnswerOption, Item, ItemKind, Texts};
    let mut def = SurveyDefinition::new("mc", "1", Texts::en("Multiple"));
    def.items = vec![
        Item::new("ok", "OK?", ItemKind::Boolean),
        Item::new(
            "symptoms",
            "Symptoms",
            ItemKind::MultipleChoice {
                options: vec![
                    AnswerOption::scored("cough", "Cough", 1.0),
                    AnswerOption::scored("fever", "Fever", 1.0),
                ],
                value_set: None,
            },
        ),
    ];
    let responses: Vec<SurveyResponse> = (0..6)
        .map(|i| {
            let mut b = ResponseBuilder::new(&def)
                .answer("ok", AnswerValue::Boolean(i % 3 == 0))
                .answer("symptoms", AnswerValue::code("cough"));
            if i % 2 == 0 {
                b = b.answer("symptoms", AnswerValue::code("fever"));
            }
            b.build()
        })
        .collect();
    let report = analyse(&def, &responses, AnalyticsConfig::default())?;
    let ok = report.overall.item("ok").ok_or("no ok")?;
    assert_eq!(
        ok.distribution,
        [("no".to_string(), 4), ("yes".to_string(), 2)]
    );
    let symptoms = report.overall.item("symptoms").ok_or("no symptoms")?;
    assert_eq!(symptoms.answered, 6);
    assert_eq!(
        symptoms.distribution,
        [("cough".to_string(), 6), ("fever".to_string(), 3)]
    );
    Ok(())
}
