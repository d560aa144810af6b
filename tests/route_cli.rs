//! `mclint route` with keys memcached refuses or that carry control
//! characters, from `--key` and `--keys-file`: each is named per key (what
//! the client would get), placed only when the proxy takes it, and never
//! printed raw; `--proxy-config` and its old spelling `--config`.

mod support;

use std::path::{Path, PathBuf};

use support::{mclint, run};

fn config(dir: &Path) -> PathBuf {
    let cfg = dir.join("proxy.lua");
    std::fs::write(
        &cfg,
        r#"pools { main = { backends = { "a:11211", "b:11211", "c:11211" } } }
routes { default = route_direct { child = "main" } }"#,
    )
    .unwrap();
    cfg
}

/// No byte a terminal would act on, other than the newlines between lines.
fn assert_printable(text: &str) {
    for (i, c) in text.char_indices() {
        assert!(
            c == '\n' || !c.is_control(),
            "raw control character {c:?} at byte {i} of:\n{text}"
        );
    }
}

#[test]
fn refused_and_doubtful_keys_are_named_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let long = "k".repeat(251);
    let at_limit = "k".repeat(250);
    let keys = [
        "user:42",
        "",
        "two words",
        "line\nbreak",
        "osc\x1b]52;c;aGk=\x07end",
        "tab\there",
        long.as_str(),
        at_limit.as_str(),
    ];
    let mut cmd = mclint();
    cmd.args(["route", "--proxy-config"]).arg(&cfg);
    for k in keys {
        cmd.args(["--key", k]);
    }
    let text = run(&mut cmd, b"");
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert_printable(&text.stdout);
    let shown = text
        .stdout
        .replace(&long, "<251 × k>")
        .replace(&at_limit, "<250 × k>");
    insta::assert_snapshot!("route_refused_keys_text", shown);

    let json = run(cmd.args(["--format", "json"]), b"");
    assert_eq!(json.code, 0, "{}", json.stderr);
    let lines: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), keys.len());
    for (k, v) in keys.iter().zip(&lines) {
        assert_eq!(v["key"], *k, "{v}");
        let placed = !v["backends"].as_array().unwrap().is_empty();
        let refused = ["", "two words", "line\nbreak", long.as_str()].contains(k);
        assert_eq!(placed, !refused, "{v}");
        if refused {
            assert!(v["error"].as_str().unwrap().contains("refuses"), "{v}");
            assert!(v["key_problem"].is_string(), "{v}");
        }
    }
    // Taken by the proxy, but the protocol forbids control characters.
    assert!(
        lines[4]["key_problem"]
            .as_str()
            .unwrap()
            .contains("control")
    );
    assert!(
        lines[5]["key_problem"]
            .as_str()
            .unwrap()
            .contains("control")
    );
    // Good keys carry no key_problem.
    assert!(lines[0].get("key_problem").is_none());
    assert!(lines[7].get("key_problem").is_none());
    assert!(
        lines[6]["key_problem"]
            .as_str()
            .unwrap()
            .contains("251 bytes")
    );
}

#[test]
fn keys_file_lines_are_checked_and_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let keys = dir.path().join("keys.txt");
    let mut data = Vec::new();
    data.extend_from_slice(b"crlf\r\n");
    data.extend_from_slice(b"\n\r\n");
    data.extend_from_slice(b"nul\0byte\n");
    data.extend_from_slice(b"mid\rcr\n");
    data.extend_from_slice(b"bad\xff\xfeutf8\n");
    data.extend_from_slice(&vec![b'x'; 200_000]);
    data.extend_from_slice(b"\nlast-without-newline");
    std::fs::write(&keys, &data).unwrap();
    let out = run(
        mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .arg("--keys-file")
            .arg(&keys)
            .args(["--format", "json"]),
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, bool, String)> = lines
        .iter()
        .map(|v| {
            let key = v["key"].as_str().unwrap();
            (
                if key.len() > 40 {
                    format!("<{} bytes>", key.len())
                } else {
                    key.to_string()
                },
                !v["backends"].as_array().unwrap().is_empty(),
                v["key_problem"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // Empty lines are skipped; a CRLF ending is not part of the key.
    assert_eq!(got.len(), 6, "{got:#?}");
    assert_eq!(got[0], ("crlf".into(), true, String::new()));
    assert!(!got[1].1 && got[1].2.contains("NUL"), "{:?}", got[1]);
    assert!(got[2].1 && got[2].2.contains("control"), "{:?}", got[2]);
    assert!(!got[3].1 && got[3].2.contains("not UTF-8"), "{:?}", got[3]);
    // Only the start of an over-long line is kept, and it is refused.
    assert_eq!(got[4].0, "<65536 bytes>");
    assert!(
        !got[4].1 && got[4].2.contains("200000 bytes"),
        "{:?}",
        got[4]
    );
    assert_eq!(got[5], ("last-without-newline".into(), true, String::new()));

    // The text output escapes what it shows.
    let text = run(
        mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .arg("--keys-file")
            .arg(&keys),
        b"",
    );
    assert_eq!(text.code, 0);
    assert_printable(&text.stdout);
    assert!(text.stdout.contains("nul\\u{0}byte"), "{}", text.stdout);
    assert!(text.stdout.contains("mid\\rcr"), "{}", text.stdout);
}

#[test]
fn proxy_config_is_the_flag_and_config_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let new = run(
        mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .args(["--key", "k"]),
        b"",
    );
    let old = run(
        mclint()
            .args(["route", "--config"])
            .arg(&cfg)
            .args(["--key", "k"]),
        b"",
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
    assert_eq!(new.stdout, old.stdout);
    let help = run(mclint().args(["route", "--help"]), b"");
    assert!(
        help.stdout.contains("--proxy-config <FILE.lua>"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("--config"), "{}", help.stdout);
    // A missing file names the flag as the user knows it now.
    let missing = run(
        mclint().args(["route", "--proxy-config", "nope.lua", "--key", "k"]),
        b"",
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("--proxy-config nope.lua"),
        "{}",
        missing.stderr
    );
}

/// `--zone` and `--fail zone:NAME` with hostile names: a zone no proxy or set
/// has is an error that names the zones there are; nothing is printed raw,
/// and a 100,000-byte name does not make the output grow out of bounds.
#[test]
fn hostile_zone_names_are_errors_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("zoned.lua");
    std::fs::write(
        &cfg,
        r#"pools { set_z = { a = { backends = { "a:11211" } }, b = { backends = { "b:11211" } } } }
routes { default = route_zfailover { children = "set_z" } }"#,
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let long = "z".repeat(100_000);
    for zone in ["\u{1b}]52;c;aGk=\u{7}", "a\nb", "--stats=5", long.as_str()] {
        let r = run(
            mclint()
                .args(["route", "--proxy-config", &cfg, "--key", "k"])
                .args(["--fail", &format!("zone:{zone}")]),
            b"",
        );
        assert_eq!(r.code, 2, "{zone:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("no pool set has that zone; zones: a, b"),
            "{}",
            r.stderr
        );
        assert_printable(&r.stderr);
        assert_printable(&r.stdout);
        // As a local zone: not a key of the set, so the read fails, said per key.
        let r = run(
            mclint().args([
                "route",
                "--proxy-config",
                &cfg,
                "--key",
                "k",
                "--zone",
                zone,
            ]),
            b"",
        );
        assert_printable(&r.stderr);
        assert_printable(&r.stdout);
        assert!(
            r.stdout.len() + r.stderr.len() < 2_000 + zone.len() * 8,
            "{}",
            r.stdout.len()
        );
    }
    // A zone of the set answers from that zone first.
    let r = run(
        mclint().args(["route", "--proxy-config", &cfg, "--key", "k", "--zone", "b"]),
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("set_z_b b:11211 (primary)"),
        "{}",
        r.stdout
    );
}
