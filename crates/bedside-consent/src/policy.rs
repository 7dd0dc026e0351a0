//! Organisation policy as data: [`PolicyDocument`] (serde JSON), validated and compiled into a
//! [`Policy`].
//!
//! A policy has role × purpose × data-class rules (HIPAA minimum necessary, the patient's right of
//! access, treatment/payment/operations uses), the sensitive categories that need an explicit
//! consent, the break-the-glass settings, and the identity-verification checklists.
//!
//! In every list an empty list means "any". Validation reports every problem with its path:
//! unknown codes, duplicate ids, contradictory rules (same target, opposite effects), unreachable
//! rules (a permit entirely inside a non-overridable deny) and rules that can never match. An
//! unknown code's problem lists the codes valid there.
//!
//! # Codes a policy document may use
//!
//! Every code [`Policy::from_json`] accepts, by field (a test keeps this table in step with the
//! vocabularies):
//!
//! | Field | Vocabulary | Codes |
//! |---|---|---|
//! | `rules[].effect` | [`RuleEffect`] | `permit`, `permit-with-consent`, `deny` |
//! | `rules[].actors`, `checklists[].actors` | [`ActorKind`] | `staff`, `patient`, `proxy`, `external`, `system` |
//! | `rules[].roles`, `break_glass.roles` | [`Role`] | any role code of lowercase letters, digits, `-` and `_` (`clinician`, `nurse`, `reception`, `billing`, …) |
//! | `rules[].actions`, `checklists[].actions`, `break_glass.actions` | [`Action`] | `read`, `create`, `update`, `disclose`, `export`, `contact` |
//! | `rules[].purposes` | [`Purpose`] (HL7 PurposeOfUse) | `TREAT`, `ETREAT`, `HPAYMT`, `HOPERAT`, `PATRQT`, `FAMRQT`, `PUBHLTH`, `HRESCH`, `MARKT`, `HLEGAL`, `CAREMGT` |
//! | `rules[].classes`, `checklists[].classes`, `break_glass.classes` | [`DataClass`] | `demographics`, `contact`, `coverage`, `billing`, `appointments`, `vitals`, `clinical-notes`, `lab-results`, `medications`, `problems`; or a FHIR resource type (`MedicationRequest`) or MIME type (`application/pdf`) |
//! | `rules[].labels`, `sensitive_labels`, `break_glass.overridable_labels` | [`SecurityLabel`] (HL7 ActCode) | `ETH`, `PSY`, `PSYTHPN`, `HIV`, `SDV`, `SEX`, `STD`, `GDIS`; or another upper-case HL7 code (`SPI`) |
//! | `rules[].channels`, `checklists[].channels` | [`AccessChannel`] | `in-person`, `voice` (`phone` is still read), `portal`, `sms`, `email`, `postal`, `internal` |
//! | `rules[].max_confidentiality` | [`Confidentiality`] (HL7) | `N`, `R`, `V` |
//! | `rules[].obligations` | [`ObligationSpec`] | `{"mask": {"field": …, "keep_last": n}}`, `"notify-patient"`, `"post-hoc-review"`, `"log-disclosure"`, `"audit"` |
//! | `rules[].obligations[].mask.field` | [`MaskField`] | `identifier`, `phone`, `email`, `address`, `birth-date` |
//! | `rules[].break_glass` | [`BreakGlassOverride`] | `overridable` (default), `never` |
//! | `checklists[].require[][]` | [`VerificationStep`] | `name`, `date-of-birth`, `postcode`, `identifier-last4`, `one-time-code`, `photo-id`, `call-back`, `proxy-authorisation` |

use crate::decision::{MaskField, Obligation};
use crate::error::{ConsentError, PolicyProblem, ProblemKind};
use crate::vocab::{
    AccessChannel, Action, ActionSet, ActorKind, ActorKindSet, ChannelSet, ClassSet,
    Confidentiality, DataClass, LabelSet, Purpose, PurposeSet, SecurityLabel, StepSet,
    VerificationStep, list_codes,
};
use bedside_core::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// The most rules, checklists or list entries a policy may have.
pub const MAX_POLICY_ITEMS: usize = 4096;

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleEffect {
    /// Grants the rule's classes.
    Permit,
    /// Grants the rule's classes only where a patient consent explicitly permits the purpose
    /// (research disclosures, marketing, communication consent).
    PermitWithConsent,
    /// Denies the rule's classes.
    Deny,
}

/// Whether break-the-glass may lift a deny rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakGlassOverride {
    /// Break-the-glass lifts this deny for the classes it covers.
    #[default]
    Overridable,
    /// Nothing lifts this deny.
    Never,
}

/// An obligation as written in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ObligationSpec {
    /// Mask a field to its last characters.
    Mask {
        /// The field.
        field: MaskField,
        /// Characters left visible.
        keep_last: u8,
    },
    /// Notify the patient.
    NotifyPatient,
    /// Post-hoc review.
    PostHocReview,
    /// Log a disclosure.
    LogDisclosure,
    /// Audit.
    Audit,
}

/// One rule as written in a policy document. Codes are plain strings so that validation can
/// report unknown ones with their path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, named in explanations.
    pub id: String,
    /// What the rule is for (shown to people; not PHI).
    #[serde(default)]
    pub description: String,
    /// Permit, permit-with-consent or deny.
    pub effect: RuleEffect,
    /// Actor kinds (`staff`, `patient`, `proxy`, `external`, `system`).
    #[serde(default)]
    pub actors: Vec<String>,
    /// Staff roles, any of which matches.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Whether the staff member must be in the patient's care team.
    #[serde(default)]
    pub care_team: bool,
    /// Actions.
    #[serde(default)]
    pub actions: Vec<String>,
    /// PurposeOfUse codes.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Data classes the rule grants or denies.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Security labels, any of which the data must carry for the rule to match.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Channels.
    #[serde(default)]
    pub channels: Vec<String>,
    /// The most restricted confidentiality the rule matches (`N`, `R`, `V`; default `V`).
    #[serde(default)]
    pub max_confidentiality: Option<String>,
    /// Obligations attached when the rule contributes to a permit.
    #[serde(default)]
    pub obligations: Vec<ObligationSpec>,
    /// For deny rules: whether break-the-glass may lift it.
    #[serde(default)]
    pub break_glass: BreakGlassOverride,
}

/// Break-the-glass settings as written in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassSpec {
    /// Roles that may break the glass.
    pub roles: Vec<String>,
    /// Classes break-the-glass releases.
    pub classes: Vec<String>,
    /// Actions break-the-glass allows (empty = any; normally `read`).
    #[serde(default)]
    pub actions: Vec<String>,
    /// How long a declaration lasts, in minutes (1 to 1440).
    pub max_minutes: u32,
    /// Whether break-the-glass lifts consent denies.
    #[serde(default)]
    pub overrides_consent_denies: bool,
    /// Sensitive labels break-the-glass may release without consent (e.g. `ETH` for a 42 CFR
    /// §2.51 medical emergency; never `PSYTHPN`).
    #[serde(default)]
    pub overridable_labels: Vec<String>,
}

/// An identity-verification checklist as written in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistSpec {
    /// Unique id, e.g. `phone-lab-results`.
    pub id: String,
    /// The scenario, for people.
    #[serde(default)]
    pub description: String,
    /// Actor kinds it applies to.
    #[serde(default)]
    pub actors: Vec<String>,
    /// Channels it applies to.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Actions it applies to.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Classes it applies to (any overlap).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Groups of steps: every group needs one completed step.
    pub require: Vec<Vec<String>>,
}

/// A whole organisation policy as written (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// The policy's name.
    #[serde(default)]
    pub name: String,
    /// Access rules, in order.
    pub rules: Vec<RuleSpec>,
    /// Sensitive labels that need an explicit consent naming recipient and purpose.
    #[serde(default)]
    pub sensitive_labels: Vec<String>,
    /// Break-the-glass, when the organisation allows it.
    #[serde(default)]
    pub break_glass: Option<BreakGlassSpec>,
    /// Identity-verification checklists.
    #[serde(default)]
    pub checklists: Vec<ChecklistSpec>,
}

/// A compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Id.
    pub id: Arc<str>,
    /// Effect.
    pub effect: RuleEffect,
    /// Actor kinds (empty = any).
    pub actors: ActorKindSet,
    /// Role bits into [`Policy::roles`] (0 = any).
    pub roles: u64,
    /// Care team required.
    pub care_team: bool,
    /// Actions (empty = any).
    pub actions: ActionSet,
    /// Purposes (empty = any).
    pub purposes: PurposeSet,
    /// Classes (empty = all).
    pub classes: ClassSet,
    /// Labels (empty = any data).
    pub labels: LabelSet,
    /// Channels (empty = any).
    pub channels: ChannelSet,
    /// Most restricted confidentiality matched.
    pub max_confidentiality: Confidentiality,
    /// Obligations.
    pub obligations: Vec<Obligation>,
    /// Whether break-the-glass lifts it (deny rules).
    pub overridable: bool,
}

/// Compiled break-the-glass settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassPolicy {
    /// Role bits that may break the glass.
    pub roles: u64,
    /// Classes released.
    pub classes: ClassSet,
    /// Actions allowed (empty = any).
    pub actions: ActionSet,
    /// Window length in minutes.
    pub max_minutes: u32,
    /// Whether consent denies are lifted.
    pub overrides_consent_denies: bool,
    /// Sensitive labels released without consent.
    pub overridable_labels: LabelSet,
}

/// A compiled checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// Id.
    pub id: Arc<str>,
    /// Actor kinds (empty = any).
    pub actors: ActorKindSet,
    /// Channels (empty = any).
    pub channels: ChannelSet,
    /// Actions (empty = any).
    pub actions: ActionSet,
    /// Classes (empty = any).
    pub classes: ClassSet,
    /// Step groups.
    pub require: Vec<StepSet>,
}

/// A validated, compiled organisation policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    name: String,
    roles: Vec<Role>,
    rules: Vec<Rule>,
    sensitive: LabelSet,
    break_glass: Option<BreakGlassPolicy>,
    checklists: Vec<Checklist>,
}

impl Policy {
    /// Parses and validates a JSON policy document.
    ///
    /// # Errors
    /// [`ConsentError::MalformedPolicy`] when the JSON does not have the document's shape;
    /// [`ConsentError::InvalidPolicy`] listing every validation problem.
    pub fn from_json(json: &str) -> Result<Self, ConsentError> {
        let doc: PolicyDocument =
            serde_json::from_str(json).map_err(|e| ConsentError::MalformedPolicy {
                reason: e.to_string(),
            })?;
        Self::compile(&doc)
    }

    /// Validates and compiles a document.
    ///
    /// # Errors
    /// [`ConsentError::InvalidPolicy`] listing every validation problem.
    pub fn compile(doc: &PolicyDocument) -> Result<Self, ConsentError> {
        let mut cx = Compiler::default();
        if doc.rules.len() > MAX_POLICY_ITEMS || doc.checklists.len() > MAX_POLICY_ITEMS {
            cx.problem(
                "rules",
                ProblemKind::OutOfRange {
                    expected: "at most 4096 rules and checklists",
                },
            );
        }
        let mut ids = HashSet::new();
        let mut rules = Vec::with_capacity(doc.rules.len());
        for (i, spec) in doc.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            if !ids.insert(spec.id.as_str()) {
                cx.problem(
                    &format!("{path}.id"),
                    ProblemKind::DuplicateId {
                        id: spec.id.clone(),
                    },
                );
            }
            let rule = cx.rule(&path, spec);
            rules.push(rule);
        }
        cx.check_rule_relations(&rules);
        let sensitive = cx.set::<SecurityLabel, LabelSet>(
            "sensitive_labels",
            &doc.sensitive_labels,
            "security label",
        );
        let break_glass = doc.break_glass.as_ref().map(|bg| cx.break_glass(bg));
        let checklists = cx.checklists(&doc.checklists);
        if !cx.problems.is_empty() {
            return Err(ConsentError::InvalidPolicy {
                problems: cx.problems,
            });
        }
        Ok(Policy {
            name: doc.name.clone(),
            roles: cx.roles,
            rules,
            sensitive,
            break_glass,
            checklists,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compiled rules, in document order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The role table that rule role bits index.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Sensitive labels needing explicit consent.
    pub fn sensitive_labels(&self) -> LabelSet {
        self.sensitive
    }

    /// Break-the-glass settings.
    pub fn break_glass(&self) -> Option<&BreakGlassPolicy> {
        self.break_glass.as_ref()
    }

    /// Verification checklists.
    pub fn checklists(&self) -> &[Checklist] {
        &self.checklists
    }

    /// The role bits of a staff member's roles (roles the policy never names contribute none).
    pub fn role_bits(&self, roles: &[Role]) -> u64 {
        let mut bits = 0u64;
        for r in roles {
            if let Some(i) = self.roles.iter().position(|known| known == r) {
                bits |= 1 << i;
            }
        }
        bits
    }
}

#[derive(Default)]
struct Compiler {
    problems: Vec<PolicyProblem>,
    roles: Vec<Role>,
}

trait Coded: Sized + Copy {
    fn lookup(code: &str) -> Option<Self>;
    /// What a policy may write instead, for the "unknown code" problem.
    fn valid() -> String;
}

macro_rules! coded {
    ($($t:ty),*) => {$(impl Coded for $t {
        fn lookup(code: &str) -> Option<Self> { <$t>::from_code(code) }
        fn valid() -> String { <$t>::valid_codes() }
    })*};
}
coded!(Action, ActorKind, Purpose, AccessChannel, VerificationStep);

// Open vocabularies: any code of the documented shape (a resource type, a MIME type, an HL7
// label) is accepted; other unknown codes are reported as typos.
impl Coded for DataClass {
    fn lookup(code: &str) -> Option<Self> {
        DataClass::from_policy_code(code)
    }
    fn valid() -> String {
        format!(
            "{}, or a FHIR resource type (`MedicationRequest`) or MIME type (`application/pdf`)",
            list_codes(DataClass::CODES)
        )
    }
}

impl Coded for SecurityLabel {
    fn lookup(code: &str) -> Option<Self> {
        SecurityLabel::from_policy_code(code)
    }
    fn valid() -> String {
        format!(
            "{}, or another upper-case HL7 code (`SPI`)",
            list_codes(SecurityLabel::CODES)
        )
    }
}

impl Compiler {
    fn problem(&mut self, path: &str, kind: ProblemKind) {
        self.problems.push(PolicyProblem {
            path: path.to_owned(),
            kind,
        });
    }

    fn set<T: Coded, S: FromIterator<T>>(
        &mut self,
        path: &str,
        codes: &[String],
        vocabulary: &'static str,
    ) -> S {
        if codes.len() > MAX_POLICY_ITEMS {
            self.problem(
                path,
                ProblemKind::OutOfRange {
                    expected: "at most 4096 codes",
                },
            );
        }
        let mut out = Vec::with_capacity(codes.len());
        for (i, code) in codes.iter().enumerate() {
            match T::lookup(code) {
                Some(v) => out.push(v),
                None => self.problem(
                    &format!("{path}[{i}]"),
                    ProblemKind::UnknownCode {
                        vocabulary,
                        code: code.clone(),
                        valid: T::valid(),
                    },
                ),
            }
        }
        out.into_iter().collect()
    }

    fn roles(&mut self, path: &str, roles: &[String]) -> u64 {
        let mut bits = 0u64;
        for (i, code) in roles.iter().enumerate() {
            let Ok(role) = Role::new(code.clone()) else {
                self.problem(
                    &format!("{path}[{i}]"),
                    ProblemKind::UnknownCode {
                        vocabulary: "role",
                        code: code.clone(),
                        valid:
                            "a role code of lowercase letters, digits, `-` and `_` (`clinician`)"
                                .to_owned(),
                    },
                );
                continue;
            };
            let index = match self.roles.iter().position(|r| *r == role) {
                Some(index) => index,
                None => {
                    self.roles.push(role);
                    self.roles.len() - 1
                }
            };
            if index >= 64 {
                self.problem(
                    &format!("{path}[{i}]"),
                    ProblemKind::OutOfRange {
                        expected: "at most 64 distinct roles",
                    },
                );
            } else {
                bits |= 1 << index;
            }
        }
        bits
    }

    fn break_glass(&mut self, bg: &BreakGlassSpec) -> BreakGlassPolicy {
        if !(1..=1440).contains(&bg.max_minutes) {
            self.problem(
                "break_glass.max_minutes",
                ProblemKind::OutOfRange {
                    expected: "1 to 1440 minutes",
                },
            );
        }
        BreakGlassPolicy {
            roles: self.roles("break_glass.roles", &bg.roles),
            classes: self.set::<DataClass, ClassSet>(
                "break_glass.classes",
                &bg.classes,
                "data class",
            ),
            actions: self.set::<Action, ActionSet>("break_glass.actions", &bg.actions, "action"),
            max_minutes: bg.max_minutes,
            overrides_consent_denies: bg.overrides_consent_denies,
            overridable_labels: self.set::<SecurityLabel, LabelSet>(
                "break_glass.overridable_labels",
                &bg.overridable_labels,
                "security label",
            ),
        }
    }

    fn checklists(&mut self, specs: &[ChecklistSpec]) -> Vec<Checklist> {
        let mut checklist_ids = HashSet::new();
        let mut checklists = Vec::with_capacity(specs.len());
        for (i, c) in specs.iter().enumerate() {
            let path = format!("checklists[{i}]");
            if !checklist_ids.insert(c.id.as_str()) {
                self.problem(
                    &format!("{path}.id"),
                    ProblemKind::DuplicateId { id: c.id.clone() },
                );
            }
            if c.require.is_empty() {
                self.problem(
                    &format!("{path}.require"),
                    ProblemKind::OutOfRange {
                        expected: "at least one step group",
                    },
                );
            }
            let mut require = Vec::with_capacity(c.require.len());
            for (g, group) in c.require.iter().enumerate() {
                let gpath = format!("{path}.require[{g}]");
                if group.is_empty() {
                    self.problem(
                        &gpath,
                        ProblemKind::OutOfRange {
                            expected: "at least one step",
                        },
                    );
                }
                require.push(self.set::<VerificationStep, StepSet>(
                    &gpath,
                    group,
                    "verification step",
                ));
            }
            checklists.push(Checklist {
                id: Arc::from(c.id.as_str()),
                actors: self.set::<ActorKind, ActorKindSet>(
                    &format!("{path}.actors"),
                    &c.actors,
                    "actor kind",
                ),
                channels: self.set::<AccessChannel, ChannelSet>(
                    &format!("{path}.channels"),
                    &c.channels,
                    "channel",
                ),
                actions: self.set::<Action, ActionSet>(
                    &format!("{path}.actions"),
                    &c.actions,
                    "action",
                ),
                classes: self.set::<DataClass, ClassSet>(
                    &format!("{path}.classes"),
                    &c.classes,
                    "data class",
                ),
                require,
            });
        }
        checklists
    }

    fn rule(&mut self, path: &str, spec: &RuleSpec) -> Rule {
        let actors: ActorKindSet = self.set(&format!("{path}.actors"), &spec.actors, "actor kind");
        let roles = self.roles(&format!("{path}.roles"), &spec.roles);
        let staff_possible = actors.matches(ActorKind::Staff);
        if spec.care_team && !staff_possible {
            self.problem(
                &format!("{path}.care_team"),
                ProblemKind::NeverMatches {
                    reason: "care team requires staff actors",
                },
            );
        }
        if roles != 0 && !staff_possible {
            self.problem(
                &format!("{path}.roles"),
                ProblemKind::NeverMatches {
                    reason: "roles require staff actors",
                },
            );
        }
        let max_confidentiality = match spec.max_confidentiality.as_deref() {
            None => Confidentiality::VeryRestricted,
            Some(code) => Confidentiality::from_code(code).unwrap_or_else(|| {
                self.problem(
                    &format!("{path}.max_confidentiality"),
                    ProblemKind::UnknownCode {
                        vocabulary: "confidentiality",
                        code: code.to_owned(),
                        valid: list_codes(&Confidentiality::ALL.map(Confidentiality::code)),
                    },
                );
                Confidentiality::VeryRestricted
            }),
        };
        let obligations = spec
            .obligations
            .iter()
            .map(|o| match o {
                ObligationSpec::Mask { field, keep_last } => Obligation::Mask {
                    field: *field,
                    keep_last: *keep_last,
                },
                ObligationSpec::NotifyPatient => Obligation::NotifyPatient,
                ObligationSpec::PostHocReview => Obligation::PostHocReview,
                ObligationSpec::LogDisclosure => Obligation::LogDisclosure,
                ObligationSpec::Audit => Obligation::Audit,
            })
            .collect();
        Rule {
            id: Arc::from(spec.id.as_str()),
            effect: spec.effect,
            actors,
            roles,
            care_team: spec.care_team,
            actions: self.set(&format!("{path}.actions"), &spec.actions, "action"),
            purposes: self.set(
                &format!("{path}.purposes"),
                &spec.purposes,
                "purpose of use",
            ),
            classes: self.set(&format!("{path}.classes"), &spec.classes, "data class"),
            labels: self.set(&format!("{path}.labels"), &spec.labels, "security label"),
            channels: self.set(&format!("{path}.channels"), &spec.channels, "channel"),
            max_confidentiality,
            obligations,
            overridable: spec.break_glass == BreakGlassOverride::Overridable,
        }
    }

    fn check_rule_relations(&mut self, rules: &[Rule]) {
        for (i, a) in rules.iter().enumerate() {
            for (j, b) in rules.iter().enumerate() {
                if i == j {
                    continue;
                }
                let opposite = (a.effect == RuleEffect::Deny) != (b.effect == RuleEffect::Deny);
                if opposite && i < j && same_target(a, b) {
                    self.problem(
                        &format!("rules[{j}]"),
                        ProblemKind::Contradictory {
                            other: a.id.to_string(),
                        },
                    );
                } else if a.effect != RuleEffect::Deny
                    && b.effect == RuleEffect::Deny
                    && !b.overridable
                    && !same_target(a, b)
                    && covers(b, a)
                {
                    self.problem(
                        &format!("rules[{i}]"),
                        ProblemKind::Unreachable {
                            shadowed_by: b.id.to_string(),
                        },
                    );
                }
            }
        }
    }
}

fn same_target(a: &Rule, b: &Rule) -> bool {
    a.actors == b.actors
        && a.roles == b.roles
        && a.care_team == b.care_team
        && a.actions == b.actions
        && a.purposes == b.purposes
        && a.classes == b.classes
        && a.labels == b.labels
        && a.channels == b.channels
        && a.max_confidentiality == b.max_confidentiality
}

/// Whether every request `inner` matches is also matched by `outer`, for every class `inner`
/// speaks about.
fn covers(outer: &Rule, inner: &Rule) -> bool {
    fn set_covers(outer_empty: bool, inner_empty: bool, inner_subset: bool) -> bool {
        outer_empty || (!inner_empty && inner_subset)
    }
    set_covers(
        outer.actors.is_empty(),
        inner.actors.is_empty(),
        inner.actors.is_subset(outer.actors),
    ) && (outer.roles == 0 || (inner.roles != 0 && inner.roles & !outer.roles == 0))
        && (!outer.care_team || inner.care_team)
        && set_covers(
            outer.actions.is_empty(),
            inner.actions.is_empty(),
            inner.actions.is_subset(outer.actions),
        )
        && set_covers(
            outer.purposes.is_empty(),
            inner.purposes.is_empty(),
            inner.purposes.is_subset(outer.purposes),
        )
        && set_covers(
            outer.classes.is_empty(),
            inner.classes.is_empty(),
            inner.classes.is_subset(outer.classes),
        )
        && set_covers(
            outer.labels.is_empty(),
            inner.labels.is_empty(),
            inner.labels.is_subset(outer.labels),
        )
        && set_covers(
            outer.channels.is_empty(),
            inner.channels.is_empty(),
            inner.channels.is_subset(outer.channels),
        )
        && outer.max_confidentiality >= inner.max_confidentiality
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module docs' table of codes names every code of every vocabulary a policy reads.
    #[test]
    fn the_code_table_lists_every_code() {
        let source = include_str!("policy.rs");
        let docs: String = source
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let all = [
            ActorKind::CODES,
            Action::CODES,
            Purpose::CODES,
            DataClass::CODES,
            SecurityLabel::CODES,
            AccessChannel::CODES,
            VerificationStep::CODES,
        ];
        for code in all.iter().flat_map(|c| c.iter()) {
            assert!(
                docs.contains(&format!("`{code}`")),
                "`{code}` missing from the table"
            );
        }
        for c in Confidentiality::ALL {
            assert!(docs.contains(&format!("`{}`", c.code())));
        }
    }
}
