//! Output of `mclint route`: one JSON object per line (`--format json`) or text.
//! JSON placement lines: `{"key","command","route","backends":[{"pool","backend","label","role"}]}`
//! plus `"error"` when the request cannot be served.

use std::io::{self, Write};

use serde_json::json;

/// `mclint route` writes data, not findings: text for people, JSON lines for tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RouteFormat {
    Text,
    Json,
}
use crate::proxy::route_cmd::{Placement, RouteOutput};

/// A placement as a JSON line. Fields in name order (the order the format has
/// always had), borrowed: writing a million of them allocates nothing.
#[derive(serde::Serialize)]
struct PlacementJson<'a> {
    backends: Vec<BackendJson<'a>>,
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    key: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    route: &'a str,
}

#[derive(serde::Serialize)]
struct BackendJson<'a> {
    backend: &'a str,
    label: &'a str,
    pool: &'a str,
    role: &'a str,
}

/// Writes one key's placement (a JSON line, or a text line plus its error and
/// notes).
pub fn write_placement(format: RouteFormat, p: &Placement, out: &mut dyn Write) -> io::Result<()> {
    match format {
        RouteFormat::Json => {
            let v = PlacementJson {
                backends: p
                    .backends
                    .iter()
                    .map(|b| BackendJson {
                        backend: &b.backend,
                        label: &b.label,
                        pool: &b.pool,
                        role: b.role,
                    })
                    .collect(),
                command: &p.command,
                error: p.error.as_deref(),
                key: &p.key,
                notes: &p.notes,
                route: &p.route,
            };
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)
        }
        RouteFormat::Text => {
            write!(out, "{} {}  route {}  -> ", p.command, p.key, p.route)?;
            if p.backends.is_empty() {
                write!(out, "(no backend)")?;
            }
            for (i, b) in p.backends.iter().enumerate() {
                if i > 0 {
                    write!(out, ", ")?;
                }
                write!(out, "{} {}", b.pool, b.backend)?;
                if b.label != b.backend {
                    write!(out, " [{}]", b.label)?;
                }
                write!(out, " ({})", b.role)?;
            }
            match &p.error {
                Some(e) => writeln!(out, "  ERROR: {e}")?,
                None => writeln!(out)?,
            }
            for n in &p.notes {
                writeln!(out, "  note: {n}")?;
            }
            Ok(())
        }
    }
}

pub fn write(format: RouteFormat, output: &RouteOutput, out: &mut dyn Write) -> io::Result<()> {
    match (format, output) {
        (_, RouteOutput::Placements(list)) => {
            for p in list {
                write_placement(format, p, out)?;
            }
        }
        (
            RouteFormat::Json,
            RouteOutput::Stats {
                keys,
                command,
                pools,
                unrouted,
            },
        ) => {
            let v = json!({
                "keys": keys,
                "command": command,
                "unrouted": unrouted,
                "pools": pools.iter().map(|p| json!({
                    "pool": p.pool,
                    "total": p.total,
                    "imbalance": p.imbalance,
                    "backends": p.backends.iter().map(|(b, l, n)| json!({"backend": b, "label": l, "keys": n})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
        (
            RouteFormat::Text,
            RouteOutput::Stats {
                keys,
                command,
                pools,
                unrouted,
            },
        ) => {
            writeln!(out, "{keys} synthetic keys, command {command}")?;
            for p in pools {
                writeln!(
                    out,
                    "pool {}: {} requests, imbalance {:.3} (largest / mean)",
                    p.pool, p.total, p.imbalance
                )?;
                for (b, l, n) in &p.backends {
                    let share = if p.total > 0 {
                        100.0 * *n as f64 / p.total as f64
                    } else {
                        0.0
                    };
                    let label = if l == b {
                        String::new()
                    } else {
                        format!(" [{l}]")
                    };
                    writeln!(out, "  {b}{label}: {n} ({share:.2}%)")?;
                }
            }
            if *unrouted > 0 {
                writeln!(out, "{unrouted} keys reached no backend")?;
            }
        }
        (
            RouteFormat::Json,
            RouteOutput::Fail {
                backend,
                keys,
                outages,
            },
        ) => {
            let v = json!({
                "down": backend,
                "keys": keys,
                "routes": outages.iter().map(|o| {
                    let mut r = json!({
                        "route": o.route,
                        "command": o.command,
                        "keys": o.keys,
                        "hit": o.answer.hit,
                        "miss": o.answer.miss,
                        "error": o.answer.err,
                    });
                    // The answer depends on each worker thread's order.
                    if let Some((lo, hi)) = &o.range {
                        r["range"] = json!({
                            "hit": [lo.hit, hi.hit],
                            "miss": [lo.miss, hi.miss],
                            "error": [lo.err, hi.err],
                        });
                    }
                    if !o.notes.is_empty() {
                        r["notes"] = json!(o.notes);
                    }
                    r
                }).collect::<Vec<_>>(),
            });
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
        (
            RouteFormat::Text,
            RouteOutput::Fail {
                backend,
                keys,
                outages,
            },
        ) => {
            writeln!(
                out,
                "{backend} down, {keys} synthetic keys stored while it was up:"
            )?;
            for o in outages {
                let range = |f: fn(&crate::proxy::eval::Answer) -> f64| match &o.range {
                    Some((lo, hi)) if (f(hi) - f(lo)).abs() > 1e-12 => {
                        format!(
                            " ({:.2}% to {:.2}% by worker thread)",
                            100.0 * f(lo),
                            100.0 * f(hi)
                        )
                    }
                    _ => String::new(),
                };
                let (err, miss) = (range(|a| a.err), range(|a| a.miss));
                if o.command == "set" {
                    writeln!(
                        out,
                        "  {} route {}: {:.2}% of writes fail{err}",
                        o.command,
                        o.route,
                        100.0 * o.answer.err
                    )?;
                } else {
                    writeln!(
                        out,
                        "  {} route {}: {:.2}% fail{err}, {:.2}% miss{miss}, {:.2}% hit",
                        o.command,
                        o.route,
                        100.0 * o.answer.err,
                        100.0 * o.answer.miss,
                        100.0 * o.answer.hit
                    )?;
                }
                if o.range.is_some() {
                    for n in &o.notes {
                        writeln!(out, "    note: {n}")?;
                    }
                }
            }
        }
    }
    Ok(())
}
