//! Patient search, as the FHIR face asks it: criteria named after FHIR R4's search parameters,
//! matched against the current records, and filtered by what the caller may read.

use super::records::version_view;
use super::search_index::SearchIndex;
use super::*;

/// A criterion of a patient search, named after the FHIR R4 search parameter it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatientParam {
    /// `_id`: the patient's id, exactly.
    Id,
    /// `identifier`: `value` or `system|value`, exactly (the system compared too when given).
    Identifier,
    /// `name`: any part of any name (text, family, given) starts with the value.
    Name,
    /// `family`: any family name starts with the value.
    Family,
    /// `given`: any given name starts with the value.
    Given,
    /// `birthdate`: the birth date equals the value, or lies in it (`1970`, `1970-03`).
    BirthDate,
    /// `phone`: a phone or SMS contact point with the same digits.
    Phone,
    /// `email`: an e-mail contact point, ignoring case.
    Email,
    /// `address-postalcode`: any address's postal code starts with the value.
    PostalCode,
}

/// Most values one criterion may list (comma-separated alternatives).
pub const MAX_SEARCH_VALUES: usize = 10;
/// Most criteria one search may combine.
pub const MAX_SEARCH_CRITERIA: usize = 20;
/// Longest accepted search value, in bytes.
pub const MAX_SEARCH_VALUE_BYTES: usize = 200;
/// Most patients one page of search results holds.
pub const MAX_SEARCH_PAGE: usize = 100;

/// A patient search: every criterion must match, and within a criterion any one of its values.
/// Values are kept [`Sensitive`]: `Debug` shows none of them.
#[derive(Debug, Clone, Default)]
pub struct PatientSearch {
    criteria: Vec<(PatientParam, Vec<Sensitive<String>>)>,
}

/// One page of a patient search.
#[derive(Debug, Clone, Serialize)]
pub struct PatientPage {
    /// How many patients the caller may see match, over all pages.
    pub total: usize,
    /// The patients of this page, in the search's stable order (by id).
    pub patients: Vec<PatientVersionView>,
}

impl PatientSearch {
    /// An empty search: matches every patient the caller may see.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a criterion with its alternatives (already split on commas).
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] naming the parameter (never the value) when there are too
    /// many criteria or values, a value is too long, or it is not of the parameter's type
    /// (a UUID for `_id`, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` for `birthdate`).
    pub fn add(
        &mut self,
        param: PatientParam,
        code: &str,
        values: &[&str],
    ) -> Result<(), ClinicError> {
        if self.criteria.len() >= MAX_SEARCH_CRITERIA {
            return Err(ClinicError::bad("too many search parameters"));
        }
        if values.len() > MAX_SEARCH_VALUES {
            return Err(ClinicError::bad(format!("{code}: too many values")));
        }
        let mut kept = Vec::with_capacity(values.len());
        for v in values {
            if v.len() > MAX_SEARCH_VALUE_BYTES {
                return Err(ClinicError::bad(format!("{code}: value too long")));
            }
            let v = match param {
                PatientParam::BirthDate => v.strip_prefix("eq").unwrap_or(v),
                _ => v,
            };
            let valid = match param {
                PatientParam::Id => v.parse::<PatientId>().is_ok(),
                PatientParam::BirthDate => v.parse::<bedside_core::PartialDate>().is_ok(),
                _ => true,
            };
            if !valid {
                return Err(ClinicError::bad(format!(
                    "{code}: not a valid value for this parameter"
                )));
            }
            kept.push(Sensitive::new(v.to_string()));
        }
        self.criteria.push((param, kept));
        Ok(())
    }

    /// Whether `record` meets every criterion.
    pub fn matches(&self, record: &Patient) -> bool {
        self.criteria.iter().all(|(param, values)| {
            values
                .iter()
                .any(|v| param_matches(*param, v.expose(), record))
        })
    }

    /// The patients the most selective indexed criterion can match (a superset of the
    /// search's matches, sorted), or `None` when no criterion is indexed (no criteria).
    fn indexed_candidates(&self, index: &SearchIndex) -> Option<Vec<PatientId>> {
        self.criteria
            .iter()
            .filter_map(|(param, values)| {
                let values: Vec<&str> = values.iter().map(|v| v.expose().as_str()).collect();
                index.candidates(*param, &values)
            })
            .min_by_key(Vec::len)
    }

    /// The patient ids the search names with `_id`, if it names any (every `_id` criterion
    /// must hold, so the first one bounds the candidates).
    fn named_ids(&self) -> Option<Vec<PatientId>> {
        self.criteria
            .iter()
            .find(|(p, _)| *p == PatientParam::Id)
            .map(|(_, values)| {
                values
                    .iter()
                    .filter_map(|v| v.expose().parse().ok())
                    .collect()
            })
    }
}

fn starts_with_normalised(stored: &str, wanted: &str) -> bool {
    use bedside_records::matching::normalise_text;
    let wanted = normalise_text(wanted);
    !wanted.is_empty() && normalise_text(stored).starts_with(&wanted)
}

fn param_matches(param: PatientParam, value: &str, p: &Patient) -> bool {
    use bedside_records::model::TelecomSystem;
    let families = || p.names.iter().filter_map(|n| n.family.as_ref());
    let givens = || p.names.iter().flat_map(|n| n.given.iter());
    let telecom = |systems: &[TelecomSystem]| {
        p.telecom
            .iter()
            .filter(move |c| c.system.is_some_and(|s| systems.contains(&s)))
            .filter_map(|c| c.value.as_ref())
            .map(|v| v.expose().as_str())
            .collect::<Vec<_>>()
    };
    match param {
        PatientParam::Id => p.id.to_string() == value,
        PatientParam::Identifier => {
            let (system, wanted) = match value.split_once('|') {
                Some((s, v)) => (Some(s), v),
                None => (None, value),
            };
            p.identifiers.iter().any(|i| {
                i.value.as_ref().is_some_and(|v| v.expose() == wanted)
                    && system.is_none_or(|s| i.system.as_deref().unwrap_or("") == s)
            })
        }
        PatientParam::Name => p
            .names
            .iter()
            .flat_map(|n| n.text.iter().chain(n.family.iter()).chain(n.given.iter()))
            .any(|part| {
                // A text or family of several words matches on any of its words.
                part.expose()
                    .split_whitespace()
                    .any(|w| starts_with_normalised(w, value))
                    || starts_with_normalised(part.expose(), value)
            }),
        PatientParam::Family => families().any(|f| starts_with_normalised(f.expose(), value)),
        PatientParam::Given => givens().any(|g| starts_with_normalised(g.expose(), value)),
        PatientParam::BirthDate => p
            .birth_date
            .as_ref()
            .is_some_and(|d| d.expose().to_string().starts_with(value)),
        PatientParam::Phone => {
            let wanted = bedside_records::matching::digits_only(value);
            !wanted.is_empty()
                && telecom(&[TelecomSystem::Phone, TelecomSystem::Sms])
                    .iter()
                    .any(|v| bedside_records::matching::digits_only(v) == wanted)
        }
        PatientParam::Email => telecom(&[TelecomSystem::Email])
            .iter()
            .any(|v| v.eq_ignore_ascii_case(value)),
        PatientParam::PostalCode => p
            .addresses
            .iter()
            .filter_map(|a| a.postal_code.as_ref())
            .any(|c| starts_with_normalised(c.expose(), value)),
    }
}

impl Clinic {
    /// A page of the patients matching `search` that `principal` may read, ordered by id.
    ///
    /// Patients and proxies search only their own record. Every match is asked of the consent
    /// engine; those refused are left out of the page and of `total` alike, so the answer
    /// never shows that a hidden record exists. Each returned record's read is decided again
    /// and audited exactly as [`Clinic::patient`]'s; a page of `count` 0 returns only `total`
    /// and records nothing.
    ///
    /// # Errors
    /// Unauthenticated or forbidden by the endpoint's gate; a storage failure.
    pub fn search_patients(
        &self,
        principal: &Principal,
        search: &PatientSearch,
        offset: usize,
        count: usize,
    ) -> Result<PatientPage, ClinicError> {
        const CLASSES: &[DataClass] = &[DataClass::Demographics, DataClass::Contact];
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::FhirSearchPatient,
            Some(principal),
            principal.acting_for(),
        )?;
        let candidates: Vec<PatientId> = match (principal.acting_for(), search.named_ids()) {
            (Some(me), _) => vec![me],
            (None, Some(mut ids)) => {
                ids.sort();
                ids.dedup();
                ids
            }
            (None, None) => {
                let state = &mut inner.state;
                let registry = &state.registry;
                let index = state.search.get_or_insert_with(|| {
                    SearchIndex::build(
                        registry
                            .patients()
                            .filter_map(|id| registry.current(id).map(|r| (id, r))),
                    )
                });
                match search.indexed_candidates(index) {
                    Some(ids) => ids,
                    None => {
                        let mut all: Vec<PatientId> = registry.patients().collect();
                        all.sort();
                        all
                    }
                }
            }
        };
        let visible: Vec<PatientId> = candidates
            .into_iter()
            .filter(|id| {
                inner
                    .state
                    .registry
                    .current(*id)
                    .is_some_and(|r| search.matches(r))
                    && self.would_read(&inner, principal, *id, CLASSES)
            })
            .collect();
        let total = visible.len();
        let mut patients = Vec::new();
        for id in visible
            .into_iter()
            .skip(offset)
            .take(count.min(MAX_SEARCH_PAGE))
        {
            match self.authorize(&mut inner, principal, id, Action::Read, CLASSES, None) {
                Ok(()) => {}
                // Decided moments ago under the same lock, so a refusal cannot happen; were
                // it to, the record is left out rather than shown.
                Err(ClinicError::Forbidden { .. } | ClinicError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
            if let Some(v) = inner.state.registry.current_version(id) {
                patients.push(version_view(id, v));
            }
        }
        Ok(PatientPage { total, patients })
    }
}
