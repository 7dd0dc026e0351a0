//! The patient record: demographics, contact preferences, coverage, clinical entries, versioned
//! history, validation, matching and search, FHIR R4 JSON.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own.

pub mod matching;
pub mod search;
