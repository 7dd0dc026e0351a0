//! [`Decision`]: permit or deny, with obligations and an [`Explanation`] that names every rule and
//! provision that applied, and the combining algorithm that turns the explanation into the
//! decision.
//!
//! # Combining algorithm
//!
//! The engine lists every source that applied to the request as an [`Applied`] entry, in a fixed
//! order: policy rules (document order), consent provisions (consents in store order, the most
//! specific matching provision of each for each class), the sensitive-category check, the proxy
//! scope, break-the-glass, and identity verification. [`combine`] then computes, per requested
//! data class:
//!
//! 1. *granted* = classes of permit rules ∪ (classes of consent-gated rules ∩ classes some consent
//!    provision permits with an explicitly named purpose) ∪ classes of a valid break-the-glass.
//! 2. *denied* = classes of non-overridable denies ∪ (classes of overridable denies − classes of a
//!    valid break-the-glass). Denies come from deny rules, consent provisions, the sensitive-
//!    category check and the proxy scope. **Deny overrides permit.**
//! 3. *permitted* = requested ∩ granted − denied. The decision permits when *permitted* is not
//!    empty (with a restrict-to-classes obligation when it is smaller than the request), unless
//!    identity verification is incomplete, which turns it into a deny listing the missing steps.
//!
//! The deciding entry is the first verification entry for a verification deny; otherwise the first
//! non-overridable deny touching a requested, granted class, then the first overridable one; then
//! "no rule permits"; for a permit, the break-the-glass entry when it was needed, else the first
//! grant covering a permitted class. [`Explanation::replay`] runs the same function on the
//! explanation alone, so the explanation always reproduces the decision.

use crate::vocab::{ClassSet, LabelSet, SecurityLabel, StepSet};
use bedside_core::ConsentId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The request may proceed (subject to obligations).
    Permit,
    /// The request may not proceed.
    Deny,
}

/// Which field a masking obligation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskField {
    /// Identifiers (record numbers, national ids, member ids).
    Identifier,
    /// Telephone numbers.
    Phone,
    /// E-mail addresses.
    Email,
    /// Street address lines.
    Address,
    /// Birth date (show the year only).
    BirthDate,
}

/// Something the caller must do when acting on a permit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Obligation {
    /// Show only the last `keep_last` characters of `field`.
    Mask {
        /// The field.
        field: MaskField,
        /// How many trailing characters stay visible.
        keep_last: u8,
    },
    /// Release only these classes (minimum necessary).
    RestrictToClasses(ClassSet),
    /// Tell the patient about this access.
    NotifyPatient,
    /// Put the access in the privacy officer's review queue.
    PostHocReview,
    /// Record the disclosure for the accounting of disclosures.
    LogDisclosure,
    /// Record an audit event.
    Audit,
}

/// Applies a [`Obligation::Mask`]: keeps the last `keep_last` characters and replaces the rest
/// with `*`.
///
/// ```
/// assert_eq!(bedside_consent::mask("123-45-6789", 4), "*******6789");
/// ```
pub fn mask(value: &str, keep_last: u8) -> String {
    let count = value.chars().count();
    let keep = usize::from(keep_last).min(count);
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + keep < count { '*' } else { c })
        .collect()
}

/// Where in a consent's provision tree a provision sits: the child index at each level below the
/// root (the root has an empty path).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ProvisionPath {
    depth: u8,
    indices: [u8; ProvisionPath::MAX_DEPTH],
}

impl ProvisionPath {
    /// The deepest nesting the engine accepts below the root provision.
    pub const MAX_DEPTH: usize = 6;

    /// The root provision.
    pub const ROOT: ProvisionPath = ProvisionPath {
        depth: 0,
        indices: [0; ProvisionPath::MAX_DEPTH],
    };

    /// The path of child `index` of this provision; `None` beyond [`Self::MAX_DEPTH`] or 255
    /// children.
    pub fn child(self, index: usize) -> Option<Self> {
        let i = u8::try_from(index).ok()?;
        let d = usize::from(self.depth);
        if d >= Self::MAX_DEPTH {
            return None;
        }
        let mut next = self;
        next.indices[d] = i;
        next.depth += 1;
        Some(next)
    }

    /// The child indices from the root.
    pub fn indices(&self) -> &[u8] {
        &self.indices[..usize::from(self.depth)]
    }

    /// How deep the provision is (0 for the root).
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }
}

impl fmt::Debug for ProvisionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("provision")?;
        for i in self.indices() {
            write!(f, ".provision[{i}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for ProvisionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Where an [`Applied`] entry comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum Source {
    /// An organisation policy rule, by id.
    Rule {
        /// The rule id.
        id: Arc<str>,
    },
    /// A provision of a patient consent.
    Provision {
        /// The consent.
        consent: ConsentId,
        /// The provision within it.
        path: ProvisionPath,
    },
    /// The sensitive-category rule for a label (42 CFR Part 2, psychotherapy notes, …).
    SensitiveCategory {
        /// The label without an explicit consent.
        label: SecurityLabel,
    },
    /// The scope of a proxy's grant.
    ProxyScope,
    /// A valid break-the-glass declaration.
    BreakGlass,
    /// An identity-verification checklist, by id.
    Checklist {
        /// The checklist id.
        id: Arc<str>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Rule { id } => write!(f, "rule `{id}`"),
            Source::Provision { consent, path } => write!(f, "consent {consent} {path}"),
            Source::SensitiveCategory { label } => write!(f, "sensitive category {label}"),
            Source::ProxyScope => f.write_str("proxy scope"),
            Source::BreakGlass => f.write_str("break-the-glass"),
            Source::Checklist { id } => write!(f, "verification checklist `{id}`"),
        }
    }
}

/// What an applied source says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "says", rename_all = "kebab-case")]
pub enum Verdict {
    /// Grants the classes.
    Permit,
    /// Grants the classes only where a consent explicitly permits the purpose.
    PermitWithConsent,
    /// A consent provision permits the classes.
    ConsentPermit {
        /// Whether the provision (or an ancestor) names the purpose.
        names_purpose: bool,
        /// Whether the provision (or an ancestor) names the actor.
        names_actor: bool,
        /// Security labels the provision (or an ancestor) names.
        labels: LabelSet,
    },
    /// Denies the classes.
    Deny {
        /// Whether a valid break-the-glass lifts this deny.
        overridable: bool,
    },
    /// Break-the-glass: grants the classes and lifts overridable denies on them.
    Override,
    /// Identity verification is incomplete; these groups still need one step each.
    VerificationMissing {
        /// How many groups are missing (the groups are in [`Decision::missing_steps`]).
        groups: u8,
    },
}

/// One source that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Applied {
    /// Where it comes from.
    pub source: Source,
    /// What it says.
    pub verdict: Verdict,
    /// The requested classes it speaks about.
    pub classes: ClassSet,
}

/// What decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecidedBy {
    /// The applied entry at this index.
    Entry(usize),
    /// Nothing permits the request (default deny).
    NoPermit,
}

/// Every source that applied, and which one decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The classes requested.
    pub requested: ClassSet,
    /// Applied sources, in evaluation order.
    pub applied: Vec<Applied>,
    /// The deciding source.
    pub decided_by: DecidedBy,
}

impl Explanation {
    /// The deciding entry, when one applied entry decided.
    pub fn deciding(&self) -> Option<&Applied> {
        match self.decided_by {
            DecidedBy::Entry(i) => self.applied.get(i),
            DecidedBy::NoPermit => None,
        }
    }

    /// Re-runs the combining algorithm on this explanation alone.
    pub fn replay(&self) -> Combined {
        combine(self.requested, &self.applied)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.applied.iter().enumerate() {
            let mark = if self.decided_by == DecidedBy::Entry(i) {
                "=>"
            } else {
                "  "
            };
            writeln!(
                f,
                "{mark} {}: {} {:?}",
                a.source,
                verdict_word(&a.verdict),
                a.classes
            )?;
        }
        if self.decided_by == DecidedBy::NoPermit {
            writeln!(f, "=> no rule or consent permits {:?}", self.requested)?;
        }
        Ok(())
    }
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Permit => "permit",
        Verdict::PermitWithConsent => "permit with consent",
        Verdict::ConsentPermit { .. } => "consent permits",
        Verdict::Deny { overridable: true } => "deny (break-glass may override)",
        Verdict::Deny { overridable: false } => "deny",
        Verdict::Override => "override",
        Verdict::VerificationMissing { .. } => "verification incomplete",
    }
}

/// The result of [`combine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combined {
    /// Permit or deny.
    pub effect: Effect,
    /// The classes released (empty on deny).
    pub permitted: ClassSet,
    /// The deciding source.
    pub decided_by: DecidedBy,
}

/// The combining algorithm (see the module documentation).
pub fn combine(requested: ClassSet, applied: &[Applied]) -> Combined {
    let mut granted = ClassSet::EMPTY;
    let mut gated = ClassSet::EMPTY;
    let mut consented = ClassSet::EMPTY;
    let mut hard = ClassSet::EMPTY;
    let mut soft = ClassSet::EMPTY;
    let mut glass = ClassSet::EMPTY;
    let mut verification = None;
    for (i, a) in applied.iter().enumerate() {
        match a.verdict {
            Verdict::Permit => granted = granted.union(a.classes),
            Verdict::PermitWithConsent => gated = gated.union(a.classes),
            Verdict::ConsentPermit { names_purpose, .. } => {
                if names_purpose {
                    consented = consented.union(a.classes);
                }
            }
            Verdict::Deny { overridable: false } => hard = hard.union(a.classes),
            Verdict::Deny { overridable: true } => soft = soft.union(a.classes),
            Verdict::Override => glass = glass.union(a.classes),
            Verdict::VerificationMissing { .. } => {
                if verification.is_none() {
                    verification = Some(i);
                }
            }
        }
    }
    let ordinary = granted.union(gated.intersection(consented));
    let all_granted = ordinary.union(glass);
    let denied = hard.union(soft.difference(glass));
    let permitted = requested.intersection(all_granted).difference(denied);
    if permitted.is_empty() {
        let touched = requested.intersection(all_granted);
        let first_deny = |overridable: bool| {
            applied.iter().position(|a| {
                a.verdict == Verdict::Deny { overridable } && a.classes.intersects(touched)
            })
        };
        let decided_by = first_deny(false)
            .or_else(|| first_deny(true))
            .map_or(DecidedBy::NoPermit, DecidedBy::Entry);
        return Combined {
            effect: Effect::Deny,
            permitted: ClassSet::EMPTY,
            decided_by,
        };
    }
    if let Some(i) = verification {
        return Combined {
            effect: Effect::Deny,
            permitted: ClassSet::EMPTY,
            decided_by: DecidedBy::Entry(i),
        };
    }
    // Break-the-glass decided when some released class would not have been released without it.
    let without_glass = requested
        .intersection(ordinary)
        .difference(hard.union(soft));
    let glass_needed = !permitted.is_subset(without_glass);
    let decider = applied.iter().position(|a| {
        if glass_needed {
            a.verdict == Verdict::Override
        } else {
            match a.verdict {
                Verdict::Permit => a.classes.intersects(permitted),
                Verdict::PermitWithConsent => {
                    a.classes.intersection(consented).intersects(permitted)
                }
                _ => false,
            }
        }
    });
    Combined {
        effect: Effect::Permit,
        permitted,
        decided_by: decider.map_or(DecidedBy::NoPermit, DecidedBy::Entry),
    }
}

/// A group of verification steps of which the agent must complete one more.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MissingStep {
    /// The checklist asking for it.
    pub checklist: Arc<str>,
    /// Any one of these completes the group.
    pub any_of: StepSet,
}

/// The engine's answer to a [`Request`](crate::Request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Permit or deny.
    pub effect: Effect,
    /// The classes released (empty on deny).
    pub permitted: ClassSet,
    /// What the caller must do when acting on a permit.
    pub obligations: Vec<Obligation>,
    /// Verification steps still needed; when not empty the request is denied until they are done.
    pub missing_steps: Vec<MissingStep>,
    /// Why.
    pub explanation: Explanation,
}

impl Decision {
    /// Whether the request is permitted.
    pub fn is_permit(&self) -> bool {
        self.effect == Effect::Permit
    }

    /// Whether the request was denied only because identity verification is incomplete.
    pub fn needs_verification(&self) -> bool {
        !self.missing_steps.is_empty()
    }

    /// Whether a break-the-glass override decided the request.
    pub fn broke_glass(&self) -> bool {
        self.explanation
            .deciding()
            .is_some_and(|a| a.source == Source::BreakGlass)
    }

    /// Whether a consent provision decided the request (a disclosure made "pursuant to an
    /// authorization" in HIPAA terms) — for permits, a consent-gated rule whose consent released it.
    pub fn authorised_by_consent(&self) -> bool {
        self.explanation
            .deciding()
            .is_some_and(|a| a.verdict == Verdict::PermitWithConsent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::DataClass;

    fn entry(verdict: Verdict, classes: &[DataClass]) -> Applied {
        Applied {
            source: Source::Rule { id: Arc::from("r") },
            verdict,
            classes: classes.iter().copied().collect(),
        }
    }

    #[test]
    fn deny_overrides_and_restricts() {
        use DataClass::*;
        let requested: ClassSet = [Demographics, LabResults].into_iter().collect();
        let applied = vec![
            entry(Verdict::Permit, &[Demographics, LabResults]),
            entry(Verdict::Deny { overridable: true }, &[LabResults]),
        ];
        let c = combine(requested, &applied);
        assert_eq!(c.effect, Effect::Permit);
        assert_eq!(c.permitted, ClassSet::from(Demographics));
        let mut with_glass = applied.clone();
        with_glass.push(entry(Verdict::Override, &[LabResults]));
        let c = combine(requested, &with_glass);
        assert_eq!(c.permitted, requested);
        assert_eq!(c.decided_by, DecidedBy::Entry(2));
        let c = combine(ClassSet::from(LabResults), &applied);
        assert_eq!(
            (c.effect, c.decided_by),
            (Effect::Deny, DecidedBy::Entry(1))
        );
        assert_eq!(combine(requested, &[]).decided_by, DecidedBy::NoPermit);
    }

    #[test]
    fn masking() {
        assert_eq!(mask("AB12", 4), "AB12");
        assert_eq!(mask("9876543210", 4), "******3210");
        assert_eq!(mask("", 4), "");
    }

    #[test]
    fn provision_paths() {
        let p = ProvisionPath::ROOT.child(2).and_then(|p| p.child(0));
        assert_eq!(
            p.map(|p| p.to_string()).as_deref(),
            Some("provision.provision[2].provision[0]")
        );
        let mut deep = Some(ProvisionPath::ROOT);
        for _ in 0..ProvisionPath::MAX_DEPTH {
            deep = deep.and_then(|p| p.child(0));
        }
        assert!(deep.is_some_and(|p| p.child(0).is_none()));
        assert!(ProvisionPath::ROOT.child(300).is_none());
    }
}
