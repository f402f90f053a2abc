//! Upper limits on counts. A scenario beyond them is bad input (exit 2), never an out-of-memory
//! crash: at roughly 100 bytes of state per task instance, the largest scenario stays near 1 GB.
//!
//! Limits the model's representation or the API sets are the model's
//! ([`crate::model::limits`]); the product's own stay within them, which the assertions below
//! check when termsim is compiled.

use crate::model::limits as model;

/// Instances of one TAT invocation, and `InstanceIds` of one CancelInvocation: the API's limit.
pub use model::MAX_INVOCATION_INSTANCES;

/// Task instances in one scenario, all jobs together.
pub const MAX_INSTANCES: u32 = 10_000_000;
const _: () = assert!(MAX_INSTANCES <= model::MAX_INSTANCES);
/// Jobs in one scenario.
pub const MAX_JOBS: usize = 100_000;
/// Tasks in one job.
pub const MAX_TASKS_PER_JOB: usize = 1_000;
/// Named environments in one scenario.
pub const MAX_ENVIRONMENTS: usize = 1_000;
/// Nodes of all named environments together.
pub const MAX_NODES: u64 = 1_000_000;
/// Clients in one scenario.
pub const MAX_CLIENTS: usize = 100_000;
/// A retry policy's `max_attempts`.
pub const MAX_ATTEMPTS: u32 = 1_000;
/// SubmitJob's MaxRetryCount.
pub const MAX_RETRY_COUNT: u32 = 100;
const _: () = assert!(MAX_RETRY_COUNT <= model::MAX_RETRY_COUNT);
/// Job-termination workers (`backend.job_termination.workers`).
pub const MAX_WORKERS: u32 = 100_000;
/// Calls per second, for API limits, client rates and CVM call rates.
pub const MAX_RATE: f64 = 1_000_000.0;
/// DLC tasks in one scenario.
pub const MAX_DLC_TASKS: usize = 1_000_000;
/// TAT invocations in one scenario.
pub const MAX_TAT_INVOCATIONS: usize = 100_000;
/// Rows of one trace file (SPEC §2): about 100 bytes each once read.
pub const MAX_TRACE_ROWS: usize = 1_000_000;
/// The size of one trace file, read whole so that messages can point into it.
pub const MAX_TRACE_BYTES: u64 = 256 << 20;
