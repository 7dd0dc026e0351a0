//! [`ClinicError`]: every refusal of the clinic services, with its HTTP status and a stable code.

/// Why a clinic command or query was refused.
///
/// Messages never contain PHI: they name fields, ids of the caller's own request and rule
/// codes, never names, dates of birth, contact details or free text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClinicError {
    /// Occurs when the request body or a parameter is malformed or fails validation.
    #[error("invalid request: {message}")]
    BadRequest {
        /// What is wrong (field paths, never values).
        message: String,
        /// Every problem found, with its path.
        details: Vec<String>,
    },
    /// Occurs when no valid bearer token was presented, or it has expired.
    #[error("authentication required")]
    Unauthenticated,
    /// Occurs when the caller may not do this (role, own data only, or a consent decision).
    #[error("forbidden: {reason}")]
    Forbidden {
        /// The rule or check that refused (codes only).
        reason: String,
    },
    /// Occurs when the named resource does not exist (or is not visible to the caller).
    #[error("{kind} not found")]
    NotFound {
        /// The kind of resource.
        kind: &'static str,
    },
    /// Occurs when the command conflicts with the current state (slot taken, stale version).
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicted.
        message: String,
    },
    /// Occurs when the request would create what already exists (a second claim for a visit):
    /// the answer names the existing resource.
    #[error("conflict: {kind} already exists")]
    AlreadyExists {
        /// The kind of resource.
        kind: &'static str,
        /// The id of the existing one (an id the caller may see, never PHI).
        existing: String,
    },
    /// Occurs when a per-patient limit is reached (home-vitals uploads per day).
    #[error("limit reached: {what}")]
    LimitReached {
        /// What ran out (a fixed phrase, no input).
        what: &'static str,
        /// Seconds until the limit resets (the `Retry-After` header).
        retry_after_seconds: u64,
    },
    /// Occurs when the integrity check found a break in the tamper-evident chain: the clinic
    /// serves reads but refuses every write until the privacy officer has investigated.
    #[error("read-only: the integrity check failed, writes are refused")]
    Degraded,
    /// Occurs when the request body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// Occurs when the database fails; the command was not applied. (A batch the database
    /// refuses by one of its rules, [`StoreError::Conflict`], becomes [`ClinicError::Conflict`].)
    #[error("storage failure")]
    Storage(StoreError),
    /// Occurs when the request's worker failed (a bug); nothing half-applied is kept, since
    /// commands are atomic.
    #[error("internal error")]
    Internal,
}

/// A failure of the persistence layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Occurs when SQLite reports an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Occurs when PostgreSQL reports an error: its SQLSTATE and primary message (the DETAIL
    /// line, which may quote row values, is dropped).
    #[error("postgres {code}: {message}")]
    Postgres {
        /// SQLSTATE (`23505` …) or `connection`.
        code: String,
        /// The server's primary message.
        message: String,
    },
    /// Occurs when a stored row cannot be decoded.
    #[error("corrupt row in `{table}`: {message}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What could not be decoded.
        message: String,
    },
    /// Occurs when the database was written by a newer schema than this build knows.
    #[error("database schema version {found} is newer than supported {supported}")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build applies.
        supported: i64,
    },
    /// Occurs when the file system refuses (data directory, notifier file).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Occurs when a batch breaks a rule the database keeps (a double booking): nothing of
    /// it is stored, and retrying the same batch fails the same way.
    #[error("refused by the database: {what}")]
    Conflict {
        /// What the database refused (`double booking`).
        what: &'static str,
    },
}

impl From<StoreError> for ClinicError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { what } => ClinicError::conflict(format!("refused: {what}")),
            other => ClinicError::Storage(other),
        }
    }
}

impl StoreError {
    /// A copy of this error for each request of a failed group write (the wrapped client
    /// errors are not `Clone`; their text is kept, which never holds row values).
    pub(crate) fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Sqlite(e) => StoreError::Corrupt {
                table: "sqlite",
                message: e.to_string(),
            },
            StoreError::Postgres { code, message } => StoreError::Postgres {
                code: code.clone(),
                message: message.clone(),
            },
            StoreError::Corrupt { table, message } => StoreError::Corrupt {
                table,
                message: message.clone(),
            },
            StoreError::SchemaTooNew { found, supported } => StoreError::SchemaTooNew {
                found: *found,
                supported: *supported,
            },
            StoreError::Io(e) => StoreError::Io(std::io::Error::new(e.kind(), e.to_string())),
            StoreError::Conflict { what } => StoreError::Conflict { what },
        }
    }
}

impl ClinicError {
    /// Maps a domain crate's error by its [`ErrorKind`](bedside_core::ErrorKind), never by
    /// its text: invalid input is 400, a state conflict 409, a missing record 404, a refusal
    /// 403, a spent limit 429, an internal inconsistency 500 (logged). `context` names what
    /// was being done (`"remittance"`); the domain message (free of personal data by every
    /// crate's contract) follows it.
    pub fn domain(context: &'static str, e: &dyn bedside_core::DomainError) -> Self {
        use bedside_core::ErrorKind as K;
        match e.kind() {
            K::Invalid => ClinicError::bad(format!("{context}: {e}")),
            K::Conflict => ClinicError::conflict(format!("{context}: {e}")),
            K::NotFound => ClinicError::NotFound { kind: context },
            K::Forbidden => ClinicError::forbidden(context),
            K::LimitExceeded => ClinicError::LimitReached {
                what: context,
                retry_after_seconds: 60,
            },
            K::Internal => {
                eprintln!("clinic: internal error in {context}: {e}");
                ClinicError::Internal
            }
            // `ErrorKind` is non-exhaustive: a kind added later is a conflict until mapped.
            _ => ClinicError::conflict(format!("{context}: {e}")),
        }
    }

    /// A bad request with one detail.
    pub fn bad(message: impl Into<String>) -> Self {
        let message = message.into();
        ClinicError::BadRequest {
            details: vec![message.clone()],
            message,
        }
    }

    /// A refusal with a reason code.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        ClinicError::Forbidden {
            reason: reason.into(),
        }
    }

    /// A conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        ClinicError::Conflict {
            message: message.into(),
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ClinicError::BadRequest { .. } => 400,
            ClinicError::Unauthenticated => 401,
            ClinicError::Forbidden { .. } => 403,
            ClinicError::NotFound { .. } => 404,
            ClinicError::Conflict { .. } => 409,
            ClinicError::AlreadyExists { .. } => 409,
            ClinicError::LimitReached { .. } => 429,
            ClinicError::PayloadTooLarge => 413,
            ClinicError::Storage(_) | ClinicError::Degraded => 503,
            ClinicError::Internal => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ClinicError::BadRequest { .. } => "bad_request",
            ClinicError::Unauthenticated => "unauthenticated",
            ClinicError::Forbidden { .. } => "forbidden",
            ClinicError::NotFound { .. } => "not_found",
            ClinicError::Conflict { .. } => "conflict",
            ClinicError::AlreadyExists { .. } => "conflict",
            ClinicError::LimitReached { .. } => "rate_limited",
            ClinicError::PayloadTooLarge => "payload_too_large",
            ClinicError::Storage(_) => "unavailable",
            ClinicError::Degraded => "degraded",
            ClinicError::Internal => "internal",
        }
    }

    /// The error as the API reports it: serialised by the HTTP layer as
    /// `{ "error": { "code", "message", "details" } }`.
    pub fn body(&self) -> ErrorBody {
        let details = match self {
            ClinicError::BadRequest { details, .. } => details.clone(),
            _ => Vec::new(),
        };
        // Storage errors are not described to the client: the cause is logged server-side.
        let message = match self {
            ClinicError::Storage(_) => {
                "storage unavailable, the command was not applied".to_string()
            }
            other => other.to_string(),
        };
        let existing = match self {
            ClinicError::AlreadyExists { existing, .. } => Some(existing.clone()),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                details,
                existing,
            },
        }
    }
}

/// An error as the API reports it (see [`ClinicError::body`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The fields of an API error: no request values, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// A stable machine-readable code (`bad_request`, `not_found`, `conflict`, …).
    pub code: &'static str,
    /// A human-readable message.
    pub message: String,
    /// Every problem found, by field path (bad requests only).
    pub details: Vec<String>,
    /// The id of what already exists (`already_exists` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
}

impl From<bedside_schedule::ScheduleError> for ClinicError {
    fn from(e: bedside_schedule::ScheduleError) -> Self {
        use bedside_schedule::ScheduleError as S;
        // Fixed messages only: some variants quote caller input (an appointment type code).
        match e {
            S::Conflict { .. } => ClinicError::conflict("the option is no longer available"),
            S::TokenReused => {
                ClinicError::conflict("client token already used for a different booking")
            }
            S::HoldExpired => ClinicError::conflict("the hold has expired"),
            S::VersionConflict { .. } => ClinicError::conflict("version conflict"),
            S::InvalidTransition { .. } => {
                ClinicError::conflict("the appointment is not in a state that allows this")
            }
            S::NotFound { kind } => ClinicError::NotFound { kind },
            S::UnknownAppointmentType { .. } => ClinicError::bad("appointment_type: unknown code"),
            S::RuleViolation { .. } => ClinicError::bad("option: breaks a booking rule"),
            _ => ClinicError::bad("the scheduling request is invalid"),
        }
    }
}

impl From<bedside_records::RegistryError> for ClinicError {
    fn from(e: bedside_records::RegistryError) -> Self {
        use bedside_records::RegistryError as R;
        match &e {
            R::Conflict { .. } => ClinicError::conflict(e.to_string()),
            R::UnknownPatient(_) => ClinicError::NotFound { kind: "patient" },
            R::UnknownRequest(_) => ClinicError::NotFound {
                kind: "change request",
            },
            R::AlreadyDecided(_) => ClinicError::conflict("change request already decided"),
            R::Forbidden { .. } => ClinicError::forbidden("registry"),
            _ => ClinicError::bad(e.to_string()),
        }
    }
}

/// What went wrong in a JSON parse, and where, without quoting any of the input (serde's own
/// messages quote it, and input may carry personal data).
pub(crate) fn json_problem(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "malformed JSON",
        serde_json::error::Category::Data => "a field has the wrong type, is missing or is unknown",
        serde_json::error::Category::Io => "unreadable input",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod domain_mapping {
    use super::ClinicError;
    use bedside_core::{DomainError, ErrorKind};

    #[derive(Debug, thiserror::Error)]
    #[error("domain refusal")]
    struct Refusal(ErrorKind);

    impl DomainError for Refusal {
        fn kind(&self) -> ErrorKind {
            self.0
        }
    }

    #[test]
    fn domain_errors_map_by_kind_not_by_text() {
        for (kind, status) in [
            (ErrorKind::Invalid, 400),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::LimitExceeded, 429),
            (ErrorKind::Internal, 500),
        ] {
            assert_eq!(
                ClinicError::domain("test", &Refusal(kind)).status(),
                status,
                "{kind}"
            );
        }
        let Err(core) = "2026-13".parse::<bedside_core::PartialDate>() else {
            panic!("a thirteenth month parsed");
        };
        assert_eq!(ClinicError::domain("birth date", &core).status(), 400);
    }
}
