//! Lossless reading and writing of FHIR JSON objects, and the semantic JSON comparison used to
//! check round trips.
//!
//! [`Reader`] removes the elements it understands from a JSON object and leaves everything else
//! in place; what is left becomes the object's [`Unmodelled`] map. An element whose value does not
//! have the expected shape is *not* taken, so it too is kept verbatim. Export writes the modelled
//! elements and merges the unmodelled ones back, so a round trip can lose nothing by
//! construction.

use crate::model::{FhirDateTime, FhirPeriod, Reference, Unmodelled};
use bedside_core::{CodeableConcept, Coding, Sensitive};
use serde_json::{Map, Number, Value};

/// Reads one JSON object, collecting the paths of unmodelled elements into `notes`.
pub(crate) struct Reader<'n> {
    map: Map<String, Value>,
    path: String,
    notes: &'n mut Vec<String>,
}

impl<'n> Reader<'n> {
    pub(crate) fn new(map: Map<String, Value>, path: String, notes: &'n mut Vec<String>) -> Self {
        Self { map, path, notes }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn peek(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    pub(crate) fn notes_mut(&mut self) -> &mut Vec<String> {
        self.notes
    }

    fn child_path(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Removes `key` when `accept` says its value has the expected shape.
    pub(crate) fn take_if(&mut self, key: &str, accept: impl Fn(&Value) -> bool) -> Option<Value> {
        if self.map.get(key).is_some_and(accept) {
            self.map.remove(key)
        } else {
            None
        }
    }

    /// Puts a value back (used when a claimed element turns out not to parse).
    pub(crate) fn give_back(&mut self, key: &str, value: Value) {
        match (self.map.get_mut(key), value) {
            (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
            (Some(_), _) => {}
            (None, value) => {
                self.map.insert(key.to_string(), value);
            }
        }
    }

    pub(crate) fn string(&mut self, key: &str) -> Option<String> {
        match self.take_if(key, Value::is_string) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn sensitive(&mut self, key: &str) -> Option<Sensitive<String>> {
        self.string(key).map(Sensitive::new)
    }

    /// Takes a string that `parse` accepts.
    pub(crate) fn parsed<T>(&mut self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let value = self.map.get(key)?.as_str().and_then(&parse)?;
        self.map.remove(key);
        Some(value)
    }

    pub(crate) fn boolean(&mut self, key: &str) -> Option<bool> {
        self.take_if(key, Value::is_boolean)
            .and_then(|v| v.as_bool())
    }

    pub(crate) fn uint(&mut self, key: &str) -> Option<u32> {
        let n = self
            .map
            .get(key)?
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())?;
        self.map.remove(key);
        Some(n)
    }

    /// Takes a non-empty array of strings.
    pub(crate) fn strings(&mut self, key: &str) -> Vec<String> {
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

    pub(crate) fn sensitive_strings(&mut self, key: &str) -> Vec<Sensitive<String>> {
        self.strings(key).into_iter().map(Sensitive::new).collect()
    }

    /// Takes an object and reads it with `read`.
    pub(crate) fn object<T>(&mut self, key: &str, read: impl FnOnce(Reader<'_>) -> T) -> Option<T> {
        let path = self.child_path(key);
        match self.take_if(key, Value::is_object) {
            Some(Value::Object(map)) => Some(read(Reader::new(map, path, self.notes))),
            _ => None,
        }
    }

    /// Takes an object and reads it with `read`; when `read` declines, the object stays.
    pub(crate) fn object_try<T>(
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
    pub(crate) fn objects<T>(
        &mut self,
        key: &str,
        mut read: impl FnMut(Reader<'_>) -> T,
    ) -> Vec<T> {
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
                    Value::Object(map) => {
                        Some(read(Reader::new(map, format!("{path}[{i}]"), self.notes)))
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Takes a `CodeableConcept` that [`CodeableConcept`] represents exactly.
    pub(crate) fn concept(&mut self, key: &str) -> Option<CodeableConcept> {
        let concept = self.map.get(key).and_then(concept_from_json)?;
        self.map.remove(key);
        Some(concept)
    }

    /// Takes a non-empty array of exactly representable `CodeableConcept`s.
    pub(crate) fn concepts(&mut self, key: &str) -> Vec<CodeableConcept> {
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
    pub(crate) fn coding(&mut self, key: &str) -> Option<Coding> {
        let coding = self.map.get(key).and_then(coding_from_json)?;
        self.map.remove(key);
        Some(coding)
    }

    pub(crate) fn reference(&mut self, key: &str) -> Option<Reference> {
        self.object(key, read_reference)
    }

    pub(crate) fn references(&mut self, key: &str) -> Vec<Reference> {
        self.objects(key, read_reference)
    }

    pub(crate) fn period(&mut self, key: &str) -> Option<FhirPeriod> {
        self.object(key, |mut r| FhirPeriod {
            start: r.date_time("start"),
            end: r.date_time("end"),
            unmodelled: r.finish(),
        })
    }

    pub(crate) fn date_time(&mut self, key: &str) -> Option<FhirDateTime> {
        self.parsed(key, FhirDateTime::parse)
    }

    /// Takes the extensions whose `url` satisfies `claim`, leaving the others in place.
    ///
    /// Export writes kept extensions first and Bedside's after them, so the claimed ones are
    /// taken only when they already form the tail of the array; otherwise nothing is taken and
    /// the array stays verbatim. A caller that cannot parse what it took must hand *all* of it
    /// back with [`Reader::give_back`] so the order is restored.
    pub(crate) fn claim_extensions(&mut self, claim: impl Fn(&str) -> bool) -> Vec<Value> {
        let is_claimed = |e: &Value| e.get("url").and_then(Value::as_str).is_some_and(&claim);
        let Some(Value::Array(items)) = self.map.get("extension") else {
            return Vec::new();
        };
        let first = items.iter().position(is_claimed);
        let Some(first) = first else {
            return Vec::new();
        };
        if !items[first..].iter().all(is_claimed) {
            return Vec::new();
        }
        let Some(Value::Array(mut items)) = self.map.remove("extension") else {
            return Vec::new();
        };
        let claimed = items.split_off(first);
        if !items.is_empty() {
            self.map.insert("extension".into(), Value::Array(items));
        }
        claimed
    }

    /// Ends reading: what is left is unmodelled, and its paths are noted.
    pub(crate) fn finish(self) -> Unmodelled {
        for key in self.map.keys() {
            self.notes.push(format!("{}.{key}", self.path));
        }
        Unmodelled::new(self.map)
    }
}

fn read_reference(mut r: Reader<'_>) -> Reference {
    Reference {
        reference: r.string("reference"),
        display: r.sensitive("display"),
        unmodelled: r.finish(),
    }
}

/// A coding with exactly `system`, `code` and optionally `display`, all strings.
pub(crate) fn coding_from_json(v: &Value) -> Option<Coding> {
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

fn concept_from_json(v: &Value) -> Option<CodeableConcept> {
    let o = v.as_object()?;
    if o.keys().any(|k| !matches!(k.as_str(), "coding" | "text")) {
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

pub(crate) fn coding_to_json(c: &Coding) -> Value {
    let mut m = Map::new();
    m.insert("system".into(), Value::String(c.system.clone()));
    m.insert("code".into(), Value::String(c.code.clone()));
    if let Some(d) = &c.display {
        m.insert("display".into(), Value::String(d.clone()));
    }
    Value::Object(m)
}

pub(crate) fn concept_to_json(c: &CodeableConcept) -> Value {
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

pub(crate) fn reference_to_json(r: &Reference) -> Value {
    let mut w = Writer::new();
    w.str("reference", r.reference.as_deref());
    w.str("display", r.display.as_ref().map(|d| d.expose().as_str()));
    w.finish(&r.unmodelled)
}

pub(crate) fn period_to_json(p: &FhirPeriod) -> Value {
    let mut w = Writer::new();
    w.str("start", p.start.as_ref().map(FhirDateTime::as_str));
    w.str("end", p.end.as_ref().map(FhirDateTime::as_str));
    w.finish(&p.unmodelled)
}

/// Builds one JSON object.
pub(crate) struct Writer {
    map: Map<String, Value>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self { map: Map::new() }
    }

    pub(crate) fn resource(resource_type: &str) -> Self {
        let mut w = Self::new();
        w.map
            .insert("resourceType".into(), Value::String(resource_type.into()));
        w
    }

    pub(crate) fn value(&mut self, key: &str, value: Option<Value>) {
        if let Some(v) = value {
            self.map.insert(key.into(), v);
        }
    }

    pub(crate) fn str(&mut self, key: &str, value: Option<&str>) {
        self.value(key, value.map(|s| Value::String(s.to_string())));
    }

    pub(crate) fn sensitive(&mut self, key: &str, value: Option<&Sensitive<String>>) {
        self.str(key, value.map(|s| s.expose().as_str()));
    }

    pub(crate) fn boolean(&mut self, key: &str, value: Option<bool>) {
        self.value(key, value.map(Value::Bool));
    }

    pub(crate) fn uint(&mut self, key: &str, value: Option<u32>) {
        self.value(key, value.map(|n| Value::Number(Number::from(n))));
    }

    /// Writes a non-empty array.
    pub(crate) fn list(&mut self, key: &str, items: Vec<Value>) {
        if !items.is_empty() {
            self.map.insert(key.into(), Value::Array(items));
        }
    }

    pub(crate) fn strings<'a>(&mut self, key: &str, items: impl IntoIterator<Item = &'a str>) {
        self.list(
            key,
            items
                .into_iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        );
    }

    pub(crate) fn sensitive_strings(&mut self, key: &str, items: &[Sensitive<String>]) {
        self.strings(key, items.iter().map(|s| s.expose().as_str()));
    }

    pub(crate) fn concept(&mut self, key: &str, c: Option<&CodeableConcept>) {
        self.value(key, c.map(concept_to_json));
    }

    pub(crate) fn concepts(&mut self, key: &str, cs: &[CodeableConcept]) {
        self.list(key, cs.iter().map(concept_to_json).collect());
    }

    pub(crate) fn reference(&mut self, key: &str, r: Option<&Reference>) {
        self.value(key, r.map(reference_to_json));
    }

    pub(crate) fn references(&mut self, key: &str, rs: &[Reference]) {
        self.list(key, rs.iter().map(reference_to_json).collect());
    }

    pub(crate) fn period(&mut self, key: &str, p: Option<&FhirPeriod>) {
        self.value(key, p.map(period_to_json));
    }

    pub(crate) fn date_time(&mut self, key: &str, d: Option<&FhirDateTime>) {
        self.str(key, d.map(FhirDateTime::as_str));
    }

    /// Ends writing, merging the unmodelled elements back. When both sides have an array under
    /// the same key (extensions), the unmodelled items come first.
    pub(crate) fn finish(mut self, unmodelled: &Unmodelled) -> Value {
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

/// Compares two JSON documents semantically — object member order and number formatting
/// (`1`, `1.0`, `1e0`) aside — and returns the paths where they differ, in document order.
/// Array order matters, as it does in FHIR.
///
/// ```
/// use bedside_records::fhir::semantic_diff;
/// let a = serde_json::json!({"a": 1, "b": [1.0, "x"]});
/// let b = serde_json::json!({"b": [1, "x"], "a": 1.0});
/// assert!(semantic_diff(&a, &b).is_empty());
/// let c = serde_json::json!({"b": [1, "y"]});
/// assert_eq!(semantic_diff(&a, &c), ["$.a", "$.b[1]"]);
/// ```
pub fn semantic_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into(expected, actual, "$".to_string(), &mut out);
    out
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn diff_into(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => diff_into(va, vb, format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}")),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                out.push(path);
            } else {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    diff_into(va, vb, format!("{path}[{i}]"), out);
                }
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            if !numbers_equal(x, y) {
                out.push(path);
            }
        }
        (x, y) => {
            if x != y {
                out.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(a: Value, b: Value, expected: &[&str]) {
        assert_eq!(semantic_diff(&a, &b), expected, "{a} vs {b}");
    }

    #[test]
    fn semantic_diff_cases() {
        check(json!({"a": 1}), json!({"a": 1}), &[]);
        check(json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}), &[]);
        check(json!({"v": 20.0}), json!({"v": 20}), &[]);
        check(json!({"v": 0.5}), json!({"v": 5e-1}), &[]);
        check(json!({"v": -3}), json!({"v": -3.0}), &[]);
        check(json!({"v": 1}), json!({"v": "1"}), &["$.v"]);
        check(
            json!({"a": [1, 2]}),
            json!({"a": [2, 1]}),
            &["$.a[0]", "$.a[1]"],
        );
        check(json!({"a": [1, 2]}), json!({"a": [1]}), &["$.a"]);
        check(json!({"a": 1}), json!({}), &["$.a"]);
        check(json!({}), json!({"z": {"y": 1}}), &["$.z"]);
        check(
            json!({"o": {"p": true}}),
            json!({"o": {"p": false}}),
            &["$.o.p"],
        );
        check(json!(null), json!(null), &[]);
    }

    #[test]
    fn reader_keeps_what_it_cannot_read() {
        let mut notes = Vec::new();
        let Value::Object(map) = json!({
            "gender": 5,
            "given": [],
            "name": "x",
            "type": {"coding": [{"code": "self"}]},
            "rank": 1.5
        }) else {
            return;
        };
        let mut r = Reader::new(map, "P".into(), &mut notes);
        assert_eq!(r.string("gender"), None);
        assert!(r.strings("given").is_empty());
        assert_eq!(r.string("name").as_deref(), Some("x"));
        assert_eq!(r.concept("type"), None);
        assert_eq!(r.uint("rank"), None);
        let rest = r.finish();
        let keys: Vec<&str> = rest.keys().collect();
        assert_eq!(keys.len(), 4);
        assert_eq!(notes.len(), 4);
        assert!(notes.contains(&"P.type".to_string()));
    }

    #[test]
    fn writer_merges_extensions_unmodelled_first() {
        let Value::Object(kept) = json!({"extension": [{"url": "a"}], "text": {"status": "x"}})
        else {
            return;
        };
        let mut w = Writer::new();
        w.list("extension", vec![json!({"url": "b"})]);
        let out = w.finish(&Unmodelled::new(kept));
        assert_eq!(
            out,
            json!({"extension": [{"url": "a"}, {"url": "b"}], "text": {"status": "x"}})
        );
    }
}
