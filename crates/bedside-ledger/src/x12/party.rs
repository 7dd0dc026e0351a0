//! The people, organisations and codes an 837P or 270 names, validated once so the writers
//! cannot produce an invalid element: NPI (with its check digit), tax id, taxonomy,
//! ICD-10-CM diagnosis, place of service, claim filing indicator.
//!
//! The ledger holds no names, addresses or member ids; the caller maps them from its patient
//! record and coverage into [`Person`] and [`Subscriber`], whose values are [`Sensitive`] and
//! never printed.

use super::envelope::WriteError;
use super::writer::writable;
use bedside_core::Sensitive;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

fn digits(v: &str, n: usize) -> bool {
    v.len() == n && v.bytes().all(|b| b.is_ascii_digit())
}

/// A National Provider Identifier: ten digits with a valid Luhn check digit over the `80840`
/// prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Npi(String);

impl Npi {
    /// Validates an NPI.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`npi`).
    pub fn parse(v: &str) -> Result<Self, WriteError> {
        let v = v.trim();
        if !digits(v, 10) {
            return Err(WriteError::InvalidField { field: "npi" });
        }
        // Luhn over "80840" + the first nine digits; the tenth is the check digit.
        let body: Vec<u32> = "80840"
            .bytes()
            .chain(v.bytes().take(9))
            .map(|b| u32::from(b - b'0'))
            .collect();
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 0 {
                    let x = d * 2;
                    if x > 9 { x - 9 } else { x }
                } else {
                    d
                }
            })
            .sum();
        let check = (10 - sum % 10) % 10;
        if v.as_bytes()[9] - b'0' == check as u8 {
            Ok(Self(v.to_string()))
        } else {
            Err(WriteError::InvalidField { field: "npi" })
        }
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Npi {
    type Error = WriteError;
    fn try_from(s: String) -> Result<Self, WriteError> {
        Self::parse(&s)
    }
}

impl From<Npi> for String {
    fn from(n: Npi) -> String {
        n.0
    }
}

/// An employer identification number (nine digits, `12-3456789` accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaxId(String);

impl TaxId {
    /// Validates an EIN.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`tax_id`).
    pub fn parse(v: &str) -> Result<Self, WriteError> {
        let d: String = v.trim().chars().filter(|c| *c != '-').collect();
        if digits(&d, 9) {
            Ok(Self(d))
        } else {
            Err(WriteError::InvalidField { field: "tax_id" })
        }
    }

    /// The nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A health care provider taxonomy code (ten characters, e.g. `207Q00000X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Taxonomy(String);

impl Taxonomy {
    /// Validates a taxonomy code.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`taxonomy`).
    pub fn parse(v: &str) -> Result<Self, WriteError> {
        let v = v.trim().to_ascii_uppercase();
        if v.len() == 10 && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(v))
        } else {
            Err(WriteError::InvalidField { field: "taxonomy" })
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ICD-10-CM diagnosis code, kept without its dot as X12 writes it (`J20.9` → `J209`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DiagnosisCode(String);

impl DiagnosisCode {
    /// Validates the shape of an ICD-10-CM code: a letter, a digit, a letter or digit, then up
    /// to four letters or digits, with an optional dot after the third character.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`diagnosis`).
    pub fn parse(v: &str) -> Result<Self, WriteError> {
        let v = v.trim().to_ascii_uppercase();
        let code: String = match v.split_once('.') {
            Some((head, tail)) if head.len() == 3 && !tail.is_empty() => format!("{head}{tail}"),
            Some(_) => return Err(WriteError::InvalidField { field: "diagnosis" }),
            None => v,
        };
        let b = code.as_bytes();
        let ok = (3..=7).contains(&b.len())
            && b[0].is_ascii_uppercase()
            && b[1].is_ascii_digit()
            && b[2..].iter().all(u8::is_ascii_alphanumeric);
        if ok {
            Ok(Self(code))
        } else {
            Err(WriteError::InvalidField { field: "diagnosis" })
        }
    }

    /// The code without its dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DiagnosisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            3 => f.write_str(&self.0),
            _ => write!(f, "{}.{}", &self.0[..3], &self.0[3..]),
        }
    }
}

/// A CMS place of service code (`11` office, `02` telehealth, `22` outpatient hospital).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlaceOfService(u8);

impl PlaceOfService {
    /// Office.
    pub const OFFICE: PlaceOfService = PlaceOfService(11);
    /// Telehealth other than in the patient's home.
    pub const TELEHEALTH: PlaceOfService = PlaceOfService(2);

    /// A code in 1..=99.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`place_of_service`).
    pub fn new(code: u8) -> Result<Self, WriteError> {
        if (1..=99).contains(&code) {
            Ok(Self(code))
        } else {
            Err(WriteError::InvalidField {
                field: "place_of_service",
            })
        }
    }

    /// The two digits.
    pub fn as_str(&self) -> &'static str {
        TWO_DIGITS[self.0 as usize]
    }
}

/// `"00"` … `"99"`.
const TWO_DIGITS: [&str; 100] = [
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63",
    "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
    "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95",
    "96", "97", "98", "99",
];

/// The kind of plan a claim goes to (SBR09, claim filing indicator code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClaimFiling {
    /// `CI` commercial insurance.
    Commercial,
    /// `BL` Blue Cross/Blue Shield.
    BlueCross,
    /// `HM` health maintenance organisation.
    Hmo,
    /// `12` preferred provider organisation.
    Ppo,
    /// `MB` Medicare Part B.
    MedicarePartB,
    /// `MC` Medicaid.
    Medicaid,
    /// `16` Medicare Advantage HMO.
    MedicareAdvantage,
    /// `CH` TRICARE.
    Tricare,
    /// `VA` Veterans Affairs.
    VeteransAffairs,
    /// `WC` workers' compensation.
    WorkersCompensation,
}

impl ClaimFiling {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            ClaimFiling::Commercial => "CI",
            ClaimFiling::BlueCross => "BL",
            ClaimFiling::Hmo => "HM",
            ClaimFiling::Ppo => "12",
            ClaimFiling::MedicarePartB => "MB",
            ClaimFiling::Medicaid => "MC",
            ClaimFiling::MedicareAdvantage => "16",
            ClaimFiling::Tricare => "CH",
            ClaimFiling::VeteransAffairs => "VA",
            ClaimFiling::WorkersCompensation => "WC",
        }
    }
}

/// Administrative sex as X12 writes it (DMG03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// `F`.
    Female,
    /// `M`.
    Male,
    /// `U`.
    Unknown,
}

impl Sex {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
            Sex::Unknown => "U",
        }
    }
}

/// The patient's relationship to the subscriber (PAT01, SBR02 in loop 2320).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// `18`: the patient is the subscriber.
    Subscriber,
    /// `01`.
    Spouse,
    /// `19`.
    Child,
    /// `G8` other relationship.
    Other,
}

impl Relationship {
    /// The individual relationship code.
    pub fn code(self) -> &'static str {
        match self {
            Relationship::Subscriber => "18",
            Relationship::Spouse => "01",
            Relationship::Child => "19",
            Relationship::Other => "G8",
        }
    }
}

/// A postal address (N3/N4). Patient addresses are PHI, so every part is [`Sensitive`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street line (N301).
    pub line1: Sensitive<String>,
    /// Second street line (N302).
    pub line2: Option<Sensitive<String>>,
    /// City (N401).
    pub city: Sensitive<String>,
    /// Two-letter state or province code (N402).
    pub state: Sensitive<String>,
    /// Five- or nine-digit ZIP code (N403).
    pub postal_code: Sensitive<String>,
}

impl Address {
    /// Validates an address: non-empty street and city, two-letter state, five- or
    /// nine-digit ZIP code (`12345-6789` accepted).
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] naming the part.
    pub fn new(
        line1: &str,
        line2: Option<&str>,
        city: &str,
        state: &str,
        postal_code: &str,
    ) -> Result<Self, WriteError> {
        if !writable(line1) {
            return Err(WriteError::InvalidField {
                field: "address.line1",
            });
        }
        if !writable(city) {
            return Err(WriteError::InvalidField {
                field: "address.city",
            });
        }
        let state = state.trim().to_ascii_uppercase();
        if state.len() != 2 || !state.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(WriteError::InvalidField {
                field: "address.state",
            });
        }
        let zip: String = postal_code.trim().chars().filter(|c| *c != '-').collect();
        if !(digits(&zip, 5) || digits(&zip, 9)) {
            return Err(WriteError::InvalidField {
                field: "address.postal_code",
            });
        }
        Ok(Self {
            line1: Sensitive::new(line1.to_string()),
            line2: line2
                .filter(|l| writable(l))
                .map(|l| Sensitive::new(l.to_string())),
            city: Sensitive::new(city.to_string()),
            state: Sensitive::new(state),
            postal_code: Sensitive::new(zip),
        })
    }
}

/// A patient or subscriber: name, birth date, sex and address, all PHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Family name (NM103).
    pub last: Sensitive<String>,
    /// Given name (NM104).
    pub first: Sensitive<String>,
    /// Birth date (DMG02).
    pub birth_date: Sensitive<NaiveDate>,
    /// Sex (DMG03).
    pub sex: Sex,
    /// Address.
    pub address: Address,
}

impl Person {
    /// Validates a person: the family name must have something X12 can carry.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`person.last`).
    pub fn new(
        last: &str,
        first: &str,
        birth_date: NaiveDate,
        sex: Sex,
        address: Address,
    ) -> Result<Self, WriteError> {
        if !writable(last) {
            return Err(WriteError::InvalidField {
                field: "person.last",
            });
        }
        Ok(Self {
            last: Sensitive::new(last.to_string()),
            first: Sensitive::new(first.to_string()),
            birth_date: Sensitive::new(birth_date),
            sex,
            address,
        })
    }
}

/// The insured under a coverage: who they are, their member id and group, and who the patient
/// is to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The subscriber.
    pub person: Person,
    /// Member id (NM109 with `MI`), PHI.
    pub member_id: Sensitive<String>,
    /// Group or policy number (SBR03), PHI.
    pub group_number: Option<Sensitive<String>>,
    /// The patient's relationship to the subscriber.
    pub relationship: Relationship,
    /// The patient when not the subscriber (loop 2000C).
    pub patient: Option<Person>,
}

impl Subscriber {
    /// A subscriber who is the patient.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`member_id`) when the member id is empty or longer than
    /// 80 characters.
    pub fn patient_self(
        person: Person,
        member_id: &str,
        group_number: Option<&str>,
    ) -> Result<Self, WriteError> {
        Self::build(
            person,
            member_id,
            group_number,
            Relationship::Subscriber,
            None,
        )
    }

    /// A subscriber whose dependant is the patient.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`member_id`, `relationship`).
    pub fn with_dependant(
        person: Person,
        member_id: &str,
        group_number: Option<&str>,
        relationship: Relationship,
        patient: Person,
    ) -> Result<Self, WriteError> {
        if relationship == Relationship::Subscriber {
            return Err(WriteError::InvalidField {
                field: "relationship",
            });
        }
        Self::build(person, member_id, group_number, relationship, Some(patient))
    }

    fn build(
        person: Person,
        member_id: &str,
        group_number: Option<&str>,
        relationship: Relationship,
        patient: Option<Person>,
    ) -> Result<Self, WriteError> {
        let id = member_id.trim();
        if !writable(id) || id.len() > 80 {
            return Err(WriteError::InvalidField { field: "member_id" });
        }
        Ok(Self {
            person,
            member_id: Sensitive::new(id.to_string()),
            group_number: group_number
                .filter(|g| writable(g))
                .map(|g| Sensitive::new(g.trim().to_string())),
            relationship,
            patient,
        })
    }

    /// The patient: the dependant, or the subscriber.
    pub fn patient(&self) -> &Person {
        self.patient.as_ref().unwrap_or(&self.person)
    }
}

/// A payer: its name, its payer id (NM109 with `PI`) and the kind of plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    /// Name (an organisation, not PHI).
    pub name: String,
    /// Payer id, as the clearinghouse lists it.
    pub payer_id: String,
    /// Claim filing indicator.
    pub filing: ClaimFiling,
}

impl Payer {
    /// Validates a payer (name and a 2–80 character id).
    ///
    /// # Errors
    /// [`WriteError::InvalidField`].
    pub fn new(name: &str, payer_id: &str, filing: ClaimFiling) -> Result<Self, WriteError> {
        if !writable(name) {
            return Err(WriteError::InvalidField {
                field: "payer.name",
            });
        }
        let id = payer_id.trim();
        if !(2..=80).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(WriteError::InvalidField {
                field: "payer.payer_id",
            });
        }
        Ok(Self {
            name: name.trim().to_string(),
            payer_id: id.to_string(),
            filing,
        })
    }
}

/// The billing provider (loop 2010AA): the clinic as an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingProvider {
    /// Organisation name.
    pub name: String,
    /// Group NPI.
    pub npi: Npi,
    /// Employer identification number (REF*EI).
    pub tax_id: TaxId,
    /// Taxonomy (PRV*BI), when the payer needs it.
    pub taxonomy: Option<Taxonomy>,
    /// Address; the ZIP code must have nine digits (the 837P requires it here).
    pub address: Address,
}

impl BillingProvider {
    /// Validates a billing provider.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`] (`billing.name`, `billing.address.postal_code`).
    pub fn new(
        name: &str,
        npi: Npi,
        tax_id: TaxId,
        taxonomy: Option<Taxonomy>,
        address: Address,
    ) -> Result<Self, WriteError> {
        if !writable(name) {
            return Err(WriteError::InvalidField {
                field: "billing.name",
            });
        }
        if address.postal_code.expose().len() != 9 {
            return Err(WriteError::InvalidField {
                field: "billing.address.postal_code",
            });
        }
        Ok(Self {
            name: name.trim().to_string(),
            npi,
            tax_id,
            taxonomy,
            address,
        })
    }
}

/// The rendering provider (loop 2310B): the clinician who saw the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderingProvider {
    /// Family name (a clinician's name, not patient PHI).
    pub last: String,
    /// Given name.
    pub first: String,
    /// Individual NPI.
    pub npi: Npi,
    /// Taxonomy (PRV*PE).
    pub taxonomy: Option<Taxonomy>,
}

/// Who sends the interchange (loop 1000A) and who receives it (loop 1000B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitter {
    /// Submitter name.
    pub name: String,
    /// Submitter id assigned by the receiver (NM109 with `46`).
    pub id: String,
    /// Billing office contact name (PER02).
    pub contact: String,
    /// Contact phone, ten digits (PER04 with `TE`).
    pub phone: String,
    /// Receiver (clearinghouse) name.
    pub receiver_name: String,
    /// Receiver id.
    pub receiver_id: String,
}

impl Submitter {
    /// Validates a submitter and its receiver, given as `(receiver name, receiver id)`.
    ///
    /// # Errors
    /// [`WriteError::InvalidField`].
    pub fn new(
        name: &str,
        id: &str,
        contact: &str,
        phone: &str,
        (receiver_name, receiver_id): (&str, &str),
    ) -> Result<Self, WriteError> {
        let id_ok =
            |v: &str| (2..=80).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric());
        if !writable(name) {
            return Err(WriteError::InvalidField {
                field: "submitter.name",
            });
        }
        if !id_ok(id.trim()) {
            return Err(WriteError::InvalidField {
                field: "submitter.id",
            });
        }
        if !writable(contact) {
            return Err(WriteError::InvalidField {
                field: "submitter.contact",
            });
        }
        let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
        if phone.len() != 10 {
            return Err(WriteError::InvalidField {
                field: "submitter.phone",
            });
        }
        if !writable(receiver_name) {
            return Err(WriteError::InvalidField {
                field: "submitter.receiver_name",
            });
        }
        if !id_ok(receiver_id.trim()) {
            return Err(WriteError::InvalidField {
                field: "submitter.receiver_id",
            });
        }
        Ok(Self {
            name: name.trim().to_string(),
            id: id.trim().to_string(),
            contact: contact.trim().to_string(),
            phone,
            receiver_name: receiver_name.trim().to_string(),
            receiver_id: receiver_id.trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        // CMS's published example NPI.
        assert!(Npi::parse("1234567893").is_ok());
        assert!(Npi::parse("1234567890").is_err());
        assert!(Npi::parse("123456789").is_err());
        assert_eq!(
            TaxId::parse("12-3456789").map(|t| t.0),
            Ok("123456789".into())
        );
        for (code, stored, shown) in [
            ("J20.9", "J209", "J20.9"),
            ("e11.65", "E1165", "E11.65"),
            ("I10", "I10", "I10"),
            ("S72001A", "S72001A", "S72.001A"),
        ] {
            let d = DiagnosisCode::parse(code);
            assert_eq!(d.as_ref().map(|d| d.as_str()), Ok(stored), "{code}");
            assert_eq!(d.map(|d| d.to_string()), Ok(shown.to_string()));
        }
        for bad in ["", "J2", "1209", "J20.", "J2.09", "J20.91234"] {
            assert!(DiagnosisCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PlaceOfService::OFFICE.as_str(), "11");
        assert_eq!(PlaceOfService::TELEHEALTH.as_str(), "02");
        assert!(PlaceOfService::new(0).is_err());
    }
}
