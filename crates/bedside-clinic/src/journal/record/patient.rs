//! The stored patient record: [`PatientRecord`] and the parts not about reaching the patient
//! (contacts, related persons, coverages, care team, links).

use super::common::{codes, each, id, id_text, invalid, opt_exposed};
use super::demographics::{
    AddressRecord, CommunicationRecord, GenderCode, IdentifierRecord, NameRecord, PreferenceRecord,
    QuietHoursRecord, TelecomRecord, telecom, telecom_records,
};
use super::fhir::{
    ConceptRecord, Elements, FhirPeriodRecord, ReferenceRecord, concept_records, concepts,
    date_time, elements, period_record, reference, reference_records, references,
};
use crate::journal::JournalError;
use bedside_core::{CodeableConcept, PartialDate, QuietHours, Sensitive};
use bedside_records::model::{
    Address, Communication, ContactPreference, Coverage, CoverageClass, Deceased,
    GeneralPractitioners, HumanName, Identifier, LinkType, LogicalId, MultipleBirth, Patient,
    PatientContact, PatientLink, ProxyScope, Reference, RelatedPerson, Unmodelled,
};
use serde::{Deserialize, Serialize};
use serde_json::Map;

codes! {
    /// What a proxy may do for the patient.
    ProxyScopeCode => ProxyScope {
        Scheduling = "scheduling", Billing = "billing", Results = "results",
        Records = "records", Consent = "consent",
    }
}

codes! {
    /// How two patient records of one person relate.
    LinkTypeCode => LinkType {
        ReplacedBy = "replaced-by", Replaces = "replaces", Refer = "refer",
        Seealso = "seealso",
    }
}

/// How a resource's FHIR logical id relates to its typed id.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "value")]
pub enum LogicalIdRecord {
    /// The FHIR id is the typed id.
    #[serde(rename = "typed_id")]
    TypedId,
    /// Some other FHIR id.
    #[serde(rename = "other")]
    Other(String),
    /// No FHIR id.
    #[serde(rename = "absent")]
    Absent,
}

impl From<LogicalIdRecord> for LogicalId {
    fn from(r: LogicalIdRecord) -> Self {
        match r {
            LogicalIdRecord::TypedId => LogicalId::TypedId,
            LogicalIdRecord::Other(s) => LogicalId::Other(s),
            LogicalIdRecord::Absent => LogicalId::Absent,
        }
    }
}

impl From<&LogicalId> for LogicalIdRecord {
    fn from(l: &LogicalId) -> Self {
        match l {
            LogicalId::TypedId => LogicalIdRecord::TypedId,
            LogicalId::Other(s) => LogicalIdRecord::Other(s.clone()),
            LogicalId::Absent => LogicalIdRecord::Absent,
        }
    }
}

/// `Patient.deceased[x]`.
#[derive(Serialize, Deserialize)]
pub enum DeceasedRecord {
    /// `deceasedBoolean`.
    #[serde(rename = "flag")]
    Flag(bool),
    /// `deceasedDateTime`.
    #[serde(rename = "at")]
    At(String),
}

/// `Patient.multipleBirth[x]`.
#[derive(Serialize, Deserialize)]
pub enum MultipleBirthRecord {
    /// `multipleBirthBoolean`.
    #[serde(rename = "flag")]
    Flag(bool),
    /// `multipleBirthInteger`.
    #[serde(rename = "order")]
    Order(u32),
}

/// A contact party listed on the patient.
#[derive(Serialize, Deserialize)]
pub struct ContactRecord {
    /// Relationship codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<ConceptRecord>,
    /// Their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<NameRecord>,
    /// How to reach them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<TelecomRecord>,
    /// Their address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressRecord>,
    /// Their gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<GenderCode>,
    /// The organisation, for an organisational contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<ReferenceRecord>,
    /// When valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<ContactRecord> for PatientContact {
    type Error = JournalError;
    fn try_from(r: ContactRecord) -> Result<Self, JournalError> {
        Ok(PatientContact {
            relationship: concepts(r.relationship),
            name: r.name.map(HumanName::try_from).transpose()?,
            telecom: telecom(r.telecom)?,
            address: r.address.map(Address::try_from).transpose()?,
            gender: r.gender.map(Into::into),
            organization: reference(r.organization)?,
            period: FhirPeriodRecord::read_opt(r.period, "contact.period")?,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&PatientContact> for ContactRecord {
    fn from(c: &PatientContact) -> Self {
        let PatientContact {
            relationship,
            name,
            telecom,
            address,
            gender,
            organization,
            period,
            unmodelled,
        } = c;
        Self {
            relationship: concept_records(relationship),
            name: name.as_ref().map(NameRecord::from),
            telecom: telecom_records(telecom),
            address: address.as_ref().map(AddressRecord::from),
            gender: gender.map(Into::into),
            organization: organization.as_ref().map(ReferenceRecord::from),
            period: period_record(period.as_ref()),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A family member, guardian or caregiver, possibly a proxy.
#[derive(Serialize, Deserialize)]
pub struct RelatedPersonRecord {
    /// Typed id.
    pub id: String,
    /// FHIR logical id.
    pub logical_id: LogicalIdRecord,
    /// Whether in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The patient.
    pub patient: ReferenceRecord,
    /// Relationship codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<ConceptRecord>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<NameRecord>,
    /// Telecom.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<TelecomRecord>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<GenderCode>,
    /// Birth date (FHIR date, possibly partial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressRecord>,
    /// When the relationship holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// What they may do for the patient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxy_scopes: Vec<ProxyScopeCode>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

fn birth_date(
    text: Option<String>,
    field: &str,
) -> Result<Option<Sensitive<PartialDate>>, JournalError> {
    text.map(|t| {
        t.parse::<PartialDate>()
            .map(Sensitive::new)
            .map_err(|_| invalid(field, "a valid date"))
    })
    .transpose()
}

fn birth_date_text(d: Option<&Sensitive<PartialDate>>) -> Option<String> {
    d.map(|d| d.expose().to_string())
}

impl TryFrom<RelatedPersonRecord> for RelatedPerson {
    type Error = JournalError;
    fn try_from(r: RelatedPersonRecord) -> Result<Self, JournalError> {
        Ok(RelatedPerson {
            id: id(&r.id, "related_persons.id")?,
            logical_id: r.logical_id.into(),
            active: r.active,
            patient: r.patient.try_into()?,
            relationship: concepts(r.relationship),
            names: each(r.names, HumanName::try_from)?,
            telecom: telecom(r.telecom)?,
            gender: r.gender.map(Into::into),
            birth_date: birth_date(r.birth_date, "related_persons.birth_date")?,
            addresses: each(r.addresses, Address::try_from)?,
            period: FhirPeriodRecord::read_opt(r.period, "related_persons.period")?,
            proxy_scopes: r.proxy_scopes.into_iter().map(Into::into).collect(),
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&RelatedPerson> for RelatedPersonRecord {
    fn from(p: &RelatedPerson) -> Self {
        let RelatedPerson {
            id,
            logical_id,
            active,
            patient,
            relationship,
            names,
            telecom,
            gender,
            birth_date,
            addresses,
            period,
            proxy_scopes,
            unmodelled,
        } = p;
        Self {
            id: id_text(id),
            logical_id: logical_id.into(),
            active: *active,
            patient: patient.into(),
            relationship: concept_records(relationship),
            names: names.iter().map(NameRecord::from).collect(),
            telecom: telecom_records(telecom),
            gender: gender.map(Into::into),
            birth_date: birth_date_text(birth_date.as_ref()),
            addresses: addresses.iter().map(AddressRecord::from).collect(),
            period: period_record(period.as_ref()),
            proxy_scopes: proxy_scopes.iter().map(|s| (*s).into()).collect(),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A coverage class (group, plan, …).
#[derive(Serialize, Deserialize)]
pub struct CoverageClassRecord {
    /// The class type.
    pub type_: ConceptRecord,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

/// An insurance coverage.
#[derive(Serialize, Deserialize)]
pub struct CoverageRecord {
    /// Typed id.
    pub id: String,
    /// FHIR logical id.
    pub logical_id: LogicalIdRecord,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<IdentifierRecord>,
    /// FHIR status code (kept as text, as the model does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Coverage type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ConceptRecord>,
    /// Policy holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_holder: Option<ReferenceRecord>,
    /// Subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<ReferenceRecord>,
    /// Member id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Beneficiary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<ReferenceRecord>,
    /// Dependent number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent: Option<String>,
    /// Relationship of beneficiary to subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<ConceptRecord>,
    /// When in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Payers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payor: Vec<ReferenceRecord>,
    /// Classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<CoverageClassRecord>,
    /// Order of application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// Network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<CoverageRecord> for Coverage {
    type Error = JournalError;
    fn try_from(r: CoverageRecord) -> Result<Self, JournalError> {
        Ok(Coverage {
            id: id(&r.id, "coverages.id")?,
            logical_id: r.logical_id.into(),
            identifiers: each(r.identifiers, Identifier::try_from)?,
            status: r.status,
            type_: r.type_.map(CodeableConcept::from),
            policy_holder: reference(r.policy_holder)?,
            subscriber: reference(r.subscriber)?,
            member_id: r.member_id.map(Sensitive::new),
            beneficiary: reference(r.beneficiary)?,
            dependent: r.dependent,
            relationship: r.relationship.map(CodeableConcept::from),
            period: FhirPeriodRecord::read_opt(r.period, "coverages.period")?,
            payor: references(r.payor)?,
            classes: r
                .classes
                .into_iter()
                .map(|c| CoverageClass {
                    type_: c.type_.into(),
                    value: c.value,
                    name: c.name,
                    unmodelled: Unmodelled::new(c.unmodelled),
                })
                .collect(),
            order: r.order,
            network: r.network,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&CoverageClass> for CoverageClassRecord {
    fn from(c: &CoverageClass) -> Self {
        let CoverageClass {
            type_,
            value,
            name,
            unmodelled,
        } = c;
        Self {
            type_: type_.into(),
            value: value.clone(),
            name: name.clone(),
            unmodelled: elements(unmodelled),
        }
    }
}

impl From<&Coverage> for CoverageRecord {
    fn from(c: &Coverage) -> Self {
        let Coverage {
            id,
            logical_id,
            identifiers,
            status,
            type_,
            policy_holder,
            subscriber,
            member_id,
            beneficiary,
            dependent,
            relationship,
            period,
            payor,
            classes,
            order,
            network,
            unmodelled,
        } = c;
        let reference = |r: &Option<Reference>| r.as_ref().map(ReferenceRecord::from);
        Self {
            id: id_text(id),
            logical_id: logical_id.into(),
            identifiers: identifiers.iter().map(IdentifierRecord::from).collect(),
            status: status.clone(),
            type_: type_.as_ref().map(ConceptRecord::from),
            policy_holder: reference(policy_holder),
            subscriber: reference(subscriber),
            member_id: opt_exposed(member_id.as_ref()),
            beneficiary: reference(beneficiary),
            dependent: dependent.clone(),
            relationship: relationship.as_ref().map(ConceptRecord::from),
            period: period_record(period.as_ref()),
            payor: reference_records(payor),
            classes: classes.iter().map(CoverageClassRecord::from).collect(),
            order: *order,
            network: network.clone(),
            unmodelled: elements(unmodelled),
        }
    }
}

/// The practitioners the patient is registered with, the first being the primary.
#[derive(Default, Serialize, Deserialize)]
pub struct CareTeamRecord {
    /// `Patient.generalPractitioner`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioners: Vec<ReferenceRecord>,
}

impl CareTeamRecord {
    /// Whether no practitioner is listed (format 2 then leaves the field out).
    pub fn is_empty(&self) -> bool {
        self.general_practitioners.is_empty()
    }
}

/// A link to another record of the same person.
#[derive(Serialize, Deserialize)]
pub struct LinkRecord {
    /// The other record.
    pub other: ReferenceRecord,
    /// How they relate.
    pub type_: LinkTypeCode,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<LinkRecord> for PatientLink {
    type Error = JournalError;
    fn try_from(r: LinkRecord) -> Result<Self, JournalError> {
        Ok(PatientLink {
            other: r.other.try_into()?,
            type_: r.type_.into(),
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&PatientLink> for LinkRecord {
    fn from(l: &PatientLink) -> Self {
        let PatientLink {
            other,
            type_,
            unmodelled,
        } = l;
        Self {
            other: other.into(),
            type_: (*type_).into(),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A patient's record: demographics, contact routes and preferences, contacts, related
/// persons, coverages and care team.
#[derive(Serialize, Deserialize)]
pub struct PatientRecord {
    /// Typed id.
    pub id: String,
    /// FHIR logical id.
    pub logical_id: LogicalIdRecord,
    /// Whether in active use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<IdentifierRecord>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<NameRecord>,
    /// Birth date (FHIR date, possibly partial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// Administrative gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<GenderCode>,
    /// Deceased flag or date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased: Option<DeceasedRecord>,
    /// Marital status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<ConceptRecord>,
    /// Multiple birth flag or order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_birth: Option<MultipleBirthRecord>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressRecord>,
    /// Telecom.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<TelecomRecord>,
    /// Languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communication: Vec<CommunicationRecord>,
    /// Whether an interpreter is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter_needed: Option<bool>,
    /// Contact routes per purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<PreferenceRecord>,
    /// Quiet hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHoursRecord>,
    /// Contact parties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<ContactRecord>,
    /// Related persons and proxies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_persons: Vec<RelatedPersonRecord>,
    /// Coverages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverages: Vec<CoverageRecord>,
    /// Care team (format 1 always spells it out).
    #[serde(default, skip_serializing_if = "CareTeamRecord::is_empty")]
    pub care_team: CareTeamRecord,
    /// The custodian organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<ReferenceRecord>,
    /// Links to other records of the same person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<PatientRecord> for Patient {
    type Error = JournalError;
    fn try_from(r: PatientRecord) -> Result<Self, JournalError> {
        Ok(Patient {
            id: id(&r.id, "patient.id")?,
            logical_id: r.logical_id.into(),
            active: r.active,
            identifiers: each(r.identifiers, Identifier::try_from)?,
            names: each(r.names, HumanName::try_from)?,
            birth_date: birth_date(r.birth_date, "patient.birth_date")?,
            gender: r.gender.map(Into::into),
            deceased: match r.deceased {
                None => None,
                Some(DeceasedRecord::Flag(b)) => Some(Deceased::Flag(b)),
                Some(DeceasedRecord::At(t)) => {
                    Some(Deceased::At(date_time(&t, "patient.deceased")?))
                }
            },
            marital_status: r.marital_status.map(CodeableConcept::from),
            multiple_birth: r.multiple_birth.map(|m| match m {
                MultipleBirthRecord::Flag(b) => MultipleBirth::Flag(b),
                MultipleBirthRecord::Order(n) => MultipleBirth::Order(n),
            }),
            addresses: each(r.addresses, Address::try_from)?,
            telecom: telecom(r.telecom)?,
            communication: r
                .communication
                .into_iter()
                .map(Communication::from)
                .collect(),
            interpreter_needed: r.interpreter_needed,
            preferences: r
                .preferences
                .into_iter()
                .map(ContactPreference::from)
                .collect(),
            quiet_hours: r.quiet_hours.map(QuietHours::try_from).transpose()?,
            contacts: each(r.contacts, PatientContact::try_from)?,
            related_persons: each(r.related_persons, RelatedPerson::try_from)?,
            coverages: each(r.coverages, Coverage::try_from)?,
            care_team: GeneralPractitioners {
                general_practitioners: references(r.care_team.general_practitioners)?,
            },
            managing_organization: reference(r.managing_organization)?,
            links: each(r.links, PatientLink::try_from)?,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&Patient> for PatientRecord {
    fn from(p: &Patient) -> Self {
        let Patient {
            id,
            logical_id,
            active,
            identifiers,
            names,
            birth_date,
            gender,
            deceased,
            marital_status,
            multiple_birth,
            addresses,
            telecom,
            communication,
            interpreter_needed,
            preferences,
            quiet_hours,
            contacts,
            related_persons,
            coverages,
            care_team,
            managing_organization,
            links,
            unmodelled,
        } = p;
        let GeneralPractitioners {
            general_practitioners,
        } = care_team;
        Self {
            id: id_text(id),
            logical_id: logical_id.into(),
            active: *active,
            identifiers: identifiers.iter().map(IdentifierRecord::from).collect(),
            names: names.iter().map(NameRecord::from).collect(),
            birth_date: birth_date_text(birth_date.as_ref()),
            gender: gender.map(Into::into),
            deceased: deceased.as_ref().map(|d| match d {
                Deceased::Flag(b) => DeceasedRecord::Flag(*b),
                Deceased::At(t) => DeceasedRecord::At(t.as_str().to_string()),
            }),
            marital_status: marital_status.as_ref().map(ConceptRecord::from),
            multiple_birth: multiple_birth.map(|m| match m {
                MultipleBirth::Flag(b) => MultipleBirthRecord::Flag(b),
                MultipleBirth::Order(n) => MultipleBirthRecord::Order(n),
            }),
            addresses: addresses.iter().map(AddressRecord::from).collect(),
            telecom: telecom_records(telecom),
            communication: communication
                .iter()
                .map(CommunicationRecord::from)
                .collect(),
            interpreter_needed: *interpreter_needed,
            preferences: preferences.iter().map(PreferenceRecord::from).collect(),
            quiet_hours: quiet_hours.as_ref().map(QuietHoursRecord::from),
            contacts: contacts.iter().map(ContactRecord::from).collect(),
            related_persons: related_persons
                .iter()
                .map(RelatedPersonRecord::from)
                .collect(),
            coverages: coverages.iter().map(CoverageRecord::from).collect(),
            care_team: CareTeamRecord {
                general_practitioners: reference_records(general_practitioners),
            },
            managing_organization: managing_organization.as_ref().map(ReferenceRecord::from),
            links: links.iter().map(LinkRecord::from).collect(),
            unmodelled: elements(unmodelled),
        }
    }
}
