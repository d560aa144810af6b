use std::collections::HashMap;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-same-seed",
    severity: Severity::Warning,
    summary: "Two pools hash keys with the same seed, so their copies of a key sit at the same position.",
    docs: r#"## What it checks
Pools with more than one backend that share an explicit `seed`, and zones of
one pool set (replicas) with more than one backend that share a seed
(including none). The two placements of a resharding window (see
`migration-finished`) share their seed on purpose and are left out.

## Why it matters
The seed decides which position a key takes. Replicas with the same seed and
the same number of backends put each key at the same position in each copy:
pods with the same ordinal hold the same keys, so losing the same ordinal in
every copy (a zone outage, a rolling update) loses those keys everywhere.

## Example
`set_copies = { a = { backends = {...} }, b = { backends = {...} } }` with no seeds.

## Fix
Give each copy its own `options = { seed = "<copy name>" }`.
"#,
    fix: "Give each replica pool its own `options = { seed = ... }`.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        // A resharding window's two placements share their seed on purpose.
        let migrations = crate::proxy::migration::find(m);
        let pools: Vec<(usize, &crate::proxy::model::Pool)> = m
            .pools
            .iter()
            .enumerate()
            .filter(|(_, p)| p.backends.len() > 1)
            .collect();
        // Pools hash alike when they share a seed, or have none and share a
        // set: grouped by that, each pair is found without comparing every
        // pool with every other (a config of thousands of pools).
        let mut groups: HashMap<(bool, &str), Vec<usize>> = HashMap::new();
        for (n, (_, p)) in pools.iter().enumerate() {
            let key = match (&p.seed, &p.set) {
                (Some(seed), _) => (true, seed.as_str()),
                (None, Some(set)) => (false, set.as_str()),
                (None, None) => continue,
            };
            groups.entry(key).or_default().push(n);
        }
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for members in groups.values() {
            for (k, &n) in members.iter().enumerate() {
                pairs.extend(members[k + 1..].iter().map(|&m| (n, m)));
            }
        }
        // In the order of the pools, as a scan of every pair reports them.
        pairs.sort_unstable();
        for (n, m) in pairs {
            let (i, a) = pools[n];
            let (j, b) = pools[m];
            if i != j && !crate::proxy::migration::pairs_up(&migrations, i, j) {
                let seed = a
                    .seed
                    .as_deref()
                    .map(|s| format!("seed \"{s}\""))
                    .unwrap_or_else(|| "no seed".into());
                out.push(c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!(
                            "pools {} and {} hash with the same {seed}: a key takes the same position in both",
                            a.reference(),
                            b.reference()
                        ),
                    ));
            }
        }
    }
}
