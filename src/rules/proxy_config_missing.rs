use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-config-missing",
    severity: Severity::Error,
    summary: "A proxy's proxy_arg (or an extra proxy_config library) is not a mounted ConfigMap key in the manifests.",
    docs: r#"## What it checks
For each container running `memcached -o proxy_config=routelib[:LIB],proxy_arg=PATH`,
PATH (and each LIB) is under one of the container's `volumeMounts`, the mount's
volume is a ConfigMap (or a projected ConfigMap) in the manifests, and the
ConfigMap has the key the file maps to (through `subPath` or `items`).

## Why it matters
routelib `dofile`s the path at start-up; a missing file means the proxy exits
(or never becomes ready), and mclint cannot check the routes.

## Example
`proxy_arg=/etc/memcached/proxy.lua` with the ConfigMap mounted at `/etc/proxy`.

## Fix
Mount the ConfigMap at the directory of PATH (or with `subPath`), and make
sure the key exists.
"#,
    fix: "Mount the ConfigMap so that proxy_arg's path is one of its keys.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for f in &ctx.proxies().found {
        let obj = &ctx.objects[f.object];
        for r in std::iter::once(&f.config).chain(f.libs.iter()) {
            if let Err(e) = r {
                out.push(RULE.on(obj, &f.arg_pointer, e.to_string()));
            }
        }
    }
}
