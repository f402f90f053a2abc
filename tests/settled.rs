//! The settled cases of SPEC §1.5 (`job_termination.per_task`), §1.7c and §4, one hand-worked
//! scenario each. Unless a test says otherwise (see `common::base`): submit delay 2 s, creation
//! 90 s, termination 10 s, restart 60 s, no answer latency, bypass poll 10 s, TerminateJob 1 s
//! per instance and no per-task cost, one worker, no quota limit.
//!
//! So a lone instance is SUBMITTED at 0, PENDING and RUNNABLE at 2, STARTING at 2 (CVM PENDING),
//! RUNNING at 92 (CVM RUNNING). A named environment's node is created at 0 and RUNNING at 90.
//!
//! Client calls are placed away from the model's own state changes, so that the order within an
//! instant (§1.7c) decides nothing, with two exceptions that do not depend on it beyond what
//! §1.7c settles: the token-bucket calls at 0 s come after the jobs' submission at 0 s (model
//! first), and the fixed-window call at 2 s is answered `ok` whether its instance is RUNNABLE
//! or STARTING.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};
use termsim::model::Entity;
use termsim::output::summary::summarise;

/// A TerminateTaskInstance client for one index of `job`'s task A.
fn tti_job(at: &str, job: &str, index: u32) -> Value {
    json!({ "type": "terminate_task_instances", "at": at, "job": job, "task": "A", "indices": [index] })
}

/// The loader's verdict on a scenario: the error message, or `None` when it is accepted.
fn refusal(scenario: &Value) -> Option<String> {
    let text = serde_json::to_string_pretty(scenario).unwrap();
    termsim::scenario::parse(&text, Path::new("test.json")).err().map(|e| e.to_string())
}

/// When `entity` entered state `to`, in microseconds (for sums of times that are not whole).
fn micros(rec: &Rec, entity: Entity, to: &str) -> Vec<u64> {
    rec.rows.iter().filter(|r| r.1 == entity && r.3 == to).map(|r| r.0.0).collect()
}

/// The `to` states of an entity's rows, in order.
fn state_rows(rec: &Rec, entity: Entity) -> Vec<(f64, &'static str)> {
    rec.states(entity).into_iter().map(|(t, to, _)| (t, to)).collect()
}

// ---- §1.5 job_termination.per_task ----

/// Job X (first in the file, so first for the quota) holds the only CVM from 2 s on; job A's two
/// tasks of two instances each wait RUNNABLE from 2 s. TerminateJob of job A at 10 s.
fn per_task_scenario(job_termination: Value) -> Value {
    scenario(json!({
        "backend": { "quota": { "max_cvms": 1 }, "job_termination": job_termination },
        "jobs": [
            { "id": "job-xxxxxxxx", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] },
            { "id": "job-aaaaaaaa", "tasks": [
                { "name": "A", "instances": 2, "runtime": "1h" },
                { "name": "B", "instances": 2, "runtime": "1h" } ] } ],
        "clients": [terminate_job("10s", "job-aaaaaaaa")]
    }))
}

#[test]
fn terminate_job_spends_per_task_on_entering_each_task_and_per_instance_on_each_instance() {
    // per_task 5 s, per_instance 1 s, walk starting at 10 s: the k-th instance in the j-th task
    // is reached at 10 + 5 j + k. A/0: j=1, k=1 → 16; A/1: j=1, k=2 → 17; B/0: j=2, k=3 → 23;
    // B/1: j=2, k=4 → 24. All are RUNNABLE (waiting for quota): FAILED at once (immediate).
    // The job is FAILED at 24: latency 14 s.
    let (o, rec) = run(&per_task_scenario(json!({ "per_task": "5s", "per_instance": "1s" })));
    for (i, at) in [(1, 16.0), (2, 17.0), (3, 23.0), (4, 24.0)] {
        assert_eq!(row(o.instance(i)), ("FAILED", "immediate", s(10.0), s(at), None), "instance {i}");
    }
    assert_eq!(rec.entered(Entity::Job(1), "FAILED"), vec![24.0]);
    let summary = summarise(&o);
    assert_eq!(summary.jobs[1].terminated_s, Some(24.0));
    assert_eq!(summary.jobs[1].latency_s, Some(14.0));
    // "0s" written out is the default: 10 + k for the k-th instance, the last at 14.
    let (o, _) = run(&per_task_scenario(json!({ "per_task": "0s", "per_instance": "1s" })));
    assert_eq!(o.instance(4).terminated, s(14.0));
}

#[test]
fn without_per_task_terminate_job_keeps_one_per_instance_cost() {
    // per_task omitted (default 0 s): the k-th instance at 10 + k → 11, 12, 13, 14.
    let (o, _) = run(&per_task_scenario(json!({ "per_instance": "1s" })));
    for (i, at) in [(1, 11.0), (2, 12.0), (3, 13.0), (4, 14.0)] {
        assert_eq!(row(o.instance(i)), ("FAILED", "immediate", s(10.0), s(at), None), "instance {i}");
    }
}

// ---- §1.7c interruptions ----

/// A hazard of 10^6 per hour: a mean of 3.6 ms before a running CVM is reclaimed, against a
/// runtime of 1 h, so every run is interrupted, within a few milliseconds of its start (the
/// chance that one lasts a whole second is e^-277). The instant cannot be worked out by hand, so
/// these tests assert on the structure around it.
const INTERRUPTIONS: f64 = 1e6;

#[test]
fn an_interrupted_cvm_frees_its_cvm_and_quota_at_that_instant_and_a_later_terminate_is_immediate() {
    // Runs from 92; interrupted at t (92 ≤ t < 93): CVM TERMINATED (cause interrupted) and the
    // instance, on its last attempt with failed_action INTERRUPT, FAILED_INTERRUPTED at t, holding
    // nothing: no CVM and no quota from t on. Asked at 200: FAILED at once (path immediate), and
    // no release, since nothing was held.
    let (o, rec) = run(&scenario(json!({
        "backend": { "cvm": { "interruption_rate_per_hour": INTERRUPTIONS }, "quota": { "max_cvms": 1 } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h",
                   "failed_action": "INTERRUPT" }] }],
        "clients": [tti("200s", json!([0]))]
    })));
    let interrupted = rec.entered(Entity::Instance(0), "FAILED_INTERRUPTED");
    assert_eq!(interrupted.len(), 1);
    let t = interrupted[0];
    assert!((92.0..93.0).contains(&t), "interrupted at {t}");
    assert_eq!(rec.states(Entity::Cvm(0)).last(), Some(&(t, "TERMINATED", "interrupted")));
    assert!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN").is_empty(), "no terminate call is made");
    assert_eq!(rec.occupancy_rows().last(), Some(&(t, 0, 0)), "no CVM and no quota held from {t}");
    assert_eq!(row(o.instance(0)), ("FAILED", "immediate", s(200.0), s(200.0), None));
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED"), vec![200.0]);
}

#[test]
fn a_retry_after_an_interruption_takes_a_new_cvm_and_quota_before_later_submissions() {
    // Quota 1. Job A (submitted 0, one retry, INTERRUPT): CVM 0 from 2, RUNNING 92, reclaimed at
    // t1: the retry is RUNNABLE at t1 and, keeping its place by submission, takes the freed quota
    // before job Y (submitted 5 s, RUNNABLE and waiting from 7 s): CVM 1 PENDING at t1, RUNNING at
    // t1 + 90, reclaimed at t2: FAILED_INTERRUPTED, holding nothing, so Y/0 gets the quota at t2.
    // One CVM at a time throughout: peak 1.
    let (o, rec) = run(&scenario(json!({
        "backend": { "cvm": { "interruption_rate_per_hour": INTERRUPTIONS }, "quota": { "max_cvms": 1 } },
        "jobs": [
            { "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h",
              "retry_count": 1, "failed_action": "INTERRUPT" }] },
            { "id": "job-yyyyyyyy", "submit_at": "5s", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] } ]
    })));
    let t1 = rec.entered(Entity::Cvm(0), "TERMINATED");
    assert_eq!(t1.len(), 1);
    let t1 = t1[0];
    assert_eq!(rec.states(Entity::Cvm(0)).last(), Some(&(t1, "TERMINATED", "interrupted")));
    assert_eq!(rec.entered(Entity::Instance(0), "RUNNABLE"), vec![2.0, t1]);
    assert_eq!(rec.entered(Entity::Cvm(1), "PENDING"), vec![t1]);
    assert_eq!(rec.entered(Entity::Instance(0), "STARTING"), vec![2.0, t1]);
    assert_eq!(
        micros(&rec, Entity::Cvm(1), "RUNNING"),
        vec![micros(&rec, Entity::Cvm(0), "TERMINATED")[0] + 90_000_000]
    );
    let t2 = rec.entered(Entity::Cvm(1), "TERMINATED");
    assert_eq!(t2.len(), 1);
    let t2 = t2[0];
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED_INTERRUPTED"), vec![t2]);
    assert_eq!(o.instance(0).failed_runs, 2);
    assert_eq!(rec.entered(Entity::Instance(1), "STARTING"), vec![t2], "job Y waits for job A's retry");
    assert_eq!(o.peak_cvms, 1);
}

// ---- §1.7c paths ----

#[test]
fn an_instance_the_walk_has_not_reached_by_the_end_of_the_run_has_path_none_but_counts_as_requested() {
    // Four instances RUNNING from 92; TerminateJob at 100 reaches A/0 at 101 and A/1 at 102
    // (terminate calls: SHUTTING_DOWN until 111 and 112); the run ends at 102.5. A/0 and A/1:
    // path cvm (their CVMs still SHUTTING_DOWN), not yet FAILED. A/2 and A/3: requested at 100,
    // path none.
    let (o, rec) = run(&scenario(json!({
        "horizon": "102.5s",
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 4, "runtime": "1h" }] }],
        "clients": [terminate_job("100s", "job-aaaaaaaa")]
    })));
    assert_eq!(rec.entered(Entity::Cvm(1), "SHUTTING_DOWN"), vec![102.0]);
    for i in 0..2 {
        assert_eq!(row(o.instance(i)), ("RUNNING", "cvm", s(100.0), None, None), "instance {i}");
    }
    for i in 2..4 {
        assert_eq!(row(o.instance(i)), ("RUNNING", "none", s(100.0), None, None), "instance {i}");
    }
    let summary = summarise(&o);
    assert_eq!(summary.instances.by_path.get("none"), Some(&2));
    assert_eq!(summary.instances.by_path.get("cvm"), Some(&2));
}

#[test]
fn rejected_is_the_path_only_of_instances_whose_requests_were_refused_under_reject() {
    // Named environment (one node, RUNNING at 90: A/0 runs from 90, the others wait), policy
    // reject, TerminateTaskInstance limited to 1 call/s, run ended at 200 s. A/0 is asked at
    // 100 (refused: TerminateOperationWithEnvId, which uses the window [100, 101)); A/1 at 100.5
    // is refused by the rate limit, which is not a refusal under reject; A/2 is never asked.
    let (o, rec) = run(&scenario(json!({
        "horizon": "200s",
        "backend": { "named_env_termination": "reject", "api": { "limits": { "TerminateTaskInstance": 1 } } },
        "environments": [{ "id": "env-k3l9x0ab", "nodes": 1 }],
        "jobs": [{ "id": "job-aaaaaaaa", "env": "env-k3l9x0ab",
                   "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }],
        "clients": [tti("100s", json!([0])), tti("100.5s", json!([1]))]
    })));
    assert_eq!(
        rec.calls(),
        vec![(100.0, 1, "UnsupportedOperation.TerminateOperationWithEnvId"), (100.5, 1, "RequestLimitExceeded")]
    );
    assert_eq!(row(o.instance(0)), ("RUNNING", "rejected", None, None, None));
    assert_eq!(row(o.instance(1)), ("RUNNABLE", "none", None, None, None));
    assert_eq!(row(o.instance(2)), ("RUNNABLE", "none", None, None, None));
}

#[test]
fn a_terminate_task_instance_that_reaches_an_instance_before_the_walk_acts_at_once_and_sets_its_path() {
    // Three instances RUNNING from 92; the walk costs 10 s per instance. TerminateJob at 100
    // covers all three from 100 and reaches A/0 at 110 (FAILED 120) and A/1 at 120 (FAILED 130).
    // A TerminateTaskInstance for A/2 at 105 acts at once: terminate call at 105, FAILED at 115,
    // path cvm; its request time stays the TerminateJob's (100). The walk reaches it at 130,
    // FAILED already: no second terminate call. The job is FAILED at 130.
    let (o, rec) = run(&scenario(json!({
        "backend": { "job_termination": { "per_instance": "10s" } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }],
        "clients": [terminate_job("100s", "job-aaaaaaaa"), tti("105s", json!([2]))]
    })));
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok"), (105.0, 1, "ok")]);
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(100.0), s(120.0), s(120.0)));
    assert_eq!(row(o.instance(1)), ("FAILED", "cvm", s(100.0), s(130.0), s(130.0)));
    assert_eq!(row(o.instance(2)), ("FAILED", "cvm", s(100.0), s(115.0), s(115.0)));
    assert_eq!(rec.entered(Entity::Cvm(2), "SHUTTING_DOWN"), vec![105.0]);
    assert_eq!(o.jobs[0].terminated, s(130.0));
}

// ---- §1.7c rate limits ----

#[test]
fn a_token_bucket_starts_full_and_refills_at_n_per_second() {
    // Limit N. N + 1 calls at 0: the bucket starts with N tokens, so N are accepted and the last
    // is refused. Refused calls take no token, and the bucket refills at N tokens per second: a
    // call 1 ms before 1/N s finds 1 - N/1000 of a token and is refused, one at 1/N s finds one
    // whole token and is accepted. With N = 2: 1/N = 500 ms; with N = 4: 250 ms.
    for (n, refill_ms) in [(2u32, 500u32), (4, 250)] {
        let mut clients: Vec<Value> = (0..=n).map(|k| tti("0s", json!([k]))).collect();
        clients.push(tti(&format!("{}ms", refill_ms - 1), json!([n + 1])));
        clients.push(tti(&format!("{refill_ms}ms"), json!([n + 2])));
        let (_, rec) = run(&scenario(json!({
            "backend": { "api": { "rate_limit": "token_bucket", "limits": { "TerminateTaskInstance": n } } },
            "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": n + 3, "runtime": "1h" }] }],
            "clients": clients
        })));
        let outcomes: Vec<_> = rec.calls().into_iter().map(|c| c.2).collect();
        let mut expected = vec!["ok"; n as usize];
        expected.extend(["RequestLimitExceeded", "RequestLimitExceeded", "ok"]);
        assert_eq!(outcomes, expected, "limit {n}");
    }
}

#[test]
fn a_fixed_window_counts_calls_per_whole_second() {
    // Limit 2. Calls at 0.6 and 0.7 fill the window [0, 1); 0.999 is refused; 1.0 and 1.1 open
    // and fill [1, 2) (a sliding window would still count 0.6 and 0.7 there); 1.2 is refused;
    // 2.0 opens [2, 3).
    let times = ["600ms", "700ms", "999ms", "1s", "1100ms", "1200ms", "2s"];
    let clients: Vec<Value> = times.iter().enumerate().map(|(k, at)| tti(at, json!([k]))).collect();
    let (_, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 7, "runtime": "1h" }] }],
        "clients": clients
    })));
    let outcomes: Vec<_> = rec.calls().into_iter().map(|c| c.2).collect();
    let refused = "RequestLimitExceeded";
    assert_eq!(outcomes, ["ok", "ok", refused, "ok", "ok", refused, "ok"]);
}

// ---- §1.7c the backend's CVM calls ----

#[test]
fn create_calls_are_spaced_one_over_the_rate_apart_from_the_later_of_arrival_and_the_previous_call() {
    // create_rate_limit 2/s. Job A: five instances RUNNABLE at 2 s, granted quota at once; their
    // create calls (CVM PENDING rows) at 2.0, 2.5, 3.0, 3.5, 4.0. Job Y (submitted 8 s) asks at
    // 10.0: the previous call was at 4.0, so its call is made on arrival, 10.0. Job Z (submitted
    // 8.2 s) asks at 10.2, before 10.0 + 0.5: made at 10.5.
    let (_, rec) = run(&scenario(json!({
        "backend": { "cvm": { "create_rate_limit": 2 } },
        "jobs": [
            { "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 5, "runtime": "1h" }] },
            { "id": "job-yyyyyyyy", "submit_at": "8s", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] },
            { "id": "job-zzzzzzzz", "submit_at": "8200ms", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] } ]
    })));
    let calls: Vec<f64> = (0..7).flat_map(|c| rec.entered(Entity::Cvm(c), "PENDING")).collect();
    assert_eq!(calls, vec![2.0, 2.5, 3.0, 3.5, 4.0, 10.0, 10.5]);
    let starting: Vec<f64> = (0..7).flat_map(|i| rec.entered(Entity::Instance(i), "STARTING")).collect();
    assert_eq!(starting, calls, "an instance is RUNNABLE while its create call waits");
}

#[test]
fn terminate_calls_are_spaced_one_over_the_rate_apart_from_the_later_of_arrival_and_the_previous_call() {
    // terminate_rate_limit 2/s. Job A's three instances RUNNING from 92. TerminateJob at 100 with
    // 100 ms per instance asks at 100.1, 100.2, 100.3: calls (SHUTTING_DOWN) at 100.1, 100.6,
    // 101.1, FAILED 10 s later. Job B's instance (RUNNING from 92) is asked at 105: its call at
    // 105 (101.1 + 0.5 has passed), FAILED at 115.
    let (o, rec) = run(&scenario(json!({
        "backend": { "cvm": { "terminate_rate_limit": 2 }, "job_termination": { "per_instance": "100ms" } },
        "jobs": [
            { "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] },
            { "id": "job-bbbbbbbb", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] } ],
        "clients": [terminate_job("100s", "job-aaaaaaaa"), tti_job("105s", "job-bbbbbbbb", 0)]
    })));
    let calls: Vec<f64> = (0..4).flat_map(|c| rec.entered(Entity::Cvm(c), "SHUTTING_DOWN")).collect();
    assert_eq!(calls, vec![100.1, 100.6, 101.1, 105.0]);
    let done: Vec<_> = (0..4).map(|i| o.instance(i).terminated).collect();
    assert_eq!(done, vec![s(110.1), s(110.6), s(111.1), s(115.0)]);
}

// ---- §1.7c the bypass ----

#[test]
fn a_bypass_poll_at_the_very_instant_creation_completes_sees_the_cvm() {
    // Creation 88 s: created at 90, a multiple of both poll intervals (10 s, 30 s). Asked at 50
    // (registered in the bypass): the poll at 90 sees the CVM, terminate call at 90, TERMINATED
    // and FAILED at 100.
    for poll in ["10s", "30s"] {
        let (o, rec) = run(&scenario(json!({
            "backend": { "bypass": { "poll_interval": poll }, "cvm": { "creation_delay": "88s" } },
            "clients": [tti("50s", json!([0]))]
        })));
        assert_eq!(rec.entered(Entity::Cvm(0), "RUNNING"), vec![90.0], "poll {poll}");
        assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN"), vec![90.0], "poll {poll}");
        assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(100.0), s(100.0)), "poll {poll}");
    }
}

#[test]
fn a_bypass_registered_instance_stays_starting_until_its_cvm_is_terminated() {
    // Asked at 50 while its CVM is created (2..92): the poll at 100 makes the terminate call,
    // TERMINATED at 110. The instance goes STARTING at 2 → FAILED at 110, never RUNNING.
    let (o, rec) = run(&scenario(json!({ "clients": [tti("50s", json!([0]))] })));
    assert_eq!(
        state_rows(&rec, Entity::Instance(0)),
        vec![(0.0, "SUBMITTED"), (2.0, "PENDING"), (2.0, "RUNNABLE"), (2.0, "STARTING"), (110.0, "FAILED")]
    );
    assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(110.0), s(110.0)));
    // Ending the run at 105, while the CVM is SHUTTING_DOWN: still STARTING.
    let (o, rec) = run(&scenario(json!({ "horizon": "105s", "clients": [tti("50s", json!([0]))] })));
    assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN"), vec![100.0]);
    assert_eq!(row(o.instance(0)), ("STARTING", "bypass", s(50.0), None, None));
}

#[test]
fn a_bypass_registered_cvm_that_fails_to_launch_fails_the_instance_at_that_instant() {
    // Asked at 50 while its CVM is created; the creation fails at 92 (LAUNCH_FAILED): the
    // instance is FAILED at 92, path bypass, released at 92, even under "RUNNABLE" (the
    // registered termination wins over a requeue: no second CVM).
    for if_failed in ["FAILED", "RUNNABLE"] {
        let (o, rec) = run(&scenario(json!({
            "backend": { "cvm": { "creation_failure_rate": 1.0 } },
            "jobs": [{ "id": "job-aaaaaaaa", "state_if_create_cvm_failed": if_failed,
                       "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] }],
            "clients": [tti("50s", json!([0]))]
        })));
        assert_eq!(rec.entered(Entity::Cvm(0), "LAUNCH_FAILED"), vec![92.0], "{if_failed}");
        assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(92.0), s(92.0)), "{if_failed}");
        assert!(rec.entered(Entity::Cvm(1), "PENDING").is_empty(), "{if_failed}");
        assert_eq!(rec.occupancy_rows().last(), Some(&(92.0, 0, 0)), "{if_failed}");
    }
}

// ---- §1.7c requeue ----

#[test]
fn a_requeued_instance_keeps_its_place_by_submission_in_the_quota_queue() {
    // Quota 1, every creation fails, job A requeues ("RUNNABLE"). A/0 (submitted 0) creates from
    // 2; job Y (submitted 5) is RUNNABLE and waiting from 7. A/0's CVM fails at 92: A/0 is
    // RUNNABLE again and, submitted first, takes the freed quota before Y/0: creations at 2, 92,
    // 182, 272; the horizon (300 s) ends the loop. Y/0 never gets a CVM.
    let (o, rec) = run(&scenario(json!({
        "horizon": "300s",
        "backend": { "quota": { "max_cvms": 1 }, "cvm": { "creation_failure_rate": 1.0 } },
        "jobs": [
            { "id": "job-aaaaaaaa", "state_if_create_cvm_failed": "RUNNABLE",
              "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] },
            { "id": "job-yyyyyyyy", "submit_at": "5s", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] } ]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "STARTING"), vec![2.0, 92.0, 182.0, 272.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNABLE"), vec![7.0]);
    assert!(rec.entered(Entity::Instance(1), "STARTING").is_empty());
    assert_eq!(row(o.instance(1)).0, "RUNNABLE");
}

#[test]
fn a_requeued_instance_makes_its_new_create_call_at_the_back_of_the_create_call_queue() {
    // Every creation fails after 1.5 s and the job requeues; create calls at 1/s. Three instances
    // RUNNABLE at 2 (quota unlimited): queue [0, 1, 2]; calls for 0 at 2, 1 at 3.
    // 3.5: 0's CVM fails, 0 queues behind 2: [2, 0]. 4: call for 2. 4.5: 1 fails: [0, 1].
    // 5: call for 0. 5.5: 2 fails: [1, 2]. 6: call for 1. 6.5: 0 fails: [2, 0]. 7: call for 2.
    // 7.5: 1 fails: [0, 1]. 8: call for 0. 8.5: 2 fails: [1, 2]. 9: call for 1. Horizon 9.8 s.
    // (Were the requeued call put first, 0 would have its second call at 4.)
    let (_, rec) = run(&scenario(json!({
        "horizon": "9800ms",
        "backend": { "cvm": { "creation_delay": "1500ms", "creation_failure_rate": 1.0, "create_rate_limit": 1 } },
        "jobs": [{ "id": "job-aaaaaaaa", "state_if_create_cvm_failed": "RUNNABLE",
                   "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "STARTING"), vec![2.0, 5.0, 8.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "STARTING"), vec![3.0, 6.0, 9.0]);
    assert_eq!(rec.entered(Entity::Instance(2), "STARTING"), vec![4.0, 7.0]);
    assert_eq!(rec.entered(Entity::Instance(0), "RUNNABLE"), vec![2.0, 3.5, 6.5, 9.5]);
}

// ---- §1.7c named environments ----

/// One node (created 0..90), under `policy`.
fn one_node(policy: &str, tasks: Value, clients: Value) -> Value {
    scenario(json!({
        "backend": { "named_env_termination": policy },
        "environments": [{ "id": "env-k3l9x0ab", "nodes": 1 }],
        "jobs": [{ "id": "job-aaaaaaaa", "env": "env-k3l9x0ab", "tasks": tasks }],
        "clients": clients
    }))
}

#[test]
fn an_instance_that_ends_returns_its_node_to_the_pool_at_that_instant() {
    // One node, RUNNING at 90. A/0 (fails, failed_action TERMINATE) runs 90..100: FAILED at 100,
    // and B/0 takes the node at 100 (STARTING and RUNNING), SUCCEED at 110; B/1 takes it at 110,
    // SUCCEED at 120.
    let (o, rec) = run(&one_node(
        "reject",
        json!([
            { "name": "A", "instances": 1, "runtime": "10s", "failure_rate": 1.0 },
            { "name": "B", "instances": 2, "runtime": "10s" }
        ]),
        json!([]),
    ));
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED"), vec![100.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "STARTING"), vec![100.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNING"), vec![100.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "SUCCEED"), vec![110.0]);
    assert_eq!(rec.entered(Entity::Instance(2), "RUNNING"), vec![110.0]);
    assert_eq!(o.instance(2).state.as_str(), "SUCCEED");
    assert_eq!(rec.entered(Entity::Instance(2), "SUCCEED"), vec![120.0]);
}

/// Two instances that always fail, failed_action INTERRUPT, on one node.
fn interrupting_tasks() -> Value {
    json!([{ "name": "A", "instances": 2, "runtime": "10s", "failure_rate": 1.0, "failed_action": "INTERRUPT" }])
}

#[test]
fn under_reject_a_failed_interrupted_instance_keeps_its_node_for_good() {
    // A/0 runs 90..100 and is FAILED_INTERRUPTED at 100, keeping the node; the terminate at 150
    // is refused; A/1 waits RUNNABLE for ever.
    let (o, rec) = run(&one_node("reject", interrupting_tasks(), json!([tti("150s", json!([0]))])));
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED_INTERRUPTED"), vec![100.0]);
    assert_eq!(rec.calls(), vec![(150.0, 1, "UnsupportedOperation.TerminateOperationWithEnvId")]);
    assert_eq!(row(o.instance(0)), ("FAILED_INTERRUPTED", "rejected", None, None, None));
    assert!(rec.entered(Entity::Instance(1), "RUNNING").is_empty());
    assert_eq!(row(o.instance(1)).0, "RUNNABLE");
    assert!(rec.entered(Entity::Node(0), "REBOOTING").is_empty());
}

#[test]
fn under_restart_cvm_a_terminated_failed_interrupted_instance_fails_and_its_node_reboots_then_returns() {
    // A/0 FAILED_INTERRUPTED at 100 holding the node; asked at 150: FAILED at once (path
    // restart, nothing released by the instance), node REBOOTING 150..210, then RUNNING and
    // back in the pool: A/1 takes it at 210 and is FAILED_INTERRUPTED at 220.
    let (o, rec) = run(&one_node("restart_cvm", interrupting_tasks(), json!([tti("150s", json!([0]))])));
    assert_eq!(row(o.instance(0)), ("FAILED", "restart", s(150.0), s(150.0), None));
    assert_eq!(rec.entered(Entity::Node(0), "REBOOTING"), vec![150.0]);
    assert_eq!(rec.entered(Entity::Node(0), "RUNNING"), vec![90.0, 210.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNING"), vec![210.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "FAILED_INTERRUPTED"), vec![220.0]);
}

// ---- §1.7c the horizon ----

#[test]
fn events_at_exactly_the_horizon_run() {
    // Horizon 92 s: the creation completing at 92 runs (CVM and instance RUNNING), and so does a
    // call sent at 92. (The call names index 5, which does not exist, so that its answer does not
    // depend on the order of the call and the creation within the instant.)
    let (o, rec) = run(&scenario(json!({
        "horizon": "92s",
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] }],
        "clients": [tti("92s", json!([5]))]
    })));
    assert_eq!(rec.entered(Entity::Cvm(0), "RUNNING"), vec![92.0]);
    assert_eq!(rec.entered(Entity::Instance(0), "RUNNING"), vec![92.0]);
    assert_eq!(o.instance(0).state.as_str(), "RUNNING");
    assert_eq!(rec.calls(), vec![(92.0, 1, "ResourceNotFound.TaskInstance")]);
}

#[test]
fn a_call_sent_before_the_horizon_keeps_its_answer_when_the_answer_comes_after_it() {
    // Answers take 5 s; horizon 100 s. Calls at 99 and at 100 (the horizon itself) are answered
    // at 104 and 105, after the end, and both are recorded with those answers.
    let (_, rec) = run(&scenario(json!({
        "horizon": "100s",
        "backend": { "api": { "latency": "5s" } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [tti("99s", json!([0])), tti("100s", json!([1]))]
    })));
    assert_eq!(rec.calls(), vec![(99.0, 1, "ok"), (100.0, 1, "ok")]);
    let responded: Vec<f64> = rec.requests.iter().map(|r| r.responded.as_secs_f64()).collect();
    assert_eq!(responded, vec![104.0, 105.0]);
}

/// A scenario whose job(s) follow `if_failed` after a creation delay `creation` failing at `rate`.
fn launch_loop(creation: Value, rate: f64, if_failed: &[&str]) -> Value {
    let jobs: Vec<Value> = if_failed
        .iter()
        .enumerate()
        .map(|(n, state)| {
            json!({ "id": format!("job-aaaaaaa{n}"), "state_if_create_cvm_failed": state,
                    "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] })
        })
        .collect();
    scenario(json!({
        "backend": { "cvm": { "creation_delay": creation, "creation_failure_rate": rate } },
        "jobs": jobs
    }))
}

#[test]
fn a_scenario_that_would_loop_within_one_instant_for_ever_is_refused_naming_the_three_fields() {
    // Creation that can take 0 s, always failing, and a job that requeues: the model would go
    // RUNNABLE → STARTING → LAUNCH_FAILED → RUNNABLE at one instant for ever.
    let cases = [
        (json!("0s"), vec!["RUNNABLE"], "jobs[0].state_if_create_cvm_failed"),
        (json!({ "uniform": { "min": "0s", "max": "1s" } }), vec!["RUNNABLE"], "jobs[0].state_if_create_cvm_failed"),
        (json!({ "empirical": { "values": ["90s", "0s"] } }), vec!["RUNNABLE"], "jobs[0].state_if_create_cvm_failed"),
        (json!("0s"), vec!["FAILED", "RUNNABLE"], "jobs[1].state_if_create_cvm_failed"),
    ];
    for (creation, jobs, job_field) in cases {
        let message = refusal(&launch_loop(creation.clone(), 1.0, &jobs))
            .unwrap_or_else(|| panic!("creation {creation} with {jobs:?} was accepted"));
        for field in ["backend.cvm.creation_delay", "backend.cvm.creation_failure_rate", job_field] {
            assert!(message.contains(field), "creation {creation}, {jobs:?}: `{message}` does not name {field}");
        }
    }
}

#[test]
fn a_scenario_that_cannot_loop_for_ever_is_accepted() {
    // Failures not certain, a creation that cannot take 0 s, or no requeue: every run ends.
    let cases = [
        (json!("0s"), 0.5, "RUNNABLE"),
        (json!("1s"), 1.0, "RUNNABLE"),
        (json!({ "uniform": { "min": "1ms", "max": "1s" } }), 1.0, "RUNNABLE"),
        (json!("0s"), 1.0, "FAILED"),
    ];
    for (creation, rate, if_failed) in cases {
        let verdict = refusal(&launch_loop(creation.clone(), rate, &[if_failed]));
        assert_eq!(verdict, None, "creation {creation}, rate {rate}, {if_failed}");
    }
}

#[test]
fn a_launch_that_always_fails_and_requeues_with_a_positive_delay_runs_with_a_warning() {
    // Legal (each relaunch takes 1 s, so the run ends at the horizon), but the timeline grows
    // with the horizon: validate says so at the job's `state_if_create_cvm_failed`.
    let text = serde_json::to_string_pretty(&launch_loop(json!("1s"), 1.0, &["FAILED", "RUNNABLE"])).unwrap();
    let loaded = termsim::scenario::parse(&text, Path::new("test.json")).expect("accepted");
    let warned: Vec<&String> = loaded.warnings.iter().filter(|w| w.contains("relaunches")).collect();
    assert_eq!(warned.len(), 1, "{:?}", loaded.warnings);
    assert!(warned[0].contains("jobs[1].state_if_create_cvm_failed"), "{}", warned[0]);
    let text = serde_json::to_string_pretty(&launch_loop(json!("1s"), 0.5, &["RUNNABLE"])).unwrap();
    let loaded = termsim::scenario::parse(&text, Path::new("test.json")).expect("accepted");
    assert!(loaded.warnings.iter().all(|w| !w.contains("relaunches")), "{:?}", loaded.warnings);
}

#[test]
fn a_horizon_of_zero_is_refused() {
    let message = refusal(&scenario(json!({ "horizon": "0s" }))).expect("a zero horizon is refused");
    assert!(message.contains("horizon"), "{message}");
    assert!(message.contains("positive"), "{message}");
}

// ---- §1.7c TerminateJob ----

#[test]
fn terminate_job_on_a_job_already_final_is_accepted_and_its_latency_is_zero() {
    // Two 10 s instances: RUNNING 92..102, SUCCEED at 102, so the job is SUCCEED from 102.
    // TerminateJob at 200: accepted, no effect; both instances requested at 200, path no_op; in
    // the summary the job is terminated at 200 (its arrival), latency 0.
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "10s" }] }],
        "clients": [terminate_job("200s", "job-aaaaaaaa")]
    })));
    assert_eq!(rec.calls(), vec![(200.0, 1, "ok")]);
    for i in 0..2 {
        assert_eq!(row(o.instance(i)), ("SUCCEED", "no_op", s(200.0), None, None), "instance {i}");
    }
    let summary = summarise(&o).to_value();
    let job = &summary["jobs"][0];
    assert_eq!(job["final_state"], "SUCCEED");
    assert_eq!(job["terminate_requested_s"].as_f64(), Some(200.0));
    assert_eq!(job["terminated_s"].as_f64(), Some(200.0), "{job}");
    assert_eq!(job["latency_s"].as_f64(), Some(0.0), "{job}");
}

#[test]
fn terminate_job_is_in_progress_until_every_instance_is_final() {
    // Two instances RUNNING from 92. TerminateJob at 100: the walk reaches them at 101 and 102
    // (its last step), their CVMs are TERMINATED and they are FAILED at 111 and 112. A second
    // TerminateJob at 105, after the walk but before the instances are final: ResourceInUse.Job.
    // A third at 112.5, the job FAILED since 112: accepted, no effect.
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [terminate_job("100s", "job-aaaaaaaa"), terminate_job("105s", "job-aaaaaaaa"),
                    terminate_job("112.5s", "job-aaaaaaaa")]
    })));
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok"), (105.0, 1, "ResourceInUse.Job"), (112.5, 1, "ok")]);
    assert_eq!(o.jobs[0].terminate_requested, s(100.0));
    assert_eq!(o.jobs[0].terminated, s(112.0));
}

#[test]
fn a_job_whose_instances_all_succeed_before_the_walk_reaches_them_ends_succeed() {
    // Two 10 s instances, RUNNING 92..102; the walk costs 30 s per instance. TerminateJob at 95
    // would reach them at 125 and 155, but both SUCCEED at 102: the job is SUCCEED at 102, which
    // ends its termination (latency 7 s): a second TerminateJob at 110 is accepted.
    let (o, rec) = run(&scenario(json!({
        "backend": { "job_termination": { "per_instance": "30s" } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "10s" }] }],
        "clients": [terminate_job("95s", "job-aaaaaaaa"), terminate_job("110s", "job-aaaaaaaa")]
    })));
    assert_eq!(rec.calls(), vec![(95.0, 1, "ok"), (110.0, 1, "ok")]);
    assert_eq!(rec.entered(Entity::Job(0), "SUCCEED"), vec![102.0]);
    for i in 0..2 {
        assert_eq!(row(o.instance(i)), ("SUCCEED", "no_op", s(95.0), None, None), "instance {i}");
    }
    let summary = summarise(&o);
    assert_eq!(summary.jobs[0].final_state, Some("SUCCEED"));
    assert_eq!(summary.jobs[0].terminated_s, Some(102.0));
    assert_eq!(summary.jobs[0].latency_s, Some(7.0));
}

// ---- §4 outputs ----

#[test]
fn peak_cvms_counts_the_cvms_alive_at_the_end_of_an_instant() {
    // The scenario of the issue. Creation 1 s, always failing, requeued: the instance is RUNNABLE
    // at 2 (submit delay), CVM 0 PENDING at 2, LAUNCH_FAILED at 3, when CVM 1 replaces it at
    // the same instant, and so on: CVM k from 2 + k to 3 + k, the last (k = 8) from 10 (the
    // horizon). At the end of every instant from 2 to 10 one CVM is alive: peak 1.
    let (o, rec) = run(&scenario(json!({
        "horizon": "10s",
        "backend": { "cvm": { "creation_delay": "1s", "creation_failure_rate": 1.0 } },
        "jobs": [{ "id": "job-aaaaaaaa", "state_if_create_cvm_failed": "RUNNABLE",
                   "tasks": [{ "name": "A", "instances": 1, "runtime": "10s" }] }]
    })));
    for k in 0..9u32 {
        assert_eq!(rec.entered(Entity::Cvm(k), "PENDING"), vec![2.0 + f64::from(k)], "CVM {k}");
    }
    let rows = rec.occupancy_rows();
    assert_eq!(rows.len(), 9);
    assert!(rows.iter().all(|&(_, cvms, quota)| cvms == 1 && quota == 1), "{rows:?}");
    assert_eq!(o.peak_cvms, 1);
    assert_eq!(summarise(&o).peak_cvms, 1);
}

#[test]
fn counts_that_never_occurred_read_as_zero_in_expectations() {
    // Two instances RUNNING from 12 s; one accepted TerminateJob at 100 s (path cvm for both):
    // no error of any kind, no bypass, nothing FAILED_INTERRUPTED. Each of these figures is 0
    // and every expectation passes (exit 0).
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("zeros.json");
    std::fs::write(
        &scenario,
        r#"{ "name": "zeros", "backend": { "cvm": { "creation_delay": "10s" } },
             "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 2, "runtime": "1h" } ] } ],
             "clients": [ { "type": "terminate_job", "at": "100s", "job": "job-aaaaaaaa" } ],
             "expect": { "requests.by_error.RequestLimitExceeded": "<= 10",
                         "requests.by_error.InternalError": "== 0",
                         "instances.by_path.bypass": "== 0",
                         "instances.by_final_state.FAILED_INTERRUPTED": "== 0" } }"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"])
        .output()
        .expect("termsim runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for verdict in summary["expect"].as_array().unwrap() {
        assert_eq!(verdict["actual"].as_f64(), Some(0.0), "{verdict}");
        assert_eq!(verdict["passed"], true, "{verdict}");
    }
}

// ---- The model checks a configuration built by hand ----

#[test]
fn the_model_refuses_a_hand_built_configuration_it_cannot_represent_or_finish() {
    use termsim::engine::{Delay, SimTime};
    use termsim::model::config::CreateFailedState;
    use termsim::model::{Config, ConfigError, Model, NullRecorder};

    let text = serde_json::to_string(&base()).unwrap();
    let valid = termsim::scenario::parse(&text, Path::new("test.json")).unwrap().config;
    let refused = |change: &dyn Fn(&mut Config)| {
        let mut config = valid.clone();
        change(&mut config);
        Model::new(config, NullRecorder).err()
    };
    assert_eq!(refused(&|_| {}), None);
    // failed_runs is a byte: 255 retries would let the 256th failure wrap it.
    assert_eq!(
        refused(&|c| c.jobs[0].tasks[0].retry_count = 255),
        Some(ConfigError::RetryCount("job-aaaaaaaa".into(), "A".into()))
    );
    assert_eq!(refused(&|c| c.jobs[0].tasks[0].retry_count = 254), None);
    // Run events hold the instance in 24 bits.
    assert_eq!(
        refused(&|c| c.jobs[0].tasks[0].instances = (1 << 24) + 1),
        Some(ConfigError::TooManyInstances((1 << 24) + 1))
    );
    assert_eq!(refused(&|c| c.horizon = SimTime::ZERO), Some(ConfigError::Horizon));
    assert_eq!(refused(&|c| c.backend.job_termination_workers = 0), Some(ConfigError::NoWorkers));
    assert_eq!(refused(&|c| c.backend.cvm.create_rate_limit = Some(0.0)), Some(ConfigError::CvmRate));
    assert_eq!(
        refused(&|c| {
            c.backend.cvm.creation_delay = Delay::Constant(SimTime::ZERO);
            c.backend.cvm.creation_failure_rate = 1.0;
            c.jobs[0].state_if_create_cvm_failed = CreateFailedState::Runnable;
        }),
        Some(ConfigError::Loops("job-aaaaaaaa".into()))
    );
}

// ---- §1.7c Order within one instant ----

#[test]
fn a_cvm_created_at_the_instant_a_terminate_is_sent_is_terminated_by_the_cvm_path() {
    // CVM PENDING from 2 s, RUNNING at 92 s; the terminate sent at 92 s sees it RUNNING (the
    // model's state changes of an instant run before its calls): terminate call at 92, CVM
    // TERMINATED and instance FAILED at 102. Were the call first, it would go to the bypass.
    let (o, _) = run(&scenario(json!({ "clients": [tti("92s", json!([0]))] })));
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(92.0), s(102.0), s(102.0)));
}

#[test]
fn a_retry_due_at_the_instant_of_its_answer_goes_before_a_later_clients_call() {
    // Answers take 0 s and every call that passes the limit gets InternalError. Client 0's call
    // at 5 s errs, its retry is due at 5 s (backoff 0) and keeps its call's place: it takes the
    // second slot of the second [5 s, 6 s), and client 1's call is over the limit of 2.
    let (_, rec) = run(&scenario(json!({
        "backend": { "api": { "internal_error_rate": 1.0 } },
        "clients": [
            { "type": "terminate_job", "at": "5s", "job": "job-aaaaaaaa",
              "retry": { "max_attempts": 2, "base": "0s", "jitter": "none" } },
            { "type": "terminate_job", "at": "5s", "job": "job-aaaaaaaa" }
        ]
    })));
    let calls: Vec<(u32, u32, &str)> =
        rec.requests.iter().map(|r| (r.client, r.attempt, r.error.map_or("ok", |e| e.as_str()))).collect();
    assert_eq!(calls, vec![(0, 1, "InternalError"), (0, 2, "InternalError"), (1, 1, "RequestLimitExceeded")]);
}

#[test]
fn a_trace_gives_the_run_of_the_same_calls_made_by_scripted_clients() {
    // DLC task QUEUED at 0, INITIALIZING at 1, RUNNING at 2 (for 10 min). CancelTask at 3 s is
    // accepted: CANCELLED at 5 s. The second CancelTask at 5 s runs after that state change of
    // its instant and finds the task finished, whether it is a trace row or a client.
    let dlc = json!({ "tasks": [ { "id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564", "submit_at": "0s",
        "queued": "1s", "initializing": "1s", "running": "10m", "writing_data": "1s", "cancel_delay": "2s" } ] });
    let cancel =
        |at: &str| json!({ "type": "cancel_task", "at": at, "task_id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564" });
    let (_, scripted) = run(&scenario(json!({ "dlc": dlc, "clients": [cancel("3s"), cancel("5s")] })));
    let trace = "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n\
                 3,,CancelTask,,,,4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564,,\n\
                 5,,CancelTask,,,,4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564,,\n";
    let (_, traced) = run_beside(
        &scenario(json!({ "dlc": dlc, "clients": [ { "type": "trace", "csv": "calls.csv" } ] })),
        &[("calls.csv", trace)],
    );
    let expected = vec![(3.0, 1, "ok"), (5.0, 1, "InvalidParameter.TaskAlreadyFinished")];
    assert_eq!(scripted.calls(), expected);
    assert_eq!(traced.calls(), expected);
    assert_eq!(scripted.rows, traced.rows, "the same timeline");
}

// ---- The schema states the per-field rules validate applies ----

#[test]
fn the_schema_refuses_what_validate_refuses_field_by_field() {
    let o = Command::new(env!("CARGO_BIN_EXE_termsim")).arg("schema").output().expect("termsim runs");
    let schema: Value = serde_json::from_slice(&o.stdout).unwrap();
    let defs = &schema["$defs"];
    let minimum = |v: &Value| v["minimum"].as_u64();
    assert_eq!(schema["properties"]["jobs"]["minItems"], 1);
    assert_eq!(defs["JobFile"]["properties"]["tasks"]["minItems"], 1);
    assert_eq!(minimum(&defs["TaskFile"]["properties"]["instances"]), Some(1));
    assert_eq!(defs["TaskFile"]["properties"]["retry_count"]["maximum"], 100);
    assert_eq!(minimum(&defs["EnvironmentFile"]["properties"]["nodes"]), Some(1));
    assert_eq!(minimum(&defs["QuotaFile"]["properties"]["max_cvms"]), Some(1));
    assert_eq!(minimum(&defs["JobTerminationFile"]["properties"]["workers"]), Some(1));
    assert_eq!(minimum(&defs["RetryFile"]["properties"]["max_attempts"]), Some(1));
    for action in ["TerminateTaskInstance", "TerminateJob", "CancelTask", "CancelInvocation"] {
        assert_eq!(minimum(&defs["LimitsFile"]["properties"][action]), Some(1), "{action}");
    }
    assert_eq!(defs["TatInvocationFile"]["properties"]["instances"]["minItems"], 1);
    assert_eq!(defs["ClientFile"]["properties"]["instances"]["minItems"], 1);
    assert!(schema["properties"]["horizon"]["description"].as_str().unwrap().contains("must be positive"));
}

#[test]
fn an_explicit_empty_instance_list_on_a_cancel_invocation_client_is_bad_input() {
    let mut s = base();
    s["tat"] = json!({ "invocations": [ { "id": "inv-aaaaaaaa", "instances": ["ins-aaaaaaaa"] } ] });
    s["clients"] =
        json!([ { "type": "cancel_invocation", "at": "1s", "invocation": "inv-aaaaaaaa", "instances": [] } ]);
    let message = refusal(&s).expect("refused");
    assert!(message.contains("clients[0].instances") && message.contains("leave `instances` out"), "{message}");
    s["clients"][0].as_object_mut().unwrap().remove("instances");
    assert_eq!(refusal(&s), None, "left out, it means every task");
}
