//! Clinical summary entries linked to a patient: allergies and intolerances, conditions,
//! medication statements, encounters and document references, each with sensitivity labels and
//! a confidentiality code that the consent engine reads.

use crate::model::{FhirDateTime, FhirPeriod, LogicalId, Reference, Unmodelled};
use bedside_core::{CodeableConcept, Coding, EncounterId, PatientId, Sensitive, code};
use serde::{Deserialize, Serialize};

bedside_core::define_id! {
    /// A clinical summary entry (allergy, condition, medication statement, encounter, document).
    ClinicalEntryId
}

/// HL7 v3 Confidentiality level: the workspace-wide [`bedside_core::Confidentiality`],
/// re-exported here so `bedside_records::clinical::Confidentiality` keeps working.
pub use bedside_core::Confidentiality;

/// The security labels of an entry (FHIR `meta.security`): sensitivity codes from HL7 v3
/// ActCode (`PSY`, `ETH`, `HIV`, `SEX`, `GDIS`, …) and one confidentiality code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecurityLabels {
    /// Sensitivity labels, as v3-ActCode codings.
    pub sensitivity: Vec<Coding>,
    /// Confidentiality, when labelled.
    pub confidentiality: Option<Confidentiality>,
}

impl SecurityLabels {
    /// Labels with the given sensitivity codes (v3-ActCode) and confidentiality.
    pub fn new(sensitivity: &[&str], confidentiality: Option<Confidentiality>) -> Self {
        Self {
            sensitivity: sensitivity
                .iter()
                .map(|c| Coding::new(code::system::ACT_CODE, *c))
                .collect(),
            confidentiality,
        }
    }

    /// Whether the entry carries the sensitivity code `code`.
    pub fn has_sensitivity(&self, code: &str) -> bool {
        self.sensitivity
            .iter()
            .any(|c| c.is(bedside_core::code::system::ACT_CODE, code))
    }

    /// Every label as a [`Coding`]: the sensitivity codes, then the confidentiality code, as
    /// FHIR `meta.security` carries them.
    pub fn codings(&self) -> Vec<Coding> {
        let mut all = self.sensitivity.clone();
        all.extend(self.confidentiality.map(|c| c.coding()));
        all
    }

    /// The confidentiality to apply: the labelled one, else restricted when any sensitivity
    /// label is present, else normal.
    pub fn effective_confidentiality(&self) -> Confidentiality {
        self.confidentiality
            .unwrap_or(if self.sensitivity.is_empty() {
                Confidentiality::Normal
            } else {
                Confidentiality::Restricted
            })
    }
}

/// `AllergyIntolerance.criticality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criticality {
    /// `low`.
    Low,
    /// `high`.
    High,
    /// `unable-to-assess`.
    UnableToAssess,
}

/// `AllergyIntolerance.reaction.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReactionSeverity {
    /// `mild`.
    Mild,
    /// `moderate`.
    Moderate,
    /// `severe`.
    Severe,
}

/// One reaction event of an allergy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// The specific substance.
    pub substance: Option<CodeableConcept>,
    /// Clinical manifestations.
    pub manifestation: Vec<CodeableConcept>,
    /// Free-text description.
    pub description: Option<Sensitive<String>>,
    /// When the reaction began.
    pub onset: Option<FhirDateTime>,
    /// Severity.
    pub severity: Option<ReactionSeverity>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

/// An allergy or intolerance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllergyIntolerance {
    /// `clinicalStatus`.
    pub clinical_status: Option<CodeableConcept>,
    /// `verificationStatus`.
    pub verification_status: Option<CodeableConcept>,
    /// `type` (`allergy` or `intolerance`).
    pub type_: Option<String>,
    /// Categories (`food`, `medication`, `environment`, `biologic`).
    pub category: Vec<String>,
    /// Criticality.
    pub criticality: Option<Criticality>,
    /// The substance (or class of substances).
    pub code: Option<CodeableConcept>,
    /// Onset.
    pub onset: Option<FhirDateTime>,
    /// When recorded.
    pub recorded: Option<FhirDateTime>,
    /// Reactions.
    pub reactions: Vec<Reaction>,
}

/// A condition, problem or diagnosis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// `clinicalStatus`.
    pub clinical_status: Option<CodeableConcept>,
    /// `verificationStatus`.
    pub verification_status: Option<CodeableConcept>,
    /// Categories (problem-list item, encounter diagnosis).
    pub category: Vec<CodeableConcept>,
    /// Severity.
    pub severity: Option<CodeableConcept>,
    /// The condition.
    pub code: Option<CodeableConcept>,
    /// The encounter in which it was recorded.
    pub encounter: Option<Reference>,
    /// Onset.
    pub onset: Option<FhirDateTime>,
    /// Abatement.
    pub abatement: Option<FhirDateTime>,
    /// When recorded.
    pub recorded: Option<FhirDateTime>,
}

/// A medication statement (what the patient is or was taking), at statement level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MedicationStatement {
    /// `status` (`active`, `completed`, `stopped`, …); export writes `unknown` when absent,
    /// since R4 requires one.
    pub status: Option<String>,
    /// The medication (RxNorm, SNOMED CT).
    pub medication: Option<CodeableConcept>,
    /// When taken.
    pub effective: Option<FhirPeriod>,
    /// Dosage as free text.
    pub dosage_text: Option<Sensitive<String>>,
}

/// An encounter: a visit, admission or teleconsultation, with discharge details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Encounter {
    /// `status` (`planned`, `in-progress`, `finished`, …); export writes `unknown` when absent,
    /// since R4 requires one.
    pub status: Option<String>,
    /// Class (v3-ActCode `AMB`, `IMP`, `EMER`, `VR`, …).
    pub class: Option<Coding>,
    /// Encounter types.
    pub types: Vec<CodeableConcept>,
    /// Who took part (practitioners, with their role).
    pub participants: Vec<EncounterParticipant>,
    /// Admission to discharge.
    pub period: Option<FhirPeriod>,
    /// Reasons.
    pub reasons: Vec<CodeableConcept>,
    /// Discharge disposition (`hospitalization.dischargeDisposition`).
    pub discharge_disposition: Option<CodeableConcept>,
    /// Instructions given at discharge (Bedside extension).
    pub discharge_instructions: Option<Sensitive<String>>,
    /// The follow-up plan (Bedside extension).
    pub follow_up_plan: Option<Sensitive<String>>,
    /// The organisation responsible.
    pub service_provider: Option<Reference>,
    /// Unmodelled parts of `hospitalization`.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub hospitalization_unmodelled: Unmodelled,
}

/// Someone who took part in an encounter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EncounterParticipant {
    /// Their role (v3-ParticipationType: `ATND`, `PPRF`, …).
    pub types: Vec<CodeableConcept>,
    /// The practitioner or related person.
    pub individual: Option<Reference>,
    /// When they took part.
    pub period: Option<FhirPeriod>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

/// A document about the patient (letter, discharge summary, scanned form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentReference {
    /// `status` (`current`, `superseded`, `entered-in-error`); export writes `current` when
    /// absent, since R4 requires one.
    pub status: Option<String>,
    /// Document type (LOINC).
    pub type_: Option<CodeableConcept>,
    /// Title or description (free text).
    pub description: Option<Sensitive<String>>,
    /// MIME type of the content.
    pub content_type: Option<String>,
    /// Where the content is stored.
    pub url: Option<String>,
    /// When the document was created.
    pub date: Option<FhirDateTime>,
}

/// The kind-specific content of a clinical entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClinicalKind {
    /// An allergy or intolerance.
    Allergy(AllergyIntolerance),
    /// A condition.
    Condition(Condition),
    /// A medication statement.
    Medication(MedicationStatement),
    /// An encounter.
    Encounter(Encounter),
    /// A document reference.
    Document(DocumentReference),
}

impl ClinicalKind {
    /// The FHIR resource type name.
    pub fn resource_type(&self) -> &'static str {
        match self {
            ClinicalKind::Allergy(_) => "AllergyIntolerance",
            ClinicalKind::Condition(_) => "Condition",
            ClinicalKind::Medication(_) => "MedicationStatement",
            ClinicalKind::Encounter(_) => "Encounter",
            ClinicalKind::Document(_) => "DocumentReference",
        }
    }
}

/// A clinical summary entry linked to a patient, with security labels.
///
/// `Debug` shows the id, resource type and labels but not the content: diagnoses, substances
/// and their free-text descriptions are themselves sensitive.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinicalEntry {
    /// Typed id.
    pub id: ClinicalEntryId,
    /// FHIR logical id.
    pub logical_id: LogicalId,
    /// The patient (FHIR `subject` or `patient`).
    pub subject: Reference,
    /// Sensitivity labels and confidentiality.
    pub security: SecurityLabels,
    /// The kind-specific content.
    pub content: ClinicalKind,
    /// Elements not modelled (top level, including the rest of `meta`).
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
    /// Unmodelled parts of `meta` (everything except recognised security labels).
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub meta_unmodelled: Unmodelled,
}

impl std::fmt::Debug for ClinicalEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicalEntry")
            .field("id", &self.id)
            .field("logical_id", &self.logical_id)
            .field("resource_type", &self.content.resource_type())
            .field("security", &self.security)
            .field("content", &bedside_core::REDACTED)
            .field("unmodelled", &self.unmodelled)
            .finish_non_exhaustive()
    }
}

impl ClinicalEntry {
    /// An entry for `patient`.
    pub fn new(id: ClinicalEntryId, patient: PatientId, content: ClinicalKind) -> Self {
        Self {
            id,
            logical_id: LogicalId::TypedId,
            subject: Reference::to(format!("Patient/{patient}")),
            security: SecurityLabels::default(),
            content,
            unmodelled: Unmodelled::default(),
            meta_unmodelled: Unmodelled::default(),
        }
    }

    /// Sets the security labels.
    #[must_use]
    pub fn labelled(mut self, security: SecurityLabels) -> Self {
        self.security = security;
        self
    }

    /// The patient id, when the subject reference is `Patient/<uuid>` or `urn:uuid:<uuid>`.
    pub fn patient_id(&self) -> Option<PatientId> {
        crate::model::time::target_uuid(&self.subject).map(PatientId::from_uuid)
    }

    /// The encounter id, for an encounter entry.
    pub fn encounter_id(&self) -> Option<EncounterId> {
        matches!(self.content, ClinicalKind::Encounter(_))
            .then(|| EncounterId::from_uuid(self.id.as_uuid()))
    }

    /// The security labels.
    pub fn security(&self) -> &SecurityLabels {
        &self.security
    }

    /// The entry's main code: the condition, the allergy's substance, the medication, the
    /// encounter's first type, or the document type.
    pub fn code(&self) -> Option<&CodeableConcept> {
        match &self.content {
            ClinicalKind::Allergy(a) => a.code.as_ref(),
            ClinicalKind::Condition(c) => c.code.as_ref(),
            ClinicalKind::Medication(m) => m.medication.as_ref(),
            ClinicalKind::Encounter(e) => e.types.first(),
            ClinicalKind::Document(d) => d.type_.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_codes() {
        let labels = SecurityLabels::new(&["HIV", "ETH"], None);
        assert!(labels.has_sensitivity("HIV"));
        assert!(!labels.has_sensitivity("PSY"));
        assert_eq!(
            labels.effective_confidentiality(),
            Confidentiality::Restricted
        );
        assert_eq!(
            SecurityLabels::default().effective_confidentiality(),
            Confidentiality::Normal
        );
        let with_level = SecurityLabels::new(&["PSY"], Some(Confidentiality::VeryRestricted));
        let codes: Vec<(String, String)> = with_level
            .codings()
            .into_iter()
            .map(|c| (c.system, c.code))
            .collect();
        assert_eq!(
            codes,
            [
                (code::system::ACT_CODE.to_string(), "PSY".to_string()),
                (code::system::CONFIDENTIALITY.to_string(), "V".to_string())
            ]
        );
        assert_eq!(
            Confidentiality::from_code("R"),
            Some(Confidentiality::Restricted)
        );
        assert_eq!(Confidentiality::from_code("X"), None);

        let hiv = CodeableConcept::from_coding(Coding::new(code::system::SNOMED_CT, "86406008"));
        let entry = ClinicalEntry::new(
            ClinicalEntryId::from_uuid(uuid::Uuid::nil()),
            PatientId::from_uuid(uuid::Uuid::max()),
            ClinicalKind::Condition(Condition {
                code: Some(hiv.clone()),
                ..Condition::default()
            }),
        );
        assert_eq!(entry.code(), Some(&hiv));
        assert_eq!(
            entry.patient_id(),
            Some(PatientId::from_uuid(uuid::Uuid::max()))
        );
        assert_eq!(entry.encounter_id(), None);
    }
}
