//! Calls added while a run goes on (`Model::push_call`, what `termsim serve` does with each call
//! it receives) give exactly the run of the same calls as a trace known from the start: the
//! contract that lets a served session be replayed byte for byte (SPEC §7).

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use termsim::engine::SimTime;
use termsim::model::Model;
use termsim::model::config::{ClientKind, TraceRow};

mod common;
use common::Rec;

/// Constant delays: the job is known at 2 s, instances wait 90 s for their CVMs (quota 3, so
/// three wait longer), run 1 h; a scripted client terminates indices 0-2 from 92 s, the instant
/// the first CVMs are created, at 1 call/s; TerminateTaskInstance is limited to 2/s.
fn scenario(trace: &str) -> (Value, String) {
    let s = json!({
        "seed": 3,
        "horizon": "2h",
        "backend": {
            "api": { "latency": "50ms", "limits": { "TerminateTaskInstance": 2 } },
            "cvm": { "creation_delay": "90s", "termination_delay": "10s" },
            "quota": { "max_cvms": 3 },
            "submit_delay": "2s",
            "bypass": { "poll_interval": "10s" },
            "job_termination": { "per_instance": "1s", "workers": 1 }
        },
        "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 6, "runtime": "1h" } ] } ],
        "dlc": { "tasks": [ { "id": "00000000-0000-4000-8000-000000000001", "queued": "5s", "running": "10m" } ] },
        "clients": [
            { "type": "terminate_task_instances", "name": "scripted", "at": "92s", "job": "job-aaaaaaaa",
              "task": "A", "indices": [0, 1, 2], "rate": 1 },
            { "type": "trace", "name": "session", "csv": "session.csv" }
        ]
    });
    (s, trace.to_owned())
}

/// Rows at the instants that matter: before the job is known (0 s), at the job's submission
/// (2 s), together with the first CVMs and the scripted client's first call (92 s), several at
/// one instant over the 2/s limit (93 s), during the scripted client's calls, a TerminateJob
/// while instances are still in the bypass, and a call at an instant of its walk (96.05 s), whose
/// event there is scheduled only after the upfront trace put the call on its agenda.
const TRACE: &str = "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids
0,,TerminateTaskInstance,job-aaaaaaaa,A,3,,,
2,,TerminateTaskInstance,job-aaaaaaaa,A,5,,,
92,,TerminateTaskInstance,job-aaaaaaaa,A,3,,,
92,other,CancelTask,,,,00000000-0000-4000-8000-000000000001,,
93,,TerminateTaskInstance,job-aaaaaaaa,A,4,,,
93,,TerminateTaskInstance,job-aaaaaaaa,A,4,,,
93,,TerminateTaskInstance,job-aaaaaaaa,A,1,,,
93.05,,TerminateJob,job-aaaaaaaa,,,,,
96.05,,TerminateTaskInstance,job-aaaaaaaa,A,0,,,
120,,TerminateJob,job-bbbbbbbb,,,,,
";

fn load(scenario: &Value, trace: &str) -> (tempfile::TempDir, termsim::scenario::Scenario) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("session.csv"), trace).unwrap();
    let text = serde_json::to_string_pretty(scenario).unwrap();
    let loaded = termsim::scenario::parse(&text, &dir.path().join("s.json")).unwrap_or_else(|e| panic!("{e}"));
    (dir, loaded)
}

fn summary(outcome: &termsim::model::Outcome) -> Value {
    serde_json::to_value(termsim::output::summary::summarise(outcome)).unwrap()
}

#[test]
fn calls_pushed_as_they_come_run_exactly_as_the_same_trace_known_from_the_start() {
    let (s, trace) = scenario(TRACE);
    let (_dir, upfront) = load(&s, &trace);
    let mut model = Model::new(upfront.config.clone(), Rec::default()).unwrap();
    model.run().unwrap();
    let (expected, expected_rec) = model.finish();

    // The same scenario with the session's rows taken out, then pushed one by one at their time,
    // after the model ran every event due up to then, as `termsim serve` does.
    let mut config = upfront.config.clone();
    let session = config.clients.len() as u32 - 1;
    let ClientKind::Trace { rows } = &mut config.clients[session as usize].kind else { panic!("a trace") };
    let pushed: Vec<TraceRow> = rows.iter().cloned().collect();
    *rows = Arc::new(Vec::new());
    let mut model = Model::new(config, Rec::default()).unwrap();
    for row in pushed {
        model.run_until(row.at).unwrap();
        model.push_call(session, row);
    }
    model.run_until(SimTime::from_secs(7200)).unwrap();
    model.end_run();
    let (live, live_rec) = model.finish();

    assert_eq!(live_rec.rows, expected_rec.rows, "timeline");
    assert_eq!(format!("{:?}", live_rec.requests), format!("{:?}", expected_rec.requests), "requests");
    assert_eq!(live_rec.occupancy, expected_rec.occupancy, "occupancy");
    assert_eq!(summary(&live), summary(&expected), "summary, `events` included");
    let reports = |o: &termsim::model::Outcome| o.instance_reports().map(|r| format!("{r:?}")).collect::<Vec<_>>();
    assert_eq!(reports(&live), reports(&expected));

    // The run is the one worked out by hand, so the equality above is not that of two empty runs.
    // 0 s and 2 s: index 3 (job SUBMITTED) and 5 (PENDING) fail at once. 92 s: the scripted call
    // (index 0), then the session's: index 3 again (already final: no effect, ok) and CancelTask,
    // which has its own limit. 93 s: the scripted call (index 1) goes first, index 4 fills the
    // 2/s window, the next two are throttled. 93.05 s: TerminateJob; 94 s: the scripted index 2;
    // 96.05 s: index 0 again (its CVM is being terminated: ok); 120 s: an unknown job.
    let ok = "ok";
    let limited = "RequestLimitExceeded";
    let expected_calls = [
        (0.0, 1, ok),
        (2.0, 1, ok),
        (92.0, 1, ok),
        (92.0, 1, ok),
        (92.0, 1, ok),
        (93.0, 1, ok),
        (93.0, 1, ok),
        (93.0, 1, limited),
        (93.0, 1, limited),
        (93.05, 1, ok),
        (94.0, 1, ok),
        (96.05, 1, ok),
        (120.0, 1, "ResourceNotFound.Job"),
    ];
    assert_eq!(expected_rec.calls(), expected_calls);
    let clients: Vec<u32> = expected_rec.requests.iter().map(|r| r.client).collect();
    assert_eq!(clients, [1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1], "the scripted client goes first at 92 s and 93 s");
}

#[test]
fn pushed_calls_are_written_to_requests_csv_like_trace_rows() {
    // Through the CSV recorder: the writer thread learns each pushed call before its request.
    let (s, trace) = scenario(TRACE);
    let (dir, upfront) = load(&s, &trace);
    let options = |out: &Path| termsim::RunOptions {
        out: out.to_owned(),
        timeline: true,
        charts: false,
        progress: false,
        format: Default::default(),
    };
    let expected = dir.path().join("expected");
    termsim::run_to_dir(&upfront, &options(&expected)).unwrap();

    let mut config = upfront.config.clone();
    let session = config.clients.len() as u32 - 1;
    let ClientKind::Trace { rows } = &mut config.clients[session as usize].kind else { panic!("a trace") };
    let pushed: Vec<TraceRow> = rows.iter().cloned().collect();
    *rows = Arc::new(Vec::new());
    let live_dir = dir.path().join("live");
    std::fs::create_dir(&live_dir).unwrap();
    let recorder =
        termsim::output::StreamRecorder::create(&live_dir, &config, true, false, Default::default()).unwrap();
    let mut model = Model::new(config, recorder).unwrap();
    for row in pushed {
        model.run_until(row.at).unwrap();
        model.push_call(session, row);
    }
    model.run_until(SimTime::from_secs(7200)).unwrap();
    model.end_run();
    let (_, recorder) = model.finish();
    recorder.finish().unwrap();
    for file in ["requests.csv", "timeline.csv", "occupancy.csv"] {
        let a = std::fs::read_to_string(expected.join(file)).unwrap();
        let b = std::fs::read_to_string(live_dir.join(file)).unwrap();
        assert!(a == b, "{file} differs:\n{a}\n---\n{b}");
    }
    assert!(std::fs::read_to_string(expected.join("requests.csv")).unwrap().contains(",session,other,CancelTask,"));
}

/// The Describe calls (SPEC §7) as trace rows: the lookup rules of `model::target`, worked out
/// by hand, their own limits, and no effect on anything but the limiter.
#[test]
fn describe_calls_answer_by_their_rules_and_change_nothing() {
    let trace = "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids
0,,DescribeJob,job-aaaaaaaa,,,,,
1,,DescribeJob,job-aaaaaaaa,,,,,
1,,DescribeJob,job-bad,,,,,
1,,DescribeJob,job-bbbbbbbb,,,,,
1,,DescribeTask,job-aaaaaaaa,B,,,,
1,,DescribeTask,job-aaaaaaaa,A,,,,
2,,DescribeJobs,,,,,,
2,,DescribeJobs,job-aaaaaaaa;job-bbbbbbbb,,,,,
2,,DescribeJobs,,,,,,
3,,DescribeJobs,job-aaaaaaaa;nope,,,,,
3,,DescribeTaskResult,,,,x,,
3,,DescribeTaskResult,,,,00000000-0000-4000-8000-000000000009,,
3,,DescribeTasks,,,,,,
3,,DescribeInvocations,,,,,inv-bad!,
3,,DescribeInvocationTasks,,,,,,ins-00000001
";
    let (mut s, _) = scenario(trace);
    s["jobs"][0]["submit_at"] = json!("500ms");
    s["clients"] = json!([{ "type": "trace", "name": "session", "csv": "session.csv" }]);
    let (_dir, with) = load(&s, trace);
    let mut model = Model::new(with.config.clone(), Rec::default()).unwrap();
    model.run().unwrap();
    let (_, rec) = model.finish();
    let calls: Vec<&str> = rec.calls().iter().map(|c| c.2).collect();
    assert_eq!(
        calls,
        [
            "ResourceNotFound.Job", // 0 s: the job is submitted at 0.5 s
            "ok",
            "InvalidParameter.JobIdMalformed",
            "ResourceNotFound.Job",
            "ResourceNotFound.Task",
            "ok",
            "ok",
            "ok",
            "RequestLimitExceeded", // DescribeJobs: 2/s
            "InvalidParameter.JobIdMalformed",
            "InvalidParameter.InvalidTaskId",
            "ok", // an unknown DLC task: answered with no task
            "ok",
            "InvalidParameterValue.InvalidInvocationId",
            "ok",
        ]
    );

    let mut without = s.clone();
    without["clients"] = json!([]);
    let (_dir2, without) = load(&without, "");
    let mut model = Model::new(without.config, Rec::default()).unwrap();
    model.run().unwrap();
    let (_, quiet) = model.finish();
    assert_eq!(rec.rows, quiet.rows, "Describe calls change no state");
    assert_eq!(rec.occupancy, quiet.occupancy);
}
