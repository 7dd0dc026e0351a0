//! Workloads for `bedside-schedule`: the slot-search clinic (50 providers, 20 rooms, 90 days
//! of 5-minute slots, about 80% booked) and its query mix.

use std::collections::BTreeSet;

use bedside_core::{
    Actor, AppointmentId, IdGenerator, IdGeneratorExt, PatientId, ProviderId, RoomId, SeededRng,
    Timestamp,
};
use bedside_schedule::{
    AppointmentType, BookRequest, Calendar, EncounterKind, EncounterMode, GridConfig, Preferences,
    Provider, Room, Schedule, SlotQuery, Tz,
};
use chrono::{NaiveTime, TimeDelta, Weekday};

/// Specialties; each provider holds one, ten providers per specialty.
pub const SPECIALTIES: [&str; 5] = ["gp", "derm", "cardio", "ortho", "peds"];

/// A built clinic and what it took.
pub struct SlotClinic {
    /// The schedule, about 80% booked.
    pub schedule: Schedule,
    /// Provider-slot utilisation reached (booked provider slots / available provider slots).
    pub utilisation: f64,
    /// Appointments booked.
    pub booked: usize,
    /// Grid origin.
    pub origin: Timestamp,
}

fn time(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
}

fn weekday_calendar(zone: Tz, from: u32, to: u32) -> Calendar {
    Calendar::weekdays(zone, time(from), time(to)).unwrap_or_else(|_| Calendar::new(zone))
}

/// The appointment type codes: per specialty an in-person visit (30 min, exam room) and a
/// video visit (15, 20 or 45 min).
pub fn type_codes(specialty: &str) -> [String; 4] {
    [
        format!("{specialty}-visit-30"),
        format!("{specialty}-video-15"),
        format!("{specialty}-video-20"),
        format!("{specialty}-video-45"),
    ]
}

/// Builds the clinic and books it to about `target` utilisation (0..1).
///
/// # Errors
/// Fails only if the schedule rejects the (constant, valid) grid.
pub fn build_clinic(
    seed: u64,
    target: f64,
    ids: &dyn IdGenerator,
) -> Result<SlotClinic, bedside_schedule::ScheduleError> {
    let zone: Tz = chrono_tz_london();
    let origin: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap_or_default();
    let grid = GridConfig {
        origin,
        granularity_minutes: 5,
        horizon_days: 90,
        zone,
    };
    let mut schedule = Schedule::new(grid)?;
    let mut providers: Vec<(ProviderId, &str)> = Vec::new();
    for i in 0..50 {
        let id: ProviderId = ids.generate();
        let specialty = SPECIALTIES[i % SPECIALTIES.len()];
        let _ = schedule.add_provider(Provider {
            id,
            skills: BTreeSet::from([specialty.to_string()]),
            calendar: weekday_calendar(zone, 8, 18),
        });
        providers.push((id, specialty));
    }
    for _ in 0..20 {
        let id: RoomId = ids.generate();
        let _ = schedule.add_room(Room {
            id,
            capabilities: BTreeSet::from(["exam".to_string()]),
            calendar: weekday_calendar(zone, 7, 19),
        });
    }
    for s in SPECIALTIES {
        for (code, mins) in type_codes(s).iter().zip([30u32, 15, 20, 45]) {
            let video = !code.contains("visit");
            let mode = if video {
                EncounterMode::Video
            } else {
                EncounterMode::InPerson
            };
            let mut t = AppointmentType::new(code.clone(), mins, s)
                .with_mode(mode)
                .with_kind(EncounterKind::FollowUp)
                .with_self_booking_window(60, 90);
            if !video {
                t = t.with_room_capability("exam");
            }
            let _ = schedule.add_appointment_type(t);
        }
    }
    let mut rng = SeededRng::new(seed);
    let actor = Actor::system("slot-search-bench");
    let mut booked = 0usize;
    let mut booked_minutes = 0i64;
    let mut available_minutes = 0i64;
    // Walk each provider's working days, booking back to back with random gaps so that the
    // booked share approaches `target`.
    let gap_prob = (1.0 - target).clamp(0.0, 1.0);
    for &(pid, specialty) in &providers {
        let codes = type_codes(specialty);
        for day in 0..90 {
            let day_start = origin + TimeDelta::days(day);
            // 08:00-18:00 London, BST = UTC+1 all summer (the grid runs June to August).
            let mut t = day_start + TimeDelta::hours(7);
            let end = day_start + TimeDelta::hours(17);
            let weekday = chrono::Datelike::weekday(&day_start);
            if matches!(weekday, Weekday::Sat | Weekday::Sun) {
                continue;
            }
            available_minutes += 600;
            while t < end {
                if rng.chance(gap_prob * 1.7) {
                    t += TimeDelta::minutes(5 * (1 + rng.below(3) as i64));
                    continue;
                }
                let want_room = rng.chance(0.4);
                let code = if want_room {
                    &codes[0]
                } else {
                    &codes[1 + rng.index(3)]
                };
                let q = SlotQuery::new(code.clone(), t, t)
                    .with_providers(vec![pid])
                    .with_limit(1);
                let option = schedule
                    .find_slots(&q)
                    .ok()
                    .and_then(|v| v.into_iter().next());
                match option {
                    Some(o) if o.period.end() <= end => {
                        let patient: PatientId = ids.generate();
                        let id: AppointmentId = ids.generate();
                        let token = id.to_string();
                        if schedule
                            .book(&BookRequest::new(&o, patient, &token, id), &actor, origin)
                            .is_ok()
                        {
                            booked += 1;
                            booked_minutes += o.period.duration().num_minutes();
                            t = o.period.end();
                            continue;
                        }
                        t += TimeDelta::minutes(5);
                    }
                    _ => t += TimeDelta::minutes(5),
                }
            }
        }
    }
    Ok(SlotClinic {
        schedule,
        utilisation: booked_minutes as f64 / available_minutes.max(1) as f64,
        booked,
        origin,
    })
}

fn chrono_tz_london() -> Tz {
    "Europe/London".parse().unwrap_or(Tz::UTC)
}

/// `count` realistic self-booking queries: random specialty and type, a new patient, a start
/// within the first 60 days, half with a preferred provider and a preferred time of day.
pub fn queries(
    clinic: &SlotClinic,
    seed: u64,
    count: usize,
    ids: &dyn IdGenerator,
) -> Vec<SlotQuery> {
    let mut rng = SeededRng::new(seed);
    let providers = clinic.schedule.providers();
    (0..count)
        .map(|_| {
            let s = SPECIALTIES[rng.index(SPECIALTIES.len())];
            let code = type_codes(s)[rng.index(4)].clone();
            let at = clinic.origin + TimeDelta::minutes(5 * rng.below(60 * 288) as i64);
            let mut preferences = Preferences::default();
            if rng.chance(0.5) {
                let same: Vec<_> = providers.iter().filter(|p| p.skills.contains(s)).collect();
                preferences.provider = Some(same[rng.index(same.len())].id);
                preferences.other_provider_penalty_minutes = 24 * 60;
                let start = 8 * 60 + 60 * rng.below(8) as u32;
                preferences.time_of_day = Some((start, start + 120));
                preferences.other_time_penalty_minutes = 12 * 60;
            }
            SlotQuery::new(code, at, at + TimeDelta::days(30))
                .for_patient(ids.generate())
                .with_preferences(preferences)
                .booked_by_patient(at)
        })
        .collect()
}
