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
    // Flat tables rather than hash maps: this loop sees every instance state change of the run.
    let mut gantt_row = vec![NONE; instances];
    let mut rows: Vec<(usize, usize)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for (r, row) in group.rows.iter().enumerate() {
            if let Some(slot) = gantt_row.get_mut(row.instance as usize) {
                *slot = rows.len() as u32;
                rows.push((g, r));
            }
        }
    }
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
    let mut is_final = vec![false; instances];
    let mut finals = vec![0u64; progress.len()];
    for (time, instance, to) in log.iter() {
        let Some(was_final) = is_final.get_mut(instance as usize) else { continue };
        let row = gantt_row[instance as usize];
        if row != NONE {
            let (g, r) = rows[row as usize];
            groups[g].rows[r].changes.push((time, to));
        }
        if *was_final == to.is_final() {
            continue;
        }
        *was_final = to.is_final();
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
