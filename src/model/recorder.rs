//! What the model reports as it runs. Outputs implement [`Recorder`]; the model never formats
//! a string or touches a file.

use crate::engine::SimTime;

use super::state::{Cause, State};
use super::vocabulary::{Action, ErrorCode};

/// An entity whose state changed. Every id is an index into the model's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A job (index into `Config::jobs`).
    Job(u32),
    /// A task (global task index: every job's tasks, in file order).
    Task(u32),
    /// A task instance (global index, in file order: job, task, index).
    Instance(u32),
    /// A CVM created for one task instance (anonymous environment).
    Cvm(u32),
    /// A CVM serving as a named environment's compute node.
    Node(u32),
    /// A DLC task (index into the scenario's `dlc.tasks`).
    DlcTask(u32),
    /// A TAT invocation task: one instance of an invocation (index into all invocations' tasks).
    TatTask(u32),
    /// A TAT invocation, its own status (index into the scenario's `tat.invocations`).
    TatInvocation(u32),
}

/// One API call, complete with its answer (the answer time is known when the call takes effect).
#[derive(Clone, Copy, Debug)]
pub struct RequestRecord {
    /// The n-th call of the run, from 0: the basis of its request id.
    pub number: u64,
    /// The client that sent it: index into `Config::clients`.
    pub client: u32,
    /// The API action called.
    pub action: Action,
    /// Position of the target in the client's list (the index list for TerminateTaskInstance).
    pub target: u32,
    /// 1 for the first attempt of a call, one more for each retry.
    pub attempt: u32,
    /// When the call was sent; it takes effect at that instant.
    pub sent: SimTime,
    /// When its answer reaches the client: `sent` plus the API latency.
    pub responded: SimTime,
    /// The code of the error it was answered with; `None` for `ok`.
    pub error: Option<ErrorCode>,
}

/// Counts of the resources that the charts and the quota figures follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// CVMs that exist: from the create call until `TERMINATED` or `LAUNCH_FAILED`.
    pub cvms_alive: u64,
    /// Quota held: live CVMs plus grants whose create call still waits in the backend's queue.
    pub quota_in_use: u64,
}

/// Receives what the model reports as it runs: state changes, API calls and occupancy.
pub trait Recorder {
    /// A state change; `from` is `None` for a new entity.
    fn state_change(&mut self, time: SimTime, entity: Entity, from: Option<State>, to: State, cause: Cause);

    /// An API call, at the instant it takes effect (its answer already decided).
    fn request(&mut self, request: &RequestRecord);

    /// Called whenever the number of live CVMs or the quota in use changes.
    fn occupancy(&mut self, _time: SimTime, _now: Occupancy) {}

    /// A call was added to trace client `client` during the run ([`super::Model::push_call`]),
    /// before any request of it is reported: a recorder that reads the configuration's clients
    /// learns it here.
    fn call_added(&mut self, _client: u32, _row: &super::config::TraceRow) {}
}

/// Records nothing: for benchmarks and for runs that only want the final state.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullRecorder;

impl Recorder for NullRecorder {
    fn state_change(&mut self, _: SimTime, _: Entity, _: Option<State>, _: State, _: Cause) {}
    fn request(&mut self, _: &RequestRecord) {}
}
