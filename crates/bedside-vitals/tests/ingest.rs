//! Ingestion end to end: every record gets exactly one outcome, duplicates, out-of-order
//! arrival, unit normalisation, the four formats, time-series queries and FHIR export.

use bedside_core::{Actor, PatientId, Period};
use bedside_vitals::csv::CsvMapping;
use bedside_vitals::{
    Batch, Field, IngestConfig, Outcome, ReadingContext, ReadingValue, RejectReason, Source, Tz,
    Unit, UnitConfig, VitalKind, VitalsStore, csv, fhir, ndjson, omh,
};
use chrono::NaiveDate;

const P: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";
const DEV: &str = "device:0190f5a4-0000-7000-8000-000000000001";

fn patient() -> PatientId {
    P.parse()
        .unwrap_or_else(|_| PatientId::from_uuid(Default::default()))
}

fn batch(label: &str) -> Batch {
    Batch::new(
        label,
        &Actor::system("test-upload"),
        "2026-03-15T12:00:00Z".parse().unwrap_or_default(),
    )
}

fn store() -> VitalsStore {
    let mut s = VitalsStore::new(IngestConfig::default());
    s.register_patient(patient(), chrono_tz::America::New_York);
    s
}

fn line(kind: &str, at: &str, rest: &str) -> String {
    format!(r#"{{"patient":"{P}","kind":"{kind}","at":"{at}","source":"{DEV}",{rest}}}"#)
}

fn reason_of(input: &str) -> Option<RejectReason> {
    let mut s = store();
    let r = ndjson::ingest(&mut s, input.as_bytes(), &batch("t")).ok()?;
    assert_eq!(r.records, 1, "{input}");
    r.rejections.first().map(|x| x.reason)
}

#[test]
fn each_rejection_reason() {
    let hr = |at: &str, rest: &str| line("heart_rate", at, rest);
    let ok = hr("2026-03-01T08:00:00-05:00", r#""value":72,"unit":"/min""#);
    assert_eq!(reason_of(&ok), None);
    let cases: Vec<(String, RejectReason)> = vec![
        ("{not json".into(), RejectReason::Malformed),
        (hr("2026-03-01T08:00:00-05:00", r#""value":"72","unit":"/min""#), RejectReason::InvalidField(Field::Value)),
        (hr("2026-03-01T08:00:00-05:00", r#""unit":"/min""#), RejectReason::MissingField(Field::Value)),
        (hr("2026-03-01 08:00", r#""value":72,"unit":"/min""#), RejectReason::InvalidField(Field::At)),
        (hr("2026-03-01T08:00:00-05:00", r#""value":72,"unit":"furlongs""#), RejectReason::UnknownUnit),
        (hr("2026-03-01T08:00:00-05:00", r#""value":72,"unit":"kg""#), RejectReason::UnknownUnit),
        (hr("2026-03-01T08:00:00-05:00", r#""value":900,"unit":"/min""#), RejectReason::Implausible),
        (line("body_weight", "2026-03-01T08:00:00Z", r#""value":-3,"unit":"kg""#), RejectReason::Implausible),
        (
            line("blood_pressure", "2026-03-01T08:00:00Z", r#""systolic":900,"diastolic":80,"unit":"mmHg""#),
            RejectReason::Implausible,
        ),
        (
            line("blood_pressure", "2026-03-01T08:00:00Z", r#""systolic":80,"diastolic":120,"unit":"mmHg""#),
            RejectReason::Implausible,
        ),
        (hr("2026-03-15T12:10:00Z", r#""value":72,"unit":"/min""#), RejectReason::FutureTimestamp),
        (line("step_count", "2026-03-01T08:00:00Z", r#""value":1,"unit":"/min""#), RejectReason::UnsupportedKind),
        (
            r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-000000000000","kind":"heart_rate","at":"2026-03-01T08:00:00Z","value":72,"unit":"/min","source":"manual"}"#.into(),
            RejectReason::UnknownPatient,
        ),
        (hr("2026-03-01T08:00:00Z", r#""value":72,"unit":"/min","source2":1"#).replace(DEV, "fax"), RejectReason::InvalidField(Field::Source)),
    ];
    for (input, expected) in cases {
        assert_eq!(reason_of(&input), Some(expected), "{input}");
    }
    // Inside the skew allowance is fine; SBP 185 is concerning (an alert), not impossible.
    assert_eq!(
        reason_of(&hr("2026-03-15T12:04:00Z", r#""value":72,"unit":"/min""#)),
        None
    );
    assert_eq!(
        reason_of(&line(
            "blood_pressure",
            "2026-03-01T08:00:00Z",
            r#""systolic":185,"diastolic":100,"unit":"mmHg""#
        )),
        None
    );
}

#[test]
fn positions_duplicates_and_reingest() {
    let input = [
        line(
            "heart_rate",
            "2026-03-01T08:00:00-05:00",
            r#""value":72,"unit":"/min""#,
        ),
        String::new(),
        "garbage".into(),
        line(
            "heart_rate",
            "2026-03-01T08:00:30-05:00",
            r#""value":73,"unit":"/min""#,
        ),
        line(
            "heart_rate",
            "2026-03-01T08:00:30-05:00",
            r#""value":73,"unit":"/min""#,
        )
        .replace(DEV, "app:other"),
    ]
    .join("\n");
    let mut s = store();
    let first = ndjson::ingest(&mut s, input.as_bytes(), &batch("a")).unwrap_or_default();
    assert_eq!(
        (
            first.records,
            first.accepted,
            first.duplicate,
            first.rejected_total()
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(first.rejections[0].position.record, 3);
    assert_eq!(first.rejections[0].reason, RejectReason::Malformed);
    let again = ndjson::ingest(&mut s, input.as_bytes(), &batch("a-again")).unwrap_or_default();
    assert_eq!(
        (again.accepted, again.duplicate, again.rejected_total()),
        (0, 3, 1)
    );
    assert_eq!(s.len(), 2);
    insta::assert_snapshot!(again.summary());
}

#[test]
fn out_of_order_readings_land_in_place_and_keep_offsets() {
    let mut s = store();
    let input = [
        line(
            "body_weight",
            "2026-03-03T07:00:00-05:00",
            r#""value":81,"unit":"kg""#,
        ),
        line(
            "body_weight",
            "2026-03-01T07:00:00+01:00",
            r#""value":80,"unit":"kg""#,
        ),
        line(
            "body_weight",
            "2026-03-02T07:00:00-05:00",
            r#""value":176.4,"unit":"[lb_av]""#,
        ),
    ]
    .join("\n");
    let r = ndjson::ingest(&mut s, input.as_bytes(), &batch("w")).unwrap_or_default();
    assert_eq!(r.accepted, 3);
    let all = s.all(patient(), VitalKind::BodyWeight);
    let times: Vec<String> = all.iter().map(|r| r.effective.to_rfc3339()).collect();
    assert_eq!(
        times,
        vec![
            "2026-03-01T07:00:00+01:00",
            "2026-03-02T07:00:00-05:00",
            "2026-03-03T07:00:00-05:00"
        ]
    );
    assert!(
        all[1]
            .value
            .primary()
            .is_some_and(|v| (v - 176.4 * 0.453_592_37).abs() < 1e-12)
    );
    assert_eq!(all[1].original_unit, Unit::Pound);
    assert_eq!(all[1].provenance.record, 3);
    let latest = s.latest(patient(), VitalKind::BodyWeight);
    assert_eq!(latest.and_then(|r| r.value.primary()), Some(81.0));
}

#[test]
fn daily_aggregates_use_the_patients_zone_and_trend_is_least_squares() {
    let mut s = store();
    // 03:00Z on 2 March is 22:00 on 1 March in New York.
    let input = [
        line(
            "heart_rate",
            "2026-03-01T14:00:00Z",
            r#""value":60,"unit":"/min""#,
        ),
        line(
            "heart_rate",
            "2026-03-02T03:00:00Z",
            r#""value":90,"unit":"/min""#,
        ),
        line(
            "heart_rate",
            "2026-03-02T14:00:00Z",
            r#""value":70,"unit":"/min""#,
        ),
    ]
    .join("\n");
    assert!(ndjson::ingest(&mut s, input.as_bytes(), &batch("hr")).is_ok());
    let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
    let days = s
        .daily(patient(), VitalKind::HeartRate, d(3, 1), d(3, 3))
        .unwrap_or_default();
    assert_eq!(days.len(), 2);
    assert_eq!(
        (
            days[0].date,
            days[0].count,
            days[0].min,
            days[0].max,
            days[0].mean
        ),
        (d(3, 1), 2, 60.0, 90.0, 75.0)
    );
    assert_eq!((days[1].date, days[1].count), (d(3, 2), 1));
    assert!(
        s.daily(
            PatientId::from_uuid(Default::default()),
            VitalKind::HeartRate,
            d(3, 1),
            d(3, 2)
        )
        .is_err()
    );
    let period = Period::new(
        "2026-03-01T00:00:00Z".parse().unwrap_or_default(),
        "2026-03-05T00:00:00Z".parse().unwrap_or_default(),
    );
    let trend = period
        .ok()
        .and_then(|p| s.trend(patient(), VitalKind::HeartRate, &p));
    // Points (14h, 60), (27h, 90), (38h, 70): slope from the normal equations, per day.
    let xs = [14.0 / 24.0, 27.0 / 24.0, 38.0 / 24.0];
    let ys = [60.0, 90.0, 70.0];
    let mx = xs.iter().sum::<f64>() / 3.0;
    let my = ys.iter().sum::<f64>() / 3.0;
    let slope = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum::<f64>()
        / xs.iter().map(|x| (x - mx) * (x - mx)).sum::<f64>();
    assert!(trend.is_some_and(|t| (t.slope_per_day - slope).abs() < 1e-9 && t.points == 3));
}

#[test]
fn glucose_factor_is_configurable() {
    let input = line(
        "blood_glucose",
        "2026-03-01T08:00:00Z",
        r#""value":90,"unit":"mg/dL","meal":"fasting""#,
    );
    for (factor, expected) in [(18.0182, 90.0 / 18.0182), (18.0, 5.0)] {
        let mut s = VitalsStore::new(IngestConfig {
            units: UnitConfig {
                glucose_mg_dl_per_mmol_l: factor,
            },
            ..IngestConfig::default()
        });
        s.register_patient(patient(), Tz::UTC);
        assert!(ndjson::ingest(&mut s, input.as_bytes(), &batch("g")).is_ok());
        let r = s.latest(patient(), VitalKind::BloodGlucose);
        assert!(
            r.as_ref()
                .and_then(|r| r.value.primary())
                .is_some_and(|v| (v - expected).abs() < 1e-12)
        );
        assert_eq!(
            r.map(|r| r.context),
            Some(ReadingContext::Meal {
                meal: bedside_vitals::MealContext::Fasting
            })
        );
    }
}

#[test]
fn too_long_lines_are_rejected_without_buffering() {
    let mut s = VitalsStore::new(IngestConfig {
        max_record_bytes: 300,
        ..IngestConfig::default()
    });
    s.register_patient(patient(), Tz::UTC);
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(5000));
    let input = format!(
        "{long}\n{}\n",
        line(
            "heart_rate",
            "2026-03-01T08:00:00Z",
            r#""value":72,"unit":"/min""#
        )
    );
    let r = ndjson::ingest(&mut s, input.as_bytes(), &batch("l")).unwrap_or_default();
    assert_eq!(
        (
            r.accepted,
            r.rejections.first().map(|x| (x.position.record, x.reason))
        ),
        (1, Some((1, RejectReason::TooLong)))
    );
}

#[test]
fn csv_with_header_mapping() {
    let data = format!(
        "Patient ID,Taken,Weight,Units,Note\n{P},2026-03-01T07:00:00-05:00,80.5,kg,\"fine, thanks\"\n{P},2026-03-02T07:00:00-05:00,\"81\",kg,\"two\nlines\"\n{P},bad-date,80,kg,\n{P},2026-03-03T07:00:00-05:00,80,kg\n"
    );
    let mapping = CsvMapping::identity()
        .column(Field::Patient, "Patient ID")
        .column(Field::At, "Taken")
        .column(Field::Value, "Weight")
        .column(Field::Unit, "Units")
        .constant(Field::Kind, "body_weight")
        .constant(Field::Source, "app:scale-export");
    let mut s = store();
    let r =
        csv::ingest(&mut s, data.as_bytes(), &mapping, &batch("export.csv")).unwrap_or_default();
    assert_eq!((r.records, r.accepted, r.rejected_total()), (4, 2, 2));
    let positions: Vec<(u32, RejectReason)> = r
        .rejections
        .iter()
        .map(|x| (x.position.record, x.reason))
        .collect();
    assert_eq!(
        positions,
        vec![
            (5, RejectReason::InvalidField(Field::At)),
            (6, RejectReason::Malformed)
        ]
    );
    let missing = CsvMapping::identity();
    assert!(csv::ingest(&mut s, data.as_bytes(), &missing, &batch("x")).is_err());
}

const BUNDLE: &str = r#"{"resourceType":"Bundle","type":"collection","entry":[
 {"resource":{"resourceType":"Patient","id":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"}},
 {"resource":{"resourceType":"Observation","status":"final",
   "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
   "code":{"coding":[{"system":"http://loinc.org","code":"55284-4"}]},
   "subject":{"reference":"urn:uuid:0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"},
   "effectiveDateTime":"2026-03-01T08:00:00-05:00",
   "component":[
     {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":142,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
     {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":88,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}},
 {"resource":{"resourceType":"Observation","status":"final",
   "code":{"coding":[{"system":"http://loinc.org","code":"8331-1"}]},
   "subject":{"reference":"Patient/0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"},
   "effectiveDateTime":"2026-03-01T08:05:00-05:00",
   "valueQuantity":{"value":99.5,"unit":"F","system":"http://unitsofmeasure.org","code":"[degF]"}}},
 {"resource":{"resourceType":"Observation","status":"entered-in-error",
   "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
   "subject":{"reference":"Patient/0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"},
   "effectiveDateTime":"2026-03-01T08:05:00-05:00","valueQuantity":{"value":70,"code":"/min"}}},
 {"resource":{"resourceType":"Observation","status":"final",
   "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
   "code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},
   "subject":{"reference":"Patient/0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f"},"effectiveDateTime":"2026-03-01"}},
 {"resource":{"resourceType":"Observation","status":"final",
   "code":{"coding":[{"system":"http://loinc.org","code":"2093-3"}]}}}
]}"#;

#[test]
fn fhir_bundle_with_legacy_codes_components_and_statuses() {
    let mut s = store();
    let r = fhir::ingest(
        &mut s,
        BUNDLE.as_bytes(),
        &Source::Clinic,
        &batch("bundle.json"),
    );
    let r = r.unwrap_or_default();
    assert_eq!(
        (
            r.report.records,
            r.report.accepted,
            r.skipped_resources,
            r.vital_signs_category
        ),
        (4, 2, 2, 2)
    );
    let reasons: Vec<(u32, RejectReason)> = r
        .report
        .rejections
        .iter()
        .map(|x| (x.position.record, x.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (3, RejectReason::NotFinal),
            (4, RejectReason::UnsupportedKind)
        ]
    );
    let bp = s.latest(patient(), VitalKind::BloodPressure);
    assert_eq!(
        bp.map(|b| b.value),
        Some(ReadingValue::BloodPressure {
            systolic: Some(142.0),
            diastolic: Some(88.0),
            mean: None
        })
    );
    let t = s.latest(patient(), VitalKind::BodyTemperature);
    assert!(
        t.as_ref()
            .and_then(|t| t.value.primary())
            .is_some_and(|v| (v - 37.5).abs() < 1e-12)
    );
    assert_eq!(
        t.map(|t| t.context),
        Some(ReadingContext::Site {
            site: bedside_vitals::TemperatureSite::Oral
        })
    );
    // Re-importing accepts nothing new.
    let again = fhir::ingest(
        &mut s,
        BUNDLE.as_bytes(),
        &Source::Clinic,
        &batch("bundle.json"),
    )
    .unwrap_or_default();
    assert_eq!((again.report.accepted, again.report.duplicate), (0, 2));
    assert!(
        fhir::ingest(
            &mut s,
            &b"{\"resourceType\":\"Bundle\",\"entry\":[1,"[..],
            &Source::Clinic,
            &batch("x")
        )
        .is_err()
    );
}

#[test]
fn fhir_export_round_trips() {
    let mut s = store();
    let input = [
        line(
            "blood_pressure",
            "2026-03-01T08:00:00-05:00",
            r#""systolic":16,"diastolic":10,"mean":12,"unit":"kPa""#,
        ),
        line(
            "body_weight",
            "2026-03-01T08:01:00-05:00",
            r#""value":176.4,"unit":"[lb_av]""#,
        ),
    ]
    .join("\n");
    assert!(ndjson::ingest(&mut s, input.as_bytes(), &batch("x")).is_ok_and(|r| r.accepted == 2));
    let bp = s.latest(patient(), VitalKind::BloodPressure);
    let w = s.latest(patient(), VitalKind::BodyWeight);
    let (Some(bp), Some(w)) = (bp, w) else {
        panic!("readings missing")
    };
    let obs = [
        fhir::to_observation(&bp, "Patient/p"),
        fhir::to_observation(&w, "Patient/p"),
    ];
    insta::assert_json_snapshot!(obs);
    // Import the exports into a fresh store: same values.
    let mut t = VitalsStore::new(IngestConfig::default());
    t.register_patient(patient(), Tz::UTC);
    t.register_alias("Patient/p", patient());
    for o in &obs {
        let bytes = serde_json::to_vec(o).unwrap_or_default();
        let r = fhir::ingest(&mut t, bytes.as_slice(), &Source::Manual, &batch("rt"))
            .unwrap_or_default();
        assert_eq!(r.report.accepted, 1);
    }
    let w2 = t
        .latest(patient(), VitalKind::BodyWeight)
        .and_then(|r| r.value.primary());
    assert!(w2.is_some_and(|v| w.value.primary().is_some_and(|p| (v - p).abs() < 1e-6)));
    assert_eq!(
        t.latest(patient(), VitalKind::BloodPressure)
            .map(|r| r.effective),
        Some(bp.effective)
    );
}

#[test]
fn open_mhealth_data_points() {
    let mut s = store();
    s.register_alias("user-1", patient());
    let points = r#"[
      {"header":{"id":"a","creation_date_time":"2026-03-01T09:00:00Z","user_id":"user-1",
        "schema_id":{"namespace":"omh","name":"blood-pressure","version":"4.0"},
        "acquisition_provenance":{"source_name":"cuff-app"}},
       "body":{"systolic_blood_pressure":{"value":130,"unit":"mmHg"},"diastolic_blood_pressure":{"value":80,"unit":"mmHg"},
        "effective_time_frame":{"date_time":"2026-03-01T08:00:00-05:00"},"body_posture":"sitting"}},
      {"header":{"id":"b","creation_date_time":"2026-03-01T09:00:00Z","user_id":"user-1",
        "schema_id":{"namespace":"omh","name":"body-weight","version":"2.0"}},
       "body":{"body_weight":{"value":50,"unit":"km"},"effective_time_frame":{"date_time":"2026-03-01T08:00:00Z"}}},
      {"header":{"id":"c","user_id":"someone-else","schema_id":{"namespace":"omh","name":"heart-rate","version":"2.0"}},
       "body":{"heart_rate":{"value":60,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-03-01T08:00:00Z"}}},
      {"header":{"id":"d","user_id":"user-1","schema_id":{"namespace":"omh","name":"step-count","version":"2.0"}},"body":{}}
    ]"#;
    let r = omh::ingest(&mut s, points.as_bytes(), &batch("omh")).unwrap_or_default();
    assert_eq!((r.records, r.accepted), (4, 1));
    let reasons: Vec<RejectReason> = r.rejections.iter().map(|x| x.reason).collect();
    assert_eq!(
        reasons,
        vec![
            RejectReason::SchemaViolation,
            RejectReason::UnknownPatient,
            RejectReason::UnsupportedKind
        ]
    );
    assert_eq!(r.rejections[0].detail, "body.body_weight: unit not allowed");
    let bp = s.latest(patient(), VitalKind::BloodPressure);
    assert_eq!(
        bp.as_ref().map(|b| b.effective.to_rfc3339()),
        Some("2026-03-01T08:00:00-05:00".into())
    );
    assert_eq!(
        bp.map(|b| b.source),
        Some(Source::App {
            name: "cuff-app".into()
        })
    );
}

#[test]
fn outcomes_serialise_and_debug_has_no_phi() {
    let o = Outcome::Rejected {
        reason: RejectReason::MissingField(Field::At),
    };
    assert_eq!(
        serde_json::to_string(&o).unwrap_or_default(),
        r#"{"outcome":"rejected","reason":{"reason":"missing_field","field":"at"}}"#
    );
    let mut s = store();
    s.register_alias("Patient/Jane-Doe-1970", patient());
    let b = s.open_batch(&batch("Jane_Doe_records.json"));
    let dbg = format!("{s:?} {:?}", s.batch_label(b));
    assert!(!dbg.contains("Jane"), "{dbg}");
}
