//! Patient consents, sensitive categories, proxies, communication consent, break-the-glass and
//! policy validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::{
    AccessChannel, Action, ActorRef, BreakGlass, ClassSet, Consent, ConsentError, ConsentStatus,
    DataClass, Obligation, Policy, ProblemKind, Provision, ProvisionType, ProxyGrant, Purpose,
    Relationship, SecurityLabel, Source, StepSet, Verdict, VerificationStep,
};
use bedside_core::{Actor, ConsentId, Period, Sensitive};
use chrono::TimeDelta;
use common::*;
use uuid::Uuid;

fn cid(n: u128) -> ConsentId {
    ConsentId::from_uuid(Uuid::from_u128(5000 + n))
}

fn external(org: bedside_core::OrganisationId) -> Actor {
    Actor::External { organisation: org }
}

#[test]
fn opt_out_of_disclosure_to_one_recipient_most_specific_wins() {
    let mut e = engine();
    // Permit everything, except disclosure to the hospital, except lab results to the hospital.
    let provision = Provision::new(ProvisionType::Permit).except(
        Provision::new(ProvisionType::Deny)
            .actor(ActorRef::Organisation(hospital()))
            .action(Action::Disclose)
            .except(Provision::new(ProvisionType::Permit).class(DataClass::LabResults)),
    );
    e.consents_mut()
        .add(
            Consent::new(cid(1), patient(), provision),
            now(),
            &Actor::system("test"),
        )
        .unwrap();
    let notes = request(
        external(hospital()),
        Action::Disclose,
        &[DataClass::ClinicalNotes],
        Purpose::Treat,
    );
    let d = e.decide(&notes);
    assert!(!d.is_permit());
    assert!(
        matches!(d.explanation.deciding().map(|a| &a.source), Some(Source::Provision { path, .. }) if path.depth() == 1)
    );
    let labs = request(
        external(hospital()),
        Action::Disclose,
        &[DataClass::LabResults],
        Purpose::Treat,
    );
    assert!(e.decide(&labs).is_permit());
    // Another recipient is unaffected.
    let other = request(
        external(lab_org()),
        Action::Disclose,
        &[DataClass::ClinicalNotes],
        Purpose::Treat,
    );
    assert!(e.decide(&other).is_permit());
    // Revocation is a new state, kept in history.
    e.consents_mut()
        .revoke(cid(1), now(), &Actor::Patient { patient: patient() })
        .unwrap();
    assert!(e.decide(&notes).is_permit());
    assert_eq!(e.consents().history().len(), 2);
    assert_eq!(e.consents().history()[1].status, ConsentStatus::Inactive);
}

#[test]
fn expired_consent_does_not_apply() {
    let mut e = engine();
    let period = Period::new(now() - TimeDelta::days(30), now() - TimeDelta::days(1)).unwrap();
    let deny = Provision::new(ProvisionType::Deny).during(period);
    e.consents_mut()
        .add(
            Consent::new(cid(2), patient(), deny),
            now(),
            &Actor::system("test"),
        )
        .unwrap();
    let r = request(
        doctor_in_team(),
        Action::Read,
        &[DataClass::LabResults],
        Purpose::Treat,
    );
    assert!(e.decide(&r).is_permit());
}

#[test]
fn research_disclosure_needs_explicit_consent() {
    let mut e = engine();
    let r = request(
        external(lab_org()),
        Action::Disclose,
        &[DataClass::LabResults],
        Purpose::Hresch,
    );
    assert!(!e.decide(&r).is_permit());
    // A blanket opt-in does not name the purpose, so it does not authorise research.
    e.consents_mut()
        .add(
            Consent::new(cid(3), patient(), Provision::new(ProvisionType::Permit)),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    assert!(!e.decide(&r).is_permit());
    let research = Provision::new(ProvisionType::Permit)
        .purpose(Purpose::Hresch)
        .action(Action::Disclose);
    e.consents_mut()
        .add(
            Consent::new(cid(4), patient(), research),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    let d = e.decide(&r);
    assert!(d.is_permit(), "{}", d.explanation);
    assert!(d.authorised_by_consent());
}

#[test]
fn part2_records_need_consent_naming_recipient_and_purpose() {
    let mut e = engine();
    let mut r = request(
        external(hospital()),
        Action::Disclose,
        &[DataClass::ClinicalNotes],
        Purpose::Treat,
    );
    r.data = r.data.labelled(SecurityLabel::Eth);
    let d = e.decide(&r);
    assert!(!d.is_permit());
    assert_eq!(
        d.explanation.deciding().map(|a| a.source.clone()),
        Some(Source::SensitiveCategory {
            label: SecurityLabel::Eth
        })
    );
    // A general permit does not lift it.
    e.consents_mut()
        .add(
            Consent::new(
                cid(5),
                patient(),
                Provision::new(ProvisionType::Permit).purpose(Purpose::Treat),
            ),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    assert!(!e.decide(&r).is_permit());
    // Naming the recipient, purpose and label does.
    let part2 = Provision::new(ProvisionType::Permit)
        .actor(ActorRef::Organisation(hospital()))
        .purpose(Purpose::Treat)
        .label(SecurityLabel::Eth);
    e.consents_mut()
        .add(
            Consent::new(cid(6), patient(), part2),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    assert!(e.decide(&r).is_permit());
    // …for that recipient only.
    r.actor = external(lab_org());
    assert!(!e.decide(&r).is_permit());
}

#[test]
fn psychotherapy_notes_never_leave_even_with_consent() {
    let mut e = engine();
    let notes = Provision::new(ProvisionType::Permit)
        .actor(ActorRef::Organisation(hospital()))
        .purpose(Purpose::Treat)
        .label(SecurityLabel::Psythpn);
    e.consents_mut()
        .add(
            Consent::new(cid(7), patient(), notes),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    let mut r = request(
        external(hospital()),
        Action::Disclose,
        &[DataClass::ClinicalNotes],
        Purpose::Treat,
    );
    r.data = r.data.labelled(SecurityLabel::Psythpn);
    let d = e.decide(&r);
    assert!(!d.is_permit());
    assert_eq!(
        d.explanation.deciding().map(|a| a.source.to_string()),
        Some("rule `no-psychotherapy-notes-outside`".to_owned())
    );
}

#[test]
fn proxy_acts_only_within_grant_and_period() {
    let mut e = engine();
    let grant_period =
        Period::new(now() - TimeDelta::days(10), now() + TimeDelta::days(10)).unwrap();
    e.add_proxy_grant(ProxyGrant {
        related_person: proxy_person(),
        patient: patient(),
        relationship: Relationship::AdultChild,
        classes: [DataClass::Appointments, DataClass::Medications]
            .into_iter()
            .collect(),
        actions: [Action::Read].into_iter().collect(),
        period: grant_period,
    });
    let proxy = Actor::Proxy {
        related_person: proxy_person(),
        patient: patient(),
    };
    let mut r = request(
        proxy.clone(),
        Action::Read,
        &[DataClass::Appointments, DataClass::LabResults],
        Purpose::Famrqt,
    );
    let d = e.decide(&r);
    assert!(d.is_permit());
    assert_eq!(d.permitted, ClassSet::from(DataClass::Appointments));
    r.data.classes = DataClass::LabResults.into();
    assert_eq!(
        e.decide(&r)
            .explanation
            .deciding()
            .map(|a| a.source.clone()),
        Some(Source::ProxyScope)
    );
    r.data.classes = DataClass::Medications.into();
    r.action = Action::Update;
    assert!(!e.decide(&r).is_permit());
    r.action = Action::Read;
    r.context.at = now() + TimeDelta::days(11);
    assert!(!e.decide(&r).is_permit());
    // Calling on the phone, the proxy must be verified.
    r.context.at = now();
    r.channel = AccessChannel::Voice;
    let d = e.decide(&r);
    assert!(!d.is_permit());
    assert_eq!(d.missing_steps.len(), 3);
    r.context.verified = [
        VerificationStep::Name,
        VerificationStep::DateOfBirth,
        VerificationStep::ProxyAuthorisation,
    ]
    .into_iter()
    .collect::<StepSet>();
    assert!(e.decide(&r).is_permit());
}

#[test]
fn communication_consent_per_channel_and_purpose_and_stop() {
    let mut e = engine();
    let sms_reminders = Provision::new(ProvisionType::Permit)
        .action(Action::Contact)
        .channel(AccessChannel::Sms)
        .purpose(Purpose::Treat);
    e.consents_mut()
        .add(
            Consent::new(cid(8), patient(), sms_reminders),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    let mut reminder = request(
        Actor::system("reminder-planner"),
        Action::Contact,
        &[DataClass::Contact],
        Purpose::Treat,
    );
    reminder.channel = AccessChannel::Sms;
    assert!(e.decide(&reminder).is_permit());
    let mut marketing = reminder.clone();
    marketing.purpose = Purpose::Markt;
    assert!(!e.decide(&marketing).is_permit());
    let mut email = reminder.clone();
    email.channel = AccessChannel::Email;
    assert!(!e.decide(&email).is_permit());
    // STOP revokes.
    e.consents_mut()
        .stop(
            patient(),
            AccessChannel::Sms,
            cid(9),
            now(),
            &Actor::Patient { patient: patient() },
        )
        .unwrap();
    assert_eq!(
        e.consents().get(cid(8)).map(|c| c.status),
        Some(ConsentStatus::Inactive)
    );
    assert!(!e.decide(&reminder).is_permit());
}

#[test]
fn break_glass_permits_with_obligations_and_limits() {
    let mut e = engine();
    // The patient denied all access by a named clinician.
    let deny = Provision::new(ProvisionType::Deny)
        .actor(ActorRef::Staff(doctor_outside().as_staff().unwrap().id));
    e.consents_mut()
        .add(
            Consent::new(cid(10), patient(), deny),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    let mut r = request(
        doctor_outside(),
        Action::Read,
        &[DataClass::LabResults, DataClass::Billing],
        Purpose::Etreat,
    );
    assert!(!e.decide(&r).is_permit());
    r.context.break_glass = Some(BreakGlass {
        justification: Sensitive::new("unconscious in ED".to_owned()),
        started_at: now() - TimeDelta::minutes(5),
    });
    let d = e.decide(&r);
    assert!(d.is_permit(), "{}", d.explanation);
    assert!(d.broke_glass());
    assert_eq!(d.permitted, ClassSet::from(DataClass::LabResults));
    for o in [
        Obligation::Audit,
        Obligation::NotifyPatient,
        Obligation::PostHocReview,
    ] {
        assert!(d.obligations.contains(&o), "{o:?}");
    }
    // Not for TREAT, not without a justification, not after the window, not for non-clinicians.
    let mut treat = r.clone();
    treat.purpose = Purpose::Treat;
    assert!(!e.decide(&treat).is_permit());
    let mut blank = r.clone();
    blank.context.break_glass = Some(BreakGlass {
        justification: Sensitive::new("  ".into()),
        started_at: now(),
    });
    assert!(!e.decide(&blank).is_permit());
    let mut late = r.clone();
    late.context.at = now() + TimeDelta::minutes(240);
    assert!(!e.decide(&late).is_permit());
    let mut nurse = r.clone();
    nurse.actor = staff(13, "nurse");
    assert!(!e.decide(&nurse).is_permit());
    // ETH is overridable in an emergency, psychotherapy notes are not.
    let mut eth = r.clone();
    eth.data = eth.data.labelled(SecurityLabel::Eth);
    assert!(e.decide(&eth).is_permit());
    let mut psy = r.clone();
    psy.data = psy.data.labelled(SecurityLabel::Psythpn);
    let d = e.decide(&psy);
    assert!(!d.is_permit());
    assert!(matches!(
        d.explanation.deciding().map(|a| a.verdict),
        Some(Verdict::Deny { overridable: false })
    ));
}

/// (channel, action, class, verified, expected missing groups)
type Case = (
    AccessChannel,
    Action,
    DataClass,
    &'static [VerificationStep],
    &'static [&'static [VerificationStep]],
);

#[test]
fn verification_checklists() {
    use VerificationStep::*;
    let e = engine();
    // (channel, action, class, verified, expected missing groups)
    let cases: &[Case] = &[
        (
            AccessChannel::Voice,
            Action::Read,
            DataClass::Appointments,
            &[],
            &[&[Name], &[DateOfBirth]],
        ),
        (
            AccessChannel::Voice,
            Action::Read,
            DataClass::Appointments,
            &[Name, DateOfBirth],
            &[],
        ),
        (
            AccessChannel::Voice,
            Action::Read,
            DataClass::LabResults,
            &[Name, DateOfBirth],
            &[&[Postcode, IdentifierLast4, OneTimeCode]],
        ),
        (
            AccessChannel::Voice,
            Action::Read,
            DataClass::LabResults,
            &[Name, DateOfBirth, IdentifierLast4],
            &[],
        ),
        (
            AccessChannel::Voice,
            Action::Read,
            DataClass::LabResults,
            &[DateOfBirth, OneTimeCode],
            &[&[Name]],
        ),
        (
            AccessChannel::Portal,
            Action::Read,
            DataClass::LabResults,
            &[],
            &[],
        ),
        (
            AccessChannel::InPerson,
            Action::Read,
            DataClass::LabResults,
            &[],
            &[],
        ),
        (
            AccessChannel::Voice,
            Action::Update,
            DataClass::Contact,
            &[Name],
            &[&[DateOfBirth], &[OneTimeCode, CallBack]],
        ),
        (
            AccessChannel::Email,
            Action::Update,
            DataClass::Contact,
            &[Name, DateOfBirth, CallBack],
            &[],
        ),
    ];
    for (channel, action, class, verified, missing) in cases {
        let mut r = request(
            Actor::Patient { patient: patient() },
            *action,
            &[*class],
            Purpose::Patrqt,
        );
        r.channel = *channel;
        r.context.verified = verified.iter().copied().collect();
        let d = e.decide(&r);
        let got: Vec<StepSet> = d.missing_steps.iter().map(|m| m.any_of).collect();
        let want: Vec<StepSet> = missing
            .iter()
            .map(|g| g.iter().copied().collect())
            .collect();
        if *action == Action::Read {
            assert_eq!(got, want, "{channel} {class} {verified:?}");
            assert_eq!(d.is_permit(), want.is_empty());
        } else {
            // The clinic policy does not let patients update records, so the request is denied
            // for want of a rule and no steps are asked for.
            assert!(!d.is_permit());
            assert!(got.is_empty());
        }
    }
}

#[test]
fn address_change_checklist_with_a_policy_that_permits_it() {
    use VerificationStep::*;
    let json = common::POLICY.replace(
        r#""actors": ["patient"], "actions": ["read", "export"], "purposes": ["PATRQT"] }"#,
        r#""actors": ["patient"], "actions": ["read", "export", "update"], "purposes": ["PATRQT"] }"#,
    );
    let e = bedside_consent::Engine::new(Policy::from_json(&json).unwrap());
    let mut r = request(
        Actor::Patient { patient: patient() },
        Action::Update,
        &[DataClass::Contact],
        Purpose::Patrqt,
    );
    r.channel = AccessChannel::Voice;
    r.context.verified = [Name].into_iter().collect();
    let d = e.decide(&r);
    let got: Vec<StepSet> = d.missing_steps.iter().map(|m| m.any_of).collect();
    assert_eq!(
        got,
        vec![
            StepSet::from(DateOfBirth),
            [OneTimeCode, CallBack].into_iter().collect()
        ]
    );
    r.context.verified = [Name, DateOfBirth, CallBack].into_iter().collect();
    assert!(e.decide(&r).is_permit());
}

#[test]
fn policy_validation_reports_every_problem_with_paths() {
    let json = r#"{
      "rules": [
        { "id": "a", "effect": "permit", "actors": ["staff"], "roles": ["billing"], "purposes": ["HPAYMT", "PAYME"], "classes": ["billing"] },
        { "id": "a", "effect": "deny", "actors": ["staff"], "roles": ["billing"], "purposes": ["HPAYMT"], "classes": ["billing", "x-rays"] },
        { "id": "c", "effect": "permit", "actors": ["patient"], "care_team": true },
        { "id": "d", "effect": "permit", "actors": ["external"], "actions": ["disclose"], "classes": ["lab-results"] },
        { "id": "e", "effect": "deny", "actors": ["external"], "break_glass": "never" },
        { "id": "f", "effect": "permit", "actors": ["staff"], "purposes": ["TREAT"], "classes": ["vitals"] },
        { "id": "g", "effect": "deny", "actors": ["staff"], "purposes": ["TREAT"], "classes": ["vitals"] }
      ],
      "sensitive_labels": ["ETH", "xyz"],
      "break_glass": { "roles": ["clinician"], "classes": ["vitals"], "max_minutes": 0 },
      "checklists": [ { "id": "k", "require": [[], ["fingerprint"]] } ]
    }"#;
    let Err(ConsentError::InvalidPolicy { problems }) = Policy::from_json(json) else {
        panic!("expected validation problems");
    };
    let paths: Vec<(&str, &ProblemKind)> = problems
        .iter()
        .map(|p| (p.path.as_str(), &p.kind))
        .collect();
    let has =
        |path: &str, f: fn(&ProblemKind) -> bool| paths.iter().any(|(p, k)| *p == path && f(k));
    assert!(has("rules[0].purposes[1]", |k| matches!(
        k,
        ProblemKind::UnknownCode { .. }
    )));
    assert!(has("rules[1].id", |k| matches!(
        k,
        ProblemKind::DuplicateId { .. }
    )));
    assert!(has("rules[1].classes[1]", |k| matches!(
        k,
        ProblemKind::UnknownCode { .. }
    )));
    assert!(has("rules[2].care_team", |k| matches!(
        k,
        ProblemKind::NeverMatches { .. }
    )));
    assert!(has("rules[3]", |k| matches!(
        k,
        ProblemKind::Unreachable { .. }
    )));
    assert!(has("rules[6]", |k| matches!(
        k,
        ProblemKind::Contradictory { .. }
    )));
    assert!(has("sensitive_labels[1]", |k| matches!(
        k,
        ProblemKind::UnknownCode { .. }
    )));
    assert!(has("break_glass.max_minutes", |k| matches!(
        k,
        ProblemKind::OutOfRange { .. }
    )));
    assert!(has("checklists[0].require[0]", |k| matches!(
        k,
        ProblemKind::OutOfRange { .. }
    )));
    assert!(has("checklists[0].require[1][0]", |k| matches!(
        k,
        ProblemKind::UnknownCode { .. }
    )));
    let message = ConsentError::InvalidPolicy {
        problems: problems.clone(),
    }
    .to_string();
    insta::assert_snapshot!(message);
    assert!(matches!(
        Policy::from_json("{ not json"),
        Err(ConsentError::MalformedPolicy { .. })
    ));
}

#[test]
fn explanation_names_every_source() {
    let mut e = engine();
    let deny_notes = Provision::new(ProvisionType::Permit)
        .except(Provision::new(ProvisionType::Deny).class(DataClass::ClinicalNotes));
    e.consents_mut()
        .add(
            Consent::new(cid(11), patient(), deny_notes),
            now(),
            &Actor::system("t"),
        )
        .unwrap();
    let r = request(
        doctor_in_team(),
        Action::Read,
        &[DataClass::ClinicalNotes, DataClass::Vitals],
        Purpose::Treat,
    );
    let d = e.decide(&r);
    let text = d
        .explanation
        .to_string()
        .replace(&cid(11).to_string(), "<consent>");
    insta::assert_snapshot!(text);
    assert_eq!(d.permitted, ClassSet::from(DataClass::Vitals));
}
