//! Patient matching (a master patient index): probabilistic record linkage in the
//! Fellegi–Sunter tradition.
//!
//! - [`MatchRecord`] holds the normalised person fields (built field by field, or from a
//!   [`Patient`](crate::Patient) with `MatchRecord::from(&patient)`); [`compare`]
//!   has the comparators (Jaro–Winkler, Soundex, nicknames, bounded edit distance).
//! - [`Matcher`] blocks with several unioned [`BlockingKey`]s, compares candidate pairs field by
//!   field, estimates m/u with EM ([`Model::estimate`], no labels) and decides [`Outcome::Match`],
//!   [`Outcome::PossibleMatch`] or [`Outcome::NonMatch`]. [`Matcher::deduplicate`] returns
//!   clusters; [`Matcher::link_datasets`] links two sets.
//! - [`MatchIndex`] answers `match_one` at registration time with ranked, explained,
//!   FHIR-`$match`-graded candidates ([`MatchGrade`]).
//! - [`LinkRegistry`] keeps human `link`/`unlink` decisions, versioned and attributed to an
//!   [`Actor`](bedside_core::Actor); nothing is ever merged destructively.
//!
//! ```
//! use bedside_records::matching::{synthetic, BirthDate, Matcher, MatchRecord, Outcome};
//! // Estimate the model from (synthetic) registrations without any labels.
//! let people: Vec<MatchRecord> =
//!     synthetic::population(7, 2_000, 0.2).into_iter().map(|p| p.record).collect();
//! let matcher = Matcher::default();
//! let model = matcher.train(&people);
//!
//! // Peggy is Margaret, her birth date typed day-first: still a match, and explained.
//! let a = MatchRecord::new().given("Margaret").family("Smith")
//!     .birth_date(BirthDate::parse("1970-03-04")).postcode("2600");
//! let b = MatchRecord::new().given("Peggy").family("Smith")
//!     .birth_date(BirthDate::parse("1970-04-03")).postcode("2600");
//! let explanation = matcher.explain(&model, &a, &b);
//! assert_eq!(explanation.outcome, Outcome::Match);
//! assert!(explanation.to_string().contains("Nickname"));
//!
//! // Batch deduplication returns clusters and how much work blocking saved.
//! let dedup = matcher.deduplicate(&people);
//! assert!(!dedup.clusters.is_empty());
//! assert!(dedup.pairs_compared < people.len() * people.len() / 100);
//! ```

pub mod blocking;
pub mod compare;
mod index;
mod links;
mod model;
mod patient;
mod record;
pub mod synthetic;

pub use blocking::BlockingKey;
pub use index::{MatchGrade, MatchIndex, RankedMatch};
pub use links::{LinkChange, LinkError, LinkEvent, LinkRegistry};
pub use model::{
    Agreement, Comparison, EmConfig, Explanation, FIELD_COUNT, Field, FieldExplanation,
    FieldProbabilities, LEVEL_COUNT, Model, Outcome, Reason, Thresholds,
};
pub use record::{
    BirthDate, MAX_FIELD_BYTES, MatchIdentifier, MatchRecord, Sex, digits_only, normalise_text,
};

use record::Prepared;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the matcher blocks and decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatcherConfig {
    /// Blocking keys whose candidate sets are unioned.
    pub blocking: Vec<BlockingKey>,
    /// Blocks larger than this are skipped (a very common key value says little and would make
    /// linking quadratic); the pair is usually caught by another key.
    pub max_block_size: usize,
    /// Decision thresholds.
    pub thresholds: Thresholds,
    /// EM limits.
    pub em: EmConfig,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            blocking: BlockingKey::DEFAULT.to_vec(),
            max_block_size: 500,
            thresholds: Thresholds::default(),
            em: EmConfig::default(),
        }
    }
}

/// A scored candidate pair, by position in the input slice(s).
#[derive(Debug, Clone, PartialEq)]
pub struct PairDecision {
    /// Position of the first record (in the left set when linking two sets).
    pub left: usize,
    /// Position of the second record (in the right set when linking two sets).
    pub right: usize,
    /// Posterior probability that both are the same person.
    pub probability: f64,
    /// The decision.
    pub outcome: Outcome,
    /// The field-by-field comparison, for [`Model::explain`].
    pub comparison: Comparison,
}

/// The result of [`Matcher::deduplicate`].
#[derive(Debug, Clone)]
pub struct Deduplication {
    /// The model estimated from this data.
    pub model: Model,
    /// Pairs decided [`Outcome::Match`], sorted by position.
    pub matches: Vec<PairDecision>,
    /// Pairs decided [`Outcome::PossibleMatch`]: for human review, not linked.
    pub possible: Vec<PairDecision>,
    /// Groups of two or more records that are the same person (connected components of the
    /// match pairs), each sorted, ordered by their first member.
    pub clusters: Vec<Vec<usize>>,
    /// How many candidate pairs blocking produced and the comparators scored.
    pub pairs_compared: usize,
}

/// The result of [`Matcher::link_datasets`].
#[derive(Debug, Clone)]
pub struct Linkage {
    /// The model estimated from this data.
    pub model: Model,
    /// Left–right pairs decided [`Outcome::Match`].
    pub matches: Vec<PairDecision>,
    /// Left–right pairs decided [`Outcome::PossibleMatch`].
    pub possible: Vec<PairDecision>,
    /// How many candidate pairs were compared.
    pub pairs_compared: usize,
}

/// The batch matcher: blocking, comparison, EM, decisions and clustering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Matcher {
    config: MatcherConfig,
}

impl Matcher {
    /// A matcher with `config`.
    pub fn new(config: MatcherConfig) -> Self {
        Matcher { config }
    }

    /// The configuration.
    pub fn config(&self) -> &MatcherConfig {
        &self.config
    }

    /// The candidate pairs `(i, j)`, `i < j`, blocking gives for one set: every pair sharing at
    /// least one blocking key (blocks above the size limit skipped). These are the pairs
    /// [`deduplicate`](Self::deduplicate) compares.
    pub fn blocked_pairs(&self, records: &[MatchRecord]) -> Vec<(usize, usize)> {
        let prepared: Vec<Prepared> = records.iter().map(Prepared::new).collect();
        self.candidate_pairs(&prepared)
            .into_iter()
            .map(|(i, j)| (i as usize, j as usize))
            .collect()
    }

    /// Candidate pairs `(i, j)`, `i < j`, of one set: every pair sharing a blocking key.
    fn candidate_pairs(&self, prepared: &[Prepared]) -> Vec<(u32, u32)> {
        let mut blocks: HashMap<u64, Vec<u32>> = HashMap::with_capacity(prepared.len() * 4);
        for (i, p) in prepared.iter().enumerate() {
            for key in blocking::all_keys(p, &self.config.blocking) {
                blocks.entry(key).or_default().push(i as u32);
            }
        }
        let mut pairs: Vec<u64> = Vec::new();
        for members in blocks.values() {
            if members.len() < 2 || members.len() > self.config.max_block_size {
                continue;
            }
            for (x, &i) in members.iter().enumerate() {
                for &j in &members[x + 1..] {
                    pairs.push(u64::from(i) << 32 | u64::from(j));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
            .into_iter()
            .map(|p| ((p >> 32) as u32, p as u32))
            .collect()
    }

    /// Estimates a model from one set of records (candidate pairs of the set, EM, no labels).
    pub fn train(&self, records: &[MatchRecord]) -> Model {
        let prepared: Vec<Prepared> = records.iter().map(Prepared::new).collect();
        let pairs = self.candidate_pairs(&prepared);
        let comparisons: Vec<Comparison> = pairs
            .iter()
            .map(|&(i, j)| model::compare(&prepared[i as usize], &prepared[j as usize]))
            .collect();
        Model::estimate(&comparisons, self.config.thresholds, self.config.em)
    }

    /// Compares two records with `model` and explains the result.
    pub fn explain(&self, model: &Model, a: &MatchRecord, b: &MatchRecord) -> Explanation {
        model.explain(&self.compare(a, b))
    }

    /// Compares two records field by field.
    pub fn compare(&self, a: &MatchRecord, b: &MatchRecord) -> Comparison {
        model::compare(&Prepared::new(a), &Prepared::new(b))
    }

    /// Finds the duplicates in one set: blocks, compares candidate pairs, estimates the model
    /// with EM on them, decides each pair and clusters the matches.
    pub fn deduplicate(&self, records: &[MatchRecord]) -> Deduplication {
        let prepared: Vec<Prepared> = records.iter().map(Prepared::new).collect();
        let pairs = self.candidate_pairs(&prepared);
        let comparisons: Vec<Comparison> = pairs
            .iter()
            .map(|&(i, j)| model::compare(&prepared[i as usize], &prepared[j as usize]))
            .collect();
        let model = Model::estimate(&comparisons, self.config.thresholds, self.config.em);
        let (matches, possible) = decide(&model, &pairs, &comparisons);
        let clusters = clusters_of(records.len(), matches.iter().map(|d| (d.left, d.right)));
        Deduplication {
            model,
            matches,
            possible,
            clusters,
            pairs_compared: pairs.len(),
        }
    }

    /// Links two sets (each assumed free of internal duplicates): compares left–right pairs
    /// sharing a blocking key, estimates the model with EM and decides each pair.
    pub fn link_datasets(&self, left: &[MatchRecord], right: &[MatchRecord]) -> Linkage {
        let lp: Vec<Prepared> = left.iter().map(Prepared::new).collect();
        let rp: Vec<Prepared> = right.iter().map(Prepared::new).collect();
        let mut blocks: HashMap<u64, Vec<u32>> = HashMap::with_capacity(rp.len() * 4);
        for (j, p) in rp.iter().enumerate() {
            for key in blocking::all_keys(p, &self.config.blocking) {
                blocks.entry(key).or_default().push(j as u32);
            }
        }
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut row: Vec<u32> = Vec::new();
        for (i, p) in lp.iter().enumerate() {
            row.clear();
            for key in blocking::all_keys(p, &self.config.blocking) {
                if let Some(members) = blocks.get(&key)
                    && members.len() <= self.config.max_block_size
                {
                    row.extend_from_slice(members);
                }
            }
            row.sort_unstable();
            row.dedup();
            pairs.extend(row.iter().map(|&j| (i as u32, j)));
        }
        let comparisons: Vec<Comparison> = pairs
            .iter()
            .map(|&(i, j)| model::compare(&lp[i as usize], &rp[j as usize]))
            .collect();
        let model = Model::estimate(&comparisons, self.config.thresholds, self.config.em);
        let (matches, possible) = decide(&model, &pairs, &comparisons);
        Linkage {
            model,
            matches,
            possible,
            pairs_compared: pairs.len(),
        }
    }
}

fn decide(
    model: &Model,
    pairs: &[(u32, u32)],
    comparisons: &[Comparison],
) -> (Vec<PairDecision>, Vec<PairDecision>) {
    let mut matches = Vec::new();
    let mut possible = Vec::new();
    for (&(i, j), c) in pairs.iter().zip(comparisons) {
        let probability = model.probability(c);
        let outcome = model.outcome(probability);
        let decision = PairDecision {
            left: i as usize,
            right: j as usize,
            probability,
            outcome,
            comparison: *c,
        };
        match outcome {
            Outcome::Match => matches.push(decision),
            Outcome::PossibleMatch => possible.push(decision),
            Outcome::NonMatch => {}
        }
    }
    (matches, possible)
}

/// Connected components of `edges` over `0..n`, keeping only groups of two or more, each
/// sorted, ordered by first member.
pub fn clusters_of(n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (a, b) in edges {
        if a >= n || b >= n {
            continue;
        }
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi] = lo;
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for x in 0..n {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().push(x);
    }
    let mut clusters: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    clusters.sort_unstable_by_key(|g| g[0]);
    clusters
}
