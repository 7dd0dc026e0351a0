//! The request vocabulary: actions, data classes, sensitivity labels, confidentiality,
//! purposes of use, channels and identity-verification steps.
//!
//! Every closed vocabulary is an enum with a stable lowercase (or HL7) code, and every set of
//! them is a small bit set so that matching a rule is a handful of `&` operations.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

#[macro_use]
mod macros;

/// A code outside an open vocabulary's known values — a FHIR resource type
/// (`MedicationRequest`), a MIME type (`application/hl7-cda+xml`), an HL7 label (`SPI`) — kept
/// and matched by its text.
///
/// Open codes are interned once per process in their vocabulary's table, so a value stays
/// `Copy` and a set of values stays a 64-bit set: matching an open code costs what matching a
/// known one does. The table is bounded (64 slots per vocabulary, the known values included,
/// codes at most 128 bytes), so hostile input cannot grow it without limit; once it is full,
/// new open codes are refused (`None` from [`DataClass::open`]) rather than dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpenCode {
    slot: u8,
    code: &'static str,
}

impl OpenCode {
    /// The code as written.
    pub const fn code(self) -> &'static str {
        self.code
    }
}

impl fmt::Debug for OpenCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenCode({:?})", self.code)
    }
}

/// Bits in an open vocabulary's set: known values and interned open codes together.
const OPEN_SLOTS: usize = 64;
/// Longest open code accepted.
const MAX_OPEN_CODE_BYTES: usize = 128;

/// The process-wide table of one open vocabulary's interned codes.
struct OpenCodes(Mutex<Vec<&'static str>>);

impl OpenCodes {
    const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// The interned code, adding it when new and there is room.
    fn intern(&self, first_slot: usize, code: &str) -> Option<OpenCode> {
        // A poisoned lock still holds a consistent table: pushes are the only writes.
        let mut codes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let index = match codes.iter().position(|c| *c == code) {
            Some(i) => i,
            None => {
                if first_slot + codes.len() >= OPEN_SLOTS {
                    return None;
                }
                // Leaked on purpose: an interned code lives as long as the process, and the
                // table is bounded (at most 64 codes of at most 128 bytes per vocabulary).
                codes.push(Box::leak(code.to_owned().into_boxed_str()));
                codes.len() - 1
            }
        };
        let slot = u8::try_from(first_slot + index).ok()?;
        Some(OpenCode {
            slot,
            code: codes.get(index)?,
        })
    }

    /// The open code in `slot`.
    fn get(&self, first_slot: usize, slot: u8) -> Option<OpenCode> {
        let codes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let code = codes.get(usize::from(slot).checked_sub(first_slot)?)?;
        Some(OpenCode { slot, code })
    }
}

/// `` `a`, `b`, `c` ``: a list of codes for messages.
pub(crate) fn list_codes(codes: &[&str]) -> String {
    let mut out = String::new();
    for (i, code) in codes.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(code);
        out.push('`');
    }
    out
}

/// Whether `code` can be an open code at all: a FHIR `code` (no leading, trailing or double
/// whitespace, no control characters) of at most 128 bytes.
fn is_open_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_OPEN_CODE_BYTES
        && code.trim() == code
        && !code.contains("  ")
        && !code
            .chars()
            .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
}

/// The shape a policy may use for an open data class: a FHIR resource type name
/// (`MedicationRequest`) or a MIME type (`application/hl7-cda+xml`). Anything else in a policy
/// (`x-rays`) is far more likely a typo and is reported.
fn open_class_shape(code: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let resource_type = code.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && code.bytes().all(|b| b.is_ascii_alphabetic());
    let mime = code.split_once('/').is_some_and(|(t, sub)| {
        token(t) && token(sub) && t.bytes().all(|b| b.is_ascii_lowercase())
    });
    resource_type || mime
}

/// The shape a policy may use for an open security label: an HL7 code, upper case (`SPI`).
fn open_label_shape(code: &str) -> bool {
    code.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

vocabulary! {
    /// What the actor wants to do with the data.
    Action, ActionSet, "action" {
        /// Look at the data.
        Read = "read",
        /// Add new data.
        Create = "create",
        /// Change existing data.
        Update = "update",
        /// Give the data to someone outside the organisation.
        Disclose = "disclose",
        /// Export the data in bulk (download, portability).
        Export = "export",
        /// Contact the patient (reminder, outreach, survey) over a channel.
        Contact = "contact",
    }
}

open_vocabulary! {
    /// A class of patient data, the unit of HIPAA "minimum necessary" rules.
    DataClass, ClassSet, "data class", CLASS_CODES, open_class_shape {
        /// Name, birth date, sex, identifiers.
        Demographics = "demographics",
        /// Addresses, telephone numbers, e-mail addresses.
        Contact = "contact",
        /// Insurance coverage.
        Coverage = "coverage",
        /// Charges, claims, statements, payments.
        Billing = "billing",
        /// Appointments and their history.
        Appointments = "appointments",
        /// Vital signs and home readings.
        Vitals = "vitals",
        /// Clinical notes.
        ClinicalNotes = "clinical-notes",
        /// Laboratory results.
        LabResults = "lab-results",
        /// Medications.
        Medications = "medications",
        /// Problems and diagnoses.
        Problems = "problems",
    }
}

open_vocabulary! {
    /// HL7 v3 ActCode sensitivity labels carried by data.
    SecurityLabel, LabelSet, "security label", LABEL_CODES, open_label_shape {
        /// Substance-use information (42 CFR Part 2).
        Eth = "ETH",
        /// Psychiatry and mental-health information.
        Psy = "PSY",
        /// Psychotherapy notes.
        Psythpn = "PSYTHPN",
        /// HIV/AIDS information.
        Hiv = "HIV",
        /// Sexual assault, abuse or domestic violence information.
        Sdv = "SDV",
        /// Sexuality and reproductive health information.
        Sex = "SEX",
        /// Sexually transmitted disease information.
        Std = "STD",
        /// Genetic disease information.
        Gdis = "GDIS",
    }
}

vocabulary! {
    /// HL7 v3 PurposeOfUse (ActReason) codes.
    Purpose, PurposeSet, "purpose of use" {
        /// Treatment.
        Treat = "TREAT",
        /// Emergency treatment (break-the-glass).
        Etreat = "ETREAT",
        /// Healthcare payment.
        Hpaymt = "HPAYMT",
        /// Healthcare operations.
        Hoperat = "HOPERAT",
        /// Patient requested (right of access).
        Patrqt = "PATRQT",
        /// Family requested.
        Famrqt = "FAMRQT",
        /// Public health.
        Pubhlth = "PUBHLTH",
        /// Healthcare research.
        Hresch = "HRESCH",
        /// Marketing.
        Markt = "MARKT",
        /// Legal (court order, subpoena).
        Hlegal = "HLEGAL",
        /// Care management and coordination.
        Caremgt = "CAREMGT",
    }
}

vocabulary! {
    /// The channel a request arrives on or a contact goes out on.
    AccessChannel, ChannelSet, "channel" {
        /// Face to face at the desk.
        InPerson = "in-person",
        /// Telephone call. The code is `voice`, the word [`bedside_core::Channel::Voice`] uses;
        /// `phone`, which earlier versions wrote, is still read.
        Voice = "voice" | "phone",
        /// Patient portal or app.
        Portal = "portal",
        /// Text message.
        Sms = "sms",
        /// E-mail.
        Email = "email",
        /// Letter.
        Postal = "postal",
        /// System-to-system interface (staff applications, interfaces, batch jobs).
        Internal = "internal",
    }
}

vocabulary! {
    /// One identity-verification step an agent can complete.
    VerificationStep, StepSet, "verification step" {
        /// Full name confirmed.
        Name = "name",
        /// Date of birth confirmed.
        DateOfBirth = "date-of-birth",
        /// Postcode of the address on file confirmed.
        Postcode = "postcode",
        /// Last four characters of an identifier on file confirmed.
        IdentifierLast4 = "identifier-last4",
        /// One-time code sent through the portal or to the number on file, read back.
        OneTimeCode = "one-time-code",
        /// Photo identification seen.
        PhotoId = "photo-id",
        /// Called back on the number on file.
        CallBack = "call-back",
        /// Proxy's authorisation on file confirmed (relationship and scope).
        ProxyAuthorisation = "proxy-authorisation",
    }
}

vocabulary! {
    /// The kind of actor, as rules match it.
    ActorKind, ActorKindSet, "actor kind" {
        /// A member of staff.
        Staff = "staff",
        /// The patient.
        Patient = "patient",
        /// A related person acting for the patient.
        Proxy = "proxy",
        /// A recipient outside the organisation.
        External = "external",
        /// An automated component.
        System = "system",
    }
}

/// HL7 v3 confidentiality level of the requested data: the workspace-wide
/// [`bedside_core::Confidentiality`], re-exported here so `bedside_consent::vocab::Confidentiality`
/// keeps working.
pub use bedside_core::Confidentiality;

impl From<bedside_core::Channel> for AccessChannel {
    fn from(c: bedside_core::Channel) -> Self {
        match c {
            bedside_core::Channel::Sms => AccessChannel::Sms,
            bedside_core::Channel::Email => AccessChannel::Email,
            bedside_core::Channel::Voice => AccessChannel::Voice,
            bedside_core::Channel::Portal => AccessChannel::Portal,
            bedside_core::Channel::Postal => AccessChannel::Postal,
        }
    }
}

impl ActorKind {
    /// The kind of a [`bedside_core::Actor`].
    pub fn of(actor: &bedside_core::Actor) -> Self {
        match actor {
            bedside_core::Actor::Staff(_) => ActorKind::Staff,
            bedside_core::Actor::Patient { .. } => ActorKind::Patient,
            bedside_core::Actor::Proxy { .. } => ActorKind::Proxy,
            bedside_core::Actor::External { .. } => ActorKind::External,
            bedside_core::Actor::System { .. } => ActorKind::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in DataClass::ALL {
            assert_eq!(DataClass::from_code(c.code()), Some(*c));
        }
        for p in Purpose::ALL {
            assert_eq!(p.code().parse::<Purpose>().ok(), Some(*p));
        }
        assert!("TREATX".parse::<Purpose>().is_err());
        assert_eq!(
            Confidentiality::from_code("V"),
            Some(Confidentiality::VeryRestricted)
        );
    }

    #[test]
    fn sets() -> Result<(), serde_json::Error> {
        let s: ClassSet = [DataClass::Vitals, DataClass::Billing]
            .into_iter()
            .collect();
        assert_eq!(s.len(), 2);
        assert!(s.contains(DataClass::Vitals) && !s.contains(DataClass::Contact));
        assert!(ClassSet::EMPTY.matches(DataClass::Contact));
        let json = serde_json::to_string(&s)?;
        assert_eq!(json, r#"["billing","vitals"]"#);
        assert_eq!(serde_json::from_str::<ClassSet>(&json)?, s);
        assert!(serde_json::from_str::<ClassSet>(r#"[""]"#).is_err());
        assert_eq!(format!("{s:?}"), r#"{"billing", "vitals"}"#);
        assert_eq!(ClassSet::all().len(), DataClass::ALL.len());
        Ok(())
    }

    #[test]
    fn open_codes_are_kept_and_matched_by_text() -> Result<(), serde_json::Error> {
        let med = DataClass::open("MedicationRequest");
        let cda = DataClass::open("application/hl7-cda+xml");
        assert!(matches!(med, Some(DataClass::Other(_))));
        assert_eq!(med, DataClass::open("MedicationRequest"));
        assert_ne!(med, cda);
        assert_eq!(DataClass::open("vitals"), Some(DataClass::Vitals));
        assert_eq!(DataClass::from_code("MedicationRequest"), None);
        let (Some(med), Some(cda)) = (med, cda) else {
            panic!("open codes intern");
        };
        assert_eq!(med.code(), "MedicationRequest");
        let s: ClassSet = [DataClass::Vitals, med].into_iter().collect();
        assert!(s.contains(med) && !s.contains(cda));
        assert_eq!(s.iter().collect::<Vec<_>>(), [DataClass::Vitals, med]);
        let json = serde_json::to_string(&s)?;
        assert_eq!(json, r#"["vitals","MedicationRequest"]"#);
        assert_eq!(serde_json::from_str::<ClassSet>(&json)?, s);
        assert_eq!(DataClass::from_policy_code("x-rays"), None);
        assert_eq!(DataClass::from_policy_code("MedicationRequest"), Some(med));
        let spi = SecurityLabel::open("SPI");
        assert!(spi.is_some_and(|l| !l.is_known() && l.code() == "SPI"));
        assert_eq!(SecurityLabel::from_policy_code("spi"), None);
        for bad in ["", " x", "a\nb", &"x".repeat(129)] {
            assert_eq!(DataClass::open(bad), None, "{bad:?}");
        }
        Ok(())
    }
}
