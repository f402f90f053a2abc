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
//! the call in the client's list), woken by a single engine event. A wake-up sends one call, and
//! only when no event of the model is left due at that instant; otherwise, and after each call,
//! it is scheduled again at the same instant, behind those events (the state changes of the
//! instant, and what the call scheduled for it, such as a retry's answer). Calls due at the same instant thus go after the instant's state changes,
//! in the order the clients appear in the scenario and a client's in list order, and a retry due
//! at the instant of its answer keeps its call's place before later clients' calls. So a trace's
//! rows go as the same calls made by one client each would.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use rand::RngExt;

use crate::engine::{EventQueue, SimTime, Stream, Streams};

use super::config::{CallRef, ClientKind, Config, Jitter, Retry};
use super::target::{Catalog, Named, Request, Resolver};
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
    /// The calls known when the run started: each, once sent, puts the next on the agenda.
    /// Calls added later ([`Model::push_call`]) put themselves on it.
    upfront: u32,
}

/// A client's calls, resolved once when the run starts.
enum Requests {
    /// Every call is the same (TerminateJob, CancelTask, CancelInvocation clients).
    Same(Request),
    /// TerminateTaskInstance of the index at the call's position in the client's list.
    Indices { job: Named, task: Option<u32> },
    /// `(account, request)` per row of a trace.
    Rows(Vec<(u32, Request)>),
}

pub(super) struct Clients {
    /// Account names, numbered in order of first use (rows added live get numbers after).
    accounts: HashMap<Box<str>, u32>,
    agenda: BinaryHeap<Due>,
    /// When the live wake-up is due, if one is scheduled.
    wake_at: Option<SimTime>,
    /// The token of the live wake-up: one scheduled earlier is void.
    wake_token: u32,
    clients: Vec<ClientRuntime>,
    /// `(client, target, attempt)` of the retryable answers on their way to a client.
    answers: Parked,
    /// The instance positions each CancelInvocation names, by the slot its request holds.
    pub(super) selections: Vec<Box<[u32]>>,
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

impl Clients {
    pub(super) fn new(cfg: &Config, streams: Streams) -> Self {
        let mut resolver = Resolver::new(Catalog::of(cfg));
        // Accounts are numbered in order of first use, so the numbering is the same every run.
        let mut accounts: HashMap<Box<str>, u32> = HashMap::new();
        let mut account = |name: &str| account_number(&mut accounts, name);
        let clients = cfg
            .clients
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let client_account = account(c.account.as_str());
                let requests = match &c.kind {
                    ClientKind::TerminateTaskInstances { job, task, .. } => {
                        let job = resolver.job(job);
                        Requests::Indices { job, task: resolver.task(job, task) }
                    }
                    ClientKind::Trace { rows } => Requests::Rows(
                        rows.iter()
                            .map(|row| {
                                let account = row.account.as_deref().map_or(client_account, &mut account);
                                (account, resolver.request(row.call.as_ref()))
                            })
                            .collect(),
                    ),
                    kind => Requests::Same(resolver.request(kind.call(0))),
                };
                ClientRuntime {
                    upfront: c.kind.call_count() as u32,
                    account: client_account,
                    requests,
                    retry: c.retry,
                    jitter: streams.stream(stream_id::CLIENT_JITTER + k as u64),
                }
            })
            .collect();
        Clients {
            accounts,
            agenda: BinaryHeap::new(),
            wake_at: None,
            wake_token: 0,
            clients,
            answers: Parked::default(),
            selections: resolver.into_selections(),
        }
    }
}

fn account_number(accounts: &mut HashMap<Box<str>, u32>, name: &str) -> u32 {
    if let Some(&n) = accounts.get(name) {
        return n;
    }
    let next = accounts.len() as u32;
    accounts.insert(name.into(), next);
    next
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

    /// Appends a call to trace client `client` while the run goes on, sent at `row.at` (not
    /// before now): what `termsim serve` does with each call it receives. Its ids are resolved
    /// as a trace row's are when a run starts, and it goes on the agenda at once; the rows of a
    /// trace known from the start go on it one after another instead, which changes no call's
    /// place: the agenda orders calls by (time, client, row) whenever they were added. Returns
    /// the call's row number in the client.
    pub fn push_call(&mut self, client: u32, row: super::config::TraceRow) -> u32 {
        assert!(row.at >= self.now, "a call is never added in the past");
        let k = client as usize;
        let ClientKind::Trace { rows } = &mut self.cfg.clients[k].kind else {
            panic!("calls are added to trace clients only");
        };
        Arc::make_mut(rows).push(row);
        let target = rows.len() as u32 - 1;
        let row = &rows[target as usize];
        let account = match row.account.as_deref() {
            Some(name) => account_number(&mut self.clients.accounts, name),
            None => self.clients.clients[k].account,
        };
        let selections = std::mem::take(&mut self.clients.selections);
        let mut resolver = Resolver::resume(Catalog::of(&self.cfg), selections);
        let ClientKind::Trace { rows } = &self.cfg.clients[k].kind else { unreachable!() };
        let row = &rows[target as usize];
        let request = resolver.request(row.call.as_ref());
        self.clients.selections = resolver.into_selections();
        let Requests::Rows(resolved) = &mut self.clients.clients[k].requests else { unreachable!() };
        resolved.push((account, request));
        self.rec.call_added(client, row);
        let at = row.at;
        self.add_to_agenda(at, client, target, 1);
        target
    }

    fn add_to_agenda(&mut self, at: SimTime, client: u32, target: u32, attempt: u32) {
        let c = &mut self.clients;
        c.agenda.push(Reverse((at, client, target, attempt)));
        if c.wake_at.is_none_or(|w| at < w) {
            self.wake_clients_at(at);
        }
    }

    /// Sends the next call due now, if the model has no event left due now: the model's state
    /// changes of an instant go before its calls (SPEC §1.7c), so the wake-up otherwise comes
    /// back after them. After a call, the next one due now waits in turn behind the events that
    /// call scheduled for this instant, such as a retry's answer, which then keeps its call's
    /// place on the agenda.
    pub(super) fn client_wake(&mut self, token: u32) {
        // A wake-up that sends no call is bookkeeping of the agenda, not an event of the run:
        // not counted, so that `events` does not depend on when the agenda learnt of a call
        // (a trace's rows one after another, or `termsim serve`'s as they come).
        if token != self.clients.wake_token {
            self.events -= 1;
            return; // superseded by an earlier wake-up, which has run
        }
        let now = self.now;
        self.clients.wake_at = None;
        // Only the model's events are pending besides the live wake-up.
        if self.queue.pending_at(now) {
            self.events -= 1;
            self.wake_clients_at(now);
            return;
        }
        let mut sent = false;
        if let Some(&Reverse((at, client, target, attempt))) = self.clients.agenda.peek()
            && at <= now
        {
            self.clients.agenda.pop();
            self.send(client, target, attempt);
            sent = true;
        }
        if !sent {
            self.events -= 1;
        }
        if let Some(&Reverse((at, ..))) = self.clients.agenda.peek()
            && self.clients.wake_at.is_none_or(|w| at < w)
        {
            self.wake_clients_at(at);
        }
    }

    fn wake_clients_at(&mut self, at: SimTime) {
        let c = &mut self.clients;
        c.wake_at = Some(at);
        c.wake_token = c.wake_token.wrapping_add(1);
        let token = c.wake_token;
        self.schedule_at(at, Event::ClientWake(token));
    }

    fn send(&mut self, client: u32, target: u32, attempt: u32) {
        let kind = &self.cfg.clients[client as usize].kind;
        if attempt == 1 && target + 1 < self.clients.clients[client as usize].upfront {
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
        if let (Some(error), Some(retry)) = (error, retry)
            && error.is_retryable()
            && attempt < retry.max_attempts
        {
            let slot = self.clients.answers.park((client, target, attempt));
            self.schedule_at(responded, Event::Answer(slot));
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
