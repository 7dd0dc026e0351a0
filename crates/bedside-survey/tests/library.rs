//! The built-in library: every data file parses, passes definition checks, and scores as the
//! published rules say.

use bedside_survey::{
    AnswerValue, Builtin, FlagSeverity, ResponseBuilder, SurveyDefinition, check_definition, score,
    validate,
};

type R = Result<(), Box<dyn std::error::Error>>;

#[test]
fn every_builtin_parses_and_checks_clean() -> R {
    for b in Builtin::ALL {
        let def = b.definition()?;
        assert_eq!(def.id, b.id());
        assert!(!def.version.is_empty(), "{b}");
        let problems = check_definition(&def);
        assert!(problems.is_empty(), "{b}: {problems:?}");
        assert_eq!(Builtin::by_id(b.id()), Some(b));
    }
    Ok(())
}

/// A PHQ-9 or GAD-7 response with the given item scores.
fn frequency_response(
    def: &SurveyDefinition,
    prefix: &str,
    scores: &[u8],
) -> bedside_survey::SurveyResponse {
    let mut b = ResponseBuilder::new(def);
    for (i, s) in scores.iter().enumerate() {
        b = b.answer(
            &format!("{prefix}-{}", i + 1),
            AnswerValue::code(s.to_string()),
        );
    }
    b.build()
}

/// Scores that sum to `total` over `n` items of 0–3.
fn spread(total: u8, n: usize) -> Vec<u8> {
    let mut left = total;
    (0..n)
        .map(|_| {
            let s = left.min(3);
            left -= s;
            s
        })
        .collect()
}

/// Checks every band edge: (total, expected band).
fn check_bands(b: Builtin, prefix: &str, n: usize, cases: &[(u8, &str)]) -> R {
    let def = b.definition()?;
    for &(total, band) in cases {
        // Put the points on the first items, never on PHQ-9 item 9, so no flag muddles the case.
        let scores = spread(total, n);
        let response = frequency_response(&def, prefix, &scores);
        assert!(validate(&def, &response).is_empty(), "{b} {total}");
        let sheet = score(&def, &response)?;
        let s = sheet.scale("total").ok_or("no total")?;
        assert_eq!(s.score, Some(f64::from(total)), "{b} {total}");
        assert_eq!(s.band.as_deref(), Some(band), "{b} total {total}");
    }
    Ok(())
}

#[test]
fn phq9_band_edges() -> R {
    check_bands(
        Builtin::Phq9,
        "phq9",
        9,
        &[
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately-severe"),
            (19, "moderately-severe"),
            (20, "severe"),
            (24, "severe"),
        ],
    )
}

#[test]
fn gad7_band_edges() -> R {
    check_bands(
        Builtin::Gad7,
        "gad7",
        7,
        &[
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "severe"),
            (21, "severe"),
        ],
    )
}

#[test]
fn phq9_maximum_is_severe() -> R {
    let def = Builtin::Phq9.definition()?;
    let r = frequency_response(&def, "phq9", &[3; 9]);
    let sheet = score(&def, &r)?;
    let total = sheet.scale("total").ok_or("no total")?;
    assert_eq!(total.score, Some(27.0));
    assert_eq!(total.band.as_deref(), Some("severe"));
    Ok(())
}

#[test]
fn phq9_item9_raises_urgent_flag_whatever_the_total() -> R {
    let def = Builtin::Phq9.definition()?;
    let mut scores = [0u8; 9];
    scores[8] = 1;
    let r = frequency_response(&def, "phq9", &scores);
    let sheet = score(&def, &r)?;
    assert_eq!(
        sheet.scale("total").and_then(|s| s.band.clone()).as_deref(),
        Some("minimal")
    );
    assert!(sheet.has_flag_at_least(FlagSeverity::Urgent));
    assert!(sheet.flags.iter().any(|f| f.flag == "self-harm"));

    let calm = frequency_response(&def, "phq9", &[0; 9]);
    assert!(score(&def, &calm)?.flags.is_empty());
    Ok(())
}

#[test]
fn phq9_prorates_one_missing_item_and_not_two() -> R {
    let def = Builtin::Phq9.definition()?;
    // Eight items of 2, item 8 missing: mean 2 × 9 = 18.
    let mut b = ResponseBuilder::new(&def);
    for i in (1..=9).filter(|i| *i != 8) {
        let code = if i == 9 { "0" } else { "2" };
        b = b.answer(&format!("phq9-{i}"), AnswerValue::code(code));
    }
    let r = b.build();
    let s = score(&def, &r)?.scale("total").cloned().ok_or("no total")?;
    // Seven 2s and one 0 over eight answered: mean 1.75 × 9 = 15.75 → 16.
    assert_eq!((s.score, s.prorated, s.missing), (Some(16.0), true, 1));
    assert_eq!(s.band.as_deref(), Some("moderately-severe"));

    let mut b = ResponseBuilder::new(&def);
    for i in 1..=7 {
        b = b.answer(&format!("phq9-{i}"), AnswerValue::code("1"));
    }
    let s = score(&def, &b.build())?
        .scale("total")
        .cloned()
        .ok_or("no total")?;
    assert_eq!((s.score, s.band), (None, None));
    Ok(())
}

#[test]
fn phq9_difficulty_item_shows_only_after_a_problem() -> R {
    let def = Builtin::Phq9.definition()?;
    let none = frequency_response(&def, "phq9", &[0; 9]);
    let enabled = bedside_survey::enabled_items(&def, &none);
    assert!(!enabled.iter().any(|i| i == "phq9-difficulty"));
    let some = frequency_response(&def, "phq9", &[0, 1, 0, 0, 0, 0, 0, 0, 0]);
    let enabled = bedside_survey::enabled_items(&def, &some);
    assert!(enabled.iter().any(|i| i == "phq9-difficulty"));
    Ok(())
}

#[test]
fn staff_wellbeing_flags_for_a_conversation() -> R {
    let def = Builtin::StaffWellbeing.definition()?;
    let fine = ResponseBuilder::new(&def)
        .answer("week-rating", AnswerValue::Integer(4))
        .answer("coping", AnswerValue::code("4"))
        .answer("supported", AnswerValue::code("5"))
        .answer("drained", AnswerValue::code("2"))
        .answer("breaks", AnswerValue::code("4"))
        .answer("talk", AnswerValue::Boolean(false))
        .build();
    assert!(
        validate(&def, &fine).is_empty(),
        "{:?}",
        validate(&def, &fine)
    );
    let sheet = score(&def, &fine)?;
    // Drained 2 reversed is 4: mean (4 + 5 + 4 + 4) / 4 = 4.25.
    let wb = sheet.scale("wellbeing").ok_or("no scale")?;
    assert_eq!(wb.score, Some(4.25));
    assert_eq!(wb.band.as_deref(), Some("thriving"));
    assert!(sheet.flags.is_empty());

    let struggling = ResponseBuilder::new(&def)
        .answer("week-rating", AnswerValue::Integer(1))
        .answer("coping", AnswerValue::code("2"))
        .answer("supported", AnswerValue::code("2"))
        .answer("drained", AnswerValue::code("5"))
        .answer("breaks", AnswerValue::code("2"))
        .answer("talk", AnswerValue::Boolean(true))
        .build();
    let sheet = score(&def, &struggling)?;
    let ids: Vec<&str> = sheet.flags.iter().map(|f| f.flag.as_str()).collect();
    assert_eq!(ids, ["asked-to-talk", "low-wellbeing", "very-drained"]);
    assert_eq!(
        sheet
            .scale("wellbeing")
            .and_then(|s| s.band.clone())
            .as_deref(),
        Some("struggling")
    );
    Ok(())
}

#[test]
fn post_discharge_flags() -> R {
    let def = Builtin::PostDischarge.definition()?;
    let r = ResponseBuilder::new(&def)
        .answer("feeling", AnswerValue::code("2"))
        .answer("understand-medicines", AnswerValue::Boolean(true))
        .answer("medicine-problems", AnswerValue::Boolean(true))
        .answer(
            "medicine-problems-detail",
            AnswerValue::text("pharmacy closed"),
        )
        .answer("follow-up-booked", AnswerValue::code("yes"))
        .answer("returned-to-ed", AnswerValue::Boolean(false))
        .answer("discharge-information", AnswerValue::code("yes"))
        .build();
    assert!(validate(&def, &r).is_empty(), "{:?}", validate(&def, &r));
    let ids: Vec<String> = score(&def, &r)?.flags.into_iter().map(|f| f.flag).collect();
    assert_eq!(ids, ["feeling-worse", "medicine-problem"]);
    Ok(())
}

#[test]
fn hcahps_subscales_and_parent() -> R {
    let def = Builtin::HcahpsCommunication.definition()?;
    let r = ResponseBuilder::new(&def)
        .answer("nurse-courtesy", AnswerValue::code("always"))
        .answer("nurse-listen", AnswerValue::code("usually"))
        .answer("nurse-explain", AnswerValue::code("always"))
        .answer("doctor-courtesy", AnswerValue::code("sometimes"))
        .answer("doctor-listen", AnswerValue::code("never"))
        .answer("doctor-explain", AnswerValue::code("usually"))
        .answer("discharge-help", AnswerValue::code("yes"))
        .answer("hospital-rating", AnswerValue::Integer(9))
        .answer("hospital-recommend", AnswerValue::code("definitely-yes"))
        .build();
    assert!(validate(&def, &r).is_empty(), "{:?}", validate(&def, &r));
    let sheet = score(&def, &r)?;
    let get = |id: &str| sheet.scale(id).and_then(|s| s.score);
    assert_eq!(get("nurse-communication"), Some(11.0 / 3.0));
    assert_eq!(get("doctor-communication"), Some(2.0));
    assert_eq!(get("communication"), Some(17.0 / 6.0));
    Ok(())
}

#[test]
fn texts_fall_back_by_language() -> R {
    let def = Builtin::PostVisit.definition()?;
    let es_mx = bedside_core::Language::new("es-MX")?;
    let de = bedside_core::Language::new("de")?;
    assert_eq!(def.title_in(&es_mx), "Su visita");
    assert_eq!(def.title_in(&de), "Your visit");
    let item = def.item("wait").ok_or("no wait item")?;
    assert!(item.text_in(&es_mx).starts_with("Después"));
    Ok(())
}

#[test]
fn errors_have_a_kind() {
    use bedside_core::{DomainError, ErrorKind};
    use bedside_survey::{ScoreError, SurveyError, analytics::AnalyticsError};
    let cases: Vec<(Box<dyn DomainError>, ErrorKind)> = vec![
        (
            Box::new(bedside_survey::parse_definition("{").unwrap_err()),
            ErrorKind::Invalid,
        ),
        (
            Box::new(SurveyError::InvalidTransition {
                from: "entered-in-error",
                to: "amended",
            }),
            ErrorKind::Conflict,
        ),
        (
            Box::new(ScoreError::Unscorable { item: "q".into() }),
            ErrorKind::Invalid,
        ),
        (
            Box::new(AnalyticsError::BreakdownSize { max: 3, got: 0 }),
            ErrorKind::Invalid,
        ),
    ];
    for (e, kind) in cases {
        assert_eq!(e.kind(), kind, "{e}");
    }
}
