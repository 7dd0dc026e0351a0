//! The Bedside reference clinic backend: an HTTP JSON API over an embedded SQLite database,
//! seeded with a demo clinic on first run.
//!
//! Run with `cargo run --release --example clinic` (flags: `--data-dir DIR` (default
//! `clinic-data`), `--listen ADDR` (default `127.0.0.1:8080`), `--reset` to start from an
//! empty database). The API is described in `docs/API.md`.

use bedside::core::{Clock, SystemClock};
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, FileNotifier, Notifier, SqliteStore, http, seed,
};
use std::path::PathBuf;
use std::sync::Arc;

struct Args {
    data_dir: PathBuf,
    listen: String,
    reset: bool,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        data_dir: PathBuf::from("clinic-data"),
        listen: "127.0.0.1:8080".into(),
        reset: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => out.data_dir = it.next().ok_or("--data-dir needs a path")?.into(),
            "--listen" => out.listen = it.next().ok_or("--listen needs an address")?,
            "--reset" => out.reset = true,
            "-h" | "--help" => {
                return Err("usage: clinic [--data-dir DIR] [--listen ADDR] [--reset]".into());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    std::fs::create_dir_all(&args.data_dir)?;
    let db = args.data_dir.join("clinic.db");
    if args.reset {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        let _ = std::fs::remove_file(args.data_dir.join("outbox.jsonl"));
    }
    let store = SqliteStore::open(&db, Durability::Normal)?;
    let mut clinic = Clinic::open(
        Box::new(store),
        Arc::new(SystemClock),
        ClinicConfig::default(),
    )?;
    if !clinic.is_set_up() {
        // First run: write the demo clinic with its back-dated history (past visits, claims,
        // a remittance and a payment), then reopen on the system clock.
        let store = clinic.into_store()?;
        let (store, demo) = seed::seed_demo(store, ClinicConfig::default(), SystemClock.now())?;
        clinic = Clinic::open(store, Arc::new(SystemClock), ClinicConfig::default())?;
        println!(
            "Seeded a demo clinic: {} providers, {} patients, {} days of history with open balances.",
            demo.providers.len(),
            demo.patients.len(),
            seed::HISTORY_DAYS
        );
    }
    let clinic = Arc::new(clinic);

    // Deliver due outbox messages every few seconds to a file (a stand-in for SMS/e-mail).
    let notifier = FileNotifier::new(args.data_dir.join("outbox.jsonl"));
    let deliverer = clinic.clone();
    std::thread::spawn(move || {
        loop {
            if let Err(e) = deliverer.deliver_due(&notifier as &dyn Notifier) {
                eprintln!("outbox delivery: {e}");
            }
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
    });

    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("Bedside clinic listening on http://{addr}");
    println!("  database: {}", db.display());
    println!(
        "  outbox deliveries: {}",
        args.data_dir.join("outbox.jsonl").display()
    );
    println!("Try:");
    println!("  curl http://{addr}/health");
    println!("  curl 'http://{addr}/v1/slots?appointment_type=gp-visit&limit=3'");
    println!(
        "  curl -H 'Authorization: Bearer demo-patient-1' http://{addr}/v1/patients/{}/appointments",
        demo_patient(&clinic, "demo-patient-1")
    );
    println!(
        "  curl -H 'Authorization: Bearer demo-patient-5' http://{addr}/v1/patients/{}/statement",
        demo_patient(&clinic, "demo-patient-5")
    );
    println!("  curl -H 'Authorization: Bearer demo-billing' http://{addr}/v1/billing/aging");
    println!("  curl -H 'Authorization: Bearer demo-nurse' http://{addr}/v1/alerts");
    println!(
        "Demo tokens: demo-reception, demo-scheduler, demo-clinician, demo-nurse, demo-privacy, demo-admin, demo-manager, demo-billing, demo-sms-gateway, demo-patient-1..6"
    );
    http::serve(listener, clinic, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The id of the demo patient behind a token.
fn demo_patient(clinic: &Clinic, token: &str) -> String {
    clinic
        .authenticate(token)
        .ok()
        .and_then(|p| p.acting_for())
        .map_or_else(|| "<patient-id>".into(), |p| p.to_string())
}
