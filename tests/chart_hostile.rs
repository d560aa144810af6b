//! Hostile chart values: each set is either refused by `helm template` with a
//! message naming the value, or renders objects that carry no field the values
//! did not ask for, whose proxy config the real memcached proxy loads, whose
//! backends name pods the rendering really has, and which `mclint check`
//! passes.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use serde_json::Value;
use support::*;

const RELEASE: &str = "rel";
const NAMESPACE: &str = "shop";

/// What a value set must do.
enum Expect {
    /// `helm template` fails and its message names each of these values
    /// (dotted, as `validateValues` writes them, or as the schema's
    /// `/a/b` pointer).
    Refused(&'static [&'static str]),
    /// It renders; field paths containing one of these texts may be new
    /// compared with the mode's default rendering.
    Renders(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    mode: &'static str,
    /// A values file (YAML), given after the mode's base values.
    values: String,
    expect: Expect,
}

fn case(name: &'static str, mode: &'static str, values: &str, expect: Expect) -> Case {
    Case {
        name,
        mode,
        values: values.to_string(),
        expect,
    }
}

use Expect::{Refused, Renders};

fn cases() -> Vec<Case> {
    let long = "a".repeat(300);
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let mut v = vec![
        // Newlines that would add fields to the pod spec.
        case(
            "priorityClassName with a newline",
            "cache",
            "cache:\n  priorityClassName: \"x\\n      hostNetwork: true\"\n",
            Refused(&["cache.priorityClassName"]),
        ),
        case(
            "image.tag with a newline",
            "cache",
            "image:\n  tag: \"1.6.38\\n    hostNetwork: true\"\n",
            Refused(&["image.tag"]),
        ),
        case(
            "serviceAccount.name with a newline",
            "cache",
            "serviceAccount:\n  name: \"sa\\nautomountServiceAccountToken: true\"\n",
            Refused(&["serviceAccount.name"]),
        ),
        case(
            "nameOverride with a YAML comment",
            "daemonset",
            "nameOverride: \"a #comment\"\n",
            Refused(&["nameOverride"]),
        ),
        case(
            "fullnameOverride in upper case",
            "cache",
            "fullnameOverride: Memcached\n",
            Refused(&["fullnameOverride"]),
        ),
        case(
            "fullnameOverride with a mapping",
            "cache",
            "fullnameOverride: \"x: y\"\n",
            Refused(&["fullnameOverride"]),
        ),
        case(
            "nameOverride of 64 characters",
            "cache",
            &format!("nameOverride: {}\n", "n".repeat(64)),
            Refused(&["nameOverride"]),
        ),
        case(
            "image.repository with a tag",
            "cache",
            "image:\n  repository: \"memcached:1.6.38\"\n",
            Refused(&["image.repository"]),
        ),
        case(
            "image.repository with a quote and newline",
            "cache",
            "image:\n  repository: \"memcached\\\"\\n  privileged: true\"\n",
            Refused(&["image.repository"]),
        ),
        case(
            "image.digest too short",
            "cache",
            "image:\n  digest: \"sha256:abc\"\n",
            Refused(&["image.digest"]),
        ),
        case(
            "metrics.image.tag with a comment",
            "cache",
            "metrics:\n  enabled: true\n  image:\n    tag: \"v1 # x\"\n",
            Refused(&["metrics.image.tag"]),
        ),
        case(
            "tests.image.repository with ]]",
            "cache",
            "tests:\n  image:\n    repository: \"busybox]]\"\n",
            Refused(&["tests.image.repository"]),
        ),
        // Strings that reach the Lua config.
        case(
            "clusterDomain opening a Lua comment",
            "daemonset",
            "clusterDomain: \"cluster.local\\n--[[\"\n",
            Refused(&["clusterDomain"]),
        ),
        case(
            "clusterDomain with U+2028",
            "sidecar",
            "clusterDomain: \"cluster.local\\u2028x\"\n",
            Refused(&["clusterDomain"]),
        ),
        case(
            "clusterDomain with U+0085",
            "daemonset",
            "clusterDomain: \"cluster\\x85local\"\n",
            Refused(&["clusterDomain"]),
        ),
        case(
            "externalCache.statefulSetName closing a Lua table",
            "daemonset",
            "cache:\n  enabled: false\nexternalCache:\n  statefulSetName: \"mc\\\"}, {\\\"\"\n  serviceName: mc\n  replicas: 3\n",
            Refused(&["externalCache.statefulSetName"]),
        ),
        case(
            "externalCache.serviceName with ]]",
            "daemonset",
            "cache:\n  enabled: false\nexternalCache:\n  statefulSetName: mc\n  serviceName: \"mc]]\"\n  replicas: 3\n",
            Refused(&["externalCache.serviceName"]),
        ),
        case(
            "externalCache.namespace with U+200B",
            "sidecar-failover",
            "cache:\n  enabled: false\nexternalCache:\n  statefulSetName: mc\n  serviceName: mc\n  namespace: \"cache\\u200b\"\n  replicas: 3\n",
            Refused(&["externalCache.namespace"]),
        ),
        case(
            "copy names that repeat",
            "replicated-sharded",
            "cache:\n  copies: [a, a]\n",
            Refused(&["cache.copies"]),
        ),
        case(
            "copy name closing a long string",
            "replicated-sharded",
            "cache:\n  copies: [a, \"b]]\"]\n",
            Refused(&["cache.copies"]),
        ),
        case(
            "zone name with a newline",
            "replicated-sharded",
            "cache:\n  zones: [\"a\\nb\", c]\n",
            Refused(&["cache.zones"]),
        ),
        case(
            "zone name closing a Lua string",
            "replicated-sharded",
            "cache:\n  zones: [\"a\\\")os.exit()--\", c]\n",
            Refused(&["cache.zones"]),
        ),
        case(
            "zone name of 10,000 characters",
            "replicated-sharded",
            &format!("cache:\n  zones: [{}, c]\n", "z".repeat(10_000)),
            Refused(&["cache.zones"]),
        ),
        case(
            "zones that repeat",
            "replicated-sharded",
            "cache:\n  zones: [zone-a, zone-a]\n",
            Refused(&["cache.zones"]),
        ),
        case(
            "a zone label with a space",
            "replicated-sharded",
            "cache:\n  zones: [a, b]\n  zoneLabel: \"topology zone\"\n",
            Refused(&["cache.zoneLabel"]),
        ),
        case(
            "zones outside replicated-sharded",
            "daemonset",
            "cache:\n  zones: [a, b]\n",
            Refused(&["cache.zones"]),
        ),
        case(
            "a migration from a negative size",
            "daemonset",
            "cache:\n  migration:\n    fromReplicas: -3\n",
            Refused(&["cache.migration.fromReplicas"]),
        ),
        case(
            "a migration from a huge size",
            "daemonset",
            "cache:\n  migration:\n    fromReplicas: 99999999999\n",
            Refused(&["cache.migration.fromReplicas"]),
        ),
        case(
            "a migration given as text",
            "daemonset",
            "cache:\n  migration:\n    fromReplicas: \"3; rm -rf /\"\n",
            Refused(&["cache.migration.fromReplicas"]),
        ),
        // Labels and annotations.
        case(
            "label value with a newline",
            "cache",
            "commonLabels:\n  team: \"a\\nb\"\n",
            Refused(&["commonLabels"]),
        ),
        case(
            "label key with YAML syntax",
            "cache",
            "commonLabels:\n  \"bad key: &x !y\": v\n",
            Refused(&["commonLabels"]),
        ),
        case(
            "label duplicating the chart's selector label",
            "cache",
            "commonLabels:\n  app.kubernetes.io/instance: other\n",
            Refused(&["commonLabels"]),
        ),
        case(
            "pod label duplicating the component label",
            "daemonset",
            "cache:\n  podLabels:\n    app.kubernetes.io/component: proxy\n",
            Refused(&["cache.podLabels"]),
        ),
        case(
            "annotation key with a newline",
            "cache",
            "cache:\n  podAnnotations:\n    \"a\\nb\": x\n",
            Refused(&["cache.podAnnotations"]),
        ),
        case(
            "pod annotation duplicating the chart's checksum",
            "daemonset",
            "proxy:\n  daemonset:\n    podAnnotations:\n      checksum/config: abc\n",
            Refused(&["proxy.daemonset.podAnnotations"]),
        ),
        case(
            "annotation value that is not a string",
            "cache",
            "serviceAccount:\n  annotations:\n    example.com/n: 5\n",
            Refused(&["serviceAccount.annotations"]),
        ),
        case(
            "very long priorityClassName",
            "sidecar",
            &format!("app:\n  priorityClassName: {long}\n"),
            Refused(&["app.priorityClassName"]),
        ),
        case(
            "priorityClassName with template syntax",
            "cache",
            "cache:\n  priorityClassName: \"{{ .Release.Name }}\"\n",
            Refused(&["cache.priorityClassName"]),
        ),
        case(
            "imagePullSecrets name with a space",
            "cache",
            "imagePullSecrets:\n  - name: \"a b\"\n",
            Refused(&["imagePullSecrets"]),
        ),
        case(
            "loadBalancerSourceRanges with a newline",
            "daemonset",
            "proxy:\n  service:\n    type: LoadBalancer\n    loadBalancerSourceRanges: [\"0.0.0.0/0\\n- 10.0.0.0/8\"]\n",
            Refused(&["proxy.service.loadBalancerSourceRanges"]),
        ),
        case(
            "serviceMonitor interval with a newline",
            "cache",
            "metrics:\n  enabled: true\n  serviceMonitor:\n    enabled: true\n    interval: \"30s\\n  x: y\"\n",
            Refused(&["metrics.serviceMonitor.interval"]),
        ),
        case(
            "maxItemSize with an extra argument",
            "cache",
            "cache:\n  maxItemSize: \"1m\\n- -vvv\"\n",
            Refused(&["cache.maxItemSize"]),
        ),
        case(
            "memory request with a newline",
            "cache",
            "cache:\n  resources:\n    requests:\n      memory: \"1Gi\\nx: y\"\n",
            Refused(&["cache.resources.requests.memory"]),
        ),
        // Numbers.
        case(
            "huge cache.replicas",
            "daemonset",
            "cache:\n  replicas: 100000000\n",
            Refused(&["cache.replicas"]),
        ),
        case(
            "negative cache.replicas",
            "daemonset",
            "cache:\n  replicas: -3\n",
            Refused(&["cache.replicas"]),
        ),
        case(
            "huge cache.memoryMiB",
            "cache",
            "cache:\n  memoryMiB: 1e15\n",
            Refused(&["cache.memoryMiB"]),
        ),
        case(
            "negative cache.memoryMiB",
            "cache",
            "cache:\n  memoryMiB: -64\n",
            Refused(&["cache.memoryMiB"]),
        ),
        case(
            "port 0",
            "cache",
            "cache:\n  port: 0\n",
            Refused(&["cache.port"]),
        ),
        case(
            "port 65536",
            "daemonset",
            "proxy:\n  port: 65536\n",
            Refused(&["proxy.port"]),
        ),
        case(
            "huge proxy.maxConnections",
            "daemonset",
            "proxy:\n  maxConnections: 99999999999\n",
            Refused(&["proxy.maxConnections"]),
        ),
        case(
            "huge routelib timeout",
            "daemonset",
            "proxy:\n  settings:\n    backend_read_timeout: 1e308\n",
            Refused(&["proxy.settings.backend_read_timeout"]),
        ),
        case(
            "negative routelib timeout",
            "daemonset",
            "proxy:\n  settings:\n    backend_connect_timeout: -1\n",
            Refused(&["proxy.settings.backend_connect_timeout"]),
        ),
        case(
            "negative grace period",
            "cache",
            "cache:\n  terminationGracePeriodSeconds: -5\n",
            Refused(&["cache.terminationGracePeriodSeconds"]),
        ),
        case(
            "negative local ttl",
            "sidecar-failover",
            "localCache:\n  ttl: -1\n",
            Refused(&["localCache.ttl"]),
        ),
        case(
            "negative app.replicas",
            "sidecar",
            "app:\n  replicas: -1\n",
            Refused(&["app.replicas"]),
        ),
        case(
            "maxUnavailable above 100%",
            "daemonset",
            "proxy:\n  daemonset:\n    maxUnavailable: \"150%\"\n",
            Refused(&["proxy.daemonset.maxUnavailable"]),
        ),
        case(
            "memory request above a set limit",
            "cache",
            "cache:\n  memoryMiB: 1024\n  resources:\n    limits:\n      memory: 512Mi\n",
            Refused(&["cache.resources.limits.memory"]),
        ),
        // Values other charts use, extension points and NetworkPolicy peers.
        case(
            "image.registry with a path and a newline",
            "cache",
            "image:\n  registry: \"r.example.com/x\\n  privileged: true\"\n",
            Refused(&["image.registry"]),
        ),
        case(
            "global.imageRegistry with a scheme",
            "daemonset",
            "global:\n  imageRegistry: \"https://r.example.com\"\n",
            Refused(&["global.imageRegistry"]),
        ),
        case(
            "namespaceOverride with a newline",
            "sidecar",
            "namespaceOverride: \"shop\\nx: y\"\n",
            Refused(&["namespaceOverride"]),
        ),
        case(
            "commonAnnotations key with a newline",
            "cache",
            "commonAnnotations:\n  \"a\\nb\": x\n",
            Refused(&["commonAnnotations"]),
        ),
        case(
            "extraEnv name with a newline",
            "cache",
            "cache:\n  extraEnv:\n    - name: \"A\\n  hostNetwork: true\"\n      value: x\n",
            Refused(&["cache.extraEnv"]),
        ),
        case(
            "extraEnv value that is a number",
            "daemonset",
            "proxy:\n  extraEnv:\n    - name: N\n      value: 5\n",
            Refused(&["proxy.extraEnv"]),
        ),
        case(
            "relative mountPath",
            "sidecar-failover",
            "localCache:\n  extraVolumes:\n    - name: x\n      emptyDir: {}\n  extraVolumeMounts:\n    - name: x\n      mountPath: etc\n",
            Refused(&["localCache.extraVolumeMounts"]),
        ),
        case(
            "extra container named like the chart's",
            "cache",
            "cache:\n  sidecars:\n    - name: memcached\n      image: busybox:1.36.1\n",
            Refused(&["cache.sidecars"]),
        ),
        case(
            "extra volume named like the chart's",
            "daemonset",
            "proxy:\n  extraVolumes:\n    - name: memcached-proxy-config\n      emptyDir: {}\n",
            Refused(&["proxy.extraVolumes"]),
        ),
        case(
            "NetworkPolicy peer with an unknown field",
            "daemonset",
            "networkPolicy:\n  allowFrom:\n    - hostNetwork: true\n",
            Refused(&["networkPolicy.allowFrom"]),
        ),
        case(
            "app pods' NetworkPolicy rule with an unknown field",
            "sidecar",
            "networkPolicy:\n  app:\n    egress:\n      - toPorts: [80]\n",
            Refused(&["networkPolicy.app.egress"]),
        ),
        case(
            "app pods' NetworkPolicy port 0",
            "sidecar",
            "networkPolicy:\n  app:\n    ingress:\n      - ports:\n          - port: 0\n",
            Refused(&["networkPolicy.app.ingress"]),
        ),
        case(
            "app pods' NetworkPolicy rules of every kind",
            "sidecar",
            "networkPolicy:\n  app:\n    ingress:\n      - from:\n          - ipBlock:\n              cidr: 10.0.0.0/8\n        ports:\n          - port: http\n            protocol: TCP\n    egress:\n      - to:\n          - namespaceSelector:\n              matchLabels:\n                team: a\n        ports:\n          - port: 8000\n            endPort: 8100\n",
            Renders(&["spec.ingress", "spec.egress"]),
        ),
        case(
            "NetworkPolicy selector label with a newline",
            "cache",
            "networkPolicy:\n  cache:\n    allowFrom:\n      - podSelector:\n          matchLabels:\n            app: \"a\\nb\"\n",
            Refused(&["networkPolicy.cache.allowFrom"]),
        ),
        case(
            "drain as long as the grace period",
            "daemonset",
            "proxy:\n  daemonset:\n    drainSeconds: 30\n    terminationGracePeriodSeconds: 30\n",
            Refused(&["proxy.daemonset.drainSeconds"]),
        ),
        case(
            "unknown update strategy",
            "cache",
            "cache:\n  updateStrategy:\n    type: Sometimes\n",
            Refused(&["cache.updateStrategy"]),
        ),
        case(
            "replicaCount from another chart",
            "cache",
            "replicaCount: 3\n",
            Refused(&["replicaCount"]),
        ),
        // Values that are data: they render, and stay data.
        case(
            "annotation values full of YAML, Lua and template syntax",
            "daemonset",
            "cache:\n  podAnnotations:\n    example.com/note: \"line1\\nline2: x\\n  - y # z & *a !t | > { } [ ] , ]] --[[ {{ .Release.Name }}\"\nproxy:\n  daemonset:\n    podAnnotations:\n      example.com/sep: \"\\u2028\\u2029\\u200b\\x85\\x01\\e[31m\\\"'\"\n",
            Renders(&["annotations"]),
        ),
        case(
            "app containers with hostile commands",
            "sidecar",
            "app:\n  containers:\n    - name: app\n      image: nginx:1.27\n      command: [\"sh\", \"-c\", \"echo \\\"]]--[[\\\" \\u2028 {{ .Values }}\\nhostNetwork: true\"]\n",
            Renders(&["containers[].command"]),
        ),
        case(
            "valid labels everywhere",
            "sidecar-failover",
            "commonLabels:\n  example.com/team: a-b_c.d\n  empty: \"\"\napp:\n  podLabels:\n    tier: \"1\"\n",
            Renders(&["labels.example.com/team", "labels.empty", "labels.tier"]),
        ),
        case(
            "named copies",
            "replicated-sharded",
            "cache:\n  copies: [zz9, a0, \"1\"]\n",
            Renders(&[]),
        ),
        case(
            "fractional routelib settings",
            "daemonset",
            "proxy:\n  settings:\n    backend_read_timeout: 0.25\n    backend_failure_limit: 1000\n    tcp_keepalive: false\n    backend_flap_backoff_ramp: 1.5\n",
            Renders(&[]),
        ),
        case(
            "longest fullnameOverride",
            "sidecar",
            &format!("fullnameOverride: m{}\n", "a".repeat(62)),
            Renders(&[]),
        ),
        case(
            "nameOverride",
            "daemonset",
            "nameOverride: a\n",
            Renders(&[]),
        ),
        case(
            "dotted cluster domain",
            "sidecar-failover",
            "clusterDomain: a.b-c.d\n",
            Renders(&[]),
        ),
        case(
            "image by digest",
            "daemonset",
            &format!(
                "image:\n  repository: registry.example.com:5000/team/memcached\n  digest: {digest}\n"
            ),
            Renders(&[]),
        ),
        case(
            "TLS on a proxy reached on 127.0.0.1",
            "sidecar",
            "proxy:\n  tls:\n    enabled: true\n    secretName: tls\n",
            Refused(&["proxy.tls.enabled"]),
        ),
        case(
            "TLS without its Secret",
            "daemonset",
            "proxy:\n  tls:\n    enabled: true\n",
            Refused(&["proxy.tls.secretName"]),
        ),
        case(
            "TLS Secret name with a newline",
            "daemonset",
            "proxy:\n  tls:\n    enabled: true\n    secretName: \"tls\\n  optional: true\"\n",
            Refused(&["proxy.tls.secretName"]),
        ),
        case(
            "TLS client CA key with a slash",
            "replicated-sharded",
            "proxy:\n  tls:\n    enabled: true\n    secretName: tls\n    verifyClient: request\n    clientCA:\n      key: ../../etc/passwd\n",
            Refused(&["proxy.tls.clientCA.key"]),
        ),
        case(
            "external cache",
            "sidecar",
            "cache:\n  enabled: false\nexternalCache:\n  statefulSetName: mc\n  serviceName: mc\n  namespace: cache\n  replicas: 5\n",
            // The app and test pods' egress goes to that namespace.
            Renders(&["namespaceSelector"]),
        ),
        case(
            "repeated keys in the values file (the last one wins)",
            "daemonset",
            "cache:\n  replicas: 2\ncache:\n  replicas: 4\n",
            Renders(&[]),
        ),
        case(
            "many cache pods",
            "daemonset",
            "cache:\n  replicas: 200\n",
            Renders(&[]),
        ),
        case(
            "extreme ports",
            "sidecar-failover",
            "proxy:\n  port: 65535\nlocalCache:\n  port: 1\ncache:\n  port: 2\n",
            Renders(&[]),
        ),
        case(
            "extension points holding YAML, Lua and template syntax",
            "daemonset",
            "cache:\n  extraEnv:\n    - name: NOTE\n      value: \"{{ .Release.Name }}\\nhostNetwork: true ]]--[[\\u2028\"\n  lifecycle:\n    preStop:\n      exec:\n        command: [\"sh\", \"-c\", \"echo '\\\"]] # x: y'\"]\nproxy:\n  extraVolumes:\n    - name: extra\n      emptyDir: {}\n  extraVolumeMounts:\n    - name: extra\n      mountPath: \"/x: y # z\"\n",
            Renders(&["env", "lifecycle", "volumes", "volumeMounts"]),
        ),
        case(
            "common annotations full of syntax",
            "sidecar-failover",
            "commonAnnotations:\n  example.com/note: \"a: b\\n- c {{ .Values }} ]]\"\n",
            Renders(&["annotations"]),
        ),
        case(
            "NetworkPolicy peers of every kind",
            "daemonset",
            "networkPolicy:\n  allowFrom:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n        except: [10.1.0.0/16]\n    - namespaceSelector:\n        matchExpressions:\n          - key: team\n            operator: In\n            values: [a, b]\n      podSelector:\n        matchLabels:\n          app: web\n",
            Renders(&["ipBlock", "namespaceSelector", "podSelector"]),
        ),
        case(
            "priority classes",
            "sidecar",
            "app:\n  priorityClassName: high.priority-1\ncache:\n  priorityClassName: system-cluster-critical\n",
            Renders(&["priorityClassName"]),
        ),
    ];
    v.sort_by_key(|c| matches!(c.expect, Renders(_)));
    v
}

/// Base values per mode: the ci values file, and an app container for the
/// sidecar modes.
fn base_args(mode: &str) -> Vec<String> {
    vec![
        "-f".into(),
        repo()
            .join(format!(
                "charts/distributed-memcached/ci/{mode}-values.yaml"
            ))
            .display()
            .to_string(),
    ]
}

fn template(args: &[String]) -> std::process::Output {
    helm()
        .args(["template", RELEASE])
        .arg(repo().join("charts/distributed-memcached"))
        .args(["-n", NAMESPACE])
        .args(args)
        .output()
        .expect("run scripts/helm")
}

fn objects_of(text: &str) -> Vec<(String, Value)> {
    let input = Input {
        name: Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.to_string(),
    };
    parse_stream(&input)
        .iter()
        .filter_map(|d| as_object(d)?.ok())
        .map(|o| (o.kind.to_string(), o.json.to_serde()))
        .collect()
}

/// Every field path of a JSON value (`a.b[].c`), with list positions folded.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Field paths per kind (and object count per kind).
fn shape(objects: &[(String, Value)]) -> BTreeMap<String, (usize, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for (kind, json) in objects {
        let e = out.entry(kind.clone()).or_default();
        e.0 += 1;
        paths(json, "", &mut e.1);
    }
    out
}

/// A YAML double-quoted scalar holding exactly `s`: everything but printable
/// ASCII escaped (YAML 1.1 readers take a raw U+0085 or U+2028 for a line
/// break and refuse raw C1 control characters).
fn yaml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Writes a text safely into a failure message (no raw control characters).
fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).collect()
}

/// Starts the real proxy with the rendered config on 127.0.0.1 and sends one
/// request; `Err` with its log when it does not load the config.
fn proxy_loads(objects: &[(String, Value)]) -> Result<(), String> {
    let mut files = BTreeMap::new();
    for (kind, json) in objects {
        if kind == "ConfigMap"
            && let Some(data) = json.get("data").and_then(Value::as_object)
            && data.contains_key("proxy.lua")
        {
            for (k, v) in data {
                files.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
    }
    if files.is_empty() {
        return Err("no proxy ConfigMap rendered".into());
    }
    let mut proxy_args = None;
    for (kind, json) in objects {
        if kind == "Pod" {
            continue;
        }
        for key in ["containers", "initContainers"] {
            let list = json
                .pointer(&format!("/spec/template/spec/{key}"))
                .and_then(Value::as_array);
            for c in list.into_iter().flatten() {
                if c["name"] == "memcached-proxy" {
                    let args: Vec<String> = c["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect();
                    proxy_args = Some(args);
                }
            }
        }
    }
    let proxy_args = proxy_args.ok_or("no proxy container rendered")?;
    // Cluster DNS names do not resolve here, and the proxy resolves each
    // backend while it loads the config (slowly, when resolution fails): give
    // every `...svc...:port` literal a loopback address of its own. Only the
    // address text changes; the config's structure and literals are as rendered.
    let mut next_port = 40000;
    for text in files.values_mut() {
        let parts: Vec<String> = text.split('"').map(str::to_string).collect();
        let mut out = Vec::new();
        for (i, p) in parts.into_iter().enumerate() {
            if i % 2 == 1 && p.contains(".svc.") && !p.contains('\\') {
                next_port += 1;
                out.push(format!("127.0.0.1:{next_port}"));
            } else {
                out.push(p);
            }
        }
        *text = out.join("\"");
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mount = format!("{}/", dir.path().display());
    let mut args = Vec::new();
    let mut i = 0;
    while i < proxy_args.len() {
        if proxy_args[i] == "-p" {
            i += 2;
            continue;
        }
        args.push(proxy_args[i].replace("/etc/memcached/", &mount));
        i += 1;
    }
    let port = free_port();
    let log = dir.path().join("proxy.log");
    let logf = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(memcached_bin());
    cmd.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"]);
    if std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    {
        cmd.args(["-u", "root"]);
    }
    let mut child = cmd
        .args(&args)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf)
        .spawn()
        .expect("start memcached");
    let deadline = Instant::now() + Duration::from_secs(5);
    let result = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("the proxy exited with {status}"));
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = s.write_all(b"get hostile-key\r\n");
            let mut line = String::new();
            let _ = BufReader::new(&s).read_line(&mut line);
            if line.starts_with("SERVER_ERROR") || line.starts_with("END") {
                break Ok(());
            }
            break Err(format!("unexpected reply {:?}", line));
        }
        if Instant::now() > deadline {
            break Err("the proxy did not listen within 5 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    result.map_err(|e| {
        format!(
            "{e}: {}",
            shown(&std::fs::read_to_string(&log).unwrap_or_default())
        )
    })
}

/// Every cache pod the rendering runs is a backend of the proxy config, and
/// every backend address is a pod the rendering runs (or the external cache).
fn backends_name_real_pods(objects: &[(String, Value)], domain: &str) -> Result<(), String> {
    let lua: String = objects
        .iter()
        .filter(|(k, _)| k == "ConfigMap")
        .filter_map(|(_, j)| j.pointer("/data/proxy.lua")?.as_str().map(str::to_string))
        .collect();
    let services: Vec<&str> = objects
        .iter()
        .filter(|(k, j)| {
            k == "Service" && j.pointer("/spec/clusterIP") == Some(&Value::from("None"))
        })
        .filter_map(|(_, j)| j.pointer("/metadata/name")?.as_str())
        .collect();
    let mut expected = 0;
    for (kind, json) in objects {
        if kind != "StatefulSet" {
            continue;
        }
        let name = json
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap();
        let service = json
            .pointer("/spec/serviceName")
            .and_then(Value::as_str)
            .unwrap();
        if !services.contains(&service) {
            return Err(format!(
                "StatefulSet {name} names Service {service}, not rendered"
            ));
        }
        let replicas = json
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap();
        let port = json
            .pointer("/spec/template/spec/containers/0/ports/0/containerPort")
            .and_then(Value::as_u64)
            .unwrap();
        for i in 0..replicas {
            let addr = format!("\"{name}-{i}.{service}.{NAMESPACE}.svc.{domain}:{port}\"");
            if !lua.contains(&addr) {
                return Err(format!("the proxy config does not list {addr}"));
            }
            expected += 1;
        }
    }
    let listed = lua.matches(&format!(".svc.{domain}:")).count();
    if expected > 0 && listed != expected {
        return Err(format!(
            "{listed} backends listed, {expected} cache pods rendered"
        ));
    }
    Ok(())
}

/// Names the value: `a.b.c` as validateValues writes it, or `/a/b/c` as the
/// schema does.
fn names_value(message: &str, dotted: &str) -> bool {
    message.contains(dotted) || message.contains(&format!("/{}", dotted.replace('.', "/")))
}

fn mclint_passes(text: &str) -> Result<(), String> {
    let out = run(
        mclint().args(["check", "-", "--fail-on", "warning", "--color", "never"]),
        text.as_bytes(),
    );
    if out.code == 0 {
        Ok(())
    } else {
        Err(format!(
            "mclint exit {}: {}{}",
            out.code,
            shown(&out.stdout),
            shown(&out.stderr)
        ))
    }
}

#[test]
fn hostile_values_are_refused_or_stay_data() {
    let cases = cases();
    let refused = cases
        .iter()
        .filter(|c| matches!(c.expect, Refused(_)))
        .count();
    let renders = cases.len() - refused;
    assert!(
        cases.len() >= 40 && refused >= 20 && renders >= 10,
        "{refused} refused, {renders} rendered"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut defaults: BTreeMap<&str, BTreeMap<String, (usize, BTreeSet<String>)>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let file = dir.path().join(format!("case-{n}.yaml"));
        std::fs::write(&file, &c.values).unwrap();
        let mut args = base_args(c.mode);
        args.push("-f".into());
        args.push(file.display().to_string());
        let out = template(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let label = format!("{} ({})", c.name, c.mode);
        match &c.expect {
            Refused(words) => {
                if out.status.success() {
                    failures.push(format!("{label}: accepted"));
                    continue;
                }
                for w in *words {
                    if !names_value(&stderr, w) {
                        failures.push(format!(
                            "{label}: the message does not name {w}: {}",
                            shown(&stderr)
                        ));
                    }
                }
            }
            Renders(allowed) => {
                if !out.status.success() {
                    failures.push(format!("{label}: refused: {}", shown(&stderr)));
                    continue;
                }
                let default = defaults.entry(c.mode).or_insert_with(|| {
                    let out = template(&base_args(c.mode));
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    shape(&objects_of(&String::from_utf8_lossy(&out.stdout)))
                });
                let objects = objects_of(&stdout);
                let got = shape(&objects);
                for (kind, (count, fields)) in &got {
                    let Some((want_count, want)) = default.get(kind) else {
                        failures.push(format!("{label}: a new kind of object {kind}"));
                        continue;
                    };
                    if count != want_count
                        && !c.values.contains("replicas")
                        && !c.values.contains("copies")
                    {
                        failures.push(format!(
                            "{label}: {count} {kind} objects, {want_count} by default"
                        ));
                    }
                    for f in fields.difference(want) {
                        if !allowed.iter().any(|a| f.contains(a)) {
                            failures.push(format!(
                                "{label}: {kind} has a field the values did not ask for: {}",
                                shown(f)
                            ));
                        }
                    }
                }
                let domain = if c.values.contains("clusterDomain: a.b-c.d") {
                    "a.b-c.d"
                } else {
                    "cluster.local"
                };
                if c.mode != "cache" {
                    if let Err(e) = backends_name_real_pods(&objects, domain) {
                        failures.push(format!("{label}: {e}"));
                    }
                    if let Err(e) = proxy_loads(&objects) {
                        failures.push(format!("{label}: the real proxy refuses the config: {e}"));
                    }
                }
                if let Err(e) = mclint_passes(&stdout) {
                    failures.push(format!("{label}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Annotation values are written back exactly as given, whatever they hold.
#[test]
fn annotation_values_round_trip() {
    let value =
        "a: b\n- c # d & *e !f | > { } [ ] , ]] --[[ {{ .Values }} \u{2028}\u{85}\u{200b}\"'\\";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.yaml");
    std::fs::write(
        &file,
        format!(
            "cache:\n  podAnnotations:\n    example.com/x: {}\n",
            yaml_quote(value)
        ),
    )
    .unwrap();
    let out = template(&["-f".into(), file.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = objects_of(&String::from_utf8_lossy(&out.stdout));
    let sts = objects.iter().find(|(k, _)| k == "StatefulSet").unwrap();
    assert_eq!(
        sts.1
            .pointer("/spec/template/metadata/annotations/example.com~1x"),
        Some(&Value::from(value))
    );
}

/// Copies the chart to `to` (without values.schema.json, so test-only values
/// pass) and adds `extra` templates.
fn chart_copy_with(to: &std::path::Path, extra: &[(&str, &str)]) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else if e.file_name() != "values.schema.json" {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    copy(&repo().join("charts/distributed-memcached"), to);
    for (name, text) in extra {
        std::fs::write(to.join("templates").join(name), text).unwrap();
    }
}

/// The chart's Lua string helper writes a literal the real proxy's Lua 5.4
/// reads back as exactly the input, for any input: quotes, backslashes, long
/// brackets, comments, every control character, Unicode separators, invalid
/// UTF-8 is impossible in values, so every other character class is covered.
#[test]
fn the_lua_string_helper_round_trips_any_string_through_the_real_proxy() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "plain".into(),
        "\"".into(),
        "\\".into(),
        "\\\"".into(),
        "]]".into(),
        "]=]".into(),
        "--[[".into(),
        "--".into(),
        "\n".into(),
        "\r\n".into(),
        "a\u{0}b".into(),
        "\u{7f}".into(),
        "\u{85}\u{a0}\u{2028}\u{2029}\u{200b}\u{feff}".into(),
        "é日本😀".into(),
        "{{ .Values }}".into(),
        "%s %d %q".into(),
        "\\ddd \\x41 \\u{41} \\z".into(),
        "'single' \"double\" `back`".into(),
        "a: b\n- c # d & *e !f | > { } [ ] ,".into(),
        "x".repeat(5000),
    ];
    inputs.push((0u8..0x80).map(char::from).collect());
    let keys = ["plain_name", "end", "with space", "a\"b", "é"];
    let mut values = String::from("luaTest:\n  strings:\n");
    for s in &inputs {
        values.push_str(&format!("    - {}\n", yaml_quote(s)));
    }
    values.push_str("  keys:\n");
    for k in keys {
        values.push_str(&format!("    - {}\n", yaml_quote(k)));
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    chart_copy_with(
        &chart,
        &[(
            "zz-lua-test.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lua-test\ndata:\n  test.lua: |\n    local got = {\n    {{- range .Values.luaTest.strings }}\n      {{ include \"distributed-memcached.luaString\" . }},\n    {{- end }}\n    }\n    local keys = {\n    {{- range .Values.luaTest.keys }}\n      {{ include \"distributed-memcached.luaKey\" . }} = true,\n    {{- end }}\n    }\n",
        )],
    );
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, values).unwrap();
    let out = helm()
        .args(["template", "rel"])
        .arg(&chart)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = objects_of(&String::from_utf8_lossy(&out.stdout));
    let lua = objects
        .iter()
        .find_map(|(_, j)| j.pointer("/data/test.lua")?.as_str().map(str::to_string))
        .expect("the test template rendered");
    assert!(lua.is_ascii(), "the literals are plain ASCII");
    // What Lua must read back: each input as bytes, built with string.char.
    let mut check = lua.clone();
    check.push_str("local want = {\n");
    for s in &inputs {
        let bytes: Vec<String> = s.bytes().map(|b| b.to_string()).collect();
        if bytes.is_empty() {
            check.push_str("  \"\",\n");
        } else {
            check.push_str("  table.concat({");
            for chunk in bytes.chunks(100) {
                check.push_str(&format!("string.char({}),", chunk.join(",")));
            }
            check.push_str("}),\n");
        }
    }
    check.push_str("}\n");
    check.push_str(&format!(
        "assert(#got == {n}, \"got \" .. #got .. \" strings\")\n\
         for i = 1, {n} do\n  if got[i] ~= want[i] then error(\"string \" .. i .. \" differs\") end\nend\n",
        n = inputs.len()
    ));
    for k in keys {
        let bytes: Vec<String> = k.bytes().map(|b| b.to_string()).collect();
        check.push_str(&format!(
            "assert(keys[string.char({})], \"key {} missing\")\n",
            bytes.join(","),
            k.escape_default()
        ));
    }
    check.push_str(&format!(
        "local n = 0 for _ in pairs(keys) do n = n + 1 end assert(n == {}, \"keys\")\n",
        keys.len()
    ));
    check.push_str(
        "pools { p = { backends = { \"127.0.0.1:1\" } } }\nroutes { default = route_direct { child = \"p\" } }\n",
    );
    let config = dir.path().join("proxy.lua");
    std::fs::write(&config, &check).unwrap();
    let proxy = start_proxy("luastring", &config, dir.path());
    let log = proxy.log();
    assert!(!log.contains("rror"), "{}", shown(&log));
}

/// Without values.schema.json (a parent chart or `--skip-schema-validation`),
/// the chart's own `validateValues` still refuses every hostile name, label,
/// annotation and image reference, naming the value.
#[test]
fn names_labels_and_images_are_refused_without_the_schema_too() {
    let checked_by_the_chart = [
        "cache.priorityClassName",
        "app.priorityClassName",
        "image.tag",
        "image.repository",
        "image.digest",
        "metrics.image.tag",
        "tests.image.repository",
        "serviceAccount.name",
        "nameOverride",
        "fullnameOverride",
        "clusterDomain",
        "externalCache.statefulSetName",
        "externalCache.serviceName",
        "externalCache.namespace",
        "commonLabels",
        "cache.podLabels",
        "cache.podAnnotations",
        "proxy.daemonset.podAnnotations",
        "serviceAccount.annotations",
        "cache.copies",
        "cache.resources.limits.memory",
        "image.registry",
        "namespaceOverride",
        "commonAnnotations",
        "cache.extraEnv",
        "proxy.extraEnv",
        "localCache.extraVolumeMounts",
        "cache.sidecars",
        "proxy.extraVolumes",
        "networkPolicy.allowFrom",
        "proxy.daemonset.drainSeconds",
        "cache.updateStrategy",
        "replicaCount",
    ];
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    chart_copy_with(&chart, &[]);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (n, c) in cases().iter().enumerate() {
        let Refused(words) = c.expect else { continue };
        if !words.iter().all(|w| checked_by_the_chart.contains(w)) {
            continue;
        }
        checked += 1;
        let file = dir.path().join(format!("case-{n}.yaml"));
        std::fs::write(&file, &c.values).unwrap();
        let out = helm()
            .args(["template", RELEASE])
            .arg(&chart)
            .args(["-n", NAMESPACE])
            .args(base_args(c.mode))
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            failures.push(format!("{}: accepted without the schema", c.name));
        } else if !words.iter().all(|w| stderr.contains(w)) {
            failures.push(format!("{}: {}", c.name, shown(&stderr)));
        }
    }
    assert!(checked >= 25, "only {checked} cases checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
