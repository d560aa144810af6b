//! TLS on the proxy's listener, proven with the real server: the chart's
//! `ci/daemonset-tls-values.yaml` is rendered, a CA with a server and a client
//! certificate is made with the openssl CLI in a temporary directory, laid out
//! as the rendered Secret volumes (`items`) put them, and the proxy (memcached
//! 1.6.38 built with `--enable-tls` by `scripts/setup-memcached`) starts with
//! the rendered arguments in front of the rendered cache pods, all on
//! 127.0.0.1. A plain client is refused; a TLS client's `set`/`get` is
//! answered through the proxy by a cache pod; with `verifyClient: require` a
//! TLS client without a certificate is refused.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mclint::json::Value;
use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use support::*;

const NAMESPACE: &str = "cache";
const CI: &str = "charts/distributed-memcached/ci/daemonset-tls-values.yaml";

/// A Secret volume of the proxy container: where it is mounted and which key
/// lands at which file.
struct SecretMount {
    mount_path: String,
    secret: String,
    items: Vec<(String, String)>,
}

struct Rendering {
    proxy_lua: String,
    proxy_args: Vec<String>,
    mounts: Vec<SecretMount>,
    /// `host:port` of each cache pod as the proxy config names it, and its args.
    cache: Vec<(String, Vec<String>)>,
    /// Secrets the rendering carries (the ci file's extraDeploy), by name.
    secrets: Vec<String>,
    /// The `helm test` pod: its shell script, env, and Secret mounts.
    test_script: String,
    test_env: Vec<(String, String)>,
    test_mounts: Vec<SecretMount>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn render(extra: &[&str]) -> Rendering {
    let mut args = vec!["-f", CI];
    args.extend_from_slice(extra);
    let text = helm_template("tls", NAMESPACE, &args);
    let input = Input {
        name: Arc::from("daemonset-tls"),
        kind: InputKind::Yaml,
        text,
    };
    let docs = parse_stream(&input);
    let objects: Vec<_> = docs.iter().filter_map(|d| as_object(d)?.ok()).collect();
    let mut r = Rendering {
        proxy_lua: String::new(),
        proxy_args: Vec::new(),
        mounts: Vec::new(),
        cache: Vec::new(),
        secrets: Vec::new(),
        test_script: String::new(),
        test_env: Vec::new(),
        test_mounts: Vec::new(),
    };
    for o in &objects {
        match &*o.kind {
            "ConfigMap" => {
                if let Some(l) = o.json.pointer("/data/proxy.lua").and_then(Value::as_str) {
                    r.proxy_lua = l.to_string();
                }
            }
            "Secret" => r.secrets.push(o.name.to_string()),
            "DaemonSet" => {
                let spec = o.json.pointer("/spec/template/spec").unwrap();
                let c = spec
                    .pointer("/containers/0")
                    .filter(|c| c["name"] == "memcached-proxy")
                    .expect("the proxy container");
                r.proxy_args = strings(c.get("args"));
                r.mounts = secret_mounts(spec, c);
            }
            "Pod" => {
                let spec = o.json.get("spec").unwrap();
                let c = spec.pointer("/containers/0").unwrap();
                r.test_script = strings(c.get("args")).concat();
                r.test_env = c["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["name"].as_str().unwrap().to_string(),
                            e["value"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                r.test_mounts = secret_mounts(spec, c);
            }
            "StatefulSet" => {
                let c = o.json.pointer("/spec/template/spec/containers/0").unwrap();
                let args = strings(c.get("args"));
                let service = o.json.pointer("/spec/serviceName").unwrap();
                let port = flag(&args, "-p").unwrap_or_else(|| "11211".into());
                let replicas = o.json.pointer("/spec/replicas").unwrap().as_u64().unwrap();
                for i in 0..replicas {
                    r.cache.push((
                        format!(
                            "{}-{i}.{}.{NAMESPACE}.svc.cluster.local:{port}",
                            o.name,
                            service.as_str().unwrap()
                        ),
                        args.clone(),
                    ));
                }
            }
            _ => {}
        }
    }
    assert!(!r.proxy_lua.is_empty() && !r.proxy_args.is_empty() && !r.cache.is_empty());
    r
}

/// The Secret volumes container `c` of pod spec `spec` mounts.
fn secret_mounts(spec: &Value, c: &Value) -> Vec<SecretMount> {
    let volumes = spec["volumes"].as_array().unwrap_or(&[]);
    let mut out = Vec::new();
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let v = volumes.iter().find(|v| v["name"] == m["name"]).unwrap();
        let Some(secret) = v.get("secret") else {
            continue;
        };
        assert_eq!(m["readOnly"], true, "{m}: a Secret mounted writable");
        out.push(SecretMount {
            mount_path: m["mountPath"].as_str().unwrap().to_string(),
            secret: secret["secretName"].as_str().unwrap().to_string(),
            items: secret["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["key"].as_str().unwrap().to_string(),
                        i["path"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        });
    }
    out
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl (scripts/setup-memcached installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, signed
/// by the CA; returns the Secret keys' contents (`tls.crt`, `tls.key`,
/// `ca.crt`) of the server's Secret and the client's paths.
fn make_certificates(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
    );
    for (name, cn, ext) in [
        ("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"),
        ("client", "test-client", "extendedKeyUsage=clientAuth"),
    ] {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        let ext_file = format!("{name}.ext");
        std::fs::write(dir.join(&ext_file), format!("{ext}\n")).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext_file,
                "-out",
                &crt,
            ],
        );
    }
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    BTreeMap::from([
        ("tls.crt".to_string(), read("server.crt")),
        ("tls.key".to_string(), read("server.key")),
        ("ca.crt".to_string(), read("ca.crt")),
    ])
}

struct Cluster {
    cache: Vec<Server>,
    proxy: Server,
    dir: tempfile::TempDir,
}

/// Writes each Secret volume of `mounts` under `dir` as its `items` say,
/// with `secret`'s contents, and maps the mount paths in `args` there.
fn lay_out(
    r: &Rendering,
    mounts: &[SecretMount],
    secret: &BTreeMap<String, Vec<u8>>,
    dir: &Path,
    prefix: &str,
    args: &mut [String],
) {
    for (n, m) in mounts.iter().enumerate() {
        assert!(
            r.secrets.contains(&m.secret),
            "Secret {} is not in the rendering",
            m.secret
        );
        let local = dir.join(format!("{prefix}-{n}"));
        std::fs::create_dir(&local).unwrap();
        for (key, path) in &m.items {
            let content = secret
                .get(key)
                .unwrap_or_else(|| panic!("the test's Secret has no key {key}"));
            std::fs::write(local.join(path), content).unwrap();
        }
        let from = format!("{}/", m.mount_path.trim_end_matches('/'));
        let to = format!("{}/", local.display());
        for a in args.iter_mut() {
            *a = a.replace(&from, &to);
        }
    }
}

/// Starts the rendering with each Secret volume laid out under the temporary
/// directory as its `items` say, and the rendered paths mapped there.
fn start(r: &Rendering) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let secret = make_certificates(dir.path());
    let mut lua = r.proxy_lua.clone();
    let mut cache = Vec::new();
    for (i, (address, args)) in r.cache.iter().enumerate() {
        let port = free_port();
        let quoted = format!("\"{address}\"");
        assert!(
            lua.contains(&quoted),
            "the proxy config does not name {address}"
        );
        lua = lua.replace(&quoted, &format!("\"127.0.0.1:{port}\""));
        cache.push(start_memcached(
            &format!("cache-{i}"),
            port,
            &without_listen_flags(args),
            dir.path(),
        ));
    }
    std::fs::write(dir.path().join("proxy.lua"), &lua).unwrap();
    let mut args: Vec<String> = without_listen_flags(&r.proxy_args)
        .iter()
        .map(|a| a.replace("/etc/memcached/", &format!("{}/", dir.path().display())))
        .collect();
    lay_out(r, &r.mounts, &secret, dir.path(), "secret", &mut args);
    for a in &args {
        assert!(
            !a.contains("/etc/"),
            "a rendered path is not under a mounted volume: {a}"
        );
    }
    let proxy = start_memcached("proxy", free_port(), &args, dir.path());
    Cluster { cache, proxy, dir }
}

/// Runs `openssl s_client` against the proxy with `input` on its standard
/// input, trusting the test CA; returns what the server answered (and
/// s_client's errors), after at most 15 seconds.
fn tls_exchange(c: &Cluster, client_cert: bool, input: &str) -> String {
    let d = c.dir.path();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-quiet", "-verify_return_error", "-CAfile"])
        .arg(d.join("ca.crt"))
        .args(["-connect", &format!("127.0.0.1:{}", c.proxy.port)]);
    if client_cert {
        cmd.arg("-cert")
            .arg(d.join("client.crt"))
            .arg("-key")
            .arg(d.join("client.key"));
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a plain-text client gets from the proxy for a `set`.
fn plain_exchange(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"set plain 0 0 5\r\nhello\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn holders(c: &Cluster, key: &str) -> usize {
    c.cache
        .iter()
        .filter(|s| Client::connect(s.port).get(key).is_some())
        .count()
}

fn set_get(key: &str) -> String {
    format!("set {key} 0 0 5\r\nhello\r\nget {key}\r\nquit\r\n")
}

#[test]
fn the_tls_listener_refuses_plain_clients_and_serves_tls_clients_with_a_certificate() {
    let r = render(&[]);
    assert!(r.proxy_args.iter().any(|a| a == "-Z"), "{:?}", r.proxy_args);
    let c = start(&r);

    let plain = plain_exchange(c.proxy.port);
    assert!(
        !plain.contains("STORED"),
        "a plain client was served: {plain:?}"
    );

    let n = 20;
    for i in 0..n {
        let key = format!("tls:{i}");
        let got = tls_exchange(&c, true, &set_get(&key));
        assert!(
            got.starts_with("STORED\nVALUE ") && got.contains("\nhello\nEND\n"),
            "{key} through the TLS proxy: {got}\nproxy log: {}",
            c.proxy.log()
        );
        assert_eq!(
            holders(&c, &key),
            1,
            "{key} is not on exactly one cache pod"
        );
    }
    assert_eq!(holders(&c, "plain"), 0, "the plain client's set was stored");

    let refused = tls_exchange(&c, false, &set_get("no-cert"));
    assert!(
        !refused.contains("STORED"),
        "a client without a certificate was served: {refused}"
    );
    assert_eq!(holders(&c, "no-cert"), 0);
    eprintln!(
        "daemonset-tls: plain client refused ({} bytes back), {n} of {n} TLS set/get answered by a cache pod, client without a certificate refused",
        plain.len()
    );
}

#[test]
fn without_client_verification_a_tls_client_needs_no_certificate() {
    let r = render(&["--set", "proxy.tls.verifyClient=none"]);
    assert!(
        !r.proxy_args.iter().any(|a| a.contains("ssl_verify_mode")),
        "{:?}",
        r.proxy_args
    );
    let c = start(&r);
    let got = tls_exchange(&c, false, &set_get("anon"));
    assert!(
        got.starts_with("STORED\nVALUE anon 0 5\nhello\nEND\n"),
        "{got}\nproxy log: {}",
        c.proxy.log()
    );
    assert_eq!(holders(&c, "anon"), 1);
}

#[test]
fn the_helm_test_script_passes_over_tls_with_its_client_certificate() {
    let r = render(&[]);
    let c = start(&r);
    let d = c.dir.path();
    let read = |f: &str| std::fs::read(d.join(f)).unwrap();
    let client_secret = BTreeMap::from([
        ("tls.crt".to_string(), read("client.crt")),
        ("tls.key".to_string(), read("client.key")),
    ]);
    let mut env: Vec<String> = r.test_env.iter().map(|(_, v)| v.clone()).collect();
    lay_out(&r, &r.test_mounts, &client_secret, d, "test", &mut env);
    // The pod's `sh` is busybox ash, which has `$RANDOM`; Debian's dash has
    // not (the script runs under `set -u`), bash has.
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&r.test_script);
    for ((name, _), value) in r.test_env.iter().zip(env) {
        let value = if name == "TARGETS" {
            // The proxy Service's DNS name, on loopback here.
            format!("127.0.0.1:{}", c.proxy.port)
        } else {
            value
        };
        cmd.env(name, value);
    }
    assert!(
        r.test_env
            .iter()
            .any(|(n, v)| n == "CLIENT" && v.contains("s_client")),
        "{:?}",
        r.test_env
    );
    let out = cmd.output().expect("run the helm test script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.starts_with("ok   127.0.0.1:"),
        "helm test script: {text}{}\nproxy log: {}",
        String::from_utf8_lossy(&out.stderr),
        c.proxy.log()
    );
}
