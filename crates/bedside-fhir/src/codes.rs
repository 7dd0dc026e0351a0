//! Code tables and Bedside's one FHIR namespace.

/// The one URL prefix of Bedside's own FHIR extensions, in every crate.
pub const EXTENSION_BASE: &str = "https://fhir.bedside.invalid/StructureDefinition/";

/// The one URL prefix of Bedside's own code systems, in every crate.
pub const CODE_SYSTEM_BASE: &str = "https://fhir.bedside.invalid/CodeSystem/";

/// The URL of Bedside extension `name`.
pub fn extension_url(name: &str) -> String {
    format!("{EXTENSION_BASE}{name}")
}

/// The URL of Bedside code system `name`.
pub fn code_system_url(name: &str) -> String {
    format!("{CODE_SYSTEM_BASE}{name}")
}

/// The code of `value` in a table listing every variant once.
///
/// ```
/// use bedside_fhir::codes::{from_code, to_code};
/// #[derive(Clone, Copy, PartialEq, Debug)]
/// enum Status { Active, Ended }
/// const TABLE: &[(Status, &str)] = &[(Status::Active, "active"), (Status::Ended, "ended")];
/// assert_eq!(to_code(TABLE, &Status::Ended), "ended");
/// assert_eq!(from_code(TABLE, "active"), Some(Status::Active));
/// assert_eq!(from_code(TABLE, "paused"), None);
/// ```
pub fn to_code<T: PartialEq>(table: &[(T, &'static str)], value: &T) -> &'static str {
    // Tables list every variant, so the empty fallback is never written.
    table
        .iter()
        .find(|(v, _)| v == value)
        .map_or("", |(_, c)| c)
}

/// The value of `code` in a table.
pub fn from_code<T: Copy>(table: &[(T, &'static str)], code: &str) -> Option<T> {
    table.iter().find(|(_, c)| *c == code).map(|(v, _)| *v)
}
