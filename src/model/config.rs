//! The model's input: plain data with every default already filled in and every reference
//! resolved to an index. The `scenario` module builds it from a file; tests and benches may build
//! it directly.

use std::sync::Arc;

use crate::engine::{Delay, SimTime};

use super::vocabulary::Action;

/// A scenario as the model runs it: times in microseconds ([`SimTime`]), call rates per second.
#[derive(Clone, Debug)]
pub struct Config {
    /// Names the run; outputs go to `results/<name>/` by default.
    pub name: String,
    /// Seeds every random stream; each component draws from its own (SPEC §1.1).
    pub seed: u64,
    /// Events after this instant are not run.
    pub horizon: SimTime,
    /// The termination backend and the services it calls.
    pub backend: Backend,
    /// Named compute environments, in file order; [`EnvRef::Named`] indexes them.
    pub environments: Vec<Environment>,
    /// Batch jobs (SPEC §1.2), in file order.
    pub jobs: Vec<Job>,
    /// Callers of the API (SPEC §1.7a), in file order, which is also the order of their calls due
    /// at the same instant.
    pub clients: Vec<Client>,
    /// DLC tasks (SPEC §1.8), in file order.
    pub dlc_tasks: Vec<DlcTask>,
    /// TAT invocations (SPEC §1.9), in file order.
    pub tat_invocations: Vec<TatInvocation>,
}

/// A TAT invocation: a command run on up to 100 instances, one invocation task each.
#[derive(Clone, Debug)]
pub struct TatInvocation {
    /// `inv-` + 8, checked by the loader.
    pub id: String,
    /// When the invocation starts: its tasks are `PENDING`.
    pub at: SimTime,
    /// `ins-` + 8 each, 1 to 100, distinct.
    pub instances: Vec<String>,
    /// Time each task spends `PENDING`.
    pub pending: Delay,
    /// Time each task spends `DELIVERING`.
    pub delivery: Delay,
    /// Share of tasks that spend `deliver_delayed_extra` in `DELIVER_DELAYED` before delivering.
    pub deliver_delayed_rate: f64,
    /// Time a delayed task spends in `DELIVER_DELAYED`.
    pub deliver_delayed_extra: Delay,
    /// Share of tasks whose delivery ends `DELIVER_FAILED`.
    pub deliver_failed_rate: f64,
    /// How long the command runs once `RUNNING`.
    pub runtime: Delay,
    /// Each task's probability of ending `FAILED` at the end of `runtime` (not if it times out).
    pub failure_rate: f64,
    /// A run longer than this ends `TIMEOUT` at this point.
    pub timeout: SimTime,
    /// From CancelInvocation to `TERMINATED` for a task that was `RUNNING`.
    pub kill_delay: Delay,
}

/// A DLC task: the time it spends in each state, and how it fails and is cancelled.
#[derive(Clone, Debug)]
pub struct DlcTask {
    /// A UUID, checked by the loader.
    pub id: String,
    /// When the task appears, `QUEUED`.
    pub submit_at: SimTime,
    /// Time spent `QUEUED` (state 4).
    pub queued: Delay,
    /// Time spent `INITIALIZING` (state 0).
    pub initializing: Delay,
    /// Time spent `RUNNING` (state 1).
    pub running: Delay,
    /// Time spent `WRITING_DATA` (state 3), before `SUCCEEDED`.
    pub writing_data: Delay,
    /// Share of tasks that end `FAILED` at the end of `running`.
    pub failure_rate: f64,
    /// From an accepted CancelTask to `CANCELLED`.
    pub cancel_delay: Delay,
}

/// The termination backend and the services it calls (SPEC §1.3 to §1.7).
#[derive(Clone, Debug)]
pub struct Backend {
    /// The public API: latency, rate limits and injected faults.
    pub api: Api,
    /// The CVM service the backend calls.
    pub cvm: Cvm,
    /// `None`: no quota limit.
    pub quota_max_cvms: Option<u64>,
    /// Sampled once per job: all of a job's instances become `PENDING` together.
    pub submit_delay: Delay,
    /// The bypass polls at whole multiples of this; zero: at the instant creation completes
    /// (SPEC §1.4).
    pub bypass_poll_interval: SimTime,
    /// Worker time spent on each task instance of a terminated job (SPEC §1.5).
    pub job_termination_per_instance: SimTime,
    /// Worker time on entering each task of a terminated job.
    pub job_termination_per_task: SimTime,
    /// TerminateJob workers shared by all jobs, FIFO; at least 1.
    pub job_termination_workers: u32,
    /// What a termination does in a named environment.
    pub named_env_termination: NamedEnvPolicy,
}

/// The public API (SPEC §1.7).
#[derive(Clone, Debug)]
pub struct Api {
    /// From a call to its answer reaching the client; the call takes effect when sent.
    pub latency: Delay,
    /// How [`Api::limits`] are counted.
    pub rate_limit: RateLimitAlgorithm,
    /// Calls per second per account, indexed by [`Action::index`].
    pub limits: [u32; Action::COUNT],
    /// Share of calls, past the rate limit, answered `InternalError`.
    pub internal_error_rate: f64,
}

/// How a limit of N calls per second, per account and per action, is enforced (SPEC §1.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitAlgorithm {
    /// At most N accepted calls in each simulated second `[k s, k+1 s)`.
    FixedWindow,
    /// A bucket of N tokens, full at the start, refilled at N per second.
    TokenBucket,
}

/// The CVM service: how long its operations take and how they fail (SPEC §1.3, §1.6).
#[derive(Clone, Debug)]
pub struct Cvm {
    /// From the create call to `RUNNING` (or `LAUNCH_FAILED`).
    pub creation_delay: Delay,
    /// Share of creations that end `LAUNCH_FAILED`.
    pub creation_failure_rate: f64,
    /// From the terminate call to `TERMINATED`.
    pub termination_delay: Delay,
    /// A named environment's node restart, under [`NamedEnvPolicy::RestartCvm`].
    pub restart_delay: Delay,
    /// Hazard rate, per hour, at which the cloud reclaims a CVM running a task (SPEC §1.7c).
    pub interruption_rate_per_hour: f64,
    /// Calls per second the backend may make to create CVMs; `None`: unlimited.
    pub create_rate_limit: Option<f64>,
    /// Calls per second the backend may make to terminate CVMs; `None`: unlimited.
    pub terminate_rate_limit: Option<f64>,
}

/// What TerminateTaskInstance and TerminateJob do in a named environment (SPEC §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedEnvPolicy {
    /// Refuse with `UnsupportedOperation.TerminateOperationWithEnvId` (seed 002).
    Reject,
    /// The instance is `FAILED` at once, then its node restarts and returns to the pool (seed 000).
    RestartCvm,
}

/// A named compute environment: a pool of long-lived nodes (SubmitJob's `EnvId`).
#[derive(Clone, Debug)]
pub struct Environment {
    /// `env-` + 8, checked by the loader.
    pub id: String,
    /// Compute nodes, created at time 0; at least 1.
    pub nodes: u32,
}

/// A Batch job: its tasks and where they run (SPEC §1.2).
#[derive(Clone, Debug)]
pub struct Job {
    /// `job-` + 8, checked by the loader.
    pub id: String,
    /// When the job's instances are `SUBMITTED`.
    pub submit_at: SimTime,
    /// The compute environment the job runs in.
    pub env: EnvRef,
    /// What a failed CVM creation does to an instance (SubmitJob's StateIfCreateCvmFailed).
    pub state_if_create_cvm_failed: CreateFailedState,
    /// At least one, in file order.
    pub tasks: Vec<Task>,
}

/// Where a job runs (SPEC §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvRef {
    /// SubmitJob's ComputeEnv: each task instance gets its own CVM, created on demand.
    Anonymous,
    /// Index into [`Config::environments`].
    Named(u32),
}

/// What happens to an instance whose CVM ends `LAUNCH_FAILED` (SPEC §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateFailedState {
    /// The instance is `FAILED`.
    Failed,
    /// The instance goes back to `RUNNABLE` and queues again.
    Runnable,
}

/// A task of a job: `instances` task instances that run alike.
#[derive(Clone, Debug)]
pub struct Task {
    /// Unique within the job.
    pub name: String,
    /// Task instances, indices `0..instances`; at least 1.
    pub instances: u32,
    /// How long a run takes once `RUNNING`.
    pub runtime: Delay,
    /// Share of runs that fail.
    pub failure_rate: f64,
    /// Times a failed run is retried (SubmitJob's MaxRetryCount).
    pub retry_count: u32,
    /// What the last failed run leads to (SubmitJob's FailedAction).
    pub failed_action: FailedAction,
    /// Indices into the job's `tasks`.
    pub depends_on: Vec<u32>,
}

/// What a task instance's last failed run leads to (SPEC §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedAction {
    /// `FAILED`, and the CVM is terminated.
    Terminate,
    /// `FAILED_INTERRUPTED`, and the CVM and its quota are kept until a termination succeeds.
    Interrupt,
}

/// A caller of the API (SPEC §1.7a).
#[derive(Clone, Debug)]
pub struct Client {
    /// Shown in `requests.csv`.
    pub name: String,
    /// The account the calls are made from; rate limits are per account.
    pub account: String,
    /// What the client calls, and when.
    pub kind: ClientKind,
    /// How failed calls are retried; `None`: one attempt per call.
    pub retry: Option<Retry>,
}

/// A client's calls, by client type.
#[derive(Clone, Debug)]
pub enum ClientKind {
    /// One TerminateJob at `at`.
    TerminateJob {
        /// When the call is sent.
        at: SimTime,
        /// The `JobId`, as written (may be malformed or unknown on purpose).
        job: String,
    },
    /// The i-th index of the list is sent at `at + i / rate`.
    TerminateTaskInstances {
        /// When the first call is sent.
        at: SimTime,
        /// The `JobId`, as written (may be malformed or unknown on purpose).
        job: String,
        /// The task name, as written (may be unknown on purpose).
        task: String,
        /// The indices to terminate, one call each.
        indices: IndexList,
        /// Calls per second; positive.
        rate: f64,
    },
    /// One DLC CancelTask at `at` (the id may be malformed or unknown on purpose).
    CancelTask {
        /// When the call is sent.
        at: SimTime,
        /// The DLC `TaskId`, as written.
        task_id: String,
    },
    /// One TAT CancelInvocation at `at`; `instances: None` cancels every task of the invocation.
    CancelInvocation {
        /// When the call is sent.
        at: SimTime,
        /// The TAT `InvocationId`, as written.
        invocation: String,
        /// The `InstanceIds`, as written.
        instances: Option<Vec<String>>,
    },
    /// A recorded sequence of calls, one per row of a trace CSV, in time order. Shared, so that
    /// the replications of a sweep do not copy it.
    Trace {
        /// The calls, one per row, in time order. A `Vec`, so that `termsim serve` can append
        /// the calls it receives ([`crate::model::Model::push_call`]).
        rows: Arc<Vec<TraceRow>>,
    },
}

/// One row of a trace: a call of any action, sent at `at`. A trace repeats the same few ids
/// over and over, so its strings are shared rather than owned by each row.
#[derive(Clone, Debug)]
pub struct TraceRow {
    /// When the call is sent: the row's `at_s` plus the client's `at`.
    pub at: SimTime,
    /// `None`: the client's account.
    pub account: Option<Arc<str>>,
    /// The action and its parameters.
    pub call: Call,
}

/// A call's parameters, as the caller wrote them (ids may be malformed or unknown on purpose).
#[derive(Clone, Debug)]
pub enum Call {
    /// Batch TerminateTaskInstance (seeds 000 and 002).
    TerminateTaskInstance {
        /// `JobId`.
        job: Arc<str>,
        /// `TaskName`.
        task: Arc<str>,
        /// `TaskInstanceIndex`; may be out of range, even negative.
        index: i64,
    },
    /// Batch TerminateJob (seed 001).
    TerminateJob {
        /// `JobId`.
        job: Arc<str>,
    },
    /// DLC CancelTask (seed 003).
    CancelTask {
        /// `TaskId`.
        task_id: Arc<str>,
    },
    /// `instances: None`: every task of the invocation.
    CancelInvocation {
        /// `InvocationId`.
        invocation: Arc<str>,
        /// `InstanceIds`.
        instances: Option<Arc<[String]>>,
    },
    /// A Describe call (SPEC §7): it reads the state and changes nothing. What it names is kept;
    /// what only shapes the answer (filters other than ids, offsets, limits) is not.
    Describe {
        /// One of the Describe actions ([`Action::is_describe`]).
        action: Action,
        /// The ids it names: the job (DescribeJob, DescribeTask), the DLC task
        /// (DescribeTaskResult), or the ids listed or filtered on (DescribeJobs, DescribeTasks,
        /// DescribeInvocations, DescribeInvocationTasks' invocations); `None`: all.
        ids: Option<Arc<[String]>>,
        /// DescribeTask's `TaskName`.
        task: Option<Arc<str>>,
        /// DescribeInvocationTasks' `instance-id` filter; `None`: all.
        instances: Option<Arc<[String]>>,
    },
}

/// A call's parameters, borrowed from a client: the one view of a call that the model's
/// resolution, its handlers and the request log share.
#[derive(Clone, Copy, Debug)]
pub enum CallRef<'a> {
    /// As [`Call::TerminateTaskInstance`].
    TerminateTaskInstance {
        /// `JobId`.
        job: &'a str,
        /// `TaskName`.
        task: &'a str,
        /// `TaskInstanceIndex`; may be out of range, even negative.
        index: i64,
    },
    /// As [`Call::TerminateJob`].
    TerminateJob {
        /// `JobId`.
        job: &'a str,
    },
    /// As [`Call::CancelTask`].
    CancelTask {
        /// `TaskId`.
        task_id: &'a str,
    },
    /// As [`Call::CancelInvocation`].
    CancelInvocation {
        /// `InvocationId`.
        invocation: &'a str,
        /// `InstanceIds`; `None`: every task of the invocation.
        instances: Option<&'a [String]>,
    },
    /// As [`Call::Describe`].
    Describe {
        /// The Describe action.
        action: Action,
        /// The ids it names; `None`: all.
        ids: Option<&'a [String]>,
        /// DescribeTask's `TaskName`.
        task: Option<&'a str>,
        /// DescribeInvocationTasks' instances; `None`: all.
        instances: Option<&'a [String]>,
    },
}

impl Call {
    /// Borrows the parameters as a [`CallRef`].
    pub fn as_ref(&self) -> CallRef<'_> {
        match self {
            Call::TerminateTaskInstance { job, task, index } => {
                CallRef::TerminateTaskInstance { job, task, index: *index }
            }
            Call::TerminateJob { job } => CallRef::TerminateJob { job },
            Call::CancelTask { task_id } => CallRef::CancelTask { task_id },
            Call::CancelInvocation { invocation, instances } => {
                CallRef::CancelInvocation { invocation, instances: instances.as_deref() }
            }
            Call::Describe { action, ids, task, instances } => CallRef::Describe {
                action: *action,
                ids: ids.as_deref(),
                task: task.as_deref(),
                instances: instances.as_deref(),
            },
        }
    }
}

impl ClientKind {
    /// How many calls the client makes (retries aside).
    pub fn call_count(&self) -> usize {
        match self {
            ClientKind::TerminateJob { .. } | ClientKind::CancelTask { .. } | ClientKind::CancelInvocation { .. } => 1,
            ClientKind::TerminateTaskInstances { indices, .. } => indices.len(),
            ClientKind::Trace { rows } => rows.len(),
        }
    }

    /// When the `target`-th call is first sent.
    pub fn first_send_time(&self, target: u32) -> SimTime {
        match self {
            ClientKind::TerminateJob { at, .. }
            | ClientKind::CancelTask { at, .. }
            | ClientKind::CancelInvocation { at, .. } => *at,
            ClientKind::TerminateTaskInstances { at, rate, .. } => {
                *at + SimTime((f64::from(target) * 1e6 / rate).round() as u64)
            }
            ClientKind::Trace { rows } => rows[target as usize].at,
        }
    }

    /// The `target`-th call.
    pub fn call(&self, target: u32) -> CallRef<'_> {
        match self {
            ClientKind::TerminateJob { job, .. } => CallRef::TerminateJob { job },
            ClientKind::CancelTask { task_id, .. } => CallRef::CancelTask { task_id },
            ClientKind::CancelInvocation { invocation, instances, .. } => {
                CallRef::CancelInvocation { invocation, instances: instances.as_deref() }
            }
            ClientKind::TerminateTaskInstances { job, task, indices, .. } => {
                CallRef::TerminateTaskInstance { job, task, index: indices.get(target as usize) }
            }
            ClientKind::Trace { rows } => rows[target as usize].call.as_ref(),
        }
    }
}

impl Client {
    /// The account the `target`-th call is made from.
    pub fn account_of(&self, target: u32) -> &str {
        match &self.kind {
            ClientKind::Trace { rows } => rows[target as usize].account.as_deref().unwrap_or(&self.account),
            _ => &self.account,
        }
    }
}

/// Task instance indices as a client names them. They may name indices that do not exist (an
/// erroneous caller), hence signed.
#[derive(Clone, Debug)]
pub enum IndexList {
    /// `from..=to`
    Range {
        /// The first index.
        from: i64,
        /// The last index, included.
        to: i64,
    },
    /// The indices, in the order the calls are sent.
    List(Vec<i64>),
}

impl IndexList {
    /// How many indices, hence calls.
    pub fn len(&self) -> usize {
        match self {
            IndexList::Range { from, to } if to >= from => (to - from) as usize + 1,
            IndexList::Range { .. } => 0,
            IndexList::List(v) => v.len(),
        }
    }

    /// Whether the list names no index.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th index; `i` must be below [`IndexList::len`].
    pub fn get(&self, i: usize) -> i64 {
        match self {
            IndexList::Range { from, .. } => from + i as i64,
            IndexList::List(v) => v[i],
        }
    }
}

/// How a client retries a call answered `RequestLimitExceeded` or `InternalError` (SPEC §1.7a).
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff after the first failed attempt; after the n-th it is
    /// `min(max, base × multiplier^(n-1))`.
    pub base: SimTime,
    /// The longest backoff, before jitter.
    pub max: SimTime,
    /// Growth of the backoff from one failed attempt to the next.
    pub multiplier: f64,
    /// How the backoff is randomised.
    pub jitter: Jitter,
}

/// How a retry's backoff `b` is randomised (SPEC §1.7a).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly `b`.
    None,
    /// A uniform draw in `[0, b]`.
    Full,
    /// `b / 2` plus a uniform draw in `[0, b / 2]`.
    Equal,
}

impl Config {
    /// Task instances of all jobs together.
    pub fn total_instances(&self) -> u64 {
        self.jobs.iter().flat_map(|j| &j.tasks).map(|t| u64::from(t.instances)).sum()
    }

    /// Whether job `j`'s instances would relaunch within one instant for ever: every launch
    /// fails, the job puts a failed launch back in the queue, and the creation can take no time.
    pub fn loops_within_an_instant(&self, j: usize) -> bool {
        let (job, cvm) = (&self.jobs[j], &self.backend.cvm);
        job.env == EnvRef::Anonymous
            && job.state_if_create_cvm_failed == CreateFailedState::Runnable
            && cvm.creation_failure_rate >= 1.0
            && cvm.creation_delay.can_draw_zero()
    }

    /// Checks what the model relies on: the limits of its representation
    /// ([`super::limits`]), references between its parts, and that a run ends. The scenario
    /// loader refuses all of it earlier, with the place in the file; this guards a `Config` built
    /// by hand.
    pub fn check(&self) -> Result<(), ConfigError> {
        use super::limits::{MAX_INSTANCES, MAX_INVOCATION_INSTANCES, MAX_RETRY_COUNT};
        if self.horizon == SimTime::ZERO {
            return Err(ConfigError::Horizon);
        }
        let instances = self.total_instances();
        if instances > u64::from(MAX_INSTANCES) {
            return Err(ConfigError::TooManyInstances(instances));
        }
        let positive = |rate: Option<f64>| rate.is_none_or(|r| r.is_finite() && r > 0.0);
        let cvm = &self.backend.cvm;
        if !positive(cvm.create_rate_limit) || !positive(cvm.terminate_rate_limit) {
            return Err(ConfigError::CvmRate);
        }
        if self.backend.job_termination_workers == 0 {
            return Err(ConfigError::NoWorkers);
        }
        for (j, job) in self.jobs.iter().enumerate() {
            if let EnvRef::Named(e) = job.env
                && e as usize >= self.environments.len()
            {
                return Err(ConfigError::UnknownEnvironment(job.id.clone()));
            }
            for task in &job.tasks {
                if task.retry_count > MAX_RETRY_COUNT {
                    return Err(ConfigError::RetryCount(job.id.clone(), task.name.clone()));
                }
                if task.depends_on.iter().any(|&d| d as usize >= job.tasks.len()) {
                    return Err(ConfigError::Dependency(job.id.clone(), task.name.clone()));
                }
            }
            if self.loops_within_an_instant(j) {
                return Err(ConfigError::Loops(job.id.clone()));
            }
        }
        for v in &self.tat_invocations {
            if !(1..=MAX_INVOCATION_INSTANCES).contains(&v.instances.len()) {
                return Err(ConfigError::InvocationInstances(v.id.clone()));
            }
        }
        for client in &self.clients {
            if let ClientKind::TerminateTaskInstances { rate, .. } = client.kind
                && !(rate.is_finite() && rate > 0.0)
            {
                return Err(ConfigError::ClientRate(client.name.clone()));
            }
        }
        Ok(())
    }
}

/// Why [`Config::check`] refused a configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `horizon` is zero.
    #[error("the horizon must be positive")]
    Horizon,
    /// More task instances than [`super::limits::MAX_INSTANCES`]; holds the count.
    #[error("{0} task instances: the model holds at most {max}", max = super::limits::MAX_INSTANCES)]
    TooManyInstances(u64),
    /// A CVM call rate limit is not a positive, finite number.
    #[error("a CVM call rate limit must be a positive number of calls per second")]
    CvmRate,
    /// `job_termination_workers` is zero.
    #[error("TerminateJob needs at least one worker")]
    NoWorkers,
    /// A job's [`EnvRef::Named`] is out of range; holds the job id.
    #[error("job `{0}` runs in an environment the configuration does not have")]
    UnknownEnvironment(String),
    /// A task's `retry_count` is above [`super::limits::MAX_RETRY_COUNT`]; holds the job id and
    /// the task name.
    #[error("task `{1}` of job `{0}`: at most {max} retries", max = super::limits::MAX_RETRY_COUNT)]
    RetryCount(String, String),
    /// A task's `depends_on` is out of range; holds the job id and task name.
    #[error("task `{1}` of job `{0}` depends on a task its job does not have")]
    Dependency(String, String),
    /// The job would relaunch within one instant for ever ([`Config::loops_within_an_instant`]);
    /// holds its id.
    #[error(
        "job `{0}` would relaunch its instances within one instant for ever: every creation fails, takes no time, and puts the instance back in the queue"
    )]
    Loops(String),
    /// An invocation runs on no instance, or on more than
    /// [`super::limits::MAX_INVOCATION_INSTANCES`]; holds its id.
    #[error("invocation `{0}` must run on 1 to {max} instances", max = super::limits::MAX_INVOCATION_INSTANCES)]
    InvocationInstances(String),
    /// A `terminate_task_instances` client's rate is not a positive, finite number; holds the
    /// client's name.
    #[error("client `{0}`: its rate must be a positive number of calls per second")]
    ClientRate(String),
}
