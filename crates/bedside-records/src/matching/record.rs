//! [`MatchRecord`]: the normalised person fields the matcher compares, and [`BirthDate`].

use super::compare::soundex;
use bedside_core::{PartialDate, Sensitive};
use chrono::Datelike;
use serde::{Deserialize, Serialize};

/// Longest text kept from one field, in bytes; longer input is truncated (a limit on growth).
pub const MAX_FIELD_BYTES: usize = 128;

/// Lowercases `text`, folds common Latin accents to ASCII, turns punctuation into spaces and
/// collapses runs of spaces. Apostrophes and hyphens inside names are removed (`o'brien` →
/// `obrien`), so that their presence or absence does not count as a difference.
pub fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_FIELD_BYTES));
    let mut pending_space = false;
    for ch in text.chars() {
        if out.len() >= MAX_FIELD_BYTES {
            break;
        }
        let folded = fold(ch);
        match folded {
            Some(c) if c.is_ascii_alphanumeric() => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c.to_ascii_lowercase());
            }
            Some('\'') | Some('’') | Some('-') => {}
            _ => pending_space = true,
        }
    }
    out
}

/// Keeps only the ASCII digits of `text` (phone numbers, postcodes), up to [`MAX_FIELD_BYTES`].
pub fn digits_only(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_digit)
        .take(MAX_FIELD_BYTES)
        .collect()
}

fn fold(ch: char) -> Option<char> {
    if ch.is_ascii() {
        return Some(ch);
    }
    let c = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => 's',
        '’' => '\'',
        _ => return None,
    };
    Some(c)
}

/// A birth date as recorded, possibly partial or not a real calendar date.
///
/// Registration data holds dates such as `1956-02-31` (a typo) or only a year; the matcher still
/// compares their parts, so the date is kept as year, month and day numbers rather than a
/// validated calendar date. Zero means unknown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BirthDate {
    year: u16,
    month: u8,
    day: u8,
}

impl std::fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A birth date is PHI: show only how much of it is known.
        f.write_str(match (self.year, self.month, self.day) {
            (0, _, _) => "BirthDate(unknown)",
            (_, 0, _) => "BirthDate(year)",
            (_, _, 0) => "BirthDate(year-month)",
            _ => "BirthDate(full)",
        })
    }
}

impl BirthDate {
    /// An unknown birth date.
    pub const UNKNOWN: BirthDate = BirthDate {
        year: 0,
        month: 0,
        day: 0,
    };

    /// Builds a date from parts; zero marks a part as unknown. Month and day are kept even when
    /// they do not form a real date (month 13, 31 February), because typos are still evidence.
    /// A month above 99 or a day above 99 is treated as unknown.
    pub fn from_parts(year: u16, month: u8, day: u8) -> Self {
        let year = if year > 9999 { 0 } else { year };
        let month = if year == 0 || month > 99 { 0 } else { month };
        let day = if month == 0 || day > 99 { 0 } else { day };
        BirthDate { year, month, day }
    }

    /// Parses `YYYYMMDD`, `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (other separators `/` and `.`
    /// allowed). Anything else gives [`BirthDate::UNKNOWN`]: matching treats an unreadable date
    /// as missing evidence rather than failing.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
        let all_digits = text.bytes().all(|b| b.is_ascii_digit());
        let num = |s: &[u8]| -> u16 {
            s.iter().fold(0u16, |acc, d| {
                acc.saturating_mul(10).saturating_add(u16::from(d - b'0'))
            })
        };
        if all_digits {
            return match digits.len() {
                8 => Self::from_parts(
                    num(&digits[0..4]),
                    num(&digits[4..6]) as u8,
                    num(&digits[6..8]) as u8,
                ),
                6 => Self::from_parts(num(&digits[0..4]), num(&digits[4..6]) as u8, 0),
                4 => Self::from_parts(num(&digits[0..4]), 0, 0),
                _ => Self::UNKNOWN,
            };
        }
        let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
        let valid = parts.len() <= 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
        if !valid || parts[0].len() != 4 {
            return Self::UNKNOWN;
        }
        let year = num(parts[0].as_bytes());
        let month = parts.get(1).map_or(0, |p| num(p.as_bytes()).min(255) as u8);
        let day = parts.get(2).map_or(0, |p| num(p.as_bytes()).min(255) as u8);
        Self::from_parts(year, month, day)
    }

    /// The year, when known.
    pub fn year(&self) -> Option<u16> {
        (self.year != 0).then_some(self.year)
    }

    /// The month number as recorded, when known.
    pub fn month(&self) -> Option<u8> {
        (self.month != 0).then_some(self.month)
    }

    /// The day number as recorded, when known.
    pub fn day(&self) -> Option<u8> {
        (self.day != 0).then_some(self.day)
    }

    /// Whether nothing of the date is known.
    pub fn is_unknown(&self) -> bool {
        self.year == 0
    }

    pub(crate) fn key(&self) -> u32 {
        u32::from(self.year) << 16 | u32::from(self.month) << 8 | u32::from(self.day)
    }
}

impl From<PartialDate> for BirthDate {
    fn from(date: PartialDate) -> Self {
        let year = u16::try_from(date.year()).unwrap_or(0);
        let month = date.month().map_or(0, |m| m as u8);
        let day = date.day().map_or(0, |d| d as u8);
        Self::from_parts(year, month, day)
    }
}

impl From<chrono::NaiveDate> for BirthDate {
    fn from(date: chrono::NaiveDate) -> Self {
        Self::from_parts(
            u16::try_from(date.year()).unwrap_or(0),
            date.month() as u8,
            date.day() as u8,
        )
    }
}

/// Administrative sex as recorded for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other.
    Other,
}

/// An identifier from a named system (a national health number, a social-security number, a
/// medical record number), normalised to lowercase letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MatchIdentifier {
    /// The issuing system, e.g. `ssn` or a URI.
    pub system: String,
    /// The value, normalised (spaces and punctuation removed).
    pub value: Sensitive<String>,
}

/// The person fields the matcher compares, normalised on the way in.
///
/// Build one with [`MatchRecord::new`] and the chained setters; every field is optional and an
/// empty field is *missing*, which the matcher treats as neither agreement nor disagreement.
///
/// ```
/// use bedside_records::matching::{BirthDate, MatchRecord};
/// let r = MatchRecord::new()
///     .given("  Peggy ")
///     .family("O'Brien")
///     .birth_date(BirthDate::parse("1970-03-14"))
///     .postcode("2 6 0 0");
/// assert_eq!(r.family_name().expose(), "obrien");
/// assert_eq!(r.postcode_value().expose(), "2600");
/// // PHI never appears in debug output.
/// assert!(!format!("{r:?}").contains("obrien"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRecord {
    given: Sensitive<String>,
    family: Sensitive<String>,
    birth: Sensitive<BirthDate>,
    sex: Option<Sex>,
    house_number: Sensitive<String>,
    address: Sensitive<Vec<String>>,
    locality: Sensitive<String>,
    postcode: Sensitive<String>,
    region: Sensitive<String>,
    phone: Sensitive<String>,
    identifiers: Vec<MatchIdentifier>,
}

impl MatchRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the given name (first given name when several; further names are kept as written).
    pub fn given(mut self, name: &str) -> Self {
        self.given = Sensitive::new(normalise_text(name));
        self
    }

    /// Sets the family name.
    pub fn family(mut self, name: &str) -> Self {
        self.family = Sensitive::new(normalise_text(name));
        self
    }

    /// Sets the birth date.
    pub fn birth_date(mut self, date: BirthDate) -> Self {
        self.birth = Sensitive::new(date);
        self
    }

    /// Sets the administrative sex.
    pub fn sex(mut self, sex: Sex) -> Self {
        self.sex = Some(sex);
        self
    }

    /// Sets the house or street number.
    pub fn house_number(mut self, number: &str) -> Self {
        self.house_number = Sensitive::new(normalise_text(number).replace(' ', ""));
        self
    }

    /// Adds an address line (street, building, unit). Empty lines are ignored.
    pub fn address_line(mut self, line: &str) -> Self {
        let line = normalise_text(line);
        if !line.is_empty() && self.address.expose().len() < 8 {
            self.address.expose_mut().push(line);
        }
        self
    }

    /// Sets the locality (suburb, town or city).
    pub fn locality(mut self, locality: &str) -> Self {
        self.locality = Sensitive::new(normalise_text(locality));
        self
    }

    /// Sets the postcode; spaces and punctuation are removed.
    pub fn postcode(mut self, postcode: &str) -> Self {
        self.postcode = Sensitive::new(normalise_text(postcode).replace(' ', ""));
        self
    }

    /// Sets the region (state, province, county).
    pub fn region(mut self, region: &str) -> Self {
        self.region = Sensitive::new(normalise_text(region));
        self
    }

    /// Sets the phone number; only digits are kept.
    pub fn phone(mut self, phone: &str) -> Self {
        self.phone = Sensitive::new(digits_only(phone));
        self
    }

    /// Adds an identifier from `system`. Empty values are ignored; at most 8 are kept.
    pub fn identifier(mut self, system: &str, value: &str) -> Self {
        let value = normalise_text(value).replace(' ', "");
        if !value.is_empty() && self.identifiers.len() < 8 {
            self.identifiers.push(MatchIdentifier {
                system: system.trim().to_ascii_lowercase(),
                value: Sensitive::new(value),
            });
        }
        self
    }

    /// The normalised given name (empty when missing).
    pub fn given_name(&self) -> &Sensitive<String> {
        &self.given
    }

    /// The normalised family name (empty when missing).
    pub fn family_name(&self) -> &Sensitive<String> {
        &self.family
    }

    /// The birth date.
    pub fn birth(&self) -> &Sensitive<BirthDate> {
        &self.birth
    }

    /// The administrative sex, when recorded.
    pub fn sex_value(&self) -> Option<Sex> {
        self.sex
    }

    /// The normalised house number.
    pub fn house_number_value(&self) -> &Sensitive<String> {
        &self.house_number
    }

    /// The normalised address lines.
    pub fn address_lines(&self) -> &Sensitive<Vec<String>> {
        &self.address
    }

    /// The normalised locality.
    pub fn locality_value(&self) -> &Sensitive<String> {
        &self.locality
    }

    /// The normalised postcode.
    pub fn postcode_value(&self) -> &Sensitive<String> {
        &self.postcode
    }

    /// The normalised region.
    pub fn region_value(&self) -> &Sensitive<String> {
        &self.region
    }

    /// The phone digits.
    pub fn phone_value(&self) -> &Sensitive<String> {
        &self.phone
    }

    /// The identifiers.
    pub fn identifiers(&self) -> &[MatchIdentifier] {
        &self.identifiers
    }
}

/// A record with everything the comparators and blocking keys need computed once: phonetic
/// codes, nickname groups and address tokens.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub given: String,
    pub family: String,
    pub given_code: Option<[u8; 4]>,
    pub family_code: Option<[u8; 4]>,
    pub birth: BirthDate,
    pub sex: Option<Sex>,
    pub house_number: String,
    /// Address lines joined with spaces removed, for run-together typos (`pridhamstreet`).
    pub address_compact: String,
    /// Address tokens, sorted and deduplicated.
    pub address_tokens: Vec<String>,
    pub locality: String,
    pub postcode: String,
    pub region: String,
    pub phone: String,
    pub identifiers: Vec<(String, String)>,
}

impl Prepared {
    pub fn new(r: &MatchRecord) -> Self {
        let given = r.given.expose().clone();
        let family = r.family.expose().clone();
        let lines = r.address.expose();
        let mut address_tokens: Vec<String> = lines
            .iter()
            .flat_map(|l| l.split(' '))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        address_tokens.sort_unstable();
        address_tokens.dedup();
        let address_compact: String = lines.iter().flat_map(|l| l.split(' ')).collect();
        Prepared {
            given_code: soundex(given.as_bytes()),
            family_code: soundex(family.as_bytes()),
            given,
            family,
            birth: *r.birth.expose(),
            sex: r.sex,
            house_number: r.house_number.expose().clone(),
            address_compact,
            address_tokens,
            locality: r.locality.expose().clone(),
            postcode: r.postcode.expose().clone(),
            region: r.region.expose().clone(),
            phone: r.phone.expose().clone(),
            identifiers: r
                .identifiers
                .iter()
                .map(|i| (i.system.clone(), i.value.expose().clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_cases() {
        let cases = [
            ("  Peggy ", "peggy"),
            ("O'Brien", "obrien"),
            ("Smith-Jones", "smithjones"),
            ("José  María", "jose maria"),
            ("St. James", "st james"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_text(input), want, "{input}");
        }
        assert_eq!(digits_only("+61 (2) 5550-1234"), "61255501234");
    }

    #[test]
    fn birth_date_parsing() {
        let cases = [
            ("19560409", (Some(1956), Some(4), Some(9))),
            ("1956-04-09", (Some(1956), Some(4), Some(9))),
            ("19560231", (Some(1956), Some(2), Some(31))),
            ("1956-04", (Some(1956), Some(4), None)),
            ("1956", (Some(1956), None, None)),
            ("", (None, None, None)),
            ("abc", (None, None, None)),
            ("56-04-09", (None, None, None)),
        ];
        for (text, (y, m, d)) in cases {
            let b = BirthDate::parse(text);
            assert_eq!((b.year(), b.month(), b.day()), (y, m, d), "{text}");
        }
        assert_eq!(
            format!("{:?}", BirthDate::parse("19560409")),
            "BirthDate(full)"
        );
        let pd = PartialDate::year_month(1970, 3).map(BirthDate::from);
        assert_eq!(
            pd.map(|b| (b.year(), b.month(), b.day())).ok(),
            Some((Some(1970), Some(3), None))
        );
    }
}
