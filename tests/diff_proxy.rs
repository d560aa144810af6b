//! `mclint diff`'s remap numbers against the real memcached proxy: keys are
//! stored through a proxy running the old config, then read through a proxy
//! running the new one; the keys that miss are exactly the keys mclint says
//! move.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use support::{free_port, mclint, start_memcached};

fn config(ports: &[u16], seed: Option<&str>) -> String {
    let backends: String = ports
        .iter()
        .map(|p| format!("            \"127.0.0.1:{p}\",\n"))
        .collect();
    let options = seed
        .map(|s| format!("        options = {{ seed = \"{s}\" }},\n"))
        .unwrap_or_default();
    format!(
        "pools {{\n    main = {{\n{options}        backends = {{\n{backends}        }},\n    }},\n}}\nroutes {{\n    default = route_direct {{ child = \"main\" }},\n}}\n"
    )
}

fn proxy(name: &str, config_file: &Path, dir: &Path) -> support::Server {
    let arg = format!("proxy_config=routelib,proxy_arg={}", config_file.display());
    start_memcached(name, free_port(), &["-o".to_string(), arg], dir)
}

/// Sends `requests` in batches (pipelined, TCP_NODELAY) and returns every
/// reply line.
fn pipeline(
    port: u16,
    requests: &[String],
    lines_per_reply: impl Fn(&str) -> usize,
) -> Vec<Vec<String>> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut replies = Vec::new();
    for batch in requests.chunks(100) {
        writer.write_all(batch.concat().as_bytes()).unwrap();
        for _ in batch {
            let mut reply = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let first = line.trim_end().to_string();
            for _ in 1..lines_per_reply(&first) {
                line.clear();
                reader.read_line(&mut line).unwrap();
                reply.push(line.trim_end().to_string());
            }
            reply.insert(0, first);
            replies.push(reply);
        }
    }
    replies
}

/// Stores every key through a proxy on `old`, reads them through one on `new`;
/// returns how many missed.
fn misses(dir: &Path, old: &str, new: &str, keys: &[String]) -> usize {
    let old_file = dir.join("old.lua");
    let new_file = dir.join("new.lua");
    std::fs::write(&old_file, old).unwrap();
    std::fs::write(&new_file, new).unwrap();
    let p_old = proxy("proxy-old", &old_file, dir);
    let sets: Vec<String> = keys
        .iter()
        .map(|k| format!("set {k} 0 0 1\r\nv\r\n"))
        .collect();
    for (k, reply) in keys.iter().zip(pipeline(p_old.port, &sets, |_| 1)) {
        assert_eq!(reply[0], "STORED", "set {k} through the old proxy");
    }
    let p_new = proxy("proxy-new", &new_file, dir);
    let gets: Vec<String> = keys.iter().map(|k| format!("get {k}\r\n")).collect();
    let replies = pipeline(p_new.port, &gets, |first| {
        if first.starts_with("VALUE ") { 3 } else { 1 }
    });
    keys.iter()
        .zip(&replies)
        .filter(|(k, reply)| {
            if reply[0] == "END" {
                return true;
            }
            assert_eq!(reply[1..], ["v", "END"], "get {k}: {reply:?}");
            false
        })
        .count()
}

/// The `moved` share mclint reports for the single route, times the key count.
fn predicted(dir: &Path, keys: &[String]) -> usize {
    let keys_file = dir.join("keys.txt");
    std::fs::write(&keys_file, keys.join("\n")).unwrap();
    let out = mclint()
        .args(["diff", "--format", "json", "--keys-file"])
        .arg(&keys_file)
        .arg(dir.join("old.lua"))
        .arg(dir.join("new.lua"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mclint diff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes = v["remap"]["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{v:#}");
    assert_eq!(v["remap"]["keys"], keys.len());
    let moved = routes[0]["moved"].as_f64().unwrap();
    (moved * keys.len() as f64).round() as usize
}

#[test]
fn predicted_moves_are_the_real_proxys_misses() {
    let dir = tempfile::tempdir().unwrap();
    let servers: Vec<_> = (0..4)
        .map(|i| start_memcached(&format!("cache-{i}"), free_port(), &[], dir.path()))
        .collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let keys: Vec<String> = (0..2000).map(|i| format!("user:{i}:profile")).collect();

    // Scaling 3 -> 4 backends.
    let m = misses(
        dir.path(),
        &config(&ports[..3], None),
        &config(&ports, None),
        &keys,
    );
    let p = predicted(dir.path(), &keys);
    assert_eq!(
        p, m,
        "scale 3->4: mclint predicted {p} moved keys, the proxy missed {m}"
    );
    assert!((380..620).contains(&m), "scale 3->4 moved {m} of 2000");

    // A new seed on the same three backends (fresh servers so nothing is left over).
    let fresh: Vec<_> = (0..3)
        .map(|i| start_memcached(&format!("seed-{i}"), free_port(), &[], dir.path()))
        .collect();
    let fresh_ports: Vec<u16> = fresh.iter().map(|s| s.port).collect();
    let m = misses(
        dir.path(),
        &config(&fresh_ports, Some("a")),
        &config(&fresh_ports, Some("b")),
        &keys,
    );
    let p = predicted(dir.path(), &keys);
    assert_eq!(
        p, m,
        "seed a->b: mclint predicted {p}, the proxy missed {m}"
    );
    assert!((1200..1470).contains(&m), "seed change moved {m} of 2000");
}
