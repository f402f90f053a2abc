//! The API's vocabulary: its actions and its error codes, with the names the wire and the
//! outputs use. A leaf: it imports nothing of termsim, so that the model, the scenario checks and
//! the outputs all spell an action or a code through it and never as a literal of their own.

/// An action of the public API that the model answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Batch: terminate one task instance (seeds 000 and 002).
    TerminateTaskInstance,
    /// Batch: terminate every instance of a job, asynchronously (seed 001).
    TerminateJob,
    /// Data Lake Compute: cancel a task (seed 003).
    CancelTask,
    /// TencentCloud Automation Tools: cancel a command's invocation (seed 004).
    CancelInvocation,
    /// Batch: a job's state, its tasks' and the counts of its instances' (SPEC §7).
    DescribeJob,
    /// Batch: several jobs' states (SPEC §7).
    DescribeJobs,
    /// Batch: a task's state and its instances' (SPEC §7).
    DescribeTask,
    /// Data Lake Compute: tasks' states (SPEC §7).
    DescribeTasks,
    /// Data Lake Compute: one task's state and result (SPEC §7).
    DescribeTaskResult,
    /// TencentCloud Automation Tools: invocations' statuses (SPEC §7).
    DescribeInvocations,
    /// TencentCloud Automation Tools: invocation tasks' statuses, one per instance (SPEC §7).
    DescribeInvocationTasks,
}

impl Action {
    /// How many actions there are: the length of per-action tables.
    pub const COUNT: usize = 11;
    /// Every action, in the order of [`Action::index`].
    pub const ALL: [Action; Action::COUNT] = [
        Action::TerminateTaskInstance,
        Action::TerminateJob,
        Action::CancelTask,
        Action::CancelInvocation,
        Action::DescribeJob,
        Action::DescribeJobs,
        Action::DescribeTask,
        Action::DescribeTasks,
        Action::DescribeTaskResult,
        Action::DescribeInvocations,
        Action::DescribeInvocationTasks,
    ];

    /// The action's position in per-action tables (limits, limiters).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The action's name on the wire and in `requests.csv`.
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::TerminateTaskInstance => "TerminateTaskInstance",
            Action::TerminateJob => "TerminateJob",
            Action::CancelTask => "CancelTask",
            Action::CancelInvocation => "CancelInvocation",
            Action::DescribeJob => "DescribeJob",
            Action::DescribeJobs => "DescribeJobs",
            Action::DescribeTask => "DescribeTask",
            Action::DescribeTasks => "DescribeTasks",
            Action::DescribeTaskResult => "DescribeTaskResult",
            Action::DescribeInvocations => "DescribeInvocations",
            Action::DescribeInvocationTasks => "DescribeInvocationTasks",
        }
    }

    /// The documented default limit, in calls per second (seeds 000 to 003; the Describe calls'
    /// from serve-wire.md §6, 20/s where the documentation gives none).
    pub fn default_limit(self) -> u32 {
        match self {
            Action::TerminateTaskInstance | Action::TerminateJob | Action::DescribeJobs => 2,
            Action::CancelTask
            | Action::CancelInvocation
            | Action::DescribeTask
            | Action::DescribeTaskResult
            | Action::DescribeInvocations
            | Action::DescribeInvocationTasks => 20,
            Action::DescribeJob => 50,
            Action::DescribeTasks => 500,
        }
    }

    /// Whether the call only reads the state: it changes nothing but the rate limiter's count.
    pub fn is_describe(self) -> bool {
        self.index() >= Action::DescribeJob.index()
    }

    /// The service that answers the action, as the credential scope of a signed call names it.
    pub const fn service(self) -> &'static str {
        match self {
            Action::TerminateTaskInstance
            | Action::TerminateJob
            | Action::DescribeJob
            | Action::DescribeJobs
            | Action::DescribeTask => "batch",
            Action::CancelTask | Action::DescribeTasks | Action::DescribeTaskResult => "dlc",
            Action::CancelInvocation | Action::DescribeInvocations | Action::DescribeInvocationTasks => "tat",
        }
    }
}

/// An error code the API answers with (the seeds' error tables); [`ErrorCode::as_str`] is its
/// name on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    /// `InternalError`: injected at `api.internal_error_rate`.
    InternalError,
    /// `InvalidParameter.JobIdMalformed`: a job id not of the `job-` + 8 form.
    InvalidParameterJobIdMalformed,
    /// `RequestLimitExceeded`: over the account's limit for the action.
    RequestLimitExceeded,
    /// `ResourceInUse.Job`: a TerminateJob while the job's termination is in progress.
    ResourceInUseJob,
    /// `ResourceNotFound.Job`: TerminateJob of a job the service does not know.
    ResourceNotFoundJob,
    /// `ResourceNotFound.TaskInstance`: no such job, task or index.
    ResourceNotFoundTaskInstance,
    /// `UnsupportedOperation`: TerminateJob of a job still `SUBMITTED`.
    UnsupportedOperation,
    /// `UnsupportedOperation.TerminateOperationWithEnvId`: a named environment under `reject`.
    UnsupportedOperationTerminateOperationWithEnvId,
    /// `FailedOperation.AnotherRequestProcessing`: CancelTask while an earlier cancel is in
    /// progress.
    FailedOperationAnotherRequestProcessing,
    /// `InvalidParameter.InvalidTaskId`: a malformed or unknown DLC `TaskId`.
    InvalidParameterInvalidTaskId,
    /// `InvalidParameter.TaskAlreadyFinished`: CancelTask of a finished DLC task.
    InvalidParameterTaskAlreadyFinished,
    /// `InvalidParameterValue.InstanceIsNotRelatedToInvocation`: an instance id not in the
    /// invocation.
    InvalidParameterValueInstanceIsNotRelatedToInvocation,
    /// `InvalidParameterValue.InvalidInvocationId`: an invocation id not of the `inv-` + 8 form.
    InvalidParameterValueInvalidInvocationId,
    /// `InvalidParameterValue.LimitExceeded`: more than 100 `InstanceIds`.
    InvalidParameterValueLimitExceeded,
    /// `ResourceNotFound.InvocationNotFound`: an invocation the service does not know (yet).
    ResourceNotFoundInvocationNotFound,
    /// `ResourceNotFound.Task`: DescribeTask of a task the job does not have.
    ResourceNotFoundTask,
}

impl ErrorCode {
    /// Every code, in the order of the summary's `requests.by_error` table.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::InternalError,
        ErrorCode::InvalidParameterJobIdMalformed,
        ErrorCode::RequestLimitExceeded,
        ErrorCode::ResourceInUseJob,
        ErrorCode::ResourceNotFoundJob,
        ErrorCode::ResourceNotFoundTaskInstance,
        ErrorCode::UnsupportedOperation,
        ErrorCode::UnsupportedOperationTerminateOperationWithEnvId,
        ErrorCode::FailedOperationAnotherRequestProcessing,
        ErrorCode::InvalidParameterInvalidTaskId,
        ErrorCode::InvalidParameterTaskAlreadyFinished,
        ErrorCode::InvalidParameterValueInstanceIsNotRelatedToInvocation,
        ErrorCode::InvalidParameterValueInvalidInvocationId,
        ErrorCode::InvalidParameterValueLimitExceeded,
        ErrorCode::ResourceNotFoundInvocationNotFound,
        ErrorCode::ResourceNotFoundTask,
    ];

    /// The code's name on the wire and in `requests.csv`, e.g. `ResourceNotFound.Job`.
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InternalError => "InternalError",
            ErrorCode::InvalidParameterJobIdMalformed => "InvalidParameter.JobIdMalformed",
            ErrorCode::RequestLimitExceeded => "RequestLimitExceeded",
            ErrorCode::ResourceInUseJob => "ResourceInUse.Job",
            ErrorCode::ResourceNotFoundJob => "ResourceNotFound.Job",
            ErrorCode::ResourceNotFoundTaskInstance => "ResourceNotFound.TaskInstance",
            ErrorCode::UnsupportedOperation => "UnsupportedOperation",
            ErrorCode::UnsupportedOperationTerminateOperationWithEnvId => {
                "UnsupportedOperation.TerminateOperationWithEnvId"
            }
            ErrorCode::FailedOperationAnotherRequestProcessing => "FailedOperation.AnotherRequestProcessing",
            ErrorCode::InvalidParameterInvalidTaskId => "InvalidParameter.InvalidTaskId",
            ErrorCode::InvalidParameterTaskAlreadyFinished => "InvalidParameter.TaskAlreadyFinished",
            ErrorCode::InvalidParameterValueInstanceIsNotRelatedToInvocation => {
                "InvalidParameterValue.InstanceIsNotRelatedToInvocation"
            }
            ErrorCode::InvalidParameterValueInvalidInvocationId => "InvalidParameterValue.InvalidInvocationId",
            ErrorCode::InvalidParameterValueLimitExceeded => "InvalidParameterValue.LimitExceeded",
            ErrorCode::ResourceNotFoundInvocationNotFound => "ResourceNotFound.InvocationNotFound",
            ErrorCode::ResourceNotFoundTask => "ResourceNotFound.Task",
        }
    }

    /// Errors a client retries (§1.7a); the others are final.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::RequestLimitExceeded | ErrorCode::InternalError)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
