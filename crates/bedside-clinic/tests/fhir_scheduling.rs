//! The FHIR scheduling resources (`Schedule`, `Appointment`), through the HTTP router: who may
//! read what (the JSON API's answers, and another patient's appointment looks missing), that
//! reads change nothing, search and paging, and bad parameters as 400 `OperationOutcome`s
//! that never echo the value.
//!
//! With `BEDSIDE_FHIR_OUT=DIR` every resource received is written to `DIR/*.json`, for
//! `../shared/tools/fhir-validate/fhir-validate DIR` (as `.ci/run` does).

mod common;

use common::{Api, BASE, Res, TestResult, ids, listed};
use serde_json::{Value, json};

#[tokio::test]
async fn metadata_lists_the_scheduling_resources_and_they_answer() -> TestResult {
    let api = Api::new()?;
    let (status, cs) = api.fetch("/fhir/metadata", None).await?;
    assert_eq!(status, 200);
    let resources = cs["rest"][0]["resource"].as_array().ok_or("resources")?;
    let listed: Vec<(String, Vec<String>, Vec<String>)> = resources
        .iter()
        .map(|r| {
            let codes = |k: &str, f: &str| {
                r[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i[f].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            };
            (
                r["type"].as_str().unwrap_or_default().to_string(),
                codes("interaction", "code"),
                codes("searchParam", "name"),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        listed[1..],
        [
            (
                "Schedule".into(),
                s(&["read", "search-type"]),
                s(&["actor"])
            ),
            (
                "Appointment".into(),
                s(&["read", "search-type", "update"]),
                s(&["patient", "status", "date", "practitioner"])
            ),
            (
                "Slot".into(),
                s(&["search-type"]),
                s(&["schedule", "start", "status", "service-type"])
            ),
        ]
    );
    // The IHE scheduling operations, with their canonical definitions.
    let appointment = &resources[2];
    let operations: Vec<(&str, &str)> = appointment["operation"]
        .as_array()
        .ok_or("operations")?
        .iter()
        .filter_map(|o| Some((o["name"].as_str()?, o["definition"].as_str()?)))
        .collect();
    let ihe = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-";
    assert_eq!(
        operations,
        [
            ("find", format!("{ihe}find").as_str()),
            ("hold", format!("{ihe}hold").as_str()),
            ("book", format!("{ihe}book").as_str()),
        ]
    );
    assert_eq!(listed[0].0, "Patient");
    Ok(())
}

#[tokio::test]
async fn who_may_read_which_appointment_and_reads_change_nothing() -> TestResult {
    let api = Api::new()?;
    let before = api.all_appointments().await?;
    let (mine, theirs) = (api.appointment_ids(0).await?, api.appointment_ids(1).await?);
    let (mine, theirs) = (
        mine.first().ok_or("seeded")?,
        theirs.first().ok_or("seeded")?,
    );
    let (me, other) = (api.id(0), api.id(1));
    let (p0, p1) = (api.token(0), api.token(1));
    let booking = api.grant(0, &["appointments"]).await?;
    let reader = api.grant(0, &["demographics", "contact"]).await?;
    let missing = uuid::Uuid::now_v7().to_string();
    let provider = api.demo.providers[0].to_string();
    let read = |id: &str| format!("/fhir/Appointment/{id}");
    let search = |q: &str| format!("/fhir/Appointment?{q}");
    let schedule = |id: &str| format!("/fhir/Schedule/{id}");
    let rows: Vec<(Option<&str>, String, u16)> = vec![
        // The patient: their own; anyone else's looks missing.
        (Some(&p0), read(mine), 200),
        (Some(&p0), read(theirs), 404),
        (Some(&p0), read(&missing), 404),
        (Some(&p0), read("not-a-uuid"), 404),
        (Some(&p1), read(theirs), 200),
        (Some(&p0), search(""), 200),
        (Some(&p0), search(&format!("patient={other}")), 200),
        // Proxies: the appointments grant reads; another grant does not.
        (Some(&booking), read(mine), 200),
        (Some(&booking), read(theirs), 404),
        (
            Some(&booking),
            search(&format!("patient=Patient/{me}")),
            200,
        ),
        (Some(&reader), read(mine), 403),
        (Some(&reader), search(""), 403),
        // Staff by role.
        (Some("demo-reception"), read(theirs), 200),
        (
            Some("demo-scheduler"),
            search(&format!("patient={me}")),
            200,
        ),
        (Some("demo-clinician"), read(mine), 200),
        (Some("demo-nurse"), read(&missing), 404),
        (Some("demo-billing"), read(mine), 403),
        (Some("demo-billing"), search(&format!("patient={me}")), 403),
        (Some("demo-admin"), read(mine), 403),
        (Some("demo-reception"), search(""), 400),
        // No or a bad token: 401 before anything about the id.
        (None, read(mine), 401),
        (None, read(&missing), 401),
        (None, read("not-a-uuid"), 401),
        (None, search(""), 401),
        (Some("not-a-token"), read(mine), 401),
        // Schedules are public, like the provider directory.
        (None, schedule(&provider), 200),
        (None, schedule(&missing), 404),
        (None, schedule("not-a-uuid"), 404),
        (None, "/fhir/Schedule".into(), 200),
        (
            None,
            format!("/fhir/Schedule?actor=Practitioner/{provider}"),
            200,
        ),
    ];
    for (who, uri, want) in &rows {
        let (status, body) = api.fetch(uri, *who).await?;
        assert_eq!(status, *want, "GET {uri} as {who:?}: {body}");
    }
    // Writes other than the update that cancels are not served: 405.
    for (method, uri) in [
        ("POST", "/fhir/Appointment".to_string()),
        ("PATCH", read(mine)),
        ("DELETE", read(mine)),
        ("POST", schedule(&provider)),
    ] {
        let (status, _) = api.call(method, &uri, Some(&p0), Some(json!({}))).await?;
        assert_eq!(status, 405, "{method} {uri}");
    }
    // Nothing the reads did changed an appointment.
    assert_eq!(api.all_appointments().await?, before);
    Ok(())
}

#[tokio::test]
async fn an_appointment_is_the_json_apis_appointment() -> TestResult {
    let api = Api::new()?;
    let (_, listed_json) = api
        .fetch(
            &format!("/v1/patients/{}/appointments", api.id(3)),
            Some(&api.token(3)),
        )
        .await?;
    let ap = listed(&listed_json).first().cloned().ok_or("seeded")?;
    let id = ap["id"].as_str().ok_or("id")?;
    let (status, fhir) = api
        .fetch(&format!("/fhir/Appointment/{id}"), Some(&api.token(3)))
        .await?;
    assert_eq!(status, 200, "{fhir}");
    assert_eq!(fhir["resourceType"], "Appointment");
    assert_eq!(fhir["id"], json!(id));
    assert_eq!(fhir["status"], ap["status"]);
    assert_eq!(fhir["meta"]["versionId"], json!(ap["version"].to_string()));
    let actors: Vec<&str> = fhir["participant"]
        .as_array()
        .ok_or("participants")?
        .iter()
        .filter_map(|p| p["actor"]["reference"].as_str())
        .collect();
    assert!(
        actors.contains(&format!("Patient/{}", api.id(3)).as_str()),
        "{actors:?}"
    );
    assert!(
        actors.contains(
            &format!(
                "Practitioner/{}",
                ap["provider"].as_str().ok_or("provider")?
            )
            .as_str()
        ),
        "{actors:?}"
    );
    Ok(())
}

#[tokio::test]
async fn appointment_search_filters_and_pages() -> TestResult {
    let api = Api::new()?;
    let me = api.id(0);
    // Two more bookings for patient 0, so there are three to page through.
    for (n, from) in ["2026-06-15T12:00:00Z", "2026-06-17T12:00:00Z"]
        .iter()
        .enumerate()
    {
        let (_, slots) = api
            .fetch(
                &format!("/v1/slots?appointment_type=gp-visit&limit=1&from={from}"),
                None,
            )
            .await?;
        let slot = slots
            .as_array()
            .and_then(|s| s.first())
            .cloned()
            .ok_or("slot")?;
        let (status, body) = api
            .call(
                "POST",
                &format!("/v1/patients/{me}/appointments"),
                Some("demo-scheduler"),
                Some(json!({"option": slot, "client_token": format!("fhir-{n}")})),
            )
            .await?;
        assert_eq!(status, 201, "{body}");
    }
    let all = api.appointment_ids(0).await?;
    assert_eq!(all.len(), 3);
    let mut uri = format!("/fhir/Appointment?patient={me}&_count=2");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = api.fetch(&uri, Some("demo-scheduler")).await?;
        assert_eq!(status, 200, "{uri}: {body}");
        assert_eq!(
            (&body["type"], &body["total"]),
            (&json!("searchset"), &json!(3))
        );
        seen.extend(ids(&body));
        pages += 1;
        let links = body["link"].as_array().ok_or("links")?;
        match links.iter().find(|l| l["relation"] == "next") {
            Some(next) => {
                let url = next["url"].as_str().ok_or("url")?;
                uri = format!("/fhir{}", url.strip_prefix(BASE).ok_or("absolute")?);
            }
            None => break,
        }
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(pages, 2);
    let (mut seen_sorted, mut all_sorted) = (seen.clone(), all.clone());
    seen_sorted.sort();
    all_sorted.sort();
    assert_eq!(seen_sorted, all_sorted);
    // Status filters: all three are booked.
    for (query, total) in [
        ("status=booked", 3),
        ("status=cancelled", 0),
        ("status=cancelled,booked", 3),
    ] {
        let (status, body) = api
            .fetch(
                &format!("/fhir/Appointment?patient={me}&{query}"),
                Some(&api.token(0)),
            )
            .await?;
        assert_eq!(
            (status, &body["total"]),
            (200, &json!(total)),
            "{query}: {body}"
        );
    }
    // A patient asking for another patient finds nothing, like a patient with none.
    let (_, body) = api
        .fetch(
            &format!("/fhir/Appointment?patient={}", api.id(1)),
            Some(&api.token(0)),
        )
        .await?;
    assert_eq!(body["total"], 0);
    let (_, body) = api.fetch("/fhir/Appointment", Some(&api.token(5))).await?;
    assert_eq!(body["total"], 0);
    // Schedule search by actor: one per provider.
    let (_, all) = api.fetch("/fhir/Schedule", None).await?;
    assert_eq!(all["total"], json!(api.demo.providers.len()));
    let p = api.demo.providers[1].to_string();
    let (_, one) = api
        .fetch(&format!("/fhir/Schedule?actor=Practitioner/{p}"), None)
        .await?;
    assert_eq!(ids(&one), vec![p.clone()]);
    assert_eq!(
        one["entry"][0]["resource"]["actor"][0]["reference"],
        json!(format!("Practitioner/{p}"))
    );
    Ok(())
}

#[tokio::test]
async fn bad_parameters_are_400_outcomes_that_never_echo_the_value() -> TestResult {
    let api = Api::new()?;
    let me = api.id(0);
    let rows: &[(&str, &str)] = &[
        ("/fhir/Appointment?patient=Zebulon", "patient"),
        ("/fhir/Appointment?status=Zebulon", "status"),
        ("/fhir/Appointment?date=Zebulon", "date"),
        ("/fhir/Appointment?date=neZebulon", "date"),
        ("/fhir/Appointment?practitioner=Zebulon", "practitioner"),
        ("/fhir/Appointment?_sort=Zebulon", "_sort"),
        ("/fhir/Appointment?nickname=Zebulon", "`nickname`"),
        ("/fhir/Slot?service-type=gp-visit&start=Zebulon", "start"),
        (
            "/fhir/Slot?service-type=gp-visit&schedule=Zebulon",
            "schedule",
        ),
        ("/fhir/Slot?service-type=gp-visit&status=Zebulon", "status"),
        ("/fhir/Slot?start=ge2026-06-09", "service-type"),
        (
            "/fhir/Appointment/$find?start=Zebulon&service-type=gp-visit",
            "start",
        ),
        (
            "/fhir/Appointment/$find?practitioner=Zebulon&service-type=gp-visit",
            "practitioner",
        ),
        ("/fhir/Appointment?_count=Zebulon", "_count"),
        (
            "/fhir/Appointment?Zebulon%20Smith=1",
            "unknown search parameter",
        ),
        ("/fhir/Schedule?actor=Zebulon", "actor"),
        ("/fhir/Schedule?Zebulon=1", "`Zebulon`"),
    ];
    for (uri, names) in rows {
        let uri = if uri.starts_with("/fhir/Appointment?") {
            format!("{uri}&patient={me}")
        } else {
            uri.to_string()
        };
        let (status, body) = api.fetch(&uri, Some("demo-scheduler")).await?;
        assert_eq!(status, 400, "{uri}: {body}");
        assert_eq!(body["issue"][0]["code"], "invalid");
        let text = body["issue"][0]["diagnostics"].as_str().ok_or("text")?;
        assert!(text.contains(names), "{uri}: {text}");
        if *names != "`Zebulon`" {
            assert!(!text.contains("Zebulon"), "{uri}: {text}");
        }
    }
    Ok(())
}

/// An access decision without what differs from one decision to the next.
fn decision(entry: &Value) -> Value {
    let mut entry = entry.clone();
    if let Some(map) = entry.as_object_mut() {
        map.retain(|k, _| !matches!(k.as_str(), "at" | "event" | "seq" | "id" | "event_id"));
    }
    entry
}

#[tokio::test]
async fn a_fhir_appointment_read_is_audited_exactly_like_the_json_list() -> TestResult {
    let api = Api::new()?;
    let (me, t) = (api.id(0), api.token(0));
    let id = api
        .appointment_ids(0)
        .await?
        .first()
        .cloned()
        .ok_or("seeded")?;
    let accesses = || async {
        let (_, body) = api
            .fetch(&format!("/v1/patients/{me}/disclosures"), Some(&t))
            .await?;
        Res::Ok(body["accesses"].as_array().cloned().unwrap_or_default())
    };
    let before = accesses().await?;
    let uri = format!("/v1/patients/{me}/appointments");
    assert_eq!(api.fetch(&uri, Some("demo-reception")).await?.0, 200);
    let after_json = accesses().await?;
    let uri = format!("/fhir/Appointment/{id}");
    assert_eq!(api.fetch(&uri, Some("demo-reception")).await?.0, 200);
    let after_fhir = accesses().await?;
    let uri = format!("/fhir/Appointment?patient={me}");
    assert_eq!(api.fetch(&uri, Some("demo-reception")).await?.0, 200);
    let after_search = accesses().await?;
    let strip = |s: &[Value]| s.iter().map(decision).collect::<Vec<_>>();
    let json_list = strip(&after_json[before.len()..]);
    assert!(json_list.len() >= 2, "the read and the disclosures call");
    assert_eq!(strip(&after_fhir[after_json.len()..]), json_list);
    assert_eq!(strip(&after_search[after_fhir.len()..]), json_list);
    Ok(())
}
