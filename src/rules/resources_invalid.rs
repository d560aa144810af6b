use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;
use crate::memcached::quantity::Quantity;

pub const RULE: Rule = Rule {
    id: "resources-invalid",
    severity: Severity::Error,
    summary: "A container's resources are refused by the API server: a negative quantity, a request above its limit, or an extended resource that is fractional or overcommitted.",
    docs: r#"## What it checks
For every container of every pod template, and pod-level `resources`, as the
API server validates `resources` (`pkg/apis/core/validation`):

- no request or limit is negative;
- no request is above its limit (memory is left to
  `memory-request-above-limit`, which says more about it);
- an extended resource (a name with a domain other than `kubernetes.io`,
  such as `nvidia.com/gpu`) is a whole number, has a limit, and its request,
  when given, equals the limit: extended resources cannot be overcommitted.

## Why it matters
The API server refuses the whole object, often only at `helm install`:
`helm template` and `helm lint` do not validate resources.

## Example
```yaml
resources:
  requests: {cpu: "2"}
  limits: {cpu: 500m}      # request above limit
```

## Fix
Lower the request to at most the limit (or raise the limit); give extended
resources whole numbers, with a limit equal to the request.
"#,
    fix: "Keep every request at or below its limit and never negative; give extended resources a whole-number limit equal to the request.",
    check,
    scope: Scope::Document,
};

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

/// An extended resource: a domain-qualified name outside `kubernetes.io`.
fn is_extended(name: &str) -> bool {
    match name.split_once('/') {
        Some((domain, _)) => domain != "kubernetes.io" && !domain.ends_with(".kubernetes.io"),
        None => false,
    }
}

fn quantity(v: &Value) -> Option<(Quantity, String)> {
    let text = match v {
        Value::String(s) => s.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Quantity::parse(&text).ok().map(|q| (q, text))
}

fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Checks a `resources` object at `pointer` of `obj`; `who` names it.
/// `res` is the `resources` at `pointer`; the pointer and `who` are written
/// only into findings, so they are built only when one is made.
fn check_resources(
    obj: &Object,
    res: Option<&Value>,
    pointer: &dyn Fn() -> String,
    who: &dyn Fn() -> String,
    out: &mut Vec<Finding>,
) {
    let Some(res) = res else {
        return;
    };
    let map = |k: &str| res.get(k).and_then(Value::as_object);
    let (requests, limits) = (map("requests"), map("limits"));
    for (side, m) in [("requests", requests), ("limits", limits)] {
        for (name, v) in m.into_iter().flatten() {
            let Some((q, text)) = quantity(v) else {
                continue;
            };
            let at = || format!("{}/{side}/{}", pointer(), token(name));
            if q.is_negative() {
                out.push(RULE.on(
                    obj,
                    &at(),
                    format!(
                        "{}: {side}.{} is `{}`; it must be 0 or more",
                        who(),
                        shown(name),
                        shown(&text)
                    ),
                ));
            } else if is_extended(name) && !q.is_whole() {
                out.push(RULE.on(
                    obj,
                    &at(),
                    format!(
                        "{}: {side}.{} is `{}`; extended resources take whole numbers",
                        who(),
                        shown(name),
                        shown(&text)
                    ),
                ));
            }
        }
    }
    for (name, rv) in requests.into_iter().flatten() {
        let Some((rq, rtext)) = quantity(rv) else {
            continue;
        };
        let limit = limits.and_then(|l| l.get(name)).and_then(quantity);
        let at = || format!("{}/requests/{}", pointer(), token(name));
        match limit {
            Some((lq, ltext)) => {
                if is_extended(name) && rq.as_f64() != lq.as_f64() {
                    out.push(RULE.on(
                        obj,
                        &at(),
                        format!(
                            "{}: requests.{} `{}` differs from its limit `{}`; extended resources cannot be overcommitted, so the two must be equal",
                            who(),
                            shown(name),
                            shown(&rtext),
                            shown(&ltext)
                        ),
                    ));
                } else if name != "memory" && rq.as_f64() > lq.as_f64() {
                    out.push(RULE.on(
                        obj,
                        &at(),
                        format!(
                            "{}: requests.{} `{}` is above its limit `{}`",
                            who(),
                            shown(name),
                            shown(&rtext),
                            shown(&ltext)
                        ),
                    ));
                }
            }
            None if is_extended(name) => out.push(RULE.on(
                obj,
                &at(),
                format!(
                    "{}: requests.{} has no limit; extended resources need a limit (equal to the request)",
                    who(),
                    shown(name)
                ),
            )),
            None => {}
        }
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        check_resources(
            t.obj,
            t.spec.get("resources"),
            &|| format!("{}/resources", t.spec_pointer),
            &|| "pod-level resources".to_string(),
            out,
        );
        for c in t.containers() {
            check_resources(
                t.obj,
                c.json.get("resources"),
                &|| format!("{}/resources", c.pointer()),
                &|| format!("container `{}`", shown(c.name)),
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_resources_are_domain_names_outside_kubernetes_io() {
        assert!(is_extended("nvidia.com/gpu"));
        assert!(!is_extended("cpu"));
        assert!(!is_extended("hugepages-2Mi"));
        assert!(!is_extended("kubernetes.io/foo"));
    }
}
