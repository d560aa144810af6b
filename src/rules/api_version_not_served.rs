use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::schema::{self, Lookup, removed};

pub const RULE: Rule = Rule {
    id: "api-version-not-served",
    severity: Severity::Error,
    summary: "A built-in kind uses an apiVersion the chosen Kubernetes version does not serve.",
    docs: r#"## What it checks
That each built-in kind (StatefulSet, Ingress, PodDisruptionBudget, …) uses an
apiVersion that the Kubernetes version chosen with `--kube-version` (default:
the newest supported) serves. An apiVersion in the table of removed APIs
(`schemas/removed-apis.json`, shown in `docs/removed-apis.md`) is reported with
the release that removed it and its replacement (as pluto and kubent do); any
other unserved apiVersion of a built-in kind is reported with the ones that
are served; a kind removed altogether (PodSecurityPolicy from 1.25) is
reported in every apiVersion, including ones never served (`policy/v1`). Groups that
look like a CustomResourceDefinition's (a dotted name not ending in `.k8s.io`)
are left to `unknown-kind`.

## Why it matters
The API server rejects the object with "no matches for kind"; removed beta
versions (`apps/v1beta1`, `extensions/v1beta1`, `policy/v1beta1`) linger in
old templates and break on upgrade.

## Example
```yaml
apiVersion: apps/v1beta1    # removed; Kubernetes serves StatefulSet as apps/v1
kind: StatefulSet
```

## Fix
Use a served apiVersion (the message lists them) and adapt the fields that
changed between versions.
"#,
    fix: "Use one of the apiVersions the message lists for this kind.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Ok(set) = ctx.schemas() else {
        return; // schema-violation reports why
    };
    let version = set.version();
    for obj in &ctx.objects {
        if obj.api_version.is_empty() {
            continue; // api-version-missing
        }
        if let Some(r) = removed::removed(&obj.api_version, &obj.kind, version) {
            out.push(RULE.on(obj, "/apiVersion", removal_message(obj, r, version)));
            continue;
        }
        match set.lookup(&obj.api_version, &obj.kind) {
            Lookup::NotServed { served } => {
                let list = served
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(RULE.on(
                    obj,
                    "/apiVersion",
                    format!(
                        "Kubernetes {version} does not serve {} as `{}`; it serves it as {list}",
                        obj.kind, obj.api_version
                    ),
                ));
            }
            Lookup::Unknown if schema::is_builtin_group(&obj.api_version) => {
                if let Some(r) = removed::kind_gone(&obj.kind, version) {
                    out.push(RULE.on(
                        obj,
                        "/apiVersion",
                        format!(
                            "Kubernetes {version} serves {} in no apiVersion: `{}` was never served, \
                             and the kind was removed in Kubernetes {} ({})",
                            obj.kind,
                            obj.api_version,
                            r.removed_in,
                            r.note.as_deref().unwrap_or("no replacement"),
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Is this object reported here (so `unknown-kind` stays quiet about it)?
pub fn reported(api_version: &str, kind: &str, version: &str) -> bool {
    !api_version.is_empty()
        && (removed::removed(api_version, kind, version).is_some()
            || (schema::is_builtin_group(api_version)
                && removed::kind_gone(kind, version).is_some()))
}

fn removal_message(obj: &crate::manifest::Object, r: &removed::Removal, version: &str) -> String {
    let instead = match (&r.replacement, &r.note) {
        (Some(rep), Some(note)) => format!("use `{rep}` ({note})"),
        (Some(rep), None) => format!("use `{rep}`, and adapt the fields that changed"),
        (None, Some(note)) => note.clone(),
        (None, None) => "it has no replacement".to_string(),
    };
    format!(
        "`{}` {} was removed in Kubernetes {} and is not served by {version}: {instead}",
        obj.api_version, obj.kind, r.removed_in
    )
}
