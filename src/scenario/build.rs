//! From a parsed file to the model's [`Config`]: cross-field checks (references, ranges, limits,
//! dependency cycles) and the conversion of every value to the model's units.

use std::collections::{HashMap, HashSet};

use crate::engine::SimTime;
use crate::expect::Expectation;
use crate::model::Action;
use crate::model::config::{
    Api, Backend, Config, CreateFailedState, Cvm, DlcTask, EnvRef, Environment, FailedAction, Job, NamedEnvPolicy,
    RateLimitAlgorithm, Task, TatInvocation,
};
use crate::model::ids::{is_dlc_task_id, is_env_id, is_instance_id, is_invocation_id, is_job_id};
use crate::model::target::Catalog;

use super::clients::build_clients;
use super::context::{Ctx, Result};
use super::error::{InputError, JsonPath};
use super::file::*;
use super::limits::*;

fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub(super) fn build(ctx: &mut Ctx, file: &ScenarioFile, default_name: &str) -> Result<(Config, Vec<Expectation>)> {
    let root = JsonPath::root();
    let name = match &file.name {
        Some(n) => {
            ctx.check(is_plain_name(n) && n != "." && n != "..", &root.key("name"), || {
                format!("`{n}` is not a usable name: letters, digits, `-`, `_` and `.`, at most 128 (it names the output folder)")
            })?;
            n.clone()
        }
        None => default_name.to_owned(),
    };
    ctx.check(file.horizon.0 > SimTime::ZERO, &root.key("horizon"), || "the horizon must be positive".into())?;

    let backend = build_backend(ctx, &file.backend)?;
    let environments = build_environments(ctx, &file.environments)?;
    let jobs = build_jobs(ctx, file, &environments)?;
    let dlc_tasks = build_dlc_tasks(ctx, file)?;
    let tat_invocations = build_tat_invocations(ctx, file)?;
    let catalog = Catalog { jobs: &jobs, dlc_tasks: &dlc_tasks, invocations: &tat_invocations };
    let clients = build_clients(ctx, file, catalog)?;
    let expectations = file
        .expect
        .iter()
        .map(|(metric, rule)| Expectation::parse(metric, rule).map_err(|e| ctx.err(&root.key("expect").key(metric), e)))
        .collect::<Result<Vec<_>>>()?;
    let config = Config {
        name,
        seed: file.seed,
        horizon: file.horizon.0,
        backend,
        environments,
        jobs,
        clients,
        dlc_tasks,
        tat_invocations,
    };
    for j in 0..config.jobs.len() {
        ctx.check(!config.loops_within_an_instant(j), &root.key("jobs").index(j).key("state_if_create_cvm_failed"), || {
            "with `backend.cvm.creation_failure_rate` 1.0 every launch fails, and `backend.cvm.creation_delay` can draw 0 s: \
             `\"RUNNABLE\"` would relaunch this job's instances within one instant for ever (use a creation delay that cannot be 0, \
             a failure rate below 1, or `\"FAILED\"`)"
                .into()
        })?;
        // Legal, but every launch fails and relaunches until the horizon, one timeline row after
        // another: a user more likely meant something else (SPEC is silent; a warning, not a refusal).
        let job = &config.jobs[j];
        if job.env == EnvRef::Anonymous
            && job.state_if_create_cvm_failed == CreateFailedState::Runnable
            && config.backend.cvm.creation_failure_rate >= 1.0
        {
            ctx.warn(
                &root.key("jobs").index(j).key("state_if_create_cvm_failed"),
                "with `backend.cvm.creation_failure_rate` 1.0 every launch fails: `\"RUNNABLE\"` relaunches this job's instances \
                 once per creation delay until the horizon, and the timeline grows with the horizon",
            );
        }
    }
    // What the model checks itself, the checks above have refused already, each at its place.
    config.check().map_err(|e| InputError::new(ctx.file, e.to_string()))?;
    Ok((config, expectations))
}

fn build_backend(ctx: &Ctx, b: &BackendFile) -> Result<Backend> {
    let p = JsonPath::root().key("backend");
    let api = p.key("api");
    for (limit, action) in b.api.limits.by_action().into_iter().zip(Action::ALL) {
        ctx.check((1..=MAX_RATE as u32).contains(&limit), &api.key("limits").key(action.as_str()), || {
            format!("a rate limit is a whole number of calls per second from 1 to {MAX_RATE}, got {limit}")
        })?;
    }
    let cvm = p.key("cvm");
    let rate = b.cvm.interruption_rate_per_hour;
    ctx.check(rate.is_finite() && (0.0..=1e6).contains(&rate), &cvm.key("interruption_rate_per_hour"), || {
        format!("must be a rate per hour from 0 to 1000000, got {rate}")
    })?;
    let create_rate_limit =
        b.cvm.create_rate_limit.map(|r| ctx.rate(r, &cvm.key("create_rate_limit"), "create_rate_limit")).transpose()?;
    let terminate_rate_limit = b
        .cvm
        .terminate_rate_limit
        .map(|r| ctx.rate(r, &cvm.key("terminate_rate_limit"), "terminate_rate_limit"))
        .transpose()?;
    if let Some(max) = b.quota.max_cvms {
        ctx.check(max >= 1, &p.key("quota").key("max_cvms"), || {
            "the quota must allow at least one CVM (or be null)".into()
        })?;
    }
    let workers = b.job_termination.workers;
    ctx.check((1..=MAX_WORKERS).contains(&workers), &p.key("job_termination").key("workers"), || {
        format!("from 1 to {MAX_WORKERS} workers, got {workers}")
    })?;
    Ok(Backend {
        api: Api {
            latency: ctx.delay(&b.api.latency, &api.key("latency"))?,
            rate_limit: match b.api.rate_limit {
                RateLimitFile::FixedWindow => RateLimitAlgorithm::FixedWindow,
                RateLimitFile::TokenBucket => RateLimitAlgorithm::TokenBucket,
            },
            limits: b.api.limits.by_action(),
            internal_error_rate: b.api.internal_error_rate.0,
        },
        cvm: Cvm {
            creation_delay: ctx.delay(&b.cvm.creation_delay, &cvm.key("creation_delay"))?,
            creation_failure_rate: b.cvm.creation_failure_rate.0,
            termination_delay: ctx.delay(&b.cvm.termination_delay, &cvm.key("termination_delay"))?,
            restart_delay: ctx.delay(&b.cvm.restart_delay, &cvm.key("restart_delay"))?,
            interruption_rate_per_hour: rate,
            create_rate_limit,
            terminate_rate_limit,
        },
        quota_max_cvms: b.quota.max_cvms,
        submit_delay: ctx.delay(&b.submit_delay, &p.key("submit_delay"))?,
        bypass_poll_interval: b.bypass.poll_interval.0,
        job_termination_per_instance: b.job_termination.per_instance.0,
        job_termination_per_task: b.job_termination.per_task.0,
        job_termination_workers: workers,
        named_env_termination: match b.named_env_termination {
            NamedEnvPolicyFile::Reject => NamedEnvPolicy::Reject,
            NamedEnvPolicyFile::RestartCvm => NamedEnvPolicy::RestartCvm,
        },
    })
}

fn build_environments(ctx: &Ctx, envs: &[EnvironmentFile]) -> Result<Vec<Environment>> {
    let p = JsonPath::root().key("environments");
    ctx.check(envs.len() <= MAX_ENVIRONMENTS, &p, || format!("at most {MAX_ENVIRONMENTS} environments"))?;
    let mut seen = HashSet::new();
    let mut nodes = 0u64;
    for (k, env) in envs.iter().enumerate() {
        let e = p.index(k);
        ctx.check(is_env_id(&env.id), &e.key("id"), || {
            format!("`{}` is not an environment id: `env-` and 8 lowercase letters or digits", env.id)
        })?;
        ctx.check(seen.insert(&env.id), &e.key("id"), || format!("environment `{}` is defined twice", env.id))?;
        ctx.check(env.nodes >= 1, &e.key("nodes"), || "an environment needs at least one node".into())?;
        nodes += u64::from(env.nodes);
        ctx.check(nodes <= MAX_NODES, &e.key("nodes"), || format!("at most {MAX_NODES} nodes in all environments"))?;
    }
    Ok(envs.iter().map(|e| Environment { id: e.id.clone(), nodes: e.nodes }).collect())
}

fn build_jobs(ctx: &Ctx, file: &ScenarioFile, envs: &[Environment]) -> Result<Vec<Job>> {
    let p = JsonPath::root().key("jobs");
    ctx.check(!file.jobs.is_empty(), &p, || "a scenario needs at least one job".into())?;
    ctx.check(file.jobs.len() <= MAX_JOBS, &p, || format!("at most {MAX_JOBS} jobs"))?;
    let mut ids = HashSet::new();
    let mut total = 0u64;
    let mut jobs = Vec::with_capacity(file.jobs.len());
    for (k, job) in file.jobs.iter().enumerate() {
        let jp = p.index(k);
        ctx.check(is_job_id(&job.id), &jp.key("id"), || {
            format!("`{}` is not a job id: `job-` and 8 lowercase letters or digits (e.g. job-rybewp57)", job.id)
        })?;
        ctx.check(ids.insert(&job.id), &jp.key("id"), || format!("job `{}` is defined twice", job.id))?;
        let env = if job.env == "anonymous" {
            EnvRef::Anonymous
        } else {
            let found = envs.iter().position(|e| e.id == job.env);
            let Some(found) = found else {
                return Err(ctx.err(
                    &jp.key("env"),
                    format!("`{}` is neither \"anonymous\" nor an environment of `environments`", job.env),
                ));
            };
            EnvRef::Named(found as u32)
        };
        let tp = jp.key("tasks");
        ctx.check(!job.tasks.is_empty(), &tp, || "a job needs at least one task".into())?;
        ctx.check(job.tasks.len() <= MAX_TASKS_PER_JOB, &tp, || format!("at most {MAX_TASKS_PER_JOB} tasks per job"))?;
        let mut by_name = HashMap::new();
        for (t, task) in job.tasks.iter().enumerate() {
            ctx.check(is_plain_name(&task.name), &tp.index(t).key("name"), || {
                format!("`{}` is not a task name: letters, digits, `-`, `_` and `.`, at most 128", task.name)
            })?;
            if by_name.insert(task.name.as_str(), t).is_some() {
                return Err(
                    ctx.err(&tp.index(t).key("name"), format!("task `{}` is defined twice in this job", task.name))
                );
            }
        }
        let mut tasks = Vec::with_capacity(job.tasks.len());
        for (t, task) in job.tasks.iter().enumerate() {
            let tk = tp.index(t);
            ctx.check(task.instances >= 1, &tk.key("instances"), || "a task needs at least one instance".into())?;
            total += u64::from(task.instances);
            ctx.check(total <= u64::from(MAX_INSTANCES), &tk.key("instances"), || {
                format!("a scenario may hold at most {MAX_INSTANCES} task instances in all; this brings it to {total}")
            })?;
            ctx.check(task.retry_count <= MAX_RETRY_COUNT, &tk.key("retry_count"), || {
                format!("at most {MAX_RETRY_COUNT} retries")
            })?;
            let mut depends_on = Vec::with_capacity(task.depends_on.len());
            for (d, dep) in task.depends_on.iter().enumerate() {
                let dp = tk.key("depends_on").index(d);
                let Some(&target) = by_name.get(dep.as_str()) else {
                    return Err(ctx.err(&dp, format!("no task `{dep}` in job `{}`", job.id)));
                };
                ctx.check(target != t, &dp, || format!("task `{dep}` depends on itself"))?;
                ctx.check(!depends_on.contains(&(target as u32)), &dp, || format!("`{dep}` is listed twice"))?;
                depends_on.push(target as u32);
            }
            tasks.push(Task {
                name: task.name.clone(),
                instances: task.instances,
                runtime: ctx.delay(&task.runtime, &tk.key("runtime"))?,
                failure_rate: task.failure_rate.0,
                retry_count: task.retry_count,
                failed_action: match task.failed_action {
                    FailedActionFile::Terminate => FailedAction::Terminate,
                    FailedActionFile::Interrupt => FailedAction::Interrupt,
                },
                depends_on,
            });
        }
        check_acyclic(ctx, &tasks, &tp)?;
        jobs.push(Job {
            id: job.id.clone(),
            submit_at: job.submit_at.0,
            env,
            state_if_create_cvm_failed: match job.state_if_create_cvm_failed {
                CreateFailedFile::Failed => CreateFailedState::Failed,
                CreateFailedFile::Runnable => CreateFailedState::Runnable,
            },
            tasks,
        });
    }
    Ok(jobs)
}

/// Depth-first search for a cycle; the error points at the dependency that closes it.
fn check_acyclic(ctx: &Ctx, tasks: &[Task], tp: &JsonPath) -> Result<()> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; tasks.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..tasks.len() {
        if mark[start] != Mark::New {
            continue;
        }
        mark[start] = Mark::Open;
        stack.push((start, 0));
        while let Some(&mut (t, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = tasks[t].depends_on.get(*next) {
                let d = *next;
                *next += 1;
                match mark[dep as usize] {
                    Mark::New => {
                        mark[dep as usize] = Mark::Open;
                        stack.push((dep as usize, 0));
                    }
                    Mark::Open => {
                        let from =
                            stack.iter().position(|&(s, _)| s == dep as usize).expect("open tasks are on the stack");
                        let mut cycle: Vec<&str> = stack[from..].iter().map(|&(s, _)| tasks[s].name.as_str()).collect();
                        cycle.push(&tasks[dep as usize].name);
                        return Err(ctx.err(
                            &tp.index(t).key("depends_on").index(d),
                            format!("dependency cycle: {}", cycle.join(" -> ")),
                        ));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[t] = Mark::Done;
                stack.pop();
            }
        }
    }
    Ok(())
}

fn build_dlc_tasks(ctx: &Ctx, file: &ScenarioFile) -> Result<Vec<DlcTask>> {
    let p = JsonPath::root().key("dlc").key("tasks");
    ctx.check(file.dlc.tasks.len() <= MAX_DLC_TASKS, &p, || format!("at most {MAX_DLC_TASKS} DLC tasks"))?;
    let mut tasks: Vec<DlcTask> = Vec::with_capacity(file.dlc.tasks.len());
    let mut seen = HashSet::new();
    for (k, t) in file.dlc.tasks.iter().enumerate() {
        let tp = p.index(k);
        ctx.check(is_dlc_task_id(&t.id), &tp.key("id"), || {
            format!("`{}` is not a DLC task id: a UUID such as 4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564", t.id)
        })?;
        ctx.check(seen.insert(t.id.as_str()), &tp.key("id"), || format!("DLC task `{}` appears twice", t.id))?;
        tasks.push(DlcTask {
            id: t.id.clone(),
            submit_at: t.submit_at.0,
            queued: ctx.delay(&t.queued, &tp.key("queued"))?,
            initializing: ctx.delay(&t.initializing, &tp.key("initializing"))?,
            running: ctx.delay(&t.running, &tp.key("running"))?,
            writing_data: ctx.delay(&t.writing_data, &tp.key("writing_data"))?,
            failure_rate: t.failure_rate.0,
            cancel_delay: ctx.delay(&t.cancel_delay, &tp.key("cancel_delay"))?,
        });
    }
    Ok(tasks)
}

fn build_tat_invocations(ctx: &Ctx, file: &ScenarioFile) -> Result<Vec<TatInvocation>> {
    let p = JsonPath::root().key("tat").key("invocations");
    ctx.check(file.tat.invocations.len() <= MAX_TAT_INVOCATIONS, &p, || {
        format!("at most {MAX_TAT_INVOCATIONS} TAT invocations")
    })?;
    let mut invocations = Vec::with_capacity(file.tat.invocations.len());
    let mut seen = HashSet::new();
    for (k, inv) in file.tat.invocations.iter().enumerate() {
        let ip = p.index(k);
        ctx.check(is_invocation_id(&inv.id), &ip.key("id"), || {
            format!("`{}` is not an invocation id: `inv-` and 8 lowercase letters or digits", inv.id)
        })?;
        ctx.check(seen.insert(inv.id.as_str()), &ip.key("id"), || format!("invocation `{}` appears twice", inv.id))?;
        ctx.check((1..=MAX_INVOCATION_INSTANCES).contains(&inv.instances.len()), &ip.key("instances"), || {
            format!("an invocation runs on 1 to {MAX_INVOCATION_INSTANCES} instances, got {}", inv.instances.len())
        })?;
        let mut on = HashSet::new();
        for (n, instance) in inv.instances.iter().enumerate() {
            ctx.check(is_instance_id(instance), &ip.key("instances").index(n), || {
                format!("`{instance}` is not an instance id: `ins-` and 8 lowercase letters or digits")
            })?;
            ctx.check(on.insert(instance.as_str()), &ip.key("instances").index(n), || {
                format!("instance `{instance}` appears twice in the invocation")
            })?;
        }
        invocations.push(TatInvocation {
            id: inv.id.clone(),
            at: inv.at.0,
            instances: inv.instances.clone(),
            pending: ctx.delay(&inv.pending, &ip.key("pending"))?,
            delivery: ctx.delay(&inv.delivery, &ip.key("delivery"))?,
            deliver_delayed_rate: inv.deliver_delayed_rate.0,
            deliver_delayed_extra: ctx.delay(&inv.deliver_delayed_extra, &ip.key("deliver_delayed_extra"))?,
            deliver_failed_rate: inv.deliver_failed_rate.0,
            failure_rate: inv.failure_rate.0,
            runtime: ctx.delay(&inv.runtime, &ip.key("runtime"))?,
            timeout: inv.timeout.0,
            kill_delay: ctx.delay(&inv.kill_delay, &ip.key("kill_delay"))?,
        });
    }
    Ok(invocations)
}
