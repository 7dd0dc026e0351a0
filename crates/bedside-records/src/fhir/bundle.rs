//! FHIR R4 `Bundle`: entries keep their order, `fullUrl` and `request`, so a transaction bundle
//! (Synthea's format) exports exactly as it came in, with every `urn:uuid:` reference intact.
//! [`Bundle::records`] assembles the entries into patient records by resolving references.

use super::json::{Reader, Writer};
use super::{MAX_BUNDLE_ENTRIES, OtherResource, Resource, is_modelled_type, read_resource};
use crate::clinical::ClinicalEntry;
use crate::error::FhirError;
use crate::model::{Patient, Reference, Unmodelled};
use bedside_core::IdGenerator;
use serde_json::Value;

/// `Bundle.entry.request`: how a transaction applies the entry.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleRequest {
    /// HTTP method (`POST`, `PUT`, …).
    pub method: String,
    /// The target URL (`Patient`, `Patient/123`).
    pub url: String,
    /// Elements not modelled (`ifNoneExist`, …).
    pub unmodelled: Unmodelled,
}

/// One bundle entry.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleEntry {
    /// The entry's absolute URL (`urn:uuid:…` in transactions), which references resolve to.
    pub full_url: Option<String>,
    /// The resource.
    pub resource: Option<Resource>,
    /// The transaction request.
    pub request: Option<BundleRequest>,
    /// Elements not modelled (`search`, `response`, …).
    pub unmodelled: Unmodelled,
}

/// A FHIR `Bundle`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle's logical id.
    pub id: Option<String>,
    /// `type` (`transaction`, `collection`, `searchset`, …).
    pub type_: Option<String>,
    /// Entries, in order.
    pub entries: Vec<BundleEntry>,
    /// Entries whose resource is of a modelled type but could not be imported (a required
    /// element is missing), with the reason: they are carried through verbatim as
    /// [`Resource::Other`].
    pub rejected: Vec<(usize, FhirError)>,
    /// Elements not modelled.
    pub unmodelled: Unmodelled,
}

/// A patient with the related persons, coverages and clinical entries that refer to them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    /// The patient, with `related_persons` and `coverages` filled in from the bundle.
    pub patient: Patient,
    /// Clinical entries whose subject is the patient.
    pub clinical: Vec<ClinicalEntry>,
}

fn read_request(mut r: Reader<'_>) -> Option<BundleRequest> {
    let method = r.string("method");
    let url = r.string("url");
    match (method, url) {
        (Some(method), Some(url)) => Some(BundleRequest {
            method,
            url,
            unmodelled: r.finish(),
        }),
        _ => None,
    }
}

pub(crate) fn read_bundle(mut r: Reader<'_>, ids: &dyn IdGenerator) -> Result<Bundle, FhirError> {
    let count = r
        .peek("entry")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if count > MAX_BUNDLE_ENTRIES {
        return Err(FhirError::TooManyEntries {
            entries: count,
            limit: MAX_BUNDLE_ENTRIES,
        });
    }
    let id = r.string("id");
    let type_ = r.string("type");
    let base = r.path().to_string();
    let mut rejected: Vec<(usize, FhirError)> = Vec::new();
    let mut index = 0usize;
    let entries = r.objects("entry", |mut e| {
        let i = index;
        index += 1;
        let full_url = e.string("fullUrl");
        let request = e.object_try("request", read_request);
        let resource = match e.take_if("resource", Value::is_object) {
            Some(Value::Object(map))
                if map
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !is_modelled_type(t)) =>
            {
                // Carried through without a copy: most of a Synthea bundle is Observations,
                // Claims and the like.
                Some(Resource::Other(OtherResource {
                    resource_type: map
                        .get("resourceType")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    content: Unmodelled::new(map),
                }))
            }
            Some(Value::Object(map)) => {
                let path = format!("{base}.entry[{i}].resource");
                match read_resource(Value::Object(map.clone()), path, ids, e.notes_mut()) {
                    Ok(res) => Some(res),
                    Err(err) => {
                        // A malformed modelled resource is carried through verbatim and
                        // reported, rather than failing the whole bundle.
                        rejected.push((i, err));
                        Some(Resource::Other(OtherResource {
                            resource_type: map
                                .get("resourceType")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            content: Unmodelled::new(map),
                        }))
                    }
                }
            }
            _ => None,
        };
        BundleEntry {
            full_url,
            resource,
            request,
            unmodelled: e.finish(),
        }
    });
    Ok(Bundle {
        id,
        type_,
        entries,
        rejected,
        unmodelled: r.finish(),
    })
}

pub(crate) fn write_bundle(b: &Bundle) -> Value {
    let mut w = Writer::resource("Bundle");
    w.str("id", b.id.as_deref());
    w.str("type", b.type_.as_deref());
    let entries = b
        .entries
        .iter()
        .map(|e| {
            let mut ew = Writer::new();
            ew.str("fullUrl", e.full_url.as_deref());
            ew.value("resource", e.resource.as_ref().map(Resource::to_fhir));
            ew.value(
                "request",
                e.request.as_ref().map(|r| {
                    let mut rw = Writer::new();
                    rw.str("method", Some(&r.method));
                    rw.str("url", Some(&r.url));
                    rw.finish(&r.unmodelled)
                }),
            );
            ew.finish(&e.unmodelled)
        })
        .collect();
    w.list("entry", entries);
    w.finish(&b.unmodelled)
}

impl Bundle {
    /// A transaction bundle holding a patient, their related persons and coverages, and the
    /// given clinical entries, with `urn:uuid:` full URLs and `POST` requests.
    pub fn from_patient(patient: &Patient, clinical: &[ClinicalEntry]) -> Bundle {
        let mut entries = Vec::new();
        let mut push = |uuid: String, resource: Resource| {
            let resource_type = resource.resource_type().to_string();
            entries.push(BundleEntry {
                full_url: Some(format!("urn:uuid:{uuid}")),
                resource: Some(resource),
                request: Some(BundleRequest {
                    method: "POST".into(),
                    url: resource_type,
                    unmodelled: Unmodelled::default(),
                }),
                unmodelled: Unmodelled::default(),
            });
        };
        let mut bare = patient.clone();
        bare.related_persons.clear();
        bare.coverages.clear();
        push(patient.id.to_string(), Resource::Patient(Box::new(bare)));
        for r in &patient.related_persons {
            push(
                r.id.to_string(),
                Resource::RelatedPerson(Box::new(r.clone())),
            );
        }
        for c in &patient.coverages {
            push(c.id.to_string(), Resource::Coverage(Box::new(c.clone())));
        }
        for c in clinical {
            push(c.id.to_string(), Resource::Clinical(Box::new(c.clone())));
        }
        Bundle {
            id: None,
            type_: Some("transaction".into()),
            entries,
            rejected: Vec::new(),
            unmodelled: Unmodelled::default(),
        }
    }

    /// Entries whose resource is of a modelled type, and the number carried through verbatim.
    pub fn modelled_counts(&self) -> (usize, usize) {
        let modelled = self
            .entries
            .iter()
            .filter(|e| e.resource.as_ref().is_some_and(Resource::is_modelled))
            .count();
        let other = self
            .entries
            .iter()
            .filter(|e| e.resource.as_ref().is_some_and(|r| !r.is_modelled()))
            .count();
        (modelled, other)
    }

    /// Assembles patient records: every `Patient` entry, with the related persons, coverages
    /// (by beneficiary) and clinical entries (by subject) whose reference resolves to it, either
    /// through the entry's `fullUrl` or as `Patient/<id>`.
    pub fn records(&self) -> Vec<PatientRecord> {
        let mut records: Vec<(Vec<String>, PatientRecord)> = Vec::new();
        for e in &self.entries {
            if let Some(Resource::Patient(p)) = &e.resource {
                let mut keys = Vec::new();
                if let Some(u) = &e.full_url {
                    keys.push(u.clone());
                }
                if let Some(id) = p.logical_id.resolve(&p.id.to_string()) {
                    keys.push(format!("Patient/{id}"));
                }
                records.push((
                    keys,
                    PatientRecord {
                        patient: (**p).clone(),
                        clinical: Vec::new(),
                    },
                ));
            }
        }
        let find = |records: &mut Vec<(Vec<String>, PatientRecord)>, r: Option<&Reference>| {
            let target = r.and_then(|r| r.reference.clone())?;
            records
                .iter_mut()
                .position(|(keys, _)| keys.contains(&target))
        };
        for e in &self.entries {
            match &e.resource {
                Some(Resource::RelatedPerson(rp)) => {
                    if let Some(i) = find(&mut records, Some(&rp.patient)) {
                        records[i].1.patient.related_persons.push((**rp).clone());
                    }
                }
                Some(Resource::Coverage(c)) => {
                    if let Some(i) = find(&mut records, c.beneficiary.as_ref()) {
                        records[i].1.patient.coverages.push((**c).clone());
                    }
                }
                Some(Resource::Clinical(c)) => {
                    if let Some(i) = find(&mut records, Some(&c.subject)) {
                        records[i].1.clinical.push((**c).clone());
                    }
                }
                _ => {}
            }
        }
        records.into_iter().map(|(_, r)| r).collect()
    }
}
