//! The limit loop `scripts/bench-route` compares `mclint route` with: the
//! least work that gives the same answer for a one-pool `route_direct`
//! config. It reads the keys file in large blocks, splits lines, hashes each
//! key with XXH3-64 (the pool's seed) and jump hash, and writes the line
//! `mclint route` writes (text or JSON) from backend strings formatted once.
//! No config is loaded, no key is checked beyond what the output needs:
//! nothing a real router could skip is left in, and nothing it must do is.
//!
//! ```text
//! route_limit KEYS_FILE text|json ROUTE POOL SEED BACKEND...
//! route_limit --measure OUT CMD ARGS...
//! ```
//! SEED is the pool's `options.seed` (`-` for none). Keys must be printable
//! ASCII other than `"` and `\` (what the bench generates): the loop refuses
//! others rather than escape them. Output goes to standard output.
//!
//! Not a criterion bench (`harness = false`): `cargo bench --bench
//! route_limit --no-run` builds it for the script, which runs it as a process
//! next to `mclint route`, timed the same way.

use std::io::{Read, Write};
use std::process::ExitCode;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

fn jump(mut hash: u64, buckets: u32) -> usize {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        hash = hash.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((hash >> 33) + 1) as f64)) as i64;
    }
    b as usize
}

/// `--measure OUT CMD ARGS...`: runs CMD (standard streams inherited) and
/// writes `WALL_SECONDS PEAK_RSS_KIB EXIT_CODE` to OUT. The bench script
/// measures through this small process: a child forked from the script's
/// Python would report the script's own peak RSS when it is larger (the
/// kernel keeps the larger of the parent's and the program's high-water marks).
fn measure(args: &[String]) -> ExitCode {
    let start = std::time::Instant::now();
    let status = match std::process::Command::new(&args[1])
        .args(&args[2..])
        .status()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("route_limit --measure: {}: {e}", args[1]);
            return ExitCode::from(2);
        }
    };
    let wall = start.elapsed().as_secs_f64();
    // SAFETY: getrusage fills the zeroed struct it is given.
    let rss = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    };
    let code = status.code().unwrap_or(-1);
    if let Err(e) = std::fs::write(&args[0], format!("{wall} {rss} {code}\n")) {
        eprintln!("route_limit --measure: {}: {e}", args[0]);
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`; the script runs the binary directly.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--measure") && args.len() >= 3 {
        return measure(&args[1..]);
    }
    if args.len() < 6 || !(args[1] == "text" || args[1] == "json") {
        eprintln!("usage: route_limit KEYS_FILE text|json ROUTE POOL SEED BACKEND...");
        return ExitCode::from(2);
    }
    let (path, json, route, pool) = (&args[0], args[1] == "json", &args[2], &args[3]);
    let seed = if args[4] == "-" {
        0
    } else {
        xxh3_64(args[4].as_bytes())
    };
    let backends = &args[5..];
    for s in [route, pool].into_iter().chain(backends) {
        if !plain(s.as_bytes()) {
            eprintln!("route_limit: {s:?}: only plain ASCII names");
            return ExitCode::from(2);
        }
    }
    // Per backend, what follows the key: formatted once.
    let tails: Vec<Vec<u8>> = backends
        .iter()
        .map(|b| {
            if json {
                format!("\",\"route\":\"{route}\"}}\n").into_bytes()
            } else {
                format!("  route {route}  -> {pool} {b} (primary)\n").into_bytes()
            }
        })
        .collect();
    let heads: Vec<Vec<u8>> = backends
        .iter()
        .map(|b| {
            if json {
                format!(
                    "{{\"backends\":[{{\"backend\":\"{b}\",\"label\":\"{b}\",\"pool\":\"{pool}\",\"role\":\"primary\"}}],\"command\":\"get\",\"key\":\""
                )
                .into_bytes()
            } else {
                b"get ".to_vec()
            }
        })
        .collect();
    let n = backends.len() as u32;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("route_limit: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a line cut by the end of a block.
    let mut carry: Vec<u8> = Vec::with_capacity(256);
    let emit = |key: &[u8], out: &mut dyn Write| -> std::io::Result<bool> {
        let key = key.strip_suffix(b"\r").unwrap_or(key);
        if key.is_empty() {
            return Ok(true);
        }
        if !plain(key) || key.len() > 250 {
            return Ok(false);
        }
        let b = jump(xxh3_64_with_seed(key, seed), n);
        out.write_all(&heads[b])?;
        out.write_all(key)?;
        out.write_all(&tails[b])?;
        Ok(true)
    };
    let result = (|| -> std::io::Result<bool> {
        loop {
            let got = file.read(&mut buf)?;
            if got == 0 {
                if !carry.is_empty() && !emit(&carry, &mut out)? {
                    return Ok(false);
                }
                out.flush()?;
                return Ok(true);
            }
            let mut block = &buf[..got];
            while let Some(i) = block.iter().position(|&c| c == b'\n') {
                let ok = if carry.is_empty() {
                    emit(&block[..i], &mut out)?
                } else {
                    carry.extend_from_slice(&block[..i]);
                    let ok = emit(&carry, &mut out)?;
                    carry.clear();
                    ok
                };
                if !ok {
                    return Ok(false);
                }
                block = &block[i + 1..];
            }
            carry.extend_from_slice(block);
        }
    })();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("route_limit: a key that is not plain ASCII of at most 250 bytes");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("route_limit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Printable ASCII that neither JSON nor mclint's text output escapes.
fn plain(s: &[u8]) -> bool {
    s.iter()
        .all(|&c| (0x21..0x7f).contains(&c) && c != b'"' && c != b'\\')
}
