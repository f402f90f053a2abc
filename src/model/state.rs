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

    /// The state an output names. Called for every instance row of a run's timeline, so it
    /// picks the candidate by length and first letter (unique among the eight) and compares once.
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

    /// The path an output names.
    pub fn parse(name: &str) -> Option<TerminationPath> {
        TerminationPath::ALL.into_iter().find(|p| p.as_str() == name)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

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
