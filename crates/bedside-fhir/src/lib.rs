//! The FHIR R4 (4.0.1) JSON layer every Bedside domain crate uses: one set of datatypes, one
//! lossless reader, one error type, one diff, one extension namespace.
//!
//! Domain crates keep only their resource mappings (`Consent` ↔ `bedside_consent::Consent`,
//! …); everything below a resource lives here:
//!
//! - [`Reader`] and [`Writer`]: read a JSON object element by element, keeping whatever the
//!   model has no field for in [`Unmodelled`], and merge it back on export — a round trip
//!   loses nothing by construction.
//! - Datatypes in [`datatypes`]: [`Reference`] (relative, absolute, `urn:uuid` and contained
//!   forms, see [`Target`]), [`Identifier`], [`Period`], [`Quantity`], [`Money`] on an exact
//!   [`Decimal`], [`Extension`], [`Meta`], [`Narrative`]; `Coding` and `CodeableConcept` are
//!   [`bedside_core`]'s.
//! - [`FhirDateTime`]: date and dateTime with their precision, all arithmetic checked.
//! - [`contained`]: `#id` resolution and invariant dom-3; [`bundle`]: transactions whose
//!   entries reference each other by `fullUrl`.
//! - [`FhirError`]: a typed [`ElementPath`] and a [`Problem`] — never input text, not even
//!   from `serde_json` messages.
//! - [`Limits`]: size, depth and array bounds checked before anything is read.
//! - [`semantic_diff`]: the one JSON comparison for round trips.
//!
//! Policy (also in `docs/ARCHITECTURE.md`): **import keeps everything** — elements a model
//! does not know, and elements whose value does not have the modelled shape, stay verbatim
//! and are reported as unmodelled paths; unknown codes in extensible bindings are kept.
//! Import fails only when an element the domain cannot do without is invalid. **Export is
//! strictly valid R4**: required elements are always written, and kept elements are merged
//! back unchanged.
//!
//! ```
//! use bedside_fhir::{ElementPath, Limits, Reader, Writer};
//!
//! let bytes = br#"{"resourceType": "Slot", "status": "free", "comment": "ask for Ada",
//!                  "start": "2026-06-03T09:00:00Z", "end": "2026-06-03T09:15:00Z"}"#;
//! let map = Limits::default().parse_resource(bytes)?;
//! let mut notes = Vec::new();
//! let mut r = Reader::new(map, ElementPath::root("Slot"), &mut notes);
//! let _ = r.string("resourceType");
//! let status = r.require_parsed("status", "a slot status", |s| Some(s.to_string()))?;
//! let start = r.try_date_time("start")?.ok_or("start is required")?;
//! let end = r.try_date_time("end")?.ok_or("end is required")?;
//! let kept = r.finish();
//! assert_eq!(notes.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["Slot.comment"]);
//!
//! let mut w = Writer::resource("Slot");
//! w.str("status", Some(&status));
//! w.date_time("start", Some(&start));
//! w.date_time("end", Some(&end));
//! let out = w.finish(&kept);
//! assert!(bedside_fhir::semantic_diff(&serde_json::from_slice(bytes)?, &out).is_empty());
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bundle;
pub mod codes;
pub mod contained;
pub mod datatypes;
mod date;
mod decimal;
mod diff;
mod error;
pub mod json;

pub use codes::{CODE_SYSTEM_BASE, EXTENSION_BASE};
pub use datatypes::{
    Extension, Identifier, Meta, Money, Narrative, Period, Quantity, Reference, Target,
};
pub use date::{FhirDateTime, Precision};
pub use decimal::{Decimal, Rounding};
pub use diff::semantic_diff;
pub use error::{ElementPath, FhirError, Problem, Segment};
pub use json::{Limits, Reader, Unmodelled, Writer};

/// An imported value plus the paths of elements kept verbatim because the model has no
/// field for them (or they did not have the expected shape).
#[derive(Debug, Clone, PartialEq)]
pub struct Imported<T> {
    /// The imported value.
    pub value: T,
    /// Element paths kept as unmodelled JSON, for example `Patient.maritalStatus`.
    pub unmodelled: Vec<ElementPath>,
}

/// The `resourceType` of a JSON resource.
pub fn resource_type(resource: &serde_json::Value) -> Option<&str> {
    resource
        .get("resourceType")
        .and_then(serde_json::Value::as_str)
}
