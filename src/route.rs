//! `mclint route`: where keys go through a proxy config, how evenly synthetic
//! keys spread, and what a backend outage does to reads and writes.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::proxy::eval::EngineError;

use crate::manifest::{InputKind, as_object, parse_stream, read_inputs};
use crate::proxy::eval::{Answer, Engine, Hop, Role, Scenario};
use crate::proxy::model::{ProxyConfig, command_id, is_read, is_ttl_command};
use crate::proxy::{EnvSource, Library, Limits};

/// What `mclint route` was asked (built from the command line).
#[derive(Debug, Clone, Default)]
pub struct RouteRequest {
    pub paths: Vec<PathBuf>,
    pub keys: Vec<String>,
    pub keys_file: Option<PathBuf>,
    pub command: String,
    pub proxy: Option<String>,
    /// `--proxy-config FILE.lua`.
    pub proxy_config: Option<PathBuf>,
    pub libs: Vec<PathBuf>,
    pub env: Vec<String>,
    pub tag: String,
    pub stats: Option<u64>,
    pub fail: Option<String>,
    /// `--zone Z`: answer for a client in zone Z (the proxy pinned there, or
    /// the config read with `local_zone("Z")`).
    pub zone: Option<String>,
}

/// The most synthetic keys `--stats` takes. They are made one at a time, so
/// memory does not depend on N (about 12 MB resident); time does (measured
/// with a debug build on a loaded 2-core machine: 22 s for 10 million keys
/// with `--stats`, 61 s for one million with `--fail` over a 3-copy set).
/// Why `mclint route` cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An option or a key source that cannot be used as given.
    #[error("{0}")]
    Request(String),
    /// A file the request names cannot be read.
    #[error("reading {what}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// No proxy config to route with, several, or one that does not load.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The answer could not be written (a closed pipe, a full disk).
    #[error("writing the routes")]
    Write(#[source] std::io::Error),
}

pub const MAX_STATS_KEYS: u64 = 10_000_000;

/// The most keys `--stats N` takes as prefixes of its synthetic keys.
pub const MAX_KEY_PREFIXES: usize = 10_000;

/// memcached's longest key, in bytes (KEY_MAX_LENGTH).
pub const MAX_KEY_BYTES: usize = 250;

/// A keys-file line longer than this is not read whole: it is refused as too
/// long (memory stays bounded whatever the file holds).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One key's route.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub key: String,
    pub command: String,
    pub route: String,
    pub backends: Vec<PlacedBackend>,
    pub error: Option<String>,
    /// Why memcached refuses the key, or what is wrong with it even though
    /// the 1.6.38 proxy takes it.
    pub key_problem: Option<String>,
    /// Where the real proxy's order is not fixed (so the backends' order, or
    /// the answer, differs between worker threads).
    pub notes: Vec<String>,
}

/// A backend a key reaches, and in what role. Its description is shared
/// (one `Arc`): placing a key copies no text, since a pool's backends are
/// described once per [`Placements`]. Derefs to the description.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBackend {
    pub described: Arc<DescribedBackend>,
    pub role: &'static str,
}

impl std::ops::Deref for PlacedBackend {
    type Target = DescribedBackend;
    fn deref(&self) -> &DescribedBackend {
        &self.described
    }
}

/// A backend, and how the route writers print it (made once per backend
/// instead of once per key).
#[derive(Debug, PartialEq)]
pub struct DescribedBackend {
    pub pool: String,
    pub backend: String,
    pub label: String,
    /// `POOL BACKEND` or `POOL BACKEND [LABEL]`, terminal-safe (the role
    /// follows).
    pub text: String,
    /// `{"backend":…,"label":…,"pool":…,"role":` (the role and `}` follow).
    pub json: Vec<u8>,
}

impl DescribedBackend {
    fn new(pool: String, backend: String, label: String) -> DescribedBackend {
        let mut text = format!("{} {}", shown(&pool), shown(&backend));
        if label != backend {
            text.push_str(&format!(" [{}]", shown(&label)));
        }
        let mut json = Vec::new();
        let mut put = |name: &str, v: &str| {
            json.extend_from_slice(name.as_bytes());
            // Writing to a Vec cannot fail.
            let _ = crate::escape::write_json_string(&mut json, v);
        };
        put("{\"backend\":", &backend);
        put(",\"label\":", &label);
        put(",\"pool\":", &pool);
        json.extend_from_slice(b",\"role\":");
        DescribedBackend {
            pool,
            backend,
            label,
            text,
            json,
        }
    }
}

/// Keys per backend of one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpread {
    pub pool: String,
    pub backends: Vec<(String, String, usize)>,
    pub total: usize,
    /// Largest count over the mean (1.0 is perfectly even).
    pub imbalance: f64,
}

/// What an outage does to one route.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub route: String,
    pub command: String,
    pub keys: usize,
    /// In the model's order (children of a pool set or map in name order).
    /// A pod-local cache (see `local`) is counted empty.
    pub answer: Answer,
    /// Writes: how many of a key's copies were stored (`stored` of `copies`)
    /// and the share of keys for which that is so, most copies first.
    pub copies: Vec<CopiesStored>,
    /// Reads through a cache local to the proxy's pod (a loopback backend):
    /// it holds only what this pod wrote within its TTL, so the answer above
    /// counts it empty; this is the answer for keys this pod wrote that recently.
    pub local: Option<LocalCache>,
    /// When the answer depends on an order the proxy leaves to each worker
    /// thread: the least and the most of each share over the orders tried
    /// (each unordered child list rotated so every child comes last once).
    pub range: Option<(Answer, Answer)>,
    /// Why the answer depends on the worker thread.
    pub notes: Vec<String>,
}

/// How many copies of a key a write stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CopiesStored {
    pub stored: usize,
    pub copies: usize,
    pub share: f64,
}

/// A cache reached over loopback: the proxy's own pod's, not shared.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCache {
    pub backends: Vec<String>,
    /// The TTL writes to it are given (`route_ttl`), when the config says.
    pub ttl: Option<String>,
    /// The answer for keys this pod wrote within that TTL.
    pub recent: Answer,
}

/// What one given key gets with the backend down.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOutcome {
    pub key: String,
    pub command: &'static str,
    pub route: String,
    pub answer: Answer,
    /// Over the worker-thread orders, when they differ.
    pub range: Option<(Answer, Answer)>,
    /// Writes: copies stored, of the copies the write makes.
    pub copies: Option<(usize, usize)>,
    /// Reads through a pod-local cache: the answer when this pod wrote the key
    /// within the cache's TTL (the main answer counts the cache empty).
    pub recent: Option<Answer>,
    /// Why memcached refuses the key (then nothing else is filled).
    pub key_problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteOutput {
    Placements(Vec<Placement>),
    Stats {
        keys: usize,
        command: String,
        pools: Vec<PoolSpread>,
        unrouted: usize,
    },
    Fail {
        /// As given on the command line.
        backend: String,
        /// The backend addresses it names.
        down: Vec<String>,
        keys: usize,
        /// Synthetic keys (`--stats`), or the keys given.
        synthetic: bool,
        /// Given keys memcached refuses (not counted in `keys`).
        refused: usize,
        outages: Vec<Outage>,
        /// Per given key (empty with --stats).
        per_key: Vec<KeyOutcome>,
    },
}

/// One result handed over as it is made: a key's placement, or what a key
/// gets with `--fail` (in the order given).
pub enum Streamed<'s> {
    Placement(&'s Placement),
    /// A [`GivenKey::Plain`] key and the shape of its placement (the
    /// placement is `shape.placement` with this key).
    Shaped {
        key: &'s [u8],
        shape: &'s Shape,
    },
    Outcome(&'s KeyOutcome),
}

/// What a placement says besides its key, shared by the usual keys (printable
/// ASCII, nothing to escape, nothing wrong) that take the same route to the
/// same backends in the same roles: made once, then each such key is written
/// from it without a per-key [`Placement`]. A writer keeps here the bytes it
/// made of it, before and after the key, once per format.
#[derive(Debug)]
pub struct Shape {
    /// The placement, with an empty key.
    pub placement: Placement,
    pub text: OnceCell<Fragments>,
    pub json: OnceCell<Fragments>,
}

/// A placement's line around its key: `head`, the key as it is, `tail`.
#[derive(Debug)]
pub struct Fragments {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

/// Finds the config, runs it and answers the request, with every placement
/// (and every given key's `--fail` outcome) collected (see [`run_with`] to
/// stream them).
pub fn run(req: &RouteRequest) -> Result<RouteOutput, RouteError> {
    let mut list = Vec::new();
    let mut outcomes = Vec::new();
    let out = run_with(req, &mut |item| {
        match item {
            Streamed::Placement(p) => list.push(p.clone()),
            Streamed::Shaped { key, shape } => {
                let mut p = shape.placement.clone();
                p.key = String::from_utf8_lossy(key).into_owned();
                list.push(p);
            }
            Streamed::Outcome(o) => outcomes.push(o.clone()),
        }
        Ok(())
    })?;
    Ok(match out {
        Some(RouteOutput::Fail {
            backend,
            down,
            keys,
            synthetic,
            refused,
            outages,
            ..
        }) => RouteOutput::Fail {
            backend,
            down,
            keys,
            synthetic,
            refused,
            outages,
            per_key: outcomes,
        },
        Some(o) => o,
        None => RouteOutput::Placements(list),
    })
}

/// Finds the config and answers the request. Placements of keys (and, with
/// `--fail`, each given key's outcome) are handed to `sink` one by one as they
/// are made (so a million keys take no more memory than one); `--stats` and
/// `--fail` return their summary.
pub fn run_with(
    req: &RouteRequest,
    sink: &mut dyn FnMut(Streamed) -> Result<(), RouteError>,
) -> Result<Option<RouteOutput>, RouteError> {
    if let Some(n) = req.stats
        && !(1..=MAX_STATS_KEYS).contains(&n)
    {
        return Err(RouteError::Config(format!(
            "--stats {n}: give between 1 and {MAX_STATS_KEYS} synthetic keys"
        )));
    }
    let cfg = load_config(req)?;
    if let Some(f) = &cfg.failure {
        return Err(RouteError::Config(format!(
            "{}:{}: the config does not load: {}",
            f.file,
            f.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
            f.message
        )));
    }
    let cmd = command_id(&req.command)
        .filter(|&c| c != crate::proxy::model::CMD_ANY_STORAGE)
        .ok_or_else(|| {
            RouteError::Request(format!(
                "unknown --command `{}` (one of: {})",
                shown(&req.command),
                crate::proxy::model::COMMANDS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let engine = Engine::new(&cfg, &req.tag)?;
    let given = GivenKeys {
        keys: &req.keys,
        file: req.keys_file.as_deref(),
    };
    if let Some(n) = req.stats {
        let mut prefixes = Vec::new();
        given.for_each(&mut |k, _| {
            if prefixes.len() == MAX_KEY_PREFIXES {
                return Err(RouteError::Request(format!(
                    "--stats takes at most {MAX_KEY_PREFIXES} keys as prefixes of its synthetic keys"
                )));
            }
            prefixes.push(k.to_string());
            Ok(())
        })?;
        let synthetic = Synthetic { prefixes, n };
        if let Some(backend) = &req.fail {
            return fail(&engine, backend, &synthetic, true, &mut |_| Ok(())).map(Some);
        }
        return Ok(Some(stats(&engine, cmd, &req.command, &synthetic)?));
    }
    if let Some(backend) = &req.fail {
        if given.is_empty() {
            return Err(RouteError::Request(format!(
                "--fail {}: give the keys to answer for (--key, --keys-file), or --stats N for the share of N synthetic keys",
                shown(backend)
            )));
        }
        return fail(&engine, backend, &given, false, sink).map(Some);
    }
    if given.is_empty() {
        return Err(RouteError::Request(
            "give keys with --key or --keys-file (or ask for --stats N)".to_string(),
        ));
    }
    let mut placer = Placements::new(&engine, cmd);
    given.visit(&mut |k| match k {
        GivenKey::Plain(key) => {
            if let Some(shape) = placer.place_plain(key) {
                return sink(Streamed::Shaped { key, shape });
            }
            let key = String::from_utf8_lossy(key);
            sink(Streamed::Placement(placer.place_checked(&key, None)))
        }
        GivenKey::Other(k, problem) => sink(Streamed::Placement(placer.place_checked(k, problem))),
    })?;
    Ok(None)
}

/// Called with each key and, when the key could not be read as given, why.
type KeyFn<'f> = dyn FnMut(&str, Option<String>) -> Result<(), RouteError> + 'f;

/// Keys to go through more than once, made or read one at a time.
trait KeySource {
    /// Calls `f` with each key and, when the key could not be read as given,
    /// why (for instance a keys-file line that is not UTF-8).
    fn for_each(&self, f: &mut KeyFn) -> Result<(), RouteError>;
}

/// `--key` values, then the lines of `--keys-file`.
struct GivenKeys<'r> {
    keys: &'r [String],
    file: Option<&'r std::path::Path>,
}

impl GivenKeys<'_> {
    fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.file.is_none()
    }
}

/// A given key as read: the usual key, which needs no check and no escaping
/// in any output, or any other (with, when it could not be read as given,
/// why).
enum GivenKey<'k> {
    /// Printable ASCII without space, `"` or `\`, 1 to [`MAX_KEY_BYTES`]
    /// bytes: memcached takes it, and text and JSON print it as it is.
    Plain(&'k [u8]),
    Other(&'k str, Option<String>),
}

/// Is `key` a [`GivenKey::Plain`] key? (One pass over its bytes; such a key
/// is UTF-8, [`check_key`] finds nothing in it, and neither [`shown`] nor
/// JSON escapes anything in it.)
#[inline]
fn is_plain(key: &[u8]) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && key
            .iter()
            .all(|&c| c > b' ' && c < 0x7f && c != b'"' && c != b'\\')
}

impl GivenKeys<'_> {
    /// Calls `f` with each key, `--key` values first, then the lines of
    /// `--keys-file`, read a block at a time.
    fn visit(
        &self,
        f: &mut dyn FnMut(GivenKey) -> Result<(), RouteError>,
    ) -> Result<(), RouteError> {
        for k in self.keys {
            if is_plain(k.as_bytes()) {
                f(GivenKey::Plain(k.as_bytes()))?;
            } else {
                f(GivenKey::Other(k, None))?;
            }
        }
        if let Some(path) = self.file {
            let what = format!("--keys-file {}", path.display());
            let read = |source| RouteError::Read {
                what: what.clone(),
                source,
            };
            let file = std::fs::File::open(path).map_err(read)?;
            let meta = file.metadata().map_err(read)?;
            if meta.is_dir() {
                return Err(RouteError::Request(format!(
                    "--keys-file {}: a directory, not a file",
                    path.display()
                )));
            }
            read_key_lines(
                std::io::BufReader::with_capacity(1 << 16, file),
                &what,
                &mut |line, n, full_len| {
                    if full_len == line.len() && is_plain(line) {
                        return f(GivenKey::Plain(line));
                    }
                    let problem = if full_len > line.len() {
                        Some(format!(
                            "line {n} is {full_len} bytes, longer than memcached's {MAX_KEY_BYTES}-byte keys (only its start is shown)"
                        ))
                    } else {
                        None
                    };
                    match std::str::from_utf8(line) {
                        Ok(k) => f(GivenKey::Other(k, problem)),
                        Err(_) => f(GivenKey::Other(
                            &String::from_utf8_lossy(line),
                            Some(problem.unwrap_or_else(|| {
                                format!("line {n} is not UTF-8 text; mclint routes text keys only")
                            })),
                        )),
                    }
                },
            )?;
        }
        Ok(())
    }
}

impl KeySource for GivenKeys<'_> {
    fn for_each(&self, f: &mut KeyFn) -> Result<(), RouteError> {
        self.visit(&mut |k| match k {
            GivenKey::Plain(b) => match std::str::from_utf8(b) {
                Ok(k) => f(k, None),
                // Not reached: a plain key is ASCII.
                Err(_) => f(&String::from_utf8_lossy(b), None),
            },
            GivenKey::Other(k, problem) => f(k, problem),
        })
    }
}

/// Splits a stream into lines (`\n`, one trailing `\r` removed, empty lines
/// skipped) without ever holding more than [`MAX_LINE_BYTES`] of one line:
/// `f(start of the line, line number, its whole length)`.
/// Called with the start of a line, its number and its whole length.
type LineSink<'f> = dyn FnMut(&[u8], usize, usize) -> Result<(), RouteError> + 'f;

fn read_key_lines(
    mut r: impl std::io::BufRead,
    what: &str,
    f: &mut LineSink,
) -> Result<(), RouteError> {
    // A line cut by the end of the buffer, or a long one (only its first
    // MAX_LINE_BYTES are kept; `len` counts them all).
    let mut line = Vec::new();
    let mut len = 0usize;
    let mut n = 0usize;
    fn flush(
        f: &mut LineSink,
        line: &mut Vec<u8>,
        len: &mut usize,
        n: &mut usize,
    ) -> Result<(), RouteError> {
        *n += 1;
        if *len == line.len() && line.last() == Some(&b'\r') {
            line.pop();
            *len -= 1;
        }
        if *len > 0 {
            f(line, *n, *len)?;
        }
        line.clear();
        *len = 0;
        Ok(())
    }
    loop {
        let buf = r.fill_buf().map_err(|source| RouteError::Read {
            what: what.to_string(),
            source,
        })?;
        if buf.is_empty() {
            if len > 0 {
                flush(f, &mut line, &mut len, &mut n)?;
            }
            return Ok(());
        }
        // Whole lines in the buffer are handed over where they are, not
        // copied.
        if len == 0 {
            let mut used = 0;
            while let Some(i) = buf[used..].iter().position(|&b| b == b'\n') {
                let whole = &buf[used..used + i];
                if whole.len() > MAX_LINE_BYTES {
                    break;
                }
                n += 1;
                let l = whole.strip_suffix(b"\r").unwrap_or(whole);
                if !l.is_empty() {
                    f(l, n, l.len())?;
                }
                used += i + 1;
            }
            if used > 0 {
                r.consume(used);
                continue;
            }
        }
        let (chunk, ends) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, buf.len()),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        len += chunk.len();
        let newline = ends > chunk.len();
        r.consume(ends);
        if newline {
            flush(f, &mut line, &mut len, &mut n)?;
        }
    }
}

/// `n` keys: `key:0`, `key:1`, ... or, with prefixes given, `<prefix>0`,
/// `<prefix>1`, ... taking the prefixes in turn.
struct Synthetic {
    prefixes: Vec<String>,
    n: u64,
}

impl KeySource for Synthetic {
    fn for_each(&self, f: &mut KeyFn) -> Result<(), RouteError> {
        use std::fmt::Write as _;
        let default = ["key:".to_string()];
        let prefixes: &[String] = if self.prefixes.is_empty() {
            &default
        } else {
            &self.prefixes
        };
        let mut key = String::new();
        for i in 0..self.n {
            key.clear();
            key.push_str(&prefixes[(i % prefixes.len() as u64) as usize]);
            let _ = write!(key, "{i}");
            f(&key, None)?;
        }
        Ok(())
    }
}

/// What memcached (through the 1.6.38 proxy, measured) does with a key:
/// `Err(reply)` when it refuses the request, `Ok(Some(why))` when it takes it
/// although the protocol forbids it, `Ok(None)` for a good key.
pub fn check_key(key: &str) -> Result<Option<String>, String> {
    let b = key.as_bytes();
    // The usual key: printable ASCII, no space, not too long.
    if b.len() <= MAX_KEY_BYTES && !b.is_empty() && b.iter().all(|&c| c > b' ' && c < 0x7f) {
        return Ok(None);
    }
    if b.is_empty() {
        return Err(
            "an empty key: the proxy answers CLIENT_ERROR parsing request (memcached has no empty key)"
                .into(),
        );
    }
    if b.len() > MAX_KEY_BYTES {
        return Err(format!(
            "{} bytes, longer than memcached's {MAX_KEY_BYTES}: the proxy answers CLIENT_ERROR bad command line format",
            b.len()
        ));
    }
    if b.contains(&b'\n') {
        return Err(
            "a newline ends the request line: the proxy takes the key to stop there and the rest as another command"
                .into(),
        );
    }
    if b.contains(&0) {
        return Err("a NUL byte: the proxy answers ERROR".into());
    }
    if b.contains(&b' ') {
        return Err(
            "a space separates keys: a get asks for each part as its own key, a set is refused (CLIENT_ERROR)"
                .into(),
        );
    }
    if key.chars().any(char::is_control) {
        return Ok(Some(
            "control characters: the 1.6.38 proxy takes the key, but memcached's protocol forbids them and most clients refuse them"
                .into(),
        ));
    }
    Ok(None)
}

pub use crate::escape::{shown, shown_keeping_tabs};

/// The keys of a keys file: one per line, `\r\n` or `\n`, empty lines skipped.
pub fn keys_in(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
}

/// Places key after key into one reused [`Placement`]: the backends of each
/// pool are described once, and the notes of each route (they do not depend on
/// the key) are worked out once.
pub struct Placements<'e, 'a> {
    engine: &'e Engine<'a>,
    cmd: u8,
    command: String,
    described: Vec<Vec<PlacedBackend>>,
    notes: HashMap<*const crate::proxy::model::Route, Vec<String>>,
    /// The route whose notes `current.notes` holds (`None`: no notes).
    notes_of: Option<*const crate::proxy::model::Route>,
    hops: Vec<Hop>,
    current: Placement,
    /// The shapes made so far, and how to find them.
    shapes: Vec<Shape>,
    routes: Vec<RouteShapes<'a>>,
    /// The entry of `routes` of a route (by its address).
    route_index: HashMap<usize, usize>,
    /// The entry of `routes` the previous plain key used.
    last_route: usize,
    /// Slots of all routes' tables (see [`MAX_SHAPE_SLOTS`]).
    slots: usize,
}

/// No shape made yet.
const NO_SHAPE: u32 = u32::MAX;

/// Most hop lists other than one primary backend kept per route: past
/// these, keys of new hop lists are placed one by one (each still right).
const MAX_OTHER_SHAPES: usize = 64;

/// Most shapes made, and most slots (a backend of a pool a route reaches,
/// or another hop list) kept for them: whatever the config (50,000 backends,
/// thousands of routes), shapes take a few MB at most. Keys past these are
/// placed one by one, as right and slower.
const MAX_SHAPES: usize = 16_384;
const MAX_SHAPE_SLOTS: usize = 1 << 20;

/// The shapes of the keys that take one route (under one label).
struct RouteShapes<'a> {
    route: &'a crate::proxy::model::Route,
    label: String,
    /// Where the label is in the config, when it is borrowed from there.
    label_at: Option<*const u8>,
    /// The pool the route sends every key to, when that is all it does.
    direct: Option<usize>,
    /// Per pool met, per backend: the shape of a key whose only hop is
    /// that backend, as primary.
    single: Vec<(usize, Vec<u32>)>,
    /// Other hop lists met, and their shapes.
    others: Vec<(Vec<Hop>, u32)>,
}

/// Where in a [`RouteShapes`] a hop list's shape is kept.
enum ShapeSlot {
    Single(usize, usize),
    Other(usize),
}

impl<'e, 'a> Placements<'e, 'a> {
    pub fn new(engine: &'e Engine<'a>, cmd: u8) -> Self {
        let cfg = engine.cfg;
        let described = cfg
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (0..p.backends.len())
                    .map(|b| {
                        describe_hop(
                            cfg,
                            &Hop {
                                pool: Some(i),
                                backend: b,
                                role: Role::Primary,
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        Placements {
            engine,
            cmd,
            command: crate::proxy::model::command_name(cmd),
            described,
            notes: HashMap::new(),
            notes_of: None,
            hops: Vec::new(),
            current: Placement {
                key: String::new(),
                command: String::new(),
                route: String::new(),
                backends: Vec::new(),
                error: None,
                key_problem: None,
                notes: Vec::new(),
            },
            shapes: Vec::new(),
            routes: Vec::new(),
            route_index: HashMap::new(),
            last_route: 0,
            slots: 0,
        }
    }

    /// The entry of `routes` for the route `key` takes (made on first use),
    /// `None` when no route handles the command.
    fn route_of(&mut self, key: &[u8]) -> Option<usize> {
        let engine = self.engine;
        let sel = engine.select(key, self.cmd);
        let r = sel.route?;
        let label: &str = &sel.label;
        // A label borrowed from the config is the same text at the same
        // place for every key: compared by address first.
        let found = |s: &RouteShapes| {
            std::ptr::eq(s.route, r)
                && s.label.len() == label.len()
                && (s.label_at == Some(label.as_ptr()) || s.label == label)
        };
        if let Some(s) = self.routes.get(self.last_route)
            && found(s)
        {
            return Some(self.last_route);
        }
        let addr = r as *const crate::proxy::model::Route as usize;
        if let Some(&i) = self.route_index.get(&addr) {
            // One route under two labels (not met: each label's route is
            // its own) is placed the usual way.
            return found(&self.routes[i]).then_some(i);
        }
        self.route_index.insert(addr, self.routes.len());
        self.routes.push(RouteShapes {
            route: r,
            label: label.to_string(),
            label_at: match &sel.label {
                std::borrow::Cow::Borrowed(l) => Some(l.as_ptr()),
                std::borrow::Cow::Owned(_) => None,
            },
            direct: engine.direct_pool(r),
            single: Vec::new(),
            others: Vec::new(),
        });
        Some(self.routes.len() - 1)
    }

    /// The shape of a [`GivenKey::Plain`] key's placement, made on first
    /// use; `None` when the key is to be placed by [`Self::place_checked`]
    /// (no route, an error on the way, or a route with too many hop lists).
    /// The route tree is still followed for every key (a failover or a
    /// handler may depend on it); what is saved is the per-key placement
    /// and its formatting.
    pub fn place_plain(&mut self, key: &[u8]) -> Option<&Shape> {
        let engine = self.engine;
        let cmd = self.cmd;
        let ri = match self.routes.get(self.last_route) {
            // Without a prefix map the route does not depend on the key.
            Some(_) if !engine.selects_by_key() => self.last_route,
            _ => self.route_of(key)?,
        };
        self.last_route = ri;
        let r = self.routes[ri].route;
        let single = match self.routes[ri].direct {
            // The pool's hash alone (a backend marked down is an error,
            // which the usual way words).
            Some(pool) => {
                let backend = engine.place(pool, key).ok()?;
                if engine.cfg.pools[pool].backends.get(backend)?.down {
                    return None;
                }
                Some((pool, backend))
            }
            None => {
                self.hops.clear();
                engine.hops(r, key, cmd, &mut self.hops).ok()?;
                match self.hops.as_slice() {
                    [
                        Hop {
                            pool: Some(p),
                            backend,
                            role: Role::Primary,
                        },
                    ] => Some((*p, *backend)),
                    _ => None,
                }
            }
        };
        let rs = &mut self.routes[ri];
        let (slot, id) = match single {
            Some((p, backend)) => {
                let j = match rs.single.iter().position(|(q, _)| *q == p) {
                    Some(j) => j,
                    None => {
                        let n = engine.cfg.pools[p].backends.len();
                        if self.slots + n > MAX_SHAPE_SLOTS {
                            return None;
                        }
                        self.slots += n;
                        rs.single.push((p, vec![NO_SHAPE; n]));
                        rs.single.len() - 1
                    }
                };
                (ShapeSlot::Single(j, backend), *rs.single[j].1.get(backend)?)
            }
            None => match rs.others.iter().position(|(h, _)| *h == self.hops) {
                Some(i) => (ShapeSlot::Other(i), rs.others[i].1),
                None if rs.others.len() < MAX_OTHER_SHAPES && self.slots < MAX_SHAPE_SLOTS => {
                    self.slots += 1;
                    rs.others.push((self.hops.clone(), NO_SHAPE));
                    (ShapeSlot::Other(rs.others.len() - 1), NO_SHAPE)
                }
                None => return None,
            },
        };
        if id != NO_SHAPE {
            return self.shapes.get(id as usize);
        }
        if self.shapes.len() >= MAX_SHAPES {
            return None;
        }
        // First key of this shape: placed the usual way, then kept without
        // its key.
        let text = std::str::from_utf8(key).ok()?;
        let mut placement = self.place_checked(text, None).clone();
        if placement.error.is_some() || placement.key_problem.is_some() {
            return None;
        }
        placement.key.clear();
        let id = u32::try_from(self.shapes.len()).ok()?;
        self.shapes.push(Shape {
            placement,
            text: OnceCell::new(),
            json: OnceCell::new(),
        });
        let rs = &mut self.routes[ri];
        match slot {
            ShapeSlot::Single(j, b) => rs.single[j].1[b] = id,
            ShapeSlot::Other(i) => rs.others[i].1 = id,
        }
        self.shapes.last()
    }

    /// The route and ordered backends of `key`, or, when memcached refuses
    /// the key, why (and no backends).
    pub fn place(&mut self, key: &str) -> &Placement {
        self.place_checked(key, None)
    }

    /// As [`Self::place`], with a problem found while reading the key (a
    /// keys-file line that is not UTF-8 or too long), which refuses it.
    pub fn place_checked(&mut self, key: &str, problem: Option<String>) -> &Placement {
        let refused = match problem {
            Some(p) => Err(p),
            None => check_key(key),
        };
        let p = &mut self.current;
        p.key_problem = match &refused {
            Ok(w) => w.clone(),
            Err(e) => Some(e.clone()),
        };
        if refused.is_err() {
            p.key.clear();
            p.key.push_str(key);
            p.command.clone_from(&self.command);
            p.route.clear();
            p.backends.clear();
            p.notes.clear();
            self.notes_of = None;
            p.error = Some("memcached refuses this key; the request reaches no backend".into());
            return &self.current;
        }
        let engine = self.engine;
        let cmd = self.cmd;
        let sel = engine.select(key.as_bytes(), cmd);
        self.hops.clear();
        let p = &mut self.current;
        p.key.clear();
        p.key.push_str(key);
        p.command.clone_from(&self.command);
        p.route.clear();
        p.route.push_str(&sel.label);
        p.error = match sel.route {
            None => Some(
                "no route handles this command: the proxy answers SERVER_ERROR lua start failure"
                    .to_string(),
            ),
            Some(r) => engine
                .hops(r, key.as_bytes(), cmd, &mut self.hops)
                .err()
                .map(|h| h.0),
        };
        // The notes depend on the route only: kept while the route is the
        // previous key's.
        let route_ptr = sel.route.map(|r| r as *const _);
        if route_ptr != self.notes_of {
            p.notes.clear();
            if let Some(r) = sel.route {
                let notes = self.notes.entry(r as *const _).or_insert_with(|| {
                    let mut n = Vec::new();
                    engine.order_notes(r, &mut n);
                    behaviour_notes(engine.cfg, r, cmd, &mut n);
                    n.into_iter().map(|(n, _)| n).collect()
                });
                p.notes.extend(notes.iter().cloned());
            }
            self.notes_of = route_ptr;
        }
        // Backends the previous key had at the same place are kept (no
        // reference count touched).
        p.backends.truncate(self.hops.len());
        for (i, h) in self.hops.iter().enumerate() {
            let role = h.role.as_str();
            match (p.backends.get_mut(i), h.pool) {
                (Some(b), Some(pool))
                    if Arc::ptr_eq(&b.described, &self.described[pool][h.backend].described) =>
                {
                    b.role = role;
                }
                (slot, pool) => {
                    let mut b = match pool {
                        Some(pool) => self.described[pool][h.backend].clone(),
                        None => describe_hop(engine.cfg, h),
                    };
                    b.role = role;
                    match slot {
                        Some(s) => *s = b,
                        None => p.backends.push(b),
                    }
                }
            }
        }
        &self.current
    }
}

/// What the backends list alone does not say: a TTL rewritten on the way, a
/// handler mclint does not model.
fn behaviour_notes(
    cfg: &ProxyConfig,
    r: &crate::proxy::model::Route,
    cmd: u8,
    out: &mut Vec<(String, usize)>,
) {
    use crate::proxy::model::{HandlerKind, SlotValue};
    r.walk(&mut |r| {
        let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        match r.kind {
            HandlerKind::Builtin if r.handler == "ttl" && is_ttl_command(cmd) => {
                let ttl = r
                    .arg("ttl")
                    .map(|v| v.show())
                    .unwrap_or_else(|| "nil".into());
                let to = match r.slot("child") {
                    Some(SlotValue::Single(t)) => crate::proxy::eval::describe(cfg, t),
                    _ => "its child".into(),
                };
                out.push((
                    format!("route_ttl{line} rewrites the TTL to {ttl} seconds before it reaches {to}"),
                    1,
                ));
            }
            HandlerKind::Builtin
                if r.handler == "allfastest"
                    && is_read(cmd)
                    && !r.arg("miss").is_some_and(crate::proxy::value::Lv::truthy) =>
            {
                out.push((
                    format!(
                        "route_allfastest{line} answers with the first reply, a miss included: a copy that restarted empty can answer for the others (miss = true waits for a hit)"
                    ),
                    1,
                ));
            }
            HandlerKind::Custom => out.push((
                format!(
                    "route_{}{line} is a handler from a library: mclint ran its start function and its request function against simulated backends (roles: several waited-for contacts are `all`, a copy never waited for `async`, a contact only on a miss `failover`, another command for the key such as a delete `other-command`)",
                    r.handler
                ),
                1,
            )),
            _ => {}
        }
    });
}

fn describe_hop(cfg: &ProxyConfig, h: &Hop) -> PlacedBackend {
    let described = match h.pool {
        Some(p) => {
            let pool = &cfg.pools[p];
            let b = &pool.backends[h.backend];
            DescribedBackend::new(pool.reference(), b.address(), b.label.clone())
        }
        None => DescribedBackend::new("internal".into(), "internal".into(), "internal".into()),
    };
    PlacedBackend {
        described: Arc::new(described),
        role: h.role.as_str(),
    }
}

fn stats(
    engine: &Engine,
    cmd: u8,
    command: &str,
    keys: &dyn KeySource,
) -> Result<RouteOutput, RouteError> {
    let cfg = engine.cfg;
    let mut counts: Vec<Vec<usize>> = cfg
        .pools
        .iter()
        .map(|p| vec![0; p.backends.len()])
        .collect();
    let mut unrouted = 0;
    let mut total = 0;
    let mut hops = Vec::new();
    keys.for_each(&mut |k, _| {
        total += 1;
        hops.clear();
        let sel = engine.select(k.as_bytes(), cmd);
        let Some(r) = sel.route else {
            unrouted += 1;
            return Ok(());
        };
        if engine.hops(r, k.as_bytes(), cmd, &mut hops).is_err() {
            unrouted += 1;
            return Ok(());
        }
        for h in &hops {
            if let Some(p) = h.pool {
                counts[p][h.backend] += 1;
            }
        }
        Ok(())
    })?;
    let pools = cfg
        .pools
        .iter()
        .zip(counts)
        .filter(|(_, c)| c.iter().sum::<usize>() > 0)
        .map(|(p, c)| {
            let total: usize = c.iter().sum();
            let mean = total as f64 / c.len() as f64;
            let max = c.iter().copied().max().unwrap_or(0) as f64;
            PoolSpread {
                pool: p.reference(),
                backends: p
                    .backends
                    .iter()
                    .zip(&c)
                    .map(|(b, n)| (b.address(), b.label.clone(), *n))
                    .collect(),
                total,
                imbalance: if mean > 0.0 { max / mean } else { 0.0 },
            }
        })
        .collect();
    Ok(RouteOutput::Stats {
        keys: total,
        command: command.to_string(),
        pools,
        unrouted,
    })
}

/// Is `host` this pod's own (a cache reached over loopback is a sidecar in
/// the proxy's pod: each proxy pod has its own, holding only what it wrote)?
fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Does the config put a cache of its own pod (a loopback backend) in front
/// of shared ones (any other backend)? A config whose backends are all on
/// loopback runs beside every one of them (a single host, a test), so none
/// is a per-pod cache there.
fn has_pod_local_cache(cfg: &ProxyConfig) -> bool {
    let (mut local, mut shared) = (false, false);
    for b in cfg.pools.iter().flat_map(|p| p.backends.iter()) {
        if is_loopback(&b.host) {
            local = true;
        } else {
            shared = true;
        }
    }
    local && shared
}

/// The backend addresses `--fail NAME` means: an address (`host:port`) or a
/// label as written, else a host, else a pod name (the host's first DNS
/// label). Several addresses, or none, is an error listing the candidates.
pub fn resolve_down(cfg: &ProxyConfig, name: &str) -> Result<Vec<String>, RouteError> {
    if let Some(zone) = name.strip_prefix("zone:") {
        return resolve_zone_down(cfg, zone);
    }
    let backends: Vec<&crate::proxy::model::Backend> =
        cfg.pools.iter().flat_map(|p| p.backends.iter()).collect();
    let pod = |host: &str| -> Option<String> {
        (host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('['))
            .then(|| host.split('.').next().unwrap_or(host).to_string())
    };
    let tiers: [&dyn Fn(&crate::proxy::model::Backend) -> bool; 3] = [
        &|b| b.address() == name || b.written == name || b.label == name,
        &|b| b.host == name,
        &|b| pod(&b.host).as_deref() == Some(name),
    ];
    for matches in tiers {
        let mut found: Vec<String> = backends
            .iter()
            .filter(|b| matches(b))
            .map(|b| b.address())
            .collect();
        found.sort();
        found.dedup();
        match found.len() {
            0 => continue,
            1 => return Ok(found),
            _ => {
                return Err(RouteError::Request(format!(
                    "--fail {}: several backends match; name one (host:port): {}",
                    shown(name),
                    found
                        .iter()
                        .map(|f| shown(f).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    for b in &backends {
        let mut n = b.address();
        if let Some(p) = pod(&b.host)
            && p != b.host
        {
            n = format!("{p} ({n})");
        }
        if b.label != b.address() {
            n = format!("{n} label {}", b.label);
        }
        if !names.contains(&n) {
            names.push(n);
        }
    }
    Err(RouteError::Request(format!(
        "--fail {}: no backend has that address, host, pod name or label; backends: {}",
        shown(name),
        if names.is_empty() {
            "none".to_string()
        } else {
            names
                .iter()
                .map(|n| shown(n).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    )))
}

/// `--fail zone:NAME`: every backend of every pool filed under zone NAME of
/// a pool set (a whole zone's copy down, its old placement too).
fn resolve_zone_down(cfg: &ProxyConfig, zone: &str) -> Result<Vec<String>, RouteError> {
    let mut found: Vec<String> = cfg
        .pools
        .iter()
        .filter(|p| p.set.is_some() && p.name == zone)
        .flat_map(|p| p.backends.iter().map(|b| b.address()))
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        let mut zones: Vec<&str> = cfg
            .pools
            .iter()
            .filter(|p| p.set.is_some())
            .map(|p| p.name.as_str())
            .collect();
        zones.sort_unstable();
        zones.dedup();
        return Err(RouteError::Request(format!(
            "--fail zone:{}: no pool set has that zone; zones: {}",
            shown(zone),
            if zones.is_empty() {
                "none".to_string()
            } else {
                zones
                    .iter()
                    .map(|z| shown(z).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    }
    Ok(found)
}

/// Per (route, command): keys, summed answers, summed answers when a local
/// cache holds the key, copies stored per write.
#[derive(Default, Clone)]
struct RouteSums {
    keys: usize,
    answer: Answer,
    recent: Answer,
    local: bool,
    copies: BTreeMap<(usize, usize), usize>,
}

type ByRoute = BTreeMap<(String, &'static str), RouteSums>;

fn add(a: &mut Answer, b: Answer) {
    a.hit += b.hit;
    a.miss += b.miss;
    a.err += b.err;
}

fn scaled(a: Answer, n: usize) -> Answer {
    let n = n.max(1) as f64;
    Answer {
        hit: a.hit / n,
        miss: a.miss / n,
        err: a.err / n,
    }
}

/// (route label, command, answer, copies stored and made (writes), answer if
/// the local cache holds the key (reads through one)).
type KeyRow = (
    String,
    &'static str,
    Answer,
    Option<(usize, usize)>,
    Option<Answer>,
);

/// What one key gets, per command, under one worker-thread order.
struct KeyAnswers {
    /// (route label, command, answer, copies stored and made (writes),
    /// answer if the local cache holds the key (reads through one)).
    rows: Vec<KeyRow>,
}

fn answer_key(
    engine: &Engine,
    down: &dyn Fn(Option<usize>, usize) -> bool,
    key: &[u8],
) -> KeyAnswers {
    let pod_local = has_pod_local_cache(engine.cfg);
    let cfg = engine.cfg;
    let read = command_id("get").unwrap_or(7);
    let write = command_id("set").unwrap_or(9);
    let local = |p: Option<usize>, b: usize| {
        pod_local && p.is_some_and(|p| is_loopback(&cfg.pools[p].backends[b].host))
    };
    // Where the key was stored while everything was up.
    let mut hops = Vec::new();
    let wsel = engine.select(key, write);
    if let Some(r) = wsel.route {
        let _ = engine.hops(r, key, write, &mut hops);
    }
    let mut stored: Vec<(Option<usize>, usize)> = hops
        .iter()
        .filter(|h| h.role != Role::Failover && h.role != Role::Other)
        .map(|h| (h.pool, h.backend))
        .collect();
    stored.sort();
    stored.dedup();
    // Data lives on a server, not in a pool: a backend that several pools
    // name holds what any of them wrote there.
    let server = |p: Option<usize>, b: usize| p.map(|p| cfg.pools[p].backends[b].address());
    let holds = |p: Option<usize>, b: usize| {
        stored.iter().any(|&(sp, sb)| {
            (sp, sb) == (p, b) || (p.is_some() && sp.is_some() && server(sp, sb) == server(p, b))
        })
    };
    // A pod-local cache holds only what this pod wrote lately: counted empty.
    let holds_remote = |p: Option<usize>, b: usize| holds(p, b) && !local(p, b);
    let sc = Scenario {
        down,
        holds: &holds_remote,
    };
    let sc_recent = Scenario {
        down,
        holds: &holds,
    };
    let mut rows = Vec::with_capacity(2);
    for (cmd, name) in [(read, "get"), (write, "set")] {
        let sel = engine.select(key, cmd);
        let (a, recent) = match sel.route {
            Some(r) => {
                let a = engine.answer(r, key, cmd, !is_read(cmd), &sc);
                let through_local = is_read(cmd) && stored.iter().any(|&(p, b)| local(p, b));
                let recent = through_local.then(|| engine.answer(r, key, cmd, false, &sc_recent));
                (a, recent)
            }
            None => (
                Answer {
                    err: 1.0,
                    ..Answer::default()
                },
                None,
            ),
        };
        let copies = (cmd == write).then(|| {
            let up = stored.iter().filter(|&&(p, b)| !down(p, b)).count();
            (up, stored.len())
        });
        rows.push((sel.label.into_owned(), name, a, copies, recent));
    }
    KeyAnswers { rows }
}

fn fail(
    engine: &Engine,
    backend: &str,
    keys: &dyn KeySource,
    synthetic: bool,
    sink: &mut dyn FnMut(Streamed) -> Result<(), RouteError>,
) -> Result<RouteOutput, RouteError> {
    let cfg = engine.cfg;
    let down_addrs = resolve_down(cfg, backend)?;
    let matches = |p: Option<usize>, b: usize| -> bool {
        p.is_some_and(|p| down_addrs.contains(&cfg.pools[p].backends[b].address()))
    };
    // Every order a worker thread may walk unordered child lists in: enough
    // rotations for each child of the longest such list to come last once.
    let mut notes: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    let mut orders = 1;
    keys.for_each(&mut |k, problem| {
        if problem.is_some() || check_key(k).is_err() {
            return Ok(());
        }
        for (cmd, name) in [
            (command_id("get").unwrap_or(7), "get"),
            (command_id("set").unwrap_or(9), "set"),
        ] {
            let sel = engine.select(k.as_bytes(), cmd);
            if let Some(r) = sel.route {
                let e = notes.entry((sel.label.into_owned(), name)).or_default();
                if e.is_empty() {
                    let mut found = Vec::new();
                    engine.order_notes(r, &mut found);
                    for (n, count) in found {
                        orders = orders.max(count);
                        e.push(n);
                    }
                }
            }
        }
        Ok(())
    })?;
    let engines: Vec<Engine> = (0..orders).map(|k| engine.rotated(k)).collect();
    let mut by_order: Vec<ByRoute> = vec![ByRoute::new(); orders];
    let (mut total, mut refused) = (0usize, 0usize);
    let mut outcome = KeyOutcome {
        key: String::new(),
        command: "get",
        route: String::new(),
        answer: Answer::default(),
        range: None,
        copies: None,
        recent: None,
        key_problem: None,
    };
    keys.for_each(&mut |k, problem| {
        let checked = match problem {
            Some(p) => Err(p),
            None => check_key(k),
        };
        if let Err(why) = checked {
            refused += 1;
            if !synthetic {
                outcome.key.clear();
                outcome.key.push_str(k);
                outcome.route.clear();
                outcome.answer = Answer::default();
                outcome.range = None;
                outcome.copies = None;
                outcome.recent = None;
                outcome.key_problem = Some(why);
                sink(Streamed::Outcome(&outcome))?;
            }
            return Ok(());
        }
        total += 1;
        let per_order: Vec<KeyAnswers> = engines
            .iter()
            .map(|e| answer_key(e, &matches, k.as_bytes()))
            .collect();
        for (o, answers) in per_order.iter().enumerate() {
            for (route, name, a, copies, recent) in &answers.rows {
                let e = by_order[o].entry((route.clone(), name)).or_default();
                e.keys += 1;
                add(&mut e.answer, *a);
                if let Some(r) = recent {
                    e.local = true;
                    add(&mut e.recent, *r);
                } else {
                    add(&mut e.recent, *a);
                }
                if let Some(c) = copies {
                    *e.copies.entry(*c).or_default() += 1;
                }
            }
        }
        if !synthetic {
            for (i, (route, name, a, copies, recent)) in per_order[0].rows.iter().enumerate() {
                let (mut lo, mut hi) = (*a, *a);
                for other in &per_order[1..] {
                    let b = other.rows[i].2;
                    for (x, y, v) in [
                        (&mut lo.hit, &mut hi.hit, b.hit),
                        (&mut lo.miss, &mut hi.miss, b.miss),
                        (&mut lo.err, &mut hi.err, b.err),
                    ] {
                        *x = x.min(v);
                        *y = y.max(v);
                    }
                }
                outcome.key.clear();
                outcome.key.push_str(k);
                outcome.command = name;
                outcome.route.clone_from(route);
                outcome.answer = *a;
                outcome.range = (lo != hi).then_some((lo, hi));
                outcome.copies = *copies;
                outcome.recent = *recent;
                outcome.key_problem = check_key(k).ok().flatten();
                sink(Streamed::Outcome(&outcome))?;
            }
        }
        Ok(())
    })?;
    let mut by_order = by_order.into_iter();
    let base = by_order.next().unwrap_or_default();
    let others: Vec<ByRoute> = by_order.collect();
    let local_backends: Vec<String> = cfg
        .pools
        .iter()
        .flat_map(|p| p.backends.iter())
        .filter(|b| has_pod_local_cache(cfg) && is_loopback(&b.host))
        .map(|b| b.address())
        .collect();
    let ttl = local_ttl(cfg);
    let outages = base
        .into_iter()
        .map(|(route, sums)| {
            let answer = scaled(sums.answer, sums.keys);
            let (mut lo, mut hi) = (answer, answer);
            for o in &others {
                if let Some(s) = o.get(&route) {
                    let b = scaled(s.answer, s.keys);
                    for (x, y, v) in [
                        (&mut lo.hit, &mut hi.hit, b.hit),
                        (&mut lo.miss, &mut hi.miss, b.miss),
                        (&mut lo.err, &mut hi.err, b.err),
                    ] {
                        *x = x.min(v);
                        *y = y.max(v);
                    }
                }
            }
            let differs = (hi.hit - lo.hit).abs() > 1e-12
                || (hi.miss - lo.miss).abs() > 1e-12
                || (hi.err - lo.err).abs() > 1e-12;
            let mut copies: Vec<CopiesStored> = sums
                .copies
                .iter()
                .map(|(&(stored, copies), &n)| CopiesStored {
                    stored,
                    copies,
                    share: n as f64 / sums.keys.max(1) as f64,
                })
                .collect();
            copies.sort_by_key(|c| std::cmp::Reverse((c.copies, c.stored)));
            let local = sums.local.then(|| LocalCache {
                backends: local_backends.clone(),
                ttl: ttl.clone(),
                recent: scaled(sums.recent, sums.keys),
            });
            Outage {
                notes: notes.remove(&route).unwrap_or_default(),
                route: route.0,
                command: route.1.to_string(),
                keys: sums.keys,
                answer,
                copies,
                local,
                range: differs.then_some((lo, hi)),
            }
        })
        .collect();
    Ok(RouteOutput::Fail {
        backend: backend.to_string(),
        down: down_addrs.clone(),
        keys: total,
        synthetic,
        refused,
        outages,
        per_key: Vec::new(),
    })
}

/// The TTL a write gives the pod-local cache: the `ttl` of a `route_ttl`
/// whose child is a pool with a loopback backend, in any route of the config.
fn local_ttl(cfg: &ProxyConfig) -> Option<String> {
    use crate::proxy::model::{HandlerKind, SlotValue, Target};
    let mut found = None;
    cfg.routes(&mut |r| {
        if found.is_none()
            && r.kind == HandlerKind::Builtin
            && r.handler == "ttl"
            && let Some(SlotValue::Single(Target::Pool(i))) = r.slot("child")
            && cfg.pools[*i].backends.iter().any(|b| is_loopback(&b.host))
        {
            found = r.arg("ttl").map(|v| v.show());
        }
    });
    found
}

/// A proxy config that can be loaded on demand.
type Candidate<'a> = Box<dyn Fn() -> Result<ProxyConfig, RouteError> + 'a>;

/// The config to route with: `--config FILE.lua`, or a proxy found in PATHS
/// (`--proxy` picks one), or a single `.lua` among PATHS.
pub fn load_config(req: &RouteRequest) -> Result<ProxyConfig, RouteError> {
    let (mut cfg, pinned) = load_config_in(req)?;
    // A config that no zone-pinned proxy runs is read as a proxy in that zone
    // would read it: local_zone() says the zone asked for.
    if let Some(z) = &req.zone
        && !pinned
    {
        cfg.local_zone = Some(crate::proxy::value::ZoneDecl {
            value: Some(z.clone()),
            from: "--zone".into(),
            arg: None,
            line: None,
        });
    }
    Ok(cfg)
}

/// The config, and whether it was picked as the proxy pinned to `--zone`.
fn load_config_in(req: &RouteRequest) -> Result<(ProxyConfig, bool), RouteError> {
    let mut env = BTreeMap::new();
    for e in &req.env {
        let (k, v) = e
            .split_once('=')
            .ok_or_else(|| RouteError::Request(format!("--env {e}: expected NAME=VALUE")))?;
        env.insert(k.to_string(), v.to_string());
    }
    let env_source = if req.env.is_empty() {
        EnvSource::Unknown
    } else {
        EnvSource::Known(env)
    };
    let mut libs = Vec::new();
    for l in &req.libs {
        libs.push(Library {
            name: l.display().to_string(),
            text: std::fs::read_to_string(l).map_err(|source| RouteError::Read {
                what: format!("--lib {}", l.display()),
                source,
            })?,
        });
    }
    if let Some(path) = &req.proxy_config {
        let text = std::fs::read_to_string(path).map_err(|source| RouteError::Read {
            what: format!("--proxy-config {}", path.display()),
            source,
        })?;
        return Ok((
            crate::proxy::load_with_files(
                &path.display().to_string(),
                &text,
                &libs,
                &env_source,
                Limits::default(),
                &crate::proxy::files::beside(&path.display().to_string()),
            ),
            false,
        ));
    }
    if req.paths.is_empty() {
        return Err(RouteError::Config("give a proxy config with --proxy-config FILE.lua, or rendered manifests / .lua files as PATHS".to_string()));
    }
    let (inputs, errors) = read_inputs(&req.paths, &mut std::io::stdin().lock());
    if let Some(e) = errors.first() {
        return Err(RouteError::Config(e.to_string()));
    }
    let lua: Vec<_> = inputs.iter().filter(|i| i.kind == InputKind::Lua).collect();
    let docs: Vec<_> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Yaml)
        .flat_map(parse_stream)
        .collect();
    let objects: Vec<_> = docs
        .iter()
        .filter_map(|d| as_object(d).and_then(Result::ok))
        .collect();
    let found = crate::proxy::manifest::find_proxies(&objects);
    let mut candidates: Vec<(String, Candidate)> = Vec::new();
    // The zone each candidate's pods are pinned to (none for `.lua` files).
    let mut zones: Vec<Option<String>> = Vec::new();
    for l in &lua {
        let libs = &libs;
        let env_source = &env_source;
        candidates.push((
            l.name.to_string(),
            Box::new(move || {
                Ok(crate::proxy::load_with_files(
                    &l.name,
                    &l.text,
                    libs,
                    env_source,
                    Limits::default(),
                    &crate::proxy::files::beside(&l.name),
                ))
            }),
        ));
        zones.push(None);
    }
    for f in &found {
        let objects = &objects;
        zones.push(crate::k8s::pinned_zone(&objects[f.object]).map(|(_, z)| z));
        candidates.push((
            f.name(objects),
            Box::new(move || match &f.config {
                Ok(_) => f
                    .load(objects)
                    .ok_or_else(|| RouteError::Config("loading the proxy config".into())),
                Err(e) => Err(RouteError::Config(e.to_string())),
            }),
        ));
    }
    let names: Vec<String> = candidates.iter().map(|(n, _)| n.clone()).collect();
    // --zone: the proxies pinned to that zone, when proxies are zone-pinned.
    let mut pinned = false;
    if let Some(z) = &req.zone
        && zones.iter().any(Option::is_some)
    {
        let mut here = Vec::new();
        let mut elsewhere: Vec<String> = Vec::new();
        for ((name, c), pz) in candidates.into_iter().zip(&zones) {
            match pz {
                Some(pz) if pz == z => here.push((name, c)),
                Some(pz) => elsewhere.push(format!("{} in `{}`", name, shown(pz))),
                None => {}
            }
        }
        if here.is_empty() {
            return Err(RouteError::Config(format!(
                "--zone {}: no proxy runs in that zone; zone-pinned proxies: {}",
                shown(z),
                elsewhere.join("; ")
            )));
        }
        candidates = here;
        pinned = true;
    }
    let picked: Vec<_> = match &req.proxy {
        Some(want) => candidates
            .into_iter()
            .filter(|(name, _)| name == want || name.contains(want.as_str()))
            .collect(),
        None => candidates,
    };
    match picked.len() {
        0 if req.proxy.is_some() && !names.is_empty() => Err(RouteError::Config(format!(
            "--proxy {}: no proxy matches; proxies: {}",
            req.proxy.as_deref().unwrap_or_default(),
            names.join("; ")
        ))),
        0 => Err(RouteError::Config(format!(
            "no proxy config found{} (a proxy is a container running memcached -o proxy_config=routelib,proxy_arg=PATH)",
            req.proxy
                .as_ref()
                .map(|p| format!(" matching --proxy {p}"))
                .unwrap_or_default()
        ))),
        1 => (picked[0].1)().map(|c| (c, pinned)),
        // Proxies that run the same config (an app and its `helm test` pod
        // mounting one ConfigMap) route alike: any of them will do.
        _ if same_config(&picked) => (picked[0].1)().map(|c| (c, pinned)),
        _ => Err(RouteError::Config(format!(
            "several proxies found; pick one with --proxy: {}",
            picked
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// Do all candidates load, and to the same routes?
fn same_config(picked: &[(String, Candidate)]) -> bool {
    let mut first: Option<String> = None;
    for (_, load) in picked {
        let Ok(c) = load() else { return false };
        if c.failure.is_some() {
            return false;
        }
        let shape = format!(
            "{}\n{:?}\n{:?}\n{:?}\n{:?}",
            c.text, c.pools, c.routers, c.local_zone, c.custom_handlers
        );
        match &first {
            None => first = Some(shape),
            Some(f) if *f == shape => {}
            Some(_) => return false,
        }
    }
    true
}
