//! Fuzz target for the 999 reader and its application to a claim book: never panics, every
//! diagnostic renders, and applying a 999 twice queues nothing new.
#![no_main]

use bedside_ledger::ClaimBook;
use bedside_ledger::x12::Submissions;
use bedside_ledger::x12::ack::{Acknowledgements, parse_999};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ack = parse_999(data);
    for d in &ack.diagnostics {
        let _ = d.to_string();
    }
    let mut claims = ClaimBook::new();
    let mut acks = Acknowledgements::new();
    let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let submissions = Submissions::new();
    let _ = acks.apply_999(&ack, &submissions, &mut claims, at);
    let again = acks.apply_999(&ack, &submissions, &mut claims, at);
    assert_eq!(again.queued, 0);
});
