//! What the records share: ids, instants, periods, zones and closed code lists, each stored
//! as text and read back by hand so that a bad value becomes [`JournalError::Invalid`] with
//! the field's name and never the value (the values are PHI or identify a person).

use crate::journal::JournalError;
use bedside_core::{Period, Sensitive, Timestamp, TypedId};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

/// An invalid value: names the field and what it should be, never the value.
pub(crate) fn invalid(field: &str, what: &str) -> JournalError {
    JournalError::Invalid(format!("`{field}` is not {what}"))
}

/// A stored id (a UUID in any form the domain ids accept).
pub(crate) fn id<I: TypedId>(text: &str, field: &str) -> Result<I, JournalError> {
    uuid::Uuid::try_parse(text)
        .map(I::from_uuid)
        .map_err(|_| invalid(field, "a valid id"))
}

/// A stored optional id.
pub(crate) fn opt_id<I: TypedId>(
    text: Option<&str>,
    field: &str,
) -> Result<Option<I>, JournalError> {
    text.map(|t| id(t, field)).transpose()
}

/// Stored ids, in order.
pub(crate) fn ids<I: TypedId>(texts: &[String], field: &str) -> Result<Vec<I>, JournalError> {
    texts.iter().map(|t| id(t, field)).collect()
}

/// How an id is stored: the hyphenated lowercase UUID.
pub(crate) fn id_text<I: TypedId>(id: &I) -> String {
    id.as_uuid().hyphenated().to_string()
}

/// How ids are stored.
pub(crate) fn id_texts<I: TypedId>(ids: &[I]) -> Vec<String> {
    ids.iter().map(id_text).collect()
}

/// A stored instant (RFC 3339; any offset, read as UTC).
pub(crate) fn instant(text: &str, field: &str) -> Result<Timestamp, JournalError> {
    text.parse::<Timestamp>()
        .map_err(|_| invalid(field, "a valid instant"))
}

/// A stored optional instant.
pub(crate) fn opt_instant(
    text: Option<&str>,
    field: &str,
) -> Result<Option<Timestamp>, JournalError> {
    text.map(|t| instant(t, field)).transpose()
}

/// How an instant is stored: RFC 3339 in UTC with `Z`, with as many fractional digits as it
/// needs (0, 3, 6 or 9), as format 1 wrote them.
pub(crate) fn instant_text(at: &Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A stored IANA time zone name.
pub(crate) fn zone(text: &str, field: &str) -> Result<chrono_tz::Tz, JournalError> {
    text.parse::<chrono_tz::Tz>()
        .map_err(|_| invalid(field, "a known time zone"))
}

/// A stored local time of day (`HH:MM:SS`, fractional seconds allowed).
pub(crate) fn time_of_day(text: &str, field: &str) -> Result<chrono::NaiveTime, JournalError> {
    text.parse::<chrono::NaiveTime>()
        .map_err(|_| invalid(field, "a valid time of day"))
}

/// Free text or another sensitive value, stored as the text itself.
pub(crate) fn exposed(value: &Sensitive<String>) -> String {
    value.expose().clone()
}

/// Optional sensitive text.
pub(crate) fn opt_exposed(value: Option<&Sensitive<String>>) -> Option<String> {
    value.map(exposed)
}

/// Sensitive text values.
pub(crate) fn all_exposed(values: &[Sensitive<String>]) -> Vec<String> {
    values.iter().map(exposed).collect()
}

/// Text read back into [`Sensitive`] values.
pub(crate) fn all_sensitive(values: Vec<String>) -> Vec<Sensitive<String>> {
    values.into_iter().map(Sensitive::new).collect()
}

/// Each item converted with `f`; the first failure wins.
pub(crate) fn each<T, U>(
    items: Vec<T>,
    f: impl Fn(T) -> Result<U, JournalError>,
) -> Result<Vec<U>, JournalError> {
    items.into_iter().map(f).collect()
}

/// A half-open period between two instants.
#[derive(Serialize, Deserialize)]
pub struct PeriodRecord {
    /// The first instant.
    pub start: String,
    /// The first instant after it.
    pub end: String,
}

impl PeriodRecord {
    /// The period; `field` names it in errors.
    pub(crate) fn read(self, field: &str) -> Result<Period, JournalError> {
        let start = instant(&self.start, field)?;
        let end = instant(&self.end, field)?;
        Period::new(start, end)
            .map_err(|_| invalid(field, "a period that does not end before it starts"))
    }
}

impl From<&Period> for PeriodRecord {
    fn from(p: &Period) -> Self {
        Self {
            start: instant_text(&p.start()),
            end: instant_text(&p.end()),
        }
    }
}

/// Defines a record enum for a closed list of codes, one variant per domain variant (same
/// names), with the stored code of each, and the conversions both ways. Both matches are
/// exhaustive: a variant added to the domain enum stops this crate compiling until the
/// journal gives it a code.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident => $domain:ty {
        $($variant:ident = $code:literal $(| $alias:literal)*),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[doc = concat!("`", $code, "`.")]
                #[serde(rename = $code $(, alias = $alias)*)]
                $variant,
            )+
        }

        impl From<$name> for $domain {
            fn from(code: $name) -> Self {
                type D = $domain;
                match code {
                    $($name::$variant => D::$variant,)+
                }
            }
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                type D = $domain;
                match value {
                    $(D::$variant => $name::$variant,)+
                }
            }
        }
    };
}
pub(crate) use codes;
