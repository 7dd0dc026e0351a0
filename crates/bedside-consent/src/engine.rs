//! [`Engine`]: the policy, the consent store, care teams and proxy grants, and
//! [`Engine::decide`].

use crate::consent::{
    CareTeam, ConsentStatus, ConsentStore, MatchInput, ProvisionType, ProxyGrant, evaluate,
};
use crate::decision::{
    Applied, DecidedBy, Decision, Effect, Explanation, MissingStep, Obligation, Source, Verdict,
    combine,
};
use crate::idmap::IdMap;
use crate::policy::{Policy, Rule, RuleEffect};
use crate::request::Request;
use crate::vocab::{Action, ActorKind, ClassSet};
use bedside_core::{Actor, PatientId, RelatedPersonId};
use chrono::TimeDelta;

/// The consent engine: answers [`Request`]s with [`Decision`]s.
///
/// It holds the [`Policy`], the patients' consents ([`ConsentStore`]), their care teams and
/// the proxy grants. Deciding never changes it; recording the decision is the caller's job
/// ([`crate::AuditLog::record`]).
///
/// ```
/// use bedside_consent::{
///     Action, CareTeam, Consent, DataClass, Engine, Policy, Provision, ProvisionType, Purpose,
///     Request,
/// };
/// use bedside_core::{Actor, ConsentId, OrganisationId, PatientId, ProviderId, Role, Staff, StaffId};
/// use uuid::Uuid;
///
/// let policy = Policy::from_json(r#"{ "rules": [
///   { "id": "treating-team", "effect": "permit", "actors": ["staff"], "roles": ["clinician"],
///     "care_team": true, "actions": ["read"], "purposes": ["TREAT"] }
/// ] }"#)?;
/// let mut engine = Engine::new(policy);
/// let patient = PatientId::from_uuid(Uuid::from_u128(1));
/// let doctor = ProviderId::from_uuid(Uuid::from_u128(2));
/// engine.set_care_team(patient, CareTeam::from(vec![doctor]));
/// let clinician = Actor::Staff(Staff {
///     id: StaffId::from_uuid(Uuid::from_u128(3)),
///     roles: vec![Role::new("clinician")?],
///     organisation: OrganisationId::from_uuid(Uuid::from_u128(4)),
///     provider: Some(doctor),
/// });
/// let at = "2026-06-10T09:00:00Z".parse()?;
/// let ask = Request::new(clinician.clone(), patient, Action::Read, Purpose::Treat, at)
///     .classes([DataClass::LabResults, DataClass::ClinicalNotes]);
/// assert!(engine.decide(&ask).is_permit());
///
/// // The patient withholds their clinical notes: the lab results are still released.
/// let no_notes = Provision::new(ProvisionType::Permit)
///     .except(Provision::new(ProvisionType::Deny).class(DataClass::ClinicalNotes));
/// let consent = Consent::new(ConsentId::from_uuid(Uuid::from_u128(5)), patient, no_notes);
/// engine.consents_mut().add(consent, at, &Actor::Patient { patient })?;
/// let decision = engine.decide(&ask);
/// assert!(decision.permitted.contains(DataClass::LabResults));
/// assert!(!decision.permitted.contains(DataClass::ClinicalNotes));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) policy: Policy,
    pub(crate) consents: ConsentStore,
    pub(crate) proxies: IdMap<(RelatedPersonId, PatientId), Vec<ProxyGrant>>,
}

impl Engine {
    /// An engine with a policy and no consents.
    pub fn new(policy: Policy) -> Self {
        Engine {
            policy,
            consents: ConsentStore::new(),
            proxies: IdMap::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The consents.
    pub fn consents(&self) -> &ConsentStore {
        &self.consents
    }

    /// The consents, for adding and revoking.
    pub fn consents_mut(&mut self) -> &mut ConsentStore {
        &mut self.consents
    }

    /// Sets a patient's care team.
    pub fn set_care_team(&mut self, patient: PatientId, team: CareTeam) {
        self.consents.set_care_team(patient, team);
    }

    /// A patient's care team.
    pub fn care_team(&self, patient: PatientId) -> Option<&CareTeam> {
        self.consents.care_team(patient)
    }

    /// Records a proxy grant.
    pub fn add_proxy_grant(&mut self, grant: ProxyGrant) {
        self.proxies
            .entry((grant.related_person, grant.patient))
            .or_default()
            .push(grant);
    }

    /// Removes every proxy grant of `related_person` for `patient` (the patient revoked the
    /// proxy); returns how many were removed. Later requests by that proxy are decided as if
    /// no grant had ever existed.
    pub fn revoke_proxy_grants(
        &mut self,
        related_person: RelatedPersonId,
        patient: PatientId,
    ) -> usize {
        self.proxies
            .remove(&(related_person, patient))
            .map_or(0, |grants| grants.len())
    }

    /// Decides a request. See [`crate::decision`] for the combining algorithm.
    // Not split: the hot path of every decision, whose phases share borrowed state (benched).
    pub fn decide(&self, request: &Request) -> Decision {
        let requested = request.data.classes;
        let kind = ActorKind::of(&request.actor);
        let staff = request.actor.as_staff();
        let role_bits = staff.map_or(0, |s| self.policy.role_bits(&s.roles));
        let speaks_for_patient = request.actor.acting_for() == Some(request.patient);
        let mut in_care_team: Option<bool> = None;
        // One lookup gives the patient's consents and care team together.
        let patient_entry = self.consents.entry(request.patient);
        let care_team = patient_entry.and_then(|e| e.care_team.as_ref());
        let patient_consents = patient_entry.map_or(&[][..], |e| e.consents.as_slice());
        let mut applied: Vec<Applied> = Vec::with_capacity(8);
        let mut rule_of_entry: Vec<(usize, usize)> = Vec::new();

        for (index, rule) in self.policy.rules().iter().enumerate() {
            if !Self::rule_matches(
                rule,
                request,
                kind,
                role_bits,
                speaks_for_patient,
                care_team,
                &mut in_care_team,
            ) {
                continue;
            }
            let classes = if rule.classes.is_empty() {
                requested
            } else {
                requested.intersection(rule.classes)
            };
            if classes.is_empty() {
                continue;
            }
            let verdict = match rule.effect {
                RuleEffect::Permit => Verdict::Permit,
                RuleEffect::PermitWithConsent => Verdict::PermitWithConsent,
                RuleEffect::Deny => Verdict::Deny {
                    overridable: rule.overridable,
                },
            };
            if !rule.obligations.is_empty() {
                rule_of_entry.push((applied.len(), index));
            }
            applied.push(Applied {
                source: Source::Rule {
                    id: rule.id.clone(),
                },
                verdict,
                classes,
            });
        }

        let break_glass = self.policy.break_glass();
        let consent_deny_overridable = break_glass.is_some_and(|b| b.overrides_consent_denies);
        let input = MatchInput {
            actor: &request.actor,
            action: request.action,
            purpose: request.purpose,
            channel: request.channel,
            labels: request.data.labels,
            confidentiality: request.data.confidentiality,
            data_period: request.data.period,
            at: request.context.at,
        };
        let mut verdicts = Vec::new();
        let consents_start = applied.len();
        for consent in patient_consents {
            if consent.status != ConsentStatus::Active {
                continue;
            }
            verdicts.clear();
            evaluate(consent, requested, &input, &mut verdicts);
            for (classes, v) in &verdicts {
                let verdict = match v.kind {
                    ProvisionType::Permit => Verdict::ConsentPermit {
                        names_purpose: v.names_purpose,
                        names_actor: v.names_actor,
                        labels: v.labels,
                    },
                    ProvisionType::Deny => Verdict::Deny {
                        overridable: consent_deny_overridable,
                    },
                };
                applied.push(Applied {
                    source: Source::Provision {
                        consent: consent.id,
                        path: v.path,
                    },
                    verdict,
                    classes: *classes,
                });
            }
        }

        // Sensitive categories: denied unless a consent explicitly names recipient, purpose and
        // label. The patient reading their own record is not a recipient.
        let sensitive = request
            .data
            .labels
            .intersection(self.policy.sensitive_labels());
        if !sensitive.is_empty() && kind != ActorKind::Patient {
            for label in sensitive.iter() {
                let mut explicit = ClassSet::EMPTY;
                for a in &applied[consents_start..] {
                    if let Verdict::ConsentPermit {
                        names_purpose: true,
                        names_actor: true,
                        labels,
                    } = a.verdict
                        && labels.contains(label)
                    {
                        explicit = explicit.union(a.classes);
                    }
                }
                let denied = requested.difference(explicit);
                if !denied.is_empty() {
                    let overridable =
                        break_glass.is_some_and(|b| b.overridable_labels.contains(label));
                    applied.push(Applied {
                        source: Source::SensitiveCategory { label },
                        verdict: Verdict::Deny { overridable },
                        classes: denied,
                    });
                }
            }
        }

        if let Actor::Proxy { related_person, .. } = &request.actor {
            let mut allowed = ClassSet::EMPTY;
            if speaks_for_patient {
                for g in self
                    .proxies
                    .get(&(*related_person, request.patient))
                    .into_iter()
                    .flatten()
                {
                    if g.period.contains(request.context.at) && g.actions.contains(request.action) {
                        allowed = allowed.union(g.classes);
                    }
                }
            }
            let denied = requested.difference(allowed);
            if !denied.is_empty() {
                applied.push(Applied {
                    source: Source::ProxyScope,
                    verdict: Verdict::Deny { overridable: false },
                    classes: denied,
                });
            }
        }

        if let (Some(bg), Some(declared)) = (break_glass, &request.context.break_glass) {
            let window_end = declared.started_at + TimeDelta::minutes(i64::from(bg.max_minutes));
            let valid = request.purpose == crate::vocab::Purpose::Etreat
                && role_bits & bg.roles != 0
                && bg.actions.matches(request.action)
                && !declared.justification.expose().trim().is_empty()
                && declared.started_at <= request.context.at
                && request.context.at < window_end;
            let classes = requested.intersection(bg.classes);
            if valid && !classes.is_empty() {
                applied.push(Applied {
                    source: Source::BreakGlass,
                    verdict: Verdict::Override,
                    classes,
                });
            }
        }

        let mut missing_steps = Vec::new();
        let verified = request.context.verified;
        for checklist in self.policy.checklists() {
            let applies = checklist.actors.matches(kind)
                && checklist.channels.matches(request.channel)
                && checklist.actions.matches(request.action)
                && (checklist.classes.is_empty() || checklist.classes.intersects(requested));
            if !applies {
                continue;
            }
            let before = missing_steps.len();
            for group in &checklist.require {
                if !group.intersects(verified)
                    && !missing_steps
                        .iter()
                        .any(|m: &MissingStep| m.any_of == *group)
                {
                    missing_steps.push(MissingStep {
                        checklist: checklist.id.clone(),
                        any_of: *group,
                    });
                }
            }
            let groups = missing_steps.len() - before;
            if groups > 0 {
                applied.push(Applied {
                    source: Source::Checklist {
                        id: checklist.id.clone(),
                    },
                    verdict: Verdict::VerificationMissing {
                        groups: u8::try_from(groups).unwrap_or(u8::MAX),
                    },
                    classes: requested,
                });
            }
        }

        let combined = combine(requested, &applied);
        let verification_decided = matches!(
            (combined.decided_by, combined.effect),
            (DecidedBy::Entry(i), Effect::Deny) if matches!(applied.get(i).map(|a| &a.verdict), Some(Verdict::VerificationMissing { .. }))
        );
        if !verification_decided {
            missing_steps.clear();
        }
        let mut obligations = Vec::new();
        if combined.effect == Effect::Permit {
            for (entry, rule_index) in &rule_of_entry {
                let contributed = applied
                    .get(*entry)
                    .is_some_and(|a| a.classes.intersects(combined.permitted));
                if let (true, Some(rule)) = (contributed, self.policy.rules().get(*rule_index)) {
                    for o in &rule.obligations {
                        push_unique(&mut obligations, o.clone());
                    }
                }
            }
            if combined.permitted != requested {
                push_unique(
                    &mut obligations,
                    Obligation::RestrictToClasses(combined.permitted),
                );
            }
            let glass = matches!(combined.decided_by, DecidedBy::Entry(i) if applied.get(i).is_some_and(|a| a.source == Source::BreakGlass));
            if glass {
                push_unique(&mut obligations, Obligation::Audit);
                push_unique(&mut obligations, Obligation::NotifyPatient);
                push_unique(&mut obligations, Obligation::PostHocReview);
            }
            if matches!(request.action, Action::Disclose | Action::Export) {
                push_unique(&mut obligations, Obligation::LogDisclosure);
            }
        }
        Decision {
            effect: combined.effect,
            permitted: combined.permitted,
            obligations,
            missing_steps,
            explanation: Explanation {
                requested,
                applied,
                decided_by: combined.decided_by,
            },
        }
    }

    fn rule_matches(
        rule: &Rule,
        request: &Request,
        kind: ActorKind,
        role_bits: u64,
        speaks_for_patient: bool,
        care_team: Option<&CareTeam>,
        in_care_team: &mut Option<bool>,
    ) -> bool {
        if !rule.actors.matches(kind)
            || !rule.actions.matches(request.action)
            || !rule.purposes.matches(request.purpose)
            || !rule.channels.matches(request.channel)
            || request.data.confidentiality > rule.max_confidentiality
        {
            return false;
        }
        if !rule.labels.is_empty() && !rule.labels.intersects(request.data.labels) {
            return false;
        }
        // A patient or proxy speaks only for their own patient.
        if matches!(kind, ActorKind::Patient | ActorKind::Proxy) && !speaks_for_patient {
            return false;
        }
        if rule.roles != 0 && rule.roles & role_bits == 0 {
            return false;
        }
        if rule.care_team {
            let member = *in_care_team
                .get_or_insert_with(|| care_team.is_some_and(|t| t.includes(&request.actor)));
            if !member {
                return false;
            }
        }
        true
    }
}

fn push_unique(list: &mut Vec<Obligation>, o: Obligation) {
    if !list.contains(&o) {
        list.push(o);
    }
}
