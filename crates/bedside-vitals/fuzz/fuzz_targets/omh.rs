//! Fuzzes the omh parser: it must never panic, and every record gets exactly one outcome.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = common::store();
    let c = common::clock();
    if let Ok(r) = bedside_vitals::omh::ingest(&mut s, data, "fuzz", &c) {
        common::check(&r);
    }
});
