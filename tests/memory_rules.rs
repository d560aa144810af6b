//! The memory rules decide on their own evidence: each combination of a limit
//! below the estimate, a unit slip, a request above its limit and a repeated
//! `-m`, alone and together, and with `--ignore` of either rule.

mod support;

use mclint::check::{CheckOptions, check};
use mclint::finding::Finding;
use mclint::manifest::read_inputs;

/// A cache Deployment with these memcached args and memory resources.
fn cache(args: &str, requests: Option<&str>, limits: Option<&str>) -> String {
    let mut resources = String::new();
    if let Some(r) = requests {
        resources.push_str(&format!(
            "            requests:\n              memory: {r}\n"
        ));
    }
    if let Some(l) = limits {
        resources.push_str(&format!("            limits:\n              memory: {l}\n"));
    }
    if !resources.is_empty() {
        resources = format!("          resources:\n{resources}");
    }
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
  namespace: cache
spec:
  replicas: 1
  selector:
    matchLabels:
      app: cache
  template:
    metadata:
      labels:
        app: cache
    spec:
      containers:
        - name: memcached
          image: memcached:1.6.38
          args: {args}
{resources}"
    )
}

fn findings(yaml: &str, ignore: &[&str]) -> Vec<Finding> {
    let (inputs, errors) = read_inputs(&[], &mut yaml.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    let options = CheckOptions {
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..CheckOptions::default()
    };
    options.validate().unwrap();
    check(&inputs, &options).findings
}

fn memory(findings: &[Finding]) -> Vec<&'static str> {
    let mut ids: Vec<_> = findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| r.starts_with("memory-"))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn one<'a>(findings: &'a [Finding], rule: &str) -> &'a Finding {
    let all: Vec<_> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(all.len(), 1, "{rule}: {findings:#?}");
    all[0]
}

const ARGS_1024: &str = r#"["-m", "1024", "-o", "read_buf_mem_limit=32"]"#;

#[test]
fn a_binary_limit_below_m_is_below_peak_only() {
    // The issue's case: 512Mi on -m 1024. No unit slipped.
    let yaml = cache(ARGS_1024, Some("512Mi"), Some("512Mi"));
    let all = findings(&yaml, &[]);
    assert_eq!(
        memory(&all),
        ["memory-limit-below-peak", "memory-request-below-cache"]
    );
    let f = one(&all, "memory-limit-below-peak");
    assert_eq!(
        f.location.path,
        "/spec/template/spec/containers/0/resources/limits/memory"
    );
    // Ignoring the unit rule hides nothing.
    assert_eq!(
        memory(&findings(&yaml, &["memory-unit-slip"])),
        ["memory-limit-below-peak", "memory-request-below-cache"]
    );
    assert_eq!(
        memory(&findings(
            &yaml,
            &["memory-limit-below-peak", "memory-request-below-cache"]
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn a_decimal_limit_below_m_is_both_and_each_survives_the_other_ignored() {
    let yaml = cache(ARGS_1024, Some("1100Mi"), Some("1024M"));
    let all = findings(&yaml, &[]);
    assert_eq!(
        memory(&all),
        [
            "memory-limit-below-peak",
            "memory-request-above-limit",
            "memory-request-below-cache",
            "memory-unit-slip"
        ]
    );
    let slip = one(&all, "memory-unit-slip");
    assert!(slip.message.contains("1024Mi"), "{}", slip.message);
    assert!(slip.message.contains("decimal"), "{}", slip.message);
    let help = slip.help.as_deref().unwrap();
    assert!(help.contains("binary suffix"), "{help}");
    assert!(!help.contains("-m as a plain number"), "{help}");
    assert!(help.ends_with('.'), "{help}");

    let without_slip = findings(&yaml, &["memory-unit-slip"]);
    assert!(memory(&without_slip).contains(&"memory-limit-below-peak"));
    assert!(!memory(&without_slip).contains(&"memory-unit-slip"));
    let without_peak = findings(&yaml, &["memory-limit-below-peak"]);
    assert!(memory(&without_peak).contains(&"memory-unit-slip"));
    assert!(!memory(&without_peak).contains(&"memory-limit-below-peak"));
}

#[test]
fn a_decimal_limit_above_m_but_below_peak_is_no_slip() {
    // 1100M is 1049 MiB: above -m 1024, below the ~1130 MiB peak.
    let all = findings(&cache(ARGS_1024, None, Some("1100M")), &[]);
    assert_eq!(memory(&all), ["memory-limit-below-peak"]);
}

#[test]
fn a_plain_number_is_a_slip_with_its_own_help() {
    let all = findings(&cache(ARGS_1024, None, Some("1024")), &[]);
    assert_eq!(
        memory(&all),
        ["memory-limit-below-peak", "memory-unit-slip"]
    );
    let slip = one(&all, "memory-unit-slip");
    assert!(slip.message.contains("no unit"), "{}", slip.message);
    assert!(
        slip.help
            .as_deref()
            .unwrap()
            .contains("Give limits.memory a unit"),
        "{:?}",
        slip.help
    );
    // Bytes written out in full are bytes, not a slip.
    let bytes = findings(&cache(ARGS_1024, None, Some("536870912")), &[]);
    assert_eq!(memory(&bytes), ["memory-limit-below-peak"]);
}

#[test]
fn a_unit_on_m_is_a_slip_only_and_its_help_names_the_number() {
    let all = findings(
        &cache(
            r#"["-m", "2g", "-o", "read_buf_mem_limit=32"]"#,
            Some("2300Mi"),
            Some("2600Mi"),
        ),
        &[],
    );
    let slip = one(&all, "memory-unit-slip");
    assert_eq!(
        slip.location.path,
        "/spec/template/spec/containers/0/args/1"
    );
    assert!(slip.help.as_deref().unwrap().contains("`-m 2048`"));
    assert!(!memory(&all).contains(&"memory-limit-below-peak"));
}

#[test]
fn a_request_above_its_limit_is_reported_with_or_without_other_rules() {
    // The issue's chart case: a request derived from -m 1024 over a pinned limit.
    let yaml = cache(ARGS_1024, Some("1129Mi"), Some("512Mi"));
    let all = findings(&yaml, &[]);
    let f = one(&all, "memory-request-above-limit");
    assert_eq!(
        f.location.path,
        "/spec/template/spec/containers/0/resources/requests/memory"
    );
    assert!(f.message.contains("1129Mi") && f.message.contains("512Mi"));
    assert!(memory(&all).contains(&"memory-limit-below-peak"));
    let ignored = findings(&yaml, &["memory-limit-below-peak", "memory-unit-slip"]);
    assert_eq!(memory(&ignored), ["memory-request-above-limit"]);
    // Equal quantities in different units are not above.
    let equal = findings(&cache(ARGS_1024, Some("1200Mi"), Some("1200Mi")), &[]);
    assert!(!memory(&equal).contains(&"memory-request-above-limit"));
}

#[test]
fn a_repeated_m_is_its_own_finding_and_the_last_one_sizes_memory() {
    // extraArgs -m 2048 after the chart's -m 1024; resources fit 1024 only.
    let yaml = cache(
        r#"["-m", "1024", "-o", "read_buf_mem_limit=32", "-m", "2048"]"#,
        Some("1200Mi"),
        Some("1200Mi"),
    );
    let all = findings(&yaml, &[]);
    let rep = one(&all, "memory-option-repeated");
    assert_eq!(rep.location.path, "/spec/template/spec/containers/0/args/5");
    assert!(
        rep.message.contains("`-m 1024` (args[1])"),
        "{}",
        rep.message
    );
    assert!(
        rep.message.contains("`-m 2048` (args[5])"),
        "{}",
        rep.message
    );
    let peak = one(&all, "memory-limit-below-peak");
    assert!(peak.message.contains("-m 2048"), "{}", peak.message);
    // Each rule stands alone.
    assert_eq!(
        memory(&findings(
            &yaml,
            &["memory-limit-below-peak", "memory-request-below-cache"]
        )),
        ["memory-option-repeated"]
    );
    assert!(
        !memory(&findings(&yaml, &["memory-option-repeated"])).contains(&"memory-option-repeated")
    );
    assert!(
        memory(&findings(&yaml, &["memory-option-repeated"])).contains(&"memory-limit-below-peak")
    );
}

#[test]
fn every_spelling_of_a_repeat_counts_and_getopt_order_decides() {
    for (args, used) in [
        (r#"["--memory-limit=2048", "-m1024"]"#, "-m 1024"),
        (r#"["-m2048", "--memory-limit", "1024"]"#, "-m 1024"),
        (r#"["-vm2048", "--memory-l=1024"]"#, "-m 1024"),
        (r#"["-m", "1024", "-m", "2048"]"#, "-m 2048"),
    ] {
        let all = findings(&cache(args, None, Some("1200Mi")), &[]);
        let rep = one(&all, "memory-option-repeated");
        assert!(rep.message.contains(used), "{args}: {}", rep.message);
    }
    // -c, -t and -I too, and -o sub-options.
    let all = findings(
        &cache(
            r#"["-m", "1024", "-c", "512", "--conn-limit=4096", "-t", "2", "-t", "8", "-I", "1m", "-I2m", "-o", "read_buf_mem_limit=32", "-o", "hashpower=20,read_buf_mem_limit=64"]"#,
            None,
            Some("1300Mi"),
        ),
        &[],
    );
    let msgs: Vec<_> = all
        .iter()
        .filter(|f| f.rule == "memory-option-repeated")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    for needle in [
        "-c 2 times",
        "-t 2 times",
        "-I 2 times",
        "-o read_buf_mem_limit 2 times",
    ] {
        assert!(
            msgs.iter().any(|m| m.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
}

#[test]
fn ignore_on_the_command_line_keeps_the_other_rule() {
    let yaml = cache(ARGS_1024, None, Some("1024M"));
    let out = support::run(
        support::mclint().args([
            "check",
            "--format",
            "json",
            "--ignore",
            "memory-unit-slip",
            "-",
        ]),
        yaml.as_bytes(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rules: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(
        rules.contains(&"memory-limit-below-peak".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&"memory-unit-slip".to_string()),
        "{rules:?}"
    );
}
