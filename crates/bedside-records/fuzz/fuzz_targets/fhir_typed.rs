//! Feeds arbitrary bytes to every typed importer (`Patient`, `RelatedPerson`, `Coverage`,
//! clinical entries, `Bundle`): none may panic, and whatever one accepts exports to JSON that
//! the same importer accepts again.
#![no_main]

use bedside_core::{ManualClock, SeededIdGenerator};
use bedside_records::fhir::Bundle;
use bedside_records::{ClinicalEntry, Coverage, Patient, RelatedPerson};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, 1);
    if let Ok(p) = Patient::from_fhir(data, &ids) {
        let json = p.value.to_fhir().to_string();
        assert!(Patient::from_fhir(json.as_bytes(), &ids).is_ok());
    }
    if let Ok(p) = RelatedPerson::from_fhir(data, &ids) {
        let json = p.value.to_fhir().to_string();
        assert!(RelatedPerson::from_fhir(json.as_bytes(), &ids).is_ok());
    }
    if let Ok(c) = Coverage::from_fhir(data, &ids) {
        let json = c.value.to_fhir().to_string();
        assert!(Coverage::from_fhir(json.as_bytes(), &ids).is_ok());
    }
    if let Ok(e) = ClinicalEntry::from_fhir(data, &ids) {
        let json = e.value.to_fhir().to_string();
        assert!(ClinicalEntry::from_fhir(json.as_bytes(), &ids).is_ok());
    }
    if let Ok(b) = Bundle::from_fhir(data, &ids) {
        let _ = b.value.records();
        let json = b.value.to_fhir().to_string();
        assert!(Bundle::from_fhir(json.as_bytes(), &ids).is_ok());
    }
});
