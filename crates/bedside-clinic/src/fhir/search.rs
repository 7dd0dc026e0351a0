//! Patient search: the table of supported search parameters (which the parser and the
//! CapabilityStatement both read), query parsing, and the `searchset` bundle with its paging
//! links.

use super::patient_resource;
use crate::clinic::{MAX_SEARCH_PAGE, PatientPage, PatientParam, PatientSearch};
use crate::error::ClinicError;
use serde_json::{Value, json};

/// A search parameter the FHIR face implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchParamDef {
    /// The parameter's name in a query (`family`).
    pub code: &'static str,
    /// The FHIR search parameter type (`string`, `token`, `date`).
    pub type_: &'static str,
    /// The canonical URL of the parameter's definition.
    pub definition: &'static str,
    /// The criterion of the clinic's search it becomes.
    pub param: PatientParam,
}

const fn def(
    code: &'static str,
    type_: &'static str,
    definition: &'static str,
    param: PatientParam,
) -> SearchParamDef {
    SearchParamDef {
        code,
        type_,
        definition,
        param,
    }
}

/// The search parameters of `Patient`.
pub const PATIENT_PARAMS: &[SearchParamDef] = &[
    def(
        "_id",
        "token",
        concat!("http://hl7.org/fhir/SearchParameter/", "Resource-id"),
        PatientParam::Id,
    ),
    def(
        "identifier",
        "token",
        concat!("http://hl7.org/fhir/SearchParameter/", "Patient-identifier"),
        PatientParam::Identifier,
    ),
    def(
        "name",
        "string",
        concat!("http://hl7.org/fhir/SearchParameter/", "Patient-name"),
        PatientParam::Name,
    ),
    def(
        "family",
        "string",
        concat!("http://hl7.org/fhir/SearchParameter/", "individual-family"),
        PatientParam::Family,
    ),
    def(
        "given",
        "string",
        concat!("http://hl7.org/fhir/SearchParameter/", "individual-given"),
        PatientParam::Given,
    ),
    def(
        "birthdate",
        "date",
        concat!(
            "http://hl7.org/fhir/SearchParameter/",
            "individual-birthdate"
        ),
        PatientParam::BirthDate,
    ),
    def(
        "phone",
        "token",
        concat!("http://hl7.org/fhir/SearchParameter/", "individual-phone"),
        PatientParam::Phone,
    ),
    def(
        "email",
        "token",
        concat!("http://hl7.org/fhir/SearchParameter/", "individual-email"),
        PatientParam::Email,
    ),
    def(
        "address-postalcode",
        "string",
        concat!(
            "http://hl7.org/fhir/SearchParameter/",
            "individual-address-postalcode"
        ),
        PatientParam::PostalCode,
    ),
];

/// Page size when the query sets no `_count`.
pub const DEFAULT_COUNT: usize = 20;
/// Largest `_offset` accepted.
pub const MAX_OFFSET: usize = 1_000_000;

/// A parsed search query.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The criteria.
    pub search: PatientSearch,
    /// The criteria as given (name and raw value), for the bundle's links. Values are the
    /// caller's own and go only into link URLs, never into an error.
    applied: Vec<(String, String)>,
    /// Page size (at most [`MAX_SEARCH_PAGE`]).
    pub count: usize,
    /// Matches skipped before the page.
    pub offset: usize,
    /// `_summary=count`: the total only.
    pub summary_count: bool,
}

/// A parameter name safe to repeat in an error: short, and only the characters search
/// parameter names and modifiers use.
pub(super) fn nameable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
}

pub(super) fn number(value: &str, name: &str, max: usize) -> Result<usize, ClinicError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| ClinicError::bad(format!("{name}: expected a number from 0 to {max}")))
}

/// What a search does with a parameter the server does not support: FHIR's `Prefer:
/// handling=strict` (the default here) refuses the search, `handling=lenient` ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handling {
    /// Refuse the search, naming the parameter.
    #[default]
    Strict,
    /// Ignore the parameter (and leave it out of the `self` link).
    Lenient,
}

/// Parses a Patient search query. Unknown parameters (modifiers included) are refused, naming
/// the parameter, unless [`Handling::Lenient`] (`Prefer: handling=lenient`), which ignores them. Empty
/// values are ignored, as FHIR says.
///
/// # Errors
/// [`ClinicError::BadRequest`] naming the parameter, never its value.
pub fn parse(pairs: Vec<(String, String)>, handling: Handling) -> Result<SearchQuery, ClinicError> {
    let mut q = SearchQuery {
        search: PatientSearch::new(),
        applied: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
        summary_count: false,
    };
    for (name, value) in pairs {
        match name.as_str() {
            "_count" => q.count = number(&value, "_count", usize::MAX)?.min(MAX_SEARCH_PAGE),
            "_offset" => q.offset = number(&value, "_offset", MAX_OFFSET)?,
            "_summary" => match value.as_str() {
                "count" => q.summary_count = true,
                "false" => {}
                _ => return Err(ClinicError::bad("_summary: only `count` and `false`")),
            },
            "_format" => match value.as_str() {
                "json" | "application/json" | "application/fhir+json" => {}
                _ => return Err(ClinicError::bad("_format: only JSON is served")),
            },
            code => match PATIENT_PARAMS.iter().find(|d| d.code == code) {
                Some(_) if value.is_empty() => {}
                Some(d) => {
                    let values: Vec<&str> = value.split(',').collect();
                    q.search.add(d.param, d.code, &values)?;
                    q.applied.push((name.clone(), value));
                }
                None if handling == Handling::Lenient => {}
                None if nameable(code) => {
                    return Err(ClinicError::bad(format!(
                        "unknown or unsupported search parameter `{code}`"
                    )));
                }
                None => return Err(ClinicError::bad("unknown search parameter")),
            },
        }
    }
    Ok(q)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(super) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SearchQuery {
    /// The URL of this search at `offset`.
    fn url(&self, base: &str, offset: usize) -> String {
        let mut parts: Vec<String> = self
            .applied
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if self.summary_count {
            parts.push("_summary=count".into());
        } else {
            parts.push(format!("_count={}", self.count));
            parts.push(format!("_offset={offset}"));
        }
        format!("{base}/Patient?{}", parts.join("&"))
    }

    /// The `searchset` bundle of `page`, with `self` and (when more follow) `next` links.
    pub fn bundle(&self, base: &str, page: &PatientPage) -> Value {
        let mut links = vec![json!({"relation": "self", "url": self.url(base, self.offset)})];
        let end = self.offset.saturating_add(self.count);
        if !self.summary_count && self.count > 0 && end < page.total {
            links.push(json!({"relation": "next", "url": self.url(base, end)}));
        }
        let entries: Vec<Value> = page
            .patients
            .iter()
            .map(|v| {
                json!({
                    "fullUrl": format!("{base}/Patient/{}", v.patient),
                    "resource": patient_resource(v.patient, v.version, Some(v.at), &v.record),
                    "search": {"mode": "match"},
                })
            })
            .collect();
        let mut bundle = json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": page.total,
            "link": links,
        });
        if !entries.is_empty() {
            bundle["entry"] = Value::Array(entries);
        }
        bundle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: &str = "http://hl7.org/fhir/SearchParameter/";

    #[test]
    fn every_definition_is_an_r4_search_parameter_url() {
        for d in PATIENT_PARAMS {
            assert!(d.definition.starts_with(SP), "{}", d.code);
        }
    }

    #[test]
    fn refusals_name_the_parameter_but_never_the_value() {
        let cases: &[(&str, &str, &str)] = &[
            ("nickname", "Peggy", "`nickname`"),
            ("name:exact", "Peggy", "`name:exact`"),
            ("birthdate", "Peggy", "birthdate"),
            ("_id", "Peggy", "_id"),
            ("Peggy Smith 1970", "x", "unknown search parameter"),
            ("_count", "Peggy", "_count"),
        ];
        for (name, value, wanted) in cases {
            let got = parse(
                vec![(name.to_string(), value.to_string())],
                Handling::Strict,
            );
            let text = got.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(wanted), "{name}: {text}");
            assert!(!text.contains("Peggy"), "{name}: {text}");
        }
        assert!(parse(vec![("nickname".into(), "Peggy".into())], Handling::Lenient).is_ok());
    }
}
