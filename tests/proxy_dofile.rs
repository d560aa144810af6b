//! `dofile` and `loadfile` in proxy configs: mclint opens only what the proxy
//! can reach. In a manifest, a path is followed through the proxy container's
//! volumeMounts to a ConfigMap key (a relative one against `workingDir`); a
//! config given alone opens files under its own directory. Anything else is a
//! `proxy-lua-error` naming the file, the object and the reason, never a read
//! of the linting machine's filesystem. The real proxy's side (relative paths
//! open against its working directory, a missing file or a loop of dofiles
//! is refused) is in `tests/routelib-corpus/dofile-*.lua`.

mod support;

use support::mclint;

/// A proxy Deployment whose config (`proxy.lua`) and `frag.lua` come from
/// ConfigMap `proxy`, mounted at /etc/proxy; `extra` goes into the container.
fn manifest(config: &str, frag: &str, extra: &str) -> String {
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: proxy
  namespace: cache
data:
  proxy.lua: |
{}  frag.lua: |
{}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: proxy
  namespace: cache
spec:
  selector:
    matchLabels: {{ app: proxy }}
  template:
    metadata:
      labels: {{ app: proxy }}
    spec:
      containers:
        - name: proxy
          image: memcached:1.6.38
          args: ["-o", "proxy_config=routelib,proxy_arg=/etc/proxy/proxy.lua"]
{extra}          volumeMounts:
            - name: conf
              mountPath: /etc/proxy
      volumes:
        - name: conf
          configMap:
            name: proxy
"#,
        indent(config),
        indent(frag)
    )
}

const FRAG: &str = "pools { main = { backends = { \"10.0.0.1:11211\", \"10.0.0.2:11211\" } } }";
const ROUTES: &str = "routes { default = route_direct { child = \"main\" } }";

/// The `proxy-lua-error` messages of `mclint check` on `files` in `dir`.
fn lua_errors(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = mclint()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "proxy-lua-error")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

fn check_manifest(config: &str, frag: &str, extra: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), manifest(config, frag, extra)).unwrap();
    lua_errors(dir.path(), &["m.yaml"])
}

#[test]
fn a_manifest_config_dofiles_what_is_mounted_into_its_container() {
    let ok = |call: &str, extra: &str| {
        let errors = check_manifest(&format!("{call}\n{ROUTES}"), FRAG, extra);
        assert!(errors.is_empty(), "{call}: {errors:?}");
    };
    ok("dofile(\"/etc/proxy/frag.lua\")", "");
    ok("dofile(\"/etc/proxy/./frag.lua\")", "");
    ok("assert(loadfile(\"/etc/proxy/frag.lua\"))()", "");
    ok(
        "local f = loadfile(\"/etc/proxy/frag.lua\", \"t\", _ENV)\nf()",
        "",
    );
    // A relative path opens against the container's working directory.
    ok("dofile(\"frag.lua\")", "          workingDir: /etc/proxy\n");
    ok("dofile(\"proxy/frag.lua\")", "          workingDir: /etc\n");

    // The route follows the pools the fragment declared.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.yaml");
    std::fs::write(
        &m,
        manifest(
            &format!("dofile(\"/etc/proxy/frag.lua\")\n{ROUTES}"),
            FRAG,
            "",
        ),
    )
    .unwrap();
    let out = mclint()
        .args(["route", "--format", "json", "--key", "foo"])
        .arg(&m)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10.0.0."), "{text}");
}

#[test]
fn what_the_container_cannot_reach_is_a_finding_naming_object_and_path() {
    let fails = |call: &str, extra: &str, want: &[&str]| {
        let errors = check_manifest(&format!("{call}\n{ROUTES}"), FRAG, extra);
        assert_eq!(errors.len(), 1, "{call}: {errors:?}");
        for w in want {
            assert!(errors[0].contains(w), "{call}: {:?} lacks {w:?}", errors[0]);
        }
    };
    // A key the ConfigMap does not have.
    fails(
        "dofile(\"/etc/proxy/other.lua\")",
        "",
        &[
            "cannot open /etc/proxy/other.lua",
            "Deployment cache/proxy container proxy",
            "ConfigMap cache/proxy",
            "frag.lua, proxy.lua",
        ],
    );
    // Outside every mount: the linting machine's own files are never read.
    for path in ["/etc/passwd", "/dev/zero", "/proc/self/environ"] {
        fails(
            &format!("dofile(\"{path}\")"),
            "",
            &[path, "is not under any volumeMount"],
        );
    }
    fails(
        "dofile(\"/etc/proxy/../passwd\")",
        "",
        &["`..`", "Deployment cache/proxy container proxy"],
    );
    fails("dofile(\"/etc/proxy\")", "", &["mount point"]);
    // A relative path without workingDir: the image's directory is unknown.
    fails("dofile(\"frag.lua\")", "", &["workingDir"]);
    // loadfile returns the reason; assert raises it.
    fails(
        "assert(loadfile(\"/etc/other/x.lua\"))()",
        "",
        &["cannot open /etc/other/x.lua"],
    );
    // No file name: the proxy would read standard input.
    fails("dofile()", "", &["standard input"]);
    fails("dofile({})", "", &["needs a file name"]);
}

#[test]
fn loops_and_huge_files_end_in_a_finding() {
    // The fragment dofiles the config, which dofiles the fragment.
    let errors = check_manifest(
        &format!("dofile(\"/etc/proxy/frag.lua\")\n{ROUTES}"),
        "dofile(\"/etc/proxy/proxy.lua\")",
        "",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("nested more than 32") && errors[0].contains("C stack overflow"),
        "{errors:?}"
    );
    // A file over 4 MiB is refused without reading it all; a config that
    // loads a 3 MiB file again and again runs out of the sandbox's budget.
    let dir = tempfile::tempdir().unwrap();
    let big = format!("x = \"{}\"\n", "a".repeat(8 << 20));
    std::fs::write(dir.path().join("big.lua"), &big).unwrap();
    std::fs::write(
        dir.path().join("proxy.lua"),
        "for i = 1, 1000 do dofile(\"big.lua\") end\n",
    )
    .unwrap();
    let errors = lua_errors(dir.path(), &["proxy.lua"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("larger than 4 MiB"), "{errors:?}");
    let small = format!("x = \"{}\"\n", "a".repeat(3 << 20));
    std::fs::write(dir.path().join("big.lua"), &small).unwrap();
    let errors = lua_errors(dir.path(), &["proxy.lua"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("mclint sandbox"), "{errors:?}");
}

#[test]
fn a_config_given_alone_opens_files_under_its_directory_only() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("conf");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/pools.lua"), FRAG).unwrap();
    std::fs::write(root.path().join("outside.lua"), FRAG).unwrap();
    let write = |name: &str, call: &str| {
        std::fs::write(dir.join(name), format!("{call}\n{ROUTES}\n")).unwrap();
        name.to_string()
    };
    // Opened relative to the config's directory, wherever mclint runs.
    let ok = write("ok.lua", "dofile(\"lib/pools.lua\")");
    assert!(lua_errors(&dir, &[&ok]).is_empty());
    assert!(lua_errors(root.path(), &[&format!("conf/{ok}")]).is_empty());
    let outside = root.path().join("outside.lua").display().to_string();
    for (name, call, want) in [
        ("abs.lua", format!("dofile(\"{outside}\")"), "absolute path"),
        ("up.lua", "dofile(\"../outside.lua\")".to_string(), "`..`"),
        (
            "dir.lua",
            "dofile(\"lib\")".to_string(),
            "not a regular file",
        ),
        (
            "missing.lua",
            "dofile(\"lib/none.lua\")".to_string(),
            "cannot open lib/none.lua",
        ),
    ] {
        let f = write(name, &call);
        let errors = lua_errors(&dir, &[&f]);
        assert_eq!(errors.len(), 1, "{call}: {errors:?}");
        assert!(errors[0].contains(want), "{call}: {errors:?}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.path().join("outside.lua"), dir.join("link.lua")).unwrap();
        let f = write("link-user.lua", "dofile(\"link.lua\")");
        let errors = lua_errors(&dir, &[&f]);
        assert!(
            errors.len() == 1 && errors[0].contains("leads out"),
            "{errors:?}"
        );
    }
}

/// A handler library (`proxy_config=routelib:LIB`) that dofiles the file
/// defining its handler: every worker thread runs the library, so the
/// handler works (unlike a fragment the config dofiles: the corpus case
/// `dofile-handler-in-config.lua`). `mclint route --lib` places every key
/// where the real proxy, run in the library's directory, stores it.
#[test]
fn a_library_that_dofiles_its_handler_routes_as_in_the_real_proxy() {
    use support::{Client, free_port, start_memcached, start_memcached_in};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _backends: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("b{i}"), p, &[], d))
        .collect();
    std::fs::create_dir_all(d.join("impl")).unwrap();
    std::fs::write(
        d.join("impl/second.lua"),
        r#"register_route_handlers({ "second" })
function route_second_conf(t, ctx)
    return t
end
-- Sends to the second child, whatever the first is.
function route_second_start(a, ctx, fgen)
    local h = fgen:new_handle(a.children[2])
    fgen:ready({ n = ctx:label(), f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
end
"#,
    )
    .unwrap();
    std::fs::write(d.join("lib.lua"), "dofile(\"impl/second.lua\")\n").unwrap();
    std::fs::write(
        d.join("proxy.lua"),
        format!(
            "pools {{\n    a = {{ backends = {{ \"127.0.0.1:{}\" }} }},\n    b = {{ backends = {{ \"127.0.0.1:{}\", \"127.0.0.1:{}\" }} }},\n}}\nroutes {{ default = route_second {{ children = {{ \"a\", \"b\" }} }} }}\n",
            ports[0], ports[1], ports[2]
        ),
    )
    .unwrap();
    let proxy = start_memcached_in(
        "proxy",
        "127.0.0.1",
        free_port(),
        &[
            "-o".into(),
            "proxy_config=routelib:lib.lua,proxy_arg=proxy.lua".into(),
        ],
        d,
        Some(d),
    );
    let keys: Vec<String> = (0..200).map(|i| format!("lib/{i}")).collect();
    let mut cmd = mclint();
    cmd.current_dir(d).args([
        "route",
        "--format",
        "json",
        "--command",
        "set",
        "--lib",
        "lib.lua",
    ]);
    for k in &keys {
        cmd.args(["--key", k]);
    }
    let out = cmd.arg("proxy.lua").output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        keys.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = Client::connect(proxy.port);
    let mut mismatches = Vec::new();
    let mut on = [0usize; 3];
    for (k, line) in keys.iter().zip(&lines) {
        assert_eq!(c.set(k, b"v", 0), "STORED", "{k}");
        let real: Vec<usize> = (0..3).filter(|&i| support::holds(ports[i], k)).collect();
        let want: Vec<usize> = line["backends"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| {
                let port: u16 = b["backend"].as_str()?.rsplit(':').next()?.parse().ok()?;
                ports.iter().position(|&p| p == port)
            })
            .collect();
        for &i in &real {
            on[i] += 1;
        }
        if real != want {
            mismatches.push(format!("{k}: real {real:?}, mclint {want:?}"));
        }
    }
    eprintln!(
        "{} keys on backends {on:?}: {} mismatches",
        keys.len(),
        mismatches.len()
    );
    assert_eq!(on[0], 0, "pool a is never sent to");
    assert!(on[1] > 0 && on[2] > 0);
    assert!(mismatches.is_empty(), "{mismatches:?}");
}
