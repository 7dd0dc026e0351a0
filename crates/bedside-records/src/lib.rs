//! The patient record: demographics, contact preferences, coverage, clinical entries, versioned history, validation, matching and FHIR R4 JSON.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
