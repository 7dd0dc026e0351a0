//! Privacy policy and consent engine: minimum necessary, patient consents, break-glass, identity
//! verification, tamper-evident audit.
//!
//! For every access or disclosure the [`Engine`] answers "may this actor do this with this
//! patient's data for this purpose, right now?" with a [`Decision`]: permit or deny, the
//! [`Obligation`]s that come with it, the identity-verification steps still missing, and an
//! [`Explanation`] naming every rule and consent provision that applied and which one decided.
//!
//! - [`vocab`]: actions, [`DataClass`]es, HL7 [`SecurityLabel`]s, [`Purpose`]s of use, channels,
//!   verification steps — each a small bit set.
//! - [`Policy`]: the organisation's rules as data ([`PolicyDocument`], JSON), validated on load:
//!   minimum necessary by role × purpose × class, right of access, sensitive categories,
//!   break-the-glass, identity-verification checklists.
//! - [`Consent`] and [`ConsentStore`]: FHIR R4 `Consent` semantics with nested [`Provision`]s
//!   (most specific wins), proxies ([`ProxyGrant`]), communication consent per channel and purpose
//!   with [`ConsentStore::stop`]. [`fhir`] imports and exports R4 JSON.
//! - [`decision::combine`]: the documented, deterministic combining algorithm (deny overrides
//!   across sources); [`Explanation::replay`] reproduces every decision from its explanation.
//! - [`AuditLog`]: a SHA-256 hash chain of [`AuditEvent`]s; [`audit::verify`] locates modified,
//!   removed, inserted or reordered events, and HMAC-signed [`SignedCheckpoint`]s catch
//!   truncation and wholesale re-hashing. [`accounting`] lists disclosures per HIPAA §164.528;
//!   [`ReviewQueue`] and [`SamplingPlan`] drive compliance review.
//!
//! ```
//! use bedside_consent::{AccessChannel, Action, DataClass, Engine, Policy, Purpose, Request, VerificationStep};
//! use bedside_core::{Actor, PatientId};
//! use uuid::Uuid;
//!
//! let policy = Policy::from_json(r#"{
//!   "rules": [{ "id": "right-of-access", "effect": "permit", "actors": ["patient"],
//!               "actions": ["read"], "purposes": ["PATRQT"] }],
//!   "checklists": [{ "id": "phone-caller", "actors": ["patient"], "channels": ["voice"],
//!                    "require": [["name"], ["date-of-birth"], ["postcode", "identifier-last4"]] }]
//! }"#)?;
//! let engine = Engine::new(policy);
//! let patient = PatientId::from_uuid(Uuid::from_u128(7));
//! let at = "2026-06-10T09:00:00Z".parse()?;
//! let mut request = Request::new(Actor::Patient { patient }, patient, Action::Read, Purpose::Patrqt, at)
//!     .classes([DataClass::Appointments])
//!     .channel(AccessChannel::Voice)
//!     .verified([VerificationStep::Name]);
//!
//! // Not yet: the agent is told what to ask next.
//! let decision = engine.decide(&request);
//! assert!(!decision.is_permit());
//! assert_eq!(decision.missing_steps.len(), 2);
//!
//! request.context.verified.insert(VerificationStep::DateOfBirth);
//! request.context.verified.insert(VerificationStep::Postcode);
//! let decision = engine.decide(&request);
//! assert!(decision.is_permit());
//! assert_eq!(decision.explanation.replay().effect, decision.effect);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Persistence
//!
//! - [`Engine`]: [`Engine::snapshot`] gives an [`EngineSnapshot`] (consents with their current
//!   status, the status history, care teams, proxy grants; plain serde data in a deterministic
//!   order) and [`Engine::restore`] rebuilds the engine's indices from it, validating every
//!   consent again. The [`Policy`] is configuration, not state: keep its JSON and reload it with
//!   [`Policy::from_json`]. [`ConsentStore::snapshot`] / [`ConsentStore::restore`] do the same for
//!   a store on its own.
//! - [`AuditLog`]: [`AuditLog::to_text`] writes one canonical JSON line per entry, every byte
//!   covered by the hash chain; [`AuditLog::from_text`] reads it back and verifies the chain.
//!   Append-only storage of the lines is enough; keep [`SignedCheckpoint`]s elsewhere.
//! - [`ReviewQueue`] items and [`Consent`]s derive serde; FHIR R4 JSON ([`fhir`]) is the
//!   interchange form of a consent, not a storage format.
//!
//! # Attribution
//!
//! Every change a person makes to consent state names the acting [`bedside_core::Actor`] and
//! the instant `at`, kept in the store's history: [`ConsentStore::add`],
//! [`ConsentStore::set_status`], [`ConsentStore::revoke`] and [`ConsentStore::stop`]. A review
//! finding carries its reviewer and time in the [`ReviewStatus`] it sets. These mutations take
//! no actor:
//!
//! - [`Engine::set_care_team`] / [`ConsentStore::set_care_team`]: a care team is derived from
//!   the embedder's own records (bookings, assignments); the change is attributed there.
//! - [`Engine::add_proxy_grant`] / [`Engine::revoke_proxy_grants`]: the engine mirrors grants
//!   recorded, with their author, on the patient record (`RelatedPerson`).
//! - [`AuditLog::append`] / [`AuditLog::record`] / [`AuditLog::extend_from_text`]: the event
//!   itself names the actor of the audited request.
//! - [`ReviewQueue::enqueue`] / [`ReviewQueue::resolve`]: the queued event names its actor; the
//!   finding names its reviewer.
//! - [`Engine::consents_mut`]: access to the store, whose mutations take the actor.
//! - `insert` on the code sets ([`ClassSet`], [`StepSet`], …): values under construction.

pub mod audit;
pub mod consent;
pub mod decision;
pub mod disclosure;
pub mod engine;
pub mod error;
pub mod fhir;
mod idmap;
pub mod policy;
pub mod request;
pub mod review;
pub mod snapshot;
pub mod vocab;

pub use audit::{
    AuditEntry, AuditEvent, AuditLog, ChainError, ChainFault, Checkpoint, SignedCheckpoint,
};
pub use consent::{
    ActorRef, CareTeam, Consent, ConsentStatus, ConsentStore, Provision, ProvisionActor,
    ProvisionType, ProxyGrant, Relationship,
};
pub use decision::{
    Applied, DecidedBy, Decision, Effect, Explanation, MaskField, MissingStep, Obligation,
    ProvisionPath, Source, Verdict, mask,
};
pub use disclosure::{DisclosureEntry, accounting};
pub use engine::Engine;
pub use error::{ConsentError, PolicyProblem, ProblemKind};
pub use policy::{Policy, PolicyDocument, RuleEffect};
pub use request::{BreakGlass, Context, DataScope, Request};
pub use review::{ReviewItem, ReviewQueue, ReviewStatus, SampleItem, SampleReason, SamplingPlan};
pub use snapshot::{EngineSnapshot, StoreSnapshot};
pub use vocab::{
    AccessChannel, Action, ActionSet, ActorKind, ChannelSet, ClassSet, Confidentiality, DataClass,
    LabelSet, OpenCode, Purpose, PurposeSet, SecurityLabel, StepSet, VerificationStep,
};
