//! `termsim check`: a scenario's latency figures against a stored `summary.json`, the
//! regression gate of SPEC §3.
//!
//! The figures compared:
//!
//! - `termination_latency_s`, `release_latency_s`, `cancel_latency_s.dlc` and `.tat` (when the
//!   baseline has them: older ones do not): `count` (must not change) and `mean`,
//!   `p50`, `p90`, `p99`, `max` (must not grow by more than the tolerance);
//! - each job's TerminateJob `latency_s`, by job id (must not grow beyond the tolerance);
//! - `requests.total`, `requests.ok` and each `requests.by_error` count (must not change).
//!
//! Figures are read as [`figures`](crate::figures) reads them: an error code one summary lists
//! and the other does not counts 0 there.
//!
//! A latency that got shorter passes (and says so); a figure that appears or vanishes (a
//! latency that is now `null`) fails, as a changed count does. The run is the model alone: the
//! same summary `termsim run` writes, without writing anything.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::Error;
use crate::figures::figure;

const LATENCY_STATS: [&str; 5] = ["mean", "p50", "p90", "p99", "max"];

/// How a figure may change from the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// May shrink, may grow within the tolerance.
    Latency,
    /// Must stay the same.
    Count,
}

/// One figure of the baseline and of the current run, side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Its dotted path (`termination_latency_s.p99`), or `jobs.ID.latency_s` for a job.
    pub metric: String,
    /// Whether it may change.
    pub kind: Kind,
    /// The stored figure; `None` where the baseline has no number.
    pub baseline: Option<f64>,
    /// The figure of the run; `None` where the run has no number.
    pub current: Option<f64>,
}

/// What the comparison of one figure says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The same number (or no number in both).
    Same,
    /// A latency that got shorter.
    Better,
    /// A latency that grew, within the tolerance.
    WithinTolerance,
    /// A latency that grew beyond the tolerance.
    Slower,
    /// A count that changed, or a figure that appeared or vanished.
    Changed,
}

impl Verdict {
    /// Whether this verdict fails the check.
    pub fn failed(self) -> bool {
        matches!(self, Verdict::Slower | Verdict::Changed)
    }

    fn as_str(self) -> &'static str {
        match self {
            Verdict::Same => "ok",
            Verdict::Better => "ok (better)",
            Verdict::WithinTolerance => "ok (within tolerance)",
            Verdict::Slower => "FAIL: slower",
            Verdict::Changed => "FAIL: changed",
        }
    }
}

impl Figure {
    /// The verdict on this figure when latencies may grow by `tolerance_pct` per cent.
    pub fn verdict(&self, tolerance_pct: f64) -> Verdict {
        match (self.baseline, self.current) {
            (None, None) => Verdict::Same,
            (Some(b), Some(c)) if b == c => Verdict::Same,
            (Some(b), Some(c)) if self.kind == Kind::Latency => {
                if c < b {
                    Verdict::Better
                } else if c <= b * (1.0 + tolerance_pct / 100.0) {
                    Verdict::WithinTolerance
                } else {
                    Verdict::Slower
                }
            }
            _ => Verdict::Changed,
        }
    }

    fn change(&self) -> String {
        match (self.baseline, self.current) {
            (Some(b), Some(c)) if b == c => "=".to_owned(),
            (Some(b), Some(c)) if b != 0.0 => format!("{:+.1} %", (c - b) / b * 100.0),
            (Some(b), Some(c)) => format!("{:+}", c - b),
            (None, Some(_)) => "appeared".to_owned(),
            (Some(_), None) => "vanished".to_owned(),
            (None, None) => "=".to_owned(),
        }
    }
}

/// Reads the stored summary at `path` and checks that it has what `check` compares. Read before
/// the run: a bad baseline is bad input, whatever the run gives. With `missing_ok` (`--update`),
/// a file that does not exist is `None`: the run will be the first baseline.
pub fn read_baseline(path: &Path, missing_ok: bool) -> Result<Option<Value>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Input(format!("{}: cannot read the baseline: {e}", path.display()))),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())))?;
    validate_baseline(&value).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    Ok(Some(value))
}

/// Writes `summary` as the baseline at `path` (`--update`), creating its folder.
pub fn write_baseline(path: &Path, summary: &Value) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, crate::output::json_text(summary))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Checks that a stored summary has what `check` compares; the error names the key.
pub fn validate_baseline(summary: &Value) -> Result<(), String> {
    if !summary.is_object() {
        return Err("not a summary.json object".to_owned());
    }
    for stat in ["termination_latency_s", "release_latency_s"] {
        let Some(object) = summary.get(stat).filter(|v| v.is_object()) else {
            return Err(format!("`{stat}` is missing or not an object"));
        };
        for key in std::iter::once("count").chain(LATENCY_STATS) {
            match object.get(key) {
                Some(Value::Number(_)) | Some(Value::Null) if key != "count" => {}
                Some(Value::Number(n)) if key == "count" && n.is_u64() => {}
                _ => return Err(format!("`{stat}.{key}` is missing or not a number")),
            }
        }
    }
    let jobs = summary.get("jobs").and_then(Value::as_array).ok_or("`jobs` is missing or not a list")?;
    for (i, job) in jobs.iter().enumerate() {
        if job.get("id").and_then(Value::as_str).is_none() {
            return Err(format!("`jobs[{i}].id` is missing"));
        }
        if !matches!(job.get("latency_s"), Some(Value::Number(_) | Value::Null)) {
            return Err(format!("`jobs[{i}].latency_s` is missing or not a number"));
        }
    }
    let requests = summary.get("requests").filter(|v| v.is_object()).ok_or("`requests` is missing or not an object")?;
    for key in ["total", "ok"] {
        if requests.get(key).and_then(Value::as_u64).is_none() {
            return Err(format!("`requests.{key}` is missing or not a count"));
        }
    }
    let by_error = requests.get("by_error").and_then(Value::as_object).ok_or("`requests.by_error` is missing")?;
    if let Some((code, _)) = by_error.iter().find(|(_, n)| n.as_u64().is_none()) {
        return Err(format!("`requests.by_error.{code}` is not a count"));
    }
    Ok(())
}

/// The figures of two summaries side by side, in a fixed order (jobs in the baseline's order,
/// then jobs only the current run has; error codes sorted).
pub fn compare(baseline: &Value, current: &Value) -> Vec<Figure> {
    let both = |metric: String, kind: Kind| Figure {
        baseline: figure(baseline, &metric),
        current: figure(current, &metric),
        metric,
        kind,
    };
    let mut figures = Vec::new();
    let mut stats = vec!["termination_latency_s", "release_latency_s"];
    // Baselines written before cancellations existed do not have them: nothing to compare.
    for (stat, at) in
        [("cancel_latency_s.dlc", "/cancel_latency_s/dlc"), ("cancel_latency_s.tat", "/cancel_latency_s/tat")]
    {
        if baseline.pointer(at).is_some() {
            stats.push(stat);
        }
    }
    for stat in stats {
        figures.push(both(format!("{stat}.count"), Kind::Count));
        for key in LATENCY_STATS {
            figures.push(both(format!("{stat}.{key}"), Kind::Latency));
        }
    }
    // Jobs are matched by id, not by their position in the list: a job added to the scenario
    // must not shift the others' figures.
    let jobs = |s: &Value| -> Vec<(String, Option<f64>)> {
        s.get("jobs")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|j| {
                        Some((j.get("id")?.as_str()?.to_owned(), j.get("latency_s").and_then(Value::as_f64)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (base_jobs, current_jobs) = (jobs(baseline), jobs(current));
    let mut ids: Vec<&String> = base_jobs.iter().map(|(id, _)| id).collect();
    ids.extend(current_jobs.iter().map(|(id, _)| id).filter(|id| !base_jobs.iter().any(|(b, _)| b == *id)));
    for id in ids {
        let find = |list: &[(String, Option<f64>)]| list.iter().find(|(j, _)| j == id).and_then(|(_, l)| *l);
        figures.push(Figure {
            metric: format!("jobs.{id}.latency_s"),
            kind: Kind::Latency,
            baseline: find(&base_jobs),
            current: find(&current_jobs),
        });
    }
    for key in ["total", "ok"] {
        figures.push(both(format!("requests.{key}"), Kind::Count));
    }
    let codes = |s: &Value| -> Vec<String> {
        s.pointer("/requests/by_error")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut all_codes = codes(baseline);
    all_codes.extend(codes(current));
    all_codes.sort();
    all_codes.dedup();
    for code in all_codes {
        let metric = format!("requests.by_error.{code}");
        // The other summary lists the code, so it is a kind of answer even where this build does
        // not know it (a baseline of another version): absent here, it was given zero times.
        let count = |s: &Value| Some(figure(s, &metric).unwrap_or(0.0));
        figures.push(Figure { baseline: count(baseline), current: count(current), metric, kind: Kind::Count });
    }
    figures
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// The comparison as a plain-text table for a terminal or a CI log, and how many figures failed.
pub fn report(figures: &[Figure], tolerance_pct: f64) -> (String, usize) {
    let rows: Vec<[String; 5]> = figures
        .iter()
        .map(|f| {
            let verdict = f.verdict(tolerance_pct);
            [f.metric.clone(), cell(f.baseline), cell(f.current), f.change(), verdict.as_str().to_owned()]
        })
        .collect();
    let header = ["metric", "baseline", "current", "change", "verdict"].map(str::to_owned);
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().chain(std::iter::once(&header)).map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        writeln!(out, "{}", line.trim_end()).expect("to a String");
    }
    let failed = figures.iter().filter(|f| f.verdict(tolerance_pct).failed()).count();
    (out, failed)
}

/// GitHub Actions annotations for the failed figures (shown on the workflow's summary page).
pub fn annotations(figures: &[Figure], tolerance_pct: f64, scenario: &Path) -> String {
    let mut out = String::new();
    for f in figures.iter().filter(|f| f.verdict(tolerance_pct).failed()) {
        writeln!(
            out,
            "::error title=termsim check {}::{} {} → {} ({}), {}",
            scenario.display(),
            f.metric,
            cell(f.baseline),
            cell(f.current),
            f.change(),
            f.verdict(tolerance_pct).as_str()
        )
        .expect("to a String");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;
    use serde_json::json;

    const LIMITED: ErrorCode = ErrorCode::RequestLimitExceeded;

    fn summary(p99: f64, count: u64, limited: u64) -> Value {
        json!({
            "termination_latency_s": { "count": count, "mean": 50.0, "p50": 40.0, "p90": 90.0, "p99": p99, "max": 200.0 },
            "release_latency_s": { "count": count, "mean": null, "p50": null, "p90": null, "p99": null, "max": null },
            "jobs": [ { "id": "job-a", "latency_s": 231.4 } ],
            "requests": { "total": 10, "ok": 10 - limited, "by_error": { LIMITED.as_str(): limited } }
        })
    }

    #[test]
    fn dlc_cancel_latencies_are_compared_when_the_baseline_has_them() {
        let mut base = summary(174.9, 3103, 3);
        let mut now = base.clone();
        now["cancel_latency_s"] =
            json!({ "dlc": { "count": 2, "mean": 3.0, "p50": 3.0, "p90": 3.0, "p99": 3.5, "max": 3.5 } });
        // An older baseline without them: the other 16 figures only.
        assert_eq!(compare(&base, &now).len(), 16);
        base["cancel_latency_s"] =
            json!({ "dlc": { "count": 2, "mean": 3.0, "p50": 3.0, "p90": 3.0, "p99": 3.0, "max": 3.5 } });
        let figures = compare(&base, &now);
        assert_eq!(figures.len(), 22);
        let p99 = figures.iter().find(|f| f.metric == "cancel_latency_s.dlc.p99").unwrap();
        assert_eq!(p99.verdict(5.0), Verdict::Slower, "3.0 s to 3.5 s is +16.7 %");
    }

    #[test]
    fn the_same_summary_passes_every_figure() {
        let s = summary(174.9, 3103, 3);
        assert_eq!(validate_baseline(&s), Ok(()));
        let figures = compare(&s, &s);
        assert_eq!(figures.len(), 6 + 6 + 1 + 2 + 1);
        assert!(figures.iter().all(|f| f.verdict(5.0) == Verdict::Same));
    }

    #[test]
    fn a_latency_may_shrink_or_grow_within_the_tolerance_but_not_beyond() {
        let base = summary(100.0, 10, 0);
        let verdict = |p99: f64| {
            let f = compare(&base, &summary(p99, 10, 0))
                .into_iter()
                .find(|f| f.metric == "termination_latency_s.p99")
                .unwrap();
            f.verdict(5.0)
        };
        assert_eq!(verdict(90.0), Verdict::Better);
        assert_eq!(verdict(105.0), Verdict::WithinTolerance);
        assert_eq!(verdict(105.1), Verdict::Slower);
    }

    #[test]
    fn counts_must_not_change_and_figures_must_not_vanish() {
        let base = summary(100.0, 10, 2);
        let figures = compare(&base, &summary(100.0, 11, 0));
        let failed: Vec<&str> =
            figures.iter().filter(|f| f.verdict(50.0).failed()).map(|f| f.metric.as_str()).collect();
        assert_eq!(
            failed,
            vec![
                "termination_latency_s.count",
                "release_latency_s.count",
                "requests.ok",
                &format!("requests.by_error.{}", LIMITED.as_str())
            ]
        );
        let mut gone = base.clone();
        gone["termination_latency_s"]["p99"] = Value::Null;
        let f = compare(&base, &gone).into_iter().find(|f| f.metric == "termination_latency_s.p99").unwrap();
        assert_eq!((f.verdict(5.0), f.change()), (Verdict::Changed, "vanished".to_owned()));
    }

    #[test]
    fn an_error_code_one_summary_omits_counts_0_there() {
        let base = summary(100.0, 10, 2);
        let mut now = summary(100.0, 10, 0);
        now["requests"]["by_error"] = json!({});
        let metric = format!("requests.by_error.{}", LIMITED.as_str());
        let f = compare(&base, &now).into_iter().find(|f| f.metric == metric).unwrap();
        assert_eq!((f.baseline, f.current, f.change()), (Some(2.0), Some(0.0), "-100.0 %".to_owned()));
        // A code this build does not know (a baseline of another version) counts 0 as well.
        let mut old = base.clone();
        old["requests"]["by_error"]["RetiredCode"] = json!(1);
        let f = compare(&old, &now).into_iter().find(|f| f.metric == "requests.by_error.RetiredCode").unwrap();
        assert_eq!((f.baseline, f.current, f.verdict(5.0)), (Some(1.0), Some(0.0), Verdict::Changed));
    }

    #[test]
    fn the_table_names_each_figure_and_counts_failures() {
        let base = summary(100.0, 10, 0);
        let (table, failed) = report(&compare(&base, &summary(120.0, 10, 0)), 5.0);
        assert_eq!(failed, 1);
        let line = table.lines().find(|l| l.starts_with("termination_latency_s.p99")).unwrap();
        assert!(
            line.contains("100") && line.contains("120") && line.contains("+20.0 %") && line.ends_with("FAIL: slower"),
            "{line}"
        );
    }

    #[test]
    fn a_baseline_without_the_figures_is_refused_naming_the_key() {
        let mut s = summary(1.0, 1, 0);
        s["release_latency_s"].as_object_mut().unwrap().remove("p90");
        assert_eq!(validate_baseline(&s), Err("`release_latency_s.p90` is missing or not a number".to_owned()));
        assert_eq!(validate_baseline(&json!([1])), Err("not a summary.json object".to_owned()));
    }
}
