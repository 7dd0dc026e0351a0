//! The five tasks of issue 17, as a developer embedding the facade writes them: book and
//! cancel, a consent decision, charges to a statement, vitals to NEWS2, PHQ-9 scoring.
//!
//! Only `bedside::…` paths are used (no domain crate named directly, no `chrono`/`uuid`
//! dependency of its own), and no struct literal has more than five fields: wider types are
//! built with their constructors and builders. Each task asserts what an embedder would check,
//! so a regression in the facade's everyday API fails here.

use bedside::chrono::{NaiveDate, NaiveTime, TimeDelta};
use bedside::core::{
    Actor, AppointmentId, ClaimId, CoverageId, DomainError, EncounterId, ErrorKind, OrganisationId,
    PatientId, ProviderId, RoomId, Sensitive, Timestamp,
};
use bedside::uuid::Uuid;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at(text: &str) -> Result<Timestamp> {
    Ok(text.parse()?)
}

#[test]
fn book_and_cancel() -> Result {
    use bedside::schedule::{
        AppointmentStatus, AppointmentType, BookRequest, Calendar, CancelReason, CancelRequest,
        GridConfig, Provider, Room, Schedule, SlotQuery, Tz,
    };
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).ok_or("bad time");
    let zone = Tz::Europe__London;
    let mut schedule = Schedule::new(GridConfig {
        origin: at("2026-05-31T23:00:00Z")?, // Monday 1 June 2026, 00:00 BST
        granularity_minutes: 15,
        horizon_days: 14,
        zone,
    })?;
    let provider = ProviderId::from_uuid(id(1));
    schedule.add_provider(Provider {
        id: provider,
        skills: ["derm".to_string()].into(),
        calendar: Calendar::weekdays(zone, hm(9)?, hm(17)?)?,
    })?;
    schedule.add_room(Room {
        id: RoomId::from_uuid(id(2)),
        capabilities: ["exam".to_string()].into(),
        calendar: Calendar::weekdays(zone, hm(8)?, hm(18)?)?,
    })?;
    schedule.add_appointment_type(
        AppointmentType::new("derm-new", 30, "derm").with_room_capability("exam"),
    )?;

    let now = at("2026-05-31T12:00:00Z")?;
    let patient = PatientId::from_uuid(id(3));
    let me = Actor::Patient { patient };
    let query = SlotQuery::new("derm-new", now, now + TimeDelta::days(7))
        .for_patient(patient)
        .booked_by_patient(now);
    let options = schedule.find_slots(&query)?;
    let first = options.first().ok_or("no slot offered")?.clone();
    assert_eq!(first.period.start(), at("2026-06-01T08:00:00Z")?); // 09:00 BST, Monday
    assert_eq!(first.provider, provider);

    let booked = AppointmentId::from_uuid(id(4));
    let request = BookRequest::new(&first, patient, "checkout-1", booked);
    assert_eq!(schedule.book(&request, &me, now)?, booked);
    assert_eq!(
        schedule.appointment(booked).map(|a| a.status),
        Some(AppointmentStatus::Booked)
    );
    // The slot is gone for the next patient, and taking it anyway is a conflict by kind.
    assert_ne!(
        schedule.find_slots(&query)?.first().map(|o| o.period),
        Some(first.period)
    );
    let other = PatientId::from_uuid(id(5));
    let again = BookRequest::new(&first, other, "checkout-2", AppointmentId::from_uuid(id(6)));
    let taken = schedule.book(&again, &Actor::Patient { patient: other }, now);
    assert_eq!(taken.map_err(|e| e.kind()), Err(ErrorKind::Conflict));

    let freed = schedule.cancel(&CancelRequest::new(booked, CancelReason::Patient), &me, now)?;
    assert_eq!(freed.period, first.period);
    let cancelled = schedule.appointment(booked).ok_or("appointment kept")?;
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    // Booked, then cancelled: both in the history, both by the patient.
    assert_eq!(cancelled.history.len(), 2);
    assert_eq!(
        schedule.find_slots(&query)?.first().map(|o| o.period),
        Some(first.period)
    );
    Ok(())
}

#[test]
fn consent_decision() -> Result {
    use bedside::consent::{
        AccessChannel, Action, DataClass, Engine, Policy, Purpose, Request, VerificationStep,
    };
    let policy = Policy::from_json(
        r#"{
          "rules": [{ "id": "right-of-access", "effect": "permit", "actors": ["patient"],
                      "actions": ["read"], "purposes": ["PATRQT"] }],
          "checklists": [{ "id": "phone-caller", "actors": ["patient"], "channels": ["voice"],
                           "require": [["name"], ["date-of-birth"]] }]
        }"#,
    )?;
    let engine = Engine::new(policy);
    let patient = PatientId::from_uuid(id(7));
    let caller = Actor::Patient { patient };
    let now = at("2026-06-10T09:00:00Z")?;
    let ask = |steps: &[VerificationStep]| {
        Request::new(caller.clone(), patient, Action::Read, Purpose::Patrqt, now)
            .classes([DataClass::Appointments])
            .channel(AccessChannel::Voice)
            .verified(steps.iter().copied())
    };

    // A caller who gave only a name is not yet verified: the agent is told what to ask.
    let partly = engine.decide(&ask(&[VerificationStep::Name]));
    assert!(!partly.is_permit());
    assert_eq!(partly.missing_steps.len(), 1);
    let verified = engine.decide(&ask(&[
        VerificationStep::Name,
        VerificationStep::DateOfBirth,
    ]));
    assert!(verified.is_permit());
    assert_eq!(verified.explanation.replay().effect, verified.effect);
    // No rule permits another patient's record.
    let other = PatientId::from_uuid(id(8));
    let foreign = Request::new(caller.clone(), other, Action::Read, Purpose::Patrqt, now)
        .classes([DataClass::Appointments]);
    assert!(!engine.decide(&foreign).is_permit());

    // A policy with an unknown code is refused as invalid, and the message lists valid codes.
    let typo = r#"{ "rules": [{ "id": "r", "effect": "permit", "actors": ["patient"],
                               "actions": ["read"], "purposes": ["TREATX"] }] }"#;
    let Err(e) = Policy::from_json(typo) else {
        return Err("a policy naming purpose TREATX was accepted".into());
    };
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let message = e.to_string();
    assert!(message.contains("`TREATX`"), "{message}");
    assert!(
        message.contains("`TREAT`") && message.contains("`PATRQT`"),
        "{message}"
    );
    Ok(())
}

#[test]
fn charges_to_a_statement() -> Result {
    use bedside::ledger::x12::GroupCode;
    use bedside::ledger::{
        BillTo, Books, ChargeId, ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus, Currency,
        FeeSchedule, ManualPayment, Money, PatientPayment, PaymentId, PaymentMethod, ProcedureCode,
        RemittancePoster, StatementOptions,
    };
    let usd = |minor| Money::new(minor, Currency::USD);
    let patient = PatientId::from_uuid(id(10));
    let payer = OrganisationId::from_uuid(id(11));
    let desk = Actor::System {
        component: "billing-desk".into(),
    };
    let mut books = Books::open(Currency::USD)?;
    let mut fees = FeeSchedule::new();
    fees.set(
        ProcedureCode::parse("99213")?,
        None,
        usd(15_000),
        "Office visit",
    );
    fees.set(
        ProcedureCode::parse("93000")?,
        None,
        usd(5_000),
        "Heart tracing (ECG)",
    );
    let seen = NaiveDate::from_ymd_opt(2026, 2, 2).ok_or("date")?;
    let mut charges = Vec::new();
    for (n, code) in [(20, "99213"), (21, "93000")] {
        let request = ChargeRequest::new(
            patient,
            EncounterId::from_uuid(id(12)),
            ProcedureCode::parse(code)?,
            seen,
            ProviderId::from_uuid(id(13)),
        );
        let charge = fees.price(ChargeId::from_uuid(id(n)), request)?;
        books.capture_charge(
            &charge,
            BillTo::Payer(payer),
            &desk,
            at("2026-02-02T16:00:00Z")?,
        )?;
        charges.push(charge);
    }
    assert_eq!(
        charges.iter().map(|c| c.amount.amount_minor()).sum::<i64>(),
        20_000
    );

    let mut claims = ClaimBook::new();
    let claim = claims.build(
        &mut books,
        ClaimDraft {
            id: ClaimId::from_uuid(id(14)),
            payer,
            coverage: CoverageId::from_uuid(id(15)),
            control_number: "BSD0042".into(),
            charges: &charges,
        },
        at("2026-02-03T09:00:00Z")?,
    )?;
    claims.transition(claim, ClaimStatus::Submitted, at("2026-02-03T09:00:00Z")?)?;

    // The insurer's EOB came on paper: recorded by hand, no 835. The claim is paid (the
    // contractual write-off and the copay are the payer's decision), and the patient owes the copay.
    let mut poster = RemittancePoster::new(books.clinic);
    let eob = ManualPayment::new(payer, claim, usd(12_000), "CHK-7781")
        .with_adjustment(GroupCode::CO, "45", usd(5_000))
        .with_adjustment(GroupCode::PR, "3", usd(3_000));
    let posted = poster.post_manual(
        &mut books,
        &mut claims,
        &eob,
        &desk,
        at("2026-02-20T10:00:00Z")?,
    )?;
    assert!(posted.entries_applied > 0);
    assert_eq!(posted.copay, usd(3_000));
    assert_eq!(claims.get(claim).map(|c| c.status), Some(ClaimStatus::Paid));
    // The same payment again changes nothing.
    let again = poster.post_manual(
        &mut books,
        &mut claims,
        &eob,
        &desk,
        at("2026-02-20T10:05:00Z")?,
    )?;
    assert_eq!(again.entries_applied, 0);
    assert!(books.ledger.trial_balance().is_zero());

    // The statement comes from the books: what the claim billed, what the insurer paid and
    // wrote off (recorded by the posting, not by the caller), and what is left to pay.
    let options = || {
        Ok::<_, &str>(StatementOptions::new(
            NaiveDate::from_ymd_opt(2026, 2, 21).ok_or("date")?,
        ))
    };
    let statement = books.statement(&claims, patient, options()?)?;
    assert_eq!(statement.lines.len(), 2);
    assert_eq!(statement.total_billed, usd(20_000));
    assert_eq!(statement.total_insurance_paid, usd(12_000));
    assert_eq!(statement.total_adjusted, usd(5_000));
    assert_eq!(statement.amount_due, usd(3_000));
    assert!(statement.render_text().contains("$30.00"));

    // The patient pays at the desk; the next statement shows the payment, nothing due.
    books.record_patient_payment(
        &PatientPayment {
            id: PaymentId::from_uuid(id(16)),
            patient,
            amount: usd(3_000),
            method: PaymentMethod::Card {
                reference: Sensitive::new("ch_demo".into()),
            },
            received_at: at("2026-02-25T12:00:00Z")?,
        },
        &desk,
    )?;
    let paid = books.statement(&claims, patient, options()?)?;
    assert_eq!(paid.your_payments, usd(3_000));
    assert_eq!(paid.amount_due, usd(0));
    Ok(())
}

#[test]
fn vitals_to_news2() -> Result {
    use bedside::vitals::{AlertSeverity, Batch, CarePlan, IngestConfig, VitalsStore, ndjson};
    let patient = PatientId::from_uuid(id(30));
    let mut store = VitalsStore::new(IngestConfig::default());
    store.register_patient(patient, bedside::chrono_tz::Europe::London);
    // Two observation sets from home, two hours apart; the second is worse (SpO2 94 → 93).
    let set = |time: &str, spo2: u32| {
        [
            r#""kind":"respiratory_rate","value":22,"unit":"/min""#.to_string(),
            format!(r#""kind":"oxygen_saturation","value":{spo2},"unit":"%","on_oxygen":false"#),
            r#""kind":"blood_pressure","systolic":115,"diastolic":75,"unit":"mm[Hg]""#.to_string(),
            r#""kind":"heart_rate","value":95,"unit":"/min""#.to_string(),
            r#""kind":"body_temperature","value":38.5,"unit":"Cel""#.to_string(),
        ]
        .map(|fields| {
            format!(r#"{{"patient":"{patient}","at":"{time}",{fields},"source":"manual"}}"#) + "\n"
        })
        .concat()
    };
    let upload = set("2026-03-01T08:00:00Z", 94) + &set("2026-03-01T10:00:00Z", 93);
    let batch = Batch::new(
        "upload-1",
        &Actor::Patient { patient },
        at("2026-03-01T10:30:00Z")?,
    );
    let report = ndjson::ingest(&mut store, upload.as_bytes(), &batch)?;
    assert_eq!((report.accepted, report.rejected_total()), (10, 0));

    let period =
        bedside::core::Period::new(at("2026-03-01T00:00:00Z")?, at("2026-03-02T00:00:00Z")?)?;
    let alerts = bedside::vitals::alert::evaluate(&store, patient, &CarePlan::default(), &period);
    let news2: Vec<_> = alerts.iter().filter(|a| a.rule == "news2").collect();
    // RR 22 (2) + SpO2 94 (1) + air (0) + systolic 115 (0) + pulse 95 (1) + 38.5 °C (1) = 5,
    // then 6 with SpO2 93 (2): one alert, the later score folded in and shown.
    assert_eq!(news2.len(), 1, "{news2:?}");
    let alert = news2[0];
    assert_eq!(alert.triggered_at, at("2026-03-01T08:00:00Z")?);
    assert_eq!(alert.suppressed, 1);
    assert_eq!(alert.message_at(), at("2026-03-01T10:00:00Z")?);
    assert!(
        alert.message.starts_with("NEWS2 6 medium"),
        "{}",
        alert.message
    );
    assert!(
        alert.message.contains("partial: 6 of 7"),
        "{}",
        alert.message
    ); // no ACVPU at home
    assert_eq!(alert.severity, AlertSeverity::High);

    // The same set scored directly, with consciousness as a clinician records it.
    let input = bedside::vitals::News2Input::new()
        .with_respiration_rate(22.0)
        .with_spo2(93.0)
        .on_air()
        .with_systolic(115.0)
        .with_pulse(95.0)
        .with_consciousness(bedside::vitals::news2::Consciousness::Alert)
        .with_temperature_c(38.5);
    let score = bedside::vitals::news2::score(&input);
    assert_eq!(
        (score.total, score.complete, score.red_flag),
        (6, true, false)
    );
    assert_eq!(score.band, bedside::vitals::News2Band::Medium);
    Ok(())
}

#[test]
fn phq9_scoring() -> Result {
    use bedside::survey::{AnswerValue, Builtin, FlagSeverity, ResponseBuilder, score, validate};
    let phq9 = Builtin::Phq9.definition()?;
    let answer = |points: [u8; 9]| {
        let mut response = ResponseBuilder::new(&phq9);
        for (item, p) in points.iter().enumerate() {
            response = response.answer(
                &format!("phq9-{}", item + 1),
                AnswerValue::code(p.to_string()),
            );
        }
        response.build()
    };

    let moderate = answer([2, 2, 1, 2, 1, 1, 1, 1, 0]);
    assert!(validate(&phq9, &moderate).is_empty());
    let sheet = score(&phq9, &moderate)?;
    let total = sheet.scale("total").ok_or("no total scale")?;
    assert_eq!(total.score, Some(11.0));
    assert_eq!(total.band.as_deref(), Some("moderate"));
    assert!(!sheet.has_flag_at_least(FlagSeverity::Urgent));

    // Item 9 above 0 raises an urgent flag whatever the total.
    let sheet = score(&phq9, &answer([0, 1, 0, 0, 0, 0, 0, 0, 1]))?;
    assert_eq!(sheet.scale("total").and_then(|s| s.score), Some(2.0));
    assert!(sheet.has_flag_at_least(FlagSeverity::Urgent));

    // An unanswered item is reported by validation, with the item named.
    let mut partial = ResponseBuilder::new(&phq9);
    for item in 1..=8 {
        partial = partial.answer(&format!("phq9-{item}"), AnswerValue::code("0"));
    }
    let problems = validate(&phq9, &partial.build());
    assert!(!problems.is_empty());
    assert!(format!("{problems:?}").contains("phq9-9"), "{problems:?}");
    Ok(())
}
