//! FHIR R4 `Bundle`: entries keep their order, `fullUrl` and `request`, so a transaction bundle
//! (Synthea's format) exports exactly as it came in, with every `urn:uuid:` reference intact.
//! [`Bundle::records`] assembles the entries into patient records by resolving references.
//! [`Bundle::from_patient`] builds a transaction through [`bedside_fhir::bundle::Transaction`],
//! so its entries reference each other by `fullUrl`.

use super::{OtherResource, Resource, is_modelled_type, read_resource};
use crate::clinical::ClinicalEntry;
use crate::error::FhirError;
use crate::model::{Patient, Reference, Unmodelled};
use bedside_core::IdGenerator;
use bedside_fhir::bundle::{Method, Transaction};
use bedside_fhir::{ElementPath, Reader, Writer};
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

/// Reads a bundle; the number of entries was bounded by [`bedside_fhir::Limits`] before.
pub(crate) fn read_bundle(mut r: Reader<'_>, ids: &dyn IdGenerator) -> Bundle {
    let id = r.string("id");
    let type_ = r.string("type");
    let base = r.child_path("entry");
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
                let path = base.index(i).child("resource");
                match read_resource(Value::Object(map.clone()), Some(path), ids, e.notes_mut()) {
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
    Bundle {
        id,
        type_,
        entries,
        rejected,
        unmodelled: r.finish(),
    }
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
    /// given clinical entries, with `urn:uuid:` full URLs (the typed ids) and `POST` requests.
    /// Every reference to an entry — `Patient/<id>` by typed or logical id — is rewritten to
    /// that entry's full URL, as R4 requires of transactions; a coverage without a
    /// beneficiary gets the patient.
    pub fn from_patient(patient: &Patient, clinical: &[ClinicalEntry]) -> Bundle {
        let mut bare = patient.clone();
        bare.related_persons.clear();
        bare.coverages.clear();
        let mut resources = vec![(patient.id.as_uuid(), Resource::Patient(Box::new(bare)))];
        for r in &patient.related_persons {
            let resource = Resource::RelatedPerson(Box::new(r.clone()));
            resources.push((r.id.as_uuid(), resource));
        }
        for c in &patient.coverages {
            let mut c = c.clone();
            if c.beneficiary.is_none() {
                c.beneficiary = Some(Reference::relative("Patient", patient.id));
            }
            resources.push((c.id.as_uuid(), Resource::Coverage(Box::new(c))));
        }
        for c in clinical {
            resources.push((c.id.as_uuid(), Resource::Clinical(Box::new(c.clone()))));
        }
        // References name entries by typed id (`Patient/<uuid>`); a resource whose logical id
        // is another text is exported under that id, so point those references at it first.
        let aliases: Vec<(String, String)> = resources
            .iter()
            .filter_map(|(uuid, r)| {
                let logical = logical_id(r)?;
                let t = r.resource_type();
                (logical != uuid.to_string())
                    .then(|| (format!("{t}/{uuid}"), format!("{t}/{logical}")))
            })
            .collect();
        let mut tx = Transaction::new();
        for (uuid, r) in &resources {
            let mut json = r.to_fhir();
            alias_references(&mut json, &aliases);
            tx.add(*uuid, json, Method::Post);
        }
        let rewritten = tx.finish();
        let json_entries = rewritten
            .get("entry")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entries = resources
            .into_iter()
            .zip(json_entries)
            .map(|((_, original), json)| {
                let full_url = json
                    .get("fullUrl")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let resource = json
                    .get("resource")
                    .cloned()
                    .and_then(|r| reread(r, &original))
                    .unwrap_or(original);
                let url = resource.resource_type().to_string();
                BundleEntry {
                    full_url,
                    resource: Some(resource),
                    request: Some(BundleRequest {
                        method: "POST".into(),
                        url,
                        unmodelled: Unmodelled::default(),
                    }),
                    unmodelled: Unmodelled::default(),
                }
            })
            .collect();
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

/// The FHIR id a resource is exported under.
fn logical_id(r: &Resource) -> Option<String> {
    match r {
        Resource::Patient(p) => p.logical_id.resolve(&p.id.to_string()),
        Resource::RelatedPerson(p) => p.logical_id.resolve(&p.id.to_string()),
        Resource::Coverage(c) => c.logical_id.resolve(&c.id.to_string()),
        Resource::Clinical(c) => c.logical_id.resolve(&c.id.to_string()),
        _ => None,
    }
}

/// Rewrites every literal `reference` equal to an alias's first text into its second.
fn alias_references(v: &mut Value, aliases: &[(String, String)]) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match child {
                    Value::String(s) if k == "reference" => {
                        if let Some((_, to)) = aliases.iter().find(|(from, _)| from == s) {
                            *s = to.clone();
                        }
                    }
                    _ => alias_references(child, aliases),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| alias_references(i, aliases)),
        _ => {}
    }
}

/// No ids are generated when re-reading an exported resource: the typed id is restored from
/// the original afterwards.
struct NoIds;

impl IdGenerator for NoIds {
    fn next_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::nil()
    }
}

/// Reads a rewritten export back into the model, with the original's typed id. Export and
/// import are lossless, so only the rewritten references differ from `original`.
fn reread(json: Value, original: &Resource) -> Option<Resource> {
    let mut notes: Vec<ElementPath> = Vec::new();
    let mut back = read_resource(json, None, &NoIds, &mut notes).ok()?;
    match (&mut back, original) {
        (Resource::Patient(b), Resource::Patient(o)) => b.id = o.id,
        (Resource::RelatedPerson(b), Resource::RelatedPerson(o)) => b.id = o.id,
        (Resource::Coverage(b), Resource::Coverage(o)) => b.id = o.id,
        (Resource::Clinical(b), Resource::Clinical(o)) => b.id = o.id,
        _ => return None,
    }
    Some(back)
}
