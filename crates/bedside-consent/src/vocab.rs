//! The request vocabulary: actions, data classes, sensitivity labels, confidentiality,
//! purposes of use, channels and identity-verification steps.
//!
//! Every closed vocabulary is an enum with a stable lowercase (or HL7) code, and every set of
//! them is a small bit set so that matching a rule is a handful of `&` operations.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Defines a closed, coded vocabulary enum and a bit set over it.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $set:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The code used in policy documents and FHIR.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            /// Looks a code up; `None` for unknown codes.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some($name::$variant), )+ _ => None }
            }

            /// The bit of this value in a set.
            const fn bit(self) -> u32 {
                1u32 << (self as u8)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = crate::error::ConsentError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::from_code(s).ok_or_else(|| crate::error::ConsentError::UnknownCode {
                    kind: $kind,
                    code: s.to_owned(),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = String::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} code `{}`", $kind, code))
                })
            }
        }

        #[doc = concat!("A set of [`", stringify!($name), "`] values, stored as a bit set.")]
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $set(u32);

        impl $set {
            /// The empty set.
            pub const EMPTY: $set = $set(0);

            /// The set of every value.
            pub fn all() -> Self {
                $name::ALL.iter().copied().collect()
            }

            /// Whether the set is empty.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether `value` is in the set.
            pub const fn contains(self, value: $name) -> bool {
                self.0 & value.bit() != 0
            }

            /// Adds `value`.
            pub fn insert(&mut self, value: $name) {
                self.0 |= value.bit();
            }

            /// The set with `value` added.
            #[must_use]
            pub const fn with(self, value: $name) -> Self {
                $set(self.0 | value.bit())
            }

            /// Values in both sets.
            #[must_use]
            pub const fn intersection(self, other: Self) -> Self {
                $set(self.0 & other.0)
            }

            /// Values in either set.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                $set(self.0 | other.0)
            }

            /// Values in `self` but not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                $set(self.0 & !other.0)
            }

            /// Whether every value of `self` is in `other`.
            pub const fn is_subset(self, other: Self) -> bool {
                self.0 & !other.0 == 0
            }

            /// Whether the sets share a value.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// Number of values.
            pub const fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// The values, in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                $name::ALL.iter().copied().filter(move |v| self.contains(*v))
            }

            /// An empty set stands for "any value" in rules and provisions.
            pub const fn matches(self, value: $name) -> bool {
                self.0 == 0 || self.contains(value)
            }
        }

        impl FromIterator<$name> for $set {
            fn from_iter<I: IntoIterator<Item = $name>>(iter: I) -> Self {
                let mut s = $set::EMPTY;
                for v in iter {
                    s.insert(v);
                }
                s
            }
        }

        impl From<$name> for $set {
            fn from(v: $name) -> Self {
                $set(v.bit())
            }
        }

        impl fmt::Debug for $set {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_set().entries(self.iter().map(|v| v.code())).finish()
            }
        }

        impl Serialize for $set {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.iter())
            }
        }

        impl<'de> Deserialize<'de> for $set {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let values = Vec::<$name>::deserialize(d)?;
                Ok(values.into_iter().collect())
            }
        }
    };
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

vocabulary! {
    /// A class of patient data, the unit of HIPAA "minimum necessary" rules.
    DataClass, ClassSet, "data class" {
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

vocabulary! {
    /// HL7 v3 ActCode sensitivity labels carried by data.
    SecurityLabel, LabelSet, "security label" {
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
        /// Telephone call.
        Phone = "phone",
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

/// HL7 v3 confidentiality code of the requested data, ordered from least to most restricted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidentiality {
    /// Normal.
    #[default]
    Normal,
    /// Restricted.
    Restricted,
    /// Very restricted.
    VeryRestricted,
}

impl Confidentiality {
    /// The HL7 code (`N`, `R`, `V`).
    pub const fn code(self) -> &'static str {
        match self {
            Confidentiality::Normal => "N",
            Confidentiality::Restricted => "R",
            Confidentiality::VeryRestricted => "V",
        }
    }

    /// Looks an HL7 code up.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "N" => Some(Confidentiality::Normal),
            "R" => Some(Confidentiality::Restricted),
            "V" => Some(Confidentiality::VeryRestricted),
            _ => None,
        }
    }
}

impl Serialize for Confidentiality {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Confidentiality {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Confidentiality::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown confidentiality `{code}`")))
    }
}

impl From<bedside_core::Channel> for AccessChannel {
    fn from(c: bedside_core::Channel) -> Self {
        match c {
            bedside_core::Channel::Sms => AccessChannel::Sms,
            bedside_core::Channel::Email => AccessChannel::Email,
            bedside_core::Channel::Voice => AccessChannel::Phone,
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
        assert!(serde_json::from_str::<ClassSet>(r#"["x-rays"]"#).is_err());
        assert_eq!(format!("{s:?}"), r#"{"billing", "vitals"}"#);
        assert_eq!(ClassSet::all().len(), DataClass::ALL.len());
        Ok(())
    }
}
