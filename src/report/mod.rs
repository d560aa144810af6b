//! One writer per output format. Only this module and `main.rs` print.

mod json;
mod text;

use std::io::{self, Write};

use crate::check::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct TextStyle {
    pub color: bool,
}

pub fn write(
    format: Format,
    report: &Report,
    style: &TextStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, style, out),
        Format::Json => json::write(report, out),
    }
}
