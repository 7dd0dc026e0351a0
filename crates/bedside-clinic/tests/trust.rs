//! The clinic's trust rules, attacked the way a hostile patient, a relative with partial
//! access, a spoofed SMS gateway, a replayed request or a client-edited body would.
//!
//! Every case is a row: who calls, what request, the expected status, and whether the
//! clinic's observable state may change. The state is read back **through the public HTTP
//! API only** (appointments, statements, outboxes, records, queues), so the table keeps
//! passing through any redesign of the backend's internals.
//!
//! The table runs on the embedded SQLite store by default and on PostgreSQL (a throwaway
//! cluster per test) with `BEDSIDE_TEST_STORE=postgres`, as `.ci/run` does a second time.
//! There it runs with group commit (`--fsync`, [`Durability::Group`]), the mode in which a
//! write is held back and answered only once its group is written and flushed, so every row
//! is also checked against that path; the multi-node test covers the default mode.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::limits::{Quota, RateLimits};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, MemoryNotifier, PostgresStore, SqliteStore, Store, http,
};
use bedside_core::{Clock, ManualClock, Timestamp};
use chrono::TimeDelta;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Res<T> = Result<T, Box<dyn std::error::Error>>;
/// One table row: caller's token, method, path, body, expected status, effect on the state.
type Row<'a> = (Option<&'a str>, &'a str, String, Option<Value>, u16, Effect);

/// Monday 8 June 2026, 09:00 in New York.
const START: &str = "2026-06-08T13:00:00Z";

struct Api {
    router: Router,
    clinic: Arc<Clinic>,
    clock: Arc<ManualClock>,
    demo: Demo,
    /// The PostgreSQL cluster under the clinic, when the table runs there; dropped last.
    _cluster: Option<TempCluster>,
}

/// What a row expects of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Nothing observable changes (every refusal).
    Unchanged,
    /// Something changes (the accepted request).
    Changed,
    /// Not asserted (a read with an audit side effect only, or irrelevant).
    Any,
}
use Effect::{Any, Changed, Unchanged};

impl Api {
    fn new() -> Res<Self> {
        Self::with_limits(&RateLimits::disabled())
    }

    fn with_limits(limits: &RateLimits) -> Res<Self> {
        let clock = Arc::new(ManualClock::new(START.parse()?));
        let postgres = std::env::var("BEDSIDE_TEST_STORE").is_ok_and(|s| s == "postgres");
        let cluster = if postgres {
            Some(TempCluster::start()?)
        } else {
            None
        };
        let url = match &cluster {
            Some(c) => Some(c.create_database("trust")?),
            None => None,
        };
        // Opening and seeding block (a PostgreSQL client cannot run on the test's runtime
        // thread): done on a plain thread.
        let opened = {
            let clock = clock.clone();
            std::thread::spawn(move || -> Result<(Arc<Clinic>, Demo), String> {
                let store: Box<dyn Store> = match url {
                    None => Box::new(SqliteStore::in_memory().map_err(|e| e.to_string())?),
                    Some(url) => Box::new(
                        PostgresStore::connect(
                            &url,
                            Durability::Group,
                            Box::new(MemoryAnchor::new()),
                            ChainKey::development(),
                        )
                        .map_err(|e| e.to_string())?,
                    ),
                };
                let clinic = Clinic::open(store, clock, ClinicConfig::default())
                    .map_err(|e| e.to_string())?;
                let clinic = Arc::new(clinic);
                let demo = seed::seed(&clinic).map_err(|e| e.to_string())?;
                Ok((clinic, demo))
            })
            .join()
            .map_err(|_| "opening the clinic panicked")?
        };
        let (clinic, demo) = opened?;
        Ok(Api {
            router: http::router_with(clinic.clone(), limits),
            clinic,
            clock,
            demo,
            _cluster: cluster,
        })
    }

    /// Runs blocking clinic work off the test's runtime thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Clinic) -> T + Send + 'static,
    ) -> Res<T> {
        let clinic = self.clinic.clone();
        Ok(tokio::task::spawn_blocking(move || f(&clinic)).await?)
    }

    fn id(&self, i: usize) -> String {
        self.demo.patients[i].0.to_string()
    }

    fn token(&self, i: usize) -> String {
        self.demo.patients[i].1.clone()
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Res<(u16, Value)> {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body))?)
            .await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<(u16, Value)> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send(method, uri, token, &[], bytes).await
    }

    /// Everything a caller can observe, read with privileged tokens (reads are audited, so
    /// the audit trail itself is not part of the snapshot).
    async fn snapshot(&self) -> Res<Value> {
        let mut out = serde_json::Map::new();
        for i in 0..self.demo.patients.len() {
            let (id, t) = (self.id(i), self.token(i));
            let t = Some(t.as_str());
            let (_, appointments) = self
                .call("GET", &format!("/v1/patients/{id}/appointments"), t, None)
                .await?;
            let (_, record) = self
                .call("GET", &format!("/v1/patients/{id}"), t, None)
                .await?;
            let (_, statement) = self
                .call("GET", &format!("/v1/patients/{id}/statement"), t, None)
                .await?;
            let (_, outbox) = self.call("GET", "/v1/outbox", t, None).await?;
            let outbox: Vec<Value> = outbox
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| json!([m["purpose"], m["status"], m["channel"]]))
                .collect();
            out.insert(
                id,
                json!({
                    "appointments": appointments,
                    "record": record,
                    "balance": statement["balance_minor"],
                    "outbox": outbox,
                }),
            );
        }
        for (name, uri, token) in [
            ("work_queue", "/v1/billing/work-queue", "demo-billing"),
            ("aging", "/v1/billing/aging", "demo-billing"),
            ("alerts", "/v1/alerts", "demo-nurse"),
            ("duplicates", "/v1/duplicates", "demo-reception"),
            ("reviews", "/v1/reviews", "demo-privacy"),
        ] {
            let (_, v) = self.call("GET", uri, Some(token), None).await?;
            out.insert(name.into(), v);
        }
        Ok(Value::Object(out))
    }

    /// One row: the status must match, and the state must change only when it may.
    async fn check(
        &self,
        who: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<Value>,
        want: u16,
        effect: Effect,
    ) -> Res<Value> {
        let row = (who, method, uri.to_string(), body, want, effect);
        self.check_with(&[], row).await
    }

    /// As [`Api::check`], with request headers.
    async fn check_with(&self, headers: &[(&str, &str)], row: Row<'_>) -> Res<Value> {
        let (who, method, uri, body, want, effect) = row;
        let uri = uri.as_str();
        let before = self.snapshot().await?;
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (status, value) = self.send(method, uri, who, headers, bytes).await?;
        assert_eq!(status, want, "{method} {uri} as {who:?}: {value}");
        let after = self.snapshot().await?;
        match effect {
            Unchanged => assert!(before == after, "{method} {uri} as {who:?} changed state"),
            Changed => assert!(before != after, "{method} {uri} as {who:?} changed nothing"),
            Any => {}
        }
        Ok(value)
    }

    /// Writes this test's journal to `tests/data/journal/<name>.tsv` when
    /// `BEDSIDE_RECORD_JOURNALS` is set (see `tests/journal_format.rs`).
    fn record_journal(&self, name: &str) -> Res<()> {
        if std::env::var_os("BEDSIDE_RECORD_JOURNALS").is_none() {
            return Ok(());
        }
        let mut text = String::new();
        for (at, kind, body) in self.clinic.export_journal()? {
            text.push_str(&format!("{at}\t{kind}\t{body}\n"));
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.tsv")), text)?;
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn appointments(&self, i: usize) -> Res<Vec<Value>> {
        let (_, list) = self
            .call(
                "GET",
                &format!("/v1/patients/{}/appointments", self.id(i)),
                Some(&self.token(i)),
                None,
            )
            .await?;
        Ok(list.as_array().cloned().unwrap_or_default())
    }

    async fn slots(&self, kind: &str, from: &str) -> Res<Vec<Value>> {
        let (_, v) = self
            .call(
                "GET",
                &format!("/v1/slots?appointment_type={kind}&limit=5&from={from}"),
                None,
                None,
            )
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    async fn grant(&self, i: usize, classes: &[&str]) -> Res<(String, String)> {
        let (status, v) = self
            .call(
                "POST",
                &format!("/v1/patients/{}/proxies", self.id(i)),
                Some(&self.token(i)),
                Some(json!({"classes": classes, "relationship": "adult-child"})),
            )
            .await?;
        assert_eq!(status, 201, "{v}");
        Ok((
            v["related_person"].as_str().ok_or("id")?.to_string(),
            v["token"].as_str().ok_or("token")?.to_string(),
        ))
    }

    /// The body of the last message delivered to `address` (the "phone").
    fn delivered_to(&self, notifier: &MemoryNotifier, address: &str) -> Option<String> {
        notifier
            .sent()
            .into_iter()
            .rev()
            .find(|m| m.address == address)
            .map(|m| m.body)
    }
}

fn sms(id: &str, from: &str, body: &str) -> Option<Value> {
    Some(json!({"message_id": id, "from": from, "body": body}))
}

/// Items 1–3: proxies do only what their classes allow; revocation; the outbox is scoped.
#[tokio::test]
async fn proxies_act_within_their_classes_and_revocation_is_immediate() -> TestResult {
    let api = Api::new()?;
    let (maria, maria_t) = (api.id(0), api.token(0));
    let (_, billing_proxy) = api.grant(0, &["billing"]).await?;
    let (appt_rp, appt_proxy) = api.grant(0, &["appointments"]).await?;
    let ap = api.appointments(0).await?[0]["id"]
        .as_str()
        .ok_or("id")?
        .to_string();
    let slot = api.slots("gp-visit", "2026-06-16T13:00:00Z").await?[0].clone();
    let vitals = format!(
        r#"{{"patient":"{maria}","kind":"heart_rate","at":"2026-06-08T12:00:00Z","value":70,"unit":"/min","source":"manual"}}"#
    );
    let b = Some(billing_proxy.as_str());
    let a = Some(appt_proxy.as_str());
    // (who, method, uri, body, status, effect)
    let rows: Vec<Row> = vec![
        (
            b,
            "POST",
            format!("/v1/appointments/{ap}/cancel"),
            None,
            403,
            Unchanged,
        ),
        (
            b,
            "POST",
            format!("/v1/appointments/{ap}/reschedule"),
            Some(json!({"option": slot})),
            403,
            Unchanged,
        ),
        (
            b,
            "POST",
            format!("/v1/patients/{maria}/appointments"),
            Some(json!({"option": slot, "client_token": "p1"})),
            403,
            Unchanged,
        ),
        (
            b,
            "POST",
            format!("/v1/patients/{maria}/vitals"),
            Some(json!(vitals)),
            403,
            Unchanged,
        ),
        (
            b,
            "PATCH",
            format!("/v1/patients/{maria}"),
            Some(json!({"base_version": 1, "sms_reminders": false})),
            403,
            Unchanged,
        ),
        (
            b,
            "GET",
            format!("/v1/patients/{maria}/notes"),
            None,
            403,
            Unchanged,
        ),
        (
            b,
            "POST",
            format!("/v1/patients/{maria}/proxies"),
            Some(json!({"classes": ["billing"], "relationship": "caregiver"})),
            403,
            Unchanged,
        ),
        // Billing grants paying: nothing is owed yet, so the gate passes and the rule refuses.
        (
            b,
            "POST",
            format!("/v1/patients/{maria}/payments"),
            Some(json!({"amount_minor": 100})),
            409,
            Unchanged,
        ),
        (
            a,
            "POST",
            format!("/v1/patients/{maria}/payments"),
            Some(json!({"amount_minor": 100})),
            403,
            Unchanged,
        ),
        (
            a,
            "GET",
            format!("/v1/patients/{maria}/statement"),
            None,
            403,
            Unchanged,
        ),
        (
            a,
            "POST",
            format!("/v1/patients/{maria}/vitals"),
            Some(json!(vitals)),
            403,
            Unchanged,
        ),
        // A proxy of Maria acting on someone else: the same answer as for a missing id.
        (
            a,
            "GET",
            format!("/v1/patients/{}/appointments", api.id(1)),
            None,
            403,
            Unchanged,
        ),
        (
            a,
            "POST",
            format!("/v1/appointments/{ap}/cancel"),
            None,
            200,
            Changed,
        ),
    ];
    for (who, method, uri, body, want, effect) in rows {
        api.check(who, method, &uri, body, want, effect).await?;
    }
    // No class lets a proxy change the record, not even `contact`.
    let (_, contact_proxy) = api.grant(0, &["contact"]).await?;
    let c = Some(contact_proxy.as_str());
    let (_, record) = api
        .call(
            "GET",
            &format!("/v1/patients/{maria}"),
            Some(&maria_t),
            None,
        )
        .await?;
    let version = record["version"].as_u64().ok_or("version")?;
    let name = json!({"base_version": version, "name": {"given": ["Mara"], "family": "Delgado"}});
    api.check(
        c,
        "PATCH",
        &format!("/v1/patients/{maria}"),
        Some(name),
        403,
        Unchanged,
    )
    .await?;
    let quiet = json!({"base_version": version, "quiet_hours": ["22:00", "07:00"]});
    api.check(
        c,
        "PATCH",
        &format!("/v1/patients/{maria}"),
        Some(quiet),
        403,
        Unchanged,
    )
    .await?;
    // Its outbox: only the classes it holds — the billing proxy sees no reminder.
    let (status, seen) = api.call("GET", "/v1/outbox", b, None).await?;
    assert_eq!(status, 200);
    assert!(
        seen.as_array()
            .ok_or("array")?
            .iter()
            .all(|m| m["purpose"] == "statement"),
        "{seen}"
    );
    // Revocation: by another patient or by the proxy itself refused; by Maria at once.
    let revoke = format!("/v1/patients/{maria}/proxies/{appt_rp}");
    api.check(Some(&api.token(1)), "DELETE", &revoke, None, 403, Unchanged)
        .await?;
    api.check(a, "DELETE", &revoke, None, 403, Unchanged)
        .await?;
    api.check(Some(&maria_t), "DELETE", &revoke, None, 200, Any)
        .await?;
    api.check(
        a,
        "GET",
        &format!("/v1/patients/{maria}/appointments"),
        None,
        401,
        Unchanged,
    )
    .await?;
    api.check(Some(&maria_t), "DELETE", &revoke, None, 404, Unchanged)
        .await?;
    // The grant and the revocation are in her access history.
    let (_, history) = api
        .call(
            "GET",
            &format!("/v1/patients/{maria}/disclosures"),
            Some(&maria_t),
            None,
        )
        .await?;
    let proxies = history["proxies"].as_array().ok_or("proxies")?;
    assert!(
        proxies
            .iter()
            .any(|p| p["related_person"] == appt_rp.as_str()
                && p["revoked_at"].is_string()
                && p["granted_at"].is_string())
    );
    api.record_journal("trust_proxies")?;
    Ok(())
}

/// Items 3 and 5: the outbox is scoped; no existence oracle; break-the-glass for clinicians only.
#[tokio::test]
async fn outbox_is_scoped_ids_leak_nothing_and_only_clinicians_break_the_glass() -> TestResult {
    let api = Api::new()?;
    let (maria, maria_t) = (api.id(0), api.token(0));
    let m = Some(maria_t.as_str());
    let unknown = uuid::Uuid::now_v7().to_string();
    let rows: Vec<(Option<&str>, &str, String, u16, Effect)> = vec![
        (None, "GET", "/v1/outbox".into(), 401, Unchanged),
        (
            Some("demo-admin"),
            "GET",
            format!("/v1/outbox?patient={maria}"),
            403,
            Unchanged,
        ),
        (
            Some("demo-manager"),
            "GET",
            format!("/v1/outbox?patient={maria}"),
            403,
            Unchanged,
        ),
        (
            Some("demo-sms-gateway"),
            "GET",
            format!("/v1/outbox?patient={maria}"),
            403,
            Unchanged,
        ),
        (
            Some("demo-scheduler"),
            "GET",
            "/v1/outbox".into(),
            400,
            Unchanged,
        ),
        (
            Some("demo-scheduler"),
            "GET",
            format!("/v1/outbox?patient={maria}"),
            200,
            Any,
        ),
        (
            m,
            "GET",
            format!("/v1/outbox?patient={}", api.id(1)),
            403,
            Unchanged,
        ),
        (
            m,
            "GET",
            format!("/v1/patients/{}", api.id(1)),
            403,
            Unchanged,
        ),
        (m, "GET", format!("/v1/patients/{unknown}"), 403, Unchanged),
        (
            m,
            "GET",
            format!("/v1/patients/{unknown}/statement"),
            403,
            Unchanged,
        ),
        (
            m,
            "GET",
            format!("/v1/patients/{}/statement", api.id(1)),
            403,
            Unchanged,
        ),
    ];
    for (who, method, uri, want, effect) in rows {
        api.check(who, method, &uri, None, want, effect).await?;
    }
    // The refusals for an existing and a missing patient are byte for byte the same.
    let (_, a) = api
        .call("GET", &format!("/v1/patients/{}", api.id(1)), m, None)
        .await?;
    let (_, b) = api
        .call("GET", &format!("/v1/patients/{unknown}"), m, None)
        .await?;
    assert_eq!(a, b);
    // A patient's X-Break-Glass is ignored: no emergency access, nothing queued for review.
    let justification = [("x-break-glass", "my own emergency, let me in now")];
    api.check_with(
        &justification,
        (
            m,
            "GET",
            format!("/v1/patients/{}/notes", api.id(1)),
            None,
            403,
            Unchanged,
        ),
    )
    .await?;
    api.check_with(
        &justification,
        (
            m,
            "GET",
            format!("/v1/patients/{maria}"),
            None,
            200,
            Unchanged,
        ),
    )
    .await?;
    let (_, reviews) = api
        .call("GET", "/v1/reviews", Some("demo-privacy"), None)
        .await?;
    assert_eq!(reviews, json!([]));
    // The scheduler sees appointment messages only, never one-time codes.
    let (_, list) = api
        .call(
            "GET",
            &format!("/v1/outbox?patient={maria}"),
            Some("demo-scheduler"),
            None,
        )
        .await?;
    let list = list.as_array().ok_or("array")?;
    assert!(!list.is_empty());
    assert!(list.iter().all(|m| {
        m["purpose"]
            .as_str()
            .is_some_and(|p| p.starts_with("appointment-reminders"))
    }));
    Ok(())
}

/// Items 6–8: verified SMS identities, family phones, replays.
#[tokio::test]
async fn sms_identity_is_verified_shared_numbers_ask_and_replays_do_nothing() -> TestResult {
    let api = Api::new()?;
    let gw = Some("demo-sms-gateway");
    // An e-mail-only patient with an appointment.
    let (status, reg) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({
                "given": ["Edda"], "family": "Mailonly", "birth_date": "1980-01-01",
                "email": "edda@example.org"
            })),
        )
        .await?;
    assert_eq!(status, 201, "{reg}");
    let (edda, edda_t) = (
        reg["patient"].as_str().ok_or("id")?.to_string(),
        reg["token"].as_str().ok_or("t")?.to_string(),
    );
    let slot = api.slots("gp-visit", "2026-06-17T13:00:00Z").await?[0].clone();
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/patients/{edda}/appointments"),
            Some(&edda_t),
            Some(json!({"option": slot, "client_token": "e1"})),
        )
        .await?;
    assert_eq!(status, 201);
    // A stranger self-registers Maria's number.
    let maria_phone = "+12125550142";
    let (status, stranger) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({
                "given": ["Mallory"], "family": "Stranger", "birth_date": "1990-01-01",
                "phone": maria_phone
            })),
        )
        .await?;
    assert_eq!(
        (status, stranger["phone_verification"].as_str()),
        (201, Some("code-sent"))
    );
    let (mallory, mallory_t) = (
        stranger["patient"].as_str().ok_or("id")?.to_string(),
        stranger["token"].as_str().ok_or("t")?.to_string(),
    );
    // The code is not in her outbox: it reaches the phone only.
    let (_, mine) = api
        .call("GET", "/v1/outbox", Some(&mallory_t), None)
        .await?;
    assert!(
        mine.as_array()
            .ok_or("array")?
            .iter()
            .all(|m| m["purpose"] != "phone-verification")
    );
    let rows: Vec<Row> = vec![
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m1", "ALERTS", "X"),
            200,
            Unchanged,
        ),
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m2", "", "X"),
            200,
            Unchanged,
        ),
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m3", "edda@example.org", "X"),
            200,
            Unchanged,
        ),
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m4", "2125550142", "X"),
            200,
            Unchanged,
        ),
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            Some(json!({"from": maria_phone, "body": "X"})),
            400,
            Unchanged,
        ),
        (
            Some(&mallory_t),
            "POST",
            "/v1/sms/inbound".into(),
            sms("m5", maria_phone, "X"),
            403,
            Unchanged,
        ),
        (
            Some(&mallory_t),
            "POST",
            format!("/v1/patients/{mallory}/phone/verify"),
            Some(json!({"code": "000000"})),
            400,
            Unchanged,
        ),
        (
            Some(&edda_t),
            "POST",
            format!("/v1/patients/{mallory}/phone/verify"),
            Some(json!({"code": "000000"})),
            403,
            Unchanged,
        ),
        // Maria's own X cancels her appointment; the replay of the same message does nothing.
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m6", maria_phone, "X"),
            200,
            Changed,
        ),
        (
            gw,
            "POST",
            "/v1/sms/inbound".into(),
            sms("m6", maria_phone, "X"),
            200,
            Unchanged,
        ),
    ];
    for (who, method, uri, body, want, effect) in rows {
        api.check(who, method, &uri, body, want, effect).await?;
    }
    let (_, list) = api
        .call(
            "GET",
            &format!("/v1/patients/{edda}/appointments"),
            Some(&edda_t),
            None,
        )
        .await?;
    assert_eq!(
        list[0]["status"], "booked",
        "the e-mail-only patient's visit stands"
    );
    // The stranger's STOP-capture: Mallory is not on the number, so her preferences stay.
    // With the code from the phone she would be verified — the owner of the phone only.
    let notifier = Arc::new(MemoryNotifier::default());
    let sink = notifier.clone();
    api.blocking(move |c| c.deliver_due(&*sink).map(|_| ()))
        .await??;
    let text = api.delivered_to(&notifier, maria_phone).ok_or("code sms")?;
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    api.check(
        Some(&mallory_t),
        "POST",
        &format!("/v1/patients/{mallory}/phone/verify"),
        Some(json!({"code": code})),
        200,
        Any,
    )
    .await?;

    // A family phone: Grace's number is also her son's, registered by reception (verified).
    let grace_phone = "+12125550146";
    let (status, son) = api
        .call("POST", "/v1/patients", Some("demo-reception"), Some(json!({
            "given": ["Obi"], "family": "Okafor", "birth_date": "2012-05-05", "phone": grace_phone
        })))
        .await?;
    assert_eq!(status, 201, "{son}");
    let son = son["patient"].as_str().ok_or("id")?.to_string();
    let (grace, grace_t) = (api.id(4), api.token(4));
    // Both visits on Wednesday morning, a quarter of an hour apart.
    for (who, token) in [
        (&grace, grace_t.clone()),
        (&son, "demo-scheduler".to_string()),
    ] {
        let slot = api.slots("gp-visit", "2026-06-10T13:00:00Z").await?[0].clone();
        let (status, v) = api
            .call(
                "POST",
                &format!("/v1/patients/{who}/appointments"),
                Some(&token),
                Some(json!({"option": slot, "client_token": "fam"})),
            )
            .await?;
        assert_eq!(status, 201, "{v}");
    }
    // An hour later both 48-hour reminders have gone out, minutes apart: "C" on the shared
    // number cannot tell which one it answers, so the clinic asks.
    api.clock.advance(TimeDelta::hours(1));
    let asked = api
        .check(
            gw,
            "POST",
            "/v1/sms/inbound",
            sms("f1", grace_phone, "C"),
            200,
            Changed,
        )
        .await?;
    assert_eq!(asked["result"]["reason"], "which-appointment", "{asked}");
    // "C2" confirms the second (the son's, 15 minutes later), nothing else.
    // (The son is not among the snapshot's patients: his confirmation is checked below.)
    let done = api
        .check(
            gw,
            "POST",
            "/v1/sms/inbound",
            sms("f2", grace_phone, "C2"),
            200,
            Any,
        )
        .await?;
    assert_eq!(done["result"]["confirmed"], true, "{done}");
    let (_, sons) = api
        .call(
            "GET",
            &format!("/v1/patients/{son}/appointments"),
            Some("demo-scheduler"),
            None,
        )
        .await?;
    assert_eq!(sons[0]["confirmed"], true);
    let (_, graces) = api
        .call(
            "GET",
            &format!("/v1/patients/{grace}/appointments"),
            Some(&grace_t),
            None,
        )
        .await?;
    assert!(
        graces
            .as_array()
            .ok_or("array")?
            .iter()
            .all(|a| a["confirmed"] == false)
    );
    // STOP opts the number out for both.
    let stop = api
        .check(
            gw,
            "POST",
            "/v1/sms/inbound",
            sms("f3", grace_phone, "STOP"),
            200,
            Changed,
        )
        .await?;
    assert_eq!(stop["result"]["patients"], 2, "{stop}");
    api.record_journal("trust_sms_identity")?;
    Ok(())
}

/// Items 9–11: one claim per visit, units capped, idempotent payments, no overpayment, a
/// duplicate remittance goes to the work queue.
#[tokio::test]
async fn money_is_billed_once_paid_once_and_remitted_once() -> TestResult {
    let api = Api::new()?;
    let (maria, maria_t) = (api.id(0), api.token(0));
    let m = Some(maria_t.as_str());
    let list = api.appointments(0).await?;
    let ap = list[0]["id"].as_str().ok_or("id")?.to_string();
    let start: Timestamp = list[0]["start"].as_str().ok_or("start")?.parse()?;
    let charges = format!("/v1/appointments/{ap}/charges");
    let codes = json!({"codes": ["99214", "93000"]});
    let billing = Some("demo-billing");
    // Not before the visit took place.
    api.check(
        billing,
        "POST",
        &charges,
        Some(codes.clone()),
        409,
        Unchanged,
    )
    .await?;
    api.clock.set(start - TimeDelta::minutes(5));
    api.check(
        Some("demo-reception"),
        "POST",
        &format!("/v1/appointments/{ap}/check-in"),
        None,
        200,
        Changed,
    )
    .await?;
    api.check(
        billing,
        "POST",
        &charges,
        Some(codes.clone()),
        409,
        Unchanged,
    )
    .await?;
    api.check(
        Some("demo-clinician"),
        "POST",
        &format!("/v1/appointments/{ap}/complete"),
        None,
        200,
        Any,
    )
    .await?;
    let twenty = json!({"codes": vec!["99214"; 20]});
    let rows: Vec<(Option<&str>, String, Value, u16, Effect)> = vec![
        (billing, charges.clone(), twenty, 400, Unchanged),
        (m, charges.clone(), codes.clone(), 403, Unchanged),
        (
            Some("demo-admin"),
            charges.clone(),
            codes.clone(),
            403,
            Unchanged,
        ),
        (billing, charges.clone(), codes.clone(), 201, Changed),
    ];
    for (who, uri, body, want, effect) in rows {
        api.check(who, "POST", &uri, Some(body), want, effect)
            .await?;
    }
    // Charging again: 409 with the existing claim; a replacement must name it.
    let again = api
        .check(
            billing,
            "POST",
            &charges,
            Some(codes.clone()),
            409,
            Unchanged,
        )
        .await?;
    let claim = again["error"]["existing"]
        .as_str()
        .ok_or("existing claim")?
        .to_string();
    let other_claim = uuid::Uuid::now_v7().to_string();
    api.check(
        billing,
        "POST",
        &charges,
        Some(json!({"codes": ["99213"], "replaces": other_claim})),
        409,
        Unchanged,
    )
    .await?;
    let fixed = api
        .check(
            billing,
            "POST",
            &charges,
            Some(json!({"codes": ["99214", "93000"], "replaces": claim})),
            201,
            Any,
        )
        .await?;
    assert_eq!(fixed["replaces"], claim.as_str());

    // The payer's 835 pays the corrected claim (control BSD0002): Maria owes 46.00.
    api.clock.advance(TimeDelta::days(7));
    let remit = include_str!("data/visit.835").replace("CLP*BSD0001*", "CLP*BSD0002*");
    let (status, posted) = api
        .send(
            "POST",
            "/v1/billing/remittance",
            billing,
            &[],
            remit.clone().into_bytes(),
        )
        .await?;
    assert_eq!(
        (status, posted["claims_matched"].as_u64()),
        (200, Some(1)),
        "{posted}"
    );
    // The same payment again under a new trace number: not posted again, queued instead.
    let replayed = remit.replace("EFT20260610A", "EFT20260612B");
    let before = api.snapshot().await?;
    let (status, dup) = api
        .send(
            "POST",
            "/v1/billing/remittance",
            billing,
            &[],
            replayed.into_bytes(),
        )
        .await?;
    assert_eq!(status, 200, "{dup}");
    let after = api.snapshot().await?;
    assert_eq!(
        before[&maria]["balance"], after[&maria]["balance"],
        "the patient's share did not double"
    );
    let queue = after["work_queue"].as_array().ok_or("queue")?;
    assert!(
        queue.iter().any(|w| w["reason"] == "duplicate_payment"),
        "{queue:?}"
    );

    // Payments: idempotent, never to a non-patient, never above the balance (but a credit).
    let pay = format!("/v1/patients/{maria}/payments");
    let key = [("idempotency-key", "pay-1")];
    let first = api
        .check_with(
            &key,
            (
                m,
                "POST",
                pay.clone(),
                Some(json!({"amount_minor": 1_000})),
                201,
                Changed,
            ),
        )
        .await?;
    let retry = api
        .check_with(
            &key,
            (
                m,
                "POST",
                pay.clone(),
                Some(json!({"amount_minor": 1_000})),
                201,
                Unchanged,
            ),
        )
        .await?;
    assert_eq!(first, retry, "a retry returns the first answer");
    api.check_with(
        &key,
        (
            m,
            "POST",
            pay.clone(),
            Some(json!({"amount_minor": 2_000})),
            409,
            Unchanged,
        ),
    )
    .await?;
    // Another patient's key of the same name is theirs alone.
    let unknown = uuid::Uuid::now_v7().to_string();
    let rows: Vec<(Option<&str>, String, Value, u16, Effect)> = vec![
        (
            billing,
            format!("/v1/patients/{unknown}/payments"),
            json!({"amount_minor": 100}),
            404,
            Unchanged,
        ),
        (
            m,
            format!("/v1/patients/{unknown}/payments"),
            json!({"amount_minor": 100}),
            403,
            Unchanged,
        ),
        (
            m,
            pay.clone(),
            json!({"amount_minor": 3_601}),
            409,
            Unchanged,
        ),
        (
            m,
            pay.clone(),
            json!({"amount_minor": 100, "credit": true}),
            403,
            Unchanged,
        ),
        (m, pay.clone(), json!({"amount_minor": 0}), 400, Unchanged),
        (
            billing,
            pay.clone(),
            json!({"amount_minor": 5_000, "credit": true}),
            201,
            Changed,
        ),
    ];
    for (who, uri, body, want, effect) in rows {
        api.check(who, "POST", &uri, Some(body), want, effect)
            .await?;
    }
    api.record_journal("trust_money")?;
    Ok(())
}

/// Item 12: bookings are re-derived from the server's own slot search; tokens per patient.
#[tokio::test]
async fn bookings_are_rederived_and_tokens_are_per_patient() -> TestResult {
    let api = Api::new()?;
    let (grace, grace_t) = (api.id(4), api.token(4));
    let (henry, henry_t) = (api.id(5), api.token(5));
    let g = Some(grace_t.as_str());
    let slot = api.slots("gp-visit", "2026-06-15T13:00:00Z").await?[0].clone();
    let shift = |field: &str, minutes: i64| -> Res<Value> {
        let mut o = slot.clone();
        for end in ["start", "end"] {
            let t: Timestamp = o["period"][end].as_str().ok_or("t")?.parse()?;
            let t = if field == "past" {
                t - TimeDelta::days(30)
            } else {
                t + TimeDelta::minutes(minutes)
            };
            o["period"][end] = json!(t);
        }
        Ok(o)
    };
    let soon = {
        // Inside the 60-minute minimum notice: a period starting 30 minutes from now.
        let mut o = slot.clone();
        let start = api.now() + TimeDelta::minutes(30);
        o["period"]["start"] = json!(start);
        o["period"]["end"] = json!(start + TimeDelta::minutes(15));
        o
    };
    let book = format!("/v1/patients/{grace}/appointments");
    let rows: Vec<(Value, &str, u16, Effect)> = vec![
        (shift("past", 0)?, "t1", 409, Unchanged),
        (shift("later", 5)?, "t2", 409, Unchanged),
        (soon, "t3", 409, Unchanged),
        (
            json!({"appointment_type": "gp-visit", "provider": slot["provider"], "room": slot["room"], "period": slot["period"], "score": -1_000_000}),
            "checkout-1",
            201,
            Changed,
        ),
    ];
    for (option, token, want, effect) in rows {
        api.check(
            g,
            "POST",
            &book,
            Some(json!({"option": option, "client_token": token})),
            want,
            effect,
        )
        .await?;
    }
    // A reschedule is re-derived the same way.
    let booked = api.appointments(4).await?;
    let mine = booked
        .iter()
        .find(|a| a["status"] == "booked")
        .ok_or("booked")?["id"]
        .as_str()
        .ok_or("id")?
        .to_string();
    let moved = api.slots("gp-visit", "2026-06-18T13:00:00Z").await?[0].clone();
    let mut edited = moved.clone();
    edited["period"]["start"] = json!("2026-06-18T02:00:00Z");
    edited["period"]["end"] = json!("2026-06-18T02:15:00Z");
    let uri = format!("/v1/appointments/{mine}/reschedule");
    api.check(
        g,
        "POST",
        &uri,
        Some(json!({"option": edited})),
        409,
        Unchanged,
    )
    .await?;
    api.check(
        g,
        "POST",
        &uri,
        Some(json!({"option": moved})),
        200,
        Changed,
    )
    .await?;
    // Henry's own "checkout-1" is his: another slot books fine.
    let other = api.slots("gp-visit", "2026-06-16T13:00:00Z").await?[0].clone();
    api.check(
        Some(&henry_t),
        "POST",
        &format!("/v1/patients/{henry}/appointments"),
        Some(json!({"option": other, "client_token": "checkout-1"})),
        201,
        Changed,
    )
    .await?;
    Ok(())
}

/// Item 13: vitals uploads are checked by parsing, bounded in time and per day.
#[tokio::test]
async fn vitals_uploads_are_parsed_bounded_and_limited() -> TestResult {
    let api = Api::new()?;
    let (james, t) = (api.id(1), api.token(1));
    let (other, _) = (api.id(2), api.token(2));
    let me = Some(t.as_str());
    api.check(
        Some("demo-nurse"),
        "POST",
        &format!("/v1/patients/{james}/discharge"),
        None,
        200,
        Any,
    )
    .await?;
    let line = |patient: &str, at: &str, value: u32| {
        format!(
            r#"{{"patient":"{patient}","kind":"heart_rate","at":"{at}","value":{value},"unit":"/min","source":"manual"}}"#
        )
    };
    let uri = format!("/v1/patients/{james}/vitals");
    let (api, uri) = (&api, uri.as_str());
    let post =
        |body: String| async move { api.send("POST", uri, me, &[], body.into_bytes()).await };
    // A space after the colon is still the same patient.
    let spaced = format!(
        r#"{{"patient": "{james}", "kind":"heart_rate","at":"2026-06-08T12:00:00Z","value":71,"unit":"/min","source":"manual"}}"#
    );
    let (status, r) = post(spaced).await?;
    assert_eq!((status, r["accepted"].as_u64()), (200, Some(1)), "{r}");
    // Another patient's id smuggled elsewhere in the line does not pass.
    let smuggled = format!(
        r#"{{"patient":"{other}","kind":"heart_rate","at":"2026-06-08T12:01:00Z","value":72,"unit":"/min","source":"manual","note":"\"patient\":\"{james}\""}}"#
    );
    let (status, _) = post(smuggled).await?;
    assert_eq!(status, 400);
    let repeated = format!(
        r#"{{"patient":"{other}","patient":"{james}","kind":"heart_rate","at":"2026-06-08T12:02:00Z","value":72,"unit":"/min","source":"manual"}}"#
    );
    let (status, _) = post(repeated).await?;
    assert_eq!(status, 400);
    // Before 1900 or more than a day ahead: rejected with the line number.
    let body = [
        line(&james, "1899-12-31T23:00:00Z", 70),
        line(&james, "2026-06-10T12:00:00Z", 70),
        line(&james, "2026-06-08T12:05:00Z", 70),
    ]
    .join("\n");
    let (status, r) = post(body).await?;
    assert_eq!(status, 200);
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(2)),
        "{r}"
    );
    let lines: Vec<u64> = r["rejections"]
        .as_array()
        .ok_or("r")?
        .iter()
        .filter_map(|x| x["record"].as_u64())
        .collect();
    assert_eq!(lines, vec![1, 2]);
    // The daily limit (24 uploads): 429 with Retry-After, nothing stored.
    // Two uploads so far today (the refused ones do not count); 22 more reach the limit.
    for i in 0..22 {
        let (status, _) = post(line(&james, "2026-06-08T11:00:00Z", 60 + i)).await?;
        assert_eq!(status, 200);
    }
    let (status, body) = api
        .send(
            "POST",
            uri,
            me,
            &[],
            line(&james, "2026-06-08T10:00:00Z", 80).into_bytes(),
        )
        .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    // The next UTC day starts a new count (only the latest day's count is kept).
    api.clock.advance(TimeDelta::days(1));
    let (status, r) = post(line(&james, "2026-06-09T11:00:00Z", 81)).await?;
    assert_eq!((status, r["accepted"].as_u64()), (200, Some(1)), "{r}");
    Ok(())
}

/// Items 14, 16, 18, 19: registration reveals nothing; names and periods are checked; tokens
/// are long and random; errors never echo the request.
#[tokio::test]
async fn registration_names_periods_tokens_and_errors() -> TestResult {
    let api = Api::new()?;
    let register = |given: &str, family: &str, birth: &str| json!({"given": [given], "family": family, "birth_date": birth, "email": "x@example.org"});
    let (_, fresh) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(register("Noor", "Haddad", "1993-02-11")),
        )
        .await?;
    let (_, dup) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(register("Maria", "Delgado", "1958-03-14")),
        )
        .await?;
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&fresh), keys(&dup));
    assert_eq!(fresh["phone_verification"], dup["phone_verification"]);
    let (_, queue) = api
        .call("GET", "/v1/duplicates", Some("demo-reception"), None)
        .await?;
    assert_eq!(
        queue.as_array().map(Vec::len),
        Some(1),
        "the duplicate went to staff"
    );
    // Whoever registered as an existing patient got a new, empty record: the matcher's find
    // gives that token nothing of the patient it resembles, nor the staff queue that names it.
    let dup_t = dup["token"].as_str().ok_or("token")?;
    let maria = api.id(0);
    for (uri, want) in [
        (format!("/v1/patients/{maria}"), 403),
        (format!("/v1/patients/{maria}/appointments"), 403),
        ("/v1/duplicates".to_string(), 403),
    ] {
        api.check(Some(dup_t), "GET", &uri, None, want, Unchanged)
            .await?;
    }
    // Tokens: 256 random bits in hex, nothing of the id in them.
    let token = fresh["token"].as_str().ok_or("token")?;
    let id = fresh["patient"].as_str().ok_or("id")?.replace('-', "");
    assert_eq!(token.len(), 3 + 64);
    assert!(!token.contains(&id[..12]) && !token.contains(&id[20..]));
    let bidi = register("Ali\u{202E}ce", "Smith", "1990-01-01");
    let control = register("Bob", "Sm\u{0007}ith", "1990-01-01");
    let unavailable = format!("/v1/providers/{}/unavailable", api.demo.providers[0]);
    let maria_t = api.token(0);
    let rows: Vec<(Option<&str>, &str, String, Value, u16)> = vec![
        (None, "POST", "/v1/register".into(), bidi, 400),
        (None, "POST", "/v1/register".into(), control, 400),
        (
            Some("demo-scheduler"),
            "POST",
            unavailable.clone(),
            json!({"start": "2026-06-09T10:00:00Z", "end": "2026-06-09T10:00:00Z"}),
            400,
        ),
        (
            Some("demo-scheduler"),
            "POST",
            unavailable.clone(),
            json!({"start": "0000-01-01T00:00:00Z", "end": "0000-01-02T00:00:00Z"}),
            400,
        ),
        (
            Some(&maria_t),
            "POST",
            format!("/v1/patients/{}/proxies", api.id(0)),
            json!({"classes": ["SECRET-CLASS-NAME"], "relationship": "caregiver"}),
            400,
        ),
    ];
    for (who, method, uri, body, want) in rows {
        let value = api
            .check(who, method, &uri, Some(body), want, Unchanged)
            .await?;
        let text = value.to_string();
        assert!(
            !text.contains("SECRET") && !text.contains("Ali") && !text.contains("Sm"),
            "{text}"
        );
    }
    let (status, v) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&SECRETPARAM=1",
            None,
            None,
        )
        .await?;
    assert_eq!(status, 400);
    assert!(!v.to_string().contains("SECRET"));
    let (status, _) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&from=0000-01-01T00:00:00Z",
            None,
            None,
        )
        .await?;
    assert_eq!(status, 400);
    Ok(())
}

/// Item 15: rate limits answer 429 with Retry-After, stricter for anonymous endpoints.
#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() -> TestResult {
    let minute = std::time::Duration::from_secs(60);
    let limits = RateLimits {
        anonymous_per_address: Some(Quota::new(2, minute)?),
        per_token: Some(Quota::new(4, minute)?),
        ..RateLimits::disabled()
    };
    let api = Api::with_limits(&limits)?;
    for _ in 0..2 {
        assert_eq!(api.call("GET", "/v1/providers", None, None).await?.0, 200);
    }
    let (status, body) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({"given": ["A"], "family": "B", "birth_date": "1990-01-01"})),
        )
        .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    // The authenticated group has its own, larger bucket per token.
    let t = "fresh-token";
    let (patient, until) = (api.demo.patients[5].0, api.now() + TimeDelta::days(1));
    api.blocking(move |c| c.store_token(t, &bedside_clinic::Principal::Patient { patient }, until))
        .await??;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(api.call("GET", "/v1/outbox", Some(t), None).await?.0);
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
    Ok(())
}

/// Item 17: a payment edited in the journal is found at start; the clinic then serves reads,
/// refuses writes (503 `degraded`) and tells the privacy officer which range broke.
#[tokio::test]
async fn an_edited_journal_puts_the_clinic_in_read_only_mode() -> TestResult {
    let dir = std::env::temp_dir().join(format!("bedside-trust-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("clinic.db");
    let clock = Arc::new(ManualClock::new(START.parse()?));
    let open = |clock: Arc<ManualClock>| -> Res<Arc<Clinic>> {
        let store = SqliteStore::open(&db, bedside_clinic::Durability::Normal)?;
        Ok(Arc::new(Clinic::open(
            Box::new(store),
            clock,
            ClinicConfig::default(),
        )?))
    };
    let clinic = open(clock.clone())?;
    let demo = seed::seed(&clinic)?;
    let (patient, token) = demo.patients[0].clone();
    let billing = seed::demo_staff("billing")?;
    clinic.pay(
        &billing,
        patient,
        &bedside_clinic::PaymentRequest {
            amount_minor: 1_000,
            client_token: None,
            credit: true,
        },
    )?;
    drop(clinic);
    // 10.00 becomes 1,000.00 in the journal.
    let conn = rusqlite::Connection::open(&db)?;
    let edited = conn.execute(
        "UPDATE commands SET body = replace(body, '\"amount_minor\":1000,', '\"amount_minor\":100000,') WHERE kind = 'payment'",
        [],
    )?;
    assert_eq!(edited, 1);
    drop(conn);
    let clinic = open(clock)?;
    assert!(clinic.degraded().is_some());
    let router = http::router_with(clinic.clone(), &RateLimits::disabled());
    let api = Api {
        router,
        clinic,
        clock: Arc::new(ManualClock::new(START.parse()?)),
        demo,
        _cluster: None,
    };
    let (status, health) = api.call("GET", "/health", None, None).await?;
    assert_eq!((status, health["status"].as_str()), (200, Some("degraded")));
    api.check(
        Some(&token),
        "GET",
        &format!("/v1/patients/{patient}"),
        None,
        200,
        Any,
    )
    .await?;
    let body = api
        .check(
            Some("demo-billing"),
            "POST",
            &format!("/v1/patients/{patient}/payments"),
            Some(json!({"amount_minor": 500, "credit": true})),
            503,
            Unchanged,
        )
        .await?;
    assert_eq!(body["error"]["code"], "degraded");
    let (status, report) = api
        .call("GET", "/v1/audit/verify", Some("demo-privacy"), None)
        .await?;
    assert_eq!(
        (status, report["verified"].as_bool()),
        (200, Some(false)),
        "{report}"
    );
    assert!(report["broken"]["first_bad_batch"].is_u64(), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Item 13: the journal keeps what was stored, not the raw upload.
#[tokio::test]
async fn the_journal_keeps_stored_readings_not_raw_uploads() -> TestResult {
    let dir = std::env::temp_dir().join(format!("bedside-trust-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("clinic.db");
    let clock = Arc::new(ManualClock::new(START.parse()?));
    let store = SqliteStore::open(&db, bedside_clinic::Durability::Normal)?;
    let clinic = Arc::new(Clinic::open(
        Box::new(store),
        clock.clone(),
        ClinicConfig::default(),
    )?);
    let demo = seed::seed(&clinic)?;
    let (james, token) = demo.patients[1].clone();
    let nurse = seed::demo_staff("nurse")?;
    clinic.discharge(&nurse, james)?;
    let line = format!(
        r#"{{"patient":"{james}","kind":"heart_rate","at":"2026-06-08T12:00:00Z","value":70,"unit":"/min","source":"manual"}}"#
    );
    // One new reading, then 2,000 copies of it: duplicates only.
    let me = clinic.authenticate(&token)?;
    clinic.upload_vitals(&me, james, &line)?;
    let copies = vec![line.as_str(); 2_000].join("\n");
    let report = clinic.upload_vitals(&me, james, &copies)?;
    assert_eq!((report.accepted, report.duplicate), (0, 2_000));
    let conn = rusqlite::Connection::open(&db)?;
    let sizes: Vec<i64> = conn
        .prepare("SELECT length(body) FROM commands WHERE kind = 'vitals' ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(sizes.len(), 2);
    assert!(
        sizes[1] < 400,
        "a duplicate-only upload journals {} bytes",
        sizes[1]
    );
    assert!(copies.len() > 200_000);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Holds (issue 14): one patient cannot be in two places, and a taken provider time cannot be
/// taken again by anyone — refused with 409 and nothing changed. (The database's own
/// enforcement, against a writer that bypassed this process, is `tests/holds.rs`.)
#[tokio::test]
async fn one_time_is_booked_once_per_provider_and_per_patient() -> TestResult {
    let api = Api::new()?;
    let (grace, grace_t) = (api.id(4), api.token(4));
    let (henry, henry_t) = (api.id(5), api.token(5));
    let g = Some(grace_t.as_str());
    let slots = api.slots("gp-visit", "2026-06-15T13:00:00Z").await?;
    let first = slots.first().ok_or("no slot")?.clone();
    let twin = slots
        .iter()
        .find(|o| o["provider"] != first["provider"] && o["period"] == first["period"])
        .ok_or("no second provider at the same time")?
        .clone();
    let book = format!("/v1/patients/{grace}/appointments");
    api.check(
        g,
        "POST",
        &book,
        Some(json!({"option": first, "client_token": "hold-1"})),
        201,
        Changed,
    )
    .await?;
    let rows: Vec<(Option<&str>, String, Value, u16, Effect)> = vec![
        // The same patient at the same time with another provider.
        (
            g,
            book.clone(),
            json!({"option": twin, "client_token": "hold-2"}),
            409,
            Unchanged,
        ),
        // The taken provider time, for another patient.
        (
            Some(henry_t.as_str()),
            format!("/v1/patients/{henry}/appointments"),
            json!({"option": first, "client_token": "hold-3"}),
            409,
            Unchanged,
        ),
    ];
    for (who, uri, body, want, effect) in rows {
        api.check(who, "POST", &uri, Some(body), want, effect)
            .await?;
    }
    Ok(())
}
