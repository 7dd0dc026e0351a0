//! The demo seed's back-dated history: balances through the clinic's own services, and a
//! journal that replays to the same books.

use bedside_clinic::clinic::AgingView;
use bedside_clinic::{Clinic, ClinicConfig, Durability, SqliteStore, seed};
use bedside_core::{ManualClock, Timestamp};
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: &str = "2026-06-08T13:00:00Z";

/// Each demo patient's balance, and the aging report.
fn books(
    clinic: &Clinic,
    demo: &seed::Demo,
) -> Result<(Vec<i64>, AgingView), Box<dyn std::error::Error>> {
    let billing = seed::demo_staff("billing")?;
    let mut balances = Vec::new();
    for (patient, _) in &demo.patients {
        let statement = clinic.statement(&billing, *patient)?;
        balances.push(statement.balance_minor);
    }
    Ok((balances, clinic.aging(&billing)?))
}

#[test]
fn seeded_demo_has_balances_and_replays_them() -> TestResult {
    let path =
        std::env::temp_dir().join(format!("bedside-clinic-seed-{}.db", uuid::Uuid::now_v7()));
    let now: Timestamp = NOW.parse()?;
    let store = SqliteStore::open(&path, Durability::Normal)?;
    let (store, demo) = seed::seed_demo(Box::new(store), ClinicConfig::default(), now)?;
    let clinic = Clinic::open(
        store,
        Arc::new(ManualClock::new(now)),
        ClinicConfig::default(),
    )?;
    assert!(clinic.is_set_up());
    clinic.check_invariants()?;

    let (balances, aging) = books(&clinic, &demo)?;
    // James owes 25.00 coinsurance less a 10.00 payment; Grace owes 46.00; Henry's claim is
    // still with the payer.
    assert_eq!(balances, vec![0, 1_500, 0, 0, 4_600, 0]);
    assert_eq!(
        (aging.patients_total_minor, aging.payers_total_minor),
        (6_100, 15_000)
    );
    assert!(!aging.text.is_empty());

    // The statement a patient sees shows what they owe.
    let grace = clinic.statement(
        &bedside_clinic::Principal::Patient {
            patient: demo.patients[4].0,
        },
        demo.patients[4].0,
    )?;
    assert_eq!(grace.amount_due_minor, 4_600);

    // The first four patients still have upcoming appointments after `now`.
    let reception = seed::demo_staff("reception")?;
    for (patient, _) in demo.patients.iter().take(4) {
        let list = clinic.appointments(&reception, *patient)?;
        let upcoming = list
            .iter()
            .filter(|a| a.status == "booked" && a.start > now)
            .count();
        assert_eq!(upcoming, 1);
    }

    // Reopening the data directory replays the same books.
    drop(clinic);
    let reopened = Clinic::open(
        Box::new(SqliteStore::open(&path, Durability::Normal)?),
        Arc::new(ManualClock::new(now)),
        ClinicConfig::default(),
    )?;
    reopened.check_invariants()?;
    assert_eq!(books(&reopened, &demo)?, (balances, aging));
    assert!(
        reopened
            .verify_audit(&seed::demo_staff("privacy-officer")?)
            .is_ok()
    );
    // Seeding twice is refused.
    drop(reopened);
    let again = seed::seed_demo(
        Box::new(SqliteStore::open(&path, Durability::Normal)?),
        ClinicConfig::default(),
        now,
    );
    assert!(again.is_err());
    for suffix in ["", "-wal", "-shm", ".checkpoint"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}
