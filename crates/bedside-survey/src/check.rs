//! Definition validation: [`check_definition`] returns every problem, each with the path of the
//! item or rule it concerns.

use crate::definition::{ItemKind, Operator, SurveyDefinition};
use crate::index::Index;
use crate::response::AnswerValue;
use crate::scoring::FlagTrigger;
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;

/// What is wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum DefinitionProblemKind {
    /// Occurs when an item or row has an empty id.
    #[error("item id is empty")]
    EmptyId,
    /// Occurs when two items or rows share an id.
    #[error("duplicate item id `{id}`")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// Occurs when a condition names an item that does not exist.
    #[error("condition refers to unknown item `{question}`")]
    UnknownQuestion {
        /// The missing id.
        question: String,
    },
    /// Occurs when a condition names an item that comes later (or is the item itself or one of
    /// its descendants), so it cannot be answered first.
    #[error("condition refers to later item `{question}`")]
    LaterQuestion {
        /// The later item's id.
        question: String,
    },
    /// Occurs when a condition names a group or display item, which has no answers.
    #[error("condition refers to `{question}`, which takes no answers")]
    QuestionTakesNoAnswers {
        /// The id.
        question: String,
    },
    /// Occurs when conditions depend on each other in a cycle.
    #[error("conditions form a cycle through `{id}`")]
    Cycle {
        /// An item on the cycle.
        id: String,
    },
    /// Occurs when `exists` is given a non-boolean answer.
    #[error("operator `exists` needs a boolean answer")]
    ExistsWithoutBoolean,
    /// Occurs when an ordering operator is applied to a value that cannot be ordered, or the
    /// condition's answer type does not fit the question.
    #[error("operator `{operator}` with a {answer} answer does not fit {kind} item `{question}`")]
    OperatorMismatch {
        /// The operator.
        operator: String,
        /// The answer's type.
        answer: String,
        /// The question's kind.
        kind: String,
        /// The question.
        question: String,
    },
    /// Occurs when a choice item has neither options nor a value set.
    #[error("choice item has no options")]
    ChoiceWithoutOptions,
    /// Occurs when a Likert scale or matrix has fewer than two points.
    #[error("likert scale needs at least two points")]
    TooFewPoints,
    /// Occurs when a Likert point has no score.
    #[error("likert point `{code}` has no score")]
    UnscoredPoint {
        /// The point's code.
        code: String,
    },
    /// Occurs when two options of one item share a code.
    #[error("duplicate option code `{code}`")]
    DuplicateOption {
        /// The code.
        code: String,
    },
    /// Occurs when a minimum exceeds its maximum.
    #[error("minimum exceeds maximum")]
    InvalidRange,
    /// Occurs when a text pattern is not a valid regular expression.
    #[error("pattern is not a valid regular expression")]
    InvalidPattern,
    /// Occurs when a star rating has no stars.
    #[error("star rating needs at least one star")]
    NoStars,
    /// Occurs when a Likert matrix has no rows.
    #[error("likert matrix has no rows")]
    MatrixWithoutRows,
    /// Occurs when a scale names no items.
    #[error("scale `{scale}` has no items")]
    EmptyScale {
        /// The scale.
        scale: String,
    },
    /// Occurs when a scale names an item that does not exist.
    #[error("scale `{scale}` names unknown item `{item}`")]
    ScaleUnknownItem {
        /// The scale.
        scale: String,
        /// The item.
        item: String,
    },
    /// Occurs when a scale names an item whose answers have no numeric score.
    #[error("scale `{scale}` names non-numeric item `{item}`")]
    ScaleNonNumericItem {
        /// The scale.
        scale: String,
        /// The item.
        item: String,
    },
    /// Occurs when a scale reverses an item without a known score range.
    #[error("scale `{scale}` reverses `{item}`, which has no known score range")]
    ReverseWithoutRange {
        /// The scale.
        scale: String,
        /// The item.
        item: String,
    },
    /// Occurs when a scale's parent scale does not exist.
    #[error("scale `{scale}` names unknown parent scale `{parent}`")]
    UnknownParentScale {
        /// The scale.
        scale: String,
        /// The missing parent.
        parent: String,
    },
    /// Occurs when two scales share an id.
    #[error("duplicate scale id `{scale}`")]
    DuplicateScale {
        /// The id.
        scale: String,
    },
    /// Occurs when a scale's bands are empty-ranged, unordered or overlapping.
    #[error("scale `{scale}` has unordered or overlapping bands")]
    InvalidBands {
        /// The scale.
        scale: String,
    },
    /// Occurs when a flag rule names an unknown item or scale.
    #[error("flag `{flag}` names unknown target `{target}`")]
    FlagUnknownTarget {
        /// The flag.
        flag: String,
        /// The target.
        target: String,
    },
}

/// One problem with a definition and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionProblem {
    /// Where (`items[1].items[0]`, `scales[0]`, `flags[2]`).
    pub path: String,
    /// What.
    pub kind: DefinitionProblemKind,
}

impl fmt::Display for DefinitionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// Checks a definition and returns every problem found; an empty list means it is usable.
pub fn check_definition(definition: &SurveyDefinition) -> Vec<DefinitionProblem> {
    let index = Index::new(definition);
    let mut out = Vec::new();
    let mut push = |path: &str, kind| {
        out.push(DefinitionProblem {
            path: path.to_string(),
            kind,
        })
    };

    let mut seen = HashSet::new();
    for entry in &index.entries {
        if entry.id.is_empty() {
            push(&entry.path, DefinitionProblemKind::EmptyId);
        } else if !seen.insert(entry.id) {
            push(
                &entry.path,
                DefinitionProblemKind::DuplicateId {
                    id: entry.id.to_string(),
                },
            );
        }
    }

    for (i, entry) in index.entries.iter().enumerate() {
        if entry.row.is_some() {
            continue;
        }
        let item = entry.item;
        let path = &entry.path;
        check_kind(&item.kind, path, &mut push);
        for (c_no, c) in item.enable_when.iter().enumerate() {
            let cpath = format!("{path}.enable_when[{c_no}]");
            let Some((q, question)) = index.get(&c.question) else {
                push(
                    &cpath,
                    DefinitionProblemKind::UnknownQuestion {
                        question: c.question.clone(),
                    },
                );
                continue;
            };
            if q >= i || index.is_ancestor_or_self(i, q) {
                push(
                    &cpath,
                    DefinitionProblemKind::LaterQuestion {
                        question: c.question.clone(),
                    },
                );
            }
            if !question.is_question() {
                push(
                    &cpath,
                    DefinitionProblemKind::QuestionTakesNoAnswers {
                        question: c.question.clone(),
                    },
                );
                continue;
            }
            if c.operator == Operator::Exists {
                if !matches!(c.answer, AnswerValue::Boolean(_)) {
                    push(&cpath, DefinitionProblemKind::ExistsWithoutBoolean);
                }
                continue;
            }
            if !answer_fits(&question.item.kind, question.row.is_some(), c) {
                push(
                    &cpath,
                    DefinitionProblemKind::OperatorMismatch {
                        operator: c.operator.as_str().to_string(),
                        answer: c.answer.type_name().to_string(),
                        kind: question.item.kind.name().to_string(),
                        question: c.question.clone(),
                    },
                );
            }
        }
    }

    for id in cycles(&index) {
        let path = index
            .get(&id)
            .map(|(_, e)| e.path.clone())
            .unwrap_or_default();
        push(&path, DefinitionProblemKind::Cycle { id });
    }

    check_scoring(definition, &index, &mut push);
    out
}

fn check_kind(kind: &ItemKind, path: &str, push: &mut impl FnMut(&str, DefinitionProblemKind)) {
    use DefinitionProblemKind as P;
    match kind {
        ItemKind::SingleChoice { options, value_set }
        | ItemKind::MultipleChoice { options, value_set }
            if options.is_empty() && value_set.is_none() =>
        {
            push(path, P::ChoiceWithoutOptions);
        }
        ItemKind::Likert { points, .. } => {
            if points.len() < 2 {
                push(path, P::TooFewPoints);
            }
            for p in points.iter().filter(|p| p.score.is_none()) {
                push(
                    path,
                    P::UnscoredPoint {
                        code: p.code.clone(),
                    },
                );
            }
        }
        ItemKind::LikertMatrix { points, rows } => {
            if points.len() < 2 {
                push(path, P::TooFewPoints);
            }
            for p in points.iter().filter(|p| p.score.is_none()) {
                push(
                    path,
                    P::UnscoredPoint {
                        code: p.code.clone(),
                    },
                );
            }
            if rows.is_empty() {
                push(path, P::MatrixWithoutRows);
            }
        }
        ItemKind::Integer {
            min: Some(a),
            max: Some(b),
            ..
        } if a > b => push(path, P::InvalidRange),
        ItemKind::Decimal {
            min: Some(a),
            max: Some(b),
            ..
        } if a > b => push(path, P::InvalidRange),
        ItemKind::ShortText {
            pattern: Some(p), ..
        }
        | ItemKind::LongText {
            pattern: Some(p), ..
        } if regex::Regex::new(p).is_err() => push(path, P::InvalidPattern),
        ItemKind::StarRating { max: 0 } => push(path, P::NoStars),
        _ => {}
    }
    if let Some(options) = kind.options() {
        let mut codes = HashSet::new();
        for o in options {
            if !codes.insert((&o.system, &o.code)) {
                push(
                    path,
                    P::DuplicateOption {
                        code: o.code.clone(),
                    },
                );
            }
        }
    }
}

/// Whether a condition's answer type (and operator) fit the question's kind.
fn answer_fits(kind: &ItemKind, is_row: bool, c: &crate::definition::Condition) -> bool {
    use AnswerValue as A;
    let ordering = c.operator.is_ordering();
    if is_row {
        return matches!(c.answer, A::Coding(_)) && !ordering;
    }
    match (kind, &c.answer) {
        (ItemKind::Boolean, A::Boolean(_)) => !ordering,
        (ItemKind::Integer { .. } | ItemKind::Nps | ItemKind::StarRating { .. }, A::Integer(_)) => {
            true
        }
        (ItemKind::Decimal { .. }, A::Decimal(_) | A::Integer(_)) => true,
        (ItemKind::Date, A::Date(_)) => true,
        (ItemKind::DateTime, A::DateTime(_)) => true,
        (ItemKind::Time, A::Time(_)) => true,
        (ItemKind::ShortText { .. } | ItemKind::LongText { .. }, A::String(_)) => true,
        (
            ItemKind::SingleChoice { .. }
            | ItemKind::MultipleChoice { .. }
            | ItemKind::OpenChoice { .. }
            | ItemKind::Likert { .. },
            A::Coding(_),
        ) => !ordering,
        (ItemKind::OpenChoice { .. }, A::String(_)) => true,
        (ItemKind::SingleChoice { options, .. } | ItemKind::MultipleChoice { options, .. }, v) => {
            // Integer- or string-valued options.
            options.iter().any(|o| o.matches(v)) || options.is_empty()
        }
        (ItemKind::Other { .. }, _) => true,
        _ => false,
    }
}

/// Items that lie on a dependency cycle. An item depends on the questions its conditions name
/// and on its parent (a disabled parent disables it).
fn cycles(index: &Index<'_>) -> Vec<String> {
    let n = index.entries.len();
    let deps: Vec<Vec<usize>> = index
        .entries
        .iter()
        .map(|e| {
            let mut d: Vec<usize> = e.parent.into_iter().collect();
            if e.row.is_none() {
                d.extend(
                    e.item
                        .enable_when
                        .iter()
                        .filter_map(|c| index.get(&c.question).map(|(q, _)| q)),
                );
            }
            d
        })
        .collect();
    // Iterative three-colour depth-first search; an edge to a grey node closes a cycle, and
    // every node on the stack from that node up is on it.
    let mut colour = vec![0u8; n];
    let mut on_cycle = vec![false; n];
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match colour[dep] {
                    0 => {
                        colour[dep] = 1;
                        stack.push((dep, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(x, _)| *x == dep).unwrap_or(0);
                        for (x, _) in &stack[from..] {
                            on_cycle[*x] = true;
                        }
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
    index
        .entries
        .iter()
        .zip(on_cycle)
        .filter(|(_, c)| *c)
        .map(|(e, _)| e.id.to_string())
        .collect()
}

fn check_scoring(
    definition: &SurveyDefinition,
    index: &Index<'_>,
    push: &mut impl FnMut(&str, DefinitionProblemKind),
) {
    use DefinitionProblemKind as P;
    let mut scale_ids = HashSet::new();
    for (s_no, scale) in definition.scales.iter().enumerate() {
        let path = format!("scales[{s_no}]");
        let sid = scale.id.clone();
        if !scale_ids.insert(scale.id.as_str()) {
            push(&path, P::DuplicateScale { scale: sid.clone() });
        }
        if scale.items.is_empty() {
            push(&path, P::EmptyScale { scale: sid.clone() });
        }
        for item in &scale.items {
            match index.get(item) {
                None => push(
                    &path,
                    P::ScaleUnknownItem {
                        scale: sid.clone(),
                        item: item.clone(),
                    },
                ),
                Some((_, e)) if !e.is_numeric() => push(
                    &path,
                    P::ScaleNonNumericItem {
                        scale: sid.clone(),
                        item: item.clone(),
                    },
                ),
                _ => {}
            }
        }
        for item in &scale.reverse {
            match index.get(item) {
                None => push(
                    &path,
                    P::ScaleUnknownItem {
                        scale: sid.clone(),
                        item: item.clone(),
                    },
                ),
                Some((_, e)) if e.range.is_none() => push(
                    &path,
                    P::ReverseWithoutRange {
                        scale: sid.clone(),
                        item: item.clone(),
                    },
                ),
                _ => {}
            }
        }
        if let Some(parent) = &scale.parent
            && !definition.scales.iter().any(|s| s.id == *parent)
        {
            push(
                &path,
                P::UnknownParentScale {
                    scale: sid.clone(),
                    parent: parent.clone(),
                },
            );
        }
        let bands_ok = scale.bands.iter().all(|b| b.min <= b.max)
            && scale.bands.windows(2).all(|w| w[0].max < w[1].min);
        if !bands_ok {
            push(&path, P::InvalidBands { scale: sid });
        }
    }
    for (f_no, flag) in definition.flags.iter().enumerate() {
        let target_ok = match &flag.trigger {
            FlagTrigger::Answer { item, .. } => index.get(item).is_some(),
            FlagTrigger::Scale { scale, .. } => definition.scales.iter().any(|s| s.id == *scale),
        };
        if !target_ok {
            push(
                &format!("flags[{f_no}]"),
                P::FlagUnknownTarget {
                    flag: flag.id.clone(),
                    target: flag.trigger.target().to_string(),
                },
            );
        }
    }
}
