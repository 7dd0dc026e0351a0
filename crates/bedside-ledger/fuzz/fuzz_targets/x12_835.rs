//! Fuzz target for the X12 835 reader: it must never panic, and posting must never accept a
//! remittance that breaks a balancing rule.
#![no_main]

use bedside_core::{ClaimId, PatientId};
use bedside_ledger::x12::{self, validate};
use bedside_ledger::{Books, ClaimMatcher, ClaimTarget, Currency, EntryId};
use libfuzzer_sys::fuzz_target;

/// Matches every control number to one claim so every CLP posts.
struct Everything(ClaimTarget);

impl ClaimMatcher for Everything {
    fn find(&self, _control_number: &str) -> Option<ClaimTarget> {
        Some(self.0)
    }
}

fuzz_target!(|data: &[u8]| {
    let remittance = x12::parse(data);
    for d in &remittance.diagnostics {
        let _ = d.to_string();
    }
    let Ok(mut books) = Books::open(Currency::USD) else {
        return;
    };
    let (Ok(payer), Ok(patient_account)) = (
        books.payer_account(bedside_core::OrganisationId::from_uuid(
            EntryId::new(1).to_uuid(),
        )),
        books.patient_account(PatientId::from_uuid(EntryId::new(2).to_uuid())),
    ) else {
        return;
    };
    let matcher = Everything(ClaimTarget {
        claim: ClaimId::from_uuid(EntryId::new(3).to_uuid()),
        patient: PatientId::from_uuid(EntryId::new(2).to_uuid()),
        payer_receivable: payer,
        patient_receivable: patient_account,
    });
    let mut poster = bedside_ledger::RemittancePoster::new(books.clinic);
    let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    for tx in &remittance.transactions {
        let balanced = validate(tx).is_empty();
        let importer = bedside_core::Actor::System {
            component: "fuzz".into(),
        };
        let posted = poster.post(&mut books.ledger, tx, &matcher, &importer, at);
        if posted.is_ok() {
            assert!(balanced, "an unbalanced remittance was posted");
        }
        assert!(books.ledger.trial_balance().is_zero());
    }
});
