use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;
use crate::memcached::cmdline::{MemcachedArgs, MemcachedContainer, SubOpt};

pub const RULE: Rule = Rule {
    id: "memcached-tls-incomplete",
    severity: Severity::Error,
    summary: "memcached's TLS (`-Z`, `ssl_chain_cert`, `ssl_key`, `ssl_ca_cert`) is half configured, or names files no rendered Secret provides.",
    docs: r#"## What it checks
For every container that runs memcached (cache or proxy):

- `-Z` (`--enable-ssl`) comes with both `-o ssl_chain_cert=FILE` and
  `-o ssl_key=FILE`, and those options (and `ssl_ca_cert`) come with `-Z`;
- a client verification mode (`ssl_verify_mode` 1-3) comes with
  `ssl_ca_cert`;
- each file the options name is under one of the container's `volumeMounts`
  (the most specific mount wins, `subPath` followed), the mount's volume is
  a `secret` volume (or a `projected` volume's `secret` source), and the file
  is one of its keys: the item whose `path` is the file when the volume lists
  `items`, else the key of that name;
- that Secret is in the rendering, in the pod's namespace, and has the key
  (`data` or `stringData`); a cert-manager `Certificate` whose
  `spec.secretName` is the Secret counts (it writes `tls.crt`, `tls.key` and
  `ca.crt`).

Files on other volumes (`emptyDir`, `csi` drivers, a `hostPath`) are not
followed: what they hold is only known at run time.

## Why it matters
memcached loads the certificate and key at start-up and exits when it cannot
(`Error loading the certificate chain`), so a missing file, key or Secret is
a proxy or cache that never starts. `-Z` without `ssl_chain_cert` or
`ssl_key` exits the same way. The reverse is quieter and worse: the `ssl_*`
options without `-Z` are accepted and ignored, and memcached serves plain
text to clients that expect TLS. `ssl_verify_mode` without `ssl_ca_cert`
trusts no client certificate, so every client that presents one is refused.

## Example
```yaml
args: ["-Z", "-o", "ssl_chain_cert=/etc/tls/tls.crt,ssl_key=/etc/tls/tls.key"]
volumeMounts:
  - name: tls
    mountPath: /etc/memcached-tls   # not /etc/tls
```

## Fix
Mount the `kubernetes.io/tls` Secret (or a cert-manager Certificate's Secret)
read-only at the directory the options name, with `items` mapping its keys
to those file names, render the Secret (or the Certificate) with the
release, and give `-Z` together with `ssl_chain_cert` and `ssl_key`.
"#,
    fix: "Give -Z with ssl_chain_cert and ssl_key, and mount them from a rendered Secret that has those keys.",
    check,
    scope: Scope::Set,
};

const FILE_OPTIONS: &[&str] = &["ssl_chain_cert", "ssl_key", "ssl_ca_cert"];

/// Does the rule read anything more of a container with these arguments?
/// Only of one that gives `-Z` or names a TLS file: the pass over
/// documents notes which objects have one ([`crate::manifest::Memcached`]).
pub(crate) fn concerns(a: &MemcachedArgs) -> bool {
    a.last('Z').is_some() || FILE_OPTIONS.iter().any(|n| a.subopt(n).is_some())
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        // Known to give no TLS option: its command lines need no reading.
        if t.obj.doc.memcached().is_some_and(|m| !m.tls) {
            continue;
        }
        for mc in ctx.memcached_of(t.obj).iter() {
            if !concerns(&mc.args) {
                continue;
            }
            check_container(ctx, t.obj, t.namespace(), mc, out);
        }
    }
}

fn check_container(
    ctx: &Context,
    obj: &Object,
    ns: &str,
    mc: &MemcachedContainer,
    out: &mut Vec<Finding>,
) {
    let a = &mc.args;
    let who = format!("container `{}`", mc.container.name);
    let z = a.last('Z');
    let files: Vec<&SubOpt> = FILE_OPTIONS.iter().filter_map(|n| a.subopt(n)).collect();
    match z {
        Some(z) => {
            for needed in ["ssl_chain_cert", "ssl_key"] {
                if a.subopt(needed).is_none() {
                    out.push(RULE.on(
                        obj,
                        &mc.pointer(Some(z.from)),
                        format!(
                            "{who} gives `{}` without `-o {needed}=FILE`: memcached 1.6.38 exits at start-up (it loads the certificate and key before it listens)",
                            z.spelled
                        ),
                    ));
                }
            }
            let verify = a
                .subopt("ssl_verify_mode")
                .filter(|s| !s.unresolved)
                .and_then(|s| Some((s, s.value.as_deref()?.trim().parse::<i64>().ok()?)));
            if let Some((s, mode)) = verify
                && mode != 0
                && a.subopt("ssl_ca_cert").is_none()
            {
                out.push(RULE.on(
                    obj,
                    &mc.pointer(Some(s.from)),
                    format!(
                        "{who} verifies client certificates (`ssl_verify_mode={mode}`) without `ssl_ca_cert`: no CA is trusted, so every client that presents a certificate is refused"
                    ),
                ));
            }
        }
        None => {
            if let Some(first) = files.first() {
                let names: Vec<String> = files.iter().map(|s| format!("`{}`", s.name)).collect();
                out.push(RULE.on(
                    obj,
                    &mc.pointer(Some(first.from)),
                    format!(
                        "{who} sets {} without `-Z`: memcached ignores them and serves plain text",
                        names.join(", ")
                    ),
                ));
            }
            return; // the files are not read
        }
    }
    for s in files {
        if s.unresolved {
            continue;
        }
        let Some(path) = s.value.as_deref().filter(|p| !p.is_empty()) else {
            continue; // memcached refuses the empty option; proxy-option-invalid says so
        };
        if let Err(why) = secret_file(ctx, obj, ns, mc, path) {
            out.push(RULE.on(
                obj,
                &mc.pointer(Some(s.from)),
                format!("{who}: `{}={path}` {why}", s.name),
            ));
        }
    }
}

/// Follows `path` through the container's mounts to a rendered Secret's key.
/// `Ok` when found or when the volume is of a kind whose files are only known
/// at run time; `Err` says what is missing.
fn secret_file(
    ctx: &Context,
    obj: &Object,
    ns: &str,
    mc: &MemcachedContainer,
    path: &str,
) -> Result<(), String> {
    let c = &mc.container;
    let mounts = c.json.get("volumeMounts").and_then(Value::as_array);
    let best = crate::k8s::mount_holding(c.json, path);
    let Some((m, rel)) = best else {
        return Err(format!(
            "is under none of the container's volumeMounts, so the file does not exist in the container{}",
            mount_list(mounts)
        ));
    };
    let vname = m.get("name").and_then(Value::as_str).unwrap_or("");
    let inner = match m
        .get("subPath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(sp) if rel.is_empty() => sp.to_string(),
        Some(sp) => format!("{}/{rel}", sp.trim_end_matches('/')),
        None => rel,
    };
    let inner = inner.trim_start_matches("./").to_string();
    if inner.is_empty() {
        return Err(format!(
            "is the mount point of volume `{vname}`, a directory, not a file"
        ));
    }
    let volume = crate::k8s::pod_spec(obj)
        .and_then(|(_, s)| s.get("volumes"))
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(vname))
        });
    let Some(volume) = volume else {
        return Ok(()); // volume-mount-without-volume says so
    };
    let sources: Vec<&Value> = if let Some(s) = volume.get("secret") {
        vec![s]
    } else if let Some(p) = volume.get("projected") {
        let srcs: Vec<&Value> = p
            .get("sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("secret"))
            .collect();
        if srcs.is_empty() {
            return Err(format!(
                "is on projected volume `{vname}`, which projects no Secret"
            ));
        }
        srcs
    } else if volume.get("configMap").is_some() {
        return Err(format!(
            "is on volume `{vname}`, a ConfigMap: keys and certificates belong in a Secret (a `kubernetes.io/tls` Secret holds `tls.crt`, `tls.key` and `ca.crt`)"
        ));
    } else {
        return Ok(()); // emptyDir, csi, hostPath: known at run time only
    };
    let mut why = Vec::new();
    for src in sources {
        let name = src
            .get("secretName")
            .or_else(|| src.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let items = src
            .get("items")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty());
        let key = match items {
            Some(items) => {
                let found = items.iter().find(|i| {
                    i.get("path")
                        .and_then(Value::as_str)
                        .map(|p| p.trim_start_matches("./"))
                        == Some(inner.as_str())
                });
                match found.and_then(|i| i.get("key")).and_then(Value::as_str) {
                    Some(k) => k.to_string(),
                    None => {
                        let paths: Vec<String> = items
                            .iter()
                            .filter_map(|i| i.get("path").and_then(Value::as_str))
                            .map(|p| format!("`{p}`"))
                            .collect();
                        why.push(format!(
                            "the `items` of Secret `{name}` in volume `{vname}` map no key to `{inner}` (their paths: {})",
                            paths.join(", ")
                        ));
                        continue;
                    }
                }
            }
            None => inner.clone(),
        };
        match secret_keys(ctx, ns, name) {
            None => why.push(format!(
                "Secret `{name}` (volume `{vname}`) is not in the rendering in namespace `{ns}`, nor a cert-manager Certificate that writes it"
            )),
            Some(keys) if keys.contains(&key) => return Ok(()),
            Some(keys) => why.push(format!(
                "Secret `{name}` (volume `{vname}`) has no key `{key}` ({})",
                if keys.is_empty() {
                    "it has none".to_string()
                } else {
                    format!(
                        "its keys: {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )),
        }
    }
    Err(format!("is not provided: {}", why.join("; ")))
}

/// The keys of Secret `name` in `ns` as the rendering gives it, or those a
/// cert-manager Certificate writing it provides; `None` when neither is there.
fn secret_keys(ctx: &Context, ns: &str, name: &str) -> Option<Vec<String>> {
    if let Some(s) = xref::object_named(ctx, "Secret", ns, name) {
        let mut keys = Vec::new();
        for field in ["data", "stringData"] {
            if let Some(m) = s.json.get(field).and_then(Value::as_object) {
                keys.extend(m.keys().map(|k| k.to_string()));
            }
        }
        keys.sort();
        keys.dedup();
        return Some(keys);
    }
    let by_cert_manager = ctx.objects.iter().any(|o| {
        o.kind == "Certificate"
            && o.api_version.starts_with("cert-manager.io/")
            && o.effective_namespace() == ns
            && o.json.pointer("/spec/secretName").and_then(Value::as_str) == Some(name)
    });
    by_cert_manager.then(|| vec!["ca.crt".into(), "tls.crt".into(), "tls.key".into()])
}

fn mount_list(mounts: Option<&[Value]>) -> String {
    let paths: Vec<String> = mounts
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("mountPath").and_then(Value::as_str))
        .map(|p| format!("`{p}`"))
        .collect();
    if paths.is_empty() {
        " (it mounts nothing)".to_string()
    } else {
        format!(" (its mounts: {})", paths.join(", "))
    }
}
