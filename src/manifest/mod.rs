//! Rendered YAML → documents and Kubernetes objects.
//!
//! Inputs are files, directories (walked for `*.yaml`/`*.yml`, and `*.lua` proxy
//! configs) and standard input. A stream is split into documents on `---` lines
//! before parsing, so one broken document does not hide the others.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::{Location, ObjectRef};
use crate::yaml::{self, LineIndex, Node, NodeKind, YamlError, YamlIssue};

mod large_file;
pub(crate) use large_file::BLOCK;
pub use large_file::{Reread, STREAM_FROM_BYTES, Source, StreamedFile, open as open_large_file};

/// Why an input could not be read. Each is one line naming the path.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error(
        "{path}: not UTF-8 text (invalid byte 0x{byte:02X} on line {line}, at offset {offset}); YAML must be UTF-8"
    )]
    NotUtf8 {
        path: String,
        offset: usize,
        line: usize,
        byte: u8,
    },
    #[error("{path}: binary data (a NUL byte at offset {offset}), not YAML")]
    Binary { path: String, offset: usize },
    #[error("{path}: directory holds no *.yaml, *.yml or *.lua files")]
    NoYaml { path: String },
    #[error(
        "{path}: {what}, not a regular file; give a file, a directory, a pipe or `-` for standard input"
    )]
    NotAFile { path: String, what: &'static str },
    #[error(
        "{path}: the inputs exceed the limit of {} (--max-input-size); raise the limit or check fewer files at once",
        show_size(*limit)
    )]
    TooLarge { path: String, limit: u64 },
}

/// Bounds on what is read. The limit is on the bytes of all inputs together
/// (a file, a pipe, standard input or every file of a directory), so neither
/// one huge input nor many small ones can take the memory of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    pub max_bytes: u64,
}

/// 256 MiB: about 250,000 typical rendered documents.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 << 20;

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// `256 MiB`, `1.5 KiB`, `300 bytes`.
pub fn show_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s} {}", UNITS[unit])
}

/// Parses `--max-input-size`: bytes, or a number with `K`, `M`, `G` (powers
/// of 1024, `KiB`/`Ki`/`KB` spellings too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (write 300M, 1G or a number of bytes)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "ki" | "kb" | "kib" => 10,
        "m" | "mi" | "mb" | "mib" => 20,
        "g" | "gi" | "gb" | "gib" => 30,
        _ => return Err(format!("`{s}`: unknown unit (use K, M or G)")),
    };
    n.checked_mul(1u64 << shift)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("`{s}` is not a usable size"))
}

/// What a file system object that is not a regular file or directory is.
fn special_kind(ft: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

/// Reads at most `budget` bytes; `None` when there were more.
/// `size`: the size the input says it has (a regular file's length), so the
/// buffer is allocated once rather than doubled up to twice the input.
fn read_bounded(
    reader: &mut dyn Read,
    budget: &mut u64,
    size: Option<u64>,
) -> std::io::Result<Option<Vec<u8>>> {
    let hint = size.filter(|n| *n <= *budget).unwrap_or(0);
    // One more byte, so that reading to the end does not grow the buffer.
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).saturating_add(1));
    reader
        .take(budget.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > *budget {
        return Ok(None);
    }
    *budget -= bytes.len() as u64;
    Ok(Some(bytes))
}

/// What a read input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Yaml,
    /// A routelib proxy config given directly.
    Lua,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: Arc<str>,
    pub kind: InputKind,
    pub text: String,
}

/// One YAML document of an input.
#[derive(Debug)]
pub struct Document {
    pub file: Arc<str>,
    /// 0-based index of the document in its file (empty documents count too, as
    /// `kubectl` would number them).
    pub index: usize,
    /// Line of the first content line.
    pub line: u32,
    /// Template named by helm's `# Source:` comment (one string shared by
    /// the documents of a template that follow each other).
    pub source: Option<Arc<str>>,
    /// The document as JSON, the data Kubernetes reads (`None` when it did not
    /// parse). Objects borrow it.
    pub value: Option<crate::json::Value>,
    /// The line of every node (`None` when the document did not parse).
    pub lines: Option<LineIndex>,
    /// What [`as_object`] answers, read from the tree while it was there.
    head: Option<Result<Head, NotObject>>,
    /// The tree, the parse error and the YAML issues ([`Document::root`],
    /// [`Document::error`], [`Document::issues`]): one pointer for the
    /// three, as the documents a large stream keeps have none of them.
    rest: Option<Box<Rest>>,
}

/// What the containers of an object start, as the rules over one document
/// read their command lines (see [`Document::memcached`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memcached {
    /// A container runs memcached.
    pub runs: bool,
    /// One runs it as a proxy (`-o proxy_config`).
    pub proxy: bool,
    /// One gives `-Z` or names a TLS file (`ssl_chain_cert`, `ssl_key`,
    /// `ssl_ca_cert`).
    pub tls: bool,
}

impl Head {
    /// Takes out of an object's kept JSON what the head holds: `apiVersion`,
    /// `kind`, `metadata.name` and `metadata.namespace` when they are the
    /// same strings (objects read them from the head), and `metadata` when
    /// nothing else is left in it. Four entries, two of each document's
    /// maps: a tenth of what a large stream keeps.
    fn take_out_of(&self, value: &mut crate::json::Value) {
        use crate::json::Value;
        let Value::Object(root) = value else {
            return;
        };
        let same = |v: &Value, s: &str| v.as_str() == Some(s);
        if let Some(Value::Object(meta)) = root.get_mut("metadata")
            && (meta.get("name").is_some_and(|v| same(v, &self.name))
                || self
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| meta.get("namespace").is_some_and(|v| same(v, ns))))
        {
            meta.retain(|k, v| match k.as_str() {
                "name" => !same(v, &self.name),
                "namespace" => !self.namespace.as_ref().is_some_and(|ns| same(v, ns)),
                _ => true,
            });
        }
        root.retain(|k, v| match k.as_str() {
            "apiVersion" => !same(v, &self.api_version),
            "kind" => !same(v, &self.kind),
            "metadata" => !v.as_object().is_some_and(|m| m.is_empty()),
            _ => true,
        });
    }
}

/// What a [`Document`] holds besides its JSON and identity.
#[derive(Debug, Default)]
struct Rest {
    root: Option<Node>,
    error: Option<YamlError>,
    issues: Vec<YamlIssue>,
}

impl Rest {
    /// `None` when there is nothing to hold.
    fn boxed(rest: Rest) -> Option<Box<Rest>> {
        (rest.root.is_some() || rest.error.is_some() || !rest.issues.is_empty())
            .then(|| Box::new(rest))
    }
}

/// The identifying fields of an object, as read from its YAML.
#[derive(Debug, Clone)]
struct Head {
    api_version: crate::json::Str,
    kind: crate::json::Str,
    name: crate::json::Str,
    namespace: Option<crate::json::Str>,
    /// A typed list kubectl unpacks ([`is_list`]).
    list: bool,
    /// See [`Document::memcached`] (beside `list`, in what was padding).
    memcached: Option<Memcached>,
}

impl Document {
    /// What the rules over this document found of the memcached processes
    /// its object starts, when they read every command line (`None`: not
    /// known, or not a single object). `check` keeps it for the rules over
    /// the whole set, which then read again only the command lines that can
    /// concern them.
    pub fn memcached(&self) -> Option<Memcached> {
        match &self.head {
            Some(Ok(h)) if !h.list => h.memcached,
            _ => None,
        }
    }

    /// Sets [`Document::memcached`] of a single object (of anything else it
    /// stays unknown).
    pub fn set_memcached(&mut self, facts: Option<Memcached>) {
        if let Some(Ok(h)) = &mut self.head
            && !h.list
        {
            h.memcached = facts;
        }
    }

    /// The YAML tree. [`parse_stream`] keeps it; [`parse_stream_lean`] keeps
    /// it only for documents that are not a single object (a list, a scalar,
    /// a mapping without a string `kind`), so that a large stream holds each
    /// object once, as JSON.
    pub fn root(&self) -> Option<&Node> {
        self.rest.as_ref()?.root.as_ref()
    }

    /// The tree, taken from the document.
    pub fn into_root(self) -> Option<Node> {
        self.rest?.root
    }

    /// Why the document did not parse.
    pub fn error(&self) -> Option<&YamlError> {
        self.rest.as_ref()?.error.as_ref()
    }

    /// What the YAML reader accepted but warns of (duplicate keys...).
    pub fn issues(&self) -> &[YamlIssue] {
        self.rest.as_ref().map_or(&[], |r| &r.issues)
    }

    /// Cuts the document down to what `prune` leaves of its JSON, once the
    /// rules that read one document at a time are done with it: the line
    /// index keeps only the lines of what is left, and YAML issues (already
    /// reported) go. Only a single object is cut (a list keeps its tree and
    /// everything in it); anything else is `None`.
    /// What is kept shares its strings with `strings`: the JSON's and the
    /// object's identity (kind, name...), which are the same texts; and
    /// the lists and maps of its JSON, and its line index's block, with
    /// equal ones of other documents.
    ///
    /// `prune` must cut by the kind and the keys alone, never by a value,
    /// and `strings` must serve one `prune` only: the kept part of the line
    /// index is then made once for each kind and shape of document
    /// ([`LineIndex::retain_shared`]).
    pub fn shrink(
        mut self,
        prune: impl FnOnce(&str, &mut crate::json::Value),
        strings: &mut crate::json::Strings,
    ) -> Option<Document> {
        let kind = match self.head.as_mut() {
            Some(Ok(h)) if !h.list => {
                strings.share(&mut h.api_version);
                strings.share(&mut h.kind);
                strings.share(&mut h.name);
                if let Some(ns) = &mut h.namespace {
                    strings.share(ns);
                }
                h.kind.clone()
            }
            Some(Ok(_)) => {
                if let Some(rest) = self.rest.take() {
                    self.rest = Rest::boxed(Rest {
                        issues: Vec::new(),
                        ..*rest
                    });
                }
                return Some(self);
            }
            _ => return None,
        };
        let mut value = self.value.take()?;
        prune(&kind, &mut value);
        self.lines = self
            .lines
            .as_ref()
            .map(|l| l.retain_shared(&value, &kind, strings));
        // After the lines are kept: a finding at `/metadata/name` still
        // finds its line.
        if let Some(Ok(h)) = &self.head {
            h.take_out_of(&mut value);
        }
        value.share_strings(strings);
        self.value = Some(value);
        self.rest = None;
        Some(self)
    }

    /// A document that could not be read: `message` says why, at `line`.
    pub(crate) fn failed(file: &Arc<str>, index: usize, line: u32, message: String) -> Document {
        Document {
            file: file.clone(),
            index,
            line,
            source: None,
            value: None,
            lines: None,
            head: None,
            rest: Rest::boxed(Rest {
                error: Some(YamlError {
                    line,
                    col: 1,
                    message,
                }),
                ..Rest::default()
            }),
        }
    }

    /// The line of the node at `path` (a JSON pointer), or of its deepest
    /// existing parent.
    pub fn line_of(&self, path: &str) -> Option<u32> {
        self.lines.as_ref().map(|l| l.line_of(path))
    }

    pub fn location(&self, path: &str) -> Location {
        let line = match &self.lines {
            Some(lines) => Some(lines.line_of(path)),
            None => self.error().map(|e| e.line).or(Some(self.line)),
        };
        Location {
            file: self.file.clone(),
            document: Some(self.index),
            source: self.source.clone(),
            path: path.into(),
            line,
        }
    }
}

/// A document that is a Kubernetes object (a mapping with a string `kind`).
#[derive(Debug)]
pub struct Object<'a> {
    pub doc: &'a Document,
    /// The object's YAML node, when its document kept its tree (see
    /// [`Document::root`]).
    pub root: Option<&'a Node>,
    pub json: &'a crate::json::Value,
    /// Shared with the document's own identity (8 bytes each).
    pub api_version: crate::json::Str,
    pub kind: crate::json::Str,
    pub name: crate::json::Str,
    /// `metadata.namespace` as written.
    pub namespace: Option<crate::json::Str>,
    /// Where the object lands when it names no namespace: `default`, or the
    /// namespace the rendering is applied to (`mclint check -n NS`, as with
    /// `helm install -n NS` or `kubectl apply -n NS`).
    pub default_namespace: crate::json::Str,
    /// The object's index in its document's `items` when the document is a
    /// typed list (`ConfigMapList`, `v1/List`), [`WHOLE_DOCUMENT`] when it
    /// is the document itself: 4 bytes, not the pointer's text, as every
    /// object of a run is held to its end.
    item: u32,
    /// Position in the objects of its [`crate::rendering::Rendering`] (0
    /// outside one), where rules find what their context read of it once.
    /// A hint: the context checks that the object there is this one, so a
    /// position past `u32::MAX` (saturated) only loses the shortcut.
    pub position: u32,
    /// What `k8s` reads of the object once, on first use, for every rule.
    pub memo: Memo<'a>,
}

/// [`Object::item`] of an object that is its whole document.
const WHOLE_DOCUMENT: u32 = u32::MAX;

/// A container of a pod template: (list field, index in it, JSON).
pub type ListedContainer<'a> = (&'static str, usize, &'a crate::json::Value);

/// Facts of an object that many rules ask for, read once (by `k8s`) on
/// first use instead of looked up again by each rule.
#[derive(Debug, Default)]
pub struct Memo<'a> {
    /// The pod template's facts, when the object has a pod spec: boxed, as
    /// most objects (Services, ConfigMaps...) have none.
    pub pod: std::cell::OnceCell<Option<Box<PodMemo<'a>>>>,
}

/// What [`Memo`] keeps of an object with a pod spec.
#[derive(Debug)]
pub struct PodMemo<'a> {
    /// The pod spec's pointer and JSON.
    pub spec_pointer: &'static str,
    pub spec: &'a crate::json::Value,
    /// The containers of the pod spec, init containers first: (list field,
    /// index in it, JSON).
    pub containers: std::cell::OnceCell<Box<[ListedContainer<'a>]>>,
    /// The labels of the pod template.
    pub labels: std::cell::OnceCell<Option<&'a crate::json::Map>>,
}

impl Object<'_> {
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: Some(self.api_version.clone()).filter(|s| !s.is_empty()),
            kind: Some(self.kind.clone()),
            namespace: self.namespace.clone(),
            name: Some(self.name.clone()).filter(|s| !s.is_empty()),
        }
    }

    /// The namespace the object lands in (`default` when unset, as with
    /// `kubectl apply` without `-n`).
    pub fn effective_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.default_namespace)
    }

    pub fn location(&self, path: &str) -> Location {
        match self.item() {
            None => self.doc.location(path),
            Some(i) => self.doc.location(&format!("/items/{i}{path}")),
        }
    }

    /// The object's index in its document's `items`, when it is an item of
    /// a typed list (located at `/items/N`).
    pub fn item(&self) -> Option<usize> {
        (self.item != WHOLE_DOCUMENT).then_some(self.item as usize)
    }

    pub fn labels(&self) -> Option<&crate::json::Map> {
        json_at(self.json, "/metadata/labels")?.as_object()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.json
            .get("metadata")?
            .get("annotations")?
            .get(key)?
            .as_str()
    }
}

/// `value.pointer(pointer)` without building a string per token when no
/// token is escaped (`~0`, `~1`): the pointers of rules are written in the
/// code, and a rule looks one up for every object.
pub fn json_at<'v>(value: &'v crate::json::Value, pointer: &str) -> Option<&'v crate::json::Value> {
    use crate::json::Value;
    if pointer.contains('~') || !(pointer.is_empty() || pointer.starts_with('/')) {
        return value.pointer(pointer);
    }
    let mut at = value;
    if pointer.is_empty() {
        return Some(at);
    }
    for token in pointer[1..].split('/') {
        at = match at {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => {
                // As serde_json reads an index: digits, no sign, no leading zero.
                if token.is_empty()
                    || !token.bytes().all(|b| b.is_ascii_digit())
                    || (token.len() > 1 && token.starts_with('0'))
                {
                    return None;
                }
                items.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(at)
}

/// Reads every path; `-` or no path at all means standard input. Inputs are
/// bounded by [`InputLimits::default`].
pub fn read_inputs(paths: &[PathBuf], stdin: &mut dyn Read) -> (Vec<Input>, Vec<InputError>) {
    read_inputs_with(paths, stdin, &InputLimits::default())
}

/// Reads every path within `limits`. A path given on the command line may be a
/// regular file, a directory, or a pipe (`<(helm template ...)`); devices and
/// sockets are refused. Walking a directory takes only regular `*.yaml`,
/// `*.yml` and `*.lua` files (through symbolic links, never around a loop).
pub fn read_inputs_with(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
    limits: &InputLimits,
) -> (Vec<Input>, Vec<InputError>) {
    let (sources, errors) = read_sources(paths, stdin, limits, false);
    let inputs = sources
        .into_iter()
        .filter_map(|s| match s {
            Source::Text(input) => Some(Arc::unwrap_or_clone(input)),
            Source::File(_) => None,
        })
        .collect();
    (inputs, errors)
}

/// [`read_inputs_with`] for `mclint check`: with `stream`, a YAML file of at
/// least [`STREAM_FROM_BYTES`] is checked now (size, NUL
/// bytes, UTF-8, with the same errors) and read again as it is checked,
/// instead of held whole (see [`crate::streamed`]).
pub fn read_sources(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
    limits: &InputLimits,
    stream: bool,
) -> (Vec<Source>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut budget = limits.max_bytes;
    let default = [PathBuf::from("-")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    for path in paths {
        if path.as_os_str() == "-" {
            match read_bounded(stdin, &mut budget, None) {
                Ok(Some(bytes)) => match decode("<stdin>", bytes) {
                    Ok(text) => inputs.push(Source::Text(Arc::new(Input {
                        name: Arc::from("<stdin>"),
                        kind: InputKind::Yaml,
                        text,
                    }))),
                    Err(e) => errors.push(e),
                },
                Ok(None) => errors.push(InputError::TooLarge {
                    path: "<stdin>".into(),
                    limit: limits.max_bytes,
                }),
                Err(e) => errors.push(InputError::Unreadable {
                    path: "<stdin>".into(),
                    reason: e.to_string(),
                }),
            }
            continue;
        }
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                errors.push(InputError::Missing { path: shown })
            }
            Err(e) => errors.push(InputError::Unreadable {
                path: shown,
                reason: e.to_string(),
            }),
            Ok(meta) if meta.is_dir() => {
                let before = inputs.len() + errors.len();
                let mut files: Vec<PathBuf> = Vec::new();
                for entry in walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name()
                {
                    match entry {
                        Ok(entry)
                            if entry.file_type().is_file() && kind_of(entry.path()).is_some() =>
                        {
                            files.push(entry.into_path())
                        }
                        Ok(_) => {}
                        // A link back to a directory being walked: its files
                        // are read once, through the directory itself.
                        Err(e) if e.loop_ancestor().is_some() => {}
                        Err(e) => errors.push(InputError::Unreadable {
                            path: e
                                .path()
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| shown.clone()),
                            reason: e.to_string(),
                        }),
                    }
                }
                for file in files {
                    let kind = kind_of(&file).unwrap_or(InputKind::Yaml);
                    let to = (&mut inputs, &mut errors);
                    if !read_file(&file, kind, &mut budget, limits, stream, to) {
                        break;
                    }
                }
                if inputs.len() + errors.len() == before {
                    errors.push(InputError::NoYaml { path: shown });
                }
            }
            Ok(meta) => {
                if let Some(what) = special_kind(&meta.file_type()) {
                    errors.push(InputError::NotAFile { path: shown, what });
                    continue;
                }
                let kind = kind_of(path).unwrap_or(InputKind::Yaml);
                let to = (&mut inputs, &mut errors);
                read_file(path, kind, &mut budget, limits, stream, to);
            }
        }
    }
    (inputs, errors)
}

fn kind_of(path: &Path) -> Option<InputKind> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => Some(InputKind::Yaml),
        Some("lua") => Some(InputKind::Lua),
        _ => None,
    }
}

/// Reads one file within the budget; `false` once the budget is spent (the
/// error is recorded and nothing more is read).
fn read_file(
    path: &Path,
    kind: InputKind,
    budget: &mut u64,
    limits: &InputLimits,
    stream: bool,
    (inputs, errors): (&mut Vec<Source>, &mut Vec<InputError>),
) -> bool {
    let shown = path.display().to_string();
    let unreadable = |e: std::io::Error| InputError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            errors.push(unreadable(e));
            return true;
        }
    };
    // What was opened, not what the name pointed at a moment before.
    let size = match file.metadata() {
        Ok(meta) => {
            if let Some(what) = special_kind(&meta.file_type()) {
                errors.push(InputError::NotAFile { path: shown, what });
                return true;
            }
            if meta.is_file() && meta.len() > *budget {
                errors.push(InputError::TooLarge {
                    path: shown,
                    limit: limits.max_bytes,
                });
                return false;
            }
            meta.is_file().then_some(meta.len())
        }
        Err(e) => {
            errors.push(unreadable(e));
            return true;
        }
    };
    if stream && kind == InputKind::Yaml && size.is_some_and(|n| n >= STREAM_FROM_BYTES) {
        match large_file::open(&shown, path, file, budget) {
            Ok(Some(f)) => inputs.push(Source::File(f)),
            Ok(None) => {
                errors.push(InputError::TooLarge {
                    path: shown,
                    limit: limits.max_bytes,
                });
                return false;
            }
            Err(e) => errors.push(e),
        }
        return true;
    }
    match read_bounded(&mut file, budget, size) {
        Ok(Some(bytes)) => match decode(&shown, bytes) {
            Ok(text) => inputs.push(Source::Text(Arc::new(Input {
                name: Arc::from(shown.as_str()),
                kind,
                text,
            }))),
            Err(e) => errors.push(e),
        },
        Ok(None) => {
            errors.push(InputError::TooLarge {
                path: shown,
                limit: limits.max_bytes,
            });
            return false;
        }
        Err(e) => errors.push(unreadable(e)),
    }
    true
}

fn decode(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::Binary {
            path: name.to_string(),
            offset,
        });
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.remove(0);
            }
            Ok(s)
        }
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            Err(InputError::NotUtf8 {
                path: name.to_string(),
                offset,
                line: bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1,
                byte: bytes.get(offset).copied().unwrap_or(0),
            })
        }
    }
}

/// Is this line a document separator (`---` alone or followed by white space)?
fn is_separator(line: &[u8]) -> bool {
    line.strip_prefix(b"---")
        .is_some_and(|rest| rest.first().is_none_or(|b| b" \t\r\n".contains(b)))
}

/// Splits a YAML stream into documents and parses each. Documents with no
/// content are left out.
pub fn parse_stream(input: &Input) -> Vec<Document> {
    split_stream(input, true)
}

/// [`parse_stream`] for large streams: a document that is one object keeps
/// its JSON and line index only, and its YAML tree goes as soon as it is
/// parsed.
pub fn parse_stream_lean(input: &Input) -> Vec<Document> {
    split_stream(input, false)
}

fn split_stream(input: &Input, keep_trees: bool) -> Vec<Document> {
    Documents::new(input, keep_trees).collect()
}

/// The documents of an input, parsed one at a time as they are taken, so a
/// caller that lets each go when it is done holds one document's tree and
/// JSON at a time ([`crate::check`] takes them in batches). As
/// [`parse_stream_lean`], a single object keeps no YAML tree.
pub fn documents(input: &Input) -> Documents<&Input> {
    Documents::new(input, false)
}

/// Iterator of [`documents`], over a borrowed or an owned input (an owned
/// one's text goes with the iterator, once its last document is taken).
pub struct Documents<I: std::borrow::Borrow<Input>> {
    input: I,
    keep_trees: bool,
    split: Splitter,
    /// Byte offset of the next unread line.
    offset: usize,
    /// Start (byte offset) of the current chunk.
    chunk_start: usize,
    done: bool,
    /// The last document's template, shared with the next when it names
    /// the same one.
    last_source: Option<Arc<str>>,
}

/// Where a stream's documents end, read a line at a time: a separator line
/// (`---`) ends the chunk before it and starts the next, except before the
/// first document when nothing but white space came before it. Empty
/// documents count, as `kubectl` numbers them.
#[derive(Debug)]
pub(crate) struct Splitter {
    /// Line number of the next line.
    line_no: u32,
    /// First line and index of the current chunk.
    chunk_line: u32,
    index: usize,
    /// No separator has been seen yet.
    first: bool,
    /// The current chunk holds only white space so far.
    blank: bool,
}

impl Splitter {
    pub(crate) fn new() -> Splitter {
        Splitter {
            line_no: 1,
            chunk_line: 1,
            index: 0,
            first: true,
            blank: true,
        }
    }

    /// Takes the next line (with its line break): `Some((first line,
    /// index))` of the chunk that ended before it, when it is a separator
    /// that ends one. The line then starts the next chunk.
    pub(crate) fn line(&mut self, line: &[u8]) -> Option<(u32, usize)> {
        let line_no = self.line_no;
        self.line_no = self.line_no.saturating_add(1);
        let separator = is_separator(line);
        let mut ended = None;
        if separator && !(self.first && self.blank) {
            ended = Some((self.chunk_line, self.index));
            self.index += 1;
            self.chunk_line = line_no;
        }
        if separator {
            self.first = false;
        }
        self.blank = self.blank && std::str::from_utf8(line).is_ok_and(|t| t.trim().is_empty());
        ended
    }

    /// Line number of the next line.
    pub(crate) fn next_line(&self) -> u32 {
        self.line_no
    }

    /// First line and index of the last chunk, at the end of the stream.
    pub(crate) fn last(&self) -> (u32, usize) {
        (self.chunk_line, self.index)
    }
}

impl<I: std::borrow::Borrow<Input>> Documents<I> {
    pub(crate) fn new(input: I, keep_trees: bool) -> Self {
        Documents {
            input,
            keep_trees,
            split: Splitter::new(),
            offset: 0,
            chunk_start: 0,
            done: false,
            last_source: None,
        }
    }

    /// The next chunk of text between separators: (start, end, first line,
    /// index).
    fn next_chunk(&mut self) -> Option<(usize, usize, u32, usize)> {
        if self.done {
            return None;
        }
        let text = self.input.borrow().text.as_str();
        while self.offset < text.len() {
            let rest = &text[self.offset..];
            let len = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
            let ended = self.split.line(&rest.as_bytes()[..len]);
            let start = self.chunk_start;
            let end = self.offset;
            self.offset += len;
            if let Some((line, index)) = ended {
                self.chunk_start = end;
                return Some((start, end, line, index));
            }
        }
        self.done = true;
        let (line, index) = self.split.last();
        Some((self.chunk_start, text.len(), line, index))
    }
}

impl<I: std::borrow::Borrow<Input>> Iterator for Documents<I> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        loop {
            let (start, end, line, index) = self.next_chunk()?;
            let input = self.input.borrow();
            if let Some(doc) = parse_doc(
                &input.name,
                &input.text[start..end],
                line,
                index,
                self.keep_trees,
                &mut self.last_source,
            ) {
                return Some(doc);
            }
        }
    }
}

pub(crate) fn parse_doc(
    name: &Arc<str>,
    chunk: &str,
    first_line: u32,
    index: usize,
    keep_trees: bool,
    last_source: &mut Option<Arc<str>>,
) -> Option<Document> {
    let mut source: Option<Arc<str>> = None;
    let mut content_line = None;
    for (i, line) in chunk.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t == "---" {
            continue;
        }
        if let Some(comment) = t.strip_prefix('#') {
            if source.is_none()
                && let Some(s) = comment.trim().strip_prefix("Source:")
            {
                let s = s.trim();
                source = Some(match last_source.as_ref() {
                    Some(last) if **last == *s => last.clone(),
                    _ => Arc::from(s),
                });
                *last_source = source.clone();
            }
            continue;
        }
        if t == "..." {
            continue;
        }
        content_line = Some(first_line + i as u32);
        break;
    }
    // An empty document is skipped.
    let line = content_line?;
    let (root, error, issues) = match yaml::parse_document(chunk, first_line) {
        Ok(parsed) => (parsed.root, None, parsed.issues),
        Err(e) => (None, Some(e), Vec::new()),
    };
    if root.is_none() && error.is_none() {
        return None;
    }
    let head = root.as_ref().map(head_of);
    let value = root.as_ref().map(Node::to_json);
    let lines = root.as_ref().map(LineIndex::of);
    let single_object = matches!(&head, Some(Ok(h)) if !h.list);
    Some(Document {
        file: name.clone(),
        index,
        line,
        source,
        value,
        lines,
        head,
        rest: Rest::boxed(Rest {
            root: root.filter(|_| keep_trees || !single_object),
            error,
            issues,
        }),
    })
}

/// Why a parsed document is not a Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub enum NotObject {
    NotMapping(&'static str),
    MissingKind,
    KindNotString(&'static str),
}

impl std::fmt::Display for NotObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotObject::NotMapping(t) => write!(
                f,
                "the document is a {t}, not a mapping; a Kubernetes object is a mapping with apiVersion, kind and metadata"
            ),
            NotObject::MissingKind => f.write_str("the document has no `kind`"),
            NotObject::KindNotString(t) => write!(f, "`kind` is a {t}, not a string"),
        }
    }
}

/// Reads the identifying fields of a document.
pub fn as_object(doc: &Document) -> Option<Result<Object<'_>, NotObject>> {
    let json = doc.value.as_ref()?;
    Some(match doc.head.as_ref()? {
        Err(e) => Err(e.clone()),
        Ok(h) => Ok(Object {
            doc,
            root: doc.root(),
            json,
            api_version: h.api_version.clone(),
            kind: h.kind.clone(),
            name: h.name.clone(),
            namespace: h.namespace.clone(),
            default_namespace: default_namespace(),
            item: WHOLE_DOCUMENT,
            position: 0,
            memo: Memo::default(),
        }),
    })
}

/// `default`, the namespace of an object outside a rendering (a rendering
/// sets its own): one shared string, not one allocation per object.
fn default_namespace() -> crate::json::Str {
    thread_local! {
        static DEFAULT: crate::json::Str = "default".into();
    }
    DEFAULT.with(Clone::clone)
}

/// Is this object a list kubectl unpacks (a kind ending in `List` with an
/// `items` sequence: `v1/List`, `ConfigMapList`, a custom `FooList`)?
pub fn is_list(obj: &Object) -> bool {
    obj.kind.ends_with("List")
        && obj
            .json
            .get("items")
            .is_some_and(crate::json::Value::is_array)
}

/// The items of a typed list document: (item node, item JSON), when the
/// document is one and kept its tree (as [`parse_stream_lean`] does for lists).
fn list_items(doc: &Document) -> Vec<(&Node, &crate::json::Value)> {
    let (Some(Ok(h)), Some(root), Some(json)) = (doc.head.as_ref(), doc.root(), &doc.value) else {
        return Vec::new();
    };
    if !h.list {
        return Vec::new();
    }
    let (Some(NodeKind::Seq(nodes)), Some(values)) = (
        root.get("items").map(|i| &i.kind),
        json.get("items").and_then(crate::json::Value::as_array),
    ) else {
        return Vec::new();
    };
    nodes.iter().zip(values).collect()
}

/// The objects a document holds, as kubectl reads it: the document itself, or
/// each item of a typed list (located at `/items/N`). Items that are not
/// objects are left out here and reported by `not-an-object`.
pub fn objects_in(doc: &Document) -> Vec<Object<'_>> {
    let Some(Ok(obj)) = as_object(doc) else {
        return Vec::new();
    };
    if !is_list(&obj) {
        return vec![obj];
    }
    list_items(doc)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (node, json))| {
            let h = head_of(node).ok()?;
            // An item past the 4,294,967,294th (a list of more would take
            // tens of GiB parsed) is not given a position it cannot hold.
            let item = u32::try_from(i).ok().filter(|i| *i != WHOLE_DOCUMENT)?;
            Some(Object {
                doc,
                root: Some(node),
                json,
                api_version: h.api_version,
                kind: h.kind,
                name: h.name,
                namespace: h.namespace,
                default_namespace: default_namespace(),
                item,
                position: 0,
                memo: Memo::default(),
            })
        })
        .collect()
}

/// The items of a typed list that are not objects: `(pointer, why)`.
pub fn list_item_problems(doc: &Document) -> Vec<(String, NotObject)> {
    list_items(doc)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (node, _))| match head_of(node) {
            Err(e) => Some((format!("/items/{i}"), e)),
            Ok(_) => None,
        })
        .collect()
}

/// The identifying fields of the object at `root`, or why it is not one.
fn head_of(root: &Node) -> Result<Head, NotObject> {
    if !matches!(root.kind, NodeKind::Map(_)) {
        return Err(NotObject::NotMapping(root.type_name()));
    }
    let kind: crate::json::Str = match root.get("kind") {
        None => return Err(NotObject::MissingKind),
        Some(k) => match k.as_str() {
            Some(s) => s.into(),
            None if matches!(k.kind, NodeKind::Null) => return Err(NotObject::MissingKind),
            None => return Err(NotObject::KindNotString(k.type_name())),
        },
    };
    let api_version = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default()
        .into();
    let meta = root.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or_default()
        .into();
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .map(crate::json::Str::from);
    let list = kind.ends_with("List")
        && root
            .get("items")
            .is_some_and(|i| matches!(i.kind, NodeKind::Seq(_)));
    Ok(Head {
        api_version,
        kind,
        name,
        namespace,
        list,
        memcached: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input {
            name: Arc::from("t.yaml"),
            kind: InputKind::Yaml,
            text: text.to_string(),
        }
    }

    #[test]
    fn documents_of_one_kind_and_shape_keep_the_lines_each_would_keep_alone() {
        // Three Deployments of one shape (other names and values, other
        // first lines), one of another shape, and a Service and a Role laid
        // out as the first: what each keeps of its line index is what
        // `retain` alone keeps, though the block is made once.
        let deployment = |name: &str, image: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  \
                 annotations: {{a: b}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      \
                 containers:\n      - name: c\n        image: {image}\n        \
                 resources: {{limits: {{memory: 1Gi}}}}\n"
            )
        };
        let text = [
            deployment("a", "x:1"),
            "# a comment moves the next one down\n".to_string() + &deployment("bb", "y:2"),
            deployment("c", "z"),
            deployment("d", "w").replace("replicas: 2\n", ""),
            deployment("e", "v").replace("Deployment", "Service"),
            deployment("f", "u").replace(
                "apps/v1\nkind: Deployment",
                "rbac.authorization.k8s.io/v1\nkind: Role",
            ),
        ]
        .join("---\n");
        let docs = parse_stream(&input(&text));
        let mut strings = crate::json::Strings::new();
        for doc in docs {
            let kind = doc.head.as_ref().unwrap().as_ref().unwrap().kind.clone();
            let mut value = doc.value.clone().unwrap();
            crate::residue::prune(&kind, &mut value);
            let alone = doc.lines.as_ref().unwrap().retain(&value);
            let kept = doc.shrink(crate::residue::prune, &mut strings).unwrap();
            assert_eq!(kept.lines.as_ref(), Some(&alone), "{kind} {}", kept.index);
            assert_eq!(
                kept.line_of("/spec/template/spec/containers/0/image"),
                Some(alone.line_of("/spec/template/spec/containers/0/image"))
            );
        }
        // One block made for the three Deployments of one shape, one each
        // for the other Deployment, the Service and the Role.
        assert_eq!(strings.derived_len(), 4);
    }

    #[test]
    fn a_kept_document_holds_its_identity_once_and_keeps_its_lines() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ns\n\
                    spec:\n  ports:\n  - port: 1\n---\napiVersion: v1\nkind: ConfigMap\n\
                    metadata:\n  name: 7\n  labels: {a: b}\n";
        let mut strings = crate::json::Strings::new();
        let kept: Vec<Document> = parse_stream(&input(text))
            .into_iter()
            .filter_map(|d| d.shrink(|_, _| {}, &mut strings))
            .collect();
        let service = as_object(&kept[0]).unwrap().unwrap();
        assert_eq!(
            (&*service.api_version, &*service.kind, &*service.name),
            ("v1", "Service", "web")
        );
        assert_eq!(service.namespace.as_deref(), Some("ns"));
        // Only what the head does not hold is left; an empty metadata goes.
        assert_eq!(
            service.json.to_string(),
            r#"{"spec":{"ports":[{"port":1}]}}"#
        );
        assert_eq!(kept[0].line_of("/metadata/name"), Some(4));
        assert_eq!(kept[0].line_of("/metadata/namespace"), Some(5));
        assert_eq!(kept[0].line_of("/kind"), Some(2));
        // A name that is not a string stays as written.
        let map = as_object(&kept[1]).unwrap().unwrap();
        assert_eq!(
            map.json.to_string(),
            r#"{"metadata":{"labels":{"a":"b"},"name":7}}"#
        );
        assert_eq!(map.labels().unwrap().len(), 1);
    }

    #[test]
    fn splits_helm_output_and_keeps_sources() {
        let text = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# Source: c/templates/b.yaml\n---\n# Source: c/templates/c.yaml\nkind: ConfigMap\n";
        let docs = parse_stream(&input(text));
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].source.as_deref(), Some("c/templates/a.yaml"));
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[1].source.as_deref(), Some("c/templates/c.yaml"));
        assert_eq!(docs[1].line, 11);
        assert_eq!(docs[1].index, 2);
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next() {
        let text = "a: [1\n---\nkind: X\n";
        let docs = parse_stream(&input(text));
        assert_eq!(docs.len(), 2);
        assert!(docs[0].error().is_some());
        assert_eq!(
            docs[1].root().unwrap().get("kind").unwrap().as_str(),
            Some("X")
        );
        assert_eq!(docs[1].line, 3);
    }

    #[test]
    fn decodes_or_names_the_problem() {
        assert!(matches!(
            decode("x", vec![0xff, 0xfe]),
            Err(InputError::NotUtf8 { offset: 0, .. })
        ));
        assert!(matches!(
            decode("x", b"a\0".to_vec()),
            Err(InputError::Binary { offset: 1, .. })
        ));
        assert_eq!(decode("x", "\u{feff}a: 1".into()).unwrap(), "a: 1");
        assert_eq!(
            decode("x.yaml", b"a: 1\nb: caf\xe9\n".to_vec())
                .unwrap_err()
                .to_string(),
            "x.yaml: not UTF-8 text (invalid byte 0xE9 on line 2, at offset 11); YAML must be UTF-8"
        );
    }

    #[test]
    fn sizes_parse_and_show() {
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("300"), Ok(300));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999G").is_err());
        assert_eq!(show_size(DEFAULT_MAX_INPUT_BYTES), "256 MiB");
        assert_eq!(show_size(1536), "1.5 KiB");
        assert_eq!(show_size(10), "10 bytes");
    }

    #[test]
    fn the_budget_spans_every_input() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(&a, "kind: A\n").unwrap();
        std::fs::write(&b, "kind: B\n").unwrap();
        let limits = InputLimits { max_bytes: 12 };
        let (inputs, errors) =
            read_inputs_with(&[a.clone(), b.clone()], &mut std::io::empty(), &limits);
        assert_eq!(inputs.len(), 1);
        assert_eq!(
            errors,
            [InputError::TooLarge {
                path: b.display().to_string(),
                limit: 12
            }]
        );
        let (inputs, errors) = read_inputs_with(&[], &mut "kind: C\nkind: D\n".as_bytes(), &limits);
        assert!(inputs.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "<stdin>: the inputs exceed the limit of 12 bytes (--max-input-size); raise the limit or check fewer files at once"
        );
    }

    #[test]
    fn classifies_non_objects() {
        let docs = parse_stream(&input("- a\n---\nkind: 3\n---\nmetadata: {}\n"));
        assert_eq!(
            as_object(&docs[0]).unwrap().unwrap_err(),
            NotObject::NotMapping("list")
        );
        assert_eq!(
            as_object(&docs[1]).unwrap().unwrap_err(),
            NotObject::KindNotString("number")
        );
        assert_eq!(
            as_object(&docs[2]).unwrap().unwrap_err(),
            NotObject::MissingKind
        );
    }

    #[test]
    fn json_at_reads_as_serde_json_pointer() {
        let v: crate::json::Value = crate::json_value!({
            "a": {"b": [10, {"c": 1}], "": 2, "x/y": 3, "t~": 4, "0": 5},
            "n": null
        });
        for p in [
            "",
            "/",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/2",
            "/a/b/-",
            "/a/",
            "/a/x~1y",
            "/a/t~0",
            "/a/0",
            "a",
            "/n/x",
            "/a/b/1/c/d",
            "//",
            "/a/b/18446744073709551616",
        ] {
            assert_eq!(json_at(&v, p), v.pointer(p), "pointer {p:?}");
        }
    }
}
