//! DLC (Data Lake Compute) tasks and CancelTask (SPEC §1.8, seed 003).
//!
//! A task appears `QUEUED` at `submit_at` and moves `QUEUED` → `INITIALIZING` → `RUNNING` →
//! `WRITING_DATA` → `SUCCEEDED`, spending its configured time in each; at `failure_rate` it ends
//! `FAILED` at the end of `RUNNING` instead (decided when `RUNNING` starts). The SDK reports these
//! states as numbers: `4`, `0`, `1`, `3`, `2`, `-1`, and `-3` for `CANCELLED`.
//!
//! CancelTask (seed 003: "This API is used to cancel a task"), checked in this order after the
//! gateway's rate limit and fault injection:
//! - a malformed `TaskId`, or one that names no task the service knows yet →
//!   `InvalidParameter.InvalidTaskId` ("The taskid is invalid");
//! - a task that has ended (`SUCCEEDED`, `FAILED`, `CANCELLED`) →
//!   `InvalidParameter.TaskAlreadyFinished` ("The task has ended and cannot be canceled");
//! - a task whose earlier cancel is still in progress → `FailedOperation.AnotherRequestProcessing`
//!   ("Another request is being processed");
//! - otherwise the cancel is accepted and the task is `CANCELLED` `cancel_delay` later.
//!
//! While a cancel is in progress the task keeps moving through its states (cancelling takes
//! time); if it ends on its own first, it keeps that end and the cancel completes with nothing to
//! do. A task that does not exist yet is answered like a malformed id: the service cannot tell.

use crate::engine::{SimTime, bernoulli};

use super::state::{Cause, DlcState, State};
use super::vocabulary::ErrorCode;
use super::{Entity, Event, Model, Recorder};

/// A DLC task during the run.
#[derive(Clone, Debug, Default)]
pub struct DlcTaskRuntime {
    /// `None` before `submit_at`: the service does not know the task yet.
    pub state: Option<DlcState>,
    /// Decided when `RUNNING` starts.
    fails: bool,
    /// An accepted cancel has not completed yet.
    cancelling: bool,
    /// When the first accepted CancelTask arrived.
    pub cancel_requested: Option<SimTime>,
    /// When the task became `CANCELLED`.
    pub cancelled: Option<SimTime>,
}

impl<R: Recorder> Model<R> {
    fn set_dlc_state(&mut self, t: u32, to: DlcState, cause: Cause) {
        let task = &mut self.dlc[t as usize];
        let from = task.state.replace(to);
        self.record(Entity::DlcTask(t), from.map(State::from), to.into(), cause);
    }

    pub(super) fn dlc_submitted(&mut self, t: u32) {
        self.set_dlc_state(t, DlcState::Queued, Cause::Submitted);
        self.schedule_dlc_stage_end(t, DlcState::Queued);
    }

    fn schedule_dlc_stage_end(&mut self, t: u32, stage: DlcState) {
        let cfg = &self.cfg.dlc_tasks[t as usize];
        let delay = match stage {
            DlcState::Queued => &cfg.queued,
            DlcState::Initializing => &cfg.initializing,
            DlcState::Running => &cfg.running,
            DlcState::WritingData => &cfg.writing_data,
            _ => unreachable!("only live stages end"),
        };
        let delay = delay.sample(&mut self.rng.dlc_stage);
        self.schedule(delay, Event::DlcStageDone(t));
    }

    /// The current stage's time is up. A task cancelled meanwhile has left its stages.
    pub(super) fn dlc_stage_done(&mut self, t: u32) {
        let Some(stage) = self.dlc[t as usize].state.filter(|s| !s.is_final()) else { return };
        let next = match stage {
            DlcState::Queued => DlcState::Initializing,
            DlcState::Initializing => {
                let fails = bernoulli(&mut self.rng.dlc_failure, self.cfg.dlc_tasks[t as usize].failure_rate);
                self.dlc[t as usize].fails = fails;
                DlcState::Running
            }
            DlcState::Running if self.dlc[t as usize].fails => DlcState::Failed,
            DlcState::Running => DlcState::WritingData,
            DlcState::WritingData => DlcState::Succeeded,
            _ => unreachable!("final states were filtered out"),
        };
        let cause = match next {
            DlcState::Failed => Cause::RunFailed,
            DlcState::Succeeded => Cause::Succeeded,
            _ => Cause::StageDone,
        };
        self.set_dlc_state(t, next, cause);
        if !next.is_final() {
            self.schedule_dlc_stage_end(t, next);
        }
    }

    /// CancelTask's rules on the live task `t` (the lookup passed: the service knows it).
    pub(super) fn cancel_task(&mut self, t: u32) -> Option<ErrorCode> {
        let runtime = &mut self.dlc[t as usize];
        let state = runtime.state.expect("the lookup passes only tasks already submitted");
        if state.is_final() {
            return Some(ErrorCode::InvalidParameterTaskAlreadyFinished);
        }
        if runtime.cancelling {
            return Some(ErrorCode::FailedOperationAnotherRequestProcessing);
        }
        runtime.cancelling = true;
        runtime.cancel_requested.get_or_insert(self.now);
        let delay = self.cfg.dlc_tasks[t as usize].cancel_delay.sample(&mut self.rng.dlc_cancel);
        self.schedule(delay, Event::DlcCancelDone(t));
        None
    }

    pub(super) fn dlc_cancel_done(&mut self, t: u32) {
        let runtime = &mut self.dlc[t as usize];
        runtime.cancelling = false;
        if runtime.state.is_some_and(|s| !s.is_final()) {
            runtime.cancelled = Some(self.now);
            self.set_dlc_state(t, DlcState::Cancelled, Cause::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_carry_the_sdk_numbers_of_spec_1_8() {
        use DlcState::*;
        let codes: Vec<i8> =
            [Queued, Initializing, Running, WritingData, Succeeded, Failed, Cancelled].map(DlcState::sdk_code).into();
        assert_eq!(codes, vec![4, 0, 1, 3, 2, -1, -3]);
        assert!(Cancelled.is_final() && Failed.is_final() && Succeeded.is_final() && !WritingData.is_final());
    }
}
