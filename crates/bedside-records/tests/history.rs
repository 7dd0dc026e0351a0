//! The versioned registry: self-service versus staff-approved changes, optimistic concurrency,
//! `as_of`, `diff`, and properties of history and conflict detection.

mod proptest_strategies;

use bedside_core::{
    Actor, Clock, ContactRoute, IdGeneratorExt, ManualClock, OrganisationId, PartialDate, Role,
    SeededIdGenerator, Sensitive, Staff,
};
use bedside_records::model::*;
use bedside_records::{
    PatientRegistry, ProblemKind, RecordEdit, RegistryError, RegistrySnapshot, RequestStatus,
    VersionKind,
};
use chrono::TimeDelta;
use proptest::prelude::*;
use std::sync::Arc;

struct World {
    clock: Arc<ManualClock>,
    ids: Arc<SeededIdGenerator>,
    registry: PatientRegistry,
    staff: Actor,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(
        "2026-02-01T09:00:00Z".parse().unwrap_or_default(),
    ));
    let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 5));
    let registry = PatientRegistry::new(ids.clone());
    let staff = Actor::Staff(Staff {
        id: ids.generate(),
        roles: vec![Role::RECEPTION],
        organisation: OrganisationId::from_uuid(uuid::Uuid::nil()),
        provider: None,
    });
    World {
        clock,
        ids,
        registry,
        staff,
    }
}

fn patient(w: &World) -> Patient {
    let mut p = Patient::new(w.ids.generate());
    p.names
        .push(HumanName::new(NameUse::Official, &["Ada"], "Byron"));
    p.birth_date = Some(Sensitive::new(PartialDate::Year(1985)));
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+447700900123",
        Some(TelecomUse::Mobile),
    ));
    p
}

fn new_address(city: &str) -> Address {
    Address {
        use_: Some(AddressUse::Home),
        city: Some(Sensitive::new(city.into())),
        ..Address::default()
    }
}

#[test]
fn self_service_address_change_applies_directly() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    w.clock.advance(TimeDelta::days(1));
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.addresses.push(new_address("Leeds"));
    let me = Actor::Patient { patient: id };
    let outcome = w.registry.update(
        RecordEdit::new(id, 1, edit, "moved house"),
        &me,
        w.clock.now(),
    )?;
    assert_eq!(outcome.applied, Some(2));
    assert_eq!(outcome.pending, None);
    let v2 = w
        .registry
        .version(id, 2)
        .ok_or(RegistryError::UnknownPatient(id))?;
    assert_eq!(v2.actor, me);
    assert_eq!(v2.kind, VersionKind::Updated);
    assert_eq!(v2.changed, ["addresses"]);
    assert_eq!(v2.at, w.clock.now());
    assert_eq!(v2.reason.expose(), "moved house");
    assert_eq!(w.registry.history(id).len(), 2);
    Ok(())
}

#[test]
fn identity_change_from_patient_waits_for_staff() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    let me = Actor::Patient { patient: id };
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.names[0].family = Some(Sensitive::new("King".into()));
    edit.addresses.push(new_address("York"));
    let outcome = w.registry.update(
        RecordEdit::new(id, 1, edit, "married; moved"),
        &me,
        w.clock.now(),
    )?;
    // The address applies at once; the name waits.
    assert_eq!(outcome.applied, Some(2));
    let request = outcome.pending.ok_or(RegistryError::NoChange)?;
    let current = w
        .registry
        .current(id)
        .ok_or(RegistryError::UnknownPatient(id))?;
    assert_eq!(
        current.names[0]
            .family
            .as_ref()
            .map(|f| f.expose().as_str()),
        Some("Byron")
    );
    assert_eq!(current.addresses.len(), 1);
    assert_eq!(w.registry.pending_requests(id).len(), 1);

    // Only staff may decide.
    assert!(matches!(
        w.registry
            .approve(request, &me, "self-approval", w.clock.now()),
        Err(RegistryError::Forbidden { .. })
    ));
    // Meanwhile staff change the phone: unrelated to the request, so approval still merges.
    let mut staff_edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    staff_edit.telecom[0].rank = Some(1);
    w.registry.update(
        RecordEdit::new(id, 2, staff_edit, "confirmed phone"),
        &w.staff,
        w.clock.now(),
    )?;
    w.clock.advance(TimeDelta::hours(2));
    let v = w
        .registry
        .approve(request, &w.staff, "saw marriage certificate", w.clock.now())?;
    assert_eq!(v, 4);
    let current = w
        .registry
        .current(id)
        .ok_or(RegistryError::UnknownPatient(id))?;
    assert_eq!(
        current.names[0]
            .family
            .as_ref()
            .map(|f| f.expose().as_str()),
        Some("King")
    );
    assert_eq!(
        current.telecom[0].rank,
        Some(1),
        "the staff change survives"
    );
    assert_eq!(current.addresses.len(), 1, "the address survives");
    let v4 = w
        .registry
        .version(id, 4)
        .ok_or(RegistryError::UnknownPatient(id))?;
    assert_eq!(v4.kind, VersionKind::Approved { request });
    assert_eq!(v4.changed, ["names[0].family"]);
    assert!(matches!(
        w.registry.request(request).map(|r| &r.status),
        Some(RequestStatus::Approved { version: 4, .. })
    ));
    assert_eq!(
        w.registry
            .approve(request, &w.staff, "again", w.clock.now()),
        Err(RegistryError::AlreadyDecided(request))
    );
    Ok(())
}

#[test]
fn rejected_request_changes_nothing_but_is_recorded() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.birth_date = Some(Sensitive::new(PartialDate::Year(1990)));
    let outcome = w.registry.update(
        RecordEdit::new(id, 1, edit, "typo"),
        &Actor::Patient { patient: id },
        w.clock.now(),
    )?;
    assert_eq!(outcome.applied, None);
    let request = outcome.pending.ok_or(RegistryError::NoChange)?;
    w.registry
        .reject(request, &w.staff, "no evidence", w.clock.now())?;
    assert_eq!(w.registry.history(id).len(), 1);
    assert!(matches!(
        w.registry.request(request).map(|r| &r.status),
        Some(RequestStatus::Rejected { .. })
    ));
    assert!(w.registry.pending_requests(id).is_empty());
    Ok(())
}

#[test]
fn stale_update_is_refused_with_the_other_writers_fields() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    let base = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    let mut first = base.clone();
    first.telecom[0].rank = Some(1);
    first.gender = Some(AdministrativeGender::Female);
    w.registry.update(
        RecordEdit::new(id, 1, first, "first writer"),
        &w.staff,
        w.clock.now(),
    )?;
    let mut second = base;
    second.addresses.push(new_address("Hull"));
    let err = w.registry.update(
        RecordEdit::new(id, 1, second, "second writer"),
        &w.staff,
        w.clock.now(),
    );
    assert_eq!(
        err,
        Err(RegistryError::Conflict {
            patient: id,
            based_on: 1,
            current: 2,
            their_changes: vec!["gender".into(), "telecom[0].rank".into()],
        })
    );
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.ends_with("the other writer changed gender, telecom[0].rank"),
        "{msg}"
    );
    assert_eq!(w.registry.history(id).len(), 2, "nothing written");
    Ok(())
}

#[test]
fn refusals_change_nothing() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry
        .register(p.clone(), &w.staff, "walk-in", w.clock.now())?;
    assert_eq!(
        w.registry
            .register(p.clone(), &w.staff, "again", w.clock.now()),
        Err(RegistryError::AlreadyRegistered(id))
    );
    assert_eq!(
        w.registry.update(
            RecordEdit::new(id, 1, p.clone(), "same"),
            &w.staff,
            w.clock.now()
        ),
        Err(RegistryError::NoChange)
    );
    assert!(matches!(
        w.registry.update(
            RecordEdit::new(id, 7, p.clone(), "x"),
            &w.staff,
            w.clock.now()
        ),
        Err(RegistryError::UnknownVersion { version: 7, .. })
    ));
    let mut invalid = p.clone();
    invalid.names.clear();
    invalid.telecom[0].value = Some(Sensitive::new("not a phone".into()));
    match w.registry.update(
        RecordEdit::new(id, 1, invalid, "bad"),
        &w.staff,
        w.clock.now(),
    ) {
        Err(RegistryError::Invalid { problems }) => {
            let kinds: Vec<ProblemKind> = problems.iter().map(|p| p.kind).collect();
            assert_eq!(kinds, [ProblemKind::Required, ProblemKind::PhoneNotE164]);
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    let other: bedside_core::PatientId = w.ids.generate();
    let mut moved = p.clone();
    moved.addresses.push(new_address("Ely"));
    assert!(matches!(
        w.registry.update(
            RecordEdit::new(id, 1, moved.clone(), "x"),
            &Actor::Patient { patient: other },
            w.clock.now()
        ),
        Err(RegistryError::Forbidden { .. })
    ));
    let proxy = Actor::Proxy {
        related_person: w.ids.generate(),
        patient: id,
    };
    assert!(matches!(
        w.registry.update(
            RecordEdit::new(id, 1, moved, "not a registered proxy"),
            &proxy,
            w.clock.now()
        ),
        Err(RegistryError::Forbidden { .. })
    ));
    assert_eq!(w.registry.history(id).len(), 1);
    Ok(())
}

#[test]
fn proxy_with_records_scope_may_self_serve() -> Result<(), RegistryError> {
    let mut w = world();
    let mut p = patient(&w);
    let id = p.id;
    let mut parent = RelatedPerson::new(w.ids.generate(), id);
    parent.proxy_scopes = vec![ProxyScope::Records];
    let proxy = Actor::Proxy {
        related_person: parent.id,
        patient: id,
    };
    p.related_persons.push(parent);
    w.registry.register(p, &w.staff, "newborn", w.clock.now())?;
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.set_preference(
        ContactPurpose::AppointmentReminders,
        vec![RoutePreference {
            route: ContactRoute::new(bedside_core::Channel::Email, "parent@example.org"),
            state: OptState::OptedIn,
        }],
    );
    let outcome = w.registry.update(
        RecordEdit::new(id, 1, edit, "reminders to me"),
        &proxy,
        w.clock.now(),
    )?;
    assert_eq!(outcome.applied, Some(2));
    Ok(())
}

#[test]
fn as_of_and_diff() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    let t0 = w.clock.now();
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    w.clock.advance(TimeDelta::days(3));
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.addresses.push(new_address("Leeds"));
    edit.gender = Some(AdministrativeGender::Male);
    w.registry.update(
        RecordEdit::new(id, 1, edit, "update"),
        &w.staff,
        w.clock.now(),
    )?;
    assert!(w.registry.as_of(id, t0 - TimeDelta::seconds(1)).is_none());
    assert_eq!(w.registry.as_of(id, t0).map(|v| v.number), Some(1));
    assert_eq!(
        w.registry
            .as_of(id, t0 + TimeDelta::days(2))
            .map(|v| v.number),
        Some(1)
    );
    assert_eq!(
        w.registry
            .as_of(id, t0 + TimeDelta::days(3))
            .map(|v| v.number),
        Some(2)
    );
    assert_eq!(w.registry.diff(id, 1, 2)?, ["addresses", "gender"]);
    assert_eq!(w.registry.diff(id, 2, 2)?, Vec::<String>::new());
    assert!(matches!(
        w.registry.diff(id, 1, 3),
        Err(RegistryError::UnknownVersion { .. })
    ));
    Ok(())
}

#[derive(Debug, Clone)]
enum Step {
    Advance(i64),
    /// A staff write based on `lag` versions before the current one, setting a telecom rank.
    Write {
        lag: u32,
        rank: u32,
    },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            (0i64..10_000).prop_map(Step::Advance),
            (0u32..3, 1u32..1000).prop_map(|(lag, rank)| Step::Write { lag, rank }),
        ],
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `as_of(t)` is exactly the last version made at or before `t`, for every `t` probed.
    #[test]
    fn as_of_equals_the_version_current_at_t(script in steps(), probes in proptest::collection::vec(0i64..400_000, 1..20)) {
        let mut w = world();
        let p = patient(&w);
        let id = p.id;
        let start = w.clock.now();
        prop_assert!(w.registry.register(p, &w.staff, "r", w.clock.now()).is_ok());
        // (instant, version) of every accepted write.
        let mut timeline = vec![(start, 1u32)];
        for step in script {
            match step {
                Step::Advance(s) => w.clock.advance(TimeDelta::seconds(s)),
                Step::Write { rank, .. } => {
                    let current = w.registry.current_version(id).map(|v| (v.number, v.record.clone()));
                    let Some((n, mut rec)) = current else { continue };
                    rec.telecom[0].rank = Some(rank);
                    if let Ok(o) = w.registry.update(RecordEdit::new(id, n, rec, "w"), &w.staff, w.clock.now()) {
                        prop_assert_eq!(o.applied, Some(n + 1));
                        timeline.push((w.clock.now(), n + 1));
                    }
                }
            }
        }
        for offset in probes {
            let t = start + TimeDelta::seconds(offset) - TimeDelta::seconds(1);
            let expected = timeline.iter().rev().find(|(at, _)| *at <= t).map(|(_, v)| *v);
            prop_assert_eq!(w.registry.as_of(id, t).map(|v| v.number), expected);
        }
    }

    /// Interleaved writers based on possibly stale versions: a write is accepted exactly when it
    /// is based on the current version, every accepted write is stored as the very next version
    /// with the content the writer sent, and no accepted write is ever lost or overwritten.
    #[test]
    fn conflict_detection_never_loses_an_accepted_write(script in steps()) {
        let mut w = world();
        let p = patient(&w);
        let id = p.id;
        prop_assert!(w.registry.register(p, &w.staff, "r", w.clock.now()).is_ok());
        let mut accepted: Vec<(u32, Patient)> = Vec::new();
        for step in script {
            let Step::Write { lag, rank } = step else { continue };
            let current = w.registry.current_version(id).map(|v| v.number).unwrap_or(1);
            let based_on = current.saturating_sub(lag).max(1);
            let base = w.registry.version(id, based_on).map(|v| v.record.clone());
            let Some(mut rec) = base else { continue };
            rec.telecom[0].rank = Some(rank);
            let sent = rec.clone();
            match w.registry.update(RecordEdit::new(id, based_on, rec, "w"), &w.staff, w.clock.now()) {
                Ok(o) => {
                    prop_assert_eq!(based_on, current, "only current-based writes are accepted");
                    prop_assert_eq!(o.applied, Some(current + 1));
                    accepted.push((current + 1, sent));
                }
                Err(RegistryError::Conflict { based_on: b, current: c, their_changes, .. }) => {
                    prop_assert!(b < c);
                    prop_assert_eq!(c, current);
                    prop_assert!(!their_changes.is_empty() || w.registry.diff(id, b, c).map(|d| d.is_empty()).unwrap_or(false));
                }
                Err(RegistryError::NoChange) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
        let history = w.registry.history(id);
        prop_assert_eq!(history.len(), accepted.len() + 1);
        for (number, sent) in &accepted {
            let stored = w.registry.version(id, *number).map(|v| &v.record);
            prop_assert_eq!(stored, Some(sent));
        }
        for (i, v) in history.iter().enumerate() {
            prop_assert_eq!(v.number as usize, i + 1);
            if i > 0 {
                prop_assert!(history[i - 1].at <= v.at);
            }
        }
        // Whatever the script did, a snapshot restores to the same registry.
        let back = round_trip(&w.registry, w.ids.clone());
        prop_assert_eq!(back.snapshot(), w.registry.snapshot());
    }
}

fn round_trip(registry: &PatientRegistry, ids: Arc<SeededIdGenerator>) -> PatientRegistry {
    let json = serde_json::to_string(&registry.snapshot()).unwrap_or_default();
    let snapshot: RegistrySnapshot = match serde_json::from_str(&json) {
        Ok(s) => s,
        Err(e) => panic!("snapshot reads back: {e}"),
    };
    match PatientRegistry::restore(ids, snapshot) {
        Ok(r) => r,
        Err(e) => panic!("snapshot restores: {e}"),
    }
}

#[test]
fn snapshot_keeps_histories_and_requests() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    w.clock.advance(TimeDelta::days(1));
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.names[0] = HumanName::new(NameUse::Official, &["Ada"], "King");
    edit.addresses.push(new_address("York"));
    let me = Actor::Patient { patient: id };
    let outcome = w.registry.update(
        RecordEdit::new(id, 1, edit, "married; moved"),
        &me,
        w.clock.now(),
    )?;
    let request = outcome.pending.ok_or(RegistryError::NoChange)?;

    let mut back = round_trip(&w.registry, w.ids.clone());
    assert_eq!(back.snapshot(), w.registry.snapshot());
    assert_eq!(back.history(id), w.registry.history(id));
    assert_eq!(back.pending_requests(id).len(), 1);
    // The restored registry carries on where the original stopped.
    w.clock.advance(TimeDelta::hours(1));
    assert_eq!(
        back.approve(request, &w.staff, "certificate", w.clock.now())?,
        3
    );
    Ok(())
}

#[test]
fn restore_refuses_broken_histories() -> Result<(), RegistryError> {
    let mut w = world();
    let p = patient(&w);
    let id = p.id;
    w.registry.register(p, &w.staff, "walk-in", w.clock.now())?;
    let mut edit = w
        .registry
        .current(id)
        .cloned()
        .ok_or(RegistryError::UnknownPatient(id))?;
    edit.addresses.push(new_address("York"));
    w.registry.update(
        RecordEdit::new(id, 1, edit, "moved"),
        &w.staff,
        w.clock.now(),
    )?;
    let check = |edit: &dyn Fn(&mut RegistrySnapshot), path: &str| {
        let mut s = w.registry.snapshot();
        edit(&mut s);
        match PatientRegistry::restore(w.ids.clone(), s) {
            Err(RegistryError::InvalidSnapshot { path: got, .. }) => assert_eq!(got, path),
            other => panic!("expected an invalid snapshot at {path}, got {other:?}"),
        }
    };
    check(
        &|s| s.patients[0].versions[1].number = 5,
        "patients[0].versions[1].number",
    );
    check(&|s| s.patients[0].versions.clear(), "patients[0].versions");
    check(
        &|s| s.patients[0].versions[1].at = s.patients[0].versions[0].at - TimeDelta::days(1),
        "patients[0].versions[1].at",
    );
    check(
        &|s| {
            let again = s.patients[0].clone();
            s.patients.push(again);
        },
        "patients[1].patient",
    );
    Ok(())
}
