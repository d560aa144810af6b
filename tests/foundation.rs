//! The walking skeleton, with the real parts: the Helm engine renders the
//! chart, and the real memcached proxy routes to real backends.

mod support;

use std::sync::Arc;

use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use support::*;

#[test]
fn the_chart_renders_a_statefulset_and_its_headless_service() {
    let text = helm_template("cache", "cache", &[]);
    let input = Input {
        name: Arc::from("rendered.yaml"),
        kind: InputKind::Yaml,
        text,
    };
    let docs = parse_stream(&input);
    let objects: Vec<_> = docs.iter().filter_map(|d| as_object(d)?.ok()).collect();
    let sts = objects
        .iter()
        .find(|o| o.kind == "StatefulSet")
        .expect("a StatefulSet");
    assert_eq!(sts.namespace.as_deref(), Some("cache"));
    assert!(
        sts.doc
            .source
            .as_deref()
            .unwrap()
            .starts_with("distributed-memcached/templates/")
    );
    let service_name = sts
        .json
        .pointer("/spec/serviceName")
        .and_then(|v| v.as_str())
        .unwrap();
    let svc = objects
        .iter()
        .find(|o| o.kind == "Service" && o.name == service_name)
        .expect("the StatefulSet's Service");
    assert_eq!(
        svc.json.pointer("/spec/clusterIP").and_then(|v| v.as_str()),
        Some("None")
    );
    // The Service selects the StatefulSet's pods.
    let selector = svc
        .json
        .pointer("/spec/selector")
        .and_then(|v| v.as_object())
        .unwrap();
    let labels = sts
        .json
        .pointer("/spec/template/metadata/labels")
        .and_then(|v| v.as_object());
    assert!(mclint::k8s::selects(selector, labels));
    let image = sts
        .json
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(|v| v.as_str())
        .unwrap();
    assert!(image.ends_with(":1.6.38"), "{image}");
}

#[test]
fn helm_lint_strict_passes() {
    let chart = repo().join("charts/distributed-memcached");
    let out = helm()
        .args(["lint", "--strict"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_built_memcached_is_1_6_38_with_the_proxy() {
    let v = std::process::Command::new(memcached_bin())
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        "memcached 1.6.38"
    );
    let h = std::process::Command::new(memcached_bin())
        .arg("-h")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&h.stdout).contains("proxy_config"));
}

#[test]
fn the_real_proxy_routes_sets_and_gets_to_backends() {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (free_port(), free_port());
    let b1 = start_memcached("b1", p1, &["-m".into(), "16".into()], dir.path());
    let b2 = start_memcached("b2", p2, &["-m".into(), "16".into()], dir.path());
    let config = dir.path().join("proxy.lua");
    std::fs::write(
        &config,
        format!(
            "pools{{ main = {{ backends = {{ \"127.0.0.1:{p1}\", \"127.0.0.1:{p2}\" }} }} }}\nroutes{{ default = route_direct{{ child = \"main\" }} }}\n"
        ),
    )
    .unwrap();
    let proxy = start_proxy("proxy", &config, dir.path());
    let pp = proxy.port;
    let mut client = Client::connect(pp);
    let keys: Vec<String> = (0..50).map(|i| format!("key-{i}")).collect();
    for k in &keys {
        assert_eq!(
            client.set(k, format!("value of {k}").as_bytes(), 0),
            "STORED"
        );
    }
    for k in &keys {
        assert_eq!(
            client.get(k).as_deref(),
            Some(format!("value of {k}").as_bytes())
        );
    }
    // Every value landed on exactly one backend, and both backends got some.
    let (mut c1, mut c2) = (Client::connect(b1.port), Client::connect(b2.port));
    let mut on = [0, 0];
    for k in &keys {
        let (h1, h2) = (c1.get(k), c2.get(k));
        assert!(
            h1.is_some() ^ h2.is_some(),
            "{k} is on {} backends",
            h1.is_some() as u8 + h2.is_some() as u8
        );
        on[usize::from(h2.is_some())] += 1;
    }
    assert!(on[0] > 0 && on[1] > 0, "keys were not spread: {on:?}");
}

#[test]
fn mclint_checks_the_cache_rendering() {
    let text = helm_template("cache", "cache", &[]);
    let out = run(
        mclint().args(["check", "-", "--format", "json"]),
        text.as_bytes(),
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        report["summary"]["objects"].as_u64().unwrap() >= 2,
        "{report}"
    );
    assert_eq!(report["summary"]["errors"], 0, "{report}");
    assert_eq!(out.code, 0);
}

/// Repeated `--set` with list indexes build one list, as Helm's strvals does
/// (each expression is parsed into the values the earlier ones built).
#[test]
fn repeated_set_with_list_indexes_merges_like_helm() {
    let text = helm_template(
        "s",
        "apps",
        &[
            "--set",
            "mode=sidecar",
            "--set",
            "app.containers[0].name=web",
            "--set",
            "app.containers[0].image=nginx:1.27",
        ],
    );
    assert!(text.contains("name: web"), "{text}");
    assert!(text.contains("image: nginx:1.27"), "{text}");
    // An index into a list from a values file edits that element only.
    let values = repo().join("charts/distributed-memcached/ci/sidecar-values.yaml");
    let v = values.to_string_lossy();
    let text = helm_template(
        "s",
        "apps",
        &["-f", &v, "--set", "app.containers[0].image=nginx:1.27"],
    );
    assert!(text.contains("image: nginx:1.27"), "{text}");
    assert!(
        text.contains("echo memcached at 127.0.0.1:11211"),
        "the rest of the container was lost"
    );
}
