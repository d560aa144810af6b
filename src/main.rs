use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use mclint::check::{CheckOptions, check_sources};
use mclint::cli::{CheckArgs, Cli, Color, Command, FailOn, RulesFormat};
use mclint::finding::Severity;
use mclint::manifest::{Input, InputError, InputLimits, read_sources};
use mclint::report::{self, TextStyle, escape};
use mclint::rules::{self, RULES};
use mclint::streamed::Source;

#[global_allocator]
static ALLOCATOR: mclint::small_blocks::SmallBlocks = mclint::small_blocks::SmallBlocks;

/// An input as the template-line writers get it after the check.
enum Kept {
    Text(std::sync::Arc<Input>),
    Again(mclint::streamed::Reread),
}

/// Each input error on its own line of standard error, escaped.
fn print_errors(errors: &[InputError]) {
    for e in errors {
        eprintln!("mclint: {}", escape::line(&e.to_string()));
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
    let format: report::Format = args.format.into();
    // Only JUnit lists the documents that passed.
    options.list_checked = matches!(format, report::Format::Junit);
    // Only the writers that map findings to template lines read the inputs
    // again; otherwise each input's text goes once its documents are
    // parsed, and a large file is read as it is checked, never whole.
    let maps_templates = matches!(
        format,
        report::Format::Json | report::Format::Sarif | report::Format::Github
    );
    let (sources, errors) = read_sources(&args.paths, &mut std::io::stdin().lock(), &limits, true);
    print_errors(&errors);
    // What the writers that map findings to template lines read once the
    // check is done: the inputs read whole, kept (shared with the check);
    // the large files read as they were checked, read whole again then, if
    // they still hold what was checked.
    let kept: Vec<Kept> = if maps_templates {
        sources
            .iter()
            .map(|s| match s {
                Source::Text(input) => Kept::Text(input.clone()),
                Source::File(file) => Kept::Again(file.reread()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let report = check_sources(sources, &options, Some(schemas));
    // A large file is read again only when the template lines need its text.
    let cwd = std::env::current_dir().unwrap_or_default();
    let mapped = if maps_templates {
        mclint::template_lines::inputs_read(&report.findings, args.chart_dir.as_deref(), &cwd)
    } else {
        Default::default()
    };
    let inputs: Vec<Input> = kept
        .into_iter()
        .filter_map(|k| match k {
            Kept::Text(input) => Some(std::sync::Arc::unwrap_or_clone(input)),
            Kept::Again(file) if mapped.contains(&*file.name) => file.read(),
            Kept::Again(_) => None,
        })
        .collect();
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
            &cwd,
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
