//! A deterministic synthetic population with known duplicates, for tests, demos and benchmarks.
//!
//! Names are built from syllables so that a million people share realistic amounts of names;
//! duplicates are corrupted copies (typos, nicknames, swapped names, transposed or partial birth
//! dates, missing fields, changed phone numbers), as registration desks produce them.

use super::record::{BirthDate, MatchRecord, Sex};
use bedside_core::SeededRng;

const GIVEN: &[&str] = &[
    "margaret",
    "william",
    "robert",
    "elizabeth",
    "james",
    "john",
    "michael",
    "thomas",
    "joseph",
    "charles",
    "daniel",
    "matthew",
    "anthony",
    "andrew",
    "edward",
    "alexander",
    "benjamin",
    "samuel",
    "nicholas",
    "patrick",
    "patricia",
    "stephen",
    "timothy",
    "jennifer",
    "rebecca",
    "susan",
    "deborah",
    "victoria",
    "dorothy",
    "gregory",
    "henry",
    "jacob",
    "joshua",
    "ronald",
    "kenneth",
    "peter",
    "raymond",
    "abigail",
    "amanda",
    "barbara",
    "caroline",
    "eleanor",
    "helen",
    "jessica",
    "judith",
    "mary",
    "natalie",
    "olivia",
    "pamela",
    "sarah",
    "isabella",
    "chloe",
    "emily",
    "grace",
    "hannah",
    "zoe",
    "lachlan",
    "mia",
    "noah",
    "oscar",
    "ruby",
    "aiden",
    "layla",
    "mason",
    "sienna",
    "harper",
    "lucas",
    "amelia",
    "ethan",
    "ava",
];
const SYLLABLES: &[&str] = &[
    "ab", "al", "an", "ar", "ba", "ber", "bo", "bran", "ca", "car", "chen", "da", "del", "don",
    "el", "er", "fa", "fer", "gar", "ge", "gor", "ha", "har", "hol", "in", "ja", "kan", "ken",
    "la", "lan", "ley", "li", "lo", "ma", "mar", "mc", "mil", "mo", "na", "nel", "ni", "no", "or",
    "pa", "per", "ra", "ren", "ri", "ro", "sa", "san", "sel", "son", "ta", "ter", "ton", "va",
    "ver", "wa", "wil", "win", "ya", "zan", "zi",
];
const ENDINGS: &[&str] = &[
    "", "s", "son", "ton", "ley", "er", "man", "ford", "well", "wood",
];
const STREETS: &[&str] = &[
    "street", "road", "avenue", "place", "circuit", "crescent", "lane",
];

/// One synthetic person record and the entity (true person) it belongs to.
#[derive(Debug, Clone)]
pub struct SyntheticPerson {
    /// The true person; duplicates share it with their original.
    pub entity: u32,
    /// The record as registered.
    pub record: MatchRecord,
    /// The raw fields, for building search queries in tests and benches.
    pub fields: SyntheticFields,
}

/// The fields a synthetic record was built from (before normalisation).
#[derive(Clone, Default)]
pub struct SyntheticFields {
    /// Given name.
    pub given: String,
    /// Family name.
    pub family: String,
    /// Birth date.
    pub birth: BirthDate,
    /// Postcode.
    pub postcode: String,
    /// Phone digits.
    pub phone: String,
    /// Medical record number.
    pub mrn: String,
}

impl std::fmt::Debug for SyntheticFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyntheticFields(<redacted>)")
    }
}

fn pick<'a>(rng: &mut SeededRng, items: &[&'a str]) -> &'a str {
    items[rng.index(items.len())]
}

/// A skewed pick: low indices are much more common, as with real names.
fn pick_skewed<'a>(rng: &mut SeededRng, items: &[&'a str]) -> &'a str {
    let r = rng.next_f64();
    items[((r * r) * items.len() as f64) as usize % items.len()]
}

fn family_name(rng: &mut SeededRng) -> String {
    let mut name = String::new();
    name.push_str(pick(rng, SYLLABLES));
    name.push_str(pick(rng, SYLLABLES));
    if rng.below(3) == 0 {
        name.push_str(pick(rng, SYLLABLES));
    }
    name.push_str(pick_skewed(rng, ENDINGS));
    name
}

fn given_name(rng: &mut SeededRng) -> String {
    if rng.below(4) == 0 {
        let mut name = String::new();
        name.push_str(pick(rng, SYLLABLES));
        name.push_str(pick(rng, SYLLABLES));
        name.push_str(pick(rng, &["a", "e", "o", "y", "en", "ie"]));
        name
    } else {
        pick_skewed(rng, GIVEN).to_owned()
    }
}

fn typo(rng: &mut SeededRng, s: &str) -> String {
    let mut b: Vec<u8> = s.bytes().collect();
    if b.len() < 3 {
        return s.to_owned();
    }
    let i = 1 + rng.index(b.len() - 2);
    match rng.below(3) {
        0 => b.swap(i, i + 1),
        1 => {
            b.remove(i);
        }
        _ => b[i] = b'a' + rng.below(26) as u8,
    }
    String::from_utf8(b).unwrap_or_else(|_| s.to_owned())
}

const NICKNAMES: &[(&str, &str)] = &[
    ("margaret", "peggy"),
    ("william", "bill"),
    ("robert", "bob"),
    ("elizabeth", "liz"),
    ("james", "jim"),
    ("michael", "mike"),
    ("thomas", "tom"),
    ("joseph", "joe"),
    ("daniel", "dan"),
    ("patricia", "trish"),
];

/// Builds a population of `originals` people plus about `duplicate_rate * originals`
/// corrupted duplicates, deterministically from `seed`. Duplicates follow their original.
pub fn population(seed: u64, originals: usize, duplicate_rate: f64) -> Vec<SyntheticPerson> {
    let mut rng = SeededRng::new(seed);
    let mut out = Vec::with_capacity(originals + (originals as f64 * duplicate_rate) as usize);
    for entity in 0..originals {
        let sex = if rng.below(2) == 0 {
            Sex::Female
        } else {
            Sex::Male
        };
        let fields = SyntheticFields {
            given: given_name(&mut rng),
            family: family_name(&mut rng),
            birth: BirthDate::from_parts(
                1930 + rng.below(90) as u16,
                1 + rng.below(12) as u8,
                1 + rng.below(28) as u8,
            ),
            postcode: format!("{}", 2000 + rng.below(6000)),
            phone: format!("04{:08}", rng.below(100_000_000)),
            mrn: format!("{:08}", entity as u64 * 7919 % 100_000_000 + 10_000_000),
        };
        let street = format!("{} {}", family_name(&mut rng), pick(&mut rng, STREETS));
        let house = format!("{}", 1 + rng.below(200));
        let locality = family_name(&mut rng);
        let build = |f: &SyntheticFields, street: &str, house: &str| {
            MatchRecord::new()
                .given(&f.given)
                .family(&f.family)
                .birth_date(f.birth)
                .sex(sex)
                .house_number(house)
                .address_line(street)
                .locality(&locality)
                .postcode(&f.postcode)
                .phone(&f.phone)
                .identifier("mrn", &f.mrn)
        };
        out.push(SyntheticPerson {
            entity: entity as u32,
            record: build(&fields, &street, &house),
            fields: fields.clone(),
        });
        let mut dups = 0;
        while rng.next_f64() < duplicate_rate && dups < 3 {
            dups += 1;
            let mut f = fields.clone();
            let mut street = street.clone();
            let mut house = house.clone();
            // Two or three corruptions per duplicate.
            for _ in 0..2 + rng.below(2) {
                match rng.below(10) {
                    0 => f.given = typo(&mut rng, &f.given),
                    1 => f.family = typo(&mut rng, &f.family),
                    2 => {
                        if let Some((_, nick)) = NICKNAMES.iter().find(|(n, _)| *n == f.given) {
                            f.given = (*nick).to_owned();
                        }
                    }
                    3 => std::mem::swap(&mut f.given, &mut f.family),
                    4 => {
                        if let (Some(y), Some(m), Some(d)) =
                            (f.birth.year(), f.birth.month(), f.birth.day())
                            && d <= 12
                        {
                            f.birth = BirthDate::from_parts(y, d, m);
                        }
                    }
                    5 => {
                        f.birth = BirthDate::from_parts(
                            f.birth.year().unwrap_or(0),
                            f.birth.month().unwrap_or(0),
                            0,
                        )
                    }
                    6 => f.phone = format!("04{:08}", rng.below(100_000_000)),
                    7 => f.postcode = typo(&mut rng, &f.postcode),
                    8 => street = typo(&mut rng, &street),
                    _ => house = String::new(),
                }
            }
            out.push(SyntheticPerson {
                entity: entity as u32,
                record: build(&f, &street, &house),
                fields: f,
            });
        }
    }
    out
}
