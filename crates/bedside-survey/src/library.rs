//! The built-in survey library. Each definition is a JSON data file in the crate's `library/`
//! directory, embedded at compile time (no runtime file access) and checked by tests.
//!
//! Scoring rules follow the published sources: PHQ-9 (Kroenke, Spitzer and Williams, 2001),
//! GAD-7 (Spitzer, Kroenke, Williams and Löwe, 2006), NPS (promoters 9–10, passives 7–8,
//! detractors 0–6) and CMS HCAHPS answer scales and top/middle/bottom boxes (raw shares; patient
//! mix and mode adjustment plug in through [`crate::BoxAdjustment`]).

use crate::definition::SurveyDefinition;
use crate::error::SurveyError;
use std::fmt;

/// A built-in survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// Net Promoter Score: one 0–10 question and a reason.
    Nps,
    /// Customer satisfaction: one 5-point satisfaction question.
    Csat,
    /// Post-visit experience: scheduling, wait, concerns addressed, explanations, comfort with
    /// staff, recommendation, comment.
    PostVisit,
    /// Post-discharge follow-up call, with follow-up flags.
    PostDischarge,
    /// HCAHPS-style communication subset with HCAHPS answer scales and boxes.
    HcahpsCommunication,
    /// PHQ-9 depression questionnaire, with the item 9 self-harm flag.
    Phq9,
    /// GAD-7 anxiety questionnaire.
    Gad7,
    /// Weekly staff wellbeing check-in, flagging people for a follow-up conversation.
    StaffWellbeing,
}

impl Builtin {
    /// Every built-in survey.
    pub const ALL: [Builtin; 8] = [
        Builtin::Nps,
        Builtin::Csat,
        Builtin::PostVisit,
        Builtin::PostDischarge,
        Builtin::HcahpsCommunication,
        Builtin::Phq9,
        Builtin::Gad7,
        Builtin::StaffWellbeing,
    ];

    /// The survey id, which is also the data file's name.
    pub fn id(&self) -> &'static str {
        match self {
            Builtin::Nps => "nps",
            Builtin::Csat => "csat",
            Builtin::PostVisit => "post-visit",
            Builtin::PostDischarge => "post-discharge",
            Builtin::HcahpsCommunication => "hcahps-communication",
            Builtin::Phq9 => "phq-9",
            Builtin::Gad7 => "gad-7",
            Builtin::StaffWellbeing => "staff-wellbeing",
        }
    }

    /// The embedded JSON source.
    pub fn source(&self) -> &'static str {
        match self {
            Builtin::Nps => include_str!("../library/nps.json"),
            Builtin::Csat => include_str!("../library/csat.json"),
            Builtin::PostVisit => include_str!("../library/post-visit.json"),
            Builtin::PostDischarge => include_str!("../library/post-discharge.json"),
            Builtin::HcahpsCommunication => include_str!("../library/hcahps-communication.json"),
            Builtin::Phq9 => include_str!("../library/phq-9.json"),
            Builtin::Gad7 => include_str!("../library/gad-7.json"),
            Builtin::StaffWellbeing => include_str!("../library/staff-wellbeing.json"),
        }
    }

    /// Parses the definition.
    ///
    /// # Errors
    /// [`SurveyError::Json`] if the embedded file is malformed (the library's tests rule this
    /// out).
    pub fn definition(&self) -> Result<SurveyDefinition, SurveyError> {
        parse_definition(self.source())
    }

    /// Finds a built-in survey by id.
    pub fn by_id(id: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.id() == id)
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Parses a definition from this crate's JSON format (the format of the library files): the
/// serde form of [`SurveyDefinition`], with each item's kind in a `kind` member and texts as
/// objects from language tag to text.
///
/// ```
/// use bedside_survey::{check_definition, parse_definition};
///
/// let def = parse_definition(r#"{
///   "id": "pain", "version": "1", "title": {"en": "Pain check", "fr": "Douleur"},
///   "items": [
///     {"id": "score", "text": {"en": "Pain today, 0–10"}, "kind": "integer",
///      "min": 0, "max": 10, "required": true},
///     {"id": "where", "text": {"en": "Where does it hurt?"}, "kind": "short_text",
///      "enable_when": [{"question": "score", "operator": ">", "answer": {"integer": 0}}]}
///   ]
/// }"#)?;
/// assert!(check_definition(&def).is_empty());
/// assert_eq!(def.title_in(&"fr-CA".parse()?), "Douleur");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SurveyError::Json`] with the position of the first malformed element.
pub fn parse_definition(json: &str) -> Result<SurveyDefinition, SurveyError> {
    serde_json::from_str(json).map_err(|e| SurveyError::json(&e))
}
