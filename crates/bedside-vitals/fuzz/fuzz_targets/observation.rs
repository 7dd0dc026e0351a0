//! Fuzzes the lossless Observation importer: it must never panic, an accepted Observation
//! must export back unchanged, and the export must import again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(imported) = bedside_vitals::fhir::import_observation(&value) {
        let out = imported.value.to_json();
        assert!(bedside_fhir::semantic_diff(&value, &out).is_empty());
        assert!(bedside_vitals::fhir::import_observation(&out).is_ok());
    }
});
