//! A small clinic shared by the integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "shared by several test binaries, each using part of it; tests fail loudly"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use bedside_core::{
    Actor, ManualClock, PatientId, ProviderId, RoomId, SeededIdGenerator, Timestamp,
};
use bedside_schedule::{
    AppointmentType, Calendar, EncounterMode, EquipmentId, EquipmentPool, GridConfig, Provider,
    Room, Schedule, SlotQuery, WeeklyBlock,
};
use chrono::{NaiveTime, Weekday};

pub struct Clinic {
    pub schedule: Schedule,
    pub ids: SeededIdGenerator,
    pub providers: Vec<ProviderId>,
    pub rooms: Vec<RoomId>,
    pub ultrasound: EquipmentId,
    pub now: Timestamp,
}

pub fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// Monday to Friday, `from`:00 to `to`:00 local.
pub fn weekdays_calendar(zone: chrono_tz::Tz, from: u32, to: u32) -> Calendar {
    Calendar::weekdays(zone, t(from, 0), t(to, 0)).unwrap()
}

pub fn staff() -> Actor {
    Actor::system("test-desk")
}

/// Two dermatologists and one GP in London, two exam rooms and one procedure room, one
/// ultrasound machine; a two-week grid of 15-minute slots starting Monday 2026-06-01.
pub fn clinic() -> Clinic {
    let zone = chrono_tz::Europe::London;
    let clock = Arc::new(ManualClock::new(at("2026-05-31T12:00:00Z")));
    let ids = SeededIdGenerator::new(clock, 7);
    let mut schedule = Schedule::new(GridConfig {
        origin: at("2026-05-31T23:00:00Z"),
        granularity_minutes: 15,
        horizon_days: 14,
        zone,
    })
    .unwrap();
    let mut providers = Vec::new();
    for skills in [vec!["derm"], vec!["derm", "gp"], vec!["gp"]] {
        let id: ProviderId = ids.generate();
        let mut cal = weekdays_calendar(zone, 9, 17);
        cal.add_blocked(WeeklyBlock::new(Weekday::Mon, t(12, 0), t(13, 0)).unwrap())
            .unwrap();
        schedule
            .add_provider(Provider {
                id,
                skills: skills.iter().map(|s| s.to_string()).collect(),
                calendar: cal,
            })
            .unwrap();
        providers.push(id);
    }
    let mut rooms = Vec::new();
    for caps in [vec!["exam"], vec!["exam"], vec!["exam", "procedure"]] {
        let id: RoomId = ids.generate();
        schedule
            .add_room(Room {
                id,
                capabilities: caps.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
                calendar: weekdays_calendar(zone, 8, 18),
            })
            .unwrap();
        rooms.push(id);
    }
    let ultrasound: EquipmentId = ids.generate();
    schedule
        .add_equipment(EquipmentPool {
            id: ultrasound,
            kind: "ultrasound".into(),
            count: 1,
        })
        .unwrap();
    for (code, mins, skill, cap, eq) in [
        ("derm-new", 30, "derm", Some("exam"), None),
        (
            "derm-proc",
            45,
            "derm",
            Some("procedure"),
            Some(("ultrasound".to_string(), 1)),
        ),
        ("gp-video", 15, "gp", None, None),
    ] {
        let mut t = AppointmentType::new(code, mins, skill)
            .with_buffers(0, if code == "derm-proc" { 15 } else { 0 })
            .with_mode(if code == "gp-video" {
                EncounterMode::Video
            } else {
                EncounterMode::InPerson
            })
            .with_self_booking_window(120, 30);
        if let Some(cap) = cap {
            t = t.with_room_capability(cap);
        }
        if let Some((kind, units)) = eq {
            t = t.with_equipment(kind, units);
        }
        schedule.add_appointment_type(t).unwrap();
    }
    Clinic {
        schedule,
        ids,
        providers,
        rooms,
        ultrasound,
        now: at("2026-05-31T12:00:00Z"),
    }
}

pub fn query(c: &Clinic, code: &str, patient: Option<PatientId>) -> SlotQuery {
    let q = SlotQuery::new(code, c.now, at("2026-06-14T00:00:00Z")).booked_by_patient(c.now);
    match patient {
        Some(p) => q.for_patient(p),
        None => q,
    }
}
