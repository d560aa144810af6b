use std::collections::BTreeSet;

use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "configmap-key-missing",
    severity: Severity::Error,
    summary: "A volume mounts a key (`subPath` or `items[].key`) its ConfigMap does not have.",
    docs: r#"## What it checks
For `configMap` volumes whose ConfigMap is in the rendering (same namespace)
and that are not `optional: true`:

- every `items[].key` is a key of the ConfigMap (`data` or `binaryData`);
- every `volumeMounts[].subPath` on the volume names a file the volume holds:
  a ConfigMap key when the volume has no `items`, else one of the items'
  `path`s (or a directory above one).

`subPathExpr` is not checked (it depends on the environment at run time), nor
are projected volumes.

## Why it matters
A missing `items` key keeps the pod in `ContainerCreating`. A `subPath` that
is not in the volume is worse: the kubelet creates an empty directory at that
path and the container starts with a directory where its config file should
be. memcached's proxy then fails to load `routelib` config, or starts with
none.

## Example
```yaml
volumeMounts:
  - name: config
    mountPath: /etc/memcached/config.lua
    subPath: config.lua        # the ConfigMap's key is `routes.lua`
```

## Fix
Use a key the ConfigMap defines (`kubectl get configmap NAME -o yaml`), or add
the key to the ConfigMap.
"#,
    fix: "Use a key the ConfigMap defines, or add the key to the ConfigMap.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let ns = t.namespace();
        // Volume name → (files the volume holds, what they are, for messages).
        let mut files: Vec<(&str, BTreeSet<String>, bool, String)> = Vec::new();
        let containers = t.containers();
        // A volume's files matter to a `subPath` mount only: without one, only
        // volumes that map `items` are read.
        let any_sub_path = containers.iter().any(|c| {
            c.json
                .get("volumeMounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|m| {
                    m.get("subPath")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                })
        });
        for (i, vname, v) in t.volumes() {
            let Some(cm) = v.get("configMap") else {
                continue;
            };
            let items = cm
                .get("items")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty());
            if items.is_none() && !any_sub_path {
                continue;
            }
            if cm.get("optional").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(cm_name) = cm.get("name").and_then(Value::as_str) else {
                continue;
            };
            let Some(cm_obj) = xref::object_named(ctx, "ConfigMap", ns, cm_name) else {
                continue; // configmap-not-rendered says so
            };
            let mut keys = BTreeSet::new();
            for field in ["data", "binaryData"] {
                if let Some(m) = cm_obj.json.get(field).and_then(Value::as_object) {
                    keys.extend(m.keys().map(|k| k.to_string()));
                }
            }
            match items {
                None => files.push((vname, keys, false, format!("ConfigMap `{cm_name}`"))),
                Some(items) => {
                    let mut paths = BTreeSet::new();
                    for (j, item) in items.iter().enumerate() {
                        if let Some(p) = item.get("path").and_then(Value::as_str) {
                            paths.insert(p.trim_start_matches("./").to_string());
                        }
                        let Some(key) = item.get("key").and_then(Value::as_str) else {
                            continue;
                        };
                        if !keys.contains(key) {
                            out.push(RULE.on(
                                t.obj,
                                &format!("{}/volumes/{i}/configMap/items/{j}/key", t.spec_pointer),
                                format!(
                                    "volume `{vname}` maps key `{key}`, which {} does not have ({})",
                                    cm_obj.reference(),
                                    list("its keys are", &keys)
                                ),
                            ));
                        }
                    }
                    files.push((
                        vname,
                        paths,
                        true,
                        format!("the `items` of volume `{vname}`"),
                    ));
                }
            }
        }
        for c in &containers {
            let mounts = c.json.get("volumeMounts").and_then(Value::as_array);
            for (j, m) in mounts.into_iter().flatten().enumerate() {
                let Some(sub) = m
                    .get("subPath")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                else {
                    continue;
                };
                let Some(name) = m.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let Some((_, held, remapped, what)) = files.iter().find(|(n, ..)| *n == name)
                else {
                    continue;
                };
                let sub_clean = sub.trim_start_matches("./").trim_end_matches('/');
                let found = if *remapped {
                    held.iter().any(|p| {
                        p == sub_clean
                            || p.strip_prefix(sub_clean)
                                .is_some_and(|r| r.starts_with('/'))
                    })
                } else {
                    held.contains(sub_clean)
                };
                if !found {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/volumeMounts/{j}/subPath", c.pointer()),
                        format!(
                            "container `{}` mounts `subPath: {sub}` of volume `{name}`, but {what} has no such {} ({}); the kubelet mounts an empty directory there",
                            c.name,
                            if *remapped { "path" } else { "key" },
                            list(if *remapped { "the paths are" } else { "its keys are" }, held)
                        ),
                    ));
                }
            }
        }
    }
}

fn list(intro: &str, set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        return "it is empty".to_string();
    }
    let shown: Vec<String> = set.iter().take(10).map(|k| format!("`{k}`")).collect();
    let more = if set.len() > 10 {
        format!(" and {} more", set.len() - 10)
    } else {
        String::new()
    };
    format!("{intro} {}{more}", shown.join(", "))
}
