//! Random scenarios against an independent oracle.
//!
//! The generator (`generate.rs`) makes valid scenarios over the whole format; each is run with
//! the real `termsim` binary, and its outputs are checked against rules that hold for any run
//! (`oracle/`), written from SPEC and the README without calling termsim's code (this test
//! crate does not import `termsim` at all). Run-level rules come on top: reruns are
//! byte-identical, `--seed` equals the seed field, `--no-timeline` changes no other file, an
//! unrelated DLC task changes no batch output, and a trace equals the scripted clients it spells
//! out.
//!
//! `TERMSIM_RANDOM_CASES` (default 300) and `TERMSIM_RANDOM_SEED` (default 20261130) choose the
//! cases; `TERMSIM_RANDOM_THREADS` the parallelism; `TERMSIM_BIN` another termsim binary (the
//! mutation study's mutants). A failing case is written to `target/random-failures/`; the first
//! `TERMSIM_RANDOM_SHRINK` (default 3) failures are also shrunk to a minimal scenario, which
//! belongs in `tests/random/regressions/` once fixed: every file there is checked on every run.

mod generate;
mod oracle;
mod outputs;
mod shrink;
mod spec;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use outputs::Outputs;
use spec::Spec;

const DETERMINISTIC_FILES: &[&str] =
    &["timeline.csv", "requests.csv", "instances.csv", "summary.json", "occupancy.csv", "cancellations.csv"];

/// The binary under test: this build's, or `TERMSIM_BIN` (the mutation study runs mutants).
fn termsim() -> String {
    std::env::var("TERMSIM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_termsim").to_string())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
        .unwrap_or(default)
}

/// One termsim run of a materialised scenario: its exit code and stderr.
fn run(scenario: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let output = Command::new(termsim())
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(["--no-charts", "--quiet"])
        .args(extra)
        .output()
        .expect("start termsim");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

fn read(dir: &Path, file: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(file)).ok()
}

/// What went wrong with a case: a rule tag (`[quota]`, `[rerun]`, …) then the detail. The
/// shrinker keeps a smaller scenario only if it still breaks a rule of the same tag.
pub type Violation = String;

pub fn tag(v: &str) -> &str {
    v.split(']').next().unwrap_or(v)
}

/// Runs one case in `work` (a fresh folder) and checks every rule. `deep` adds the run-level
/// rules that need more runs.
pub fn check_case(case: &Value, work: &Path, deep: bool) -> Vec<Violation> {
    let scenario = generate::materialise(case, work);
    let out = work.join("out");
    let (code, stderr) = run(&scenario, &out, &[]);
    if stderr.contains("panicked") {
        return vec![format!("[panic] {stderr}")];
    }
    if code != 0 {
        return vec![format!("[exit] a generated scenario exited {code}: {stderr}")];
    }
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (Outputs::read(&out), Spec::read(case))));
    let Ok((outputs, spec)) = read else {
        return vec!["[oracle-panic] the outputs or the case could not be read (see the panic above)".into()];
    };
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| oracle::check(&spec, &outputs)));
    let mut violations = checked.unwrap_or_else(|_| {
        vec!["[oracle-panic] the oracle could not read these outputs (see the panic above)".into()]
    });
    if deep && violations.is_empty() {
        violations.extend(run_level(case, &spec, work, &out));
    }
    violations
}

fn differing(a: &Path, b: &Path, files: &[&str]) -> Vec<String> {
    files.iter().filter(|f| read(a, f) != read(b, f)).map(|f| f.to_string()).collect()
}

fn run_level(case: &Value, spec: &Spec, work: &Path, out: &Path) -> Vec<Violation> {
    let mut violations = Vec::new();
    let scenario = work.join("scenario.json");
    // Reruns are byte-identical.
    let again = work.join("again");
    run(&scenario, &again, &[]);
    let changed = differing(out, &again, DETERMINISTIC_FILES);
    if !changed.is_empty() {
        violations.push(format!("[rerun] a second run differs in {changed:?}"));
    }
    // `--seed N` is the seed field N: the same case under another seed field, run with `--seed`.
    let mut reseeded = case.clone();
    reseeded["seed"] = json!(spec.seed.wrapping_add(1));
    let seeded_dir = work.join("seeded");
    std::fs::create_dir_all(&seeded_dir).unwrap();
    let seeded_scenario = generate::materialise(&reseeded, &seeded_dir);
    let seeded_out = seeded_dir.join("out");
    run(&seeded_scenario, &seeded_out, &["--seed", &spec.seed.to_string()]);
    let changed = differing(out, &seeded_out, DETERMINISTIC_FILES);
    if !changed.is_empty() {
        violations.push(format!("[seed] --seed {} differs from the seed field in {changed:?}", spec.seed));
    }
    // `--no-timeline` writes no timeline and changes nothing else.
    let quiet = work.join("no-timeline");
    run(&scenario, &quiet, &["--no-timeline"]);
    if quiet.join("timeline.csv").exists() {
        violations.push("[no-timeline] timeline.csv written under --no-timeline".into());
    }
    let changed = differing(out, &quiet, &DETERMINISTIC_FILES[1..]);
    if !changed.is_empty() {
        violations.push(format!("[no-timeline] --no-timeline changes {changed:?}"));
    }
    // Bad input: exit 2, a message naming the file, line:column and the field's path, and no
    // results (SPEC §3).
    violations.extend(refused(case, work));
    // An unrelated DLC task changes no batch output (independent streams).
    violations.extend(unrelated_dlc(case, work, out));
    // A trace gives the run of the scripted clients it spells out, and the other way round.
    if let Some(other) = spelled_out(case, spec) {
        violations.extend(same_calls(&other, work, out));
    }
    violations
}

fn batch_rows(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("timeline.csv")).unwrap_or_default();
    text.lines()
        .filter(|l| {
            let entity = l.split(',').nth(1).unwrap_or("");
            matches!(entity, "job" | "task" | "instance" | "cvm" | "node")
        })
        .map(str::to_string)
        .collect()
}

fn refused(case: &Value, work: &Path) -> Vec<Violation> {
    let mut broken = case.clone();
    let last = broken["jobs"].as_array().map_or(0, |jobs| jobs.len() - 1);
    broken["jobs"][last]["tasks"][0]["instances"] = json!(0);
    let dir = work.join("refused");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = generate::materialise(&broken, &dir);
    let out = dir.join("out");
    let (code, stderr) = run(&scenario, &out, &[]);
    let field = format!("jobs[{last}].tasks[0].instances");
    let mut violations = Vec::new();
    if code != 2 || !stderr.contains(&field) || !stderr.contains("scenario.json:") || stderr.contains("panicked") {
        violations.push(format!("[refusal] no instances in {field}: exit {code}, `{}`", stderr.trim()));
    }
    if out.exists() {
        violations.push("[refusal] a refused scenario left a results folder".into());
    }
    violations
}

fn batch_requests(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("requests.csv")).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(",TerminateTaskInstance,") || l.contains(",TerminateJob,"))
        .map(str::to_string)
        .collect()
}

fn unrelated_dlc(case: &Value, work: &Path, out: &Path) -> Vec<Violation> {
    let mut with_dlc = case.clone();
    let task = json!({ "id": "ffffffff-ffff-4fff-8fff-ffffffffffff", "submit_at": "1s", "queued": "1s", "initializing": "1s",
                       "running": { "exponential": { "mean": "10s" } }, "writing_data": "1s", "failure_rate": 0.5 });
    match with_dlc.get_mut("dlc") {
        Some(dlc) => dlc["tasks"].as_array_mut().unwrap().insert(0, task),
        None => with_dlc["dlc"] = json!({ "tasks": [task] }),
    }
    let dir = work.join("dlc");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = generate::materialise(&with_dlc, &dir);
    let dlc_out = dir.join("out");
    let (code, stderr) = run(&scenario, &dlc_out, &[]);
    if code != 0 {
        return vec![format!("[dlc-independence] adding a DLC task made the run exit {code}: {stderr}")];
    }
    let mut violations = Vec::new();
    // Its own calls may be answered otherwise (DLC draws shift); batch calls may not.
    if batch_requests(out) != batch_requests(&dlc_out) {
        violations.push("[dlc-independence] an unrelated DLC task changes the batch rows of requests.csv".into());
    }
    let changed = differing(out, &dlc_out, &["instances.csv", "occupancy.csv"]);
    if !changed.is_empty() {
        violations.push(format!("[dlc-independence] an unrelated DLC task changes {changed:?}"));
    }
    if batch_rows(out) != batch_rows(&dlc_out) {
        violations.push("[dlc-independence] an unrelated DLC task changes the batch rows of timeline.csv".into());
    }
    violations
}

/// The case with every trace spelled out as scripted clients (one per row) and every scripted
/// client as a trace, when no backoff draws from a jitter stream (a trace's rows share one).
fn spelled_out(case: &Value, spec: &Spec) -> Option<Value> {
    let clients = case.get("clients")?.as_array()?;
    let jittered =
        |c: &Value| c.get("retry").is_some_and(|r| r.get("jitter").and_then(Value::as_str).unwrap_or("full") != "none");
    if clients.is_empty() || clients.iter().any(jittered) {
        return None;
    }
    let mut converted = Vec::new();
    for (c, client) in clients.iter().zip(&spec.clients) {
        let retry = c.get("retry").cloned();
        let with_retry = |mut v: Value| {
            if let Some(r) = &retry {
                v["retry"] = r.clone();
            }
            v
        };
        if client.kind == "trace" {
            for call in &client.calls {
                let mut scripted = match call.action.as_str() {
                    "TerminateTaskInstance" => match call.index.parse::<u64>() {
                        Ok(index) => {
                            json!({ "type": "terminate_task_instances", "job": call.job, "task": call.task, "indices": [index] })
                        }
                        Err(_) => return None,
                    },
                    "TerminateJob" => json!({ "type": "terminate_job", "job": call.job }),
                    "CancelTask" => json!({ "type": "cancel_task", "task_id": call.task_id }),
                    _ => json!({ "type": "cancel_invocation", "invocation": call.invocation }),
                };
                if let Some(ids) = &call.instance_ids {
                    scripted["instances"] = json!(ids);
                }
                scripted["at"] = json!(call.at as f64 / 1e6);
                scripted["account"] = json!(call.account);
                converted.push(with_retry(scripted));
            }
        } else {
            let rows: Vec<Value> = client
                .calls
                .iter()
                .map(|call| {
                    let ids = call.instance_ids.as_ref().map(|v| v.join(";")).unwrap_or_default();
                    json!([
                        call.at as f64 / 1e6,
                        call.account,
                        call.action,
                        call.job,
                        call.task,
                        call.index,
                        call.task_id,
                        call.invocation,
                        ids
                    ])
                })
                .collect();
            let trace = json!({ "type": "trace", "name": client.name, "account": client.account, "csv": format!("spelled-{}.csv", converted.len()), "__rows": rows });
            converted.push(with_retry(trace));
        }
    }
    let mut other = case.clone();
    other["clients"] = json!(converted);
    Some(other)
}

fn without_client_column(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("requests.csv")).unwrap_or_default();
    text.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(1);
            cells.join(",")
        })
        .collect()
}

/// The whole summary, `events` included: a client's call counts as one event however the
/// agenda learnt of it (README, `events`).
fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&read(dir, "summary.json").unwrap_or_default()).unwrap_or(Value::Null)
}

fn same_calls(other: &Value, work: &Path, out: &Path) -> Vec<Violation> {
    let dir = work.join("spelled");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = generate::materialise(other, &dir);
    let other_out = dir.join("out");
    let (code, stderr) = run(&scenario, &other_out, &[]);
    if code != 0 {
        return vec![format!("[trace-equals-scripted] the spelled-out clients exit {code}: {stderr}")];
    }
    let mut violations = Vec::new();
    let changed = differing(out, &other_out, &["timeline.csv", "instances.csv", "occupancy.csv", "cancellations.csv"]);
    if !changed.is_empty() {
        violations.push(format!(
            "[trace-equals-scripted] traces and scripted clients of the same calls differ in {changed:?}"
        ));
    }
    if without_client_column(out) != without_client_column(&other_out) {
        violations.push("[trace-equals-scripted] requests.csv differs beyond the client names".into());
    }
    if summary(out) != summary(&other_out) {
        violations.push("[trace-equals-scripted] summary.json differs".into());
    }
    violations
}

fn failures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("random-failures")
}

/// What the cases' outputs showed, counted: `path:P`, `error:CODE`, `state:ENTITY:STATE`, so
/// that the test can tell whether the generator reaches every path, answer and state.
type Seen = std::collections::BTreeMap<String, u64>;

fn tally(out: &Path, seen: &mut Seen) {
    let column = |file: &str, k: usize| -> Vec<String> {
        let text = std::fs::read_to_string(out.join(file)).unwrap_or_default();
        text.lines().skip(1).filter_map(|l| l.split(',').nth(k).map(str::to_string)).collect()
    };
    for path in column("instances.csv", 5) {
        *seen.entry(format!("path:{path}")).or_default() += 1;
    }
    for code in column("requests.csv", 9).into_iter().filter(|c| !c.is_empty()) {
        *seen.entry(format!("error:{code}")).or_default() += 1;
    }
    let text = std::fs::read_to_string(out.join("timeline.csv")).unwrap_or_default();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        *seen.entry(format!("state:{}:{}", cells[1], cells[4])).or_default() += 1;
    }
}

/// Checks cases `0..count` of `seed` on a few threads; saves every failing one, shrinks the
/// first few. Returns the failures and what the outputs showed.
fn check_many(seed: u64, count: u64) -> (Vec<String>, Seen) {
    let threads =
        env_u64("TERMSIM_RANDOM_THREADS", std::thread::available_parallelism().map_or(2, |n| n.get() as u64)).max(1);
    let next = AtomicUsize::new(0);
    let shrinks_left = std::sync::atomic::AtomicI64::new(env_u64("TERMSIM_RANDOM_SHRINK", 3) as i64);
    let failures = std::sync::Mutex::new(Vec::new());
    let seen = std::sync::Mutex::new(Seen::new());
    let root = tempfile::tempdir().unwrap();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed) as u64;
                    if index >= count {
                        break;
                    }
                    let case = generate::case(seed, index);
                    let work = root.path().join(format!("case-{index}"));
                    std::fs::create_dir_all(&work).unwrap();
                    let violations = check_case(&case, &work, true);
                    if !violations.is_empty() {
                        // Shrinking takes many runs: the first few failures are enough to act on.
                        let shrink = shrinks_left.fetch_sub(1, Ordering::Relaxed) > 0;
                        let report = report_failure(
                            &format!("seed-{seed}-case-{index}"),
                            &case,
                            &violations,
                            root.path(),
                            shrink,
                        );
                        failures.lock().unwrap().push(report);
                    }
                    tally(&work.join("out"), &mut seen.lock().unwrap());
                    let _ = std::fs::remove_dir_all(&work);
                }
            });
        }
    });
    (failures.into_inner().unwrap(), seen.into_inner().unwrap())
}

/// Shrinks a failing case and writes the original and the minimal one under
/// `target/random-failures/`.
fn report_failure(name: &str, case: &Value, violations: &[Violation], scratch: &Path, shrink: bool) -> String {
    let dir = failures_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(case).unwrap()).unwrap();
    let mut shown: Vec<&str> = violations.iter().map(String::as_str).take(5).collect();
    if violations.len() > 5 {
        shown.push("…");
    }
    if !shrink {
        return format!("{name}: {}\n  case in {}", shown.join("\n    "), path.display());
    }
    let rule = tag(&violations[0]).to_string();
    let minimal = shrink::shrink(
        case,
        &|candidate, work| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check_case(candidate, work, true).iter().any(|v| tag(v) == rule)
            }))
            .unwrap_or(false)
        },
        &scratch.join(format!("shrink-{name}")),
    );
    let minimal_path = dir.join(format!("{name}.min.json"));
    std::fs::write(&minimal_path, serde_json::to_string_pretty(&minimal).unwrap()).unwrap();
    format!(
        "{name}: {}\n  shrunk to {} (copy it to tests/random/regressions/ once fixed)",
        shown.join("\n    "),
        minimal_path.display()
    )
}

#[test]
fn generated_scenarios_keep_every_invariant() {
    let seed = env_u64("TERMSIM_RANDOM_SEED", 20_261_130);
    let count = env_u64("TERMSIM_RANDOM_CASES", 300);
    let (failures, seen) = check_many(seed, count);
    eprintln!("{count} cases (seed {seed}); the outputs showed:");
    for (what, n) in &seen {
        eprintln!("  {what}: {n}");
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases (seed {seed}) break a rule:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The cases reach every path, every answer and every state SPEC has (checked on the CI's
    // number of cases; fewer may miss some).
    if count >= 300 {
        let paths = ["none", "no_op", "immediate", "cvm", "bypass", "restart", "rejected"].map(|p| format!("path:{p}"));
        let errors = [
            "RequestLimitExceeded",
            "InternalError",
            "InvalidParameter.JobIdMalformed",
            "ResourceNotFound.TaskInstance",
            "ResourceNotFound.Job",
            "UnsupportedOperation",
            "UnsupportedOperation.TerminateOperationWithEnvId",
            "ResourceInUse.Job",
            "InvalidParameter.InvalidTaskId",
            "InvalidParameter.TaskAlreadyFinished",
            "FailedOperation.AnotherRequestProcessing",
            "InvalidParameterValue.InvalidInvocationId",
            "ResourceNotFound.InvocationNotFound",
            "InvalidParameterValue.InstanceIsNotRelatedToInvocation",
        ]
        .map(|e| format!("error:{e}"));
        let states = [
            "instance:FAILED_INTERRUPTED",
            "instance:SUCCEED",
            "instance:FAILED",
            "cvm:LAUNCH_FAILED",
            "cvm:SHUTTING_DOWN",
            "node:REBOOTING",
            "dlc_task:CANCELLED",
            "dlc_task:FAILED",
            "dlc_task:SUCCEEDED",
            "tat_task:DELIVER_DELAYED",
            "tat_task:DELIVER_FAILED",
            "tat_task:TIMEOUT",
            "tat_task:CANCELLED",
            "tat_task:TERMINATED",
            "tat_task:FAILED",
            "tat_invocation:PARTIAL_CANCELLED",
            "tat_invocation:PARTIAL_FAILED",
            "tat_invocation:CANCELLING",
        ]
        .map(|s| format!("state:{s}"));
        let missing: Vec<&String> =
            paths.iter().chain(&errors).chain(&states).filter(|k| !seen.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{count} cases never showed {missing:?}");
    }
}

#[test]
fn regressions_keep_every_invariant() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/random/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression scenarios in {}", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let work = tempfile::tempdir().unwrap();
        let violations = check_case(&case, work.path(), true);
        if !violations.is_empty() {
            failures.push(format!("{}: {}", file.display(), violations.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_generator_covers_the_whole_format() {
    // Over the CI's cases, every kind of thing the format has appears at least once.
    let seed = env_u64("TERMSIM_RANDOM_SEED", 20_261_130);
    let cases: Vec<String> = (0..300).map(|i| generate::case(seed, i).to_string()).collect();
    let all = cases.join("\n");
    for needle in [
        "\"terminate_task_instances\"",
        "\"terminate_job\"",
        "\"cancel_task\"",
        "\"cancel_invocation\"",
        "\"trace\"",
        "\"__rows\"",
        "\"uniform\"",
        "\"exponential\"",
        "\"normal\"",
        "\"lognormal\"",
        "\"values\"",
        "\"__values\"",
        "\"token_bucket\"",
        "\"fixed_window\"",
        "\"restart_cvm\"",
        "\"reject\"",
        "\"RUNNABLE\"",
        "\"INTERRUPT\"",
        "\"TERMINATE\"",
        "\"depends_on\"",
        "\"environments\"",
        "\"dlc\"",
        "\"tat\"",
        "\"max_cvms\":null",
        "\"max_cvms\":1}",
        "\"create_rate_limit\":0.5",
        "\"interruption_rate_per_hour\":600.0",
        "\"internal_error_rate\":1.0",
        "\"jitter\":\"full\"",
        "\"jitter\":\"equal\"",
        "\"jitter\":\"none\"",
        "job-nosuchjb",
        "JOB-AAAAAAAA",
        "not-a-uuid",
        "inv_bad",
        "\"nosuch\"",
        "\"per_task\":\"3s\"",
        "\"workers\":2",
        "\"account\":\"ops\"",
    ] {
        assert!(all.contains(needle), "no generated case has {needle}");
    }
}
