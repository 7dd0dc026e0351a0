//! Patient consents with FHIR R4 `Consent` semantics, the per-patient [`ConsentStore`], proxy
//! grants and communication consent.
//!
//! A [`Consent`] has a status (only `active` applies; `inactive` is a revocation), a root
//! [`Provision`] that permits or denies, and nested provisions that are exceptions to their
//! parent. A nested provision is considered only when its parent matched, so deeper provisions are
//! more specific, and the deepest matching provision decides each data class ("most specific
//! wins"); among matching siblings a deny beats a permit.
//!
//! Criteria the engine cannot evaluate (data references, a data period when the request does not
//! say when its data was recorded) are handled conservatively: a permit provision with such a
//! criterion does not match, a deny provision does.

use crate::decision::ProvisionPath;
use crate::error::ConsentError;
use crate::idmap::IdMap;
use crate::vocab::{
    AccessChannel, Action, ActionSet, ChannelSet, ClassSet, Confidentiality, LabelSet, Purpose,
    PurposeSet,
};
use bedside_core::{
    Actor, Coding, ConsentId, OrganisationId, PatientId, Period, ProviderId, RelatedPersonId,
    Sensitive, StaffId, Timestamp,
};
use serde::{Deserialize, Serialize};

/// FHIR `Consent.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentStatus {
    /// Being drafted; does not apply.
    Draft,
    /// Offered to the patient; does not apply.
    Proposed,
    /// In force.
    Active,
    /// Declined by the patient; does not apply.
    Rejected,
    /// Revoked or ended; does not apply.
    Inactive,
    /// Recorded by mistake; does not apply.
    EnteredInError,
}

impl ConsentStatus {
    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            ConsentStatus::Draft => "draft",
            ConsentStatus::Proposed => "proposed",
            ConsentStatus::Active => "active",
            ConsentStatus::Rejected => "rejected",
            ConsentStatus::Inactive => "inactive",
            ConsentStatus::EnteredInError => "entered-in-error",
        }
    }

    /// Looks a FHIR code up.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            ConsentStatus::Draft,
            ConsentStatus::Proposed,
            ConsentStatus::Active,
            ConsentStatus::Rejected,
            ConsentStatus::Inactive,
            ConsentStatus::EnteredInError,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// FHIR `Consent.provision.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionType {
    /// Permit.
    Permit,
    /// Deny.
    Deny,
}

/// Who a provision names (FHIR `provision.actor.reference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum ActorRef {
    /// A staff member.
    Staff(StaffId),
    /// A provider (matches the staff member whose provider record it is).
    Provider(ProviderId),
    /// An organisation: its staff, or the organisation as an external recipient.
    Organisation(OrganisationId),
    /// A related person (proxy).
    RelatedPerson(RelatedPersonId),
    /// The patient.
    Patient(PatientId),
}

impl ActorRef {
    /// Whether `actor` is (or acts for) this reference.
    pub fn matches(&self, actor: &Actor) -> bool {
        match (self, actor) {
            (ActorRef::Staff(id), Actor::Staff(s)) => s.id == *id,
            (ActorRef::Provider(id), Actor::Staff(s)) => s.provider == Some(*id),
            (ActorRef::Organisation(id), Actor::Staff(s)) => s.organisation == *id,
            (ActorRef::Organisation(id), Actor::External { organisation }) => organisation == id,
            (ActorRef::RelatedPerson(id), Actor::Proxy { related_person, .. }) => {
                related_person == id
            }
            (ActorRef::Patient(id), Actor::Patient { patient }) => patient == id,
            _ => false,
        }
    }
}

/// A provision actor: a role (FHIR participation type) and a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionActor {
    /// How the actor participates (e.g. `PRCP` recipient, `CST` custodian); informational, and
    /// boxed because it is rare and the engine never reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Box<Coding>>,
    /// Who.
    pub reference: ActorRef,
}

/// A data reference in a provision (FHIR `provision.data`); the engine cannot match these, so
/// they make a permit provision inapplicable and a deny provision broader (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataReference {
    /// `instance`, `related`, `dependents` or `authoredby`.
    pub meaning: String,
    /// The referenced resource, e.g. `Task/example3`.
    pub reference: String,
}

/// A FHIR R4 consent provision.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provision {
    /// Permit or deny; when absent, inherits the parent's type (the root uses the consent's
    /// default type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProvisionType>,
    /// When the provision is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Actors, any of which matches (empty = anyone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<ProvisionActor>,
    /// Actions (empty = any).
    #[serde(default)]
    pub actions: ActionSet,
    /// Purposes (empty = any).
    #[serde(default)]
    pub purposes: PurposeSet,
    /// Data classes (empty = all).
    #[serde(default)]
    pub classes: ClassSet,
    /// Security labels, any of which the data must carry (empty = any data).
    #[serde(default)]
    pub labels: LabelSet,
    /// Confidentiality codes among the security labels, any of which the data must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confidentiality: Vec<Confidentiality>,
    /// Channels for contact (a Bedside extension; empty = any).
    #[serde(default)]
    pub channels: ChannelSet,
    /// When the data was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_period: Option<Period>,
    /// Data references (not evaluable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataReference>,
    /// Exceptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisions: Vec<Provision>,
}

impl Provision {
    /// A provision of the given type with no criteria.
    pub fn new(kind: ProvisionType) -> Self {
        Provision {
            kind: Some(kind),
            ..Provision::default()
        }
    }

    /// Adds an actor.
    #[must_use]
    pub fn actor(mut self, reference: ActorRef) -> Self {
        self.actors.push(ProvisionActor {
            role: None,
            reference,
        });
        self
    }

    /// Adds an action.
    #[must_use]
    pub fn action(mut self, action: Action) -> Self {
        self.actions.insert(action);
        self
    }

    /// Adds a purpose.
    #[must_use]
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purposes.insert(purpose);
        self
    }

    /// Adds a data class.
    #[must_use]
    pub fn class(mut self, class: crate::vocab::DataClass) -> Self {
        self.classes.insert(class);
        self
    }

    /// Adds a security label.
    #[must_use]
    pub fn label(mut self, label: crate::vocab::SecurityLabel) -> Self {
        self.labels.insert(label);
        self
    }

    /// Adds a channel.
    #[must_use]
    pub fn channel(mut self, channel: AccessChannel) -> Self {
        self.channels.insert(channel);
        self
    }

    /// Sets the period.
    #[must_use]
    pub fn during(mut self, period: Period) -> Self {
        self.period = Some(period);
        self
    }

    /// Adds a nested exception.
    #[must_use]
    pub fn except(mut self, nested: Provision) -> Self {
        self.provisions.push(nested);
        self
    }
}

/// FHIR fields the engine carries for faithful export but does not evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FhirExtras {
    /// The FHIR logical id, when imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_id: Option<String>,
    /// `Consent.scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Coding>,
    /// `Consent.category` codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<Coding>,
    /// `Consent.dateTime` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    /// `Consent.organization` references as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organization: Vec<String>,
    /// `Consent.policyRule` codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_rule: Vec<Coding>,
    /// Original reference text of ids that were not UUIDs: (UUID as text, `Organization/f001`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<(String, String)>,
    /// The imported resource, verbatim. Export writes the modelled elements from the model and
    /// takes everything the model does not hold (narrative, `display` strings, attachments,
    /// extensions, unknown elements, the original spelling of dates and codes) from here. It
    /// holds names and free text, so it is [`Sensitive`] and never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Sensitive<serde_json::Value>>,
}

/// A patient consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Id.
    pub id: ConsentId,
    /// Whose consent.
    pub patient: PatientId,
    /// Status; only `active` applies.
    pub status: ConsentStatus,
    /// The type of the root provision when it does not say (FHIR `policyRule` OPTOUT = deny,
    /// otherwise permit).
    pub default_type: ProvisionType,
    /// The rules.
    pub provision: Provision,
    /// FHIR fields kept for export (boxed: only imported consents have them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhir: Option<Box<FhirExtras>>,
}

impl Consent {
    /// An active consent with the given root provision.
    pub fn new(id: ConsentId, patient: PatientId, provision: Provision) -> Self {
        Consent {
            id,
            patient,
            status: ConsentStatus::Active,
            default_type: ProvisionType::Permit,
            provision,
            fhir: None,
        }
    }

    /// Checks structure: nesting depth and fan-out within [`ProvisionPath`] limits, periods.
    ///
    /// # Errors
    /// [`ConsentError::InvalidConsent`] with the path of the first offending provision.
    pub fn validate(&self) -> Result<(), ConsentError> {
        fn walk(p: &Provision, path: ProvisionPath) -> Result<(), ConsentError> {
            for (i, child) in p.provisions.iter().enumerate() {
                let Some(next) = path.child(i) else {
                    return Err(ConsentError::InvalidConsent {
                        path: format!("{path}.provision[{i}]"),
                        reason: "nesting deeper than 6 levels or more than 255 exceptions".into(),
                    });
                };
                walk(child, next)?;
            }
            Ok(())
        }
        walk(&self.provision, ProvisionPath::ROOT)
    }

    /// Approximate bytes this consent occupies (struct plus heap), for memory budgets.
    pub fn approximate_bytes(&self) -> usize {
        fn provision(p: &Provision) -> usize {
            std::mem::size_of::<Provision>()
                + p.actors.capacity() * std::mem::size_of::<ProvisionActor>()
                + p.actors.iter().filter(|a| a.role.is_some()).count()
                    * std::mem::size_of::<Coding>()
                + p.confidentiality.capacity()
                + p.data
                    .iter()
                    .map(|d| {
                        std::mem::size_of::<DataReference>()
                            + d.meaning.capacity()
                            + d.reference.capacity()
                    })
                    .sum::<usize>()
                + p.provisions.iter().map(provision).sum::<usize>()
                + (p.provisions.capacity() - p.provisions.len()) * std::mem::size_of::<Provision>()
        }
        let extras = self.fhir.as_deref().map_or(0, |f| {
            std::mem::size_of::<FhirExtras>()
                + f.category.capacity() * std::mem::size_of::<Coding>()
                + f.organization.iter().map(String::capacity).sum::<usize>()
                + f.aliases
                    .iter()
                    .map(|(a, b)| a.capacity() + b.capacity() + 48)
                    .sum::<usize>()
                + f.source.as_ref().map_or(0, |v| json_bytes(v.expose()))
        });
        std::mem::size_of::<Consent>() - std::mem::size_of::<Provision>()
            + provision(&self.provision)
            + extras
    }
}

/// The verdict of one consent for one class, with the provision that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClassVerdict {
    pub kind: ProvisionType,
    pub path: ProvisionPath,
    pub names_purpose: bool,
    pub names_actor: bool,
    pub labels: LabelSet,
}

/// What the engine needs to know to match a provision.
pub(crate) struct MatchInput<'a> {
    pub actor: &'a Actor,
    pub action: Action,
    pub purpose: Purpose,
    pub channel: AccessChannel,
    pub labels: LabelSet,
    pub confidentiality: Confidentiality,
    pub data_period: Option<Period>,
    pub at: Timestamp,
}

impl Provision {
    /// Whether this provision's own criteria (not its class list) match, given its effective type.
    fn matches(&self, kind: ProvisionType, m: &MatchInput<'_>) -> bool {
        let deny = kind == ProvisionType::Deny;
        // Inline bit-set tests first: they reject most provisions without touching the heap.
        if !self.actions.matches(m.action)
            || !self.purposes.matches(m.purpose)
            || !self.channels.matches(m.channel)
        {
            return false;
        }
        if !self.labels.is_empty() && !self.labels.intersects(m.labels) {
            return false;
        }
        if let Some(p) = self.period
            && !p.contains(m.at)
        {
            return false;
        }
        if !self.actors.is_empty() && !self.actors.iter().any(|a| a.reference.matches(m.actor)) {
            return false;
        }
        if !self.confidentiality.is_empty() && !self.confidentiality.contains(&m.confidentiality) {
            return false;
        }
        if let Some(dp) = self.data_period {
            match m.data_period {
                Some(rp) => {
                    if !dp.overlaps(&rp) {
                        return false;
                    }
                }
                None => {
                    if !deny {
                        return false;
                    }
                }
            }
        }
        if !self.data.is_empty() && !deny {
            return false;
        }
        true
    }
}

/// Evaluates one active consent: for each requested class, the verdict of the most specific
/// matching provision. Classes the consent says nothing about are absent.
pub(crate) fn evaluate(
    consent: &Consent,
    requested: ClassSet,
    m: &MatchInput<'_>,
    out: &mut Vec<(ClassSet, ClassVerdict)>,
) {
    let root_kind = consent.provision.kind.unwrap_or(consent.default_type);
    // One verdict per requested class, indexed by the class's rank in `requested`: on the
    // stack for the usual handful of classes, on the heap for very wide requests.
    let n = requested.len();
    let mut stack_verdicts: [Option<ClassVerdict>; 16] = [None; 16];
    let mut stack_depths: [i8; 16] = [-1; 16];
    let mut heap_verdicts: Vec<Option<ClassVerdict>>;
    let mut heap_depths: Vec<i8>;
    let (verdicts, depths): (&mut [Option<ClassVerdict>], &mut [i8]) = if n <= 16 {
        (&mut stack_verdicts[..], &mut stack_depths[..])
    } else {
        heap_verdicts = vec![None; n];
        heap_depths = vec![-1; n];
        (&mut heap_verdicts[..], &mut heap_depths[..])
    };
    let mut tables = Tables {
        requested,
        verdicts,
        depths,
    };
    let root = Inherited {
        kind: root_kind,
        path: ProvisionPath::ROOT,
        scope: requested,
        names_purpose: false,
        names_actor: false,
        labels: LabelSet::EMPTY,
    };
    walk(&consent.provision, root, m, &mut tables);
    // Group classes by identical verdict so the explanation stays short.
    for (i, slot) in requested.slots().enumerate() {
        if let Some(v) = tables.verdicts.get(i).copied().flatten() {
            if let Some(entry) = out.iter_mut().find(|(_, e)| *e == v) {
                entry.0.insert_slot(slot);
            } else {
                let mut classes = ClassSet::EMPTY;
                classes.insert_slot(slot);
                out.push((classes, v));
            }
        }
    }
}

/// The per-class verdicts of one consent evaluation.
struct Tables<'a> {
    requested: ClassSet,
    verdicts: &'a mut [Option<ClassVerdict>],
    depths: &'a mut [i8],
}

/// Approximate heap bytes of a JSON value (strings, containers, one word per node).
fn json_bytes(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    std::mem::size_of::<Value>()
        + match v {
            Value::String(s) => s.capacity(),
            Value::Array(a) => a.iter().map(json_bytes).sum(),
            Value::Object(m) => m.iter().map(|(k, v)| k.capacity() + json_bytes(v)).sum(),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
}

/// What a provision inherits from its ancestors on the walk down: its effective type, where it
/// is, the classes still in scope, and whether an ancestor already named a purpose, an actor or
/// labels.
#[derive(Clone, Copy)]
struct Inherited {
    kind: ProvisionType,
    path: ProvisionPath,
    scope: ClassSet,
    names_purpose: bool,
    names_actor: bool,
    labels: LabelSet,
}

fn walk(p: &Provision, from: Inherited, m: &MatchInput<'_>, tables: &mut Tables<'_>) {
    let Inherited { kind, path, .. } = from;
    if !p.matches(kind, m) {
        return;
    }
    let scope = if p.classes.is_empty() {
        from.scope
    } else {
        from.scope.intersection(p.classes)
    };
    if scope.is_empty() {
        return;
    }
    let names_purpose = from.names_purpose || !p.purposes.is_empty();
    let names_actor = from.names_actor || !p.actors.is_empty();
    let labels = from.labels.union(p.labels);
    let depth = i8::try_from(path.depth()).unwrap_or(i8::MAX);
    let verdict = ClassVerdict {
        kind,
        path,
        names_purpose,
        names_actor,
        labels,
    };
    for slot in scope.slots() {
        let i = tables.requested.rank(slot);
        let (Some(old), Some(old_depth)) = (tables.verdicts.get(i), tables.depths.get(i)) else {
            continue;
        };
        // Deeper wins; at equal depth (siblings) deny wins, then the earlier sibling.
        let replace = match old {
            None => true,
            Some(old) => {
                depth > *old_depth
                    || (depth == *old_depth
                        && old.kind == ProvisionType::Permit
                        && kind == ProvisionType::Deny)
            }
        };
        if replace {
            tables.verdicts[i] = Some(verdict);
            tables.depths[i] = depth;
        }
    }
    for (idx, child) in p.provisions.iter().enumerate() {
        let Some(child_path) = path.child(idx) else {
            continue;
        };
        let inherited = Inherited {
            kind: child.kind.unwrap_or(kind),
            path: child_path,
            scope,
            names_purpose,
            names_actor,
            labels,
        };
        walk(child, inherited, m, tables);
    }
}

mod store;
pub use store::{CareTeam, ConsentStore, StatusChange};

/// A proxy's relationship to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// Parent of a minor.
    Parent,
    /// Legal guardian.
    Guardian,
    /// Adult child.
    AdultChild,
    /// Caregiver.
    Caregiver,
}

/// What a proxy may do for a patient, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyGrant {
    /// The proxy.
    pub related_person: RelatedPersonId,
    /// The patient.
    pub patient: PatientId,
    /// Relationship.
    pub relationship: Relationship,
    /// Classes the proxy may touch.
    pub classes: ClassSet,
    /// Actions the proxy may take.
    pub actions: ActionSet,
    /// When the grant is in force.
    pub period: Period,
}

impl ProxyGrant {
    /// `related_person` may read `classes` of `patient`'s data during `period`. Widen the
    /// actions with [`ProxyGrant::actions`].
    pub fn new(
        related_person: RelatedPersonId,
        patient: PatientId,
        relationship: Relationship,
        classes: ClassSet,
        period: Period,
    ) -> Self {
        Self {
            related_person,
            patient,
            relationship,
            classes,
            actions: ActionSet::from(Action::Read),
            period,
        }
    }

    /// The same grant allowing `actions` instead.
    #[must_use]
    pub fn actions(mut self, actions: impl IntoIterator<Item = Action>) -> Self {
        self.actions = actions.into_iter().collect();
        self
    }
}
