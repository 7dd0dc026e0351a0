//! Response validation: [`validate`] (or a reusable [`Validator`]) returns every problem with
//! the path of the response element it concerns.

use crate::definition::{ItemKind, SurveyDefinition};
use crate::enable::{answers_by_entry, enabled_entries};
use crate::index::{Entry, Index};
use crate::response::{AnswerValue, ResponseItem, ResponseStatus, SurveyResponse};
use crate::scoring::{ScoreError, ScoreSheet, score_indexed};
use serde::Serialize;
use std::fmt;

/// What is wrong with a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum ResponseProblemKind {
    /// Occurs when the response names another survey or another version of it.
    #[error("response answers `{found}`, not `{expected}`")]
    WrongSurvey {
        /// The definition's reference.
        expected: String,
        /// The response's reference.
        found: String,
    },
    /// Occurs when an item id is not in the definition.
    #[error("unknown item `{item}`")]
    UnknownItem {
        /// The id.
        item: String,
    },
    /// Occurs when an item is nested somewhere the definition does not put it.
    #[error("item `{item}` is not nested as the definition says")]
    Misplaced {
        /// The id.
        item: String,
    },
    /// Occurs when an enabled required item has no answer.
    #[error("required item `{item}` has no answer")]
    MissingRequired {
        /// The id.
        item: String,
    },
    /// Occurs when a non-repeating item appears more than once.
    #[error("item `{item}` appears more than once")]
    Repeated {
        /// The id.
        item: String,
    },
    /// Occurs when a disabled item has answers.
    #[error("item `{item}` is disabled but answered")]
    AnsweredWhileDisabled {
        /// The id.
        item: String,
    },
    /// Occurs when a group or display item carries answers.
    #[error("item `{item}` takes no answers")]
    NotAQuestion {
        /// The id.
        item: String,
    },
    /// Occurs when a non-repeating item has several answers.
    #[error("item `{item}` allows one answer, got {count}")]
    TooManyAnswers {
        /// The id.
        item: String,
        /// How many were given.
        count: usize,
    },
    /// Occurs when an answer's type does not fit the item.
    #[error("item `{item}` ({kind}) cannot take a {found} answer")]
    WrongType {
        /// The id.
        item: String,
        /// The item's kind.
        kind: String,
        /// The answer's type.
        found: String,
    },
    /// Occurs when a number lies outside the item's range.
    #[error("answer to `{item}` is out of range")]
    OutOfRange {
        /// The id.
        item: String,
    },
    /// Occurs when a coded answer is not one of the item's options.
    #[error("answer to `{item}` is not one of its options")]
    UnknownOption {
        /// The id.
        item: String,
    },
    /// Occurs when text is longer than allowed.
    #[error("answer to `{item}` is longer than {max_length} characters")]
    TooLong {
        /// The id.
        item: String,
        /// The limit.
        max_length: u32,
    },
    /// Occurs when text does not match the item's pattern.
    #[error("answer to `{item}` does not match the required pattern")]
    PatternMismatch {
        /// The id.
        item: String,
    },
    /// Occurs when a date-time or time is not in its FHIR lexical form.
    #[error("answer to `{item}` is not a valid {kind}")]
    Malformed {
        /// The id.
        item: String,
        /// `date_time` or `time`.
        kind: String,
    },
}

/// One problem with a response and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseProblem {
    /// Where: a response path (`item[1].answer[0]`) for elements present, or the definition's
    /// id chain (`item(about-visit).item(wait)`) for answers that are missing.
    pub path: String,
    /// What.
    pub kind: ResponseProblemKind,
}

impl fmt::Display for ResponseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// A definition prepared for validating and scoring many responses.
#[derive(Debug)]
pub struct Validator<'a> {
    index: Index<'a>,
}

impl<'a> Validator<'a> {
    /// Prepares `definition` (flattens items, compiles patterns).
    pub fn new(definition: &'a SurveyDefinition) -> Self {
        Self {
            index: Index::new(definition),
        }
    }

    /// Validates a response; an empty list means it is valid.
    pub fn validate(&self, response: &SurveyResponse) -> Vec<ResponseProblem> {
        let mut out = Vec::new();
        let index = &self.index;
        let definition = index.definition;
        if response.survey.id != definition.id || response.survey.version != definition.version {
            out.push(ResponseProblem {
                path: "questionnaire".to_string(),
                kind: ResponseProblemKind::WrongSurvey {
                    expected: definition.reference().to_string(),
                    found: response.survey.to_string(),
                },
            });
            return out;
        }
        let answers = answers_by_entry(index, response);
        let enabled = enabled_entries(index, &answers);
        let mut ctx = Walk {
            index,
            enabled: &enabled,
            out: &mut out,
            path: Vec::with_capacity(8),
            seen: vec![false; index.entries.len()],
        };
        ctx.items(&response.items, None);

        let check_required = matches!(
            response.status,
            ResponseStatus::Completed | ResponseStatus::Amended
        );
        if check_required {
            for (i, entry) in index.entries.iter().enumerate() {
                if enabled[i] && entry.required() && entry.is_question() && answers[i].is_empty() {
                    out.push(ResponseProblem {
                        path: id_chain(index, i),
                        kind: ResponseProblemKind::MissingRequired {
                            item: entry.id.to_string(),
                        },
                    });
                }
            }
        }
        out
    }

    /// Validates, then scores when valid.
    ///
    /// # Errors
    /// Every validation problem, or none and the scoring error (which validation rules out).
    pub fn validate_and_score(
        &self,
        response: &SurveyResponse,
    ) -> Result<ScoreSheet, (Vec<ResponseProblem>, Option<ScoreError>)> {
        let problems = self.validate(response);
        if !problems.is_empty() {
            return Err((problems, None));
        }
        score_indexed(&self.index, response).map_err(|e| (Vec::new(), Some(e)))
    }

    /// Scores a response (see [`crate::score`]).
    ///
    /// # Errors
    /// As [`crate::score`].
    pub fn score(&self, response: &SurveyResponse) -> Result<ScoreSheet, ScoreError> {
        score_indexed(&self.index, response)
    }
}

/// Validates `response` against `definition` and returns every problem.
pub fn validate(definition: &SurveyDefinition, response: &SurveyResponse) -> Vec<ResponseProblem> {
    Validator::new(definition).validate(response)
}

fn id_chain(index: &Index<'_>, mut i: usize) -> String {
    let mut ids = vec![index.entries[i].id];
    while let Some(p) = index.entries[i].parent {
        ids.push(index.entries[p].id);
        i = p;
    }
    ids.iter()
        .rev()
        .map(|id| format!("item({id})"))
        .collect::<Vec<_>>()
        .join(".")
}

/// One step of a response path.
#[derive(Clone, Copy)]
enum Step {
    Item,
    Answer,
}

fn format_path(steps: &[(Step, usize)]) -> String {
    let mut out = String::with_capacity(steps.len() * 10);
    for (k, (step, n)) in steps.iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        out.push_str(match step {
            Step::Item => "item[",
            Step::Answer => "answer[",
        });
        out.push_str(&n.to_string());
        out.push(']');
    }
    out
}

struct Walk<'v, 'a> {
    index: &'v Index<'a>,
    enabled: &'v [bool],
    out: &'v mut Vec<ResponseProblem>,
    /// The current position as (`item` or `answer`, index) steps; formatted only when a
    /// problem is reported, so valid responses build no strings.
    path: Vec<(Step, usize)>,
    /// Entries already met, to catch non-repeating items given twice.
    seen: Vec<bool>,
}

impl Walk<'_, '_> {
    fn problem(&mut self, kind: ResponseProblemKind) {
        self.out.push(ResponseProblem {
            path: format_path(&self.path),
            kind,
        });
    }

    /// Whether entry `i` or an ancestor repeats, so `i` may legitimately appear again.
    fn may_repeat(&self, mut i: usize) -> bool {
        loop {
            let e = &self.index.entries[i];
            if e.item.repeats && e.row.is_none() {
                return true;
            }
            match e.parent {
                Some(p) => i = p,
                None => return false,
            }
        }
    }

    /// Walks sibling items whose enclosing definition entry is `parent`.
    fn items(&mut self, items: &[ResponseItem], parent: Option<usize>) {
        for (n, item) in items.iter().enumerate() {
            self.path.push((Step::Item, n));
            self.item(item, parent);
            self.path.pop();
        }
    }

    fn item(&mut self, item: &ResponseItem, parent: Option<usize>) {
        let id = item.link_id.as_str();
        let Some((i, entry)) = self.index.get(id) else {
            self.problem(ResponseProblemKind::UnknownItem {
                item: id.to_string(),
            });
            return;
        };
        if entry.parent != parent {
            self.problem(ResponseProblemKind::Misplaced {
                item: id.to_string(),
            });
        }
        if self.seen[i] && !self.may_repeat(i) {
            self.problem(ResponseProblemKind::Repeated {
                item: id.to_string(),
            });
        }
        self.seen[i] = true;
        if !item.answers.is_empty() {
            if !entry.is_question() {
                self.problem(ResponseProblemKind::NotAQuestion {
                    item: id.to_string(),
                });
            } else if !self.enabled[i] {
                self.problem(ResponseProblemKind::AnsweredWhileDisabled {
                    item: id.to_string(),
                });
            } else {
                if item.answers.len() > 1 && !entry.repeats() {
                    self.problem(ResponseProblemKind::TooManyAnswers {
                        item: id.to_string(),
                        count: item.answers.len(),
                    });
                }
                for (a, answer) in item.answers.iter().enumerate() {
                    if let Some(kind) = check_value(entry, &answer.value) {
                        self.path.push((Step::Answer, a));
                        self.problem(kind);
                        self.path.pop();
                    }
                }
            }
        }
        for (a, answer) in item.answers.iter().enumerate() {
            if !answer.items.is_empty() {
                self.path.push((Step::Answer, a));
                self.items(&answer.items, Some(i));
                self.path.pop();
            }
        }
        self.items(&item.items, Some(i));
    }
}

/// Checks one answer value against its entry.
fn check_value(entry: &Entry<'_>, value: &AnswerValue) -> Option<ResponseProblemKind> {
    use AnswerValue as A;
    use ResponseProblemKind as P;
    let item = || entry.id.to_string();
    let wrong = || P::WrongType {
        item: entry.id.to_string(),
        kind: entry.item.kind.name().to_string(),
        found: value.type_name().to_string(),
    };
    let in_options = |options: &[crate::definition::AnswerOption]| {
        options.is_empty() || options.iter().any(|o| o.matches(value))
    };
    match (&entry.item.kind, value) {
        (ItemKind::Boolean, A::Boolean(_)) => None,
        (ItemKind::Integer { min, max, .. }, A::Integer(v)) => {
            let ok = min.is_none_or(|m| *v >= m) && max.is_none_or(|m| *v <= m);
            (!ok).then(|| P::OutOfRange { item: item() })
        }
        (ItemKind::Decimal { min, max, .. }, A::Decimal(_) | A::Integer(_)) => {
            let v = value.as_number().unwrap_or(f64::NAN);
            let ok = v.is_finite() && min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m);
            (!ok).then(|| P::OutOfRange { item: item() })
        }
        (ItemKind::Nps, A::Integer(v)) => {
            (!(0..=10).contains(v)).then(|| P::OutOfRange { item: item() })
        }
        (ItemKind::StarRating { max }, A::Integer(v)) => {
            (!(1..=i64::from(*max)).contains(v)).then(|| P::OutOfRange { item: item() })
        }
        (ItemKind::Date, A::Date(_)) => None,
        (ItemKind::DateTime, A::DateTime(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .is_err()
            .then(|| P::Malformed {
                item: item(),
                kind: "date_time".to_string(),
            }),
        (ItemKind::Time, A::Time(s)) => chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
            .is_err()
            .then(|| P::Malformed {
                item: item(),
                kind: "time".to_string(),
            }),
        (
            ItemKind::ShortText { max_length, .. } | ItemKind::LongText { max_length, .. },
            A::String(s),
        ) => {
            let text = s.expose();
            if let Some(max) = max_length
                && text.chars().count() > *max as usize
            {
                return Some(P::TooLong {
                    item: item(),
                    max_length: *max,
                });
            }
            match &entry.pattern {
                Some(re) if !re.is_match(text) => Some(P::PatternMismatch { item: item() }),
                _ => None,
            }
        }
        (
            ItemKind::SingleChoice { options, .. } | ItemKind::MultipleChoice { options, .. },
            A::Coding(_) | A::Integer(_) | A::String(_),
        ) => (!in_options(options)).then(|| P::UnknownOption { item: item() }),
        (ItemKind::OpenChoice { options, .. }, A::Coding(_)) => {
            (!in_options(options)).then(|| P::UnknownOption { item: item() })
        }
        (ItemKind::OpenChoice { .. }, A::String(_)) => None,
        (ItemKind::Likert { points, .. } | ItemKind::LikertMatrix { points, .. }, A::Coding(_))
            if entry.is_question() =>
        {
            (!points.iter().any(|p| p.matches(value))).then(|| P::UnknownOption { item: item() })
        }
        (ItemKind::Other { .. }, A::Other { .. }) => None,
        _ => Some(wrong()),
    }
}
