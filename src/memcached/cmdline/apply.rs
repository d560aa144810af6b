//! Options read from argv turned into settings, with memcached's own checks.

use super::*;

/// Applies the options in order (last wins) and memcached's start-up checks.
pub(super) fn apply(a: &mut MemcachedArgs) {
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

pub(super) fn at<T>(s: &SubOpt, value: T) -> Setting<T> {
    Setting {
        value,
        from: Some(s.from),
        known: !s.unresolved,
    }
}

pub(super) fn apply_subopt(
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
