//! Survey definitions: [`SurveyDefinition`], its nested [`Item`]s and their [`ItemKind`]s,
//! answer options, and `enable_when` [`Condition`]s.

use crate::extra::FhirExtra;
use crate::response::AnswerValue;
use crate::scoring::{FlagRule, Scale};
use crate::text::Texts;
use bedside_core::{Coding, Language};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which survey and exactly which version of it a response answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct SurveyRef {
    /// The survey's id (`phq-9`, `post-visit`).
    pub id: String,
    /// The survey's version (`1.0.0`). Empty when the source gave none.
    pub version: String,
}

impl fmt::Display for SurveyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version.is_empty() {
            f.write_str(&self.id)
        } else {
            write!(f, "{}|{}", self.id, self.version)
        }
    }
}

/// The publication status of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DefinitionStatus {
    /// Being written; not for use with real respondents.
    #[default]
    Draft,
    /// In use.
    Active,
    /// No longer sent; existing responses stay valid against it.
    Retired,
}

impl DefinitionStatus {
    /// The FHIR `PublicationStatus` code.
    pub fn as_str(&self) -> &'static str {
        match self {
            DefinitionStatus::Draft => "draft",
            DefinitionStatus::Active => "active",
            DefinitionStatus::Retired => "retired",
        }
    }
}

/// A versioned survey: wording in one or more languages, nested items, scoring scales and flag
/// rules.
///
/// Unknown FHIR elements met on import are kept in `fhir_extra` (here and on each item) so that
/// exporting an imported questionnaire gives back what came in.
///
/// Scoring a PHQ-9 the way a new user would: take the built-in definition, answer it, check
/// the answers, score them, look at the total's band and the flags.
///
/// ```
/// use bedside_core::{Actor, PatientId};
/// use bedside_survey::{AnswerValue, Builtin, FlagSeverity, ResponseBuilder, Validator};
///
/// let phq9 = Builtin::Phq9.definition()?;
/// let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
/// // Item scores 0-3 ("not at all" .. "nearly every day"), items phq9-1 .. phq9-9.
/// let answers = [2, 2, 1, 2, 1, 1, 2, 1, 0];
/// let mut builder = ResponseBuilder::new(&phq9).subject(patient);
/// for (i, points) in answers.iter().enumerate() {
///     builder = builder.answer(&format!("phq9-{}", i + 1), AnswerValue::code(points.to_string()));
/// }
/// let mut response = builder.build();
/// // The patient answered on the portal: record who and when.
/// response.record(&Actor::Patient { patient }, "2026-03-01T10:00:00Z".parse()?)?;
///
/// let validator = Validator::new(&phq9);
/// assert!(validator.validate(&response).is_empty());
/// let sheet = validator.score(&response)?;
/// let total = sheet.scale("total").ok_or("no total")?;
/// assert_eq!(total.score, Some(12.0));
/// assert_eq!(total.band.as_deref(), Some("moderate"));
/// // Item 9 (thoughts of self-harm) is 0: no urgent flag.
/// assert!(!sheet.has_flag_at_least(FlagSeverity::Urgent));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyDefinition {
    /// Stable id (`phq-9`).
    pub id: String,
    /// Version; responses name the exact version they answer.
    #[serde(default)]
    pub version: String,
    /// Canonical URL, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Publication status.
    #[serde(default)]
    pub status: DefinitionStatus,
    /// Title shown to respondents and managers.
    #[serde(default, skip_serializing_if = "Texts::is_empty")]
    pub title: Texts,
    /// Longer description or introduction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Texts>,
    /// Codes of the whole instrument (FHIR `Questionnaire.code`), e.g. the LOINC panel code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Coding>,
    /// The top-level items, in display order.
    #[serde(default)]
    pub items: Vec<Item>,
    /// Scoring scales (totals and subscales).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scales: Vec<Scale>,
    /// Flags raised by single answers or scale scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagRule>,
    /// FHIR elements this model does not interpret, kept verbatim for lossless round trips.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

impl SurveyDefinition {
    /// A new, empty draft definition.
    pub fn new(id: impl Into<String>, version: impl Into<String>, title: Texts) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
            url: None,
            status: DefinitionStatus::Draft,
            title,
            description: None,
            codes: Vec::new(),
            items: Vec::new(),
            scales: Vec::new(),
            flags: Vec::new(),
            fhir_extra: FhirExtra::new(),
        }
    }

    /// The reference a response to this definition carries.
    pub fn reference(&self) -> SurveyRef {
        SurveyRef {
            id: self.id.clone(),
            version: self.version.clone(),
        }
    }

    /// The title in `language`, with fallback.
    pub fn title_in(&self, language: &Language) -> &str {
        self.title.get(language)
    }

    /// Every item in pre-order (parents before children), with matrix rows excluded.
    pub fn walk(&self) -> Vec<&Item> {
        fn go<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for item in items {
                out.push(item);
                go(&item.items, out);
            }
        }
        let mut out = Vec::new();
        go(&self.items, &mut out);
        out
    }

    /// Finds an item (or matrix row, returned as its matrix) by id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.walk().into_iter().find(|i| {
            i.id == id
                || matches!(&i.kind, ItemKind::LikertMatrix { rows, .. } if rows.iter().any(|r| r.id == id))
        })
    }
}

/// One question, display text or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Id unique within the definition (FHIR `linkId`).
    pub id: String,
    /// Question or display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Texts>,
    /// A label shown before the text (`1.`, `a)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Codes of the question (FHIR `Questionnaire.item.code`), e.g. its LOINC code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Coding>,
    /// What kind of item this is and what answers it takes.
    #[serde(flatten)]
    pub kind: ItemKind,
    /// Whether an answer is required while the item is enabled.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Whether more than one answer is allowed (multiple choice implies it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub repeats: bool,
    /// Conditions under which the item is shown; empty means always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enable_when: Vec<Condition>,
    /// How several conditions combine.
    #[serde(default, skip_serializing_if = "EnableBehavior::is_default")]
    pub enable_behavior: EnableBehavior,
    /// Reporting rules for analytics (boxes, satisfied threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<Reporting>,
    /// Nested items: the content of a group, or follow-up questions of a question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Item {
    /// A new item of `kind` with English text.
    pub fn new(id: impl Into<String>, text: &str, kind: ItemKind) -> Self {
        Self {
            id: id.into(),
            text: if text.is_empty() {
                None
            } else {
                Some(Texts::en(text))
            },
            prefix: None,
            codes: Vec::new(),
            kind,
            required: false,
            repeats: false,
            enable_when: Vec::new(),
            enable_behavior: EnableBehavior::Any,
            reporting: None,
            items: Vec::new(),
            fhir_extra: FhirExtra::new(),
        }
    }

    /// Marks the item required, returning it.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Adds an `enable_when` condition, returning the item.
    #[must_use]
    pub fn enabled_when(mut self, condition: Condition) -> Self {
        self.enable_when.push(condition);
        self
    }

    /// Adds child items, returning the item.
    #[must_use]
    pub fn with_items(mut self, items: Vec<Item>) -> Self {
        self.items = items;
        self
    }

    /// Whether this item takes answers (not a group, display or matrix container).
    pub fn is_question(&self) -> bool {
        !matches!(
            self.kind,
            ItemKind::Group | ItemKind::Display | ItemKind::LikertMatrix { .. }
        )
    }

    /// The question text in `language`, with fallback; `""` when there is none.
    pub fn text_in(&self, language: &Language) -> &str {
        self.text.as_ref().map_or("", |t| t.get(language))
    }
}

/// The kinds of item and the answers each takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    /// A container of other items.
    Group,
    /// Text shown to the respondent; takes no answer.
    Display,
    /// Yes/no.
    Boolean,
    /// Exactly one of the options.
    SingleChoice {
        /// The allowed options.
        #[serde(default)]
        options: Vec<AnswerOption>,
        /// A value set the options come from (FHIR `answerValueSet`), when not listed inline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_set: Option<String>,
    },
    /// Any number of the options.
    MultipleChoice {
        /// The allowed options.
        #[serde(default)]
        options: Vec<AnswerOption>,
        /// A value set the options come from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_set: Option<String>,
    },
    /// One of the options or free text.
    OpenChoice {
        /// The suggested options.
        #[serde(default)]
        options: Vec<AnswerOption>,
        /// A value set the options come from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_set: Option<String>,
    },
    /// A whole number.
    Integer {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
        /// Unit shown beside the field (UCUM code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    /// A decimal number.
    Decimal {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Unit shown beside the field (UCUM code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    /// A calendar date (possibly partial: year or year-month).
    Date,
    /// A date and time with offset.
    DateTime,
    /// A time of day.
    Time,
    /// A single line of text.
    ShortText {
        /// Longest allowed answer, in characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
        /// A regular expression the whole answer must match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    /// Free text over several lines.
    LongText {
        /// Longest allowed answer, in characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
        /// A regular expression the whole answer must match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    /// A labelled scale (strongly disagree … strongly agree); each point has a score.
    Likert {
        /// The points, in display order, each with a score.
        points: Vec<AnswerOption>,
        /// Whether the item is reverse-scored (high agreement means a worse outcome).
        #[serde(default, skip_serializing_if = "is_false")]
        reverse: bool,
    },
    /// 0–10 likelihood to recommend (Net Promoter Score question).
    Nps,
    /// A 1-to-`max` star rating.
    StarRating {
        /// The number of stars (usually 5).
        max: u8,
    },
    /// Several Likert rows sharing one scale. Each row is answered under its own id.
    LikertMatrix {
        /// The shared scale.
        points: Vec<AnswerOption>,
        /// The rows.
        rows: Vec<MatrixRow>,
    },
    /// A FHIR item type this model carries but does not interpret (`quantity`, `attachment`,
    /// `reference`, `url`); answers are kept verbatim.
    Other {
        /// The FHIR item type code.
        fhir_type: String,
    },
}

impl ItemKind {
    /// A short name for messages (`single_choice`, `nps`).
    pub fn name(&self) -> &str {
        match self {
            ItemKind::Group => "group",
            ItemKind::Display => "display",
            ItemKind::Boolean => "boolean",
            ItemKind::SingleChoice { .. } => "single_choice",
            ItemKind::MultipleChoice { .. } => "multiple_choice",
            ItemKind::OpenChoice { .. } => "open_choice",
            ItemKind::Integer { .. } => "integer",
            ItemKind::Decimal { .. } => "decimal",
            ItemKind::Date => "date",
            ItemKind::DateTime => "date_time",
            ItemKind::Time => "time",
            ItemKind::ShortText { .. } => "short_text",
            ItemKind::LongText { .. } => "long_text",
            ItemKind::Likert { .. } => "likert",
            ItemKind::Nps => "nps",
            ItemKind::StarRating { .. } => "star_rating",
            ItemKind::LikertMatrix { .. } => "likert_matrix",
            ItemKind::Other { fhir_type } => fhir_type,
        }
    }

    /// The listed options or scale points, if the kind has any.
    pub fn options(&self) -> Option<&[AnswerOption]> {
        match self {
            ItemKind::SingleChoice { options, .. }
            | ItemKind::MultipleChoice { options, .. }
            | ItemKind::OpenChoice { options, .. } => Some(options),
            ItemKind::Likert { points, .. } | ItemKind::LikertMatrix { points, .. } => Some(points),
            _ => None,
        }
    }
}

/// A row of a [`ItemKind::LikertMatrix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    /// Id unique within the definition; the row's answer is given under it.
    pub id: String,
    /// The row's statement.
    pub text: Texts,
    /// Whether this row is reverse-scored.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// Whether the row must be answered while the matrix is enabled.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

/// How an option's value is typed in FHIR (`valueCoding`, `valueInteger`, `valueString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OptionType {
    /// A code, possibly from a code system.
    #[default]
    Coding,
    /// An integer; `code` holds its decimal form.
    Integer,
    /// A string; `code` holds it.
    String,
}

/// One allowed answer of a choice item or one point of a Likert scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerOption {
    /// The code recorded in responses.
    pub code: String,
    /// The code system, when the code comes from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The label shown to the respondent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Texts>,
    /// The score of this answer (FHIR `ordinalValue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The FHIR value type of the option.
    #[serde(default, skip_serializing_if = "is_coding")]
    pub value_type: OptionType,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

fn is_coding(t: &OptionType) -> bool {
    *t == OptionType::Coding
}

impl AnswerOption {
    /// A coded option with an English label and a score.
    pub fn scored(code: impl Into<String>, label: &str, score: f64) -> Self {
        Self {
            code: code.into(),
            system: None,
            display: Some(Texts::en(label)),
            score: Some(score),
            value_type: OptionType::Coding,
            fhir_extra: FhirExtra::new(),
        }
    }

    /// Whether an answer value selects this option.
    pub fn matches(&self, value: &AnswerValue) -> bool {
        match (self.value_type, value) {
            (OptionType::Coding, AnswerValue::Coding(c)) => {
                c.code.as_deref() == Some(self.code.as_str())
                    && match (&self.system, &c.system) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            }
            (OptionType::Integer, AnswerValue::Integer(i)) => self.code == i.to_string(),
            (OptionType::String, AnswerValue::String(s)) => self.code == *s.expose(),
            _ => false,
        }
    }
}

/// Analytics rules for an item: how answers fall into top, middle and bottom boxes, and the
/// score from which a respondent counts as satisfied (CSAT).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reporting {
    /// Scores at or above this are the top box.
    pub top_at_least: f64,
    /// Scores at or above this (and below the top box) are the middle box; the rest bottom.
    pub middle_at_least: f64,
    /// Scores at or above this count as satisfied for CSAT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied_at_least: Option<f64>,
}

/// How several `enable_when` conditions combine (FHIR `enableBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EnableBehavior {
    /// Enabled when any condition holds.
    #[default]
    Any,
    /// Enabled when every condition holds.
    All,
}

impl EnableBehavior {
    fn is_default(&self) -> bool {
        *self == EnableBehavior::Any
    }
}

/// A comparison in an `enable_when` condition (FHIR `QuestionnaireItemOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// The question has (or, with answer `false`, has no) answer.
    #[serde(rename = "exists")]
    Exists,
    /// Some answer equals the value.
    #[serde(rename = "=")]
    Equal,
    /// Some answer differs from the value.
    #[serde(rename = "!=")]
    NotEqual,
    /// Some answer is greater than the value.
    #[serde(rename = ">")]
    Greater,
    /// Some answer is less than the value.
    #[serde(rename = "<")]
    Less,
    /// Some answer is greater than or equal to the value.
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// Some answer is less than or equal to the value.
    #[serde(rename = "<=")]
    LessOrEqual,
}

impl Operator {
    /// All operators.
    pub const ALL: [Operator; 7] = [
        Operator::Exists,
        Operator::Equal,
        Operator::NotEqual,
        Operator::Greater,
        Operator::Less,
        Operator::GreaterOrEqual,
        Operator::LessOrEqual,
    ];

    /// The FHIR code (`exists`, `=`, `!=`, `>`, `<`, `>=`, `<=`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Operator::Exists => "exists",
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Greater => ">",
            Operator::Less => "<",
            Operator::GreaterOrEqual => ">=",
            Operator::LessOrEqual => "<=",
        }
    }

    /// Parses a FHIR operator code.
    pub fn parse(code: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == code)
    }

    /// Whether the operator orders values (`>`, `<`, `>=`, `<=`).
    pub fn is_ordering(&self) -> bool {
        matches!(
            self,
            Operator::Greater | Operator::Less | Operator::GreaterOrEqual | Operator::LessOrEqual
        )
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `enable_when` condition: compare the answers of `question` with `answer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The id of the item whose answers are tested.
    pub question: String,
    /// The comparison.
    pub operator: Operator,
    /// The value compared against (a boolean for `exists`).
    pub answer: AnswerValue,
}

impl Condition {
    /// A condition.
    pub fn new(question: impl Into<String>, operator: Operator, answer: AnswerValue) -> Self {
        Self {
            question: question.into(),
            operator,
            answer,
        }
    }
}
