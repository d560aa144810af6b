//! Differential test: `mclint route --format json` against the real memcached
//! 1.6.38 proxy, key for key.
//!
//! Every routelib config of `tests/routelib-corpus/` that the real proxy loads
//! and that routes keys to the test's backends, and the proxy config each chart
//! mode renders (backends rewritten to loopback ports, in the same order), runs
//! in the real proxy. Keys of every shape (short, 250-byte, UTF-8, with the map
//! prefixes, stop strings and tag braces the configs use) are `set` through it
//! over one connection in pipelined batches; each backend is then asked
//! directly which keys it holds (`lru_crawler metadump all`), and the backends
//! holding each key must be exactly the ones `mclint route --command set` sends
//! it to (failover backends aside: a set that succeeds never reaches them).
//!
//! Reads with a backend stopped: for failover and allfastest configs (two from
//! the corpus, two chart modes) every key is then read through the proxy with
//! one backend stopped, and the answer (hit, miss, error) must be the one
//! `mclint route --fail` gives for that key. Each holder's copy is overwritten
//! with its backend's number first, so a hit also says which backend answered,
//! and that backend must be one `mclint route` lists for a read of the key.
//!
//! Servers are started once and reused: 8 backends, flushed between configs;
//! keys never repeat between configs.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use serde_json::Value;
use support::{
    Client, Server, free_port, held_keys, helm_template, mclint, repo, start_memcached,
    without_listen_flags,
};

/// Backends the test runs; every config's backends are mapped onto them.
const BACKENDS: usize = 8;
/// Keys `set` through each corpus config.
const KEYS_PER_CONFIG: usize = 160;
/// Keys `set` through each chart mode's proxy.
const KEYS_PER_MODE: usize = 600;

/// Corpus configs that load in the real proxy but cannot be compared against
/// local servers, and why.
const SKIPPED: &[(&str, &str)] = &[
    (
        "dofile-fragment",
        "its fragment opens against the proxy's working directory; tests/proxy_corpus.rs runs it there and checks its placement",
    ),
    (
        "loadfile-fragment",
        "its fragment opens against the proxy's working directory; tests/proxy_corpus.rs runs it there and checks its placement",
    ),
    (
        "backend-host-space",
        "the host \"127.0.0.1 \" is not an address the proxy connects to; mclint reports it",
    ),
    (
        "backend-host-uppercase",
        "LOCALHOST resolves differently by machine; mclint reports it",
    ),
    (
        "backend-not-an-address",
        "127.1.0.0.1 is not an address; mclint reports it",
    ),
    (
        "backend-table-no-port",
        "routelib 1.6.38 gives a port-less backend no port; mclint reports it",
    ),
    (
        "map-backends",
        "backends as a name-keyed table: the real proxy's order (and so every key's backend) differs from one start to the next (measured: all keys agreed on one run, none on another); mclint warns proxy-map-backends",
    ),
    (
        "ratelim-exceeded",
        "a 1-token bucket: which sets pass depends on the clock",
    ),
    (
        "ratelim-fail-until-limit",
        "fails until the bucket fills: which sets pass depends on the clock",
    ),
];

/// Reads with a backend stopped: (config, index of the backend to stop in the
/// config's order of first appearance).
const CORPUS_DOWN_READS: &[(&str, usize)] = &[
    ("failover-list", 0),
    ("allfastest-miss-wait", 0),
    ("array-set-failover", 0),
    ("down-failover", 0),
    ("direct-basic", 1),
    ("zfailover-zone", 0),
    ("shared-backend-failover-read", 2),
];

/// One config run in the real proxy and in mclint.
struct Target {
    name: String,
    /// What `mclint route` reads (a `.lua` config or a rendered manifest).
    mclint_path: PathBuf,
    /// Arguments after the path (`--lib FILE`).
    mclint_extra: Vec<String>,
    /// Extra memcached arguments that start the proxy.
    proxy_args: Vec<String>,
    /// `host:port` as mclint names each test backend → backend index.
    addresses: HashMap<String, usize>,
}

/// The map prefixes (and command names), stop strings and anchor starts a
/// config uses, with defaults and strings it does not use.
fn vocabulary(config: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut prefixes: Vec<String> = Vec::new();
    for marker in [" = route_", " = cmdmap"] {
        for (at, _) in config.match_indices(marker) {
            let head = config[..at].trim_end_matches(['"', ']']);
            let word: String = head
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !word.is_empty() && word != "default" && !prefixes.contains(&word) {
                prefixes.push(word);
            }
        }
    }
    let quoted_after = |name: &str| -> Vec<String> {
        config
            .match_indices(&format!("{name} = \""))
            .filter_map(|(at, m)| {
                let rest = &config[at + m.len()..];
                rest.find('"').map(|end| rest[..end].to_string())
            })
            .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace))
            .collect()
    };
    let mut stops: Vec<String> = vec![":".into(), "|#|".into(), "/".into()];
    // The config's own stop goes last (routelib's default is "/").
    for v in quoted_after("stop") {
        stops.retain(|s| *s != v);
        stops.push(v);
    }
    let mut starts = quoted_after("start");
    starts.push("/".into());
    (prefixes, stops, starts)
}

/// Keys of every shape, unique to `tag`, deterministic; most of them use the
/// prefixes, stops and anchors of `config`.
fn keys_of(tag: &str, n: usize, config: &str) -> Vec<String> {
    let (prefixes, stops, starts) = vocabulary(config);
    let mut state: u64 = tag.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut out = Vec::with_capacity(n);
    let mut seen = BTreeSet::new();
    let mut i = 0;
    while out.len() < n {
        // A word of the config most of the time, else one it does not name.
        let p = if !prefixes.is_empty() && next() % 10 < 7 {
            prefixes[next() % prefixes.len()].as_str()
        } else {
            ["other", "x", "sessions"][next() % 3]
        };
        // The config's own stop string (the last one found) most of the time.
        let s = if next() % 10 < 7 {
            stops.last().unwrap()
        } else {
            &stops[next() % stops.len()]
        };
        let a = &starts[next() % starts.len()];
        let r = next();
        let k = match i % 10 {
            0 => format!("{p}{s}{tag}{r}"),
            1 => format!("{tag}:{r}"),
            2 => {
                let head = format!("{p}{s}long-{tag}-{r}-");
                let len = 200 + r % 51;
                format!("{head}{}", "y".repeat(len.saturating_sub(head.len())))
            }
            3 => format!("{{{}}}{p}{s}{tag}{}", r % 7, i),
            4 => format!("{p}{s}{{t{}}}{tag}-{i}", r % 5),
            5 => format!("{a}{p}{s}{tag}{r}"),
            6 => format!("{p}{s}ключ{tag}{r}"),
            7 => format!("{p}{tag}{i}"),
            8 => format!("{p}{s}{s}{tag}{i}{{"),
            _ => format!("{tag}{s}{p}{s}{r}"),
        };
        i += 1;
        if k.len() <= 250 && !k.contains(char::is_whitespace) && seen.insert(k.clone()) {
            out.push(k);
        }
    }
    out
}

/// Sends every request (pipelined in batches of 100 over one connection) and
/// returns each reply's first line; a `VALUE` reply's data line is appended
/// after a space.
fn pipeline(port: u16, requests: &[String]) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut replies = Vec::with_capacity(requests.len());
    let mut line = String::new();
    for batch in requests.chunks(100) {
        writer.write_all(batch.concat().as_bytes()).unwrap();
        for _ in batch {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let mut reply = line.trim_end().to_string();
            if let Some(rest) = reply.strip_prefix("VALUE ") {
                let len: usize = rest.rsplit(' ').next().unwrap().parse().unwrap();
                let mut data = vec![0; len + 2];
                reader.read_exact(&mut data).unwrap();
                data.truncate(len);
                line.clear();
                reader.read_line(&mut line).unwrap();
                assert_eq!(line.trim_end(), "END", "after a VALUE");
                reply = format!("VALUE {}", String::from_utf8_lossy(&data));
            }
            replies.push(reply);
        }
    }
    replies
}

/// The running backends holding each of `keys`. route_split's and
/// allasync's copies are sent without waiting, so the backends are asked
/// again until two answers 200 ms apart agree (at most 3 s).
fn holders(
    backends: &[Server],
    keys: &[String],
    down: Option<usize>,
) -> HashMap<String, BTreeSet<usize>> {
    let wanted: BTreeSet<&String> = keys.iter().collect();
    let ask = || {
        let mut held: HashMap<String, BTreeSet<usize>> = HashMap::new();
        for (i, b) in backends.iter().enumerate() {
            if Some(i) == down {
                continue;
            }
            for k in held_keys(b.port) {
                if wanted.contains(&k) {
                    held.entry(k).or_default().insert(i);
                }
            }
        }
        held
    };
    let mut held = ask();
    for _ in 0..15 {
        std::thread::sleep(Duration::from_millis(200));
        let again = ask();
        if again == held {
            break;
        }
        held = again;
    }
    held
}

/// `mclint route --format json` lines for `keys`, by key (for `command`).
fn mclint_route(
    target: &Target,
    dir: &Path,
    keys: &[String],
    command: &str,
    fail: Option<&str>,
) -> HashMap<String, Value> {
    let keys_file = dir.join(format!("{}.keys", target.name));
    std::fs::write(&keys_file, keys.join("\n")).unwrap();
    let mut cmd = mclint();
    cmd.arg("route")
        .arg(&target.mclint_path)
        .args(&target.mclint_extra)
        .arg("--keys-file")
        .arg(&keys_file)
        .args(["--command", command, "--format", "json"]);
    if let Some(f) = fail {
        cmd.args(["--fail", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}: mclint route failed: {}",
        target.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut by_key = HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["command"] == command
            && let Some(k) = v["key"].as_str()
        {
            by_key.insert(k.to_string(), v);
        }
    }
    for k in keys {
        assert!(
            by_key.contains_key(k),
            "{}: mclint route gave no line for {k}",
            target.name
        );
    }
    by_key
}

/// The test backends a JSON placement line names with the given roles.
fn named(target: &Target, line: &Value, roles: &[&str]) -> BTreeSet<usize> {
    line["backends"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| roles.contains(&b["role"].as_str().unwrap_or_default()))
        .filter_map(|b| target.addresses.get(b["backend"].as_str()?).copied())
        .collect()
}

/// `BACKENDS` memcached servers on loopback ports: (ports, servers).
fn start_backends(dir: &Path) -> (Vec<u16>, Vec<Server>) {
    let ports: Vec<u16> = (0..BACKENDS).map(|_| free_port()).collect();
    let backends = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("backend{i}"), p, &[], dir))
        .collect();
    (ports, backends)
}

#[derive(Default)]
struct Tally {
    configs: usize,
    keys: usize,
    reads: usize,
    /// Hits with every backend up, after the writes.
    hits_up: usize,
    writes: usize,
    /// Keys that took a route of a map (a prefix or an anchor).
    mapped: usize,
    /// Keys whose set mclint says goes to one of several children.
    one_of: usize,
    mismatches: Vec<String>,
}

/// Sets every key through the proxy; compares where each lands with mclint.
/// Returns each key's holders.
fn compare_sets(
    target: &Target,
    backends: &[Server],
    proxy: &Server,
    keys: &[String],
    dir: &Path,
    tally: &mut Tally,
) -> HashMap<String, BTreeSet<usize>> {
    for b in backends {
        assert_eq!(Client::connect(b.port).raw("flush_all"), "OK");
    }
    let requests: Vec<String> = keys
        .iter()
        .map(|k| format!("set {k} 0 0 1\r\nv\r\n"))
        .collect();
    let replies = pipeline(proxy.port, &requests);
    let held = holders(backends, keys, None);
    let model = mclint_route(target, dir, keys, "set", None);
    for (k, reply) in keys.iter().zip(&replies) {
        let line = &model[k];
        let real = held.get(k).cloned().unwrap_or_default();
        // A failover whose order is not fixed (shuffle = true: per request;
        // a name-keyed pool set: per worker thread) sends a set to one of its
        // children; mclint lists them in one order and says so.
        let shuffled = unordered(line);
        if shuffled {
            tally.one_of += 1;
        }
        let (sure, random) = if shuffled {
            (
                named(target, line, &["all", "async"]),
                named(target, line, &["primary", "failover", "random"]),
            )
        } else {
            (
                named(target, line, &["primary", "all", "async"]),
                named(target, line, &["random"]),
            )
        };
        let agrees = if random.is_empty() {
            real == sure
        } else {
            // route_random (or a shuffled failover): exactly one of its
            // children, picked per request.
            let extra: Vec<_> = real.difference(&sure).collect();
            real.is_superset(&sure) && extra.len() == 1 && random.contains(extra[0])
        };
        // A key mclint says is refused (a `_down_` backend, route_null) must
        // not be answered STORED when nothing else is written.
        let refused = line.get("error").is_some() && sure.is_empty() && random.is_empty();
        let reply_agrees = !refused || reply.contains("ERROR");
        if !agrees || !reply_agrees {
            tally.mismatches.push(format!(
                "{}: set {k:?}: mclint {line}, real proxy answered {reply:?} and backends {real:?} hold it",
                target.name
            ));
        }
    }
    // The keys reach every route a map or an anchor names.
    let mut routes: BTreeMap<&str, usize> = BTreeMap::new();
    for k in keys {
        *routes
            .entry(model[k]["route"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    tally.mapped += routes
        .iter()
        .filter(|(r, _)| !(r.starts_with("default") || r.starts_with("cmap") || **r == "none"))
        .map(|(_, n)| n)
        .sum::<usize>();
    tally.configs += 1;
    tally.keys += keys.len();
    eprintln!(
        "{}: {} keys set through the real proxy, by route {routes:?}",
        target.name,
        keys.len()
    );
    held
}

/// Whether mclint says a failover's order is not fixed (shuffle = true: per
/// request; a name-keyed pool set: per worker thread), so a set reaches one
/// of its children, not always the one listed first.
fn unordered(line: &Value) -> bool {
    line["notes"].as_array().into_iter().flatten().any(|n| {
        n.as_str()
            .is_some_and(|n| n.contains("tries the children in its own"))
    })
}

/// Whether the real answer (`hit`, `miss` or `error`) is mclint's: its share
/// is 1, or mclint gives a range (the answer depends on the worker thread's
/// order or a random pick) that allows it.
fn outcome_agrees(line: &Value, real: &str, tally: &mut Tally) -> bool {
    if line[real].as_f64() == Some(1.0) {
        return true;
    }
    let possible = line["range"][real][1].as_f64().is_some_and(|hi| hi > 0.0);
    if possible {
        tally.one_of += 1;
    }
    possible
}

/// Reads every key through the proxy with backend `down` stopped; compares
/// hit/miss/error (and on a hit, which backend answered) with
/// `mclint route --fail`.
#[allow(clippy::too_many_arguments)]
fn compare_down_reads(
    target: &Target,
    backends: &mut [Server],
    proxy: &Server,
    keys: &[String],
    held: &HashMap<String, BTreeSet<usize>>,
    write_keys: &[String],
    down: usize,
    dir: &Path,
    tally: &mut Tally,
) {
    // Each holder's copy names its backend.
    for (i, b) in backends.iter().enumerate() {
        let requests: Vec<String> = keys
            .iter()
            .filter(|k| held.get(*k).is_some_and(|h| h.contains(&i)))
            .map(|k| {
                let v = format!("b{i}");
                format!("set {k} 0 0 {}\r\n{v}\r\n", v.len())
            })
            .collect();
        for r in pipeline(b.port, &requests) {
            assert_eq!(r, "STORED");
        }
    }
    let down_port = backends[down].port;
    let down_addr = target
        .addresses
        .iter()
        .find(|(_, i)| **i == down)
        .map(|(a, _)| a.clone())
        .expect("the stopped backend is in the config");
    let reads = mclint_route(target, dir, keys, "get", None);
    let requests: Vec<String> = keys.iter().map(|k| format!("get {k}\r\n")).collect();

    // Everything up: a read that hits is answered by a backend mclint lists
    // for it (`mclint route` alone says nothing of hits and misses).
    for (k, reply) in keys.iter().zip(pipeline(proxy.port, &requests)) {
        let line = &reads[k];
        let answered = reply
            .strip_prefix("VALUE b")
            .and_then(|v| v.parse::<usize>().ok());
        let listed = named(target, line, &["primary", "all", "failover", "random"]);
        if answered.is_some_and(|b| !listed.contains(&b)) {
            tally.mismatches.push(format!(
                "{}: get {k:?}: mclint {line}, real proxy answered {reply:?}",
                target.name
            ));
        }
        if answered.is_some() {
            tally.hits_up += 1;
        }
    }

    let model = mclint_route(target, dir, keys, "get", Some(&down_addr));
    backends[down].stop();
    let replies = pipeline(proxy.port, &requests);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, reply) in keys.iter().zip(&replies) {
        let line = &model[k];
        let (real, answered) = if let Some(v) = reply.strip_prefix("VALUE b") {
            ("hit", v.parse::<usize>().ok())
        } else if reply == "END" {
            ("miss", None)
        } else if reply.contains("ERROR") {
            ("error", None)
        } else {
            panic!("{}: unexpected reply to get {k}: {reply}", target.name);
        };
        *seen.entry(real).or_default() += 1;
        let listed = answered.is_none_or(|b| {
            named(target, &reads[k], &["primary", "all", "failover", "random"]).contains(&b)
        });
        if !outcome_agrees(line, real, tally) || !listed {
            tally.mismatches.push(format!(
                "{}: get {k:?} with {down_addr} down: mclint {line}, real proxy answered {reply:?}",
                target.name
            ));
        }
    }
    tally.reads += keys.len();
    eprintln!(
        "{}: {} reads with {down_addr} down compared: {seen:?}",
        target.name,
        keys.len()
    );

    // Writes of new keys with the backend still down: the reply must be the
    // one `mclint route --fail` gives, and the running backends that mclint
    // sends the key to (failover aside) must hold exactly `copies.stored`.
    let places = mclint_route(target, dir, write_keys, "set", None);
    let model = mclint_route(target, dir, write_keys, "set", Some(&down_addr));
    let requests: Vec<String> = write_keys
        .iter()
        .map(|k| format!("set {k} 0 0 1\r\nw\r\n"))
        .collect();
    let replies = pipeline(proxy.port, &requests);
    let held = holders(backends, write_keys, Some(down));
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, reply) in write_keys.iter().zip(&replies) {
        let line = &model[k];
        let real = if reply == "STORED" {
            "hit"
        } else if reply.contains("ERROR") {
            "error"
        } else {
            panic!("{}: unexpected reply to set {k}: {reply}", target.name);
        };
        *seen.entry(real).or_default() += 1;
        // One copy per (pool, backend) the write reaches, as mclint counts
        // them; a copy is stored when its backend holds the key.
        let home: BTreeSet<(String, usize)> = places[k]["backends"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| {
                let role = b["role"].as_str().unwrap_or_default();
                ["primary", "all", "async", "random"].contains(&role)
                    || (role == "failover" && unordered(&places[k]))
            })
            .filter_map(|b| {
                let i = *target.addresses.get(b["backend"].as_str()?)?;
                Some((b["pool"].as_str().unwrap_or_default().to_string(), i))
            })
            .collect();
        let stored = home
            .iter()
            .filter(|(_, i)| held.get(k).is_some_and(|h| h.contains(i)))
            .count();
        let want = line["copies"]["stored"].as_u64().map(|n| n as usize);
        // Where the answer depends on the worker thread or a random pick,
        // so does which copies are written.
        let copies_agree = line.get("range").is_some() || want == Some(stored);
        if !outcome_agrees(line, real, tally) || !copies_agree {
            tally.mismatches.push(format!(
                "{}: set {k:?} with {down_addr} down: mclint {line}, real proxy answered {reply:?} and {stored} of its backends {home:?} hold it",
                target.name
            ));
        }
    }
    tally.writes += write_keys.len();
    eprintln!(
        "{}: {} writes with {down_addr} down compared: {seen:?}",
        target.name,
        write_keys.len()
    );
    let name = backends[down].name.clone();
    backends[down] = start_memcached(&name, down_port, &[], dir);
}

/// Quoted `host:port` strings of a routelib config, in order of first appearance.
fn quoted_addresses(lua: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in lua.split('"').skip(1).step_by(2) {
        let Some((host, port)) = piece.rsplit_once(':') else {
            continue;
        };
        let ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit());
        if ok && !out.iter().any(|a| a == piece) {
            out.push(piece.to_string());
        }
    }
    out
}

fn corpus_targets(dir: &Path, ports: &[u16]) -> (Vec<Target>, Vec<String>) {
    let corpus = repo().join("tests/routelib-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    files.sort();
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.lines().any(|l| l.trim() == "-- expect: loads") {
            skipped.push(format!("{name}: the real proxy refuses it"));
            continue;
        }
        if let Some((_, why)) = SKIPPED.iter().find(|(n, _)| *n == name) {
            skipped.push(format!("{name}: {why}"));
            continue;
        }
        // The corpus names its backends 127.0.0.1:41001..41003.
        let mut real = text.clone();
        let mut addresses = HashMap::new();
        for (i, p) in ports.iter().enumerate().take(3) {
            real = real.replace(&format!("4100{}", i + 1), &p.to_string());
            addresses.insert(format!("127.0.0.1:{p}"), i);
        }
        let path = dir.join(format!("corpus-{name}.lua"));
        std::fs::write(&path, real).unwrap();
        targets.push(Target {
            name,
            proxy_args: vec![
                "-o".into(),
                format!("proxy_config=routelib,proxy_arg={}", path.display()),
            ],
            mclint_path: path,
            mclint_extra: Vec::new(),
            addresses,
        });
    }
    (targets, skipped)
}

/// A chart mode's rendering with its proxy config's backends rewritten (in
/// their order) to the test's backends.
fn chart_target(mode: &str, dir: &Path, ports: &[u16]) -> Target {
    let values = format!("charts/distributed-memcached/ci/{mode}-values.yaml");
    let mut text = helm_template("diff", "cache", &["-f", values.as_str()]);
    let lua_of = |text: &str| -> (BTreeMap<String, String>, Vec<String>) {
        let input = Input {
            name: Arc::from(mode),
            kind: InputKind::Yaml,
            text: text.to_string(),
        };
        let docs = parse_stream(&input);
        let objects: Vec<_> = docs.iter().filter_map(|d| as_object(d)?.ok()).collect();
        let mut files = BTreeMap::new();
        let mut args = Vec::new();
        for o in &objects {
            if o.kind == "ConfigMap"
                && let Some(data) = o.json.get("data").and_then(mclint::json::Value::as_object)
                && data.contains_key("proxy.lua")
            {
                for (k, v) in data {
                    files.insert(k.to_string(), v.as_str().unwrap().to_string());
                }
            }
            if o.kind == "Pod" {
                continue;
            }
            for c in mclint::k8s::containers(o) {
                let a: Vec<String> = c
                    .json
                    .get("args")
                    .and_then(mclint::json::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                if a.iter().any(|x| x.contains("proxy_config=")) {
                    args = a;
                }
            }
        }
        (files, args)
    };
    let (files, _) = lua_of(&text);
    let lua = files
        .get("proxy.lua")
        .unwrap_or_else(|| panic!("{mode}: no proxy config rendered"));
    let original = quoted_addresses(lua);
    assert!(
        !original.is_empty() && original.len() <= ports.len(),
        "{mode}: {} backends in the proxy config",
        original.len()
    );
    let mut addresses = HashMap::new();
    for (i, a) in original.iter().enumerate() {
        text = text.replace(&format!("\"{a}\""), &format!("\"127.0.0.1:{}\"", ports[i]));
        addresses.insert(format!("127.0.0.1:{}", ports[i]), i);
    }
    let (files, args) = lua_of(&text);
    assert!(!args.is_empty(), "{mode}: no proxy container rendered");
    let mount = dir.join(format!("chart-{mode}"));
    std::fs::create_dir_all(&mount).unwrap();
    for (name, body) in &files {
        std::fs::write(mount.join(name), body).unwrap();
    }
    let manifest = dir.join(format!("chart-{mode}.yaml"));
    std::fs::write(&manifest, &text).unwrap();
    let prefix = format!("{}/", mount.display());
    Target {
        name: format!("chart {mode}"),
        mclint_path: manifest,
        mclint_extra: Vec::new(),
        proxy_args: without_listen_flags(&args)
            .iter()
            .map(|a| a.replace("/etc/memcached/", &prefix))
            .collect(),
        addresses,
    }
}

/// A handler library of the test's own (`route_tee`: each child in turn,
/// the first child's answer), loaded as `proxy_config=routelib:LIB` by the
/// proxy and with `--lib` by mclint.
const TEE_LIB: &str = r#"register_route_handlers({ "tee" })

function route_tee_conf(t, ctx)
    if type(t.children) ~= "table" or #t.children == 0 then
        error("route_tee needs a non-empty children list")
    end
    return t
end

local function route_tee_f(rctx, handles)
    return function(r)
        local res = rctx:enqueue_and_wait(r, handles[1])
        for i = 2, #handles do
            rctx:enqueue_and_wait(r, handles[i])
        end
        return res
    end
end

function route_tee_start(a, ctx, fgen)
    local handles = {}
    for _, child in ipairs(a.children) do
        table.insert(handles, fgen:new_handle(child))
    end
    fgen:ready({ a = handles, n = ctx:label(), f = route_tee_f })
end
"#;

/// A config whose `tee/` keys go through `route_tee` to a sharded pool and a
/// seeded copy of it (in another backend order), the rest to the pool.
fn lib_target(dir: &Path, ports: &[u16]) -> Target {
    let b = |i: usize| format!("\"127.0.0.1:{}\"", ports[i]);
    let config = format!(
        "pools {{\n    main = {{ backends = {{ {}, {}, {}, {} }} }},\n    copy = {{ options = {{ seed = \"copy\" }}, backends = {{ {}, {}, {} }} }},\n}}\nroutes {{\n    map = {{ tee = route_tee {{ children = {{ \"main\", \"copy\" }} }} }},\n    default = route_direct {{ child = \"main\" }},\n}}\n",
        b(0),
        b(1),
        b(2),
        b(3),
        b(4),
        b(3),
        b(0),
    );
    let lib = dir.join("route_tee.lua");
    std::fs::write(&lib, TEE_LIB).unwrap();
    let path = dir.join("lib-tee.lua");
    std::fs::write(&path, config).unwrap();
    Target {
        name: "--lib route_tee".into(),
        proxy_args: vec![
            "-o".into(),
            format!(
                "proxy_config=routelib:{},proxy_arg={}",
                lib.display(),
                path.display()
            ),
        ],
        mclint_path: path,
        mclint_extra: vec!["--lib".into(), lib.display().to_string()],
        addresses: (0..5)
            .map(|i| (format!("127.0.0.1:{}", ports[i]), i))
            .collect(),
    }
}

/// The chart's handler library (`route_ordered.lua`: route_ordered and
/// route_invalidate), as the chart renders it.
fn chart_handler_lib() -> String {
    let text = helm_template(
        "diff",
        "cache",
        &[
            "-f",
            "charts/distributed-memcached/ci/sidecar-failover-values.yaml",
        ],
    );
    let input = Input {
        name: Arc::from("sidecar-failover"),
        kind: InputKind::Yaml,
        text,
    };
    let docs = parse_stream(&input);
    for o in docs.iter().filter_map(|d| as_object(d)?.ok()) {
        if o.kind == "ConfigMap"
            && let Some(lib) = o
                .json
                .get("data")
                .and_then(|d| d.get("route_ordered.lua"))
                .and_then(mclint::json::Value::as_str)
        {
            return lib.to_string();
        }
    }
    panic!("the chart rendered no route_ordered.lua");
}

/// The configs of tests/routelib-handlers (each with the custom handler
/// library it uses), with the backend each stops for the second half.
fn handler_targets(dir: &Path, ports: &[u16]) -> Vec<(Target, usize)> {
    let src = repo().join("tests/routelib-handlers");
    let chart_lib = dir.join("chart-route_ordered.lua");
    std::fs::write(&chart_lib, chart_handler_lib()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().ok()?;
            (n.ends_with(".lua") && !n.ends_with(".lib.lua")).then_some(n)
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let stem = n.trim_end_matches(".lua");
            let mut text = std::fs::read_to_string(src.join(n)).unwrap();
            let down: usize = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("-- down: "))
                .and_then(|d| d.trim().parse().ok())
                .unwrap_or_else(|| panic!("{n}: the first line must be `-- down: N`"));
            let lib = if text.lines().nth(1) == Some("-- lib: chart") {
                chart_lib.clone()
            } else {
                let lib = dir.join(format!("handler-{stem}.lib.lua"));
                std::fs::copy(src.join(format!("{stem}.lib.lua")), &lib).unwrap();
                lib
            };
            let mut addresses = HashMap::new();
            for (i, p) in ports.iter().enumerate() {
                text = text.replace(&format!("{{b{i}}}"), &format!("127.0.0.1:{p}"));
                addresses.insert(format!("127.0.0.1:{p}"), i);
            }
            let path = dir.join(format!("handler-{stem}.lua"));
            std::fs::write(&path, text).unwrap();
            let target = Target {
                name: format!("handler {stem}"),
                proxy_args: vec![
                    "-o".into(),
                    format!(
                        "proxy_config=routelib:{},proxy_arg={}",
                        lib.display(),
                        path.display()
                    ),
                ],
                mclint_path: path,
                mclint_extra: vec!["--lib".into(), lib.display().to_string()],
                addresses,
            };
            (target, down)
        })
        .collect()
}

/// Seeded random routelib configs: every handler the model follows (direct,
/// failover, allsync, allfastest, split, ttl, zfailover, random, nested up to
/// two levels), plain pools of 1 to 5 of the test's backends in random order
/// (seeded or not, `stop`/`tags` filters, ring hashes, MD5 key hash), an
/// array-form pool set and a zoned (name-keyed) one, a prefix map with its
/// own stop string and a `cmap` for sets.
struct Gen {
    state: u64,
}

impl Gen {
    fn next(&mut self) -> usize {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 33) as usize
    }

    fn below(&mut self, n: usize) -> usize {
        self.next() % n
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// `n` distinct backends of `ports`, in random order.
    fn backends(&mut self, ports: &[u16], n: usize) -> String {
        let mut all: Vec<u16> = ports.to_vec();
        let mut out = Vec::new();
        for _ in 0..n {
            let i = self.below(all.len());
            out.push(format!("\"127.0.0.1:{}\"", all.remove(i)));
        }
        out.join(", ")
    }

    fn options(&mut self, i: usize) -> String {
        match self.below(8) {
            0 => String::new(),
            1 => format!("seed = \"s{i}\""),
            2 => format!("seed = \"t{i}\", filter = \"stop\", filter_conf = \"|#|\""),
            3 => "filter = \"tags\", filter_conf = \"{}\"".into(),
            4 => "dist = mcp.dist_ring_hash, omode = \"ketama\"".into(),
            5 => "dist = mcp.dist_ring_hash, omode = \"evcache\", seed = \"e\"".into(),
            6 => "hash = mcp.dist_ring_hash.hash".into(),
            _ => String::new(),
        }
    }

    /// A child: a plain pool's name or (above depth 0) a nested handler.
    fn child(&mut self, pools: usize, depth: usize) -> String {
        if depth > 0 && self.chance(25) {
            self.handler(pools, depth - 1, false)
        } else {
            format!("\"p{}\"", self.below(pools))
        }
    }

    /// Children: a list of 1 to 3 children, or one of the pool sets.
    fn children(&mut self, pools: usize, depth: usize) -> String {
        match self.below(5) {
            0 => "\"set_arr\"".into(),
            1 => "\"set_z\"".into(),
            _ => {
                let n = 1 + self.below(3);
                let list: Vec<String> = (0..n).map(|_| self.child(pools, depth)).collect();
                format!("{{ {} }}", list.join(", "))
            }
        }
    }

    fn handler(&mut self, pools: usize, depth: usize, top: bool) -> String {
        match self.below(if top { 9 } else { 8 }) {
            0 | 1 => format!("route_direct {{ child = \"p{}\" }}", self.below(pools)),
            2 => {
                let children = self.children(pools, depth);
                let count = if self.chance(30) {
                    format!(", failover_count = {}", 1 + self.below(3))
                } else {
                    String::new()
                };
                let miss = if self.chance(30) { ", miss = true" } else { "" };
                format!("route_failover {{ children = {children}{count}{miss} }}")
            }
            3 => format!(
                "route_allsync {{ children = {} }}",
                self.children(pools, depth)
            ),
            4 => format!(
                "route_allfastest {{ children = {} }}",
                self.children(pools, depth)
            ),
            5 => format!(
                "route_split {{ child_a = {}, child_b = {} }}",
                self.child(pools, depth),
                self.child(pools, depth)
            ),
            6 => format!(
                "route_ttl {{ ttl = {}, child = {} }}",
                10 + self.below(100),
                self.child(pools, depth)
            ),
            7 => format!(
                "route_zfailover {{ children = \"set_z\", local_zone = \"z{}\" }}",
                self.below(2)
            ),
            _ => format!(
                "route_random {{ children = {{ \"p{}\", \"p{}\" }} }}",
                self.below(pools),
                self.below(pools)
            ),
        }
    }

    fn config(&mut self, ports: &[u16]) -> String {
        let pools = 2 + self.below(3);
        let mut out = String::from("pools {\n");
        for i in 0..pools {
            let n = 1 + self.below(5);
            out += &format!(
                "    p{i} = {{ options = {{ {} }}, backends = {{ {} }} }},\n",
                self.options(i),
                self.backends(ports, n)
            );
        }
        let (a, b) = (1 + self.below(3), 1 + self.below(3));
        out += &format!(
            "    set_arr = {{\n        {{ backends = {{ {} }} }},\n        {{ options = {{ seed = \"arr\" }}, backends = {{ {} }} }},\n    }},\n",
            self.backends(ports, a),
            self.backends(ports, b)
        );
        let (a, b) = (1 + self.below(3), 1 + self.below(3));
        out += &format!(
            "    set_z = {{\n        z0 = {{ backends = {{ {} }} }},\n        z1 = {{ backends = {{ {} }} }},\n    }},\n}}\n",
            self.backends(ports, a),
            self.backends(ports, b)
        );
        out += "routes {\n";
        let stop = ["/", ":", "::"][self.below(3)];
        out += &format!("    conf = {{ mode = \"prefix\", stop = \"{stop}\" }},\n");
        let words = ["sess", "user", "feed", "cart"];
        let n = 1 + self.below(3);
        out += "    map = {\n";
        for w in &words[..n] {
            out += &format!("        {w} = {},\n", self.handler(pools, 1, true));
        }
        out += "    },\n";
        if self.chance(40) {
            out += &format!("    cmap = {{ set = {} }},\n", self.handler(pools, 1, true));
        }
        out += &format!("    default = {},\n}}\n", self.handler(pools, 1, true));
        out
    }
}

/// Generated configs compared: how many, and their seed.
const GENERATED: usize = 30;
const GENERATOR_SEED: u64 = 16;
/// Keys `set` through each generated config.
const KEYS_PER_GENERATED: usize = 120;

fn generated_targets(dir: &Path, ports: &[u16]) -> Vec<Target> {
    let mut g = Gen {
        state: GENERATOR_SEED,
    };
    (0..GENERATED)
        .map(|i| {
            let path = dir.join(format!("generated-{i}.lua"));
            std::fs::write(&path, g.config(ports)).unwrap();
            Target {
                name: format!("generated-{i}"),
                proxy_args: vec![
                    "-o".into(),
                    format!("proxy_config=routelib,proxy_arg={}", path.display()),
                ],
                mclint_path: path,
                mclint_extra: Vec::new(),
                addresses: ports
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("127.0.0.1:{p}"), i))
                    .collect(),
            }
        })
        .collect()
}

/// Chart modes with a proxy, and the backend (in the proxy config's order)
/// stopped for the reads.
const CHART_MODES: &[(&str, Option<usize>)] = &[
    ("daemonset", Some(2)),
    ("sidecar", None),
    // The local cache is backend 0; stop the first cluster pod.
    ("sidecar-failover", Some(1)),
    ("replicated-sharded", Some(0)),
];

#[test]
fn mclint_route_agrees_with_the_real_proxy_key_for_key() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ports, mut backends) = start_backends(dir);
    let mut tally = Tally::default();

    let (corpus, skipped) = corpus_targets(dir, &ports);
    for target in &corpus {
        let proxy = start_memcached(
            &format!("proxy-{}", target.name),
            free_port(),
            &target.proxy_args,
            dir,
        );
        let text = std::fs::read_to_string(&target.mclint_path).unwrap();
        let keys = keys_of(&format!("c{}", tally.configs), KEYS_PER_CONFIG, &text);
        let held = compare_sets(target, &backends, &proxy, &keys, dir, &mut tally);
        if let Some((_, down)) = CORPUS_DOWN_READS.iter().find(|(n, _)| *n == target.name) {
            compare_down_reads(
                target,
                &mut backends,
                &proxy,
                &keys,
                &held,
                &keys_of(&format!("w{}", tally.configs), keys.len() / 2, &text),
                *down,
                dir,
                &mut tally,
            );
        }
    }
    let corpus_configs = tally.configs;

    let generated = generated_targets(dir, &ports);
    let mut handlers: BTreeMap<String, usize> = BTreeMap::new();
    for target in &generated {
        let text = std::fs::read_to_string(&target.mclint_path).unwrap();
        for piece in text.split("route_").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            *handlers.entry(name).or_default() += 1;
        }
    }
    eprintln!("generated configs use {handlers:?}");
    assert!(
        handlers.len() >= 8,
        "the generated configs use only {handlers:?}"
    );
    for target in &generated {
        let proxy = start_memcached(
            &format!("proxy-{}", target.name),
            free_port(),
            &target.proxy_args,
            dir,
        );
        let text = std::fs::read_to_string(&target.mclint_path).unwrap();
        let g = tally.configs - corpus_configs;
        let keys = keys_of(&format!("g{}", tally.configs), KEYS_PER_GENERATED, &text);
        let held = compare_sets(target, &backends, &proxy, &keys, dir, &mut tally);
        // Every third one also with one of its backends stopped.
        if g.is_multiple_of(3) {
            let used = quoted_addresses(&text);
            let down = target.addresses[&used[g % used.len()]];
            compare_down_reads(
                target,
                &mut backends,
                &proxy,
                &keys,
                &held,
                &keys_of(&format!("gw{g}"), KEYS_PER_GENERATED / 2, &text),
                down,
                dir,
                &mut tally,
            );
        }
    }
    let generated_configs = tally.configs - corpus_configs;

    let target = lib_target(dir, &ports);
    let proxy = start_memcached("proxy-lib", free_port(), &target.proxy_args, dir);
    let text = std::fs::read_to_string(&target.mclint_path).unwrap();
    let keys = keys_of("lib", KEYS_PER_MODE, &text);
    let held = compare_sets(&target, &backends, &proxy, &keys, dir, &mut tally);
    compare_down_reads(
        &target,
        &mut backends,
        &proxy,
        &keys,
        &held,
        &keys_of("wlib", KEYS_PER_MODE / 2, &text),
        0,
        dir,
        &mut tally,
    );
    drop(proxy);

    // `cache` mode renders no proxy: clients hash keys themselves.
    for (mode, down) in CHART_MODES {
        let target = chart_target(mode, dir, &ports);
        let proxy = start_memcached(
            &format!("proxy-{mode}"),
            free_port(),
            &target.proxy_args,
            dir,
        );
        let text = std::fs::read_to_string(&target.mclint_path).unwrap();
        let keys = keys_of(&format!("m{}", tally.configs), KEYS_PER_MODE, &text);
        let held = compare_sets(&target, &backends, &proxy, &keys, dir, &mut tally);
        if let Some(down) = down {
            compare_down_reads(
                &target,
                &mut backends,
                &proxy,
                &keys,
                &held,
                &keys_of(&format!("w{}", tally.configs), keys.len() / 2, &text),
                *down,
                dir,
                &mut tally,
            );
        }
    }
    drop(backends);

    eprintln!("skipped corpus configs:\n  {}", skipped.join("\n  "));
    eprintln!(
        "{} configs ({corpus_configs} corpus, {generated_configs} generated, 1 with a handler library, {} chart modes), {} keys set ({} through a map's route, {} to one of several children, as mclint says), {} hits with every backend up answered by a backend mclint lists, {} reads and {} writes with a backend down, {} mismatches",
        tally.configs,
        tally.configs - corpus_configs - generated_configs - 1,
        tally.keys,
        tally.mapped,
        tally.one_of,
        tally.hits_up,
        tally.reads,
        tally.writes,
        tally.mismatches.len()
    );
    // A generated config exists only in the test: show the ones that disagree.
    for target in &generated {
        let prefix = format!("{}: ", target.name);
        if tally.mismatches.iter().any(|m| m.starts_with(&prefix)) {
            eprintln!(
                "--- {}:\n{}",
                target.name,
                std::fs::read_to_string(&target.mclint_path).unwrap()
            );
        }
    }
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches between mclint route and the real proxy:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
    assert!(
        corpus_configs >= 40,
        "only {corpus_configs} corpus configs compared"
    );
    assert!(tally.keys >= 2000, "only {} keys compared", tally.keys);
    assert!(
        tally.mapped >= 300,
        "only {} keys took a map's route",
        tally.mapped
    );
    assert!(tally.reads >= 1000, "only {} reads compared", tally.reads);
}

/// The chart's two route handlers and the project's own
/// (tests/routelib-handlers), each run by mclint's model of routelib's
/// request-time API: where a `set` lands, and what a `get` and a `set` get
/// back with one backend stopped, against the real proxy.
#[test]
fn custom_handlers_agree_with_the_real_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ports, mut backends) = start_backends(dir);
    let mut tally = Tally::default();
    // Custom handlers: the chart's two and the project's own, each run by
    // mclint's model of routelib's request-time API.
    for (target, down) in handler_targets(dir, &ports) {
        let proxy = start_memcached(
            &format!("proxy-{}", target.name.replace(' ', "-")),
            free_port(),
            &target.proxy_args,
            dir,
        );
        let text = std::fs::read_to_string(&target.mclint_path).unwrap();
        let keys = keys_of(&format!("h{}", tally.configs), KEYS_PER_CONFIG, &text);
        let held = compare_sets(&target, &backends, &proxy, &keys, dir, &mut tally);
        compare_down_reads(
            &target,
            &mut backends,
            &proxy,
            &keys,
            &held,
            &keys_of(&format!("hw{}", tally.configs), keys.len() / 2, &text),
            down,
            dir,
            &mut tally,
        );
    }
    drop(backends);
    eprintln!(
        "{} configs with custom handlers, {} keys set, {} reads and {} writes with a backend down, {} mismatches",
        tally.configs,
        tally.keys,
        tally.reads,
        tally.writes,
        tally.mismatches.len()
    );
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches between mclint route and the real proxy:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
    assert!(
        tally.configs >= 12,
        "only {} custom-handler configs compared",
        tally.configs
    );
}
