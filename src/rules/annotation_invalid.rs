use crate::json::Value;

use super::label_invalid::key_problem;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "annotation-invalid",
    severity: Severity::Error,
    summary: "An annotation key is not a qualified name, or an object's annotations are over 256 KiB.",
    docs: r#"## What it checks
`metadata.annotations` of every object, and of pod templates, as the API
server validates them (apimachinery's `ValidateAnnotations`):

- every key is a qualified name, like a label key: an optional DNS-1123
  subdomain prefix and `/`, then at most 63 letters, digits, `-`, `_` and
  `.`, beginning and ending with a letter or digit;
- the keys and values together are at most 256 KiB (262,144 bytes).

## Why it matters
The API server refuses the whole object. `kubectl apply` stores the whole
object in the `kubectl.kubernetes.io/last-applied-configuration`
annotation, so a large ConfigMap can also overflow it there; a key written
with a space or a `:` from a template is the other usual slip.

## Example
```yaml
metadata:
  annotations:
    "checksum config": 3f2a...   # a space in the key
```

## Fix
Rename the key; move large data out of annotations (a ConfigMap), or use
`kubectl apply --server-side`, which keeps no last-applied annotation.
"#,
    fix: "Use qualified annotation keys, and keep an object's annotations under 256 KiB.",
    check,
    scope: Scope::Document,
};

const MAX_TOTAL: usize = 256 * 1024;

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

fn check_at(obj: &Object, pointer: &str, out: &mut Vec<Finding>) {
    let Some(map) = obj.json.pointer(pointer).and_then(Value::as_object) else {
        return;
    };
    let mut total = 0usize;
    for (k, v) in map {
        total += k.len() + v.as_str().map_or(0, str::len);
        if let Some(why) = key_problem(k) {
            out.push(RULE.on(
                obj,
                &format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                format!(
                    "annotation key `{}` is not a qualified name: {why}",
                    shown(k)
                ),
            ));
        }
    }
    if total > MAX_TOTAL {
        out.push(RULE.on(
            obj,
            pointer,
            format!(
                "the annotations hold {total} bytes, more than the 262,144 (256 KiB) the API server takes"
            ),
        ));
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        check_at(obj, "/metadata/annotations", out);
        if let Some(p) = crate::k8s::pod_metadata_pointer(&obj.kind).filter(|_| obj.kind != "Pod") {
            check_at(obj, &format!("{p}/annotations"), out);
        }
    }
}
