//! HTTP-level journeys, reliability and bad-input tests, driven in-process with
//! `tower::ServiceExt::oneshot` against an in-memory (or temporary-file) database.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{Clinic, ClinicConfig, Durability, SqliteStore, Store, http};
use bedside_core::{ManualClock, Timestamp};
use chrono::TimeDelta;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Monday 8 June 2026, 09:00 in New York.
const START: &str = "2026-06-08T13:00:00Z";

struct Api {
    router: Router,
    clinic: Arc<Clinic>,
    clock: Arc<ManualClock>,
    demo: Demo,
}

impl Api {
    fn with_store(store: Box<dyn Store>) -> Result<Self, Box<dyn std::error::Error>> {
        let clock = Arc::new(ManualClock::new(START.parse()?));
        let clinic = Arc::new(Clinic::open(store, clock.clone(), ClinicConfig::default())?);
        let demo = seed::seed(&clinic)?;
        Ok(Api {
            router: http::router_with(
                clinic.clone(),
                &bedside_clinic::limits::RateLimits::disabled(),
            ),
            clinic,
            clock,
            demo,
        })
    }

    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        Self::with_store(Box::new(SqliteStore::in_memory()?))
    }

    fn patient(&self, i: usize) -> (String, String) {
        let (id, token) = &self.demo.patients[i];
        (id.to_string(), token.clone())
    }

    async fn raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
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
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok((status, value))
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.raw(method, uri, token, &[], bytes).await
    }

    /// Writes this journey's journal to `tests/data/journal/<name>.tsv` when
    /// `BEDSIDE_RECORD_JOURNALS` is set: the fixtures `tests/journal_format.rs` replays. One
    /// command per line, `instant TAB kind TAB body`, bodies exactly as stored.
    fn record_journal(&self, name: &str) -> TestResult {
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
}

fn local_hour(at: &str) -> Result<u32, Box<dyn std::error::Error>> {
    use chrono::Timelike;
    let t: Timestamp = at.parse()?;
    Ok(t.with_timezone(&chrono_tz::America::New_York).hour())
}

#[tokio::test]
async fn health_answers_once_ready() -> TestResult {
    let api = Api::new()?;
    let (status, body) = api.call("GET", "/health", None, None).await?;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["set_up"], true);
    Ok(())
}

/// Journey 4: find slots → book → reminders on the preferred channels outside quiet hours →
/// "C" confirms, "R" offers new slots, STOP opts out; a sick provider's day is repaired and
/// the patients notified.
#[tokio::test]
async fn journey_online_booking_reminders_and_sms_replies() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(4); // Grace: SMS and e-mail, nothing booked yet
    let t = Some(token.as_str());

    // Quiet hours first, as a self-service change.
    let (_, me) = api
        .call("GET", &format!("/v1/patients/{id}"), t, None)
        .await?;
    let version = me["version"].as_u64().ok_or("version")?;
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/v1/patients/{id}"),
            t,
            Some(json!({"base_version": version, "quiet_hours": ["21:00", "08:00"]})),
        )
        .await?;
    assert_eq!(status, 200);

    let (status, slots) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-follow-up&limit=3&from=2026-06-10T12:00:00Z",
            t,
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let options = slots.as_array().ok_or("array")?;
    assert_eq!(options.len(), 3);
    let option = options[0].clone();

    let body = json!({"option": option, "client_token": "checkout-1"});
    let (status, booked) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/appointments"),
            t,
            Some(body.clone()),
        )
        .await?;
    assert_eq!(status, 201, "{booked}");
    let appointment = booked["appointment"].as_str().ok_or("id")?.to_string();
    // A retried checkout returns the same booking.
    let (status, again) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/appointments"),
            t,
            Some(body),
        )
        .await?;
    assert_eq!(
        (status, &again["appointment"]),
        (201, &booked["appointment"])
    );

    // Reminders: both channels, none inside quiet hours (21:00–08:00 local).
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    let reminders: Vec<&Value> = outbox
        .as_array()
        .ok_or("array")?
        .iter()
        .filter(|m| m["purpose"] == format!("appointment-reminders:{appointment}"))
        .collect();
    assert!(reminders.iter().any(|m| m["channel"] == "sms"));
    assert!(reminders.iter().any(|m| m["channel"] == "email"));
    for m in &reminders {
        let h = local_hour(m["send_at"].as_str().ok_or("send_at")?)?;
        assert!((8..21).contains(&h), "reminder at local hour {h}");
    }

    // "C" from her phone confirms.
    // Each inbound message carries the gateway's own id.
    let sent = std::cell::Cell::new(0);
    let sms = |body: &str| {
        sent.set(sent.get() + 1);
        json!({"message_id": format!("gw-{}", sent.get()), "from": "+1 212 555 0146", "body": body})
    };
    let (status, reply) = api
        .call(
            "POST",
            "/v1/sms/inbound",
            Some("demo-sms-gateway"),
            Some(sms("C")),
        )
        .await?;
    assert_eq!((status, reply["intent"].as_str()), (200, Some("confirm")));
    let (_, list) = api
        .call("GET", &format!("/v1/patients/{id}/appointments"), t, None)
        .await?;
    assert_eq!(list[0]["confirmed"], true);

    // "R" offers new slots by SMS.
    let (_, reply) = api
        .call(
            "POST",
            "/v1/sms/inbound",
            Some("demo-sms-gateway"),
            Some(sms("R")),
        )
        .await?;
    assert_eq!(reply["intent"], "reschedule");
    assert!(
        !reply["result"]["options"]
            .as_array()
            .ok_or("options")?
            .is_empty()
    );
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    assert!(outbox.as_array().ok_or("array")?.iter().any(|m| {
        m["purpose"] == "notice"
            && m["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("New times available"))
    }));

    // Only the gateway may post inbound SMS.
    let (status, _) = api
        .call("POST", "/v1/sms/inbound", t, Some(sms("C")))
        .await?;
    assert_eq!(status, 403);

    // The provider calls in sick that day: the appointment is repaired, the patient notified.
    let provider = option["provider"].as_str().ok_or("provider")?;
    let start: Timestamp = option["period"]["start"].as_str().ok_or("start")?.parse()?;
    let day = start - TimeDelta::hours(6);
    let (status, repair) = api
        .call(
            "POST",
            &format!("/v1/providers/{provider}/unavailable"),
            Some("demo-scheduler"),
            Some(json!({"start": day, "end": day + TimeDelta::hours(18)})),
        )
        .await?;
    assert_eq!(status, 200, "{repair}");
    assert!(repair["notified"].as_u64().ok_or("notified")? >= 1);
    let moved = repair["moved"].as_array().ok_or("moved")?;
    let unplaced = repair["unplaced"].as_array().ok_or("unplaced")?;
    assert!(
        moved
            .iter()
            .any(|m| m["appointment"] == appointment.as_str())
            || unplaced.iter().any(|u| u == appointment.as_str()),
        "{repair}"
    );
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    assert!(outbox.as_array().ok_or("array")?.iter().any(|m| {
        m["purpose"] == "notice"
            && m["body"]
                .as_str()
                .is_some_and(|b| b.contains("unavailable"))
    }));
    // A patient cannot call a provider in sick.
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/providers/{provider}/unavailable"),
            t,
            Some(json!({"start": day, "end": day + TimeDelta::hours(18)})),
        )
        .await?;
    assert_eq!(status, 403);

    // STOP: pending SMS withdrawn, later bookings get no SMS.
    let (_, reply) = api
        .call(
            "POST",
            "/v1/sms/inbound",
            Some("demo-sms-gateway"),
            Some(sms("stop")),
        )
        .await?;
    assert_eq!(reply["intent"], "stop");
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    assert!(
        outbox
            .as_array()
            .ok_or("array")?
            .iter()
            .all(|m| m["channel"] != "sms")
    );
    let (_, slots) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-16T14:00:00Z",
            t,
            None,
        )
        .await?;
    let (status, second) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/appointments"),
            t,
            Some(json!({"option": slots[0], "client_token": "checkout-2"})),
        )
        .await?;
    assert_eq!(status, 201);
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    let second_id = second["appointment"].as_str().ok_or("id")?;
    let channels: Vec<&Value> = outbox
        .as_array()
        .ok_or("array")?
        .iter()
        .filter(|m| m["purpose"] == format!("appointment-reminders:{second_id}"))
        .map(|m| &m["channel"])
        .collect();
    assert!(!channels.is_empty() && channels.iter().all(|c| *c == "email"));

    // Delivery marks due messages sent.
    api.clock.advance(TimeDelta::days(30));
    let notifier = bedside_clinic::MemoryNotifier::default();
    let sent = api.clinic.deliver_due(&notifier)?;
    assert_eq!(sent, notifier.sent().len());
    assert!(sent > 0);
    api.record_journal("online_booking_reminders_and_sms_replies")?;
    Ok(())
}

/// Journey 3: a proxy (adult child) with appointments and billing only sees appointments and
/// is refused clinical notes; a clinician's break-the-glass read is allowed, audited and
/// queued for review; the patient sees every access in their accounting.
#[tokio::test]
async fn journey_consent_proxy_break_glass_and_disclosures() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(0);
    let t = Some(token.as_str());

    let (status, grant) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/proxies"),
            t,
            Some(json!({"classes": ["appointments", "billing"], "relationship": "adult-child"})),
        )
        .await?;
    assert_eq!(status, 201, "{grant}");
    let proxy = grant["token"].as_str().ok_or("token")?.to_string();
    let p = Some(proxy.as_str());
    let (status, list) = api
        .call("GET", &format!("/v1/patients/{id}/appointments"), p, None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().ok_or("array")?.len(), 1);
    // Billing was granted too: the statement is readable.
    let (status, _) = api
        .call("GET", &format!("/v1/patients/{id}/statement"), p, None)
        .await?;
    assert_eq!(status, 200);
    let (status, refused) = api
        .call("GET", &format!("/v1/patients/{id}/notes"), p, None)
        .await?;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = api
        .call("GET", &format!("/v1/patients/{id}"), p, None)
        .await?;
    assert_eq!(status, 403);
    // Only the patient grants proxies; a proxy cannot reach another patient.
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/proxies"),
            p,
            Some(json!({"classes": ["appointments"], "relationship": "caregiver"})),
        )
        .await?;
    assert_eq!(status, 403);
    let (other, _) = api.patient(1);
    let (status, _) = api
        .call(
            "GET",
            &format!("/v1/patients/{other}/appointments"),
            p,
            None,
        )
        .await?;
    assert_eq!(status, 403);

    // Her GP (care team: the provider she is booked with) writes a note.
    let provider: bedside_core::ProviderId =
        list[0]["provider"].as_str().ok_or("provider")?.parse()?;
    let gp =
        bedside_clinic::Clinic::staff_principal(&[bedside_core::Role::CLINICIAN], Some(provider));
    api.clinic
        .store_token("gp-token", &gp, api.clock_now() + TimeDelta::days(1))?;
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/notes"),
            Some("gp-token"),
            Some(json!({"text": "Follow-up in two weeks."})),
        )
        .await?;
    assert_eq!(status, 201);
    let (status, notes) = api
        .call(
            "GET",
            &format!("/v1/patients/{id}/notes"),
            Some("gp-token"),
            None,
        )
        .await?;
    assert_eq!((status, notes.as_array().map(Vec::len)), (200, Some(1)));

    // An emergency clinician outside the care team: refused, then break-the-glass.
    let er = bedside_clinic::Clinic::staff_principal(&[bedside_core::Role::CLINICIAN], None);
    api.clinic
        .store_token("er-token", &er, api.clock_now() + TimeDelta::days(1))?;
    let (status, _) = api
        .call(
            "GET",
            &format!("/v1/patients/{id}/notes"),
            Some("er-token"),
            None,
        )
        .await?;
    assert_eq!(status, 403);
    let (status, notes) = api
        .raw(
            "GET",
            &format!("/v1/patients/{id}/notes"),
            Some("er-token"),
            &[("x-break-glass", "unresponsive on arrival, history unknown")],
            Vec::new(),
        )
        .await?;
    assert_eq!((status, notes.as_array().map(Vec::len)), (200, Some(1)));

    // The privacy officer's review queue holds the break-the-glass read.
    let (status, reviews) = api
        .call("GET", "/v1/reviews", Some("demo-privacy"), None)
        .await?;
    assert_eq!(status, 200);
    let reviews = reviews.as_array().ok_or("array")?;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["patient"], id.as_str());
    let (status, _) = api
        .call("GET", "/v1/reviews", Some("er-token"), None)
        .await?;
    assert_eq!(status, 403);

    // The patient's accounting lists every access decision, the break-the-glass one marked.
    let (status, acct) = api
        .call("GET", &format!("/v1/patients/{id}/disclosures"), t, None)
        .await?;
    assert_eq!(status, 200);
    let accesses = acct["accesses"].as_array().ok_or("accesses")?;
    assert!(
        accesses
            .iter()
            .any(|a| a["break_glass"] == true && a["outcome"] == "permit")
    );
    // Refusals by the consent engine are in the history (the clinician outside the care
    // team); refusals at the endpoint gate (a proxy asking beyond its classes) never reach it.
    assert!(accesses.iter().any(|a| a["outcome"] == "deny"));
    let (status, v) = api
        .call("GET", "/v1/audit/verify", Some("demo-privacy"), None)
        .await?;
    assert_eq!((status, v["verified"].as_bool()), (200, Some(true)));
    api.record_journal("consent_proxy_break_glass_and_disclosures")?;
    Ok(())
}

impl Api {
    fn clock_now(&self) -> Timestamp {
        use bedside_core::Clock;
        self.clock.now()
    }
}

/// Journey 2: address and contact-preference change apply at once; a name change waits for
/// staff approval.
#[tokio::test]
async fn journey_self_service_and_name_change_request() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(4);
    let t = Some(token.as_str());
    let (_, me) = api
        .call("GET", &format!("/v1/patients/{id}"), t, None)
        .await?;
    let v1 = me["version"].as_u64().ok_or("version")?;

    let (status, applied) = api
        .call("PATCH", &format!("/v1/patients/{id}"), t, Some(json!({
            "base_version": v1,
            "address": {"lines": ["9 Bayard Street, Apt 3"], "city": "New York", "postal_code": "10013"},
            "sms_reminders": false,
        })))
        .await?;
    assert_eq!(status, 200, "{applied}");
    let v2 = applied["applied_version"].as_u64().ok_or("applied")?;
    assert_eq!(v2, v1 + 1);
    assert!(applied["pending_request"].is_null());
    let (_, me) = api
        .call("GET", &format!("/v1/patients/{id}"), t, None)
        .await?;
    assert_eq!(me["resource"]["address"][0]["postalCode"], "10013");

    // A stale edit is a conflict.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/v1/patients/{id}"),
            t,
            Some(json!({"base_version": v1, "email_reminders": false})),
        )
        .await?;
    assert_eq!(status, 409);

    // Name change: a request, not applied yet.
    let (status, req) = api
        .call(
            "PATCH",
            &format!("/v1/patients/{id}"),
            t,
            Some(json!({
                "base_version": v2, "name": {"given": ["Grace"], "family": "Mensah"}
            })),
        )
        .await?;
    assert_eq!(status, 200, "{req}");
    let request = req["pending_request"]
        .as_str()
        .ok_or("pending")?
        .to_string();
    let (_, me) = api
        .call("GET", &format!("/v1/patients/{id}"), t, None)
        .await?;
    assert_eq!(me["pending_requests"], 1);
    assert_ne!(me["resource"]["name"][0]["family"], "Mensah");

    // Staff see and approve it; the patient cannot approve their own.
    let (status, list) = api
        .call(
            "GET",
            &format!("/v1/patients/{id}/change-requests"),
            Some("demo-reception"),
            None,
        )
        .await?;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/change-requests/{request}/approve"),
            t,
            None,
        )
        .await?;
    assert_eq!(status, 403);
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/change-requests/{request}/approve"),
            Some("demo-reception"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let (_, me) = api
        .call("GET", &format!("/v1/patients/{id}"), t, None)
        .await?;
    assert_eq!(me["resource"]["name"][0]["family"], "Mensah");
    assert_eq!(me["pending_requests"], 0);
    api.record_journal("self_service_and_name_change_request")?;
    Ok(())
}

/// Journey 1: self-registration with a duplicate check; staff resolve the possible match.
#[tokio::test]
async fn journey_self_registration_with_duplicate_check() -> TestResult {
    let api = Api::new()?;
    // Invalid: every problem reported, by path, without echoing values.
    let (status, err) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({
                "given": [], "family": "", "birth_date": "14/03/1958"
            })),
        )
        .await?;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["details"].as_array().map(Vec::len), Some(3));
    assert!(!err.to_string().contains("14/03/1958"));

    // A new person: no match.
    let (status, fresh) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({
                "given": ["Noor"], "family": "Haddad", "birth_date": "1993-02-11",
                "phone": "+12125550190", "language": "ar"
            })),
        )
        .await?;
    assert_eq!(status, 201);
    // The anonymous answer never says whether the person already was a patient.
    assert!(fresh.get("possible_duplicate").is_none(), "{fresh}");
    let token = fresh["token"].as_str().ok_or("token")?;
    let (status, me) = api
        .call(
            "GET",
            &format!("/v1/patients/{}", fresh["patient"].as_str().ok_or("id")?),
            Some(token),
            None,
        )
        .await?;
    assert_eq!(
        (status, &me["resource"]["name"][0]["family"]),
        (200, &json!("Haddad"))
    );

    // Maria again, with a typo in the family name and the same birth date.
    let (status, again) = api
        .call(
            "POST",
            "/v1/register",
            None,
            Some(json!({
                "given": ["Maria"], "family": "Delgato", "birth_date": "1958-03-14"
            })),
        )
        .await?;
    assert_eq!(status, 201);
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&again), keys(&fresh), "same answer shape either way");
    let new_id = again["patient"].as_str().ok_or("id")?;

    let (status, cases) = api
        .call("GET", "/v1/duplicates", Some("demo-reception"), None)
        .await?;
    assert_eq!(status, 200);
    let cases = cases.as_array().ok_or("array")?;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["patient"], new_id);
    assert_eq!(cases[0]["existing"], api.patient(0).0.as_str());
    // The matcher's reasons come with the case: grade, score and every field's weight, and
    // no personal data.
    let grade = cases[0]["grade"].as_str().ok_or("grade")?;
    assert!(
        ["certain", "probable", "possible"].contains(&grade),
        "{grade}"
    );
    let score = cases[0]["score"].as_f64().ok_or("score")?;
    assert!((0.0..=1.0).contains(&score));
    let fields = cases[0]["explanation"]["fields"]
        .as_array()
        .ok_or("fields")?;
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == "birth_date" || f["field"] == "BirthDate"),
        "{fields:?}"
    );
    let text = cases[0].to_string();
    assert!(
        !text.contains("Delga") && !text.contains("1958") && !text.contains("Maria"),
        "{text}"
    );
    // Patients cannot see the queue.
    let (status, _) = api.call("GET", "/v1/duplicates", Some(token), None).await?;
    assert_eq!(status, 403);
    let (status, resolved) = api
        .call(
            "POST",
            &format!("/v1/duplicates/{new_id}/resolve"),
            Some("demo-reception"),
            Some(json!({"same_person": true})),
        )
        .await?;
    assert_eq!((status, &resolved["status"]), (200, &json!("same-person")));
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/duplicates/{new_id}/resolve"),
            Some("demo-reception"),
            Some(json!({"same_person": true})),
        )
        .await?;
    assert_eq!(status, 404);
    api.record_journal("self_registration_with_duplicate_check")?;
    Ok(())
}

/// Journey 7: discharge → home vitals as NDJSON → NEWS2/threshold alert in the nurse queue →
/// acknowledged.
#[tokio::test]
async fn journey_discharge_vitals_alert_and_acknowledgement() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(1);
    let t = Some(token.as_str());
    let line = |kind: &str, fields: &str| {
        format!(
            r#"{{"patient":"{id}","kind":"{kind}","at":"2026-06-08T09:02:00-04:00",{fields},"source":"app:bedside-home"}}"#
        )
    };
    let upload = [
        line("respiratory_rate", r#""value":27,"unit":"/min""#),
        line("oxygen_saturation", r#""value":89,"unit":"%""#),
        line("heart_rate", r#""value":128,"unit":"/min""#),
        line("body_temperature", r#""value":39.4,"unit":"Cel""#),
        line(
            "blood_pressure",
            r#""systolic":92,"diastolic":58,"unit":"mm[Hg]""#,
        ),
        format!(r#"{{"patient":"{id}","kind":"heart_rate","at""#),
    ]
    .join("\n");

    // Not yet under monitoring.
    let (status, _) = api
        .raw(
            "POST",
            &format!("/v1/patients/{id}/vitals"),
            t,
            &[],
            upload.clone().into_bytes(),
        )
        .await?;
    assert_eq!(status, 409);
    // Only clinicians or nurses discharge.
    let (status, _) = api
        .call("POST", &format!("/v1/patients/{id}/discharge"), t, None)
        .await?;
    assert_eq!(status, 403);
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/discharge"),
            Some("demo-nurse"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    api.clock.advance(TimeDelta::minutes(5));

    let (status, report) = api
        .raw(
            "POST",
            &format!("/v1/patients/{id}/vitals"),
            t,
            &[],
            upload.clone().into_bytes(),
        )
        .await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 5);
    assert_eq!(report["rejected"], 1);
    assert!(report["new_alerts"].as_u64().ok_or("alerts")? >= 1);

    // Someone else's readings are refused.
    let (other, _) = api.patient(2);
    let (status, _) = api
        .raw(
            "POST",
            &format!("/v1/patients/{other}/vitals"),
            t,
            &[],
            upload.into_bytes(),
        )
        .await?;
    assert_eq!(status, 403);

    let (status, queue) = api
        .call("GET", "/v1/alerts", Some("demo-nurse"), None)
        .await?;
    assert_eq!(status, 200);
    let queue = queue.as_array().ok_or("array")?;
    assert!(
        queue
            .iter()
            .any(|a| a["rule"].as_str().is_some_and(|r| r.contains("news2"))),
        "{queue:?}"
    );
    // The alert message is visible to a clinician of her care team (consent-checked, audited);
    // the demo nurse, in no care team, is refused.
    let (_, list) = api
        .call("GET", &format!("/v1/patients/{id}/appointments"), t, None)
        .await?;
    let provider: bedside_core::ProviderId =
        list[0]["provider"].as_str().ok_or("provider")?.parse()?;
    let gp =
        bedside_clinic::Clinic::staff_principal(&[bedside_core::Role::CLINICIAN], Some(provider));
    api.clinic
        .store_token("gp-token", &gp, api.clock_now() + TimeDelta::days(1))?;
    let uri = format!("/v1/outbox?status=pending&patient={id}");
    let (status, _) = api.call("GET", &uri, Some("demo-nurse"), None).await?;
    assert_eq!(status, 403);
    let (_, outbox) = api.call("GET", &uri, Some("gp-token"), None).await?;
    assert!(
        outbox
            .as_array()
            .ok_or("array")?
            .iter()
            .any(|m| m["purpose"] == "nurse-alert")
    );
    let (status, _) = api.call("GET", "/v1/alerts", t, None).await?;
    assert_eq!(status, 403);

    let open = queue.len();
    let first = queue[0]["alert"].as_str().ok_or("alert id")?;
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/alerts/{first}/ack"),
            Some("demo-nurse"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let (_, queue) = api
        .call("GET", "/v1/alerts", Some("demo-nurse"), None)
        .await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(open - 1));
    api.record_journal("discharge_vitals_alert_and_acknowledgement")?;
    Ok(())
}

/// 50 clients race for the same slot: exactly one booking succeeds, the others get a clear
/// conflict; then a mixed load of bookings and cancellations leaves nothing double-booked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_racing_bookings_of_one_slot_one_wins() -> TestResult {
    let api = Arc::new(Api::new()?);
    let mut tokens = Vec::new();
    for i in 0..50 {
        let (_, reg) = api
            .call(
                "POST",
                "/v1/register",
                None,
                Some(json!({
                    "given": [format!("Racer{i}")], "family": format!("Family{i}"),
                    "birth_date": format!("19{:02}-01-15", 40 + i)
                })),
            )
            .await?;
        tokens.push((
            reg["patient"].as_str().ok_or("id")?.to_string(),
            reg["token"].as_str().ok_or("token")?.to_string(),
        ));
    }
    let (_, slots) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-09T14:00:00Z",
            None,
            None,
        )
        .await?;
    let option = slots[0].clone();
    let mut tasks = Vec::new();
    for (i, (id, token)) in tokens.iter().cloned().enumerate() {
        let api = api.clone();
        let option = option.clone();
        tasks.push(tokio::spawn(async move {
            api.call(
                "POST",
                &format!("/v1/patients/{id}/appointments"),
                Some(&token),
                Some(json!({"option": option, "client_token": format!("race-{i}")})),
            )
            .await
            .map(|(s, b)| (s, b["error"]["code"].as_str().map(str::to_string)))
            .map_err(|e| e.to_string())
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await?? {
            (201, _) => created += 1,
            (409, Some(code)) if code == "conflict" => conflicts += 1,
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    assert_eq!((created, conflicts), (1, 49));

    // Mixed load: each client books its own search result and cancels every other booking.
    let mut tasks = Vec::new();
    for (i, (id, token)) in tokens.iter().cloned().enumerate().take(30) {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let r: Result<(), String> = async {
                let (_, slots) = api
                    .call(
                        "GET",
                        "/v1/slots?appointment_type=gp-follow-up&limit=3&from=2026-06-10T13:00:00Z",
                        None,
                        None,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let option = slots[i % 3].clone();
                let (s, b) = api
                    .call(
                        "POST",
                        &format!("/v1/patients/{id}/appointments"),
                        Some(&token),
                        Some(json!({"option": option, "client_token": format!("mixed-{i}")})),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if s == 201 && i % 2 == 0 {
                    let ap = b["appointment"].as_str().unwrap_or_default().to_string();
                    let (s, _) = api
                        .call(
                            "POST",
                            &format!("/v1/appointments/{ap}/cancel"),
                            Some(&token),
                            None,
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    if s != 200 {
                        return Err(format!("cancel {s}"));
                    }
                } else if s != 201 && s != 409 {
                    return Err(format!("book {s}"));
                }
                Ok(())
            }
            .await;
            r
        }));
    }
    for t in tasks {
        t.await??;
    }
    api.clinic.check_invariants()?;
    Ok(())
}

/// A store that refuses the n-th commit, to abort a command mid-write.
struct FailingStore {
    inner: SqliteStore,
    fail_on: usize,
    commits: usize,
}

impl Store for FailingStore {
    fn load_after(
        &mut self,
        commands: u64,
        audit: u64,
    ) -> Result<bedside_clinic::store::Loaded, bedside_clinic::StoreError> {
        self.inner.load_after(commands, audit)
    }
    fn chain_point(
        &mut self,
    ) -> Result<bedside_clinic::integrity::ChainPoint, bedside_clinic::StoreError> {
        self.inner.chain_point()
    }
    fn save_snapshot(
        &mut self,
        commands: u64,
        audit: u64,
        chain: &bedside_clinic::integrity::ChainPoint,
        body: &str,
    ) -> Result<(), bedside_clinic::StoreError> {
        self.inner.save_snapshot(commands, audit, chain, body)
    }
    fn latest_snapshot(
        &mut self,
    ) -> Result<Option<bedside_clinic::store::StoredSnapshot>, bedside_clinic::StoreError> {
        self.inner.latest_snapshot()
    }
    fn audit_mentioning(
        &mut self,
        needle: &str,
        before: u64,
    ) -> Result<Vec<String>, bedside_clinic::StoreError> {
        self.inner.audit_mentioning(needle, before)
    }
    fn commit(
        &mut self,
        batch: &bedside_clinic::store::Batch,
    ) -> Result<(), bedside_clinic::StoreError> {
        self.commits += 1;
        if self.commits == self.fail_on {
            // Write part of the batch in a transaction that is then abandoned: the same
            // state a crash between two statements leaves behind.
            let mut partial = batch.clone();
            partial.outbox.clear();
            partial.audit.push((u64::MAX, "torn".into()));
            partial.audit.push((u64::MAX, "torn".into()));
            let _ = self.inner.commit(&partial);
            return Err(bedside_clinic::StoreError::Io(std::io::Error::other(
                "simulated crash",
            )));
        }
        self.inner.commit(batch)
    }
    fn token(
        &mut self,
        hash: &str,
    ) -> Result<Option<bedside_clinic::store::TokenRow>, bedside_clinic::StoreError> {
        self.inner.token(hash)
    }
    fn outbox(
        &mut self,
        status: Option<&str>,
        patient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<bedside_clinic::store::OutboxMessage>, bedside_clinic::StoreError> {
        self.inner.outbox(status, patient, limit)
    }
    fn mark_sent(&mut self, ids: &[i64], at: &str) -> Result<(), bedside_clinic::StoreError> {
        self.inner.mark_sent(ids, at)
    }
    fn meta(&mut self, key: &str) -> Result<Option<String>, bedside_clinic::StoreError> {
        self.inner.meta(key)
    }
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), bedside_clinic::StoreError> {
        self.inner.set_meta(key, value)
    }
    fn verify_chain_from(
        &mut self,
        from: Option<&bedside_clinic::integrity::ChainPoint>,
    ) -> Result<bedside_clinic::integrity::ChainReport, bedside_clinic::StoreError> {
        self.inner.verify_chain_from(from)
    }
    fn reanchor(&mut self) -> Result<(), bedside_clinic::StoreError> {
        self.inner.reanchor()
    }
}

/// A command aborted mid-write is refused (503) and leaves nothing behind, in memory or on
/// disk; every acknowledged command is there after reopening the database file.
#[tokio::test]
async fn crash_mid_write_keeps_acknowledged_commands_only() -> TestResult {
    let path =
        std::env::temp_dir().join(format!("bedside-clinic-crash-{}.db", uuid::Uuid::now_v7()));
    // Count the seed's commits so the failure hits the second booking below.
    let commits_during_seed = CountingProbe::count()?;
    let (patient, token, booked);
    {
        let api = Api::with_store(Box::new(FailingStore {
            inner: SqliteStore::open(&path, Durability::Full)?,
            // Seed commits, then booking 1 (its consent decision and the command in one
            // transaction); booking 2's transaction fails.
            fail_on: commits_during_seed + 2,
            commits: 0,
        }))?;
        let (id, tok) = api.patient(5);
        patient = id;
        token = tok;
        let t = Some(token.as_str());
        let (_, slots) = api
            .call(
                "GET",
                "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-11T14:00:00Z",
                t,
                None,
            )
            .await?;
        let (_, later) = api
            .call(
                "GET",
                "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-15T14:00:00Z",
                t,
                None,
            )
            .await?;
        let (status, first) = api
            .call(
                "POST",
                &format!("/v1/patients/{patient}/appointments"),
                t,
                Some(json!({"option": slots[0], "client_token": "a"})),
            )
            .await?;
        assert_eq!(status, 201);
        booked = first["appointment"].as_str().ok_or("id")?.to_string();
        let (status, err) = api
            .call(
                "POST",
                &format!("/v1/patients/{patient}/appointments"),
                t,
                Some(json!({"option": later[0], "client_token": "b"})),
            )
            .await?;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (503, Some("unavailable")),
            "{err}"
        );
        // Memory was rebuilt from disk: the failed booking is not there.
        let (_, list) = api
            .call(
                "GET",
                &format!("/v1/patients/{patient}/appointments"),
                t,
                None,
            )
            .await?;
        let seeded_and_first = list.as_array().ok_or("array")?.len();
        assert!(
            list.as_array()
                .ok_or("array")?
                .iter()
                .any(|a| a["id"] == booked.as_str())
        );
        assert_eq!(seeded_and_first, 1);
    }
    // Reopen the file: the acknowledged booking is there, the aborted one is not, the audit
    // chain verifies.
    let clock = Arc::new(ManualClock::new(START.parse()?));
    let clinic = Clinic::open(
        Box::new(SqliteStore::open(&path, Durability::Full)?),
        clock,
        ClinicConfig::default(),
    )?;
    let me = bedside_clinic::Principal::Patient {
        patient: patient.parse()?,
    };
    let list = clinic.appointments(&me, patient.parse()?)?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id.to_string(), booked);
    let privacy = seed::demo_staff("privacy-officer")?;
    assert!(clinic.verify_audit(&privacy)?.verified);
    assert_eq!(clinic.authenticate(&token)?, me);
    drop(clinic);
    for suffix in ["", "-wal", "-shm", ".checkpoint"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}

/// Counts the commits the seed makes.
struct CountingProbe {
    inner: SqliteStore,
    commits: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingProbe {
    fn count() -> Result<usize, Box<dyn std::error::Error>> {
        let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let probe = CountingProbe {
            inner: SqliteStore::in_memory()?,
            commits: commits.clone(),
        };
        let _api = Api::with_store(Box::new(probe))?;
        Ok(commits.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl Store for CountingProbe {
    fn load_after(
        &mut self,
        commands: u64,
        audit: u64,
    ) -> Result<bedside_clinic::store::Loaded, bedside_clinic::StoreError> {
        self.inner.load_after(commands, audit)
    }
    fn chain_point(
        &mut self,
    ) -> Result<bedside_clinic::integrity::ChainPoint, bedside_clinic::StoreError> {
        self.inner.chain_point()
    }
    fn save_snapshot(
        &mut self,
        commands: u64,
        audit: u64,
        chain: &bedside_clinic::integrity::ChainPoint,
        body: &str,
    ) -> Result<(), bedside_clinic::StoreError> {
        self.inner.save_snapshot(commands, audit, chain, body)
    }
    fn latest_snapshot(
        &mut self,
    ) -> Result<Option<bedside_clinic::store::StoredSnapshot>, bedside_clinic::StoreError> {
        self.inner.latest_snapshot()
    }
    fn audit_mentioning(
        &mut self,
        needle: &str,
        before: u64,
    ) -> Result<Vec<String>, bedside_clinic::StoreError> {
        self.inner.audit_mentioning(needle, before)
    }
    fn commit(
        &mut self,
        batch: &bedside_clinic::store::Batch,
    ) -> Result<(), bedside_clinic::StoreError> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.commit(batch)
    }
    fn token(
        &mut self,
        hash: &str,
    ) -> Result<Option<bedside_clinic::store::TokenRow>, bedside_clinic::StoreError> {
        self.inner.token(hash)
    }
    fn outbox(
        &mut self,
        status: Option<&str>,
        patient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<bedside_clinic::store::OutboxMessage>, bedside_clinic::StoreError> {
        self.inner.outbox(status, patient, limit)
    }
    fn mark_sent(&mut self, ids: &[i64], at: &str) -> Result<(), bedside_clinic::StoreError> {
        self.inner.mark_sent(ids, at)
    }
    fn meta(&mut self, key: &str) -> Result<Option<String>, bedside_clinic::StoreError> {
        self.inner.meta(key)
    }
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), bedside_clinic::StoreError> {
        self.inner.set_meta(key, value)
    }
    fn verify_chain_from(
        &mut self,
        from: Option<&bedside_clinic::integrity::ChainPoint>,
    ) -> Result<bedside_clinic::integrity::ChainReport, bedside_clinic::StoreError> {
        self.inner.verify_chain_from(from)
    }
    fn reanchor(&mut self) -> Result<(), bedside_clinic::StoreError> {
        self.inner.reanchor()
    }
}

/// One bad-input case: method, path, token, body, expected status.
type Case<'a> = (&'a str, String, Option<&'a str>, Vec<u8>, u16);

/// Malformed bodies, wrong types, oversized payloads, unknown ids, other patients' ids,
/// missing and expired tokens: each the right 4xx in the JSON error shape, without PHI.
#[tokio::test]
async fn bad_input_gets_the_right_4xx_without_echoing_phi() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(0);
    let (other, _) = api.patient(1);
    api.clinic.store_token(
        "short-lived",
        &bedside_clinic::Principal::Patient {
            patient: id.parse()?,
        },
        api.clock_now() + TimeDelta::hours(1),
    )?;
    api.clock.advance(TimeDelta::hours(2));
    let unknown = uuid::Uuid::now_v7().to_string();
    let big = vec![b' '; 100 * 1024];
    let huge_vitals = vec![b'\n'; 9 * 1024 * 1024];
    let t = token.as_str();
    let cases: Vec<Case> = vec![
        ("POST", "/v1/register".into(), None, br#"{"given": ["Secretname""#.to_vec(), 400),
        ("POST", "/v1/register".into(), None, br#"{"given": "Secretname", "family": 7, "birth_date": "1970-01-01"}"#.to_vec(), 400),
        ("POST", "/v1/register".into(), None, br#"{"given": ["A"], "family": "Secretname", "birth_date": "1970-01-01", "ssn": "123-45-6789"}"#.to_vec(), 400),
        ("POST", "/v1/register".into(), None, br#"[1, 2, 3]"#.to_vec(), 400),
        ("POST", "/v1/register".into(), None, Vec::new(), 400),
        ("POST", "/v1/register".into(), None, big.clone(), 413),
        ("POST", format!("/v1/patients/{id}/vitals"), Some(t), huge_vitals, 413),
        ("PATCH", format!("/v1/patients/{id}"), Some(t), big, 413),
        ("GET", "/v1/patients/not-a-uuid".into(), Some(t), Vec::new(), 400),
        ("GET", format!("/v1/patients/{unknown}"), Some("demo-reception"), Vec::new(), 404),
        ("GET", format!("/v1/patients/{unknown}"), Some(t), Vec::new(), 403),
        ("GET", format!("/v1/patients/{other}"), Some(t), Vec::new(), 403),
        ("GET", format!("/v1/patients/{other}/notes"), Some(t), Vec::new(), 403),
        ("PATCH", format!("/v1/patients/{other}"), Some(t), br#"{"base_version": 1}"#.to_vec(), 403),
        ("POST", format!("/v1/patients/{other}/appointments"), Some(t), br#"{"option": 1, "client_token": "x"}"#.to_vec(), 403),
        ("POST", format!("/v1/appointments/{unknown}/cancel"), Some(t), Vec::new(), 404),
        ("POST", "/v1/appointments/zzz/cancel".into(), Some(t), Vec::new(), 400),
        ("POST", format!("/v1/alerts/{unknown}/ack"), Some("demo-nurse"), Vec::new(), 404),
        ("POST", format!("/v1/change-requests/{unknown}/approve"), Some("demo-reception"), Vec::new(), 404),
        ("PATCH", format!("/v1/patients/{id}"), Some(t), br#"{"base_version": 99}"#.to_vec(), 409),
        ("PATCH", format!("/v1/patients/{id}"), Some(t), br#"{"base_version": 1, "quiet_hours": ["25:00", "x"]}"#.to_vec(), 400),
        ("GET", format!("/v1/patients/{id}"), None, Vec::new(), 401),
        ("GET", format!("/v1/patients/{id}"), Some("no-such-token"), Vec::new(), 401),
        ("GET", format!("/v1/patients/{id}"), Some("short-lived"), Vec::new(), 401),
        ("GET", "/v1/slots".into(), None, Vec::new(), 400),
        ("GET", "/v1/slots?appointment_type=brain-surgery".into(), None, Vec::new(), 400),
        ("GET", "/v1/slots?appointment_type=gp-visit&from=yesterday".into(), None, Vec::new(), 400),
        ("GET", "/v1/slots?appointment_type=gp-visit&limit=many".into(), None, Vec::new(), 400),
        ("GET", "/v1/slots?appointment_type=gp-visit&from=%ZZ".into(), None, Vec::new(), 400),
        ("GET", "/v1/slots?appointment_type=gp-visit&from=2026-07-01T00:00:00Z&to=2026-06-20T00:00:00Z".into(), None, Vec::new(), 400),
        ("GET", "/v1/outbox?status=lost".into(), Some(t), Vec::new(), 400),
        ("POST", "/v1/sms/inbound".into(), Some("demo-sms-gateway"), br#"{"from": "+12125550142"}"#.to_vec(), 400),
        ("POST", "/v1/sms/inbound".into(), Some("demo-sms-gateway"), br#"{"message_id": "", "from": "+12125550142", "body": "C"}"#.to_vec(), 400),
        ("POST", "/v1/providers/x/unavailable".into(), Some("demo-scheduler"), br#"{"start": "2026-06-09T10:00:00Z", "end": "2026-06-09T09:00:00Z"}"#.to_vec(), 400),
        ("DELETE", "/health".into(), None, Vec::new(), 405),
        ("GET", "/v2/nothing".into(), None, Vec::new(), 404),
    ];
    // Extreme but well-formed input is answered, never a server error.
    for uri in [
        "/v1/slots?appointment_type=gp-visit&from=9999-12-31T00:00:00Z",
        "/v1/slots?appointment_type=gp-visit&from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z&limit=100000",
    ] {
        let (status, _) = api.raw("GET", uri, None, &[], Vec::new()).await?;
        assert!(status == 200 || status == 400, "{uri}: {status}");
    }
    let provider = api.demo.providers[0];
    let (status, _) = api
        .raw(
            "POST",
            &format!("/v1/providers/{provider}/unavailable"),
            Some("demo-scheduler"),
            &[],
            br#"{"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"}"#.to_vec(),
        )
        .await?;
    assert!(
        status == 200 || status == 400,
        "far unavailability: {status}"
    );
    for (method, uri, token, body, expected) in cases {
        let (status, value) = api
            .raw(
                method,
                &uri,
                token,
                &[("content-type", "application/json")],
                body,
            )
            .await?;
        assert_eq!(status, expected, "{method} {uri}: {value}");
        let error = &value["error"];
        assert!(
            error["code"].is_string()
                && error["message"].is_string()
                && error["details"].is_array(),
            "{method} {uri}: {value}"
        );
        let text = value.to_string();
        for phi in ["Secretname", "123-45-6789", "Delgado", "1958"] {
            assert!(!text.contains(phi), "{method} {uri} echoed PHI: {text}");
        }
    }
    Ok(())
}

/// Journey 6: check-in → visit completed → post-visit survey planned by the distribution rules
/// → the patient's response (validated) → the manager's report.
#[tokio::test]
async fn journey_post_visit_survey_and_manager_report() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(0);
    let t = Some(token.as_str());
    let (_, list) = api
        .call("GET", &format!("/v1/patients/{id}/appointments"), t, None)
        .await?;
    let appointment = list[0]["id"].as_str().ok_or("id")?.to_string();
    let start: Timestamp = list[0]["start"].as_str().ok_or("start")?.parse()?;
    api.clock.set(start - TimeDelta::minutes(10));

    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/appointments/{appointment}/complete"),
            Some("demo-clinician"),
            None,
        )
        .await?;
    assert_eq!(status, 409, "cannot complete before check-in");
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/appointments/{appointment}/check-in"),
            Some("demo-reception"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    api.clock.set(start + TimeDelta::minutes(20));
    let (status, done) = api
        .call(
            "POST",
            &format!("/v1/appointments/{appointment}/complete"),
            Some("demo-clinician"),
            None,
        )
        .await?;
    assert_eq!((status, &done["survey_invitations"]), (200, &json!(1)));
    let (_, outbox) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    let invite = outbox
        .as_array()
        .ok_or("array")?
        .iter()
        .find(|m| m["purpose"] == "survey")
        .ok_or("no survey invitation")?;
    let send_at: Timestamp = invite["send_at"].as_str().ok_or("send_at")?.parse()?;
    assert!(send_at >= start + TimeDelta::minutes(20) + TimeDelta::hours(2));

    // Incomplete: every missing required item reported by path.
    let uri = format!("/v1/surveys/{appointment}/response");
    let (status, err) = api
        .call(
            "POST",
            &uri,
            t,
            Some(json!({"answers": {"scheduling-ease": "5"}})),
        )
        .await?;
    assert_eq!(status, 400);
    assert!(err["error"]["details"].as_array().ok_or("details")?.len() >= 4);
    // Someone else cannot answer it.
    let other_token = api.demo.patients[1].1.clone();
    let (status, _) = api
        .call(
            "POST",
            &uri,
            Some(&other_token),
            Some(json!({"answers": {}})),
        )
        .await?;
    assert_eq!(status, 404);

    let answers = json!({"answers": {
        "scheduling-ease": "5", "wait": "5-15", "concerns-addressed": "completely",
        "explain-better": false, "staff-comfort": "4", "recommend": 9,
        "comment": "Friendly front desk."
    }});
    let (status, _) = api.call("POST", &uri, t, Some(answers.clone())).await?;
    assert_eq!(status, 201);
    let (status, _) = api.call("POST", &uri, t, Some(answers)).await?;
    assert_eq!(status, 409);

    let (status, _) = api.call("GET", "/v1/surveys/report", t, None).await?;
    assert_eq!(status, 403);
    let (status, report) = api
        .call("GET", "/v1/surveys/report", Some("demo-manager"), None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        (report["invited"].as_u64(), report["responses"].as_u64()),
        (Some(1), Some(1))
    );
    let text = report["report"].as_str().ok_or("report")?;
    assert!(!text.is_empty());
    assert!(
        !text.contains("Friendly front desk"),
        "free text must not reach the report"
    );
    api.record_journal("post_visit_survey_and_manager_report")?;
    Ok(())
}

/// Journey 5: check-in → visit charges → claim → remittance (835) posted → patient statement
/// → payment → balance zero; aging report.
#[tokio::test]
async fn journey_charges_claim_remittance_statement_payment() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(0);
    let t = Some(token.as_str());
    let (_, list) = api
        .call("GET", &format!("/v1/patients/{id}/appointments"), t, None)
        .await?;
    let appointment = list[0]["id"].as_str().ok_or("id")?.to_string();
    let start: Timestamp = list[0]["start"].as_str().ok_or("start")?.parse()?;
    let charge_uri = format!("/v1/appointments/{appointment}/charges");
    let codes = json!({"codes": ["99214", "93000"]});

    let (status, _) = api
        .call(
            "POST",
            &charge_uri,
            Some("demo-billing"),
            Some(codes.clone()),
        )
        .await?;
    assert_eq!(status, 409, "no charges before check-in");
    api.clock.set(start - TimeDelta::minutes(5));
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/appointments/{appointment}/check-in"),
            Some("demo-reception"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let (status, _) = api
        .call(
            "POST",
            &charge_uri,
            Some("demo-billing"),
            Some(codes.clone()),
        )
        .await?;
    assert_eq!(status, 409, "no charges before the visit is completed");
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/appointments/{appointment}/complete"),
            Some("demo-clinician"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let (status, err) = api
        .call(
            "POST",
            &charge_uri,
            Some("demo-billing"),
            Some(json!({"codes": ["99999", "abc"]})),
        )
        .await?;
    assert_eq!(
        (status, err["error"]["details"].as_array().map(Vec::len)),
        (400, Some(2))
    );
    let (status, _) = api
        .call("POST", &charge_uri, t, Some(codes.clone()))
        .await?;
    assert_eq!(status, 403);
    let (status, claim) = api
        .call("POST", &charge_uri, Some("demo-billing"), Some(codes))
        .await?;
    assert_eq!(status, 201, "{claim}");
    assert_eq!(
        (
            claim["control_number"].as_str(),
            claim["total_minor"].as_i64()
        ),
        (Some("BSD0001"), Some(33_000))
    );

    // Before the remittance the payer owes everything.
    let (_, aging) = api
        .call("GET", "/v1/billing/aging", Some("demo-billing"), None)
        .await?;
    assert_eq!(
        (
            aging["payers_total_minor"].as_i64(),
            aging["patients_total_minor"].as_i64()
        ),
        (Some(33_000), Some(0))
    );

    // A broken 835 is refused whole; the real one posts.
    api.clock.advance(TimeDelta::days(7));
    let (status, _) = api
        .raw(
            "POST",
            "/v1/billing/remittance",
            Some("demo-billing"),
            &[],
            b"ISA*00*garbage~".to_vec(),
        )
        .await?;
    assert_eq!(status, 400);
    let remit = include_bytes!("data/visit.835").to_vec();
    let (status, posted) = api
        .raw(
            "POST",
            "/v1/billing/remittance",
            Some("demo-billing"),
            &[],
            remit,
        )
        .await?;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["claims_matched"], 1);

    // The patient's statement: 46.00 left after insurance.
    let (status, st) = api
        .call("GET", &format!("/v1/patients/{id}/statement"), t, None)
        .await?;
    assert_eq!(status, 200, "{st}");
    assert_eq!(
        (
            st["amount_due_minor"].as_i64(),
            st["balance_minor"].as_i64()
        ),
        (Some(4_600), Some(4_600))
    );
    assert!(st["text"].as_str().is_some_and(|s| s.contains("46.00")));
    // Another patient cannot see it.
    let other = api.demo.patients[1].1.clone();
    let (status, _) = api
        .call(
            "GET",
            &format!("/v1/patients/{id}/statement"),
            Some(&other),
            None,
        )
        .await?;
    assert_eq!(status, 403);

    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/payments"),
            t,
            Some(json!({"amount_minor": -5})),
        )
        .await?;
    assert_eq!(status, 400);
    let (status, paid) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/payments"),
            t,
            Some(json!({"amount_minor": 4_600})),
        )
        .await?;
    assert_eq!((status, paid["balance_minor"].as_i64()), (201, Some(0)));
    let (_, st) = api
        .call("GET", &format!("/v1/patients/{id}/statement"), t, None)
        .await?;
    assert_eq!(st["balance_minor"].as_i64(), Some(0));

    let (status, aging) = api
        .call("GET", "/v1/billing/aging", Some("demo-billing"), None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        (
            aging["payers_total_minor"].as_i64(),
            aging["patients_total_minor"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let (status, _) = api.call("GET", "/v1/billing/aging", t, None).await?;
    assert_eq!(status, 403);
    api.record_journal("charges_claim_remittance_statement_payment")?;
    Ok(())
}

/// Rescheduling and cancelling over HTTP: reminders follow the appointment; someone else's
/// appointment looks missing.
#[tokio::test]
async fn reschedule_and_cancel_move_the_reminders() -> TestResult {
    let api = Api::new()?;
    let (id, token) = api.patient(5);
    let t = Some(token.as_str());
    let (_, slots) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-15T14:00:00Z",
            t,
            None,
        )
        .await?;
    let (_, later) = api
        .call(
            "GET",
            "/v1/slots?appointment_type=gp-visit&limit=1&from=2026-06-18T14:00:00Z",
            t,
            None,
        )
        .await?;
    let (status, booked) = api
        .call(
            "POST",
            &format!("/v1/patients/{id}/appointments"),
            t,
            Some(json!({"option": slots[0], "client_token": "r-1"})),
        )
        .await?;
    assert_eq!(status, 201);
    let ap = booked["appointment"].as_str().ok_or("id")?.to_string();
    let purpose = format!("appointment-reminders:{ap}");
    let pending = |outbox: &Value| -> Vec<String> {
        outbox
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["purpose"] == purpose.as_str())
            .filter_map(|m| m["send_at"].as_str().map(str::to_string))
            .collect()
    };
    let (_, before) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    let before = pending(&before);
    assert!(!before.is_empty());

    let other = api.demo.patients[0].1.clone();
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/appointments/{ap}/reschedule"),
            Some(&other),
            Some(json!({"option": later[0]})),
        )
        .await?;
    assert_eq!(status, 404);
    let (status, moved) = api
        .call(
            "POST",
            &format!("/v1/appointments/{ap}/reschedule"),
            t,
            Some(json!({"option": later[0]})),
        )
        .await?;
    assert_eq!(status, 200, "{moved}");
    let (_, after) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    let after = pending(&after);
    assert!(
        !after.is_empty() && after != before,
        "reminders re-planned for the new time"
    );
    let (_, withdrawn) = api
        .call("GET", "/v1/outbox?status=withdrawn", t, None)
        .await?;
    assert_eq!(pending(&withdrawn).len(), before.len());

    let (status, _) = api
        .call("POST", &format!("/v1/appointments/{ap}/cancel"), t, None)
        .await?;
    assert_eq!(status, 200);
    let (_, left) = api
        .call("GET", "/v1/outbox?status=pending", t, None)
        .await?;
    assert!(pending(&left).is_empty());
    let (status, _) = api
        .call("POST", &format!("/v1/appointments/{ap}/cancel"), t, None)
        .await?;
    assert_eq!(status, 409);
    api.record_journal("reschedule_and_cancel_move_the_reminders")?;
    Ok(())
}
