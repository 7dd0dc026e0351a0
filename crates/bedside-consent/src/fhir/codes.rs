//! The code tables of the `Consent` mapping: actions, data classes and the elements R4
//! requires that export derives from the domain (scope, category, policy rule, actor role).

use super::{
    BEDSIDE_ACTION_SYSTEM, CONSENT_ACTION_SYSTEM, CONSENT_SCOPE_SYSTEM, DATA_CLASS_SYSTEM,
    LEGACY_ACTION_SYSTEM, LEGACY_DATA_CLASS_SYSTEM, MIME_TYPE_SYSTEM, PARTICIPATION_TYPE_SYSTEM,
    RESOURCE_TYPE_SYSTEM,
};
use crate::consent::{ActorRef, Consent, ProvisionType};
use crate::vocab::{Action, DataClass, Purpose};
use bedside_core::Coding;
use bedside_core::code::system;

/// What an open code must be (see [`DataClass::open`]).
pub(super) const OPEN_CODE_EXPECTED: &str =
    "a code of at most 128 characters (or too many distinct open codes in this process)";

/// The data class of a `provision.class` coding: a known Bedside class, or any other code
/// (a resource type, a MIME type, a code of another system) as an open class.
pub(super) fn class_from(c: &Coding) -> Option<DataClass> {
    match c.system.as_str() {
        DATA_CLASS_SYSTEM | LEGACY_DATA_CLASS_SYSTEM => DataClass::open(&c.code),
        // A known Bedside code under another system is not that class.
        _ => match DataClass::from_code(&c.code) {
            Some(_) => None,
            None => DataClass::open(&c.code),
        },
    }
}

/// The system a class is written with.
pub(super) fn class_system(class: DataClass) -> &'static str {
    let code = class.code();
    if class.is_known() {
        DATA_CLASS_SYSTEM
    } else if code.contains('/') {
        MIME_TYPE_SYSTEM
    } else if code.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && code.bytes().all(|b| b.is_ascii_alphabetic())
    {
        RESOURCE_TYPE_SYSTEM
    } else {
        DATA_CLASS_SYSTEM
    }
}

/// The role export writes for an actor that has none (R4 requires one): what the actor kind
/// is to the data, as a v3 ParticipationType.
pub(super) fn default_role(a: &ActorRef) -> Coding {
    let (code, display) = match a {
        ActorRef::Staff(_) | ActorRef::Provider(_) | ActorRef::Organisation(_) => {
            ("PRCP", "primary information recipient")
        }
        ActorRef::RelatedPerson(_) | ActorRef::Patient(_) => ("IRCP", "information recipient"),
    };
    let mut c = Coding::new(PARTICIPATION_TYPE_SYSTEM, code);
    c.display = Some(display.to_owned());
    c
}

/// `Consent.scope` derived from the provisions when the consent does not carry one: research
/// when the root names only research, treatment when it names only treatment purposes,
/// otherwise privacy.
pub(super) fn default_scope(consent: &Consent) -> Coding {
    use crate::vocab::PurposeSet;
    let purposes = consent.provision.purposes;
    let treatment = PurposeSet::EMPTY.with(Purpose::Treat).with(Purpose::Etreat);
    let (code, display) = if purposes == PurposeSet::from(Purpose::Hresch) {
        ("research", "Research")
    } else if !purposes.is_empty() && purposes.is_subset(treatment) {
        ("treatment", "Treatment")
    } else {
        ("patient-privacy", "Privacy Consent")
    };
    let mut c = Coding::new(CONSENT_SCOPE_SYSTEM, code);
    c.display = Some(display.to_owned());
    c
}

/// `Consent.category` when the consent carries none: LOINC 59284-0 Patient Consent.
pub(super) fn default_category() -> Coding {
    let mut c = Coding::new(system::LOINC, "59284-0");
    c.display = Some("Patient Consent".to_owned());
    c
}

/// `Consent.policyRule` when the consent carries none (R4 requires a policy or a rule, ppc-1):
/// opt-in for a permitting consent, opt-out for a denying one.
pub(super) fn default_policy_rule(consent: &Consent) -> Coding {
    let root = consent.provision.kind.unwrap_or(consent.default_type);
    let code = if root == ProvisionType::Deny {
        "OPTOUT"
    } else {
        "OPTIN"
    };
    Coding::new(system::ACT_CODE, code)
}

pub(super) fn action_from(c: &Coding) -> Option<Action> {
    match (c.system.as_str(), c.code.as_str()) {
        (CONSENT_ACTION_SYSTEM, "access") => Some(Action::Read),
        (CONSENT_ACTION_SYSTEM, "collect") => Some(Action::Create),
        (CONSENT_ACTION_SYSTEM, "correct") => Some(Action::Update),
        (CONSENT_ACTION_SYSTEM, "disclose") => Some(Action::Disclose),
        (BEDSIDE_ACTION_SYSTEM | LEGACY_ACTION_SYSTEM, "export") => Some(Action::Export),
        (BEDSIDE_ACTION_SYSTEM | LEGACY_ACTION_SYSTEM, "contact") => Some(Action::Contact),
        _ => None,
    }
}

pub(super) fn action_coding(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Read => (CONSENT_ACTION_SYSTEM, "access"),
        Action::Create => (CONSENT_ACTION_SYSTEM, "collect"),
        Action::Update => (CONSENT_ACTION_SYSTEM, "correct"),
        Action::Disclose => (CONSENT_ACTION_SYSTEM, "disclose"),
        Action::Export => (BEDSIDE_ACTION_SYSTEM, "export"),
        Action::Contact => (BEDSIDE_ACTION_SYSTEM, "contact"),
    }
}
