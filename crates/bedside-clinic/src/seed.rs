//! A realistic demo clinic: three providers, three exam rooms, four weeks of weekday
//! availability, patients with contact preferences, a few appointments, and demo tokens
//! ([`seed`]); [`seed_demo`] adds a back-dated history of visits, claims, a remittance and a
//! payment, so the demo opens with patient and payer balances.

use crate::auth::Principal;
use crate::clinic::{
    Clinic, ClinicConfig, Command, FeeLine, ProviderSpec, Registration, SetupSpec, SlotSearch,
};
use crate::error::ClinicError;
use crate::store::Store;
use bedside_core::{ManualClock, PatientId, ProviderId, Role, RoomId, StaffId, Timestamp};
use bedside_schedule::{AppointmentType, EncounterKind, GridConfig};
use bedside_vitals::CarePlan;
use chrono::{TimeDelta, TimeZone};
use std::sync::Arc;

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
pub fn setup_spec(now: Timestamp) -> Result<SetupSpec, ClinicError> {
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
    let visit = |code: &str, minutes: u32, skill: &str, kind: EncounterKind| {
        AppointmentType::new(code, minutes, skill)
            .with_room_capability("exam")
            .with_kind(kind)
            .with_self_booking_window(60, 28)
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
            visit("gp-visit", 15, "gp", EncounterKind::New),
            visit("gp-follow-up", 30, "gp", EncounterKind::FollowUp),
            visit("cardio-follow-up", 30, "cardio", EncounterKind::FollowUp),
        ],
        fees: legacy_fee_schedule(),
        payer: legacy_payer(),
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
    let demo = seed_people(clinic, now + TimeDelta::days(365))?;
    book_upcoming(clinic, &demo.patients, now)?;
    Ok(demo)
}

/// Set-up, staff tokens and the six patients (tokens valid until `far`).
fn seed_people(clinic: &Clinic, far: Timestamp) -> Result<Demo, ClinicError> {
    let now = clinic.now();
    clinic.execute(Command::Setup(Box::new(setup_spec(now)?)))?;
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
        let patient = clinic.register(&form, Some(&reception))?.patient();
        let token = format!("demo-patient-{}", i + 1);
        clinic.store_token(&token, &Principal::Patient { patient }, far)?;
        patients.push((patient, token));
    }
    Ok(Demo {
        staff,
        patients,
        providers: (1..=3).map(|n| ProviderId::from_uuid(id(n))).collect(),
    })
}

/// A few appointments over the days after `now` for the first four patients.
fn book_upcoming(
    clinic: &Clinic,
    patients: &[(PatientId, String)],
    now: Timestamp,
) -> Result<(), ClinicError> {
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
    Ok(())
}

/// How many days before `now` the demo clinic's history starts.
pub const HISTORY_DAYS: i64 = 10;

/// A past visit of the demo history: patient index, procedure codes, and (when the payer
/// has remitted) the service lines as (code, billed, paid, contractual, patient share) in
/// cents.
type PastVisit = (usize, &'static [&'static str], Option<&'static [RemitLine]>);
type RemitLine = (&'static str, i64, i64, i64, i64);

const PAST_VISITS: [PastVisit; 3] = [
    // James: a low-complexity visit; the plan leaves a 25.00 coinsurance.
    (
        1,
        &["99213"],
        Some(&[("99213", 15_000, 11_000, 1_500, 2_500)]),
    ),
    // Grace: visit and ECG; the plan leaves 46.00 (deductible and coinsurance).
    (
        4,
        &["99214", "93000"],
        Some(&[
            ("99214", 25_000, 16_400, 5_000, 3_600),
            ("93000", 8_000, 6_000, 1_000, 1_000),
        ]),
    ),
    // Henry: the claim is still with the payer.
    (5, &["99213"], None),
];

/// The demo patient's partial payment: (patient index, cents).
const PARTIAL_PAYMENT: (usize, i64) = (1, 1_000);

/// Seeds the full demo clinic with a back-dated history, as the `clinic` example does on
/// first run: the clinic is set up [`HISTORY_DAYS`] days before `now`; three past visits are
/// checked in, completed, charged and claimed; the payer's 835 remittance for two of them
/// is posted three days before `now` and one patient pays part of their share the day before;
/// then, at `now`, the upcoming appointments of [`seed`] are booked.
///
/// Every step goes through the clinic's services, so it is journaled with its (past)
/// instant and replays identically when the store is reopened. The resulting balances:
/// patient 2 owes 15.00, patient 5 owes 46.00, and the payer owes 150.00 for patient 6.
///
/// The clinic runs on a [`ManualClock`] while seeding; the store is handed back so the
/// caller can reopen it on its own clock.
///
/// # Errors
/// [`ClinicError::Conflict`] if the store already holds a clinic; storage failures.
pub fn seed_demo(
    store: Box<dyn Store>,
    config: ClinicConfig,
    now: Timestamp,
) -> Result<(Box<dyn Store>, Demo), ClinicError> {
    let start = now - TimeDelta::days(HISTORY_DAYS);
    let clock = Arc::new(ManualClock::new(start));
    let clinic = Clinic::open(store, clock.clone(), config)?;
    let demo = seed_people(&clinic, now + TimeDelta::days(365))?;
    let scheduler = demo_staff("scheduler")?;
    let reception = demo_staff("reception")?;
    let clinician = demo_staff("clinician")?;
    let billing = demo_staff("billing")?;

    // Book the past visits (at `start`), each at least two hours after the previous one so
    // every visit is over and billed before the next begins.
    let mut booked = Vec::new();
    let mut earliest = start + TimeDelta::days(1);
    for (n, (patient_index, _, _)) in PAST_VISITS.iter().enumerate() {
        let patient = patient_at(&demo, *patient_index)?;
        let slot = clinic
            .find_slots(&SlotSearch {
                appointment_type: "gp-visit".into(),
                from: Some(earliest),
                limit: Some(1),
                ..SlotSearch::default()
            })?
            .into_iter()
            .next()
            .ok_or_else(|| ClinicError::conflict("no slot for the demo history"))?;
        let visit_start = slot.period.start();
        let appointment = clinic
            .book(&scheduler, patient, slot, &format!("seed-history-{n}"))?
            .appointment;
        booked.push((appointment, visit_start));
        earliest = visit_start + TimeDelta::hours(2);
    }

    // Each visit: check-in, completion, charges and claim.
    let mut claims = Vec::new();
    for ((appointment, visit_start), (_, codes, _)) in booked.iter().zip(PAST_VISITS.iter()) {
        clock.set(*visit_start - TimeDelta::minutes(5));
        clinic.check_in(&reception, *appointment)?;
        clock.set(*visit_start + TimeDelta::minutes(20));
        clinic.complete(&clinician, *appointment)?;
        clock.set(*visit_start + TimeDelta::hours(1));
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let claim = clinic.charge_visit(&billing, *appointment, &codes, None)?;
        let control = claim.control_number;
        claims.push((control, *visit_start));
    }

    // The payer's remittance for the visits it has adjudicated.
    let paid_on = now - TimeDelta::days(3);
    clock.set(paid_on);
    let zone = chrono_tz::America::New_York;
    let remitted: Vec<(String, chrono::NaiveDate, &[RemitLine])> = claims
        .iter()
        .zip(PAST_VISITS.iter())
        .filter_map(|((control, at), (_, _, lines))| {
            lines.map(|l| (control.clone(), at.with_timezone(&zone).date_naive(), l))
        })
        .collect();
    clinic.post_remittance(
        &billing,
        &remittance_835(&remitted, paid_on.with_timezone(&zone).date_naive()),
    )?;

    // One patient pays part of their share.
    clock.set(now - TimeDelta::days(1));
    let (payer_index, amount) = PARTIAL_PAYMENT;
    let patient = patient_at(&demo, payer_index)?;
    clinic.pay(
        &billing,
        patient,
        &crate::clinic::PaymentRequest {
            amount_minor: amount,
            ..Default::default()
        },
    )?;

    clock.set(now);
    book_upcoming(&clinic, &demo.patients, now)?;
    Ok((clinic.into_store()?, demo))
}

fn patient_at(demo: &Demo, index: usize) -> Result<PatientId, ClinicError> {
    demo.patients
        .get(index)
        .map(|(p, _)| *p)
        .ok_or_else(|| ClinicError::bad("no such demo patient"))
}

fn dollars(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// An X12 835 from the demo payer for the given claims (control number, date of service,
/// service lines).
fn remittance_835(
    claims: &[(String, chrono::NaiveDate, &[RemitLine])],
    paid_on: chrono::NaiveDate,
) -> String {
    let ymd = paid_on.format("%Y%m%d").to_string();
    let yymmdd = paid_on.format("%y%m%d").to_string();
    let total_paid: i64 = claims
        .iter()
        .flat_map(|(_, _, lines)| lines.iter())
        .map(|l| l.2)
        .sum();
    let mut body = vec![
        "ST*835*0301".to_string(),
        format!(
            "BPR*I*{}*C*ACH*CCP*01*011000015*DA*000111222*1999999999**01*021000021*DA*333444555*{ymd}",
            dollars(total_paid)
        ),
        format!("TRN*1*EFT{ymd}D*1999999999"),
        format!("DTM*405*{ymd}"),
        "N1*PR*ACME HEALTH PLAN".to_string(),
        "N1*PE*BEDSIDE CLINIC*XX*1234567893".to_string(),
        "LX*1".to_string(),
    ];
    for (n, (control, dos, lines)) in claims.iter().enumerate() {
        let dos = dos.format("%Y%m%d").to_string();
        let billed: i64 = lines.iter().map(|l| l.1).sum();
        let paid: i64 = lines.iter().map(|l| l.2).sum();
        let share: i64 = lines.iter().map(|l| l.4).sum();
        body.push(format!(
            "CLP*{control}*1*{}*{}*{}*12*DEMOCLM{}",
            dollars(billed),
            dollars(paid),
            dollars(share),
            n + 1
        ));
        body.push(format!("NM1*QC*1*DEMO*PAT****MI*MEMBER{:02}", n + 1));
        body.push(format!("DTM*232*{dos}"));
        for (code, billed, paid, contractual, share) in lines.iter() {
            body.push(format!(
                "SVC*HC:{code}*{}*{}**1",
                dollars(*billed),
                dollars(*paid)
            ));
            body.push(format!("DTM*472*{dos}"));
            body.push(format!("CAS*CO*45*{}", dollars(*contractual)));
            body.push(format!("CAS*PR*2*{}", dollars(*share)));
            body.push(format!("AMT*B6*{}", dollars(billed - contractual)));
        }
    }
    body.push(format!("SE*{}*0301", body.len() + 1));
    let mut text = format!(
        "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*BEDSIDECLINIC  *{yymmdd}*0930*^*00501*000000301*0*P*:~\nGS*HP*ACMEHEALTH*BEDSIDECLINIC*{ymd}*0930*301*X*005010X221A1~\n"
    );
    for segment in body {
        text.push_str(&segment);
        text.push_str("~\n");
    }
    text.push_str("GE*1*301~\nIEA*1*000000301~\n");
    text
}

/// The demo payer every claim of the demo clinic goes to.
pub const DEMO_PAYER: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0099;

/// The demo clinic's fee schedule; also what journals written before the fee schedule was
/// part of [`SetupSpec`] were priced with, so they replay unchanged.
pub fn legacy_fee_schedule() -> Vec<FeeLine> {
    vec![
        FeeLine::new(
            "99213",
            15_000,
            "Office visit, established patient, low complexity",
        ),
        FeeLine::new(
            "99214",
            25_000,
            "Office visit, established patient, moderate complexity",
        ),
        FeeLine::new("93000", 8_000, "Heart tracing (ECG)"),
    ]
}

/// The demo payer; also the payer of journals written before it was part of [`SetupSpec`].
pub fn legacy_payer() -> bedside_core::OrganisationId {
    bedside_core::OrganisationId::from_uuid(uuid::Uuid::from_u128(DEMO_PAYER))
}
