//! Conditional display with FHIR Questionnaire semantics.
//!
//! - `exists` with answer `true` holds when the question has an answer; with `false`, when it has
//!   none.
//! - Every other operator holds when at least one answer compares as asked with the condition's
//!   value; with no answers it does not hold (FHIR R4).
//! - Several conditions combine with `any` (the default) or `all`.
//! - A disabled item disables its descendants, and answers of a disabled item count as absent
//!   in later conditions ("proceed as though the item is not valued").

use crate::definition::{Condition, EnableBehavior, Operator, SurveyDefinition};
use crate::index::Index;
use crate::response::{AnswerValue, SurveyResponse};
use std::cmp::Ordering;

/// Whether one condition holds for the given answers of its question.
pub fn condition_holds(condition: &Condition, answers: &[&AnswerValue]) -> bool {
    let op = condition.operator;
    if op == Operator::Exists {
        let want = matches!(condition.answer, AnswerValue::Boolean(true));
        return answers.is_empty() != want;
    }
    answers.iter().any(|a| match op {
        Operator::Equal => a.matches(&condition.answer),
        Operator::NotEqual => !a.matches(&condition.answer),
        _ => match a.compare(&condition.answer) {
            Some(Ordering::Greater) => {
                matches!(op, Operator::Greater | Operator::GreaterOrEqual)
            }
            Some(Ordering::Less) => matches!(op, Operator::Less | Operator::LessOrEqual),
            Some(Ordering::Equal) => {
                matches!(op, Operator::GreaterOrEqual | Operator::LessOrEqual)
            }
            None => false,
        },
    })
}

/// Answers grouped by index entry, in two flat vectors (one allocation each, whatever the
/// number of items): the answers of entry `i` are `values[offsets[i]..offsets[i + 1]]`.
#[derive(Debug)]
pub(crate) struct AnswerTable<'r> {
    offsets: Vec<u32>,
    values: Vec<&'r AnswerValue>,
}

impl<'r> std::ops::Index<usize> for AnswerTable<'r> {
    type Output = [&'r AnswerValue];
    fn index(&self, i: usize) -> &Self::Output {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        &self.values[a..b]
    }
}

/// Per-entry enablement, in index order. `answers[i]` are the answers given under entry `i`.
pub(crate) fn enabled_entries(index: &Index<'_>, answers: &AnswerTable<'_>) -> Vec<bool> {
    let mut enabled = vec![false; index.entries.len()];
    let none: &[&AnswerValue] = &[];
    for (i, entry) in index.entries.iter().enumerate() {
        let parent_ok = entry.parent.is_none_or(|p| enabled[p]);
        if !parent_ok {
            continue;
        }
        let conditions = if entry.row.is_some() {
            &[][..]
        } else {
            &entry.item.enable_when[..]
        };
        if conditions.is_empty() {
            enabled[i] = true;
            continue;
        }
        let holds = |c: &Condition| {
            // Answers of disabled or later items count as absent.
            let given = match index.get(&c.question) {
                Some((q, _)) if q < i && enabled[q] => &answers[q],
                _ => none,
            };
            condition_holds(c, given)
        };
        enabled[i] = match entry.item.enable_behavior {
            EnableBehavior::Any => conditions.iter().any(holds),
            EnableBehavior::All => conditions.iter().all(holds),
        };
    }
    enabled
}

/// Answers grouped by index entry; answers to unknown ids are skipped.
pub(crate) fn answers_by_entry<'r>(
    index: &Index<'_>,
    response: &'r SurveyResponse,
) -> AnswerTable<'r> {
    let n = index.entries.len();
    // First pass: the entry of each answer (responses usually follow definition order, so the
    // next entry is tried before hashing) and counts per entry.
    let mut tagged: Vec<(u32, &AnswerValue)> = Vec::with_capacity(n + 4);
    let mut offsets = vec![0u32; n + 1];
    let mut hint = 0usize;
    response.for_each_answer(|id, v| {
        if let Some(i) = index.find_hinted(id, hint) {
            hint = i + 1;
            tagged.push((i as u32, v));
            offsets[i + 1] += 1;
        }
    });
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    // Second pass: place each answer at its entry's next free slot (a stable counting sort).
    let mut next = offsets.clone();
    let mut values: Vec<&AnswerValue> = tagged.iter().map(|(_, v)| *v).collect();
    for (i, v) in &tagged {
        let slot = &mut next[*i as usize];
        values[*slot as usize] = v;
        *slot += 1;
    }
    AnswerTable { offsets, values }
}

/// The ids of the items (and matrix rows) enabled for `response`, in definition order.
pub fn enabled_items(definition: &SurveyDefinition, response: &SurveyResponse) -> Vec<String> {
    let index = Index::new(definition);
    let answers = answers_by_entry(&index, response);
    let enabled = enabled_entries(&index, &answers);
    index
        .entries
        .iter()
        .zip(enabled)
        .filter(|(_, on)| *on)
        .map(|(e, _)| e.id.to_string())
        .collect()
}
