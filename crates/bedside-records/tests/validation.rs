//! Data-driven validation tests: one `check(edit, expected_problems)` helper, many cases.

use bedside_core::{CoverageId, PartialDate, PatientId, Sensitive};
use bedside_records::model::*;
use bedside_records::validate::{
    email_is_well_formed, is_e164, mbi_is_valid, nhs_number_is_valid, normalise_phone,
    normalise_telecom, npi_is_valid, postal_code_fits,
};
use bedside_records::{IssueSeverity, ProblemKind, validate};
use chrono::{DateTime, Utc};

fn now() -> DateTime<Utc> {
    "2026-06-01T12:00:00Z".parse().unwrap_or_default()
}

/// A record with no problems at all: name, birth date, a mobile phone, an emergency contact.
fn valid() -> Patient {
    let mut p = Patient::new(PatientId::from_uuid(uuid::Uuid::nil()));
    p.names
        .push(HumanName::new(NameUse::Official, &["Ada"], "Byron"));
    p.birth_date = Some(Sensitive::new(PartialDate::Year(1985)));
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "+447700900123",
        Some(TelecomUse::Mobile),
    ));
    p.contacts.push(PatientContact::emergency(
        HumanName::new(NameUse::Usual, &["Kin"], "Byron"),
        "+447700900999",
    ));
    p
}

fn coverage(order: Option<u32>, start: &str, end: Option<&str>) -> Coverage {
    let mut c = Coverage::new(
        CoverageId::from_uuid(uuid::Uuid::nil()),
        PatientId::from_uuid(uuid::Uuid::nil()),
        Reference::to("Organization/payer"),
        "M-1",
    );
    c.order = order;
    c.period = Some(FhirPeriod::new(
        FhirDateTime::parse(start),
        end.and_then(FhirDateTime::parse),
    ));
    c
}

fn date(s: &str) -> Option<Sensitive<PartialDate>> {
    s.parse().ok().map(Sensitive::new)
}

/// Applies `edit` to a valid record and compares the problems found with `expected`
/// (severity, kind, path), in order.
fn check(edit: impl FnOnce(&mut Patient), expected: &[(IssueSeverity, ProblemKind, &str)]) {
    let mut p = valid();
    edit(&mut p);
    let got: Vec<(IssueSeverity, ProblemKind, String)> = validate(&p, now())
        .problems
        .into_iter()
        .map(|x| (x.severity, x.kind, x.path))
        .collect();
    let want: Vec<(IssueSeverity, ProblemKind, String)> = expected
        .iter()
        .map(|(s, k, p)| (*s, *k, p.to_string()))
        .collect();
    assert_eq!(got, want);
}

use IssueSeverity::{Error as E, Warning as W};
use ProblemKind as K;

#[test]
fn the_baseline_is_valid() {
    check(|_| {}, &[]);
}

#[test]
fn required_fields() {
    check(|p| p.names.clear(), &[(E, K::Required, "patient.name")]);
    check(
        |p| p.names = vec![HumanName::default()],
        &[(E, K::Required, "patient.name")],
    );
    check(
        |p| p.birth_date = None,
        &[(E, K::Required, "patient.birthDate")],
    );
    check(
        |p| {
            p.names.clear();
            p.birth_date = None;
        },
        &[
            (E, K::Required, "patient.name"),
            (E, K::Required, "patient.birthDate"),
        ],
    );
}

#[test]
fn date_sanity() {
    check(
        |p| p.birth_date = date("2027-01-01"),
        &[(E, K::FutureDate, "patient.birthDate")],
    );
    check(|p| p.birth_date = date("2026-06"), &[]);
    check(
        |p| p.birth_date = date("1879"),
        &[(E, K::ImplausiblyOld, "patient.birthDate")],
    );
    check(|p| p.birth_date = date("1880-01-01"), &[]);
    check(
        |p| {
            p.deceased = Some(Deceased::At(
                FhirDateTime::parse("1984-05-01")
                    .unwrap_or_else(|| FhirDateTime::from_date(chrono::NaiveDate::MIN)),
            ))
        },
        &[(E, K::DeathBeforeBirth, "patient.deceasedDateTime")],
    );
    check(
        |p| {
            p.names[0].period = Some(FhirPeriod::new(
                FhirDateTime::parse("2020"),
                FhirDateTime::parse("2019-06"),
            ))
        },
        &[(E, K::PeriodReversed, "patient.name[0].period")],
    );
    check(
        |p| {
            p.names[0].period = Some(FhirPeriod::new(
                FhirDateTime::parse("2020-03-01"),
                FhirDateTime::parse("2020-03"),
            ))
        },
        &[],
    );
    // An end of 2019-12-31 is over before a start of 2020 begins.
    check(
        |p| {
            p.names[0].period = Some(FhirPeriod::new(
                FhirDateTime::parse("2020"),
                FhirDateTime::parse("2019-12-31"),
            ))
        },
        &[(E, K::PeriodReversed, "patient.name[0].period")],
    );
    // A zero-length period at an instant is fine.
    check(
        |p| {
            p.names[0].period = Some(FhirPeriod::new(
                FhirDateTime::parse("2020-01-01T10:00:00Z"),
                FhirDateTime::parse("2020-01-01T10:00:00Z"),
            ))
        },
        &[],
    );
    check(
        |p| {
            p.addresses.push(Address {
                period: Some(FhirPeriod::new(
                    FhirDateTime::parse("2021-01-01T10:00:00+00:00"),
                    FhirDateTime::parse("2021-01-01T09:00:00+00:00"),
                )),
                ..Address::default()
            })
        },
        &[(E, K::PeriodReversed, "patient.address[0].period")],
    );
}

#[test]
fn telecom_checks() {
    let phone = |v: &str| ContactPoint::new(TelecomSystem::Phone, v, Some(TelecomUse::Home));
    let email = |v: &str| ContactPoint::new(TelecomSystem::Email, v, None);
    check(
        |p| p.telecom.push(phone("020 7946 0018")),
        &[(E, K::PhoneNotE164, "patient.telecom[1].value")],
    );
    check(
        |p| p.telecom.push(phone("+0207946001")),
        &[(E, K::PhoneNotE164, "patient.telecom[1].value")],
    );
    check(|p| p.telecom.push(phone("+12125550123")), &[]);
    check(|p| p.telecom.push(email("ada@example.org")), &[]);
    check(
        |p| p.telecom.push(email("Ada@Example.org")),
        &[(E, K::EmailNotLowercase, "patient.telecom[1].value")],
    );
    check(
        |p| p.telecom.push(email("ada@example")),
        &[(E, K::EmailSyntax, "patient.telecom[1].value")],
    );
    check(
        |p| p.telecom.push(email("ada example.org")),
        &[(E, K::EmailSyntax, "patient.telecom[1].value")],
    );
    check(
        |p| {
            p.telecom[0].value = None;
            p.contacts[0].telecom.push(email("x@@y.org"));
        },
        &[
            (E, K::Required, "patient.telecom[0].value"),
            (E, K::EmailSyntax, "patient.contact[0].telecom[1].value"),
            (W, K::NoPreferredContactRoute, "patient.telecom"),
        ],
    );
}

#[test]
fn telecom_normalisation() {
    let mut p = valid();
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Phone,
        "07700 900456",
        None,
    ));
    p.telecom.push(ContactPoint::new(
        TelecomSystem::Email,
        " Ada@Example.ORG ",
        None,
    ));
    p.telecom
        .push(ContactPoint::new(TelecomSystem::Phone, "call me", None));
    normalise_telecom(&mut p, "44");
    let values: Vec<&str> = p
        .telecom
        .iter()
        .filter_map(|t| t.value.as_ref().map(|v| v.expose().as_str()))
        .collect();
    assert_eq!(
        values,
        [
            "+447700900123",
            "+447700900456",
            "ada@example.org",
            "call me"
        ]
    );
    let cases = [
        ("(212) 555-0123", "1", Some("+12125550123")),
        ("1-212-555-0123", "1", Some("+12125550123")),
        ("0031 20 123 4567", "44", Some("+31201234567")),
        ("+44 (0)20", "44", None),
        ("12345", "1", None),
    ];
    for (input, cc, want) in cases {
        assert_eq!(normalise_phone(input, cc).as_deref(), want, "{input}");
    }
    assert!(is_e164("+447700900123"));
    assert!(!is_e164("447700900123"));
    assert!(email_is_well_formed("first.last+tag@sub.example.co.uk"));
    assert!(!email_is_well_formed("first..last@example.org"));
}

#[test]
fn postal_codes() {
    let cases = [
        ("US", "12345", Some(true)),
        ("USA", "12345-6789", Some(true)),
        ("US", "1234", Some(false)),
        ("GB", "LS1 4AP", Some(true)),
        ("UK", "SW1A 1AA", Some(true)),
        ("GB", "EC1A1BB", Some(true)),
        ("GB", "12345", Some(false)),
        ("CA", "K1A 0B1", Some(true)),
        ("CA", "K1A-0B1", Some(false)),
        ("NL", "1024 RJ", Some(true)),
        ("NLD", "0123 AB", Some(false)),
        ("AU", "3999", Some(true)),
        ("DE", "10115", Some(true)),
        ("CN", "510000", None),
    ];
    for (country, code, want) in cases {
        assert_eq!(postal_code_fits(country, code), want, "{country} {code}");
    }
    check(
        |p| {
            p.addresses.push(Address {
                postal_code: Some(Sensitive::new("ABCDE".into())),
                country: Some("US".into()),
                ..Address::default()
            })
        },
        &[(E, K::PostalCodeShape, "patient.address[0].postalCode")],
    );
}

#[test]
fn identifier_check_digits() {
    // NHS numbers: modulus 11.
    assert!(nhs_number_is_valid("9434765919"));
    assert!(nhs_number_is_valid("943 476 5919"));
    assert!(!nhs_number_is_valid("9434765918"));
    assert!(!nhs_number_is_valid("943476591"));
    // NPI: Luhn with the 80840 prefix (CMS example 1234567893).
    assert!(npi_is_valid("1234567893"));
    assert!(!npi_is_valid("1234567890"));
    assert!(!npi_is_valid("123456789A"));
    // MBI format (CMS example 1EG4-TE5-MK73).
    assert!(mbi_is_valid("1EG4-TE5-MK73"));
    assert!(mbi_is_valid("1EG4TE5MK73"));
    assert!(!mbi_is_valid("0EG4TE5MK73"), "first character 1-9");
    assert!(!mbi_is_valid("1SG4TE5MK73"), "S is excluded");
    assert!(!mbi_is_valid("1EG4TE5MK7"), "length");
    let id = |system: &str, value: &str| Identifier::new(IdentifierKind::Other, system, value);
    check(
        |p| {
            p.identifiers.push(id(NHS_NUMBER_SYSTEM, "9434765918"));
            p.identifiers.push(id(NPI_SYSTEM, "1234567893"));
            p.identifiers.push(id(MBI_SYSTEM, "1EG4-TE5-MKO3"));
            p.identifiers.push(id("urn:oid:1.2.3", "anything"));
        },
        &[
            (E, K::IdentifierCheck, "patient.identifier[0].value"),
            (E, K::IdentifierCheck, "patient.identifier[2].value"),
        ],
    );
}

#[test]
fn duplicate_identifiers() {
    let id = |system: &str, value: &str| {
        Identifier::new(IdentifierKind::MedicalRecordNumber, system, value)
    };
    check(
        |p| {
            p.identifiers.push(id("urn:mrn", "A1"));
            p.identifiers.push(id("urn:other", "A1"));
            p.identifiers.push(id("urn:mrn", "A1"));
        },
        &[(E, K::DuplicateIdentifier, "patient.identifier[2].value")],
    );
}

#[test]
fn coverage_rules() {
    check(
        |p| {
            p.coverages
                .push(coverage(Some(1), "2025-01-01", Some("2026-12-31")));
            p.coverages.push(coverage(Some(1), "2026-03-01", None));
        },
        &[(
            E,
            K::OverlappingPrimaryCoverage,
            "patient.coverage[1].order",
        )],
    );
    check(
        |p| {
            p.coverages
                .push(coverage(Some(1), "2024-01-01", Some("2025-12-31")));
            p.coverages.push(coverage(Some(1), "2026-01-01", None));
        },
        &[(W, K::ExpiredCoverage, "patient.coverage[0].period")],
    );
    check(
        |p| {
            p.coverages.push(coverage(Some(1), "2025-01-01", None));
            p.coverages.push(coverage(Some(2), "2025-01-01", None));
        },
        &[],
    );
    check(
        |p| {
            p.coverages
                .push(coverage(Some(1), "2026-02-01", Some("2026-01-01")))
        },
        &[
            (E, K::PeriodReversed, "patient.coverage[0].period"),
            (W, K::ExpiredCoverage, "patient.coverage[0].period"),
        ],
    );
    check(
        |p| {
            let mut c = coverage(None, "2025-01-01", None);
            c.payor.clear();
            p.coverages.push(c);
        },
        &[(E, K::Required, "patient.coverage[0].payor")],
    );
    check(
        |p| {
            let mut c = coverage(None, "2025-01-01", None);
            c.payor = vec![Reference {
                display: Some(Sensitive::new("Medicare Part B".into())),
                ..Reference::default()
            }];
            c.member_id = Some(Sensitive::new("not-an-mbi".into()));
            p.coverages.push(c);
        },
        &[(E, K::IdentifierCheck, "patient.coverage[0].subscriberId")],
    );
}

#[test]
fn warnings() {
    check(
        |p| p.telecom.clear(),
        &[(W, K::NoPreferredContactRoute, "patient.telecom")],
    );
    check(
        |p| p.contacts.clear(),
        &[(W, K::NoEmergencyContact, "patient.contact")],
    );
    check(
        |p| {
            p.telecom.clear();
            p.set_preference(
                ContactPurpose::AppointmentReminders,
                vec![RoutePreference {
                    route: bedside_core::ContactRoute::new(bedside_core::Channel::Email, "a@b.org"),
                    state: OptState::OptedIn,
                }],
            );
        },
        &[],
    );
    check(
        |p| {
            p.contacts.clear();
            let mut r = RelatedPerson::new(
                bedside_core::RelatedPersonId::from_uuid(uuid::Uuid::nil()),
                p.id,
            );
            r.relationship
                .push(bedside_core::CodeableConcept::from_coding(
                    bedside_core::Coding::new(CONTACT_ROLE_SYSTEM, "C"),
                ));
            p.related_persons.push(r);
        },
        &[],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut p = valid();
    p.names.clear();
    p.birth_date = date("2030");
    p.telecom[0] = ContactPoint::new(TelecomSystem::Email, "BAD", None);
    p.contacts.clear();
    let report = validate(&p, now());
    assert_eq!(report.errors().count(), 3);
    assert_eq!(report.warnings().count(), 1);
    assert!(!report.is_valid());
    let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text[0],
        "error: `patient.name`: required element is missing"
    );
    assert!(
        text.iter().all(|t| !t.contains("BAD")),
        "no values in messages"
    );
}
