//! Booking through FHIR: `Slot` search, `Appointment/$find`, `$hold`, `$book` and cancel by
//! `PUT`, through the HTTP router, on the JSON API's services. Happy paths assert content
//! (ids, starts, statuses, paging, sort order); attacker rows assert the status and that
//! nothing changed (journal, audit chain, appointments); holds survive a restart (journal
//! replay and snapshot) on SQLite and, when a PostgreSQL cluster can be started, on
//! PostgreSQL.
//!
//! With `BEDSIDE_FHIR_OUT=DIR` every resource received is written to `DIR/*.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::seed;
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, PostgresStore, Principal, SlotSearch, SqliteStore, Store,
};
use bedside_core::{ManualClock, Timestamp};
use chrono::TimeDelta;
use common::{Answer, Api, BASE, Res, TestResult, ids, listed};
use serde_json::{Value, json};
use std::sync::Arc;

/// What a refused request must leave as it was: the journal and the audit chain.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Fingerprint {
    journal: usize,
    audit: u64,
}

impl Api {
    fn fingerprint(&self) -> Res<Fingerprint> {
        let admin = self.clinic.authenticate("demo-admin")?;
        Ok(Fingerprint {
            journal: self.clinic.export_journal()?.len(),
            audit: self.clinic.verify_audit(&admin)?.events,
        })
    }

    async fn post(
        &self,
        uri: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> Res<Answer> {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        self.send("POST", uri, token, &headers, Some(body)).await
    }

    /// The free gp-visit slots of 9 June (UTC), through FHIR.
    async fn slots(&self) -> Res<Vec<Value>> {
        let a = self
            .get(
                "/fhir/Slot?service-type=gp-visit&start=ge2026-06-09&start=lt2026-06-10",
                None,
            )
            .await?;
        assert_eq!(a.status, 200, "{}", a.body);
        Ok(entries(&a.body))
    }

    /// Patient `i`'s appointment ids, as the scheduler sees them.
    fn appointments_of(&self, i: usize) -> Res<Vec<String>> {
        let desk = self.clinic.authenticate("demo-scheduler")?;
        let mut v = self.clinic.appointments(&desk, self.demo.patients[i].0)?;
        v.sort_by_key(|a| a.start);
        Ok(v.iter().map(|a| a.id.to_string()).collect())
    }
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["resource"].clone())
        .collect()
}

fn reference(kind: &str, id: &str) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

/// A `Parameters` body naming an appointment (a proposed one's or a hold's id).
fn params(appointment: &str, patient: Option<&str>) -> Value {
    let mut parameter = vec![json!({
        "name": "appointment-reference",
        "valueReference": reference("Appointment", appointment),
    })];
    if let Some(p) = patient {
        parameter.push(json!({"name": "patient", "valueReference": reference("Patient", p)}));
    }
    json!({"resourceType": "Parameters", "parameter": parameter})
}

#[tokio::test]
async fn slot_search_is_the_json_slot_search_with_stable_ids_and_paging() -> TestResult {
    let api = Api::new()?;
    let slots = api.slots().await?;
    let (_, json_slots) = api
        .fetch(
            "/v1/slots?appointment_type=gp-visit&from=2026-06-09T00:00:00Z&to=2026-06-09T23:59:59Z&limit=20",
            None,
        )
        .await?;
    let json_slots = json_slots.as_array().cloned().unwrap_or_default();
    assert_eq!(slots.len(), json_slots.len());
    assert!(!slots.is_empty());
    for (fhir, option) in slots.iter().zip(&json_slots) {
        let start: Timestamp = fhir["start"].as_str().ok_or("start")?.parse()?;
        let wanted: Timestamp = option["period"]["start"].as_str().ok_or("start")?.parse()?;
        assert_eq!(start, wanted);
        assert_eq!(
            (&fhir["resourceType"], &fhir["status"]),
            (&json!("Slot"), &json!("free"))
        );
        assert_eq!(
            fhir["schedule"]["reference"],
            json!(format!(
                "Schedule/{}",
                option["provider"].as_str().ok_or("provider")?
            ))
        );
        let id = fhir["id"].as_str().ok_or("id")?;
        assert!(id.starts_with("gp-visit.20260609"), "{id}");
    }
    // Ids are stable: the same search names the same slots.
    assert_eq!(api.slots().await?, slots);
    // Paging: five at a time, following `next`, gives the same slots in the same order.
    let mut uri = "/fhir/Slot?service-type=gp-visit&start=ge2026-06-09&start=lt2026-06-10&_count=5"
        .to_string();
    let mut paged = Vec::new();
    for _ in 0..10 {
        let a = api.get(&uri, None).await?;
        assert_eq!(a.body["total"], json!(slots.len()));
        paged.extend(entries(&a.body));
        let next = a.body["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str())
            .map(str::to_string);
        match next {
            Some(url) => uri = format!("/fhir{}", url.strip_prefix(BASE).ok_or("absolute")?),
            None => break,
        }
    }
    assert_eq!(paged, slots);
    // Only free slots are served: another status finds nothing; a schedule narrows.
    let a = api
        .get("/fhir/Slot?service-type=gp-visit&status=busy", None)
        .await?;
    assert_eq!((a.status, &a.body["total"]), (200, &json!(0)));
    let p = api.demo.providers[1].to_string();
    let a = api
        .get(
            &format!("/fhir/Slot?service-type=gp-visit&schedule=Schedule/{p}&status=free"),
            None,
        )
        .await?;
    let mine = entries(&a.body);
    assert!(!mine.is_empty());
    assert!(
        mine.iter()
            .all(|s| s["schedule"]["reference"] == json!(format!("Schedule/{p}")))
    );
    // A service type nobody offers is the slot search's 400.
    let a = api
        .get("/fhir/Slot?service-type=nothing-such", None)
        .await?;
    assert_eq!(a.status, 400);
    Ok(())
}

#[tokio::test]
async fn find_hold_book_and_replay() -> TestResult {
    let api = Api::new()?;
    let (me, t0, t1) = (api.id(0), api.token(0), api.token(1));
    let found = api
        .get(
            "/fhir/Appointment/$find?start=2026-06-09T00:00:00Z&end=2026-06-09T23:59:59Z&service-type=gp-visit",
            Some(&t0),
        )
        .await?;
    assert_eq!(found.status, 200, "{}", found.body);
    let proposals = entries(&found.body);
    let slots = api.slots().await?;
    assert_eq!(
        ids(&found.body),
        slots
            .iter()
            .map(|s| s["id"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    );
    let first = &proposals[0];
    assert_eq!(first["status"], "proposed");
    assert_eq!(first["start"], slots[0]["start"]);
    assert!(
        first["participant"]
            .as_array()
            .ok_or("participants")?
            .iter()
            .any(|p| p["actor"]["reference"] == json!(format!("Patient/{me}")))
    );
    let slot = first["id"].as_str().ok_or("id")?.to_string();
    // `$find` names a patient only for a caller who may book for them.
    let q = format!("/fhir/Appointment/$find?service-type=gp-visit&patient=Patient/{me}");
    assert_eq!(api.get(&q, Some(&t1)).await?.status, 404);
    assert_eq!(api.get(&q, None).await?.status, 401);
    assert_eq!(api.get(&q, Some("demo-billing")).await?.status, 403);
    let anonymous = api
        .get("/fhir/Appointment/$find?service-type=gp-visit", None)
        .await?;
    assert_eq!(anonymous.status, 200);
    assert!(!anonymous.body.to_string().contains("Patient/"));
    // Hold it: pending, named by the hold; the slot is no longer offered to anyone.
    let held = api
        .post(
            "/fhir/Appointment/$hold",
            Some(&t0),
            None,
            params(&slot, None),
        )
        .await?;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.body["status"], "pending");
    assert_eq!(held.body["start"], slots[0]["start"]);
    let hold = held.body["id"].as_str().ok_or("hold id")?.to_string();
    assert!(uuid::Uuid::parse_str(&hold).is_ok(), "{hold}");
    let after: Vec<Value> = api.slots().await?;
    assert!(
        after.iter().all(|s| s["id"] != json!(slot)),
        "the held slot is not offered"
    );
    // Book the hold; the same key again answers the same appointment and books nothing more.
    let before = api.appointments_of(0)?;
    let booked = api
        .post(
            "/fhir/Appointment/$book",
            Some(&t0),
            Some("key-1"),
            params(&hold, None),
        )
        .await?;
    assert_eq!(booked.status, 200, "{}", booked.body);
    assert_eq!(booked.body["status"], "booked");
    assert_eq!(booked.body["start"], slots[0]["start"]);
    let id = booked.body["id"].as_str().ok_or("id")?.to_string();
    assert_eq!(booked.etag.as_deref(), Some("W/\"1\""));
    let now = api.appointments_of(0)?;
    assert_eq!(now.len(), before.len() + 1);
    assert!(now.contains(&id));
    let again = api
        .post(
            "/fhir/Appointment/$book",
            Some(&t0),
            Some("key-1"),
            params(&hold, None),
        )
        .await?;
    assert_eq!((again.status, &again.body["id"]), (200, &json!(id)));
    assert_eq!(api.appointments_of(0)?, now, "one booking");
    // Reminders are planned as for every booking, once.
    let patient = api.clinic.authenticate(&t0)?;
    let reminders = api
        .clinic
        .outbox(&patient, None, Some(api.demo.patients[0].0))?
        .into_iter()
        .filter(|m| m.purpose == format!("appointment-reminders:{id}"))
        .count();
    assert!(reminders > 0, "reminders planned");
    // Reading it back is the JSON API's appointment.
    let read = api
        .get(&format!("/fhir/Appointment/{id}"), Some(&t0))
        .await?;
    assert_eq!((read.status, &read.body["status"]), (200, &json!("booked")));
    // A slot booked directly (no hold), by another patient, with a client-token parameter.
    let second = slots[1]["id"].as_str().ok_or("id")?;
    let mut body = params(second, None);
    body["parameter"]
        .as_array_mut()
        .ok_or("parameters")?
        .push(json!({"name": "client-token", "valueString": "direct-1"}));
    let direct = api
        .post("/fhir/Appointment/$book", Some(&t1), None, body.clone())
        .await?;
    assert_eq!(
        (direct.status, &direct.body["status"]),
        (200, &json!("booked")),
        "{}",
        direct.body
    );
    assert_eq!(direct.body["start"], slots[1]["start"]);
    let replay = api
        .post("/fhir/Appointment/$book", Some(&t1), None, body)
        .await?;
    assert_eq!(replay.body["id"], direct.body["id"]);
    // Staff book for a named patient with a bare Appointment.
    let third = slots[2]["id"].as_str().ok_or("id")?;
    let bare = json!({
        "resourceType": "Appointment",
        "status": "proposed",
        "slot": [reference("Slot", third)],
        "participant": [{"actor": reference("Patient", &api.id(2)), "status": "needs-action"}],
    });
    let staff = api
        .post(
            "/fhir/Appointment/$book",
            Some("demo-scheduler"),
            Some("desk-1"),
            bare,
        )
        .await?;
    assert_eq!(
        (staff.status, &staff.body["status"]),
        (200, &json!("booked")),
        "{}",
        staff.body
    );
    assert!(
        api.appointments_of(2)?
            .contains(&staff.body["id"].as_str().unwrap_or_default().to_string())
    );
    Ok(())
}

#[tokio::test]
async fn attackers_change_nothing() -> TestResult {
    let api = Api::new()?;
    let (me, other) = (api.id(0), api.id(1));
    let (t0, t1) = (api.token(0), api.token(1));
    let reader = api.grant(0, &["demographics", "contact"]).await?;
    let slots = api.slots().await?;
    let slot = slots[0]["id"].as_str().ok_or("id")?.to_string();
    // Patient 1 holds slot 1; patient 0's appointment is what others try to cancel.
    let held = api
        .post(
            "/fhir/Appointment/$hold",
            Some(&t1),
            None,
            params(slots[1]["id"].as_str().ok_or("id")?, None),
        )
        .await?;
    assert_eq!(held.status, 200, "{}", held.body);
    let hold = held.body["id"].as_str().ok_or("hold")?.to_string();
    let mine = api.appointments_of(0)?.first().cloned().ok_or("seeded")?;
    let current = api
        .get(&format!("/fhir/Appointment/{mine}"), Some(&t0))
        .await?
        .body;
    // Edited slot ids: the slot is `gp-visit.{YYYYMMDDHHMM}.{provider}.{room}`.
    let parts: Vec<&str> = slot.split('.').collect();
    let edit =
        |start: &str, provider: &str| format!("{}.{start}.{provider}.{}", parts[0], parts[3]);
    let moved = {
        let mut s = parts[1].to_string();
        s.replace_range(10..12, "07");
        edit(&s, parts[2])
    };
    let cardio = edit(parts[1], "2");
    let past = edit("202606081200", parts[2]);
    let notice = edit("202606081330", parts[2]);
    let cancelled_and_moved = {
        let mut v = current.clone();
        v["status"] = json!("cancelled");
        v["start"] = json!("2026-06-20T13:00:00Z");
        v
    };
    let cancelled = {
        let mut v = current.clone();
        v["status"] = json!("cancelled");
        v
    };
    let put = format!("/fhir/Appointment/{mine}");
    // (who, method, uri, key, body, status, whether the request's own read is audited)
    type Row<'a> = (
        Option<&'a str>,
        &'a str,
        String,
        Option<&'a str>,
        Value,
        u16,
        bool,
    );
    let rows: Vec<Row> = vec![
        // Another patient acting for someone else looks like a missing record.
        (
            Some(&t1),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&slot, Some(&me)),
            404,
            false,
        ),
        (
            Some(&t1),
            "POST",
            "/fhir/Appointment/$hold".into(),
            None,
            params(&slot, Some(&me)),
            404,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&hold, None),
            404,
            false,
        ),
        (
            Some(&t1),
            "PUT",
            put.clone(),
            None,
            cancelled.clone(),
            404,
            false,
        ),
        // A proxy without the appointments class.
        (
            Some(&reader),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&slot, None),
            403,
            false,
        ),
        (
            Some(&reader),
            "POST",
            "/fhir/Appointment/$hold".into(),
            None,
            params(&slot, None),
            403,
            false,
        ),
        (
            Some(&reader),
            "PUT",
            put.clone(),
            None,
            cancelled.clone(),
            403,
            false,
        ),
        // Staff outside the front desk.
        (
            Some("demo-billing"),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&slot, Some(&me)),
            403,
            false,
        ),
        // No or a bad token.
        (
            None,
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&slot, None),
            401,
            false,
        ),
        (
            Some("not-a-token"),
            "POST",
            "/fhir/Appointment/$hold".into(),
            None,
            params(&slot, None),
            401,
            false,
        ),
        (
            None,
            "PUT",
            put.clone(),
            None,
            cancelled.clone(),
            401,
            false,
        ),
        // Client-edited slot ids: moved off the grid, another provider, the past, inside
        // the minimum notice, not a slot id at all.
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&moved, None),
            409,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&cardio, None),
            409,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$hold".into(),
            None,
            params(&past, None),
            409,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(&notice, None),
            409,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params("Zebulon", None),
            400,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params("gp-visit.2026.9.x", None),
            400,
            false,
        ),
        // The slot patient 1 holds is nobody else's to book or hold.
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            params(slots[1]["id"].as_str().ok_or("id")?, None),
            409,
            false,
        ),
        (
            Some("demo-scheduler"),
            "POST",
            "/fhir/Appointment/$hold".into(),
            None,
            params(slots[1]["id"].as_str().ok_or("id")?, Some(&api.id(2))),
            409,
            false,
        ),
        // No idempotency key; a body that is neither Parameters nor an Appointment.
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            None,
            params(&slot, None),
            400,
            false,
        ),
        (
            Some(&t0),
            "POST",
            "/fhir/Appointment/$book".into(),
            Some("k"),
            json!({"resourceType": "Patient"}),
            400,
            false,
        ),
        // A cancel that also edits another element, or changes nothing, or is stale.
        (
            Some(&t0),
            "PUT",
            put.clone(),
            None,
            cancelled_and_moved,
            422,
            true,
        ),
        (
            Some(&t0),
            "PUT",
            put.clone(),
            None,
            current.clone(),
            422,
            true,
        ),
    ];
    for (who, method, uri, key, body, want, audited) in rows {
        let before = api.fingerprint()?;
        let appointments = (
            api.appointments_of(0)?,
            api.appointments_of(1)?,
            api.appointments_of(2)?,
        );
        let fp = api.fingerprint()?;
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let a = api.send(method, &uri, who, &headers, Some(body)).await?;
        assert_eq!(a.status, want, "{method} {uri} as {who:?}: {}", a.body);
        let text = a.body["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or_default();
        assert!(!text.contains(&me) && !text.contains("Zebulon"), "{text}");
        let after = api.fingerprint()?;
        assert_eq!(
            after.journal, before.journal,
            "{method} {uri} as {who:?}: journal"
        );
        if !audited {
            assert_eq!(after.audit, fp.audit, "{method} {uri} as {who:?}: audit");
        }
        assert_eq!(
            (
                api.appointments_of(0)?,
                api.appointments_of(1)?,
                api.appointments_of(2)?
            ),
            appointments,
            "{method} {uri} as {who:?}: appointments"
        );
    }
    // A stale If-Match is 412 and cancels nothing.
    let before = api.fingerprint()?;
    let a = api
        .send(
            "PUT",
            &put,
            Some(&t0),
            &[("if-match", "W/\"7\"")],
            Some(cancelled.clone()),
        )
        .await?;
    assert_eq!(a.status, 412, "{}", a.body);
    assert_eq!(api.fingerprint()?.journal, before.journal);
    // The hold lapses by the clinic clock: its own patient can no longer book it, and the
    // slot is offered and bookable again.
    api.clock.advance(TimeDelta::minutes(11));
    let before = api.fingerprint()?;
    let lapsed = api
        .post(
            "/fhir/Appointment/$book",
            Some(&t1),
            Some("late"),
            params(&hold, None),
        )
        .await?;
    assert_eq!(lapsed.status, 409, "{}", lapsed.body);
    let after = api.fingerprint()?;
    assert_eq!((after.journal, after.audit), (before.journal, before.audit));
    assert!(api.slots().await?.iter().any(|s| s["id"] == slots[1]["id"]));
    let taken = api
        .post(
            "/fhir/Appointment/$book",
            Some(&t0),
            Some("after-lapse"),
            params(slots[1]["id"].as_str().ok_or("id")?, None),
        )
        .await?;
    assert_eq!(taken.status, 200, "{}", taken.body);
    let _ = other;
    Ok(())
}

#[tokio::test]
async fn cancel_by_update_and_appointment_search_by_date() -> TestResult {
    let api = Api::new()?;
    let t0 = api.token(0);
    let slots = api.slots().await?;
    // Two more for patient 0: on 9 June with two different providers, if offered.
    let p0 = slots[0]["schedule"].clone();
    let other = slots
        .iter()
        .find(|s| s["schedule"] != p0)
        .cloned()
        .ok_or("two providers")?;
    for (n, s) in [&slots[0], &other].into_iter().enumerate() {
        let id = s["id"].as_str().ok_or("id")?;
        let a = api
            .post(
                "/fhir/Appointment/$book",
                Some(&t0),
                Some(&format!("k{n}")),
                params(id, None),
            )
            .await?;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let all = api.appointments_of(0)?;
    assert_eq!(all.len(), 3);
    let a = api.get("/fhir/Appointment?_sort=date", Some(&t0)).await?;
    assert_eq!(ids(&a.body), all, "oldest first");
    let a = api.get("/fhir/Appointment?_sort=-date", Some(&t0)).await?;
    let mut newest = all.clone();
    newest.reverse();
    assert_eq!(ids(&a.body), newest, "newest first");
    // Date criteria select by start, as the full list says.
    let everything = entries(
        &api.get("/fhir/Appointment?_sort=date", Some(&t0))
            .await?
            .body,
    );
    let start_of = |a: &Value| a["start"].as_str().unwrap_or_default().to_string();
    let on_day = everything
        .iter()
        .filter(|a| start_of(a).starts_with("2026-06-09"))
        .count();
    assert!(on_day >= 2);
    let first_start = start_of(&slots[0]);
    let practitioner = other["schedule"]["reference"]
        .as_str()
        .unwrap_or_default()
        .replace("Schedule", "Practitioner");
    let by_practitioner = everything
        .iter()
        .filter(|a| {
            a["participant"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["actor"]["reference"] == json!(practitioner))
        })
        .count();
    let before_first = everything
        .iter()
        .filter(|a| start_of(a) < first_start)
        .count();
    for (query, n) in [
        ("date=2026-06-09".to_string(), on_day),
        ("date=ge2026-06-09&date=lt2026-06-10".to_string(), on_day),
        (format!("date=eq{first_start}"), 1),
        (format!("date=lt{first_start}"), before_first),
        (
            format!("date=ge{first_start}"),
            everything.len() - before_first,
        ),
        (format!("practitioner={practitioner}"), by_practitioner),
    ] {
        let a = api
            .get(&format!("/fhir/Appointment?{query}"), Some(&t0))
            .await?;
        assert_eq!(a.body["total"], json!(n), "{query}: {}", a.body);
    }
    assert!(by_practitioner >= 1);
    // Cancel by update: only the status changes, the ETag moves on.
    let id = &all[0];
    let read = api
        .get(&format!("/fhir/Appointment/{id}"), Some(&t0))
        .await?;
    let etag = read.etag.clone().ok_or("etag")?;
    let mut body = read.body.clone();
    body["status"] = json!("cancelled");
    let a = api
        .send(
            "PUT",
            &format!("/fhir/Appointment/{id}"),
            Some(&t0),
            &[("if-match", &etag)],
            Some(body.clone()),
        )
        .await?;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "cancelled");
    assert_ne!(a.etag, Some(etag.clone()));
    // The JSON API sees it cancelled; the same update again is stale.
    let (_, listed_json) = api
        .fetch(
            &format!("/v1/patients/{}/appointments", api.id(0)),
            Some(&t0),
        )
        .await?;
    let row = listed(&listed_json)
        .into_iter()
        .find(|r| r["id"] == json!(id))
        .ok_or("listed")?;
    assert_eq!(row["status"], "cancelled");
    let a = api
        .send(
            "PUT",
            &format!("/fhir/Appointment/{id}"),
            Some(&t0),
            &[("if-match", &etag)],
            Some(body),
        )
        .await?;
    assert_eq!(a.status, 412);
    Ok(())
}

/// Where a restarted clinic keeps its data.
enum Place {
    Sqlite(std::path::PathBuf),
    Postgres(
        String,
        #[allow(dead_code, reason = "held for its drop")] TempCluster,
    ),
}

impl Place {
    fn all() -> Res<Vec<Place>> {
        let dir = std::env::temp_dir().join(format!("bedside-fhir-holds-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        let mut places = vec![Place::Sqlite(dir.join("clinic.db"))];
        if let Some(pg) =
            TempCluster::start_or_skip("the PostgreSQL half of the hold restart test")?
        {
            places.push(Place::Postgres(pg.create_database("fhir_holds")?, pg));
        }
        Ok(places)
    }

    fn open(&self, anchor: &MemoryAnchor, clock: &Arc<ManualClock>) -> Res<Clinic> {
        let store: Box<dyn Store> = match self {
            Place::Sqlite(path) => Box::new(SqliteStore::open_with(
                path,
                Durability::Normal,
                Box::new(anchor.clone()),
                ChainKey::development(),
            )?),
            Place::Postgres(url, _) => Box::new(PostgresStore::connect(
                url,
                Durability::Normal,
                Box::new(anchor.clone()),
                ChainKey::development(),
            )?),
        };
        Ok(Clinic::open(store, clock.clone(), ClinicConfig::default())?)
    }
}

#[test]
fn a_hold_survives_a_restart_and_still_lapses_by_the_clock() -> Res<()> {
    for place in Place::all()? {
        let anchor = MemoryAnchor::new();
        let clock = Arc::new(ManualClock::new(common::START.parse()?));
        let clinic = place.open(&anchor, &clock)?;
        let demo = seed::seed(&clinic)?;
        let who = |i: usize| Principal::Patient {
            patient: demo.patients[i].0,
        };
        let option = clinic
            .find_slots(&SlotSearch {
                appointment_type: "gp-visit".into(),
                ..Default::default()
            })?
            .remove(0);
        let held = clinic.hold(&who(0), demo.patients[0].0, option.clone())?;
        drop(clinic);
        for snapshot in [false, true] {
            if snapshot {
                clinic_snapshot(&place, &anchor, &clock)?;
            }
            // Reopened (journal replay, then from a snapshot), the hold still blocks others.
            let reopened = place.open(&anchor, &clock)?;
            assert_eq!(reopened.started_from_snapshot(), snapshot);
            let e = reopened
                .book(&who(1), demo.patients[1].0, option.clone(), "steal")
                .expect_err("held");
            assert_eq!(e.status(), 409, "{e:?}");
            assert_eq!(
                reopened.held(&who(0), held.hold)?.option.period,
                option.period
            );
        }
        // The holder books it after a restart; a retry answers the same appointment.
        let reopened = place.open(&anchor, &clock)?;
        let booked = reopened
            .book_hold(&who(0), held.hold, "after-restart")
            .expect("the holder books");
        let again = reopened.book_hold(&who(0), held.hold, "after-restart")?;
        assert_eq!(booked.appointment, again.appointment);
        // A second hold (a day ahead, clear of the minimum notice), restarted past its
        // expiry, blocks nobody.
        let next = reopened
            .find_slots(&SlotSearch {
                appointment_type: "gp-visit".into(),
                from: Some("2026-06-09T14:00:00Z".parse()?),
                ..Default::default()
            })?
            .remove(0);
        reopened
            .hold(&who(2), demo.patients[2].0, next.clone())
            .expect("a second hold");
        drop(reopened);
        clock.advance(TimeDelta::minutes(11));
        let reopened = place.open(&anchor, &clock)?;
        reopened
            .book(&who(1), demo.patients[1].0, next, "after-lapse")
            .expect("the lapsed hold blocks nobody");
        drop(reopened);
        if let Place::Sqlite(path) = &place
            && let Some(dir) = path.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    Ok(())
}

/// Opens the place, writes a state snapshot, and closes it again.
fn clinic_snapshot(place: &Place, anchor: &MemoryAnchor, clock: &Arc<ManualClock>) -> Res<()> {
    let c = place.open(anchor, clock)?;
    c.write_snapshot()?;
    Ok(())
}
