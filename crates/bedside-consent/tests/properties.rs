//! Invariants of the engine and the audit chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::audit::verify_serialized;
use bedside_consent::{
    AccessChannel, Action, ActorRef, AuditLog, BreakGlass, ClassSet, Consent, ConsentStatus,
    DataClass, DecidedBy, Effect, LabelSet, Provision, ProvisionType, Purpose, Request,
    SecurityLabel, StepSet, Verdict, VerificationStep,
};
use bedside_core::{Actor, AuditEventId, ConsentId, Period, Sensitive};
use chrono::TimeDelta;
use common::*;
use proptest::prelude::*;
use uuid::Uuid;

mod proptest_strategies {
    use super::*;

    pub fn actor() -> impl Strategy<Value = Actor> {
        prop_oneof![
            Just(doctor_in_team()),
            Just(doctor_outside()),
            Just(staff(10, "scheduler")),
            Just(staff(12, "billing")),
            Just(staff(13, "nurse")),
            Just(Actor::Patient { patient: patient() }),
            Just(Actor::Patient {
                patient: other_patient()
            }),
            Just(Actor::Proxy {
                related_person: proxy_person(),
                patient: patient()
            }),
            Just(Actor::External {
                organisation: hospital()
            }),
            Just(Actor::External {
                organisation: lab_org()
            }),
            Just(Actor::system("reminder-planner")),
        ]
    }

    fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
        (0..all.len()).prop_map(move |i| all[i])
    }

    pub fn classes() -> impl Strategy<Value = ClassSet> {
        proptest::collection::vec(pick(DataClass::ALL), 1..4).prop_map(|v| v.into_iter().collect())
    }

    pub fn labels() -> impl Strategy<Value = LabelSet> {
        proptest::collection::vec(pick(SecurityLabel::ALL), 0..3)
            .prop_map(|v| v.into_iter().collect())
    }

    pub fn request() -> impl Strategy<Value = Request> {
        (
            actor(),
            pick(Action::ALL),
            classes(),
            labels(),
            pick(Purpose::ALL),
            pick(AccessChannel::ALL),
            proptest::collection::vec(pick(VerificationStep::ALL), 0..5),
            any::<bool>(),
        )
            .prop_map(
                |(actor, action, classes, labels, purpose, channel, steps, glass)| {
                    let mut r = super::request(actor, action, &[], purpose);
                    r.data.classes = classes;
                    r.data.labels = labels;
                    r.channel = channel;
                    r.context.verified = steps.into_iter().collect::<StepSet>();
                    if glass {
                        r.context.break_glass = Some(BreakGlass {
                            justification: Sensitive::new("emergency".into()),
                            started_at: now() - TimeDelta::minutes(1),
                        });
                    }
                    r
                },
            )
    }

    fn leaf() -> impl Strategy<Value = Provision> {
        (
            proptest::option::of(prop_oneof![
                Just(ProvisionType::Permit),
                Just(ProvisionType::Deny)
            ]),
            proptest::option::of(prop_oneof![
                Just(ActorRef::Organisation(hospital())),
                Just(ActorRef::Organisation(clinic())),
                Just(ActorRef::Staff(bedside_core::StaffId::from_uuid(
                    Uuid::from_u128(1002)
                ))),
            ]),
            proptest::option::of(pick(Action::ALL)),
            proptest::option::of(pick(Purpose::ALL)),
            proptest::option::of(pick(DataClass::ALL)),
            proptest::option::of(pick(SecurityLabel::ALL)),
        )
            .prop_map(|(kind, actor, action, purpose, class, label)| {
                let mut p = Provision {
                    kind,
                    ..Provision::default()
                };
                if let Some(a) = actor {
                    p = p.actor(a);
                }
                if let Some(a) = action {
                    p = p.action(a);
                }
                if let Some(x) = purpose {
                    p = p.purpose(x);
                }
                if let Some(c) = class {
                    p = p.class(c);
                }
                if let Some(l) = label {
                    p = p.label(l);
                }
                p
            })
    }

    pub fn provision() -> impl Strategy<Value = Provision> {
        leaf().prop_recursive(3, 12, 3, |inner| {
            (leaf(), proptest::collection::vec(inner, 0..3)).prop_map(|(mut p, children)| {
                p.provisions = children;
                p
            })
        })
    }

    pub fn consents() -> impl Strategy<Value = Vec<Provision>> {
        proptest::collection::vec(provision(), 0..3)
    }
}

use proptest_strategies as s;

fn engine_with(
    consents: &[Provision],
    status: ConsentStatus,
    period: Option<Period>,
) -> bedside_consent::Engine {
    let mut e = engine();
    for (i, p) in consents.iter().enumerate() {
        let mut p = p.clone();
        if period.is_some() {
            p.period = period;
        }
        let mut c = Consent::new(
            ConsentId::from_uuid(Uuid::from_u128(7000 + i as u128)),
            patient(),
            p,
        );
        c.status = status;
        e.consents_mut()
            .add(c, now(), &Actor::system("test"))
            .unwrap();
    }
    e
}

proptest! {
    #[test]
    fn revoked_or_expired_consent_never_permits(consents in s::consents(), request in s::request()) {
        let baseline = engine().decide(&request);
        for status in [ConsentStatus::Inactive, ConsentStatus::Rejected, ConsentStatus::Draft] {
            let d = engine_with(&consents, status, None).decide(&request);
            prop_assert_eq!((d.effect, d.permitted), (baseline.effect, baseline.permitted));
        }
        let expired = Period::new(now() - TimeDelta::days(400), now() - TimeDelta::days(1)).unwrap();
        let d = engine_with(&consents, ConsentStatus::Active, Some(expired)).decide(&request);
        prop_assert_eq!((d.effect, d.permitted), (baseline.effect, baseline.permitted));
    }

    #[test]
    fn sensitive_deny_is_never_overridden_by_a_general_permit(
        permits in s::consents(),
        mut request in s::request(),
        label in prop_oneof![Just(SecurityLabel::Eth), Just(SecurityLabel::Psythpn)],
    ) {
        request.context.break_glass = None;
        request.data.labels.insert(label);
        let mut e = engine_with(&permits, ConsentStatus::Active, None);
        let deny = Provision::new(ProvisionType::Deny).label(label);
        e.consents_mut().add(Consent::new(ConsentId::from_uuid(Uuid::from_u128(1)), patient(), deny), now(), &Actor::system("t")).unwrap();
        let d = e.decide(&request);
        prop_assert_eq!(d.effect, Effect::Deny, "{}", d.explanation);
    }

    #[test]
    fn break_glass_never_lifts_a_non_overridable_deny(consents in s::consents(), mut request in s::request()) {
        request.purpose = Purpose::Etreat;
        request.context.break_glass = Some(BreakGlass { justification: Sensitive::new("x".into()), started_at: now() });
        let d = engine_with(&consents, ConsentStatus::Active, None).decide(&request);
        for a in &d.explanation.applied {
            if a.verdict == (Verdict::Deny { overridable: false }) {
                prop_assert!(!a.classes.intersects(d.permitted), "{}", d.explanation);
            }
        }
    }

    #[test]
    fn explanation_reproduces_the_decision(consents in s::consents(), request in s::request()) {
        let d = engine_with(&consents, ConsentStatus::Active, None).decide(&request);
        let replay = d.explanation.replay();
        prop_assert_eq!((replay.effect, replay.permitted, replay.decided_by), (d.effect, d.permitted, d.explanation.decided_by));
        match (d.effect, d.explanation.deciding().map(|a| a.verdict)) {
            (Effect::Permit, Some(v)) => {
                let ok = matches!(v, Verdict::Permit | Verdict::PermitWithConsent | Verdict::Override);
                prop_assert!(ok, "permit decided by {:?}", v);
            }
            (Effect::Permit, None) => prop_assert!(false, "a permit always has a deciding entry"),
            (Effect::Deny, Some(v)) => {
                let ok = matches!(v, Verdict::Deny { .. } | Verdict::VerificationMissing { .. });
                prop_assert!(ok, "deny decided by {:?}", v);
            }
            (Effect::Deny, None) => prop_assert_eq!(d.explanation.decided_by, DecidedBy::NoPermit),
        }
        prop_assert!(d.permitted.is_subset(request.data.classes));
    }
}

fn recorded_chain(n: usize) -> (AuditLog, Vec<u8>) {
    let e = engine();
    let mut log = AuditLog::new();
    for i in 0..n {
        let mut r = request(
            doctor_in_team(),
            Action::Read,
            &[DataClass::Vitals],
            Purpose::Treat,
        );
        r.context.at = now() + TimeDelta::minutes(i as i64);
        let d = e.decide(&r);
        log.record(AuditEventId::from_uuid(Uuid::from_u128(i as u128)), &r, &d);
    }
    let text = log.to_text().into_bytes();
    (log, text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn flipping_any_byte_fails_verification_at_that_event(position in 0usize..100_000, bit in 0u8..8) {
        let (_, mut text) = recorded_chain(6);
        let position = position % text.len();
        let line = text[..position].iter().filter(|b| **b == b'\n').count();
        text[position] ^= 1 << bit;
        let err = verify_serialized(&text).unwrap_err();
        prop_assert_eq!(err.index, line);
    }
}

/// Adds unmodelled content to an exported consent: a narrative, a display name on every
/// reference and, where `mask` has the bit, a note on a provision. Returns how many notes.
fn decorate(v: &mut serde_json::Value, mask: u64) -> usize {
    fn walk(v: &mut serde_json::Value, mask: u64, next: &mut u32, notes: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("reference").is_some_and(serde_json::Value::is_string) {
                    m.insert("display".into(), "Ada Example".into());
                }
                for (k, child) in m.iter_mut() {
                    let is_provision = k == "provision";
                    let items: Vec<&mut serde_json::Value> = match child {
                        serde_json::Value::Array(a) if is_provision => a.iter_mut().collect(),
                        other if is_provision => vec![other],
                        other => {
                            walk(other, mask, next, notes);
                            continue;
                        }
                    };
                    for p in items {
                        if mask >> (*next % 64) & 1 == 1
                            && let Some(pm) = p.as_object_mut()
                        {
                            pm.insert("modifierNote".into(), format!("note {next}").into());
                            *notes += 1;
                        }
                        *next += 1;
                        walk(p, mask, next, notes);
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    walk(x, mask, next, notes);
                }
            }
            _ => {}
        }
    }
    let mut notes = 0;
    walk(v, mask, &mut 0, &mut notes);
    v["text"] =
        serde_json::json!({ "status": "generated", "div": "<div>Ada Example, born 1970</div>" });
    notes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn fhir_round_trip_keeps_every_unmodelled_element(root in s::provision(), mask in any::<u64>()) {
        let c = Consent::new(ConsentId::from_uuid(Uuid::from_u128(9)), patient(), root);
        let mut resource = bedside_consent::fhir::export(&c);
        let notes = decorate(&mut resource, mask);
        let imported = bedside_consent::fhir::import(resource.to_string().as_bytes()).unwrap();
        prop_assert_eq!(&imported.consent.provision, &c.provision);
        prop_assert_eq!(bedside_consent::fhir::export(&imported.consent), resource.clone());
        let debug = format!("{:?}", imported.consent);
        prop_assert!(!debug.contains("Ada"), "name in Debug");
        // A model change (revocation) is written; every unmodelled element stays.
        let mut revoked = imported.consent.clone();
        revoked.status = ConsentStatus::Inactive;
        let out = bedside_consent::fhir::export(&revoked);
        let mut want = resource;
        want["status"] = "inactive".into();
        prop_assert_eq!(&out, &want);
        prop_assert_eq!(out.to_string().matches("modifierNote").count(), notes);
    }
}
