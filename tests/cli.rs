//! The `termsim` command as users run it: determinism of the outputs, exit codes, the output
//! contract of SPEC §4, and the example scenarios.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn termsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_termsim")).args(args).output().expect("termsim runs")
}

fn run_default(dir: &Path, extra: &[&str]) -> Output {
    let out = dir.to_str().unwrap();
    let mut args = vec!["run", "--out", out, "-q"];
    args.extend_from_slice(extra);
    let o = termsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

const DETERMINISTIC: [&str; 5] = ["timeline.csv", "requests.csv", "instances.csv", "occupancy.csv", "summary.json"];

/// Every chart of a run with its timeline.
const CHARTS: [&str; 12] = [
    "charts/progress.png",
    "charts/progress.svg",
    "charts/termination-latency-cdf.png",
    "charts/termination-latency-cdf.svg",
    "charts/release-latency-cdf.png",
    "charts/release-latency-cdf.svg",
    "charts/api-calls.png",
    "charts/api-calls.svg",
    "charts/instance-states.png",
    "charts/instance-states.svg",
    "charts/job-termination.png",
    "charts/job-termination.svg",
];

#[test]
fn the_same_scenario_and_seed_give_the_same_bytes_and_another_seed_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    run_default(&a, &[]);
    run_default(&b, &[]);
    run_default(&c, &["--seed", "43"]);
    for file in DETERMINISTIC.iter().chain(&CHARTS) {
        let (x, y) = (fs::read(a.join(file)).unwrap(), fs::read(b.join(file)).unwrap());
        assert!(x == y, "{file} differs between two runs of the same scenario");
        assert_ne!(x, fs::read(c.join(file)).unwrap(), "{file} is the same under another seed");
    }
}

#[test]
fn outputs_have_the_columns_of_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    run_default(tmp.path(), &[]);
    let first_line = |f: &str| fs::read_to_string(tmp.path().join(f)).unwrap().lines().next().unwrap().to_owned();
    assert_eq!(first_line("timeline.csv"), "time_s,entity,id,from,to,cause");
    assert_eq!(
        first_line("requests.csv"),
        "request_id,client,account,action,target,attempt,sent_s,responded_s,outcome,error_code"
    );
    assert_eq!(
        first_line("instances.csv"),
        "job_id,task,index,env,final_state,path,terminate_requested_s,terminated_s,released_s,termination_latency_s,release_latency_s"
    );
    assert_eq!(first_line("occupancy.csv"), "time_s,cvms_alive,quota_in_use");
    let instances = fs::read_to_string(tmp.path().join("instances.csv")).unwrap();
    assert_eq!(instances.lines().count(), 1 + 3400, "one row per task instance");
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    let keys: Vec<&str> = summary.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "scenario",
        "seed",
        "sim_end_s",
        "events",
        "instances",
        "termination_latency_s",
        "release_latency_s",
        "jobs",
        "requests",
        "peak_cvms",
        "quota_cvm_seconds_after_request",
        "expect",
    ] {
        assert!(keys.contains(&key), "summary.json lacks {key}");
    }
    // sim_end_s is the time of the last timeline row.
    let timeline = fs::read_to_string(tmp.path().join("timeline.csv")).unwrap();
    let last_time: f64 = timeline.lines().last().unwrap().split(',').next().unwrap().parse().unwrap();
    assert_eq!(summary["sim_end_s"].as_f64(), Some(last_time));
    // The default scenario terminates by every anonymous path and hits the 2/s limit.
    for path in ["bypass", "cvm"] {
        assert!(summary["instances"]["by_path"][path].as_u64().unwrap() > 0, "no {path} path");
    }
    assert!(summary["requests"]["by_error"]["RequestLimitExceeded"].as_u64().unwrap() > 0);
    let run: serde_json::Value = serde_json::from_slice(&fs::read(tmp.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(run["events"], summary["events"]);
    // The phases add up to the whole run (each is measured between the same instants), and the
    // rate is over the event loop alone, so it is at least the end-to-end rate.
    let phases: f64 = run["phases_s"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
    let wall = run["wall_time_s"].as_f64().unwrap();
    assert!(phases > 0.0 && (phases - wall).abs() < 1e-6, "phases {phases} s, wall {wall} s");
    let rate = run["events_per_second"].as_f64().unwrap();
    let simulation = run["phases_s"]["simulation"].as_f64().unwrap();
    assert!((rate * simulation - summary["events"].as_f64().unwrap()).abs() < 1.0);
    assert!(rate >= run["events_per_second_end_to_end"].as_f64().unwrap());
}

#[test]
fn no_timeline_skips_only_the_timeline() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, lean) = (tmp.path().join("full"), tmp.path().join("lean"));
    run_default(&full, &[]);
    run_default(&lean, &["--no-timeline"]);
    assert!(!lean.join("timeline.csv").exists());
    for file in ["requests.csv", "instances.csv", "occupancy.csv", "summary.json"] {
        assert_eq!(fs::read(full.join(file)).unwrap(), fs::read(lean.join(file)).unwrap(), "{file}");
    }
}

#[test]
fn a_rerun_replaces_results_but_never_a_folder_that_is_not_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_default(&out, &[]);
    run_default(&out, &[]);
    let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("out")], "no staging folder is left behind");

    let precious = tmp.path().join("precious");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("thesis.tex"), "do not delete").unwrap();
    let o = termsim(&["run", "--out", precious.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(precious.join("thesis.tex").exists());
}

#[test]
fn a_failed_expectation_exits_1_and_still_writes_the_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("strict.json");
    fs::write(
        &scenario,
        r#"{ "name": "strict", "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 2, "runtime": "1h" } ] } ],
             "clients": [ { "type": "terminate_job", "at": "100s", "job": "job-aaaaaaaa" } ],
             "expect": { "termination_latency_s.max": "< 1", "instances.total": "== 2" } }"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = termsim(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("FAIL  termination_latency_s.max < 1"), "{stderr}");
    assert!(stderr.contains("pass  instances.total == 2"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    let verdicts = summary["expect"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2);
    assert!(verdicts.iter().any(|v| v["passed"] == false && v["metric"] == "termination_latency_s.max"));
}

/// SPEC §4: a count of a kind that never occurred is 0 wherever a figure is read; a misspelt
/// code is no figure, and fails.
#[test]
fn an_expectation_on_a_count_that_never_occurred_reads_0() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("calm.json");
    fs::write(
        &scenario,
        r#"{ "name": "calm", "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 2, "runtime": "1h" } ] } ],
             "clients": [ { "type": "terminate_job", "at": "100s", "job": "job-aaaaaaaa" } ],
             "expect": { "requests.by_error.RequestLimitExceeded": "<= 10", "instances.by_path.restart": "== 0" } }"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = termsim(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("pass  requests.by_error.RequestLimitExceeded <= 10  (got 0)"), "{stderr}");

    let text = fs::read_to_string(&scenario).unwrap().replace("RequestLimitExceeded", "RequestLimitExceded");
    fs::write(&scenario, text).unwrap();
    let o = termsim(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--no-charts"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FAIL  requests.by_error.RequestLimitExceded <= 10  (got null)"), "{stderr}");
}

#[test]
fn every_example_scenario_validates_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        seen += 1;
        let p = path.to_str().unwrap();
        let v = termsim(&["validate", p]);
        assert!(v.status.success(), "{p}: {}", String::from_utf8_lossy(&v.stderr));
        let out = tmp.path().join(path.file_stem().unwrap());
        let r = termsim(&["run", p, "--out", out.to_str().unwrap(), "-q", "--no-timeline"]);
        assert_eq!(r.status.code(), Some(0), "{p}: {}", String::from_utf8_lossy(&r.stderr));
    }
    assert!(seen >= 5, "the examples are missing");
}

#[test]
fn the_built_in_default_equals_scenarios_default_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_default(&a, &[]);
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/default.json");
    let o = termsim(&["run", file, "--out", b.to_str().unwrap(), "-q"]);
    assert!(o.status.success());
    assert_eq!(fs::read(a.join("instances.csv")).unwrap(), fs::read(b.join("instances.csv")).unwrap());
}

#[test]
fn validate_warns_about_erroneous_callers_but_accepts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("callers.json");
    fs::write(
        &scenario,
        r#"{ "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 2, "runtime": "1h" } ] } ],
             "clients": [ { "type": "terminate_job", "at": "1s", "job": "job-nothere" },
                          { "type": "terminate_task_instances", "job": "job-aaaaaaaa", "task": "A", "indices": [5] } ] }"#,
    )
    .unwrap();
    let o = termsim(&["validate", scenario.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("clients[0].job: warning"), "{stderr}");
    assert!(stderr.contains("clients[1].indices: warning"), "{stderr}");
}

#[test]
fn schema_describes_the_scenario_format() {
    let o = termsim(&["schema"]);
    assert!(o.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in ["name", "seed", "horizon", "backend", "environments", "jobs", "clients", "expect"] {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
    assert_eq!(schema["additionalProperties"], false, "unknown fields are errors");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(termsim(&["run", "--bogus"]).status.code(), Some(2));
    assert_eq!(termsim(&["validate", "/nonexistent/scenario.json"]).status.code(), Some(2));
}

/// `results/default/` holds the reference outputs of the default scenario. A change that alters
/// them changes the model's behaviour or the output contract: regenerate them deliberately with
/// `cargo run --release -- run` and say why in the commit.
#[test]
fn the_committed_reference_outputs_match_a_fresh_run() {
    let tmp = tempfile::tempdir().unwrap();
    run_default(tmp.path(), &[]);
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/default");
    for file in DETERMINISTIC.iter().chain(&CHARTS) {
        let fresh = fs::read(tmp.path().join(file)).unwrap();
        let committed = fs::read(reference.join(file)).unwrap();
        assert!(fresh == committed, "results/default/{file} differs from a fresh run of the default scenario");
    }
}
