//! Double-entry billing ledger in integer money: charges, claims, remittance, statements,
//! payment plans, aging.
//!
//! The core is a TigerBeetle-style double-entry [`Ledger`]: accounts ([`AccountSpec`]) hold
//! one [`Currency`]; entries ([`NewEntry`]) of two or more [`Posting`]s balance per currency
//! and apply all-or-nothing; holds are two-phase ([`EntryKind::Pending`] then post, void or
//! expire); corrections are reversals; every entry carries a client [`EntryId`] so retries are
//! safe; every refusal is a typed [`Rejection`]. [`Money`] is integer minor units with checked
//! arithmetic, [`BasisPoints`] and largest-remainder allocation. The [`codec`] writes an
//! append-only, checksummed journal that [`replay`] turns back into an identical ledger.
//!
//! The revenue cycle sits on top, in [`Books`] (a ledger with the clinic's chart of accounts
//! and one receivable per patient and per payer):
//! - [`charge`]: CPT/HCPCS charges priced from a [`FeeSchedule`] and captured to receivables;
//! - [`coverage`]: deductible, copay, coinsurance and out-of-pocket maximum, pre-visit
//!   estimates and the No Surprises Act good-faith estimate with its $400 dispute flag;
//! - [`claim`]: the [`ClaimBook`] lifecycle (draft → submitted → accepted/rejected →
//!   paid/partially paid/denied → appealed/closed), secondary claims, and replacement
//!   (corrected) claims that reverse the replaced claim's charges, one current claim per
//!   encounter;
//! - [`x12`] and [`remit`]: a tolerant X12 835 reader, its balancing validator, and
//!   [`RemittancePoster`], which posts payments and adjustments by group code, reverses on
//!   CLP02 = 22, posts PLB adjustments, is idempotent on re-import, and queues unmatched
//!   claims and payments for a claim already paid under another trace number;
//! - [`x12`] out and back: 837P claims (005010X222A1) with secondary claims' COB loops, tracked
//!   control numbers, 999 and 277CA acknowledgements moving the lifecycle, 270/271 eligibility
//!   feeding the estimate, and a payer simulator for tests;
//! - [`patient`]: payments, the refund queue for credit balances, [`PaymentPlan`]s;
//! - [`aging`](mod@aging), [`outreach`] and [`statement`]: aging by payer and patient as of any
//!   instant, the collections outreach plan, and plain-language statements in text and Markdown;
//! - [`fhir`]: FHIR R4 `Account`, `ChargeItem`, `Claim`, `ClaimResponse`,
//!   `ExplanationOfBenefit` and `Invoice` import and export.
//!
//! Invariants: money is never a float; the trial balance is zero per currency after any
//! sequence of operations; nothing is edited or deleted (`bedside-ledger` never deletes an
//! entry; corrections are reversals); parsers never panic.
//!
//! ```
//! use bedside_core::AccountId;
//! use bedside_ledger::{
//!     AccountKind, AccountOwner, AccountSpec, Currency, EntryId, Ledger, Money, NewEntry, Posting,
//! };
//!
//! let mut ledger = Ledger::new();
//! let usd = Currency::USD;
//! let receivable = ledger.create_account(AccountSpec::new(
//!     AccountId::from_uuid(uuid::Uuid::from_u128(1)), AccountKind::Asset, usd, AccountOwner::Clinic))?;
//! let revenue = ledger.create_account(AccountSpec::new(
//!     AccountId::from_uuid(uuid::Uuid::from_u128(2)), AccountKind::Revenue, usd, AccountOwner::Clinic))?;
//!
//! let fee = Money::parse_decimal("150.00", usd)?;
//! let postings = [Posting::debit(receivable, fee), Posting::credit(revenue, fee)];
//! let at = "2026-03-02T15:00:00Z".parse()?;
//! let first = ledger.apply(&NewEntry::posted(EntryId::new(7), at, &postings))?;
//! // A retry with the same id and content returns the original result and changes nothing.
//! let retry = ledger.apply(&NewEntry::posted(EntryId::new(7), at, &postings))?;
//! assert_eq!((first.seq, retry.replayed), (retry.seq, true));
//! assert_eq!(ledger.balance(receivable).map(|b| b.posted), Some(fee));
//! assert!(ledger.trial_balance().is_zero());
//!
//! // The journal rebuilds the same ledger.
//! let mut log = Vec::new();
//! ledger.write_journal(&mut log);
//! assert_eq!(bedside_ledger::replay(&log).ledger, ledger);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod aging;
pub mod books;
pub mod charge;
pub mod chart;
pub mod claim;
pub mod codec;
pub mod coverage;
mod error_kind;
pub mod fhir;
pub mod ledger;
pub mod money;
pub mod outreach;
pub mod patient;
pub mod remit;
pub mod statement;
pub mod x12;

pub use aging::{AgedBalance, AgingReport, Party, aging};
pub use books::{Books, ClinicAccounts};
pub use charge::{
    BillTo, Charge, ChargeError, ChargeId, ChargeRequest, FeeSchedule, Modifier, ProcedureCode,
};
pub use claim::{
    Adjudication, Claim, ClaimBook, ClaimBookSnapshot, ClaimDraft, ClaimError, ClaimFrequency,
    ClaimStatus, PatientShare,
};
pub use codec::{JournalError, Replay, replay};
pub use coverage::{Accumulators, Benefits, Estimate, Responsibility};
pub use ledger::{
    Account, AccountBalance, AccountIndex, AccountKind, AccountLimit, AccountOwner, AccountSpec,
    Applied, Balances, EntryField, EntryId, EntryKind, EntryView, HistoryLine, Ledger, LedgerError,
    MAX_ENTRIES, MAX_POSTINGS, NewEntry, Posting, Reference, References, Rejection, Side,
    TrialBalance, TrialLine,
};
pub use money::{BasisPoints, Currency, Money, MoneyError};
pub use patient::{
    PatientError, PatientPayment, PaymentId, PaymentMethod, PaymentPlan, PlanInterval, PlanStatus,
    PlanTerms, RefundItem,
};
pub use remit::{
    ClaimMatcher, ClaimTarget, ManualPayment, PostedPayment, PosterSnapshot, PostingSummary,
    RemitError, RemittancePoster, StandingAdjudication, WorkItem, WorkReason,
};
pub use statement::{Statement, StatementInput, StatementLine, StatementOptions};
/// Re-exported so callers can name the UUIDs behind derived ids.
pub use uuid::Uuid;
