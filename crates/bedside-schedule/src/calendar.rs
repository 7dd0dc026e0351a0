//! Calendars in an IANA time zone: weekly availability templates with effective date ranges,
//! recurring blocked time (lunch, admin) and dated exceptions (leave, sick days, holidays,
//! extra clinics), resolved into concrete UTC periods that are correct across DST changes.

use bedside_core::{Period, Timestamp};
use chrono::{
    Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ScheduleError;

/// Most blocks in one template and most exceptions in one calendar.
pub const MAX_CALENDAR_ENTRIES: usize = 10_000;

/// A block of local wall-clock time on one weekday, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklyBlock {
    /// The weekday.
    pub weekday: Weekday,
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time (after `start`).
    pub end: NaiveTime,
}

impl WeeklyBlock {
    /// Creates a block.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] when `end <= start`.
    pub fn new(weekday: Weekday, start: NaiveTime, end: NaiveTime) -> Result<Self, ScheduleError> {
        if end <= start {
            return Err(ScheduleError::InvalidCalendar {
                reason: "block ends before it starts",
            });
        }
        Ok(Self {
            weekday,
            start,
            end,
        })
    }
}

/// Weekly working hours in effect from `effective_from` until (excluding) `effective_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyTemplate {
    /// First local date the template applies to.
    pub effective_from: NaiveDate,
    /// First local date it no longer applies to; `None` for open-ended.
    pub effective_until: Option<NaiveDate>,
    /// Working blocks (several per day allowed).
    pub blocks: Vec<WeeklyBlock>,
}

impl WeeklyTemplate {
    fn applies(&self, date: NaiveDate) -> bool {
        date >= self.effective_from && self.effective_until.is_none_or(|u| date < u)
    }
}

/// Why a dated exception exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Planned leave: unavailable.
    Leave,
    /// Sick day: unavailable.
    Sick,
    /// Public holiday: unavailable.
    Holiday,
    /// Blocked for other work (admin, teaching): unavailable.
    Blocked,
    /// An extra clinic: available on top of the template.
    ExtraClinic,
}

impl ExceptionKind {
    /// Whether the exception adds availability (otherwise it removes it).
    pub fn adds_availability(&self) -> bool {
        matches!(self, ExceptionKind::ExtraClinic)
    }
}

/// A dated exception over a concrete period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarException {
    /// What kind.
    pub kind: ExceptionKind,
    /// When.
    pub period: Period,
}

/// A resource's calendar: zone, templates, recurring blocked time and exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    zone: Tz,
    templates: Vec<WeeklyTemplate>,
    blocked: Vec<WeeklyBlock>,
    exceptions: Vec<CalendarException>,
}

impl Calendar {
    /// An empty calendar (never available) in `zone`.
    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            templates: Vec::new(),
            blocked: Vec::new(),
            exceptions: Vec::new(),
        }
    }

    /// The weekdays in order, Monday to Friday.
    pub const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    /// Monday-to-Friday working hours `[open, close)` of local time in `zone`, in effect on
    /// every date (one open-ended template). Add a daily break with
    /// [`Calendar::with_weekday_break`] and dated exceptions with
    /// [`Calendar::add_exception`].
    ///
    /// ```
    /// use bedside_schedule::{Calendar, Tz};
    /// use chrono::NaiveTime;
    ///
    /// let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).ok_or("bad time");
    /// let calendar = Calendar::weekdays(Tz::Europe__London, hm(9)?, hm(17)?)?
    ///     .with_weekday_break(hm(12)?, hm(13)?)?;
    /// let monday = Calendar::new(Tz::UTC).local_instant("2026-06-01".parse()?, hm(0)?);
    /// let day = bedside_core::Period::starting_at(monday, chrono::TimeDelta::days(1));
    /// // 09:00-12:00 and 13:00-17:00 local (BST), i.e. 08:00-11:00 and 12:00-16:00 UTC.
    /// assert_eq!(calendar.availability(day).len(), 2);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] when `close <= open`.
    pub fn weekdays(zone: Tz, open: NaiveTime, close: NaiveTime) -> Result<Self, ScheduleError> {
        let blocks = Self::WEEKDAYS
            .into_iter()
            .map(|w| WeeklyBlock::new(w, open, close))
            .collect::<Result<Vec<_>, _>>()?;
        let mut calendar = Self::new(zone);
        calendar.add_template(WeeklyTemplate {
            effective_from: NaiveDate::MIN,
            effective_until: None,
            blocks,
        })?;
        Ok(calendar)
    }

    /// Blocks local `[start, end)` on every weekday, Monday to Friday (lunch).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] when `end <= start` or there are too many blocks.
    pub fn with_weekday_break(
        mut self,
        start: NaiveTime,
        end: NaiveTime,
    ) -> Result<Self, ScheduleError> {
        for w in Self::WEEKDAYS {
            self.add_blocked(WeeklyBlock::new(w, start, end)?)?;
        }
        Ok(self)
    }

    /// The calendar's time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// Adds a weekly template.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] for an empty effective range or too many blocks.
    pub fn add_template(&mut self, template: WeeklyTemplate) -> Result<(), ScheduleError> {
        if template
            .effective_until
            .is_some_and(|u| u <= template.effective_from)
        {
            return Err(ScheduleError::InvalidCalendar {
                reason: "template effective range is empty",
            });
        }
        if template.blocks.len() > MAX_CALENDAR_ENTRIES
            || self.templates.len() >= MAX_CALENDAR_ENTRIES
        {
            return Err(ScheduleError::InvalidCalendar {
                reason: "too many blocks",
            });
        }
        self.templates.push(template);
        Ok(())
    }

    /// Adds recurring blocked time (lunch, admin) removed from every week's availability.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] when there are too many.
    pub fn add_blocked(&mut self, block: WeeklyBlock) -> Result<(), ScheduleError> {
        if self.blocked.len() >= MAX_CALENDAR_ENTRIES {
            return Err(ScheduleError::InvalidCalendar {
                reason: "too many blocks",
            });
        }
        self.blocked.push(block);
        Ok(())
    }

    /// Adds a dated exception.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidCalendar`] when there are too many.
    pub fn add_exception(&mut self, exception: CalendarException) -> Result<(), ScheduleError> {
        if self.exceptions.len() >= MAX_CALENDAR_ENTRIES {
            return Err(ScheduleError::InvalidCalendar {
                reason: "too many exceptions",
            });
        }
        self.exceptions.push(exception);
        Ok(())
    }

    /// The instant of local `date` at `time` in this calendar's zone: a time skipped by a
    /// spring-forward change resolves to the first instant after the gap, an ambiguous
    /// fall-back time to its first occurrence.
    pub fn local_instant(&self, date: NaiveDate, time: NaiveTime) -> Timestamp {
        resolve_local(self.zone, date.and_time(time))
    }

    /// Available periods within `range`, sorted and merged: template blocks, minus recurring
    /// blocked time, plus extra clinics, minus leave, sick days, holidays and blocked
    /// exceptions.
    pub fn availability(&self, range: Period) -> Vec<Period> {
        let first = range.start().with_timezone(&self.zone).date_naive() - TimeDelta::days(1);
        let last = range.end().with_timezone(&self.zone).date_naive() + TimeDelta::days(1);
        let mut open = Vec::new();
        let mut closed = Vec::new();
        let mut date = first;
        while date <= last {
            for t in self.templates.iter().filter(|t| t.applies(date)) {
                for b in t.blocks.iter().filter(|b| b.weekday == date.weekday()) {
                    open.push(self.block_period(date, b));
                }
            }
            for b in self.blocked.iter().filter(|b| b.weekday == date.weekday()) {
                closed.push(self.block_period(date, b));
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        for e in &self.exceptions {
            if e.kind.adds_availability() {
                open.push(e.period);
            }
        }
        // Extra clinics are added before subtractions so leave always wins.
        let mut out = merge(open);
        closed.extend(
            self.exceptions
                .iter()
                .filter(|e| !e.kind.adds_availability())
                .map(|e| e.period),
        );
        for c in merge(closed) {
            out = subtract(&out, &c);
        }
        out.into_iter()
            .filter_map(|p| p.intersection(&range))
            .filter(|p| !p.is_empty())
            .collect()
    }

    fn block_period(&self, date: NaiveDate, b: &WeeklyBlock) -> Period {
        let start = self.local_instant(date, b.start);
        let end = self.local_instant(date, b.end);
        Period::new(start, end.max(start))
            .unwrap_or_else(|_| Period::starting_at(start, TimeDelta::zero()))
    }
}

/// Resolves a local date-time in `zone` (gap → first instant after, ambiguous → first).
pub(crate) fn resolve_local(zone: Tz, naive: NaiveDateTime) -> Timestamp {
    let mut n = naive;
    // A gap is at most a few hours; step minute by minute through it.
    for _ in 0..(24 * 60) {
        match zone.from_local_datetime(&n) {
            LocalResult::Single(t) => return t.to_utc(),
            LocalResult::Ambiguous(a, _) => return a.to_utc(),
            LocalResult::None => n += TimeDelta::minutes(1),
        }
    }
    naive.and_utc()
}

/// Sorts and merges overlapping or touching periods.
pub(crate) fn merge(mut v: Vec<Period>) -> Vec<Period> {
    v.retain(|p| !p.is_empty());
    v.sort();
    let mut out: Vec<Period> = Vec::with_capacity(v.len());
    for p in v {
        match out.last_mut() {
            Some(last) if p.start() <= last.end() => {
                if p.end() > last.end() {
                    *last = Period::new(last.start(), p.end()).unwrap_or(*last);
                }
            }
            _ => out.push(p),
        }
    }
    out
}

/// `set - cut` for a sorted, merged `set`.
pub(crate) fn subtract(set: &[Period], cut: &Period) -> Vec<Period> {
    let mut out = Vec::with_capacity(set.len() + 1);
    for p in set {
        if !p.overlaps(cut) {
            out.push(*p);
            continue;
        }
        if p.start() < cut.start()
            && let Ok(a) = Period::new(p.start(), cut.start())
        {
            out.push(a);
        }
        if cut.end() < p.end()
            && let Ok(b) = Period::new(cut.end(), p.end())
        {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn weekly(zone: Tz, blocks: &[(Weekday, NaiveTime, NaiveTime)]) -> Calendar {
        let mut c = Calendar::new(zone);
        c.add_template(WeeklyTemplate {
            effective_from: d("2026-01-01"),
            effective_until: None,
            blocks: blocks
                .iter()
                .map(|&(w, s, e)| WeeklyBlock::new(w, s, e).unwrap())
                .collect(),
        })
        .unwrap();
        c
    }

    fn day_range(c: &Calendar, date: &str) -> Vec<(String, String)> {
        let start = c.local_instant(d(date), t(0, 0));
        let end = c.local_instant(d(date).succ_opt().unwrap(), t(0, 0));
        c.availability(Period::new(start, end).unwrap())
            .iter()
            .map(|p| (p.start().to_rfc3339(), p.end().to_rfc3339()))
            .collect()
    }

    fn s(a: &str, b: &str) -> (String, String) {
        (at(a).to_rfc3339(), at(b).to_rfc3339())
    }

    #[test]
    fn spring_forward_and_fall_back_in_new_york() {
        let ny = chrono_tz::America::New_York;
        // 2026-03-08 is a Sunday: clocks go 02:00 → 03:00. 2026-11-01 (Sunday): 02:00 → 01:00.
        let c = weekly(
            ny,
            &[
                (Weekday::Sat, t(8, 0), t(12, 0)),
                (Weekday::Sun, t(1, 0), t(4, 0)),
                (Weekday::Sun, t(8, 0), t(12, 0)),
            ],
        );
        // Saturday before: EST (UTC-5).
        assert_eq!(
            day_range(&c, "2026-03-07"),
            vec![s("2026-03-07T13:00:00Z", "2026-03-07T17:00:00Z")]
        );
        // Spring-forward Sunday: 01:00 EST – 04:00 EDT is only 2 real hours; 08:00 is EDT (UTC-4).
        assert_eq!(
            day_range(&c, "2026-03-08"),
            vec![
                s("2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z"),
                s("2026-03-08T12:00:00Z", "2026-03-08T16:00:00Z")
            ]
        );
        // Fall-back Sunday: 01:00 EDT – 04:00 EST is 4 real hours.
        assert_eq!(
            day_range(&c, "2026-11-01"),
            vec![
                s("2026-11-01T05:00:00Z", "2026-11-01T09:00:00Z"),
                s("2026-11-01T13:00:00Z", "2026-11-01T17:00:00Z")
            ]
        );
    }

    #[test]
    fn spring_forward_and_fall_back_in_london() {
        let ldn = chrono_tz::Europe::London;
        // 2026-03-29: 01:00 GMT → 02:00 BST. 2026-10-25: 02:00 BST → 01:00 GMT.
        let c = weekly(
            ldn,
            &[
                (Weekday::Sun, t(0, 30), t(3, 0)),
                (Weekday::Sun, t(9, 0), t(13, 0)),
            ],
        );
        assert_eq!(
            day_range(&c, "2026-03-22"),
            vec![
                s("2026-03-22T00:30:00Z", "2026-03-22T03:00:00Z"),
                s("2026-03-22T09:00:00Z", "2026-03-22T13:00:00Z")
            ]
        );
        // 00:30 GMT – 03:00 BST (02:00Z) is 1.5 real hours; 09:00 BST is 08:00Z.
        assert_eq!(
            day_range(&c, "2026-03-29"),
            vec![
                s("2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z"),
                s("2026-03-29T08:00:00Z", "2026-03-29T12:00:00Z")
            ]
        );
        // 00:30 BST (23:30Z the day before) – 03:00 GMT is 3.5 real hours; 09:00 GMT is 09:00Z.
        assert_eq!(
            day_range(&c, "2026-10-25"),
            vec![
                s("2026-10-24T23:30:00Z", "2026-10-25T03:00:00Z"),
                s("2026-10-25T09:00:00Z", "2026-10-25T13:00:00Z")
            ]
        );
    }

    #[test]
    fn nonexistent_local_time_moves_past_the_gap() {
        let c = Calendar::new(chrono_tz::America::New_York);
        assert_eq!(
            c.local_instant(d("2026-03-08"), t(2, 30)),
            at("2026-03-08T07:00:00Z")
        );
        // Ambiguous 01:30 on fall-back day takes the first (EDT) occurrence.
        assert_eq!(
            c.local_instant(d("2026-11-01"), t(1, 30)),
            at("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn templates_blocked_time_and_exceptions_combine() {
        let ldn = chrono_tz::Europe::London;
        let mut c = weekly(ldn, &[(Weekday::Mon, t(9, 0), t(17, 0))]);
        c.add_blocked(WeeklyBlock::new(Weekday::Mon, t(12, 0), t(13, 0)).unwrap())
            .unwrap();
        // A second template from July adds Tuesday mornings.
        c.add_template(WeeklyTemplate {
            effective_from: d("2026-07-01"),
            effective_until: Some(d("2026-08-01")),
            blocks: vec![WeeklyBlock::new(Weekday::Tue, t(9, 0), t(12, 0)).unwrap()],
        })
        .unwrap();
        assert_eq!(
            day_range(&c, "2026-06-01"),
            vec![
                s("2026-06-01T08:00:00Z", "2026-06-01T11:00:00Z"),
                s("2026-06-01T12:00:00Z", "2026-06-01T16:00:00Z")
            ]
        );
        assert!(day_range(&c, "2026-06-02").is_empty());
        assert_eq!(day_range(&c, "2026-07-07").len(), 1);
        assert!(day_range(&c, "2026-08-04").is_empty());
        // Sick in the afternoon; an extra Saturday clinic; a holiday overrides an extra clinic.
        c.add_exception(CalendarException {
            kind: ExceptionKind::Sick,
            period: Period::new(at("2026-06-08T12:30:00Z"), at("2026-06-08T20:00:00Z")).unwrap(),
        })
        .unwrap();
        c.add_exception(CalendarException {
            kind: ExceptionKind::ExtraClinic,
            period: Period::new(at("2026-06-13T08:00:00Z"), at("2026-06-13T10:00:00Z")).unwrap(),
        })
        .unwrap();
        assert_eq!(
            day_range(&c, "2026-06-08"),
            vec![
                s("2026-06-08T08:00:00Z", "2026-06-08T11:00:00Z"),
                s("2026-06-08T12:00:00Z", "2026-06-08T12:30:00Z")
            ]
        );
        assert_eq!(
            day_range(&c, "2026-06-13"),
            vec![s("2026-06-13T08:00:00Z", "2026-06-13T10:00:00Z")]
        );
        c.add_exception(CalendarException {
            kind: ExceptionKind::Holiday,
            period: Period::new(at("2026-06-13T00:00:00Z"), at("2026-06-14T00:00:00Z")).unwrap(),
        })
        .unwrap();
        assert!(day_range(&c, "2026-06-13").is_empty());
        assert!(WeeklyBlock::new(Weekday::Mon, t(10, 0), t(9, 0)).is_err());
    }
}
