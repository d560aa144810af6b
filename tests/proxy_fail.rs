//! `mclint route --fail BACKEND` against the real proxy: the share of reads and
//! writes that fail or miss with one backend down must be what the real
//! memcached 1.6.38 proxy does with that backend stopped, key for key.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::*;

/// What the proxy answered.
#[derive(Debug, PartialEq)]
enum Outcome {
    Hit,
    Miss,
    Error,
}

struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l.trim_end().to_string()
    }

    fn get(&mut self, key: &str) -> Outcome {
        self.writer
            .write_all(format!("get {key}\r\n").as_bytes())
            .unwrap();
        let head = self.line();
        if head == "END" {
            return Outcome::Miss;
        }
        if let Some(rest) = head.strip_prefix("VALUE ") {
            let len: usize = rest.rsplit(' ').next().unwrap().parse().unwrap();
            let mut buf = vec![0; len + 2];
            self.reader.read_exact(&mut buf).unwrap();
            assert_eq!(self.line(), "END");
            return Outcome::Hit;
        }
        assert!(
            head.contains("ERROR"),
            "unexpected reply to get {key}: {head}"
        );
        Outcome::Error
    }

    fn set(&mut self, key: &str) -> Outcome {
        self.writer
            .write_all(format!("set {key} 0 0 1\r\nv\r\n").as_bytes())
            .unwrap();
        let reply = self.line();
        match reply.as_str() {
            "STORED" => Outcome::Hit,
            r if r.contains("ERROR") => Outcome::Error,
            r => panic!("unexpected reply to set {key}: {r}"),
        }
    }
}

/// `mclint route --fail` as JSON: (route, command) → (hit, miss, error) counts.
fn model(
    config: &std::path::Path,
    down: &str,
    n: usize,
    key: Option<&str>,
) -> Vec<(String, String, [usize; 3])> {
    let mut cmd = mclint();
    cmd.args(["route", "--config"]).arg(config).args([
        "--fail",
        down,
        "--stats",
        &n.to_string(),
        "--format",
        "json",
    ]);
    if let Some(k) = key {
        cmd.args(["--key", k]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let count = |f: &str| (r[f].as_f64().unwrap() * n as f64).round() as usize;
            (
                r["route"].as_str().unwrap().to_string(),
                r["command"].as_str().unwrap().to_string(),
                [count("hit"), count("miss"), count("error")],
            )
        })
        .collect()
}

/// `mclint route --fail` for a route whose answer depends on the worker
/// thread: the set error count in the model's order, and its range.
fn unordered_range(
    config: &std::path::Path,
    down: &str,
    n: usize,
    key: &str,
) -> (usize, usize, usize) {
    let out = mclint()
        .args(["route", "--config"])
        .arg(config)
        .args([
            "--fail",
            down,
            "--stats",
            &n.to_string(),
            "--format",
            "json",
            "--key",
            key,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let route = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["command"] == "set")
        .unwrap_or_else(|| panic!("no set route in {v}"));
    let count = |x: &serde_json::Value| (x.as_f64().unwrap() * n as f64).round() as usize;
    assert!(
        route["notes"].as_array().is_some_and(|a| !a.is_empty()),
        "no note on why the answer varies: {route}"
    );
    let range = &route["range"]["error"];
    (count(&route["error"]), count(&range[0]), count(&range[1]))
}

fn tally(outcomes: &[Outcome]) -> [usize; 3] {
    let mut t = [0; 3];
    for o in outcomes {
        t[match o {
            Outcome::Hit => 0,
            Outcome::Miss => 1,
            Outcome::Error => 2,
        }] += 1;
    }
    t
}

#[test]
fn fail_fractions_match_the_real_proxy_with_the_backend_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..8).map(|_| free_port()).collect();
    let mut servers: Vec<Server> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            start_memcached(&format!("b{i}"), p, &["-m".into(), "16".into()], dir.path())
        })
        .collect();
    let b = |i: usize| format!("127.0.0.1:{}", ports[i]);
    let config = dir.path().join("proxy.lua");
    std::fs::write(
        &config,
        format!(
            r#"settings {{ backend_connect_timeout = 1, backend_retry_waittime = 30 }}
pools {{
    shard = {{ backends = {{ "{}", "{}", "{}", "{}" }} }},
    set_copies = {{
        x = {{ options = {{ seed = "x" }}, backends = {{ "{}", "{}" }} }},
        y = {{ options = {{ seed = "y" }}, backends = {{ "{}", "{}" }} }},
    }},
}}
routes {{
    map = {{
        rep = cmdmap {{
            get = route_allfastest {{ children = "set_copies" }},
            all = route_allsync {{ children = {{ "set_copies_x", "set_copies_y" }} }},
        }},
        rev = cmdmap {{
            get = route_allfastest {{ children = "set_copies" }},
            all = route_allsync {{ children = {{ "set_copies_y", "set_copies_x" }} }},
        }},
        unordered = cmdmap {{
            get = route_allfastest {{ children = "set_copies" }},
            all = route_allsync {{ children = "set_copies" }},
        }},
    }},
    default = route_direct {{ child = "shard" }},
}}
"#,
            b(0),
            b(1),
            b(2),
            b(3),
            b(4),
            b(5),
            b(6),
            b(7)
        ),
    )
    .unwrap();
    let proxy = start_proxy("proxy", &config, dir.path());
    let proxy_port = proxy.port;
    let n = 2000;
    let sharded: Vec<String> = (0..n).map(|i| format!("key:{i}")).collect();
    let replicated: Vec<String> = (0..n).map(|i| format!("rep/{i}")).collect();
    let reversed: Vec<String> = (0..n).map(|i| format!("rev/{i}")).collect();
    let unordered: Vec<String> = (0..n).map(|i| format!("unordered/{i}")).collect();
    let mut client = Raw::connect(proxy_port);
    for k in sharded
        .iter()
        .chain(&replicated)
        .chain(&reversed)
        .chain(&unordered)
    {
        assert_eq!(client.set(k), Outcome::Hit);
    }

    // Shard 1 of the sharded pool and the first backend of copy x go down.
    servers[1].stop();
    servers[4].stop();
    let mut client = Raw::connect(proxy_port);
    let real_get = tally(&sharded.iter().map(|k| client.get(k)).collect::<Vec<_>>());
    let real_set = tally(&sharded.iter().map(|k| client.set(k)).collect::<Vec<_>>());
    let real_rep_get = tally(&replicated.iter().map(|k| client.get(k)).collect::<Vec<_>>());
    let real_rep_set = tally(&replicated.iter().map(|k| client.set(k)).collect::<Vec<_>>());
    let real_rev_set = tally(&reversed.iter().map(|k| client.set(k)).collect::<Vec<_>>());
    // One connection is served by one worker thread, which walks the set in
    // its own pairs() order: the answer is one of the orders mclint reports.
    let real_unordered_set = tally(&unordered.iter().map(|k| client.set(k)).collect::<Vec<_>>());

    let sharded_model = model(&config, &b(1), n, None);
    let replicated_model = model(&config, &b(4), n, Some("rep/"));
    let reversed_model = model(&config, &b(4), n, Some("rev/"));
    let find = |m: &[(String, String, [usize; 3])], route: &str, command: &str| {
        m.iter()
            .find(|(r, c, _)| r == route && c == command)
            .unwrap_or_else(|| panic!("no {route} {command} in {m:?}"))
            .2
    };
    let cases = [
        (
            "sharded get",
            real_get,
            find(&sharded_model, "default", "get"),
        ),
        (
            "sharded set",
            real_set,
            find(&sharded_model, "default", "set"),
        ),
        (
            "replicated get",
            real_rep_get,
            find(&replicated_model, "rep get", "get"),
        ),
        // allsync answers with its last child: copy y, which is up.
        (
            "replicated set, failed copy first",
            real_rep_set,
            find(&replicated_model, "rep all", "set"),
        ),
        // Now the failed copy x answers last.
        (
            "replicated set, failed copy last",
            real_rev_set,
            find(&reversed_model, "rev all", "set"),
        ),
    ];
    for (what, real, predicted) in &cases {
        eprintln!(
            "{what}: real proxy [hit, miss, error] = {real:?}, mclint route --fail = {predicted:?}"
        );
    }
    for (what, real, predicted) in cases {
        assert_eq!(
            real, predicted,
            "{what}: the real proxy and `mclint route --fail` disagree"
        );
    }
    let (base, lo, hi) = unordered_range(&config, &b(4), n, "unordered/");
    eprintln!(
        "set through allsync over a set name: real errors {}, mclint {base} in the model's order, {lo} to {hi} by worker thread",
        real_unordered_set[2]
    );
    assert!(
        lo < hi,
        "mclint must report that the answer depends on the worker thread"
    );
    assert!(
        real_unordered_set[2] == lo || real_unordered_set[2] == hi,
        "real proxy {real_unordered_set:?} is neither order mclint reports ({lo} or {hi} errors)"
    );
    // The outage is visible where it should be.
    assert!(real_get[2] > n / 8, "{real_get:?}");
    assert_eq!(real_rep_get[0], n);
    assert!(real_rev_set[2] > n / 4, "{real_rev_set:?}");
}

/// `mclint route ARGS` on a rendering written to `dir`: the run.
fn route(dir: &std::path::Path, rendered: &str, args: &[&str]) -> Run {
    let file = dir.join("rendered.yaml");
    std::fs::write(&file, rendered).unwrap();
    run(mclint().arg("route").arg(&file).args(args), b"")
}

fn ci_values(mode: &str) -> String {
    repo()
        .join(format!(
            "charts/distributed-memcached/ci/{mode}-values.yaml"
        ))
        .display()
        .to_string()
}

const POD1: &str = "cache-distributed-memcached-1";
const POD2: &str = "cache-distributed-memcached-2";

#[test]
fn fail_answers_for_the_given_keys_and_takes_pod_host_or_label() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = helm_template("cache", "cache", &["-f", &ci_values("daemonset")]);
    let host = format!("{POD1}.cache-distributed-memcached.cache.svc.cluster.local");
    let addr = format!("{host}:11211");
    // The same backend by address, host and pod name: the same answer.
    let mut answers = Vec::new();
    for name in [addr.as_str(), host.as_str(), POD1] {
        let out = route(
            dir.path(),
            &rendered,
            &[
                "--fail", name, "--key", "user:1", "--key", "user:2", "--format", "json",
            ],
        );
        assert_eq!(out.code, 0, "--fail {name}: {}", out.stderr);
        let lines: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // One line per key and command, then the summary over the given keys.
        assert_eq!(lines.len(), 5, "{}", out.stdout);
        let summary = &lines[4];
        assert_eq!(summary["keys"], 2, "{summary}");
        assert_eq!(summary["synthetic"], false, "{summary}");
        assert_eq!(summary["down_backends"][0], addr.as_str(), "{summary}");
        assert_eq!(summary["down"], name, "{summary}");
        let mut lines = lines;
        lines[4]["down"] = serde_json::Value::Null;
        answers.push(lines);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    // Each key's answer is where its pod is: an error for the key on pod 1.
    for line in &answers[0][..4] {
        let placed = run(
            mclint()
                .arg("route")
                .arg(dir.path().join("rendered.yaml"))
                .args(["--key", line["key"].as_str().unwrap(), "--format", "json"]),
            b"",
        );
        let p: serde_json::Value = serde_json::from_str(placed.stdout.trim()).unwrap();
        let on_pod1 = p["backends"][0]["backend"] == addr.as_str();
        assert_eq!(line["error"], if on_pod1 { 1.0 } else { 0.0 }, "{line} {p}");
    }
    let text = route(
        dir.path(),
        &rendered,
        &["--fail", POD1, "--key", "user:1", "--key", "user:2"],
    );
    insta::assert_snapshot!("fail_given_keys_text", text.snapshot());

    // Without keys or --stats there is nothing to answer for.
    let none = route(dir.path(), &rendered, &["--fail", POD1]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("give the keys"), "{}", none.stderr);
    // Unknown: the candidates are listed.
    let unknown = route(dir.path(), &rendered, &["--fail", "cache-9", "--key", "k"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("no backend has that address, host, pod name or label")
            && unknown.stderr.contains(POD2),
        "{}",
        unknown.stderr
    );
}

#[test]
fn fail_names_that_match_several_backends_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.lua");
    std::fs::write(
        &cfg,
        r#"pools { main = { backends = { "10.0.0.1:11211", "10.0.0.1:11212 spare", "10.0.0.2:11211" } } }
routes { default = route_direct { child = "main" } }"#,
    )
    .unwrap();
    let out = run(
        mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .args(["--fail", "10.0.0.1", "--key", "k"]),
        b"",
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "several backends match; name one (host:port): 10.0.0.1:11211, 10.0.0.1:11212"
        ),
        "{}",
        out.stderr
    );
    // A label names one.
    let out = run(
        mclint()
            .args(["route", "--proxy-config"])
            .arg(&cfg)
            .args(["--fail", "spare", "--stats", "100", "--format", "json"]),
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["down_backends"][0], "10.0.0.1:11212");
    assert_eq!(v["synthetic"], true);
}

#[test]
fn sidecar_failover_counts_the_local_cache_as_holding_only_recent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = helm_template("cache", "cache", &["-f", &ci_values("sidecar-failover")]);
    let out = route(
        dir.path(),
        &rendered,
        &["--fail", POD1, "--stats", "3000", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let get = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["command"] == "get")
        .unwrap();
    // The local cache holds another pod's writes no more than a restarted
    // one: reads of the down pod's keys (about a third) fail at the cluster.
    let err = get["error"].as_f64().unwrap();
    assert!((0.25..0.42).contains(&err), "{get}");
    let local = &get["local_cache"];
    assert_eq!(local["backends"][0], "127.0.0.1:11212", "{get}");
    assert_eq!(local["ttl"], "30", "{get}");
    assert_eq!(local["written_here_recently"]["hit"], 1.0, "{get}");
    let text = route(dir.path(), &rendered, &["--fail", POD1, "--stats", "3000"]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.contains(
            "the local cache 127.0.0.1:11212 holds only what this pod wrote in the last 30 s"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn sidecar_with_the_last_pod_down_says_the_reply_and_where_the_data_is() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = helm_template("cache", "cache", &["-f", &ci_values("sidecar")]);
    let out = route(
        dir.path(),
        &rendered,
        &["--fail", POD2, "--stats", "500", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let set = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["command"] == "set")
        .unwrap();
    // routelib's allsync answers with its last child: the down pod's error.
    assert_eq!(set["error"], 1.0, "{set}");
    // Yet the two other pods stored every key.
    assert_eq!(
        set["copies"],
        serde_json::json!([{"stored": 2, "of": 3, "share": 1.0}]),
        "{set}"
    );
    let text = route(
        dir.path(),
        &rendered,
        &["--fail", POD2, "--key", "session:9"],
    );
    insta::assert_snapshot!("fail_sidecar_last_pod_text", text.snapshot());
}
