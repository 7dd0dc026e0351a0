//! [`FhirExtra`]: FHIR elements a model type does not interpret, kept verbatim so that an
//! imported resource exports unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// Uninterpreted FHIR elements of one JSON object, by element name.
///
/// Empty in the common case, so it is stored as an optional box: one pointer per value, which
/// keeps responses small when millions are aggregated. `Debug` prints element names only, since
/// the values may hold PHI (a contained `Patient`, a narrative).
#[derive(Clone, PartialEq, Default)]
pub struct FhirExtra(Option<Box<Map<String, Value>>>);

impl FhirExtra {
    /// No elements.
    pub fn new() -> Self {
        Self(None)
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The element `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.as_ref()?.get(key)
    }

    /// Sets element `key`.
    pub fn insert(&mut self, key: String, value: Value) {
        self.0.get_or_insert_with(Box::default).insert(key, value);
    }

    /// Removes element `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let m = self.0.as_mut()?;
        let v = m.remove(key);
        if m.is_empty() {
            self.0 = None;
        }
        v
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }

    /// A copy of the elements as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.as_deref().cloned().unwrap_or_default()
    }
}

impl From<Map<String, Value>> for FhirExtra {
    fn from(m: Map<String, Value>) -> Self {
        if m.is_empty() {
            Self(None)
        } else {
            Self(Some(Box::new(m)))
        }
    }
}

impl fmt::Debug for FhirExtra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|(k, _)| k)).finish()
    }
}

impl Serialize for FhirExtra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(m) => m.serialize(serializer),
            None => Map::new().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for FhirExtra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(FhirExtra::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let mut e = FhirExtra::new();
        assert!(e.is_empty());
        e.insert("contained".into(), Value::String("Ada Lovelace".into()));
        let debug = format!("{e:?}");
        assert!(
            debug.contains("contained") && !debug.contains("Ada"),
            "{debug}"
        );
        assert_eq!(
            e.remove("contained"),
            Some(Value::String("Ada Lovelace".into()))
        );
        assert!(e.is_empty());
    }
}
