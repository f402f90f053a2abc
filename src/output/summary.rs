//! `summary.json`: the figures of a run, deterministic (SPEC §4).
//!
//! Percentiles use the nearest-rank method: p-th percentile of n sorted values is the value of
//! rank ⌈p/100 × n⌉. Times are seconds; values that do not apply are `null`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::engine::SimTime;
use crate::expect::Expectation;
use crate::model::{ErrorCode, InstanceState, Outcome, TerminationPath};

/// What `summary.json` holds, in its key order.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: String,
    /// The seed the run used.
    pub seed: u64,
    /// The time of the last state change (the last timeline row), in seconds.
    pub sim_end_s: f64,
    /// Events the model handled.
    pub events: u64,
    /// Task instances by final state and by termination path.
    pub instances: InstanceCounts,
    /// From the termination request to `FAILED`, over the instances it made `FAILED`.
    pub termination_latency_s: LatencyStats,
    /// From the termination request to the CVM `TERMINATED` and its quota freed.
    pub release_latency_s: LatencyStats,
    /// From the first accepted cancel to the cancelled state, per service.
    pub cancel_latency_s: CancelLatency,
    /// Per job, in the scenario's order: its TerminateJob, if any.
    pub jobs: Vec<JobSummary>,
    /// API calls by outcome.
    pub requests: RequestSummary,
    /// The most CVMs that existed at the end of an instant (as `occupancy.csv` shows them).
    pub peak_cvms: u64,
    /// The scenario's `backend.quota.max_cvms` (`null`: no limit), for the charts' reference line.
    pub quota_max_cvms: Option<u64>,
    /// Quota held from the first accepted termination request on, in CVM-seconds; `null`
    /// without one.
    pub quota_cvm_seconds_after_request: Option<f64>,
    /// The verdicts of the scenario's expectations, in the scenario's order.
    pub expect: Vec<crate::expect::Verdict>,
}

/// Task instances counted.
#[derive(Debug, Serialize)]
pub struct InstanceCounts {
    /// All of them.
    pub total: u64,
    /// By state at the end of the run; states no instance ended in are left out (a figure reads
    /// them as 0: see [`figures`](crate::figures)).
    pub by_final_state: BTreeMap<&'static str, u64>,
    /// By termination path; paths no instance took are left out (a figure reads them as 0).
    pub by_path: BTreeMap<&'static str, u64>,
}

/// Count, mean and nearest-rank percentiles of latencies, in seconds; `null` without any.
#[derive(Debug, Default, Serialize)]
pub struct LatencyStats {
    /// Latencies measured.
    pub count: u64,
    /// Their mean, rounded to the microsecond.
    pub mean: Option<f64>,
    /// The median.
    pub p50: Option<f64>,
    /// The 90th percentile.
    pub p90: Option<f64>,
    /// The 99th percentile.
    pub p99: Option<f64>,
    /// The longest.
    pub max: Option<f64>,
}

/// Cancel latencies of the two cancellable services.
#[derive(Debug, Serialize)]
pub struct CancelLatency {
    /// DLC tasks: CancelTask's arrival to `CANCELLED`.
    pub dlc: LatencyStats,
    /// TAT invocation tasks: CancelInvocation's arrival to `CANCELLED` or `TERMINATED`.
    pub tat: LatencyStats,
}

/// A job and its termination.
#[derive(Debug, Serialize)]
pub struct JobSummary {
    /// The job id.
    pub id: String,
    /// Its state at the end of the run, derived from its instances.
    pub final_state: Option<&'static str>,
    /// When the accepted TerminateJob arrived.
    pub terminate_requested_s: Option<f64>,
    /// When its last instance became `FAILED` by it.
    pub terminated_s: Option<f64>,
    /// The difference: the TerminateJob's latency.
    pub latency_s: Option<f64>,
}

/// API calls by outcome.
#[derive(Debug, Serialize)]
pub struct RequestSummary {
    /// Every call (each retry is a call).
    pub total: u64,
    /// Calls answered without an error.
    pub ok: u64,
    /// Calls answered with each error code; codes never answered are left out (a figure reads
    /// them as 0).
    pub by_error: BTreeMap<&'static str, u64>,
}

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: u64) -> u64 {
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1);
    sorted[rank as usize - 1]
}

impl LatencyStats {
    /// Latencies in microseconds, in any order.
    pub fn of(mut values: Vec<u64>) -> Self {
        let Some(&max) = values.iter().max() else { return LatencyStats::default() };
        let n = values.len() as u64;
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        // The mean is rounded to the microsecond like every other figure.
        let mean = ((sum + u128::from(n) / 2) / u128::from(n)) as u64;
        // Nearest-rank percentiles by selection, O(n) rather than a sort: highest rank first,
        // since a selection leaves every smaller value to the left of the one it picks.
        let mut left = values.len();
        let mut select = |p: u64| {
            let at = (p * n).div_ceil(100).max(1) as usize - 1;
            let picked = *values[..left].select_nth_unstable(at).1;
            left = at + 1;
            picked
        };
        let (p99, p90, p50) = (select(99), select(90), select(50));
        let s = |us: u64| Some(us as f64 / 1e6);
        LatencyStats { count: n, mean: s(mean), p50: s(p50), p90: s(p90), p99: s(p99), max: s(max) }
    }
}

/// From the first accepted cancel to the end it caused, over the entities that got both.
fn cancel_latency(times: impl Iterator<Item = (Option<SimTime>, Option<SimTime>)>) -> LatencyStats {
    LatencyStats::of(times.filter_map(|(requested, cancelled)| Some((cancelled? - requested?).micros())).collect())
}

/// The summary of a finished run, without verdicts (see [`Summary::check_expectations`]).
pub fn summarise(outcome: &Outcome) -> Summary {
    let mut states = [0u64; InstanceState::ALL.len()];
    let mut paths = [0u64; TerminationPath::ALL.len()];
    let mut termination = Vec::new();
    let mut release = Vec::new();
    for inst in outcome.instance_reports() {
        states[inst.state.index()] += 1;
        paths[inst.path as usize] += 1;
        if let Some(requested) = inst.terminate_requested {
            if let Some(t) = inst.terminated {
                termination.push((t - requested).micros());
            }
            if let Some(t) = inst.released {
                release.push((t - requested).micros());
            }
        }
    }
    let by_final_state =
        InstanceState::ALL.iter().map(|s| (s.as_str(), states[s.index()])).filter(|&(_, n)| n > 0).collect();
    let by_path =
        TerminationPath::ALL.iter().map(|&p| (p.as_str(), paths[p as usize])).filter(|&(_, n)| n > 0).collect();
    let jobs = outcome
        .jobs
        .iter()
        .zip(&outcome.config.jobs)
        .map(|(rt, cfg)| JobSummary {
            id: cfg.id.clone(),
            final_state: rt.state.map(|s| s.as_str()),
            terminate_requested_s: rt.terminate_requested.map(secs),
            terminated_s: rt.terminated.map(secs),
            latency_s: rt.terminate_requested.zip(rt.terminated).map(|(r, t)| secs(t - r)),
        })
        .collect();
    let by_error = ErrorCode::ALL
        .iter()
        .zip(outcome.requests.by_error)
        .filter(|&(_, n)| n > 0)
        .map(|(e, n)| (e.as_str(), n))
        .collect();
    Summary {
        scenario: outcome.config.name.clone(),
        seed: outcome.config.seed,
        sim_end_s: secs(outcome.sim_end),
        events: outcome.events,
        instances: InstanceCounts { total: outcome.instances.len() as u64, by_final_state, by_path },
        termination_latency_s: LatencyStats::of(termination),
        release_latency_s: LatencyStats::of(release),
        cancel_latency_s: CancelLatency {
            dlc: cancel_latency(outcome.dlc.iter().map(|t| (t.cancel_requested, t.cancelled))),
            tat: cancel_latency(outcome.tat_tasks.iter().map(|t| (t.cancel_requested, t.cancelled))),
        },
        jobs,
        requests: RequestSummary { total: outcome.requests.total, ok: outcome.requests.ok, by_error },
        peak_cvms: outcome.peak_cvms,
        quota_max_cvms: outcome.config.backend.quota_max_cvms,
        quota_cvm_seconds_after_request: outcome.quota_cvm_seconds_after_request,
        expect: Vec::new(),
    }
}

impl Summary {
    /// The summary as `summary.json` holds it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a summary is plain data")
    }

    /// Checks `expectations` against this summary's figures, records their verdicts in
    /// [`expect`](Summary::expect), and returns the summary as `summary.json` then holds it.
    pub fn check_expectations(&mut self, expectations: &[Expectation]) -> Value {
        let mut value = self.to_value();
        self.expect = expectations.iter().map(|e| e.check(&value)).collect();
        // Serialising the verdicts alone spares a second pass over the whole summary (its jobs
        // can be many); the key keeps its place, so the text is the same.
        value["expect"] = serde_json::to_value(&self.expect).expect("verdicts are plain data");
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=10).map(|s| s * 1_000_000).collect();
        let stats = LatencyStats::of(v);
        assert_eq!(stats.count, 10);
        assert_eq!(stats.mean, Some(5.5));
        assert_eq!(stats.p50, Some(5.0));
        assert_eq!(stats.p90, Some(9.0));
        assert_eq!(stats.p99, Some(10.0));
        assert_eq!(stats.max, Some(10.0));
        assert_eq!(LatencyStats::of(Vec::new()).p99, None);
    }

    #[test]
    fn selected_percentiles_match_the_sorted_nearest_rank() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in [1usize, 2, 3, 99, 100, 101, 1_000, 12_345] {
            let values: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % 5_000 // many ties
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let stats = LatencyStats::of(values);
            let s = |us: u64| Some(us as f64 / 1e6);
            assert_eq!(stats.p50, s(percentile(&sorted, 50)), "n {n}");
            assert_eq!(stats.p90, s(percentile(&sorted, 90)), "n {n}");
            assert_eq!(stats.p99, s(percentile(&sorted, 99)), "n {n}");
            assert_eq!(stats.max, s(*sorted.last().unwrap()), "n {n}");
        }
    }
}
