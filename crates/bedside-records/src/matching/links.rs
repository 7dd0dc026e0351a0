//! [`LinkRegistry`]: human decisions that two patient records are the same person, kept as
//! reversible, versioned links. Records are never merged: a link only groups them.

use bedside_core::{Actor, PatientId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Errors of [`LinkRegistry`] operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Occurs when a record is linked to or unlinked from itself.
    #[error("a record cannot be linked to itself")]
    SelfLink,
    /// Occurs when linking two records that are already directly linked.
    #[error("records `{a}` and `{b}` are already linked")]
    AlreadyLinked {
        /// The first record.
        a: PatientId,
        /// The second record.
        b: PatientId,
    },
    /// Occurs when unlinking two records that have no direct link.
    #[error("records `{a}` and `{b}` are not linked")]
    NotLinked {
        /// The first record.
        a: PatientId,
        /// The second record.
        b: PatientId,
    },
}

impl bedside_core::DomainError for LinkError {
    fn kind(&self) -> bedside_core::ErrorKind {
        match self {
            LinkError::SelfLink => bedside_core::ErrorKind::Invalid,
            LinkError::AlreadyLinked { .. } | LinkError::NotLinked { .. } => {
                bedside_core::ErrorKind::Conflict
            }
        }
    }
}

/// What a [`LinkEvent`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkChange {
    /// A link was added.
    Linked,
    /// A link was removed.
    Unlinked,
}

/// One entry of the link history: who changed which link, when, at which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEvent {
    /// The registry version this event produced (1 for the first event).
    pub version: u64,
    /// Linked or unlinked.
    pub change: LinkChange,
    /// The first record (the smaller id).
    pub a: PatientId,
    /// The second record.
    pub b: PatientId,
    /// Who made the change.
    pub actor: Actor,
    /// When the change took effect (the caller's `at`).
    pub at: Timestamp,
}

/// Reversible links between patient records, with full history.
///
/// `link` and `unlink` are all-or-nothing: on error nothing changes. The history only grows.
///
/// ```
/// use bedside_core::{Actor, PatientId, Timestamp};
/// use bedside_records::matching::LinkRegistry;
/// let at: Timestamp = "2026-06-10T09:00:00Z".parse()?;
/// let a = PatientId::from_uuid(uuid::Uuid::from_u128(1));
/// let b = PatientId::from_uuid(uuid::Uuid::from_u128(2));
/// let actor = Actor::system("mpi-review");
/// let mut links = LinkRegistry::new();
/// links.link(a, b, &actor, at)?;
/// assert!(links.same_person(a, b));
/// links.unlink(a, b, &actor, at)?;
/// assert!(!links.same_person(a, b));
/// assert_eq!(links.history().len(), 2);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkRegistry {
    links: BTreeSet<(PatientId, PatientId)>,
    history: Vec<LinkEvent>,
}

fn ordered(a: PatientId, b: PatientId) -> (PatientId, PatientId) {
    if a <= b { (a, b) } else { (b, a) }
}

impl LinkRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current version: the number of changes so far.
    pub fn version(&self) -> u64 {
        self.history.len() as u64
    }

    /// Records, at `at`, that `a` and `b` are the same person. Returns the new version.
    ///
    /// # Errors
    /// [`LinkError::SelfLink`] when `a == b`; [`LinkError::AlreadyLinked`] when they already
    /// have a direct link.
    pub fn link(
        &mut self,
        a: PatientId,
        b: PatientId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<u64, LinkError> {
        if a == b {
            return Err(LinkError::SelfLink);
        }
        let (a, b) = ordered(a, b);
        if !self.links.insert((a, b)) {
            return Err(LinkError::AlreadyLinked { a, b });
        }
        Ok(self.record(LinkChange::Linked, a, b, actor, at))
    }

    /// Removes, at `at`, the direct link between `a` and `b`, restoring the grouping before it was made.
    /// Returns the new version.
    ///
    /// # Errors
    /// [`LinkError::SelfLink`] when `a == b`; [`LinkError::NotLinked`] when there is no direct
    /// link between them.
    pub fn unlink(
        &mut self,
        a: PatientId,
        b: PatientId,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<u64, LinkError> {
        if a == b {
            return Err(LinkError::SelfLink);
        }
        let (a, b) = ordered(a, b);
        if !self.links.remove(&(a, b)) {
            return Err(LinkError::NotLinked { a, b });
        }
        Ok(self.record(LinkChange::Unlinked, a, b, actor, at))
    }

    fn record(
        &mut self,
        change: LinkChange,
        a: PatientId,
        b: PatientId,
        actor: &Actor,
        at: Timestamp,
    ) -> u64 {
        let version = self.version() + 1;
        self.history.push(LinkEvent {
            version,
            change,
            a,
            b,
            actor: actor.clone(),
            at,
        });
        version
    }

    /// Every change, oldest first.
    pub fn history(&self) -> &[LinkEvent] {
        &self.history
    }

    /// The direct links in force.
    pub fn links(&self) -> impl Iterator<Item = (PatientId, PatientId)> + '_ {
        self.links.iter().copied()
    }

    /// The groups of records linked together (directly or through others), two or more per
    /// group, each sorted, groups ordered by their smallest id.
    pub fn clusters(&self) -> Vec<Vec<PatientId>> {
        Self::components(self.links.iter().copied())
    }

    /// The links in force as of `version` (replaying the history up to it).
    pub fn clusters_at(&self, version: u64) -> Vec<Vec<PatientId>> {
        let mut links = BTreeSet::new();
        for e in self.history.iter().take_while(|e| e.version <= version) {
            match e.change {
                LinkChange::Linked => links.insert((e.a, e.b)),
                LinkChange::Unlinked => links.remove(&(e.a, e.b)),
            };
        }
        Self::components(links.into_iter())
    }

    /// Whether `a` and `b` are in the same group.
    pub fn same_person(&self, a: PatientId, b: PatientId) -> bool {
        a == b
            || self
                .clusters()
                .iter()
                .any(|c| c.contains(&a) && c.contains(&b))
    }

    fn components(links: impl Iterator<Item = (PatientId, PatientId)>) -> Vec<Vec<PatientId>> {
        let mut parent: BTreeMap<PatientId, PatientId> = BTreeMap::new();
        fn find(parent: &mut BTreeMap<PatientId, PatientId>, x: PatientId) -> PatientId {
            let mut root = x;
            while let Some(&p) = parent.get(&root) {
                if p == root {
                    break;
                }
                root = p;
            }
            parent.insert(x, root);
            root
        }
        for (a, b) in links {
            parent.entry(a).or_insert(a);
            parent.entry(b).or_insert(b);
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
                parent.insert(hi, lo);
            }
        }
        let keys: Vec<PatientId> = parent.keys().copied().collect();
        let mut groups: BTreeMap<PatientId, Vec<PatientId>> = BTreeMap::new();
        for k in keys {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(k);
        }
        groups.into_values().collect()
    }
}
