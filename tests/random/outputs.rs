//! A run's output files, read as text by the oracle's own parser (nothing of termsim's): times
//! are whole microseconds, parsed from their six decimals exactly.

use std::path::Path;

use serde_json::Value;

/// Microseconds.
pub type Micros = u64;

pub const SECOND: Micros = 1_000_000;

/// Microseconds as the outputs write seconds, for messages.
pub fn s(t: Micros) -> String {
    format!("{}.{:06}", t / SECOND, t % SECOND)
}

/// `123.456789` → 123_456_789 µs, exactly; `None` for an empty cell.
pub fn micros(cell: &str) -> Option<Micros> {
    if cell.is_empty() {
        return None;
    }
    let (whole, frac) = cell.split_once('.').unwrap_or((cell, ""));
    assert!(frac.len() <= 6, "more than 6 decimals in {cell:?}");
    let frac: String = format!("{frac:0<6}");
    Some(
        whole.parse::<u64>().unwrap_or_else(|_| panic!("not a time: {cell:?}")) * 1_000_000
            + frac.parse::<u64>().unwrap(),
    )
}

/// A duration in seconds as the outputs write it, to µs.
pub fn seconds_to_micros(seconds: f64) -> Micros {
    (seconds * 1e6).round() as u64
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineRow {
    /// Position in the file (0 = first data row).
    pub line: usize,
    pub t: Micros,
    pub entity: String,
    pub id: String,
    pub from: Option<String>,
    pub to: String,
    pub cause: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    pub line: usize,
    pub request_id: String,
    pub client: String,
    pub account: String,
    pub action: String,
    pub target: String,
    pub attempt: u32,
    pub sent: Micros,
    pub responded: Micros,
    pub ok: bool,
    pub error_code: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRow {
    pub job_id: String,
    pub task: String,
    pub index: u32,
    pub env: String,
    pub final_state: String,
    pub path: String,
    pub terminate_requested: Option<Micros>,
    pub terminated: Option<Micros>,
    pub released: Option<Micros>,
    pub termination_latency: Option<Micros>,
    pub release_latency: Option<Micros>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccupancyRow {
    pub t: Micros,
    pub cvms_alive: u64,
    pub quota_in_use: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancellationRow {
    pub service: String,
    pub id: String,
    pub instance_id: String,
    pub final_state: String,
    pub cancel_requested: Option<Micros>,
    pub cancelled: Option<Micros>,
    pub cancel_latency: Option<Micros>,
}

/// Every output a run wrote. `timeline` is `None` under `--no-timeline`.
#[derive(Debug)]
pub struct Outputs {
    pub timeline: Option<Vec<TimelineRow>>,
    pub requests: Vec<RequestRow>,
    pub instances: Vec<InstanceRow>,
    pub occupancy: Vec<OccupancyRow>,
    pub cancellations: Option<Vec<CancellationRow>>,
    pub summary: Value,
}

fn rows(path: &Path, header: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{}: header", path.display());
    // No cell of these files holds a comma or a quote (ids, names and codes are plain).
    lines.map(|l| l.split(',').map(str::to_string).collect()).collect()
}

impl Outputs {
    pub fn read(dir: &Path) -> Outputs {
        let timeline_path = dir.join("timeline.csv");
        let timeline = timeline_path.exists().then(|| {
            rows(&timeline_path, "time_s,entity,id,from,to,cause")
                .into_iter()
                .enumerate()
                .map(|(line, c)| TimelineRow {
                    line,
                    t: micros(&c[0]).unwrap(),
                    entity: c[1].clone(),
                    id: c[2].clone(),
                    from: (!c[3].is_empty()).then(|| c[3].clone()),
                    to: c[4].clone(),
                    cause: c[5].clone(),
                })
                .collect()
        });
        let requests = rows(
            &dir.join("requests.csv"),
            "request_id,client,account,action,target,attempt,sent_s,responded_s,outcome,error_code",
        )
        .into_iter()
        .enumerate()
        .map(|(line, c)| RequestRow {
            line,
            request_id: c[0].clone(),
            client: c[1].clone(),
            account: c[2].clone(),
            action: c[3].clone(),
            target: c[4].clone(),
            attempt: c[5].parse().unwrap(),
            sent: micros(&c[6]).unwrap(),
            responded: micros(&c[7]).unwrap(),
            ok: match c[8].as_str() {
                "ok" => true,
                "error" => false,
                other => panic!("requests.csv line {}: outcome {other:?}", line + 2),
            },
            error_code: c[9].clone(),
        })
        .collect();
        let instances = rows(
            &dir.join("instances.csv"),
            "job_id,task,index,env,final_state,path,terminate_requested_s,terminated_s,released_s,termination_latency_s,release_latency_s",
        )
        .into_iter()
        .map(|c| InstanceRow {
            job_id: c[0].clone(),
            task: c[1].clone(),
            index: c[2].parse().unwrap(),
            env: c[3].clone(),
            final_state: c[4].clone(),
            path: c[5].clone(),
            terminate_requested: micros(&c[6]),
            terminated: micros(&c[7]),
            released: micros(&c[8]),
            termination_latency: micros(&c[9]),
            release_latency: micros(&c[10]),
        })
        .collect();
        let occupancy = rows(&dir.join("occupancy.csv"), "time_s,cvms_alive,quota_in_use")
            .into_iter()
            .map(|c| OccupancyRow {
                t: micros(&c[0]).unwrap(),
                cvms_alive: c[1].parse().unwrap(),
                quota_in_use: c[2].parse().unwrap(),
            })
            .collect();
        let cancellations_path = dir.join("cancellations.csv");
        let cancellations = cancellations_path.exists().then(|| {
            rows(
                &cancellations_path,
                "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s",
            )
            .into_iter()
            .map(|c| CancellationRow {
                service: c[0].clone(),
                id: c[1].clone(),
                instance_id: c[2].clone(),
                final_state: c[3].clone(),
                cancel_requested: micros(&c[4]),
                cancelled: micros(&c[5]),
                cancel_latency: micros(&c[6]),
            })
            .collect()
        });
        let summary = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
        Outputs { timeline, requests, instances, occupancy, cancellations, summary }
    }
}
