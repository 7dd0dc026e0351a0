//! FHIR R4 `AllergyIntolerance`, `Condition`, `Encounter`, `MedicationStatement` and
//! `DocumentReference`, with security labels in `meta.security`.

use super::{claim_extensions, data_absent, ext_url_only, take_absent, write_required};
use crate::clinical::*;
use crate::model::{LogicalId, Unmodelled};
use bedside_core::{IdGenerator, IdGeneratorExt, Sensitive, code};
use bedside_fhir::codes::{extension_url, from_code, to_code};
use bedside_fhir::json::{coding_from_json, coding_to_json};
use bedside_fhir::{Reader, Writer};
use serde_json::{Map, Value, json};

const CRITICALITY: &[(Criticality, &str)] = &[
    (Criticality::Low, "low"),
    (Criticality::High, "high"),
    (Criticality::UnableToAssess, "unable-to-assess"),
];
const SEVERITY: &[(ReactionSeverity, &str)] = &[
    (ReactionSeverity::Mild, "mild"),
    (ReactionSeverity::Moderate, "moderate"),
    (ReactionSeverity::Severe, "severe"),
];

fn ext_discharge_instructions() -> String {
    extension_url("discharge-instructions")
}
fn ext_follow_up_plan() -> String {
    extension_url("follow-up-plan")
}

/// The resource types imported as clinical entries.
pub(crate) const CLINICAL_TYPES: [&str; 5] = [
    "AllergyIntolerance",
    "Condition",
    "Encounter",
    "MedicationStatement",
    "DocumentReference",
];

fn subject_key(resource_type: &str) -> &'static str {
    if resource_type == "AllergyIntolerance" {
        "patient"
    } else {
        "subject"
    }
}

/// Splits `meta.security` into labels Bedside understands and the rest. Export writes the
/// unrecognised labels first, then sensitivity, then confidentiality; an input ordered
/// differently is kept verbatim instead, so the round trip stays exact.
fn read_meta(r: &mut Reader<'_>) -> (SecurityLabels, Unmodelled) {
    let non_empty_object = |v: &Value| v.as_object().is_some_and(|o| !o.is_empty());
    let Some(Value::Object(mut meta)) = r.take_if("meta", non_empty_object) else {
        return (SecurityLabels::default(), Unmodelled::default());
    };
    let mut labels = SecurityLabels::default();
    if let Some(Value::Array(items)) = meta.get("security") {
        let mut rest = Vec::new();
        for item in items {
            match coding_from_json(item) {
                Some(c) if c.system == code::system::ACT_CODE => labels.sensitivity.push(c),
                Some(c)
                    if c.system == code::system::CONFIDENTIALITY
                        && c.display.is_none()
                        && labels.confidentiality.is_none()
                        && Confidentiality::from_code(&c.code).is_some() =>
                {
                    labels.confidentiality = Confidentiality::from_code(&c.code);
                }
                _ => rest.push(item.clone()),
            }
        }
        let mut expected = rest.clone();
        expected.extend(labels.sensitivity.iter().map(coding_to_json));
        if let Some(level) = labels.confidentiality {
            expected.push(coding_to_json(&level.coding()));
        }
        let claimed_any = rest.len() < items.len();
        if claimed_any && &expected == items {
            if rest.is_empty() {
                meta.remove("security");
            } else {
                meta.insert("security".into(), Value::Array(rest));
            }
        } else {
            // Nothing recognised, or an order export would not reproduce: keep it verbatim.
            labels = SecurityLabels::default();
        }
    }
    (labels, Unmodelled::new(meta))
}

fn write_meta(w: &mut Writer, labels: &SecurityLabels, kept: &Unmodelled) {
    let mut security: Vec<Value> = labels.sensitivity.iter().map(coding_to_json).collect();
    if let Some(level) = labels.confidentiality {
        security.push(coding_to_json(&level.coding()));
    }
    if security.is_empty() && kept.is_empty() {
        return;
    }
    let mut meta = Writer::new();
    meta.list("security", security);
    w.value("meta", Some(meta.finish(kept)));
}

fn read_reaction(mut r: Reader<'_>) -> Reaction {
    Reaction {
        substance: r.concept("substance"),
        manifestation: r.concepts("manifestation"),
        description: r.sensitive("description"),
        onset: r.date_time("onset"),
        severity: r.parsed("severity", |s| from_code(SEVERITY, s)),
        unmodelled: r.finish(),
    }
}

fn write_reaction(x: &Reaction) -> Value {
    let mut w = Writer::new();
    w.concept("substance", x.substance.as_ref());
    w.concepts("manifestation", &x.manifestation);
    w.sensitive("description", x.description.as_ref());
    w.date_time("onset", x.onset.as_ref());
    w.str("severity", x.severity.map(|s| to_code(SEVERITY, &s)));
    w.finish(&x.unmodelled)
}

fn read_encounter(r: &mut Reader<'_>) -> Encounter {
    let di = ext_discharge_instructions();
    let fu = ext_follow_up_plan();
    let claimed = claim_extensions(r, |u| u == di || u == fu);
    let url_of = |e: &Value| e.get("url").and_then(Value::as_str).map(str::to_string);
    let text_of = |e: &Value| {
        e.get("valueString")
            .and_then(Value::as_str)
            .filter(|_| ext_url_only(e, &["valueString"]))
            .map(|s| Sensitive::new(s.to_string()))
    };
    // Export writes instructions, then plan, one of each: anything else is kept verbatim.
    let urls: Vec<Option<String>> = claimed.iter().map(url_of).collect();
    let well_formed = claimed.iter().all(|e| text_of(e).is_some())
        && (urls == [Some(di.clone())]
            || urls == [Some(fu.clone())]
            || urls == [Some(di.clone()), Some(fu.clone())]);
    let (mut instructions, mut follow_up) = (None, None);
    if well_formed {
        for e in &claimed {
            if url_of(e).as_deref() == Some(di.as_str()) {
                instructions = text_of(e);
            } else {
                follow_up = text_of(e);
            }
        }
    } else if !claimed.is_empty() {
        r.give_back("extension", Value::Array(claimed));
    }
    let mut hospitalization_unmodelled = Unmodelled::default();
    // An empty `hospitalization` would not be written back, so it stays unmodelled.
    let has_hospitalization = r
        .peek("hospitalization")
        .and_then(Value::as_object)
        .is_some_and(|o| !o.is_empty());
    let discharge_disposition = has_hospitalization
        .then(|| {
            r.object("hospitalization", |mut h| {
                let d = h.concept("dischargeDisposition");
                hospitalization_unmodelled = h.finish();
                d
            })
        })
        .flatten()
        .flatten();
    take_absent(r, "class", &data_absent());
    Encounter {
        status: r.string("status"),
        class: r.coding("class"),
        types: r.concepts("type"),
        participants: r.objects("participant", |mut p| EncounterParticipant {
            types: p.concepts("type"),
            individual: p.reference("individual"),
            period: p.period("period"),
            unmodelled: p.finish(),
        }),
        period: r.period("period"),
        reasons: r.concepts("reasonCode"),
        discharge_disposition,
        discharge_instructions: instructions,
        follow_up_plan: follow_up,
        service_provider: r.reference("serviceProvider"),
        hospitalization_unmodelled,
    }
}

fn write_encounter(w: &mut Writer, e: &Encounter, kept: &Unmodelled) {
    let mut exts = Vec::new();
    if let Some(t) = &e.discharge_instructions {
        exts.push(json!({"url": ext_discharge_instructions(), "valueString": t.expose()}));
    }
    if let Some(t) = &e.follow_up_plan {
        exts.push(json!({"url": ext_follow_up_plan(), "valueString": t.expose()}));
    }
    w.list("extension", exts);
    match e.status.as_deref() {
        Some(s) => w.str("status", Some(s)),
        None => write_required(w, kept, &[], "status", json!("unknown")),
    }
    match &e.class {
        Some(c) => w.value("class", Some(coding_to_json(c))),
        None => write_required(w, kept, &[], "class", data_absent()),
    }
    w.concepts("type", &e.types);
    w.list(
        "participant",
        e.participants
            .iter()
            .map(|p| {
                let mut pw = Writer::new();
                pw.concepts("type", &p.types);
                pw.reference("individual", p.individual.as_ref());
                pw.period("period", p.period.as_ref());
                pw.finish(&p.unmodelled)
            })
            .collect(),
    );
    w.period("period", e.period.as_ref());
    w.concepts("reasonCode", &e.reasons);
    if e.discharge_disposition.is_some() || !e.hospitalization_unmodelled.is_empty() {
        let mut h = Writer::new();
        h.concept("dischargeDisposition", e.discharge_disposition.as_ref());
        w.value(
            "hospitalization",
            Some(h.finish(&e.hospitalization_unmodelled)),
        );
    }
    w.reference("serviceProvider", e.service_provider.as_ref());
}

fn only_keys(v: &Value, keys: &[&str]) -> bool {
    v.as_object()
        .is_some_and(|o| o.keys().all(|k| keys.contains(&k.as_str())))
}

fn read_medication(r: &mut Reader<'_>) -> MedicationStatement {
    let dosage_ok = |v: &Value| {
        v.as_array().is_some_and(|a| {
            a.len() == 1
                && only_keys(&a[0], &["text"])
                && a[0].get("text").is_some_and(Value::is_string)
        })
    };
    let dosage_text = r
        .take_if("dosage", dosage_ok)
        .and_then(|v| v.get(0)?.get("text")?.as_str().map(str::to_string))
        .map(Sensitive::new);
    take_absent(r, "medicationCodeableConcept", &data_absent());
    MedicationStatement {
        status: r.string("status"),
        medication: r.concept("medicationCodeableConcept"),
        effective: r.period("effectivePeriod"),
        dosage_text,
    }
}

fn write_medication(w: &mut Writer, m: &MedicationStatement, kept: &Unmodelled) {
    match m.status.as_deref() {
        Some(s) => w.str("status", Some(s)),
        None => write_required(w, kept, &[], "status", json!("unknown")),
    }
    match &m.medication {
        Some(c) => w.concept("medicationCodeableConcept", Some(c)),
        None => write_required(
            w,
            kept,
            &["medicationReference"],
            "medicationCodeableConcept",
            data_absent(),
        ),
    }
    w.period("effectivePeriod", m.effective.as_ref());
    if let Some(t) = &m.dosage_text {
        w.list("dosage", vec![json!({"text": t.expose()})]);
    }
}

fn read_document(r: &mut Reader<'_>) -> DocumentReference {
    let content_ok = |v: &Value| {
        v.as_array().is_some_and(|a| {
            a.len() == 1
                && only_keys(&a[0], &["attachment"])
                && a[0].get("attachment").is_some_and(|att| {
                    only_keys(att, &["contentType", "url"])
                        && att
                            .as_object()
                            .is_some_and(|o| !o.is_empty() && o.values().all(Value::is_string))
                })
        })
    };
    take_absent(r, "content", &json!([{"attachment": data_absent()}]));
    let attachment = r
        .take_if("content", content_ok)
        .and_then(|v| v.get(0)?.get("attachment").cloned());
    let field = |k: &str| {
        attachment
            .as_ref()
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    DocumentReference {
        status: r.string("status"),
        type_: r.concept("type"),
        description: r.sensitive("description"),
        content_type: field("contentType"),
        url: field("url"),
        date: r.date_time("date"),
    }
}

fn write_document(w: &mut Writer, d: &DocumentReference, kept: &Unmodelled) {
    match d.status.as_deref() {
        Some(s) => w.str("status", Some(s)),
        None => write_required(w, kept, &[], "status", json!("current")),
    }
    w.concept("type", d.type_.as_ref());
    w.sensitive("description", d.description.as_ref());
    w.date_time("date", d.date.as_ref());
    if d.content_type.is_some() || d.url.is_some() {
        let mut att = Map::new();
        if let Some(c) = &d.content_type {
            att.insert("contentType".into(), Value::String(c.clone()));
        }
        if let Some(u) = &d.url {
            att.insert("url".into(), Value::String(u.clone()));
        }
        w.list("content", vec![json!({"attachment": Value::Object(att)})]);
    } else {
        let content = json!([{"attachment": data_absent()}]);
        write_required(w, kept, &[], "content", content);
    }
}

/// Reads a clinical resource; `None` when the subject reference is missing.
pub(crate) fn read_clinical(
    mut r: Reader<'_>,
    resource_type: &str,
    ids: &dyn IdGenerator,
) -> Option<ClinicalEntry> {
    let subject = r.reference(subject_key(resource_type))?;
    let (logical_id, uuid) = LogicalId::classify(r.string("id").as_deref());
    let (security, meta_unmodelled) = read_meta(&mut r);
    let content = match resource_type {
        "AllergyIntolerance" => ClinicalKind::Allergy(AllergyIntolerance {
            clinical_status: r.concept("clinicalStatus"),
            verification_status: r.concept("verificationStatus"),
            type_: r.string("type"),
            category: r.strings("category"),
            criticality: r.parsed("criticality", |s| from_code(CRITICALITY, s)),
            code: r.concept("code"),
            onset: r.date_time("onsetDateTime"),
            recorded: r.date_time("recordedDate"),
            reactions: r.objects("reaction", read_reaction),
        }),
        "Condition" => ClinicalKind::Condition(Condition {
            clinical_status: r.concept("clinicalStatus"),
            verification_status: r.concept("verificationStatus"),
            category: r.concepts("category"),
            severity: r.concept("severity"),
            code: r.concept("code"),
            encounter: r.reference("encounter"),
            onset: r.date_time("onsetDateTime"),
            abatement: r.date_time("abatementDateTime"),
            recorded: r.date_time("recordedDate"),
        }),
        "Encounter" => ClinicalKind::Encounter(read_encounter(&mut r)),
        "MedicationStatement" => ClinicalKind::Medication(read_medication(&mut r)),
        "DocumentReference" => ClinicalKind::Document(read_document(&mut r)),
        _ => return None,
    };
    Some(ClinicalEntry {
        id: uuid.map_or_else(|| ids.generate(), ClinicalEntryId::from_uuid),
        logical_id,
        subject,
        security,
        content,
        unmodelled: r.finish(),
        meta_unmodelled,
    })
}

pub(crate) fn write_clinical(e: &ClinicalEntry) -> Value {
    let resource_type = e.content.resource_type();
    let mut w = Writer::resource(resource_type);
    w.str("id", e.logical_id.resolve(&e.id.to_string()).as_deref());
    write_meta(&mut w, &e.security, &e.meta_unmodelled);
    w.reference(subject_key(resource_type), Some(&e.subject));
    match &e.content {
        ClinicalKind::Allergy(a) => {
            w.concept("clinicalStatus", a.clinical_status.as_ref());
            w.concept("verificationStatus", a.verification_status.as_ref());
            w.str("type", a.type_.as_deref());
            w.strings("category", a.category.iter().map(String::as_str));
            w.str(
                "criticality",
                a.criticality.map(|c| to_code(CRITICALITY, &c)),
            );
            w.concept("code", a.code.as_ref());
            w.date_time("onsetDateTime", a.onset.as_ref());
            w.date_time("recordedDate", a.recorded.as_ref());
            w.list("reaction", a.reactions.iter().map(write_reaction).collect());
        }
        ClinicalKind::Condition(c) => {
            w.concept("clinicalStatus", c.clinical_status.as_ref());
            w.concept("verificationStatus", c.verification_status.as_ref());
            w.concepts("category", &c.category);
            w.concept("severity", c.severity.as_ref());
            w.concept("code", c.code.as_ref());
            w.reference("encounter", c.encounter.as_ref());
            w.date_time("onsetDateTime", c.onset.as_ref());
            w.date_time("abatementDateTime", c.abatement.as_ref());
            w.date_time("recordedDate", c.recorded.as_ref());
        }
        ClinicalKind::Encounter(enc) => write_encounter(&mut w, enc, &e.unmodelled),
        ClinicalKind::Medication(m) => write_medication(&mut w, m, &e.unmodelled),
        ClinicalKind::Document(d) => write_document(&mut w, d, &e.unmodelled),
    }
    w.finish(&e.unmodelled)
}
