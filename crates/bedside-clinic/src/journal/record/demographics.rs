//! The parts of a stored patient record that say who the patient is and how to reach them:
//! identifiers, names, addresses, telecom, languages, contact preferences and quiet hours.

use super::common::{
    all_exposed, all_sensitive, codes, each, exposed, opt_exposed, time_of_day, zone,
};
use super::fhir::{
    ConceptRecord, Elements, FhirPeriodRecord, ReferenceRecord, elements, period_record, reference,
};
use crate::journal::JournalError;
use bedside_core::{Channel, CodeableConcept, ContactRoute, QuietHours, Sensitive};
use bedside_records::model::{
    Address, AddressType, AddressUse, AdministrativeGender, Communication, ContactPoint,
    ContactPreference, ContactPurpose, HumanName, Identifier, IdentifierUse, NameUse, OptState,
    RoutePreference, TelecomSystem, TelecomUse, Unmodelled, Verification,
};
use serde::{Deserialize, Serialize};
use serde_json::Map;

codes! {
    /// `Identifier.use`.
    IdentifierUseCode => IdentifierUse {
        Usual = "usual", Official = "official", Temp = "temp", Secondary = "secondary",
        Old = "old",
    }
}

codes! {
    /// `HumanName.use`.
    NameUseCode => NameUse {
        Usual = "usual", Official = "official", Temp = "temp", Nickname = "nickname",
        Anonymous = "anonymous", Old = "old", Maiden = "maiden",
    }
}

codes! {
    /// Administrative gender.
    GenderCode => AdministrativeGender {
        Male = "male", Female = "female", Other = "other", Unknown = "unknown",
    }
}

codes! {
    /// `Address.use`.
    AddressUseCode => AddressUse {
        Home = "home", Work = "work", Temp = "temp", Old = "old", Billing = "billing",
    }
}

codes! {
    /// `Address.type`.
    AddressTypeCode => AddressType {
        Postal = "postal", Physical = "physical", Both = "both",
    }
}

codes! {
    /// `ContactPoint.system`.
    TelecomSystemCode => TelecomSystem {
        Phone = "phone", Fax = "fax", Email = "email", Pager = "pager", Url = "url",
        Sms = "sms", Other = "other",
    }
}

codes! {
    /// `ContactPoint.use`.
    TelecomUseCode => TelecomUse {
        Home = "home", Work = "work", Temp = "temp", Old = "old", Mobile = "mobile",
    }
}

codes! {
    /// Whether a telecom value is verified.
    VerificationCode => Verification {
        Unverified = "unverified", Verified = "verified",
    }
}

codes! {
    /// What a contact preference is for.
    PurposeCode => ContactPurpose {
        AppointmentReminders = "appointment-reminders", Billing = "billing",
        Results = "results", Surveys = "surveys", Marketing = "marketing",
    }
}

codes! {
    /// Opted in or out of a route.
    OptStateCode => OptState {
        OptedIn = "opted-in", OptedOut = "opted-out",
    }
}

codes! {
    /// A contact channel.
    ChannelCode => Channel {
        Sms = "sms", Email = "email", Voice = "voice", Portal = "portal", Postal = "postal",
    }
}

/// An identifier on the patient (MRN, national id, member id, …).
#[derive(Serialize, Deserialize)]
pub struct IdentifierRecord {
    /// Its use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<IdentifierUseCode>,
    /// Its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ConceptRecord>,
    /// The namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// When valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Who issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigner: Option<ReferenceRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<IdentifierRecord> for Identifier {
    type Error = JournalError;
    fn try_from(r: IdentifierRecord) -> Result<Self, JournalError> {
        Ok(Identifier {
            use_: r.use_.map(Into::into),
            type_: r.type_.map(CodeableConcept::from),
            system: r.system,
            value: r.value.map(Sensitive::new),
            period: FhirPeriodRecord::read_opt(r.period, "identifier.period")?,
            assigner: reference(r.assigner)?,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&Identifier> for IdentifierRecord {
    fn from(i: &Identifier) -> Self {
        let Identifier {
            use_,
            type_,
            system,
            value,
            period,
            assigner,
            unmodelled,
        } = i;
        Self {
            use_: use_.map(Into::into),
            type_: type_.as_ref().map(ConceptRecord::from),
            system: system.clone(),
            value: opt_exposed(value.as_ref()),
            period: period_record(period.as_ref()),
            assigner: assigner.as_ref().map(ReferenceRecord::from),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A person's name.
#[derive(Serialize, Deserialize)]
pub struct NameRecord {
    /// Its use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<NameUseCode>,
    /// The full text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
    /// Suffixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<String>,
    /// When in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<NameRecord> for HumanName {
    type Error = JournalError;
    fn try_from(r: NameRecord) -> Result<Self, JournalError> {
        Ok(HumanName {
            use_: r.use_.map(Into::into),
            text: r.text.map(Sensitive::new),
            family: r.family.map(Sensitive::new),
            given: all_sensitive(r.given),
            prefix: all_sensitive(r.prefix),
            suffix: all_sensitive(r.suffix),
            period: FhirPeriodRecord::read_opt(r.period, "name.period")?,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&HumanName> for NameRecord {
    fn from(n: &HumanName) -> Self {
        let HumanName {
            use_,
            text,
            family,
            given,
            prefix,
            suffix,
            period,
            unmodelled,
        } = n;
        Self {
            use_: use_.map(Into::into),
            text: opt_exposed(text.as_ref()),
            family: opt_exposed(family.as_ref()),
            given: all_exposed(given),
            prefix: all_exposed(prefix),
            suffix: all_exposed(suffix),
            period: period_record(period.as_ref()),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A postal address.
#[derive(Serialize, Deserialize)]
pub struct AddressRecord {
    /// Its use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<AddressUseCode>,
    /// Postal, physical or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<AddressTypeCode>,
    /// The full text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Street lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// District.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// When in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<AddressRecord> for Address {
    type Error = JournalError;
    fn try_from(r: AddressRecord) -> Result<Self, JournalError> {
        Ok(Address {
            use_: r.use_.map(Into::into),
            type_: r.type_.map(Into::into),
            text: r.text.map(Sensitive::new),
            lines: all_sensitive(r.lines),
            city: r.city.map(Sensitive::new),
            district: r.district.map(Sensitive::new),
            state: r.state.map(Sensitive::new),
            postal_code: r.postal_code.map(Sensitive::new),
            country: r.country,
            period: FhirPeriodRecord::read_opt(r.period, "address.period")?,
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&Address> for AddressRecord {
    fn from(a: &Address) -> Self {
        let Address {
            use_,
            type_,
            text,
            lines,
            city,
            district,
            state,
            postal_code,
            country,
            period,
            unmodelled,
        } = a;
        Self {
            use_: use_.map(Into::into),
            type_: type_.map(Into::into),
            text: opt_exposed(text.as_ref()),
            lines: all_exposed(lines),
            city: opt_exposed(city.as_ref()),
            district: opt_exposed(district.as_ref()),
            state: opt_exposed(state.as_ref()),
            postal_code: opt_exposed(postal_code.as_ref()),
            country: country.clone(),
            period: period_record(period.as_ref()),
            unmodelled: elements(unmodelled),
        }
    }
}

/// A phone number, e-mail address or other telecom value.
#[derive(Serialize, Deserialize)]
pub struct TelecomRecord {
    /// Phone, e-mail, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<TelecomSystemCode>,
    /// The number or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Its use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<TelecomUseCode>,
    /// Preference order (1 first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// When in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriodRecord>,
    /// Whether it is verified.
    pub verification: VerificationCode,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl TryFrom<TelecomRecord> for ContactPoint {
    type Error = JournalError;
    fn try_from(r: TelecomRecord) -> Result<Self, JournalError> {
        Ok(ContactPoint {
            system: r.system.map(Into::into),
            value: r.value.map(Sensitive::new),
            use_: r.use_.map(Into::into),
            rank: r.rank,
            period: FhirPeriodRecord::read_opt(r.period, "telecom.period")?,
            verification: r.verification.into(),
            unmodelled: Unmodelled::new(r.unmodelled),
        })
    }
}

impl From<&ContactPoint> for TelecomRecord {
    fn from(c: &ContactPoint) -> Self {
        let ContactPoint {
            system,
            value,
            use_,
            rank,
            period,
            verification,
            unmodelled,
        } = c;
        Self {
            system: system.map(Into::into),
            value: opt_exposed(value.as_ref()),
            use_: use_.map(Into::into),
            rank: *rank,
            period: period_record(period.as_ref()),
            verification: (*verification).into(),
            unmodelled: elements(unmodelled),
        }
    }
}

/// Telecom values read back.
pub(crate) fn telecom(records: Vec<TelecomRecord>) -> Result<Vec<ContactPoint>, JournalError> {
    each(records, ContactPoint::try_from)
}

/// Telecom values as stored.
pub(crate) fn telecom_records(values: &[ContactPoint]) -> Vec<TelecomRecord> {
    values.iter().map(TelecomRecord::from).collect()
}

/// A language the patient speaks.
#[derive(Serialize, Deserialize)]
pub struct CommunicationRecord {
    /// The language (BCP-47 coding).
    pub language: ConceptRecord,
    /// Whether it is the preferred one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<bool>,
    /// Unmodelled elements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unmodelled: Elements,
}

impl From<CommunicationRecord> for Communication {
    fn from(r: CommunicationRecord) -> Self {
        Communication {
            language: r.language.into(),
            preferred: r.preferred,
            unmodelled: Unmodelled::new(r.unmodelled),
        }
    }
}

impl From<&Communication> for CommunicationRecord {
    fn from(c: &Communication) -> Self {
        let Communication {
            language,
            preferred,
            unmodelled,
        } = c;
        Self {
            language: language.into(),
            preferred: *preferred,
            unmodelled: elements(unmodelled),
        }
    }
}

/// A contact route: a channel and an address on it.
#[derive(Serialize, Deserialize)]
pub struct RouteRecord {
    /// The channel.
    pub channel: ChannelCode,
    /// The number or address.
    pub address: String,
}

impl From<RouteRecord> for ContactRoute {
    fn from(r: RouteRecord) -> Self {
        ContactRoute {
            channel: r.channel.into(),
            address: Sensitive::new(r.address),
        }
    }
}

impl From<&ContactRoute> for RouteRecord {
    fn from(r: &ContactRoute) -> Self {
        let ContactRoute { channel, address } = r;
        Self {
            channel: (*channel).into(),
            address: exposed(address),
        }
    }
}

/// One route of a preference, opted in or out.
#[derive(Serialize, Deserialize)]
pub struct RoutePreferenceRecord {
    /// The route.
    pub route: RouteRecord,
    /// In or out.
    pub state: OptStateCode,
}

/// The ordered routes for one purpose.
#[derive(Serialize, Deserialize)]
pub struct PreferenceRecord {
    /// The purpose.
    pub purpose: PurposeCode,
    /// The routes, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RoutePreferenceRecord>,
}

impl From<PreferenceRecord> for ContactPreference {
    fn from(r: PreferenceRecord) -> Self {
        ContactPreference {
            purpose: r.purpose.into(),
            routes: r
                .routes
                .into_iter()
                .map(|p| RoutePreference {
                    route: p.route.into(),
                    state: p.state.into(),
                })
                .collect(),
        }
    }
}

impl From<&ContactPreference> for PreferenceRecord {
    fn from(p: &ContactPreference) -> Self {
        let ContactPreference { purpose, routes } = p;
        Self {
            purpose: (*purpose).into(),
            routes: routes
                .iter()
                .map(|r| {
                    let RoutePreference { route, state } = r;
                    RoutePreferenceRecord {
                        route: route.into(),
                        state: (*state).into(),
                    }
                })
                .collect(),
        }
    }
}

/// When interruptive messages must not be sent: local times in a zone.
#[derive(Serialize, Deserialize)]
pub struct QuietHoursRecord {
    /// IANA zone name.
    pub zone: String,
    /// Local start, `HH:MM:SS`.
    pub start: String,
    /// Local end, `HH:MM:SS`.
    pub end: String,
}

impl TryFrom<QuietHoursRecord> for QuietHours {
    type Error = JournalError;
    fn try_from(r: QuietHoursRecord) -> Result<Self, JournalError> {
        Ok(QuietHours {
            zone: zone(&r.zone, "quiet_hours.zone")?,
            start: time_of_day(&r.start, "quiet_hours.start")?,
            end: time_of_day(&r.end, "quiet_hours.end")?,
        })
    }
}

impl From<&QuietHours> for QuietHoursRecord {
    fn from(q: &QuietHours) -> Self {
        let QuietHours { zone, start, end } = q;
        Self {
            zone: zone.name().to_string(),
            start: start.to_string(),
            end: end.to_string(),
        }
    }
}
