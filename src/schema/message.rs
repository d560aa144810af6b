//! jsonschema errors → one readable message per field.
//!
//! The schema that applies at the failing field is found by walking the schema
//! document along the instance's JSON pointer (through `$ref`, `properties`,
//! `items` and `additionalProperties`), which gives the Kubernetes type name
//! (`Container`) and its property names for "did you mean" suggestions.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::Violation;
use super::quantity;

/// The schema at `pointer` and the name of the innermost named type around it.
pub(super) fn schema_at<'a>(
    root: &'a Value,
    pointer: &str,
    kind: &str,
) -> Option<(&'a Value, String)> {
    let mut name = kind.to_string();
    let mut schema = resolve(root, root, &mut name)?;
    if pointer.is_empty() {
        return Some((schema, name));
    }
    for raw in pointer.trim_start_matches('/').split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        let next = if let Some(p) = schema.get("properties").and_then(|p| p.get(&token)) {
            name = format!("`{token}`");
            p
        } else if token.parse::<usize>().is_ok()
            && schema.get("items").is_some_and(Value::is_object)
        {
            &schema["items"]
        } else if schema
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            name = format!("`{token}`");
            &schema["additionalProperties"]
        } else {
            return None;
        };
        schema = resolve(root, next, &mut name)?;
    }
    Some((schema, name))
}

/// Follows local `$ref`s (and a lone `allOf` wrapper); a named definition
/// `io.k8s.api.core.v1.Container` names the type `Container`.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value, name: &mut String) -> Option<&'a Value> {
    for _ in 0..64 {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = root.pointer(r.strip_prefix('#')?)?;
            let last = r.rsplit('/').next().unwrap_or(r);
            *name = last.rsplit('.').next().unwrap_or(last).to_string();
            // Sibling keywords (`required` next to `$ref`) still apply; the
            // referenced schema is what describes the properties.
            schema = target;
            continue;
        }
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
            continue;
        }
        return Some(schema);
    }
    None
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `/spec/template/spec/containers/0/ports/1` → `ports[1]`; `` → the kind.
fn field_name(pointer: &str, kind: &str) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut index = String::new();
    for t in tokens.iter().rev() {
        if t.parse::<usize>().is_ok() {
            index = format!("[{t}]{index}");
        } else {
            return format!("{t}{index}");
        }
    }
    if tokens.is_empty() {
        kind.to_string()
    } else {
        format!("item{index}")
    }
}

/// The field's name, prefixed with its map's name when it is an entry of a free
/// map (`labels.tier`, `data.replicas`), where the key alone says little.
fn map_entry_name(root: &Value, pointer: &str, kind: &str) -> String {
    let field = field_name(pointer, kind);
    let Some((parent, _)) = pointer.rsplit_once('/') else {
        return field;
    };
    let in_map = schema_at(root, parent, kind).is_some_and(|(s, _)| {
        s.get("additionalProperties").is_some_and(Value::is_object) && s.get("properties").is_none()
    });
    if in_map && !parent.is_empty() {
        format!("{}.{field}", field_name(parent, kind))
    } else {
        field
    }
}

/// `/spec/template/spec/containers/0` → `spec.template.spec.containers[0]`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for t in pointer.split('/').skip(1) {
        let t = t.replace("~1", "/").replace("~0", "~");
        if t.parse::<usize>().is_ok() {
            out.push_str(&format!("[{t}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&t);
        }
    }
    out
}

/// `string "3"`, `number 3`, `boolean true`, `a list`, `a mapping`, `null`.
fn got(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let ellipsis = if s.chars().count() > 60 { "…" } else { "" };
            format!("string {:?}", format!("{shown}{ellipsis}"))
        }
        Value::Number(n) => format!("number {n}"),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Null => "null".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn type_phrase(t: &str) -> &'static str {
    match t {
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "boolean" => "a boolean (true or false)",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => "a value of another type",
    }
}

fn expected_types(schema: Option<&Value>) -> Option<String> {
    let types: Vec<&str> = match schema?.get("type")? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let phrases: Vec<&str> = types.iter().map(|t| type_phrase(t)).collect();
    match phrases.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        [init @ .., last] => Some(format!("{} or {last}", init.join(", "))),
    }
}

fn is_quantity(schema: Option<&Value>) -> bool {
    schema
        .and_then(|s| s.get("pattern"))
        .and_then(Value::as_str)
        .is_some_and(|p| p == quantity::PATTERN)
}

fn show_json(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "`\"\"` (empty)".to_string(),
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// One jsonschema error as violations (an unknown-fields error may name several fields).
pub(super) fn describe(
    error: &ValidationError<'_>,
    root: &Value,
    instance: &Value,
    kind: &str,
) -> Vec<Violation> {
    let pointer = error.instance_path().as_str().to_string();
    let at = schema_at(root, &pointer, kind);
    let schema = at.as_ref().map(|(s, _)| *s);
    let type_name = at
        .as_ref()
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| field_name(&pointer, kind));
    let field = field_name(&pointer, kind);
    let value = instance.pointer(&pointer).unwrap_or(&Value::Null);
    let one = |message: String| {
        vec![Violation {
            pointer: pointer.clone(),
            message,
        }]
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let allowed: Vec<&str> = schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|u| {
                    let near = crate::suggest::nearest(u, allowed.iter().copied())
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                    Violation {
                        pointer: format!("{pointer}/{}", escape(u)),
                        message: format!("unknown field `{u}` in {type_name}{near}"),
                    }
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let p = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            vec![Violation {
                // The missing field's pointer; its line is its parent's.
                pointer: format!("{pointer}/{}", escape(&p)),
                message: if pointer.is_empty() {
                    format!("missing required field `{p}` in {type_name}")
                } else {
                    format!(
                        "missing required field `{p}` in {type_name} (at `{}`)",
                        dotted(&pointer)
                    )
                },
            }]
        }
        ValidationErrorKind::Type { .. } if is_quantity(schema) => one(format!(
            "`{field}` must be a Kubernetes quantity (a string such as `400Mi` or a number), got {}",
            got(value)
        )),
        ValidationErrorKind::Type { .. } => {
            let expected = expected_types(schema).unwrap_or_else(|| "of another type".into());
            one(format!(
                "`{}` must be {expected}, got {}",
                map_entry_name(root, &pointer, kind),
                got(value)
            ))
        }
        ValidationErrorKind::Pattern { .. } if is_quantity(schema) => {
            let shown = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            let hint = quantity::hint(&shown)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            one(format!(
                "`{field}: {shown}` is not a Kubernetes quantity ({}){hint}",
                quantity::EXPLANATION
            ))
        }
        ValidationErrorKind::Pattern { pattern } => one(format!(
            "`{field}` must match the pattern `{pattern}`, got {}",
            got(value)
        )),
        ValidationErrorKind::Constant { expected_value } => one(format!(
            "`{field}` must be {}, got {}",
            show_json(expected_value),
            got(value)
        )),
        ValidationErrorKind::Enum { options } => {
            let list = options
                .as_array()
                .map(|a| a.iter().map(show_json).collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| options.to_string());
            // A did-you-mean among the allowed strings (case slips count:
            // `always` for `Always`).
            let near = value
                .as_str()
                .and_then(|v| {
                    let allowed: Vec<&str> = options
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    allowed
                        .iter()
                        .find(|a| a.eq_ignore_ascii_case(v))
                        .copied()
                        .or_else(|| crate::suggest::nearest(v, allowed.iter().copied()))
                })
                .filter(|n| Some(*n) != value.as_str())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            one(format!(
                "`{field}` must be one of {list}, got {}{near}",
                got(value)
            ))
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            one(format!(
                "`{field}` matches none of the forms its schema allows, got {}",
                got(value)
            ))
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => one(format!(
            "`{field}` matches more than one of the forms its schema allows, so its meaning is ambiguous"
        )),
        ValidationErrorKind::FalseSchema => one(format!("`{field}` is not allowed here")),
        _ => one(format!("`{field}`: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_with_their_indices() {
        assert_eq!(
            field_name("/spec/template/spec/containers/0/ports/1", "Pod"),
            "ports[1]"
        );
        assert_eq!(field_name("/spec/replicas", "StatefulSet"), "replicas");
        assert_eq!(field_name("", "StatefulSet"), "StatefulSet");
        assert_eq!(field_name("/metadata/labels/a~1b", "X"), "a/b");
        assert_eq!(
            dotted("/spec/template/spec/containers/0/ports/1"),
            "spec.template.spec.containers[0].ports[1]"
        );
    }

    #[test]
    fn walks_refs_to_named_types() {
        let root = serde_json::json!({
            "type": "object",
            "properties": {"spec": {"$ref": "#/$defs/io.k8s.api.X.v1.Spec"}},
            "$defs": {
                "io.k8s.api.X.v1.Spec": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/$defs/io.k8s.api.core.v1.Container"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                }},
                "io.k8s.api.core.v1.Container": {"type": "object", "properties": {"name": {"type": "string"}}}
            }
        });
        assert_eq!(schema_at(&root, "", "Thing").unwrap().1, "Thing");
        assert_eq!(schema_at(&root, "/spec", "Thing").unwrap().1, "Spec");
        let (s, n) = schema_at(&root, "/spec/items/3", "Thing").unwrap();
        assert_eq!(n, "Container");
        assert!(s["properties"].get("name").is_some());
        assert_eq!(
            schema_at(&root, "/spec/labels/app", "Thing").unwrap().0["type"],
            "string"
        );
        assert!(schema_at(&root, "/spec/nope", "Thing").is_none());
    }

    #[test]
    fn describes_types_in_words() {
        assert_eq!(
            expected_types(Some(&serde_json::json!({"type": "integer"}))).unwrap(),
            "an integer"
        );
        assert_eq!(
            expected_types(Some(&serde_json::json!({"type": ["integer", "string"]}))).unwrap(),
            "an integer or a string"
        );
        assert_eq!(got(&serde_json::json!("3")), "string \"3\"");
        assert_eq!(got(&serde_json::json!(true)), "boolean true");
    }
}
