//! The timeline and what is recomputed from it: every row legal, nothing after a final state or
//! the horizon, job and task states derived from their instances, dependencies, constant and
//! bounded delays, DLC and TAT, then `instances.csv`, `cancellations.csv` and the figures of
//! `summary.json` recomputed from the rows and `requests.csv`.
//!
//! Sources: SPEC §1.2–§1.9 and §4, the README (scenario fields, output columns) and
//! docs/model.md (Decisions). The cause vocabulary beyond the README's list was read off real
//! outputs, and each cause admitted only where those documents allow the transition.
//!
//! A CVM is tied to its instance by row order: the CVM's `create_call` row is directly followed
//! by the instance's `RUNNABLE → STARTING` (`cvm_creating`) row (the rows of one instant are in
//! the order they happen, SPEC §1.1, and the create call is what makes the instance `STARTING`,
//! §1.3).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::Violation;
use crate::outputs::{InstanceRow, Micros, Outputs, RequestRow, TimelineRow, s, seconds_to_micros};
use crate::spec::{Dist, Spec, Task};

fn show(r: &TimelineRow) -> String {
    format!("{},{},{},{},{},{}", s(r.t), r.entity, r.id, r.from.as_deref().unwrap_or(""), r.to, r.cause)
}

fn opt(t: Option<Micros>) -> String {
    t.map(s).unwrap_or_else(|| "-".into())
}

/// Legal `(entity, from, to, causes)` (`from` "" for the first row of an entity). Job, task and
/// TAT invocation rows are derived states, checked by recomputation instead.
const LEGAL: &[(&str, &str, &str, &[&str])] = &[
    // SPEC §1.3: the normal life of an instance.
    ("instance", "", "SUBMITTED", &["submitted"]),
    ("instance", "SUBMITTED", "PENDING", &["submit_delay"]),
    // PENDING → RUNNABLE when the dependencies are done: at once without any (`submitted`).
    ("instance", "PENDING", "RUNNABLE", &["submitted", "dependencies_met"]),
    // §1.3 anonymous: the create call; named: a free node, STARTING and RUNNING at once.
    ("instance", "RUNNABLE", "STARTING", &["cvm_creating", "node_assigned"]),
    ("instance", "STARTING", "RUNNING", &["cvm_running", "node_assigned"]),
    ("instance", "RUNNING", "SUCCEED", &["run_succeeded"]),
    // §1.3 failed runs: retried at once on the same CVM (model.md "Runs"), or, after an
    // interruption, queued again for a new CVM (§1.7c).
    ("instance", "RUNNING", "RUNNING", &["retry"]),
    ("instance", "RUNNING", "RUNNABLE", &["retry"]),
    // §1.3 the last failure follows failed_action; §1.4 a terminated CVM makes it FAILED.
    ("instance", "RUNNING", "FAILED", &["run_failed", "interrupted", "terminated"]),
    ("instance", "RUNNING", "FAILED_INTERRUPTED", &["run_failed", "interrupted"]),
    // §1.3 launch failure: FAILED or RUNNABLE again; §1.7c a bypass-registered instance stays
    // STARTING until its CVM is terminated (or fails to launch).
    ("instance", "STARTING", "FAILED", &["cvm_launch_failed", "terminated"]),
    ("instance", "STARTING", "RUNNABLE", &["cvm_launch_failed"]),
    // §1.4 immediate; §1.3 dependency_failed.
    ("instance", "SUBMITTED", "FAILED", &["terminated", "dependency_failed"]),
    ("instance", "PENDING", "FAILED", &["terminated", "dependency_failed"]),
    ("instance", "RUNNABLE", "FAILED", &["terminated"]),
    ("instance", "FAILED_INTERRUPTED", "FAILED", &["terminated"]),
    // §1.2/§1.3/§1.4/§1.7c: CVM life.
    ("cvm", "", "PENDING", &["create_call"]),
    ("cvm", "PENDING", "RUNNING", &["created"]),
    ("cvm", "PENDING", "LAUNCH_FAILED", &["creation_failed"]),
    ("cvm", "RUNNING", "SHUTTING_DOWN", &["terminate_call"]),
    ("cvm", "SHUTTING_DOWN", "TERMINATED", &["terminated"]),
    ("cvm", "RUNNING", "TERMINATED", &["interrupted"]),
    // §1.3 nodes created at time 0; §1.4 restart_cvm: REBOOTING, back to the pool. A node whose
    // creation fails is lost (model.md "Runs").
    ("node", "", "PENDING", &["create_call"]),
    ("node", "PENDING", "RUNNING", &["created"]),
    ("node", "PENDING", "LAUNCH_FAILED", &["creation_failed"]),
    ("node", "RUNNING", "REBOOTING", &["restart"]),
    ("node", "REBOOTING", "RUNNING", &["restarted"]),
    // §1.8: 4 → 0 → 1 → 3 → 2 (or -1 at the end of RUNNING); CANCELLED from any live state.
    ("dlc_task", "", "QUEUED", &["submitted"]),
    ("dlc_task", "QUEUED", "INITIALIZING", &["stage_done"]),
    ("dlc_task", "INITIALIZING", "RUNNING", &["stage_done"]),
    ("dlc_task", "RUNNING", "WRITING_DATA", &["stage_done"]),
    ("dlc_task", "WRITING_DATA", "SUCCEEDED", &["succeeded"]),
    ("dlc_task", "RUNNING", "FAILED", &["run_failed"]),
    ("dlc_task", "QUEUED", "CANCELLED", &["cancelled"]),
    ("dlc_task", "INITIALIZING", "CANCELLED", &["cancelled"]),
    ("dlc_task", "RUNNING", "CANCELLED", &["cancelled"]),
    ("dlc_task", "WRITING_DATA", "CANCELLED", &["cancelled"]),
    // §1.9 and SPEC §2: PENDING → DELIVERING (or DELIVER_DELAYED first) → RUNNING → SUCCESS /
    // FAILED / TIMEOUT, delivery may end DELIVER_FAILED; cancel: undelivered → CANCELLED,
    // RUNNING → CANCELLING → TERMINATED.
    ("tat_task", "", "PENDING", &["invoked"]),
    ("tat_task", "PENDING", "DELIVERING", &["delivering"]),
    ("tat_task", "PENDING", "DELIVER_DELAYED", &["delivery_delayed"]),
    ("tat_task", "DELIVER_DELAYED", "DELIVERING", &["delivering"]),
    ("tat_task", "DELIVERING", "RUNNING", &["delivered"]),
    ("tat_task", "DELIVERING", "DELIVER_FAILED", &["delivery_failed"]),
    ("tat_task", "RUNNING", "SUCCESS", &["succeeded"]),
    ("tat_task", "RUNNING", "FAILED", &["run_failed"]),
    ("tat_task", "RUNNING", "TIMEOUT", &["timeout"]),
    ("tat_task", "PENDING", "CANCELLED", &["cancelled"]),
    ("tat_task", "DELIVERING", "CANCELLED", &["cancelled"]),
    ("tat_task", "DELIVER_DELAYED", "CANCELLED", &["cancelled"]),
    ("tat_task", "RUNNING", "CANCELLING", &["cancel_requested"]),
    ("tat_task", "CANCELLING", "TERMINATED", &["killed"]),
];

/// Final states by entity (SPEC §1.2, §1.8, §1.9, §1.7c): nothing may follow them. A node is
/// never terminated, only lost at launch.
fn is_final(entity: &str, state: &str) -> bool {
    match entity {
        "instance" | "job" | "task" => matches!(state, "SUCCEED" | "FAILED"),
        "cvm" => matches!(state, "TERMINATED" | "LAUNCH_FAILED"),
        "node" => state == "LAUNCH_FAILED",
        "dlc_task" => matches!(state, "SUCCEEDED" | "FAILED" | "CANCELLED"),
        "tat_task" => matches!(state, "SUCCESS" | "FAILED" | "TIMEOUT" | "DELIVER_FAILED" | "CANCELLED" | "TERMINATED"),
        "tat_invocation" => {
            matches!(state, "SUCCESS" | "FAILED" | "TIMEOUT" | "CANCELLED" | "PARTIAL_CANCELLED" | "PARTIAL_FAILED")
        }
        _ => false,
    }
}

fn causes_of(entity: &str) -> HashSet<&'static str> {
    LEGAL.iter().filter(|(e, ..)| *e == entity).flat_map(|(.., c)| c.iter().copied()).collect()
}

/// The live instance states from least to most advanced (SPEC §1.3's order of a life).
const LIVE: &[&str] = &["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"];

/// A job's or task's state from its instances' (SPEC §1.2, model.md "Entities and states").
fn derive<'a>(states: impl Iterator<Item = &'a str>) -> &'static str {
    let (mut all_final, mut failed, mut best) = (true, false, None);
    for state in states {
        match state {
            "SUCCEED" => {}
            "FAILED" => failed = true,
            "FAILED_INTERRUPTED" => all_final = false,
            live => {
                all_final = false;
                best = best.max(LIVE.iter().position(|l| *l == live));
            }
        }
    }
    match (all_final, failed, best) {
        (true, true, _) => "FAILED",
        (true, false, _) => "SUCCEED",
        (false, _, Some(b)) => LIVE[b],
        (false, _, None) => "FAILED_INTERRUPTED",
    }
}

/// A TAT invocation's status from its tasks' states and whether each has been RUNNING
/// (SPEC §1.7c).
fn invocation_status(tasks: &[(&str, bool)]) -> &'static str {
    let final_ = |st: &str| is_final("tat_task", st);
    if tasks.iter().any(|(st, _)| !final_(st)) {
        return if tasks.iter().any(|(st, _)| *st == "CANCELLING") {
            "CANCELLING"
        } else if tasks.iter().any(|(_, ran)| *ran) {
            "RUNNING"
        } else {
            "PENDING"
        };
    }
    let all = |f: &dyn Fn(&str) -> bool| tasks.iter().all(|(st, _)| f(st));
    let cancelled = |st: &str| matches!(st, "CANCELLED" | "TERMINATED");
    if all(&|st| st == "SUCCESS") {
        "SUCCESS"
    } else if all(&cancelled) {
        "CANCELLED"
    } else if all(&|st| st == "TIMEOUT") {
        "TIMEOUT"
    } else if all(&|st| matches!(st, "FAILED" | "DELIVER_FAILED")) {
        "FAILED"
    } else if tasks.iter().any(|(st, _)| cancelled(st)) {
        "PARTIAL_CANCELLED"
    } else {
        "PARTIAL_FAILED"
    }
}

/// Rows by entity kind and id, in file order.
struct Histories<'a> {
    by_id: HashMap<&'a str, HashMap<&'a str, Vec<&'a TimelineRow>>>,
}

impl<'a> Histories<'a> {
    fn new(rows: &'a [TimelineRow]) -> Self {
        let mut by_id: HashMap<&str, HashMap<&str, Vec<&TimelineRow>>> = HashMap::new();
        for r in rows {
            by_id.entry(r.entity.as_str()).or_default().entry(r.id.as_str()).or_default().push(r);
        }
        Histories { by_id }
    }

    fn of(&self, entity: &str, id: &str) -> &[&'a TimelineRow] {
        self.by_id.get(entity).and_then(|m| m.get(id)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every entity of one kind, with its rows.
    fn kind(&self, entity: &str) -> impl Iterator<Item = (&&'a str, &Vec<&'a TimelineRow>)> {
        self.by_id.get(entity).into_iter().flatten()
    }

    fn last_state(&self, entity: &str, id: &str) -> Option<&'a str> {
        self.of(entity, id).last().map(|r| r.to.as_str())
    }

    /// The state at the end of instant `t`.
    fn state_at(&self, entity: &str, id: &str, t: Micros) -> Option<&'a str> {
        self.of(entity, id).iter().rev().find(|r| r.t <= t).map(|r| r.to.as_str())
    }
}

fn instance_ids(spec: &Spec) -> Vec<(String, usize, usize)> {
    let mut ids = Vec::new();
    for (j, job) in spec.jobs.iter().enumerate() {
        for (k, task) in job.tasks.iter().enumerate() {
            for i in 0..task.instances {
                ids.push((format!("{}/{}/{i}", job.id, task.name), j, k));
            }
        }
    }
    ids
}

/// The accepted calls of `requests.csv` that cover each target (SPEC §1.7c: the first accepted
/// request covering an instance sets its `terminate_requested_s`).
struct Accepted<'a> {
    spec: &'a Spec,
    ok: Vec<&'a RequestRow>,
}

impl<'a> Accepted<'a> {
    fn new(spec: &'a Spec, out: &'a Outputs) -> Self {
        let mut ok: Vec<&RequestRow> = out.requests.iter().filter(|r| r.ok).collect();
        ok.sort_by_key(|r| (r.sent, r.line));
        Accepted { spec, ok }
    }

    fn task_instance(&self, instance: &str) -> impl Iterator<Item = &&'a RequestRow> {
        self.ok.iter().filter(move |r| r.action == "TerminateTaskInstance" && r.target == instance)
    }

    fn job(&self, job: &str) -> impl Iterator<Item = &&'a RequestRow> {
        self.ok.iter().filter(move |r| r.action == "TerminateJob" && r.target == job)
    }

    /// The first accepted request covering an instance.
    fn first_for_instance(&self, instance: &str, job: &str) -> Option<&'a RequestRow> {
        self.ok
            .iter()
            .find(|r| {
                (r.action == "TerminateTaskInstance" && r.target == instance)
                    || (r.action == "TerminateJob" && r.target == job)
            })
            .copied()
    }

    fn first_cancel_task(&self, id: &str) -> Option<&'a RequestRow> {
        self.ok.iter().find(|r| r.action == "CancelTask" && r.target == id).copied()
    }

    /// Whether an accepted CancelInvocation covers an instance of its invocation, from the
    /// calls its client makes; `None` when its calls to that invocation disagree.
    fn covers(&self, r: &RequestRow, instance: &str) -> Option<bool> {
        let mut verdicts = self
            .spec
            .clients
            .iter()
            .filter(|c| c.name == r.client)
            .flat_map(|c| &c.calls)
            .filter(|c| {
                c.action == "CancelInvocation"
                    && c.invocation == r.target
                    && (if r.attempt == 1 { c.at == r.sent } else { c.at <= r.sent })
            })
            .map(|c| c.instance_ids.as_ref().is_none_or(|ids| ids.iter().any(|i| i == instance)));
        let first = verdicts.next()?;
        verdicts.all(|v| v == first).then_some(first)
    }

    fn cancel_invocations(&self, invocation: &str) -> impl Iterator<Item = &&'a RequestRow> {
        self.ok.iter().filter(move |r| r.action == "CancelInvocation" && r.target == invocation)
    }

    /// The first accepted CancelInvocation covering a TAT task: `Err(())` when an accepted one
    /// before it cannot be told to cover it or not.
    fn first_cancel_invocation(&self, invocation: &str, instance: &str) -> Result<Option<&'a RequestRow>, ()> {
        for r in self.cancel_invocations(invocation) {
            match self.covers(r, instance) {
                Some(true) => return Ok(Some(r)),
                Some(false) => {}
                None => return Err(()),
            }
        }
        Ok(None)
    }
}

pub fn check(spec: &Spec, out: &Outputs) -> Vec<Violation> {
    let mut v = Vec::new();
    let accepted = Accepted::new(spec, out);
    if let Some(rows) = &out.timeline {
        let h = Histories::new(rows);
        order_and_horizon(spec, rows, out, &mut v);
        legality(spec, rows, &mut v);
        entities(spec, &h, &mut v);
        let cvms = Cvms::new(rows);
        per_instant(spec, rows, &mut v);
        delays(spec, &h, &mut v);
        dlc(spec, &h, &accepted, &mut v);
        tat(spec, rows, &h, &accepted, &mut v);
        instances_vs_timeline(spec, out, &h, &cvms, &accepted, &mut v);
        instance_and_cvm(out, &h, &cvms, &mut v);
    }
    instances_rows(spec, out, &accepted, &mut v);
    cancellations(spec, out, &accepted, &mut v);
    summary(spec, out, &accepted, &mut v);
    v
}

/// SPEC §1.1 (rows in time order), §1.7c and README `horizon` (nothing after it), §4
/// (`sim_end_s` is the last row's time).
fn order_and_horizon(spec: &Spec, rows: &[TimelineRow], out: &Outputs, v: &mut Vec<Violation>) {
    for pair in rows.windows(2) {
        if pair[1].t < pair[0].t {
            v.push(format!(
                "[timeline-order] row {} at {} s after a row at {} s",
                pair[1].line + 2,
                s(pair[1].t),
                s(pair[0].t)
            ));
        }
    }
    for r in rows.iter().filter(|r| r.t > spec.horizon) {
        v.push(format!("[horizon] row after the horizon {} s: {}", s(spec.horizon), show(r)));
    }
    let last = rows.last().map_or(0, |r| r.t);
    let sim_end = out.summary.get("sim_end_s").and_then(Value::as_f64).map(seconds_to_micros);
    if sim_end != Some(last) {
        v.push(format!("[summary] sim_end_s {} is not the last timeline row's time {} s", opt(sim_end), s(last)));
    }
}

/// Rule 1 and 2: `from` is the previous `to`, nothing after a final state, every triple legal,
/// and each cause possible under the scenario (SPEC §1.3–§1.4, §1.7c).
fn legality(spec: &Spec, rows: &[TimelineRow], v: &mut Vec<Violation>) {
    let mut last: HashMap<(&str, &str), &str> = HashMap::new();
    let mut retries: HashMap<&str, u32> = HashMap::new();
    let instance_causes = causes_of("instance");
    let tat_causes = causes_of("tat_task");
    for r in rows {
        let key = (r.entity.as_str(), r.id.as_str());
        let prev = last.get(&key).copied();
        if prev != r.from.as_deref() {
            v.push(format!("[transition] from is not the previous state {:?}: {}", prev.unwrap_or(""), show(r)));
        }
        if let Some(p) = prev
            && is_final(&r.entity, p)
        {
            v.push(format!("[after-final] a row after the final state {p}: {}", show(r)));
        }
        last.insert(key, &r.to);
        let from = r.from.as_deref().unwrap_or("");
        let legal = match r.entity.as_str() {
            // Derived states (checked by recomputation): any change among the instance states,
            // for a cause that changes instances.
            "job" | "task" => {
                let states = [
                    "SUBMITTED",
                    "PENDING",
                    "RUNNABLE",
                    "STARTING",
                    "RUNNING",
                    "SUCCEED",
                    "FAILED",
                    "FAILED_INTERRUPTED",
                ];
                (from.is_empty() && r.to == "SUBMITTED" && r.cause == "submitted")
                    || (states.contains(&from)
                        && states.contains(&r.to.as_str())
                        && from != r.to
                        && instance_causes.contains(r.cause.as_str()))
            }
            "tat_invocation" => {
                let states = [
                    "PENDING",
                    "RUNNING",
                    "CANCELLING",
                    "SUCCESS",
                    "FAILED",
                    "TIMEOUT",
                    "CANCELLED",
                    "PARTIAL_FAILED",
                    "PARTIAL_CANCELLED",
                ];
                (from.is_empty() || states.contains(&from))
                    && states.contains(&r.to.as_str())
                    && from != r.to
                    && tat_causes.contains(r.cause.as_str())
            }
            e => LEGAL
                .iter()
                .any(|(le, lf, lt, lc)| *le == e && *lf == from && *lt == r.to && lc.contains(&r.cause.as_str())),
        };
        if !legal {
            v.push(format!("[transition] not a legal (entity, from, to, cause): {}", show(r)));
            continue;
        }
        match r.entity.as_str() {
            "instance" => {
                if r.cause == "retry" {
                    *retries.entry(&r.id).or_default() += 1;
                }
                if let Some(problem) = instance_context(spec, r, retries.get(r.id.as_str()).copied().unwrap_or(0)) {
                    v.push(format!("[transition] {problem}: {}", show(r)));
                }
            }
            "node" if r.cause == "restart" && spec.named_env_termination != "restart_cvm" => {
                v.push(format!("[transition] a node restarts under {:?}: {}", spec.named_env_termination, show(r)));
            }
            "cvm" | "node" if r.cause == "creation_failed" && spec.creation_failure_rate == 0.0 => {
                v.push(format!("[transition] a launch failure with creation_failure_rate 0: {}", show(r)));
            }
            "cvm" if r.cause == "interrupted" && spec.interruption_rate_per_hour == 0.0 => {
                v.push(format!("[transition] an interruption with interruption_rate_per_hour 0: {}", show(r)));
            }
            _ => {}
        }
    }
}

/// The task an instance id names.
fn task_of<'s>(spec: &'s Spec, instance: &str) -> Option<(&'s crate::spec::Job, &'s Task)> {
    let (rest, _) = instance.rsplit_once('/')?;
    let (job, task) = rest.split_once('/')?;
    let job = spec.job(job)?;
    Some((job, job.tasks.iter().find(|t| t.name == task)?))
}

/// Whether an instance row's cause is possible under its job and task's settings.
fn instance_context(spec: &Spec, r: &TimelineRow, retries: u32) -> Option<String> {
    let (job, task) = task_of(spec, &r.id)?;
    let anonymous = job.env == "anonymous";
    let final_failure = matches!(r.cause.as_str(), "run_failed" | "interrupted");
    match r.cause.as_str() {
        // SPEC §1.2: anonymous instances get CVMs, named ones nodes; interruptions hit only
        // anonymous CVMs (§1.7c).
        "cvm_creating" | "cvm_running" | "interrupted" if !anonymous => {
            Some(format!("{} in the named environment {}", r.cause, job.env))
        }
        "node_assigned" if anonymous => Some("node_assigned in the anonymous environment".into()),
        "run_failed" if task.failure_rate == 0.0 => Some("a failed run with failure_rate 0".into()),
        "interrupted" if spec.interruption_rate_per_hour == 0.0 => {
            Some("an interruption with interruption_rate_per_hour 0".into())
        }
        "cvm_launch_failed" if spec.creation_failure_rate == 0.0 => {
            Some("a launch failure with creation_failure_rate 0".into())
        }
        // §1.3: a failed run is retried up to retry_count times.
        "retry" if retries > task.retry_count => {
            Some(format!("retry {retries} of a task with retry_count {}", task.retry_count))
        }
        // §1.3: the last failure comes after every retry, and follows failed_action.
        _ if final_failure && retries != task.retry_count => {
            Some(format!("a last failure after {retries} of {} retries", task.retry_count))
        }
        _ if final_failure && r.to == "FAILED" && task.failed_action != "TERMINATE" => {
            Some(format!("FAILED under failed_action {}", task.failed_action))
        }
        _ if final_failure && r.to == "FAILED_INTERRUPTED" && task.failed_action != "INTERRUPT" => {
            Some(format!("FAILED_INTERRUPTED under failed_action {}", task.failed_action))
        }
        // §1.3: a requeue only under state_if_create_cvm_failed RUNNABLE.
        "cvm_launch_failed" if r.to == "RUNNABLE" && job.state_if_create_cvm_failed != "RUNNABLE" => {
            Some("requeued under state_if_create_cvm_failed FAILED".into())
        }
        "dependency_failed" | "dependencies_met" if task.depends_on.is_empty() => {
            Some(format!("{} in a task without depends_on", r.cause))
        }
        "submitted" if r.to == "RUNNABLE" && !task.depends_on.is_empty() => {
            Some("RUNNABLE by submission in a task with depends_on".into())
        }
        _ => None,
    }
}

/// Rule 1: every id is the scenario's, and every job, task and instance submitted by the
/// horizon appears (SPEC §4 id forms, README `timeline.csv`).
fn entities(spec: &Spec, h: &Histories, v: &mut Vec<Violation>) {
    let mut known: HashSet<(&str, String)> = HashSet::new();
    for job in &spec.jobs {
        known.insert(("job", job.id.clone()));
        for task in &job.tasks {
            known.insert(("task", format!("{}/{}", job.id, task.name)));
        }
    }
    for (id, ..) in instance_ids(spec) {
        known.insert(("instance", id));
    }
    for task in &spec.dlc {
        known.insert(("dlc_task", task.id.clone()));
    }
    for inv in &spec.tat {
        known.insert(("tat_invocation", inv.id.clone()));
        for ins in &inv.instances {
            known.insert(("tat_task", format!("{}/{ins}", inv.id)));
        }
    }
    let cvm_id = |id: &str| {
        id.len() == 12
            && id.starts_with("ins-")
            && id[4..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let mut nodes = 0;
    for (entity, id) in h.by_id.iter().flat_map(|(e, m)| m.keys().map(move |id| (*e, *id))) {
        let ok = match entity {
            "cvm" => cvm_id(id),
            "node" => {
                nodes += 1;
                cvm_id(id)
            }
            e => known.contains(&(e, id.to_string())),
        };
        if !ok {
            v.push(format!("[entities] {entity} {id} is not one of the scenario's"));
        }
    }
    // §1.3: the nodes are all asked for at time 0 (some may wait for quota for ever).
    let most: u32 = spec.environments.iter().map(|(_, n)| n).sum();
    if nodes > most {
        v.push(format!("[entities] {nodes} nodes, the environments have {most}"));
    }
    let due = |at: Micros| at <= spec.horizon;
    for (entity, id) in &known {
        let at = match *entity {
            "job" | "task" | "instance" => spec.job(id.split('/').next().unwrap()).map(|j| j.submit_at),
            "dlc_task" => spec.dlc.iter().find(|t| t.id == *id).map(|t| t.submit_at),
            _ => spec.tat.iter().find(|i| i.id == id.split('/').next().unwrap()).map(|i| i.at),
        };
        if at.is_some_and(due) && h.of(entity, id).is_empty() {
            v.push(format!("[entities] {entity} {id} (due at {} s) has no row", s(at.unwrap())));
        }
    }
}

/// Rule 3 and dependencies, at the end of every instant: job and task states are derived from
/// their instances (SPEC §1.2, model.md); a task's instances go RUNNABLE exactly when every task
/// it depends on has all its instances SUCCEED, and are FAILED once one of those ended with a
/// FAILED instance (SPEC §1.3).
fn per_instant(spec: &Spec, rows: &[TimelineRow], v: &mut Vec<Violation>) {
    let mut state: HashMap<(&str, &str), &str> = HashMap::new();
    let mut causes_now: HashMap<&str, Vec<&str>> = HashMap::new();
    // The instances of each job and task, to derive a row's state at its place in the file.
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for (id, j, k) in instance_ids(spec) {
        members.entry(spec.jobs[j].id.clone()).or_default().push(id.clone());
        members.entry(format!("{}/{}", spec.jobs[j].id, spec.jobs[j].tasks[k].name)).or_default().push(id);
    }
    let named: HashSet<&str> = spec.jobs.iter().filter(|j| j.env != "anonymous").map(|j| j.id.as_str()).collect();
    let holding = |st: &str| matches!(st, "STARTING" | "RUNNING" | "FAILED_INTERRUPTED");
    let (mut running_nodes, mut holders, mut waiting) = (0i64, 0i64, 0i64);
    let mut start = 0;
    while start < rows.len() {
        let t = rows[start].t;
        let end = start + rows[start..].iter().take_while(|r| r.t == t).count();
        causes_now.clear();
        for r in &rows[start..end] {
            state.insert((r.entity.as_str(), r.id.as_str()), &r.to);
            let from = r.from.as_deref().unwrap_or("");
            match r.entity.as_str() {
                "instance" => {
                    let (task, _) = r.id.rsplit_once('/').unwrap_or(("", ""));
                    let job = task.split('/').next().unwrap_or("");
                    causes_now.entry(task).or_default().push(&r.cause);
                    causes_now.entry(job).or_default().push(&r.cause);
                    if named.contains(job) {
                        holders += i64::from(holding(&r.to)) - i64::from(holding(from));
                        waiting += i64::from(r.to == "RUNNABLE") - i64::from(from == "RUNNABLE");
                    }
                }
                "node" => running_nodes += i64::from(r.to == "RUNNING") - i64::from(from == "RUNNING"),
                // SPEC §1.2: a row's state is what its instances make it at that point.
                "job" | "task" if r.from.is_some() => {
                    let states: Option<Vec<&str>> = members
                        .get(&r.id)
                        .into_iter()
                        .flatten()
                        .map(|i| state.get(&("instance", i.as_str())).copied())
                        .collect();
                    if let Some(states) = states
                        && derive(states.iter().copied()) != r.to
                    {
                        v.push(format!(
                            "[derived] its instances make it {} here: {}",
                            derive(states.into_iter()),
                            show(r)
                        ));
                    }
                }
                _ => {}
            }
        }
        // SPEC §1.3, §1.7c: an instance holds a running node from STARTING until it ends (a
        // FAILED_INTERRUPTED one keeps it); with one environment, none waits while a node is free.
        if holders > running_nodes {
            v.push(format!(
                "[nodes] at the end of {} s {holders} instances hold nodes, {running_nodes} nodes are running",
                s(t)
            ));
        }
        if spec.environments.len() == 1 && waiting > 0 && holders < running_nodes {
            v.push(format!("[nodes] at the end of {} s {waiting} instances wait while {} of {running_nodes} running nodes are free", s(t), running_nodes - holders));
        }
        for r in rows[start..end].iter().filter(|r| matches!(r.entity.as_str(), "job" | "task") && r.from.is_some()) {
            if !causes_now.get(r.id.as_str()).is_some_and(|c| c.contains(&r.cause.as_str())) {
                v.push(format!(
                    "[derived] cause {} is no instance's of this {} at this instant: {}",
                    r.cause,
                    r.entity,
                    show(r)
                ));
            }
        }
        for job in spec.jobs.iter().filter(|j| j.submit_at <= t) {
            let task_states: Vec<Vec<&str>> = job
                .tasks
                .iter()
                .map(|task| {
                    (0..task.instances)
                        .filter_map(|i| {
                            state.get(&("instance", format!("{}/{}/{i}", job.id, task.name).as_str())).copied()
                        })
                        .collect()
                })
                .collect();
            if task_states.iter().zip(&job.tasks).any(|(s, task)| s.len() != task.instances as usize) {
                v.push(format!("[entities] at {} s not every instance of {} exists", s(t), job.id));
                continue;
            }
            let expect_job = derive(task_states.iter().flatten().copied());
            if state.get(&("job", job.id.as_str())).copied() != Some(expect_job) {
                v.push(format!(
                    "[derived] at the end of {} s job {} is {:?}, its instances make it {expect_job}",
                    s(t),
                    job.id,
                    state.get(&("job", job.id.as_str()))
                ));
            }
            for (task, states) in job.tasks.iter().zip(&task_states) {
                let id = format!("{}/{}", job.id, task.name);
                let expect = derive(states.iter().copied());
                let got = state.get(&("task", id.as_str())).copied();
                if got != Some(expect) {
                    v.push(format!(
                        "[derived] at the end of {} s task {id} is {got:?}, its instances make it {expect}",
                        s(t)
                    ));
                }
                let deps: Vec<&Vec<&str>> = task
                    .depends_on
                    .iter()
                    .filter_map(|d| job.tasks.iter().position(|x| x.name == *d))
                    .map(|k| &task_states[k])
                    .collect();
                let deps_done = deps.iter().all(|d| d.iter().all(|st| *st == "SUCCEED"));
                let dep_failed = deps.iter().any(|d| derive(d.iter().copied()) == "FAILED");
                for (i, st) in states.iter().enumerate() {
                    let problem = if *st == "PENDING" && deps_done {
                        Some("still PENDING though its dependencies are done")
                    } else if matches!(*st, "RUNNABLE" | "STARTING" | "RUNNING" | "FAILED_INTERRUPTED" | "SUCCEED")
                        && !deps_done
                    {
                        Some("started before its dependencies were done")
                    } else if dep_failed && !is_final("instance", st) {
                        Some("not FAILED though a task it depends on ended FAILED")
                    } else {
                        None
                    };
                    if let Some(p) = problem {
                        v.push(format!("[dependencies] at the end of {} s {id}/{i} ({st}) is {p}", s(t)));
                    }
                }
            }
        }
        start = end;
    }
}

fn check_draw(v: &mut Vec<Violation>, what: &str, dist: &Dist, d: Micros, r: &TimelineRow) {
    if !dist.allows(d) {
        v.push(format!("[delay] {what} of {} s is not a draw of {dist:?}: {}", s(d), show(r)));
    }
}

/// Rule 4: each delay is a draw its distribution allows (exact where it is constant): SPEC
/// §1.3, README `backend` and `jobs[].tasks[]`.
fn delays(spec: &Spec, h: &Histories, v: &mut Vec<Violation>) {
    for job in &spec.jobs {
        let mut submit_delays = HashSet::new();
        for (id, ..) in instance_ids(spec).into_iter().filter(|(id, ..)| id.starts_with(&format!("{}/", job.id))) {
            let (_, task) = task_of(spec, &id).unwrap();
            let rows = h.of("instance", &id);
            let mut run_start = None;
            for r in rows {
                match (r.from.as_deref(), r.to.as_str()) {
                    (None, _) if r.t != job.submit_at => v.push(format!(
                        "[delay] submitted at {} s, not at submit_at {} s: {}",
                        s(r.t),
                        s(job.submit_at),
                        show(r)
                    )),
                    (Some("SUBMITTED"), "PENDING") => {
                        let d = r.t.saturating_sub(job.submit_at);
                        submit_delays.insert(d);
                        check_draw(v, "submit_delay", &spec.submit_delay, d, r);
                    }
                    (Some("RUNNING"), "SUCCEED") => {
                        if let Some(t0) = run_start {
                            check_draw(v, "runtime", &task.runtime, r.t - t0, r);
                        }
                    }
                    _ => {}
                }
                // Every row into RUNNING starts a run (a retry starts the next at once).
                if r.to == "RUNNING" {
                    run_start = Some(r.t);
                }
            }
        }
        // README `submit_delay`: sampled once per job.
        if submit_delays.len() > 1 {
            v.push(format!("[delay] job {} has several submit delays {submit_delays:?}, sampled once per job", job.id));
        }
    }
    for (entity, (id, rows)) in ["cvm", "node"].into_iter().flat_map(|e| h.kind(e).map(move |x| (e, x))) {
        for pair in rows.windows(2) {
            let d = pair[1].t - pair[0].t;
            match pair[1].cause.as_str() {
                "created" | "creation_failed" => check_draw(v, "creation_delay", &spec.creation_delay, d, pair[1]),
                "terminated" => check_draw(v, "termination_delay", &spec.termination_delay, d, pair[1]),
                "restarted" => check_draw(v, "restart_delay", &spec.restart_delay, d, pair[1]),
                _ => {}
            }
        }
        // §1.3: nodes are created at time 0 (their create call may wait for quota or a limit).
        if entity == "node" && rows.first().is_some_and(|r| r.cause != "create_call") {
            v.push(format!("[transition] node {id} does not start with its create call"));
        }
    }
}

/// Rule 7, DLC (SPEC §1.8, model.md "DLC CancelTask"): QUEUED at submit_at, each stage its own
/// draw, CANCELLED `cancel_delay` after the accepted CancelTask unless it ended first.
fn dlc(spec: &Spec, h: &Histories, accepted: &Accepted, v: &mut Vec<Violation>) {
    for task in &spec.dlc {
        let rows = h.of("dlc_task", &task.id);
        let cancel = accepted.first_cancel_task(&task.id);
        for (k, r) in rows.iter().enumerate() {
            if k == 0 {
                if r.t != task.submit_at {
                    v.push(format!(
                        "[dlc] QUEUED at {} s, not at submit_at {} s: {}",
                        s(r.t),
                        s(task.submit_at),
                        show(r)
                    ));
                }
                continue;
            }
            let d = r.t - rows[k - 1].t;
            let stage = match r.from.as_deref() {
                Some("QUEUED") => &task.queued,
                Some("INITIALIZING") => &task.initializing,
                Some("RUNNING") => &task.running,
                _ => &task.writing_data,
            };
            if r.to == "CANCELLED" {
                match cancel {
                    Some(c) if c.sent <= r.t && task.cancel_delay.allows(r.t - c.sent) => {}
                    _ => v.push(format!(
                        "[dlc] CANCELLED not a cancel_delay after an accepted CancelTask ({}): {}",
                        opt(cancel.map(|c| c.sent)),
                        show(r)
                    )),
                }
            } else if !stage.allows(d) {
                v.push(format!("[dlc] a stage of {} s is not a draw of {stage:?}: {}", s(d), show(r)));
            }
            if r.to == "FAILED" && task.failure_rate == 0.0 {
                v.push(format!("[dlc] FAILED with failure_rate 0: {}", show(r)));
            }
        }
        // An accepted cancel is carried out by its longest delay, unless the task ended first.
        if let (Some(c), Some(max)) = (cancel, task.cancel_delay.max())
            && c.sent + max <= spec.horizon
            && let Some(last) = rows.last()
            && !is_final("dlc_task", &last.to)
        {
            v.push(format!("[dlc] {} still {} though a CancelTask was accepted at {} s", task.id, last.to, s(c.sent)));
        }
    }
}

/// Rule 7, TAT (SPEC §1.9, §1.7c, model.md "TAT CancelInvocation"): task delays, cancellations
/// at the accepted call's instant, and the invocation's status rows.
fn tat(spec: &Spec, rows: &[TimelineRow], h: &Histories, accepted: &Accepted, v: &mut Vec<Violation>) {
    for inv in &spec.tat {
        for ins in &inv.instances {
            let id = format!("{}/{ins}", inv.id);
            let task_rows = h.of("tat_task", &id);
            for (k, r) in task_rows.iter().enumerate() {
                if k == 0 {
                    if r.t != inv.at {
                        v.push(format!(
                            "[tat] {id} PENDING at {} s, not at the invocation's at {} s",
                            s(r.t),
                            s(inv.at)
                        ));
                    }
                    continue;
                }
                let d = r.t - task_rows[k - 1].t;
                let ok = match (r.from.as_deref().unwrap_or(""), r.to.as_str()) {
                    ("PENDING", "DELIVERING" | "DELIVER_DELAYED") => inv.pending.allows(d),
                    ("DELIVER_DELAYED", "DELIVERING") => {
                        inv.deliver_delayed_extra.allows(d) && inv.deliver_delayed_rate > 0.0
                    }
                    ("DELIVERING", "RUNNING") => inv.delivery.allows(d),
                    ("DELIVERING", "DELIVER_FAILED") => inv.delivery.allows(d) && inv.deliver_failed_rate > 0.0,
                    ("RUNNING", "SUCCESS") => inv.runtime.allows(d) && d <= inv.timeout,
                    ("RUNNING", "FAILED") => inv.runtime.allows(d) && d <= inv.timeout && inv.failure_rate > 0.0,
                    // A run longer than timeout ends TIMEOUT at timeout.
                    ("RUNNING", "TIMEOUT") => d == inv.timeout && inv.runtime.max().is_none_or(|m| m > inv.timeout),
                    ("CANCELLING", "TERMINATED") => inv.kill_delay.allows(d),
                    // Cancelled at the instant of an accepted call that covers it.
                    (_, "CANCELLED" | "CANCELLING") => accepted
                        .cancel_invocations(&inv.id)
                        .any(|c| c.sent == r.t && accepted.covers(c, ins) != Some(false)),
                    _ => true,
                };
                if !ok {
                    v.push(format!(
                        "[tat] after {} s, not what the invocation's settings and accepted calls allow: {}",
                        s(d),
                        show(r)
                    ));
                }
            }
            // After an accepted call covering it, nothing of it is undelivered or running at the
            // end of that instant.
            for c in accepted.cancel_invocations(&inv.id).filter(|c| accepted.covers(c, ins) == Some(true)) {
                if let Some(st) = h.state_at("tat_task", &id, c.sent)
                    && matches!(st, "PENDING" | "DELIVERING" | "DELIVER_DELAYED" | "RUNNING")
                {
                    v.push(format!(
                        "[tat] {id} still {st} at the end of {} s, when an accepted CancelInvocation covered it",
                        s(c.sent)
                    ));
                }
            }
        }
    }
    invocation_statuses(spec, rows, v);
}

/// SPEC §1.7c: one `tat_invocation` row per instant at which its status (at the end of the
/// instant) changed, none otherwise.
fn invocation_statuses(spec: &Spec, rows: &[TimelineRow], v: &mut Vec<Violation>) {
    let mut tasks: HashMap<&str, (&str, bool)> = HashMap::new();
    let mut reported: HashMap<&str, &str> = HashMap::new();
    let mut start = 0;
    while start < rows.len() {
        let t = rows[start].t;
        let end = start + rows[start..].iter().take_while(|r| r.t == t).count();
        let mut touched: BTreeMap<&str, Vec<&TimelineRow>> = BTreeMap::new();
        for r in &rows[start..end] {
            match r.entity.as_str() {
                "tat_task" => {
                    let ran = tasks.get(r.id.as_str()).is_some_and(|x| x.1) || r.to == "RUNNING";
                    tasks.insert(&r.id, (&r.to, ran));
                    touched.entry(r.id.split('/').next().unwrap_or("")).or_default();
                }
                "tat_invocation" => touched.entry(&r.id).or_default().push(r),
                _ => {}
            }
        }
        for (id, inv_rows) in touched {
            let Some(inv) = spec.tat.iter().find(|i| i.id == id) else { continue };
            let states: Option<Vec<(&str, bool)>> =
                inv.instances.iter().map(|ins| tasks.get(format!("{id}/{ins}").as_str()).copied()).collect();
            let Some(states) = states else {
                v.push(format!("[tat] at {} s not every task of {id} exists", s(t)));
                continue;
            };
            let status = invocation_status(&states);
            let before = reported.get(id).copied();
            let expected = (before != Some(status)).then_some(status);
            let got: Vec<&str> = inv_rows.iter().map(|r| r.to.as_str()).collect();
            if got.len() > 1 || got.first().copied() != expected {
                v.push(format!("[tat] at {} s invocation {id} rows {got:?}; its status went {before:?} → {status} (one row when it changes, none otherwise)", s(t)));
            }
            reported.insert(id, status);
        }
        start = end;
    }
}

/// The instance's CVMs, tied by the create-call row order (see the module doc).
struct Cvms<'a> {
    of_instance: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Cvms<'a> {
    fn new(rows: &'a [TimelineRow]) -> Self {
        let mut of_instance: HashMap<&str, Vec<&str>> = HashMap::new();
        for pair in rows.windows(2) {
            if pair[0].entity == "cvm"
                && pair[0].cause == "create_call"
                && pair[1].entity == "instance"
                && pair[1].cause == "cvm_creating"
            {
                of_instance.entry(&pair[1].id).or_default().push(&pair[0].id);
            }
        }
        Cvms { of_instance }
    }

    fn last(&self, instance: &str) -> Option<&'a str> {
        self.of_instance.get(instance).and_then(|c| c.last().copied())
    }
}

/// An instance's rows agree with its CVM's (SPEC §1.3, §1.7c): it runs when its CVM comes up
/// (unless registered in the bypass), a launch failure and an interruption show on both at the
/// same instant, a failed run retried at once keeps its CVM running, and a `FAILED_INTERRUPTED`
/// instance after a failed run keeps its CVM until a termination acts.
fn instance_and_cvm(out: &Outputs, h: &Histories, cvms: &Cvms, v: &mut Vec<Violation>) {
    let paths: HashMap<String, &str> =
        out.instances.iter().map(|r| (format!("{}/{}/{}", r.job_id, r.task, r.index), r.path.as_str())).collect();
    for (id, cvm_ids) in &cvms.of_instance {
        let rows = h.of("instance", id);
        let path = paths.get(*id).copied().unwrap_or("");
        // The CVM the instance holds at a row: the last one created before it.
        let current =
            |line: usize| cvm_ids.iter().rev().find(|c| h.of("cvm", c).first().is_some_and(|r| r.line < line)).copied();
        for r in rows.iter() {
            let cvm = current(r.line);
            let cvm_rows = cvm.map(|c| h.of("cvm", c)).unwrap_or(&[]);
            let cvm_cause_at = |cause: &str| cvm_rows.iter().any(|c| c.t == r.t && c.cause == cause);
            let problem = match (r.cause.as_str(), r.to.as_str()) {
                ("cvm_running", _) if !cvm_cause_at("created") => {
                    Some("RUNNING, but its CVM did not come up at this instant")
                }
                ("cvm_launch_failed", _) if !cvm_cause_at("creation_failed") => {
                    Some("a launch failure its CVM does not show")
                }
                ("interrupted", _) | ("retry", "RUNNABLE") if !cvm_cause_at("interrupted") => {
                    Some("an interruption its CVM does not show")
                }
                ("retry", "RUNNING")
                    if cvm_rows.iter().rev().find(|c| c.line < r.line).map(|c| c.to.as_str()) != Some("RUNNING") =>
                {
                    Some("a run retried on a CVM that is not RUNNING")
                }
                _ => None,
            };
            if let Some(p) = problem {
                v.push(format!("[transition] {id} ({}): {p}: {}", cvm.unwrap_or("no CVM"), show(r)));
            }
        }
        for cvm in cvm_ids {
            for c in h.of("cvm", cvm) {
                let instance_cause_at =
                    |causes: &[&str]| rows.iter().any(|r| r.t == c.t && causes.contains(&r.cause.as_str()));
                let problem = match c.cause.as_str() {
                    "created" if !instance_cause_at(&["cvm_running"]) && path != "bypass" => {
                        Some("came up, but its instance neither runs nor is registered in the bypass")
                    }
                    // A bypass-registered instance is FAILED by its termination then (§1.7c).
                    "creation_failed"
                        if !(instance_cause_at(&["cvm_launch_failed"])
                            || (path == "bypass" && instance_cause_at(&["terminated"]))) =>
                    {
                        Some("failed to launch, but its instance does not show it")
                    }
                    "interrupted" if !instance_cause_at(&["interrupted", "retry"]) => {
                        Some("was interrupted, but its instance does not show it")
                    }
                    _ => None,
                };
                if let Some(p) = problem {
                    v.push(format!("[transition] CVM {cvm} of {id} {p}: {}", show(c)));
                }
            }
        }
        if let Some(last) = rows.last()
            && last.to == "FAILED_INTERRUPTED"
            && last.cause == "run_failed"
            && matches!(path, "none" | "rejected")
            && let Some(cvm) = cvm_ids.last()
            && h.last_state("cvm", cvm) != Some("RUNNING")
        {
            v.push(format!("[transition] {id} is FAILED_INTERRUPTED after a failed run, with no termination, yet its CVM {cvm} is {:?}", h.last_state("cvm", cvm)));
        }
    }
}

/// Rule 5, the columns the timeline decides (SPEC §4, §1.4, §1.7c; README `instances.csv`).
fn instances_vs_timeline(
    spec: &Spec,
    out: &Outputs,
    h: &Histories,
    cvms: &Cvms,
    accepted: &Accepted,
    v: &mut Vec<Violation>,
) {
    let mut restarts_by_instant: BTreeMap<Micros, (usize, usize)> = BTreeMap::new();
    for (_, rows) in h.kind("node") {
        for r in rows.iter().filter(|r| r.cause == "restart") {
            restarts_by_instant.entry(r.t).or_default().0 += 1;
        }
    }
    for row in &out.instances {
        let id = format!("{}/{}/{}", row.job_id, row.task, row.index);
        let rows = h.of("instance", &id);
        let Some(last) = rows.last() else { continue };
        let mut bad = |what: String| v.push(format!("[instances] {id} ({}): {what}", row.path));
        if row.final_state != last.to {
            bad(format!("final_state {} but the timeline ends {}", row.final_state, last.to));
        }
        let failed_by_termination = rows.iter().find(|r| {
            r.to == "FAILED" && (r.cause == "terminated" || (row.path == "bypass" && r.cause == "cvm_launch_failed"))
        });
        let acting = matches!(row.path.as_str(), "immediate" | "cvm" | "bypass" | "restart");
        if let Some(f) = failed_by_termination
            && !acting
        {
            bad(format!("FAILED by a termination at {} s but path {}", s(f.t), row.path));
        }
        let expect_terminated = if acting { failed_by_termination.map(|r| r.t) } else { None };
        if row.terminated != expect_terminated {
            bad(format!("terminated_s {} but the timeline says {}", opt(row.terminated), opt(expect_terminated)));
        }
        if let (Some(t), Some(req)) = (expect_terminated, row.terminate_requested)
            && t < req
        {
            bad(format!("FAILED by a termination at {} s, before it was requested at {} s", s(t), s(req)));
        }
        let first_tti = accepted.task_instance(&id).next().map(|r| r.sent);
        let first_any = accepted.first_for_instance(&id, &row.job_id).map(|r| r.sent);
        // When the first covering request is a TerminateTaskInstance it acts at once.
        let acted_at = first_tti.filter(|t| Some(*t) == first_any);
        let cvm = cvms.last(&id);
        let cvm_rows = cvm.map(|c| h.of("cvm", c)).unwrap_or(&[]);
        let cvm_end = cvm_rows.iter().find(|r| matches!(r.to.as_str(), "TERMINATED" | "LAUNCH_FAILED"));
        let cvm_up = cvm_rows.iter().find(|r| matches!(r.cause.as_str(), "created" | "creation_failed")).map(|r| r.t);
        let mut expect_released = None;
        match row.path.as_str() {
            "immediate" => {
                // §1.4: not started, or FAILED_INTERRUPTED after an interruption (§1.7c).
                if let Some(f) = failed_by_termination {
                    let from = f.from.as_deref().unwrap_or("");
                    let interrupted = from == "FAILED_INTERRUPTED"
                        && rows
                            .iter()
                            .rev()
                            .find(|r| r.to == "FAILED_INTERRUPTED")
                            .is_some_and(|r| r.cause == "interrupted");
                    if !(matches!(from, "SUBMITTED" | "PENDING" | "RUNNABLE") || interrupted) {
                        bad(format!("path immediate from {from}"));
                    }
                    if acted_at.is_some_and(|a| a != f.t) {
                        bad(format!("FAILED at {} s, not at once at {} s", s(f.t), opt(acted_at)));
                    }
                }
            }
            "cvm" | "bypass" => {
                let Some(cvm) = cvm else {
                    bad("no CVM was created for it".into());
                    continue;
                };
                if spec.job(&row.job_id).is_some_and(|j| j.env != "anonymous") {
                    bad("a CVM path in a named environment".into());
                }
                // §1.4: the CVM was running (cvm) or still being created (bypass) when the
                // request acted; the model's changes of an instant come first (§1.7c).
                let bypass = row.path == "bypass";
                if bypass && row.terminate_requested.is_some_and(|req| cvm_up.is_some_and(|u| u <= req)) {
                    bad(format!(
                        "bypass, but CVM {cvm} was up at {} s, by the request at {} s",
                        opt(cvm_up),
                        opt(row.terminate_requested)
                    ));
                }
                if !bypass
                    && let Some(a) = acted_at
                    && cvm_up.is_none_or(|u| u > a)
                {
                    bad(format!("cvm, but CVM {cvm} was still being created when the request acted at {} s", s(a)));
                }
                if let Some(e) = cvm_end {
                    let ok = if bypass {
                        e.cause == "terminated" || e.cause == "creation_failed"
                    } else {
                        e.cause == "terminated"
                    };
                    if !ok {
                        bad(format!("its CVM {cvm} ended {} ({})", e.to, e.cause));
                    } else {
                        expect_released = Some(e.t);
                        // The instance is FAILED at the instant its CVM is gone.
                        if expect_terminated != Some(e.t) {
                            bad(format!("CVM {cvm} gone at {} s but FAILED at {}", s(e.t), opt(expect_terminated)));
                        }
                    }
                }
                // §1.7c: a bypass-registered instance stays STARTING until its CVM is gone.
                if bypass
                    && let Some(f) = failed_by_termination
                    && f.from.as_deref() != Some("STARTING")
                {
                    bad(format!("bypass, but FAILED from {}", f.from.as_deref().unwrap_or("")));
                }
            }
            "restart" => {
                // §1.4 restart_cvm: FAILED at once, its node restarts at that instant.
                if spec.named_env_termination != "restart_cvm"
                    || spec.job(&row.job_id).is_some_and(|j| j.env == "anonymous")
                {
                    bad("path restart outside a named environment under restart_cvm".into());
                }
                if let Some(t) = expect_terminated {
                    restarts_by_instant.entry(t).or_default().1 += 1;
                }
                if let (Some(a), Some(t)) = (acted_at, expect_terminated)
                    && a != t
                {
                    bad(format!("FAILED at {} s, not at once at {} s", s(t), s(a)));
                }
            }
            "no_op" => {
                if !is_final("instance", &last.to) {
                    bad(format!("no_op but it ends {}", last.to));
                }
                if let Some(a) = acted_at
                    && h.state_at("instance", &id, a).is_none_or(|st| !is_final("instance", st))
                {
                    bad(format!("no_op but not final when the request acted at {} s", s(a)));
                }
            }
            "none" | "rejected" => {}
            other => bad(format!("unknown path {other}")),
        }
        if row.released != expect_released {
            bad(format!("released_s {} but the timeline says {}", opt(row.released), opt(expect_released)));
        }
    }
    for (t, (nodes, instances)) in restarts_by_instant {
        if nodes != instances {
            v.push(format!(
                "[instances] at {} s {nodes} nodes restart for {instances} instances of path restart",
                s(t)
            ));
        }
    }
}

/// Rule 5, the columns that need no timeline: row order, env, the request that covers it,
/// latencies, and which paths go with which requests (SPEC §4, §1.4, §1.7c; README).
fn instances_rows(spec: &Spec, out: &Outputs, accepted: &Accepted, v: &mut Vec<Violation>) {
    let ids = instance_ids(spec);
    if ids.len() != out.instances.len() {
        v.push(format!("[instances] {} rows for {} instances", out.instances.len(), ids.len()));
    }
    for ((id, j, _), row) in ids.iter().zip(&out.instances) {
        let job = &spec.jobs[*j];
        let got = format!("{}/{}/{}", row.job_id, row.task, row.index);
        if got != *id {
            v.push(format!("[instances] row {got} where {id} was due (job, task, index order)"));
            return;
        }
        let mut bad = |what: String| v.push(format!("[instances] {id} ({}): {what}", row.path));
        if row.env != job.env {
            bad(format!("env {} but the job's is {}", row.env, job.env));
        }
        let first = accepted.first_for_instance(id, &job.id).map(|r| r.sent);
        if row.terminate_requested != first {
            bad(format!(
                "terminate_requested_s {} but the first accepted request covering it was sent at {}",
                opt(row.terminate_requested),
                opt(first)
            ));
        }
        let diff = |a: Option<Micros>, b: Option<Micros>| a.zip(b).map(|(a, b)| a.wrapping_sub(b));
        if row.termination_latency != diff(row.terminated, row.terminate_requested) {
            bad(format!(
                "termination_latency_s {} is not terminated_s − terminate_requested_s",
                opt(row.termination_latency)
            ));
        }
        if row.release_latency != diff(row.released, row.terminate_requested) {
            bad(format!("release_latency_s {} is not released_s − terminate_requested_s", opt(row.release_latency)));
        }
        let named = job.env != "anonymous";
        let refused = |r: &RequestRow| {
            r.error_code == "UnsupportedOperation.TerminateOperationWithEnvId"
                && ((r.action == "TerminateTaskInstance" && r.target == *id)
                    || (r.action == "TerminateJob" && r.target == job.id))
        };
        let was_refused = out.requests.iter().any(refused);
        let requested = row.terminate_requested.is_some();
        let problem = match row.path.as_str() {
            "rejected" if !(named && spec.named_env_termination == "reject" && was_refused && !requested) => {
                Some("rejected without a refusal under reject")
            }
            p if p != "rejected" && named && spec.named_env_termination == "reject" && was_refused && !requested => {
                Some("refused under reject, so its path is rejected")
            }
            "immediate" | "cvm" | "bypass" | "restart" | "no_op" if !requested => {
                Some("a termination acted without an accepted request")
            }
            // An accepted TerminateTaskInstance acts at once (SPEC §1.7c).
            "none" if accepted.task_instance(id).next().is_some() => {
                Some("an accepted TerminateTaskInstance covers it, yet no termination acted")
            }
            "restart" if !named => Some("restart in the anonymous environment"),
            "cvm" | "bypass" if named => Some("a CVM path in a named environment"),
            _ => None,
        };
        if let Some(p) = problem {
            bad(p.into());
        }
    }
}

/// Rule 7, `cancellations.csv` (SPEC §4; README `cancellations.csv`).
fn cancellations(spec: &Spec, out: &Outputs, accepted: &Accepted, v: &mut Vec<Violation>) {
    let expected = !spec.dlc.is_empty() || !spec.tat.is_empty();
    let Some(rows) = &out.cancellations else {
        if expected {
            v.push("[cancellations] no cancellations.csv though the scenario has DLC tasks or TAT invocations".into());
        }
        return;
    };
    if !expected {
        v.push("[cancellations] cancellations.csv written for a scenario without DLC tasks or TAT invocations".into());
    }
    let h = out.timeline.as_deref().map(Histories::new);
    let mut due: Vec<(&str, String, String)> = spec.dlc.iter().map(|t| ("dlc", t.id.clone(), String::new())).collect();
    due.extend(spec.tat.iter().flat_map(|i| i.instances.iter().map(|ins| ("tat", i.id.clone(), ins.clone()))));
    let mut seen = HashSet::new();
    for row in rows {
        let key = (row.service.as_str(), row.id.clone(), row.instance_id.clone());
        let name = format!("{} {} {}", row.service, row.id, row.instance_id);
        if !due.contains(&key) || !seen.insert(key) {
            v.push(format!("[cancellations] row {name} is not one of the scenario's, or repeated"));
            continue;
        }
        let (entity, id) = if row.service == "dlc" {
            ("dlc_task", row.id.clone())
        } else {
            ("tat_task", format!("{}/{}", row.id, row.instance_id))
        };
        let requested = if row.service == "dlc" {
            Ok(accepted.first_cancel_task(&row.id).map(|r| r.sent))
        } else {
            accepted.first_cancel_invocation(&row.id, &row.instance_id).map(|r| r.map(|r| r.sent))
        };
        if let Ok(requested) = requested
            && row.cancel_requested != requested
        {
            v.push(format!(
                "[cancellations] {name}: cancel_requested_s {} but the first accepted cancel covering it was at {}",
                opt(row.cancel_requested),
                opt(requested)
            ));
        }
        if row.cancel_latency != row.cancelled.zip(row.cancel_requested).map(|(a, b)| a.wrapping_sub(b)) {
            v.push(format!(
                "[cancellations] {name}: cancel_latency_s {} is not cancelled_s − cancel_requested_s",
                opt(row.cancel_latency)
            ));
        }
        if let Some(h) = &h {
            let final_state = h.last_state(entity, &id).unwrap_or("");
            if row.final_state != final_state {
                v.push(format!(
                    "[cancellations] {name}: final_state {} but the timeline ends {final_state:?}",
                    row.final_state
                ));
            }
            let cancelled =
                h.of(entity, &id).iter().find(|r| matches!(r.to.as_str(), "CANCELLED" | "TERMINATED")).map(|r| r.t);
            if row.cancelled != cancelled {
                v.push(format!(
                    "[cancellations] {name}: cancelled_s {} but the timeline says {}",
                    opt(row.cancelled),
                    opt(cancelled)
                ));
            }
        }
    }
    for key in due.iter().filter(|k| !seen.contains(*k)) {
        v.push(format!("[cancellations] no row for {} {} {}", key.0, key.1, key.2));
    }
}

/// `count, mean, p50, p90, p99, max` as README `summary.json` defines them: nearest-rank
/// percentiles, the mean rounded to the microsecond, `null` figures when the count is 0.
fn check_stats(v: &mut Vec<Violation>, name: &str, got: Option<&Value>, mut values: Vec<Micros>) {
    let Some(got) = got else {
        v.push(format!("[summary] no {name}"));
        return;
    };
    values.sort_unstable();
    let n = values.len() as u64;
    let figure = |key: &str| got.get(key).and_then(Value::as_f64).map(seconds_to_micros);
    if got.get("count").and_then(Value::as_u64) != Some(n) {
        v.push(format!("[summary] {name}.count {:?}, the rows have {n}", got.get("count")));
        return;
    }
    if n == 0 {
        for key in ["mean", "p50", "p90", "p99", "max"] {
            if !got.get(key).is_some_and(Value::is_null) {
                v.push(format!("[summary] {name}.{key} should be null with count 0"));
            }
        }
        return;
    }
    let rank = |p: u64| values[(((p * n).div_ceil(100)).max(1) - 1) as usize];
    for (key, want) in [("p50", rank(50)), ("p90", rank(90)), ("p99", rank(99)), ("max", values[values.len() - 1])] {
        if figure(key) != Some(want) {
            v.push(format!("[summary] {name}.{key} {} but the rows give {}", opt(figure(key)), s(want)));
        }
    }
    // Rounded to the nearest microsecond (either way on an exact half).
    let sum: u128 = values.iter().map(|x| u128::from(*x)).sum();
    let ok = figure("mean").is_some_and(|m| (2 * u128::from(m) * u128::from(n)).abs_diff(2 * sum) <= u128::from(n));
    if !ok {
        v.push(format!(
            "[summary] {name}.mean {} but the rows' mean is {} µs",
            opt(figure("mean")),
            sum as f64 / n as f64
        ));
    }
}

fn check_counts(v: &mut Vec<Violation>, name: &str, got: Option<&Value>, values: impl Iterator<Item = String>) {
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for x in values {
        *want.entry(x).or_default() += 1;
    }
    let Some(map) = got.and_then(Value::as_object) else {
        v.push(format!("[summary] no {name}"));
        return;
    };
    // A kind that never occurred may be written as 0 or left out.
    for (k, n) in map {
        if n.as_u64() != Some(want.get(k).copied().unwrap_or(0)) {
            v.push(format!("[summary] {name}.{k} {n} but the rows have {}", want.get(k).copied().unwrap_or(0)));
        }
    }
    for (k, n) in want.iter().filter(|(k, _)| !map.contains_key(*k)) {
        v.push(format!("[summary] {name}.{k} missing, the rows have {n}"));
    }
}

/// Rule 6: `summary.json` recomputed from `instances.csv`, `cancellations.csv`, the timeline,
/// `requests.csv` and `occupancy.csv` (SPEC §4, README `summary.json`, §1.7c for `jobs[]`).
fn summary(spec: &Spec, out: &Outputs, accepted: &Accepted, v: &mut Vec<Violation>) {
    let sm = &out.summary;
    if sm.get("scenario").and_then(Value::as_str) != Some(spec.name.as_str()) {
        v.push(format!("[summary] scenario {:?}, not {}", sm.get("scenario"), spec.name));
    }
    if sm.get("seed").and_then(Value::as_u64) != Some(spec.seed) {
        v.push(format!("[summary] seed {:?}, not {}", sm.get("seed"), spec.seed));
    }
    let instances = sm.get("instances");
    let total = instances.and_then(|i| i.get("total")).and_then(Value::as_u64);
    if total != Some(spec.total_instances()) {
        v.push(format!("[summary] instances.total {total:?} is not the scenario's count"));
    }
    let rows: &[InstanceRow] = &out.instances;
    check_counts(
        v,
        "instances.by_final_state",
        instances.and_then(|i| i.get("by_final_state")),
        rows.iter().map(|r| r.final_state.clone()),
    );
    check_counts(v, "instances.by_path", instances.and_then(|i| i.get("by_path")), rows.iter().map(|r| r.path.clone()));
    check_stats(
        v,
        "termination_latency_s",
        sm.get("termination_latency_s"),
        rows.iter().filter_map(|r| r.termination_latency).collect(),
    );
    check_stats(
        v,
        "release_latency_s",
        sm.get("release_latency_s"),
        rows.iter().filter_map(|r| r.release_latency).collect(),
    );
    if let Some(c) = &out.cancellations {
        for service in ["dlc", "tat"] {
            let got = sm.get("cancel_latency_s").and_then(|x| x.get(service));
            check_stats(
                v,
                &format!("cancel_latency_s.{service}"),
                got,
                c.iter().filter(|r| r.service == service).filter_map(|r| r.cancel_latency).collect(),
            );
        }
    }
    let peak = out.occupancy.iter().map(|r| r.cvms_alive).max().unwrap_or(0);
    if sm.get("peak_cvms").and_then(Value::as_u64) != Some(peak) {
        v.push(format!("[summary] peak_cvms {:?}, occupancy.csv peaks at {peak}", sm.get("peak_cvms")));
    }
    let jobs = sm.get("jobs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if jobs.len() != spec.jobs.len() {
        v.push(format!("[summary] {} jobs[] for {} jobs", jobs.len(), spec.jobs.len()));
    }
    let h = out.timeline.as_deref().map(Histories::new);
    for (job, got) in spec.jobs.iter().zip(jobs) {
        let figure = |key: &str| got.get(key).and_then(Value::as_f64).map(seconds_to_micros);
        if got.get("id").and_then(Value::as_str) != Some(job.id.as_str()) {
            v.push(format!("[summary] jobs[] {:?} where {} was due (file order)", got.get("id"), job.id));
            continue;
        }
        let requested = accepted.job(&job.id).next().map(|r| r.sent);
        if figure("terminate_requested_s") != requested {
            v.push(format!(
                "[summary] job {}: terminate_requested_s {} but its first accepted TerminateJob was at {}",
                job.id,
                opt(figure("terminate_requested_s")),
                opt(requested)
            ));
        }
        let Some(h) = &h else { continue };
        let job_rows = h.of("job", &job.id);
        let Some(last) = job_rows.last() else { continue };
        if got.get("final_state").and_then(Value::as_str) != Some(last.to.as_str()) {
            v.push(format!(
                "[summary] job {}: final_state {:?} but the timeline ends {}",
                job.id,
                got.get("final_state"),
                last.to
            ));
        }
        // When it became final after the request, or the request's arrival if final already.
        let terminated =
            requested.and_then(|req| job_rows.iter().find(|r| is_final("job", &r.to)).map(|r| r.t.max(req)));
        if figure("terminated_s") != terminated {
            v.push(format!(
                "[summary] job {}: terminated_s {} but the timeline gives {}",
                job.id,
                opt(figure("terminated_s")),
                opt(terminated)
            ));
        }
        let latency = terminated.zip(requested).map(|(a, b)| a - b);
        if figure("latency_s") != latency {
            v.push(format!(
                "[summary] job {}: latency_s {} but should be {}",
                job.id,
                opt(figure("latency_s")),
                opt(latency)
            ));
        }
    }
}
