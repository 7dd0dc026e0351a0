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

/// What an identifier identifies the patient as, derived from its type coding or system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// Medical record number, assigned by a provider organisation (v2-0203 `MR`).
    MedicalRecordNumber,
    /// A national person id such as the NHS number or SSN (`NI`, `NH`, `SS`, `SB`).
    NationalId,
    /// An insurance member id (`MB`, `SN`, `MC`, or the MBI system).
    InsuranceMember,
    /// Driver's licence (`DL`).
    DriversLicence,
    /// Passport (`PPN`).
    Passport,
    /// A provider identifier such as the NPI (`NPI`, `PRN`).
    Provider,
    /// Anything else.
    Other,
}

impl IdentifierKind {
    /// The v2-0203 code written for this kind when building identifiers in Rust.
    pub fn type_code(&self) -> Option<&'static str> {
        Some(match self {
            IdentifierKind::MedicalRecordNumber => "MR",
            IdentifierKind::NationalId => "NI",
            IdentifierKind::InsuranceMember => "MB",
            IdentifierKind::DriversLicence => "DL",
            IdentifierKind::Passport => "PPN",
            IdentifierKind::Provider => "NPI",
            IdentifierKind::Other => return None,
        })
    }

    fn from_type_code(code: &str) -> Option<Self> {
        Some(match code {
            "MR" => IdentifierKind::MedicalRecordNumber,
            "NI" | "NH" | "SS" | "SB" | "NNxxx" => IdentifierKind::NationalId,
            "MB" | "SN" | "MC" | "MA" => IdentifierKind::InsuranceMember,
            "DL" => IdentifierKind::DriversLicence,
            "PPN" => IdentifierKind::Passport,
            "NPI" | "PRN" => IdentifierKind::Provider,
            _ => return None,
        })
    }

    fn from_system(system: &str) -> Option<Self> {
        Some(match system {
            NHS_NUMBER_SYSTEM | SSN_SYSTEM => IdentifierKind::NationalId,
            NPI_SYSTEM => IdentifierKind::Provider,
            MBI_SYSTEM => IdentifierKind::InsuranceMember,
            _ => return None,
        })
    }
}

/// FHIR `Identifier.use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierUse {
    /// `usual`.
    Usual,
    /// `official`.
    Official,
    /// `temp`.
    Temp,
    /// `secondary`.
    Secondary,
    /// `old`.
    Old,
}

/// An identifier of a person: kind, issuing system, value (sensitive), assigning authority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    /// `use`.
    pub use_: Option<IdentifierUse>,
    /// The identifier type as coded (v2-0203).
    pub type_: Option<CodeableConcept>,
    /// The namespace URI of the value.
    pub system: Option<String>,
    /// The identifier itself.
    pub value: Option<Sensitive<String>>,
    /// When the identifier was or is valid.
    pub period: Option<FhirPeriod>,
    /// The assigning authority (for an MRN, the organisation that issued it).
    pub assigner: Option<Reference>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Identifier {
    /// An identifier of `kind` in `system`, typed with the kind's v2-0203 code.
    pub fn new(kind: IdentifierKind, system: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            use_: None,
            type_: kind.type_code().map(|c| {
                CodeableConcept::from_coding(bedside_core::Coding::new(IDENTIFIER_TYPE_SYSTEM, c))
            }),
            system: Some(system.into()),
            value: Some(Sensitive::new(value.into())),
            period: None,
            assigner: None,
            unmodelled: Unmodelled::default(),
        }
    }

    /// Sets the assigning authority.
    #[must_use]
    pub fn assigned_by(mut self, assigner: Reference) -> Self {
        self.assigner = Some(assigner);
        self
    }

    /// The kind, from the type coding when present, else from a well-known system.
    pub fn kind(&self) -> IdentifierKind {
        self.type_
            .as_ref()
            .and_then(|t| t.coding_in(IDENTIFIER_TYPE_SYSTEM))
            .and_then(|c| IdentifierKind::from_type_code(&c.code))
            .or_else(|| self.system.as_deref().and_then(IdentifierKind::from_system))
            .unwrap_or(IdentifierKind::Other)
    }
}

/// FHIR `HumanName.use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameUse {
    /// `usual`: the name normally used.
    Usual,
    /// `official`: the registered name.
    Official,
    /// `temp`.
    Temp,
    /// `nickname`.
    Nickname,
    /// `anonymous`.
    Anonymous,
    /// `old`: no longer in use.
    Old,
    /// `maiden`: the name before marriage.
    Maiden,
}

/// A person's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanName {
    /// `use`.
    pub use_: Option<NameUse>,
    /// The full name as text.
    pub text: Option<Sensitive<String>>,
    /// Family name (surname).
    pub family: Option<Sensitive<String>>,
    /// Given names, in order.
    pub given: Vec<Sensitive<String>>,
    /// Prefixes such as `Dr`.
    pub prefix: Vec<Sensitive<String>>,
    /// Suffixes such as `MSc`.
    pub suffix: Vec<Sensitive<String>>,
    /// When the name was in use.
    pub period: Option<FhirPeriod>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl HumanName {
    /// A name with a use, given names and a family name.
    pub fn new(use_: NameUse, given: &[&str], family: &str) -> Self {
        Self {
            use_: Some(use_),
            family: Some(Sensitive::new(family.to_string())),
            given: given
                .iter()
                .map(|g| Sensitive::new(g.to_string()))
                .collect(),
            ..Self::default()
        }
    }

    /// Whether the name carries any text at all.
    pub fn is_blank(&self) -> bool {
        let blank = |s: &Sensitive<String>| s.expose().trim().is_empty();
        self.text.as_ref().is_none_or(blank)
            && self.family.as_ref().is_none_or(blank)
            && self.given.iter().all(blank)
    }
}

/// FHIR `AdministrativeGender`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdministrativeGender {
    /// `male`.
    Male,
    /// `female`.
    Female,
    /// `other`.
    Other,
    /// `unknown`.
    Unknown,
}

/// FHIR `Patient.deceased[x]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deceased {
    /// `deceasedBoolean`.
    Flag(bool),
    /// `deceasedDateTime`.
    At(FhirDateTime),
}

/// FHIR `Address.use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressUse {
    /// `home`.
    Home,
    /// `work`.
    Work,
    /// `temp`.
    Temp,
    /// `old`.
    Old,
    /// `billing`.
    Billing,
}

/// FHIR `Address.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressType {
    /// `postal`.
    Postal,
    /// `physical`.
    Physical,
    /// `both`.
    Both,
}

/// A postal or physical address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// `use`.
    pub use_: Option<AddressUse>,
    /// `type`.
    pub type_: Option<AddressType>,
    /// The address as text.
    pub text: Option<Sensitive<String>>,
    /// Street lines.
    pub lines: Vec<Sensitive<String>>,
    /// City or town.
    pub city: Option<Sensitive<String>>,
    /// District or county.
    pub district: Option<Sensitive<String>>,
    /// State, province or region.
    pub state: Option<Sensitive<String>>,
    /// Postal code.
    pub postal_code: Option<Sensitive<String>>,
    /// Country (ISO 3166 code or name).
    pub country: Option<String>,
    /// When the address was in use.
    pub period: Option<FhirPeriod>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

/// FHIR `ContactPoint.system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelecomSystem {
    /// `phone`.
    Phone,
    /// `fax`.
    Fax,
    /// `email`.
    Email,
    /// `pager`.
    Pager,
    /// `url`.
    Url,
    /// `sms`.
    Sms,
    /// `other`.
    Other,
}

/// FHIR `ContactPoint.use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelecomUse {
    /// `home`.
    Home,
    /// `work`.
    Work,
    /// `temp`.
    Temp,
    /// `old`.
    Old,
    /// `mobile`.
    Mobile,
}

/// Whether a telecom value has been confirmed to reach the person (a code was sent and
/// returned, or staff confirmed it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Not confirmed.
    #[default]
    Unverified,
    /// Confirmed.
    Verified,
}

/// A phone number, e-mail address or other telecom route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactPoint {
    /// `system`.
    pub system: Option<TelecomSystem>,
    /// The number or address.
    pub value: Option<Sensitive<String>>,
    /// `use`.
    pub use_: Option<TelecomUse>,
    /// Preference order, 1 = most preferred.
    pub rank: Option<u32>,
    /// When the route was in use.
    pub period: Option<FhirPeriod>,
    /// Whether the route was confirmed (a Bedside extension in FHIR).
    pub verification: Verification,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl ContactPoint {
    /// A contact point of `system` with `value` and `use`.
    pub fn new(system: TelecomSystem, value: impl Into<String>, use_: Option<TelecomUse>) -> Self {
        Self {
            system: Some(system),
            value: Some(Sensitive::new(value.into())),
            use_,
            rank: None,
            period: None,
            verification: Verification::Unverified,
            unmodelled: Unmodelled::default(),
        }
    }

    /// The outreach route this contact point offers, if any: mobile phones and `sms` take
    /// text messages, other phones voice calls, e-mail e-mail.
    pub fn route(&self) -> Option<ContactRoute> {
        let value = self.value.as_ref()?.expose();
        let channel = match (self.system?, self.use_) {
            (TelecomSystem::Sms, _) | (TelecomSystem::Phone, Some(TelecomUse::Mobile)) => {
                Channel::Sms
            }
            (TelecomSystem::Phone, _) => Channel::Voice,
            (TelecomSystem::Email, _) => Channel::Email,
            _ => return None,
        };
        Some(ContactRoute::new(channel, value.clone()))
    }
}

/// A language the patient communicates in (FHIR `Patient.communication`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    /// The language, as coded (BCP-47 in `urn:ietf:bcp:47`).
    pub language: CodeableConcept,
    /// Whether this is the preferred language.
    pub preferred: Option<bool>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Communication {
    /// The patient's preferred language (BCP-47), `preferred: true`.
    pub fn preferred(language: &Language) -> Self {
        Self::with_preference(language, true)
    }

    /// Another language the patient speaks (BCP-47), `preferred: false`.
    pub fn spoken(language: &Language) -> Self {
        Self::with_preference(language, false)
    }

    fn with_preference(language: &Language, preferred: bool) -> Self {
        Self {
            language: CodeableConcept::from_coding(bedside_core::Coding::new(
                code::system::BCP_47,
                language.as_str(),
            )),
            preferred: Some(preferred),
            unmodelled: Unmodelled::default(),
        }
    }

    /// The language tag, when coded in BCP-47 and well formed.
    pub fn tag(&self) -> Option<Language> {
        self.language
            .coding_in(code::system::BCP_47)
            .and_then(|c| Language::new(&c.code).ok())
    }
}

/// Why the clinic contacts a patient (reminders, billing, results, …); preferences are kept per
/// contact purpose. Not a purpose of use: that is `bedside_consent::Purpose` (HL7 PurposeOfUse),
/// which says why data is accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactPurpose {
    /// Appointment reminders and changes.
    AppointmentReminders,
    /// Statements and payment matters.
    Billing,
    /// Test results and clinical follow-up.
    Results,
    /// Experience surveys.
    Surveys,
    /// Marketing and newsletters: never contacted without an explicit opt-in.
    Marketing,
}

impl ContactPurpose {
    /// All purposes.
    pub const ALL: [ContactPurpose; 5] = [
        ContactPurpose::AppointmentReminders,
        ContactPurpose::Billing,
        ContactPurpose::Results,
        ContactPurpose::Surveys,
        ContactPurpose::Marketing,
    ];

    /// The kebab-case code (`appointment-reminders`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            ContactPurpose::AppointmentReminders => "appointment-reminders",
            ContactPurpose::Billing => "billing",
            ContactPurpose::Results => "results",
            ContactPurpose::Surveys => "surveys",
            ContactPurpose::Marketing => "marketing",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Self> {
        ContactPurpose::ALL.into_iter().find(|p| p.as_str() == code)
    }
}

/// Whether the patient agreed to be contacted on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptState {
    /// The patient asked to be contacted this way.
    OptedIn,
    /// The patient asked not to be contacted this way.
    OptedOut,
}

impl OptState {
    /// The kebab-case code.
    pub fn as_str(&self) -> &'static str {
        match self {
            OptState::OptedIn => "opted-in",
            OptState::OptedOut => "opted-out",
        }
    }
}

/// One route in a purpose's ordered list, with its opt-in state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoutePreference {
    /// The route.
    pub route: ContactRoute,
    /// Opt-in or opt-out.
    pub state: OptState,
}

/// The patient's ordered routes for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactPreference {
    /// The purpose.
    pub purpose: ContactPurpose,
    /// Routes in order of preference.
    pub routes: Vec<RoutePreference>,
}

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
    pub relationship: Vec<CodeableConcept>,
    /// The contact's name.
    pub name: Option<HumanName>,
    /// How to reach them.
    pub telecom: Vec<ContactPoint>,
    /// Their address.
    pub address: Option<Address>,
    /// Their gender.
    pub gender: Option<AdministrativeGender>,
    /// The organisation, for an organisational contact.
    pub organization: Option<Reference>,
    /// When the contact is valid.
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
    pub active: Option<bool>,
    /// The patient this person is related to.
    pub patient: Reference,
    /// Relationship codes (v3 RoleCode or v2-0131).
    pub relationship: Vec<CodeableConcept>,
    /// Names.
    pub names: Vec<HumanName>,
    /// Telecom.
    pub telecom: Vec<ContactPoint>,
    /// Gender.
    pub gender: Option<AdministrativeGender>,
    /// Birth date.
    pub birth_date: Option<Sensitive<PartialDate>>,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// When the relationship holds.
    pub period: Option<FhirPeriod>,
    /// What this person may do for the patient (empty: not a proxy).
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

/// Coverage order: 1 primary, 2 secondary, 3 tertiary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageRank {
    /// Pays first.
    Primary,
    /// Pays second.
    Secondary,
    /// Pays third.
    Tertiary,
}

impl CoverageRank {
    /// The FHIR `order` value.
    pub fn order(&self) -> u32 {
        match self {
            CoverageRank::Primary => 1,
            CoverageRank::Secondary => 2,
            CoverageRank::Tertiary => 3,
        }
    }
}

/// One `Coverage.class` entry (`group`, `plan`, `subgroup`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageClass {
    /// The class type (coverage-class system).
    pub type_: CodeableConcept,
    /// The value (group number, plan id).
    pub value: Option<String>,
    /// Human-readable name.
    pub name: Option<String>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

/// The coverage-class code system.
pub const COVERAGE_CLASS_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/coverage-class";

/// An insurance coverage (FHIR `Coverage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Typed id.
    pub id: CoverageId,
    /// FHIR logical id.
    pub logical_id: LogicalId,
    /// Business identifiers of the coverage (policy or certificate numbers).
    pub identifiers: Vec<Identifier>,
    /// `status` code (`active`, `cancelled`, `draft`, `entered-in-error`).
    pub status: Option<String>,
    /// Coverage type (e.g. v3-ActCode `EHCPOL`).
    pub type_: Option<CodeableConcept>,
    /// The party who owns the policy.
    pub policy_holder: Option<Reference>,
    /// The subscriber.
    pub subscriber: Option<Reference>,
    /// The member id on the card (FHIR `subscriberId`).
    pub member_id: Option<Sensitive<String>>,
    /// The beneficiary (the patient).
    pub beneficiary: Option<Reference>,
    /// Dependent number.
    pub dependent: Option<String>,
    /// Beneficiary's relationship to the subscriber (`self`, `spouse`, `child`, …).
    pub relationship: Option<CodeableConcept>,
    /// When the coverage is in force.
    pub period: Option<FhirPeriod>,
    /// The payers.
    pub payor: Vec<Reference>,
    /// Group, plan and other classes.
    pub classes: Vec<CoverageClass>,
    /// Order of application (1 = primary).
    pub order: Option<u32>,
    /// Network.
    pub network: Option<String>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Coverage {
    /// An active coverage of `beneficiary` with a payer reference and a member id: `status`,
    /// `beneficiary` and `payor`, which R4 requires, are set from the start.
    pub fn new(
        id: CoverageId,
        beneficiary: PatientId,
        payer: Reference,
        member_id: impl Into<String>,
    ) -> Self {
        Self {
            id,
            logical_id: LogicalId::TypedId,
            identifiers: Vec::new(),
            status: Some("active".into()),
            type_: None,
            policy_holder: None,
            subscriber: None,
            member_id: Some(Sensitive::new(member_id.into())),
            beneficiary: Some(Reference::relative("Patient", beneficiary)),
            dependent: None,
            relationship: None,
            period: None,
            payor: vec![payer],
            classes: Vec::new(),
            order: None,
            network: None,
            unmodelled: Unmodelled::default(),
        }
    }

    /// The rank (primary, secondary, tertiary) when `order` is 1–3.
    pub fn rank(&self) -> Option<CoverageRank> {
        match self.order {
            Some(1) => Some(CoverageRank::Primary),
            Some(2) => Some(CoverageRank::Secondary),
            Some(3) => Some(CoverageRank::Tertiary),
            _ => None,
        }
    }

    /// The value of the class of `class_code` (`group`, `plan`, …).
    pub fn class_value(&self, class_code: &str) -> Option<&str> {
        self.classes
            .iter()
            .find(|c| c.type_.has(COVERAGE_CLASS_SYSTEM, class_code))
            .and_then(|c| c.value.as_deref())
    }

    /// The group number.
    pub fn group(&self) -> Option<&str> {
        self.class_value("group")
    }

    /// The plan id.
    pub fn plan(&self) -> Option<&str> {
        self.class_value("plan")
    }

    /// Whether the coverage is active (status `active` or absent) at `at`.
    pub fn is_in_force(&self, at: DateTime<Utc>) -> bool {
        self.status.as_deref().is_none_or(|s| s == "active")
            && self.period.as_ref().is_none_or(|p| time::contains(p, at))
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
    pub active: Option<bool>,
    /// Identifiers (MRNs, national ids, member ids, licences, passports).
    pub identifiers: Vec<Identifier>,
    /// Names.
    pub names: Vec<HumanName>,
    /// Birth date, possibly partial.
    pub birth_date: Option<Sensitive<PartialDate>>,
    /// Administrative gender.
    pub gender: Option<AdministrativeGender>,
    /// Deceased flag or date-time.
    pub deceased: Option<Deceased>,
    /// Marital status (v3-MaritalStatus).
    pub marital_status: Option<CodeableConcept>,
    /// Whether the patient is part of a multiple birth, or their birth order.
    pub multiple_birth: Option<MultipleBirth>,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Phones, e-mail addresses and other telecom.
    pub telecom: Vec<ContactPoint>,
    /// Languages.
    pub communication: Vec<Communication>,
    /// Whether an interpreter is needed (FHIR extension `patient-interpreterRequired`).
    pub interpreter_needed: Option<bool>,
    /// Ordered contact routes per purpose.
    pub preferences: Vec<ContactPreference>,
    /// When interruptive messages must not be sent.
    pub quiet_hours: Option<QuietHours>,
    /// Contact parties, including emergency contacts.
    pub contacts: Vec<PatientContact>,
    /// Related persons and proxies (separate FHIR resources).
    pub related_persons: Vec<RelatedPerson>,
    /// Insurance coverages (separate FHIR resources).
    pub coverages: Vec<Coverage>,
    /// Care team.
    pub care_team: GeneralPractitioners,
    /// The organisation that is the custodian of the record.
    pub managing_organization: Option<Reference>,
    /// Links to other patient records for the same person (duplicates, replacements).
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
mod tests {
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
        let mut home =
            ContactPoint::new(TelecomSystem::Phone, "+15550000001", Some(TelecomUse::Home));
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
}
