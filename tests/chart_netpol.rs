//! The chart's NetworkPolicies, judged by what they let through: every mode
//! is rendered, the pods it runs (plus a few bystanders: a pod of another app
//! in the release namespace, a pod in another namespace, a Prometheus, the
//! cluster DNS) are taken with their labels and ports, and each connection is
//! decided the way Kubernetes does (a pod selected by a policy of a type
//! admits only what one of those policies' rules allows; peers match pods by
//! `podSelector` in the policy's namespace, by `namespaceSelector` on the
//! namespace's labels, or both).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use mclint::check::{CheckOptions, check};
use mclint::manifest::{Input, InputKind, as_object, objects_in, parse_stream};
use mclint::netpol::{self, Direction};
use serde_json::Value;
use support::*;

const NS: &str = "shop";

#[derive(Clone, Debug)]
struct Pod {
    what: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    /// (name, number) of each container port.
    ports: Vec<(String, u64)>,
}

impl Pod {
    fn bystander(what: &str, namespace: &str, labels: &[(&str, &str)], ports: &[u64]) -> Pod {
        Pod {
            what: what.into(),
            namespace: namespace.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: ports.iter().map(|p| (String::new(), *p)).collect(),
        }
    }

    fn component(&self) -> &str {
        self.labels
            .get("app.kubernetes.io/component")
            .map_or("", String::as_str)
    }
}

struct Rendering {
    pods: Vec<Pod>,
    policies: Vec<Value>,
    /// The rendered text, for mclint's own evaluator.
    text: String,
}

fn render(args: &[&str]) -> Rendering {
    let text = helm_template("rel", NS, args);
    let input = Input {
        name: Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.clone(),
    };
    let objects: Vec<Value> = parse_stream(&input)
        .iter()
        .filter_map(|d| as_object(d)?.ok())
        .map(|o| o.json.to_serde())
        .collect();
    let mut pods = Vec::new();
    for o in &objects {
        let (meta, spec, replicas) = match o["kind"].as_str().unwrap() {
            "Pod" => (&o["metadata"], &o["spec"], 1),
            "StatefulSet" | "Deployment" => (
                &o["spec"]["template"]["metadata"],
                &o["spec"]["template"]["spec"],
                o["spec"]["replicas"].as_u64().unwrap_or(1),
            ),
            // Two nodes' worth of proxies.
            "DaemonSet" => (
                &o["spec"]["template"]["metadata"],
                &o["spec"]["template"]["spec"],
                2,
            ),
            _ => continue,
        };
        let labels: BTreeMap<String, String> = meta["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let ports = ["initContainers", "containers"]
            .iter()
            .flat_map(|k| spec[*k].as_array().into_iter().flatten())
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or("").to_string(),
                    p["containerPort"].as_u64().unwrap(),
                )
            })
            .collect();
        for i in 0..replicas {
            pods.push(Pod {
                what: format!(
                    "{} {}#{i}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                namespace: o["metadata"]["namespace"].as_str().unwrap().to_string(),
                labels: labels.clone(),
                ports: Vec::clone(&ports),
            });
        }
    }
    let policies = objects
        .into_iter()
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    Rendering {
        pods,
        policies,
        text,
    }
}

fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if let Some(m) = selector["matchLabels"].as_object() {
        for (k, v) in m {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let got = labels.get(key).map(String::as_str);
        let ok = match e["operator"].as_str().unwrap() {
            "In" => got.is_some_and(|g| values.contains(&g)),
            "NotIn" => got.is_none_or(|g| !values.contains(&g)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            other => panic!("operator {other}"),
        };
        if !ok {
            return false;
        }
    }
    true
}

fn namespace_labels(ns: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])
}

/// Whether a peer of a policy in `policy_ns` matches `pod`.
fn peer_matches(peer: &Value, policy_ns: &str, pod: &Pod) -> bool {
    if !peer["ipBlock"].is_null() {
        return false; // pod traffic is judged by selectors
    }
    let ns_ok = match peer.get("namespaceSelector") {
        Some(s) => selector_matches(s, &namespace_labels(&pod.namespace)),
        None => pod.namespace == policy_ns,
    };
    let pod_ok = peer
        .get("podSelector")
        .is_none_or(|s| selector_matches(s, &pod.labels));
    ns_ok && pod_ok
}

/// Whether a rule's `ports` cover `port`/`protocol` on `target` (a named port
/// resolves through the target pod's container ports).
fn ports_match(ports: &Value, target: &Pod, port: u64, protocol: &str) -> bool {
    let Some(list) = ports.as_array() else {
        return true;
    };
    if list.is_empty() {
        return true;
    }
    list.iter().any(|p| {
        let proto = p["protocol"].as_str().unwrap_or("TCP");
        if proto != protocol {
            return false;
        }
        match &p["port"] {
            Value::Null => true,
            Value::Number(n) => {
                let n = n.as_u64().unwrap();
                let end = p["endPort"].as_u64().unwrap_or(n);
                (n..=end).contains(&port)
            }
            Value::String(name) => target
                .ports
                .iter()
                .any(|(pn, pp)| pn == name && *pp == port),
            other => panic!("port {other}"),
        }
    })
}

fn selects(policy: &Value, pod: &Pod, kind: &str) -> bool {
    policy["metadata"]["namespace"] == pod.namespace.as_str()
        && selector_matches(&policy["spec"]["podSelector"], &pod.labels)
        && policy["spec"]["policyTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == kind)
}

impl Rendering {
    /// Ingress side: may `from` open `port` on `to`?
    fn admits(&self, from: &Pod, to: &Pod, port: u64, protocol: &str) -> bool {
        let selecting: Vec<&Value> = self
            .policies
            .iter()
            .filter(|p| selects(p, to, "Ingress"))
            .collect();
        selecting.is_empty()
            || selecting.iter().any(|p| {
                let ns = p["metadata"]["namespace"].as_str().unwrap();
                p["spec"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|rule| {
                        ports_match(&rule["ports"], to, port, protocol)
                            && rule["from"].as_array().is_none_or(|peers| {
                                peers.is_empty() || peers.iter().any(|q| peer_matches(q, ns, from))
                            })
                    })
            })
    }

    /// Egress side: may `from` send to `port` on `to`?
    fn lets_out(&self, from: &Pod, to: &Pod, port: u64, protocol: &str) -> bool {
        let selecting: Vec<&Value> = self
            .policies
            .iter()
            .filter(|p| selects(p, from, "Egress"))
            .collect();
        selecting.is_empty()
            || selecting.iter().any(|p| {
                let ns = p["metadata"]["namespace"].as_str().unwrap();
                p["spec"]["egress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|rule| {
                        ports_match(&rule["ports"], to, port, protocol)
                            && rule["to"].as_array().is_none_or(|peers| {
                                peers.is_empty() || peers.iter().any(|q| peer_matches(q, ns, to))
                            })
                    })
            })
    }

    /// Both ends agree.
    fn connects(&self, from: &Pod, to: &Pod, port: u64) -> bool {
        self.lets_out(from, to, port, "TCP") && self.admits(from, to, port, "TCP")
    }

    fn with(&self, component: &str) -> Vec<&Pod> {
        self.pods
            .iter()
            .filter(|p| p.component() == component)
            .collect()
    }
}

struct Bystanders {
    neighbour: Pod,
    stranger: Pod,
    prometheus: Pod,
    dns: Pod,
}

fn bystanders() -> Bystanders {
    Bystanders {
        neighbour: Pod::bystander("another app in the namespace", NS, &[("app", "other")], &[]),
        stranger: Pod::bystander(
            "a pod in another namespace",
            "elsewhere",
            &[("app", "x")],
            &[443],
        ),
        prometheus: Pod::bystander("prometheus", "monitoring", &[("app", "prometheus")], &[]),
        dns: Pod::bystander(
            "cluster DNS",
            "kube-system",
            &[("k8s-app", "kube-dns")],
            &[53],
        ),
    }
}

const APP: &str = "app.containers[0].name=app,app.containers[0].image=nginx:1.27";

/// What every mode must let through and keep out.
fn check_mode(label: &str, r: &Rendering, mode: &str) -> Vec<String> {
    let b = bystanders();
    let mut bad = Vec::new();
    let mut expect = |ok: bool, want: bool, what: String| {
        if ok != want {
            bad.push(format!(
                "{label}: {what}: {}",
                if want { "blocked" } else { "let through" }
            ));
        }
    };
    let caches = r.with("cache");
    let proxies = r.with("proxy");
    let apps = r.with("app");
    let tests = r.with("test");
    assert!(!caches.is_empty() && tests.len() == 1, "{label}");
    let test = tests[0];
    let cache_port = caches[0]
        .ports
        .iter()
        .find(|(n, _)| n == "memcache")
        .unwrap()
        .1;
    let daemonset = mode == "daemonset" || mode == "replicated-sharded";
    let sidecar = mode == "sidecar" || mode == "sidecar-failover";
    assert_eq!(!proxies.is_empty(), daemonset, "{label}");
    assert_eq!(!apps.is_empty(), sidecar, "{label}");

    for c in &caches {
        for p in &proxies {
            expect(
                r.connects(p, c, cache_port),
                true,
                format!("{} -> {}", p.what, c.what),
            );
            expect(
                r.connects(p, c, 9999),
                false,
                format!("{} -> {}:9999", p.what, c.what),
            );
        }
        for a in &apps {
            expect(
                r.connects(a, c, cache_port),
                true,
                format!("{} -> {}", a.what, c.what),
            );
        }
        // The test pod reaches the cache itself unless it tests a proxy
        // DaemonSet.
        expect(
            r.connects(test, c, cache_port),
            !daemonset,
            format!("test -> {}", c.what),
        );
        expect(
            r.connects(&b.stranger, c, cache_port),
            false,
            format!("{} -> {}", b.stranger.what, c.what),
        );
        expect(
            r.connects(&b.neighbour, c, cache_port),
            mode == "cache",
            format!("{} -> {}", b.neighbour.what, c.what),
        );
        expect(
            r.connects(&b.prometheus, c, cache_port),
            false,
            format!("prometheus -> {} memcache port", c.what),
        );
        if let Some((_, metrics)) = c.ports.iter().find(|(n, _)| n == "metrics") {
            expect(
                r.connects(&b.prometheus, c, *metrics),
                true,
                format!("prometheus -> {} metrics port", c.what),
            );
        }
    }
    for p in &proxies {
        let port = p.ports.iter().find(|(n, _)| n == "proxy").unwrap().1;
        expect(
            r.connects(test, p, port),
            true,
            format!("test -> {}", p.what),
        );
        expect(
            r.connects(&b.neighbour, p, port),
            true,
            format!("{} -> {}", b.neighbour.what, p.what),
        );
        expect(
            r.connects(&b.stranger, p, port),
            false,
            format!("{} -> {}", b.stranger.what, p.what),
        );
        expect(
            r.connects(&b.neighbour, p, 22),
            false,
            format!("-> {}:22", p.what),
        );
        expect(
            r.lets_out(p, &b.dns, 53, "UDP"),
            true,
            format!("{} -> DNS", p.what),
        );
        expect(
            r.lets_out(p, &b.stranger, 443, "TCP"),
            false,
            format!("{} -> {}:443", p.what, b.stranger.what),
        );
    }
    // The app pods: no Service in these cases, so nothing gets in; the app
    // is the user's, so everything gets out by default.
    for a in &apps {
        for from in [&b.stranger, &b.neighbour, test] {
            expect(
                r.connects(from, a, 8080),
                false,
                format!("{} -> {}:8080", from.what, a.what),
            );
        }
        expect(
            r.lets_out(a, &b.dns, 53, "UDP"),
            true,
            format!("{} -> DNS", a.what),
        );
        expect(
            r.lets_out(a, &b.stranger, 443, "TCP"),
            true,
            format!("{} -> {}:443", a.what, b.stranger.what),
        );
    }
    // The test pod: nothing gets in; out only to what it tests and DNS.
    for from in [&b.stranger, &b.neighbour] {
        expect(
            r.admits(from, test, 8080, "TCP"),
            false,
            format!("{} -> test", from.what),
        );
    }
    expect(
        r.lets_out(test, &b.dns, 53, "UDP"),
        true,
        "test -> DNS".into(),
    );
    expect(
        r.lets_out(test, &b.stranger, 443, "TCP"),
        false,
        format!("test -> {}:443", b.stranger.what),
    );
    // Every pod the rendering runs is selected by one of its policies
    // (checkov's CKV2_K8S_6).
    for p in &r.pods {
        if !r.policies.iter().any(|pol| selects(pol, p, "Ingress")) {
            bad.push(format!("{label}: {} has no NetworkPolicy", p.what));
        }
    }
    // Every policy selects pods the rendering has, and every port it opens
    // is a port of one of them.
    for policy in &r.policies {
        let name = policy["metadata"]["name"].as_str().unwrap();
        let selected: Vec<&Pod> = r
            .pods
            .iter()
            .filter(|p| selects(policy, p, "Ingress"))
            .collect();
        if selected.is_empty() {
            bad.push(format!("{label}: {name} selects no pod"));
        }
        for rule in policy["spec"]["ingress"].as_array().into_iter().flatten() {
            for port in rule["ports"].as_array().into_iter().flatten() {
                let n = port["port"].as_u64().unwrap();
                if !selected
                    .iter()
                    .any(|p| p.ports.iter().any(|(_, pp)| *pp == n))
                {
                    bad.push(format!(
                        "{label}: {name} opens {n}, which no selected pod has"
                    ));
                }
            }
        }
    }
    bad
}

/// (label, helm arguments, mode): every ci/ file, alone and with metrics, and
/// every mode from the defaults.
fn cases() -> Vec<(String, Vec<String>, String)> {
    let ci = repo().join("charts/distributed-memcached/ci");
    let mut files: Vec<_> = std::fs::read_dir(&ci)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut cases: Vec<(String, Vec<String>, String)> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mode = text
            .lines()
            .find_map(|l| l.strip_prefix("mode: "))
            .unwrap()
            .trim()
            .to_string();
        cases.push((
            f.file_name().unwrap().to_string_lossy().into_owned(),
            vec!["-f".into(), f.display().to_string()],
            mode.clone(),
        ));
        cases.push((
            format!("{} + metrics", f.file_name().unwrap().to_string_lossy()),
            vec![
                "-f".into(),
                f.display().to_string(),
                "--set".into(),
                "metrics.enabled=true".into(),
            ],
            mode,
        ));
    }
    for mode in [
        "cache",
        "daemonset",
        "sidecar",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        cases.push((
            format!("--set mode={mode}"),
            vec![
                "--set".into(),
                format!("mode={mode}"),
                "--set".into(),
                APP.into(),
            ],
            mode.to_string(),
        ));
    }
    cases
}

#[test]
fn every_mode_lets_its_own_paths_through_and_keeps_others_out() {
    let cases = cases();
    assert!(cases.len() >= 15);
    let mut bad = Vec::new();
    for (label, args, mode) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = render(&argv);
        assert!(!r.policies.is_empty(), "{label}: no NetworkPolicy");
        bad.extend(check_mode(label, &r, mode));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn allow_lists_from_values_replace_the_namespace_default() {
    let r = render(&[
        "--set",
        "mode=daemonset,metrics.enabled=true",
        "--set-json",
        r#"networkPolicy.allowFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"clients"}}}]"#,
        "--set-json",
        r#"networkPolicy.metrics.allowFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}},"podSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["prometheus"]}]}}]"#,
        "--set-json",
        r#"networkPolicy.cache.allowFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"other"}},"podSelector":{"matchLabels":{"app.kubernetes.io/component":"proxy"}}}]"#,
    ]);
    let b = bystanders();
    let client = Pod::bystander("client", "clients", &[("app", "web")], &[]);
    let grafana = Pod::bystander("grafana", "monitoring", &[("app", "grafana")], &[]);
    let foreign_proxy = Pod::bystander(
        "another release's proxy",
        "other",
        &[("app.kubernetes.io/component", "proxy")],
        &[],
    );
    let proxy = r.with("proxy")[0];
    let cache = r.with("cache")[0];
    let test = r.with("test")[0];
    assert!(r.connects(&client, proxy, 11211));
    assert!(
        !r.connects(&b.neighbour, proxy, 11211),
        "the namespace default is gone"
    );
    assert!(r.connects(test, proxy, 11211), "helm test always gets in");
    assert!(r.connects(&b.prometheus, cache, 9150));
    assert!(!r.connects(&grafana, cache, 9150));
    assert!(!r.connects(&b.prometheus, cache, 11211));
    assert!(r.connects(&foreign_proxy, cache, 11211));
    assert!(!r.connects(&foreign_proxy, cache, 9150));
    assert!(!r.connects(&client, cache, 11211));

    // A LoadBalancer's source ranges are admitted to the proxies.
    let r = render(&[
        "--set",
        "mode=daemonset,proxy.service.type=LoadBalancer",
        "--set",
        "proxy.service.loadBalancerSourceRanges={10.0.0.0/8,192.168.1.0/24}",
    ]);
    let policy = r
        .policies
        .iter()
        .find(|p| p["metadata"]["name"] == "rel-distributed-memcached-proxy")
        .unwrap();
    let cidrs: Vec<&str> = policy["spec"]["ingress"][0]["from"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["ipBlock"]["cidr"].as_str())
        .collect();
    assert_eq!(cidrs, ["10.0.0.0/8", "192.168.1.0/24"]);

    // An empty metrics list closes the exporter port.
    let r = render(&[
        "--set",
        "metrics.enabled=true",
        "--set-json",
        "networkPolicy.metrics.allowFrom=[]",
    ]);
    let cache = r.with("cache")[0];
    assert!(!r.connects(&b.prometheus, cache, 9150));
}

#[test]
fn app_pods_admit_what_their_service_exposes_and_reach_what_values_say() {
    let b = bystanders();
    let client = Pod::bystander("client", "clients", &[("app", "web")], &[]);
    let base = [
        "--set",
        "mode=sidecar",
        "--set",
        APP,
        "--set",
        "app.containers[0].ports[0].name=http,app.containers[0].ports[0].containerPort=8080",
    ];
    let with = |extra: &[&str]| {
        let mut argv = base.to_vec();
        argv.extend_from_slice(extra);
        let r = render(&argv);
        assert_eq!(netpol_findings(&r.text), [], "{extra:?}");
        r
    };

    // The Service's target port (by name here) from `networkPolicy.allowFrom`.
    let service = [
        "--set",
        "app.service.enabled=true",
        "--set-json",
        r#"app.service.ports=[{"name":"web","port":80,"targetPort":"http"}]"#,
    ];
    let r = with(&service);
    let app = r.with("app")[0];
    assert!(r.connects(&b.neighbour, app, 8080));
    assert!(
        !r.connects(&b.neighbour, app, 80),
        "the Service port is not the pod's"
    );
    assert!(!r.connects(&b.stranger, app, 8080));
    let mut argv = service.to_vec();
    argv.extend([
        "--set-json",
        r#"networkPolicy.allowFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"clients"}}}]"#,
    ]);
    let r = with(&argv);
    let app = r.with("app")[0];
    assert!(r.connects(&client, app, 8080));
    assert!(!r.connects(&b.neighbour, app, 8080));

    // A port number without `targetPort`, and a protocol.
    let r = with(&[
        "--set",
        "app.service.enabled=true",
        "--set-json",
        r#"app.service.ports=[{"port":9000,"protocol":"UDP"}]"#,
    ]);
    let app = r.with("app")[0];
    assert!(r.admits(&b.neighbour, app, 9000, "UDP"));
    assert!(!r.admits(&b.neighbour, app, 9000, "TCP"));

    // Rules of one's own replace the Service's; `[]` admits nothing.
    let mut argv = service.to_vec();
    argv.extend([
        "--set-json",
        r#"networkPolicy.app.ingress=[{"ports":[{"port":9100}]}]"#,
    ]);
    let r = with(&argv);
    let app = r.with("app")[0];
    assert!(r.connects(&b.stranger, app, 9100));
    assert!(!r.connects(&b.neighbour, app, 8080));
    let mut argv = service.to_vec();
    argv.extend(["--set-json", "networkPolicy.app.ingress=[]"]);
    let r = with(&argv);
    let app = r.with("app")[0];
    assert!(!r.connects(&b.neighbour, app, 8080));

    // Egress: anywhere by default; with the extra rules emptied, the cache
    // pods and DNS only; or those plus the rules listed.
    let r = with(&[]);
    let (app, cache) = (r.with("app")[0], r.with("cache")[0]);
    assert!(r.lets_out(app, &b.stranger, 443, "TCP"));
    let r = with(&["--set-json", "networkPolicy.app.egress=[]"]);
    let (app, cache2) = (r.with("app")[0], r.with("cache")[0]);
    assert!(!r.lets_out(app, &b.stranger, 443, "TCP"));
    assert!(r.lets_out(app, &b.dns, 53, "UDP"));
    assert!(r.connects(app, cache2, 11211));
    assert!(!r.connects(app, cache2, 9999));
    let r = with(&[
        "--set-json",
        r#"networkPolicy.app.egress=[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"elsewhere"}}}],"ports":[{"port":443}]}]"#,
    ]);
    let app = r.with("app")[0];
    assert!(r.lets_out(app, &b.stranger, 443, "TCP"));
    assert!(!r.lets_out(app, &b.stranger, 80, "TCP"));
    assert!(!r.lets_out(app, &b.neighbour, 443, "TCP"));
    assert!(r.connects(app, cache, 11211));
}

#[test]
fn proxies_of_an_external_cache_reach_its_namespace_only() {
    let r = render(&[
        "--set",
        "mode=daemonset,cache.enabled=false,externalCache.statefulSetName=mc,externalCache.serviceName=mc,externalCache.namespace=cache,externalCache.replicas=3,externalCache.port=11311",
    ]);
    assert!(r.with("cache").is_empty());
    let proxy = r.with("proxy")[0];
    let there = Pod::bystander("external cache pod", "cache", &[("app", "mc")], &[11311]);
    let here = Pod::bystander(
        "a pod of the release namespace",
        NS,
        &[("app", "mc")],
        &[11311],
    );
    assert!(r.lets_out(proxy, &there, 11311, "TCP"));
    assert!(!r.lets_out(proxy, &there, 11211, "TCP"));
    assert!(!r.lets_out(proxy, &here, 11311, "TCP"));
    let names: Vec<&str> = r
        .policies
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rel-distributed-memcached-proxy",
            "rel-distributed-memcached-test"
        ],
        "no cache policy without a cache"
    );

    // mclint judges the proxy's egress to that namespace: clean as rendered,
    // an error once the policy names another namespace.
    let text = helm_template(
        "rel",
        NS,
        &[
            "--set",
            "mode=daemonset,cache.enabled=false,externalCache.statefulSetName=mc,externalCache.serviceName=mc,externalCache.namespace=cache,externalCache.replicas=3,externalCache.port=11311",
        ],
    );
    assert_eq!(netpol_findings(&text), []);
    let t = broken(
        &text,
        "kubernetes.io/metadata.name: \"cache\"",
        "kubernetes.io/metadata.name: \"caches\"",
        1,
    );
    let got = netpol_findings(&t);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "network-policy-blocks-backend");
    assert!(
        got[0]
            .1
            .contains("(namespace `cache`, outside the rendering)")
            && got[0]
                .1
                .contains("egress rule 1: its `to` peers do not match"),
        "{got:?}"
    );
}

#[test]
fn no_policy_when_disabled() {
    for mode in ["cache", "daemonset", "sidecar"] {
        let r = render(&[
            "--set",
            &format!("mode={mode},networkPolicy.enabled=false"),
            "--set",
            APP,
        ]);
        assert!(r.policies.is_empty(), "{mode}");
        // Everything is open then: the evaluator agrees.
        let cache = r.with("cache")[0];
        assert!(r.connects(&bystanders().stranger, cache, 11211));
    }
}

/// A pod of this test as mclint's evaluator sees one.
fn lib_pod<'p>(p: &'p Pod, labels: &'p mclint::json::Map) -> netpol::Pod<'p> {
    netpol::Pod {
        object: 0,
        namespace: &p.namespace,
        labels: Some(labels),
        ports: p
            .ports
            .iter()
            .map(|(n, port)| {
                (
                    (!n.is_empty()).then(|| n.clone()),
                    *port as i64,
                    "TCP".to_string(),
                )
            })
            .collect(),
        known: true,
    }
}

fn label_map(p: &Pod) -> mclint::json::Map {
    p.labels
        .iter()
        .map(|(k, v)| (k.as_str(), mclint::json::Value::from(v.as_str())))
        .collect()
}

/// mclint's evaluator (`src/netpol.rs`) and the one written in this test
/// decide every connection of every case the same way: each pod of the
/// rendering and each bystander, to each other, on every port any of them
/// declares and a few they do not, over TCP and UDP, at both ends.
#[test]
fn mclint_evaluator_agrees_with_this_one_on_every_connection() {
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for (label, args, _) in cases() {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = render(&argv);
        let input = Input {
            name: Arc::from("rendering"),
            kind: InputKind::Yaml,
            text: r.text.clone(),
        };
        let docs = parse_stream(&input);
        let objects: Vec<_> = docs.iter().flat_map(objects_in).collect();
        let policies = netpol::policies(&objects);
        assert_eq!(policies.len(), r.policies.len(), "{label}");
        let b = bystanders();
        let mut pods: Vec<Pod> = r.pods.clone();
        pods.extend([b.neighbour, b.stranger, b.prometheus, b.dns]);
        let labels: Vec<_> = pods.iter().map(label_map).collect();
        let mut ports: Vec<u64> = pods
            .iter()
            .flat_map(|p| p.ports.iter().map(|(_, n)| *n))
            .chain([22, 53, 9999])
            .collect();
        ports.sort();
        ports.dedup();
        for (i, from) in pods.iter().enumerate() {
            for (j, to) in pods.iter().enumerate() {
                let (lf, lt) = (lib_pod(from, &labels[i]), lib_pod(to, &labels[j]));
                for &port in &ports {
                    for proto in ["TCP", "UDP"] {
                        let lib = |dir| {
                            !matches!(
                                netpol::decide(&policies, dir, &lf, &lt, port as i64, proto),
                                netpol::Verdict::Denied(_)
                            )
                        };
                        let ours = [
                            (Direction::Egress, r.lets_out(from, to, port, proto)),
                            (Direction::Ingress, r.admits(from, to, port, proto)),
                        ];
                        for (dir, want) in ours {
                            compared += 1;
                            if lib(dir) != want {
                                disagreements.push(format!(
                                    "{label}: {} -> {}:{port}/{proto} {dir:?}: mclint says {}, this test {want}",
                                    from.what,
                                    to.what,
                                    lib(dir)
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 10_000, "{compared}");
    assert!(
        disagreements.is_empty(),
        "{} of {compared}:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// The findings of the NetworkPolicy rules on a rendering.
fn netpol_findings(text: &str) -> Vec<(String, String)> {
    let input = Input {
        name: Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.to_string(),
    };
    let options = CheckOptions {
        select: [
            "network-policy-blocks-backend",
            "network-policy-blocks-client",
            "network-policy-cache-open",
        ]
        .map(String::from)
        .to_vec(),
        ..CheckOptions::default()
    };
    check(&[input], &options)
        .findings
        .iter()
        .map(|f| (f.rule.to_string(), f.message.to_string()))
        .collect()
}

/// `text` with `from` replaced by `to`, which must occur `n` times.
fn broken(text: &str, from: &str, to: &str, n: usize) -> String {
    assert_eq!(text.matches(from).count(), n, "`{from}` in:\n{text}");
    text.replace(from, to)
}

/// Every ci/ file lints clean under the NetworkPolicy rules, and a policy
/// broken after rendering (a peer's label, the proxy's egress, the test
/// pod's way in) gives the finding that names the blocked path.
#[test]
fn the_rules_prove_the_chart_policies_and_find_broken_ones() {
    let mut bad = Vec::new();
    for (label, args, mode) in cases() {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = helm_template("rel", NS, &argv);
        let clean = netpol_findings(&text);
        if !clean.is_empty() {
            bad.push(format!("{label}: {clean:?}"));
        }
        let expect =
            |bad: &mut Vec<String>, what: &str, text: &str, rule: &str, needles: &[&str]| {
                let got = netpol_findings(text);
                if !got
                    .iter()
                    .any(|(r, m)| r == rule && needles.iter().all(|n| m.contains(n)))
                {
                    bad.push(format!(
                        "{label}: {what}: expected {rule} with {needles:?}, got {got:?}"
                    ));
                }
            };
        let daemonset = mode == "daemonset" || mode == "replicated-sharded";
        let sidecar = mode.starts_with("sidecar");
        // The cache policy's peer for the release's proxies or app pods (its
        // `from` peers sit 14 columns in; the test and app policies' `to`
        // peers, 12; the leading newline keeps deeper lines out).
        if daemonset || sidecar {
            let who = if daemonset { "proxy" } else { "app" };
            let t = broken(
                &text,
                &format!("\n              app.kubernetes.io/component: {who}\n"),
                &format!("\n              app.kubernetes.io/component: {who}s\n"),
                1,
            );
            expect(
                &mut bad,
                "wrong peer label",
                &t,
                "network-policy-blocks-backend",
                &[
                    "ingress of StatefulSet shop/",
                    "is denied by NetworkPolicy shop/",
                    "-cache: ingress rule 1: its `from` peers do not match",
                ],
            );
        }
        // The proxy's egress to the cache pods.
        if daemonset {
            let t = broken(
                &text,
                "\n              app.kubernetes.io/component: \"cache\"\n",
                "\n              app.kubernetes.io/component: \"caches\"\n",
                1,
            );
            expect(
                &mut bad,
                "wrong egress label",
                &t,
                "network-policy-blocks-backend",
                &[
                    "egress of DaemonSet shop/",
                    // `-proxy`, or `-proxy-<zone>` with cache.zones.
                    "'s pods is denied by NetworkPolicy shop/",
                    "egress rule 1: its `to` peers do not match",
                ],
            );
        }
        // The test pod's way out: to the proxies, or to the cache pods (in the
        // sidecar modes the app policy's peer goes too, and the app pods keep
        // their default egress to anywhere).
        let (whom, n) = if daemonset {
            ("proxy", 1)
        } else {
            ("cache", if sidecar { 2 } else { 1 })
        };
        let t = broken(
            &text,
            &format!("\n            app.kubernetes.io/component: {whom}\n"),
            &format!("\n            app.kubernetes.io/component: {whom}s\n"),
            n,
        );
        expect(
            &mut bad,
            "test pod kept in",
            &t,
            if sidecar {
                "network-policy-blocks-backend"
            } else {
                "network-policy-blocks-client"
            },
            &[
                "egress of Pod shop/",
                "'s pods is denied by NetworkPolicy shop/",
                "-test: egress rule 1: its `to` peers do not match",
            ],
        );
        // The app pods' way to the cache, once their egress is only ours.
        if sidecar {
            let mut argv = argv.clone();
            argv.extend(["--set-json", "networkPolicy.app.egress=[]"]);
            let text = helm_template("rel", NS, &argv);
            let clean = netpol_findings(&text);
            if !clean.is_empty() {
                bad.push(format!("{label} without app egress: {clean:?}"));
            }
            let t = broken(
                &text,
                "\n            app.kubernetes.io/component: cache\n",
                "\n            app.kubernetes.io/component: caches\n",
                2,
            );
            expect(
                &mut bad,
                "app pods kept in",
                &t,
                "network-policy-blocks-backend",
                &[
                    "egress of Deployment shop/",
                    "'s pods is denied by NetworkPolicy shop/",
                    "-app: egress rule 1: its `to` peers do not match",
                ],
            );
        }
        // The helm test pod's way in, with nobody else admitted.
        let mut argv = argv.clone();
        argv.extend(["--set-json", "networkPolicy.allowFrom=[]"]);
        let text = helm_template("rel", NS, &argv);
        let n = text.matches("app.kubernetes.io/component: test\n").count();
        let t = broken(
            &text,
            "app.kubernetes.io/component: test\n",
            "app.kubernetes.io/component: tests\n",
            n.max(1),
        );
        let rule = if sidecar {
            // Its proxy sidecar's backends.
            "network-policy-blocks-backend"
        } else {
            "network-policy-blocks-client"
        };
        expect(
            &mut bad,
            "test pod not admitted",
            &t,
            rule,
            &["Pod shop/", "-test container", "ingress of"],
        );
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
