//! Command-line interface (clap derive). Parsing only: no work happens here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

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
    Diff(crate::diff::DiffArgs),
    /// Show where keys go through a routelib proxy config (route, ordered backends).
    Route(RouteArgs),
    /// Draw the rendered topology (apps, proxies, routes, pools, cache pods) as Mermaid, DOT or SVG.
    Graph(crate::graph::GraphArgs),
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
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=crate::proxy::route_cmd::MAX_STATS_KEYS))]
    pub stats: Option<u64>,
    /// With this backend down (host:port, host, pod name or label), what
    /// reads and writes of the given keys get, or with --stats N the share
    /// of N synthetic keys, per route.
    #[arg(long, value_name = "BACKEND")]
    pub fail: Option<String>,
    /// Text for people, or JSON lines (`{"key","command","route","backends":[...]}`).
    #[arg(long, short = 'f', value_enum, default_value_t = crate::report::route::RouteFormat::Text)]
    pub format: crate::report::route::RouteFormat,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// A values file (repeatable; later files override earlier ones, as with helm; `-` reads standard input).
    #[arg(long = "values", short = 'f', value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The chart directory: its values.schema.json and values.yaml (the defaults the files override).
    #[arg(long, value_name = "DIR")]
    pub chart: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}
