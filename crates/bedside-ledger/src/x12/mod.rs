//! X12 005010 for the revenue cycle: claims out, acknowledgements, eligibility and
//! remittances in.
//!
//! - [`write837`]: professional claims (837P, 005010X222A1) from the [`ClaimBook`](crate::ClaimBook),
//!   with secondary claims' coordination-of-benefits loops built from the primary's posted 835;
//! - [`envelope`]: ISA/GS/ST envelopes whose control numbers are issued once and tracked by
//!   [`Submissions`], so a 999 or 277CA finds the claims it answers;
//! - [`ack`]: 999 implementation acknowledgements and 277CA claim acknowledgements, moving
//!   claims through the lifecycle and queueing every rejection with its reason in plain words;
//! - [`eligibility`]: 270 requests and 271 responses read into [`Benefits`](crate::Benefits)
//!   and [`Accumulators`](crate::Accumulators) for the pre-visit estimate;
//! - the 835 reader ([`parse`]) and its balancing validator ([`validate`]);
//! - [`sim`]: a payer and clearinghouse simulator for tests, benches and the eval.
//!
//! Readers share one tokenizer: they honour the separators the ISA declares (element separator
//! at ISA position 4, component separator ISA16, repetition separator ISA11, segment terminator
//! after ISA16), never panic, and report every problem as a [`Diagnostic`] with its segment
//! position. Writers use [`Separators::WRITTEN`], drop characters that would break the syntax
//! from text values, and produce the same bytes for the same inputs. No reader stores names,
//! birth dates or member identifiers in anything that prints them: such values are
//! [`Sensitive`](bedside_core::Sensitive).

pub mod ack;
mod balance;
pub mod codes;
mod diagnostic;
pub mod eligibility;
pub mod envelope;
pub mod party;
mod read835;
mod segment;
pub mod sim;
pub mod write837;
mod writer;

pub use balance::{BalanceError, validate};
pub use bedside_core::IssueSeverity;
pub use diagnostic::{Diagnostic, Problem, Severity};
pub use envelope::{InterchangeRecord, Submissions, TransactionRecord};
pub use read835::*;
pub use segment::{MAX_ELEMENTS, MAX_INPUT_BYTES, MAX_SEGMENTS, Separators};
