//! Journals written before the clinic owned its storage schema (format 1: the commands'
//! derived serde forms) open on this build, on both stores: the rows replay as they are, are
//! never rewritten (the tamper-evident chain covers them), new commands are stored in today's
//! format after them, and a restart replays the mixed journal — from a snapshot or from the
//! first row — with the chain intact.
//!
//! The fixture journals (`tests/data/journal/`) were recorded by the HTTP journeys and the
//! trust table of the build before the record types existed.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::store::Batch;
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, PostgresStore, Registration, SqliteStore, Store, journal,
    seed,
};
use bedside_core::ManualClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

type Res = Result<(), Box<dyn std::error::Error>>;
type Rows = Vec<(String, String, String)>;

/// A fixture journal: rows of (instant, kind, body).
fn fixture(name: &str) -> Rows {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/journal")
        .join(name);
    std::fs::read_to_string(path)
        .expect("fixture journal")
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, '\t');
            let mut next = || parts.next().expect("three fields").to_string();
            (next(), next(), next())
        })
        .collect()
}

/// Where the case runs: a SQLite file, or a database on a throwaway PostgreSQL cluster.
enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    fn open(&self, anchor: &MemoryAnchor) -> Result<Box<dyn Store>, Box<dyn std::error::Error>> {
        let key = ChainKey::development();
        let anchor = Box::new(anchor.clone());
        Ok(match self {
            Backend::Sqlite(path) => Box::new(SqliteStore::open_with(
                path,
                Durability::Normal,
                anchor,
                key,
            )?),
            Backend::Postgres(url) => Box::new(PostgresStore::connect(
                url,
                Durability::Normal,
                anchor,
                key,
            )?),
        })
    }
}

/// The journal as the earlier build left it: every row committed in order, as stored then.
fn write_old_journal(store: &mut dyn Store, rows: &Rows) -> Res {
    for (at, kind, body) in rows {
        store.commit(&Batch {
            command: Some((at.clone(), kind.clone(), body.clone())),
            ..Batch::default()
        })?;
    }
    Ok(())
}

fn registration(given: &str, family: &str, birth_date: &str) -> Registration {
    serde_json::from_value(serde_json::json!({
        "given": [given], "family": family, "birth_date": birth_date,
    }))
    .expect("a registration form")
}

/// One fixture on one backend: import, open, write, reopen twice.
fn migrate(backend: &Backend, name: &str) -> Res {
    let rows = fixture(name);
    let anchor = MemoryAnchor::new();
    write_old_journal(&mut *backend.open(&anchor)?, &rows)?;
    let last: chrono::DateTime<chrono::Utc> = rows.last().expect("rows").0.parse()?;
    let clock = Arc::new(ManualClock::new(last + chrono::Duration::hours(1)));
    let open = || -> Result<Clinic, Box<dyn std::error::Error>> {
        Ok(Clinic::open(
            backend.open(&anchor)?,
            clock.clone(),
            ClinicConfig::default(),
        )?)
    };

    let clinic = open()?;
    assert!(clinic.is_set_up(), "{name}: the old journal replays");
    assert_eq!(
        clinic.export_journal()?,
        rows,
        "{name}: stored rows untouched"
    );
    // New commands after the old rows are written in today's format.
    let reception = seed::demo_staff("reception")?;
    let new = clinic
        .register(
            &registration("Ines", "Okafor", "1971-05-09"),
            Some(&reception),
        )?
        .patient();
    let journal = clinic.export_journal()?;
    assert_eq!(journal.len(), rows.len() + 1, "{name}");
    let (_, kind, body) = journal.last().expect("the new row");
    assert_eq!(kind, "register", "{name}");
    assert_eq!(journal::format_of(body)?, journal::FORMAT, "{name}");
    for (_, _, body) in &journal[..rows.len()] {
        assert_eq!(
            journal::format_of(body)?,
            1,
            "{name}: an old row was rewritten"
        );
    }
    let privacy = seed::demo_staff("privacy-officer")?;
    assert!(clinic.verify_audit(&privacy)?.verified, "{name}");
    let seen = clinic.patient(&reception, new, None)?;
    drop(clinic);

    // A restart replays the mixed journal from the first row.
    let clinic = open()?;
    assert!(!clinic.started_from_snapshot(), "{name}");
    assert_eq!(
        clinic.verify_history()?,
        None,
        "{name}: the chain is intact"
    );
    assert_eq!(
        clinic.patient(&reception, new, None)?.version,
        seen.version,
        "{name}"
    );
    assert_eq!(clinic.export_journal()?, journal, "{name}");
    clinic.check_invariants()?;
    clinic.write_snapshot()?;
    drop(clinic);

    // And from the snapshot, written by this build over the mixed journal.
    let clinic = open()?;
    assert!(clinic.started_from_snapshot(), "{name}");
    assert_eq!(clinic.verify_history()?, None, "{name}");
    assert_eq!(
        clinic.patient(&reception, new, None)?.version,
        seen.version,
        "{name}"
    );
    clinic.check_invariants()?;
    Ok(())
}

/// The fixtures that begin with the demo set-up (the staff above belong to it).
fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture journals")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tsv"))
        .filter(|n| {
            fixture(n)
                .first()
                .is_some_and(|(_, kind, _)| kind == "setup")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn format_1_journals_migrate_on_sqlite() -> Res {
    let names = fixtures();
    assert!(names.len() >= 10, "fixture journals: {names:?}");
    for name in names {
        let path = std::env::temp_dir().join(format!(
            "bedside-journal-{}-{}.db",
            name.trim_end_matches(".tsv"),
            uuid::Uuid::now_v7().simple()
        ));
        let backend = Backend::Sqlite(path.clone());
        let result = migrate(&backend, &name);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        result?;
    }
    Ok(())
}

#[test]
fn format_1_journals_migrate_on_postgres() -> Res {
    let Some(cluster) = TempCluster::start_or_skip("the journal migration on PostgreSQL")? else {
        return Ok(());
    };
    for name in fixtures() {
        let url = cluster.create_database(&format!("journal_{}", name.trim_end_matches(".tsv")))?;
        migrate(&Backend::Postgres(url), &name)?;
    }
    Ok(())
}
