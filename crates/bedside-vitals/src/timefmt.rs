//! A small, allocation-free RFC 3339 timestamp parser (the ingestion hot path) and
//! conversions between the compact `(utc_millis, offset_minutes)` form and chrono.

use chrono::{DateTime, FixedOffset, TimeZone};

/// A parsed instant: milliseconds since the Unix epoch (UTC) and the original UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub utc_ms: i64,
    pub offset_minutes: i16,
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for i in 0..n {
        let c = *b.get(at + i)?;
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Days from 1970-01-01 to the civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

fn date(b: &[u8]) -> Option<i64> {
    let y = digits(b, 0, 4)?;
    let m = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A timestamp without an offset is
/// rejected: local times without a zone are ambiguous.
pub(crate) fn parse_rfc3339(text: &str) -> Option<Stamp> {
    let b = text.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return None;
    }
    let days = date(b)?;
    if !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hh = digits(b, 11, 2)?;
    let mm = digits(b, 14, 2)?;
    let ss = digits(b, 17, 2)?;
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes: i32 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let total = i32::try_from(oh * 60 + om).ok()?;
            if sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let local_ms = days * 86_400_000
        + i64::from(hh) * 3_600_000
        + i64::from(mm) * 60_000
        + i64::from(ss) * 1000
        + i64::from(millis);
    Some(Stamp {
        utc_ms: local_ms - i64::from(offset_minutes) * 60_000,
        offset_minutes: i16::try_from(offset_minutes).ok()?,
    })
}

/// The `offset_minutes` of a stamp known only to the day (stored as midnight UTC). No real
/// offset is near it: offsets are less than a day, ±1440 minutes.
pub(crate) const DATE_ONLY: i16 = i16::MIN;

/// Parses an RFC 3339 timestamp, or a FHIR `date` (`YYYY-MM-DD`, taken as midnight UTC and
/// marked [`DATE_ONLY`] so export writes the date again), as FHIR `dateTime` allows date
/// precision.
pub(crate) fn parse_fhir_datetime(text: &str) -> Option<Stamp> {
    if text.len() == 10 {
        let days = date(text.as_bytes())?;
        return Some(Stamp {
            utc_ms: days * 86_400_000,
            offset_minutes: DATE_ONLY,
        });
    }
    parse_rfc3339(text)
}

/// The chrono value of a stamp.
pub(crate) fn to_datetime(stamp: Stamp) -> Option<DateTime<FixedOffset>> {
    let minutes = if stamp.offset_minutes == DATE_ONLY {
        0
    } else {
        i32::from(stamp.offset_minutes)
    };
    let offset = FixedOffset::east_opt(minutes * 60)?;
    offset.timestamp_millis_opt(stamp.utc_ms).single()
}

/// The stamp of a chrono value.
pub(crate) fn from_datetime(at: &DateTime<FixedOffset>) -> Stamp {
    Stamp {
        utc_ms: at.timestamp_millis(),
        // An offset is less than a day, so whole minutes fit in i16.
        offset_minutes: i16::try_from(at.offset().local_minus_utc() / 60).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<&str>) {
        let got = parse_rfc3339(text)
            .and_then(to_datetime)
            .map(|d| d.to_rfc3339());
        let want = expected.map(|e| {
            DateTime::parse_from_rfc3339(e)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default()
        });
        assert_eq!(got, want, "{text}");
    }

    #[test]
    fn rfc3339_cases() {
        check(
            "2026-03-01T08:00:00+01:00",
            Some("2026-03-01T08:00:00+01:00"),
        );
        check(
            "2020-02-05T07:25:00-08:00",
            Some("2020-02-05T07:25:00-08:00"),
        );
        check("2024-02-29T23:59:59.123Z", Some("2024-02-29T23:59:59.123Z"));
        check(
            "2011-08-24T06:05:58.980+00:00",
            Some("2011-08-24T06:05:58.980Z"),
        );
        check("1969-12-31T23:00:00Z", Some("1969-12-31T23:00:00Z"));
        check("2023-02-29T00:00:00Z", None);
        check("2026-03-01T08:00:00", None);
        check("2026-03-01T24:00:00Z", None);
        check("2026-13-01T08:00:00Z", None);
        check("2026-03-01T08:00:00+01", None);
        check("2026-03-01T08:00:00.Z", None);
        check("", None);
        assert_eq!(
            parse_fhir_datetime("1999-07-02").map(|s| s.utc_ms),
            Some(930_873_600_000)
        );
        assert!(parse_rfc3339("2026-03-01T08:00:00+01:00x").is_none());
    }
}
