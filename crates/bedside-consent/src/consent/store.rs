//! [`ConsentStore`]: consents and care teams by patient, with every status change kept.

use super::*;

/// One status change of a consent, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The consent.
    pub consent: ConsentId,
    /// New status.
    pub status: ConsentStatus,
    /// When.
    pub at: Timestamp,
    /// Who (PHI-free actor label).
    pub by: String,
}

/// The staff and providers treating a patient, as typed ids: membership is what a policy rule
/// with `"care_team": true` checks.
///
/// Not the patient record's `bedside_records::GeneralPractitioners` (FHIR
/// `Patient.generalPractitioner` references, possibly unresolved). The crates do not depend on
/// each other, so conversions go through provider ids: `CareTeam::from(providers)` takes the
/// `Vec<ProviderId>` that `Vec::<ProviderId>::from(&gps)` gives, and the `providers` field
/// goes back (`GeneralPractitioners::from_iter`).
///
/// ```
/// use bedside_consent::CareTeam;
/// use bedside_core::ProviderId;
///
/// let gp = ProviderId::from_uuid(uuid::Uuid::from_u128(9));
/// let team = CareTeam::from(vec![gp]);
/// assert_eq!(team.providers, [gp]);
/// assert!(team.staff.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareTeam {
    /// Staff members.
    pub staff: Vec<StaffId>,
    /// Providers.
    pub providers: Vec<ProviderId>,
}

impl From<Vec<ProviderId>> for CareTeam {
    fn from(providers: Vec<ProviderId>) -> Self {
        Self {
            staff: Vec::new(),
            providers,
        }
    }
}

impl FromIterator<ProviderId> for CareTeam {
    fn from_iter<I: IntoIterator<Item = ProviderId>>(providers: I) -> Self {
        Self::from(providers.into_iter().collect::<Vec<_>>())
    }
}

impl CareTeam {
    /// Whether `actor` is a member.
    pub fn includes(&self, actor: &Actor) -> bool {
        match actor {
            Actor::Staff(s) => {
                self.staff.contains(&s.id)
                    || s.provider.is_some_and(|p| self.providers.contains(&p))
            }
            _ => false,
        }
    }
}

/// What the store keeps per patient: their consents and care team, side by side so that one
/// lookup serves a decision.
#[derive(Debug, Clone, Default)]
pub(crate) struct PatientEntry {
    pub consents: Vec<Consent>,
    pub care_team: Option<CareTeam>,
}

/// Consents (and care teams) indexed by patient, with the history of every status change. A patient's consents
/// are stored together, so a decision touches one contiguous block.
#[derive(Debug, Clone, Default)]
pub struct ConsentStore {
    pub(crate) by_patient: IdMap<PatientId, PatientEntry>,
    pub(crate) by_id: IdMap<ConsentId, PatientId>,
    pub(crate) history: Vec<StatusChange>,
}

impl ConsentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a consent.
    ///
    /// # Errors
    /// [`ConsentError::InvalidConsent`] when the consent fails [`Consent::validate`] or its id is
    /// already stored.
    pub fn add(&mut self, consent: Consent, at: Timestamp, by: &Actor) -> Result<(), ConsentError> {
        consent.validate()?;
        if self.by_id.contains_key(&consent.id) {
            return Err(ConsentError::InvalidConsent {
                path: "id".into(),
                reason: "a consent with this id is already stored".into(),
            });
        }
        self.history.push(StatusChange {
            consent: consent.id,
            status: consent.status,
            at,
            by: by.label(),
        });
        self.by_id.insert(consent.id, consent.patient);
        self.by_patient
            .entry(consent.patient)
            .or_default()
            .consents
            .push(consent);
        Ok(())
    }

    /// Changes a consent's status (revocation is `Inactive`); the change is kept in the history.
    ///
    /// # Errors
    /// [`ConsentError::ConsentNotFound`] for an unknown id.
    pub fn set_status(
        &mut self,
        id: ConsentId,
        status: ConsentStatus,
        at: Timestamp,
        by: &Actor,
    ) -> Result<(), ConsentError> {
        let not_found = || ConsentError::ConsentNotFound { id: id.to_string() };
        let patient = *self.by_id.get(&id).ok_or_else(not_found)?;
        let consent = self
            .by_patient
            .get_mut(&patient)
            .and_then(|e| e.consents.iter_mut().find(|c| c.id == id))
            .ok_or_else(not_found)?;
        consent.status = status;
        self.history.push(StatusChange {
            consent: id,
            status,
            at,
            by: by.label(),
        });
        Ok(())
    }

    /// Revokes a consent.
    ///
    /// # Errors
    /// [`ConsentError::ConsentNotFound`] for an unknown id.
    pub fn revoke(&mut self, id: ConsentId, at: Timestamp, by: &Actor) -> Result<(), ConsentError> {
        self.set_status(id, ConsentStatus::Inactive, at, by)
    }

    /// A consent by id.
    pub fn get(&self, id: ConsentId) -> Option<&Consent> {
        let patient = self.by_id.get(&id)?;
        self.by_patient
            .get(patient)?
            .consents
            .iter()
            .find(|c| c.id == id)
    }

    /// Every consent of a patient, in the order they were added.
    pub fn for_patient(&self, patient: PatientId) -> &[Consent] {
        self.by_patient
            .get(&patient)
            .map_or(&[], |e| e.consents.as_slice())
    }

    /// Every consent, grouped by patient (patients in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Consent> {
        self.by_patient.values().flat_map(|e| e.consents.iter())
    }

    /// Sets a patient's care team.
    pub fn set_care_team(&mut self, patient: PatientId, team: CareTeam) {
        self.by_patient.entry(patient).or_default().care_team = Some(team);
    }

    /// A patient's care team.
    pub fn care_team(&self, patient: PatientId) -> Option<&CareTeam> {
        self.by_patient.get(&patient)?.care_team.as_ref()
    }

    pub(crate) fn entry(&self, patient: PatientId) -> Option<&PatientEntry> {
        self.by_patient.get(&patient)
    }

    /// Every status change, oldest first.
    pub fn history(&self) -> &[StatusChange] {
        &self.history
    }

    /// Number of consents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Records an SMS-style STOP (or any opt-out on a channel) at `at`: every active consent of
    /// the patient whose provisions only permit contact on that channel is revoked, and a new
    /// active consent denying all contact on the channel is added with id `new_id`.
    ///
    /// # Errors
    /// [`ConsentError::InvalidConsent`] when `new_id` is already used.
    pub fn stop(
        &mut self,
        patient: PatientId,
        channel: AccessChannel,
        new_id: ConsentId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<(), ConsentError> {
        if self.by_id.contains_key(&new_id) {
            return Err(ConsentError::InvalidConsent {
                path: "id".into(),
                reason: "a consent with this id is already stored".into(),
            });
        }
        let only_this_channel: Vec<ConsentId> = self
            .for_patient(patient)
            .iter()
            .filter(|c| {
                c.status == ConsentStatus::Active && is_contact_consent_for(&c.provision, channel)
            })
            .map(|c| c.id)
            .collect();
        for id in only_this_channel {
            self.revoke(id, at, by)?;
        }
        let deny = Provision::new(ProvisionType::Deny)
            .action(Action::Contact)
            .channel(channel);
        let mut consent = Consent::new(new_id, patient, deny);
        consent.default_type = ProvisionType::Deny;
        self.add(consent, at, by)
    }
}

/// Whether a provision tree is a communication consent that concerns only `channel`.
fn is_contact_consent_for(p: &Provision, channel: AccessChannel) -> bool {
    let own =
        p.actions == ActionSet::from(Action::Contact) && p.channels == ChannelSet::from(channel);
    own && p.provisions.iter().all(|c| {
        is_contact_consent_for(c, channel) || c.channels.is_subset(ChannelSet::from(channel))
    })
}
