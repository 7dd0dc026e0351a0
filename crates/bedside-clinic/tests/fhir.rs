//! The FHIR R4 face (`/fhir`), through the HTTP router: who may call what (the same answers
//! as the JSON API, and another patient's record looks missing), search semantics, paging,
//! versions, errors as `OperationOutcome`s, and that a FHIR read is audited exactly like the
//! JSON read.
//!
//! With `BEDSIDE_FHIR_OUT=DIR` every resource received is written to `DIR/*.json`, for
//! `../shared/tools/fhir-validate/fhir-validate DIR` (as `.ci/run` does).

mod common;

use common::{Api, BASE, Res, TestResult};
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[tokio::test]
async fn metadata_describes_exactly_what_is_served() -> TestResult {
    let api = Api::new()?;
    let a = api.get("/fhir/metadata", None).await?;
    assert_eq!(a.status, 200);
    let cs = &a.body;
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(
        (&cs["status"], &cs["kind"], &cs["fhirVersion"]),
        (&json!("active"), &json!("instance"), &json!("4.0.0"))
    );
    assert_eq!(cs["format"], json!(["json"]));
    assert_eq!(cs["rest"][0]["mode"], "server");
    assert!(cs["date"].is_string());
    let resources = cs["rest"][0]["resource"].as_array().ok_or("resources")?;
    assert_eq!(resources[0]["type"], "Patient");
    let patient = &resources[0];
    assert_eq!(patient["type"], "Patient");
    let interactions: Vec<&str> = patient["interaction"]
        .as_array()
        .ok_or("interactions")?
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert_eq!(
        interactions,
        ["read", "vread", "history-instance", "search-type"]
    );
    let params: Vec<&str> = patient["searchParam"]
        .as_array()
        .ok_or("params")?
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        params,
        [
            "_id",
            "identifier",
            "name",
            "family",
            "given",
            "birthdate",
            "phone",
            "email",
            "address-postalcode"
        ]
    );
    // Everything listed answers; every search parameter listed is accepted.
    let me = api.id(0);
    let t = api.token(0);
    for uri in [
        format!("/fhir/Patient/{me}"),
        format!("/fhir/Patient/{me}/_history/1"),
        format!("/fhir/Patient/{me}/_history"),
        "/fhir/Patient".to_string(),
    ] {
        assert_eq!(api.get(&uri, Some(&t)).await?.status, 200, "{uri}");
    }
    for p in params {
        let value = match p {
            "_id" => me.as_str(),
            "birthdate" => "1958",
            _ => "1",
        };
        let uri = format!("/fhir/Patient?{p}={value}");
        assert_eq!(api.get(&uri, Some(&t)).await?.status, 200, "{uri}");
    }
    Ok(())
}

#[tokio::test]
async fn who_may_read_what_through_fhir() -> TestResult {
    let api = Api::new()?;
    let (me, other) = (api.id(0), api.id(1));
    let (p0, p1) = (api.token(0), api.token(1));
    let reader = api.grant(0, &["demographics", "contact"]).await?;
    let partial = api.grant(0, &["demographics"]).await?;
    let booking = api.grant(0, &["appointments"]).await?;
    let missing = uuid::Uuid::now_v7().to_string();
    let read = |id: &str| format!("/fhir/Patient/{id}");
    let vread = |id: &str, v: &str| format!("/fhir/Patient/{id}/_history/{v}");
    let history = |id: &str| format!("/fhir/Patient/{id}/_history");
    let rows: Vec<(Option<&str>, String, u16)> = vec![
        // The patient: their own record; anyone else's looks missing.
        (Some(&p0), read(&me), 200),
        (Some(&p0), read(&other), 404),
        (Some(&p0), read(&missing), 404),
        (Some(&p0), read("not-a-uuid"), 404),
        (Some(&p1), read(&other), 200),
        (Some(&p0), vread(&me, "1"), 200),
        (Some(&p0), vread(&me, "2"), 404),
        (Some(&p0), vread(&me, "x"), 404),
        (Some(&p0), vread(&other, "1"), 404),
        (Some(&p0), history(&me), 200),
        (Some(&p0), history(&other), 404),
        // Proxies: demographics + contact read; less is refused; never another patient.
        (Some(&reader), read(&me), 200),
        (Some(&reader), history(&me), 200),
        (Some(&reader), read(&other), 404),
        (Some(&partial), read(&me), 403),
        (Some(&booking), read(&me), 403),
        (Some(&booking), "/fhir/Patient".into(), 403),
        // Staff by role.
        (Some("demo-reception"), read(&me), 200),
        (Some("demo-reception"), vread(&other, "1"), 200),
        (Some("demo-reception"), read(&missing), 404),
        (Some("demo-scheduler"), history(&me), 200),
        (Some("demo-billing"), read(&me), 403),
        (Some("demo-billing"), "/fhir/Patient".into(), 403),
        (Some("demo-admin"), history(&me), 403),
        // No or a bad token.
        (None, read(&me), 401),
        (None, read(&missing), 401),
        (None, "/fhir/Patient".into(), 401),
        (None, history(&me), 401),
        (Some("not-a-token"), read(&me), 401),
        (None, "/fhir/metadata".into(), 200),
        // What is not implemented.
        (None, "/fhir/Observation".into(), 404),
        (None, "/fhir".into(), 404),
    ];
    for (who, uri, want) in &rows {
        let a = api.get(uri, *who).await?;
        assert_eq!(a.status, *want, "GET {uri} as {who:?}: {}", a.body);
    }
    // Writes are not part of this face: 405, before any token is looked at.
    for (method, uri) in [
        ("POST", "/fhir/Patient".to_string()),
        ("PUT", read(&me)),
        ("DELETE", read(&me)),
        ("POST", "/fhir/metadata".to_string()),
    ] {
        let a = api
            .send(method, &uri, Some(&p0), &[], Some(json!({})))
            .await?;
        assert_eq!(a.status, 405, "{method} {uri}");
    }
    // The clinician: exactly the answers of the JSON read, record by record, and a search
    // finds exactly the records the JSON API lets them read.
    let mut readable = BTreeSet::new();
    for i in 0..api.demo.patients.len() {
        let id = api.id(i);
        let json_read = api
            .get(&format!("/v1/patients/{id}"), Some("demo-clinician"))
            .await?;
        let fhir_read = api.get(&read(&id), Some("demo-clinician")).await?;
        assert_eq!(fhir_read.status, json_read.status, "{id}");
        if json_read.status == 200 {
            readable.insert(id);
        }
    }
    let found = api
        .get("/fhir/Patient?_count=100", Some("demo-clinician"))
        .await?;
    assert_eq!(found.status, 200);
    let found: BTreeSet<String> = common::ids(&found.body).into_iter().collect();
    assert_eq!(found, readable);
    Ok(())
}

#[tokio::test]
async fn search_parameters_find_what_they_should() -> TestResult {
    let api = Api::new()?;
    let ids: Vec<String> = (0..api.demo.patients.len()).map(|i| api.id(i)).collect();
    let (p0, reader) = (
        api.token(0),
        api.grant(0, &["demographics", "contact"]).await?,
    );
    let rows: Vec<(&str, String, Vec<usize>)> = vec![
        ("demo-reception", "family=Delgado".into(), vec![0]),
        ("demo-reception", "family=delg".into(), vec![0]),
        ("demo-reception", "name=mar".into(), vec![0]),
        ("demo-reception", "name=whitfield".into(), vec![1]),
        ("demo-reception", "given=robert".into(), vec![1]),
        ("demo-reception", "birthdate=1971-11-02".into(), vec![1]),
        ("demo-reception", "birthdate=eq1990".into(), vec![2]),
        (
            "demo-reception",
            "phone=%2B1%20212%20555%200144".into(),
            vec![2],
        ),
        (
            "demo-reception",
            "email=GRACE.okafor@example.org".into(),
            vec![4],
        ),
        ("demo-reception", "address-postalcode=10006".into(), vec![5]),
        ("demo-reception", format!("_id={}", ids[3]), vec![3]),
        ("demo-reception", "family=Delgado,Liu".into(), vec![0, 5]),
        (
            "demo-reception",
            "family=Delgado&given=Henry".into(),
            vec![],
        ),
        ("demo-reception", "identifier=no-such-mrn".into(), vec![]),
        ("demo-reception", "family=".into(), vec![0, 1, 2, 3, 4, 5]),
        // A patient or a proxy finds only their own record, whatever they ask.
        (&p0, "family=Liu".into(), vec![]),
        (&p0, "".into(), vec![0]),
        (&p0, format!("_id={}", ids[1]), vec![]),
        (&reader, "birthdate=1958".into(), vec![0]),
    ];
    for (who, query, want) in &rows {
        let a = api
            .get(&format!("/fhir/Patient?{query}&_count=100"), Some(who))
            .await?;
        assert_eq!(a.status, 200, "{query}: {}", a.body);
        assert_eq!(a.body["type"], "searchset");
        let mut want: Vec<String> = want.iter().map(|i| ids[*i].clone()).collect();
        want.sort();
        let mut got = common::ids(&a.body);
        got.sort();
        assert_eq!(got, want, "{query} as {who}");
        assert_eq!(a.body["total"], json!(want.len()), "{query}");
        for e in a.body["entry"].as_array().into_iter().flatten() {
            let id = e["resource"]["id"].as_str().ok_or("id")?;
            assert_eq!(e["fullUrl"], json!(format!("{BASE}/Patient/{id}")));
            assert_eq!(e["search"]["mode"], "match");
        }
    }
    Ok(())
}

#[tokio::test]
async fn paging_walks_next_to_the_end_and_summary_counts() -> TestResult {
    let api = Api::new()?;
    let mut uri = "/fhir/Patient?_count=2".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let a = api.get(&uri, Some("demo-reception")).await?;
        assert_eq!(a.status, 200, "{uri}");
        assert_eq!(a.body["total"], 6);
        let page = common::ids(&a.body);
        assert!(page.len() <= 2 && !page.is_empty(), "{uri}");
        seen.extend(page);
        pages += 1;
        let links = a.body["link"].as_array().ok_or("links")?;
        assert!(links.iter().any(|l| l["relation"] == "self"));
        match links.iter().find(|l| l["relation"] == "next") {
            Some(next) => {
                let url = next["url"].as_str().ok_or("url")?;
                uri = format!("/fhir{}", url.strip_prefix(BASE).ok_or("absolute")?);
            }
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (6, 6));

    // `_summary=count`: the total alone.
    let a = api
        .get("/fhir/Patient?_summary=count", Some("demo-reception"))
        .await?;
    assert_eq!((a.status, &a.body["total"]), (200, &json!(6)));
    assert!(a.body.get("entry").is_none());
    let a = api
        .get(
            "/fhir/Patient?_summary=count&family=Liu",
            Some("demo-reception"),
        )
        .await?;
    assert_eq!(a.body["total"], 1);
    // Past the end: an empty page with the total.
    let a = api
        .get("/fhir/Patient?_count=2&_offset=40", Some("demo-reception"))
        .await?;
    assert_eq!((a.status, &a.body["total"]), (200, &json!(6)));
    assert!(common::ids(&a.body).is_empty());
    Ok(())
}

#[tokio::test]
async fn versions_etags_and_history() -> TestResult {
    let api = Api::new()?;
    let (me, t) = (api.id(0), api.token(0));
    let a = api.get(&format!("/fhir/Patient/{me}"), Some(&t)).await?;
    assert_eq!(a.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(a.body["meta"]["versionId"], "1");
    assert_eq!(a.body["id"], json!(me));
    // A change of address writes version 2.
    let change = json!({"base_version": 1, "address": {"lines": ["12 Harbour Road"], "postal_code": "20001"}});
    let a = api
        .send(
            "PATCH",
            &format!("/v1/patients/{me}"),
            Some(&t),
            &[],
            Some(change),
        )
        .await?;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = api.get(&format!("/fhir/Patient/{me}"), Some(&t)).await?;
    assert_eq!(a.etag.as_deref(), Some("W/\"2\""));
    assert_eq!(a.body["meta"]["versionId"], "2");
    let v1 = api
        .get(&format!("/fhir/Patient/{me}/_history/1"), Some(&t))
        .await?;
    assert_eq!((v1.status, v1.etag.as_deref()), (200, Some("W/\"1\"")));
    assert_eq!(v1.body["meta"]["versionId"], "1");
    assert!(v1.body["meta"]["lastUpdated"].is_string());
    assert_ne!(v1.body["address"], a.body["address"]);
    let h = api
        .get(&format!("/fhir/Patient/{me}/_history"), Some(&t))
        .await?;
    assert_eq!(
        (h.status, &h.body["type"], &h.body["total"]),
        (200, &json!("history"), &json!(2))
    );
    let versions: Vec<&Value> = h.body["entry"]
        .as_array()
        .ok_or("entries")?
        .iter()
        .map(|e| &e["resource"]["meta"]["versionId"])
        .collect();
    assert_eq!(versions, [&json!("2"), &json!("1")]);
    // The search finds the new postal code and no longer the old one.
    for (query, total) in [
        ("address-postalcode=20001", 1),
        ("address-postalcode=10001", 0),
    ] {
        let a = api
            .get(&format!("/fhir/Patient?{query}"), Some("demo-reception"))
            .await?;
        assert_eq!(a.body["total"], total, "{query}");
    }
    Ok(())
}

#[tokio::test]
async fn bad_parameters_are_400_outcomes_that_never_echo_the_value() -> TestResult {
    let api = Api::new()?;
    let rows: &[(&str, &str)] = &[
        ("nickname=Zebulon", "nickname"),
        ("name:exact=Zebulon", "name:exact"),
        ("birthdate=Zebulon", "birthdate"),
        ("birthdate=gt1970", "birthdate"),
        ("_id=Zebulon", "_id"),
        ("_count=Zebulon", "_count"),
        ("_offset=-1", "_offset"),
        ("_summary=Zebulon", "_summary"),
        ("_format=xml", "_format"),
        ("Zebulon%20Smith%201970=1", "unknown search parameter"),
        ("name=%ZZZebulon", "percent-encoding"),
    ];
    for (query, names) in rows {
        let a = api
            .get(&format!("/fhir/Patient?{query}"), Some("demo-reception"))
            .await?;
        assert_eq!(a.status, 400, "{query}");
        let text = a.body["issue"][0]["diagnostics"].as_str().ok_or("text")?;
        assert_eq!(a.body["issue"][0]["code"], "invalid");
        assert!(text.contains(names), "{query}: {text}");
        assert!(
            !text.contains("Zebulon") && !text.contains("xml"),
            "{query}: {text}"
        );
    }
    // Lenient handling ignores what it does not know.
    let a = api
        .send(
            "GET",
            "/fhir/Patient?nickname=Zebulon&family=Liu",
            Some("demo-reception"),
            &[("prefer", "handling=lenient")],
            None,
        )
        .await?;
    assert_eq!((a.status, &a.body["total"]), (200, &json!(1)));
    let self_link = a.body["link"][0]["url"].as_str().ok_or("self")?;
    assert!(!self_link.contains("nickname"), "{self_link}");
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
async fn a_fhir_read_is_audited_exactly_like_the_json_read() -> TestResult {
    let api = Api::new()?;
    let (me, t) = (api.id(0), api.token(0));
    let accesses = || async {
        let a = api
            .get(&format!("/v1/patients/{me}/disclosures"), Some(&t))
            .await?;
        Res::Ok(a.body["accesses"].as_array().cloned().unwrap_or_default())
    };
    let before = accesses().await?;
    assert_eq!(
        api.get(&format!("/v1/patients/{me}"), Some("demo-reception"))
            .await?
            .status,
        200
    );
    let after_json = accesses().await?;
    assert_eq!(
        api.get(&format!("/fhir/Patient/{me}"), Some("demo-reception"))
            .await?
            .status,
        200
    );
    let after_fhir = accesses().await?;
    // Each step adds the read and the disclosures call itself.
    let json_read = &after_json[before.len()..];
    let fhir_read = &after_fhir[after_json.len()..];
    assert_eq!(json_read.len(), fhir_read.len());
    assert!(json_read.len() >= 2);
    let strip = |s: &[Value]| s.iter().map(decision).collect::<Vec<_>>();
    assert_eq!(strip(json_read), strip(fhir_read));
    // A search audits each record it returns, and nothing for a count.
    api.get("/fhir/Patient?family=Delgado", Some("demo-reception"))
        .await?;
    let after_search = accesses().await?;
    assert_eq!(strip(&after_search[after_fhir.len()..]), strip(fhir_read));
    api.get("/fhir/Patient?_summary=count", Some("demo-reception"))
        .await?;
    let after_count = accesses().await?;
    assert_eq!(
        after_count.len() - after_search.len(),
        1,
        "only the disclosures call"
    );
    Ok(())
}
