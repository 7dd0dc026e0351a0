//! Splitting an interchange into segments and elements with the separators its ISA declares;
//! shared by every reader (835, 999, 277CA, 271).

use super::diagnostic::{Diagnostic, Problem, Severity};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Largest input accepted (bytes).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Most segments read from one interchange.
pub const MAX_SEGMENTS: usize = 500_000;
/// Most elements in one segment.
pub const MAX_ELEMENTS: usize = 64;

/// The separators an interchange declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Separators {
    /// Element separator (ISA position 4).
    pub element: char,
    /// Component (sub-element) separator, ISA16.
    pub component: char,
    /// Repetition separator, ISA11 (absent when ISA11 is alphanumeric, as in 004010).
    pub repetition: Option<char>,
    /// Segment terminator (the character after ISA16).
    pub segment: char,
}

impl Separators {
    /// The separators Bedside writes: `*` elements, `:` components, `^` repetitions and `~`
    /// segments (the ones the implementation guides use in their examples).
    pub const WRITTEN: Separators = Separators {
        element: '*',
        component: ':',
        repetition: Some('^'),
        segment: '~',
    };
}

/// One segment: its id, its elements (element 0 is the id) and where it is.
pub(crate) struct Seg<'a> {
    pub(crate) id: &'a str,
    pub(crate) el: Vec<&'a str>,
    /// 1-based ordinal in the interchange.
    pub(crate) ordinal: usize,
    /// Byte offset in the input.
    pub(crate) offset: usize,
}

impl<'a> Seg<'a> {
    /// Element `n` (1-based), trimmed, or "".
    pub(crate) fn e(&self, n: usize) -> &'a str {
        self.el.get(n).map_or("", |s| s.trim())
    }

    /// Component `k` (1-based) of element `n`, trimmed, or "".
    pub(crate) fn c(&self, n: usize, k: usize, sep: char) -> &'a str {
        self.e(n)
            .split(sep)
            .nth(k.saturating_sub(1))
            .map_or("", str::trim)
    }

    /// A diagnostic at this segment.
    pub(crate) fn diag(&self, severity: Severity, problem: Problem) -> Diagnostic {
        Diagnostic {
            severity,
            segment: self.ordinal,
            offset: self.offset,
            problem,
        }
    }
}

pub(crate) fn find_separators(text: &str) -> Option<Separators> {
    let start = text.find("ISA")?;
    if !text[..start]
        .chars()
        .all(|c| c.is_whitespace() || c == '\u{feff}')
    {
        return None;
    }
    let isa = &text[start..];
    let mut chars = isa.char_indices().skip(3);
    let (_, element) = chars.next()?;
    if element.is_alphanumeric() || element.is_whitespace() {
        return None;
    }
    // Walk to the 16th element separator; ISA16 is the next character, the terminator follows.
    let mut seen = 1;
    let mut component = None;
    let mut repetition_start = None;
    let mut iter = isa.char_indices().skip(4);
    while let Some((i, c)) = iter.next() {
        if c == element {
            seen += 1;
            if seen == 11 {
                repetition_start = Some(i + c.len_utf8());
            }
            if seen == 16 {
                let (_, comp) = iter.next()?;
                let (_, term) = iter.next()?;
                component = Some((comp, term));
                break;
            }
        }
    }
    let (component, segment) = component?;
    if component == element || segment == element || segment.is_alphanumeric() {
        return None;
    }
    let repetition = repetition_start
        .and_then(|i| isa[i..].chars().next())
        .filter(|c| !c.is_alphanumeric() && *c != element && !c.is_whitespace());
    Some(Separators {
        element,
        component,
        repetition,
        segment,
    })
}

/// The input as text with its separators and segments, or the whole-input problem.
pub(crate) struct Tokens<'a> {
    pub(crate) sep: Separators,
    pub(crate) segs: Vec<Seg<'a>>,
}

fn whole(problem: Problem) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        segment: 0,
        offset: 0,
        problem,
    }
}

/// Decodes the input (invalid UTF-8 becomes U+FFFD) after the size check.
pub(crate) fn decode(input: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    if input.len() > MAX_INPUT_BYTES {
        diagnostics.push(whole(Problem::TooLarge));
        return None;
    }
    Some(String::from_utf8_lossy(input).into_owned())
}

/// Splits `text` into segments. Problems (no ISA, too many segments or elements) go to
/// `diagnostics`; `None` when the ISA cannot be read.
pub(crate) fn tokenize<'a>(text: &'a str, diagnostics: &mut Vec<Diagnostic>) -> Option<Tokens<'a>> {
    let Some(sep) = find_separators(text) else {
        diagnostics.push(whole(Problem::MissingIsa));
        return None;
    };
    let mut segs = Vec::new();
    let mut offset = 0usize;
    for raw in text.split(sep.segment) {
        let here = offset;
        offset += raw.len() + sep.segment.len_utf8();
        let trimmed = raw.trim_start_matches(['\r', '\n', ' ', '\t', '\u{feff}']);
        let lead = raw.len() - trimmed.len();
        let trimmed = trimmed.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            continue;
        }
        if segs.len() >= MAX_SEGMENTS {
            diagnostics.push(whole(Problem::TooLarge));
            break;
        }
        let ordinal = segs.len() + 1;
        let el: Vec<&str> = trimmed.split(sep.element).collect();
        if el.len() > MAX_ELEMENTS + 1 {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                segment: ordinal,
                offset: here + lead,
                problem: Problem::TooManyElements,
            });
            continue;
        }
        segs.push(Seg {
            id: el.first().map_or("", |s| s.trim()),
            el,
            ordinal,
            offset: here + lead,
        });
    }
    Some(Tokens { sep, segs })
}

/// A `CCYYMMDD` date, strictly.
pub(crate) fn date8(raw: &str) -> Option<NaiveDate> {
    let b = raw.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> u32 {
        b[r].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
}

pub(crate) enum DateReading {
    One(NaiveDate),
    Two,
    None,
}

/// The readings of a date not written as `CCYYMMDD`: `CCYY-MM-DD` (or `/`, `.`) has one;
/// `MM/DD/CCYY` and `DD/MM/CCYY` (or `-`, `.`) have one when only one is a real date or
/// both give the same day, two otherwise.
pub(crate) fn repair_date(raw: &str) -> DateReading {
    let parts: Vec<&str> = raw.split(['-', '/', '.']).collect();
    let num = |p: &str| -> Option<u32> {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let [a, b, c] = parts.as_slice() else {
        return DateReading::None;
    };
    let (Some(x), Some(y), Some(z)) = (num(a), num(b), num(c)) else {
        return DateReading::None;
    };
    if a.len() == 4 {
        return NaiveDate::from_ymd_opt(x as i32, y, z).map_or(DateReading::None, DateReading::One);
    }
    if c.len() != 4 {
        return DateReading::None;
    }
    let us = NaiveDate::from_ymd_opt(z as i32, x, y);
    let eu = NaiveDate::from_ymd_opt(z as i32, y, x);
    match (us, eu) {
        (Some(u), Some(e)) if u == e => DateReading::One(u),
        (Some(_), Some(_)) => DateReading::Two,
        (Some(d), None) | (None, Some(d)) => DateReading::One(d),
        (None, None) => DateReading::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_declared_separators() {
        let text = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260101*1200*^*00501*000000001*0*P*:~GS*HC~ST*837*1~";
        let mut d = Vec::new();
        let t = tokenize(text, &mut d);
        assert!(d.is_empty());
        let t = t.map(|t| (t.sep, t.segs.iter().map(|s| s.id).collect::<Vec<_>>()));
        assert_eq!(t, Some((Separators::WRITTEN, vec!["ISA", "GS", "ST"])));
        assert_eq!(date8("20260229"), None);
        assert_eq!(date8("20240229"), NaiveDate::from_ymd_opt(2024, 2, 29));
    }
}
