use super::{Context, Rule};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-image-version",
    severity: Severity::Warning,
    summary: "A proxy container's image is older than memcached 1.6.38 or not pinned to a version.",
    docs: r#"## What it checks
The image of each routelib proxy container has a version tag of at least
1.6.38 (`memcached:1.6.38`, `memcached:1.6.39-alpine`) or a digest.

## Why it matters
mclint models routelib and the proxy as shipped in 1.6.38; older proxies
differ (routelib arrived in 1.6.22, route handlers and options changed since),
and `latest` or a bare major tag changes under you on the next pull.

## Example
`image: memcached`, `image: memcached:1.6.21`, `image: memcached:latest`.

## Fix
Pin the image: `memcached:1.6.38` (or newer), ideally with a digest.
"#,
    fix: "Pin the proxy image to memcached 1.6.38 or newer.",
    check,
};

/// (major, minor, patch) of a tag like `1.6.38` or `1.6.38-alpine`.
fn version(tag: &str) -> Option<(u64, u64, u64)> {
    let v = tag.split(['-', '_']).next()?;
    let mut it = v.split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next()?.parse().ok()?;
    Some((a, b, c))
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for f in &crate::proxy::proxies(ctx).found {
        let obj = &ctx.objects[f.object];
        let Some(image) = &f.image else { continue };
        if image.contains("@sha256:") {
            continue;
        }
        let last = image.rsplit('/').next().unwrap_or(image);
        let tag = last.split_once(':').map(|(_, t)| t);
        let ptr = format!("{}/image", f.container_pointer);
        match tag.and_then(version) {
            Some(v) if v >= (1, 6, 38) => {}
            Some(v) => out.push(RULE.on(
                obj,
                &ptr,
                format!(
                    "proxy container {} runs {image} ({}.{}.{}), older than 1.6.38, the routelib mclint models",
                    f.container_name, v.0, v.1, v.2
                ),
            )),
            None => out.push(RULE.on(
                obj,
                &ptr,
                format!(
                    "proxy container {} runs {image}, which does not pin a memcached version (use a tag like 1.6.38 or a digest)",
                    f.container_name
                ),
            )),
        }
    }
}
