//! A clinic started from a snapshot plus the journal after it is the clinic a full replay
//! builds, and goes on identically.

use crate::clinic::{
    AccessHistory, Clinic, ClinicConfig, PaymentRequest, Registration, RegistrationReply,
    SlotSearch,
};
use crate::store::{Durability, SqliteStore, Store};
use crate::{Principal, seed};
use bedside_core::{ManualClock, PatientId, Timestamp};
use std::path::Path;
use std::sync::Arc;

type Res = Result<(), Box<dyn std::error::Error>>;

fn now() -> Timestamp {
    match "2026-06-08T13:00:00Z".parse() {
        Ok(t) => t,
        Err(e) => panic!("instant: {e}"),
    }
}

fn open(path: &Path, clock: &Arc<ManualClock>) -> Result<Clinic, Box<dyn std::error::Error>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(path, Durability::Normal)?);
    Ok(Clinic::open(store, clock.clone(), ClinicConfig::default())?)
}

/// The whole state as JSON text, at the clinic's current position (text, not a `Value`: the
/// ledger's ids are 128-bit numbers).
fn state(clinic: &Clinic) -> Result<String, Box<dyn std::error::Error>> {
    let inner = clinic.read();
    let position = super::SnapshotPosition {
        commands: inner.applied,
        audit: inner.state.audit.len(),
    };
    Ok(serde_json::to_string(&inner.state.snapshot(position))?)
}

fn form(n: u32) -> Registration {
    Registration {
        given: vec!["Ines".into()],
        family: format!("Tailcommand{n}"),
        birth_date: "1980-04-0{n}".replace("0{n}", &format!("{:02}", n % 28 + 1)),
        phone: None,
        email: None,
        postal_code: Some("10001".into()),
        sms_reminders: None,
        language: None,
    }
}

fn patient_of(v: &RegistrationReply) -> Result<PatientId, Box<dyn std::error::Error>> {
    Ok(v.patient())
}

/// Commands of every journey after the snapshot: registration, booking, payment, discharge
/// and a vitals upload.
fn tail(clinic: &Clinic, clock: &ManualClock) -> Res {
    let reception = seed::demo_staff("reception")?;
    let scheduler = seed::demo_staff("scheduler")?;
    let nurse = seed::demo_staff("nurse")?;
    let fresh = patient_of(&clinic.register(&form(1), Some(&reception))?)?;
    let slot = clinic
        .find_slots(&SlotSearch {
            appointment_type: "gp-visit".into(),
            limit: Some(1),
            ..SlotSearch::default()
        })?
        .into_iter()
        .next()
        .ok_or("no slot")?;
    clinic.book(&scheduler, fresh, slot, "tail-booking")?;
    clinic.discharge(&nurse, fresh)?;
    clock.advance(chrono::TimeDelta::minutes(5));
    let at = clock.now().to_rfc3339();
    let body = format!(
        "{{\"patient\":\"{fresh}\",\"kind\":\"heart_rate\",\"at\":\"{at}\",\"value\":72,\"unit\":\"/min\",\"source\":\"app:test\"}}\n"
    );
    clinic.upload_vitals(&Principal::Patient { patient: fresh }, fresh, &body)?;
    let second = patient_of(&clinic.register(&form(2), Some(&reception))?)?;
    let billing = seed::demo_staff("billing")?;
    clinic.pay(
        &billing,
        second,
        &PaymentRequest {
            amount_minor: 500,
            client_token: Some("tail-payment".into()),
            credit: true,
        },
    )?;
    Ok(())
}

use bedside_core::Clock as _;

#[test]
fn snapshot_plus_tail_is_the_full_replay_and_goes_on_identically() -> Res {
    let dir = std::env::temp_dir().join(format!("bedside-snap-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("clinic.db");
    let store: Box<dyn Store> = Box::new(SqliteStore::open(&db, Durability::Normal)?);
    let (store, _demo) = seed::seed_demo(store, ClinicConfig::default(), now())?;
    drop(store);
    let clock = Arc::new(ManualClock::new(now()));

    // A: the demo history replayed whole, a snapshot written, then more of every journey.
    let a = open(&db, &clock)?;
    assert!(!a.started_from_snapshot());
    // Audited reads before the snapshot: the patient's own, and a clinician's break-the-glass
    // read (a review item).
    let reception = seed::demo_staff("reception")?;
    let watched = patient_of(&a.register(&form(5), Some(&reception))?)?;
    a.patient(&Principal::Patient { patient: watched }, watched, None)?;
    let clinician = seed::demo_staff("clinician")?;
    a.patient(&clinician, watched, Some("unconscious in the waiting room"))?;
    let at = a.write_snapshot()?;
    assert!(
        at.audit >= 2,
        "reads before the snapshot are audited: {at:?}"
    );
    assert!(
        at.commands > 20,
        "the demo history journals commands: {at:?}"
    );
    tail(&a, &clock)?;
    a.patient(&Principal::Patient { patient: watched }, watched, None)?;
    let expected = state(&a)?;
    let officer = seed::demo_staff("privacy-officer")?;
    let reviews = a.reviews(&officer)?;
    drop(a);

    // B: the snapshot plus the tail.
    let b = open(&db, &clock)?;
    assert!(b.started_from_snapshot());
    assert_eq!(b.read().snapshot_at, at.commands);
    assert_eq!(state(&b)?, expected);
    assert_eq!(b.verify_history()?, None);
    assert_eq!(b.reviews(&officer)?, reviews);
    // The access history spans the snapshot: older entries come back from the store.
    let me = Principal::Patient { patient: watched };
    let history = b.disclosures(&me, watched)?;
    assert!(b.read().state.audit.first_held() > 0);
    // That read is audited too: C must match B as it is now.
    let expected = state(&b)?;
    drop(b);

    // An attacker with write access to the database edits the snapshot (a valid JSON change
    // that would, say, drop a discharge): its tag fails, the clinic ignores it and replays the
    // whole journal, and the state is what the journal says.
    let conn = rusqlite::Connection::open(&db)?;
    conn.execute(
        "UPDATE snapshots SET body = replace(body, '\"discharged\":{', '\"discharged\":{}, \"x\":{')",
        [],
    )?;
    drop(conn);
    let forged = open(&db, &clock)?;
    assert!(!forged.started_from_snapshot());
    assert_eq!(state(&forged)?, expected);
    drop(forged);

    // C: the whole journal again, snapshots gone (they are not chained: deleting them is
    // not a break).
    rusqlite::Connection::open(&db)?.execute("DELETE FROM snapshots", [])?;
    let c = open(&db, &clock)?;
    assert!(!c.started_from_snapshot());
    assert_eq!(state(&c)?, expected);
    assert_eq!(c.read().state.audit.first_held(), 0);
    // The same history, but for the entries the two reads of it added themselves.
    let full = c.disclosures(&me, watched)?;
    let seqs = |v: &AccessHistory| -> Vec<u64> { v.accesses.iter().map(|a| a.seq).collect() };
    let (from_b, from_c) = (seqs(&history), seqs(&full));
    assert!(from_b.len() >= 3, "{from_b:?}");
    assert_eq!(from_c[..from_b.len()], from_b[..]);
    // The id sequence and the replay clock are part of the state compared, so the next
    // command gets the same ids either way.
    drop(c);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The demo clinic, replayed, and its state as a snapshot value.
fn demo_snapshot() -> Result<(super::StateSnapshot, String), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("bedside-snapv-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("clinic.db");
    let store: Box<dyn Store> = Box::new(SqliteStore::open(&db, Durability::Normal)?);
    let (store, demo) = seed::seed_demo(store, ClinicConfig::default(), now())?;
    drop(store);
    let clock = Arc::new(ManualClock::new(now()));
    let clinic = open(&db, &clock)?;
    // A vitals upload, so the vitals section holds readings.
    let patient = demo.patients[0].0;
    let nurse = seed::demo_staff("nurse")?;
    clinic.discharge(&nurse, patient)?;
    let reading = format!(
        "{{\"patient\":\"{patient}\",\"kind\":\"heart_rate\",\"at\":\"2026-06-08T12:55:00Z\",\"value\":72,\"unit\":\"/min\",\"source\":\"app:test\"}}\n"
    );
    clinic.upload_vitals(&Principal::Patient { patient }, patient, &reading)?;
    let text = state(&clinic)?;
    let inner = clinic.read();
    let position = super::SnapshotPosition {
        commands: inner.applied,
        audit: inner.state.audit.len(),
    };
    let snapshot = inner.state.snapshot(position);
    drop(inner);
    drop(clinic);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((snapshot, text))
}

#[test]
fn both_stored_versions_restore_to_the_same_state() -> Res {
    let policy = ClinicConfig::default().policy_json;
    let (snapshot, text) = demo_snapshot()?;
    // Version 1: one JSON value with the vitals inside.
    // (Edited as text: the ledger's ids are 128-bit numbers a `Value` cannot hold.)
    let current = format!("{{\"version\":{},", super::STATE_SNAPSHOT_VERSION);
    assert!(text.starts_with(&current), "the version first");
    let v1 = text.replacen(&current, "{\"version\":1,", 1);
    assert!(v1.contains(",\"vitals\":{"), "the vitals are in the value");
    let v2 = snapshot.into_stored()?;
    assert!(v2.starts_with(super::V2_HEADER), "the header line first");
    for body in [&v1, &v2] {
        let (restored, position) = super::State::restore_stored(body, &policy)?;
        assert_eq!(
            serde_json::to_string(&restored.snapshot(position))?,
            text,
            "a stored snapshot restores to the state it was taken from"
        );
    }
    // Vitals in neither or both places, a newer version, a cut body: refused, never guessed.
    let rest = v2.strip_prefix(super::V2_HEADER).ok_or("header")?;
    let (vitals_part, state_part) = rest.split_once('\n').ok_or("two parts")?;
    let header = super::V2_HEADER;
    let newer = state_part.replacen("\"version\":2", "\"version\":3", 1);
    for (case, body) in [
        ("no vitals", state_part.to_string()),
        ("vitals twice", format!("{header}{vitals_part}\n{v1}")),
        ("newer version", format!("{header}{vitals_part}\n{newer}")),
        ("vitals line not ended", format!("{header}{vitals_part}")),
        ("cut short", v2[..v2.len() - 10].to_string()),
    ] {
        assert!(
            super::State::restore_stored(&body, &policy).is_err(),
            "{case}"
        );
    }
    Ok(())
}
