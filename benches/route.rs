//! Keys routed per second, measured with criterion: `cargo bench --bench route`.
//!
//! Each group times one pass over a 1,000,000-key file, with
//! `Throughput::Elements` so criterion reports keys/s. The file is written
//! once to a temporary directory and read back as `mclint route --keys-file`
//! reads it (`route::keys_in`):
//!
//! - `sharded_pool`: one pool of 8 backends behind `route_direct` (seeded), the
//!   routing `mclint route` does per key (router lookup, route tree,
//!   XXH3 + jump hash);
//! - `keys_file`: the same, plus reading and splitting the file each pass;
//! - `cli_text`: what `mclint route --keys-file` does after reading its
//!   arguments (`route::run_with`): load the config, read the file, write
//!   each key's text line (to a sink);
//! - `prefix_map`: a prefix map whose `user` entry is `route_allsync` over a
//!   set of 3 copies (3 placements per key);
//! - `ring`: a ketama `mcp.dist_ring_hash` pool of 8 backends;
//! - `placement`: key filter + XXH3 + jump alone, 8 buckets.
//!
//! The keys are generated from their index, so every run measures the same
//! input. Before timing, each group routes the whole key set once and checks
//! the result (hop counts, every backend reached), so a config that stops
//! routing fails the bench instead of timing an error path.
//!
//! Under `cargo test --benches` criterion runs each routine once as a smoke
//! test; plain `cargo test` does not build this target.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

use mclint::proxy::eval::{Engine, Hop};
use mclint::proxy::hash::{place, seed_hash};
use mclint::proxy::model::{KeyFilter, command_id};
use mclint::proxy::{EnvSource, Limits, ProxyConfig, load};
use mclint::report::route::{RouteFormat, write_streamed};
use mclint::route::{RouteError, RouteRequest, keys_in, run_with};

/// Keys per pass.
const KEYS: usize = 1_000_000;

const SHARDED: &str = r#"
pools {
    main = {
        options = { seed = "bench" },
        backends = {
            "cache-0.cache:11211", "cache-1.cache:11211", "cache-2.cache:11211", "cache-3.cache:11211",
            "cache-4.cache:11211", "cache-5.cache:11211", "cache-6.cache:11211", "cache-7.cache:11211",
        },
    },
}
routes { default = route_direct { child = "main" } }
"#;

const REPLICATED: &str = r#"
pools {
    set_copies = {
        a = { options = { seed = "a" }, backends = { "a0:11211", "a1:11211", "a2:11211", "a3:11211" } },
        b = { options = { seed = "b" }, backends = { "b0:11211", "b1:11211", "b2:11211", "b3:11211" } },
        c = { options = { seed = "c" }, backends = { "c0:11211", "c1:11211", "c2:11211", "c3:11211" } },
    },
    other = { backends = { "o0:11211", "o1:11211" } },
}
routes {
    map = { user = route_allsync { children = "set_copies" } },
    default = route_direct { child = "other" },
}
"#;

const RING: &str = r#"
pools {
    main = {
        options = { dist = mcp.dist_ring_hash, omode = "ketama" },
        backends = {
            "cache-0.cache:11211", "cache-1.cache:11211", "cache-2.cache:11211", "cache-3.cache:11211",
            "cache-4.cache:11211", "cache-5.cache:11211", "cache-6.cache:11211", "cache-7.cache:11211",
        },
    },
}
routes { default = route_direct { child = "main" } }
"#;

/// A keys file of `{prefix}{i}:profile` for `i` in `0..KEYS`, one per line, in
/// a temporary directory removed when dropped.
struct KeysFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl KeysFile {
    fn new(prefix: &str) -> KeysFile {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("keys.txt");
        let mut text = String::with_capacity(KEYS * 24);
        for i in 0..KEYS {
            text.push_str(&format!("{prefix}{i}:profile\n"));
        }
        std::fs::write(&path, text).expect("write the keys file");
        KeysFile { _dir: dir, path }
    }

    fn read(&self) -> String {
        std::fs::read_to_string(&self.path).expect("read the keys file")
    }
}

/// The keys of a keys file's text, as `mclint route --keys-file` splits it.
fn keys(text: &str) -> Vec<&str> {
    let keys: Vec<&str> = keys_in(text).collect();
    assert_eq!(keys.len(), KEYS, "the keys file holds {KEYS} keys");
    keys
}

fn config(name: &str, text: &str) -> ProxyConfig {
    let cfg = load(name, text, &[], &EnvSource::Unknown, Limits::default());
    assert!(
        cfg.failure.is_none() && cfg.problems.is_empty(),
        "{name}: the bench config does not load: {:?} {:?}",
        cfg.failure,
        cfg.problems
    );
    cfg
}

/// Routes every key as a `get`; returns a checksum of the backends reached.
/// `check` sees each key's hops (used once, before timing).
fn route_all(engine: &Engine, keys: &[&str], mut check: impl FnMut(&str, &[Hop])) -> usize {
    let get = command_id("get").expect("get is a proxy command");
    let mut hops = Vec::with_capacity(8);
    let mut checksum = 0usize;
    for k in keys {
        hops.clear();
        let key = black_box(k.as_bytes());
        let sel = engine.select(key, get);
        if let Some(r) = sel.route
            && let Err(e) = engine.hops(r, key, get, &mut hops)
        {
            panic!("{k}: {e}");
        }
        check(k, &hops);
        checksum = checksum.wrapping_add(hops.iter().map(|h| h.backend).sum::<usize>());
    }
    checksum
}

/// Sets the group's throughput and a measurement budget that keeps the
/// whole run to about a minute: one pass is tens of milliseconds, so flat
/// sampling (equal iterations per sample) with the minimum 10 samples.
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .throughput(Throughput::Elements(KEYS as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
}

fn sharded_pool(c: &mut Criterion) {
    let cfg = config("sharded", SHARDED);
    let engine = Engine::new(&cfg, "default").expect("the sharded config has a default router");
    let file = KeysFile::new("user:");
    let text = file.read();
    let keys = keys(&text);

    let mut per_backend = [0usize; 8];
    route_all(&engine, &keys, |k, hops| {
        assert_eq!(
            hops.len(),
            1,
            "{k}: route_direct gives one hop, got {hops:?}"
        );
        per_backend[hops[0].backend] += 1;
    });
    assert!(
        per_backend.iter().all(|&n| n > KEYS / 16),
        "the keys do not spread over the 8 backends: {per_backend:?}"
    );

    let mut group = c.benchmark_group("sharded_pool");
    configure(&mut group);
    group.bench_function("route_direct_8_backends", |b| {
        b.iter(|| route_all(&engine, &keys, |_, _| ()));
    });
    group.finish();

    let mut group = c.benchmark_group("keys_file");
    configure(&mut group);
    group.bench_function("read_and_route_8_backends", |b| {
        b.iter(|| {
            let text = file.read();
            let keys: Vec<&str> = keys_in(&text).collect();
            route_all(&engine, &keys, |_, _| ())
        });
    });
    group.finish();

    // The CLI's path after its arguments are read: load the config, read
    // the keys file, write each key's text line (to a sink).
    let dir = tempfile::tempdir().expect("a temporary directory");
    let proxy = dir.path().join("proxy.lua");
    std::fs::write(&proxy, SHARDED).expect("write the config");
    let req = RouteRequest {
        proxy_config: Some(proxy),
        keys_file: Some(file.path.clone()),
        command: "get".into(),
        tag: "default".into(),
        ..RouteRequest::default()
    };
    let cli = |out: &mut dyn std::io::Write| {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        let summary = run_with(&req, &mut |item| {
            write_streamed(RouteFormat::Text, &item, &mut out).map_err(RouteError::Write)
        })
        .expect("the bench keys route");
        assert!(summary.is_none(), "placements are streamed, not summarised");
    };
    let mut check = Vec::new();
    cli(&mut check);
    let check = String::from_utf8(check).unwrap();
    assert_eq!(check.lines().count(), KEYS, "one text line per key");
    assert!(
        check.starts_with("get user:0:profile  route default  -> main cache-"),
        "the text line names the pool and backend"
    );
    drop(check);
    let mut group = c.benchmark_group("cli_text");
    configure(&mut group);
    group.bench_function("read_route_write_8_backends", |b| {
        b.iter(|| cli(&mut std::io::sink()));
    });
    group.finish();
}

fn ring(c: &mut Criterion) {
    let cfg = config("ring", RING);
    let engine = Engine::new(&cfg, "default").expect("the ring config has a default router");
    let file = KeysFile::new("user:");
    let text = file.read();
    let keys = keys(&text);
    let mut per_backend = [0usize; 8];
    route_all(&engine, &keys, |_, hops| per_backend[hops[0].backend] += 1);
    assert!(
        per_backend.iter().all(|&n| n > KEYS / 16),
        "the keys do not spread over the 8 backends of the ring: {per_backend:?}"
    );
    let mut group = c.benchmark_group("ring");
    configure(&mut group);
    group.bench_function("ketama_8_backends", |b| {
        b.iter(|| route_all(&engine, &keys, |_, _| ()));
    });
    group.finish();
}

fn prefix_map(c: &mut Criterion) {
    let cfg = config("replicated", REPLICATED);
    let engine = Engine::new(&cfg, "default").expect("the replicated config has a default router");
    let file = KeysFile::new("user/");
    let text = file.read();
    let keys = keys(&text);

    route_all(&engine, &keys, |k, hops| {
        assert_eq!(
            hops.len(),
            3,
            "{k}: allsync over 3 copies gives 3 hops, got {hops:?}"
        );
        let mut pools: Vec<_> = hops.iter().map(|h| h.pool).collect();
        pools.sort();
        pools.dedup();
        assert_eq!(
            pools.len(),
            3,
            "{k}: the 3 hops go to 3 different copies: {hops:?}"
        );
    });

    let mut group = c.benchmark_group("prefix_map");
    configure(&mut group);
    group.bench_function("allsync_3_copies", |b| {
        b.iter(|| route_all(&engine, &keys, |_, _| ()));
    });
    group.finish();
}

fn placement(c: &mut Criterion) {
    let file = KeysFile::new("user:");
    let text = file.read();
    let keys = keys(&text);
    let filter = KeyFilter::None;
    let seed = seed_hash(Some("bench"));
    let place_all = |keys: &[&str]| -> u64 {
        let mut sum = 0u64;
        for k in keys {
            match place(&filter, seed, 8, black_box(k.as_bytes())) {
                Ok(Some(b)) => sum += u64::from(b),
                other => panic!("{k}: placement over 8 buckets failed: {other:?}"),
            }
        }
        sum
    };

    // The mean bucket of 1M evenly placed keys is about 3.5.
    let mean = place_all(&keys) as f64 / KEYS as f64;
    assert!(
        (3.4..3.6).contains(&mean),
        "placement is not spread over 8 buckets: mean bucket {mean}"
    );

    let mut group = c.benchmark_group("placement");
    configure(&mut group);
    group.bench_function("xxh3_jump_8_buckets", |b| {
        b.iter(|| place_all(&keys));
    });
    group.finish();
}

fn criterion() -> Criterion {
    Criterion::default().without_plots()
}

criterion_group! {
    name = route;
    config = criterion();
    targets = sharded_pool, prefix_map, ring, placement
}
criterion_main!(route);
