//! Clients: which fields each type takes, their retry policy, and the warnings about calls that
//! will be answered with an error.
//!
//! A call naming a job, task, index, DLC task or invocation that does not exist, or a malformed
//! id, is not bad input: the call is made and the API answers with its error, which is how
//! erroneous callers are modelled. `validate` and `run` warn about each such call (for a trace,
//! about the first few rows, then a count), naming the field or the CSV cell.

use std::collections::HashMap;

use crate::engine::SimTime;
use crate::model::config::{CallRef, Client, ClientKind, DlcTask, IndexList, Jitter, Job, Retry, TatInvocation};
use crate::model::ids::{is_dlc_task_id, is_invocation_id, is_job_id};

use super::build::{Ctx, Result};
use super::error::JsonPath;
use super::file::{ClientFile, ClientType, JitterFile, ScenarioFile};
use super::limits::{MAX_ATTEMPTS, MAX_CLIENTS, MAX_INVOCATION_INSTANCES, MAX_TRACE_ROWS};
use super::trace;
use super::values::IndicesSpec;

/// The parameter of a call a warning is about: a field of a client, or a column of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Param {
    At,
    Job,
    Task,
    Index,
    TaskId,
    Invocation,
    Instances,
}

impl Param {
    /// The client field that holds it.
    fn field(self) -> &'static str {
        match self {
            Param::At => "at",
            Param::Job => "job",
            Param::Task => "task",
            Param::Index => "indices",
            Param::TaskId => "task_id",
            Param::Invocation => "invocation",
            Param::Instances => "instances",
        }
    }
}

/// What the scenario defines, for telling which calls will fail.
pub(super) struct Known<'a> {
    jobs: HashMap<&'a str, &'a Job>,
    dlc_tasks: HashMap<&'a str, &'a DlcTask>,
    invocations: HashMap<&'a str, &'a TatInvocation>,
}

impl<'a> Known<'a> {
    pub(super) fn new(jobs: &'a [Job], dlc_tasks: &'a [DlcTask], invocations: &'a [TatInvocation]) -> Self {
        Known {
            jobs: jobs.iter().map(|j| (j.id.as_str(), j)).collect(),
            dlc_tasks: dlc_tasks.iter().map(|t| (t.id.as_str(), t)).collect(),
            invocations: invocations.iter().map(|v| (v.id.as_str(), v)).collect(),
        }
    }

    /// Why a call of `job` sent at `at` will not do what it seems to, if it will not.
    fn job_problem(&self, job_id: &str, at: SimTime, not_found: &str) -> Option<(Param, String)> {
        if !is_job_id(job_id) {
            return Some((
                Param::Job,
                format!("`{job_id}` is not a job id: calls naming it will get InvalidParameter.JobIdMalformed"),
            ));
        }
        match self.jobs.get(job_id) {
            None => {
                Some((Param::Job, format!("no job `{job_id}` in the scenario: calls naming it will get {not_found}")))
            }
            Some(job) if at < job.submit_at => Some((
                Param::At,
                format!(
                    "job `{job_id}` is submitted at {} s, after the call sent at {at} s: that call will get {not_found}",
                    job.submit_at
                ),
            )),
            Some(_) => None,
        }
    }

    /// Why `call`, sent at `at`, will be answered with an error, if it will.
    pub(super) fn problem(&self, call: CallRef, at: SimTime) -> Option<(Param, String)> {
        match call {
            CallRef::TerminateJob { job } => self.job_problem(job, at, "ResourceNotFound.Job"),
            CallRef::TerminateTaskInstance { job, task, index } => {
                self.job_problem(job, at, "ResourceNotFound.TaskInstance").or_else(|| {
                    let found = self.jobs[job].tasks.iter().find(|t| t.name == task);
                    match found {
                        None => Some((
                            Param::Task,
                            format!(
                                "job `{job}` has no task `{task}`: the call will get ResourceNotFound.TaskInstance"
                            ),
                        )),
                        Some(t) if !(0..i64::from(t.instances)).contains(&index) => Some((
                            Param::Index,
                            format!(
                                "index {index} is outside 0..{}: the call will get ResourceNotFound.TaskInstance",
                                t.instances - 1
                            ),
                        )),
                        Some(_) => None,
                    }
                })
            }
            CallRef::CancelTask { task_id } => match self.dlc_tasks.get(task_id) {
                _ if !is_dlc_task_id(task_id) => Some((
                    Param::TaskId,
                    format!("`{task_id}` is not a DLC task id: the call will get InvalidParameter.InvalidTaskId"),
                )),
                None => Some((
                    Param::TaskId,
                    format!(
                        "no DLC task `{task_id}` in the scenario: the call will get InvalidParameter.InvalidTaskId"
                    ),
                )),
                Some(t) if at < t.submit_at => Some((
                    Param::At,
                    format!(
                        "DLC task `{task_id}` is submitted at {} s, after the call sent at {at} s: that call will get InvalidParameter.InvalidTaskId",
                        t.submit_at
                    ),
                )),
                Some(_) => None,
            },
            CallRef::CancelInvocation { invocation, instances } => {
                let too_many = instances.is_some_and(|ids| ids.len() > MAX_INVOCATION_INSTANCES);
                match self.invocations.get(invocation) {
                    _ if !is_invocation_id(invocation) => Some((
                        Param::Invocation,
                        format!(
                            "`{invocation}` is not an invocation id: the call will get InvalidParameterValue.InvalidInvocationId"
                        ),
                    )),
                    _ if too_many => Some((
                        Param::Instances,
                        format!(
                            "more than {MAX_INVOCATION_INSTANCES} instance ids: the call will get InvalidParameterValue.LimitExceeded"
                        ),
                    )),
                    None => Some((
                        Param::Invocation,
                        format!(
                            "no invocation `{invocation}` in the scenario: the call will get ResourceNotFound.InvocationNotFound"
                        ),
                    )),
                    Some(v) if at < v.at => Some((
                        Param::At,
                        format!(
                            "invocation `{invocation}` starts at {} s, after the call sent at {at} s: that call will get ResourceNotFound.InvocationNotFound",
                            v.at
                        ),
                    )),
                    Some(v) => {
                        let unrelated =
                            instances.iter().copied().flatten().filter(|i| !v.instances.contains(i)).count();
                        (unrelated > 0).then(|| {
                            (Param::Instances, format!("{unrelated} of the instances are not in the invocation: the call will get InvalidParameterValue.InstanceIsNotRelatedToInvocation"))
                        })
                    }
                }
            }
        }
    }
}

/// The fields a client type takes besides `type`, `name`, `account`, `at` and `retry`.
fn takes(kind: ClientType, field: &str) -> bool {
    match field {
        "job" => matches!(kind, ClientType::TerminateJob | ClientType::TerminateTaskInstances),
        "task" | "indices" | "rate" => kind == ClientType::TerminateTaskInstances,
        "task_id" => kind == ClientType::CancelTask,
        "invocation" | "instances" => kind == ClientType::CancelInvocation,
        "csv" => kind == ClientType::Trace,
        _ => unreachable!("not a client field: {field}"),
    }
}

pub(super) fn build_clients(ctx: &mut Ctx, file: &ScenarioFile, known: &Known) -> Result<Vec<Client>> {
    let p = JsonPath::root().key("clients");
    ctx.check(file.clients.len() <= MAX_CLIENTS, &p, || format!("at most {MAX_CLIENTS} clients"))?;
    let mut clients = Vec::with_capacity(file.clients.len());
    let mut trace_rows = 0;
    for (k, c) in file.clients.iter().enumerate() {
        let cp = p.index(k);
        let kind_name = c.kind.as_str();
        for (present, field) in [
            (c.job.is_some(), "job"),
            (c.task.is_some(), "task"),
            (c.indices.is_some(), "indices"),
            (c.rate.is_some(), "rate"),
            (c.task_id.is_some(), "task_id"),
            (c.invocation.is_some(), "invocation"),
            (c.instances.is_some(), "instances"),
            (c.csv.is_some(), "csv"),
        ] {
            ctx.check(!present || takes(c.kind, field), &cp.key(field), || {
                format!("`{field}` does not apply to a {kind_name} client")
            })?;
        }
        let required = |value: Option<&String>, field: &str| {
            value.cloned().ok_or_else(|| ctx.err(&cp, format!("a {kind_name} client needs `{field}`")))
        };
        let at = c.at.map_or(SimTime::ZERO, |d| d.0);
        let kind = match c.kind {
            ClientType::TerminateJob => ClientKind::TerminateJob { at, job: required(c.job.as_ref(), "job")? },
            ClientType::CancelTask => ClientKind::CancelTask { at, task_id: required(c.task_id.as_ref(), "task_id")? },
            ClientType::CancelInvocation => ClientKind::CancelInvocation {
                at,
                invocation: required(c.invocation.as_ref(), "invocation")?,
                instances: c.instances.clone(),
            },
            ClientType::TerminateTaskInstances => terminate_task_instances(ctx, &cp, c, at, known)?,
            ClientType::Trace => {
                let csv = required(c.csv.as_ref(), "csv")?;
                let budget = MAX_TRACE_ROWS - trace_rows;
                let rows = trace::load(ctx, &cp.key("csv"), &csv, at, budget, known)?;
                // Shared rows (a sweep's) were counted against the file alone.
                ctx.check(rows.len() <= budget, &cp.key("csv"), || {
                    format!("the traces of a scenario hold at most {MAX_TRACE_ROWS} rows in all")
                })?;
                trace_rows += rows.len();
                let late = rows.iter().filter(|r| r.at > file.horizon.0).count();
                if late > 0 {
                    let rows = trace::rows_word(late);
                    ctx.warn(
                        &cp.key("csv"),
                        format!("{late} {rows} of the trace come after the horizon and are not sent"),
                    );
                }
                ClientKind::Trace { rows }
            }
        };
        if matches!(
            kind,
            ClientKind::TerminateJob { .. } | ClientKind::CancelTask { .. } | ClientKind::CancelInvocation { .. }
        ) {
            if let Some((param, message)) = known.problem(kind.call(0), at) {
                ctx.warn(&cp.key(param.field()), message);
            }
        }
        let retry = c.retry.as_ref().map(|r| build_retry(ctx, &cp.key("retry"), r)).transpose()?;
        let name = c.name.clone().unwrap_or_else(|| format!("{kind_name}-{k}"));
        ctx.check(!name.is_empty() && name.len() <= 128, &cp.key("name"), || {
            "a client name has 1 to 128 characters".into()
        })?;
        let account = c.account.clone().unwrap_or_else(|| "default".into());
        ctx.check(!account.is_empty() && account.chars().count() <= 128, &cp.key("account"), || {
            "an account has 1 to 128 characters".into()
        })?;
        clients.push(Client { name, account, kind, retry });
    }
    Ok(clients)
}

/// A `terminate_task_instances` client: the i-th index of its list at `at + i / rate`. Its
/// warnings count the indices rather than name each call.
fn terminate_task_instances(
    ctx: &mut Ctx,
    cp: &JsonPath,
    c: &ClientFile,
    at: SimTime,
    known: &Known,
) -> Result<ClientKind> {
    let (Some(job_id), Some(task_name)) = (&c.job, &c.task) else {
        let missing = if c.job.is_none() { "job" } else { "task" };
        return Err(ctx.err(cp, format!("a terminate_task_instances client needs `{missing}`")));
    };
    let rate = ctx.rate(c.rate.unwrap_or(2.0), &cp.key("rate"), "rate")?;
    let job_problem = known.job_problem(job_id, at, "ResourceNotFound.TaskInstance");
    let job = known.jobs.get(job_id.as_str()).filter(|_| is_job_id(job_id));
    let task = job.and_then(|j| j.tasks.iter().find(|t| t.name == *task_name));
    let indices = match c.indices.clone().unwrap_or(IndicesSpec::All) {
        IndicesSpec::All => match task {
            Some(t) => IndexList::Range { from: 0, to: i64::from(t.instances) - 1 },
            None => IndexList::List(Vec::new()),
        },
        IndicesSpec::List(v) => IndexList::List(v),
        IndicesSpec::Range { from, to } => IndexList::Range { from, to },
    };
    if let Some((param, message)) = job_problem {
        ctx.warn(&cp.key(param.field()), message);
    }
    if job.is_some() && task.is_none() {
        ctx.warn(
            &cp.key("task"),
            format!("job `{job_id}` has no task `{task_name}`: the calls will get ResourceNotFound.TaskInstance"),
        );
    }
    if let Some(t) = task {
        let n = i64::from(t.instances);
        let outside = (0..indices.len()).filter(|&i| !(0..n).contains(&indices.get(i))).count();
        if outside > 0 {
            ctx.warn(
                &cp.key("indices"),
                format!(
                    "{outside} of the indices are outside 0..{}: those calls will get ResourceNotFound.TaskInstance",
                    n - 1
                ),
            );
        }
    }
    if indices.is_empty() {
        ctx.warn(&cp.key("indices"), "this client makes no call");
    }
    Ok(ClientKind::TerminateTaskInstances { at, job: job_id.clone(), task: task_name.clone(), indices, rate })
}

fn build_retry(ctx: &Ctx, rp: &JsonPath, r: &super::file::RetryFile) -> Result<Retry> {
    ctx.check((1..=MAX_ATTEMPTS).contains(&r.max_attempts), &rp.key("max_attempts"), || {
        format!("from 1 to {MAX_ATTEMPTS} attempts, got {}", r.max_attempts)
    })?;
    ctx.check(r.multiplier.is_finite() && (1.0..=1000.0).contains(&r.multiplier), &rp.key("multiplier"), || {
        format!("the multiplier must be from 1 to 1000, got {}", r.multiplier)
    })?;
    Ok(Retry {
        max_attempts: r.max_attempts,
        base: r.base.0,
        max: r.max.0,
        multiplier: r.multiplier,
        jitter: match r.jitter {
            JitterFile::None => Jitter::None,
            JitterFile::Full => Jitter::Full,
            JitterFile::Equal => Jitter::Equal,
        },
    })
}
