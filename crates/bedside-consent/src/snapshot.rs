//! [`EngineSnapshot`]: the engine's state as plain data, to store and reload.
//!
//! [`Engine::snapshot`] gives every consent (with its current status), the whole status
//! history, every care team and every proxy grant, in a deterministic order (patients by id);
//! [`Engine::restore`] rebuilds the indices from it, validating every consent again. The policy
//! is not part of it: it is configuration, reloaded from its own JSON. The [`crate::AuditLog`]
//! has its own text form ([`crate::AuditLog::to_text`] / [`crate::AuditLog::from_text`]).

use crate::consent::{CareTeam, Consent, ConsentStore, ProxyGrant, StatusChange};
use crate::engine::Engine;
use crate::error::ConsentError;
use crate::idmap::IdMap;
use crate::policy::Policy;
use bedside_core::PatientId;
use serde::{Deserialize, Serialize};

/// Everything a [`ConsentStore`] holds, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSnapshot {
    /// Every consent, grouped by patient (patients by id), each patient's in the order added.
    pub consents: Vec<Consent>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
    /// Every care team, by patient id.
    pub care_teams: Vec<(PatientId, CareTeam)>,
}

/// Everything an [`Engine`] holds except its [`Policy`], as plain data.
///
/// ```
/// use bedside_consent::{Consent, Engine, EngineSnapshot, Policy, Provision, ProvisionType};
/// use bedside_core::{Actor, ConsentId, PatientId};
///
/// let policy = || Policy::from_json(r#"{ "rules": [] }"#);
/// let mut engine = Engine::new(policy()?);
/// let patient = PatientId::from_uuid(uuid::Uuid::from_u128(1));
/// let consent = Consent::new(
///     ConsentId::from_uuid(uuid::Uuid::from_u128(2)),
///     patient,
///     Provision::new(ProvisionType::Permit),
/// );
/// engine.consents_mut().add(consent, "2026-06-10T09:00:00Z".parse()?, &Actor::system("desk"))?;
///
/// let stored = serde_json::to_string(&engine.snapshot())?;
/// let back = Engine::restore(policy()?, serde_json::from_str::<EngineSnapshot>(&stored)?)?;
/// assert_eq!(back.snapshot(), engine.snapshot());
/// assert_eq!(back.consents().for_patient(patient).len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSnapshot {
    /// The consent store.
    pub store: StoreSnapshot,
    /// Every proxy grant, by (related person, patient), each pair's in the order added.
    pub proxy_grants: Vec<ProxyGrant>,
}

impl ConsentStore {
    /// The store as plain data (see [`StoreSnapshot`]).
    pub fn snapshot(&self) -> StoreSnapshot {
        let mut patients: Vec<&PatientId> = self.by_patient.keys().collect();
        patients.sort();
        let mut out = StoreSnapshot {
            history: self.history.clone(),
            ..StoreSnapshot::default()
        };
        for patient in patients {
            if let Some(entry) = self.by_patient.get(patient) {
                out.consents.extend(entry.consents.iter().cloned());
                if let Some(team) = &entry.care_team {
                    out.care_teams.push((*patient, team.clone()));
                }
            }
        }
        out
    }

    /// Rebuilds a store from a snapshot.
    ///
    /// # Errors
    /// [`ConsentError::InvalidConsent`] when a consent fails [`Consent::validate`] or two share
    /// an id (the path names the consent's position in the snapshot).
    pub fn restore(snapshot: StoreSnapshot) -> Result<Self, ConsentError> {
        let mut store = ConsentStore::new();
        for (i, consent) in snapshot.consents.into_iter().enumerate() {
            consent.validate().map_err(|e| match e {
                ConsentError::InvalidConsent { path, reason } => ConsentError::InvalidConsent {
                    path: format!("consents[{i}].{path}"),
                    reason,
                },
                other => other,
            })?;
            if store.by_id.insert(consent.id, consent.patient).is_some() {
                return Err(ConsentError::InvalidConsent {
                    path: format!("consents[{i}].id"),
                    reason: "a consent with this id is already stored".into(),
                });
            }
            store
                .by_patient
                .entry(consent.patient)
                .or_default()
                .consents
                .push(consent);
        }
        for (patient, team) in snapshot.care_teams {
            store.by_patient.entry(patient).or_default().care_team = Some(team);
        }
        store.history = snapshot.history;
        Ok(store)
    }
}

impl Engine {
    /// The engine's consents, care teams and proxy grants as plain data (see
    /// [`EngineSnapshot`]); the policy is not included.
    pub fn snapshot(&self) -> EngineSnapshot {
        let mut keys: Vec<_> = self.proxies.keys().copied().collect();
        keys.sort();
        EngineSnapshot {
            store: self.consents.snapshot(),
            proxy_grants: keys
                .iter()
                .filter_map(|k| self.proxies.get(k))
                .flatten()
                .cloned()
                .collect(),
        }
    }

    /// An engine with `policy` and the state of `snapshot`.
    ///
    /// # Errors
    /// As [`ConsentStore::restore`].
    pub fn restore(policy: Policy, snapshot: EngineSnapshot) -> Result<Self, ConsentError> {
        let mut proxies: IdMap<_, Vec<ProxyGrant>> = IdMap::default();
        for grant in snapshot.proxy_grants {
            proxies
                .entry((grant.related_person, grant.patient))
                .or_default()
                .push(grant);
        }
        Ok(Engine {
            policy,
            consents: ConsentStore::restore(snapshot.store)?,
            proxies,
        })
    }
}
