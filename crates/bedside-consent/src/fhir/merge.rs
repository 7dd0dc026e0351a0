//! The three-way merge behind [`super::export`]: the model as imported, the model now, and the
//! imported resource, so that whatever the model did not change is written as the source spelled
//! it.

use serde_json::{Map, Value};

/// Three-way merge of JSON values: `base` is the model as imported (written), `ours` the model
/// now (written) and `theirs` the imported resource at `path`, whose unmodelled paths (as
/// [`Imported::unmodelled`] reports them) are in `unmodelled`. Where the model did not change,
/// `theirs` wins (its spelling and its unmodelled elements); where it changed, `ours` wins;
/// unmodelled members and items stay inside objects and arrays that survive.
// Not split: one three-way walk whose cases (object, array, scalar) must be read together.
pub(super) fn merge(
    base: &Value,
    ours: &Value,
    theirs: &Value,
    path: &str,
    unmodelled: &[String],
) -> Value {
    if ours == base {
        return theirs.clone();
    }
    match (base, ours, theirs) {
        // A changed data-type value (a coding, a concept, a reference, a period) is replaced
        // whole: its display or text described the old value.
        (Value::Object(_), Value::Object(_), Value::Object(_))
            if is_datatype(ours) || is_datatype(base) =>
        {
            ours.clone()
        }
        (Value::Object(b), Value::Object(o), Value::Object(t)) => {
            let member = |k: &str| {
                if path.is_empty() {
                    k.to_owned()
                } else {
                    format!("{path}.{k}")
                }
            };
            let mut out = Map::new();
            // The source's member order first, then members only the model has.
            for (k, tv) in t {
                match (b.get(k), o.get(k)) {
                    // Unmodelled: the model never wrote it.
                    (None, None) => {
                        out.insert(k.clone(), tv.clone());
                    }
                    // The model writes a member that the source held unmodelled (an extension
                    // list gaining a channel): both.
                    (None, Some(Value::Array(oa))) if tv.is_array() => {
                        let mut items = tv.as_array().cloned().unwrap_or_default();
                        items.extend(oa.iter().cloned());
                        out.insert(k.clone(), Value::Array(items));
                    }
                    (None, Some(ov)) => {
                        out.insert(k.clone(), ov.clone());
                    }
                    (Some(bv), Some(ov)) => {
                        out.insert(k.clone(), merge(bv, ov, tv, &member(k), unmodelled));
                    }
                    // Removed from the model since: only the unmodelled items of a list stay.
                    (Some(bv @ Value::Array(_)), None) => {
                        let kept = merge(bv, &Value::Array(Vec::new()), tv, &member(k), unmodelled);
                        if kept.as_array().is_some_and(|a| !a.is_empty()) {
                            out.insert(k.clone(), kept);
                        }
                    }
                    (Some(_), None) => {}
                }
            }
            for (k, ov) in o {
                if t.contains_key(k) {
                    continue;
                }
                // Written from the model but absent in the source: keep it only if the model
                // changed it (otherwise the source's omission was its spelling).
                if b.get(k) != Some(ov) {
                    out.insert(k.clone(), ov.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(b), Value::Array(o), Value::Array(t)) => {
            // Which source item each base item was read from: the one it is a projection of
            // (the same place first), else, when the lengths agree, the same place (an item
            // whose modelled values the source spells differently).
            let mut t_used = vec![false; t.len()];
            let mut source_of: Vec<Option<usize>> = vec![None; b.len()];
            for (i, bi) in b.iter().enumerate() {
                let found = if t.get(i).is_some_and(|ti| projects(ti, bi)) {
                    Some(i)
                } else {
                    (0..t.len()).find(|&k| !t_used[k] && projects(&t[k], bi))
                };
                if let Some(k) = found.filter(|&k| !t_used[k]) {
                    t_used[k] = true;
                    source_of[i] = Some(k);
                }
            }
            if b.len() == t.len() {
                for (i, slot) in source_of.iter_mut().enumerate() {
                    if slot.is_none() && !t_used[i] {
                        t_used[i] = true;
                        *slot = Some(i);
                    }
                }
            }
            let mut b_used = vec![false; b.len()];
            let positional = b.len() == o.len();
            let mut out = Vec::with_capacity(o.len());
            for (j, ov) in o.iter().enumerate() {
                if let Some(i) = (0..b.len()).find(|&i| !b_used[i] && b[i] == *ov) {
                    // An item the model still has unchanged: the source's item, wherever it was.
                    b_used[i] = true;
                    out.push(source_of[i].map_or_else(|| ov.clone(), |k| t[k].clone()));
                } else if positional && !b_used[j] {
                    // Same length: the item at the same place changed inside.
                    b_used[j] = true;
                    out.push(match source_of[j] {
                        Some(k) => merge(&b[j], ov, &t[k], &format!("{path}[{k}]"), unmodelled),
                        None => ov.clone(),
                    });
                } else {
                    out.push(ov.clone());
                }
            }
            // Unmodelled source items (an unknown extension) stay.
            for (k, tk) in t.iter().enumerate() {
                if !t_used[k] && unmodelled.iter().any(|u| *u == format!("{path}[{k}]")) {
                    out.push(tk.clone());
                }
            }
            Value::Array(out)
        }
        _ => ours.clone(),
    }
}

/// Whether `v` is a FHIR data-type value (Coding, CodeableConcept, Reference, Period) rather
/// than a structure of the resource (the resource, a provision, an actor, a data item).
fn is_datatype(v: &Value) -> bool {
    let Some(m) = v.as_object() else {
        return false;
    };
    m.contains_key("coding")
        || m.contains_key("system")
        || m.contains_key("start")
        || m.contains_key("end")
        || m.get("code").is_some_and(Value::is_string)
        || m.get("reference").is_some_and(Value::is_string)
}

/// Whether `base` is what the model writes for the source value `theirs`: every member `base`
/// has, `theirs` has with the same value (members only `theirs` has are unmodelled).
fn projects(theirs: &Value, base: &Value) -> bool {
    match (theirs, base) {
        (Value::Object(t), Value::Object(b)) => b
            .iter()
            .all(|(k, bv)| t.get(k).is_some_and(|tv| projects(tv, bv))),
        (Value::Array(t), Value::Array(b)) => {
            t.len() == b.len() && t.iter().zip(b).all(|(tv, bv)| projects(tv, bv))
        }
        _ => theirs == base,
    }
}
