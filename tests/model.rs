//! The model against SPEC §1, on scenarios with constant delays whose times are worked out by
//! hand in each test. Unless a test says otherwise (see `common::base`): submit delay 2 s,
//! creation 90 s, termination 10 s, restart 60 s, no answer latency, bypass poll 10 s,
//! TerminateJob 1 s per instance, one worker, no quota limit.
//!
//! So a lone instance is SUBMITTED at 0, PENDING and RUNNABLE at 2, STARTING at 2 (CVM PENDING),
//! RUNNING at 92 (CVM RUNNING).

mod common;

use common::*;
use serde_json::json;
use termsim::model::Entity;

// ---- §1.4 TerminateTaskInstance, path by path ----

#[test]
fn a_submitted_instance_terminated_at_1s_is_failed_at_1s() {
    let (o, _) = run(&scenario(json!({ "clients": [tti("1s", json!([0]))] })));
    assert_eq!(row(o.instance(0)), ("FAILED", "immediate", s(1.0), s(1.0), None));
}

#[test]
fn a_pending_instance_is_failed_at_once() {
    // B depends on A (runs 1 h), so B stays PENDING from 2 s; terminated at 10 s.
    let (o, _) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [
            { "name": "A", "instances": 1, "runtime": "1h" },
            { "name": "B", "instances": 1, "runtime": "1h", "depends_on": ["A"] } ] }],
        "clients": [{ "type": "terminate_task_instances", "at": "10s", "job": "job-aaaaaaaa", "task": "B", "indices": [0] }]
    })));
    assert_eq!(row(o.instance(1)), ("FAILED", "immediate", s(10.0), s(10.0), None));
}

#[test]
fn a_runnable_instance_waiting_for_quota_is_failed_at_once_and_never_gets_a_cvm() {
    // Quota 1: instance 0 holds it from 2 s; instance 1 waits RUNNABLE; terminated at 10 s.
    let (o, rec) = run(&scenario(json!({
        "backend": { "quota": { "max_cvms": 1 } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [tti("10s", json!([1]))]
    })));
    assert_eq!(row(o.instance(1)), ("FAILED", "immediate", s(10.0), s(10.0), None));
    assert!(rec.entered(Entity::Instance(1), "STARTING").is_empty());
    assert_eq!(o.peak_cvms, 1);
}

#[test]
fn a_succeeded_instance_is_a_no_op() {
    // Runs 92..102 s, SUCCEED at 102; asked at 200 s.
    let (o, _) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "10s" }] }],
        "clients": [tti("200s", json!([0]))]
    })));
    assert_eq!(row(o.instance(0)), ("SUCCEED", "no_op", s(200.0), None, None));
}

#[test]
fn a_running_instance_loses_its_cvm_first_then_fails() {
    // RUNNING at 92; asked at 100: terminate call 100, CVM TERMINATED and instance FAILED at 110.
    let (o, rec) = run(&scenario(json!({ "clients": [tti("100s", json!([0]))] })));
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(100.0), s(110.0), s(110.0)));
    assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN"), vec![100.0]);
    assert_eq!(rec.entered(Entity::Cvm(0), "TERMINATED"), vec![110.0]);
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED"), vec![110.0]);
}

#[test]
fn a_starting_instance_goes_through_the_bypass_at_the_next_poll() {
    // STARTING from 2 s, asked at 50 s: registered in the bypass. Created at 92, next poll at 100,
    // terminate call at 100, TERMINATED and FAILED at 110.
    let (o, rec) = run(&scenario(json!({ "clients": [tti("50s", json!([0]))] })));
    assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(110.0), s(110.0)));
    assert_eq!(rec.entered(Entity::Cvm(0), "RUNNING"), vec![92.0]);
    assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN"), vec![100.0]);
    assert!(rec.entered(Entity::Instance(0), "RUNNING").is_empty(), "the run never starts");
}

#[test]
fn the_bypass_poll_interval_sets_when_the_cvm_is_terminated() {
    let released = |poll: &str, creation: &str| {
        let (o, _) = run(&scenario(json!({
            "backend": { "bypass": { "poll_interval": poll }, "cvm": { "creation_delay": creation } },
            "clients": [tti("50s", json!([0]))]
        })));
        o.instance(0).released
    };
    // Created at 92: "0s" terminates at once (92 + 10); 30 s polls at 120 (+10).
    assert_eq!(released("0s", "90s"), s(102.0));
    assert_eq!(released("30s", "90s"), s(130.0));
    // Created at exactly 90 (2 + 88): the poll at 90 sees it, call at 90, released at 100.
    assert_eq!(released("10s", "88s"), s(100.0));
}

#[test]
fn a_bypassed_cvm_that_fails_to_launch_releases_at_its_launch_failure() {
    // Asked at 50 s while creating; the creation fails at 92: nothing to terminate, FAILED at 92.
    let (o, _) = run(&scenario(json!({
        "backend": { "cvm": { "creation_failure_rate": 1.0 } },
        "clients": [tti("50s", json!([0]))]
    })));
    assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(92.0), s(92.0)));
}

#[test]
fn a_second_request_for_an_instance_being_terminated_changes_nothing() {
    // Asked at 100 and again at 105 (during the 10 s termination): still released at 110, and
    // the request time stays the first one.
    let (o, rec) = run(&scenario(json!({ "clients": [tti("100s", json!([0])), tti("105s", json!([0]))] })));
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(100.0), s(110.0), s(110.0)));
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok"), (105.0, 1, "ok")]);
    assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN").len(), 1);
}

#[test]
fn api_errors_of_terminate_task_instance() {
    let (o, rec) = run(&scenario(json!({ "clients": [
        { "type": "terminate_task_instances", "at": "100s", "job": "job-BAD", "task": "A", "indices": [0] },
        { "type": "terminate_task_instances", "at": "100s", "job": "job-zzzzzzzz", "task": "A", "indices": [0] },
        { "type": "terminate_task_instances", "at": "101s", "job": "job-aaaaaaaa", "task": "Z", "indices": [0] },
        { "type": "terminate_task_instances", "at": "101s", "job": "job-aaaaaaaa", "task": "A", "indices": [1] }
    ] })));
    assert_eq!(
        rec.calls(),
        vec![
            (100.0, 1, "InvalidParameter.JobIdMalformed"),
            (100.0, 1, "ResourceNotFound.TaskInstance"),
            (101.0, 1, "ResourceNotFound.TaskInstance"),
            (101.0, 1, "ResourceNotFound.TaskInstance"),
        ]
    );
    assert_eq!(row(o.instance(0)).1, "none", "a request that errs has no effect");
}

// ---- failed runs, FAILED_INTERRUPTED ----

#[test]
fn failed_interrupted_keeps_its_cvm_until_terminated() {
    // Every run fails; one retry on the same CVM: runs 92..102, 102..112, then INTERRUPT:
    // FAILED_INTERRUPTED at 112 with the CVM still RUNNING. Asked at 200: terminate call at 200,
    // CVM TERMINATED and instance FAILED at 210.
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "10s",
                   "failure_rate": 1.0, "retry_count": 1, "failed_action": "INTERRUPT" }] }],
        "clients": [tti("200s", json!([0]))]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED_INTERRUPTED"), vec![112.0]);
    assert_eq!(rec.entered(Entity::Instance(0), "RUNNING"), vec![92.0, 102.0], "the retry is a RUNNING row");
    assert_eq!(rec.entered(Entity::Cvm(0), "SHUTTING_DOWN"), vec![200.0]);
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(200.0), s(210.0), s(210.0)));
    assert_eq!(o.instance(0).failed_runs, 2);
}

#[test]
fn failed_with_terminate_action_ends_failed_and_frees_its_cvm() {
    // Fails at 102 with no retry: FAILED at 102, CVM terminated 102..112; a later request is a no-op.
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 1, "runtime": "10s", "failure_rate": 1.0 }] }],
        "clients": [tti("200s", json!([0]))]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "FAILED"), vec![102.0]);
    assert_eq!(rec.entered(Entity::Cvm(0), "TERMINATED"), vec![112.0]);
    assert_eq!(row(o.instance(0)), ("FAILED", "no_op", s(200.0), None, None));
}

#[test]
fn a_failed_launch_fails_the_instance_or_requeues_it() {
    // FAILED (default): LAUNCH_FAILED at 92 and the instance FAILED at 92.
    let (o, rec) = run(&scenario(json!({ "backend": { "cvm": { "creation_failure_rate": 1.0 } } })));
    assert_eq!(rec.entered(Entity::Cvm(0), "LAUNCH_FAILED"), vec![92.0]);
    assert_eq!(row(o.instance(0)), ("FAILED", "none", None, None, None));
    // RUNNABLE: back to RUNNABLE and a new CVM each time: creations start at 2, 92, 182, 272;
    // the horizon (300 s) stops it with the instance STARTING.
    let (o, rec) = run(&scenario(json!({
        "horizon": "300s",
        "backend": { "cvm": { "creation_failure_rate": 1.0 } },
        "jobs": [{ "id": "job-aaaaaaaa", "state_if_create_cvm_failed": "RUNNABLE",
                   "tasks": [{ "name": "A", "instances": 1, "runtime": "1h" }] }]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "STARTING"), vec![2.0, 92.0, 182.0, 272.0]);
    assert_eq!(o.instance(0).state.as_str(), "STARTING");
}

// ---- §1.5 TerminateJob ----

#[test]
fn terminate_job_walks_instances_one_per_instance_cost() {
    // 3 instances of A and 2 of B, all RUNNING from 92. TerminateJob at 100: the k-th instance
    // (A/0, A/1, A/2, B/0, B/1) gets its terminate call at 100 + k, FAILED 10 s later:
    // 111, 112, 113, 114, 115. The job is FAILED at 115 (latency 15 s).
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [
            { "name": "A", "instances": 3, "runtime": "1h" }, { "name": "B", "instances": 2, "runtime": "1h" } ] }],
        "clients": [terminate_job("100s", "job-aaaaaaaa")]
    })));
    for (i, done) in [111.0, 112.0, 113.0, 114.0, 115.0].into_iter().enumerate() {
        assert_eq!(row(o.instance(i)), ("FAILED", "cvm", s(100.0), s(done), s(done)), "instance {i}");
    }
    assert_eq!(o.jobs[0].terminated, s(115.0));
    assert_eq!(rec.entered(Entity::Job(0), "FAILED"), vec![115.0]);
}

#[test]
fn terminate_job_applies_each_path_by_the_state_at_its_step() {
    // Quota 2 for 3 instances: 0 and 1 STARTING from 2 s, 2 RUNNABLE. TerminateJob at 50:
    // step 1 at 51 (instance 0 STARTING → bypass), step 2 at 52 (instance 1 → bypass),
    // step 3 at 53 (instance 2 RUNNABLE → immediate, FAILED at 53).
    // Created at 92, polled at 100, TERMINATED and FAILED at 110.
    let (o, _) = run(&scenario(json!({
        "backend": { "quota": { "max_cvms": 2 } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }],
        "clients": [terminate_job("50s", "job-aaaaaaaa")]
    })));
    assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(110.0), s(110.0)));
    assert_eq!(row(o.instance(1)), ("FAILED", "bypass", s(50.0), s(110.0), s(110.0)));
    assert_eq!(row(o.instance(2)), ("FAILED", "immediate", s(50.0), s(53.0), None));
    assert_eq!(o.jobs[0].terminated, s(110.0));
}

#[test]
fn job_termination_workers_serve_jobs_in_fifo_order() {
    // One worker. Job X (3 instances) and job Y (2) asked at 100: X walks 101, 102, 103; the worker
    // is free at 103, so Y's instances get their calls at 104 and 105 (FAILED at 114 and 115).
    let jobs = json!([
        { "id": "job-xxxxxxxx", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] },
        { "id": "job-yyyyyyyy", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] } ]);
    let (o, _) = run(&scenario(json!({
        "jobs": jobs.clone(),
        "clients": [terminate_job("100s", "job-xxxxxxxx"), terminate_job("100s", "job-yyyyyyyy")]
    })));
    assert_eq!(o.instance(3).terminated, s(114.0));
    assert_eq!(o.instance(4).terminated, s(115.0));
    assert_eq!(o.jobs[1].terminated, s(115.0));
    // Two workers: Y starts at 100 too, so its instances go at 101 and 102.
    let (o, _) = run(&scenario(json!({
        "backend": { "job_termination": { "workers": 2 } },
        "jobs": jobs,
        "clients": [terminate_job("100s", "job-xxxxxxxx"), terminate_job("100s", "job-yyyyyyyy")]
    })));
    assert_eq!(o.instance(4).terminated, s(112.0));
}

#[test]
fn terminate_job_answers_by_job_state() {
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [
            terminate_job("1s", "job-aaaaaaaa"),      // SUBMITTED: refused
            terminate_job("100s", "job-aaaaaaaa"),    // accepted
            terminate_job("101.5s", "job-aaaaaaaa"),  // in progress (done at 112)
            terminate_job("200s", "job-aaaaaaaa"),    // FAILED already: accepted, no effect
            terminate_job("201s", "job-AAAAAAAA"),
            terminate_job("201s", "job-zzzzzzzz")
        ]
    })));
    assert_eq!(
        rec.calls(),
        vec![
            (1.0, 1, "UnsupportedOperation"),
            (100.0, 1, "ok"),
            (101.5, 1, "ResourceInUse.Job"),
            (200.0, 1, "ok"),
            (201.0, 1, "InvalidParameter.JobIdMalformed"),
            (201.0, 1, "ResourceNotFound.Job"),
        ]
    );
    assert_eq!(o.jobs[0].terminate_requested, s(100.0));
    assert_eq!(o.jobs[0].terminated, s(112.0));
}

// ---- named environments ----

fn named(policy: &str, clients: serde_json::Value) -> serde_json::Value {
    scenario(json!({
        "backend": { "named_env_termination": policy },
        "environments": [{ "id": "env-k3l9x0ab", "nodes": 1 }],
        "jobs": [{ "id": "job-aaaaaaaa", "env": "env-k3l9x0ab",
                   "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": clients
    }))
}

#[test]
fn named_environment_under_reject_refuses_both_actions() {
    // The node is created 0..90; instance 0 runs from 90. Both calls are refused.
    let (o, rec) = run(&named("reject", json!([tti("100s", json!([0])), terminate_job("100s", "job-aaaaaaaa")])));
    assert_eq!(
        rec.calls(),
        vec![
            (100.0, 1, "UnsupportedOperation.TerminateOperationWithEnvId"),
            (100.0, 1, "UnsupportedOperation.TerminateOperationWithEnvId"),
        ]
    );
    assert_eq!(row(o.instance(0)), ("SUCCEED", "rejected", None, None, None));
    assert_eq!(rec.entered(Entity::Instance(0), "RUNNING"), vec![90.0]);
}

#[test]
fn named_environment_under_restart_cvm_fails_at_once_and_restarts_the_node() {
    // One node, RUNNING at 90: instance 0 runs from 90, instance 1 waits. Asked at 100:
    // instance 0 FAILED at 100; the node REBOOTING 100..160, then instance 1 takes it at 160.
    let (o, rec) = run(&named("restart_cvm", json!([tti("100s", json!([0]))])));
    assert_eq!(row(o.instance(0)), ("FAILED", "restart", s(100.0), s(100.0), None));
    assert_eq!(rec.entered(Entity::Node(0), "REBOOTING"), vec![100.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNING"), vec![160.0]);
}

// ---- §1.7 rate limits ----

#[test]
fn fixed_window_lets_two_calls_per_whole_second() {
    // Calls at 0.8, 0.9, 1.0, 1.1, 1.2 (rate 10/s): the window [0,1) takes 2, [1,2) takes 2.
    let (_, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 5, "runtime": "1h" }] }],
        "clients": [{ "type": "terminate_task_instances", "at": "800ms", "job": "job-aaaaaaaa", "task": "A",
                      "indices": "all", "rate": 10 }]
    })));
    let outcomes: Vec<_> = rec.calls().into_iter().map(|c| c.2).collect();
    assert_eq!(outcomes, ["ok", "ok", "ok", "ok", "RequestLimitExceeded"]);
}

#[test]
fn token_bucket_refills_two_tokens_per_second() {
    // Calls every 100 ms from 0.5 s. Bucket of 2 full at 0: 0.5 ok (1 left), 0.6 ok (0.2 left),
    // 0.7, 0.8, 0.9 refused (0.4, 0.6, 0.8 tokens), 1.0 ok (1.0 token), 1.1, 1.2, 1.3, 1.4
    // refused, 1.5 ok.
    let (_, rec) = run(&scenario(json!({
        "backend": { "api": { "rate_limit": "token_bucket" } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 11, "runtime": "1h" }] }],
        "clients": [{ "type": "terminate_task_instances", "at": "500ms", "job": "job-aaaaaaaa", "task": "A",
                      "indices": "all", "rate": 10 }]
    })));
    let accepted: Vec<f64> = rec.calls().into_iter().filter(|c| c.2 == "ok").map(|c| c.0).collect();
    assert_eq!(accepted, vec![0.5, 0.6, 1.0, 1.5]);
}

#[test]
fn rate_limits_are_per_account() {
    // Two clients at 0 s sending 3 calls each at 10/s: each account gets its own 2 per second.
    let client = |account: &str| {
        json!({ "type": "terminate_task_instances", "at": "0s", "job": "job-aaaaaaaa",
        "task": "A", "indices": [0, 1, 2], "rate": 10, "account": account })
    };
    let (_, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }],
        "clients": [client("alice"), client("bob")]
    })));
    let refused = rec.calls().into_iter().filter(|c| c.2 == "RequestLimitExceeded").count();
    assert_eq!(refused, 2);
}

// ---- §1.7a retries ----

#[test]
fn retries_follow_the_backoff_schedule_without_jitter() {
    // Every admitted call is an InternalError; answers take 100 ms; backoff min(3 s, 1 s × 2^(n-1)).
    // Attempt 1 at 0, answer 0.1, +1 s → attempt 2 at 1.1, answer 1.2, +2 s → attempt 3 at 3.2,
    // answer 3.3, +3 s (capped) → attempt 4 at 6.3; max_attempts 4 ends it.
    let (_, rec) = run(&scenario(json!({
        "backend": { "api": { "latency": "100ms", "internal_error_rate": 1.0 } },
        "clients": [{ "type": "terminate_task_instances", "at": "0s", "job": "job-aaaaaaaa", "task": "A", "indices": [0],
                      "retry": { "max_attempts": 4, "base": "1s", "max": "3s", "multiplier": 2, "jitter": "none" } }]
    })));
    assert_eq!(
        rec.calls(),
        vec![
            (0.0, 1, "InternalError"),
            (1.1, 2, "InternalError"),
            (3.2, 3, "InternalError"),
            (6.3, 4, "InternalError")
        ]
    );
    assert_eq!(rec.requests[3].responded.as_secs_f64(), 6.4);
}

#[test]
fn a_rate_limited_call_is_retried_and_succeeds_in_the_next_window() {
    // Limit 1/s; calls for indices 0, 1, 7 at 0.0, 0.5, 1.0. Index 1 is refused at 0.5 (the
    // window [0,1) is used), answered at 0.5, retried after 1 s at 1.5; but the call for index 7
    // at 1.0 used the window [1,2) (a ResourceNotFound still counts), so attempt 2 is refused too
    // and attempt 3 goes 2 s later, at 3.5: ok. The final error for index 7 is not retried.
    let (o, rec) = run(&scenario(json!({
        "backend": { "api": { "limits": { "TerminateTaskInstance": 1 } } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [{ "type": "terminate_task_instances", "at": "0s", "job": "job-aaaaaaaa", "task": "A", "indices": [0, 1, 7],
                      "rate": 2, "retry": { "base": "1s", "jitter": "none" } }]
    })));
    assert_eq!(
        rec.calls(),
        vec![
            (0.0, 1, "ok"),
            (0.5, 1, "RequestLimitExceeded"),
            (1.0, 1, "ResourceNotFound.TaskInstance"),
            (1.5, 2, "RequestLimitExceeded"),
            (3.5, 3, "ok"),
        ]
    );
    // At 3.5 the instance is STARTING (since 2 s): bypass, created 92, polled 100, FAILED 110.
    assert_eq!(row(o.instance(1)), ("FAILED", "bypass", s(3.5), s(110.0), s(110.0)));
}

// ---- quota, backend call queues, dependencies ----

#[test]
fn quota_is_granted_fifo_and_skips_instances_that_stopped_waiting() {
    // Quota 1, three 10 s instances. Instance 0: CVM 2..92, runs 92..102, CVM terminated 102..112.
    // Instance 1 is terminated at 50 while waiting, so instance 2 gets the quota at 112.
    let (_, rec) = run(&scenario(json!({
        "backend": { "quota": { "max_cvms": 1 } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "10s" }] }],
        "clients": [tti("50s", json!([1]))]
    })));
    assert_eq!(rec.entered(Entity::Instance(0), "STARTING"), vec![2.0]);
    assert_eq!(rec.entered(Entity::Instance(2), "STARTING"), vec![112.0]);
    // Without the termination instance 1 would go at 112 and instance 2 at 222.
    let (_, rec) = run(&scenario(json!({
        "backend": { "quota": { "max_cvms": 1 } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "10s" }] }]
    })));
    assert_eq!(rec.entered(Entity::Instance(1), "STARTING"), vec![112.0]);
    assert_eq!(rec.entered(Entity::Instance(2), "STARTING"), vec![222.0]);
}

#[test]
fn backend_cvm_calls_wait_their_turn() {
    // Create calls at 1/s: made at 2, 3, 4 → RUNNING at 92, 93, 94. Terminate calls at 1/s:
    // TerminateJob at 100 walks 101, 102, 103; calls made at 101, 102, 103 → FAILED 111..113.
    // With 0.5 terminate calls/s they are made at 101, 103, 105 → FAILED at 111, 113, 115.
    let run_with = |terminate_rate: f64| {
        run(&scenario(json!({
            "backend": { "cvm": { "create_rate_limit": 1, "terminate_rate_limit": terminate_rate } },
            "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 3, "runtime": "1h" }] }],
            "clients": [terminate_job("100s", "job-aaaaaaaa")]
        })))
    };
    let (o, rec) = run_with(1.0);
    let running: Vec<f64> = (0..3).flat_map(|i| rec.entered(Entity::Instance(i), "RUNNING")).collect();
    assert_eq!(running, vec![92.0, 93.0, 94.0]);
    assert_eq!(o.instance(2).terminated, s(113.0));
    let (o, _) = run_with(0.5);
    let done: Vec<_> = (0..3).map(|i| o.instance(i).terminated).collect();
    assert_eq!(done, vec![s(111.0), s(113.0), s(115.0)]);
}

#[test]
fn a_task_starts_when_its_dependencies_succeed() {
    // A runs 92..102; B depends on A: RUNNABLE and STARTING at 102, RUNNING at 192.
    let (_, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [
            { "name": "A", "instances": 1, "runtime": "10s" },
            { "name": "B", "instances": 1, "runtime": "10s", "depends_on": ["A"] } ] }]
    })));
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNABLE"), vec![102.0]);
    assert_eq!(rec.entered(Entity::Instance(1), "RUNNING"), vec![192.0]);
}

#[test]
fn a_failed_predecessor_fails_its_dependents_down_the_dag() {
    // A fails at 102; B (after A) and C (after B) are FAILED at 102 too.
    let (o, rec) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [
            { "name": "A", "instances": 1, "runtime": "10s", "failure_rate": 1.0 },
            { "name": "B", "instances": 2, "runtime": "10s", "depends_on": ["A"] },
            { "name": "C", "instances": 1, "runtime": "10s", "depends_on": ["B"] } ] }]
    })));
    for i in 1..4 {
        assert_eq!(rec.entered(Entity::Instance(i), "FAILED"), vec![102.0], "instance {i}");
    }
    assert!(rec.rows.iter().any(|r| r.1 == Entity::Instance(3) && r.4 == "dependency_failed"));
    assert_eq!(o.jobs[0].state.map(|s| s.as_str()), Some("FAILED"));
}

#[test]
fn answers_arrive_after_the_api_latency() {
    let (_, rec) = run(&scenario(json!({
        "backend": { "api": { "latency": "250ms" } },
        "clients": [tti("100s", json!([0]))]
    })));
    assert_eq!(rec.requests[0].responded.as_secs_f64(), 100.25);
}

#[test]
fn summary_figures_follow_the_instances() {
    // Two instances terminated at 100 (cvm, released 110) and at 1 (immediate).
    let (o, _) = run(&scenario(json!({
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "1h" }] }],
        "clients": [tti("1s", json!([1])), tti("100s", json!([0]))]
    })));
    let summary = termsim::output::summary::summarise(&o);
    assert_eq!(summary.termination_latency_s.count, 2);
    assert_eq!(summary.termination_latency_s.max, Some(10.0));
    assert_eq!(summary.release_latency_s.count, 1);
    assert_eq!(summary.sim_end_s, 110.0);
    assert_eq!(summary.peak_cvms, 1);
    // Quota held from the first accepted request (1 s): instance 0's CVM from 2 to 110 → 108
    // CVM-seconds.
    assert_eq!(summary.quota_cvm_seconds_after_request, Some(108.0));
}

#[test]
fn a_second_terminate_job_after_the_job_ended_does_not_move_the_request_time() {
    // Two 60 s instances, RUNNING 92..152 (creation 90 s); walk 30 s per instance, one worker.
    // TerminateJob at 120: A/0 at 150 (cvm, FAILED 160); A/1 ends SUCCEED at 152, so the job is
    // FAILED at 160; the walk reaches A/1 at 180. A second TerminateJob at 170 is accepted with
    // no effect: A/1 stays covered by the first request (120), path no_op.
    let (o, rec) = run(&scenario(json!({
        "backend": { "job_termination": { "per_instance": "30s" } },
        "jobs": [{ "id": "job-aaaaaaaa", "tasks": [{ "name": "A", "instances": 2, "runtime": "60s" }] }],
        "clients": [terminate_job("120s", "job-aaaaaaaa"), terminate_job("170s", "job-aaaaaaaa")]
    })));
    assert_eq!(rec.calls(), vec![(120.0, 1, "ok"), (170.0, 1, "ok")]);
    assert_eq!(row(o.instance(0)), ("FAILED", "cvm", s(120.0), s(160.0), s(160.0)));
    assert_eq!(row(o.instance(1)), ("SUCCEED", "no_op", s(120.0), None, None));
}

#[test]
fn quota_goes_by_submission_not_by_when_an_instance_became_runnable() {
    // Quota 1. Job X (submitted at 0): A runs 92..102, its CVM is terminated 102..112; B depends
    // on A and is RUNNABLE from 102. Job Y (submitted at 5) is RUNNABLE from 7. When the quota
    // frees at 112 it goes to X/B (submitted first): STARTING at 112, RUNNING 202..212, CVM
    // gone at 222, and only then Y/0 starts.
    let (_, rec) = run(&scenario(json!({
        "backend": { "quota": { "max_cvms": 1 } },
        "jobs": [
            { "id": "job-xxxxxxxx", "tasks": [
                { "name": "A", "instances": 1, "runtime": "10s" },
                { "name": "B", "instances": 1, "runtime": "10s", "depends_on": ["A"] } ] },
            { "id": "job-yyyyyyyy", "submit_at": "5s", "tasks": [{ "name": "A", "instances": 1, "runtime": "10s" }] } ]
    })));
    assert_eq!(rec.entered(Entity::Instance(1), "STARTING"), vec![112.0]);
    assert_eq!(rec.entered(Entity::Instance(2), "STARTING"), vec![222.0]);
}
