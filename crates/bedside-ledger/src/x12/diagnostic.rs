//! Diagnostics shared by every X12 reader: a severity, a segment position and a [`Problem`]
//! that names elements and codes, never values that could be PHI.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How serious a diagnostic is: the workspace's shared [`IssueSeverity`](bedside_core::IssueSeverity) (`Warning` <
/// `Error`, snake_case in serde), under the name the X12 readers have always used. It is the
/// same type, not a copy.
pub use bedside_core::IssueSeverity as Severity;

/// What a diagnostic is about. Messages carry codes and positions only, never PHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Occurs when the input does not start with a readable ISA segment.
    #[error("missing or unreadable ISA segment")]
    MissingIsa,
    /// Occurs when the input is larger than [`MAX_INPUT_BYTES`](super::MAX_INPUT_BYTES) or has too many segments.
    #[error("input exceeds the size limit")]
    TooLarge,
    /// Occurs when a segment has more than [`MAX_ELEMENTS`](super::MAX_ELEMENTS) elements.
    #[error("segment has too many elements")]
    TooManyElements,
    /// Occurs when a required element is empty or absent.
    #[error("required element {element} is missing")]
    MissingElement {
        /// The element reference, e.g. `CLP01`.
        element: String,
    },
    /// Occurs when an amount element is not a decimal number.
    #[error("element {element} is not a valid amount")]
    BadAmount {
        /// The element reference.
        element: String,
    },
    /// Occurs when a date element is not `CCYYMMDD`.
    #[error("element {element} is not a valid date")]
    BadDate {
        /// The element reference.
        element: String,
    },
    /// Occurs when a CAS group code is not CO, PR, OA, PI or CR.
    #[error("unknown adjustment group code `{code}`")]
    UnknownGroupCode {
        /// The code as read (two letters at most are echoed).
        code: String,
    },
    /// Occurs when a segment appears where it cannot belong (a CAS before any CLP).
    #[error("segment {segment} out of place")]
    OutOfPlace {
        /// The segment id.
        segment: String,
    },
    /// Occurs when a transaction set is not an 835.
    #[error("transaction set `{code}` is not an 835")]
    NotAn835 {
        /// ST01.
        code: String,
    },
    /// Occurs when a transaction set is not the kind the reader reads (a 999 reader given an
    /// 837, for example).
    #[error("transaction set `{found}` is not a {expected}")]
    WrongTransactionSet {
        /// The ST01 the reader reads.
        expected: String,
        /// ST01 as found (six characters at most are echoed).
        found: String,
    },
    /// Occurs when a segment the implementation guide requires is absent; the reader goes on
    /// without it.
    #[error("required segment {segment} of loop {loop_id} is missing")]
    MissingSegment {
        /// The segment id and qualifier, e.g. `PER*BL`.
        segment: String,
        /// The loop, e.g. `1000A`.
        loop_id: String,
    },
    /// Occurs when a composite was written with the element separator (its components spread
    /// over several elements) and only one reading fits the segment; it is read that way.
    #[error("composite {element} written with the element separator; read as one composite")]
    CompositeSplit {
        /// The element reference, e.g. `SVC01`.
        element: String,
    },
    /// Occurs when a composite was written with the element separator and more than one
    /// reading fits; the record is left out.
    #[error("composite {element} written with the element separator can be read {readings} ways")]
    AmbiguousComposite {
        /// The element reference.
        element: String,
        /// How many readings fit.
        readings: usize,
    },
    /// Occurs when a date is not `CCYYMMDD` but has exactly one reading (`CCYY-MM-DD`,
    /// `MM/DD/CCYY` with a day above 12, …); it is read that way.
    #[error("element {element} is not CCYYMMDD; read from the only date it can be")]
    DateRepaired {
        /// The element reference.
        element: String,
    },
    /// Occurs when a date can be read as two different days (`03/04/2005`); it is left out.
    #[error("element {element} can be read as two different dates")]
    AmbiguousDate {
        /// The element reference.
        element: String,
    },
    /// Occurs when a composite uses a different component separator than ISA16 declares.
    #[error("component separator `{found}` used where ISA16 declares `{declared}`")]
    ComponentSeparatorMismatch {
        /// The separator found.
        found: char,
        /// The declared one.
        declared: char,
    },
    /// Occurs when SE01 does not match the number of segments in the transaction.
    #[error("SE01 declares {declared} segments, {counted} counted")]
    SegmentCountMismatch {
        /// SE01.
        declared: usize,
        /// Segments counted from ST to SE.
        counted: usize,
    },
    /// Occurs when a transaction set is not closed by SE before the input ends.
    #[error("transaction set not closed by SE")]
    UnclosedTransaction,
    /// Occurs when a claim's record was rejected, so its children are skipped.
    #[error("segment skipped because its claim was rejected")]
    SkippedWithClaim,
}

/// One finding, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// 1-based segment ordinal in the interchange (0 for the input as a whole).
    pub segment: usize,
    /// Byte offset of the segment.
    pub offset: usize,
    /// What happened.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{sev} at segment {} (byte {}): {}",
            self.segment, self.offset, self.problem
        )
    }
}
