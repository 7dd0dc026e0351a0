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
    hex(&Sha256::digest(token.as_bytes()))
}

/// Bytes of OS randomness in a token: 256 bits, far above the 128-bit floor, and independent
/// of every id the clinic hands out.
pub const TOKEN_RANDOM_BYTES: usize = 32;

/// `n` bytes from the operating system's CSPRNG.
///
/// # Errors
/// The OS refused (no entropy source); the caller must not fall back to anything weaker.
pub fn os_random(n: usize) -> Result<Vec<u8>, getrandom::Error> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A fresh random token: [`TOKEN_RANDOM_BYTES`] bytes from the OS CSPRNG, hex, behind a
/// readable prefix (`pt_`, `px_`, `st_`).
///
/// # Errors
/// The OS refused to give randomness.
pub fn new_token(prefix: &str) -> Result<String, getrandom::Error> {
    Ok(format!("{prefix}_{}", hex(&os_random(TOKEN_RANDOM_BYTES)?)))
}

/// A six-digit one-time code from the OS CSPRNG (rejection sampling, so every code is
/// equally likely).
///
/// # Errors
/// The OS refused to give randomness.
pub fn new_code() -> Result<String, getrandom::Error> {
    loop {
        let b = os_random(4)?;
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = new_token("pt").unwrap_or_default();
        let b = new_token("pt").unwrap_or_default();
        // 3 prefix characters and 64 hex digits: 256 random bits.
        assert_eq!(a.len(), 3 + 2 * TOKEN_RANDOM_BYTES);
        assert_ne!(a, b);
        assert!(a.starts_with("pt_"));
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..50 {
            let c = new_code().unwrap_or_default();
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
    }
}
