//! Insurance coverage: rank, classes, period.
use super::*;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// `status` code (`active`, `cancelled`, `draft`, `entered-in-error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Coverage type (e.g. v3-ActCode `EHCPOL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept>,
    /// The party who owns the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_holder: Option<Reference>,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<Reference>,
    /// The member id on the card (FHIR `subscriberId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Sensitive<String>>,
    /// The beneficiary (the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Reference>,
    /// Dependent number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent: Option<String>,
    /// Beneficiary's relationship to the subscriber (`self`, `spouse`, `child`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<CodeableConcept>,
    /// When the coverage is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// The payers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payor: Vec<Reference>,
    /// Group, plan and other classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<CoverageClass>,
    /// Order of application (1 = primary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// Network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
