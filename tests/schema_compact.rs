//! The compact first check of the schemas never calls an object valid that the
//! full validator (`jsonschema`) calls invalid, on every object of the schema
//! corpus, the rule fixtures and, when present, the real-world manifests
//! (`../shared/realworld-manifests/`), against the oldest and the newest
//! Kubernetes version; and it decides nearly every valid object alone, which
//! is what makes a chart lint cheap.

use std::path::{Path, PathBuf};

use mclint::manifest::{objects_in, parse_stream, read_inputs};
use mclint::rendering::Settings;
use mclint::schema::{self, Lookup};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![
        root.join("tests/corpus/valid"),
        root.join("tests/corpus/invalid"),
        root.join("tests/fixtures"),
    ];
    let realworld = root.join("../shared/realworld-manifests");
    if realworld.join("index.jsonl").is_file() {
        paths.push(realworld);
    } else {
        eprintln!("../shared/realworld-manifests is not here; the other inputs only");
    }
    paths
}

#[test]
fn the_compact_check_never_calls_an_invalid_object_valid() {
    let (inputs, errors) = read_inputs(&inputs(), &mut std::io::empty());
    assert!(errors.is_empty(), "{errors:?}");
    let versions = schema::supported_versions();
    for version in [versions[0], versions[versions.len() - 1]] {
        let settings = Settings {
            kube_version: Some(version.to_string()),
            ..Settings::default()
        };
        let set = schema::load(&settings).unwrap();
        let (mut objects, mut valid, mut decided, mut invalid) = (0, 0, 0, 0);
        for input in &inputs {
            for doc in parse_stream(input) {
                for obj in objects_in(&doc) {
                    let Lookup::Schema(file) = set.lookup(&obj.api_version, &obj.kind) else {
                        continue;
                    };
                    let compiled = set.compiled(&file).unwrap();
                    let (compact, full) = compiled.verdicts(obj.json);
                    let full = full.unwrap();
                    objects += 1;
                    if compact == Some(true) {
                        assert!(
                            full,
                            "{version} {}: {} {}: called valid by the compact check, invalid by the full one",
                            input.name, obj.kind, obj.name
                        );
                    }
                    if full {
                        valid += 1;
                        decided += usize::from(compact == Some(true));
                    } else {
                        invalid += 1;
                    }
                }
            }
        }
        eprintln!(
            "{version}: {objects} objects, {invalid} invalid, {valid} valid of which the compact check decided {decided}"
        );
        assert!(objects > 500 && invalid > 50, "{version}: too few objects");
        // Floats where integers are wanted and the like go to the full check;
        // nearly everything else is decided without it.
        assert!(
            decided * 100 >= valid * 98,
            "{version}: the compact check decided only {decided} of {valid} valid objects"
        );
    }
}

/// Every JSON pointer of `value`'s fields and list items, in document order.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", escape(k));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

/// `value` with the field at `pointer` replaced (`Some`) or removed (`None`),
/// or renamed (`rename`: a misspelling).
fn mutated(
    value: &serde_json::Value,
    pointer: &str,
    with: Option<&serde_json::Value>,
    rename: bool,
) -> serde_json::Value {
    let mut out = value.clone();
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    match out.pointer_mut(parent).unwrap() {
        serde_json::Value::Object(map) => {
            let old = map.remove(&last).unwrap();
            if rename {
                map.insert(format!("{last}x"), old);
            } else if let Some(w) = with {
                map.insert(last, w.clone());
            }
        }
        serde_json::Value::Array(items) => {
            let i: usize = last.parse().unwrap();
            match with {
                Some(w) => items[i] = w.clone(),
                None => {
                    items.remove(i);
                }
            }
        }
        _ => unreachable!(),
    }
    out
}

#[test]
fn mutated_valid_objects_are_never_called_valid_wrongly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = [root.join("tests/corpus/valid"), root.join("tests/fixtures")];
    let (inputs, errors) = read_inputs(&paths, &mut std::io::empty());
    assert!(errors.is_empty(), "{errors:?}");
    let set = schema::load(&Settings::default()).unwrap();
    let replacements = [
        serde_json::json!("x"),
        serde_json::json!("1Gi"),
        serde_json::json!(7),
        serde_json::json!(-3),
        serde_json::json!(1.5),
        serde_json::json!(2.0),
        serde_json::json!(true),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!({"x": 1}),
    ];
    let (mut tried, mut caught) = (0, 0);
    for input in &inputs {
        for doc in parse_stream(input) {
            for obj in objects_in(&doc) {
                let Lookup::Schema(file) = set.lookup(&obj.api_version, &obj.kind) else {
                    continue;
                };
                let compiled = set.compiled(&file).unwrap();
                if compiled.verdicts(obj.json).1 != Ok(true) {
                    continue;
                }
                let json = obj.json.to_serde();
                let mut all = Vec::new();
                pointers(&json, String::new(), &mut all);
                // A spread of at most 12 fields per object, deep and shallow.
                let step = all.len().div_ceil(12).max(1);
                for pointer in all.iter().step_by(step) {
                    let mut cases: Vec<serde_json::Value> = replacements
                        .iter()
                        .map(|r| mutated(&json, pointer, Some(r), false))
                        .collect();
                    cases.push(mutated(&json, pointer, None, false));
                    if !pointer
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                    {
                        cases.push(mutated(&json, pointer, None, true));
                    }
                    for case in cases {
                        let (compact, full) = compiled.verdicts(&case.clone().into());
                        tried += 1;
                        if compact == Some(true) {
                            assert_eq!(
                                full,
                                Ok(true),
                                "{}: {} {} with {pointer} changed: called valid by the compact check",
                                input.name,
                                obj.kind,
                                obj.name
                            );
                        } else if full == Ok(false) {
                            caught += 1;
                        }
                    }
                }
            }
        }
    }
    eprintln!("{tried} mutated objects, {caught} invalid ones left to the full check");
    assert!(
        tried > 10_000 && caught > 3_000,
        "{tried} tried, {caught} caught"
    );
}
