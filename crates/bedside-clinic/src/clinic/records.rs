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
        self.permit_locked(
            &inner,
            Endpoint::ReadPatient,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics, DataClass::Contact],
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

/// A criterion of a patient search, named after the FHIR R4 search parameter it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatientParam {
    /// `_id`: the patient's id, exactly.
    Id,
    /// `identifier`: `value` or `system|value`, exactly (the system compared too when given).
    Identifier,
    /// `name`: any part of any name (text, family, given) starts with the value.
    Name,
    /// `family`: any family name starts with the value.
    Family,
    /// `given`: any given name starts with the value.
    Given,
    /// `birthdate`: the birth date equals the value, or lies in it (`1970`, `1970-03`).
    BirthDate,
    /// `phone`: a phone or SMS contact point with the same digits.
    Phone,
    /// `email`: an e-mail contact point, ignoring case.
    Email,
    /// `address-postalcode`: any address's postal code starts with the value.
    PostalCode,
}

/// Most values one criterion may list (comma-separated alternatives).
pub const MAX_SEARCH_VALUES: usize = 10;
/// Most criteria one search may combine.
pub const MAX_SEARCH_CRITERIA: usize = 20;
/// Longest accepted search value, in bytes.
pub const MAX_SEARCH_VALUE_BYTES: usize = 200;
/// Most patients one page of search results holds.
pub const MAX_SEARCH_PAGE: usize = 100;

/// A patient search: every criterion must match, and within a criterion any one of its values.
/// Values are kept [`Sensitive`]: `Debug` shows none of them.
#[derive(Debug, Clone, Default)]
pub struct PatientSearch {
    criteria: Vec<(PatientParam, Vec<Sensitive<String>>)>,
}

/// One page of a patient search.
#[derive(Debug, Clone, Serialize)]
pub struct PatientPage {
    /// How many patients the caller may see match, over all pages.
    pub total: usize,
    /// The patients of this page, in the search's stable order (by id).
    pub patients: Vec<PatientVersionView>,
}

impl PatientSearch {
    /// An empty search: matches every patient the caller may see.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a criterion with its alternatives (already split on commas).
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] naming the parameter (never the value) when there are too
    /// many criteria or values, a value is too long, or it is not of the parameter's type
    /// (a UUID for `_id`, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` for `birthdate`).
    pub fn add(
        &mut self,
        param: PatientParam,
        code: &str,
        values: &[&str],
    ) -> Result<(), ClinicError> {
        if self.criteria.len() >= MAX_SEARCH_CRITERIA {
            return Err(ClinicError::bad("too many search parameters"));
        }
        if values.len() > MAX_SEARCH_VALUES {
            return Err(ClinicError::bad(format!("{code}: too many values")));
        }
        let mut kept = Vec::with_capacity(values.len());
        for v in values {
            if v.len() > MAX_SEARCH_VALUE_BYTES {
                return Err(ClinicError::bad(format!("{code}: value too long")));
            }
            let v = match param {
                PatientParam::BirthDate => v.strip_prefix("eq").unwrap_or(v),
                _ => v,
            };
            let valid = match param {
                PatientParam::Id => v.parse::<PatientId>().is_ok(),
                PatientParam::BirthDate => v.parse::<bedside_core::PartialDate>().is_ok(),
                _ => true,
            };
            if !valid {
                return Err(ClinicError::bad(format!(
                    "{code}: not a valid value for this parameter"
                )));
            }
            kept.push(Sensitive::new(v.to_string()));
        }
        self.criteria.push((param, kept));
        Ok(())
    }

    /// Whether `record` meets every criterion.
    pub fn matches(&self, record: &Patient) -> bool {
        self.criteria.iter().all(|(param, values)| {
            values
                .iter()
                .any(|v| param_matches(*param, v.expose(), record))
        })
    }

    /// The patient ids the search names with `_id`, if it names any (every `_id` criterion
    /// must hold, so the first one bounds the candidates).
    fn named_ids(&self) -> Option<Vec<PatientId>> {
        self.criteria
            .iter()
            .find(|(p, _)| *p == PatientParam::Id)
            .map(|(_, values)| {
                values
                    .iter()
                    .filter_map(|v| v.expose().parse().ok())
                    .collect()
            })
    }
}

fn starts_with_normalised(stored: &str, wanted: &str) -> bool {
    use bedside_records::matching::normalise_text;
    let wanted = normalise_text(wanted);
    !wanted.is_empty() && normalise_text(stored).starts_with(&wanted)
}

fn param_matches(param: PatientParam, value: &str, p: &Patient) -> bool {
    use bedside_records::model::TelecomSystem;
    let families = || p.names.iter().filter_map(|n| n.family.as_ref());
    let givens = || p.names.iter().flat_map(|n| n.given.iter());
    let telecom = |systems: &[TelecomSystem]| {
        p.telecom
            .iter()
            .filter(move |c| c.system.is_some_and(|s| systems.contains(&s)))
            .filter_map(|c| c.value.as_ref())
            .map(|v| v.expose().as_str())
            .collect::<Vec<_>>()
    };
    match param {
        PatientParam::Id => p.id.to_string() == value,
        PatientParam::Identifier => {
            let (system, wanted) = match value.split_once('|') {
                Some((s, v)) => (Some(s), v),
                None => (None, value),
            };
            p.identifiers.iter().any(|i| {
                i.value.as_ref().is_some_and(|v| v.expose() == wanted)
                    && system.is_none_or(|s| i.system.as_deref().unwrap_or("") == s)
            })
        }
        PatientParam::Name => p
            .names
            .iter()
            .flat_map(|n| n.text.iter().chain(n.family.iter()).chain(n.given.iter()))
            .any(|part| {
                // A text or family of several words matches on any of its words.
                part.expose()
                    .split_whitespace()
                    .any(|w| starts_with_normalised(w, value))
                    || starts_with_normalised(part.expose(), value)
            }),
        PatientParam::Family => families().any(|f| starts_with_normalised(f.expose(), value)),
        PatientParam::Given => givens().any(|g| starts_with_normalised(g.expose(), value)),
        PatientParam::BirthDate => p
            .birth_date
            .as_ref()
            .is_some_and(|d| d.expose().to_string().starts_with(value)),
        PatientParam::Phone => {
            let wanted = bedside_records::matching::digits_only(value);
            !wanted.is_empty()
                && telecom(&[TelecomSystem::Phone, TelecomSystem::Sms])
                    .iter()
                    .any(|v| bedside_records::matching::digits_only(v) == wanted)
        }
        PatientParam::Email => telecom(&[TelecomSystem::Email])
            .iter()
            .any(|v| v.eq_ignore_ascii_case(value)),
        PatientParam::PostalCode => p
            .addresses
            .iter()
            .filter_map(|a| a.postal_code.as_ref())
            .any(|c| starts_with_normalised(c.expose(), value)),
    }
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
        self.permit_locked(
            &inner,
            Endpoint::FhirPatientHistory,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics, DataClass::Contact],
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
        self.permit_locked(
            &inner,
            Endpoint::FhirVreadPatient,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics, DataClass::Contact],
            break_glass,
        )?;
        inner
            .state
            .registry
            .version(patient, version)
            .map(|v| version_view(patient, v))
            .ok_or(ClinicError::NotFound { kind: "version" })
    }

    /// A page of the patients matching `search` that `principal` may read, ordered by id.
    ///
    /// Patients and proxies search only their own record. Every match is asked of the consent
    /// engine; those refused are left out of the page and of `total` alike, so the answer
    /// never shows that a hidden record exists. Each returned record's read is decided again
    /// and audited exactly as [`Clinic::patient`]'s; a page of `count` 0 returns only `total`
    /// and records nothing.
    ///
    /// # Errors
    /// Unauthenticated or forbidden by the endpoint's gate; a storage failure.
    pub fn search_patients(
        &self,
        principal: &Principal,
        search: &PatientSearch,
        offset: usize,
        count: usize,
    ) -> Result<PatientPage, ClinicError> {
        const CLASSES: &[DataClass] = &[DataClass::Demographics, DataClass::Contact];
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::FhirSearchPatient,
            Some(principal),
            principal.acting_for(),
        )?;
        let candidates: Vec<PatientId> = match (principal.acting_for(), search.named_ids()) {
            (Some(me), _) => vec![me],
            (None, Some(mut ids)) => {
                ids.sort();
                ids.dedup();
                ids
            }
            (None, None) => inner.state.registry.patients().collect(),
        };
        let visible: Vec<PatientId> = candidates
            .into_iter()
            .filter(|id| {
                inner
                    .state
                    .registry
                    .current(*id)
                    .is_some_and(|r| search.matches(r))
                    && self.would_read(&inner, principal, *id, CLASSES)
            })
            .collect();
        let total = visible.len();
        let mut patients = Vec::new();
        for id in visible
            .into_iter()
            .skip(offset)
            .take(count.min(MAX_SEARCH_PAGE))
        {
            match self.authorize(&mut inner, principal, id, Action::Read, CLASSES, None) {
                Ok(()) => {}
                // Decided moments ago under the same lock, so a refusal cannot happen; were
                // it to, the record is left out rather than shown.
                Err(ClinicError::Forbidden { .. } | ClinicError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
            if let Some(v) = inner.state.registry.current_version(id) {
                patients.push(version_view(id, v));
            }
        }
        Ok(PatientPage { total, patients })
    }
}

fn version_view(patient: PatientId, v: &bedside_records::history::Version) -> PatientVersionView {
    PatientVersionView {
        patient,
        version: v.number,
        at: v.at,
        record: v.record.clone(),
    }
}
