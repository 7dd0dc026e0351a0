//! A realistic demo clinic: three providers, three exam rooms, four weeks of weekday
//! availability, patients with contact preferences, a few appointments, and demo tokens.

use crate::auth::Principal;
use crate::clinic::{Clinic, Command, ProviderSpec, Registration, SetupSpec, SlotSearch};
use crate::error::ClinicError;
use bedside_core::{Instant, PatientId, ProviderId, Role, RoomId, StaffId};
use bedside_schedule::{AppointmentType, GridConfig, VisitKind, VisitMode};
use bedside_vitals::CarePlan;
use chrono::{TimeDelta, TimeZone};

/// Demo tokens and ids, printed by the `clinic` example.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Staff tokens: (role label, token).
    pub staff: Vec<(&'static str, String)>,
    /// Patients and their tokens.
    pub patients: Vec<(PatientId, String)>,
    /// The providers.
    pub providers: Vec<ProviderId>,
}

/// Fixed, well-known demo tokens (only for the local demo database).
pub const DEMO_TOKENS: [(&str, &str); 9] = [
    ("reception", "demo-reception"),
    ("scheduler", "demo-scheduler"),
    ("clinician", "demo-clinician"),
    ("nurse", "demo-nurse"),
    ("privacy-officer", "demo-privacy"),
    ("admin", "demo-admin"),
    ("manager", "demo-manager"),
    ("billing", "demo-billing"),
    ("sms-gateway", "demo-sms-gateway"),
];

fn id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// The set-up: New York clinic, grid from local midnight today for 28 days in 15-minute
/// slots.
///
/// # Errors
/// Never for a valid clock; [`ClinicError`] if the zone conversion fails.
pub fn setup_spec(now: Instant) -> Result<SetupSpec, ClinicError> {
    let zone = chrono_tz::America::New_York;
    let local = now.with_timezone(&zone).date_naive();
    let midnight = zone
        .from_local_datetime(&local.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .ok_or_else(|| ClinicError::bad("no local midnight"))?
        .with_timezone(&chrono::Utc);
    let providers = vec![
        ProviderSpec {
            id: ProviderId::from_uuid(id(1)),
            name: "Dr. Amara Osei".into(),
            skill: "gp".into(),
            hours: (9, 17),
        },
        ProviderSpec {
            id: ProviderId::from_uuid(id(2)),
            name: "Dr. Lukas Brandt".into(),
            skill: "gp".into(),
            hours: (8, 16),
        },
        ProviderSpec {
            id: ProviderId::from_uuid(id(3)),
            name: "Dr. Mei Tanaka".into(),
            skill: "cardio".into(),
            hours: (9, 17),
        },
    ];
    let visit = |code: &str, minutes: u32, skill: &str, kind: VisitKind| AppointmentType {
        code: code.into(),
        duration_minutes: minutes,
        skill: skill.into(),
        room_capability: Some("exam".into()),
        equipment: None,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        mode: VisitMode::InPerson,
        kind,
        min_notice_minutes: 60,
        max_horizon_days: 28,
    };
    Ok(SetupSpec {
        grid: GridConfig {
            origin: midnight,
            granularity_minutes: 15,
            horizon_days: 28,
            zone,
        },
        providers,
        rooms: (10..13).map(|n| RoomId::from_uuid(id(n))).collect(),
        appointment_types: vec![
            visit("gp-visit", 15, "gp", VisitKind::New),
            visit("gp-follow-up", 30, "gp", VisitKind::FollowUp),
            visit("cardio-follow-up", 30, "cardio", VisitKind::FollowUp),
        ],
        care_plan: CarePlan {
            // Missing-data alerts need a daily routine; the demo keeps thresholds and NEWS2.
            missing: Vec::new(),
            ..CarePlan::default()
        },
    })
}

/// The staff principal behind a demo token.
pub fn demo_staff(role: &str) -> Result<Principal, ClinicError> {
    let (n, provider) = match role {
        "reception" => (21, None),
        "scheduler" => (22, None),
        "clinician" => (23, Some(ProviderId::from_uuid(id(1)))),
        "nurse" => (24, None),
        "privacy-officer" => (25, None),
        "admin" => (26, None),
        "manager" => (28, None),
        "billing" => (29, None),
        _ => (27, None),
    };
    Ok(Principal::Staff {
        id: StaffId::from_uuid(id(n)),
        roles: vec![Role::new(role).map_err(|e| ClinicError::bad(e.to_string()))?],
        provider,
    })
}

/// Seeds the demo clinic into an empty clinic: set-up, staff tokens, six patients (with
/// tokens `demo-patient-1` …), and a few appointments.
///
/// # Errors
/// [`ClinicError::Conflict`] if the clinic is already set up; storage failures.
pub fn seed(clinic: &Clinic) -> Result<Demo, ClinicError> {
    let now = clinic.now();
    clinic.execute(Command::Setup(Box::new(setup_spec(now)?)))?;
    let far = now + TimeDelta::days(365);
    let mut staff = Vec::new();
    for (role, token) in DEMO_TOKENS {
        clinic.store_token(token, &demo_staff(role)?, far)?;
        staff.push((role, token.to_string()));
    }
    let reception = demo_staff("reception")?;
    let people = [
        (
            &["Maria"][..],
            "Delgado",
            "1958-03-14",
            "+12125550142",
            Some("maria.delgado@example.org"),
            "es",
        ),
        (
            &["James", "Robert"][..],
            "Whitfield",
            "1971-11-02",
            "+12125550143",
            None,
            "en",
        ),
        (
            &["Aisha"][..],
            "Rahman",
            "1990-06-21",
            "+12125550144",
            Some("aisha.r@example.org"),
            "en",
        ),
        (
            &["Tomasz"][..],
            "Kowalczyk",
            "1946-01-30",
            "+12125550145",
            None,
            "pl",
        ),
        (
            &["Grace"][..],
            "Okafor",
            "1984-09-09",
            "+12125550146",
            Some("grace.okafor@example.org"),
            "en",
        ),
        (
            &["Henry"][..],
            "Liu",
            "2001-12-24",
            "+12125550147",
            None,
            "en",
        ),
    ];
    let mut patients = Vec::new();
    for (i, (given, family, birth, phone, email, lang)) in people.iter().enumerate() {
        let form = Registration {
            given: given.iter().map(|s| s.to_string()).collect(),
            family: family.to_string(),
            birth_date: birth.to_string(),
            phone: Some(phone.to_string()),
            email: email.map(str::to_string),
            postal_code: Some(format!("1000{}", i + 1)),
            sms_reminders: Some(true),
            language: Some(lang.to_string()),
        };
        let value = clinic.register(&form, Some(&reception))?;
        let patient: PatientId = value["patient"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ClinicError::bad("registration returned no id"))?;
        let token = format!("demo-patient-{}", i + 1);
        clinic.store_token(&token, &Principal::Patient { patient }, far)?;
        patients.push((patient, token));
    }
    // A few appointments over the coming days.
    let scheduler = demo_staff("scheduler")?;
    for (i, (patient, _)) in patients.iter().enumerate().take(4) {
        let kind = if i == 3 {
            "cardio-follow-up"
        } else {
            "gp-visit"
        };
        let slots = clinic.find_slots(&SlotSearch {
            appointment_type: kind.into(),
            from: Some(now + TimeDelta::days(1 + i as i64)),
            limit: Some(1),
            ..SlotSearch::default()
        })?;
        if let Some(slot) = slots.into_iter().next() {
            clinic.book(&scheduler, *patient, slot, &format!("seed-{i}"))?;
        }
    }
    Ok(Demo {
        staff,
        patients,
        providers: (1..=3).map(|n| ProviderId::from_uuid(id(n))).collect(),
    })
}
