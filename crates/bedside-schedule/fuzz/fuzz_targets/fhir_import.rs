//! Feeds arbitrary bytes to the Schedule / Slot / Appointment importer: it must never panic,
//! and whenever it accepts the input, exporting must reproduce it (nothing is ever dropped).
//! Seeds: the official R4 examples in `corpus/fhir_import/`.
#![no_main]

use bedside_schedule::fhir::{self, RoundTrip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, outcome)) = fhir::round_trip(data) {
        assert_eq!(outcome, RoundTrip::Exact);
    }
    let _ = fhir::import_bytes(data);
});
