//! `mclint route` runs custom route handlers (from `--lib` libraries) in the
//! sandbox: what they contact and answer, and hostile or broken handlers
//! reported as errors of the route, never a hang or a crash.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{mclint, run};

const CONFIG: &str = r#"pools {
    a = { backends = { "10.0.0.1:11211", "10.0.0.2:11211" } },
    b = { backends = { "10.0.1.1:11211" } },
}
routes { default = route_h { children = { "a", "b" } } }
"#;

/// `mclint route` of CONFIG with `lib` as its handler library, as JSON lines.
fn route(dir: &Path, lib: &str, extra: &[&str]) -> (i32, String, String) {
    let cfg = dir.join("proxy.lua");
    let libf = dir.join("h.lua");
    std::fs::write(&cfg, CONFIG).unwrap();
    std::fs::write(&libf, lib).unwrap();
    let mut cmd = mclint();
    cmd.arg("route")
        .arg(&cfg)
        .arg("--lib")
        .arg(&libf)
        .args(["--key", "k1", "--format", "json"])
        .args(extra);
    let r = run(&mut cmd, b"");
    (r.code, r.stdout, r.stderr)
}

fn handler(body: &str) -> String {
    format!(
        r#"register_route_handlers({{ "h" }})
function route_h_conf(t) return t end
function route_h_start(a, ctx, fgen)
    local h = {{}}
    for _, c in ipairs(a.children) do
        h[#h + 1] = fgen:new_handle(c)
    end
    fgen:ready({{ a = h, f = function(rctx, h)
        return function(r)
{body}
        end
    end }})
end
"#
    )
}

#[test]
fn contacts_in_the_order_the_handler_sends_them() {
    let dir = tempfile::tempdir().unwrap();
    // b first, then a; a's copy is never waited for.
    let lib = handler(
        "            local res = rctx:enqueue_and_wait(r, h[2])\n            rctx:enqueue(r, h[1])\n            return res",
    );
    let (code, out, err) = route(dir.path(), &lib, &["--command", "set"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let b = v["backends"].as_array().unwrap();
    assert_eq!(b.len(), 2, "{v}");
    assert_eq!(b[0]["pool"], "b");
    assert_eq!(b[0]["role"], "primary");
    assert_eq!(b[1]["pool"], "a");
    assert_eq!(b[1]["role"], "async");
}

#[test]
fn a_read_on_a_miss_is_a_failover() {
    let dir = tempfile::tempdir().unwrap();
    let lib = handler(
        "            local res = rctx:enqueue_and_wait(r, h[1])\n            if res:hit() then return res end\n            return rctx:enqueue_and_wait(r, h[2])",
    );
    let (code, out, err) = route(dir.path(), &lib, &["--command", "get"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let roles: Vec<(&str, &str)> = v["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["pool"].as_str().unwrap(), b["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("a", "primary"), ("b", "failover")], "{v}");
}

#[test]
fn broken_and_hostile_handlers_are_errors_of_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, String, &str)] = &[
        (
            "endless request",
            handler("            while true do end"),
            "mclint sandbox",
        ),
        (
            "huge string",
            handler("            local s = string.rep('x', 1 << 40)"),
            "mclint sandbox",
        ),
        (
            "error in the request function",
            handler("            error('boom')"),
            "boom",
        ),
        (
            "bad handle",
            handler("            return rctx:enqueue_and_wait(r, 99)"),
            "invalid handle",
        ),
        (
            "unmodelled API",
            handler("            return rctx:request_new()"),
            "mclint does not model rctx:request_new",
        ),
        (
            "start defined in the config only",
            "register_route_handlers({ \"h\" })\nfunction route_h_conf(t) return t end\n"
                .to_string(),
            "route_h_start is not defined by a library",
        ),
        (
            "ready never called",
            "register_route_handlers({ \"h\" })\nfunction route_h_conf(t) return t end\nfunction route_h_start(a, ctx, fgen) end\n"
                .to_string(),
            "never called fgen:ready",
        ),
    ];
    for (name, lib, want) in cases {
        let started = Instant::now();
        let (code, out, err) = route(dir.path(), lib, &["--command", "get"]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: took {:?}",
            started.elapsed()
        );
        assert!(code == 0 || code == 1, "{name}: exit {code}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap_or("null"))
            .unwrap_or_else(|e| panic!("{name}: {e}: {out} {err}"));
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(want), "{name}: want {want:?} in {v}");
    }
}

#[test]
fn fail_answers_come_from_running_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    // Any failure of a child is turned into a miss by the handler.
    let lib = handler(
        "            local res = rctx:enqueue_and_wait(r, h[1])\n            if res:ok() then return res end\n            return 'END\\r\\n'",
    );
    let cfg = dir.path().join("proxy.lua");
    let libf = dir.path().join("h.lua");
    std::fs::write(&cfg, CONFIG).unwrap();
    std::fs::write(&libf, &lib).unwrap();
    let mut cmd = mclint();
    cmd.arg("route").arg(&cfg).arg("--lib").arg(&libf).args([
        "--stats",
        "200",
        "--fail",
        "10.0.0.1:11211",
        "--format",
        "json",
    ]);
    let r = run(&mut cmd, b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    let text = v.to_string();
    // No read fails: the keys on the stopped backend are misses.
    assert!(text.contains("\"error\":0.0"), "{text}");
    assert!(!text.contains("\"miss\":0.0,"), "{text}");
}
