//! Feeds arbitrary bytes to the QuestionnaireResponse importer: it must never panic, and
//! whatever it accepts must export and import again.
#![no_main]

use bedside_survey::fhir::{export_questionnaire_response, import_questionnaire_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = bedside_fhir::Limits::default().parse_resource(data) else {
        return;
    };
    if let Ok(response) = import_questionnaire_response(&serde_json::Value::Object(map)) {
        let again = import_questionnaire_response(&export_questionnaire_response(&response));
        assert!(again.is_ok(), "{:?}", again.err());
    }
});
