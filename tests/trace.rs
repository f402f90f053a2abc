//! Trace replay (SPEC §2, the `trace` client): a CSV of timed calls of all four actions, with
//! constant delays worked out by hand.
//!
//! The world of these tests (see `common::base`): answers take 0 s; job `job-aaaaaaaa` has
//! three instances of task A, each STARTING from 2 s (CVM created at 92) and RUNNING from 92 for
//! 1 h; a CVM terminates in 10 s; the bypass polls every 10 s; TerminateJob costs 1 s per
//! instance. DLC task `TASK` is QUEUED at 10, INITIALIZING at 15, RUNNING from 17; a cancel
//! takes 3 s. TAT invocation `INV` on instances A and B starts at 10: PENDING 10, DELIVERING 11,
//! RUNNING 13, SUCCESS at 73; a kill takes 5 s.

mod common;

use std::process::Command;

use common::*;
use serde_json::{Value, json};
use termsim::model::{Action, Entity};

const TASK: &str = "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564";
const INV: &str = "inv-aaaaaaaa";
const A: &str = "ins-aaaaaaaa";
const B: &str = "ins-bbbbbbbb";
const HEADER: &str = "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n";

fn world(clients: Value) -> Value {
    scenario(json!({
        "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 3, "runtime": "1h" } ] } ],
        "dlc": { "tasks": [ { "id": TASK, "submit_at": "10s", "queued": "5s", "initializing": "2s",
                              "running": "10m", "writing_data": "30s", "cancel_delay": "3s" } ] },
        "tat": { "invocations": [ { "id": INV, "at": "10s", "instances": [A, B], "pending": "1s", "delivery": "2s",
                                    "runtime": "1m", "timeout": "1h", "kill_delay": "5s" } ] },
        "clients": clients
    }))
}

/// A scenario whose one client replays `rows` (written after the header as `trace.csv`).
fn replay(client: Value, rows: &str) -> (termsim::model::Outcome, Rec) {
    let mut trace = json!({ "type": "trace", "csv": "trace.csv" });
    merge(&mut trace, client);
    run_beside(&world(json!([trace])), &[("trace.csv", &format!("{HEADER}{rows}"))])
}

fn states(rec: &Rec, entity: Entity) -> Vec<(f64, &'static str)> {
    rec.rows.iter().filter(|r| r.1 == entity).map(|r| (r.0.as_secs_f64(), r.3)).collect()
}

#[test]
fn a_trace_replays_every_action_at_its_row_time() {
    let rows = format!(
        "20,,CancelInvocation,,,,,{INV},{A}\n\
         30,,CancelInvocation,,,,,{INV},\n\
         50,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n\
         100,,CancelTask,,,,{TASK},,\n\
         100,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n\
         101,,CancelTask,,,,{TASK},,\n\
         200,,TerminateJob,job-aaaaaaaa,,,,,\n"
    );
    let (o, rec) = replay(json!({}), &rows);
    assert_eq!(
        rec.calls(),
        vec![
            (20.0, 1, "ok"),
            (30.0, 1, "ok"),
            (50.0, 1, "ok"),
            (100.0, 1, "ok"),
            (100.0, 1, "ok"),
            (101.0, 1, "FailedOperation.AnotherRequestProcessing"),
            (200.0, 1, "ok"),
        ]
    );
    let actions: Vec<Action> = rec.requests.iter().map(|r| r.action).collect();
    use Action::*;
    assert_eq!(
        actions,
        [
            CancelInvocation,
            CancelInvocation,
            TerminateTaskInstance,
            CancelTask,
            TerminateTaskInstance,
            CancelTask,
            TerminateJob
        ]
    );
    // The row at 20 names A only: CANCELLING at 20, TERMINATED at 25. The row at 30 names none,
    // so all: B, RUNNING, is CANCELLING at 30 and TERMINATED at 35; A is already being killed.
    assert_eq!(states(&rec, Entity::TatTask(0))[3..], [(20.0, "CANCELLING"), (25.0, "TERMINATED")]);
    assert_eq!(states(&rec, Entity::TatTask(1))[3..], [(30.0, "CANCELLING"), (35.0, "TERMINATED")]);
    assert_eq!(states(&rec, Entity::TatInvocation(0)).last(), Some(&(35.0, "CANCELLED")));
    // CancelTask at 100 while RUNNING: CANCELLED at 103; the one at 101 finds it in progress.
    assert_eq!(states(&rec, Entity::DlcTask(0)).last(), Some(&(103.0, "CANCELLED")));
    // Instance 0, STARTING at 50: bypass, created at 92, polled at 100, FAILED at 110.
    // Instance 1, RUNNING at 100: its CVM terminates 100..110.
    // Instance 2 by the TerminateJob at 200: the walk reaches it third, at 203; FAILED at 213.
    assert_eq!(row(o.instance(0)), ("FAILED", "bypass", s(50.0), s(110.0), s(110.0)));
    assert_eq!(row(o.instance(1)), ("FAILED", "cvm", s(100.0), s(110.0), s(110.0)));
    assert_eq!(row(o.instance(2)), ("FAILED", "cvm", s(200.0), s(213.0), s(213.0)));
}

#[test]
fn a_trace_runs_exactly_as_the_clients_it_spells_out() {
    // The same calls, once as four scripted clients and once as a trace. The answer latency is
    // random here: both runs draw it in the same call order, so every row must be the same.
    let patch = |mut s: Value| {
        merge(&mut s, json!({ "backend": { "api": { "latency": { "uniform": { "min": "10ms", "max": "900ms" } } } } }));
        s
    };
    let clients = json!([
        { "type": "cancel_invocation", "at": "12s", "invocation": INV, "instances": [B] },
        { "type": "cancel_task", "at": "40s", "task_id": TASK },
        { "type": "terminate_task_instances", "at": "95s", "job": "job-aaaaaaaa", "task": "A", "indices": [2, 0], "rate": 0.5 },
        { "type": "terminate_job", "at": "300s", "job": "job-aaaaaaaa" },
    ]);
    let (scripted_outcome, scripted) = run(&patch(world(clients)));
    let rows = format!(
        "{HEADER}12,,CancelInvocation,,,,,{INV},{B}\n40,,CancelTask,,,,{TASK},,\n\
         95,,TerminateTaskInstance,job-aaaaaaaa,A,2,,,\n97,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n\
         300,,TerminateJob,job-aaaaaaaa,,,,,\n"
    );
    let (traced_outcome, traced) =
        run_beside(&patch(world(json!([{ "type": "trace", "csv": "t.csv" }]))), &[("t.csv", &rows)]);
    assert_eq!(traced.rows, scripted.rows);
    let strip = |rec: &Rec| -> Vec<_> {
        rec.requests.iter().map(|r| (r.action, r.sent, r.responded, r.attempt, r.error)).collect()
    };
    assert_eq!(strip(&traced), strip(&scripted));
    assert_eq!(traced.requests.len(), 5);
    for i in 0..3 {
        assert_eq!(row(traced_outcome.instance(i)), row(scripted_outcome.instance(i)));
    }
}

#[test]
fn each_row_spends_the_rate_limit_of_its_own_account() {
    // Three TerminateTaskInstance at 5 s, at 2 calls/s per account. All from the client's
    // account: the third is refused. With the second row from `ops`: all pass.
    let rows = |second: &str| {
        format!(
            "5,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n5,{second},TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n\
             5,,TerminateTaskInstance,job-aaaaaaaa,A,2,,,\n"
        )
    };
    let (_, rec) = replay(json!({}), &rows(""));
    assert_eq!(rec.calls(), vec![(5.0, 1, "ok"), (5.0, 1, "ok"), (5.0, 1, "RequestLimitExceeded")]);
    let (_, rec) = replay(json!({}), &rows("ops"));
    assert_eq!(rec.calls(), vec![(5.0, 1, "ok"), (5.0, 1, "ok"), (5.0, 1, "ok")]);
    // A row naming the client's own account is the client's account.
    let (_, rec) = replay(json!({ "account": "ops" }), &rows("ops"));
    assert_eq!(rec.calls()[2], (5.0, 1, "RequestLimitExceeded"));
}

#[test]
fn refused_rows_are_retried_by_the_clients_policy() {
    // The third call at 5 s is refused; answered at once, it waits 0.5 s (base, no jitter): at 5.5
    // the window [5, 6) is still full, so it waits 1 s more and passes at 6.5.
    let rows = "5,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n5,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n\
                5,,TerminateTaskInstance,job-aaaaaaaa,A,2,,,\n";
    let (o, rec) = replay(json!({ "retry": { "jitter": "none" } }), rows);
    assert_eq!(
        rec.calls(),
        vec![
            (5.0, 1, "ok"),
            (5.0, 1, "ok"),
            (5.0, 1, "RequestLimitExceeded"),
            (5.5, 2, "RequestLimitExceeded"),
            (6.5, 3, "ok")
        ]
    );
    assert_eq!(o.instance(2).terminate_requested, s(6.5));
}

#[test]
fn a_retry_due_with_a_later_row_goes_first_as_separate_clients_would() {
    // 1 call/s, retries 400 ms then 800 ms apart. Index 0 at 0.5 is accepted; index 1 at 0.6 is
    // refused and due again at 1.0, with index 2's first call. The earlier row goes first: index 1
    // takes the window [1, 2), index 2 is refused, again at 1.4, and passes at 2.2.
    let limit = json!({ "backend": { "api": { "limits": { "TerminateTaskInstance": 1 } } } });
    let retry = json!({ "max_attempts": 3, "base": "400ms", "jitter": "none" });
    let mut traced = world(json!([{ "type": "trace", "csv": "t.csv", "retry": retry }]));
    merge(&mut traced, limit.clone());
    let rows = format!(
        "{HEADER}0.5,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n0.6,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n\
         1.0,,TerminateTaskInstance,job-aaaaaaaa,A,2,,,\n"
    );
    let (_, rec) = run_beside(&traced, &[("t.csv", &rows)]);
    let expected = vec![
        (0.5, 1, "ok"),
        (0.6, 1, "RequestLimitExceeded"),
        (1.0, 2, "ok"),
        (1.0, 1, "RequestLimitExceeded"),
        (1.4, 2, "RequestLimitExceeded"),
        (2.2, 3, "ok"),
    ];
    assert_eq!(rec.calls(), expected);
    let client = |at: &str, index: u32| json!({ "type": "terminate_task_instances", "at": at, "job": "job-aaaaaaaa", "task": "A", "indices": [index], "retry": retry });
    let mut scripted = world(json!([client("0.5s", 0), client("0.6s", 1), client("1s", 2)]));
    merge(&mut scripted, limit);
    assert_eq!(run(&scripted).1.calls(), expected);
}

#[test]
fn the_clients_at_shifts_every_row() {
    let rows = format!("0,,CancelTask,,,,{TASK},,\n2.5,,CancelTask,,,,{TASK},,\n");
    let (_, rec) = replay(json!({ "at": "100s" }), &rows);
    assert_eq!(rec.calls(), vec![(100.0, 1, "ok"), (102.5, 1, "FailedOperation.AnotherRequestProcessing")]);
}

#[test]
fn rows_due_together_go_in_file_order_and_after_the_clients_listed_before() {
    // Row order within the trace, and client order in the file, decide who gets the last of the
    // 2 calls/s at 5 s.
    let trace = || json!({ "type": "trace", "csv": "t.csv" });
    let other =
        json!({ "type": "terminate_task_instances", "at": "5s", "job": "job-aaaaaaaa", "task": "A", "indices": [2] });
    let rows =
        format!("{HEADER}5,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,\n5,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n");
    let (_, rec) = run_beside(&world(json!([trace(), other.clone()])), &[("t.csv", &rows)]);
    let order: Vec<(u32, &str)> =
        rec.requests.iter().map(|r| (r.client, r.error.map_or("ok", |e| e.as_str()))).collect();
    assert_eq!(order, [(0, "ok"), (0, "ok"), (1, "RequestLimitExceeded")]);
    let (_, rec) = run_beside(&world(json!([other, trace()])), &[("t.csv", &rows)]);
    let order: Vec<(u32, &str)> =
        rec.requests.iter().map(|r| (r.client, r.error.map_or("ok", |e| e.as_str()))).collect();
    assert_eq!(order, [(0, "ok"), (1, "ok"), (1, "RequestLimitExceeded")]);
}

#[test]
fn erroneous_rows_get_the_apis_errors() {
    let many: Vec<String> = (0..101).map(|n| format!("ins-{n:08}")).collect();
    let rows = format!(
        "100,,TerminateJob,job-BAD,,,,,\n\
         101,,TerminateJob,job-zzzzzzzz,,,,,\n\
         102,,TerminateTaskInstance,job-aaaaaaaa,Z,0,,,\n\
         103,,TerminateTaskInstance,job-aaaaaaaa,A,-1,,,\n\
         104,,CancelTask,,,,not-a-uuid,,\n\
         105,,CancelTask,,,,00000000-0000-4000-8000-000000000000,,\n\
         106,,CancelInvocation,,,,,inv-zzzzzzzz,\n\
         107,,CancelInvocation,,,,,{INV},{}\n\
         108,,CancelInvocation,,,,,{INV},{A};ins-cccccccc\n\
         109,,CancelInvocation,,,,,inv-X,\n",
        many.join(";")
    );
    let (o, rec) = replay(json!({}), &rows);
    let errors: Vec<&str> = rec.calls().into_iter().map(|c| c.2).collect();
    assert_eq!(
        errors,
        [
            "InvalidParameter.JobIdMalformed",
            "ResourceNotFound.Job",
            "ResourceNotFound.TaskInstance",
            "ResourceNotFound.TaskInstance",
            "InvalidParameter.InvalidTaskId",
            "InvalidParameter.InvalidTaskId",
            "ResourceNotFound.InvocationNotFound",
            "InvalidParameterValue.LimitExceeded",
            "InvalidParameterValue.InstanceIsNotRelatedToInvocation",
            "InvalidParameterValue.InvalidInvocationId",
        ]
    );
    assert!(o.instance_reports().all(|i| i.terminate_requested.is_none()), "a refused call has no effect");
}

#[test]
fn the_outputs_show_each_rows_account_and_target_and_validate_warns_with_the_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = world(json!([{ "type": "trace", "name": "replayer", "account": "acct-a", "csv": "trace.csv" }]));
    std::fs::write(tmp.path().join("s.json"), serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
    let rows = format!(
        "{HEADER}100,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,\n\
         100,\"ops, night\",TerminateJob,job-aaaaaaaa,,,,,\n\
         101,,CancelTask,,,,{TASK},,\n\
         102,ops,CancelInvocation,,,,,{INV},{A};{B}\n\
         103,,TerminateTaskInstance,job-aaaaaaaa,A,7,,,\n"
    );
    std::fs::write(tmp.path().join("trace.csv"), rows).unwrap();
    let termsim = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_termsim")).args(args).current_dir(tmp.path()).output().unwrap()
    };

    let validate = termsim(&["validate", "s.json"]);
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert!(validate.status.success(), "{stderr}");
    // Line 6 of the file (the header is line 1), column 43: `7` follows the 42 characters of
    // `103,,` (5), `TerminateTaskInstance,` (22), `job-aaaaaaaa,` (13) and `A,` (2).
    assert!(
        stderr.contains("trace.csv:6:43: clients[0].csv: warning: column `index`: index 7 is outside 0..2"),
        "{stderr}"
    );

    let run = termsim(&["run", "s.json", "--out", "out", "-q", "--no-charts"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let requests = std::fs::read_to_string(tmp.path().join("out/requests.csv")).unwrap();
    let cells: Vec<Vec<String>> = requests
        .lines()
        .skip(1)
        .map(|l| {
            let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(l.as_bytes());
            let record = r.records().next().unwrap().unwrap();
            [1, 2, 3, 4, 9].iter().map(|&c| record[c].to_owned()).collect()
        })
        .collect();
    assert_eq!(
        cells,
        [
            ["replayer", "acct-a", "TerminateTaskInstance", "job-aaaaaaaa/A/1", ""],
            ["replayer", "ops, night", "TerminateJob", "job-aaaaaaaa", ""],
            ["replayer", "acct-a", "CancelTask", TASK, ""],
            ["replayer", "ops", "CancelInvocation", INV, ""],
            ["replayer", "acct-a", "TerminateTaskInstance", "job-aaaaaaaa/A/7", "ResourceNotFound.TaskInstance"],
        ]
        .map(|r| r.map(str::to_owned).to_vec())
    );
    assert!(requests.contains("\"ops, night\""), "an account with a comma is quoted: {requests}");
}

#[test]
fn an_unknown_first_column_after_a_bom_is_refused_at_line_1_column_1() {
    // Found by fuzzing: the BOM's three bytes were taken off a cell that starts at byte 0.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "\u{feff}t_s,a\n").unwrap();
    let scenario = world(json!([ { "type": "trace", "csv": "t.csv" } ]));
    let text = serde_json::to_string(&scenario).unwrap();
    let e = termsim::scenario::parse(&text, &dir.path().join("s.json")).expect_err("an unknown column").to_string();
    assert!(e.contains("t.csv:1:1: clients[0].csv: unknown column `t_s`"), "{e}");
}
