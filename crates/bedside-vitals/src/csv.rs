//! Streaming CSV ingestion with a header mapping.
//!
//! The first line is a header; a [`CsvMapping`] says which column holds which field of the
//! reading schema (see the crate root), and can fix a field to a constant for files that
//! lack a column (a weight-only export with no `kind` column). Fields follow RFC 4180: comma
//! separated, optionally double-quoted, `""` for a quote inside quotes, and quoted fields may
//! span lines. Records are read one at a time; a record longer than
//! [`crate::IngestConfig::max_record_bytes`] is rejected without being held whole.
//!
//! A hand-written reader keeps the crate's dependencies to serde_json; the format is small
//! and every error must become a per-record outcome rather than a stream error.

use crate::error::{Field, RejectReason, VitalsError};
use crate::flat::{FlatRecord, Line, LineReader, Val};
use crate::reading::Position;
use crate::store::{Batch, BatchReport, Outcome, VitalsStore};
use std::collections::BTreeMap;
use std::io::BufRead;

/// Which column holds which field, and fields fixed to constants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvMapping {
    columns: BTreeMap<Field, String>,
    constants: BTreeMap<Field, String>,
}

impl CsvMapping {
    /// Columns named exactly as the schema's fields (`patient`, `kind`, `at`, …).
    pub fn identity() -> Self {
        Self {
            columns: Field::ALL
                .into_iter()
                .map(|f| (f, f.as_str().to_owned()))
                .collect(),
            constants: BTreeMap::new(),
        }
    }

    /// Reads `field` from the column named `column`.
    pub fn column(mut self, field: Field, column: &str) -> Self {
        self.constants.remove(&field);
        self.columns.insert(field, column.to_owned());
        self
    }

    /// Fixes `field` to `value` for every row.
    pub fn constant(mut self, field: Field, value: &str) -> Self {
        self.columns.remove(&field);
        self.constants.insert(field, value.to_owned());
        self
    }
}

/// Splits one record into cells. Returns `None` on a stray quote.
fn split(record: &str, cells: &mut Vec<String>) -> Option<()> {
    cells.clear();
    let mut cur = String::new();
    let mut chars = record.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                    // After a closing quote only a separator may follow.
                    if !matches!(chars.peek(), None | Some(',')) {
                        return None;
                    }
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                cells.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            '"' if at_start && cur.is_empty() => quoted = true,
            '"' => return None,
            _ => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return None;
    }
    cells.push(cur);
    Some(())
}

fn open_quotes(text: &str) -> bool {
    text.bytes().filter(|&b| b == b'"').count() % 2 == 1
}

/// Ingests CSV from `input` into `store` as the [`Batch`] `batch` (the future-timestamp check
/// is against `batch.at`). Positions are the 1-based line number where each record starts (the
/// header is line 1).
///
/// # Errors
/// [`VitalsError::MissingColumn`] when the header lacks a mapped column for a required field
/// (`patient`, `kind`, `at`, `unit`, `source` unless fixed by a constant);
/// [`VitalsError::Format`] when there is no header; [`VitalsError::Io`] when reading fails.
// Not split: one streaming loop; its record, quote and limit state would thread through helpers.
pub fn ingest<R: BufRead>(
    store: &mut VitalsStore,
    input: R,
    mapping: &CsvMapping,
    batch: &Batch,
) -> Result<BatchReport, VitalsError> {
    let max = store.config().max_record_bytes;
    let mut lines = LineReader::new(input, max);
    let io = |record: u32| move |source| VitalsError::Io { record, source };
    let header = match lines.next_line().map_err(io(1))? {
        Some((_, Line::Ok(b))) => String::from_utf8_lossy(b)
            .trim_start_matches('\u{feff}')
            .to_owned(),
        _ => {
            return Err(VitalsError::Format {
                format: "csv",
                detail: "no header line".into(),
            });
        }
    };
    let mut names = Vec::new();
    split(&header, &mut names).ok_or(VitalsError::Format {
        format: "csv",
        detail: "unbalanced quotes in header".into(),
    })?;
    let mut slots: Vec<(Field, usize)> = Vec::new();
    for (field, column) in &mapping.columns {
        if let Some(i) = names.iter().position(|n| n.trim() == column) {
            slots.push((*field, i));
        }
    }
    for required in [
        Field::Patient,
        Field::Kind,
        Field::At,
        Field::Unit,
        Field::Source,
    ] {
        let present =
            slots.iter().any(|s| s.0 == required) || mapping.constants.contains_key(&required);
        if !present {
            return Err(VitalsError::MissingColumn {
                field: required.as_str(),
                column: mapping.columns.get(&required).cloned().unwrap_or_default(),
            });
        }
    }
    let now_ms = batch.at.timestamp_millis();
    let batch = store.open_batch(batch);
    let mut report = BatchReport {
        batch,
        ..BatchReport::default()
    };
    let mut record = String::new();
    let mut cells = Vec::new();
    loop {
        record.clear();
        let mut start_line = 0;
        let mut outcome: Option<RejectReason> = None;
        let mut ended = false;
        loop {
            let upcoming = lines.line.saturating_add(1);
            let next = lines.next_line().map_err(io(upcoming))?;
            if start_line == 0 {
                start_line = upcoming;
            }
            match next.map(|n| n.1) {
                None => {
                    ended = true;
                    break;
                }
                Some(Line::TooLong) => {
                    outcome = Some(RejectReason::TooLong);
                    break;
                }
                Some(Line::Ok(b)) => match std::str::from_utf8(b) {
                    Ok(t) => {
                        if !record.is_empty() {
                            record.push('\n');
                        }
                        record.push_str(t);
                    }
                    Err(_) => {
                        outcome = Some(RejectReason::Malformed);
                        break;
                    }
                },
            }
            if record.len() > max {
                outcome = Some(RejectReason::TooLong);
                break;
            }
            if !open_quotes(&record) {
                break;
            }
        }
        if ended && record.is_empty() {
            break;
        }
        let position = Position {
            batch,
            record: start_line,
        };
        if outcome.is_none() && record.trim().is_empty() {
            continue;
        }
        if ended && open_quotes(&record) {
            outcome = Some(RejectReason::Malformed);
        }
        if let Some(reason) = outcome {
            report.record(position, Outcome::Rejected { reason });
            if ended {
                break;
            }
            continue;
        }
        if split(&record, &mut cells).is_none() || cells.len() != names.len() {
            report.record(
                position,
                Outcome::Rejected {
                    reason: RejectReason::Malformed,
                },
            );
            continue;
        }
        let mut rec = FlatRecord::default();
        for (field, value) in &mapping.constants {
            rec.vals[*field as usize] = Some(Val::Text(value.as_str()));
        }
        for (field, i) in &slots {
            if let Some(cell) = cells.get(*i) {
                rec.vals[*field as usize] = Some(Val::Text(cell.as_str()));
            }
        }
        match rec.to_candidate(store) {
            Ok(c) => {
                store.admit(&c, position, now_ms, &mut report);
            }
            Err(reason) => report.record(position, Outcome::Rejected { reason }),
        }
        if ended {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rfc4180() {
        let mut cells = Vec::new();
        assert!(split(r#"a,"b,c","d""e",,"#, &mut cells).is_some());
        assert_eq!(cells, vec!["a", "b,c", "d\"e", "", ""]);
        assert!(split(r#"a,b"c"#, &mut cells).is_none());
        assert!(split(r#""a"b"#, &mut cells).is_none());
        assert!(split("\"multi\nline\",x", &mut cells).is_some());
        assert_eq!(cells, vec!["multi\nline", "x"]);
    }
}
