//! Fuzz target for the 277CA reader: never panics, statuses render in plain words, and
//! applying it to an empty claim book moves nothing.
#![no_main]

use bedside_ledger::ClaimBook;
use bedside_ledger::x12::ack::{Acknowledgements, parse_277ca};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ack = parse_277ca(data);
    for d in &ack.diagnostics {
        let _ = d.to_string();
    }
    for c in &ack.claims {
        let _ = c.outcome();
        for s in &c.statuses {
            let _ = s.plain();
        }
    }
    let mut claims = ClaimBook::new();
    let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let s = Acknowledgements::new().apply_277ca(&ack, &mut claims, at);
    assert_eq!(s.accepted + s.acknowledged + s.rejected, 0);
});
