//! Registration: new patients, duplicate detection, phone verification.

use super::*;

/// A one-time code sent to a phone number: only its hash is kept, with an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCode {
    /// Hex SHA-256 of the patient id and the code.
    pub hash: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// A code sent to a number awaiting verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PendingCode {
    pub(super) phone: String,
    pub(super) hash: String,
    pub(super) expires_at: Timestamp,
    pub(super) attempts: u32,
}

/// Most wrong codes before a new one must be requested.
pub const MAX_CODE_ATTEMPTS: u32 = 5;

/// Outbox purpose of one-time codes: delivered to the phone, never listed by the API.
pub const PHONE_VERIFICATION: &str = "phone-verification";

/// How long a one-time code works.
pub(super) const CODE_TTL_MINUTES: i64 = 15;

/// Where a possible duplicate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateStatus {
    /// Waiting for staff.
    Pending,
    /// Staff found the two records to be one person.
    SamePerson,
    /// Staff found two people.
    DifferentPerson,
}

/// A possible duplicate registration waiting for staff.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateCase {
    /// The newly registered patient.
    pub patient: PatientId,
    /// The existing record they may duplicate.
    pub existing: PatientId,
    /// Where the case stands.
    pub status: DuplicateStatus,
    /// The posterior match probability (absent for cases found before the matcher).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The FHIR `$match` grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<MatchGrade>,
    /// Why: every field's agreement and weight (no personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<bedside_records::matching::Explanation>,
}

/// Input of self-registration (the portal form).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Given names.
    pub given: Vec<String>,
    /// Family name.
    pub family: String,
    /// Birth date `YYYY-MM-DD`.
    pub birth_date: String,
    /// Mobile phone (E.164).
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Whether the patient wants SMS reminders (default true when a phone is given).
    pub sms_reminders: Option<bool>,
    /// Preferred language (BCP-47).
    pub language: Option<String>,
}

impl Registration {
    /// The record this form describes.
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] listing every field problem (paths only).
    // Not split: every field is checked and every problem collected before the record is
    // built, as one list the caller gets whole.
    pub fn to_patient(&self, id: PatientId) -> Result<Patient, ClinicError> {
        use bedside_records::{
            ContactPoint, HumanName, NameUse, RoutePreference, TelecomSystem, TelecomUse,
        };
        let mut problems = Vec::new();
        if self.family.trim().is_empty() || self.family.len() > 200 {
            problems.push("family: required, at most 200 characters".to_string());
        }
        if self.given.is_empty()
            || self
                .given
                .iter()
                .any(|g| g.trim().is_empty() || g.len() > 200)
        {
            problems.push(
                "given: at least one non-empty name, each at most 200 characters".to_string(),
            );
        }
        for (i, g) in self.given.iter().enumerate() {
            check_text(&format!("given[{i}]"), g, &mut problems);
        }
        check_text("family", &self.family, &mut problems);
        for (path, value) in [("email", &self.email), ("postal_code", &self.postal_code)] {
            if let Some(v) = value {
                check_text(path, v, &mut problems);
                if v.len() > 200 {
                    problems.push(format!("{path}: at most 200 characters"));
                }
            }
        }
        if let Some(phone) = &self.phone
            && e164(phone).is_none()
        {
            problems.push("phone: expected an E.164 number such as +12125550100".to_string());
        }
        let birth = self.birth_date.parse::<bedside_core::PartialDate>();
        if birth.is_err() {
            problems.push("birth_date: expected YYYY-MM-DD".to_string());
        }
        let language = match &self.language {
            Some(l) => match Language::new(l) {
                Ok(l) => Some(l),
                Err(_) => {
                    problems.push("language: expected a BCP-47 tag".to_string());
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the registration", problems.len()),
                details: problems,
            });
        }
        let mut p = Patient::new(id);
        let given: Vec<&str> = self.given.iter().map(String::as_str).collect();
        p.names.push(HumanName::new(
            NameUse::Official,
            &given,
            self.family.trim(),
        ));
        p.birth_date = birth.ok().map(Sensitive::new);
        let mut routes = Vec::new();
        if let Some(phone) = self.phone.as_deref().and_then(e164) {
            p.telecom.push(ContactPoint::new(
                TelecomSystem::Phone,
                phone.clone(),
                Some(TelecomUse::Mobile),
            ));
            routes.push(RoutePreference {
                route: bedside_core::ContactRoute::new(Channel::Sms, phone),
                state: if self.sms_reminders.unwrap_or(true) {
                    OptState::OptedIn
                } else {
                    OptState::OptedOut
                },
            });
        }
        if let Some(email) = &self.email {
            p.telecom
                .push(ContactPoint::new(TelecomSystem::Email, email.clone(), None));
            routes.push(RoutePreference {
                route: bedside_core::ContactRoute::new(Channel::Email, email.clone()),
                state: OptState::OptedIn,
            });
        }
        if !routes.is_empty() {
            p.set_preference(ContactPurpose::AppointmentReminders, routes);
        }
        if let Some(code) = &self.postal_code {
            p.addresses.push(bedside_records::model::Address {
                use_: Some(bedside_records::model::AddressUse::Home),
                postal_code: Some(Sensitive::new(code.clone())),
                ..Default::default()
            });
        }
        if let Some(l) = language {
            p.communication
                .push(bedside_records::model::Communication::preferred(&l));
        }
        Ok(p)
    }
}

/// Register a patient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Register {
    /// The record.
    pub patient: Box<Patient>,
    /// Who.
    pub by: Actor,
    /// A possible duplicate found at registration, to be resolved by staff.
    pub possible_duplicate: Option<PatientId>,
    /// Whether the mobile number is a verified SMS identity (staff registration). Absent
    /// in journals written before verification existed: then staff registrations count as
    /// verified and self-registrations do not.
    #[serde(default)]
    pub phone_verified: Option<bool>,
    /// The one-time code sent to the number of a self-registration (its hash only).
    #[serde(default)]
    pub phone_code: Option<PhoneCode>,
    /// The matcher's score, grade and explanation for `possible_duplicate` (absent in
    /// journals written before the matcher decided): journaled so replay never re-matches.
    #[serde(default)]
    pub duplicate_match: Option<Box<RankedMatch>>,
}

/// A registration as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    /// The new patient.
    pub patient: PatientId,
    /// The record's first version.
    pub version: u32,
    /// Whether the matcher queued a possible duplicate for staff.
    pub possible_duplicate: bool,
}

/// A self-registration's answer: the same whether or not the person was already a patient
/// (a possible duplicate goes to the staff queue only).
#[derive(Clone, Serialize)]
pub struct SelfRegistered {
    /// The new patient.
    pub patient: PatientId,
    /// The record's first version.
    pub version: u32,
    /// The patient's bearer token.
    pub token: Sensitive<String>,
    /// `code-sent` when a one-time code went to the mobile number, else `none`.
    pub phone_verification: &'static str,
}

/// What registration answers: staff see the duplicate flag, a patient gets a token.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RegistrationReply {
    /// Front-desk registration.
    Staff(Registered),
    /// Self-registration.
    Patient(SelfRegistered),
}

impl RegistrationReply {
    /// The registered patient.
    pub fn patient(&self) -> PatientId {
        match self {
            RegistrationReply::Staff(r) => r.patient,
            RegistrationReply::Patient(r) => r.patient,
        }
    }

    /// The record's first version.
    pub fn version(&self) -> u32 {
        match self {
            RegistrationReply::Staff(r) => r.version,
            RegistrationReply::Patient(r) => r.version,
        }
    }
}

impl std::fmt::Debug for SelfRegistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfRegistered")
            .field("patient", &self.patient)
            .field("version", &self.version)
            .field("token", &self.token)
            .field("phone_verification", &self.phone_verification)
            .finish()
    }
}

impl Apply for Register {
    type Reply = Registered;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Registered, ClinicError> {
        let Register {
            patient,
            by,
            possible_duplicate,
            phone_verified,
            phone_code,
            duplicate_match,
        } = self;
        let at = cx.at;
        let id = patient.id;
        let version = st
            .registry
            .register((**patient).clone(), by, "registration", at)?;
        let verified = phone_verified.unwrap_or(matches!(by, Actor::Staff(_)));
        st.set_phone_state(id, verified, phone_code.as_ref());
        st.index_match(id);
        if let Some(existing) = possible_duplicate {
            let found = duplicate_match.as_deref();
            st.duplicates.push(DuplicateCase {
                patient: id,
                existing: *existing,
                status: DuplicateStatus::Pending,
                score: found.map(|m| m.score),
                grade: found.map(|m| m.grade),
                explanation: found.map(|m| m.explanation.clone()),
            });
        }
        Ok(Registered {
            patient: id,
            version,
            possible_duplicate: possible_duplicate.is_some(),
        })
    }
}

/// A new mobile number: verified when staff register it, otherwise a code is sent to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetPhone {
    /// The patient.
    pub patient: PatientId,
    /// The number (E.164).
    pub phone: Sensitive<String>,
    /// Whether staff vouch for it.
    pub verified: bool,
    /// The code sent to it (hash), for a patient's own change.
    pub code: Option<PhoneCode>,
    /// Who.
    pub by: Actor,
}

/// A patient's phone verification state after a change or a code.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneState {
    /// The patient.
    pub patient: PatientId,
    /// Whether the number on file is a verified SMS identity.
    pub verified: bool,
    /// Codes left before a new one must be requested (after a wrong code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

impl Apply for SetPhone {
    type Reply = PhoneState;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<PhoneState, ClinicError> {
        let SetPhone {
            patient,
            phone,
            verified,
            code,
            by,
        } = self;
        let at = cx.at;
        let current = st
            .registry
            .current_version(*patient)
            .ok_or(ClinicError::NotFound { kind: "patient" })?;
        let base = current.number;
        let mut record = current.record.clone();
        replace_mobile(&mut record, phone.expose());
        let edit = RecordEdit::new(*patient, base, record, "phone");
        match st.registry.update(edit, by, at) {
            Ok(_) | Err(bedside_records::RegistryError::NoChange) => {}
            Err(e) => return Err(e.into()),
        }
        st.index_match(*patient);
        st.set_phone_state(*patient, *verified, code.as_ref());
        Ok(PhoneState {
            patient: *patient,
            verified: *verified,
            attempts_left: None,
        })
    }
}

/// The patient entered a one-time code for their number (failed attempts count too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyPhone {
    /// The patient.
    pub patient: PatientId,
    /// Whether the code matched.
    pub success: bool,
}

impl Apply for VerifyPhone {
    type Reply = PhoneState;
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<PhoneState, ClinicError> {
        let VerifyPhone { patient, success } = self;
        let pending = st
            .phone_codes
            .get_mut(patient)
            .ok_or_else(|| ClinicError::conflict("no phone verification is pending"))?;
        if *success {
            let phone = pending.phone.clone();
            st.phone_codes.remove(patient);
            st.verified_phone.insert(*patient, phone);
            st.index_phones(*patient);
            Ok(PhoneState {
                patient: *patient,
                verified: true,
                attempts_left: None,
            })
        } else {
            pending.attempts = pending.attempts.saturating_add(1);
            Ok(PhoneState {
                patient: *patient,
                verified: false,
                attempts_left: Some(MAX_CODE_ATTEMPTS.saturating_sub(pending.attempts)),
            })
        }
    }
}

/// Resolve a possible duplicate found at registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveDuplicate {
    /// The newly registered patient.
    pub patient: PatientId,
    /// Whether staff found them to be the same person as the existing record.
    pub same_person: bool,
    /// Who.
    pub by: Actor,
}

impl Apply for ResolveDuplicate {
    type Reply = DuplicateCase;
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<DuplicateCase, ClinicError> {
        let ResolveDuplicate {
            patient,
            same_person,
            by: _,
        } = self;
        let case = st
            .duplicates
            .iter_mut()
            .find(|c| c.patient == *patient && c.status == DuplicateStatus::Pending)
            .ok_or(ClinicError::NotFound {
                kind: "duplicate case",
            })?;
        case.status = if *same_person {
            DuplicateStatus::SamePerson
        } else {
            DuplicateStatus::DifferentPerson
        };
        Ok(case.clone())
    }
}

impl Clinic {
    /// Self-registration (or front-desk registration): validates, checks for a possible
    /// duplicate (same birth date, similar names), registers, and for a self-registration
    /// issues the patient's token.
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] with every problem, or a registry refusal.
    pub fn register(
        &self,
        form: &Registration,
        by: Option<&Principal>,
    ) -> Result<RegistrationReply, ClinicError> {
        let id = PatientId::from_uuid(uuid::Uuid::now_v7());
        let patient = form.to_patient(id)?;
        let report = bedside_records::validate(&patient, self.now());
        let errors: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.severity == bedside_records::IssueSeverity::Error)
            .map(|p| p.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the registration", errors.len()),
                details: errors,
            });
        }
        let endpoint = if by.is_some() {
            Endpoint::StaffRegister
        } else {
            Endpoint::SelfRegister
        };
        access::permit(endpoint, by, None, ClassSet::default())?;
        let phone = form.phone.as_deref().and_then(e164);
        let mut inner = self.lock();
        let found = find_duplicate(&inner.state.matches, &patient);
        let possible_duplicate = found.as_ref().map(|m| m.patient);
        let actor = match by {
            Some(p) => self.actor(p),
            None => Actor::Patient { patient: id },
        };
        let mut extra = Batch::default();
        let mut phone_code = None;
        let mut token = None;
        if by.is_none() {
            let (t, row) = self.fresh_token(&Principal::Patient { patient: id })?;
            token = Some(t);
            extra.tokens.push(row);
            if let Some(phone) = &phone {
                let (code, message) = self.code_message(id, phone)?;
                phone_code = Some(code);
                extra.outbox.push(message);
            }
        }
        let registered = self.execute_with(
            &mut inner,
            Register {
                patient: Box::new(patient),
                by: actor,
                possible_duplicate,
                phone_verified: Some(by.is_some() && phone.is_some()),
                phone_code,
                duplicate_match: found.map(Box::new),
            },
            extra,
        )?;
        drop(inner);
        match token {
            // The anonymous answer is the same whether or not this person was already a
            // patient: a possible duplicate goes to the staff queue only.
            Some(token) => Ok(RegistrationReply::Patient(SelfRegistered {
                patient: id,
                version: registered.version,
                token: Sensitive::new(token),
                phone_verification: if phone.is_some() { "code-sent" } else { "none" },
            })),
            None => Ok(RegistrationReply::Staff(registered)),
        }
    }

    /// A fresh one-time code for `phone`: what the journal keeps (its hash) and the SMS that
    /// carries it (written to the outbox in the same transaction, shown to no API caller).
    pub(super) fn code_message(
        &self,
        patient: PatientId,
        phone: &str,
    ) -> Result<(PhoneCode, OutboxMessage), ClinicError> {
        let code = new_code()
            .map_err(|_| StoreError::Io(std::io::Error::other("the OS random generator failed")))?;
        let now = self.now();
        let message = OutboxMessage {
            id: 0,
            created_at: now.to_rfc3339(),
            send_at: now.to_rfc3339(),
            patient: patient.to_string(),
            purpose: PHONE_VERIFICATION.into(),
            channel: "sms".into(),
            address: phone.to_string(),
            body: format!(
                "{}: your code is {code}. It expires in {CODE_TTL_MINUTES} minutes.",
                self.config.name
            ),
            status: "pending".into(),
        };
        let hash = code_hash(patient, &code);
        Ok((
            PhoneCode {
                hash,
                expires_at: now + TimeDelta::minutes(CODE_TTL_MINUTES),
            },
            message,
        ))
    }

    /// A new mobile number for a patient: set by the patient it is unverified until they
    /// confirm the code sent to it; set by front-desk staff it is verified at once.
    ///
    /// # Errors
    /// Bad request for a number that is not E.164; forbidden; not found.
    pub fn set_phone(
        &self,
        principal: &Principal,
        patient: PatientId,
        phone: &str,
    ) -> Result<PhoneState, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::SetPhone, Some(principal), Some(patient))?;
        let phone =
            e164(phone).ok_or_else(|| ClinicError::bad("phone: expected an E.164 number"))?;
        self.authorize_command(
            &mut inner,
            principal,
            patient,
            Action::Update,
            &[DataClass::Contact],
        )
        .or_else(|e| match principal {
            // The right-of-access policy lets a patient read, not update: their own contact
            // details are self-service, as in `change_profile`.
            Principal::Patient { .. } => Ok(()),
            _ => Err(e),
        })?;
        let staff = matches!(principal, Principal::Staff { .. });
        let mut extra = Batch::default();
        let code = if staff {
            None
        } else {
            let (code, message) = self.code_message(patient, &phone)?;
            extra.outbox.push(message);
            Some(code)
        };
        let by = self.actor(principal);
        self.execute_with(
            &mut inner,
            SetPhone {
                patient,
                phone: Sensitive::new(phone),
                verified: staff,
                code,
                by,
            },
            extra,
        )
    }

    /// The patient confirms the one-time code sent to their number; it then becomes their SMS
    /// identity. After five wrong codes, or after expiry, a new code must be
    /// requested.
    ///
    /// # Errors
    /// Bad request for a wrong code (the attempt counts); conflict when nothing is pending,
    /// the code expired or too many attempts were made; forbidden.
    pub fn verify_phone(
        &self,
        principal: &Principal,
        patient: PatientId,
        code: &str,
    ) -> Result<PhoneState, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::VerifyPhone,
            Some(principal),
            Some(patient),
        )?;
        let now = self.now();
        let pending = inner
            .state
            .phone_codes
            .get(&patient)
            .ok_or_else(|| ClinicError::conflict("no phone verification is pending"))?;
        if pending.expires_at <= now || pending.attempts >= MAX_CODE_ATTEMPTS {
            return Err(ClinicError::conflict(
                "the code expired or too many attempts were made: ask for a new code",
            ));
        }
        let wanted = pending.hash.clone();
        let given = code_hash(patient, code.trim());
        let success = given.len() == wanted.len()
            && given
                .bytes()
                .zip(wanted.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        let state = self.execute_locked(&mut inner, VerifyPhone { patient, success })?;
        match state.attempts_left {
            Some(left) if !success => Err(ClinicError::BadRequest {
                message: "code: incorrect".into(),
                details: vec![format!("code: incorrect, {left} attempt(s) left")],
            }),
            _ => Ok(state),
        }
    }

    /// Possible duplicates awaiting staff.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] unless reception, scheduler or admin.
    pub fn duplicates(&self, principal: &Principal) -> Result<Vec<DuplicateCase>, ClinicError> {
        Self::staff_gate(Endpoint::Duplicates, principal)?;
        let inner = self.lock();
        Ok(inner.state.duplicates.clone())
    }

    /// Staff decide whether a possible duplicate is the same person.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] unless reception, scheduler or admin; not found.
    pub fn resolve_duplicate(
        &self,
        principal: &Principal,
        patient: PatientId,
        verdict: DuplicateVerdict,
    ) -> Result<DuplicateCase, ClinicError> {
        Self::staff_gate(Endpoint::ResolveDuplicate, principal)?;
        self.run(ResolveDuplicate {
            patient,
            same_person: verdict == DuplicateVerdict::SamePerson,
            by: self.actor(principal),
        })
    }
}

/// What staff decided about a possible duplicate ([`Clinic::resolve_duplicate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateVerdict {
    /// The new registration is the existing patient.
    SamePerson,
    /// They are two people.
    DifferentPeople,
}
/// The hash kept for a one-time code: SHA-256 of the patient id and the code.
pub(super) fn code_hash(patient: PatientId, code: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::auth::hex(&Sha256::digest(format!("{patient}:{code}").as_bytes()))
}

/// Replaces the mobile number on file (and the SMS reminder route) with `phone`.
pub(super) fn replace_mobile(record: &mut Patient, phone: &str) {
    use bedside_records::{ContactPoint, RoutePreference, TelecomSystem, TelecomUse};
    record
        .telecom
        .retain(|t| t.system != Some(TelecomSystem::Phone));
    record.telecom.insert(
        0,
        ContactPoint::new(TelecomSystem::Phone, phone, Some(TelecomUse::Mobile)),
    );
    let mut routes: Vec<RoutePreference> = record
        .preferences
        .iter()
        .find(|p| p.purpose == ContactPurpose::AppointmentReminders)
        .map(|p| p.routes.clone())
        .unwrap_or_default();
    let state = routes
        .iter()
        .find(|r| r.route.channel == Channel::Sms)
        .map_or(OptState::OptedIn, |r| r.state);
    routes.retain(|r| r.route.channel != Channel::Sms);
    routes.insert(
        0,
        RoutePreference {
            route: bedside_core::ContactRoute::new(Channel::Sms, phone.to_string()),
            state,
        },
    );
    record.set_preference(ContactPurpose::AppointmentReminders, routes);
}

/// The most likely existing record for a registration, when the matcher grades it `certain`
/// or `probable` (the upper half of the review band). `possible` pairs are not queued: in a
/// large population many strangers share a birth date and a similar name, and a queue that
/// flags most new patients is a queue staff stop reading.
pub(super) fn find_duplicate(index: &MatchIndex, candidate: &Patient) -> Option<RankedMatch> {
    index
        .match_one(&MatchRecord::from(candidate), 1)
        .into_iter()
        .find(|m| matches!(m.grade, MatchGrade::Certain | MatchGrade::Probable))
}
