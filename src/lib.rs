//! mclint: proves a rendered distributed-memcached chart is right before it
//! reaches a cluster.

pub mod check;
pub mod cli;
pub mod config;
pub mod diff;
pub mod escape;
pub mod finding;
pub mod graph;
pub mod json;
pub mod k8s;
pub mod manifest;
pub mod memcached;
pub mod netpol;
pub mod proxy;
pub mod rendering;
pub mod report;
pub mod residue;
pub mod route;
pub mod rules;
pub mod schema;
pub mod selector;
pub mod small_blocks;
pub mod streamed;
pub mod suggest;
pub mod template_lines;
pub mod values;
pub mod yaml;
