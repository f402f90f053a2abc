//! `termsim check` as a CI gate: an unchanged scenario passes against its baseline; a doctored
//! baseline (a lower p99, a changed count) fails naming the figure; bad baselines exit 2.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn termsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_termsim")).args(args).output().expect("termsim runs")
}

fn root(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).to_str().unwrap().to_owned()
}

fn check(scenario: &str, baseline: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", scenario, "--baseline", baseline.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = termsim(&args);
    (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// The line of the table for `metric`.
fn line<'a>(report: &'a str, metric: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(metric))
        .unwrap_or_else(|| panic!("no {metric} in:\n{report}"))
}

#[test]
fn every_example_scenario_passes_against_its_committed_baseline() {
    let scenarios = fs::read_dir(root("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"));
    let mut seen = 0;
    for scenario in scenarios {
        let name = scenario.file_stem().unwrap().to_str().unwrap().to_owned();
        let baseline = Path::new(&root("results/baselines")).join(format!("{name}.json"));
        let (code, report) = check(scenario.to_str().unwrap(), &baseline, &[]);
        assert_eq!(code, Some(0), "{name}:\n{report}");
        assert!(report.contains("figures: 0 failed"), "{report}");
        seen += 1;
    }
    assert!(seen >= 6);
}

#[test]
fn a_results_folder_of_either_format_serves_as_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = root("scenarios/rate-limit-storm.json");
    for format in ["csv", "parquet"] {
        let out = tmp.path().join(format);
        let o = termsim(&["run", &scenario, "--out", out.to_str().unwrap(), "--format", format, "-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (code, report) = check(&scenario, &out, &[]);
        assert_eq!(code, Some(0), "{format}:\n{report}");
        assert!(report.contains("figures: 0 failed"), "{report}");
        // The folder's summary.json is what is compared: a doctored one fails.
        let mut summary: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
        summary["requests"]["total"] = serde_json::json!(1);
        fs::write(out.join("summary.json"), summary.to_string()).unwrap();
        let (code, report) = check(&scenario, &out, &[]);
        assert_eq!(code, Some(1), "{format}:\n{report}");
        // A folder is compared with, never rewritten: --update refuses it and leaves it as it was.
        let before = fs::read(out.join("summary.json")).unwrap();
        let (code, report) = check(&scenario, &out, &["--update"]);
        assert_eq!(code, Some(2), "{format}:\n{report}");
        assert!(report.contains("a results folder"), "{report}");
        assert_eq!(fs::read(out.join("summary.json")).unwrap(), before);
    }
}

#[test]
fn a_doctored_baseline_fails_naming_the_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(root("results/baselines/default.json")).unwrap()).unwrap();
    let scenario = root("scenarios/default.json");

    // The stored p99 is lower than what the model gives now: the latency grew, by 174.908795 /
    // 150 - 1 = 16.6 %, beyond the 5 % tolerance.
    let mut lower_p99 = summary.clone();
    lower_p99["termination_latency_s"]["p99"] = serde_json::json!(150.0);
    let doctored = tmp.path().join("lower-p99.json");
    fs::write(&doctored, serde_json::to_string_pretty(&lower_p99).unwrap()).unwrap();
    let (code, report) = check(&scenario, &doctored, &[]);
    assert_eq!(code, Some(1), "{report}");
    let row = line(&report, "termination_latency_s.p99");
    assert!(
        row.contains("150") && row.contains("174.908795") && row.contains("+16.6 %") && row.ends_with("FAIL: slower"),
        "{row}"
    );
    assert!(report.contains("29 figures: 1 failed"), "{report}");
    // A tolerance of 20 % lets it pass.
    assert_eq!(check(&scenario, &doctored, &["--tolerance", "20"]).0, Some(0));

    // A count that changed fails whatever the tolerance.
    let mut changed = summary.clone();
    changed["requests"]["by_error"]["RequestLimitExceeded"] = serde_json::json!(600);
    let doctored = tmp.path().join("count.json");
    fs::write(&doctored, serde_json::to_string(&changed).unwrap()).unwrap();
    let (code, report) = check(&scenario, &doctored, &["--tolerance", "1000"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(line(&report, "requests.by_error.RequestLimitExceeded").ends_with("FAIL: changed"), "{report}");

    // A higher stored latency is an improvement: it passes and says so.
    let mut higher = summary.clone();
    higher["termination_latency_s"]["max"] = serde_json::json!(400.0);
    let doctored = tmp.path().join("higher.json");
    fs::write(&doctored, serde_json::to_string(&higher).unwrap()).unwrap();
    let (code, report) = check(&scenario, &doctored, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(line(&report, "termination_latency_s.max").ends_with("ok (better)"), "{report}");
}

#[test]
fn update_writes_the_current_summary_as_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let baseline = tmp.path().join("new/baseline.json");
    let (code, report) = check(&root("scenarios/named-env-reject.json"), &baseline, &["--update"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("updated"));
    assert_eq!(fs::read(&baseline).unwrap(), fs::read(root("results/baselines/named-env-reject.json")).unwrap());
    assert_eq!(check(&root("scenarios/named-env-reject.json"), &baseline, &[]).0, Some(0));
}

#[test]
fn bad_baselines_exit_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = root("scenarios/default.json");
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        fs::write(&path, text).unwrap();
        path
    };
    let missing = tmp.path().join("missing.json");
    let (code, report) = check(&scenario, &missing, &[]);
    assert_eq!(code, Some(2));
    assert!(report.contains("missing.json: cannot read the baseline"), "{report}");

    let path = write("broken.json", "{\n  \"termination_latency_s\": {\n    \"count\": 3,,\n");
    let (code, report) = check(&scenario, &path, &[]);
    assert_eq!(code, Some(2));
    assert!(report.contains("broken.json:3:16"), "{report}");

    let path = write(
        "partial.json",
        r#"{ "termination_latency_s": { "count": 1, "mean": 1, "p50": 1, "p90": 1, "p99": 1, "max": 1 } }"#,
    );
    let (code, report) = check(&scenario, &path, &[]);
    assert_eq!(code, Some(2));
    assert!(report.contains("partial.json: `release_latency_s` is missing or not an object"), "{report}");

    let (code, _) = check(&scenario, Path::new(&root("results/baselines/default.json")), &["--tolerance", "-5"]);
    assert_eq!(code, Some(2));
}
