//! memcached command lines, read the way memcached 1.6.38 reads them.
//!
//! `memcached.c` parses its arguments with glibc `getopt_long` over the short
//! option string `a:AZp:s:U:m:Mc:khiVrvdl:u:P:f:n:t:D:LR:Cb:B:I:SFXWY:e:o:N:` and
//! the long option table beside it, then splits every `-o` argument with
//! `getsubopt` (names unknown to the main table go to extstore's table, and
//! anything unknown there stops the server). This module follows the same
//! rules: short options may be clustered (`-vm256`), a required argument is the
//! rest of the cluster or the next element (even one starting with `-`), long
//! options take `--name=value` or `--name value` and may be abbreviated to any
//! unambiguous prefix, `--` ends the options, operands are ignored, and the last
//! occurrence of an option wins (`-l` accumulates). Numbers go through C's
//! `atoi`, so `-m 1g` means 1 MiB: such values are reported.
//!
//! Which container runs memcached, and with which argv, follows Kubernetes:
//! `command` replaces the image's entrypoint and `args` its CMD; `$(VAR)` in
//! either is replaced by the container's `env` (`$$` escapes), and a reference
//! Kubernetes cannot resolve from the manifest is reported. The official image's
//! entrypoint (`docker-entrypoint.sh`) runs `memcached "$@"` when the first
//! argument starts with `-`, and its CMD is `memcached`.

use std::collections::HashMap;

use serde_json::Value;

use crate::k8s::{self, Container};
use crate::manifest::Object;

/// memcached's defaults (`settings_init` in memcached.c).
pub const DEFAULT_MEMORY_MIB: u64 = 64;
pub const DEFAULT_CONN_LIMIT: u64 = 1024;
pub const DEFAULT_THREADS: u64 = 4;
pub const DEFAULT_MAX_ITEM_SIZE: u64 = 1024 * 1024;
pub const DEFAULT_PORT: i64 = 11211;
pub const DEFAULT_HASHPOWER: u32 = 16;
pub const SLAB_PAGE_SIZE: u64 = 1024 * 1024;

/// Which list of the container an argument is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgField {
    Command,
    Args,
}

/// The element of `command` or `args` an option came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgRef {
    pub field: ArgField,
    pub index: usize,
}

impl ArgRef {
    pub fn args(index: usize) -> ArgRef {
        ArgRef {
            field: ArgField::Args,
            index,
        }
    }

    pub fn command(index: usize) -> ArgRef {
        ArgRef {
            field: ArgField::Command,
            index,
        }
    }

    /// JSON pointer below a container (`/spec/template/spec/containers/0`).
    pub fn pointer(&self, container_pointer: &str) -> String {
        let field = match self.field {
            ArgField::Command => "command",
            ArgField::Args => "args",
        };
        format!("{container_pointer}/{field}/{}", self.index)
    }
}

/// One element of the argv memcached receives, with where it was written and
/// whether it could be known from the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgWord {
    pub text: String,
    pub from: ArgRef,
    /// `$(VAR)` / `$VAR` references whose value the manifest does not give.
    pub unresolved: Vec<String>,
}

impl ArgWord {
    pub fn new(text: impl Into<String>, from: ArgRef) -> ArgWord {
        ArgWord {
            text: text.into(),
            from,
            unresolved: Vec::new(),
        }
    }
}

/// One option as getopt returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    /// The option letter (long options map to theirs: `--memory-limit` is `m`).
    pub short: char,
    /// As written: `-m`, `--memory-limit`, `--mem`.
    pub spelled: String,
    /// The argument after memcached's leading-white-space trim.
    pub value: Option<String>,
    /// Where the argument (or the flag, when it has none) was written.
    pub from: ArgRef,
    /// The argument holds a variable the manifest cannot resolve.
    pub unresolved: bool,
}

/// One `name[=value]` of a `-o` list.
#[derive(Debug, Clone, PartialEq)]
pub struct SubOpt {
    pub name: String,
    pub value: Option<String>,
    pub from: ArgRef,
    pub unresolved: bool,
}

/// Something memcached would reject, or that cannot be known from the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgProblem {
    pub from: Option<ArgRef>,
    pub message: String,
    /// memcached exits at start-up on this (an unknown option, an invalid value).
    pub fatal: bool,
}

/// A setting with the place it was set; `from` is `None` for memcached's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub from: Option<ArgRef>,
    /// False when the value holds a variable the manifest does not give: `value`
    /// is then memcached's default and must not be trusted.
    pub known: bool,
}

impl<T> Setting<T> {
    fn default_value(value: T) -> Setting<T> {
        Setting {
            value,
            from: None,
            known: true,
        }
    }

    /// Set on the command line (not memcached's default).
    pub fn is_set(&self) -> bool {
        self.from.is_some()
    }
}

/// A parsed memcached command line.
#[derive(Debug, Clone, PartialEq)]
pub struct MemcachedArgs {
    /// Every option in order.
    pub opts: Vec<Opt>,
    /// Every `-o` sub-option in order.
    pub subopts: Vec<SubOpt>,
    /// Non-option arguments (memcached ignores them).
    pub operands: Vec<ArgWord>,
    pub problems: Vec<ArgProblem>,
    /// `-m`: item memory in MiB.
    pub memory_mib: Setting<u64>,
    /// `-c`: maximum simultaneous connections.
    pub conn_limit: Setting<u64>,
    /// `-t`: worker threads.
    pub threads: Setting<u64>,
    /// `-I`: largest item in bytes.
    pub max_item_size: Setting<u64>,
    /// `-p`: TCP port (0 disables TCP).
    pub port: Setting<i64>,
    /// `-U`: UDP port (0, the default, disables UDP).
    pub udp_port: Setting<i64>,
    /// `-l`: listen addresses, accumulated as memcached does.
    pub listen: Vec<String>,
    /// `-o hashpower`: initial hash table power (default 16).
    pub hashpower: Setting<u32>,
    /// `-o slab_chunk_max` in bytes (default half a slab page).
    pub slab_chunk_max: Setting<u64>,
    /// `-o no_hashexpand`: the hash table never grows.
    pub no_hashexpand: bool,
    /// `-o read_buf_mem_limit` in bytes; `None` or 0 is unlimited.
    pub read_buf_mem_limit: Setting<Option<u64>>,
    /// extstore `ext_*` sub-options in order.
    pub ext: Vec<SubOpt>,
    /// `-o proxy_config`: the process is a proxy.
    pub proxy_config: Setting<Option<String>>,
    /// `-o proxy_arg`.
    pub proxy_arg: Setting<Option<String>>,
    /// `-k`: all memory locked.
    pub lock_memory: bool,
}

/// One TCP listener memcached opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The address; `None` is every interface (no `-l`, or `-l '*'`).
    pub host: Option<String>,
    pub port: i64,
}

impl Listener {
    /// Bound to a loopback address only: unreachable from outside the pod
    /// (Services, the kubelet's TCP and HTTP probes).
    pub fn loopback(&self) -> bool {
        self.host
            .as_deref()
            .is_some_and(|h| h == "localhost" || h == "::1" || h.starts_with("127."))
    }

    /// Both bind the same port on overlapping addresses (the second bind fails).
    pub fn clashes(&self, other: &Listener) -> bool {
        self.port == other.port
            && match (&self.host, &other.host) {
                (None, _) | (_, None) => true,
                (Some(a), Some(b)) => a == b,
            }
    }
}

impl MemcachedArgs {
    /// The TCP listeners memcached 1.6.38 opens (`server_sockets`): each `-l`
    /// entry (split on `,` and `;`, with its `notls:`/`proto[..]:`/`tag[..]:`
    /// prefixes dropped) at its own `:port` or `-p`; every interface at `-p`
    /// without `-l`; none when `-p 0`. `None` when the manifest does not say
    /// (a variable in `-p` or `-l`).
    pub fn tcp_listeners(&self) -> Option<Vec<Listener>> {
        if !self.port.known || self.opts.iter().any(|o| o.short == 'l' && o.unresolved) {
            return None;
        }
        let port = self.port.value;
        if port == 0 {
            return Some(Vec::new());
        }
        if self.listen.is_empty() {
            return Some(vec![Listener { host: None, port }]);
        }
        let mut out = Vec::new();
        for entry in self.listen.iter().flat_map(|l| l.split([',', ';'])) {
            let mut p = entry;
            for prefix in ["notls:", "btls:", "mtls:"] {
                if let Some(rest) = p.strip_prefix(prefix) {
                    p = rest;
                }
            }
            for tag in ["proto[", "tag["] {
                if p.starts_with(tag)
                    && let Some(end) = p.find(']')
                {
                    p = p.get(end + 2..).unwrap_or("");
                }
            }
            let (host, port) = if let Some(v6) = p.strip_prefix('[') {
                let end = v6.find(']')?;
                let rest = &v6[end + 1..];
                let port = match rest.strip_prefix(':') {
                    Some(n) => n.parse().ok()?,
                    None => port,
                };
                (v6[..end].to_string(), port)
            } else {
                match p.split_once(':') {
                    // One colon: host:port. More: an IPv6 address without a port.
                    Some((h, n)) if !n.contains(':') => (h.to_string(), n.parse().ok()?),
                    _ => (p.to_string(), port),
                }
            };
            out.push(Listener {
                host: (host != "*").then_some(host),
                port,
            });
        }
        Some(out)
    }
}

/// What the memcached process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Stores items.
    Cache,
    /// Runs the built-in proxy (`-o proxy_config=...`).
    Proxy,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cache => "cache",
            Role::Proxy => "proxy",
        }
    }
}

/// How the container starts memcached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// The image's entrypoint (no `command`).
    ImageEntrypoint,
    /// `command` runs memcached (possibly through `docker-entrypoint.sh`, `tini`).
    Command,
    /// A shell script (`sh -c "... memcached ..."`), read best effort.
    Shell,
}

/// A container that runs memcached.
#[derive(Debug, Clone)]
pub struct MemcachedContainer<'a> {
    pub container: Container<'a>,
    pub args: MemcachedArgs,
    pub role: Role,
    pub launch: Launch,
}

impl MemcachedContainer<'_> {
    /// JSON pointer to where an argument was written.
    pub fn pointer(&self, from: Option<ArgRef>) -> String {
        match from {
            Some(r) => r.pointer(&self.container.pointer),
            None => self.default_pointer(),
        }
    }

    /// Where a missing option would be added: `args`, or `command` when only
    /// `command` is given, or the container itself.
    pub fn default_pointer(&self) -> String {
        let c = &self.container;
        if c.json.get("args").is_some() {
            format!("{}/args", c.pointer)
        } else if c.json.get("command").is_some() {
            format!("{}/command", c.pointer)
        } else {
            c.pointer.clone()
        }
    }
}

/// Every long-running container of the object that runs memcached, parsed.
pub fn memcached_containers<'a>(obj: &'a Object) -> Vec<MemcachedContainer<'a>> {
    k8s::containers(obj)
        .into_iter()
        .filter(|c| c.long_running())
        .filter_map(|c| {
            let (argv, launch) = memcached_argv(&c)?;
            let mut args = parse(&argv);
            let env = EnvMap::of(c.json);
            for p in &mut args.problems {
                let name = p
                    .message
                    .split_once("the variable `")
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map(|(name, _)| name.to_string());
                if let Some(name) = name {
                    p.message = format!("{}: {}", p.message, env.why(&name));
                }
            }
            let role = if args.proxy_config.value.is_some() {
                Role::Proxy
            } else {
                Role::Cache
            };
            Some(MemcachedContainer {
                container: c,
                args,
                role,
                launch,
            })
        })
        .collect()
}

/// Is this image memcached (`memcached:1.6.38`, `docker.io/library/memcached@sha256:...`)?
pub fn is_memcached_image(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let repo = last.split(':').next().unwrap_or(last);
    repo == "memcached"
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn is_memcached_program(s: &str) -> bool {
    basename(s) == "memcached"
}

fn is_shell(s: &str) -> bool {
    matches!(basename(s), "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh")
}

/// The arguments memcached receives (without the program name), if the container runs it.
pub fn memcached_argv(c: &Container) -> Option<(Vec<ArgWord>, Launch)> {
    let env = EnvMap::of(c.json);
    let expand = |field: ArgField, list: Vec<String>| -> Vec<ArgWord> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                let from = ArgRef { field, index: i };
                let (text, unresolved) = env.expand_kubernetes(s);
                ArgWord {
                    text,
                    from,
                    unresolved,
                }
            })
            .collect()
    };
    let has_command = c.json.get("command").is_some();
    let command = expand(ArgField::Command, c.strings("command"));
    let args = expand(ArgField::Args, c.strings("args"));
    if !has_command {
        if !c.image().is_some_and(is_memcached_image) {
            return None;
        }
        return entrypoint(args, &env).map(|(a, l)| {
            (
                a,
                if l == Launch::Shell {
                    l
                } else {
                    Launch::ImageEntrypoint
                },
            )
        });
    }
    let argv: Vec<ArgWord> = command.into_iter().chain(args).collect();
    from_argv(argv, &env)
}

/// The official image's `docker-entrypoint.sh`: a first argument starting with
/// `-` means `memcached "$@"`; no argument means the CMD, `memcached`.
fn entrypoint(args: Vec<ArgWord>, env: &EnvMap) -> Option<(Vec<ArgWord>, Launch)> {
    match args.first() {
        None => Some((Vec::new(), Launch::ImageEntrypoint)),
        Some(first) if first.text.starts_with('-') => Some((args, Launch::ImageEntrypoint)),
        Some(_) => from_argv(args, env),
    }
}

/// argv[0] is the program: memcached, the image's entrypoint, an init wrapper or a shell.
fn from_argv(mut argv: Vec<ArgWord>, env: &EnvMap) -> Option<(Vec<ArgWord>, Launch)> {
    if argv.is_empty() {
        return None;
    }
    let program = argv[0].text.clone();
    let prog = basename(&program);
    if is_memcached_program(&program) {
        argv.remove(0);
        return Some((argv, Launch::Command));
    }
    if prog == "docker-entrypoint.sh" {
        argv.remove(0);
        return entrypoint(argv, env).map(|(a, _)| (a, Launch::Command));
    }
    if matches!(prog, "tini" | "dumb-init" | "catatonit") {
        // Wrapper options up to `--` (or the first non-option) belong to the wrapper.
        argv.remove(0);
        let skip = match argv.iter().position(|w| w.text == "--") {
            Some(p) => p + 1,
            None => argv
                .iter()
                .position(|w| !w.text.starts_with('-'))
                .unwrap_or(argv.len()),
        };
        argv.drain(..skip);
        return from_argv(argv, env);
    }
    if is_shell(&program) {
        // sh [-e -x ...] -c SCRIPT [name args...]
        let mut i = 1;
        let mut saw_c = false;
        while i < argv.len() && argv[i].text.starts_with('-') && argv[i].text != "--" {
            if argv[i].text.trim_start_matches('-').contains('c') && !argv[i].text.starts_with("--")
            {
                saw_c = true;
            }
            i += 1;
            if saw_c {
                break;
            }
        }
        if !saw_c || i >= argv.len() {
            return None;
        }
        let script = &argv[i];
        return shell_memcached(script, env).map(|a| (a, Launch::Shell));
    }
    None
}

/// Finds `memcached ...` in a shell script (best effort: simple commands
/// separated by `;`, `&&`, `||`, `|`, `&` or new lines; quotes; `$VAR`,
/// `${VAR}`, `${VAR:-default}`; a leading `exec` and `NAME=value` assignments).
fn shell_memcached(script: &ArgWord, env: &EnvMap) -> Option<Vec<ArgWord>> {
    for command in shell_words(&script.text, env) {
        let mut words = command.into_iter().peekable();
        while let Some((w, _)) = words.peek() {
            let is_assignment = w.split_once('=').is_some_and(|(n, _)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
            if w == "exec" || is_assignment {
                words.next();
            } else {
                break;
            }
        }
        let Some((program, _)) = words.next() else {
            continue;
        };
        if is_memcached_program(&program) {
            return Some(
                words
                    .map(|(text, mut unresolved)| {
                        unresolved.extend(script.unresolved.iter().cloned());
                        ArgWord {
                            text,
                            from: script.from,
                            unresolved,
                        }
                    })
                    .collect(),
            );
        }
    }
    None
}

type ShellWord = (String, Vec<String>);

/// Splits a script into simple commands of words.
fn shell_words(script: &str, env: &EnvMap) -> Vec<Vec<ShellWord>> {
    let mut commands: Vec<Vec<ShellWord>> = vec![Vec::new()];
    let mut word = String::new();
    let mut unresolved = Vec::new();
    let mut in_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let flush = |commands: &mut Vec<Vec<ShellWord>>,
                 word: &mut String,
                 unresolved: &mut Vec<String>,
                 in_word: &mut bool| {
        if *in_word {
            commands
                .last_mut()
                .expect("one command")
                .push((std::mem::take(word), std::mem::take(unresolved)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
                i += 1;
            }
            '\n' | ';' | '&' | '|' => {
                flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
                commands.push(Vec::new());
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(&n) = chars.get(i + 1)
                    && n != '\n'
                {
                    word.push(n);
                }
                i += 2;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        word.push(chars[i + 1]);
                        i += 2;
                    } else if chars[i] == '$' {
                        i = shell_var(&chars, i, env, &mut word, &mut unresolved);
                    } else {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '$' => {
                in_word = true;
                i = shell_var(&chars, i, env, &mut word, &mut unresolved);
            }
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
    commands
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` / `${NAME-default}` at `chars[i] == '$'`.
fn shell_var(
    chars: &[char],
    i: usize,
    env: &EnvMap,
    word: &mut String,
    unresolved: &mut Vec<String>,
) -> usize {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if chars.get(i + 1) == Some(&'{') {
        let Some(close) = chars[i + 2..]
            .iter()
            .position(|&c| c == '}')
            .map(|p| p + i + 2)
        else {
            word.extend(&chars[i..]);
            return chars.len();
        };
        let inner: String = chars[i + 2..close].iter().collect();
        let name_len = inner.chars().take_while(|&c| is_name(c)).count();
        let (name, rest) = inner.split_at(name_len);
        let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'));
        match env.get(name) {
            Some(EnvValue::Literal(v)) if !(v.is_empty() && rest.starts_with(":-")) => {
                word.push_str(v)
            }
            Some(EnvValue::Unresolvable(_)) => unresolved.push(name.to_string()),
            _ => match default {
                Some(d) => word.push_str(d),
                None if env.may_define(name) => unresolved.push(name.to_string()),
                None => {}
            },
        }
        return close + 1;
    }
    let len = chars[i + 1..].iter().take_while(|&&c| is_name(c)).count();
    if len == 0 {
        word.push('$');
        return i + 1;
    }
    let name: String = chars[i + 1..i + 1 + len].iter().collect();
    match env.get(&name) {
        Some(EnvValue::Literal(v)) => word.push_str(v),
        Some(EnvValue::Unresolvable(_)) => unresolved.push(name),
        None if env.may_define(&name) => unresolved.push(name),
        None => {}
    }
    i + 1 + len
}

/// A container's environment as far as the manifest tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Literal(String),
    /// `valueFrom` (the source kind: `secretKeyRef`, `fieldRef`, ...).
    Unresolvable(String),
}

#[derive(Debug, Default)]
pub struct EnvMap {
    vars: HashMap<String, EnvValue>,
    /// `envFrom` may define any other name.
    has_env_from: bool,
}

impl EnvMap {
    /// `env` in order, each value expanded with the names defined before it (as
    /// the kubelet does), and whether `envFrom` is present.
    pub fn of(container: &Value) -> EnvMap {
        let mut map = EnvMap {
            vars: HashMap::new(),
            has_env_from: container
                .get("envFrom")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()),
        };
        if let Some(list) = container.get("env").and_then(Value::as_array) {
            for e in list {
                let Some(name) = e.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let value = if let Some(v) = e.get("value") {
                    let raw = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    let (text, unresolved) = map.expand_kubernetes(&raw);
                    match unresolved.first() {
                        Some(u) => EnvValue::Unresolvable(format!("env {u}")),
                        None => EnvValue::Literal(text),
                    }
                } else if let Some(from) = e.get("valueFrom").and_then(Value::as_object) {
                    EnvValue::Unresolvable(
                        from.keys()
                            .next()
                            .cloned()
                            .unwrap_or_else(|| "valueFrom".into()),
                    )
                } else {
                    EnvValue::Literal(String::new())
                };
                map.vars.insert(name.to_string(), value);
            }
        }
        map
    }

    pub fn get(&self, name: &str) -> Option<&EnvValue> {
        self.vars.get(name)
    }

    /// Could `envFrom` define this name?
    pub fn may_define(&self, name: &str) -> bool {
        self.has_env_from && !self.vars.contains_key(name)
    }

    /// Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` is `$`,
    /// undefined names stay as written. Returns the text and the names whose
    /// value the manifest does not give (`valueFrom`, possibly `envFrom`, or
    /// undefined: the process then sees the literal `$(VAR)`).
    pub fn expand_kubernetes(&self, s: &str) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut unresolved = Vec::new();
        let mut rest = s;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix('$') {
                out.push('$');
                rest = stripped;
            } else if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(close) => {
                        let name = &inner[..close];
                        match self.vars.get(name) {
                            Some(EnvValue::Literal(v)) => out.push_str(v),
                            _ => {
                                unresolved.push(name.to_string());
                                out.push_str(&format!("$({name})"));
                            }
                        }
                        rest = &inner[close + 1..];
                    }
                    None => {
                        out.push_str("$(");
                        rest = inner;
                    }
                }
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        (out, unresolved)
    }

    /// Why a name cannot be resolved, for messages.
    pub fn why(&self, name: &str) -> String {
        match self.vars.get(name) {
            Some(EnvValue::Unresolvable(kind)) => {
                format!("`{name}` comes from a {kind}")
            }
            Some(EnvValue::Literal(_)) => format!("`{name}` is set"),
            None if self.has_env_from => {
                format!("`{name}` is not in `env`; it may come from `envFrom`")
            }
            None => format!(
                "`{name}` is not defined in `env`, so the process receives the literal `$({name})`"
            ),
        }
    }
}

/// An option of memcached's table: letter, long name, argument kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum HasArg {
    No,
    Required,
    Optional,
}

/// memcached 1.6.38's `shortopts`: letters taking an argument.
const SHORT_WITH_ARG: &str = "apsUmclfuPntDRbBIYeoN";
const SHORT_NO_ARG: &str = "AZMkhiVrvdLCSFXW";

/// memcached 1.6.38's `longopts`, in table order.
const LONG_OPTS: &[(&str, HasArg, char)] = &[
    ("unix-mask", HasArg::Required, 'a'),
    ("enable-shutdown", HasArg::No, 'A'),
    ("enable-ssl", HasArg::No, 'Z'),
    ("port", HasArg::Required, 'p'),
    ("unix-socket", HasArg::Required, 's'),
    ("udp-port", HasArg::Required, 'U'),
    ("memory-limit", HasArg::Required, 'm'),
    ("disable-evictions", HasArg::No, 'M'),
    ("conn-limit", HasArg::Required, 'c'),
    ("lock-memory", HasArg::No, 'k'),
    ("help", HasArg::No, 'h'),
    ("license", HasArg::No, 'i'),
    ("version", HasArg::No, 'V'),
    ("enable-coredumps", HasArg::No, 'r'),
    ("verbose", HasArg::Optional, 'v'),
    ("daemon", HasArg::No, 'd'),
    ("listen", HasArg::Required, 'l'),
    ("user", HasArg::Required, 'u'),
    ("pidfile", HasArg::Required, 'P'),
    ("slab-growth-factor", HasArg::Required, 'f'),
    ("slab-min-size", HasArg::Required, 'n'),
    ("threads", HasArg::Required, 't'),
    ("enable-largepages", HasArg::No, 'L'),
    ("max-reqs-per-event", HasArg::Required, 'R'),
    ("disable-cas", HasArg::No, 'C'),
    ("listen-backlog", HasArg::Required, 'b'),
    ("protocol", HasArg::Required, 'B'),
    ("max-item-size", HasArg::Required, 'I'),
    ("enable-sasl", HasArg::No, 'S'),
    ("disable-flush-all", HasArg::No, 'F'),
    ("disable-dumping", HasArg::No, 'X'),
    ("disable-watch", HasArg::No, 'W'),
    ("auth-file", HasArg::Required, 'Y'),
    ("memory-file", HasArg::Required, 'e'),
    ("extended", HasArg::Required, 'o'),
    ("napi-ids", HasArg::Required, 'N'),
];

/// `-o` names of memcached.c's table (a proxy build; the `ssl_*` names exist
/// only in TLS builds, which the official image is).
const SUBOPTS: &[&str] = &[
    "maxconns_fast",
    "hashpower",
    "no_hashexpand",
    "slab_reassign",
    "slab_automove",
    "slab_automove_ratio",
    "slab_automove_window",
    "tail_repair_time",
    "hash_algorithm",
    "lru_crawler",
    "lru_crawler_sleep",
    "lru_crawler_tocrawl",
    "lru_maintainer",
    "hot_lru_pct",
    "warm_lru_pct",
    "hot_max_factor",
    "warm_max_factor",
    "temporary_ttl",
    "idle_timeout",
    "watcher_logbuf_size",
    "worker_logbuf_size",
    "slab_sizes",
    "slab_chunk_max",
    "track_sizes",
    "no_inline_ascii_resp",
    "modern",
    "no_modern",
    "no_chunked_items",
    "no_slab_reassign",
    "no_slab_automove",
    "no_maxconns_fast",
    "inline_ascii_resp",
    "no_lru_crawler",
    "no_lru_maintainer",
    "no_drop_privileges",
    "drop_privileges",
    "resp_obj_mem_limit",
    "read_buf_mem_limit",
    "ssl_chain_cert",
    "ssl_key",
    "ssl_verify_mode",
    "ssl_keyformat",
    "ssl_ciphers",
    "ssl_ca_cert",
    "ssl_wbuf_size",
    "ssl_session_cache",
    "ssl_kernel_tls",
    "ssl_min_version",
    "proxy_config",
    "proxy_arg",
    "proxy_uring",
    "proxy_memprofile",
];

/// extstore's `-o` names (storage.c).
const EXT_SUBOPTS: &[&str] = &[
    "ext_page_size",
    "ext_wbuf_size",
    "ext_threads",
    "ext_io_depth",
    "ext_path",
    "ext_item_size",
    "ext_item_age",
    "ext_low_ttl",
    "ext_recache_rate",
    "ext_compact_under",
    "ext_drop_under",
    "ext_max_sleep",
    "ext_max_frag",
    "ext_drop_unread",
    "slab_automove_freeratio",
];

/// C `atoi` (as glibc's `(int) strtol(s, NULL, 10)`): leading white space, a
/// sign, digits; stops at the first other character. Returns the value and
/// whether the whole string (after white space) was a number.
pub fn atoi(s: &str) -> (i64, bool) {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    let mut v: i64 = 0;
    for b in digits[..n].bytes() {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    // strtol saturates at LONG_MAX, the int cast keeps the low 32 bits.
    let v = if neg { -v } else { v };
    let v = i64::from(v as i32);
    (v, n > 0 && n == digits.len())
}

/// Parses memcached's arguments (argv without the program name).
pub fn parse(argv: &[ArgWord]) -> MemcachedArgs {
    let mut a = MemcachedArgs {
        opts: Vec::new(),
        subopts: Vec::new(),
        operands: Vec::new(),
        problems: Vec::new(),
        memory_mib: Setting::default_value(DEFAULT_MEMORY_MIB),
        conn_limit: Setting::default_value(DEFAULT_CONN_LIMIT),
        threads: Setting::default_value(DEFAULT_THREADS),
        max_item_size: Setting::default_value(DEFAULT_MAX_ITEM_SIZE),
        port: Setting::default_value(DEFAULT_PORT),
        udp_port: Setting::default_value(0),
        listen: Vec::new(),
        hashpower: Setting::default_value(DEFAULT_HASHPOWER),
        slab_chunk_max: Setting::default_value(SLAB_PAGE_SIZE / 2),
        no_hashexpand: false,
        read_buf_mem_limit: Setting::default_value(None),
        ext: Vec::new(),
        proxy_config: Setting::default_value(None),
        proxy_arg: Setting::default_value(None),
        lock_memory: false,
    };
    getopt(argv, &mut a);
    for w in argv {
        for name in &w.unresolved {
            a.problems.push(ArgProblem {
                from: Some(w.from),
                message: format!(
                    "`{}` uses the variable `{name}`, whose value the manifest does not give",
                    w.text
                ),
                fatal: false,
            });
        }
    }
    apply(&mut a);
    a
}

fn getopt(argv: &[ArgWord], a: &mut MemcachedArgs) {
    let mut i = 0;
    while i < argv.len() {
        let w = &argv[i];
        let t = w.text.as_str();
        if t == "--" {
            a.operands.extend(argv[i + 1..].iter().cloned());
            return;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let exact = LONG_OPTS.iter().find(|(n, _, _)| *n == name);
            let candidates: Vec<_> = LONG_OPTS
                .iter()
                .filter(|(n, _, _)| n.starts_with(name))
                .collect();
            let found = match (exact, candidates.len()) {
                (Some(e), _) => Some(e),
                (None, 1) => Some(candidates[0]),
                (None, 0) => {
                    a.problems.push(fatal(
                        w.from,
                        format!("unrecognized option `--{name}`: memcached refuses to start"),
                    ));
                    None
                }
                (None, _) => {
                    let names: Vec<String> = candidates
                        .iter()
                        .map(|(n, _, _)| format!("--{n}"))
                        .collect();
                    a.problems.push(fatal(
                        w.from,
                        format!(
                            "option `--{name}` is ambiguous ({}): memcached refuses to start",
                            names.join(", ")
                        ),
                    ));
                    None
                }
            };
            if let Some(&(_, has_arg, short)) = found {
                let spelled = format!("--{name}");
                match (has_arg, inline) {
                    (HasArg::No, Some(_)) => a.problems.push(fatal(
                        w.from,
                        format!("option `{spelled}` does not take an argument: memcached refuses to start"),
                    )),
                    (HasArg::No, None) | (HasArg::Optional, None) => push_opt(a, short, spelled, None, w),
                    (HasArg::Optional, Some(v)) | (HasArg::Required, Some(v)) => push_opt(a, short, spelled, Some(v.to_string()), w),
                    (HasArg::Required, None) => match argv.get(i + 1) {
                        Some(next) => {
                            push_opt(a, short, spelled, Some(next.text.clone()), next);
                            i += 1;
                        }
                        None => a.problems.push(fatal(
                            w.from,
                            format!("option `{spelled}` requires an argument: memcached refuses to start"),
                        )),
                    },
                }
            }
            i += 1;
            continue;
        }
        if t.len() > 1 && t.starts_with('-') {
            let chars: Vec<char> = t[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                let spelled = format!("-{c}");
                if SHORT_WITH_ARG.contains(c) {
                    let rest: String = chars[j + 1..].iter().collect();
                    if !rest.is_empty() {
                        push_opt(a, c, spelled, Some(rest), w);
                    } else if let Some(next) = argv.get(i + 1) {
                        push_opt(a, c, spelled, Some(next.text.clone()), next);
                        i += 1;
                    } else {
                        a.problems.push(fatal(
                            w.from,
                            format!(
                                "option `-{c}` requires an argument: memcached refuses to start"
                            ),
                        ));
                    }
                    break;
                } else if SHORT_NO_ARG.contains(c) {
                    push_opt(a, c, spelled, None, w);
                } else {
                    a.problems.push(fatal(
                        w.from,
                        format!("invalid option `-{c}` in `{t}`: memcached refuses to start"),
                    ));
                }
                j += 1;
            }
            i += 1;
            continue;
        }
        a.operands.push(w.clone());
        i += 1;
    }
}

fn fatal(from: ArgRef, message: String) -> ArgProblem {
    ArgProblem {
        from: Some(from),
        message,
        fatal: true,
    }
}

fn push_opt(
    a: &mut MemcachedArgs,
    short: char,
    spelled: String,
    value: Option<String>,
    w: &ArgWord,
) {
    // memcached skips leading white space of every argument.
    let value = value.map(|v| {
        v.trim_start_matches(|c: char| c.is_ascii_whitespace())
            .to_string()
    });
    a.opts.push(Opt {
        short,
        spelled,
        value,
        from: w.from,
        unresolved: !w.unresolved.is_empty(),
    });
}

/// Reads a whole-number option through `atoi`, reporting what memcached would
/// do with a value that is not a plain number.
fn number(a: &mut Vec<ArgProblem>, o: &Opt, what: &str) -> i64 {
    let raw = o.value.as_deref().unwrap_or("");
    let (v, clean) = atoi(raw);
    if !clean && !o.unresolved {
        a.push(ArgProblem {
            from: Some(o.from),
            message: format!(
                "`{} {raw}`: memcached reads {what} with C atoi, which stops at the first non-digit, so this means {v}",
                o.spelled
            ),
            fatal: false,
        });
    }
    v
}

fn setting<T>(value: T, o: &Opt) -> Setting<T> {
    Setting {
        value,
        from: Some(o.from),
        known: !o.unresolved,
    }
}

/// Applies the options in order (last wins) and memcached's start-up checks.
fn apply(a: &mut MemcachedArgs) {
    let opts = a.opts.clone();
    let mut problems = Vec::new();
    let mut slab_chunk_changed = false;
    let mut protocol_specified = false;
    for o in &opts {
        match o.short {
            'm' => {
                let v = number(&mut problems, o, "megabytes");
                if v < 0 && !o.unresolved {
                    problems.push(fatal(o.from, format!("`{} {}` is negative", o.spelled, v)));
                }
                a.memory_mib = setting(v.max(0) as u64, o);
            }
            'c' => {
                let v = number(&mut problems, o, "the connection limit");
                if v <= 0 && !o.unresolved {
                    problems.push(fatal(
                        o.from,
                        "Maximum connections must be greater than 0 (memcached exits)".into(),
                    ));
                }
                a.conn_limit = setting(v.max(0) as u64, o);
            }
            't' => {
                let v = number(&mut problems, o, "the thread count");
                if v <= 0 && !o.unresolved {
                    problems.push(fatal(
                        o.from,
                        "Number of threads must be greater than 0 (memcached exits)".into(),
                    ));
                }
                a.threads = setting(v.max(0) as u64, o);
            }
            'p' => {
                let v = number(&mut problems, o, "the port");
                a.port = setting(v, o);
            }
            'U' => {
                let v = number(&mut problems, o, "the port");
                a.udp_port = setting(v, o);
            }
            'l' => {
                let v = o.value.clone().unwrap_or_default();
                let joined = a.listen.join(",");
                if !joined.contains(&v) {
                    a.listen.push(v);
                }
            }
            'k' => a.lock_memory = true,
            'B' => {
                protocol_specified = true;
                let v = o.value.as_deref().unwrap_or("");
                if !matches!(v, "auto" | "binary" | "ascii") && !o.unresolved {
                    problems.push(fatal(
                        o.from,
                        format!("Invalid value for binding protocol: {v} -- should be one of auto, binary, or ascii"),
                    ));
                }
            }
            'I' => {
                let raw = o.value.clone().unwrap_or_default();
                let v = match raw.chars().last() {
                    Some(u @ ('k' | 'K' | 'm' | 'M')) => {
                        let (n, clean) = atoi(&raw[..raw.len() - 1]);
                        if !clean && !o.unresolved {
                            problems.push(ArgProblem {
                                from: Some(o.from),
                                message: format!("`{} {raw}` is read by atoi as {n}{u}", o.spelled),
                                fatal: false,
                            });
                        }
                        n * if u.eq_ignore_ascii_case(&'k') {
                            1024
                        } else {
                            1024 * 1024
                        }
                    }
                    _ => number(&mut problems, o, "the item size (bytes, or a k/m suffix)"),
                };
                a.max_item_size = setting(v.max(0) as u64, o);
            }
            'o' => {
                let list = o.value.clone().unwrap_or_default();
                for part in list.split(',').filter(|p| !p.is_empty()) {
                    let (name, value) = match part.split_once('=') {
                        Some((n, v)) => (n.to_string(), Some(v.to_string())),
                        None => (part.to_string(), None),
                    };
                    let sub = SubOpt {
                        name,
                        value,
                        from: o.from,
                        unresolved: o.unresolved,
                    };
                    apply_subopt(
                        a,
                        &sub,
                        &mut problems,
                        &mut slab_chunk_changed,
                        &mut protocol_specified,
                    );
                    a.subopts.push(sub);
                }
            }
            _ => {}
        }
    }
    // memcached.c's checks after parsing.
    let last_of = |c: char| opts.iter().rev().find(|o| o.short == c).map(|o| o.from);
    let item = a.max_item_size.value;
    let known = a.max_item_size.known && a.memory_mib.known;
    if known && item < 1024 {
        problems.push(ArgProblem {
            from: last_of('I'),
            message: "Item max size cannot be less than 1024 bytes (memcached exits)".into(),
            fatal: true,
        });
    }
    if known && item > a.memory_mib.value * 1024 * 1024 / 2 {
        problems.push(ArgProblem {
            from: last_of('I').or(last_of('m')),
            message: format!(
                "Cannot set item size limit ({item} bytes) higher than 1/2 of memory max (-m {} MiB): memcached exits",
                a.memory_mib.value
            ),
            fatal: true,
        });
    }
    if known && item > 1024 * 1024 * 1024 {
        problems.push(ArgProblem {
            from: last_of('I'),
            message: "Cannot set item size limit higher than a gigabyte (memcached exits)".into(),
            fatal: true,
        });
    }
    if a.max_item_size.known && a.slab_chunk_max.known && a.slab_chunk_max.value > 0 {
        let chunk = a.slab_chunk_max.value;
        if chunk > item {
            problems.push(ArgProblem {
                from: a.slab_chunk_max.from.or(last_of('I')),
                message: format!("slab_chunk_max (bytes: {chunk}) cannot be larger than -I (item_size_max {item}): memcached exits"),
                fatal: true,
            });
        } else if !item.is_multiple_of(chunk) {
            problems.push(ArgProblem {
                from: last_of('I'),
                message: format!("-I (item_size_max: {item}) must be evenly divisible by slab_chunk_max (bytes: {chunk}): memcached exits"),
                fatal: true,
            });
        }
    }
    a.problems.extend(problems);
}

fn at<T>(s: &SubOpt, value: T) -> Setting<T> {
    Setting {
        value,
        from: Some(s.from),
        known: !s.unresolved,
    }
}

fn apply_subopt(
    a: &mut MemcachedArgs,
    s: &SubOpt,
    problems: &mut Vec<ArgProblem>,
    slab_chunk_changed: &mut bool,
    protocol_specified: &mut bool,
) {
    let need_value = |problems: &mut Vec<ArgProblem>| -> Option<String> {
        if s.value.is_none() {
            problems.push(fatal(
                s.from,
                format!(
                    "`-o {}` needs a value (`{}=...`): memcached exits",
                    s.name, s.name
                ),
            ));
        }
        s.value.clone()
    };
    let whole = |problems: &mut Vec<ArgProblem>, v: &str| -> Option<u64> {
        match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) if s.unresolved => None,
            Err(_) => {
                problems.push(fatal(
                    s.from,
                    format!(
                        "could not parse argument to {}: `{v}` (memcached exits)",
                        s.name
                    ),
                ));
                None
            }
        }
    };
    match s.name.as_str() {
        "hashpower" => {
            if let Some(v) = need_value(problems) {
                let (n, _) = atoi(&v);
                if !s.unresolved && !(12..=32).contains(&n) {
                    problems.push(fatal(
                        s.from,
                        format!(
                            "hashpower={n} is out of memcached's range 12..=32 (memcached exits)"
                        ),
                    ));
                }
                a.hashpower = at(s, n.clamp(0, 64) as u32);
            }
        }
        "no_hashexpand" => a.no_hashexpand = true,
        "slab_chunk_max" => {
            if let Some(v) = need_value(problems)
                && let Some(kb) = whole(problems, &v)
            {
                if kb == 0 || kb > 1024 {
                    problems.push(fatal(
                        s.from,
                        format!("slab_chunk_max={kb} must be 1..=1024 kilobytes (memcached exits)"),
                    ));
                }
                a.slab_chunk_max = at(s, kb * 1024);
                *slab_chunk_changed = true;
            }
        }
        "no_chunked_items" => a.slab_chunk_max = at(s, SLAB_PAGE_SIZE),
        "no_modern" => {
            if !*slab_chunk_changed {
                a.slab_chunk_max = at(s, SLAB_PAGE_SIZE);
            }
        }
        "read_buf_mem_limit" => {
            if let Some(v) = need_value(problems)
                && let Some(mb) = whole(problems, &v)
            {
                a.read_buf_mem_limit = at(s, Some(mb * 1024 * 1024).filter(|&b| b > 0));
            }
        }
        "proxy_config" => {
            if let Some(v) = need_value(problems) {
                if *protocol_specified {
                    problems.push(fatal(
                        s.from,
                        "Cannot specify a protocol with proxy mode enabled (memcached exits)"
                            .into(),
                    ));
                }
                *protocol_specified = true;
                a.proxy_config = at(s, Some(v));
            }
        }
        "proxy_arg" => a.proxy_arg = at(s, s.value.clone()),
        name if SUBOPTS.contains(&name) => {}
        name if EXT_SUBOPTS.contains(&name) => a.ext.push(s.clone()),
        name => problems.push(fatal(
            s.from,
            format!("Illegal suboption \"{name}\" in -o: memcached 1.6.38 refuses to start"),
        )),
    }
}

impl MemcachedArgs {
    /// The last occurrence of an option letter.
    pub fn last(&self, short: char) -> Option<&Opt> {
        self.opts.iter().rev().find(|o| o.short == short)
    }

    /// The last `-o` sub-option of that name.
    pub fn subopt(&self, name: &str) -> Option<&SubOpt> {
        self.subopts.iter().rev().find(|s| s.name == name)
    }

    pub fn is_proxy(&self) -> bool {
        self.proxy_config.value.is_some()
    }

    /// Every value that shapes memory is known from the manifest.
    pub fn memory_inputs_known(&self) -> bool {
        self.memory_mib.known
            && self.conn_limit.known
            && self.threads.known
            && self.max_item_size.known
            && self.hashpower.known
            && self.slab_chunk_max.known
            && self.read_buf_mem_limit.known
    }

    /// The extstore write-buffer/page settings are present (`ext_path` given).
    pub fn uses_extstore(&self) -> bool {
        self.ext.iter().any(|s| s.name == "ext_path")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<ArgWord> {
        list.iter()
            .enumerate()
            .map(|(i, s)| ArgWord::new(*s, ArgRef::args(i)))
            .collect()
    }

    fn p(list: &[&str]) -> MemcachedArgs {
        parse(&words(list))
    }

    #[test]
    fn defaults_match_memcached() {
        let a = p(&[]);
        assert_eq!(a.memory_mib.value, 64);
        assert!(!a.memory_mib.is_set());
        assert_eq!(a.conn_limit.value, 1024);
        assert_eq!(a.threads.value, 4);
        assert_eq!(a.max_item_size.value, 1024 * 1024);
        assert_eq!(a.port.value, 11211);
        assert_eq!(a.udp_port.value, 0);
        assert_eq!(a.hashpower.value, 16);
        assert_eq!(a.slab_chunk_max.value, 512 * 1024);
        assert_eq!(a.read_buf_mem_limit.value, None);
        assert!(a.problems.is_empty());
        assert!(!a.is_proxy());
    }

    #[test]
    fn short_and_long_spellings() {
        for argv in [
            &["-m", "256"][..],
            &["-m256"],
            &["--memory-limit=256"],
            &["--memory-limit", "256"],
            &["--memory-lim=256"],
            &["-m", " 256"],
            &["-vm256"],
        ] {
            let a = p(argv);
            assert_eq!(a.memory_mib.value, 256, "{argv:?}");
            assert!(a.problems.is_empty(), "{argv:?}: {:?}", a.problems);
        }
        let a = p(&["-p", "1", "--memory-limit", "256"]);
        assert_eq!(a.memory_mib.from, Some(ArgRef::args(3)));
    }

    #[test]
    fn listeners_follow_server_sockets() {
        let l = |words: &[&str]| {
            let argv: Vec<ArgWord> = words
                .iter()
                .enumerate()
                .map(|(i, w)| ArgWord::new(*w, ArgRef::args(i)))
                .collect();
            parse(&argv).tcp_listeners()
        };
        let at = |h: Option<&str>, port: i64| Listener {
            host: h.map(str::to_string),
            port,
        };
        assert_eq!(l(&[]), Some(vec![at(None, 11211)]));
        assert_eq!(l(&["-p", "0", "-l", "127.0.0.1"]), Some(vec![]));
        assert_eq!(
            l(&["-p", "11300", "-l", "127.0.0.1,10.0.0.1:11400;[::1]:11500"]),
            Some(vec![
                at(Some("127.0.0.1"), 11300),
                at(Some("10.0.0.1"), 11400),
                at(Some("::1"), 11500)
            ])
        );
        assert_eq!(
            l(&["-l", "tag[a]:127.0.0.2:1", "-l", "*"]),
            Some(vec![at(Some("127.0.0.2"), 1), at(None, 11211)])
        );
        assert_eq!(
            l(&["-l", "fe80::1"]),
            Some(vec![at(Some("fe80::1"), 11211)])
        );
        assert!(at(Some("127.0.0.1"), 1).loopback() && !at(None, 1).loopback());
        assert!(at(None, 5).clashes(&at(Some("127.0.0.1"), 5)));
        assert!(!at(Some("127.0.0.1"), 5).clashes(&at(Some("127.0.0.2"), 5)));
    }

    #[test]
    fn last_wins_and_listen_accumulates() {
        let a = p(&[
            "-m", "128", "-c", "10", "-m", "512", "-l", "10.0.0.1", "-l", "::1", "-l", "::1",
        ]);
        assert_eq!(a.memory_mib.value, 512);
        assert_eq!(a.memory_mib.from, Some(ArgRef::args(5)));
        assert_eq!(a.conn_limit.value, 10);
        assert_eq!(a.listen, vec!["10.0.0.1", "::1"]);
    }

    #[test]
    fn the_last_spelling_wins_as_with_getopt() {
        for (list, m) in [
            (&["--memory-limit=2048", "-m1024"][..], 1024),
            (&["-m2048", "--memory-limit", "512"][..], 512),
            (&["-vm2048", "--memory-l=300"][..], 300),
            (&["-m", "1024", "-c", "10", "-m", "2048"][..], 2048),
        ] {
            let a = p(list);
            assert_eq!(a.memory_mib.value, m, "{list:?}");
            assert_eq!(a.opts.iter().filter(|o| o.short == 'm').count(), 2);
            let (got, want) = (
                crate::memcached::memory::estimate(&a),
                crate::memcached::memory::estimate(&p(&["-m", &m.to_string()])),
            );
            assert_eq!((got.cache, got.hash_table), (want.cache, want.hash_table));
        }
        let a = p(&[
            "-t",
            "2",
            "--threads=8",
            "-c",
            "64",
            "-c128",
            "-I",
            "2m",
            "-I1m",
        ]);
        assert_eq!(
            (a.threads.value, a.conn_limit.value, a.max_item_size.value),
            (8, 128, 1 << 20)
        );
    }

    #[test]
    fn extended_options_lists_and_repeats() {
        let a = p(&[
            "-o",
            "hashpower=20,no_hashexpand",
            "-o",
            "read_buf_mem_limit=32,slab_chunk_max=256",
            "--extended=ext_path=/data/x:5G,ext_wbuf_size=8",
        ]);
        assert_eq!(a.hashpower.value, 20);
        assert_eq!(a.hashpower.from, Some(ArgRef::args(1)));
        assert!(a.no_hashexpand);
        assert_eq!(a.read_buf_mem_limit.value, Some(32 << 20));
        assert_eq!(a.read_buf_mem_limit.from, Some(ArgRef::args(3)));
        assert_eq!(a.slab_chunk_max.value, 256 << 10);
        assert_eq!(a.ext.len(), 2);
        assert!(a.uses_extstore());
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(a.subopts.len(), 6);
    }

    #[test]
    fn proxy_mode() {
        let a = p(&[
            "-o",
            "proxy_config=routelib,proxy_arg=/etc/proxy/config.lua",
            "-t",
            "2",
        ]);
        assert!(a.is_proxy());
        assert_eq!(a.proxy_config.value.as_deref(), Some("routelib"));
        assert_eq!(a.proxy_arg.value.as_deref(), Some("/etc/proxy/config.lua"));
        let b = p(&["-B", "ascii", "-o", "proxy_config=routelib"]);
        assert!(
            b.problems
                .iter()
                .any(|x| x.fatal && x.message.contains("protocol"))
        );
    }

    #[test]
    fn item_size_units() {
        assert_eq!(p(&["-I", "2m"]).max_item_size.value, 2 << 20);
        assert_eq!(p(&["-I", "512k"]).max_item_size.value, 512 << 10);
        assert_eq!(p(&["-I", "512K"]).max_item_size.value, 512 << 10);
        assert_eq!(p(&["-I", "4096"]).max_item_size.value, 4096);
        assert_eq!(p(&["--max-item-size=1M"]).max_item_size.value, 1 << 20);
        let a = p(&["-m", "64", "-I", "64m"]);
        assert!(
            a.problems
                .iter()
                .any(|x| x.fatal && x.message.contains("1/2 of memory max"))
        );
        let b = p(&["-I", "512"]);
        assert!(
            b.problems
                .iter()
                .any(|x| x.fatal && x.message.contains("1024 bytes"))
        );
    }

    #[test]
    fn atoi_slips_are_reported() {
        let a = p(&["-m", "1g"]);
        assert_eq!(a.memory_mib.value, 1);
        assert!(a.problems.iter().any(|x| x.message.contains("means 1")));
        let b = p(&["-m", "256M"]);
        assert_eq!(b.memory_mib.value, 256);
        assert_eq!(b.problems.len(), 1);
        assert_eq!(atoi("  -12x"), (-12, false));
        assert_eq!(atoi("4096"), (4096, true));
        assert_eq!(atoi(""), (0, false));
    }

    #[test]
    fn unknown_and_invalid_are_reported_not_guessed() {
        let a = p(&["-q", "--memory", "--frobnicate", "-o", "nope=1"]);
        let msgs: Vec<_> = a.problems.iter().map(|x| x.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("invalid option `-q`")),
            "{msgs:?}"
        );
        // `--memory` is a prefix of both --memory-limit and --memory-file.
        assert!(
            msgs.iter().any(|m| m.contains("`--memory` is ambiguous")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("unrecognized option `--frobnicate`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("Illegal suboption \"nope\"")),
            "{msgs:?}"
        );
        // A required argument is the next element even when it starts with `-`.
        let g = p(&["--memory-limit", "-c", "5"]);
        assert_eq!(g.memory_mib.value, 0);
        assert_eq!(g.operands.len(), 1);
        let b = p(&["--d"]);
        assert!(b.problems.iter().any(|x| x.message.contains("ambiguous")));
        let c = p(&["-c", "0"]);
        assert!(c.problems.iter().any(|x| x.fatal));
        let d = p(&["-m"]);
        assert!(
            d.problems
                .iter()
                .any(|x| x.message.contains("requires an argument"))
        );
        let e = p(&["--daemon=1"]);
        assert!(
            e.problems
                .iter()
                .any(|x| x.message.contains("does not take"))
        );
        let f = p(&["-o", "hashpower=40"]);
        assert!(f.problems.iter().any(|x| x.fatal));
    }

    #[test]
    fn operands_and_double_dash() {
        let a = p(&["extra", "-m", "100", "--", "-m", "5"]);
        assert_eq!(a.memory_mib.value, 100);
        assert_eq!(a.operands.len(), 3);
    }

    fn argv_of(json: &Value) -> Option<(Vec<ArgWord>, Launch)> {
        let c = Container {
            pointer: "/spec/containers/0".into(),
            name: "c",
            json,
            init: false,
            sidecar: false,
        };
        memcached_argv(&c)
    }

    #[test]
    fn image_entrypoint_and_commands() {
        let j = serde_json::json!({"image": "memcached:1.6.38", "args": ["-m", "256"]});
        let (argv, launch) = argv_of(&j).unwrap();
        assert_eq!(launch, Launch::ImageEntrypoint);
        assert_eq!(parse(&argv).memory_mib.value, 256);

        let j = serde_json::json!({"image": "docker.io/library/memcached:1.6@sha256:abc", "args": ["memcached", "-m", "300"]});
        let (argv, _) = argv_of(&j).unwrap();
        let a = parse(&argv);
        assert_eq!(a.memory_mib.value, 300);
        assert_eq!(a.memory_mib.from, Some(ArgRef::args(2)));

        let j = serde_json::json!({"image": "memcached:1.6.38"});
        assert!(argv_of(&j).unwrap().0.is_empty());

        let j = serde_json::json!({"image": "nginx:1", "args": ["-m", "5"]});
        assert!(argv_of(&j).is_none());

        let j = serde_json::json!({"image": "registry/x:1", "command": ["/usr/local/bin/memcached", "-m", "5"], "args": ["-c", "9"]});
        let (argv, launch) = argv_of(&j).unwrap();
        assert_eq!(launch, Launch::Command);
        let a = parse(&argv);
        assert_eq!((a.memory_mib.value, a.conn_limit.value), (5, 9));
        assert_eq!(a.conn_limit.from, Some(ArgRef::args(1)));
        assert_eq!(a.memory_mib.from, Some(ArgRef::command(2)));

        let j = serde_json::json!({"image": "memcached:1", "command": ["tini", "--", "docker-entrypoint.sh"], "args": ["-m", "7"]});
        assert_eq!(parse(&argv_of(&j).unwrap().0).memory_mib.value, 7);

        // `command` replaces the entrypoint: a non-memcached program is not memcached.
        let j = serde_json::json!({"image": "memcached:1", "command": ["sleep"], "args": ["100"]});
        assert!(argv_of(&j).is_none());
    }

    #[test]
    fn shell_best_effort() {
        let j = serde_json::json!({
            "image": "memcached:1.6.38",
            "command": ["sh", "-ec"],
            "args": ["echo start; exec memcached -m \"${CACHE_MB:-128}\" -c $CONNS -o 'read_buf_mem_limit=16' # done"],
            "env": [{"name": "CONNS", "value": "2048"}]
        });
        let (argv, launch) = argv_of(&j).unwrap();
        assert_eq!(launch, Launch::Shell);
        let a = parse(&argv);
        assert_eq!(a.memory_mib.value, 128);
        assert_eq!(a.conn_limit.value, 2048);
        assert_eq!(a.read_buf_mem_limit.value, Some(16 << 20));
        assert_eq!(a.memory_mib.from, Some(ArgRef::args(0)));
        assert!(a.problems.is_empty(), "{:?}", a.problems);

        let j = serde_json::json!({"image": "busybox", "command": ["/bin/sh", "-c", "sleep 1 && memcached -m $MB"],
            "env": [{"name": "MB", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}]});
        let a = parse(&argv_of(&j).unwrap().0);
        assert!(!a.memory_mib.known);
        assert!(!a.memory_inputs_known());
        assert!(!a.problems.is_empty());
    }

    #[test]
    fn kubernetes_variable_expansion() {
        let j = serde_json::json!({
            "image": "memcached:1.6.38",
            "args": ["-m", "$(MEM)", "-c", "$(CONNS)", "-t", "$$(T)", "-o", "hashpower=$(HP)", "-p", "$(PORT)"],
            "env": [
                {"name": "BASE", "value": "25"},
                {"name": "MEM", "value": "$(BASE)6"},
                {"name": "CONNS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "HP", "value": "20"}
            ]
        });
        let (argv, _) = argv_of(&j).unwrap();
        let a = parse(&argv);
        assert_eq!(a.memory_mib.value, 256);
        assert!(a.memory_mib.known);
        assert!(!a.conn_limit.known);
        assert_eq!(a.hashpower.value, 20);
        // `$$(T)` is the literal `$(T)`: atoi reads 0 and memcached exits.
        assert!(
            a.problems
                .iter()
                .any(|x| x.fatal && x.from == Some(ArgRef::args(5)))
        );
        // An undefined `$(PORT)` stays literal and is reported.
        assert!(a.problems.iter().any(|x| x.message.contains("PORT")));
        let env = EnvMap::of(&j);
        assert!(env.why("CONNS").contains("secretKeyRef"));
        assert!(env.why("PORT").contains("literal"));
    }

    #[test]
    fn image_names() {
        assert!(is_memcached_image("memcached"));
        assert!(is_memcached_image("memcached:1.6.38-alpine"));
        assert!(is_memcached_image(
            "registry.example.com:5000/mirror/memcached:1.6"
        ));
        assert!(is_memcached_image("memcached@sha256:00"));
        assert!(!is_memcached_image("memcached-exporter:1"));
        assert!(!is_memcached_image("prom/memcached-exporter"));
    }

    #[test]
    fn pointers() {
        assert_eq!(
            ArgRef::args(3).pointer("/spec/template/spec/containers/0"),
            "/spec/template/spec/containers/0/args/3"
        );
        assert_eq!(
            ArgRef::command(0).pointer("/spec/containers/1"),
            "/spec/containers/1/command/0"
        );
    }
}
