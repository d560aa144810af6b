//! The claims of `cache.zones` and `cache.migration`, proven with the real
//! parts: the chart is rendered with the Helm engine, every cache pod the
//! rendering runs becomes a real memcached on loopback (its DNS name in the
//! proxy configs mapped to the port), and each rendered proxy config runs in
//! a real 1.6.38 proxy with the rendered arguments.
//!
//! The figures are printed: `cargo test --test chart_zones_migration -- --nocapture`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mclint::json::Value;
use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use support::*;

const NAMESPACE: &str = "cache";

/// A proxy config of the rendering: the zone its DaemonSet runs in ("" when
/// none), its ConfigMap files and the proxy container's arguments.
struct ProxySpec {
    zone: String,
    files: BTreeMap<String, String>,
    args: Vec<String>,
}

/// A cache pod: its StatefulSet's copy (the zone with cache.zones), the
/// address the proxy configs name, its memcached arguments.
struct PodSpec {
    copy: String,
    address: String,
    args: Vec<String>,
}

struct Rendering {
    text: String,
    proxies: Vec<ProxySpec>,
    pods: Vec<PodSpec>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn label(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(|l| {
            l.get("distributed-memcached/zone")
                .or(l.get("distributed-memcached/copy"))
        })
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn render(args: &[&str]) -> Rendering {
    let text = helm_template("claims", NAMESPACE, args);
    let input = Input {
        name: Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.clone(),
    };
    let docs = parse_stream(&input);
    let objects: Vec<_> = docs.iter().filter_map(|d| as_object(d)?.ok()).collect();
    let mut configs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for o in objects.iter().filter(|o| o.kind == "ConfigMap") {
        if let Some(data) = o.json.get("data").and_then(Value::as_object)
            && data.contains_key("proxy.lua")
        {
            let files = data
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_str().unwrap().to_string()))
                .collect();
            configs.insert(label(o.json, "/metadata/labels"), files);
        }
    }
    let mut r = Rendering {
        text,
        proxies: Vec::new(),
        pods: Vec::new(),
    };
    for o in &objects {
        for c in mclint::k8s::containers(o) {
            let args = strings(c.json.get("args"));
            let proxy = args.iter().any(|a| a.contains("proxy_config="));
            if o.kind == "Deployment" && !proxy && c.name == "memcached-local" {
                // sidecar-failover's local cache, reached on loopback.
                let port = flag(&args, "-p").unwrap_or_else(|| "11211".into());
                r.pods.push(PodSpec {
                    copy: "local".into(),
                    address: format!("127.0.0.1:{port}"),
                    args: args.clone(),
                });
            } else if matches!(&*o.kind, "DaemonSet" | "Deployment") && proxy {
                let zone = label(o.json, "/spec/template/metadata/labels");
                let files = configs
                    .get(&zone)
                    .cloned()
                    .expect("the DaemonSet's ConfigMap");
                r.proxies.push(ProxySpec { zone, files, args });
            } else if o.kind == "StatefulSet" && c.name == "memcached" {
                let replicas = o
                    .json
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap();
                let service = o
                    .json
                    .pointer("/spec/serviceName")
                    .and_then(Value::as_str)
                    .unwrap();
                let port = flag(&args, "-p").unwrap_or_else(|| "11211".into());
                let copy = label(o.json, "/spec/template/metadata/labels");
                for i in 0..replicas {
                    r.pods.push(PodSpec {
                        copy: copy.clone(),
                        address: format!(
                            "{}-{i}.{service}.{NAMESPACE}.svc.cluster.local:{port}",
                            o.name
                        ),
                        args: args.clone(),
                    });
                }
            }
        }
    }
    assert!(
        !r.proxies.is_empty() && !r.pods.is_empty(),
        "nothing rendered"
    );
    r
}

/// The cache pods of a rendering, running on loopback.
struct Pods {
    servers: Vec<Server>,
    copy: Vec<String>,
    /// The address a config names -> index into `servers`.
    index: BTreeMap<String, usize>,
}

fn start_pods(r: &Rendering, dir: &Path) -> Pods {
    let mut p = Pods {
        servers: Vec::new(),
        copy: Vec::new(),
        index: BTreeMap::new(),
    };
    for (i, pod) in r.pods.iter().enumerate() {
        p.servers.push(start_memcached(
            &format!("cache-{i}"),
            free_port(),
            &without_listen_flags(&pod.args),
            dir,
        ));
        p.copy.push(pod.copy.clone());
        p.index.insert(pod.address.clone(), i);
    }
    p
}

impl Pods {
    /// The servers of one copy (zone), in ordinal order.
    fn of(&self, copy: &str) -> Vec<usize> {
        (0..self.servers.len())
            .filter(|&i| self.copy[i] == copy)
            .collect()
    }

    /// Which of `servers` hold `key` (asked directly).
    fn holders(&self, servers: &[usize], key: &str) -> Vec<usize> {
        servers
            .iter()
            .copied()
            .filter(|&i| holds(self.servers[i].port, key))
            .collect()
    }
}

/// Starts a proxy config against running pods (the config's names of every
/// pod mapped to its port), with the rendered proxy arguments.
fn start_proxy_for(spec: &ProxySpec, pods: &Pods, dir: &Path, name: &str) -> Server {
    let mount = dir.join(name);
    std::fs::create_dir_all(&mount).unwrap();
    for (file, text) in &spec.files {
        let mut text = text.clone();
        for (address, &i) in &pods.index {
            text = text.replace(
                &format!("\"{address}\""),
                &format!("\"127.0.0.1:{}\"", pods.servers[i].port),
            );
        }
        assert!(
            !text.contains(".svc.cluster.local"),
            "{name}: a backend is not a rendered pod"
        );
        std::fs::write(mount.join(file), text).unwrap();
    }
    let mount = format!("{}/", mount.display());
    let args: Vec<String> = without_listen_flags(&spec.args)
        .iter()
        .map(|a| a.replace("/etc/memcached/", &mount))
        .collect();
    start_memcached(name, free_port(), &args, dir)
}

fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}:{i}:{}", i * 7919 % 1000))
        .collect()
}

/// mclint route's primary backend for each key, as JSON lines.
fn mclint_primaries(rendering: &str, keys: &[String], extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, rendering).unwrap();
    let list = dir.path().join("keys.txt");
    std::fs::write(&list, keys.join("\n")).unwrap();
    let mut cmd = mclint();
    cmd.arg("route").arg(&file).arg("--keys-file").arg(&list);
    cmd.args(["--format", "json"]).args(extra);
    let run = run(&mut cmd, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let b = v["backends"].as_array().unwrap();
            let primary = b.iter().find(|b| b["role"] == "primary").unwrap_or(&b[0]);
            primary["backend"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn zones_read_locally_lose_nothing_when_a_zone_is_down_and_write_everywhere() {
    let r = render(&[
        "-f",
        "charts/distributed-memcached/ci/zones-values.yaml",
        "--set",
        "cache.replicas=2",
        "--set",
        "proxy.threads=8",
    ]);
    let zones: Vec<String> = r.proxies.iter().map(|p| p.zone.clone()).collect();
    assert_eq!(zones, ["zone-a", "zone-b", "zone-c"]);
    let dir = tempfile::tempdir().unwrap();
    let mut pods = start_pods(&r, dir.path());
    let proxies: Vec<Server> = r
        .proxies
        .iter()
        .map(|p| start_proxy_for(p, &pods, dir.path(), &format!("proxy-{}", p.zone)))
        .collect();

    // Writes through any zone's proxy reach every zone (one copy per zone).
    let mut reached = 0;
    let mut written = 0;
    for (z, proxy) in proxies.iter().enumerate() {
        let mut c = Client::connect(proxy.port);
        for k in keys(&format!("w{z}"), 200) {
            assert_eq!(c.set(&k, b"v", 0), "STORED");
            written += 1;
            for zone in &zones {
                let held = pods.holders(&pods.of(zone), &k);
                assert!(held.len() <= 1, "{k} twice in {zone}");
                reached += held.len();
            }
        }
    }
    println!(
        "writes: {written} keys through the 3 zones' proxies, {reached} of {} zone copies stored",
        written * 3
    );
    assert_eq!(reached, written * zones.len());

    // Each zone's copy answers its own zone's reads: the value each copy holds
    // is overwritten directly with its zone's name.
    let ks = keys("k", 2000);
    let mut c = Client::connect(proxies[0].port);
    for k in &ks {
        assert_eq!(c.set(k, b"v", 0), "STORED");
    }
    let mut holder: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for zone in &zones {
        for k in &ks {
            let h = pods.holders(&pods.of(zone), k);
            assert_eq!(h.len(), 1, "{k} in {zone}: {h:?}");
            let mut direct = Client::connect(pods.servers[h[0]].port);
            assert_eq!(direct.set(k, zone.as_bytes(), 0), "STORED");
            holder.insert((0, k.clone()), h[0]);
            holder.insert(
                (1 + zones.iter().position(|z| z == zone).unwrap(), k.clone()),
                h[0],
            );
        }
    }
    const CONNECTIONS: usize = 500;
    for (z, zone) in zones.iter().enumerate() {
        let mut conns: Vec<Client> = (0..CONNECTIONS)
            .map(|_| Client::connect(proxies[z].port))
            .collect();
        let mut local = 0;
        for (i, k) in ks.iter().enumerate() {
            let got = conns[i % CONNECTIONS].get(k).expect("a stored key");
            if got == zone.as_bytes() {
                local += 1;
            }
        }
        println!(
            "{zone}: {local} of {} reads through its proxy ({CONNECTIONS} connections, {} worker threads) answered by its own copy",
            ks.len(),
            flag(&r.proxies[z].args, "-t").unwrap()
        );
        assert_eq!(local, ks.len(), "{zone}: reads left the zone");
    }

    // mclint route --zone names the same pod as primary, for every zone.
    let port_of = |addr: &str| pods.servers[pods.index[addr]].port;
    for (z, zone) in zones.iter().enumerate() {
        let primaries = mclint_primaries(&r.text, &ks, &["--zone", zone]);
        assert_eq!(primaries.len(), ks.len());
        for (k, p) in ks.iter().zip(&primaries) {
            let real = pods.servers[holder[&(z + 1, k.clone())]].port;
            assert_eq!(port_of(p), real, "{zone} {k}: mclint says {p}");
        }
    }

    // All of zone A's cache pods down: reads through zone A's proxy lose nothing.
    for i in pods.of("zone-a") {
        pods.servers[i].stop();
    }
    let mut conns: Vec<Client> = (0..50).map(|_| Client::connect(proxies[0].port)).collect();
    let mut answered = 0;
    let mut from = BTreeMap::<String, usize>::new();
    for (i, k) in ks.iter().enumerate() {
        if let Some(v) = conns[i % 50].get(k) {
            answered += 1;
            *from
                .entry(String::from_utf8_lossy(&v).into_owned())
                .or_default() += 1;
        }
    }
    println!(
        "zone-a down: {answered} of {} reads through zone-a's proxy answered ({from:?})",
        ks.len()
    );
    assert_eq!(answered, ks.len());
    assert!(!from.contains_key("zone-a"));
    // And mclint says so too.
    let dirr = tempfile::tempdir().unwrap();
    let file = dirr.path().join("rendered.yaml");
    std::fs::write(&file, &r.text).unwrap();
    let run = run(
        mclint().arg("route").arg(&file).args([
            "--zone",
            "zone-a",
            "--fail",
            "zone:zone-a",
            "--stats",
            "2000",
        ]),
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("get route cmap get: 0.00% fail, 0.00% miss, 100.00% hit"),
        "{}",
        run.stdout
    );
}

/// Hits among `ks` read through `port` (one connection).
fn hits(port: u16, ks: &[String]) -> usize {
    let mut c = Client::connect(port);
    ks.iter().filter(|k| c.get(k).is_some()).count()
}

/// Empties the pod-local caches (a new app pod), so reads reach the cluster.
fn flush_local(pods: &Pods) {
    for i in pods.of("local") {
        assert_eq!(Client::connect(pods.servers[i].port).raw("flush_all"), "OK");
    }
}

/// Stores `ks` with the config of `before`, then reads them with the config
/// of `plain` (the new size, no window) and of `window` (the new size with
/// cache.migration), all rendered from the `base` values: returns (hits
/// without, hits with).
fn migrate(
    base: &[&str],
    before: &[&str],
    plain: &[&str],
    window: &[&str],
    ks: &[String],
) -> (usize, usize) {
    let with = |extra: &[&str]| render(&[base, extra].concat());
    let (before, plain, window) = (with(before), with(plain), with(window));
    // The window's StatefulSets run max(old, new) pods: start them all.
    let dir = tempfile::tempdir().unwrap();
    let pods = start_pods(&window, dir.path());
    let old = start_proxy_for(&before.proxies[0], &pods, dir.path(), "proxy-before");
    let mut c = Client::connect(old.port);
    for k in ks {
        assert_eq!(c.set(k, b"v", 0), "STORED");
    }
    let p = start_proxy_for(&plain.proxies[0], &pods, dir.path(), "proxy-plain");
    let w = start_proxy_for(&window.proxies[0], &pods, dir.path(), "proxy-window");
    flush_local(&pods);
    let without = hits(p.port, ks);
    flush_local(&pods);
    let with_window = hits(w.port, ks);

    // Deletes during the window leave no stale copy to read back, and new
    // writes are read back, not the old placement's value.
    let mut c = Client::connect(w.port);
    let (gone, fresh) = (&ks[..1000], &ks[1000..2000]);
    for k in gone {
        let reply = c.raw(&format!("delete {k}"));
        assert!(reply == "DELETED" || reply == "NOT_FOUND", "{reply}");
    }
    for k in fresh {
        assert_eq!(c.set(k, b"new", 0), "STORED");
    }
    flush_local(&pods);
    let stale = gone.iter().filter(|k| c.get(k).is_some()).count();
    let old_values = fresh
        .iter()
        .filter(|k| c.get(k).as_deref() != Some(b"new"))
        .count();
    println!(
        "  deletes in the window: {stale} of {} read back; rewrites: {old_values} of {} read the old value",
        gone.len(),
        fresh.len()
    );
    assert_eq!(stale, 0);
    assert_eq!(old_values, 0);
    (without, with_window)
}

/// Values of each sharded mode, with 4 cache pods (per copy) and a window
/// from 3: daemonset, every copy of replicated-sharded, every zone's copy,
/// sidecar-failover's cluster pool.
const MODES: [(&str, &[&str]); 4] = [
    (
        "daemonset",
        &[
            "-f",
            "charts/distributed-memcached/ci/migration-values.yaml",
        ],
    ),
    (
        "replicated-sharded",
        &[
            "-f",
            "charts/distributed-memcached/ci/replicated-sharded-values.yaml",
            "--set",
            "cache.replicas=4",
            "--set",
            "cache.migration.fromReplicas=3",
        ],
    ),
    (
        "zones",
        &[
            "-f",
            "charts/distributed-memcached/ci/zones-values.yaml",
            "--set",
            "cache.replicas=4",
            "--set",
            "cache.migration.fromReplicas=3",
        ],
    ),
    (
        "sidecar-failover",
        &[
            "-f",
            "charts/distributed-memcached/ci/sidecar-failover-values.yaml",
            "--set",
            "cache.replicas=4",
            "--set",
            "cache.migration.fromReplicas=3",
        ],
    ),
];

/// A resize: its name, and the extra values of the rendering the keys are
/// stored with, of the new size without a window, and with one.
type Step<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

#[test]
fn migration_keeps_reads_hitting_while_a_pool_grows_and_shrinks() {
    let ks = keys("m", 10_000);
    let n = ks.len() as f64;
    let steps: [Step; 2] = [
        (
            "3 to 4 pods",
            &[
                "--set",
                "cache.replicas=3",
                "--set",
                "cache.migration.fromReplicas=0",
            ],
            &["--set", "cache.migration.fromReplicas=0"],
            &[],
        ),
        (
            "4 to 3 pods",
            &[
                "--set",
                "cache.replicas=4",
                "--set",
                "cache.migration.fromReplicas=0",
            ],
            &[
                "--set",
                "cache.replicas=3",
                "--set",
                "cache.migration.fromReplicas=0",
            ],
            &[
                "--set",
                "cache.replicas=3",
                "--set",
                "cache.migration.fromReplicas=4",
            ],
        ),
    ];
    for (mode, base) in MODES {
        for (name, before, plain, window) in steps {
            println!("{mode}, {name}:");
            let (without, with) = migrate(base, before, plain, window, &ks);
            println!(
                "  reads after the change: {:.2}% hit without the window, {:.2}% with it",
                100.0 * without as f64 / n,
                100.0 * with as f64 / n
            );
            assert!(
                with as f64 >= 0.999 * n,
                "{mode} {name}: {with} hits with the window"
            );
            // One copy: the keys that move miss (1 - 3/4). Several copies hash
            // with their own seeds, so a key moved in one copy is still found
            // in another unless it moved in every copy.
            let without = without as f64 / n;
            match mode {
                "daemonset" | "sidecar-failover" => {
                    assert!((0.70..0.80).contains(&without), "{mode} {name}: {without}")
                }
                _ => assert!(without < 0.999, "{mode} {name}: {without}"),
            }
        }
    }
}

#[test]
fn diff_reports_the_reads_a_resharding_window_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "-f",
        "charts/distributed-memcached/ci/migration-values.yaml",
    ];
    let write = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            helm_template("m", NAMESPACE, &[&base[..], extra].concat()),
        )
        .unwrap();
        path
    };
    let old = write(
        "old.yaml",
        &[
            "--set",
            "cache.replicas=3",
            "--set",
            "cache.migration.fromReplicas=0",
        ],
    );
    let window = write("window.yaml", &[]);
    let plain = write("plain.yaml", &["--set", "cache.migration.fromReplicas=0"]);
    let diff = |new: &Path| {
        run(
            mclint()
                .arg("diff")
                .arg(&old)
                .arg(new)
                .args(["--max-remap", "20", "--format", "json"]),
            b"",
        )
    };
    let with = diff(&window);
    assert_eq!(with.code, 0, "{}{}", with.stdout, with.stderr);
    let v: serde_json::Value = serde_json::from_str(&with.stdout).unwrap();
    let route = v["remap"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["migration"].is_null())
        .expect("a route with the window");
    let without = route["migration"]["miss_without"].as_f64().unwrap();
    let within = route["migration"]["miss_with"].as_f64().unwrap();
    println!(
        "diff 3 to 4 pods: {:.2}% of reads miss without the window, {:.2}% with it",
        100.0 * without,
        100.0 * within
    );
    assert!((0.24..0.26).contains(&without), "{without}");
    assert_eq!(within, 0.0);
    // Text and GitHub summaries say it in words.
    for format in ["text", "github"] {
        let out = run(
            mclint()
                .arg("diff")
                .arg(&old)
                .arg(&window)
                .args(["--format", format]),
            b"",
        );
        assert!(
            out.stdout.contains(
                "without the resharding window, 0.00% with it (old placement: cache_old)"
            ),
            "{format}: {}",
            out.stdout
        );
    }
    // Without the window the same change is over --max-remap 20.
    let plain = diff(&plain);
    assert_eq!(plain.code, 1, "{}{}", plain.stdout, plain.stderr);
}

/// The objects `cache.zones` renders, by Kubernetes version.
#[test]
fn zones_pin_each_copy_and_proxy_and_keep_clients_in_their_zone() {
    let objects = |extra: &[&str]| -> Vec<Value> {
        let args = [
            &["-f", "charts/distributed-memcached/ci/zones-values.yaml"][..],
            extra,
        ]
        .concat();
        let text = helm_template("z", NAMESPACE, &args);
        let input = Input {
            name: Arc::from("zones"),
            kind: InputKind::Yaml,
            text,
        };
        parse_stream(&input)
            .iter()
            .filter_map(|d| Some(as_object(d)?.ok()?.json.clone()))
            .collect()
    };
    let zone_of = |o: &Value| -> Vec<String> {
        let terms = o
            .pointer("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
            .and_then(Value::as_array)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        terms
            .iter()
            .flat_map(|t| {
                t["matchExpressions"]
                    .as_array()
                    .map(<[_]>::to_vec)
                    .unwrap_or_default()
            })
            .filter(|e| e["key"] == "topology.kubernetes.io/zone")
            .map(|e| e["values"][0].as_str().unwrap().to_string())
            .collect()
    };
    for (version, distribution, annotation) in [
        ("1.30", None, Some("Auto")),
        ("1.33", Some("PreferClose"), None),
    ] {
        let objs = objects(&["--kube-version", version]);
        let svc = objs
            .iter()
            .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "memcached-proxy")
            .unwrap();
        assert_eq!(
            svc["spec"]["trafficDistribution"].as_str(),
            distribution,
            "{version}"
        );
        assert_eq!(
            svc["metadata"]["annotations"]["service.kubernetes.io/topology-mode"].as_str(),
            annotation,
            "{version}"
        );
        for zone in ["zone-a", "zone-b", "zone-c"] {
            let ds = objs
                .iter()
                .find(|o| {
                    o["kind"] == "DaemonSet"
                        && o["metadata"]["name"] == format!("memcached-proxy-{zone}").as_str()
                })
                .unwrap_or_else(|| panic!("the proxy DaemonSet of {zone}"));
            assert_eq!(zone_of(ds), [zone]);
            let sts = objs
                .iter()
                .find(|o| {
                    o["kind"] == "StatefulSet"
                        && o["metadata"]["name"] == format!("memcached-{zone}").as_str()
                })
                .unwrap_or_else(|| panic!("the cache StatefulSet of {zone}"));
            assert_eq!(zone_of(sts), [zone]);
            let cm = objs
                .iter()
                .find(|o| {
                    o["kind"] == "ConfigMap"
                        && o["metadata"]["name"]
                            == format!("memcached-proxy-config-{zone}").as_str()
                })
                .unwrap();
            assert!(
                cm["data"]["proxy.lua"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("local_zone(\"{zone}\")"))
            );
            let mounted = ds
                .pointer("/spec/template/spec/volumes")
                .and_then(Value::as_array)
                .unwrap()
                .iter()
                .any(|v| v["configMap"]["name"] == cm["metadata"]["name"]);
            assert!(mounted, "{zone}: the DaemonSet mounts its zone's config");
        }
    }
    // A user's required node affinity keeps its terms; each gets the zone.
    let objs = objects(&[
        "--set",
        "cache.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool",
        "--set",
        "cache.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=In",
        "--set",
        "cache.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]=cache",
    ]);
    let sts = objs
        .iter()
        .find(|o| o["kind"] == "StatefulSet" && o["metadata"]["name"] == "memcached-zone-b")
        .unwrap();
    let exprs = sts
        .pointer("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions")
        .and_then(Value::as_array)
        .unwrap();
    let keys: Vec<&str> = exprs.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["pool", "topology.kubernetes.io/zone"]);
}
