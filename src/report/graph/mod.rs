//! Writers for `mclint graph`: [`mermaid`], [`dot`] and [`svg`]. The SVG
//! writer lays the graph out itself (columns left to right, clusters as
//! boxes), so no external tool is needed and the output is byte-for-byte
//! stable.

pub mod dot;
pub mod mermaid;
pub mod svg;

use crate::graph::{Graph, GraphFormat};

/// Writes a graph in a format.
pub fn render(g: &Graph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => mermaid::write(g),
        GraphFormat::Dot => dot::write(g),
        GraphFormat::Svg => svg::write(g),
    }
}
