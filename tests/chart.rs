//! The chart as users meet it: `helm lint --strict`, values that the schema
//! rejects before rendering, documented values, and renderings that mclint
//! finds clean.
//!
//! `MCLINT_BLESS=1 cargo test --test chart` rewrites the README's values table
//! from the `# --` comments of `values.yaml`.

mod support;

use std::path::PathBuf;

use mclint::yaml::{Node, NodeKind, parse_document};
use support::*;

fn chart() -> PathBuf {
    repo().join("charts/distributed-memcached")
}

fn ci_values() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart().join("ci"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-values.yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn there_is_a_ci_values_file_per_mode() {
    let names: Vec<String> = ci_values()
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .replace("-values.yaml", "")
        })
        .collect();
    for mode in [
        "cache",
        "daemonset",
        "sidecar",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        assert!(names.iter().any(|n| n == mode), "no ci/{mode}-values.yaml");
    }
}

#[test]
fn helm_lint_strict_passes_for_every_ci_values_file() {
    for values in ci_values() {
        let out = helm()
            .args(["lint", "--strict"])
            .arg(chart())
            .arg("-f")
            .arg(&values)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}{}",
            values.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_rendering_is_clean_under_mclint() {
    for values in ci_values() {
        let v = values.to_string_lossy().to_string();
        let text = helm_template("lint", "cache", &["-f", &v]);
        let out = run(
            mclint().args(["check", "-", "--fail-on", "warning", "--color", "never"]),
            text.as_bytes(),
        );
        assert_eq!(out.code, 0, "{v}:\n{}{}", out.stdout, out.stderr);
    }
}

/// Values that must be refused before anything renders, each with a word the
/// message must contain so the user knows what to change.
const BAD_VALUES: &[(&[&str], &str)] = &[
    (&["--set", "mode=shard"], "mode"),
    (&["--set", "mode="], "mode"),
    (&["--set", "cache.replicas=0"], "replicas"),
    (&["--set", "cache.replicas=-1"], "replicas"),
    (&["--set", "cache.memoryMiB=8"], "memoryMiB"),
    (&["--set", "cache.threads=0"], "threads"),
    (&["--set", "cache.maxConnections=0"], "maxConnections"),
    (&["--set", "cache.port=70000"], "port"),
    (
        &["--set", "cache.podAntiAffinity=sometimes"],
        "podAntiAffinity",
    ),
    (&["--set", "cache.maxItemSize=huge"], "maxItemSize"),
    (&["--set", "mode=sidecar"], "containers"),
    (&["--set", "mode=sidecar-failover"], "containers"),
    (
        &["--set", "mode=replicated-sharded,cache.copies=1"],
        "copies",
    ),
    (&["--set", "mode=daemonset,proxy.threads=0"], "threads"),
    (
        &["--set", "mode=daemonset,proxy.service.type=NodePortal"],
        "type",
    ),
    (
        &[
            "--set",
            "mode=daemonset,proxy.settings.backend_conect_timeout=3",
        ],
        "backend_conect_timeout",
    ),
    (&["--set", "localCache.ttl=0"], "ttl"),
    (&["--set", "image.tag="], "tag"),
    (&["--set", "clusterDomain=bad_domain!"], "clusterDomain"),
    (
        &["--set", "mode=daemonset,cache.enabled=false"],
        "externalCache",
    ),
];

#[test]
fn bad_values_are_refused_with_a_message_naming_the_value() {
    let mut accepted = Vec::new();
    let mut by_schema = 0;
    for (args, word) in BAD_VALUES {
        let out = helm()
            .args(["template", "bad"])
            .arg(chart())
            .args(*args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            accepted.push(format!("{args:?} was accepted"));
        } else if !stderr.contains(word) {
            accepted.push(format!(
                "{args:?}: the message does not name `{word}`: {stderr}"
            ));
        }
        // values.schema.json refuses before any template runs; validateValues
        // refuses while rendering ("execution error at ...").
        if !out.status.success() && !stderr.contains("execution error") {
            by_schema += 1;
        }
    }
    assert!(BAD_VALUES.len() >= 15);
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
    assert!(
        by_schema >= 15,
        "values.schema.json itself refuses only {by_schema} of the bad values"
    );
}

/// A row of the values table: dotted key, type, default, description.
struct ValueDoc {
    key: String,
    kind: &'static str,
    default: String,
    doc: Option<String>,
}

fn doc_comment(lines: &[&str], key_line: u32) -> Option<String> {
    // The comment block directly above the key (1-based line numbers).
    let mut i = key_line as usize - 1;
    let mut block = Vec::new();
    while i > 0 {
        let l = lines[i - 1].trim();
        if !l.starts_with('#') {
            break;
        }
        block.push(l);
        i -= 1;
    }
    block.reverse();
    let start = block.iter().rposition(|l| l.starts_with("# --"))?;
    let text: Vec<&str> = block[start..]
        .iter()
        .map(|l| l.trim_start_matches('#').trim_start_matches(" --").trim())
        .collect();
    Some(text.join(" ").trim().to_string())
}

fn walk(node: &Node, prefix: &str, lines: &[&str], out: &mut Vec<ValueDoc>) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    for e in entries {
        let key = if prefix.is_empty() {
            e.key.clone()
        } else {
            format!("{prefix}.{}", e.key)
        };
        let doc = doc_comment(lines, e.key_line);
        match &e.value.kind {
            NodeKind::Map(children) if !children.is_empty() => {
                if doc.is_none() {
                    out.push(ValueDoc {
                        key: key.clone(),
                        kind: "object",
                        default: String::new(),
                        doc: None,
                    });
                }
                walk(&e.value, &key, lines, out);
            }
            other => {
                let kind = match other {
                    NodeKind::Map(_) => "object",
                    NodeKind::Seq(_) => "list",
                    NodeKind::Bool(_) => "bool",
                    NodeKind::Int(_) => "int",
                    NodeKind::Float(_) => "float",
                    NodeKind::Str(_) => "string",
                    NodeKind::Null => "null",
                };
                out.push(ValueDoc {
                    key,
                    kind,
                    default: format!("`{}`", e.value.to_json()),
                    doc,
                });
            }
        }
    }
}

fn value_docs() -> Vec<ValueDoc> {
    let text = std::fs::read_to_string(chart().join("values.yaml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let root = parse_document(&text, 1).unwrap().root.unwrap();
    let mut out = Vec::new();
    walk(&root, "", &lines, &mut out);
    out
}

#[test]
fn every_value_is_documented() {
    let missing: Vec<String> = value_docs()
        .into_iter()
        .filter(|v| v.doc.as_deref().is_none_or(str::is_empty))
        .map(|v| v.key)
        .collect();
    assert!(
        missing.is_empty(),
        "values.yaml entries without a `# --` comment directly above them: {missing:?}"
    );
}

#[test]
fn readme_values_table_is_current() {
    let mut table = String::from(
        "| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n",
    );
    for v in value_docs() {
        let doc = v.doc.unwrap_or_default().replace('|', "\\|");
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            v.key,
            v.kind,
            v.default.replace('|', "\\|"),
            doc
        ));
    }
    let path = chart().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("| Key | Type | Default | Description |")
        .expect("the README has a values table");
    let end = readme[start..]
        .find("\n\n")
        .map_or(readme.len(), |e| start + e + 1);
    let current = &readme[start..end];
    if current != table {
        if std::env::var_os("MCLINT_BLESS").is_some() {
            std::fs::write(
                &path,
                format!("{}{}{}", &readme[..start], table, &readme[end..]),
            )
            .unwrap();
            return;
        }
        let diff = similar::TextDiff::from_lines(current, table.as_str())
            .unified_diff()
            .header("README.md (committed)", "generated from values.yaml")
            .to_string();
        panic!(
            "the chart README's values table is stale; run `MCLINT_BLESS=1 cargo test --test chart`\n{diff}"
        );
    }
}

#[test]
fn an_external_cache_rendering_has_no_error_or_warning_and_says_it_is_external() {
    let text = helm_template(
        "shop",
        "shop",
        &[
            "--set",
            "mode=daemonset",
            "--set",
            "cache.enabled=false",
            "--set",
            "externalCache.statefulSetName=memcached",
            "--set",
            "externalCache.serviceName=memcached",
            "--set",
            "externalCache.namespace=cache",
            "--set",
            "externalCache.replicas=3",
        ],
    );
    assert!(
        text.contains("memcached-2.memcached.cache.svc"),
        "the proxy config does not name the external pods:\n{text}"
    );
    let out = run(
        mclint().args(["check", "-", "--format", "json", "--fail-on", "warning"]),
        text.as_bytes(),
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", out.stdout, out.stderr));
    let findings = report["findings"].as_array().unwrap();
    let loud: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(loud.is_empty(), "errors or warnings: {loud:#?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let external = findings
        .iter()
        .filter(|f| f["rule"] == "proxy-backend-external")
        .count();
    assert_eq!(external, 3, "one info per external pod: {findings:#?}");
}

// ---------------------------------------------------------------------------
// A platform engineer's install flows: minimal values per mode, metrics, the
// scheduling switches, `checksum/config`, mode-specific value errors, and the
// README's example of the sidecars included from a parent chart.
// ---------------------------------------------------------------------------

use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use serde_json::Value;

/// The objects of a rendering, as JSON.
fn objects_of(text: &str) -> Vec<Value> {
    let input = Input {
        name: std::sync::Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.to_string(),
    };
    let docs = parse_stream(&input);
    docs.iter()
        .filter_map(|d| as_object(d)?.ok())
        .map(|o| o.json.to_serde())
        .collect()
}

fn named<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// `mclint check --fail-on warning` on a rendering: the findings at warning or
/// above (infos such as `unknown-kind` for a ServiceMonitor are allowed).
fn loud_findings(text: &str) -> Vec<String> {
    let out = run(
        mclint().args(["check", "-", "--format", "json", "--fail-on", "warning"]),
        text.as_bytes(),
    );
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", out.stdout, out.stderr));
    let loud: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}: {}", f["rule"], f["object"]["name"], f["message"]))
        .collect();
    assert_eq!(
        out.code,
        i32::from(!loud.is_empty()),
        "exit code disagrees with the findings: {}",
        out.stderr
    );
    loud
}

/// The minimum a user types per mode (one `--set` per list element, which
/// `helm` and the project's Helm engine read the same way).
const APP: &str = "app.containers[0].name=app,app.containers[0].image=nginx:1.27";

fn install_flows() -> Vec<(String, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut flows = vec![
        ("defaults (cache)".to_string(), Vec::new()),
        ("daemonset".into(), s(&["--set", "mode=daemonset"])),
        (
            "replicated-sharded".into(),
            s(&["--set", "mode=replicated-sharded"]),
        ),
        (
            "sidecar".into(),
            s(&["--set", "mode=sidecar", "--set", APP]),
        ),
        (
            "sidecar-failover".into(),
            s(&["--set", "mode=sidecar-failover", "--set", APP]),
        ),
        (
            "sidecar without the app".into(),
            s(&["--set", "mode=sidecar-failover,app.enabled=false"]),
        ),
        (
            "daemonset LoadBalancer".into(),
            s(&[
                "--set",
                "mode=daemonset,proxy.service.type=LoadBalancer",
                "--set",
                "proxy.service.loadBalancerSourceRanges[0]=10.0.0.0/8",
            ]),
        ),
        (
            "soft anti-affinity".into(),
            s(&[
                "--set",
                "mode=replicated-sharded,cache.podAntiAffinity=soft",
            ]),
        ),
        (
            "no anti-affinity, zone spread".into(),
            s(&[
                "--set",
                "mode=replicated-sharded,cache.podAntiAffinity=none",
                "--set-json",
                r#"cache.topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule"}]"#,
            ]),
        ),
    ];
    for values in ci_values() {
        let name = values.file_name().unwrap().to_string_lossy().to_string();
        flows.push((
            format!("{name} + metrics + ServiceMonitor"),
            vec![
                "-f".into(),
                values.to_string_lossy().to_string(),
                "--set".into(),
                "metrics.enabled=true,metrics.serviceMonitor.enabled=true".into(),
            ],
        ));
    }
    flows
}

#[test]
fn minimal_installs_of_every_mode_lint_strict_and_are_clean_under_mclint() {
    let mut problems = Vec::new();
    for (name, args) in install_flows() {
        let lint = helm()
            .args(["lint", "--strict"])
            .arg(chart())
            .args(&args)
            .output()
            .unwrap();
        if !lint.status.success() {
            problems.push(format!(
                "{name}: helm lint --strict failed: {}{}",
                String::from_utf8_lossy(&lint.stdout),
                String::from_utf8_lossy(&lint.stderr)
            ));
            continue;
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = helm_template("shop", "shop", &argv);
        for f in loud_findings(&text) {
            problems.push(format!("{name}: {f}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every container the chart itself renders (not the user's app containers)
/// is hardened, and every pod has no service-account token and a probe on a
/// declared port for each serving container.
#[test]
fn every_chart_container_is_hardened_and_probed_in_every_flow() {
    let mut problems = Vec::new();
    let mut chart_containers = 0;
    for (name, args) in install_flows() {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let objects = objects_of(&helm_template("shop", "shop", &argv));
        for o in &objects {
            let spec = match o["kind"].as_str().unwrap() {
                "Pod" => &o["spec"],
                "StatefulSet" | "DaemonSet" | "Deployment" => &o["spec"]["template"]["spec"],
                _ => continue,
            };
            let what = format!("{name}: {} {}", o["kind"], o["metadata"]["name"]);
            if spec["automountServiceAccountToken"] != false {
                problems.push(format!("{what}: mounts a service account token"));
            }
            let all = ["initContainers", "containers"]
                .iter()
                .flat_map(|k| spec[*k].as_array().cloned().unwrap_or_default());
            for c in all {
                let cname = c["name"].as_str().unwrap_or("?");
                // The chart's own containers; the others (the app, and the
                // extra containers of the ci files) are the user's.
                if ![
                    "memcached",
                    "exporter",
                    "memcached-proxy",
                    "memcached-local",
                    "set-get",
                ]
                .contains(&cname)
                {
                    continue;
                }
                chart_containers += 1;
                let sc = &c["securityContext"];
                let hardened = sc["runAsNonRoot"] == true
                    && sc["readOnlyRootFilesystem"] == true
                    && sc["allowPrivilegeEscalation"] == false
                    && sc["capabilities"]["drop"] == serde_json::json!(["ALL"])
                    && sc["seccompProfile"]["type"] == "RuntimeDefault";
                if !hardened {
                    problems.push(format!("{what} container {cname}: securityContext {sc}"));
                }
                if c["resources"]["limits"]["memory"].is_null() {
                    problems.push(format!("{what} container {cname}: no memory limit"));
                }
                let long_running = cname != "set-get";
                if long_running && (c["livenessProbe"].is_null() || c["readinessProbe"].is_null()) {
                    problems.push(format!("{what} container {cname}: missing probes"));
                }
                // A native sidecar holds the app back until its startup probe passes.
                if c["restartPolicy"] == "Always" && c["startupProbe"].is_null() {
                    problems.push(format!("{what} sidecar {cname}: no startupProbe"));
                }
                let ports: Vec<&str> = c["ports"]
                    .as_array()
                    .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
                    .unwrap_or_default();
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    if let Some(port) = c[probe]["tcpSocket"]["port"].as_str()
                        && !ports.contains(&port)
                    {
                        problems.push(format!(
                            "{what} container {cname}: {probe} on undeclared port {port}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        chart_containers > 50,
        "{chart_containers} chart containers checked"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The user's app containers are not forced to memcached's uid 11211 (an
/// nginx image cannot start as that user), while the chart's sidecars are.
#[test]
fn app_pods_do_not_force_memcacheds_user_on_the_users_containers() {
    let objects = objects_of(&helm_template(
        "shop",
        "shop",
        &["--set", "mode=sidecar", "--set", APP],
    ));
    let app = named(&objects, "Deployment")[0];
    let pod = &app["spec"]["template"]["spec"];
    assert!(
        pod["securityContext"]["runAsUser"].is_null()
            && pod["securityContext"]["runAsNonRoot"].is_null(),
        "the app pod forces a user on the app's containers: {}",
        pod["securityContext"]
    );
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let proxy = &pod["initContainers"][0];
    assert_eq!(proxy["name"], "memcached-proxy");
    assert_eq!(proxy["securityContext"]["runAsUser"], 11211);
}

fn checksum(objects: &[Value], kind: &str) -> String {
    let o = named(objects, kind)
        .into_iter()
        .find(|o| !o["spec"]["template"]["metadata"]["annotations"]["checksum/config"].is_null())
        .unwrap_or_else(|| panic!("no {kind} with a checksum/config annotation"));
    o["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn checksum_config_rolls_the_proxies_when_the_cache_is_scaled_and_only_then() {
    for (mode, kind) in [
        ("daemonset", "DaemonSet"),
        ("replicated-sharded", "DaemonSet"),
        ("sidecar", "Deployment"),
        ("sidecar-failover", "Deployment"),
    ] {
        let values = chart().join(format!("ci/{mode}-values.yaml"));
        let v = values.to_string_lossy().to_string();
        let render =
            |extra: &str| objects_of(&helm_template("shop", "shop", &["-f", &v, "--set", extra]));
        let base = render("cache.replicas=3");
        let scaled = render("cache.replicas=4");
        let timeouts = render("cache.replicas=3,proxy.settings.backend_read_timeout=2");
        let unrelated = render("cache.replicas=3,cache.podAnnotations.team=shop");
        let cm = |objs: &[Value]| named(objs, "ConfigMap")[0]["data"]["proxy.lua"].clone();
        assert_ne!(
            cm(&base),
            cm(&scaled),
            "{mode}: scaling did not change the config"
        );
        assert_ne!(
            checksum(&base, kind),
            checksum(&scaled, kind),
            "{mode}: scaling cache.replicas 3 -> 4 leaves checksum/config unchanged, so proxies keep the old pool"
        );
        assert_ne!(
            checksum(&base, kind),
            checksum(&timeouts, kind),
            "{mode}: a proxy setting change leaves checksum/config unchanged"
        );
        assert_eq!(
            checksum(&base, kind),
            checksum(&unrelated, kind),
            "{mode}: a value outside the proxy config rolls the proxies"
        );
    }
}

#[test]
fn the_servicemonitor_selects_the_cache_service_and_its_exporter_port() {
    for mode in ["cache", "replicated-sharded"] {
        let values = chart().join(format!("ci/{mode}-values.yaml"));
        let v = values.to_string_lossy().to_string();
        let objects = objects_of(&helm_template(
            "shop",
            "shop",
            &[
                "-f",
                &v,
                "--set",
                "metrics.enabled=true,metrics.serviceMonitor.enabled=true,metrics.port=9300",
            ],
        ));
        let sm = named(&objects, "ServiceMonitor")[0];
        assert_eq!(
            sm["spec"]["namespaceSelector"]["matchNames"],
            serde_json::json!(["shop"])
        );
        let wanted = sm["spec"]["selector"]["matchLabels"].as_object().unwrap();
        let services: Vec<&Value> = named(&objects, "Service")
            .into_iter()
            .filter(|s| {
                wanted
                    .iter()
                    .all(|(k, v)| s["metadata"]["labels"].get(k) == Some(v))
            })
            .collect();
        assert_eq!(
            services.len(),
            1,
            "{mode}: the ServiceMonitor selects {services:#?}"
        );
        let svc = services[0];
        assert_eq!(
            svc["spec"]["clusterIP"], "None",
            "{mode}: not the headless cache Service"
        );
        let endpoint = sm["spec"]["endpoints"][0]["port"].as_str().unwrap();
        let port = svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == endpoint)
            .unwrap_or_else(|| panic!("{mode}: Service has no port `{endpoint}`"));
        assert_eq!(port["port"], 9300);
        let target = port["targetPort"].as_str().unwrap();
        let sets = named(&objects, "StatefulSet");
        assert!(!sets.is_empty());
        for sts in sets {
            let exporter = sts["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "exporter")
                .unwrap_or_else(|| panic!("{mode}: no exporter in {}", sts["metadata"]["name"]));
            let declared = exporter["ports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == target)
                .unwrap_or_else(|| panic!("{mode}: exporter declares no port `{target}`"));
            assert_eq!(declared["containerPort"], 9300);
            let args = exporter["args"].to_string();
            assert!(
                args.contains("--web.listen-address=:9300"),
                "{mode}: {args}"
            );
            assert!(
                args.contains("--memcached.address=127.0.0.1:11211"),
                "{mode}: {args}"
            );
        }
    }
}

/// Mode-specific rules live in validateValues, which lists every problem at
/// once and says what to set instead (the schema's conditional errors read
/// "'allOf' failed ... minItems: got 0, want 1").
#[test]
fn mode_specific_value_errors_say_what_to_set_and_come_together() {
    let cases: &[(&str, &[&str])] = &[
        (
            "mode=sidecar",
            &[
                "app.containers[0].name=app,app.containers[0].image=",
                "app.enabled=false",
            ],
        ),
        (
            "mode=daemonset,cache.enabled=false",
            &[
                "externalCache.statefulSetName",
                "externalCache.serviceName",
                "externalCache.replicas",
            ],
        ),
        (
            "mode=replicated-sharded,cache.enabled=false",
            &[
                "cache.enabled=true",
                "mode daemonset, sidecar or sidecar-failover",
            ],
        ),
        (
            "metrics.serviceMonitor.enabled=true",
            &["metrics.enabled=true"],
        ),
        (
            "mode=sidecar-failover,app.containers[0].name=a,app.containers[0].image=b,app.service.enabled=true",
            &["app.service.ports", "port: 80"],
        ),
        (
            "mode=sidecar-failover,cache.enabled=false,metrics.enabled=true",
            &[
                "app.containers",
                "externalCache.serviceName",
                "metrics.enabled",
            ],
        ),
    ];
    let mut problems = Vec::new();
    for (set, words) in cases {
        let out = helm()
            .args(["template", "bad"])
            .arg(chart())
            .args(["--set", set])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            problems.push(format!("--set {set} was accepted"));
            continue;
        }
        for w in *words {
            if !stderr.contains(w) {
                problems.push(format!("--set {set}: the message lacks `{w}`: {stderr}"));
            }
        }
        if stderr.contains("allOf") {
            problems.push(format!(
                "--set {set}: a cryptic schema conditional: {stderr}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fenced block of the chart README that starts with `first_line`.
fn readme_block(first_line: &str) -> String {
    let readme = std::fs::read_to_string(chart().join("README.md")).unwrap();
    let start = readme
        .find(first_line)
        .unwrap_or_else(|| panic!("the chart README has no block starting `{first_line}`"));
    let end = readme[start..].find("```").unwrap() + start;
    readme[start..end].to_string()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_readme_example_of_the_sidecars_in_a_parent_chart_renders_clean_pods() {
    let deployment = readme_block("# templates/deployment.yaml of your chart");
    let values = readme_block("# values.yaml of your chart");
    for mode in ["sidecar-failover", "sidecar"] {
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("shop");
        std::fs::create_dir_all(parent.join("templates")).unwrap();
        std::fs::write(
            parent.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: distributed-memcached\n    version: 0.2.0\n    repository: file://{}\n",
                chart().display()
            ),
        )
        .unwrap();
        // What `helm dependency build` does for a file:// dependency.
        copy_dir(&chart(), &parent.join("charts/distributed-memcached"));
        std::fs::write(parent.join("templates/deployment.yaml"), &deployment).unwrap();
        std::fs::write(
            parent.join("values.yaml"),
            values.replace("mode: sidecar-failover", &format!("mode: {mode}")),
        )
        .unwrap();
        let out = helm()
            .args(["template", "shop"])
            .arg(&parent)
            .args(["-n", "shop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let loud = loud_findings(&text);
        assert!(loud.is_empty(), "{mode}: {}", loud.join("\n"));
        let objects = objects_of(&text);
        let shop = named(&objects, "Deployment")
            .into_iter()
            .find(|d| d["metadata"]["name"] == "shop")
            .unwrap_or_else(|| panic!("{mode}: no Deployment shop"));
        assert_eq!(shop["metadata"]["namespace"], "shop");
        let pod = &shop["spec"]["template"]["spec"];
        let sidecars: Vec<&str> = pod["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .inspect(|c| assert_eq!(c["restartPolicy"], "Always", "{mode}: {c}"))
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let expected: &[&str] = if mode == "sidecar" {
            &["memcached-proxy"]
        } else {
            &["memcached-local", "memcached-proxy"]
        };
        assert_eq!(sidecars, expected, "{mode}");
        let cm_name = &pod["volumes"][0]["configMap"]["name"];
        assert!(
            named(&objects, "ConfigMap")
                .iter()
                .any(|c| &c["metadata"]["name"] == cm_name && c["metadata"]["namespace"] == "shop"),
            "{mode}: the volume's ConfigMap {cm_name} is not rendered in the namespace"
        );
        assert!(
            named(&objects, "Deployment").len() == 1,
            "{mode}: the subchart still renders its own app Deployment"
        );
        let annotation =
            shop["spec"]["template"]["metadata"]["annotations"]["checksum/memcached-proxy"]
                .as_str()
                .unwrap_or_default();
        assert_eq!(
            annotation.len(),
            64,
            "{mode}: no config checksum annotation"
        );
    }
}

/// NOTES.txt as `helm install` prints it (the Helm engine's `template` drops
/// NOTES, so a scratch copy of the chart renders it through `tpl`).
fn notes(args: &[&str]) -> (String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("distributed-memcached");
    copy_dir(&chart(), &copy);
    std::fs::rename(copy.join("templates/NOTES.txt"), copy.join("notes.txt")).unwrap();
    std::fs::write(
        copy.join("templates/zz-notes.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zz-notes\ndata:\n  notes: |\n{{ tpl (.Files.Get \"notes.txt\") . | indent 4 }}\n",
    )
    .unwrap();
    let out = helm()
        .args(["template", "shop"])
        .arg(&copy)
        .args(["-n", "shop"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = objects_of(&String::from_utf8(out.stdout).unwrap());
    let text = named(&objects, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["name"] == "zz-notes")
        .unwrap()["data"]["notes"]
        .as_str()
        .unwrap()
        .to_string();
    (text, objects)
}

#[test]
fn notes_name_the_objects_the_release_really_has() {
    for mode in [
        "cache",
        "daemonset",
        "sidecar",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        let values = chart().join(format!("ci/{mode}-values.yaml"));
        let v = values.to_string_lossy().to_string();
        let (text, objects) = notes(&["-f", &v]);
        assert!(text.contains(&format!("(mode: {mode})")), "{mode}:\n{text}");
        assert!(text.contains("helm test shop -n shop"), "{mode}:\n{text}");
        // Every cache pod address printed is a pod of a rendered StatefulSet.
        for sts in named(&objects, "StatefulSet") {
            let name = sts["metadata"]["name"].as_str().unwrap();
            let svc = sts["spec"]["serviceName"].as_str().unwrap();
            for i in 0..sts["spec"]["replicas"].as_u64().unwrap() {
                let pod = format!("{name}-{i}.{svc}.shop.svc.cluster.local:11211");
                assert!(text.contains(&pod), "{mode}: {pod} missing:\n{text}");
            }
        }
        match mode {
            "daemonset" | "replicated-sharded" => {
                let proxy = named(&objects, "Service")
                    .into_iter()
                    .find(|s| s["metadata"]["labels"]["app.kubernetes.io/component"] == "proxy")
                    .unwrap();
                let addr = format!(
                    "{}.shop.svc.cluster.local",
                    proxy["metadata"]["name"].as_str().unwrap()
                );
                let port = proxy["spec"]["ports"][0]["port"].as_u64().unwrap();
                assert!(
                    text.contains(&format!("{addr}:{port}"))
                        && text.contains(&format!("nc -w 2 {addr} {port}")),
                    "{mode}: the proxy Service {addr}:{port} is not what NOTES prints:\n{text}"
                );
            }
            "sidecar" | "sidecar-failover" => {
                let app = named(&objects, "Deployment")[0]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert!(
                    text.contains(&format!("exec deploy/{app} -c memcached-proxy")),
                    "{mode}: NOTES does not exec into Deployment {app}:\n{text}"
                );
            }
            _ => assert!(
                text.contains("nc -w 2 shop-distributed-memcached-0."),
                "{text}"
            ),
        }
        assert!(
            !text.contains("\n\n\n"),
            "{mode}: runs of blank lines:\n{text}"
        );
    }
    let (text, _) = notes(&["--set", "mode=daemonset,proxy.service.type=NodePort"]);
    assert!(text.contains("nodePort"), "NodePort:\n{text}");
}
