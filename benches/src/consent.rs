//! The consent-vs-Cedar scenario, shared by the `eval consent-vs-cedar` subcommand and the
//! `consent` criterion bench.
//!
//! One seeded scenario is built twice: as a Bedside [`Engine`] (the JSON policy below, patient
//! consents, care teams) and as its translation into Cedar (static policies for the rules,
//! sensitive categories, break-the-glass and verification checklists; one template per consent
//! shape, linked once per consent; entities for staff, organisations and patients). The same
//! random requests go through both.
//!
//! Translation notes. Cedar has no "permit only where a consent permits" or "deny unless a
//! consent names the label", so those are compiled: static permits exclude sensitive labels
//! (`unless { context.labels.containsAny(["ETH","PSYTHPN"]) }`), and the consent templates that
//! lift them repeat the static rule's condition. Consent denies are `forbid` templates whose
//! `unless` is the break-the-glass condition restricted to break-the-glass classes. Time is
//! passed as epoch seconds (`context.now`, `context.bg_start`).

use bedside_consent::{
    AccessChannel, Action, ActionSet, ActorRef, BreakGlass, CareTeam, Consent, Context, DataClass,
    DataScope, Engine, LabelSet, Policy, Provision, ProvisionType, ProxyGrant, Purpose,
    Relationship, Request, SecurityLabel, VerificationStep,
};
use bedside_core::{
    Actor, ConsentId, ManualClock, OrganisationId, PatientId, Period, Role, SeededIdGenerator,
    SeededRng, Sensitive, Staff, StaffId, Timestamp,
};
use cedar_policy::{
    Context as CedarContext, Entities, Entity, EntityUid, PolicyId, PolicySet,
    RestrictedExpression, SlotId,
};
use chrono::TimeDelta;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

/// The scenario's organisation policy: 12 static rules.
pub const POLICY_JSON: &str = r#"{
  "name": "consent-vs-cedar",
  "rules": [
    { "id": "front-desk", "effect": "permit", "actors": ["staff"], "roles": ["scheduler", "reception"],
      "actions": ["read", "update"], "purposes": ["HOPERAT", "TREAT"], "classes": ["demographics", "contact", "appointments"] },
    { "id": "billing-office", "effect": "permit", "actors": ["staff"], "roles": ["billing"],
      "actions": ["read", "update"], "purposes": ["HPAYMT"], "classes": ["demographics", "coverage", "billing"] },
    { "id": "care-team", "effect": "permit", "actors": ["staff"], "roles": ["clinician", "nurse"], "care_team": true,
      "actions": ["read", "create", "update"], "purposes": ["TREAT"],
      "classes": ["demographics", "contact", "appointments", "vitals", "clinical-notes", "lab-results", "medications", "problems"] },
    { "id": "right-of-access", "effect": "permit", "actors": ["patient"], "actions": ["read", "export"], "purposes": ["PATRQT"] },
    { "id": "referral-disclosure", "effect": "permit", "actors": ["external"], "actions": ["disclose"], "purposes": ["TREAT"],
      "classes": ["demographics", "vitals", "clinical-notes", "lab-results", "medications", "problems"] },
    { "id": "payer-disclosure", "effect": "permit", "actors": ["external"], "actions": ["disclose"], "purposes": ["HPAYMT"],
      "classes": ["demographics", "coverage", "billing"] },
    { "id": "public-health", "effect": "permit", "actors": ["external"], "actions": ["disclose"], "purposes": ["PUBHLTH"],
      "classes": ["demographics", "lab-results", "problems"] },
    { "id": "research-with-consent", "effect": "permit-with-consent", "actors": ["external"], "actions": ["disclose"], "purposes": ["HRESCH"] },
    { "id": "communication-consent", "effect": "permit-with-consent", "actors": ["system", "staff"], "actions": ["contact"], "classes": ["contact"] },
    { "id": "proxy-access", "effect": "permit", "actors": ["proxy"], "actions": ["read", "update"], "purposes": ["FAMRQT", "PATRQT"] },
    { "id": "no-psychotherapy-notes-outside", "effect": "deny", "actors": ["external"], "labels": ["PSYTHPN"], "break_glass": "never" },
    { "id": "no-hiv-to-payers", "effect": "deny", "actors": ["external"], "purposes": ["HPAYMT"], "labels": ["HIV"], "break_glass": "never" }
  ],
  "sensitive_labels": ["ETH", "PSYTHPN"],
  "break_glass": { "roles": ["clinician"], "actions": ["read"],
    "classes": ["demographics", "contact", "vitals", "clinical-notes", "lab-results", "medications", "problems"],
    "max_minutes": 240, "overrides_consent_denies": true, "overridable_labels": ["ETH"] },
  "checklists": [
    { "id": "phone-appointments", "actors": ["patient"], "channels": ["voice"], "classes": ["appointments", "demographics"],
      "require": [["name"], ["date-of-birth"]] },
    { "id": "phone-results", "actors": ["patient"], "channels": ["voice"],
      "classes": ["lab-results", "clinical-notes", "medications", "problems", "vitals"],
      "require": [["name"], ["date-of-birth"], ["postcode", "identifier-last4", "one-time-code"]] }
  ]
}"#;

const SENS: &str = r#"context.labels.containsAny(["ETH", "PSYTHPN"])"#;
const BG_CLASSES: &str = r#"["demographics", "contact", "vitals", "clinical-notes", "lab-results", "medications", "problems"]"#;
const REFERRAL_CLASSES: &str =
    r#"["demographics", "vitals", "clinical-notes", "lab-results", "medications", "problems"]"#;

/// The static Cedar policies (the 12 rules, break-the-glass, checklists) and the consent
/// templates.
pub fn cedar_source() -> String {
    let bg = r#"principal.roles.contains("clinician") && context.purpose == "ETREAT" && context.bg_justified && context.bg_start <= context.now && context.now < context.bg_start + 14400"#;
    let bg_lift = format!(
        r#"action == Action::"read" && principal is Staff && {bg} && {BG_CLASSES}.contains(context.class)"#
    );
    format!(
        r#"
@id("front-desk")
permit(principal is Staff, action in [Action::"read", Action::"update"], resource is Patient)
when {{ principal.roles.containsAny(["scheduler", "reception"]) && ["HOPERAT", "TREAT"].contains(context.purpose) && ["demographics", "contact", "appointments"].contains(context.class) }}
unless {{ {SENS} }};

@id("billing-office")
permit(principal is Staff, action in [Action::"read", Action::"update"], resource is Patient)
when {{ principal.roles.contains("billing") && context.purpose == "HPAYMT" && ["demographics", "coverage", "billing"].contains(context.class) }}
unless {{ {SENS} }};

@id("care-team")
permit(principal is Staff, action in [Action::"read", Action::"create", Action::"update"], resource is Patient)
when {{ principal.roles.containsAny(["clinician", "nurse"]) && resource.care_team.contains(principal) && context.purpose == "TREAT" && ["demographics", "contact", "appointments", "vitals", "clinical-notes", "lab-results", "medications", "problems"].contains(context.class) }}
unless {{ {SENS} }};

@id("right-of-access")
permit(principal is Patient, action in [Action::"read", Action::"export"], resource is Patient)
when {{ principal == resource && context.purpose == "PATRQT" }};

@id("referral-disclosure")
permit(principal is Org, action == Action::"disclose", resource is Patient)
when {{ context.purpose == "TREAT" && {REFERRAL_CLASSES}.contains(context.class) }}
unless {{ {SENS} }};

@id("payer-disclosure")
permit(principal is Org, action == Action::"disclose", resource is Patient)
when {{ context.purpose == "HPAYMT" && ["demographics", "coverage", "billing"].contains(context.class) }}
unless {{ {SENS} }};

@id("public-health")
permit(principal is Org, action == Action::"disclose", resource is Patient)
when {{ context.purpose == "PUBHLTH" && ["demographics", "lab-results", "problems"].contains(context.class) }}
unless {{ {SENS} }};

@id("proxy-access")
permit(principal is Proxy, action in [Action::"read", Action::"update"], resource is Patient)
when {{ principal.patient == resource && ["FAMRQT", "PATRQT"].contains(context.purpose) && principal.classes.contains(context.class) && principal.actions.contains(action) && principal.start <= context.now && context.now < principal.end }}
unless {{ {SENS} }};

@id("no-psychotherapy-notes-outside")
forbid(principal is Org, action, resource)
when {{ context.labels.contains("PSYTHPN") }};

@id("no-hiv-to-payers")
forbid(principal is Org, action, resource)
when {{ context.purpose == "HPAYMT" && context.labels.contains("HIV") }};

@id("break-the-glass")
permit(principal is Staff, action == Action::"read", resource is Patient)
when {{ {bg} && {BG_CLASSES}.contains(context.class) }}
unless {{ context.labels.contains("PSYTHPN") }};

@id("phone-appointments")
forbid(principal is Patient, action, resource)
when {{ context.channel == "voice" && ["appointments", "demographics"].contains(context.class) }}
unless {{ context.verified.contains("name") && context.verified.contains("date-of-birth") }};

@id("phone-results")
forbid(principal is Patient, action, resource)
when {{ context.channel == "voice" && ["lab-results", "clinical-notes", "medications", "problems", "vitals"].contains(context.class) }}
unless {{ context.verified.contains("name") && context.verified.contains("date-of-birth") && context.verified.containsAny(["postcode", "identifier-last4", "one-time-code"]) }};

@id("t-optout-org")
forbid(principal == ?principal, action == Action::"disclose", resource == ?resource);

@id("t-deny-staff")
forbid(principal == ?principal, action, resource == ?resource)
unless {{ {bg_lift} }};

@id("t-research")
permit(principal == ?principal, action == Action::"disclose", resource == ?resource)
when {{ context.purpose == "HRESCH" }}
unless {{ {SENS} }};

@id("t-sms-treat")
permit(principal, action == Action::"contact", resource == ?resource)
when {{ (principal is Staff || principal is System) && context.channel == "sms" && context.purpose == "TREAT" && context.class == "contact" }}
unless {{ {SENS} }};

@id("t-part2")
permit(principal == ?principal, action == Action::"disclose", resource == ?resource)
when {{ context.purpose == "TREAT" && context.labels.contains("ETH") && {REFERRAL_CLASSES}.contains(context.class) }}
unless {{ context.labels.contains("PSYTHPN") }};

@id("t-no-marketing")
forbid(principal, action == Action::"contact", resource == ?resource)
when {{ context.purpose == "MARKT" }};

@id("t-stop-sms")
forbid(principal, action == Action::"contact", resource == ?resource)
when {{ context.channel == "sms" }};

@id("t-disclose-only")
forbid(principal, action == Action::"disclose", resource == ?resource)
unless {{ principal is Org && resource.disclose_ok.contains(principal) && context.purpose == "TREAT" }};
"#
    )
}

/// The consent shapes of the scenario, each with its Cedar template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentShape {
    /// Deny disclosure to one organisation.
    OptOutOrg(OrganisationId),
    /// Deny all access by one staff member (break-the-glass may lift it).
    DenyStaff(StaffId),
    /// Permit research disclosure to one organisation.
    Research(OrganisationId),
    /// Permit SMS contact for treatment (appointment reminders).
    SmsReminders,
    /// 42 CFR Part 2: permit disclosing substance-use records to one organisation for treatment.
    Part2(OrganisationId),
    /// Deny marketing contact.
    NoMarketing,
    /// STOP: deny all SMS contact.
    StopSms,
    /// Permit everything except disclosure, except to one organisation for treatment (nested).
    DiscloseOnlyTo(OrganisationId),
}

impl ConsentShape {
    /// The consent's provision tree.
    pub fn provision(self) -> Provision {
        match self {
            ConsentShape::OptOutOrg(o) => Provision::new(ProvisionType::Deny)
                .actor(ActorRef::Organisation(o))
                .action(Action::Disclose),
            ConsentShape::DenyStaff(s) => {
                Provision::new(ProvisionType::Deny).actor(ActorRef::Staff(s))
            }
            ConsentShape::Research(o) => Provision::new(ProvisionType::Permit)
                .actor(ActorRef::Organisation(o))
                .purpose(Purpose::Hresch)
                .action(Action::Disclose),
            ConsentShape::SmsReminders => Provision::new(ProvisionType::Permit)
                .action(Action::Contact)
                .channel(AccessChannel::Sms)
                .purpose(Purpose::Treat),
            ConsentShape::Part2(o) => Provision::new(ProvisionType::Permit)
                .actor(ActorRef::Organisation(o))
                .purpose(Purpose::Treat)
                .label(SecurityLabel::Eth)
                .action(Action::Disclose),
            ConsentShape::NoMarketing => Provision::new(ProvisionType::Deny)
                .action(Action::Contact)
                .purpose(Purpose::Markt),
            ConsentShape::StopSms => Provision::new(ProvisionType::Deny)
                .action(Action::Contact)
                .channel(AccessChannel::Sms),
            ConsentShape::DiscloseOnlyTo(o) => Provision::new(ProvisionType::Permit).except(
                Provision::new(ProvisionType::Deny)
                    .action(Action::Disclose)
                    .except(
                        Provision::new(ProvisionType::Permit)
                            .actor(ActorRef::Organisation(o))
                            .purpose(Purpose::Treat),
                    ),
            ),
        }
    }

    fn template(self) -> (&'static str, Option<EntityUid>) {
        match self {
            ConsentShape::OptOutOrg(o) => ("t-optout-org", Some(org_uid(o))),
            ConsentShape::DenyStaff(s) => ("t-deny-staff", Some(uid("Staff", &s.to_string()))),
            ConsentShape::Research(o) => ("t-research", Some(org_uid(o))),
            ConsentShape::SmsReminders => ("t-sms-treat", None),
            ConsentShape::Part2(o) => ("t-part2", Some(org_uid(o))),
            ConsentShape::NoMarketing => ("t-no-marketing", None),
            ConsentShape::StopSms => ("t-stop-sms", None),
            ConsentShape::DiscloseOnlyTo(_) => ("t-disclose-only", None),
        }
    }
}

/// An entity uid of one of the scenario's literal Cedar types.
fn uid(kind: &'static str, id: &str) -> EntityUid {
    // Proof: `kind` is always one of the literal type names of this module (`Staff`, `Org`,
    // `Patient`, `System`, `Proxy`, `Action`), each a valid Cedar identifier, so parsing cannot
    // fail.
    #[allow(clippy::expect_used)]
    let kind = cedar_policy::EntityTypeName::from_str(kind).expect("literal Cedar type name");
    EntityUid::from_type_name_and_id(kind, cedar_policy::EntityId::new(id))
}

fn org_uid(o: OrganisationId) -> EntityUid {
    uid("Org", &o.to_string())
}

/// Scenario size.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioConfig {
    /// Patients.
    pub patients: usize,
    /// Consents in total, spread round-robin over patients.
    pub consents: usize,
    /// Random requests.
    pub requests: usize,
    /// Seed.
    pub seed: u64,
    /// Whether to build the Cedar side.
    pub cedar: bool,
}

/// The Cedar side of a scenario.
pub struct CedarSide {
    /// Static policies, templates and links.
    pub policies: PolicySet,
    /// Staff, organisations, patients.
    pub entities: Entities,
    /// The requests, translated.
    pub requests: Vec<cedar_policy::Request>,
    /// Linked template count.
    pub links: usize,
}

/// A built scenario.
pub struct Scenario {
    /// Our engine with policy, consents and care teams.
    pub engine: Engine,
    /// The requests.
    pub requests: Vec<Request>,
    /// The Cedar translation, when asked for.
    pub cedar: Option<CedarSide>,
}

struct Pools {
    staff: Vec<Staff>,
    orgs: Vec<OrganisationId>,
    clinic: OrganisationId,
}

fn pools(ids: &SeededIdGenerator) -> Pools {
    let clinic: OrganisationId = ids.generate();
    let roles = [
        ("clinician", 12),
        ("nurse", 8),
        ("scheduler", 6),
        ("reception", 4),
        ("billing", 6),
        ("manager", 4),
    ];
    let mut staff = Vec::new();
    for (role, count) in roles {
        for _ in 0..count {
            staff.push(Staff {
                id: ids.generate(),
                roles: vec![Role::new(role).unwrap_or(Role::ADMIN)],
                organisation: clinic,
                provider: None,
            });
        }
    }
    let orgs = (0..20).map(|_| ids.generate()).collect();
    Pools {
        staff,
        orgs,
        clinic,
    }
}

/// The scenario's "now".
pub fn scenario_now() -> Timestamp {
    chrono::DateTime::UNIX_EPOCH + TimeDelta::days(20_600) + TimeDelta::hours(9)
}

const PURPOSES: [Purpose; 9] = [
    Purpose::Treat,
    Purpose::Etreat,
    Purpose::Hpaymt,
    Purpose::Hoperat,
    Purpose::Patrqt,
    Purpose::Pubhlth,
    Purpose::Hresch,
    Purpose::Markt,
    Purpose::Famrqt,
];

impl Scenario {
    /// Builds a scenario.
    ///
    /// # Errors
    /// When the policy or a Cedar policy fails to parse or link (a bug in the translation).
    pub fn build(config: ScenarioConfig) -> Result<Scenario, String> {
        let mut rng = SeededRng::new(config.seed);
        let ids = SeededIdGenerator::new(Arc::new(ManualClock::new(scenario_now())), config.seed);
        let pools = pools(&ids);
        let policy = Policy::from_json(POLICY_JSON).map_err(|e| e.to_string())?;
        let mut engine = Engine::new(policy);
        let system = Actor::system("scenario");
        let at = scenario_now();
        let patients: Vec<PatientId> = (0..config.patients.max(1))
            .map(|_| ids.generate::<PatientId>())
            .collect();
        let clinicians: Vec<&Staff> = pools
            .staff
            .iter()
            .filter(|s| s.roles[0] == Role::CLINICIAN)
            .collect();
        let nurses: Vec<&Staff> = pools
            .staff
            .iter()
            .filter(|s| s.roles[0] == Role::NURSE)
            .collect();
        let mut care: HashMap<PatientId, Vec<StaffId>> = HashMap::new();
        for p in &patients {
            let team = vec![
                clinicians[rng.index(clinicians.len())].id,
                clinicians[rng.index(clinicians.len())].id,
                nurses[rng.index(nurses.len())].id,
            ];
            engine.set_care_team(
                *p,
                CareTeam {
                    staff: team.clone(),
                    providers: Vec::new(),
                },
            );
            care.insert(*p, team);
        }
        let mut shapes: Vec<(PatientId, ConsentId, ConsentShape)> =
            Vec::with_capacity(config.consents);
        let mut has_disclose_only: HashSet<PatientId> = HashSet::new();
        let mut named_orgs: HashMap<PatientId, Vec<OrganisationId>> = HashMap::new();
        for i in 0..config.consents {
            let patient = patients[i % patients.len()];
            let org = pools.orgs[rng.index(pools.orgs.len())];
            let mut shape = match rng.below(8) {
                0 => ConsentShape::OptOutOrg(org),
                1 => ConsentShape::DenyStaff(pools.staff[rng.index(pools.staff.len())].id),
                2 => ConsentShape::Research(org),
                3 => ConsentShape::SmsReminders,
                4 => ConsentShape::Part2(org),
                5 => ConsentShape::NoMarketing,
                6 => ConsentShape::StopSms,
                _ => ConsentShape::DiscloseOnlyTo(org),
            };
            // The Cedar translation of "disclose only to" keeps one allowed organisation per
            // patient (an entity attribute), so each patient gets at most one such consent.
            if matches!(shape, ConsentShape::DiscloseOnlyTo(_))
                && !has_disclose_only.insert(patient)
            {
                shape = ConsentShape::Research(org);
            }
            named_orgs.entry(patient).or_default().push(org);
            let id: ConsentId = ids.generate();
            let consent = Consent::new(id, patient, shape.provision());
            engine
                .consents_mut()
                .add(consent, at, &system)
                .map_err(|e| e.to_string())?;
            shapes.push((patient, id, shape));
        }
        // A proxy (one grant, one patient) for about a third of the patients; some grants have
        // expired or not yet begun.
        let mut proxies: Vec<ProxyGrant> = Vec::new();
        for p in &patients {
            if !rng.chance(0.3) {
                continue;
            }
            let classes = (0..4)
                .map(|_| DataClass::ALL[rng.index(DataClass::ALL.len())])
                .collect();
            let actions = if rng.chance(0.5) {
                ActionSet::from(Action::Read)
            } else {
                [Action::Read, Action::Update].into_iter().collect()
            };
            let start = at - TimeDelta::days(i64::try_from(rng.below(400)).unwrap_or(0));
            let length = TimeDelta::days(30 + i64::try_from(rng.below(800)).unwrap_or(0));
            let period = Period::starting_at(start, length);
            let grant =
                ProxyGrant::new(ids.generate(), *p, Relationship::Caregiver, classes, period)
                    .actions(actions.iter());
            engine.add_proxy_grant(grant.clone());
            proxies.push(grant);
        }
        let requests: Vec<Request> = (0..config.requests)
            .map(|_| random_request(&mut rng, &pools, &patients, &care, &named_orgs, &proxies))
            .collect();
        let cedar = if config.cedar {
            Some(build_cedar(
                &pools, &patients, &care, &shapes, &proxies, &requests,
            )?)
        } else {
            None
        };
        Ok(Scenario {
            engine,
            requests,
            cedar,
        })
    }
}

fn random_request(
    rng: &mut SeededRng,
    pools: &Pools,
    patients: &[PatientId],
    care: &HashMap<PatientId, Vec<StaffId>>,
    named_orgs: &HashMap<PatientId, Vec<OrganisationId>>,
    proxies: &[ProxyGrant],
) -> Request {
    let mut patient = patients[rng.index(patients.len())];
    let roll = rng.below(100);
    let (actor, action, channel) = if roll < 50 {
        let staff = if rng.chance(0.5) {
            let team = care.get(&patient).map(Vec::as_slice).unwrap_or_default();
            let pick = team.get(rng.index(team.len().max(1))).copied();
            pools
                .staff
                .iter()
                .find(|s| Some(s.id) == pick)
                .unwrap_or(&pools.staff[0])
                .clone()
        } else {
            pools.staff[rng.index(pools.staff.len())].clone()
        };
        let action = if rng.chance(0.6) {
            Action::Read
        } else {
            Action::ALL[rng.index(Action::ALL.len())]
        };
        let channel = if action == Action::Contact {
            [AccessChannel::Sms, AccessChannel::Email][rng.index(2)]
        } else {
            AccessChannel::Internal
        };
        (Actor::Staff(staff), action, channel)
    } else if roll < 70 {
        let org = match named_orgs.get(&patient) {
            Some(named) if rng.chance(0.6) => named[rng.index(named.len())],
            _ => pools.orgs[rng.index(pools.orgs.len())],
        };
        let action = if rng.chance(0.85) {
            Action::Disclose
        } else {
            Action::ALL[rng.index(Action::ALL.len())]
        };
        (
            Actor::External { organisation: org },
            action,
            AccessChannel::Internal,
        )
    } else if (80..88).contains(&roll) && !proxies.is_empty() {
        let grant = &proxies[rng.index(proxies.len())];
        // Mostly about the proxy's own patient; sometimes about someone else's record.
        if rng.chance(0.9) {
            patient = grant.patient;
        }
        let actor = Actor::Proxy {
            related_person: grant.related_person,
            patient: grant.patient,
        };
        let action = [Action::Read, Action::Update, Action::Export][rng.index(3)];
        (actor, action, AccessChannel::Portal)
    } else if roll < 88 {
        let who = if rng.chance(0.85) {
            patient
        } else {
            patients[rng.index(patients.len())]
        };
        let action = [Action::Read, Action::Export, Action::Update][rng.index(3)];
        let channel = [AccessChannel::Voice, AccessChannel::Portal][rng.index(2)];
        (Actor::Patient { patient: who }, action, channel)
    } else {
        let action = if rng.chance(0.85) {
            Action::Contact
        } else {
            Action::Read
        };
        let channel = [AccessChannel::Sms, AccessChannel::Email][rng.index(2)];
        (Actor::system("reminder-planner"), action, channel)
    };
    let class = if action == Action::Contact && rng.chance(0.8) {
        DataClass::Contact
    } else {
        DataClass::ALL[rng.index(DataClass::ALL.len())]
    };
    let mut labels = LabelSet::EMPTY;
    if rng.chance(0.15) {
        labels.insert(SecurityLabel::Eth);
    }
    if rng.chance(0.07) {
        labels.insert(SecurityLabel::Psythpn);
    }
    if rng.chance(0.07) {
        labels.insert(SecurityLabel::Hiv);
    }
    // Mostly the purpose the actor's role would plausibly give, so that permits are common and
    // agreement is tested on both outcomes; the rest uniformly random.
    let plausible = rng.chance(0.7);
    let purpose = match &actor {
        _ if !plausible => PURPOSES[rng.index(PURPOSES.len())],
        Actor::Patient { .. } => Purpose::Patrqt,
        Actor::Proxy { .. } => [Purpose::Famrqt, Purpose::Patrqt][rng.index(2)],
        Actor::Staff(s) => match s.roles[0].as_str() {
            "clinician" => [Purpose::Treat, Purpose::Etreat][rng.index(2)],
            "nurse" => Purpose::Treat,
            "billing" => Purpose::Hpaymt,
            "scheduler" | "reception" => [Purpose::Hoperat, Purpose::Treat][rng.index(2)],
            _ => Purpose::Hoperat,
        },
        Actor::External { .. } => [
            Purpose::Treat,
            Purpose::Hpaymt,
            Purpose::Pubhlth,
            Purpose::Hresch,
        ][rng.index(4)],
        _ => [Purpose::Treat, Purpose::Markt][rng.index(2)],
    };
    let at = scenario_now() + TimeDelta::seconds(i64::try_from(rng.below(3_600)).unwrap_or(0));
    let mut context = Context::at(at);
    if channel == AccessChannel::Voice {
        for step in [
            VerificationStep::Name,
            VerificationStep::DateOfBirth,
            VerificationStep::Postcode,
            VerificationStep::OneTimeCode,
        ] {
            if rng.chance(0.7) {
                context.verified.insert(step);
            }
        }
    }
    if matches!(actor, Actor::Staff(_)) && rng.chance(0.3) {
        let justification = if rng.chance(0.9) {
            "patient unresponsive"
        } else {
            " "
        };
        let minutes_ago = i64::try_from(rng.below(300)).unwrap_or(0);
        context.break_glass = Some(BreakGlass {
            justification: Sensitive::new(justification.to_owned()),
            started_at: at - TimeDelta::minutes(minutes_ago),
        });
    }
    let mut request = Request::new(actor, patient, action, purpose, at)
        .data(DataScope {
            classes: class.into(),
            labels,
            ..DataScope::default()
        })
        .channel(channel);
    request.context = context;
    request
}

fn set_of_strings<'a>(items: impl IntoIterator<Item = &'a str>) -> RestrictedExpression {
    RestrictedExpression::new_set(
        items
            .into_iter()
            .map(|s| RestrictedExpression::new_string(s.to_owned())),
    )
}

/// Parses [`cedar_source`] and names every policy and template by its `@id` annotation (the
/// parser would otherwise number them).
///
/// # Errors
/// When the source does not parse.
pub fn cedar_policy_set() -> Result<PolicySet, String> {
    let parsed =
        PolicySet::from_str(&cedar_source()).map_err(|e| format!("cedar policies: {e}"))?;
    let mut named = PolicySet::new();
    for t in parsed.templates() {
        let id = t.annotation("id").unwrap_or_default().to_owned();
        named
            .add_template(t.new_id(PolicyId::new(id)))
            .map_err(|e| e.to_string())?;
    }
    for p in parsed.policies() {
        let id = p.annotation("id").unwrap_or_default().to_owned();
        named
            .add(p.new_id(PolicyId::new(id)))
            .map_err(|e| e.to_string())?;
    }
    Ok(named)
}

fn build_cedar(
    pools: &Pools,
    patients: &[PatientId],
    care: &HashMap<PatientId, Vec<StaffId>>,
    shapes: &[(PatientId, ConsentId, ConsentShape)],
    proxies: &[ProxyGrant],
    requests: &[Request],
) -> Result<CedarSide, String> {
    let mut policies = cedar_policy_set()?;
    let mut disclose_ok: HashMap<PatientId, OrganisationId> = HashMap::new();
    for (i, (patient, _, shape)) in shapes.iter().enumerate() {
        if let ConsentShape::DiscloseOnlyTo(o) = shape {
            disclose_ok.insert(*patient, *o);
        }
        let (template, principal) = shape.template();
        let mut vals = HashMap::new();
        vals.insert(SlotId::resource(), uid("Patient", &patient.to_string()));
        if let Some(p) = principal {
            vals.insert(SlotId::principal(), p);
        }
        policies
            .link(
                PolicyId::new(template),
                PolicyId::new(format!("consent-{i}")),
                vals,
            )
            .map_err(|e| format!("link {template}: {e:?}"))?;
    }
    let mut entities = Vec::new();
    for s in &pools.staff {
        let attrs = HashMap::from([(
            "roles".to_owned(),
            set_of_strings(s.roles.iter().map(Role::as_str)),
        )]);
        entities.push(
            Entity::new(uid("Staff", &s.id.to_string()), attrs, HashSet::new())
                .map_err(|e| e.to_string())?,
        );
    }
    for g in proxies {
        let attrs = HashMap::from([
            (
                "patient".to_owned(),
                RestrictedExpression::new_entity_uid(uid("Patient", &g.patient.to_string())),
            ),
            (
                "classes".to_owned(),
                set_of_strings(g.classes.iter().map(DataClass::code)),
            ),
            (
                "actions".to_owned(),
                RestrictedExpression::new_set(
                    g.actions
                        .iter()
                        .map(|a| RestrictedExpression::new_entity_uid(uid("Action", a.code()))),
                ),
            ),
            (
                "start".to_owned(),
                RestrictedExpression::new_long(g.period.start().timestamp()),
            ),
            (
                "end".to_owned(),
                RestrictedExpression::new_long(g.period.end().timestamp()),
            ),
        ]);
        entities.push(
            Entity::new(
                uid("Proxy", &g.related_person.to_string()),
                attrs,
                HashSet::new(),
            )
            .map_err(|e| e.to_string())?,
        );
    }
    for o in pools.orgs.iter().chain(std::iter::once(&pools.clinic)) {
        entities.push(Entity::new_no_attrs(org_uid(*o), HashSet::new()));
    }
    entities.push(Entity::new_no_attrs(
        uid("System", "reminder-planner"),
        HashSet::new(),
    ));
    for p in patients {
        let team = care.get(p).map(Vec::as_slice).unwrap_or_default();
        let attrs =
            HashMap::from([
                (
                    "care_team".to_owned(),
                    RestrictedExpression::new_set(team.iter().map(|s| {
                        RestrictedExpression::new_entity_uid(uid("Staff", &s.to_string()))
                    })),
                ),
                (
                    "disclose_ok".to_owned(),
                    RestrictedExpression::new_set(
                        disclose_ok
                            .get(p)
                            .map(|o| RestrictedExpression::new_entity_uid(org_uid(*o))),
                    ),
                ),
            ]);
        entities.push(
            Entity::new(uid("Patient", &p.to_string()), attrs, HashSet::new())
                .map_err(|e| e.to_string())?,
        );
    }
    let entities = Entities::from_entities(entities, None).map_err(|e| e.to_string())?;
    let requests = requests
        .iter()
        .map(to_cedar)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CedarSide {
        policies,
        entities,
        requests,
        links: shapes.len(),
    })
}

/// Translates one request into a Cedar request.
///
/// # Errors
/// When the request has other than one data class, or Cedar rejects the context.
pub fn to_cedar(r: &Request) -> Result<cedar_policy::Request, String> {
    let principal = match &r.actor {
        Actor::Staff(s) => uid("Staff", &s.id.to_string()),
        Actor::Patient { patient } => uid("Patient", &patient.to_string()),
        Actor::External { organisation } => org_uid(*organisation),
        Actor::System { component } => uid("System", component),
        Actor::Proxy { related_person, .. } => uid("Proxy", &related_person.to_string()),
    };
    let class = match r.data.classes.iter().collect::<Vec<_>>().as_slice() {
        [one] => *one,
        _ => return Err("scenario requests have exactly one class".into()),
    };
    let (justified, start) = match &r.context.break_glass {
        Some(bg) => (
            !bg.justification.expose().trim().is_empty(),
            bg.started_at.timestamp(),
        ),
        None => (false, 0),
    };
    let context = CedarContext::from_pairs([
        (
            "class".to_owned(),
            RestrictedExpression::new_string(class.code().to_owned()),
        ),
        (
            "labels".to_owned(),
            set_of_strings(r.data.labels.iter().map(SecurityLabel::code)),
        ),
        (
            "purpose".to_owned(),
            RestrictedExpression::new_string(r.purpose.code().to_owned()),
        ),
        (
            "channel".to_owned(),
            RestrictedExpression::new_string(r.channel.code().to_owned()),
        ),
        (
            "verified".to_owned(),
            set_of_strings(r.context.verified.iter().map(VerificationStep::code)),
        ),
        (
            "bg_justified".to_owned(),
            RestrictedExpression::new_bool(justified),
        ),
        ("bg_start".to_owned(), RestrictedExpression::new_long(start)),
        (
            "now".to_owned(),
            RestrictedExpression::new_long(r.context.at.timestamp()),
        ),
    ])
    .map_err(|e| e.to_string())?;
    cedar_policy::Request::new(
        principal,
        uid("Action", r.action.code()),
        uid("Patient", &r.patient.to_string()),
        context,
        None,
    )
    .map_err(|e| e.to_string())
}

/// Cedar's decision for request `i` of a scenario.
pub fn cedar_permits(side: &CedarSide, i: usize, authorizer: &cedar_policy::Authorizer) -> bool {
    side.requests.get(i).is_some_and(|r| {
        authorizer
            .is_authorized(r, &side.policies, &side.entities)
            .decision()
            == cedar_policy::Decision::Allow
    })
}
