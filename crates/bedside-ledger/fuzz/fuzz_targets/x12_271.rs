//! Fuzz target for the 271 reader: never panics, and whatever benefits it reads give an
//! estimate without overflow panics (errors are fine).
#![no_main]

use bedside_ledger::Currency;
use bedside_ledger::coverage::{ExpectedService, estimate};
use bedside_ledger::x12::eligibility::parse_271;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = parse_271(data);
    for d in &r.diagnostics {
        let _ = d.to_string();
    }
    for e in &r.subscribers {
        if let Some((benefits, accumulators)) = e.benefits("98", Currency::USD) {
            let charge = bedside_ledger::Money::new(15_000, Currency::USD);
            let services = [ExpectedService {
                description: "visit".into(),
                code: "99213".into(),
                charge,
                allowed: charge,
            }];
            let _ = estimate(&services, Some((&benefits, accumulators)), Currency::USD);
        }
    }
});
