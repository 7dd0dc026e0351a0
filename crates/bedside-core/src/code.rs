//! Coded values: [`Coding`], [`CodeableConcept`] and the code systems Bedside uses.

use serde::{Deserialize, Serialize};

/// Canonical URIs of the code systems used across Bedside, as FHIR R4 names them.
pub mod system {
    /// LOINC: laboratory and clinical observations (vital signs, panels, survey items).
    pub const LOINC: &str = "http://loinc.org";
    /// SNOMED CT: clinical terms (conditions, substances, procedures).
    pub const SNOMED_CT: &str = "http://snomed.info/sct";
    /// UCUM: units of measure.
    pub const UCUM: &str = "http://unitsofmeasure.org";
    /// ICD-10-CM: US diagnosis codes.
    pub const ICD_10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
    /// CPT: US procedure codes (AMA).
    pub const CPT: &str = "http://www.ama-assn.org/go/cpt";
    /// HCPCS Level II: US supplies and services codes.
    pub const HCPCS: &str = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
    /// HL7 v3 ActReason, which contains the PurposeOfUse codes (TREAT, HPAYMT, …).
    pub const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    /// HL7 v3 Confidentiality (N, R, V, …).
    pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    /// HL7 v3 ActCode, which contains the sensitivity labels (PSY, ETH, HIV, …).
    pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// HL7 v3 RoleCode: relationships such as parent, guardian, child.
    pub const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
    /// RxNorm: US medication codes.
    pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
    /// BCP-47 language tags (used as a code system by FHIR).
    pub const BCP_47: &str = "urn:ietf:bcp:47";
}

/// PurposeOfUse codes (HL7 v3 ActReason) that Bedside refers to by name.
pub mod purpose {
    /// Treatment.
    pub const TREAT: &str = "TREAT";
    /// Emergency treatment (break-the-glass).
    pub const ETREAT: &str = "ETREAT";
    /// Healthcare payment.
    pub const HPAYMT: &str = "HPAYMT";
    /// Healthcare operations.
    pub const HOPERAT: &str = "HOPERAT";
    /// Patient requested (right of access).
    pub const PATRQT: &str = "PATRQT";
    /// Family requested.
    pub const FAMRQT: &str = "FAMRQT";
    /// Public health.
    pub const PUBHLTH: &str = "PUBHLTH";
    /// Healthcare research.
    pub const HRESCH: &str = "HRESCH";
    /// Marketing.
    pub const MARKT: &str = "MARKT";
}

/// Sensitivity labels (HL7 v3 ActCode) that Bedside refers to by name.
pub mod sensitivity {
    /// Substance abuse information (42 CFR Part 2).
    pub const ETH: &str = "ETH";
    /// Psychiatry / mental health information.
    pub const PSY: &str = "PSY";
    /// Psychotherapy notes.
    pub const PSYTHPN: &str = "PSYTHPN";
    /// HIV/AIDS information.
    pub const HIV: &str = "HIV";
    /// Sexual assault, abuse or domestic violence information.
    pub const SDV: &str = "SDV";
    /// Sexuality and reproductive health information.
    pub const SEX: &str = "SEX";
    /// Sexually transmitted disease information.
    pub const STD: &str = "STD";
    /// Genetic disease information.
    pub const GDIS: &str = "GDIS";
}

/// Confidentiality codes (HL7 v3 Confidentiality).
pub mod confidentiality {
    /// Normal.
    pub const N: &str = "N";
    /// Restricted.
    pub const R: &str = "R";
    /// Very restricted.
    pub const V: &str = "V";
}

/// One code from one code system, as FHIR `Coding`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Coding {
    /// The code system URI (see [`system`]).
    pub system: String,
    /// The code within the system.
    pub code: String,
    /// A human-readable display, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// Creates a coding without a display.
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            code: code.into(),
            display: None,
        }
    }

    /// Sets the display text.
    #[must_use]
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }

    /// Whether this coding is `code` in `system`.
    pub fn is(&self, system: &str, code: &str) -> bool {
        self.system == system && self.code == code
    }
}

/// A concept expressed by zero or more codings plus optional text, as FHIR `CodeableConcept`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CodeableConcept {
    /// Codings that express the concept, possibly in several systems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain-text representation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept with a single coding.
    pub fn from_coding(coding: Coding) -> Self {
        Self {
            coding: vec![coding],
            text: None,
        }
    }

    /// Whether any coding is `code` in `system`.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding.iter().any(|c| c.is(system, code))
    }

    /// The first coding in `system`, if any.
    pub fn coding_in(&self, system: &str) -> Option<&Coding> {
        self.coding.iter().find(|c| c.system == system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concept_lookup() {
        let bp = CodeableConcept::from_coding(
            Coding::new(system::LOINC, "85354-9").with_display("Blood pressure panel"),
        );
        assert!(bp.has(system::LOINC, "85354-9"));
        assert!(!bp.has(system::SNOMED_CT, "85354-9"));
        assert_eq!(
            bp.coding_in(system::LOINC).map(|c| c.code.as_str()),
            Some("85354-9")
        );
    }

    #[test]
    fn serde_skips_empty_fields() -> Result<(), serde_json::Error> {
        let c = CodeableConcept::from_coding(Coding::new(system::ACT_REASON, purpose::TREAT));
        assert_eq!(
            serde_json::to_string(&c)?,
            r#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}"#
        );
        Ok(())
    }
}
