//! Fuzzes the ndjson parser: it must never panic, and every record gets exactly one outcome.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = common::store();
    if let Ok(r) = bedside_vitals::ndjson::ingest(&mut s, data, &common::batch("fuzz")) {
        common::check(&r);
        // Re-ingesting accepts nothing new.
        if let Ok(again) = bedside_vitals::ndjson::ingest(&mut s, data, &common::batch("fuzz-2")) {
            assert_eq!(again.accepted, 0);
        }
    }
});
