//! Shared support for Bedside's criterion benches and the `eval` binary: timing helpers and
//! workload generators. Nothing here is part of the published API.

pub mod timing;
