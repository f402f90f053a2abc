//! TAT invocations and CancelInvocation against SPEC §1.9 and seed 004, with constant delays
//! worked out by hand. The invocation of these tests (unless one says otherwise) starts at 10 s
//! on two instances and its tasks spend 1 s PENDING, 2 s DELIVERING and 60 s RUNNING (timeout
//! 1 h): PENDING at 10, DELIVERING at 11, RUNNING at 13, SUCCESS at 73. A kill takes 5 s;
//! answers take 0 s (see `common::base`).

mod common;

use common::*;
use serde_json::{Value, json};
use termsim::model::Entity;

const INV: &str = "inv-aaaaaaaa";
const A: &str = "ins-aaaaaaaa";
const B: &str = "ins-bbbbbbbb";

fn tat(patch: Value, clients: Value) -> Value {
    let mut invocation = json!({ "id": INV, "at": "10s", "instances": [A, B], "pending": "1s", "delivery": "2s",
                                 "runtime": "1m", "timeout": "1h", "kill_delay": "5s" });
    merge(&mut invocation, patch);
    scenario(json!({ "tat": { "invocations": [invocation] }, "clients": clients }))
}

fn cancel(at: &str, instances: Option<Value>) -> Value {
    let mut c = json!({ "type": "cancel_invocation", "at": at, "invocation": INV });
    if let Some(i) = instances {
        c["instances"] = i;
    }
    c
}

/// `(time, state)` of every row of an entity, in order.
fn states(rec: &Rec, entity: Entity) -> Vec<(f64, &'static str)> {
    rec.rows.iter().filter(|r| r.1 == entity).map(|r| (r.0.as_secs_f64(), r.3)).collect()
}

#[test]
fn an_uncancelled_invocation_runs_and_succeeds() {
    let (_, rec) = run(&tat(json!({}), json!([])));
    let expected = vec![(10.0, "PENDING"), (11.0, "DELIVERING"), (13.0, "RUNNING"), (73.0, "SUCCESS")];
    assert_eq!(states(&rec, Entity::TatTask(0)), expected);
    assert_eq!(states(&rec, Entity::TatTask(1)), expected);
    // The invocation is PENDING until a task runs (13 s, SPEC 1.7c), not while its tasks deliver;
    // both tasks change at 10, 13 and 73 s, and the status is written once per instant.
    assert_eq!(states(&rec, Entity::TatInvocation(0)), vec![(10.0, "PENDING"), (13.0, "RUNNING"), (73.0, "SUCCESS")]);
}

#[test]
fn a_failure_rate_of_one_fails_every_task_at_the_end_of_its_run() {
    // RUNNING at 13, FAILED at 73 (cause run_failed); every task FAILED: the invocation FAILED.
    let (_, rec) = run(&tat(json!({ "failure_rate": 1.0 }), json!([])));
    assert_eq!(
        states(&rec, Entity::TatTask(0)),
        vec![(10.0, "PENDING"), (11.0, "DELIVERING"), (13.0, "RUNNING"), (73.0, "FAILED")]
    );
    assert_eq!(states(&rec, Entity::TatInvocation(0)), vec![(10.0, "PENDING"), (13.0, "RUNNING"), (73.0, "FAILED")]);
    // A run longer than the timeout ends TIMEOUT at the timeout instead (3613 s).
    let (_, rec) = run(&tat(json!({ "failure_rate": 1.0, "runtime": "2h" }), json!([])));
    assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(3613.0, "TIMEOUT")));
}

#[test]
fn the_invocation_status_is_the_one_at_the_end_of_each_instant() {
    // A cancel of both tasks at 12 s (DELIVERING): both CANCELLED at 12, and one status row for
    // the instant, PENDING -> CANCELLED (no task ever ran).
    let (_, rec) = run(&tat(json!({}), json!([cancel("12s", None)])));
    assert_eq!(states(&rec, Entity::TatInvocation(0)), vec![(10.0, "PENDING"), (12.0, "CANCELLED")]);
}

#[test]
fn a_run_longer_than_the_timeout_times_out_at_the_timeout() {
    // RUNNING at 13 for 2 h, timeout 1 h: TIMEOUT at 3613.
    let (_, rec) = run(&tat(json!({ "runtime": "2h" }), json!([])));
    assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(3613.0, "TIMEOUT")));
    assert_eq!(states(&rec, Entity::TatInvocation(0)).last(), Some(&(3613.0, "TIMEOUT")));
}

#[test]
fn a_failed_delivery_ends_deliver_failed() {
    let (_, rec) = run(&tat(json!({ "deliver_failed_rate": 1.0 }), json!([])));
    assert_eq!(
        states(&rec, Entity::TatTask(0)),
        vec![(10.0, "PENDING"), (11.0, "DELIVERING"), (13.0, "DELIVER_FAILED")]
    );
    assert_eq!(states(&rec, Entity::TatInvocation(0)).last(), Some(&(13.0, "FAILED")));
}

#[test]
fn a_delayed_delivery_waits_in_deliver_delayed_first() {
    // PENDING 10, DELIVER_DELAYED 11 for 30 s, DELIVERING 41 for 2 s, RUNNING 43, SUCCESS 103.
    let (_, rec) = run(&tat(json!({ "deliver_delayed_rate": 1.0, "deliver_delayed_extra": "30s" }), json!([])));
    assert_eq!(
        states(&rec, Entity::TatTask(0)),
        vec![(10.0, "PENDING"), (11.0, "DELIVER_DELAYED"), (41.0, "DELIVERING"), (43.0, "RUNNING"), (103.0, "SUCCESS")]
    );
}

#[test]
fn undelivered_tasks_are_cancelled_at_once() {
    // At 10.5 s both are PENDING; at 12 s both are DELIVERING: CANCELLED at the call.
    for (at, secs) in [("10500ms", 10.5), ("12s", 12.0)] {
        let (o, rec) = run(&tat(json!({}), json!([cancel(at, None)])));
        assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(secs, "CANCELLED")));
        assert_eq!(states(&rec, Entity::TatTask(1)).last(), Some(&(secs, "CANCELLED")));
        assert_eq!(states(&rec, Entity::TatInvocation(0)).last(), Some(&(secs, "CANCELLED")));
        assert_eq!((o.tat_tasks[0].cancel_requested, o.tat_tasks[0].cancelled), (s(secs), s(secs)));
    }
}

#[test]
fn running_tasks_are_cancelling_then_terminated_after_the_kill_delay() {
    let (o, rec) = run(&tat(json!({}), json!([cancel("20s", None)])));
    assert_eq!(
        states(&rec, Entity::TatTask(0)),
        vec![(10.0, "PENDING"), (11.0, "DELIVERING"), (13.0, "RUNNING"), (20.0, "CANCELLING"), (25.0, "TERMINATED")]
    );
    assert_eq!(states(&rec, Entity::TatInvocation(0))[2..], [(20.0, "CANCELLING"), (25.0, "CANCELLED")]);
    assert_eq!((o.tat_tasks[1].cancel_requested, o.tat_tasks[1].cancelled), (s(20.0), s(25.0)));
}

#[test]
fn cancelling_one_instance_leaves_the_other_and_the_invocation_is_partial_cancelled() {
    let (_, rec) = run(&tat(json!({}), json!([cancel("20s", Some(json!([A])))])));
    assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(25.0, "TERMINATED")));
    assert_eq!(states(&rec, Entity::TatTask(1)).last(), Some(&(73.0, "SUCCESS")));
    assert_eq!(
        states(&rec, Entity::TatInvocation(0))[2..],
        [(20.0, "CANCELLING"), (25.0, "RUNNING"), (73.0, "PARTIAL_CANCELLED")]
    );
}

#[test]
fn finished_tasks_are_unchanged_by_an_accepted_cancel() {
    let (o, rec) = run(&tat(json!({}), json!([cancel("100s", None)])));
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok")]);
    assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(73.0, "SUCCESS")));
    assert_eq!((o.tat_tasks[0].cancel_requested, o.tat_tasks[0].cancelled), (s(100.0), None));
}

#[test]
fn every_error_of_cancel_invocation() {
    let too_many: Vec<String> = (0..101).map(|n| format!("ins-{n:08}")).collect();
    let clients = json!([
        { "type": "cancel_invocation", "at": "20s", "invocation": "inv-TOOLONG1x" },
        { "type": "cancel_invocation", "at": "21s", "invocation": INV, "instances": too_many },
        { "type": "cancel_invocation", "at": "22s", "invocation": "inv-zzzzzzzz" },
        cancel("5s", None),
        cancel("23s", Some(json!([A, "ins-cccccccc"]))),
        cancel("24s", Some(json!(["not-an-id"]))),
    ]);
    let (_, rec) = run(&tat(json!({}), clients));
    assert_eq!(
        rec.calls(),
        vec![
            (5.0, 1, "ResourceNotFound.InvocationNotFound"),
            (20.0, 1, "InvalidParameterValue.InvalidInvocationId"),
            (21.0, 1, "InvalidParameterValue.LimitExceeded"),
            (22.0, 1, "ResourceNotFound.InvocationNotFound"),
            (23.0, 1, "InvalidParameterValue.InstanceIsNotRelatedToInvocation"),
            (24.0, 1, "InvalidParameterValue.InstanceIsNotRelatedToInvocation"),
        ]
    );
    // A refused call changes nothing: both tasks still succeed.
    assert_eq!(states(&rec, Entity::TatTask(0)).last(), Some(&(73.0, "SUCCESS")));
}

#[test]
fn cancel_invocation_is_limited_to_20_calls_per_second() {
    let clients: Vec<Value> = (0..22).map(|_| cancel("100s", None)).collect();
    let (_, rec) = run(&tat(json!({}), Value::Array(clients)));
    let answers: Vec<&str> = rec.calls().into_iter().map(|c| c.2).collect();
    assert!(answers[..20].iter().all(|a| *a == "ok"));
    assert_eq!(answers[20..], ["RequestLimitExceeded", "RequestLimitExceeded"]);
}

#[test]
fn the_outputs_name_invocation_tasks_and_list_their_cancellations() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tat.json");
    std::fs::write(&file, serde_json::to_string(&tat(json!({}), json!([cancel("20s", Some(json!([A])))]))).unwrap())
        .unwrap();
    let out = tmp.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"])
        .status()
        .unwrap();
    assert!(status.success());
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert!(timeline.contains(&format!("\n25.000000,tat_task,{INV}/{A},CANCELLING,TERMINATED,killed\n")), "{timeline}");
    assert!(timeline.contains(&format!("\n73.000000,tat_invocation,{INV},RUNNING,PARTIAL_CANCELLED,succeeded\n")));
    let cancellations = std::fs::read_to_string(out.join("cancellations.csv")).unwrap();
    assert_eq!(
        cancellations,
        format!(
            "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s\n\
             tat,{INV},{A},TERMINATED,20.000000,25.000000,5.000000\n\
             tat,{INV},{B},SUCCESS,,,\n"
        )
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["cancel_latency_s"]["tat"]["count"], 1);
    assert_eq!(summary["cancel_latency_s"]["tat"]["max"], 5.0);
}

#[test]
fn bad_invocations_in_the_scenario_are_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..101).map(|n| format!("ins-{n:08}")).collect();
    for (invocation, path) in [
        (json!({ "id": "inv-1", "instances": [A] }), "tat.invocations[0].id"),
        (json!({ "id": INV, "instances": [] }), "tat.invocations[0].instances"),
        (json!({ "id": INV, "instances": many }), "tat.invocations[0].instances"),
        (json!({ "id": INV, "instances": [A, A] }), "tat.invocations[0].instances[1]"),
        (json!({ "id": INV, "instances": ["ins-UPPER000"] }), "tat.invocations[0].instances[0]"),
    ] {
        let file = tmp.path().join("bad.json");
        let scenario = scenario(json!({ "tat": { "invocations": [invocation] } }));
        std::fs::write(&file, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_termsim"))
            .args(["validate", file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("bad.json:") && stderr.contains(path), "{path}: {stderr}");
    }
}
