//! The timeline's vocabulary: the states of the model's entities, why they change, and how a
//! task instance was terminated, with the names the outputs use. A leaf module: the model
//! records these values, and they become strings only where a file is written.

/// A task instance's state (SubmitJob / DescribeJob vocabulary). Jobs and tasks show the same
/// names, derived from their instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceState {
    /// Submitted; the job's `submit_delay` has not passed.
    Submitted,
    /// Waiting for the tasks it depends on.
    Pending,
    /// Waiting for quota and a CVM (anonymous environment) or for a free node (named).
    Runnable,
    /// Its CVM is being created (or its create call waits in the backend's queue).
    Starting,
    /// Running on its CVM or node.
    Running,
    /// Final: the run succeeded.
    Succeed,
    /// Final: the run failed for good, or the instance was terminated.
    Failed,
    /// The last run failed under `failed_action` `"INTERRUPT"`: not final, waiting for a person
    /// (or a termination).
    FailedInterrupted,
}

impl InstanceState {
    /// Every state, in the order of [`InstanceState::index`].
    pub const ALL: [InstanceState; 8] = [
        InstanceState::Submitted,
        InstanceState::Pending,
        InstanceState::Runnable,
        InstanceState::Starting,
        InstanceState::Running,
        InstanceState::Succeed,
        InstanceState::Failed,
        InstanceState::FailedInterrupted,
    ];

    /// The name in the outputs and the API, e.g. `FAILED_INTERRUPTED`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Submitted => "SUBMITTED",
            InstanceState::Pending => "PENDING",
            InstanceState::Runnable => "RUNNABLE",
            InstanceState::Starting => "STARTING",
            InstanceState::Running => "RUNNING",
            InstanceState::Succeed => "SUCCEED",
            InstanceState::Failed => "FAILED",
            InstanceState::FailedInterrupted => "FAILED_INTERRUPTED",
        }
    }

    /// `SUCCEED` or `FAILED`: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, InstanceState::Succeed | InstanceState::Failed)
    }

    /// The state an output names (`termsim plot` reads timelines back). Called for every
    /// instance row of a timeline, so it picks the candidate by length and first letter (unique among the eight) and compares once.
    #[inline]
    pub fn parse(name: &str) -> Option<InstanceState> {
        let candidate = match (name.len(), name.as_bytes().first()?) {
            (9, b'S') => InstanceState::Submitted,
            (7, b'P') => InstanceState::Pending,
            (8, b'R') => InstanceState::Runnable,
            (8, b'S') => InstanceState::Starting,
            (7, b'R') => InstanceState::Running,
            (7, b'S') => InstanceState::Succeed,
            (6, b'F') => InstanceState::Failed,
            (18, b'F') => InstanceState::FailedInterrupted,
            _ => return None,
        };
        (candidate.as_str() == name).then_some(candidate)
    }

    /// The state's position in per-state count tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A CVM's state (DescribeInstances vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvmState {
    /// Being created (`creation_delay`).
    Pending,
    /// Created: running an instance, or a node in its pool.
    Running,
    /// The terminate call was made (`termination_delay`).
    ShuttingDown,
    /// Gone; its quota is free.
    Terminated,
    /// A named environment's node restarting (`restart_delay`).
    Rebooting,
    /// The creation failed; its quota is free.
    LaunchFailed,
}

impl CvmState {
    /// Every state, in declaration order: `s as usize` is its place here.
    pub const ALL: [CvmState; 6] = [
        CvmState::Pending,
        CvmState::Running,
        CvmState::ShuttingDown,
        CvmState::Terminated,
        CvmState::Rebooting,
        CvmState::LaunchFailed,
    ];

    /// The name in `timeline.csv`, e.g. `SHUTTING_DOWN`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            CvmState::Pending => "PENDING",
            CvmState::Running => "RUNNING",
            CvmState::ShuttingDown => "SHUTTING_DOWN",
            CvmState::Terminated => "TERMINATED",
            CvmState::Rebooting => "REBOOTING",
            CvmState::LaunchFailed => "LAUNCH_FAILED",
        }
    }

    /// A CVM holds quota until it is gone.
    pub fn is_gone(self) -> bool {
        matches!(self, CvmState::Terminated | CvmState::LaunchFailed)
    }
}

/// How a task instance was terminated: the `path` column of `instances.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TerminationPath {
    /// Never covered by an accepted (or rejected) termination request.
    None,
    /// Already `SUCCEED` or `FAILED`: nothing happened.
    NoOp,
    /// `SUBMITTED`, `PENDING` or `RUNNABLE`: `FAILED` at once.
    Immediate,
    /// The CVM was terminated first, then the instance became `FAILED`.
    Cvm,
    /// The CVM was still being created: the bypass terminated it once created.
    Bypass,
    /// Named environment under `restart_cvm`: `FAILED` at once, the node restarted.
    Restart,
    /// Named environment under `reject`: `UnsupportedOperation.TerminateOperationWithEnvId`.
    Rejected,
}

impl TerminationPath {
    /// Every path, in the order of the summary's counts.
    pub const ALL: [TerminationPath; 7] = [
        TerminationPath::None,
        TerminationPath::NoOp,
        TerminationPath::Immediate,
        TerminationPath::Cvm,
        TerminationPath::Bypass,
        TerminationPath::Restart,
        TerminationPath::Rejected,
    ];

    /// The path an output names.
    pub fn parse(name: &str) -> Option<TerminationPath> {
        TerminationPath::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The name in `instances.csv` and `summary.json`, e.g. `no_op`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationPath::None => "none",
            TerminationPath::NoOp => "no_op",
            TerminationPath::Immediate => "immediate",
            TerminationPath::Cvm => "cvm",
            TerminationPath::Bypass => "bypass",
            TerminationPath::Restart => "restart",
            TerminationPath::Rejected => "rejected",
        }
    }
}

/// A DLC task's state, with the SDK's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DlcState {
    /// SDK state `4`.
    Queued,
    /// SDK state `0`.
    Initializing,
    /// SDK state `1`.
    Running,
    /// SDK state `3`.
    WritingData,
    /// SDK state `2`: final.
    Succeeded,
    /// SDK state `-1`: final.
    Failed,
    /// SDK state `-3`: final, after an accepted CancelTask and its `cancel_delay`.
    Cancelled,
}

impl DlcState {
    /// Every state, in declaration order: `s as usize` is its place here.
    pub const ALL: [DlcState; 7] = [
        DlcState::Queued,
        DlcState::Initializing,
        DlcState::Running,
        DlcState::WritingData,
        DlcState::Succeeded,
        DlcState::Failed,
        DlcState::Cancelled,
    ];

    /// The name timeline rows use.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            DlcState::Queued => "QUEUED",
            DlcState::Initializing => "INITIALIZING",
            DlcState::Running => "RUNNING",
            DlcState::WritingData => "WRITING_DATA",
            DlcState::Succeeded => "SUCCEEDED",
            DlcState::Failed => "FAILED",
            DlcState::Cancelled => "CANCELLED",
        }
    }

    /// The number the SDK reports.
    pub fn sdk_code(self) -> i8 {
        match self {
            DlcState::Queued => 4,
            DlcState::Initializing => 0,
            DlcState::Running => 1,
            DlcState::WritingData => 3,
            DlcState::Succeeded => 2,
            DlcState::Failed => -1,
            DlcState::Cancelled => -3,
        }
    }

    /// Succeeded, failed or cancelled: CancelTask answers `InvalidParameter.TaskAlreadyFinished`.
    pub fn is_final(self) -> bool {
        matches!(self, DlcState::Succeeded | DlcState::Failed | DlcState::Cancelled)
    }
}

/// A TAT invocation task's state (DescribeInvocationTasks vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TatTaskState {
    /// Waiting to be delivered (`pending`).
    Pending,
    /// Being delivered to the instance (`delivery`).
    Delivering,
    /// Delivery delayed (`deliver_delayed_extra`), then `DELIVERING`.
    DeliverDelayed,
    /// The command runs (`runtime`, at most `timeout`).
    Running,
    /// Final: the command ended.
    Success,
    /// Final: the command ran past its `timeout`.
    Timeout,
    /// Final: the command failed (the invocation's `failure_rate`).
    Failed,
    /// Final: delivery failed.
    DeliverFailed,
    /// A cancel is killing the running command (`kill_delay`).
    Cancelling,
    /// Final: cancelled before it was delivered.
    Cancelled,
    /// Final: cancelled while running, once killed.
    Terminated,
}

impl TatTaskState {
    /// Every state, in declaration order: `s as usize` is its place here.
    pub const ALL: [TatTaskState; 11] = [
        TatTaskState::Pending,
        TatTaskState::Delivering,
        TatTaskState::DeliverDelayed,
        TatTaskState::Running,
        TatTaskState::Success,
        TatTaskState::Timeout,
        TatTaskState::Failed,
        TatTaskState::DeliverFailed,
        TatTaskState::Cancelling,
        TatTaskState::Cancelled,
        TatTaskState::Terminated,
    ];

    /// The name in `timeline.csv` and `cancellations.csv`, e.g. `DELIVER_DELAYED`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            TatTaskState::Pending => "PENDING",
            TatTaskState::Delivering => "DELIVERING",
            TatTaskState::DeliverDelayed => "DELIVER_DELAYED",
            TatTaskState::Running => "RUNNING",
            TatTaskState::Success => "SUCCESS",
            TatTaskState::Timeout => "TIMEOUT",
            TatTaskState::Failed => "FAILED",
            TatTaskState::DeliverFailed => "DELIVER_FAILED",
            TatTaskState::Cancelling => "CANCELLING",
            TatTaskState::Cancelled => "CANCELLED",
            TatTaskState::Terminated => "TERMINATED",
        }
    }

    /// Nothing changes it any more; a cancel leaves it as it is.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TatTaskState::Success
                | TatTaskState::Timeout
                | TatTaskState::Failed
                | TatTaskState::DeliverFailed
                | TatTaskState::Cancelled
                | TatTaskState::Terminated
        )
    }

    pub(super) fn is_undelivered(self) -> bool {
        matches!(self, TatTaskState::Pending | TatTaskState::Delivering | TatTaskState::DeliverDelayed)
    }
}

/// A TAT invocation's own status, derived from its tasks (DescribeInvocations vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationStatus {
    /// Not every task is final, and none is or has been `RUNNING`.
    Pending,
    /// Not every task is final, and some task is or has been `RUNNING` (none is `CANCELLING`).
    Running,
    /// Some task is `CANCELLING`.
    Cancelling,
    /// Final: every task succeeded.
    Success,
    /// Final: every task `FAILED` or `DELIVER_FAILED`.
    Failed,
    /// Final: every task timed out.
    Timeout,
    /// Final: every task was cancelled or terminated.
    Cancelled,
    /// Final: none of the above, and no task was cancelled or terminated.
    PartialFailed,
    /// Final: none of the above, and some task was cancelled or terminated.
    PartialCancelled,
}

impl InvocationStatus {
    /// Every state, in declaration order: `s as usize` is its place here.
    pub const ALL: [InvocationStatus; 9] = [
        InvocationStatus::Pending,
        InvocationStatus::Running,
        InvocationStatus::Cancelling,
        InvocationStatus::Success,
        InvocationStatus::Failed,
        InvocationStatus::Timeout,
        InvocationStatus::Cancelled,
        InvocationStatus::PartialFailed,
        InvocationStatus::PartialCancelled,
    ];

    /// The name in `timeline.csv`, e.g. `PARTIAL_CANCELLED`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationStatus::Pending => "PENDING",
            InvocationStatus::Running => "RUNNING",
            InvocationStatus::Cancelling => "CANCELLING",
            InvocationStatus::Success => "SUCCESS",
            InvocationStatus::Failed => "FAILED",
            InvocationStatus::Timeout => "TIMEOUT",
            InvocationStatus::Cancelled => "CANCELLED",
            InvocationStatus::PartialFailed => "PARTIAL_FAILED",
            InvocationStatus::PartialCancelled => "PARTIAL_CANCELLED",
        }
    }
}

/// A state of any entity of the timeline: what a row's `from` and `to` hold. Two bytes, so that
/// the rows the model hands to the writers stay small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Of a job, a task or a task instance.
    Instance(InstanceState),
    /// Of a CVM or a node.
    Cvm(CvmState),
    /// Of a DLC task.
    Dlc(DlcState),
    /// Of a TAT invocation task.
    TatTask(TatTaskState),
    /// Of a TAT invocation.
    Invocation(InvocationStatus),
}

impl State {
    /// How many states there are, of every kind: [`State::index`] is below it.
    pub const COUNT: usize = InstanceState::ALL.len()
        + CvmState::ALL.len()
        + DlcState::ALL.len()
        + TatTaskState::ALL.len()
        + InvocationStatus::ALL.len();

    /// A number for each state of each kind, from 0 to [`State::COUNT`], in the order of
    /// [`State::all`]: a Parquet column of states is keyed by it.
    #[inline]
    pub fn index(self) -> usize {
        const CVM: usize = InstanceState::ALL.len();
        const DLC: usize = CVM + CvmState::ALL.len();
        const TAT_TASK: usize = DLC + DlcState::ALL.len();
        const INVOCATION: usize = TAT_TASK + TatTaskState::ALL.len();
        match self {
            State::Instance(s) => s as usize,
            State::Cvm(s) => CVM + s as usize,
            State::Dlc(s) => DLC + s as usize,
            State::TatTask(s) => TAT_TASK + s as usize,
            State::Invocation(s) => INVOCATION + s as usize,
        }
    }

    /// Every state of every kind, in the order of [`State::index`].
    pub fn all() -> impl Iterator<Item = State> {
        let instance = InstanceState::ALL.into_iter().map(State::Instance);
        let cvm = CvmState::ALL.into_iter().map(State::Cvm);
        let dlc = DlcState::ALL.into_iter().map(State::Dlc);
        let tat = TatTaskState::ALL.into_iter().map(State::TatTask);
        instance.chain(cvm).chain(dlc).chain(tat).chain(InvocationStatus::ALL.into_iter().map(State::Invocation))
    }

    /// The name in `timeline.csv`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Instance(s) => s.as_str(),
            State::Cvm(s) => s.as_str(),
            State::Dlc(s) => s.as_str(),
            State::TatTask(s) => s.as_str(),
            State::Invocation(s) => s.as_str(),
        }
    }
}

macro_rules! state_from {
    ($($kind:ident($t:ty)),*) => {$(
        impl From<$t> for State {
            fn from(s: $t) -> State {
                State::$kind(s)
            }
        }
    )*};
}
state_from!(Instance(InstanceState), Cvm(CvmState), Dlc(DlcState), TatTask(TatTaskState), Invocation(InvocationStatus));

/// Why a state changed: the `cause` column of `timeline.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A job and its tasks and instances, or a DLC task, appeared; or a task's instances are
    /// released once the job is submitted.
    Submitted,
    /// The job's submit delay is over: `PENDING`.
    SubmitDelay,
    /// Every task the instance's task depends on has succeeded.
    DependenciesMet,
    /// A task it depends on ended with a `FAILED` instance.
    DependencyFailed,
    /// The CVM create call was made.
    CvmCreating,
    /// The instance's CVM is `RUNNING`: so is the instance.
    CvmRunning,
    /// The creation ended `LAUNCH_FAILED`.
    CvmLaunchFailed,
    /// A named environment's node was assigned.
    NodeAssigned,
    /// The run ended well.
    RunSucceeded,
    /// The run failed (`failure_rate`), or a DLC task failed.
    RunFailed,
    /// A failed run starts again.
    Retry,
    /// The cloud reclaimed the CVM.
    Interrupted,
    /// A termination (or cancel) completed.
    Terminated,
    /// A CVM: the create call was made.
    CreateCall,
    /// A CVM: the creation completed.
    Created,
    /// A CVM: the creation ended `LAUNCH_FAILED`.
    CreationFailed,
    /// A CVM: the terminate call was made.
    TerminateCall,
    /// A node restarts (`restart_cvm`).
    Restart,
    /// A node is back from its restart.
    Restarted,
    /// DLC: the time in a state is up.
    StageDone,
    /// DLC, TAT: the task succeeded.
    Succeeded,
    /// DLC, TAT: cancelled.
    Cancelled,
    /// TAT: the invocation started.
    Invoked,
    /// TAT: delivery started.
    Delivering,
    /// TAT: delivery was delayed.
    DeliveryDelayed,
    /// TAT: delivery failed.
    DeliveryFailed,
    /// TAT: delivered, the command runs.
    Delivered,
    /// TAT: the command ran past its timeout.
    Timeout,
    /// TAT: a cancel reached a running command.
    CancelRequested,
    /// TAT: the running command was killed.
    Killed,
}

impl Cause {
    /// Every cause, in declaration order: `c as usize` is its place here.
    pub const ALL: [Cause; 30] = [
        Cause::Submitted,
        Cause::SubmitDelay,
        Cause::DependenciesMet,
        Cause::DependencyFailed,
        Cause::CvmCreating,
        Cause::CvmRunning,
        Cause::CvmLaunchFailed,
        Cause::NodeAssigned,
        Cause::RunSucceeded,
        Cause::RunFailed,
        Cause::Retry,
        Cause::Interrupted,
        Cause::Terminated,
        Cause::CreateCall,
        Cause::Created,
        Cause::CreationFailed,
        Cause::TerminateCall,
        Cause::Restart,
        Cause::Restarted,
        Cause::StageDone,
        Cause::Succeeded,
        Cause::Cancelled,
        Cause::Invoked,
        Cause::Delivering,
        Cause::DeliveryDelayed,
        Cause::DeliveryFailed,
        Cause::Delivered,
        Cause::Timeout,
        Cause::CancelRequested,
        Cause::Killed,
    ];

    /// The name in `timeline.csv`, e.g. `cvm_creating`.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Submitted => "submitted",
            Cause::SubmitDelay => "submit_delay",
            Cause::DependenciesMet => "dependencies_met",
            Cause::DependencyFailed => "dependency_failed",
            Cause::CvmCreating => "cvm_creating",
            Cause::CvmRunning => "cvm_running",
            Cause::CvmLaunchFailed => "cvm_launch_failed",
            Cause::NodeAssigned => "node_assigned",
            Cause::RunSucceeded => "run_succeeded",
            Cause::RunFailed => "run_failed",
            Cause::Retry => "retry",
            Cause::Interrupted => "interrupted",
            Cause::Terminated => "terminated",
            Cause::CreateCall => "create_call",
            Cause::Created => "created",
            Cause::CreationFailed => "creation_failed",
            Cause::TerminateCall => "terminate_call",
            Cause::Restart => "restart",
            Cause::Restarted => "restarted",
            Cause::StageDone => "stage_done",
            Cause::Succeeded => "succeeded",
            Cause::Cancelled => "cancelled",
            Cause::Invoked => "invoked",
            Cause::Delivering => "delivering",
            Cause::DeliveryDelayed => "delivery_delayed",
            Cause::DeliveryFailed => "delivery_failed",
            Cause::Delivered => "delivered",
            Cause::Timeout => "timeout",
            Cause::CancelRequested => "cancel_requested",
            Cause::Killed => "killed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_causes_are_numbered_densely_in_the_order_of_all() {
        assert_eq!(State::all().count(), State::COUNT);
        for (i, s) in State::all().enumerate() {
            assert_eq!(s.index(), i, "{s:?}");
        }
        for (i, c) in Cause::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn every_state_and_path_parses_back_from_its_name() {
        for s in InstanceState::ALL {
            assert_eq!(InstanceState::parse(s.as_str()), Some(s));
        }
        for p in TerminationPath::ALL {
            assert_eq!(TerminationPath::parse(p.as_str()), Some(p));
        }
        for bad in ["", "FAILEDX", "Running", "SUCCEEDED", "RUNNABLE "] {
            assert_eq!(InstanceState::parse(bad), None, "{bad}");
        }
        assert_eq!(TerminationPath::parse("CVM"), None);
    }
}
