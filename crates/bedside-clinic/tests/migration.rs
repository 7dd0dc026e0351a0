//! A clinic written by an earlier schema (SQLite 3: before `unique_keys` and snapshots) opens on this
//! build: the journal replays, the chain verifies, and the new constraint applies from then on.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::{Clinic, ClinicConfig, Durability, PaymentRequest, SqliteStore, seed};
use bedside_core::ManualClock;
use std::sync::Arc;

#[test]
fn a_schema_3_clinic_reopens_with_everything() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("bedside-migrate-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("clinic.db");
    let clock = Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?));
    let open = || -> Result<Clinic, Box<dyn std::error::Error>> {
        let store = SqliteStore::open(&db, Durability::Normal)?;
        Ok(Clinic::open(
            Box::new(store),
            clock.clone(),
            ClinicConfig::default(),
        )?)
    };
    let clinic = open()?;
    let demo = seed::seed(&clinic)?;
    let billing = seed::demo_staff("billing")?;
    let patient = demo.patients[2].0;
    let pay = PaymentRequest {
        amount_minor: 300,
        client_token: Some("before-upgrade".into()),
        credit: true,
    };
    let first = clinic.pay(&billing, patient, &pay)?;
    let balance = clinic.statement(&billing, patient)?.balance_minor;
    // An appointment booked before the holds table existed.
    let slots = clinic.find_slots(&bedside_clinic::SlotSearch {
        appointment_type: "gp-visit".into(),
        ..Default::default()
    })?;
    let booker = bedside_clinic::Principal::Patient { patient };
    let booked = clinic.book(&booker, patient, slots[0].clone(), "before-upgrade")?;
    drop(clinic);
    // What the previous release left on disk.
    let conn = rusqlite::Connection::open(&db)?;
    // (Schema 4 added `unique_keys`, schema 5 the snapshots table and batch indexes, schema 6
    // the holds.)
    conn.execute_batch(
        "DROP TABLE unique_keys; DROP TABLE snapshots; DROP INDEX commands_batch;
         DROP INDEX audit_batch; DROP INDEX reviews_batch; DROP TABLE holds;
         PRAGMA user_version = 3;",
    )?;
    drop(conn);

    let clinic = open()?;
    assert_eq!(clinic.statement(&billing, patient)?.balance_minor, balance);
    let privacy = seed::demo_staff("privacy-officer")?;
    assert!(clinic.verify_audit(&privacy)?.verified);
    // The key paid before the upgrade still answers the same (the services remember it).
    assert_eq!(clinic.pay(&billing, patient, &pay)?, first);
    // New keys are kept unique by the database too.
    let after = PaymentRequest {
        client_token: Some("after-upgrade".into()),
        ..pay
    };
    clinic.pay(&billing, patient, &after)?;
    let conn = rusqlite::Connection::open(&db)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let keys: i64 = conn.query_row("SELECT COUNT(*) FROM unique_keys", [], |r| r.get(0))?;
    assert_eq!(version, bedside_clinic::store::SCHEMA_VERSION);
    assert_eq!(
        keys, 1,
        "only the key paid after the upgrade is in the new table"
    );
    // The appointment booked before the upgrade holds its provider and patient (and room).
    let held: i64 = conn.query_row(
        "SELECT COUNT(*) FROM holds WHERE appointment = ?1",
        [booked.appointment.to_string()],
        |r| r.get(0),
    )?;
    assert!(held >= 2, "filled from the state at start-up: {held}");
    drop(conn);
    drop(clinic);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
