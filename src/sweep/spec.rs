//! A sweep file and what it resolves to: the base scenario with its defaults filled in, the
//! varied keys and their values, the points (their cartesian product) and the rows (points ×
//! replications).
//!
//! ```json
//! { "name": "bypass-poll-vs-size", "base": "../default.json", "replications": 5,
//!   "vary": { "/backend/bypass/poll_interval": ["0s", "10s", "60s"],
//!             "/jobs/0/tasks/0/instances": [100, 1000, 10000] },
//!   "metrics": ["termination_latency_s.p99", "release_latency_s.p99", "peak_cvms"] }
//! ```
//!
//! Points are numbered with the first key varying slowest; row `i` is point `i / replications`,
//! replication `i % replications`. Every value of every point is checked before anything runs:
//! a pointer to a field the format does not define, or a value the scenario format refuses, is
//! bad input naming the sweep file, the line and column, and the key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pointer;
use crate::model::ids::mix64;
use crate::scenario::locate::locate;
use crate::scenario::{self, InputError, JsonPath, Scenario};

/// The file as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    /// Default: the file's stem.
    #[serde(default)]
    name: Option<String>,
    /// The base scenario, relative to the sweep file.
    base: PathBuf,
    /// Runs per point. Default: 1.
    #[serde(default = "one")]
    replications: u32,
    /// Seed from which each replication's seed is derived. Default: the base scenario's.
    #[serde(default)]
    seed: Option<u64>,
    /// JSON Pointer into the scenario → the values it takes.
    vary: Map<String, Value>,
    /// Dotted paths into `summary.json`.
    metrics: Vec<String>,
    /// Optional names for a varied key's values, in the same order, for the outputs (a list of
    /// clients is clearer as "one TerminateJob" than as its JSON).
    #[serde(default)]
    labels: Map<String, Value>,
}

fn one() -> u32 {
    1
}

/// Most runs one sweep may ask for.
pub const MAX_ROWS: u64 = 1_000_000;

/// Up to this many points, every point's scenario is checked when the sweep is loaded.
const CHECK_EVERY_POINT_UP_TO: u64 = 20_000;

/// A summary of the base scenario before anything ran: every key `summary.json` has, to check
/// metric names against.
fn summary_template(config: &crate::model::Config) -> Value {
    let model = crate::model::Model::new(config.clone(), crate::model::NullRecorder)
        .expect("a loaded scenario passes the model's checks");
    let (outcome, _) = model.finish();
    crate::output::summary::summarise(&outcome).to_value()
}

/// A sweep, resolved and checked. This is also what `sweep.json` holds, so that `merge` needs
/// nothing but the shard folders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Names the results folder: the file's `name`, or its stem.
    pub name: String,
    /// The base scenario as the sweep file names it.
    pub base: PathBuf,
    /// The base scenario with every default filled in.
    pub base_scenario: Value,
    /// Runs per point.
    pub replications: u32,
    /// From which each replication's seed is derived ([`Sweep::seed_of`]).
    pub seed: u64,
    /// The varied keys (JSON Pointers), in file order.
    pub keys: Vec<String>,
    /// Per key, the values it takes.
    pub values: Vec<Vec<Value>>,
    /// Per key, the names its values go by in the outputs.
    pub labels: Vec<Vec<String>>,
    /// Dotted paths of the figures each run gives (checked by [`crate::figures::check_name`]).
    pub metrics: Vec<String>,
    /// Traces the points have read: each is read once and its rows shared by every point.
    #[serde(skip)]
    pub traces: scenario::TraceCache,
}

impl Sweep {
    /// Points: the product of the keys' value counts.
    pub fn points(&self) -> u64 {
        self.values.iter().map(|v| v.len() as u64).product()
    }

    /// Points × replications; at most [`MAX_ROWS`] once loaded.
    pub fn rows(&self) -> u64 {
        self.points() * u64::from(self.replications)
    }

    /// Points × replications, `None` past `u64`: how a sweep file is checked before its
    /// products are trusted.
    fn checked_rows(&self) -> Option<u64> {
        self.values.iter().try_fold(u64::from(self.replications), |n, v| n.checked_mul(v.len() as u64))
    }

    /// Checks what [`load`] makes sure of, for a sweep read back from a `sweep.json` (`merge`),
    /// which may have been edited: the points, rows, tables and charts index the lists by one
    /// another and divide by their lengths. The error gives the field at fault.
    pub fn check_resolved(&self) -> Result<(), (JsonPath, String)> {
        let root = JsonPath::root();
        if self.replications == 0 {
            return Err((root.key("replications"), "must be at least 1".to_owned()));
        }
        if self.keys.is_empty() {
            return Err((root.key("keys"), "names no key: a sweep varies at least one".to_owned()));
        }
        for (field, len) in [("values", self.values.len()), ("labels", self.labels.len())] {
            if len != self.keys.len() {
                let message = format!("has {len} lists for {} keys: one list per key of `keys`", self.keys.len());
                return Err((root.key(field), message));
            }
        }
        for (k, (values, labels)) in self.values.iter().zip(&self.labels).enumerate() {
            if values.is_empty() {
                return Err((
                    root.key("values").index(k),
                    "is an empty list: a key needs at least one value".to_owned(),
                ));
            }
            if labels.len() != values.len() {
                let message = format!("has {} labels for {} values: one per value", labels.len(), values.len());
                return Err((root.key("labels").index(k), message));
            }
        }
        match self.checked_rows() {
            Some(rows) if rows <= MAX_ROWS => {}
            _ => {
                let message = format!("make more than {MAX_ROWS} runs (points × replications)");
                return Err((root.key("values"), message));
            }
        }
        if self.metrics.is_empty() {
            return Err((root.key("metrics"), "names no metric".to_owned()));
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            crate::figures::check_dotted(metric).map_err(|m| (root.key("metrics").index(i), m))?;
        }
        Ok(())
    }

    /// How the outputs name a point: `key = label` for each key.
    pub fn describe(&self, point: u64) -> String {
        let coordinates = self.coordinates(point);
        (0..self.keys.len())
            .map(|k| format!("{} = {}", self.keys[k], self.value_label(k, coordinates[k])))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The value index of each key at `point`.
    pub fn coordinates(&self, point: u64) -> Vec<usize> {
        let mut rest = point;
        let mut coordinates = vec![0; self.keys.len()];
        for (k, values) in self.values.iter().enumerate().rev() {
            coordinates[k] = (rest % values.len() as u64) as usize;
            rest /= values.len() as u64;
        }
        coordinates
    }

    /// Replication `r` runs on this seed at every point: common random numbers.
    pub fn seed_of(&self, replication: u32) -> u64 {
        mix64(self.seed ^ mix64(u64::from(replication)))
    }

    /// The scenario of `point`, as text the scenario loader reads.
    fn scenario_value(&self, point: u64) -> Value {
        let mut scenario = self.base_scenario.clone();
        for (k, &c) in self.coordinates(point).iter().enumerate() {
            pointer::set(&mut scenario, &self.keys[k], self.values[k][c].clone())
                .expect("pointers were checked when the sweep was loaded");
        }
        scenario
    }

    /// The scenario of `point`, loaded as the scenario format requires. `base_file` anchors
    /// relative paths (empirical CSVs) as the base scenario's own. An error names the point.
    pub fn scenario(&self, point: u64, base_file: &Path) -> Result<Scenario, String> {
        let text = serde_json::to_string_pretty(&self.scenario_value(point)).expect("plain JSON");
        scenario::parse_sharing_traces(&text, base_file, &self.traces).map_err(|e| {
            format!(
                "point {point} ({}) makes an invalid scenario{}",
                self.describe(point),
                where_and_what(&e, base_file)
            )
        })
    }

    /// A value as the outputs show it when the sweep gives it no label: strings bare, the rest
    /// as compact JSON.
    pub fn label(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// How the outputs name value `c` of key `k`.
    pub fn value_label(&self, k: usize, c: usize) -> &str {
        &self.labels[k][c]
    }
}

/// `K/N`: run the rows whose index modulo N is K-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1 to `n`.
    pub k: u64,
    /// How many shards.
    pub n: u64,
}

impl Shard {
    /// `K/N` as `--shard` gives it; the error names the flag.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard `{text}`: expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether this shard runs `row`.
    pub fn takes(&self, row: u64) -> bool {
        row % self.n == self.k - 1
    }
}

/// Reads and checks a sweep file, and every scenario it makes.
pub fn load(path: &Path) -> Result<(Sweep, PathBuf), InputError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::new(path, format!("cannot read the sweep: {e}")))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let file: SweepFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path_text = e.path().to_string();
        let inner = e.into_inner();
        let json_path = (!path_text.is_empty() && path_text != ".").then(|| JsonPath::parse(&path_text));
        InputError {
            file: path.to_owned(),
            position: (inner.line() > 0).then(|| (inner.line(), inner.column().max(1))),
            path: json_path,
            message: inner.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        }
    })?;
    de.end().map_err(|e| InputError {
        file: path.to_owned(),
        position: Some((e.line(), e.column().max(1))),
        path: None,
        message: "trailing characters after the sweep's JSON object".to_owned(),
    })?;
    let at = |json_path: JsonPath, message: String| InputError {
        file: path.to_owned(),
        position: Some(locate(&text, &json_path.0)),
        path: Some(json_path),
        message,
    };
    let vary_path = |key: &str| JsonPath::root().key("vary").key(key);

    let base_file = path.parent().unwrap_or(Path::new("")).join(&file.base);
    let base_text = std::fs::read_to_string(&base_file).map_err(|e| {
        at(JsonPath::root().key("base"), format!("cannot read the base scenario `{}`: {e}", base_file.display()))
    })?;
    // The base must be a valid scenario in its own right; its errors name its own file.
    let base = scenario::parse(&base_text, &base_file)?;
    let parsed = scenario::parse_file(&base_text, &base_file)?;
    let mut base_scenario = serde_json::to_value(&parsed).expect("a scenario file serialises");
    // The run's name is the sweep's; an unnamed base would otherwise be named after the
    // generated text.
    base_scenario["name"] = Value::String(base.config.name.clone());

    if file.replications == 0 {
        return Err(at(JsonPath::root().key("replications"), "must be at least 1".to_owned()));
    }
    if file.vary.is_empty() {
        return Err(at(JsonPath::root().key("vary"), "names no key to vary".to_owned()));
    }
    if file.metrics.is_empty() {
        return Err(at(JsonPath::root().key("metrics"), "names no metric".to_owned()));
    }
    // Metrics must name figures of summary.json: a typo would otherwise be an empty column.
    let template = summary_template(&base.config);
    for (i, metric) in file.metrics.iter().enumerate() {
        let here = || JsonPath::root().key("metrics").index(i);
        crate::figures::check_name(&template, metric).map_err(|m| at(here(), m))?;
        if file.metrics[..i].contains(metric) {
            return Err(at(here(), format!("`{metric}` is listed twice")));
        }
    }
    let name =
        file.name.clone().unwrap_or_else(|| path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep").to_owned());
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(at(JsonPath::root().key("name"), format!("`{name}` cannot name a results folder")));
    }
    let schema = scenario::schema();
    let mut keys = Vec::new();
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for (key, list) in &file.vary {
        let Value::Array(list) = list else {
            return Err(at(vary_path(key), "must be a list of values".to_owned()));
        };
        if list.is_empty() {
            return Err(at(vary_path(key), "is an empty list: a key needs at least one value".to_owned()));
        }
        if !pointer::format_defines(&schema, key) {
            let message = format!(
                "`{key}` points to no field of the scenario (a JSON Pointer such as `/backend/bypass/poll_interval`)"
            );
            return Err(at(vary_path(key), message));
        }
        if key == "/seed" {
            let message =
                "each replication runs on its own seed, derived from the sweep's `seed`: set that instead".to_owned();
            return Err(at(vary_path(key), message));
        }
        // The field must be settable in this base (a list index that exists, no scalar on the way).
        pointer::set(&mut base_scenario.clone(), key, list[0].clone()).map_err(|m| at(vary_path(key), m))?;
        let names: Vec<String> = match file.labels.get(key) {
            None => list.iter().map(Sweep::label).collect(),
            Some(Value::Array(names)) if names.len() == list.len() && names.iter().all(Value::is_string) => {
                names.iter().map(|n| n.as_str().expect("checked").to_owned()).collect()
            }
            Some(_) => {
                let message = format!("must be a list of {} strings, one per value of `{key}`", list.len());
                return Err(at(JsonPath::root().key("labels").key(key), message));
            }
        };
        if let Some((i, twice)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
            let message =
                format!("value {} is shown as `{twice}` like an earlier one: give the values distinct `labels`", i + 1);
            return Err(at(vary_path(key), message));
        }
        keys.push(key.clone());
        values.push(list.clone());
        labels.push(names);
    }
    if let Some(key) = file.labels.keys().find(|k| !file.vary.contains_key(*k)) {
        return Err(at(JsonPath::root().key("labels").key(key), format!("`{key}` is not a key of `vary`")));
    }
    let sweep = Sweep {
        name,
        base: file.base.clone(),
        base_scenario,
        replications: file.replications,
        seed: file.seed.unwrap_or(base.config.seed),
        keys,
        values,
        labels,
        metrics: file.metrics.clone(),
        traces: scenario::TraceCache::default(),
    };
    match sweep.checked_rows() {
        Some(rows) if rows <= MAX_ROWS => {}
        rows => {
            let rows = rows.map_or_else(|| "more than 2^64".to_owned(), |r| r.to_string());
            return Err(at(
                JsonPath::root().key("vary"),
                format!("{rows} runs (points × replications): at most {MAX_ROWS} per sweep"),
            ));
        }
    }
    // Every value must make a valid scenario: each is tried once, at the first point that
    // has it, so that a bad value is named before anything runs.
    for (k, list) in sweep.values.iter().enumerate() {
        for (c, value) in list.iter().enumerate() {
            let mut probe = sweep.clone();
            probe.values = sweep.values.iter().map(|l| vec![l[0].clone()]).collect();
            probe.values[k] = vec![value.clone()];
            probe.labels = probe.values.iter().map(|l| l.iter().map(Sweep::label).collect()).collect();
            let text = serde_json::to_string_pretty(&probe.scenario_value(0)).expect("plain JSON");
            if let Err(e) = scenario::parse_sharing_traces(&text, &base_file, &sweep.traces) {
                let message = format!(
                    "value {} (`{}`) makes an invalid scenario{}",
                    c + 1,
                    Sweep::label(value),
                    where_and_what(&e, &base_file)
                );
                return Err(at(vary_path(&sweep.keys[k]).index(c), message));
            }
        }
    }
    // Then every combination, so that no shard of the sweep meets a bad point later (a
    // uniform's `min` from one key above its `max` from another). Past this many points the
    // check would take longer than it saves; the runs then check their points before starting.
    if sweep.points() <= CHECK_EVERY_POINT_UP_TO {
        for point in 0..sweep.points() {
            sweep.scenario(point, &base_file).map_err(|m| at(JsonPath::root().key("vary"), m))?;
        }
    }
    Ok((sweep, base_file))
}

/// A point's scenario error after "makes an invalid scenario": the field, then the message; and
/// where in another file (a trace, an empirical CSV) the defect is, since the generated
/// scenario text has no lines of its own to show.
fn where_and_what(e: &scenario::InputError, base_file: &Path) -> String {
    let field = e.path.as_ref().map_or_else(String::new, |p| format!(" at `{p}`"));
    match e.position {
        Some((line, column)) if e.file != base_file => {
            format!("{field}: {}:{line}:{column}: {}", e.file.display(), e.message)
        }
        _ => format!("{field}: {}", e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_enumerate_with_the_first_key_slowest() {
        let sweep = Sweep {
            name: "s".into(),
            base: "b.json".into(),
            base_scenario: Value::Null,
            replications: 2,
            seed: 1,
            keys: vec!["/a".into(), "/b".into()],
            values: vec![vec![1.into(), 2.into()], vec!["x".into(), "y".into(), "z".into()]],
            labels: vec![vec!["1".into(), "2".into()], vec!["x".into(), "y".into(), "z".into()]],
            metrics: vec!["m".into()],
            traces: Default::default(),
        };
        assert_eq!(sweep.points(), 6);
        assert_eq!(sweep.rows(), 12);
        assert_eq!(sweep.coordinates(0), vec![0, 0]);
        assert_eq!(sweep.coordinates(2), vec![0, 2]);
        assert_eq!(sweep.coordinates(3), vec![1, 0]);
        assert_ne!(sweep.seed_of(0), sweep.seed_of(1));
    }

    #[test]
    fn shards_split_rows_by_index_modulo_n() {
        let shard = Shard::parse("2/3").unwrap();
        let taken: Vec<u64> = (0..9).filter(|&r| shard.takes(r)).collect();
        assert_eq!(taken, vec![1, 4, 7]);
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
