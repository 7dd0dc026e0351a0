//! The `bedside-schedule` part of `fhir-roundtrip` and `fhir-export`.

use std::collections::BTreeSet;
use std::sync::Arc;

use bedside_core::{Actor, ManualClock, PatientId, Period, SeededIdGenerator, Timestamp};
use bedside_schedule::fhir;
use bedside_schedule::{
    AppointmentType, BookRequest, Calendar, CancelReason, CancelRequest, EncounterKind,
    EncounterMode, EquipmentPool, GridConfig, Provider, RescheduleRequest, Room, Schedule,
    SlotOption, SlotQuery, Tz,
};
use chrono::{NaiveTime, TimeDelta};
use serde_json::Value;

/// The resource types `bedside-schedule` models; `fhir-roundtrip` sends these here.
pub const TYPES: &[&str] = &["Schedule", "Slot", "Appointment"];

/// Imports `resource` through the crate's model and exports it again. The error is the
/// crate's PHI-safe message.
pub fn round_trip(resource: &Value) -> Result<Value, String> {
    fhir::import(resource)
        .map(|r| r.to_json())
        .map_err(|e| e.to_string())
}

/// Monday 2026-06-01, midnight UTC: the grid origin.
fn origin() -> Timestamp {
    chrono::DateTime::UNIX_EPOCH + TimeDelta::days(20_605)
}

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

fn weekdays(from: u32, to: u32) -> Option<Calendar> {
    Calendar::weekdays(Tz::UTC, hm(from, 0)?, hm(to, 0)?).ok()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

struct Clinic {
    schedule: Schedule,
    ids: SeededIdGenerator,
    desk: Actor,
}

/// A small clinic, built through the public API: a provider without skills, a
/// dermatologist, and a dermatologist-GP; an exam room and a procedure room; one
/// ultrasound; four appointment types.
fn clinic() -> Option<Clinic> {
    let clock = Arc::new(ManualClock::new(origin()));
    let ids = SeededIdGenerator::new(clock, 23);
    let mut schedule = Schedule::new(GridConfig {
        origin: origin(),
        granularity_minutes: 15,
        horizon_days: 14,
        zone: Tz::UTC,
    })
    .ok()?;
    for skills in [&[][..], &["derm"], &["derm", "gp", "minor-surgery"]] {
        schedule
            .add_provider(Provider {
                id: ids.generate(),
                skills: set(skills),
                calendar: weekdays(9, 17)?,
            })
            .ok()?;
    }
    for caps in [&["exam"][..], &["exam", "procedure"]] {
        schedule
            .add_room(Room {
                id: ids.generate(),
                capabilities: set(caps),
                calendar: weekdays(8, 18)?,
            })
            .ok()?;
    }
    schedule
        .add_equipment(EquipmentPool {
            id: ids.generate(),
            kind: "ultrasound".into(),
            count: 1,
        })
        .ok()?;
    let types = [
        (
            "derm-new",
            30,
            "derm",
            Some("exam"),
            None,
            EncounterKind::New,
        ),
        (
            "derm-follow-up",
            15,
            "derm",
            Some("exam"),
            None,
            EncounterKind::FollowUp,
        ),
        ("gp-video", 15, "gp", None, None, EncounterKind::New),
        (
            "derm-proc",
            45,
            "derm",
            Some("procedure"),
            Some(("ultrasound".to_string(), 1)),
            EncounterKind::FollowUp,
        ),
    ];
    for (code, minutes, skill, room, equipment, kind) in types {
        let mode = if room.is_some() {
            EncounterMode::InPerson
        } else {
            EncounterMode::Video
        };
        let mut t = AppointmentType::new(code, minutes, skill)
            .with_buffers(0, if code == "derm-proc" { 15 } else { 0 })
            .with_mode(mode)
            .with_kind(kind)
            .with_self_booking_window(0, 14);
        if let Some(room) = room {
            t = t.with_room_capability(room);
        }
        if let Some((kind, units)) = equipment {
            t = t.with_equipment(kind, units);
        }
        schedule.add_appointment_type(t).ok()?;
    }
    Some(Clinic {
        schedule,
        ids,
        desk: Actor::system("front-desk"),
    })
}

impl Clinic {
    fn option(&self, code: &str, day: i64) -> Option<SlotOption> {
        let earliest = origin() + TimeDelta::days(day);
        let query = SlotQuery::new(code, earliest, earliest + TimeDelta::days(1)).with_limit(1);
        self.schedule.find_slots(&query).ok()?.into_iter().next()
    }

    fn book(&mut self, code: &str, day: i64) -> Option<(bedside_core::AppointmentId, PatientId)> {
        let option = self.option(code, day)?;
        let patient: PatientId = self.ids.generate();
        let id = self.ids.generate();
        let token = format!("corpus-{id}");
        let booked = self
            .schedule
            .book(
                &BookRequest::new(&option, patient, &token, id),
                &self.desk,
                origin(),
            )
            .ok()?;
        Some((booked, patient))
    }

    fn export(&self, id: bedside_core::AppointmentId) -> Option<Value> {
        fhir::schedule_appointment_to_fhir(&self.schedule, id).map(|a| a.to_json())
    }
}

fn appointments(c: &mut Clinic) -> Option<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let mut push = |name: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.push((format!("schedule-appointment-{name}.json"), v));
        }
    };
    // Minimal: a video visit, no room, exported without the schedule's type details.
    let (id, _) = c.book("gp-video", 0)?;
    push(
        "minimal",
        c.schedule
            .appointment(id)
            .map(|a| fhir::appointment_to_fhir(a).to_json()),
    );
    let (id, _) = c.book("derm-new", 0)?;
    push("typical", c.export(id));
    // Everything: room and equipment, rescheduled, then seen.
    let (id, _) = c.book("derm-proc", 1)?;
    let later = c.option("derm-proc", 2)?;
    c.schedule
        .reschedule(&RescheduleRequest::new(id, &later), &c.desk, origin())
        .ok()?;
    push("rescheduled", c.export(id));
    let start = c.schedule.appointment(id)?.period.start();
    c.schedule.check_in(id, &c.desk, start).ok()?;
    push("arrived", c.export(id));
    c.schedule
        .fulfil(id, &c.desk, start + TimeDelta::minutes(45))
        .ok()?;
    push("everything", c.export(id));
    let (id, patient) = c.book("derm-follow-up", 3)?;
    let by_patient = Actor::Patient { patient };
    c.schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Patient),
            &by_patient,
            origin(),
        )
        .ok()?;
    push("cancelled-by-patient", c.export(id));
    let (id, _) = c.book("derm-new", 3)?;
    c.schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Provider).expecting_version(1),
            &c.desk,
            origin(),
        )
        .ok()?;
    push("cancelled-by-provider", c.export(id));
    let (id, _) = c.book("derm-new", 4)?;
    c.schedule
        .cancel(
            &CancelRequest::new(id, CancelReason::Clinic),
            &c.desk,
            origin(),
        )
        .ok()?;
    push("cancelled-by-clinic", c.export(id));
    let (id, _) = c.book("gp-video", 4)?;
    let start = c.schedule.appointment(id)?.period.start();
    c.schedule
        .mark_no_show(id, &c.desk, start + TimeDelta::minutes(20))
        .ok()?;
    push("noshow", c.export(id));
    Some(out)
}

/// Resources built from scratch through the crate's public API only: for every exported
/// type a minimal, a typical and an everything-set one. Names are file names.
pub fn corpus() -> Vec<(String, Value)> {
    let Some(mut c) = clinic() else {
        return Vec::new();
    };
    let mut out = appointments(&mut c).unwrap_or_default();
    let week = Period::new(origin(), origin() + TimeDelta::days(7));
    let day = Period::new(origin(), origin() + TimeDelta::days(1));
    let (Ok(week), Ok(day)) = (week, day) else {
        return out;
    };
    for (provider, name) in [(0, "minimal"), (1, "typical"), (2, "everything")] {
        if let Some(s) = fhir::provider_schedule_to_fhir(&c.schedule, provider, week) {
            out.push((format!("schedule-schedule-{name}.json"), s.to_json()));
        }
    }
    for (provider, code, name) in [
        (2, "gp-video", "minimal"),
        (1, "derm-new", "typical"),
        (2, "derm-proc", "everything"),
    ] {
        let slots = fhir::free_slots_to_fhir(&c.schedule, provider, code, day, 1);
        if let Some(slot) = slots.ok().and_then(|s| s.into_iter().next()) {
            out.push((format!("schedule-slot-{name}.json"), slot.to_json()));
        }
    }
    out
}
