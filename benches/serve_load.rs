//! Load on `termsim serve` (SPEC §7, "Load"): many concurrent keep-alive clients, each signing its
//! calls (TC3-HMAC-SHA256, verified by the server), against a 100,000-instance scenario running at
//! `--speed 1` with a TerminateJob walking it, while one account floods the server from many
//! connections. Reports the calls per second answered and the latency each call gets beyond its
//! due time (`api.latency`, 20 ms), for the polite clients and the flood apart, and how late the
//! control endpoint's status comes (the model thread keeping up with the clock).
//!
//! `cargo bench --bench serve_load` (10 s, 16 clients, 16 flood connections), or
//! `cargo bench --bench serve_load -- SECONDS CLIENTS FLOOD`. Figures on stdout and in
//! `target/serve-load.json`. Not a criterion bench: it measures a server under load, not a
//! function.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use termsim::serve::{ClockMode, Credential, ServeOptions, serve, sign};

const LATENCY: Duration = Duration::from_millis(20);

fn scenario() -> String {
    json!({
        "name": "serve-load",
        "seed": 7,
        "horizon": "10h",
        "backend": {
            "api": { "latency": "20ms" },
            "cvm": { "creation_delay": { "lognormal": { "median": "5s", "sigma": 0.3 } } },
            "submit_delay": "1s",
            "job_termination": { "per_instance": "100us", "workers": 1 }
        },
        "jobs": [
            { "id": "job-loadtst1", "tasks": [ { "name": "work", "instances": 100_000, "runtime": "1h" } ] },
            { "id": "job-flood001", "tasks": [ { "name": "f", "instances": 10, "runtime": "1h" } ] }
        ],
        "clients": [ { "type": "terminate_job", "name": "walker", "at": "3s", "job": "job-loadtst1" } ]
    })
    .to_string()
}

fn request(id: &str, key: &str, port: u16, action: &str, body: &str) -> Vec<u8> {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let host = format!("127.0.0.1:{port}");
    let date = sign::utc_date(timestamp.parse().unwrap());
    let header = |name: &str| match name {
        "content-type" => Some("application/json"),
        "host" => Some(host.as_str()),
        _ => None,
    };
    let signed =
        sign::Signed { method: "POST", query: "", header: &header, body: body.as_bytes(), timestamp: &timestamp };
    let auth = sign::Authorization {
        secret_id: id,
        date: &date,
        service: "batch",
        signed_headers: "content-type;host",
        signature: "",
    };
    let signature = sign::signature(key, &auth, &signed);
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\nX-TC-Version: 2017-03-12\r\n\
         X-TC-Timestamp: {timestamp}\r\nAuthorization: TC3-HMAC-SHA256 Credential={id}/{date}/batch/tc3_request, \
         SignedHeaders=content-type;host, Signature={signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response on a kept-alive connection; whether it was an API error.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<bool> {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).ok()?.to_ascii_lowercase();
            let length: usize =
                head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|l| l.trim().parse().ok())?;
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let error = buf[end + 4..end + 4 + length].windows(8).any(|w| w == b"\"Error\":");
            buf.drain(..end + 4 + length);
            return Some(error);
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One client: calls in a closed loop on one connection until `until`; the extra latency of
/// each answer (beyond its due `api.latency`), in microseconds, and how many were API errors.
fn client(port: u16, id: String, until: Instant, pause: Duration) -> (Vec<u64>, u64) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut buf = Vec::new();
    let (mut extra, mut errors) = (Vec::new(), 0);
    let mut n = 0u64;
    while Instant::now() < until {
        let (action, body) = if n.is_multiple_of(2) {
            ("DescribeJob", r#"{"JobId": "job-loadtst1"}"#.to_string())
        } else {
            ("DescribeTask", r#"{"JobId": "job-loadtst1", "TaskName": "work", "Limit": 10}"#.to_string())
        };
        let bytes = request(&id, "load-key", port, action, &body);
        let sent = Instant::now();
        stream.write_all(&bytes).expect("send");
        let Some(error) = read_response(&mut stream, &mut buf) else { break };
        extra.push(sent.elapsed().saturating_sub(LATENCY).as_micros() as u64);
        errors += u64::from(error);
        n += 1;
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    (extra, errors)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank - 1] as f64 / 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let seconds: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);
    let flood: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);

    let text = scenario();
    let scenario = termsim::scenario::parse(&text, std::path::Path::new("serve-load.json")).expect("valid");
    let mut credentials = HashMap::new();
    for c in 0..clients {
        credentials.insert(
            format!("AKIDclient{c}"),
            Credential { secret_key: "load-key".into(), account: format!("client-{c}") },
        );
    }
    credentials.insert("AKIDflood".into(), Credential { secret_key: "load-key".into(), account: "flood".into() });
    let out = tempfile::tempdir().unwrap();
    let (listening, address) = mpsc::channel::<SocketAddr>();
    let options = ServeOptions {
        scenario,
        scenario_text: text,
        scenario_dir: ".".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Speed(1.0),
        credentials: Some(credentials),
        out: out.path().join("out"),
        timeline: false,
        charts: false,
        format: Default::default(),
        on_listening: Box::new(move |a| listening.send(a).unwrap()),
    };
    let server = std::thread::spawn(move || serve(options).expect("serve"));
    let port = address.recv().unwrap().port();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);

    let status_lag = std::thread::spawn(move || {
        let mut lags = Vec::new();
        while Instant::now() < until {
            let sent = Instant::now();
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /termsim/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            lags.push(sent.elapsed().as_micros() as u64);
            std::thread::sleep(Duration::from_millis(100));
        }
        lags
    });
    let polite: Vec<_> = (0..clients)
        .map(|c| std::thread::spawn(move || client(port, format!("AKIDclient{c}"), until, Duration::from_millis(5))))
        .collect();
    let flooding: Vec<_> = (0..flood)
        .map(|_| std::thread::spawn(move || client(port, "AKIDflood".into(), until, Duration::ZERO)))
        .collect();
    let gather = |handles: Vec<std::thread::JoinHandle<(Vec<u64>, u64)>>| {
        let mut all = Vec::new();
        let mut errors = 0;
        for h in handles {
            let (extra, e) = h.join().unwrap();
            all.extend(extra);
            errors += e;
        }
        all.sort_unstable();
        (all, errors)
    };
    let (polite, polite_errors) = gather(polite);
    let (flooded, flood_errors) = gather(flooding);
    let mut lags = status_lag.join().unwrap();
    lags.sort_unstable();
    let wall = started.elapsed().as_secs_f64();

    let mut stop = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stop.write_all(b"POST /termsim/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = stop.read_to_string(&mut answer);
    let report = server.join().unwrap();

    let figures = json!({
        "seconds": wall,
        "instances": 100_000,
        "speed": 1.0,
        "clients": clients,
        "flood_connections": flood,
        "calls_answered": polite.len() + flooded.len(),
        "calls_per_second": (polite.len() + flooded.len()) as f64 / wall,
        "model_calls": report.calls,
        "polite": { "calls": polite.len(), "api_errors": polite_errors,
                    "added_latency_ms": { "p50": percentile(&polite, 50.0), "p99": percentile(&polite, 99.0), "max": percentile(&polite, 100.0) } },
        "flood": { "calls": flooded.len(), "api_errors": flood_errors,
                   "added_latency_ms": { "p50": percentile(&flooded, 50.0), "p99": percentile(&flooded, 99.0) } },
        "status_ms": { "p50": percentile(&lags, 50.0), "p99": percentile(&lags, 99.0), "max": percentile(&lags, 100.0) },
        "stopped_at_s": report.stopped_at.as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/serve-load.json");
    let _ = std::fs::write(target, serde_json::to_string_pretty(&figures).unwrap());
}
