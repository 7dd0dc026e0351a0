//! Who acts, and whom proxies act for: actors (staff, patients, proxies, external
//! organisations, system components) and the proxy commands.

use super::common::{PeriodRecord, codes, id, id_text, invalid, opt_id};
use crate::clinic::{GrantProxy, RevokeProxy};
use crate::journal::JournalError;
use bedside_consent::{Action, ActionSet, ClassSet, DataClass, ProxyGrant, Relationship};
use bedside_core::{Actor, Role, Staff};
use serde::{Deserialize, Serialize};

/// Who did something.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ActorRecord {
    /// A member of staff.
    #[serde(rename = "staff")]
    Staff {
        /// Staff id.
        id: String,
        /// Role codes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        roles: Vec<String>,
        /// Their organisation.
        organisation: String,
        /// The provider they are, for clinicians.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
    /// A patient acting for themselves.
    #[serde(rename = "patient")]
    Patient {
        /// The patient.
        patient: String,
    },
    /// A related person acting for a patient.
    #[serde(rename = "proxy")]
    Proxy {
        /// The related person.
        related_person: String,
        /// The patient.
        patient: String,
    },
    /// Another organisation (a payer, a gateway).
    #[serde(rename = "external")]
    External {
        /// The organisation.
        organisation: String,
    },
    /// A component of the system.
    #[serde(rename = "system")]
    System {
        /// Its name.
        component: String,
    },
}

impl TryFrom<ActorRecord> for Actor {
    type Error = JournalError;
    fn try_from(r: ActorRecord) -> Result<Self, JournalError> {
        Ok(match r {
            ActorRecord::Staff {
                id: staff,
                roles,
                organisation,
                provider,
            } => Actor::Staff(Staff {
                id: id(&staff, "by.id")?,
                roles: roles
                    .into_iter()
                    .map(|r| Role::new(r).map_err(|_| invalid("by.roles", "a valid role code")))
                    .collect::<Result<_, _>>()?,
                organisation: id(&organisation, "by.organisation")?,
                provider: opt_id(provider.as_deref(), "by.provider")?,
            }),
            ActorRecord::Patient { patient } => Actor::Patient {
                patient: id(&patient, "by.patient")?,
            },
            ActorRecord::Proxy {
                related_person,
                patient,
            } => Actor::Proxy {
                related_person: id(&related_person, "by.related_person")?,
                patient: id(&patient, "by.patient")?,
            },
            ActorRecord::External { organisation } => Actor::External {
                organisation: id(&organisation, "by.organisation")?,
            },
            ActorRecord::System { component } => Actor::System { component },
        })
    }
}

impl From<&Actor> for ActorRecord {
    fn from(a: &Actor) -> Self {
        match a {
            Actor::Staff(Staff {
                id,
                roles,
                organisation,
                provider,
            }) => ActorRecord::Staff {
                id: id_text(id),
                roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
                organisation: id_text(organisation),
                provider: provider.as_ref().map(id_text),
            },
            Actor::Patient { patient } => ActorRecord::Patient {
                patient: id_text(patient),
            },
            Actor::Proxy {
                related_person,
                patient,
            } => ActorRecord::Proxy {
                related_person: id_text(related_person),
                patient: id_text(patient),
            },
            Actor::External { organisation } => ActorRecord::External {
                organisation: id_text(organisation),
            },
            Actor::System { component } => ActorRecord::System {
                component: component.clone(),
            },
        }
    }
}

/// A system component as an actor: what format 1 bodies that predate a `by` field read as.
pub(crate) fn system_actor(component: &str) -> ActorRecord {
    ActorRecord::System {
        component: component.to_string(),
    }
}

codes! {
    /// How a proxy relates to the patient.
    RelationshipCode => Relationship {
        Parent = "parent", Guardian = "guardian", AdultChild = "adult-child",
        Caregiver = "caregiver",
    }
}

/// A proxy's access to a patient's data.
#[derive(Serialize, Deserialize)]
pub struct ProxyGrantRecord {
    /// The related person.
    pub related_person: String,
    /// The patient.
    pub patient: String,
    /// How they relate.
    pub relationship: RelationshipCode,
    /// Data class codes (an open list: codes this build does not know are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Action codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// When the grant holds.
    pub period: PeriodRecord,
}

impl TryFrom<ProxyGrantRecord> for ProxyGrant {
    type Error = JournalError;
    fn try_from(r: ProxyGrantRecord) -> Result<Self, JournalError> {
        let classes = r
            .classes
            .iter()
            .map(|c| DataClass::open(c).ok_or_else(|| invalid("grant.classes", "a data class")))
            .collect::<Result<ClassSet, _>>()?;
        let actions = r
            .actions
            .iter()
            .map(|a| Action::from_code(a).ok_or_else(|| invalid("grant.actions", "an action")))
            .collect::<Result<ActionSet, _>>()?;
        Ok(ProxyGrant {
            related_person: id(&r.related_person, "grant.related_person")?,
            patient: id(&r.patient, "grant.patient")?,
            relationship: r.relationship.into(),
            classes,
            actions,
            period: r.period.read("grant.period")?,
        })
    }
}

impl From<&ProxyGrant> for ProxyGrantRecord {
    fn from(g: &ProxyGrant) -> Self {
        let ProxyGrant {
            related_person,
            patient,
            relationship,
            classes,
            actions,
            period,
        } = g;
        Self {
            related_person: id_text(related_person),
            patient: id_text(patient),
            relationship: (*relationship).into(),
            classes: classes.iter().map(|c| c.code().to_string()).collect(),
            actions: actions.iter().map(|a| a.code().to_string()).collect(),
            period: period.into(),
        }
    }
}

/// `grant_proxy`: the patient grants a proxy access.
#[derive(Serialize, Deserialize)]
pub struct GrantProxyRecord {
    /// The grant.
    pub grant: ProxyGrantRecord,
}

impl TryFrom<GrantProxyRecord> for GrantProxy {
    type Error = JournalError;
    fn try_from(r: GrantProxyRecord) -> Result<Self, JournalError> {
        Ok(GrantProxy {
            grant: r.grant.try_into()?,
        })
    }
}

impl From<&GrantProxy> for GrantProxyRecord {
    fn from(c: &GrantProxy) -> Self {
        let GrantProxy { grant } = c;
        Self {
            grant: grant.into(),
        }
    }
}

/// `revoke_proxy`: the patient revokes a proxy.
#[derive(Serialize, Deserialize)]
pub struct RevokeProxyRecord {
    /// The proxy.
    pub related_person: String,
    /// The patient.
    pub patient: String,
}

impl TryFrom<RevokeProxyRecord> for RevokeProxy {
    type Error = JournalError;
    fn try_from(r: RevokeProxyRecord) -> Result<Self, JournalError> {
        Ok(RevokeProxy {
            related_person: id(&r.related_person, "related_person")?,
            patient: id(&r.patient, "patient")?,
        })
    }
}

impl From<&RevokeProxy> for RevokeProxyRecord {
    fn from(c: &RevokeProxy) -> Self {
        let RevokeProxy {
            related_person,
            patient,
        } = c;
        Self {
            related_person: id_text(related_person),
            patient: id_text(patient),
        }
    }
}
