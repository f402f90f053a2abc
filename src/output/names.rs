//! The textual names of a run's entities, prepared once for the writers: ids of jobs, tasks,
//! instances, CVMs, DLC tasks and TAT invocations, as the outputs print them.

use crate::model::Entity;
use crate::model::config::Config;
use crate::model::ids::CvmIds;

use super::csv::escape;
use super::parquet::append;

/// The `entity` column's vocabulary, in the order of [`entity_kind`].
pub(crate) const ENTITY_KINDS: [&str; 8] =
    ["job", "task", "instance", "cvm", "node", "dlc_task", "tat_task", "tat_invocation"];

/// An entity as its kind (its place in [`ENTITY_KINDS`]) and its index.
#[inline]
pub(crate) fn entity_parts(entity: Entity) -> (u8, u32) {
    match entity {
        Entity::Job(j) => (0, j),
        Entity::Task(t) => (1, t),
        Entity::Instance(i) => (2, i),
        Entity::Cvm(c) => (3, c),
        Entity::Node(c) => (4, c),
        Entity::DlcTask(t) => (5, t),
        Entity::TatTask(k) => (6, k),
        Entity::TatInvocation(v) => (7, v),
    }
}

/// The entity of [`entity_parts`]' kind and index.
#[inline]
pub(crate) fn entity_of(kind: u8, index: u32) -> Entity {
    match kind {
        0 => Entity::Job(index),
        1 => Entity::Task(index),
        2 => Entity::Instance(index),
        3 => Entity::Cvm(index),
        4 => Entity::Node(index),
        5 => Entity::DlcTask(index),
        6 => Entity::TatTask(index),
        _ => Entity::TatInvocation(index),
    }
}

/// The kind of an instance in [`entity_parts`].
pub(crate) const INSTANCE_KIND: u8 = 2;

pub(crate) struct Names {
    pub(crate) seed: u64,
    cvm_ids: CvmIds,
    job_ids: Vec<String>,
    /// `job-…/TASK` per global task.
    task_labels: Vec<String>,
    /// `job-…/TASK/` per global task: an instance id without its index.
    task_prefixes: Vec<String>,
    /// First global instance of each task, ascending: the task of an instance is found by
    /// binary search.
    task_starts: Vec<u32>,
    /// Each client's name and account, quoted for CSV where they need it.
    pub(crate) clients: Vec<(String, String)>,
    dlc_ids: Vec<String>,
    invocation_ids: Vec<String>,
    /// `inv-…/ins-…` per TAT invocation task.
    tat_task_ids: Vec<String>,
}

impl Names {
    pub(crate) fn new(cfg: &Config) -> Self {
        let mut task_labels = Vec::new();
        let mut task_starts = Vec::new();
        let mut next = 0u32;
        for job in &cfg.jobs {
            for task in &job.tasks {
                task_labels.push(format!("{}/{}", job.id, task.name));
                task_starts.push(next);
                next += task.instances;
            }
        }
        Names {
            seed: cfg.seed,
            cvm_ids: CvmIds::new(cfg.seed),
            job_ids: cfg.jobs.iter().map(|j| j.id.clone()).collect(),
            task_prefixes: task_labels.iter().map(|l| format!("{l}/")).collect(),
            task_labels,
            task_starts,
            clients: cfg
                .clients
                .iter()
                .map(|c| (escape(&c.name).into_owned(), escape(&c.account).into_owned()))
                .collect(),
            dlc_ids: cfg.dlc_tasks.iter().map(|t| t.id.clone()).collect(),
            invocation_ids: cfg.tat_invocations.iter().map(|v| v.id.clone()).collect(),
            tat_task_ids: cfg
                .tat_invocations
                .iter()
                .flat_map(|v| v.instances.iter().map(move |i| format!("{}/{i}", v.id)))
                .collect(),
        }
    }

    /// `job-…/TASK/INDEX` of global instance `i`.
    #[inline]
    pub(crate) fn write_instance(&self, out: &mut Vec<u8>, i: u32) {
        let t = if self.task_starts.len() == 1 { 0 } else { self.task_starts.partition_point(|&s| s <= i) - 1 };
        append(out, self.task_prefixes[t].as_bytes());
        let mut digits = itoa::Buffer::new();
        append(out, digits.format(i - self.task_starts[t]).as_bytes());
    }

    /// The entity's id, as the timeline's `id` column holds it.
    #[inline]
    pub(crate) fn write_id(&self, out: &mut Vec<u8>, entity: Entity) {
        match entity {
            Entity::Job(j) => append(out, self.job_ids[j as usize].as_bytes()),
            Entity::Task(t) => append(out, self.task_labels[t as usize].as_bytes()),
            Entity::Instance(i) => self.write_instance(out, i),
            Entity::Cvm(c) | Entity::Node(c) => out.extend_from_slice(&self.cvm_ids.id(c.into())),
            Entity::DlcTask(t) => append(out, self.dlc_ids[t as usize].as_bytes()),
            Entity::TatTask(k) => append(out, self.tat_task_ids[k as usize].as_bytes()),
            Entity::TatInvocation(v) => append(out, self.invocation_ids[v as usize].as_bytes()),
        }
    }
}
