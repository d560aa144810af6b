//! `mclint graph` on one hand-written rendering (a web Deployment with a proxy
//! and a local cache as native sidecars, two cache StatefulSets, a key-prefix
//! map, a split to an address outside the rendering, a helm test hook):
//! snapshots of the three writers, what the graph says, and the command's errors.
//!
//! `cargo insta review` (or `INSTA_UPDATE=always`) accepts changed snapshots.

mod support;

use std::path::PathBuf;

use mclint::graph::model::{EdgeStyle, Graph, NodeKind};
use mclint::graph::{BuildOptions, GraphFormat, graph_of};
use mclint::report::graph::render;
use support::*;

const SHOP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: web-proxy
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
data:
  proxy.lua: |
    local_zone("local")
    pools {
        set_main = {
            ["local"] = { backends = { "127.0.0.1:11212" } },
            cluster = {
                backends = {
                    "cache-0.cache.shop.svc.cluster.local:11211",
                    "cache-1.cache.shop.svc.cluster.local:11211",
                    "cache-2.cache.shop.svc.cluster.local:11211",
                },
            },
        },
        sessions = {
            options = { seed = "s" },
            backends = { "sessions-0.sessions:11211", "sessions-1.sessions:11211" },
        },
        legacy = { backends = { "10.0.0.5:11211" } },
    }
    routes {
        map = {
            sess = route_direct { child = "sessions" },
        },
        cmap = {
            get = route_zfailover { children = "set_main" },
            mg = route_zfailover { children = "set_main" },
            set = route_allsync { children = { "set_main_local", "set_main_cluster" } },
            delete = route_split { child_a = "set_main_cluster", child_b = "legacy" },
        },
        default = route_direct { child = "set_main_cluster" },
    }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
        - name: local-cache
          image: memcached:1.6.38
          restartPolicy: Always
          args: ["-l", "127.0.0.1", "-p", "11212", "-m", "32"]
        - name: proxy
          image: memcached:1.6.38
          restartPolicy: Always
          args: ["-o", "proxy_config=routelib,proxy_arg=/etc/proxy/proxy.lua", "-p", "11211"]
          volumeMounts:
            - name: config
              mountPath: /etc/proxy
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 8080
      volumes:
        - name: config
          configMap:
            name: web-proxy
---
apiVersion: v1
kind: Service
metadata:
  name: cache
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  clusterIP: None
  selector: {app: cache}
  ports:
    - port: 11211
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  serviceName: cache
  replicas: 3
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      containers:
        - name: memcached
          image: memcached:1.6.38
          args: ["-m", "512", "-p", "11211"]
---
apiVersion: v1
kind: Service
metadata:
  name: sessions
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  clusterIP: None
  selector: {app: sessions}
  ports:
    - port: 11211
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sessions
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  serviceName: sessions
  replicas: 2
  selector:
    matchLabels: {app: sessions}
  template:
    metadata:
      labels: {app: sessions}
    spec:
      containers:
        - name: memcached
          image: memcached:1.6.38
          args: ["-m", "128"]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-test
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
  annotations:
    helm.sh/hook: test
spec:
  containers:
    - name: proxy
      image: memcached:1.6.38
      args: ["-o", "proxy_config=routelib,proxy_arg=/etc/proxy/proxy.lua"]
      volumeMounts:
        - name: config
          mountPath: /etc/proxy
  volumes:
    - name: config
      configMap:
        name: web-proxy
"#;

fn shop_file(dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("shop.yaml");
    std::fs::write(&p, SHOP).unwrap();
    p
}

fn shop() -> Graph {
    graph_of(
        &[PathBuf::from("-")],
        &mut SHOP.as_bytes(),
        &BuildOptions::default(),
    )
    .unwrap()
}

fn node(g: &Graph, first_line: &str) -> usize {
    g.nodes
        .iter()
        .position(|n| n.lines[0] == first_line)
        .unwrap_or_else(|| panic!("no node `{first_line}` in {:#?}", g.nodes))
}

fn edge<'g>(g: &'g Graph, from: &str, to: &str) -> &'g mclint::graph::model::Edge {
    let (a, b) = (node(g, from), node(g, to));
    g.edges
        .iter()
        .find(|e| e.from == a && e.to == b)
        .unwrap_or_else(|| panic!("no edge {from} -> {to}"))
}

#[test]
fn mermaid_snapshot() {
    insta::assert_snapshot!(render(&shop(), GraphFormat::Mermaid));
}

#[test]
fn dot_snapshot() {
    insta::assert_snapshot!(render(&shop(), GraphFormat::Dot));
}

#[test]
fn svg_snapshot() {
    insta::assert_snapshot!(render(&shop(), GraphFormat::Svg));
}

#[test]
fn the_graph_follows_the_rendering_and_the_proxy_model() {
    let g = shop();
    assert_eq!(g.title, "release shop · namespace shop");
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    // The helm test hook's proxy is not part of the running topology.
    assert_eq!(
        g.nodes.iter().filter(|n| n.kind == NodeKind::Proxy).count(),
        1
    );
    // Clients reach the app through its Service, named port resolved.
    assert_eq!(edge(&g, "clients", "Service web").label, None);
    assert_eq!(
        edge(&g, "Service web", "web").label.as_deref(),
        Some(":80 → http")
    );
    assert_eq!(
        edge(&g, "web", "proxy").label.as_deref(),
        Some("127.0.0.1:11211")
    );
    // Route groups: commands with equal routes together, in display order.
    let routes: Vec<&str> = g.routes.iter().map(String::as_str).collect();
    assert_eq!(
        routes,
        [
            "Deployment shop/web container proxy: keys sess/… → route_direct → sessions",
            "Deployment shop/web container proxy: get, mg → route_zfailover → set_main (local first, then cluster on a miss or error)",
            "Deployment shop/web container proxy: set → route_allsync → [set_main_local, set_main_cluster] (all, waits for every answer)",
            "Deployment shop/web container proxy: delete → route_split → set_main_cluster, legacy",
            "Deployment shop/web container proxy: every other command (gets, gat, gats, add, replace, append, prepend, cas, incr, decr, touch, ms, md, ma, mn, me) → route_direct → set_main_cluster",
        ]
    );
    // zfailover: the local zone first, the other zone only on a miss or error.
    let first = edge(&g, "get, mg", "zone local (local zone)");
    assert_eq!(first.label.as_deref(), Some("1st"));
    assert_eq!(first.style, EdgeStyle::Solid);
    let then = edge(&g, "get, mg", "zone cluster");
    assert_eq!(then.label.as_deref(), Some("on a miss or error"));
    assert_eq!(then.style, EdgeStyle::Dashed);
    // split: child_b gets a copy nobody waits for.
    let copy = edge(&g, "delete", "pool legacy");
    assert_eq!(copy.style, EdgeStyle::Dashed);
    // Backends: the loopback one is the local cache sidecar of the same pod,
    // pod DNS names are StatefulSet pods, an address is drawn as such.
    edge(&g, "zone local (local zone)", "local-cache");
    for i in 0..3 {
        edge(&g, "zone cluster", &format!("cache-{i}"));
    }
    edge(&g, "pool sessions", "sessions-0");
    edge(&g, "pool sessions", "sessions-1");
    edge(&g, "pool legacy", "10.0.0.5:11211");
    assert!(g.nodes[node(&g, "pool sessions")].lines[1].contains("seed \"s\""));
    // Pods sit in their StatefulSet's cluster, which names its headless Service.
    let c = g.nodes[node(&g, "cache-1")].cluster.unwrap();
    assert_eq!(
        g.clusters[c].label,
        "StatefulSet cache · 3 pods · headless Service cache"
    );
    // The local cache is inside the app's pod, with the proxy.
    let web = g.nodes[node(&g, "web")].cluster;
    assert_eq!(g.nodes[node(&g, "local-cache")].cluster, web);
    assert_eq!(g.nodes[node(&g, "proxy")].cluster, web);
    // Node ids are unique and fit Mermaid and DOT.
    let mut ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    ids.extend(g.clusters.iter().map(|c| c.id.as_str()));
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
    assert!(ids.iter().all(|id| {
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }));
}

#[test]
fn the_svg_is_well_formed_and_holds_every_node_and_edge() {
    let g = shop();
    let svg = render(&g, GraphFormat::Svg);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    for n in &g.nodes {
        let el = doc
            .descendants()
            .find(|e| e.attribute("id") == Some(n.id.as_str()))
            .unwrap_or_else(|| panic!("node {} missing from the SVG", n.id));
        let texts: Vec<&str> = el
            .descendants()
            .filter(|e| e.has_tag_name("text"))
            .filter_map(|e| e.text())
            .collect();
        assert_eq!(texts, n.lines, "the text of node {}", n.id);
    }
    let paths = doc
        .descendants()
        .filter(|e| e.attribute("class") == Some("edge"))
        .count();
    assert_eq!(paths, g.edges.len());
    let dashed = doc
        .descendants()
        .filter(|e| {
            e.attribute("class") == Some("edge") && e.attribute("stroke-dasharray").is_some()
        })
        .count();
    assert_eq!(
        dashed,
        g.edges
            .iter()
            .filter(|e| e.style == EdgeStyle::Dashed)
            .count()
    );
}

#[test]
fn the_mermaid_declares_every_node_it_links() {
    let g = shop();
    let m = render(&g, GraphFormat::Mermaid);
    assert!(m.contains("\nflowchart LR\n"));
    for e in &g.edges {
        let (a, b) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        assert!(
            m.contains(&format!("\n    {a}[")) || m.contains(&format!("\n  {a}")),
            "{a} undeclared"
        );
        assert!(m.contains(&format!(" {b}\n")), "no edge into {b}");
    }
    // Quotes in labels are entity codes, never raw (they would end the label).
    for line in m.lines().filter(|l| l.contains("seed")) {
        assert!(line.contains("seed #quot;s#quot;"), "{line}");
    }
    assert_eq!(
        m.matches("subgraph ").count(),
        m.matches("\n    end\n").count() + m.matches("\n  end\n").count()
    );
}

#[test]
fn proxy_picks_one_proxy_and_an_unknown_name_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = shop_file(&dir);
    let ok = run(
        mclint()
            .args(["graph", "--proxy", "web", "--format", "dot"])
            .arg(&file),
        b"",
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.starts_with("// Generated by `mclint graph`"));
    assert!(ok.stdout.contains("digraph topology {"));
    let bad = run(mclint().args(["graph", "--proxy", "nope"]).arg(&file), b"");
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "mclint: --proxy nope: no proxy matches; proxies: Deployment shop/web container proxy\n"
    );
    assert!(bad.stdout.is_empty());
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let r = run(mclint().arg("graph").arg(&missing), b"");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("missing.yaml: no such file or directory"),
        "{}",
        r.stderr
    );
    let empty = run(mclint().args(["graph", "-"]), b"");
    assert_eq!(empty.code, 2);
    assert!(
        empty
            .stderr
            .contains("standard input holds no Kubernetes objects"),
        "{}",
        empty.stderr
    );
    let r = run(
        mclint().args(["graph", "--format", "png", "-"]),
        SHOP.as_bytes(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid value 'png'"), "{}", r.stderr);
}

#[test]
fn a_broken_document_and_an_unreadable_config_are_warnings_not_crashes() {
    let broken = format!("{SHOP}\n---\nkind: [unclosed\n");
    let r = run(mclint().args(["graph", "-"]), broken.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("mclint: warning: <stdin>: document 8"),
        "{}",
        r.stderr
    );
    // Without its ConfigMap the proxy is drawn, saying so, and the warning
    // names the workload, the container and the path.
    let no_cm: String = SHOP
        .split("\n---\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n---\n");
    let r = run(mclint().args(["graph", "-"]), no_cm.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("config not found"), "{}", r.stdout);
    assert!(
        r.stderr.contains("Deployment shop/web container proxy: /etc/proxy/proxy.lua is key `proxy.lua` of ConfigMap shop/web-proxy"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_lua_config_alone_is_drawn_with_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let lua = dir.path().join("edge.lua");
    std::fs::write(
        &lua,
        "pools { main = { backends = { \"10.0.0.1:11211\", \"10.0.0.2:11211\" } } }\nroutes { default = route_direct { child = \"main\" } }\n",
    )
    .unwrap();
    let g = graph_of(&[lua], &mut std::io::empty(), &BuildOptions::default()).unwrap();
    assert_eq!(g.title, "rendered topology");
    assert_eq!(g.routes.len(), 1);
    assert!(
        g.routes[0].ends_with("every command → route_direct → main"),
        "{:?}",
        g.routes
    );
    edge(&g, "pool main", "10.0.0.1:11211");
    edge(&g, "pool main", "10.0.0.2:11211");
    edge(&g, "every command", "pool main");
}

/// Names from a hostile rendering (an OSC 52 clipboard write, a screen
/// clear, a bidi override, a line separator) reach no writer raw.
#[test]
fn hostile_names_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let lua = dir.path().join("edge.lua");
    std::fs::write(
        &lua,
        "pools { [\"ev\\27]52;c;eA==\\7il\"] = { backends = { \"10.0.0.1\\27[2J:11211\", \"10.0.0.2\\226\\128\\168:11211\" } } }\n\
         routes { default = route_direct { child = \"ev\\27]52;c;eA==\\7il\" } }\n",
    )
    .unwrap();
    let g = graph_of(&[lua], &mut std::io::empty(), &BuildOptions::default()).unwrap();
    let raw: String = g
        .nodes
        .iter()
        .flat_map(|n| n.lines.iter().cloned())
        .collect();
    assert!(
        raw.contains('\u{1b}'),
        "the test must reach the writers with ESC: {raw:?}"
    );
    for format in [GraphFormat::Mermaid, GraphFormat::Dot, GraphFormat::Svg] {
        let out = render(&g, format);
        let bad: Vec<char> = out
            .chars()
            .filter(|c| *c != '\n' && mclint::escape::is_unsafe(*c))
            .collect();
        assert!(bad.is_empty(), "{format:?} prints {bad:?} raw:\n{out}");
        assert!(out.contains("u{1b}"), "{format:?} shows the escape:\n{out}");
    }
}

#[test]
fn cache_only_renderings_draw_clients_service_and_pods() {
    // The shop rendering without the proxy's Deployment and ConfigMap.
    let docs: Vec<&str> = SHOP
        .split("\n---\n")
        .filter(|d| d.contains("name: cache\n"))
        .collect();
    let text = docs.join("\n---\n");
    let g = graph_of(
        &[PathBuf::from("-")],
        &mut text.as_bytes(),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        edge(&g, "clients", "Service cache").label.as_deref(),
        Some("a DNS name per pod")
    );
    for i in 0..3 {
        edge(&g, "Service cache", &format!("cache-{i}"));
    }
    assert!(g.nodes.iter().all(|n| n.kind != NodeKind::Proxy));
}

#[test]
fn large_statefulsets_fold_the_middle_pods() {
    let text = SHOP.replace("replicas: 3", "replicas: 40");
    let g = graph_of(
        &[PathBuf::from("-")],
        &mut text.as_bytes(),
        &BuildOptions::default(),
    )
    .unwrap();
    let pods: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| {
            n.kind == NodeKind::CachePod && n.lines[0].starts_with("cache-")
                || n.lines[0].starts_with("… ")
        })
        .map(|n| n.lines[0].as_str())
        .collect();
    assert_eq!(pods.len(), 12, "{pods:?}");
    assert_eq!(pods[10], "… 29 more pods");
    assert_eq!(pods[11], "cache-39");
    // Backends beyond what the StatefulSet runs are named as such.
    assert!(g.warnings.is_empty());
}
