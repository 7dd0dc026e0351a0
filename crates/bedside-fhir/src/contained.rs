//! `contained` resources: resolving `#id` references and checking invariant dom-3 (every
//! contained resource is referenced from the rest of the resource, or references it).

use crate::datatypes::Target;
use crate::{ElementPath, FhirError, Problem};
use serde_json::Value;

/// The contained resource a `#id` reference names, when there is one.
///
/// ```
/// use serde_json::json;
/// let claim = json!({"resourceType": "Claim",
///     "contained": [{"resourceType": "Organization", "id": "org1"}],
///     "provider": {"reference": "#org1"}});
/// let org = bedside_fhir::contained::resolve(&claim, "#org1");
/// assert_eq!(org.and_then(|o| o["resourceType"].as_str()), Some("Organization"));
/// assert!(bedside_fhir::contained::check(&claim).is_ok());
/// ```
pub fn resolve<'a>(resource: &'a Value, reference: &str) -> Option<&'a Value> {
    let Target::Contained(id) = Target::parse(reference) else {
        return None;
    };
    resource
        .get("contained")?
        .as_array()?
        .iter()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
}

/// Every `reference` string under `value`, with its path (not descending into `contained`).
fn references<'a>(
    value: &'a Value,
    path: ElementPath,
    skip_contained: bool,
    out: &mut Vec<(ElementPath, &'a str)>,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if skip_contained && k == "contained" {
                    continue;
                }
                if k == "reference" {
                    if let Some(s) = v.as_str() {
                        out.push((path.child(k), s));
                    }
                } else {
                    references(v, path.child(k), false, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                references(v, path.index(i), false, out);
            }
        }
        _ => {}
    }
}

/// Checks a resource's contained resources: every `#id` reference resolves, and every
/// contained resource is referenced by the container (or by another contained resource
/// that is), or refers to the container with `#` (dom-3).
///
/// # Errors
/// [`Problem::Unresolved`] at the first dangling `#id` reference, or
/// [`Problem::Rejected`] at the first unreferenced contained resource.
pub fn check(resource: &Value) -> Result<(), FhirError> {
    let root = ElementPath::root(
        resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("Resource"),
    );
    let contained: Vec<&Value> = resource
        .get("contained")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut outer = Vec::new();
    references(resource, root.clone(), true, &mut outer);
    let mut inner: Vec<Vec<(ElementPath, &str)>> = Vec::new();
    for (i, c) in contained.iter().enumerate() {
        let mut refs = Vec::new();
        references(c, root.child("contained").index(i), false, &mut refs);
        inner.push(refs);
    }
    let ids: Vec<Option<&str>> = contained
        .iter()
        .map(|c| c.get("id").and_then(Value::as_str))
        .collect();
    for (path, r) in outer.iter().chain(inner.iter().flatten()) {
        if let Target::Contained(id) = Target::parse(r)
            && !id.is_empty()
            && !ids.contains(&Some(id))
        {
            return Err(FhirError::new(path.clone(), Problem::Unresolved));
        }
    }
    // Reachability from the container, through contained resources.
    let mut reached = vec![false; contained.len()];
    let mut frontier: Vec<&str> = outer.iter().map(|(_, r)| *r).collect();
    while let Some(r) = frontier.pop() {
        if let Target::Contained(id) = Target::parse(r)
            && let Some(i) = ids.iter().position(|x| *x == Some(id))
            && !reached[i]
        {
            reached[i] = true;
            frontier.extend(inner[i].iter().map(|(_, r)| *r));
        }
    }
    for (i, ok) in reached.iter().enumerate() {
        let refers_back = inner[i].iter().any(|(_, r)| *r == "#");
        if !ok && !refers_back {
            return Err(FhirError::rejected(
                &root.child("contained").index(i),
                "contained resource is not referenced (dom-3)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dom3_cases() {
        let ok = json!({"resourceType": "Claim", "contained": [
            {"resourceType": "Organization", "id": "a", "partOf": {"reference": "#b"}},
            {"resourceType": "Organization", "id": "b"}],
            "provider": {"reference": "#a"}});
        assert!(check(&ok).is_ok());
        let dangling = json!({"resourceType": "Claim", "provider": {"reference": "#gone"}});
        assert_eq!(
            check(&dangling).err().map(|e| e.to_string()).as_deref(),
            Some("`Claim.provider.reference`: reference does not resolve")
        );
        let orphan =
            json!({"resourceType": "Claim", "contained": [{"resourceType": "Patient", "id": "p"}]});
        assert!(check(&orphan).is_err());
        let back = json!({"resourceType": "Consent", "contained": [
            {"resourceType": "Provenance", "id": "p", "target": [{"reference": "#"}]}]});
        assert!(check(&back).is_ok());
    }
}
