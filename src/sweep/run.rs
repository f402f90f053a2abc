//! Runs a sweep's rows in parallel on a `rayon` pool of `--jobs` threads. Each run is the model
//! alone (no files): its summary gives the metrics, read by [`figure`]. Results are collected in
//! row order, so the thread count never changes the output.

use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::spec::Sweep;
use super::table::RowResult;
use crate::figures::figure;
use crate::model::{Config, Model, NullRecorder};
use crate::output::summary::summarise;

fn run_one(config: &Config, seed: u64, metrics: &[String]) -> Result<Vec<Option<f64>>, String> {
    let mut config = config.clone();
    config.seed = seed;
    let mut model = Model::new(config, NullRecorder).map_err(|e| e.to_string())?;
    model.run().map_err(|e| format!("seed {seed}: {e}"))?;
    let (outcome, _) = model.finish();
    let summary = summarise(&outcome).to_value();
    Ok(metrics.iter().map(|m| figure(&summary, m)).collect())
}

/// Runs `rows` (row indices of the sweep) on `jobs` threads.
pub(super) fn run_rows(
    sweep: &Sweep,
    base_file: &Path,
    rows: &[u64],
    jobs: usize,
    progress: bool,
) -> Result<Vec<RowResult>, String> {
    let replications = u64::from(sweep.replications);
    // Each point's scenario is built once.
    let mut points: Vec<u64> = rows.iter().map(|r| r / replications).collect();
    points.dedup();
    let configs: Vec<(u64, Config)> =
        points.iter().map(|&p| sweep.scenario(p, base_file).map(|s| (p, s.config))).collect::<Result<_, _>>()?;
    // More threads than runs would only cost their stacks.
    let threads = jobs.clamp(1, rows.len().max(1));
    let config_of = |point: u64| &configs[configs.binary_search_by_key(&point, |(p, _)| *p).expect("built above")].1;

    let bar = if progress {
        let bar = ProgressBar::with_draw_target(Some(rows.len() as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} runs {pos}/{len} [{bar:30}] ({elapsed}, {eta} left)")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let results = pool.install(|| {
        rows.par_iter()
            .map(|&row| {
                let point = row / replications;
                let replication = (row % replications) as u32;
                let seed = sweep.seed_of(replication);
                let metrics = run_one(config_of(point), seed, &sweep.metrics)
                    .map_err(|e| format!("point {point}, replication {replication}: {e}"))?;
                bar.inc(1);
                Ok(RowResult { row, point, replication, seed, metrics })
            })
            .collect::<Result<Vec<_>, String>>()
    });
    bar.finish_and_clear();
    results
}
