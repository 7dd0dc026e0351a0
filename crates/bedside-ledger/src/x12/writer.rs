//! The low-level segment writer every X12 writer uses: elements separated by `*`, components
//! by `:`, segments ended by `~`, trailing empty elements and components left out, and text
//! reduced to the X12 extended character set so that no value can break the syntax.

use crate::money::Money;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

/// Writes segments into a byte buffer and counts them.
pub(crate) struct SegmentWriter<'a> {
    buf: &'a mut Vec<u8>,
    /// Empty elements seen since the last written one (written only if a value follows).
    empties: usize,
    /// Segments ended so far.
    pub(crate) segments: usize,
}

const ELEMENT: u8 = b'*';
const COMPONENT: u8 = b':';
const TERMINATOR: u8 = b'~';

/// Whether a byte may appear in a written text value: printable ASCII except the separators
/// Bedside writes (`*`, `:`, `^`, `~`).
fn allowed(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && !matches!(b, b'*' | b':' | b'^' | b'~')
}

/// The ASCII letter a Latin-1 or Latin Extended-A letter is written as (`é` → `e`).
fn fold(c: char) -> Option<u8> {
    let folded = match c {
        'À'..='Å' => 'A',
        'à'..='å' => 'a',
        'Ç' => 'C',
        'ç' => 'c',
        'È'..='Ë' => 'E',
        'è'..='ë' => 'e',
        'Ì'..='Ï' => 'I',
        'ì'..='ï' => 'i',
        'Ñ' => 'N',
        'ñ' => 'n',
        'Ò'..='Ö' | 'Ø' => 'O',
        'ò'..='ö' | 'ø' => 'o',
        'Ù'..='Ü' => 'U',
        'ù'..='ü' => 'u',
        'Ý' => 'Y',
        'ý' | 'ÿ' => 'y',
        'ß' => 's',
        _ => return None,
    };
    Some(folded as u8)
}

/// The bytes `text` is written as: printable ASCII, accented letters folded, separators and
/// anything else left out, runs of spaces collapsed, trimmed, at most `max` bytes.
pub(crate) fn clean(text: &str, max: usize, out: &mut Vec<u8>) {
    let start = out.len();
    let mut space = false;
    let mut full = false;
    let mut push = |b: u8, out: &mut Vec<u8>| {
        if full || out.len() - start >= max {
            full = true;
            return;
        }
        if b == b' ' {
            space = out.len() > start;
            return;
        }
        if space {
            if out.len() - start + 2 > max {
                full = true;
                return;
            }
            out.push(b' ');
        }
        space = false;
        out.push(b);
    };
    for c in text.chars() {
        if c.is_ascii() {
            let b = c as u8;
            if allowed(b) {
                push(b, out);
            } else if b.is_ascii_whitespace() {
                push(b' ', out);
            }
        } else if let Some(b) = fold(c) {
            push(b, out);
        } else if c.is_whitespace() {
            push(b' ', out);
        }
    }
}

/// Whether `text` has something left after [`clean`].
pub(crate) fn writable(text: &str) -> bool {
    let mut v = Vec::new();
    clean(text, usize::MAX, &mut v);
    !v.is_empty()
}

/// Writes a non-negative integer in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Writes `n` zero-padded to `width` digits.
pub(crate) fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = Vec::with_capacity(20);
    push_u64(&mut tmp, n);
    for _ in tmp.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(&tmp);
}

impl<'a> SegmentWriter<'a> {
    /// A writer appending to `buf`.
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Self {
            buf,
            empties: 0,
            segments: 0,
        }
    }

    /// Starts a segment.
    pub(crate) fn seg(&mut self, id: &str) -> &mut Self {
        self.buf.extend_from_slice(id.as_bytes());
        self.empties = 0;
        self
    }

    /// Ends the segment (trailing empty elements are left out).
    pub(crate) fn end(&mut self) {
        self.buf.push(TERMINATOR);
        self.empties = 0;
        self.segments += 1;
    }

    /// Starts a non-empty element.
    fn open(&mut self) {
        for _ in 0..=self.empties {
            self.buf.push(ELEMENT);
        }
        self.empties = 0;
    }

    /// An empty element.
    pub(crate) fn none(&mut self) -> &mut Self {
        self.empties += 1;
        self
    }

    /// `n` empty elements.
    pub(crate) fn skip(&mut self, n: usize) -> &mut Self {
        self.empties += n;
        self
    }

    /// A code or identifier Bedside has validated (no separators, ASCII); empty is an empty
    /// element.
    pub(crate) fn code(&mut self, v: &str) -> &mut Self {
        if v.is_empty() {
            return self.none();
        }
        self.open();
        self.buf.extend_from_slice(v.as_bytes());
        self
    }

    /// Free text, cleaned and cut to `max` bytes; empty after cleaning is an empty element.
    pub(crate) fn text(&mut self, v: &str, max: usize) -> &mut Self {
        let mark = self.buf.len();
        for _ in 0..=self.empties {
            self.buf.push(ELEMENT);
        }
        let body = self.buf.len();
        clean(v, max, self.buf);
        if self.buf.len() == body {
            self.buf.truncate(mark);
            self.empties += 1;
        } else {
            self.empties = 0;
        }
        self
    }

    /// A composite of validated codes; trailing empty components are left out.
    pub(crate) fn comp(&mut self, parts: &[&str]) -> &mut Self {
        let last = parts.iter().rposition(|p| !p.is_empty());
        let Some(last) = last else {
            return self.none();
        };
        self.open();
        for (i, p) in parts[..=last].iter().enumerate() {
            if i > 0 {
                self.buf.push(COMPONENT);
            }
            self.buf.extend_from_slice(p.as_bytes());
        }
        self
    }

    /// An amount as an X12 decimal (`R`): no trailing zeros after the point, no point for a
    /// whole amount.
    pub(crate) fn money(&mut self, m: Money) -> &mut Self {
        self.open();
        push_money(self.buf, m);
        self
    }

    /// A non-negative integer.
    pub(crate) fn int(&mut self, n: u64) -> &mut Self {
        self.open();
        push_u64(self.buf, n);
        self
    }

    /// A `CCYYMMDD` date.
    pub(crate) fn date(&mut self, d: NaiveDate) -> &mut Self {
        self.open();
        push_date(self.buf, d);
        self
    }

    /// A `YYMMDD` date (ISA09).
    pub(crate) fn date6(&mut self, d: NaiveDate) -> &mut Self {
        self.open();
        push_padded(self.buf, (d.year().rem_euclid(100)) as u64, 2);
        push_padded(self.buf, u64::from(d.month()), 2);
        push_padded(self.buf, u64::from(d.day()), 2);
        self
    }

    /// An `HHMM` time.
    pub(crate) fn time(&mut self, t: NaiveTime) -> &mut Self {
        self.open();
        push_padded(self.buf, u64::from(t.hour()), 2);
        push_padded(self.buf, u64::from(t.minute()), 2);
        self
    }
}

/// Writes a `CCYYMMDD` date.
pub(crate) fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    push_padded(out, d.year().clamp(0, 9999) as u64, 4);
    push_padded(out, u64::from(d.month()), 2);
    push_padded(out, u64::from(d.day()), 2);
}

/// Writes an amount as an X12 decimal.
pub(crate) fn push_money(out: &mut Vec<u8>, m: Money) {
    let minor = m.amount_minor();
    if minor < 0 {
        out.push(b'-');
    }
    let abs = minor.unsigned_abs();
    let scale = m.currency().scale().unsigned_abs().max(1);
    push_u64(out, abs / scale);
    let mut frac = abs % scale;
    if frac == 0 {
        return;
    }
    out.push(b'.');
    let mut width = m.currency().exponent() as usize;
    // Strip trailing zeros of the fraction.
    while frac.is_multiple_of(10) && width > 0 {
        frac /= 10;
        width -= 1;
    }
    push_padded(out, frac, width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn check(text: &str, max: usize, expected: &str) {
        let mut v = Vec::new();
        clean(text, max, &mut v);
        assert_eq!(String::from_utf8_lossy(&v), expected, "{text:?}");
    }

    #[test]
    fn text_is_cleaned() {
        check("O'Brien-Smith", 60, "O'Brien-Smith");
        check("José  Müller", 60, "Jose Muller");
        check("a*b:c^d~e\r\nf", 60, "abcde f");
        check("  padded  ", 60, "padded");
        check("東京", 60, "");
        check("abcdef", 3, "abc");
        check("ab cd", 3, "ab");
    }

    #[test]
    fn amounts_and_trailing_elements() {
        let usd = |m| Money::new(m, Currency::USD);
        let mut buf = Vec::new();
        let mut w = SegmentWriter::new(&mut buf);
        w.seg("AMT").code("D").money(usd(15_000)).end();
        w.seg("AMT").code("D").money(usd(15_050)).end();
        w.seg("AMT").code("D").money(usd(-5)).end();
        w.seg("NM1")
            .code("85")
            .code("2")
            .text("Clinic", 60)
            .skip(4)
            .none()
            .none();
        w.end();
        w.seg("SV1")
            .comp(&["HC", "99213", "", ""])
            .none()
            .comp(&["", ""])
            .end();
        assert_eq!(w.segments, 5);
        assert_eq!(
            String::from_utf8_lossy(&buf),
            "AMT*D*150~AMT*D*150.5~AMT*D*-0.05~NM1*85*2*Clinic~SV1*HC:99213~"
        );
    }
}
