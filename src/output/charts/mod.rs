//! The charts of a run (SPEC §4 `charts/`), each written as SVG and PNG:
//!
//! | file | shows |
//! | --- | --- |
//! | `progress` | instances terminated (cumulative), CVMs alive, quota in use, the quota limit, over time |
//! | `termination-latency-cdf` | CDF of request → `FAILED`, one line per path and one for all |
//! | `release-latency-cdf` | CDF of request → CVM `TERMINATED` and quota freed, likewise |
//! | `api-calls` | calls per second per action: accepted, `RequestLimitExceeded`, other errors, stacked |
//! | `instance-states` | Gantt chart of up to 200 sampled instances, grouped by path, requests marked |
//! | `job-termination` | per job that got a TerminateJob: share of its instances final over time |
//! | `cancel-latency-cdf` | CDF of an accepted cancel → `CANCELLED`/`TERMINATED`: DLC tasks, TAT tasks undelivered, TAT tasks running; only for runs with DLC tasks or TAT invocations |
//!
//! `instance-states` and `job-termination` need instance state changes, which only
//! `timeline.csv` holds: a run with `--no-timeline` draws the others only, and so does
//! `termsim plot` on its folder.
//!
//! Charts are drawn from [`ChartData`], which sees the run's output rows and nothing else
//! (see [`data`]); `termsim plot` feeds it the same rows from the CSV files, so its charts are
//! byte-identical to the run's.

mod calls;
pub(crate) mod canvas;
pub mod data;
mod gantt;
mod glyphs;
mod jobs;
mod latency;
mod progress;
mod sample;
pub mod series;

use std::path::Path;

use crate::engine::SimTime;

pub use data::{CancelGroup, ChartData, InstanceRow, RunMeta};

use self::series::StepSeries;

/// Draws every chart `data` allows into `dir` (which must exist); returns their names.
pub fn draw_all(meta: &RunMeta, mut data: ChartData, dir: &Path) -> anyhow::Result<Vec<String>> {
    canvas::register_font()?;
    // A little room after the last change, so that it does not fall on the axis' border. The
    // axis covers every time drawn on it, the TerminateJob marks included: a point far outside
    // it has no pixel (found by fuzzing `plot`: a request long after `sim_end_s` overflowed the
    // drawing's coordinates).
    let requests = meta.jobs.iter().filter_map(|j| j.terminate_requested);
    let last = requests.fold(meta.sim_end.max(data.last_time), SimTime::max).micros();
    let end = last + (last / 40).max(1);

    radsort::sort(&mut data.terminated_at);
    let mut terminated = StepSeries::default();
    for (i, &t) in data.terminated_at.iter().enumerate() {
        terminated.set(t, i as u64 + 1);
    }
    let mut drawn = Vec::new();
    let chart = progress::Progress {
        meta,
        terminated: &terminated,
        cvms_alive: &data.cvms_alive,
        quota_in_use: &data.quota_in_use,
        end,
    };
    drawn.push(canvas::save(&chart, dir)?);

    for (termination, latencies) in [(true, &mut data.termination_latency), (false, &mut data.release_latency)] {
        latencies.iter_mut().for_each(|v| radsort::sort(v));
        drawn.push(canvas::save(&latency::LatencyCdf::of_paths(meta, termination, latencies), dir)?);
    }
    if let Some(latencies) = &mut data.cancel_latency {
        latencies.iter_mut().for_each(|v| v.sort_unstable());
        drawn.push(canvas::save(&latency::LatencyCdf::of_cancellations(meta, latencies), dir)?);
    }

    data.calls.sort_by(|a, b| a.action.cmp(&b.action));
    drawn.push(canvas::save(&calls::Calls { meta, actions: &data.calls }, dir)?);

    if let Some(log) = data.log.take() {
        let mut groups = sample::gantt_sample(&data);
        let jobs = sample::read_log(&log, &data, meta, &mut groups);
        drop(log);
        drawn.push(canvas::save(&gantt::Gantt { meta, groups: &groups, instances: data.instances, end }, dir)?);
        drawn.push(canvas::save(&jobs::JobTermination { meta, jobs: &jobs }, dir)?);
    }
    Ok(drawn)
}
