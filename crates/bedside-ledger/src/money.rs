//! [`Money`]: integer minor units with an ISO 4217 [`Currency`], checked arithmetic,
//! [`BasisPoints`], half-up rounding and largest-remainder allocation.
//!
//! Rounding rule (the only one in the crate): results are rounded to the minor unit with ties
//! going away from zero ("commercial" half-up), so `0.5 → 1` and `−0.5 → −1`. Every operation
//! that could overflow returns [`MoneyError::Overflow`]; nothing wraps.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Errors from money arithmetic and parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Occurs when two amounts in different currencies are combined.
    #[error("currency mismatch: `{left}` and `{right}`")]
    CurrencyMismatch {
        /// The left operand's currency code.
        left: Currency,
        /// The right operand's currency code.
        right: Currency,
    },
    /// Occurs when a result does not fit in 64-bit minor units.
    #[error("amount overflow")]
    Overflow,
    /// Occurs when a currency code is not three ASCII capital letters or is not known.
    #[error("invalid currency code")]
    InvalidCurrency,
    /// Occurs when a decimal amount cannot be read (bad characters, too many decimals, too long).
    #[error("invalid amount: {reason}")]
    InvalidAmount {
        /// Why the text was rejected.
        reason: &'static str,
    },
    /// Occurs when an allocation is asked for zero parts or all weights are zero.
    #[error("allocation needs at least one part with a non-zero weight")]
    EmptyAllocation,
}

/// An ISO 4217 currency: three-letter code and the number of minor-unit digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// ISO 4217 codes this crate knows, with their minor-unit exponents.
const KNOWN: &[(&str, u8)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("CHF", 2),
    ("NZD", 2),
    ("MXN", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("BHD", 3),
    ("KWD", 3),
];

impl Currency {
    /// United States dollar (2 decimals).
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };
    /// Euro (2 decimals).
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        exponent: 2,
    };
    /// Japanese yen (0 decimals).
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        exponent: 0,
    };

    /// Creates a currency from a code and exponent (0 to 4 digits).
    ///
    /// # Errors
    /// [`MoneyError::InvalidCurrency`] when the code is not three ASCII capitals or the exponent
    /// is above 4.
    pub fn new(code: &str, exponent: u8) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) || exponent > 4 {
            return Err(MoneyError::InvalidCurrency);
        }
        Ok(Self {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent,
        })
    }

    /// Looks up a known ISO 4217 code (`USD`, `EUR`, `JPY`, …).
    ///
    /// # Errors
    /// [`MoneyError::InvalidCurrency`] for codes not in the crate's table.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        KNOWN
            .iter()
            .find(|(c, _)| *c == code)
            .ok_or(MoneyError::InvalidCurrency)
            .and_then(|(c, e)| Self::new(c, *e))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The constructor only admits ASCII capitals, so this never fails.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Raw code bytes (for the journal codec).
    pub(crate) fn code_bytes(&self) -> [u8; 3] {
        self.code
    }

    /// Number of digits after the decimal point.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// `10^exponent`, the number of minor units in one major unit.
    pub fn scale(&self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, MoneyError> {
        Currency::from_code(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

/// A rate in basis points: 1 bp = 0.01 %, 10 000 bp = 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(u32);

impl BasisPoints {
    /// 100 %.
    pub const HUNDRED_PERCENT: BasisPoints = BasisPoints(10_000);
    /// 0 %.
    pub const ZERO: BasisPoints = BasisPoints(0);

    /// Wraps a number of basis points.
    pub const fn new(bps: u32) -> Self {
        Self(bps)
    }

    /// Whole percent (`20` → 2 000 bp).
    pub const fn percent(p: u16) -> Self {
        Self(p as u32 * 100)
    }

    /// The number of basis points.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `100 % − self`, or zero when self is above 100 %.
    pub fn complement(self) -> Self {
        Self(10_000_u32.saturating_sub(self.0))
    }
}

impl fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            write!(f, "{whole}.{frac:02}%")
        }
    }
}

/// Divides `n` by `d` (`d > 0`) rounding ties away from zero.
pub(crate) fn div_round_half_up(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

/// An amount of money in integer minor units (cents for USD) with its currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// Creates an amount from minor units.
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Creates an amount from whole major units (`12` USD → 1 200 minor).
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the result does not fit.
    pub fn from_major(major: i64, currency: Currency) -> Result<Self, MoneyError> {
        major
            .checked_mul(currency.scale())
            .map(|m| Self::new(m, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Parses a plain decimal such as `541.00`, `-9.00`, `220` or `.5` in `currency`.
    /// More decimals than the currency has are accepted only when the extra digits are zeros.
    ///
    /// # Errors
    /// [`MoneyError::InvalidAmount`] for malformed text, [`MoneyError::Overflow`] for huge values.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let t = text.trim();
        if t.is_empty() || t.len() > 40 {
            return Err(MoneyError::InvalidAmount {
                reason: "empty or too long",
            });
        }
        let (negative, digits) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(MoneyError::InvalidAmount {
                reason: "no digits",
            });
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::InvalidAmount {
                reason: "not a decimal number",
            });
        }
        let exp = usize::from(currency.exponent());
        let (kept, extra) = if frac.len() > exp {
            frac.split_at(exp)
        } else {
            (frac, "")
        };
        if extra.bytes().any(|b| b != b'0') {
            return Err(MoneyError::InvalidAmount {
                reason: "more decimals than the currency has",
            });
        }
        let mut value: i64 = 0;
        for b in whole.bytes().chain(kept.bytes()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        for _ in kept.len()..exp {
            value = value.checked_mul(10).ok_or(MoneyError::Overflow)?;
        }
        Ok(Self::new(if negative { -value } else { value }, currency))
    }

    /// The amount in minor units.
    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    /// Whether the amount is above zero.
    pub const fn is_positive(&self) -> bool {
        self.amount_minor > 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        self.amount_minor
            .checked_add(other.amount_minor)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self − other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        self.amount_minor
            .checked_sub(other.amount_minor)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `−self`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] for the most negative amount.
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.amount_minor
            .checked_neg()
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self × quantity`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        self.amount_minor
            .checked_mul(quantity)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self × rate`, rounded half-up (ties away from zero) to the minor unit.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the result does not fit.
    pub fn mul_bps(self, rate: BasisPoints) -> Result<Money, MoneyError> {
        let n = i128::from(self.amount_minor) * i128::from(rate.get());
        let r = div_round_half_up(n, 10_000);
        i64::try_from(r)
            .map(|a| Money::new(a, self.currency))
            .map_err(|_| MoneyError::Overflow)
    }

    /// The smaller of two amounts in the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`].
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount_minor < self.amount_minor {
            other
        } else {
            self
        })
    }

    /// Zero when negative, else self.
    pub fn clamp_non_negative(self) -> Money {
        Money::new(self.amount_minor.max(0), self.currency)
    }

    /// Splits the amount across parts in proportion to `weights` with the largest-remainder
    /// method: each part gets the floor of its exact share and the left-over minor units go,
    /// one each, to the parts with the largest remainders (earlier parts win ties). The parts
    /// always sum exactly to `self`. Negative amounts are split as their magnitude, negated.
    ///
    /// # Errors
    /// [`MoneyError::EmptyAllocation`] when there are no weights or they sum to zero.
    pub fn allocate(self, weights: &[u64]) -> Result<Vec<Money>, MoneyError> {
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        if weights.is_empty() || total == 0 {
            return Err(MoneyError::EmptyAllocation);
        }
        let magnitude = u128::from(self.amount_minor.unsigned_abs());
        let mut shares: Vec<u128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
        let mut assigned: u128 = 0;
        for (i, &w) in weights.iter().enumerate() {
            let exact = magnitude * u128::from(w);
            let share = exact / total;
            shares.push(share);
            remainders.push((exact % total, i));
            assigned += share;
        }
        // Largest remainder first; earlier index first on ties.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let left = magnitude - assigned;
        for &(_, i) in remainders
            .iter()
            .take(usize::try_from(left).unwrap_or(usize::MAX))
        {
            shares[i] += 1;
        }
        shares
            .into_iter()
            .map(|s| {
                let v = i64::try_from(s).map_err(|_| MoneyError::Overflow)?;
                Ok(Money::new(
                    if self.amount_minor < 0 { -v } else { v },
                    self.currency,
                ))
            })
            .collect()
    }

    /// Splits the amount into `parts` near-equal pieces (largest remainder), summing exactly.
    ///
    /// # Errors
    /// [`MoneyError::EmptyAllocation`] when `parts` is zero.
    pub fn allocate_evenly(self, parts: usize) -> Result<Vec<Money>, MoneyError> {
        self.allocate(&vec![1; parts])
    }

    /// The amount as a plain decimal without the currency (`541.00`, `-9.00`).
    pub fn format_decimal(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let mag = self.amount_minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{mag}");
        }
        let scale = 10_u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            mag / scale,
            mag % scale,
            width = exp as usize
        )
    }

    /// The amount for people: `$1,234.50` for USD, `€…` for EUR, else `1,234.50 CHF`.
    pub fn format_human(&self) -> String {
        let plain = self.format_decimal();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", plain.as_str()),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let mut grouped = String::new();
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        if let Some(f) = frac {
            grouped.push('.');
            grouped.push_str(f);
        }
        match self.currency.code() {
            "USD" | "CAD" | "AUD" | "NZD" | "MXN" => format!("{sign}${grouped}"),
            "EUR" => format!("{sign}€{grouped}"),
            "GBP" => format!("{sign}£{grouped}"),
            other => format!("{sign}{grouped} {other}"),
        }
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.format_decimal(), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.format_decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(m: i64) -> Money {
        Money::new(m, Currency::USD)
    }

    #[test]
    fn parse_and_format() {
        let cases = [
            ("541.00", 54_100),
            ("-9.00", -900),
            ("220", 22_000),
            (".5", 50),
            ("10323.64", 1_032_364),
            ("1.230", 123),
        ];
        for (text, minor) in cases {
            assert_eq!(
                Money::parse_decimal(text, Currency::USD),
                Ok(usd(minor)),
                "{text}"
            );
        }
        for bad in ["", "1.234", "1,00", "abc", "-", ".", "99999999999999999999"] {
            assert!(Money::parse_decimal(bad, Currency::USD).is_err(), "{bad}");
        }
        assert_eq!(usd(-900).format_decimal(), "-9.00");
        assert_eq!(usd(12_345_678).format_human(), "$123,456.78");
        assert_eq!(Money::new(5, Currency::JPY).format_decimal(), "5");
        assert_eq!(usd(5).to_string(), "0.05 USD");
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
        assert_eq!(usd(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
        assert!(matches!(
            usd(1).checked_add(Money::new(1, Currency::EUR)),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert_eq!(usd(300).checked_sub(usd(500)), Ok(usd(-200)));
    }

    #[test]
    fn basis_points_round_half_up() {
        // 20 % of 0.125 → 0.025 → rounds to 0.03 (ties away from zero).
        assert_eq!(usd(13).mul_bps(BasisPoints::percent(50)), Ok(usd(7)));
        assert_eq!(usd(-13).mul_bps(BasisPoints::percent(50)), Ok(usd(-7)));
        assert_eq!(usd(12).mul_bps(BasisPoints::percent(50)), Ok(usd(6)));
        assert_eq!(usd(10_000).mul_bps(BasisPoints::new(1)), Ok(usd(1)));
        assert_eq!(usd(4_999).mul_bps(BasisPoints::new(1)), Ok(usd(0)));
        assert_eq!(usd(5_000).mul_bps(BasisPoints::new(1)), Ok(usd(1)));
        assert_eq!(BasisPoints::new(2_050).to_string(), "20.50%");
    }

    #[test]
    fn allocation_largest_remainder() {
        let parts = usd(100).allocate_evenly(3).unwrap_or_default();
        assert_eq!(parts, vec![usd(34), usd(33), usd(33)]);
        let parts = usd(-100).allocate(&[1, 1, 1]).unwrap_or_default();
        assert_eq!(parts, vec![usd(-34), usd(-33), usd(-33)]);
        let parts = usd(1_000).allocate(&[1, 2, 3, 0]).unwrap_or_default();
        assert_eq!(parts, vec![usd(167), usd(333), usd(500), usd(0)]);
        assert_eq!(usd(5).allocate(&[]), Err(MoneyError::EmptyAllocation));
        assert_eq!(usd(5).allocate(&[0, 0]), Err(MoneyError::EmptyAllocation));
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::from_code("JPY").map(|c| c.exponent()), Ok(0));
        assert!(Currency::from_code("usd").is_err());
        assert!(Currency::new("US", 2).is_err());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn allocation_sums_exactly(
                amount in -1_000_000_000_000i64..1_000_000_000_000,
                weights in proptest::collection::vec(0u64..1_000_000, 1..20),
            ) {
                prop_assume!(weights.iter().any(|&w| w > 0));
                let parts = usd(amount).allocate(&weights);
                prop_assert!(parts.is_ok());
                let parts = parts.unwrap_or_default();
                let sum: i64 = parts.iter().map(Money::amount_minor).sum();
                prop_assert_eq!(sum, amount);
                prop_assert_eq!(parts.len(), weights.len());
            }

            #[test]
            fn decimal_round_trip(amount in any::<i64>().prop_filter("not min", |a| *a != i64::MIN)) {
                let m = usd(amount);
                prop_assert_eq!(Money::parse_decimal(&m.format_decimal(), Currency::USD), Ok(m));
            }
        }
    }
}
