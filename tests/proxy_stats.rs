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

/// A config of 4 backends behind one route, written to `dir`.
fn four_backends(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("c.lua");
    std::fs::write(
        &cfg,
        r#"pools { main = { backends = { "a:1", "b:1", "c:1", "d:1" } } }
routes { default = route_direct { child = "main" } }"#,
    )
    .unwrap();
    cfg
}

#[test]
fn stats_n_is_bounded_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = four_backends(dir.path());
    // Past u64, at u32's end, past the documented maximum, and zero.
    for n in [
        "18446744073709551616",
        "18446744073709551615",
        "4294967296",
        "100000000",
        "10000001",
        "0",
        "-1",
    ] {
        let out = mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .args(["--stats", n])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--stats {n}: {err}");
        assert!(!err.contains("panicked"), "--stats {n}: {err}");
        if n != "-1" {
            assert!(err.contains("--stats"), "--stats {n}: {err}");
        }
        if n.parse::<u64>().is_ok_and(|v| v > 0) {
            assert!(err.contains("1..=10000000"), "--stats {n}: {err}");
        }
    }
}

/// Runs `cmd` with its address space capped at `bytes`, so a run that
/// allocates in proportion to N fails instead of passing.
fn with_address_space(cmd: &mut std::process::Command, bytes: u64) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child
    // before exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[test]
fn stats_streams_its_keys_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = four_backends(dir.path());
    // 4 million keys held at once would take well over 150 MB (a String
    // each); made one at a time, the run stays in the 128 MiB cap.
    let n = 4_000_000u64;
    let out = with_address_space(
        mclint().args(["route", "--proxy-config"]).arg(&cfg).args([
            "--stats",
            &n.to_string(),
            "--format",
            "json",
        ]),
        128 << 20,
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"], n);
    assert_eq!(v["pools"][0]["total"], n);
    // Synthetic keys from --key prefixes, and a cap on how many prefixes.
    let out = mclint()
        .args(["route", "--proxy-config"])
        .arg(&cfg)
        .args(["--stats", "10", "--key", "user:", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let keys = dir.path().join("many.txt");
    let lines: String = (0..10_001).map(|i| format!("p{i}:\n")).collect();
    std::fs::write(&keys, lines).unwrap();
    let out = mclint()
        .args(["route", "--proxy-config"])
        .arg(&cfg)
        .args(["--stats", "10", "--keys-file"])
        .arg(&keys)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 10000 keys as prefixes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
