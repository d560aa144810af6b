//! API-server checks that depend on the Kubernetes version checked against.

mod support;

use support::{mclint, run};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27
      env:
        - name: cache/size
          value: \"64\"
";

fn check(version: &str) -> support::Run {
    run(
        mclint().args([
            "check",
            "--kube-version",
            version,
            "--select",
            "env-name-invalid",
            "--color",
            "never",
            "-",
        ]),
        POD.as_bytes(),
    )
}

/// `cache/size` is refused before Kubernetes 1.32 and accepted from it
/// (relaxed environment variable names, on by default from 1.32).
#[test]
fn env_names_follow_the_target_version() {
    let old = check("1.31");
    assert_eq!(old.code, 1, "{}{}", old.stdout, old.stderr);
    assert!(
        old.stdout.contains("environment variable name `cache/size` of container `web` is refused: Kubernetes 1.31 takes letters, digits"),
        "{}",
        old.stdout
    );
    let new = check("1.32");
    assert_eq!(new.code, 0, "{}{}", new.stdout, new.stderr);
}
