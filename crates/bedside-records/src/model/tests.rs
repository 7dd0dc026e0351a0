use super::*;
use bedside_core::Coding;

fn dt(s: &str) -> Option<FhirDateTime> {
    FhirDateTime::parse(s)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_default()
}

#[test]
fn fhir_date_times_parse_and_bound() {
    let cases = [
        ("2012", true),
        ("2012-06", true),
        ("2012-06-03", true),
        ("2012-06-03T13:28:17-05:00", true),
        ("2012-06-03T13:28:17.123Z", true),
        ("2012-13", false),
        ("2012-06-03T13:28", false),
        ("yesterday", false),
        ("", false),
    ];
    for (text, ok) in cases {
        assert_eq!(dt(text).is_some(), ok, "{text}");
    }
    let month = dt("2024-02");
    assert_eq!(
        month.as_ref().and_then(FhirDateTime::start),
        Some(at("2024-02-01T00:00:00Z"))
    );
    assert_eq!(
        month.as_ref().and_then(time::end_bound),
        Some(at("2024-03-01T00:00:00Z"))
    );
    let instant = dt("2012-06-03T13:28:17-05:00");
    assert_eq!(
        instant.as_ref().and_then(FhirDateTime::start),
        Some(at("2012-06-03T18:28:17Z"))
    );
    assert_eq!(
        instant.as_ref().map(FhirDateTime::as_str),
        Some("2012-06-03T13:28:17-05:00"),
        "the text is kept exactly"
    );
    assert_eq!(
        format!("{:?}", dt("1970-03-14")),
        "Some(FhirDateTime(Day, <redacted>))"
    );
}

#[test]
fn periods_are_open_ended_and_inclusive_at_their_precision() {
    let p = FhirPeriod::new(dt("2025-01-01"), dt("2025-12-31"));
    assert!(time::contains(&p, at("2025-12-31T23:59:59Z")));
    assert!(!time::contains(&p, at("2026-01-01T00:00:00Z")));
    let open = FhirPeriod::new(dt("2026"), None);
    assert!(time::contains(&open, at("2099-01-01T00:00:00Z")));
    assert!(!time::overlaps(&p, &open));
    assert!(time::overlaps(&open, &FhirPeriod::new(None, dt("2026-01"))));
    assert!(time::is_reversed(&FhirPeriod::new(
        dt("2026-02"),
        dt("2026-01")
    )));
    assert!(!time::is_reversed(&FhirPeriod::new(
        dt("2026-01-31"),
        dt("2026-01")
    )));
}

#[test]
fn logical_ids_and_references() {
    let u = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";
    assert_eq!(LogicalId::classify(Some(u)).0, LogicalId::TypedId);
    assert_eq!(
        LogicalId::classify(Some(&u.to_uppercase())).0,
        LogicalId::Other(u.to_uppercase())
    );
    assert_eq!(
        LogicalId::classify(Some("example")).0,
        LogicalId::Other("example".into())
    );
    assert_eq!(LogicalId::classify(None).0, LogicalId::Absent);
    for r in [format!("Patient/{u}"), format!("urn:uuid:{u}")] {
        assert_eq!(
            time::target_uuid(&Reference::to(r)).map(|x| x.to_string()),
            Some(u.to_string())
        );
    }
    assert_eq!(time::target_uuid(&Reference::to("Patient/example")), None);
}

#[test]
fn contact_routes_follow_preferences_then_rank() {
    let mut p = Patient::new(PatientId::from_uuid(uuid::Uuid::nil()));
    let mut home = ContactPoint::new(TelecomSystem::Phone, "+15550000001", Some(TelecomUse::Home));
    home.rank = Some(2);
    let mut mobile = ContactPoint::new(
        TelecomSystem::Phone,
        "+15550000002",
        Some(TelecomUse::Mobile),
    );
    mobile.rank = Some(1);
    let old = ContactPoint::new(
        TelecomSystem::Email,
        "old@example.org",
        Some(TelecomUse::Old),
    );
    let email = ContactPoint::new(TelecomSystem::Email, "new@example.org", None);
    p.telecom = vec![home, old, email, mobile];
    let routes = p.contact_routes(ContactPurpose::Billing);
    let channels: Vec<Channel> = routes.iter().map(|r| r.channel).collect();
    assert_eq!(channels, [Channel::Sms, Channel::Voice, Channel::Email]);
    assert!(p.contact_routes(ContactPurpose::Marketing).is_empty());
    p.set_preference(
        ContactPurpose::Marketing,
        vec![
            RoutePreference {
                route: ContactRoute::new(Channel::Email, "new@example.org"),
                state: OptState::OptedIn,
            },
            RoutePreference {
                route: ContactRoute::new(Channel::Sms, "+15550000002"),
                state: OptState::OptedOut,
            },
        ],
    );
    assert_eq!(p.contact_routes(ContactPurpose::Marketing).len(), 1);
    assert!(p.opted_out(
        ContactPurpose::Marketing,
        &ContactRoute::new(Channel::Sms, "+15550000002")
    ));
}

#[test]
fn coverage_and_care_team_accessors() {
    let mut c = Coverage::new(
        CoverageId::from_uuid(uuid::Uuid::nil()),
        PatientId::from_uuid(uuid::Uuid::nil()),
        Reference::to("Organization/1"),
        "M1",
    );
    c.order = Some(2);
    c.classes.push(CoverageClass {
        type_: CodeableConcept::from_coding(Coding::new(COVERAGE_CLASS_SYSTEM, "group")),
        value: Some("G-7".into()),
        name: None,
        unmodelled: Unmodelled::default(),
    });
    assert_eq!(c.rank(), Some(CoverageRank::Secondary));
    assert_eq!(c.group(), Some("G-7"));
    assert_eq!(c.plan(), None);
    c.status = Some("cancelled".into());
    assert!(!c.is_in_force(at("2026-01-01T00:00:00Z")));

    let mut team = GeneralPractitioners::default();
    team.general_practitioners
        .push(Reference::to("Organization/clinic"));
    assert_eq!(team.primary_provider(), None);
    let provider = ProviderId::from_uuid(uuid::Uuid::max());
    team.set_primary_provider(provider);
    team.set_primary_provider(provider);
    assert_eq!(team.primary_provider(), Some(provider));
    assert_eq!(team.general_practitioners.len(), 2);
}

#[test]
fn identifier_kinds_from_type_or_system() {
    let typed = Identifier::new(IdentifierKind::Passport, "urn:x", "P1");
    assert_eq!(typed.kind(), IdentifierKind::Passport);
    let mut by_system = Identifier::new(IdentifierKind::Other, MBI_SYSTEM, "1EG4TE5MK73");
    by_system.type_ = None;
    assert_eq!(by_system.kind(), IdentifierKind::InsuranceMember);
    assert!(!format!("{typed:?}").contains("P1"));
}
