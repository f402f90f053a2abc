//! TerminateJob's asynchronous part: the backend's job-termination workers (SPEC §1.5).
//!
//! Seed 001: "Job termination is an asynchronous process, and the time it takes to complete the
//! entire process is directly proportional to the total number of tasks. The effect of
//! terminating a job is equivalent to performing the TerminateTaskInstance operation on all the
//! task instances contained in the job."
//!
//! An accepted TerminateJob joins a FIFO served by `job_termination.workers` workers shared by
//! all jobs. A worker that starts a job at `start` walks its instances in task order, then index
//! order, spending `per_task` on entering each task and `per_instance` on each instance: the k-th
//! instance of the walk (k = 1, 2, …), in its j-th task (j = 1, 2, …), gets the
//! TerminateTaskInstance rule at `start + j × per_task + k × per_instance`, final ones included
//! (they cost the same and change nothing). A Batch task has many instances, so "proportional to
//! the number of tasks" can be read either way; both costs can be calibrated (`per_task` is 0 by
//! default). The worker takes the next job at the instant its walk ends. The job is `FAILED`
//! (and its termination complete) when every instance is final.
//!
//! The request covers every instance of the job from its acceptance: their
//! `terminate_requested_s` is the request's arrival even before the walk reaches them (an
//! instance the walk has not reached when the run ends shows it with path `none`).

use std::collections::VecDeque;

use crate::engine::SimTime;

use super::job::JobTermination;
use super::{Event, Model, Recorder};

#[derive(Clone, Copy, Debug)]
struct Walk {
    job: u32,
    next: u32,
    end: u32,
}

pub(super) struct JobTerminations {
    per_instance: SimTime,
    per_task: SimTime,
    workers: Vec<Option<Walk>>,
    queue: VecDeque<u32>,
}

impl JobTerminations {
    pub(super) fn new(workers: u32, per_instance: SimTime, per_task: SimTime) -> Self {
        JobTerminations { per_instance, per_task, workers: vec![None; workers as usize], queue: VecDeque::new() }
    }
}

impl<R: Recorder> Model<R> {
    /// An accepted TerminateJob for a job that is neither final nor already being terminated.
    pub(super) fn accept_job_termination(&mut self, j: u32) {
        let job = &mut self.jobs[j as usize];
        job.termination = JobTermination::InProgress;
        job.terminate_requested = Some(self.now);
        let covered = job.first_instance..job.first_instance + job.instance_count;
        for i in covered {
            self.cover(i, self.now);
        }
        match self.job_terminations.workers.iter().position(Option::is_none) {
            Some(w) => self.start_walk(w as u32, j),
            None => self.job_terminations.queue.push_back(j),
        }
    }

    fn start_walk(&mut self, w: u32, j: u32) {
        let job = &self.jobs[j as usize];
        let walk = Walk { job: j, next: job.first_instance, end: job.first_instance + job.instance_count };
        self.job_terminations.workers[w as usize] = Some(walk);
        self.schedule_walk_step(w, walk.next);
    }

    /// The step that reaches instance `i`: it enters a new task when `i` is its task's first.
    fn schedule_walk_step(&mut self, w: u32, i: u32) {
        let costs = &self.job_terminations;
        let mut cost = costs.per_instance;
        if costs.per_task > SimTime::ZERO && self.tasks[self.instances[i as usize].task as usize].first_instance == i {
            cost = cost + costs.per_task;
        }
        self.schedule(cost, Event::WalkStep(w));
    }

    pub(super) fn walk_step(&mut self, w: u32) {
        let walk = self.job_terminations.workers[w as usize].as_mut().expect("a step belongs to a walk");
        let (j, i) = (walk.job, walk.next);
        walk.next += 1;
        let done = walk.next == walk.end;
        let requested = self.jobs[j as usize].terminate_requested.expect("set when accepted");
        self.terminate_instance(i, requested);
        if !done {
            self.schedule_walk_step(w, i + 1);
            return;
        }
        self.job_terminations.workers[w as usize] = None;
        if let Some(next) = self.job_terminations.queue.pop_front() {
            self.start_walk(w, next);
        }
    }
}
