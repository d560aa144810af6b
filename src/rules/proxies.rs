//! What the proxy rules share: the loaded configs of a run, walked three ways,
//! and findings placed in a config (a `.lua` file, or the ConfigMap key a
//! proxy mounts).

use super::{Context, Rule};
use crate::finding::Finding;
use crate::manifest::Object;
use crate::proxy::manifest::{self, FoundProxy};
use crate::proxy::{Loaded, Origin, model};

impl Loaded {
    /// A finding of `rule` at `line` of this config. For a ConfigMap it points at
    /// the rendered line (and the template) and names the config line.
    pub fn finding(
        &self,
        ctx: &Context,
        rule: &Rule,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Finding {
        let message = message.into();
        match &self.origin {
            Origin::File(name) => rule.on_file(name, line, message),
            Origin::Manifest { mounted, .. } => {
                let cm = &ctx.objects[mounted.configmap];
                let at = match line {
                    Some(n) => format!("{} line {n}: ", mounted.key),
                    None => format!("{}: ", mounted.key),
                };
                let mut f = Finding::new(rule.id, rule.severity, format!("{at}{message}"));
                f.object = Some(cm.reference());
                f.location = manifest::location(&ctx.objects, mounted, line);
                f.help = Some(rule.fix.into());
                f
            }
        }
    }
}

impl Loaded {
    /// The namespace of the workload running this config (None for a `.lua` input).
    pub fn namespace<'c>(&self, ctx: &'c Context) -> Option<&'c str> {
        let Origin::Manifest { proxy, .. } = &self.origin else {
            return None;
        };
        let f = &ctx.proxies().found[*proxy];
        Some(ctx.objects[f.object].effective_namespace())
    }
}

/// Every loaded config.
pub fn configs<'c>(ctx: &'c Context) -> impl Iterator<Item = &'c Loaded> {
    ctx.proxies().configs.iter()
}

/// The configs mounted into proxies of the manifests (`.lua` inputs left
/// out), each with its proxy and the object that runs it.
pub fn manifest_configs<'c, 'a>(
    ctx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Loaded, &'c FoundProxy, &'c Object<'a>)> {
    let proxies = ctx.proxies();
    proxies.configs.iter().filter_map(move |c| {
        let Origin::Manifest { proxy, .. } = &c.origin else {
            return None;
        };
        let f = &proxies.found[*proxy];
        Some((c, f, &ctx.objects[f.object]))
    })
}

/// Calls `f` with each builtin (`route_*`) handler of every loaded config,
/// and the config it is in.
pub fn builtin_routes<'c>(ctx: &'c Context, f: &mut dyn FnMut(&'c Loaded, &'c model::Route)) {
    for c in configs(ctx) {
        c.model.routes(&mut |r| {
            if r.kind == model::HandlerKind::Builtin {
                f(c, r);
            }
        });
    }
}
