//! Time: the injectable [`Clock`], half-open [`Period`]s and FHIR-style [`PartialDate`]s.
//!
//! Instants are `chrono::DateTime<Utc>` everywhere; clinic-local times use `chrono_tz::Tz`.
//! Domain crates never read a clock: their operations take the instant as `at: Timestamp`.
//! [`Clock`] is for the composing layer (a service reads a [`SystemClock`], tests use
//! [`ManualClock`]) and for [`crate::SeededIdGenerator`], whose UUID v7 ids embed a time.

use crate::error::CoreError;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

/// An instant in UTC, the one instant type of the workspace.
pub type Timestamp = DateTime<Utc>;

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The operating system's clock. Only binaries and `bedside-clinic` should construct one.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// A clock that reads whatever it was last set to: for tests, simulations and replays.
///
/// Stored as microseconds since the Unix epoch in an atomic, so it can be shared across
/// threads and advanced without locks.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// Creates a clock showing `at` (truncated to the microsecond).
    pub fn new(at: Timestamp) -> Self {
        Self {
            micros: AtomicI64::new(at.timestamp_micros()),
        }
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.micros.store(at.timestamp_micros(), Ordering::SeqCst);
    }

    /// Moves the clock forward (or backward, for a negative delta) by `delta`.
    pub fn advance(&self, delta: TimeDelta) {
        let step = delta.num_microseconds().unwrap_or(i64::MAX);
        // Saturate rather than wrap: a test that advances past year 294,000 gets a stuck clock,
        // not a negative one.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(step))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// A half-open interval of instants, `[start, end)`: the start is included, the end is not.
///
/// Two back-to-back appointments `[09:00, 09:30)` and `[09:30, 10:00)` therefore do not overlap.
/// A period with `start == end` is empty: it contains nothing and overlaps nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "PeriodRepr", into = "PeriodRepr")]
pub struct Period {
    start: Timestamp,
    end: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct PeriodRepr {
    start: Timestamp,
    end: Timestamp,
}

impl TryFrom<PeriodRepr> for Period {
    type Error = CoreError;
    fn try_from(r: PeriodRepr) -> Result<Self, CoreError> {
        Period::new(r.start, r.end)
    }
}

impl From<Period> for PeriodRepr {
    fn from(p: Period) -> Self {
        PeriodRepr {
            start: p.start,
            end: p.end,
        }
    }
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {})",
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Period {
    /// Creates `[start, end)`.
    ///
    /// # Errors
    /// Returns [`CoreError::PeriodEndBeforeStart`] when `end < start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, CoreError> {
        if end < start {
            return Err(CoreError::PeriodEndBeforeStart);
        }
        Ok(Self { start, end })
    }

    /// Creates `[start, start + length)`; a negative length is treated as zero.
    pub fn starting_at(start: Timestamp, length: TimeDelta) -> Self {
        let end = start
            .checked_add_signed(length.max(TimeDelta::zero()))
            .unwrap_or(start);
        Self { start, end }
    }

    /// The first instant in the period.
    pub const fn start(&self) -> Timestamp {
        self.start
    }

    /// The first instant after the period.
    pub const fn end(&self) -> Timestamp {
        self.end
    }

    /// The length of the period.
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// Whether the period contains no instant.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `at` lies in `[start, end)`.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// Whether every instant of `other` lies in `self`. An empty `other` is contained when its
    /// position lies within `[start, end]`.
    pub fn contains_period(&self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two periods share at least one instant. Empty periods overlap nothing.
    pub fn overlaps(&self, other: &Period) -> bool {
        // An empty period holds no instant, so it overlaps nothing — not even a period whose
        // interior it sits in.
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }

    /// The instants common to both periods, or `None` when they do not overlap.
    pub fn intersection(&self, other: &Period) -> Option<Period> {
        if !self.overlaps(other) {
            return None;
        }
        Some(Period {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
        })
    }
}

/// A date that may be known only to the year or month, as FHIR allows for birth dates:
/// `1970`, `1970-03` or `1970-03-14`.
///
/// Ordering compares the earliest day each value can denote, then precision (coarser first).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PartialDate {
    /// Only the year is known.
    Year(i32),
    /// Year and month (1–12) are known.
    YearMonth(i32, u32),
    /// The full date is known.
    Date(NaiveDate),
}

impl fmt::Debug for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Partial dates are usually birth dates: PHI. Show only the precision.
        match self {
            PartialDate::Year(_) => f.write_str("PartialDate::Year(<redacted>)"),
            PartialDate::YearMonth(..) => f.write_str("PartialDate::YearMonth(<redacted>)"),
            PartialDate::Date(_) => f.write_str("PartialDate::Date(<redacted>)"),
        }
    }
}

impl PartialDate {
    /// Builds a year-month value.
    ///
    /// # Errors
    /// Returns [`CoreError::InvalidPartialDate`] when the month is not 1–12 or the year is outside
    /// 0–9999 (FHIR's range).
    pub fn year_month(year: i32, month: u32) -> Result<Self, CoreError> {
        if !(0..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(CoreError::InvalidPartialDate);
        }
        Ok(Self::YearMonth(year, month))
    }

    /// The year, whatever the precision.
    pub fn year(&self) -> i32 {
        match self {
            PartialDate::Year(y) | PartialDate::YearMonth(y, _) => *y,
            PartialDate::Date(d) => d.year(),
        }
    }

    /// The month when known.
    pub fn month(&self) -> Option<u32> {
        match self {
            PartialDate::Year(_) => None,
            PartialDate::YearMonth(_, m) => Some(*m),
            PartialDate::Date(d) => Some(d.month()),
        }
    }

    /// The day of month when known.
    pub fn day(&self) -> Option<u32> {
        match self {
            PartialDate::Date(d) => Some(d.day()),
            _ => None,
        }
    }

    /// The full date, when known to the day.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            PartialDate::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The earliest day this value can denote.
    pub fn earliest(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1),
            PartialDate::YearMonth(y, m) => NaiveDate::from_ymd_opt(y, m, 1),
            PartialDate::Date(d) => Some(d),
        }
        .unwrap_or(NaiveDate::MIN)
    }

    /// The latest day this value can denote.
    pub fn latest(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31),
            PartialDate::YearMonth(y, m) => {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                NaiveDate::from_ymd_opt(ny, nm, 1).and_then(|d| d.pred_opt())
            }
            PartialDate::Date(d) => Some(d),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// Whether `date` is one of the days this value can denote.
    pub fn admits(&self, date: NaiveDate) -> bool {
        self.earliest() <= date && date <= self.latest()
    }

    fn precision_rank(&self) -> u8 {
        match self {
            PartialDate::Year(_) => 0,
            PartialDate::YearMonth(..) => 1,
            PartialDate::Date(_) => 2,
        }
    }
}

impl PartialOrd for PartialDate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PartialDate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.earliest()
            .cmp(&other.earliest())
            .then(self.precision_rank().cmp(&other.precision_rank()))
    }
}

impl From<NaiveDate> for PartialDate {
    fn from(d: NaiveDate) -> Self {
        PartialDate::Date(d)
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

fn digits(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl FromStr for PartialDate {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        let mut parts = s.split('-');
        let year = parts.next().and_then(|p| digits(p, 4));
        let month = parts.next().map(|p| digits(p, 2));
        let day = parts.next().map(|p| digits(p, 2));
        if parts.next().is_some() {
            return Err(CoreError::InvalidPartialDate);
        }
        let year = i32::try_from(year.ok_or(CoreError::InvalidPartialDate)?)
            .map_err(|_| CoreError::InvalidPartialDate)?;
        match (month, day) {
            (None, None) => Ok(PartialDate::Year(year)),
            (Some(Some(m)), None) => PartialDate::year_month(year, m),
            (Some(Some(m)), Some(Some(d))) => NaiveDate::from_ymd_opt(year, m, d)
                .map(PartialDate::Date)
                .ok_or(CoreError::InvalidPartialDate),
            _ => Err(CoreError::InvalidPartialDate),
        }
    }
}

impl TryFrom<String> for PartialDate {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        s.parse()
    }
}

impl From<PartialDate> for String {
    fn from(d: PartialDate) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    fn period(a: &str, b: &str) -> Period {
        Period::new(at(a), at(b)).unwrap_or_else(|_| Period::starting_at(at(a), TimeDelta::zero()))
    }

    #[test]
    fn an_empty_period_inside_another_overlaps_nothing() {
        // Found by the `empty_periods_overlap_nothing` property: an empty period strictly
        // inside a longer one used to count as overlapping it.
        let empty = period("2056-01-08T09:05:53Z", "2056-01-08T09:05:53Z");
        let outer = period("2056-01-07T08:22:10Z", "2056-01-08T09:05:54Z");
        assert!(!empty.overlaps(&outer) && !outer.overlaps(&empty));
        assert_eq!(outer.intersection(&empty), None);
        assert!(outer.contains_period(&empty));
    }

    #[test]
    fn manual_clock_set_and_advance() {
        let c = ManualClock::new(at("2026-01-01T00:00:00Z"));
        c.advance(TimeDelta::minutes(90));
        assert_eq!(c.now(), at("2026-01-01T01:30:00Z"));
        c.set(at("2025-06-01T12:00:00Z"));
        assert_eq!(c.now(), at("2025-06-01T12:00:00Z"));
    }

    #[test]
    fn period_is_half_open() {
        let morning = period("2026-01-01T09:00:00Z", "2026-01-01T09:30:00Z");
        let next = period("2026-01-01T09:30:00Z", "2026-01-01T10:00:00Z");
        assert!(!morning.overlaps(&next));
        assert!(morning.contains(at("2026-01-01T09:00:00Z")));
        assert!(!morning.contains(at("2026-01-01T09:30:00Z")));
        assert_eq!(morning.intersection(&next), None);
        assert_eq!(morning.duration(), TimeDelta::minutes(30));
    }

    #[test]
    fn period_rejects_reversed_bounds() {
        assert_eq!(
            Period::new(at("2026-01-02T00:00:00Z"), at("2026-01-01T00:00:00Z")),
            Err(CoreError::PeriodEndBeforeStart)
        );
        let json = r#"{"start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}"#;
        assert!(serde_json::from_str::<Period>(json).is_err());
    }

    #[test]
    fn partial_dates_parse_and_display() {
        let cases = [
            ("1970", Some("1970")),
            ("1970-03", Some("1970-03")),
            ("1970-03-14", Some("1970-03-14")),
            ("1970-13", None),
            ("1970-02-30", None),
            ("70", None),
            ("1970-3-14", None),
            ("1970-03-14-01", None),
            ("", None),
            ("abcd", None),
        ];
        for (input, expected) in cases {
            let got = input.parse::<PartialDate>().ok().map(|d| d.to_string());
            assert_eq!(got.as_deref(), expected, "input {input:?}");
        }
    }

    #[test]
    fn partial_date_bounds_and_order() -> Result<(), CoreError> {
        let feb: PartialDate = "2024-02".parse()?;
        assert_eq!(feb.earliest().to_string(), "2024-02-01");
        assert_eq!(feb.latest().to_string(), "2024-02-29");
        let year: PartialDate = "2024".parse()?;
        assert!(year < feb);
        assert!(year.admits(feb.latest()));
        assert_eq!(format!("{feb:?}"), "PartialDate::YearMonth(<redacted>)");
        Ok(())
    }
}
