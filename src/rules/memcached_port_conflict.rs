use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::Listener;

pub const RULE: Rule = Rule {
    id: "memcached-port-conflict",
    severity: Severity::Error,
    summary: "Two memcached processes of one pod listen on the same port: the second cannot bind.",
    docs: r#"## What it checks
For the containers of one pod that run memcached at the same time (regular
containers and native sidecars), the TCP listeners their command lines open
(`-p`, default 11211, on every interface or on each `-l` address): no two
bind the same port on overlapping addresses. Every-interface overlaps
everything; two distinct addresses do not.

## Why it matters
A pod's containers share one network namespace. The process that starts
second fails to bind ("failed to listen on TCP port ... Address already in
use") and exits, so its container crash-loops. This is easy to miss when the
declared `containerPort`s differ but a `-p` was left at its default, as with
a local cache sidecar next to the proxy, both on 11211.

## Example
A proxy sidecar with `-p 11211` and a local cache sidecar with no `-p`.

## Fix
Give each memcached its own `-p` (and update its declared port, probes and
the proxy config that points at it).
"#,
    fix: "Give each memcached of the pod its own -p (and its containerPort, probes and proxy backend).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let mut seen: Vec<(String, Vec<Listener>)> = Vec::new();
        for cm in ctx.memory_of(t.obj).iter() {
            let mc = &cm.mc;
            let Some(listeners) = mc.args.tcp_listeners() else {
                continue;
            };
            for (name, theirs) in &seen {
                let clash = listeners
                    .iter()
                    .find(|l| theirs.iter().any(|o| o.clashes(l)));
                if let Some(l) = clash {
                    let at = mc.pointer(mc.args.port.from);
                    out.push(RULE.on(
                        t.obj,
                        &at,
                        format!(
                            "the {} container `{}` and container `{name}` both listen on port {}{}: the one that starts second cannot bind and exits",
                            mc.role.as_str(),
                            mc.container.name,
                            l.port,
                            if mc.args.port.is_set() { "" } else { " (memcached's default, no -p given)" }
                        ),
                    ));
                }
            }
            seen.push((mc.container.name.to_string(), listeners));
        }
    }
}
