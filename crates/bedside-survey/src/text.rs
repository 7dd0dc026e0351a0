//! [`Texts`]: one piece of survey wording in one or more languages, looked up with BCP-47
//! fallback.

use bedside_core::Language;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A text in one or more languages. The first entry is the primary language, used when no
/// requested language (nor any of its fallbacks) is present.
///
/// Serialises as a JSON object from language tag to text, in entry order:
/// `{"en": "How was your visit?", "es": "¿Cómo fue su visita?"}`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Texts {
    entries: Vec<(Language, String)>,
}

impl fmt::Debug for Texts {
    // Survey wording is not PHI, but keep debug output short: languages only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let langs: Vec<&str> = self.entries.iter().map(|(l, _)| l.as_str()).collect();
        write!(f, "Texts({})", langs.join(","))
    }
}

impl Texts {
    /// A text in a single language.
    pub fn new(language: Language, text: impl Into<String>) -> Self {
        Self {
            entries: vec![(language, text.into())],
        }
    }

    /// A text in English (`en`), the common case for built-in wording.
    pub fn en(text: impl Into<String>) -> Self {
        Self::new(english(), text)
    }

    /// Adds or replaces the text for `language`, returning the updated value.
    #[must_use]
    pub fn with(mut self, language: Language, text: impl Into<String>) -> Self {
        self.set(language, text);
        self
    }

    /// Adds or replaces the text for `language`.
    pub fn set(&mut self, language: Language, text: impl Into<String>) {
        let text = text.into();
        match self.entries.iter_mut().find(|(l, _)| *l == language) {
            Some(entry) => entry.1 = text,
            None => self.entries.push((language, text)),
        }
    }

    /// The text in the primary language, or `""` when there is none.
    pub fn primary(&self) -> &str {
        self.entries.first().map_or("", |(_, t)| t.as_str())
    }

    /// The primary language, if any text exists.
    pub fn primary_language(&self) -> Option<&Language> {
        self.entries.first().map(|(l, _)| l)
    }

    /// The text for exactly this language tag, without fallback.
    pub fn exact(&self, language: &Language) -> Option<&str> {
        self.entries
            .iter()
            .find(|(l, _)| l == language)
            .map(|(_, t)| t.as_str())
    }

    /// The best text for `language`: the tag itself, then ever shorter prefixes (`pt-BR`, `pt`)
    /// as RFC 4647 lookup does, then the primary language.
    pub fn get(&self, language: &Language) -> &str {
        language
            .fallbacks()
            .iter()
            .find_map(|l| self.exact(l))
            .unwrap_or_else(|| self.primary())
    }

    /// All `(language, text)` entries, primary first.
    pub fn entries(&self) -> &[(Language, String)] {
        &self.entries
    }

    /// Whether there is no text at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The `en` language tag.
#[allow(
    clippy::expect_used,
    reason = "`en` is two ASCII letters, which `Language::new` always accepts"
)]
pub(crate) fn english() -> Language {
    // Proof: `en` is two ASCII letters, which `Language::new` always accepts.
    Language::new("en").expect("`en` is a valid BCP-47 tag")
}

impl Serialize for Texts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (l, t) in &self.entries {
            map.serialize_entry(l.as_str(), t)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Texts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object from BCP-47 language tag to text")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Texts, A::Error> {
                let mut texts = Texts::default();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    let lang = Language::new(&k).map_err(serde::de::Error::custom)?;
                    texts.set(lang, v);
                }
                Ok(texts)
            }
        }
        deserializer.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::new(tag).unwrap_or_else(|_| english())
    }

    #[test]
    fn lookup_falls_back_through_prefixes_then_primary() {
        let t = Texts::en("Hello")
            .with(lang("pt"), "Olá")
            .with(lang("zh-Hant"), "你好");
        let cases = [
            ("en", "Hello"),
            ("pt-BR", "Olá"),
            ("zh-Hant-TW", "你好"),
            ("zh", "Hello"),
            ("de", "Hello"),
        ];
        for (tag, expected) in cases {
            assert_eq!(t.get(&lang(tag)), expected, "{tag}");
        }
    }

    #[test]
    fn serde_keeps_order_and_canonicalises_tags() -> Result<(), serde_json::Error> {
        let t: Texts = serde_json::from_str(r#"{"es":"Hola","pt_br":"Olá"}"#)?;
        assert_eq!(t.primary(), "Hola");
        assert_eq!(serde_json::to_string(&t)?, r#"{"es":"Hola","pt-BR":"Olá"}"#);
        assert!(serde_json::from_str::<Texts>(r#"{"english":"x"}"#).is_err());
        Ok(())
    }
}
