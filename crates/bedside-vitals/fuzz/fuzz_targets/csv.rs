//! Fuzzes the csv parser: it must never panic, and every record gets exactly one outcome.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = common::store();
    let mapping = bedside_vitals::csv::CsvMapping::identity();
    // A valid header first, so the fuzzer spends its time on records.
    let input = [
        &b"patient,kind,at,value,systolic,diastolic,unit,source\n"[..],
        data,
    ]
    .concat();
    if let Ok(r) =
        bedside_vitals::csv::ingest(&mut s, input.as_slice(), &mapping, &common::batch("fuzz"))
    {
        common::check(&r);
    }
});
