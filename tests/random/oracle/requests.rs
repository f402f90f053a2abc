//! `requests.csv`: one row per attempt, retries and their backoff, the rate limiters, every
//! answer, and `summary.json`'s `requests` block. Written from SPEC §1.4–§1.9, §1.7c and §4, the
//! README ("clients[]", "retry", "Replaying a trace", "requests.csv") and docs/model.md ("The API
//! gateway and rate limits", "Error codes", "Decisions"), never from termsim's code.
//!
//! Rows are first tied to the call they make (client, place in its list, attempt), by replaying
//! each client's schedule over the rows; the other rules then read that tie.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::Violation;
use crate::outputs::{Micros, Outputs, RequestRow, SECOND, TimelineRow, s};
use crate::spec::{Call, Retry, Spec};

const LIMITED: &str = "RequestLimitExceeded";
const FAULT: &str = "InternalError";

fn describe(r: &RequestRow) -> String {
    let answer = if r.ok { "ok".to_string() } else { r.error_code.clone() };
    format!(
        "requests.csv line {} ({} {} {} {} attempt {} sent {} s → {answer})",
        r.line + 2,
        r.client,
        r.account,
        r.action,
        r.target,
        r.attempt,
        s(r.sent)
    )
}

pub fn check(spec: &Spec, out: &Outputs) -> Vec<Violation> {
    let mut v = Vec::new();
    let rows = &out.requests;
    let tie = attribute(spec, rows, &mut v);
    order(rows, &tie, &mut v);
    limiters(spec, rows, &mut v);
    answers(spec, out, &tie, &mut v);
    summary(out, &mut v);
    v
}

/// The target a call names in `requests.csv` (README, "requests.csv": `job-…/TASK/INDEX`, the
/// job id, the DLC `TaskId`, or the invocation id, as the call named it).
fn target(call: &Call) -> String {
    match call.action.as_str() {
        "TerminateTaskInstance" => format!("{}/{}/{}", call.job, call.task, call.index),
        "TerminateJob" => call.job.clone(),
        "CancelTask" => call.task_id.clone(),
        _ => call.invocation.clone(),
    }
}

fn show(call: &Call) -> String {
    format!("{} {} {} due at {} s", call.action, call.account, target(call), s(call.at))
}

fn same_call(call: &Call, r: &RequestRow) -> bool {
    call.action == r.action && call.account == r.account && target(call) == r.target
}

/// Where a row sits in the client order of SPEC §1.7c: (client position, place in its list).
/// A retry keeps the place of the call it retries, also one that became due during its own
/// instant (zero latency and zero backoff): it is made at once, at that place.
#[derive(Clone, Copy)]
struct Tie {
    client: usize,
    call: usize,
}

#[derive(Clone, Default)]
struct CallState {
    attempts: u32,
    /// When the next attempt may be sent, `[earliest, latest]`, if the last answer is retried.
    retry: Option<(Micros, Micros)>,
}

/// SPEC §1.7a / README "retry": after the n-th failed attempt (`RequestLimitExceeded` or
/// `InternalError` only, while attempts < `max_attempts`) the call goes again at its answer plus
/// `min(max, base × multiplier^(n-1))` (`none`), a draw in [0, that] (`full`), or half of it
/// plus a draw in [0, half] (`equal`). The product is taken in f64 on whole microseconds and
/// rounded to the microsecond (durations are whole µs, README "Values"); the generator's bases
/// and multipliers make it exact, so no tolerance is allowed.
fn retry_window(retry: Option<&Retry>, r: &RequestRow) -> Option<(Micros, Micros)> {
    let retry = retry?;
    if r.ok || (r.error_code != LIMITED && r.error_code != FAULT) || r.attempt >= retry.max_attempts {
        return None;
    }
    let exponent = i32::try_from(r.attempt - 1).unwrap_or(i32::MAX);
    let backoff = (retry.base as f64 * retry.multiplier.powi(exponent)).min(retry.max as f64).round() as Micros;
    let at = r.responded;
    Some(match retry.jitter.as_str() {
        "none" => (at + backoff, at + backoff),
        "equal" => (at + backoff / 2, at + backoff),
        _ => (at, at + backoff),
    })
}

/// Rule 1 and 2: every call of every client is sent as attempt 1 exactly when due (if due by the
/// horizon), with its action, account and target; attempts count up per call; a retry follows
/// only a retried answer, inside its backoff window; none is missing; nothing is sent after the
/// horizon (README "horizon": events at exactly the horizon run); every answer takes a possible
/// `api.latency` (SPEC §1.7). Returns each row's tie (None when it matches no call).
fn attribute(spec: &Spec, rows: &[RequestRow], v: &mut Vec<Violation>) -> Vec<Option<Tie>> {
    let mut next = vec![0usize; spec.clients.len()];
    let mut states: Vec<Vec<CallState>> =
        spec.clients.iter().map(|c| vec![CallState::default(); c.calls.len()]).collect();
    let mut ties = Vec::with_capacity(rows.len());
    for r in rows {
        if r.sent > spec.horizon {
            v.push(format!("[horizon] {}: sent after the horizon {} s", describe(r), s(spec.horizon)));
        }
        match r.responded.checked_sub(r.sent) {
            Some(latency) if spec.api_latency.allows(latency) => {}
            _ => v.push(format!(
                "[latency] {}: answered at {} s, not a draw of api.latency",
                describe(r),
                s(r.responded)
            )),
        }
        // Names are unique in practice (defaults are `<type>-<position>`), but two clients may
        // be given the same one: any of them may have made the row.
        let named: Vec<usize> = (0..spec.clients.len()).filter(|&k| spec.clients[k].name == r.client).collect();
        let tie = if r.attempt == 1 {
            // The client's next call; or a later one, the calls in between then being lost
            // (reported here, and skipped so that one loss is not reported at every later row).
            let found = named.iter().find_map(|&k| {
                let calls = &spec.clients[k].calls;
                (next[k]..calls.len()).find(|&i| same_call(&calls[i], r) && calls[i].at == r.sent).map(|i| (k, i))
            });
            if let Some((k, i)) = found {
                for (j, call) in spec.clients[k].calls.iter().enumerate().take(i).skip(next[k]) {
                    v.push(format!(
                        "[attempt] {}: the client's call {j} ({}) was not sent before it",
                        describe(r),
                        show(call)
                    ));
                }
                next[k] = i + 1;
            }
            found.map(|(k, i)| Tie { client: k, call: i })
        } else {
            // Several pending retries may fit (the same target twice in a list): take the one
            // whose window closes first, which finds a fit for every row whenever one exists.
            named
                .iter()
                .flat_map(|&k| (0..states[k].len()).map(move |i| (k, i)))
                .filter(|&(k, i)| {
                    let st = &states[k][i];
                    st.attempts + 1 == r.attempt
                        && st.retry.is_some_and(|(lo, hi)| lo <= r.sent && r.sent <= hi)
                        && same_call(&spec.clients[k].calls[i], r)
                })
                .min_by_key(|&(k, i)| states[k][i].retry.map(|(_, hi)| hi))
                .map(|(k, i)| Tie { client: k, call: i })
        };
        match tie {
            Some(t) => {
                let st = &mut states[t.client][t.call];
                st.attempts = r.attempt;
                st.retry = retry_window(spec.clients[t.client].retry.as_ref(), r);
            }
            None if r.attempt == 1 => {
                let expected: Vec<String> = named
                    .iter()
                    .map(|&k| spec.clients[k].calls.get(next[k]).map_or("no more calls".into(), show))
                    .collect();
                v.push(format!("[attempt] {}: not a call of the client (its next: {expected:?})", describe(r)));
            }
            None => {
                // The windows of the calls this row could have retried, for the report.
                let windows: Vec<String> = named
                    .iter()
                    .flat_map(|&k| (0..states[k].len()).map(move |i| (k, i)))
                    .filter(|&(k, i)| states[k][i].attempts + 1 == r.attempt && same_call(&spec.clients[k].calls[i], r))
                    .map(|(k, i)| match states[k][i].retry {
                        Some((lo, hi)) => format!("due in [{} s, {} s]", s(lo), s(hi)),
                        None => "its last answer is not retried".into(),
                    })
                    .collect();
                v.push(format!(
                    "[retry] {}: no earlier attempt of this call may be retried then (with `retry`, attempts left, \
                     after RequestLimitExceeded or InternalError, inside the backoff): {windows:?}",
                    describe(r)
                ));
            }
        }
        ties.push(tie);
    }
    for (k, client) in spec.clients.iter().enumerate() {
        for (i, call) in client.calls.iter().enumerate() {
            if i >= next[k] && call.at <= spec.horizon {
                v.push(format!(
                    "[attempt] client {} never sent its call {i} ({}), due by the horizon",
                    client.name,
                    show(call)
                ));
            }
            if let Some((_, hi)) = states[k][i].retry.filter(|&(_, hi)| hi <= spec.horizon) {
                v.push(format!(
                    "[retry] client {} call {i} ({} {}): attempt {} is due by {} s (before the horizon) but never sent",
                    client.name,
                    call.action,
                    target(call),
                    states[k][i].attempts + 1,
                    s(hi)
                ));
            }
        }
    }
    ties
}

/// Rule 1 (order): rows by sent time; within an instant, clients in file order, then list (or
/// trace row) order, a retry at the place of the call it retries (SPEC §1.7c).
fn order(rows: &[RequestRow], ties: &[Option<Tie>], v: &mut Vec<Violation>) {
    for pair in rows.windows(2) {
        if pair[1].sent < pair[0].sent {
            v.push(format!("[order] {} comes after a row sent later, at {} s", describe(&pair[1]), s(pair[0].sent)));
        }
    }
    let mut previous: Option<(Micros, (usize, usize), usize)> = None;
    for (r, tie) in rows.iter().zip(ties) {
        let Some(tie) = tie else { continue };
        let place = (tie.client, tie.call);
        if let Some((t, earlier, line)) = previous
            && t == r.sent
            && place < earlier
        {
            v.push(format!(
                "[order] {}: client {} call {} goes before client {} call {} (line {}) at the same instant",
                describe(r),
                place.0,
                place.1,
                earlier.0,
                earlier.1,
                line + 2
            ));
        }
        previous = Some((r.sent, place, r.line));
    }
}

/// Rule 3: the limiters, exact both ways, per account and action, on sent times, in row order
/// (the order calls took effect, SPEC §1.1). Calls refused do not count; every other call does,
/// whatever its answer (SPEC §1.7). `fixed_window`: at most N in [k s, k+1 s). `token_bucket`:
/// N tokens, full at time 0, refilled continuously at N per second (SPEC §1.7c, docs/model.md),
/// counted here in millionths of a token so that a µs adds exactly N of them: a call passes iff a
/// whole token is there.
fn limiters(spec: &Spec, rows: &[RequestRow], v: &mut Vec<Violation>) {
    // Ordered, so that a run's violations come in the same order every time.
    let mut groups: BTreeMap<(&str, &str), Vec<&RequestRow>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.account.as_str(), r.action.as_str())).or_default().push(r);
    }
    for ((account, action), group) in groups {
        let Some(&(_, n)) = spec.limits.iter().find(|(a, _)| a == action) else {
            v.push(format!("[answer] {}: no such action", describe(group[0])));
            continue;
        };
        let mut windows: HashMap<Micros, u64> = HashMap::new();
        let capacity = u128::from(n) * u128::from(SECOND);
        let (mut tokens, mut last) = (capacity, 0);
        for r in group {
            let (passes, state) = if spec.rate_limit == "token_bucket" {
                tokens = (tokens + u128::from(n) * u128::from(r.sent - last)).min(capacity);
                last = r.sent;
                (tokens >= u128::from(SECOND), format!("{:.6} tokens", tokens as f64 / SECOND as f64))
            } else {
                let used = windows.get(&(r.sent / SECOND)).copied().unwrap_or(0);
                (used < n, format!("{used} calls already accepted in second {}", r.sent / SECOND))
            };
            let refused = !r.ok && r.error_code == LIMITED;
            if passes == refused {
                let should = if passes { "should pass" } else { "should be RequestLimitExceeded" };
                v.push(format!(
                    "[limiter] {}: {should} ({} {n}/s for {account} {action}: {state})",
                    describe(r),
                    spec.rate_limit
                ));
            }
            if !refused {
                if spec.rate_limit == "token_bucket" {
                    tokens = tokens.saturating_sub(u128::from(SECOND));
                } else {
                    *windows.entry(r.sent / SECOND).or_default() += 1;
                }
            }
        }
    }
}

/// `job-` + 8 lowercase letters or digits (SPEC §1.2); `inv-` + 8 likewise (SPEC §1.9).
fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Each entity's timeline rows `(t, to)`, in file order.
fn histories<'t>(timeline: &'t [TimelineRow], entity: &str) -> HashMap<&'t str, Vec<(Micros, &'t str)>> {
    let mut h: HashMap<&str, Vec<(Micros, &str)>> = HashMap::new();
    for row in timeline.iter().filter(|r| r.entity == entity) {
        h.entry(row.id.as_str()).or_default().push((row.t, row.to.as_str()));
    }
    h
}

/// The states an entity may show to a call at `t` (None: not in the timeline yet). The model's
/// own changes of an instant run before its calls (SPEC §1.7c), so without an accepted call on
/// the same entity at that instant the call sees the state at the end of the instant. An
/// accepted call changes it mid-instant, and its rows cannot be told from the model's own ones
/// at that instant; then any state the entity passed through at `t` may be the one seen.
fn seen<'t>(history: Option<&Vec<(Micros, &'t str)>>, t: Micros, touched: bool) -> Vec<Option<&'t str>> {
    let history = history.map(Vec::as_slice).unwrap_or_default();
    let before = history.iter().take_while(|(at, _)| *at < t).last().map(|(_, to)| *to);
    let mut during = history.iter().filter(|(at, _)| *at == t).map(|(_, to)| Some(*to));
    if touched { std::iter::once(before).chain(during).collect() } else { vec![during.next_back().unwrap_or(before)] }
}

/// What a row's call acts on in the model, for `seen`: its job, or its DLC task (ids that
/// cannot be equal).
fn touches(r: &RequestRow) -> &str {
    match r.action.as_str() {
        "TerminateTaskInstance" => r.target.split('/').next().unwrap_or(""),
        _ => &r.target,
    }
}

/// Rule 4: every answer past the limiter is the one SPEC §1.4–§1.9 and docs/model.md ("Error
/// codes", "Decisions") give, checked in the documented order: fault injection, then the
/// action's own checks; `ok` only when none applies.
fn answers(spec: &Spec, out: &Outputs, ties: &[Option<Tie>], v: &mut Vec<Violation>) {
    let rows = &out.requests;
    let jobs = out.timeline.as_deref().map(|t| histories(t, "job"));
    let dlc = out.timeline.as_deref().map(|t| histories(t, "dlc_task"));
    // (instant, job or DLC task) that an accepted call acted on: there `seen` cannot be exact.
    let accepted_at: HashSet<(Micros, &str)> = rows.iter().filter(|r| r.ok).map(|r| (r.sent, touches(r))).collect();
    for (at, r) in rows.iter().enumerate() {
        if r.ok != r.error_code.is_empty() {
            v.push(format!("[answer] {}: outcome and error_code disagree", describe(r)));
        }
        if !r.ok && r.error_code == LIMITED {
            continue; // the limiter's rule
        }
        let code = if r.ok { "" } else { r.error_code.as_str() };
        // SPEC §1.4, docs/model.md: injected at `internal_error_rate`, for calls past the limit.
        if code == FAULT {
            if spec.internal_error_rate <= 0.0 {
                v.push(format!("[answer] {}: InternalError with internal_error_rate 0", describe(r)));
            }
            continue;
        }
        if spec.internal_error_rate >= 1.0 {
            v.push(format!(
                "[answer] {}: past the limiter with internal_error_rate 1.0, expected InternalError",
                describe(r)
            ));
            continue;
        }
        let earlier = &rows[..at];
        let touched = accepted_at.contains(&(r.sent, touches(r)));
        let expected: Option<Vec<&str>> = match r.action.as_str() {
            "TerminateTaskInstance" => Some(vec![terminate_task_instance(spec, r)]),
            "TerminateJob" => jobs.as_ref().map(|h| terminate_job(spec, r, earlier, h, touched)),
            "CancelTask" => dlc.as_ref().map(|h| cancel_task(spec, r, earlier, h, touched)),
            // Its instance ids are not in the row: they are its call's (no check when the row
            // is tied to no call, which `attribute` reports).
            "CancelInvocation" => {
                ties[at].map(|t| vec![cancel_invocation(spec, r, &spec.clients[t.client].calls[t.call])])
            }
            _ => None,
        };
        if let Some(expected) = expected
            && !expected.is_empty()
            && !expected.contains(&code)
        {
            let expected: Vec<&str> = expected.iter().map(|c| if c.is_empty() { "ok" } else { c }).collect();
            v.push(format!("[answer] {}: expected {}", describe(r), expected.join(" or ")));
        }
    }
}

/// SPEC §1.4, docs/model.md "Decisions": job id form, then job (unknown before its `submit_at`),
/// task and index, then a named environment under `reject`. All known from the scenario alone.
fn terminate_task_instance(spec: &Spec, r: &RequestRow) -> &'static str {
    let mut parts = r.target.splitn(3, '/');
    let (job_id, task, index) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !well_formed(job_id, "job-") {
        return "InvalidParameter.JobIdMalformed";
    }
    let Some(job) = spec.job(job_id).filter(|j| j.submit_at <= r.sent) else {
        return "ResourceNotFound.TaskInstance";
    };
    let exists =
        job.tasks.iter().find(|t| t.name == task).is_some_and(|t| index.parse::<u32>().is_ok_and(|i| i < t.instances));
    if !exists {
        return "ResourceNotFound.TaskInstance";
    }
    if job.env != "anonymous" && spec.named_env_termination == "reject" {
        return "UnsupportedOperation.TerminateOperationWithEnvId";
    }
    ""
}

/// Final job states: every instance final (SPEC §1.2).
fn job_final(state: &str) -> bool {
    matches!(state, "SUCCEED" | "FAILED")
}

/// SPEC §1.5, docs/model.md "Decisions": job id form, then known job (from its `submit_at`), then
/// the named environment under `reject`, job `SUBMITTED`, termination in progress (an earlier
/// accepted TerminateJob, until every instance is final). The last two read the job's state in
/// the timeline.
fn terminate_job(
    spec: &Spec,
    r: &RequestRow,
    earlier: &[RequestRow],
    jobs: &HashMap<&str, Vec<(Micros, &str)>>,
    touched: bool,
) -> Vec<&'static str> {
    if !well_formed(&r.target, "job-") {
        return vec!["InvalidParameter.JobIdMalformed"];
    }
    let Some(job) = spec.job(&r.target).filter(|j| j.submit_at <= r.sent) else {
        return vec!["ResourceNotFound.Job"];
    };
    if job.env != "anonymous" && spec.named_env_termination == "reject" {
        return vec!["UnsupportedOperation.TerminateOperationWithEnvId"];
    }
    let in_progress = earlier.iter().any(|e| e.ok && e.action == "TerminateJob" && e.target == r.target);
    let mut answers = Vec::new();
    for state in seen(jobs.get(r.target.as_str()), r.sent, touched) {
        let Some(state) = state else { return Vec::new() };
        let answer = match state {
            "SUBMITTED" => "UnsupportedOperation",
            s if job_final(s) => "",
            _ if in_progress => "ResourceInUse.Job",
            _ => "",
        };
        if !answers.contains(&answer) {
            answers.push(answer);
        }
    }
    answers
}

/// SPEC §1.8, docs/model.md "DLC CancelTask": an id that names no task of the scenario (malformed
/// ones included) or one not yet submitted, then a task that has ended, then an earlier accepted
/// cancel still in progress (which ends only with the task: `CANCELLED`, or its own end first).
fn cancel_task(
    spec: &Spec,
    r: &RequestRow,
    earlier: &[RequestRow],
    tasks: &HashMap<&str, Vec<(Micros, &str)>>,
    touched: bool,
) -> Vec<&'static str> {
    if !spec.dlc.iter().any(|t| t.id == r.target && t.submit_at <= r.sent) {
        return vec!["InvalidParameter.InvalidTaskId"];
    }
    let in_progress = earlier.iter().any(|e| e.ok && e.action == "CancelTask" && e.target == r.target);
    let mut answers = Vec::new();
    for state in seen(tasks.get(r.target.as_str()), r.sent, touched) {
        let Some(state) = state else { return Vec::new() };
        let answer = match state {
            "SUCCEEDED" | "FAILED" | "CANCELLED" => "InvalidParameter.TaskAlreadyFinished",
            _ if in_progress => "FailedOperation.AnotherRequestProcessing",
            _ => "",
        };
        if !answers.contains(&answer) {
            answers.push(answer);
        }
    }
    answers
}

/// SPEC §1.9, docs/model.md "TAT CancelInvocation", in this order: malformed invocation id, more
/// than 100 `InstanceIds`, an invocation not the scenario's or not started, an instance id not
/// the invocation's (malformed ones included). All known from the scenario.
fn cancel_invocation(spec: &Spec, r: &RequestRow, call: &Call) -> &'static str {
    if !well_formed(&r.target, "inv-") {
        return "InvalidParameterValue.InvalidInvocationId";
    }
    let ids = call.instance_ids.as_ref();
    if ids.is_some_and(|ids| ids.len() > 100) {
        return "InvalidParameterValue.LimitExceeded";
    }
    let Some(invocation) = spec.tat.iter().find(|i| i.id == r.target && i.at <= r.sent) else {
        return "ResourceNotFound.InvocationNotFound";
    };
    if ids.is_some_and(|ids| ids.iter().any(|id| !invocation.instances.contains(id))) {
        return "InvalidParameterValue.InstanceIsNotRelatedToInvocation";
    }
    ""
}

/// Rule 5: `summary.json`'s `requests` block counts the rows (SPEC §4, README "summary.json"); a
/// code that never occurred may be written as 0 or left out.
fn summary(out: &Outputs, v: &mut Vec<Violation>) {
    let block = &out.summary["requests"];
    let total = out.requests.len() as u64;
    let ok = out.requests.iter().filter(|r| r.ok).count() as u64;
    if block["total"].as_u64() != Some(total) {
        v.push(format!("[summary] requests.total is {}, requests.csv has {total} rows", block["total"]));
    }
    if block["ok"].as_u64() != Some(ok) {
        v.push(format!("[summary] requests.ok is {}, requests.csv has {ok} ok rows", block["ok"]));
    }
    let mut by_error: BTreeMap<&str, u64> = BTreeMap::new();
    for r in out.requests.iter().filter(|r| !r.ok) {
        *by_error.entry(r.error_code.as_str()).or_default() += 1;
    }
    let written = block["by_error"].as_object();
    for (code, count) in &by_error {
        let said = written.and_then(|m| m.get(*code)).and_then(serde_json::Value::as_u64);
        if said != Some(*count) {
            v.push(format!("[summary] requests.by_error.{code} is {said:?}, requests.csv has {count}"));
        }
    }
    for (code, said) in written.into_iter().flatten() {
        let count = by_error.get(code.as_str()).copied().unwrap_or(0);
        if said.as_u64() != Some(count) {
            v.push(format!("[summary] requests.by_error.{code} is {said}, requests.csv has {count}"));
        }
    }
}
