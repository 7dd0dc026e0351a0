//! The Fellegi–Sunter model: per-field agreement levels, m/u probabilities estimated with EM,
//! weights, decisions and their explanations.

use super::compare::{bounded_edit_distance, jaro_winkler, nickname_equivalent};
use super::record::Prepared;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Number of compared fields.
pub const FIELD_COUNT: usize = 11;
/// Number of agreement levels per field (missing is not a level).
pub const LEVEL_COUNT: usize = 4;
/// The level code for "one side is missing": no evidence either way.
pub(crate) const MISSING: u8 = u8::MAX;

/// A compared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Given name (with nickname equivalence and given/family swap).
    Given,
    /// Family name.
    Family,
    /// Birth date (with day/month transposition and partial dates).
    BirthDate,
    /// Administrative sex.
    Sex,
    /// House or street number.
    HouseNumber,
    /// Address lines, compared as token sets.
    Address,
    /// Locality (suburb, town).
    Locality,
    /// Postcode.
    Postcode,
    /// Region (state).
    Region,
    /// Phone number.
    Phone,
    /// Identifiers of the same system.
    Identifier,
}

impl Field {
    /// Every field, in comparison order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::Given,
        Field::Family,
        Field::BirthDate,
        Field::Sex,
        Field::HouseNumber,
        Field::Address,
        Field::Locality,
        Field::Postcode,
        Field::Region,
        Field::Phone,
        Field::Identifier,
    ];

    /// A stable lowercase name, used in explanations.
    pub fn name(self) -> &'static str {
        match self {
            Field::Given => "given",
            Field::Family => "family",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::HouseNumber => "house_number",
            Field::Address => "address",
            Field::Locality => "locality",
            Field::Postcode => "postcode",
            Field::Region => "region",
            Field::Phone => "phone",
            Field::Identifier => "identifier",
        }
    }
}

/// How well one field agrees between two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Identical after normalisation.
    Exact,
    /// Nearly identical: a nickname, one typo, a transposition.
    Strong,
    /// Somewhat similar: sounds alike, shares most tokens, one date part differs.
    Weak,
    /// Different.
    Disagree,
    /// Missing on at least one side: no evidence either way (weight zero).
    Missing,
}

impl Agreement {
    fn from_level(level: u8) -> Self {
        match level {
            0 => Agreement::Exact,
            1 => Agreement::Strong,
            2 => Agreement::Weak,
            3 => Agreement::Disagree,
            _ => Agreement::Missing,
        }
    }
}

/// Why a field got its agreement level; shown to reviewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The values are equal.
    Equal,
    /// The values differ.
    Different,
    /// At least one value is missing.
    Missing,
    /// The given names are nicknames of one another (Peggy and Margaret).
    Nickname,
    /// High Jaro–Winkler similarity.
    Similar,
    /// Same phonetic code.
    SoundsAlike,
    /// Given and family names were swapped between the records.
    Swapped,
    /// Day and month are transposed.
    DayMonthTransposed,
    /// One date is partial and agrees with the other where known.
    PartialDate,
    /// One date part (year, month or day) differs.
    OneDatePartDiffers,
    /// One character differs (substitution, insertion, deletion or transposition).
    OneEdit,
    /// Two characters differ.
    TwoEdits,
    /// Most tokens agree.
    MostTokens,
    /// Some tokens agree.
    SomeTokens,
    /// Leading characters agree (nearby postcodes).
    SamePrefix,
}

/// The result of comparing two records field by field, before weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison {
    pub(crate) levels: [u8; FIELD_COUNT],
    pub(crate) reasons: [Reason; FIELD_COUNT],
}

impl Comparison {
    /// The agreement of `field`.
    pub fn agreement(&self, field: Field) -> Agreement {
        Agreement::from_level(self.levels[field as usize])
    }

    /// Why `field` got its agreement.
    pub fn reason(&self, field: Field) -> Reason {
        self.reasons[field as usize]
    }
}

fn name_level(
    a: &str,
    b: &str,
    a_code: Option<[u8; 4]>,
    b_code: Option<[u8; 4]>,
    nick: bool,
) -> (u8, Reason) {
    if a.is_empty() || b.is_empty() {
        return (MISSING, Reason::Missing);
    }
    if a == b {
        return (0, Reason::Equal);
    }
    if nick && nickname_equivalent(a, b) {
        return (1, Reason::Nickname);
    }
    let jw = jaro_winkler(a.as_bytes(), b.as_bytes());
    if jw >= 0.94 {
        return (1, Reason::Similar);
    }
    if a_code.is_some() && a_code == b_code {
        return (2, Reason::SoundsAlike);
    }
    if jw >= 0.85 {
        return (2, Reason::Similar);
    }
    (3, Reason::Different)
}

fn level_sum(levels: [(u8, Reason); 2]) -> u32 {
    levels
        .iter()
        .map(|(l, _)| if *l == MISSING { 2 } else { u32::from(*l) })
        .sum()
}

fn date_level(a: super::BirthDate, b: super::BirthDate) -> (u8, Reason) {
    let (Some(ay), Some(by)) = (a.year(), b.year()) else {
        return (MISSING, Reason::Missing);
    };
    let (am, bm, ad, bd) = (a.month(), b.month(), a.day(), b.day());
    if a == b {
        return (0, Reason::Equal);
    }
    // Partial dates: agree where both are known.
    if ay == by && (am.is_none() || bm.is_none() || (am == bm && (ad.is_none() || bd.is_none()))) {
        return (1, Reason::PartialDate);
    }
    if ay == by && am.is_some() && ad.is_some() && am == bd && ad == bm {
        return (1, Reason::DayMonthTransposed);
    }
    let differing = usize::from(ay != by) + usize::from(am != bm) + usize::from(ad != bd);
    if differing == 1 {
        return (2, Reason::OneDatePartDiffers);
    }
    (3, Reason::Different)
}

fn edit_level(a: &str, b: &str, max_strong: usize, max_weak: usize) -> (u8, Reason) {
    if a.is_empty() || b.is_empty() {
        return (MISSING, Reason::Missing);
    }
    if a == b {
        return (0, Reason::Equal);
    }
    match bounded_edit_distance(a.as_bytes(), b.as_bytes(), max_weak.max(max_strong)) {
        Some(d) if d <= max_strong => (1, Reason::OneEdit),
        Some(_) => (2, Reason::TwoEdits),
        None => (3, Reason::Different),
    }
}

fn address_level(a: &Prepared, b: &Prepared) -> (u8, Reason) {
    if a.address_tokens.is_empty() || b.address_tokens.is_empty() {
        return (MISSING, Reason::Missing);
    }
    if a.address_compact == b.address_compact {
        return (0, Reason::Equal);
    }
    // Token agreement is computed once as a small matrix, then counted from both sides and
    // the smaller kept, so that the comparison is symmetric.
    let (xa, xb) = (&a.address_tokens, &b.address_tokens);
    let (na, nb) = (xa.len().min(16), xb.len().min(16));
    let mut row_hit = [false; 16];
    let mut col_hit = [false; 16];
    for (r, t) in xa.iter().take(na).enumerate() {
        for (c, u) in xb.iter().take(nb).enumerate() {
            if (row_hit[r] && col_hit[c])
                || !(t == u || jaro_winkler(t.as_bytes(), u.as_bytes()) >= 0.9)
            {
                continue;
            }
            row_hit[r] = true;
            col_hit[c] = true;
        }
    }
    let matched = row_hit[..na]
        .iter()
        .filter(|h| **h)
        .count()
        .min(col_hit[..nb].iter().filter(|h| **h).count());
    let denominator = na.max(nb);
    if matched * 4 >= denominator * 3
        || jaro_winkler(a.address_compact.as_bytes(), b.address_compact.as_bytes()) >= 0.95
    {
        return (1, Reason::MostTokens);
    }
    if matched * 3 >= denominator {
        return (2, Reason::SomeTokens);
    }
    (3, Reason::Different)
}

fn text_level(a: &str, b: &str) -> (u8, Reason) {
    if a.is_empty() || b.is_empty() {
        return (MISSING, Reason::Missing);
    }
    if a == b {
        return (0, Reason::Equal);
    }
    let jw = jaro_winkler(a.as_bytes(), b.as_bytes());
    if jw >= 0.92 {
        (1, Reason::Similar)
    } else if jw >= 0.8 {
        (2, Reason::Similar)
    } else {
        (3, Reason::Different)
    }
}

fn postcode_level(a: &str, b: &str) -> (u8, Reason) {
    match edit_level(a, b, 1, 1) {
        (3, _) if a.len() >= 3 && b.len() >= 3 && a[..2] == b[..2] => (2, Reason::SamePrefix),
        other => other,
    }
}

fn identifier_level(a: &Prepared, b: &Prepared) -> (u8, Reason) {
    let mut best = (MISSING, Reason::Missing);
    for (sa, va) in &a.identifiers {
        for (sb, vb) in &b.identifiers {
            if sa == sb {
                let l = edit_level(va, vb, 1, 2);
                if best.0 == MISSING || l.0 < best.0 {
                    best = l;
                }
            }
        }
    }
    best
}

/// Compares two prepared records field by field.
pub(crate) fn compare(a: &Prepared, b: &Prepared) -> Comparison {
    let mut levels = [MISSING; FIELD_COUNT];
    let mut reasons = [Reason::Missing; FIELD_COUNT];
    let mut set = |f: Field, (l, r): (u8, Reason)| {
        levels[f as usize] = l;
        reasons[f as usize] = r;
    };
    let direct = [
        name_level(&a.given, &b.given, a.given_code, b.given_code, true),
        name_level(&a.family, &b.family, a.family_code, b.family_code, false),
    ];
    let direct_sum = level_sum(direct);
    let names = if direct_sum >= 4 {
        let swapped = [
            name_level(&a.given, &b.family, a.given_code, b.family_code, false),
            name_level(&a.family, &b.given, a.family_code, b.given_code, false),
        ];
        if level_sum(swapped) + 1 < direct_sum {
            // Comparing (b, a) pairs the same names the other way round; putting the better
            // level on the given name keeps the comparison symmetric.
            let [x, y] = swapped.map(|(l, r)| (l, if l < 3 { Reason::Swapped } else { r }));
            if x.0 <= y.0 { [x, y] } else { [y, x] }
        } else {
            direct
        }
    } else {
        direct
    };
    set(Field::Given, names[0]);
    set(Field::Family, names[1]);
    set(Field::BirthDate, date_level(a.birth, b.birth));
    set(
        Field::Sex,
        match (a.sex, b.sex) {
            (Some(x), Some(y)) if x == y => (0, Reason::Equal),
            (Some(_), Some(_)) => (3, Reason::Different),
            _ => (MISSING, Reason::Missing),
        },
    );
    set(
        Field::HouseNumber,
        edit_level(&a.house_number, &b.house_number, 1, 1),
    );
    set(Field::Address, address_level(a, b));
    set(Field::Locality, text_level(&a.locality, &b.locality));
    set(Field::Postcode, postcode_level(&a.postcode, &b.postcode));
    set(
        Field::Region,
        match (
            a.region.is_empty() || b.region.is_empty(),
            a.region == b.region,
        ) {
            (true, _) => (MISSING, Reason::Missing),
            (false, true) => (0, Reason::Equal),
            (false, false) => (3, Reason::Different),
        },
    );
    set(Field::Phone, edit_level(&a.phone, &b.phone, 1, 2));
    set(Field::Identifier, identifier_level(a, b));
    Comparison { levels, reasons }
}

/// The three decisions of a Fellegi–Sunter matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The same person; may be linked automatically.
    Match,
    /// Perhaps the same person: a person should review.
    PossibleMatch,
    /// Different people.
    NonMatch,
}

/// The m and u probabilities of each agreement level of one field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldProbabilities {
    /// P(level | same person), for Exact, Strong, Weak, Disagree.
    pub m: [f64; LEVEL_COUNT],
    /// P(level | different people).
    pub u: [f64; LEVEL_COUNT],
}

impl FieldProbabilities {
    /// The weight `log2(m / u)` of a level, made monotone: a level never weighs more than a
    /// closer one (EM on odd data could otherwise reward a typo over an exact agreement). Zero
    /// for missing.
    pub fn weight(&self, level: u8) -> f64 {
        self.ln_weights()
            .get(usize::from(level))
            .map_or(0.0, |w| w / std::f64::consts::LN_2)
    }

    /// The monotone natural-log weights of the levels.
    fn ln_weights(&self) -> [f64; LEVEL_COUNT] {
        let mut best = f64::INFINITY;
        std::array::from_fn(|l| {
            best = best.min((self.m[l] / self.u[l]).ln());
            best
        })
    }

    /// The raw natural-log weights `ln(m / u)`, used inside EM.
    fn raw_ln_weights(&self) -> [f64; LEVEL_COUNT] {
        std::array::from_fn(|l| (self.m[l] / self.u[l]).ln())
    }
}

/// Decision thresholds on the posterior match probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// At or above this probability a pair is a [`Outcome::Match`].
    pub match_probability: f64,
    /// At or above this probability (and below the match threshold) a pair is a
    /// [`Outcome::PossibleMatch`].
    pub review_probability: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            match_probability: 0.9,
            review_probability: 0.1,
        }
    }
}

/// Limits and starting point of the EM estimation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmConfig {
    /// Most EM iterations.
    pub max_iterations: usize,
    /// Stop when no probability moves by more than this.
    pub tolerance: f64,
    /// Floor for every estimated probability, so that no weight is infinite.
    pub floor: f64,
    /// Fewer candidate pairs than this are too little evidence for EM: the model keeps its
    /// textbook starting values.
    pub min_pairs: usize,
}

impl Default for EmConfig {
    fn default() -> Self {
        EmConfig {
            max_iterations: 200,
            tolerance: 1e-6,
            floor: 1e-5,
            min_pairs: 50,
        }
    }
}

/// A fitted Fellegi–Sunter model: m/u per field and level, the prior match proportion among
/// candidate pairs, and the decision thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ModelParts", into = "ModelParts")]
pub struct Model {
    fields: [FieldProbabilities; FIELD_COUNT],
    /// Monotone natural-log weights per field and level, derived from `fields`.
    weights: [[f64; LEVEL_COUNT]; FIELD_COUNT],
    prior: f64,
    thresholds: Thresholds,
    iterations: usize,
}

/// The serialised form of a [`Model`]: the weights are derived on load.
#[derive(Serialize, Deserialize)]
struct ModelParts {
    fields: [FieldProbabilities; FIELD_COUNT],
    prior: f64,
    thresholds: Thresholds,
    iterations: usize,
}

impl From<ModelParts> for Model {
    fn from(p: ModelParts) -> Self {
        let mut model = Model {
            fields: p.fields,
            weights: [[0.0; LEVEL_COUNT]; FIELD_COUNT],
            prior: p.prior.clamp(1e-9, 1.0 - 1e-9),
            thresholds: p.thresholds,
            iterations: p.iterations,
        };
        model.refresh_weights();
        model
    }
}

impl From<Model> for ModelParts {
    fn from(m: Model) -> Self {
        ModelParts {
            fields: m.fields,
            prior: m.prior,
            thresholds: m.thresholds,
            iterations: m.iterations,
        }
    }
}

/// One field's contribution to a decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldExplanation {
    /// The field.
    pub field: Field,
    /// Its agreement level.
    pub agreement: Agreement,
    /// Why it got that level.
    pub reason: Reason,
    /// Its weight, `log2(m / u)`; positive supports a match.
    pub weight: f64,
}

/// Why a pair was scored as it was: every field's agreement and weight, the total and the
/// posterior probability. Contains no PHI, so it can be shown and logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Per-field agreement and weight, in [`Field::ALL`] order.
    pub fields: Vec<FieldExplanation>,
    /// The sum of the field weights.
    pub total_weight: f64,
    /// The posterior probability that the records are the same person.
    pub probability: f64,
    /// The decision.
    pub outcome: Outcome,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:?}: probability {:.4}, total weight {:+.2}",
            self.outcome, self.probability, self.total_weight
        )?;
        for e in &self.fields {
            writeln!(
                f,
                "  {:<13} {:<9} {:<22} {:+.2}",
                e.field.name(),
                format!("{:?}", e.agreement).to_lowercase(),
                format!("{:?}", e.reason),
                e.weight
            )?;
        }
        Ok(())
    }
}

/// Starting m and u for EM: agreement is likely for the same person and unlikely otherwise.
const M_START: [f64; LEVEL_COUNT] = [0.8, 0.1, 0.05, 0.05];
const U_START: [f64; LEVEL_COUNT] = [0.05, 0.05, 0.1, 0.8];

impl Model {
    /// A model with the textbook starting values (before any estimation) and `thresholds`.
    pub fn untrained(thresholds: Thresholds) -> Self {
        let mut model = Model {
            fields: [FieldProbabilities {
                m: M_START,
                u: U_START,
            }; FIELD_COUNT],
            weights: [[0.0; LEVEL_COUNT]; FIELD_COUNT],
            prior: 0.1,
            thresholds,
            iterations: 0,
        };
        model.refresh_weights();
        model
    }

    fn refresh_weights(&mut self) {
        self.weights = self.fields.map(|f| f.ln_weights());
    }

    /// Estimates m, u and the prior with EM from the comparison patterns of candidate pairs,
    /// without any labels. Identical patterns are counted once with their multiplicity, so the
    /// cost is proportional to the number of distinct patterns.
    pub fn estimate(comparisons: &[Comparison], thresholds: Thresholds, config: EmConfig) -> Self {
        let mut counts: HashMap<[u8; FIELD_COUNT], f64> = HashMap::new();
        for c in comparisons {
            *counts.entry(c.levels).or_insert(0.0) += 1.0;
        }
        let mut patterns: Vec<([u8; FIELD_COUNT], f64)> = counts.into_iter().collect();
        // HashMap order is random; sorting keeps the floating-point sums reproducible.
        patterns.sort_unstable_by_key(|p| p.0);
        Self::estimate_patterns(&patterns, thresholds, config)
    }

    fn estimate_patterns(
        patterns: &[([u8; FIELD_COUNT], f64)],
        thresholds: Thresholds,
        config: EmConfig,
    ) -> Self {
        let mut model = Self::untrained(thresholds);
        let total: f64 = patterns.iter().map(|p| p.1).sum();
        if total <= 0.0 || total < config.min_pairs as f64 {
            return model;
        }
        for iteration in 1..=config.max_iterations {
            let mut m_acc = [[0.0f64; LEVEL_COUNT]; FIELD_COUNT];
            let mut u_acc = [[0.0f64; LEVEL_COUNT]; FIELD_COUNT];
            let mut match_mass = 0.0;
            let log_prior = (model.prior / (1.0 - model.prior)).ln();
            let raw = model.fields.map(|f| f.raw_ln_weights());
            for (levels, count) in patterns {
                let g = sigmoid(log_prior + sum_weights(&raw, levels));
                match_mass += g * count;
                for (f, &l) in levels.iter().enumerate() {
                    if let Some(slot) = m_acc[f].get_mut(usize::from(l)) {
                        *slot += g * count;
                        u_acc[f][usize::from(l)] += (1.0 - g) * count;
                    }
                }
            }
            let mut change: f64 = 0.0;
            for f in 0..FIELD_COUNT {
                let m = normalise(m_acc[f], config.floor);
                let u = normalise(u_acc[f], config.floor);
                for l in 0..LEVEL_COUNT {
                    change = change
                        .max((m[l] - model.fields[f].m[l]).abs())
                        .max((u[l] - model.fields[f].u[l]).abs());
                }
                // A field that never agrees or is always missing keeps its previous values.
                if m_acc[f].iter().sum::<f64>() > 0.0 {
                    model.fields[f].m = m;
                }
                if u_acc[f].iter().sum::<f64>() > 0.0 {
                    model.fields[f].u = u;
                }
            }
            let prior = (match_mass / total).clamp(config.floor, 1.0 - config.floor);
            change = change.max((prior - model.prior).abs());
            model.prior = prior;
            model.iterations = iteration;
            if change < config.tolerance {
                break;
            }
        }
        model.refresh_weights();
        model
    }

    /// The natural-log likelihood ratio `ln(P(γ|M) / P(γ|U))` of a pattern.
    fn log_likelihood_ratio(&self, levels: &[u8; FIELD_COUNT]) -> f64 {
        sum_weights(&self.weights, levels)
    }

    /// The posterior log-odds (natural log) that the records are the same person. Unlike the
    /// probability it does not saturate at 1.0, so it ranks strong candidates.
    pub fn log_odds(&self, comparison: &Comparison) -> f64 {
        (self.prior / (1.0 - self.prior)).ln() + self.log_likelihood_ratio(&comparison.levels)
    }

    /// The posterior match probability of a comparison.
    pub fn probability(&self, comparison: &Comparison) -> f64 {
        sigmoid(self.log_odds(comparison))
    }

    /// The decision for a probability.
    pub fn outcome(&self, probability: f64) -> Outcome {
        if probability >= self.thresholds.match_probability {
            Outcome::Match
        } else if probability >= self.thresholds.review_probability {
            Outcome::PossibleMatch
        } else {
            Outcome::NonMatch
        }
    }

    /// Explains a comparison: per-field agreement, reason and weight, total and decision.
    pub fn explain(&self, comparison: &Comparison) -> Explanation {
        let fields: Vec<FieldExplanation> = Field::ALL
            .iter()
            .map(|&field| {
                let level = comparison.levels[field as usize];
                FieldExplanation {
                    field,
                    agreement: Agreement::from_level(level),
                    reason: comparison.reasons[field as usize],
                    weight: self.fields[field as usize].weight(level),
                }
            })
            .collect();
        let probability = self.probability(comparison);
        Explanation {
            total_weight: fields.iter().map(|f| f.weight).sum(),
            fields,
            probability,
            outcome: self.outcome(probability),
        }
    }

    /// The m/u probabilities of `field`.
    pub fn field(&self, field: Field) -> &FieldProbabilities {
        &self.fields[field as usize]
    }

    /// The estimated proportion of matches among candidate pairs.
    pub fn prior(&self) -> f64 {
        self.prior
    }

    /// The decision thresholds.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// How many EM iterations the estimation ran.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
}

fn sum_weights(weights: &[[f64; LEVEL_COUNT]; FIELD_COUNT], levels: &[u8; FIELD_COUNT]) -> f64 {
    levels
        .iter()
        .zip(weights)
        .map(|(&l, w)| w.get(usize::from(l)).copied().unwrap_or(0.0))
        .sum()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn normalise(acc: [f64; LEVEL_COUNT], floor: f64) -> [f64; LEVEL_COUNT] {
    let total: f64 = acc.iter().sum();
    if total <= 0.0 {
        return [0.25; LEVEL_COUNT];
    }
    let mut p = acc.map(|x| (x / total).max(floor));
    let renorm: f64 = p.iter().sum();
    for x in &mut p {
        *x /= renorm;
    }
    p
}
