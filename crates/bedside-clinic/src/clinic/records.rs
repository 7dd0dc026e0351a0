//! The patient's record: reading it, self-service changes, staff-approved requests and
//! clinical notes.

use super::*;

/// A self-service change to the patient's own contact details.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// The version the edit is based on (optimistic concurrency).
    pub base_version: u32,
    /// New home address lines, city and postal code.
    pub address: Option<AddressChange>,
    /// SMS reminders on or off.
    pub sms_reminders: Option<bool>,
    /// E-mail reminders on or off.
    pub email_reminders: Option<bool>,
    /// Quiet hours, local `HH:MM` start and end.
    pub quiet_hours: Option<(String, String)>,
    /// A new legal name (becomes a request staff approve).
    pub name: Option<NameChange>,
}

/// A new address.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressChange {
    /// Street lines.
    pub lines: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

/// A new name.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameChange {
    /// Given names.
    pub given: Vec<String>,
    /// Family name.
    pub family: String,
}

/// A clinical note (kept by the clinic; the consent class is `clinical-notes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    /// When it was written.
    pub at: Timestamp,
    /// Who wrote it (the actor's label).
    pub author: String,
    /// The text.
    pub text: Sensitive<String>,
}

/// A patient's current record as a reader sees it; serialised with the record as a FHIR R4
/// `Patient` under `resource`.
#[derive(Debug, Clone, Serialize)]
pub struct PatientView {
    /// The record's version (the ETag a change is based on).
    pub version: u32,
    /// Change requests waiting for staff.
    pub pending_requests: usize,
    /// The record.
    #[serde(rename = "resource", serialize_with = "as_fhir")]
    pub record: Patient,
}

fn as_fhir<S: serde::Serializer>(record: &Patient, s: S) -> Result<S::Ok, S::Error> {
    record.to_fhir().serialize(s)
}

/// What an edit did: the part applied at once and the part waiting for staff.
#[derive(Debug, Clone, Serialize)]
pub struct EditOutcome {
    /// The version written for what applied directly.
    pub applied_version: Option<u32>,
    /// The change request opened for what needs approval.
    pub pending_request: Option<ChangeRequestId>,
}

/// A record version written by an approval.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    /// The patient.
    pub patient: PatientId,
    /// The version written.
    pub version: u32,
}

/// A change request waiting for staff.
#[derive(Debug, Clone, Serialize)]
pub struct PendingChange {
    /// The request.
    pub request: ChangeRequestId,
    /// The patient.
    pub patient: PatientId,
    /// The field paths it changes.
    pub fields: Vec<String>,
}

/// A note was added.
#[derive(Debug, Clone, Serialize)]
pub struct NoteAdded {
    /// The patient.
    pub patient: PatientId,
    /// How many notes the patient now has.
    pub notes: usize,
}

impl ProfileChange {
    /// The record with this change applied, after checking every field (all problems are
    /// reported together; nothing is applied when any is found).
    // Not split: one step per editable field, in the order a change lists them.
    fn apply_to(&self, mut record: Patient, zone: chrono_tz::Tz) -> Result<Patient, ClinicError> {
        use bedside_records::{HumanName, NameUse, RoutePreference};
        let mut problems = Vec::new();
        if let Some(a) = &self.address {
            for (i, l) in a.lines.iter().enumerate() {
                check_text(&format!("address.lines[{i}]"), l, &mut problems);
            }
            for (path, v) in [
                ("address.city", &a.city),
                ("address.postal_code", &a.postal_code),
            ] {
                if let Some(v) = v {
                    check_text(path, v, &mut problems);
                }
            }
        }
        if let Some(n) = &self.name {
            for (i, g) in n.given.iter().enumerate() {
                check_text(&format!("name.given[{i}]"), g, &mut problems);
            }
            check_text("name.family", &n.family, &mut problems);
        }
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the change", problems.len()),
                details: problems,
            });
        }
        if let Some(a) = &self.address {
            if a.lines.len() > 4 || a.lines.iter().any(|l| l.len() > 200) {
                return Err(ClinicError::bad(
                    "address.lines: at most 4 lines of 200 characters",
                ));
            }
            record
                .addresses
                .retain(|x| x.use_ != Some(bedside_records::model::AddressUse::Home));
            record.addresses.insert(
                0,
                bedside_records::model::Address {
                    use_: Some(bedside_records::model::AddressUse::Home),
                    lines: a.lines.iter().cloned().map(Sensitive::new).collect(),
                    city: a.city.clone().map(Sensitive::new),
                    postal_code: a.postal_code.clone().map(Sensitive::new),
                    ..Default::default()
                },
            );
        }
        for (flag, channel) in [
            (self.sms_reminders, Channel::Sms),
            (self.email_reminders, Channel::Email),
        ] {
            let Some(on) = flag else { continue };
            let mut routes: Vec<RoutePreference> = record
                .preferences
                .iter()
                .find(|p| p.purpose == ContactPurpose::AppointmentReminders)
                .map(|p| p.routes.clone())
                .unwrap_or_default();
            let mut found = false;
            for r in &mut routes {
                if r.route.channel == channel {
                    r.state = if on {
                        OptState::OptedIn
                    } else {
                        OptState::OptedOut
                    };
                    found = true;
                }
            }
            if !found {
                return Err(ClinicError::bad(format!(
                    "{}_reminders: no {} address on file",
                    channel.as_str(),
                    channel.as_str()
                )));
            }
            record.set_preference(ContactPurpose::AppointmentReminders, routes);
        }
        if let Some((start, end)) = &self.quiet_hours {
            let parse = |s: &str| NaiveTime::parse_from_str(s, "%H:%M");
            match (parse(start), parse(end)) {
                (Ok(a), Ok(b)) => {
                    record.quiet_hours = Some(bedside_core::QuietHours::new(zone, a, b));
                }
                _ => {
                    return Err(ClinicError::bad(
                        "quiet_hours: expected [\"HH:MM\", \"HH:MM\"]",
                    ));
                }
            }
        }
        if let Some(n) = &self.name {
            if n.family.trim().is_empty() || n.given.is_empty() {
                return Err(ClinicError::bad("name: given and family are required"));
            }
            let given: Vec<&str> = n.given.iter().map(String::as_str).collect();
            for old in &mut record.names {
                if old.use_ == Some(NameUse::Official) {
                    old.use_ = Some(NameUse::Old);
                }
            }
            record.names.insert(
                0,
                HumanName::new(NameUse::Official, &given, n.family.trim()),
            );
        }
        Ok(record)
    }
}

/// Update a patient (self-service parts apply, identity parts become a request).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    /// The patient.
    pub patient: PatientId,
    /// Version the edit is based on.
    pub base_version: u32,
    /// The edited record.
    pub record: Box<Patient>,
    /// Who.
    pub by: Actor,
}

impl Apply for Update {
    type Reply = EditOutcome;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<EditOutcome, ClinicError> {
        let Update {
            patient,
            base_version,
            record,
            by,
        } = self;
        let at = cx.at;
        let edit = RecordEdit::new(*patient, *base_version, (**record).clone(), "edit");
        let outcome = st.registry.update(edit, by, at)?;
        st.index_phones(*patient);
        st.index_match(*patient);
        Ok(EditOutcome {
            applied_version: outcome.applied,
            pending_request: outcome.pending,
        })
    }
}

/// Approve a change request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Approve {
    /// The request.
    pub request: ChangeRequestId,
    /// The reviewer.
    pub by: Actor,
}

impl Apply for Approve {
    type Reply = Approved;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Approved, ClinicError> {
        let Approve { request, by } = self;
        let at = cx.at;
        let patient =
            st.registry
                .request(*request)
                .map(|r| r.patient)
                .ok_or(ClinicError::NotFound {
                    kind: "change request",
                })?;
        let version = st.registry.approve(*request, by, "approved by staff", at)?;
        st.index_phones(patient);
        st.index_match(patient);
        Ok(Approved { patient, version })
    }
}

/// A clinician writes a note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddNote {
    /// The patient.
    pub patient: PatientId,
    /// The text.
    pub text: Sensitive<String>,
    /// Who.
    pub by: Actor,
}

impl Apply for AddNote {
    type Reply = NoteAdded;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<NoteAdded, ClinicError> {
        let AddNote { patient, text, by } = self;
        let at = cx.at;
        if st.registry.current(*patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        st.notes.entry(*patient).or_default().push(Note {
            at,
            author: by.label(),
            text: text.clone(),
        });
        Ok(NoteAdded {
            patient: *patient,
            notes: st.notes.get(patient).map_or(0, Vec::len),
        })
    }
}

impl Clinic {
    /// The patient's record (FHIR R4 JSON), through the consent engine.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] when consent denies; not found.
    pub fn patient(
        &self,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<PatientView, ClinicError> {
        let mut inner = self.lock();
        self.authorize_record_read(
            &mut inner,
            Endpoint::ReadPatient,
            principal,
            patient,
            break_glass,
        )?;
        let v = inner
            .state
            .registry
            .current_version(patient)
            .ok_or(ClinicError::NotFound { kind: "patient" })?;
        Ok(PatientView {
            version: v.number,
            pending_requests: inner.state.registry.pending_requests(patient).len(),
            record: v.record.clone(),
        })
    }

    /// A self-service change: contact details apply at once, a name change becomes a request.
    ///
    /// # Errors
    /// Forbidden for anyone but the patient (or a proxy allowed to update contact details);
    /// conflict on a stale `base_version`; bad request on invalid values.
    pub fn change_profile(
        &self,
        principal: &Principal,
        patient: PatientId,
        change: &ProfileChange,
    ) -> Result<EditOutcome, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::ChangeProfile,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Contact],
            None,
        )?;
        let record = inner
            .state
            .registry
            .version(patient, change.base_version)
            .map(|v| v.record.clone())
            .ok_or_else(|| ClinicError::conflict("unknown base_version"))?;
        let record = change.apply_to(record, inner.state.zone())?;
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            Update {
                patient,
                base_version: change.base_version,
                record: Box::new(record),
                by,
            },
        )
    }

    /// Pending change requests of a patient (staff).
    ///
    /// # Errors
    /// Forbidden unless reception, scheduler or admin.
    pub fn change_requests(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Vec<PendingChange>, ClinicError> {
        Self::staff_gate(Endpoint::ChangeRequests, principal)?;
        let inner = self.lock();
        Ok(inner
            .state
            .registry
            .pending_requests(patient)
            .iter()
            .map(|r| PendingChange {
                request: r.id,
                patient: r.patient,
                fields: r.changed.clone(),
            })
            .collect())
    }

    /// Staff approve a change request.
    ///
    /// # Errors
    /// Forbidden unless reception or admin; not found; already decided.
    pub fn approve_request(
        &self,
        principal: &Principal,
        request: ChangeRequestId,
    ) -> Result<Approved, ClinicError> {
        Self::staff_gate(Endpoint::ApproveRequest, principal)?;
        self.run(Approve {
            request,
            by: self.actor(principal),
        })
    }

    /// A clinician adds a note (consent: create clinical notes).
    ///
    /// # Errors
    /// Forbidden.
    pub fn add_note(
        &self,
        principal: &Principal,
        patient: PatientId,
        text: &str,
    ) -> Result<NoteAdded, ClinicError> {
        if text.trim().is_empty() || text.len() > 20_000 {
            return Err(ClinicError::bad("text: 1 to 20000 characters"));
        }
        Self::staff_gate(Endpoint::AddNote, principal)?;
        let mut inner = self.lock();
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Create,
            &[DataClass::ClinicalNotes],
            None,
        )?;
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            AddNote {
                patient,
                text: Sensitive::new(text.to_string()),
                by,
            },
        )
    }

    /// Clinical notes, through the consent engine (break-the-glass when `break_glass` holds a
    /// justification).
    ///
    /// # Errors
    /// Forbidden when consent denies.
    pub fn notes(
        &self,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<Vec<Note>, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Notes, Some(principal), Some(patient))?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::ClinicalNotes],
            break_glass,
        )?;
        Ok(inner.state.notes.get(&patient).cloned().unwrap_or_default())
    }
}
/// Refuses text with control characters or bidirectional controls (which can make a name
/// display as something else, "Trojan Source" style): a clear error by field path.
pub(super) fn check_text(path: &str, value: &str, problems: &mut Vec<String>) {
    let bidi = |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if value.chars().any(|c| c.is_control() || bidi(c)) {
        problems.push(format!(
            "{path}: contains control or bidirectional-override characters"
        ));
    }
}

/// Debug output without the personal data these forms carry.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )*};
}
redacted_debug!(Registration, ProfileChange, AddressChange, NameChange);

/// One version of a patient's record as a reader sees it (history and version reads);
/// serialised with the record as a FHIR R4 `Patient` under `resource`.
#[derive(Debug, Clone, Serialize)]
pub struct PatientVersionView {
    /// The patient.
    pub patient: PatientId,
    /// The version number (1 for the registration, then consecutive).
    pub version: u32,
    /// When this version took effect.
    pub at: Timestamp,
    /// The record as of this version.
    #[serde(rename = "resource", serialize_with = "as_fhir")]
    pub record: Patient,
}

impl Clinic {
    /// Every version of the patient's record, oldest first, through the same gate and consent
    /// decision (one audit entry) as [`Clinic::patient`].
    ///
    /// # Errors
    /// As [`Clinic::patient`].
    pub fn patient_history(
        &self,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<Vec<PatientVersionView>, ClinicError> {
        let mut inner = self.lock();
        self.authorize_record_read(
            &mut inner,
            Endpoint::FhirPatientHistory,
            principal,
            patient,
            break_glass,
        )?;
        let history = inner.state.registry.history(patient);
        Ok(history.iter().map(|v| version_view(patient, v)).collect())
    }

    /// One version of the patient's record, through the same gate and consent decision as
    /// [`Clinic::patient`].
    ///
    /// # Errors
    /// As [`Clinic::patient`]; not found for a version that does not exist.
    pub fn patient_version(
        &self,
        principal: &Principal,
        patient: PatientId,
        version: u32,
        break_glass: Option<&str>,
    ) -> Result<PatientVersionView, ClinicError> {
        let mut inner = self.lock();
        self.authorize_record_read(
            &mut inner,
            Endpoint::FhirVreadPatient,
            principal,
            patient,
            break_glass,
        )?;
        inner
            .state
            .registry
            .version(patient, version)
            .map(|v| version_view(patient, v))
            .ok_or(ClinicError::NotFound { kind: "version" })
    }
}

pub(super) fn version_view(
    patient: PatientId,
    v: &bedside_records::history::Version,
) -> PatientVersionView {
    PatientVersionView {
        patient,
        version: v.number,
        at: v.at,
        record: v.record.clone(),
    }
}

impl Clinic {
    /// The gate and the audited consent decision every read of a patient's record takes
    /// (the JSON read, and FHIR's read, vread and history): the endpoint's permit, then
    /// demographics and contact details through the consent engine.
    fn authorize_record_read(
        &self,
        inner: &mut Session<'_>,
        endpoint: Endpoint,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<(), ClinicError> {
        self.permit_locked(inner, endpoint, Some(principal), Some(patient))?;
        self.authorize(
            inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics, DataClass::Contact],
            break_glass,
        )
    }
}
