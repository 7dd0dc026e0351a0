//! [`SurveyError`]: failures loading definitions and importing or exporting FHIR resources.

/// Why a definition or response could not be loaded, imported or exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SurveyError {
    /// Occurs when a built-in or serialized definition is not well-formed JSON of the expected
    /// shape. `line` and `column` are 1-based; the reason never quotes input values.
    #[error("invalid json at line {line}, column {column}: {reason}")]
    Json {
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// What was wrong, by category.
        reason: String,
    },
    /// Occurs when a FHIR resource is not the type expected, has an element this crate cannot
    /// represent, or lacks a required one. The error holds the element path and what was
    /// expected, never input text.
    #[error(transparent)]
    Fhir(#[from] bedside_fhir::FhirError),
    /// Occurs when a response's lifecycle change is not allowed from its status: amending a
    /// response that is not finished or was entered in error, withdrawing one twice. Holds the
    /// statuses' FHIR codes only.
    #[error("a response that is `{from}` cannot become `{to}`")]
    InvalidTransition {
        /// The status the response has (FHIR code).
        from: &'static str,
        /// The status the change would give it (FHIR code).
        to: &'static str,
    },
}

impl bedside_core::DomainError for SurveyError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self {
            SurveyError::Json { .. } => ErrorKind::Invalid,
            SurveyError::Fhir(e) => e.kind(),
            SurveyError::InvalidTransition { .. } => ErrorKind::Conflict,
        }
    }
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
}
