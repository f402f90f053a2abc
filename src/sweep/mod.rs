//! Capacity studies (SPEC §5): `termsim sweep` and `termsim merge`.
//!
//! A sweep varies keys of a base scenario ([`spec`]), runs every point `replications` times in
//! parallel (`run`), replication r of every point on the same derived seed (common random
//! numbers: differences between points are not drowned in seed noise), and writes:
//!
//! - `sweep.json`: the sweep resolved (the base scenario with its defaults, keys, values,
//!   metrics, seed): what `merge` needs, and a record of what was run;
//! - `sweep.csv`: `point,replication,seed,<each varied key>,<each metric>`, one row per run;
//! - `points.csv`: per point and metric, n, mean, standard deviation and the 95 % confidence
//!   interval of the mean from Student's t;
//! - `charts/METRIC.svg|png`: each metric against the first varied key.
//!
//! With `--shard K/N` only the rows whose index modulo N is K-1 run, and the folder holds
//! `sweep.json` and those rows of `sweep.csv`; `merge` joins shards into exactly what the
//! unsharded sweep writes, because both go through [`write_results`] with the same rows.

mod chart;
mod pointer;
mod run;
pub mod spec;
mod stats;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::Error;
use crate::output::StagedDir;
use crate::output::charts::canvas;
use crate::scenario::InputError;
use crate::scenario::locate::locate;
use spec::{Shard, Sweep};
use table::RowResult;

/// How to run a sweep and where to write.
pub struct SweepOptions {
    /// The results folder. Default: `results/sweeps/<name>/` (`<name>.shard-K-of-N` for a shard).
    pub out: Option<PathBuf>,
    /// Runs at once.
    pub jobs: usize,
    /// Run only this shard's rows.
    pub shard: Option<Shard>,
    /// Show a progress bar on stderr when it is a terminal.
    pub progress: bool,
}

/// What a finished sweep tells its caller.
pub struct SweepReport {
    /// Where the results are.
    pub out: PathBuf,
    /// Runs done.
    pub runs: usize,
    /// Threads the runs used: `--jobs`, at most one per run.
    pub threads: usize,
    /// The whole sweep, from reading the file to the results in place.
    pub wall: Duration,
    /// Wall time of the runs themselves; the rest of `wall` is the sweep machinery (loading,
    /// checking, writing the tables and charts).
    pub run_time: Duration,
}

/// Runs a sweep file (or one shard of it) and writes its results. A bad sweep file, base
/// scenario or point is an [`Error::File`] or [`Error::Input`], found before anything runs.
pub fn sweep(path: &Path, options: &SweepOptions) -> Result<SweepReport, Error> {
    let started = Instant::now();
    let (sweep, base_file) = spec::load(path)?;
    let out = options.out.clone().unwrap_or_else(|| {
        let name = match options.shard {
            Some(s) => format!("{}.shard-{}-of-{}", sweep.name, s.k, s.n),
            None => sweep.name.clone(),
        };
        PathBuf::from("results/sweeps").join(name)
    });
    let rows: Vec<u64> = (0..sweep.rows()).filter(|&r| options.shard.is_none_or(|s| s.takes(r))).collect();
    let staged = StagedDir::create(&out).with_context(|| format!("cannot prepare `{}`", out.display()))?;
    let runs_started = Instant::now();
    let results = run::run_rows(&sweep, &base_file, &rows, options.jobs.max(1), options.progress)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let run_time = runs_started.elapsed();
    match options.shard {
        Some(_) => write_shard(staged.path(), &sweep, &results),
        None => write_results(staged.path(), &sweep, &results),
    }?;
    let out = staged.commit().with_context(|| format!("cannot move the results into `{}`", out.display()))?;
    let threads = options.jobs.clamp(1, results.len().max(1));
    Ok(SweepReport { out, runs: results.len(), threads, wall: started.elapsed(), run_time })
}

fn sweep_json(sweep: &Sweep) -> String {
    serde_json::to_string_pretty(sweep).expect("plain JSON") + "\n"
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

fn write_shard(dir: &Path, sweep: &Sweep, rows: &[RowResult]) -> anyhow::Result<()> {
    write(&dir.join("sweep.json"), &sweep_json(sweep))?;
    write(&dir.join("sweep.csv"), &table::sweep_csv(sweep, rows))
}

/// Everything a complete sweep writes, from its rows in row order.
pub fn write_results(dir: &Path, sweep: &Sweep, rows: &[RowResult]) -> anyhow::Result<()> {
    write(&dir.join("sweep.json"), &sweep_json(sweep))?;
    write(&dir.join("sweep.csv"), &table::sweep_csv(sweep, rows))?;
    let estimates = table::estimates(sweep, rows);
    write(&dir.join("points.csv"), &table::points_csv(sweep, &estimates))?;
    canvas::register_font()?;
    let charts = dir.join("charts");
    std::fs::create_dir(&charts).context("cannot create charts/")?;
    for (m, metric) in sweep.metrics.iter().enumerate() {
        let chart = chart::MetricChart { sweep, metric: m, estimates: &estimates, file_name: chart::file_name(metric) };
        canvas::save(&chart, &charts)?;
    }
    Ok(())
}

/// Joins shard folders into the results of the whole sweep.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<PathBuf, Error> {
    let input = Error::Input;
    let mut sweep: Option<(Sweep, String, &Path)> = None;
    let mut rows: Vec<(RowResult, usize)> = Vec::new();
    for (d, dir) in dirs.iter().enumerate() {
        let json_path = dir.join("sweep.json");
        let text = std::fs::read_to_string(&json_path).map_err(|e| {
            input(format!("{}: cannot read: {e} (is `{}` a sweep folder?)", json_path.display(), dir.display()))
        })?;
        let this: Sweep = serde_json::from_str(&text)
            .map_err(|e| input(format!("{}:{}:{}: {e}", json_path.display(), e.line(), e.column())))?;
        // Edited or damaged, it could still parse: its lists must fit one another before
        // anything indexes them.
        this.check_resolved().map_err(|(path, message)| InputError {
            file: json_path.clone(),
            position: Some(locate(&text, &path.0)),
            path: Some(path),
            message: format!("{message} (this is not a sweep.json termsim wrote)"),
        })?;
        match &sweep {
            None => sweep = Some((this, text, dir)),
            Some((_, first_text, first_dir)) if *first_text != text => {
                return Err(input(format!(
                    "{}: not the sweep of {} (their sweep.json differ)",
                    json_path.display(),
                    first_dir.join("sweep.json").display()
                )));
            }
            Some(_) => {}
        }
        let (s, _, _) = sweep.as_ref().expect("set above");
        rows.extend(table::read_sweep_csv(s, &dir.join("sweep.csv")).map_err(input)?.into_iter().map(|r| (r, d)));
    }
    let Some((sweep, _, _)) = sweep else { return Err(input("merge needs at least one shard folder".to_owned())) };
    rows.sort_by_key(|(r, _)| r.row);
    if let Some(w) = rows.windows(2).find(|w| w[0].0.row == w[1].0.row) {
        return Err(input(format!(
            "point {} replication {} is in more than one shard: {} and {}",
            w[0].0.point,
            w[0].0.replication,
            dirs[w[0].1].display(),
            dirs[w[1].1].display()
        )));
    }
    let rows: Vec<RowResult> = rows.into_iter().map(|(r, _)| r).collect();
    if rows.len() as u64 != sweep.rows() {
        let missing =
            (0..sweep.rows()).find(|r| rows.binary_search_by_key(r, |x| x.row).is_err()).expect("some row is missing");
        let replications = u64::from(sweep.replications);
        return Err(input(format!(
            "{} of {} runs are there: point {} replication {} (and maybe more) is in no shard given",
            rows.len(),
            sweep.rows(),
            missing / replications,
            missing % replications
        )));
    }
    let staged = StagedDir::create(out).with_context(|| format!("cannot prepare `{}`", out.display()))?;
    write_results(staged.path(), &sweep, &rows)?;
    Ok(staged.commit().with_context(|| format!("cannot move the results into `{}`", out.display()))?)
}
