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

use crate::json::Value;

use crate::k8s::{self, Container};
use crate::manifest::Object;

mod apply;
mod container;
mod env;
mod getopt;
mod shell;

use apply::*;
pub use container::*;
pub use env::*;
pub use getopt::*;
use shell::*;

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

/// An option's name as written, shown with its dashes: `-m`, or
/// `--memory-limit` (a short one needs no text of its own: most command
/// lines are all short options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spelled {
    Short(char),
    /// Without its leading `--`.
    Long(String),
}

impl std::fmt::Display for Spelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spelled::Short(c) => write!(f, "-{c}"),
            Spelled::Long(name) => write!(f, "--{name}"),
        }
    }
}

/// One option as getopt returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    /// The option letter (long options map to theirs: `--memory-limit` is `m`).
    pub short: char,
    /// As written: `-m`, `--memory-limit`, `--mem`.
    pub spelled: Spelled,
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
            spec_pointer: "/spec",
            field: "containers",
            index: 0,
            name: "c",
            json,
            init: false,
            sidecar: false,
        };
        memcached_argv(&c)
    }

    #[test]
    fn image_entrypoint_and_commands() {
        let j = crate::json_value!({"image": "memcached:1.6.38", "args": ["-m", "256"]});
        let (argv, launch) = argv_of(&j).unwrap();
        assert_eq!(launch, Launch::ImageEntrypoint);
        assert_eq!(parse(&argv).memory_mib.value, 256);

        let j = crate::json_value!({"image": "docker.io/library/memcached:1.6@sha256:abc", "args": ["memcached", "-m", "300"]});
        let (argv, _) = argv_of(&j).unwrap();
        let a = parse(&argv);
        assert_eq!(a.memory_mib.value, 300);
        assert_eq!(a.memory_mib.from, Some(ArgRef::args(2)));

        let j = crate::json_value!({"image": "memcached:1.6.38"});
        assert!(argv_of(&j).unwrap().0.is_empty());

        let j = crate::json_value!({"image": "nginx:1", "args": ["-m", "5"]});
        assert!(argv_of(&j).is_none());

        let j = crate::json_value!({"image": "registry/x:1", "command": ["/usr/local/bin/memcached", "-m", "5"], "args": ["-c", "9"]});
        let (argv, launch) = argv_of(&j).unwrap();
        assert_eq!(launch, Launch::Command);
        let a = parse(&argv);
        assert_eq!((a.memory_mib.value, a.conn_limit.value), (5, 9));
        assert_eq!(a.conn_limit.from, Some(ArgRef::args(1)));
        assert_eq!(a.memory_mib.from, Some(ArgRef::command(2)));

        let j = crate::json_value!({"image": "memcached:1", "command": ["tini", "--", "docker-entrypoint.sh"], "args": ["-m", "7"]});
        assert_eq!(parse(&argv_of(&j).unwrap().0).memory_mib.value, 7);

        // `command` replaces the entrypoint: a non-memcached program is not memcached.
        let j = crate::json_value!({"image": "memcached:1", "command": ["sleep"], "args": ["100"]});
        assert!(argv_of(&j).is_none());
    }

    #[test]
    fn shell_best_effort() {
        let j = crate::json_value!({
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

        let j = crate::json_value!({"image": "busybox", "command": ["/bin/sh", "-c", "sleep 1 && memcached -m $MB"],
            "env": [{"name": "MB", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}]});
        let a = parse(&argv_of(&j).unwrap().0);
        assert!(!a.memory_mib.known);
        assert!(!a.memory_inputs_known());
        assert!(!a.problems.is_empty());
    }

    #[test]
    fn kubernetes_variable_expansion() {
        let j = crate::json_value!({
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
