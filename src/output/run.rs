//! `termsim run`: a scenario run with its outputs written ([`run_to_dir`]), or run for its
//! summary alone ([`summary_of`], what `termsim check` compares).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::staging::StagedDir;
use super::stream::StreamRecorder;
use super::summary::{self, Summary};
use super::{Format, cancellations, charts, instances, parquet, write_json};
use crate::Error;
use crate::model::{Model, NullRecorder};
use crate::scenario::Scenario;

/// How to run and where to write.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The results folder, replaced if it holds termsim results (or is empty).
    pub out: PathBuf,
    /// Write `timeline.csv` (it is by far the largest output).
    pub timeline: bool,
    /// Draw the charts.
    pub charts: bool,
    /// Show a progress bar on stderr when it is a terminal.
    pub progress: bool,
    /// The format of the tables.
    pub format: Format,
}

/// What a finished run tells its caller.
#[derive(Debug)]
pub struct RunReport {
    /// Where the results are.
    pub out: PathBuf,
    /// What `summary.json` holds, the verdicts of the scenario's expectations (`expect`) included.
    pub summary: Summary,
    /// Events the model handled.
    pub events: u64,
    /// The whole run, from reading nothing to the results in place.
    pub wall: Duration,
    /// The event loop alone: what `events_per_second` in `run.json` is measured over.
    pub simulation: Duration,
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux only).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs a scenario and writes its outputs to `options.out`. Every error is an
/// [`Error::Output`]: the scenario was checked when it was loaded.
pub fn run_to_dir(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, Error> {
    let started = Instant::now();
    let staged =
        StagedDir::create(&options.out).with_context(|| format!("cannot prepare `{}`", options.out.display()))?;
    let dir = staged.path().to_owned();
    let config = &scenario.config;
    let recorder = StreamRecorder::create(&dir, config, options.timeline, options.charts, options.format)
        .context("cannot create the output files")?;
    let mut model = Model::new(config.clone(), recorder)?;
    let bar = crate::progress::SimProgress::new(options.progress, config.horizon);
    let setup_done = Instant::now();
    model.run_with_progress(1 << 18, |now, events| bar.update(now, events))?;
    let simulation = setup_done.elapsed();
    bar.finish();
    let (outcome, recorder) = model.finish();
    let events = outcome.events;
    let written = write_outcome(&dir, &outcome, recorder, scenario)?;
    let (summary, chart_wall, streamed_done, summary_done) =
        (written.summary, written.chart_wall, written.streamed_done, written.summary_done);
    let finished = Instant::now();
    let wall = finished - started;
    let seconds = |from: Instant, to: Instant| (to - from).as_secs_f64();
    let run_info = json!({
        "termsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": config.name,
        "wall_time_s": wall.as_secs_f64(),
        "phases_s": {
            "setup": seconds(started, setup_done),
            "simulation": simulation.as_secs_f64(),
            "streamed_tail": seconds(setup_done + simulation, streamed_done),
            "summary": seconds(streamed_done, summary_done),
            "instances_and_charts": seconds(summary_done, finished),
        },
        "charts_wall_time_s": chart_wall,
        "events": events,
        "events_per_second": events as f64 / simulation.as_secs_f64().max(1e-9),
        "events_per_second_end_to_end": events as f64 / wall.as_secs_f64().max(1e-9),
        "instances": config.total_instances(),
        "peak_memory_bytes": peak_memory_bytes(),
        "timeline_written": options.timeline,
        "format": options.format.extension(),
    });
    write_json(&dir.join("run.json"), &run_info)?;
    let out = staged.commit().with_context(|| format!("cannot move the results into `{}`", options.out.display()))?;
    Ok(RunReport { out, summary, events, wall, simulation })
}

/// What [`write_outcome`] wrote and when its phases ended (for `run.json`).
pub(crate) struct Written {
    pub summary: Summary,
    pub chart_wall: Option<f64>,
    pub streamed_done: Instant,
    pub summary_done: Instant,
}

/// The outputs of a finished run into `dir`, a staging folder: the end of the streamed CSV
/// files, `summary.json` (with the verdicts of the scenario's expectations), `instances.csv`,
/// `cancellations.csv` and the charts. `termsim run` and `termsim serve` share it, so a served
/// session and its replay write their files with the same code.
pub(crate) fn write_outcome(
    dir: &std::path::Path,
    outcome: &crate::model::Outcome,
    recorder: StreamRecorder,
    scenario: &Scenario,
) -> Result<Written, Error> {
    let format = recorder.format();
    let mut chart_data = recorder.finish().context("cannot write the timeline, the requests or the occupancy")?;
    let streamed_done = Instant::now();
    if let Some(data) = &mut chart_data {
        for (report, instance) in outcome.instance_reports().zip(&outcome.instances) {
            data.instance(&charts::InstanceRow {
                job: outcome.tasks[instance.task as usize].job,
                path: report.path,
                requested: report.terminate_requested,
                terminated: report.terminated,
                released: report.released,
            });
        }
        if cancellations::applies(outcome) {
            for row in cancellations::rows(outcome) {
                data.cancellation(row.group(), row.latency());
            }
        }
    }

    let mut summary = summary::summarise(outcome);
    let summary_json = summary.check_expectations(&scenario.expectations);
    write_json(&dir.join("summary.json"), &summary_json)?;
    let summary_done = Instant::now();

    // instances.csv is written on a second core while the charts are drawn on this one.
    let mut chart_wall = None;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let instances_written = scope.spawn(|| {
            match format {
                Format::Csv => instances::write(&dir.join("instances.csv"), outcome)?,
                Format::Parquet => parquet::write_instances(dir, outcome)?,
            }
            if cancellations::applies(outcome) {
                match format {
                    Format::Csv => cancellations::write(&dir.join("cancellations.csv"), outcome)?,
                    Format::Parquet => parquet::write_cancellations(dir, outcome)?,
                }
            }
            Ok::<(), std::io::Error>(())
        });
        if let Some(data) = chart_data {
            let started = Instant::now();
            let meta =
                charts::RunMeta::from_summary(&summary_json).map_err(|e| anyhow::anyhow!("summary.json: {e}"))?;
            let charts_dir = dir.join("charts");
            std::fs::create_dir(&charts_dir).context("cannot create charts/")?;
            charts::draw_all(&meta, data, &charts_dir)?;
            chart_wall = Some(started.elapsed().as_secs_f64());
        }
        instances_written
            .join()
            .expect("writing instances.csv does not panic")
            .context("cannot write the instances or the cancellations")
    })?;

    Ok(Written { summary, chart_wall, streamed_done, summary_done })
}

/// The summary a run of `scenario` writes to `summary.json` (expectations included), from the
/// model alone: what `termsim check` compares, without writing any file.
pub fn summary_of(scenario: &Scenario) -> Result<Summary, Error> {
    let mut model = Model::new(scenario.config.clone(), NullRecorder)?;
    model.run()?;
    let (outcome, _) = model.finish();
    let mut summary = summary::summarise(&outcome);
    summary.check_expectations(&scenario.expectations);
    Ok(summary)
}
