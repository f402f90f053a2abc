//! The scenario as the oracle reads it: from the JSON a case holds, with the defaults the README
//! documents filled in. Nothing here comes from termsim's own loader.

use serde_json::Value;

use super::outputs::Micros;

/// What the oracle may know of a distribution without drawing from it.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Every draw is this.
    Constant(Micros),
    /// Every draw is one of these (empirical values).
    OneOf(Vec<Micros>),
    /// Every draw is within [min, max] (uniform; rounding to µs may reach either end).
    Within(Micros, Micros),
    /// Any draw ≥ 0 (exponential, normal clamped at 0, lognormal).
    Any,
}

impl Dist {
    /// Whether a draw can be `x` µs.
    pub fn allows(&self, x: Micros) -> bool {
        match self {
            Dist::Constant(c) => *c == x,
            Dist::OneOf(v) => v.contains(&x),
            Dist::Within(a, b) => *a <= x && x <= *b,
            Dist::Any => true,
        }
    }

    pub fn max(&self) -> Option<Micros> {
        match self {
            Dist::Constant(c) => Some(*c),
            Dist::OneOf(v) => v.iter().max().copied(),
            Dist::Within(_, b) => Some(*b),
            Dist::Any => None,
        }
    }
}

/// A duration as the format writes it (a string with units, or a number of seconds), in µs.
pub fn duration(v: &Value) -> Micros {
    match v {
        Value::Number(n) => (n.as_f64().unwrap() * 1e6).round() as Micros,
        Value::String(s) => {
            humantime::parse_duration(s).unwrap_or_else(|e| panic!("duration {s:?}: {e}")).as_micros() as Micros
        }
        other => panic!("not a duration: {other}"),
    }
}

pub fn dist(v: &Value) -> Dist {
    match v {
        Value::Object(map) => {
            let (kind, body) = map.iter().next().unwrap();
            match kind.as_str() {
                "uniform" => Dist::Within(duration(&body["min"]), duration(&body["max"])),
                "empirical" if body.get("values").is_some() => {
                    Dist::OneOf(body["values"].as_array().unwrap().iter().map(duration).collect())
                }
                // A generated empirical CSV keeps its values inline under `__values`.
                "empirical" => Dist::OneOf(body["__values"].as_array().unwrap().iter().map(duration).collect()),
                _ => Dist::Any,
            }
        }
        other => Dist::Constant(duration(other)),
    }
}

fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    Some(at)
}

fn dist_or(v: &Value, path: &[&str], default: Value) -> Dist {
    dist(get(v, path).unwrap_or(&default))
}

fn duration_or(v: &Value, path: &[&str], default: &str) -> Micros {
    get(v, path).map(duration).unwrap_or_else(|| duration(&Value::String(default.into())))
}

fn f64_or(v: &Value, path: &[&str], default: f64) -> f64 {
    get(v, path).and_then(Value::as_f64).unwrap_or(default)
}

#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub instances: u32,
    pub runtime: Dist,
    pub failure_rate: f64,
    pub retry_count: u32,
    /// `"TERMINATE"` or `"INTERRUPT"`.
    pub failed_action: String,
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub submit_at: Micros,
    /// `"anonymous"` or an environment id.
    pub env: String,
    /// `"FAILED"` or `"RUNNABLE"`.
    pub state_if_create_cvm_failed: String,
    pub tasks: Vec<Task>,
}

#[derive(Clone, Debug)]
pub struct Retry {
    pub max_attempts: u32,
    pub base: Micros,
    pub max: Micros,
    pub multiplier: f64,
    /// `"none"`, `"full"` or `"equal"`.
    pub jitter: String,
}

/// One call a client makes, before the API answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub at: Micros,
    pub account: String,
    pub action: String,
    pub job: String,
    pub task: String,
    pub index: String,
    pub task_id: String,
    pub invocation: String,
    /// `None`: every instance of the invocation.
    pub instance_ids: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub kind: String,
    pub name: String,
    pub account: String,
    pub retry: Option<Retry>,
    /// Its calls in the order it makes them.
    pub calls: Vec<Call>,
}

#[derive(Clone, Debug)]
pub struct DlcTask {
    pub id: String,
    pub submit_at: Micros,
    pub queued: Dist,
    pub initializing: Dist,
    pub running: Dist,
    pub writing_data: Dist,
    pub failure_rate: f64,
    pub cancel_delay: Dist,
}

#[derive(Clone, Debug)]
pub struct Invocation {
    pub id: String,
    pub at: Micros,
    pub instances: Vec<String>,
    pub pending: Dist,
    pub delivery: Dist,
    pub deliver_delayed_rate: f64,
    pub deliver_delayed_extra: Dist,
    pub deliver_failed_rate: f64,
    pub runtime: Dist,
    pub failure_rate: f64,
    pub timeout: Micros,
    pub kill_delay: Dist,
}

/// The whole scenario, defaults filled in (README, "The scenario format").
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub seed: u64,
    pub horizon: Micros,
    pub api_latency: Dist,
    /// `"fixed_window"` or `"token_bucket"`.
    pub rate_limit: String,
    /// Calls per second per account, by action.
    pub limits: Vec<(String, u64)>,
    pub internal_error_rate: f64,
    pub creation_delay: Dist,
    pub creation_failure_rate: f64,
    pub termination_delay: Dist,
    pub restart_delay: Dist,
    pub interruption_rate_per_hour: f64,
    pub create_rate_limit: Option<f64>,
    pub terminate_rate_limit: Option<f64>,
    pub max_cvms: Option<u64>,
    pub submit_delay: Dist,
    pub poll_interval: Micros,
    pub per_instance: Micros,
    pub per_task: Micros,
    pub workers: u32,
    /// `"reject"` or `"restart_cvm"`.
    pub named_env_termination: String,
    /// `(id, nodes)`.
    pub environments: Vec<(String, u32)>,
    pub jobs: Vec<Job>,
    pub clients: Vec<Client>,
    pub dlc: Vec<DlcTask>,
    pub tat: Vec<Invocation>,
}

impl Spec {
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    pub fn total_instances(&self) -> u64 {
        self.jobs.iter().flat_map(|j| &j.tasks).map(|t| u64::from(t.instances)).sum()
    }

    /// Reads a case (the JSON the generator made, side files inline). `seed` overrides the
    /// file's, as `--seed` does.
    pub fn read(case: &Value) -> Spec {
        let b = &case["backend"];
        let limit =
            |action: &str, default: u64| get(b, &["api", "limits", action]).and_then(Value::as_u64).unwrap_or(default);
        let jobs: Vec<Job> = case["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| Job {
                id: j["id"].as_str().unwrap().into(),
                submit_at: get(j, &["submit_at"]).map(duration).unwrap_or(0),
                env: j.get("env").and_then(Value::as_str).unwrap_or("anonymous").into(),
                state_if_create_cvm_failed: j
                    .get("state_if_create_cvm_failed")
                    .and_then(Value::as_str)
                    .unwrap_or("FAILED")
                    .into(),
                tasks: j["tasks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| Task {
                        name: t["name"].as_str().unwrap().into(),
                        instances: t["instances"].as_u64().unwrap() as u32,
                        runtime: dist(&t["runtime"]),
                        failure_rate: t.get("failure_rate").and_then(Value::as_f64).unwrap_or(0.0),
                        retry_count: t.get("retry_count").and_then(Value::as_u64).unwrap_or(0) as u32,
                        failed_action: t.get("failed_action").and_then(Value::as_str).unwrap_or("TERMINATE").into(),
                        depends_on: t
                            .get("depends_on")
                            .and_then(Value::as_array)
                            .map(|d| d.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        let clients = case
            .get("clients")
            .and_then(Value::as_array)
            .map(|cs| cs.iter().enumerate().map(|(k, c)| client(k, c, &jobs)).collect())
            .unwrap_or_default();
        let dlc = get(case, &["dlc", "tasks"])
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| DlcTask {
                        id: t["id"].as_str().unwrap().into(),
                        submit_at: get(t, &["submit_at"]).map(duration).unwrap_or(0),
                        queued: dist_or(t, &["queued"], "5s".into()),
                        initializing: dist_or(t, &["initializing"], "2s".into()),
                        running: dist_or(t, &["running"], "10m".into()),
                        writing_data: dist_or(t, &["writing_data"], "30s".into()),
                        failure_rate: f64_or(t, &["failure_rate"], 0.0),
                        cancel_delay: dist_or(t, &["cancel_delay"], "3s".into()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tat = get(case, &["tat", "invocations"])
            .and_then(Value::as_array)
            .map(|is| {
                is.iter()
                    .map(|i| Invocation {
                        id: i["id"].as_str().unwrap().into(),
                        at: get(i, &["at"]).map(duration).unwrap_or(0),
                        instances: i["instances"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_str().unwrap().to_string())
                            .collect(),
                        pending: dist_or(i, &["pending"], "1s".into()),
                        delivery: dist_or(i, &["delivery"], "2s".into()),
                        deliver_delayed_rate: f64_or(i, &["deliver_delayed_rate"], 0.0),
                        deliver_delayed_extra: dist_or(i, &["deliver_delayed_extra"], "30s".into()),
                        deliver_failed_rate: f64_or(i, &["deliver_failed_rate"], 0.0),
                        runtime: dist_or(i, &["runtime"], "5m".into()),
                        failure_rate: f64_or(i, &["failure_rate"], 0.0),
                        timeout: duration_or(i, &["timeout"], "1h"),
                        kill_delay: dist_or(i, &["kill_delay"], "5s".into()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Spec {
            name: case["name"].as_str().unwrap().into(),
            seed: case.get("seed").and_then(Value::as_u64).unwrap_or(0),
            horizon: case.get("horizon").map(duration).unwrap_or(24 * 3600 * 1_000_000),
            api_latency: dist_or(b, &["api", "latency"], "20ms".into()),
            rate_limit: get(b, &["api", "rate_limit"]).and_then(Value::as_str).unwrap_or("fixed_window").into(),
            limits: vec![
                ("TerminateTaskInstance".into(), limit("TerminateTaskInstance", 2)),
                ("TerminateJob".into(), limit("TerminateJob", 2)),
                ("CancelTask".into(), limit("CancelTask", 20)),
                ("CancelInvocation".into(), limit("CancelInvocation", 20)),
            ],
            internal_error_rate: f64_or(b, &["api", "internal_error_rate"], 0.0),
            creation_delay: dist_or(
                b,
                &["cvm", "creation_delay"],
                serde_json::json!({"lognormal": {"median": "90s", "sigma": 0.25}}),
            ),
            creation_failure_rate: f64_or(b, &["cvm", "creation_failure_rate"], 0.0),
            termination_delay: dist_or(
                b,
                &["cvm", "termination_delay"],
                serde_json::json!({"uniform": {"min": "5s", "max": "15s"}}),
            ),
            restart_delay: dist_or(b, &["cvm", "restart_delay"], "60s".into()),
            interruption_rate_per_hour: f64_or(b, &["cvm", "interruption_rate_per_hour"], 0.0),
            create_rate_limit: get(b, &["cvm", "create_rate_limit"]).and_then(Value::as_f64),
            terminate_rate_limit: get(b, &["cvm", "terminate_rate_limit"]).and_then(Value::as_f64),
            max_cvms: match get(b, &["quota", "max_cvms"]) {
                None => Some(1000),
                Some(v) => v.as_u64(),
            },
            submit_delay: dist_or(b, &["submit_delay"], "2s".into()),
            poll_interval: duration_or(b, &["bypass", "poll_interval"], "10s"),
            per_instance: duration_or(b, &["job_termination", "per_instance"], "50ms"),
            per_task: duration_or(b, &["job_termination", "per_task"], "0s"),
            workers: get(b, &["job_termination", "workers"]).and_then(Value::as_u64).unwrap_or(1) as u32,
            named_env_termination: get(b, &["named_env_termination"])
                .and_then(Value::as_str)
                .unwrap_or("reject")
                .into(),
            environments: case
                .get("environments")
                .and_then(Value::as_array)
                .map(|es| {
                    es.iter()
                        .map(|e| (e["id"].as_str().unwrap().to_string(), e["nodes"].as_u64().unwrap() as u32))
                        .collect()
                })
                .unwrap_or_default(),
            jobs,
            clients,
            dlc,
            tat,
        }
    }
}

fn client(position: usize, c: &Value, jobs: &[Job]) -> Client {
    let kind = c["type"].as_str().unwrap().to_string();
    let account = c.get("account").and_then(Value::as_str).unwrap_or("default").to_string();
    let at = c.get("at").map(duration).unwrap_or(0);
    let retry = c.get("retry").map(|r| Retry {
        max_attempts: r.get("max_attempts").and_then(Value::as_u64).unwrap_or(8) as u32,
        base: r.get("base").map(duration).unwrap_or(500_000),
        max: r.get("max").map(duration).unwrap_or(30_000_000),
        multiplier: r.get("multiplier").and_then(Value::as_f64).unwrap_or(2.0),
        jitter: r.get("jitter").and_then(Value::as_str).unwrap_or("full").into(),
    });
    let blank = Call {
        at,
        account: account.clone(),
        action: String::new(),
        job: String::new(),
        task: String::new(),
        index: String::new(),
        task_id: String::new(),
        invocation: String::new(),
        instance_ids: None,
    };
    let text = |key: &str| c.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let calls = match kind.as_str() {
        "terminate_job" => vec![Call { action: "TerminateJob".into(), job: text("job"), ..blank }],
        "cancel_task" => vec![Call { action: "CancelTask".into(), task_id: text("task_id"), ..blank }],
        "cancel_invocation" => vec![Call {
            action: "CancelInvocation".into(),
            invocation: text("invocation"),
            instance_ids: c
                .get("instances")
                .and_then(Value::as_array)
                .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect()),
            ..blank
        }],
        "terminate_task_instances" => {
            let job = text("job");
            let task = text("task");
            let rate = c.get("rate").and_then(Value::as_f64).unwrap_or(2.0);
            let count = jobs
                .iter()
                .find(|j| j.id == job)
                .and_then(|j| j.tasks.iter().find(|t| t.name == task))
                .map(|t| t.instances)
                .unwrap_or(0);
            let indices: Vec<u64> = match c.get("indices") {
                None => (0..u64::from(count)).collect(),
                Some(Value::String(s)) if s == "all" => (0..u64::from(count)).collect(),
                Some(Value::Array(v)) => v.iter().map(|x| x.as_u64().unwrap()).collect(),
                Some(range) => (range["from"].as_u64().unwrap()..=range["to"].as_u64().unwrap()).collect(),
            };
            indices
                .into_iter()
                .enumerate()
                .map(|(i, index)| Call {
                    at: at + (i as f64 / rate * 1e6).round() as Micros,
                    action: "TerminateTaskInstance".into(),
                    job: job.clone(),
                    task: task.clone(),
                    index: index.to_string(),
                    ..blank.clone()
                })
                .collect()
        }
        "trace" => c["__rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let cell = |k: usize| match &row[k] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let row_account = cell(1);
                let ids = cell(8);
                Call {
                    at: at + (row[0].as_f64().unwrap() * 1e6).round() as Micros,
                    account: if row_account.is_empty() { account.clone() } else { row_account },
                    action: cell(2),
                    job: cell(3),
                    task: cell(4),
                    index: cell(5),
                    task_id: cell(6),
                    invocation: cell(7),
                    instance_ids: (!ids.is_empty()).then(|| ids.split(';').map(str::to_string).collect()),
                }
            })
            .collect(),
        other => panic!("unknown client type {other}"),
    };
    Client {
        name: c.get("name").and_then(Value::as_str).map(str::to_string).unwrap_or(format!("{kind}-{position}")),
        kind,
        account,
        retry,
        calls,
    }
}
