//! The whole claim cycle in a synthetic month: 837P out, 999 and 277CA back (a rejection
//! worked and resubmitted), replacements and voids, 835s posted, secondary claims with the
//! primary's adjudication, patients paying the rest: every claim closed, the books balanced.

use bedside_ledger::ClaimStatus;
use bedside_ledger::claim::{ClaimFrequency, PayerSequence};
use bedside_ledger::x12::sim::month::{FileKind, run_month};
use chrono::NaiveDate;

#[test]
fn a_clinic_month_closes_every_claim_and_balances() {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
    let run = run_month(18, 60, start).unwrap_or_else(|e| panic!("{e}"));
    assert!(run.claims_written >= 50);
    assert_eq!(run.claims_posted, run.claims_due);
    assert_eq!(run.claims_open, 0);
    assert_eq!(run.remittances_unbalanced, 0);
    assert_eq!(run.corrections, (3, 2));
    assert!(run.rejections >= 1, "the mistyped member id was rejected");
    assert!(run.books.ledger.trial_balance().is_zero());
    for c in run.claims.iter() {
        for account in [c.payer_account, c.patient_account] {
            let posted = run
                .books
                .ledger
                .balance(account)
                .map(|b| b.posted.amount_minor());
            assert_eq!(posted, Some(0), "receivables settle");
        }
        assert!(matches!(
            c.status,
            ClaimStatus::Closed | ClaimStatus::Replaced
        ));
    }
    let count = |f: fn(&bedside_ledger::Claim) -> bool| run.claims.iter().filter(|c| f(c)).count();
    assert!(count(|c| matches!(c.sequence, PayerSequence::Secondary { .. })) > 0);
    assert_eq!(count(|c| c.frequency == ClaimFrequency::Void), 2);
    assert_eq!(count(|c| c.frequency == ClaimFrequency::Replacement), 3);
    let kinds = [
        FileKind::Claim837,
        FileKind::Ack999,
        FileKind::Ack277,
        FileKind::Remit835,
    ];
    for k in kinds {
        assert!(run.files.iter().any(|f| f.kind == k), "{k:?}");
    }
    // Every control number issued is tracked once.
    let controls: Vec<u32> = run.submissions.iter().map(|r| r.control).collect();
    let mut unique = controls.clone();
    unique.dedup();
    assert_eq!(controls, unique);
    assert_eq!(
        controls.len(),
        run.files
            .iter()
            .filter(|f| f.kind == FileKind::Claim837)
            .count()
    );
}
