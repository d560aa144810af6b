//! Resharding windows: a pool's new placement read first and its old
//! placement on a miss.
//!
//! While a sharded pool changes size, a config can keep the old backend list
//! as a second pool and read it when the new placement misses:
//! `route_failover { children = { "cache", "cache_old" }, miss = true }`.
//! This module finds such pairs structurally, so the rules and `mclint diff`
//! agree on what a migration is: a `route_failover` over exactly two pools,
//! listed in order, that treats a miss as a failure, where both pools hash
//! with the same seed and list the same first backend (the same shard 0).

use super::model::{ListForm, ProxyConfig, Route, SlotValue, Target};
use super::value::Lv;

/// One migration: reads go to `new` first and to `old` on a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Index into `ProxyConfig::pools` of the placement read first.
    pub new: usize,
    /// Index of the placement read on a miss.
    pub old: usize,
    /// The line of the route_failover that pairs them.
    pub line: Option<u32>,
}

/// Every distinct migration pair of a config, in route order.
pub fn find(cfg: &ProxyConfig) -> Vec<Migration> {
    let mut out: Vec<Migration> = Vec::new();
    cfg.routes(&mut |r| {
        if let Some(m) = pair(cfg, r)
            && !out.iter().any(|o| o.new == m.new && o.old == m.old)
        {
            out.push(m);
        }
    });
    out
}

/// Is pool `i` one side of a migration of `cfg`?
pub fn involves(pairs: &[Migration], i: usize) -> bool {
    pairs.iter().any(|m| m.new == i || m.old == i)
}

/// Are pools `a` and `b` the two sides of one migration?
pub fn pairs_up(pairs: &[Migration], a: usize, b: usize) -> bool {
    pairs
        .iter()
        .any(|m| (m.new == a && m.old == b) || (m.new == b && m.old == a))
}

fn pair(cfg: &ProxyConfig, r: &Route) -> Option<Migration> {
    if r.handler != "failover" || !matches!(r.arg("miss"), Some(Lv::Bool(true))) {
        return None;
    }
    let Some(SlotValue::Many(list, ListForm::List)) = r.slot("children") else {
        return None;
    };
    let [(_, Target::Pool(new)), (_, Target::Pool(old))] = list.as_slice() else {
        return None;
    };
    let (a, b) = (&cfg.pools[*new], &cfg.pools[*old]);
    if new == old || a.seed_hash != b.seed_hash || a.dist != b.dist {
        return None;
    }
    let first = |p: &super::model::Pool| p.backends.first().map(|b| b.address());
    if first(a).is_none() || first(a) != first(b) {
        return None;
    }
    Some(Migration {
        new: *new,
        old: *old,
        line: r.line,
    })
}

/// How the old placement's backend list relates to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// The same list: nothing moves, the migration is over.
    Same,
    /// The old list is the new one's first `n` (the pool grew from n).
    Grew(usize),
    /// The new list is the old one's first `n` (the pool shrank to n).
    Shrank(usize),
    /// Neither is a prefix of the other: the index of the first difference.
    Diverges(usize),
}

/// Compares the two placements of a migration by backend address.
pub fn shape(cfg: &ProxyConfig, m: &Migration) -> Shape {
    let new: Vec<String> = cfg.pools[m.new]
        .backends
        .iter()
        .map(|b| b.address())
        .collect();
    let old: Vec<String> = cfg.pools[m.old]
        .backends
        .iter()
        .map(|b| b.address())
        .collect();
    let common = new.iter().zip(&old).take_while(|(a, b)| a == b).count();
    if common == new.len() && common == old.len() {
        Shape::Same
    } else if common == old.len() {
        Shape::Grew(old.len())
    } else if common == new.len() {
        Shape::Shrank(new.len())
    } else {
        Shape::Diverges(common)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> ProxyConfig {
        super::super::load(
            "t.lua",
            text,
            &[],
            &super::super::EnvSource::default(),
            super::super::Limits::default(),
        )
    }

    const GREW: &str = r#"
pools {
    cache = { backends = { "a:1", "b:1", "c:1", "d:1" } },
    cache_old = { backends = { "a:1", "b:1", "c:1" } },
}
routes {
    cmap = { get = route_failover { children = { "cache", "cache_old" }, miss = true } },
    default = route_direct { child = "cache" },
}
"#;

    #[test]
    fn finds_a_grown_pool() {
        let cfg = load(GREW);
        let pairs = find(&cfg);
        assert_eq!(pairs.len(), 1, "{cfg:?}");
        let m = pairs[0];
        assert_eq!(cfg.pools[m.new].name, "cache");
        assert_eq!(cfg.pools[m.old].name, "cache_old");
        assert_eq!(shape(&cfg, &m), Shape::Grew(3));
        assert!(pairs_up(&pairs, m.old, m.new));
    }

    #[test]
    fn a_failover_without_miss_is_no_migration() {
        let cfg = load(&GREW.replace(", miss = true", ""));
        assert!(find(&cfg).is_empty());
    }

    #[test]
    fn different_seeds_or_first_backends_are_no_migration() {
        let seeded = GREW.replace(
            "cache_old = { backends",
            "cache_old = { options = { seed = \"x\" }, backends",
        );
        assert!(find(&load(&seeded)).is_empty());
        let other = GREW.replace(
            "{ \"a:1\", \"b:1\", \"c:1\" }",
            "{ \"z:1\", \"b:1\", \"c:1\" }",
        );
        assert!(find(&load(&other)).is_empty());
    }

    #[test]
    fn shapes() {
        let shrank = GREW
            .replace("\"c:1\", \"d:1\" } },", "\"c:1\" } },\n")
            .replace(
                "cache_old = { backends = { \"a:1\", \"b:1\", \"c:1\" } }",
                "cache_old = { backends = { \"a:1\", \"b:1\", \"c:1\", \"d:1\" } }",
            );
        let cfg = load(&shrank);
        assert_eq!(shape(&cfg, &find(&cfg)[0]), Shape::Shrank(3));
        let same = GREW.replace("\"c:1\", \"d:1\" } },", "\"c:1\" } },");
        let cfg = load(&same);
        assert_eq!(shape(&cfg, &find(&cfg)[0]), Shape::Same);
        let diverges = GREW.replace(
            "cache_old = { backends = { \"a:1\", \"b:1\", \"c:1\" } }",
            "cache_old = { backends = { \"a:1\", \"c:1\", \"b:1\" } }",
        );
        let cfg = load(&diverges);
        assert_eq!(shape(&cfg, &find(&cfg)[0]), Shape::Diverges(1));
    }
}
