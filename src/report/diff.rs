//! Writers for `mclint diff`: text, JSON and GitHub job-summary Markdown.

use std::io::{self, Write};

use serde_json::json;

use crate::diff::remap::RouteRemap;
use crate::diff::{DiffFormat, DiffReport};

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn moved_text(m: Option<f64>) -> String {
    m.map_or_else(|| "not measured".to_string(), pct)
}

/// What changed, in one line: the objects (when either side has any) and
/// the proxy configs given as `.lua` files (when either side has any).
fn summary(r: &DiffReport, bold: bool) -> String {
    let o = &r.objects;
    let b = |n: usize| {
        if bold {
            format!("**{n}**")
        } else {
            n.to_string()
        }
    };
    let mut parts = Vec::new();
    let objects = o.changed.len() + o.added.len() + o.removed.len() + o.unchanged;
    if objects > 0 || r.lua_files == 0 {
        parts.push(format!(
            "{} changed, {} added, {} removed, {} unchanged objects",
            b(o.changed.len()),
            b(o.added.len()),
            b(o.removed.len()),
            o.unchanged
        ));
    }
    if r.lua_files > 0 {
        let n = r.config_texts.len();
        parts.push(format!(
            "{} changed proxy config file{}",
            b(n),
            if n == 1 { "" } else { "s" }
        ));
    }
    parts.join("; ")
}

/// The expected share of keys an ideal consistent hash moves for this change
/// of backend count: an average over keys, not a bound (a given key set can
/// move a little less or more).
fn expected_text(x: f64) -> String {
    format!("expected {} with an ideal consistent hash", pct(x))
}

pub fn text(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let o = &r.objects;
    writeln!(
        out,
        "{} → {}: {}",
        shown(&r.old_label),
        shown(&r.new_label),
        summary(r, false)
    )?;
    for c in &o.added {
        writeln!(out, "\n+ {} (added)", shown(&c.key.to_string()))?;
    }
    for c in &o.removed {
        writeln!(out, "\n- {} (removed)", shown(&c.key.to_string()))?;
    }
    for c in &o.changed {
        writeln!(
            out,
            "\n~ {} (+{} -{})",
            shown(&c.key.to_string()),
            c.lines_added,
            c.lines_removed
        )?;
        for line in c.diff.lines() {
            writeln!(out, "  {}", crate::route::shown_keeping_tabs(line))?;
        }
    }
    for c in &r.config_texts {
        writeln!(
            out,
            "\n~ proxy config {} (+{} -{})",
            shown(&config_pair(&c.old, &c.new)),
            c.lines_added,
            c.lines_removed
        )?;
        for line in c.diff.lines() {
            writeln!(out, "  {}", crate::route::shown_keeping_tabs(line))?;
        }
    }
    writeln!(out)?;
    write_remap_text(r, out)
}

fn write_remap_text(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let m = &r.remap;
    if m.routes.is_empty()
        && m.configs_added.is_empty()
        && m.configs_removed.is_empty()
        && m.skipped.is_empty()
    {
        return writeln!(out, "Key remapping: no proxy route on both sides");
    }
    writeln!(out, "Key remapping ({} {} keys):", m.keys, m.key_source)?;
    for g in &m.routes {
        writeln!(
            out,
            "  {} — {}: {} of keys move ({}), {} keep none of their backends",
            g.config,
            route_list(g),
            moved_text(g.moved),
            expected_text(g.ideal),
            moved_text(g.lost)
        )?;
        if let Some(w) = &g.migration {
            writeln!(
                out,
                "    reads missing after the change: {} without the resharding window, {} with it (old placement: {})",
                moved_text(Some(w.miss_without)),
                moved_text(Some(w.miss_with)),
                w.old_placements.join(", ")
            )?;
        }
        for p in &g.pools {
            let note = p
                .note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            writeln!(
                out,
                "    pool {}: {} → {} backends, {} move ({}){note}",
                p.pool,
                p.old_backends,
                p.new_backends,
                moved_text(p.moved),
                expected_text(p.ideal)
            )?;
        }
        for p in &g.pools_removed {
            writeln!(out, "    pool {p}: no longer reached")?;
        }
        for p in &g.pools_added {
            writeln!(out, "    pool {p}: newly reached")?;
        }
    }
    for c in &m.configs_added {
        writeln!(out, "  {c}: new proxy config (nothing to compare)")?;
    }
    for c in &m.configs_removed {
        writeln!(out, "  {c}: proxy config removed")?;
    }
    for s in &m.skipped {
        writeln!(out, "  skipped: {s}")?;
    }
    if let Some(limit) = r.max_remap {
        if r.exceeded.is_empty() {
            writeln!(out, "No route moves more than --max-remap {limit}%.")?;
        } else {
            for g in &r.exceeded {
                writeln!(
                    out,
                    "FAIL: {} — {} moves {} of keys, more than --max-remap {limit}%",
                    g.config,
                    route_list(g),
                    moved_text(g.moved)
                )?;
            }
        }
    }
    Ok(())
}

/// `a.lua`, or `a.lua → b.lua` when two differently named files are compared.
fn config_pair(old: &str, new: &str) -> String {
    if old == new {
        old.to_string()
    } else {
        format!("{old} → {new}")
    }
}

fn route_list(g: &RouteRemap) -> String {
    let label = if g.routes.len() == 1 {
        "route"
    } else {
        "routes"
    };
    format!("{label} {}", g.routes.join(", "))
}

pub fn json(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let mut doc = json!({
        "old": r.old_label,
        "new": r.new_label,
        "objects": r.objects,
        "config_texts": r.config_texts,
        "remap": {
            "keys": r.remap.keys,
            "key_source": r.remap.key_source,
            "routes": r.remap.routes,
            "configs_added": r.remap.configs_added,
            "configs_removed": r.remap.configs_removed,
            "skipped": r.remap.skipped,
        },
        "max_remap": r.max_remap,
        "exceeded": r.exceeded,
    });
    // Keys in order, whatever order the maps were built in.
    doc.sort_all_objects();
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The object table's columns; every row has exactly this many cells.
const OBJECT_HEADER: [&str; 5] = ["change", "kind", "namespace", "name", "lines"];

/// The key-remapping table's columns. A route group's row fills every cell;
/// a pool row leaves `keep none` empty (it is measured per route group only).
const REMAP_HEADER: [&str; 7] = [
    "config",
    "routes",
    "pool",
    "backends",
    "keys moved",
    "expected (ideal hash)",
    "keep none",
];

/// One Markdown table row. The cell count is the array's length, so a row can
/// never have more or fewer cells than its header.
fn table_row<const N: usize>(out: &mut dyn Write, cells: &[String; N]) -> io::Result<()> {
    let mut line = String::from("|");
    for c in cells {
        if c.is_empty() {
            line.push_str(" |");
        } else {
            line.push(' ');
            line.push_str(c);
            line.push_str(" |");
        }
    }
    writeln!(out, "{line}")
}

/// Cell text: a `|` would end the cell, a newline the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for `$GITHUB_STEP_SUMMARY` (or a PR comment).
pub fn github(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let o = &r.objects;
    writeln!(
        out,
        "## mclint diff: `{}` → `{}`\n",
        cell(&r.old_label),
        cell(&r.new_label)
    )?;
    writeln!(out, "{}.\n", summary(r, true))?;
    if !(o.changed.is_empty() && o.added.is_empty() && o.removed.is_empty()) {
        table_row(out, &OBJECT_HEADER.map(String::from))?;
        table_row(out, &OBJECT_HEADER.map(|_| "---".to_string()))?;
        let rows = o
            .added
            .iter()
            .map(|c| ("added", c))
            .chain(o.removed.iter().map(|c| ("removed", c)))
            .chain(o.changed.iter().map(|c| ("changed", c)));
        for (what, c) in rows {
            table_row(
                out,
                &[
                    what.to_string(),
                    cell(&c.key.kind),
                    cell(&c.key.namespace),
                    cell(&c.key.name),
                    format!("+{} −{}", c.lines_added, c.lines_removed),
                ],
            )?;
        }
        writeln!(out)?;
        for c in &o.changed {
            writeln!(
                out,
                "<details><summary>{}</summary>\n",
                html(&c.key.to_string())
            )?;
            writeln!(out, "````diff\n{}````\n", c.diff)?;
            writeln!(out, "</details>\n")?;
        }
    }
    for c in &r.config_texts {
        writeln!(
            out,
            "<details><summary>proxy config {} (+{} −{})</summary>\n",
            html(&config_pair(&c.old, &c.new)),
            c.lines_added,
            c.lines_removed
        )?;
        writeln!(out, "````diff\n{}````\n", c.diff)?;
        writeln!(out, "</details>\n")?;
    }
    let m = &r.remap;
    writeln!(
        out,
        "### Key remapping ({} {} keys)\n",
        m.keys, m.key_source
    )?;
    if m.routes.is_empty() {
        writeln!(out, "No proxy route exists on both sides.\n")?;
    } else {
        table_row(out, &REMAP_HEADER.map(String::from))?;
        table_row(out, &REMAP_HEADER.map(|_| "---".to_string()))?;
        for g in &m.routes {
            let flag = if r.exceeded.contains(g) { " ❌" } else { "" };
            table_row(
                out,
                &[
                    cell(&g.config),
                    cell(&g.routes.join(", ")),
                    "**all**".to_string(),
                    String::new(),
                    format!("**{}**{flag}", moved_text(g.moved)),
                    pct(g.ideal),
                    moved_text(g.lost),
                ],
            )?;
            for p in &g.pools {
                table_row(
                    out,
                    &[
                        String::new(),
                        String::new(),
                        cell(&p.pool),
                        format!("{} → {}", p.old_backends, p.new_backends),
                        moved_text(p.moved),
                        pct(p.ideal),
                        String::new(),
                    ],
                )?;
            }
            let gone = g.pools_removed.iter().map(|p| (p, "no longer reached"));
            let new = g.pools_added.iter().map(|p| (p, "newly reached"));
            for (p, what) in gone.chain(new) {
                table_row(
                    out,
                    &[
                        String::new(),
                        String::new(),
                        cell(p),
                        what.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                )?;
            }
        }
        writeln!(out)?;
    }
    for g in &m.routes {
        if let Some(w) = &g.migration {
            writeln!(
                out,
                "- {} — {}: reads missing after the change: {} without the resharding window, {} with it (old placement: {})",
                cell(&g.config),
                cell(&g.routes.join(", ")),
                moved_text(Some(w.miss_without)),
                moved_text(Some(w.miss_with)),
                cell(&w.old_placements.join(", "))
            )?;
        }
    }
    for c in &m.configs_added {
        writeln!(out, "- {}: new proxy config", cell(c))?;
    }
    for c in &m.configs_removed {
        writeln!(out, "- {}: proxy config removed", cell(c))?;
    }
    for s in &m.skipped {
        writeln!(out, "- skipped: {}", cell(s))?;
    }
    if let Some(limit) = r.max_remap {
        if r.exceeded.is_empty() {
            writeln!(out, "\n✅ No route moves more than {limit}% of keys.")?;
        } else {
            writeln!(
                out,
                "\n❌ {} route group(s) move more than {limit}% of keys.",
                r.exceeded.len()
            )?;
        }
    }
    Ok(())
}

/// Text from the inputs (names, labels, diff lines) safe for a terminal.
fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    crate::route::shown(s)
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes a diff report in a format.
pub fn write(format: DiffFormat, report: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    match format {
        DiffFormat::Text => text(report, out),
        DiffFormat::Json => json(report, out),
        DiffFormat::Github => github(report, out),
    }
}
