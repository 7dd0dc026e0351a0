//! [`Actor`]: who does something. Every mutating operation in Bedside takes an `&Actor` so that
//! history and audit record who did what.

use crate::error::CoreError;
use crate::id::{OrganisationId, PatientId, ProviderId, RelatedPersonId, StaffId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A staff role code such as `clinician` or `billing`. Organisations may define their own;
/// the common ones are associated constants.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Role(Cow<'static, str>);

impl Role {
    /// Physician or other licensed clinician who treats patients.
    pub const CLINICIAN: Role = Role(Cow::Borrowed("clinician"));
    /// Nurse.
    pub const NURSE: Role = Role(Cow::Borrowed("nurse"));
    /// Front-desk or call-centre staff who book appointments.
    pub const SCHEDULER: Role = Role(Cow::Borrowed("scheduler"));
    /// Reception staff who check patients in.
    pub const RECEPTION: Role = Role(Cow::Borrowed("reception"));
    /// Billing and revenue-cycle staff.
    pub const BILLING: Role = Role(Cow::Borrowed("billing"));
    /// Privacy officer who reviews break-glass accesses and disclosures.
    pub const PRIVACY_OFFICER: Role = Role(Cow::Borrowed("privacy-officer"));
    /// Practice manager who reads aggregate reports.
    pub const MANAGER: Role = Role(Cow::Borrowed("manager"));
    /// System administrator.
    pub const ADMIN: Role = Role(Cow::Borrowed("admin"));

    /// Creates a role from a code of lowercase ASCII letters, digits, `-` and `_`.
    ///
    /// # Errors
    /// Returns [`CoreError::InvalidRole`] for an empty code or other characters.
    pub fn new(code: impl Into<String>) -> Result<Self, CoreError> {
        let code = code.into();
        let ok = !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Role(Cow::Owned(code)))
        } else {
            Err(CoreError::InvalidRole { role: code })
        }
    }

    /// The role code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({})", self.0)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Role {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        Role::new(s)
    }
}

impl From<Role> for String {
    fn from(r: Role) -> String {
        r.0.into_owned()
    }
}

/// A member of staff acting in the system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Staff {
    /// The staff member.
    pub id: StaffId,
    /// Roles held, which policy rules match on.
    pub roles: Vec<Role>,
    /// The organisation they act for.
    pub organisation: OrganisationId,
    /// The schedulable provider record of this person, when they are one (care-team checks
    /// compare against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderId>,
}

impl Staff {
    /// Whether the staff member holds `role`.
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// Who performs an action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A member of staff.
    Staff(Staff),
    /// The patient, acting for themselves (portal, phone, kiosk).
    Patient {
        /// The patient.
        patient: PatientId,
    },
    /// A related person acting on a patient's behalf (parent, guardian, adult child, caregiver).
    Proxy {
        /// The related person acting.
        related_person: RelatedPersonId,
        /// The patient they act for.
        patient: PatientId,
    },
    /// A recipient outside the organisation (another provider, a payer, a public-health agency).
    External {
        /// The receiving organisation.
        organisation: OrganisationId,
    },
    /// An automated component of the system (a scheduler job, an importer).
    System {
        /// Name of the component, e.g. `reminder-planner`.
        component: String,
    },
}

impl Actor {
    /// A system actor for the named component.
    pub fn system(component: impl Into<String>) -> Self {
        Actor::System {
            component: component.into(),
        }
    }

    /// A short, PHI-free label for history entries and logs (`staff:<id>`, `patient:<id>`, …).
    pub fn label(&self) -> String {
        match self {
            Actor::Staff(s) => format!("staff:{}", s.id),
            Actor::Patient { patient } => format!("patient:{patient}"),
            Actor::Proxy { related_person, .. } => format!("proxy:{related_person}"),
            Actor::External { organisation } => format!("external:{organisation}"),
            Actor::System { component } => format!("system:{component}"),
        }
    }

    /// The staff details when the actor is staff.
    pub fn as_staff(&self) -> Option<&Staff> {
        match self {
            Actor::Staff(s) => Some(s),
            _ => None,
        }
    }

    /// The patient this actor speaks for, when it is the patient or a proxy.
    pub fn acting_for(&self) -> Option<PatientId> {
        match self {
            Actor::Patient { patient } | Actor::Proxy { patient, .. } => Some(*patient),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn role_validation() {
        assert!(Role::new("front-desk").is_ok());
        assert!(Role::new("").is_err());
        assert!(Role::new("Billing").is_err());
        assert_eq!(Role::BILLING.as_str(), "billing");
    }

    #[test]
    fn actor_serde_round_trip() -> Result<(), serde_json::Error> {
        let actor = Actor::Staff(Staff {
            id: StaffId::from_uuid(Uuid::nil()),
            roles: vec![Role::CLINICIAN, Role::new("surgeon").unwrap_or(Role::ADMIN)],
            organisation: OrganisationId::from_uuid(Uuid::max()),
            provider: None,
        });
        let json = serde_json::to_string(&actor)?;
        assert!(json.starts_with(r#"{"kind":"staff""#), "{json}");
        assert_eq!(serde_json::from_str::<Actor>(&json)?, actor);
        assert!(
            actor
                .as_staff()
                .is_some_and(|s| s.has_role(&Role::CLINICIAN))
        );
        assert_eq!(actor.label(), "staff:00000000-0000-0000-0000-000000000000");
        Ok(())
    }

    #[test]
    fn proxy_acts_for_patient() {
        let p = PatientId::from_uuid(Uuid::max());
        let proxy = Actor::Proxy {
            related_person: RelatedPersonId::from_uuid(Uuid::nil()),
            patient: p,
        };
        assert_eq!(proxy.acting_for(), Some(p));
        assert_eq!(Actor::system("importer").acting_for(), None);
    }
}
