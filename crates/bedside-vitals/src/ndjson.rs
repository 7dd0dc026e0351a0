//! Streaming NDJSON ingestion in the Bedside reading schema (documented in the crate root).
//!
//! The parser is hand-rolled for the flat schema: one object per line whose values are
//! strings, numbers, booleans or null. It borrows from the line buffer (no allocation unless
//! a string has escapes), checks the full JSON grammar of what it reads, and rejects nested
//! values as malformed.

use crate::error::{Field, RejectReason, VitalsError};
use crate::flat::{FlatRecord, Line, LineReader, Val};
use crate::reading::Position;
use crate::store::{Batch, BatchReport, Candidate, Outcome, VitalsStore};

/// Candidates admitted together (see [`ingest`]).
const ADMIT_BATCH: usize = 32;
use std::borrow::Cow;
use std::io::BufRead;

struct Cursor<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Option<Cow<'a, str>> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        // Skip plain bytes eight at a time (SWAR): stop at a word holding `"`, `\\` or a
        // control byte, then finish byte by byte.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let v = u64::from_le_bytes(w);
            let has = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
            let quote = has(v ^ (ONES * u64::from(b'"')));
            let backslash = has(v ^ (ONES * u64::from(b'\\')));
            let control = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
            if quote | backslash | control != 0 {
                break;
            }
            self.i += 8;
        }
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    let s = self.s.get(start..self.i)?;
                    self.i += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => return self.escaped(start),
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn escaped(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let mut out = String::from(self.s.get(start..self.i)?);
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.i += 1;
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return None;
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy one UTF-8 character (the line was validated as UTF-8).
                    let ch = self.s.get(self.i..)?.chars().next()?;
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }

    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.eat(b'-');
        match self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if self.eat(b'.') {
            let d = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == d {
                return None;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let d = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == d {
                return None;
            }
        }
        self.s.get(start..self.i)
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Val<'a>> {
        match *self.b.get(self.i)? {
            b'"' => self.string().map(Val::Str),
            b't' => self.literal(b"true").then_some(Val::Bool(true)),
            b'f' => self.literal(b"false").then_some(Val::Bool(false)),
            b'n' => self.literal(b"null").then_some(Val::Null),
            b'-' | b'0'..=b'9' => self.number().map(Val::Num),
            _ => None,
        }
    }
}

/// Parses one line into `rec`. Unknown keys are ignored (forward compatibility); a repeated
/// known key, a nested value or any grammar error is malformed.
pub(crate) fn parse_line<'a>(line: &'a str, rec: &mut FlatRecord<'a>) -> Result<(), RejectReason> {
    rec.clear();
    let mut c = Cursor {
        b: line.as_bytes(),
        s: line,
        i: 0,
    };
    let bad = RejectReason::Malformed;
    c.ws();
    if !c.eat(b'{') {
        return Err(bad);
    }
    c.ws();
    if !c.eat(b'}') {
        loop {
            c.ws();
            let key = c.string().ok_or(bad)?;
            c.ws();
            if !c.eat(b':') {
                return Err(bad);
            }
            c.ws();
            let val = c.value().ok_or(bad)?;
            if let Some(f) = Field::parse(&key) {
                let slot = &mut rec.vals[f as usize];
                if slot.is_some() {
                    return Err(bad);
                }
                *slot = Some(val);
            }
            c.ws();
            if c.eat(b',') {
                continue;
            }
            if c.eat(b'}') {
                break;
            }
            return Err(bad);
        }
    }
    c.ws();
    if c.i != c.b.len() {
        return Err(bad);
    }
    Ok(())
}

/// Ingests NDJSON from `input` into `store` as the new [`Batch`] `batch`, streaming line by
/// line (at most [`crate::IngestConfig::max_record_bytes`] of one line is held). Blank lines
/// are not records. The future-timestamp check is against `batch.at`.
///
/// # Errors
/// [`VitalsError::Io`] when reading fails; records before the failure keep their outcomes.
pub fn ingest<R: BufRead>(
    store: &mut VitalsStore,
    input: R,
    batch: &Batch,
) -> Result<BatchReport, VitalsError> {
    let now_ms = batch.at.timestamp_millis();
    let batch = store.open_batch(batch);
    let mut report = BatchReport {
        batch,
        ..BatchReport::default()
    };
    let mut lines = LineReader::new(input, store.config().max_record_bytes);
    // Parsed candidates wait in a small batch so the store's entries for all of them can be
    // loaded together (overlapping cache misses) before they are admitted in input order.
    let mut pending: Vec<(Candidate, Position)> = Vec::with_capacity(ADMIT_BATCH);
    let flush = |store: &mut VitalsStore,
                 pending: &mut Vec<(Candidate, Position)>,
                 report: &mut BatchReport| {
        std::hint::black_box(store.warm(pending));
        for (c, position) in pending.drain(..) {
            store.admit(&c, position, now_ms, report);
        }
    };
    let result = lines.for_each(|record, line| {
        let position = Position { batch, record };
        let bytes = match line {
            Line::TooLong => {
                report.record(
                    position,
                    Outcome::Rejected {
                        reason: RejectReason::TooLong,
                    },
                );
                return;
            }
            Line::Ok(b) => b,
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            report.record(
                position,
                Outcome::Rejected {
                    reason: RejectReason::Malformed,
                },
            );
            return;
        };
        // The record borrows the line, so it lives only for this line.
        let mut rec = FlatRecord::default();
        let candidate = parse_line(text, &mut rec).and_then(|()| rec.to_candidate(store));
        match candidate {
            Ok(c) => {
                pending.push((c, position));
                if pending.len() == ADMIT_BATCH {
                    flush(store, &mut pending, &mut report);
                }
            }
            Err(reason) => report.record(position, Outcome::Rejected { reason }),
        }
    });
    flush(store, &mut pending, &mut report);
    // Parse-time rejections were recorded before the admissions of earlier lines in their
    // batch; restore input order (the sort is stable and positions are unique).
    report.rejections.sort_by_key(|r| r.position.record);
    let upcoming = lines.line.saturating_add(1);
    result.map_err(|source| VitalsError::Io {
        record: upcoming,
        source,
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, ok: bool) {
        let mut rec = FlatRecord::default();
        assert_eq!(parse_line(line, &mut rec).is_ok(), ok, "{line}");
    }

    #[test]
    fn grammar() {
        check(r#"{"kind":"heart_rate","value":72}"#, true);
        check(r#" { } "#, true);
        check(r#"{"kind":"a\"b\u00e9\ud83d\ude00","value":-1.5e3}"#, true);
        check(r#"{"x":{"nested":1}}"#, false);
        check(r#"{"value":01}"#, false);
        check(r#"{"value":1.}"#, false);
        check(r#"{"kind":"a" "value":1}"#, false);
        check(r#"{"kind":"a","kind":"b"}"#, false);
        check(r#"{"kind":"a"} x"#, false);
        check(r#"{"kind":"a\q"}"#, false);
        check(r#"{"kind":"\ud83d"}"#, false);
        check(r#"{"on_oxygen":tru}"#, false);
        check("", false);
        // Long strings take the eight-bytes-at-a-time path.
        check(
            r#"{"source":"app:abcdefghijklmnopqrstuvwxyz0123456789"}"#,
            true,
        );
        check("{\"source\":\"app:abcdefghij\u{1}klmnop\"}", false);
        check(r#"{"source":"app:abcdefghijklmno\"pq"}"#, true);
        check(r#"{"source":"app:abcdefghijklmnopé€😀xyz"}"#, true);
        check(r#"{"source":"app:abcdefghijklmnop"#, false);
    }

    #[test]
    fn escapes_decode() {
        let mut rec = FlatRecord::default();
        let line = r#"{"source":"app:a\/b\u0041"}"#;
        assert!(parse_line(line, &mut rec).is_ok());
        assert_eq!(
            rec.vals[Field::Source as usize],
            Some(Val::Str(Cow::Owned("app:a/bA".into())))
        );
    }
}
