//! CVMs and the backend's calls to the CVM service (SPEC §1.3, §1.6).
//!
//! A CVM is `PENDING` from its create call for `creation_delay`, then `RUNNING`, or
//! `LAUNCH_FAILED` at `creation_failure_rate` (decided at the call, seen at the end of the
//! delay). A terminate call makes it `SHUTTING_DOWN` for `termination_delay`, then `TERMINATED`.
//! It holds one unit of quota from the grant until `TERMINATED` or `LAUNCH_FAILED`.
//!
//! # The backend's call queues
//! With `create_rate_limit` / `terminate_rate_limit` set, calls wait in a FIFO and are made at
//! most one per `1 / rate` seconds (rounded to the microsecond): a call is made at the later of
//! its arrival and the previous call plus that interval. Nothing is rejected. While a create call
//! waits the instance stays `RUNNABLE` (holding its quota grant); while a terminate call waits
//! the CVM and the instance keep their states. Unset: calls are made at once.

use std::collections::VecDeque;

use crate::engine::{SimTime, bernoulli};

use super::config::CreateFailedState;
use super::instance::NO_CVM;
use super::state::{Cause, CvmState, InstanceState, TerminationPath};
use super::{Entity, Event, Model, Recorder};

/// Who a CVM is created for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claimant {
    Instance { instance: u32, generation: u32 },
    Node { env: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    Instance(u32),
    Node(u32),
}

/// A CVM: 8 bytes, so that the million of a big run take little cache. The owner's kind and
/// the CVM's flags share one byte.
#[derive(Clone, Debug)]
pub(super) struct Cvm {
    /// The owning instance, or the environment of a node.
    owner_index: u32,
    pub state: CvmState,
    flags: u8,
}

const _: () = assert!(size_of::<Cvm>() == 8);

/// The owner is a named environment (the CVM is a node).
const NODE: u8 = 1;
/// Decided at the create call: the creation ends `LAUNCH_FAILED`.
const LAUNCH_FAILS: u8 = 2;
/// A termination was registered in the bypass while the CVM was being created.
const BYPASS_REGISTERED: u8 = 4;
/// A terminate call was requested (made or waiting in the queue).
const TERMINATE_REQUESTED: u8 = 8;

impl Cvm {
    fn new(owner: Owner, launch_fails: bool) -> Self {
        let (owner_index, node) = match owner {
            Owner::Instance(i) => (i, 0),
            Owner::Node(env) => (env, NODE),
        };
        let flags = node | if launch_fails { LAUNCH_FAILS } else { 0 };
        Cvm { owner_index, state: CvmState::Pending, flags }
    }

    pub(super) fn owner(&self) -> Owner {
        if self.flags & NODE != 0 { Owner::Node(self.owner_index) } else { Owner::Instance(self.owner_index) }
    }

    fn launch_fails(&self) -> bool {
        self.flags & LAUNCH_FAILS != 0
    }

    pub(super) fn bypass_registered(&self) -> bool {
        self.flags & BYPASS_REGISTERED != 0
    }

    pub(super) fn register_bypass(&mut self) {
        self.flags |= BYPASS_REGISTERED;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CallKind {
    Create,
    Terminate,
}

#[derive(Clone, Copy, Debug)]
enum Call {
    Create(Claimant),
    Terminate(u32),
}

/// A FIFO of calls to the CVM service, served at most one per `interval`.
pub(super) struct CallQueue {
    interval: Option<SimTime>,
    waiting: VecDeque<Call>,
    last_call: Option<SimTime>,
    turn_scheduled: bool,
}

impl CallQueue {
    pub(super) fn new(rate_per_second: Option<f64>) -> Self {
        CallQueue {
            interval: rate_per_second.map(|r| SimTime((1e6 / r).round() as u64)),
            waiting: VecDeque::new(),
            last_call: None,
            turn_scheduled: false,
        }
    }

    fn next_turn(&self, now: SimTime) -> SimTime {
        let interval = self.interval.expect("only rate-limited queues take turns");
        self.last_call.map_or(now, |last| (last + interval).max(now))
    }
}

impl<R: Recorder> Model<R> {
    fn calls(&mut self, kind: CallKind) -> &mut CallQueue {
        match kind {
            CallKind::Create => &mut self.create_calls,
            CallKind::Terminate => &mut self.terminate_calls,
        }
    }

    fn enqueue_call(&mut self, kind: CallKind, call: Call) {
        let now = self.now;
        let queue = self.calls(kind);
        if queue.interval.is_none() {
            self.make_call(call);
            return;
        }
        queue.waiting.push_back(call);
        if !queue.turn_scheduled {
            queue.turn_scheduled = true;
            let at = queue.next_turn(now);
            self.schedule_at(at, Event::CvmCallTurn(kind));
        }
    }

    pub(super) fn cvm_call_turn(&mut self, kind: CallKind) {
        let now = self.now;
        loop {
            let Some(call) = self.calls(kind).waiting.pop_front() else {
                self.calls(kind).turn_scheduled = false;
                return;
            };
            if let Call::Create(Claimant::Instance { instance, generation }) = call
                && self.instances[instance as usize].generation != generation
            {
                continue; // terminated while queued; its grant was already given back
            }
            let queue = self.calls(kind);
            queue.last_call = Some(now);
            if queue.waiting.is_empty() {
                queue.turn_scheduled = false;
            } else {
                let at = queue.next_turn(now);
                self.schedule_at(at, Event::CvmCallTurn(kind));
            }
            self.make_call(call);
            return;
        }
    }

    fn make_call(&mut self, call: Call) {
        match call {
            Call::Create(claimant) => self.make_create_call(claimant),
            Call::Terminate(c) => self.make_terminate_call(c),
        }
    }

    pub(super) fn submit_create_call(&mut self, claimant: Claimant) {
        self.enqueue_call(CallKind::Create, Call::Create(claimant));
    }

    fn set_cvm_state(&mut self, c: u32, to: CvmState, cause: Cause) {
        let cvm = &mut self.cvms[c as usize];
        let from = cvm.state;
        cvm.state = to;
        let entity = match cvm.owner() {
            Owner::Instance(_) => Entity::Cvm(c),
            Owner::Node(_) => Entity::Node(c),
        };
        self.record(entity, Some(from.into()), to.into(), cause);
    }

    fn make_create_call(&mut self, claimant: Claimant) {
        let c = self.cvms.len() as u32;
        let owner = match claimant {
            Claimant::Instance { instance, .. } => Owner::Instance(instance),
            Claimant::Node { env } => Owner::Node(env),
        };
        let launch_fails = bernoulli(&mut self.rng.creation_failure, self.cfg.backend.cvm.creation_failure_rate);
        self.cvms.push(Cvm::new(owner, launch_fails));
        let entity = if matches!(owner, Owner::Node(_)) { Entity::Node(c) } else { Entity::Cvm(c) };
        self.record(entity, None, CvmState::Pending.into(), Cause::CreateCall);
        self.occupancy_changed(1, 0);
        let delay = self.cfg.backend.cvm.creation_delay.sample(&mut self.rng.creation_delay);
        self.schedule(delay, Event::CvmCreationDone(c));
        if let Owner::Instance(i) = owner {
            let inst = &mut self.instances[i as usize];
            inst.cvm = c;
            inst.set_holds_grant(false);
            self.set_instance_state(i, InstanceState::Starting, Cause::CvmCreating);
        }
    }

    pub(super) fn cvm_creation_done(&mut self, c: u32) {
        let cvm = &self.cvms[c as usize];
        let (owner, launch_fails, bypass) = (cvm.owner(), cvm.launch_fails(), cvm.bypass_registered());
        if launch_fails {
            self.set_cvm_state(c, CvmState::LaunchFailed, Cause::CreationFailed);
            if let Owner::Instance(i) = owner {
                self.launch_failed(i, bypass);
            }
            // A named environment's node that fails to launch is lost: the pool shrinks.
            self.release_quota(-1);
            return;
        }
        self.set_cvm_state(c, CvmState::Running, Cause::Created);
        match owner {
            Owner::Instance(_) if bypass => self.bypass_cvm_created(c),
            Owner::Instance(i) => {
                self.set_instance_state(i, InstanceState::Running, Cause::CvmRunning);
                self.begin_run(i);
            }
            Owner::Node(_) => self.node_freed(c),
        }
    }

    /// SubmitJob's `StateIfCreateCvmFailed` decides, unless a termination was registered: then
    /// the termination is complete (nothing is left to terminate).
    fn launch_failed(&mut self, i: u32, termination_registered: bool) {
        self.instances[i as usize].cvm = NO_CVM;
        if termination_registered {
            self.set_released(i);
            self.set_terminated(i);
            self.set_instance_state(i, InstanceState::Failed, Cause::Terminated);
            return;
        }
        let job = self.tasks[self.instances[i as usize].task as usize].job;
        match self.cfg.jobs[job as usize].state_if_create_cvm_failed {
            CreateFailedState::Failed => self.set_instance_state(i, InstanceState::Failed, Cause::CvmLaunchFailed),
            CreateFailedState::Runnable => self.make_runnable(i, Cause::CvmLaunchFailed),
        }
    }

    /// Asks for a terminate call; a CVM already asked for is left alone.
    pub(super) fn request_cvm_termination(&mut self, c: u32) {
        let cvm = &mut self.cvms[c as usize];
        if cvm.flags & TERMINATE_REQUESTED != 0 {
            return;
        }
        cvm.flags |= TERMINATE_REQUESTED;
        self.enqueue_call(CallKind::Terminate, Call::Terminate(c));
    }

    fn make_terminate_call(&mut self, c: u32) {
        self.set_cvm_state(c, CvmState::ShuttingDown, Cause::TerminateCall);
        let delay = self.cfg.backend.cvm.termination_delay.sample(&mut self.rng.termination_delay);
        self.schedule(delay, Event::CvmTerminationDone(c));
    }

    pub(super) fn cvm_termination_done(&mut self, c: u32) {
        self.set_cvm_state(c, CvmState::Terminated, Cause::Terminated);
        if let Owner::Instance(i) = self.cvms[c as usize].owner() {
            let inst = &self.instances[i as usize];
            if inst.cvm == c && inst.is_being_terminated() {
                self.termination_complete(i);
            }
        }
        self.release_quota(-1);
    }

    /// The CVM was interrupted (e.g. a spot CVM reclaimed): gone at once. The caller gives the
    /// quota back once the instance has reacted, so that the rows read in causal order.
    pub(super) fn cvm_reclaimed(&mut self, c: u32) {
        self.set_cvm_state(c, CvmState::Terminated, Cause::Interrupted);
    }

    /// The CVM of an instance being terminated is gone: the instance is `FAILED` now.
    pub(super) fn termination_complete(&mut self, i: u32) {
        self.instances[i as usize].cvm = NO_CVM;
        self.set_released(i);
        self.set_terminated(i);
        debug_assert!(matches!(self.instances[i as usize].path, TerminationPath::Cvm | TerminationPath::Bypass));
        self.set_instance_state(i, InstanceState::Failed, Cause::Terminated);
    }

    pub(super) fn restart_node(&mut self, c: u32) {
        self.set_cvm_state(c, CvmState::Rebooting, Cause::Restart);
        let delay = self.cfg.backend.cvm.restart_delay.sample(&mut self.rng.restart_delay);
        self.schedule(delay, Event::NodeRestarted(c));
    }

    pub(super) fn node_restarted(&mut self, c: u32) {
        self.set_cvm_state(c, CvmState::Running, Cause::Restarted);
        self.node_freed(c);
    }
}
