//! Bad input: each case is a finding or a one-line error naming the file (and,
//! for a document, its number and line), never a panic, and the other
//! documents are still checked.

mod support;

use std::path::Path;

use support::{Run, mclint, run};

/// The YAML-level rules and one cross-object rule that proves later documents
/// are still checked; other rules stay out of these snapshots.
const RULES: &str =
    "yaml-syntax,yaml-duplicate-key,not-an-object,duplicate-object,service-selects-no-pods";

fn check_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    run(
        mclint()
            .current_dir(dir)
            .args(["check", "--color", "never", "--select", RULES])
            .args(args),
        stdin,
    )
}

fn no_panic(r: &Run) {
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.code == 0 || r.code == 1 || r.code == 2,
        "exit {}: {}",
        r.code,
        r.stderr
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_in(dir.path(), &["nope.yaml"], b"");
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn missing_file_beside_a_good_one_still_checks_the_good_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: none}\n",
    )
    .unwrap();
    let r = check_in(dir.path(), &["good.yaml", "nope.yaml"], b"");
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn directory_without_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    std::fs::write(dir.path().join("empty/README.md"), "no manifests here\n").unwrap();
    let r = check_in(dir.path(), &["empty"], b"");
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn binary_garbage_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(garbage.contains(&0));
    let r = check_in(dir.path(), &[], &garbage);
    no_panic(&r);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("mclint: <stdin>: "), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn control_characters_on_stdin_are_a_yaml_finding() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_in(dir.path(), &[], b"\x01\x02\x03: \x07\x1b[0m\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: none}\n");
    no_panic(&r);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn zero_byte_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.yaml"), "").unwrap();
    let r = check_in(dir.path(), &["empty.yaml"], b"");
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn non_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n",
    )
    .unwrap();
    let r = check_in(dir.path(), &["latin1.yaml"], b"");
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn empty_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_in(dir.path(), &[], b"");
    insta::assert_snapshot!(r.snapshot());
    // Comments and separators only (what a failed `helm template | mclint check` can leave).
    let r2 = check_in(
        dir.path(),
        &["-"],
        b"---\n# Source: c/templates/x.yaml\n---\n",
    );
    assert_eq!((r2.code, r2.stderr.as_str()), (r.code, r.stderr.as_str()));
}

#[test]
fn allow_empty() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_in(dir.path(), &["--allow-empty"], b"");
    insta::assert_snapshot!(r.snapshot());
    std::fs::write(dir.path().join("empty.yaml"), "").unwrap();
    assert_eq!(
        check_in(dir.path(), &["--allow-empty", "empty.yaml"], b"").code,
        0
    );
    // --allow-empty does not hide a file that cannot be read.
    assert_eq!(
        check_in(dir.path(), &["--allow-empty", "nope.yaml"], b"").code,
        2
    );
}

/// Every kind of broken document in one stream, each followed by a good one:
/// each is reported with its document number and line, and the Service at the
/// end (selecting nothing) shows the rest of the stream was still checked.
#[test]
fn broken_documents_in_one_stream() {
    let mut s = String::new();
    s.push_str("- a list\n- at the top\n---\n");
    s.push_str("just a scalar\n---\n");
    s.push_str("apiVersion: v1\nmetadata: {name: no-kind}\n---\n");
    s.push_str("apiVersion: v1\nkind: [Service]\nmetadata: {name: list-kind}\n---\n");
    s.push_str("apiVersion: v1\nkind: 42\nmetadata: {name: number-kind}\n---\n");
    s.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup-keys\ndata:\n  a: \"1\"\n  a: \"2\"\n---\n");
    s.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n---\n");
    s.push_str("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let p = i - 1;
        s.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    s.push_str("---\n");
    s.push_str(&format!(
        "deep: {}{}\n---\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    // Block nesting past the 256-level bound.
    s.push_str(&format!(
        "{}---\n",
        (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>()
    ));
    s.push_str("apiVersion: v1\nkind: Service\nmetadata: {name: still-checked}\nspec:\n  selector: {app: nobody}\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), &s).unwrap();
    let r = check_in(dir.path(), &["broken.yaml"], b"");
    no_panic(&r);
    insta::assert_snapshot!(r.snapshot());
}

/// A 50 MB ConfigMap (a few hundred thousand keys) is read in bounded time, and
/// a broken document after it is still found.
#[test]
fn fifty_megabyte_document() {
    let mut s = String::with_capacity(52_000_000);
    s.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    let value = "v".repeat(100);
    let mut i = 0;
    while s.len() < 50 * 1024 * 1024 {
        s.push_str(&format!("  key-{i}: \"{value}\"\n"));
        i += 1;
    }
    s.push_str("---\n- not an object\n");
    let lines = s.lines().count();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.yaml"), &s).unwrap();
    let start = std::time::Instant::now();
    let r = check_in(dir.path(), &["big.yaml"], b"");
    let took = start.elapsed();
    no_panic(&r);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("error[not-an-object] line {lines} (document 2)")),
        "{}",
        r.stdout
    );
    assert!(took < std::time::Duration::from_secs(120), "took {took:?}");
}

/// Runs `mclint check ARGS` in `dir` with no standard input, killing it after
/// a generous minute (a hang guard: a runaway read must not stall the suite).
fn check_guarded(dir: &Path, args: &[&str]) -> Run {
    use std::io::Read as _;
    let mut child = mclint()
        .current_dir(dir)
        .args(["check", "--color", "never", "--select", RULES])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mclint check {args:?} did not finish in 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

#[test]
fn devices_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_guarded(dir.path(), &["/dev/zero"]);
    no_panic(&r);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "mclint: /dev/zero: a character device, not a regular file; give a file, a directory, a pipe or `-` for standard input\n"
        )
    );
    // Through a link with a YAML name, too.
    std::os::unix::fs::symlink("/dev/urandom", dir.path().join("random.yaml")).unwrap();
    let r = check_guarded(dir.path(), &["random.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("mclint: random.yaml: a character device, not a regular file"),
        "{}",
        r.stderr
    );
}

#[test]
fn sockets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("s.yaml")).unwrap();
    let r = check_guarded(dir.path(), &["s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("mclint: s.yaml: a socket, not a regular file"),
        "{}",
        r.stderr
    );
}

/// A directory walk takes regular files only: a FIFO (which would block), a
/// socket, a link to a device and a link back to the directory are passed by.
#[test]
fn directory_walk_skips_special_files_and_loops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("rendered");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(
        d.join("sub/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: none}\n",
    )
    .unwrap();
    let fifo = d.join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let _listener = std::os::unix::net::UnixListener::bind(d.join("sock.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/loop")).unwrap();
    let r = check_guarded(dir.path(), &["rendered"]);
    no_panic(&r);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn a_pipe_given_by_name_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(&fifo, "apiVersion: v1\nkind: Service\nmetadata: {name: piped}\nspec:\n  selector: {app: none}\n").unwrap();
        })
    };
    let r = check_guarded(dir.path(), &["pipe"]);
    writer.join().unwrap();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Service piped"), "{}", r.stdout);
}

#[test]
fn inputs_over_the_size_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let doc =
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: none}\n";
    std::fs::write(dir.path().join("a.yaml"), doc).unwrap();
    std::fs::write(dir.path().join("b.yaml"), doc).unwrap();
    // One file fits, the two together do not.
    let limit = format!("{}", doc.len() + 10);
    let r = check_guarded(dir.path(), &["--max-input-size", &limit, "a.yaml"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = check_guarded(
        dir.path(),
        &["--max-input-size", &limit, "a.yaml", "b.yaml"],
    );
    insta::assert_snapshot!(r.snapshot());
    // Standard input has the same limit.
    let big = doc.repeat(2);
    let r = run(
        mclint().current_dir(dir.path()).args([
            "check",
            "--select",
            RULES,
            "--max-input-size",
            "100",
        ]),
        big.as_bytes(),
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "mclint: <stdin>: the inputs exceed the limit of 100 bytes (--max-input-size); raise the limit or check fewer files at once\n"
    );
    let r = run(mclint().args(["check", "--max-input-size", "12X"]), b"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown unit"), "{}", r.stderr);
}

/// File names are input too: an escape sequence in one does not reach the
/// terminal through an error message.
#[test]
fn hostile_file_names_are_escaped_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\u{1b}]52;c;aGk=\u{7}\n0 errors.yaml";
    let r = check_guarded(dir.path(), &[name]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "mclint: x\\u{1b}]52;c;aGk=\\u{7}\\n0 errors.yaml: no such file or directory\n"
    );
}
