//! [`Confidentiality`]: the HL7 v3 confidentiality level of a piece of data, shared by the
//! patient record (which labels entries) and the consent engine (which decides on them).

use crate::code::{self, Coding};
use serde::{Deserialize, Serialize};

/// HL7 v3 Confidentiality level, ordered from least to most restricted among those Bedside
/// uses (`N` < `R` < `V`).
///
/// On the wire it is the HL7 code (`"N"`, `"R"`, `"V"`); reading also accepts the spelled-out
/// forms `"normal"`, `"restricted"` and `"very_restricted"` that earlier versions wrote.
///
/// ```
/// use bedside_core::Confidentiality;
///
/// assert!(Confidentiality::Restricted > Confidentiality::Normal);
/// assert_eq!(Confidentiality::from_code("V"), Some(Confidentiality::VeryRestricted));
/// assert_eq!(serde_json::to_string(&Confidentiality::Restricted)?, "\"R\"");
/// assert_eq!(serde_json::from_str::<Confidentiality>("\"restricted\"")?, Confidentiality::Restricted);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidentiality {
    /// `N`: normal.
    #[default]
    Normal,
    /// `R`: restricted.
    Restricted,
    /// `V`: very restricted.
    VeryRestricted,
}

impl Confidentiality {
    /// Every level, least restricted first.
    pub const ALL: [Confidentiality; 3] = [
        Confidentiality::Normal,
        Confidentiality::Restricted,
        Confidentiality::VeryRestricted,
    ];

    /// The v3-Confidentiality code (`N`, `R`, `V`).
    pub const fn code(self) -> &'static str {
        match self {
            Confidentiality::Normal => code::confidentiality::N,
            Confidentiality::Restricted => code::confidentiality::R,
            Confidentiality::VeryRestricted => code::confidentiality::V,
        }
    }

    /// Looks a v3-Confidentiality code up (`N`, `R`, `V`).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The code as a [`Coding`] in the v3-Confidentiality system.
    pub fn coding(self) -> Coding {
        Coding::new(code::system::CONFIDENTIALITY, self.code())
    }
}

impl std::fmt::Display for Confidentiality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Confidentiality {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Confidentiality {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        match &*text {
            "normal" => Ok(Confidentiality::Normal),
            "restricted" => Ok(Confidentiality::Restricted),
            "very_restricted" => Ok(Confidentiality::VeryRestricted),
            other => Confidentiality::from_code(other).ok_or_else(|| {
                // Codes are not PHI, but the input may not be a code at all: do not quote it.
                serde::de::Error::custom("unknown confidentiality: expected N, R or V")
            }),
        }
    }
}
