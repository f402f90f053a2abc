//! `termsim sweep` and `termsim merge` as users run them: shards merged back equal the whole
//! sweep byte for byte, whatever N and `--jobs`; common random numbers; bad sweep files.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::assert_same_tree;

fn termsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_termsim")).args(args).output().expect("termsim runs")
}

fn ok(args: &[&str]) {
    let o = termsim(args);
    assert!(o.status.success(), "termsim {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps").join(name).to_str().unwrap().to_owned()
}

#[test]
fn shards_merged_back_equal_the_whole_sweep_whatever_n_and_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = example("rate-limit-vs-strategy.json");
    let whole = tmp.path().join("whole");
    ok(&["sweep", &sweep, "--out", whole.to_str().unwrap(), "--jobs", "2", "-q"]);
    let expected = ["points.csv", "sweep.csv", "sweep.json"];
    for file in expected {
        assert!(whole.join(file).is_file(), "{file}");
    }
    assert_eq!(fs::read_to_string(whole.join("sweep.csv")).unwrap().lines().count(), 1 + 40);

    for (n, jobs) in [(1, "1"), (3, "2"), (7, "1")] {
        let mut shards = Vec::new();
        for k in 1..=n {
            let dir = tmp.path().join(format!("n{n}-shard{k}"));
            let shard = format!("{k}/{n}");
            ok(&["sweep", &sweep, "--shard", &shard, "--out", dir.to_str().unwrap(), "--jobs", jobs, "-q"]);
            let rows = fs::read_to_string(dir.join("sweep.csv")).unwrap().lines().count() - 1;
            let expected_rows = (0..40).filter(|r| r % n == k - 1).count();
            assert_eq!(rows, expected_rows, "shard {shard}");
            shards.push(dir.to_str().unwrap().to_owned());
        }
        // Shards may be given in any order.
        shards.reverse();
        let merged = tmp.path().join(format!("merged-{n}"));
        let mut args = vec!["merge"];
        args.extend(shards.iter().map(String::as_str));
        args.extend(["--out", merged.to_str().unwrap(), "-q"]);
        ok(&args);
        assert_same_tree(&whole, &merged);
    }
}

#[test]
fn the_thread_count_does_not_change_a_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = example("bypass-poll-vs-size.json");
    let (one, two, four) = (tmp.path().join("one"), tmp.path().join("two"), tmp.path().join("four"));
    ok(&["sweep", &sweep, "--out", one.to_str().unwrap(), "--jobs", "1", "-q"]);
    ok(&["sweep", &sweep, "--out", two.to_str().unwrap(), "--jobs", "2", "-q"]);
    ok(&["sweep", &sweep, "--out", four.to_str().unwrap(), "--jobs", "4", "-q"]);
    assert_same_tree(&one, &two);
    assert_same_tree(&one, &four);
}

/// Replication r runs on the same seed at every point. Varying a key that the runs never use
/// (the TerminateTaskInstance limit, when the only caller sends one TerminateJob) must then
/// give exactly the same figures at every point, replication by replication.
#[test]
fn replications_share_their_seed_across_points() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.json");
    fs::write(
        &base,
        r#"{ "name": "crn", "seed": 3,
             "backend": { "cvm": { "creation_delay": { "exponential": { "mean": "90s" } } } },
             "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 50, "runtime": { "exponential": { "mean": "10m" } } } ] } ],
             "clients": [ { "type": "terminate_job", "at": "100s", "job": "job-aaaaaaaa" } ] }"#,
    )
    .unwrap();
    let sweep = tmp.path().join("crn-sweep.json");
    fs::write(
        &sweep,
        r#"{ "base": "base.json", "replications": 4,
             "vary": { "/backend/api/limits/TerminateTaskInstance": [1, 5, 50] },
             "metrics": ["termination_latency_s.mean", "release_latency_s.p99"] }"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    ok(&["sweep", sweep.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 12);
    for r in 0..4 {
        let of_r: Vec<&Vec<&str>> = rows.iter().filter(|row| row[1] == r.to_string()).collect();
        assert_eq!(of_r.len(), 3);
        // Same seed, and (the key being irrelevant) the same figures at each point.
        assert!(of_r.iter().all(|row| row[2] == of_r[0][2] && row[4..] == of_r[0][4..]), "replication {r}: {of_r:?}");
    }
    let seeds: std::collections::BTreeSet<&str> = rows.iter().map(|row| row[2]).collect();
    assert_eq!(seeds.len(), 4, "each replication has its own seed");
    // Identical replications across points give identical estimates.
    let points = fs::read_to_string(out.join("points.csv")).unwrap();
    let stats: Vec<String> =
        points.lines().skip(1).map(|l| l.split(',').skip(3).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(stats[0], stats[2]);
    assert_eq!(stats[0], stats[4]);
}

/// Each bad sweep exits 2, names the sweep file and the key, and writes nothing.
#[test]
fn bad_sweep_files_exit_2_naming_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let base = example("mass-termination.json");
    let cases: [(&str, String, &str); 16] = [
        (
            "pointer-to-nothing",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/backend/bypass/poll_intervall": ["1s"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "vary./backend/bypass/poll_intervall: `/backend/bypass/poll_intervall` points to no field",
        ),
        (
            "index-past-the-end",
            format!(r#"{{ "base": "{base}", "vary": {{ "/jobs/3/id": ["job-x"] }}, "metrics": ["peak_cvms"] }}"#),
            "vary./jobs/3/id: `/jobs` is a list of 1: `3` is not a position in it",
        ),
        (
            "wrong-type",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/backend/job_termination/workers": [2, "many"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "vary./backend/job_termination/workers[1]: value 2 (`many`) makes an invalid scenario at `backend.job_termination.workers`",
        ),
        (
            "empty-list",
            format!(r#"{{ "base": "{base}", "vary": {{ "/horizon": [] }}, "metrics": ["peak_cvms"] }}"#),
            "vary./horizon: is an empty list",
        ),
        (
            "not-a-list",
            format!(r#"{{ "base": "{base}", "vary": {{ "/horizon": "1h" }}, "metrics": ["peak_cvms"] }}"#),
            "vary./horizon: must be a list of values",
        ),
        (
            "no-metric",
            format!(r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": [] }}"#),
            "metrics: names no metric",
        ),
        (
            "labels-mismatch",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h", "2h"] }}, "labels": {{ "/horizon": ["one"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "labels./horizon: must be a list of 2 strings",
        ),
        (
            "unknown-field",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": ["peak_cvms"], "replicas": 3 }}"#
            ),
            "unknown field `replicas`",
        ),
        (
            "seed-varied",
            format!(r#"{{ "base": "{base}", "vary": {{ "/seed": [1, 2] }}, "metrics": ["peak_cvms"] }}"#),
            "vary./seed: each replication runs on its own seed",
        ),
        (
            "metric-typo",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": ["peak_cvms", "requests.by_error.RequestLimitExceded"] }}"#
            ),
            "metrics[1]: `requests.by_error.RequestLimitExceded` is not a figure of summary.json (`requests.by_error` has no `RequestLimitExceded`)",
        ),
        (
            "metric-group",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": ["termination_latency_s"] }}"#
            ),
            "metrics[0]: `termination_latency_s` is not a figure of summary.json but a group of them: name one inside it",
        ),
        (
            "same-label-twice",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/jobs/0/tasks/0/instances": [60, "60"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "vary./jobs/0/tasks/0/instances: value 2 is shown as `60` like an earlier one",
        ),
        (
            "too-many-runs",
            format!(
                r#"{{ "base": "{base}", "replications": 4000000000, "vary": {{ "/horizon": ["1h", "2h", "3h", "4h", "5h"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "vary: 20000000000 runs (points × replications): at most 1000000 per sweep",
        ),
        (
            "bad-combination",
            format!(
                r#"{{ "base": "{base}", "vary": {{ "/backend/cvm/termination_delay/uniform/min": ["5s", "20s"],
                     "/backend/cvm/termination_delay/uniform/max": ["30s", "10s"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "vary: point 3 (/backend/cvm/termination_delay/uniform/min = 20s, /backend/cvm/termination_delay/uniform/max = 10s) makes an invalid scenario at `backend.cvm.termination_delay`: uniform: `min` is greater than `max`",
        ),
        (
            "trailing-junk",
            format!(r#"{{ "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": ["peak_cvms"] }} }}"#),
            "trailing characters after the sweep's JSON object",
        ),
        (
            "name-escapes",
            format!(
                r#"{{ "name": "../../elsewhere", "base": "{base}", "vary": {{ "/horizon": ["1h"] }}, "metrics": ["peak_cvms"] }}"#
            ),
            "name: `../../elsewhere` cannot name a results folder",
        ),
    ];
    for (name, text, wanted) in cases {
        let file = tmp.path().join(format!("{name}.json"));
        fs::write(&file, text).unwrap();
        let out = tmp.path().join(format!("out-{name}"));
        let o = termsim(&["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(file.to_str().unwrap()), "{name} does not name the file: {stderr}");
        assert!(stderr.contains(wanted), "{name}: expected `{wanted}` in: {stderr}");
        assert!(!out.exists(), "{name} left an output folder");
    }
    // The position is that of the key in the file.
    let file = tmp.path().join("positioned.json");
    fs::write(
        &file,
        format!("{{ \"base\": \"{base}\",\n  \"vary\": {{\n    \"/nope\": [1] }},\n  \"metrics\": [\"peak_cvms\"] }}"),
    )
    .unwrap();
    let stderr = String::from_utf8_lossy(&termsim(&["sweep", file.to_str().unwrap(), "-q"]).stderr).into_owned();
    assert!(stderr.contains(&format!("{}:3:", file.display())), "{stderr}");

    let sweep = example("rate-limit-vs-strategy.json");
    for shard in ["0/3", "4/3", "1/0", "2", "a/b", "1/-2"] {
        let o = termsim(&["sweep", &sweep, "--shard", shard, "--out", tmp.path().join("x").to_str().unwrap(), "-q"]);
        assert_eq!(o.status.code(), Some(2), "--shard {shard}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("--shard `{shard}`")), "--shard {shard}");
    }
    assert!(!tmp.path().join("x").exists());
    for jobs in ["0", "2000", "many"] {
        let o = termsim(&["sweep", &sweep, "--jobs", jobs, "--out", tmp.path().join("x").to_str().unwrap(), "-q"]);
        assert_eq!(o.status.code(), Some(2), "--jobs {jobs}");
    }
}

/// SPEC §5: a pointer may name any field the format defines, set in the base or not. A
/// client's `retry` that the base leaves out is created with the one field given.
#[test]
fn a_pointer_may_name_a_field_the_base_leaves_out() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("retry.json");
    fs::write(
        &sweep,
        format!(
            r#"{{ "base": "{}", "vary": {{ "/clients/0/retry/max_attempts": [1, 20], "/backend/cvm/create_rate_limit": [null, 5] }},
                 "metrics": ["requests.total", "termination_latency_s.p99"] }}"#,
            example("cleanup-script.json")
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    ok(&["sweep", sweep.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let resolved: serde_json::Value = serde_json::from_slice(&fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(resolved["base_scenario"]["clients"][0]["retry"], serde_json::Value::Null, "the base is kept as it is");
    assert_eq!(fs::read_to_string(out.join("sweep.csv")).unwrap().lines().count(), 1 + 4);
}

/// A count of a kind that never occurred is 0, as in `expect` and `check`; an error code is one
/// name, dots and all.
#[test]
fn counts_that_never_occurred_are_0_and_dotted_error_codes_are_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("counts.json");
    fs::write(
        &sweep,
        format!(
            r#"{{ "base": "{}", "vary": {{ "/backend/cvm/create_rate_limit": [null, 5] }},
                 "metrics": ["instances.by_path.restart", "requests.by_error.ResourceNotFound.TaskInstance",
                             "requests.by_error.UnsupportedOperation.TerminateOperationWithEnvId"] }}"#,
            example("cleanup-script.json")
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    ok(&["sweep", sweep.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    for row in csv.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[cells.len() - 3..], ["0", "0", "0"], "{csv}");
    }
}

#[test]
fn merge_refuses_missing_duplicated_or_foreign_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = example("rate-limit-vs-strategy.json");
    let shard = |k: u32, n: u32, name: &str| -> String {
        let dir = tmp.path().join(name);
        ok(&["sweep", &sweep, "--shard", &format!("{k}/{n}"), "--out", dir.to_str().unwrap(), "-q"]);
        dir.to_str().unwrap().to_owned()
    };
    let (a, b, c) = (shard(1, 3, "a"), shard(2, 3, "b"), shard(3, 3, "c"));
    let out = tmp.path().join("merged");
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(dirs);
        args.extend(["--out", out.to_str().unwrap()]);
        termsim(&args)
    };
    let o = merge(&[&a, &c]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is in no shard given"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = merge(&[&a, &b, &c, &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("in more than one shard"));
    let other = tmp.path().join("other");
    ok(&["sweep", &example("workers-vs-size.json"), "--shard", "2/3", "--out", other.to_str().unwrap(), "-q"]);
    let o = merge(&[&a, other.to_str().unwrap(), &c]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("their sweep.json differ"));
    assert!(!out.exists(), "a refused merge wrote output");
    ok(&["merge", &a, &b, &c, "--out", out.to_str().unwrap()]);
    assert!(out.join("points.csv").is_file());
}

/// Found by fuzzing (`merge`): `merge` trusted a shard's `sweep.json`, so one whose lists did not
/// fit one another (edited, or damaged) panicked indexing them, divided by an empty list's length
/// or asked for a table of 4^30 points. Each is now refused naming the file, line, column and
/// field, before anything is written.
#[test]
fn merge_refuses_a_sweep_json_whose_lists_do_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/sweeps/bypass-poll-vs-size");
    let text = fs::read_to_string(study.join("sweep.json")).unwrap();
    let rows = fs::read_to_string(study.join("sweep.csv")).unwrap();
    let header_only = rows.lines().next().unwrap().to_owned() + "\n";
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, bool, &str); 7] = [
        (
            "extra-values",
            |s| s["values"].as_array_mut().unwrap().push(serde_json::json!([1])),
            false,
            "values: has 3 lists for 2 keys",
        ),
        (
            "short-labels",
            |s| _ = s["labels"][0].as_array_mut().unwrap().pop(),
            false,
            "labels[0]: has 3 labels for 4 values",
        ),
        ("empty-values", |s| s["values"][0] = serde_json::json!([]), true, "values[0]: is an empty list"),
        ("no-replications", |s| s["replications"] = 0.into(), true, "replications: must be at least 1"),
        (
            "no-keys",
            |s| {
                for field in ["keys", "values", "labels"] {
                    s[field] = serde_json::json!([]);
                }
            },
            true,
            "keys: names no key",
        ),
        (
            "too-many-rows",
            |s| {
                for _ in 0..30 {
                    s["keys"].as_array_mut().unwrap().push("/seed".into());
                    s["values"].as_array_mut().unwrap().push(serde_json::json!([1, 2, 3, 4]));
                    s["labels"].as_array_mut().unwrap().push(serde_json::json!(["1", "2", "3", "4"]));
                }
            },
            true,
            "values: make more than 1000000 runs",
        ),
        ("bad-metric", |s| s["metrics"][0] = "p99.".into(), false, "metrics[0]: `p99.` is not a dotted path"),
    ];
    for (name, edit, header_only_rows, expected) in cases {
        let mut sweep: serde_json::Value = serde_json::from_str(&text).unwrap();
        edit(&mut sweep);
        let shard = tmp.path().join(name);
        fs::create_dir(&shard).unwrap();
        let json = serde_json::to_string_pretty(&sweep).unwrap() + "\n";
        fs::write(shard.join("sweep.json"), &json).unwrap();
        fs::write(shard.join("sweep.csv"), if header_only_rows { &header_only } else { &rows }).unwrap();
        let out = tmp.path().join(format!("{name}-merged"));
        let o = termsim(&["merge", shard.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {stderr}");
        // FILE:LINE:COLUMN: FIELD: MESSAGE
        let file = format!("{}:", shard.join("sweep.json").display());
        let at = stderr.find(&file).map(|i| &stderr[i + file.len()..]).unwrap_or_default();
        let mut position = at.splitn(3, ':');
        let located = position.next().is_some_and(|l| l.parse::<usize>().is_ok())
            && position.next().is_some_and(|c| c.parse::<usize>().is_ok());
        assert!(located && position.next().is_some_and(|m| m.starts_with(&format!(" {expected}"))), "{name}: {stderr}");
        assert!(!out.exists(), "{name}: a refused merge wrote output");
    }
}

/// Found by fuzzing (`merge`): metric values near `f64::MAX`, finite each, have an infinite
/// spread, and the chart of such a point overflowed plotting it. No run gives a figure beyond
/// 2^64 (its counts are `u64`s): such a value is refused naming the file and line.
#[test]
fn merge_refuses_figures_no_run_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/sweeps/bypass-poll-vs-size");
    let shard = tmp.path().join("shard");
    fs::create_dir(&shard).unwrap();
    fs::copy(study.join("sweep.json"), shard.join("sweep.json")).unwrap();
    // Column 6 is the first metric; alternate ±1.7e308 down the rows.
    let rows = fs::read_to_string(study.join("sweep.csv")).unwrap();
    let mut lines = rows.lines();
    let mut damaged = lines.next().unwrap().to_owned() + "\n";
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[5] = if i % 2 == 0 { "-1.7e308" } else { "1.7e308" };
        damaged += &(cells.join(",") + "\n");
    }
    fs::write(shard.join("sweep.csv"), damaged).unwrap();
    let out = tmp.path().join("merged");
    let o = termsim(&["merge", shard.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let expected = format!("{}:2:1: `-1.7e308` is not a figure of a run", shard.join("sweep.csv").display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!out.exists(), "a refused merge wrote output");
    // At 2^64 it is still a figure.
    let at_most = fs::read_to_string(shard.join("sweep.csv"))
        .unwrap()
        .replace("-1.7e308", "18446744073709551615")
        .replace("1.7e308", "-18446744073709551615");
    fs::write(shard.join("sweep.csv"), at_most).unwrap();
    let o = termsim(&["merge", shard.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `results/sweeps/` holds the example studies the README reads; a fresh sweep must give them
/// byte for byte. Regenerate deliberately (`termsim sweep scenarios/sweeps/NAME.json`) when the
/// model changes, and re-read the README's capacity study.
#[test]
fn the_committed_example_studies_match_a_fresh_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["bypass-poll-vs-size", "workers-vs-size", "rate-limit-vs-strategy"] {
        let out = tmp.path().join(name);
        ok(&["sweep", &example(&format!("{name}.json")), "--out", out.to_str().unwrap(), "-q"]);
        assert_same_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("results/sweeps").join(name), &out);
    }
}

/// A sweep over a scenario that replays a trace: every point shares the trace's rows (read once),
/// the result does not depend on the thread count, and a varied value naming a bad trace is
/// reported with the trace's own line and column.
#[test]
fn a_sweep_replays_a_trace_at_every_point() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n";
    // Three calls at 5 s: with a limit of 1/s two are refused, with 2/s one, with 3/s none.
    let rows = (0..3).map(|i| format!("5,,TerminateTaskInstance,job-aaaaaaaa,A,{i},,,\n")).collect::<String>();
    fs::write(tmp.path().join("good.csv"), format!("{header}{rows}")).unwrap();
    fs::write(tmp.path().join("bad.csv"), format!("{header}5,,TerminateJob,job-aaaaaaaa,A,,,,\n")).unwrap();
    fs::write(
        tmp.path().join("base.json"),
        r#"{ "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 3, "runtime": "1h" } ] } ],
             "clients": [ { "type": "trace", "csv": "good.csv" } ] }"#,
    )
    .unwrap();
    let sweep = tmp.path().join("sweep.json");
    fs::write(
        &sweep,
        r#"{ "base": "base.json", "vary": { "/backend/api/limits/TerminateTaskInstance": [1, 2, 3] },
             "metrics": ["requests.by_error.RequestLimitExceeded"] }"#,
    )
    .unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    ok(&["sweep", sweep.to_str().unwrap(), "--out", one.to_str().unwrap(), "--jobs", "1", "-q"]);
    ok(&["sweep", sweep.to_str().unwrap(), "--out", two.to_str().unwrap(), "--jobs", "2", "-q"]);
    assert_same_tree(&one, &two);
    let table = fs::read_to_string(one.join("sweep.csv")).unwrap();
    let refused: Vec<&str> = table.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(refused, ["2", "1", "0"], "{table}");

    fs::write(
        &sweep,
        r#"{ "base": "base.json", "vary": { "/clients/0/csv": ["good.csv", "bad.csv"] }, "metrics": ["requests.total"] }"#,
    )
    .unwrap();
    let o = termsim(&["sweep", sweep.to_str().unwrap(), "--out", tmp.path().join("x").to_str().unwrap(), "-q"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    // `5,,` (3), `TerminateJob,` (13) and `job-aaaaaaaa,` (13) come first: the task name is at 30.
    assert!(
        stderr.contains("value 2 (`bad.csv`) makes an invalid scenario at `clients[0].csv`: ")
            && stderr.contains("bad.csv:2:30: column `task_name`: does not apply to TerminateJob"),
        "{stderr}"
    );
}
