//! Jobs and tasks: submission, the states they derive from their instances, and dependencies.
//!
//! A job or task state is derived from its instances (SPEC §1.2): `SUCCEED` when all are,
//! `FAILED` when all are final and one is `FAILED`; otherwise the most advanced live state among
//! `SUBMITTED` < `PENDING` < `RUNNABLE` < `STARTING` < `RUNNING`; and `FAILED_INTERRUPTED` when
//! the only non-final instances left are `FAILED_INTERRUPTED`. Counts per state are kept up to
//! date, so deriving is O(1) per instance transition.
//!
//! Dependencies (SubmitJob's default `PRE_TASK_SUCCEED`): a task's instances become `RUNNABLE`
//! when every task it depends on has all instances `SUCCEED`. When a predecessor task *ends*
//! (all its instances final) with a `FAILED` instance, the dependent task's non-final instances
//! become `FAILED` at that instant, cause `dependency_failed`, and so on down the DAG.

use crate::engine::SimTime;

use super::config::{Config, EnvRef};
use super::instance::Instance;
use super::state::InstanceState::{self, *};
use super::state::{Cause, State};
use super::{Entity, Event, Model, Recorder};

/// Where a job's TerminateJob stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobTermination {
    /// No TerminateJob has been accepted.
    NotRequested,
    /// Accepted and not yet complete: further TerminateJob calls get `ResourceInUse.Job`.
    InProgress,
    /// The job became final while its TerminateJob was in progress.
    Done,
}

/// A job during the run, at the same index as in `Config::jobs`.
#[derive(Clone, Debug)]
pub struct JobRuntime {
    /// Global task index of its first task: its tasks are `first_task..first_task + task_count`.
    pub first_task: u32,
    /// How many tasks it has.
    pub task_count: u32,
    /// Global index of its first task instance: its instances are
    /// `first_instance..first_instance + instance_count`.
    pub first_instance: u32,
    /// How many task instances it has, over all its tasks.
    pub instance_count: u32,
    /// The compute environment its tasks run in.
    pub env: EnvRef,
    /// `None` until the job is submitted (before `submit_at` the API does not know it).
    pub state: Option<InstanceState>,
    counts: [u32; 8],
    /// Where its TerminateJob stands.
    pub termination: JobTermination,
    /// Arrival of the accepted TerminateJob.
    pub terminate_requested: Option<SimTime>,
    /// When the job became final after an accepted TerminateJob.
    pub terminated: Option<SimTime>,
}

/// A task during the run, at its global task index (tasks of all jobs, in file order).
#[derive(Clone, Debug)]
pub struct TaskRuntime {
    /// Its job: index into `Config::jobs`.
    pub job: u32,
    /// Index of the task within its job.
    pub index_in_job: u32,
    /// Global index of its first task instance: its instances are
    /// `first_instance..first_instance + count`.
    pub first_instance: u32,
    /// How many task instances it has (the task's `instances`).
    pub count: u32,
    /// Derived from its instances; `None` until its job is submitted.
    pub state: Option<InstanceState>,
    counts: [u32; 8],
    unmet_dependencies: u32,
    dependents: Vec<u32>,
}

/// Lays out jobs, tasks and instances as flat tables: a job's tasks are contiguous, and so are a
/// task's instances, in file order. TerminateJob walks them in this order.
pub(super) fn build_tables(cfg: &Config) -> (Vec<JobRuntime>, Vec<TaskRuntime>, Vec<Instance>) {
    let mut jobs = Vec::with_capacity(cfg.jobs.len());
    let mut tasks = Vec::new();
    let mut instances = crate::engine::table_with_capacity(cfg.total_instances() as usize);
    for (j, job) in cfg.jobs.iter().enumerate() {
        let first_task = tasks.len() as u32;
        let first_instance = instances.len() as u32;
        for (t, task) in job.tasks.iter().enumerate() {
            let global = tasks.len() as u32;
            tasks.push(TaskRuntime {
                job: j as u32,
                index_in_job: t as u32,
                first_instance: instances.len() as u32,
                count: task.instances,
                state: None,
                counts: [0; 8],
                unmet_dependencies: task.depends_on.len() as u32,
                dependents: Vec::new(),
            });
            instances.extend((0..task.instances).map(|_| Instance::new(global)));
        }
        for (t, task) in job.tasks.iter().enumerate() {
            for &dep in &task.depends_on {
                tasks[(first_task + dep) as usize].dependents.push(first_task + t as u32);
            }
        }
        jobs.push(JobRuntime {
            first_task,
            task_count: job.tasks.len() as u32,
            first_instance,
            instance_count: instances.len() as u32 - first_instance,
            env: job.env,
            state: None,
            counts: [0; 8],
            termination: JobTermination::NotRequested,
            terminate_requested: None,
            terminated: None,
        });
    }
    (jobs, tasks, instances)
}

fn derived_state(counts: &[u32; 8], total: u32) -> InstanceState {
    let n = |s: InstanceState| counts[s.index()];
    if n(Succeed) == total {
        Succeed
    } else if n(Succeed) + n(Failed) == total {
        Failed
    } else {
        [Running, Starting, Runnable, Pending, Submitted].into_iter().find(|&s| n(s) > 0).unwrap_or(FailedInterrupted)
    }
}

impl<R: Recorder> Model<R> {
    pub(super) fn submit_job(&mut self, j: u32) {
        let job = &mut self.jobs[j as usize];
        job.state = Some(Submitted);
        job.counts[Submitted.index()] = job.instance_count;
        let (tasks, instances) = (
            job.first_task..job.first_task + job.task_count,
            job.first_instance..job.first_instance + job.instance_count,
        );
        self.record(Entity::Job(j), None, Submitted.into(), Cause::Submitted);
        for t in tasks {
            let task = &mut self.tasks[t as usize];
            task.state = Some(Submitted);
            task.counts[Submitted.index()] = task.count;
            self.record(Entity::Task(t), None, Submitted.into(), Cause::Submitted);
        }
        for i in instances {
            self.record(Entity::Instance(i), None, Submitted.into(), Cause::Submitted);
        }
        let delay = self.cfg.backend.submit_delay.sample(&mut self.rng.submit);
        self.schedule(delay, Event::JobPending(j));
    }

    /// The submit delay has passed: instances still `SUBMITTED` become `PENDING`, and those of
    /// tasks without unmet dependencies go on to `RUNNABLE`, in task order then index order.
    pub(super) fn job_pending(&mut self, j: u32) {
        let job = &self.jobs[j as usize];
        for t in job.first_task..job.first_task + job.task_count {
            let task = &self.tasks[t as usize];
            let (first, count, ready) = (task.first_instance, task.count, task.unmet_dependencies == 0);
            for i in first..first + count {
                if self.instances[i as usize].state == Submitted {
                    self.set_instance_state(i, Pending, Cause::SubmitDelay);
                }
            }
            if ready {
                self.release_pending_instances(t, Cause::Submitted);
            }
        }
    }

    fn release_pending_instances(&mut self, t: u32, cause: Cause) {
        let task = &self.tasks[t as usize];
        for i in task.first_instance..task.first_instance + task.count {
            if self.instances[i as usize].state == Pending {
                self.make_runnable(i, cause);
            }
        }
    }

    /// The one way an instance changes state: updates the counts of its task and job, records the
    /// timeline rows (instance, then task and job when their derived state changes) and lets the
    /// dependency and TerminateJob bookkeeping react.
    pub(super) fn set_instance_state(&mut self, i: u32, to: InstanceState, cause: Cause) {
        let inst = &mut self.instances[i as usize];
        let from = inst.state;
        inst.state = to;
        let t = inst.task;
        self.record(Entity::Instance(i), Some(from.into()), to.into(), cause);
        if from == to {
            return;
        }
        let j = self.tasks[t as usize].job;
        let task = &mut self.tasks[t as usize];
        task.counts[from.index()] -= 1;
        task.counts[to.index()] += 1;
        let job = &mut self.jobs[j as usize];
        job.counts[from.index()] -= 1;
        job.counts[to.index()] += 1;

        let task = &mut self.tasks[t as usize];
        let task_before = task.state;
        let task_after = derived_state(&task.counts, task.count);
        let task_ended = task_after.is_final() && !task_before.is_some_and(InstanceState::is_final);
        if task_before != Some(task_after) {
            task.state = Some(task_after);
            self.record(Entity::Task(t), task_before.map(State::from), task_after.into(), cause);
        }

        let job = &mut self.jobs[j as usize];
        let job_before = job.state;
        let job_after = derived_state(&job.counts, job.instance_count);
        if job_before != Some(job_after) {
            job.state = Some(job_after);
            if job_after.is_final() && job.termination == JobTermination::InProgress {
                job.termination = JobTermination::Done;
                job.terminated = Some(self.now);
            }
            self.record(Entity::Job(j), job_before.map(State::from), job_after.into(), cause);
        }

        if task_ended {
            self.task_ended(t);
        }
    }

    fn task_ended(&mut self, t: u32) {
        let failed = self.tasks[t as usize].counts[Failed.index()] > 0;
        for k in 0..self.tasks[t as usize].dependents.len() {
            let d = self.tasks[t as usize].dependents[k];
            if failed {
                let task = &self.tasks[d as usize];
                for i in task.first_instance..task.first_instance + task.count {
                    if !self.instances[i as usize].state.is_final() {
                        self.instances[i as usize].cancel_waiting();
                        self.set_instance_state(i, Failed, Cause::DependencyFailed);
                    }
                }
            } else {
                let task = &mut self.tasks[d as usize];
                task.unmet_dependencies -= 1;
                if task.unmet_dependencies == 0 {
                    self.release_pending_instances(d, Cause::DependenciesMet);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_state_follows_the_spec_order() {
        let mut c = [0u32; 8];
        c[Running.index()] = 1;
        c[Pending.index()] = 3;
        assert_eq!(derived_state(&c, 4), Running);
        let mut c = [0u32; 8];
        c[Succeed.index()] = 3;
        c[Failed.index()] = 1;
        assert_eq!(derived_state(&c, 4), Failed);
        c[Failed.index()] = 0;
        c[Succeed.index()] = 4;
        assert_eq!(derived_state(&c, 4), Succeed);
        let mut c = [0u32; 8];
        c[Succeed.index()] = 3;
        c[FailedInterrupted.index()] = 1;
        assert_eq!(derived_state(&c, 4), FailedInterrupted);
    }
}
