//! Feeds arbitrary bytes to the FHIR billing importer: it must never panic, and whenever it
//! accepts the input, exporting must reproduce it (nothing is dropped), re-importing the export
//! must give the same model, and posting any amount it read must not panic either.
#![no_main]

use bedside_ledger::fhir::{self, BillingResource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(resource) = BillingResource::from_slice(data) else {
        return;
    };
    let exported = resource.to_json();
    if let Ok(input) = serde_json::from_slice::<serde_json::Value>(data) {
        assert!(bedside_fhir::semantic_diff(&input, &exported).is_empty());
    }
    let again = BillingResource::from_json(exported);
    assert_eq!(again.as_ref().ok(), Some(&resource));
    if let BillingResource::Invoice(invoice) = &resource {
        for m in [&invoice.total_net, &invoice.total_gross].into_iter().flatten() {
            let _ = fhir::to_ledger_money(m);
        }
    }
});
