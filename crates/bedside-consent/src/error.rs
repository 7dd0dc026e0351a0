//! Errors of the consent engine.

use std::fmt;

/// Errors from loading policy, storing consents, and reading FHIR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// Occurs when a code is not part of the engine's vocabulary.
    #[error("unknown {kind} code `{code}`: expected one of {valid}")]
    UnknownCode {
        /// Which vocabulary.
        kind: &'static str,
        /// The code given.
        code: String,
        /// The valid codes, as a list for people (`` `read`, `create`, … ``).
        valid: String,
    },
    /// Occurs when a policy document is not valid JSON of the expected shape.
    #[error("policy document is malformed: {reason}")]
    MalformedPolicy {
        /// What the parser reported (positions, not values).
        reason: String,
    },
    /// Occurs when a policy document parses but fails validation; every problem is listed.
    #[error("policy has {} problem(s): {}", problems.len(), ProblemList(problems))]
    InvalidPolicy {
        /// Every problem found, each with its path.
        problems: Vec<PolicyProblem>,
    },
    /// Occurs when a consent is structurally invalid (for example a nested provision without a
    /// type where one is needed, or a period that ends before it starts).
    #[error("consent is invalid at `{path}`: {reason}")]
    InvalidConsent {
        /// Path of the offending element.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Occurs when a consent id is not in the store.
    #[error("consent `{id}` not found")]
    ConsentNotFound {
        /// The consent id.
        id: String,
    },
    /// Occurs when a FHIR resource cannot be read; the error names the element and what was
    /// expected, never the input.
    #[error("fhir consent rejected at {0}")]
    Fhir(#[from] bedside_fhir::FhirError),
}

/// One validation problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// Path of the element, e.g. `rules[3].purposes[1]`.
    pub path: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kinds of policy problems.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A code outside the vocabulary.
    UnknownCode {
        /// Which vocabulary.
        vocabulary: &'static str,
        /// The code.
        code: String,
        /// What is valid there, for people (`` `read`, `create`, … ``).
        valid: String,
    },
    /// Two rules share an id.
    DuplicateId {
        /// The id.
        id: String,
    },
    /// Two rules match exactly the same requests with opposite effects.
    Contradictory {
        /// The other rule.
        other: String,
    },
    /// A rule can never decide because another rule's target contains it and deny overrides.
    Unreachable {
        /// The rule that shadows it.
        shadowed_by: String,
    },
    /// A rule can never match anything (for example care-team required for non-staff).
    NeverMatches {
        /// Why.
        reason: &'static str,
    },
    /// A value out of range.
    OutOfRange {
        /// What is allowed.
        expected: &'static str,
    },
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::UnknownCode {
                vocabulary,
                code,
                valid,
            } => {
                write!(
                    f,
                    "`{}`: unknown {vocabulary} code `{code}`, expected one of {valid}",
                    self.path
                )
            }
            ProblemKind::DuplicateId { id } => {
                write!(f, "`{}`: duplicate rule id `{id}`", self.path)
            }
            ProblemKind::Contradictory { other } => {
                write!(
                    f,
                    "`{}`: contradicts rule `{other}` (same target, opposite effect)",
                    self.path
                )
            }
            ProblemKind::Unreachable { shadowed_by } => {
                write!(
                    f,
                    "`{}`: unreachable, shadowed by deny rule `{shadowed_by}`",
                    self.path
                )
            }
            ProblemKind::NeverMatches { reason } => {
                write!(f, "`{}`: never matches: {reason}", self.path)
            }
            ProblemKind::OutOfRange { expected } => {
                write!(f, "`{}`: out of range, expected {expected}", self.path)
            }
        }
    }
}

struct ProblemList<'a>(&'a [PolicyProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl bedside_core::DomainError for ConsentError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self {
            ConsentError::UnknownCode { .. }
            | ConsentError::MalformedPolicy { .. }
            | ConsentError::InvalidPolicy { .. }
            | ConsentError::InvalidConsent { .. } => ErrorKind::Invalid,
            ConsentError::Fhir(e) => e.kind(),
            ConsentError::ConsentNotFound { .. } => ErrorKind::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_core::{DomainError, ErrorKind};

    #[test]
    fn kinds() {
        let unknown = "TREATX".parse::<crate::Purpose>().map(|_| ());
        assert_eq!(unknown.map_err(|e| e.kind()), Err(ErrorKind::Invalid));
        let missing = ConsentError::ConsentNotFound { id: "x".into() };
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(missing.kind().http_status(), 404);
        // A FHIR import error keeps its own kind: over a size limit is not merely invalid.
        let root = bedside_fhir::ElementPath::root("Consent");
        let big = bedside_fhir::FhirError::new(root, bedside_fhir::Problem::TooLarge { limit: 1 });
        assert_eq!(ConsentError::Fhir(big).kind(), ErrorKind::LimitExceeded);
    }

    #[test]
    fn unknown_codes_list_the_valid_ones() {
        let Err(e) = "TREATX".parse::<crate::Purpose>() else {
            panic!("TREATX is not a purpose of use");
        };
        let message = e.to_string();
        assert!(
            message.starts_with(
                "unknown purpose of use code `TREATX`: expected one of `TREAT`, `ETREAT`"
            ),
            "{message}"
        );
    }
}
