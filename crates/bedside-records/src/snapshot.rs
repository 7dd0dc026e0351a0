//! [`RegistrySnapshot`]: a [`PatientRegistry`]'s patients with their whole version histories,
//! and its change requests, as plain data to store and reload.
//!
//! [`PatientRegistry::snapshot`] lists patients by id; [`PatientRegistry::restore`] checks the
//! invariants the registry keeps (versions numbered 1, 2, … without gaps, never going back in
//! time, each holding the patient's own record; every request naming a registered patient and
//! an existing version) and refuses a snapshot that breaks one. Records are not validated
//! again: validation rules may have grown since a version was stored, and history is history.

use crate::error::RegistryError;
use crate::history::{ChangeRequest, PatientRegistry, Version};
use bedside_core::{IdGenerator, PatientId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One patient and every version of their record, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientHistory {
    /// The patient.
    pub patient: PatientId,
    /// Every version, oldest first (numbered from 1).
    pub versions: Vec<Version>,
}

/// Everything a [`PatientRegistry`] holds, as plain data.
///
/// ```
/// use bedside_core::{Actor, IdGeneratorExt, ManualClock, SeededIdGenerator, Timestamp};
/// use bedside_records::{HumanName, NameUse, Patient, PatientRegistry, RegistrySnapshot};
/// use std::sync::Arc;
///
/// let at: Timestamp = "2026-03-01T09:00:00Z".parse()?;
/// let ids = Arc::new(SeededIdGenerator::new(Arc::new(ManualClock::new(at)), 7));
/// let mut registry = PatientRegistry::new(ids.clone());
/// let mut patient = Patient::new(ids.generate());
/// patient.names.push(HumanName::new(NameUse::Official, &["Ada"], "Lovelace"));
/// patient.birth_date = Some(bedside_core::Sensitive::new("1985-12-10".parse()?));
/// registry.register(patient, &Actor::system("import"), "new patient", at)?;
///
/// let stored = serde_json::to_string(&registry.snapshot())?;
/// let snapshot: RegistrySnapshot = serde_json::from_str(&stored)?;
/// let back = PatientRegistry::restore(ids, snapshot)?;
/// assert_eq!(back.snapshot(), registry.snapshot());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistrySnapshot {
    /// Every patient with their versions, by patient id.
    pub patients: Vec<PatientHistory>,
    /// Every change request, pending or decided, by id.
    pub requests: Vec<ChangeRequest>,
}

impl PatientRegistry {
    /// The registry as plain data (see [`RegistrySnapshot`]).
    pub fn snapshot(&self) -> RegistrySnapshot {
        RegistrySnapshot {
            patients: self
                .records
                .iter()
                .map(|(patient, versions)| PatientHistory {
                    patient: *patient,
                    versions: versions.clone(),
                })
                .collect(),
            requests: self.requests.values().cloned().collect(),
        }
    }

    /// A registry holding `snapshot`, making new change-request ids from `ids`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidSnapshot`] naming the first element that breaks an invariant.
    pub fn restore(
        ids: Arc<dyn IdGenerator>,
        snapshot: RegistrySnapshot,
    ) -> Result<Self, RegistryError> {
        let bad =
            |path: String, reason: &'static str| RegistryError::InvalidSnapshot { path, reason };
        let mut records = BTreeMap::new();
        for (i, history) in snapshot.patients.into_iter().enumerate() {
            check_versions(&history, &format!("patients[{i}]"))?;
            if records.insert(history.patient, history.versions).is_some() {
                return Err(bad(
                    format!("patients[{i}].patient"),
                    "patient listed twice",
                ));
            }
        }
        let mut requests = BTreeMap::new();
        for (i, request) in snapshot.requests.into_iter().enumerate() {
            let path = format!("requests[{i}]");
            let Some(versions) = records.get(&request.patient) else {
                return Err(bad(
                    format!("{path}.patient"),
                    "patient not in the snapshot",
                ));
            };
            if request.based_on == 0 || request.based_on as usize > versions.len() {
                return Err(bad(format!("{path}.based_on"), "no such version"));
            }
            if request.proposed.id != request.patient {
                return Err(bad(
                    format!("{path}.proposed.id"),
                    "not the request's patient",
                ));
            }
            if requests.insert(request.id, request).is_some() {
                return Err(bad(format!("{path}.id"), "request listed twice"));
            }
        }
        Ok(PatientRegistry {
            ids,
            records,
            requests,
        })
    }
}

fn check_versions(history: &PatientHistory, path: &str) -> Result<(), RegistryError> {
    let bad =
        |at: String, reason: &'static str| RegistryError::InvalidSnapshot { path: at, reason };
    if history.versions.is_empty() {
        return Err(bad(
            format!("{path}.versions"),
            "a patient has at least one version",
        ));
    }
    let mut previous = None;
    for (j, version) in history.versions.iter().enumerate() {
        let vpath = format!("{path}.versions[{j}]");
        if version.number as usize != j + 1 {
            return Err(bad(
                format!("{vpath}.number"),
                "versions are numbered 1, 2, … in order",
            ));
        }
        if version.record.id != history.patient {
            return Err(bad(
                format!("{vpath}.record.id"),
                "not this patient's record",
            ));
        }
        if previous.is_some_and(|p| version.at < p) {
            return Err(bad(
                format!("{vpath}.at"),
                "earlier than the version before it",
            ));
        }
        previous = Some(version.at);
    }
    Ok(())
}
