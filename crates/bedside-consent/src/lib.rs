//! Privacy policy and consent engine: minimum necessary, patient consents, break-glass, identity verification, tamper-evident audit.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
