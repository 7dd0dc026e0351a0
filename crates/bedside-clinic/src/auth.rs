//! Bearer tokens: who is calling. Tokens are random, shown once, and stored only as SHA-256.

use bedside_core::{
    Actor, OrganisationId, PatientId, ProviderId, RelatedPersonId, Role, Staff, StaffId,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// A staff member with roles.
    Staff {
        /// Staff id.
        id: StaffId,
        /// Roles (`clinician`, `nurse`, `scheduler`, `reception`, `billing`, …).
        roles: Vec<Role>,
        /// The provider this staff member is, for clinicians.
        provider: Option<ProviderId>,
    },
    /// A patient, for their own record.
    Patient {
        /// The patient.
        patient: PatientId,
    },
    /// A related person acting for a patient, within a proxy grant.
    Proxy {
        /// The related person.
        related_person: RelatedPersonId,
        /// The patient they act for.
        patient: PatientId,
    },
}

impl Principal {
    /// The consent engine's actor for this principal in `organisation`.
    pub fn actor(&self, organisation: OrganisationId) -> Actor {
        match self {
            Principal::Staff {
                id,
                roles,
                provider,
            } => Actor::Staff(Staff {
                id: *id,
                roles: roles.clone(),
                organisation,
                provider: *provider,
            }),
            Principal::Patient { patient } => Actor::Patient { patient: *patient },
            Principal::Proxy {
                related_person,
                patient,
            } => Actor::Proxy {
                related_person: *related_person,
                patient: *patient,
            },
        }
    }

    /// Whether this is staff holding any of `roles`.
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        match self {
            Principal::Staff { roles: mine, .. } => mine.iter().any(|r| roles.contains(r)),
            _ => false,
        }
    }

    /// The patient a patient or proxy principal acts for.
    pub fn acting_for(&self) -> Option<PatientId> {
        match self {
            Principal::Staff { .. } => None,
            Principal::Patient { patient } | Principal::Proxy { patient, .. } => Some(*patient),
        }
    }
}

/// Hex SHA-256 of a token: the only form stored.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A fresh random token: two UUIDv7s' random bits (148 bits from the OS generator) with a
/// readable prefix.
pub fn new_token(prefix: &str) -> String {
    let a = uuid::Uuid::now_v7().simple().to_string();
    let b = uuid::Uuid::now_v7().simple().to_string();
    // The first 12 hex digits of a UUIDv7 are the timestamp: keep only the random part.
    format!("{prefix}_{}{}", &a[12..], &b[12..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = new_token("pt");
        let b = new_token("pt");
        assert_ne!(a, b);
        assert!(a.starts_with("pt_"));
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
