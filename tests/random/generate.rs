//! The random-scenario generator: valid scenarios over the whole format, most of them small,
//! with whole-second delays so that many events share an instant.
//!
//! A case is one JSON value. Files a scenario refers to (trace CSVs, empirical CSVs) are kept
//! inline, under keys starting with `__`, so that the shrinker can shrink them like any other
//! part; `materialise` writes them out beside the scenario.

use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

/// The case `index` of the run seeded `seed`: independent of every other case, so that any case
/// can be regenerated alone.
pub fn case(seed: u64, index: u64) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    Generator { rng: &mut rng }.scenario(index)
}

struct Generator<'a> {
    rng: &'a mut ChaCha8Rng,
}

const ODD_TASK_NAMES: &[&str] = &["A", "b", "0", "a-b_c", "task_9", "Z-", "_", "x1y2", "LONG_name-with-dashes"];
const ACCOUNTS: &[&str] = &["default", "ops", "a"];
const INSTANCE_IDS: &[&str] = &["ins-aaaaaaaa", "ins-00000000", "ins-zzzzzzzz", "ins-k3l9x0ab", "ins-12345678"];

impl Generator<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'v, T>(&mut self, values: &'v [T]) -> &'v T {
        &values[self.rng.random_range(0..values.len())]
    }

    fn upto(&mut self, max: u64) -> u64 {
        self.rng.random_range(0..=max)
    }

    fn lower_alnum(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char).collect()
    }

    /// A duration as the format allows it: a string with a unit, a compound one, or a number.
    fn duration(&mut self, seconds: u64) -> Value {
        match self.upto(5) {
            0 => json!(seconds),
            1 if seconds >= 60 => json!(format!("{}m {}s", seconds / 60, seconds % 60)),
            2 => json!(format!("{}ms", seconds * 1000)),
            _ => json!(format!("{seconds}s")),
        }
    }

    fn duration_upto(&mut self, max: u64) -> Value {
        let seconds = self.upto(max);
        self.duration(seconds)
    }

    fn duration_between(&mut self, min: u64, max: u64) -> Value {
        let seconds = self.rng.random_range(min..=max);
        self.duration(seconds)
    }

    fn duration_of(&mut self, values: &[u64]) -> Value {
        let seconds = *self.pick(values);
        self.duration(seconds)
    }

    /// A distribution over whole seconds up to `max` (`min` at least), mostly constant.
    fn distribution(&mut self, min: u64, max: u64) -> Value {
        let max = max.max(min);
        let constant = self.rng.random_range(min..=max);
        match self.upto(11) {
            0..=5 => self.duration(constant),
            6 => {
                let lo = self.rng.random_range(min..=max);
                let hi = self.rng.random_range(lo..=max);
                json!({ "uniform": { "min": self.duration(lo), "max": self.duration(hi) } })
            }
            7 => json!({ "exponential": { "mean": self.duration(constant.max(1)) } }),
            8 => json!({ "normal": { "mean": self.duration(constant), "std": self.duration_upto(3) } }),
            9 => {
                json!({ "lognormal": { "median": self.duration(constant.max(1)), "sigma": *self.pick(&[0.1, 0.5, 1.0]) } })
            }
            10 => {
                let n = 1 + self.upto(3) as usize;
                let values: Vec<Value> = (0..n).map(|_| self.duration_between(min, max)).collect();
                json!({ "empirical": { "values": values } })
            }
            _ => {
                let n = 1 + self.upto(3) as usize;
                let values: Vec<u64> = (0..n).map(|_| self.rng.random_range(min..=max)).collect();
                json!({ "empirical": { "csv": "empirical.csv", "column": "seconds", "__values": values } })
            }
        }
    }

    /// A distribution that never draws 0 (for creation delays, where 0 with failure 1.0 and
    /// `"RUNNABLE"` is refused).
    fn positive_distribution(&mut self, max: u64) -> Value {
        let constant = self.rng.random_range(1..=max.max(1));
        match self.upto(3) {
            0 => {
                let hi = self.rng.random_range(constant..=max.max(constant));
                json!({ "uniform": { "min": self.duration(constant), "max": self.duration(hi) } })
            }
            1 => {
                let values: Vec<Value> = (0..2).map(|_| self.duration_between(1, max.max(1))).collect();
                json!({ "empirical": { "values": values } })
            }
            _ => self.duration(constant),
        }
    }

    fn probability(&mut self) -> f64 {
        *self.pick(&[0.0, 0.0, 0.0, 0.1, 0.3, 0.5, 1.0])
    }

    fn scenario(&mut self, index: u64) -> Value {
        let mut s = Map::new();
        s.insert("name".into(), json!(format!("random-{index}")));
        s.insert("seed".into(), json!(self.upto(1_000_000)));
        s.insert("horizon".into(), self.duration_of(&[20, 60, 200, 600, 3600, 3600]));
        let environments = self.environments();
        let jobs = self.jobs(&environments);
        let backend = self.backend(&jobs);
        s.insert("backend".into(), backend);
        if !environments.is_empty() {
            s.insert("environments".into(), json!(environments));
        }
        let dlc = self.dlc_tasks();
        let tat = self.tat_invocations();
        let clients = self.clients(&jobs, &dlc, &tat);
        s.insert("jobs".into(), json!(jobs));
        if !clients.is_empty() || self.chance(0.5) {
            s.insert("clients".into(), json!(clients));
        }
        if !dlc.is_empty() {
            s.insert("dlc".into(), json!({ "tasks": dlc }));
        }
        if !tat.is_empty() {
            s.insert("tat".into(), json!({ "invocations": tat }));
        }
        Value::Object(s)
    }

    fn backend(&mut self, jobs: &[Value]) -> Value {
        let requeues = jobs.iter().any(|j| j["state_if_create_cvm_failed"] == "RUNNABLE");
        let failure_rate = self.probability();
        let creation_delay = if requeues && failure_rate == 1.0 {
            // Refused otherwise (a loop within one instant); the refusal has its own tests.
            self.positive_distribution(30)
        } else {
            self.distribution(0, 30)
        };
        let mut b = json!({
            "api": {
                "latency": self.distribution(0, 2),
                "rate_limit": *self.pick(&["fixed_window", "token_bucket"]),
                "limits": {
                    "TerminateTaskInstance": 1 + self.upto(3),
                    "TerminateJob": 1 + self.upto(2),
                    "CancelTask": 1 + self.upto(20),
                    "CancelInvocation": 1 + self.upto(20)
                },
                "internal_error_rate": *self.pick(&[0.0, 0.0, 0.0, 0.1, 0.5, 1.0])
            },
            "cvm": {
                "creation_delay": creation_delay,
                "creation_failure_rate": failure_rate,
                "termination_delay": self.distribution(0, 20),
                "restart_delay": self.distribution(0, 30),
                "interruption_rate_per_hour": *self.pick(&[0.0, 0.0, 0.0, 30.0, 600.0]),
                "create_rate_limit": *self.pick(&[None, None, Some(1.0), Some(2.0), Some(0.5)]),
                "terminate_rate_limit": *self.pick(&[None, None, Some(1.0), Some(4.0), Some(0.5)])
            },
            "quota": { "max_cvms": *self.pick(&[None, Some(1), Some(2), Some(3), Some(5), Some(1000)]) },
            "submit_delay": self.distribution(0, 5),
            "bypass": { "poll_interval": self.duration_of(&[0, 1, 5, 10, 30]) },
            "job_termination": {
                "per_instance": *self.pick(&["0s", "100ms", "1s", "2s"]),
                "per_task": *self.pick(&["0s", "0s", "3s"]),
                "workers": 1 + self.upto(1)
            },
            "named_env_termination": *self.pick(&["reject", "restart_cvm"])
        });
        // Leave out parts now and then: omitted fields have documented defaults.
        let fields = ["api", "cvm", "quota", "submit_delay", "bypass", "job_termination", "named_env_termination"];
        for field in fields {
            if self.chance(0.08) {
                let keep_cvm_loop_safe = field == "cvm" && requeues;
                if !keep_cvm_loop_safe {
                    b.as_object_mut().unwrap().remove(field);
                }
            }
        }
        b
    }

    fn environments(&mut self) -> Vec<Value> {
        let n = *self.pick(&[0, 0, 0, 1, 2]);
        (0..n).map(|_| json!({ "id": format!("env-{}", self.lower_alnum(8)), "nodes": 1 + self.upto(3) })).collect()
    }

    fn jobs(&mut self, environments: &[Value]) -> Vec<Value> {
        let n = 1 + self.upto(2) as usize;
        let mut ids: Vec<String> = Vec::new();
        (0..n)
            .map(|_| {
                let id = loop {
                    let id = match self.upto(4) {
                        0 => "job-00000000".to_string(),
                        1 => "job-zzzzzzzz".to_string(),
                        _ => format!("job-{}", self.lower_alnum(8)),
                    };
                    if !ids.contains(&id) {
                        break id;
                    }
                };
                ids.push(id.clone());
                let mut job = Map::new();
                job.insert("id".into(), json!(id));
                if self.chance(0.6) {
                    job.insert("submit_at".into(), self.duration_upto(20));
                }
                if !environments.is_empty() && self.chance(0.4) {
                    job.insert("env".into(), environments[self.rng.random_range(0..environments.len())]["id"].clone());
                } else if self.chance(0.3) {
                    job.insert("env".into(), json!("anonymous"));
                }
                if self.chance(0.6) {
                    job.insert("state_if_create_cvm_failed".into(), json!(*self.pick(&["FAILED", "RUNNABLE"])));
                }
                job.insert("tasks".into(), json!(self.tasks()));
                Value::Object(job)
            })
            .collect()
    }

    fn tasks(&mut self) -> Vec<Value> {
        let n = 1 + self.upto(2) as usize;
        let mut names: Vec<&str> = Vec::new();
        while names.len() < n {
            let name = *self.pick(ODD_TASK_NAMES);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        (0..n)
            .map(|k| {
                let mut task = Map::new();
                task.insert("name".into(), json!(names[k]));
                task.insert("instances".into(), {
                    let most = *self.pick(&[2, 5, 12]);
                    json!(1 + self.upto(most))
                });
                task.insert("runtime".into(), self.distribution(0, 120));
                if self.chance(0.5) {
                    task.insert("failure_rate".into(), json!(self.probability()));
                }
                if self.chance(0.5) {
                    task.insert("retry_count".into(), json!(self.upto(3)));
                }
                if self.chance(0.5) {
                    task.insert("failed_action".into(), json!(*self.pick(&["TERMINATE", "INTERRUPT"])));
                }
                let earlier: Vec<&str> = names[..k].iter().copied().filter(|_| self.chance(0.5)).collect();
                if !earlier.is_empty() {
                    task.insert("depends_on".into(), json!(earlier));
                }
                Value::Object(task)
            })
            .collect()
    }

    fn dlc_tasks(&mut self) -> Vec<Value> {
        let n = *self.pick(&[0, 0, 1, 2]);
        (0..n)
            .map(|k| {
                json!({
                    "id": format!("4ad30ca9-8b0e-499f-b4e1-d6e43ba0e56{k}"),
                    "submit_at": self.duration_upto(10),
                    "queued": self.distribution(0, 5),
                    "initializing": self.distribution(0, 5),
                    "running": self.distribution(0, 60),
                    "writing_data": self.distribution(0, 10),
                    "failure_rate": self.probability(),
                    "cancel_delay": self.distribution(0, 5)
                })
            })
            .collect()
    }

    fn tat_invocations(&mut self) -> Vec<Value> {
        let n = *self.pick(&[0, 0, 1, 2]);
        (0..n)
            .map(|k| {
                let count = 1 + self.upto(3) as usize;
                let instances: Vec<&str> = INSTANCE_IDS[..count].to_vec();
                json!({
                    "id": format!("inv-{k}{}", self.lower_alnum(7)),
                    "at": self.duration_upto(10),
                    "instances": instances,
                    "pending": self.distribution(0, 3),
                    "delivery": self.distribution(0, 3),
                    "deliver_delayed_rate": self.probability(),
                    "deliver_delayed_extra": self.distribution(0, 10),
                    "deliver_failed_rate": self.probability(),
                    "runtime": self.distribution(0, 60),
                    "failure_rate": self.probability(),
                    "timeout": self.duration_of(&[5, 30, 3600]),
                    "kill_delay": self.distribution(0, 5)
                })
            })
            .collect()
    }

    fn retry(&mut self) -> Option<Value> {
        if self.chance(0.5) {
            return None;
        }
        let mut r = Map::new();
        if self.chance(0.8) {
            r.insert("max_attempts".into(), json!(1 + self.upto(5)));
        }
        if self.chance(0.8) {
            r.insert("base".into(), json!(*self.pick(&["0s", "500ms", "1s", "2s"])));
        }
        if self.chance(0.5) {
            r.insert("max".into(), json!(*self.pick(&["1s", "4s", "30s"])));
        }
        if self.chance(0.5) {
            r.insert("multiplier".into(), json!(*self.pick(&[1.0, 1.5, 2.0])));
        }
        if self.chance(0.9) {
            r.insert("jitter".into(), json!(*self.pick(&["none", "none", "full", "equal"])));
        }
        Some(Value::Object(r))
    }

    /// A job id the calls may name: mostly real ones, sometimes unknown or malformed.
    fn job_target(&mut self, jobs: &[Value]) -> Value {
        match self.upto(9) {
            0 => json!("job-nosuchjb"),
            1 => json!(*self.pick(&["job_abcdefgh", "JOB-AAAAAAAA", "job-abc", "x"])),
            _ => jobs[self.rng.random_range(0..jobs.len())]["id"].clone(),
        }
    }

    fn clients(&mut self, jobs: &[Value], dlc: &[Value], tat: &[Value]) -> Vec<Value> {
        let n = self.upto(5) as usize;
        let mut clients = Vec::new();
        for _ in 0..n {
            let mut c = Map::new();
            let kind = match self.upto(9) {
                0..=2 => "terminate_task_instances",
                3..=4 => "terminate_job",
                5 => "cancel_task",
                6 => "cancel_invocation",
                _ => "trace",
            };
            c.insert("type".into(), json!(kind));
            if self.chance(0.3) {
                c.insert("name".into(), json!(format!("c-{}", self.lower_alnum(3))));
            }
            if self.chance(0.3) {
                c.insert("account".into(), json!(*self.pick(ACCOUNTS)));
            }
            // Mostly early, while CVMs are still being created and TAT tasks delivered.
            if self.chance(0.9) {
                let latest = *self.pick(&[10, 40, 40, 150]);
                c.insert("at".into(), self.duration_upto(latest));
            }
            match kind {
                "terminate_task_instances" => {
                    let job = self.job_target(jobs);
                    c.insert("job".into(), job.clone());
                    let task = self.task_of(jobs, &job);
                    c.insert("task".into(), json!(task));
                    let indices = match self.upto(3) {
                        0 => json!("all"),
                        1 => {
                            let from = self.upto(3);
                            json!({ "from": from, "to": from + self.upto(6) })
                        }
                        _ => json!((0..1 + self.upto(4)).map(|_| self.upto(8)).collect::<Vec<_>>()),
                    };
                    if indices != "all" || self.chance(0.5) {
                        c.insert("indices".into(), indices);
                    }
                    if self.chance(0.7) {
                        c.insert("rate".into(), json!(*self.pick(&[0.5, 1.0, 2.0, 4.0, 5.0, 10.0])));
                    }
                }
                "terminate_job" => {
                    c.insert("job".into(), self.job_target(jobs));
                }
                "cancel_task" => {
                    let id = self.dlc_target(dlc);
                    c.insert("task_id".into(), id);
                }
                "cancel_invocation" => {
                    let (invocation, instances) = self.tat_target(tat);
                    c.insert("invocation".into(), invocation);
                    if let Some(instances) = instances {
                        c.insert("instances".into(), instances);
                    }
                }
                _ => {
                    c.insert("csv".into(), json!(format!("trace-{}.csv", clients.len())));
                    c.insert("__rows".into(), json!(self.trace_rows(jobs, dlc, tat)));
                }
            }
            if let Some(retry) = self.retry() {
                c.insert("retry".into(), retry);
            }
            clients.push(Value::Object(c));
        }
        // The same call again a little later: a second cancel while the first is in progress,
        // a TerminateJob while the walk runs, a terminate of an instance already terminating.
        if !clients.is_empty() && self.chance(0.3) {
            let mut again = clients[self.rng.random_range(0..clients.len())].clone();
            let at = again.get("at").map(|a| crate::spec::duration(a) / 1_000_000).unwrap_or(0) + 1 + self.upto(2);
            again["at"] = self.duration(at);
            if let Some(csv) = again.get("csv").and_then(Value::as_str) {
                again["csv"] = json!(format!("again-{csv}"));
            }
            clients.push(again);
        }
        clients
    }

    fn task_of(&mut self, jobs: &[Value], job: &Value) -> String {
        let tasks = jobs.iter().find(|j| j["id"] == *job).map(|j| j["tasks"].as_array().unwrap().clone());
        match tasks {
            Some(tasks) if self.chance(0.9) => {
                tasks[self.rng.random_range(0..tasks.len())]["name"].as_str().unwrap().to_string()
            }
            _ => "nosuch".to_string(),
        }
    }

    fn dlc_target(&mut self, dlc: &[Value]) -> Value {
        match self.upto(5) {
            0 => json!("not-a-uuid"),
            1 => json!("00000000-0000-0000-0000-000000000000"),
            _ if !dlc.is_empty() => dlc[self.rng.random_range(0..dlc.len())]["id"].clone(),
            _ => json!("4ad30ca9-8b0e-499f-b4e1-d6e43ba0e56f"),
        }
    }

    fn tat_target(&mut self, tat: &[Value]) -> (Value, Option<Value>) {
        let invocation = match self.upto(5) {
            0 => json!("inv-nosuchin"),
            1 => json!("inv_bad"),
            _ if !tat.is_empty() => tat[self.rng.random_range(0..tat.len())]["id"].clone(),
            _ => json!("inv-zzzzzzzz"),
        };
        let instances = match self.upto(3) {
            0 | 1 => None,
            2 => Some(json!([*self.pick(INSTANCE_IDS)])),
            _ => Some(json!(INSTANCE_IDS[..1 + self.upto(2) as usize].to_vec())),
        };
        (invocation, instances)
    }

    /// Rows of a trace: `[at_s, account, action, job_id, task_name, index, task_id,
    /// invocation_id, instance_ids]`, in time order, equal times now and then.
    fn trace_rows(&mut self, jobs: &[Value], dlc: &[Value], tat: &[Value]) -> Vec<Value> {
        let n = 1 + self.upto(6);
        let mut at = self.upto(30) as f64;
        let mut rows = Vec::new();
        for _ in 0..n {
            if self.chance(0.6) {
                at += *self.pick(&[0.5, 1.0, 2.0, 10.0]);
            }
            let account = if self.chance(0.3) { (*self.pick(ACCOUNTS)).to_string() } else { String::new() };
            let row = match self.upto(6) {
                0..=2 => {
                    let job = self.job_target(jobs);
                    let task = self.task_of(jobs, &job);
                    json!([at, account, "TerminateTaskInstance", job, task, self.upto(6).to_string(), "", "", ""])
                }
                3 | 4 => json!([at, account, "TerminateJob", self.job_target(jobs), "", "", "", "", ""]),
                5 => json!([at, account, "CancelTask", "", "", "", self.dlc_target(dlc), "", ""]),
                _ => {
                    let (invocation, instances) = self.tat_target(tat);
                    let cell = instances
                        .map(|v| {
                            v.as_array()
                                .unwrap()
                                .iter()
                                .map(|i| i.as_str().unwrap().to_string())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .unwrap_or_default();
                    json!([at, account, "CancelInvocation", "", "", "", "", invocation, cell])
                }
            };
            rows.push(row);
        }
        rows
    }
}

/// Writes a case into `dir` as `scenario.json` and the files it refers to; returns the
/// scenario's path.
pub fn materialise(case: &Value, dir: &Path) -> std::path::PathBuf {
    let mut scenario = case.clone();
    let mut files: Vec<(String, String)> = Vec::new();
    extract_files(&mut scenario, &mut files);
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write a side file");
    }
    let path = dir.join("scenario.json");
    std::fs::write(&path, serde_json::to_string_pretty(&scenario).unwrap()).expect("write the scenario");
    path
}

fn extract_files(value: &mut Value, files: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(rows) = map.remove("__rows") {
                let name = map["csv"].as_str().unwrap().to_string();
                files.push((name, trace_csv(&rows)));
            }
            if let Some(values) = map.remove("__values") {
                let name = map["csv"].as_str().unwrap().to_string();
                let column = map["column"].as_str().unwrap().to_string();
                let mut text = format!("{column}\n");
                for v in values.as_array().unwrap() {
                    text.push_str(&format!("{v}\n"));
                }
                // Several empirical CSVs may share a name: give each its own.
                let name = format!("{}-{}", files.len(), name);
                map.insert("csv".into(), json!(name));
                files.push((name, text));
            }
            for v in map.values_mut() {
                extract_files(v, files);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| extract_files(v, files)),
        _ => {}
    }
}

/// A trace CSV from its rows (cells as strings; times with 6 decimals, as `at_s` is read to the
/// microsecond).
pub fn trace_csv(rows: &Value) -> String {
    let mut text = String::from("at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n");
    for row in rows.as_array().unwrap() {
        let cells: Vec<String> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|c| match c {
                Value::Number(n) => format!("{:.6}", n.as_f64().unwrap()),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}
