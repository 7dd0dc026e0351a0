//! Who the patient is: identifiers, names, gender, deceased, addresses.
use super::*;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<IdentifierUse>,
    /// The identifier type as coded (v2-0203).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept>,
    /// The namespace URI of the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The identifier itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Sensitive<String>>,
    /// When the identifier was or is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// The assigning authority (for an MRN, the organisation that issued it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<NameUse>,
    /// The full name as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<String>>,
    /// Family name (surname).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Sensitive<String>>,
    /// Given names, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<Sensitive<String>>,
    /// Prefixes such as `Dr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<Sensitive<String>>,
    /// Suffixes such as `MSc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<Sensitive<String>>,
    /// When the name was in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<AddressUse>,
    /// `type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<AddressType>,
    /// The address as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Sensitive<String>>,
    /// Street lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Sensitive<String>>,
    /// City or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Sensitive<String>>,
    /// District or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<Sensitive<String>>,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Sensitive<String>>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Sensitive<String>>,
    /// Country (ISO 3166 code or name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// When the address was in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}
