//! The API's vocabulary: its actions and its error codes, with the names the wire and the
//! outputs use. A leaf: it imports nothing of termsim, so that the model, the scenario checks and
//! the outputs all spell an action or a code through it and never as a literal of their own.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    TerminateTaskInstance,
    TerminateJob,
    CancelTask,
    CancelInvocation,
}

impl Action {
    pub const COUNT: usize = 4;
    pub const ALL: [Action; Action::COUNT] =
        [Action::TerminateTaskInstance, Action::TerminateJob, Action::CancelTask, Action::CancelInvocation];

    pub fn index(self) -> usize {
        self as usize
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::TerminateTaskInstance => "TerminateTaskInstance",
            Action::TerminateJob => "TerminateJob",
            Action::CancelTask => "CancelTask",
            Action::CancelInvocation => "CancelInvocation",
        }
    }

    /// The documented default limit, in calls per second (seeds 000 to 003).
    pub fn default_limit(self) -> u32 {
        match self {
            Action::TerminateTaskInstance | Action::TerminateJob => 2,
            Action::CancelTask | Action::CancelInvocation => 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    InternalError,
    InvalidParameterJobIdMalformed,
    RequestLimitExceeded,
    ResourceInUseJob,
    ResourceNotFoundJob,
    ResourceNotFoundTaskInstance,
    UnsupportedOperation,
    UnsupportedOperationTerminateOperationWithEnvId,
    FailedOperationAnotherRequestProcessing,
    InvalidParameterInvalidTaskId,
    InvalidParameterTaskAlreadyFinished,
    InvalidParameterValueInstanceIsNotRelatedToInvocation,
    InvalidParameterValueInvalidInvocationId,
    InvalidParameterValueLimitExceeded,
    ResourceNotFoundInvocationNotFound,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 15] = [
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
    ];

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
