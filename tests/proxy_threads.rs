//! Measured with the real memcached 1.6.38 proxy: the orders routelib's
//! handlers walk their children in on each worker thread (array-form pool
//! sets vs sets keyed by name vs `shuffle = true`), and how route_ratelim's
//! token bucket starts. mclint's model and rules must say the same.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{Client, Server, free_port, mclint, start_memcached};

/// The proxy on `config` with `threads` worker threads.
fn proxy(name: &str, config: &Path, dir: &Path, threads: usize) -> Server {
    start_memcached(
        name,
        free_port(),
        &[
            "-t".into(),
            threads.to_string(),
            "-o".into(),
            format!("proxy_config=routelib,proxy_arg={}", config.display()),
        ],
        dir,
    )
}

#[test]
fn array_sets_are_walked_in_array_order_on_every_worker_thread() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _backends: Vec<Server> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("b{i}"), p, &[], dir.path()))
        .collect();
    let be = |i: usize| format!("{{ backends = {{ \"127.0.0.1:{}\" }} }}", ports[i]);
    let config = format!(
        r#"pools {{
    set_arr = {{ {a}, {b}, {c} }},
    set_named = {{ east = {a}, north = {b}, west = {c} }},
}}
routes {{
    map = {{
        fo = route_failover {{ children = "set_arr" }},
        sh = route_failover {{ children = "set_arr", shuffle = true }},
        nm = route_failover {{ children = "set_named" }},
        as = route_allsync {{ children = "set_arr" }},
    }},
}}
"#,
        a = be(0),
        b = be(1),
        c = be(2)
    );
    let path = dir.path().join("sets.lua");
    std::fs::write(&path, &config).unwrap();

    // Each backend holds every test key with its own number as the value:
    // the value a get returns names the backend that answered.
    let prefixes = ["fo", "sh", "nm", "as"];
    for (i, &p) in ports.iter().enumerate() {
        let mut c = Client::connect(p);
        for pre in prefixes {
            assert_eq!(
                c.set(&format!("{pre}/k"), (i + 1).to_string().as_bytes(), 0),
                "STORED"
            );
        }
    }

    // 16 worker threads and 32 connections open at once: memcached hands
    // connections to its threads in turn, so every thread serves two.
    let px = proxy("proxy", &path, dir.path(), 16);
    let mut conns: Vec<Client> = (0..32).map(|_| Client::connect(px.port)).collect();
    let mut seen: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for c in &mut conns {
        for pre in prefixes {
            let v = c
                .get(&format!("{pre}/k"))
                .map(|v| String::from_utf8_lossy(&v).to_string())
                .unwrap_or_else(|| "miss".into());
            *seen.entry(pre).or_default().entry(v).or_default() += 1;
        }
    }
    eprintln!("answering backend per route over 32 connections, 16 threads: {seen:?}");
    let only = |pre: &str, v: &str| seen[pre].len() == 1 && seen[pre].contains_key(v);
    // route_failover over an array set: pool 1 first, on every thread.
    assert!(only("fo", "1"), "failover over set_arr: {:?}", seen["fo"]);
    // route_allsync over an array set: the answer is always pool 3's.
    assert!(only("as", "3"), "allsync over set_arr: {:?}", seen["as"]);
    // shuffle = true reorders per worker thread (all 16 alike by chance: 3^-15).
    assert!(seen["sh"].len() > 1, "shuffle = true: {:?}", seen["sh"]);
    // A set keyed by zone name is walked in each thread's pairs() order.
    assert!(
        seen["nm"].len() > 1,
        "failover over set_named: {:?}",
        seen["nm"]
    );

    // mclint route: the array set's order, with no note that it varies; the
    // shuffled and name-keyed routes carry one.
    for (pre, want_port, varies) in [
        ("fo", ports[0], false),
        ("as", ports[0], false),
        ("sh", ports[0], true),
        ("nm", ports[0], true),
    ] {
        let out = mclint()
            .args(["route", "--format", "json", "--command", "get", "--key"])
            .arg(format!("{pre}/k"))
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{pre}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let first = v["backends"][0]["backend"].as_str().unwrap_or_default();
        assert_eq!(first, format!("127.0.0.1:{want_port}"), "{pre}: {v}");
        let notes = v["notes"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(notes > 0, varies, "{pre}: notes {v}");
    }

    // mclint check: only the name-keyed set is reported as unordered.
    let out = mclint()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "route-zoned-set-without-zone")
            .count(),
        1,
        "{rules:?}"
    );
    assert!(!rules.contains(&"route-allsync-unordered"), "{rules:?}");
}

#[test]
fn ratelim_bucket_starts_full_and_passes_limit_minus_one() {
    let dir = tempfile::tempdir().unwrap();
    let bp = free_port();
    let _backend = start_memcached("b", bp, &[], dir.path());
    let path = dir.path().join("ratelim.lua");
    std::fs::write(
        &path,
        format!(
            r#"pools {{ a = {{ backends = {{ "127.0.0.1:{bp}" }} }} }}
routes {{ default = route_ratelim {{ child = "a", limit = 1000, fillrate = 100, tickrate = 1000 }} }}
"#
        ),
    )
    .unwrap();
    let px = proxy("proxy", &path, dir.path(), 4);
    // One connection (one worker thread, one bucket), 1,100 sets pipelined
    // right after the start.
    let s = TcpStream::connect(("127.0.0.1", px.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut batch = Vec::new();
    for i in 0..1100 {
        batch.extend_from_slice(format!("set rl/{i} 0 0 1\r\nx\r\n").as_bytes());
    }
    let started = Instant::now();
    w.write_all(&batch).unwrap();
    let mut stored = 0;
    let mut limited = 0;
    for _ in 0..1100 {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        match line.trim_end() {
            "STORED" => stored += 1,
            "SERVER_ERROR lua failure" => limited += 1,
            other => panic!("unexpected reply {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    eprintln!("route_ratelim limit = 1000: {stored} stored, {limited} limited in {elapsed:?}");
    assert_eq!(stored + limited, 1100);
    // The bucket starts full; a request passes while more than one token is
    // left. Each whole tick that passed adds 100 (a slow machine).
    let ticks = elapsed.as_millis() as usize / 1000;
    assert!(
        (999..=999 + 100 * ticks).contains(&stored),
        "{stored} of 1,100 passed after {elapsed:?}"
    );
}
