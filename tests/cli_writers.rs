//! One fixed set of findings through every writer (snapshots), plus checks
//! that each output is what its consumers parse: SARIF 2.1.0 against a schema
//! written from the OASIS specification, JUnit as XML, GitHub workflow
//! commands by the runner's escaping rules.

use mclint::check::{Checked, Report};
use mclint::finding::{Finding, ObjectRef, Severity};
use mclint::finding::{How, TemplateLine as Mapped};
use mclint::report::{self, Format, TextStyle};
use mclint::rules::RULES;
use serde_json::{Value, json};

fn object(kind: &str, ns: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: Some(
            if kind == "StatefulSet" {
                "apps/v1"
            } else {
                "v1"
            }
            .into(),
        ),
        kind: Some(kind.into()),
        namespace: ns.map(Into::into),
        name: Some(name.into()),
    }
}

fn finding(
    rule: &'static str,
    severity: Severity,
    message: &str,
    obj: Option<ObjectRef>,
    (file, document, source, path, line): (&str, Option<usize>, Option<&str>, &str, Option<u32>),
) -> Finding {
    let mut f = Finding::new(rule, severity, message);
    f.object = obj;
    f.location.file = file.into();
    f.location.document = document;
    f.location.source = source.map(Into::into);
    f.location.path = path.into();
    f.location.line = line;
    f.help = mclint::rules::find(rule).map(|r| r.fix.into());
    f
}

const SVC_SRC: &str = "distributed-memcached/templates/cache-service.yaml";
const STS_SRC: &str = "distributed-memcached/templates/cache-statefulset.yaml";

/// The fixed report: helm output in `rendered.yaml`, a plain manifest file, and
/// standard input; every severity, a suppressed finding, and a message with
/// every character some format must escape.
fn report() -> Report {
    let svc = object("Service", Some("cache"), "memcached");
    let sts = object("StatefulSet", Some("cache"), "memcached");
    let cm = object("ConfigMap", None, "proxy, \"edge\"");
    let findings = vec![
        finding(
            "service-selects-no-pods",
            Severity::Error,
            "Service cache/memcached selects `app=memcached`: 100% <missing> & \"unmatched\", see below\r\nsecond line",
            Some(svc.clone()),
            (
                "rendered.yaml",
                Some(2),
                Some(SVC_SRC),
                "/spec/selector",
                Some(57),
            ),
        ),
        finding(
            "port-number-undeclared",
            Severity::Warning,
            "the readinessProbe of container `memcached` probes port 11311, which no container of the pod declares",
            Some(sts.clone()),
            (
                "rendered.yaml",
                Some(3),
                Some(STS_SRC),
                "/spec/template/spec/containers/0/readinessProbe/tcpSocket/port",
                Some(131),
            ),
        ),
        finding(
            "duplicate-container-port",
            Severity::Error,
            "containers `proxy` and `memcached` both declare port 11211/TCP",
            Some(sts.clone()),
            (
                "rendered.yaml",
                Some(3),
                Some(STS_SRC),
                "/spec/template/spec/containers/1/ports/0/containerPort",
                Some(150),
            ),
        ),
        finding(
            "configmap-not-rendered",
            Severity::Info,
            "volume `config` uses ConfigMap `x`, which is not in the rendering",
            Some(cm.clone()),
            (
                "./manifests/app dir/app.yaml",
                Some(0),
                None,
                "/spec/volumes/0/configMap/name",
                Some(12),
            ),
        ),
        finding(
            "yaml-syntax",
            Severity::Error,
            "invalid YAML: tabs disallowed (line 4, column 1)",
            None,
            ("<stdin>", Some(1), None, "", Some(4)),
        ),
        {
            let mut f = finding(
                "duplicate-object",
                Severity::Error,
                "Service cache/memcached is defined twice",
                Some(svc.clone()),
                (
                    "rendered.yaml",
                    Some(2),
                    Some(SVC_SRC),
                    "/metadata/name",
                    Some(48),
                ),
            );
            f.suppressed = true;
            f
        },
    ];
    let checked = vec![
        Checked {
            file: "rendered.yaml".into(),
            document: Some(1),
            source: Some("distributed-memcached/templates/serviceaccount.yaml".into()),
            line: Some(30),
            object: Some(object("ServiceAccount", Some("cache"), "memcached")),
        },
        Checked {
            file: "rendered.yaml".into(),
            document: Some(2),
            source: Some(SVC_SRC.into()),
            line: Some(45),
            object: Some(svc),
        },
        Checked {
            file: "rendered.yaml".into(),
            document: Some(3),
            source: Some(STS_SRC.into()),
            line: Some(75),
            object: Some(sts),
        },
        Checked {
            file: "./manifests/app dir/app.yaml".into(),
            document: Some(0),
            source: None,
            line: Some(1),
            object: Some(cm),
        },
        Checked {
            file: "<stdin>".into(),
            document: Some(1),
            source: None,
            line: Some(3),
            object: None,
        },
        Checked {
            file: "proxy.lua".into(),
            ..Checked::default()
        },
    ];
    Report {
        findings,
        documents: 5,
        objects: 4,
        configs: 1,
        suppressed: 1,
        skipped: 0,
        checked,
    }
}

fn render(format: Format, style: &TextStyle) -> String {
    let mut out = Vec::new();
    report::write(format, &mapped_report(), style, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// [`report`] with template lines as `template_lines::enrich` finds them: the
/// Service's selector on its template's line; the probe port in a named
/// template that the StatefulSet template includes; the suppressed duplicate
/// on the key holding an include. The duplicate port is left unmapped (line 1,
/// with a note).
fn mapped_report() -> Report {
    let mut report = report();
    let lines = &mut report.findings;
    let mapped = |file: &str, line, end_line, how, via: Option<(&str, u32)>| {
        Box::new(Mapped {
            file: file.to_string(),
            line,
            end_line,
            how,
            via: via.map(|(f, l)| (f.to_string(), l)),
            looked_in: Some("charts/distributed-memcached".into()),
        })
    };
    lines[0].template = Some(mapped(
        "templates/cache-service.yaml",
        14,
        None,
        How::Line,
        None,
    ));
    lines[1].template = Some(mapped(
        "templates/_cache.tpl",
        44,
        None,
        How::Line,
        Some(("templates/cache-statefulset.yaml", 69)),
    ));
    lines[5].template = Some(mapped(
        "templates/cache-service.yaml",
        5,
        Some(6),
        How::Enclosing,
        None,
    ));
    report
}

fn plain() -> TextStyle {
    TextStyle::default()
}

#[test]
fn text() {
    insta::assert_snapshot!(render(Format::Text, &plain()));
}

#[test]
fn text_in_colour() {
    let s = render(
        Format::Text,
        &TextStyle {
            color: true,
            ..TextStyle::default()
        },
    );
    assert!(s.contains("\x1b[1;31merror\x1b[0m"), "{s}");
    assert!(s.contains("\x1b[1;33mwarning\x1b[0m"), "{s}");
    assert!(s.contains("\x1b[1;36minfo\x1b[0m"), "{s}");
    assert!(!render(Format::Text, &plain()).contains('\x1b'));
}

#[test]
fn json() {
    insta::assert_snapshot!(render(Format::Json, &plain()));
}

/// SARIF with the parts that change whenever a rule is added or reworded (the
/// rule table, `ruleIndex`, the version) replaced; they are checked below.
fn stable_sarif(style: &TextStyle) -> Value {
    let mut v: Value = serde_json::from_str(&render(Format::Sarif, style)).unwrap();
    let run = &mut v["runs"][0];
    run["tool"]["driver"]["rules"] =
        json!("[the rule table: checked by sarif_rules_are_the_rule_table]");
    run["tool"]["driver"]["version"] = json!("[version]");
    run["tool"]["driver"]["semanticVersion"] = json!("[version]");
    for r in run["results"].as_array_mut().unwrap() {
        r["ruleIndex"] = json!("[index]");
    }
    v
}

#[test]
fn sarif() {
    insta::assert_snapshot!(serde_json::to_string_pretty(&stable_sarif(&plain())).unwrap());
}

#[test]
fn sarif_with_a_chart_dir() {
    let v = stable_sarif(&TextStyle {
        chart_dir: Some("deploy/memcached".into()),
        ..plain()
    });
    let uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r.pointer("/locations/0/physicalLocation/artifactLocation/uri")?
                .as_str()
        })
        .collect();
    assert_eq!(
        uris,
        [
            "deploy/memcached/templates/cache-service.yaml",
            "deploy/memcached/templates/_cache.tpl",
            "deploy/memcached/templates/cache-statefulset.yaml",
            "manifests/app%20dir/app.yaml",
            "deploy/memcached/templates/cache-service.yaml",
        ]
    );
    // The including line is a related location under the same chart directory.
    assert_eq!(
        v.pointer("/runs/0/results/1/relatedLocations/1/physicalLocation/artifactLocation/uri"),
        Some(&json!("deploy/memcached/templates/cache-statefulset.yaml"))
    );
}

#[test]
fn sarif_rules_are_the_rule_table() {
    let v: Value = serde_json::from_str(&render(Format::Sarif, &plain())).unwrap();
    let driver = &v["runs"][0]["tool"]["driver"];
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    for (d, r) in rules.iter().zip(RULES) {
        assert_eq!(d["id"], r.id);
        assert_eq!(d["shortDescription"]["text"], r.summary);
        assert_eq!(d["help"]["text"], r.fix);
        let level = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        assert_eq!(d["defaultConfiguration"]["level"], level, "{}", r.id);
    }
    for result in v["runs"][0]["results"].as_array().unwrap() {
        let i = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], RULES[i].id);
    }
}

/// The parts of SARIF 2.1.0 (OASIS Standard, sections 3.13-3.30 and 3.49) that
/// mclint writes and code-scanning consumers rely on, as a JSON schema: required
/// properties, the `level` and `kind` vocabularies, positive line numbers,
/// `uri-reference` URIs, and no unknown top-level properties.
fn sarif_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["version", "runs"],
        "additionalProperties": false,
        "properties": {
            "$schema": {"type": "string", "format": "uri"},
            "version": {"const": "2.1.0"},
            "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
            "inlineExternalProperties": {"type": "array"},
            "properties": {"$ref": "#/$defs/propertyBag"}
        },
        "$defs": {
            "propertyBag": {"type": "object"},
            "message": {
                "type": "object",
                "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
                "properties": {
                    "text": {"type": "string"},
                    "markdown": {"type": "string"},
                    "id": {"type": "string"}
                }
            },
            "multiformatMessageString": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}}
            },
            "level": {"enum": ["none", "note", "warning", "error"]},
            "run": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {"driver": {"$ref": "#/$defs/toolComponent"}}
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {"executionSuccessful": {"type": "boolean"}}
                        }
                    },
                    "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                    "properties": {"$ref": "#/$defs/propertyBag"}
                }
            },
            "toolComponent": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "version": {"type": "string"},
                    "semanticVersion": {"type": "string"},
                    "informationUri": {"type": "string", "format": "uri"},
                    "rules": {"type": "array", "items": {"$ref": "#/$defs/reportingDescriptor"}}
                }
            },
            "reportingDescriptor": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "name": {"type": "string"},
                    "shortDescription": {"$ref": "#/$defs/multiformatMessageString"},
                    "fullDescription": {"$ref": "#/$defs/multiformatMessageString"},
                    "help": {"$ref": "#/$defs/multiformatMessageString"},
                    "helpUri": {"type": "string", "format": "uri"},
                    "defaultConfiguration": {
                        "type": "object",
                        "properties": {"level": {"$ref": "#/$defs/level"}, "enabled": {"type": "boolean"}}
                    },
                    "properties": {"$ref": "#/$defs/propertyBag"}
                }
            },
            "result": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "ruleId": {"type": "string"},
                    "ruleIndex": {"type": "integer", "minimum": -1},
                    "level": {"$ref": "#/$defs/level"},
                    "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
                    "message": {"$ref": "#/$defs/message"},
                    "locations": {"type": "array", "items": {"$ref": "#/$defs/location"}},
                    "relatedLocations": {"type": "array", "items": {"$ref": "#/$defs/location"}},
                    "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
                    "suppressions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind"],
                            "properties": {
                                "kind": {"enum": ["inSource", "external"]},
                                "status": {"enum": ["accepted", "underReview", "rejected"]},
                                "justification": {"type": "string"}
                            }
                        }
                    },
                    "properties": {"$ref": "#/$defs/propertyBag"}
                }
            },
            "location": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "minimum": -1},
                    "physicalLocation": {
                        "type": "object",
                        "anyOf": [{"required": ["artifactLocation"]}, {"required": ["address"]}],
                        "properties": {
                            "artifactLocation": {
                                "type": "object",
                                "properties": {
                                    "uri": {"type": "string", "format": "uri-reference"},
                                    "uriBaseId": {"type": "string"}
                                }
                            },
                            "region": {
                                "type": "object",
                                "properties": {
                                    "startLine": {"type": "integer", "minimum": 1},
                                    "startColumn": {"type": "integer", "minimum": 1},
                                    "endLine": {"type": "integer", "minimum": 1},
                                    "endColumn": {"type": "integer", "minimum": 1}
                                }
                            }
                        }
                    },
                    "logicalLocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "fullyQualifiedName": {"type": "string"},
                                "kind": {"type": "string"}
                            }
                        }
                    },
                    "message": {"$ref": "#/$defs/message"}
                }
            }
        }
    })
}

fn assert_valid_sarif(v: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&sarif_schema())
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
    // What the schema cannot say: relative URIs use `/`, and a code-scanning UI
    // resolves them against the repository root (no `./`, no `<stdin>`).
    for r in v["runs"][0]["results"].as_array().unwrap() {
        for loc in r["locations"].as_array().into_iter().flatten() {
            if let Some(uri) = loc
                .pointer("/physicalLocation/artifactLocation/uri")
                .and_then(Value::as_str)
            {
                assert!(
                    !uri.contains('\\') && !uri.starts_with("./") && !uri.contains('<'),
                    "{uri}"
                );
            }
        }
    }
}

#[test]
fn sarif_is_valid() {
    let v: Value = serde_json::from_str(&render(Format::Sarif, &plain())).unwrap();
    assert_valid_sarif(&v);
    // The schema does catch mistakes.
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]["level"] = json!("info");
    bad["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    let validator = jsonschema::options().build(&sarif_schema()).unwrap();
    assert_eq!(validator.iter_errors(&bad).count(), 2);
}

#[test]
fn junit() {
    insta::assert_snapshot!(render(Format::Junit, &plain()));
}

#[test]
fn junit_is_well_formed_and_counts_add_up() {
    let xml = render(Format::Junit, &plain());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rendered.yaml",
            "./manifests/app dir/app.yaml",
            "<stdin>",
            "proxy.lua"
        ]
    );
    let mut total = 0;
    let mut failures = 0;
    for s in &suites {
        let cases: Vec<_> = s
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let failed = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(s.attribute("tests").unwrap(), cases.len().to_string());
        assert_eq!(s.attribute("failures").unwrap(), failed.to_string());
        total += cases.len();
        failures += failed;
    }
    assert_eq!(root.attribute("tests").unwrap(), total.to_string());
    assert_eq!(root.attribute("failures").unwrap(), failures.to_string());
    // error + warning on the StatefulSet, error on the Service, yaml-syntax on stdin;
    // the info ConfigMap finding and the suppressed one are not failures.
    assert_eq!((total, failures), (6, 3));
    let svc = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("Service cache/memcached"))
        .unwrap();
    let failure = svc.children().find(|n| n.has_tag_name("failure")).unwrap();
    // Markup and line breaks survive in attributes (no normalisation to spaces).
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("100% <missing> & \"unmatched\", see below\r\nsecond line")
    );
    let out = svc
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap();
    assert!(
        out.text()
            .unwrap()
            .starts_with("suppressed: error[duplicate-object]")
    );
}

#[test]
fn github() {
    insta::assert_snapshot!(render(Format::Github, &plain()));
}

/// Undoes the runner's escaping, to prove nothing is lost or split.
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_commands_parse_as_the_runner_parses_them() {
    let out = render(Format::Github, &plain());
    let lines: Vec<&str> = out.lines().collect();
    // Five visible findings, one summary line; the suppressed finding is left out.
    assert_eq!(lines.len(), 6, "{out}");
    let first = lines[0];
    let (command, rest) = first[2..].split_once(' ').unwrap();
    assert_eq!(command, "error");
    let (props, message) = rest.split_once("::").unwrap();
    let props: Vec<(&str, String)> = props
        .split(',')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k, unescape(v))
        })
        .collect();
    assert_eq!(
        props[0],
        (
            "file",
            "charts/distributed-memcached/templates/cache-service.yaml".to_string()
        )
    );
    // The template's line, not the rendered one (which the message keeps).
    assert_eq!(props[1], ("line", "14".to_string()));
    assert_eq!(props[2].0, "title");
    let message = unescape(message);
    // A carriage return in a message is a line break, never a return to the
    // start of the line.
    assert!(
        message.starts_with(&report().findings[0].message.replace("\r\n", "\n")),
        "{message}"
    );
    assert!(!message.contains("%25"));
    assert!(
        message.contains("\n(rendered: rendered.yaml:57)\n"),
        "{message}"
    );
    // A line of a named template, with the line including it in the message.
    assert!(
        lines[1].contains("file=charts/distributed-memcached/templates/_cache.tpl,line=44,"),
        "{}",
        lines[1]
    );
    assert!(
        unescape(lines[1]).contains(
            "included at charts/distributed-memcached/templates/cache-statefulset.yaml:69)"
        )
    );
    // Unmapped: line 1 of the template, and the message says so.
    assert!(
        lines[2].contains("templates/cache-statefulset.yaml,line=1,"),
        "{}",
        lines[2]
    );
    assert!(unescape(lines[2]).contains("(template line unknown"));
    // No raw line breaks survive inside a command.
    assert!(lines.iter().take(5).all(|l| l.starts_with("::")));
    assert!(lines[1].starts_with("::warning "));
    assert!(lines[2].starts_with("::error "));
    assert!(lines[3].starts_with("::notice file=manifests/app dir/app.yaml,line=12,"));
    // Standard input without `# Source:` has no file to annotate.
    assert!(
        lines[4].starts_with("::error title=mclint yaml-syntax::"),
        "{}",
        lines[4]
    );
}

/// Findings whose every input-derived field is hostile: an OSC 52 clipboard
/// write and a colour change in an object name, a `# Source:` line and a
/// file name that carry a newline forging a summary line, a Lua error with a
/// carriage return, a bidi override, line separators and NEL, a pool name
/// with a CSI. Text and GitHub output escape them; JSON, SARIF and JUnit stay
/// valid documents that carry them as data.
fn hostile_report() -> Report {
    let obj = ObjectRef {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        namespace: Some("ns\u{1b}[8m".into()),
        name: Some("evil\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}".into()),
    };
    let findings = vec![
        finding(
            "proxy-lua-error",
            Severity::Error,
            "the config fails: pool `p\u{9b}2J` \r0 errors\u{2028}fake\u{85}x \u{202e}gnp.exe\u{2066} :: ,",
            Some(obj.clone()),
            (
                "rendered.yaml",
                Some(0),
                Some("c/templates/x.yaml\n\n0 documents, 0 objects: 0 errors, 0 warnings, 0 infos"),
                "/data/config.lua\u{1b}[2K",
                Some(3),
            ),
        ),
        finding(
            "yaml-syntax",
            Severity::Error,
            "invalid YAML\n::error file=forged.yaml::forged",
            None,
            ("in\u{1b}[31mput\r\n.yaml", Some(0), None, "", Some(1)),
        ),
    ];
    Report {
        checked: vec![Checked {
            file: "rendered.yaml".into(),
            document: Some(0),
            source: Some("c/templates/x.yaml\n".into()),
            line: Some(3),
            object: Some(obj),
        }],
        findings,
        documents: 2,
        objects: 1,
        configs: 0,
        suppressed: 0,
        skipped: 0,
    }
}

fn render_hostile(format: Format) -> String {
    let mut out = Vec::new();
    report::write(format, &hostile_report(), &plain(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn assert_terminal_safe(out: &str) {
    for c in out.chars() {
        assert!(
            c == '\n' || !mclint::report::escape::is_unsafe(c),
            "raw U+{:04X} in:\n{out}",
            c as u32
        );
    }
}

#[test]
fn hostile_text() {
    let out = render_hostile(Format::Text);
    assert_terminal_safe(&out);
    // The only summary is the real one, on the last line; no line of a
    // message starts at column 0.
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .count(),
        1,
        "{out}"
    );
    assert!(out.lines().last().unwrap().starts_with("2 documents"));
    insta::assert_snapshot!(out);
}

#[test]
fn hostile_github() {
    let out = render_hostile(Format::Github);
    assert_terminal_safe(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0]
            .starts_with("::error file=charts/c/templates/x.yaml\\n\\n0 documents%2C 0 objects%3A")
    );
    assert!(lines[1].starts_with("::error file=in\\u{1b}[31mput\\r\\n.yaml,line=1,title="));
    insta::assert_snapshot!(out);
}

#[test]
fn hostile_structured_outputs_stay_valid() {
    let json: Value = serde_json::from_str(&render_hostile(Format::Json)).unwrap();
    assert_eq!(
        json["findings"][0]["object"]["name"],
        json!("evil\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}")
    );
    let sarif: Value = serde_json::from_str(&render_hostile(Format::Sarif)).unwrap();
    assert_valid_sarif(&sarif);
    let junit = render_hostile(Format::Junit);
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        2
    );
    assert!(!junit.contains('\u{1b}') && !junit.contains('\u{7}'));
}
