//! The model's input: plain data with every default already filled in and every reference
//! resolved to an index. The `scenario` module builds it from a file; tests and benches may build
//! it directly.

use std::sync::Arc;

use crate::engine::{Delay, SimTime};

use super::vocabulary::Action;

#[derive(Clone, Debug)]
pub struct Config {
    pub name: String,
    pub seed: u64,
    /// Events after this instant are not run.
    pub horizon: SimTime,
    pub backend: Backend,
    pub environments: Vec<Environment>,
    pub jobs: Vec<Job>,
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
    pub pending: Delay,
    pub delivery: Delay,
    /// Share of tasks that spend `deliver_delayed_extra` in `DELIVER_DELAYED` before delivering.
    pub deliver_delayed_rate: f64,
    pub deliver_delayed_extra: Delay,
    /// Share of tasks whose delivery ends `DELIVER_FAILED`.
    pub deliver_failed_rate: f64,
    pub runtime: Delay,
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
    pub submit_at: SimTime,
    pub queued: Delay,
    pub initializing: Delay,
    pub running: Delay,
    pub writing_data: Delay,
    /// Share of tasks that end `FAILED` at the end of `running`.
    pub failure_rate: f64,
    /// From an accepted CancelTask to `CANCELLED`.
    pub cancel_delay: Delay,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub api: Api,
    pub cvm: Cvm,
    /// `None`: no quota limit.
    pub quota_max_cvms: Option<u64>,
    /// Sampled once per job: all of a job's instances become `PENDING` together.
    pub submit_delay: Delay,
    pub bypass_poll_interval: SimTime,
    pub job_termination_per_instance: SimTime,
    /// Worker time on entering each task of a terminated job.
    pub job_termination_per_task: SimTime,
    pub job_termination_workers: u32,
    pub named_env_termination: NamedEnvPolicy,
}

#[derive(Clone, Debug)]
pub struct Api {
    pub latency: Delay,
    pub rate_limit: RateLimitAlgorithm,
    /// Calls per second per account, indexed by [`Action::index`].
    pub limits: [u32; Action::COUNT],
    pub internal_error_rate: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitAlgorithm {
    FixedWindow,
    TokenBucket,
}

#[derive(Clone, Debug)]
pub struct Cvm {
    pub creation_delay: Delay,
    pub creation_failure_rate: f64,
    pub termination_delay: Delay,
    pub restart_delay: Delay,
    pub interruption_rate_per_hour: f64,
    /// Calls per second the backend may make to create CVMs; `None`: unlimited.
    pub create_rate_limit: Option<f64>,
    pub terminate_rate_limit: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedEnvPolicy {
    Reject,
    RestartCvm,
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub id: String,
    pub nodes: u32,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub submit_at: SimTime,
    pub env: EnvRef,
    pub state_if_create_cvm_failed: CreateFailedState,
    pub tasks: Vec<Task>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvRef {
    Anonymous,
    /// Index into [`Config::environments`].
    Named(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateFailedState {
    Failed,
    Runnable,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub instances: u32,
    pub runtime: Delay,
    pub failure_rate: f64,
    pub retry_count: u32,
    pub failed_action: FailedAction,
    /// Indices into the job's `tasks`.
    pub depends_on: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedAction {
    Terminate,
    Interrupt,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub name: String,
    pub account: String,
    pub kind: ClientKind,
    pub retry: Option<Retry>,
}

#[derive(Clone, Debug)]
pub enum ClientKind {
    /// One TerminateJob at `at`.
    TerminateJob { at: SimTime, job: String },
    /// The i-th index of the list is sent at `at + i / rate`.
    TerminateTaskInstances { at: SimTime, job: String, task: String, indices: IndexList, rate: f64 },
    /// One DLC CancelTask at `at` (the id may be malformed or unknown on purpose).
    CancelTask { at: SimTime, task_id: String },
    /// One TAT CancelInvocation at `at`; `instances: None` cancels every task of the invocation.
    CancelInvocation { at: SimTime, invocation: String, instances: Option<Vec<String>> },
    /// A recorded sequence of calls, one per row of a trace CSV, in time order. Shared, so that
    /// the replications of a sweep do not copy it.
    Trace { rows: Arc<[TraceRow]> },
}

/// One row of a trace: a call of any action, sent at `at`. A trace repeats the same few ids
/// over and over, so its strings are shared rather than owned by each row.
#[derive(Clone, Debug)]
pub struct TraceRow {
    pub at: SimTime,
    /// `None`: the client's account.
    pub account: Option<Arc<str>>,
    pub call: Call,
}

/// A call's parameters, as the caller wrote them (ids may be malformed or unknown on purpose).
#[derive(Clone, Debug)]
pub enum Call {
    TerminateTaskInstance {
        job: Arc<str>,
        task: Arc<str>,
        index: i64,
    },
    TerminateJob {
        job: Arc<str>,
    },
    CancelTask {
        task_id: Arc<str>,
    },
    /// `instances: None`: every task of the invocation.
    CancelInvocation {
        invocation: Arc<str>,
        instances: Option<Arc<[String]>>,
    },
}

/// A call's parameters, borrowed from a client: the one view of a call that the model's
/// resolution, its handlers and the request log share.
#[derive(Clone, Copy, Debug)]
pub enum CallRef<'a> {
    TerminateTaskInstance { job: &'a str, task: &'a str, index: i64 },
    TerminateJob { job: &'a str },
    CancelTask { task_id: &'a str },
    CancelInvocation { invocation: &'a str, instances: Option<&'a [String]> },
}

impl Call {
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
        from: i64,
        to: i64,
    },
    List(Vec<i64>),
}

impl IndexList {
    pub fn len(&self) -> usize {
        match self {
            IndexList::Range { from, to } if to >= from => (to - from) as usize + 1,
            IndexList::Range { .. } => 0,
            IndexList::List(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> i64 {
        match self {
            IndexList::Range { from, .. } => from + i as i64,
            IndexList::List(v) => v[i],
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub max_attempts: u32,
    pub base: SimTime,
    pub max: SimTime,
    pub multiplier: f64,
    pub jitter: Jitter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    Full,
    Equal,
}

impl Config {
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
            if let EnvRef::Named(e) = job.env {
                if e as usize >= self.environments.len() {
                    return Err(ConfigError::UnknownEnvironment(job.id.clone()));
                }
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
            if let ClientKind::TerminateTaskInstances { rate, .. } = client.kind {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(ConfigError::ClientRate(client.name.clone()));
                }
            }
        }
        Ok(())
    }
}

/// Why [`Config::check`] refused a configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the horizon must be positive")]
    Horizon,
    #[error("{0} task instances: the model holds at most {max}", max = super::limits::MAX_INSTANCES)]
    TooManyInstances(u64),
    #[error("a CVM call rate limit must be a positive number of calls per second")]
    CvmRate,
    #[error("TerminateJob needs at least one worker")]
    NoWorkers,
    #[error("job `{0}` runs in an environment the configuration does not have")]
    UnknownEnvironment(String),
    #[error("task `{1}` of job `{0}`: at most {max} retries", max = super::limits::MAX_RETRY_COUNT)]
    RetryCount(String, String),
    #[error("task `{1}` of job `{0}` depends on a task its job does not have")]
    Dependency(String, String),
    #[error(
        "job `{0}` would relaunch its instances within one instant for ever: every creation fails, takes no time, and puts the instance back in the queue"
    )]
    Loops(String),
    #[error("invocation `{0}` must run on 1 to {max} instances", max = super::limits::MAX_INVOCATION_INSTANCES)]
    InvocationInstances(String),
    #[error("client `{0}`: its rate must be a positive number of calls per second")]
    ClientRate(String),
}
