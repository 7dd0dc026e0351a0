//! The flat reading record shared by the NDJSON and CSV parsers, and its conversion into an
//! admission candidate.

use crate::error::{Field, RejectReason};
use crate::kind::{ReadingContext, VitalKind, parse_meal, parse_position, parse_site};
use crate::store::{Candidate, Partial, VitalsStore};
use crate::timefmt;
use crate::unit::Unit;
use bedside_core::PatientId;
use std::borrow::Cow;

/// One field value as it appeared in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    /// A JSON string.
    Str(Cow<'a, str>),
    /// A JSON number (its text, grammar already checked).
    Num(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// JSON null (treated as absent).
    Null,
    /// An untyped CSV cell.
    Text(&'a str),
}

/// A record of the flat schema: at most one value per [`Field`].
#[derive(Debug, Default)]
pub(crate) struct FlatRecord<'a> {
    pub vals: [Option<Val<'a>>; 14],
}

impl<'a> FlatRecord<'a> {
    pub fn clear(&mut self) {
        for v in &mut self.vals {
            *v = None;
        }
    }

    fn get(&self, f: Field) -> Option<&Val<'a>> {
        match self.vals.get(f as usize) {
            Some(Some(Val::Null)) | Some(None) | None => None,
            Some(Some(Val::Text(""))) => None,
            Some(Some(v)) => Some(v),
        }
    }

    fn text(&self, f: Field) -> Result<Option<&str>, RejectReason> {
        match self.get(f) {
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(s.as_ref())),
            Some(Val::Text(t)) => Ok(Some(t.trim())),
            Some(_) => Err(RejectReason::InvalidField(f)),
        }
    }

    fn required_text(&self, f: Field) -> Result<&str, RejectReason> {
        self.text(f)?.ok_or(RejectReason::MissingField(f))
    }

    fn number(&self, f: Field) -> Result<Option<f64>, RejectReason> {
        let text = match self.get(f) {
            None => return Ok(None),
            Some(Val::Num(n)) => *n,
            Some(Val::Text(t)) => t.trim(),
            Some(_) => return Err(RejectReason::InvalidField(f)),
        };
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or(RejectReason::InvalidField(f))
    }

    fn required_number(&self, f: Field) -> Result<f64, RejectReason> {
        self.number(f)?.ok_or(RejectReason::MissingField(f))
    }

    fn boolean(&self, f: Field) -> Result<Option<bool>, RejectReason> {
        match self.get(f) {
            None => Ok(None),
            Some(Val::Bool(b)) => Ok(Some(*b)),
            Some(Val::Text(t)) => match t.trim() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(RejectReason::InvalidField(f)),
            },
            Some(_) => Err(RejectReason::InvalidField(f)),
        }
    }

    /// Converts to a candidate, interning the source; the reason names the first problem.
    pub fn to_candidate(&self, store: &mut VitalsStore) -> Result<Candidate, RejectReason> {
        let kind = VitalKind::parse(self.required_text(Field::Kind)?)
            .ok_or(RejectReason::UnsupportedKind)?;
        let patient: PatientId = self
            .required_text(Field::Patient)?
            .parse()
            .map_err(|_| RejectReason::InvalidField(Field::Patient))?;
        let stamp = timefmt::parse_rfc3339(self.required_text(Field::At)?)
            .ok_or(RejectReason::InvalidField(Field::At))?;
        let unit =
            Unit::parse(self.required_text(Field::Unit)?).ok_or(RejectReason::UnknownUnit)?;
        let (v0, v1, mean) = if kind == VitalKind::BloodPressure {
            (
                self.required_number(Field::Systolic)?,
                Some(self.required_number(Field::Diastolic)?),
                self.number(Field::Mean)?,
            )
        } else {
            (self.required_number(Field::Value)?, None, None)
        };
        let context = match kind {
            VitalKind::BloodPressure => match self.text(Field::Position)? {
                Some(p) => ReadingContext::Position {
                    position: parse_position(p)
                        .ok_or(RejectReason::InvalidField(Field::Position))?,
                },
                None => ReadingContext::None,
            },
            VitalKind::BodyTemperature => match self.text(Field::Site)? {
                Some(s) => ReadingContext::Site {
                    site: parse_site(s).ok_or(RejectReason::InvalidField(Field::Site))?,
                },
                None => ReadingContext::None,
            },
            VitalKind::BloodGlucose => match self.text(Field::Meal)? {
                Some(m) => ReadingContext::Meal {
                    meal: parse_meal(m).ok_or(RejectReason::InvalidField(Field::Meal))?,
                },
                None => ReadingContext::None,
            },
            VitalKind::OxygenSaturation => match self.boolean(Field::OnOxygen)? {
                Some(on_oxygen) => ReadingContext::Oxygen { on_oxygen },
                None => ReadingContext::None,
            },
            _ => ReadingContext::None,
        };
        let model = self.text(Field::DeviceModel)?;
        let (source, device) = store
            .intern_source_text(self.required_text(Field::Source)?, model)
            .ok_or(RejectReason::InvalidField(Field::Source))?;
        Ok(Candidate {
            patient,
            kind,
            v0,
            v1,
            mean,
            unit,
            original_unit: unit,
            stamp,
            source,
            device,
            context,
            partial: Partial::Whole,
        })
    }
}

/// The index of the first `\n` in `bytes`, scanning eight bytes at a time (SWAR).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w) ^ (ONES * u64::from(b'\n'));
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            // The lowest flagged byte is a true match (borrows only propagate upwards).
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// Reads records line by line from a `BufRead`, never holding more than `max` bytes of one
/// line; over-long lines are skipped to their end and reported.
pub(crate) struct LineReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub line: u32,
}

/// One line read by [`LineReader`].
pub(crate) enum Line<'b> {
    /// A line's bytes without the terminator.
    Ok(&'b [u8]),
    /// A line longer than the limit.
    TooLong,
}

impl<R: std::io::BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            max,
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// Calls `f` with every line. A line that lies whole inside the reader's buffer is passed
    /// without copying; others are assembled in the line buffer (up to the limit).
    pub fn for_each(&mut self, mut f: impl FnMut(u32, Line<'_>)) -> std::io::Result<()> {
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(());
            }
            let mut used = 0;
            let mut rest = chunk;
            while let Some(i) = find_newline(rest) {
                let mut line = &rest[..i];
                if line.len() > self.max {
                    self.line = self.line.saturating_add(1);
                    f(self.line, Line::TooLong);
                } else {
                    if line.last() == Some(&b'\r') {
                        line = &line[..line.len() - 1];
                    }
                    self.line = self.line.saturating_add(1);
                    f(self.line, Line::Ok(line));
                }
                used += i + 1;
                rest = &rest[i + 1..];
            }
            if used > 0 {
                self.inner.consume(used);
                continue;
            }
            // No newline in the buffer: assemble this line the slow way.
            match self.next_line()? {
                None => return Ok(()),
                Some((n, line)) => f(n, line),
            }
        }
    }

    /// The next line, or `None` at end of input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u32, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > self.max {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line = self.line.saturating_add(1);
        if too_long {
            return Ok(Some((self.line, Line::TooLong)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some((self.line, Line::Ok(&self.buf))))
    }
}

/// A reader that fails once more than `max` bytes have been read since the last
/// [`ResourceBudget::reset`]: it bounds the memory one JSON resource (a Bundle entry, an
/// Open mHealth data point) can take while a document streams.
pub(crate) struct LimitedReader<R> {
    inner: R,
    budget: ResourceBudget,
}

/// The shared byte counter of a [`LimitedReader`].
#[derive(Clone)]
pub(crate) struct ResourceBudget {
    used: std::rc::Rc<std::cell::Cell<usize>>,
    max: usize,
}

impl ResourceBudget {
    pub fn new(max: usize) -> Self {
        Self {
            used: std::rc::Rc::new(std::cell::Cell::new(0)),
            max,
        }
    }

    /// Starts counting the next resource.
    pub fn reset(&self) {
        self.used.set(0);
    }

    /// Whether the limit was passed.
    pub fn exceeded(&self) -> bool {
        self.used.get() > self.max
    }
}

impl<R> LimitedReader<R> {
    pub fn new(inner: R, budget: ResourceBudget) -> Self {
        Self { inner, budget }
    }
}

impl<R: std::io::Read> std::io::Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.budget.exceeded() {
            return Err(std::io::Error::other("resource exceeds the size limit"));
        }
        let n = self.inner.read(buf)?;
        self.budget
            .used
            .set(self.budget.used.get().saturating_add(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::find_newline;

    #[test]
    fn newline_search_matches_position() {
        let cases: [&[u8]; 6] = [
            b"",
            b"\n",
            b"abcdefgh\n",
            b"abcdefghijklmnop",
            b"\x80\x81\n\n",
            b"0123456789abcd\nx",
        ];
        for c in cases {
            assert_eq!(find_newline(c), c.iter().position(|&b| b == b'\n'), "{c:?}");
        }
        for n in 0..40 {
            let mut v = vec![b'x'; 40];
            v[n] = b'\n';
            assert_eq!(find_newline(&v), Some(n));
        }
    }
}
