//! The outputs of a run (SPEC §4): `timeline.csv` and `requests.csv` streamed while the model
//! runs, then `instances.csv`, `summary.json` and `run.json`, all in a staged folder that is
//! renamed into place at the end.
//!
//! Everything here reads what the model recorded; nothing here changes the model.

pub mod csv;
pub mod instances;
mod staging;
pub mod summary;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::expect::Verdict;
use crate::model::Model;
use crate::scenario::Scenario;

pub use staging::StagedDir;

/// How to run and where to write.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Write `timeline.csv` (it is by far the largest output).
    pub timeline: bool,
    /// Show a progress bar on stderr when it is a terminal.
    pub progress: bool,
}

/// What a finished run tells its caller.
#[derive(Debug)]
pub struct RunReport {
    pub out: PathBuf,
    pub summary: Value,
    pub verdicts: Vec<Verdict>,
    pub events: u64,
    pub wall: Duration,
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux only).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs a scenario and writes its outputs to `options.out`.
pub fn run_to_dir(scenario: &Scenario, options: &RunOptions) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let staged =
        StagedDir::create(&options.out).with_context(|| format!("cannot prepare `{}`", options.out.display()))?;
    let dir = staged.path().to_owned();
    let config = &scenario.config;
    let recorder = csv::CsvRecorder::create(&dir, config, options.timeline).context("cannot create the CSV files")?;
    let mut model = Model::new(config.clone(), recorder);
    let bar = crate::progress::SimProgress::new(options.progress, config.horizon);
    model.run_with_progress(1 << 18, |now, events| bar.update(now, events));
    bar.finish();
    let (outcome, recorder) = model.finish();
    recorder.finish().context("cannot write timeline.csv / requests.csv")?;
    instances::write(&dir.join("instances.csv"), &outcome).context("cannot write instances.csv")?;

    let mut summary = summary::summarise(&outcome);
    let plain = summary.to_value();
    let verdicts: Vec<Verdict> = scenario.expectations.iter().map(|e| e.check(&plain)).collect();
    summary.expect = verdicts.clone();
    let summary = summary.to_value();
    write_json(&dir.join("summary.json"), &summary)?;

    let wall = started.elapsed();
    let run_info = json!({
        "termsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": config.name,
        "wall_time_s": wall.as_secs_f64(),
        "events": outcome.events,
        "events_per_second": outcome.events as f64 / wall.as_secs_f64().max(1e-9),
        "instances": outcome.instances.len(),
        "peak_memory_bytes": peak_memory_bytes(),
        "timeline_written": options.timeline,
    });
    write_json(&dir.join("run.json"), &run_info)?;
    let out = staged.commit().with_context(|| format!("cannot move the results into `{}`", options.out.display()))?;
    Ok(RunReport { out, summary, verdicts, events: outcome.events, wall })
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("plain JSON");
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}
