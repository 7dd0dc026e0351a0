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
//! The billing cycle in one call per step: [`RemittancePoster::post_and_record`] posts an 835
//! and records each claim's adjudication in the [`ClaimBook`]; [`RemittancePoster::post_manual`]
//! records an insurer payment without an 835 ([`ManualPayment`], same balancing rules); and
//! [`Books::statement`] derives the patient's statement from the books (claims as adjudicated,
//! payments as the ledger holds them). The item-level example on [`RemittancePoster`] runs
//! the whole cycle with a small 835 inline.
//!
//! # Attribution
//!
//! Every entry can record who made it: [`NewEntry::by`] stores the acting
//! [`bedside_core::Actor`] with the entry ([`EntryView::actor`]), it is written to the journal,
//! and it is not compared when an idempotent retry replays. The mutations a person does take
//! `&Actor` and record it: [`Books::capture_charge`] (a charge), [`Books::record_patient_payment`]
//! (a payment), [`Books::refund`] (a refund), [`ClaimBook::build_replacement`] and
//! [`ClaimBook::void`] (the reversals of a correction or a void),
//! [`ClaimBook::build_secondary`] (the transfer of the patient's share to the secondary
//! payer), and
//! [`RemittancePoster::post`], [`RemittancePoster::post_and_record`] and
//! [`RemittancePoster::post_manual`] (insurer payments, adjustments and write-offs, by group
//! code). These public mutations take no `Actor`:
//! - [`Ledger::apply`]: the actor travels in the [`NewEntry`]; [`Ledger::create_account`],
//!   [`Ledger::close_account`], [`Books::patient_account`] and [`Books::payer_account`] open or
//!   close accounts (chart bookkeeping, no money moves); [`Ledger::expire_pending`] is
//!   driven by time, not a person;
//! - [`ClaimBook::build`], [`ClaimBook::transition`], [`ClaimBook::record_adjudication`],
//!   [`ClaimBook::record_payer_claim_number`], and the acknowledgement processor
//!   ([`x12::ack::Acknowledgements`]): claim lifecycle state with no ledger entry, whose
//!   history ([`Claim::transitions`]) records when, not who; not attributed yet — left for a
//!   follow-up (it needs an actor in the transition history);
//! - [`Books::expect_payment`] and [`Books::release_expected_payment`]: forecast holds the
//!   system places and releases, no money received or written off;
//! - [`PaymentPlan`], [`FeeSchedule::set`], [`x12::Submissions`]: values and configuration the
//!   embedder stores, not ledger postings (a plan's instalments are paid through
//!   [`Books::record_patient_payment`]);
//! - [`ClaimBook::restore`], [`RemittancePoster::restore`], [`Books::open_in`]: reloading
//!   stored state (see "Persistence");
//! - [`x12::sim`] ([`x12::sim::PayerSimulator::enrol`], `receive`, `remit`): test support
//!   that plays the payer, outside the clinic's books.
//!
//! # Persistence
//!
//! - [`Ledger`] (and so [`Books`]): the append-only, checksummed journal
//!   ([`Ledger::write_journal`], actors included) is the format of record; [`replay`] rebuilds
//!   an equal ledger, and [`Books::open_in`] on it (same currency) finds the clinic, patient and
//!   payer accounts again. Store the journal incrementally with [`codec::encode_entry`] as
//!   entries are applied, or whole.
//! - [`ClaimBook`]: [`ClaimBook::snapshot`] gives a [`ClaimBookSnapshot`] (plain serde data,
//!   the claims in build order); [`ClaimBook::restore`] rebuilds the indexes.
//! - [`RemittancePoster`]: [`RemittancePoster::snapshot`] gives a [`PosterSnapshot`] (posted
//!   payments, standing adjudications, the work queue); [`RemittancePoster::restore`] takes it
//!   with `books.clinic`. Without it a reloaded poster would not recognise a reversal or a
//!   duplicate payment of an earlier file (re-imports still replay: entry ids are derived).
//! - [`PaymentPlan`], [`x12::Submissions`] and the statement, claim and remittance value types
//!   derive serde. [`FeeSchedule`] has no serde form: rebuild it from the embedder's price
//!   list with [`FeeSchedule::set`].
//!
//! Serde forms are a compatibility promise for these snapshot types only; an embedder's
//! storage schema stays its own (see `tests/cycle.rs`, `books_claims_and_poster_survive_storage`).
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
