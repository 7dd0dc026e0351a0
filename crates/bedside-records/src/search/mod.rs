//! Fast in-memory patient search: [`PatientIndex`].
//!
//! Search by name (each word matched exactly, as a prefix, or with one typo, and given names
//! through nicknames), birth date, identifier, phone and postcode, in any combination; every
//! criterion given must match, and results are ranked by how closely they match. The index is
//! updated incrementally when a record changes ([`PatientIndex::upsert`],
//! [`PatientIndex::remove`]).
//!
//! ```
//! use bedside_core::PatientId;
//! use bedside_records::matching::{BirthDate, MatchRecord};
//! use bedside_records::search::{PatientIndex, PatientQuery};
//! # use bedside_core::{ManualClock, SeededIdGenerator};
//! # use std::sync::Arc;
//! # let ids = SeededIdGenerator::new(Arc::new(ManualClock::new("2026-01-01T00:00:00Z".parse()?)), 1);
//! let (peggy, tom): (PatientId, PatientId) = (ids.generate(), ids.generate());
//! let mut index = PatientIndex::new();
//! index.upsert(peggy, &MatchRecord::new().given("Margaret").family("Smith")
//!     .birth_date(BirthDate::parse("1970-03-14")).postcode("2600"));
//! index.upsert(tom, &MatchRecord::new().given("Thomas").family("Smyth").postcode("2600"));
//!
//! // A prefix and a typo still find her; the birth date narrows the search.
//! let hits = index.search(&PatientQuery::new().name("smiht marg").birth_date(BirthDate::parse("1970-03-14")));
//! assert_eq!(hits.iter().map(|h| h.patient).collect::<Vec<_>>(), vec![peggy]);
//!
//! // Both share the postcode; the exact name ranks first.
//! let hits = index.search(&PatientQuery::new().name("smyth").postcode("2600"));
//! assert_eq!(hits[0].patient, tom);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::matching::compare::{bounded_edit_distance, nickname_group};
use crate::matching::{BirthDate, MatchRecord, normalise_text};
use bedside_core::{PatientId, Sensitive};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most results a query returns when it sets no limit.
pub const DEFAULT_LIMIT: usize = 20;
/// Most results any query returns.
pub const MAX_LIMIT: usize = 1000;
/// Most dictionary words one prefix expands to (a one-letter prefix would otherwise touch the
/// whole dictionary); the first in alphabetical order are kept.
pub const MAX_PREFIX_TERMS: usize = 256;
/// Most candidate records examined by one query. A query whose most selective criterion still
/// matches more records than this is answered from the first ones examined, and says so.
pub const MAX_CANDIDATES: usize = 200_000;
/// Most words taken from a name query.
pub const MAX_QUERY_WORDS: usize = 6;

/// A search: every criterion set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientQuery {
    words: Sensitive<Vec<String>>,
    birth: Option<Sensitive<BirthDate>>,
    identifier: Option<Sensitive<String>>,
    phone: Option<Sensitive<String>>,
    postcode: Option<Sensitive<String>>,
    limit: usize,
}

impl PatientQuery {
    /// An empty query (matches nothing until a criterion is set).
    pub fn new() -> Self {
        PatientQuery {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        }
    }

    /// Name words, given or family in any order, each matched exactly, as a prefix or with one
    /// typo (words of four letters or more).
    pub fn name(mut self, text: &str) -> Self {
        let words: Vec<String> = normalise_text(text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(MAX_QUERY_WORDS)
            .map(str::to_owned)
            .collect();
        self.words = Sensitive::new(words);
        self
    }

    /// Birth date: a full date must be equal; a partial one matches every date it covers.
    pub fn birth_date(mut self, date: BirthDate) -> Self {
        self.birth = (!date.is_unknown()).then_some(Sensitive::new(date));
        self
    }

    /// An identifier value in any system.
    pub fn identifier(mut self, value: &str) -> Self {
        let v = normalise_text(value).replace(' ', "");
        self.identifier = (!v.is_empty()).then_some(Sensitive::new(v));
        self
    }

    /// A phone number (digits compared).
    pub fn phone(mut self, phone: &str) -> Self {
        let v = crate::matching::digits_only(phone);
        self.phone = (!v.is_empty()).then_some(Sensitive::new(v));
        self
    }

    /// A postcode.
    pub fn postcode(mut self, postcode: &str) -> Self {
        let v = normalise_text(postcode).replace(' ', "");
        self.postcode = (!v.is_empty()).then_some(Sensitive::new(v));
        self
    }

    /// The most results to return (1 to [`MAX_LIMIT`]).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, MAX_LIMIT);
        self
    }

    fn is_empty(&self) -> bool {
        self.words.expose().is_empty()
            && self.birth.is_none()
            && self.identifier.is_none()
            && self.phone.is_none()
            && self.postcode.is_none()
    }
}

/// How a name word matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordMatch {
    /// The whole word is equal.
    Exact,
    /// The same given name in everyday use (Peggy for Margaret).
    Nickname,
    /// The query word is a prefix of the stored word.
    Prefix,
    /// One typo apart.
    Typo,
}

impl WordMatch {
    fn points(self) -> u32 {
        match self {
            WordMatch::Exact => 8,
            WordMatch::Nickname => 6,
            WordMatch::Prefix => 5,
            WordMatch::Typo => 4,
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The patient.
    pub patient: PatientId,
    /// Rank score: higher is closer (exact words score above prefixes above typos).
    pub score: u32,
}

type TermId = u32;

/// Most name words kept per patient (given and family together).
const MAX_NAME_WORDS: usize = 6;
/// Marks an unused entry of [`Doc::terms`].
const NO_TERM: TermId = TermId::MAX;

#[derive(Clone)]
struct Doc {
    patient: PatientId,
    /// Name words, inline so that checking a candidate touches one allocation.
    terms: [TermId; MAX_NAME_WORDS],
    birth: BirthDate,
    identifiers: Vec<String>,
    phone: String,
    postcode: String,
}

/// An in-memory index of patients for interactive search.
#[derive(Clone, Default)]
pub struct PatientIndex {
    docs: Vec<Option<Doc>>,
    free: Vec<u32>,
    by_patient: HashMap<PatientId, u32>,
    term_ids: HashMap<String, TermId>,
    term_text: Vec<String>,
    /// Postings per term: slots of records containing the word.
    term_postings: Vec<Vec<u32>>,
    /// Words in order, for prefix ranges.
    sorted_terms: BTreeMap<String, TermId>,
    /// Deletion neighbourhood: hash of the word and of each one-letter deletion → words. Finds
    /// every word within one edit of a query word with a handful of lookups.
    deletions: HashMap<u64, Vec<TermId>>,
    /// Nickname group → words in it.
    nicknames: HashMap<usize, Vec<TermId>>,
    /// Nickname group of each word.
    term_group: Vec<Option<usize>>,
    birth: HashMap<u32, Vec<u32>>,
    birth_year: HashMap<u16, Vec<u32>>,
    identifier: HashMap<String, Vec<u32>>,
    phone: HashMap<String, Vec<u32>>,
    postcode: HashMap<String, Vec<u32>>,
}

impl std::fmt::Debug for PatientIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientIndex")
            .field("patients", &self.len())
            .field("words", &self.term_text.len())
            .finish()
    }
}

fn hash_bytes(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The word and its one-letter deletions, hashed.
fn deletion_keys(word: &str) -> Vec<u64> {
    let b = word.as_bytes();
    let mut keys = Vec::with_capacity(b.len() + 1);
    keys.push(hash_bytes(&[b]));
    for i in 0..b.len() {
        keys.push(hash_bytes(&[&b[..i], &b[i + 1..]]));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Shortest word that gets typo tolerance (shorter words have too many neighbours).
const MIN_TYPO_LEN: usize = 4;

fn remove_from(map_list: Option<&mut Vec<u32>>, slot: u32) {
    if let Some(list) = map_list
        && let Some(pos) = list.iter().position(|&s| s == slot)
    {
        list.swap_remove(pos);
    }
}

impl PatientIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of patients indexed.
    pub fn len(&self) -> usize {
        self.by_patient.len()
    }

    /// Whether no patient is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_patient.is_empty()
    }

    fn term(&mut self, word: &str) -> TermId {
        if let Some(&id) = self.term_ids.get(word) {
            return id;
        }
        let id = self.term_text.len() as TermId;
        self.term_ids.insert(word.to_owned(), id);
        self.term_text.push(word.to_owned());
        self.term_postings.push(Vec::new());
        self.sorted_terms.insert(word.to_owned(), id);
        if word.len() >= MIN_TYPO_LEN {
            for k in deletion_keys(word) {
                self.deletions.entry(k).or_default().push(id);
            }
        }
        let group = nickname_group(word);
        if let Some(g) = group {
            self.nicknames.entry(g).or_default().push(id);
        }
        self.term_group.push(group);
        id
    }

    /// Adds or replaces the record of `patient`.
    pub fn upsert(&mut self, patient: PatientId, record: &MatchRecord) {
        self.remove(patient);
        let mut terms: Vec<TermId> = Vec::new();
        for name in [record.given_name().expose(), record.family_name().expose()] {
            for w in name.split(' ').filter(|w| !w.is_empty()) {
                terms.push(self.term(w));
            }
        }
        terms.sort_unstable();
        terms.dedup();
        terms.truncate(MAX_NAME_WORDS);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.docs.push(None);
                (self.docs.len() - 1) as u32
            }
        };
        for &t in &terms {
            self.term_postings[t as usize].push(slot);
        }
        let birth = *record.birth().expose();
        if birth.day().is_some() {
            self.birth.entry(birth.key()).or_default().push(slot);
        }
        if let Some(y) = birth.year() {
            self.birth_year.entry(y).or_default().push(slot);
        }
        let identifiers: Vec<String> = record
            .identifiers()
            .iter()
            .map(|i| i.value.expose().clone())
            .collect();
        for v in &identifiers {
            self.identifier.entry(v.clone()).or_default().push(slot);
        }
        let phone = record.phone_value().expose().clone();
        if !phone.is_empty() {
            self.phone.entry(phone.clone()).or_default().push(slot);
        }
        let postcode = record.postcode_value().expose().clone();
        if !postcode.is_empty() {
            self.postcode
                .entry(postcode.clone())
                .or_default()
                .push(slot);
        }
        let mut inline = [NO_TERM; MAX_NAME_WORDS];
        inline[..terms.len()].copy_from_slice(&terms);
        self.docs[slot as usize] = Some(Doc {
            patient,
            terms: inline,
            birth,
            identifiers,
            phone,
            postcode,
        });
        self.by_patient.insert(patient, slot);
    }

    /// Removes `patient`; returns whether it was indexed.
    pub fn remove(&mut self, patient: PatientId) -> bool {
        let Some(slot) = self.by_patient.remove(&patient) else {
            return false;
        };
        if let Some(doc) = self.docs[slot as usize].take() {
            for t in doc.terms.into_iter().filter(|&t| t != NO_TERM) {
                remove_from(self.term_postings.get_mut(t as usize), slot);
            }
            if doc.birth.day().is_some() {
                remove_from(self.birth.get_mut(&doc.birth.key()), slot);
            }
            if let Some(y) = doc.birth.year() {
                remove_from(self.birth_year.get_mut(&y), slot);
            }
            for v in &doc.identifiers {
                remove_from(self.identifier.get_mut(v), slot);
            }
            remove_from(self.phone.get_mut(&doc.phone), slot);
            remove_from(self.postcode.get_mut(&doc.postcode), slot);
        }
        self.free.push(slot);
        true
    }

    /// The dictionary words a query word matches, with how, and whether the list is complete
    /// (a short prefix can match more than [`MAX_PREFIX_TERMS`] words; then only the first are
    /// listed).
    fn expand(&self, word: &str) -> (Vec<(TermId, WordMatch)>, bool) {
        let mut out: Vec<(TermId, WordMatch)> = Vec::new();
        if let Some(&id) = self.term_ids.get(word) {
            out.push((id, WordMatch::Exact));
        }
        if let Some(g) = nickname_group(word)
            && let Some(ids) = self.nicknames.get(&g)
        {
            out.extend(ids.iter().map(|&id| (id, WordMatch::Nickname)));
        }
        // Stop one past the cap: an incomplete list only drives a query when nothing else can,
        // and walking a long range for a one-letter prefix would cost more than the search.
        let mut prefixed: Vec<TermId> = self
            .sorted_terms
            .range::<str, _>((std::ops::Bound::Included(word), std::ops::Bound::Unbounded))
            .take_while(|(t, _)| t.starts_with(word))
            .take(MAX_PREFIX_TERMS + 1)
            .map(|(_, &id)| id)
            .collect();
        let complete = prefixed.len() <= MAX_PREFIX_TERMS;
        prefixed.truncate(MAX_PREFIX_TERMS);
        out.extend(prefixed.into_iter().map(|id| (id, WordMatch::Prefix)));
        if word.len() >= MIN_TYPO_LEN {
            for k in deletion_keys(word) {
                for &id in self.deletions.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
                    let text = &self.term_text[id as usize];
                    if bounded_edit_distance(word.as_bytes(), text.as_bytes(), 1).is_some() {
                        out.push((id, WordMatch::Typo));
                    }
                }
            }
        }
        // Keep the best way each word matched.
        out.sort_unstable();
        out.dedup_by_key(|(id, _)| *id);
        (out, complete)
    }

    /// How a stored word matches a query word, checked directly (no dictionary expansion).
    fn word_match(&self, term: TermId, word: &str, word_group: Option<usize>) -> Option<WordMatch> {
        let text = self.term_text.get(term as usize)?;
        if text == word {
            Some(WordMatch::Exact)
        } else if word_group.is_some() && self.term_group.get(term as usize) == Some(&word_group) {
            Some(WordMatch::Nickname)
        } else if text.starts_with(word) {
            Some(WordMatch::Prefix)
        } else if word.len() >= MIN_TYPO_LEN
            && text.len() >= MIN_TYPO_LEN
            && bounded_edit_distance(word.as_bytes(), text.as_bytes(), 1).is_some()
        {
            Some(WordMatch::Typo)
        } else {
            None
        }
    }

    /// Runs a query: the records matching every criterion, best first, at most the query's
    /// limit. Ties are broken by insertion order, so results are reproducible.
    pub fn search(&self, query: &PatientQuery) -> Vec<SearchHit> {
        self.search_detailed(query).0
    }

    /// Like [`search`](Self::search), also telling whether the candidate cap
    /// ([`MAX_CANDIDATES`]) cut the search short.
    // Not split: one pass that scores, ranks and cuts candidates under the shared limits.
    pub fn search_detailed(&self, query: &PatientQuery) -> (Vec<SearchHit>, bool) {
        if query.is_empty() {
            return (Vec::new(), false);
        }
        let words = query.words.expose();
        let expansions: Vec<(Vec<(TermId, WordMatch)>, bool)> =
            words.iter().map(|w| self.expand(w)).collect();
        if expansions.iter().any(|(e, _)| e.is_empty()) {
            return (Vec::new(), false);
        }
        // Pick the most selective criterion to drive the search; an incomplete prefix
        // expansion drives only when nothing else can.
        let empty: Vec<u32> = Vec::new();
        let mut drivers: Vec<(Vec<&Vec<u32>>, bool)> = Vec::new();
        if let Some(v) = &query.identifier {
            drivers.push((
                vec![self.identifier.get(v.expose()).unwrap_or(&empty)],
                true,
            ));
        }
        if let Some(v) = &query.phone {
            drivers.push((vec![self.phone.get(v.expose()).unwrap_or(&empty)], true));
        }
        if let Some(b) = &query.birth {
            let b = b.expose();
            let list = if b.day().is_some() {
                self.birth.get(&b.key()).unwrap_or(&empty)
            } else {
                b.year()
                    .and_then(|y| self.birth_year.get(&y))
                    .unwrap_or(&empty)
            };
            drivers.push((vec![list], true));
        }
        if let Some(v) = &query.postcode {
            drivers.push((vec![self.postcode.get(v.expose()).unwrap_or(&empty)], true));
        }
        for (e, complete) in &expansions {
            let lists = e
                .iter()
                .map(|(id, _)| &self.term_postings[*id as usize])
                .collect();
            drivers.push((lists, *complete));
        }
        let size = |d: &Vec<&Vec<u32>>| d.iter().map(|p| p.len()).sum::<usize>();
        let Some((driver, complete)) = drivers
            .iter()
            .min_by_key(|(d, complete)| (!complete, size(d)))
        else {
            return (Vec::new(), false);
        };
        let truncated = !complete || size(driver) > MAX_CANDIDATES;
        let mut candidates: Vec<u32> = driver
            .iter()
            .flat_map(|p| p.iter().copied())
            .take(MAX_CANDIDATES)
            .collect();
        if driver.len() > 1 {
            candidates.sort_unstable();
            candidates.dedup();
        }
        let groups: Vec<Option<usize>> = words.iter().map(|w| nickname_group(w)).collect();
        let mut hits: Vec<(u32, u32)> = Vec::new();
        'candidates: for slot in candidates {
            let Some(doc) = &self.docs[slot as usize] else {
                continue;
            };
            let mut score = 0u32;
            if let Some(v) = &query.identifier {
                if !doc.identifiers.iter().any(|i| i == v.expose()) {
                    continue;
                }
                score += 20;
            }
            if let Some(v) = &query.phone {
                if doc.phone != *v.expose() {
                    continue;
                }
                score += 10;
            }
            if let Some(v) = &query.postcode {
                if doc.postcode != *v.expose() {
                    continue;
                }
                score += 3;
            }
            if let Some(b) = &query.birth {
                let b = b.expose();
                let ok = doc.birth.year() == b.year()
                    && (b.month().is_none() || doc.birth.month() == b.month())
                    && (b.day().is_none() || doc.birth.day() == b.day());
                if !ok {
                    continue;
                }
                score += 10;
            }
            for ((word, group), (expansion, complete)) in words.iter().zip(&groups).zip(&expansions)
            {
                let live = doc.terms.iter().copied().filter(|&t| t != NO_TERM);
                // A complete expansion answers from its sorted list without touching the words'
                // text; an incomplete one checks the text.
                let best = if *complete {
                    live.filter_map(|t| {
                        expansion
                            .binary_search_by_key(&t, |e| e.0)
                            .ok()
                            .map(|i| expansion[i].1)
                    })
                    .min()
                } else {
                    live.filter_map(|t| self.word_match(t, word, *group)).min()
                };
                match best {
                    Some(m) => score += m.points(),
                    None => continue 'candidates,
                }
            }
            hits.push((score, slot));
        }
        let limit = query.limit.max(1);
        let order = |a: &(u32, u32), b: &(u32, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if hits.len() > limit {
            hits.select_nth_unstable_by(limit - 1, order);
            hits.truncate(limit);
        }
        hits.sort_unstable_by(order);
        let results = hits
            .into_iter()
            .filter_map(|(score, slot)| {
                let doc = self.docs[slot as usize].as_ref()?;
                Some(SearchHit {
                    patient: doc.patient,
                    score,
                })
            })
            .collect();
        (results, truncated)
    }
}
