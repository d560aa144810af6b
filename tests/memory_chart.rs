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
