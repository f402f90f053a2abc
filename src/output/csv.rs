//! Streaming CSV writers for `timeline.csv`, `requests.csv` and `occupancy.csv`.
//!
//! The model's reports are kept as plain rows and formatted on a writer thread, by hand into
//! buffered writers: no `String` per row, no quoting work for fields that cannot need it (ids
//! and state names are validated plain text), so memory stays flat however long the timeline
//! grows ([`CsvRecorder`] explains the threading).
//!
//! The same place hands each row to the charts' aggregates ([`ChartData`]), so that what the
//! charts are drawn from is exactly what the files say.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::engine::SimTime;
use crate::model::config::{CallRef, ClientKind, Config, TraceRow};
use crate::model::ids::{cvm_id, request_id};
use crate::model::{Cause, Entity, Occupancy, Recorder, RequestRecord, State};

use super::charts::ChartData;

pub(crate) const TIMELINE_HEADER: &str = "time_s,entity,id,from,to,cause";
pub(crate) const REQUESTS_HEADER: &str =
    "request_id,client,account,action,target,attempt,sent_s,responded_s,outcome,error_code";
pub(crate) const OCCUPANCY_HEADER: &str = "time_s,cvms_alive,quota_in_use";

/// Seconds with six decimals.
pub(crate) fn write_time(out: &mut impl Write, t: SimTime) -> io::Result<()> {
    let mut int = itoa::Buffer::new();
    out.write_all(int.format(t.micros() / 1_000_000).as_bytes())?;
    let frac = t.micros() % 1_000_000;
    let mut digits = *b".000000";
    let mut f = frac;
    for slot in digits[1..].iter_mut().rev() {
        *slot = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.write_all(&digits)
}

/// `,` and a time, or just `,` when there is none: a cell of an optional time column.
pub(crate) fn write_time_cell(out: &mut impl Write, t: Option<SimTime>) -> io::Result<()> {
    out.write_all(b",")?;
    t.map_or(Ok(()), |t| write_time(out, t))
}

/// A field as CSV wants it: quoted when it holds a comma, a quote or a line break.
pub(crate) fn escape(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

/// The textual names of a run's entities, prepared once.
pub(crate) struct Names {
    seed: u64,
    job_ids: Vec<String>,
    /// `job-…/TASK` per global task.
    task_labels: Vec<String>,
    /// First global instance of each task, ascending: the task of an instance is found by
    /// binary search.
    task_starts: Vec<u32>,
    clients: Vec<(String, String)>,
    dlc_ids: Vec<String>,
    invocation_ids: Vec<String>,
    /// `inv-…/ins-…` per TAT invocation task.
    tat_task_ids: Vec<String>,
}

impl Names {
    pub(crate) fn new(cfg: &Config) -> Self {
        let mut task_labels = Vec::new();
        let mut task_starts = Vec::new();
        let mut next = 0u32;
        for job in &cfg.jobs {
            for task in &job.tasks {
                task_labels.push(format!("{}/{}", job.id, task.name));
                task_starts.push(next);
                next += task.instances;
            }
        }
        Names {
            seed: cfg.seed,
            job_ids: cfg.jobs.iter().map(|j| j.id.clone()).collect(),
            task_labels,
            task_starts,
            clients: cfg
                .clients
                .iter()
                .map(|c| (escape(&c.name).into_owned(), escape(&c.account).into_owned()))
                .collect(),
            dlc_ids: cfg.dlc_tasks.iter().map(|t| t.id.clone()).collect(),
            invocation_ids: cfg.tat_invocations.iter().map(|v| v.id.clone()).collect(),
            tat_task_ids: cfg
                .tat_invocations
                .iter()
                .flat_map(|v| v.instances.iter().map(move |i| format!("{}/{i}", v.id)))
                .collect(),
        }
    }

    pub(crate) fn write_instance(&self, out: &mut impl Write, i: u32) -> io::Result<()> {
        let t = self.task_starts.partition_point(|&s| s <= i) - 1;
        out.write_all(self.task_labels[t].as_bytes())?;
        out.write_all(b"/")?;
        out.write_all(itoa::Buffer::new().format(i - self.task_starts[t]).as_bytes())
    }

    fn write_entity(&self, out: &mut impl Write, entity: Entity) -> io::Result<()> {
        match entity {
            Entity::Job(j) => out.write_all(b"job,").and_then(|_| out.write_all(self.job_ids[j as usize].as_bytes())),
            Entity::Task(t) => {
                out.write_all(b"task,").and_then(|_| out.write_all(self.task_labels[t as usize].as_bytes()))
            }
            Entity::Instance(i) => {
                out.write_all(b"instance,")?;
                self.write_instance(out, i)
            }
            Entity::Cvm(c) => out.write_all(b"cvm,").and_then(|_| out.write_all(&cvm_id(self.seed, c.into()))),
            Entity::Node(c) => out.write_all(b"node,").and_then(|_| out.write_all(&cvm_id(self.seed, c.into()))),
            Entity::DlcTask(t) => {
                out.write_all(b"dlc_task,").and_then(|_| out.write_all(self.dlc_ids[t as usize].as_bytes()))
            }
            Entity::TatTask(k) => {
                out.write_all(b"tat_task,").and_then(|_| out.write_all(self.tat_task_ids[k as usize].as_bytes()))
            }
            Entity::TatInvocation(v) => out
                .write_all(b"tat_invocation,")
                .and_then(|_| out.write_all(self.invocation_ids[v as usize].as_bytes())),
        }
    }
}

/// What the model reported, kept as data until the writer thread formats it.
#[derive(Clone, Debug)]
enum Row {
    State {
        time: SimTime,
        entity: Entity,
        from: Option<State>,
        to: State,
        cause: Cause,
    },
    Request(RequestRecord),
    Occupancy {
        time: SimTime,
        now: Occupancy,
    },
    /// A call added to a trace client during the run: the writer's copy of the clients learns
    /// it before the request that names it.
    CallAdded {
        client: u32,
        row: Box<TraceRow>,
    },
}

/// Rows handed to the writer thread at a time, and how many such batches may wait for it.
const BATCH: usize = 8192;
const BATCHES_IN_FLIGHT: usize = 4;

/// The model's recorder for a run that writes files: it keeps what the model reports as plain
/// rows and hands them, a batch at a time, to a thread that formats and writes the timeline
/// (unless disabled), the requests and the occupancy, and feeds the charts' aggregates.
///
/// The event loop thus never formats a number or enters the kernel: on two cores the model and
/// the writing run side by side. Rows are written in the order they were reported, by one
/// thread, so the bytes are the same as if the loop wrote them itself. When the files are
/// slower than the model, the model waits for the thread (at most `BATCHES_IN_FLIGHT` batches
/// are pending), so memory stays bounded.
pub struct CsvRecorder {
    batch: Vec<Row>,
    timeline: bool,
    /// The latest occupancy, not passed on until time moves on: one row per instant, so the
    /// several changes of one event never show as rows of their own.
    occupancy_pending: Option<(SimTime, Occupancy)>,
    occupancy_sent: Occupancy,
    to_writer: Option<SyncSender<Vec<Row>>>,
    /// Batches the writer has emptied, reused rather than allocated again.
    emptied: Receiver<Vec<Row>>,
    writer: Option<JoinHandle<(io::Result<()>, Option<ChartData>)>>,
}

impl CsvRecorder {
    /// Creates the files in `dir` and starts the writer thread. `charts`: gather what the
    /// charts need while writing.
    pub fn create(dir: &Path, cfg: &Config, timeline: bool, charts: bool) -> io::Result<Self> {
        let mut writer = RowWriter::create(dir, cfg.clone(), timeline, charts)?;
        let (to_writer, batches) = sync_channel::<Vec<Row>>(BATCHES_IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<Row>>(BATCHES_IN_FLIGHT + 1);
        let thread = std::thread::Builder::new().name("csv-writer".into()).spawn(move || {
            let mut result = Ok(());
            for mut batch in batches {
                if result.is_ok() {
                    result = batch.iter().try_for_each(|row| writer.write(row));
                }
                batch.clear();
                let _ = give_back.try_send(batch);
            }
            (result.and_then(|()| writer.flush()), writer.charts)
        })?;
        Ok(CsvRecorder {
            batch: Vec::with_capacity(BATCH),
            timeline,
            occupancy_pending: None,
            occupancy_sent: Occupancy::default(),
            to_writer: Some(to_writer),
            emptied,
            writer: Some(thread),
        })
    }

    fn push(&mut self, row: Row) {
        self.batch.push(row);
        if self.batch.len() == BATCH {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        let next = self.emptied.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
        // A send fails only if the writer thread is gone, which only a panic does: finish()
        // reports it.
        let _ = self.to_writer.as_ref().expect("only finish() drops the sender").send(batch);
    }

    fn pass_on_occupancy(&mut self) {
        if let Some((time, now)) = self.occupancy_pending.take()
            && now != self.occupancy_sent
        {
            self.occupancy_sent = now;
            self.push(Row::Occupancy { time, now });
        }
    }

    /// Waits for every row to be written; the first error of the whole run, if any. Gives back
    /// the charts' aggregates, which still lack `instances.csv`'s rows.
    pub fn finish(mut self) -> io::Result<Option<ChartData>> {
        self.pass_on_occupancy();
        self.hand_over();
        drop(self.to_writer.take());
        let writer = self.writer.take().expect("finish() runs once");
        let (result, charts) =
            writer.join().unwrap_or_else(|_| (Err(io::Error::other("the CSV writer thread panicked")), None));
        result.map(|()| charts)
    }
}

impl Drop for CsvRecorder {
    /// A recorder dropped without `finish` (a run that failed elsewhere) still ends its thread.
    fn drop(&mut self) {
        drop(self.to_writer.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Recorder for CsvRecorder {
    #[inline]
    fn state_change(&mut self, time: SimTime, entity: Entity, from: Option<State>, to: State, cause: Cause) {
        // Without the timeline no one reads state changes (the charts that would are not drawn).
        if self.timeline {
            self.push(Row::State { time, entity, from, to, cause });
        }
    }

    fn request(&mut self, request: &RequestRecord) {
        self.push(Row::Request(*request));
    }

    fn call_added(&mut self, client: u32, row: &TraceRow) {
        self.push(Row::CallAdded { client, row: Box::new(row.clone()) });
    }

    #[inline]
    fn occupancy(&mut self, time: SimTime, now: Occupancy) {
        if self.occupancy_pending.is_some_and(|(t, _)| t != time) {
            self.pass_on_occupancy();
        }
        self.occupancy_pending = Some((time, now));
    }
}

/// The writer thread's side: formats rows into the files and feeds the charts' aggregates.
struct RowWriter {
    names: Names,
    cfg: Config,
    timeline: Option<BufWriter<File>>,
    requests: BufWriter<File>,
    occupancy: BufWriter<File>,
    charts: Option<ChartData>,
}

impl RowWriter {
    fn create(dir: &Path, cfg: Config, timeline: bool, charts: bool) -> io::Result<Self> {
        let open = |name: &str, header: &str| -> io::Result<BufWriter<File>> {
            let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        Ok(RowWriter {
            names: Names::new(&cfg),
            timeline: if timeline { Some(open("timeline.csv", TIMELINE_HEADER)?) } else { None },
            requests: open("requests.csv", REQUESTS_HEADER)?,
            occupancy: open("occupancy.csv", OCCUPANCY_HEADER)?,
            charts: charts.then(|| ChartData::new(timeline)),
            cfg,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(t) = self.timeline.as_mut() {
            t.flush()?;
        }
        self.requests.flush()?;
        self.occupancy.flush()
    }

    fn write(&mut self, row: &Row) -> io::Result<()> {
        match *row {
            Row::CallAdded { client, ref row } => {
                let ClientKind::Trace { rows } = &mut self.cfg.clients[client as usize].kind else {
                    unreachable!("calls are added to trace clients only")
                };
                Arc::make_mut(rows).push(TraceRow::clone(row));
                Ok(())
            }
            Row::State { time, entity, from, to, cause } => self.write_state(time, entity, from, to, cause),
            Row::Request(ref request) => {
                if let Some(charts) = &mut self.charts {
                    charts.request(request.action.as_str(), request.sent, request.error.map(|e| e.as_str()));
                }
                self.write_request(request)
            }
            Row::Occupancy { time, now } => {
                if let Some(charts) = &mut self.charts {
                    charts.occupancy(time, now.cvms_alive, now.quota_in_use);
                }
                let out = &mut self.occupancy;
                write_time(out, time)?;
                out.write_all(b",")?;
                out.write_all(itoa::Buffer::new().format(now.cvms_alive).as_bytes())?;
                out.write_all(b",")?;
                out.write_all(itoa::Buffer::new().format(now.quota_in_use).as_bytes())?;
                out.write_all(b"\n")
            }
        }
    }

    fn write_state(
        &mut self,
        time: SimTime,
        entity: Entity,
        from: Option<State>,
        to: State,
        cause: Cause,
    ) -> io::Result<()> {
        let Some(out) = self.timeline.as_mut() else { return Ok(()) };
        if let (Entity::Instance(i), State::Instance(state), Some(charts)) = (entity, to, &mut self.charts) {
            charts.instance_state(time, i, state);
        }
        write_time(out, time)?;
        out.write_all(b",")?;
        self.names.write_entity(out, entity)?;
        out.write_all(b",")?;
        out.write_all(from.map_or("", State::as_str).as_bytes())?;
        out.write_all(b",")?;
        out.write_all(to.as_str().as_bytes())?;
        out.write_all(b",")?;
        out.write_all(cause.as_str().as_bytes())?;
        out.write_all(b"\n")
    }

    fn write_request(&mut self, r: &RequestRecord) -> io::Result<()> {
        let out = &mut self.requests;
        let (client, account) = &self.names.clients[r.client as usize];
        out.write_all(&request_id(self.names.seed, r.number))?;
        let config = &self.cfg.clients[r.client as usize];
        match &config.kind {
            ClientKind::Trace { .. } => write!(out, ",{client},{},", escape(config.account_of(r.target)))?,
            _ => write!(out, ",{client},{account},")?,
        }
        out.write_all(r.action.as_str().as_bytes())?;
        out.write_all(b",")?;
        match config.kind.call(r.target) {
            CallRef::TerminateJob { job } => out.write_all(escape(job).as_bytes())?,
            CallRef::CancelTask { task_id } => out.write_all(escape(task_id).as_bytes())?,
            CallRef::CancelInvocation { invocation, .. } => out.write_all(escape(invocation).as_bytes())?,
            CallRef::Describe { ids, task, instances, .. } => {
                out.write_all(escape(&describe_target(ids, task, instances)).as_bytes())?
            }
            CallRef::TerminateTaskInstance { job, task, index } => {
                let (job_cell, task_cell) = (escape(job), escape(task));
                if matches!((&job_cell, &task_cell), (Cow::Borrowed(_), Cow::Borrowed(_))) {
                    write!(out, "{job}/{task}/{index}")?;
                } else {
                    out.write_all(escape(&format!("{job}/{task}/{index}")).as_bytes())?;
                }
            }
        }
        out.write_all(b",")?;
        out.write_all(itoa::Buffer::new().format(r.attempt).as_bytes())?;
        out.write_all(b",")?;
        write_time(out, r.sent)?;
        out.write_all(b",")?;
        write_time(out, r.responded)?;
        match r.error {
            None => out.write_all(b",ok,\n"),
            Some(e) => writeln!(out, ",error,{}", e.as_str()),
        }
    }
}

/// The `target` cell of a Describe call: its ids separated by `;` (empty: all), DescribeTask's
/// `job/task`, and DescribeInvocationTasks' instances after a `/`.
pub(crate) fn describe_target(ids: Option<&[String]>, task: Option<&str>, instances: Option<&[String]>) -> String {
    let mut cell = ids.map(|ids| ids.join(";")).unwrap_or_default();
    if let Some(task) = task {
        cell = format!("{cell}/{task}");
    }
    if let Some(instances) = instances {
        cell = format!("{cell}/{}", instances.join(";"));
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_six_decimals() {
        let mut v = Vec::new();
        write_time(&mut v, SimTime(100_020_000)).unwrap();
        assert_eq!(v, b"100.020000");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_error_on_the_writer_thread_fails_the_run() {
        // occupancy.csv is /dev/full, which fails every write with ENOSPC.
        let dir = std::env::temp_dir().join(format!("termsim-csv-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.join("occupancy.csv")).unwrap();
        let text = r#"{ "name": "t", "jobs": [ { "id": "job-a0000001", "tasks": [ { "name": "a", "instances": 1, "runtime": "1s" } ] } ] }"#;
        let scenario = crate::scenario::parse(text, Path::new("t.json")).unwrap();
        let mut recorder = CsvRecorder::create(&dir, &scenario.config, false, true).unwrap();
        // Three million rows: far more than the buffers hold, so the writes happen mid-run.
        for t in 1..=3_000_000u64 {
            recorder.occupancy(SimTime(t), Occupancy { cvms_alive: t % 7, quota_in_use: t % 5 });
        }
        let err = recorder.finish().expect_err("the disk is full");
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
