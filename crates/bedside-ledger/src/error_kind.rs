//! [`bedside_core::DomainError`] for every public error type of the crate: one
//! [`ErrorKind`] per variant, with no wildcard arm, so a new variant forces a decision here.

use crate::charge::ChargeError;
use crate::claim::ClaimError;
use crate::codec::JournalError;
use crate::fhir::ExportError;
use crate::ledger::{LedgerError, Rejection};
use crate::money::MoneyError;
use crate::patient::PatientError;
use crate::x12::envelope::WriteError;
use crate::x12::{BalanceError, Problem};
use bedside_core::{DomainError, ErrorKind};

impl DomainError for MoneyError {
    fn kind(&self) -> ErrorKind {
        match self {
            MoneyError::CurrencyMismatch { .. }
            | MoneyError::InvalidCurrency
            | MoneyError::InvalidAmount { .. }
            | MoneyError::EmptyAllocation => ErrorKind::Invalid,
            // An amount past 92 quadrillion minor units is a limit of the representation.
            MoneyError::Overflow => ErrorKind::LimitExceeded,
        }
    }
}

impl DomainError for Rejection {
    fn kind(&self) -> ErrorKind {
        match self {
            Rejection::ZeroId
            | Rejection::InvalidKind
            | Rejection::TooFewPostings
            | Rejection::TooManyPostings
            | Rejection::UnexpectedPostings
            | Rejection::NonPositiveAmount { .. }
            | Rejection::CurrencyMismatch { .. }
            | Rejection::Unbalanced { .. }
            | Rejection::NotPending
            | Rejection::PostingsDoNotMatchPending { .. }
            | Rejection::PostExceedsPending { .. }
            | Rejection::NotReversible => ErrorKind::Invalid,
            Rejection::UnknownAccount { .. }
            | Rejection::PendingNotFound
            | Rejection::OriginalNotFound => ErrorKind::NotFound,
            Rejection::DuplicateIdDifferentContent { .. }
            | Rejection::AccountClosed { .. }
            | Rejection::TimestampRegressed
            | Rejection::PendingAlreadyResolved
            | Rejection::PendingExpired
            | Rejection::AlreadyReversed => ErrorKind::Conflict,
            Rejection::EntryLimitReached { .. }
            | Rejection::Overflow { .. }
            | Rejection::WouldExceedLimit { .. } => ErrorKind::LimitExceeded,
        }
    }
}

impl DomainError for LedgerError {
    fn kind(&self) -> ErrorKind {
        match self {
            LedgerError::AccountExists
            | LedgerError::PendingOnClose
            | LedgerError::AlreadyClosed => ErrorKind::Conflict,
            LedgerError::UnknownAccount => ErrorKind::NotFound,
            LedgerError::TooManyAccounts => ErrorKind::LimitExceeded,
        }
    }
}

impl DomainError for JournalError {
    fn kind(&self) -> ErrorKind {
        match self {
            // A journal that does not read back is stored data gone wrong, not a caller error.
            JournalError::TornTail { .. }
            | JournalError::ChecksumMismatch { .. }
            | JournalError::Malformed { .. }
            | JournalError::Rejected { .. } => ErrorKind::Internal,
        }
    }
}

impl DomainError for ChargeError {
    fn kind(&self) -> ErrorKind {
        match self {
            ChargeError::InvalidCode { .. }
            | ChargeError::InvalidModifier { .. }
            | ChargeError::TooManyModifiers
            | ChargeError::ZeroUnits
            | ChargeError::InvalidDiagnosisPointers => ErrorKind::Invalid,
            ChargeError::NoPrice { .. } => ErrorKind::NotFound,
            ChargeError::Money(e) => e.kind(),
            ChargeError::Rejected(e) => e.kind(),
            ChargeError::Account(e) => e.kind(),
        }
    }
}

impl DomainError for ClaimError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClaimError::NoCharges
            | ClaimError::MixedPatients
            | ClaimError::ReplacementPatientMismatch
            | ClaimError::ReplacementPayerMismatch
            | ClaimError::SecondaryNotReplaceable => ErrorKind::Invalid,
            ClaimError::UnknownClaim => ErrorKind::NotFound,
            ClaimError::Duplicate
            | ClaimError::InvalidTransition { .. }
            | ClaimError::NothingForSecondary
            | ClaimError::AlreadyReplaced { .. }
            | ClaimError::NotReplaceable { .. }
            | ClaimError::NotVoidable { .. } => ErrorKind::Conflict,
            ClaimError::Money(e) => e.kind(),
            ClaimError::Rejected(e) => e.kind(),
            ClaimError::Account(e) => e.kind(),
        }
    }
}

impl DomainError for PatientError {
    fn kind(&self) -> ErrorKind {
        match self {
            PatientError::NonPositiveAmount
            | PatientError::InstalmentCount
            | PatientError::DateOutOfRange => ErrorKind::Invalid,
            PatientError::RefundExceedsCredit | PatientError::NothingToPlan => ErrorKind::Conflict,
            PatientError::Money(e) => e.kind(),
            PatientError::Rejected(e) => e.kind(),
            PatientError::Account(e) => e.kind(),
        }
    }
}

impl DomainError for BalanceError {
    fn kind(&self) -> ErrorKind {
        match self {
            BalanceError::Claim { .. }
            | BalanceError::Service { .. }
            | BalanceError::Payment { .. }
            | BalanceError::Overflow { .. } => ErrorKind::Invalid,
        }
    }
}

impl DomainError for Problem {
    fn kind(&self) -> ErrorKind {
        match self {
            Problem::TooLarge | Problem::TooManyElements => ErrorKind::LimitExceeded,
            Problem::MissingIsa
            | Problem::MissingElement { .. }
            | Problem::BadAmount { .. }
            | Problem::BadDate { .. }
            | Problem::UnknownGroupCode { .. }
            | Problem::OutOfPlace { .. }
            | Problem::NotAn835 { .. }
            | Problem::WrongTransactionSet { .. }
            | Problem::MissingSegment { .. }
            | Problem::CompositeSplit { .. }
            | Problem::AmbiguousComposite { .. }
            | Problem::DateRepaired { .. }
            | Problem::AmbiguousDate { .. }
            | Problem::ComponentSeparatorMismatch { .. }
            | Problem::SegmentCountMismatch { .. }
            | Problem::UnclosedTransaction
            | Problem::SkippedWithClaim => ErrorKind::Invalid,
        }
    }
}

impl DomainError for WriteError {
    fn kind(&self) -> ErrorKind {
        match self {
            WriteError::ControlNumbersExhausted => ErrorKind::LimitExceeded,
            WriteError::InvalidField { .. }
            | WriteError::Empty
            | WriteError::Diagnoses { .. }
            | WriteError::DiagnosisPointer { .. }
            | WriteError::Lines { .. }
            | WriteError::MissingPayerClaimNumber { .. }
            | WriteError::CoordinationOfBenefits { .. }
            | WriteError::NegativeCharge { .. } => ErrorKind::Invalid,
        }
    }
}

impl DomainError for ExportError {
    fn kind(&self) -> ErrorKind {
        match self {
            ExportError::NoHistory => ErrorKind::Invalid,
            ExportError::Money(e) => e.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn kinds_follow_the_cause() {
        let cases: [(&dyn DomainError, ErrorKind); 5] = [
            (
                &Rejection::EntryLimitReached { limit: 3 },
                ErrorKind::LimitExceeded,
            ),
            (&ClaimError::UnknownClaim, ErrorKind::NotFound),
            (
                &ClaimError::Rejected(Rejection::AlreadyReversed),
                ErrorKind::Conflict,
            ),
            (
                &MoneyError::CurrencyMismatch {
                    left: Currency::USD,
                    right: Currency::EUR,
                },
                ErrorKind::Invalid,
            ),
            (
                &JournalError::ChecksumMismatch { offset: 0 },
                ErrorKind::Internal,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e}");
        }
    }
}
