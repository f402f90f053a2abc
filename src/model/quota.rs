//! The account's CVM quota: a resource of `max_cvms` units with a FIFO of requests.
//!
//! A claimant (a `RUNNABLE` task instance, or a named environment's node at time 0) joins the
//! back of the queue. Whenever a unit is free the head is granted one and its CVM create call is
//! made (or queued behind the backend's create rate limit, §1.6, still holding the grant). The
//! unit comes back when the CVM is `TERMINATED` or `LAUNCH_FAILED`, or when an instance is
//! terminated while its create call was still queued. Instances that stop waiting (terminated
//! while `RUNNABLE`) are skipped when they reach the head; they do not hold the line.

use std::collections::VecDeque;

use super::cvm::Claimant;
use super::state::InstanceState;
use super::{Model, Recorder};

pub struct Quota {
    limit: u64,
    in_use: u64,
    waiting: VecDeque<Claimant>,
}

impl Quota {
    pub fn new(limit: Option<u64>) -> Self {
        Quota { limit: limit.unwrap_or(u64::MAX), in_use: 0, waiting: VecDeque::new() }
    }
}

impl<R: Recorder> Model<R> {
    /// A `RUNNABLE` instance of an anonymous environment asks for a CVM.
    pub(super) fn request_cvm(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        self.quota.waiting.push_back(Claimant::Instance { instance: i, generation: inst.generation });
        self.grant_quota();
    }

    pub(super) fn request_quota_for_node(&mut self, env: u32) {
        self.quota.waiting.push_back(Claimant::Node { env });
        self.grant_quota();
    }

    fn is_still_waiting(&self, claimant: Claimant) -> bool {
        match claimant {
            Claimant::Instance { instance, generation } => {
                let inst = &self.instances[instance as usize];
                inst.generation == generation && inst.state == InstanceState::Runnable
            }
            Claimant::Node { .. } => true,
        }
    }

    fn grant_quota(&mut self) {
        while self.quota.in_use < self.quota.limit {
            let Some(claimant) = self.quota.waiting.pop_front() else { return };
            if !self.is_still_waiting(claimant) {
                continue;
            }
            self.quota.in_use += 1;
            self.occupancy_changed(0, 1);
            if let Claimant::Instance { instance, .. } = claimant {
                self.instances[instance as usize].set_holds_grant(true);
            }
            self.submit_create_call(claimant);
        }
    }

    /// Gives a unit back; `cvms_delta` is -1 when a CVM ceased to exist with it.
    pub(super) fn release_quota(&mut self, cvms_delta: i64) {
        self.quota.in_use -= 1;
        self.occupancy_changed(cvms_delta, -1);
        self.grant_quota();
    }
}
