//! The one semantic JSON comparison of the workspace, used to check round trips.

use serde_json::{Number, Value};

/// Compares two JSON documents semantically — object member order and number formatting
/// (`1`, `1.0`, `1e0`) aside — and returns the paths where they differ, in document order.
/// Array order matters, as it does in FHIR.
///
/// ```
/// use bedside_fhir::semantic_diff;
/// let a = serde_json::json!({"a": 1, "b": [1.0, "x"]});
/// let b = serde_json::json!({"b": [1, "x"], "a": 1.0});
/// assert!(semantic_diff(&a, &b).is_empty());
/// let c = serde_json::json!({"b": [1, "y"]});
/// assert_eq!(semantic_diff(&a, &c), ["$.a", "$.b[1]"]);
/// ```
pub fn semantic_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into(expected, actual, "$".to_string(), &mut out);
    out
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn diff_into(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => diff_into(va, vb, format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}")),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                out.push(path);
            } else {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    diff_into(va, vb, format!("{path}[{i}]"), out);
                }
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            if !numbers_equal(x, y) {
                out.push(path);
            }
        }
        (x, y) => {
            if x != y {
                out.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(a: Value, b: Value, expected: &[&str]) {
        assert_eq!(semantic_diff(&a, &b), expected, "{a} vs {b}");
    }

    #[test]
    fn semantic_diff_cases() {
        check(json!({"a": 1}), json!({"a": 1}), &[]);
        check(json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}), &[]);
        check(json!({"v": 20.0}), json!({"v": 20}), &[]);
        check(json!({"v": 0.5}), json!({"v": 5e-1}), &[]);
        check(json!({"v": -3}), json!({"v": -3.0}), &[]);
        check(json!({"v": 1}), json!({"v": "1"}), &["$.v"]);
        check(
            json!({"a": [1, 2]}),
            json!({"a": [2, 1]}),
            &["$.a[0]", "$.a[1]"],
        );
        check(json!({"a": [1, 2]}), json!({"a": [1]}), &["$.a"]);
        check(json!({"a": 1}), json!({}), &["$.a"]);
        check(json!({}), json!({"z": {"y": 1}}), &["$.z"]);
        check(
            json!({"o": {"p": true}}),
            json!({"o": {"p": false}}),
            &["$.o.p"],
        );
        check(json!(null), json!(null), &[]);
    }
}
