//! The harness the FHIR test files share: a seeded clinic behind the HTTP router, a request
//! helper that checks every FHIR answer's envelope (content type, never a 500, errors as
//! `OperationOutcome`s), proxies, and `BEDSIDE_FHIR_OUT` (every resource received is written
//! to `DIR/*.json`, for `../shared/tools/fhir-validate/fhir-validate DIR`, as `.ci/run` does).
#![allow(dead_code, reason = "each test file uses part of the harness")]

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use bedside_clinic::limits::RateLimits;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{Clinic, ClinicConfig, SqliteStore, http};
use bedside_core::ManualClock;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tower::ServiceExt;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";
pub const BASE: &str = "http://localhost/fhir";
/// The instant every test clinic starts at.
pub const START: &str = "2026-06-08T13:00:00Z";

static WRITTEN: AtomicUsize = AtomicUsize::new(0);

/// A seeded clinic behind the router, with its clock.
pub struct Api {
    pub router: Router,
    pub demo: Demo,
    pub clinic: Arc<Clinic>,
    pub clock: Arc<ManualClock>,
}

/// One answer: status, `ETag`, body.
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

impl Api {
    /// The demo seed in an in-memory SQLite clinic at [`START`].
    pub fn new() -> Res<Self> {
        let clock = Arc::new(ManualClock::new(START.parse()?));
        let clinic = Arc::new(Clinic::open(
            Box::new(SqliteStore::in_memory()?),
            clock.clone(),
            ClinicConfig::default(),
        )?);
        let demo = seed::seed(&clinic)?;
        let router = http::router_with(clinic.clone(), &RateLimits::disabled());
        Ok(Api {
            router,
            demo,
            clinic,
            clock,
        })
    }

    pub fn id(&self, i: usize) -> String {
        self.demo.patients[i].0.to_string()
    }

    pub fn token(&self, i: usize) -> String {
        self.demo.patients[i].1.clone()
    }

    /// Sends a request; under `/fhir` checks the FHIR envelope and keeps the body.
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Res<Answer> {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body))?)
            .await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header("etag");
        let content_type = header("content-type");
        let bytes = response.into_body().collect().await?.to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if uri.starts_with("/fhir") {
            assert_eq!(content_type.as_deref(), Some(FHIR_JSON), "{method} {uri}");
            assert_ne!(status, 500, "{method} {uri}: {body}");
            if status >= 400 {
                assert_eq!(body["resourceType"], "OperationOutcome", "{method} {uri}");
            }
            keep(&body)?;
        }
        Ok(Answer { status, etag, body })
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Res<Answer> {
        self.send("GET", uri, token, &[], None).await
    }

    /// [`Api::send`] without headers, as (status, body).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<(u16, Value)> {
        let a = self.send(method, uri, token, &[], body).await?;
        Ok((a.status, a.body))
    }

    /// A `GET`, as (status, body).
    pub async fn fetch(&self, uri: &str, token: Option<&str>) -> Res<(u16, Value)> {
        self.call("GET", uri, token, None).await
    }

    /// A proxy of patient `i` holding `classes`; its token.
    pub async fn grant(&self, i: usize, classes: &[&str]) -> Res<String> {
        let a = self
            .send(
                "POST",
                &format!("/v1/patients/{}/proxies", self.id(i)),
                Some(&self.token(i)),
                &[],
                Some(json!({"classes": classes, "relationship": "adult-child"})),
            )
            .await?;
        assert_eq!(a.status, 201, "{}", a.body);
        Ok(a.body["token"].as_str().ok_or("token")?.to_string())
    }

    /// Every patient's appointments through the JSON API, as the scheduler sees them.
    pub async fn all_appointments(&self) -> Res<Vec<Value>> {
        let mut all = Vec::new();
        for i in 0..self.demo.patients.len() {
            let uri = format!("/v1/patients/{}/appointments", self.id(i));
            let (status, body) = self.fetch(&uri, Some("demo-scheduler")).await?;
            assert_eq!(status, 200, "{body}");
            all.push(body);
        }
        Ok(all)
    }

    /// The ids of patient `i`'s appointments through the JSON API.
    pub async fn appointment_ids(&self, i: usize) -> Res<Vec<String>> {
        let uri = format!("/v1/patients/{}/appointments", self.id(i));
        let (_, body) = self.fetch(&uri, Some("demo-scheduler")).await?;
        Ok(listed(&body)
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect())
    }
}

/// The array of a JSON API list answer (bare or under `appointments`).
pub fn listed(body: &Value) -> Vec<Value> {
    body.as_array()
        .or_else(|| body["appointments"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// The resource ids of a searchset bundle's entries, in order.
pub fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_string))
        .collect()
}

/// Writes a received resource under `BEDSIDE_FHIR_OUT`, when set, named by the test binary
/// and process so that files of several test files never collide.
pub fn keep(body: &Value) -> Res<()> {
    let (Ok(dir), Some(kind)) = (
        std::env::var("BEDSIDE_FHIR_OUT"),
        body["resourceType"].as_str(),
    ) else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir)?;
    let n = WRITTEN.fetch_add(1, Ordering::SeqCst);
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name = format!("{binary}-{}-{n:04}-{kind}.json", std::process::id());
    std::fs::write(
        std::path::Path::new(&dir).join(name),
        serde_json::to_vec_pretty(body)?,
    )?;
    Ok(())
}
