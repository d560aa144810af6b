//! NetworkPolicy semantics over a rendering: which policies select a pod for
//! a direction, and whether a connection from one pod to another pod's port
//! is let through, decided the way Kubernetes does.
//!
//! - A pod selected by some policy for a direction (`policyTypes`; by default
//!   Ingress, plus Egress when the policy has egress rules) admits, in that
//!   direction, only what one rule of those policies allows (default deny).
//!   A pod no policy selects for a direction is unrestricted in it.
//! - A rule allows a connection when one of its ports covers the port (none
//!   listed: every port; a number with `endPort`: a range; a name: the named
//!   container port of the destination pod) and one of its peers matches the
//!   other pod (none listed: every source or destination).
//! - A peer matches pods by `podSelector` in the policy's namespace, by
//!   `namespaceSelector` over the namespace's labels, or both. The only
//!   namespace label known from a rendering is `kubernetes.io/metadata.name`,
//!   which Kubernetes sets on every namespace; a selector on any other
//!   namespace label cannot be decided and counts as not matching, with a
//!   note. `ipBlock` peers never match pods here (pod IPs are not in the
//!   rendering), with a note too.
//!
//! A pure function of the rendering's objects. A malformed policy (a selector
//! that is not a LabelSelector) is left out: the schema rules report it.

use std::collections::{HashMap, HashSet};

use crate::json::{Map, Value};

use crate::k8s;
use crate::manifest::Object;
use crate::selector::{Operator, label_text};

/// The label Kubernetes puts on every namespace, holding its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    /// `Ingress` / `Egress`, as `policyTypes` spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    /// Ingress 0, Egress 1: a position in per-direction arrays.
    fn index(self) -> usize {
        match self {
            Direction::Ingress => 0,
            Direction::Egress => 1,
        }
    }

    /// The field of a policy's spec holding this direction's rules.
    pub fn field(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The field of a rule holding its peers.
    pub fn peers(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

/// A pod of the rendering: a workload's pod template, or a Pod.
#[derive(Debug, Clone)]
pub struct Pod<'o> {
    /// Index into the rendering's objects.
    pub object: usize,
    pub namespace: &'o str,
    pub labels: Option<&'o Map>,
    /// Container ports of every container (init ones included): (name, number, protocol).
    pub ports: Vec<(Option<String>, i64, String)>,
    /// Its labels and ports are in the rendering. `false` for a pod outside
    /// it (a cache in a namespace the rendering does not hold), known by its
    /// namespace only.
    pub known: bool,
}

impl<'o> Pod<'o> {
    /// A pod outside the rendering, in namespace `namespace`.
    pub fn outside(namespace: &'o str) -> Pod<'o> {
        Pod {
            object: usize::MAX,
            namespace,
            labels: None,
            ports: Vec::new(),
            known: false,
        }
    }
}

/// The pod that object `i` runs, if it has a pod template.
pub fn pod<'o>(objects: &'o [Object], i: usize) -> Option<Pod<'o>> {
    let obj = objects.get(i)?;
    let meta = k8s::pod_metadata_pointer(&obj.kind)?;
    let labels = obj
        .json
        .pointer(&format!("{meta}/labels"))
        .and_then(Value::as_object);
    let ports = k8s::containers(obj)
        .iter()
        .flat_map(|c| {
            c.ports()
                .into_iter()
                .map(|(n, p, proto)| (n.map(str::to_string), p, proto.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    Some(Pod {
        object: i,
        namespace: obj.effective_namespace(),
        labels,
        ports,
        known: true,
    })
}

pub use crate::selector::{Match, Selector};

/// Whether a selector selects namespace `ns`, knowing only its
/// `kubernetes.io/metadata.name` label.
fn matches_namespace(sel: &Selector, ns: &str) -> Match {
    sel.matches_with(|k| (k == NAMESPACE_NAME_LABEL).then(|| Some(ns.to_string())))
}

/// A NetworkPolicy of the rendering.
#[derive(Debug, Clone)]
pub struct Policy<'o> {
    /// Index into the rendering's objects.
    pub object: usize,
    pub namespace: &'o str,
    pub name: &'o str,
    pub pod_selector: Selector,
    pub ingress: bool,
    pub egress: bool,
    /// `policyTypes` was given.
    pub explicit_types: bool,
    ingress_rules: Vec<PolicyRule<'o>>,
    egress_rules: Vec<PolicyRule<'o>>,
    /// (rule, peer) of the first `ipBlock` peer, Ingress then Egress.
    ip_block_at: [Option<(usize, usize)>; 2],
}

/// A rule of a policy, its peers and ports parsed once.
#[derive(Debug, Clone)]
struct PolicyRule<'o> {
    /// `ports` as written (empty: every port), for messages.
    ports: &'o [Value],
    /// The same ports, for lookups.
    covered: PortSet,
    /// `from` / `to` (empty: every source or destination).
    peers: Vec<Peer>,
}

/// The ports a rule covers, by protocol: a hostile rule may list thousands,
/// and each connection asks about one port.
#[derive(Debug, Clone, Default)]
struct PortSet {
    /// `ports` is empty: every port of every protocol.
    all: bool,
    by_protocol: HashMap<String, ProtocolPorts>,
}

#[derive(Debug, Clone, Default)]
struct ProtocolPorts {
    /// An entry without `port`: every port.
    every: bool,
    /// Numbers and `endPort` ranges, sorted, overlaps merged.
    ranges: Vec<(i64, i64)>,
    /// Named ports, resolved against the destination pod.
    names: HashSet<String>,
}

impl PortSet {
    /// Reads `ports` as [`port_covers`] does, entry by entry.
    fn new(ports: &[Value]) -> PortSet {
        let mut set = PortSet {
            all: ports.is_empty(),
            by_protocol: HashMap::new(),
        };
        for p in ports {
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let entry = set.by_protocol.entry(proto.to_string()).or_default();
            match p.get("port") {
                None | Some(Value::Null) => entry.every = true,
                Some(Value::Number(n)) => {
                    if let Some(n) = n.as_i64() {
                        let end = p.get("endPort").and_then(Value::as_i64).unwrap_or(n);
                        if n <= end {
                            entry.ranges.push((n, end));
                        }
                    }
                }
                Some(Value::String(name)) => match name.parse::<i64>() {
                    Ok(n) => entry.ranges.push((n, n)),
                    Err(_) => {
                        entry.names.insert(name.to_string());
                    }
                },
                Some(_) => {}
            }
        }
        for entry in set.by_protocol.values_mut() {
            entry.ranges.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(entry.ranges.len());
            for &(lo, hi) in &entry.ranges {
                match merged.last_mut() {
                    Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                    _ => merged.push((lo, hi)),
                }
            }
            entry.ranges = merged;
        }
        set
    }

    /// Whether some entry covers `to`'s `port`: the same answer as
    /// `port_covers(..) == Ok(true)` for some entry, a named port counting
    /// only when it resolves on `to`.
    fn covers(&self, to: &Pod, port: i64, protocol: &str) -> bool {
        if self.all {
            return true;
        }
        let Some(p) = self.by_protocol.get(protocol) else {
            return false;
        };
        if p.every {
            return true;
        }
        let i = p.ranges.partition_point(|&(lo, _)| lo <= port);
        if i > 0 && p.ranges[i - 1].1 >= port {
            return true;
        }
        to.known
            && !p.names.is_empty()
            && to.ports.iter().any(|(name, n, proto)| {
                *n == port
                    && proto == protocol
                    && name.as_ref().is_some_and(|name| p.names.contains(name))
            })
    }
}

/// A peer of a rule.
#[derive(Debug, Clone)]
enum Peer {
    /// An `ipBlock`: never taken to match a pod; `everyone` for `0.0.0.0/0`
    /// or `::/0` without exceptions.
    IpBlock { everyone: bool },
    /// `namespaceSelector` (`None`: the policy's namespace) and
    /// `podSelector` (`None`: every pod).
    Pods {
        namespaces: Option<Selector>,
        pods: Option<Selector>,
    },
    /// Neither selector, or a malformed one: matches nothing.
    Invalid,
}

impl Peer {
    fn parse(v: &Value) -> Peer {
        if let Some(block) = v.get("ipBlock").filter(|b| !b.is_null()) {
            let cidr = block.get("cidr").and_then(Value::as_str).unwrap_or("");
            let except = block
                .get("except")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            return Peer::IpBlock {
                everyone: matches!(cidr, "0.0.0.0/0" | "::/0") && !except,
            };
        }
        let selector = |field: &str| match v.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(s) => Selector::from_label_selector(s).map(Some).ok_or(()),
        };
        match (selector("namespaceSelector"), selector("podSelector")) {
            (Ok(None), Ok(None)) | (Err(()), _) | (_, Err(())) => Peer::Invalid,
            (Ok(namespaces), Ok(pods)) => Peer::Pods { namespaces, pods },
        }
    }

    /// Every source: `namespaceSelector: {}` with no (or an empty)
    /// `podSelector`, or an `ipBlock` of everything.
    fn everyone(&self) -> bool {
        match self {
            Peer::IpBlock { everyone } => *everyone,
            Peer::Pods {
                namespaces: Some(ns),
                pods,
            } => ns.is_empty() && pods.as_ref().is_none_or(Selector::is_empty),
            _ => false,
        }
    }
}

fn parse_rules(spec: &Value, dir: Direction) -> Vec<PolicyRule<'_>> {
    spec.get(dir.field())
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|rule| {
            let ports = rule
                .get("ports")
                .and_then(Value::as_array)
                .unwrap_or(&[][..]);
            PolicyRule {
                ports,
                covered: PortSet::new(ports),
                peers: rule
                    .get(dir.peers())
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(Peer::parse)
                    .collect(),
            }
        })
        .collect()
}

/// (rule, peer) of the first `ipBlock` peer of these rules.
fn first_ip_block(rules: &[PolicyRule]) -> Option<(usize, usize)> {
    rules.iter().enumerate().find_map(|(r, rule)| {
        rule.peers
            .iter()
            .position(|p| matches!(p, Peer::IpBlock { .. }))
            .map(|q| (r, q))
    })
}

/// Every well-formed NetworkPolicy of the rendering, indexed.
pub fn policies<'o>(objects: &'o [Object]) -> Policies<'o> {
    let list = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.kind == "NetworkPolicy")
        .filter_map(|(i, o)| {
            let spec = o.json.get("spec")?;
            let pod_selector = match spec.get("podSelector") {
                None | Some(Value::Null) => Selector::default(),
                Some(s) => Selector::from_label_selector(s)?,
            };
            let has_rules = |f: &str| {
                spec.get(f)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            };
            let (ingress, egress, explicit_types) = match spec.get("policyTypes") {
                Some(Value::Array(types)) => (
                    types.iter().any(|t| t == "Ingress"),
                    types.iter().any(|t| t == "Egress"),
                    true,
                ),
                _ => (true, has_rules("egress"), false),
            };
            let ingress_rules = parse_rules(spec, Direction::Ingress);
            let egress_rules = parse_rules(spec, Direction::Egress);
            Some(Policy {
                object: i,
                namespace: o.effective_namespace(),
                name: &o.name,
                pod_selector,
                ingress,
                egress,
                explicit_types,
                ip_block_at: [
                    first_ip_block(&ingress_rules),
                    first_ip_block(&egress_rules),
                ],
                ingress_rules,
                egress_rules,
            })
        })
        .collect();
    Policies::new(list)
}

impl Policy<'_> {
    /// Whether this policy selects `pod` for `dir`.
    pub fn selects(&self, pod: &Pod, dir: Direction) -> bool {
        self.typed(dir) && self.namespace == pod.namespace && self.pod_selector.matches(pod.labels)
    }

    /// Whether this policy is for `dir` (`policyTypes` or its default).
    fn typed(&self, dir: Direction) -> bool {
        match dir {
            Direction::Ingress => self.ingress,
            Direction::Egress => self.egress,
        }
    }

    /// This policy's rules for `dir`.
    fn rules(&self, dir: Direction) -> &[PolicyRule<'_>] {
        match dir {
            Direction::Ingress => &self.ingress_rules,
            Direction::Egress => &self.egress_rules,
        }
    }

    /// `namespace/name`.
    pub fn reference(&self) -> String {
        format!("NetworkPolicy {}/{}", self.namespace, self.name)
    }
}

/// Items looked up by a label their selector requires: a pod's candidates
/// are found through its own labels instead of tried one by one.
#[derive(Debug)]
struct LabelIndex<T> {
    /// key → value → items whose selector requires `key` to be that value
    /// (a `matchLabels` pair, or an `In` requirement under each of its values).
    by_label: HashMap<String, HashMap<String, Vec<T>>>,
    /// Items whose selector requires no one value (none, empty, `NotIn`,
    /// `Exists`, `DoesNotExist`): candidates for every pod.
    rest: Vec<T>,
}

impl<T> Default for LabelIndex<T> {
    fn default() -> Self {
        LabelIndex {
            by_label: HashMap::new(),
            rest: Vec::new(),
        }
    }
}

impl<T: Copy> LabelIndex<T> {
    fn insert(&mut self, selector: Option<&Selector>, item: T) {
        let required: Option<(&str, Vec<&str>)> = selector.and_then(|s| {
            s.labels
                .first()
                .map(|(k, v)| (k.as_str(), vec![v.as_str()]))
                .or_else(|| {
                    s.expressions
                        .iter()
                        .find(|r| r.operator == Operator::In)
                        .map(|r| {
                            (
                                r.key.as_str(),
                                r.values.iter().map(String::as_str).collect(),
                            )
                        })
                })
        });
        let Some((key, mut values)) = required else {
            self.rest.push(item);
            return;
        };
        values.sort_unstable();
        values.dedup();
        let by_value = self.by_label.entry(key.to_string()).or_default();
        for v in values {
            by_value.entry(v.to_string()).or_default().push(item);
        }
    }

    /// Every item whose selector may select these labels, each once (a pod
    /// has one value per key): a superset of those that do, to be matched.
    fn candidates(&self, labels: Option<&Map>, out: &mut Vec<T>) {
        out.extend_from_slice(&self.rest);
        for (k, v) in labels.into_iter().flatten() {
            let Some(by_value) = self.by_label.get(k.as_str()) else {
                continue;
            };
            let items = match v {
                Value::String(s) => by_value.get(s.as_str()),
                other => label_text(other).and_then(|t| by_value.get(&t)),
            };
            if let Some(items) = items {
                out.extend_from_slice(items);
            }
        }
    }
}

/// A selector written in a canonical order: equal keys select the same pods.
type SelectorKey = (Vec<(String, String)>, Vec<(String, u8, Vec<String>)>);

fn canonical(sel: &Selector) -> SelectorKey {
    let mut labels = sel.labels.clone();
    labels.sort_unstable();
    labels.dedup();
    let mut expressions: Vec<(String, u8, Vec<String>)> = sel
        .expressions
        .iter()
        .map(|r| {
            let mut values = r.values.clone();
            values.sort_unstable();
            values.dedup();
            (r.key.clone(), r.operator as u8, values)
        })
        .collect();
    expressions.sort_unstable();
    expressions.dedup();
    (labels, expressions)
}

/// The rendering's well-formed NetworkPolicies, in input order, grouped and
/// indexed so that a connection costs about as much as the policies that
/// decide it, not as many as the rendering holds.
///
/// Policies of one namespace with the same pod selector and the same policy
/// types select the same pods: they form a group, matched once per pod, and
/// found through the pod's labels. A group's rules are indexed by a label
/// their peers' `podSelector`s require, so a connection looks only at the
/// rules whose peers may match the pod at the other end.
#[derive(Debug)]
pub struct Policies<'o> {
    list: Vec<Policy<'o>>,
    groups: Vec<Group<'o>>,
    /// Groups per namespace, by a label their pod selector requires.
    by_namespace: HashMap<&'o str, LabelIndex<usize>>,
}

/// Policies selecting the same pods for the same directions.
#[derive(Debug)]
struct Group<'o> {
    namespace: &'o str,
    selector: Selector,
    ingress: bool,
    egress: bool,
    /// Indexes into the list, ascending.
    policies: Vec<usize>,
    /// Its policies' rules, Ingress then Egress (a direction the group is
    /// not for is left empty).
    rules: [RuleIndex; 2],
}

impl Group<'_> {
    fn typed(&self, dir: Direction) -> bool {
        match dir {
            Direction::Ingress => self.ingress,
            Direction::Egress => self.egress,
        }
    }
}

/// A group's rules for one direction. Positions are (policy, rule[, peer]),
/// policy an index into the list: ascending order is input order.
#[derive(Debug, Default)]
struct RuleIndex {
    /// Each peer that may match pods (not an `ipBlock`), by a label its
    /// `podSelector` requires.
    peers: LabelIndex<(usize, usize, usize)>,
    /// Rules listing no peers (every source or destination), ascending.
    unpeered: Vec<(usize, usize)>,
    /// Rules admitting every source (no peers, or a peer that is everyone),
    /// ascending.
    open: Vec<(usize, usize)>,
    /// Some rule has an `ipBlock` peer.
    ip_block: bool,
}

impl<'o> Policies<'o> {
    fn new(list: Vec<Policy<'o>>) -> Policies<'o> {
        let mut keys: HashMap<(&str, SelectorKey, bool, bool), usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let key = (p.namespace, canonical(&p.pod_selector), p.ingress, p.egress);
            let g = *keys.entry(key).or_insert_with(|| {
                groups.push(Group {
                    namespace: p.namespace,
                    selector: p.pod_selector.clone(),
                    ingress: p.ingress,
                    egress: p.egress,
                    policies: Vec::new(),
                    rules: Default::default(),
                });
                groups.len() - 1
            });
            let group = &mut groups[g];
            group.policies.push(i);
            for dir in [Direction::Ingress, Direction::Egress] {
                if !p.typed(dir) {
                    continue;
                }
                let index = &mut group.rules[dir.index()];
                for (r, rule) in p.rules(dir).iter().enumerate() {
                    if rule.peers.is_empty() {
                        index.unpeered.push((i, r));
                    }
                    if rule.peers.is_empty() || rule.peers.iter().any(Peer::everyone) {
                        index.open.push((i, r));
                    }
                    for (q, peer) in rule.peers.iter().enumerate() {
                        match peer {
                            Peer::IpBlock { .. } => index.ip_block = true,
                            Peer::Pods { pods, .. } => index.peers.insert(pods.as_ref(), (i, r, q)),
                            Peer::Invalid => {}
                        }
                    }
                }
            }
        }
        let mut by_namespace: HashMap<&str, LabelIndex<usize>> = HashMap::new();
        for (g, group) in groups.iter().enumerate() {
            by_namespace
                .entry(group.namespace)
                .or_default()
                .insert(Some(&group.selector), g);
        }
        Policies {
            list,
            groups,
            by_namespace,
        }
    }

    /// How many policies.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The policies in input order.
    pub fn iter(&self) -> impl Iterator<Item = &Policy<'o>> {
        self.list.iter()
    }

    /// Whether some policy is in namespace `ns`.
    pub fn in_namespace(&self, ns: &str) -> bool {
        self.by_namespace.contains_key(ns)
    }

    /// The groups selecting `pod` for `dir`, ascending.
    fn selecting(&self, pod: &Pod, dir: Direction) -> Vec<usize> {
        let Some(index) = self.by_namespace.get(pod.namespace) else {
            return Vec::new();
        };
        let mut groups = Vec::new();
        index.candidates(pod.labels, &mut groups);
        groups.retain(|&g| {
            let group = &self.groups[g];
            group.typed(dir) && group.selector.matches(pod.labels)
        });
        groups.sort_unstable();
        groups
    }

    /// The first [`DETAILED_MISSES`] policies of these groups, ascending.
    fn first_policies(&self, groups: &[usize]) -> Vec<usize> {
        let mut first: Vec<usize> = groups
            .iter()
            .flat_map(|&g| self.groups[g].policies.iter().take(DETAILED_MISSES))
            .copied()
            .collect();
        first.sort_unstable();
        first.truncate(DETAILED_MISSES);
        first
    }

    /// The verdict of the groups selecting the subject, both pods in the
    /// rendering: only the rules whose peers may match `peer` are looked at.
    #[allow(clippy::too_many_arguments)]
    fn decide_indexed(
        &self,
        groups: &[usize],
        dir: Direction,
        peer: &Pod,
        to: &Pod,
        port: i64,
        protocol: &str,
    ) -> Verdict {
        // Rules a peer of which matches `peer`, and the first that allows.
        let mut matched: HashSet<(usize, usize)> = HashSet::new();
        let mut allowed: Option<(usize, usize)> = None;
        let mut notes: Vec<(usize, (usize, usize), Note)> = Vec::new();
        let mut undecided = false;
        let mut candidates = Vec::new();
        for &g in groups {
            let group = &self.groups[g];
            let index = &group.rules[dir.index()];
            undecided |= index.ip_block;
            let mut consider = |p: usize, r: usize| {
                if matched.insert((p, r))
                    && allowed.is_none_or(|a| (p, r) < a)
                    && self.list[p].rules(dir)[r]
                        .covered
                        .covers(to, port, protocol)
                {
                    allowed = Some((p, r));
                }
            };
            for &(p, r) in &index.unpeered {
                consider(p, r);
            }
            candidates.clear();
            index.peers.candidates(peer.labels, &mut candidates);
            for &(p, r, q) in &candidates {
                let rule = &self.list[p].rules(dir)[r];
                let (ok, note) = peer_matches(&rule.peers[q], group.namespace, peer);
                if ok {
                    consider(p, r);
                }
                if let Some(note) = note {
                    notes.push((p, (r, q), note));
                }
            }
        }
        if let Some((p, r)) = allowed {
            return Verdict::Allowed {
                policy: self.list[p].object,
                rule: r,
            };
        }
        undecided |= !notes.is_empty();
        let misses = self
            .first_policies(groups)
            .into_iter()
            .map(|p| {
                // Its notes in the order of its rules and peers.
                let mut found: Vec<((usize, usize), Note)> = notes
                    .iter()
                    .filter(|n| n.0 == p)
                    .map(|&(_, at, note)| (at, note))
                    .chain(self.list[p].ip_block_at[dir.index()].map(|at| (at, Note::IpBlock)))
                    .collect();
                found.sort_by_key(|(at, _)| *at);
                let mut kinds = Vec::new();
                for (_, note) in found {
                    if !kinds.contains(&note) {
                        kinds.push(note);
                    }
                }
                self.miss(
                    p,
                    dir,
                    peer,
                    to,
                    port,
                    protocol,
                    &|r| matched.contains(&(p, r)),
                    &kinds,
                )
            })
            .collect();
        Verdict::Denied(Denial {
            misses,
            policies: groups.iter().map(|&g| self.groups[g].policies.len()).sum(),
            undecided,
        })
    }

    /// The verdict when a pod is outside the rendering (known by its
    /// namespace only): every rule of the selecting policies is looked at.
    #[allow(clippy::too_many_arguments)]
    fn decide_scan(
        &self,
        groups: &[usize],
        dir: Direction,
        peer: &Pod,
        to: &Pod,
        port: i64,
        protocol: &str,
    ) -> Verdict {
        let mut selecting: Vec<usize> = groups
            .iter()
            .flat_map(|&g| self.groups[g].policies.iter().copied())
            .collect();
        selecting.sort_unstable();
        let mut undecided = false;
        for &p in &selecting {
            let policy = &self.list[p];
            for (n, rule) in policy.rules(dir).iter().enumerate() {
                let port_ok = rule.ports.is_empty()
                    || rule
                        .ports
                        .iter()
                        .any(|q| match port_covers(q, to, port, protocol) {
                            Ok(ok) => ok,
                            Err(_) => {
                                undecided |= !to.known;
                                false
                            }
                        });
                let mut peer_ok = rule.peers.is_empty();
                for q in &rule.peers {
                    let (ok, note) = peer_matches(q, policy.namespace, peer);
                    peer_ok |= ok;
                    undecided |= note.is_some();
                }
                if port_ok && peer_ok {
                    return Verdict::Allowed {
                        policy: policy.object,
                        rule: n,
                    };
                }
            }
        }
        let misses = selecting
            .iter()
            .take(DETAILED_MISSES)
            .map(|&p| {
                let policy = &self.list[p];
                let mut matched = HashSet::new();
                let mut notes = Vec::new();
                for (n, rule) in policy.rules(dir).iter().enumerate() {
                    for q in &rule.peers {
                        let (ok, note) = peer_matches(q, policy.namespace, peer);
                        if ok {
                            matched.insert(n);
                        }
                        if let Some(note) = note
                            && !notes.contains(&note)
                        {
                            notes.push(note);
                        }
                    }
                }
                self.miss(
                    p,
                    dir,
                    peer,
                    to,
                    port,
                    protocol,
                    &|r| matched.contains(&r),
                    &notes,
                )
            })
            .collect();
        Verdict::Denied(Denial {
            misses,
            policies: selecting.len(),
            undecided,
        })
    }

    /// Why policy `p` (an index into the list), which selects the subject,
    /// does not allow the connection; `peer_ok(rule)`: a peer of that rule
    /// matches `peer`.
    #[allow(clippy::too_many_arguments)]
    fn miss(
        &self,
        p: usize,
        dir: Direction,
        peer: &Pod,
        to: &Pod,
        port: i64,
        protocol: &str,
        peer_ok: &dyn Fn(usize) -> bool,
        notes: &[Note],
    ) -> Miss {
        let policy = &self.list[p];
        let rules = policy.rules(dir);
        let described = rules
            .iter()
            .enumerate()
            .take(DETAILED_RULES)
            .map(|(n, rule)| {
                let mut why = Vec::new();
                if !rule.covered.covers(to, port, protocol) {
                    let shown = &rule.ports[..rule.ports.len().min(DETAILED_PORTS)];
                    let listed: Vec<String> = shown.iter().map(describe_port).collect();
                    let mut s = format!("it allows {}", listed.join(", "));
                    if rule.ports.len() > shown.len() {
                        s.push_str(&format!(" and {} more ports", rule.ports.len() - shown.len()));
                    }
                    s.push_str(" only");
                    for name in shown
                        .iter()
                        .filter_map(|q| port_covers(q, to, port, protocol).err())
                    {
                        s.push_str(&if to.known {
                            format!(" (its port `{name}` names no {protocol} container port of the destination pod)")
                        } else {
                            format!(" (its port `{name}` cannot be resolved: the destination pod is not in the rendering)")
                        });
                    }
                    why.push(s);
                }
                if !(rule.peers.is_empty() || peer_ok(n)) {
                    why.push(format!(
                        "its `{}` peers do not match the {} pod",
                        dir.peers(),
                        match dir {
                            Direction::Ingress => "source",
                            Direction::Egress => "destination",
                        }
                    ));
                }
                format!("{} rule {}: {}", dir.field(), n + 1, why.join(" and "))
            })
            .collect();
        Miss {
            policy: policy.object,
            reference: policy.reference(),
            explicit_types: policy.explicit_types,
            rules: described,
            rule_count: rules.len(),
            notes: notes.iter().map(|n| n.describe(peer)).collect(),
        }
    }
}

/// One side's verdict on a connection.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// No policy selects the pod for this direction.
    Unrestricted,
    /// Rule `rule` (0-based) of the policy at object `policy` allows it.
    Allowed { policy: usize, rule: usize },
    /// Policies select the pod for this direction and none allows it.
    Denied(Denial),
}

/// How many denying policies a [`Denial`] spells out; a hostile rendering may
/// hold thousands.
pub const DETAILED_MISSES: usize = 4;

/// How many rules of a denying policy a [`Miss`] spells out.
pub const DETAILED_RULES: usize = 4;

/// How many ports of a rule a [`Miss`] lists.
pub const DETAILED_PORTS: usize = 8;

/// Every policy selecting the pod for the direction misses.
#[derive(Debug, Clone)]
pub struct Denial {
    /// Why, for the first [`DETAILED_MISSES`] of them.
    pub misses: Vec<Miss>,
    /// How many policies deny it.
    pub policies: usize,
    /// Something the rendering cannot tell (an ipBlock, a namespace label, a
    /// pod outside it) may have decided one of the misses.
    pub undecided: bool,
}

/// Why one policy selecting a pod does not allow a connection.
#[derive(Debug, Clone)]
pub struct Miss {
    /// Index into the rendering's objects.
    pub policy: usize,
    /// `NetworkPolicy ns/name`.
    pub reference: String,
    /// The policy lists its `policyTypes`.
    pub explicit_types: bool,
    /// Why each of its first [`DETAILED_RULES`] rules misses (empty: it has
    /// no rule for the direction).
    pub rules: Vec<String>,
    /// How many rules it has for the direction.
    pub rule_count: usize,
    /// What the rendering cannot tell (ipBlock peers, namespace labels, a
    /// pod outside it).
    pub notes: Vec<String>,
}

/// What a port of a rule covers, against the destination pod's ports.
/// `Err(name)` when a named port does not resolve on the destination pod.
fn port_covers<'v>(p: &'v Value, to: &Pod, port: i64, protocol: &str) -> Result<bool, &'v str> {
    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
    if proto != protocol {
        return Ok(false);
    }
    match p.get("port") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Number(n)) => {
            let Some(n) = n.as_i64() else {
                return Ok(false);
            };
            let end = p.get("endPort").and_then(Value::as_i64).unwrap_or(n);
            Ok((n..=end).contains(&port))
        }
        Some(Value::String(name)) => {
            // An int-or-string given as a quoted number is a number.
            if let Ok(n) = name.parse::<i64>() {
                return Ok(n == port);
            }
            if !to.known {
                return Err(name);
            }
            let named: Vec<i64> = to
                .ports
                .iter()
                .filter(|(pn, _, pp)| pn.as_deref() == Some(name.as_str()) && pp == proto)
                .map(|(_, n, _)| *n)
                .collect();
            if named.is_empty() {
                Err(name)
            } else {
                Ok(named.contains(&port))
            }
        }
        Some(_) => Ok(false),
    }
}

fn describe_port(p: &Value) -> String {
    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
    match (p.get("port"), p.get("endPort").and_then(Value::as_i64)) {
        (None | Some(Value::Null), _) => format!("every {proto} port"),
        (Some(Value::Number(n)), Some(end)) => format!("{n}-{end}/{proto}"),
        (Some(Value::Number(n)), None) => format!("{n}/{proto}"),
        (Some(Value::String(s)), _) => format!("`{s}`/{proto}"),
        (Some(other), _) => format!("{other}/{proto}"),
    }
}

/// What the rendering cannot tell about a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    IpBlock,
    NamespaceLabels,
    OutsidePod,
}

impl Note {
    fn describe(self, pod: &Pod) -> String {
        match self {
            Note::IpBlock => {
                "an ipBlock peer is not taken to match pods (pod IPs are not in the rendering)"
                    .to_string()
            }
            Note::NamespaceLabels => format!(
                "a namespaceSelector uses labels other than `{NAMESPACE_NAME_LABEL}`, which the rendering does not show for namespace `{}`",
                pod.namespace
            ),
            Note::OutsidePod => format!(
                "a podSelector cannot be decided for a pod outside the rendering (namespace `{}`)",
                pod.namespace
            ),
        }
    }
}

/// Whether a peer of a policy in `policy_ns` matches `pod`, with a note when
/// the rendering cannot tell.
fn peer_matches(peer: &Peer, policy_ns: &str, pod: &Pod) -> (bool, Option<Note>) {
    let (namespaces, pods) = match peer {
        Peer::IpBlock { .. } => return (false, Some(Note::IpBlock)),
        Peer::Invalid => return (false, None),
        Peer::Pods { namespaces, pods } => (namespaces, pods),
    };
    let ns = match namespaces {
        None if pod.namespace == policy_ns => Match::Yes,
        None => Match::No,
        Some(sel) => matches_namespace(sel, pod.namespace),
    };
    if ns == Match::No {
        return (false, None);
    }
    let pods = match pods {
        None => true,
        Some(sel) if pod.known || sel.is_empty() => sel.matches(pod.labels),
        Some(_) => return (false, Some(Note::OutsidePod)),
    };
    match ns {
        Match::Unknown => (false, pods.then_some(Note::NamespaceLabels)),
        _ => (pods, None),
    }
}

/// The verdict of `dir` on a connection from `from` to `to`'s `port`: for
/// Egress the policies selecting `from`, for Ingress those selecting `to`.
pub fn decide(
    policies: &Policies,
    dir: Direction,
    from: &Pod,
    to: &Pod,
    port: i64,
    protocol: &str,
) -> Verdict {
    let (subject, peer) = match dir {
        Direction::Egress => (from, to),
        Direction::Ingress => (to, from),
    };
    let groups = policies.selecting(subject, dir);
    if groups.is_empty() {
        Verdict::Unrestricted
    } else if from.known && to.known {
        policies.decide_indexed(&groups, dir, peer, to, port, protocol)
    } else {
        policies.decide_scan(&groups, dir, peer, to, port, protocol)
    }
}

/// Who may reach a pod's port according to its ingress policies.
#[derive(Debug, Clone)]
pub enum Openness {
    /// No policy selects the pod for Ingress.
    NoPolicy,
    /// Rule `rule` (0-based) of the policy at object `policy` admits every source.
    Rule { policy: usize, rule: usize },
    /// Only some sources.
    Restricted,
}

/// Whether `to`'s `port` admits every source: no policy selects it for
/// Ingress, or a rule covering the port lists no peers or a peer that is
/// everyone (`namespaceSelector: {}` alone, or `0.0.0.0/0`).
pub fn openness(policies: &Policies, to: &Pod, port: i64, protocol: &str) -> Openness {
    let groups = policies.selecting(to, Direction::Ingress);
    if groups.is_empty() {
        return Openness::NoPolicy;
    }
    let first = groups
        .iter()
        .filter_map(|&g| {
            policies.groups[g].rules[Direction::Ingress.index()]
                .open
                .iter()
                .copied()
                .find(|&(p, r)| {
                    policies.list[p].ingress_rules[r]
                        .covered
                        .covers(to, port, protocol)
                })
        })
        .min();
    match first {
        Some((p, rule)) => Openness::Rule {
            policy: policies.list[p].object,
            rule,
        },
        None => Openness::Restricted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_value as json;

    #[test]
    fn selectors_follow_the_operators() {
        let sel = Selector::from_label_selector(&json!({
            "matchLabels": {"app": "mc"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["x"]},
                {"key": "team", "operator": "Exists"},
            ]
        }))
        .unwrap();
        let labels = json!({"app": "mc", "tier": "b", "team": "t"});
        assert!(sel.matches(labels.as_object()));
        let labels = json!({"app": "mc", "tier": "b", "team": "t", "zone": "x"});
        assert!(!sel.matches(labels.as_object()));
        let labels = json!({"app": "mc", "tier": "c", "team": "t"});
        assert!(!sel.matches(labels.as_object()));
        assert!(
            Selector::from_label_selector(
                &json!({"matchExpressions": [{"key": "a", "operator": "Gt"}]})
            )
            .is_none()
        );
    }

    #[test]
    fn namespaces_are_known_by_name_only() {
        let by_name =
            Selector::from_label_selector(&json!({"matchLabels": {NAMESPACE_NAME_LABEL: "shop"}}))
                .unwrap();
        assert_eq!(matches_namespace(&by_name, "shop"), Match::Yes);
        assert_eq!(matches_namespace(&by_name, "other"), Match::No);
        let by_team =
            Selector::from_label_selector(&json!({"matchLabels": {"team": "a"}})).unwrap();
        assert_eq!(matches_namespace(&by_team, "shop"), Match::Unknown);
        assert_eq!(matches_namespace(&Selector::default(), "any"), Match::Yes);
    }

    fn objects_of(text: &str) -> Vec<crate::manifest::Document> {
        let input = crate::manifest::Input {
            name: std::sync::Arc::from("t.yaml"),
            kind: crate::manifest::InputKind::Yaml,
            text: text.to_string(),
        };
        crate::manifest::parse_stream(&input)
    }

    const PODS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: a}
spec:
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: server, namespace: b}
spec:
  template:
    metadata: {labels: {app: server}}
    spec: {containers: [{name: s, ports: [{name: memcache, containerPort: 11211}]}]}
"#;

    /// Egress and ingress verdicts of client (ns a) -> server (ns b) on `port`.
    fn verdicts(policies_yaml: &str, port: i64) -> (bool, bool) {
        let docs = objects_of(&format!("{PODS}---\n{policies_yaml}"));
        let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
        let policies = policies(&objects);
        let (c, s) = (pod(&objects, 0).unwrap(), pod(&objects, 1).unwrap());
        let open = |d| {
            !matches!(
                decide(&policies, d, &c, &s, port, "TCP"),
                Verdict::Denied(_)
            )
        };
        (open(Direction::Egress), open(Direction::Ingress))
    }

    #[test]
    fn policy_types_default_to_ingress_plus_egress_when_egress_rules_exist() {
        // No policyTypes and no egress rules: ingress only, and it denies.
        let p = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}}\n";
        assert_eq!(verdicts(p, 11211), (true, true));
        // Egress rules without policyTypes select for egress.
        let p = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n";
        assert_eq!(verdicts(p, 11211), (false, true));
        // policyTypes [Egress] with no rules: deny all egress.
        let p = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n";
        assert_eq!(verdicts(p, 11211), (false, true));
    }

    #[test]
    fn peers_and_ports_decide_the_ingress() {
        let policy = |from: &str, ports: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: b}}\nspec:\n  podSelector: {{matchLabels: {{app: server}}}}\n  ingress: [{{from: [{from}], ports: [{ports}]}}]\n"
            )
        };
        let by_name = "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}, podSelector: {matchLabels: {app: client}}}";
        assert_eq!(
            verdicts(&policy(by_name, "{port: 11211}"), 11211),
            (true, true)
        );
        assert_eq!(
            verdicts(&policy(by_name, "{port: memcache}"), 11211),
            (true, true)
        );
        assert_eq!(
            verdicts(&policy(by_name, "{port: memcached}"), 11211),
            (true, false)
        );
        assert_eq!(
            verdicts(&policy(by_name, "{port: 11000, endPort: 11300}"), 11211),
            (true, true)
        );
        assert_eq!(
            verdicts(&policy(by_name, "{port: 11000, endPort: 11200}"), 11211),
            (true, false)
        );
        assert_eq!(
            verdicts(&policy(by_name, "{port: 11211, protocol: UDP}"), 11211),
            (true, false)
        );
        // A podSelector alone means the policy's own namespace (b): not the client.
        assert_eq!(
            verdicts(
                &policy(
                    "{podSelector: {matchLabels: {app: client}}}",
                    "{port: 11211}"
                ),
                11211
            ),
            (true, false)
        );
        // Both selectors in one peer must hold together.
        assert_eq!(
            verdicts(
                &policy(
                    "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}, podSelector: {matchLabels: {app: other}}}",
                    "{port: 11211}"
                ),
                11211
            ),
            (true, false)
        );
        // An ipBlock does not match a pod; another namespace label is unknown.
        assert_eq!(
            verdicts(
                &policy("{ipBlock: {cidr: 0.0.0.0/0}}", "{port: 11211}"),
                11211
            ),
            (true, false)
        );
        assert_eq!(
            verdicts(
                &policy(
                    "{namespaceSelector: {matchLabels: {team: a}}}",
                    "{port: 11211}"
                ),
                11211
            ),
            (true, false)
        );
        assert_eq!(
            verdicts(&policy("{namespaceSelector: {}}", "{port: 11211}"), 11211),
            (true, true)
        );
    }

    #[test]
    fn a_denial_says_why_each_rule_misses_and_what_is_unknown() {
        let docs = objects_of(&format!(
            "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: b}}\nspec:\n  podSelector: {{}}\n  ingress:\n    - from: [{{namespaceSelector: {{matchLabels: {{team: a}}}}}}, {{ipBlock: {{cidr: 10.0.0.0/8}}}}]\n    - ports: [{{port: 9150}}]\n"
        ));
        let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
        let policies = policies(&objects);
        let (c, s) = (pod(&objects, 0).unwrap(), pod(&objects, 1).unwrap());
        let Verdict::Denied(denial) = decide(&policies, Direction::Ingress, &c, &s, 11211, "TCP")
        else {
            panic!("not denied");
        };
        let misses = denial.misses;
        assert_eq!(misses.len(), 1);
        assert_eq!(misses[0].reference, "NetworkPolicy b/p");
        assert_eq!(
            misses[0].rules,
            [
                "ingress rule 1: its `from` peers do not match the source pod",
                "ingress rule 2: it allows 9150/TCP only",
            ]
        );
        assert_eq!(misses[0].notes.len(), 2, "{:?}", misses[0].notes);
    }

    #[test]
    fn a_pod_outside_the_rendering_is_known_by_its_namespace_only() {
        let docs = objects_of(&format!(
            "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{}}\n  egress:\n    - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: far}}}}, podSelector: {{matchLabels: {{app: mc}}}}}}]\n    - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: near}}}}}}]\n      ports: [{{port: 11211}}]\n"
        ));
        let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
        let policies = policies(&objects);
        let c = pod(&objects, 0).unwrap();
        let out = |ns| {
            decide(
                &policies,
                Direction::Egress,
                &c,
                &Pod::outside(ns),
                11211,
                "TCP",
            )
        };
        assert!(matches!(out("near"), Verdict::Allowed { rule: 1, .. }));
        let Verdict::Denied(far) = out("far") else {
            panic!()
        };
        assert!(far.undecided, "its pod labels are unknown");
        let Verdict::Denied(other) = out("other") else {
            panic!()
        };
        assert!(!other.undecided, "no rule names namespace `other`");
    }

    fn policy_doc(name: &str, ns: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}"
        )
    }

    #[test]
    fn grouping_keeps_apart_policies_that_select_differently() {
        // Objects 0 (client, a), 1 (server, b) and 2 (server, a): the same
        // labels in two namespaces.
        let text = format!(
            "{PODS}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: server, namespace: a}}\nspec:\n  template:\n    metadata: {{labels: {{app: server}}}}\n    spec: {{containers: [{{name: s}}]}}\n{}{}{}{}{}",
            // 3: b/server's ingress, open to every namespace.
            policy_doc(
                "open",
                "b",
                "  podSelector: {matchLabels: {app: server}}\n  ingress: [{from: [{namespaceSelector: {}}]}]\n"
            ),
            // 4: the same selector in namespace a, ingress denied.
            policy_doc(
                "closed",
                "a",
                "  podSelector: {matchLabels: {app: server}}\n  policyTypes: [Ingress]\n"
            ),
            // 5: the same selector and namespace as 3, for Egress only.
            policy_doc(
                "no-egress",
                "b",
                "  podSelector: {matchLabels: {app: server}}\n  policyTypes: [Egress]\n"
            ),
            // 6 and 7: one selector written two ways, ingress denied.
            policy_doc(
                "written-once",
                "b",
                "  podSelector: {matchLabels: {app: cache, tier: t}, matchExpressions: [{key: zone, operator: In, values: [x, z]}]}\n  policyTypes: [Ingress]\n"
            ),
            policy_doc(
                "written-twice",
                "b",
                "  podSelector: {matchExpressions: [{key: zone, operator: In, values: [z, x, z]}], matchLabels: {tier: t, app: cache}}\n  policyTypes: [Ingress]\n"
            ),
        );
        let docs = objects_of(&text);
        let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
        let policies = policies(&objects);
        assert_eq!(policies.len(), 5);
        let (client, b_server, a_server) = (
            pod(&objects, 0).unwrap(),
            pod(&objects, 1).unwrap(),
            pod(&objects, 2).unwrap(),
        );
        let denied_by = |v: Verdict| match v {
            Verdict::Denied(d) => (d.policies, d.misses[0].policy),
            other => panic!("not denied: {other:?}"),
        };
        // Namespace b's policy admits into b/server, not into a/server.
        assert!(matches!(
            decide(
                &policies,
                Direction::Ingress,
                &client,
                &b_server,
                11211,
                "TCP"
            ),
            Verdict::Allowed { policy: 3, rule: 0 }
        ));
        assert_eq!(
            denied_by(decide(
                &policies,
                Direction::Ingress,
                &client,
                &a_server,
                11211,
                "TCP"
            )),
            (1, 4)
        );
        // The Egress policy of the same selector denies b/server's egress
        // alone, and the Ingress ones do not count there.
        assert_eq!(
            denied_by(decide(
                &policies,
                Direction::Egress,
                &b_server,
                &client,
                80,
                "TCP"
            )),
            (1, 5)
        );
        assert!(matches!(
            decide(&policies, Direction::Egress, &a_server, &client, 80, "TCP"),
            Verdict::Unrestricted
        ));
        // A pod the selector written two ways selects: both policies deny it.
        let labelled = crate::json_value!({"app": "cache", "tier": "t", "zone": "z"});
        let tiered = Pod {
            labels: labelled.as_object(),
            ..b_server.clone()
        };
        assert_eq!(
            denied_by(decide(
                &policies,
                Direction::Ingress,
                &client,
                &tiered,
                11211,
                "TCP"
            )),
            (2, 6)
        );
        assert!(matches!(
            openness(&policies, &b_server, 11211, "TCP"),
            Openness::Rule { policy: 3, rule: 0 }
        ));
        assert!(matches!(
            openness(&policies, &a_server, 11211, "TCP"),
            Openness::Restricted
        ));
        assert!(policies.in_namespace("a") && !policies.in_namespace("c"));
        // The selector written two ways is one group; nothing else merged.
        assert_eq!(policies.groups.len(), 4, "{:?}", policies.groups);
    }

    /// A small deterministic generator, so that a failure can be replayed.
    struct Lcg(u64);

    impl Lcg {
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            of[(self.0 >> 33) as usize % of.len()]
        }
    }

    /// Whether `to`'s port admits every source, by a scan of every policy.
    fn openness_by_scan(policies: &Policies, to: &Pod, port: i64, protocol: &str) -> String {
        let mut selecting = policies
            .iter()
            .filter(|p| p.selects(to, Direction::Ingress))
            .peekable();
        if selecting.peek().is_none() {
            return format!("{:?}", Openness::NoPolicy);
        }
        for p in selecting {
            for (n, rule) in p.ingress_rules.iter().enumerate() {
                let port_ok = rule.ports.is_empty()
                    || rule
                        .ports
                        .iter()
                        .any(|q| port_covers(q, to, port, protocol) == Ok(true));
                if port_ok && (rule.peers.is_empty() || rule.peers.iter().any(Peer::everyone)) {
                    return format!(
                        "{:?}",
                        Openness::Rule {
                            policy: p.object,
                            rule: n
                        }
                    );
                }
            }
        }
        format!("{:?}", Openness::Restricted)
    }

    #[test]
    fn the_index_decides_as_a_scan_of_every_policy_does() {
        const SELECTORS: &[&str] = &[
            "{}",
            "{matchLabels: {app: web}}",
            "{matchLabels: {app: mc}}",
            "{matchLabels: {tier: cache}}",
            "{matchLabels: {app: mc, tier: cache}}",
            "{matchExpressions: [{key: app, operator: In, values: [web, mc]}]}",
            "{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}",
            "{matchExpressions: [{key: tier, operator: Exists}]}",
            "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
        ];
        const NAMESPACES: &[&str] = &["a", "b"];
        const PORTS: &[&str] = &[
            "{port: 11211}",
            "{port: memcache}",
            "{port: other}",
            "{port: 11000, endPort: 11300}",
            "{port: 11211, protocol: UDP}",
            "{protocol: TCP}",
            "{port: \"11211\"}",
            "{port: 80}",
        ];
        let mut rng = Lcg(15);
        let mut compared = 0;
        for round in 0..40 {
            let mut text = String::new();
            let pods = 8;
            for i in 0..pods {
                let labels = rng.pick(&[
                    "{app: web}",
                    "{app: mc, tier: cache}",
                    "{app: mc}",
                    "{tier: cache}",
                    "{}",
                ]);
                text.push_str(&format!(
                    "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: s{i}, namespace: {}}}\nspec:\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: c, ports: [{{name: memcache, containerPort: {}}}]}}]}}\n",
                    rng.pick(NAMESPACES),
                    rng.pick(&["11211", "11212"]),
                ));
            }
            for j in 0..10 {
                let mut spec = format!("  podSelector: {}\n", rng.pick(SELECTORS));
                let types = rng.pick(&["", "[Ingress]", "[Egress]", "[Ingress, Egress]"]);
                if !types.is_empty() {
                    spec.push_str(&format!("  policyTypes: {types}\n"));
                }
                for (field, peers) in [("ingress", "from"), ("egress", "to")] {
                    let rules = rng.pick(&["0", "1", "1", "2", "3", "6", "none"]);
                    let Ok(rules) = rules.parse::<usize>() else {
                        continue;
                    };
                    let mut written = Vec::new();
                    for _ in 0..rules {
                        let mut parts = Vec::new();
                        if rng.pick(&["y", "y", "y", "n"]) == "y" {
                            let count = rng.pick(&["0", "1", "2", "3"]).parse().unwrap();
                            let listed: Vec<String> = (0..count)
                                .map(|_| match rng.pick(&["pods", "pods", "ns-pods", "ns", "labels", "ip", "all"]) {
                                    "pods" => format!("{{podSelector: {}}}", rng.pick(SELECTORS)),
                                    "ns-pods" => format!(
                                        "{{namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {}}}}}, podSelector: {}}}",
                                        rng.pick(NAMESPACES),
                                        rng.pick(SELECTORS)
                                    ),
                                    "ns" => format!(
                                        "{{namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {}}}}}}}",
                                        rng.pick(NAMESPACES)
                                    ),
                                    "labels" => format!(
                                        "{{namespaceSelector: {{matchLabels: {{team: x}}}}, podSelector: {}}}",
                                        rng.pick(SELECTORS)
                                    ),
                                    "ip" => format!("{{ipBlock: {{cidr: {}}}}}", rng.pick(&["0.0.0.0/0", "10.0.0.0/8"])),
                                    _ => "{namespaceSelector: {}}".to_string(),
                                })
                                .collect();
                            parts.push(format!("{peers}: [{}]", listed.join(", ")));
                        }
                        if rng.pick(&["y", "y", "n"]) == "y" {
                            let count = rng.pick(&["0", "1", "2", "3"]).parse().unwrap();
                            let listed: Vec<&str> = (0..count).map(|_| rng.pick(PORTS)).collect();
                            parts.push(format!("ports: [{}]", listed.join(", ")));
                        }
                        written.push(format!("{{{}}}", parts.join(", ")));
                    }
                    spec.push_str(&format!("  {field}: [{}]\n", written.join(", ")));
                }
                text.push_str(&policy_doc(&format!("p{j}"), rng.pick(NAMESPACES), &spec));
            }
            let docs = objects_of(&text);
            let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
            let policies = policies(&objects);
            assert_eq!(policies.len(), 10, "round {round}:\n{text}");
            let all: Vec<Pod> = (0..pods).map(|i| pod(&objects, i).unwrap()).collect();
            for from in &all {
                for to in &all {
                    for port in [11211, 11212, 80, 9150] {
                        for protocol in ["TCP", "UDP"] {
                            for dir in [Direction::Ingress, Direction::Egress] {
                                let subject = if dir == Direction::Egress { from } else { to };
                                let peer = if dir == Direction::Egress { to } else { from };
                                let groups = policies.selecting(subject, dir);
                                let scan: Vec<usize> = policies
                                    .iter()
                                    .filter(|p| p.selects(subject, dir))
                                    .map(|p| p.object)
                                    .collect();
                                let grouped: Vec<usize> = groups
                                    .iter()
                                    .flat_map(|&g| policies.groups[g].policies.iter())
                                    .map(|&p| policies.list[p].object)
                                    .collect::<std::collections::BTreeSet<_>>()
                                    .into_iter()
                                    .collect();
                                assert_eq!(grouped, scan, "round {round}:\n{text}");
                                if groups.is_empty() {
                                    continue;
                                }
                                let indexed =
                                    policies.decide_indexed(&groups, dir, peer, to, port, protocol);
                                let scanned =
                                    policies.decide_scan(&groups, dir, peer, to, port, protocol);
                                assert_eq!(
                                    format!("{indexed:?}"),
                                    format!("{scanned:?}"),
                                    "round {round}, {dir:?} {} -> {}:{port}/{protocol}:\n{text}",
                                    from.object,
                                    to.object
                                );
                                compared += 1;
                            }
                        }
                    }
                    assert_eq!(
                        format!("{:?}", openness(&policies, to, 11211, "TCP")),
                        openness_by_scan(&policies, to, 11211, "TCP"),
                        "round {round}:\n{text}"
                    );
                }
            }
        }
        assert!(compared > 5_000, "{compared}");
    }

    #[test]
    fn a_policy_with_thousands_of_ports_and_rules_is_described_briefly() {
        let ports: Vec<String> = (0..5000)
            .map(|i| format!("{{port: {}}}", 20000 + i))
            .collect();
        let peers: Vec<String> = (0..5000)
            .map(|i| format!("{{podSelector: {{matchLabels: {{app: x{i}}}}}}}"))
            .collect();
        let rule = format!(
            "{{from: [{}], ports: [{}]}}",
            peers.join(", "),
            ports.join(", ")
        );
        let rules = [rule.as_str(); 10].join(", ");
        let docs = objects_of(&format!(
            "{PODS}{}",
            policy_doc(
                "wide",
                "b",
                &format!("  podSelector: {{}}\n  ingress: [{rules}]\n")
            )
        ));
        let objects: Vec<Object> = docs.iter().flat_map(crate::manifest::objects_in).collect();
        let policies = policies(&objects);
        let (c, s) = (pod(&objects, 0).unwrap(), pod(&objects, 1).unwrap());
        let Verdict::Denied(denial) = decide(&policies, Direction::Ingress, &c, &s, 11211, "TCP")
        else {
            panic!("not denied");
        };
        let miss = &denial.misses[0];
        assert_eq!((miss.rules.len(), miss.rule_count), (DETAILED_RULES, 10));
        assert!(
            miss.rules[0].starts_with("ingress rule 1: it allows 20000/TCP, 20001/TCP")
                && miss.rules[0]
                    .contains("20007/TCP and 4992 more ports only and its `from` peers"),
            "{}",
            miss.rules[0]
        );
        assert!(miss.rules.iter().all(|r| r.len() < 300), "{miss:?}");
        // The last port of the range, from a pod one of the peers names.
        let x = crate::json_value!({"app": "x4999"});
        let named = Pod {
            labels: x.as_object(),
            namespace: "b",
            ..c.clone()
        };
        assert!(matches!(
            decide(&policies, Direction::Ingress, &named, &s, 24999, "TCP"),
            Verdict::Allowed { rule: 0, .. }
        ));
        assert!(matches!(
            decide(&policies, Direction::Ingress, &named, &s, 25000, "TCP"),
            Verdict::Denied(_)
        ));
    }
}
