//! The double-booking rule is kept by the database, not only by the process: on both stores a
//! booking whose provider, room or patient is already held in the database (by a writer that
//! bypassed this process: another version, a stale node, a hand edit) is refused with 409 and
//! changes nothing; a cancellation releases its holds; a store from before the holds table is
//! filled from the state at start-up, once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use bedside_clinic::integrity::{ChainKey, MemoryAnchor};
use bedside_clinic::pgtest::TempCluster;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, PostgresStore, Principal, SlotSearch, SqliteStore, Store,
};
use bedside_core::ManualClock;
use std::sync::Arc;

type Res = Result<(), Box<dyn std::error::Error>>;

enum Place {
    Sqlite(std::path::PathBuf),
    /// The database's URL, and its cluster (kept only to be stopped when the place drops).
    Postgres(
        String,
        #[allow(dead_code, reason = "held for its drop")] TempCluster,
    ),
}

impl Place {
    fn all() -> Result<Vec<Place>, Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("bedside-holds-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        let mut places = vec![Place::Sqlite(dir.join("clinic.db"))];
        if let Some(pg) = TempCluster::start_or_skip("the PostgreSQL half of the holds test")? {
            places.push(Place::Postgres(pg.create_database("holds")?, pg));
        }
        Ok(places)
    }

    fn name(&self) -> &'static str {
        match self {
            Place::Sqlite(_) => "sqlite",
            Place::Postgres(..) => "postgres",
        }
    }

    fn open(
        &self,
        anchor: &MemoryAnchor,
        clock: &Arc<ManualClock>,
    ) -> Result<Clinic, Box<dyn std::error::Error>> {
        let store: Box<dyn Store> = match self {
            Place::Sqlite(path) => Box::new(SqliteStore::open_with(
                path,
                Durability::Normal,
                Box::new(anchor.clone()),
                ChainKey::development(),
            )?),
            Place::Postgres(url, _) => Box::new(PostgresStore::connect(
                url,
                Durability::Normal,
                Box::new(anchor.clone()),
                ChainKey::development(),
            )?),
        };
        Ok(Clinic::open(store, clock.clone(), ClinicConfig::default())?)
    }

    /// SQL behind the clinic's back; returns the first column of the first row, if any.
    fn sql(&self, sql: &str) -> Result<Option<i64>, Box<dyn std::error::Error>> {
        match self {
            Place::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path)?;
                let mut stmt = conn.prepare(sql)?;
                let mut rows = stmt.query([])?;
                Ok(match rows.next()? {
                    Some(r) => r.get::<_, Option<i64>>(0).unwrap_or(None),
                    None => None,
                })
            }
            Place::Postgres(url, _) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls)?;
                let rows = client.simple_query(sql)?;
                Ok(rows.into_iter().find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
                    _ => None,
                }))
            }
        }
    }

    /// A hold written by someone else for `provider` over `start..end` (Unix seconds).
    fn foreign_hold(&self, provider: &str, start: i64, end: i64) -> Res {
        let sql = match self {
            Place::Sqlite(_) => format!(
                "INSERT INTO holds (appointment, resource, start_at, end_at)
                 VALUES ('foreign', 'provider:{provider}', {start}, {end})"
            ),
            Place::Postgres(..) => format!(
                "INSERT INTO holds (appointment, resource, during)
                 VALUES ('foreign', 'provider:{provider}',
                         tstzrange(to_timestamp({start}), to_timestamp({end})))"
            ),
        };
        self.sql(&sql)?;
        Ok(())
    }
}

fn patient(demo: &Demo, i: usize) -> Principal {
    Principal::Patient {
        patient: demo.patients[i].0,
    }
}

#[test]
fn a_slot_the_database_holds_is_refused_whatever_the_process_believes() -> Res {
    for place in Place::all()? {
        let name = place.name();
        let anchor = MemoryAnchor::new();
        let clock = Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?));
        let clinic = place.open(&anchor, &clock)?;
        let demo = seed::seed(&clinic)?;
        let (who, id) = (patient(&demo, 0), demo.patients[0].0);
        let slots = clinic.find_slots(&SlotSearch {
            appointment_type: "gp-visit".into(),
            ..Default::default()
        })?;
        let option = slots[0].clone();
        let (start, end) = (
            option.period.start().timestamp(),
            option.period.end().timestamp(),
        );
        // Someone else holds the provider for five minutes inside the slot.
        place.foreign_hold(&option.provider.to_string(), start + 300, end - 300)?;
        let journal = |p: &Place| p.sql("SELECT COUNT(*) FROM commands");
        let before = (journal(&place)?, clinic.appointments(&who, id)?.len());
        let refused = clinic.book(&who, id, option.clone(), "held-elsewhere");
        let e = refused.expect_err(name);
        assert_eq!(e.status(), 409, "{name}: {e:?}");
        assert_eq!(
            (journal(&place)?, clinic.appointments(&who, id)?.len()),
            before,
            "{name}: nothing changed"
        );
        // The process's state was rebuilt from the store: the slot is offered again, and
        // once the foreign hold is gone it books, and holds what it occupies.
        place.sql("DELETE FROM holds WHERE appointment = 'foreign'")?;
        let booked = clinic.book(&who, id, option.clone(), "held-elsewhere")?;
        let ap = booked.appointment.to_string();
        let held = |p: &Place| {
            p.sql(&format!(
                "SELECT COUNT(*) FROM holds WHERE appointment = '{ap}'"
            ))
        };
        let occupied = 2 + i64::from(option.room.is_some());
        assert_eq!(
            held(&place)?,
            Some(occupied),
            "{name}: provider, patient and room"
        );
        // A cancellation releases them.
        clinic.cancel(&who, booked.appointment)?;
        assert_eq!(held(&place)?, Some(0), "{name}");
        // A clinic whose database predates the table is filled from its state, once.
        clinic.book(&who, id, option, "after-cancel")?;
        let all = |p: &Place| p.sql("SELECT COUNT(*) FROM holds");
        let expected = all(&place)?;
        assert!(expected.unwrap_or(0) >= occupied, "{name}");
        drop(clinic);
        place.sql("DELETE FROM holds")?;
        place.sql("DELETE FROM meta WHERE key = 'holds_filled'")?;
        let reopened = place.open(&anchor, &clock)?;
        assert_eq!(all(&place)?, expected, "{name}: refilled");
        drop(reopened);
        let _ = place.open(&anchor, &clock)?;
        assert_eq!(all(&place)?, expected, "{name}: filled once");
        if let Place::Sqlite(path) = &place
            && let Some(dir) = path.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    Ok(())
}
