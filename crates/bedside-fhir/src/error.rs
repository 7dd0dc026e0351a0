//! One PHI-safe error type for every FHIR importer: a typed element path plus what was wrong,
//! never the offending value.

use std::fmt;

/// One step of an [`ElementPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An element name (`birthDate`). Names that are not FHIR element names (which an attacker
    /// controls, since JSON keys are input) are replaced by `?` when the path is written.
    Element(String),
    /// An index into a repeating element.
    Index(usize),
}

/// Where in a resource something is: `Consent.provision.period.end`, `Claim.item[2].net`.
///
/// Built by the readers as they descend; shown in error messages. It holds element names
/// and indexes only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ElementPath {
    segments: Vec<Segment>,
}

impl ElementPath {
    /// The path of a resource root, named by its type (`Patient`).
    pub fn root(resource_type: &str) -> Self {
        Self {
            segments: vec![Segment::Element(resource_type.to_string())],
        }
    }

    /// Parses a dotted path (`Consent.provision[0].actor`): the inverse of `Display` for
    /// well-formed element names. Used by crates that still keep paths as text.
    pub fn parse(text: &str) -> Self {
        let mut path = Self::default();
        for part in text.split('.') {
            let (name, rest) = part.split_once('[').unwrap_or((part, ""));
            if !name.is_empty() {
                path.segments.push(Segment::Element(name.to_string()));
            }
            for index in rest.split('[') {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    path.segments.push(Segment::Index(i));
                }
            }
        }
        path
    }

    /// This path extended by an element name.
    #[must_use]
    pub fn child(&self, element: &str) -> Self {
        let mut next = self.clone();
        next.segments.push(Segment::Element(element.to_string()));
        next
    }

    /// This path extended by an index.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut next = self.clone();
        next.segments.push(Segment::Index(i));
        next
    }

    /// The steps, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

/// Whether `name` looks like a FHIR element name (letters, digits, `_`, at most 64 chars).
/// Anything else is input an attacker may have chosen and is never printed.
fn is_element_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl fmt::Display for ElementPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Element(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_element_name(name) {
                        f.write_str(name)?;
                    } else {
                        f.write_str("?")?;
                    }
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What was wrong at an [`ElementPath`]. Every variant describes the *expected* shape; none
/// carries the input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// Occurs when the input is not JSON; the position is where parsing stopped.
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Occurs when the input is larger than [`crate::Limits::max_bytes`].
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Occurs when objects and arrays nest deeper than [`crate::Limits::max_depth`].
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Occurs when a repeating element has more items than a limit allows.
    TooMany {
        /// The limit.
        limit: usize,
    },
    /// Occurs when a required element is absent.
    Missing,
    /// Occurs when an element has the wrong JSON type (`expected` names the right one).
    WrongType {
        /// What the element should be: `a string`, `an object`, ….
        expected: &'static str,
    },
    /// Occurs when a value has the right JSON type but not a valid form, e.g. a date that is
    /// not a date, or a code outside a required binding.
    Invalid {
        /// What the value should be: `a date`, `one of draft|active|retired|unknown`, ….
        expected: &'static str,
    },
    /// Occurs when `resourceType` is not the one the importer reads.
    WrongResourceType {
        /// The type the importer reads.
        expected: &'static str,
    },
    /// Occurs when a reference cannot be resolved (a `#id` with no contained resource, or a
    /// bundle reference to no entry).
    Unresolved,
    /// Occurs when a domain rule refuses an otherwise well-formed resource.
    Rejected {
        /// The rule, in words that carry no input.
        reason: &'static str,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotJson { line, column } => {
                write!(f, "not JSON (line {line}, column {column})")
            }
            Problem::TooLarge { limit } => write!(f, "input larger than {limit} bytes"),
            Problem::TooDeep { limit } => write!(f, "nested deeper than {limit} levels"),
            Problem::TooMany { limit } => write!(f, "more than {limit} items"),
            Problem::Missing => f.write_str("required element missing"),
            Problem::WrongType { expected } => write!(f, "expected {expected}"),
            Problem::Invalid { expected } => write!(f, "expected {expected}"),
            Problem::WrongResourceType { expected } => {
                write!(f, "expected resourceType `{expected}`")
            }
            Problem::Unresolved => f.write_str("reference does not resolve"),
            Problem::Rejected { reason } => f.write_str(reason),
        }
    }
}

/// The error of every FHIR importer in Bedside: where, and what was expected.
///
/// `Display` reads `` `Consent.provision.period.end`: expected a date ``. It never contains
/// input text: values are not carried at all, and element names that are not FHIR names are
/// printed as `?`.
///
/// ```
/// use bedside_fhir::{ElementPath, FhirError, Problem};
/// let e = FhirError::new(
///     ElementPath::root("Patient").child("birthDate"),
///     Problem::Invalid { expected: "a date" },
/// );
/// assert_eq!(e.to_string(), "`Patient.birthDate`: expected a date");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("`{path}`: {problem}")]
pub struct FhirError {
    /// Where.
    pub path: ElementPath,
    /// What.
    pub problem: Problem,
}

impl FhirError {
    /// An error at `path`.
    pub fn new(path: ElementPath, problem: Problem) -> Self {
        Self { path, problem }
    }

    /// An invalid value at `path`.
    pub fn invalid(path: &ElementPath, expected: &'static str) -> Self {
        Self::new(path.clone(), Problem::Invalid { expected })
    }

    /// A missing element at `path`.
    pub fn missing(path: &ElementPath) -> Self {
        Self::new(path.clone(), Problem::Missing)
    }

    /// A wrong JSON type at `path`.
    pub fn wrong_type(path: &ElementPath, expected: &'static str) -> Self {
        Self::new(path.clone(), Problem::WrongType { expected })
    }

    /// A domain rule refused the resource at `path`.
    pub fn rejected(path: &ElementPath, reason: &'static str) -> Self {
        Self::new(path.clone(), Problem::Rejected { reason })
    }

    /// Converts a `serde_json` error without its message, which may quote input
    /// (`invalid type: string "Ada Lovelace", expected u32`): only the category and position
    /// survive.
    pub fn from_serde(path: &ElementPath, e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let problem = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => Problem::NotJson {
                line: e.line(),
                column: e.column(),
            },
            Category::Data => Problem::Invalid {
                expected: "a value of the element's FHIR type",
            },
        };
        Self::new(path.clone(), problem)
    }
}

/// Every FHIR importer's error classifies like the domain crates' errors, so a service maps it
/// to a status by kind: input over a [`crate::Limits`] bound is
/// [`ErrorKind::LimitExceeded`](bedside_core::ErrorKind::LimitExceeded) (as the X12 reader's
/// size limits are), everything else is
/// [`ErrorKind::Invalid`](bedside_core::ErrorKind::Invalid): the same input fails again.
impl bedside_core::DomainError for FhirError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self.problem {
            Problem::TooLarge { .. } | Problem::TooDeep { .. } | Problem::TooMany { .. } => {
                ErrorKind::LimitExceeded
            }
            Problem::NotJson { .. }
            | Problem::Missing
            | Problem::WrongType { .. }
            | Problem::Invalid { .. }
            | Problem::WrongResourceType { .. }
            | Problem::Unresolved
            | Problem::Rejected { .. } => ErrorKind::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_say_limit_or_invalid() {
        use bedside_core::{DomainError, ErrorKind};
        let at = ElementPath::root("Patient");
        let cases = [
            (Problem::TooLarge { limit: 1 }, ErrorKind::LimitExceeded),
            (Problem::TooDeep { limit: 1 }, ErrorKind::LimitExceeded),
            (Problem::TooMany { limit: 1 }, ErrorKind::LimitExceeded),
            (Problem::NotJson { line: 1, column: 1 }, ErrorKind::Invalid),
            (Problem::Missing, ErrorKind::Invalid),
            (Problem::Unresolved, ErrorKind::Invalid),
            (Problem::Rejected { reason: "r" }, ErrorKind::Invalid),
        ];
        for (problem, kind) in cases {
            assert_eq!(FhirError::new(at.clone(), problem).kind(), kind);
        }
    }

    #[test]
    fn paths_print_names_and_indexes_but_never_foreign_keys() {
        let p = ElementPath::root("Claim")
            .child("item")
            .index(2)
            .child("net");
        assert_eq!(p.to_string(), "Claim.item[2].net");
        let hostile = ElementPath::root("Patient").child("Ada Lovelace 1985-12-10");
        assert_eq!(hostile.to_string(), "Patient.?");
        assert_eq!(ElementPath::parse("Claim.item[2].net"), p);
    }

    #[test]
    fn serde_messages_are_not_carried() {
        let e = serde_json::from_str::<u32>("\"Ada Lovelace 1985-12-10\"")
            .map(|_| ())
            .err();
        let Some(e) = e else {
            panic!("a string is not a u32");
        };
        let ours = FhirError::from_serde(&ElementPath::root("Slot"), &e);
        assert!(!ours.to_string().contains("Ada"), "{ours}");
        assert!(!format!("{ours:?}").contains("Ada"));
    }
}
