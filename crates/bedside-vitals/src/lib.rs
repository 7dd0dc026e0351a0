//! Home vitals ingestion: parsing, units, validation, dedup, time series and alert rules including NEWS2.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
