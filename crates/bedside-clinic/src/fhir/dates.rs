//! Date search parameters (`start`, `date`): the R4 prefixes `eq`, `ge`, `gt`, `le`, `lt` on a
//! day (`2026-06-09`) or an instant (`2026-06-09T13:00:00Z`, any offset), each value
//! covering the instants `[lower, upper)` (a day, or one second).

use crate::error::ClinicError;
use bedside_core::Timestamp;
use chrono::{NaiveDate, TimeDelta};

/// A date comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Within the value's range (also no prefix).
    Eq,
    /// At or after its start.
    Ge,
    /// After its range.
    Gt,
    /// Before its end.
    Le,
    /// Before its start.
    Lt,
}

/// One date criterion: a prefix and the range its value covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateBound {
    /// The comparison.
    pub prefix: Prefix,
    /// Start of the value's range.
    pub lower: Timestamp,
    /// End of the value's range (exclusive).
    pub upper: Timestamp,
}

impl DateBound {
    /// Parses `value` of parameter `name`.
    ///
    /// # Errors
    /// Bad request naming `name`, never the value.
    pub fn parse(name: &str, value: &str) -> Result<Self, ClinicError> {
        let bad = || {
            ClinicError::bad(format!(
                "{name}: expected an optional prefix (eq, ge, gt, le, lt) and a date or instant"
            ))
        };
        let (prefix, rest) = match value.get(..2) {
            Some("eq") => (Prefix::Eq, &value[2..]),
            Some("ge") => (Prefix::Ge, &value[2..]),
            Some("gt") => (Prefix::Gt, &value[2..]),
            Some("le") => (Prefix::Le, &value[2..]),
            Some("lt") => (Prefix::Lt, &value[2..]),
            _ => (Prefix::Eq, value),
        };
        let (lower, upper) = if rest.len() == 10 {
            let day = NaiveDate::parse_from_str(rest, "%Y-%m-%d").map_err(|_| bad())?;
            let lower = day.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc();
            (lower, lower.checked_add_signed(TimeDelta::days(1)))
        } else {
            let lower: Timestamp = chrono::DateTime::parse_from_rfc3339(rest)
                .map_err(|_| bad())?
                .to_utc();
            (lower, lower.checked_add_signed(TimeDelta::seconds(1)))
        };
        Ok(DateBound {
            prefix,
            lower,
            upper: upper.ok_or_else(bad)?,
        })
    }

    /// Whether instant `t` meets the criterion.
    pub fn matches(&self, t: Timestamp) -> bool {
        match self.prefix {
            Prefix::Eq => self.lower <= t && t < self.upper,
            Prefix::Ge => t >= self.lower,
            Prefix::Gt => t >= self.upper,
            Prefix::Le => t < self.upper,
            Prefix::Lt => t < self.lower,
        }
    }

    /// The earliest instant that can match, if bounded below.
    pub fn earliest(&self) -> Option<Timestamp> {
        match self.prefix {
            Prefix::Eq | Prefix::Ge => Some(self.lower),
            Prefix::Gt => Some(self.upper),
            Prefix::Le | Prefix::Lt => None,
        }
    }

    /// The latest instant that can match (inclusive), if bounded above.
    pub fn latest(&self) -> Option<Timestamp> {
        let before = |t: Timestamp| t.checked_sub_signed(TimeDelta::nanoseconds(1));
        match self.prefix {
            Prefix::Eq | Prefix::Le => before(self.upper),
            Prefix::Lt => before(self.lower),
            Prefix::Ge | Prefix::Gt => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_bound_the_instants_they_say() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap_or(Timestamp::UNIX_EPOCH);
        let at = t("2026-06-09T13:00:00Z");
        // (value, matches 13:00 that day, matches 12:59:59, matches the next day)
        let cases: &[(&str, bool, bool, bool)] = &[
            ("2026-06-09", true, true, false),
            ("eq2026-06-09T13:00:00Z", true, false, false),
            ("ge2026-06-09T13:00:00Z", true, false, true),
            ("gt2026-06-09T13:00:00Z", false, false, true),
            ("le2026-06-09T13:00:00Z", true, true, false),
            ("lt2026-06-09T13:00:00Z", false, true, false),
            ("gt2026-06-09", false, false, true),
            ("lt2026-06-10", true, true, false),
            ("ge2026-06-09T15:00:00+02:00", true, false, true),
        ];
        for (value, now, before, next_day) in cases {
            let b = DateBound::parse("date", value).unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(b.matches(at), *now, "{value}");
            assert_eq!(b.matches(t("2026-06-09T12:59:59Z")), *before, "{value}");
            assert_eq!(b.matches(t("2026-06-10T09:00:00Z")), *next_day, "{value}");
        }
        for bad in [
            "Zebulon",
            "ne2026-06-09",
            "2026-13-01",
            "ge2026",
            "2026-06-09T13:00",
        ] {
            let e = DateBound::parse("date", bad).err().map(|e| e.to_string());
            let e = e.unwrap_or_default();
            assert!(e.contains("date") && !e.contains(bad), "{bad}: {e}");
        }
    }
}
