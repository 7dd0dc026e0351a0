//! Shared support for Bedside's criterion benches and the `eval` binary: timing helpers and
//! workload generators. Nothing here is part of the published API.

#[cfg(feature = "consent")]
pub mod consent;
#[cfg(feature = "ledger")]
pub mod ledger;
#[cfg(feature = "records")]
pub mod matching;
#[cfg(feature = "schedule")]
pub mod schedule;
#[cfg(feature = "survey")]
pub mod survey;
pub mod timing;
#[cfg(feature = "vitals")]
pub mod vitals;
