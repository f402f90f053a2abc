//! Named compute environments (SubmitJob's `EnvId`): a pool of long-lived nodes.
//!
//! The `nodes` CVMs are asked for at time 0 (each takes quota and goes through the create call
//! queue like any CVM). A `RUNNABLE` instance waits, FIFO, for a free `RUNNING` node, then goes
//! `STARTING` and `RUNNING` at the same instant. The node returns to the pool when the instance
//! ends, or after a restart (`restart_cvm` policy, `REBOOTING` for `restart_delay`). A node
//! whose creation fails is lost. Free nodes are handed out in the order they became free.

use std::collections::VecDeque;

use super::state::Cause;
use super::state::InstanceState;
use super::{Model, Recorder};

#[derive(Default)]
pub(super) struct NamedEnvironment {
    free_nodes: VecDeque<u32>,
    /// `(instance, generation)` in the order they became `RUNNABLE`.
    waiting: VecDeque<(u32, u32)>,
}

impl<R: Recorder> Model<R> {
    pub(super) fn create_nodes(&mut self, env: u32) {
        for _ in 0..self.cfg.environments[env as usize].nodes {
            self.request_quota_for_node(env);
        }
    }

    pub(super) fn wait_for_node(&mut self, env: u32, i: u32) {
        let generation = self.instances[i as usize].generation;
        self.envs[env as usize].waiting.push_back((i, generation));
        self.assign_nodes(env);
    }

    pub(super) fn node_freed(&mut self, node: u32) {
        let super::cvm::Owner::Node(env) = self.cvms[node as usize].owner() else {
            unreachable!("only nodes return to a pool")
        };
        self.envs[env as usize].free_nodes.push_back(node);
        self.assign_nodes(env);
    }

    fn assign_nodes(&mut self, env: u32) {
        loop {
            let pool = &mut self.envs[env as usize];
            if pool.free_nodes.is_empty() {
                return;
            }
            let Some((i, generation)) = pool.waiting.pop_front() else { return };
            let inst = &self.instances[i as usize];
            if inst.generation != generation || inst.state != InstanceState::Runnable {
                continue;
            }
            let node = self.envs[env as usize].free_nodes.pop_front().expect("checked above");
            self.instances[i as usize].cvm = node;
            self.set_instance_state(i, InstanceState::Starting, Cause::NodeAssigned);
            self.set_instance_state(i, InstanceState::Running, Cause::NodeAssigned);
            self.begin_run(i);
        }
    }
}
