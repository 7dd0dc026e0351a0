//! Responses: [`SurveyResponse`], its nested [`ResponseItem`]s and [`AnswerValue`]s, shaped like
//! a FHIR `QuestionnaireResponse` so nothing is lost on a round trip.

use crate::definition::{ItemKind, SurveyDefinition, SurveyRef};
use crate::error::SurveyError;
use crate::extra::FhirExtra;
use bedside_core::{Actor, Language, PartialDate, PatientId, ResponseId, Sensitive, Timestamp};
use chrono::{DateTime, Datelike, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A coded answer (FHIR `Coding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AnswerCoding {
    /// Code system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Display text of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

impl AnswerCoding {
    /// A coding with just a code.
    pub fn code(code: impl Into<String>) -> Self {
        Self {
            code: Some(code.into()),
            ..Self::default()
        }
    }
}

/// One answer value. Free text is PHI and is held as [`Sensitive`]; `Debug` also redacts dates,
/// date-times and times (an answer may be a birth date).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerValue {
    /// Yes/no.
    Boolean(bool),
    /// A whole number (also NPS and star ratings).
    Integer(i64),
    /// A decimal number.
    Decimal(f64),
    /// A date, possibly partial.
    Date(PartialDate),
    /// A date-time in its FHIR lexical form (`2013-02-19T14:15:00-05:00`), kept as written so
    /// the offset survives.
    DateTime(String),
    /// A time of day (`14:15:00`).
    Time(String),
    /// Free text.
    String(Sensitive<String>),
    /// A code: a choice, Likert point or matrix answer.
    Coding(AnswerCoding),
    /// A FHIR value this model does not interpret (`valueQuantity`, `valueAttachment`, …),
    /// kept verbatim.
    Other {
        /// The FHIR element name (`valueQuantity`).
        element: String,
        /// The element's JSON.
        value: Sensitive<Value>,
    },
}

impl std::fmt::Debug for AnswerValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerValue::Boolean(b) => write!(f, "Boolean({b})"),
            AnswerValue::Integer(i) => write!(f, "Integer({i})"),
            AnswerValue::Decimal(d) => write!(f, "Decimal({d})"),
            AnswerValue::Date(d) => write!(f, "Date({d:?})"),
            AnswerValue::DateTime(_) => write!(f, "DateTime({})", bedside_core::REDACTED),
            AnswerValue::Time(_) => write!(f, "Time({})", bedside_core::REDACTED),
            AnswerValue::String(s) => write!(f, "String({s:?})"),
            AnswerValue::Coding(c) => write!(f, "Coding({c:?})"),
            AnswerValue::Other { element, .. } => {
                write!(f, "Other({element}, {})", bedside_core::REDACTED)
            }
        }
    }
}

impl AnswerValue {
    /// A coded answer with just a code.
    pub fn code(code: impl Into<String>) -> Self {
        AnswerValue::Coding(AnswerCoding::code(code))
    }

    /// Free text.
    pub fn text(text: impl Into<String>) -> Self {
        AnswerValue::String(Sensitive::new(text.into()))
    }

    /// The name of the value's type, for messages (`integer`, `coding`).
    pub fn type_name(&self) -> &str {
        match self {
            AnswerValue::Boolean(_) => "boolean",
            AnswerValue::Integer(_) => "integer",
            AnswerValue::Decimal(_) => "decimal",
            AnswerValue::Date(_) => "date",
            AnswerValue::DateTime(_) => "date_time",
            AnswerValue::Time(_) => "time",
            AnswerValue::String(_) => "string",
            AnswerValue::Coding(_) => "coding",
            AnswerValue::Other { .. } => "other",
        }
    }

    /// The value as a number, for integers and decimals.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AnswerValue::Integer(i) => Some(*i as f64),
            AnswerValue::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    /// Equality as `enable_when` uses it: numbers compare by value (1 = 1.0), codings by code
    /// and, when both give one, by system.
    pub fn matches(&self, other: &AnswerValue) -> bool {
        match (self, other) {
            (AnswerValue::Coding(a), AnswerValue::Coding(b)) => {
                a.code == b.code
                    && match (&a.system, &b.system) {
                        (Some(x), Some(y)) => x == y,
                        _ => true,
                    }
            }
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }

    /// Order between two values of comparable types (numbers, dates, date-times, times,
    /// strings, booleans); `None` when they cannot be ordered.
    pub fn compare(&self, other: &AnswerValue) -> Option<Ordering> {
        use AnswerValue as A;
        match (self, other) {
            (A::Boolean(a), A::Boolean(b)) => Some(a.cmp(b)),
            (A::Date(a), A::Date(b)) => Some(a.cmp(b)),
            (A::DateTime(a), A::DateTime(b)) => {
                let pa = DateTime::parse_from_rfc3339(a).ok()?;
                let pb = DateTime::parse_from_rfc3339(b).ok()?;
                Some(pa.cmp(&pb))
            }
            (A::Time(a), A::Time(b)) => Some(a.cmp(b)),
            (A::String(a), A::String(b)) => Some(a.expose().cmp(b.expose())),
            (A::Coding(a), A::Coding(b)) if a.system == b.system => {
                a.code.as_ref().zip(b.code.as_ref()).map(|(x, y)| x.cmp(y))
            }
            _ => {
                let (a, b) = (self.as_number()?, other.as_number()?);
                a.partial_cmp(&b)
            }
        }
    }
}

/// The status of a response (FHIR `QuestionnaireResponseStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseStatus {
    /// Started, not finished.
    InProgress,
    /// Finished.
    #[default]
    Completed,
    /// Finished, then changed.
    Amended,
    /// Recorded in error.
    EnteredInError,
    /// Abandoned before completion.
    Stopped,
}

impl ResponseStatus {
    /// All statuses.
    pub const ALL: [ResponseStatus; 5] = [
        ResponseStatus::InProgress,
        ResponseStatus::Completed,
        ResponseStatus::Amended,
        ResponseStatus::EnteredInError,
        ResponseStatus::Stopped,
    ];

    /// The FHIR code.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseStatus::InProgress => "in-progress",
            ResponseStatus::Completed => "completed",
            ResponseStatus::Amended => "amended",
            ResponseStatus::EnteredInError => "entered-in-error",
            ResponseStatus::Stopped => "stopped",
        }
    }
}

/// One answered (or grouping) item of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseItem {
    /// The definition item's id (FHIR `linkId`).
    pub link_id: String,
    /// The item text as shown, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    /// Nested items of a group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ResponseItem>,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

impl ResponseItem {
    /// An item with a single answer.
    pub fn answered(link_id: impl Into<String>, value: AnswerValue) -> Self {
        Self {
            link_id: link_id.into(),
            text: None,
            answers: vec![Answer::new(value)],
            items: Vec::new(),
            fhir_extra: FhirExtra::new(),
        }
    }

    /// A grouping item with nested items.
    pub fn group(link_id: impl Into<String>, items: Vec<ResponseItem>) -> Self {
        Self {
            link_id: link_id.into(),
            text: None,
            answers: Vec::new(),
            items,
            fhir_extra: FhirExtra::new(),
        }
    }
}

/// One answer, possibly with follow-up items nested under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The value.
    pub value: AnswerValue,
    /// Items nested under this answer (follow-up questions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ResponseItem>,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

impl Answer {
    /// An answer without nested items.
    pub fn new(value: AnswerValue) -> Self {
        Self {
            value,
            items: Vec::new(),
            fhir_extra: FhirExtra::new(),
        }
    }
}

/// A completed (or partial) survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The response's id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ResponseId>,
    /// The definition and exact version answered.
    pub survey: SurveyRef,
    /// Status.
    #[serde(default)]
    pub status: ResponseStatus,
    /// When the answers were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authored: Option<DateTime<FixedOffset>>,
    /// The language the survey was shown in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The patient the answers are about (FHIR `subject`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<PatientId>,
    /// Attributes for breaking analytics down (provider, department, interaction type). Never
    /// put patient identifiers here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// The answered items, nested as in the definition.
    #[serde(default)]
    pub items: Vec<ResponseItem>,
    /// Who recorded, amended or withdrew the response, and when, oldest first. Changed only
    /// by [`SurveyResponse::record`], [`SurveyResponse::amend`] and
    /// [`SurveyResponse::withdraw`]. Not part of the FHIR form (FHIR keeps this in
    /// `Provenance`): the serde form carries it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ResponseRevision>,
    /// FHIR elements this model does not interpret, kept verbatim.
    #[serde(default, skip_serializing_if = "FhirExtra::is_empty")]
    pub fhir_extra: FhirExtra,
}

/// What a [`ResponseRevision`] did to a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    /// The answers were recorded as given ([`SurveyResponse::record`]).
    Recorded,
    /// The answers were replaced after they were recorded ([`SurveyResponse::amend`]).
    Amended,
    /// The response was withdrawn as entered in error ([`SurveyResponse::withdraw`]).
    Withdrawn,
}

/// One attributable change to a response: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseRevision {
    /// Who made the change (the patient answering, a proxy, staff transcribing a paper form).
    pub by: Actor,
    /// When the change took effect.
    pub at: Timestamp,
    /// What it did.
    pub change: RevisionKind,
}

impl SurveyResponse {
    /// An empty completed response to `survey`.
    pub fn new(survey: SurveyRef) -> Self {
        Self {
            id: None,
            survey,
            status: ResponseStatus::Completed,
            authored: None,
            language: None,
            subject: None,
            dimensions: BTreeMap::new(),
            items: Vec::new(),
            history: Vec::new(),
            fhir_extra: FhirExtra::new(),
        }
    }

    /// Records the answers as given by `by` at `at`: the status becomes completed, `authored`
    /// becomes `at` unless already set, and the history starts with a
    /// [`RevisionKind::Recorded`] entry.
    ///
    /// # Errors
    /// [`SurveyError::InvalidTransition`] when the response was recorded before, or is
    /// stopped or entered in error.
    pub fn record(&mut self, by: &Actor, at: Timestamp) -> Result<(), SurveyError> {
        let open = matches!(
            self.status,
            ResponseStatus::InProgress | ResponseStatus::Completed
        );
        if !open || !self.history.is_empty() {
            return Err(self.transition_error(ResponseStatus::Completed));
        }
        self.status = ResponseStatus::Completed;
        self.authored.get_or_insert(at.fixed_offset());
        self.revise(by, at, RevisionKind::Recorded);
        Ok(())
    }

    /// Replaces the answers of a finished response with `items` (build them with a
    /// [`ResponseBuilder`] and take its `items`), as changed by `by` at `at`. The status
    /// becomes amended; `authored` keeps when the answers were first given.
    ///
    /// # Errors
    /// [`SurveyError::InvalidTransition`] unless the response is completed or amended.
    pub fn amend(
        &mut self,
        by: &Actor,
        at: Timestamp,
        items: Vec<ResponseItem>,
    ) -> Result<(), SurveyError> {
        if !matches!(
            self.status,
            ResponseStatus::Completed | ResponseStatus::Amended
        ) {
            return Err(self.transition_error(ResponseStatus::Amended));
        }
        self.items = items;
        self.status = ResponseStatus::Amended;
        self.revise(by, at, RevisionKind::Amended);
        Ok(())
    }

    /// Withdraws the response as entered in error, as decided by `by` at `at`. It stays, for
    /// the record; [`crate::Aggregator::add`] counts it as skipped.
    ///
    /// # Errors
    /// [`SurveyError::InvalidTransition`] when it is already entered in error.
    pub fn withdraw(&mut self, by: &Actor, at: Timestamp) -> Result<(), SurveyError> {
        if self.status == ResponseStatus::EnteredInError {
            return Err(self.transition_error(ResponseStatus::EnteredInError));
        }
        self.status = ResponseStatus::EnteredInError;
        self.revise(by, at, RevisionKind::Withdrawn);
        Ok(())
    }

    /// Who recorded the answers ([`SurveyResponse::record`]), when someone did.
    pub fn recorded_by(&self) -> Option<&Actor> {
        self.history
            .iter()
            .find(|r| r.change == RevisionKind::Recorded)
            .map(|r| &r.by)
    }

    fn revise(&mut self, by: &Actor, at: Timestamp, change: RevisionKind) {
        self.history.push(ResponseRevision {
            by: by.clone(),
            at,
            change,
        });
    }

    fn transition_error(&self, to: ResponseStatus) -> SurveyError {
        SurveyError::InvalidTransition {
            from: self.status.as_str(),
            to: to.as_str(),
        }
    }

    /// Visits every response item in document order with its depth-first path
    /// (`item[0].answer[0].item[1]`).
    pub fn visit<'a>(&'a self, mut f: impl FnMut(&str, &'a ResponseItem)) {
        fn go<'a>(
            items: &'a [ResponseItem],
            prefix: &str,
            f: &mut dyn FnMut(&str, &'a ResponseItem),
        ) {
            for (i, item) in items.iter().enumerate() {
                let path = if prefix.is_empty() {
                    format!("item[{i}]")
                } else {
                    format!("{prefix}.item[{i}]")
                };
                f(&path, item);
                for (j, answer) in item.answers.iter().enumerate() {
                    go(&answer.items, &format!("{path}.answer[{j}]"), f);
                }
                go(&item.items, &path, f);
            }
        }
        go(&self.items, "", &mut f);
    }

    /// Calls `f` with every answer value of every item, without building paths. This is the
    /// fast path analytics uses.
    pub fn for_each_answer<'a>(&'a self, mut f: impl FnMut(&'a str, &'a AnswerValue)) {
        fn go<'a>(items: &'a [ResponseItem], f: &mut dyn FnMut(&'a str, &'a AnswerValue)) {
            for item in items {
                for answer in &item.answers {
                    f(&item.link_id, &answer.value);
                    if !answer.items.is_empty() {
                        go(&answer.items, f);
                    }
                }
                if !item.items.is_empty() {
                    go(&item.items, f);
                }
            }
        }
        go(&self.items, &mut f);
    }

    /// All answer values given for `link_id`, wherever it is nested.
    pub fn answers_to(&self, link_id: &str) -> Vec<&AnswerValue> {
        let mut out = Vec::new();
        self.for_each_answer(|id, v| {
            if id == link_id {
                out.push(v);
            }
        });
        out
    }

    /// The `YYYY-MM` month the response was authored in (local to its offset).
    pub fn month(&self) -> Option<String> {
        self.authored
            .map(|a| format!("{:04}-{:02}", a.year(), a.month()))
    }
}

/// Builds a response nested the way its definition is: answers to items inside groups go inside
/// the group's item, follow-ups of a question go under that question's answer.
#[derive(Debug)]
pub struct ResponseBuilder<'a> {
    definition: &'a SurveyDefinition,
    response: SurveyResponse,
}

impl<'a> ResponseBuilder<'a> {
    /// Starts a response to `definition`.
    pub fn new(definition: &'a SurveyDefinition) -> Self {
        Self {
            definition,
            response: SurveyResponse::new(definition.reference()),
        }
    }

    /// Sets when the response was authored.
    #[must_use]
    pub fn authored(mut self, at: DateTime<FixedOffset>) -> Self {
        self.response.authored = Some(at);
        self
    }

    /// Sets the patient the answers are about.
    #[must_use]
    pub fn subject(mut self, patient: PatientId) -> Self {
        self.response.subject = Some(patient);
        self
    }

    /// Attaches a dimension for analytics (`provider`, `department`).
    #[must_use]
    pub fn dimension(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.response.dimensions.insert(key.into(), value.into());
        self
    }

    /// Adds an answer to item (or matrix row) `link_id`. Ids the definition does not know are
    /// added at the top level, where validation will report them.
    #[must_use]
    pub fn answer(mut self, link_id: &str, value: AnswerValue) -> Self {
        let chain = ancestry(self.definition, link_id).unwrap_or_default();
        place(&mut self.response.items, &chain, link_id, value);
        self
    }

    /// Finishes the response.
    pub fn build(self) -> SurveyResponse {
        self.response
    }
}

/// One ancestor of an item: its id and whether it is a question (children nest under its
/// answer) or a container (children nest under the item).
type Ancestor = (String, bool);

/// The chain of ancestors of `link_id` in the definition, outermost first.
fn ancestry(definition: &SurveyDefinition, link_id: &str) -> Option<Vec<Ancestor>> {
    fn go(items: &[crate::definition::Item], target: &str, chain: &mut Vec<Ancestor>) -> bool {
        for item in items {
            if item.id == target {
                return true;
            }
            if let ItemKind::LikertMatrix { rows, .. } = &item.kind
                && rows.iter().any(|r| r.id == target)
            {
                chain.push((item.id.clone(), false));
                return true;
            }
            chain.push((item.id.clone(), item.is_question()));
            if go(&item.items, target, chain) {
                return true;
            }
            chain.pop();
        }
        false
    }
    let mut chain = Vec::new();
    go(&definition.items, link_id, &mut chain).then_some(chain)
}

fn place(items: &mut Vec<ResponseItem>, chain: &[Ancestor], link_id: &str, value: AnswerValue) {
    let Some(((parent, is_question), rest)) = chain.split_first() else {
        match items.iter_mut().find(|i| i.link_id == link_id) {
            Some(existing) => existing.answers.push(Answer::new(value)),
            None => items.push(ResponseItem::answered(link_id, value)),
        }
        return;
    };
    let idx = match items.iter().position(|i| i.link_id == *parent) {
        Some(i) => i,
        None => {
            items.push(ResponseItem::group(parent.clone(), Vec::new()));
            items.len() - 1
        }
    };
    let node = &mut items[idx];
    let children = match (is_question, node.answers.last_mut()) {
        (true, Some(answer)) => &mut answer.items,
        _ => &mut node.items,
    };
    place(children, rest, link_id, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Condition, Item, Operator};
    use crate::text::Texts;

    #[test]
    fn lifecycle_is_attributed_and_checked() {
        let def = SurveyDefinition::new("n", "1", Texts::en("Lifecycle"));
        let patient = Actor::system("portal");
        let nurse = Actor::system("nurse");
        let at = |h: u32| -> Timestamp {
            format!("2026-03-01T{h:02}:00:00Z")
                .parse()
                .unwrap_or_default()
        };
        let mut r = ResponseBuilder::new(&def)
            .answer("q", AnswerValue::Integer(3))
            .build();
        assert_eq!(r.recorded_by(), None);
        assert!(r.record(&patient, at(8)).is_ok());
        assert_eq!(r.recorded_by(), Some(&patient));
        assert_eq!(
            r.authored.map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-03-01T08:00:00+00:00")
        );
        assert!(matches!(
            r.record(&patient, at(9)),
            Err(SurveyError::InvalidTransition {
                from: "completed",
                to: "completed"
            })
        ));
        let fixed = ResponseBuilder::new(&def)
            .answer("q", AnswerValue::Integer(4))
            .build();
        assert!(r.amend(&nurse, at(10), fixed.items).is_ok());
        assert_eq!(r.status, ResponseStatus::Amended);
        assert_eq!(r.answers_to("q"), [&AnswerValue::Integer(4)]);
        assert!(r.withdraw(&nurse, at(11)).is_ok());
        assert!(r.withdraw(&nurse, at(12)).is_err());
        assert!(r.amend(&nurse, at(12), Vec::new()).is_err());
        let changes: Vec<(RevisionKind, &Actor)> =
            r.history.iter().map(|h| (h.change, &h.by)).collect();
        assert_eq!(
            changes,
            [
                (RevisionKind::Recorded, &patient),
                (RevisionKind::Amended, &nurse),
                (RevisionKind::Withdrawn, &nurse)
            ]
        );
        // The history survives the serde form.
        let back: Option<SurveyResponse> = serde_json::to_string(&r)
            .ok()
            .and_then(|j| serde_json::from_str(&j).ok());
        assert_eq!(back.as_ref(), Some(&r));
    }

    #[test]
    fn builder_nests_like_the_definition() {
        let mut def = SurveyDefinition::new("n", "1", Texts::en("Nesting"));
        def.items = vec![Item::new("g", "Group", ItemKind::Group).with_items(vec![
            Item::new("q", "Question", ItemKind::Boolean).with_items(vec![
                Item::new("f", "Follow-up", ItemKind::Date).enabled_when(Condition::new(
                    "q",
                    Operator::Equal,
                    AnswerValue::Boolean(true),
                )),
            ]),
        ])];
        let r = ResponseBuilder::new(&def)
            .answer("q", AnswerValue::Boolean(true))
            .answer(
                "f",
                AnswerValue::Date(bedside_core::PartialDate::Year(2026)),
            )
            .answer("x", AnswerValue::Integer(1))
            .build();
        let mut paths = Vec::new();
        r.visit(|path, item| paths.push(format!("{path}={}", item.link_id)));
        assert_eq!(
            paths,
            [
                "item[0]=g",
                "item[0].item[0]=q",
                "item[0].item[0].answer[0].item[0]=f",
                "item[1]=x"
            ]
        );
        assert_eq!(r.answers_to("f").len(), 1);
        assert_eq!(r.month(), None);
    }
}
