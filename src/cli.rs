//! Command-line interface (clap derive). Parsing only: no work happens here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diff::DiffFormat;
use crate::graph::GraphFormat;
use crate::report::Format;
use crate::report::route::RouteFormat;

#[derive(Debug, Parser)]
#[command(
    name = "mclint",
    version,
    about = "Prove a rendered memcached chart is right before it reaches a cluster"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint rendered manifests (files, directories, or `-` for stdin) and proxy configs (`.lua`).
    Check(CheckArgs),
    /// List the rules.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Compare two renderings: object changes, and the share of keys each proxy route moves.
    Diff(DiffArgs),
    /// Show where keys go through a routelib proxy config (route, ordered backends).
    Route(RouteArgs),
    /// Draw the rendered topology (apps, proxies, routes, pools, cache pods) as Mermaid, DOT or SVG.
    Graph(GraphArgs),
    /// Check values files against a chart's values.schema.json, merged as `helm install -f` merges them.
    Values(ValuesArgs),
    /// Print one rule's documentation.
    Explain {
        /// The rule id, as `mclint rules` lists it.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to read; `-` or nothing reads standard input.
    pub paths: Vec<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Run only these rules (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Config file (default: `.mclint.yaml` in this directory or a parent).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The namespace the rendering is applied to: where objects without
    /// `metadata.namespace` land (as with `helm install -n`; default: `default`).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Kubernetes version to validate against: `1.33`, `v1.33` or `1.33.4` (default: the newest supported).
    #[arg(long)]
    pub kube_version: Option<String>,
    /// Directory of extra or overriding JSON schemas, laid out like `schemas/`.
    #[arg(long)]
    pub schema_dir: Option<PathBuf>,
    /// Exit 0 instead of 2 when the input holds no documents at all.
    #[arg(long)]
    pub allow_empty: bool,
    /// Refuse inputs whose bytes, all files and standard input together, exceed
    /// this size (`300M`, `1G`, or bytes; default 256M).
    #[arg(long, value_name = "SIZE", value_parser = crate::manifest::parse_size)]
    pub max_input_size: Option<u64>,
    /// Skip documents with neither `apiVersion` nor `kind` (docker-compose, CI
    /// configs, values files) instead of reporting them; they are counted in the summary.
    #[arg(long)]
    pub skip_non_k8s: bool,
    /// A Lua library loaded before each `.lua` config given, as
    /// `-o proxy_config=routelib:FILE` loads it (a handler library); repeatable, in order.
    #[arg(long, value_name = "FILE.lua")]
    pub lib: Vec<PathBuf>,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// The chart's directory relative to the repository root, for the file paths and
    /// template lines of `sarif` and `github` output (default: `charts/<chart name>`);
    /// see docs/output.md.
    #[arg(long, value_name = "DIR")]
    pub chart_dir: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Rendered manifests (proxies are found in them) or `.lua` proxy configs.
    pub paths: Vec<PathBuf>,
    /// A key to route (repeatable).
    #[arg(long = "key")]
    pub keys: Vec<String>,
    /// A file of keys, one per line.
    #[arg(long)]
    pub keys_file: Option<PathBuf>,
    /// The command sent with each key (get, set, delete, mg, ms, incr, ...).
    #[arg(long, default_value = "get")]
    pub command: String,
    /// Which proxy when PATHS hold several (workload, container or file name).
    #[arg(long)]
    pub proxy: Option<String>,
    /// A routelib proxy config (`.lua`) to use instead of PATHS.
    #[arg(long, alias = "config", value_name = "FILE.lua")]
    pub proxy_config: Option<PathBuf>,
    /// Extra routelib library loaded before the config (as in proxy_config=routelib:LIB), repeatable.
    #[arg(long)]
    pub lib: Vec<PathBuf>,
    /// NAME=VALUE for local_zone_from_env with --proxy-config (repeatable).
    #[arg(long)]
    pub env: Vec<String>,
    /// The routes{} tag to use.
    #[arg(long, default_value = "default")]
    pub tag: String,
    /// Spread N synthetic keys over the backends and report the imbalance
    /// (1 to 10000000; the keys are made one at a time, so memory does not
    /// grow with N). With --key, the keys are `<key>0`, `<key>1`, ...
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=crate::route::MAX_STATS_KEYS))]
    pub stats: Option<u64>,
    /// With this backend down (host:port, host, pod name or label, or
    /// `zone:NAME` for every backend of a pool set's zone), what reads and
    /// writes of the given keys get, or with --stats N the share of N
    /// synthetic keys, per route.
    #[arg(long, value_name = "BACKEND")]
    pub fail: Option<String>,
    /// Answer for a client in this zone: the proxy pinned to it (by node
    /// selector or affinity on a zone label) when proxies are zone-pinned,
    /// else the config read with local_zone("ZONE").
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
    /// Text for people, or JSON lines (`{"key","command","route","backends":[...]}`).
    #[arg(long, short = 'f', value_enum, default_value_t = RouteFormatArg::Text)]
    pub format: RouteFormatArg,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// A values file (repeatable; later files override earlier ones, as with helm; `-` reads standard input).
    #[arg(long = "values", short = 'f', value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The chart directory: its values.schema.json and values.yaml (the defaults the files override).
    #[arg(long, value_name = "DIR")]
    pub chart: PathBuf,
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

impl From<&RouteArgs> for crate::route::RouteRequest {
    fn from(a: &RouteArgs) -> crate::route::RouteRequest {
        crate::route::RouteRequest {
            paths: a.paths.clone(),
            keys: a.keys.clone(),
            keys_file: a.keys_file.clone(),
            command: a.command.clone(),
            proxy: a.proxy.clone(),
            proxy_config: a.proxy_config.clone(),
            libs: a.lib.clone(),
            env: a.env.clone(),
            tag: a.tag.clone(),
            stats: a.stats,
            fail: a.fail.clone(),
            zone: a.zone.clone(),
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 done, 1 a route moves more than --max-remap, 2 could not run."
)]
pub struct DiffArgs {
    /// The old rendering: a file, a directory or `-` (standard input).
    #[arg(required_unless_present = "chart", conflicts_with = "chart")]
    pub old: Option<PathBuf>,
    /// The new rendering: a file, a directory or `-`.
    #[arg(required_unless_present = "chart", conflicts_with = "chart")]
    pub new: Option<PathBuf>,
    /// Render this chart at --base and in the working tree, and compare.
    #[arg(long, requires = "base")]
    pub chart: Option<PathBuf>,
    /// Git ref (branch, tag, commit) of the old rendering, with --chart.
    #[arg(long, requires = "chart")]
    pub base: Option<String>,
    /// Values file for both renderings (repeatable). One tracked in git is read
    /// at --base for the old rendering.
    #[arg(long = "values", short = 'f', requires = "chart")]
    pub values: Vec<PathBuf>,
    /// `--set` for both renderings (repeatable).
    #[arg(long, requires = "chart")]
    pub set: Vec<String>,
    /// `--set-string` for both renderings (repeatable).
    #[arg(long, requires = "chart")]
    pub set_string: Vec<String>,
    /// Release name for both renderings.
    #[arg(long, default_value = "release")]
    pub release: String,
    /// Namespace for both renderings.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// The Helm command (default: $HELM_BIN, else `helm`).
    #[arg(long)]
    pub helm: Option<PathBuf>,
    /// Seconds each `helm template` may take before it is killed (with the
    /// processes it started), with --chart.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub helm_timeout: u64,
    /// Number of deterministic synthetic keys to route through both configs.
    #[arg(long, default_value_t = 100_000)]
    pub keys: usize,
    /// Real keys to route instead, one per line.
    #[arg(long)]
    pub keys_file: Option<PathBuf>,
    /// Exit 1 when a route moves more than this percentage of keys.
    #[arg(long, value_name = "PERCENT")]
    pub max_remap: Option<f64>,
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Text)]
    pub format: DiffFormatArg,
    /// Lines of context in object diffs.
    #[arg(long, default_value_t = 3)]
    pub context: usize,
    /// A Lua library loaded before each `.lua` config given (on both sides), as
    /// `-o proxy_config=routelib:FILE` loads it (a handler library); repeatable, in order.
    #[arg(long, value_name = "FILE.lua")]
    pub lib: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 drawn, 2 could not run.")]
pub struct GraphArgs {
    /// Rendered manifests (files, directories, or `-` for stdin) and `.lua` proxy configs.
    pub paths: Vec<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormatArg::Mermaid)]
    pub format: GraphFormatArg,
    /// Draw only this proxy (workload, container or file name, or a part of it).
    #[arg(long)]
    pub proxy: Option<String>,
    /// A Lua library loaded before each `.lua` config given, as
    /// `-o proxy_config=routelib:FILE` loads it; repeatable, in order.
    #[arg(long, value_name = "FILE.lua")]
    pub lib: Vec<PathBuf>,
}

/// A `--format` value: a clap enum mirroring the library's own, so only this
/// file knows clap.
macro_rules! format_arg {
    ($(#[$doc:meta])* $name:ident => $target:ident { $($(#[$vdoc:meta])* $variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl From<$name> for $target {
            fn from(v: $name) -> $target {
                match v {
                    $($name::$variant => $target::$variant),*
                }
            }
        }
    };
}

format_arg! {
    /// `--format` of `check` and `values`.
    FormatArg => Format {
        /// For people: grouped by template, coloured on a terminal.
        Text,
        /// A stable JSON document (`{"findings": [...], "summary": {...}}`).
        Json,
        /// SARIF 2.1.0, for code-scanning UIs (GitHub code scanning and others).
        Sarif,
        /// JUnit XML: a testsuite per input file, a testcase per object.
        Junit,
        /// GitHub Actions workflow commands (`::error file=...,line=...::...`).
        Github,
    }
}

format_arg! {
    /// `--format` of `route`: data, not findings.
    RouteFormatArg => RouteFormat { Text, Json }
}

format_arg! {
    /// `--format` of `diff`.
    DiffFormatArg => DiffFormat {
        Text,
        Json,
        /// Markdown for a GitHub job summary or PR comment.
        Github,
    }
}

format_arg! {
    /// `--format` of `graph`.
    GraphFormatArg => GraphFormat {
        /// A Mermaid flowchart (renders in GitHub Markdown).
        Mermaid,
        /// Graphviz DOT.
        Dot,
        /// A standalone SVG image, laid out by mclint.
        Svg,
    }
}

impl From<&DiffArgs> for crate::diff::DiffRequest {
    fn from(a: &DiffArgs) -> crate::diff::DiffRequest {
        crate::diff::DiffRequest {
            old: a.old.clone(),
            new: a.new.clone(),
            chart: a.chart.clone(),
            base: a.base.clone(),
            values: a.values.clone(),
            set: a.set.clone(),
            set_string: a.set_string.clone(),
            release: a.release.clone(),
            namespace: a.namespace.clone(),
            helm: a.helm.clone(),
            helm_timeout: a.helm_timeout,
            keys: a.keys,
            keys_file: a.keys_file.clone(),
            max_remap: a.max_remap,
            format: a.format.into(),
            context: a.context,
            libs: a.lib.clone(),
        }
    }
}

impl From<&GraphArgs> for crate::graph::GraphRequest {
    fn from(a: &GraphArgs) -> crate::graph::GraphRequest {
        crate::graph::GraphRequest {
            paths: a.paths.clone(),
            format: a.format.into(),
            proxy: a.proxy.clone(),
            libs: a.lib.clone(),
        }
    }
}
