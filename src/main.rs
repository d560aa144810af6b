use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use mclint::check::{CheckOptions, check_owned, check_with};
use mclint::cli::{CheckArgs, Cli, Color, Command, FailOn, RulesFormat};
use mclint::finding::Severity;
use mclint::manifest::{InputLimits, read_inputs_with};
use mclint::report::{self, TextStyle, escape};
use mclint::rules::{self, RULES};

#[global_allocator]
static ALLOCATOR: small_blocks::SmallBlocks = small_blocks::SmallBlocks;

/// Small blocks kept for reuse, in front of the system allocator.
///
/// A lint run allocates and frees tens of thousands of small blocks (parsed
/// scalars, tree nodes, JSON values, Lua objects), and the C library keeps
/// only 7 freed blocks of a size ready for reuse: past those, each free and
/// each new block goes through its bins, a quarter of a chart lint's
/// instructions. This keeps more freed blocks (up to 32 KiB of each size
/// class, on each thread) in lists of its own, and hands them out again
/// without the C library. Blocks come from and go back to the system
/// allocator, sized to the classes glibc uses itself (16 n + 8 usable
/// bytes), so no block takes more memory than it would have; larger or
/// over-aligned blocks go straight to it. What a thread keeps when it exits
/// is not given back (at most 32 KiB a class, 2 MiB in all; mclint's
/// threads are few).
mod small_blocks {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;
    use std::ptr;

    /// Classes 0..=64: blocks of 16 c + 8 usable bytes, up to 1,032.
    const CLASSES: usize = 65;
    /// Bytes of freed blocks a class keeps on a thread.
    const KEEP_BYTES: usize = 32 << 10;
    /// The alignment the C library's malloc gives every block (64-bit
    /// Linux); elsewhere only blocks that ask for no more than 8 are kept.
    const ALIGN: usize = if cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        16
    } else {
        8
    };

    struct Lists {
        /// Each class's freed blocks, linked through their first word.
        heads: [*mut u8; CLASSES],
        counts: [u32; CLASSES],
    }

    thread_local! {
        static LISTS: UnsafeCell<Lists> = const {
            UnsafeCell::new(Lists {
                heads: [ptr::null_mut(); CLASSES],
                counts: [0; CLASSES],
            })
        };
    }

    /// The class of a block of this layout, if it is one kept here.
    #[inline]
    fn class_of(layout: &Layout) -> Option<usize> {
        let c = (layout.size() + 7) / 16;
        (c < CLASSES && layout.align() <= ALIGN).then_some(c)
    }

    #[inline]
    fn usable(c: usize) -> usize {
        16 * c + 8
    }

    #[inline]
    fn keep(c: usize) -> u32 {
        (KEEP_BYTES / usable(c)) as u32
    }

    /// A kept block of class `c`, if the thread has one.
    #[inline]
    fn take(c: usize) -> *mut u8 {
        LISTS
            .try_with(|l| {
                // SAFETY: the lists are this thread's and nothing else runs
                // while they are changed (no allocation, no callback).
                let l = unsafe { &mut *l.get() };
                let head = l.heads[c];
                if !head.is_null() {
                    // SAFETY: a kept block holds the next one in its first
                    // word (at least 8 bytes, 16-aligned).
                    l.heads[c] = unsafe { *(head as *mut *mut u8) };
                    l.counts[c] -= 1;
                }
                head
            })
            .unwrap_or(ptr::null_mut())
    }

    /// Keeps block `p` of class `c`; `false` when the class has enough.
    #[inline]
    fn give(c: usize, p: *mut u8) -> bool {
        LISTS
            .try_with(|l| {
                // SAFETY: as in `take`.
                let l = unsafe { &mut *l.get() };
                if l.counts[c] >= keep(c) {
                    return false;
                }
                // SAFETY: `p` is a block of at least 8 bytes, 16-aligned,
                // that its owner has freed.
                unsafe { *(p as *mut *mut u8) = l.heads[c] };
                l.heads[c] = p;
                l.counts[c] += 1;
                true
            })
            .unwrap_or(false)
    }

    pub struct SmallBlocks;

    // SAFETY: every block handed out is one the system allocator made for
    // at least the class's usable size and alignment 16, and is handed out
    // once until it is freed again.
    unsafe impl GlobalAlloc for SmallBlocks {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let Some(c) = class_of(&layout) else {
                // SAFETY: the caller's layout, passed on.
                return unsafe { System.alloc(layout) };
            };
            let p = take(c);
            if !p.is_null() {
                return p;
            }
            // SAFETY: a non-zero size; the C library's malloc (which any
            // alignment up to `ALIGN` gets from it) is asked for it.
            unsafe { System.alloc(Layout::from_size_align_unchecked(usable(c), 8)) }
        }

        #[inline]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if class_of(&layout).is_none() {
                // SAFETY: the caller's layout, passed on.
                return unsafe { System.alloc_zeroed(layout) };
            }
            // SAFETY: as `alloc`; the block has at least `layout.size()` bytes.
            unsafe {
                let p = self.alloc(layout);
                if !p.is_null() {
                    ptr::write_bytes(p, 0, layout.size());
                }
                p
            }
        }

        #[inline]
        unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
            if let Some(c) = class_of(&layout)
                && give(c, p)
            {
                return;
            }
            // SAFETY: a block the system allocator made (the C library's
            // free reads no size from the layout).
            unsafe { System.dealloc(p, layout) }
        }

        #[inline]
        unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: `new_size` is non-zero and, rounded up to the
            // alignment, fits `isize` (the caller's promise).
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            let Some(new_c) = class_of(&new) else {
                // A large block: the system allocator's (it may grow it in
                // place); a small one it was made for is its block too.
                // SAFETY: the caller's block and layout, passed on.
                return unsafe { System.realloc(p, layout, new_size) };
            };
            if class_of(&layout) == Some(new_c) {
                // The block has the class's usable size.
                return p;
            }
            // Into a block of the new class (so every block kept here has
            // its class's usable size, whatever the C library's realloc
            // would have returned).
            // SAFETY: both blocks hold the smaller size; `p` is freed once,
            // here.
            unsafe {
                let q = self.alloc(new);
                if !q.is_null() {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    self.dealloc(p, layout);
                }
                q
            }
        }
    }
}

/// 0: clean; 1: findings at or above --fail-on; 2: could not run.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Rules { format } => print_rules(format).map(|_| ExitCode::SUCCESS),
        Command::Explain { id } => explain(&id),
        Command::Route(args) => run_route(args),
        Command::Diff(args) => run_diff(&args),
        Command::Graph(args) => run_graph(&args),
        Command::Values(args) => run_values(&args),
    };
    // The output is written and flushed: what is left is freed by the exit.
    mclint::proxy::vm::abandon_kept_state();
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("mclint: {}", escape::lines(&format!("{e:#}")));
            // Stopped by SIGINT or SIGTERM (after cleaning up): the shell's
            // convention, 128 + the signal.
            let interrupted = e.downcast_ref::<mclint::diff::Interrupted>().or_else(|| {
                e.downcast_ref::<mclint::diff::DiffError>()
                    .and_then(|d| d.interrupted())
            });
            match interrupted {
                Some(i) => ExitCode::from(u8::try_from(128 + i.0).unwrap_or(130)),
                None => ExitCode::from(2),
            }
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run_check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut options = match &args.config {
        Some(path) => mclint::config::load(path)?,
        None => match std::env::current_dir()
            .ok()
            .and_then(|d| mclint::config::discover(&d))
        {
            Some(path) => mclint::config::load(&path)?,
            None => CheckOptions::default(),
        },
    };
    // `--select` on the command line replaces the config's list (asking for one
    // rule must run that rule only); `--ignore` adds to it.
    if !args.select.is_empty() {
        options.select = args.select.clone();
    }
    options.ignore.extend(args.ignore.iter().cloned());
    options.validate()?;
    options.kube_version = args.kube_version.clone();
    options.schema_dir = args.schema_dir.clone();
    options.namespace = args.namespace.clone();
    options.skip_non_k8s = args.skip_non_k8s;
    options.libs = mclint::rendering::read_libs(
        &args.lib,
        &InputLimits {
            max_bytes: args
                .max_input_size
                .unwrap_or(mclint::manifest::DEFAULT_MAX_INPUT_BYTES),
        },
    )
    .context("--lib")?;
    let schemas = mclint::schema::load(&options.settings())?;
    schemas.compile_dir_schemas()?;

    let limits = InputLimits {
        max_bytes: args
            .max_input_size
            .unwrap_or(mclint::manifest::DEFAULT_MAX_INPUT_BYTES),
    };
    let (inputs, errors) = read_inputs_with(&args.paths, &mut std::io::stdin().lock(), &limits);
    for e in &errors {
        eprintln!("mclint: {}", escape::line(&e.to_string()));
    }
    let format: report::Format = args.format.into();
    // Only JUnit lists the documents that passed.
    options.list_checked = matches!(format, report::Format::Junit);
    // Only the writers that map findings to template lines read the inputs
    // again; otherwise their text goes before the rules over the whole set.
    let maps_templates = matches!(
        format,
        report::Format::Json | report::Format::Sarif | report::Format::Github
    );
    let (report, inputs) = if maps_templates {
        (check_with(&inputs, &options, Some(schemas)), inputs)
    } else {
        (check_owned(inputs, &options, Some(schemas)), Vec::new())
    };
    if report.documents == 0 && report.configs == 0 && report.skipped == 0 {
        if !errors.is_empty() {
            return Ok(ExitCode::from(2));
        }
        if !args.allow_empty {
            let what = if args.paths.is_empty() || args.paths.iter().any(|p| p.as_os_str() == "-") {
                "standard input".to_string()
            } else {
                args.paths
                    .iter()
                    .map(|p| escape::line(&p.display().to_string()).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            eprintln!(
                "mclint: {what} holds no YAML documents; if it came from `helm template`, that command failed (pass --allow-empty to accept empty input)"
            );
            return Ok(ExitCode::from(2));
        }
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut report = report;
    // Only the formats that show template lines read the chart from disk.
    if maps_templates {
        mclint::template_lines::enrich(
            &mut report.findings,
            &inputs,
            args.chart_dir.as_deref(),
            &std::env::current_dir().unwrap_or_default(),
        );
    }
    report::write(
        format,
        &report,
        &TextStyle {
            color,
            chart_dir: args.chart_dir.clone(),
        },
        &mut out,
    )
    .context("writing the report")?;
    out.flush().context("writing the report")?;
    if !errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let level = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    Ok(if level.is_some_and(|l| report.fails(l)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `mclint values`: exit codes as `check` (0 clean, 1 findings at or above
/// --fail-on, 2 could not run).
fn run_values(args: &mclint::cli::ValuesArgs) -> anyhow::Result<ExitCode> {
    let request = mclint::values::ValuesRequest {
        files: args.files.clone(),
        chart: args.chart.clone(),
    };
    let report = mclint::values::run(&request, &mut std::io::stdin().lock())?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    report::write(
        args.format.into(),
        &report,
        &TextStyle {
            color,
            ..TextStyle::default()
        },
        &mut out,
    )
    .context("writing the report")?;
    out.flush().context("writing the report")?;
    Ok(
        if fail_level(args.fail_on).is_some_and(|l| report.fails(l)) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn fail_level(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

/// `mclint diff`: 0 done, 1 a route moves more than --max-remap, 2 could not run.
fn run_diff(args: &mclint::cli::DiffArgs) -> anyhow::Result<ExitCode> {
    let req = mclint::diff::DiffRequest::from(args);
    let report = mclint::diff::run(&req, &mut std::io::stdin().lock())?;
    for w in &report.warnings {
        eprintln!("mclint: {}", escape::lines(w));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    report::diff::write(req.format, &report, &mut out).context("writing the report")?;
    out.flush().context("writing the report")?;
    Ok(if report.exceeded.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `mclint graph`: 0 drawn, 2 could not run.
fn run_graph(args: &mclint::cli::GraphArgs) -> anyhow::Result<ExitCode> {
    let req = mclint::graph::GraphRequest::from(args);
    let graph = mclint::graph::run(&req, &mut std::io::stdin().lock())?;
    for w in &graph.warnings {
        eprintln!("mclint: warning: {}", escape::lines(w));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(report::graph::render(&graph, req.format).as_bytes())
        .context("writing the graph")?;
    out.flush().context("writing the graph")?;
    Ok(ExitCode::SUCCESS)
}

fn run_route(args: mclint::cli::RouteArgs) -> anyhow::Result<ExitCode> {
    let req = mclint::route::RouteRequest::from(&args);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // Placements are written as they are made; --stats and --fail summarise.
    let summary = mclint::route::run_with(&req, &mut |item| {
        report::route::write_streamed(args.format.into(), &item, &mut out)
            .map_err(mclint::route::RouteError::Write)
    })?;
    if let Some(summary) = summary {
        report::route::write(args.format.into(), &summary, &mut out)
            .context("writing the routes")?;
    }
    out.flush().context("writing the routes")?;
    Ok(ExitCode::SUCCESS)
}

fn print_rules(format: RulesFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        RulesFormat::Text => {
            let id_width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let sev_width = RULES
                .iter()
                .map(|r| r.severity.as_str().len())
                .max()
                .unwrap_or(0);
            for r in RULES {
                writeln!(
                    out,
                    "{:<id_width$}  {:<sev_width$}  {}",
                    r.id,
                    r.severity.as_str(),
                    r.summary
                )?;
            }
        }
        RulesFormat::Markdown => out.write_all(rules::markdown().as_bytes())?,
    }
    Ok(())
}

fn explain(id: &str) -> anyhow::Result<ExitCode> {
    match rules::find(id) {
        Some(r) => {
            print!(
                "# {} ({})\n\n{}\n\n{}\n",
                r.id,
                r.severity,
                r.summary,
                r.docs.trim_end()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let near = mclint::suggest::nearest_ids(id, RULES.iter().map(|r| r.id), 5);
            let near = match near.as_slice() {
                [] => String::new(),
                [one] => format!("; did you mean `{one}`?"),
                many => format!(
                    "; did you mean one of {}?",
                    many.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            eprintln!(
                "mclint: unknown rule `{}`{near} (see `mclint rules`)",
                escape::line(id)
            );
            Ok(ExitCode::from(2))
        }
    }
}
