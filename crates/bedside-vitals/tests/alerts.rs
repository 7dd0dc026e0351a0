//! Alert rules: thresholds, rate of change, missing data, NEWS2, suppression, escalation,
//! acknowledgement, and purity (re-running gives the same alerts).

use bedside_core::{Actor, OrganisationId, PatientId, Period, Role, Staff, StaffId};
use bedside_vitals::alert::{self, MissingDataRule, News2Rule};
use bedside_vitals::{
    AlertBook, AlertSeverity, Batch, CarePlan, IngestConfig, Response, SpO2Scale, Tz, VitalKind,
    VitalsError, VitalsStore, ndjson,
};

const P: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";

fn patient() -> PatientId {
    P.parse()
        .unwrap_or_else(|_| PatientId::from_uuid(Default::default()))
}

fn load(lines: &[(&str, &str, &str)]) -> VitalsStore {
    let mut s = VitalsStore::new(IngestConfig::default());
    s.register_patient(patient(), Tz::UTC);
    let text: Vec<String> = lines
        .iter()
        .map(|(kind, at, rest)| {
            format!(r#"{{"patient":"{P}","kind":"{kind}","at":"{at}","source":"manual",{rest}}}"#)
        })
        .collect();
    let r = ndjson::ingest(&mut s, text.join("\n").as_bytes(), &batch("t")).unwrap_or_default();
    assert_eq!(r.accepted as usize, lines.len(), "{:?}", r.rejections);
    s
}

fn batch(label: &str) -> Batch {
    Batch::new(
        label,
        &Actor::system("test-upload"),
        "2026-04-01T00:00:00Z".parse().unwrap_or_default(),
    )
}

fn period(a: &str, b: &str) -> Period {
    Period::new(a.parse().unwrap_or_default(), b.parse().unwrap_or_default())
        .unwrap_or_else(|_| Period::starting_at(Default::default(), chrono::TimeDelta::zero()))
}

fn plan_without(news2: bool, missing: bool) -> CarePlan {
    let mut p = CarePlan::default();
    if !news2 {
        p.news2 = None;
    }
    if !missing {
        p.missing.clear();
    }
    p
}

fn rules(alerts: &[bedside_vitals::Alert]) -> Vec<(String, u32)> {
    alerts
        .iter()
        .map(|a| (a.rule.clone(), a.suppressed))
        .collect()
}

#[test]
fn thresholds_fire_and_are_suppressed_within_the_window() {
    let bp = |at| {
        (
            "blood_pressure",
            at,
            r#""systolic":185,"diastolic":95,"unit":"mm[Hg]""#,
        )
    };
    let s = load(&[
        bp("2026-03-01T08:00:00Z"),
        bp("2026-03-01T09:00:00Z"),
        bp("2026-03-01T21:00:00Z"),
        (
            "blood_pressure",
            "2026-03-01T10:00:00Z",
            r#""systolic":130,"diastolic":80,"unit":"mm[Hg]""#,
        ),
    ]);
    let a = alert::evaluate(
        &s,
        patient(),
        &plan_without(false, false),
        &period("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
    );
    assert_eq!(
        rules(&a),
        vec![("sbp-high".into(), 1), ("sbp-high".into(), 0)]
    );
    assert_eq!(
        (a[0].severity, a[0].response),
        (AlertSeverity::High, Response::Urgent)
    );
    assert_eq!(a[0].message, "blood_pressure 185 mmHg (limit 180)");
    assert_eq!(a[1].triggered_at.to_rfc3339(), "2026-03-01T21:00:00+00:00");
}

#[test]
fn heart_failure_weight_gain_over_2kg_in_48h() {
    let w = |at, v: &'static str| ("body_weight", at, v);
    let s = load(&[
        w("2026-03-01T07:00:00Z", r#""value":80,"unit":"kg""#),
        w("2026-03-02T07:00:00Z", r#""value":81,"unit":"kg""#),
        w("2026-03-03T06:00:00Z", r#""value":82.5,"unit":"kg""#),
        w("2026-03-06T07:00:00Z", r#""value":84.4,"unit":"kg""#),
        w("2026-03-07T07:00:00Z", r#""value":86.4,"unit":"kg""#),
    ]);
    let a = alert::evaluate(
        &s,
        patient(),
        &plan_without(false, false),
        &period("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z"),
    );
    // 82.5 − 80 = 2.5 within 47 h fires; 84.4 − 82.5 spans 73 h (no); 86.4 − 84.4 = 2.0 is not more than 2.
    assert_eq!(rules(&a), vec![("weight-gain-2kg-48h".into(), 0)]);
    assert_eq!(a[0].message, "body_weight up 2.5 kg within 48 h");
}

#[test]
fn missing_daily_weights() {
    let s = load(&[
        (
            "body_weight",
            "2026-03-01T07:00:00Z",
            r#""value":80,"unit":"kg""#,
        ),
        (
            "body_weight",
            "2026-03-02T07:00:00Z",
            r#""value":80,"unit":"kg""#,
        ),
    ]);
    let mut plan = plan_without(false, true);
    plan.missing = vec![MissingDataRule {
        name: "weight-missing".into(),
        kind: VitalKind::BodyWeight,
        max_gap_hours: 48,
        severity: AlertSeverity::Medium,
    }];
    let a = alert::evaluate(
        &s,
        patient(),
        &plan,
        &period("2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z"),
    );
    assert_eq!(rules(&a), vec![("weight-missing".into(), 0)]);
    assert_eq!(a[0].triggered_at.to_rfc3339(), "2026-03-04T07:00:00+00:00");
    // Nothing is due yet if the period ends before the gap closes.
    assert!(
        alert::evaluate(
            &s,
            patient(),
            &plan,
            &period("2026-03-01T00:00:00Z", "2026-03-04T06:00:00Z")
        )
        .is_empty()
    );
}

#[test]
fn news2_partial_scores_and_escalation_breaks_suppression() {
    let s = load(&[
        (
            "respiratory_rate",
            "2026-03-01T08:00:00Z",
            r#""value":22,"unit":"/min""#,
        ),
        (
            "heart_rate",
            "2026-03-01T08:01:00Z",
            r#""value":95,"unit":"/min""#,
        ),
        (
            "respiratory_rate",
            "2026-03-01T10:00:00Z",
            r#""value":26,"unit":"/min""#,
        ),
        (
            "heart_rate",
            "2026-03-01T10:01:00Z",
            r#""value":115,"unit":"/min""#,
        ),
        (
            "oxygen_saturation",
            "2026-03-01T10:02:00Z",
            r#""value":93,"unit":"%","on_oxygen":true"#,
        ),
    ]);
    let mut plan = plan_without(true, false);
    plan.thresholds.clear();
    plan.rates.clear();
    plan.news2 = Some(News2Rule {
        scale: SpO2Scale::Scale2,
        window_minutes: 60,
    });
    let a = alert::evaluate(
        &s,
        patient(),
        &plan,
        &period("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
    );
    // 08:01 scores RR 22 (2) + pulse 95 (1). At 10:00 the 08:01 pulse is outside the 60-minute
    // window and one parameter alone is not scored; 10:01 adds pulse 115; 10:02 adds SpO2 93%
    // on oxygen (scale 2: 1) and the oxygen +2. Each escalation shows despite suppression.
    let shown: Vec<(AlertSeverity, Response, &str)> = a
        .iter()
        .map(|a| (a.severity, a.response, a.message.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                AlertSeverity::Low,
                Response::NurseReview,
                "NEWS2 3 low (partial: 2 of 7 parameters)"
            ),
            (
                AlertSeverity::High,
                Response::Urgent,
                "NEWS2 5 medium, red score (partial: 2 of 7 parameters)"
            ),
            (
                AlertSeverity::Critical,
                Response::Emergency,
                "NEWS2 8 high, red score (partial: 4 of 7 parameters)"
            ),
        ]
    );
}

#[test]
fn evaluation_is_pure_and_alerts_are_acknowledged_by_an_actor() {
    let s = load(&[(
        "oxygen_saturation",
        "2026-03-01T08:00:00Z",
        r#""value":90,"unit":"%""#,
    )]);
    let plan = plan_without(false, false);
    let p = period("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
    let first = alert::evaluate(&s, patient(), &plan, &p);
    let second = alert::evaluate(&s, patient(), &plan, &p);
    assert_eq!(first, second);
    assert_eq!(rules(&first), vec![("spo2-low".into(), 0)]);
    let mut book = AlertBook::new();
    assert_eq!(book.merge(first.clone()), 1);
    assert_eq!(book.merge(second), 0);
    let nurse = Actor::Staff(Staff {
        id: StaffId::from_uuid(Default::default()),
        roles: vec![Role::CLINICIAN],
        organisation: OrganisationId::from_uuid(Default::default()),
        provider: None,
    });
    let at = "2026-03-01T08:30:00Z".parse().unwrap_or_default();
    let id = first[0].id;
    assert!(
        book.acknowledge(id, &nurse, at)
            .is_ok_and(|r| r.acknowledged.as_ref().is_some_and(|a| a.by == nurse))
    );
    assert!(matches!(
        book.acknowledge(id, &nurse, at),
        Err(VitalsError::AlreadyAcknowledged(_))
    ));
    let other = bedside_core::AlertId::from_uuid(Default::default());
    assert!(matches!(
        book.acknowledge(other, &nurse, at),
        Err(VitalsError::UnknownAlert(_))
    ));
    assert!(book.open().is_empty());
    // Re-evaluating and merging keeps the acknowledgement.
    book.merge(alert::evaluate(&s, patient(), &plan, &p));
    assert!(book.get(id).is_some_and(|r| r.acknowledged.is_some()));
}

#[test]
fn ingestion_threshold_hits() {
    let s_hits = {
        let mut s = VitalsStore::new(IngestConfig::default());
        s.register_patient(patient(), Tz::UTC);
        let line = format!(
            r#"{{"patient":"{P}","kind":"blood_pressure","at":"2026-03-01T08:00:00Z","source":"manual","systolic":85,"diastolic":50,"unit":"mm[Hg]"}}"#
        );
        ndjson::ingest(&mut s, line.as_bytes(), &batch("t"))
            .unwrap_or_default()
            .threshold_hits
    };
    let names: Vec<String> = s_hits
        .iter()
        .map(|h| IngestConfig::default().thresholds[h.rule].name.clone())
        .collect();
    assert_eq!(names, vec!["sbp-low"]);
}

#[test]
fn a_merged_news2_alert_shows_the_latest_score() {
    let s = load(&[
        (
            "respiratory_rate",
            "2026-03-01T08:00:00Z",
            r#""value":22,"unit":"/min""#,
        ),
        (
            "heart_rate",
            "2026-03-01T08:01:00Z",
            r#""value":95,"unit":"/min""#,
        ),
        (
            "respiratory_rate",
            "2026-03-01T09:00:00Z",
            r#""value":22,"unit":"/min""#,
        ),
        (
            "heart_rate",
            "2026-03-01T09:01:00Z",
            r#""value":115,"unit":"/min""#,
        ),
    ]);
    let mut plan = plan_without(true, false);
    plan.thresholds.clear();
    plan.rates.clear();
    let early = alert::evaluate(
        &s,
        patient(),
        &plan,
        &period("2026-03-01T00:00:00Z", "2026-03-01T08:30:00Z"),
    );
    let day = alert::evaluate(
        &s,
        patient(),
        &plan,
        &period("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
    );
    // 08:01 scores 3 (RR 22: 2, pulse 95: 1); 09:00 scores 3 again; 09:01 scores 4 (pulse 115:
    // 2). All are "low", so the later two fold into the first alert, which shows the 4.
    assert_eq!(rules(&early), vec![("news2".into(), 0)]);
    assert_eq!(early[0].message, "NEWS2 3 low (partial: 2 of 7 parameters)");
    assert_eq!(early[0].latest_at, None);
    assert_eq!(rules(&day), vec![("news2".into(), 2)]);
    assert_eq!(day[0].id, early[0].id);
    assert_eq!(
        day[0].triggered_at.to_rfc3339(),
        "2026-03-01T08:01:00+00:00"
    );
    assert_eq!(day[0].message, "NEWS2 4 low (partial: 2 of 7 parameters)");
    assert_eq!(
        day[0].message_at().to_rfc3339(),
        "2026-03-01T09:01:00+00:00"
    );

    // The book follows: merging the later evaluation updates the message, merging the earlier
    // one again does not take it back.
    let mut book = AlertBook::new();
    assert_eq!(book.merge(early.clone()), 1);
    assert_eq!(book.merge(day.clone()), 0);
    assert_eq!(book.merge(early), 0);
    let held = book.get(day[0].id).map(|r| r.alert.clone());
    assert_eq!(
        held.as_ref().map(|a| a.message.as_str()),
        Some(day[0].message.as_str())
    );
    assert_eq!(held.map(|a| a.suppressed), Some(2));
}

#[test]
fn severity_and_response_have_one_spelling_on_the_wire() {
    for severity in AlertSeverity::ALL {
        let json = serde_json::to_string(&severity).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", severity.as_str()));
        // The capitalised form earlier clinic responses used is read back.
        let old = format!("\"{severity:?}\"");
        assert_eq!(
            serde_json::from_str::<AlertSeverity>(&old).ok(),
            Some(severity)
        );
    }
    for (response, code) in [
        (Response::Routine, "routine"),
        (Response::NurseReview, "nurse_review"),
        (Response::Urgent, "urgent"),
        (Response::Emergency, "emergency"),
    ] {
        assert_eq!(response.as_str(), code);
        assert_eq!(response.to_string(), code);
        assert_eq!(
            serde_json::to_string(&response).unwrap_or_default(),
            format!("\"{code}\"")
        );
        for old in [
            format!("{response:?}"),
            format!("{response:?}").to_lowercase(),
        ] {
            assert_eq!(
                serde_json::from_str::<Response>(&format!("\"{old}\"")).ok(),
                Some(response)
            );
        }
    }
}

#[test]
fn errors_have_a_kind() {
    use bedside_core::{DomainError, ErrorKind};
    let id = bedside_core::AlertId::from_uuid(Default::default());
    for (e, kind) in [
        (VitalsError::UnknownAlert(id), ErrorKind::NotFound),
        (VitalsError::AlreadyAcknowledged(id), ErrorKind::Conflict),
        (VitalsError::UnknownPatient, ErrorKind::NotFound),
        (VitalsError::Snapshot("x"), ErrorKind::Invalid),
    ] {
        assert_eq!(e.kind(), kind, "{e}");
    }
}
