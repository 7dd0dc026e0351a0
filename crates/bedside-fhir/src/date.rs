//! FHIR `date`, `dateTime` and `instant` values with their precision, and checked
//! conversion to instants.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, Utc,
};
use std::fmt;

/// How much of a [`FhirDateTime`] is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// `2026`.
    Year,
    /// `2026-06`.
    Month,
    /// `2026-06-03`.
    Day,
    /// `2026-06-03T13:28:17-05:00` (with or without fractional seconds).
    Time,
}

/// A FHIR `date` or `dateTime`, kept as its exact text so that precision and offset survive a
/// round trip. Parsing follows the R4 regular expression: four-digit years 0001–9999, a time
/// only with seconds and an offset. `Debug` shows only the precision, since dates are often
/// birth dates.
///
/// All arithmetic is checked: an end that cannot be represented is `None`, never a panic.
///
/// ```
/// use bedside_fhir::{FhirDateTime, Precision};
/// let d = FhirDateTime::parse("2026-02").ok_or("not a date")?;
/// assert_eq!(d.precision(), Precision::Month);
/// assert_eq!(d.start().ok_or("?")?.to_rfc3339(), "2026-02-01T00:00:00+00:00");
/// assert_eq!(d.end_exclusive().ok_or("?")?.to_rfc3339(), "2026-03-01T00:00:00+00:00");
/// assert!(FhirDateTime::parse("+262142-12-31").is_none());
/// assert!(FhirDateTime::parse("2026-06-03T10:00").is_none());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FhirDateTime {
    text: String,
    precision: Precision,
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl FhirDateTime {
    /// Parses a FHIR `date` or `dateTime`.
    pub fn parse(text: &str) -> Option<Self> {
        let (date, time) = match text.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let year = digits(parts.next()?, 4)?;
        if year == 0 {
            return None;
        }
        let month = parts
            .next()
            .map(|m| digits(m, 2))
            .map_or(Ok(None), |m| m.map(Some).ok_or(()));
        let day = parts
            .next()
            .map(|d| digits(d, 2))
            .map_or(Ok(None), |d| d.map(Some).ok_or(()));
        let (Ok(month), Ok(day)) = (month, day) else {
            return None;
        };
        if parts.next().is_some() {
            return None;
        }
        let precision = match (month, day, time) {
            (None, None, None) => Precision::Year,
            (Some(m), None, None) if (1..=12).contains(&m) => Precision::Month,
            (Some(m), Some(d), None) => {
                NaiveDate::from_ymd_opt(year as i32, m, d)?;
                Precision::Day
            }
            (Some(_), Some(_), Some(_)) => {
                // A time needs seconds and an offset; chrono checks the rest.
                DateTime::parse_from_rfc3339(text).ok()?;
                if time?.len() < 9 {
                    return None;
                }
                Precision::Time
            }
            _ => return None,
        };
        Some(Self {
            text: text.to_string(),
            precision,
        })
    }

    /// Parses a FHIR `date` (no time).
    pub fn parse_date(text: &str) -> Option<Self> {
        Self::parse(text).filter(|d| d.precision != Precision::Time)
    }

    /// Parses a FHIR `instant` (a full date-time with seconds and offset).
    pub fn parse_instant(text: &str) -> Option<Self> {
        Self::parse(text).filter(|d| d.precision == Precision::Time)
    }

    /// An instant, written in UTC with `Z` and whole seconds unless it has a fraction.
    pub fn from_instant(t: DateTime<Utc>) -> Self {
        Self {
            text: t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            precision: Precision::Time,
        }
    }

    /// A date known to the day.
    pub fn from_date(d: NaiveDate) -> Self {
        Self {
            text: d.format("%Y-%m-%d").to_string(),
            precision: Precision::Day,
        }
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How much is known.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The first day this value can denote.
    pub fn first_day(&self) -> Option<NaiveDate> {
        let year = self.text.get(0..4)?.parse().ok()?;
        let month = self.text.get(5..7).map_or(Some(1), |m| m.parse().ok())?;
        let day = self.text.get(8..10).map_or(Some(1), |d| d.parse().ok())?;
        match self.precision {
            Precision::Time => Some(self.offset_time()?.date_naive()),
            _ => NaiveDate::from_ymd_opt(year, month, day),
        }
    }

    fn offset_time(&self) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(&self.text).ok()
    }

    /// The earliest instant this value denotes. Dates without a time are read in UTC, as
    /// FHIR leaves their zone to the context.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        match self.precision {
            Precision::Time => Some(self.offset_time()?.with_timezone(&Utc)),
            _ => Some(self.first_day()?.and_time(NaiveTime::MIN).and_utc()),
        }
    }

    /// The first instant after everything this value denotes: `2026-02` ends at
    /// `2026-03-01T00:00Z`, `2026-02-03` at `2026-02-04T00:00Z`, an instant at itself plus one
    /// second when written to the second (FHIR periods are inclusive at their precision).
    /// `None` when that instant cannot be represented.
    pub fn end_exclusive(&self) -> Option<DateTime<Utc>> {
        let first = self.first_day()?;
        let next_day = match self.precision {
            Precision::Year => NaiveDate::from_ymd_opt(first.year().checked_add(1)?, 1, 1)?,
            Precision::Month => first.checked_add_months(chrono::Months::new(1))?,
            Precision::Day => first.succ_opt()?,
            Precision::Time => {
                let t = self.start()?;
                let whole_seconds = !self.text.contains('.');
                return if whole_seconds {
                    t.checked_add_signed(TimeDelta::seconds(1))
                } else {
                    Some(t)
                };
            }
        };
        Some(next_day.and_time(NaiveTime::MIN).and_utc())
    }
}

impl TryFrom<String> for FhirDateTime {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or("not a FHIR dateTime")
    }
}

impl From<FhirDateTime> for String {
    fn from(d: FhirDateTime) -> Self {
        d.text
    }
}

impl fmt::Debug for FhirDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FhirDateTime({:?}, <redacted>)", self.precision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_follows_the_r4_pattern() {
        for ok in [
            "2026",
            "2026-06",
            "2026-06-03",
            "2026-06-03T13:28:17-05:00",
            "2026-06-03T13:28:17.239Z",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert!(FhirDateTime::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "26",
            "+262142-12-31",
            "0000",
            "2026-13",
            "2026-02-30",
            "2026-06-03T13:28Z",
            "2026-06-03T13:28:17",
            "2026-06T10:00:00Z",
            "2026-06-03-01",
            "２０２６",
        ] {
            assert!(FhirDateTime::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ends_are_exclusive_and_checked() {
        let end = |s: &str| {
            FhirDateTime::parse(s)
                .and_then(|d| d.end_exclusive())
                .map(|t| t.to_rfc3339())
        };
        assert_eq!(end("2026").as_deref(), Some("2027-01-01T00:00:00+00:00"));
        assert_eq!(end("2026-12").as_deref(), Some("2027-01-01T00:00:00+00:00"));
        assert_eq!(
            end("2026-12-31").as_deref(),
            Some("2027-01-01T00:00:00+00:00")
        );
        assert_eq!(
            end("9999-12-31").as_deref(),
            Some("+10000-01-01T00:00:00+00:00")
        );
        assert_eq!(
            end("2026-06-03T10:00:00+02:00").as_deref(),
            Some("2026-06-03T08:00:01+00:00")
        );
        let debug = format!("{:?}", FhirDateTime::parse("1985-12-10"));
        assert!(!debug.contains("1985"), "{debug}");
    }

    proptest! {
        #[test]
        fn never_panics(text in "[0-9T:+.Z-]{0,30}") {
            if let Some(d) = FhirDateTime::parse(&text) {
                let _ = (d.start(), d.end_exclusive(), d.first_day());
            }
        }
    }
}
