//! Blocking: cheap keys that put likely matches in the same block, so that only pairs sharing
//! at least one key are compared. Several keys are used and their candidate sets unioned, so a
//! pair is lost only when every key disagrees.

use super::record::Prepared;
use serde::{Deserialize, Serialize};

/// A blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingKey {
    /// Same identifier value in the same system.
    Identifier,
    /// Same birth date (as recorded).
    BirthDate,
    /// Same phonetic codes of given and family name, in either order (survives a swap).
    NamesPhonetic,
    /// Same phonetic family name and birth year.
    FamilyPhoneticBirthYear,
    /// Same phonetic given name and postcode.
    GivenPhoneticPostcode,
    /// Same postcode and house number.
    PostcodeHouseNumber,
    /// Same locality and family-name initial.
    LocalityFamilyInitial,
    /// Same phone number.
    Phone,
}

impl BlockingKey {
    /// The keys the matcher uses unless configured otherwise.
    pub const DEFAULT: [BlockingKey; 8] = [
        BlockingKey::Identifier,
        BlockingKey::BirthDate,
        BlockingKey::NamesPhonetic,
        BlockingKey::FamilyPhoneticBirthYear,
        BlockingKey::GivenPhoneticPostcode,
        BlockingKey::PostcodeHouseNumber,
        BlockingKey::LocalityFamilyInitial,
        BlockingKey::Phone,
    ];
}

/// FNV-1a, 64-bit: a fixed, fast hash so that block keys are reproducible across runs.
struct Fnv(u64);

impl Fnv {
    fn new(tag: u8) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.byte(tag);
        h
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn bytes(&mut self, bs: &[u8]) -> &mut Self {
        for &b in bs {
            self.byte(b);
        }
        // A separator so that ("ab","c") and ("a","bc") differ.
        self.byte(0xff);
        self
    }
}

/// Appends the hashed keys of `record` for `key` to `out` (none when a needed field is missing).
pub(crate) fn keys_of(record: &Prepared, key: BlockingKey, out: &mut Vec<u64>) {
    let tag = key as u8;
    match key {
        BlockingKey::Identifier => {
            for (system, value) in &record.identifiers {
                out.push(
                    Fnv::new(tag)
                        .bytes(system.as_bytes())
                        .bytes(value.as_bytes())
                        .0,
                );
            }
        }
        BlockingKey::BirthDate => {
            if record.birth.day().is_some() {
                out.push(Fnv::new(tag).bytes(&record.birth.key().to_le_bytes()).0);
            }
        }
        BlockingKey::NamesPhonetic => {
            if let (Some(g), Some(f)) = (record.given_code, record.family_code) {
                let (lo, hi) = if g <= f { (g, f) } else { (f, g) };
                out.push(Fnv::new(tag).bytes(&lo).bytes(&hi).0);
            }
        }
        BlockingKey::FamilyPhoneticBirthYear => {
            if let (Some(f), Some(y)) = (record.family_code, record.birth.year()) {
                out.push(Fnv::new(tag).bytes(&f).bytes(&y.to_le_bytes()).0);
            }
        }
        BlockingKey::GivenPhoneticPostcode => {
            if let Some(g) = record.given_code
                && !record.postcode.is_empty()
            {
                out.push(Fnv::new(tag).bytes(&g).bytes(record.postcode.as_bytes()).0);
            }
        }
        BlockingKey::PostcodeHouseNumber => {
            if !record.postcode.is_empty() && !record.house_number.is_empty() {
                out.push(
                    Fnv::new(tag)
                        .bytes(record.postcode.as_bytes())
                        .bytes(record.house_number.as_bytes())
                        .0,
                );
            }
        }
        BlockingKey::LocalityFamilyInitial => {
            if let Some(&initial) = record.family.as_bytes().first()
                && !record.locality.is_empty()
            {
                out.push(
                    Fnv::new(tag)
                        .bytes(record.locality.as_bytes())
                        .bytes(&[initial])
                        .0,
                );
            }
        }
        BlockingKey::Phone => {
            if record.phone.len() >= 6 {
                out.push(Fnv::new(tag).bytes(record.phone.as_bytes()).0);
            }
        }
    }
}

/// All keys of `record` for the configured key kinds.
pub(crate) fn all_keys(record: &Prepared, keys: &[BlockingKey]) -> Vec<u64> {
    let mut out = Vec::with_capacity(keys.len() + 2);
    for &k in keys {
        keys_of(record, k, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}
