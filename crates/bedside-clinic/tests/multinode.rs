//! Several clinic nodes on one PostgreSQL database: correctness comes from the database, not
//! from a process-local lock. Each node here is a separate `Clinic` with its own connection
//! (what a separate process has); `tests/nodes.rs` runs real processes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{
    Clinic, ClinicConfig, ClinicError, Durability, PaymentRequest, PostgresStore,
};
use bedside_core::ManualClock;
use std::sync::Arc;

type Res = Result<(), Box<dyn std::error::Error>>;

struct Cluster {
    url: String,
    anchor: MemoryAnchor,
    clock: Arc<ManualClock>,
    _pg: TempCluster,
}

impl Cluster {
    fn start(what: &str) -> Result<Option<Self>, Box<dyn std::error::Error>> {
        let Some(pg) = TempCluster::start_or_skip(what)? else {
            return Ok(None);
        };
        Ok(Some(Cluster {
            url: pg.create_database("clinic")?,
            anchor: MemoryAnchor::new(),
            clock: Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?)),
            _pg: pg,
        }))
    }

    fn node(&self) -> Result<Arc<Clinic>, Box<dyn std::error::Error>> {
        let store = PostgresStore::connect(
            &self.url,
            Durability::Normal,
            Box::new(self.anchor.clone()),
            ChainKey::development(),
        )?;
        Ok(Arc::new(Clinic::open(
            Box::new(store),
            self.clock.clone(),
            ClinicConfig::default(),
        )?))
    }
}

fn patient(demo: &Demo, i: usize) -> bedside_clinic::Principal {
    bedside_clinic::Principal::Patient {
        patient: demo.patients[i].0,
    }
}

fn count(v: &[bedside_clinic::clinic::AppointmentView]) -> usize {
    v.len()
}

#[test]
fn a_write_on_one_node_is_read_on_the_others_at_once() -> Res {
    let Some(c) = Cluster::start("the multi-node tests")? else {
        return Ok(());
    };
    let a = c.node()?;
    let demo = seed::seed(&a)?;
    // Nodes started after the seed load it; nodes started before catch up.
    let b = c.node()?;
    let early = c.node()?;
    let who = patient(&demo, 0);
    let id = demo.patients[0].0;
    let before = count(&b.appointments(&who, id)?);
    let slots = a.find_slots(&bedside_clinic::SlotSearch {
        appointment_type: "gp-visit".into(),
        ..Default::default()
    })?;
    a.book(&who, id, slots[0].clone(), "visit-1")?;
    assert_eq!(count(&b.appointments(&who, id)?), before + 1);
    assert_eq!(count(&early.appointments(&who, id)?), before + 1);
    // A read-only refresh (the background poll) catches up too.
    let c2 = c.node()?;
    let slots = a.find_slots(&bedside_clinic::SlotSearch {
        appointment_type: "gp-visit".into(),
        ..Default::default()
    })?;
    let (other, other_id) = (patient(&demo, 1), demo.patients[1].0);
    let theirs = count(&a.appointments(&other, other_id)?);
    a.book(&other, other_id, slots[0].clone(), "visit-2")?;
    c2.refresh()?;
    assert_eq!(count(&c2.appointments(&other, other_id)?), theirs + 1);
    Ok(())
}

#[test]
fn a_booking_race_across_nodes_has_exactly_one_winner() -> Res {
    let Some(c) = Cluster::start("the multi-node tests")? else {
        return Ok(());
    };
    let first = c.node()?;
    let demo = seed::seed(&first)?;
    let nodes = [first, c.node()?, c.node()?];
    for round in 0..5 {
        // Each round from a fresh search on a different node: the public search reads without
        // the database (it may lag other nodes by one poll), so the node polls first.
        nodes[round % 3].refresh()?;
        let slots = nodes[round % 3].find_slots(&bedside_clinic::SlotSearch {
            appointment_type: "gp-visit".into(),
            ..Default::default()
        })?;
        let option = slots[0].clone();
        let handles: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let node = node.clone();
                let option = option.clone();
                let (who, id) = (patient(&demo, i), demo.patients[i].0);
                std::thread::spawn(move || node.book(&who, id, option, &format!("race-{round}")))
            })
            .collect();
        let results: Vec<Result<_, ClinicError>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(
                r.status(),
                409,
                "round {round}: the losers are told it is taken"
            );
        }
    }
    // Every node holds the same chain, intact, read from the database.
    let staff = seed::demo_staff("privacy-officer")?;
    let mut heads = Vec::new();
    for node in &nodes {
        let v = node.verify_audit(&staff)?;
        assert!(v.verified, "{v:?}");
        heads.push(v.head.clone());
    }
    assert!(heads.windows(2).all(|w| w[0] == w[1]), "{heads:?}");
    Ok(())
}

#[test]
fn a_payment_key_is_honoured_once_across_nodes_and_a_restart_sees_everything() -> Res {
    let Some(c) = Cluster::start("the multi-node tests")? else {
        return Ok(());
    };
    let a = c.node()?;
    let demo = seed::seed(&a)?;
    let b = c.node()?;
    let billing = seed::demo_staff("billing")?;
    let id = demo.patients[1].0;
    let balance = |node: &Clinic| -> i64 { node.statement(&billing, id).unwrap().balance_minor };
    let start = balance(&a);
    let pay = PaymentRequest {
        amount_minor: 500,
        client_token: Some("once".into()),
        credit: true,
    };
    let first = a.pay(&billing, id, &pay)?;
    let again = b.pay(&billing, id, &pay)?;
    assert_eq!(first, again, "the same key answers the same, on any node");
    assert_eq!(balance(&b), start - 500);
    // The same key with another amount is refused everywhere.
    let other = PaymentRequest {
        amount_minor: 700,
        ..pay
    };
    assert_eq!(
        b.pay(&billing, id, &other).map_err(|e| e.status()),
        Err(409)
    );
    // A node started now replays nothing it does not need to and agrees.
    let late = c.node()?;
    assert_eq!(balance(&late), start - 500);
    let staff = seed::demo_staff("privacy-officer")?;
    assert!(late.verify_audit(&staff)?.verified);
    Ok(())
}

/// A node under a burst hands the database's write lock from request to request (group
/// commit across requests), but once the burst is over it holds nothing: another node writes
/// at once. A lock kept while idle would make the other node's write wait forever.
#[test]
fn a_burst_on_one_node_never_leaves_the_write_lock_held() -> Res {
    let Some(c) = Cluster::start("the multi-node tests")? else {
        return Ok(());
    };
    let a = c.node()?;
    let demo = seed::seed(&a)?;
    let b = c.node()?;
    let reception = seed::demo_staff("reception")?;
    for round in 0..8 {
        // Eight threads each check a permit (no write lock) and register (the write lock),
        // as HTTP requests do: gate first, then the write; then one more check.
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (a, reception) = (a.clone(), reception.clone());
                let subject = demo.patients[t % demo.patients.len()].0;
                std::thread::spawn(move || -> Result<(), ClinicError> {
                    for i in 0..10 {
                        a.permit(
                            bedside_clinic::access::Endpoint::ReadPatient,
                            Some(&reception),
                            Some(subject),
                        )?;
                        let form: bedside_clinic::Registration =
                            serde_json::from_value(serde_json::json!({
                                "given": [format!("Burst{round}x{t}x{i}")],
                                "family": "Lockholder",
                                "birth_date": format!("19{:02}-0{}-1{}", 40 + t, 1 + i % 9, round)
                            }))
                            .map_err(|e| ClinicError::bad(e.to_string()))?;
                        a.register(&form, Some(&reception))?;
                    }
                    // Ending on a check that writes nothing, as a refused request does: the
                    // last to leave may be it, holding a lock handed on to it.
                    a.permit(
                        bedside_clinic::access::Endpoint::ReadPatient,
                        Some(&reception),
                        Some(subject),
                    )
                    .map(|_| ())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap()?;
        }
        // Node a is idle now; node b's write must not wait for it.
        let (done, finished) = std::sync::mpsc::channel();
        let (b2, reception2) = (b.clone(), reception.clone());
        std::thread::spawn(move || {
            let form: bedside_clinic::Registration = serde_json::from_value(serde_json::json!({
                "given": [format!("After{round}")], "family": "Othernode", "birth_date": "1977-07-07"
            }))
            .unwrap();
            let _ = done.send(b2.register(&form, Some(&reception2)).map(|_| ()));
        });
        let written = finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .map_err(|_| format!("round {round}: node b's write waited 10 s for node a's lock"))?;
        written?;
    }
    Ok(())
}
