//! The states of the model's entities, with the names the outputs use.

/// A task instance's state (SubmitJob / DescribeJob vocabulary). Jobs and tasks show the same
/// names, derived from their instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceState {
    Submitted,
    Pending,
    Runnable,
    Starting,
    Running,
    Succeed,
    Failed,
    FailedInterrupted,
}

impl InstanceState {
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

    pub fn is_final(self) -> bool {
        matches!(self, InstanceState::Succeed | InstanceState::Failed)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A CVM's state (DescribeInstances vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvmState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Rebooting,
    LaunchFailed,
}

impl CvmState {
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
    pub const ALL: [TerminationPath; 7] = [
        TerminationPath::None,
        TerminationPath::NoOp,
        TerminationPath::Immediate,
        TerminationPath::Cvm,
        TerminationPath::Bypass,
        TerminationPath::Restart,
        TerminationPath::Rejected,
    ];

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
