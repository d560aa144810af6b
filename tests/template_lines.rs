//! `sarif` and `github` locations on the bundled chart: a finding in the
//! rendered stream is annotated on the template line that writes it (or the
//! key whose block a helper writes), never on the rendered line number.

mod support;

use serde_json::Value;
use support::{helm_template, mclint, repo, run};

/// One `::error`/`::warning` workflow command, split up.
#[derive(Debug)]
struct Annotation {
    rule: String,
    /// `mclint RULE (OBJECT)`.
    title: String,
    file: String,
    line: usize,
    end_line: usize,
    message: String,
}

fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn github(rendered: &str) -> Vec<Annotation> {
    let r = run(
        mclint()
            .current_dir(repo())
            .args(["check", "-", "-f", "github", "--fail-on", "never"]),
        rendered.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .filter_map(|l| {
            let (props, message) = l.split_once(' ')?.1.split_once("::")?;
            let prop = |k: &str| {
                props
                    .split(',')
                    .find_map(|p| p.strip_prefix(&format!("{k}=")))
                    .map(unescape)
            };
            let line = prop("line")?.parse().ok()?;
            Some(Annotation {
                title: prop("title")?,
                rule: prop("title")?
                    .strip_prefix("mclint ")?
                    .split(' ')
                    .next()?
                    .to_string(),
                file: prop("file")?,
                line,
                end_line: prop("endLine").and_then(|e| e.parse().ok()).unwrap_or(line),
                message: unescape(message),
            })
        })
        .collect()
}

fn sarif(rendered: &str) -> Vec<Value> {
    let r = run(
        mclint()
            .current_dir(repo())
            .args(["check", "-", "-f", "sarif", "--fail-on", "never"]),
        rendered.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["runs"][0]["results"].as_array().unwrap().clone()
}

/// The lines `line..=end` of a repository file (1-based), checking they exist.
fn region(file: &str, line: usize, end: usize) -> String {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        line >= 1 && end >= line && end <= lines.len(),
        "{file}:{line}-{end} is not within its {} lines",
        lines.len()
    );
    lines[line - 1..end].join("\n")
}

/// The annotation of `rule` on an object whose title contains `object`.
fn find<'a>(all: &'a [Annotation], rule: &str, object: &str) -> &'a Annotation {
    all.iter()
        .find(|a| a.rule == rule && a.title.contains(object))
        .unwrap_or_else(|| panic!("no {rule} on {object}: {all:#?}"))
}

#[test]
fn a_cache_memory_limit_is_annotated_where_the_template_writes_resources() {
    let rendered = helm_template(
        "rel",
        "cache",
        &["--set", "cache.resources.limits.memory=300Mi"],
    );
    let all = github(&rendered);
    let a = find(&all, "memory-limit-below-peak", "(StatefulSet ");
    assert!(
        a.file
            .starts_with("charts/distributed-memcached/templates/"),
        "{a:?}"
    );
    let text = region(&a.file, a.line, a.end_line);
    assert!(
        text.contains("memory") || text.contains("limits"),
        "{}:{}-{}: {text}",
        a.file,
        a.line,
        a.end_line
    );
    // The rendered place stays in the message, and is the rendered limit.
    let rendered_line: usize = a
        .message
        .split("(rendered: <stdin>:")
        .nth(1)
        .and_then(|s| s.split([')', ';']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}", a.message));
    assert_eq!(
        rendered.lines().nth(rendered_line - 1).map(str::trim),
        Some("memory: 300Mi")
    );
    // The template helm named is where the include of the helper is.
    if a.file != "charts/distributed-memcached/templates/cache-statefulset.yaml" {
        let via = a
            .message
            .split("included at ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .unwrap_or_else(|| panic!("{}", a.message));
        let (file, line) = via.rsplit_once(':').unwrap();
        assert_eq!(
            file,
            "charts/distributed-memcached/templates/cache-statefulset.yaml"
        );
        let line: usize = line.parse().unwrap();
        assert!(region(file, line, line).contains("include"), "{via}");
    }

    // SARIF: the same place, with the rendered line in the properties.
    let results = sarif(&rendered);
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "memory-limit-below-peak")
        .unwrap();
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], a.file.as_str());
    assert_eq!(loc["region"]["startLine"], a.line);
    assert_eq!(r["properties"]["renderedLine"], rendered_line);
    assert_eq!(r["properties"]["renderedFile"], "<stdin>");
}

#[test]
fn proxy_findings_land_on_the_proxy_templates() {
    let rendered = helm_template(
        "rel",
        "cache",
        &[
            "-f",
            repo()
                .join("charts/distributed-memcached/ci/daemonset-values.yaml")
                .to_str()
                .unwrap(),
            "--set",
            "image.tag=1.6.20",
            "--set",
            "proxy.resources.limits.memory=20Mi",
        ],
    );
    let all = github(&rendered);
    // The image is written by the DaemonSet template itself.
    let image = find(&all, "proxy-image-version", "(DaemonSet ");
    assert_eq!(
        image.file,
        "charts/distributed-memcached/templates/proxy-daemonset.yaml"
    );
    assert!(
        region(&image.file, image.line, image.line)
            .trim()
            .starts_with("image:"),
        "{image:?}"
    );
    // The proxy's resources: where the proxy container's resources are written.
    let memory = find(&all, "memory-limit-below-peak", "(DaemonSet ");
    let text = region(&memory.file, memory.line, memory.end_line);
    assert!(
        text.contains("resources") || text.contains("memory"),
        "{memory:?}: {text}"
    );
    assert!(
        memory.file == "charts/distributed-memcached/templates/proxy-daemonset.yaml"
            || memory.message.contains(
                "included at charts/distributed-memcached/templates/proxy-daemonset.yaml:"
            ),
        "{memory:?}"
    );
}

#[test]
fn every_annotation_of_every_ci_rendering_is_within_its_file() {
    let ci = repo().join("charts/distributed-memcached/ci");
    let mut values: Vec<_> = std::fs::read_dir(&ci)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    values.sort();
    let mut seen = 0;
    for v in values {
        let rendered = helm_template(
            "rel",
            "cache",
            &[
                "-f",
                v.to_str().unwrap(),
                "--set",
                "cache.resources.limits.memory=300Mi",
                "--set",
                "proxy.resources.limits.memory=20Mi",
            ],
        );
        for a in github(&rendered) {
            // `region` checks the lines exist.
            let text = region(&a.file, a.line, a.end_line);
            assert!(
                !a.message.contains("template line unknown"),
                "{}: {a:?}",
                v.display()
            );
            if a.rule.starts_with("memory-limit") {
                assert!(
                    text.contains("memory")
                        || text.contains("resources")
                        || text.contains("limits"),
                    "{}: {a:?}: {text}",
                    v.display()
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 5, "the broken values raise findings in every mode");
}
