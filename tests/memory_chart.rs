//! The chart's derived memory requests and limits agree with mclint's memory
//! model: rendering the chart for a range of cache sizes, threads and
//! connection limits gives no memory finding, and a limit set just below the
//! estimate is an error.

mod support;

use mclint::memcached::cmdline::{ArgRef, ArgWord, parse};
use mclint::memcached::memory::estimate;

/// Runs `mclint check --format json --select <memory rules>` on a rendering.
fn memory_findings(rendered: &str) -> Vec<serde_json::Value> {
    let rules: Vec<&str> = mclint::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| id.starts_with("memory-"))
        .collect();
    assert!(rules.len() >= 8, "memory rules missing: {rules:?}");
    let out = support::run(
        support::mclint().args([
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--select",
            &rules.join(","),
            "-",
        ]),
        rendered.as_bytes(),
    );
    assert_eq!(out.code, 0, "mclint failed: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("mclint JSON");
    doc["findings"].as_array().cloned().unwrap_or_default()
}

fn summary(findings: &[serde_json::Value]) -> String {
    findings
        .iter()
        .map(|f| format!("{}: {}", f["rule"], f["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A values file giving the app the container the sidecar modes need.
fn app_values(dir: &std::path::Path) -> std::path::PathBuf {
    let values = dir.join("app.yaml");
    std::fs::write(
        &values,
        "app:\n  containers:\n    - name: app\n      image: example/app:1\n",
    )
    .unwrap();
    values
}

#[test]
fn derived_resources_satisfy_the_memory_rules() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for mib in [64, 128, 256, 512, 1024, 4096, 16384] {
        for (threads, conns) in [(4, 1024), (1, 256), (8, 4096), (2, 2048)] {
            let rendered = support::helm_template(
                "r",
                "cache",
                &[
                    "--set",
                    &format!("cache.memoryMiB={mib}"),
                    "--set",
                    &format!("cache.threads={threads}"),
                    "--set",
                    &format!("cache.maxConnections={conns}"),
                ],
            );
            assert!(
                rendered.contains(&format!("\"{mib}\"")),
                "-m {mib} not rendered"
            );
            let findings = memory_findings(&rendered);
            checked += 1;
            if !findings.is_empty() {
                failures.push(format!(
                    "-m {mib} -t {threads} -c {conns}:\n{}",
                    summary(&findings)
                ));
            }
        }
    }
    assert_eq!(checked, 28);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The chart's default limit for `-m 1024` matches the estimate rounded up, so
/// a limit 1 MiB below the estimate must be an error.
#[test]
fn a_limit_just_below_the_estimate_is_an_error() {
    let rendered = support::helm_template("r", "cache", &["--set", "cache.memoryMiB=1024"]);
    // The estimate of the arguments the chart passes (its defaults).
    let argv: Vec<ArgWord> = [
        "-m",
        "1024",
        "-p",
        "11211",
        "-c",
        "1024",
        "-t",
        "4",
        "-I",
        "1m",
        "-o",
        "read_buf_mem_limit=32",
        "-U",
        "0",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| ArgWord::new(*s, ArgRef::args(i)))
    .collect();
    let e = estimate(&parse(&argv));
    let below = e.total_peak / (1 << 20) - 1;
    let rendered_low = support::helm_template(
        "r",
        "cache",
        &[
            "--set",
            "cache.memoryMiB=1024",
            "--set",
            &format!("cache.resources.limits.memory={below}Mi"),
        ],
    );
    assert!(
        rendered_low.contains(&format!("memory: {below}Mi")),
        "limit override not rendered"
    );
    assert_ne!(rendered, rendered_low);
    let findings = memory_findings(&rendered_low);
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "memory-limit-below-peak")
        .collect();
    assert_eq!(errors.len(), 1, "{}", summary(&findings));
    let msg = errors[0]["message"].as_str().unwrap();
    for part in ["cache", "hash table", "connections", "threads", "baseline"] {
        assert!(msg.contains(part), "breakdown lacks {part}: {msg}");
    }
    assert!(
        msg.contains(&format!("{}Mi", e.recommended_limit() >> 20)),
        "{msg}"
    );
    // ... and the chart's own default passes.
    assert!(
        memory_findings(&rendered).is_empty(),
        "{}",
        summary(&memory_findings(&rendered))
    );
}

/// Every mode renders without a memory error (proxy warnings are reported
/// to the chart's owner, see docs/memory-model.md).
#[test]
fn no_mode_renders_a_memory_error() {
    // The sidecar modes need an application container.
    let dir = tempfile::tempdir().unwrap();
    let values = app_values(dir.path());
    let values = values.to_str().unwrap();
    for mode in [
        "cache",
        "daemonset",
        "sidecar",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        let mode_arg = format!("mode={mode}");
        let rendered = support::helm_template("r", "cache", &["--set", &mode_arg, "-f", values]);
        let findings = memory_findings(&rendered);
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f["severity"] == "error")
            .cloned()
            .collect();
        assert!(errors.is_empty(), "mode {mode}:\n{}", summary(&errors));
    }
}

/// The local cache sidecar's and the proxy's derived resources satisfy the
/// memory rules across sizes too (the cache's are covered above).
#[test]
fn local_cache_and_proxy_resources_satisfy_the_memory_rules_across_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let values = app_values(dir.path());
    let values = values.to_str().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for mib in [8, 16, 64, 256, 1024] {
        for (threads, conns) in [(1, 64), (2, 1024), (4, 4096)] {
            for (proxy_threads, proxy_conns) in [(1, 256), (2, 1024), (8, 8192)] {
                let set = format!(
                    "mode=sidecar-failover,localCache.memoryMiB={mib},localCache.threads={threads},localCache.maxConnections={conns},proxy.threads={proxy_threads},proxy.maxConnections={proxy_conns}"
                );
                let rendered = support::helm_template("r", "cache", &["--set", &set, "-f", values]);
                assert!(
                    rendered.contains(&format!("\"{mib}\"")),
                    "local -m {mib} not rendered"
                );
                let findings: Vec<_> = memory_findings(&rendered)
                    .into_iter()
                    .filter(|f| f["severity"] != "info")
                    .collect();
                checked += 1;
                if !findings.is_empty() {
                    failures.push(format!("{set}:\n{}", summary(&findings)));
                }
            }
        }
    }
    assert_eq!(checked, 45);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A Kubernetes memory quantity in bytes (the forms the chart renders and the
/// tests below write).
fn quantity_bytes(q: &str) -> f64 {
    let (num, factor) = [
        ("Ki", 1024f64),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ]
    .iter()
    .find_map(|(s, f)| q.strip_suffix(s).map(|n| (n, *f)))
    .unwrap_or((q, 1.0));
    num.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a quantity: {q}"))
        * factor
}

/// Every container's memory request in a rendering is at most its limit.
fn requests_within_limits(rendered: &str) -> Vec<String> {
    let input = mclint::manifest::Input {
        name: std::sync::Arc::from("rendering"),
        kind: mclint::manifest::InputKind::Yaml,
        text: rendered.to_string(),
    };
    let mut out = Vec::new();
    for doc in mclint::manifest::parse_stream(&input) {
        let Some(Ok(o)) = mclint::manifest::as_object(&doc) else {
            continue;
        };
        let v = &o.json;
        let spec = v
            .pointer("/spec/template/spec")
            .or_else(|| v.pointer("/spec"))
            .cloned()
            .unwrap_or_default();
        for key in ["containers", "initContainers"] {
            for c in spec[key].as_array().into_iter().flatten() {
                let req = c
                    .pointer("/resources/requests/memory")
                    .and_then(|q| q.as_str());
                let lim = c
                    .pointer("/resources/limits/memory")
                    .and_then(|q| q.as_str());
                if let (Some(req), Some(lim)) = (req, lim)
                    && quantity_bytes(req) > quantity_bytes(lim)
                {
                    out.push(format!("{}: request {req} > limit {lim}", c["name"]));
                }
            }
        }
    }
    out
}

fn template_result(args: &[&str]) -> (bool, String, String) {
    let out = support::helm()
        .args(["template", "r"])
        .arg(support::repo().join("charts/distributed-memcached"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The chart never renders a memory request above its limit: for the cache,
/// the local cache and the proxy, a derived request over a set limit, a set
/// request over the derived limit, and both set, are refused with the values
/// to change; equal or lower ones render.
#[test]
fn the_chart_never_renders_a_memory_request_above_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_values(dir.path());
    let app = app.to_str().unwrap();
    // (container values key, mode, its derived request, its derived limit)
    let containers = [
        ("cache", "cache", "--set=cache.memoryMiB=1024"),
        (
            "localCache",
            "sidecar-failover",
            "--set=localCache.memoryMiB=256",
        ),
        ("proxy", "daemonset", "--set=proxy.maxConnections=8192"),
    ];
    let mut failures = Vec::new();
    for (key, mode, size) in containers {
        let base = ["--set", &format!("mode={mode}"), "-f", app, size];
        let (ok, rendered, err) = template_result(&base);
        assert!(ok, "{key}: {err}");
        assert!(requests_within_limits(&rendered).is_empty());
        // (extra values, refused?, words the message must contain)
        let combos: Vec<(Vec<String>, bool, Vec<String>)> = vec![
            // A derived request above a limit set too low.
            (
                vec![format!("{key}.resources.limits.memory=4Mi")],
                true,
                vec![
                    format!("{key}.resources.limits.memory"),
                    format!("{key}.resources.requests.memory to at most 4Mi"),
                    "derived from".into(),
                ],
            ),
            // A set request above the derived limit.
            (
                vec![format!("{key}.resources.requests.memory=64Gi")],
                true,
                vec![
                    format!("lower {key}.resources.requests.memory"),
                    format!("{key}.resources.limits.memory to at least 64Gi"),
                ],
            ),
            // Both set, the request above the limit (in other units).
            (
                vec![
                    format!("{key}.resources.requests.memory=1100M"),
                    format!("{key}.resources.limits.memory=1Gi"),
                ],
                true,
                vec![
                    format!("raise {key}.resources.limits.memory to at least 1100M"),
                    format!("lower {key}.resources.requests.memory to at most 1Gi"),
                ],
            ),
            // Equal in other units: fine.
            (
                vec![
                    format!("{key}.resources.requests.memory=1Gi"),
                    format!("{key}.resources.limits.memory=1024Mi"),
                ],
                false,
                vec![],
            ),
            // Below: fine.
            (
                vec![
                    format!("{key}.resources.requests.memory=1G"),
                    format!("{key}.resources.limits.memory=1Gi"),
                ],
                false,
                vec![],
            ),
            // A small set request under the derived limit: fine.
            (
                vec![format!("{key}.resources.requests.memory=1Mi")],
                false,
                vec![],
            ),
        ];
        for (sets, refused, words) in combos {
            let mut args: Vec<&str> = base.to_vec();
            for s in &sets {
                args.push("--set");
                args.push(s);
            }
            let (ok, rendered, err) = template_result(&args);
            let label = format!("{mode} {sets:?}");
            if refused {
                if ok {
                    failures.push(format!(
                        "{label}: rendered {:?}",
                        requests_within_limits(&rendered)
                    ));
                    continue;
                }
                for w in &words {
                    if !err.contains(w.as_str()) {
                        failures.push(format!("{label}: message lacks `{w}`: {err}"));
                    }
                }
            } else if !ok {
                failures.push(format!("{label}: refused: {err}"));
            } else {
                let over = requests_within_limits(&rendered);
                if !over.is_empty() {
                    failures.push(format!("{label}: {over:?}"));
                }
            }
        }
    }
    // Every problem at once: the three containers in one rendering.
    let (ok, _, err) = template_result(&[
        "--set",
        "mode=sidecar-failover",
        "-f",
        app,
        "--set",
        "cache.resources.limits.memory=1Mi,localCache.resources.limits.memory=1Mi,proxy.resources.limits.memory=1Mi",
    ]);
    assert!(!ok);
    for key in ["cache", "localCache", "proxy"] {
        assert!(
            err.contains(&format!("{key}.resources: the memory request")),
            "{key} not reported: {err}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Across modes and sizes, no rendering has a request above its limit.
#[test]
fn no_rendering_has_a_request_above_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_values(dir.path());
    let app = app.to_str().unwrap();
    for mode in [
        "cache",
        "daemonset",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        for mib in [64, 1024, 65536] {
            let set = format!(
                "mode={mode},cache.memoryMiB={mib},localCache.memoryMiB={}",
                mib.min(4096)
            );
            let rendered = support::helm_template("r", "cache", &["--set", &set, "-f", app]);
            let over = requests_within_limits(&rendered);
            assert!(over.is_empty(), "{set}: {over:?}");
        }
    }
}
