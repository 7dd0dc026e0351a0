//! The patient record: [`Patient`] and the parts it is made of.
//!
//! Every value that could identify a person (names, birth date, identifiers, addresses,
//! telecom values, free text) is held in [`Sensitive`], so `Debug` output of any record type is
//! safe to log. Elements that arrived in FHIR JSON but have no field here are kept verbatim in
//! an [`Unmodelled`] map on the nearest enclosing type, so nothing is lost on a round trip.

use bedside_core::{
    Channel, CodeableConcept, ContactRoute, CoverageId, Language, PartialDate, PatientId,
    ProviderId, QuietHours, RelatedPersonId, Sensitive, code,
};
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// HL7 v2 table 0203 (identifier type): `MR`, `NI`, `DL`, `PPN`, `MB`, …
pub const IDENTIFIER_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// HL7 v2 table 0131 (contact role): `C` is the emergency contact.
pub const CONTACT_ROLE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0131";
/// The NHS number identifier system (England and Wales).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// The US National Provider Identifier system.
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
/// The US Medicare Beneficiary Identifier system.
pub const MBI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-mbi";
/// The US Social Security number system.
pub const SSN_SYSTEM: &str = "http://hl7.org/fhir/sid/us-ssn";

pub use bedside_fhir::{FhirDateTime, Period as FhirPeriod, Reference, Unmodelled};

/// Time helpers on [`FhirDateTime`] and [`FhirPeriod`] (bedside-fhir's types): all checked,
/// `None` when an instant cannot be represented, never a panic.
pub mod time {
    use super::{FhirDateTime, FhirPeriod, Reference};
    use bedside_core::PartialDate;
    use bedside_fhir::{Precision, Target};
    use chrono::{DateTime, Utc};

    /// The value at day (or coarser) precision; an instant gives its date in its own offset.
    pub fn partial_date(d: &FhirDateTime) -> Option<PartialDate> {
        match d.precision() {
            Precision::Time => d.first_day().map(PartialDate::Date),
            _ => d.as_str().parse().ok(),
        }
    }

    /// The first instant after a period end: an instant is its own bound, a partial date
    /// ends at the midnight after its last day.
    pub fn end_bound(d: &FhirDateTime) -> Option<DateTime<Utc>> {
        match d.precision() {
            Precision::Time => d.start(),
            _ => d.end_exclusive(),
        }
    }

    /// Whether `at` lies inside the period (open ends are unbounded).
    pub fn contains(p: &FhirPeriod, at: DateTime<Utc>) -> bool {
        let after_start = p
            .start
            .as_ref()
            .and_then(FhirDateTime::start)
            .is_none_or(|s| s <= at);
        let before_end = p.end.as_ref().and_then(end_bound).is_none_or(|e| at < e);
        after_start && before_end
    }

    /// Whether the two periods share an instant (open ends are unbounded).
    pub fn overlaps(a: &FhirPeriod, b: &FhirPeriod) -> bool {
        let start = |p: &FhirPeriod| p.start.as_ref().and_then(FhirDateTime::start);
        let end = |p: &FhirPeriod| p.end.as_ref().and_then(end_bound);
        let a_before_b_ends = match (start(a), end(b)) {
            (Some(s), Some(e)) => s < e,
            _ => true,
        };
        let b_before_a_ends = match (start(b), end(a)) {
            (Some(s), Some(e)) => s < e,
            _ => true,
        };
        a_before_b_ends && b_before_a_ends
    }

    /// Whether the end, when both are known, comes before the start: the last instant the end
    /// can denote lies before the first instant of the start. An instant end equal to the
    /// start is a valid zero-length period.
    pub fn is_reversed(p: &FhirPeriod) -> bool {
        let Some(end) = &p.end else {
            return false;
        };
        match (
            p.start.as_ref().and_then(FhirDateTime::start),
            end_bound(end),
        ) {
            (Some(s), Some(e)) if end.precision() == Precision::Time => e < s,
            (Some(s), Some(e)) => e <= s,
            _ => false,
        }
    }

    /// The UUID a reference points at, when it is `<Type>/<uuid>` or `urn:uuid:<uuid>`.
    pub fn target_uuid(r: &Reference) -> Option<uuid::Uuid> {
        match r.target()? {
            Target::UrnUuid(u) => Some(u),
            Target::Relative { id, .. } => uuid::Uuid::try_parse(id).ok(),
            Target::Absolute(url) => url
                .rsplit_once('/')
                .and_then(|(_, t)| uuid::Uuid::try_parse(t).ok()),
            _ => None,
        }
    }
}

/// How a resource's FHIR logical id relates to its typed id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum LogicalId {
    /// The FHIR id is the typed id's hyphenated UUID.
    #[default]
    TypedId,
    /// The FHIR id is some other string (for example `example` or `f001`).
    Other(String),
    /// The resource had no id.
    Absent,
}

impl LogicalId {
    /// Classifies a FHIR id: a lowercase hyphenated UUID becomes the typed id.
    pub fn classify(fhir_id: Option<&str>) -> (LogicalId, Option<uuid::Uuid>) {
        match fhir_id {
            None => (LogicalId::Absent, None),
            Some(text) => match uuid::Uuid::try_parse(text).ok() {
                Some(u) if u.hyphenated().to_string() == text => (LogicalId::TypedId, Some(u)),
                _ => (LogicalId::Other(text.to_string()), None),
            },
        }
    }

    /// The FHIR id to write, given the typed id's text.
    pub fn resolve(&self, typed: &str) -> Option<String> {
        match self {
            LogicalId::TypedId => Some(typed.to_string()),
            LogicalId::Other(s) => Some(s.clone()),
            LogicalId::Absent => None,
        }
    }
}

mod demographics;
pub use demographics::*;
mod telecom;
pub use telecom::*;
mod coverage;
pub use coverage::*;

/// What a related person may do on the patient's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyScope {
    /// Book, move and cancel appointments.
    Scheduling,
    /// See statements and pay bills.
    Billing,
    /// See results and clinical messages.
    Results,
    /// See and correct the demographic record.
    Records,
    /// Give or withdraw consent.
    Consent,
}

impl ProxyScope {
    /// All scopes.
    pub const ALL: [ProxyScope; 5] = [
        ProxyScope::Scheduling,
        ProxyScope::Billing,
        ProxyScope::Results,
        ProxyScope::Records,
        ProxyScope::Consent,
    ];

    /// The kebab-case code.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProxyScope::Scheduling => "scheduling",
            ProxyScope::Billing => "billing",
            ProxyScope::Results => "results",
            ProxyScope::Records => "records",
            ProxyScope::Consent => "consent",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Self> {
        ProxyScope::ALL.into_iter().find(|p| p.as_str() == code)
    }
}

fn is_emergency(relationship: &[CodeableConcept]) -> bool {
    relationship
        .iter()
        .any(|r| r.has(CONTACT_ROLE_SYSTEM, "C") || r.has(CONTACT_ROLE_SYSTEM, "EP"))
}

/// A contact party listed on the patient (FHIR `Patient.contact`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientContact {
    /// The relationship (v2-0131 `C` marks the emergency contact).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<CodeableConcept>,
    /// The contact's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<HumanName>,
    /// How to reach them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    /// Their address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Their gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<AdministrativeGender>,
    /// The organisation, for an organisational contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Reference>,
    /// When the contact is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl PatientContact {
    /// An emergency contact with a name and a phone number.
    pub fn emergency(name: HumanName, phone: impl Into<String>) -> Self {
        Self {
            relationship: vec![CodeableConcept::from_coding(bedside_core::Coding::new(
                CONTACT_ROLE_SYSTEM,
                "C",
            ))],
            name: Some(name),
            telecom: vec![ContactPoint::new(
                TelecomSystem::Phone,
                phone,
                Some(TelecomUse::Mobile),
            )],
            ..Self::default()
        }
    }

    /// Whether this is an emergency contact.
    pub fn is_emergency(&self) -> bool {
        is_emergency(&self.relationship)
    }
}

/// A related person (FHIR `RelatedPerson`): family member, guardian or caregiver, possibly a
/// proxy who may act for the patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedPerson {
    /// Typed id.
    pub id: RelatedPersonId,
    /// FHIR logical id.
    pub logical_id: LogicalId,
    /// Whether the record is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The patient this person is related to.
    pub patient: Reference,
    /// Relationship codes (v3 RoleCode or v2-0131).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<CodeableConcept>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<HumanName>,
    /// Telecom.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<AdministrativeGender>,
    /// Birth date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Sensitive<PartialDate>>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// When the relationship holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// What this person may do for the patient (empty: not a proxy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxy_scopes: Vec<ProxyScope>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl RelatedPerson {
    /// A related person for `patient`.
    pub fn new(id: RelatedPersonId, patient: PatientId) -> Self {
        Self {
            id,
            logical_id: LogicalId::TypedId,
            active: None,
            patient: Reference::to(format!("Patient/{patient}")),
            relationship: Vec::new(),
            names: Vec::new(),
            telecom: Vec::new(),
            gender: None,
            birth_date: None,
            addresses: Vec::new(),
            period: None,
            proxy_scopes: Vec::new(),
            unmodelled: Unmodelled::default(),
        }
    }

    /// Whether this is an emergency contact.
    pub fn is_emergency(&self) -> bool {
        is_emergency(&self.relationship)
    }

    /// Whether this person may act for the patient in `scope`.
    pub fn may_act_for(&self, scope: ProxyScope) -> bool {
        self.proxy_scopes.contains(&scope)
    }
}

/// The practitioners a patient is registered with, as FHIR `Patient.generalPractitioner`
/// references (any target, possibly unresolved), the first being the primary provider.
///
/// Not the consent engine's `bedside_consent::CareTeam`, which is the set of typed staff and
/// provider ids whose membership grants care-team access. The two crates do not depend on each
/// other, so the conversion goes through provider ids: `Vec::<ProviderId>::from(&gps)` gives the
/// `Practitioner/<uuid>` targets, which `bedside_consent::CareTeam::from` accepts; the other way,
/// `GeneralPractitioners::from_iter(providers)` builds references from provider ids.
///
/// ```
/// use bedside_core::ProviderId;
/// use bedside_records::GeneralPractitioners;
///
/// let gp = ProviderId::from_uuid(uuid::Uuid::from_u128(9));
/// let gps: GeneralPractitioners = [gp].into_iter().collect();
/// assert_eq!(gps.primary_provider(), Some(gp));
/// assert_eq!(Vec::<ProviderId>::from(&gps), [gp]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneralPractitioners {
    /// FHIR `Patient.generalPractitioner`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioners: Vec<Reference>,
}

impl GeneralPractitioners {
    /// The primary provider, when the first practitioner reference is `Practitioner/<uuid>`.
    pub fn primary_provider(&self) -> Option<ProviderId> {
        self.general_practitioners
            .first()
            .filter(|r| {
                r.reference
                    .as_deref()
                    .is_some_and(|s| s.starts_with("Practitioner/"))
            })
            .and_then(time::target_uuid)
            .map(ProviderId::from_uuid)
    }

    /// Every `Practitioner/<uuid>` target, in order (other references are skipped).
    pub fn providers(&self) -> Vec<ProviderId> {
        self.general_practitioners
            .iter()
            .filter(|r| {
                r.reference
                    .as_deref()
                    .is_some_and(|s| s.starts_with("Practitioner/"))
            })
            .filter_map(time::target_uuid)
            .map(ProviderId::from_uuid)
            .collect()
    }

    /// Makes `provider` the primary provider, keeping the others after it.
    pub fn set_primary_provider(&mut self, provider: ProviderId) {
        let reference = format!("Practitioner/{provider}");
        self.general_practitioners
            .retain(|r| r.reference.as_deref() != Some(reference.as_str()));
        self.general_practitioners
            .insert(0, Reference::to(reference));
    }
}

impl From<&GeneralPractitioners> for Vec<ProviderId> {
    fn from(gps: &GeneralPractitioners) -> Self {
        gps.providers()
    }
}

impl FromIterator<ProviderId> for GeneralPractitioners {
    fn from_iter<I: IntoIterator<Item = ProviderId>>(providers: I) -> Self {
        Self {
            general_practitioners: providers
                .into_iter()
                .map(|p| Reference::to(format!("Practitioner/{p}")))
                .collect(),
        }
    }
}

/// A patient's record: demographics, contact routes and preferences, contacts, related
/// persons, coverages and care team. Clinical entries are separate ([`crate::ClinicalEntry`]).
///
/// Fields are public because a record has no construction invariant: [`crate::validate()`]
/// reports every problem instead, and the [`crate::PatientRegistry`] refuses to store a record
/// with errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    /// Typed id.
    pub id: PatientId,
    /// FHIR logical id.
    pub logical_id: LogicalId,
    /// Whether the record is in active use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Identifiers (MRNs, national ids, member ids, licences, passports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<HumanName>,
    /// Birth date, possibly partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Sensitive<PartialDate>>,
    /// Administrative gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<AdministrativeGender>,
    /// Deceased flag or date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased: Option<Deceased>,
    /// Marital status (v3-MaritalStatus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<CodeableConcept>,
    /// Whether the patient is part of a multiple birth, or their birth order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_birth: Option<MultipleBirth>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Phones, e-mail addresses and other telecom.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    /// Languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communication: Vec<Communication>,
    /// Whether an interpreter is needed (FHIR extension `patient-interpreterRequired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter_needed: Option<bool>,
    /// Ordered contact routes per purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<ContactPreference>,
    /// When interruptive messages must not be sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// Contact parties, including emergency contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<PatientContact>,
    /// Related persons and proxies (separate FHIR resources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_persons: Vec<RelatedPerson>,
    /// Insurance coverages (separate FHIR resources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverages: Vec<Coverage>,
    /// Care team.
    pub care_team: GeneralPractitioners,
    /// The organisation that is the custodian of the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
    /// Links to other patient records for the same person (duplicates, replacements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PatientLink>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

/// FHIR `Patient.multipleBirth[x]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultipleBirth {
    /// `multipleBirthBoolean`.
    Flag(bool),
    /// `multipleBirthInteger`: the birth order.
    Order(u32),
}

/// FHIR `Patient.link.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkType {
    /// `replaced-by`: this record is replaced by the other.
    ReplacedBy,
    /// `replaces`: this record replaces the other.
    Replaces,
    /// `refer`: the other record holds the information.
    Refer,
    /// `seealso`: the other record is the same person.
    Seealso,
}

/// A link from this patient record to another record of the same person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientLink {
    /// The other record.
    pub other: Reference,
    /// How they relate.
    pub type_: LinkType,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Patient {
    /// An empty record with a typed id.
    pub fn new(id: PatientId) -> Self {
        Self {
            id,
            logical_id: LogicalId::TypedId,
            active: None,
            identifiers: Vec::new(),
            names: Vec::new(),
            birth_date: None,
            gender: None,
            deceased: None,
            marital_status: None,
            multiple_birth: None,
            addresses: Vec::new(),
            telecom: Vec::new(),
            communication: Vec::new(),
            interpreter_needed: None,
            preferences: Vec::new(),
            quiet_hours: None,
            contacts: Vec::new(),
            related_persons: Vec::new(),
            coverages: Vec::new(),
            care_team: GeneralPractitioners::default(),
            managing_organization: None,
            links: Vec::new(),
            unmodelled: Unmodelled::default(),
        }
    }

    /// The name to address the patient by: `usual`, else `official`, else the first.
    pub fn preferred_name(&self) -> Option<&HumanName> {
        [NameUse::Usual, NameUse::Official]
            .iter()
            .find_map(|u| self.names.iter().find(|n| n.use_ == Some(*u)))
            .or_else(|| self.names.first())
    }

    /// The preferred language: the communication entry marked preferred, else the first.
    pub fn preferred_language(&self) -> Option<Language> {
        self.communication
            .iter()
            .find(|c| c.preferred == Some(true))
            .or_else(|| self.communication.first())
            .and_then(Communication::tag)
    }

    /// The routes to use for `purpose`, in order: the opted-in routes of the stated preference.
    /// Without a stated preference, every purpose except marketing falls back to the telecom
    /// routes ordered by rank; marketing needs an explicit opt-in.
    pub fn contact_routes(&self, purpose: ContactPurpose) -> Vec<ContactRoute> {
        if let Some(pref) = self.preferences.iter().find(|p| p.purpose == purpose) {
            return pref
                .routes
                .iter()
                .filter(|r| r.state == OptState::OptedIn)
                .map(|r| r.route.clone())
                .collect();
        }
        if purpose == ContactPurpose::Marketing {
            return Vec::new();
        }
        let mut ranked: Vec<(u32, usize, ContactRoute)> = self
            .telecom
            .iter()
            .enumerate()
            .filter(|(_, t)| !matches!(t.use_, Some(TelecomUse::Old)))
            .filter_map(|(i, t)| t.route().map(|r| (t.rank.unwrap_or(u32::MAX), i, r)))
            .collect();
        ranked.sort_by_key(|(rank, i, _)| (*rank, *i));
        ranked.into_iter().map(|(_, _, r)| r).collect()
    }

    /// Whether the patient opted out of `route` for `purpose`.
    pub fn opted_out(&self, purpose: ContactPurpose, route: &ContactRoute) -> bool {
        self.preferences
            .iter()
            .filter(|p| p.purpose == purpose)
            .flat_map(|p| &p.routes)
            .any(|r| &r.route == route && r.state == OptState::OptedOut)
    }

    /// Sets the ordered routes for `purpose`, replacing any earlier preference.
    pub fn set_preference(&mut self, purpose: ContactPurpose, routes: Vec<RoutePreference>) {
        self.preferences.retain(|p| p.purpose != purpose);
        self.preferences.push(ContactPreference { purpose, routes });
        self.preferences.sort_by_key(|p| p.purpose);
    }

    /// Quiet hours, when set.
    pub fn quiet_hours(&self) -> Option<&QuietHours> {
        self.quiet_hours.as_ref()
    }

    /// Coverages in order of application: ranked ones first (primary, secondary, …), then the rest.
    pub fn coverages(&self) -> Vec<&Coverage> {
        let mut all: Vec<&Coverage> = self.coverages.iter().collect();
        all.sort_by_key(|c| c.order.unwrap_or(u32::MAX));
        all
    }

    /// The primary coverage in force at `at`.
    pub fn primary_coverage(&self, at: DateTime<Utc>) -> Option<&Coverage> {
        self.coverages
            .iter()
            .find(|c| c.rank() == Some(CoverageRank::Primary) && c.is_in_force(at))
    }

    /// The care team.
    pub fn care_team(&self) -> &GeneralPractitioners {
        &self.care_team
    }

    /// Emergency contacts, from `contact` entries and related persons.
    pub fn has_emergency_contact(&self) -> bool {
        self.contacts.iter().any(PatientContact::is_emergency)
            || self.related_persons.iter().any(RelatedPerson::is_emergency)
    }

    /// The related persons who may act for the patient in `scope`.
    pub fn proxies_for(&self, scope: ProxyScope) -> Vec<&RelatedPerson> {
        self.related_persons
            .iter()
            .filter(|r| r.may_act_for(scope))
            .collect()
    }
}

/// Parses an `HH:MM[:SS]` local time.
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

#[cfg(test)]
mod tests;
