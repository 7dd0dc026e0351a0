//! Fuzzes the ndjson parser: it must never panic, and every record gets exactly one outcome.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = common::store();
    let c = common::clock();
    if let Ok(r) = bedside_vitals::ndjson::ingest(&mut s, data, "fuzz", &c) {
        common::check(&r);
        // Re-ingesting accepts nothing new.
        if let Ok(again) = bedside_vitals::ndjson::ingest(&mut s, data, "fuzz-2", &c) {
            assert_eq!(again.accepted, 0);
        }
    }
});
