//! The scenario file as written: every field, its default, and its JSON Schema.
//!
//! Unknown fields are errors everywhere. Defaults are those of SPEC §2's example, so a scenario
//! that leaves a field out behaves as that example does.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::SimTime;
use crate::model::Action;

use super::values::{DistributionSpec, DurationValue, IndicesSpec, Probability};

fn secs(s: u64) -> DurationValue {
    DurationValue(SimTime::from_secs(s))
}
fn millis(ms: u64) -> DurationValue {
    DurationValue(SimTime::from_millis(ms))
}
fn constant(d: DurationValue) -> DistributionSpec {
    DistributionSpec::Constant(d)
}

/// A termsim scenario.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Names the run; outputs go to `results/<name>/` by default. Default: the file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// Seed of every random stream. Default: 0.
    #[serde(default)]
    pub seed: u64,
    /// Events after this instant are not run; must be positive. Default: `"24h"`.
    #[serde(default = "default_horizon")]
    pub horizon: DurationValue,
    /// The termination backend and the services it calls; every field has a default.
    #[serde(default)]
    pub backend: BackendFile,
    /// Named compute environments (SubmitJob's `EnvId`).
    #[serde(default)]
    pub environments: Vec<EnvironmentFile>,
    /// At least one job.
    #[schemars(length(min = 1, max = 100_000))]
    pub jobs: Vec<JobFile>,
    /// Callers of the API; calls due at the same instant go in this order. Default: none.
    #[serde(default)]
    pub clients: Vec<ClientFile>,
    /// DLC tasks that `cancel_task` clients may cancel (SPEC §1.8).
    #[serde(default)]
    pub dlc: DlcFile,
    /// TAT invocations that `cancel_invocation` clients may cancel (SPEC §1.9).
    #[serde(default)]
    pub tat: TatFile,
    /// Expectations checked after the run: a dotted path into `summary.json` mapped to an
    /// operator and a number, e.g. `"termination_latency_s.p99": "<= 180"`.
    #[serde(default)]
    pub expect: BTreeMap<String, String>,
}

fn default_horizon() -> DurationValue {
    secs(24 * 3600)
}

/// The termination backend and the services it calls. Every field is optional.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BackendFile {
    /// The public API: latency, rate limits and injected faults (SPEC §1.7).
    pub api: ApiFile,
    /// The CVM service the backend calls (SPEC §1.3, §1.6).
    pub cvm: CvmFile,
    /// How many CVMs may exist at once.
    pub quota: QuotaFile,
    /// From SUBMITTED to PENDING, sampled once per job. Default: `"2s"`.
    pub submit_delay: DistributionSpec,
    /// The bypass, which terminates a CVM asked to terminate while it is being created (SPEC §1.4).
    pub bypass: BypassFile,
    /// The workers that carry out TerminateJob (SPEC §1.5).
    pub job_termination: JobTerminationFile,
    /// What TerminateTaskInstance and TerminateJob do in a named environment: `"reject"`
    /// (seed 002, default) or `"restart_cvm"` (seed 000).
    pub named_env_termination: NamedEnvPolicyFile,
}

impl Default for BackendFile {
    fn default() -> Self {
        BackendFile {
            api: ApiFile::default(),
            cvm: CvmFile::default(),
            quota: QuotaFile::default(),
            submit_delay: constant(secs(2)),
            bypass: BypassFile::default(),
            job_termination: JobTerminationFile::default(),
            named_env_termination: NamedEnvPolicyFile::Reject,
        }
    }
}

/// What TerminateTaskInstance and TerminateJob do in a named environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NamedEnvPolicyFile {
    /// Refuse with `UnsupportedOperation.TerminateOperationWithEnvId` (seed 002).
    Reject,
    /// The instance is `FAILED` at once, then its node restarts and returns to the pool (seed 000).
    RestartCvm,
}

/// The public API (SPEC §1.7).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApiFile {
    /// From a call to its answer. Default: `"20ms"`.
    pub latency: DistributionSpec,
    /// `"fixed_window"` (default) or `"token_bucket"`.
    pub rate_limit: RateLimitFile,
    /// Calls per second per account, for each action.
    pub limits: LimitsFile,
    /// Share of calls (past the rate limit) answered `InternalError`. Default: 0.
    pub internal_error_rate: Probability,
}

impl Default for ApiFile {
    fn default() -> Self {
        ApiFile {
            latency: constant(millis(20)),
            rate_limit: RateLimitFile::FixedWindow,
            limits: LimitsFile::default(),
            internal_error_rate: Probability(0.0),
        }
    }
}

/// How a limit of N calls per second, per account and per action, is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitFile {
    /// At most N accepted calls in each simulated second.
    FixedWindow,
    /// A bucket of N tokens, full at the start, refilled at N per second.
    TokenBucket,
}

/// Calls per second per account (whole numbers, at least 1). Defaults: 2, 2, 20 and 20 (the
/// seeds); the Describe calls' as serve-wire.md §6 gives them ([`Action::default_limit`]).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    /// TerminateTaskInstance calls per second. Default: 2.
    #[serde(rename = "TerminateTaskInstance")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub terminate_task_instance: u32,
    /// TerminateJob calls per second. Default: 2.
    #[serde(rename = "TerminateJob")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub terminate_job: u32,
    /// CancelTask calls per second. Default: 20.
    #[serde(rename = "CancelTask")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub cancel_task: u32,
    /// CancelInvocation calls per second. Default: 20.
    #[serde(rename = "CancelInvocation")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub cancel_invocation: u32,
    /// DescribeJob calls per second (`termsim serve`). Default: 50.
    #[serde(rename = "DescribeJob")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_job: u32,
    /// DescribeJobs calls per second (`termsim serve`). Default: 2.
    #[serde(rename = "DescribeJobs")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_jobs: u32,
    /// DescribeTask calls per second (`termsim serve`). Default: 20.
    #[serde(rename = "DescribeTask")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_task: u32,
    /// DescribeTasks calls per second (`termsim serve`). Default: 500.
    #[serde(rename = "DescribeTasks")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_tasks: u32,
    /// DescribeTaskResult calls per second (`termsim serve`). Default: 20.
    #[serde(rename = "DescribeTaskResult")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_task_result: u32,
    /// DescribeInvocations calls per second (`termsim serve`). Default: 20.
    #[serde(rename = "DescribeInvocations")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_invocations: u32,
    /// DescribeInvocationTasks calls per second (`termsim serve`). Default: 20.
    #[serde(rename = "DescribeInvocationTasks")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub describe_invocation_tasks: u32,
}

impl LimitsFile {
    /// The limits in [`Action::ALL`] order.
    pub fn by_action(&self) -> [u32; Action::COUNT] {
        [
            self.terminate_task_instance,
            self.terminate_job,
            self.cancel_task,
            self.cancel_invocation,
            self.describe_job,
            self.describe_jobs,
            self.describe_task,
            self.describe_tasks,
            self.describe_task_result,
            self.describe_invocations,
            self.describe_invocation_tasks,
        ]
    }
}

impl Default for LimitsFile {
    fn default() -> Self {
        let [
            terminate_task_instance,
            terminate_job,
            cancel_task,
            cancel_invocation,
            describe_job,
            describe_jobs,
            describe_task,
            describe_tasks,
            describe_task_result,
            describe_invocations,
            describe_invocation_tasks,
        ] = Action::ALL.map(Action::default_limit);
        LimitsFile {
            terminate_task_instance,
            terminate_job,
            cancel_task,
            cancel_invocation,
            describe_job,
            describe_jobs,
            describe_task,
            describe_tasks,
            describe_task_result,
            describe_invocations,
            describe_invocation_tasks,
        }
    }
}

/// The CVM service: how long its operations take and how they fail (SPEC §1.3, §1.6).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CvmFile {
    /// Default: `{"lognormal": {"median": "90s", "sigma": 0.25}}`.
    pub creation_delay: DistributionSpec,
    /// Share of creations ending `LAUNCH_FAILED`. Default: 0.
    pub creation_failure_rate: Probability,
    /// From the terminate call to `TERMINATED`. Default: `{"uniform": {"min": "5s", "max": "15s"}}`.
    pub termination_delay: DistributionSpec,
    /// A named environment's node restart (`restart_cvm`). Default: `"60s"`.
    pub restart_delay: DistributionSpec,
    /// Hazard rate of an interruption of a running anonymous CVM, per hour. Default: 0.
    pub interruption_rate_per_hour: f64,
    /// Create calls per second the backend may make; `null` (default): unlimited.
    pub create_rate_limit: Option<f64>,
    /// Terminate calls per second the backend may make; `null` (default): unlimited.
    pub terminate_rate_limit: Option<f64>,
}

impl Default for CvmFile {
    fn default() -> Self {
        CvmFile {
            creation_delay: DistributionSpec::Lognormal { median: secs(90), sigma: 0.25 },
            creation_failure_rate: Probability(0.0),
            termination_delay: DistributionSpec::Uniform { min: secs(5), max: secs(15) },
            restart_delay: constant(secs(60)),
            interruption_rate_per_hour: 0.0,
            create_rate_limit: None,
            terminate_rate_limit: None,
        }
    }
}

/// The CVM quota: one pool for the whole scenario.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaFile {
    /// CVMs the account may hold at once; `null`: no limit. Default: 1000.
    #[schemars(range(min = 1))]
    pub max_cvms: Option<u64>,
}

impl Default for QuotaFile {
    fn default() -> Self {
        QuotaFile { max_cvms: Some(1000) }
    }
}

/// The bypass: a CVM asked to terminate while it is being created is terminated by the first
/// poll after its creation completes (SPEC §1.4).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BypassFile {
    /// The bypass polls at whole multiples of this; `"0s"`: at the instant creation completes.
    /// Default: `"10s"`.
    pub poll_interval: DurationValue,
}

impl Default for BypassFile {
    fn default() -> Self {
        BypassFile { poll_interval: secs(10) }
    }
}

/// How TerminateJob's workers walk a job's instances (SPEC §1.5).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JobTerminationFile {
    /// Worker time spent on each task instance of a terminated job. Default: `"50ms"`.
    pub per_instance: DurationValue,
    /// Worker time spent on entering each task of a terminated job (seed 001: "proportional to
    /// the total number of tasks"). Default: `"0s"`.
    pub per_task: DurationValue,
    /// Job-termination workers shared by all jobs. Default: 1.
    #[schemars(range(min = 1, max = 100_000))]
    pub workers: u32,
}

impl Default for JobTerminationFile {
    fn default() -> Self {
        JobTerminationFile { per_instance: millis(50), per_task: millis(0), workers: 1 }
    }
}

/// A named compute environment: a pool of long-lived nodes (SubmitJob's `EnvId`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFile {
    /// `env-` + 8 lowercase letters or digits.
    pub id: String,
    /// Compute nodes, created at time 0.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub nodes: u32,
}

/// A Batch job: its tasks and where they run.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    /// `job-` + 8 lowercase letters or digits.
    pub id: String,
    /// Default: `"0s"`.
    #[serde(default = "zero")]
    pub submit_at: DurationValue,
    /// `"anonymous"` (default; SubmitJob's ComputeEnv) or the id of a named environment.
    #[serde(default = "anonymous")]
    pub env: String,
    /// `"FAILED"` (default) or `"RUNNABLE"`.
    #[serde(default = "state_failed")]
    pub state_if_create_cvm_failed: CreateFailedFile,
    /// The job's tasks; at least one.
    #[schemars(length(min = 1, max = 1_000))]
    pub tasks: Vec<TaskFile>,
}

fn zero() -> DurationValue {
    secs(0)
}
fn anonymous() -> String {
    "anonymous".into()
}
fn state_failed() -> CreateFailedFile {
    CreateFailedFile::Failed
}

/// What a failed CVM creation does to an instance (SubmitJob's StateIfCreateCvmFailed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreateFailedFile {
    /// The instance is `FAILED`.
    Failed,
    /// The instance goes back to `RUNNABLE` and queues again.
    Runnable,
}

/// A task of a job: `instances` task instances that run alike.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    /// Unique within the job: letters, digits, `-` and `_`.
    pub name: String,
    /// Task instances, indices 0..instances-1.
    #[schemars(range(min = 1, max = 10_000_000))]
    pub instances: u32,
    /// How long a run takes once `RUNNING`.
    pub runtime: DistributionSpec,
    /// Share of runs that fail. Default: 0.
    #[serde(default)]
    pub failure_rate: Probability,
    /// SubmitJob's MaxRetryCount. Default: 0.
    #[serde(default)]
    #[schemars(range(max = 100))]
    pub retry_count: u32,
    /// `"TERMINATE"` (default) or `"INTERRUPT"`.
    #[serde(default = "terminate")]
    pub failed_action: FailedActionFile,
    /// Names of tasks of the same job that must all succeed first. Default: none.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

fn terminate() -> FailedActionFile {
    FailedActionFile::Terminate
}

/// What a task instance's last failed run leads to (SubmitJob's FailedAction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailedActionFile {
    /// `FAILED`, and the CVM is terminated.
    Terminate,
    /// `FAILED_INTERRUPTED`, and the CVM and its quota are kept until a termination succeeds.
    Interrupt,
}

/// A caller of the API. Which fields apply depends on `type`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// What the client calls: `"terminate_job"`, `"terminate_task_instances"`, `"cancel_task"`,
    /// `"cancel_invocation"` or `"trace"`.
    #[serde(rename = "type")]
    pub kind: ClientType,
    /// Shown in `requests.csv`. Default: `<type>-<position in the list>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Rate limits are per account. Default: `"default"`.
    #[serde(default)]
    pub account: Option<String>,
    /// When the first call is sent; for a `trace`, added to every row's `at_s`. Default: `"0s"`.
    #[serde(default)]
    pub at: Option<DurationValue>,
    /// The job the calls name (may be wrong on purpose: the API answers with its error).
    #[serde(default)]
    pub job: Option<String>,
    /// `terminate_task_instances`: the task name.
    #[serde(default)]
    pub task: Option<String>,
    /// `terminate_task_instances`: `"all"` (default), a list, or `{"from", "to"}`.
    #[serde(default)]
    pub indices: Option<IndicesSpec>,
    /// `terminate_task_instances`: calls per second. Default: 2.
    #[serde(default)]
    pub rate: Option<f64>,
    /// `cancel_task`: the DLC `TaskId` to cancel (may be wrong on purpose).
    #[serde(default)]
    pub task_id: Option<String>,
    /// `cancel_invocation`: the TAT `InvocationId` (may be wrong on purpose).
    #[serde(default)]
    pub invocation: Option<String>,
    /// `cancel_invocation`: the `InstanceIds` to cancel; left out, every task of the invocation
    /// (an empty list is refused: it would name none).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub instances: Option<Vec<String>>,
    /// `trace`: the CSV file of calls to replay, relative to the scenario's folder.
    #[serde(default)]
    pub csv: Option<String>,
    /// Without it, one attempt per call.
    #[serde(default)]
    pub retry: Option<RetryFile>,
}

/// A client's type, which decides the fields it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// One TerminateJob at `at`; takes `job`.
    TerminateJob,
    /// One TerminateTaskInstance per index, `rate` per second from `at`; takes `job`, `task`,
    /// `indices` and `rate`.
    TerminateTaskInstances,
    /// One DLC CancelTask at `at`; takes `task_id`.
    CancelTask,
    /// One TAT CancelInvocation at `at`; takes `invocation` and `instances`.
    CancelInvocation,
    /// Replays the calls of a trace CSV file; takes `csv`.
    Trace,
}

impl ClientType {
    /// The type as written in a scenario file, e.g. `terminate_job`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::TerminateJob => "terminate_job",
            ClientType::TerminateTaskInstances => "terminate_task_instances",
            ClientType::CancelTask => "cancel_task",
            ClientType::CancelInvocation => "cancel_invocation",
            ClientType::Trace => "trace",
        }
    }
}

/// How a client retries a call answered `RequestLimitExceeded` or `InternalError`: after the
/// n-th failed attempt it waits `min(max, base × multiplier^(n-1))`, with `jitter`. Other errors
/// are final.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryFile {
    /// Attempts in all, the first included. Default: 8.
    #[schemars(range(min = 1, max = 1_000))]
    pub max_attempts: u32,
    /// Default: `"500ms"`.
    pub base: DurationValue,
    /// Default: `"30s"`.
    pub max: DurationValue,
    /// Default: 2.
    pub multiplier: f64,
    /// `"none"`, `"full"` (default) or `"equal"`.
    pub jitter: JitterFile,
}

impl Default for RetryFile {
    fn default() -> Self {
        RetryFile { max_attempts: 8, base: millis(500), max: secs(30), multiplier: 2.0, jitter: JitterFile::Full }
    }
}

/// How a retry's backoff `b` is randomised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JitterFile {
    /// Exactly `b`.
    None,
    /// A uniform draw in `[0, b]`.
    Full,
    /// `b / 2` plus a uniform draw in `[0, b / 2]`.
    Equal,
}

/// DLC (Data Lake Compute) tasks, for CancelTask (SPEC §1.8, seed 003).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DlcFile {
    /// The DLC tasks. Default: none.
    pub tasks: Vec<DlcTaskFile>,
}

/// A DLC task: `QUEUED` → `INITIALIZING` → `RUNNING` → `WRITING_DATA` → `SUCCEEDED`, or
/// `FAILED` at the end of `RUNNING`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DlcTaskFile {
    /// The `TaskId`: a UUID (8-4-4-4-12 hexadecimal digits), unique in the scenario.
    pub id: String,
    /// When the task appears, `QUEUED`. Default: `"0s"`.
    #[serde(default = "zero")]
    pub submit_at: DurationValue,
    /// Time spent `QUEUED`. Default: `"5s"`.
    #[serde(default = "dlc_queued")]
    pub queued: DistributionSpec,
    /// Time spent `INITIALIZING`. Default: `"2s"`.
    #[serde(default = "dlc_initializing")]
    pub initializing: DistributionSpec,
    /// Time spent `RUNNING`. Default: `"10m"`.
    #[serde(default = "dlc_running")]
    pub running: DistributionSpec,
    /// Time spent `WRITING_DATA`. Default: `"30s"`.
    #[serde(default = "dlc_writing_data")]
    pub writing_data: DistributionSpec,
    /// Share of tasks that end `FAILED` at the end of `RUNNING`. Default: 0.
    #[serde(default)]
    pub failure_rate: Probability,
    /// From an accepted CancelTask to `CANCELLED`. Default: `"3s"`.
    #[serde(default = "dlc_cancel_delay")]
    pub cancel_delay: DistributionSpec,
}

fn dlc_queued() -> DistributionSpec {
    constant(secs(5))
}
fn dlc_initializing() -> DistributionSpec {
    constant(secs(2))
}
fn dlc_running() -> DistributionSpec {
    constant(secs(600))
}
fn dlc_writing_data() -> DistributionSpec {
    constant(secs(30))
}
fn dlc_cancel_delay() -> DistributionSpec {
    constant(secs(3))
}

/// TAT (TencentCloud Automation Tools) invocations, for CancelInvocation (SPEC §1.9, seed 004).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TatFile {
    /// The TAT invocations. Default: none.
    pub invocations: Vec<TatInvocationFile>,
}

/// A TAT invocation: one invocation task per instance, `PENDING` → `DELIVERING` (or
/// `DELIVER_DELAYED` first) → `RUNNING` → `SUCCESS` or `TIMEOUT`; delivery may end
/// `DELIVER_FAILED`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TatInvocationFile {
    /// `inv-` + 8 lowercase letters or digits, unique in the scenario.
    pub id: String,
    /// When the invocation starts. Default: `"0s"`.
    #[serde(default = "zero")]
    pub at: DurationValue,
    /// 1 to 100 distinct instance ids (`ins-` + 8).
    #[schemars(length(min = 1, max = 100))]
    pub instances: Vec<String>,
    /// Time spent `PENDING`. Default: `"1s"`.
    #[serde(default = "tat_pending")]
    pub pending: DistributionSpec,
    /// Time spent `DELIVERING`. Default: `"2s"`.
    #[serde(default = "tat_delivery")]
    pub delivery: DistributionSpec,
    /// Share of tasks delayed before delivering. Default: 0.
    #[serde(default)]
    pub deliver_delayed_rate: Probability,
    /// Time a delayed task spends `DELIVER_DELAYED`. Default: `"30s"`.
    #[serde(default = "tat_deliver_delayed_extra")]
    pub deliver_delayed_extra: DistributionSpec,
    /// Share of tasks whose delivery ends `DELIVER_FAILED`. Default: 0.
    #[serde(default)]
    pub deliver_failed_rate: Probability,
    /// How long the command runs. Default: `"5m"`.
    #[serde(default = "tat_runtime")]
    pub runtime: DistributionSpec,
    /// Each task's probability of ending `FAILED` at the end of `runtime` (a task whose runtime
    /// exceeds `timeout` ends `TIMEOUT` instead). Default: 0.
    #[serde(default)]
    pub failure_rate: Probability,
    /// A run longer than this ends `TIMEOUT` then. Default: `"1h"`.
    #[serde(default = "tat_timeout")]
    pub timeout: DurationValue,
    /// From CancelInvocation to `TERMINATED` for a `RUNNING` task. Default: `"5s"`.
    #[serde(default = "tat_kill_delay")]
    pub kill_delay: DistributionSpec,
}

fn tat_pending() -> DistributionSpec {
    constant(secs(1))
}
fn tat_delivery() -> DistributionSpec {
    constant(secs(2))
}
fn tat_deliver_delayed_extra() -> DistributionSpec {
    constant(secs(30))
}
fn tat_runtime() -> DistributionSpec {
    constant(secs(300))
}
fn tat_timeout() -> DurationValue {
    secs(3600)
}
fn tat_kill_delay() -> DistributionSpec {
    constant(secs(5))
}
