//! Capacity: quota, `occupancy.csv`, the backend's CVM call pacing, bypass poll times and the
//! TerminateJob walk's timing, from the timeline, `occupancy.csv` and `instances.csv`.
//!
//! A CVM is tied to its instance by the timeline's row order: a CVM's `create_call` row is
//! directly followed by the `RUNNABLE → STARTING` row of the instance it is created for
//! (README, `timeline.csv`); nodes have no such row.

use std::collections::HashMap;

use crate::Violation;
use crate::outputs::{Micros, Outputs, SECOND, TimelineRow, s};
use crate::spec::Spec;

/// Not holding quota any more (SPEC §1.2).
fn gone(state: &str) -> bool {
    matches!(state, "TERMINATED" | "LAUNCH_FAILED")
}

pub fn check(spec: &Spec, out: &Outputs) -> Vec<Violation> {
    let mut v = Vec::new();
    // SPEC §1.2: never more quota in use than the account has.
    if let Some(max) = spec.max_cvms {
        for row in out.occupancy.iter().filter(|r| r.quota_in_use > max) {
            v.push(format!("[quota] {} CVMs of quota in use at {} s, over max_cvms {max}", row.quota_in_use, s(row.t)));
        }
    }
    // SPEC §4: one row per instant at which a count changed.
    for pair in out.occupancy.windows(2) {
        if pair[1].t <= pair[0].t {
            v.push(format!("[occupancy] rows at {} s and {} s out of order or repeated", s(pair[0].t), s(pair[1].t)));
        }
        if (pair[1].cvms_alive, pair[1].quota_in_use) == (pair[0].cvms_alive, pair[0].quota_in_use) {
            v.push(format!("[occupancy] a row at {} s repeats the counts of the one before", s(pair[1].t)));
        }
    }
    let Some(timeline) = &out.timeline else { return v };
    let mut world = World::replay(spec, timeline, &mut v);
    world.attach_quota(out);
    v.extend(world.occupancy_matches(spec, out));
    v.extend(world.pacing(spec));
    v.extend(world.bypass_polls(spec, out));
    v.extend(walk_timing(spec, out, &world));
    v
}

/// What the oracle knows at the end of one instant.
#[derive(Clone, Debug, Default)]
struct Instant {
    t: Micros,
    alive: u64,
    /// Anonymous-environment instances `RUNNABLE` (waiting for quota, or holding a grant whose
    /// create call still waits).
    runnable_anonymous: u64,
    /// Quota units granted whose create call has not been made yet: quota in use (from
    /// `occupancy.csv`) beyond the CVMs alive.
    granted_waiting: u64,
    /// Named-environment nodes whose create call has not been made yet (they take quota at
    /// time 0, SPEC §1.3, and may wait for a create-call limit).
    nodes_to_create: u64,
    /// Named-environment nodes `RUNNING`, instances holding one (`STARTING`, `RUNNING`,
    /// `FAILED_INTERRUPTED`) and instances `RUNNABLE` waiting for one.
    nodes_running: u64,
    named_busy: u64,
    named_runnable: u64,
}

struct World {
    instants: Vec<Instant>,
    /// Create calls and terminate calls (times), in row order.
    create_calls: Vec<Micros>,
    terminate_calls: Vec<Micros>,
    /// Per CVM id: its rows `(t, to)`.
    cvm_rows: HashMap<String, Vec<(Micros, String)>>,
    /// Per instance: the CVMs created for it, in order.
    cvms_of: HashMap<String, Vec<String>>,
}

impl World {
    fn replay(spec: &Spec, timeline: &[TimelineRow], v: &mut Vec<Violation>) -> World {
        let env_of: HashMap<&str, &str> = spec.jobs.iter().map(|j| (j.id.as_str(), j.env.as_str())).collect();
        let anonymous =
            |instance: &str| env_of.get(instance.split('/').next().unwrap_or("")).is_some_and(|e| *e == "anonymous");
        let mut state: HashMap<&str, &str> = HashMap::new();
        let mut rank: HashMap<&str, usize> = HashMap::new();
        let mut alive = 0u64;
        let mut runnable_anonymous = 0u64;
        let mut world = World {
            instants: Vec::new(),
            create_calls: Vec::new(),
            terminate_calls: Vec::new(),
            cvm_rows: HashMap::new(),
            cvms_of: HashMap::new(),
        };
        let (mut nodes_running, mut named_busy, mut named_runnable) = (0u64, 0u64, 0u64);
        let count = |counter: &mut u64, before: bool, after: bool| match (before, after) {
            (false, true) => *counter += 1,
            (true, false) => *counter -= 1,
            _ => {}
        };
        let mut nodes_to_create: u64 = spec.environments.iter().map(|(_, n)| u64::from(*n)).sum();
        for (k, row) in timeline.iter().enumerate() {
            let id = row.id.as_str();
            let previous = state.insert(id, row.to.as_str());
            match row.entity.as_str() {
                "cvm" | "node" => {
                    let was_alive = previous.is_some_and(|p| !gone(p));
                    let is_alive = !gone(&row.to);
                    match (was_alive, is_alive) {
                        (false, true) => alive += 1,
                        (true, false) => alive -= 1,
                        _ => {}
                    }
                    if row.entity == "node" {
                        count(&mut nodes_running, previous == Some("RUNNING"), row.to == "RUNNING");
                    }
                    if row.cause == "create_call" {
                        world.create_calls.push(row.t);
                        if row.entity == "node" {
                            nodes_to_create = nodes_to_create.saturating_sub(1);
                        }
                    }
                    if row.cause == "terminate_call" {
                        world.terminate_calls.push(row.t);
                    }
                    if row.entity == "cvm" {
                        world.cvm_rows.entry(row.id.clone()).or_default().push((row.t, row.to.clone()));
                        if row.cause == "create_call" {
                            match timeline.get(k + 1) {
                                Some(next) if next.entity == "instance" && next.to == "STARTING" && next.t == row.t => {
                                    world.cvms_of.entry(next.id.clone()).or_default().push(row.id.clone());
                                }
                                _ => v.push(format!("[link] the create call of {} at {} s is not followed by its instance's STARTING row", row.id, s(row.t))),
                            }
                        }
                    }
                }
                "instance" => {
                    if previous.is_none() {
                        let next_rank = rank.len();
                        rank.insert(id, next_rank);
                    }
                    if !anonymous(id) {
                        let holds =
                            |st: Option<&str>| matches!(st, Some("STARTING" | "RUNNING" | "FAILED_INTERRUPTED"));
                        count(&mut named_busy, holds(previous), holds(Some(&row.to)));
                        count(&mut named_runnable, previous == Some("RUNNABLE"), row.to == "RUNNABLE");
                    } else {
                        if previous == Some("RUNNABLE") {
                            runnable_anonymous -= 1;
                        }
                        if row.to == "RUNNABLE" {
                            runnable_anonymous += 1;
                        }
                        // SPEC §1.3: quota is granted FIFO by submission. Without a create-call
                        // limit the grant is the create call, so when one is made nobody earlier
                        // by submission may be waiting (one that turns RUNNABLE later in the same
                        // instant came after the grant).
                        if previous == Some("RUNNABLE") && row.to == "STARTING" && spec.create_rate_limit.is_none() {
                            let earlier_waiting = state
                                .iter()
                                .filter(|(other, st)| **st == "RUNNABLE" && anonymous(other))
                                .find(|(other, _)| rank.get(*other).is_some_and(|r| *r < rank[id]));
                            if let Some((other, _)) = earlier_waiting {
                                v.push(format!(
                                    "[fifo] {id} got quota at {} s while {other}, earlier by submission, waits",
                                    s(row.t)
                                ));
                            }
                        }
                    }
                }
                _ => {}
            }
            let instant_ends = timeline.get(k + 1).is_none_or(|next| next.t != row.t);
            if instant_ends {
                world.instants.push(Instant {
                    t: row.t,
                    alive,
                    runnable_anonymous,
                    granted_waiting: 0,
                    nodes_to_create,
                    nodes_running,
                    named_busy,
                    named_runnable,
                });
            }
        }
        world
    }

    /// SPEC §4: `occupancy.csv` holds the counts at the end of each instant at which one changed;
    /// §1.2: quota is held from the grant, so never less than the CVMs alive, and more only by
    /// grants whose create call waits (instances still `RUNNABLE`). §1.3: quota is granted FIFO
    /// by submission, and nobody waits while quota is free.
    fn occupancy_matches(&self, spec: &Spec, out: &Outputs) -> Vec<Violation> {
        let mut v = Vec::new();
        let mut rows = out.occupancy.iter().peekable();
        let mut current = (0u64, 0u64);
        let mut alive_before = 0u64;
        for instant in &self.instants {
            let mut row_here = None;
            while let Some(row) = rows.next_if(|r| r.t <= instant.t) {
                if row.t < instant.t {
                    v.push(format!("[occupancy] a row at {} s, an instant with no timeline row", s(row.t)));
                }
                row_here = Some(row);
                current = (row.cvms_alive, row.quota_in_use);
            }
            if instant.alive != alive_before && row_here.is_none() {
                v.push(format!(
                    "[occupancy] CVMs alive changed to {} at {} s without a row",
                    instant.alive,
                    s(instant.t)
                ));
            }
            alive_before = instant.alive;
            // SPEC §1.3: a RUNNABLE instance of a named environment waits for a free running
            // node; with one environment, the node counts are that environment's.
            if spec.environments.len() == 1 && instant.named_runnable > 0 && instant.nodes_running > instant.named_busy
            {
                v.push(format!(
                    "[nodes] {} instances wait at {} s while {} of {} running nodes are free",
                    instant.named_runnable,
                    s(instant.t),
                    instant.nodes_running - instant.named_busy,
                    instant.nodes_running
                ));
            }
            if spec.environments.len() == 1 && instant.named_busy > instant.nodes_running {
                v.push(format!(
                    "[nodes] {} instances hold a node at {} s but only {} nodes run",
                    instant.named_busy,
                    s(instant.t),
                    instant.nodes_running
                ));
            }
            let (alive, quota) = current;
            if alive != instant.alive {
                v.push(format!(
                    "[occupancy] cvms_alive {alive} at {} s, the timeline has {} CVMs alive",
                    s(instant.t),
                    instant.alive
                ));
                continue;
            }
            if quota < alive {
                v.push(format!("[occupancy] quota_in_use {quota} < cvms_alive {alive} at {} s", s(instant.t)));
                continue;
            }
            let granted_waiting = quota - alive;
            if spec.create_rate_limit.is_none() && granted_waiting > 0 {
                v.push(format!(
                    "[quota] {granted_waiting} units of quota held by no CVM at {} s, without a create-call limit",
                    s(instant.t)
                ));
            }
            let could_wait = instant.runnable_anonymous + instant.nodes_to_create;
            if granted_waiting > could_wait {
                v.push(format!("[quota] {granted_waiting} grants waiting for a create call at {} s but only {could_wait} instances RUNNABLE or nodes to create", s(instant.t)));
                continue;
            }
            // Nodes are granted first (at time 0), so grants beyond them are instances'.
            let waiting_for_quota = instant.runnable_anonymous
                - granted_waiting.saturating_sub(instant.nodes_to_create).min(instant.runnable_anonymous);
            if waiting_for_quota > 0 && spec.max_cvms.is_none_or(|max| quota < max) {
                v.push(format!(
                    "[quota] {waiting_for_quota} instances wait for quota at {} s while {quota} of {:?} is in use",
                    s(instant.t),
                    spec.max_cvms
                ));
            }
        }
        for row in rows {
            v.push(format!("[occupancy] a row at {} s, after the last timeline row", s(row.t)));
        }
        v
    }

    /// SPEC §1.7c: backend CVM calls under a limit are `1 / rate` apart, each at the later of its
    /// arrival and the previous call + `1 / rate`; a create call's arrival is its grant, so while
    /// a grant waits the next create call comes exactly one interval after the previous.
    fn pacing(&self, spec: &Spec) -> Vec<Violation> {
        let mut v = Vec::new();
        let interval = |rate: f64| (SECOND as f64 / rate).round() as Micros;
        for (name, calls, rate) in [
            ("create", &self.create_calls, spec.create_rate_limit),
            ("terminate", &self.terminate_calls, spec.terminate_rate_limit),
        ] {
            let Some(rate) = rate else { continue };
            let gap = interval(rate);
            for pair in calls.windows(2) {
                if pair[1] < pair[0] + gap {
                    v.push(format!(
                        "[pacing] {name} calls at {} s and {} s, closer than 1/{rate} s",
                        s(pair[0]),
                        s(pair[1])
                    ));
                }
            }
        }
        if let Some(rate) = spec.create_rate_limit {
            let gap = interval(rate);
            let mut last_call: Option<Micros> = None;
            let mut calls = self.create_calls.iter().peekable();
            let mut due: Option<Micros> = None;
            for instant in &self.instants {
                while let Some(&&t) = calls.peek() {
                    if t > instant.t {
                        break;
                    }
                    if let Some(due) = due
                        && t != due
                    {
                        v.push(format!(
                            "[pacing] a create call at {} s; with a grant waiting it was due at {} s",
                            s(t),
                            s(due)
                        ));
                    }
                    last_call = Some(t);
                    due = None;
                    calls.next();
                }
                // A grant may go before its call (its instance terminated): nothing is due then.
                if instant.granted_waiting == 0 {
                    due = None;
                }
                if instant.granted_waiting > 0 && due.is_none() {
                    due = Some(last_call.map_or(instant.t, |c| (c + gap).max(instant.t)));
                }
            }
        }
        v
    }

    fn attach_quota(&mut self, out: &Outputs) {
        let mut rows = out.occupancy.iter().peekable();
        let mut quota = 0;
        for instant in &mut self.instants {
            while let Some(row) = rows.next_if(|r| r.t <= instant.t) {
                quota = row.quota_in_use;
            }
            instant.granted_waiting = quota.saturating_sub(instant.alive);
        }
    }

    /// SPEC §1.4, §1.7c: a bypass-registered CVM is terminated at the first poll at or after its
    /// creation completes (whole multiples of the interval; `0s`: at once); one that ends
    /// `LAUNCH_FAILED` makes the instance `FAILED` at that instant.
    fn bypass_polls(&self, spec: &Spec, out: &Outputs) -> Vec<Violation> {
        let mut v = Vec::new();
        for row in out.instances.iter().filter(|r| r.path == "bypass") {
            let instance = format!("{}/{}/{}", row.job_id, row.task, row.index);
            let Some(cvm) = self.cvms_of.get(&instance).and_then(|c| c.last()) else {
                v.push(format!("[bypass] {instance} took the bypass but no CVM was created for it"));
                continue;
            };
            let rows = &self.cvm_rows[cvm];
            // A creation the run's end cut short shows nothing more.
            let Some(&(created, ref end)) = rows.iter().find(|(_, to)| to == "RUNNING" || to == "LAUNCH_FAILED") else {
                continue;
            };
            if end == "LAUNCH_FAILED" {
                if row.terminated != Some(created) || row.released != Some(created) {
                    v.push(format!("[bypass] {instance}: its CVM failed to launch at {} s; FAILED and released then, not {:?}/{:?}", s(created), row.terminated, row.released));
                }
                continue;
            }
            let poll = match spec.poll_interval {
                0 => created,
                p => created.div_ceil(p) * p,
            };
            let Some(&(call, _)) = rows.iter().find(|(_, to)| to == "SHUTTING_DOWN") else {
                // A terminate-call limit may queue the call past the end.
                if poll <= spec.horizon && spec.terminate_rate_limit.is_none() {
                    v.push(format!(
                        "[bypass] {instance}: CVM {cvm} created at {} s, poll at {} s, never terminated",
                        s(created),
                        s(poll)
                    ));
                }
                continue;
            };
            let exact = spec.terminate_rate_limit.is_none();
            if call < poll || (exact && call != poll) {
                v.push(format!(
                    "[bypass] {instance}: CVM {cvm} created at {} s, terminated at {} s; the poll is at {} s",
                    s(created),
                    s(call),
                    s(poll)
                ));
            }
        }
        v
    }
}

/// SPEC §1.5: TerminateJob walks are FIFO over `workers`; the k-th instance of a walk, in its j-th
/// task, is acted on at `start + j × per_task + k × per_instance`. Checked on what the outputs show
/// exactly: instances the walk made `FAILED` at once (`immediate`, `restart`) and CVM terminate
/// calls (`cvm`, without a terminate-call limit), unless a TerminateTaskInstance acted first.
fn walk_timing(spec: &Spec, out: &Outputs, world: &World) -> Vec<Violation> {
    let mut v = Vec::new();
    let Some(timeline) = &out.timeline else { return v };
    // When each instance became final (its last final row).
    let mut final_at: HashMap<&str, Micros> = HashMap::new();
    for row in timeline.iter().filter(|r| r.entity == "instance") {
        if matches!(row.to.as_str(), "SUCCEED" | "FAILED") {
            final_at.insert(&row.id, row.t);
        } else {
            final_at.remove(row.id.as_str());
        }
    }
    let mut workers: Vec<Micros> = vec![0; spec.workers as usize];
    for request in out.requests.iter().filter(|r| r.ok && r.action == "TerminateJob") {
        let Some(job) = spec.job(&request.target) else { continue };
        let instance_ids: Vec<(usize, String)> = job
            .tasks
            .iter()
            .enumerate()
            .flat_map(|(j, t)| (0..t.instances).map(move |i| (j, format!("{}/{}/{}", job.id, t.name, i))))
            .collect();
        let ends: Vec<Option<Micros>> = instance_ids.iter().map(|(_, id)| final_at.get(id.as_str()).copied()).collect();
        if ends.contains(&Some(request.sent)) {
            // Whether the job was final when the call came depends on the order within the
            // instant, which the outputs do not show: stop checking the walks here.
            return v;
        }
        if ends.iter().all(|e| e.is_some_and(|t| t < request.sent)) {
            continue; // already final: accepted, no walk (SPEC §1.5)
        }
        let worker = (0..workers.len()).min_by_key(|&w| workers[w]).unwrap();
        let start = workers[worker].max(request.sent);
        let mut task_entered = usize::MAX;
        let mut j = 0u64;
        for (k, (task, id)) in instance_ids.iter().enumerate() {
            if *task != task_entered {
                task_entered = *task;
                j += 1;
            }
            let at = start + j * spec.per_task + (k as u64 + 1) * spec.per_instance;
            if at > spec.horizon {
                break;
            }
            let (job_id, rest) = id.split_once('/').unwrap();
            let (task_name, index) = rest.rsplit_once('/').unwrap();
            let Some(row) = out
                .instances
                .iter()
                .find(|r| r.job_id == job_id && r.task == task_name && r.index.to_string() == index)
            else {
                continue;
            };
            let by_task_instance = |t: Micros| {
                out.requests
                    .iter()
                    .any(|r| r.ok && r.action == "TerminateTaskInstance" && r.target == *id && r.sent == t)
            };
            let acted = match row.path.as_str() {
                "immediate" | "restart" => row.terminated,
                "cvm" if spec.terminate_rate_limit.is_none() => world
                    .cvms_of
                    .get(id)
                    .and_then(|c| c.last())
                    .and_then(|cvm| world.cvm_rows[cvm].iter().find(|(_, to)| to == "SHUTTING_DOWN"))
                    .map(|(t, _)| *t),
                _ => None,
            };
            if let Some(acted) = acted
                && acted != at
                && !by_task_instance(acted)
                && acted > request.sent
            {
                v.push(format!(
                    "[walk] {id}: the TerminateJob of {} s (walk from {} s) acts at {} s, but it was acted on at {} s",
                    s(request.sent),
                    s(start),
                    s(at),
                    s(acted)
                ));
            }
        }
        let tasks = job.tasks.len() as u64;
        workers[worker] = start + tasks * spec.per_task + instance_ids.len() as u64 * spec.per_instance;
    }
    v
}
