//! The termination backend of a cloud batch service, as a discrete-event model.
//!
//! # The model in one page
//!
//! A **job** has tasks; a task has `instances` task instances. Each instance of an anonymous
//! environment gets its own **CVM**, created when the account's **quota** allows (FIFO by the
//! time the instance became `RUNNABLE`), after a creation delay; a named environment's instances
//! take a node from its pool instead. Users end instances early through the public API:
//!
//! - **TerminateTaskInstance** ([`terminate`]): by the instance's state, nothing (`no_op`),
//!   `FAILED` at once (`immediate`), the CVM terminated first (`cvm`), or, while the CVM is still
//!   being created, a termination registered in the **bypass** ([`bypass`]) and carried out once
//!   the CVM exists (`bypass`). Named environments either reject it or restart the node.
//! - **TerminateJob** ([`job_termination`]): queued for a pool of backend workers that apply the
//!   above to every instance of the job, one after another, at a fixed cost per instance.
//! - **CancelTask** ([`dlc`]): cancels a DLC task, a sibling service's job with states of its own.
//! - **CancelInvocation** ([`tat`]): cancels a TAT command on some or all of its instances.
//!
//! All go through a **gateway** ([`api`]) that enforces per-account rate limits, injects
//! `InternalError`, and answers after a latency. **Clients** ([`client`]) send calls on a schedule
//! and retry with backoff. The backend's own calls to the CVM service may be rate limited too
//! ([`cvm`]): they then wait in FIFO queues.
//!
//! The model is plain data plus one event loop. It draws every random number from its own
//! stream per component ([`crate::engine::Streams`]) and reports every state change and every
//! API call to a [`Recorder`]; it never touches a file.
//!
//! # Order within an instant
//! The model's events due at the same microsecond run in the order they were scheduled. Client
//! calls come after them: every state change of an instant runs before any call due at that
//! instant, so a call sees the settled state of its instant, and the model's events a call
//! schedules for the same instant run before the next call. Calls due together go by client in
//! file order, then by their place in the client's list (or trace), a retry keeping the place of
//! the call it retries ([`client`]). This is a property of the event order, not of a kind of
//! client: a trace and the same calls made by scripted clients give the same run.

pub mod api;
pub mod bypass;
pub mod client;
pub mod config;
pub mod cvm;
pub mod dlc;
pub mod environment;
mod event;
pub(crate) mod ids;
pub mod instance;
pub mod job;
pub mod job_termination;
pub mod limits;
pub mod quota;
mod recorder;
pub mod state;
pub mod target;
pub mod tat;
pub mod terminate;
pub mod vocabulary;

use crate::engine::{Delay, EventQueue, RadixQueue, SimTime, Stream, Streams, prefetch};

pub use api::RequestTotals;
pub use config::{Config, ConfigError};
pub use dlc::DlcTaskRuntime;
pub use instance::{Instance, InstanceReport, InstanceTimes};
pub use job::{JobRuntime, JobTermination, TaskRuntime};
pub use recorder::{Entity, NullRecorder, Occupancy, Recorder, RequestRecord};
pub use state::{Cause, CvmState, DlcState, InstanceState, InvocationStatus, State, TatTaskState, TerminationPath};
pub use tat::TatTaskRuntime;
pub use vocabulary::{Action, ErrorCode};

use api::Gateway;
use client::Clients;
use cvm::{CallQueue, Cvm};
use environment::NamedEnvironment;
use event::{Event, Queued};
use job_termination::JobTerminations;
use quota::Quota;

/// Stream numbers: fixed forever, so that a scenario keeps its draws across versions that add
/// components.
mod stream_id {
    pub(super) const SUBMIT: u64 = 1;
    pub(super) const CREATION_DELAY: u64 = 2;
    pub(super) const CREATION_FAILURE: u64 = 3;
    pub(super) const TERMINATION_DELAY: u64 = 4;
    pub(super) const RESTART_DELAY: u64 = 5;
    pub(super) const RUNTIME: u64 = 6;
    pub(super) const RUN_FAILURE: u64 = 7;
    pub(super) const INTERRUPTION: u64 = 8;
    pub(super) const API_LATENCY: u64 = 9;
    pub(super) const API_FAULT: u64 = 10;
    pub(super) const DLC_STAGE: u64 = 11;
    pub(super) const DLC_FAILURE: u64 = 12;
    pub(super) const DLC_CANCEL: u64 = 13;
    pub(super) const TAT_STAGE: u64 = 14;
    pub(super) const TAT_DELIVERY: u64 = 15;
    pub(super) const TAT_KILL: u64 = 16;
    pub(super) const TAT_FAILURE: u64 = 17;
    /// Client `k` draws its jitter from stream `CLIENT_JITTER + k`.
    pub(super) const CLIENT_JITTER: u64 = 1 << 32;
}

struct Rngs {
    submit: Stream,
    creation_delay: Stream,
    creation_failure: Stream,
    termination_delay: Stream,
    restart_delay: Stream,
    runtime: Stream,
    run_failure: Stream,
    interruption: Stream,
    api_latency: Stream,
    api_fault: Stream,
    dlc_stage: Stream,
    dlc_failure: Stream,
    dlc_cancel: Stream,
    tat_stage: Stream,
    tat_delivery: Stream,
    tat_kill: Stream,
    tat_failure: Stream,
}

impl Rngs {
    fn new(streams: Streams) -> Self {
        Rngs {
            submit: streams.stream(stream_id::SUBMIT),
            creation_delay: streams.stream(stream_id::CREATION_DELAY),
            creation_failure: streams.stream(stream_id::CREATION_FAILURE),
            termination_delay: streams.stream(stream_id::TERMINATION_DELAY),
            restart_delay: streams.stream(stream_id::RESTART_DELAY),
            runtime: streams.stream(stream_id::RUNTIME),
            run_failure: streams.stream(stream_id::RUN_FAILURE),
            interruption: streams.stream(stream_id::INTERRUPTION),
            api_latency: streams.stream(stream_id::API_LATENCY),
            api_fault: streams.stream(stream_id::API_FAULT),
            dlc_stage: streams.stream(stream_id::DLC_STAGE),
            dlc_failure: streams.stream(stream_id::DLC_FAILURE),
            dlc_cancel: streams.stream(stream_id::DLC_CANCEL),
            tat_stage: streams.stream(stream_id::TAT_STAGE),
            tat_delivery: streams.stream(stream_id::TAT_DELIVERY),
            tat_kill: streams.stream(stream_id::TAT_KILL),
            tat_failure: streams.stream(stream_id::TAT_FAILURE),
        }
    }
}

/// Figures followed during the run for the summary.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    last_change: SimTime,
    occupancy: Occupancy,
    /// The most CVMs alive at the end of an instant before `occupancy_instant`.
    peak_cvms: u64,
    /// The instant of the latest occupancy change: its counts are final once time moves on.
    occupancy_instant: SimTime,
    /// When the first termination request was accepted.
    first_accepted: Option<SimTime>,
    last_occupancy_change: SimTime,
    /// Quota in use × microseconds, counted from `first_accepted` on.
    quota_area: u128,
}

/// The whole simulated backend: entities, queues, the event loop and the recorder.
pub struct Model<R: Recorder> {
    cfg: Config,
    now: SimTime,
    queue: RadixQueue<Queued>,
    events: u64,
    rec: R,
    jobs: Vec<JobRuntime>,
    tasks: Vec<TaskRuntime>,
    instances: Vec<Instance>,
    times: Vec<InstanceTimes>,
    cvms: Vec<Cvm>,
    envs: Vec<NamedEnvironment>,
    quota: Quota,
    create_calls: CallQueue,
    terminate_calls: CallQueue,
    job_terminations: JobTerminations,
    gateway: Gateway,
    clients: Clients,
    dlc: Vec<dlc::DlcTaskRuntime>,
    tat_invocations: Vec<tat::TatInvocationRuntime>,
    tat_tasks: Vec<tat::TatTaskRuntime>,
    /// TAT invocations whose tasks changed in the current instant: their status is written at
    /// its end.
    invocations_changed: Vec<u32>,
    rng: Rngs,
    interruption: Option<Delay>,
    tally: Tally,
    /// Most events one instant may run: beyond it the run is stuck (see [`RunError`]).
    events_per_instant_bound: u64,
    /// `events` when the current instant began.
    instant_started_at_event: u64,
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// SPEC §1.7c: a run always ends. The loader refuses the loops it can foresee; this stops
    /// any other, well above what a valid scenario makes (a 10,000,000-instance run whose every
    /// instance is created, runs and ends at the same instants stays below a tenth of it).
    #[error(
        "more than {bound} events at {at} s of simulated time: the model is stuck in a loop within one instant \
         (at most {EVENTS_PER_ENTITY_AT_ONE_INSTANT} events per entity of the scenario, plus {MIN_EVENTS_PER_INSTANT}, may run at one instant)"
    )]
    StuckAtOneInstant {
        /// The instant the run was stuck at.
        at: SimTime,
        /// The most events this run may run at one instant.
        bound: u64,
    },
}

/// The bound on the events of one instant: this many per entity (task instance, node, DLC task,
/// TAT invocation task, client call)...
pub const EVENTS_PER_ENTITY_AT_ONE_INSTANT: u64 = 1_000;
/// ...plus this many.
pub const MIN_EVENTS_PER_INSTANT: u64 = 1_000_000;

impl Outcome {
    /// Task instance `i` (in file order: job, task, index) as the outputs report it.
    pub fn instance(&self, i: usize) -> InstanceReport {
        InstanceReport::new(&self.instances[i], &self.times[i])
    }

    /// Every task instance as the outputs report it, in file order (job, task, index).
    pub fn instance_reports(&self) -> impl Iterator<Item = InstanceReport> + '_ {
        self.instances.iter().zip(&self.times).map(|(i, t)| InstanceReport::new(i, t))
    }
}

/// The model's state as it is now ([`Model::view`]).
pub struct View<'a> {
    /// The configuration the run was built from (with the calls added so far).
    pub config: &'a Config,
    /// The time of the last event run.
    pub now: SimTime,
    /// Jobs, in `Config::jobs` order.
    pub jobs: &'a [JobRuntime],
    /// Tasks, by global task index.
    pub tasks: &'a [TaskRuntime],
    /// Task instances, by global index.
    pub instances: &'a [Instance],
    /// DLC tasks, in file order.
    pub dlc: &'a [dlc::DlcTaskRuntime],
    /// TAT invocation tasks: every invocation's, in file order, each in its instance order.
    pub tat_tasks: &'a [tat::TatTaskRuntime],
    tat_invocations: &'a [tat::TatInvocationRuntime],
    /// Events run so far.
    pub events: u64,
}

impl View<'_> {
    /// TAT invocation `v`'s status (`None` before it starts), and its first task's index in
    /// `tat_tasks`.
    pub fn invocation(&self, v: usize) -> (Option<InvocationStatus>, usize) {
        let runtime = &self.tat_invocations[v];
        (runtime.status, runtime.first_task as usize)
    }
}

/// The state of a finished run, read by the outputs.
pub struct Outcome {
    /// The configuration the run was built from.
    pub config: Config,
    /// Jobs, in `Config::jobs` order.
    pub jobs: Vec<JobRuntime>,
    /// Tasks, by global task index (every job's tasks, in file order).
    pub tasks: Vec<TaskRuntime>,
    /// Task instances, by global index (in file order: job, task, index).
    pub instances: Vec<Instance>,
    /// The termination times of each task instance, at the same index as in `instances`.
    pub times: Vec<InstanceTimes>,
    /// API call counts: the summary's `requests`.
    pub requests: RequestTotals,
    /// DLC tasks, in file order.
    pub dlc: Vec<dlc::DlcTaskRuntime>,
    /// TAT invocation tasks: every invocation's, in file order, each in its instance order.
    pub tat_tasks: Vec<tat::TatTaskRuntime>,
    /// How many events ran: the summary's `events`.
    pub events: u64,
    /// The time of the last state change.
    pub sim_end: SimTime,
    /// The most CVMs (nodes included) alive at the end of an instant: the summary's `peak_cvms`.
    pub peak_cvms: u64,
    /// CVM-seconds of quota held from the first accepted termination request to `sim_end`;
    /// `None` when no termination request was accepted.
    pub quota_cvm_seconds_after_request: Option<f64>,
}

impl<R: Recorder> Model<R> {
    /// Builds the model and schedules what the scenario starts with. Nothing runs until
    /// [`Model::run`]. A configuration the model cannot run is refused ([`Config::check`]).
    pub fn new(cfg: Config, recorder: R) -> Result<Self, ConfigError> {
        cfg.check()?;
        let entities = cfg.total_instances()
            + cfg.environments.iter().map(|e| u64::from(e.nodes)).sum::<u64>()
            + cfg.dlc_tasks.len() as u64
            + cfg.tat_invocations.iter().map(|v| v.instances.len() as u64).sum::<u64>()
            + cfg.clients.iter().map(|c| c.kind.call_count() as u64).sum::<u64>();
        let streams = Streams::new(cfg.seed);
        let (jobs, tasks, instances) = job::build_tables(&cfg);
        let times_len = instances.len();
        let (tat_invocations, tat_tasks) = tat::build_tables(&cfg);
        let interruption = (cfg.backend.cvm.interruption_rate_per_hour > 0.0)
            .then(|| Delay::exponential(3600e6 / cfg.backend.cvm.interruption_rate_per_hour))
            .flatten();
        let mut model = Model {
            now: SimTime::ZERO,
            queue: RadixQueue::new(),
            events: 0,
            rec: recorder,
            jobs,
            tasks,
            times: crate::engine::table_of(times_len, InstanceTimes::default()),
            instances,
            // One CVM per instance is the common case; retries and nodes grow it.
            cvms: crate::engine::table_with_capacity(times_len),
            envs: cfg.environments.iter().map(|_| NamedEnvironment::default()).collect(),
            quota: Quota::new(cfg.backend.quota_max_cvms),
            create_calls: CallQueue::new(cfg.backend.cvm.create_rate_limit),
            terminate_calls: CallQueue::new(cfg.backend.cvm.terminate_rate_limit),
            job_terminations: JobTerminations::new(
                cfg.backend.job_termination_workers,
                cfg.backend.job_termination_per_instance,
                cfg.backend.job_termination_per_task,
            ),
            gateway: Gateway::new(&cfg),
            clients: Clients::new(&cfg, streams),
            dlc: vec![dlc::DlcTaskRuntime::default(); cfg.dlc_tasks.len()],
            tat_invocations,
            tat_tasks,
            invocations_changed: Vec::new(),
            rng: Rngs::new(streams),
            interruption,
            tally: Tally::default(),
            events_per_instant_bound: MIN_EVENTS_PER_INSTANT
                .saturating_add(entities.saturating_mul(EVENTS_PER_ENTITY_AT_ONE_INSTANT)),
            instant_started_at_event: 0,
            cfg,
        };
        model.start();
        Ok(model)
    }

    /// Time zero: named environments ask for their nodes, jobs and clients are scheduled, in the
    /// order of the file.
    fn start(&mut self) {
        for env in 0..self.envs.len() as u32 {
            self.create_nodes(env);
        }
        for j in 0..self.cfg.jobs.len() {
            self.schedule_at(self.cfg.jobs[j].submit_at, Event::JobSubmitted(j as u32));
        }
        for t in 0..self.cfg.dlc_tasks.len() {
            self.schedule_at(self.cfg.dlc_tasks[t].submit_at, Event::DlcSubmitted(t as u32));
        }
        for v in 0..self.cfg.tat_invocations.len() {
            self.schedule_at(self.cfg.tat_invocations[v].at, Event::TatStarted(v as u32));
        }
        self.schedule_first_calls();
    }

    #[inline]
    fn schedule(&mut self, delay: SimTime, event: Event) {
        self.schedule_at(self.now + delay, event);
    }

    #[inline]
    fn schedule_at(&mut self, at: SimTime, event: Event) {
        self.queue.push(at, Queued::from(event));
    }

    /// Runs until no event is left or the next one is after the horizon (events at the horizon
    /// run).
    pub fn run(&mut self) -> Result<(), RunError> {
        self.run_with_progress(u64::MAX, |_, _| {})
    }

    /// As [`Model::run`], calling `progress(now, events)` every `every` events. Never inlined,
    /// so that profilers can count the event loop alone (`--toggle-collect=*run_with_progress*`).
    #[inline(never)]
    pub fn run_with_progress(&mut self, every: u64, mut progress: impl FnMut(SimTime, u64)) -> Result<(), RunError> {
        let horizon = self.cfg.horizon;
        // A local, not the field, in the hot loop: it stays in a register.
        let mut instant_started_at_event = self.instant_started_at_event;
        while let Some((time, event)) = self.queue.pop() {
            if time > horizon {
                break;
            }
            self.step(time, event, &mut instant_started_at_event)?;
            if self.events.is_multiple_of(every) {
                progress(self.now, self.events);
            }
        }
        self.end_instant();
        self.instant_started_at_event = instant_started_at_event;
        Ok(())
    }

    /// Runs every event due up to `until` (and not after the horizon), those that the events run
    /// schedule for up to then included, and stops there, in the middle of the instant: calls
    /// added next at `until` ([`Model::push_call`]) come after its state changes, as a trace row
    /// at that instant would. `termsim serve` drives the model this way; [`Model::end_run`] closes
    /// the last instant.
    pub fn run_until(&mut self, until: SimTime) -> Result<(), RunError> {
        let until = until.min(self.cfg.horizon);
        let mut instant_started_at_event = self.instant_started_at_event;
        let mut result = Ok(());
        while let Some((time, event)) = self.queue.pop() {
            if time > until {
                self.queue.unpop(time, event);
                break;
            }
            result = self.step(time, event, &mut instant_started_at_event);
            if result.is_err() {
                break;
            }
        }
        self.instant_started_at_event = instant_started_at_event;
        result
    }

    /// Closes the last instant after [`Model::run_until`], as the end of [`Model::run`] does.
    pub fn end_run(&mut self) {
        self.end_instant();
    }

    /// One event of the loop: the instant's bookkeeping, then the event.
    #[inline(always)]
    fn step(&mut self, time: SimTime, event: Queued, instant_started_at_event: &mut u64) -> Result<(), RunError> {
        if time != self.now {
            self.end_instant();
            *instant_started_at_event = self.events;
        } else if self.events - *instant_started_at_event >= self.events_per_instant_bound {
            return Err(RunError::StuckAtOneInstant { at: time, bound: self.events_per_instant_bound });
        }
        self.prefetch_ahead();
        self.now = time;
        self.events += 1;
        self.handle(Event::from(event));
        Ok(())
    }

    /// What is written once an instant is over: the status of the TAT invocations whose tasks
    /// changed in it.
    #[inline(always)]
    fn end_instant(&mut self) {
        if !self.invocations_changed.is_empty() {
            self.write_invocation_statuses();
        }
    }

    /// Prefetches what upcoming events will read, in two steps: for CVM events the CVM first,
    /// then (a few events later, once the CVM is in cache) its instance; for the end of a run the
    /// instance first, then its CVM.
    #[inline(always)]
    fn prefetch_ahead(&self) {
        const FAR: usize = 8;
        const NEAR: usize = 4;
        match self.queue.peek(FAR).map(|&e| Event::from(e)) {
            Some(Event::CvmCreationDone(c) | Event::CvmTerminationDone(c)) => prefetch(&self.cvms[c as usize]),
            Some(Event::RunEnded { instance, .. } | Event::RunInterrupted { instance, .. }) => {
                prefetch(&self.instances[instance as usize])
            }
            _ => {}
        }
        match self.queue.peek(NEAR).map(|&e| Event::from(e)) {
            Some(Event::CvmCreationDone(c) | Event::CvmTerminationDone(c)) => {
                if let cvm::Owner::Instance(i) = self.cvms[c as usize].owner() {
                    prefetch(&self.instances[i as usize]);
                    prefetch(&self.times[i as usize]);
                }
            }
            // A run that ends gives its CVM back: the CVM is read next.
            Some(Event::RunEnded { instance, .. } | Event::RunInterrupted { instance, .. }) => {
                let c = self.instances[instance as usize].cvm;
                if let Some(cvm) = self.cvms.get(c as usize) {
                    prefetch(cvm);
                }
            }
            _ => {}
        }
    }

    #[inline(always)]
    fn handle(&mut self, event: Event) {
        match event {
            Event::JobSubmitted(j) => self.submit_job(j),
            Event::JobPending(j) => self.job_pending(j),
            Event::CvmCallTurn(kind) => self.cvm_call_turn(kind),
            Event::CvmCreationDone(c) => self.cvm_creation_done(c),
            Event::CvmTerminationDone(c) => self.cvm_termination_done(c),
            Event::NodeRestarted(c) => self.node_restarted(c),
            Event::RunEnded { instance, generation } => self.run_ended(instance, generation),
            Event::RunInterrupted { instance, generation } => self.run_interrupted(instance, generation),
            Event::BypassTick(c) => self.bypass_tick(c),
            Event::WalkStep(w) => self.walk_step(w),
            Event::ClientWake(token) => self.client_wake(token),
            Event::Answer(slot) => self.answer(slot),
            Event::DlcSubmitted(t) => self.dlc_submitted(t),
            Event::DlcStageDone(t) => self.dlc_stage_done(t),
            Event::DlcCancelDone(t) => self.dlc_cancel_done(t),
            Event::TatStarted(v) => self.tat_started(v),
            Event::TatStageDone(k) => self.tat_stage_done(k),
            Event::TatKillDone(k) => self.tat_kill_done(k),
        }
    }

    /// The current simulated time: that of the last event run.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// How many events have run so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Task instances by global index (in file order: job, task, index), as they are now.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The live state, read-only: what `termsim serve`'s Describe answers read.
    pub fn view(&self) -> View<'_> {
        View {
            config: &self.cfg,
            now: self.now,
            jobs: &self.jobs,
            tasks: &self.tasks,
            instances: &self.instances,
            dlc: &self.dlc,
            tat_tasks: &self.tat_tasks,
            tat_invocations: &self.tat_invocations,
            events: self.events,
        }
    }

    /// The recorder the model reports to, to change (`termsim serve` reads each call's answer
    /// from it).
    pub fn recorder_mut(&mut self) -> &mut R {
        &mut self.rec
    }

    /// The recorder the model reports to.
    pub fn recorder(&self) -> &R {
        &self.rec
    }

    /// Ends the run and hands over its final state and the recorder.
    pub fn finish(mut self) -> (Outcome, R) {
        let end = self.tally.last_change;
        self.account_quota_until(end);
        let quota_cvm_seconds_after_request = self.tally.first_accepted.map(|_| self.tally.quota_area as f64 / 1e6);
        let outcome = Outcome {
            jobs: self.jobs,
            tasks: self.tasks,
            instances: self.instances,
            times: self.times,
            requests: self.gateway.totals(),
            dlc: self.dlc,
            tat_tasks: self.tat_tasks,
            events: self.events,
            sim_end: end,
            peak_cvms: self.tally.peak_cvms.max(self.tally.occupancy.cvms_alive),
            quota_cvm_seconds_after_request,
            config: self.cfg,
        };
        (outcome, self.rec)
    }

    /// Records a state change and remembers when the last one happened (`sim_end_s`).
    fn record(&mut self, entity: Entity, from: Option<State>, to: State, cause: Cause) {
        self.tally.last_change = self.now;
        self.rec.state_change(self.now, entity, from, to, cause);
    }

    fn occupancy_changed(&mut self, cvms_delta: i64, quota_delta: i64) {
        self.account_quota_until(self.now);
        // The peak counts CVMs at the end of an instant (SPEC §4), as occupancy.csv shows them:
        // a CVM replaced within one instant is not counted twice.
        if self.now != self.tally.occupancy_instant {
            self.tally.peak_cvms = self.tally.peak_cvms.max(self.tally.occupancy.cvms_alive);
            self.tally.occupancy_instant = self.now;
        }
        let o = &mut self.tally.occupancy;
        o.cvms_alive = o.cvms_alive.checked_add_signed(cvms_delta).expect("CVM count never negative");
        o.quota_in_use = o.quota_in_use.checked_add_signed(quota_delta).expect("quota never negative");
        let now = *o;
        self.rec.occupancy(self.now, now);
    }

    fn account_quota_until(&mut self, until: SimTime) {
        if let Some(first) = self.tally.first_accepted {
            let from = self.tally.last_occupancy_change.max(first);
            if until > from {
                self.tally.quota_area += u128::from(self.tally.occupancy.quota_in_use) * u128::from((until - from).0);
            }
        }
        self.tally.last_occupancy_change = self.tally.last_occupancy_change.max(until);
    }

    /// Marks the start of the quota figure the first time a termination request is accepted.
    fn termination_accepted(&mut self) {
        if self.tally.first_accepted.is_none() {
            self.account_quota_until(self.now);
            self.tally.first_accepted = Some(self.now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_more_events_at_one_instant_than_its_bound_stops_with_an_error() {
        // Ten CVMs whose creations all complete at 90 s: ten events at one instant, over 3.
        let text = r#"{ "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 10, "runtime": "1s" } ] } ],
                        "backend": { "submit_delay": "0s", "cvm": { "creation_delay": "90s" } } }"#;
        let scenario = crate::scenario::parse(text, std::path::Path::new("t.json")).expect("valid");
        let mut model = Model::new(scenario.config.clone(), NullRecorder).expect("valid");
        model.events_per_instant_bound = 3;
        assert_eq!(model.run(), Err(RunError::StuckAtOneInstant { at: SimTime::from_secs(90), bound: 3 }));
        // Two events at 0 s (the job submitted, then pending), three of the ten at 90 s.
        assert_eq!(model.events(), 5, "the fourth event of the instant is not run");
        let mut model = Model::new(scenario.config, NullRecorder).expect("valid");
        assert_eq!(model.events_per_instant_bound, MIN_EVENTS_PER_INSTANT + 10 * EVENTS_PER_ENTITY_AT_ONE_INSTANT);
        assert_eq!(model.run(), Ok(()));
    }
}
