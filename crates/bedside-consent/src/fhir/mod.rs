//! FHIR R4 `Consent` import and export (JSON).
//!
//! Mapping: `status`, `scope`, `category`, `patient`, `dateTime`, `organization`, `policyRule`
//! and the `provision` tree (`type`, `period`, `actor`, `action`, `securityLabel`, `purpose`,
//! `class`, `dataPeriod`, `data`, nested `provision`) are kept. Actions use the FHIR
//! `consentaction` codes (`access` = read, `collect` = create, `correct` = update, `disclose`),
//! plus Bedside codes for `export` and `contact`; data classes and channels use Bedside code
//! systems ([`DATA_CLASS_SYSTEM`], [`CHANNEL_EXTENSION`]). References whose id is not a UUID
//! (`Organization/f001`) get a stable UUID derived from the reference text, and the text is kept
//! so that export writes it back. Dates without a time are midnight UTC; a period's `end` date is
//! inclusive in FHIR and exclusive here, so it becomes the next midnight.
//!
//! Everything else is kept verbatim, not evaluated: narrative `text`, reference `display` strings,
//! `identifier`, `performer`, `verification`, `source*`, `meta`, extensions, `provision.code`,
//! elements this module has never heard of, and the original spelling of modelled values (a
//! `dateTime` with an offset, a second coding). [`import`] stores the resource in
//! [`FhirExtras::source`] (as [`Sensitive`]: it holds names and free text) and lists the paths
//! the engine does not evaluate in [`Imported::unmodelled`]. [`export`] writes the model and
//! merges it three ways with the stored resource: whatever the model still says as it did when
//! imported is written as the original spelled it, whatever changed since (a revoked status, a
//! removed or added provision) is written from the model, and unmodelled elements stay where
//! they were. Import followed by export therefore reproduces the resource exactly.

use crate::consent::{
    ActorRef, Consent, ConsentStatus, DataReference, FhirExtras, Provision, ProvisionActor,
    ProvisionType,
};
use crate::error::ConsentError;
use crate::vocab::{AccessChannel, Confidentiality, Purpose, SecurityLabel};
use bedside_core::code::system;
use bedside_core::{
    Coding, ConsentId, OrganisationId, PatientId, Period, ProviderId, RelatedPersonId, Sensitive,
    StaffId, Timestamp,
};
use bedside_fhir::json::coding_to_json;
use bedside_fhir::{ElementPath, FhirDateTime, FhirError, Limits, Precision};
use chrono::TimeDelta;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

mod codes;
mod merge;
use codes::{
    OPEN_CODE_EXPECTED, action_coding, action_from, class_from, class_system, default_category,
    default_policy_rule, default_role, default_scope,
};
use merge::merge;

/// FHIR consent action code system.
pub const CONSENT_ACTION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
/// Bedside action codes that FHIR lacks (`export`, `contact`), in the workspace's one
/// code-system namespace ([`bedside_fhir::CODE_SYSTEM_BASE`]).
pub const BEDSIDE_ACTION_SYSTEM: &str = "https://fhir.bedside.invalid/CodeSystem/consent-action";
/// Bedside data-class code system for the known [`DataClass`](crate::DataClass)es in `provision.class`. Open
/// classes use the FHIR systems of their kind ([`RESOURCE_TYPE_SYSTEM`], [`MIME_TYPE_SYSTEM`]).
pub const DATA_CLASS_SYSTEM: &str = "https://fhir.bedside.invalid/CodeSystem/data-class";
/// Extension URL carrying a contact channel on a provision, in the workspace's one extension
/// namespace ([`bedside_fhir::EXTENSION_BASE`]).
pub const CHANNEL_EXTENSION: &str =
    "https://fhir.bedside.invalid/StructureDefinition/consent-channel";
/// The system of FHIR resource types as `provision.class` codes.
pub const RESOURCE_TYPE_SYSTEM: &str = "http://hl7.org/fhir/resource-types";
/// The system of MIME types as `provision.class` codes.
pub const MIME_TYPE_SYSTEM: &str = "urn:ietf:bcp:13";
/// `Consent.scope` codes.
pub const CONSENT_SCOPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// HL7 v3 ParticipationType, the actor roles export writes when a provision actor has none.
pub const PARTICIPATION_TYPE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

/// Namespaces of Bedside codes before the workspace had one (still read, never written).
const LEGACY_ACTION_SYSTEM: &str = "https://bedside.example/fhir/CodeSystem/consent-action";
const LEGACY_DATA_CLASS_SYSTEM: &str = "https://bedside.example/fhir/CodeSystem/data-class";
const LEGACY_CHANNEL_EXTENSION: &str =
    "https://bedside.example/fhir/StructureDefinition/consent-channel";
/// Identifier system marking a `Practitioner` reference as a Bedside staff member.
pub const STAFF_IDENTIFIER_SYSTEM: &str = "urn:bedside:staff";

/// The result of [`import`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The consent.
    pub consent: Consent,
    /// Paths present in the input that the engine does not evaluate. They are kept verbatim in
    /// [`FhirExtras::source`] and written back by [`export`].
    pub unmodelled: Vec<String>,
}

/// The element path of `path` (dotted, relative to the resource) in a `Consent`.
fn element(path: &str) -> ElementPath {
    if path.is_empty() || path == "$" {
        ElementPath::root("Consent")
    } else {
        ElementPath::parse(&format!("Consent.{path}"))
    }
}

/// An error at `path` (relative to the resource) saying what was expected; never the input.
fn err(path: &str, expected: &'static str) -> ConsentError {
    ConsentError::Fhir(FhirError::invalid(&element(path), expected))
}

fn missing(path: &str) -> ConsentError {
    ConsentError::Fhir(FhirError::missing(&element(path)))
}

/// A stable UUID for a non-UUID id: the first 16 bytes of SHA-256 of `text`, marked as UUID v8.
pub fn derived_uuid(text: &str) -> Uuid {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

struct Reader {
    unmodelled: Vec<String>,
    aliases: Vec<(String, String)>,
}

impl Reader {
    fn id(&mut self, reference: &str, id: &str) -> Uuid {
        match Uuid::parse_str(id) {
            Ok(u) => u,
            Err(_) => {
                let u = derived_uuid(reference);
                let key = u.to_string();
                if !self.aliases.iter().any(|(k, _)| *k == key) {
                    self.aliases.push((key, reference.to_owned()));
                }
                u
            }
        }
    }

    fn reference(&mut self, v: &Value, path: &str) -> Result<(String, ActorRef), ConsentError> {
        let obj = v
            .as_object()
            .ok_or_else(|| err(path, "a Reference object"))?;
        for key in obj.keys() {
            if key != "reference" && key != "identifier" {
                self.unmodelled.push(format!("{path}.{key}"));
            }
        }
        let text = obj
            .get("reference")
            .and_then(Value::as_str)
            .ok_or_else(|| err(&format!("{path}.reference"), "a literal reference"))?;
        let (kind, id) = text
            .split_once('/')
            .ok_or_else(|| err(&format!("{path}.reference"), "a reference `Type/id`"))?;
        let staff = obj
            .get("identifier")
            .and_then(|i| i.get("system"))
            .and_then(Value::as_str)
            == Some(STAFF_IDENTIFIER_SYSTEM);
        let uuid = self.id(text, id);
        let actor = match kind {
            "Practitioner" if staff => ActorRef::Staff(StaffId::from_uuid(uuid)),
            "Practitioner" => ActorRef::Provider(ProviderId::from_uuid(uuid)),
            "Organization" => ActorRef::Organisation(OrganisationId::from_uuid(uuid)),
            "RelatedPerson" => ActorRef::RelatedPerson(RelatedPersonId::from_uuid(uuid)),
            "Patient" => ActorRef::Patient(PatientId::from_uuid(uuid)),
            _ => {
                return Err(err(
                    &format!("{path}.reference"),
                    "a Practitioner, Organization, RelatedPerson or Patient reference",
                ));
            }
        };
        Ok((text.to_owned(), actor))
    }

    fn coding(&mut self, v: &Value, path: &str) -> Result<Coding, ConsentError> {
        let obj = v.as_object().ok_or_else(|| err(path, "a Coding"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "system" | "code" | "display") {
                self.unmodelled.push(format!("{path}.{key}"));
            }
        }
        let system = obj
            .get("system")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let code = obj
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(|| missing(&format!("{path}.code")))?;
        let mut c = Coding::new(system, code);
        if let Some(d) = obj.get("display").and_then(Value::as_str) {
            c.display = Some(d.to_owned());
        }
        Ok(c)
    }

    /// The codings of a CodeableConcept (each concept's codings, in order).
    fn concept(&mut self, v: &Value, path: &str) -> Result<Vec<Coding>, ConsentError> {
        let obj = v
            .as_object()
            .ok_or_else(|| err(path, "a CodeableConcept"))?;
        if obj.contains_key("text") {
            self.unmodelled.push(format!("{path}.text"));
        }
        let mut out = Vec::new();
        for (i, c) in array(obj.get("coding"), &format!("{path}.coding"))?
            .iter()
            .enumerate()
        {
            out.push(self.coding(c, &format!("{path}.coding[{i}]"))?);
        }
        Ok(out)
    }

    // Not split: one arm per FHIR element of `Consent.provision`, read top to bottom.
    fn provision(
        &mut self,
        v: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Provision, ConsentError> {
        if depth > crate::decision::ProvisionPath::MAX_DEPTH {
            return Err(err(path, "provisions nested at most 6 levels deep"));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| err(path, "a provision object"))?;
        let mut p = Provision::default();
        for (key, value) in obj {
            let kpath = format!("{path}.{key}");
            match key.as_str() {
                "type" => {
                    p.kind = Some(match value.as_str() {
                        Some("permit") => ProvisionType::Permit,
                        Some("deny") => ProvisionType::Deny,
                        _ => return Err(err(&kpath, "`permit` or `deny`")),
                    });
                }
                "period" => p.period = Some(period(value, &kpath)?),
                "dataPeriod" => p.data_period = Some(period(value, &kpath)?),
                "actor" => {
                    for (i, a) in array(Some(value), &kpath)?.iter().enumerate() {
                        let apath = format!("{kpath}[{i}]");
                        let role = match a.get("role") {
                            Some(r) => self
                                .concept(r, &format!("{apath}.role"))?
                                .into_iter()
                                .next(),
                            None => None,
                        };
                        let reference = a
                            .get("reference")
                            .ok_or_else(|| missing(&format!("{apath}.reference")))?;
                        let (_, reference) =
                            self.reference(reference, &format!("{apath}.reference"))?;
                        // The role export derives for this kind of actor is not stored, so
                        // a consent built without roles survives export and import unchanged.
                        let role = role.filter(|r| *r != default_role(&reference));
                        p.actors.push(ProvisionActor {
                            role: role.map(Box::new),
                            reference,
                        });
                    }
                }
                "action" => {
                    for (i, a) in array(Some(value), &kpath)?.iter().enumerate() {
                        for c in self.concept(a, &format!("{kpath}[{i}]"))? {
                            p.actions.insert(action_from(&c).ok_or_else(|| {
                                err(&format!("{kpath}[{i}]"), "a supported consent action")
                            })?);
                        }
                    }
                }
                "purpose" => {
                    for (i, c) in array(Some(value), &kpath)?.iter().enumerate() {
                        let c = self.coding(c, &format!("{kpath}[{i}]"))?;
                        let purpose = (c.system == system::ACT_REASON)
                            .then(|| Purpose::from_code(&c.code))
                            .flatten()
                            .ok_or_else(|| {
                                err(&format!("{kpath}[{i}]"), "a supported purpose of use")
                            })?;
                        p.purposes.insert(purpose);
                    }
                }
                "securityLabel" => {
                    for (i, c) in array(Some(value), &kpath)?.iter().enumerate() {
                        let c = self.coding(c, &format!("{kpath}[{i}]"))?;
                        if c.system == system::CONFIDENTIALITY {
                            let conf = Confidentiality::from_code(&c.code).ok_or_else(|| {
                                err(&format!("{kpath}[{i}]"), "confidentiality N, R or V")
                            })?;
                            p.confidentiality.push(conf);
                        } else {
                            // Open: any label code is kept and matched by its text.
                            let label = SecurityLabel::open(&c.code)
                                .ok_or_else(|| err(&format!("{kpath}[{i}]"), OPEN_CODE_EXPECTED))?;
                            p.labels.insert(label);
                        }
                    }
                }
                "class" => {
                    for (i, c) in array(Some(value), &kpath)?.iter().enumerate() {
                        let c = self.coding(c, &format!("{kpath}[{i}]"))?;
                        let class = class_from(&c)
                            .ok_or_else(|| err(&format!("{kpath}[{i}]"), OPEN_CODE_EXPECTED))?;
                        p.classes.insert(class);
                    }
                }
                "data" => {
                    for (i, d) in array(Some(value), &kpath)?.iter().enumerate() {
                        let dpath = format!("{kpath}[{i}]");
                        let meaning = d
                            .get("meaning")
                            .and_then(Value::as_str)
                            .ok_or_else(|| missing(&format!("{dpath}.meaning")))?;
                        let reference = d
                            .get("reference")
                            .and_then(|r| r.get("reference"))
                            .and_then(Value::as_str)
                            .ok_or_else(|| missing(&format!("{dpath}.reference")))?;
                        p.data.push(DataReference {
                            meaning: meaning.to_owned(),
                            reference: reference.to_owned(),
                        });
                    }
                }
                "extension" => {
                    for (i, e) in array(Some(value), &kpath)?.iter().enumerate() {
                        let url = e.get("url").and_then(Value::as_str);
                        if url == Some(CHANNEL_EXTENSION) || url == Some(LEGACY_CHANNEL_EXTENSION) {
                            let code = e
                                .get("valueCode")
                                .and_then(Value::as_str)
                                .unwrap_or_default();
                            let channel = AccessChannel::from_code(code).ok_or_else(|| {
                                err(&format!("{kpath}[{i}]"), "a Bedside channel code")
                            })?;
                            p.channels.insert(channel);
                        } else {
                            self.unmodelled.push(format!("{kpath}[{i}]"));
                        }
                    }
                }
                "provision" => {
                    for (i, child) in array(Some(value), &kpath)?.iter().enumerate() {
                        p.provisions.push(self.provision(
                            child,
                            &format!("{kpath}[{i}]"),
                            depth + 1,
                        )?);
                    }
                }
                _ => self.unmodelled.push(kpath),
            }
        }
        Ok(p)
    }
}

fn array<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a [Value], ConsentError> {
    match v {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ConsentError::Fhir(FhirError::wrong_type(
            &element(path),
            "an array",
        ))),
    }
}

/// A FHIR `date` or `dateTime` as an instant; an `end` date (inclusive in FHIR) becomes the
/// exclusive midnight after it. All arithmetic is checked: a date whose end cannot be
/// represented is the same invalid-date error as a date that does not parse.
fn instant(v: &str, path: &str, end: bool) -> Result<Timestamp, ConsentError> {
    let invalid = || err(path, "a FHIR date or dateTime");
    let d = FhirDateTime::parse(v).ok_or_else(invalid)?;
    let t = if end && d.precision() != Precision::Time {
        d.end_exclusive()
    } else {
        d.start()
    };
    t.ok_or_else(invalid)
}

fn period(v: &Value, path: &str) -> Result<Period, ConsentError> {
    let start = match v.get("start").and_then(Value::as_str) {
        Some(s) => instant(s, &format!("{path}.start"), false)?,
        None => Timestamp::MIN_UTC,
    };
    let end = match v.get("end").and_then(Value::as_str) {
        Some(s) => instant(s, &format!("{path}.end"), true)?,
        None => Timestamp::MAX_UTC,
    };
    Period::new(start, end).map_err(|_| err(path, "a period that ends after it starts"))
}

fn write_instant(t: Timestamp, end: bool) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        // Midnight is written as a date; an exclusive end becomes the inclusive day before.
        let day = if end {
            t.checked_sub_signed(TimeDelta::days(1)).unwrap_or(t)
        } else {
            t
        };
        day.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

fn write_period(p: &Period) -> Value {
    let mut m = Map::new();
    if p.start() != Timestamp::MIN_UTC {
        m.insert(
            "start".into(),
            Value::String(write_instant(p.start(), false)),
        );
    }
    if p.end() != Timestamp::MAX_UTC {
        m.insert("end".into(), Value::String(write_instant(p.end(), true)));
    }
    Value::Object(m)
}

/// Imports one FHIR R4 `Consent` resource.
///
/// # Errors
/// [`ConsentError::Fhir`] with the path of the first element that cannot be read (not JSON,
/// over the input limits, not a Consent, unsupported codes or references, an invalid date).
/// The error never contains input text.
pub fn import(json: &[u8]) -> Result<Imported, ConsentError> {
    let v = Value::Object(Limits::default().parse_resource(json)?);
    let mut imported = read(&v)?;
    if let Some(extras) = imported.consent.fhir.as_deref_mut() {
        extras.source = Some(Sensitive::new(v));
    }
    Ok(imported)
}

/// Reads the model from a parsed resource (without storing the source).
fn read(v: &Value) -> Result<Imported, ConsentError> {
    let obj = v.as_object().ok_or_else(|| err("$", "an object"))?;
    if obj.get("resourceType").and_then(Value::as_str) != Some("Consent") {
        return Err(ConsentError::Fhir(FhirError::new(
            element("resourceType"),
            bedside_fhir::Problem::WrongResourceType {
                expected: "Consent",
            },
        )));
    }
    let mut r = Reader {
        unmodelled: Vec::new(),
        aliases: Vec::new(),
    };
    let mut fhir = FhirExtras::default();
    let mut status = None;
    let mut patient = None;
    let mut provision = None;
    for (key, value) in obj {
        match key.as_str() {
            "resourceType" => {}
            "id" => fhir.logical_id = value.as_str().map(str::to_owned),
            "status" => {
                status = Some(
                    value
                        .as_str()
                        .and_then(ConsentStatus::from_code)
                        .ok_or_else(|| err("status", "a Consent status code"))?,
                );
            }
            "scope" => fhir.scope = r.concept(value, "scope")?.into_iter().next(),
            "category" => {
                for (i, c) in array(Some(value), "category")?.iter().enumerate() {
                    fhir.category
                        .extend(r.concept(c, &format!("category[{i}]"))?);
                }
            }
            "patient" => {
                let (_, actor) = r.reference(value, "patient")?;
                match actor {
                    ActorRef::Patient(p) => patient = Some(p),
                    _ => return Err(err("patient.reference", "a Patient reference")),
                }
            }
            "dateTime" => fhir.date_time = value.as_str().map(str::to_owned),
            "organization" => {
                for (i, o) in array(Some(value), "organization")?.iter().enumerate() {
                    let (text, _) = r.reference(o, &format!("organization[{i}]"))?;
                    fhir.organization.push(text);
                }
            }
            "policyRule" => fhir.policy_rule = r.concept(value, "policyRule")?,
            "provision" => provision = Some(r.provision(value, "provision", 0)?),
            _ => r.unmodelled.push(key.clone()),
        }
    }
    let id = match &fhir.logical_id {
        Some(text) => {
            Uuid::parse_str(text).unwrap_or_else(|_| derived_uuid(&format!("Consent/{text}")))
        }
        None => return Err(missing("id")),
    };
    let default_type = if fhir.policy_rule.iter().any(|c| c.code == "OPTOUT") {
        ProvisionType::Deny
    } else {
        ProvisionType::Permit
    };
    fhir.aliases = r.aliases;
    let consent = Consent {
        id: ConsentId::from_uuid(id),
        patient: patient.ok_or_else(|| missing("patient"))?,
        status: status.ok_or_else(|| missing("status"))?,
        default_type,
        provision: provision.unwrap_or_default(),
        fhir: Some(Box::new(fhir)),
    };
    consent.validate()?;
    Ok(Imported {
        consent,
        unmodelled: r.unmodelled,
    })
}

fn concept(codings: &[Coding]) -> Value {
    json!({ "coding": codings.iter().map(coding_to_json).collect::<Vec<_>>() })
}

fn reference_text(consent: &Consent, kind: &str, uuid: Uuid) -> String {
    let key = uuid.to_string();
    consent
        .fhir
        .as_deref()
        .into_iter()
        .flat_map(|f| f.aliases.iter())
        .find(|(k, _)| *k == key)
        .map_or_else(|| format!("{kind}/{uuid}"), |(_, v)| v.clone())
}

fn write_actor(consent: &Consent, a: &ActorRef) -> Value {
    let (kind, uuid) = match a {
        ActorRef::Staff(id) => ("Practitioner", id.as_uuid()),
        ActorRef::Provider(id) => ("Practitioner", id.as_uuid()),
        ActorRef::Organisation(id) => ("Organization", id.as_uuid()),
        ActorRef::RelatedPerson(id) => ("RelatedPerson", id.as_uuid()),
        ActorRef::Patient(id) => ("Patient", id.as_uuid()),
    };
    let mut m = Map::new();
    m.insert(
        "reference".into(),
        Value::String(reference_text(consent, kind, uuid)),
    );
    if matches!(a, ActorRef::Staff(_)) {
        m.insert(
            "identifier".into(),
            json!({ "system": STAFF_IDENTIFIER_SYSTEM, "value": uuid.to_string() }),
        );
    }
    Value::Object(m)
}

// Not split: writes the elements of `Consent.provision` in FHIR order, one block each.
fn write_provision(consent: &Consent, p: &Provision) -> Value {
    let mut m = Map::new();
    if let Some(kind) = p.kind {
        m.insert(
            "type".into(),
            Value::String(
                if kind == ProvisionType::Permit {
                    "permit"
                } else {
                    "deny"
                }
                .into(),
            ),
        );
    }
    if let Some(period) = &p.period {
        m.insert("period".into(), write_period(period));
    }
    if !p.actors.is_empty() {
        let actors = p
            .actors
            .iter()
            .map(|a| {
                let mut am = Map::new();
                let role = a
                    .role
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| default_role(&a.reference));
                am.insert("role".into(), concept(std::slice::from_ref(&role)));
                am.insert("reference".into(), write_actor(consent, &a.reference));
                Value::Object(am)
            })
            .collect();
        m.insert("actor".into(), Value::Array(actors));
    }
    if !p.actions.is_empty() {
        let actions = p
            .actions
            .iter()
            .map(|a| {
                let (s, c) = action_coding(a);
                json!({ "coding": [{ "system": s, "code": c }] })
            })
            .collect();
        m.insert("action".into(), Value::Array(actions));
    }
    if !p.labels.is_empty() || !p.confidentiality.is_empty() {
        let mut labels: Vec<Value> = p
            .labels
            .iter()
            .map(|l| json!({ "system": system::ACT_CODE, "code": l.code() }))
            .collect();
        labels.extend(
            p.confidentiality
                .iter()
                .map(|c| json!({ "system": system::CONFIDENTIALITY, "code": c.code() })),
        );
        m.insert("securityLabel".into(), Value::Array(labels));
    }
    if !p.purposes.is_empty() {
        m.insert(
            "purpose".into(),
            Value::Array(
                p.purposes
                    .iter()
                    .map(|x| json!({ "system": system::ACT_REASON, "code": x.code() }))
                    .collect(),
            ),
        );
    }
    if !p.classes.is_empty() {
        m.insert(
            "class".into(),
            Value::Array(
                p.classes
                    .iter()
                    .map(|x| json!({ "system": class_system(x), "code": x.code() }))
                    .collect(),
            ),
        );
    }
    if let Some(dp) = &p.data_period {
        m.insert("dataPeriod".into(), write_period(dp));
    }
    if !p.data.is_empty() {
        m.insert(
            "data".into(),
            Value::Array(p.data.iter().map(|d| json!({ "meaning": d.meaning, "reference": { "reference": d.reference } })).collect()),
        );
    }
    if !p.channels.is_empty() {
        m.insert(
            "extension".into(),
            Value::Array(
                p.channels
                    .iter()
                    .map(|c| json!({ "url": CHANNEL_EXTENSION, "valueCode": c.code() }))
                    .collect(),
            ),
        );
    }
    if !p.provisions.is_empty() {
        m.insert(
            "provision".into(),
            Value::Array(
                p.provisions
                    .iter()
                    .map(|c| write_provision(consent, c))
                    .collect(),
            ),
        );
    }
    Value::Object(m)
}

/// Exports a consent as a FHIR R4 `Consent` resource.
///
/// An imported consent keeps its source resource: the result is the model merged into it (see
/// the [module documentation](self)), so unchanged consents come back exactly as imported.
pub fn export(consent: &Consent) -> Value {
    let ours = write(consent);
    let Some(source) = consent.fhir.as_deref().and_then(|f| f.source.as_ref()) else {
        return ours;
    };
    let source = source.expose();
    // The model as it was imported, written the same way: the common ancestor of `ours` and
    // `source`. A source that no longer imports (edited by hand after storage) cannot be merged
    // safely, so the model alone is written.
    match read(source) {
        Ok(base) => merge(&write(&base.consent), &ours, source, "", &base.unmodelled),
        Err(_) => ours,
    }
}

/// Whether the imported resource names a `policy` (which satisfies ppc-1 without a rule).
fn has_policy(extras: &FhirExtras) -> bool {
    extras
        .source
        .as_ref()
        .is_some_and(|s| s.expose().get("policy").is_some())
}

/// Writes the model alone.
fn write(consent: &Consent) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), Value::String("Consent".into()));
    let no_extras = FhirExtras::default();
    let extras = consent.fhir.as_deref().unwrap_or(&no_extras);
    let id = extras
        .logical_id
        .clone()
        .unwrap_or_else(|| consent.id.to_string());
    m.insert("id".into(), Value::String(id));
    m.insert("status".into(), Value::String(consent.status.code().into()));
    // Required in R4: derived from the domain when the consent does not carry them.
    let scope = extras
        .scope
        .clone()
        .unwrap_or_else(|| default_scope(consent));
    m.insert("scope".into(), concept(std::slice::from_ref(&scope)));
    let category = if extras.category.is_empty() {
        vec![default_category()]
    } else {
        extras.category.clone()
    };
    m.insert(
        "category".into(),
        Value::Array(
            category
                .iter()
                .map(|c| concept(std::slice::from_ref(c)))
                .collect(),
        ),
    );
    m.insert(
        "patient".into(),
        json!({ "reference": reference_text(consent, "Patient", consent.patient.as_uuid()) }),
    );
    if let Some(dt) = &extras.date_time {
        m.insert("dateTime".into(), Value::String(dt.clone()));
    }
    if !extras.organization.is_empty() {
        m.insert(
            "organization".into(),
            Value::Array(
                extras
                    .organization
                    .iter()
                    .map(|o| json!({ "reference": o }))
                    .collect(),
            ),
        );
    }
    if !extras.policy_rule.is_empty() {
        m.insert("policyRule".into(), concept(&extras.policy_rule));
    } else if !has_policy(extras) {
        m.insert(
            "policyRule".into(),
            concept(&[default_policy_rule(consent)]),
        );
    }
    m.insert(
        "provision".into(),
        write_provision(consent, &consent.provision),
    );
    Value::Object(m)
}
