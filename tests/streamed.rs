//! Large files `mclint check` reads as it goes (`src/streamed.rs`): the
//! same documents as the file's whole text gives, the same input errors,
//! and a clear error when the file changes between the two readings.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use mclint::manifest::{Document, Input, InputKind, InputLimits, read_inputs_with, read_sources};
use mclint::streamed::{self, STREAM_FROM_BYTES, Source};

fn whole(name: &str, text: &str) -> Vec<Document> {
    let input = Input {
        name: name.into(),
        kind: InputKind::Yaml,
        text: text.to_string(),
    };
    mclint::manifest::documents(&input).collect()
}

fn streamed_docs(path: &Path, name: &str) -> Vec<Document> {
    let file = std::fs::File::open(path).unwrap();
    let mut budget = u64::MAX / 2;
    mclint::manifest::open_large_file(name, path, file, &mut budget)
        .unwrap()
        .unwrap()
        .documents()
        .collect()
}

fn same(a: &[Document], b: &[Document], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: document count");
    for (x, y) in a.iter().zip(b) {
        let at = format!("{what}: document {}", x.index);
        assert_eq!(x.file, y.file, "{at}");
        assert_eq!(x.index, y.index, "{at}");
        assert_eq!(x.line, y.line, "{at}");
        assert_eq!(x.source, y.source, "{at}");
        assert!(x.value == y.value, "{at}: value");
        assert_eq!(x.lines, y.lines, "{at}: lines");
        assert_eq!(x.error(), y.error(), "{at}: error");
        assert_eq!(x.issues(), y.issues(), "{at}: issues");
        assert_eq!(x.root().is_some(), y.root().is_some(), "{at}: tree kept");
    }
}

/// Writes `bytes` to a new file in `dir`.
fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const EDGES: &[&str] = &[
    "",
    "\n\n",
    "---\n",
    "\n  \n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    "# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- \napiVersion: v1\nkind: Secret\nmetadata: {name: b}",
    "---\r\n# Source: c/templates/a.yaml\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\n",
    "\u{feff}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n",
    "\u{feff}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n",
    "---\n# Source: c/templates/a.yaml\na: 1\n...\n---\n# Source: c/templates/a.yaml\nb: [1, 2\n---\n# Source: c/templates/b.yaml\n- x\n",
    "---\tx\nkey: value\n----\nkey2: v\n---x\n",
    "a: |\n  ---\n  not a separator inside a block? it is, at column 0 only\n---\nb: 2\n",
    "key: [unclosed\n---\nk: v\nk: w\n",
];

#[test]
fn edge_cases_give_the_documents_the_whole_text_gives() {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in EDGES.iter().enumerate() {
        let path = file(dir.path(), &format!("e{i}.yaml"), text.as_bytes());
        // Reading a file whole drops a leading byte order mark.
        let read = text.strip_prefix('\u{feff}').unwrap_or(text);
        same(
            &whole("n.yaml", read),
            &streamed_docs(&path, "n.yaml"),
            &format!("edge {i} {text:?}"),
        );
    }
}

#[test]
fn lines_longer_than_a_block_give_the_documents_the_whole_text_gives() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(300_000);
    let texts = [
        format!("key: {long}\n---\na: 1\n"),
        format!("# {long}\n---\nb: [{long}]\n---\n"),
        format!("c: {long}"),
    ];
    for (i, text) in texts.iter().enumerate() {
        let path = file(dir.path(), &format!("l{i}.yaml"), text.as_bytes());
        same(
            &whole("l.yaml", text),
            &streamed_docs(&path, "l.yaml"),
            &format!("long {i}"),
        );
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn every_fixture_and_real_world_file_gives_the_same_documents() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests/fixtures", "tests/corpus", "tests/hostile-lua"] {
        yaml_files(&root.join(dir), &mut files);
    }
    yaml_files(&root.join("../shared/realworld-manifests"), &mut files);
    let mut compared = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        same(
            &whole("f", text),
            &streamed_docs(path, "f"),
            &path.display().to_string(),
        );
        compared += 1;
    }
    assert!(compared > 50, "only {compared} files compared");
}

/// A stream of `n` small objects, more than a megabyte for n >= 8,000.
fn stream(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: ns\ndata:\n  k: \"value {i} ü\"\n"
        ));
    }
    s
}

fn errors_of(paths: &[PathBuf], limits: &InputLimits) -> (Vec<String>, Vec<String>) {
    let (inputs, whole) = read_inputs_with(paths, &mut std::io::empty(), limits);
    let (sources, read) = read_sources(paths, &mut std::io::empty(), limits, true);
    let shown = |e: &[mclint::manifest::InputError]| e.iter().map(|e| e.to_string()).collect();
    assert_eq!(inputs.len(), sources.len(), "{paths:?}: inputs read");
    (shown(&whole), shown(&read))
}

#[test]
fn a_large_file_is_streamed_and_refused_as_reading_it_whole_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = stream(12_000);
    assert!(text.len() as u64 > STREAM_FROM_BYTES);
    let good = file(dir.path(), "good.yaml", text.as_bytes());
    streamed_file(&good);
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let bytes = text.as_bytes();
    let block = 64 << 10;
    // A two-byte `ü` across a block boundary is text, not an error.
    let u = text.find('ü').unwrap();
    let pad = (block - 1 - u % block + block - 2) % block + 2;
    let mut shifted = vec![b'#'; pad - 1];
    shifted.push(b'\n');
    shifted.extend_from_slice(bytes);
    assert_eq!((pad + u) % block, block - 1, "ü straddles a boundary");
    cases.push(("boundary".into(), shifted));
    for at in [
        0,
        5,
        block - 1,
        block,
        block + 1,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let mut b = bytes.to_vec();
        b[at] = 0xff;
        cases.push((format!("ff at {at}"), b.clone()));
        b[at] = 0;
        cases.push((format!("nul at {at}"), b));
    }
    // Not UTF-8 early, a NUL late: the NUL is what both report.
    let mut both = bytes.to_vec();
    both[10] = 0xc3;
    both[11] = b'(';
    both[bytes.len() - 3] = 0;
    cases.push(("both".into(), both));
    // A sequence cut by the end of the file.
    let mut cut = bytes.to_vec();
    cut.extend_from_slice(&[0xe2, 0x82]);
    cases.push(("cut at the end".into(), cut));
    for (what, b) in &cases {
        let path = file(dir.path(), "case.yaml", b);
        let (whole, read) = errors_of(&[path], &InputLimits::default());
        assert_eq!(whole, read, "{what}");
    }
    // Over the limit, alone and after another file.
    let small = InputLimits {
        max_bytes: bytes.len() as u64 - 1,
    };
    let (whole, read) = errors_of(std::slice::from_ref(&good), &small);
    assert_eq!(whole, read);
    assert_eq!(read.len(), 1);
    // A large file refused (a NUL at its end) still spends its bytes of the
    // budget, as reading it whole does: the next file is over the limit.
    let mut refused = bytes.to_vec();
    *refused.last_mut().unwrap() = 0;
    let refused = file(dir.path(), "a-refused.yaml", &refused);
    let after = file(dir.path(), "b-after.yaml", &bytes[..bytes.len() / 4]);
    let (whole, read) = errors_of(
        &[refused, after],
        &InputLimits {
            max_bytes: bytes.len() as u64 + 1000,
        },
    );
    assert_eq!(whole, read);
    assert_eq!(read.len(), 2, "{read:?}");
    let first = file(dir.path(), "a-first.yaml", b"a: 1\n");
    let (whole, read) = errors_of(
        &[first, good.clone()],
        &InputLimits {
            max_bytes: bytes.len() as u64,
        },
    );
    assert_eq!(whole, read);
    assert_eq!(read.len(), 1, "{read:?}");
}

fn streamed_file(path: &Path) -> streamed::StreamedFile {
    let (mut sources, errors) = read_sources(
        &[path.to_path_buf()],
        &mut std::io::empty(),
        &InputLimits::default(),
        true,
    );
    assert!(errors.is_empty(), "{errors:?}");
    match sources.pop() {
        Some(Source::File(f)) => f,
        _ => panic!("not streamed"),
    }
}

#[test]
fn a_file_that_changes_between_the_readings_ends_in_an_error_where_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let text = stream(12_000);
    let lines = text.lines().count() as u32;
    for (what, change) in [
        ("grew while mclint read it", 0),
        ("shrank while mclint read it", 1),
        ("not UTF-8 text", 2),
        ("it changed while mclint read it; run", 3),
    ] {
        let path = file(dir.path(), "s.yaml", text.as_bytes());
        let f = streamed_file(&path);
        let mut bytes = text.clone().into_bytes();
        match change {
            0 => bytes.extend_from_slice(b"---\na: 1\n"),
            1 => bytes.truncate(bytes.len() - 10),
            2 => {
                let at = bytes.len() / 2;
                bytes[at] = 0xff;
            }
            // The same length, still text, other bytes.
            _ => {
                let at = bytes.len() / 2;
                bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
            }
        }
        // Written in place: the open handle sees the new bytes.
        let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        w.write_all(&bytes).unwrap();
        if change == 1 {
            w.set_len(bytes.len() as u64).unwrap();
        }
        drop(w);
        let docs: Vec<Document> = f.documents().collect();
        let last = docs.last().unwrap();
        let e = last.error().expect("an error at the end");
        assert!(e.message.contains(what), "{what}: {}", e.message);
        assert!(e.message.contains("run mclint again"), "{}", e.message);
        assert!(
            e.line >= 2 && e.line <= lines + 3,
            "{what}: line {}",
            e.line
        );
        assert!(docs[..docs.len() - 1].iter().all(|d| d.error().is_none()));
        assert!(docs.len() > 1000);
    }
}

#[test]
fn check_reports_a_streamed_file_as_it_reports_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = stream(9_000);
    // Findings of both passes: a duplicate object, a broken document.
    text.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-7\n  namespace: ns\n---\nkey: [unclosed\n");
    let path = file(dir.path(), "big.yaml", text.as_bytes());
    let options = mclint::check::CheckOptions::default();
    let input = Input {
        name: path.display().to_string().into(),
        kind: InputKind::Yaml,
        text,
    };
    let a = mclint::check::check(std::slice::from_ref(&input), &options);
    let sources = vec![Source::File(streamed_file(&path))];
    let b = mclint::check::check_sources(sources, &options, None);
    assert!(a.findings.len() >= 2, "{:?}", a.findings);
    assert_eq!(a.findings, b.findings);
    assert_eq!((a.documents, a.objects), (b.documents, b.objects));
}

#[test]
fn a_streamed_file_is_read_again_for_template_lines_only_while_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let text = stream(12_000);
    let path = file(dir.path(), "r.yaml", text.as_bytes());
    let again = streamed_file(&path).reread();
    assert_eq!(again.read().map(|i| i.text), Some(text.clone()));
    // The same length, one byte changed: not what was checked.
    let mut changed = text.clone().into_bytes();
    let at = changed.len() / 3;
    changed[at] = if changed[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&path, &changed).unwrap();
    assert!(again.read().is_none());
    std::fs::write(&path, format!("{text}a: 1\n")).unwrap();
    assert!(again.read().is_none());
    std::fs::remove_file(&path).unwrap();
    assert!(again.read().is_none());
}

#[test]
fn the_template_line_writers_annotate_a_streamed_file_as_its_text_on_stdin() {
    let repo = support::repo();
    let fixture =
        std::fs::read_to_string(repo.join("tests/fixtures/proxy-zone-mismatch/fail.yaml")).unwrap();
    // The chart's documents after a megabyte of others: their rendered
    // lines are far into the file.
    let text = format!("{}{fixture}", stream(9_000));
    assert!(text.len() as u64 > STREAM_FROM_BYTES);
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "rendered.yaml", text.as_bytes());
    for format in ["github", "sarif", "json"] {
        let from_file = support::run(
            support::mclint().current_dir(&repo).args([
                "check",
                path.to_str().unwrap(),
                "-f",
                format,
                "--fail-on",
                "never",
            ]),
            b"",
        );
        let from_stdin = support::run(
            support::mclint().current_dir(&repo).args([
                "check",
                "-",
                "-f",
                format,
                "--fail-on",
                "never",
            ]),
            text.as_bytes(),
        );
        assert_eq!(from_file.code, 0, "{}", from_file.stderr);
        assert!(
            from_file.stdout.contains("templates/"),
            "{format}: no template line"
        );
        // Where findings land in the chart (and what they say), not the
        // input's name, which the writers show as given.
        let landed = |out: &str| -> Vec<String> {
            match format {
                "github" => out
                    .lines()
                    .filter(|l| l.starts_with("::"))
                    .map(|l| l.split(",title=").next().unwrap_or(l).to_string())
                    .collect(),
                "sarif" => {
                    let v: serde_json::Value = serde_json::from_str(out).unwrap();
                    v["runs"][0]["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| format!("{} {} {}", r["ruleId"], r["locations"], r["message"]))
                        .collect()
                }
                _ => {
                    let v: serde_json::Value = serde_json::from_str(out).unwrap();
                    v["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| {
                            format!(
                                "{} {} {} {}",
                                f["rule"], f["line"], f["template"], f["message"]
                            )
                        })
                        .collect()
                }
            }
        };
        let (a, b) = (landed(&from_file.stdout), landed(&from_stdin.stdout));
        assert!(!a.is_empty(), "{format}: no findings");
        assert_eq!(a, b, "{format}");
    }
}
