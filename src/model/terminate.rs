//! TerminateTaskInstance's effect on one task instance (SPEC §1.4, seeds 000 and 002).
//!
//! By the instance's state when the request takes effect:
//! - `SUCCEED`, `FAILED`: nothing happens (`no_op`).
//! - `SUBMITTED`, `PENDING`, `RUNNABLE`: `FAILED` at once (`immediate`). A `RUNNABLE` instance
//!   leaves the quota queue, or gives back its grant if its create call was still queued.
//! - `STARTING`, `RUNNING`, `FAILED_INTERRUPTED` in an anonymous environment: "Batch terminates
//!   the CVM first and then sets them to the FAILED state" (`cvm`). A CVM still being created
//!   "cannot be terminated immediately": the termination is registered in the bypass
//!   ([`super::bypass`], path `bypass`). From acceptance on, the instance's run no longer decides
//!   its fate: it stays in its state until the CVM is `TERMINATED`, then it is `FAILED`. A
//!   `FAILED_INTERRUPTED` instance whose CVM an interruption reclaimed holds nothing: `FAILED` at
//!   once (`immediate`, no `released_s`).
//! - Named environment under `restart_cvm` (seed 000: "the task instance changes to FAILED, then
//!   the related CVM instance is restarted"): `FAILED` at once, then the node reboots and returns
//!   to the pool (`restart`). Under `reject` the API refuses before getting here.
//!
//! A request for an instance already being terminated changes nothing. The first accepted
//! request that covers an instance sets its `path` and `terminate_requested_s`.

use crate::engine::SimTime;

use super::config::EnvRef;
use super::instance::NO_CVM;
use super::state::Cause;
use super::state::{CvmState, InstanceState::*, TerminationPath};
use super::{Model, Recorder};

impl<R: Recorder> Model<R> {
    /// Applies the rule to instance `i` now, for a request that arrived at `requested`.
    pub(super) fn terminate_instance(&mut self, i: u32, requested: SimTime) {
        let named = matches!(self.env_of(i), EnvRef::Named(_));
        let inst = &self.instances[i as usize];
        if inst.is_being_terminated() {
            return;
        }
        match inst.state {
            Succeed | Failed => self.set_path(i, TerminationPath::NoOp, Some(requested)),
            Submitted | Pending | Runnable => {
                self.set_path(i, TerminationPath::Immediate, Some(requested));
                self.set_terminated(i);
                let inst = &mut self.instances[i as usize];
                inst.cancel_waiting();
                let gave_back_grant = inst.holds_grant();
                inst.set_holds_grant(false);
                self.set_instance_state(i, Failed, Cause::Terminated);
                if gave_back_grant {
                    self.release_quota(0);
                }
            }
            Starting | Running | FailedInterrupted if named => {
                self.set_path(i, TerminationPath::Restart, Some(requested));
                self.set_terminated(i);
                let inst = &mut self.instances[i as usize];
                inst.cancel_waiting();
                let node = std::mem::replace(&mut inst.cvm, NO_CVM);
                self.set_instance_state(i, Failed, Cause::Terminated);
                if node != NO_CVM {
                    self.restart_node(node);
                }
            }
            Starting | Running | FailedInterrupted => {
                let cvm = inst.cvm;
                self.instances[i as usize].cancel_waiting();
                let cvm_state = (cvm != NO_CVM).then(|| self.cvms[cvm as usize].state);
                match cvm_state {
                    Some(CvmState::Pending) => {
                        self.set_path(i, TerminationPath::Bypass, Some(requested));
                        self.cvms[cvm as usize].register_bypass();
                    }
                    Some(CvmState::Running | CvmState::ShuttingDown) => {
                        self.set_path(i, TerminationPath::Cvm, Some(requested));
                        self.request_cvm_termination(cvm);
                    }
                    // Nothing left to terminate: the CVM was reclaimed by an interruption, and its
                    // quota went with it (SPEC §1.7c).
                    _ => {
                        self.set_path(i, TerminationPath::Immediate, Some(requested));
                        self.set_terminated(i);
                        self.set_instance_state(i, Failed, Cause::Terminated);
                    }
                }
            }
        }
    }

    /// Records that a request covering `i` was refused with
    /// `UnsupportedOperation.TerminateOperationWithEnvId`.
    pub(super) fn termination_rejected(&mut self, i: u32) {
        self.set_path(i, TerminationPath::Rejected, None);
    }
}
