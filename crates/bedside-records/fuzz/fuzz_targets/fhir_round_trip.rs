//! Feeds arbitrary bytes to the FHIR importer: it must never panic, and whenever it accepts the
//! input, exporting must reproduce it exactly (nothing is ever dropped).
#![no_main]

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::fhir::{self, RoundTrip};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, 1);
    if let Ok((_, outcome)) = fhir::round_trip(data, &ids) {
        assert_eq!(outcome, RoundTrip::Exact);
    }
});
