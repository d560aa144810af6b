//! Proof against the real proxy for `route-zfailover-stats`: memcached
//! 1.6.38's route_zfailover registers its `stats` counter but never counts,
//! while route_failover's counter beside it does; and mclint flags the one
//! and not the other.

mod support;

use support::{Client, free_port, mclint, start_memcached, start_proxy};

#[test]
fn zfailover_retries_counter_stays_zero_while_failover_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (east, west) = (free_port(), free_port());
    let _e = start_memcached("east", east, &[], dir.path());
    let _w = start_memcached("west", west, &[], dir.path());
    let config = dir.path().join("stats.lua");
    std::fs::write(
        &config,
        format!(
            r#"local_zone("east")
pools {{
    set_z = {{
        east = {{ backends = {{ "127.0.0.1:{east}" }} }},
        west = {{ backends = {{ "127.0.0.1:{west}" }} }},
    }},
}}
routes {{
    cmap = {{
        get = route_zfailover {{ children = "set_z", stats = true, stats_name = "z" }},
        mg = route_failover {{ children = "set_z", local_zone = "east", miss = true, stats = true, stats_name = "f" }},
    }},
    default = route_allsync {{ children = {{ "set_z_east", "set_z_west" }} }},
}}
"#
        ),
    )
    .unwrap();
    let proxy = start_proxy("proxy", &config, dir.path());
    let proxy_port = proxy.port;
    // The key only in the far zone: every read misses locally and fans out.
    assert_eq!(Client::connect(west).set("k", b"far", 0), "STORED");
    let mut client = Client::connect(proxy_port);
    let reads = 7;
    for _ in 0..reads {
        assert_eq!(client.get("k").as_deref(), Some(&b"far"[..]));
        assert!(client.raw("mg k v").starts_with("VA 3"));
        assert_eq!(client.line(), "far");
    }
    let stats = client.stats_of("proxy");
    let counter = |name: &str| {
        stats
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} not in stats proxy: {stats:?}"))
    };
    assert_eq!(counter("user_f_retries"), reads.to_string());
    assert_eq!(counter("user_z_retries"), "0");

    let out = mclint()
        .args(["check", "--format", "json"])
        .arg(&config)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["route-zfailover-stats"], "{report}");
    eprintln!(
        "{reads} reads left the local zone: route_failover counted {}, route_zfailover {}",
        counter("user_f_retries"),
        counter("user_z_retries")
    );
}
