//! [`Sensitive`]: a wrapper that keeps protected health information out of logs.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that must never appear in `Debug` or `Display` output: names, birth dates,
/// identifiers, addresses, phone numbers, e-mail addresses, free text.
///
/// `Debug` and `Display` print `<redacted>`; serde is transparent, so the value is stored and
/// exchanged normally. Reading the value requires an explicit [`Sensitive::expose`], which makes
/// every place that handles raw PHI easy to find with a text search.
///
/// ```
/// use bedside_core::Sensitive;
/// let phone = Sensitive::new("+15551234567".to_string());
/// assert_eq!(format!("{phone:?}"), "<redacted>");
/// assert_eq!(phone.expose(), "+15551234567");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(T);

/// The text printed in place of a [`Sensitive`] value.
pub const REDACTED: &str = "<redacted>";

impl<T> Sensitive<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the protected value. Call sites are where PHI is handled; keep them few.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Mutably borrows the protected value.
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Unwraps the protected value.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// Applies `f` to the protected value, keeping the result protected.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sensitive<U> {
        Sensitive(f(self.0))
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // Fields are read only through Debug, which is what the test checks.
    struct Contact {
        kind: &'static str,
        phone: Sensitive<String>,
        birth_year: Sensitive<i32>,
    }

    #[test]
    fn struct_holding_sensitive_values_never_prints_them() {
        let contact = Contact {
            kind: "mobile",
            phone: Sensitive::new("+447700900123".into()),
            birth_year: Sensitive::new(1970),
        };
        let debug = format!("{contact:?}");
        let pretty = format!("{contact:#?}");
        for out in [&debug, &pretty] {
            assert!(!out.contains("7700900123"), "{out}");
            assert!(!out.contains("1970"), "{out}");
            assert!(out.contains("mobile"));
            assert!(out.contains(REDACTED));
        }
        assert_eq!(contact.phone.to_string(), REDACTED);
    }

    #[test]
    fn serde_is_transparent() -> Result<(), serde_json::Error> {
        let value = Sensitive::new("Ada".to_string());
        let json = serde_json::to_string(&value)?;
        assert_eq!(json, "\"Ada\"");
        let back: Sensitive<String> = serde_json::from_str(&json)?;
        assert_eq!(back, value);
        Ok(())
    }

    #[test]
    fn map_keeps_protection() {
        let s = Sensitive::new("  a@b.org ".to_string()).map(|v| v.trim().to_string());
        assert_eq!(s.expose(), "a@b.org");
        assert_eq!(format!("{s:?}"), REDACTED);
    }
}
