//! Proof against the real proxy: keys stored through memcached 1.6.38's proxy
//! (routelib; jump hash or `mcp.dist_ring_hash`; XXH3 or the ring's MD5 key
//! hash) land on exactly the backend `mclint route` names.
//!
//! For pools of 1 to 8 backends, seeded and unseeded, with `stop` and `tags`
//! key filters, jump hash and the ring's ketama, twemproxy and evcache modes,
//! every key is stored through a real proxy; each backend is then
//! asked which keys it holds (`lru_crawler metadump all`), and `mclint route
//! --format json` must name the same backend for every key.

mod support;

use std::collections::HashMap;
use std::path::Path;

use support::{
    Client, free_port, held_keys_at, mclint, start_memcached, start_memcached_at, start_proxy,
};

struct Case {
    name: &'static str,
    backends: usize,
    /// Backends listed in reverse port order (order matters for jump hash).
    reversed: bool,
    options: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "one",
        backends: 1,
        reversed: false,
        options: "",
    },
    Case {
        name: "two",
        backends: 2,
        reversed: false,
        options: "",
    },
    Case {
        name: "two-seeded",
        backends: 2,
        reversed: false,
        options: r#"seed = "a""#,
    },
    Case {
        name: "three",
        backends: 3,
        reversed: true,
        options: "",
    },
    Case {
        name: "four-seeded",
        backends: 4,
        reversed: false,
        options: r#"seed = "seed-x""#,
    },
    Case {
        name: "five",
        backends: 5,
        reversed: false,
        options: "",
    },
    Case {
        name: "seven-seeded",
        backends: 7,
        reversed: true,
        options: r#"seed = "copy-b""#,
    },
    Case {
        name: "eight",
        backends: 8,
        reversed: false,
        options: "",
    },
    Case {
        name: "eight-seeded",
        backends: 8,
        reversed: false,
        options: r#"seed = "replica-2""#,
    },
    Case {
        name: "eight-stop",
        backends: 8,
        reversed: false,
        options: r#"filter = "stop", filter_conf = "|#|""#,
    },
    Case {
        name: "six-tags",
        backends: 6,
        reversed: true,
        options: r#"filter = "tags", filter_conf = "{}", seed = "t""#,
    },
    Case {
        name: "ring-ketama-three",
        backends: 3,
        reversed: false,
        options: r#"dist = mcp.dist_ring_hash, omode = "ketama""#,
    },
    Case {
        name: "ring-ketama-md5-five",
        backends: 5,
        reversed: true,
        options: r#"dist = mcp.dist_ring_hash, omode = "ketama", hash = mcp.dist_ring_hash.hash, seed = "ignored""#,
    },
    Case {
        name: "ring-twemproxy-four-stop",
        backends: 4,
        reversed: false,
        options: r#"dist = mcp.dist_ring_hash, omode = "twemproxy", filter = "stop", filter_conf = "|#|""#,
    },
    Case {
        name: "ring-evcache-six-seeded",
        backends: 6,
        reversed: false,
        options: r#"dist = mcp.dist_ring_hash, omode = "evcache", seed = "e""#,
    },
    Case {
        name: "ring-ketama-eight-12-points",
        backends: 8,
        reversed: true,
        options: r#"dist = mcp.dist_ring_hash, omode = "ketama", obuckets = 12"#,
    },
    Case {
        name: "jump-md5-seven",
        backends: 7,
        reversed: false,
        options: r#"hash = mcp.dist_ring_hash.hash"#,
    },
];

/// Keys of every shape the proxy must agree on.
fn keys(case: usize) -> Vec<String> {
    let mut k = Vec::new();
    for i in 0..220 {
        k.push(format!("user:{case}:{i}:profile"));
    }
    // 1-byte keys: printable ASCII but space, a different 8 for each case
    // (keys never repeat across cases, so no earlier case's item can interfere).
    for c in (b'!'..=b'~').skip(case * 8).take(8) {
        k.push((c as char).to_string());
    }
    // 250-byte keys (the longest memcached accepts).
    for i in 0..12 {
        let head = format!("long{case}-{i}-");
        k.push(format!("{head}{}", "x".repeat(250 - head.len())));
    }
    // UTF-8.
    for i in 0..15 {
        k.push(format!("ключ-{case}-{i}"));
        k.push(format!("日本語キー{case}{i}"));
    }
    // Filter delimiters in every position.
    for i in 0..10 {
        k.push(format!("a|#|b{case}-{i}"));
        k.push(format!("|#|lead{case}-{i}"));
        k.push(format!("trail{case}-{i}|#|"));
        k.push(format!("sess{{{i}}}:cart{case}"));
        k.push(format!("{{}}empty{case}-{i}"));
        k.push(format!("open{{only{case}-{i}"));
        k.push(format!("x{case}{i}{{"));
    }
    k
}

/// `mclint route --format json` for a `set` of each key: one JSON object per key.
fn route_sets(dir: &Path, name: &str, config: &Path, keys: &[String]) -> Vec<serde_json::Value> {
    let keys_file = dir.join(format!("{name}.keys"));
    std::fs::write(&keys_file, keys.join("\n")).unwrap();
    let out = mclint()
        .args(["route", "--config"])
        .arg(config)
        .arg("--keys-file")
        .arg(&keys_file)
        .args(["--command", "set", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: mclint route failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), keys.len(), "{name}: one JSON line per key");
    lines
}

fn write_config(dir: &Path, case: &Case, ports: &[u16]) -> std::path::PathBuf {
    let mut list: Vec<u16> = ports[..case.backends].to_vec();
    if case.reversed {
        list.reverse();
    }
    let backends: Vec<String> = list
        .iter()
        .map(|p| format!("        \"127.0.0.1:{p}\","))
        .collect();
    let text = format!(
        "-- {name}\npools {{\n    main = {{\n        options = {{ {opts} }},\n        backends = {{\n{b}\n        }},\n    }},\n}}\nroutes {{\n    default = route_direct {{ child = \"main\" }},\n}}\n",
        name = case.name,
        opts = case.options,
        b = backends.join("\n"),
    );
    let path = dir.join(format!("{}.lua", case.name));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn mclint_places_every_key_where_the_real_proxy_does() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..8).map(|_| free_port()).collect();
    let backends: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("backend{i}"), p, &[], dir.path()))
        .collect();
    let by_port: HashMap<String, u16> = ports
        .iter()
        .map(|&p| (format!("127.0.0.1:{p}"), p))
        .collect();

    let mut agreed = 0usize;
    let mut disagreements = Vec::new();
    for (ci, case) in CASES.iter().enumerate() {
        let config = write_config(dir.path(), case, &ports);
        for &p in &ports {
            assert_eq!(Client::connect(p).raw("flush_all"), "OK");
        }
        let proxy_port = free_port();
        let _proxy = start_memcached(
            &format!("proxy-{}", case.name),
            proxy_port,
            &[
                "-o".into(),
                format!("proxy_config=routelib,proxy_arg={}", config.display()),
            ],
            dir.path(),
        );
        let keys = keys(ci);
        let mut client = Client::connect(proxy_port);
        for k in &keys {
            assert_eq!(
                client.set(k, b"v", 0),
                "STORED",
                "{}: storing {k} through the proxy",
                case.name
            );
        }
        // Which backend holds each key, asked key by key: a metadump also
        // lists items the flush_all above invalidated but has not reclaimed,
        // and may pass over an item being moved between LRUs.
        let mut actual: HashMap<String, String> = HashMap::new();
        let mut direct: Vec<Client> = ports.iter().map(|&p| Client::connect(p)).collect();
        for k in &keys {
            for (c, &p) in direct.iter_mut().zip(&ports) {
                if c.get(k).is_some() {
                    let prev = actual.insert(k.clone(), format!("127.0.0.1:{p}"));
                    assert!(prev.is_none(), "{}: {k} is on two backends", case.name);
                }
            }
        }
        assert_eq!(
            actual.len(),
            keys.len(),
            "{}: every key is on one backend",
            case.name
        );

        let lines = route_sets(dir.path(), case.name, &config, &keys);
        for (v, key) in lines.iter().zip(&keys) {
            assert_eq!(v["key"], key.as_str());
            assert_eq!(v["route"], "default");
            let predicted = v["backends"][0]["backend"].as_str().unwrap().to_string();
            assert!(
                by_port.contains_key(&predicted),
                "{predicted} is not one of the test backends"
            );
            if actual[key] == predicted {
                agreed += 1;
            } else {
                disagreements.push(format!(
                    "{}: {key}: proxy {} mclint {predicted}",
                    case.name, actual[key]
                ));
            }
        }
    }
    drop(backends);
    eprintln!("mclint agreed with the real proxy on {agreed} keys");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(agreed >= 2000, "only {agreed} keys checked");
}

/// `omode = "twemproxy"` names a backend on the default port 11211 as `host-N`
/// (libmemcached's way), not `host:port-N`: proven with three backends on
/// 11211 at three loopback addresses (Linux routes all of 127/8 to lo).
#[test]
fn twemproxy_ring_drops_the_default_port_like_the_real_proxy() {
    let dir = tempfile::tempdir().unwrap();
    // Three loopback addresses whose port 11211 is free.
    let addrs: Vec<String> = (2..200)
        .map(|i| format!("127.0.{i}.7"))
        .filter(|a| std::net::TcpListener::bind((a.as_str(), 11211)).is_ok())
        .take(3)
        .collect();
    assert_eq!(
        addrs.len(),
        3,
        "no three loopback addresses with 11211 free"
    );
    let _backends: Vec<_> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| start_memcached_at(&format!("tw{i}"), a, 11211, &[], dir.path()))
        .collect();
    let list: Vec<String> = addrs
        .iter()
        .map(|a| format!("        \"{a}:11211\","))
        .collect();
    let config = dir.path().join("twemproxy.lua");
    std::fs::write(
        &config,
        format!(
            "pools {{\n    main = {{\n        options = {{ dist = mcp.dist_ring_hash, omode = \"twemproxy\" }},\n        backends = {{\n{}\n        }},\n    }},\n}}\nroutes {{\n    default = route_direct {{ child = \"main\" }},\n}}\n",
            list.join("\n")
        ),
    )
    .unwrap();
    let proxy = start_proxy("proxy-twemproxy", &config, dir.path());
    let proxy_port = proxy.port;
    let keys: Vec<String> = (0..600).map(|i| format!("tw:{i}")).collect();
    let mut client = Client::connect(proxy_port);
    for k in &keys {
        assert_eq!(client.set(k, b"v", 0), "STORED", "storing {k}");
    }
    let mut actual: HashMap<String, String> = HashMap::new();
    for a in &addrs {
        for k in held_keys_at(a, 11211) {
            actual.insert(k, format!("{a}:11211"));
        }
    }
    assert_eq!(actual.len(), keys.len(), "every key is on one backend");
    let mut per_backend: HashMap<String, usize> = HashMap::new();
    for (v, key) in route_sets(dir.path(), "tw", &config, &keys)
        .iter()
        .zip(&keys)
    {
        let predicted = v["backends"][0]["backend"].as_str().unwrap();
        assert_eq!(actual[key], predicted, "{key}");
        *per_backend.entry(predicted.to_string()).or_default() += 1;
    }
    assert_eq!(
        per_backend.len(),
        3,
        "keys reach every backend: {per_backend:?}"
    );
    eprintln!(
        "twemproxy ring on port 11211: 600 keys placed as the real proxy did, {per_backend:?}"
    );
}
