//! The chart's committed architecture diagrams (`charts/distributed-memcached/
//! diagrams/<mode>.{mmd,svg}` and the Mermaid blocks of the chart README) are
//! what `mclint graph` draws from the current chart, and their layout is sound.
//!
//! Regenerate with `scripts/gen-diagrams`, or `MCLINT_BLESS=1 cargo test --test
//! graph` (which rewrites the files and the README blocks already present).

mod support;

use std::path::{Path, PathBuf};

use mclint::graph::model::{Graph, Item};
use mclint::graph::{BuildOptions, graph_of};
use mclint::report::graph::svg::{Rect, layout};
use support::*;

fn chart() -> PathBuf {
    repo().join("charts/distributed-memcached")
}

/// (mode, values file), sorted by file name as `scripts/gen-diagrams` walks them.
fn modes() -> Vec<(String, PathBuf)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart().join("ci"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-values.yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name.trim_end_matches("-values.yaml").to_string(), p)
        })
        .collect()
}

/// Renders a mode as the script does and writes it to `dir`.
fn render(mode: &str, values: &Path, dir: &Path) -> PathBuf {
    let text = helm_template(mode, "cache", &["-f", values.to_str().unwrap()]);
    let path = dir.join(format!("{mode}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn draw(rendered: &Path, format: &str) -> String {
    let out = mclint()
        .args(["graph", "--format", format])
        .arg(rendered)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mclint graph --format {format} {} failed: {}",
        rendered.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn diff(name: &str, committed: &str, fresh: &str) -> String {
    let d = similar::TextDiff::from_lines(committed, fresh)
        .unified_diff()
        .header(&format!("{name} (committed)"), "mclint graph (now)")
        .to_string();
    // An SVG diff can be long; the start tells what moved.
    let lines: Vec<&str> = d.lines().collect();
    if lines.len() > 120 {
        format!(
            "{}\n... ({} more diff lines)\n",
            lines[..120].join("\n"),
            lines.len() - 120
        )
    } else {
        d
    }
}

/// The README's Mermaid block for `mode`, as (start, end) byte offsets of its body.
fn readme_block(readme: &str, mode: &str) -> Option<(usize, usize)> {
    let begin = readme.find("<!-- diagrams:begin")?;
    let end = readme[begin..].find("<!-- diagrams:end -->")? + begin;
    let heading = format!("\n### `{mode}`\n");
    let h = readme[begin..end].find(&heading)? + begin;
    let open = readme[h..end].find("```mermaid\n")? + h + "```mermaid\n".len();
    let close = readme[open..end].find("\n```\n")? + open + 1;
    Some((open, close))
}

#[test]
fn committed_diagrams_are_current() {
    let bless = std::env::var_os("MCLINT_BLESS").is_some();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = chart().join("diagrams");
    let readme_path = chart().join("README.md");
    let mut readme = std::fs::read_to_string(&readme_path).unwrap();
    let mut problems = Vec::new();
    let modes = modes();
    assert!(modes.len() >= 5, "expected a ci values file per mode");
    for (mode, values) in &modes {
        let rendered = render(mode, values, dir.path());
        let mmd = draw(&rendered, "mermaid");
        let svg = draw(&rendered, "svg");
        for (ext, fresh) in [("mmd", &mmd), ("svg", &svg)] {
            let path = out_dir.join(format!("{mode}.{ext}"));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed != *fresh {
                if bless {
                    std::fs::create_dir_all(&out_dir).unwrap();
                    std::fs::write(&path, fresh).unwrap();
                } else {
                    problems.push(diff(&format!("diagrams/{mode}.{ext}"), &committed, fresh));
                }
            }
        }
        match readme_block(&readme, mode) {
            Some((a, b)) if readme[a..b] == mmd => {}
            Some((a, b)) => {
                if bless {
                    readme.replace_range(a..b, &mmd);
                } else {
                    problems.push(diff(&format!("README.md `{mode}` block"), &readme[a..b], &mmd));
                }
            }
            None => problems.push(format!(
                "README.md has no Mermaid block for `{mode}` in its diagrams section: run scripts/gen-diagrams\n"
            )),
        }
    }
    if bless {
        std::fs::write(&readme_path, &readme).unwrap();
    }
    assert!(
        problems.is_empty(),
        "the chart's diagrams are stale; run scripts/gen-diagrams (or MCLINT_BLESS=1 cargo test --test graph)\n{}",
        problems.join("\n")
    );
}

fn graph(rendered: &Path) -> Graph {
    graph_of(
        &[rendered.to_path_buf()],
        &mut std::io::empty(),
        &BuildOptions::default(),
    )
    .unwrap()
}

/// No two boxes of one level overlap, every node is inside its cluster, every
/// cluster inside its parent, all inside the picture.
pub fn assert_sound_layout(g: &Graph, what: &str) {
    let l = layout(g);
    let inside = |inner: &Rect, outer: &Rect| {
        inner.x >= outer.x
            && inner.y >= outer.y
            && inner.x + inner.w <= outer.x + outer.w
            && inner.y + inner.h <= outer.y + outer.h
    };
    let overlap = |a: &Rect, b: &Rect| {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    };
    let page = Rect {
        x: 0,
        y: 0,
        w: l.width,
        h: l.height,
    };
    for (i, a) in l.nodes.iter().enumerate() {
        assert!(
            inside(a, &page),
            "{what}: node {} is off the picture",
            g.nodes[i].id
        );
        for (j, b) in l.nodes.iter().enumerate().skip(i + 1) {
            assert!(
                !overlap(a, b),
                "{what}: nodes {} and {} overlap: {a:?} {b:?}",
                g.nodes[i].id,
                g.nodes[j].id
            );
        }
        if let Some(c) = g.nodes[i].cluster {
            let cb = l.clusters[c].expect("a cluster holding a node is drawn");
            assert!(
                inside(a, &cb),
                "{what}: node {} is outside its cluster {}",
                g.nodes[i].id,
                g.clusters[c].id
            );
        }
    }
    // Siblings (clusters and nodes under one parent) never overlap.
    let mut parents: Vec<Option<usize>> = vec![None];
    parents.extend((0..g.clusters.len()).map(Some));
    for p in parents {
        let boxes: Vec<(String, Rect)> = g
            .children(p)
            .into_iter()
            .filter_map(|it| match it {
                Item::Node(i) => Some((g.nodes[i].id.clone(), l.nodes[i])),
                Item::Cluster(c) => l.clusters[c].map(|r| (g.clusters[c].id.clone(), r)),
            })
            .collect();
        for (i, (na, a)) in boxes.iter().enumerate() {
            for (nb, b) in boxes.iter().skip(i + 1) {
                assert!(!overlap(a, b), "{what}: {na} and {nb} overlap: {a:?} {b:?}");
            }
            if let Some(pc) = p {
                let pb = l.clusters[pc].unwrap();
                assert!(
                    inside(a, &pb),
                    "{what}: {na} sticks out of {}",
                    g.clusters[pc].id
                );
            }
        }
    }
}

#[test]
fn every_mode_lays_out_without_overlaps_and_draws_the_same_twice() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, values) in modes() {
        let rendered = render(&mode, &values, dir.path());
        let g = graph(&rendered);
        assert!(g.warnings.is_empty(), "{mode}: {:?}", g.warnings);
        assert_sound_layout(&g, &mode);
        let svg = mclint::report::graph::render(&g, mclint::graph::GraphFormat::Svg);
        roxmltree::Document::parse(&svg)
            .unwrap_or_else(|e| panic!("{mode}: the SVG is not well-formed XML: {e}"));
        assert_eq!(svg, draw(&rendered, "svg"), "{mode}: two drawings differ");
    }
}

/// What each mode's diagram must show, read from the chart's own renderings.
#[test]
fn each_mode_shows_its_architecture() {
    let dir = tempfile::tempdir().unwrap();
    for (name, values) in modes() {
        let g = graph(&render(&name, &values, dir.path()));
        // A ci file is named after its mode, maybe with a suffix
        // (`daemonset-production`); its `mode:` line says which.
        let text = std::fs::read_to_string(&values).unwrap();
        let mode = text
            .lines()
            .find_map(|l| l.strip_prefix("mode: "))
            .unwrap_or_else(|| panic!("{name}: no `mode:` line"))
            .trim()
            .to_string();
        // Feature files (`zones`, `migration`) name the feature instead.
        assert!(
            name.starts_with(&mode) || ["zones", "migration"].contains(&name.as_str()),
            "{name} holds mode {mode}"
        );
        let kinds =
            |k: mclint::graph::model::NodeKind| g.nodes.iter().filter(|n| n.kind == k).count();
        use mclint::graph::model::NodeKind::*;
        let pods = kinds(CachePod);
        assert!(pods >= 3, "{mode}: {pods} cache pods drawn");
        match mode.as_str() {
            "cache" => {
                assert_eq!(kinds(Proxy), 0, "{mode}");
                assert_eq!(kinds(Service), 1, "{mode}: the headless Service");
                assert_eq!(kinds(Clients), 1, "{mode}");
            }
            "daemonset" | "replicated-sharded" => {
                // One proxy DaemonSet, or one per zone (each drawn in its zone).
                let zones = if name == "zones" { 3 } else { 1 };
                assert_eq!(kinds(Proxy), zones, "{mode}");
                if name == "zones" {
                    for z in ["zone-a", "zone-b", "zone-c"] {
                        assert!(
                            g.clusters.iter().any(|c| c.label.starts_with("DaemonSet ")
                                && c.label.ends_with(&format!("zone {z}"))),
                            "{name}: the proxy DaemonSet of {z}"
                        );
                        assert!(
                            g.clusters
                                .iter()
                                .any(|c| c.label.starts_with("StatefulSet ")
                                    && c.label.contains(&format!("zone {z}"))),
                            "{name}: the cache copy of {z}"
                        );
                    }
                }
                assert!(kinds(Service) >= 1, "{mode}: the proxy Service");
                assert!(
                    g.clusters.iter().any(|c| c.label.starts_with("DaemonSet ")),
                    "{mode}: the proxy DaemonSet"
                );
            }
            "sidecar" | "sidecar-failover" => {
                assert_eq!(kinds(Proxy), 1, "{mode}");
                assert!(kinds(App) >= 1, "{mode}: the app container");
                let local = kinds(LocalCache);
                assert_eq!(
                    local,
                    usize::from(mode == "sidecar-failover"),
                    "{mode}: local cache"
                );
            }
            other => panic!("a ci values file for an unknown mode `{other}`"),
        }
        if mode == "sidecar-failover" {
            assert!(
                g.routes.iter().any(|r| r
                    .contains("get, mg → route_zfailover → set_cache (local first, then cluster")),
                "{mode}: {:#?}",
                g.routes
            );
        }
        if mode == "replicated-sharded" {
            let seeds = g
                .nodes
                .iter()
                .filter(|n| n.kind == Pool && n.lines.iter().any(|l| l.contains("seed")))
                .count();
            assert!(seeds >= 2, "{mode}: each copy's pool shows its seed");
        }
    }
}

#[test]
fn other_values_lay_out_soundly_too() {
    let dir = tempfile::tempdir().unwrap();
    let ci = chart().join("ci");
    for (release, values, set) in [
        (
            "big",
            "replicated-sharded-values.yaml",
            "cache.replicas=14,cache.copies=3",
        ),
        ("five", "sidecar-failover-values.yaml", "cache.replicas=5"),
        ("one", "daemonset-values.yaml", "cache.replicas=1"),
    ] {
        let values = ci.join(values);
        let text = helm_template(
            release,
            "cache",
            &["-f", values.to_str().unwrap(), "--set", set],
        );
        let path = dir.path().join(format!("{release}.yaml"));
        std::fs::write(&path, text).unwrap();
        let g = graph(&path);
        assert!(g.warnings.is_empty(), "{release}: {:?}", g.warnings);
        assert_sound_layout(&g, release);
        if release == "big" {
            let folded = g
                .nodes
                .iter()
                .filter(|n| n.lines[0] == "… 3 more pods")
                .count();
            assert_eq!(folded, 3, "each copy of 14 pods folds 3 of them");
        }
    }
}
