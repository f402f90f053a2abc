//! Clients: which fields each type takes, their retry policy, and the warnings about calls that
//! will be answered with an error ([`super::calls`]): `validate` and `run` warn about each such
//! call (for a trace, about the first few rows, then a count), naming the field or the CSV cell.

use crate::engine::SimTime;
use crate::model::config::{Client, ClientKind, IndexList, Jitter, Retry};
use crate::model::target::Catalog;

use super::calls::CallCheck;
use super::context::{Ctx, Result};
use super::error::JsonPath;
use super::file::{ClientFile, ClientType, JitterFile, ScenarioFile};
use super::limits::{MAX_ATTEMPTS, MAX_CLIENTS, MAX_TRACE_ROWS};
use super::trace;
use super::values::IndicesSpec;

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

pub(super) fn build_clients(ctx: &mut Ctx, file: &ScenarioFile, catalog: Catalog) -> Result<Vec<Client>> {
    let mut calls = CallCheck::new(catalog);
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
                // SPEC 1.7c: an empty list names no instance; leaving it out means all.
                instances: {
                    ctx.check(c.instances.as_ref().is_none_or(|ids| !ids.is_empty()), &cp.key("instances"), || {
                        "an empty list names no instance: leave `instances` out to cancel every task".into()
                    })?;
                    c.instances.clone()
                },
                at,
                invocation: required(c.invocation.as_ref(), "invocation")?,
            },
            ClientType::TerminateTaskInstances => terminate_task_instances(ctx, &cp, c, at, &mut calls)?,
            ClientType::Trace => {
                let csv = required(c.csv.as_ref(), "csv")?;
                let budget = MAX_TRACE_ROWS - trace_rows;
                let rows = trace::load(ctx, &cp.key("csv"), &csv, at, budget, &mut calls)?;
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
        ) && let Some((param, message)) = calls.problem(kind.call(0), at)
        {
            ctx.warn(&cp.key(param.field()), message);
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
    calls: &mut CallCheck,
) -> Result<ClientKind> {
    let (Some(job_id), Some(task_name)) = (&c.job, &c.task) else {
        let missing = if c.job.is_none() { "job" } else { "task" };
        return Err(ctx.err(cp, format!("a terminate_task_instances client needs `{missing}`")));
    };
    let rate = ctx.rate(c.rate.unwrap_or(2.0), &cp.key("rate"), "rate")?;
    let indices = match c.indices.clone().unwrap_or(IndicesSpec::All) {
        IndicesSpec::All => match calls.instances_of(job_id, task_name) {
            Some(n) => IndexList::Range { from: 0, to: i64::from(n) - 1 },
            None => IndexList::List(Vec::new()),
        },
        IndicesSpec::List(v) => IndexList::List(v),
        IndicesSpec::Range { from, to } => IndexList::Range { from, to },
    };
    for (param, message) in calls.index_list_problems(job_id, task_name, (0..indices.len()).map(|i| indices.get(i)), at)
    {
        ctx.warn(&cp.key(param.field()), message);
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
