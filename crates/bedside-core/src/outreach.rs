//! Outreach vocabulary shared by reminders, billing and surveys: [`Channel`], [`ContactRoute`],
//! [`QuietHours`] and [`Language`]. Crates exchange these plain values instead of depending on
//! each other.

use crate::error::CoreError;
use crate::sensitive::Sensitive;
use crate::time::Timestamp;
use chrono::{LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A way of reaching a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Text message to a mobile number.
    Sms,
    /// E-mail.
    Email,
    /// Telephone call (automated or by staff).
    Voice,
    /// Message in the patient portal or app.
    Portal,
    /// Letter by post.
    Postal,
}

impl Channel {
    /// All channels, in declaration order.
    pub const ALL: [Channel; 5] = [
        Channel::Sms,
        Channel::Email,
        Channel::Voice,
        Channel::Portal,
        Channel::Postal,
    ];

    /// The lowercase name (`sms`, `email`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Voice => "voice",
            Channel::Portal => "portal",
            Channel::Postal => "postal",
        }
    }

    /// Whether messages on this channel interrupt the person when they arrive, so quiet hours
    /// apply to them. Portal messages and letters wait to be read.
    pub fn is_interruptive(&self) -> bool {
        matches!(self, Channel::Sms | Channel::Voice | Channel::Email)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| CoreError::UnknownChannel {
                name: s.to_string(),
            })
    }
}

/// A channel plus the address on it (phone number, e-mail address, portal account, postal
/// address). The address is PHI and is held as [`Sensitive`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactRoute {
    /// The channel.
    pub channel: Channel,
    /// The address on that channel.
    pub address: Sensitive<String>,
}

impl ContactRoute {
    /// Creates a route.
    pub fn new(channel: Channel, address: impl Into<String>) -> Self {
        Self {
            channel,
            address: Sensitive::new(address.into()),
        }
    }
}

/// A daily window in a person's local time during which interruptive messages must not be sent,
/// for example 21:00 to 08:00. The window may cross midnight. `start == end` means no quiet
/// hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuietHours {
    /// The person's IANA time zone.
    pub zone: Tz,
    /// Local time at which quiet begins (inclusive).
    pub start: NaiveTime,
    /// Local time at which quiet ends (exclusive): sending may resume at this time.
    pub end: NaiveTime,
}

impl QuietHours {
    /// Creates quiet hours from `start` to `end` local time in `zone`.
    pub fn new(zone: Tz, start: NaiveTime, end: NaiveTime) -> Self {
        Self { zone, start, end }
    }

    /// Whether the local wall-clock time `t` falls inside the quiet window.
    pub fn is_quiet_local(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// Whether `at` falls inside the quiet window.
    pub fn is_quiet(&self, at: Timestamp) -> bool {
        self.is_quiet_local(at.with_timezone(&self.zone).time())
    }

    /// The earliest instant at or after `at` when sending is allowed.
    ///
    /// When the window's end does not exist on that day (a spring-forward gap), sending resumes
    /// at the first valid local time after it; when it occurs twice (fall-back), the earlier one
    /// is used.
    pub fn next_allowed(&self, at: Timestamp) -> Timestamp {
        if !self.is_quiet(at) {
            return at;
        }
        let local = at.with_timezone(&self.zone);
        let today = local.date_naive();
        let end_date = if self.start > self.end && local.time() >= self.start {
            today.succ_opt().unwrap_or(today)
        } else {
            today
        };
        self.resolve_local(end_date, self.end).max(at)
    }

    /// Resolves a local date and time in the zone to an instant, moving forward through a DST
    /// gap. Gaps are at most a few hours, so the search is bounded.
    fn resolve_local(&self, date: NaiveDate, time: NaiveTime) -> Timestamp {
        let mut naive = date.and_time(time);
        for _ in 0..(24 * 4) {
            match self.zone.from_local_datetime(&naive) {
                LocalResult::Single(t) => return t.to_utc(),
                LocalResult::Ambiguous(earlier, _) => return earlier.to_utc(),
                LocalResult::None => naive += TimeDelta::minutes(15),
            }
        }
        // Unreachable for real zones (no gap lasts a day); fall back to reading the time as UTC.
        naive.and_utc()
    }
}

/// A BCP-47 language tag such as `en`, `pt-BR` or `zh-Hant-TW`, stored in canonical case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// Parses and canonicalises a tag: language lowercase, script title case, region uppercase.
    /// Underscores are accepted as separators (`pt_BR`).
    ///
    /// # Errors
    /// Returns [`CoreError::InvalidLanguage`] for a malformed tag.
    pub fn new(tag: &str) -> Result<Self, CoreError> {
        let bad = || CoreError::InvalidLanguage {
            tag: tag.chars().take(35).collect(),
        };
        if tag.is_empty() || tag.len() > 35 {
            return Err(bad());
        }
        let mut out = String::with_capacity(tag.len());
        for (i, sub) in tag.split(['-', '_']).enumerate() {
            if sub.is_empty() || sub.len() > 8 || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad());
            }
            if i == 0 {
                if !(2..=3).contains(&sub.len()) || !sub.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(bad());
                }
                out.push_str(&sub.to_ascii_lowercase());
                continue;
            }
            out.push('-');
            let alpha = sub.bytes().all(|b| b.is_ascii_alphabetic());
            let digit = sub.bytes().all(|b| b.is_ascii_digit());
            if sub.len() == 4 && alpha {
                out.push_str(&sub[..1].to_ascii_uppercase());
                out.push_str(&sub[1..].to_ascii_lowercase());
            } else if (sub.len() == 2 && alpha) || (sub.len() == 3 && digit) {
                out.push_str(&sub.to_ascii_uppercase());
            } else {
                out.push_str(&sub.to_ascii_lowercase());
            }
        }
        Ok(Language(out))
    }

    /// The canonical tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`pt` for `pt-BR`).
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// The lookup chain for finding a text in this language: the tag, then ever shorter
    /// prefixes (`zh-Hant-TW`, `zh-Hant`, `zh`), as RFC 4647 lookup does.
    pub fn fallbacks(&self) -> Vec<Language> {
        let mut chain = vec![self.clone()];
        let mut tag = self.0.as_str();
        while let Some(cut) = tag.rfind('-') {
            tag = &tag[..cut];
            chain.push(Language(tag.to_string()));
        }
        chain
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Language({})", self.0)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Language {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Language::new(s)
    }
}

impl TryFrom<String> for Language {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        Language::new(&s)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    /// One case: quiet hours in a zone, an instant, the expected next allowed instant.
    fn check(zone: Tz, start: (u32, u32), end: (u32, u32), now: &str, expected: &str) {
        let q = QuietHours::new(zone, t(start.0, start.1), t(end.0, end.1));
        assert_eq!(q.next_allowed(at(now)), at(expected), "{zone} {now}");
    }

    #[test]
    fn next_allowed_send_time() {
        let ny = chrono_tz::America::New_York;
        let ldn = chrono_tz::Europe::London;
        // Outside quiet hours: now.
        check(
            ny,
            (21, 0),
            (8, 0),
            "2026-06-10T16:00:00Z",
            "2026-06-10T16:00:00Z",
        );
        // 22:00 EDT, crossing midnight: next day 08:00 EDT = 12:00Z.
        check(
            ny,
            (21, 0),
            (8, 0),
            "2026-06-11T02:00:00Z",
            "2026-06-11T12:00:00Z",
        );
        // 05:00 EDT, after midnight: same day 08:00.
        check(
            ny,
            (21, 0),
            (8, 0),
            "2026-06-11T09:00:00Z",
            "2026-06-11T12:00:00Z",
        );
        // Same-day window 12:00–13:00 London (BST).
        check(
            ldn,
            (12, 0),
            (13, 0),
            "2026-06-10T11:30:00Z",
            "2026-06-10T12:00:00Z",
        );
        // No quiet hours.
        check(
            ldn,
            (8, 0),
            (8, 0),
            "2026-06-10T03:00:00Z",
            "2026-06-10T03:00:00Z",
        );
        // Quiet ends exactly at the boundary: allowed.
        check(
            ny,
            (21, 0),
            (8, 0),
            "2026-06-10T12:00:00Z",
            "2026-06-10T12:00:00Z",
        );
    }

    #[test]
    fn next_allowed_across_dst() {
        let ny = chrono_tz::America::New_York;
        let ldn = chrono_tz::Europe::London;
        // Spring forward in New York, 2026-03-08 02:00 → 03:00; quiet ends 02:30, which does not
        // exist: resume at 03:00 EDT = 07:00Z.
        check(
            ny,
            (21, 0),
            (2, 30),
            "2026-03-08T05:00:00Z",
            "2026-03-08T07:00:00Z",
        );
        // Fall back in London, 2026-10-25 02:00 BST → 01:00 GMT; quiet ends 01:30, which occurs
        // twice: the earlier (01:30 BST = 00:30Z).
        check(
            ldn,
            (22, 0),
            (1, 30),
            "2026-10-24T22:00:00Z",
            "2026-10-25T00:30:00Z",
        );
        // The day after spring forward the offset has changed: 08:00 EDT = 12:00Z.
        check(
            ny,
            (21, 0),
            (8, 0),
            "2026-03-09T03:00:00Z",
            "2026-03-09T12:00:00Z",
        );
    }

    #[test]
    fn language_tags() {
        let cases = [
            ("en", Some("en")),
            ("pt_br", Some("pt-BR")),
            ("ZH-hant-tw", Some("zh-Hant-TW")),
            ("es-419", Some("es-419")),
            ("e", None),
            ("english", None),
            ("en--us", None),
            ("", None),
            ("en-US!", None),
        ];
        for (input, expected) in cases {
            let got = Language::new(input).ok();
            assert_eq!(got.as_ref().map(Language::as_str), expected, "{input}");
        }
    }

    #[test]
    fn language_fallbacks() -> Result<(), CoreError> {
        let l = Language::new("zh-Hant-TW")?;
        let chain: Vec<String> = l.fallbacks().into_iter().map(String::from).collect();
        assert_eq!(chain, ["zh-Hant-TW", "zh-Hant", "zh"]);
        assert_eq!(l.primary(), "zh");
        Ok(())
    }

    #[test]
    fn channel_parse_and_route_redaction() {
        assert_eq!("SMS".parse::<Channel>().ok(), Some(Channel::Sms));
        assert!("fax".parse::<Channel>().is_err());
        let route = ContactRoute::new(Channel::Email, "ada@example.org");
        let debug = format!("{route:?}");
        assert!(!debug.contains("ada@"), "{debug}");
        assert!(debug.contains("Email"));
    }
}
