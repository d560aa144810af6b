use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "proxy-tags-filter-repeat",
    severity: Severity::Error,
    summary: "A `tags` key filter uses the same character to open and close the tag: the proxy crashes.",
    docs: r#"## What it checks
A pool with `filter = "tags"` has a `filter_conf` whose first two characters
differ (`"{}"`, not `"$$"`).

## Why it matters
The 1.6.38 proxy looks for the closing character starting at the opening one;
with both the same it finds the opening character again, computes a negative
length and crashes on the first key that contains it.

## Example
`options = { filter = "tags", filter_conf = "$$" }`.

## Fix
Use two different characters, such as `{}`.
"#,
    fix: "Use two different characters for the tags filter, such as `{}`.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in &c.model.pools {
            if let (Some(Lv::Str(f)), Some(Lv::Str(conf))) =
                (p.effective.get("filter"), p.effective.get("filter_conf"))
                && f == "tags"
                && conf.len() >= 2
                && conf.as_bytes()[0] == conf.as_bytes()[1]
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    c.model.find_line(p.line, "filter_conf").or(p.line),
                    format!(
                        "pool {}: tags filter_conf \"{conf}\" repeats its delimiter; the proxy crashes on the first key containing `{}`",
                        p.reference(),
                        conf.chars().next().unwrap_or(' ')
                    ),
                ));
            }
        }
    }
}
