//! Runs a sweep's rows in parallel on a `rayon` pool of `--jobs` threads. Each run is the model
//! alone (no files): its summary gives the metrics. Results are collected in row order, so the
//! thread count never changes the output.

use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::Value;

use super::spec::Sweep;
use super::table::RowResult;
use crate::model::{Config, ErrorCode, InstanceState, Model, NullRecorder, TerminationPath};
use crate::output::summary::summarise;

/// Whether `metric` names an entry of a count map of `summary.json` (`requests.by_error.X`),
/// which omits zeros: missing there is 0, not "no number".
pub fn count_map_name(metric: &str) -> bool {
    let Some((map, name)) = metric.rsplit_once('.') else { return false };
    match map {
        "instances.by_final_state" => InstanceState::ALL.iter().any(|s| s.as_str() == name),
        "instances.by_path" => TerminationPath::ALL.iter().any(|p| p.as_str() == name),
        "requests.by_error" => ErrorCode::ALL.iter().any(|e| e.as_str() == name),
        _ => false,
    }
}

/// One step of a dotted path: a key, or a position in a list (`jobs.0.latency_s`).
pub fn step<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Array(list) => key.parse::<usize>().ok().and_then(|i| list.get(i)),
        _ => v.get(key),
    }
}

/// The number at a dotted path of a summary.
pub fn metric(summary: &Value, path: &str) -> Option<f64> {
    match path.split('.').try_fold(summary, step) {
        Some(v) => v.as_f64(),
        None => count_map_name(path).then_some(0.0),
    }
}

fn run_one(config: &Config, seed: u64, metrics: &[String]) -> Result<Vec<Option<f64>>, String> {
    let mut config = config.clone();
    config.seed = seed;
    let mut model = Model::new(config, NullRecorder).map_err(|e| e.to_string())?;
    model.run().map_err(|e| format!("seed {seed}: {e}"))?;
    let (outcome, _) = model.finish();
    let summary = summarise(&outcome).to_value();
    Ok(metrics.iter().map(|m| metric(&summary, m)).collect())
}

/// Runs `rows` (row indices of the sweep) on `jobs` threads.
pub fn run_rows(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_are_read_at_dotted_paths_and_omitted_counts_are_zero() {
        let summary = json!({ "peak_cvms": 12, "termination_latency_s": { "p99": null },
                              "requests": { "by_error": { "RequestLimitExceeded": 3 } } });
        assert_eq!(metric(&summary, "peak_cvms"), Some(12.0));
        assert_eq!(metric(&summary, "termination_latency_s.p99"), None);
        assert_eq!(metric(&summary, "requests.by_error.RequestLimitExceeded"), Some(3.0));
        assert_eq!(metric(&summary, "requests.by_error.InternalError"), Some(0.0));
        assert_eq!(metric(&summary, "requests.by_error.RequestLimitExceded"), None);
        assert_eq!(metric(&summary, "no.such.metric"), None);
        let with_jobs = json!({ "jobs": [ { "latency_s": 231.5 }, { "latency_s": null } ] });
        assert_eq!(metric(&with_jobs, "jobs.0.latency_s"), Some(231.5));
        assert_eq!(metric(&with_jobs, "jobs.1.latency_s"), None);
        assert_eq!(metric(&with_jobs, "jobs.2.latency_s"), None);
    }
}
