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
        let mut child = mclint()
            .args(["check", "-", "--fail-on", "warning", "--color", "never"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{v}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
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
    }
    assert!(BAD_VALUES.len() >= 15);
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
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
