//! `mclint route` writes the usual key (printable ASCII, nothing to escape)
//! from a shape made once per route and hop list. Whatever the config, each
//! line must be the one the key's own placement gives
//! (`route::Placements::place`, written by `report::route::write_placement`),
//! key for key: routes by prefix, cmdmap and cmap, direct routes over pools
//! with a backend marked down, failover and allfastest (notes, several hop
//! lists), route_ttl refusing the command, mixed with keys that are escaped,
//! refused or doubtful.

mod support;

use std::path::Path;

use mclint::proxy::eval::Engine;
use mclint::proxy::model::command_id;
use mclint::report::route::{RouteFormat, write_placement};
use mclint::route::{Placements, RouteRequest, load_config};
use support::*;

const CONFIG: &str = r#"pools {
    main = { backends = { "10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211_down_" } },
    one = { backends = { "10.0.2.1:11211" } },
    set_copies = {
        x = { options = { seed = "x" }, backends = { "x0:1", "x1:1" } },
        y = { options = { seed = "y" }, backends = { "y0:1", "y1:1", "y2:1" } },
    },
}
routes {
    cmap = { touch = route_direct { child = "one" } },
    map = {
        d = route_direct { child = "main" },
        f = route_failover { children = "set_copies" },
        a = route_allfastest { children = "set_copies" },
        t = route_ttl { ttl = 30, child = "one" },
        c = cmdmap {
            get = route_failover { children = { "set_copies_y", "main" } },
            all = route_direct { child = "one" },
        },
    },
    default = route_direct { child = "main" },
}
"#;

/// No prefix map: the route depends on the command only.
const UNMAPPED: &str = r#"pools {
    main = { backends = { "10.0.3.1:11211", "10.0.3.2:11211_down_", "10.0.3.3:11211" } },
    one = { backends = { "10.0.4.1:11211" } },
}
routes {
    cmap = { touch = route_direct { child = "one" } },
    default = route_direct { child = "main" },
}
"#;

/// No prefix map, a default with several hop lists.
const UNMAPPED_FAILOVER: &str = r#"pools {
    set_copies = {
        x = { backends = { "10.0.5.1:11211", "10.0.5.2:11211" } },
        y = { options = { seed = "y" }, backends = { "10.0.6.1:11211", "10.0.6.2:11211" } },
    },
}
routes { default = route_failover { children = "set_copies" } }
"#;

/// Keys of every kind, in an order that sends consecutive keys to different
/// routes and backends.
fn keys() -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..600 {
        let prefix = ["d", "f", "a", "t", "c", "none", "x"][i % 7];
        keys.push(format!("{prefix}/{i}:k"));
        if i % 50 == 0 {
            keys.push(format!("{prefix}/q\"uote{i}"));
            keys.push(format!("{prefix}/back\\slash{i}"));
            keys.push(format!("{prefix}/sp ace{i}"));
            keys.push(format!("{prefix}/ctl\u{1b}[31m{i}"));
            keys.push(format!("{prefix}/caf\u{e9}{i}"));
            keys.push(format!("{prefix}/{}", "l".repeat(250 + i % 3)));
        }
    }
    keys
}

/// What each key's own placement writes.
fn expected(config: &Path, keys: &[String], command: &str, format: RouteFormat) -> Vec<u8> {
    let req = RouteRequest {
        proxy_config: Some(config.to_path_buf()),
        ..RouteRequest::default()
    };
    let cfg = load_config(&req).unwrap();
    let engine = Engine::new(&cfg, "default").unwrap();
    let mut placer = Placements::new(&engine, command_id(command).unwrap());
    let mut out = Vec::new();
    for k in keys {
        write_placement(format, placer.place(k), &mut out).unwrap();
    }
    out
}

#[test]
fn every_line_is_what_the_keys_own_placement_gives() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let file = dir.path().join("keys.txt");
    std::fs::write(&file, keys.join("\n")).unwrap();
    let mut all = String::new();
    for (i, text) in [CONFIG, UNMAPPED, UNMAPPED_FAILOVER].iter().enumerate() {
        let config = dir.path().join(format!("proxy{i}.lua"));
        std::fs::write(&config, text).unwrap();
        compare(&config, &file, &keys, &mut all);
    }
    // Every kind of line was compared (a config that loads wrongly would make
    // the comparison say little).
    for part in [
        "marked down",
        "ERROR",
        "(failover)",
        "x1:1",
        "10.0.2.1",
        "note: route_allfastest",
        "route c get",
        "route c all",
        "route cmap touch",
        "key_problem",
        "\\\"",
        "10.0.3.2:11211 in pool main is marked down",
        "10.0.4.1",
        "10.0.5.2:11211 (primary), set_copies_y 10.0.6.",
    ] {
        assert!(all.contains(part), "no `{part}` in any line");
    }
}

/// Runs `mclint route` on the keys file for each command and format, and
/// compares each line with the key's own placement (appended to `all`).
fn compare(config: &Path, file: &Path, keys: &[String], all: &mut String) {
    for command in ["get", "set", "touch"] {
        for (format, name) in [(RouteFormat::Text, "text"), (RouteFormat::Json, "json")] {
            let r = run(
                mclint()
                    .arg("route")
                    .arg("--proxy-config")
                    .arg(config)
                    .arg("--keys-file")
                    .arg(file)
                    .args(["--command", command, "--format", name]),
                b"",
            );
            assert_eq!(r.code, 0, "{command} {name}: {}", r.stderr);
            let want = String::from_utf8(expected(config, keys, command, format)).unwrap();
            all.push_str(&want);
            for (i, (got, want)) in r.stdout.lines().zip(want.lines()).enumerate() {
                assert_eq!(got, want, "{command} {name}: line {}", i + 1);
            }
            assert_eq!(r.stdout.lines().count(), want.lines().count());
        }
    }
}

/// A pool of 20,000 backends and 100,000 keys: more shapes than mclint
/// keeps (16,384); the keys past them are placed one by one, and every line
/// is still the key's own placement.
#[test]
fn keys_past_the_shape_budget_are_still_placed_right() {
    let dir = tempfile::tempdir().unwrap();
    let backends: Vec<String> = (0..20_000)
        .map(|i| format!("\"10.{}.{}.1:11211\"", i / 256, i % 256))
        .collect();
    let config = dir.path().join("proxy.lua");
    std::fs::write(
        &config,
        format!(
            "pools {{ main = {{ backends = {{ {} }} }} }}\nroutes {{ default = route_direct {{ child = \"main\" }} }}\n",
            backends.join(", ")
        ),
    )
    .unwrap();
    let keys: Vec<String> = (0..100_000).map(|i| format!("k{i}")).collect();
    let file = dir.path().join("keys.txt");
    std::fs::write(&file, keys.join("\n")).unwrap();
    let r = run(
        mclint()
            .arg("route")
            .arg("--proxy-config")
            .arg(&config)
            .arg("--keys-file")
            .arg(&file),
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = String::from_utf8(expected(&config, &keys, "get", RouteFormat::Text)).unwrap();
    let reached: std::collections::HashSet<&str> = want
        .lines()
        .filter_map(|l| l.split("main ").nth(1))
        .collect();
    assert!(reached.len() > 17_000, "{} backends reached", reached.len());
    assert!(
        r.stdout == want,
        "the lines differ from the keys' own placements"
    );
}
