//! Encodes every embedded schema (`schemas/v1.XX/*.json`) into the compact form
//! `src/schema/compact.rs` checks objects with, so a run loads it in
//! microseconds instead of parsing and compiling the JSON schema; compiles the
//! routelib model (`src/proxy/prelude.lua`) to Lua bytecode; and links the
//! binary at a fixed address on Linux. All three cut the fixed cost of a run.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/schema/encode.rs"]
mod encode;
#[allow(dead_code)]
#[path = "src/schema/quantity.rs"]
mod quantity;

fn main() {
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=src/schema/encode.rs");
    println!("cargo:rerun-if-changed=src/schema/quantity.rs");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    compile_prelude(&root, &out);
    let mut entries: Vec<(String, String, PathBuf)> = Vec::new();
    for dir in sorted(&root.join("schemas")) {
        let Some(version) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
            .map(str::to_string)
        else {
            continue;
        };
        if !dir.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", dir.display());
        for file in sorted(&dir) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.ends_with(".json") && name != "index.json" {
                entries.push((version.clone(), name, file));
            }
        }
    }
    entries.sort();
    write_kind_index(&root, &out);
    let mut blob = Vec::new();
    let mut index = String::from(
        "/// `(version, schema file, start, end)` of each compact form in `BLOB`.\n\
         static INDEX: &[(&str, &str, usize, usize)] = &[\n",
    );
    for (version, name, path) in &entries {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(bytes) = encode::encode(&value, quantity::PATTERN) else {
            continue;
        };
        let start = blob.len();
        blob.extend_from_slice(&bytes);
        index.push_str(&format!(
            "    ({version:?}, {name:?}, {start}, {}),\n",
            blob.len()
        ));
    }
    index.push_str("];\n");
    std::fs::write(out.join("compact.bin"), blob).expect("write compact.bin");
    std::fs::write(out.join("compact_index.rs"), index).expect("write compact_index.rs");
}

/// `kind_index.rs`: every version's `index.json` (kind → the apiVersions
/// serving it) as a static table.
fn write_kind_index(root: &Path, out: &Path) {
    let mut rows: Vec<(String, String, Vec<String>)> = Vec::new();
    for dir in sorted(&root.join("schemas")) {
        let Some(version) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
        else {
            continue;
        };
        let path = dir.join("index.json");
        if !path.is_file() {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kinds = value
            .get("kinds")
            .and_then(|k| k.as_object())
            .unwrap_or_else(|| panic!("{}: no `kinds` map", path.display()));
        for (kind, served) in kinds {
            let mut list: Vec<String> = Vec::new();
            for v in served
                .as_array()
                .unwrap_or_else(|| panic!("{}: `kinds.{kind}` is not a list", path.display()))
            {
                let v = v.as_str().unwrap_or_else(|| {
                    panic!("{}: `kinds.{kind}` holds a non-string", path.display())
                });
                if !list.iter().any(|e| e == v) {
                    list.push(v.to_string());
                }
            }
            rows.push((version.to_string(), kind.clone(), list));
        }
    }
    rows.sort();
    let mut text = String::from(
        "/// `(version, kind, apiVersions serving it)` of each embedded `index.json`.\n\
         static KIND_INDEX: &[(&str, &str, &[&str])] = &[\n",
    );
    for (version, kind, served) in rows {
        text.push_str(&format!("    ({version:?}, {kind:?}, &{served:?}),\n"));
    }
    text.push_str("];\n");
    std::fs::write(out.join("kind_index.rs"), text).expect("write kind_index.rs");
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
}

/// `prelude.luac`: the routelib model (`src/proxy/prelude.lua`) compiled to
/// Lua bytecode, under the chunk name the VM gives it, with its debug
/// information (names and lines as parsed), so that a run loads it instead of
/// parsing 760 lines of Lua. The bytecode is the host's; a VM that cannot
/// load it (another Lua, another word size) parses the text instead.
fn compile_prelude(root: &Path, out: &Path) {
    println!("cargo:rerun-if-changed=src/proxy/prelude.lua");
    let path = root.join("src/proxy/prelude.lua");
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytecode = lua_bytecode(&source, "=mclint-routelib-model")
        .unwrap_or_else(|e| panic!("src/proxy/prelude.lua: {e}"));
    std::fs::write(out.join("prelude.luac"), bytecode).expect("write prelude.luac");
}

/// Compiles `source` (text only) and dumps the function with its debug
/// information, as `mlua::Function::dump(false)` does.
fn lua_bytecode(source: &str, name: &str) -> Result<Vec<u8>, String> {
    use mlua_sys as ffi;
    use std::ffi::{CStr, CString, c_int, c_void};

    unsafe extern "C-unwind" fn write(
        _: *mut ffi::lua_State,
        block: *const c_void,
        len: usize,
        out: *mut c_void,
    ) -> c_int {
        if !out.is_null() && len > 0 {
            // SAFETY: `out` is the Vec passed to lua_dump below, `block` holds `len` bytes.
            unsafe {
                let out = &mut *(out as *mut Vec<u8>);
                out.extend_from_slice(std::slice::from_raw_parts(block as *const u8, len));
            }
        }
        0
    }

    let name = CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: a fresh state used on this thread only and closed before
    // returning; the stack holds the chunk (or its error) at index -1.
    unsafe {
        let state = ffi::luaL_newstate();
        if state.is_null() {
            return Err("cannot create a Lua state".to_string());
        }
        let status = ffi::luaL_loadbufferx(
            state,
            source.as_ptr().cast(),
            source.len(),
            name.as_ptr(),
            c"t".as_ptr(),
        );
        let result = if status == ffi::LUA_OK {
            let mut out: Vec<u8> = Vec::new();
            match ffi::lua_dump(state, write, (&mut out as *mut Vec<u8>).cast(), 0) {
                0 => Ok(out),
                code => Err(format!("lua_dump failed ({code})")),
            }
        } else {
            let message = ffi::lua_tolstring(state, -1, std::ptr::null_mut());
            Err(if message.is_null() {
                format!("does not compile (status {status})")
            } else {
                CStr::from_ptr(message).to_string_lossy().into_owned()
            })
        };
        ffi::lua_close(state);
        result
    }
}
