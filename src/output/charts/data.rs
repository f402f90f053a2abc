//! The aggregates the charts are drawn from.
//!
//! [`ChartData`] is fed one output row at a time, by the run as it writes its CSV files and by
//! `termsim plot` as it reads them back, and it only ever sees what those rows hold. That is
//! what makes `plot` redraw a run's charts byte for byte. Everything it keeps is bounded or
//! compact:
//!
//! - instance state changes: a byte-packed log (about 2–4 bytes a change), kept only when the
//!   timeline is written, read once at the end for the Gantt sample and the per-job progress;
//! - occupancy (CVMs alive, quota in use): [`StepSeries`] of at most 1,024 buckets each;
//! - API calls: counts per action, second and outcome;
//! - per instance, from `instances.csv`: its latencies by path, when it was terminated, and a
//!   thinned, evenly spaced sample of each path for the Gantt chart;
//! - per DLC task and TAT invocation task, from `cancellations.csv`: its cancel latency.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::SimTime;
use crate::model::{ErrorCode, InstanceState, TatTaskState, TerminationPath};
use crate::scenario::values::MAX_DURATION_SECONDS;

use super::series::StepSeries;

/// How many instances the Gantt chart shows at most.
pub const GANTT_ROWS: usize = 200;

/// Candidates kept per path while instances stream past; the Gantt sample is picked from them.
const CANDIDATES_PER_PATH: usize = 2 * GANTT_ROWS;

/// What a run was, as its `summary.json` tells: the charts' titles and reference lines.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// The scenario's name (`scenario`).
    pub scenario: String,
    /// The scenario's `seed`.
    pub seed: u64,
    /// The time of the last state change (`sim_end_s`).
    pub sim_end: SimTime,
    /// The quota limit (`quota_max_cvms`), drawn as a reference line; `None` without a limit.
    pub quota_limit: Option<u64>,
    /// The jobs, in the order of `summary.json`'s `jobs` (the scenario's).
    pub jobs: Vec<JobMeta>,
}

/// A job as `summary.json`'s `jobs` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobMeta {
    /// The job's id (`job-` + 8 characters).
    pub id: String,
    /// When a TerminateJob for it was accepted.
    pub terminate_requested: Option<SimTime>,
}

/// The latest time a run writes: nothing happens after its horizon, which is at most ten years
/// ([`MAX_DURATION_SECONDS`]). The charts' time arithmetic (an axis a little past the end, bins
/// of whole seconds in microseconds) is sized for it; a later time is not of a run.
pub const LATEST: SimTime = SimTime(MAX_DURATION_SECONDS * SimTime::MICROS_PER_SECOND);

/// Seconds as written in the outputs (six decimals) back to whole microseconds; `None` past
/// [`LATEST`].
pub fn seconds_to_time(seconds: f64) -> Option<SimTime> {
    (seconds.is_finite() && seconds >= 0.0).then(|| SimTime((seconds * 1e6).round() as u64)).filter(|&t| t <= LATEST)
}

impl RunMeta {
    /// Reads the keys the charts need; the error names the first key that is missing or wrong.
    pub fn from_summary(summary: &Value) -> Result<RunMeta, String> {
        let field = |key: &str| summary.get(key).ok_or_else(|| format!("`{key}` is missing"));
        let time = |v: &Value, key: &str| {
            v.as_f64()
                .and_then(seconds_to_time)
                .ok_or_else(|| format!("`{key}` is not a time (seconds from 0 to {LATEST}, the longest horizon)"))
        };
        let scenario = field("scenario")?.as_str().ok_or("`scenario` is not a string")?.to_owned();
        let seed = field("seed")?.as_u64().ok_or("`seed` is not an unsigned integer")?;
        let sim_end = time(field("sim_end_s")?, "sim_end_s")?;
        let quota_limit = match summary.get("quota_max_cvms") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or("`quota_max_cvms` is not an unsigned integer")?),
        };
        let jobs = field("jobs")?
            .as_array()
            .ok_or("`jobs` is not a list")?
            .iter()
            .enumerate()
            .map(|(i, job)| {
                let id = job.get("id").and_then(Value::as_str).ok_or_else(|| format!("`jobs[{i}].id` is missing"))?;
                let terminate_requested = match job.get("terminate_requested_s") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(time(v, &format!("jobs[{i}].terminate_requested_s"))?),
                };
                Ok(JobMeta { id: id.to_owned(), terminate_requested })
            })
            .collect::<Result<_, String>>()?;
        Ok(RunMeta { scenario, seed, sim_end, quota_limit, jobs })
    }
}

/// One row of `instances.csv`, as far as the charts need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceRow {
    /// Position of the instance's job in the scenario (and in `summary.json`'s `jobs`).
    pub job: u32,
    /// The `path` column.
    pub path: TerminationPath,
    /// `terminate_requested_s`: when the accepted request that covers the instance arrived.
    pub requested: Option<SimTime>,
    /// `terminated_s`: when the instance became `FAILED` by that request.
    pub terminated: Option<SimTime>,
    /// `released_s`: when its CVM became `TERMINATED` and the quota was freed.
    pub released: Option<SimTime>,
}

/// Instance state changes in time order, packed: a head byte (state, "time moved", "next
/// instance"), then the time step and the instance step as LEB128 varints when they are not
/// implied. A TerminateJob walk or a burst of creations costs 1–3 bytes a change.
#[derive(Clone, Debug, Default)]
pub struct InstanceLog {
    bytes: Vec<u8>,
    last_time: u64,
    last_instance: u32,
}

const TIME_MOVED: u8 = 0x10;
const NEXT_INSTANCE: u8 = 0x20;
const STATE_BITS: u8 = 0x0f;

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

impl InstanceLog {
    fn push(&mut self, time: SimTime, instance: u32, state: InstanceState) {
        let step = time.micros() - self.last_time;
        let next = instance == self.last_instance.wrapping_add(1) && !self.bytes.is_empty();
        let mut head = state.index() as u8;
        if step > 0 {
            head |= TIME_MOVED;
        }
        if next {
            head |= NEXT_INSTANCE;
        }
        self.bytes.push(head);
        if step > 0 {
            push_varint(&mut self.bytes, step);
        }
        if !next {
            let delta = i64::from(instance) - i64::from(self.last_instance);
            push_varint(&mut self.bytes, ((delta << 1) ^ (delta >> 63)) as u64);
        }
        self.last_time = time.micros();
        self.last_instance = instance;
    }

    /// The changes in the order they were logged: (time, instance, new state).
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, u32, InstanceState)> + '_ {
        let mut at = 0;
        let (mut time, mut instance) = (0u64, 0u32);
        std::iter::from_fn(move || {
            let head = *self.bytes.get(at)?;
            at += 1;
            if head & TIME_MOVED != 0 {
                time += read_varint(&self.bytes, &mut at);
            }
            if head & NEXT_INSTANCE != 0 {
                instance += 1;
            } else {
                let zigzag = read_varint(&self.bytes, &mut at);
                let delta = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
                instance = (i64::from(instance) + delta) as u32;
            }
            Some((SimTime(time), instance, InstanceState::ALL[usize::from(head & STATE_BITS)]))
        })
    }

    /// The log's size in bytes.
    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// An evenly spaced sample of a stream of unknown length: keeps every `stride`-th item and
/// doubles the stride whenever more than `CANDIDATES_PER_PATH` are kept.
#[derive(Clone, Debug, Default)]
pub struct Thinned {
    /// How many items were offered, kept or not.
    pub seen: u64,
    stride: u64,
    kept: Vec<(u64, Candidate)>,
}

/// An instance that may be drawn in the Gantt chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Position of its row in `instances.csv` (the global task instance index).
    pub instance: u32,
    /// Its `terminate_requested_s`, marked on its Gantt row.
    pub requested: Option<SimTime>,
}

impl Thinned {
    fn offer(&mut self, candidate: Candidate) {
        let rank = self.seen;
        self.seen += 1;
        self.stride = self.stride.max(1);
        if !rank.is_multiple_of(self.stride) {
            return;
        }
        self.kept.push((rank, candidate));
        if self.kept.len() > CANDIDATES_PER_PATH {
            self.stride *= 2;
            let stride = self.stride;
            self.kept.retain(|(r, _)| r % stride == 0);
        }
    }

    /// `n` of the kept candidates, evenly spaced.
    pub fn pick(&self, n: usize) -> Vec<Candidate> {
        let kept = self.kept.len();
        let n = n.min(kept);
        (0..n).map(|i| self.kept[i * kept / n].1).collect()
    }
}

/// Counts of one action's calls in one second: accepted, rate-limited, other errors.
pub type CallCounts = [u64; 3];
/// Index in [`CallCounts`] of the calls answered without an error.
pub const ACCEPTED: usize = 0;
/// Index in [`CallCounts`] of the calls answered `RequestLimitExceeded`.
pub const RATE_LIMITED: usize = 1;
/// Index in [`CallCounts`] of the calls answered with any other error.
pub const OTHER_ERROR: usize = 2;

/// The calls of one action, from `requests.csv`.
#[derive(Clone, Debug)]
pub struct ActionCalls {
    /// The `action` column, e.g. `TerminateJob`.
    pub action: String,
    /// Counts by the whole second of `sent_s`; seconds without a call are absent.
    pub per_second: BTreeMap<u64, CallCounts>,
}

/// What a cancel found, for the cancellation chart's lines (SPEC §1.8, §1.9), from a
/// `cancellations.csv` row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelGroup {
    /// A DLC task: `CANCELLED` after the cancel delay.
    Dlc,
    /// A TAT task not yet delivered: `CANCELLED` at once.
    TatUndelivered,
    /// A running TAT task: `TERMINATED` after the kill delay.
    TatRunning,
}

impl CancelGroup {
    /// Every group, in the order of the chart's lines and of [`ChartData::cancel_latency`].
    pub const ALL: [CancelGroup; 3] = [CancelGroup::Dlc, CancelGroup::TatUndelivered, CancelGroup::TatRunning];

    /// From a row's `service` and `final_state`; `None` for a service termsim does not write.
    pub fn of(service: &str, final_state: &str) -> Option<CancelGroup> {
        match (service, final_state) {
            ("dlc", _) => Some(CancelGroup::Dlc),
            ("tat", state) if state == TatTaskState::Terminated.as_str() => Some(CancelGroup::TatRunning),
            ("tat", _) => Some(CancelGroup::TatUndelivered),
            _ => None,
        }
    }

    /// The group's name in the chart's legend.
    pub fn label(self) -> &'static str {
        match self {
            CancelGroup::Dlc => "DLC task",
            CancelGroup::TatUndelivered => "TAT task, undelivered (CANCELLED)",
            CancelGroup::TatRunning => "TAT task, running (TERMINATED)",
        }
    }
}

/// Everything the charts are drawn from but the run's summary. See the module docs.
#[derive(Clone, Debug)]
pub struct ChartData {
    /// Instance state changes from `timeline.csv`; `None` when they are not kept (no timeline).
    pub log: Option<InstanceLog>,
    /// Calls per action, in the order the actions were first seen.
    pub calls: Vec<ActionCalls>,
    /// CVMs alive over time (µs), from `occupancy.csv`.
    pub cvms_alive: StepSeries,
    /// Quota in use over time (µs), from `occupancy.csv`.
    pub quota_in_use: StepSeries,
    /// The latest time the time axes show: of an `occupancy.csv` row, of a `timeline.csv` row
    /// when state changes are kept, and an `instances.csv` row's request and termination.
    pub last_time: SimTime,
    /// How many `instances.csv` rows were read.
    pub instances: u64,
    /// The first instance of each job that has instances, in job order: (job, first instance).
    pub job_starts: Vec<(u32, u32)>,
    /// Termination and release latencies (µs) by path, in `TerminationPath::ALL` order.
    pub termination_latency: Vec<Vec<u64>>,
    /// Release latencies (µs), likewise by path.
    pub release_latency: Vec<Vec<u64>>,
    /// `terminated_s` (µs) of every instance that has one after a request, in row order: the
    /// cumulative terminations of the progress chart.
    pub terminated_at: Vec<u64>,
    /// The Gantt sample's candidates by path, in `TerminationPath::ALL` order.
    pub by_path: Vec<Thinned>,
    /// Cancel latencies (µs) by [`CancelGroup`], in `CancelGroup::ALL` order; `None` when the
    /// run has no `cancellations.csv` (no DLC task, no TAT invocation).
    pub cancel_latency: Option<Vec<Vec<u64>>>,
}

impl ChartData {
    /// `with_timeline`: keep instance state changes (the Gantt and per-job charts need them).
    pub fn new(with_timeline: bool) -> Self {
        let paths = TerminationPath::ALL.len();
        ChartData {
            log: with_timeline.then(InstanceLog::default),
            calls: Vec::new(),
            cvms_alive: StepSeries::default(),
            quota_in_use: StepSeries::default(),
            last_time: SimTime::ZERO,
            instances: 0,
            job_starts: Vec::new(),
            termination_latency: vec![Vec::new(); paths],
            release_latency: vec![Vec::new(); paths],
            terminated_at: Vec::new(),
            by_path: vec![Thinned::default(); paths],
            cancel_latency: None,
        }
    }

    /// The run has a `cancellations.csv`: the cancellation chart is drawn, rows or not.
    pub fn cancellations_file(&mut self) {
        self.cancel_latency.get_or_insert_with(|| vec![Vec::new(); CancelGroup::ALL.len()]);
    }

    /// A `cancellations.csv` row; `latency` is its `cancel_latency_s`, if any.
    pub fn cancellation(&mut self, group: CancelGroup, latency: Option<SimTime>) {
        self.cancellations_file();
        if let (Some(groups), Some(latency)) = (&mut self.cancel_latency, latency) {
            groups[group as usize].push(latency.micros());
        }
    }

    /// A `timeline.csv` row of entity `instance`.
    #[inline]
    pub fn instance_state(&mut self, time: SimTime, instance: u32, state: InstanceState) {
        if let Some(log) = &mut self.log {
            log.push(time, instance, state);
            self.last_time = self.last_time.max(time);
        }
    }

    /// A `requests.csv` row.
    pub fn request(&mut self, action: &str, sent: SimTime, error: Option<&str>) {
        let at = match self.calls.iter().position(|c| c.action == action) {
            Some(at) => at,
            None => {
                self.calls.push(ActionCalls { action: action.to_owned(), per_second: BTreeMap::new() });
                self.calls.len() - 1
            }
        };
        let kind = match error {
            None => ACCEPTED,
            Some(code) if code == ErrorCode::RequestLimitExceeded.as_str() => RATE_LIMITED,
            Some(_) => OTHER_ERROR,
        };
        self.calls[at].per_second.entry(sent.micros() / SimTime::MICROS_PER_SECOND).or_default()[kind] += 1;
    }

    /// An `occupancy.csv` row.
    pub fn occupancy(&mut self, time: SimTime, cvms_alive: u64, quota_in_use: u64) {
        self.cvms_alive.set(time.micros(), cvms_alive);
        self.quota_in_use.set(time.micros(), quota_in_use);
        self.last_time = self.last_time.max(time);
    }

    /// An `instances.csv` row; rows come in file order (job, task, index).
    pub fn instance(&mut self, row: &InstanceRow) {
        let index = self.instances as u32;
        self.instances += 1;
        if self.job_starts.last().is_none_or(|&(job, _)| job != row.job) {
            self.job_starts.push((row.job, index));
        }
        let path = row.path as usize;
        // The Gantt chart marks the request, the progress chart counts the termination.
        self.last_time = [row.requested, row.terminated].into_iter().flatten().fold(self.last_time, SimTime::max);
        if let Some(requested) = row.requested {
            if let Some(t) = row.terminated {
                self.termination_latency[path].push((t - requested).micros());
                self.terminated_at.push(t.micros());
            }
            if let Some(t) = row.released {
                self.release_latency[path].push((t - requested).micros());
            }
        }
        self.by_path[path].offer(Candidate { instance: index, requested: row.requested });
    }

    /// The job of an instance, by its position.
    pub fn job_of(&self, instance: u32) -> u32 {
        let at = self.job_starts.partition_point(|&(_, first)| first <= instance);
        self.job_starts[at.saturating_sub(1)].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_gives_back_what_it_was_given() {
        let changes = [
            (SimTime(0), 0, InstanceState::Submitted),
            (SimTime(0), 1, InstanceState::Submitted),
            (SimTime(2_000_000), 1, InstanceState::Pending),
            (SimTime(2_000_000), 0, InstanceState::Pending),
            (SimTime(95_000_000), 999_999, InstanceState::Failed),
            (SimTime(95_000_000), 3, InstanceState::FailedInterrupted),
            (SimTime(u64::MAX / 4), 4, InstanceState::Succeed),
        ];
        let mut log = InstanceLog::default();
        for &(t, i, s) in &changes {
            log.push(t, i, s);
        }
        assert_eq!(log.iter().collect::<Vec<_>>(), changes);
    }

    #[test]
    fn a_walk_over_consecutive_instances_costs_about_a_byte_a_change() {
        let mut log = InstanceLog::default();
        for i in 0..10_000 {
            log.push(SimTime(100_000_000 + u64::from(i) * 1000), i, InstanceState::Failed);
        }
        // head byte + a 2-byte time step.
        assert!(log.len_bytes() <= 3 * 10_000 + 4, "{} bytes", log.len_bytes());
    }

    #[test]
    fn thinning_keeps_an_evenly_spaced_bounded_sample() {
        let mut t = Thinned::default();
        for i in 0..100_000 {
            t.offer(Candidate { instance: i, requested: None });
        }
        assert_eq!(t.seen, 100_000);
        assert!(t.kept.len() <= CANDIDATES_PER_PATH && t.kept.len() > CANDIDATES_PER_PATH / 2);
        let picked = t.pick(10);
        assert_eq!(picked.len(), 10);
        assert_eq!(picked[0].instance, 0);
        // Even spacing: the gaps between picks differ by at most one stride.
        let gaps: Vec<u32> = picked.windows(2).map(|w| w[1].instance - w[0].instance).collect();
        assert!(gaps.iter().max().unwrap() - gaps.iter().min().unwrap() <= t.stride as u32, "{gaps:?}");
    }

    #[test]
    fn calls_are_counted_per_action_second_and_outcome() {
        let mut data = ChartData::new(false);
        data.request("TerminateJob", SimTime(1_500_000), None);
        data.request("TerminateJob", SimTime(1_999_999), Some(ErrorCode::RequestLimitExceeded.as_str()));
        data.request("TerminateJob", SimTime(2_000_000), Some(ErrorCode::InternalError.as_str()));
        data.request("TerminateTaskInstance", SimTime(0), None);
        assert_eq!(data.calls[0].per_second[&1], [1, 1, 0]);
        assert_eq!(data.calls[0].per_second[&2], [0, 0, 1]);
        assert_eq!(data.calls[1].per_second[&0], [1, 0, 0]);
    }

    #[test]
    fn meta_is_read_from_a_summary() {
        let summary = serde_json::json!({
            "scenario": "s", "seed": 7, "sim_end_s": 331.359596, "quota_max_cvms": 2500,
            "jobs": [ { "id": "job-a", "terminate_requested_s": 100.0 }, { "id": "job-b", "terminate_requested_s": null } ]
        });
        let meta = RunMeta::from_summary(&summary).unwrap();
        assert_eq!(meta.sim_end, SimTime(331_359_596));
        assert_eq!(meta.quota_limit, Some(2500));
        assert_eq!(meta.jobs[0].terminate_requested, Some(SimTime::from_secs(100)));
        assert_eq!(meta.jobs[1].terminate_requested, None);
        let broken = serde_json::json!({ "scenario": "s", "seed": 7, "jobs": [] });
        assert_eq!(RunMeta::from_summary(&broken).unwrap_err(), "`sim_end_s` is missing");
    }
}
