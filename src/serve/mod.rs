//! `termsim serve` (SPEC §7): the model of a scenario, live, behind the TencentCloud API 3.0 that
//! the official SDKs and `tccli` speak (serve-wire.md), and the session recorded as a scenario
//! that `termsim run` replays byte for byte.
//!
//! # How a session replays exactly
//! The model runs on one thread of its own, which owns it; HTTP connections are served by tokio
//! and hand each call to that thread. A call received at simulated time `t` (the clock's time
//! when the model thread takes it) is a row of the session's `trace` client, the last client:
//! the model first runs every event due up to `t`, then the call is added
//! ([`Model::push_call`]) and the model runs on to `t` again, which sends it. That is exactly
//! what the same trace does when its rows are known from the start (the order within an instant
//! of SPEC §1.7c, and `events` counts no agenda bookkeeping), so `termsim run DIR/scenario.json`,
//! whose horizon is the stop instant, writes the same files. Nothing the HTTP side does reaches
//! the model otherwise: wall time decides only *when* a call is taken, never what it does.
//!
//! # Clocks
//! `--speed X`: simulated time is X × the wall time since the server started listening; between
//! calls the model thread runs the events due every few milliseconds, and an answer is sent when
//! its simulated answer time comes (`api.latency` / X after the call). `--clock manual`: time
//! moves only by `POST /termsim/advance`, and answers are sent at once.

mod describe;
pub mod sign;
pub mod wire;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::Error;
use crate::engine::SimTime;
use crate::model::config::{Call, Client, ClientKind, TraceRow};
use crate::model::ids::request_id;
use crate::model::{Action, ErrorCode, InstanceState, Model, Recorder, RequestRecord};
use crate::output::csv::escape;
use crate::output::{Format, StreamRecorder};
use crate::output::{StagedDir, write_json};
use crate::scenario::Scenario;

/// The largest request body taken (SPEC §7).
pub const MAX_BODY: usize = 1 << 20;
/// How long a client may take to send its headers, or its body.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The signature's timestamp window, on wall time (serve-wire.md §4.2).
const MAX_SKEW_S: i64 = 300;
/// How often the model thread runs the events due when no call comes (`--speed`).
const TICK: Duration = Duration::from_millis(5);

/// How simulated time moves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockMode {
    /// Simulated time is this many times the wall time since start.
    Speed(f64),
    /// Only `POST /termsim/advance` moves it.
    Manual,
}

/// One SecretId of `--credentials`.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The secret the caller signs with; never written anywhere.
    pub secret_key: String,
    /// The account whose rate limits its calls spend.
    pub account: String,
}

/// What `termsim serve` is asked to do.
pub struct ServeOptions {
    /// The scenario, and the text it was read from (the session's `scenario.json` is that text
    /// with the session added).
    pub scenario: Scenario,
    /// The text the scenario was read from.
    pub scenario_text: String,
    /// The folder relative paths of the scenario are relative to.
    pub scenario_dir: PathBuf,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// How simulated time moves.
    pub clock: ClockMode,
    /// SecretId → secret and account; `None`: any signature is accepted and the SecretId is the
    /// account.
    pub credentials: Option<HashMap<String, Credential>>,
    /// The results folder, written at the stop.
    pub out: PathBuf,
    /// Write the timeline.
    pub timeline: bool,
    /// Draw the charts.
    pub charts: bool,
    /// The format of the tables (`session.csv` and `http.csv` are CSV in both).
    pub format: Format,
    /// Called once the server listens, with its address (the port may have been 0).
    pub on_listening: Box<dyn FnOnce(SocketAddr) + Send>,
}

/// What a stopped server reports.
#[derive(Debug)]
pub struct ServeReport {
    /// Where the outputs are.
    pub out: PathBuf,
    /// The simulated time of the stop: the replay's horizon.
    pub stopped_at: SimTime,
    /// API calls the model answered.
    pub calls: u64,
    /// HTTP requests received, refused ones included.
    pub http_requests: u64,
}

/// Reads `--credentials FILE`: `{SecretId: {"secret_key", "account"}}`.
pub fn read_credentials(path: &Path) -> Result<HashMap<String, Credential>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Input(format!("{}: cannot read the credentials: {e}", path.display())))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let credentials: HashMap<String, Credential> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        Error::Input(format!(
            "{}:{}:{}: {}: {inner}",
            path.display(),
            inner.line(),
            inner.column(),
            if e.path().to_string() == "." { "(the file)".to_string() } else { e.path().to_string() }
        ))
    })?;
    for (id, c) in &credentials {
        if !valid_secret_id(id) || c.account.is_empty() || c.account.chars().count() > 128 {
            return Err(Error::Input(format!(
                "{}: `{id}`: a SecretId is 1 to 128 letters, digits, `_` or `-`, and an account 1 to 128 characters",
                path.display()
            )));
        }
    }
    Ok(credentials)
}

fn valid_secret_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A Recorder that writes the run's CSV files and keeps the session's latest request, whose
/// answer the server sends.
struct ServeRecorder {
    csv: StreamRecorder,
    session: u32,
    last: Option<RequestRecord>,
}

impl Recorder for ServeRecorder {
    #[inline]
    fn state_change(
        &mut self,
        time: SimTime,
        entity: crate::model::Entity,
        from: Option<crate::model::State>,
        to: crate::model::State,
        cause: crate::model::Cause,
    ) {
        self.csv.state_change(time, entity, from, to, cause);
    }

    fn request(&mut self, request: &RequestRecord) {
        if request.client == self.session {
            self.last = Some(*request);
        }
        self.csv.request(request);
    }

    #[inline]
    fn occupancy(&mut self, time: SimTime, now: crate::model::Occupancy) {
        self.csv.occupancy(time, now);
    }

    fn call_added(&mut self, client: u32, row: &TraceRow) {
        self.csv.call_added(client, row);
    }
}

/// A call's answer, as the model decided it.
struct Answered {
    request_id: String,
    error: Option<ErrorCode>,
    fields: Map<String, Value>,
    sent: SimTime,
    responded: SimTime,
}

enum Command {
    Call {
        account: String,
        action: Action,
        call: Call,
        body: Map<String, Value>,
        reply: tokio::sync::oneshot::Sender<Answered>,
    },
    Status {
        reply: tokio::sync::oneshot::Sender<Value>,
    },
    Advance {
        by: Option<SimTime>,
        to: Option<SimTime>,
        reply: tokio::sync::oneshot::Sender<Result<Value, String>>,
    },
    Stop {
        reply: tokio::sync::oneshot::Sender<Result<Value, String>>,
    },
    Now {
        reply: tokio::sync::oneshot::Sender<SimTime>,
    },
}

/// The simulated clock.
#[derive(Clone, Copy)]
struct SimClock {
    mode: ClockMode,
    started: Instant,
}

impl SimClock {
    /// Simulated time now, for `--speed`.
    fn elapsed(&self) -> SimTime {
        match self.mode {
            ClockMode::Speed(speed) => SimTime((self.started.elapsed().as_secs_f64() * speed * 1e6) as u64),
            ClockMode::Manual => SimTime::ZERO,
        }
    }

    /// The wall instant at which simulated time `t` comes (`--speed`).
    fn wall_of(&self, t: SimTime) -> Instant {
        match self.mode {
            ClockMode::Speed(speed) => self.started + Duration::from_secs_f64(t.as_secs_f64() / speed),
            ClockMode::Manual => self.started,
        }
    }
}

/// One row of `http.csv`.
struct HttpRow {
    wall_s: f64,
    sim: SimTime,
    peer: SocketAddr,
    secret_id: String,
    service: String,
    action: String,
    error_code: String,
    handling_ms: f64,
}

/// What every connection shares.
struct Shared {
    commands: mpsc::Sender<Command>,
    clock: SimClock,
    credentials: Option<HashMap<String, Credential>>,
    http: Mutex<Vec<HttpRow>>,
    /// Request ids of answers refused before the model: a sequence of their own.
    refused: std::sync::atomic::AtomicU64,
    seed: u64,
    stop: tokio::sync::Notify,
    stopped: Mutex<Option<Value>>,
}

/// Runs the server until it is stopped (`POST /termsim/stop`, SIGINT or SIGTERM), then writes
/// the outputs and returns.
pub fn serve(options: ServeOptions) -> Result<ServeReport, Error> {
    let ServeOptions {
        scenario,
        scenario_text,
        scenario_dir,
        listen,
        clock,
        credentials,
        out,
        timeline,
        charts,
        format,
        on_listening,
    } = options;
    if !listen.ip().is_loopback() && credentials.is_none() {
        return Err(Error::Input(format!(
            "--listen {listen}: a non-loopback address needs --credentials (without them any caller is accepted)"
        )));
    }
    if let ClockMode::Speed(speed) = clock
        && !(speed.is_finite() && speed > 0.0 && speed <= 1e6)
    {
        return Err(Error::Input(format!("--speed {speed}: a positive factor up to 1000000")));
    }
    // The session: a trace client after the scenario's, with no rows yet, and no horizon while
    // the server runs.
    let mut config = scenario.config.clone();
    let taken: Vec<&str> = config.clients.iter().map(|c| c.name.as_str()).collect();
    let session_name = (0..)
        .map(|n| if n == 0 { "session".to_string() } else { format!("session-{n}") })
        .find(|n| !taken.contains(&n.as_str()))
        .expect("a free name");
    config.clients.push(Client {
        name: session_name.clone(),
        account: "default".into(),
        kind: ClientKind::Trace { rows: Arc::new(Vec::new()) },
        retry: None,
    });
    let session = config.clients.len() as u32 - 1;
    config.horizon = SimTime(u64::MAX / 2);

    let staged = StagedDir::create(&out).with_context(|| format!("cannot prepare `{}`", out.display()))?;
    let csv = StreamRecorder::create(staged.path(), &config, timeline, charts, format)
        .context("cannot create the output files")?;
    let seed = config.seed;
    let model = Model::new(config, ServeRecorder { csv, session, last: None })?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the server's runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| Error::Input(format!("--listen {listen}: {e}")))?;
    let address = listener.local_addr().context("the listening address")?;
    let epoch_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let sim_clock = SimClock { mode: clock, started: Instant::now() };
    let (commands, inbox) = mpsc::channel();
    let shared = Arc::new(Shared {
        commands,
        clock: sim_clock,
        credentials,
        http: Mutex::new(Vec::new()),
        refused: std::sync::atomic::AtomicU64::new(0),
        seed,
        stop: tokio::sync::Notify::new(),
        stopped: Mutex::new(None),
    });
    let finish = Finish {
        staged,
        scenario,
        scenario_text,
        scenario_dir,
        session,
        session_name,
        shared: shared.clone(),
        started: Instant::now(),
    };
    let model_thread = std::thread::Builder::new()
        .name("model".into())
        .spawn(move || model_loop(model, sim_clock, describe::Clock { epoch_s }, inbox, finish))
        .context("cannot start the model's thread")?;
    on_listening(address);

    let accept = {
        let shared = shared.clone();
        async move {
            // Connections are watched so that a stop lets every answer in flight (the stop's
            // own included) leave before the runtime goes.
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                let term = async {
                    match sigterm.as_mut() {
                        Some(s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let shared = shared.clone();
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let service = hyper::service::service_fn(move |request| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(handle(request, peer, shared).await) }
                        });
                        let connection = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(CLIENT_TIMEOUT)
                            .serve_connection(io, service);
                        let connection = graceful.watch(connection);
                        tokio::spawn(async move {
                            let _ = connection.await;
                        });
                    }
                    _ = shared.stop.notified() => break,
                    _ = tokio::signal::ctrl_c() => { stop_model(&shared).await; break; }
                    _ = term => { stop_model(&shared).await; break; }
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
        }
    };
    runtime.block_on(accept);
    // Answers in flight get a moment to leave.
    runtime.shutdown_timeout(Duration::from_millis(200));
    drop(shared.commands.clone());
    let report = model_thread.join().map_err(|_| anyhow::anyhow!("the model's thread panicked"))??;
    Ok(report)
}

/// Asks the model thread to stop and write the outputs; keeps its answer for the caller.
async fn stop_model(shared: &Shared) -> Value {
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared.commands.send(Command::Stop { reply }).is_err() {
        return json!({ "error": "already stopped" });
    }
    let value = match answer.await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => json!({ "error": e }),
        Err(_) => json!({ "error": "the model stopped" }),
    };
    *shared.stopped.lock().expect("not poisoned") = Some(value.clone());
    value
}

/// What the model thread needs to write the outputs at the end.
struct Finish {
    staged: StagedDir,
    scenario: Scenario,
    scenario_text: String,
    scenario_dir: PathBuf,
    session: u32,
    session_name: String,
    shared: Arc<Shared>,
    started: Instant,
}

fn model_loop(
    mut model: Model<ServeRecorder>,
    clock: SimClock,
    answers: describe::Clock,
    inbox: mpsc::Receiver<Command>,
    finish: Finish,
) -> Result<ServeReport, Error> {
    let mut manual_now = SimTime::ZERO;
    let mut calls = 0u64;
    let now = |model: &Model<ServeRecorder>, manual_now: SimTime| match clock.mode {
        ClockMode::Speed(_) => clock.elapsed().max(model.now()),
        ClockMode::Manual => manual_now.max(model.now()),
    };
    loop {
        let command = match clock.mode {
            ClockMode::Speed(_) => match inbox.recv_timeout(TICK) {
                Ok(c) => Some(c),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(anyhow::anyhow!("the server stopped without stop").into());
                }
            },
            ClockMode::Manual => match inbox.recv() {
                Ok(c) => Some(c),
                Err(_) => return Err(anyhow::anyhow!("the server stopped without stop").into()),
            },
        };
        let t = now(&model, manual_now);
        model.run_until(t)?;
        let Some(command) = command else { continue };
        match command {
            Command::Call { account, action, call, body, reply } => {
                model.recorder_mut().last = None;
                model.push_call(finish.session, TraceRow { at: t, account: Some(account.into()), call });
                model.run_until(t)?;
                calls += 1;
                let record = model.recorder_mut().last.take().expect("the call was sent at its instant");
                let fields = if record.error.is_none() && action.is_describe() {
                    describe::answer(action, &body, &model.view(), &answers)
                } else {
                    Map::new()
                };
                let id = request_id(finish.shared.seed, record.number);
                let _ = reply.send(Answered {
                    request_id: String::from_utf8_lossy(&id).into_owned(),
                    error: record.error,
                    fields,
                    sent: record.sent,
                    responded: record.responded,
                });
            }
            Command::Status { reply } => {
                let _ = reply.send(status(&model, t, clock, calls));
            }
            Command::Now { reply } => {
                let _ = reply.send(t);
            }
            Command::Advance { by, to, reply } => {
                let answer = match (clock.mode, by, to) {
                    (ClockMode::Speed(_), ..) => Err("the clock is not manual (--clock manual)".to_string()),
                    (_, Some(by), None) => Ok(t + by),
                    (_, None, Some(to)) if to >= t => Ok(to),
                    (_, None, Some(to)) => Err(format!("`to` {} s is before the current time {} s", to, t)),
                    _ => Err("give one of `by` and `to`".to_string()),
                };
                let answer = match answer {
                    Ok(target) => {
                        model.run_until(target)?;
                        manual_now = target;
                        Ok(status(&model, target, clock, calls))
                    }
                    Err(e) => Err(e),
                };
                let _ = reply.send(answer);
            }
            Command::Stop { reply } => {
                let result = stop(model, t, calls, finish);
                let answer = match &result {
                    Ok(report) => Ok(json!({ "stopped_at_s": report.stopped_at.as_secs_f64(), "out": report.out })),
                    Err(e) => Err(e.to_string()),
                };
                let _ = reply.send(answer);
                return result;
            }
        }
    }
}

fn status(model: &Model<ServeRecorder>, t: SimTime, clock: SimClock, calls: u64) -> Value {
    let mut counts = [0u64; InstanceState::ALL.len()];
    for i in model.instances() {
        counts[i.state as usize] += 1;
    }
    let instances: Map<String, Value> =
        InstanceState::ALL.iter().map(|s| (s.as_str().to_string(), json!(counts[*s as usize]))).collect();
    json!({
        "sim_time_s": t.as_secs_f64(),
        "speed": match clock.mode { ClockMode::Speed(x) => json!(x), ClockMode::Manual => Value::Null },
        "events": model.events(),
        "calls": calls,
        "instances": instances,
    })
}

/// The end of a session: the model runs to the stop instant, and the outputs of `run` plus
/// `session.csv`, `scenario.json` and `http.csv` are written, atomically.
fn stop(mut model: Model<ServeRecorder>, at: SimTime, calls: u64, finish: Finish) -> Result<ServeReport, Error> {
    model.run_until(at)?;
    model.end_run();
    let (mut outcome, recorder) = model.finish();
    outcome.config.horizon = at;
    let dir = finish.staged.path().to_owned();
    crate::output::run::write_outcome(&dir, &outcome, recorder.csv, &finish.scenario)?;
    let ClientKind::Trace { rows } = &outcome.config.clients[finish.session as usize].kind else {
        unreachable!("the session is a trace client")
    };
    std::fs::write(dir.join("session.csv"), session_csv(rows)).context("cannot write session.csv")?;
    let scenario = replay_scenario(&finish.scenario_text, &finish.scenario_dir, &finish.session_name, at)
        .context("cannot build scenario.json")?;
    write_json(&dir.join("scenario.json"), &scenario)?;
    let http = finish.shared.http.lock().expect("not poisoned");
    std::fs::write(dir.join("http.csv"), http_csv(&http)).context("cannot write http.csv")?;
    write_json(
        &dir.join("run.json"),
        &json!({
            "termsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": outcome.config.name,
            "served": true,
            "wall_time_s": finish.started.elapsed().as_secs_f64(),
            "stopped_at_s": at.as_secs_f64(),
            "calls": calls,
            "http_requests": http.len(),
            "events": outcome.events,
        }),
    )?;
    let http_requests = http.len() as u64;
    drop(http);
    let out = finish.staged.commit().context("cannot move the results into place")?;
    Ok(ServeReport { out, stopped_at: at, calls, http_requests })
}

fn time_cell(t: SimTime) -> String {
    format!("{}.{:06}", t.micros() / 1_000_000, t.micros() % 1_000_000)
}

/// The session as a trace file (SPEC §2): one row per call, at its simulated time.
fn session_csv(rows: &[TraceRow]) -> String {
    let mut text = String::from("at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n");
    for row in rows {
        let mut cells: [String; 9] = Default::default();
        cells[0] = time_cell(row.at);
        cells[1] = row.account.as_deref().unwrap_or("").to_string();
        let list = |ids: &Option<Arc<[String]>>| ids.as_deref().map(|ids| ids.join(";")).unwrap_or_default();
        match &row.call {
            Call::TerminateTaskInstance { job, task, index } => {
                cells[2] = "TerminateTaskInstance".into();
                (cells[3], cells[4], cells[5]) = (job.to_string(), task.to_string(), index.to_string());
            }
            Call::TerminateJob { job } => (cells[2], cells[3]) = ("TerminateJob".into(), job.to_string()),
            Call::CancelTask { task_id } => (cells[2], cells[6]) = ("CancelTask".into(), task_id.to_string()),
            Call::CancelInvocation { invocation, instances } => {
                (cells[2], cells[7], cells[8]) = ("CancelInvocation".into(), invocation.to_string(), list(instances));
            }
            Call::Describe { action, ids, task, instances } => {
                cells[2] = action.as_str().into();
                let column = match action {
                    Action::DescribeJob | Action::DescribeJobs | Action::DescribeTask => 3,
                    Action::DescribeTasks | Action::DescribeTaskResult => 6,
                    _ => 7,
                };
                cells[column] = list(ids);
                cells[4] = task.as_deref().unwrap_or("").to_string();
                cells[8] = list(instances);
            }
        }
        let line: Vec<String> = cells.iter().map(|c| escape(c).into_owned()).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    text
}

/// The served scenario with the session as its last client, `horizon` the stop instant, and the
/// paths it names (traces, empirical distributions) made absolute, as they were relative to the
/// scenario's own folder.
fn replay_scenario(text: &str, dir: &Path, session: &str, at: SimTime) -> anyhow::Result<Value> {
    let mut scenario: Value = serde_json::from_str(text).context("the scenario's text")?;
    fn absolute(v: &mut Value, dir: &Path) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match v {
                        Value::String(path) if k == "csv" && Path::new(path.as_str()).is_relative() => {
                            *path = dir.join(path.as_str()).to_string_lossy().into_owned();
                        }
                        _ => absolute(v, dir),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| absolute(v, dir)),
            _ => {}
        }
    }
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    absolute(&mut scenario, &dir);
    let map = scenario.as_object_mut().context("a scenario is a JSON object")?;
    map.insert("horizon".into(), json!(at.as_secs_f64()));
    let clients = map.entry("clients").or_insert_with(|| json!([]));
    clients
        .as_array_mut()
        .context("`clients` is a list")?
        .push(json!({ "type": "trace", "name": session, "csv": "session.csv" }));
    Ok(scenario)
}

fn http_csv(rows: &[HttpRow]) -> String {
    let mut text = String::from("wall_s,sim_time_s,peer,secret_id,service,action,error_code,handling_ms\n");
    for r in rows {
        text.push_str(&format!(
            "{:.6},{},{},{},{},{},{},{:.3}\n",
            r.wall_s,
            time_cell(r.sim),
            r.peer,
            escape(&r.secret_id),
            escape(&r.service),
            escape(&r.action),
            escape(&r.error_code),
            r.handling_ms
        ));
    }
    text
}

type Answer = Response<Full<Bytes>>;

fn json_response(status: StatusCode, body: Vec<u8>) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    // Exactly `application/json`: with a charset the SDK takes an error for a success.
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What the HTTP side knows of a request, for `http.csv`.
#[derive(Default)]
struct Seen {
    secret_id: String,
    service: String,
    action: String,
    error_code: String,
    sim: Option<SimTime>,
}

async fn handle(request: Request<Incoming>, peer: SocketAddr, shared: Arc<Shared>) -> Answer {
    let received = Instant::now();
    let mut seen = Seen::default();
    let answer = if request.uri().path().starts_with("/termsim/") {
        control(request, peer, &shared, &mut seen).await
    } else {
        api(request, &shared, &mut seen).await
    };
    let sim = match seen.sim {
        Some(t) => t,
        None => current_time(&shared).await,
    };
    shared.http.lock().expect("not poisoned").push(HttpRow {
        wall_s: received.duration_since(shared.clock.started).as_secs_f64(),
        sim,
        peer,
        secret_id: seen.secret_id,
        service: seen.service,
        action: seen.action,
        error_code: seen.error_code,
        handling_ms: received.elapsed().as_secs_f64() * 1e3,
    });
    answer
}

async fn current_time(shared: &Shared) -> SimTime {
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared.commands.send(Command::Now { reply }).is_err() {
        return SimTime::ZERO;
    }
    answer.await.unwrap_or(SimTime::ZERO)
}

/// The body, whole: refused when it is over [`MAX_BODY`] or comes too slowly.
async fn read_body(request: Request<Incoming>) -> Result<Bytes, &'static str> {
    if let Some(length) = request.headers().get(CONTENT_LENGTH)
        && length.to_str().ok().and_then(|l| l.parse::<usize>().ok()).is_none_or(|l| l > MAX_BODY)
    {
        return Err("the body is larger than 1 MiB");
    }
    match tokio::time::timeout(CLIENT_TIMEOUT, Limited::new(request.into_body(), MAX_BODY).collect()).await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(_)) => Err("the body is larger than 1 MiB, or was cut short"),
        Err(_) => Err("the body took longer than 10 s to arrive"),
    }
}

async fn api(request: Request<Incoming>, shared: &Shared, seen: &mut Seen) -> Answer {
    let refuse = |seen: &mut Seen, code: &'static str, message: &str| {
        seen.error_code = code.into();
        let n = shared.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = request_id(shared.seed ^ 0x7365_7276_6572_2121, n);
        json_response(StatusCode::OK, wire::error(&String::from_utf8_lossy(&id), code, message))
    };
    let headers = request.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    seen.action = header("x-tc-action").unwrap_or("").chars().take(64).collect();
    let method = request.method().as_str().to_owned();
    if method != "POST" {
        return refuse(
            seen,
            "InvalidParameter",
            "termsim serve takes POST requests only (the SDKs' default); GET is not supported.",
        );
    }
    if request.uri().path() != "/" {
        return refuse(seen, "InvalidAction", "The API is served at `/`.");
    }
    let Some(auth) = header("authorization").and_then(sign::parse_authorization) else {
        return refuse(
            seen,
            sign::AuthError::InvalidAuthorization.code(),
            sign::AuthError::InvalidAuthorization.message(),
        );
    };
    seen.secret_id = auth.secret_id.into();
    seen.service = auth.service.into();
    if !valid_secret_id(auth.secret_id) {
        return refuse(
            seen,
            sign::AuthError::InvalidAuthorization.code(),
            "A SecretId is 1 to 128 letters, digits, `_` or `-`.",
        );
    }
    let Some(version) = wire::version_of(auth.service) else {
        return refuse(
            seen,
            "InvalidAction",
            &format!("The service `{}` is not served here (batch, dlc, tat).", auth.service),
        );
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(message) => return refuse(seen, "InvalidParameter", message),
    };
    let account = match &shared.credentials {
        None => auth.secret_id.to_string(),
        Some(credentials) => {
            let now_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            let signed = sign::Signed {
                method: &method,
                query: "",
                header: &|name: &str| headers.get(name).and_then(|v| v.to_str().ok()),
                body: &body,
                timestamp: header("x-tc-timestamp").unwrap_or(""),
            };
            if let Err(e) =
                sign::verify(&auth, &signed, now_s, MAX_SKEW_S, |id| credentials.get(id).map(|c| c.secret_key.as_str()))
            {
                return refuse(seen, e.code(), e.message());
            }
            credentials[auth.secret_id].account.clone()
        }
    };
    if header("x-tc-version") != Some(version) {
        return refuse(seen, "NoSuchVersion", &format!("The version of {} is {version}.", auth.service));
    }
    let Some(action) = wire::action_of(auth.service, header("x-tc-action").unwrap_or("")) else {
        return refuse(seen, "InvalidAction", "The action is not one termsim serves (SPEC §7).");
    };
    if header("content-type") != Some("application/json") {
        return refuse(seen, "InvalidParameter", "The body must be `application/json`.");
    }
    let body: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => map,
        _ => return refuse(seen, "InvalidParameter", "The body is not a JSON object."),
    };
    let call = match wire::call_of(action, &body).and_then(|call| replayable(&call).map(|()| call)) {
        Ok(call) => call,
        Err(refused) => return refuse(seen, refused.code, &refused.message),
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared.commands.send(Command::Call { account, action, call, body, reply }).is_err() {
        return refuse(seen, "InternalError", "The server is stopping.");
    }
    let Ok(answered) = answer.await else {
        return refuse(seen, "InternalError", "The server is stopping.");
    };
    seen.sim = Some(answered.sent);
    // The answer leaves when it is due: `api.latency` after the call, on the simulated clock.
    if let ClockMode::Speed(_) = shared.clock.mode {
        tokio::time::sleep_until(tokio::time::Instant::from_std(shared.clock.wall_of(answered.responded))).await;
    }
    match answered.error {
        None => json_response(StatusCode::OK, wire::success(&answered.request_id, answered.fields)),
        Some(code) => {
            seen.error_code = code.as_str().into();
            json_response(StatusCode::OK, wire::error(&answered.request_id, code.as_str(), &message_of(code)))
        }
    }
}

fn message_of(code: ErrorCode) -> String {
    match code {
        ErrorCode::RequestLimitExceeded => "The request rate of this account for the action is over its limit.".into(),
        other => format!("{other}"),
    }
}

/// Ids that a trace file can hold as they are: the session is replayed from `session.csv`, so a
/// call whose ids a trace would read differently (a line break, spaces around, a `;` in a list
/// item, a quote) is refused before the model.
fn replayable(call: &Call) -> Result<(), wire::Refused> {
    let ok = |s: &str| !s.chars().any(char::is_control) && s.trim_ascii() == s && !s.contains('"');
    let list_ok = |ids: &Option<Arc<[String]>>| {
        ids.as_deref().is_none_or(|ids| ids.iter().all(|s| ok(s) && !s.contains(';') && !s.is_empty()))
    };
    let good = match call {
        Call::TerminateTaskInstance { job, task, .. } => ok(job) && ok(task),
        Call::TerminateJob { job } => ok(job),
        Call::CancelTask { task_id } => ok(task_id),
        Call::CancelInvocation { invocation, instances } => ok(invocation) && list_ok(instances),
        Call::Describe { ids, task, instances, .. } => {
            list_ok(ids) && task.as_deref().is_none_or(ok) && list_ok(instances)
        }
    };
    if good {
        Ok(())
    } else {
        Err(wire::Refused {
            code: "InvalidParameterValue",
            message: "An id holds a control character, a quote, a `;` or spaces around it.".into(),
        })
    }
}

async fn control(request: Request<Incoming>, peer: SocketAddr, shared: &Shared, seen: &mut Seen) -> Answer {
    seen.service = "termsim".into();
    seen.action = request.uri().path().trim_start_matches("/termsim/").chars().take(32).collect();
    let fail = |seen: &mut Seen, status: StatusCode, message: &str| {
        seen.error_code = status.as_u16().to_string();
        json_response(status, serde_json::to_vec(&json!({ "error": message })).expect("plain JSON"))
    };
    if !peer.ip().is_loopback() {
        return fail(seen, StatusCode::FORBIDDEN, "the control endpoints answer loopback peers only");
    }
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (method.as_str(), path.as_str()) {
        ("GET", "/termsim/status") => {
            let (reply, answer) = tokio::sync::oneshot::channel();
            if shared.commands.send(Command::Status { reply }).is_err() {
                return fail(seen, StatusCode::SERVICE_UNAVAILABLE, "stopping");
            }
            match answer.await {
                Ok(v) => json_response(StatusCode::OK, serde_json::to_vec(&v).expect("plain JSON")),
                Err(_) => fail(seen, StatusCode::SERVICE_UNAVAILABLE, "stopping"),
            }
        }
        ("POST", "/termsim/advance") => {
            let body = match read_body(request).await {
                Ok(b) => b,
                Err(m) => return fail(seen, StatusCode::BAD_REQUEST, m),
            };
            let parsed: Result<Map<String, Value>, _> = serde_json::from_slice(&body);
            let Ok(parsed) = parsed else {
                return fail(seen, StatusCode::BAD_REQUEST, "the body is {\"by\": DURATION} or {\"to\": DURATION}");
            };
            let duration = |key: &str| parsed.get(key).map(duration_of).transpose();
            let (by, to) = match (duration("by"), duration("to")) {
                (Ok(by), Ok(to)) => (by, to),
                (Err(e), _) | (_, Err(e)) => return fail(seen, StatusCode::BAD_REQUEST, &e),
            };
            let (reply, answer) = tokio::sync::oneshot::channel();
            if shared.commands.send(Command::Advance { by, to, reply }).is_err() {
                return fail(seen, StatusCode::SERVICE_UNAVAILABLE, "stopping");
            }
            match answer.await {
                Ok(Ok(v)) => json_response(StatusCode::OK, serde_json::to_vec(&v).expect("plain JSON")),
                Ok(Err(e)) => fail(seen, StatusCode::CONFLICT, &e),
                Err(_) => fail(seen, StatusCode::SERVICE_UNAVAILABLE, "stopping"),
            }
        }
        ("POST", "/termsim/stop") => {
            let value = stop_model(shared).await;
            shared.stop.notify_one();
            let status = if value.get("error").is_some() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
            json_response(status, serde_json::to_vec(&value).expect("plain JSON"))
        }
        _ => fail(seen, StatusCode::NOT_FOUND, "GET /termsim/status, POST /termsim/advance, POST /termsim/stop"),
    }
}

/// A duration as a scenario writes one: seconds as a number, or `"90s"`, `"1h 30m"`.
fn duration_of(value: &Value) -> Result<SimTime, String> {
    let seconds = match value {
        Value::Number(n) => n.as_f64().ok_or("not a number")?,
        Value::String(s) => humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e}"))?.as_secs_f64(),
        _ => return Err("a duration is a number of seconds or a string like \"90s\"".into()),
    };
    if !(seconds.is_finite() && (0.0..=3.2e8).contains(&seconds)) {
        return Err(format!("{seconds} s: from 0 to ten years"));
    }
    Ok(SimTime((seconds * 1e6).round() as u64))
}
