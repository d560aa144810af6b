//! The topology of a rendering as a graph: nodes (clients, Services, app
//! containers, proxies, route groups, pools, cache pods), clusters (workload
//! pods, proxy configs, pool sets, StatefulSets) and labelled edges.
//!
//! Everything is built in the order of the rendering and of the proxy model
//! (whose tables are sorted), so the same input always gives the same graph.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::k8s;
use crate::manifest::Object;
use crate::memcached::cmdline::{self, Role as McRole};
use crate::proxy::eval::Engine;
use crate::proxy::manifest::{FoundProxy, is_loopback, pod_host, replicas, service_host};
use crate::proxy::model::{
    COMMANDS, HandlerKind, MapEntry, Pool, ProxyConfig, Route, Router, RouterMode, SlotValue,
    Target,
};
use crate::proxy::vm::Lv;
use crate::proxy::{Origin, Proxies};

/// What a node stands for. Its column in a left-to-right drawing follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// Whoever connects from outside the drawn workloads.
    Clients,
    Service,
    /// A container of an app pod (not memcached).
    App,
    Proxy,
    /// The commands that share one route, and that route.
    Route,
    Pool,
    /// A pod of a cache StatefulSet (or a cache workload's pods).
    CachePod,
    /// A memcached container that caches inside a proxy's pod.
    LocalCache,
    /// A backend that is not a drawn pod: an address, or a name that resolves to nothing.
    External,
}

impl NodeKind {
    /// The column (left to right) of this kind of node.
    pub fn column(self) -> usize {
        match self {
            NodeKind::Clients => 0,
            NodeKind::Service => 1,
            NodeKind::App => 2,
            NodeKind::Proxy => 3,
            NodeKind::Route => 4,
            NodeKind::Pool => 5,
            NodeKind::CachePod | NodeKind::LocalCache | NodeKind::External => 6,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Clients => "clients",
            NodeKind::Service => "service",
            NodeKind::App => "app",
            NodeKind::Proxy => "proxy",
            NodeKind::Route => "route",
            NodeKind::Pool => "pool",
            NodeKind::CachePod => "cachepod",
            NodeKind::LocalCache => "localcache",
            NodeKind::External => "external",
        }
    }

    pub const ALL: [NodeKind; 9] = [
        NodeKind::Clients,
        NodeKind::Service,
        NodeKind::App,
        NodeKind::Proxy,
        NodeKind::Route,
        NodeKind::Pool,
        NodeKind::CachePod,
        NodeKind::LocalCache,
        NodeKind::External,
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique, `[a-z0-9_]`, stable for the same input.
    pub id: String,
    pub kind: NodeKind,
    /// The label, one entry per line; the first is the name.
    pub lines: Vec<String>,
    /// How many of the first lines are the node's name (drawn bold).
    pub bold: usize,
    /// Index into `Graph::clusters`.
    pub cluster: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKind {
    /// The pods of a workload that runs a proxy (and maybe an app, a local cache).
    Workload,
    /// A routelib config: its routes and pools.
    Config,
    PoolSet,
    /// The pods of a cache StatefulSet (or another cache workload).
    Cache,
}

impl ClusterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterKind::Workload => "workload",
            ClusterKind::Config => "config",
            ClusterKind::PoolSet => "poolset",
            ClusterKind::Cache => "cache",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub kind: ClusterKind,
    pub label: String,
    pub parent: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeStyle {
    Solid,
    /// Only sometimes taken (a failover) or not waited for (async).
    Dashed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: Option<String>,
    pub style: EdgeStyle,
}

/// A rendered topology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub title: String,
    pub nodes: Vec<Node>,
    pub clusters: Vec<Cluster>,
    pub edges: Vec<Edge>,
    /// One line per route group: `get, mg → route_zfailover → set_cache (local first, then cluster)`.
    pub routes: Vec<String>,
    /// What could not be drawn, naming file, object and field.
    pub warnings: Vec<String>,
}

impl Graph {
    /// Clusters whose parent is `parent`, and nodes in `parent`, in drawing
    /// order: by the first node each holds (clusters holding no node last).
    pub fn children(&self, parent: Option<usize>) -> Vec<Item> {
        let mut items: Vec<(usize, Item)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.cluster == parent {
                items.push((i, Item::Node(i)));
            }
        }
        for (c, cl) in self.clusters.iter().enumerate() {
            if cl.parent == parent {
                let first = self
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| self.within(n.cluster, c))
                    .map(|(i, _)| i)
                    .next()
                    .unwrap_or(usize::MAX);
                items.push((first, Item::Cluster(c)));
            }
        }
        items.sort_by_key(|(k, it)| (*k, matches!(it, Item::Node(_))));
        items.into_iter().map(|(_, it)| it).collect()
    }

    /// Is cluster `inner` (or a node's cluster) `outer` or inside it?
    pub fn within(&self, inner: Option<usize>, outer: usize) -> bool {
        let mut c = inner;
        while let Some(i) = c {
            if i == outer {
                return true;
            }
            c = self.clusters[i].parent;
        }
        false
    }

    /// Nesting depth of a cluster (top level is 1).
    pub fn depth(&self, cluster: usize) -> usize {
        let mut d = 1;
        let mut c = self.clusters[cluster].parent;
        while let Some(i) = c {
            d += 1;
            c = self.clusters[i].parent;
        }
        d
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Node(usize),
    Cluster(usize),
}

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Only the proxy whose name (workload, container or file) contains this.
    pub proxy: Option<String>,
}

/// Builds the graph of the objects and proxy configs of a context.
/// Why a graph cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error(
        "--proxy {want}: the input has no proxy (a container running memcached -o proxy_config=routelib,proxy_arg=PATH, or a .lua config)"
    )]
    NoProxies { want: String },
    #[error("--proxy {want}: no proxy matches; proxies: {}", candidates.join("; "))]
    NoMatch {
        want: String,
        candidates: Vec<String>,
    },
}

pub fn build(
    objects: &[Object],
    proxies: &Proxies,
    options: &BuildOptions,
) -> Result<Graph, GraphError> {
    let mut b = Builder::new(objects);
    b.run(proxies, options)?;
    Ok(b.finish())
}

/// Lines of at most `width` characters, broken after `, ` or spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let wl = word.chars().count();
        let cl = cur.chars().count();
        if !cur.is_empty() && cl + 1 + wl > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Commands in the order diagrams list them: classic reads, writes, then meta.
const DISPLAY_ORDER: &[&str] = &[
    "get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas", "incr",
    "decr", "touch", "delete", "mg", "ms", "md", "ma", "mn", "me",
];

fn display_rank(cmd: u8) -> usize {
    let name = crate::proxy::model::command_name(cmd);
    DISPLAY_ORDER
        .iter()
        .position(|n| *n == name)
        .unwrap_or(DISPLAY_ORDER.len() + cmd as usize)
}

struct Builder<'o, 'a> {
    objects: &'o [Object<'a>],
    g: Graph,
    ids: BTreeMap<String, usize>,
    /// Object index of a drawn StatefulSet → its cluster and pod nodes by ordinal
    /// (`None` where folded into the "more" node).
    statefulsets: BTreeMap<usize, (usize, Vec<usize>)>,
    /// Object index of a drawn workload → its cluster.
    workloads: BTreeMap<usize, usize>,
    /// Object index of a drawn cache workload that is not a StatefulSet → its node.
    cache_workloads: BTreeMap<usize, usize>,
    /// Object index of a Service → its node.
    services: BTreeMap<usize, usize>,
    /// Workload object → (port, node) of its local cache containers.
    local_caches: BTreeMap<usize, Vec<(i64, usize)>>,
    /// Workload object → its app container nodes.
    apps: BTreeMap<usize, Vec<usize>>,
    /// Workload object → (port, node, container name) of its proxies.
    proxy_nodes: BTreeMap<usize, Vec<(i64, usize, String)>>,
    externals: BTreeMap<String, usize>,
    clients: Option<usize>,
    /// StatefulSets that some pool reaches.
    reached: Vec<usize>,
}

impl<'o, 'a> Builder<'o, 'a> {
    fn new(objects: &'o [Object<'a>]) -> Self {
        Builder {
            objects,
            g: Graph::default(),
            ids: BTreeMap::new(),
            statefulsets: BTreeMap::new(),
            workloads: BTreeMap::new(),
            cache_workloads: BTreeMap::new(),
            services: BTreeMap::new(),
            local_caches: BTreeMap::new(),
            apps: BTreeMap::new(),
            proxy_nodes: BTreeMap::new(),
            externals: BTreeMap::new(),
            clients: None,
            reached: Vec::new(),
        }
    }

    fn finish(self) -> Graph {
        self.g
    }

    fn unique_id(&mut self, hint: &str) -> String {
        let mut base: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while base.contains("__") {
            base = base.replace("__", "_");
        }
        let base = base.trim_matches('_').to_string();
        let n = self.ids.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { base } else { format!("{base}_{n}") }
    }

    fn node(
        &mut self,
        kind: NodeKind,
        hint: &str,
        lines: Vec<String>,
        cluster: Option<usize>,
    ) -> usize {
        let id = self.unique_id(&format!("{}_{hint}", kind.as_str()));
        self.g.nodes.push(Node {
            id,
            kind,
            lines,
            bold: 1,
            cluster,
        });
        self.g.nodes.len() - 1
    }

    fn cluster(
        &mut self,
        kind: ClusterKind,
        hint: &str,
        label: String,
        parent: Option<usize>,
    ) -> usize {
        let id = self.unique_id(&format!("c_{}_{hint}", kind.as_str()));
        self.g.clusters.push(Cluster {
            id,
            kind,
            label,
            parent,
        });
        self.g.clusters.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: Option<String>, style: EdgeStyle) {
        let label = label.filter(|l| !l.is_empty());
        if let Some(e) = self
            .g
            .edges
            .iter_mut()
            .find(|e| e.from == from && e.to == to)
        {
            // One arrow per pair: merge what each path says about it.
            match (&mut e.label, label) {
                (Some(a), Some(b)) if !a.split("; ").any(|x| x == b) => {
                    a.push_str("; ");
                    a.push_str(&b);
                }
                (a @ None, Some(b)) => *a = Some(b),
                _ => {}
            }
            if style == EdgeStyle::Solid {
                e.style = EdgeStyle::Solid;
            }
            return;
        }
        self.g.edges.push(Edge {
            from,
            to,
            label,
            style,
        });
    }

    fn clients(&mut self) -> usize {
        if let Some(c) = self.clients {
            return c;
        }
        let c = self.node(NodeKind::Clients, "clients", vec!["clients".into()], None);
        self.clients = Some(c);
        c
    }

    fn run(&mut self, proxies: &Proxies, options: &BuildOptions) -> Result<(), GraphError> {
        let objects = self.objects;
        // The proxies to draw: not in helm test hooks, and matching --proxy.
        let mut candidates: Vec<String> = Vec::new();
        let mut chosen: Vec<usize> = Vec::new();
        for (i, f) in proxies.found.iter().enumerate() {
            if is_hook(&objects[f.object]) {
                continue;
            }
            let name = f.name(objects);
            if options
                .proxy
                .as_deref()
                .is_none_or(|want| name == want || name.contains(want))
            {
                chosen.push(i);
            }
            candidates.push(name);
        }
        let mut files: Vec<&crate::proxy::Loaded> = Vec::new();
        for l in &proxies.configs {
            if let Origin::File(name) = &l.origin {
                if options
                    .proxy
                    .as_deref()
                    .is_none_or(|want| name == want || name.contains(want))
                {
                    files.push(l);
                }
                candidates.push(name.clone());
            }
        }
        if let Some(want) = &options.proxy
            && chosen.is_empty()
            && files.is_empty()
        {
            return Err(if candidates.is_empty() {
                GraphError::NoProxies { want: want.clone() }
            } else {
                GraphError::NoMatch {
                    want: want.clone(),
                    candidates,
                }
            });
        }
        let excluded: Vec<usize> = proxies
            .found
            .iter()
            .enumerate()
            .filter(|(i, _)| !chosen.contains(i))
            .map(|(_, f)| f.object)
            .collect();

        self.title();
        // Workloads in rendering order.
        for (oi, obj) in objects.iter().enumerate() {
            if is_hook(obj) || k8s::pod_spec(obj).is_none() {
                continue;
            }
            let mine: Vec<&FoundProxy> = chosen
                .iter()
                .map(|&i| &proxies.found[i])
                .filter(|f| f.object == oi)
                .collect();
            if !mine.is_empty() {
                self.proxy_workload(oi, &mine);
            } else if excluded.contains(&oi) {
                continue;
            } else if cmdline::memcached_containers(obj)
                .iter()
                .any(|m| m.role == McRole::Cache)
            {
                self.cache_workload(oi);
            }
        }
        // Proxy configs, one cluster per distinct config.
        let mut drawn: Vec<(String, usize)> = Vec::new();
        for &pi in &chosen {
            let f = &proxies.found[pi];
            let Some(proxy_node) = self.proxy_node_of(f) else {
                continue;
            };
            match &f.config {
                Err(why) => {
                    self.g.warnings.push(why.to_string());
                    self.g.nodes[proxy_node]
                        .lines
                        .push("config not found".into());
                    continue;
                }
                Ok(m) => {
                    let key = format!("{}/{}", m.configmap, m.key);
                    let loaded = proxies.configs.iter().find(
                        |l| matches!(&l.origin, Origin::Manifest { proxy, .. } if *proxy == pi),
                    );
                    let Some(loaded) = loaded else { continue };
                    if let Some(&(_, route_nodes_owner)) = drawn.iter().find(|(k, _)| *k == key) {
                        // Same ConfigMap key as an earlier proxy: share its routes.
                        let routes: Vec<usize> = self
                            .g
                            .nodes
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| {
                                n.kind == NodeKind::Route && n.cluster == Some(route_nodes_owner)
                            })
                            .map(|(i, _)| i)
                            .collect();
                        for r in routes {
                            self.edge(proxy_node, r, None, EdgeStyle::Solid);
                        }
                        continue;
                    }
                    let cm = &objects[m.configmap];
                    let label = format!("routelib config · ConfigMap {} key {}", cm.name, m.key);
                    let c = self.config(&loaded.model, label, &[proxy_node], Some(f));
                    drawn.push((key, c));
                }
            }
        }
        for l in files {
            let name = match &l.origin {
                Origin::File(n) => n.clone(),
                Origin::Manifest { .. } => continue,
            };
            let short = std::path::Path::new(&name)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone());
            let p = self.node(
                NodeKind::Proxy,
                &short,
                vec!["memcached proxy".into(), short.clone()],
                None,
            );
            self.config(&l.model, format!("routelib config · {short}"), &[p], None);
        }
        self.services(&excluded);
        Ok(())
    }

    fn title(&mut self) {
        let mut release: Option<&str> = None;
        let mut namespace: Option<&str> = None;
        let mut same = true;
        for o in self.objects.iter().filter(|o| !is_hook(o)) {
            let inst = o
                .labels()
                .and_then(|l| l.get("app.kubernetes.io/instance"))
                .and_then(Value::as_str);
            match (release, inst) {
                (None, Some(r)) => release = Some(r),
                (Some(a), Some(b)) if a != b => same = false,
                (_, None) => same = false,
                _ => {}
            }
            let ns = o.effective_namespace();
            match namespace {
                None => namespace = Some(ns),
                Some(n) if n != ns => same = false,
                _ => {}
            }
        }
        self.g.title = match (same, release, namespace) {
            (true, Some(r), Some(n)) => format!("release {r} · namespace {n}"),
            _ => "rendered topology".into(),
        };
    }

    fn workload_label(&self, oi: usize) -> String {
        let obj = &self.objects[oi];
        let n = replicas(obj);
        let count = match obj.kind.as_str() {
            "DaemonSet" => "one pod per node".to_string(),
            "Pod" => "1 pod".to_string(),
            "StatefulSet" => format!("{n} pod{}", if n == 1 { "" } else { "s" }),
            _ => format!("{n} replica{}", if n == 1 { "" } else { "s" }),
        };
        format!("{} {} · {count}", obj.kind, obj.name)
    }

    fn proxy_workload(&mut self, oi: usize, mine: &[&FoundProxy]) {
        let obj = &self.objects[oi];
        let label = self.workload_label(oi);
        let c = self.cluster(ClusterKind::Workload, &obj.name, label, None);
        self.workloads.insert(oi, c);
        let mcs = cmdline::memcached_containers(obj);
        let containers: Vec<_> = k8s::containers(obj)
            .into_iter()
            .filter(|c| c.long_running())
            .collect();
        // What each container is: 0 an app, 1 a drawn proxy, 2 a local cache,
        // 3 a proxy left out by --proxy. Drawn in that order, left to right.
        let role = |name: &str| -> usize {
            if mine.iter().any(|f| f.container_name == name) {
                1
            } else if mcs
                .iter()
                .any(|m| m.container.name == name && m.role == McRole::Cache)
            {
                2
            } else if mcs.iter().any(|m| m.container.name == name) {
                3
            } else {
                0
            }
        };
        let mut apps = Vec::new();
        for pass in 0..3 {
            for container in containers.iter().filter(|c| role(c.name) == pass) {
                let name = container.name.to_string();
                match pass {
                    0 => {
                        let mut lines = vec![name.clone()];
                        if let Some(img) = container.image() {
                            lines.push(img.to_string());
                        }
                        let n = self.node(NodeKind::App, &name, lines, Some(c));
                        apps.push(n);
                    }
                    1 => {
                        let Some(f) = mine.iter().find(|f| f.container_name == name) else {
                            continue;
                        };
                        let port = f.args.port.value;
                        let mut lines = vec![name.clone(), format!("memcached proxy :{port}")];
                        if f.args.threads.is_set() {
                            lines[1].push_str(&format!(" · {} threads", f.args.threads.value));
                        }
                        if container.sidecar {
                            lines.push("native sidecar".into());
                        }
                        let n = self.node(NodeKind::Proxy, &name, lines, Some(c));
                        self.proxy_nodes
                            .entry(oi)
                            .or_default()
                            .push((port, n, name));
                    }
                    _ => {
                        let Some(mc) = mcs.iter().find(|m| m.container.name == name) else {
                            continue;
                        };
                        let port = mc.args.port.value;
                        let listen = mc
                            .args
                            .listen
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "0.0.0.0".into());
                        let mut lines = vec![
                            name.clone(),
                            format!("memcached {listen}:{port}"),
                            format!("{} MiB", mc.args.memory_mib.value),
                        ];
                        if container.sidecar {
                            lines[2].push_str(" · native sidecar");
                        }
                        let n = self.node(NodeKind::LocalCache, &name, lines, Some(c));
                        self.local_caches.entry(oi).or_default().push((port, n));
                    }
                }
            }
        }
        let proxies = self.proxy_nodes.get(&oi).cloned().unwrap_or_default();
        for &a in &apps {
            for (port, p, _) in &proxies {
                self.edge(a, *p, Some(format!("127.0.0.1:{port}")), EdgeStyle::Solid);
            }
        }
        self.apps.insert(oi, apps);
    }

    fn proxy_node_of(&self, f: &FoundProxy) -> Option<usize> {
        self.proxy_nodes
            .get(&f.object)
            .and_then(|v| v.iter().find(|(_, _, n)| *n == f.container_name))
            .map(|(_, n, _)| *n)
    }

    fn cache_workload(&mut self, oi: usize) {
        let obj = &self.objects[oi];
        if obj.kind == "StatefulSet" {
            self.statefulset(oi);
            return;
        }
        let label = self.workload_label(oi);
        let c = self.cluster(ClusterKind::Cache, &obj.name, label, None);
        let lines = vec![format!("{} pods", obj.name), self.cache_summary(oi)];
        let n = self.node(NodeKind::CachePod, &obj.name, lines, Some(c));
        self.cache_workloads.insert(oi, n);
    }

    /// `memcached :11211 · 256 MiB (+ exporter)`.
    fn cache_summary(&self, oi: usize) -> String {
        let obj = &self.objects[oi];
        let mcs = cmdline::memcached_containers(obj);
        let mut s = match mcs.iter().find(|m| m.role == McRole::Cache) {
            Some(m) => format!(
                "memcached :{} · {} MiB",
                m.args.port.value, m.args.memory_mib.value
            ),
            None => "no memcached container".into(),
        };
        let others: Vec<String> = k8s::containers(obj)
            .iter()
            .filter(|c| c.long_running() && !mcs.iter().any(|m| m.container.name == c.name))
            .map(|c| c.name.to_string())
            .collect();
        if !others.is_empty() {
            s.push_str(&format!(" + {}", others.join(", ")));
        }
        s
    }

    /// Draws a StatefulSet's pods by ordinal (at most 12 drawn one by one).
    fn statefulset(&mut self, oi: usize) -> usize {
        if let Some((c, _)) = self.statefulsets.get(&oi) {
            return *c;
        }
        let obj = &self.objects[oi];
        let label = self.workload_label(oi);
        let c = self.cluster(ClusterKind::Cache, &obj.name, label, None);
        let n = replicas(obj);
        let summary = self.cache_summary(oi);
        let mut pods = Vec::new();
        const SHOWN: u64 = 12;
        let mut more = None;
        for ord in 0..n {
            if n > SHOWN && (SHOWN - 2..n - 1).contains(&ord) {
                let m = *more.get_or_insert_with(|| {
                    let lines = vec![
                        format!("… {} more pods", n - SHOWN + 1),
                        format!("{}-{} … {}-{}", obj.name, SHOWN - 2, obj.name, n - 2),
                    ];
                    self.node(
                        NodeKind::CachePod,
                        &format!("{}_more", obj.name),
                        lines,
                        Some(c),
                    )
                });
                pods.push(m);
                continue;
            }
            let name = format!("{}-{ord}", obj.name);
            let p = self.node(
                NodeKind::CachePod,
                &name,
                vec![name.clone(), summary.clone()],
                Some(c),
            );
            pods.push(p);
        }
        self.statefulsets.insert(oi, (c, pods));
        c
    }

    fn external(&mut self, address: &str, note: &str) -> usize {
        let key = format!("{address}\n{note}");
        if let Some(&n) = self.externals.get(&key) {
            return n;
        }
        let n = self.node(
            NodeKind::External,
            address,
            vec![address.to_string(), note.to_string()],
            None,
        );
        self.externals.insert(key, n);
        n
    }

    /// Draws a config: its route groups and pools, and edges down to the backends.
    fn config(
        &mut self,
        cfg: &ProxyConfig,
        label: String,
        proxy_nodes: &[usize],
        found: Option<&FoundProxy>,
    ) -> usize {
        let mut label = label;
        if let Some(f) = &cfg.failure {
            self.g.warnings.push(format!(
                "{}:{}: the config does not load: {}",
                f.file,
                f.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                f.message
            ));
            label.push_str(" · does not load");
        }
        let c = self.cluster(ClusterKind::Config, &cfg.name, label, None);
        let proxy_label = found
            .map(|f| f.name(self.objects))
            .unwrap_or_else(|| cfg.name.clone());
        // Route groups of every router; default tag first.
        let mut routers: Vec<&Router> = cfg.routers.iter().collect();
        routers.sort_by_key(|r| (r.tag != "default", r.tag.clone()));
        let mut leaves_of: Vec<(usize, Vec<Leaf>)> = Vec::new();
        for router in routers {
            let Ok(engine) = Engine::new(cfg, &router.tag) else {
                continue;
            };
            for group in groups(router) {
                let mut selector = group.selectors.join(", ");
                if router.tag != "default" {
                    selector = format!("tag {}: {selector}", router.tag);
                }
                let text = route_text(cfg, &engine, group.route, 0);
                let mut lines = wrap(&selector, 36);
                let bold = lines.len();
                lines.extend(wrap(&text, 40));
                let hint = group.selectors[0].split(' ').next().unwrap_or("route");
                let n = self.node(NodeKind::Route, hint, lines, Some(c));
                self.g.nodes[n].bold = bold;
                self.g
                    .routes
                    .push(format!("{proxy_label}: {selector} → {text}"));
                for &p in proxy_nodes {
                    self.edge(p, n, None, EdgeStyle::Solid);
                }
                let mut leaves = Vec::new();
                collect_leaves(&engine, group.route, &[], false, &mut leaves, 0);
                leaves_of.push((n, leaves));
            }
        }
        if cfg.routers.is_empty() && cfg.failure.is_none() {
            self.g
                .warnings
                .push(format!("{}: the config defines no routes{{}}", cfg.name));
        }
        // Pools, sets as sub-clusters, in the model's order.
        let mut pool_nodes: Vec<Option<usize>> = vec![None; cfg.pools.len()];
        let mut set_clusters: BTreeMap<String, usize> = BTreeMap::new();
        let local_zone = cfg.local_zone.as_ref().and_then(|z| z.value.clone());
        for (i, pool) in cfg.pools.iter().enumerate() {
            let parent = match &pool.set {
                Some(set) => Some(match set_clusters.get(set) {
                    Some(&sc) => sc,
                    None => {
                        let sc = self.cluster(
                            ClusterKind::PoolSet,
                            set,
                            format!("pool set {set}"),
                            Some(c),
                        );
                        set_clusters.insert(set.clone(), sc);
                        sc
                    }
                }),
                None => Some(c),
            };
            let lines = pool_lines(pool, local_zone.as_deref());
            let n = self.node(NodeKind::Pool, &pool.reference(), lines, parent);
            pool_nodes[i] = Some(n);
        }
        let mut internal = None;
        for (route_node, leaves) in leaves_of {
            for leaf in leaves {
                let to = match &leaf.target {
                    LeafTarget::Pool(i) => pool_nodes[*i],
                    LeafTarget::Internal => Some(*internal.get_or_insert_with(|| {
                        self.node(
                            NodeKind::Pool,
                            "internal",
                            vec!["internal".into(), "the proxy's own cache".into()],
                            Some(c),
                        )
                    })),
                    LeafTarget::Missing(name, why) => {
                        self.g
                            .warnings
                            .push(format!("{}: route child `{name}`: {why}", cfg.name));
                        Some(self.external(name, "names no pool"))
                    }
                };
                if let Some(to) = to {
                    let label = (!leaf.labels.is_empty()).then(|| leaf.labels.join(" · "));
                    let style = if leaf.dashed {
                        EdgeStyle::Dashed
                    } else {
                        EdgeStyle::Solid
                    };
                    self.edge(route_node, to, label, style);
                }
            }
        }
        // Pools to backends.
        for (i, pool) in cfg.pools.iter().enumerate() {
            let Some(pn) = pool_nodes[i] else { continue };
            for be in &pool.backends {
                let to = self.backend(found, be.host.as_str(), &be.port, &be.address());
                let (label, style) = if be.down {
                    (Some("down".to_string()), EdgeStyle::Dashed)
                } else {
                    (None, EdgeStyle::Solid)
                };
                self.edge(pn, to, label, style);
            }
        }
        c
    }

    /// The node a backend address reaches from the proxy `found` (if in a manifest).
    fn backend(
        &mut self,
        found: Option<&FoundProxy>,
        host: &str,
        port: &str,
        address: &str,
    ) -> usize {
        let Some(f) = found else {
            return self.external(address, "address");
        };
        let objects = self.objects;
        let ns = objects[f.object].effective_namespace().to_string();
        if is_loopback(host) {
            let want: Option<i64> = port.parse().ok();
            let local = self
                .local_caches
                .get(&f.object)
                .and_then(|v| v.iter().find(|(p, _)| Some(*p) == want))
                .map(|(_, n)| *n);
            return match local {
                Some(n) => n,
                None => self.external(address, "nothing in the pod listens here"),
            };
        }
        if let Some(ph) = pod_host(objects, &ns, host) {
            let sts = ph.statefulset;
            if is_hook(&objects[sts]) {
                return self.external(address, "a helm hook's pod");
            }
            self.statefulset(sts);
            if !self.reached.contains(&sts) {
                self.reached.push(sts);
            }
            let pods = &self.statefulsets[&sts].1;
            return match pods.get(ph.ordinal as usize) {
                Some(&n) => n,
                None => self.external(
                    address,
                    &format!(
                        "no such pod: {} has {} replicas",
                        objects[sts].name,
                        replicas(&objects[sts])
                    ),
                ),
            };
        }
        if let Some(si) = service_host(objects, &ns, host) {
            return self.service_node(si);
        }
        self.external(address, "not in the rendering")
    }

    fn service_node(&mut self, si: usize) -> usize {
        if let Some(&n) = self.services.get(&si) {
            return n;
        }
        let svc = &self.objects[si];
        let headless = svc.json.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
        let ty = if headless {
            "headless".to_string()
        } else {
            svc.json
                .pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP")
                .to_string()
        };
        let ports: Vec<String> = svc
            .json
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p.get("port").map(value_text))
                    .collect()
            })
            .unwrap_or_default();
        let mut lines = vec![format!("Service {}", svc.name), ty];
        if !ports.is_empty() {
            lines[1].push_str(&format!(" :{}", ports.join(", :")));
        }
        let n = self.node(NodeKind::Service, &svc.name, lines, None);
        self.services.insert(si, n);
        n
    }

    /// Services in front of drawn workloads: clients → Service → what it selects.
    fn services(&mut self, excluded: &[usize]) {
        let objects = self.objects;
        for (si, svc) in objects.iter().enumerate() {
            if svc.kind != "Service" || is_hook(svc) {
                continue;
            }
            let Some(selector) = svc
                .json
                .pointer("/spec/selector")
                .and_then(Value::as_object)
            else {
                continue;
            };
            let ns = svc.effective_namespace();
            let headless =
                svc.json.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
            let ports: Vec<&Value> = svc
                .json
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            let mut targets: Vec<(usize, Option<String>)> = Vec::new();
            let mut folded = Vec::new();
            for (oi, obj) in objects.iter().enumerate() {
                if is_hook(obj) || excluded.contains(&oi) || obj.effective_namespace() != ns {
                    continue;
                }
                let Some(mp) = k8s::pod_metadata_pointer(&obj.kind) else {
                    continue;
                };
                let labels = obj
                    .json
                    .pointer(&format!("{mp}/labels"))
                    .and_then(Value::as_object);
                if !k8s::selects(selector, labels) {
                    continue;
                }
                if let Some((_, pods)) = self.statefulsets.get(&oi) {
                    if headless && self.reached.contains(&oi) {
                        // Proxies reach these pods by their DNS names: say so on the set.
                        folded.push(oi);
                        continue;
                    }
                    let mut seen = Vec::new();
                    for &p in pods {
                        if !seen.contains(&p) {
                            seen.push(p);
                            targets.push((p, None));
                        }
                    }
                } else if let Some(&n) = self.cache_workloads.get(&oi) {
                    targets.push((n, None));
                } else if self.workloads.contains_key(&oi) {
                    for p in &ports {
                        for (n, label) in self.port_targets(oi, p) {
                            targets.push((n, Some(label)));
                        }
                    }
                }
            }
            for oi in folded {
                let c = self.statefulsets[&oi].0;
                self.g.clusters[c]
                    .label
                    .push_str(&format!(" · headless Service {}", svc.name));
            }
            if targets.is_empty() {
                continue;
            }
            let n = self.service_node(si);
            let clients = self.clients();
            // A headless Service gives each pod its own DNS name: clients pick the pod.
            let how = headless.then(|| "a DNS name per pod".to_string());
            self.edge(clients, n, how, EdgeStyle::Solid);
            for (t, label) in targets {
                self.edge(n, t, label, EdgeStyle::Solid);
            }
        }
    }

    /// The containers of workload `oi` a Service port reaches, with `port → target`.
    fn port_targets(&self, oi: usize, port: &Value) -> Vec<(usize, String)> {
        let obj = &self.objects[oi];
        let number = port.get("port").map(value_text).unwrap_or_default();
        let target = port
            .get("targetPort")
            .map(value_text)
            .unwrap_or_else(|| number.clone());
        let label = if target == number {
            format!(":{number}")
        } else {
            format!(":{number} → {target}")
        };
        let mut out = Vec::new();
        let proxies = self.proxy_nodes.get(&oi).cloned().unwrap_or_default();
        let apps = self.apps.get(&oi).cloned().unwrap_or_default();
        for c in k8s::containers(obj).iter().filter(|c| c.long_running()) {
            let declares = c
                .ports()
                .iter()
                .any(|(name, p, _)| *name == Some(target.as_str()) || p.to_string() == target);
            let proxy = proxies.iter().find(|(_, _, n)| n == c.name);
            let hit = declares || proxy.is_some_and(|(p, _, _)| p.to_string() == target);
            if !hit {
                continue;
            }
            if let Some((_, n, _)) = proxy {
                out.push((*n, label.clone()));
            } else if let Some(&n) = apps
                .iter()
                .find(|&&n| self.g.nodes[n].lines.first().map(String::as_str) == Some(c.name))
            {
                out.push((n, label.clone()));
            }
        }
        out
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A helm hook (a `helm test` pod, say): not part of the running topology.
fn is_hook(obj: &Object) -> bool {
    obj.annotation("helm.sh/hook").is_some()
}

fn pool_lines(pool: &Pool, local_zone: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    match &pool.set {
        Some(_) => {
            let mut first = format!("zone {}", pool.name);
            if local_zone == Some(pool.name.as_str()) {
                first.push_str(" (local zone)");
            }
            lines.push(first);
        }
        None => lines.push(format!("pool {}", pool.name)),
    }
    let n = pool.backends.len();
    let mut second = format!("{n} backend{}", if n == 1 { "" } else { "s" });
    match &pool.dist {
        crate::proxy::model::Dist::Jump => {}
        crate::proxy::model::Dist::Ring => second.push_str(" · ring hash"),
        crate::proxy::model::Dist::Other(d) => second.push_str(&format!(" · dist {d}")),
    }
    if let Some(seed) = &pool.seed {
        second.push_str(&format!(" · seed \"{seed}\""));
    }
    lines.push(second);
    let down = pool.backends.iter().filter(|b| b.down).count();
    if down > 0 {
        lines.push(format!(
            "{down} down: {} keys answer SERVER_ERROR",
            if down == 1 { "its" } else { "their" }
        ));
    }
    match &pool.filter {
        crate::proxy::model::KeyFilter::None => {}
        crate::proxy::model::KeyFilter::Stop(s) => lines.push(format!(
            "hashes the key up to \"{}\"",
            String::from_utf8_lossy(s)
        )),
        crate::proxy::model::KeyFilter::Tags(a, b) => lines.push(format!(
            "hashes the key between \"{}\" and \"{}\"",
            *a as char, *b as char
        )),
    }
    lines
}

/// Commands (or key prefixes) that share one route.
struct Group<'r> {
    selectors: Vec<String>,
    route: &'r Route,
}

/// The route groups of a router: map prefixes, then commands of the cmap and
/// the default, commands with equal routes together.
fn groups(router: &Router) -> Vec<Group<'_>> {
    let mut entries: Vec<(usize, String, &Route)> = Vec::new();
    let keys = |prefix: &str| match &router.mode {
        RouterMode::Prefix { stop } => format!("keys {prefix}{}…", String::from_utf8_lossy(stop)),
        RouterMode::Anchor { start, stop } => format!(
            "keys {}{prefix}{}…",
            String::from_utf8_lossy(start),
            String::from_utf8_lossy(stop)
        ),
    };
    for (prefix, e) in &router.map {
        match e {
            MapEntry::Route(r) => entries.push((0, keys(prefix), r)),
            MapEntry::Commands(c, _) => {
                let mut cmds: Vec<&(u8, Route)> = c.iter().collect();
                cmds.sort_by_key(|(id, _)| display_rank(*id));
                for (id, r) in cmds {
                    entries.push((
                        0,
                        format!(
                            "{} {}",
                            keys(prefix),
                            crate::proxy::model::command_name(*id)
                        ),
                        r,
                    ));
                }
            }
        }
    }
    let mut cmap: Vec<&(u8, Route)> = router.cmap.iter().collect();
    cmap.sort_by_key(|(id, _)| display_rank(*id));
    for (id, r) in &cmap {
        entries.push((1, crate::proxy::model::command_name(*id), r));
    }
    if let Some(d) = &router.default {
        let covered: Vec<u8> = router.cmap.iter().map(|(id, _)| *id).collect();
        let mut rest: Vec<u8> = COMMANDS
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| !covered.contains(id))
            .collect();
        rest.sort_by_key(|id| display_rank(*id));
        let names: Vec<String> = rest
            .iter()
            .map(|id| crate::proxy::model::command_name(*id))
            .collect();
        let what = if covered.is_empty() && router.map.is_empty() {
            "every command".to_string()
        } else if names.is_empty() {
            "anything else".to_string()
        } else {
            format!("every other command ({})", names.join(", "))
        };
        entries.push((2, what, d));
    }
    let mut out: Vec<(usize, String, Group)> = Vec::new();
    for (section, selector, route) in entries {
        let sig = signature(route);
        // Map prefixes are never merged with commands.
        match out
            .iter_mut()
            .find(|(s, g, _)| *g == sig && (*s == 0) == (section == 0))
        {
            Some((_, _, g)) => g.selectors.push(selector),
            None => out.push((
                section,
                sig,
                Group {
                    selectors: vec![selector],
                    route,
                },
            )),
        }
    }
    out.into_iter().map(|(_, _, g)| g).collect()
}

/// A route's shape without line numbers: equal routes give equal strings.
fn signature(r: &Route) -> String {
    let mut s = format!("{}(", r.handler);
    for (k, v) in r.args.str_keys() {
        if !k.starts_with("child") {
            s.push_str(&format!("{k}={};", v.show()));
        }
    }
    for slot in &r.slots {
        s.push_str(&slot.arg);
        s.push('=');
        match &slot.value {
            SlotValue::Single(t) => s.push_str(&target_signature(t)),
            SlotValue::Many(list, form) => {
                s.push_str(&format!("{form:?}["));
                for (k, t) in list {
                    s.push_str(&format!("{k}:{},", target_signature(t)));
                }
                s.push(']');
            }
        }
        s.push(';');
    }
    s.push(')');
    s
}

fn target_signature(t: &Target) -> String {
    match t {
        Target::Pool(i) => format!("pool#{i}"),
        Target::Internal => "internal".into(),
        Target::Set(s) => format!("set:{s}"),
        Target::Route(r) => signature(r),
        Target::Missing(n, _) => format!("missing:{n}"),
        Target::Invalid(w) => format!("invalid:{w}"),
    }
}

fn short_target(cfg: &ProxyConfig, engine: &Engine, t: &Target, depth: usize) -> String {
    match t {
        Target::Pool(i) => cfg.pools[*i].reference(),
        Target::Internal => "internal".into(),
        Target::Set(s) => s.clone(),
        Target::Route(r) => route_text(cfg, engine, r, depth + 1),
        Target::Missing(n, _) => format!("{n} (undefined)"),
        Target::Invalid(w) => w.clone(),
    }
}

/// `route_zfailover → set_cache (local first, then cluster)`.
pub fn route_text(cfg: &ProxyConfig, engine: &Engine, r: &Route, depth: usize) -> String {
    let mut head = format!("route_{}", r.handler);
    if r.handler == "ttl"
        && let Some(ttl) = r.arg("ttl")
    {
        head.push_str(&format!(" {}s", ttl.show()));
    }
    if depth > 8 {
        return head;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut note: Option<String> = None;
    for slot in &r.slots {
        match &slot.value {
            SlotValue::Single(t) => parts.push(short_target(cfg, engine, t, depth)),
            SlotValue::Many(list, form) if form.names_set() => {
                let set = list
                    .first()
                    .and_then(|(_, t)| match t {
                        Target::Pool(i) => cfg.pools[*i].set.clone(),
                        _ => None,
                    })
                    .unwrap_or_else(|| "a pool set".into());
                parts.push(set);
                let zones: Vec<String> = engine
                    .ordered(r)
                    .iter()
                    .filter_map(|t| match t {
                        Target::Pool(i) => Some(cfg.pools[*i].name.clone()),
                        _ => None,
                    })
                    .collect();
                note = handler_note(r, &zones);
            }
            SlotValue::Many(list, _) => {
                let names: Vec<String> = list
                    .iter()
                    .map(|(_, t)| short_target(cfg, engine, t, depth))
                    .collect();
                let ordered: Vec<String> = engine
                    .ordered(r)
                    .iter()
                    .map(|t| short_target(cfg, engine, t, depth))
                    .collect();
                parts.push(format!("[{}]", names.join(", ")));
                note = handler_note(r, if ordered.is_empty() { &names } else { &ordered });
            }
        }
    }
    if r.slots.is_empty() && r.handler == "null" {
        return format!("{head} (answers nothing)");
    }
    let mut s = head;
    if !parts.is_empty() {
        s.push_str(" → ");
        s.push_str(&parts.join(", "));
    }
    if let Some(n) = note {
        s.push_str(&format!(" ({n})"));
    }
    s
}

/// What a many-children handler does with its children, in words.
fn handler_note(r: &Route, ordered: &[String]) -> Option<String> {
    if r.kind != HandlerKind::Builtin {
        return None;
    }
    let miss_fails = |default: bool| {
        r.arg("miss")
            .map(|v| matches!(v, Lv::Bool(true)))
            .unwrap_or(default)
    };
    Some(match r.handler.as_str() {
        "zfailover" | "failover" => {
            let (first, rest) = ordered.split_first()?;
            if rest.is_empty() {
                return Some(format!("{first} only"));
            }
            let when = if miss_fails(r.handler == "zfailover") {
                "on a miss or error"
            } else {
                "on an error"
            };
            format!("{first} first, then {} {when}", rest.join(", "))
        }
        "allsync" => "all, waits for every answer".into(),
        "allfastest" if miss_fails(false) => "all, the first hit wins".into(),
        "allfastest" => "all, the first answer wins, a miss too".into(),
        "allasync" => "all, without waiting".into(),
        "random" => "one at random".into(),
        _ => return None,
    })
}

#[derive(Debug, Clone)]
enum LeafTarget {
    Pool(usize),
    Internal,
    Missing(String, String),
}

#[derive(Debug, Clone)]
struct Leaf {
    target: LeafTarget,
    labels: Vec<String>,
    dashed: bool,
}

/// Where a route sends requests, with what each hop means (`1st`, `ttl 30s`...).
fn collect_leaves(
    engine: &Engine,
    r: &Route,
    labels: &[String],
    dashed: bool,
    out: &mut Vec<Leaf>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let with = |extra: Option<String>| -> Vec<String> {
        let mut v = labels.to_vec();
        if let Some(e) = extra {
            v.push(e);
        }
        v
    };
    let visit = |t: &Target, extra: Option<String>, dash: bool, out: &mut Vec<Leaf>| {
        let labels = with(extra);
        let dashed = dashed || dash;
        match t {
            Target::Pool(i) => out.push(Leaf {
                target: LeafTarget::Pool(*i),
                labels,
                dashed,
            }),
            Target::Internal => out.push(Leaf {
                target: LeafTarget::Internal,
                labels,
                dashed,
            }),
            Target::Route(inner) => collect_leaves(engine, inner, &labels, dashed, out, depth + 1),
            Target::Set(s) => out.push(Leaf {
                target: LeafTarget::Missing(s.clone(), "a single child names a pool set".into()),
                labels,
                dashed,
            }),
            Target::Missing(n, why) => out.push(Leaf {
                target: LeafTarget::Missing(n.clone(), why.clone()),
                labels,
                dashed,
            }),
            Target::Invalid(w) => out.push(Leaf {
                target: LeafTarget::Missing(w.clone(), "not a pool or a route".into()),
                labels,
                dashed,
            }),
        }
    };
    let builtin = r.kind == HandlerKind::Builtin;
    match (builtin, r.handler.as_str()) {
        (true, "ttl") => {
            let ttl = r.arg("ttl").map(|v| format!("ttl {}s", v.show()));
            if let Some(SlotValue::Single(t)) = r.slot("child") {
                visit(t, ttl, false, out);
            }
        }
        (true, "split") => {
            if let Some(SlotValue::Single(t)) = r.slot("child_a") {
                visit(t, None, false, out);
            }
            if let Some(SlotValue::Single(t)) = r.slot("child_b") {
                visit(t, Some("copy, not waited for".into()), true, out);
            }
        }
        (true, "failover" | "zfailover") => {
            let miss = r
                .arg("miss")
                .map(|v| matches!(v, Lv::Bool(true)))
                .unwrap_or(r.handler == "zfailover");
            for (i, t) in engine.ordered(r).into_iter().enumerate() {
                let label = if i == 0 {
                    "1st".to_string()
                } else if miss {
                    "on a miss or error".to_string()
                } else {
                    "on an error".to_string()
                };
                visit(t, Some(label), i > 0, out);
            }
        }
        (true, "allasync") => {
            for s in &r.slots {
                if let SlotValue::Many(list, _) = &s.value {
                    for (_, t) in list {
                        visit(t, Some("no wait".into()), true, out);
                    }
                }
            }
        }
        (true, "random") => {
            for s in &r.slots {
                if let SlotValue::Many(list, _) = &s.value {
                    for (_, t) in list {
                        visit(t, Some("random".into()), true, out);
                    }
                }
            }
        }
        (true, "allsync" | "allfastest" | "direct" | "ratelim") => {
            for s in &r.slots {
                match &s.value {
                    SlotValue::Single(t) => visit(t, None, false, out),
                    SlotValue::Many(list, _) => {
                        for (_, t) in list {
                            visit(t, None, false, out);
                        }
                    }
                }
            }
        }
        _ => {
            // A handler from a library (or unknown): its children in order.
            for s in &r.slots {
                match &s.value {
                    SlotValue::Single(t) => visit(t, None, false, out),
                    SlotValue::Many(list, _) => {
                        let many = list.len() > 1;
                        for (i, (_, t)) in list.iter().enumerate() {
                            visit(t, many.then(|| format!("#{}", i + 1)), false, out);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::model::command_id;

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_long_words() {
        assert_eq!(wrap("get, mg", 36), vec!["get, mg"]);
        assert_eq!(
            wrap("every other command (gets, gat, gats)", 20),
            vec!["every other command", "(gets, gat, gats)"]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            vec!["averyveryverylongword", "x"]
        );
        assert_eq!(wrap("", 5), vec![""]);
    }

    #[test]
    fn commands_are_listed_reads_first() {
        let mut ids: Vec<u8> = ["mg", "set", "get", "ms"]
            .iter()
            .map(|n| command_id(n).unwrap())
            .collect();
        ids.sort_by_key(|id| display_rank(*id));
        let names: Vec<String> = ids
            .iter()
            .map(|id| crate::proxy::model::command_name(*id))
            .collect();
        assert_eq!(names, ["get", "set", "mg", "ms"]);
    }
}
