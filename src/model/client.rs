//! Clients: callers of the API on a schedule, with retries (SPEC §1.7a).
//!
//! A `terminate_task_instances` client sends the call for the i-th index of its list at
//! `at + i / rate` (rounded to the microsecond); a `terminate_job`, `cancel_task` or
//! `cancel_invocation` client sends one call at `at`; a `trace` client sends each row's call at
//! its time. A call answered `RequestLimitExceeded` or `InternalError` is sent again when the
//! answer arrives plus a backoff of `min(max, base × multiplier^(n-1))` after the n-th failed
//! attempt: exactly that with jitter `none`, a uniform draw in `[0, that]` with `full`, half of
//! it plus a uniform draw in `[0, half]` with `equal` (whole microseconds; each client draws from
//! its own stream: a trace's rows share it), until `max_attempts` attempts have been made. Other
//! errors are final; a client without `retry` makes one attempt per call.
//!
//! All calls go through one agenda ordered by (time, client position in the file, position of
//! the call in the client's list), woken by a single engine event: calls due at the same instant
//! are sent in the order the clients appear in the scenario, and a client's in list order,
//! retries included. So a trace's rows go as the same calls made by one client each would.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rand::RngExt;

use crate::engine::{SimTime, Stream, Streams};

use super::api::{JobRef, Request};
use super::config::{CallRef, ClientKind, Config, Jitter, Retry};
use super::ids::{is_dlc_task_id, is_job_id};
use super::{Event, Model, Recorder, stream_id};

/// A call due: (time, client, target position, attempt). A client has at most one call of a
/// target due at a time, so the first three order the agenda completely.
type Due = Reverse<(SimTime, u32, u32, u32)>;

struct ClientRuntime {
    /// The account of every call, or of the calls a trace row does not give one.
    account: u32,
    requests: Requests,
    retry: Option<Retry>,
    jitter: Stream,
}

/// A client's calls, resolved once when the run starts.
enum Requests {
    /// Every call is the same (TerminateJob, CancelTask, CancelInvocation clients).
    Same(Request),
    /// TerminateTaskInstance of the index at the call's position in the client's list.
    Indices { job: JobRef, task: Option<u32> },
    /// `(account, request)` per row of a trace.
    Rows(Vec<(u32, Request)>),
}

pub struct Clients {
    agenda: BinaryHeap<Due>,
    /// The earliest wake-up event scheduled, if any.
    wake_at: Option<SimTime>,
    clients: Vec<ClientRuntime>,
    /// `(client, target, attempt)` of the retryable answers on their way to a client.
    answers: Parked,
}

/// Values waiting for an event that carries only their slot; freed slots are reused, so the
/// table never grows beyond the number of answers in flight at once.
#[derive(Default)]
struct Parked {
    slots: Vec<(u32, u32, u32)>,
    free: Vec<u32>,
}

impl Parked {
    fn park(&mut self, value: (u32, u32, u32)) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = value;
                slot
            }
            None => {
                self.slots.push(value);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, slot: u32) -> (u32, u32, u32) {
        self.free.push(slot);
        self.slots[slot as usize]
    }
}

/// Turns the names a caller wrote into the model's indices.
struct Resolver<'a> {
    cfg: &'a Config,
    jobs: HashMap<&'a str, u32>,
    /// Global index of each job's first task.
    task_base: Vec<u32>,
    dlc_tasks: HashMap<&'a str, u32>,
    invocations: HashMap<&'a str, u32>,
    accounts: HashMap<&'a str, u32>,
}

impl<'a> Resolver<'a> {
    fn new(cfg: &'a Config) -> Self {
        let mut task_base = Vec::with_capacity(cfg.jobs.len());
        let mut next = 0u32;
        for job in &cfg.jobs {
            task_base.push(next);
            next += job.tasks.len() as u32;
        }
        let index = |ids: Vec<&'a str>| ids.into_iter().enumerate().map(|(n, id)| (id, n as u32)).collect();
        Resolver {
            cfg,
            jobs: index(cfg.jobs.iter().map(|j| j.id.as_str()).collect()),
            task_base,
            dlc_tasks: index(cfg.dlc_tasks.iter().map(|t| t.id.as_str()).collect()),
            invocations: index(cfg.tat_invocations.iter().map(|v| v.id.as_str()).collect()),
            accounts: HashMap::new(),
        }
    }

    /// Accounts are numbered in order of first use, so the numbering is the same every run.
    fn account(&mut self, name: &'a str) -> u32 {
        let next = self.accounts.len() as u32;
        *self.accounts.entry(name).or_insert(next)
    }

    fn job(&self, id: &str) -> JobRef {
        if !is_job_id(id) {
            return JobRef::Malformed;
        }
        self.jobs.get(id).map_or(JobRef::Unknown, |&j| JobRef::Known(j))
    }

    /// The global task index of `name` in `job`, if the job is known and has it.
    fn task(&self, job: JobRef, name: &str) -> Option<u32> {
        let JobRef::Known(j) = job else { return None };
        let tasks = &self.cfg.jobs[j as usize].tasks;
        tasks.iter().position(|t| t.name == name).map(|t| self.task_base[j as usize] + t as u32)
    }

    fn request(&self, call: CallRef, client: u32, target: u32) -> Request {
        match call {
            CallRef::TerminateJob { job } => Request::TerminateJob { job: self.job(job) },
            CallRef::TerminateTaskInstance { job, task, index } => {
                let job = self.job(job);
                Request::TerminateTaskInstance { job, task: self.task(job, task), index }
            }
            CallRef::CancelTask { task_id } => Request::CancelTask {
                task: is_dlc_task_id(task_id).then(|| self.dlc_tasks.get(task_id).copied()).flatten(),
            },
            CallRef::CancelInvocation { invocation, .. } => {
                Request::CancelInvocation { invocation: self.invocations.get(invocation).copied(), client, target }
            }
        }
    }
}

impl Clients {
    pub fn new(cfg: &Config, streams: Streams) -> Self {
        let mut resolver = Resolver::new(cfg);
        let clients = cfg
            .clients
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let account = resolver.account(&c.account);
                let client = k as u32;
                let requests = match &c.kind {
                    ClientKind::TerminateTaskInstances { job, task, .. } => {
                        let job = resolver.job(job);
                        Requests::Indices { job, task: resolver.task(job, task) }
                    }
                    ClientKind::Trace { rows } => Requests::Rows(
                        rows.iter()
                            .enumerate()
                            .map(|(n, row)| {
                                let account = row.account.as_deref().map_or(account, |a| resolver.account(a));
                                (account, resolver.request(row.call.as_ref(), client, n as u32))
                            })
                            .collect(),
                    ),
                    kind => Requests::Same(resolver.request(kind.call(0), client, 0)),
                };
                ClientRuntime {
                    account,
                    requests,
                    retry: c.retry,
                    jitter: streams.stream(stream_id::CLIENT_JITTER + k as u64),
                }
            })
            .collect();
        Clients { agenda: BinaryHeap::new(), wake_at: None, clients, answers: Parked::default() }
    }
}

fn backoff(retry: &Retry, failed_attempts: u32, jitter: &mut Stream) -> SimTime {
    let exp = retry.multiplier.powi(failed_attempts.saturating_sub(1).min(i32::MAX as u32) as i32);
    let ceiling = (retry.base.micros() as f64 * exp).min(retry.max.micros() as f64).round() as u64;
    SimTime(match retry.jitter {
        Jitter::None => ceiling,
        Jitter::Full => jitter.random_range(0..=ceiling),
        Jitter::Equal => {
            let half = ceiling / 2;
            half + jitter.random_range(0..=half)
        }
    })
}

impl<R: Recorder> Model<R> {
    pub(super) fn schedule_first_calls(&mut self) {
        for k in 0..self.cfg.clients.len() {
            let kind = &self.cfg.clients[k].kind;
            if kind.call_count() > 0 {
                let at = kind.first_send_time(0);
                self.add_to_agenda(at, k as u32, 0, 1);
            }
        }
    }

    fn add_to_agenda(&mut self, at: SimTime, client: u32, target: u32, attempt: u32) {
        let c = &mut self.clients;
        c.agenda.push(Reverse((at, client, target, attempt)));
        if c.wake_at.is_none_or(|w| at < w) {
            c.wake_at = Some(at);
            self.schedule_at(at, Event::ClientWake);
        }
    }

    pub(super) fn client_wake(&mut self) {
        let now = self.now;
        if self.clients.wake_at == Some(now) {
            self.clients.wake_at = None;
        }
        while let Some(&Reverse((at, client, target, attempt))) = self.clients.agenda.peek() {
            if at > now {
                break;
            }
            self.clients.agenda.pop();
            self.send(client, target, attempt);
        }
        if let Some(&Reverse((at, ..))) = self.clients.agenda.peek() {
            if self.clients.wake_at.is_none_or(|w| at < w) {
                self.clients.wake_at = Some(at);
                self.schedule_at(at, Event::ClientWake);
            }
        }
    }

    fn send(&mut self, client: u32, target: u32, attempt: u32) {
        let kind = &self.cfg.clients[client as usize].kind;
        if attempt == 1 && (target as usize + 1) < kind.call_count() {
            let at = kind.first_send_time(target + 1);
            self.add_to_agenda(at, client, target + 1, 1);
        }
        let rt = &self.clients.clients[client as usize];
        let (account, request) = match &rt.requests {
            Requests::Same(request) => (rt.account, *request),
            Requests::Indices { job, task } => {
                let index = self.cfg.clients[client as usize].kind.call(target);
                let CallRef::TerminateTaskInstance { index, .. } = index else {
                    unreachable!("index lists belong to terminate_task_instances clients")
                };
                (rt.account, Request::TerminateTaskInstance { job: *job, task: *task, index })
            }
            Requests::Rows(rows) => rows[target as usize],
        };
        let retry = rt.retry;
        let (error, responded) = self.call_api(client, account, request, target, attempt);
        if let (Some(error), Some(retry)) = (error, retry) {
            if error.is_retryable() && attempt < retry.max_attempts {
                let slot = self.clients.answers.park((client, target, attempt));
                self.schedule_at(responded, Event::Answer(slot));
            }
        }
    }

    /// A retryable error reached the client: the call goes back on the agenda after a backoff.
    pub(super) fn answer(&mut self, slot: u32) {
        let (client, target, attempt) = self.clients.answers.take(slot);
        let rt = &mut self.clients.clients[client as usize];
        let retry = rt.retry.expect("answers are only scheduled for clients that retry");
        let wait = backoff(&retry, attempt, &mut rt.jitter);
        self.add_to_agenda(self.now + wait, client, target, attempt + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(jitter: Jitter) -> Retry {
        Retry { max_attempts: 8, base: SimTime::from_millis(500), max: SimTime::from_secs(30), multiplier: 2.0, jitter }
    }

    #[test]
    fn backoff_doubles_from_base_and_stops_at_max() {
        let mut rng = Streams::new(1).stream(0);
        let r = retry(Jitter::None);
        let waits: Vec<u64> = (1..=8).map(|n| backoff(&r, n, &mut rng).micros() / 1000).collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }

    #[test]
    fn jittered_backoff_stays_in_its_interval() {
        let mut rng = Streams::new(1).stream(0);
        for n in 1..=6 {
            let ceiling = backoff(&retry(Jitter::None), n, &mut rng);
            for _ in 0..200 {
                assert!(backoff(&retry(Jitter::Full), n, &mut rng) <= ceiling);
                let equal = backoff(&retry(Jitter::Equal), n, &mut rng);
                assert!(equal.micros() >= ceiling.micros() / 2 && equal <= ceiling);
            }
        }
    }
}
