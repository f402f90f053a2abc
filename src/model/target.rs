//! What a call names, and the error it gets for naming it (SPEC §1.4, §1.5, §1.8, §1.9): the one
//! copy of the API's lookup rules, used by the model to answer and by `validate` to warn.
//!
//! A call's ids are resolved once, when the run starts (`Resolver`): strings become indices,
//! and what can be told from the ids alone (a malformed id, a job without that task, more than
//! 100 instance ids) is kept in the resolved `Request`. When the call is sent, `check` adds
//! what depends on the time: the service knows a job, a DLC task or an invocation only from its
//! `submit_at` (or `at`) on. Rules that depend on the live state of the model (a job still
//! `SUBMITTED`, a termination in progress, a named environment, a task already finished) are the
//! model's, in the module of each action.
//!
//! The checks of each action, in order, the first failing one deciding the answer:
//! - TerminateTaskInstance: a malformed job id → `InvalidParameter.JobIdMalformed`; no such job
//!   (yet), no such task, an index outside the task → `ResourceNotFound.TaskInstance`;
//! - TerminateJob: a malformed job id → `InvalidParameter.JobIdMalformed`; no such job (yet) →
//!   `ResourceNotFound.Job`;
//! - CancelTask: a malformed `TaskId`, or one that names no task the service knows yet →
//!   `InvalidParameter.InvalidTaskId` (the service cannot tell the two apart);
//! - CancelInvocation: a malformed `InvocationId` → `InvalidParameterValue.InvalidInvocationId`;
//!   more than 100 `InstanceIds` → `InvalidParameterValue.LimitExceeded`; no such invocation (or
//!   not started yet) → `ResourceNotFound.InvocationNotFound`; an instance id that is not one of
//!   the invocation's → `InvalidParameterValue.InstanceIsNotRelatedToInvocation`;
//! - the Describe calls (SPEC §7) change nothing; their answers read the state (`termsim serve`):
//!   - DescribeJob, DescribeTask: a malformed job id → `InvalidParameter.JobIdMalformed`; no such
//!     job (yet) → `ResourceNotFound.Job`; DescribeTask of a task the job lacks →
//!     `ResourceNotFound.Task`;
//!   - DescribeTaskResult: a malformed `TaskId` → `InvalidParameter.InvalidTaskId`; an unknown
//!     one is answered with no task (`TaskInfo` null), as the API documents;
//!   - the list calls (DescribeJobs, DescribeTasks, DescribeInvocations,
//!     DescribeInvocationTasks): more than 100 ids → `InvalidParameterValue.LimitExceeded`; a
//!     malformed job or invocation id → `InvalidParameter.JobIdMalformed` /
//!     `InvalidParameterValue.InvalidInvocationId`; ids of nothing known (yet) are left out of
//!     the answer, not refused.

use std::collections::HashMap;

use crate::engine::SimTime;

use super::config::{CallRef, Config, DlcTask, Job, TatInvocation};
use super::ids::{is_dlc_task_id, is_invocation_id, is_job_id};
use super::limits::MAX_INVOCATION_INSTANCES;

/// Most ids a Describe call may list (the APIs' documented page size).
pub(crate) const MAX_DESCRIBE_IDS: usize = 100;
use super::vocabulary::{Action, ErrorCode};

/// An id as the caller wrote it, resolved: well formed or not, and known or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Named {
    Malformed,
    Unknown,
    /// The index of what it names.
    Known(u32),
}

/// The instances a CancelInvocation names, resolved against its invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Selection {
    /// No `InstanceIds`: every task of the invocation.
    All,
    /// More than [`MAX_INVOCATION_INSTANCES`] ids.
    TooMany,
    /// This many ids are not the invocation's (or the invocation is not known).
    Unrelated(u32),
    /// The positions in the invocation's list, kept by the resolver at this slot.
    Listed(u32),
}

/// A call with its ids resolved: small and `Copy`, so that a trace of a million rows stays cheap.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request {
    /// `task`: the task's position in its job, `None` when the job (known) has no such task.
    TerminateTaskInstance {
        job: Named,
        task: Option<u32>,
        index: i64,
    },
    TerminateJob {
        job: Named,
    },
    CancelTask {
        task: Named,
    },
    CancelInvocation {
        invocation: Named,
        instances: Selection,
    },
    /// `named`: the job of DescribeJob and DescribeTask, the DLC task of DescribeTaskResult;
    /// `task`: DescribeTask's task, its position in the job; `refusal`: what the ids alone
    /// refuse (a malformed id of a list, too many ids).
    Describe {
        action: Action,
        named: Named,
        task: Option<u32>,
        refusal: Option<Refusal>,
    },
}

impl Request {
    pub(crate) fn action(self) -> Action {
        match self {
            Request::TerminateTaskInstance { .. } => Action::TerminateTaskInstance,
            Request::TerminateJob { .. } => Action::TerminateJob,
            Request::CancelTask { .. } => Action::CancelTask,
            Request::CancelInvocation { .. } => Action::CancelInvocation,
            Request::Describe { action, .. } => action,
        }
    }
}

/// What a call acts on, once every lookup passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Task `task` (its position in the job) of job `job`, instance `index`.
    Instance {
        job: u32,
        task: u32,
        index: u32,
    },
    Job(u32),
    DlcTask(u32),
    /// `instances` is [`Selection::All`] or [`Selection::Listed`].
    Invocation {
        invocation: u32,
        instances: Selection,
    },
    /// A Describe call, answered from the state.
    Describe,
}

/// Why a call's lookup failed. [`Refusal::code`] is the API's answer; the details are for the
/// warnings `validate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    JobIdMalformed,
    NoSuchJob,
    JobNotYetSubmitted { submit_at: SimTime },
    NoSuchTask,
    IndexOutside { instances: u32 },
    TaskIdMalformed,
    NoSuchDlcTask,
    DlcTaskNotYetSubmitted { submit_at: SimTime },
    InvocationIdMalformed,
    TooManyInstanceIds,
    NoSuchInvocation,
    InvocationNotStarted { at: SimTime },
    InstancesNotInInvocation { count: u32 },
    TooManyIds,
}

impl Refusal {
    /// The error code the API answers a call of `action` refused this way.
    pub(crate) fn code(self, action: Action) -> ErrorCode {
        use Refusal::*;
        match self {
            JobIdMalformed => ErrorCode::InvalidParameterJobIdMalformed,
            NoSuchJob | JobNotYetSubmitted { .. }
                if matches!(action, Action::TerminateJob | Action::DescribeJob | Action::DescribeTask) =>
            {
                ErrorCode::ResourceNotFoundJob
            }
            NoSuchTask if action == Action::DescribeTask => ErrorCode::ResourceNotFoundTask,
            NoSuchJob | JobNotYetSubmitted { .. } | NoSuchTask | IndexOutside { .. } => {
                ErrorCode::ResourceNotFoundTaskInstance
            }
            TaskIdMalformed | NoSuchDlcTask | DlcTaskNotYetSubmitted { .. } => ErrorCode::InvalidParameterInvalidTaskId,
            InvocationIdMalformed => ErrorCode::InvalidParameterValueInvalidInvocationId,
            TooManyInstanceIds | TooManyIds => ErrorCode::InvalidParameterValueLimitExceeded,
            NoSuchInvocation | InvocationNotStarted { .. } => ErrorCode::ResourceNotFoundInvocationNotFound,
            InstancesNotInInvocation { .. } => ErrorCode::InvalidParameterValueInstanceIsNotRelatedToInvocation,
        }
    }
}

/// What the scenario defines, as the API knows it: the ids and when each becomes known.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Catalog<'a> {
    pub jobs: &'a [Job],
    pub dlc_tasks: &'a [DlcTask],
    pub invocations: &'a [TatInvocation],
}

impl<'a> Catalog<'a> {
    pub(crate) fn of(cfg: &'a Config) -> Self {
        Catalog { jobs: &cfg.jobs, dlc_tasks: &cfg.dlc_tasks, invocations: &cfg.tat_invocations }
    }
}

/// The lookup rules of the module docs, for a call sent at `now`.
pub(crate) fn check(request: Request, now: SimTime, catalog: &Catalog) -> Result<Target, Refusal> {
    let job = |job: Named| match job {
        Named::Malformed => Err(Refusal::JobIdMalformed),
        Named::Unknown => Err(Refusal::NoSuchJob),
        Named::Known(j) => {
            let submit_at = catalog.jobs[j as usize].submit_at;
            if now < submit_at { Err(Refusal::JobNotYetSubmitted { submit_at }) } else { Ok(j) }
        }
    };
    match request {
        Request::TerminateTaskInstance { job: named, task, index } => {
            let j = job(named)?;
            let t = task.ok_or(Refusal::NoSuchTask)?;
            let instances = catalog.jobs[j as usize].tasks[t as usize].instances;
            if !(0..i64::from(instances)).contains(&index) {
                return Err(Refusal::IndexOutside { instances });
            }
            Ok(Target::Instance { job: j, task: t, index: index as u32 })
        }
        Request::TerminateJob { job: named } => job(named).map(Target::Job),
        Request::CancelTask { task } => match task {
            Named::Malformed => Err(Refusal::TaskIdMalformed),
            Named::Unknown => Err(Refusal::NoSuchDlcTask),
            Named::Known(t) => {
                let submit_at = catalog.dlc_tasks[t as usize].submit_at;
                if now < submit_at {
                    Err(Refusal::DlcTaskNotYetSubmitted { submit_at })
                } else {
                    Ok(Target::DlcTask(t))
                }
            }
        },
        Request::Describe { refusal: Some(refusal), .. } => Err(refusal),
        Request::Describe { action: Action::DescribeJob, named, .. } => job(named).map(|_| Target::Describe),
        Request::Describe { action: Action::DescribeTask, named, task, .. } => {
            job(named)?;
            task.ok_or(Refusal::NoSuchTask).map(|_| Target::Describe)
        }
        Request::Describe { action: Action::DescribeTaskResult, named: Named::Malformed, .. } => {
            Err(Refusal::TaskIdMalformed)
        }
        Request::Describe { .. } => Ok(Target::Describe),
        Request::CancelInvocation { invocation, instances } => {
            if invocation == Named::Malformed {
                return Err(Refusal::InvocationIdMalformed);
            }
            if instances == Selection::TooMany {
                return Err(Refusal::TooManyInstanceIds);
            }
            let Named::Known(v) = invocation else { return Err(Refusal::NoSuchInvocation) };
            let at = catalog.invocations[v as usize].at;
            if now < at {
                return Err(Refusal::InvocationNotStarted { at });
            }
            if let Selection::Unrelated(count) = instances {
                return Err(Refusal::InstancesNotInInvocation { count });
            }
            Ok(Target::Invocation { invocation: v, instances })
        }
    }
}

/// Turns the ids a caller wrote into the model's indices, once per call when a run starts (or
/// when `validate` reads the clients).
pub(crate) struct Resolver<'a> {
    catalog: Catalog<'a>,
    jobs: HashMap<&'a str, u32>,
    dlc_tasks: HashMap<&'a str, u32>,
    invocations: HashMap<&'a str, u32>,
    /// The positions named by each [`Selection::Listed`], by slot.
    selections: Vec<Box<[u32]>>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(catalog: Catalog<'a>) -> Self {
        fn index<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, u32> {
            ids.enumerate().map(|(n, id)| (id, n as u32)).collect()
        }
        Resolver {
            jobs: index(catalog.jobs.iter().map(|j| j.id.as_str())),
            dlc_tasks: index(catalog.dlc_tasks.iter().map(|t| t.id.as_str())),
            invocations: index(catalog.invocations.iter().map(|v| v.id.as_str())),
            catalog,
            selections: Vec::new(),
        }
    }

    /// A resolver that goes on numbering [`Selection::Listed`] slots after `selections`, those
    /// of the calls resolved before (calls added while a run goes on).
    pub(crate) fn resume(catalog: Catalog<'a>, selections: Vec<Box<[u32]>>) -> Self {
        Resolver { selections, ..Resolver::new(catalog) }
    }

    pub(crate) fn catalog(&self) -> &Catalog<'a> {
        &self.catalog
    }

    fn named(map: &HashMap<&'a str, u32>, well_formed: bool, id: &str) -> Named {
        if !well_formed {
            return Named::Malformed;
        }
        map.get(id).map_or(Named::Unknown, |&n| Named::Known(n))
    }

    pub(crate) fn job(&self, id: &str) -> Named {
        Self::named(&self.jobs, is_job_id(id), id)
    }

    /// The position of task `name` in `job`, if the job is known and has it.
    pub(crate) fn task(&self, job: Named, name: &str) -> Option<u32> {
        let Named::Known(j) = job else { return None };
        self.catalog.jobs[j as usize].tasks.iter().position(|t| t.name == name).map(|t| t as u32)
    }

    pub(crate) fn request(&mut self, call: CallRef) -> Request {
        match call {
            CallRef::TerminateJob { job } => Request::TerminateJob { job: self.job(job) },
            CallRef::TerminateTaskInstance { job, task, index } => {
                let job = self.job(job);
                Request::TerminateTaskInstance { job, task: self.task(job, task), index }
            }
            CallRef::CancelTask { task_id } => {
                Request::CancelTask { task: Self::named(&self.dlc_tasks, is_dlc_task_id(task_id), task_id) }
            }
            CallRef::Describe { action, ids, task, instances } => self.describe(action, ids, task, instances),
            CallRef::CancelInvocation { invocation, instances } => {
                let named = Self::named(&self.invocations, is_invocation_id(invocation), invocation);
                let instances = match (instances, named) {
                    (None, _) => Selection::All,
                    (Some(ids), _) if ids.len() > MAX_INVOCATION_INSTANCES => Selection::TooMany,
                    (Some(ids), Named::Known(v)) => self.select(v, ids),
                    (Some(ids), _) => Selection::Unrelated(ids.len() as u32),
                };
                Request::CancelInvocation { invocation: named, instances }
            }
        }
    }

    fn describe(
        &self,
        action: Action,
        ids: Option<&[String]>,
        task: Option<&str>,
        instances: Option<&[String]>,
    ) -> Request {
        let ids = ids.unwrap_or_default();
        let first = ids.first().map_or("", String::as_str);
        let (named, task) = match action {
            Action::DescribeJob | Action::DescribeTask => {
                let job = self.job(first);
                (job, task.and_then(|name| self.task(job, name)))
            }
            Action::DescribeTaskResult => (Self::named(&self.dlc_tasks, is_dlc_task_id(first), first), None),
            _ => (Named::Unknown, None),
        };
        let too_many = |list: &[String]| list.len() > MAX_DESCRIBE_IDS;
        let refusal = match action {
            _ if too_many(ids) || instances.is_some_and(too_many) => Some(Refusal::TooManyIds),
            Action::DescribeJobs if !ids.iter().all(|id| is_job_id(id)) => Some(Refusal::JobIdMalformed),
            Action::DescribeInvocations | Action::DescribeInvocationTasks
                if !ids.iter().all(|id| is_invocation_id(id)) =>
            {
                Some(Refusal::InvocationIdMalformed)
            }
            _ => None,
        };
        Request::Describe { action, named, task, refusal }
    }

    fn select(&mut self, v: u32, ids: &[String]) -> Selection {
        let all = &self.catalog.invocations[v as usize].instances;
        let positions: Vec<u32> =
            ids.iter().filter_map(|id| all.iter().position(|i| i == id)).map(|n| n as u32).collect();
        if positions.len() < ids.len() {
            return Selection::Unrelated((ids.len() - positions.len()) as u32);
        }
        self.selections.push(positions.into());
        Selection::Listed(self.selections.len() as u32 - 1)
    }

    /// The positions each [`Selection::Listed`] names, by slot.
    pub(crate) fn into_selections(self) -> Vec<Box<[u32]>> {
        self.selections
    }
}
