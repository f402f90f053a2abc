//! What the instance log yields once the run is over: the Gantt chart's sample of instances with
//! their state histories, and each terminated job's count of final instances over time. One pass
//! over the log does both.

use crate::engine::SimTime;
use crate::model::{InstanceState, TerminationPath};

use super::data::{ChartData, GANTT_ROWS, InstanceLog, RunMeta};
use super::series::StepSeries;

/// Paths in the order the Gantt chart stacks them: terminated instances first.
pub(super) const GANTT_PATH_ORDER: [TerminationPath; 7] = [
    TerminationPath::Immediate,
    TerminationPath::Bypass,
    TerminationPath::Cvm,
    TerminationPath::Restart,
    TerminationPath::Rejected,
    TerminationPath::NoOp,
    TerminationPath::None,
];

#[derive(Clone, Debug, PartialEq)]
pub(super) struct GanttRow {
    pub instance: u32,
    pub path: TerminationPath,
    pub requested: Option<SimTime>,
    pub changes: Vec<(SimTime, InstanceState)>,
}

/// One path's block of rows in the Gantt chart.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GanttGroup {
    pub path: TerminationPath,
    /// Instances that took this path in the whole run.
    pub total: u64,
    pub rows: Vec<GanttRow>,
}

/// A job that received a TerminateJob, and how many of its instances were final when.
#[derive(Clone, Debug)]
pub(super) struct JobProgress {
    pub job: u32,
    pub instances: u64,
    pub requested: SimTime,
    pub final_count: StepSeries,
    /// When the last of its instances became final (if they all did).
    pub all_final: Option<SimTime>,
    pub last_change: SimTime,
}

/// Shares `slots` among groups of the given sizes, as evenly as their sizes allow (max-min
/// fair): every non-empty group gets at least one slot when there are enough slots.
pub(super) fn allocate(sizes: &[u64], slots: usize) -> Vec<usize> {
    let mut given = vec![0usize; sizes.len()];
    let mut left = slots;
    loop {
        let open: Vec<usize> = (0..sizes.len()).filter(|&i| (given[i] as u64) < sizes[i]).collect();
        if open.is_empty() || left == 0 {
            return given;
        }
        let share = (left / open.len()).max(1);
        for i in open {
            let give = share.min((sizes[i] - given[i] as u64) as usize).min(left);
            given[i] += give;
            left -= give;
            if left == 0 {
                break;
            }
        }
    }
}

/// The Gantt sample: up to [`GANTT_ROWS`] instances, every path that occurred represented,
/// evenly spaced by position within each path.
pub(super) fn gantt_sample(data: &ChartData) -> Vec<GanttGroup> {
    let sizes: Vec<u64> = GANTT_PATH_ORDER.iter().map(|&p| data.by_path[p as usize].seen).collect();
    let slots = allocate(&sizes, GANTT_ROWS);
    GANTT_PATH_ORDER
        .iter()
        .zip(slots)
        .filter(|&(_, n)| n > 0)
        .map(|(&path, n)| {
            let thinned = &data.by_path[path as usize];
            let rows = thinned
                .pick(n)
                .into_iter()
                .map(|c| GanttRow { instance: c.instance, path, requested: c.requested, changes: Vec::new() })
                .collect();
            GanttGroup { path, total: thinned.seen, rows }
        })
        .collect()
}

/// Reads the log once: fills the groups' state histories and returns the progress of every job
/// a TerminateJob was accepted for.
pub(super) fn read_log(
    log: &InstanceLog,
    data: &ChartData,
    meta: &RunMeta,
    groups: &mut [GanttGroup],
) -> Vec<JobProgress> {
    const NONE: u32 = u32::MAX;
    let instances = data.instances as usize;
    // This loop sees every instance state change of the run, in time order, so instances come
    // in no order: per-instance tables are bitsets (1.25 MB for ten million instances, which
    // stay in cache) rather than arrays of words or hash maps.
    let mut in_gantt = Bits::new(instances);
    let mut rows: Vec<(u32, usize, usize)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for (r, row) in group.rows.iter().enumerate() {
            if (row.instance as usize) < instances {
                in_gantt.set(row.instance as usize, true);
                rows.push((row.instance, g, r));
            }
        }
    }
    rows.sort_unstable();
    let mut progress: Vec<JobProgress> = Vec::new();
    let mut progress_of_job = vec![NONE; meta.jobs.len()];
    for (i, &(job, first)) in data.job_starts.iter().enumerate() {
        let Some(requested) = meta.jobs.get(job as usize).and_then(|j| j.terminate_requested) else { continue };
        let end = data.job_starts.get(i + 1).map_or(data.instances, |&(_, next)| u64::from(next));
        progress_of_job[job as usize] = progress.len() as u32;
        progress.push(JobProgress {
            job,
            instances: end - u64::from(first),
            requested,
            final_count: StepSeries::default(),
            all_final: None,
            last_change: SimTime::ZERO,
        });
    }
    let mut is_final = Bits::new(instances);
    let mut finals = vec![0u64; progress.len()];
    for (time, instance, to) in log.iter() {
        let at = instance as usize;
        if at >= instances {
            continue;
        }
        if in_gantt.get(at) {
            let found = rows.binary_search_by_key(&instance, |&(i, _, _)| i).expect("a sampled instance has a row");
            let (_, g, r) = rows[found];
            groups[g].rows[r].changes.push((time, to));
        }
        if is_final.get(at) == to.is_final() {
            continue;
        }
        is_final.set(at, to.is_final());
        let slot = progress_of_job.get(data.job_of(instance) as usize).copied().unwrap_or(NONE);
        if slot == NONE {
            continue;
        }
        let slot = slot as usize;
        finals[slot] = if to.is_final() { finals[slot] + 1 } else { finals[slot] - 1 };
        let p = &mut progress[slot];
        p.final_count.set(time.micros(), finals[slot]);
        p.last_change = time;
        p.all_final = (finals[slot] == p.instances).then_some(time);
    }
    progress
}

/// One bit per instance.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Self {
        Bits(vec![0; len.div_ceil(64)])
    }

    #[inline]
    fn get(&self, at: usize) -> bool {
        self.0[at / 64] >> (at % 64) & 1 != 0
    }

    #[inline]
    fn set(&mut self, at: usize, on: bool) {
        let word = &mut self.0[at / 64];
        *word = *word & !(1 << (at % 64)) | u64::from(on) << (at % 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::output::charts::data::InstanceRow;

    #[test]
    fn the_gantt_sample_shows_every_path_even_a_rare_one() {
        let mut data = ChartData::new(true);
        for i in 0..100_000u32 {
            // One rejected instance among 100,000; the rest alternate between bypass and cvm.
            let path = match i {
                77_777 => TerminationPath::Rejected,
                i if i % 2 == 0 => TerminationPath::Bypass,
                _ => TerminationPath::Cvm,
            };
            let requested = Some(SimTime::from_secs(100));
            data.instance(&InstanceRow { job: 0, path, requested, terminated: None, released: None });
        }
        let groups = gantt_sample(&data);
        let summary: Vec<(TerminationPath, usize, u64)> =
            groups.iter().map(|g| (g.path, g.rows.len(), g.total)).collect();
        assert_eq!(
            summary,
            vec![
                (TerminationPath::Bypass, 100, 50_000),
                (TerminationPath::Cvm, 99, 49_999),
                (TerminationPath::Rejected, 1, 1)
            ]
        );
        assert_eq!(groups[2].rows[0].instance, 77_777);
        // Within a path, rows are spread over the whole run, in order.
        let bypass: Vec<u32> = groups[0].rows.iter().map(|r| r.instance).collect();
        assert!(bypass.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(bypass[0], 0);
        assert!(*bypass.last().unwrap() > 95_000, "{bypass:?}");
    }

    #[test]
    fn slots_are_shared_max_min_fair() {
        // The default scenario's paths: bypass 1,483, cvm 1,620, no_op 22, none 275.
        assert_eq!(allocate(&[1483, 1620, 22, 275], 200), vec![60, 59, 22, 59]);
        assert_eq!(allocate(&[3, 0, 5], 200), vec![3, 0, 5]);
        assert_eq!(allocate(&[1000; 7], 200).iter().sum::<usize>(), 200);
        // More groups than slots: the first ones get one each.
        assert_eq!(allocate(&[9, 9, 9], 2), vec![1, 1, 0]);
    }
}
