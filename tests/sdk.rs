//! `termsim serve` with the real clients: the official Tencent Cloud Python SDKs and `tccli`, at
//! the versions serve-wire.md was checked against, installed by this test into a venv under
//! `target/py-venv/sdk/` (it fails, never skips, when it cannot install them).
//!
//! The scenario is `server::scenario()`: job `job-served01` of 4 instances whose CVMs take 90 s
//! (from 2 s), a 10 s termination, the bypass polling every 10 s, TerminateJob walking 1 s per
//! instance on one worker, API latency 0, a DLC task and a TAT invocation. `tests/sdk/session.py`
//! drives it on the manual clock and checks every state a polling script sees, worked out by hand
//! from those delays (its comments give the arithmetic); this test then replays the session.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod server;
mod venv;
use server::*;

/// The versions serve-wire.md was written against.
const PACKAGES: [&str; 5] = [
    "tencentcloud-sdk-python-common==3.1.195",
    "tencentcloud-sdk-python-batch==3.1.171",
    "tencentcloud-sdk-python-dlc==3.1.190",
    "tencentcloud-sdk-python-tat==3.1.106",
    "tccli==3.1.189.1",
];

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn without_proxy(command: &mut Command) -> &mut Command {
    // The SDK honours HTTP(S)_PROXY for 127.0.0.1 unless NO_PROXY lists it (serve-wire.md §2).
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(var);
    }
    command
}

fn tccli(python: &Path, home: &Path, port: u16, args: &[&str]) -> Output {
    let bin = python.parent().unwrap().join("tccli");
    let endpoint = format!("http://127.0.0.1:{port}");
    without_proxy(Command::new(bin).args(args).args([
        "--endpoint",
        &endpoint,
        "--secretId",
        SECRET_ID,
        "--secretKey",
        SECRET_KEY,
        "--region",
        "ap-guangzhou",
    ]))
    .env("HOME", home)
    .output()
    .expect("tccli runs")
}

#[test]
fn the_python_sdks_and_tccli_drive_the_model_and_the_session_replays() {
    let python: PathBuf = venv::python("sdk", &PACKAGES);
    let server = Server::start(&scenario(), &["--clock", "manual", "--no-charts"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/session.py");
    let run = without_proxy(Command::new(&python).arg(&script))
        .env("TERMSIM_PORT", server.port.to_string())
        .env("TERMSIM_SECRET_ID", SECRET_ID)
        .env("TERMSIM_SECRET_KEY", SECRET_KEY)
        .output()
        .expect("python runs");
    assert!(run.status.success(), "the SDK script failed:\n{}", text(&run));

    // One tccli call of each service, as a runbook would make it: JSON on stdout, exit 0.
    let home = tempfile::tempdir().unwrap();
    let p = server.port;
    let job = tccli(&python, home.path(), p, &["batch", "DescribeJob", "--JobId", "job-served01"]);
    assert!(job.status.success(), "{}", text(&job));
    let job: serde_json::Value = serde_json::from_slice(&job.stdout).unwrap();
    assert_eq!(job["JobState"], "FAILED", "{job}");
    let dlc = tccli(
        &python,
        home.path(),
        p,
        &["dlc", "DescribeTaskResult", "--TaskId", "00000000-0000-4000-8000-000000000001"],
    );
    assert!(dlc.status.success(), "{}", text(&dlc));
    let dlc: serde_json::Value = serde_json::from_slice(&dlc.stdout).unwrap();
    assert_eq!(dlc["TaskInfo"]["State"], -3, "{dlc}");
    let tat = tccli(&python, home.path(), p, &["tat", "DescribeInvocations", "--InvocationIds", r#"["inv-served01"]"#]);
    assert!(tat.status.success(), "{}", text(&tat));
    let tat: serde_json::Value = serde_json::from_slice(&tat.stdout).unwrap();
    assert_eq!(tat["TotalCount"], 1, "{tat}");
    // An API error: tccli prints the SDK's exception on stderr and exits 255.
    let missing = tccli(&python, home.path(), p, &["batch", "TerminateJob", "--JobId", "job-nothere1"]);
    assert_eq!(missing.status.code(), Some(255), "{}", text(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ResourceNotFound.Job"), "{}", text(&missing));

    let (_kept, out) = server.stop();
    let session = std::fs::read_to_string(out.join("session.csv")).unwrap();
    assert!(session.contains(",team-a,TerminateJob,job-served01,"), "{session}");
    // Refused calls (authentication) are in http.csv, not in the session.
    let http = std::fs::read_to_string(out.join("http.csv")).unwrap();
    assert!(http.contains("AuthFailure.SignatureFailure") && http.contains("AuthFailure.SecretIdNotFound"), "{http}");
    assert!(!session.contains("AKIDstranger"));
    assert_replays(&out, &["timeline.csv", "requests.csv", "instances.csv", "summary.json"], &[]);
}

/// The README's example (`examples/terminate_and_wait.py`), unchanged, against the example
/// scenario made for serving, at 60 simulated seconds per wall second.
#[test]
fn the_readme_example_terminates_the_job_and_sees_it_end() {
    let python: PathBuf = venv::python("sdk", &PACKAGES);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("scenarios/serve-example.json")).unwrap()).unwrap();
    let server = Server::start_open(&scenario, &["--speed", "60", "--no-charts", "--no-timeline"]);
    let run = without_proxy(Command::new(&python).arg(root.join("examples/terminate_and_wait.py")))
        .env("TERMSIM_ENDPOINT", format!("127.0.0.1:{}", server.port))
        .output()
        .expect("python runs");
    assert!(run.status.success(), "{}", text(&run));
    assert!(String::from_utf8_lossy(&run.stdout).ends_with("job-nightly1 FAILED\n"), "{}", text(&run));
    let (_kept, out) = server.stop();
    let requests = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert!(requests.contains(",session,AKIDexample,TerminateJob,job-nightly1,1,"), "{requests}");
}

/// The README's Python example, as printed, against the example scenario at 60× speed.
#[test]
fn the_readme_snippet_runs_as_printed() {
    let python: PathBuf = venv::python("sdk", &PACKAGES);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## Testing your termination tooling").expect("the section")..];
    let start = section.find("```python\n").expect("a Python block") + "```python\n".len();
    let snippet = &section[start..start + section[start..].find("```").unwrap()];
    assert!(snippet.lines().count() <= 15, "the README promises a short example:\n{snippet}");
    let scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("scenarios/serve-example.json")).unwrap()).unwrap();
    let server = Server::start_open(&scenario, &["--speed", "60", "--no-charts", "--no-timeline"]);
    let snippet = snippet.replace("127.0.0.1:9000", &format!("127.0.0.1:{}", server.port));
    let run = without_proxy(Command::new(&python).args(["-c", &snippet])).output().expect("python runs");
    assert!(run.status.success(), "{}", text(&run));
    let status = server.control("GET", "/termsim/status", "");
    assert_eq!(status["instances"]["RUNNING"], 0, "job-nightly1 ended: {status}");
}
