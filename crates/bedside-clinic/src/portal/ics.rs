//! iCalendar (RFC 5545) for one appointment: `VCALENDAR` with one `VEVENT`, times in UTC,
//! CRLF line endings, text escaped and lines folded at 75 octets.

use bedside_core::Timestamp;

/// One event to put in a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// A globally unique id (stable across downloads, so a calendar updates the event).
    pub uid: &'a str,
    /// When the file was made.
    pub stamp: Timestamp,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// The title (no personal data: the visit type and the clinic).
    pub summary: &'a str,
    /// Where.
    pub location: &'a str,
}

fn utc(t: Timestamp) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded so no line is longer than 75 octets (continuations start
/// with a space), never inside a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The calendar file for `event`.
pub fn calendar(event: &Event<'_>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Bedside//Patient portal//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", text(event.uid)),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end)),
        format!("SUMMARY:{}", text(event.summary)),
        format!("LOCATION:{}", text(event.location)),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ] {
        line(&mut out, &l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("instant")
    }

    #[test]
    fn an_event_is_valid_icalendar() {
        let long =
            "Follow-up, cardiology; with a very long clinic name that needs folding — ✓ done";
        let ics = calendar(&Event {
            uid: "0190-abc@bedside",
            stamp: at("2026-06-08T13:00:00Z"),
            start: at("2026-06-09T14:30:00Z"),
            end: at("2026-06-09T15:00:00Z"),
            summary: long,
            location: "Bedside Clinic",
        });
        assert!(
            ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{ics}"
        );
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("\r\nDTSTART:20260609T143000Z\r\n"));
        assert!(ics.contains("\r\nDTEND:20260609T150000Z\r\n"));
        assert!(ics.contains("\r\nDTSTAMP:20260608T130000Z\r\n"));
        assert!(ics.contains("\r\nUID:0190-abc@bedside\r\n"));
        // Every line ends in CRLF and is at most 75 octets; no bare LF anywhere.
        assert!(!ics.replace("\r\n", "").contains('\n'));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l:?}");
        }
        // Unfolding gives back the escaped summary.
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains(
                "SUMMARY:Follow-up\\, cardiology\\; with a very long clinic name that needs folding — ✓ done\r\n"
            ),
            "{unfolded}"
        );
    }
}
