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

use bedside_core::{ManualClock, PatientId, SeededIdGenerator, SeededRng};
use bedside_records::matching::synthetic::{SyntheticPerson, population};
use bedside_records::matching::{MatchIndex, Matcher, MatcherConfig};
use bedside_records::search::{PatientIndex, PatientQuery};
use std::sync::Arc;

/// An indexed synthetic population with queries whose right answers are known.
pub struct SearchWorkload {
    /// The search index over the originals.
    pub index: PatientIndex,
    /// The match index over the originals.
    pub match_index: MatchIndex,
    /// Search queries and the patient each is looking for.
    pub search_queries: Vec<(PatientQuery, PatientId)>,
    /// Registration-time candidates (corrupted duplicates) and the patient each should match.
    pub match_queries: Vec<(MatchRecord, PatientId)>,
}

/// The kinds of search query in the workload, in the order they cycle.
pub const SEARCH_KINDS: [&str; 7] = [
    "family+given-prefix",
    "family-typo+given",
    "family-prefix+birth",
    "identifier",
    "phone",
    "family+postcode",
    "given+family+birth",
];

/// Builds the workload: `patients` originals indexed for search and matching (the matching
/// model is estimated with EM on the first 20,000 records), `queries` search queries of mixed
/// kinds and `queries` match candidates. Deterministic for a seed.
pub fn search_workload(patients: usize, queries: usize, seed: u64) -> SearchWorkload {
    let people = population(seed, patients, 0.02);
    let sample: Vec<MatchRecord> = people
        .iter()
        .take(20_000)
        .map(|p| p.record.clone())
        .collect();
    let config = MatcherConfig::default();
    let model = Matcher::new(config.clone()).train(&sample);
    let mut index = PatientIndex::new();
    let mut match_index = MatchIndex::new(model, config);
    let mut originals: Vec<(&SyntheticPerson, PatientId)> = Vec::with_capacity(patients);
    let mut duplicates: Vec<(&SyntheticPerson, PatientId)> = Vec::new();
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let ids = SeededIdGenerator::new(clock, seed);
    let mut last_entity = u32::MAX;
    let mut last_id: PatientId = ids.generate();
    for p in &people {
        if p.entity != last_entity {
            last_entity = p.entity;
            last_id = ids.generate();
            index.upsert(last_id, &p.record);
            match_index.upsert(last_id, &p.record);
            originals.push((p, last_id));
        } else {
            duplicates.push((p, last_id));
        }
    }
    let mut rng = SeededRng::new(seed ^ 0x5eed);
    let mut search_queries = Vec::with_capacity(queries);
    for q in 0..queries {
        let (p, id) = originals[rng.index(originals.len())];
        let f = &p.fields;
        let prefix = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        let query = match q % SEARCH_KINDS.len() {
            0 => PatientQuery::new().name(&format!("{} {}", f.family, prefix(&f.given, 3))),
            1 => {
                // One typo: swap two inner letters of the family name.
                let mut b: Vec<char> = f.family.chars().collect();
                if b.len() >= 4 {
                    b.swap(1, 2);
                }
                PatientQuery::new().name(&format!("{} {}", b.iter().collect::<String>(), f.given))
            }
            2 => PatientQuery::new()
                .name(&prefix(&f.family, 4))
                .birth_date(f.birth),
            3 => PatientQuery::new().identifier(&f.mrn),
            4 => PatientQuery::new().phone(&f.phone),
            5 => PatientQuery::new().name(&f.family).postcode(&f.postcode),
            _ => PatientQuery::new()
                .name(&format!("{} {}", f.given, f.family))
                .birth_date(f.birth),
        };
        search_queries.push((query, id));
    }
    let mut match_queries = Vec::with_capacity(queries);
    for _ in 0..queries.min(duplicates.len().max(1)) {
        if duplicates.is_empty() {
            break;
        }
        let (p, id) = duplicates[rng.index(duplicates.len())];
        match_queries.push((p.record.clone(), id));
    }
    SearchWorkload {
        index,
        match_index,
        search_queries,
        match_queries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn febrl_parse_reports_rejected_lines() {
        let text = "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id\n\
                    rec-1-org, kayla, harrington, 6, maltby circuit, coaling, coolaroo, 3465, nsw, 19150612, 9004242\n\
                    rec-1-dup-0, , harrington, , maltby circuit, , coolaroo, 3465, nsw, 19151206, 9004242\n\
                    too, few, fields\n\
                    xyz-2-org, a, b, 1, c, d, e, 2000, nsw, 19700101, 1\n";
        let parsed = parse_febrl(text.as_bytes()).unwrap_or_default();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.entity, vec!["1", "1"]);
        assert_eq!(parsed.records[1].given_name().expose(), "");
        let lines: Vec<usize> = parsed.rejected.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![4, 5]);
        assert!(parse_febrl(b"a,b\n").is_err());
        assert!(parse_febrl(&[0xff, 0xfe]).is_err());
    }
}
