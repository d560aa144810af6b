use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-image-version",
    severity: Severity::Error,
    summary: "A proxy container's image is older than memcached 1.6.38 (error) or not pinned to a version (warning).",
    docs: r#"## What it checks
The image of each routelib proxy container has a version tag of at least
1.6.38 (`memcached:1.6.38`, `memcached:1.6.39-alpine`) or a digest.

A tag older than 1.6.38 is an error, with or without a digest. An image with
no version tag and no digest (`memcached`, `memcached:latest`,
`memcached:1.6`, `memcached:alpine`) is a warning.

## Why it matters
Images before 1.6.38 lack the proxy this chart and mclint are built for:
memcached exits at start-up on `-o proxy_config=routelib,...`, or (in builds
with an older proxy) runs a routelib whose handlers and options differ from
the 1.6.38 one mclint models. `latest` or a bare major tag changes under you
on the next pull.

## Example
`image: memcached:1.6.21` (error), `image: memcached`,
`image: memcached:latest` (warnings).

## Fix
Pin the image: `memcached:1.6.38` (or newer), ideally with a digest.
"#,
    fix: "Pin the proxy image to memcached 1.6.38 or newer.",
    check,
    scope: Scope::Set,
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

/// The tag of an image reference (`registry:5000/memcached:1.6.38@sha256:…`
/// gives `1.6.38`) and whether it has a digest.
fn tag_and_digest(image: &str) -> (Option<&str>, bool) {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, t)| t), digest)
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for f in &ctx.proxies().found {
        let obj = &ctx.objects[f.object];
        let Some(image) = &f.image else { continue };
        let (tag, digest) = tag_and_digest(image);
        let ptr = format!("{}/image", f.container_pointer);
        match tag.and_then(version) {
            Some(v) if v >= (1, 6, 38) => {}
            Some(v) => out.push(RULE.on(
                obj,
                &ptr,
                format!(
                    "proxy container {} runs {image} ({}.{}.{}), older than 1.6.38: images before it lack the proxy mclint models (memcached exits on `-o proxy_config`)",
                    f.container_name, v.0, v.1, v.2
                ),
            )),
            None if digest => {}
            None => {
                let mut finding = RULE.on(
                    obj,
                    &ptr,
                    format!(
                        "proxy container {} runs {image}, which does not pin a memcached version (use a tag like 1.6.38 or a digest)",
                        f.container_name
                    ),
                );
                finding.severity = Severity::Warning;
                out.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests_are_read_from_image_references() {
        assert_eq!(tag_and_digest("memcached:1.6.38"), (Some("1.6.38"), false));
        assert_eq!(
            tag_and_digest("registry:5000/memcached:1.6.21@sha256:abc"),
            (Some("1.6.21"), true)
        );
        assert_eq!(
            tag_and_digest("registry:5000/memcached@sha256:abc"),
            (None, true)
        );
        assert_eq!(tag_and_digest("memcached"), (None, false));
        assert_eq!(version("1.6.39-alpine"), Some((1, 6, 39)));
        assert_eq!(version("1.6"), None);
        assert_eq!(version("latest"), None);
    }
}
