//! Remote monitoring after discharge: a heart-failure patient's two weeks of home readings
//! (with a few bad lines and a re-sent upload) are ingested, the batch report is printed,
//! then daily aggregates in the patient's time zone and the alerts a nurse would see.
//!
//! Run with `cargo run --example remote_monitoring`.

use bedside::core::{Actor, OrganisationId, PatientId, Period, Role, Staff, StaffId, Timestamp};
use bedside::vitals::{
    AlertBook, Batch, CarePlan, IngestConfig, VitalKind, VitalsStore, alert, ndjson,
};
use chrono::{NaiveDate, TimeDelta};

const PATIENT: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";
const SCALE: &str = "device:0190f5a4-0000-7000-8000-0000000000aa";
const CUFF: &str = "device:0190f5a4-0000-7000-8000-0000000000bb";

/// Fourteen mornings of weight (in pounds, from a US scale) and blood pressure, New York
/// time. Fluid builds up from day 9: the weight climbs and blood pressure rises.
fn home_readings() -> String {
    let mut lines = Vec::new();
    for day in 1..=14u32 {
        let weight_lb = if day < 9 {
            182.0 + f64::from(day % 3) * 0.4
        } else {
            182.0 + f64::from(day - 8) * 2.6
        };
        let systolic = if day < 10 {
            128 + day % 4
        } else {
            150 + (day - 10) * 9
        };
        let pulse = if day < 11 {
            72 + day % 5
        } else {
            96 + (day - 11) * 6
        };
        // Days 6 and 7 have no weight: the scale's batteries ran out.
        if day != 6 && day != 7 {
            lines.push(format!(
                r#"{{"patient":"{PATIENT}","kind":"body_weight","at":"2026-03-{day:02}T07:05:00-05:00","value":{weight_lb:.1},"unit":"[lb_av]","source":"{SCALE}"}}"#
            ));
        }
        lines.push(format!(
            r#"{{"patient":"{PATIENT}","kind":"blood_pressure","at":"2026-03-{day:02}T07:10:00-05:00","systolic":{systolic},"diastolic":82,"unit":"mm[Hg]","source":"{CUFF}","position":"sitting"}}"#
        ));
        lines.push(format!(
            r#"{{"patient":"{PATIENT}","kind":"heart_rate","at":"2026-03-{day:02}T07:10:00-05:00","value":{pulse},"unit":"/min","source":"{CUFF}"}}"#
        ));
    }
    // A typo'd reading (SBP 1420), a truncated line and an unknown unit.
    lines.push(format!(
        r#"{{"patient":"{PATIENT}","kind":"blood_pressure","at":"2026-03-07T19:00:00-05:00","systolic":1420,"diastolic":85,"unit":"mm[Hg]","source":"manual"}}"#
    ));
    lines.push(
        r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"heart_rate","at""#.to_owned(),
    );
    lines.push(format!(
        r#"{{"patient":"{PATIENT}","kind":"body_weight","at":"2026-03-08T19:00:00-05:00","value":12.9,"unit":"stone","source":"manual"}}"#
    ));
    lines.join("\n")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // When the uploads arrive (domain crates never read a clock: the caller says when).
    let at: Timestamp = "2026-03-15T14:00:00Z".parse()?;
    let patient: PatientId = PATIENT.parse()?;
    // The patient's phone app uploads on their behalf.
    let uploader = Actor::Patient { patient };
    let mut store = VitalsStore::new(IngestConfig::default());
    store.register_patient(patient, chrono_tz::America::New_York);

    let upload = home_readings();
    let report = ndjson::ingest(
        &mut store,
        upload.as_bytes(),
        &Batch::new("app-upload-1", &uploader, at),
    )?;
    println!("{}", report.summary());
    for r in &report.rejections {
        println!("  rejected line {}: {}", r.position.record, r.reason);
    }
    // The app re-sends the last three days (a flaky connection): nothing new is stored.
    let resent: Vec<&str> = upload.lines().filter(|l| l.contains("2026-03-1")).collect();
    let again = ndjson::ingest(
        &mut store,
        resent.join("\n").as_bytes(),
        &Batch::new("app-upload-2", &uploader, at),
    )?;
    println!("{}", again.summary());

    let first = NaiveDate::from_ymd_opt(2026, 3, 1).ok_or("date")?;
    let last = NaiveDate::from_ymd_opt(2026, 3, 14).ok_or("date")?;
    println!("daily means, New York calendar days:");
    let weights = store.daily(patient, VitalKind::BodyWeight, first, last)?;
    let pressures = store.daily(patient, VitalKind::BloodPressure, first, last)?;
    for p in &pressures {
        let w = weights
            .iter()
            .find(|w| w.date == p.date)
            .map_or("    no reading".to_owned(), |w| {
                format!("{:6.2} kg", w.mean)
            });
        println!(
            "  {}  weight {w}  systolic blood pressure {:5.1} mmHg",
            p.date, p.mean
        );
    }
    let fortnight = Period::new("2026-03-01T00:00:00Z".parse()?, at)?;
    if let Some(t) = store.trend(patient, VitalKind::BodyWeight, &fortnight) {
        println!(
            "weight trend (least-squares slope): {:+.2} kg per day over {} readings",
            t.slope_per_day, t.points
        );
    }

    // Repeats of the same rule within 36 hours fold into the alert already shown.
    let plan = CarePlan {
        monitoring_start: Some(fortnight.start()),
        suppression_minutes: 36 * 60,
        ..CarePlan::default()
    };
    let alerts = alert::evaluate(&store, patient, &plan, &fortnight);
    let mut book = AlertBook::new();
    book.merge(alerts.clone());
    // Re-running the evaluation produces the same alerts: nothing new for the nurse.
    assert_eq!(
        book.merge(alert::evaluate(&store, patient, &plan, &fortnight)),
        0
    );
    println!(
        "alerts for the nurse ({}), most severe first (severity, suggested response, first triggered UTC, rule: what was seen):",
        book.len()
    );
    for rec in book.open() {
        let a = &rec.alert;
        let folded = match a.latest_at {
            Some(latest) if a.suppressed > 0 => format!(
                "; {} later alert(s) of this rule folded in, the message is the latest, from {}",
                a.suppressed,
                latest.format("%Y-%m-%d %H:%M")
            ),
            _ => String::new(),
        };
        println!(
            "  severity {}, response {}, {} UTC, {}: {}{folded}",
            a.severity,
            a.response,
            a.triggered_at.format("%Y-%m-%d %H:%M"),
            a.rule,
            a.message,
        );
    }
    let nurse = Actor::Staff(Staff {
        id: StaffId::from_uuid(Default::default()),
        roles: vec![Role::CLINICIAN],
        organisation: OrganisationId::from_uuid(Default::default()),
        provider: None,
    });
    if let Some(top) = book.open().first().map(|r| r.alert.id) {
        book.acknowledge(top, &nurse, at + TimeDelta::minutes(5))?;
        println!(
            "acknowledged the most severe alert; {} still open",
            book.open().len()
        );
    }
    Ok(())
}
