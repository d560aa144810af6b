//! The files a config's `dofile` and `loadfile` can open.
//!
//! The proxy runs routelib's config with standard Lua, so `dofile(PATH)` opens
//! PATH as the memcached process does: an absolute path as it is, a relative
//! one against the process's working directory (not the config's directory;
//! measured with memcached 1.6.38). mclint confines what it opens to what it
//! can tell the proxy reaches:
//!
//! - in a manifest, a file mounted into the proxy container: the path is
//!   followed through `volumeMounts` to a ConfigMap key, as the config itself
//!   is (`manifest::FoundProxy::opener`); a relative path resolves against the
//!   container's `workingDir` and is a finding without one;
//! - for a config given alone (a `.lua` path), a file under the config's own
//!   directory, named by a relative path, as if the proxy ran in that
//!   directory. An absolute path, `..`, a link out of the directory, a device
//!   or other non-regular file, or a file over [`MAX_FILE`] is refused.
//!
//! A refusal is the Lua error the config gets (dofile raises it, loadfile
//! returns it), so the config's `proxy-lua-error` names the file, the line of
//! the call and the reason; nothing else of the machine running mclint is read.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::vm::Opened;

/// The largest file `dofile`/`loadfile` read for a config given alone.
pub const MAX_FILE: u64 = 4 << 20;

/// `path`'s parts with `.` and empty parts dropped; `..` and NUL refused.
pub fn parts(path: &str) -> Result<Vec<&str>, String> {
    if path.is_empty() {
        return Err("an empty file name".to_string());
    }
    if path.contains('\0') {
        return Err("the file name holds a NUL byte".to_string());
    }
    let mut out = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                return Err(
                    "the path goes up with `..`; mclint follows only paths that name the file directly"
                        .to_string(),
                );
            }
            p => out.push(p),
        }
    }
    if out.is_empty() {
        return Err("the path names a directory, not a file".to_string());
    }
    Ok(out)
}

/// The opener of a config given alone as the file `config` (`<stdin>` has no
/// directory, so it reaches nothing).
pub fn beside(config: &str) -> impl Fn(&str) -> Result<Opened, String> + use<> {
    let dir: Option<PathBuf> = if config == "<stdin>" || config == "-" {
        None
    } else {
        Some(
            Path::new(config)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        )
    };
    move |path: &str| match &dir {
        None => Err(
            "the config came from standard input, so mclint knows no directory to read files from"
                .to_string(),
        ),
        Some(dir) => open_beside(dir, path),
    }
}

fn open_beside(dir: &Path, path: &str) -> Result<Opened, String> {
    if path.starts_with('/') {
        return Err(format!(
            "an absolute path; for a config given alone mclint opens only files under the config's \
             directory ({}), named relative to it",
            dir.display()
        ));
    }
    let rel = parts(path)?;
    let mut full = dir.to_path_buf();
    for p in &rel {
        full.push(p);
    }
    if full.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err("the path goes up with `..`".to_string());
    }
    let shown = full.display().to_string();
    let root = dir
        .canonicalize()
        .map_err(|e| format!("the config's directory {}: {e}", dir.display()))?;
    let real = full.canonicalize().map_err(|e| format!("{shown}: {e}"))?;
    if !real.starts_with(&root) {
        return Err(format!(
            "{shown} leads out of the config's directory (to {}); mclint opens only files under it",
            real.display()
        ));
    }
    let mut file = std::fs::File::open(&real).map_err(|e| format!("{shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{shown}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!(
            "{shown} is larger than {} MiB, more than mclint reads for a config",
            MAX_FILE >> 20
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))?;
    Ok(Opened { name: shown, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_drop_dots_and_refuse_going_up() {
        assert_eq!(parts("./a//b/./c.lua").unwrap(), vec!["a", "b", "c.lua"]);
        assert!(parts("a/../b").is_err());
        assert!(parts("").is_err());
        assert!(parts("/").is_err());
        assert!(parts("a\0b").is_err());
    }

    #[test]
    fn beside_opens_only_files_under_the_directory() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("conf");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("frag.lua"), "x = 1").unwrap();
        std::fs::write(dir.join("sub/more.lua"), "y = 2").unwrap();
        std::fs::write(d.path().join("outside.lua"), "z = 3").unwrap();
        let config = dir.join("proxy.lua").display().to_string();
        let open = beside(&config);
        assert_eq!(open("frag.lua").unwrap().text, "x = 1");
        assert_eq!(open("./sub/more.lua").unwrap().text, "y = 2");
        assert!(open("../outside.lua").unwrap_err().contains(".."));
        let abs = d.path().join("outside.lua").display().to_string();
        assert!(open(&abs).unwrap_err().contains("absolute path"));
        assert!(open("missing.lua").is_err());
        assert!(open("sub").unwrap_err().contains("not a regular file"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("outside.lua"), dir.join("link.lua")).unwrap();
            assert!(open("link.lua").unwrap_err().contains("leads out"));
        }
        assert!(beside("<stdin>")("frag.lua").is_err());
    }
}
