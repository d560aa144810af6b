use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "probe-handler-invalid",
    severity: Severity::Error,
    summary: "A probe or lifecycle hook names no handler, or more than one.",
    docs: r#"## What it checks
Every `livenessProbe`, `readinessProbe` and `startupProbe` of a container
names exactly one handler (`exec`, `httpGet`, `tcpSocket` or `grpc`), and
every `lifecycle.postStart` and `preStop` exactly one (`exec`, `httpGet`,
`tcpSocket` or `sleep`), as the API server validates them
(`pkg/apis/core/validation`: "must specify a handler type", "may not specify
more than 1 handler type").

## Why it matters
The API server refuses the whole object. Two handlers usually come from a
values file that adds `httpGet` to a chart default that already has
`tcpSocket` (Helm merges maps, so both stay).

## Example
```yaml
readinessProbe:
  tcpSocket: {port: memcache}
  httpGet: {path: /ready, port: 8080}   # merged in from values
```

## Fix
Keep one handler; to replace a chart's default handler from values, set the
other one to `null` (`tcpSocket: null`).
"#,
    fix: "Give each probe and lifecycle hook exactly one handler (set a chart default's other handler to null in values).",
    check,
    scope: Scope::Document,
};

const PROBE_HANDLERS: &[&str] = &["exec", "httpGet", "tcpSocket", "grpc"];
const HOOK_HANDLERS: &[&str] = &["exec", "httpGet", "tcpSocket", "sleep"];

/// The handlers `v` names (fields present and not null).
fn handlers<'a>(v: &Value, known: &[&'a str]) -> Vec<&'a str> {
    known
        .iter()
        .copied()
        .filter(|h| v.get(*h).is_some_and(|x| !x.is_null()))
        .collect()
}

fn verdict(what: &str, container: &str, found: &[&str], known: &[&str]) -> Option<String> {
    match found.len() {
        1 => None,
        0 => Some(format!(
            "{what} of container `{container}` names no handler; give one of {}",
            known.join(", ")
        )),
        _ => Some(format!(
            "{what} of container `{container}` names {} handlers ({}); the API server takes exactly one",
            found.len(),
            found.join(", ")
        )),
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        for c in t.containers() {
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(p) = c.json.get(probe).filter(|p| p.is_object()) else {
                    continue;
                };
                let found = handlers(p, PROBE_HANDLERS);
                if let Some(msg) = verdict(probe, c.name, &found, PROBE_HANDLERS) {
                    out.push(RULE.on(t.obj, &format!("{}/{probe}", c.pointer()), msg));
                }
            }
            for hook in ["postStart", "preStop"] {
                let Some(h) = c
                    .json
                    .get("lifecycle")
                    .and_then(|l| l.get(hook))
                    .filter(|h| h.is_object())
                else {
                    continue;
                };
                let found = handlers(h, HOOK_HANDLERS);
                let what = format!("lifecycle.{hook}");
                if let Some(msg) = verdict(&what, c.name, &found, HOOK_HANDLERS) {
                    out.push(RULE.on(t.obj, &format!("{}/lifecycle/{hook}", c.pointer()), msg));
                }
            }
        }
    }
}
