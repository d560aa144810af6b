//! A route_ttl rewrites the request it shares with the children of a
//! parallel route (allsync, allfastest, split); a child sent before
//! it sends a malformed command, and a route_failover there takes that error
//! as a failure and retries with the rewritten request, which its next child
//! stores with the route_ttl's TTL. `mclint route` follows that retry: in the
//! differential style, keys are set through the real 1.6.38 proxy, every
//! backend is asked which keys it holds (and with which TTL), and the
//! backends must be exactly those `mclint route --command set` lists
//! (failover backends aside); with a backend stopped, each set's reply must be
//! the one `mclint route --fail` gives.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::{Client, free_port, mclint, start_memcached, start_proxy};

const KEYS: usize = 150;
const TTL: u32 = 1000;
const REWRITTEN: u32 = 30;

/// Configs over pools p1..p4 (`PORT1`..`PORT4` replaced by the backends).
const CONFIGS: &[(&str, &str)] = &[
    (
        "allsync-failover-before-ttl",
        "route_allsync { children = { route_failover { children = { \"p1\", \"p2\", \"p4\" } }, route_ttl { ttl = 30, child = \"p3\" } } }",
    ),
    (
        "allsync-direct-and-failover-before-ttl",
        "route_allsync { children = { \"p4\", route_failover { children = { \"p1\", \"p2\" } }, route_ttl { ttl = 30, child = \"p3\" } } }",
    ),
    (
        "split-failover-then-ttl",
        "route_split { child_a = route_failover { children = { \"p1\", \"p2\" } }, child_b = route_ttl { ttl = 30, child = \"p3\" } }",
    ),
    (
        "allfastest-nested-failover-before-ttl",
        "route_allfastest { children = { route_failover { children = { route_failover { children = { \"p1\", \"p4\" } }, \"p2\" } }, route_ttl { ttl = 30, child = \"p3\" } } }",
    ),
    (
        "allfastest-failover-after-ttl",
        "route_allfastest { children = { route_ttl { ttl = 30, child = \"p3\" }, route_failover { children = { \"p1\", \"p2\" } } } }",
    ),
];

fn config_text(route: &str, ports: &[u16]) -> String {
    let pools: Vec<String> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    p{} = {{ backends = {{ \"127.0.0.1:{p}\" }} }},", i + 1))
        .collect();
    format!(
        "pools {{\n{}\n}}\nroutes {{ default = {route} }}\n",
        pools.join("\n")
    )
}

/// `mclint route --command set` (with `--fail`): one JSON line per key.
fn mclint_route(config: &Path, keys: &[String], fail: Option<&str>) -> Vec<serde_json::Value> {
    let mut cmd = mclint();
    cmd.args(["route", "--format", "json", "--command", "set"]);
    for k in keys {
        cmd.args(["--key", k]);
    }
    if let Some(f) = fail {
        cmd.args(["--fail", f]);
    }
    let out = cmd.arg(config).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The TTL `backend` holds `key` with (None: it does not hold it).
fn held_ttl(port: u16, key: &str) -> Option<u32> {
    let reply = Client::connect(port).raw(&format!("mg {key} t"));
    let rest = reply.strip_prefix("HD")?;
    rest.split_whitespace()
        .find_map(|f| f.strip_prefix('t'))
        .and_then(|t| t.parse().ok())
}

#[test]
fn a_failover_retry_after_a_route_ttl_rewrote_the_request_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut backends: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("p{}", i + 1), p, &[], dir.path()))
        .collect();
    let mut mismatches = Vec::new();
    let (mut placed, mut answered, mut retried) = (0, 0, 0);
    for (name, route) in CONFIGS {
        let path = dir.path().join(format!("{name}.lua"));
        std::fs::write(&path, config_text(route, &ports)).unwrap();
        let proxy = start_proxy(name, &path, dir.path());
        let keys: Vec<String> = (0..KEYS).map(|i| format!("{name}/{i}")).collect();
        for &p in &ports {
            assert_eq!(Client::connect(p).raw("flush_all"), "OK");
        }
        let model = mclint_route(&path, &keys, None);
        assert_eq!(model.len(), keys.len(), "{name}: mclint route lines");
        let mut c = Client::connect(proxy.port);
        let replies: Vec<String> = keys.iter().map(|k| c.set(k, b"v", TTL)).collect();
        // allfastest answers with the first reply and split does not wait for
        // child_b: let the other copies land before asking the backends.
        std::thread::sleep(std::time::Duration::from_millis(300));
        for ((k, line), reply) in keys.iter().zip(&model).zip(&replies) {
            let want: BTreeSet<u16> = line["backends"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["role"] != "failover")
                .filter_map(|b| b["backend"].as_str()?.rsplit(':').next()?.parse().ok())
                .collect();
            let mut real = BTreeSet::new();
            for &p in &ports {
                if let Some(ttl) = held_ttl(p, k) {
                    real.insert(p);
                    // Every copy here is written after the rewrite: it has
                    // the route_ttl's TTL, not the client's 1000.
                    if ttl > REWRITTEN {
                        mismatches.push(format!(
                            "{name}: {k} on port {p} with TTL {ttl}, not the rewritten {REWRITTEN}"
                        ));
                    }
                }
            }
            if reply != "STORED" || real != want {
                mismatches.push(format!(
                    "{name}: set {k}: real proxy {reply:?} on {real:?}, mclint lists {want:?} ({line})"
                ));
            }
            if want.contains(&ports[1]) && !want.contains(&ports[0]) {
                retried += 1;
            }
            placed += 1;
        }
        // With each backend of the failover stopped in turn, the reply to a
        // new set is the one mclint route --fail gives.
        for down in [0usize, 1] {
            // A fresh proxy: one that saw a backend restart may still mark
            // it bad for a while.
            let proxy = start_proxy(&format!("{name}-down{down}"), &path, dir.path());
            backends[down].stop();
            let keys: Vec<String> = (0..KEYS / 3)
                .map(|i| format!("{name}/down{down}/{i}"))
                .collect();
            let model = mclint_route(&path, &keys, Some(&format!("127.0.0.1:{}", ports[down])));
            let sets: Vec<&serde_json::Value> =
                model.iter().filter(|l| l["command"] == "set").collect();
            assert_eq!(sets.len(), keys.len(), "{name}: {model:?}");
            let mut c = Client::connect(proxy.port);
            for (k, line) in keys.iter().zip(sets) {
                let reply = c.set(k, b"v", TTL);
                let real = if reply == "STORED" { "hit" } else { "error" };
                let want = if line["hit"].as_f64() == Some(1.0) {
                    "hit"
                } else if line["error"].as_f64() == Some(1.0) {
                    "error"
                } else {
                    "?"
                };
                if real != want {
                    mismatches.push(format!(
                        "{name}: set {k} with p{} down: real proxy {reply:?}, mclint {line}",
                        down + 1
                    ));
                }
                answered += 1;
            }
            let n = backends[down].name.clone();
            backends[down] = start_memcached(&n, ports[down], &[], dir.path());
        }
        drop(proxy);
    }
    eprintln!(
        "{placed} placements ({retried} through a failover retry), {answered} answers with a backend down: {} mismatches",
        mismatches.len()
    );
    assert!(retried > 0, "no key went through a failover retry");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// A route_ttl under a route_failover answers a read with a string, not a
/// result: the failover's `res:hit()` on it raises, so the client gets
/// SERVER_ERROR and no later child is tried. `mclint route --fail` gives the
/// same reply for every read, with each backend stopped in turn.
#[test]
fn a_read_reaching_a_route_ttl_under_a_failover_fails_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut backends: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("p{}", i + 1), p, &[], dir.path()))
        .collect();
    let configs = [
        (
            "failover-ttl-first",
            "route_failover { children = { route_ttl { ttl = 30, child = \"p1\" }, \"p2\" } }",
        ),
        (
            "failover-ttl-second",
            "route_failover { children = { \"p1\", route_ttl { ttl = 30, child = \"p2\" } } }",
        ),
    ];
    let (mut compared, mut errors) = (0, 0);
    let mut mismatches = Vec::new();
    for (name, route) in configs {
        let path = dir.path().join(format!("{name}.lua"));
        std::fs::write(&path, config_text(route, &ports)).unwrap();
        let proxy = start_proxy(name, &path, dir.path());
        let keys: Vec<String> = (0..40).map(|i| format!("{name}/{i}")).collect();
        // p1 is stopped last: a restarted backend stays marked bad in the
        // proxy for a while, and later sets and reads would go past it.
        for down in [None, Some(1usize), Some(0)] {
            // As `--fail` assumes: every key was set through the proxy while
            // every backend was up.
            let mut c = Client::connect(proxy.port);
            for k in &keys {
                assert_eq!(c.set(k, b"v", 0), "STORED", "{name}: set {k}");
            }
            if let Some(d) = down {
                backends[d].stop();
            }
            let mut cmd = mclint();
            cmd.args(["route", "--format", "json", "--command", "get"]);
            for k in &keys {
                cmd.args(["--key", k]);
            }
            // Without a backend down, --fail names one that holds nothing.
            let fail = format!("127.0.0.1:{}", ports[down.unwrap_or(3)]);
            let out = cmd.args(["--fail", &fail]).arg(&path).output().unwrap();
            let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .filter(|l: &serde_json::Value| l["command"] == "get")
                .collect();
            assert_eq!(lines.len(), keys.len(), "{name}");
            let mut c = Client::connect(proxy.port);
            for (k, line) in keys.iter().zip(&lines) {
                let reply = c.raw(&format!("get {k}"));
                let real = if reply.starts_with("VALUE") {
                    c.line();
                    c.line();
                    "hit"
                } else if reply == "END" {
                    "miss"
                } else {
                    errors += 1;
                    "error"
                };
                let want = ["hit", "miss", "error"]
                    .into_iter()
                    .find(|w| line[*w].as_f64() == Some(1.0))
                    .unwrap_or("?");
                if real != want {
                    mismatches.push(format!(
                        "{name}: get {k} with {down:?} down: real proxy {reply:?}, mclint {line}"
                    ));
                }
                compared += 1;
            }
            if let Some(d) = down {
                let n = backends[d].name.clone();
                backends[d] = start_memcached(&n, ports[d], &[], dir.path());
            }
        }
        drop(proxy);
    }
    eprintln!(
        "{compared} reads compared ({errors} SERVER_ERROR): {} mismatches",
        mismatches.len()
    );
    assert!(errors > 0 && errors < compared);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
