//! TAT (TencentCloud Automation Tools) invocations and CancelInvocation (SPEC §1.9, seed 004).
//!
//! An invocation runs a command on up to 100 instances, one invocation task each. At the
//! invocation's `at` every task is `PENDING`; after `pending` it is `DELIVERING` (a
//! `deliver_delayed_rate` share first spends `deliver_delayed_extra` in `DELIVER_DELAYED`);
//! after `delivery` it is `RUNNING`, or `DELIVER_FAILED` at `deliver_failed_rate`; a run ends
//! `SUCCESS` after `runtime` (`FAILED` at `failure_rate`, decided when it starts running), or
//! `TIMEOUT` at `timeout` if `runtime` is longer.
//!
//! CancelInvocation (seed 004), checked in this order after the gateway's rate limit and fault
//! injection:
//! - a malformed `InvocationId` → `InvalidParameterValue.InvalidInvocationId`;
//! - more than 100 `InstanceIds` → `InvalidParameterValue.LimitExceeded`;
//! - an invocation the service does not know (none of the scenario's, or not started yet) →
//!   `ResourceNotFound.InvocationNotFound`;
//! - an instance id that is not one of the invocation's (malformed ones included) →
//!   `InvalidParameterValue.InstanceIsNotRelatedToInvocation`;
//! - otherwise accepted. Without `InstanceIds` every task of the invocation is covered. A covered
//!   task not yet delivered (`PENDING`, `DELIVERING`, `DELIVER_DELAYED`) is `CANCELLED` at once
//!   ("will be CANCELLED after the command is canceled"); a `RUNNING` one is `CANCELLING`, then
//!   `TERMINATED` after `kill_delay` ("will be TERMINATED"); a finished one is unchanged.
//!
//! The invocation's own status follows its tasks, and is written once per instant: the status at
//! the end of it, no row when unchanged (SPEC §1.7c). While any task is not final: `CANCELLING`
//! if any task is `CANCELLING`, else `RUNNING` if any task is or has been `RUNNING`, else
//! `PENDING`. When all are final: `SUCCESS` if all succeeded; `CANCELLED` if all were cancelled
//! or terminated; `TIMEOUT` if all timed out; `FAILED` if all `FAILED` or `DELIVER_FAILED`;
//! otherwise `PARTIAL_CANCELLED` if any was cancelled or terminated, else `PARTIAL_FAILED`.
//! Timeline rows show it as entity `tat_invocation`, with the cause of the last task change that
//! instant.

use crate::engine::{SimTime, bernoulli};

use super::state::{Cause, InvocationStatus, State, TatTaskState};
use super::target::Selection;
use super::vocabulary::ErrorCode;
use super::{Entity, Event, Model, Recorder};

/// An invocation task (one instance of an invocation) during the run.
#[derive(Clone, Debug)]
pub struct TatTaskRuntime {
    /// Its invocation: index into `Config::tat_invocations`.
    pub invocation: u32,
    /// Position of its instance in the invocation's list.
    pub instance: u32,
    /// `None` before the invocation starts.
    pub state: Option<TatTaskState>,
    /// Decided when `DELIVERING` starts.
    delivery_fails: bool,
    /// Decided when `RUNNING` starts: the runtime drawn exceeds the timeout.
    times_out: bool,
    /// Decided when `RUNNING` starts: the command fails at its end.
    fails: bool,
    /// When the first accepted CancelInvocation covering it arrived.
    pub cancel_requested: Option<SimTime>,
    /// When it became `CANCELLED` or `TERMINATED`.
    pub cancelled: Option<SimTime>,
}

/// An invocation during the run: its tasks are `first_task..first_task + instances`.
#[derive(Clone, Debug)]
pub(super) struct TatInvocationRuntime {
    pub first_task: u32,
    pub status: Option<InvocationStatus>,
    /// A task of it is or has been `RUNNING`.
    ran: bool,
    /// The cause of its tasks' latest change, while its status waits for the end of the instant.
    changed: Option<Cause>,
}

/// Lays out every invocation's tasks in one table, in file order.
pub(super) fn build_tables(cfg: &super::Config) -> (Vec<TatInvocationRuntime>, Vec<TatTaskRuntime>) {
    let mut invocations = Vec::with_capacity(cfg.tat_invocations.len());
    let mut tasks = Vec::new();
    for (v, inv) in cfg.tat_invocations.iter().enumerate() {
        invocations.push(TatInvocationRuntime {
            first_task: tasks.len() as u32,
            status: None,
            ran: false,
            changed: None,
        });
        tasks.extend((0..inv.instances.len()).map(|n| TatTaskRuntime {
            invocation: v as u32,
            instance: n as u32,
            state: None,
            delivery_fails: false,
            times_out: false,
            fails: false,
            cancel_requested: None,
            cancelled: None,
        }));
    }
    (invocations, tasks)
}

impl<R: Recorder> Model<R> {
    fn tat_tasks_of(&self, v: u32) -> std::ops::Range<u32> {
        let first = self.tat_invocations[v as usize].first_task;
        first..first + self.cfg.tat_invocations[v as usize].instances.len() as u32
    }

    fn set_tat_state(&mut self, k: u32, to: TatTaskState, cause: Cause) {
        let task = &mut self.tat_tasks[k as usize];
        let from = task.state.replace(to);
        let v = task.invocation;
        self.record(Entity::TatTask(k), from.map(State::from), to.into(), cause);
        let invocation = &mut self.tat_invocations[v as usize];
        invocation.ran |= to == TatTaskState::Running;
        if invocation.changed.replace(cause).is_none() {
            self.invocations_changed.push(v);
        }
    }

    /// The end of an instant: the status of each invocation whose tasks changed in it.
    pub(super) fn write_invocation_statuses(&mut self) {
        let changed = std::mem::take(&mut self.invocations_changed);
        for &v in &changed {
            let cause = self.tat_invocations[v as usize].changed.take().expect("listed when it changed");
            let states = self.tat_tasks_of(v).map(|k| self.tat_tasks[k as usize].state);
            let Some(status) = invocation_status(states, self.tat_invocations[v as usize].ran) else { continue };
            let runtime = &mut self.tat_invocations[v as usize];
            if runtime.status != Some(status) {
                let from = runtime.status.replace(status);
                self.record(Entity::TatInvocation(v), from.map(State::from), status.into(), cause);
            }
        }
        // The list's room is kept for the next instant.
        self.invocations_changed = changed;
        self.invocations_changed.clear();
    }

    pub(super) fn tat_started(&mut self, v: u32) {
        for k in self.tat_tasks_of(v) {
            self.set_tat_state(k, TatTaskState::Pending, Cause::Invoked);
            self.schedule_tat_stage_end(k, TatTaskState::Pending);
        }
    }

    fn schedule_tat_stage_end(&mut self, k: u32, stage: TatTaskState) {
        let cfg = &self.cfg.tat_invocations[self.tat_tasks[k as usize].invocation as usize];
        let delay = match stage {
            TatTaskState::Pending => cfg.pending.sample(&mut self.rng.tat_stage),
            TatTaskState::DeliverDelayed => cfg.deliver_delayed_extra.sample(&mut self.rng.tat_stage),
            TatTaskState::Delivering => cfg.delivery.sample(&mut self.rng.tat_stage),
            TatTaskState::Running => {
                let (runtime, timeout) = (cfg.runtime.sample(&mut self.rng.tat_stage), cfg.timeout);
                let fails = bernoulli(&mut self.rng.tat_failure, cfg.failure_rate);
                let task = &mut self.tat_tasks[k as usize];
                task.times_out = runtime > timeout;
                task.fails = fails;
                runtime.min(timeout)
            }
            _ => unreachable!("only live stages end"),
        };
        self.schedule(delay, Event::TatStageDone(k));
    }

    /// The current stage's time is up; a task cancelled meanwhile has left its stages.
    pub(super) fn tat_stage_done(&mut self, k: u32) {
        let v = self.tat_tasks[k as usize].invocation as usize;
        let (next, cause) = match self.tat_tasks[k as usize].state {
            Some(TatTaskState::Pending) => {
                let cfg = &self.cfg.tat_invocations[v];
                let (delayed_rate, failed_rate) = (cfg.deliver_delayed_rate, cfg.deliver_failed_rate);
                self.tat_tasks[k as usize].delivery_fails = bernoulli(&mut self.rng.tat_delivery, failed_rate);
                if bernoulli(&mut self.rng.tat_delivery, delayed_rate) {
                    (TatTaskState::DeliverDelayed, Cause::DeliveryDelayed)
                } else {
                    (TatTaskState::Delivering, Cause::Delivering)
                }
            }
            Some(TatTaskState::DeliverDelayed) => (TatTaskState::Delivering, Cause::Delivering),
            Some(TatTaskState::Delivering) if self.tat_tasks[k as usize].delivery_fails => {
                (TatTaskState::DeliverFailed, Cause::DeliveryFailed)
            }
            Some(TatTaskState::Delivering) => (TatTaskState::Running, Cause::Delivered),
            Some(TatTaskState::Running) if self.tat_tasks[k as usize].times_out => {
                (TatTaskState::Timeout, Cause::Timeout)
            }
            Some(TatTaskState::Running) if self.tat_tasks[k as usize].fails => (TatTaskState::Failed, Cause::RunFailed),
            Some(TatTaskState::Running) => (TatTaskState::Success, Cause::Succeeded),
            _ => return,
        };
        self.set_tat_state(k, next, cause);
        if !next.is_final() {
            self.schedule_tat_stage_end(k, next);
        }
    }

    /// CancelInvocation's effect on the tasks of invocation `v` it names (the lookup passed).
    pub(super) fn cancel_invocation(&mut self, v: u32, instances: Selection) -> Option<ErrorCode> {
        let covered: Vec<u32> = match instances {
            Selection::Listed(slot) => self.clients.selections[slot as usize].to_vec(),
            _ => (0..self.cfg.tat_invocations[v as usize].instances.len() as u32).collect(),
        };
        let first = self.tat_invocations[v as usize].first_task;
        for n in covered {
            let k = first + n;
            let task = &mut self.tat_tasks[k as usize];
            task.cancel_requested.get_or_insert(self.now);
            match task.state {
                Some(s) if s.is_undelivered() => {
                    task.cancelled = Some(self.now);
                    self.set_tat_state(k, TatTaskState::Cancelled, Cause::Cancelled);
                }
                Some(TatTaskState::Running) => {
                    self.set_tat_state(k, TatTaskState::Cancelling, Cause::CancelRequested);
                    let cfg = &self.cfg.tat_invocations[v as usize];
                    let delay = cfg.kill_delay.sample(&mut self.rng.tat_kill);
                    self.schedule(delay, Event::TatKillDone(k));
                }
                _ => {}
            }
        }
        None
    }

    pub(super) fn tat_kill_done(&mut self, k: u32) {
        if self.tat_tasks[k as usize].state == Some(TatTaskState::Cancelling) {
            self.tat_tasks[k as usize].cancelled = Some(self.now);
            self.set_tat_state(k, TatTaskState::Terminated, Cause::Killed);
        }
    }
}

/// The invocation's status from its tasks' states and whether any has run (see the module
/// docs); `None` before it starts.
fn invocation_status(states: impl Iterator<Item = Option<TatTaskState>>, ran: bool) -> Option<InvocationStatus> {
    use TatTaskState::*;
    let (mut n, mut live, mut cancelling) = (0, 0, 0);
    let (mut success, mut cancelled, mut timeout, mut failed) = (0, 0, 0, 0);
    for state in states {
        let state = state?;
        n += 1;
        match state {
            Cancelling => cancelling += 1,
            Success => success += 1,
            Cancelled | Terminated => cancelled += 1,
            Timeout => timeout += 1,
            Failed | DeliverFailed => failed += 1,
            _ => {}
        }
        if !state.is_final() {
            live += 1;
        }
    }
    Some(match () {
        _ if live > 0 && cancelling > 0 => InvocationStatus::Cancelling,
        _ if live > 0 && ran => InvocationStatus::Running,
        _ if live > 0 => InvocationStatus::Pending,
        _ if success == n => InvocationStatus::Success,
        _ if cancelled == n => InvocationStatus::Cancelled,
        _ if timeout == n => InvocationStatus::Timeout,
        _ if failed == n => InvocationStatus::Failed,
        _ if cancelled > 0 => InvocationStatus::PartialCancelled,
        _ => InvocationStatus::PartialFailed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TatTaskState::*;

    fn status(states: &[TatTaskState], ran: bool) -> InvocationStatus {
        invocation_status(states.iter().map(|&s| Some(s)), ran).unwrap()
    }

    #[test]
    fn the_invocation_status_follows_its_tasks_as_spec_1_7c_settles() {
        // While a task is live: CANCELLING, else RUNNING once any task has run, else PENDING.
        assert_eq!(status(&[Pending, Delivering], false), InvocationStatus::Pending);
        assert_eq!(status(&[Delivering, Success], true), InvocationStatus::Running);
        assert_eq!(status(&[Pending, Running], true), InvocationStatus::Running);
        assert_eq!(status(&[Cancelling, Success], true), InvocationStatus::Cancelling);
        assert_eq!(status(&[Cancelled, Pending], false), InvocationStatus::Pending);
        // All final.
        assert_eq!(status(&[Success, Success], true), InvocationStatus::Success);
        assert_eq!(status(&[Cancelled, Terminated], true), InvocationStatus::Cancelled);
        assert_eq!(status(&[Timeout, Timeout], true), InvocationStatus::Timeout);
        assert_eq!(status(&[Failed, DeliverFailed], true), InvocationStatus::Failed);
        assert_eq!(status(&[Cancelled, Success], true), InvocationStatus::PartialCancelled);
        assert_eq!(status(&[Cancelled, Timeout], true), InvocationStatus::PartialCancelled);
        assert_eq!(status(&[Timeout, DeliverFailed], true), InvocationStatus::PartialFailed);
        assert_eq!(status(&[Success, Failed], true), InvocationStatus::PartialFailed);
        assert_eq!(invocation_status([None, Some(Pending)].into_iter(), false), None);
    }
}
