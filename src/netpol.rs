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

use crate::json::{Map, Value};

use crate::k8s;
use crate::manifest::Object;

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
}

/// A rule of a policy, its peers parsed once.
#[derive(Debug, Clone)]
struct PolicyRule<'o> {
    /// `ports` (empty: every port).
    ports: &'o [Value],
    /// `from` / `to` (empty: every source or destination).
    peers: Vec<Peer>,
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
        .map(|rule| PolicyRule {
            ports: rule
                .get("ports")
                .and_then(Value::as_array)
                .unwrap_or(&[][..]),
            peers: rule
                .get(dir.peers())
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(Peer::parse)
                .collect(),
        })
        .collect()
}

/// Every well-formed NetworkPolicy of the rendering.
pub fn policies<'o>(objects: &'o [Object]) -> Vec<Policy<'o>> {
    objects
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
            Some(Policy {
                object: i,
                namespace: o.effective_namespace(),
                name: &o.name,
                pod_selector,
                ingress,
                egress,
                explicit_types,
                ingress_rules: parse_rules(spec, Direction::Ingress),
                egress_rules: parse_rules(spec, Direction::Egress),
            })
        })
        .collect()
}

impl Policy<'_> {
    /// Whether this policy selects `pod` for `dir`.
    pub fn selects(&self, pod: &Pod, dir: Direction) -> bool {
        let typed = match dir {
            Direction::Ingress => self.ingress,
            Direction::Egress => self.egress,
        };
        typed && self.namespace == pod.namespace && self.pod_selector.matches(pod.labels)
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
    /// Why each of its rules misses (empty: it has no rule for the direction).
    pub rules: Vec<String>,
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

/// Whether a peer of a policy in `policy_ns` matches `pod`, with a note when
/// the rendering cannot tell.
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
    policies: &[Policy],
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
    let mut denial = Denial {
        misses: Vec::new(),
        policies: 0,
        undecided: false,
    };
    for p in policies.iter().filter(|p| p.selects(subject, dir)) {
        let detailed = denial.misses.len() < DETAILED_MISSES;
        let mut rules = Vec::new();
        let mut notes: Vec<Note> = Vec::new();
        for (n, rule) in p.rules(dir).iter().enumerate() {
            let mut unresolved = Vec::new();
            let port_ok = rule.ports.is_empty()
                || rule
                    .ports
                    .iter()
                    .any(|q| match port_covers(q, to, port, protocol) {
                        Ok(ok) => ok,
                        Err(name) => {
                            denial.undecided |= !to.known;
                            unresolved.push(name);
                            false
                        }
                    });
            let mut peer_ok = rule.peers.is_empty();
            for q in &rule.peers {
                let (ok, note) = peer_matches(q, p.namespace, peer);
                peer_ok |= ok;
                if let Some(note) = note {
                    denial.undecided = true;
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
            }
            if port_ok && peer_ok {
                return Verdict::Allowed {
                    policy: p.object,
                    rule: n,
                };
            }
            if !detailed {
                continue;
            }
            let mut why = Vec::new();
            if !port_ok {
                let listed: Vec<String> = rule.ports.iter().map(describe_port).collect();
                let mut s = format!("it allows {} only", listed.join(", "));
                for name in unresolved {
                    s.push_str(&if to.known {
                        format!(" (its port `{name}` names no {protocol} container port of the destination pod)")
                    } else {
                        format!(" (its port `{name}` cannot be resolved: the destination pod is not in the rendering)")
                    });
                }
                why.push(s);
            }
            if !peer_ok {
                why.push(format!(
                    "its `{}` peers do not match the {} pod",
                    dir.peers(),
                    match dir {
                        Direction::Ingress => "source",
                        Direction::Egress => "destination",
                    }
                ));
            }
            rules.push(format!(
                "{} rule {}: {}",
                dir.field(),
                n + 1,
                why.join(" and ")
            ));
        }
        denial.policies += 1;
        if detailed {
            denial.misses.push(Miss {
                policy: p.object,
                reference: p.reference(),
                rules,
                notes: notes.iter().map(|n| n.describe(peer)).collect(),
            });
        }
    }
    if denial.policies == 0 {
        Verdict::Unrestricted
    } else {
        Verdict::Denied(denial)
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
pub fn openness(policies: &[Policy], to: &Pod, port: i64, protocol: &str) -> Openness {
    let selecting: Vec<&Policy> = policies
        .iter()
        .filter(|p| p.selects(to, Direction::Ingress))
        .collect();
    if selecting.is_empty() {
        return Openness::NoPolicy;
    }
    for p in selecting {
        for (n, rule) in p.rules(Direction::Ingress).iter().enumerate() {
            let port_ok = rule.ports.is_empty()
                || rule
                    .ports
                    .iter()
                    .any(|q| port_covers(q, to, port, protocol) == Ok(true));
            if port_ok && (rule.peers.is_empty() || rule.peers.iter().any(Peer::everyone)) {
                return Openness::Rule {
                    policy: p.object,
                    rule: n,
                };
            }
        }
    }
    Openness::Restricted
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
}
