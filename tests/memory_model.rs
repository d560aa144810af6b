//! The memory model against the committed measurements of the real memcached
//! 1.6.38 (`docs/memory-measurements.csv`, written by `scripts/measure-memory`).
//!
//! The model only sees the command line, so it is compared with the highest
//! peak measured for each command line (a configuration's rows differ only in
//! workload: idle, a fill with one value size, the worst-case fill). For each
//! configuration: estimate >= measured peak and estimate <= 125 % of it.
//!
//! The `burst` rows (slow readers pipelining multi-gets, no cache fill) are
//! compared on the connection part alone: their growth over the start-up RSS,
//! minus the slab pages the test keys used, against the model's burst (or
//! `read_buf_mem_limit`-capped) connection memory plus the worker threads.

use std::collections::BTreeMap;

use mclint::memcached::cmdline::{ArgRef, ArgWord, MemcachedArgs, parse};
use mclint::memcached::memory::{PAGE_MALLOC_OVERHEAD, burst_connections, estimate, read_buf_cap};

struct Row {
    scenario: String,
    command: String,
    hwm: u64,
    rss_start: u64,
    malloced: u64,
    read_buf_mem_limit: String,
}

fn rows() -> Vec<Row> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/memory-measurements.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (scenario, command, hwm, rss_start, malloced, rbl) = (
        col("scenario"),
        col("command"),
        col("hwm_kib"),
        col("rss_start_kib"),
        col("total_malloced"),
        col("read_buf_mem_limit_mib"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f = split_csv(l);
            assert_eq!(f.len(), header.len(), "malformed row: {l}");
            let num = |i: usize| f[i].parse::<u64>().unwrap_or(0);
            Row {
                scenario: f[scenario].clone(),
                command: f[command].clone(),
                hwm: num(hwm) * 1024,
                rss_start: num(rss_start) * 1024,
                malloced: num(malloced),
                read_buf_mem_limit: f[rbl].clone(),
            }
        })
        .collect()
}

/// One CSV line as Python's csv module writes it: fields holding a comma or a
/// quote are quoted, quotes doubled.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

fn args_of(command: &str) -> MemcachedArgs {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("memcached"), "{command}");
    let argv: Vec<ArgWord> = words
        .enumerate()
        .map(|(i, w)| ArgWord::new(if w == "PORT" { "11211" } else { w }, ArgRef::args(i)))
        .collect();
    let a = parse(&argv);
    assert!(a.problems.is_empty(), "{command}: {:?}", a.problems);
    a
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

#[test]
fn estimate_bounds_every_measured_configuration() {
    let rows = rows();
    let mut peaks: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.scenario != "burst") {
        let p = peaks.entry(r.command.as_str()).or_default();
        *p = (*p).max(r.hwm);
    }
    // The run covers what the model is calibrated on.
    let has = |needle: &str| peaks.keys().any(|c| c.contains(needle));
    for needle in [
        "-m 64 ",
        "-m 256 ",
        "-m 1024 ",
        "-m 4096 ",
        "-t 1",
        "-t 8",
        "-c 150 ",
        "-c 1100 ",
        "-c 5500 ",
        "proxy_config",
    ] {
        assert!(has(needle), "no measurement with `{needle}`");
    }
    let mut failures = Vec::new();
    for (command, &peak) in &peaks {
        let e = estimate(&args_of(command));
        let ratio = e.total_peak as f64 / peak as f64;
        println!(
            "{ratio:>6.3}  est {:>8.1} MiB  measured {:>8.1} MiB  {command}",
            mib(e.total_peak),
            mib(peak)
        );
        if !(1.0..=1.25).contains(&ratio) {
            failures.push(format!(
                "{command}: estimate {:.1} MiB vs measured peak {:.1} MiB (ratio {ratio:.3}; {})",
                mib(e.total_peak),
                mib(peak),
                e.breakdown()
            ));
        }
    }
    assert!(
        peaks.len() >= 15,
        "only {} configurations measured",
        peaks.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn connection_bursts_are_bounded_by_the_model() {
    let rows = rows();
    let bursts: Vec<&Row> = rows.iter().filter(|r| r.scenario == "burst").collect();
    assert!(
        bursts.iter().any(|r| r.read_buf_mem_limit.is_empty()),
        "no burst without read_buf_mem_limit"
    );
    assert!(
        bursts.iter().any(|r| !r.read_buf_mem_limit.is_empty()),
        "no burst with read_buf_mem_limit"
    );
    let mut failures = Vec::new();
    for r in bursts {
        let a = args_of(&r.command);
        let e = estimate(&a);
        let pages = r.malloced / (1 << 20) * ((1 << 20) + PAGE_MALLOC_OVERHEAD);
        let measured = r.hwm - r.rss_start - pages;
        let model = burst_connections(&a) + e.threads;
        let ratio = model as f64 / measured as f64;
        println!(
            "{ratio:>6.3}  model {:>8.1} MiB  measured {:>8.1} MiB  cap {:?}  {}",
            mib(model),
            mib(measured),
            read_buf_cap(&a).map(mib),
            r.command
        );
        if !(1.0..=1.25).contains(&ratio) {
            failures.push(format!(
                "{}: connection memory {:.1} MiB modelled vs {:.1} MiB measured (ratio {ratio:.3})",
                r.command,
                mib(model),
                mib(measured)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
