//! Clinic scheduling: availability, slot search, safe booking, an optimising solver, reminders and SMS replies.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
