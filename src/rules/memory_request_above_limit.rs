use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s;
use crate::memcached::quantity::mib;
use crate::memcached::resources::MemoryField;

pub const RULE: Rule = Rule {
    id: "memory-request-above-limit",
    severity: Severity::Error,
    summary: "A container (or pod) requests more memory than its limit; the API server refuses it.",
    docs: r#"## What it checks
Every container of every pod template (regular, init and sidecar containers,
whatever they run, not only memcached), and the pod-level `resources` of
pods that set them: `resources.requests.memory` must not be above
`resources.limits.memory`. Quantities are compared as bytes, so `1Gi` and
`1024Mi` are equal and `1G` is below `1Gi`.

## Why it matters
The API server rejects the object ("must be less than or equal to memory
limit"): `helm install` or `kubectl apply` fails, often only at deploy time
because `helm template` and `helm lint` do not validate it. A request above
the limit usually means one of the two was derived (say from `-m`) and the
other overridden.

## Example
`requests: {memory: 1129Mi}` with `limits: {memory: 512Mi}`, as a chart
renders when the cache size grows and only the limit was pinned.

## Fix
Lower `requests.memory` to at most the limit, or raise `limits.memory`; for
memcached, size both from the estimate the memory rules give.
"#,
    fix: "Lower requests.memory to at most limits.memory, or raise the limit (for memcached, to the estimated peak).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        if let Some((base, spec)) = k8s::pod_spec(obj) {
            compare(
                obj,
                || base.to_string(),
                spec,
                || "the pod-level resources".to_string(),
                out,
            );
        }
        for c in k8s::containers(obj) {
            let what = if c.sidecar {
                "sidecar container"
            } else if c.init {
                "init container"
            } else {
                "container"
            };
            compare(
                obj,
                || c.pointer(),
                c.json,
                || format!("{what} `{}`", c.name),
                out,
            );
        }
    }
}

fn compare(
    obj: &crate::manifest::Object,
    base: impl FnOnce() -> String,
    json: &crate::json::Value,
    who: impl FnOnce() -> String,
    out: &mut Vec<Finding>,
) {
    // Most containers request no more than their limit: the texts of the
    // fields are read only for a finding.
    let (Some(r), Some(l)) = (
        MemoryField::bytes_at(json, "requests"),
        MemoryField::bytes_at(json, "limits"),
    ) else {
        return;
    };
    if r <= l {
        return;
    }
    let who = who();
    let base = base();
    let request = MemoryField::read(&base, json, "requests");
    let limit = MemoryField::read(&base, json, "limits");
    out.push(RULE.on(
        obj,
        &request.pointer,
        format!(
            "{who} requests.memory `{}` ({}) is above limits.memory `{}` ({}): the API server refuses a request above its limit",
            request.raw.as_deref().unwrap_or(""),
            mib(r),
            limit.raw.as_deref().unwrap_or(""),
            mib(l)
        ),
    ));
}
