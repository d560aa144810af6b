//! memcached's option tables and its `getopt_long` reading of argv.

use super::*;

/// An option of memcached's table: letter, long name, argument kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum HasArg {
    No,
    Required,
    Optional,
}

/// memcached 1.6.38's `shortopts`: letters taking an argument.
pub(super) const SHORT_WITH_ARG: &str = "apsUmclfuPntDRbBIYeoN";
pub(super) const SHORT_NO_ARG: &str = "AZMkhiVrvdLCSFXW";

/// memcached 1.6.38's `longopts`, in table order.
pub(super) const LONG_OPTS: &[(&str, HasArg, char)] = &[
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
pub(super) const SUBOPTS: &[&str] = &[
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
pub(super) const EXT_SUBOPTS: &[&str] = &[
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

pub(super) fn getopt(argv: &[ArgWord], a: &mut MemcachedArgs) {
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
                let spelled = Spelled::Long(name.to_string());
                match (has_arg, inline) {
                    (HasArg::No, Some(_)) => a.problems.push(fatal(
                        w.from,
                        format!("option `{spelled}` does not take an argument: memcached refuses to start"),
                    )),
                    (HasArg::No, None) | (HasArg::Optional, None) => push_opt(a, short, spelled, None, w),
                    (HasArg::Optional, Some(v)) | (HasArg::Required, Some(v)) => push_opt(a, short, spelled, Some(v), w),
                    (HasArg::Required, None) => match argv.get(i + 1) {
                        Some(next) => {
                            push_opt(a, short, spelled, Some(&next.text), next);
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
            let body = &t[1..];
            for (k, c) in body.char_indices() {
                let spelled = Spelled::Short(c);
                if SHORT_WITH_ARG.contains(c) {
                    let rest = &body[k + c.len_utf8()..];
                    if !rest.is_empty() {
                        push_opt(a, c, spelled, Some(rest), w);
                    } else if let Some(next) = argv.get(i + 1) {
                        push_opt(a, c, spelled, Some(&next.text), next);
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
            }
            i += 1;
            continue;
        }
        a.operands.push(w.clone());
        i += 1;
    }
}

pub(super) fn fatal(from: ArgRef, message: String) -> ArgProblem {
    ArgProblem {
        from: Some(from),
        message,
        fatal: true,
    }
}

pub(super) fn push_opt(
    a: &mut MemcachedArgs,
    short: char,
    spelled: Spelled,
    value: Option<&str>,
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
pub(super) fn number(a: &mut Vec<ArgProblem>, o: &Opt, what: &str) -> i64 {
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

pub(super) fn setting<T>(value: T, o: &Opt) -> Setting<T> {
    Setting {
        value,
        from: Some(o.from),
        known: !o.unresolved,
    }
}
