//! `mclint check --lib FILE` (and `graph --lib`): a standalone config that uses a handler a
//! library registers, checked with that library loaded first, as
//! `-o proxy_config=routelib:FILE` loads it in the real proxy.

mod support;

use support::{mclint, run};

const LIB: &str = r#"register_route_handlers({ "tee" })

function route_tee_conf(t, ctx)
    if type(t.children) ~= "table" or #t.children == 0 then
        error("route_tee needs a non-empty children list")
    end
    return t
end

function route_tee_start(a, ctx, fgen)
    local handles = {}
    for _, child in ipairs(a.children) do
        table.insert(handles, fgen:new_handle(child))
    end
    fgen:ready({ a = handles, n = ctx:label(), f = function(rctx, h) return function(r) return rctx:enqueue_and_wait(r, h[1]) end end })
end
"#;

const CONFIG: &str = r#"pools {
    main = { backends = { "10.0.0.1:11211", "10.0.0.2:11211" } },
    copy = { backends = { "10.0.0.3:11211" } },
}
routes {
    default = route_tee { children = { "main", "copy" } },
}
"#;

#[test]
fn a_library_registers_the_handlers_a_config_uses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tee.lua"), LIB).unwrap();
    std::fs::write(dir.path().join("proxy.lua"), CONFIG).unwrap();
    let check = |args: &[&str]| {
        let mut cmd = mclint();
        cmd.current_dir(dir.path())
            .args(["check", "--color", "never", "--format", "json"])
            .args(args);
        run(&mut cmd, b"")
    };
    let alone = check(&["proxy.lua"]);
    assert_eq!(alone.code, 1, "{}{}", alone.stdout, alone.stderr);
    assert!(
        alone.stdout.contains("route-unknown-handler"),
        "{}",
        alone.stdout
    );
    let with_lib = check(&["--lib", "tee.lua", "proxy.lua"]);
    assert_eq!(with_lib.code, 0, "{}{}", with_lib.stdout, with_lib.stderr);
    assert!(
        !with_lib.stdout.contains("route-unknown-handler"),
        "{}",
        with_lib.stdout
    );
    // A library that is not a file is refused, naming it.
    let bad = check(&["--lib", ".", "proxy.lua"]);
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    assert!(
        bad.stderr
            .contains("mclint: --lib: .: cannot read: a directory; --lib takes a Lua file"),
        "{}",
        bad.stderr
    );
    let missing = check(&["--lib", "nope.lua", "proxy.lua"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.lua"), "{}", missing.stderr);
    // Hostile library paths: a device, a name with an escape sequence, a name
    // that looks like an option.
    let device = check(&["--lib", "/dev/zero", "proxy.lua"]);
    assert_eq!(device.code, 2, "{}", device.stderr);
    assert!(device.stderr.contains("/dev/zero"), "{}", device.stderr);
    let evil = check(&["--lib", "\u{1b}]52;c;eA==\u{7}.lua", "proxy.lua"]);
    assert_eq!(evil.code, 2, "{}", evil.stderr);
    assert!(!evil.stderr.contains('\u{1b}'), "{}", evil.stderr);
    std::fs::write(dir.path().join("--fail-on=never"), LIB).unwrap();
    let optlike = check(&["--lib=--fail-on=never", "proxy.lua"]);
    assert_eq!(optlike.code, 0, "{}{}", optlike.stdout, optlike.stderr);
}

#[test]
fn graph_draws_a_config_with_its_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tee.lua"), LIB).unwrap();
    std::fs::write(dir.path().join("proxy.lua"), CONFIG).unwrap();
    let mut cmd = mclint();
    cmd.current_dir(dir.path())
        .args(["graph", "--lib", "tee.lua", "proxy.lua"]);
    let r = run(&mut cmd, b"");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("route_tee"), "{}", r.stdout);
    assert!(r.stdout.contains("10.0.0.3:11211"), "{}", r.stdout);
    let mut cmd = mclint();
    cmd.current_dir(dir.path())
        .args(["graph", "--lib", "missing.lua", "proxy.lua"]);
    let r = run(&mut cmd, b"");
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("missing.lua"), "{}", r.stderr);
}
