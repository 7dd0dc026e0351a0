//! Fuzzes the omh parser: it must never panic, and every record gets exactly one outcome.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = common::store();
    if let Ok(r) = bedside_vitals::omh::ingest(&mut s, data, &common::batch("fuzz")) {
        common::check(&r);
    }
});
