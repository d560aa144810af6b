//! `.mclint.yaml`: found like other linters find theirs (this directory, then
//! its parents), or named with `--config`.
//!
//! ```yaml
//! select: []                    # empty: every rule
//! ignore: [duplicate-object]
//! severity:
//!   memory-limit-oversized: warning
//! ```

use std::path::{Path, PathBuf};

use crate::check::CheckOptions;
use crate::finding::Severity;
use crate::yaml::{NodeKind, parse_document};

pub const FILE_NAME: &str = ".mclint.yaml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}: cannot read: {1}")]
    Read(String, String),
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: u32,
        message: String,
    },
}

/// Looks for `.mclint.yaml` from `start` upwards.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads a config file into check options (command-line flags are added on top).
pub fn load(path: &Path) -> Result<CheckOptions, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Read(file.clone(), e.to_string()))?;
    let invalid = |line: u32, message: String| ConfigError::Invalid {
        file: file.clone(),
        line,
        message,
    };
    let parsed = parse_document(&text, 1).map_err(|e| invalid(e.line, e.message))?;
    let mut opts = CheckOptions::default();
    let Some(root) = parsed.root else {
        return Ok(opts);
    };
    let NodeKind::Map(entries) = &root.kind else {
        return Err(invalid(root.line, "the config must be a mapping".into()));
    };
    for e in entries {
        match e.key.as_str() {
            "select" | "ignore" => {
                let NodeKind::Seq(items) = &e.value.kind else {
                    return Err(invalid(
                        e.key_line,
                        format!("`{}` must be a list of rule ids", e.key),
                    ));
                };
                let mut ids = Vec::new();
                for item in items {
                    let id = item
                        .as_str()
                        .ok_or_else(|| invalid(item.line, "a rule id must be a string".into()))?;
                    ids.push(id.to_string());
                }
                if e.key == "select" {
                    opts.select = ids;
                } else {
                    opts.ignore = ids;
                }
            }
            "severity" => {
                let NodeKind::Map(levels) = &e.value.kind else {
                    return Err(invalid(
                        e.key_line,
                        "`severity` must map rule ids to error, warning or info".into(),
                    ));
                };
                for l in levels {
                    let sev = l.value.as_str().and_then(Severity::parse).ok_or_else(|| {
                        invalid(
                            l.key_line,
                            format!("severity of `{}` must be error, warning or info", l.key),
                        )
                    })?;
                    opts.severity.insert(l.key.clone(), sev);
                }
            }
            other => {
                let near = crate::suggest::nearest(other, ["select", "ignore", "severity"])
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(invalid(e.key_line, format!("unknown key `{other}`{near}")));
            }
        }
    }
    opts.validate()
        .map_err(|e| invalid(root.line, e.to_string()))?;
    Ok(opts)
}
