//! What routelib 1.6.38 and the proxy accept, for the `route-*` and `proxy-*`
//! rules: handler arguments and their types, and the keys of settings, pool
//! options and backend options.

use super::value::Lv;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgTy {
    /// A pool name or a route.
    Child,
    /// A pool set name, or a list/map of pool names and routes.
    Children,
    Bool,
    Number,
    Integer,
    /// An integer, or a string of decimal digits: route_ttl writes it into the
    /// request as text (`r:token(4, ttl)`), so `"30"` works as well as `30`.
    IntegerText,
    Str,
}

impl ArgTy {
    pub fn describe(self) -> &'static str {
        match self {
            ArgTy::Child => "a pool name or a route",
            ArgTy::Children => "a pool set name or a table of pools and routes",
            ArgTy::Bool => "a boolean",
            ArgTy::Number => "a number",
            ArgTy::Integer => "an integer",
            ArgTy::IntegerText => "an integer (or a string of digits)",
            ArgTy::Str => "a string",
        }
    }

    pub fn accepts(self, v: &Lv) -> bool {
        match self {
            ArgTy::Child => matches!(v, Lv::Str(_) | Lv::Route(_)),
            ArgTy::Children => matches!(v, Lv::Str(_) | Lv::Table(_)),
            ArgTy::Bool => matches!(v, Lv::Bool(_)),
            ArgTy::Number => matches!(v, Lv::Int(_) | Lv::Num(_)),
            ArgTy::Integer => {
                matches!(v, Lv::Int(_)) || matches!(v, Lv::Num(n) if n.fract() == 0.0)
            }
            ArgTy::IntegerText => {
                ArgTy::Integer.accepts(v)
                    || matches!(v, Lv::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            }
            ArgTy::Str => matches!(v, Lv::Str(_)),
        }
    }
}

use ArgTy::*;

/// The arguments each routelib 1.6.38 handler reads.
pub fn handler_args(handler: &str) -> Option<&'static [(&'static str, ArgTy)]> {
    Some(match handler {
        "direct" => &[("child", Child)],
        "failover" => &[
            ("children", Children),
            ("failover_count", Integer),
            ("shuffle", Bool),
            ("miss", Bool),
            ("wait", Number),
            ("stats", Bool),
            ("stats_name", Str),
            ("local_zone", Str),
        ],
        // failover_count is read but never used: see `ignored_args`.
        "zfailover" => &[
            ("children", Children),
            ("miss", Bool),
            ("stats", Bool),
            ("stats_name", Str),
            ("local_zone", Str),
        ],
        "allfastest" => &[("children", Children), ("miss", Bool), ("wait", Number)],
        "allsync" | "allasync" | "random" => &[("children", Children)],
        "split" => &[("child_a", Child), ("child_b", Child)],
        "ttl" => &[("ttl", IntegerText), ("child", Child)],
        "null" => &[],
        "ratelim" => &[
            ("child", Child),
            ("limit", Number),
            ("fillrate", Number),
            ("tickrate", Number),
            ("global", Bool),
            ("fail_until_limit", Bool),
            ("stats", Bool),
            ("stats_name", Str),
        ],
        _ => return None,
    })
}

/// Arguments a built-in handler accepts without complaint but whose value
/// changes nothing in routelib 1.6.38, with the reason.
pub fn ignored_args(handler: &str) -> &'static [(&'static str, &'static str)] {
    match handler {
        // route_zfailover_conf defaults it and route_zfailover_start stores it
        // as `limit`, but route_zfailover_f never reads `limit`: after a
        // local-zone miss or error it asks every other zone at once.
        "zfailover" => &[(
            "failover_count",
            "it is stored but never read, so after a miss or error in the local zone every other zone is asked at once",
        )],
        _ => &[],
    }
}

/// Arguments a built-in handler cannot do without in routelib 1.6.38: its
/// `_start` gives `child`, `child_a` and `child_b` to `fgen:new_handle`, which
/// fails on nil ("invalid argument to new_handle"), and walks `children` with
/// `pairs()` (route_zfailover's `_conf` also takes its length), which fails on
/// nil. Either way the proxy refuses the config.
pub fn required_args(handler: &str) -> &'static [&'static str] {
    match handler {
        "direct" | "ttl" | "ratelim" => &["child"],
        "split" => &["child_a", "child_b"],
        "failover" | "zfailover" | "allfastest" | "allsync" | "allasync" | "random" => {
            &["children"]
        }
        _ => &[],
    }
}

/// A required argument a built-in route lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingArg {
    pub arg: &'static str,
    /// A key given instead that looks like a misspelling of `arg`.
    pub near: Option<String>,
}

/// Handlers routelib 1.6.38 registers (`route_allasync` is defined but not registered).
pub const REGISTERED: &[&str] = &[
    "failover",
    "allfastest",
    "allsync",
    "split",
    "direct",
    "zfailover",
    "ttl",
    "null",
    "ratelim",
    "random",
];

/// settings{} keys routelib reads, with the type the proxy checks.
pub const SETTINGS: &[(&str, ArgTy)] = &[
    ("backend_connect_timeout", Number),
    ("backend_retry_waittime", Number),
    ("backend_read_timeout", Number),
    ("backend_failure_limit", Integer),
    ("tcp_keepalive", Bool),
    ("active_request_limit", Integer),
    ("active_req_limit", Integer),
    ("buffer_memory_limit", Integer),
    ("backend_flap_time", Number),
    ("backend_flap_backoff_ramp", Number),
    ("backend_flap_backoff_max", Integer),
    ("backend_use_tls", Bool),
];

/// Keys of a pool's table.
pub const POOL_KEYS: &[&str] = &["backends", "options", "backend_options"];

/// Pool options `mcp.pool` reads.
pub const POOL_OPTIONS: &[&str] = &[
    "iothread",
    "beprefix",
    "dist",
    "filter",
    "filter_conf",
    "hash",
    "seed",
    // read by mcp.dist_ring_hash
    "omode",
    "obuckets",
];

/// Backend options `mcp.backend` reads (also the keys of a backend table).
pub const BACKEND_OPTIONS: &[(&str, ArgTy)] = &[
    ("label", Str),
    ("host", Str),
    ("port", Str),
    ("tcpkeepalive", Bool),
    ("tls", Bool),
    ("failurelimit", Integer),
    ("depthlimit", Integer),
    ("connecttimeout", Number),
    ("retrytimeout", Number),
    ("retrywaittime", Number),
    ("readtimeout", Number),
    ("down", Bool),
    ("flaptime", Number),
    ("flapbackofframp", Number),
    ("flapbackoffmax", Number),
    ("connections", Integer),
    ("log", Children),
];

/// Keys of a routes{} table.
pub const ROUTES_KEYS: &[&str] = &["map", "cmap", "default", "conf", "tag"];

/// Keys of routes{}'s `conf` (mcp.router_new).
pub const ROUTER_CONF_KEYS: &[&str] = &["mode", "start", "stop"];

/// ` (did you mean `x`?)` or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    crate::suggest::nearest(word, candidates)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}
