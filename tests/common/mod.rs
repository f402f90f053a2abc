//! Helpers shared by the model tests: scenarios with constant delays built from a base and a
//! patch, run with a recorder that keeps every row in memory.
//!
//! A folder module (`tests/common/mod.rs`), so that cargo does not build it as a test binary of
//! its own; each test file includes it with `mod common;`.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use termsim::engine::SimTime;
use termsim::model::{Cause, Entity, InstanceReport, Model, Occupancy, Outcome, Recorder, RequestRecord, State};

/// Constant delays that the tests' hand calculations use:
/// submit 2 s, creation 90 s, termination 10 s, restart 60 s, answer latency 0 s, bypass poll
/// 10 s, TerminateJob 1 s per instance on one worker, no quota limit.
pub fn base() -> Value {
    json!({
        "seed": 7,
        "horizon": "10h",
        "backend": {
            "api": { "latency": "0s" },
            "cvm": { "creation_delay": "90s", "termination_delay": "10s", "restart_delay": "60s" },
            "quota": { "max_cvms": null },
            "submit_delay": "2s",
            "bypass": { "poll_interval": "10s" },
            "job_termination": { "per_instance": "1s", "workers": 1 }
        },
        "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 1, "runtime": "1h" } ] } ]
    })
}

/// RFC 7386 merge patch: objects merge, everything else replaces (`null` removes).
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() && k != "max_cvms" {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

pub fn scenario(patch: Value) -> Value {
    let mut s = base();
    merge(&mut s, patch);
    s
}

#[derive(Default)]
pub struct Rec {
    pub rows: Vec<(SimTime, Entity, Option<&'static str>, &'static str, &'static str)>,
    pub requests: Vec<RequestRecord>,
    /// Every occupancy change, as the model reports it (several per instant at times).
    pub occupancy: Vec<(SimTime, Occupancy)>,
}

impl Recorder for Rec {
    fn state_change(&mut self, t: SimTime, e: Entity, from: Option<State>, to: State, cause: Cause) {
        self.rows.push((t, e, from.map(State::as_str), to.as_str(), cause.as_str()));
    }
    fn request(&mut self, r: &RequestRecord) {
        self.requests.push(*r);
    }
    fn occupancy(&mut self, t: SimTime, now: Occupancy) {
        self.occupancy.push((t, now));
    }
}

impl Rec {
    /// When `entity` entered state `to`, every time it did.
    pub fn entered(&self, entity: Entity, to: &str) -> Vec<f64> {
        self.rows.iter().filter(|r| r.1 == entity && r.3 == to).map(|r| r.0.as_secs_f64()).collect()
    }

    /// `(time, to, cause)` of every row of `entity`, in order.
    pub fn states(&self, entity: Entity) -> Vec<(f64, &'static str, &'static str)> {
        self.rows.iter().filter(|r| r.1 == entity).map(|r| (r.0.as_secs_f64(), r.3, r.4)).collect()
    }

    /// The rows of `occupancy.csv`: `(time_s, cvms_alive, quota_in_use)` at the end of each
    /// instant at which a count changed (the last report of the instant).
    pub fn occupancy_rows(&self) -> Vec<(f64, u64, u64)> {
        let mut rows: Vec<(f64, u64, u64)> = Vec::new();
        for &(t, o) in &self.occupancy {
            let row = (t.as_secs_f64(), o.cvms_alive, o.quota_in_use);
            match rows.last_mut() {
                Some(last) if last.0 == row.0 => *last = row,
                _ => rows.push(row),
            }
        }
        rows
    }

    /// `(sent_s, attempt, error code or "ok")` of every request, in order.
    pub fn calls(&self) -> Vec<(f64, u32, &'static str)> {
        self.requests.iter().map(|r| (r.sent.as_secs_f64(), r.attempt, r.error.map_or("ok", |e| e.as_str()))).collect()
    }
}

pub fn run(scenario: &Value) -> (Outcome, Rec) {
    let text = serde_json::to_string_pretty(scenario).unwrap();
    let loaded = termsim::scenario::parse(&text, Path::new("test.json")).unwrap_or_else(|e| panic!("{e}"));
    let mut model = Model::new(loaded.config, Rec::default()).unwrap_or_else(|e| panic!("{e}"));
    model.run().unwrap_or_else(|e| panic!("{e}"));
    model.finish()
}

pub fn s(secs: f64) -> Option<SimTime> {
    Some(SimTime((secs * 1e6).round() as u64))
}

/// `(final state, path, requested, terminated, released)` of an instance, for one-line asserts.
pub fn row(i: InstanceReport) -> (&'static str, &'static str, Option<SimTime>, Option<SimTime>, Option<SimTime>) {
    (i.state.as_str(), i.path.as_str(), i.terminate_requested, i.terminated, i.released)
}

pub fn tti(at: &str, indices: Value) -> Value {
    json!({ "type": "terminate_task_instances", "at": at, "job": "job-aaaaaaaa", "task": "A", "indices": indices, "rate": 1 })
}

pub fn terminate_job(at: &str, job: &str) -> Value {
    json!({ "type": "terminate_job", "at": at, "job": job })
}

/// Like [`run`], with `files` (name, text) written beside the scenario first, for what a scenario
/// reads from other files (traces, empirical CSVs).
pub fn run_beside(scenario: &Value, files: &[(&str, &str)]) -> (Outcome, Rec) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a file beside the scenario");
    }
    let text = serde_json::to_string_pretty(scenario).unwrap();
    let loaded = termsim::scenario::parse(&text, &dir.path().join("test.json")).unwrap_or_else(|e| panic!("{e}"));
    let mut model = Model::new(loaded.config, Rec::default()).unwrap_or_else(|e| panic!("{e}"));
    model.run().unwrap_or_else(|e| panic!("{e}"));
    model.finish()
}

/// Every file under `dir`, relative path → bytes.
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(dir).unwrap().to_owned(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub fn assert_same_tree(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    let names = |f: &[(PathBuf, Vec<u8>)]| f.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "{} and {} hold different files", a.display(), b.display());
    for ((path, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs between {} and {}", path.display(), a.display(), b.display());
    }
}
