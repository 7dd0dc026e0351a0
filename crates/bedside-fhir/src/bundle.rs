//! Transaction and batch bundles whose entries reference each other by `fullUrl`.

use crate::datatypes::Target;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The HTTP verb of a bundle entry's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Create (the server assigns the id; the entry is addressed by its `urn:uuid`).
    Post,
    /// Create or update at a known id.
    Put,
}

/// Builds a `transaction` bundle. Entries get `urn:uuid:` full URLs; on [`Transaction::finish`]
/// every literal reference `Type/id` to an entry of the bundle is rewritten to that entry's
/// full URL, so references resolve inside the bundle as R4 requires.
///
/// ```
/// use bedside_fhir::bundle::{Method, Transaction};
/// use serde_json::json;
/// let mut tx = Transaction::new();
/// let patient = tx.add(uuid::Uuid::nil(), json!({"resourceType": "Patient", "id": "p1"}), Method::Post);
/// tx.add(uuid::Uuid::max(), json!({"resourceType": "Coverage", "id": "c1", "status": "active",
///     "beneficiary": {"reference": "Patient/p1"}, "payor": [{"display": "Acme"}]}), Method::Post);
/// let bundle = tx.finish();
/// assert_eq!(bundle["entry"][1]["resource"]["beneficiary"]["reference"], json!(patient));
/// assert_eq!(bundle["entry"][1]["request"], json!({"method": "POST", "url": "Coverage"}));
/// ```
#[derive(Debug, Default)]
pub struct Transaction {
    entries: Vec<(String, Value, Method)>,
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource under `urn:uuid:<uuid>` and returns that full URL.
    pub fn add(&mut self, uuid: Uuid, resource: Value, method: Method) -> String {
        let full_url = format!("urn:uuid:{uuid}");
        self.entries.push((full_url.clone(), resource, method));
        full_url
    }

    /// The bundle.
    pub fn finish(self) -> Value {
        let mut by_id: Vec<(String, String)> = Vec::new();
        for (full_url, resource, _) in &self.entries {
            if let (Some(t), Some(id)) = (
                resource.get("resourceType").and_then(Value::as_str),
                resource.get("id").and_then(Value::as_str),
            ) {
                by_id.push((format!("{t}/{id}"), full_url.clone()));
            }
        }
        let entries: Vec<Value> = self
            .entries
            .into_iter()
            .map(|(full_url, mut resource, method)| {
                rewrite(&mut resource, &by_id);
                let t = resource
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let request = match method {
                    Method::Post => json!({"method": "POST", "url": t}),
                    Method::Put => {
                        let id = resource.get("id").and_then(Value::as_str).unwrap_or("");
                        json!({"method": "PUT", "url": format!("{t}/{id}")})
                    }
                };
                json!({"fullUrl": full_url, "resource": resource, "request": request})
            })
            .collect();
        let mut bundle = Map::new();
        bundle.insert("resourceType".into(), json!("Bundle"));
        bundle.insert("type".into(), json!("transaction"));
        if !entries.is_empty() {
            bundle.insert("entry".into(), Value::Array(entries));
        }
        Value::Object(bundle)
    }
}

fn rewrite(v: &mut Value, by_id: &[(String, String)]) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "reference" {
                    if let Value::String(s) = child
                        && let Target::Relative {
                            resource_type,
                            id,
                            version: None,
                        } = Target::parse(s)
                    {
                        let key = format!("{resource_type}/{id}");
                        if let Some((_, full)) = by_id.iter().find(|(k, _)| *k == key) {
                            *s = full.clone();
                        }
                    }
                } else {
                    rewrite(child, by_id);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, by_id)),
        _ => {}
    }
}

/// Every entry resource of a bundle, with its `fullUrl` (for importers walking bundles).
pub fn entries(bundle: &Value) -> impl Iterator<Item = (Option<&str>, &Value)> {
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e.get("fullUrl").and_then(Value::as_str), e.get("resource")?)))
}
