//! A simulated day at the clinic: the journeys run in-process against a temporary database
//! through the application services (the same calls the HTTP API makes), printing what each
//! actor did, what was refused and why, the claim, statement and balance, survey results and
//! alerts.
//!
//! Run with `cargo run --example clinic_day`.

use bedside::core::{ManualClock, Role};
use bedside_clinic::clinic::{DuplicateVerdict, NameChange, ProfileChange, SurveyAnswerValue};
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, MemoryNotifier, Principal, Registration, SlotSearch,
    SqliteStore, seed,
};
use chrono::TimeDelta;
use std::sync::Arc;

fn refused<T>(what: &str, r: Result<T, bedside_clinic::ClinicError>) {
    match r {
        Ok(_) => println!("   !! {what}: unexpectedly allowed"),
        Err(e) => println!("   refused: {what} ({} {e})", e.status()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("bedside-clinic-day-{}.db", std::process::id()));
    let clock = Arc::new(ManualClock::new("2026-06-08T12:30:00Z".parse()?));
    let store = SqliteStore::open(&path, Durability::Normal)?;
    let clinic = Clinic::open(Box::new(store), clock.clone(), ClinicConfig::default())?;
    let demo = seed::seed(&clinic)?;
    let zone = chrono_tz::America::New_York;
    let local =
        |t: bedside::core::Timestamp| t.with_timezone(&zone).format("%a %d %b %H:%M").to_string();
    println!(
        "Riverside Clinic, Monday 8 June 2026 — {} patients, {} providers seeded\n",
        demo.patients.len(),
        demo.providers.len()
    );
    let reception = seed::demo_staff("reception")?;
    let scheduler = seed::demo_staff("scheduler")?;
    let gp = seed::demo_staff("clinician")?;
    let nurse = seed::demo_staff("nurse")?;
    let privacy = seed::demo_staff("privacy-officer")?;
    let manager = seed::demo_staff("manager")?;
    let gateway = seed::demo_staff("sms-gateway")?;

    println!("== 1. Self-registration with a duplicate check");
    let form = |given: &str, family: &str, birth: &str, phone: &str| Registration {
        given: vec![given.into()],
        family: family.into(),
        birth_date: birth.into(),
        phone: Some(phone.into()),
        email: None,
        postal_code: None,
        sms_reminders: Some(true),
        language: Some("en".into()),
    };
    let noor = clinic.register(&form("Noor", "Haddad", "1993-02-11", "+12125550190"), None)?;
    let bedside_clinic::clinic::RegistrationReply::Patient(noor) = noor else {
        return Err("a self-registration answers with a token".into());
    };
    println!(
        "   a new patient registers online: phone verification {}",
        noor.phone_verification
    );
    let again = clinic.register(
        &form("Maria", "Delgato", "1958-03-14", "+12125550191"),
        None,
    )?;
    let new_id = again.patient();
    let case = clinic
        .duplicates(&reception)?
        .into_iter()
        .find(|c| c.patient == new_id)
        .ok_or("the matcher queued no duplicate")?;
    println!(
        "   someone registers as an existing patient with a typo: queued for staff, grade {:?}, score {:.3}",
        case.grade,
        case.score.unwrap_or_default()
    );
    let resolved = clinic.resolve_duplicate(&reception, new_id, DuplicateVerdict::SamePerson)?;
    println!("   reception reviews the match: {:?}", resolved.status);

    println!("\n== 2. Self-service changes");
    let (grace, _) = demo.patients[4];
    let me = Principal::Patient { patient: grace };
    let v = clinic.patient(&me, grace, None)?.version;
    let applied = clinic.change_profile(
        &me,
        grace,
        &ProfileChange {
            base_version: v,
            quiet_hours: Some(("21:00".into(), "08:00".into())),
            ..ProfileChange::default()
        },
    )?;
    println!(
        "   Grace sets quiet hours 21:00–08:00: applied as version {}",
        applied.applied_version.unwrap_or_default()
    );
    let v = v + 1;
    let pending = clinic.change_profile(
        &me,
        grace,
        &ProfileChange {
            base_version: v,
            name: Some(NameChange {
                given: vec!["Grace".into()],
                family: "Mensah".into(),
            }),
            ..ProfileChange::default()
        },
    )?;
    println!(
        "   she asks for a name change: pending request {}",
        pending.pending_request.is_some()
    );
    let request = pending.pending_request.ok_or("no request")?;
    refused(
        "Grace approving her own request",
        clinic.approve_request(&me, request),
    );
    let approved = clinic.approve_request(&reception, request)?;
    println!(
        "   reception approves after seeing the certificate: version {}",
        approved.version
    );

    println!("\n== 3. Online booking, reminders and SMS replies");
    let slots = clinic.find_slots(&SlotSearch {
        appointment_type: "gp-follow-up".into(),
        from: Some("2026-06-10T13:00:00Z".parse()?),
        limit: Some(3),
        ..SlotSearch::default()
    })?;
    for o in &slots {
        println!("   offered: {}", local(o.period.start()));
    }
    let option = slots.first().ok_or("no slot")?.clone();
    let booked = clinic.book(&me, grace, option.clone(), "checkout-1")?;
    println!("   Grace books {}", local(option.period.start()));
    for m in clinic.outbox(&me, Some("pending"), None)? {
        println!(
            "   reminder planned: {} at {}",
            m.channel,
            local(m.send_at.parse()?)
        );
    }
    let r = clinic.inbound_sms(&gateway, "gw-1", "+12125550146", "C")?;
    println!("   she replies \"C\": {}", r.intent);
    let r = clinic.inbound_sms(&gateway, "gw-2", "+12125550146", "R")?;
    println!(
        "   she replies \"R\": {} new times offered by SMS",
        r.result.and_then(|o| o.options).map_or(0, |o| o.len())
    );
    let start = option.period.start();
    let report = clinic.provider_unavailable(
        &scheduler,
        option.provider,
        bedside::core::Period::new(start - TimeDelta::hours(6), start + TimeDelta::hours(12))?,
    )?;
    println!(
        "   her GP calls in sick: {} moved, {} left for staff, {} patients notified",
        report.moved.len(),
        report.unplaced.len(),
        report.notified
    );
    let r = clinic.inbound_sms(&gateway, "gw-3", "+12125550146", "STOP")?;
    println!(
        "   she replies \"STOP\": {}; pending SMS withdrawn: {}",
        r.intent,
        clinic
            .outbox(&me, Some("pending"), None)?
            .iter()
            .all(|m| m.channel != "sms")
    );
    let _ = booked;

    println!("\n== 4. Consent: a proxy, a break-the-glass read, the accounting");
    let (maria, _) = demo.patients[0];
    let maria_p = Principal::Patient { patient: maria };
    let grant = clinic.grant_proxy(
        &maria_p,
        maria,
        &["appointments".into(), "billing".into()],
        bedside::consent::Relationship::AdultChild,
    )?;
    let token = grant.token.ok_or("no token")?;
    let daughter = clinic.authenticate(token.expose())?;
    let n = clinic.appointments(&daughter, maria)?.len();
    println!("   Maria's daughter (proxy for appointments and billing) sees {n} appointment(s)");
    refused(
        "the daughter reading clinical notes",
        clinic.notes(&daughter, maria, None),
    );
    let er = Clinic::staff_principal(&[Role::CLINICIAN], None);
    refused(
        "an emergency doctor outside the care team reading notes",
        clinic.notes(&er, maria, None),
    );
    clinic.notes(&er, maria, Some("unresponsive on arrival, history unknown"))?;
    println!("   the emergency doctor breaks the glass: allowed, audited");
    println!(
        "   privacy officer's review queue: {} item(s)",
        clinic.reviews(&privacy)?.len()
    );
    let acct = clinic.disclosures(&maria_p, maria)?;
    println!(
        "   Maria's accounting lists {} access decisions about her",
        acct.accesses.len()
    );
    println!(
        "   audit chain verified: {}",
        clinic.verify_audit(&privacy)?.verified
    );

    println!("\n== 5. Visit, post-visit survey, manager report");
    let list = clinic.appointments(&maria_p, maria)?;
    let first = list.first().ok_or("no appointment")?;
    let (visit, at) = (first.id, first.start);
    clock.set(at - TimeDelta::minutes(5));
    clinic.check_in(&reception, visit)?;
    clock.set(at + TimeDelta::minutes(20));
    let done = clinic.complete(&gp, visit)?;
    println!(
        "   Maria checked in and seen at {}; survey invitations planned: {}",
        local(at),
        done.survey_invitations
    );
    let answers = vec![
        (
            "scheduling-ease".to_string(),
            SurveyAnswerValue::Text(bedside::core::Sensitive::new("5".into())),
        ),
        (
            "wait".to_string(),
            SurveyAnswerValue::Text(bedside::core::Sensitive::new("5-15".into())),
        ),
        (
            "concerns-addressed".to_string(),
            SurveyAnswerValue::Text(bedside::core::Sensitive::new("completely".into())),
        ),
        (
            "explain-better".to_string(),
            SurveyAnswerValue::Boolean(false),
        ),
        (
            "staff-comfort".to_string(),
            SurveyAnswerValue::Text(bedside::core::Sensitive::new("4".into())),
        ),
        ("recommend".to_string(), SurveyAnswerValue::Integer(9)),
    ];
    clinic.answer_survey(&maria_p, visit, answers)?;
    let report = clinic.survey_report(&manager)?;
    println!(
        "   manager's report: {} invited, {} response(s); small cells are suppressed:",
        report.invited, report.responses
    );
    for line in report.report.lines().take(12) {
        println!("     {line}");
    }

    println!("\n== 6. Charges, claim, remittance, statement, payment");
    let billing = seed::demo_staff("billing")?;
    let claim = clinic.charge_visit(&billing, visit, &["99214".into(), "93000".into()], None)?;
    println!(
        "   billing charges the visit: claim {} for {} cents",
        claim.control_number, claim.total_minor
    );
    refused(
        "the proxy daughter charging a visit",
        clinic.charge_visit(&daughter, visit, &["99213".into()], None),
    );
    clock.set(at + TimeDelta::days(7));
    let posted = clinic.post_remittance(
        &billing,
        include_str!("../crates/bedside-clinic/tests/data/visit.835"),
    )?;
    println!(
        "   the insurer's 835 arrives: {} entries posted, {} claim matched",
        posted.entries_applied, posted.claims_matched
    );
    let statement = clinic.statement(&daughter, maria)?;
    println!(
        "   the daughter opens Maria's statement: {} cents due",
        statement.amount_due_minor
    );
    for line in statement.text.lines().take(8) {
        println!("     {line}");
    }
    let paid = clinic.pay(
        &maria_p,
        maria,
        &bedside_clinic::PaymentRequest {
            amount_minor: statement.amount_due_minor,
            client_token: Some("statement-1".into()),
            credit: false,
        },
    )?;
    println!(
        "   Maria pays online: balance now {} cents",
        paid.balance_minor
    );
    let aging = clinic.aging(&billing)?;
    println!(
        "   aging: payers {} cents, patients {} cents outstanding",
        aging.payers_total_minor, aging.patients_total_minor
    );

    println!("\n== 7. Discharge, home vitals, nurse alert");
    let (james, _) = demo.patients[1];
    clinic.discharge(&nurse, james)?;
    clock.advance(TimeDelta::minutes(10));
    let reading_at = (clinic.now() - TimeDelta::minutes(5)).to_rfc3339();
    let lines: Vec<String> = [
        ("respiratory_rate", r#""value":27,"unit":"/min""#),
        ("oxygen_saturation", r#""value":89,"unit":"%""#),
        ("heart_rate", r#""value":128,"unit":"/min""#),
        ("body_temperature", r#""value":39.4,"unit":"Cel""#),
        (
            "blood_pressure",
            r#""systolic":92,"diastolic":58,"unit":"mm[Hg]""#,
        ),
    ]
    .iter()
    .map(|(k, f)| {
        format!(
            r#"{{"patient":"{james}","kind":"{k}","at":"{reading_at}",{f},"source":"app:home"}}"#
        )
    })
    .collect();
    let up = clinic.upload_vitals(
        &Principal::Patient { patient: james },
        james,
        &lines.join("\n"),
    )?;
    println!(
        "   James uploads {} readings from home: {} accepted, {} new alert(s)",
        up.records, up.accepted, up.new_alerts
    );
    let alerts = clinic.alerts(&nurse)?;
    for a in &alerts {
        println!(
            "   nurse queue: severity {}, suggested response {}, rule {}: {}",
            a.severity, a.response, a.rule, a.message
        );
    }
    if let Some(first) = alerts.first() {
        clinic.acknowledge_alert(&nurse, first.alert)?;
        println!(
            "   the nurse acknowledges the top alert; {} still open",
            clinic.alerts(&nurse)?.len()
        );
    }

    println!("\n== Outbox");
    clock.advance(TimeDelta::days(30));
    let notifier = MemoryNotifier::default();
    let sent = clinic.deliver_due(&notifier)?;
    let mut by_purpose = std::collections::BTreeMap::new();
    for m in notifier.sent() {
        *by_purpose
            .entry(m.purpose.split(':').next().unwrap_or_default().to_string())
            .or_insert(0) += 1;
    }
    println!("   {sent} messages delivered: {by_purpose:?}");
    drop(clinic);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
