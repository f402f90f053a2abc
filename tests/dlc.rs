//! DLC tasks and CancelTask against SPEC §1.8 and seed 003, with constant delays worked out by
//! hand. The task of these tests (unless one says otherwise) is submitted at 10 s and spends
//! 5 s QUEUED, 2 s INITIALIZING, 600 s RUNNING and 30 s WRITING_DATA: QUEUED at 10,
//! INITIALIZING at 15, RUNNING at 17, WRITING_DATA at 617, SUCCEEDED at 647. A cancel takes 3 s;
//! answers take 0 s (see `common::base`).

mod common;

use common::*;
use serde_json::{Value, json};
use termsim::model::Entity;

const TASK: &str = "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564";

fn dlc(task_patch: Value, clients: Value) -> Value {
    let mut task = json!({ "id": TASK, "submit_at": "10s", "queued": "5s", "initializing": "2s",
                           "running": "10m", "writing_data": "30s", "cancel_delay": "3s" });
    merge(&mut task, task_patch);
    scenario(json!({ "dlc": { "tasks": [task] }, "clients": clients }))
}

fn cancel(at: &str) -> Value {
    json!({ "type": "cancel_task", "at": at, "task_id": TASK })
}

/// `(time, state)` of every row of the DLC task, in order.
fn states(rec: &Rec) -> Vec<(f64, &'static str)> {
    rec.rows.iter().filter(|r| r.1 == Entity::DlcTask(0)).map(|r| (r.0.as_secs_f64(), r.3)).collect()
}

#[test]
fn an_uncancelled_task_goes_through_every_state_and_succeeds() {
    let (o, rec) = run(&dlc(json!({}), json!([])));
    assert_eq!(
        states(&rec),
        vec![
            (10.0, "QUEUED"),
            (15.0, "INITIALIZING"),
            (17.0, "RUNNING"),
            (617.0, "WRITING_DATA"),
            (647.0, "SUCCEEDED")
        ]
    );
    assert_eq!(o.dlc[0].cancel_requested, None);
    // The first row of a new entity has no `from`.
    let first = rec.rows.iter().find(|r| r.1 == Entity::DlcTask(0)).unwrap();
    assert_eq!((first.2, first.4), (None, "submitted"));
}

#[test]
fn a_failing_task_fails_at_the_end_of_running_without_writing_data() {
    let (_, rec) = run(&dlc(json!({ "failure_rate": 1.0 }), json!([])));
    assert_eq!(states(&rec), vec![(10.0, "QUEUED"), (15.0, "INITIALIZING"), (17.0, "RUNNING"), (617.0, "FAILED")]);
}

#[test]
fn a_running_task_cancelled_at_100s_is_cancelled_at_103s() {
    let (o, rec) = run(&dlc(json!({}), json!([cancel("100s")])));
    assert_eq!(states(&rec), vec![(10.0, "QUEUED"), (15.0, "INITIALIZING"), (17.0, "RUNNING"), (103.0, "CANCELLED")]);
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok")]);
    assert_eq!(o.dlc[0].cancel_requested, s(100.0));
    assert_eq!(o.dlc[0].cancelled, s(103.0));
}

#[test]
fn a_queued_task_is_cancelled_too_and_never_initializes() {
    // Cancelled at 11 s while QUEUED (until 15): CANCELLED at 14; the stage end at 15 finds it
    // final and does nothing.
    let (_, rec) = run(&dlc(json!({}), json!([cancel("11s")])));
    assert_eq!(states(&rec), vec![(10.0, "QUEUED"), (14.0, "CANCELLED")]);
}

#[test]
fn a_second_cancel_while_the_first_is_in_progress_is_another_request_processing() {
    // First at 100 (done 103), second at 101 and third at 102: both refused; at 104 the task has
    // ended.
    let clients = json!([cancel("100s"), cancel("101s"), cancel("102s"), cancel("104s")]);
    let (o, rec) = run(&dlc(json!({}), clients));
    assert_eq!(
        rec.calls(),
        vec![
            (100.0, 1, "ok"),
            (101.0, 1, "FailedOperation.AnotherRequestProcessing"),
            (102.0, 1, "FailedOperation.AnotherRequestProcessing"),
            (104.0, 1, "InvalidParameter.TaskAlreadyFinished"),
        ]
    );
    assert_eq!(o.dlc[0].cancel_requested, s(100.0));
}

#[test]
fn a_finished_task_cannot_be_cancelled() {
    let (_, rec) = run(&dlc(json!({}), json!([cancel("700s")])));
    assert_eq!(rec.calls(), vec![(700.0, 1, "InvalidParameter.TaskAlreadyFinished")]);
    assert_eq!(states(&rec).last(), Some(&(647.0, "SUCCEEDED")));
}

#[test]
fn a_task_that_ends_during_its_cancel_keeps_its_end() {
    // Cancelled at 645 s (takes 3 s); it succeeds at 647, before the cancel completes at 648.
    let (o, rec) = run(&dlc(json!({}), json!([cancel("645s")])));
    assert_eq!(states(&rec).last(), Some(&(647.0, "SUCCEEDED")));
    assert_eq!(o.dlc[0].cancel_requested, s(645.0));
    assert_eq!(o.dlc[0].cancelled, None);
}

#[test]
fn malformed_unknown_and_not_yet_submitted_ids_are_invalid_task_ids() {
    let clients = json!([
        { "type": "cancel_task", "at": "100s", "task_id": "not-a-uuid" },
        { "type": "cancel_task", "at": "100s", "task_id": "00000000-0000-0000-0000-000000000000" },
        cancel("5s"),
    ]);
    let (_, rec) = run(&dlc(json!({}), clients));
    assert_eq!(
        rec.calls(),
        vec![
            (5.0, 1, "InvalidParameter.InvalidTaskId"),
            (100.0, 1, "InvalidParameter.InvalidTaskId"),
            (100.0, 1, "InvalidParameter.InvalidTaskId"),
        ]
    );
}

#[test]
fn cancel_task_is_limited_to_20_calls_per_second() {
    // 25 clients cancel at 100 s: the first is accepted, 19 more pass the limit (and are told a
    // cancel is in progress), the last 5 are RequestLimitExceeded.
    let clients: Vec<Value> = (0..25).map(|_| cancel("100s")).collect();
    let (_, rec) = run(&dlc(json!({}), Value::Array(clients)));
    let answers: Vec<&str> = rec.calls().into_iter().map(|c| c.2).collect();
    assert_eq!(answers[0], "ok");
    assert!(answers[1..20].iter().all(|a| *a == "FailedOperation.AnotherRequestProcessing"));
    assert!(answers[20..].iter().all(|a| *a == "RequestLimitExceeded"));
}

#[test]
fn a_retrying_client_tries_again_after_another_request_processing_only_if_it_is_retryable() {
    // AnotherRequestProcessing is not a retryable error (§1.7a retries only RequestLimitExceeded
    // and InternalError): one attempt.
    let retry = json!({ "max_attempts": 5, "base": "1s", "max": "1s", "multiplier": 1.0, "jitter": "none" });
    let clients = json!([cancel("100s"), { "type": "cancel_task", "at": "101s", "task_id": TASK, "retry": retry }]);
    let (_, rec) = run(&dlc(json!({}), clients));
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok"), (101.0, 1, "FailedOperation.AnotherRequestProcessing")]);
}

#[test]
fn the_outputs_name_the_task_by_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("dlc.json");
    std::fs::write(&file, serde_json::to_string(&dlc(json!({}), json!([cancel("100s")]))).unwrap()).unwrap();
    let out = tmp.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"])
        .status()
        .unwrap();
    assert!(status.success());
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let rows: Vec<&str> = timeline.lines().filter(|l| l.contains("dlc_task")).collect();
    assert_eq!(rows.first(), Some(&format!("10.000000,dlc_task,{TASK},,QUEUED,submitted").as_str()));
    assert_eq!(rows.last(), Some(&format!("103.000000,dlc_task,{TASK},RUNNING,CANCELLED,cancelled").as_str()));
    let requests = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    let call = requests.lines().nth(1).unwrap();
    assert!(call.contains(&format!(",CancelTask,{TASK},1,100.000000,100.000000,ok,")), "{call}");
    // Requested at 100 s, CANCELLED at 103 s.
    let cancellations = std::fs::read_to_string(out.join("cancellations.csv")).unwrap();
    assert_eq!(
        cancellations,
        format!(
            "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s\n\
             dlc,{TASK},,CANCELLED,100.000000,103.000000,3.000000\n"
        )
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["cancel_latency_s"]["dlc"]["count"], 1);
    assert_eq!(summary["cancel_latency_s"]["dlc"]["p99"], 3.0);
}

#[test]
fn a_run_without_dlc_tasks_writes_no_cancellations_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain.json");
    std::fs::write(&file, serde_json::to_string(&scenario(json!({}))).unwrap()).unwrap();
    let out = tmp.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(out.join("instances.csv").exists() && !out.join("cancellations.csv").exists());
}

#[test]
fn a_malformed_or_repeated_task_id_in_the_scenario_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    for (tasks, path) in [
        (json!([{ "id": "4ad30ca9" }]), "dlc.tasks[0].id"),
        (json!([{ "id": TASK }, { "id": TASK }]), "dlc.tasks[1].id"),
        (json!([{ "id": TASK, "failure_rate": 2 }]), "dlc.tasks[0].failure_rate"),
    ] {
        let file = tmp.path().join("bad.json");
        std::fs::write(&file, serde_json::to_string_pretty(&scenario(json!({ "dlc": { "tasks": tasks } }))).unwrap())
            .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_termsim"))
            .args(["validate", file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("bad.json:") && stderr.contains(path), "{path}: {stderr}");
    }
}
