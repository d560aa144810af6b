//! Dependencies point one way: commands → rules → domain models → rendering
//! → yaml. Each module of `src/` may use only modules listed before it in
//! [`LAYERS`] (the order within a layer counts too, so no two modules can
//! import each other). Test code (`#[cfg(test)]` onwards) is left out.
//!
//! A new module goes into the table where it belongs; a failure names the
//! file, the line and the module it should not reach.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Bottom first.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "text and data",
        &[
            "small_blocks",
            "json",
            "yaml",
            "suggest",
            "escape",
            "finding",
        ],
    ),
    (
        "rendering",
        &["manifest", "streamed", "k8s", "selector", "rendering"],
    ),
    ("domain models", &["schema", "memcached", "proxy", "netpol"]),
    ("rules", &["rules"]),
    (
        "commands",
        &[
            "template_lines",
            "residue",
            "check",
            "values",
            "route",
            "diff",
            "graph",
        ],
    ),
    ("writers", &["report"]),
    ("command line", &["config", "cli", "main", "lib"]),
];

/// Inside `src/proxy/`, bottom first.
const PROXY: &[&str] = &[
    "hash",
    "lines",
    "value",
    "vm",
    "files",
    "api",
    "model",
    "migration",
    "builder",
    "placement",
    "eval",
    "manifest",
    "mod",
];

fn order(table: &[&str]) -> HashMap<String, usize> {
    table
        .iter()
        .enumerate()
        .map(|(i, m)| (m.to_string(), i))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The non-test lines of a file, numbered from 1.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// Every `prefix` + identifier in `line` (`crate::proxy`, `super::model`).
fn uses<'l>(line: &'l str, prefix: &str) -> Vec<&'l str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c}` on one line.
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let item = item.trim();
                let end = item
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(item.len());
                if end > 0 {
                    out.push(&item[..end]);
                }
            }
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push(&rest[..end]);
        }
    }
    out
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let flat: Vec<&str> = LAYERS
        .iter()
        .flat_map(|(_, ms)| ms.iter().copied())
        .collect();
    let rank = order(&flat);
    let layer_of = |m: &str| {
        LAYERS
            .iter()
            .find(|(_, ms)| ms.contains(&m))
            .map(|(name, _)| *name)
            .unwrap_or("?")
    };
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(&me) = rank.get(&top) else {
            problems.push(format!(
                "src/{}: module `{top}` is not in the layer table of tests/layers.rs",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let prefix = if top == "main" { "mclint::" } else { "crate::" };
        for (n, line) in code_lines(&text) {
            for dep in uses(line, prefix) {
                let Some(&d) = rank.get(dep) else {
                    continue;
                };
                if d > me || (d == me && dep != top) {
                    problems.push(format!(
                        "src/{}:{n}: `{top}` ({}) uses `{dep}` ({}), which is not below it",
                        rel.display(),
                        layer_of(&top),
                        layer_of(dep)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn proxy_submodules_form_no_cycle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proxy");
    let rank = order(PROXY);
    let mut problems = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let me = p.file_stem().unwrap().to_string_lossy().to_string();
        let Some(&mine) = rank.get(&me) else {
            problems.push(format!(
                "src/proxy/{me}.rs is not in PROXY of tests/layers.rs"
            ));
            continue;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in code_lines(&text) {
            let supers = if me == "mod" {
                Vec::new()
            } else {
                uses(line, "super::")
            };
            let deps = supers
                .into_iter()
                .chain(uses(line, "crate::proxy::"))
                .chain(uses(line, "proxy::"));
            for dep in deps {
                if let Some(&d) = rank.get(dep)
                    && d >= mine
                    && dep != me
                {
                    problems.push(format!(
                        "src/proxy/{me}.rs:{n}: `{me}` uses `{dep}`, which is not below it"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
