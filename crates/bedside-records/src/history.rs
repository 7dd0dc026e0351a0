//! [`PatientRegistry`]: every version of every record, never overwritten.
//!
//! - Each [`Version`] records its number, the [`Actor`] who made it, when (the `at` the
//!   caller passes), the reason, and the field paths that changed.
//! - Updates are optimistic: they name the version they were based on, and a stale update is
//!   refused with [`RegistryError::Conflict`] listing the fields the other writer changed.
//! - Self-service changes by the patient or their proxy (addresses, telecom, languages,
//!   contact preferences, quiet hours, contacts) apply at once; anything else they change —
//!   above all identity (names, birth date, identifiers) — becomes a pending [`ChangeRequest`]
//!   that staff approve or reject, both recorded.
//! - Queries: current, as of an instant, full history, diff between two versions.

use crate::error::RegistryError;
use crate::model::{Patient, ProxyScope};
use crate::validate::{IssueSeverity, validate};
use bedside_core::{Actor, IdGenerator, IdGeneratorExt, PatientId, Sensitive, Timestamp};
use bedside_fhir::semantic_diff;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

bedside_core::define_id! {
    /// A change request awaiting staff review.
    ChangeRequestId
}

/// Top-level parts of a record a patient (or proxy) may change without review.
pub const SELF_SERVICE_SECTIONS: [&str; 7] = [
    "addresses",
    "telecom",
    "communication",
    "interpreter_needed",
    "preferences",
    "quiet_hours",
    "contacts",
];

/// Top-level parts that define who the patient is.
pub const IDENTITY_SECTIONS: [&str; 4] = ["names", "birth_date", "identifiers", "gender"];

/// How a version came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionKind {
    /// The first version.
    Registered,
    /// A direct update.
    Updated,
    /// An approved change request.
    Approved {
        /// The request.
        request: ChangeRequestId,
    },
}

/// One version of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the registration, then consecutive.
    pub number: u32,
    /// Who made the change (for an approval, the approving staff member).
    pub actor: Actor,
    /// When the change took effect: the caller's `at`, raised to the previous version's time
    /// if it was earlier, so versions never go back in time.
    pub at: Timestamp,
    /// Why (free text).
    pub reason: Sensitive<String>,
    /// How it came about.
    pub kind: VersionKind,
    /// Field paths that changed from the previous version (empty for the first).
    pub changed: Vec<String>,
    /// The whole record as of this version.
    pub record: Patient,
}

/// The state of a change request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestStatus {
    /// Awaiting review.
    Pending,
    /// Approved and applied.
    Approved {
        /// The reviewer.
        by: Actor,
        /// When.
        at: Timestamp,
        /// The version it produced.
        version: u32,
    },
    /// Rejected.
    Rejected {
        /// The reviewer.
        by: Actor,
        /// When.
        at: Timestamp,
        /// Why (free text).
        reason: Sensitive<String>,
    },
}

/// A change from a patient or proxy that needs staff approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// Id.
    pub id: ChangeRequestId,
    /// The patient.
    pub patient: PatientId,
    /// The version the request was based on.
    pub based_on: u32,
    /// Field paths the request changes.
    pub changed: Vec<String>,
    /// The proposed record (only the changed sections are applied on approval).
    pub proposed: Patient,
    /// Who asked.
    pub requested_by: Actor,
    /// When.
    pub requested_at: Timestamp,
    /// Why (free text).
    pub reason: Sensitive<String>,
    /// Review state.
    pub status: RequestStatus,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOutcome {
    /// The version written for the directly applied part, if any.
    pub applied: Option<u32>,
    /// The change request opened for the part needing approval, if any.
    pub pending: Option<ChangeRequestId>,
}

/// The field paths that differ between two records (`names[0].family`, `telecom`, …), sorted.
///
/// Sorted so the answer does not depend on whether some crate in the build turned on
/// `serde_json`'s `preserve_order` feature (the paths come from the records' JSON form).
pub fn diff(before: &Patient, after: &Patient) -> Vec<String> {
    // Serialising a `Patient` cannot fail: every map key is a string and no serializer errors.
    let a = serde_json::to_value(before).unwrap_or_default();
    let b = serde_json::to_value(after).unwrap_or_default();
    let mut paths: Vec<String> = semantic_diff(&a, &b)
        .into_iter()
        .map(|p| p.strip_prefix("$.").unwrap_or(&p).to_string())
        .collect();
    paths.sort_unstable();
    paths
}

/// The top-level section of a path (`names` for `names[0].family`).
pub fn section_of(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

fn sections(paths: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = paths.iter().map(|p| section_of(p)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Copies one top-level section from `src` into `dst`.
fn copy_section(dst: &mut Patient, src: &Patient, section: &str) {
    match section {
        "logical_id" => dst.logical_id = src.logical_id.clone(),
        "active" => dst.active = src.active,
        "identifiers" => dst.identifiers = src.identifiers.clone(),
        "names" => dst.names = src.names.clone(),
        "birth_date" => dst.birth_date = src.birth_date,
        "gender" => dst.gender = src.gender,
        "deceased" => dst.deceased = src.deceased.clone(),
        "marital_status" => dst.marital_status = src.marital_status.clone(),
        "multiple_birth" => dst.multiple_birth = src.multiple_birth,
        "managing_organization" => {
            dst.managing_organization = src.managing_organization.clone();
        }
        "links" => dst.links = src.links.clone(),
        "addresses" => dst.addresses = src.addresses.clone(),
        "telecom" => dst.telecom = src.telecom.clone(),
        "communication" => dst.communication = src.communication.clone(),
        "interpreter_needed" => dst.interpreter_needed = src.interpreter_needed,
        "preferences" => dst.preferences = src.preferences.clone(),
        "quiet_hours" => dst.quiet_hours = src.quiet_hours,
        "contacts" => dst.contacts = src.contacts.clone(),
        "related_persons" => dst.related_persons = src.related_persons.clone(),
        "coverages" => dst.coverages = src.coverages.clone(),
        "care_team" => dst.care_team = src.care_team.clone(),
        "unmodelled" => dst.unmodelled = src.unmodelled.clone(),
        // `id` never changes (updates that change it are refused).
        _ => {}
    }
}

/// An edit of a stored record, as [`PatientRegistry::update`] takes it: which patient, the
/// version the writer read, the whole edited record, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEdit {
    /// The patient whose record changes (the edited record must keep this id).
    pub patient: PatientId,
    /// The version the writer read.
    pub based_on: u32,
    /// The whole record as the writer wants it.
    pub record: Patient,
    /// Why (free text, kept as [`Sensitive`]).
    pub reason: String,
}

impl RecordEdit {
    /// An edit of `patient`'s record, read at version `based_on`.
    pub fn new(patient: PatientId, based_on: u32, record: Patient, reason: &str) -> Self {
        Self {
            patient,
            based_on,
            record,
            reason: reason.to_owned(),
        }
    }
}

/// Keeps every version of every patient record, and the change requests.
///
/// Every change names its [`Actor`], a reason and the instant `at` it takes effect; the
/// registry reads no clock. Staff edits apply at once; a patient's identity change waits for
/// staff approval.
///
/// ```
/// use bedside_core::{Actor, IdGeneratorExt, ManualClock, PartialDate, SeededIdGenerator, Sensitive, Timestamp};
/// use bedside_records::{HumanName, NameUse, Patient, PatientRegistry, RecordEdit, RegistryError};
/// use std::sync::Arc;
///
/// let at: Timestamp = "2026-03-01T09:00:00Z".parse()?;
/// let ids = Arc::new(SeededIdGenerator::new(Arc::new(ManualClock::new(at)), 7));
/// let mut registry = PatientRegistry::new(ids.clone());
/// let mut patient = Patient::new(ids.generate());
/// patient.names.push(HumanName::new(NameUse::Official, &["Ada"], "Byron"));
/// patient.birth_date = Some(Sensitive::new(PartialDate::Year(1985)));
/// let id = patient.id;
/// registry.register(patient, &Actor::system("front-desk"), "walk-in", at)?;
///
/// // The patient asks to change their surname: it waits for staff.
/// let mut edited = registry.current(id).ok_or("registered")?.clone();
/// edited.names[0] = HumanName::new(NameUse::Official, &["Ada"], "Lovelace");
/// let me = Actor::Patient { patient: id };
/// let outcome = registry.update(RecordEdit::new(id, 1, edited.clone(), "married"), &me, at)?;
/// assert_eq!(outcome.applied, None);
/// let request = outcome.pending.ok_or("pending")?;
///
/// // Staff approve it as version 2; a writer still working from version 1 now gets a conflict.
/// # let staff = Actor::Staff(bedside_core::Staff {
/// #     id: ids.generate(), roles: vec![bedside_core::Role::RECEPTION],
/// #     organisation: bedside_core::OrganisationId::from_uuid(uuid::Uuid::nil()), provider: None,
/// # });
/// assert_eq!(registry.approve(request, &staff, "certificate seen", at)?, 2);
/// assert_eq!(registry.diff(id, 1, 2)?, ["names[0].family"]);
/// assert!(matches!(
///     registry.update(RecordEdit::new(id, 1, edited, "again"), &staff, at),
///     Err(RegistryError::Conflict { current: 2, .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PatientRegistry {
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) records: BTreeMap<PatientId, Vec<Version>>,
    pub(crate) requests: BTreeMap<ChangeRequestId, ChangeRequest>,
}

impl fmt::Debug for PatientRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatientRegistry")
            .field("patients", &self.records.len())
            .field("requests", &self.requests.len())
            .finish_non_exhaustive()
    }
}

impl PatientRegistry {
    /// An empty registry making change-request ids from `ids`. Time is never read: every
    /// change takes the `at` it happens at.
    pub fn new(ids: Arc<dyn IdGenerator>) -> Self {
        Self {
            ids,
            records: BTreeMap::new(),
            requests: BTreeMap::new(),
        }
    }

    /// `at`, raised to `last` when earlier: versions never go back in time.
    fn not_before(at: Timestamp, last: Timestamp) -> Timestamp {
        at.max(last)
    }

    fn check_valid(&self, patient: &Patient, at: Timestamp) -> Result<(), RegistryError> {
        let problems: Vec<_> = validate(patient, at)
            .problems
            .into_iter()
            .filter(|p| p.severity == IssueSeverity::Error)
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RegistryError::Invalid { problems })
        }
    }

    fn forbidden(actor: &Actor, action: &'static str) -> RegistryError {
        RegistryError::Forbidden {
            actor: actor.label(),
            action,
        }
    }

    /// Registers a new patient as version 1, at `at`.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyRegistered`], [`RegistryError::Invalid`] (every error listed), or
    /// [`RegistryError::Forbidden`] for an external actor or a patient registering someone else.
    pub fn register(
        &mut self,
        patient: Patient,
        actor: &Actor,
        reason: &str,
        at: Timestamp,
    ) -> Result<u32, RegistryError> {
        match actor {
            Actor::External { .. } => return Err(Self::forbidden(actor, "register patients")),
            Actor::Patient { patient: p } | Actor::Proxy { patient: p, .. } if *p != patient.id => {
                return Err(Self::forbidden(actor, "register another patient"));
            }
            _ => {}
        }
        if self.records.contains_key(&patient.id) {
            return Err(RegistryError::AlreadyRegistered(patient.id));
        }
        self.check_valid(&patient, at)?;
        self.records.insert(
            patient.id,
            vec![Version {
                number: 1,
                actor: actor.clone(),
                at,
                reason: Sensitive::new(reason.to_string()),
                kind: VersionKind::Registered,
                changed: Vec::new(),
                record: patient,
            }],
        );
        Ok(1)
    }

    fn versions(&self, id: PatientId) -> Result<&Vec<Version>, RegistryError> {
        self.records
            .get(&id)
            .ok_or(RegistryError::UnknownPatient(id))
    }

    /// Whether `actor` may update `id`'s record, and if so whether as self-service (patient or
    /// proxy: only [`SELF_SERVICE_SECTIONS`] apply directly) or as staff.
    fn self_service(
        actor: &Actor,
        id: PatientId,
        current: &Patient,
    ) -> Result<bool, RegistryError> {
        match actor {
            Actor::External { .. } => Err(Self::forbidden(actor, "update records")),
            Actor::Patient { patient } if *patient != id => {
                Err(Self::forbidden(actor, "update another patient's record"))
            }
            Actor::Proxy {
                patient,
                related_person,
            } => {
                let allowed = *patient == id
                    && current
                        .related_persons
                        .iter()
                        .any(|r| r.id == *related_person && r.may_act_for(ProxyScope::Records));
                if allowed {
                    Ok(true)
                } else {
                    Err(Self::forbidden(actor, "update this record"))
                }
            }
            Actor::Patient { .. } => Ok(true),
            Actor::Staff(_) | Actor::System { .. } => Ok(false),
        }
    }

    /// Updates a record at `at`. `edit.based_on` is the version the writer read; if another
    /// write happened since, the update is refused with the fields the other writer changed.
    /// Staff and system actors apply directly. For a patient or proxy, self-service sections apply directly and
    /// the rest becomes a pending change request. Nothing changes on error.
    ///
    /// # Errors
    /// [`RegistryError::UnknownPatient`], [`RegistryError::UnknownVersion`],
    /// [`RegistryError::Conflict`], [`RegistryError::IdChanged`], [`RegistryError::NoChange`],
    /// [`RegistryError::Invalid`] or [`RegistryError::Forbidden`].
    // Not split (~110 lines): every check runs before the first write, in one visible order.
    pub fn update(
        &mut self,
        edit: RecordEdit,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<UpdateOutcome, RegistryError> {
        let RecordEdit {
            patient: id,
            based_on,
            record: new,
            reason,
        } = edit;
        let reason = reason.as_str();
        let versions = self.versions(id)?;
        let current = versions.last().ok_or(RegistryError::UnknownPatient(id))?;
        let self_service = Self::self_service(actor, id, &current.record)?;
        if new.id != id {
            return Err(RegistryError::IdChanged);
        }
        let base = based_on
            .checked_sub(1)
            .and_then(|i| versions.get(i as usize))
            .ok_or(RegistryError::UnknownVersion {
                patient: id,
                version: based_on,
            })?;
        let mine = diff(&base.record, &new);
        if mine.is_empty() {
            return Err(RegistryError::NoChange);
        }
        if based_on != current.number {
            return Err(RegistryError::Conflict {
                patient: id,
                based_on,
                current: current.number,
                their_changes: diff(&base.record, &current.record),
            });
        }
        let at = Self::not_before(at, current.at);
        let my_sections = sections(&mine);
        let (direct, review): (Vec<&str>, Vec<&str>) = my_sections
            .iter()
            .partition(|s| !self_service || SELF_SERVICE_SECTIONS.contains(s));

        let mut applied_record = current.record.clone();
        for s in &direct {
            copy_section(&mut applied_record, &new, s);
        }
        // Validate what would be stored now and what approval would store, so neither a direct
        // write nor a later approval can store an invalid record.
        if !direct.is_empty() {
            self.check_valid(&applied_record, at)?;
        }
        if !review.is_empty() {
            self.check_valid(&new, at)?;
        }

        let mut outcome = UpdateOutcome {
            applied: None,
            pending: None,
        };
        let next_number = current.number + 1;
        let changed_direct: Vec<String> = mine
            .iter()
            .filter(|p| direct.contains(&section_of(p)))
            .cloned()
            .collect();
        let changed_review: Vec<String> = mine
            .iter()
            .filter(|p| review.contains(&section_of(p)))
            .cloned()
            .collect();
        let request_id: Option<ChangeRequestId> = (!review.is_empty()).then(|| self.ids.generate());
        if !direct.is_empty() {
            let version = Version {
                number: next_number,
                actor: actor.clone(),
                at,
                reason: Sensitive::new(reason.to_string()),
                kind: VersionKind::Updated,
                changed: changed_direct,
                record: applied_record,
            };
            if let Some(v) = self.records.get_mut(&id) {
                v.push(version);
            }
            outcome.applied = Some(next_number);
        }
        if let Some(rid) = request_id {
            // The request is based on the version it was made against (after any directly
            // applied part), so approval checks for conflicts from that point.
            let based = outcome.applied.unwrap_or(based_on);
            self.requests.insert(
                rid,
                ChangeRequest {
                    id: rid,
                    patient: id,
                    based_on: based,
                    changed: changed_review,
                    proposed: new,
                    requested_by: actor.clone(),
                    requested_at: at,
                    reason: Sensitive::new(reason.to_string()),
                    status: RequestStatus::Pending,
                },
            );
            outcome.pending = Some(rid);
        }
        Ok(outcome)
    }

    fn pending_request(
        &self,
        request: ChangeRequestId,
        reviewer: &Actor,
    ) -> Result<&ChangeRequest, RegistryError> {
        if reviewer.as_staff().is_none() {
            return Err(Self::forbidden(reviewer, "review change requests"));
        }
        let req = self
            .requests
            .get(&request)
            .ok_or(RegistryError::UnknownRequest(request))?;
        if req.status != RequestStatus::Pending {
            return Err(RegistryError::AlreadyDecided(request));
        }
        Ok(req)
    }

    /// Approves a pending change request (staff only) at `at`: its sections are applied onto
    /// the current version as a new version. If someone has since changed one of the same sections,
    /// approval is refused with a conflict; the request stays pending.
    ///
    /// # Errors
    /// [`RegistryError::Forbidden`], [`RegistryError::UnknownRequest`],
    /// [`RegistryError::AlreadyDecided`], [`RegistryError::Conflict`] or
    /// [`RegistryError::Invalid`].
    pub fn approve(
        &mut self,
        request: ChangeRequestId,
        reviewer: &Actor,
        reason: &str,
        at: Timestamp,
    ) -> Result<u32, RegistryError> {
        let req = self.pending_request(request, reviewer)?;
        let versions = self.versions(req.patient)?;
        let current = versions
            .last()
            .ok_or(RegistryError::UnknownPatient(req.patient))?;
        let base = versions
            .get(req.based_on.saturating_sub(1) as usize)
            .ok_or(RegistryError::UnknownVersion {
                patient: req.patient,
                version: req.based_on,
            })?;
        let theirs = diff(&base.record, &current.record);
        let req_sections = sections(&req.changed);
        let overlapping: Vec<String> = theirs
            .iter()
            .filter(|p| req_sections.contains(&section_of(p)))
            .cloned()
            .collect();
        if !overlapping.is_empty() {
            return Err(RegistryError::Conflict {
                patient: req.patient,
                based_on: req.based_on,
                current: current.number,
                their_changes: overlapping,
            });
        }
        let mut record = current.record.clone();
        for s in &req_sections {
            copy_section(&mut record, &req.proposed, s);
        }
        let at = Self::not_before(at, current.at);
        self.check_valid(&record, at)?;
        let changed = diff(&current.record, &record);
        let number = current.number + 1;
        let patient = req.patient;
        let version = Version {
            number,
            actor: reviewer.clone(),
            at,
            reason: Sensitive::new(reason.to_string()),
            kind: VersionKind::Approved { request },
            changed,
            record,
        };
        if let Some(v) = self.records.get_mut(&patient) {
            v.push(version);
        }
        if let Some(r) = self.requests.get_mut(&request) {
            r.status = RequestStatus::Approved {
                by: reviewer.clone(),
                at,
                version: number,
            };
        }
        Ok(number)
    }

    /// Rejects a pending change request (staff only) at `at`; the record is unchanged and the
    /// decision is kept on the request.
    ///
    /// # Errors
    /// [`RegistryError::Forbidden`], [`RegistryError::UnknownRequest`] or
    /// [`RegistryError::AlreadyDecided`].
    pub fn reject(
        &mut self,
        request: ChangeRequestId,
        reviewer: &Actor,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), RegistryError> {
        self.pending_request(request, reviewer)?;
        if let Some(r) = self.requests.get_mut(&request) {
            r.status = RequestStatus::Rejected {
                by: reviewer.clone(),
                at,
                reason: Sensitive::new(reason.to_string()),
            };
        }
        Ok(())
    }

    /// The current record.
    pub fn current(&self, id: PatientId) -> Option<&Patient> {
        self.current_version(id).map(|v| &v.record)
    }

    /// The current version.
    pub fn current_version(&self, id: PatientId) -> Option<&Version> {
        self.records.get(&id).and_then(|v| v.last())
    }

    /// The version that was current at `at` (the last one made at or before it), or `None`
    /// before registration.
    pub fn as_of(&self, id: PatientId, at: Timestamp) -> Option<&Version> {
        let versions = self.records.get(&id)?;
        // Version instants never decrease, so the versions made by `at` are a prefix.
        let n = versions.partition_point(|v| v.at <= at);
        n.checked_sub(1).and_then(|i| versions.get(i))
    }

    /// Every version, oldest first.
    pub fn history(&self, id: PatientId) -> &[Version] {
        self.records.get(&id).map_or(&[], Vec::as_slice)
    }

    /// One version.
    pub fn version(&self, id: PatientId, number: u32) -> Option<&Version> {
        number
            .checked_sub(1)
            .and_then(|i| self.records.get(&id)?.get(i as usize))
    }

    /// The field paths that differ between two versions.
    ///
    /// # Errors
    /// [`RegistryError::UnknownPatient`] or [`RegistryError::UnknownVersion`].
    pub fn diff(&self, id: PatientId, from: u32, to: u32) -> Result<Vec<String>, RegistryError> {
        let get = |n: u32| {
            self.version(id, n)
                .ok_or(if self.records.contains_key(&id) {
                    RegistryError::UnknownVersion {
                        patient: id,
                        version: n,
                    }
                } else {
                    RegistryError::UnknownPatient(id)
                })
        };
        Ok(diff(&get(from)?.record, &get(to)?.record))
    }

    /// A change request.
    pub fn request(&self, id: ChangeRequestId) -> Option<&ChangeRequest> {
        self.requests.get(&id)
    }

    /// Pending change requests for a patient, oldest first.
    pub fn pending_requests(&self, patient: PatientId) -> Vec<&ChangeRequest> {
        self.requests
            .values()
            .filter(|r| r.patient == patient && r.status == RequestStatus::Pending)
            .collect()
    }

    /// The registered patient ids.
    pub fn patients(&self) -> impl Iterator<Item = PatientId> + '_ {
        self.records.keys().copied()
    }

    /// Number of registered patients.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no patient is registered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use bedside_core::{CoverageId, PartialDate, ProviderId, RelatedPersonId};

    #[test]
    fn section_of_paths() {
        assert_eq!(section_of("names[0].family"), "names");
        assert_eq!(section_of("birth_date"), "birth_date");
        assert_eq!(section_of("care_team.general_practitioners"), "care_team");
    }

    /// Every serialised top-level field except `id` can be copied section by section, so
    /// approvals and split updates never silently drop a changed field.
    #[test]
    fn every_section_can_be_copied() {
        let id = PatientId::from_uuid(uuid::Uuid::nil());
        let mut full = Patient::new(id);
        full.logical_id = LogicalId::Other("x".into());
        full.active = Some(true);
        full.identifiers
            .push(Identifier::new(IdentifierKind::Other, "urn:x", "1"));
        full.names.push(HumanName::new(NameUse::Usual, &["A"], "B"));
        full.birth_date = Some(Sensitive::new(PartialDate::Year(1990)));
        full.gender = Some(AdministrativeGender::Other);
        full.deceased = Some(Deceased::Flag(false));
        full.marital_status = Some(bedside_core::CodeableConcept::default());
        full.multiple_birth = Some(MultipleBirth::Order(2));
        full.managing_organization = Some(Reference::default());
        full.links.push(PatientLink {
            other: Reference::to("Patient/1"),
            type_: LinkType::Seealso,
            unmodelled: Unmodelled::default(),
        });
        full.addresses.push(Address::default());
        full.telecom
            .push(ContactPoint::new(TelecomSystem::Email, "a@b.org", None));
        full.communication.push(Communication {
            language: bedside_core::CodeableConcept::default(),
            preferred: None,
            unmodelled: Unmodelled::default(),
        });
        full.interpreter_needed = Some(true);
        full.set_preference(ContactPurpose::Surveys, Vec::new());
        full.quiet_hours = Some(bedside_core::QuietHours::new(
            chrono_tz::UTC,
            chrono::NaiveTime::MIN,
            chrono::NaiveTime::MIN,
        ));
        full.contacts.push(PatientContact::default());
        full.related_persons.push(RelatedPerson::new(
            RelatedPersonId::from_uuid(uuid::Uuid::max()),
            id,
        ));
        full.coverages.push(Coverage::new(
            CoverageId::from_uuid(uuid::Uuid::max()),
            full.id,
            Reference::default(),
            "m",
        ));
        full.care_team
            .set_primary_provider(ProviderId::from_uuid(uuid::Uuid::max()));
        let mut kept = serde_json::Map::new();
        kept.insert("text".into(), serde_json::Value::Bool(true));
        full.unmodelled = Unmodelled::new(kept);

        let empty = Patient::new(id);
        let changed = diff(&empty, &full);
        let all = sections(&changed);
        let keys = match serde_json::to_value(&full) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(all.len(), keys.len() - 1, "every field but the id differs");
        for section in all {
            let mut dst = empty.clone();
            copy_section(&mut dst, &full, section);
            let left = diff(&dst, &full);
            assert!(
                left.iter().all(|p| section_of(p) != section),
                "section `{section}` was not copied"
            );
        }
    }
}
