//! Key remapping: how many keys land on a different backend after a change of
//! the proxy config, found by routing the same sample of keys through the old
//! and the new pools with the proxy model's placement
//! (`crate::proxy::placement`: key filter, key hash, jump hash or ring).

use std::collections::{BTreeMap, BTreeSet};

use crate::proxy::placement::Placer;

/// A pool as far as placement is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// `cache`, or `set_copies_a` for zone `a` of the set `set_copies` (the
    /// name a route's `child` uses).
    pub name: String,
    /// Backend identities (`host:port`), in the order the proxy numbers them.
    pub backends: Vec<String>,
    /// How keys reach the backends; `None` when `unmodeled`.
    pub placer: Option<Placer>,
    /// Why keys cannot be placed with the model (an unknown `dist`, a ring
    /// the proxy refuses, ...); such pools are reported, not measured.
    pub unmodeled: Option<String>,
}

/// One route of a proxy config and the pools it sends keys to.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSpec {
    /// `default`, `cmap.get`, `map.foo/`, prefixed by `tag:` for tagged routers.
    pub name: String,
    /// References of the pools reached (sorted, unique).
    pub pools: Vec<String>,
}

/// The placement-relevant part of one routelib config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProxySpec {
    pub pools: Vec<PoolSpec>,
    pub routes: Vec<RouteSpec>,
    /// Resharding windows (`crate::proxy::migration`): (the pool read first,
    /// the old placement read on a miss), by pool name.
    pub migrations: Vec<(String, String)>,
}

impl ProxySpec {
    pub fn pool(&self, name: &str) -> Option<&PoolSpec> {
        self.pools.iter().find(|p| p.name == name)
    }
}

/// The keys routed through both configs, gone through once per measure
/// without being held: synthetic keys are made one at a time, a keys file is
/// read a line at a time on each pass (10 million keys take the memory of
/// one line, not of the file).
#[derive(Debug)]
pub struct Keys {
    from: KeysFrom,
    len: usize,
    /// The first error of a pass over the file (it was readable when counted):
    /// passes cannot fail, so it is kept here and reported after.
    failed: std::cell::RefCell<Option<std::io::Error>>,
}

#[derive(Debug)]
enum KeysFrom {
    Synthetic,
    File(std::path::PathBuf),
}

/// A keys-file line longer than this is refused (memcached keys are at most
/// 250 bytes; memory stays bounded whatever the file holds).
pub const MAX_KEY_LINE: usize = 64 * 1024;

/// `n` deterministic synthetic keys shaped like application keys.
pub fn synthetic_keys(n: usize) -> Keys {
    Keys {
        from: KeysFrom::Synthetic,
        len: n,
        failed: Default::default(),
    }
}

impl Keys {
    /// The keys of a file, one per line (a trailing `\r` removed, empty lines
    /// skipped). Read once here to count them and check each line is UTF-8
    /// text of at most [`MAX_KEY_LINE`] bytes.
    pub fn from_file(path: &std::path::Path) -> std::io::Result<Keys> {
        let keys = Keys {
            from: KeysFrom::File(path.to_path_buf()),
            len: 0,
            failed: Default::default(),
        };
        let mut len = 0;
        keys.read_file(path, &mut |_| len += 1)?;
        Ok(Keys { len, ..keys })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f` with each key, in order. A file that cannot be read again,
    /// or holds other keys than when counted, stops the pass; see
    /// [`Keys::take_error`].
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8])) {
        match &self.from {
            KeysFrom::Synthetic => {
                const KINDS: [&str; 4] = ["user", "session", "product", "page"];
                let mut key = Vec::with_capacity(32);
                for i in 0..self.len {
                    key.clear();
                    key.extend_from_slice(KINDS[i % KINDS.len()].as_bytes());
                    key.push(b':');
                    key.extend_from_slice(i.to_string().as_bytes());
                    f(&key);
                }
            }
            KeysFrom::File(path) => {
                let mut n = 0;
                let read = self.read_file(path, &mut |k| {
                    n += 1;
                    if n <= self.len {
                        f(k);
                    }
                });
                let err = match read {
                    Err(e) => Some(e),
                    Ok(()) if n != self.len => Some(std::io::Error::other(format!(
                        "it changed while being read: {n} keys, {} before",
                        self.len
                    ))),
                    Ok(()) => None,
                };
                if let Some(e) = err {
                    self.failed.borrow_mut().get_or_insert(e);
                }
            }
        }
    }

    /// Why a pass over the keys file stopped, if one did.
    pub fn take_error(&self) -> Option<std::io::Error> {
        self.failed.borrow_mut().take()
    }

    fn read_file(&self, path: &std::path::Path, f: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        use std::io::{BufRead, Read};
        let file = std::fs::File::open(path)?;
        if file.metadata()?.is_dir() {
            return Err(std::io::Error::other("a directory, not a file"));
        }
        let mut r = std::io::BufReader::with_capacity(1 << 16, file);
        let mut line = Vec::with_capacity(256);
        let mut n = 0usize;
        loop {
            line.clear();
            let got = (&mut r)
                .take(MAX_KEY_LINE as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if got == 0 {
                return Ok(());
            }
            n += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            } else if line.len() > MAX_KEY_LINE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "line {n} is longer than {MAX_KEY_LINE} bytes (a memcached key is at most 250)"
                    ),
                ));
            }
            while line.last() == Some(&b'\r') {
                line.pop();
            }
            if std::str::from_utf8(&line).is_err() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {n} is not UTF-8 text"),
                ));
            }
            if !line.is_empty() {
                f(&line);
            }
        }
    }
}

/// The backend a key reaches in a pool (`None`: an empty or unmodeled pool,
/// or a key the pool's filter cannot hash).
fn backend_of<'a>(pool: &'a PoolSpec, key: &[u8]) -> Option<&'a str> {
    let i = pool.placer.as_ref()?.place(key).ok()??;
    pool.backends.get(i as usize).map(String::as_str)
}

/// A pool present on both sides of a route.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PoolRemap {
    pub pool: String,
    pub old_backends: usize,
    pub new_backends: usize,
    /// Share of the sample whose backend in this pool changes (0..=1); `None`
    /// when the pool cannot be modelled.
    pub moved: Option<f64>,
    /// The least any consistent hash could move for this change of backends:
    /// `1 - kept/max(n, m)` (`1 - n/m` when growing from n to m).
    pub ideal: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One route present on both sides.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RouteRemap {
    /// Which config: `ConfigMap ns/name proxy.lua`, or the file.
    pub config: String,
    /// The routes (present on both sides) that reach the same pools; they move
    /// the same keys, so they are measured once.
    pub routes: Vec<String>,
    /// Share of the sample that leaves at least one backend it was on (over
    /// every pool the route reaches): a key that only gains a copy (a replica
    /// added) has not moved.
    pub moved: Option<f64>,
    /// Share of the sample on none of its old backends any more: misses even
    /// for routes that read from several copies.
    pub lost: Option<f64>,
    /// The least any consistent hash could move, pools taken as independent.
    pub ideal: f64,
    pub pools: Vec<PoolRemap>,
    /// Pools the route reaches only in the old or only in the new config.
    pub pools_removed: Vec<String>,
    pub pools_added: Vec<String>,
    /// When the new config reads an old placement on a miss (a resharding
    /// window) for pools of this route: the share of reads that miss after
    /// the change without the window and with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationShare>,
}

/// Reads that miss right after a change, with and without the window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MigrationShare {
    /// Share of keys on none of their old backends in the new placement.
    pub miss_without: f64,
    /// Share of keys on none of their old backends in the new placement nor
    /// in the old placement the window reads.
    pub miss_with: f64,
    /// The old-placement pools the window reads.
    pub old_placements: Vec<String>,
}

impl RouteRemap {
    /// The share `--max-remap` judges: reads missing with the window when a
    /// migration is configured, else keys moved.
    pub fn effective(&self) -> Option<f64> {
        match &self.migration {
            Some(m) => Some(m.miss_with),
            None => self.moved,
        }
    }
}

/// The least share of keys any consistent hash moves when the backend list
/// changes from `old` to `new`.
pub fn ideal_share(old: &[String], new: &[String]) -> f64 {
    let denom = old.len().max(new.len());
    if denom == 0 {
        return 0.0;
    }
    let old_set: BTreeSet<&str> = old.iter().map(String::as_str).collect();
    let new_set: BTreeSet<&str> = new.iter().map(String::as_str).collect();
    let kept = old_set.intersection(&new_set).count();
    1.0 - kept as f64 / denom as f64
}

/// Share of `keys` whose backend differs between two versions of a pool.
pub fn pool_moved(old: &PoolSpec, new: &PoolSpec, keys: &Keys) -> Option<f64> {
    if old.unmodeled.is_some() || new.unmodeled.is_some() || keys.is_empty() {
        return None;
    }
    let mut moved = 0usize;
    keys.for_each(&mut |k| {
        if backend_of(old, k) != backend_of(new, k) {
            moved += 1;
        }
    });
    Some(moved as f64 / keys.len() as f64)
}

fn note_for(old: &PoolSpec, new: &PoolSpec) -> Option<String> {
    old.unmodeled
        .as_ref()
        .map(|r| format!("old config: {r}"))
        .or_else(|| new.unmodeled.as_ref().map(|r| format!("new config: {r}")))
}

/// Compares every route found in both configs. Routes reaching the same pools
/// on both sides are measured once, as one group.
pub fn compare(config: &str, old: &ProxySpec, new: &ProxySpec, keys: &Keys) -> Vec<RouteRemap> {
    let new_routes: BTreeMap<&str, &RouteSpec> =
        new.routes.iter().map(|r| (r.name.as_str(), r)).collect();
    // (pools reached before, pools reached after) -> the routes doing so.
    type Reach = (Vec<String>, Vec<String>);
    let mut groups: Vec<(Reach, Vec<String>)> = Vec::new();
    for old_route in &old.routes {
        let Some(new_route) = new_routes.get(old_route.name.as_str()) else {
            continue;
        };
        let key = (old_route.pools.clone(), new_route.pools.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, names)) => names.push(old_route.name.clone()),
            None => groups.push((key, vec![old_route.name.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|((old_names, new_names), routes)| {
            let old_pools: Vec<&PoolSpec> = old_names.iter().filter_map(|p| old.pool(p)).collect();
            let new_pools: Vec<&PoolSpec> = new_names.iter().filter_map(|p| new.pool(p)).collect();
            let mut r = compare_pools(config, routes, &old_pools, &new_pools, keys);
            r.migration = migration_share(new, &old_pools, &new_pools, keys);
            r
        })
        .collect()
}

fn compare_pools(
    config: &str,
    routes: Vec<String>,
    old_pools: &[&PoolSpec],
    new_pools: &[&PoolSpec],
    keys: &Keys,
) -> RouteRemap {
    // Pair pools by name, then pair what is left by identical backend lists
    // (a renamed pool).
    let mut pairs: Vec<(&PoolSpec, &PoolSpec)> = Vec::new();
    let mut old_left: Vec<&PoolSpec> = Vec::new();
    let mut new_left: Vec<&PoolSpec> = new_pools
        .iter()
        .copied()
        .filter(|np| !old_pools.iter().any(|op| op.name == np.name))
        .collect();
    for op in old_pools {
        if let Some(np) = new_pools.iter().find(|np| np.name == op.name) {
            pairs.push((op, np));
        } else if let Some(i) = new_left.iter().position(|np| np.backends == op.backends) {
            pairs.push((op, new_left.remove(i)));
        } else {
            old_left.push(op);
        }
    }
    let pools: Vec<PoolRemap> = pairs
        .iter()
        .map(|(op, np)| PoolRemap {
            pool: if op.name == np.name {
                op.name.clone()
            } else {
                format!("{} → {}", op.name, np.name)
            },
            old_backends: op.backends.len(),
            new_backends: np.backends.len(),
            moved: pool_moved(op, np, keys),
            ideal: ideal_share(&op.backends, &np.backends),
            note: note_for(op, np),
        })
        .collect();
    let modeled = old_pools
        .iter()
        .chain(new_pools.iter())
        .all(|p| p.unmodeled.is_none());
    let (moved, lost) = if modeled && !keys.is_empty() {
        let (mut moved, mut lost) = (0usize, 0usize);
        keys.for_each(&mut |k| {
            let before = backend_set(old_pools, k);
            let after = backend_set(new_pools, k);
            if !before.is_subset(&after) {
                moved += 1;
            }
            if !before.is_empty() && before.is_disjoint(&after) {
                lost += 1;
            }
        });
        let n = keys.len() as f64;
        (Some(moved as f64 / n), Some(lost as f64 / n))
    } else {
        (None, None)
    };
    // A key keeps every backend only if it keeps it in every pool it was in;
    // a pool no longer reached takes a backend from every key.
    let ideal = if old_left.is_empty() {
        1.0 - pools.iter().map(|p| 1.0 - p.ideal).product::<f64>()
    } else {
        1.0
    };
    RouteRemap {
        config: config.to_string(),
        routes,
        moved,
        lost,
        ideal,
        pools,
        pools_removed: old_left.iter().map(|p| p.name.clone()).collect(),
        pools_added: new_left.iter().map(|p| p.name.clone()).collect(),
        migration: None,
    }
}

/// Reads missing right after the change, with and without the new config's
/// resharding windows, for a route that reaches a pool of one.
fn migration_share(
    new: &ProxySpec,
    old_pools: &[&PoolSpec],
    new_pools: &[&PoolSpec],
    keys: &Keys,
) -> Option<MigrationShare> {
    let is_old_placement = |name: &str| new.migrations.iter().any(|(_, o)| o == name);
    let placed: Vec<&PoolSpec> = new_pools
        .iter()
        .copied()
        .filter(|p| !is_old_placement(&p.name))
        .collect();
    let mut olds: Vec<String> = new
        .migrations
        .iter()
        .filter(|(n, o)| {
            placed.iter().any(|p| p.name == *n) || new_pools.iter().any(|p| p.name == *o)
        })
        .map(|(_, o)| o.clone())
        .collect();
    olds.sort();
    olds.dedup();
    if olds.is_empty() || keys.is_empty() {
        return None;
    }
    let mut window: Vec<&PoolSpec> = placed.clone();
    window.extend(olds.iter().filter_map(|o| new.pool(o)));
    if old_pools
        .iter()
        .chain(window.iter())
        .any(|p| p.unmodeled.is_some())
    {
        return None;
    }
    let (mut without, mut with) = (0usize, 0usize);
    keys.for_each(&mut |k| {
        let before = backend_set(old_pools, k);
        if before.is_empty() {
            return;
        }
        if before.is_disjoint(&backend_set(&placed, k)) {
            without += 1;
        }
        if before.is_disjoint(&backend_set(&window, k)) {
            with += 1;
        }
    });
    let n = keys.len() as f64;
    Some(MigrationShare {
        miss_without: without as f64 / n,
        miss_with: with as f64 / n,
        old_placements: olds,
    })
}

fn backend_set<'a>(pools: &[&'a PoolSpec], key: &[u8]) -> BTreeSet<&'a str> {
    pools.iter().filter_map(|p| backend_of(p, key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::hash;
    use crate::proxy::model::KeyFilter;
    use crate::proxy::placement::{KeyHash, Spread};

    fn pool(name: &str, n: usize, seed: Option<&str>) -> PoolSpec {
        PoolSpec {
            name: name.into(),
            backends: (0..n).map(|i| format!("{name}-{i}.svc:11211")).collect(),
            placer: Some(Placer {
                filter: KeyFilter::None,
                hash: KeyHash::Xxh3(hash::seed_hash(seed)),
                spread: Spread::Jump,
                backends: n as u32,
            }),
            unmodeled: None,
        }
    }

    fn spec(pools: Vec<PoolSpec>) -> ProxySpec {
        let names = pools.iter().map(|p| p.name.clone()).collect();
        ProxySpec {
            pools,
            routes: vec![RouteSpec {
                name: "default".into(),
                pools: names,
            }],
            migrations: Vec::new(),
        }
    }

    #[test]
    fn growing_three_to_four_moves_a_quarter() {
        let keys = synthetic_keys(100_000);
        let r = compare(
            "c",
            &spec(vec![pool("cache", 3, None)]),
            &spec(vec![pool("cache", 4, None)]),
            &keys,
        );
        let moved = r[0].moved.unwrap();
        assert!((moved - 0.25).abs() < 0.01, "{moved}");
        assert!((r[0].ideal - 0.25).abs() < 1e-9);
        assert!((r[0].pools[0].ideal - 0.25).abs() < 1e-9);
    }

    #[test]
    fn reversing_backends_moves_most() {
        let keys = synthetic_keys(30_000);
        let old = pool("cache", 4, None);
        let mut new = old.clone();
        new.backends.reverse();
        let r = compare("c", &spec(vec![old]), &spec(vec![new]), &keys);
        let moved = r[0].moved.unwrap();
        // Slots 0<->3 and 1<->2 swap: every key moves.
        assert!(moved > 0.99, "{moved}");
        assert_eq!(r[0].ideal, 0.0);
    }

    #[test]
    fn changing_the_seed_moves_n_minus_one_over_n() {
        let keys = synthetic_keys(100_000);
        let r = compare(
            "c",
            &spec(vec![pool("cache", 4, Some("a"))]),
            &spec(vec![pool("cache", 4, Some("b"))]),
            &keys,
        );
        let moved = r[0].moved.unwrap();
        assert!((moved - 0.75).abs() < 0.01, "{moved}");
    }

    #[test]
    fn unchanged_pools_move_nothing_and_unmodeled_pools_are_not_measured() {
        let keys = synthetic_keys(1_000);
        let a = spec(vec![pool("cache", 3, None)]);
        assert_eq!(compare("c", &a, &a, &keys)[0].moved, Some(0.0));
        let mut b = a.clone();
        b.pools[0].unmodeled = Some("dist is not jump hash".into());
        let r = compare("c", &a, &b, &keys);
        assert_eq!(r[0].moved, None);
        assert_eq!(r[0].pools[0].moved, None);
        assert!(
            r[0].pools[0]
                .note
                .as_deref()
                .unwrap()
                .contains("new config")
        );
    }

    #[test]
    fn route_total_counts_a_key_once_over_every_copy() {
        let keys = synthetic_keys(50_000);
        let old = spec(vec![
            pool("set_c_a", 3, Some("a")),
            pool("set_c_b", 3, Some("b")),
        ]);
        let new = spec(vec![
            pool("set_c_a", 4, Some("a")),
            pool("set_c_b", 4, Some("b")),
        ]);
        let r = &compare("c", &old, &new, &keys)[0];
        assert_eq!(r.pools.len(), 2);
        // Independent copies: 1 - 0.75^2 = 43.75% of keys change somewhere,
        // 0.25^2 = 6.25% on both copies.
        let moved = r.moved.unwrap();
        assert!((moved - 0.4375).abs() < 0.01, "{moved}");
        let lost = r.lost.unwrap();
        assert!((lost - 0.0625).abs() < 0.01, "{lost}");
        assert!((r.ideal - 0.4375).abs() < 1e-9);
    }

    #[test]
    fn routes_to_the_same_pools_are_measured_once() {
        let keys = synthetic_keys(1_000);
        let mut old = spec(vec![pool("cache", 3, None)]);
        old.routes.push(RouteSpec {
            name: "cmap.get".into(),
            pools: vec!["cache".into()],
        });
        let mut new = old.clone();
        new.pools[0].backends.pop();
        new.routes.push(RouteSpec {
            name: "cmap.set".into(),
            pools: vec!["cache".into()],
        });
        let r = compare("c", &old, &new, &keys);
        assert_eq!(r.len(), 1);
        // Only routes on both sides count.
        assert_eq!(
            r[0].routes,
            vec!["default".to_string(), "cmap.get".to_string()]
        );
        assert!(r[0].moved.unwrap() > 0.2);
    }

    #[test]
    fn renamed_pool_with_the_same_backends_moves_nothing() {
        let keys = synthetic_keys(5_000);
        let old = pool("old", 3, None);
        let mut new = old.clone();
        new.name = "new".into();
        let r = &compare("c", &spec(vec![old]), &spec(vec![new]), &keys)[0];
        assert_eq!(r.moved, Some(0.0));
        assert!(r.pools_removed.is_empty() && r.pools_added.is_empty());
        assert_eq!(r.pools[0].pool, "old → new");
        assert_eq!(r.ideal, 0.0);
    }

    #[test]
    fn adding_a_full_replica_moves_nothing_and_removing_one_moves_everything() {
        let keys = synthetic_keys(5_000);
        let three = spec((0..3).map(|i| single(&format!("set_r_{i}"), i)).collect());
        let four = spec((0..4).map(|i| single(&format!("set_r_{i}"), i)).collect());
        let grow = &compare("c", &three, &four, &keys)[0];
        assert_eq!(
            (grow.moved, grow.lost, grow.ideal),
            (Some(0.0), Some(0.0), 0.0)
        );
        assert_eq!(grow.pools_added, vec!["set_r_3".to_string()]);
        let shrink = &compare("c", &four, &three, &keys)[0];
        // Every key loses its copy on the removed replica, and that is unavoidable;
        // none becomes a miss.
        assert_eq!(
            (shrink.moved, shrink.lost, shrink.ideal),
            (Some(1.0), Some(0.0), 1.0)
        );
    }

    fn single(name: &str, i: usize) -> PoolSpec {
        PoolSpec {
            backends: vec![format!("cache-{i}.svc:11211")],
            ..pool(name, 1, None)
        }
    }

    fn file_keys(bytes: &[u8]) -> std::io::Result<Vec<Vec<u8>>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, bytes).unwrap();
        let keys = Keys::from_file(&path)?;
        let mut got = Vec::new();
        keys.for_each(&mut |k| got.push(k.to_vec()));
        assert!(keys.take_error().is_none());
        assert_eq!(keys.len(), got.len());
        Ok(got)
    }

    #[test]
    fn keys_file_lines() {
        assert_eq!(
            file_keys(b"a\r\n\nb\nc").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        let e = file_keys(b"a\n\xff\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2 is not UTF-8 text");
        let mut long = vec![b'k'; MAX_KEY_LINE + 1];
        long.push(b'\n');
        let e = file_keys(&long).unwrap_err();
        assert!(e.to_string().starts_with("line 1 is longer than"), "{e}");
        long.truncate(MAX_KEY_LINE);
        assert_eq!(file_keys(&long).unwrap().len(), 1);
    }

    #[test]
    fn synthetic_keys_are_made_one_at_a_time() {
        let keys = synthetic_keys(5);
        let mut got = Vec::new();
        keys.for_each(&mut |k| got.push(String::from_utf8(k.to_vec()).unwrap()));
        assert_eq!(
            got,
            ["user:0", "session:1", "product:2", "page:3", "user:4"]
        );
    }
}
