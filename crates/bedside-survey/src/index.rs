//! A definition flattened for fast lookups: every item and matrix row in pre-order with its
//! parent, path, compiled pattern and score range. Validation, scoring and analytics share it.

use crate::definition::{Item, ItemKind, MatrixRow, SurveyDefinition};
use crate::response::AnswerValue;
use regex::Regex;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (as used in rustc): much faster than SipHash on short keys such as item ids.
/// Keys here come from definitions and responses, not from an adversary choosing collisions
/// against a long-running table, so DoS resistance is not needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A hash map with [`FxHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One item or matrix row.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// The id answers are given under.
    pub id: &'a str,
    /// The item, or for a matrix row the matrix.
    pub item: &'a Item,
    /// The row, for a matrix row.
    pub row: Option<&'a MatrixRow>,
    /// Index of the parent entry.
    pub parent: Option<usize>,
    /// Position in the definition (`items[1].items[0]`, `items[2].rows[1]`).
    pub path: String,
    /// The compiled text pattern (anchored), if any and valid.
    pub pattern: Option<Regex>,
    /// The lowest and highest possible score, when the entry is numeric with known bounds.
    pub range: Option<(f64, f64)>,
}

impl Entry<'_> {
    /// Whether answers are expected here (not a group, display or matrix container).
    pub fn is_question(&self) -> bool {
        self.row.is_some() || self.item.is_question()
    }

    /// Whether an answer is required while enabled.
    pub fn required(&self) -> bool {
        match self.row {
            Some(r) => r.required,
            None => self.item.required,
        }
    }

    /// Whether several answers are allowed.
    pub fn repeats(&self) -> bool {
        self.row.is_none()
            && (self.item.repeats || matches!(self.item.kind, ItemKind::MultipleChoice { .. }))
    }

    /// Whether the entry is reverse-scored by its own definition.
    pub fn reverse(&self) -> bool {
        match (self.row, &self.item.kind) {
            (Some(r), _) => r.reverse,
            (None, ItemKind::Likert { reverse, .. }) => *reverse,
            _ => false,
        }
    }

    /// Whether the entry can produce a numeric score.
    pub fn is_numeric(&self) -> bool {
        match &self.item.kind {
            ItemKind::Likert { .. } | ItemKind::LikertMatrix { .. } => true,
            ItemKind::SingleChoice { options, .. } | ItemKind::MultipleChoice { options, .. } => {
                !options.is_empty() && options.iter().all(|o| o.score.is_some())
            }
            ItemKind::Boolean
            | ItemKind::Integer { .. }
            | ItemKind::Decimal { .. }
            | ItemKind::Nps
            | ItemKind::StarRating { .. } => self.is_question(),
            _ => false,
        }
    }

    /// The raw (not reversed) score of one answer, when it has one.
    pub fn score_of(&self, value: &AnswerValue) -> Option<f64> {
        match (&self.item.kind, value) {
            (ItemKind::Boolean, AnswerValue::Boolean(b)) => Some(if *b { 1.0 } else { 0.0 }),
            (
                ItemKind::Integer { .. }
                | ItemKind::Decimal { .. }
                | ItemKind::Nps
                | ItemKind::StarRating { .. },
                v,
            ) => v.as_number(),
            (kind, v) => kind.options()?.iter().find(|o| o.matches(v))?.score,
        }
    }
}

/// The flattened definition.
#[derive(Debug)]
pub(crate) struct Index<'a> {
    pub definition: &'a SurveyDefinition,
    pub entries: Vec<Entry<'a>>,
    pub by_id: FastMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    /// Flattens `definition`. Duplicate ids keep their first occurrence in `by_id`.
    pub fn new(definition: &'a SurveyDefinition) -> Self {
        let mut index = Index {
            definition,
            entries: Vec::new(),
            by_id: FastMap::default(),
        };
        index.add(&definition.items, None, "");
        index
    }

    fn add(&mut self, items: &'a [Item], parent: Option<usize>, prefix: &str) {
        for (i, item) in items.iter().enumerate() {
            let path = if prefix.is_empty() {
                format!("items[{i}]")
            } else {
                format!("{prefix}.items[{i}]")
            };
            let me = self.push(Entry {
                id: &item.id,
                item,
                row: None,
                parent,
                pattern: compile_pattern(&item.kind),
                range: range_of(&item.kind),
                path: path.clone(),
            });
            if let ItemKind::LikertMatrix { rows, .. } = &item.kind {
                for (r, row) in rows.iter().enumerate() {
                    self.push(Entry {
                        id: &row.id,
                        item,
                        row: Some(row),
                        parent: Some(me),
                        pattern: None,
                        range: range_of(&item.kind),
                        path: format!("{path}.rows[{r}]"),
                    });
                }
            }
            self.add(&item.items, Some(me), &path);
        }
    }

    fn push(&mut self, entry: Entry<'a>) -> usize {
        let i = self.entries.len();
        self.by_id.entry(entry.id).or_insert(i);
        self.entries.push(entry);
        i
    }

    /// The entry index for `id`, trying `hint` first: responses usually list items in
    /// definition order, so the next entry is a cheap first guess.
    #[inline]
    pub fn find_hinted(&self, id: &str, hint: usize) -> Option<usize> {
        match self.entries.get(hint) {
            // With duplicate ids (a definition problem) the hint may differ from the first
            // occurrence `by_id` would give; both are entries with that id.
            Some(e) if e.id == id => Some(hint),
            _ => self.by_id.get(id).copied(),
        }
    }

    /// The entry for `id`.
    pub fn get(&self, id: &str) -> Option<(usize, &Entry<'a>)> {
        let i = *self.by_id.get(id)?;
        Some((i, &self.entries[i]))
    }

    /// Whether `ancestor` is `entry` or one of its ancestors.
    pub fn is_ancestor_or_self(&self, ancestor: usize, mut entry: usize) -> bool {
        loop {
            if entry == ancestor {
                return true;
            }
            match self.entries[entry].parent {
                Some(p) => entry = p,
                None => return false,
            }
        }
    }
}

fn compile_pattern(kind: &ItemKind) -> Option<Regex> {
    match kind {
        ItemKind::ShortText {
            pattern: Some(p), ..
        }
        | ItemKind::LongText {
            pattern: Some(p), ..
        } => Regex::new(&format!("^(?:{p})$")).ok(),
        _ => None,
    }
}

fn range_of(kind: &ItemKind) -> Option<(f64, f64)> {
    match kind {
        ItemKind::Nps => Some((0.0, 10.0)),
        ItemKind::StarRating { max } => Some((1.0, f64::from(*max))),
        ItemKind::Boolean => Some((0.0, 1.0)),
        ItemKind::Integer {
            min: Some(a),
            max: Some(b),
            ..
        } => Some((*a as f64, *b as f64)),
        ItemKind::Decimal {
            min: Some(a),
            max: Some(b),
            ..
        } => Some((*a, *b)),
        k => {
            let scores: Vec<f64> = k.options()?.iter().filter_map(|o| o.score).collect();
            if scores.is_empty() {
                return None;
            }
            let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Some((lo, hi))
        }
    }
}
