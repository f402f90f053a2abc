//! A `termsim serve` process for the tests (`tests/serve.rs`, `tests/sdk.rs`): started on a free
//! port with `--credentials`, called with raw HTTP/1.1 and the project's own signer.
//!
//! A folder module, included with `mod server;`, so cargo does not build it as a test of its own.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use termsim::serve::sign;

pub const SECRET_ID: &str = "AKIDtermsimtest";
pub const SECRET_KEY: &str = "termsim-test-key";

pub struct Server {
    pub child: Child,
    pub port: u16,
    dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start(scenario: &Value, extra: &[&str]) -> Server {
        Self::start_with(scenario, extra, true)
    }

    /// Without `--credentials`: any signature is accepted and the SecretId is the account.
    pub fn start_open(scenario: &Value, extra: &[&str]) -> Server {
        Self::start_with(scenario, extra, false)
    }

    fn start_with(scenario: &Value, extra: &[&str], credentials: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("scenario.json"), serde_json::to_string_pretty(scenario).unwrap()).unwrap();
        std::fs::write(
            dir.path().join("credentials.json"),
            json!({ SECRET_ID: { "secret_key": SECRET_KEY, "account": "team-a" },
                    "AKIDother": { "secret_key": "other", "account": "team-b" } })
            .to_string(),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_termsim"))
            .arg("serve")
            .arg(dir.path().join("scenario.json"))
            .args(["--listen", "127.0.0.1:0", "--out"])
            .arg(dir.path().join("out"))
            .args(if credentials {
                vec![std::ffi::OsString::from("--credentials"), dir.path().join("credentials.json").into()]
            } else {
                vec![]
            })
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("termsim serve starts");
        let mut line = Vec::new();
        let stdout = child.stdout.as_mut().unwrap();
        let mut byte = [0u8];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8(line).unwrap();
        let port =
            line.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in `{line}`"));
        Server { child, port, dir: Some(dir) }
    }

    pub fn out(&self) -> PathBuf {
        self.dir.as_ref().expect("not stopped").path().join("out")
    }

    /// A signed API call; the parsed `Response`.
    pub fn call(&self, service: &str, action: &str, body: &Value) -> Value {
        let (status, headers, body) =
            self.raw(&signed(service, action, body.to_string().as_bytes(), SECRET_KEY, 0, self.port));
        assert_eq!(status, 200, "{body}");
        assert!(headers.contains("content-type: application/json\r\n"), "exactly application/json:\n{headers}");
        serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{e}: {body}"))["Response"].clone()
    }

    pub fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (status, _, body) = self.raw(request.as_bytes());
        assert!(status == 200 || status == 409, "{status} {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Sends bytes on a new connection; the status, the headers (lower-cased) and the body.
    pub fn raw(&self, request: &[u8]) -> (u16, String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(request).unwrap();
        read_response(&mut stream).expect("an answer")
    }

    /// Stops the server; the folder holding its outputs (`out/`), kept while the value lives.
    pub fn stop(mut self) -> (tempfile::TempDir, PathBuf) {
        let answer = self.control("POST", "/termsim/stop", "");
        assert!(answer["out"].is_string(), "{answer}");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exits 0 after a stop");
        let out = self.out();
        (self.dir.take().unwrap(), out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 response with a Content-Length.
pub fn read_response(stream: &mut TcpStream) -> Option<(u16, String, String)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end + 4]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|l| l.trim().parse().ok())
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf).ok()?;
                if n == 0 {
                    return None;
                }
                data.extend_from_slice(&buf[..n]);
            }
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
            return Some((status, head, body));
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

pub fn version(service: &str) -> &'static str {
    match service {
        "batch" => "2017-03-12",
        "dlc" => "2021-01-25",
        _ => "2020-10-28",
    }
}

/// A request as the Python SDK sends it, signed with `key`, its timestamp `skew_s` off.
pub fn signed(service: &str, action: &str, body: &[u8], key: &str, skew_s: i64, port: u16) -> Vec<u8> {
    signed_as(SECRET_ID, service, action, version(service), body, key, skew_s, port)
}

#[allow(clippy::too_many_arguments)]
pub fn signed_as(
    id: &str,
    service: &str,
    action: &str,
    version: &str,
    body: &[u8],
    key: &str,
    skew_s: i64,
    port: u16,
) -> Vec<u8> {
    let timestamp = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + skew_s).to_string();
    let host = format!("127.0.0.1:{port}");
    let date = sign::utc_date(timestamp.parse().unwrap());
    let header = |name: &str| match name {
        "content-type" => Some("application/json"),
        "host" => Some(host.as_str()),
        _ => None,
    };
    let request = sign::Signed { method: "POST", query: "", header: &header, body, timestamp: &timestamp };
    let auth =
        sign::Authorization { secret_id: id, date: &date, service, signed_headers: "content-type;host", signature: "" };
    let signature = sign::signature(key, &auth, &request);
    let mut out = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\nX-TC-Version: {version}\r\n\
         X-TC-Timestamp: {timestamp}\r\nX-TC-Region: ap-guangzhou\r\nAuthorization: TC3-HMAC-SHA256 Credential={id}/{date}/{service}/tc3_request, \
         SignedHeaders=content-type;host, Signature={signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// One job of 4 instances (creation 90 s, runtime 1 h, latency 0), a scripted TerminateJob of
/// another job at 30 s as background load, and a DLC task and a TAT invocation to describe.
pub fn scenario() -> Value {
    json!({
        "name": "served",
        "seed": 11,
        "horizon": "1h",
        "backend": {
            "api": { "latency": "0s" },
            "cvm": { "creation_delay": "90s", "termination_delay": "10s" },
            "submit_delay": "2s",
            "bypass": { "poll_interval": "10s" },
            "job_termination": { "per_instance": "1s", "workers": 1 }
        },
        "jobs": [
            { "id": "job-served01", "tasks": [ { "name": "A", "instances": 4, "runtime": "1h" } ] },
            { "id": "job-backgr01", "tasks": [ { "name": "B", "instances": 2, "runtime": "1h" } ] }
        ],
        "clients": [ { "type": "terminate_job", "name": "background", "at": "30s", "job": "job-backgr01" } ],
        "dlc": { "tasks": [ { "id": "00000000-0000-4000-8000-000000000001", "queued": "5s", "running": "10m" } ] },
        "tat": { "invocations": [ { "id": "inv-served01", "at": "0s", "instances": ["ins-00000001", "ins-00000002"],
                                    "runtime": "10m" } ] }
    })
}

/// `termsim run OUT/scenario.json` (with `extra` flags) writes `files` byte for byte as the
/// served session did.
pub fn assert_replays(out: &std::path::Path, files: &[&str], extra: &[&str]) {
    let replay = out.with_file_name("replay");
    let status = Command::new(env!("CARGO_BIN_EXE_termsim"))
        .arg("run")
        .arg(out.join("scenario.json"))
        .arg("--out")
        .arg(&replay)
        .args(["--no-charts", "-q"])
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
    for file in files {
        let served = std::fs::read(out.join(file)).unwrap();
        let replayed = std::fs::read(replay.join(file)).unwrap();
        assert!(served == replayed, "{file} of the replay differs from the served session's");
    }
}
