//! Errors and per-record rejection reasons.

use serde::{Deserialize, Serialize};

/// Errors of `bedside-vitals` operations (not per-record outcomes: those are
/// [`crate::Outcome`]s in a [`crate::BatchReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VitalsError {
    /// Occurs when the underlying reader fails; records read before the failure keep their
    /// outcomes in the store, and the failing position is given.
    #[error("input could not be read at record {record}: {source}")]
    Io {
        /// The record (line or entry) being read.
        record: u32,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Occurs when a CSV header lacks a column the mapping needs.
    #[error("csv header has no column `{column}` for field `{field}`")]
    MissingColumn {
        /// The field the mapping needs.
        field: &'static str,
        /// The column name the mapping expects.
        column: String,
    },
    /// Occurs when the input as a whole is not the format expected (for example a FHIR file
    /// whose top level is not a JSON object).
    #[error("input is not valid {format}: {detail}")]
    Format {
        /// The format expected.
        format: &'static str,
        /// What was wrong (no record content).
        detail: String,
    },
    /// Occurs when acknowledging an alert that the book does not hold.
    #[error("no alert `{0}`")]
    UnknownAlert(bedside_core::AlertId),
    /// Occurs when acknowledging an alert that is already acknowledged.
    #[error("alert `{0}` is already acknowledged")]
    AlreadyAcknowledged(bedside_core::AlertId),
    /// Occurs when a query names a patient the store does not know.
    #[error("unknown patient")]
    UnknownPatient,
    /// Occurs when a rule or configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// Occurs when [`crate::VitalsStore::restore`] is given a snapshot it cannot restore (an
    /// unsupported version, a patient listed twice, a reading under the wrong patient or
    /// naming an unknown batch). The message names the problem, never a value.
    #[error("snapshot cannot be restored: {0}")]
    Snapshot(&'static str),
}

impl bedside_core::DomainError for VitalsError {
    fn kind(&self) -> bedside_core::ErrorKind {
        use bedside_core::ErrorKind;
        match self {
            VitalsError::Io { .. } => ErrorKind::Internal,
            VitalsError::MissingColumn { .. } | VitalsError::Format { .. } => ErrorKind::Invalid,
            VitalsError::UnknownAlert(_) | VitalsError::UnknownPatient => ErrorKind::NotFound,
            VitalsError::AlreadyAcknowledged(_) => ErrorKind::Conflict,
            VitalsError::InvalidConfig(_) => ErrorKind::Invalid,
            VitalsError::Snapshot(_) => ErrorKind::Invalid,
        }
    }
}

/// A field of the flat reading schema (NDJSON and CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `patient`.
    Patient,
    /// `kind`.
    Kind,
    /// `at`.
    At,
    /// `value`.
    Value,
    /// `systolic`.
    Systolic,
    /// `diastolic`.
    Diastolic,
    /// `mean`.
    Mean,
    /// `unit`.
    Unit,
    /// `source`.
    Source,
    /// `device_model`.
    DeviceModel,
    /// `position`.
    Position,
    /// `site`.
    Site,
    /// `meal`.
    Meal,
    /// `on_oxygen`.
    OnOxygen,
}

impl Field {
    /// Every field, in schema order.
    pub const ALL: [Field; 14] = [
        Field::Patient,
        Field::Kind,
        Field::At,
        Field::Value,
        Field::Systolic,
        Field::Diastolic,
        Field::Mean,
        Field::Unit,
        Field::Source,
        Field::DeviceModel,
        Field::Position,
        Field::Site,
        Field::Meal,
        Field::OnOxygen,
    ];

    /// The field's name in the schema.
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Patient => "patient",
            Field::Kind => "kind",
            Field::At => "at",
            Field::Value => "value",
            Field::Systolic => "systolic",
            Field::Diastolic => "diastolic",
            Field::Mean => "mean",
            Field::Unit => "unit",
            Field::Source => "source",
            Field::DeviceModel => "device_model",
            Field::Position => "position",
            Field::Site => "site",
            Field::Meal => "meal",
            Field::OnOxygen => "on_oxygen",
        }
    }

    /// The field with a schema name.
    pub fn parse(name: &str) -> Option<Field> {
        // A match compiles to a length switch, which the NDJSON hot path needs.
        Some(match name {
            "patient" => Field::Patient,
            "kind" => Field::Kind,
            "at" => Field::At,
            "value" => Field::Value,
            "systolic" => Field::Systolic,
            "diastolic" => Field::Diastolic,
            "mean" => Field::Mean,
            "unit" => Field::Unit,
            "source" => Field::Source,
            "device_model" => Field::DeviceModel,
            "position" => Field::Position,
            "site" => Field::Site,
            "meal" => Field::Meal,
            "on_oxygen" => Field::OnOxygen,
            _ => return None,
        })
    }
}

/// Why a record was rejected. Physiologically impossible values ([`RejectReason::Implausible`])
/// are rejected here; clinically concerning but possible values are accepted and raise alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "field")]
#[non_exhaustive]
pub enum RejectReason {
    /// The record is not well-formed (bad JSON, unbalanced CSV quotes, wrong value type).
    Malformed,
    /// The record is longer than the configured limit.
    TooLong,
    /// A required field is missing.
    MissingField(Field),
    /// A field has a value outside its domain (a bad timestamp, an unknown position word).
    InvalidField(Field),
    /// The kind (or LOINC code) is not one this crate ingests.
    UnsupportedKind,
    /// The unit is not known, or not allowed for the kind.
    UnknownUnit,
    /// The value cannot be a real measurement (SBP 900, a negative weight).
    Implausible,
    /// The timestamp is later than now plus the skew allowance.
    FutureTimestamp,
    /// The patient is not registered with the store.
    UnknownPatient,
    /// A FHIR Observation whose status is not a completed result (cancelled,
    /// entered-in-error, registered, preliminary).
    NotFinal,
    /// A FHIR Observation or Open mHealth body with no measured value (`dataAbsentReason`).
    NoValue,
    /// An Open mHealth document that does not conform to its schema.
    SchemaViolation,
}

impl RejectReason {
    /// A short stable label for reports (`missing-field:at`).
    pub fn label(&self) -> String {
        match self {
            RejectReason::Malformed => "malformed".into(),
            RejectReason::TooLong => "too-long".into(),
            RejectReason::MissingField(f) => format!("missing-field:{}", f.as_str()),
            RejectReason::InvalidField(f) => format!("invalid-field:{}", f.as_str()),
            RejectReason::UnsupportedKind => "unsupported-kind".into(),
            RejectReason::UnknownUnit => "unknown-unit".into(),
            RejectReason::Implausible => "implausible".into(),
            RejectReason::FutureTimestamp => "future-timestamp".into(),
            RejectReason::UnknownPatient => "unknown-patient".into(),
            RejectReason::NotFinal => "not-final".into(),
            RejectReason::NoValue => "no-value".into(),
            RejectReason::SchemaViolation => "schema-violation".into(),
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}
