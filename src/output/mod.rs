//! The outputs of a run (SPEC §4): `timeline.csv`, `requests.csv` and `occupancy.csv` streamed
//! while the model runs, then `instances.csv`, `summary.json`, `charts/` and `run.json`, all in a
//! staged folder that is renamed into place at the end: [`run_to_dir`] does it all.
//!
//! Everything here reads what the model recorded; nothing here changes the model.

pub(crate) mod cancellations;
pub mod charts;
pub(crate) mod csv;
pub(crate) mod instances;
pub mod plot;
pub(crate) mod run;
mod staging;
pub mod summary;

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

pub use csv::CsvRecorder;
pub use run::{RunOptions, RunReport, peak_memory_bytes, run_to_dir, summary_of};
pub use staging::StagedDir;

/// `summary.json`'s text: pretty JSON and a final line break.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("plain JSON");
    text.push('\n');
    text
}

pub(crate) fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    std::fs::write(path, json_text(value)).with_context(|| format!("cannot write `{}`", path.display()))
}
