//! Runs a routelib config in a sandboxed Lua 5.4 VM with mclint's own model of
//! routelib's configuration API (`prelude.lua`), and copies what it declared
//! into Rust values ([`Lv`]).
//!
//! The sandbox has only the base, table, string, math and utf8 libraries, minus
//! `collectgarbage` and `string.dump`; `load` accepts text only; `dofile` and
//! `loadfile` open only what an [`Opener`] hands out (the files the proxy could
//! open, never the linting machine's filesystem at large); `print` prints
//! nothing. A count hook stops a config that runs more
//! than [`Limits::instructions`] VM instructions or longer than
//! [`Limits::time`], and the allocator refuses memory past [`Limits::memory`].

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Table as LuaTable, Value, VmState};

use super::value::{Declared, Key, LuaFailure, Lv, RouteCall, Table, VmNote, ZoneDecl};

const PRELUDE: &str = include_str!("prelude.lua");
const PRELUDE_NAME: &str = "=mclint-routelib-model";

/// How far a config may go before it is stopped.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub instructions: u64,
    pub memory: usize,
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            instructions: 20_000_000,
            memory: 64 << 20,
            time: Duration::from_millis(800),
        }
    }
}

/// Where `local_zone_from_env` (and `os.getenv`) read from.
#[derive(Debug, Clone, Default)]
pub enum EnvSource {
    /// A config file given alone: the environment is not known, so the zone is
    /// left unresolved instead of failing.
    #[default]
    Unknown,
    /// The container's literal `env` entries.
    Known(BTreeMap<String, String>),
}

/// Source text of one chunk: a library from `proxy_config` or the config.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// A file `dofile`/`loadfile` opened: its name in messages and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub name: String,
    pub text: String,
}

/// What `dofile(path)` and `loadfile(path)` may open: the file the proxy
/// would read at `path`, or why it cannot (the text after "cannot open PATH: ").
pub type Opener<'a> = dyn Fn(&str) -> Result<Opened, String> + 'a;

/// How much opened text a run keeps for [`HandlerCall::files`].
const MAX_KEPT: usize = 1 << 20;

/// An [`Opener`] that opens nothing (no file is known to be reachable).
pub fn no_files(_: &str) -> Result<Opened, String> {
    Err("mclint knows no file this config can reach".to_string())
}

/// Runs `libs` then `config`; returns what was declared, or why it failed (with
/// what was declared up to that point). `dofile` and `loadfile` get their
/// files from `open`.
pub fn run(
    config: Chunk,
    libs: &[Chunk],
    env: &EnvSource,
    limits: Limits,
    open: &Opener,
) -> (Declared, Option<LuaFailure>) {
    match run_inner(config, libs, env, limits, open) {
        Ok(x) => x,
        Err(e) => (
            Declared::default(),
            Some(LuaFailure {
                file: config.name.to_string(),
                line: None,
                message: format!("the Lua sandbox could not start: {e}"),
                limit: false,
            }),
        ),
    }
}

type Notes = Rc<RefCell<Vec<VmNote>>>;
/// What the message handler saw: the raising frame (chunk index, line) and
/// the error's text.
type Raised = Option<(Option<(usize, u32)>, String)>;

/// The sandbox's accounting: instructions (and C work charged as
/// instructions), time, and the limit that stopped the config, if any. Once a
/// limit trips, every later hook call and every charge fails at once, and
/// `pcall`/`xpcall` rethrow, so the config cannot run again.
struct Guard {
    limits: Limits,
    started: Cell<CpuClock>,
    count: Cell<u64>,
    stopped: RefCell<Option<String>>,
    /// Where user code was when the hook or a charge last ran (chunk index,
    /// line): a memory error carries no position of its own.
    last_at: Cell<Option<(usize, u32)>>,
    /// `last_at` when the limit tripped: the error may surface later in the
    /// prelude (a rethrow) with no user frame on the stack.
    stopped_at: Cell<Option<(usize, u32)>>,
}

impl Guard {
    /// Records `why` as the limit that stopped the config (the first one
    /// wins) and returns the error that unwinds it.
    fn stop(&self, why: String) -> mlua::Error {
        let mut stopped = self.stopped.borrow_mut();
        if stopped.is_none() {
            self.stopped_at.set(self.last_at.get());
        }
        let msg = stopped.get_or_insert(why).clone();
        mlua::Error::runtime(msg)
    }

    fn stopped(&self) -> bool {
        self.stopped.borrow().is_some()
    }

    /// Adds `units` of work; fails when the config is over a limit.
    fn charge(&self, units: u64, what: Option<&str>) -> mlua::Result<()> {
        if let Some(msg) = self.stopped.borrow().as_ref() {
            return Err(mlua::Error::runtime(msg.clone()));
        }
        let limit = self.limits.instructions;
        let before = self.count.get();
        let after = before.saturating_add(units);
        self.count.set(after);
        if after > limit {
            return Err(self.stop(match what {
                Some(what) if units > limit / 4 => format!(
                    "{SANDBOX}{what} is more work than the sandbox allows (about {units} steps; \
                     the whole config may take {limit})"
                ),
                _ => format!(
                    "{SANDBOX}the config ran more than {limit} Lua instructions (an endless loop?)"
                ),
            }));
        }
        let mut clock = self.started.get();
        let over = clock.exceeds(self.limits.time);
        self.started.set(clock);
        if over {
            return Err(self.stop(format!(
                "{SANDBOX}the config ran longer than {} ms of CPU time (an endless loop?)",
                self.limits.time.as_millis()
            )));
        }
        Ok(())
    }
}

/// The time the config has run: the CPU time of this thread where the
/// platform has it, so that a loaded machine (a busy CI runner) does not stop
/// a config that a quiet one runs; wall time elsewhere.
///
/// Reading a thread's CPU time is a system call (the vDSO has only the wall
/// clocks), and the hook asks after every [`HOOK_STEP`] instructions. One
/// thread's CPU time never advances faster than wall time, so the last
/// reading plus the wall time since is a bound: while it stays within the
/// limit, the limit cannot have been passed and the CPU clock is not read.
/// It is read once the bound passes the limit (so a config is stopped exactly
/// when it would be by reading every time), and at least every
/// [`CPU_CLOCK_REFRESH`] of wall time, so the bound stays tight on a loaded
/// machine.
#[derive(Clone, Copy)]
struct CpuClock {
    #[cfg(unix)]
    start: Duration,
    /// CPU time run at the last reading (unix), and when that was.
    #[cfg(unix)]
    ran: Duration,
    #[cfg(unix)]
    read_at: Instant,
    #[cfg(not(unix))]
    start: Instant,
}

#[cfg(unix)]
const CPU_CLOCK_REFRESH: Duration = Duration::from_millis(1);

impl CpuClock {
    #[cfg(unix)]
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if r != 0 {
            return Duration::ZERO;
        }
        Duration::new(
            ts.tv_sec.max(0) as u64,
            ts.tv_nsec.clamp(0, 999_999_999) as u32,
        )
    }

    fn now() -> CpuClock {
        #[cfg(unix)]
        return CpuClock {
            start: Self::thread_cpu(),
            ran: Duration::ZERO,
            read_at: Instant::now(),
        };
        #[cfg(not(unix))]
        return CpuClock {
            start: Instant::now(),
        };
    }

    /// Whether the config has run longer than `limit`.
    fn exceeds(&mut self, limit: Duration) -> bool {
        #[cfg(unix)]
        {
            let now = Instant::now();
            let since = now.saturating_duration_since(self.read_at);
            if since < CPU_CLOCK_REFRESH && self.ran.saturating_add(since) <= limit {
                return false;
            }
            self.ran = Self::thread_cpu().saturating_sub(self.start);
            self.read_at = now;
            self.ran > limit
        }
        #[cfg(not(unix))]
        return self.start.elapsed() > limit;
    }
}

const SANDBOX: &str = "mclint sandbox: ";
const MEMORY_MESSAGE: &str =
    "mclint sandbox: the config allocated more memory than allowed (a runaway table or string?)";
/// Lua's own message for a failed allocation.
const LUA_MEMERR: &str = "not enough memory";
/// Instructions between two runs of the hook: small enough that C work inside
/// one instruction (copying or comparing long strings) cannot add up to much
/// before the clock is read again.
const HOOK_STEP: u32 = 100;

/// Longest message kept from the config (an error string can be megabytes).
const MAX_MESSAGE: usize = 400;

/// `s` cut to [`MAX_MESSAGE`] bytes (at a character boundary).
fn clip(s: &str) -> String {
    if s.len() <= MAX_MESSAGE {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &s[..end], s.len())
}

/// Every user chunk's name as Lua reports it ("=name"), libraries first.
struct ChunkNames(Vec<String>, Fragments);

/// Files `dofile`/`loadfile` loaded, by chunk name ("=name"): whether a
/// library (not the config) loaded them, directly or through another
/// fragment, so that what they define is in a worker thread's libraries too.
type Fragments = RefCell<BTreeMap<String, bool>>;

impl ChunkNames {
    fn new(names: Vec<String>) -> ChunkNames {
        ChunkNames(names, RefCell::new(BTreeMap::new()))
    }
    fn index(&self, source: &str) -> Option<usize> {
        self.0.iter().position(|n| n == source)
    }
    /// Whether code of chunk `source` is loaded by a worker thread: a
    /// library, or a fragment a library loaded.
    fn of_library(&self, source: &str, config_index: usize) -> Option<bool> {
        match self.index(source) {
            Some(i) => Some(i != config_index),
            None => self.1.borrow().get(source).copied(),
        }
    }
    /// Records that chunk `source` was loaded by the innermost user frame
    /// on the stack (a library, the config, or a fragment of either).
    fn loaded_from_stack(&self, lua: &Lua, source: String, config_index: usize) {
        let mut by_library = false;
        for level in 0..256 {
            let Some(src) = lua.inspect_stack(level, |d| d.source().source.map(|s| s.into_owned()))
            else {
                break;
            };
            if let Some(lib) = src.and_then(|s| self.of_library(&s, config_index)) {
                by_library = lib;
                break;
            }
        }
        let mut f = self.1.borrow_mut();
        let e = f.entry(source).or_insert(false);
        *e |= by_library;
    }
    fn plain(&self, i: usize) -> &str {
        &self.0[i][1..]
    }
}

/// The innermost stack frame that runs in a user chunk (config or library):
/// its chunk index and line. Frames of the prelude, of chunks made by `load`
/// and of C functions are skipped.
///
/// The hook asks this every [`HOOK_STEP`] instructions, so the frames are
/// read with Lua's C API: a frame's source name is compared where Lua keeps
/// it instead of being copied out (as `Lua::inspect_stack` does), and the
/// line is asked only of a user chunk's frame.
fn user_frame(lua: &Lua, names: &ChunkNames) -> Option<(usize, u32)> {
    let state = lua.exec_raw_lua(|raw| raw.state());
    for level in 0..256 {
        // SAFETY: `state` is the running thread of `lua`, which the caller
        // (a hook or a Rust function Lua called) holds; `ar` is written by
        // lua_getstack and read only after lua_getinfo filled it, and the
        // source it points to lives in the frame's function, on the stack
        // for as long as this loop does not return to Lua.
        unsafe {
            let mut ar: mlua::ffi::lua_Debug = std::mem::zeroed();
            if mlua::ffi::lua_getstack(state, level, &mut ar) == 0
                || mlua::ffi::lua_getinfo(state, c"S".as_ptr(), &mut ar) == 0
            {
                return None;
            }
            if ar.source.is_null() {
                continue;
            }
            let source = std::ffi::CStr::from_ptr(ar.source).to_bytes();
            // As `inspect_stack` reads it: a name that is not UTF-8 is
            // compared in its lossy form.
            let index = names
                .0
                .iter()
                .position(|n| n.as_bytes() == source)
                .or_else(|| {
                    std::str::from_utf8(source)
                        .is_err()
                        .then(|| names.index(&String::from_utf8_lossy(source)))
                        .flatten()
                });
            let Some(i) = index else { continue };
            if mlua::ffi::lua_getinfo(state, c"l".as_ptr(), &mut ar) == 0 || ar.currentline < 0 {
                continue;
            }
            return Some((i, u32::try_from(ar.currentline).unwrap_or(u32::MAX)));
        }
    }
    None
}

/// The text of an error value, without running any of the config's code (a
/// table's `__tostring` is not called) and without heap addresses.
fn error_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Error(e) => mlua_error_text(e),
        Value::Nil => "error object is nil".to_string(),
        other => format!("error object is a {} value", other.type_name()),
    }
}

fn mlua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => mlua_error_text(cause),
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => m.clone(),
        mlua::Error::MemoryError(_) => MEMORY_MESSAGE.to_string(),
        other => other.to_string(),
    }
}

fn is_memory_error(v: &Value) -> bool {
    match v {
        Value::String(s) => *s.as_bytes() == *LUA_MEMERR.as_bytes(),
        Value::Error(e) => {
            matches!(e.as_ref(), mlua::Error::MemoryError(_))
                || matches!(e.as_ref(), mlua::Error::CallbackError { cause, .. } if matches!(cause.as_ref(), mlua::Error::MemoryError(_)))
        }
        _ => false,
    }
}

/// A sandboxed Lua state with the prelude loaded, kept between the configs
/// a thread runs: making a state and loading the prelude's bytecode is most
/// of what a small config costs. Each config still starts from a world of its
/// own ([`ConfigVm::fresh_world`]): new globals, new library tables, a new
/// string metatable, the prelude run again into them and the random
/// generator reseeded. Nothing a config can reach is shared with the next
/// one: the pristine tables below are never handed to Lua code, functions
/// cannot be changed without the debug library (not loaded), finalizers are
/// refused, and a run that failed or ended big is not kept.
struct ConfigVm {
    lua: Lua,
    raw_xpcall: mlua::Function,
    prelude: mlua::Function,
    /// The globals as the sandbox made them (libraries included).
    globals: LuaTable,
    /// The string metatable as the string library made it.
    string_meta: LuaTable,
    /// How many entries the globals, the string metatable and each of
    /// [`LIBRARIES`] have (the copies are made at that size).
    sizes: [c_int; 2 + LIBRARIES.len()],
    /// Chunks this state compiled (name, text, main function), for configs
    /// that load the same library or config again: a main function is
    /// immutable, and each run gets new upvalues for everything but `_ENV`,
    /// which is set to the running config's globals.
    compiled: RefCell<Vec<(String, String, mlua::Function)>>,
    /// Memory in use when the state was new, and when it was last made
    /// ready again ([`ConfigVm::keep`]): what a kept state holds past a new
    /// one (its compiled chunks) is added to the next config's memory limit,
    /// so that a config has the same room whatever ran before it on the
    /// thread.
    new_used: usize,
    held: Cell<usize>,
    /// The world of the config that ran last is still to be collected: a
    /// state kept small is collected when it is taken for the next config
    /// (the same collection, of the same garbage, as at the end of the run:
    /// no Lua code runs in between), so the last run of a process is not
    /// collected for nothing.
    uncollected: Cell<bool>,
}

/// A seed for a config's random generator: drawn from the keys the
/// operating system gave the process, mixed with a count of the runs, so
/// that configs run one after another on a kept state do not see the same
/// numbers (Lua's own `randomseed()` mixes the time in seconds with the
/// state's address, which a kept state shares).
fn run_seed() -> (ffi::lua_Integer, ffi::lua_Integer) {
    use std::hash::BuildHasher;
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(std::collections::hash_map::RandomState::new);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (
        keys.hash_one((run, 0u8)) as ffi::lua_Integer,
        keys.hash_one((run, 1u8)) as ffi::lua_Integer,
    )
}

/// At most this many chunks are kept compiled, each of at most
/// [`COMPILED_TEXT`] bytes.
const COMPILED_CHUNKS: usize = 8;
const COMPILED_TEXT: usize = 256 << 10;

use mlua::ffi;
use std::ffi::c_int;

/// Leaves on the stack a new table of `size` entries holding the entries of
/// the table at `from`.
///
/// # Safety
/// `from` is a table on the stack of `state`, which has room for 4 values;
/// called where Lua errors are caught (`Lua::exec_raw`).
unsafe fn copy_table(state: *mut ffi::lua_State, from: c_int, size: c_int) {
    unsafe {
        let from = ffi::lua_absindex(state, from);
        ffi::lua_createtable(state, 0, size);
        let to = ffi::lua_gettop(state);
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, from) != 0 {
            ffi::lua_pushvalue(state, -2);
            ffi::lua_insert(state, -2);
            ffi::lua_rawset(state, to);
        }
    }
}

/// The entries of the table at `at`.
///
/// # Safety
/// As for [`copy_table`].
unsafe fn count_entries(state: *mut ffi::lua_State, at: c_int) -> c_int {
    unsafe {
        let at = ffi::lua_absindex(state, at);
        let mut n: c_int = 0;
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, at) != 0 {
            ffi::lua_pop(state, 1);
            n = n.saturating_add(1);
        }
        n
    }
}

/// Sets the `_ENV` of `f`, a main chunk (whose only upvalue it is), to
/// `env`. Closures the chunk made while it ran share that upvalue and see
/// the change: after a config, a kept chunk's `_ENV` is set to `nil`, so
/// that no world stays reachable through it.
fn set_chunk_env(lua: &Lua, f: &mlua::Function, env: Value) -> mlua::Result<()> {
    // SAFETY: the arguments are the function and the value (stack slots 1
    // and 2); lua_setupvalue pops the value, the function is dropped.
    unsafe {
        lua.exec_raw::<()>((f, env), |state| {
            ffi::lua_setupvalue(state, 1, 1);
            ffi::lua_settop(state, 0);
        })
    }
}

/// Which of [`LIBRARIES`] the value at `at` (a table's key) names.
///
/// # Safety
/// `at` is a valid index of the stack of `state`.
unsafe fn library_named(state: *mut ffi::lua_State, at: c_int) -> Option<usize> {
    unsafe {
        if ffi::lua_type(state, at) != ffi::LUA_TSTRING {
            return None;
        }
        let mut len = 0usize;
        let p = ffi::lua_tolstring(state, at, &mut len);
        let name = std::slice::from_raw_parts(p.cast::<u8>(), len);
        LIBRARIES.iter().position(|l| l.as_bytes() == name)
    }
}

/// The standard libraries a config sees as tables of the globals (copied
/// for each config; `os` is made for each config from its environment).
const LIBRARIES: [&str; 4] = ["string", "table", "math", "utf8"];

/// Memory a state may hold after a run and still be kept for the next one
/// (a state holding more is closed, its memory freed).
const KEEP_MEMORY: usize = 4 << 20;

/// For a process about to exit: the Lua state this thread keeps for the
/// next config is left to the operating system instead of being closed
/// (closing frees every object it holds, one at a time, for nothing). The
/// next config on this thread, if any, gets a new state.
pub fn abandon_kept_state() {
    let _ = CONFIG_VM.try_with(|c| {
        if let Ok(mut kept) = c.try_borrow_mut() {
            std::mem::forget(kept.take());
        }
    });
}

thread_local! {
    static CONFIG_VM: RefCell<Option<ConfigVm>> = const { RefCell::new(None) };
    /// States made for configs on this thread (tests check the reuse).
    static CONFIG_VMS_MADE: Cell<u64> = const { Cell::new(0) };
}

impl ConfigVm {
    fn new() -> mlua::Result<ConfigVm> {
        let (lua, raw_xpcall) = sandboxed_state(&None)?;
        let prelude = prelude_chunk(&lua)?;
        let globals = lua.globals();
        let string_meta = lua
            .type_metatable::<mlua::LuaString>()
            .ok_or_else(|| mlua::Error::runtime("the string library set no metatable"))?;
        let mut sizes = [0; 2 + LIBRARIES.len()];
        // SAFETY: the arguments are the two tables (stack slots 1 and 2);
        // each count pops what it pushed.
        let counted: mlua::MultiValue = unsafe {
            lua.exec_raw((&globals, &string_meta), |state| {
                let mut n = [0; 2 + LIBRARIES.len()];
                n[0] = count_entries(state, 1);
                n[1] = count_entries(state, 2);
                for (i, name) in LIBRARIES.iter().enumerate() {
                    ffi::lua_pushlstring(state, name.as_ptr().cast(), name.len());
                    if ffi::lua_rawget(state, 1) == ffi::LUA_TTABLE {
                        n[2 + i] = count_entries(state, -1);
                    }
                    ffi::lua_pop(state, 1);
                }
                ffi::lua_settop(state, 0);
                for k in n {
                    ffi::lua_pushinteger(state, ffi::lua_Integer::from(k));
                }
            })
        }?;
        for (slot, v) in sizes.iter_mut().zip(counted) {
            *slot = v
                .as_integer()
                .and_then(|k| c_int::try_from(k).ok())
                .unwrap_or(0);
        }
        CONFIG_VMS_MADE.with(|n| n.set(n.get() + 1));
        let new_used = lua.used_memory();
        Ok(ConfigVm {
            lua,
            raw_xpcall,
            prelude,
            globals,
            string_meta,
            sizes,
            compiled: RefCell::new(Vec::new()),
            new_used,
            held: Cell::new(new_used),
            uncollected: Cell::new(false),
        })
    }

    /// New globals for one config, installed where Lua looks for them (the
    /// registry, which `load` and chunks loaded from Rust read, and the
    /// loaded-modules table Lua names C functions from in messages): a copy
    /// of the pristine globals whose library tables are copies too, `_G`
    /// itself, an `os` over `env_map`, and a new string metatable indexing
    /// the new `string`. The random generator gets a new seed, as a new
    /// state would.
    fn fresh_world(&self, env_map: &Option<BTreeMap<String, String>>) -> mlua::Result<()> {
        let lua = &self.lua;
        let sizes = self.sizes;
        // SAFETY: the arguments are the pristine globals, the pristine string
        // metatable and the new `os` (stack slots 1, 2, 3); the copies are
        // made at slots 4 (globals) and 5 (string metatable) and returned in
        // slots 1 and 2.
        let (g, meta): (LuaTable, LuaTable) = unsafe {
            lua.exec_raw(
                (&self.globals, &self.string_meta, os_table(lua, env_map)?),
                |state| {
                    ffi::lua_createtable(state, 0, sizes[0]);
                    ffi::lua_pushnil(state);
                    while ffi::lua_next(state, 1) != 0 {
                        if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
                            // `_G` and `os` are set below.
                            let Some(i) = library_named(state, -2) else {
                                ffi::lua_pop(state, 1);
                                continue;
                            };
                            copy_table(state, -1, sizes[2 + i]);
                            ffi::lua_remove(state, -2);
                        }
                        ffi::lua_pushvalue(state, -2);
                        ffi::lua_insert(state, -2);
                        ffi::lua_rawset(state, 4);
                    }
                    ffi::lua_pushstring(state, c"_G".as_ptr());
                    ffi::lua_pushvalue(state, 4);
                    ffi::lua_rawset(state, 4);
                    ffi::lua_pushstring(state, c"os".as_ptr());
                    ffi::lua_pushvalue(state, 3);
                    ffi::lua_rawset(state, 4);
                    copy_table(state, 2, sizes[1]);
                    ffi::lua_pushstring(state, c"__index".as_ptr());
                    ffi::lua_pushstring(state, c"string".as_ptr());
                    ffi::lua_rawget(state, 4);
                    ffi::lua_rawset(state, 5);
                    ffi::lua_copy(state, 4, 1);
                    ffi::lua_copy(state, 5, 2);
                    ffi::lua_settop(state, 2);
                },
            )?
        };
        self.install(&g, meta)?;
        set_chunk_env(lua, &self.prelude, Value::Table(g.clone()))?;
        g.raw_get::<LuaTable>("math")?
            .raw_get::<mlua::Function>("randomseed")?
            .call::<()>(run_seed())?;
        Ok(())
    }

    /// Puts globals `g` (with their libraries) and string metatable `meta`
    /// where Lua looks for them: the registry's globals, which `load` and
    /// chunks loaded from Rust read, and the loaded-modules table Lua names
    /// C functions from in messages.
    fn install(&self, g: &LuaTable, meta: LuaTable) -> mlua::Result<()> {
        let lua = &self.lua;
        lua.set_type_metatable::<mlua::LuaString>(Some(meta));
        let loaded: LuaTable = lua.named_registry_value("_LOADED")?;
        loaded.raw_set("_G", g)?;
        for name in LIBRARIES {
            loaded.raw_set(name, g.raw_get::<Value>(name)?)?;
        }
        lua.set_globals(g.clone())
    }

    /// Back to what a new state is between runs: no hook, no memory limit,
    /// the pristine globals, string metatable and loaded modules where Lua
    /// looks for them (no Lua code runs until the next config's world
    /// replaces them), and the world of the config that ran collected, its
    /// memory given back for what runs next: at once when the state holds
    /// more than [`KEEP_MEMORY`], else when the next config takes it
    /// ([`ConfigVm::taken`]). `None` when the state must not be kept: the
    /// run failed, or the state, collected, still holds more than
    /// [`KEEP_MEMORY`]. The collector runs no Lua code (no finalizer exists).
    fn keep(self, clean: bool) -> Option<ConfigVm> {
        if !clean {
            return None;
        }
        let lua = &self.lua;
        lua.remove_hook();
        lua.set_memory_limit(0).ok()?;
        for f in
            std::iter::once(&self.prelude).chain(self.compiled.borrow().iter().map(|(_, _, f)| f))
        {
            set_chunk_env(lua, f, Value::Nil).ok()?;
        }
        self.install(&self.globals, self.string_meta.clone()).ok()?;
        if lua.used_memory() <= KEEP_MEMORY {
            // Kept whatever the collection gives back: collected when taken.
            self.uncollected.set(true);
            return Some(self);
        }
        lua.gc_collect().ok()?;
        self.held.set(lua.used_memory());
        (lua.used_memory() <= KEEP_MEMORY).then_some(self)
    }

    /// A kept state made ready for the next config: the world of the config
    /// that ran last collected and what the state then holds measured.
    fn taken(self) -> Option<ConfigVm> {
        if self.uncollected.replace(false) {
            self.lua.gc_collect().ok()?;
            self.held.set(self.lua.used_memory());
        }
        Some(self)
    }
}

fn run_inner(
    config: Chunk,
    libs: &[Chunk],
    env: &EnvSource,
    limits: Limits,
    open: &Opener,
) -> mlua::Result<(Declared, Option<LuaFailure>)> {
    let vm = match CONFIG_VM
        .with(|c| c.borrow_mut().take())
        .and_then(ConfigVm::taken)
    {
        Some(vm) => vm,
        None => ConfigVm::new()?,
    };
    let out = run_in_vm(&vm, config, libs, env, limits, open);
    let clean = matches!(&out, Ok((_, None)));
    if let Some(vm) = vm.keep(clean) {
        CONFIG_VM.with(|c| *c.borrow_mut() = Some(vm));
    }
    out
}

fn run_in_vm(
    vm: &ConfigVm,
    config: Chunk,
    libs: &[Chunk],
    env: &EnvSource,
    limits: Limits,
    open: &Opener,
) -> mlua::Result<(Declared, Option<LuaFailure>)> {
    let env_map = match env {
        EnvSource::Known(m) => Some(m.clone()),
        EnvSource::Unknown => None,
    };
    vm.fresh_world(&env_map)?;
    let (lua, raw_xpcall) = (&vm.lua, &vm.raw_xpcall);
    let names = Rc::new(ChunkNames::new(
        libs.iter()
            .map(|c| format!("={}", c.name))
            .chain(std::iter::once(format!("={}", config.name)))
            .collect(),
    ));
    let config_index = names.0.len() - 1;
    let guard = Rc::new(Guard {
        limits,
        started: Cell::new(CpuClock::now()),
        count: Cell::new(0),
        stopped: RefCell::new(None),
        last_at: Cell::new(None),
        stopped_at: Cell::new(None),
    });
    let notes: Notes = Rc::new(RefCell::new(Vec::new()));
    // `open` lives only as long as this call: the Lua function that calls it
    // is scoped to the run.
    let opened: RefCell<Vec<(String, String, String)>> = RefCell::new(Vec::new());
    lua.scope(|scope| {
        let open_fn = scope.create_function(|lua, path: mlua::LuaString| {
            let path = path.to_string_lossy();
            match open(&path) {
                Ok(f) => {
                    names.loaded_from_stack(lua, format!("={}", f.name), config_index);
                    let name = Value::String(lua.create_string(&f.name)?);
                    let text = Value::String(lua.create_string(&f.text)?);
                    // Kept for the worker threads' libraries (at most
                    // MAX_KEPT bytes in all; past it they cannot reopen).
                    let mut o = opened.borrow_mut();
                    let kept: usize = o.iter().map(|(_, _, t)| t.len()).sum();
                    if !o.iter().any(|(p, _, _)| *p == path) && kept + f.text.len() <= MAX_KEPT {
                        o.push((path, f.name, f.text));
                    }
                    Ok((name, text))
                }
                Err(why) => Ok((Value::Nil, Value::String(lua.create_string(clip(&why))?))),
            }
        })?;
        let (finish, metas, state) = load_prelude(
            lua,
            &vm.prelude,
            &names,
            config_index,
            &env_map,
            &notes,
            &guard,
            Some(open_fn),
        )?;

        // The limits hold from here until the state is closed or made ready
        // for the next config: through the config, the copy out, and closing.
        let room = Limits {
            memory: limits
                .memory
                .saturating_add(vm.held.get().saturating_sub(vm.new_used)),
            ..limits
        };
        arm_limits(lua, &guard, &names, room)?;
        let mut failure = run_chunks(
            lua,
            &vm.compiled,
            raw_xpcall,
            &guard,
            &names,
            config_index,
            libs.iter().chain(std::iter::once(&config)),
            &finish,
        )?;

        // Copying out runs no Lua code but needs a little memory for references.
        let _ = lua.set_memory_limit(limits.memory.max(lua.used_memory()) + (8 << 20));
        let mut conv = Converter {
            metas: &metas,
            path: Vec::new(),
            values: 0,
            bytes: 0,
        };
        let (declared, over) = declare(&mut conv, &state);
        let mut declared = declared?;
        if let Some(line) = over
            && failure.is_none()
        {
            failure = Some(LuaFailure {
                file: config.name.to_string(),
                line,
                message: conv.over_message(),
                limit: true,
            });
            declared = Declared::default();
        }
        declared.notes = notes.borrow().clone();
        declared.opened = opened.take();
        Ok((declared, failure))
    })
}

/// A Lua state with only what configs may use: `table`, `string`, `math`,
/// `utf8`, a silent `print` and an `os` holding `getenv` over the container's
/// literal `env`. Returns the state and the real `xpcall` (the prelude wraps
/// the one configs see).
fn sandboxed_state(
    env_map: &Option<BTreeMap<String, String>>,
) -> mlua::Result<(Lua, mlua::Function)> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8,
        LuaOptions::default(),
    )?;
    let globals = lua.globals();
    // dofile and loadfile are the prelude's, over an Opener.
    for name in ["dofile", "loadfile", "collectgarbage", "require"] {
        globals.raw_set(name, Value::Nil)?;
    }
    let string: LuaTable = globals.get("string")?;
    string.raw_set("dump", Value::Nil)?;
    globals.raw_set(
        "print",
        lua.create_function(|_, _: mlua::MultiValue| Ok(()))?,
    )?;
    let raw_xpcall: mlua::Function = globals.get("xpcall")?;
    globals.raw_set("os", os_table(&lua, env_map)?)?;
    Ok((lua, raw_xpcall))
}

/// `os` as configs see it: `getenv` over the container's literal `env`.
fn os_table(lua: &Lua, env_map: &Option<BTreeMap<String, String>>) -> mlua::Result<LuaTable> {
    let os = lua.create_table()?;
    let getenv_map = env_map.clone();
    os.raw_set(
        "getenv",
        lua.create_function(move |_, name: String| {
            Ok(getenv_map.as_ref().and_then(|m| m.get(&name).cloned()))
        })?,
    )?;
    Ok(os)
}

/// Runs the prelude (mclint's routelib model) with the functions it needs
/// from Rust: where the config is (line), its environment, a sink for notes
/// and the sandbox's guard. Returns the prelude's finish function, the
/// metatables that mark routes, cmdmaps and constants, and the state table
/// the config's declarations land in.
#[allow(clippy::too_many_arguments)]
fn load_prelude(
    lua: &Lua,
    prelude: &mlua::Function,
    names: &Rc<ChunkNames>,
    config_index: usize,
    env_map: &Option<BTreeMap<String, String>>,
    notes: &Notes,
    guard: &Rc<Guard>,
    open: Option<mlua::Function>,
) -> mlua::Result<(mlua::Function, Metas, LuaTable)> {
    let line_fn = {
        let names = names.clone();
        lua.create_function(move |lua, ()| {
            // The first frame in the config itself; else the first in any user chunk.
            let mut fallback = None;
            for level in 1..64 {
                let Some((src, line)) = lua.inspect_stack(level, |d| {
                    (d.source().source.map(|s| s.into_owned()), d.current_line())
                }) else {
                    break;
                };
                let Some(src) = src else { continue };
                match names.index(&src) {
                    Some(i) if i == config_index => return Ok(line.map(|l| l as u32)),
                    Some(_) if fallback.is_none() && line.is_some() => {
                        fallback = line.map(|l| l as u32);
                    }
                    _ => {}
                }
            }
            Ok(fallback)
        })?
    };
    let env_fn = {
        let env_map = env_map.clone();
        lua.create_function(move |lua, name: Value| {
            let name = match name {
                Value::String(s) => s.to_string_lossy(),
                _ => return Ok(Value::Nil),
            };
            Ok(match &env_map {
                None => Value::Boolean(false),
                Some(m) => match m.get(&name) {
                    Some(v) => Value::String(lua.create_string(v)?),
                    None => Value::Nil,
                },
            })
        })?
    };
    let note_fn = {
        let notes = notes.clone();
        lua.create_function(
            move |_, (kind, line, message): (String, Option<u32>, mlua::LuaString)| {
                notes.borrow_mut().push(VmNote {
                    kind,
                    line,
                    message: clip(&message.to_string_lossy()),
                });
                Ok(())
            },
        )?
    };
    let sandbox = sandbox_table(lua, guard, names)?;
    if let Some(open) = open {
        sandbox.raw_set("open", open)?;
    }
    // Whether a function was written in a library (what a worker thread of
    // the proxy loads), not in the config (`proxy_arg`, loaded only by the
    // configuration thread).
    let n = names.clone();
    sandbox.raw_set(
        "in_library",
        lua.create_function(move |_, f: Value| {
            Ok(match f {
                Value::Function(f) => f
                    .info()
                    .source
                    .as_deref()
                    .and_then(|s| n.of_library(s, config_index))
                    .unwrap_or(false),
                _ => false,
            })
        })?,
    )?;
    let prelude: mlua::MultiValue = prelude.call((line_fn, env_fn, note_fn, sandbox))?;
    let mut it = prelude.into_iter();
    let finish = match it.next() {
        Some(Value::Function(f)) => f,
        _ => {
            return Err(mlua::Error::runtime(
                "prelude did not return its finish function",
            ));
        }
    };
    let metas = Metas {
        route: table_of(it.next())?,
        cmdmap: table_of(it.next())?,
        constant: table_of(it.next())?,
    };
    let state = table_of(it.next())?;
    Ok((finish, metas, state))
}

/// The prelude compiled to bytecode by `build.rs` (with its debug
/// information, under [`PRELUDE_NAME`]).
static PRELUDE_BUILT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/prelude.luac"));

/// The prelude's bytecode dumped by this process, when the built one would
/// not load (a Lua that reads another bytecode format).
static PRELUDE_BYTECODE: OnceLock<Vec<u8>> = OnceLock::new();

/// The prelude as a function of `lua`. Parsing its source is most of a VM's
/// set-up, so a VM loads the bytecode `build.rs` compiled from the same text
/// (names and lines stay as parsed). Should this Lua refuse it, the source is
/// parsed once per process and later VMs load that parse's bytecode. The
/// bytecode is mclint's own; configs are only ever loaded as text.
fn prelude_chunk(lua: &Lua) -> mlua::Result<mlua::Function> {
    prelude_chunk_from(lua, PRELUDE_BUILT)
}

fn prelude_chunk_from(lua: &Lua, built: &[u8]) -> mlua::Result<mlua::Function> {
    let bytecode = PRELUDE_BYTECODE.get().map_or(built, Vec::as_slice);
    if let Ok(function) = lua
        .load(bytecode)
        .set_name(PRELUDE_NAME)
        .set_mode(mlua::chunk::ChunkMode::Binary)
        .into_function()
    {
        return Ok(function);
    }
    let function = prelude_from_text(lua)?;
    let _ = PRELUDE_BYTECODE.set(function.dump(false));
    Ok(function)
}

fn prelude_from_text(lua: &Lua) -> mlua::Result<mlua::Function> {
    lua.load(PRELUDE)
        .set_name(PRELUDE_NAME)
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
}

/// The prelude's view of the guard: charge C work before doing it, stop the
/// config, and rethrow a caught limit error.
fn sandbox_table(lua: &Lua, guard: &Rc<Guard>, names: &Rc<ChunkNames>) -> mlua::Result<LuaTable> {
    let sandbox = lua.create_table()?;
    let g = guard.clone();
    let n = names.clone();
    sandbox.raw_set(
        "charge",
        lua.create_function(move |lua, (units, what): (f64, Option<String>)| {
            if let Some(at) = user_frame(lua, &n) {
                g.last_at.set(Some(at));
            }
            // NaN and negatives come from arguments the C function refuses.
            let units = if units.is_nan() {
                u64::MAX
            } else {
                units.clamp(0.0, u64::MAX as f64) as u64
            };
            g.charge(units, what.as_deref())
        })?,
    )?;
    let g = guard.clone();
    sandbox.raw_set(
        "stop",
        lua.create_function(move |_, why: String| -> mlua::Result<()> {
            Err(g.stop(format!("{SANDBOX}{why}")))
        })?,
    )?;
    let g = guard.clone();
    sandbox.raw_set(
        "stopped",
        lua.create_function(move |_, ()| Ok(g.stopped()))?,
    )?;
    let g = guard.clone();
    sandbox.raw_set(
        "rethrow",
        lua.create_function(move |_, err: Value| {
            if is_memory_error(&err) {
                return Err(g.stop(MEMORY_MESSAGE.to_string()));
            }
            match g.stopped.borrow().as_ref() {
                Some(msg) => Err(mlua::Error::runtime(msg.clone())),
                None => Ok(()),
            }
        })?,
    )?;
    sandbox.raw_set(
        "has_metatable",
        lua.create_function(|_, v: Value| {
            Ok(match v {
                Value::Table(t) => t.metatable().is_some(),
                _ => false,
            })
        })?,
    )?;
    Ok(sandbox)
}

/// The memory limit and the instruction hook, on until the state is dropped.
fn arm_limits(
    lua: &Lua,
    guard: &Rc<Guard>,
    names: &Rc<ChunkNames>,
    limits: Limits,
) -> mlua::Result<()> {
    lua.set_memory_limit(limits.memory)?;
    let guard = guard.clone();
    let names = names.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(HOOK_STEP),
        move |lua, _| {
            // The running function (level 0) when it is user code, else the
            // innermost user frame below it (a prelude or C caller).
            let at = user_frame(lua, &names);
            if at.is_some() {
                guard.last_at.set(at);
            }
            guard.charge(u64::from(HOOK_STEP), None)?;
            Ok(VmState::Continue)
        },
    )
}

/// Runs the libraries, then the config, then the prelude's finish (unless a
/// limit tripped: custom handlers' `_conf` must not run again), each under
/// `xpcall` with a message handler written in Rust: it runs no Lua
/// instruction (so no hook can interrupt it), calls no metamethod of the
/// error value, and reads the position from the stack rather than from the
/// message. Returns the first failure.
#[allow(clippy::too_many_arguments)]
fn run_chunks<'c>(
    lua: &Lua,
    compiled: &RefCell<Vec<(String, String, mlua::Function)>>,
    raw_xpcall: &mlua::Function,
    guard: &Rc<Guard>,
    names: &Rc<ChunkNames>,
    config_index: usize,
    chunks: impl Iterator<Item = &'c Chunk<'c>>,
    finish: &mlua::Function,
) -> mlua::Result<Option<LuaFailure>> {
    let raised: Rc<RefCell<Raised>> = Rc::new(RefCell::new(None));
    let handler = {
        let raised = raised.clone();
        let names = names.clone();
        lua.create_function(move |lua, err: Value| {
            let at = user_frame(lua, &names);
            *raised.borrow_mut() = Some((at, error_text(&err)));
            Ok(err)
        })?
    };
    let protected = |f: &mlua::Function| -> Option<LuaFailure> {
        raised.borrow_mut().take();
        let (ok, err) = match raw_xpcall.call::<(bool, Value)>((f, &handler)) {
            Ok(r) => r,
            // xpcall itself failed (no memory for its results).
            Err(e) => (false, Value::Error(Box::new(e))),
        };
        if ok {
            return None;
        }
        let memory = is_memory_error(&err) && raised.borrow().is_none();
        if memory {
            let _ = guard.stop(MEMORY_MESSAGE.to_string());
        }
        let (at, text) = match raised.borrow_mut().take() {
            Some(r) => r,
            None => (guard.last_at.get(), error_text(&err)),
        };
        // A limit is reported where it tripped, wherever the error surfaced.
        let at = match guard.stopped_at.get() {
            Some(s) if guard.stopped() => Some(s),
            _ => at,
        };
        let text = if memory {
            MEMORY_MESSAGE.to_string()
        } else {
            text
        };
        Some(failure_at(names, config_index, at, &text, guard.stopped()))
    };

    let mut failure = None;
    for chunk in chunks {
        let known = compiled
            .borrow()
            .iter()
            .find(|(n, t, _)| n == chunk.name && t == chunk.text)
            .map(|(_, _, f)| f.clone());
        let f = match known {
            Some(f) => set_chunk_env(lua, &f, Value::Table(lua.globals())).map(|_| f),
            None => lua
                .load(chunk.text)
                .set_name(format!("={}", chunk.name))
                .set_mode(mlua::chunk::ChunkMode::Text)
                .into_function()
                .inspect(|f| {
                    let mut c = compiled.borrow_mut();
                    if c.len() < COMPILED_CHUNKS && chunk.text.len() <= COMPILED_TEXT {
                        c.push((chunk.name.to_string(), chunk.text.to_string(), f.clone()));
                    }
                }),
        };
        let f = match f {
            Ok(f) => f,
            Err(e) => {
                let memory = matches!(e, mlua::Error::MemoryError(_));
                if memory {
                    let _ = guard.stop(MEMORY_MESSAGE.to_string());
                }
                failure = Some(syntax_failure(&e, chunk.name, memory));
                break;
            }
        };
        if let Some(f) = protected(&f) {
            failure = Some(f);
            break;
        }
    }
    // A limit error swallowed where the config cannot rethrow it (a `load`
    // reader) still ends the run.
    if failure.is_none()
        && let Some(msg) = guard.stopped.borrow().clone()
    {
        failure = Some(failure_at(
            names,
            config_index,
            guard.stopped_at.get(),
            &msg,
            true,
        ));
    }
    // After a limit the config's code (custom handlers' _conf) must not run
    // again: what was declared so far is read without running `finish`.
    if !guard.stopped()
        && let Some(f) = protected(finish)
        && failure.is_none()
    {
        failure = Some(f);
    }
    Ok(failure)
}

/// A failure at `at` (the frame that raised it). A message that starts with
/// the position it was raised at, or with the prelude's, loses that prefix;
/// any other "file:line:" text stays part of the message and is never taken
/// as a position.
fn failure_at(
    names: &ChunkNames,
    config_index: usize,
    at: Option<(usize, u32)>,
    text: &str,
    limit: bool,
) -> LuaFailure {
    let first = text.lines().next().unwrap_or("").trim();
    let message = strip_position(first, &PRELUDE_NAME[1..], None)
        .or_else(|| at.and_then(|(i, l)| strip_position(first, names.plain(i), Some(l))))
        .unwrap_or(first);
    let message = if message.is_empty() {
        "error (no message)".to_string()
    } else {
        clip(message)
    };
    let (file, line) = match at {
        Some((i, l)) => (names.plain(i).to_string(), Some(l)),
        None => (names.plain(config_index).to_string(), None),
    };
    LuaFailure {
        file,
        line,
        message,
        limit,
    }
}

/// `message` without the "chunk:line:" Lua put in front of it for `chunk` at
/// `line` (any line when `None`). Lua cuts long chunk names short, so a
/// prefix of the name counts.
fn strip_position<'m>(message: &'m str, chunk: &str, line: Option<u32>) -> Option<&'m str> {
    let (n, rest) = split_position(message, chunk)?;
    line.is_none_or(|l| l == n).then_some(rest)
}

/// The line and the rest of a message that starts "chunk:line:" (the chunk
/// name possibly cut short).
fn split_position<'m>(message: &'m str, chunk: &str) -> Option<(u32, &'m str)> {
    let bytes = message.as_bytes();
    let mut k = message.find(':')?;
    loop {
        let digits = bytes[k + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 && bytes.get(k + 1 + digits) == Some(&b':') {
            let head = &message[..k];
            let n: u32 = message[k + 1..k + 1 + digits].parse().ok()?;
            return (!head.is_empty() && chunk.starts_with(head))
                .then(|| (n, message[k + 2 + digits..].trim_start()));
        }
        k += 1 + message[k + 1..].find(':')?;
    }
}

/// A chunk that does not compile: Lua's message names the chunk and line.
fn syntax_failure(e: &mlua::Error, chunk: &str, memory: bool) -> LuaFailure {
    if memory {
        return LuaFailure {
            file: chunk.to_string(),
            line: None,
            message: MEMORY_MESSAGE.to_string(),
            limit: true,
        };
    }
    let text = mlua_error_text(e);
    let first = text.lines().next().unwrap_or("").trim();
    if let Some((line, msg)) = split_position(first, chunk) {
        return LuaFailure {
            file: chunk.to_string(),
            line: Some(line),
            message: clip(msg),
            limit: false,
        };
    }
    let message = if first == "C stack overflow" {
        "C stack overflow while parsing: expressions or tables nested too deeply".to_string()
    } else {
        clip(first)
    };
    LuaFailure {
        file: chunk.to_string(),
        line: None,
        message,
        limit: false,
    }
}

fn table_of(v: Option<Value>) -> mlua::Result<LuaTable> {
    match v {
        Some(Value::Table(t)) => Ok(t),
        _ => Err(mlua::Error::runtime(
            "prelude did not return its metatables",
        )),
    }
}

/// Copies the prelude's record of the config into Rust values. The second
/// value is set when the copy went over its budget: the line of the
/// declaration being copied then (if known).
fn declare(conv: &mut Converter, s: &LuaTable) -> (mlua::Result<Declared>, Option<Option<u32>>) {
    let mut declared = Declared::default();
    macro_rules! budget {
        ($line:expr) => {
            if conv.over() {
                return (Ok(declared), Some($line));
            }
        };
    }
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => return (Err(e), None),
            }
        };
    }
    for (field, lines, out) in [
        ("pools", "pool_lines", 0usize),
        ("routes", "route_lines", 1usize),
    ] {
        let t: LuaTable = tri!(s.raw_get(field));
        let l: LuaTable = tri!(s.raw_get(lines));
        let mut list = Vec::new();
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = tri!(pair);
            let line: Option<u32> = l.raw_get(k.clone()).ok().flatten();
            let key = conv.key(&k);
            let value = conv.value(&v, 0);
            budget!(line);
            list.push((key, value, line));
        }
        list.sort_by(|a, b| a.0.cmp(&b.0));
        if out == 0 {
            declared.pools = list;
        } else {
            declared.routes = list;
        }
    }
    let settings: Value = tri!(s.raw_get("settings"));
    if !settings.is_nil() {
        let line = tri!(s.raw_get::<Option<u32>>("settings_line"));
        let v = conv.value(&settings, 0);
        budget!(line);
        declared.settings = Some((v, line));
    }
    if let Value::Table(z) = tri!(s.raw_get::<Value>("zone")) {
        let line = tri!(z.raw_get::<Option<u32>>("line"));
        declared.zone = Some(ZoneDecl {
            value: match tri!(z.raw_get::<Value>("value")) {
                Value::String(v) => Some(conv.string(&v)),
                Value::Nil | Value::Boolean(false) => None,
                other => Some(conv.value(&other, 0).show()),
            },
            from: tri!(z.raw_get::<Option<String>>("from")).unwrap_or_default(),
            arg: match tri!(z.raw_get::<Value>("arg")) {
                Value::String(v) => Some(conv.string(&v)),
                _ => None,
            },
            line,
        });
        budget!(line);
    }
    if let Value::Table(c) = tri!(s.raw_get::<Value>("custom")) {
        for pair in c.pairs::<Value, Value>() {
            let (k, _) = tri!(pair);
            if let Value::String(k) = k {
                let k = conv.string(&k);
                budget!(None);
                declared.custom_handlers.push(k);
            }
        }
        declared.custom_handlers.sort();
    }
    declared.verbose = tri!(s.raw_get::<Value>("verbose"))
        .as_boolean()
        .unwrap_or(false);
    declared.debug = tri!(s.raw_get::<Value>("debug"))
        .as_boolean()
        .unwrap_or(false);
    (Ok(declared), None)
}

struct Metas {
    route: LuaTable,
    cmdmap: LuaTable,
    constant: LuaTable,
}

const MAX_DEPTH: usize = 64;
/// The copy out of Lua: at most this many values (a table counts each time
/// it is reached, so a shared table cannot multiply the work unseen) ...
pub const MAX_VALUES: u64 = 200_000;
/// ... and this many bytes of strings (keys included, again per reference).
pub const MAX_BYTES: u64 = 16 << 20;

struct Converter<'a> {
    metas: &'a Metas,
    /// Tables on the current path (cycle guard): at most [`MAX_DEPTH`] + 1,
    /// looked through, not hashed.
    path: Vec<usize>,
    values: u64,
    bytes: u64,
}

impl Converter<'_> {
    fn over(&self) -> bool {
        self.values > MAX_VALUES || self.bytes > MAX_BYTES
    }

    fn over_message(&self) -> String {
        if self.bytes > MAX_BYTES {
            format!(
                "{SANDBOX}the config declares more than {} MiB of strings (a string counts each \
                 time a table refers to it); mclint stopped copying them out",
                MAX_BYTES >> 20
            )
        } else {
            format!(
                "{SANDBOX}the config declares more than {MAX_VALUES} values (a shared table counts \
                 each time it is referred to); mclint stopped copying them out"
            )
        }
    }

    /// Counts and copies a string; an empty one once over the budget.
    fn string(&mut self, s: &mlua::LuaString) -> String {
        let b = s.as_bytes();
        let b: &[u8] = &b;
        self.values += 1;
        self.bytes += b.len() as u64;
        if self.over() {
            return String::new();
        }
        String::from_utf8_lossy(b).into_owned()
    }

    fn key(&mut self, k: &Value) -> Key {
        self.values += 1;
        match k {
            Value::Integer(i) => Key::Int(*i),
            Value::String(s) => Key::Str(self.string(s)),
            Value::Number(n) => Key::Other(n.to_string()),
            Value::Boolean(b) => Key::Other(b.to_string()),
            other => Key::Other(other.type_name().to_string()),
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Lv {
        self.values += 1;
        if self.over() {
            return Lv::Nil;
        }
        match v {
            Value::Nil => Lv::Nil,
            Value::Boolean(b) => Lv::Bool(*b),
            Value::Integer(i) => Lv::Int(*i),
            Value::Number(n) => Lv::Num(*n),
            Value::String(s) => Lv::Str(self.string(s)),
            Value::Table(t) => self.table_value(t, depth),
            Value::Function(_) => Lv::Other("function"),
            Value::Thread(_) => Lv::Other("thread"),
            Value::UserData(_) | Value::LightUserData(_) => Lv::Other("userdata"),
            _ => Lv::Other("value"),
        }
    }

    fn table_value(&mut self, t: &LuaTable, depth: usize) -> Lv {
        if depth > MAX_DEPTH {
            return Lv::Other("table nested too deep");
        }
        let ptr = t.to_pointer() as usize;
        if self.path.contains(&ptr) {
            return Lv::Other("table that contains itself");
        }
        self.path.push(ptr);
        let out = match t.metatable() {
            Some(m) if m == self.metas.route => {
                let handler = match t.raw_get::<Value>("f") {
                    Ok(Value::String(s)) => self.string(&s),
                    _ => String::new(),
                };
                let args: Value = t.raw_get("a").unwrap_or(Value::Nil);
                Lv::Route(Box::new(RouteCall {
                    handler,
                    args: self.value(&args, depth + 1),
                    line: t.raw_get::<Option<u32>>("line").ok().flatten(),
                    unknown: t.raw_get::<bool>("unknown").unwrap_or(false),
                }))
            }
            Some(m) if m == self.metas.cmdmap => {
                let entries: Value = t.raw_get("entries").unwrap_or(Value::Nil);
                let line = t.raw_get::<Option<u32>>("line").ok().flatten();
                match self.value(&entries, depth + 1) {
                    Lv::Table(e) => Lv::CmdMap(e, line),
                    _ => Lv::CmdMap(Table::default(), line),
                }
            }
            Some(m) if m == self.metas.constant => Lv::Const(match t.raw_get::<Value>("name") {
                Ok(Value::String(s)) => self.string(&s),
                _ => String::new(),
            }),
            _ => {
                let mut entries = Vec::new();
                for (k, v) in t.pairs::<Value, Value>().flatten() {
                    let key = self.key(&k);
                    let val = self.value(&v, depth + 1);
                    if self.over() {
                        break;
                    }
                    entries.push((key, val));
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Lv::Table(Table { entries })
            }
        };
        self.path.pop();
        out
    }
}

// ---------------------------------------------------------------------------
// Request time: a custom route handler's start function and request function.
// ---------------------------------------------------------------------------

const HANDLERS: &str = include_str!("handlers.lua");
const HANDLERS_NAME: &str = "=mclint-routelib-request-model";

/// How far one run of a custom handler (start function, then one request)
/// may go: a handler runs once per key and scenario, so far less than a config.
pub const HANDLER_LIMITS: Limits = Limits {
    instructions: 2_000_000,
    memory: 32 << 20,
    time: Duration::from_millis(300),
};

/// A `child*` argument of a custom handler, resolved: indices into the
/// children the caller answers for.
#[derive(Debug, Clone)]
pub enum ChildArg {
    One(usize),
    Many(Vec<(Key, usize)>),
}

/// One custom handler to run for one request.
pub struct HandlerCall<'a> {
    /// The files a worker thread of the proxy loads (not the config).
    pub libs: &'a [Chunk<'a>],
    /// What their `dofile`/`loadfile` can open: the files the config's run
    /// opened, (path asked for, name, text).
    pub files: &'a [(String, String, String)],
    pub handler: &'a str,
    /// The handler's arguments as its `_conf` returned them; `child*` keys are
    /// replaced by `children`.
    pub args: &'a Table,
    pub children: &'a [(String, ChildArg)],
    /// `ctx:label()` and `ctx:cmd()` as routelib gives them to the start function.
    pub label: &'a str,
    pub ctx_cmd: u8,
    /// The client's request.
    pub cmd: u8,
    pub key: &'a [u8],
    pub limits: Limits,
}

/// What a child (or the whole handler) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A hit, or a write that succeeded (the proxy's `res:hit()`).
    Hit,
    /// A miss (`res:ok()` without `res:hit()`).
    Miss,
    Error,
}

/// A request the handler sent to one of its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Index into the children; `None` for `mcp.internal_handler`.
    pub child: Option<usize>,
    pub cmd: u8,
    pub key: Vec<u8>,
    /// The handler waited for the answer (else the copy was sent and left).
    pub waited: bool,
}

/// How a run of a custom handler ended.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerOutcome {
    /// The client gets `status` (with why, for an error).
    Answer { status: Status, why: Option<String> },
    /// The start function (or the function it gave fgen:ready) failed: the
    /// proxy does not start with this config.
    StartFailed(String),
    /// The request function raised an error: SERVER_ERROR for the client.
    RequestFailed(String),
    /// mclint cannot follow the handler (a child it cannot route, an API it
    /// does not model, a sandbox limit).
    Unfollowable(String),
}

/// The contacts a run made, in order, and how it ended.
#[derive(Debug, Clone)]
pub struct HandlerRun {
    pub contacts: Vec<Contact>,
    pub outcome: HandlerOutcome,
}

/// Answers a contact: the child's status and whether the child is a route
/// (a route's error is a result the handler can read; a backend's is not), or
/// why mclint cannot follow it.
pub type ContactFn<'f> = dyn FnMut(Option<usize>, u8, &[u8]) -> Result<(Status, bool), String> + 'f;

/// Runs `call`'s handler in a fresh sandbox: the prelude, the libraries, the
/// request-time model (`handlers.lua`), then `route_<name>_start`, the
/// function it readies, and that function on one request.
pub fn run_handler(call: &HandlerCall, contact: &mut ContactFn) -> HandlerRun {
    let mut contacts = Vec::new();
    let outcome = match run_handler_inner(call, contact, &mut contacts) {
        Ok(o) => o,
        Err(e) => HandlerOutcome::Unfollowable(format!(
            "route_{}: the Lua sandbox stopped the handler: {}",
            call.handler,
            clip(&mlua_error_text(&e))
        )),
    };
    HandlerRun { contacts, outcome }
}

/// A sandbox with the prelude, the libraries and the request-time model
/// loaded, kept for the next run with the same libraries (a handler runs
/// once per key and scenario). Like a worker thread of the proxy, it keeps
/// what the libraries' globals hold from one request to the next.
struct HandlerVm {
    libs: Vec<(String, String)>,
    files: Vec<(String, String, String)>,
    lua: Lua,
    guard: Rc<Guard>,
    run: mlua::Function,
    child_meta: LuaTable,
    /// A library that failed to load: every run fails with it.
    broken: Option<String>,
}

thread_local! {
    static HANDLER_VM: RefCell<Option<HandlerVm>> = const { RefCell::new(None) };
}

fn handler_vm(call: &HandlerCall) -> mlua::Result<HandlerVm> {
    let (lua, _) = sandboxed_state(&None)?;
    let names = Rc::new(ChunkNames::new(
        call.libs
            .iter()
            .map(|c| format!("={}", c.name))
            .chain(std::iter::once("=(request)".to_string()))
            .collect(),
    ));
    let config_index = names.0.len() - 1;
    let guard = Rc::new(Guard {
        limits: call.limits,
        started: Cell::new(CpuClock::now()),
        count: Cell::new(0),
        stopped: RefCell::new(None),
        last_at: Cell::new(None),
        stopped_at: Cell::new(None),
    });
    let notes: Notes = Rc::new(RefCell::new(Vec::new()));
    let files = call.files.to_vec();
    let open = lua.create_function(move |lua, path: mlua::LuaString| {
        let path = path.to_string_lossy();
        match files.iter().find(|(p, _, _)| *p == path) {
            Some((_, name, text)) => Ok((
                Value::String(lua.create_string(name)?),
                Value::String(lua.create_string(text)?),
            )),
            None => Ok((
                Value::Nil,
                Value::String(
                    lua.create_string("mclint knows only the files the config's own run opened")?,
                ),
            )),
        }
    })?;
    load_prelude(
        &lua,
        &prelude_chunk(&lua)?,
        &names,
        config_index,
        &None,
        &notes,
        &guard,
        Some(open),
    )?;
    arm_limits(&lua, &guard, &names, call.limits)?;
    let mut broken = None;
    for chunk in call.libs {
        let r = lua
            .load(chunk.text)
            .set_name(format!("={}", chunk.name))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .exec();
        if let Err(e) = r {
            broken = Some(format!(
                "the library {} fails to load: {}",
                chunk.name,
                clip(&mlua_error_text(&e))
            ));
            break;
        }
    }
    let (run, child_meta): (mlua::Function, LuaTable) =
        lua.load(HANDLERS).set_name(HANDLERS_NAME).call(())?;
    Ok(HandlerVm {
        libs: call
            .libs
            .iter()
            .map(|c| (c.name.to_string(), c.text.to_string()))
            .collect(),
        files: call.files.to_vec(),
        lua,
        guard,
        run,
        child_meta,
        broken,
    })
}

fn run_handler_inner(
    call: &HandlerCall,
    contact: &mut ContactFn,
    contacts: &mut Vec<Contact>,
) -> mlua::Result<HandlerOutcome> {
    let same = |vm: &HandlerVm| {
        vm.libs.len() == call.libs.len()
            && vm
                .libs
                .iter()
                .zip(call.libs)
                .all(|((n, t), c)| n == c.name && t == c.text)
            && vm.files == call.files
    };
    // Taken out while it runs: a nested custom handler builds its own.
    let vm = match HANDLER_VM.with(|c| c.borrow_mut().take()) {
        Some(vm) if same(&vm) && !vm.guard.stopped() => vm,
        _ => handler_vm(call)?,
    };
    vm.guard.count.set(0);
    vm.guard.started.set(CpuClock::now());
    let outcome = run_in(&vm, call, contact, contacts);
    if !vm.guard.stopped() {
        HANDLER_VM.with(|c| *c.borrow_mut() = Some(vm));
    }
    outcome
}

fn run_in(
    vm: &HandlerVm,
    call: &HandlerCall,
    contact: &mut ContactFn,
    contacts: &mut Vec<Contact>,
) -> mlua::Result<HandlerOutcome> {
    if let Some(b) = &vm.broken {
        return Ok(HandlerOutcome::StartFailed(b.clone()));
    }
    let (lua, guard, run, child_meta) = (&vm.lua, &vm.guard, &vm.run, &vm.child_meta);
    let child = |id: usize| -> mlua::Result<LuaTable> {
        let t = lua.create_table()?;
        t.raw_set("id", id)?;
        t.set_metatable(Some(child_meta.clone()))?;
        Ok(t)
    };
    let a = to_lua_table(lua, call.args, 0)?;
    for (arg, c) in call.children {
        match c {
            ChildArg::One(i) => a.raw_set(arg.as_str(), child(*i)?)?,
            ChildArg::Many(list) => {
                let t = lua.create_table()?;
                for (k, i) in list {
                    match k {
                        Key::Int(n) => t.raw_set(*n, child(*i)?)?,
                        Key::Str(s) => t.raw_set(s.as_str(), child(*i)?)?,
                        Key::Other(_) => {}
                    }
                }
                a.raw_set(arg.as_str(), t)?;
            }
        }
    }
    let aborted: RefCell<Option<String>> = RefCell::new(None);
    let shared = RefCell::new(std::mem::take(contacts));
    let result = lua.scope(|scope| {
        let contact_fn =
            scope.create_function_mut(|_, (id, cmd, key): (i64, u8, mlua::LuaString)| {
                let key = key.as_bytes().to_vec();
                let child = usize::try_from(id).ok();
                shared.borrow_mut().push(Contact {
                    child,
                    cmd,
                    key: key.clone(),
                    waited: false,
                });
                if aborted.borrow().is_some() {
                    return Ok(("error", false));
                }
                match contact(child, cmd, &key) {
                    Ok((s, route)) => Ok((
                        match s {
                            Status::Hit => "hit",
                            Status::Miss => "miss",
                            Status::Error => "error",
                        },
                        route,
                    )),
                    Err(why) => {
                        *aborted.borrow_mut() = Some(why);
                        Ok(("error", false))
                    }
                }
            })?;
        let note_fn = scope.create_function_mut(|_, i: usize| {
            if let Some(c) = shared.borrow_mut().get_mut(i.wrapping_sub(1)) {
                c.waited = true;
            }
            Ok(())
        })?;
        run.call::<(String, Option<mlua::LuaString>, Option<mlua::LuaString>)>((
            call.handler,
            a,
            call.label,
            call.ctx_cmd,
            call.cmd,
            lua.create_string(call.key)?,
            contact_fn,
            note_fn,
        ))
    });
    *contacts = shared.into_inner();
    if let Some(why) = aborted.into_inner() {
        return Ok(HandlerOutcome::Unfollowable(why));
    }
    if let Some(msg) = guard.stopped.borrow().clone() {
        return Ok(HandlerOutcome::Unfollowable(format!(
            "route_{}: {msg}",
            call.handler
        )));
    }
    let (phase, a, b) = result?;
    let text = |s: Option<mlua::LuaString>| s.map(|s| clip(&s.to_string_lossy()));
    Ok(match phase.as_str() {
        "start" => HandlerOutcome::StartFailed(text(a).unwrap_or_default()),
        "request" => HandlerOutcome::RequestFailed(text(a).unwrap_or_default()),
        _ => {
            let status = match text(a).as_deref() {
                Some("hit") => Status::Hit,
                Some("miss") => Status::Miss,
                _ => Status::Error,
            };
            HandlerOutcome::Answer {
                status,
                why: text(b),
            }
        }
    })
}

/// A copied-out value back into the VM (for a handler's arguments): routes
/// and cmdmaps as plain tables, constants as their names, functions as nil.
fn to_lua(lua: &Lua, v: &Lv, depth: usize) -> mlua::Result<Value> {
    Ok(match v {
        Lv::Nil | Lv::Other(_) => Value::Nil,
        Lv::Bool(b) => Value::Boolean(*b),
        Lv::Int(i) => Value::Integer(*i),
        Lv::Num(n) => Value::Number(*n),
        Lv::Str(s) => Value::String(lua.create_string(s)?),
        Lv::Const(c) => Value::String(lua.create_string(c)?),
        Lv::Table(t) | Lv::CmdMap(t, _) => Value::Table(to_lua_table(lua, t, depth + 1)?),
        Lv::Route(r) => {
            let t = lua.create_table()?;
            t.raw_set("f", r.handler.as_str())?;
            t.raw_set("a", to_lua(lua, &r.args, depth + 1)?)?;
            Value::Table(t)
        }
    })
}

fn to_lua_table(lua: &Lua, t: &Table, depth: usize) -> mlua::Result<LuaTable> {
    let out = lua.create_table()?;
    if depth > 32 {
        return Ok(out);
    }
    for (k, v) in &t.entries {
        let v = to_lua(lua, v, depth)?;
        match k {
            Key::Int(i) => out.raw_set(*i, v)?,
            Key::Str(s) => out.raw_set(s.as_str(), v)?,
            Key::Other(_) => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_loaded_from_bytecode_is_the_parsed_one() {
        let info = |f: &mlua::Function| {
            let i = f.info();
            (i.source, i.line_defined, i.last_line_defined)
        };
        // The build's bytecode is this Lua's own compilation of the same
        // text under the same name, debug information included.
        let lua = Lua::new_with(StdLib::TABLE, LuaOptions::default()).unwrap();
        let parsed = prelude_from_text(&lua).unwrap();
        assert!(PRELUDE_BUILT == parsed.dump(false).as_slice());
        let loaded = prelude_chunk(&lua).unwrap();
        assert!(
            PRELUDE_BYTECODE.get().is_none(),
            "the built bytecode was refused"
        );
        assert_eq!(info(&parsed), info(&loaded));
        assert_eq!(info(&loaded).0.as_deref(), Some(PRELUDE_NAME));
        // Bytecode this Lua refuses (another format version): the text is
        // parsed, and later VMs load that parse's bytecode.
        let mut foreign = PRELUDE_BUILT.to_vec();
        foreign[4] ^= 0x01;
        let fallback = prelude_chunk_from(&lua, &foreign).unwrap();
        assert_eq!(info(&fallback), info(&parsed));
        assert!(PRELUDE_BYTECODE.get().map(Vec::as_slice) == Some(PRELUDE_BUILT));
        let second = Lua::new_with(StdLib::TABLE, LuaOptions::default()).unwrap();
        assert_eq!(
            info(&prelude_chunk_from(&second, &foreign).unwrap()),
            info(&parsed)
        );
    }

    fn run_config(text: &str) -> (Declared, Option<LuaFailure>) {
        run(
            Chunk {
                name: "c.lua",
                text,
            },
            &[],
            &EnvSource::Unknown,
            Limits::default(),
            &no_files,
        )
    }

    fn failure(text: &str) -> LuaFailure {
        run_config(text).1.expect("the config fails")
    }

    #[test]
    fn load_gives_the_chunk_the_globals_unless_an_env_is_passed() {
        let (d, f) = run_config(
            "local p = load(\"return pools\")()\np { main = { backends = { \"a:1\" } } }",
        );
        assert_eq!(f, None);
        assert_eq!(d.pools.len(), 1);
        let f = failure("load(\"return pools\", \"x\", \"t\", nil)()()");
        assert!(f.message.contains("_ENV"), "{}", f.message);
        assert_eq!(f.line, Some(1));
    }

    #[test]
    fn load_renames_file_like_chunk_names() {
        let f = failure("\nload(\"error('x')\", \"=c.lua\")()");
        assert_eq!((f.file.as_str(), f.line), ("c.lua", Some(2)));
        assert_eq!(f.message, "(load) c.lua:1: x");
    }

    #[test]
    fn an_error_object_is_named_by_its_type_without_running_it() {
        let f =
            failure("\nerror(setmetatable({}, { __tostring = function() while true do end end }))");
        assert_eq!(f.message, "error object is a table value");
        assert_eq!(f.line, Some(2));
        assert!(!f.limit);
    }

    #[test]
    fn a_position_in_the_message_is_text_not_a_location() {
        let f = failure("local x = 1\nerror(\"c.lua:1: forged\", 0)");
        assert_eq!(f.line, Some(2));
        assert_eq!(f.message, "c.lua:1: forged");
        let f = failure("local x = 1\nlocal y = nil + 1");
        assert_eq!(f.line, Some(2));
        assert!(
            f.message.starts_with("attempt to perform arithmetic"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_limit_cannot_be_caught() {
        for text in [
            "while true do pcall(function() while true do end end) end",
            "while true do xpcall(function() while true do end end, function() return 1 end) end",
            "xpcall(error, function() while true do end end)",
            "while true do pcall(string.rep, \"x\", 1e18) end",
        ] {
            let f = failure(text);
            assert!(f.limit, "{text}: {f:?}");
            assert_eq!(f.line, Some(1), "{text}");
        }
    }

    #[test]
    fn the_time_limit_stops_a_config_within_the_clock_refresh() {
        let limits = Limits {
            instructions: u64::MAX,
            time: Duration::from_millis(40),
            ..Limits::default()
        };
        let started = CpuClock::now();
        let (_, f) = run(
            Chunk {
                name: "c.lua",
                text: "local n = 0\nwhile true do n = n + 1 end",
            },
            &[],
            &EnvSource::Unknown,
            limits,
            &no_files,
        );
        let f = f.expect("the config is stopped");
        assert!(f.limit && f.message.contains("40 ms of CPU time"), "{f:?}");
        assert_eq!(f.line, Some(2));
        // Stopped once past the limit, not long after it (the VM's set-up
        // and a loaded machine's slack included).
        let mut clock = started;
        assert!(clock.exceeds(Duration::from_millis(40)));
        assert!(!clock.exceeds(Duration::from_millis(400)), "stopped late");
    }

    #[test]
    fn finalizers_are_refused() {
        let f =
            failure("local t = 1\nsetmetatable({}, { __gc = function() while true do end end })");
        assert!(f.limit && f.message.contains("__gc"), "{f:?}");
        assert_eq!(f.line, Some(2));
    }

    #[test]
    fn the_copy_out_has_a_budget() {
        let f = failure(
            "local a = \"10.0.0.1:11211\"\nfor i = 1, 30 do a = { a, a } end\npools { q = { backends = a } }",
        );
        assert!(f.limit && f.message.contains("values"), "{f:?}");
        assert_eq!(f.line, Some(3));
        let f = failure(
            "local s = string.rep(\"x\", 2^24)\nlocal t = {}\nfor i = 1, 2000 do t[i] = s end\npools { q = { backends = t } }",
        );
        assert!(f.limit && f.message.contains("MiB"), "{f:?}");
        assert_eq!(f.line, Some(4));
    }

    #[test]
    fn c_functions_are_bounded_before_they_run() {
        for text in [
            "string.rep(\"\", 1e18)",
            "table.move({}, 1, 1 << 62, 1, {})",
            "local x = (\"a\"):rep(3e5):find(\"a.-b\")",
            "local x = string.rep(\"(\", 1e6):gsub(\"%b()\", \"\")",
            "table.unpack({}, 1, 1e8)",
        ] {
            let f = failure(text);
            assert!(f.limit && f.message.contains("more work"), "{text}: {f:?}");
        }
    }

    fn made() -> u64 {
        CONFIG_VMS_MADE.with(Cell::get)
    }

    /// Changes everything a config can reach, then succeeds (so that its
    /// state is kept for the next config), holding 3 MiB.
    const HOSTILE: &str = r#"
pools { main = { backends = { "a:1" } } }
local junk = {}
for i = 1, 3 do junk[i] = ("x" .. i):rep(1 << 19) end
hold = junk
leak = 1
rawset(_G, "leak_raw", 2)
load("leak_load = 3")()
string.rep = nil
string.leak = 4
table.insert = error
math.pi = 3
utf8.char = nil
os.getenv = function() return "leaked" end
os.leak = 5
setmetatable(_G, { __index = function() return "leaked" end })
math.randomseed(42)
local m = getmetatable("")
m.__add = function() return "leaked" end
m.leak = 6
m.__index = setmetatable({ leak = 7 }, { __index = m.__index })
"#;

    /// Fails unless its world is the one a new state gives.
    const CHECKS: &str = r#"
local bad = {}
local function check(ok, what)
    if not ok then bad[#bad + 1] = what end
end
check(rawget(_G, "leak") == nil and rawget(_G, "leak_raw") == nil, "globals")
check(rawget(_G, "leak_load") == nil and rawget(_G, "hold") == nil, "globals from load")
check(leak == nil, "the globals' metatable")
check(string.rep ~= nil and string.leak == nil, "string")
check(table.insert ~= error and math.pi > 3.14 and utf8.char ~= nil, "table, math, utf8")
check(os.getenv("HOME") == nil and os.leak == nil, "os")
check(("").leak == nil and getmetatable("").__index == string, "the string metatable")
check(getmetatable("").leak == nil and "10" + 1 == 11, "string metamethods")
local after = math.random(1 << 50)
math.randomseed(42)
check(after ~= math.random(1 << 50), "the random seed")
check(collectgarbage == nil and require == nil and string.dump == nil, "the sandbox")
if #bad > 0 then error("left behind: " .. table.concat(bad, ", ")) end
pools { main = { backends = { "b:1" } } }
"#;

    #[test]
    fn a_kept_state_gives_each_config_a_world_of_its_own() {
        let tight = Limits {
            memory: 10 << 20,
            ..Limits::default()
        };
        // `rep` builds its result in a buffer, then copies it: 4 MiB take 8.
        let big = "local big = (\"y\"):rep(4 << 20)";
        let chunk = |text| Chunk {
            name: "c.lua",
            text,
        };
        let run_tight = |text| run(chunk(text), &[], &EnvSource::Unknown, tight, &no_files);
        // Alone, in a new state.
        CONFIG_VM.with(|c| c.borrow_mut().take());
        assert_eq!(run_tight(big).1, None);
        CONFIG_VM.with(|c| c.borrow_mut().take());
        let (alone, f) = run_tight(CHECKS);
        assert_eq!(f, None);
        // After the hostile config, in the state it used: the same.
        let (d, f) = run_config(HOSTILE);
        assert_eq!((f, d.pools.len()), (None, 1));
        let before = made();
        let (after, f) = run_tight(CHECKS);
        assert_eq!(f, None, "{:?}", f.as_ref().map(|f| &f.message));
        assert_eq!(made(), before, "the kept state was not used");
        assert_eq!(format!("{alone:?}"), format!("{after:?}"));
        // Again, each config's chunk compiled once: a compiled chunk runs
        // in the globals of the config that runs it.
        let once = "assert(rawget(_G, 'seen') == nil)\nseen = true";
        for _ in 0..3 {
            assert_eq!(run_config(HOSTILE).1, None);
            assert_eq!(run_config(CHECKS).1, None);
            assert_eq!(run_config(once).1, None);
        }
        // What the hostile config held (3 MiB) is no one's: what fits in a
        // new state fits after it.
        assert_eq!(run_config(HOSTILE).1, None);
        assert_eq!(run_tight(big).1, None);
        assert_eq!(made(), before, "a state was made again");
        // And what does not fit still does not.
        let f = run_tight("local big = (\"y\"):rep(6 << 20)").1.unwrap();
        assert!(f.limit && f.message.contains("memory"), "{f:?}");
    }

    #[test]
    fn configs_run_one_after_another_on_a_kept_state_draw_other_numbers() {
        let draw = "pools { main = { backends = { tostring(math.random(1 << 50)) .. \":1\" } } }";
        let (first, f) = run_config(draw);
        assert_eq!(f, None);
        let before = made();
        let (second, f) = run_config(draw);
        assert_eq!(f, None);
        assert_eq!(made(), before, "the kept state was not used");
        assert_ne!(format!("{first:?}"), format!("{second:?}"));
    }

    #[test]
    fn a_state_that_failed_is_not_kept_and_a_kept_one_holds_no_world() {
        assert_eq!(run_config(CHECKS).1, None);
        assert!(failure("while true do end").limit);
        let before = made();
        assert_eq!(run_config(CHECKS).1, None);
        assert_eq!(made(), before + 1, "a stopped state was kept");
        assert!(!failure("error('x')").limit);
        assert_eq!(run_config(CHECKS).1, None);
        assert_eq!(made(), before + 2, "a failed state was kept");
        // What a config's world held is collected before the state is kept.
        assert_eq!(run_config("big = ('x'):rep(8 << 20)").1, None);
        let used = CONFIG_VM.with(|c| c.borrow().as_ref().map(|vm| vm.lua.used_memory()));
        assert!(used.is_some_and(|u| u < 1 << 20), "{used:?}");
        assert_eq!(run_config(CHECKS).1, None);
        assert_eq!(made(), before + 2);
        // A smaller world is collected when the state is taken for the
        // next config, before that config's room is measured.
        assert_eq!(run_config("big = ('x'):rep(2 << 20)").1, None);
        let vm = CONFIG_VM.with(|c| c.borrow_mut().take()).unwrap();
        assert!(vm.uncollected.get() && vm.lua.used_memory() > 2 << 20);
        let vm = vm.taken().unwrap();
        assert!(!vm.uncollected.get() && vm.lua.used_memory() < 1 << 20);
        assert_eq!(vm.held.get(), vm.lua.used_memory());
        CONFIG_VM.with(|c| *c.borrow_mut() = Some(vm));
        assert_eq!(run_config(CHECKS).1, None);
        assert_eq!(made(), before + 2);
    }

    #[test]
    fn an_abandoned_state_is_not_used_again() {
        assert_eq!(run_config(CHECKS).1, None);
        let before = made();
        abandon_kept_state();
        assert!(CONFIG_VM.with(|c| c.borrow().is_none()));
        assert_eq!(run_config(CHECKS).1, None);
        assert_eq!(made(), before + 1);
    }

    #[test]
    fn ordinary_library_calls_still_work() {
        let (d, f) = run_config(
            r#"
local host, port = ("cache-0.cache:11211"):match("^(.+):(%d+)$")
local t = { 3, 1, 2 }
table.sort(t)
table.insert(t, 1, 0)
local parts = {}
for w in ("a,b,c"):gmatch("[^,]+") do parts[#parts + 1] = w end
local ok, err = pcall(error, "caught")
assert(not ok and err:find("caught"))
pools { main = { backends = { host .. ":" .. port, table.concat(t, "") .. ":1", table.concat(parts) .. ":2" } } }
"#,
        );
        assert_eq!(f, None);
        let Lv::Table(conf) = &d.pools[0].1 else {
            panic!("a table")
        };
        assert_eq!(
            conf.get("backends").unwrap().as_table().unwrap().entries[..]
                .iter()
                .map(|(_, v)| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
            ["cache-0.cache:11211", "0123:1", "abc:2"]
        );
    }
}
