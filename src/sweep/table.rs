//! `sweep.csv` (one row per run) and `points.csv` (per point and metric: n, mean, standard
//! deviation, 95 % confidence interval), written and read back.
//!
//! Metric values are written in Rust's shortest round-trip form, so a shard's rows read back by
//! `merge` are the same `f64`s the unsharded sweep holds, and everything computed from them
//! comes out byte for byte the same.

use std::fmt::Write as _;
use std::path::Path;

use super::spec::Sweep;
use super::stats::{Estimate, estimate};
use crate::output::csv::escape;

/// What one run of the sweep gave.
#[derive(Clone, Debug, PartialEq)]
pub struct RowResult {
    /// Row index: point × replications + replication.
    pub row: u64,
    /// The point.
    pub point: u64,
    /// The replication.
    pub replication: u32,
    /// The seed it ran on.
    pub seed: u64,
    /// In the sweep's metric order; `None` where the summary has no number.
    pub metrics: Vec<Option<f64>>,
}

fn header(sweep: &Sweep, first: &[&str], last: &[&str]) -> String {
    let columns: Vec<String> = first
        .iter()
        .map(|c| c.to_string())
        .chain(sweep.keys.iter().map(|k| escape(k).into_owned()))
        .chain(last.iter().map(|c| c.to_string()))
        .collect();
    columns.join(",")
}

fn point_cells(sweep: &Sweep, point: u64) -> String {
    sweep
        .coordinates(point)
        .iter()
        .enumerate()
        .map(|(k, &c)| escape(sweep.value_label(k, c)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `sweep.csv`: one row per run, in the order of `rows`.
pub(super) fn sweep_csv(sweep: &Sweep, rows: &[RowResult]) -> String {
    let metrics: Vec<String> = sweep.metrics.iter().map(|m| escape(m).into_owned()).collect();
    let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
    let mut out = header(sweep, &["point", "replication", "seed"], &metrics);
    out.push('\n');
    for r in rows {
        write!(out, "{},{},{},{}", r.point, r.replication, r.seed, point_cells(sweep, r.point)).expect("to a String");
        for m in &r.metrics {
            out.push(',');
            if let Some(v) = m {
                write!(out, "{v}").expect("to a String");
            }
        }
        out.push('\n');
    }
    out
}

/// A figure for `points.csv`: at most six decimals, no trailing zeros.
fn decimal(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

/// Per point and metric, in point order. Rows come in row order, so a point's replications
/// are next to each other, in replication order: one pass.
pub(super) fn estimates(sweep: &Sweep, rows: &[RowResult]) -> Vec<Vec<Estimate>> {
    let mut by_point: Vec<Vec<&RowResult>> = vec![Vec::new(); sweep.points() as usize];
    for r in rows {
        by_point[r.point as usize].push(r);
    }
    by_point
        .iter()
        .map(|of_point| {
            (0..sweep.metrics.len())
                .map(|m| estimate(&of_point.iter().filter_map(|r| r.metrics[m]).collect::<Vec<f64>>()))
                .collect()
        })
        .collect()
}

/// `points.csv`: per point and metric, n, mean, sd and the 95 % confidence interval.
pub(super) fn points_csv(sweep: &Sweep, estimates: &[Vec<Estimate>]) -> String {
    let mut out = header(sweep, &["point"], &["metric", "n", "mean", "sd", "ci95_low", "ci95_high"]);
    out.push('\n');
    let cell = |v: Option<f64>| v.map_or_else(String::new, decimal);
    for (point, per_metric) in estimates.iter().enumerate() {
        for (metric, e) in sweep.metrics.iter().zip(per_metric) {
            let low = e.mean.zip(e.ci95).map(|(m, h)| m - h);
            let high = e.mean.zip(e.ci95).map(|(m, h)| m + h);
            writeln!(
                out,
                "{point},{},{},{},{},{},{},{}",
                point_cells(sweep, point as u64),
                escape(metric),
                e.n,
                cell(e.mean),
                cell(e.sd),
                cell(low),
                cell(high)
            )
            .expect("to a String");
        }
    }
    out
}

/// The largest figure a run's summary holds: its counts are `u64`s, its times and CVM-seconds far
/// smaller. A larger value is not of a sweep, and the mean and spread of a few near `f64::MAX`
/// overflow to infinity, which no chart axis can hold (found with the merge fuzz target).
const MAX_FIGURE: f64 = u64::MAX as f64;

/// Reads a shard's `sweep.csv` back. Errors name the file and line.
pub(super) fn read_sweep_csv(sweep: &Sweep, path: &Path) -> Result<Vec<RowResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut records = reader.records();
    let expected_header = sweep_csv(sweep, &[]);
    let header = records.next().transpose().map_err(|e| format!("{}: {e}", path.display()))?;
    let header_line = header.map(|h| h.iter().map(escape).collect::<Vec<_>>().join(",") + "\n");
    if header_line.as_deref() != Some(expected_header.as_str()) {
        return Err(format!("{}:1:1: the header is not that of this sweep's sweep.csv", path.display()));
    }
    let fixed = 3 + sweep.keys.len();
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("{}:{line}: {e}", path.display()))?;
        let bad = |what: &str| format!("{}:{line}:1: {what}", path.display());
        let number = |k: usize| -> Result<u64, String> {
            record
                .get(k)
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| bad("`point`, `replication` and `seed` must be whole numbers"))
        };
        let (point, replication, seed) = (number(0)?, number(1)?, number(2)?);
        let replication = u32::try_from(replication).map_err(|_| bad("replication out of range"))?;
        let cells: Vec<String> = (3..fixed).map(|k| escape(record.get(k).unwrap_or_default()).into_owned()).collect();
        if point >= sweep.points()
            || replication >= sweep.replications
            || seed != sweep.seed_of(replication)
            || cells.join(",") != point_cells(sweep, point)
        {
            return Err(bad("this row is not of this sweep (point, replication, seed or values)"));
        }
        let metrics = (0..sweep.metrics.len())
            .map(|m| match record.get(fixed + m) {
                Some("") => Ok(None),
                Some(t) => t
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.abs() <= MAX_FIGURE)
                    .map(Some)
                    .ok_or_else(|| bad(&format!("`{t}` is not a figure of a run (a number within ±2^64)"))),
                None => Err(bad("too few columns")),
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.push(RowResult {
            row: point * u64::from(sweep.replications) + u64::from(replication),
            point,
            replication,
            seed,
            metrics,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values 10, 12, 14, 16, 18: mean 14, sd √10 = 3.162278, half-width t(0.975, 4) × √10 / √5
    /// = 2.776445 × √2 = 3.926486, so the interval is 10.073514 to 17.926486. A replication
    /// without a value (null) is left out of n.
    #[test]
    fn points_csv_gives_the_interval_worked_by_hand() {
        let sweep = Sweep {
            name: "s".into(),
            base: "b.json".into(),
            base_scenario: serde_json::Value::Null,
            replications: 6,
            seed: 9,
            keys: vec!["/seed".into()],
            values: vec![vec![1.into()]],
            labels: vec![vec!["1".into()]],
            metrics: vec!["termination_latency_s.p99".into()],
            traces: Default::default(),
        };
        let values = [Some(10.0), Some(12.0), None, Some(14.0), Some(16.0), Some(18.0)];
        let rows: Vec<RowResult> = values
            .iter()
            .enumerate()
            .map(|(r, &v)| RowResult {
                row: r as u64,
                point: 0,
                replication: r as u32,
                seed: sweep.seed_of(r as u32),
                metrics: vec![v],
            })
            .collect();
        let points = points_csv(&sweep, &estimates(&sweep, &rows));
        assert_eq!(
            points,
            "point,/seed,metric,n,mean,sd,ci95_low,ci95_high\n0,1,termination_latency_s.p99,5,14,3.162278,10.073514,17.926486\n"
        );
        // The rows read back as they were written.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.csv");
        std::fs::write(&path, sweep_csv(&sweep, &rows)).unwrap();
        assert_eq!(read_sweep_csv(&sweep, &path).unwrap(), rows);
    }

    #[test]
    fn decimals_are_short_and_exact_to_the_microsecond() {
        assert_eq!(decimal(14.0), "14");
        assert_eq!(decimal(3.9264418), "3.926442");
        assert_eq!(decimal(-0.0000001), "0");
        assert_eq!(decimal(0.5), "0.5");
    }
}
