//! The whole access matrix: every endpoint × every kind of caller, through the HTTP API,
//! against the one declaration in `bedside_clinic::access` — and `docs/API.md` carries the
//! table generated from that declaration.

use axum::body::Body;
use axum::http::Request;
use bedside_clinic::access::{self, Endpoint};
use bedside_clinic::limits::RateLimits;
use bedside_clinic::{Clinic, ClinicConfig, Principal, SqliteStore, http, seed};
use bedside_consent::{ClassSet, DataClass};
use bedside_core::{ManualClock, RelatedPersonId};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn docs_api_md_carries_the_generated_role_table() -> TestResult {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))?;
    let table = access::markdown_table();
    assert!(
        docs.contains(&table),
        "docs/API.md is out of date; paste this table between the access-table markers:\n{table}"
    );
    Ok(())
}

#[tokio::test]
async fn every_role_and_principal_kind_meets_the_declared_gate() -> TestResult {
    let clock = Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?));
    let clinic = Arc::new(Clinic::open(
        Box::new(SqliteStore::in_memory()?),
        clock.clone(),
        ClinicConfig::default(),
    )?);
    let demo = seed::seed(&clinic)?;
    let router = http::router_with(clinic.clone(), &RateLimits::disabled());
    let (patient, patient_token) = demo.patients[0].clone();
    let me = Principal::Patient { patient };
    let appointment = clinic
        .appointments(&me, patient)?
        .first()
        .ok_or("appointment")?
        .id
        .to_string();
    let mut callers: Vec<(String, Option<String>, Option<Principal>, ClassSet)> =
        vec![("anonymous".into(), None, None, ClassSet::default())];
    for (role, token) in &demo.staff {
        let who = clinic.authenticate(token)?;
        callers.push((
            role.to_string(),
            Some(token.clone()),
            Some(who),
            ClassSet::default(),
        ));
    }
    callers.push((
        "patient".into(),
        Some(patient_token.clone()),
        Some(me.clone()),
        ClassSet::default(),
    ));
    for class in ["appointments", "billing", "vitals"] {
        let v = clinic.grant_proxy(
            &me,
            patient,
            &[class.to_string()],
            bedside_consent::Relationship::AdultChild,
        )?;
        let token = v.token.ok_or("token")?.expose().clone();
        let who = clinic.authenticate(&token)?;
        let classes = ClassSet::default().with(DataClass::from_code(class).ok_or("class")?);
        callers.push((format!("proxy:{class}"), Some(token), Some(who), classes));
    }
    let mut checked = 0;
    for endpoint in Endpoint::ALL {
        let rule = endpoint.rule();
        let by_appointment = rule.path.starts_with("/v1/appointments/")
            || rule.path.starts_with("/fhir/Appointment/");
        let by_patient =
            rule.path.starts_with("/v1/patients/") || rule.path.starts_with("/fhir/Patient/");
        let path = rule
            .path
            .replace(
                "{proxy}",
                &RelatedPersonId::from_uuid(uuid::Uuid::now_v7()).to_string(),
            )
            .replace("{vid}", "1")
            .replace(
                "{id}",
                &if by_appointment {
                    appointment.clone()
                } else if by_patient {
                    patient.to_string()
                } else if rule.path.starts_with("/v1/providers/") {
                    demo.providers[0].to_string()
                } else {
                    uuid::Uuid::now_v7().to_string()
                },
            );
        let path = if *endpoint == Endpoint::Outbox {
            format!("{path}?patient={patient}")
        } else if *endpoint == Endpoint::Slots {
            format!("{path}?appointment_type=gp-visit")
        } else {
            path
        };
        let subject = by_patient || by_appointment;
        for (name, token, who, classes) in &callers {
            let expected = access::permit(
                *endpoint,
                who.as_ref(),
                subject.then_some(patient),
                *classes,
            )
            .err()
            .map(|e| e.status());
            let mut req = Request::builder().method(rule.method).uri(&path);
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            // A body that is valid JSON but incomplete: a gate refusal must come first.
            let response = router.clone().oneshot(req.body(Body::from("{}"))?).await?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await?.to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            match expected {
                Some(want) => assert_eq!(status, want, "{} {path} as {name}: {body}", rule.method),
                None => {
                    // The JSON API's error shape, or the FHIR face's OperationOutcome.
                    let consent = body["error"]["message"] == "forbidden: consent"
                        || body["issue"][0]["diagnostics"] == "forbidden: consent";
                    assert!(
                        !matches!(status, 401 | 403) || consent,
                        "{} {path} as {name} is declared allowed but got {status}: {body}",
                        rule.method
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Endpoint::ALL.len() * callers.len());
    Ok(())
}
