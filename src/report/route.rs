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

fn placement_json(p: &Placement) -> serde_json::Value {
    let mut v = json!({
        "key": p.key,
        "command": p.command,
        "route": p.route,
        "backends": p.backends.iter().map(|b| json!({
            "pool": b.pool,
            "backend": b.backend,
            "label": b.label,
            "role": b.role,
        })).collect::<Vec<_>>(),
    });
    if let Some(e) = &p.error {
        v["error"] = json!(e);
    }
    if !p.notes.is_empty() {
        v["notes"] = json!(p.notes);
    }
    v
}

pub fn write(format: RouteFormat, output: &RouteOutput, out: &mut dyn Write) -> io::Result<()> {
    match (format, output) {
        (RouteFormat::Json, RouteOutput::Placements(list)) => {
            for p in list {
                serde_json::to_writer(&mut *out, &placement_json(p))?;
                writeln!(out)?;
            }
        }
        (RouteFormat::Text, RouteOutput::Placements(list)) => {
            for p in list {
                let hops: Vec<String> = p
                    .backends
                    .iter()
                    .map(|b| {
                        let label = if b.label == b.backend {
                            String::new()
                        } else {
                            format!(" [{}]", b.label)
                        };
                        format!("{} {}{label} ({})", b.pool, b.backend, b.role)
                    })
                    .collect();
                write!(
                    out,
                    "{} {}  route {}  -> {}",
                    p.command,
                    p.key,
                    p.route,
                    if hops.is_empty() {
                        "(no backend)".to_string()
                    } else {
                        hops.join(", ")
                    }
                )?;
                match &p.error {
                    Some(e) => writeln!(out, "  ERROR: {e}")?,
                    None => writeln!(out)?,
                }
                for n in &p.notes {
                    writeln!(out, "  note: {n}")?;
                }
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
