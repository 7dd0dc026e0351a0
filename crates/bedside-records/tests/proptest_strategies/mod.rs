//! proptest strategies for patient records, shared by the integration tests.
#![allow(dead_code)] // Each test binary uses a different subset.

use bedside_core::{
    Channel, CodeableConcept, Coding, ContactRoute, CoverageId, PartialDate, PatientId, QuietHours,
    RelatedPersonId, Sensitive,
};
use bedside_records::model::*;
use bedside_records::{
    ClinicalEntry, ClinicalEntryId, ClinicalKind, Confidentiality, SecurityLabels,
};
use chrono::{NaiveDate, NaiveTime};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

pub fn text() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z '\\-]{0,12}"
}

pub fn sensitive() -> impl Strategy<Value = Sensitive<String>> {
    text().prop_map(Sensitive::new)
}

pub fn uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<u128>().prop_map(|n| {
        uuid::Builder::from_u128(n)
            .with_version(uuid::Version::SortRand)
            .into_uuid()
    })
}

pub fn date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2030, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}

pub fn partial_date() -> impl Strategy<Value = PartialDate> {
    prop_oneof![
        (1900i32..2030).prop_map(PartialDate::Year),
        (1900i32..2030, 1u32..=12).prop_map(|(y, m)| PartialDate::YearMonth(y, m)),
        date().prop_map(PartialDate::Date),
    ]
}

pub fn date_time() -> impl Strategy<Value = FhirDateTime> {
    prop_oneof![
        partial_date().prop_map(|d| FhirDateTime::parse(&d.to_string())),
        (date(), 0u32..24, 0u32..60, -12i32..=12).prop_map(|(d, h, m, off)| {
            let sign = if off < 0 { '-' } else { '+' };
            FhirDateTime::parse(&format!(
                "{}T{h:02}:{m:02}:00{sign}{:02}:00",
                d.format("%Y-%m-%d"),
                off.abs()
            ))
        }),
    ]
    .prop_filter_map("valid", |d| d)
}

pub fn period() -> impl Strategy<Value = FhirPeriod> {
    (option::of(date_time()), option::of(date_time())).prop_map(|(s, e)| FhirPeriod::new(s, e))
}

pub fn coding() -> impl Strategy<Value = Coding> {
    (
        prop::sample::select(vec!["http://snomed.info/sct", "http://loinc.org", "urn:x"]),
        "[A-Z0-9]{1,6}",
        option::of(text()),
    )
        .prop_map(|(s, c, d)| Coding {
            system: s.to_string(),
            code: c,
            display: d,
        })
}

/// A concept with at least a coding or a text (an empty one is not valid R4).
pub fn concept() -> impl Strategy<Value = CodeableConcept> {
    (vec(coding(), 0..3), option::of(text()))
        .prop_filter("a concept says something", |(coding, text)| {
            !coding.is_empty() || text.is_some()
        })
        .prop_map(|(coding, text)| CodeableConcept { coding, text })
}

pub fn reference() -> impl Strategy<Value = Reference> {
    (
        option::of("(Organization|Practitioner)/[a-z0-9]{1,8}"),
        option::of(sensitive()),
    )
        .prop_map(|(reference, display)| Reference {
            reference,
            display,
            ..Reference::default()
        })
}

pub fn identifier() -> impl Strategy<Value = Identifier> {
    (
        prop::sample::select(vec![
            IdentifierKind::MedicalRecordNumber,
            IdentifierKind::NationalId,
            IdentifierKind::Passport,
            IdentifierKind::DriversLicence,
            IdentifierKind::Other,
        ]),
        "urn:oid:[0-9.]{1,10}",
        "[A-Z0-9]{4,10}",
        option::of(reference()),
        option::of(period()),
    )
        .prop_map(|(kind, system, value, assigner, period)| {
            let mut id = Identifier::new(kind, system, value);
            id.assigner = assigner;
            id.period = period;
            id
        })
}

pub fn name() -> impl Strategy<Value = HumanName> {
    (
        option::of(prop::sample::select(vec![
            NameUse::Official,
            NameUse::Usual,
            NameUse::Nickname,
            NameUse::Maiden,
        ])),
        option::of(sensitive()),
        vec(sensitive(), 0..3),
        vec(sensitive(), 0..2),
        option::of(period()),
    )
        .prop_map(|(use_, family, given, prefix, period)| HumanName {
            use_,
            family,
            given,
            prefix,
            period,
            ..HumanName::default()
        })
}

pub fn address() -> impl Strategy<Value = Address> {
    (
        option::of(prop::sample::select(vec![
            AddressUse::Home,
            AddressUse::Work,
        ])),
        vec(sensitive(), 0..3),
        option::of(sensitive()),
        option::of("[0-9]{5}".prop_map(Sensitive::new)),
        option::of(prop::sample::select(vec![
            "US".to_string(),
            "GB".to_string(),
        ])),
    )
        .prop_map(|(use_, lines, city, postal_code, country)| Address {
            use_,
            lines,
            city,
            postal_code,
            country,
            ..Address::default()
        })
}

pub fn contact_point() -> impl Strategy<Value = ContactPoint> {
    (
        prop_oneof![
            "\\+[1-9][0-9]{9}".prop_map(|v| (TelecomSystem::Phone, v)),
            "[a-z]{1,8}@[a-z]{1,8}\\.org".prop_map(|v| (TelecomSystem::Email, v)),
        ],
        option::of(prop::sample::select(vec![
            TelecomUse::Home,
            TelecomUse::Mobile,
            TelecomUse::Work,
        ])),
        option::of(1u32..5),
        any::<bool>(),
    )
        .prop_map(|((system, value), use_, rank, verified)| {
            let mut c = ContactPoint::new(system, value, use_);
            c.rank = rank;
            if verified {
                c.verification = Verification::Verified;
            }
            c
        })
}

pub fn preferences() -> impl Strategy<Value = Vec<ContactPreference>> {
    vec(
        (
            prop::sample::select(ContactPurpose::ALL.to_vec()),
            vec(
                (
                    prop::sample::select(Channel::ALL.to_vec()),
                    "[a-z0-9+@.]{3,12}",
                    any::<bool>(),
                ),
                0..3,
            ),
        ),
        0..4,
    )
    .prop_map(|items| {
        let mut p = Patient::new(PatientId::from_uuid(uuid::Uuid::nil()));
        for (purpose, routes) in items {
            p.set_preference(
                purpose,
                routes
                    .into_iter()
                    .map(|(c, a, on)| RoutePreference {
                        route: ContactRoute::new(c, a),
                        state: if on {
                            OptState::OptedIn
                        } else {
                            OptState::OptedOut
                        },
                    })
                    .collect(),
            );
        }
        p.preferences
    })
}

pub fn quiet_hours() -> impl Strategy<Value = QuietHours> {
    (
        prop::sample::select(vec![
            chrono_tz::Europe::London,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Sydney,
        ]),
        0u32..24,
        0u32..24,
    )
        .prop_map(|(z, a, b)| {
            QuietHours::new(
                z,
                NaiveTime::from_hms_opt(a, 0, 0).unwrap_or_default(),
                NaiveTime::from_hms_opt(b, 30, 0).unwrap_or_default(),
            )
        })
}

/// A patient as the FHIR `Patient` resource carries it (no coverages or related persons).
pub fn patient() -> impl Strategy<Value = Patient> {
    (
        (
            uuid(),
            option::of(any::<bool>()),
            vec(identifier(), 0..3),
            vec(name(), 0..3),
            option::of(partial_date()),
            option::of(prop::sample::select(vec![
                AdministrativeGender::Female,
                AdministrativeGender::Male,
                AdministrativeGender::Other,
            ])),
        ),
        (
            option::of(prop_oneof![
                any::<bool>().prop_map(Deceased::Flag),
                date_time().prop_map(Deceased::At),
            ]),
            vec(address(), 0..2),
            vec(contact_point(), 0..3),
            vec(
                (
                    prop::sample::select(vec!["en", "nl", "pt-BR"]),
                    option::of(any::<bool>()),
                ),
                0..2,
            ),
            option::of(any::<bool>()),
            preferences(),
            option::of(quiet_hours()),
            vec(reference(), 0..2),
            any::<bool>(),
            option::of(prop_oneof![
                any::<bool>().prop_map(MultipleBirth::Flag),
                (1u32..4).prop_map(MultipleBirth::Order),
            ]),
            vec(
                (
                    reference(),
                    prop::sample::select(vec![LinkType::Seealso, LinkType::ReplacedBy]),
                ),
                0..2,
            ),
        ),
    )
        .prop_map(
            |(
                (id, active, identifiers, names, birth, gender),
                (
                    deceased,
                    addresses,
                    telecom,
                    langs,
                    interpreter,
                    preferences,
                    quiet,
                    gps,
                    kin,
                    births,
                    links,
                ),
            )| {
                let mut p = Patient::new(PatientId::from_uuid(id));
                p.active = active;
                p.identifiers = identifiers;
                p.names = names;
                p.birth_date = birth.map(Sensitive::new);
                p.gender = gender;
                p.deceased = deceased;
                p.addresses = addresses;
                p.telecom = telecom;
                p.communication = langs
                    .into_iter()
                    .filter_map(|(tag, pref)| {
                        let l = bedside_core::Language::new(tag).ok()?;
                        let mut c = if pref.unwrap_or(false) {
                            Communication::preferred(&l)
                        } else {
                            Communication::spoken(&l)
                        };
                        c.preferred = pref;
                        Some(c)
                    })
                    .collect();
                p.interpreter_needed = interpreter;
                p.preferences = preferences;
                p.quiet_hours = quiet;
                if kin {
                    p.contacts = vec![PatientContact::emergency(
                        HumanName::new(NameUse::Usual, &["Kin"], "Contact"),
                        "+15550001111",
                    )];
                }
                p.care_team.general_practitioners = gps;
                p.multiple_birth = births;
                p.managing_organization = p.care_team.general_practitioners.first().cloned();
                p.links = links
                    .into_iter()
                    .map(|(other, type_)| PatientLink {
                        other,
                        type_,
                        unmodelled: Default::default(),
                    })
                    .collect();
                p
            },
        )
}

pub fn coverage(patient: PatientId) -> impl Strategy<Value = Coverage> {
    (
        uuid(),
        reference(),
        "[A-Z0-9]{6,10}",
        option::of(1u32..4),
        option::of(period()),
        option::of("[A-Z0-9]{3,6}"),
    )
        .prop_map(move |(id, payer, member, order, period, group)| {
            let mut c = Coverage::new(CoverageId::from_uuid(id), patient, payer, member);
            c.order = order;
            c.period = period;
            if let Some(g) = group {
                c.classes.push(CoverageClass {
                    type_: CodeableConcept::from_coding(Coding::new(
                        COVERAGE_CLASS_SYSTEM,
                        "group",
                    )),
                    value: Some(g),
                    name: None,
                    unmodelled: Default::default(),
                });
            }
            c
        })
}

pub fn related_person(patient: PatientId) -> impl Strategy<Value = RelatedPerson> {
    (
        uuid(),
        vec(name(), 0..2),
        vec(contact_point(), 0..2),
        prop::sample::subsequence(ProxyScope::ALL.to_vec(), 0..3),
        any::<bool>(),
    )
        .prop_map(move |(id, names, telecom, scopes, emergency)| {
            let mut r = RelatedPerson::new(RelatedPersonId::from_uuid(id), patient);
            r.names = names;
            r.telecom = telecom;
            r.proxy_scopes = scopes;
            if emergency {
                r.relationship
                    .push(CodeableConcept::from_coding(Coding::new(
                        CONTACT_ROLE_SYSTEM,
                        "C",
                    )));
            }
            r
        })
}

pub fn clinical(patient: PatientId) -> impl Strategy<Value = ClinicalEntry> {
    let labels = (
        prop::sample::subsequence(vec!["PSY", "ETH", "HIV", "SEX", "GDIS"], 0..3),
        option::of(prop::sample::select(vec![
            Confidentiality::Normal,
            Confidentiality::Restricted,
            Confidentiality::VeryRestricted,
        ])),
    )
        .prop_map(|(s, c)| SecurityLabels::new(&s, c));
    let kind = prop_oneof![
        (option::of(concept()), option::of(date_time())).prop_map(|(code, onset)| {
            ClinicalKind::Condition(bedside_records::clinical::Condition {
                code,
                onset,
                ..Default::default()
            })
        }),
        (option::of(concept()), vec("food|medication", 0..2)).prop_map(|(code, category)| {
            ClinicalKind::Allergy(bedside_records::clinical::AllergyIntolerance {
                code,
                category,
                criticality: Some(bedside_records::clinical::Criticality::High),
                ..Default::default()
            })
        }),
        (
            option::of(period()),
            option::of(sensitive()),
            option::of(sensitive())
        )
            .prop_map(|(period, di, fu)| {
                ClinicalKind::Encounter(bedside_records::clinical::Encounter {
                    status: Some("finished".into()),
                    participants: vec![bedside_records::clinical::EncounterParticipant {
                        individual: Some(Reference::to("Practitioner/1")),
                        ..Default::default()
                    }],
                    period,
                    discharge_instructions: di,
                    follow_up_plan: fu,
                    ..Default::default()
                })
            }),
    ];
    (uuid(), labels, kind).prop_map(move |(id, labels, kind)| {
        ClinicalEntry::new(ClinicalEntryId::from_uuid(id), patient, kind).labelled(labels)
    })
}
