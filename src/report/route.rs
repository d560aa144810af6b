//! Output of `mclint route`: one JSON object per line (`--format json`) or text.
//! JSON placement lines: `{"key","command","route","backends":[{"pool","backend","label","role"}]}`
//! plus `"error"` when the request cannot be served.

use std::io::{self, Write};

use serde_json::json;

/// `mclint route` writes data, not findings: text for people, JSON lines for tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteFormat {
    Text,
    Json,
}
use crate::escape::write_json_string as json_string;
use crate::proxy::eval::Answer;
use crate::route::{Fragments, KeyOutcome, Placement, RouteOutput, Shape, Streamed, shown};

/// Writes one key's placement (a JSON line, or a text line plus its error and
/// notes): bytes are written as they are, without `core::fmt`, and each
/// backend's text and JSON forms were made once (`route::DescribedBackend`).
/// JSON fields are in name order (the order the format has always had). The
/// usual key is written from its shape instead (the bytes this writes
/// before and after the key, kept once per shape: `write_shaped`).
pub fn write_placement<W: Write + ?Sized>(
    format: RouteFormat,
    p: &Placement,
    out: &mut W,
) -> io::Result<()> {
    write_head(format, p, out)?;
    match format {
        RouteFormat::Json => json_string(out, &p.key)?,
        RouteFormat::Text if p.route.is_empty() && p.backends.is_empty() => {
            out.write_all(key_text(&p.key).as_bytes())?
        }
        RouteFormat::Text => out.write_all(shown(&p.key).as_bytes())?,
    }
    write_tail(format, p, out)
}

/// A placement's line up to its key.
fn write_head<W: Write + ?Sized>(
    format: RouteFormat,
    p: &Placement,
    out: &mut W,
) -> io::Result<()> {
    match format {
        RouteFormat::Json => {
            out.write_all(b"{\"backends\":[")?;
            for (i, b) in p.backends.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(&b.json)?;
                json_string(out, b.role)?;
                out.write_all(b"}")?;
            }
            out.write_all(b"],\"command\":")?;
            json_string(out, &p.command)?;
            if let Some(e) = &p.error {
                out.write_all(b",\"error\":")?;
                json_string(out, e)?;
            }
            out.write_all(b",\"key\":")
        }
        RouteFormat::Text => {
            out.write_all(p.command.as_bytes())?;
            out.write_all(b" ")
        }
    }
}

/// A placement's line (and its notes) after its key.
fn write_tail<W: Write + ?Sized>(
    format: RouteFormat,
    p: &Placement,
    out: &mut W,
) -> io::Result<()> {
    match format {
        RouteFormat::Json => {
            if let Some(k) = &p.key_problem {
                out.write_all(b",\"key_problem\":")?;
                json_string(out, k)?;
            }
            if !p.notes.is_empty() {
                out.write_all(b",\"notes\":[")?;
                for (i, n) in p.notes.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    json_string(out, n)?;
                }
                out.write_all(b"]")?;
            }
            out.write_all(b",\"route\":")?;
            json_string(out, &p.route)?;
            out.write_all(b"}\n")
        }
        RouteFormat::Text => {
            if p.route.is_empty() && p.backends.is_empty() {
                out.write_all(b"  -> (not sent)")?;
            } else {
                out.write_all(b"  route ")?;
                out.write_all(shown(&p.route).as_bytes())?;
                out.write_all(b"  -> ")?;
            }
            if p.backends.is_empty() && !p.route.is_empty() {
                out.write_all(b"(no backend)")?;
            }
            for (i, b) in p.backends.iter().enumerate() {
                if i > 0 {
                    out.write_all(b", ")?;
                }
                out.write_all(b.text.as_bytes())?;
                out.write_all(b" (")?;
                out.write_all(b.role.as_bytes())?;
                out.write_all(b")")?;
            }
            match &p.error {
                Some(e) => {
                    out.write_all(b"  ERROR: ")?;
                    out.write_all(shown(e).as_bytes())?;
                    out.write_all(b"\n")?;
                }
                None => out.write_all(b"\n")?,
            }
            if let Some(k) = &p.key_problem {
                out.write_all(b"  key: ")?;
                out.write_all(shown(k).as_bytes())?;
                out.write_all(b"\n")?;
            }
            for n in &p.notes {
                out.write_all(b"  note: ")?;
                out.write_all(shown(n).as_bytes())?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
    }
}

/// A shape's line around a plain key (one that neither format escapes and
/// that is not empty): what [`write_placement`] writes before and after it.
fn fragments(format: RouteFormat, p: &Placement) -> Fragments {
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    // Writing to a Vec cannot fail.
    let _ = write_head(format, p, &mut head);
    let _ = write_tail(format, p, &mut tail);
    if format == RouteFormat::Json {
        head.push(b'"');
        tail.insert(0, b'"');
    }
    Fragments { head, tail }
}

/// Writes a plain key's placement from its shape's bytes, made on first use.
fn write_shaped<W: Write + ?Sized>(
    format: RouteFormat,
    key: &[u8],
    shape: &Shape,
    out: &mut W,
) -> io::Result<()> {
    let cell = match format {
        RouteFormat::Text => &shape.text,
        RouteFormat::Json => &shape.json,
    };
    let f = cell.get_or_init(|| fragments(format, &shape.placement));
    out.write_all(&f.head)?;
    out.write_all(key)?;
    out.write_all(&f.tail)
}

/// A key for a terminal: escaped, and `""` when empty.
fn key_text(key: &str) -> std::borrow::Cow<'_, str> {
    if key.is_empty() {
        "\"\"".into()
    } else {
        shown(key)
    }
}

/// Writes what `run_with` streams: a placement, or a given key's outcome
/// with a backend down.
/// Generic, so a caller's `BufWriter` takes each piece without a dynamic call.
pub fn write_streamed<W: Write + ?Sized>(
    format: RouteFormat,
    item: &Streamed,
    out: &mut W,
) -> io::Result<()> {
    match item {
        Streamed::Placement(p) => write_placement(format, p, out),
        Streamed::Shaped { key, shape } => write_shaped(format, key, shape, out),
        Streamed::Outcome(o) => write_outcome(format, o, out),
    }
}

fn answer_json(a: &Answer) -> serde_json::Value {
    json!({"hit": a.hit, "miss": a.miss, "error": a.err})
}

/// One answer in words: `hit`, `miss`, `error`, or the shares when they mix.
fn answer_text(a: &Answer, write: bool) -> String {
    let one = |x: f64| (x - 1.0).abs() < 1e-9;
    if one(a.hit) {
        if write { "STORED" } else { "hit" }.to_string()
    } else if one(a.miss) {
        if write { "not stored" } else { "miss" }.to_string()
    } else if one(a.err) {
        "an error (SERVER_ERROR)".to_string()
    } else {
        format!(
            "{:.2}% hit, {:.2}% miss, {:.2}% error",
            100.0 * a.hit,
            100.0 * a.miss,
            100.0 * a.err
        )
    }
}

/// A given key's outcome with the backend down: a JSON line, or text.
pub fn write_outcome<W: Write + ?Sized>(
    format: RouteFormat,
    o: &KeyOutcome,
    out: &mut W,
) -> io::Result<()> {
    match format {
        RouteFormat::Json => {
            let mut v = json!({"key": o.key});
            if let Some(p) = &o.key_problem {
                v["key_problem"] = json!(p);
            }
            if !o.route.is_empty() || o.key_problem.is_none() {
                v["command"] = json!(o.command);
                v["route"] = json!(o.route);
                v["hit"] = json!(o.answer.hit);
                v["miss"] = json!(o.answer.miss);
                v["error"] = json!(o.answer.err);
                if let Some((lo, hi)) = &o.range {
                    v["range"] = json!({
                        "hit": [lo.hit, hi.hit],
                        "miss": [lo.miss, hi.miss],
                        "error": [lo.err, hi.err],
                    });
                }
                if let Some((stored, copies)) = o.copies {
                    v["copies"] = json!({"stored": stored, "of": copies});
                }
                if let Some(r) = &o.recent {
                    v["written_here_recently"] = answer_json(r);
                }
            } else {
                v["refused"] = json!(true);
            }
            v.sort_all_objects();
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)
        }
        RouteFormat::Text => {
            if o.route.is_empty()
                && let Some(p) = &o.key_problem
            {
                return writeln!(out, "{}  refused: {}", key_text(&o.key), shown(p));
            }
            let write = o.command == "set";
            write!(
                out,
                "{} {}  route {}: {}",
                o.command,
                shown(&o.key),
                shown(&o.route),
                answer_text(&o.answer, write)
            )?;
            if let Some((lo, hi)) = &o.range {
                write!(
                    out,
                    " (by worker thread: {} to {})",
                    answer_text(lo, write),
                    answer_text(hi, write)
                )?;
            }
            if let Some((stored, copies)) = o.copies {
                write!(out, "; the data: stored on {stored} of {copies} copies")?;
            }
            if let Some(r) = &o.recent {
                write!(
                    out,
                    "; {} if this pod wrote it within the local cache's TTL",
                    answer_text(r, false)
                )?;
            }
            writeln!(out)?;
            if let Some(p) = &o.key_problem {
                writeln!(out, "  key: {}", shown(p))?;
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
            let mut v = json!({
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
            v.sort_all_objects();
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
                down,
                keys,
                synthetic,
                refused,
                outages,
                per_key,
            },
        ) => {
            for o in per_key {
                write_outcome(format, o, out)?;
            }
            let mut v = json!({
                "down": backend,
                "down_backends": down,
                "keys": keys,
                "synthetic": synthetic,
                "refused": refused,
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
                    if !o.copies.is_empty() {
                        r["copies"] = json!(o.copies.iter().map(|c| json!({
                            "stored": c.stored,
                            "of": c.copies,
                            "share": c.share,
                        })).collect::<Vec<_>>());
                    }
                    if let Some(l) = &o.local {
                        r["local_cache"] = json!({
                            "backends": l.backends,
                            "ttl": l.ttl,
                            "written_here_recently": answer_json(&l.recent),
                        });
                    }
                    if !o.notes.is_empty() {
                        r["notes"] = json!(o.notes);
                    }
                    r
                }).collect::<Vec<_>>(),
            });
            v.sort_all_objects();
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
        (
            RouteFormat::Text,
            RouteOutput::Fail {
                backend,
                down,
                keys,
                synthetic,
                refused,
                outages,
                per_key,
            },
        ) => {
            for o in per_key {
                write_outcome(format, o, out)?;
            }
            let named = if down.len() == 1 && down[0] == *backend {
                shown(backend).into_owned()
            } else {
                format!(
                    "{} ({})",
                    shown(backend),
                    down.iter()
                        .map(|d| shown(d).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let what = if *synthetic {
                format!("{keys} synthetic keys")
            } else if *keys == 1 {
                "the given key".to_string()
            } else {
                format!("the {keys} given keys")
            };
            let refused = if *refused > 0 {
                format!(" ({refused} keys memcached refuses not counted)")
            } else {
                String::new()
            };
            writeln!(out, "{named} down, {what} stored while it was up{refused}:")?;
            for o in outages {
                let range = |f: fn(&Answer) -> f64| match &o.range {
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
                        "  {} route {}: the client sees {:.2}% of writes fail{err}",
                        o.command,
                        shown(&o.route),
                        100.0 * o.answer.err
                    )?;
                    if !o.copies.is_empty() {
                        let spread = o
                            .copies
                            .iter()
                            .map(|c| {
                                format!(
                                    "{} of {} copies stored for {:.2}% of keys",
                                    c.stored,
                                    c.copies,
                                    100.0 * c.share
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        writeln!(out, "    the data: {spread}")?;
                    }
                } else {
                    writeln!(
                        out,
                        "  {} route {}: {:.2}% fail{err}, {:.2}% miss{miss}, {:.2}% hit",
                        o.command,
                        shown(&o.route),
                        100.0 * o.answer.err,
                        100.0 * o.answer.miss,
                        100.0 * o.answer.hit
                    )?;
                    if let Some(l) = &o.local {
                        let ttl = l
                            .ttl
                            .as_ref()
                            .map(|t| format!("in the last {} s (its TTL)", shown(t)))
                            .unwrap_or_else(|| "lately (no route_ttl gives it a TTL)".into());
                        writeln!(
                            out,
                            "    the local cache {} holds only what this pod wrote {ttl}: counted empty above, so the cluster answers these reads; keys this pod wrote that recently: {:.2}% hit",
                            l.backends
                                .iter()
                                .map(|b| shown(b).into_owned())
                                .collect::<Vec<_>>()
                                .join(", "),
                            100.0 * l.recent.hit
                        )?;
                    }
                }
                if o.range.is_some() {
                    for n in &o.notes {
                        writeln!(out, "    note: {}", shown(n))?;
                    }
                }
            }
        }
    }
    Ok(())
}
