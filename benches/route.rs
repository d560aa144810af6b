//! Keys routed per second: `cargo bench --bench route`.
//!
//! Routes 1,000,000 keys through a config with one sharded pool of 8 backends
//! (route_direct, seeded) and through a prefix map with a 3-copy allsync set,
//! the whole path `mclint route` takes per key (router lookup, route tree,
//! XXH3 + jump hash), in pure Rust. Plain timing, no bench framework: the best
//! of 5 runs is reported.

use std::hint::black_box;
use std::time::Instant;

use mclint::proxy::eval::Engine;
use mclint::proxy::{EnvSource, Limits, load};

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

fn run(name: &str, config: &str, keys: &[String]) {
    let cfg = load(name, config, &[], &EnvSource::Unknown, Limits::default());
    assert!(
        cfg.failure.is_none() && cfg.problems.is_empty(),
        "{name}: {:?} {:?}",
        cfg.failure,
        cfg.problems
    );
    let engine = Engine::new(&cfg, "default").unwrap();
    let get = mclint::proxy::model::command_id("get").unwrap();
    let mut hops = Vec::with_capacity(8);
    let mut best = f64::INFINITY;
    let mut checksum = 0usize;
    for _ in 0..5 {
        let start = Instant::now();
        for k in keys {
            hops.clear();
            let sel = engine.select(black_box(k.as_bytes()), get);
            if let Some(r) = sel.route {
                engine.hops(r, k.as_bytes(), get, &mut hops).unwrap();
            }
            checksum = checksum.wrapping_add(hops.iter().map(|h| h.backend).sum::<usize>());
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    black_box(checksum);
    println!(
        "{name}: {} keys in {:.1} ms: {:.1} M keys/s ({:.0} ns/key)",
        keys.len(),
        best * 1e3,
        keys.len() as f64 / best / 1e6,
        best * 1e9 / keys.len() as f64
    );
}

fn main() {
    let keys: Vec<String> = (0..1_000_000)
        .map(|i| format!("user:{i}:profile"))
        .collect();
    run("sharded pool, route_direct", SHARDED, &keys);
    let prefixed: Vec<String> = (0..1_000_000)
        .map(|i| format!("user/{i}:profile"))
        .collect();
    run("prefix map, allsync over 3 copies", REPLICATED, &prefixed);
    // Placement alone: filter + XXH3 + jump.
    let filter = mclint::proxy::model::KeyFilter::None;
    let seed = mclint::proxy::hash::seed_hash(Some("bench"));
    let mut best = f64::INFINITY;
    let mut sum = 0u64;
    for _ in 0..5 {
        let start = Instant::now();
        for k in &keys {
            sum += u64::from(
                mclint::proxy::hash::place(&filter, seed, 8, black_box(k.as_bytes()))
                    .unwrap()
                    .unwrap(),
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    black_box(sum);
    println!(
        "placement only: {:.1} M keys/s",
        keys.len() as f64 / best / 1e6
    );
}
