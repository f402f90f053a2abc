//! The account's CVM quota: a resource of `max_cvms` units with a queue of requests, FIFO by
//! submission (SPEC §1.3).
//!
//! A claimant (a `RUNNABLE` task instance, or a named environment's node at time 0) waits in a
//! queue ordered by when it was submitted: nodes first, then instances by their job's
//! `submit_at`, then file order (job, task, index). An instance that becomes `RUNNABLE` late (a
//! dependent task, a requeue after a launch failure or an interruption) keeps its place by
//! submission and goes before instances of jobs submitted after its own. Whenever a unit is
//! free the head is granted one and its CVM create call is
//! made (or queued behind the backend's create rate limit, §1.6, still holding the grant). The
//! unit comes back when the CVM is `TERMINATED` or `LAUNCH_FAILED`, or when an instance is
//! terminated while its create call was still queued. Instances that stop waiting (terminated
//! while `RUNNABLE`) are skipped when they reach the head; they do not hold the line.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::SimTime;

use super::cvm::Claimant;
use super::state::InstanceState;
use super::{Model, Recorder};

/// Nodes rank before every instance; instances rank by their global index (file order).
const INSTANCE_RANK: u64 = 1 << 40;

pub(super) struct Quota {
    limit: u64,
    in_use: u64,
    /// `(submitted, rank, generation)`: the smallest first.
    waiting: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    nodes_asked: u64,
}

impl Quota {
    pub(super) fn new(limit: Option<u64>) -> Self {
        Quota { limit: limit.unwrap_or(u64::MAX), in_use: 0, waiting: BinaryHeap::new(), nodes_asked: 0 }
    }
}

impl<R: Recorder> Model<R> {
    /// A `RUNNABLE` instance of an anonymous environment asks for a CVM.
    pub(super) fn request_cvm(&mut self, i: u32) {
        let generation = self.instances[i as usize].generation;
        let job = self.tasks[self.instances[i as usize].task as usize].job;
        let submitted = self.cfg.jobs[job as usize].submit_at;
        if self.quota.waiting.is_empty() && self.quota.in_use < self.quota.limit {
            // Nobody to queue behind: what the queue would do at once, without the heap.
            self.grant(Claimant::Instance { instance: i, generation });
            return;
        }
        self.quota.waiting.push(Reverse((submitted, INSTANCE_RANK + u64::from(i), generation)));
        self.grant_quota();
    }

    pub(super) fn request_quota_for_node(&mut self, env: u32) {
        // Ranks below INSTANCE_RANK carry the environment in the low bits, in asking order.
        let rank = (self.quota.nodes_asked << 16) | u64::from(env);
        self.quota.nodes_asked += 1;
        self.quota.waiting.push(Reverse((SimTime::ZERO, rank, 0)));
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
            let Some(Reverse((_, rank, generation))) = self.quota.waiting.pop() else { return };
            let claimant = if rank >= INSTANCE_RANK {
                Claimant::Instance { instance: (rank - INSTANCE_RANK) as u32, generation }
            } else {
                Claimant::Node { env: (rank & 0xffff) as u32 }
            };
            if self.is_still_waiting(claimant) {
                self.grant(claimant);
            }
        }
    }

    fn grant(&mut self, claimant: Claimant) {
        self.quota.in_use += 1;
        self.occupancy_changed(0, 1);
        if let Claimant::Instance { instance, .. } = claimant {
            self.instances[instance as usize].set_holds_grant(true);
        }
        self.submit_create_call(claimant);
    }

    /// Gives a unit back; `cvms_delta` is -1 when a CVM ceased to exist with it.
    pub(super) fn release_quota(&mut self, cvms_delta: i64) {
        self.quota.in_use -= 1;
        self.occupancy_changed(cvms_delta, -1);
        self.grant_quota();
    }
}
