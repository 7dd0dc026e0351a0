//! Feeds arbitrary bytes to the FHIR `Consent` importer: it must never panic, and whatever it
//! accepts exports to JSON that imports again to the same consent.
#![no_main]

use bedside_consent::fhir::{export, import};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = import(data) else {
        return;
    };
    let exported = export(&first.consent);
    let bytes = serde_json::to_vec(&exported).expect("a JSON value serialises");
    let second = import(&bytes).expect("an export imports again");
    assert_eq!(second.consent, first.consent, "export changed the model");
});
