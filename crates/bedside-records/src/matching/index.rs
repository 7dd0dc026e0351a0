//! [`MatchIndex`]: registration-time matching of one candidate against many stored records.

use super::MatcherConfig;
use super::blocking;
use super::model::{self, Explanation, Model, Outcome};
use super::record::{MatchRecord, Prepared};
use bedside_core::PatientId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// FHIR `$match` grades (the `match-grade` extension on each returned entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MatchGrade {
    /// `certain`: meets the criteria to be treated as the same patient.
    #[serde(rename = "certain")]
    Certain,
    /// `probable`: a close match; review advised.
    #[serde(rename = "probable")]
    Probable,
    /// `possible`: may match; review required.
    #[serde(rename = "possible")]
    Possible,
    /// `certainly-not`: not the same patient.
    #[serde(rename = "certainly-not")]
    CertainlyNot,
}

impl MatchGrade {
    /// Grades a decision: matches are certain; possible matches are probable in the upper half of
    /// the review band (on the log-odds scale) and possible below; non-matches are certainly not.
    pub fn of(outcome: Outcome, probability: f64, model: &Model) -> Self {
        match outcome {
            Outcome::Match => MatchGrade::Certain,
            Outcome::NonMatch => MatchGrade::CertainlyNot,
            Outcome::PossibleMatch => {
                let t = model.thresholds();
                let logit = |p: f64| {
                    (p.clamp(1e-12, 1.0 - 1e-12) / (1.0 - p.clamp(1e-12, 1.0 - 1e-12))).ln()
                };
                let mid = (logit(t.match_probability) + logit(t.review_probability)) / 2.0;
                if logit(probability) >= mid {
                    MatchGrade::Probable
                } else {
                    MatchGrade::Possible
                }
            }
        }
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            MatchGrade::Certain => "certain",
            MatchGrade::Probable => "probable",
            MatchGrade::Possible => "possible",
            MatchGrade::CertainlyNot => "certainly-not",
        }
    }
}

/// One stored record that may be the candidate, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedMatch {
    /// The stored patient.
    pub patient: PatientId,
    /// The FHIR `$match` score, `0..=1` (the posterior match probability).
    pub score: f64,
    /// The FHIR `$match` grade.
    pub grade: MatchGrade,
    /// The per-field explanation.
    pub explanation: Explanation,
}

/// An index of stored patients for `match_one`: blocking-key postings over prepared records and
/// a fitted [`Model`].
#[derive(Clone)]
pub struct MatchIndex {
    model: Model,
    config: MatcherConfig,
    slots: Vec<Option<(PatientId, Prepared, Vec<u64>)>>,
    free: Vec<u32>,
    by_patient: HashMap<PatientId, u32>,
    blocks: HashMap<u64, Vec<u32>>,
}

impl std::fmt::Debug for MatchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchIndex")
            .field("patients", &self.len())
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl MatchIndex {
    /// An empty index deciding with `model` and blocking with `config`.
    pub fn new(model: Model, config: MatcherConfig) -> Self {
        MatchIndex {
            model,
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_patient: HashMap::new(),
            blocks: HashMap::new(),
        }
    }

    /// The number of stored patients.
    pub fn len(&self) -> usize {
        self.by_patient.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_patient.is_empty()
    }

    /// The model used for decisions.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Adds or replaces the record of `patient` (incremental update when a record changes).
    pub fn upsert(&mut self, patient: PatientId, record: &MatchRecord) {
        self.remove(patient);
        let prepared = Prepared::new(record);
        let keys = blocking::all_keys(&prepared, &self.config.blocking);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        for &k in &keys {
            self.blocks.entry(k).or_default().push(slot);
        }
        self.slots[slot as usize] = Some((patient, prepared, keys));
        self.by_patient.insert(patient, slot);
    }

    /// Removes `patient`; returns whether it was present.
    pub fn remove(&mut self, patient: PatientId) -> bool {
        let Some(slot) = self.by_patient.remove(&patient) else {
            return false;
        };
        if let Some((_, _, keys)) = self.slots[slot as usize].take() {
            for k in keys {
                if let Some(members) = self.blocks.get_mut(&k) {
                    if let Some(pos) = members.iter().position(|&s| s == slot) {
                        members.swap_remove(pos);
                    }
                    if members.is_empty() {
                        self.blocks.remove(&k);
                    }
                }
            }
        }
        self.free.push(slot);
        true
    }

    /// The stored patients that may be `candidate`, best first: every record sharing a blocking
    /// key is compared and those at or above the review threshold are returned, at most `limit`.
    pub fn match_one(&self, candidate: &MatchRecord, limit: usize) -> Vec<RankedMatch> {
        let prepared = Prepared::new(candidate);
        let mut slots: Vec<u32> = Vec::new();
        for k in blocking::all_keys(&prepared, &self.config.blocking) {
            if let Some(members) = self.blocks.get(&k)
                && members.len() <= self.config.max_block_size
            {
                slots.extend_from_slice(members);
            }
        }
        slots.sort_unstable();
        slots.dedup();
        // Ranked by log-odds, which keeps ordering strong candidates whose probabilities
        // all round to 1.0; ties by slot keep results reproducible.
        let mut scored: Vec<(f64, u32, model::Comparison)> = Vec::new();
        for s in slots {
            if let Some((_, stored, _)) = &self.slots[s as usize] {
                let c = model::compare(&prepared, stored);
                let log_odds = self.model.log_odds(&c);
                if self.model.outcome(self.model.probability(&c)) != Outcome::NonMatch {
                    scored.push((log_odds, s, c));
                }
            }
        }
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(limit);
        scored
            .into_iter()
            .filter_map(|(_, s, c)| {
                let (patient, _, _) = self.slots[s as usize].as_ref()?;
                let explanation = self.model.explain(&c);
                let p = explanation.probability;
                Some(RankedMatch {
                    patient: *patient,
                    score: p,
                    grade: MatchGrade::of(explanation.outcome, p, &self.model),
                    explanation,
                })
            })
            .collect()
    }
}
