//! Patient and staff surveys: definitions, branching, validation, scoring, analytics and FHIR Questionnaire.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
