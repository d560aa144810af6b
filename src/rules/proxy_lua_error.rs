use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-lua-error",
    severity: Severity::Error,
    summary: "The proxy config (Lua) does not load: a syntax or runtime error, or it runs away.",
    docs: r#"## What it checks
Runs every routelib config (a `.lua` file, or the ConfigMap key a proxy
container's `proxy_arg` points at) in a sandboxed Lua 5.4 VM with mclint's
model of routelib's configuration API, and reports a Lua syntax error, a
runtime error, or a config that loops or allocates without end (stopped after a
bounded number of instructions, time and memory). `dofile` and `loadfile` open
only files the proxy can reach (in a manifest, a ConfigMap key mounted into the
proxy container; for a `.lua` file given directly, a file under its directory,
by a relative path); any other path is reported here with the reason, as a
missing file makes the proxy refuse the config.

## Why it matters
The proxy runs the same file at start-up and on every reload; an error there
means it serves nothing (or keeps the old config after a reload).

## Example
`pools { main = { backends = { "a:11211" } }` (a missing `}`), or
`local zone = nil .. "x"`.

## Fix
Fix the Lua at the line named; `luac -p FILE` checks the syntax.
"#,
    fix: "Fix the Lua at the line named in the message.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        if let Some(f) = &c.model.failure {
            let msg = if f.file != c.model.name {
                format!(
                    "{} (in library {}{})",
                    f.message,
                    f.file,
                    f.line.map(|l| format!(" line {l}")).unwrap_or_default()
                )
            } else {
                f.message.clone()
            };
            let line = if f.file == c.model.name { f.line } else { None };
            out.push(c.finding(ctx, &RULE, line, msg));
        }
    }
}
