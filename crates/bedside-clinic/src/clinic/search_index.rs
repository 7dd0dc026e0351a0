//! The patient search's index: for each FHIR search parameter, the keys each current record
//! has under it, so a search reads the patients one criterion names instead of every record.
//!
//! The index only narrows: [`PatientSearch::matches`] still decides every candidate, so the
//! index must return a superset of the true matches of the criterion it answers. It does, by
//! keying each record exactly as the matching rule reads it (the same normalisation for
//! prefixes, the same digits for phones, the same case folding for e-mail).
//!
//! It is built on the first search (start-up does not pay for it) and kept current from then
//! on by [`State::reindex`](super::state::State), which every change to a record goes through.

use super::patient_search::PatientParam;
use bedside_core::PatientId;
use bedside_records::Patient;
use bedside_records::matching::{digits_only, normalise_text};
use bedside_records::model::TelecomSystem;
use std::collections::{BTreeMap, HashMap};

/// Keys of one record under one parameter.
type Keys = Vec<(PatientParam, String)>;

/// Patients by key, per parameter: prefix parameters in ordered maps (a prefix is a range),
/// exact ones in hash maps.
#[derive(Debug, Default)]
pub(super) struct SearchIndex {
    prefix: HashMap<PatientParam, BTreeMap<String, Vec<PatientId>>>,
    exact: HashMap<PatientParam, HashMap<String, Vec<PatientId>>>,
    /// What each patient is filed under, to unfile it when the record changes.
    filed: HashMap<PatientId, Keys>,
}

/// Whether a parameter matches by prefix of the stored value (an ordered map answers it).
fn by_prefix(param: PatientParam) -> bool {
    matches!(
        param,
        PatientParam::Name
            | PatientParam::Family
            | PatientParam::Given
            | PatientParam::BirthDate
            | PatientParam::PostalCode
    )
}

/// The keys `record` is found under, as [`PatientSearch::matches`] compares it.
fn keys(record: &Patient) -> Keys {
    let mut keys = Vec::new();
    let mut add = |param, key: String| {
        if !key.is_empty() && !keys.contains(&(param, key.clone())) {
            keys.push((param, key));
        }
    };
    for name in &record.names {
        for part in name
            .text
            .iter()
            .chain(name.family.iter())
            .chain(name.given.iter())
        {
            let text = part.expose();
            add(PatientParam::Name, normalise_text(text));
            for word in text.split_whitespace() {
                add(PatientParam::Name, normalise_text(word));
            }
        }
        if let Some(family) = &name.family {
            add(PatientParam::Family, normalise_text(family.expose()));
        }
        for given in &name.given {
            add(PatientParam::Given, normalise_text(given.expose()));
        }
    }
    if let Some(date) = &record.birth_date {
        add(PatientParam::BirthDate, date.expose().to_string());
    }
    for identifier in &record.identifiers {
        if let Some(value) = &identifier.value {
            add(PatientParam::Identifier, value.expose().clone());
        }
    }
    for contact in &record.telecom {
        let Some(value) = &contact.value else {
            continue;
        };
        match contact.system {
            Some(TelecomSystem::Phone | TelecomSystem::Sms) => {
                add(PatientParam::Phone, digits_only(value.expose()));
            }
            Some(TelecomSystem::Email) => {
                add(PatientParam::Email, value.expose().to_ascii_lowercase());
            }
            _ => {}
        }
    }
    for address in &record.addresses {
        if let Some(code) = &address.postal_code {
            add(PatientParam::PostalCode, normalise_text(code.expose()));
        }
    }
    keys
}

/// The key a search value is looked up under (`None`: the value can match nothing).
fn lookup_key(param: PatientParam, value: &str) -> Option<String> {
    let key = match param {
        PatientParam::Name
        | PatientParam::Family
        | PatientParam::Given
        | PatientParam::PostalCode => normalise_text(value),
        PatientParam::BirthDate => value.to_string(),
        PatientParam::Identifier => match value.split_once('|') {
            Some((_, v)) => v.to_string(),
            None => value.to_string(),
        },
        PatientParam::Phone => digits_only(value),
        PatientParam::Email => value.to_ascii_lowercase(),
        // `_id` names its candidates itself.
        PatientParam::Id => return None,
    };
    (!key.is_empty()).then_some(key)
}

impl SearchIndex {
    /// The index of `records`.
    pub(super) fn build<'a>(records: impl Iterator<Item = (PatientId, &'a Patient)>) -> Self {
        let mut index = SearchIndex::default();
        for (id, record) in records {
            index.file(id, keys(record));
        }
        index
    }

    fn file(&mut self, id: PatientId, keys: Keys) {
        for (param, key) in &keys {
            let list = if by_prefix(*param) {
                self.prefix
                    .entry(*param)
                    .or_default()
                    .entry(key.clone())
                    .or_default()
            } else {
                self.exact
                    .entry(*param)
                    .or_default()
                    .entry(key.clone())
                    .or_default()
            };
            list.push(id);
        }
        self.filed.insert(id, keys);
    }

    fn unfile(&mut self, id: PatientId) {
        let Some(keys) = self.filed.remove(&id) else {
            return;
        };
        for (param, key) in keys {
            let emptied = if by_prefix(param) {
                self.prefix
                    .get_mut(&param)
                    .and_then(|m| m.get_mut(&key).map(|l| remove(l, id)))
            } else {
                self.exact
                    .get_mut(&param)
                    .and_then(|m| m.get_mut(&key).map(|l| remove(l, id)))
            };
            if emptied == Some(true) {
                if by_prefix(param) {
                    self.prefix.get_mut(&param).map(|m| m.remove(&key));
                } else {
                    self.exact.get_mut(&param).map(|m| m.remove(&key));
                }
            }
        }
    }

    /// Files the patient's current record again (or unfiles a patient with none).
    pub(super) fn update(&mut self, id: PatientId, record: Option<&Patient>) {
        self.unfile(id);
        if let Some(record) = record {
            self.file(id, keys(record));
        }
    }

    /// The patients one criterion can match, sorted and without repeats: a superset of its
    /// matches. `None` for a criterion the index does not answer (`_id`).
    pub(super) fn candidates(
        &self,
        param: PatientParam,
        values: &[&str],
    ) -> Option<Vec<PatientId>> {
        if param == PatientParam::Id {
            return None;
        }
        let mut out = Vec::new();
        for value in values {
            let Some(key) = lookup_key(param, value) else {
                continue;
            };
            if by_prefix(param) {
                if let Some(map) = self.prefix.get(&param) {
                    for (_, ids) in map
                        .range(key.clone()..)
                        .take_while(|(k, _)| k.starts_with(&key))
                    {
                        out.extend_from_slice(ids);
                    }
                }
            } else if let Some(ids) = self.exact.get(&param).and_then(|m| m.get(&key)) {
                out.extend_from_slice(ids);
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// Removes `id` from `list`; whether the list is then empty.
fn remove(list: &mut Vec<PatientId>, id: PatientId) -> bool {
    if let Some(at) = list.iter().position(|p| *p == id) {
        list.swap_remove(at);
    }
    list.is_empty()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::super::patient_search::PatientSearch;
    use super::*;
    use bedside_core::{ManualClock, SeededIdGenerator};
    use std::sync::Arc;

    fn records() -> Vec<(PatientId, Patient)> {
        let ids = SeededIdGenerator::new(
            Arc::new(ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap())),
            7,
        );
        let json = [
            r#"{"resourceType":"Patient","name":[{"family":"O'Brien","given":["Mary","Ann"]}],"birthDate":"1970-03-14","telecom":[{"system":"phone","value":"+1 (212) 555-0100"},{"system":"email","value":"Mary.OBrien@Example.org"}],"address":[{"postalCode":"SW1A 1AA"}],"identifier":[{"system":"urn:mrn","value":"A-1"}]}"#,
            r#"{"resourceType":"Patient","name":[{"text":"José van der Berg","family":"van der Berg","given":["José"]}],"birthDate":"1970-03","telecom":[{"system":"sms","value":"2125550100"}],"address":[{"postalCode":"10001"}]}"#,
            r#"{"resourceType":"Patient","name":[{"family":"Smith-Jones","given":["Ann"]},{"use":"maiden","family":"Brown"}],"birthDate":"1985","identifier":[{"system":"urn:other","value":"A-1"}]}"#,
            r#"{"resourceType":"Patient","name":[{"family":"Obrien","given":["Marie"]}],"telecom":[{"system":"email","value":"marie@example.org"}]}"#,
        ];
        json.iter()
            .map(|j| {
                let p = Patient::from_fhir(j.as_bytes(), &ids).unwrap().value;
                (ids.generate(), p)
            })
            .collect()
    }

    /// Every query finds exactly what a scan of every record finds (the index only narrows),
    /// before and after a record changes.
    #[test]
    fn the_index_never_misses_what_a_scan_finds() {
        let mut records = records();
        let queries: &[(PatientParam, &str)] = &[
            (PatientParam::Name, "o'br"),
            (PatientParam::Name, "OBRIEN"),
            (PatientParam::Name, "berg"),
            (PatientParam::Name, "van der"),
            (PatientParam::Name, "jose"),
            (PatientParam::Name, "smith"),
            (PatientParam::Name, "jones"),
            (PatientParam::Name, "brown"),
            (PatientParam::Family, "van"),
            (PatientParam::Family, "berg"),
            (PatientParam::Family, "smithj"),
            (PatientParam::Given, "an"),
            (PatientParam::Given, "mar"),
            (PatientParam::BirthDate, "1970"),
            (PatientParam::BirthDate, "1970-03"),
            (PatientParam::BirthDate, "1970-03-14"),
            (PatientParam::BirthDate, "1985-01-01"),
            (PatientParam::Phone, "212-555-0100"),
            (PatientParam::Phone, "(212) 555 0100"),
            (PatientParam::Phone, "+1 212 555 0100"),
            (PatientParam::Email, "mary.obrien@example.ORG"),
            (PatientParam::Identifier, "A-1"),
            (PatientParam::Identifier, "urn:mrn|A-1"),
            (PatientParam::Identifier, "urn:none|A-1"),
            (PatientParam::PostalCode, "sw1a"),
            (PatientParam::PostalCode, "1000"),
            (PatientParam::Name, "zzz"),
        ];
        for round in 0..2 {
            let index = SearchIndex::build(records.iter().map(|(id, p)| (*id, p)));
            for (param, value) in queries {
                let mut search = PatientSearch::new();
                search.add(*param, "x", &[value]).unwrap();
                let scanned: Vec<PatientId> = {
                    let mut v: Vec<PatientId> = records
                        .iter()
                        .filter(|(_, p)| search.matches(p))
                        .map(|(id, _)| *id)
                        .collect();
                    v.sort();
                    v
                };
                let candidates = index.candidates(*param, &[value]).unwrap();
                let found: Vec<PatientId> = candidates
                    .into_iter()
                    .filter(|id| {
                        let record = &records.iter().find(|(i, _)| i == id).unwrap().1;
                        search.matches(record)
                    })
                    .collect();
                assert_eq!(found, scanned, "round {round}: {param:?}");
            }
            // The second round: a record renamed and re-filed, as a change request does.
            let (id, mut changed) = records[0].clone();
            changed.names.truncate(0);
            records[0] = (id, changed);
            let mut index2 = index;
            index2.update(id, Some(&records[0].1));
            let mut search = PatientSearch::new();
            search.add(PatientParam::Name, "x", &["mary"]).unwrap();
            assert!(
                !index2
                    .candidates(PatientParam::Name, &["mary"])
                    .unwrap()
                    .contains(&id),
                "a renamed record is no longer filed under its old name"
            );
        }
    }

    #[test]
    fn the_queries_of_the_table_do_match_something() {
        // Guards the table above against testing only empty answers.
        let records = records();
        let hits = |param, value: &str| {
            let mut s = PatientSearch::new();
            s.add(param, "x", &[value]).unwrap();
            records.iter().filter(|(_, p)| s.matches(p)).count()
        };
        assert_eq!(hits(PatientParam::Name, "o'br"), 2);
        // Phones compare every digit: the country code makes the first record's another number.
        assert_eq!(hits(PatientParam::Phone, "(212) 555 0100"), 1);
        assert_eq!(hits(PatientParam::Phone, "+1 212 555 0100"), 1);
        assert_eq!(hits(PatientParam::Identifier, "A-1"), 2);
        assert_eq!(hits(PatientParam::BirthDate, "1970"), 2);
    }
}
