//! The journal's storage schema: owned by this crate and versioned, not the serde forms of
//! the domain types.
//!
//! Every command is stored as a JSON body built from the record types in [`record`] (plain
//! structs and enums that exist only to be stored; conversions to and from the domain types
//! are written out by hand). A domain crate can therefore rename a field, change a derive or
//! restructure a type without changing what is on disk: the conversion stops compiling, and
//! whoever changed the type decides what the stored form means. The journal is the clinic's
//! source of truth (snapshots are caches rebuilt from it; see `docs/ARCHITECTURE.md`), so it
//! is the part that must outlive every refactor.
//!
//! # Formats
//! - **1** (journals written before December 2026): the commands' derived serde forms at the
//!   time, with every empty field spelled out (`null`, `[]`). No version field. Frozen: the
//!   record types read it exactly (the fixtures under `tests/data/journal/` are journals
//!   written by that build and are replayed by the tests).
//! - **2** (written now): the same records with `"v": 2` first and absent optional and empty
//!   fields left out (a registration body is about half the size). Readers take either.
//!
//! Stored rows are never rewritten: they are covered by the tamper-evident chain, so a
//! journal can hold format-1 rows followed by format-2 rows, and replays both.
//!
//! ```
//! use bedside_clinic::journal::{self, FORMAT};
//! let body = r#"{"kind":"discharge","patient":"01900000-0000-7000-8000-0000000000aa"}"#;
//! let command = journal::decode(body)?; // a format-1 body
//! let stored = journal::encode(&command)?;
//! assert!(stored.starts_with(&format!(r#"{{"v":{FORMAT},"kind":"discharge""#)));
//! assert_eq!(journal::format_of(&stored)?, FORMAT);
//! # Ok::<(), bedside_clinic::journal::JournalError>(())
//! ```

use crate::clinic::Command;

pub mod record;
#[cfg(test)]
pub(crate) mod tests;

/// The format this build writes.
pub const FORMAT: u32 = 2;

/// The oldest format this build reads.
pub const OLDEST_FORMAT: u32 = 1;

/// Why a journal body cannot be read or written. Never quotes the body: it carries PHI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The body is not JSON, or a field is missing or has the wrong type.
    #[error("journal body: {0}")]
    Malformed(String),
    /// The body names a format this build does not read.
    #[error(
        "journal format {0} is not one this build reads ({OLDEST_FORMAT}–{FORMAT}): upgrade the \
         backend before opening this database"
    )]
    UnknownFormat(u64),
    /// The body names a command kind this build does not know (a newer build wrote it in a
    /// format this one reads).
    #[error(
        "journal command kind is not one this build knows: upgrade the backend before \
         opening this database"
    )]
    UnknownKind,
    /// The body parsed but a value in it is not valid (an id, an instant, a code).
    #[error("journal body: {0}")]
    Invalid(String),
}

fn malformed(e: &serde_json::Error) -> JournalError {
    JournalError::Malformed(crate::error::json_problem(e))
}

/// The format of a stored body: its `"v"` field, or 1 when it has none.
///
/// # Errors
/// [`JournalError::Malformed`] when the body is not a JSON object.
pub fn format_of(body: &str) -> Result<u32, JournalError> {
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(default)]
        v: Option<u64>,
    }
    // What this build writes starts with the version: read it without parsing the body.
    if let Some(rest) = body.strip_prefix(r#"{"v":"#) {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(v) = rest[..digits].parse::<u64>() {
            return check(v);
        }
    }
    let version: Version = serde_json::from_str(body).map_err(|e| malformed(&e))?;
    version.v.map_or(Ok(1), check)
}

fn check(v: u64) -> Result<u32, JournalError> {
    match u32::try_from(v) {
        Ok(v) if (OLDEST_FORMAT..=FORMAT).contains(&v) => Ok(v),
        _ => Err(JournalError::UnknownFormat(v)),
    }
}

/// Reads one stored command body, of any format this build reads.
///
/// # Errors
/// [`JournalError`] when the body is malformed, of an unknown format, or holds an invalid
/// value.
pub fn decode(body: &str) -> Result<Command, JournalError> {
    format_of(body)?;
    // Formats 1 and 2 differ only in the version field and in which empty fields are
    // spelled out; the records read both.
    let entry: record::Entry = serde_json::from_str(body).map_err(|e| {
        #[derive(serde::Deserialize)]
        struct Kind {
            kind: String,
        }
        match serde_json::from_str::<Kind>(body) {
            Ok(k) if !Command::KINDS.contains(&k.kind.as_str()) => JournalError::UnknownKind,
            _ => malformed(&e),
        }
    })?;
    Command::try_from(entry)
}

/// The stored body of a command, in [`FORMAT`].
///
/// # Errors
/// [`JournalError::Invalid`] when a value cannot be represented (never for a command the
/// clinic accepted).
pub fn encode(command: &Command) -> Result<String, JournalError> {
    let entry = record::Versioned {
        v: FORMAT,
        entry: record::Entry::from(command),
    };
    serde_json::to_string(&entry).map_err(|e| JournalError::Invalid(crate::error::json_problem(&e)))
}
