//! Workloads for the matching and search benches: a FEBRL CSV parser and a synthetic patient
//! population.

use bedside_records::matching::{BirthDate, MatchRecord};

/// One parsed FEBRL file.
#[derive(Debug, Default)]
pub struct FebrlFile {
    /// The records, in file order, without `rec_id`.
    pub records: Vec<MatchRecord>,
    /// The entity part of each `rec_id` (`rec-<n>-…` gives `<n>`): the truth, for scoring only.
    pub entity: Vec<String>,
    /// The raw lines (public synthetic data), for `--verbose` diagnostics.
    pub raw: Vec<String>,
    /// Rejected lines: 1-based line number and reason.
    pub rejected: Vec<(usize, String)>,
}

/// The FEBRL columns, in order.
pub const FEBRL_COLUMNS: [&str; 11] = [
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
];

/// Parses a FEBRL CSV (header `rec_id, given_name, …` with ", " separators, empty values for
/// missing). Lines with the wrong number of fields or a malformed `rec_id` are rejected with their
/// line number; they never stop the parse.
///
/// # Errors
/// Returns a message when the text is not UTF-8 or the header is not the FEBRL header.
pub fn parse_febrl(bytes: &[u8]) -> Result<FebrlFile, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not utf-8: {e}"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty file")?
        .split(',')
        .map(str::trim)
        .collect();
    if header != FEBRL_COLUMNS {
        return Err("header is not the FEBRL header".into());
    }
    let mut out = FebrlFile::default();
    for (n, line) in lines.enumerate() {
        let line_no = n + 2;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != FEBRL_COLUMNS.len() {
            out.rejected
                .push((line_no, format!("expected 11 fields, found {}", f.len())));
            continue;
        }
        let mut id = f[0].split('-');
        let entity = match (id.next(), id.next()) {
            (Some("rec"), Some(n)) if !n.is_empty() => n.to_owned(),
            _ => {
                out.rejected.push((line_no, "malformed rec_id".into()));
                continue;
            }
        };
        let record = MatchRecord::new()
            .given(f[1])
            .family(f[2])
            .house_number(f[3])
            .address_line(f[4])
            .address_line(f[5])
            .locality(f[6])
            .postcode(f[7])
            .region(f[8])
            .birth_date(BirthDate::parse(f[9]))
            .identifier("soc_sec_id", f[10]);
        out.records.push(record);
        out.entity.push(entity);
        out.raw.push(line.to_owned());
    }
    Ok(out)
}
