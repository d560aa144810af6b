//! Turns a schemars schema of a k8s-openapi resource into the strict, self-contained
//! document mclint validates against. See `schemas/README.md` for the rules.

use serde_json::{Value, json};

/// The schemars name of `Quantity`.
const QUANTITY_DEF: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// The schemars name of apiextensions' `JSON`, which holds any JSON value.
const CRD_JSON_DEF: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";

/// A Kubernetes quantity as a string, written from the grammar in the `Quantity`
/// documentation of apimachinery:
///
/// ```text
/// <quantity>  ::= <signedNumber><suffix>
/// <number>    ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
/// <suffix>    ::= <binarySI> | <decimalExponent> | <decimalSI>
/// <binarySI>  ::= Ki | Mi | Gi | Ti | Pi | Ei
/// <decimalSI> ::= n | u | m | "" | k | M | G | T | P | E
/// <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
/// ```
///
/// (`n` and `u` are not in the documented grammar but the parser accepts them.)
/// mclint keeps the same text in `src/schema/quantity.rs` and tests that they agree.
pub const QUANTITY_PATTERN: &str = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$";

fn quantity() -> Value {
    // `pattern` applies to strings only, so one schema accepts any number and a
    // string only when it matches; no anyOf, so one clear error per field.
    json!({ "type": ["string", "number"], "pattern": QUANTITY_PATTERN })
}

fn int_or_string() -> Value {
    json!({ "type": ["integer", "string"] })
}

pub fn make_strict(mut root: Value, api_version: &str, kind: &str) -> Result<Value, String> {
    let obj = root
        .as_object_mut()
        .ok_or("the root schema is not an object")?;
    if let Some(Value::Object(defs)) = obj.get_mut("$defs") {
        for (name, def) in defs.iter_mut() {
            if name == QUANTITY_DEF {
                *def = quantity();
            } else if name == CRD_JSON_DEF {
                // Any JSON value (a CRD schema's `default`, `enum` items,
                // `example`); k8s-openapi types it as an object.
                *def = json!({});
            }
        }
    }
    obj.remove("title");
    tighten(&mut root);

    let obj = root.as_object_mut().expect("still an object");
    let props = obj
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .ok_or("the root schema has no properties")?;
    props.insert(
        "apiVersion".into(),
        json!({ "type": "string", "const": api_version }),
    );
    props.insert("kind".into(), json!({ "type": "string", "const": kind }));
    let meta = props
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or("the root schema has no metadata")?;
    meta.insert("required".into(), json!(["name"]));

    let mut required: Vec<String> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for r in ["apiVersion", "kind", "metadata"] {
        if !required.iter().any(|x| x == r) {
            required.push(r.to_string());
        }
    }
    required.sort();
    obj.insert("required".into(), json!(required));
    Ok(root)
}

/// Drops documentation and vendor keywords, resolves `x-kubernetes-int-or-string`,
/// and closes every object type that lists its properties.
fn tighten(schema: &mut Value) {
    let Value::Object(m) = schema else { return };
    m.remove("description");
    if m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        *schema = int_or_string();
        return;
    }
    m.retain(|k, _| !k.starts_with("x-kubernetes-"));
    let is_object = m.get("type").and_then(Value::as_str) == Some("object");
    if is_object && m.contains_key("properties") && !m.contains_key("additionalProperties") {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["properties", "$defs", "patternProperties"] {
        if let Some(Value::Object(children)) = m.get_mut(key) {
            children.values_mut().for_each(tighten);
        }
    }
    for key in ["items", "additionalProperties", "not", "contains"] {
        if let Some(child) = m.get_mut(key) {
            tighten(child);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = m.get_mut(key) {
            children.iter_mut().for_each(tighten);
        }
    }
}
