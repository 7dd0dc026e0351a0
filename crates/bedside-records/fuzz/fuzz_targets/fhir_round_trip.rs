//! Feeds arbitrary bytes to the FHIR importer: it must never panic, and whenever it accepts the
//! input, exporting must reproduce it — but for the elements R4 requires, which export adds
//! when the input lacked them — and exporting what that export imports to changes nothing.
#![no_main]

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::fhir::{self, RoundTrip};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Elements export writes (derived, or with a data-absent-reason) when the input lacked them.
const REQUIRED: &[&str] = &[
    "status",
    "class",
    "beneficiary",
    "payor",
    "medicationCodeableConcept",
    "content",
];

fuzz_target!(|data: &[u8]| {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, 1);
    let Ok((imported, outcome)) = fhir::round_trip(data, &ids) else {
        return;
    };
    if let RoundTrip::Lossy(paths) = outcome {
        for path in paths {
            let key = path.rsplit('.').next().unwrap_or_default();
            assert!(REQUIRED.contains(&key), "lost `{path}`");
        }
    }
    let export = imported.value.to_fhir().to_string();
    let again = fhir::round_trip(export.as_bytes(), &ids).map(|(_, o)| o);
    assert_eq!(again.ok(), Some(RoundTrip::Exact));
});
