//! Conversions to and from the `time` crate (feature `time`).
//!
//! Bedside's one instant type is `chrono::DateTime<Utc>`; these functions let services built on
//! `time` exchange values with it without a second time type inside Bedside.

use crate::time::Timestamp;
use chrono::{Datelike, NaiveDate};

/// Converts an instant to a `time::OffsetDateTime` in UTC.
///
/// Returns `None` when the instant is outside `time`'s supported range.
pub fn to_offset_date_time(at: Timestamp) -> Option<time::OffsetDateTime> {
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// Converts a `time::OffsetDateTime` (any offset) to an instant.
///
/// Returns `None` when the value is outside chrono's supported range.
pub fn from_offset_date_time(at: time::OffsetDateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond())
}

/// Converts a calendar date to a `time::Date`.
///
/// Returns `None` when the date is outside `time`'s supported range.
pub fn to_time_date(date: NaiveDate) -> Option<time::Date> {
    let month = time::Month::try_from(u8::try_from(date.month()).ok()?).ok()?;
    time::Date::from_calendar_date(date.year(), month, u8::try_from(date.day()).ok()?).ok()
}

/// Converts a `time::Date` to a calendar date.
pub fn from_time_date(date: time::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        date.year(),
        u32::from(u8::from(date.month())),
        u32::from(date.day()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip() {
        let at: Timestamp = "2026-03-08T07:00:00.123456789Z".parse().unwrap_or_default();
        let odt = to_offset_date_time(at);
        assert_eq!(odt.map(|o| o.unix_timestamp()), Some(at.timestamp()));
        assert_eq!(odt.map(|o| o.nanosecond()), Some(123_456_789));
        assert_eq!(odt.and_then(from_offset_date_time), Some(at));
    }

    #[test]
    fn offset_is_respected() {
        let local = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).map(|t| {
            t.to_offset(time::UtcOffset::from_hms(-5, 0, 0).unwrap_or(time::UtcOffset::UTC))
        });
        let back = local.ok().and_then(from_offset_date_time);
        assert_eq!(back.map(|b| b.timestamp()), Some(1_800_000_000));
    }

    #[test]
    fn dates_round_trip() {
        for s in ["1880-01-01", "1970-03-14", "2024-02-29", "2099-12-31"] {
            let d: NaiveDate = s.parse().unwrap_or_default();
            let t = to_time_date(d);
            assert!(t.is_some(), "{s}");
            assert_eq!(t.and_then(from_time_date), Some(d));
        }
    }
}
