//! Validation of a [`Patient`]: every problem, each with its field path, never the first only,
//! and never a panic. Problems are errors (the registry refuses the record) or warnings (staff
//! should confirm). Messages name fields, never values.
//!
//! Checks: required fields; date sanity (birth not in the future nor before 1880, periods well
//! ordered, death not before birth); telecom normalisation (E.164 phone numbers, lowercase,
//! well-formed e-mail addresses); postal-code shape for countries whose format is known;
//! identifier check digits (NHS number modulus 11, NPI Luhn with the `80840` prefix, Medicare
//! MBI format); duplicate identifiers; at most one primary coverage in force at any time.
//! Warnings: no preferred contact route, expired coverage, no emergency contact.

use crate::model::*;
use bedside_core::{PartialDate, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// How serious a problem is: the workspace-wide [`bedside_core::IssueSeverity`]
/// ([`Warning`](IssueSeverity::Warning): staff should confirm, the record is still accepted;
/// [`Error`](IssueSeverity::Error): the record is refused).
pub use bedside_core::IssueSeverity;

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// A required element is absent or blank.
    Required,
    /// A date lies in the future.
    FutureDate,
    /// A birth date lies before 1880.
    ImplausiblyOld,
    /// A period ends before it starts.
    PeriodReversed,
    /// A death date lies before the birth date.
    DeathBeforeBirth,
    /// A phone number is not in E.164 form (`+` and 8–15 digits).
    PhoneNotE164,
    /// An e-mail address is not well formed.
    EmailSyntax,
    /// An e-mail address has uppercase letters (store it lowercased).
    EmailNotLowercase,
    /// A postal code does not have the country's shape.
    PostalCodeShape,
    /// An identifier's check digit is wrong or its format invalid for its scheme.
    IdentifierCheck,
    /// The same identifier (system and value) appears twice.
    DuplicateIdentifier,
    /// Two primary coverages are in force at the same time.
    OverlappingPrimaryCoverage,
    /// No route to contact the patient for appointment reminders.
    NoPreferredContactRoute,
    /// A coverage has ended.
    ExpiredCoverage,
    /// No emergency contact is recorded.
    NoEmergencyContact,
}

impl ProblemKind {
    /// A short description without values.
    pub fn describe(&self) -> &'static str {
        match self {
            ProblemKind::Required => "required element is missing",
            ProblemKind::FutureDate => "date is in the future",
            ProblemKind::ImplausiblyOld => "birth date is before 1880",
            ProblemKind::PeriodReversed => "period ends before it starts",
            ProblemKind::DeathBeforeBirth => "death is before birth",
            ProblemKind::PhoneNotE164 => "phone number is not in E.164 form",
            ProblemKind::EmailSyntax => "e-mail address is malformed",
            ProblemKind::EmailNotLowercase => "e-mail address is not lowercase",
            ProblemKind::PostalCodeShape => "postal code does not fit the country's format",
            ProblemKind::IdentifierCheck => "identifier fails its scheme's check",
            ProblemKind::DuplicateIdentifier => "identifier appears more than once",
            ProblemKind::OverlappingPrimaryCoverage => {
                "more than one primary coverage in force at once"
            }
            ProblemKind::NoPreferredContactRoute => "no preferred contact route",
            ProblemKind::ExpiredCoverage => "coverage has expired",
            ProblemKind::NoEmergencyContact => "no emergency contact",
        }
    }
}

/// One problem: severity, kind and the path of the offending field
/// (`patient.telecom[1].value`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: IssueSeverity,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where.
    pub path: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            IssueSeverity::Error => "error",
            IssueSeverity::Warning => "warning",
        };
        write!(f, "{level}: `{}`: {}", self.path, self.kind.describe())
    }
}

/// Every problem found in one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Problems in the order found.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether there are no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self
            .problems
            .iter()
            .any(|p| p.severity == IssueSeverity::Error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == IssueSeverity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == IssueSeverity::Warning)
    }

    fn error(&mut self, kind: ProblemKind, path: impl Into<String>) {
        self.problems.push(Problem {
            severity: IssueSeverity::Error,
            kind,
            path: path.into(),
        });
    }

    fn warn(&mut self, kind: ProblemKind, path: impl Into<String>) {
        self.problems.push(Problem {
            severity: IssueSeverity::Warning,
            kind,
            path: path.into(),
        });
    }
}

/// Validates a patient record as of `at` (for "in the future" and "expired").
pub fn validate(patient: &Patient, at: Timestamp) -> Report {
    let mut report = Report::default();
    let today = at.date_naive();
    let r = &mut report;

    // Required fields.
    if patient.names.iter().all(HumanName::is_blank) {
        r.error(ProblemKind::Required, "patient.name");
    }
    match &patient.birth_date {
        None => r.error(ProblemKind::Required, "patient.birthDate"),
        Some(b) => check_birth(r, *b.expose(), today, "patient.birthDate"),
    }
    if let (Some(Deceased::At(d)), Some(b)) = (&patient.deceased, &patient.birth_date)
        && let Some(death) = time::partial_date(d)
    {
        if death.latest() < b.expose().earliest() {
            r.error(ProblemKind::DeathBeforeBirth, "patient.deceasedDateTime");
        }
        if death.earliest() > today {
            r.error(ProblemKind::FutureDate, "patient.deceasedDateTime");
        }
    }

    // Periods.
    for (i, n) in patient.names.iter().enumerate() {
        check_period(r, n.period.as_ref(), &format!("patient.name[{i}].period"));
    }
    for (i, a) in patient.addresses.iter().enumerate() {
        let path = format!("patient.address[{i}]");
        check_period(r, a.period.as_ref(), &format!("{path}.period"));
        check_address(r, a, &path);
    }
    for (i, t) in patient.telecom.iter().enumerate() {
        check_telecom(r, t, &format!("patient.telecom[{i}]"));
    }

    check_identifiers(r, patient);

    // Contacts and related persons.
    for (i, c) in patient.contacts.iter().enumerate() {
        let path = format!("patient.contact[{i}]");
        check_period(r, c.period.as_ref(), &format!("{path}.period"));
        for (j, t) in c.telecom.iter().enumerate() {
            check_telecom(r, t, &format!("{path}.telecom[{j}]"));
        }
        if let Some(a) = &c.address {
            check_address(r, a, &format!("{path}.address"));
        }
    }
    for (i, p) in patient.related_persons.iter().enumerate() {
        let path = format!("patient.relatedPerson[{i}]");
        check_period(r, p.period.as_ref(), &format!("{path}.period"));
        for (j, t) in p.telecom.iter().enumerate() {
            check_telecom(r, t, &format!("{path}.telecom[{j}]"));
        }
        if let Some(b) = &p.birth_date {
            check_birth(r, *b.expose(), today, &format!("{path}.birthDate"));
        }
    }

    check_coverages(r, patient, at);

    // Warnings.
    if patient
        .contact_routes(ContactPurpose::AppointmentReminders)
        .is_empty()
    {
        r.warn(ProblemKind::NoPreferredContactRoute, "patient.telecom");
    }
    if !patient.has_emergency_contact() {
        r.warn(ProblemKind::NoEmergencyContact, "patient.contact");
    }
    report
}

/// Every identifier has a value that passes its check digit, and none repeats.
fn check_identifiers(r: &mut Report, patient: &Patient) {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, id) in patient.identifiers.iter().enumerate() {
        let path = format!("patient.identifier[{i}]");
        let Some(value) = id.value.as_ref().map(|v| v.expose().as_str()) else {
            r.error(ProblemKind::Required, format!("{path}.value"));
            continue;
        };
        check_period(r, id.period.as_ref(), &format!("{path}.period"));
        if !identifier_passes(id.system.as_deref(), value) {
            r.error(ProblemKind::IdentifierCheck, format!("{path}.value"));
        }
        let key = (id.system.as_deref().unwrap_or(""), value.trim());
        if seen.insert(key, i).is_some() {
            r.error(ProblemKind::DuplicateIdentifier, format!("{path}.value"));
        }
    }
}

/// Every coverage names a payor and a valid MBI for Medicare; expired ones are flagged, and
/// active primary coverages may not overlap.
fn check_coverages(r: &mut Report, patient: &Patient, at: Timestamp) {
    for (i, c) in patient.coverages.iter().enumerate() {
        let path = format!("patient.coverage[{i}]");
        check_period(r, c.period.as_ref(), &format!("{path}.period"));
        if c.payor.is_empty() {
            r.error(ProblemKind::Required, format!("{path}.payor"));
        }
        if let Some(m) = &c.member_id
            && is_medicare(c)
            && !mbi_is_valid(m.expose())
        {
            r.error(ProblemKind::IdentifierCheck, format!("{path}.subscriberId"));
        }
        let ended = c
            .period
            .as_ref()
            .and_then(|p| p.end.as_ref())
            .and_then(time::end_bound)
            .is_some_and(|end| end <= at);
        if ended && c.status.as_deref() != Some("cancelled") {
            r.warn(ProblemKind::ExpiredCoverage, format!("{path}.period"));
        }
    }
    let primaries: Vec<(usize, &Coverage)> = patient
        .coverages
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.rank() == Some(CoverageRank::Primary)
                && c.status.as_deref().is_none_or(|s| s == "active")
        })
        .collect();
    for (k, (i, a)) in primaries.iter().enumerate() {
        let clash = primaries[..k].iter().any(|(_, b)| {
            let whole = FhirPeriod::default();
            time::overlaps(
                a.period.as_ref().unwrap_or(&whole),
                b.period.as_ref().unwrap_or(&whole),
            )
        });
        if clash {
            r.error(
                ProblemKind::OverlappingPrimaryCoverage,
                format!("patient.coverage[{i}].order"),
            );
        }
    }
}

fn is_medicare(c: &Coverage) -> bool {
    c.payor.iter().any(|p| {
        p.display
            .as_ref()
            .is_some_and(|d| d.expose().to_ascii_lowercase().contains("medicare"))
    }) || c.type_.as_ref().is_some_and(|t| {
        t.coding
            .iter()
            .any(|c| c.code.eq_ignore_ascii_case("medicare"))
    })
}

fn check_birth(r: &mut Report, birth: PartialDate, today: NaiveDate, path: &str) {
    if birth.earliest() > today {
        r.error(ProblemKind::FutureDate, path);
    }
    if birth.year() < 1880 {
        r.error(ProblemKind::ImplausiblyOld, path);
    }
}

fn check_period(r: &mut Report, period: Option<&FhirPeriod>, path: &str) {
    if period.is_some_and(time::is_reversed) {
        r.error(ProblemKind::PeriodReversed, path);
    }
}

fn check_telecom(r: &mut Report, t: &ContactPoint, path: &str) {
    check_period(r, t.period.as_ref(), &format!("{path}.period"));
    let Some(value) = t.value.as_ref().map(|v| v.expose().as_str()) else {
        r.error(ProblemKind::Required, format!("{path}.value"));
        return;
    };
    match t.system {
        Some(TelecomSystem::Phone | TelecomSystem::Sms | TelecomSystem::Fax) if !is_e164(value) => {
            r.error(ProblemKind::PhoneNotE164, format!("{path}.value"));
        }
        Some(TelecomSystem::Email) => {
            if !email_is_well_formed(value) {
                r.error(ProblemKind::EmailSyntax, format!("{path}.value"));
            } else if value != value.to_lowercase() {
                r.error(ProblemKind::EmailNotLowercase, format!("{path}.value"));
            }
        }
        _ => {}
    }
}

fn check_address(r: &mut Report, a: &Address, path: &str) {
    if let (Some(code), Some(country)) = (&a.postal_code, &a.country)
        && postal_code_fits(country, code.expose()) == Some(false)
    {
        r.error(ProblemKind::PostalCodeShape, format!("{path}.postalCode"));
    }
}

/// Whether `value` is an E.164 number: `+`, a non-zero digit, 8 to 15 digits in all.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Normalises a phone number to E.164. Spaces, dots, dashes and parentheses are dropped; a
/// leading `00` becomes `+`; a national number (leading trunk `0`, or 10 digits for the North
/// American plan) takes `default_country_code` (for example `"44"` or `"1"`). Returns `None`
/// when the result would not be E.164.
pub fn normalise_phone(value: &str, default_country_code: &str) -> Option<String> {
    let trimmed = value.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::with_capacity(trimmed.len());
    for ch in trimmed.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            '+' if digits.is_empty() => {}
            _ => return None,
        }
    }
    let e164 = if plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("+{default_country_code}{rest}")
    } else if default_country_code == "1" && digits.len() == 10 {
        format!("+1{digits}")
    } else if default_country_code == "1" && digits.len() == 11 && digits.starts_with('1') {
        format!("+{digits}")
    } else {
        return None;
    };
    is_e164(&e164).then_some(e164)
}

/// Normalises an e-mail address: trimmed and lowercased. Returns `None` if malformed.
pub fn normalise_email(value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    email_is_well_formed(&v).then_some(v)
}

/// A pragmatic e-mail syntax check: one `@`, a non-empty local part of printable characters
/// without spaces, and a domain of at least two dot-separated labels of letters, digits and
/// hyphens (not starting or ending with a hyphen), the last at least two letters.
pub fn email_is_well_formed(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// Whether `code` has the postal-code shape of `country` (ISO 3166 alpha-2 or alpha-3 code,
/// or English name). `None` when the country's format is not known here.
pub fn postal_code_fits(country: &str, code: &str) -> Option<bool> {
    let c = code.trim();
    let upper = c.to_ascii_uppercase();
    let b = upper.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let alpha = |x: u8| x.is_ascii_alphabetic();
    let num = |x: u8| x.is_ascii_digit();
    let country = country.trim().to_ascii_uppercase();
    Some(match country.as_str() {
        "US" | "USA" | "UNITED STATES" | "UNITED STATES OF AMERICA" => {
            (b.len() == 5 && digits(b))
                || (b.len() == 10 && digits(&b[..5]) && b[5] == b'-' && digits(&b[6..]))
        }
        "GB" | "GBR" | "UK" | "UNITED KINGDOM" => uk_postcode(&upper),
        "CA" | "CAN" | "CANADA" => {
            let s: Vec<u8> = b.iter().copied().filter(|x| *x != b' ').collect();
            s.len() == 6
                && alpha(s[0])
                && num(s[1])
                && alpha(s[2])
                && num(s[3])
                && alpha(s[4])
                && num(s[5])
                && (b.len() == 6 || (b.len() == 7 && b[3] == b' '))
        }
        "NL" | "NLD" | "NETHERLANDS" => {
            let s: Vec<u8> = b.iter().copied().filter(|x| *x != b' ').collect();
            s.len() == 6 && digits(&s[..4]) && s[0] != b'0' && alpha(s[4]) && alpha(s[5])
        }
        "AU" | "AUS" | "AUSTRALIA" => b.len() == 4 && digits(b),
        "DE" | "DEU" | "GERMANY" | "FR" | "FRA" | "FRANCE" => b.len() == 5 && digits(b),
        _ => return None,
    })
}

/// UK postcode shapes: outward `A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`, then a space
/// (optional) and inward `9AA`.
fn uk_postcode(code: &str) -> bool {
    let compact: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
    if !(5..=7).contains(&compact.len()) || code.matches(' ').count() > 1 {
        return false;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let pattern: String = outward
        .iter()
        .map(|b| if b.is_ascii_digit() { '9' } else { 'A' })
        .collect();
    let outward_ok = matches!(
        pattern.as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    ) && outward.iter().all(u8::is_ascii_alphanumeric);
    inward_ok && outward_ok
}

/// Whether an identifier value passes its scheme's check (schemes without one always pass).
pub fn identifier_passes(system: Option<&str>, value: &str) -> bool {
    match system {
        Some(NHS_NUMBER_SYSTEM) => nhs_number_is_valid(value),
        Some(NPI_SYSTEM) => npi_is_valid(value),
        Some(MBI_SYSTEM) => mbi_is_valid(value),
        _ => true,
    }
}

/// NHS number: 10 digits (spaces allowed as `3 3 4` groups); weights 10..2 on the first nine,
/// check digit = 11 − (sum mod 11), where 11 becomes 0 and 10 is invalid.
pub fn nhs_number_is_valid(value: &str) -> bool {
    let digits: Vec<u32> = value
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_digit(10))
        .collect::<Option<Vec<u32>>>()
        .unwrap_or_default();
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - (sum % 11) {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == digits[9]
}

/// US NPI: 10 digits whose Luhn check, computed over the number prefixed with `80840`, holds.
pub fn npi_is_valid(value: &str) -> bool {
    if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    luhn_valid(&format!("80840{value}"))
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// Medicare Beneficiary Identifier format: 11 characters (dashes allowed at positions 4 and
/// 8 as printed on cards) — `C A AN N A AN N A A N N`, where C is 1–9, N a digit, A a letter
/// other than S, L, O, I, B, Z, and AN either.
pub fn mbi_is_valid(value: &str) -> bool {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|b| *b != b'-')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() != 11 {
        return false;
    }
    let letter = |b: u8| b.is_ascii_uppercase() && !b"SLOIBZ".contains(&b);
    let digit = |b: u8| b.is_ascii_digit();
    let either = |b: u8| letter(b) || digit(b);
    (b'1'..=b'9').contains(&compact[0])
        && letter(compact[1])
        && either(compact[2])
        && digit(compact[3])
        && letter(compact[4])
        && either(compact[5])
        && digit(compact[6])
        && letter(compact[7])
        && letter(compact[8])
        && digit(compact[9])
        && digit(compact[10])
}

/// Normalises every phone number to E.164 (using `default_country_code` for national numbers)
/// and every e-mail address to lowercase, where possible. Values that cannot be normalised are
/// left as they are for validation to report.
pub fn normalise_telecom(patient: &mut Patient, default_country_code: &str) {
    let fix = |t: &mut ContactPoint| {
        let Some(value) = t.value.as_mut() else {
            return;
        };
        let fixed = match t.system {
            Some(TelecomSystem::Phone | TelecomSystem::Sms | TelecomSystem::Fax) => {
                normalise_phone(value.expose(), default_country_code)
            }
            Some(TelecomSystem::Email) => normalise_email(value.expose()),
            _ => None,
        };
        if let Some(f) = fixed {
            *value.expose_mut() = f;
        }
    };
    patient.telecom.iter_mut().for_each(fix);
    for c in &mut patient.contacts {
        c.telecom.iter_mut().for_each(fix);
    }
    for r in &mut patient.related_persons {
        r.telecom.iter_mut().for_each(fix);
    }
}
