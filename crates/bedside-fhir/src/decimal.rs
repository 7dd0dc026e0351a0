//! FHIR `decimal` kept exactly as written, and `Money` built on it.

use std::fmt;

/// A FHIR `decimal`, kept as its exact decimal text (`112.41600000000001`, `20.00`, `1e3`).
///
/// Nothing is rounded on import: an amount with more digits than its currency's minor unit is
/// kept and written back as it came. Rounding happens only when a domain converts it to its
/// own units, with the rounding rule it names ([`Decimal::to_scaled`]).
///
/// Text given to [`Decimal::parse`] is kept digit for digit. JSON numbers reach Bedside through
/// `serde_json` with `float_roundtrip` (correctly rounded parsing) but without
/// `arbitrary_precision` (which would change number equality for every crate in a build), so
/// a number read from JSON is the shortest text of the binary double it denotes: every
/// decimal of up to 17 significant digits survives, and nothing is ever rounded to a
/// currency's minor unit.
///
/// ```
/// use bedside_fhir::{Decimal, Rounding};
/// let d = Decimal::parse("112.41600000000001").ok_or("not a decimal")?;
/// assert_eq!(d.as_str(), "112.41600000000001");
/// assert_eq!(d.to_scaled(2, Rounding::HalfAwayFromZero), Some(11242));
/// assert_eq!(Decimal::parse("-0.125").ok_or("?")?.to_scaled(2, Rounding::HalfAwayFromZero), Some(-13));
/// assert!(Decimal::parse("1,5").is_none());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Decimal(String);

/// How [`Decimal::to_scaled`] rounds digits beyond the requested scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rounding {
    /// Ties away from zero (`0.5 → 1`, `-0.5 → -1`): the ledger's rule.
    HalfAwayFromZero,
    /// Ties to the even neighbour (`0.5 → 0`, `1.5 → 2`).
    HalfEven,
    /// Refuse anything that is not exact at the scale.
    Exact,
}

/// Largest exponent magnitude accepted, so scaling cannot allocate without bound.
const MAX_EXPONENT: i64 = 400;

impl Decimal {
    /// Parses FHIR decimal text: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > 512 {
            return None;
        }
        let b = text.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_len = i - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return None;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == frac_start {
                return None;
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let exp_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == exp_start || i - exp_start > 3 {
                return None;
            }
        }
        (i == b.len()).then(|| Self(text.to_string()))
    }

    /// The decimal of a JSON number (see the type's note on precision).
    pub fn from_number(n: &serde_json::Number) -> Option<Self> {
        Self::parse(&n.to_string())
    }

    /// An integer amount in units of `10^-scale` (minor units): `from_scaled(1050, 2)` is `10.50`.
    pub fn from_scaled(value: i128, scale: u32) -> Self {
        let negative = value < 0;
        let digits = value.unsigned_abs().to_string();
        let scale = scale as usize;
        let text = if scale == 0 {
            digits
        } else if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            format!("{int}.{frac}")
        } else {
            format!("0.{}{digits}", "0".repeat(scale - digits.len()))
        };
        Self(if negative { format!("-{text}") } else { text })
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON number to write. FHIR JSON carries decimals as numbers; the text is exact
    /// up to the double precision `serde_json` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_str::<serde_json::Number>(&self.0)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }

    /// The nearest `f64` (for arithmetic where exactness does not matter, e.g. unit
    /// conversion of a measurement).
    pub fn to_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }

    /// Sign, all significant digits and the power of ten of the last digit.
    fn parts(&self) -> (bool, Vec<u8>, i64) {
        let text = self.0.as_str();
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i64>().unwrap_or(0)),
            None => (text, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|d| d - b'0').collect();
        let exponent = exponent.clamp(-MAX_EXPONENT, MAX_EXPONENT) - frac.len() as i64;
        (negative, digits, exponent)
    }

    /// The value in units of `10^-scale`, rounded by `rounding`; `None` when it does not fit
    /// an `i128` or `rounding` is [`Rounding::Exact`] and digits would be lost.
    pub fn to_scaled(&self, scale: u32, rounding: Rounding) -> Option<i128> {
        let (negative, digits, exponent) = self.parts();
        // value = digits × 10^exponent; wanted = value × 10^scale.
        let shift = exponent + i64::from(scale);
        let mut kept: i128 = 0;
        let (whole, dropped): (&[u8], &[u8]) = if shift >= 0 {
            (&digits, &[])
        } else {
            let cut = digits.len().saturating_sub(shift.unsigned_abs() as usize);
            digits.split_at(cut)
        };
        for d in whole {
            kept = kept.checked_mul(10)?.checked_add(i128::from(*d))?;
        }
        if shift > 0 {
            for _ in 0..shift {
                kept = kept.checked_mul(10)?;
            }
        }
        // Digits beyond the scale: first decides up/down, the rest break ties. When the
        // shift is deeper than the digits, the dropped part begins with implicit zeros.
        let implicit_zeros = if shift < 0 {
            (shift.unsigned_abs() as usize).saturating_sub(digits.len())
        } else {
            0
        };
        let any_dropped = dropped.iter().any(|d| *d != 0);
        let first = if implicit_zeros > 0 {
            0
        } else {
            dropped.first().copied().unwrap_or(0)
        };
        let rest_nonzero = if implicit_zeros > 0 {
            any_dropped
        } else {
            dropped.iter().skip(1).any(|d| *d != 0)
        };
        let round_up = match rounding {
            Rounding::Exact if any_dropped => return None,
            Rounding::Exact => false,
            Rounding::HalfAwayFromZero => first >= 5,
            Rounding::HalfEven => first > 5 || (first == 5 && (rest_nonzero || kept % 2 == 1)),
        };
        if round_up {
            kept = kept.checked_add(1)?;
        }
        Some(if negative { -kept } else { kept })
    }
}

impl TryFrom<String> for Decimal {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or("not a FHIR decimal")
    }
}

impl From<Decimal> for String {
    fn from(d: Decimal) -> Self {
        d.0
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s} is a decimal"))
    }

    #[test]
    fn parse_cases() {
        for ok in [
            "0", "-0", "1", "10.50", "0.001", "1e3", "1.5E-2", "-12.0e+1",
        ] {
            assert!(Decimal::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "1e1234", "1,5", " 1", "+1", "NaN",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scaling_cases() {
        let r = Rounding::HalfAwayFromZero;
        assert_eq!(d("10.50").to_scaled(2, r), Some(1050));
        assert_eq!(d("10.5").to_scaled(2, r), Some(1050));
        assert_eq!(d("0.005").to_scaled(2, r), Some(1));
        assert_eq!(d("0.0049").to_scaled(2, r), Some(0));
        assert_eq!(d("-0.005").to_scaled(2, r), Some(-1));
        assert_eq!(d("1e2").to_scaled(0, r), Some(100));
        assert_eq!(d("1.5e-3").to_scaled(2, r), Some(0));
        assert_eq!(d("0.0000009").to_scaled(0, r), Some(0));
        assert_eq!(d("2.5").to_scaled(0, Rounding::HalfEven), Some(2));
        assert_eq!(d("3.5").to_scaled(0, Rounding::HalfEven), Some(4));
        assert_eq!(d("2.51").to_scaled(0, Rounding::HalfEven), Some(3));
        assert_eq!(d("1.25").to_scaled(1, Rounding::Exact), None);
        assert_eq!(d("1.20").to_scaled(1, Rounding::Exact), Some(12));
        assert_eq!(d("1e300").to_scaled(2, r), None);
    }

    #[test]
    fn json_numbers_keep_their_digits() {
        let v: serde_json::Value =
            serde_json::from_str("[112.41600000000001, 20.0, 7, 0.333333333333333]")
                .unwrap_or(serde_json::Value::Null);
        let texts: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_number().and_then(Decimal::from_number))
            .map(|d| d.as_str().to_string())
            .collect();
        assert_eq!(
            texts,
            ["112.41600000000001", "20.0", "7", "0.333333333333333"]
        );
    }

    proptest! {
        #[test]
        fn scaled_round_trips(value in any::<i64>(), scale in 0u32..6) {
            let dec = Decimal::from_scaled(i128::from(value), scale);
            prop_assert!(Decimal::parse(dec.as_str()).is_some());
            prop_assert_eq!(dec.to_scaled(scale, Rounding::Exact), Some(i128::from(value)));
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            if let Some(dec) = Decimal::parse(&text) {
                let _ = dec.to_scaled(2, Rounding::HalfEven);
            }
        }
    }
}
