//! The topology of a rendering as a graph: nodes (clients, Services, app
//! containers, proxies, route groups, pools, cache pods), clusters (workload
//! pods, proxy configs, pool sets, StatefulSets) and labelled edges: plain
//! data, built by [`super::build`] and drawn by the writers.

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
    /// Libraries loaded before each `.lua` config given (`--lib`).
    pub libs: Vec<crate::rendering::Library>,
}

/// Builds the graph of the objects and proxy configs of a context.
/// Why a graph cannot be drawn.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Input(#[from] crate::manifest::InputError),
    #[error(
        "{what} holds no Kubernetes objects or proxy configs to draw; if it came from `helm template`, that command failed"
    )]
    Empty { what: String },
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
pub(super) const DISPLAY_ORDER: &[&str] = &[
    "get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas", "incr",
    "decr", "touch", "delete", "mg", "ms", "md", "ma", "mn", "me",
];

#[cfg(test)]
mod tests {
    use super::*;

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
}
