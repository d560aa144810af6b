//! Each proxy mode's claim, proven with the real parts: the chart is rendered
//! with the Helm engine, the cache pods' DNS names in the rendered proxy config
//! are mapped onto loopback ports, real memcached processes start with the
//! rendered arguments, and the real proxy runs the rendered config.
//!
//! The figures (hits, lost reads, connections) are printed: run with
//! `cargo test --test chart_claims -- --nocapture` to see them.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use mclint::json::Value;
use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use support::*;

const NAMESPACE: &str = "cache";

/// A memcached process the rendering asks for.
struct PodSpec {
    /// `host:port` as the proxy config names it.
    address: String,
    args: Vec<String>,
}

struct Rendering {
    /// ConfigMap keys of the proxy config (`proxy.lua`, ...).
    files: BTreeMap<String, String>,
    proxy_args: Vec<String>,
    /// Cache pods, by StatefulSet in document order, each in ordinal order.
    cache: Vec<Vec<PodSpec>>,
    /// The local cache sidecar (sidecar-failover).
    local: Option<PodSpec>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn runs_memcached(c: &Value) -> bool {
    strings(c.get("command"))
        .first()
        .is_some_and(|c| c.ends_with("memcached"))
        || c.get("image")
            .and_then(Value::as_str)
            .is_some_and(|i| i.starts_with("memcached:"))
            && c.get("command").is_none()
}

fn render(mode: &str, extra: &[&str]) -> Rendering {
    let values = format!("charts/distributed-memcached/ci/{mode}-values.yaml");
    let mut args = vec!["-f", values.as_str()];
    args.extend_from_slice(extra);
    let text = helm_template("claims", NAMESPACE, &args);
    let input = Input {
        name: Arc::from(mode),
        kind: InputKind::Yaml,
        text,
    };
    let docs = parse_stream(&input);
    let objects: Vec<_> = docs.iter().filter_map(|d| as_object(d)?.ok()).collect();
    let mut r = Rendering {
        files: BTreeMap::new(),
        proxy_args: Vec::new(),
        cache: Vec::new(),
        local: None,
    };
    for o in &objects {
        if o.kind == "ConfigMap"
            && let Some(data) = o.json.get("data").and_then(Value::as_object)
            && data.contains_key("proxy.lua")
        {
            for (k, v) in data {
                r.files
                    .insert(k.to_string(), v.as_str().unwrap().to_string());
            }
        }
    }
    for o in &objects {
        if o.kind == "Pod" {
            continue; // the helm test hook
        }
        let containers = mclint::k8s::containers(o);
        for c in containers.iter().filter(|c| runs_memcached(c.json)) {
            let args = strings(c.json.get("args"));
            if args.iter().any(|a| a.contains("proxy_config=")) {
                r.proxy_args = args;
            } else if o.kind == "StatefulSet" {
                let replicas = o
                    .json
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let service = o
                    .json
                    .pointer("/spec/serviceName")
                    .and_then(Value::as_str)
                    .unwrap();
                let port = flag(&args, "-p").unwrap_or_else(|| "11211".into());
                r.cache.push(
                    (0..replicas)
                        .map(|i| PodSpec {
                            address: format!(
                                "{}-{i}.{service}.{NAMESPACE}.svc.cluster.local:{port}",
                                o.name
                            ),
                            args: args.clone(),
                        })
                        .collect(),
                );
            } else {
                let port = flag(&args, "-p").unwrap_or_else(|| "11211".into());
                r.local = Some(PodSpec {
                    address: format!("127.0.0.1:{port}"),
                    args,
                });
            }
        }
    }
    assert!(
        r.files.contains_key("proxy.lua"),
        "{mode}: no proxy config rendered"
    );
    assert!(
        !r.proxy_args.is_empty(),
        "{mode}: no proxy container rendered"
    );
    r
}

/// The rendering running on loopback.
struct Cluster {
    cache: Vec<Vec<Server>>,
    local: Option<Server>,
    proxy: Server,
    proxy_threads: usize,
    _dir: tempfile::TempDir,
}

fn start(r: &Rendering) -> Cluster {
    start_edited(r, |_| {})
}

/// Starts the rendering after `edit` changed its config files.
fn start_edited(r: &Rendering, edit: impl Fn(&mut BTreeMap<String, String>)) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let mut files = r.files.clone();
    edit(&mut files);
    let mut cache = Vec::new();
    for (s, pods) in r.cache.iter().enumerate() {
        let mut servers = Vec::new();
        for (i, pod) in pods.iter().enumerate() {
            let port = free_port();
            let quoted = format!("\"{}\"", pod.address);
            assert!(
                files["proxy.lua"].contains(&quoted),
                "the proxy config does not name cache pod {}",
                pod.address
            );
            for text in files.values_mut() {
                *text = text.replace(&quoted, &format!("\"127.0.0.1:{port}\""));
            }
            servers.push(start_memcached(
                &format!("cache-{s}-{i}"),
                port,
                &without_listen_flags(&pod.args),
                dir.path(),
            ));
        }
        cache.push(servers);
    }
    let local = r.local.as_ref().map(|pod| {
        let port = free_port();
        let quoted = format!("\"{}\"", pod.address);
        for text in files.values_mut() {
            *text = text.replace(&quoted, &format!("\"127.0.0.1:{port}\""));
        }
        start_memcached("local", port, &without_listen_flags(&pod.args), dir.path())
    });
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mount = format!("{}/", dir.path().display());
    let proxy_args: Vec<String> = without_listen_flags(&r.proxy_args)
        .iter()
        .map(|a| a.replace("/etc/memcached/", &mount))
        .collect();
    let proxy_threads = flag(&r.proxy_args, "-t").map_or(4, |t| t.parse().unwrap());
    let proxy = start_memcached("proxy", free_port(), &proxy_args, dir.path());
    Cluster {
        cache,
        local,
        proxy,
        proxy_threads,
        _dir: dir,
    }
}

fn holders(servers: &[Server], key: &str) -> Vec<usize> {
    servers
        .iter()
        .enumerate()
        .filter(|(_, s)| holds(s.port, key))
        .map(|(i, _)| i)
        .collect()
}

fn proxy_log(c: &Cluster) -> String {
    c.proxy.log()
}

/// Stores `<prefix><i>` for i < n through the proxy.
fn store_through_proxy(c: &Cluster, prefix: &str, n: usize) {
    let mut client = Client::connect(c.proxy.port);
    for i in 0..n {
        assert_eq!(
            client.set(&format!("{prefix}{i}"), b"v", 0),
            "STORED",
            "{}",
            proxy_log(c)
        );
    }
}

/// How many of `<prefix><i>` each pod holds, requiring every key on exactly
/// one pod and every pod to hold at least 70% of a fair share.
fn sharded_counts(pods: &[Server], prefix: &str, n: usize) -> Vec<usize> {
    let mut clients: Vec<Client> = pods.iter().map(|s| Client::connect(s.port)).collect();
    let mut per_pod = vec![0usize; pods.len()];
    for i in 0..n {
        let key = format!("{prefix}{i}");
        let on: Vec<usize> = (0..pods.len())
            .filter(|&p| clients[p].get(&key).is_some())
            .collect();
        assert_eq!(on.len(), 1, "{key} is on pods {on:?}, want exactly one");
        per_pod[on[0]] += 1;
    }
    let fair = n / pods.len();
    assert!(
        per_pod.iter().all(|&k| k * 10 >= fair * 7),
        "keys unevenly spread: {per_pod:?}"
    );
    per_pod
}

#[test]
fn daemonset_pools_the_memory_of_every_cache_pod() {
    let r = render("daemonset", &[]);
    let c = start(&r);
    let n = 3000;
    store_through_proxy(&c, "pooled:", n);
    let per_pod = sharded_counts(&c.cache[0], "pooled:", n);
    eprintln!(
        "daemonset: {n} keys over {} pods: {per_pod:?}",
        c.cache[0].len()
    );
}

#[test]
fn sidecar_loses_no_read_when_a_cache_pod_is_down() {
    let r = render("sidecar", &[]);
    let mut c = start(&r);
    let n = 1000;
    let mut client = Client::connect(c.proxy.port);
    for i in 0..n {
        assert_eq!(
            client.set(&format!("copy:{i}"), b"v", 0),
            "STORED",
            "{}",
            proxy_log(&c)
        );
    }
    for i in (0..n).step_by(37) {
        let on = holders(&c.cache[0], &format!("copy:{i}"));
        assert_eq!(
            on.len(),
            c.cache[0].len(),
            "copy:{i} is on pods {on:?}, want all"
        );
    }
    c.cache[0][1].stop();
    let mut client = Client::connect(c.proxy.port);
    let hits = (0..n)
        .filter(|i| client.get(&format!("copy:{i}")).is_some())
        .count();
    eprintln!(
        "sidecar: {n} keys, pod 1 of {} stopped: {hits} hits, {} lost reads",
        c.cache[0].len(),
        n - hits
    );
    assert_eq!(hits, n, "reads lost with one cache pod down");
}

/// Stores `n` keys through the proxy, flushes cache pod 1 (a pod that
/// restarted comes back empty), then reads every key once over `connections`
/// connections; returns the hits.
fn hits_with_one_pod_emptied(c: &Cluster, n: usize, connections: usize) -> usize {
    let mut client = Client::connect(c.proxy.port);
    for i in 0..n {
        assert_eq!(client.set(&format!("re:{i}"), b"v", 0), "STORED");
    }
    assert_eq!(Client::connect(c.cache[0][1].port).raw("flush_all"), "OK");
    let mut clients: Vec<Client> = (0..connections)
        .map(|_| Client::connect(c.proxy.port))
        .collect();
    (0..n)
        .filter(|i| clients[i % connections].get(&format!("re:{i}")).is_some())
        .count()
}

/// A cache pod that restarted empty answers misses as fast as the others
/// answer hits. The chart's reads (`route_allfastest` with `miss = true`) wait
/// for a hit, so every read still hits; the same config without `miss = true`
/// (what mclint's route-allfastest-miss warns about) loses some. That side is a
/// race, so it restarts the proxy until one start shows it (up to 5).
#[test]
fn sidecar_reads_hit_while_a_cache_pod_restarts_empty() {
    let r = render("sidecar", &[]);
    assert!(r.files["proxy.lua"].contains("miss = true"));
    let (n, connections) = (1000, 64);
    let shipped = hits_with_one_pod_emptied(&start(&r), n, connections);
    let mut trap_runs = Vec::new();
    for _ in 0..5 {
        let trap = start_edited(&r, |files| {
            let lua = files.get_mut("proxy.lua").unwrap();
            *lua = lua.replace(", miss = true", "");
        });
        let hits = hits_with_one_pod_emptied(&trap, n, connections);
        trap_runs.push(hits);
        if hits < n {
            break;
        }
    }
    eprintln!(
        "sidecar: {n} reads with pod 1 of 3 emptied: {shipped} hits with miss = true; without it {trap_runs:?}"
    );
    assert_eq!(shipped, n, "reads missed with one pod emptied");
    assert!(
        trap_runs.iter().any(|&h| h < n),
        "without miss = true every read hit too: the proof cannot tell them apart"
    );
}

#[test]
fn replicated_sharded_loses_no_read_when_a_pod_is_down_and_pools_each_copy() {
    let r = render("replicated-sharded", &[]);
    let mut c = start(&r);
    assert!(c.cache.len() >= 2, "want two or more copies");
    let n = 2000;
    store_through_proxy(&c, "rs:", n);
    // Within each copy every key is on exactly one shard, and every shard holds some.
    for (copy, pods) in c.cache.iter().enumerate() {
        let per_pod = sharded_counts(pods, "rs:", n);
        eprintln!("replicated-sharded: copy {copy}: {per_pod:?}");
    }
    c.cache[0][0].stop();
    let mut client = Client::connect(c.proxy.port);
    let hits = (0..n)
        .filter(|i| client.get(&format!("rs:{i}")).is_some())
        .count();
    eprintln!(
        "replicated-sharded: {n} keys, copy 0 shard 0 stopped: {hits} hits, {} lost reads",
        n - hits
    );
    assert_eq!(hits, n, "reads lost with one pod down");
}

#[test]
fn sidecar_failover_reads_local_first_on_every_worker_thread() {
    let r = render("sidecar-failover", &[]);
    let c = start(&r);
    let local = c.local.as_ref().expect("a local cache sidecar");
    let mut local_client = Client::connect(local.port);
    let mut cluster: Vec<Client> = c.cache[0].iter().map(|s| Client::connect(s.port)).collect();
    // Each key is in the local cache as "local" and on every cluster pod as "cluster":
    // an answer says which was asked first.
    let connections = 500;
    for i in 0..connections {
        let key = format!("lf:{i}");
        assert_eq!(local_client.set(&key, b"local", 0), "STORED");
        for cl in &mut cluster {
            assert_eq!(cl.set(&key, b"cluster", 0), "STORED");
        }
    }
    let mut clients: Vec<Client> = (0..connections)
        .map(|_| Client::connect(c.proxy.port))
        .collect();
    let mut local_hits = 0;
    for round in 0..2 {
        for (i, client) in clients.iter_mut().enumerate() {
            let key = format!("lf:{}", (i + round) % connections);
            match client.get(&key).as_deref() {
                Some(b"local") => local_hits += 1,
                other => panic!(
                    "connection {i}: {key} answered {:?}, not by the local cache\n{}",
                    other.map(String::from_utf8_lossy),
                    proxy_log(&c)
                ),
            }
        }
    }
    eprintln!(
        "sidecar-failover: {connections} connections over {} proxy worker threads, {} reads: {local_hits} answered by the local cache",
        c.proxy_threads,
        connections * 2
    );
    assert!(connections >= 500 && connections > c.proxy_threads * 50);

    // A local miss falls back to the cluster.
    let mut fallback = 0;
    for i in 0..100 {
        let key = format!("cl:{i}");
        for cl in &mut cluster {
            cl.set(&key, b"cluster", 0);
        }
        if clients[i * 5].get(&key).as_deref() == Some(b"cluster") {
            fallback += 1;
        }
    }
    eprintln!("sidecar-failover: 100 keys only on the cluster: {fallback} answered by the cluster");
    assert_eq!(fallback, 100);

    // Writes reach both the local cache and exactly one cluster pod.
    let mut client = Client::connect(c.proxy.port);
    for i in 0..200 {
        let key = format!("w:{i}");
        assert_eq!(
            client.set(&key, b"written", 0),
            "STORED",
            "{}",
            proxy_log(&c)
        );
        assert_eq!(
            local_client.get(&key).as_deref(),
            Some(&b"written"[..]),
            "{key} not in the local cache"
        );
        let on = holders(&c.cache[0], &key);
        assert_eq!(on.len(), 1, "{key} on cluster pods {on:?}");
    }
}

#[test]
fn sidecar_failover_local_entries_expire_after_the_local_ttl() {
    let r = render("sidecar-failover", &["--set", "localCache.ttl=2"]);
    let c = start(&r);
    let local = c.local.as_ref().unwrap();
    let mut client = Client::connect(c.proxy.port);
    let mut local_client = Client::connect(local.port);
    let keys: Vec<String> = (0..20).map(|i| format!("ttl:{i}")).collect();
    for k in &keys {
        assert_eq!(client.set(k, b"v1", 0), "STORED", "{}", proxy_log(&c));
        assert!(
            local_client.get(k).is_some(),
            "{k} not written to the local cache"
        );
    }
    // memcached's clock ticks once a second: a 2 s TTL is gone after at most 3 s.
    std::thread::sleep(std::time::Duration::from_millis(4200));
    for k in &keys {
        assert!(
            local_client.get(k).is_none(),
            "{k} still in the local cache after its 2 s TTL"
        );
        // The cluster copy keeps the app's TTL (none), so the next read is answered by it.
        assert_eq!(
            holders(&c.cache[0], k).len(),
            1,
            "{k} gone from the cluster"
        );
        assert_eq!(
            client.get(k).as_deref(),
            Some(&b"v1"[..]),
            "{k} not answered by the cluster"
        );
    }
    eprintln!(
        "sidecar-failover: 20 keys expired from the local cache after 2 s and were answered by the cluster"
    );
}

/// A `cas` or `replace` by this pod changes the cluster copy and deletes the
/// local one (route_invalidate), so the next read is not answered by a stale
/// local copy; `gets` hands out the cluster's CAS token.
#[test]
fn sidecar_failover_cas_and_replace_do_not_leave_a_stale_local_copy() {
    let r = render("sidecar-failover", &[]);
    let c = start(&r);
    let local = c.local.as_ref().unwrap();
    let mut client = Client::connect(c.proxy.port);
    let mut local_client = Client::connect(local.port);
    let keys = 50;
    for i in 0..keys {
        let k = format!("cas:{i}");
        assert_eq!(client.set(&k, b"v1", 0), "STORED", "{}", proxy_log(&c));
        assert_eq!(local_client.get(&k).as_deref(), Some(&b"v1"[..]));
        // gets answers from the cluster: its token is the cluster's.
        let line = client.raw(&format!("gets {k}"));
        let token: u64 = line
            .split(' ')
            .nth(4)
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("gets {k}: {line}"));
        assert_eq!(client.line(), "v1");
        assert_eq!(client.line(), "END");
        let reply = client.raw(&format!("cas {k} 0 0 2 {token}\r\nv2"));
        assert_eq!(reply, "STORED", "cas {k}: {}", proxy_log(&c));
        assert_eq!(
            local_client.get(&k),
            None,
            "{k}: the local copy survived the cas"
        );
        assert_eq!(client.get(&k).as_deref(), Some(&b"v2"[..]), "{k} after cas");
        // replace, after a read left no local copy and a set put one back.
        assert_eq!(client.set(&k, b"v3", 0), "STORED");
        assert_eq!(local_client.get(&k).as_deref(), Some(&b"v3"[..]));
        assert_eq!(client.raw(&format!("replace {k} 0 0 2\r\nv4")), "STORED");
        assert_eq!(
            local_client.get(&k),
            None,
            "{k}: the local copy survived the replace"
        );
        assert_eq!(
            client.get(&k).as_deref(),
            Some(&b"v4"[..]),
            "{k} after replace"
        );
    }
    eprintln!(
        "sidecar-failover: {keys} keys, cas and replace through the proxy: the local copy deleted each time, the next read answered with the new value"
    );
}

/// Reads `lf:<i>` once on each of `connections` fresh connections, each key being
/// "local" in the local cache and "cluster" on every cluster pod; returns how
/// many answers came from the local cache.
fn local_first_reads(c: &Cluster, connections: usize) -> usize {
    let mut local_client = Client::connect(c.local.as_ref().unwrap().port);
    let mut cluster: Vec<Client> = c.cache[0].iter().map(|s| Client::connect(s.port)).collect();
    for i in 0..connections {
        let key = format!("lf:{i}");
        local_client.set(&key, b"local", 0);
        for cl in &mut cluster {
            cl.set(&key, b"cluster", 0);
        }
    }
    let mut clients: Vec<Client> = (0..connections)
        .map(|_| Client::connect(c.proxy.port))
        .collect();
    let mut local = 0;
    for (i, client) in clients.iter_mut().enumerate() {
        if client.get(&format!("lf:{i}")).as_deref() == Some(b"local") {
            local += 1;
        }
    }
    local
}

/// The trap the chart must not ship, shown with the real proxy: `route_failover`
/// over a zoned set ignores the global `local_zone()`, and each worker thread
/// orders the children its own way (Lua's table order, seeded per VM from the
/// clock and addresses), so some reads skip the local cache. The chart's
/// `route_zfailover` on the same 16 threads reads locally every time.
///
/// The trap's per-thread order is random: in one start out of a few dozen every
/// thread happens to put the local cache first. So the trap side restarts the
/// proxy (on a new second, as the seed takes the clock) until a start shows it,
/// up to `TRAP_STARTS` times; the shipped side must read locally on each of them.
#[test]
fn sidecar_failover_avoids_the_route_failover_trap() {
    const TRAP_STARTS: usize = 8;
    let r = render("sidecar-failover", &["--set", "proxy.threads=16"]);
    let connections = 512;
    let mut shipped_runs = Vec::new();
    let mut trap_runs = Vec::new();
    for _ in 0..TRAP_STARTS {
        let shipped = start(&r);
        assert_eq!(shipped.proxy_threads, 16);
        shipped_runs.push(local_first_reads(&shipped, connections));
        drop(shipped);
        let trap = start_edited(&r, |files| {
            let lua = files.get_mut("proxy.lua").unwrap();
            assert!(lua.contains("route_zfailover"));
            *lua = lua.replace("route_zfailover", "route_failover");
        });
        let trap_local = local_first_reads(&trap, connections);
        drop(trap);
        trap_runs.push(trap_local);
        if trap_local < connections {
            break;
        }
        // A new second gives the next start's Lua VMs a new hash seed.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    eprintln!(
        "sidecar-failover, 16 worker threads, {connections} connections per start: route_zfailover local answers {shipped_runs:?}; route_failover with the global local_zone() {trap_runs:?}"
    );
    assert!(
        shipped_runs.iter().all(|&n| n == connections),
        "route_zfailover skipped the local cache: {shipped_runs:?} of {connections}"
    );
    assert!(
        trap_runs.iter().any(|&n| n < connections),
        "the trap config read locally on every thread in {TRAP_STARTS} starts: the proof cannot tell them apart"
    );
}
