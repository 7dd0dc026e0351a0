//! [`SurveyError`]: failures loading definitions and importing or exporting FHIR resources.

/// Why a definition or response could not be loaded, imported or exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SurveyError {
    /// Occurs when input is not well-formed JSON of the expected shape. `line` and `column` are
    /// 1-based; the reason never quotes input values.
    #[error("invalid json at line {line}, column {column}: {reason}")]
    Json {
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// What was wrong, by category.
        reason: String,
    },
    /// Occurs when a FHIR resource has an element this crate cannot represent or a required
    /// element is missing or malformed.
    #[error("{path}: {reason}")]
    Fhir {
        /// Path of the element (`item[2].answerOption[0]`).
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Occurs when a resource is not the FHIR type expected.
    #[error("expected resourceType `{expected}`, found `{found}`")]
    WrongResourceType {
        /// The expected type.
        expected: String,
        /// The type found.
        found: String,
    },
}

impl SurveyError {
    /// Wraps a `serde_json` error without quoting the input.
    pub(crate) fn json(e: &serde_json::Error) -> Self {
        let reason = match e.classify() {
            serde_json::error::Category::Io => "i/o error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected shape or value",
            serde_json::error::Category::Eof => "unexpected end of input",
        };
        SurveyError::Json {
            line: e.line(),
            column: e.column(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn fhir(path: impl Into<String>, reason: impl Into<String>) -> Self {
        SurveyError::Fhir {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
