//! Builds the graph from the rendering and the proxy model.
//!
//! Everything is built in the order of the rendering and of the proxy model
//! (whose tables are sorted), so the same input always gives the same graph.

use std::collections::BTreeMap;

use crate::json::Value;

use crate::k8s;
use crate::manifest::Object;
use crate::memcached::cmdline::{self, Role as McRole};
use crate::proxy::eval::Engine;
use crate::proxy::manifest::{FoundProxy, Hosts, is_loopback, replicas};
use crate::proxy::model::{ProxyConfig, Router};
use crate::proxy::{Origin, Proxies};

use super::model::*;
use super::routes::*;

pub fn build(
    objects: &[Object],
    proxies: &Proxies,
    options: &BuildOptions,
) -> Result<Graph, GraphError> {
    let mut b = Builder::new(objects);
    b.run(proxies, options)?;
    Ok(b.finish())
}

pub(super) struct Builder<'o, 'a> {
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
    /// The StatefulSets and Services backend hosts may name.
    hosts: Hosts,
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
            hosts: Hosts::of(objects),
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
        let count = match &*obj.kind {
            "DaemonSet" => "one pod per node".to_string(),
            "Pod" => "1 pod".to_string(),
            "StatefulSet" => format!("{n} pod{}", if n == 1 { "" } else { "s" }),
            _ => format!("{n} replica{}", if n == 1 { "" } else { "s" }),
        };
        // Pods pinned to a zone (cache.zones) say which.
        let zone = k8s::pinned_zone(obj)
            .map(|(_, z)| format!(" · zone {z}"))
            .unwrap_or_default();
        format!("{} {} · {count}{zone}", obj.kind, obj.name)
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
        if let Some(ph) = self.hosts.pod_host(&ns, host) {
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
        if let Some(si) = self.hosts.service_host(&ns, host) {
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

pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A helm hook (a `helm test` pod, say): not part of the running topology.
pub(super) fn is_hook(obj: &Object) -> bool {
    obj.annotation("helm.sh/hook").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::model::command_id;

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
