//! The R4 complex datatypes Bedside's resources share. Each keeps the elements it does not
//! model in an [`Unmodelled`] map, so reading and writing one loses nothing.
//!
//! `Coding` and `CodeableConcept` are [`bedside_core`]'s, so a code means the same thing in
//! every crate; they are read only when represented exactly (see
//! [`crate::json::coding_from_json`]) and otherwise kept verbatim.

use crate::json::{Reader, Unmodelled, Writer};
use crate::{Decimal, FhirDateTime};
use bedside_core::{CodeableConcept, Coding, Sensitive};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// What a literal `Reference.reference` points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `Patient/123` or `Patient/123/_history/2`.
    Relative {
        /// The resource type.
        resource_type: &'a str,
        /// The logical id.
        id: &'a str,
        /// The version, when the reference is versioned.
        version: Option<&'a str>,
    },
    /// `https://example.org/fhir/Patient/123`: another server.
    Absolute(&'a str),
    /// `urn:uuid:…`: an entry of the same bundle.
    UrnUuid(Uuid),
    /// `#id`: a resource contained in the referring one (`#` alone is the container itself).
    Contained(&'a str),
    /// Anything else (`urn:oid:…`, a malformed text): kept, not interpreted.
    Other(&'a str),
}

/// Whether `s` is a FHIR resource type name (`[A-Z][A-Za-z]+`).
fn is_type_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase()) && bytes.all(|b| b.is_ascii_alphabetic())
}

/// Whether `s` is a FHIR logical id (`[A-Za-z0-9\-\.]{1,64}`).
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl<'a> Target<'a> {
    /// Interprets a literal reference.
    pub fn parse(text: &'a str) -> Self {
        if let Some(id) = text.strip_prefix('#') {
            return Target::Contained(id);
        }
        if let Some(uuid) = text.strip_prefix("urn:uuid:") {
            return Uuid::parse_str(uuid).map_or(Target::Other(text), Target::UrnUuid);
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Target::Absolute(text);
        }
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [t, id] if is_type_name(t) && is_id(id) => Target::Relative {
                resource_type: t,
                id,
                version: None,
            },
            [t, id, "_history", v] if is_type_name(t) && is_id(id) && is_id(v) => {
                Target::Relative {
                    resource_type: t,
                    id,
                    version: Some(v),
                }
            }
            _ => Target::Other(text),
        }
    }
}

/// An R4 `Reference`: a literal reference (relative, absolute, `urn:uuid` or contained), a
/// logical identifier, or only a display.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reference {
    /// The literal reference text; see [`Reference::target`].
    pub reference: Option<String>,
    /// `Reference.type`: the target's type, when stated.
    pub resource_type: Option<String>,
    /// A logical reference by business identifier.
    pub identifier: Option<Box<Identifier>>,
    /// Text alternative (may name a person, so it is sensitive).
    pub display: Option<Sensitive<String>>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Reference {
    /// A literal reference with any text.
    pub fn to(reference: impl Into<String>) -> Self {
        Self {
            reference: Some(reference.into()),
            ..Self::default()
        }
    }

    /// `Type/id`.
    pub fn relative(resource_type: &str, id: impl std::fmt::Display) -> Self {
        Self::to(format!("{resource_type}/{id}"))
    }

    /// `urn:uuid:<uuid>`, for an entry of the same bundle.
    pub fn urn_uuid(uuid: Uuid) -> Self {
        Self::to(format!("urn:uuid:{uuid}"))
    }

    /// `#id`, for a contained resource.
    pub fn contained(id: &str) -> Self {
        Self::to(format!("#{id}"))
    }

    /// A logical reference by identifier.
    pub fn by_identifier(identifier: Identifier) -> Self {
        Self {
            identifier: Some(Box::new(identifier)),
            ..Self::default()
        }
    }

    /// With a display text.
    #[must_use]
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(Sensitive::new(display.into()));
        self
    }

    /// What the literal reference points at.
    pub fn target(&self) -> Option<Target<'_>> {
        self.reference.as_deref().map(Target::parse)
    }

    /// Reads a reference object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            reference: r.string("reference"),
            resource_type: r.string("type"),
            identifier: r.identifier("identifier").map(Box::new),
            display: r.sensitive("display"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("reference", self.reference.as_deref());
        w.str("type", self.resource_type.as_deref());
        w.identifier("identifier", self.identifier.as_deref());
        w.sensitive("display", self.display.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Identifier`. The value is sensitive (MRNs, member ids).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Identifier {
    /// `usual | official | temp | secondary | old`.
    pub use_: Option<String>,
    /// The kind of identifier.
    pub type_: Option<CodeableConcept>,
    /// The namespace.
    pub system: Option<String>,
    /// The value.
    pub value: Option<Sensitive<String>>,
    /// When valid.
    pub period: Option<Period>,
    /// Elements not modelled (`assigner`, extensions).
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Identifier {
    /// A `system` + `value` identifier.
    pub fn new(system: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            system: Some(system.into()),
            value: Some(Sensitive::new(value.into())),
            ..Self::default()
        }
    }

    /// Reads an identifier object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            use_: r.string("use"),
            type_: r.concept("type"),
            system: r.string("system"),
            value: r.sensitive("value"),
            period: r.period("period"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("use", self.use_.as_deref());
        w.concept("type", self.type_.as_ref());
        w.str("system", self.system.as_deref());
        w.sensitive("value", self.value.as_ref());
        w.period("period", self.period.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Period`: both ends inclusive at their precision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Period {
    /// Start, inclusive.
    pub start: Option<FhirDateTime>,
    /// End, inclusive at its precision.
    pub end: Option<FhirDateTime>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Period {
    /// A period between two optional bounds.
    pub fn new(start: Option<FhirDateTime>, end: Option<FhirDateTime>) -> Self {
        Self {
            start,
            end,
            unmodelled: Unmodelled::default(),
        }
    }

    /// Reads a period object; bounds that are not valid dateTimes stay unmodelled.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            start: r.date_time("start"),
            end: r.date_time("end"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.date_time("start", self.start.as_ref());
        w.date_time("end", self.end.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Quantity` (also the shape of `SimpleQuantity`, `Duration`, `Age`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Quantity {
    /// The value, exactly as written.
    pub value: Option<Decimal>,
    /// `< | <= | >= | >`.
    pub comparator: Option<String>,
    /// The unit as shown.
    pub unit: Option<String>,
    /// The unit's code system (UCUM).
    pub system: Option<String>,
    /// The unit's code.
    pub code: Option<String>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Quantity {
    /// A UCUM quantity.
    pub fn ucum(value: Decimal, code: &str, unit: &str) -> Self {
        Self {
            value: Some(value),
            unit: Some(unit.to_string()),
            system: Some(bedside_core::code::system::UCUM.to_string()),
            code: Some(code.to_string()),
            ..Self::default()
        }
    }

    /// Reads a quantity object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            value: r.decimal("value"),
            comparator: r.string("comparator"),
            unit: r.string("unit"),
            system: r.string("system"),
            code: r.string("code"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.decimal("value", self.value.as_ref());
        w.str("comparator", self.comparator.as_deref());
        w.str("unit", self.unit.as_deref());
        w.str("system", self.system.as_deref());
        w.str("code", self.code.as_deref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Money`: an exact decimal and an ISO 4217 currency. Any precision is kept; a
/// domain rounds only when it posts the amount, by its own rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Money {
    /// The amount.
    pub value: Option<Decimal>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Money {
    /// An amount in a currency.
    pub fn new(value: Decimal, currency: &str) -> Self {
        Self {
            value: Some(value),
            currency: Some(currency.to_string()),
            unmodelled: Unmodelled::default(),
        }
    }

    /// Reads a money object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            value: r.decimal("value"),
            currency: r.string("currency"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.decimal("value", self.value.as_ref());
        w.str("currency", self.currency.as_deref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Meta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    /// The version id.
    pub version_id: Option<String>,
    /// When last changed.
    pub last_updated: Option<FhirDateTime>,
    /// Where it came from.
    pub source: Option<String>,
    /// Profiles claimed.
    pub profile: Vec<String>,
    /// Security labels.
    pub security: Vec<Coding>,
    /// Tags.
    pub tag: Vec<Coding>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Meta {
    /// Reads a meta object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            version_id: r.string("versionId"),
            last_updated: r.parsed("lastUpdated", FhirDateTime::parse_instant),
            source: r.string("source"),
            profile: r.strings("profile"),
            security: r.codings("security"),
            tag: r.codings("tag"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("versionId", self.version_id.as_deref());
        w.date_time("lastUpdated", self.last_updated.as_ref());
        w.str("source", self.source.as_deref());
        w.strings("profile", self.profile.iter().map(String::as_str));
        w.codings("security", &self.security);
        w.codings("tag", &self.tag);
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Narrative`. The XHTML may name the patient, so it is sensitive.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Narrative {
    /// `generated | extensions | additional | empty`.
    pub status: Option<String>,
    /// The XHTML `div`.
    pub div: Option<Sensitive<String>>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Narrative {
    /// A generated narrative of plain text, escaped into a valid XHTML `div`.
    pub fn generated(text: &str) -> Self {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        Self {
            status: Some("generated".into()),
            div: Some(Sensitive::new(format!(
                "<div xmlns=\"http://www.w3.org/1999/xhtml\">{escaped}</div>"
            ))),
            unmodelled: Unmodelled::default(),
        }
    }

    /// Reads a narrative object.
    pub fn read(mut r: Reader<'_>) -> Self {
        Self {
            status: r.string("status"),
            div: r.sensitive("div"),
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("status", self.status.as_deref());
        w.sensitive("div", self.div.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// An R4 `Extension`: a URL and either one `value[x]` or nested extensions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Extension {
    /// Identifies the meaning.
    pub url: String,
    /// The `value[x]`: the type suffix (`String`, `Code`, `Coding`, …) and the JSON value.
    pub value: Option<(String, Value)>,
    /// Nested extensions.
    pub extension: Vec<Extension>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Extension {
    /// An extension with a `value[x]`.
    pub fn with_value(url: impl Into<String>, type_suffix: &str, value: Value) -> Self {
        Self {
            url: url.into(),
            value: Some((type_suffix.to_string(), value)),
            ..Self::default()
        }
    }

    /// A complex extension of nested ones.
    pub fn nested(url: impl Into<String>, extension: Vec<Extension>) -> Self {
        Self {
            url: url.into(),
            extension,
            ..Self::default()
        }
    }

    /// The value when its type suffix is `type_suffix`.
    pub fn value_of(&self, type_suffix: &str) -> Option<&Value> {
        self.value
            .as_ref()
            .filter(|(t, _)| t == type_suffix)
            .map(|(_, v)| v)
    }

    /// The first nested extension with `url`.
    pub fn child(&self, url: &str) -> Option<&Extension> {
        self.extension.iter().find(|e| e.url == url)
    }

    /// Reads an extension object.
    pub fn read(mut r: Reader<'_>) -> Self {
        let url = r.string("url").unwrap_or_default();
        let key = r
            .keys()
            .into_iter()
            .find(|k| k.len() > 5 && k.starts_with("value"));
        let value = key.and_then(|k| {
            let v = r.take(&k)?;
            Some((k["value".len()..].to_string(), v))
        });
        let extension = r.objects("extension", Extension::read);
        Self {
            url,
            value,
            extension,
            unmodelled: r.finish(),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.str("url", Some(&self.url));
        if let Some((suffix, v)) = &self.value {
            w.value(&format!("value{suffix}"), Some(v.clone()));
        }
        w.list(
            "extension",
            self.extension.iter().map(Extension::to_json).collect(),
        );
        w.finish(&self.unmodelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ElementPath;
    use serde_json::json;

    fn round_trip<T>(v: Value, read: fn(Reader<'_>) -> T, write: fn(&T) -> Value) -> (T, Value) {
        let Value::Object(map) = v else {
            panic!("object expected");
        };
        let mut notes = Vec::new();
        let t = read(Reader::new(map, ElementPath::root("X"), &mut notes));
        let out = write(&t);
        (t, out)
    }

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("Patient/p1/_history/2"),
            Target::Relative {
                resource_type: "Patient",
                id: "p1",
                version: Some("2")
            }
        );
        assert_eq!(Target::parse("#c1"), Target::Contained("c1"));
        assert!(matches!(
            Target::parse("urn:uuid:0191f8a0-0000-7000-8000-000000000001"),
            Target::UrnUuid(_)
        ));
        assert!(matches!(
            Target::parse("https://x.org/fhir/Patient/1"),
            Target::Absolute(_)
        ));
        assert!(matches!(Target::parse("patient 1"), Target::Other(_)));
    }

    #[test]
    fn datatypes_round_trip_whatever_they_do_not_model() {
        let input = json!({"reference": "Patient/1", "type": "Patient", "display": "Ada",
            "identifier": {"system": "s", "value": "v", "assigner": {"display": "A"}},
            "extension": [{"url": "x", "valueBoolean": true}]});
        let (r, out) = round_trip(input.clone(), Reference::read, Reference::to_json);
        assert_eq!(out, input);
        assert!(!format!("{r:?}").contains("Ada"));
        let money = json!({"value": 112.41600000000001, "currency": "USD"});
        let (m, out) = round_trip(money.clone(), Money::read, Money::to_json);
        assert_eq!(out, money);
        assert_eq!(
            m.value.map(|d| d.as_str().to_string()).as_deref(),
            Some("112.41600000000001")
        );
        let ext = json!({"url": "a", "extension": [{"url": "b", "valueCoding": {"code": "c"}}], "id": "e1"});
        let (e, out) = round_trip(ext.clone(), Extension::read, Extension::to_json);
        assert_eq!(out, ext);
        assert!(e.child("b").and_then(|c| c.value_of("Coding")).is_some());
        let q = json!({"value": 20.50, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"});
        let (_, out) = round_trip(q.clone(), Quantity::read, Quantity::to_json);
        assert!(crate::semantic_diff(&q, &out).is_empty());
    }

    #[test]
    fn narrative_escapes() {
        let n = Narrative::generated("a < b & c");
        assert_eq!(
            n.div.map(Sensitive::into_inner).as_deref(),
            Some("<div xmlns=\"http://www.w3.org/1999/xhtml\">a &lt; b &amp; c</div>")
        );
    }
}
