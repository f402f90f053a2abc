//! Warnings about calls that will be answered with an error.
//!
//! A call naming a job, task, index, DLC task or invocation that does not exist, or a malformed
//! id, is not bad input: the call is made and the API answers with its error, which is how
//! erroneous callers are modelled. Which error a call gets is the model's rule
//! ([`crate::model::target`]): this module asks it, for each call at the time it is sent, and
//! words the answer for a person, naming the parameter the warning is about.

use crate::engine::SimTime;
use crate::model::Action;
use crate::model::config::CallRef;
use crate::model::limits::MAX_INVOCATION_INSTANCES;
use crate::model::target::{Catalog, MAX_DESCRIBE_IDS, Named, Refusal, Request, Resolver, check};

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
    pub(super) fn field(self) -> &'static str {
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

/// Tells which calls will be answered with an error, and why.
pub(super) struct CallCheck<'a> {
    resolver: Resolver<'a>,
}

impl<'a> CallCheck<'a> {
    pub(super) fn new(catalog: Catalog<'a>) -> Self {
        CallCheck { resolver: Resolver::new(catalog) }
    }

    /// Why `call`, sent at `at`, will be answered with an error, if it will.
    pub(super) fn problem(&mut self, call: CallRef, at: SimTime) -> Option<(Param, String)> {
        let request = self.resolver.request(call);
        let refusal = check(request, at, self.resolver.catalog()).err()?;
        Some(explain(refusal, call, request.action(), at))
    }

    /// How many instances task `task_name` of job `job_id` has, if the scenario has it.
    pub(super) fn instances_of(&self, job_id: &str, task_name: &str) -> Option<u32> {
        let job = self.resolver.job(job_id);
        let (Named::Known(j), Some(t)) = (job, self.resolver.task(job, task_name)) else { return None };
        Some(self.resolver.catalog().jobs[j as usize].tasks[t as usize].instances)
    }

    /// The warnings about a `terminate_task_instances` client's calls, counted rather than named
    /// one by one: a problem with its job or task (judged at its first call, `at`), then how many
    /// of `indices` are outside the task.
    pub(super) fn index_list_problems(
        &mut self,
        job_id: &str,
        task_name: &str,
        indices: impl Iterator<Item = i64>,
        at: SimTime,
    ) -> Vec<(Param, String)> {
        let action = Action::TerminateTaskInstance;
        let call = CallRef::TerminateTaskInstance { job: job_id, task: task_name, index: 0 };
        let job = self.resolver.job(job_id);
        let task = self.resolver.task(job, task_name);
        let mut problems = Vec::new();
        let catalog = *self.resolver.catalog();
        if let Err(refusal) = check(Request::TerminateJob { job }, at, &catalog) {
            problems.push(explain(refusal, call, action, at));
        }
        let Named::Known(_) = job else { return problems };
        let Some(t) = task else {
            let (param, message) = explain(Refusal::NoSuchTask, call, action, at);
            problems.push((param, message.replacen("the call will", "the calls will", 1)));
            return problems;
        };
        // Whenever each call is sent: only the index decides now.
        let outside = indices
            .filter(|&index| {
                let request = Request::TerminateTaskInstance { job, task: Some(t), index };
                matches!(check(request, SimTime::MAX, &catalog), Err(Refusal::IndexOutside { .. }))
            })
            .count();
        if outside > 0 {
            let Named::Known(j) = job else { unreachable!("matched above") };
            let instances = catalog.jobs[j as usize].tasks[t as usize].instances;
            let code = Refusal::IndexOutside { instances }.code(action);
            problems.push((
                Param::Index,
                format!("{outside} of the indices are outside 0..{}: those calls will get {code}", instances - 1),
            ));
        }
        problems
    }
}

/// A refusal in words, and the parameter it is about.
fn explain(refusal: Refusal, call: CallRef, action: Action, at: SimTime) -> (Param, String) {
    let code = refusal.code(action).as_str();
    let (job, task, index, task_id, invocation) = match call {
        CallRef::TerminateTaskInstance { job, task, index } => (job, task, index, "", ""),
        CallRef::TerminateJob { job } => (job, "", 0, "", ""),
        CallRef::CancelTask { task_id } => ("", "", 0, task_id, ""),
        CallRef::CancelInvocation { invocation, .. } => ("", "", 0, "", invocation),
        CallRef::Describe { ids, task, .. } => {
            let first = ids.and_then(<[String]>::first).map_or("", String::as_str);
            (first, task.unwrap_or(""), 0, first, first)
        }
    };
    match refusal {
        Refusal::JobIdMalformed => (Param::Job, format!("`{job}` is not a job id: calls naming it will get {code}")),
        Refusal::NoSuchJob => (Param::Job, format!("no job `{job}` in the scenario: calls naming it will get {code}")),
        Refusal::JobNotYetSubmitted { submit_at } => (
            Param::At,
            format!(
                "job `{job}` is submitted at {submit_at} s, after the call sent at {at} s: that call will get {code}"
            ),
        ),
        Refusal::NoSuchTask => (Param::Task, format!("job `{job}` has no task `{task}`: the call will get {code}")),
        Refusal::IndexOutside { instances } => (
            Param::Index,
            format!("index {index} is outside 0..{}: the call will get {code}", i64::from(instances) - 1),
        ),
        Refusal::TaskIdMalformed => {
            (Param::TaskId, format!("`{task_id}` is not a DLC task id: the call will get {code}"))
        }
        Refusal::NoSuchDlcTask => {
            (Param::TaskId, format!("no DLC task `{task_id}` in the scenario: the call will get {code}"))
        }
        Refusal::DlcTaskNotYetSubmitted { submit_at } => (
            Param::At,
            format!(
                "DLC task `{task_id}` is submitted at {submit_at} s, after the call sent at {at} s: that call will get {code}"
            ),
        ),
        Refusal::InvocationIdMalformed => {
            (Param::Invocation, format!("`{invocation}` is not an invocation id: the call will get {code}"))
        }
        Refusal::TooManyInstanceIds => {
            (Param::Instances, format!("more than {MAX_INVOCATION_INSTANCES} instance ids: the call will get {code}"))
        }
        Refusal::NoSuchInvocation => {
            (Param::Invocation, format!("no invocation `{invocation}` in the scenario: the call will get {code}"))
        }
        Refusal::InvocationNotStarted { at: starts } => (
            Param::At,
            format!(
                "invocation `{invocation}` starts at {starts} s, after the call sent at {at} s: that call will get {code}"
            ),
        ),
        Refusal::TooManyIds => {
            let param = match action {
                Action::DescribeJobs => Param::Job,
                Action::DescribeTasks => Param::TaskId,
                _ => Param::Invocation,
            };
            (param, format!("more than {MAX_DESCRIBE_IDS} ids: the call will get {code}"))
        }
        Refusal::InstancesNotInInvocation { count } => {
            (Param::Instances, format!("{count} of the instances are not in the invocation: the call will get {code}"))
        }
    }
}
