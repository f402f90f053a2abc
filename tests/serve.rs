//! `termsim serve` at the HTTP level, with the project's own signer (`termsim::serve::sign`,
//! checked against the SDK's capture in its unit tests) and raw sockets: what the SDKs cannot
//! send (malformed headers, oversized or non-JSON bodies, wrong versions, unknown actions, slow
//! and dropped connections), and the contract that a served session replays byte for byte.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod server;
use server::*;

fn code(response: &Value) -> &str {
    response["Error"]["Code"].as_str().unwrap_or("ok")
}

#[test]
fn authentication_failures_are_api_errors_with_their_codes() {
    let server = Server::start(&scenario(), &["--clock", "manual"]);
    let body = br#"{"JobId": "job-served01"}"#;
    let answer = |request: Vec<u8>| -> Value {
        let (status, headers, body) = server.raw(&request);
        assert_eq!(status, 200);
        assert!(headers.contains("content-type: application/json\r\n"), "{headers}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["Response"]["RequestId"].is_string(), "every error has a RequestId: {v}");
        v["Response"].clone()
    };
    let p = server.port;
    assert_eq!(code(&answer(signed("batch", "DescribeJob", body, SECRET_KEY, 0, p))), "ok");
    assert_eq!(code(&answer(signed("batch", "DescribeJob", body, "wrong", 0, p))), "AuthFailure.SignatureFailure");
    assert_eq!(code(&answer(signed("batch", "DescribeJob", body, SECRET_KEY, -301, p))), "AuthFailure.SignatureExpire");
    assert_eq!(code(&answer(signed("batch", "DescribeJob", body, SECRET_KEY, 301, p))), "AuthFailure.SignatureExpire");
    let unknown = signed_as("AKIDnobody", "batch", "DescribeJob", "2017-03-12", body, SECRET_KEY, 0, p);
    assert_eq!(code(&answer(unknown)), "AuthFailure.SecretIdNotFound");
    let mut tampered = signed("batch", "DescribeJob", body, SECRET_KEY, 0, p);
    *tampered.last_mut().unwrap() = b' ';
    assert_eq!(code(&answer(tampered)), "AuthFailure.SignatureFailure");
    let missing = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-TC-Action: DescribeJob\r\nX-TC-Version: 2017-03-12\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut missing = missing.into_bytes();
    missing.extend_from_slice(body);
    assert_eq!(code(&answer(missing.clone())), "AuthFailure.InvalidAuthorization");
    let garbled =
        String::from_utf8(missing).unwrap().replace("Host: x", "Host: x\r\nAuthorization: TC3-HMAC-SHA256 nonsense");
    assert_eq!(code(&answer(garbled.into_bytes())), "AuthFailure.InvalidAuthorization");
    // Refused calls are not calls: nothing reached the model but the one good call.
    let status = server.control("GET", "/termsim/status", "");
    assert_eq!(status["calls"], 1, "{status}");
}

#[test]
fn what_the_sdk_cannot_send_is_refused_without_harm() {
    let server = Server::start(&scenario(), &["--clock", "manual"]);
    let p = server.port;
    let raw_code = |request: Vec<u8>| -> String {
        let (status, _, body) = server.raw(&request);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["Response"]["Error"]["Code"].as_str().unwrap_or("ok").to_owned()
    };
    let body = br#"{"JobId": "job-served01"}"#;
    assert_eq!(
        raw_code(signed_as(SECRET_ID, "batch", "DescribeJob", "2020-01-01", body, SECRET_KEY, 0, p)),
        "NoSuchVersion"
    );
    assert_eq!(raw_code(signed("batch", "DescribeJobSubmitInfo", body, SECRET_KEY, 0, p)), "InvalidAction");
    assert_eq!(raw_code(signed("cvm", "DescribeInstances", b"{}", SECRET_KEY, 0, p)), "InvalidAction");
    assert_eq!(raw_code(signed("batch", "DescribeJob", b"not json", SECRET_KEY, 0, p)), "InvalidParameter");
    assert_eq!(raw_code(signed("batch", "DescribeJob", b"[1, 2]", SECRET_KEY, 0, p)), "InvalidParameter");
    assert_eq!(raw_code(signed("batch", "DescribeJob", b"{}", SECRET_KEY, 0, p)), "MissingParameter");
    assert_eq!(
        raw_code(signed("batch", "DescribeJob", br#"{"JobId": "job-served01", "X": 1}"#, SECRET_KEY, 0, p)),
        "UnknownParameter"
    );
    assert_eq!(
        raw_code(signed("batch", "TerminateJob", b"{\"JobId\": \"job-served01\\n\"}", SECRET_KEY, 0, p)),
        "InvalidParameterValue",
        "an id a trace could not hold"
    );
    // Over 1 MiB: refused from the Content-Length alone.
    let big = vec![b' '; (1 << 20) + 1];
    assert_eq!(raw_code(signed("batch", "DescribeJob", &big, SECRET_KEY, 0, p)), "InvalidParameter");

    // A slow client (headers never finished) and a dropped one (half a body, then gone) hold up
    // nobody: answers come at once, on a kept-alive connection too.
    let mut slow = TcpStream::connect(("127.0.0.1", p)).unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-TC-Action: Desc").unwrap();
    let mut dropped = TcpStream::connect(("127.0.0.1", p)).unwrap();
    let request = signed("batch", "DescribeJob", body, SECRET_KEY, 0, p);
    dropped.write_all(&request[..request.len() - 5]).unwrap();
    drop(dropped);
    let started = Instant::now();
    let mut kept = TcpStream::connect(("127.0.0.1", p)).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    for _ in 0..3 {
        kept.write_all(&signed("batch", "DescribeJob", body, SECRET_KEY, 0, p)).unwrap();
        let (status, _, body) = read_response(&mut kept).expect("an answer on the same connection");
        assert_eq!(status, 200);
        assert!(body.contains("\"JobState\""), "{body}");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "a slow client must not hold up the others");
    drop(slow);
    let status = server.control("GET", "/termsim/status", "");
    assert_eq!(status["calls"], 3, "only the three good calls reached the model: {status}");
}

/// The answers a polling script sees, worked out by hand (manual clock, constant delays): at 0 s
/// the job is SUBMITTED; at 2 s its instances are STARTING, their CVMs created until 92 s.
/// TerminateTaskInstance of instances 0 and 1 at 50 s are registered in the bypass (a third in
/// that second is over the 2/s limit). The bypass polls every 10 s from 50 s: at 100 s the CVMs
/// exist, their termination takes 10 s, so 0 and 1 are STARTING until FAILED at 110 s, while 2
/// and 3 run from 92 s.
#[test]
fn a_polling_script_sees_the_model_states_and_the_session_replays_byte_for_byte() {
    let server = Server::start(&scenario(), &["--clock", "manual", "--no-charts"]);
    let job = json!({ "JobId": "job-served01" });
    let task = json!({ "JobId": "job-served01", "TaskName": "A" });
    assert_eq!(server.call("batch", "DescribeJob", &job)["JobState"], "SUBMITTED");
    server.control("POST", "/termsim/advance", r#"{"to": "50s"}"#);
    let described = server.call("batch", "DescribeJob", &job);
    assert_eq!(described["JobState"], "STARTING", "{described}");
    assert_eq!(described["TaskInstanceMetrics"]["StartingCount"], 4);
    let answer = server.call(
        "batch",
        "TerminateTaskInstance",
        &json!({"JobId": "job-served01", "TaskName": "A", "TaskInstanceIndex": 0}),
    );
    assert_eq!(code(&answer), "ok", "{answer}");
    // Two more TerminateTaskInstance in the same second: the third is over the 2/s limit.
    let second = server.call(
        "batch",
        "TerminateTaskInstance",
        &json!({"JobId": "job-served01", "TaskName": "A", "TaskInstanceIndex": 1}),
    );
    let third = server.call(
        "batch",
        "TerminateTaskInstance",
        &json!({"JobId": "job-served01", "TaskName": "A", "TaskInstanceIndex": 2}),
    );
    assert_eq!((code(&second), code(&third)), ("ok", "RequestLimitExceeded"));
    let states = |server: &Server| -> Vec<String> {
        let t = server.call("batch", "DescribeTask", &task);
        t["TaskInstanceSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["TaskInstanceState"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(states(&server), ["STARTING"; 4]);
    server.control("POST", "/termsim/advance", r#"{"to": "109.999999s"}"#);
    assert_eq!(states(&server), ["STARTING", "STARTING", "RUNNING", "RUNNING"], "the bypass holds 0 and 1");
    server.control("POST", "/termsim/advance", r#"{"by": "1us"}"#);
    assert_eq!(states(&server), ["FAILED", "FAILED", "RUNNING", "RUNNING"]);
    let dlc = server.call(
        "dlc",
        "DescribeTasks",
        &json!({"Filters": [{"Name": "task-id", "Values": ["00000000-0000-4000-8000-000000000001"]}]}),
    );
    assert_eq!(dlc["TaskList"][0]["State"], 1, "running, as an int: {dlc}");
    assert_eq!(
        code(&server.call("dlc", "CancelTask", &json!({"TaskId": "00000000-0000-4000-8000-000000000001"}))),
        "ok"
    );
    let tat = server.call("tat", "DescribeInvocations", &json!({"InvocationIds": ["inv-served01"]}));
    assert_eq!(tat["InvocationSet"][0]["InvocationTaskBasicInfoSet"].as_array().unwrap().len(), 2, "{tat}");
    assert_eq!(code(&server.call("tat", "CancelInvocation", &json!({"InvocationId": "inv-served01"}))), "ok");
    server.control("POST", "/termsim/advance", r#"{"by": "20m"}"#);

    let (_kept, out) = server.stop();
    assert_replays(&out, &["timeline.csv", "requests.csv", "instances.csv", "summary.json"], &[]);
    let session = std::fs::read_to_string(out.join("session.csv")).unwrap();
    assert_eq!(session.lines().count(), 1 + 12, "{session}");
    assert!(session.contains("50.000000,team-a,TerminateTaskInstance,job-served01,A,2,,,"), "{session}");
    let http = std::fs::read_to_string(out.join("http.csv")).unwrap();
    assert!(!http.contains(SECRET_KEY), "secrets are never written");
}

#[test]
fn concurrent_clients_at_speed_replay_byte_for_byte() {
    // 600 simulated seconds per wall second: the background TerminateJob at 30 s, the bypass and
    // the walk all happen while four threads call at once, at instants the model shares.
    let server = Server::start(&scenario(), &["--speed", "600", "--no-charts", "--no-timeline"]);
    let port = server.port;
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..20 {
                    let (action, body) = match (t + i) % 4 {
                        0 => (
                            "TerminateTaskInstance",
                            json!({"JobId": "job-served01", "TaskName": "A", "TaskInstanceIndex": (i % 4)}),
                        ),
                        1 => ("DescribeJobs", json!({})),
                        2 => ("DescribeTask", json!({"JobId": "job-served01", "TaskName": "A"})),
                        _ => ("TerminateJob", json!({"JobId": "job-served01"})),
                    };
                    let request = signed("batch", action, body.to_string().as_bytes(), SECRET_KEY, 0, port);
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    stream.write_all(&request).unwrap();
                    let (status, _, _) = read_response(&mut stream).expect("an answer");
                    assert_eq!(status, 200);
                    std::thread::sleep(Duration::from_millis(3));
                }
            });
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let (_kept, out) = server.stop();
    let requests = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert!(requests.lines().filter(|l| l.contains(",session,")).count() == 80, "{requests}");
    assert!(requests.contains(",background,"), "the scripted client ran too");
    assert_replays(&out, &["requests.csv", "instances.csv", "summary.json"], &["--no-timeline"]);
}

#[test]
fn sigterm_stops_the_server_and_writes_the_session() {
    let mut server = Server::start(&scenario(), &["--clock", "manual", "--no-charts"]);
    assert_eq!(code(&server.call("batch", "DescribeJob", &json!({ "JobId": "job-served01" }))), "ok");
    let kill = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    let out = server.out();
    let session = std::fs::read_to_string(out.join("session.csv")).unwrap();
    assert_eq!(session.lines().nth(1), Some("0.000000,team-a,DescribeJob,job-served01,,,,,"));
    assert!(
        out.join("summary.json").is_file() && out.join("scenario.json").is_file() && out.join("http.csv").is_file()
    );
}

#[test]
fn a_public_address_without_credentials_and_bad_credentials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_termsim")).arg("serve").args(args).current_dir(dir.path()).output().unwrap()
    };
    let open = serve(&["--listen", "0.0.0.0:0", "--clock", "manual"]);
    assert_eq!(open.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&open.stderr).contains("needs --credentials"), "{open:?}");
    std::fs::write(dir.path().join("creds.json"), "{\n  \"AKIDx\": { \"secret_key\": \"k\" }\n}").unwrap();
    let bad = serve(&["--listen", "127.0.0.1:0", "--credentials", "creds.json"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("creds.json:2:") && stderr.contains("AKIDx") && stderr.contains("account"), "{stderr}");
    assert!(!dir.path().join("results").exists(), "nothing written");
}

#[test]
fn a_session_served_with_parquet_outputs_replays_byte_for_byte() {
    let server = Server::start(&scenario(), &["--speed", "600", "--no-charts", "--format", "parquet"]);
    let port = server.port;
    for i in 0..8 {
        let body = json!({"JobId": "job-served01", "TaskName": "A", "TaskInstanceIndex": (i % 4)});
        let request = signed("batch", "TerminateTaskInstance", body.to_string().as_bytes(), SECRET_KEY, 0, port);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(&request).unwrap();
        assert_eq!(read_response(&mut stream).expect("an answer").0, 200);
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    let (_kept, out) = server.stop();
    // The tables are Parquet; the session and the replaying scenario stay CSV and JSON.
    for file in ["timeline.parquet", "requests.parquet", "instances.parquet", "session.csv", "scenario.json"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(!out.join("requests.csv").exists());
    let files = [
        "timeline.parquet",
        "requests.parquet",
        "instances.parquet",
        "occupancy.parquet",
        "cancellations.parquet",
        "summary.json",
    ];
    assert_replays(&out, &files, &["--format", "parquet"]);
}
