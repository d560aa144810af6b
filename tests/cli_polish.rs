//! Small user-facing behaviours: `mclint route --proxy` naming the proxies it
//! could have meant, `mclint diff` showing the text of changed `.lua` configs,
//! and the router lookup borrowing a map prefix instead of copying it.

mod support;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use mclint::proxy::eval::Engine;
use mclint::proxy::model::command_id;
use mclint::proxy::{EnvSource, Limits, load};
use support::{mclint, run};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn config(backends: &[&str]) -> String {
    let list: Vec<String> = backends
        .iter()
        .map(|b| format!("            \"{b}\",\n"))
        .collect();
    format!(
        "pools {{\n    main = {{\n        backends = {{\n{}        }},\n    }},\n}}\nroutes {{\n    default = route_direct {{ child = \"main\" }},\n}}\n",
        list.concat()
    )
}

#[test]
fn route_proxy_without_a_match_lists_the_proxies_found() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "edge.lua", &config(&["a:11211"]));
    let b = write(dir.path(), "core.lua", &config(&["b:11211"]));
    let r = run(
        mclint()
            .args(["route", "--key", "k", "--proxy", "nope"])
            .arg(&a)
            .arg(&b),
        b"",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--proxy nope: no proxy matches; proxies: ")
            && r.stderr.contains(&a.display().to_string())
            && r.stderr.contains(&b.display().to_string()),
        "{}",
        r.stderr
    );
    // A name that matches still routes.
    let ok = run(
        mclint()
            .args(["route", "--key", "k", "--proxy", "core"])
            .arg(&a)
            .arg(&b),
        b"",
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("b:11211"), "{}", ok.stdout);
    // No proxy at all keeps the explanation of what a proxy is.
    let yaml = write(
        dir.path(),
        "cm.yaml",
        "kind: ConfigMap\nmetadata: {name: x}\n",
    );
    let none = run(
        mclint()
            .args(["route", "--key", "k", "--proxy", "nope"])
            .arg(&yaml),
        b"",
    );
    assert_eq!(none.code, 2);
    assert!(
        none.stderr
            .contains("no proxy config found matching --proxy nope"),
        "{}",
        none.stderr
    );
}

#[test]
fn diff_of_lua_files_prints_a_unified_diff_of_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.lua", &config(&["a:1", "b:1"]));
    let new = write(dir.path(), "new.lua", &config(&["a:1", "c:1"]));
    let out = run(mclint().arg("diff").arg(&old).arg(&new), b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    let head = format!(
        "~ proxy config {} → {} (+1 -1)",
        old.display(),
        new.display()
    );
    assert!(text.contains(&head), "{text}");
    assert!(
        text.contains(&format!("  --- old: {}\n", old.display())),
        "{text}"
    );
    assert!(
        text.contains("  -            \"b:1\",\n  +            \"c:1\",\n"),
        "{text}"
    );
    // The text diff comes before the key remapping, which is still there.
    let at = text.find(&head).unwrap();
    let remap = text.find("Key remapping").expect("no key remapping");
    assert!(at < remap, "{text}");

    let json = run(
        mclint()
            .args(["diff", "--format", "json"])
            .arg(&old)
            .arg(&new),
        b"",
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let c = &v["config_texts"][0];
    assert_eq!(c["lines_added"], 1);
    assert_eq!(c["lines_removed"], 1);
    assert!(
        c["diff"]
            .as_str()
            .unwrap()
            .contains("+            \"c:1\",\n")
    );

    let md = run(
        mclint()
            .args(["diff", "--format", "github"])
            .arg(&old)
            .arg(&new),
        b"",
    );
    assert!(
        md.stdout.contains("<summary>proxy config ") && md.stdout.contains("+            \"c:1\","),
        "{}",
        md.stdout
    );

    // The same text on both sides: no text diff.
    let same = write(dir.path(), "same.lua", &config(&["a:1", "b:1"]));
    let out = run(mclint().arg("diff").arg(&old).arg(&same), b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("~ proxy config"), "{}", out.stdout);
}

#[test]
fn a_prefix_map_route_borrows_its_label() {
    let text = "pools { a = { backends = { \"a:1\" } }, b = { backends = { \"b:1\" } } }\nroutes {\n    map = { user = route_direct { child = \"a\" } },\n    default = route_direct { child = \"b\" },\n}\n";
    let cfg = load("t.lua", text, &[], &EnvSource::Unknown, Limits::default());
    assert!(cfg.failure.is_none(), "{:?}", cfg.failure);
    let engine = Engine::new(&cfg, "default").unwrap();
    let get = command_id("get").unwrap();
    let sel = engine.select(b"user/42", get);
    assert!(sel.route.is_some());
    assert!(
        matches!(sel.label, Cow::Borrowed("user")),
        "{:?}",
        sel.label
    );
    let sel = engine.select(b"other/42", get);
    assert_eq!(sel.label, "default");
}
