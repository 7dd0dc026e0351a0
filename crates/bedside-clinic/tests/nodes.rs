//! Three backend processes (the `bedside-clinic` binary) on one throwaway PostgreSQL: a
//! cross-node booking race, read-after-write across nodes, and `kill -9` of a node under load
//! with every acknowledged write checked afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::pgtest::TempCluster;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a node makes commits durable.
#[derive(Clone, Copy)]
enum Commits {
    /// The default: each commit written at once, asynchronously flushed.
    Default,
    /// `--fsync`: group commit, where a burst's batches are written together when the write
    /// lock is released and each answer waits for the shared flush.
    Grouped,
}

/// Starts a node and waits for its "listening on" line.
fn start(data_dir: &std::path::Path, url: &str, commits: Commits) -> Res<Node> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bedside-clinic"));
    if let Commits::Grouped = commits {
        command.arg("--fsync");
    }
    let mut child = command
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--database",
            url,
            "--listen",
            "127.0.0.1:0",
            "--no-rate-limits",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().ok_or("the node exited before listening")??;
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_string();
        }
    };
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Node { child, base })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: &str,
    body: Option<(Value, Option<&str>)>,
) -> Res<(u16, Value)> {
    let auth = format!("Bearer {token}");
    let mut response = match body {
        None => {
            assert_eq!(method, "GET", "a body-less call is a read");
            agent.get(url).header("Authorization", &auth).call()?
        }
        Some((body, key)) => {
            assert_eq!(method, "POST", "a call with a body is a POST");
            let mut req = agent
                .post(url)
                .header("Authorization", &auth)
                .content_type("application/json");
            if let Some(key) = key {
                req = req.header("Idempotency-Key", key);
            }
            req.send(body.to_string())?
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string()?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Registers a patient on `node` (self-registration) and returns (id, token).
fn register(agent: &ureq::Agent, node: &Node, family: &str) -> Res<(String, String)> {
    let form = json!({"given": ["Test"], "family": family, "birth_date": "1980-02-03"});
    let url = format!("{}/v1/register", node.base);
    let (status, v) = call(agent, "POST", &url, "none", Some((form, None)))?;
    assert_eq!(status, 201, "{v}");
    Ok((
        v["patient"].as_str().ok_or("patient")?.to_string(),
        v["token"].as_str().ok_or("token")?.to_string(),
    ))
}

fn slots(agent: &ureq::Agent, node: &Node) -> Res<Vec<Value>> {
    let url = format!("{}/v1/slots?appointment_type=gp-visit&limit=3", node.base);
    let (_, v) = call(agent, "GET", &url, "none", None)?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

fn appointments(agent: &ureq::Agent, node: &Node, token: &str, id: &str) -> Res<usize> {
    let url = format!("{}/v1/patients/{id}/appointments", node.base);
    let (status, v) = call(agent, "GET", &url, token, None)?;
    assert_eq!(status, 200, "{v}");
    Ok(v.as_array().map_or(0, Vec::len))
}

#[test]
fn three_nodes_serve_one_clinic_and_survive_a_kill() -> Res {
    let Some(pg) = TempCluster::start_or_skip("the multi-process tests")? else {
        return Ok(());
    };
    let url = pg.create_database("clinic")?;
    let dir = std::env::temp_dir().join(format!("bedside-nodes-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    // The first node seeds the demo clinic; the others join it (same checkpoint and key).
    // Both ways of committing on one database; the node killed below (the second) groups its
    // commits, so what it acknowledged had waited for its group's write and flush.
    let mut nodes = vec![start(&dir, &url, Commits::Default)?];
    nodes.push(start(&dir, &url, Commits::Grouped)?);
    nodes.push(start(&dir, &url, Commits::Grouped)?);
    let agent = agent();
    // Patients register on different nodes.
    let mut people = Vec::new();
    for (i, family) in ["Abara", "Brandt", "Castellanos", "Dvorak", "Eze"]
        .iter()
        .enumerate()
    {
        people.push(register(&agent, &nodes[i % 3], family)?);
    }

    // Read-after-write across nodes: a booking on node 1 is listed by nodes 2 and 3 at once.
    let (me, my_token) = people[0].clone();
    let before = appointments(&agent, &nodes[1], &my_token, &me)?;
    let option = slots(&agent, &nodes[0])?.remove(0);
    let url_book = format!("{}/v1/patients/{me}/appointments", nodes[0].base);
    let body = json!({"option": option, "client_token": "n1"});
    let (status, v) = call(&agent, "POST", &url_book, &my_token, Some((body, None)))?;
    assert_eq!(status, 201, "{v}");
    for node in &nodes[1..] {
        assert_eq!(appointments(&agent, node, &my_token, &me)?, before + 1);
    }
    // The public slot search reads without the database; within a second every node stops
    // offering the booked time.
    let booked = (option["provider"].clone(), option["period"].clone());
    let since = std::time::Instant::now();
    for node in &nodes[1..] {
        while slots(&agent, node)?
            .iter()
            .any(|o| (o["provider"].clone(), o["period"].clone()) == booked)
        {
            assert!(
                since.elapsed() < Duration::from_secs(1),
                "a node offered a booked slot for 1 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // A race for one slot across the three nodes: exactly one winner.
    let option = slots(&agent, &nodes[1])?.remove(0);
    let racers: Vec<_> = (0..3)
        .map(|i| {
            let (id, token) = people[i + 1].clone();
            let url = format!("{}/v1/patients/{id}/appointments", nodes[i].base);
            let body = json!({"option": option, "client_token": "race"});
            std::thread::spawn(move || {
                call(&agent_clone(), "POST", &url, &token, Some((body, None)))
                    .map(|r| r.0)
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409]);

    // kill -9 of a node under load: payments with distinct idempotency keys on every node;
    // node 2 is killed half-way; the other two keep serving; every acknowledged payment is
    // found afterwards (replaying its key answers the same body: it was recorded, once).
    let payer = people[4].0.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(n, node)| {
            let url = format!("{}/v1/patients/{payer}/payments", node.base);
            let stop = stop.clone();
            std::thread::spawn(move || {
                let agent = agent_clone();
                let mut acked = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("load-{n}-{i}");
                    i += 1;
                    let body = json!({"amount_minor": 1, "credit": true});
                    let sent = call(
                        &agent,
                        "POST",
                        &url,
                        "demo-billing",
                        Some((body, Some(&key))),
                    );
                    if let Ok((201, v)) = sent {
                        acked.push((key, v));
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let victim = nodes.remove(1);
    Command::new("kill")
        .args(["-9", &victim.child.id().to_string()])
        .status()?;
    drop(victim);
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<(String, Value)>> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    let survivors = acked[0].len() + acked[2].len();
    assert!(acked[1].len() > 5, "the victim served load before it died");
    assert!(survivors > 20, "the survivors kept serving: {survivors}");
    let mut checked = 0;
    for (key, first) in acked.iter().flatten() {
        let url = format!("{}/v1/patients/{payer}/payments", nodes[checked % 2].base);
        let body = json!({"amount_minor": 1, "credit": true});
        let (status, again) = call(
            &agent,
            "POST",
            &url,
            "demo-billing",
            Some((body, Some(key))),
        )?;
        assert_eq!(
            (status, &again),
            (201, first),
            "acknowledged payment {key} was lost"
        );
        checked += 1;
    }
    // And the survivors agree on one intact chain.
    for node in &nodes {
        let url = format!("{}/v1/audit/verify", node.base);
        let (status, v) = call(&agent, "GET", &url, "demo-privacy", None)?;
        assert_eq!((status, &v["verified"]), (200, &json!(true)), "{v}");
    }
    eprintln!(
        "nodes: {checked} acknowledged payments ({} by the killed node), all found",
        acked[1].len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn agent_clone() -> ureq::Agent {
    agent()
}
