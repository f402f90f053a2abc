//! Clients: callers of the API on a schedule, with retries (SPEC §1.7a).
//!
//! A `terminate_task_instances` client sends the call for the i-th index of its list at
//! `at + i / rate` (rounded to the microsecond); a `terminate_job` client sends one TerminateJob
//! at `at`. A call answered `RequestLimitExceeded` or `InternalError` is sent again when the
//! answer arrives plus a backoff of `min(max, base × multiplier^(n-1))` after the n-th failed
//! attempt: exactly that with jitter `none`, a uniform draw in `[0, that]` with `full`, half of
//! it plus a uniform draw in `[0, half]` with `equal` (whole microseconds; each client draws from
//! its own stream), until `max_attempts` attempts have been made. Other errors are final; a
//! client without `retry` makes one attempt per call.
//!
//! All calls go through one agenda ordered by (time, client position in the file, order of
//! scheduling), woken by a single engine event: calls due at the same instant are sent in the
//! order the clients appear in the scenario.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;

use crate::engine::{SimTime, Stream, Streams};

use super::api::{JobRef, Request};
use super::config::{ClientKind, Config, IndexList, Jitter, Retry};
use super::ids::{is_dlc_task_id, is_job_id};
use super::{Event, Model, Recorder, stream_id};

/// A call due: (time, client, sequence, target position, attempt).
type Due = Reverse<(SimTime, u32, u64, u32, u32)>;

struct ClientRuntime {
    account: u32,
    job: JobRef,
    /// The DLC task a `cancel_task` client names, when its id is one of the scenario's.
    dlc_task: Option<u32>,
    /// Global task index (TerminateTaskInstance clients naming an existing task).
    task: Option<u32>,
    retry: Option<Retry>,
    jitter: Stream,
}

pub struct Clients {
    agenda: BinaryHeap<Due>,
    sequence: u64,
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

fn resolve_job(cfg: &Config, id: &str) -> JobRef {
    if !is_job_id(id) {
        return JobRef::Malformed;
    }
    cfg.jobs.iter().position(|j| j.id == id).map_or(JobRef::Unknown, |j| JobRef::Known(j as u32))
}

impl Clients {
    pub fn new(cfg: &Config, streams: Streams) -> Self {
        let mut accounts: Vec<&str> = Vec::new();
        let mut task_base = Vec::with_capacity(cfg.jobs.len());
        let mut next = 0u32;
        for job in &cfg.jobs {
            task_base.push(next);
            next += job.tasks.len() as u32;
        }
        let dlc_index: std::collections::HashMap<&str, u32> =
            cfg.dlc_tasks.iter().enumerate().map(|(t, task)| (task.id.as_str(), t as u32)).collect();
        let clients = cfg
            .clients
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let account = match accounts.iter().position(|a| *a == c.account) {
                    Some(a) => a,
                    None => {
                        accounts.push(&c.account);
                        accounts.len() - 1
                    }
                } as u32;
                let dlc_task = match &c.kind {
                    ClientKind::CancelTask { task_id, .. } if is_dlc_task_id(task_id) => {
                        dlc_index.get(task_id.as_str()).copied()
                    }
                    _ => None,
                };
                let (job, task) = match &c.kind {
                    ClientKind::CancelTask { .. } | ClientKind::CancelInvocation { .. } => (JobRef::Unknown, None),
                    ClientKind::TerminateJob { job, .. } => (resolve_job(cfg, job), None),
                    ClientKind::TerminateTaskInstances { job, task, .. } => {
                        let job = resolve_job(cfg, job);
                        let task = match job {
                            JobRef::Known(j) => cfg.jobs[j as usize]
                                .tasks
                                .iter()
                                .position(|t| t.name == *task)
                                .map(|t| task_base[j as usize] + t as u32),
                            _ => None,
                        };
                        (job, task)
                    }
                };
                ClientRuntime {
                    account,
                    job,
                    dlc_task,
                    task,
                    retry: c.retry,
                    jitter: streams.stream(stream_id::CLIENT_JITTER + k as u64),
                }
            })
            .collect();
        Clients { agenda: BinaryHeap::new(), sequence: 0, wake_at: None, clients, answers: Parked::default() }
    }
}

/// When the `target`-th call of a client is first sent.
fn first_send_time(kind: &ClientKind, target: u32) -> SimTime {
    match kind {
        ClientKind::TerminateJob { at, .. }
        | ClientKind::CancelTask { at, .. }
        | ClientKind::CancelInvocation { at, .. } => *at,
        ClientKind::TerminateTaskInstances { at, rate, .. } => {
            *at + SimTime((f64::from(target) * 1e6 / rate).round() as u64)
        }
    }
}

fn call_count(kind: &ClientKind) -> usize {
    match kind {
        ClientKind::TerminateJob { .. } | ClientKind::CancelTask { .. } | ClientKind::CancelInvocation { .. } => 1,
        ClientKind::TerminateTaskInstances { indices, .. } => indices.len(),
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
            if call_count(kind) > 0 {
                let at = first_send_time(kind, 0);
                self.add_to_agenda(at, k as u32, 0, 1);
            }
        }
    }

    fn add_to_agenda(&mut self, at: SimTime, client: u32, target: u32, attempt: u32) {
        let c = &mut self.clients;
        c.agenda.push(Reverse((at, client, c.sequence, target, attempt)));
        c.sequence += 1;
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
        while let Some(&Reverse((at, client, _, target, attempt))) = self.clients.agenda.peek() {
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
        if attempt == 1 && (target as usize + 1) < call_count(kind) {
            let at = first_send_time(kind, target + 1);
            self.add_to_agenda(at, client, target + 1, 1);
        }
        let rt = &self.clients.clients[client as usize];
        let request = match &self.cfg.clients[client as usize].kind {
            ClientKind::TerminateJob { .. } => Request::TerminateJob { job: rt.job },
            ClientKind::CancelTask { .. } => Request::CancelTask { task: rt.dlc_task },
            ClientKind::CancelInvocation { .. } => Request::CancelInvocation { client },
            ClientKind::TerminateTaskInstances { indices, .. } => Request::TerminateTaskInstance {
                job: rt.job,
                task: rt.task,
                index: IndexList::get(indices, target as usize),
            },
        };
        let (account, retry) = (rt.account, rt.retry);
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
