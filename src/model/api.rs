//! The public API gateway: rate limits, injected faults, answers and error codes (SPEC §1.4,
//! §1.5, §1.7).
//!
//! A call takes effect the instant it is sent and is answered `api.latency` later. It is checked
//! in this order, the first failing check deciding the answer:
//! 1. the rate limit of its account and action: over it, `RequestLimitExceeded` (the call does
//!    not count against the limit);
//! 2. fault injection: `InternalError` at `api.internal_error_rate`;
//! 3. the lookup of what the call names ([`super::target`]: malformed ids, unknown resources);
//! 4. the action's rules on the live state (named environment, job state, a cancel in progress).
//!
//! A call that errs has no effect. Every call the limiter lets through counts, whatever its
//! answer.
//!
//! # Rate limits
//! `fixed_window` (the default): at most N accepted calls in each simulated second
//! `[k s, k+1 s)`. `token_bucket`: a bucket of N tokens, full at time 0, refilled continuously at
//! N per second (exactly, in millionths of a token per microsecond); a call takes one token.

use crate::engine::{SimTime, bernoulli};

use super::config::{Config, EnvRef, NamedEnvPolicy, RateLimitAlgorithm};
use super::job::JobTermination;
use super::recorder::RequestRecord;
use super::state::{InstanceState, TerminationPath};
use super::target::{self, Catalog, Request, Target};
use super::vocabulary::{Action, ErrorCode};
use super::{Model, Recorder};

#[derive(Clone, Copy, Debug)]
enum Limiter {
    FixedWindow {
        window: u64,
        accepted: u32,
    },
    /// Tokens in millionths.
    TokenBucket {
        micro_tokens: u64,
        refilled_at: SimTime,
    },
}

const MICRO: u64 = 1_000_000;

impl Limiter {
    fn new(algorithm: RateLimitAlgorithm, limit: u32) -> Self {
        match algorithm {
            RateLimitAlgorithm::FixedWindow => Limiter::FixedWindow { window: 0, accepted: 0 },
            RateLimitAlgorithm::TokenBucket => {
                Limiter::TokenBucket { micro_tokens: u64::from(limit) * MICRO, refilled_at: SimTime::ZERO }
            }
        }
    }

    fn admit(&mut self, limit: u32, now: SimTime) -> bool {
        match self {
            Limiter::FixedWindow { window, accepted } => {
                let current = now.micros() / MICRO;
                if current != *window {
                    *window = current;
                    *accepted = 0;
                }
                if *accepted < limit {
                    *accepted += 1;
                    true
                } else {
                    false
                }
            }
            Limiter::TokenBucket { micro_tokens, refilled_at } => {
                let capacity = u64::from(limit) * MICRO;
                let refill = (now - *refilled_at).micros().saturating_mul(u64::from(limit));
                *micro_tokens = micro_tokens.saturating_add(refill).min(capacity);
                *refilled_at = now;
                if *micro_tokens >= MICRO {
                    *micro_tokens -= MICRO;
                    true
                } else {
                    false
                }
            }
        }
    }
}

/// Request counts for the summary.
#[derive(Clone, Debug, Default)]
pub struct RequestTotals {
    /// Every API call of the run, rate-limited ones included.
    pub total: u64,
    /// Calls answered without an error.
    pub ok: u64,
    /// Calls answered with each error code, in `ErrorCode::ALL` order.
    pub by_error: [u64; ErrorCode::ALL.len()],
}

pub(super) struct Gateway {
    algorithm: RateLimitAlgorithm,
    limits: [u32; Action::COUNT],
    /// Per account, per action; created on first use.
    limiters: Vec<[Option<Limiter>; Action::COUNT]>,
    totals: RequestTotals,
}

impl Gateway {
    pub(super) fn new(cfg: &Config) -> Self {
        Gateway {
            algorithm: cfg.backend.api.rate_limit,
            limits: cfg.backend.api.limits,
            limiters: Vec::new(),
            totals: RequestTotals::default(),
        }
    }

    fn admit(&mut self, account: u32, action: Action, now: SimTime) -> bool {
        let a = account as usize;
        if self.limiters.len() <= a {
            self.limiters.resize(a + 1, [None; Action::COUNT]);
        }
        let limit = self.limits[action.index()];
        let algorithm = self.algorithm;
        self.limiters[a][action.index()].get_or_insert_with(|| Limiter::new(algorithm, limit)).admit(limit, now)
    }

    pub(super) fn totals(&self) -> RequestTotals {
        self.totals.clone()
    }
}

impl<R: Recorder> Model<R> {
    /// A call takes effect now. Returns its answer and when the answer reaches the client.
    pub(super) fn call_api(
        &mut self,
        client: u32,
        account: u32,
        request: Request,
        target: u32,
        attempt: u32,
    ) -> (Option<ErrorCode>, SimTime) {
        let action = request.action();
        let error = if !self.gateway.admit(account, action, self.now) {
            Some(ErrorCode::RequestLimitExceeded)
        } else if bernoulli(&mut self.rng.api_fault, self.cfg.backend.api.internal_error_rate) {
            Some(ErrorCode::InternalError)
        } else {
            match target::check(request, self.now, &Catalog::of(&self.cfg)) {
                Err(refusal) => Some(refusal.code(action)),
                Ok(Target::Instance { job, task, index }) => self.terminate_task_instance(job, task, index),
                Ok(Target::Job(j)) => self.terminate_job(j),
                Ok(Target::DlcTask(t)) => self.cancel_task(t),
                Ok(Target::Invocation { invocation, instances }) => self.cancel_invocation(invocation, instances),
                Ok(Target::Describe) => None,
            }
        };
        let responded = self.now + self.cfg.backend.api.latency.sample(&mut self.rng.api_latency);
        let totals = &mut self.gateway.totals;
        let number = totals.total;
        totals.total += 1;
        match error {
            None => totals.ok += 1,
            Some(e) => totals.by_error[e as usize] += 1,
        }
        self.rec.request(&RequestRecord { number, client, action, target, attempt, sent: self.now, responded, error });
        (error, responded)
    }

    fn rejects_named(&self, j: u32) -> bool {
        matches!(self.jobs[j as usize].env, EnvRef::Named(_))
            && self.cfg.backend.named_env_termination == NamedEnvPolicy::Reject
    }

    /// TerminateTaskInstance on task `task` (its position in job `j`), instance `index`.
    fn terminate_task_instance(&mut self, j: u32, task: u32, index: u32) -> Option<ErrorCode> {
        let global = self.jobs[j as usize].first_task + task;
        let i = self.tasks[global as usize].first_instance + index;
        if self.rejects_named(j) {
            self.termination_rejected(i);
            return Some(ErrorCode::UnsupportedOperationTerminateOperationWithEnvId);
        }
        self.termination_accepted();
        self.terminate_instance(i, self.now);
        None
    }

    fn terminate_job(&mut self, j: u32) -> Option<ErrorCode> {
        let runtime = &self.jobs[j as usize];
        let instances = runtime.first_instance..runtime.first_instance + runtime.instance_count;
        if self.rejects_named(j) {
            for i in instances {
                self.termination_rejected(i);
            }
            return Some(ErrorCode::UnsupportedOperationTerminateOperationWithEnvId);
        }
        let state = runtime.state.expect("the lookup passes only jobs already submitted");
        if state == InstanceState::Submitted {
            return Some(ErrorCode::UnsupportedOperation);
        }
        if runtime.termination == JobTermination::InProgress {
            return Some(ErrorCode::ResourceInUseJob);
        }
        self.termination_accepted();
        if state.is_final() {
            // Accepted with no effect: every instance is already final, so the job's latency is 0.
            let now = self.now;
            let job = &mut self.jobs[j as usize];
            job.terminate_requested.get_or_insert(now);
            job.terminated.get_or_insert(now);
            for i in instances {
                self.set_path(i, TerminationPath::NoOp, Some(now));
            }
            return None;
        }
        self.accept_job_termination(j);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_admits_n_per_whole_second() {
        let mut l = Limiter::new(RateLimitAlgorithm::FixedWindow, 2);
        let at = |ms| SimTime::from_millis(ms);
        assert!(l.admit(2, at(0)));
        assert!(l.admit(2, at(400)));
        assert!(!l.admit(2, at(999)));
        assert!(l.admit(2, at(1000)), "a new window opens at 1 s");
    }

    #[test]
    fn token_bucket_refills_continuously() {
        let mut l = Limiter::new(RateLimitAlgorithm::TokenBucket, 2);
        let at = |ms| SimTime::from_millis(ms);
        assert!(l.admit(2, at(0)));
        assert!(l.admit(2, at(0)));
        assert!(!l.admit(2, at(0)), "the bucket starts with 2 tokens");
        assert!(!l.admit(2, at(499)), "499 ms refill 0.998 token");
        assert!(l.admit(2, at(500)), "500 ms refill exactly one token");
        assert!(!l.admit(2, at(500)));
    }
}
