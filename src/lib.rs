//! mclint: proves a rendered distributed-memcached chart is right before it
//! reaches a cluster.

pub mod check;
pub mod cli;
pub mod config;
pub mod finding;
pub mod k8s;
pub mod manifest;
pub mod report;
pub mod rules;
pub mod suggest;
pub mod yaml;
