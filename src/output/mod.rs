//! The outputs of a run (SPEC §4): `timeline.csv`, `requests.csv` and `occupancy.csv` streamed
//! while the model runs, then `instances.csv`, `summary.json`, `charts/` and `run.json`, all in a
//! staged folder that is renamed into place at the end: [`run_to_dir`] does it all.
//!
//! Everything here reads what the model recorded; nothing here changes the model.

pub(crate) mod cancellations;
pub mod charts;
pub(crate) mod csv;
pub(crate) mod instances;
pub(crate) mod names;
pub(crate) mod parquet;
pub mod plot;
pub(crate) mod run;
mod staging;
pub(crate) mod stream;
pub mod summary;

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

pub use run::{RunOptions, RunReport, peak_memory_bytes, run_to_dir, summary_of};
pub use staging::StagedDir;
pub use stream::StreamRecorder;

/// The format of the tables a run writes (`--format`): `summary.json`, `run.json` and the
/// charts are the same in both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `.csv` files: text, one row per line.
    #[default]
    Csv,
    /// `.parquet` files: typed columns, dictionary-encoded vocabularies, zstd.
    Parquet,
}

impl Format {
    /// The tables' file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// `summary.json`'s text: pretty JSON and a final line break.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("plain JSON");
    text.push('\n');
    text
}

pub(crate) fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    std::fs::write(path, json_text(value)).with_context(|| format!("cannot write `{}`", path.display()))
}
