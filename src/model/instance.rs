//! A task instance and its runs.
//!
//! # Runs, failures and retries (SPEC §1.3)
//! A run starts when the instance becomes `RUNNING` and lasts the task's `runtime`. It fails at
//! the task's `failure_rate` (decided when it starts, the failure shows at its end), or when its
//! CVM is interrupted first (`interruption_rate_per_hour`, a hazard rate; anonymous environments
//! only: a named environment's nodes are not interrupted).
//!
//! A failed run with retries left (`retry_count`, SubmitJob's MaxRetryCount) is retried:
//! - after a `failure_rate` failure, on the same CVM or node, at once (a `RUNNING` → `RUNNING`
//!   row with cause `retry` shows it in the timeline);
//! - after an interruption, the CVM is gone (reclaimed: `TERMINATED` at once, quota freed), so
//!   the instance goes back to `RUNNABLE` and queues for quota and a new CVM.
//!
//! The last failure follows `failed_action`: `TERMINATE` → `FAILED` and the CVM is terminated
//! (or the node returns to its pool); `INTERRUPT` → `FAILED_INTERRUPTED`, keeping the CVM (or
//! node) and its quota until a termination succeeds. An interrupted CVM is already gone, so a
//! `FAILED_INTERRUPTED` instance after an interruption holds nothing.

use crate::engine::{SimTime, bernoulli};

use super::config::{EnvRef, FailedAction};
use super::state::Cause;
use super::state::{InstanceState, TerminationPath};
use super::{Event, Model, Recorder};

/// No CVM or node.
pub(super) const NO_CVM: u32 = u32::MAX;
const NEVER: SimTime = SimTime::MAX;
const RUN_FAILS: u8 = 1;
const HOLDS_GRANT: u8 = 2;

/// The part of a task instance that events touch: 16 bytes, so that a million of them stay
/// cache-friendly. The times of its termination live apart, in [`InstanceTimes`].
#[derive(Clone, Debug)]
pub struct Instance {
    /// Global task index.
    pub task: u32,
    /// The CVM (anonymous) or node (named) the instance holds, or `NO_CVM`.
    pub cvm: u32,
    /// Bumped whenever a scheduled run outcome or a queue entry of this instance becomes void
    /// (a new run, a termination, leaving a queue): events and queue entries carry the value they
    /// were made with and are ignored when it no longer matches.
    pub generation: u32,
    /// At most `retry_count + 1`, and `retry_count` is at most 100.
    pub failed_runs: u8,
    /// The current state; its task's and job's states are derived from it.
    pub state: InstanceState,
    /// How a termination request acted on it: [`TerminationPath::None`] until one does.
    pub path: TerminationPath,
    flags: u8,
}

const _: () = assert!(size_of::<Instance>() == 16);

/// When a task instance's termination was asked for and completed.
#[derive(Clone, Debug)]
pub struct InstanceTimes {
    requested: SimTime,
    terminated: SimTime,
    released: SimTime,
}

impl Default for InstanceTimes {
    fn default() -> Self {
        InstanceTimes { requested: NEVER, terminated: NEVER, released: NEVER }
    }
}

fn known(t: SimTime) -> Option<SimTime> {
    (t != NEVER).then_some(t)
}

/// A task instance at the end of a run, as the outputs report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceReport {
    /// The state at the end of the run: the `final_state` column.
    pub state: InstanceState,
    /// The `path` column: how a termination request acted on it.
    pub path: TerminationPath,
    /// How many of its runs failed (at `failure_rate` or by an interruption), retried ones included.
    pub failed_runs: u8,
    /// When the accepted request that covers the instance arrived.
    pub terminate_requested: Option<SimTime>,
    /// When the instance became `FAILED` by that request.
    pub terminated: Option<SimTime>,
    /// When its CVM became `TERMINATED` (or `LAUNCH_FAILED`) and the quota was freed.
    pub released: Option<SimTime>,
}

impl InstanceReport {
    /// The report of an instance from its two halves (same global task instance index).
    pub fn new(instance: &Instance, times: &InstanceTimes) -> Self {
        InstanceReport {
            state: instance.state,
            path: instance.path,
            failed_runs: instance.failed_runs,
            terminate_requested: known(times.requested),
            terminated: known(times.terminated),
            released: known(times.released),
        }
    }
}

impl Instance {
    pub(super) fn new(task: u32) -> Self {
        Instance {
            task,
            cvm: NO_CVM,
            generation: 0,
            failed_runs: 0,
            state: InstanceState::Submitted,
            path: TerminationPath::None,
            flags: 0,
        }
    }

    /// A termination was accepted and has not finished yet.
    pub fn is_being_terminated(&self) -> bool {
        matches!(self.path, TerminationPath::Cvm | TerminationPath::Bypass) && !self.state.is_final()
    }

    /// Voids every scheduled outcome and queue entry of the instance.
    pub(super) fn cancel_waiting(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    fn flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn set_flag(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    /// Holds a quota grant whose CVM create call still waits in the backend's queue.
    pub(super) fn holds_grant(&self) -> bool {
        self.flag(HOLDS_GRANT)
    }

    pub(super) fn set_holds_grant(&mut self, on: bool) {
        self.set_flag(HOLDS_GRANT, on);
    }
}

impl<R: Recorder> Model<R> {
    /// The first accepted (or rejected) request that acts on an instance sets its path; the
    /// first accepted one that covers it sets `terminate_requested_s`.
    pub(super) fn set_path(&mut self, i: u32, path: TerminationPath, requested: Option<SimTime>) {
        let inst = &mut self.instances[i as usize];
        if inst.path == TerminationPath::None {
            inst.path = path;
            if let Some(at) = requested {
                self.cover(i, at);
            }
        }
    }

    /// An accepted request covers the instance: a TerminateJob covers all of its job's instances
    /// when it is accepted, before the walk reaches them.
    pub(super) fn cover(&mut self, i: u32, requested: SimTime) {
        let times = &mut self.times[i as usize];
        if times.requested == NEVER {
            times.requested = requested;
        }
    }

    pub(super) fn set_terminated(&mut self, i: u32) {
        self.times[i as usize].terminated = self.now;
    }

    pub(super) fn set_released(&mut self, i: u32) {
        self.times[i as usize].released = self.now;
    }

    pub(super) fn env_of(&self, i: u32) -> EnvRef {
        self.jobs[self.tasks[self.instances[i as usize].task as usize].job as usize].env
    }

    fn task_config(&self, i: u32) -> &super::config::Task {
        let task = &self.tasks[self.instances[i as usize].task as usize];
        &self.cfg.jobs[task.job as usize].tasks[task.index_in_job as usize]
    }

    /// `RUNNABLE`, then wait for quota and a CVM (anonymous) or for a free node (named).
    pub(super) fn make_runnable(&mut self, i: u32, cause: Cause) {
        self.set_instance_state(i, InstanceState::Runnable, cause);
        match self.env_of(i) {
            EnvRef::Anonymous => self.request_cvm(i),
            EnvRef::Named(env) => self.wait_for_node(env, i),
        }
    }

    /// Draws the run's length and outcome and schedules its end. The instance is `RUNNING`.
    pub(super) fn begin_run(&mut self, i: u32) {
        let task = &self.tasks[self.instances[i as usize].task as usize];
        let task = &self.cfg.jobs[task.job as usize].tasks[task.index_in_job as usize];
        let runtime = task.runtime.sample(&mut self.rng.runtime);
        let fails = bernoulli(&mut self.rng.run_failure, task.failure_rate);
        let interrupted_after = match (&self.interruption, self.env_of(i)) {
            (Some(d), EnvRef::Anonymous) => d.sample(&mut self.rng.interruption),
            _ => SimTime::MAX,
        };
        let inst = &mut self.instances[i as usize];
        inst.cancel_waiting();
        inst.set_flag(RUN_FAILS, fails);
        let generation = inst.generation;
        if interrupted_after < runtime {
            self.schedule(interrupted_after, Event::RunInterrupted { instance: i, generation });
        } else {
            self.schedule(runtime, Event::RunEnded { instance: i, generation });
        }
    }

    fn is_current_run(&self, i: u32, generation: u32) -> bool {
        let inst = &self.instances[i as usize];
        inst.generation == generation && inst.state == InstanceState::Running
    }

    pub(super) fn run_ended(&mut self, i: u32, generation: u32) {
        if !self.is_current_run(i, generation) {
            return;
        }
        if self.instances[i as usize].flag(RUN_FAILS) {
            self.run_failed(i, false);
        } else {
            self.set_instance_state(i, InstanceState::Succeed, Cause::RunSucceeded);
            self.give_back_cvm(i);
        }
    }

    pub(super) fn run_interrupted(&mut self, i: u32, generation: u32) {
        if !self.is_current_run(i, generation) {
            return;
        }
        let cvm = std::mem::replace(&mut self.instances[i as usize].cvm, NO_CVM);
        self.cvm_reclaimed(cvm);
        self.run_failed(i, true);
        self.release_quota(-1);
    }

    fn run_failed(&mut self, i: u32, interrupted: bool) {
        let (retries, action) = {
            let task = self.task_config(i);
            (task.retry_count, task.failed_action)
        };
        let cause = if interrupted { Cause::Interrupted } else { Cause::RunFailed };
        let inst = &mut self.instances[i as usize];
        inst.failed_runs += 1;
        if u32::from(inst.failed_runs) <= retries {
            if interrupted {
                self.make_runnable(i, Cause::Retry);
            } else {
                self.set_instance_state(i, InstanceState::Running, Cause::Retry);
                self.begin_run(i);
            }
            return;
        }
        match action {
            FailedAction::Terminate => {
                self.set_instance_state(i, InstanceState::Failed, cause);
                self.give_back_cvm(i);
            }
            FailedAction::Interrupt => self.set_instance_state(i, InstanceState::FailedInterrupted, cause),
        }
    }

    /// The instance ended: its CVM is terminated (anonymous) or its node returns to the pool.
    fn give_back_cvm(&mut self, i: u32) {
        let cvm = std::mem::replace(&mut self.instances[i as usize].cvm, NO_CVM);
        if cvm == NO_CVM {
            return;
        }
        match self.env_of(i) {
            EnvRef::Anonymous => self.request_cvm_termination(cvm),
            EnvRef::Named(_) => self.node_freed(cvm),
        }
    }
}
