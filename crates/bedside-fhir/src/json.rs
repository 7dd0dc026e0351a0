//! Lossless reading and writing of FHIR JSON objects, and input limits.
//!
//! [`Reader`] removes the elements it understands from a JSON object and leaves everything
//! else in place; what is left becomes the object's [`Unmodelled`] map. An element whose value
//! does not have the expected shape is *not* taken, so it too is kept verbatim (the `try_*`
//! methods instead report it as an error, for elements a domain cannot do without). [`Writer`]
//! writes the modelled elements and merges the unmodelled ones back, so a round trip loses
//! nothing by construction.
//!
//! This file is over 800 lines and not split further: [`Reader`] and [`Writer`] are the two
//! halves of one round trip over the [`Unmodelled`] map they share, with a read and a write
//! method of the same name per FHIR datatype, so one can be read against the other; about
//! 100 lines are tests.

use crate::datatypes::{
    Extension, Identifier, Meta, Money, Narrative, Period, Quantity, Reference,
};
use crate::{Decimal, ElementPath, FhirDateTime, FhirError, Problem};
use bedside_core::{CodeableConcept, Coding, Sensitive};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Elements of a FHIR object that a model has no field for, kept verbatim so that export
/// writes them back. The values may hold PHI, so `Debug` prints only the element names.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unmodelled(Map<String, Value>);

impl Unmodelled {
    /// Wraps a JSON object's leftover elements.
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// Whether nothing was left over.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names of the kept elements.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Borrows the kept elements. Values may contain PHI.
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Mutably borrows the kept elements.
    pub fn expose_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }

    /// Unwraps the kept elements.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl fmt::Debug for Unmodelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .0
            .keys()
            .map(|k| ElementPath::parse(k).to_string())
            .collect();
        f.debug_set().entries(names).finish()
    }
}

/// Bounds on what an importer accepts, checked before any element is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of objects and arrays.
    pub max_depth: usize,
    /// Most items in any one array (bundle entries included).
    pub max_array_items: usize,
}

impl Default for Limits {
    /// 64 MiB, depth 64, 100,000 items per array.
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_array_items: 100_000,
        }
    }
}

impl Limits {
    /// Checks an already parsed value against the depth and array limits.
    ///
    /// # Errors
    /// [`Problem::TooDeep`] or [`Problem::TooMany`] at the offending element.
    pub fn check(&self, value: &Value) -> Result<(), FhirError> {
        // Iterative, so hostile nesting cannot exhaust the stack.
        let mut stack: Vec<(&Value, usize, ElementPath)> = vec![(value, 0, ElementPath::default())];
        while let Some((v, depth, path)) = stack.pop() {
            if depth > self.max_depth {
                let problem = Problem::TooDeep {
                    limit: self.max_depth,
                };
                return Err(FhirError::new(path, problem));
            }
            match v {
                Value::Array(items) => {
                    if items.len() > self.max_array_items {
                        let problem = Problem::TooMany {
                            limit: self.max_array_items,
                        };
                        return Err(FhirError::new(path, problem));
                    }
                    for (i, item) in items.iter().enumerate() {
                        stack.push((item, depth + 1, path.index(i)));
                    }
                }
                Value::Object(map) => {
                    for (k, item) in map {
                        stack.push((item, depth + 1, path.child(k)));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Parses bytes into a JSON object that has a string `resourceType`, within the limits.
    ///
    /// # Errors
    /// [`Problem::TooLarge`], [`Problem::NotJson`], [`Problem::TooDeep`],
    /// [`Problem::TooMany`], or [`Problem::WrongType`] when the input is not an object
    /// with a string `resourceType`. No error carries input text.
    pub fn parse_resource(&self, bytes: &[u8]) -> Result<Map<String, Value>, FhirError> {
        if bytes.len() > self.max_bytes {
            let problem = Problem::TooLarge {
                limit: self.max_bytes,
            };
            return Err(FhirError::new(ElementPath::default(), problem));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| FhirError::from_serde(&ElementPath::default(), &e))?;
        self.check(&value)?;
        match value {
            Value::Object(map) if map.get("resourceType").is_some_and(Value::is_string) => Ok(map),
            Value::Object(_) => Err(FhirError::wrong_type(
                &ElementPath::parse("resourceType"),
                "a string",
            )),
            _ => Err(FhirError::wrong_type(&ElementPath::default(), "an object")),
        }
    }
}

/// Reads one JSON object, collecting the paths of unmodelled elements into `notes`.
pub struct Reader<'n> {
    map: Map<String, Value>,
    path: ElementPath,
    notes: &'n mut Vec<ElementPath>,
}

impl<'n> Reader<'n> {
    /// Starts reading `map`, whose place in the resource is `path`.
    pub fn new(
        map: Map<String, Value>,
        path: ElementPath,
        notes: &'n mut Vec<ElementPath>,
    ) -> Self {
        Self { map, path, notes }
    }

    /// Where this object is.
    pub fn path(&self) -> &ElementPath {
        &self.path
    }

    /// The path of one of this object's elements.
    pub fn child_path(&self, key: &str) -> ElementPath {
        self.path.child(key)
    }

    /// Looks at an element without taking it.
    pub fn peek(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The names of the elements not yet taken.
    pub fn keys(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// Whether an element is present.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The notes collected so far (for nested readers made by hand).
    pub fn notes_mut(&mut self) -> &mut Vec<ElementPath> {
        self.notes
    }

    /// Removes `key` whatever its value.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// Removes `key` when `accept` says its value has the expected shape.
    pub fn take_if(&mut self, key: &str, accept: impl Fn(&Value) -> bool) -> Option<Value> {
        if self.map.get(key).is_some_and(accept) {
            self.map.remove(key)
        } else {
            None
        }
    }

    /// Puts a value back (used when a claimed element turns out not to parse).
    pub fn give_back(&mut self, key: &str, value: Value) {
        match (self.map.get_mut(key), value) {
            (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
            (Some(_), _) => {}
            (None, value) => {
                self.map.insert(key.to_string(), value);
            }
        }
    }

    /// Takes a string.
    pub fn string(&mut self, key: &str) -> Option<String> {
        match self.take_if(key, Value::is_string) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Takes a string that may hold PHI.
    pub fn sensitive(&mut self, key: &str) -> Option<Sensitive<String>> {
        self.string(key).map(Sensitive::new)
    }

    /// Takes a string that `parse` accepts.
    pub fn parsed<T>(&mut self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let value = self.map.get(key)?.as_str().and_then(&parse)?;
        self.map.remove(key);
        Some(value)
    }

    /// Takes a string that `parse` must accept: absent is `Ok(None)`, present but not
    /// accepted is an error naming `expected`.
    ///
    /// # Errors
    /// [`Problem::WrongType`] for a non-string, [`Problem::Invalid`] for a refused string.
    pub fn try_parsed<T>(
        &mut self,
        key: &str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, FhirError> {
        let Some(value) = self.map.get(key) else {
            return Ok(None);
        };
        let Some(text) = value.as_str() else {
            return Err(FhirError::wrong_type(&self.child_path(key), "a string"));
        };
        let parsed =
            parse(text).ok_or_else(|| FhirError::invalid(&self.child_path(key), expected))?;
        self.map.remove(key);
        Ok(Some(parsed))
    }

    /// Takes a string that must be present and accepted by `parse`.
    ///
    /// # Errors
    /// As [`Reader::try_parsed`], plus [`Problem::Missing`].
    pub fn require_parsed<T>(
        &mut self,
        key: &str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, FhirError> {
        self.try_parsed(key, expected, parse)?
            .ok_or_else(|| FhirError::missing(&self.child_path(key)))
    }

    /// Takes a boolean.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        self.take_if(key, Value::is_boolean)
            .and_then(|v| v.as_bool())
    }

    /// Takes a non-negative integer that fits a `u32`.
    pub fn uint(&mut self, key: &str) -> Option<u32> {
        let n = self
            .map
            .get(key)?
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())?;
        self.map.remove(key);
        Some(n)
    }

    /// Takes an integer.
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let n = self.map.get(key)?.as_i64()?;
        self.map.remove(key);
        Some(n)
    }

    /// Takes a decimal number, exactly.
    pub fn decimal(&mut self, key: &str) -> Option<Decimal> {
        let d = self
            .map
            .get(key)?
            .as_number()
            .and_then(Decimal::from_number)?;
        self.map.remove(key);
        Some(d)
    }

    /// Takes a non-empty array of strings.
    pub fn strings(&mut self, key: &str) -> Vec<String> {
        let ok = |v: &Value| {
            v.as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string))
        };
        match self.take_if(key, ok) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Takes a non-empty array of strings that may hold PHI.
    pub fn sensitive_strings(&mut self, key: &str) -> Vec<Sensitive<String>> {
        self.strings(key).into_iter().map(Sensitive::new).collect()
    }

    /// Takes an object and reads it with `read`.
    pub fn object<T>(&mut self, key: &str, read: impl FnOnce(Reader<'_>) -> T) -> Option<T> {
        let path = self.child_path(key);
        match self.take_if(key, Value::is_object) {
            Some(Value::Object(map)) => Some(read(Reader::new(map, path, self.notes))),
            _ => None,
        }
    }

    /// Takes an object and reads it with `read`; when `read` declines, the object stays.
    pub fn object_try<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Reader<'_>) -> Option<T>,
    ) -> Option<T> {
        let path = self.child_path(key);
        let Some(Value::Object(map)) = self.map.get(key) else {
            return None;
        };
        let map = map.clone();
        let mut scratch = Vec::new();
        let value = read(Reader::new(map, path, &mut scratch))?;
        self.map.remove(key);
        self.notes.extend(scratch);
        Some(value)
    }

    /// Takes a non-empty array of objects and reads each with `read`.
    pub fn objects<T>(&mut self, key: &str, mut read: impl FnMut(Reader<'_>) -> T) -> Vec<T> {
        let ok = |v: &Value| {
            v.as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object))
        };
        let path = self.child_path(key);
        match self.take_if(key, ok) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| match v {
                    Value::Object(map) => Some(read(Reader::new(map, path.index(i), self.notes))),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Takes a non-empty array of objects, each read with `read`, which may fail.
    ///
    /// # Errors
    /// The first error of `read`, or [`Problem::WrongType`] when the element is present but
    /// not an array of objects.
    pub fn try_objects<T>(
        &mut self,
        key: &str,
        mut read: impl FnMut(Reader<'_>) -> Result<T, FhirError>,
    ) -> Result<Vec<T>, FhirError> {
        let path = self.child_path(key);
        let Some(value) = self.map.get(key) else {
            return Ok(Vec::new());
        };
        let ok = value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_object));
        if !ok {
            return Err(FhirError::wrong_type(&path, "an array of objects"));
        }
        let Some(Value::Array(items)) = self.map.remove(key) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            if let Value::Object(map) = v {
                out.push(read(Reader::new(map, path.index(i), self.notes))?);
            }
        }
        Ok(out)
    }

    /// Takes a `CodeableConcept` that [`CodeableConcept`] represents exactly.
    pub fn concept(&mut self, key: &str) -> Option<CodeableConcept> {
        let concept = self.map.get(key).and_then(concept_from_json)?;
        self.map.remove(key);
        Some(concept)
    }

    /// Takes a non-empty array of exactly representable `CodeableConcept`s.
    pub fn concepts(&mut self, key: &str) -> Vec<CodeableConcept> {
        let Some(Value::Array(items)) = self.map.get(key) else {
            return Vec::new();
        };
        let parsed: Option<Vec<CodeableConcept>> = items.iter().map(concept_from_json).collect();
        match parsed {
            Some(list) if !list.is_empty() => {
                self.map.remove(key);
                list
            }
            _ => Vec::new(),
        }
    }

    /// Takes a `Coding` that [`Coding`] represents exactly.
    pub fn coding(&mut self, key: &str) -> Option<Coding> {
        let coding = self.map.get(key).and_then(coding_from_json)?;
        self.map.remove(key);
        Some(coding)
    }

    /// Takes a non-empty array of exactly representable `Coding`s.
    pub fn codings(&mut self, key: &str) -> Vec<Coding> {
        let Some(Value::Array(items)) = self.map.get(key) else {
            return Vec::new();
        };
        let parsed: Option<Vec<Coding>> = items.iter().map(coding_from_json).collect();
        match parsed {
            Some(list) if !list.is_empty() => {
                self.map.remove(key);
                list
            }
            _ => Vec::new(),
        }
    }

    /// Takes a `Reference`.
    pub fn reference(&mut self, key: &str) -> Option<Reference> {
        self.object(key, Reference::read)
    }

    /// Takes an array of `Reference`s.
    pub fn references(&mut self, key: &str) -> Vec<Reference> {
        self.objects(key, Reference::read)
    }

    /// Takes an `Identifier`.
    pub fn identifier(&mut self, key: &str) -> Option<Identifier> {
        self.object(key, Identifier::read)
    }

    /// Takes an array of `Identifier`s.
    pub fn identifiers(&mut self, key: &str) -> Vec<Identifier> {
        self.objects(key, Identifier::read)
    }

    /// Takes a `Period`.
    pub fn period(&mut self, key: &str) -> Option<Period> {
        self.object(key, Period::read)
    }

    /// Takes a `Quantity`.
    pub fn quantity(&mut self, key: &str) -> Option<Quantity> {
        self.object(key, Quantity::read)
    }

    /// Takes a `Money`.
    pub fn money(&mut self, key: &str) -> Option<Money> {
        self.object(key, Money::read)
    }

    /// Takes a `Meta`.
    pub fn meta(&mut self, key: &str) -> Option<Meta> {
        self.object(key, Meta::read)
    }

    /// Takes a `Narrative`.
    pub fn narrative(&mut self, key: &str) -> Option<Narrative> {
        self.object(key, Narrative::read)
    }

    /// Takes a FHIR `date` or `dateTime`.
    pub fn date_time(&mut self, key: &str) -> Option<FhirDateTime> {
        self.parsed(key, FhirDateTime::parse)
    }

    /// Takes a FHIR `date` or `dateTime` that must be valid when present.
    ///
    /// # Errors
    /// As [`Reader::try_parsed`].
    pub fn try_date_time(&mut self, key: &str) -> Result<Option<FhirDateTime>, FhirError> {
        self.try_parsed(key, "a FHIR dateTime", FhirDateTime::parse)
    }

    /// Takes the `contained` resources, verbatim.
    pub fn contained(&mut self) -> Vec<Value> {
        match self.take_if("contained", Value::is_array) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }

    /// Takes the extensions whose `url` satisfies `claim`, leaving the others in place.
    ///
    /// Export writes kept extensions first and modelled ones after them, so the claimed ones
    /// are taken only when they already form the tail of the array; otherwise nothing is
    /// taken and the array stays verbatim. A caller that cannot parse what it took must hand
    /// *all* of it back with [`Reader::give_back`] so the order is restored.
    pub fn claim_extensions(&mut self, claim: impl Fn(&str) -> bool) -> Vec<Extension> {
        let is_claimed = |e: &Value| e.get("url").and_then(Value::as_str).is_some_and(&claim);
        let Some(Value::Array(items)) = self.map.get("extension") else {
            return Vec::new();
        };
        let Some(first) = items.iter().position(is_claimed) else {
            return Vec::new();
        };
        if !items[first..]
            .iter()
            .all(|e| is_claimed(e) && e.is_object())
        {
            return Vec::new();
        }
        let Some(Value::Array(mut items)) = self.map.remove("extension") else {
            return Vec::new();
        };
        let claimed = items.split_off(first);
        if !items.is_empty() {
            self.map.insert("extension".into(), Value::Array(items));
        }
        let path = self.child_path("extension");
        let mut scratch = Vec::new();
        claimed
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::Object(map) => Some(Extension::read(Reader::new(
                    map,
                    path.index(first + i),
                    &mut scratch,
                ))),
                _ => None,
            })
            .collect()
    }

    /// Ends reading: what is left is unmodelled, and its paths are noted.
    pub fn finish(self) -> Unmodelled {
        for key in self.map.keys() {
            self.notes.push(self.path.child(key));
        }
        Unmodelled::new(self.map)
    }
}

/// A coding with exactly `system`, `code` and optionally `display`, all strings.
pub fn coding_from_json(v: &Value) -> Option<Coding> {
    let o = v.as_object()?;
    if o.keys()
        .any(|k| !matches!(k.as_str(), "system" | "code" | "display"))
    {
        return None;
    }
    let mut c = Coding::new(o.get("system")?.as_str()?, o.get("code")?.as_str()?);
    if let Some(d) = o.get("display") {
        c.display = Some(d.as_str()?.to_string());
    }
    Some(c)
}

/// A concept whose codings all convert with [`coding_from_json`], with an optional text.
pub fn concept_from_json(v: &Value) -> Option<CodeableConcept> {
    let o = v.as_object()?;
    if o.keys().any(|k| !matches!(k.as_str(), "coding" | "text")) || o.is_empty() {
        return None;
    }
    let coding = match o.get("coding") {
        None => Vec::new(),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(coding_from_json)
            .collect::<Option<Vec<_>>>()?,
        Some(_) => return None,
    };
    let text = match o.get("text") {
        None => None,
        Some(t) => Some(t.as_str()?.to_string()),
    };
    Some(CodeableConcept { coding, text })
}

/// The JSON of a coding.
pub fn coding_to_json(c: &Coding) -> Value {
    let mut m = Map::new();
    m.insert("system".into(), Value::String(c.system.clone()));
    m.insert("code".into(), Value::String(c.code.clone()));
    if let Some(d) = &c.display {
        m.insert("display".into(), Value::String(d.clone()));
    }
    Value::Object(m)
}

/// The JSON of a concept.
pub fn concept_to_json(c: &CodeableConcept) -> Value {
    let mut m = Map::new();
    if !c.coding.is_empty() {
        m.insert(
            "coding".into(),
            Value::Array(c.coding.iter().map(coding_to_json).collect()),
        );
    }
    if let Some(t) = &c.text {
        m.insert("text".into(), Value::String(t.clone()));
    }
    Value::Object(m)
}

fn is_empty_concept(c: &CodeableConcept) -> bool {
    c.coding.is_empty() && c.text.is_none()
}

/// Builds one JSON object.
#[derive(Debug, Default)]
pub struct Writer {
    map: Map<String, Value>,
}

impl Writer {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// An object starting with `resourceType`.
    pub fn resource(resource_type: &str) -> Self {
        let mut w = Self::new();
        w.map
            .insert("resourceType".into(), Value::String(resource_type.into()));
        w
    }

    /// Writes a value when there is one.
    pub fn value(&mut self, key: &str, value: Option<Value>) {
        if let Some(v) = value {
            self.map.insert(key.into(), v);
        }
    }

    /// Writes a string when there is one.
    pub fn str(&mut self, key: &str, value: Option<&str>) {
        self.value(key, value.map(|s| Value::String(s.to_string())));
    }

    /// Writes a string that may hold PHI.
    pub fn sensitive(&mut self, key: &str, value: Option<&Sensitive<String>>) {
        self.str(key, value.map(|s| s.expose().as_str()));
    }

    /// Writes a boolean.
    pub fn boolean(&mut self, key: &str, value: Option<bool>) {
        self.value(key, value.map(Value::Bool));
    }

    /// Writes a non-negative integer.
    pub fn uint(&mut self, key: &str, value: Option<u32>) {
        self.value(key, value.map(|n| Value::Number(Number::from(n))));
    }

    /// Writes a decimal.
    pub fn decimal(&mut self, key: &str, value: Option<&Decimal>) {
        self.value(key, value.map(Decimal::to_json));
    }

    /// Writes a non-empty array.
    pub fn list(&mut self, key: &str, items: Vec<Value>) {
        if !items.is_empty() {
            self.map.insert(key.into(), Value::Array(items));
        }
    }

    /// Writes a non-empty array of strings.
    pub fn strings<'a>(&mut self, key: &str, items: impl IntoIterator<Item = &'a str>) {
        self.list(
            key,
            items
                .into_iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        );
    }

    /// Writes a non-empty array of strings that may hold PHI.
    pub fn sensitive_strings(&mut self, key: &str, items: &[Sensitive<String>]) {
        self.strings(key, items.iter().map(|s| s.expose().as_str()));
    }

    /// Writes a concept; an empty one (no coding, no text) is not written, since `{}` is not
    /// valid R4.
    pub fn concept(&mut self, key: &str, c: Option<&CodeableConcept>) {
        self.value(key, c.filter(|c| !is_empty_concept(c)).map(concept_to_json));
    }

    /// Writes a non-empty array of concepts, leaving out empty ones.
    pub fn concepts(&mut self, key: &str, cs: &[CodeableConcept]) {
        let items = cs
            .iter()
            .filter(|c| !is_empty_concept(c))
            .map(concept_to_json)
            .collect();
        self.list(key, items);
    }

    /// Writes a coding.
    pub fn coding(&mut self, key: &str, c: Option<&Coding>) {
        self.value(key, c.map(coding_to_json));
    }

    /// Writes a non-empty array of codings.
    pub fn codings(&mut self, key: &str, cs: &[Coding]) {
        self.list(key, cs.iter().map(coding_to_json).collect());
    }

    /// Writes a reference.
    pub fn reference(&mut self, key: &str, r: Option<&Reference>) {
        self.value(key, r.map(Reference::to_json));
    }

    /// Writes a non-empty array of references.
    pub fn references(&mut self, key: &str, rs: &[Reference]) {
        self.list(key, rs.iter().map(Reference::to_json).collect());
    }

    /// Writes an identifier.
    pub fn identifier(&mut self, key: &str, i: Option<&Identifier>) {
        self.value(key, i.map(Identifier::to_json));
    }

    /// Writes a non-empty array of identifiers.
    pub fn identifiers(&mut self, key: &str, is: &[Identifier]) {
        self.list(key, is.iter().map(Identifier::to_json).collect());
    }

    /// Writes a period.
    pub fn period(&mut self, key: &str, p: Option<&Period>) {
        self.value(key, p.map(Period::to_json));
    }

    /// Writes a quantity.
    pub fn quantity(&mut self, key: &str, q: Option<&Quantity>) {
        self.value(key, q.map(Quantity::to_json));
    }

    /// Writes a money amount.
    pub fn money(&mut self, key: &str, m: Option<&Money>) {
        self.value(key, m.map(Money::to_json));
    }

    /// Writes a `Meta`.
    pub fn meta(&mut self, key: &str, m: Option<&Meta>) {
        self.value(
            key,
            m.map(Meta::to_json)
                .filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
        );
    }

    /// Writes a narrative.
    pub fn narrative(&mut self, key: &str, n: Option<&Narrative>) {
        self.value(key, n.map(Narrative::to_json));
    }

    /// Writes a date or dateTime.
    pub fn date_time(&mut self, key: &str, d: Option<&FhirDateTime>) {
        self.str(key, d.map(FhirDateTime::as_str));
    }

    /// Writes extensions (after any kept ones, see [`Writer::finish`]).
    pub fn extensions(&mut self, extensions: &[Extension]) {
        self.list(
            "extension",
            extensions.iter().map(Extension::to_json).collect(),
        );
    }

    /// Ends writing without unmodelled elements.
    pub fn done(self) -> Value {
        Value::Object(self.map)
    }

    /// Ends writing, merging the unmodelled elements back. When both sides have an array
    /// under the same key (extensions), the unmodelled items come first; otherwise what the
    /// model wrote wins.
    pub fn finish(mut self, unmodelled: &Unmodelled) -> Value {
        for (key, value) in unmodelled.expose() {
            match (self.map.get_mut(key), value) {
                (Some(Value::Array(ours)), Value::Array(kept)) => {
                    let mut merged = kept.clone();
                    merged.append(ours);
                    *ours = merged;
                }
                (Some(_), _) => {}
                (None, _) => {
                    self.map.insert(key.clone(), value.clone());
                }
            }
        }
        Value::Object(self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn reader_keeps_what_it_cannot_read() {
        let mut notes = Vec::new();
        let map = object(json!({
            "gender": 5,
            "given": [],
            "name": "x",
            "type": {"coding": [{"code": "self"}]},
            "rank": 1.5
        }));
        let mut r = Reader::new(map, ElementPath::root("P"), &mut notes);
        assert_eq!(r.string("gender"), None);
        assert!(r.strings("given").is_empty());
        assert_eq!(r.string("name").as_deref(), Some("x"));
        assert_eq!(r.concept("type"), None);
        assert_eq!(r.uint("rank"), None);
        let rest = r.finish();
        assert_eq!(rest.keys().count(), 4);
        assert_eq!(notes.len(), 4);
        assert!(notes.iter().any(|p| p.to_string() == "P.type"));
    }

    #[test]
    fn strict_reads_report_paths_not_values() {
        let mut notes = Vec::new();
        let map = object(json!({"end": "Ada Lovelace 1985-12-10", "start": 3}));
        let mut r = Reader::new(
            map,
            ElementPath::root("Consent").child("period"),
            &mut notes,
        );
        let e = r.try_date_time("end").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("`Consent.period.end`: expected a FHIR dateTime")
        );
        let e = r.try_date_time("start").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("`Consent.period.start`: expected a string")
        );
    }

    #[test]
    fn empty_concepts_are_not_written() {
        let mut w = Writer::new();
        w.concept("code", Some(&CodeableConcept::default()));
        w.concepts("category", &[CodeableConcept::default()]);
        assert_eq!(w.done(), json!({}));
    }

    #[test]
    fn writer_merges_extensions_unmodelled_first() {
        let kept = object(json!({"extension": [{"url": "a"}], "text": {"status": "x"}}));
        let mut w = Writer::new();
        w.list("extension", vec![json!({"url": "b"})]);
        let out = w.finish(&Unmodelled::new(kept));
        assert_eq!(
            out,
            json!({"extension": [{"url": "a"}, {"url": "b"}], "text": {"status": "x"}})
        );
    }

    #[test]
    fn limits_refuse_without_recursion() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let deep = br#"{"resourceType":"Patient","a":{"b":{"c":{"d":1}}}}"#;
        let e = limits.parse_resource(deep).err().map(|e| e.problem);
        assert_eq!(e, Some(Problem::TooDeep { limit: 3 }));
        let e = Limits::default()
            .parse_resource(b"[1]")
            .err()
            .map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("``: expected an object"));
        let e = Limits::default()
            .parse_resource(b"{\"name\": \"Ada")
            .err()
            .map(|e| e.problem);
        assert!(matches!(e, Some(Problem::NotJson { .. })));
        let small = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(small.parse_resource(b"{\"resourceType\":\"X\"}").is_err());
    }
}
