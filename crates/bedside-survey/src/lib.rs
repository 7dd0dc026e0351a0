//! Patient and staff surveys: definitions, branching, validation, scoring, analytics and FHIR
//! Questionnaire.
//!
//! Clinics survey patients after scheduling, visits and discharge, run clinical questionnaires
//! (PHQ-9, GAD-7) and check in weekly on their staff's wellbeing. This crate defines those
//! instruments, checks answers, scores them and turns them into numbers a manager acts on. It
//! depends only on `bedside-core` and does no I/O: the built-in library is compiled in.
//!
//! - [`SurveyDefinition`]: a versioned survey with [`Texts`] in several languages (BCP-47
//!   fallback through [`bedside_core::Language`]), nested [`Item`]s of every [`ItemKind`]
//!   (choice, numbers, dates, text, Likert, NPS, star rating, Likert matrix), `enable_when`
//!   [`Condition`]s with FHIR semantics ([`enable`]), scoring [`Scale`]s and [`FlagRule`]s.
//! - [`check_definition`] returns every [`DefinitionProblem`]; [`validate()`] (or a reusable
//!   [`Validator`]) returns every [`ResponseProblem`] of a [`SurveyResponse`], with paths.
//! - [`score`] computes a [`ScoreSheet`]: sums or means, reverse scoring, subscales, bands,
//!   proration of missing items and flags such as PHQ-9 item 9.
//! - [`Builtin`]: NPS, CSAT, post-visit, post-discharge, HCAHPS-style communication, PHQ-9,
//!   GAD-7 and weekly staff wellbeing, as data files checked by tests.
//! - [`distribution`]: pure planning of which survey goes to whom, when and how.
//! - [`analytics`]: distributions, boxes, NPS with confidence interval, CSAT, scale bands, by
//!   any dimension, with small-cell suppression; [`report`] renders it for a manager.
//! - [`fhir`]: FHIR R4 `Questionnaire`/`QuestionnaireResponse` import and export, lossless for
//!   elements it does not model.
//!
//! Scoring sources: PHQ-9 — Kroenke, Spitzer and Williams (2001); GAD-7 — Spitzer, Kroenke,
//! Williams and Löwe (2006); NPS — promoters 9–10, passives 7–8, detractors 0–6; HCAHPS answer
//! scales and boxes — CMS (raw shares, no patient-mix or mode adjustment).
//!
//! ```
//! use bedside_survey::{AnswerValue, Builtin, ResponseBuilder, FlagSeverity, score, validate};
//!
//! let phq9 = Builtin::Phq9.definition()?;
//! let mut response = ResponseBuilder::new(&phq9);
//! for (item, points) in [1, 2, 1, 1, 0, 1, 2, 0, 1].iter().enumerate() {
//!     response = response.answer(&format!("phq9-{}", item + 1), AnswerValue::code(points.to_string()));
//! }
//! let response = response.build();
//! assert!(validate(&phq9, &response).is_empty());
//!
//! let sheet = score(&phq9, &response)?;
//! let total = sheet.scale("total").ok_or("no total")?;
//! assert_eq!(total.score, Some(9.0));
//! assert_eq!(total.band.as_deref(), Some("mild"));
//! // Item 9 (thoughts of self-harm) above 0 raises an urgent flag whatever the total.
//! assert!(sheet.has_flag_at_least(FlagSeverity::Urgent));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`FlagSeverity`] is how urgently a raised flag needs a follow-up; a score's range label is
//! a [`Band`]. Neither is the vitals crate's `AlertSeverity` nor
//! [`bedside_core::IssueSeverity`].
//!
//! # Attribution
//!
//! A response's lifecycle is attributable: [`SurveyResponse::record`],
//! [`SurveyResponse::amend`] and [`SurveyResponse::withdraw`] take the acting
//! [`bedside_core::Actor`] and the instant `at`, and append a [`ResponseRevision`] to the
//! response's `history` ([`SurveyResponse::recorded_by`] reads who answered). The crate holds
//! no other stored state. These public `&mut self` methods take no `Actor`, on purpose:
//!
//! - [`Aggregator::add`] and [`AnalyticsReport::adjust_boxes`]: derive statistics from
//!   responses; nothing a person did changes.
//! - [`Texts::set`], [`FhirExtra::insert`] and [`FhirExtra::remove`]: build values (wording,
//!   unmodelled FHIR elements) of a definition or response not yet stored; who publishes a
//!   definition is the embedder's record.
//!
//! # Persistence
//!
//! - [`SurveyResponse`] derives `Serialize`/`Deserialize`; store its serde form to keep the
//!   answers **and** the `history` (who recorded, amended, withdrew). The FHIR form
//!   ([`fhir::export_questionnaire_response`]) is the exchange format: it keeps the answers and
//!   unmodelled elements but not the history, which FHIR keeps in `Provenance`.
//! - [`SurveyDefinition`] derives serde and is read back with [`parse_definition`] (the
//!   built-in library is compiled in, [`Builtin`]); [`fhir::export_questionnaire`] /
//!   [`fhir::import_questionnaire`] round-trip it losslessly.
//! - [`Aggregator`] and [`AnalyticsReport`] are derived: rebuild them from stored responses.
//!   An [`AnalyticsReport`] serialises (one way, for export), but is not read back.

pub mod analytics;
pub mod check;
pub mod definition;
pub mod distribution;
pub mod enable;
pub mod error;
pub mod extra;
pub mod fhir;
mod index;
pub mod library;
pub mod report;
pub mod response;
pub mod scoring;
pub mod text;
pub mod validate;

pub use analytics::{
    Aggregator, AnalyticsConfig, AnalyticsReport, BoxAdjustment, Boxes, CellReport, Dimension,
    ItemStats, Nps, analyse,
};
pub use check::{DefinitionProblem, DefinitionProblemKind, check_definition};
pub use definition::{
    AnswerOption, Condition, DefinitionStatus, EnableBehavior, Item, ItemKind, MatrixRow, Operator,
    OptionType, Reporting, SurveyDefinition, SurveyRef,
};
pub use enable::{condition_holds, enabled_items};
pub use error::SurveyError;
pub use extra::FhirExtra;
pub use library::{Builtin, parse_definition};
pub use response::{
    Answer, AnswerCoding, AnswerValue, ResponseBuilder, ResponseItem, ResponseRevision,
    ResponseStatus, RevisionKind, SurveyResponse,
};
pub use scoring::{
    Band, FlagRule, FlagSeverity, FlagTrigger, RaisedFlag, Scale, ScaleScore, ScoreError,
    ScoreMethod, ScoreSheet, score,
};
pub use text::Texts;
pub use validate::{ResponseProblem, ResponseProblemKind, Validator, validate};
