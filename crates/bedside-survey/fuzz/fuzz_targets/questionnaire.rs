//! Feeds arbitrary bytes to the Questionnaire importer: it must never panic, and whatever it
//! accepts must export and import again.
#![no_main]

use bedside_survey::fhir::{export_questionnaire, import_questionnaire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = bedside_fhir::Limits::default().parse_resource(data) else {
        return;
    };
    if let Ok(definition) = import_questionnaire(&serde_json::Value::Object(map)) {
        let again = import_questionnaire(&export_questionnaire(&definition));
        assert!(again.is_ok(), "{:?}", again.err());
    }
});
