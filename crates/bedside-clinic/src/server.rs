//! The reference backend's process: options, store, seeding, outbox delivery, catch-up
//! polling and the HTTP server. `examples/clinic.rs` and the `bedside-clinic` binary are this
//! module's [`run`].
//!
//! Flags: `--data-dir DIR` (default
//! `clinic-data`), `--listen ADDR` (default `127.0.0.1:8080`), `--database URL` (or
//! `BEDSIDE_DATABASE_URL`) to keep the clinic in PostgreSQL (`postgres://user@host:port/db`)
//! instead of `<data-dir>/clinic.db`, `--fsync` for commits that survive a power loss
//! (group commit: an answer leaves after one flush of the log that covers every commit
//! waiting; PostgreSQL `synchronous_commit=on`), `--reset` to start from an
//! empty database, `--chain-key-file FILE` (or `BEDSIDE_CHAIN_KEY_FILE`) for the key that signs
//! the tamper-evidence checkpoint (default `<data-dir>/chain.key`, created on first run — keep
//! it on other storage than the database in production), `--reanchor` to accept the database
//! as it is after a privacy officer has investigated an integrity break). The API is described
//! in `docs/API.md`.

use crate::integrity::{ChainKey, FileAnchor};
use crate::{
    Clinic, ClinicConfig, Durability, FileNotifier, Notifier, PostgresStore, SqliteStore, Store,
    http, seed,
};
use bedside_core::{Clock, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;

/// Parsed command-line options.
#[derive(Debug)]
struct Args {
    data_dir: PathBuf,
    listen: String,
    reset: bool,
    chain_key_file: Option<PathBuf>,
    reanchor: bool,
    unlimited: bool,
    database: Option<String>,
    durability: Durability,
}

fn args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        data_dir: PathBuf::from("clinic-data"),
        listen: "127.0.0.1:8080".into(),
        reset: false,
        chain_key_file: std::env::var_os("BEDSIDE_CHAIN_KEY_FILE").map(PathBuf::from),
        reanchor: false,
        unlimited: false,
        database: std::env::var("BEDSIDE_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        durability: Durability::Normal,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => out.data_dir = it.next().ok_or("--data-dir needs a path")?.into(),
            "--listen" => out.listen = it.next().ok_or("--listen needs an address")?,
            "--reset" => out.reset = true,
            "--reanchor" => out.reanchor = true,
            // Load tests and benchmarks only: no per-address or per-token rate limits.
            "--no-rate-limits" => out.unlimited = true,
            "--fsync" => out.durability = Durability::Group,
            "--database" => out.database = Some(it.next().ok_or("--database needs a URL")?),
            "--chain-key-file" => {
                out.chain_key_file = Some(it.next().ok_or("--chain-key-file needs a path")?.into())
            }
            "-h" | "--help" => {
                return Err("usage: clinic [--data-dir DIR] [--listen ADDR] [--database postgres://…] [--fsync] [--no-rate-limits] [--reset] [--chain-key-file FILE] [--reanchor]".into());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(out)
}

/// Runs the backend with command-line arguments (without the program name) until Ctrl-C.
///
/// # Errors
/// A bad argument, or a store, seed or listener failure at start-up.
// Not split: start-up in order (arguments, store, clinic, seed, listener, background tasks,
// banner); each step is short and reads top to bottom.
pub fn run(arguments: impl Iterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let args = args(arguments)?;
    // Opening the store, replaying and seeding are blocking work: done before the async
    // runtime starts (the blocking PostgreSQL client must not run on its threads).
    // The data directory holds personal data: owner-only.
    let mut dir = std::fs::DirBuilder::new();
    dir.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
    dir.create(&args.data_dir)?;
    let db = args.data_dir.join("clinic.db");
    if args.reset && args.database.is_none() {
        for suffix in ["", "-wal", "-shm", ".checkpoint"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        let _ = std::fs::remove_file(args.data_dir.join("outbox.jsonl"));
    }
    let key = chain_key(
        &args
            .chain_key_file
            .clone()
            .unwrap_or_else(|| args.data_dir.join("chain.key")),
    )?;
    let mut store: Box<dyn Store> = match &args.database {
        None => {
            let anchor = FileAnchor::beside(&db, args.durability);
            Box::new(SqliteStore::open_with(
                &db,
                args.durability,
                Box::new(anchor),
                key,
            )?)
        }
        Some(url) => {
            // Every node serving this database must share the checkpoint file and the key.
            let checkpoint = args.data_dir.join("postgres.checkpoint");
            if args.reset {
                PostgresStore::drop_all(url)?;
                let _ = std::fs::remove_file(&checkpoint);
            }
            let anchor = FileAnchor::new(checkpoint, args.durability);
            Box::new(PostgresStore::connect(
                url,
                args.durability,
                Box::new(anchor),
                key,
            )?)
        }
    };
    if args.reanchor {
        store.reanchor()?;
        println!("Re-anchored the integrity checkpoint at the database's current head.");
    }
    let mut clinic = Clinic::open(store, Arc::new(SystemClock), ClinicConfig::default())?;
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
    // Other nodes' writes reach this one's reads within a second even when it is idle.
    let poller = clinic.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(250));
            if let Err(e) = poller.refresh() {
                eprintln!("catching up with the database: {e}");
            }
        }
    });

    // Keep start-up short: a snapshot of the state every `snapshot_every` commands. A node
    // that started from one verified only the chain after it; the rest is verified here.
    let keeper = clinic.clone();
    std::thread::spawn(move || {
        if keeper.started_from_snapshot() {
            match keeper.verify_history() {
                Ok(None) => {}
                Ok(Some(_)) => {} // reported, and writes refused, by verify_history
                Err(e) => eprintln!("verifying the whole chain: {e}"),
            }
        }
        loop {
            if keeper.snapshot_due() {
                match keeper.write_snapshot() {
                    Ok(at) => eprintln!("clinic: state snapshot at command {}", at.commands),
                    Err(e) => eprintln!("clinic: writing a state snapshot failed: {e}"),
                }
            }
            std::thread::sleep(std::time::Duration::from_secs(10));
        }
    });

    let demo = DemoIds {
        first: demo_patient(&clinic, "demo-patient-1"),
        fifth: demo_patient(&clinic, "demo-patient-5"),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args, clinic, db, demo))
}

/// Demo patients' ids for the printed `curl` lines.
struct DemoIds {
    first: String,
    fifth: String,
}

async fn serve(
    args: Args,
    clinic: Arc<Clinic>,
    db: PathBuf,
    demo: DemoIds,
) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("Bedside clinic listening on http://{addr}");
    println!(
        "  patient portal: http://{addr}/portal (demo: sign in with +12125550143; the code is texted to the outbox deliveries file below)"
    );
    match &args.database {
        None => println!("  database: {}", db.display()),
        Some(_) => println!("  database: PostgreSQL (BEDSIDE_DATABASE_URL / --database)"),
    }
    println!(
        "  outbox deliveries: {}",
        args.data_dir.join("outbox.jsonl").display()
    );
    println!("Try:");
    println!("  curl http://{addr}/health");
    println!("  curl -s http://{addr}/fhir/metadata");
    println!("  curl 'http://{addr}/v1/slots?appointment_type=gp-visit&limit=3'");
    println!(
        "  curl -H 'Authorization: Bearer demo-patient-1' http://{addr}/v1/patients/{}/appointments",
        demo.first
    );
    println!(
        "  curl -H 'Authorization: Bearer demo-patient-5' http://{addr}/v1/patients/{}/statement",
        demo.fifth
    );
    println!("  curl -H 'Authorization: Bearer demo-billing' http://{addr}/v1/billing/aging");
    println!("  curl -H 'Authorization: Bearer demo-nurse' http://{addr}/v1/alerts");
    println!(
        "Demo tokens: demo-reception, demo-scheduler, demo-clinician, demo-nurse, demo-privacy, demo-admin, demo-manager, demo-billing, demo-sms-gateway, demo-patient-1..6"
    );
    let limits = if args.unlimited {
        crate::limits::RateLimits::disabled()
    } else {
        crate::limits::RateLimits::default()
    };
    http::serve_with(listener, clinic, &limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The checkpoint-signing key: read from `path`, or 32 random bytes written there (0600) on
/// first run.
fn chain_key(path: &std::path::Path) -> Result<ChainKey, Box<dyn std::error::Error>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = crate::auth::os_random(32)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(path)?, &bytes)?;
            bytes
        }
        Err(e) => return Err(e.into()),
    };
    Ok(ChainKey::new(bytes)?)
}

/// The id of the demo patient behind a token.
fn demo_patient(clinic: &Clinic, token: &str) -> String {
    clinic
        .authenticate(token)
        .ok()
        .and_then(|p| p.acting_for())
        .map_or_else(|| "<patient-id>".into(), |p| p.to_string())
}
