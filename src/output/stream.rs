//! The outputs written while the model runs: the timeline, the requests and the occupancy.
//!
//! The model's reports are kept as plain rows and written on a thread of their own, in CSV
//! ([`super::csv`]) or Parquet ([`super::parquet`]): no `String` per row, memory flat however
//! long the timeline grows ([`StreamRecorder`] explains the threading). The same thread hands
//! each row to the charts' aggregates ([`ChartData`]), so that what the charts are drawn from is
//! exactly what the files say, in either format.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::engine::SimTime;
use crate::model::config::{CallRef, Client, ClientKind, Config, TraceRow};
use crate::model::{Cause, Entity, Occupancy, Recorder, RequestRecord, State};

use super::Format;
use super::charts::ChartData;
use super::names::Names;

/// What the model reported, kept as data until the writer thread writes it.
#[derive(Clone, Debug)]
enum Row {
    State {
        time: SimTime,
        entity: Entity,
        from: Option<State>,
        to: State,
        cause: Cause,
    },
    /// Boxed: requests are few, and a row as large as a request would double the traffic of
    /// the state changes, which are most rows.
    Request(Box<RequestRecord>),
    /// The counts in 32 bits, which is enough for every scenario the loader accepts (fewer
    /// than 2^24 instances): 64-bit counts would make every row a third larger.
    Occupancy {
        time: SimTime,
        cvms_alive: u32,
        quota_in_use: u32,
    },
    /// Counts beyond 32 bits, should any run ever reach them.
    WideOccupancy(Box<(SimTime, Occupancy)>),
    /// A call added to a trace client during the run: the writer's copy of the clients learns
    /// it before the request that names it.
    CallAdded {
        client: u32,
        row: Box<TraceRow>,
    },
}

/// A format's writer of the streamed files, on the writer thread.
pub(crate) trait RowSink: Send + 'static {
    /// A state change (only when the timeline is written).
    fn state(
        &mut self,
        names: &Names,
        time: SimTime,
        entity: Entity,
        from: Option<State>,
        to: State,
        cause: Cause,
    ) -> io::Result<()>;
    /// An API call; `client` is its client's configuration, with the calls added so far.
    fn request(&mut self, names: &Names, client: &Client, request: &RequestRecord) -> io::Result<()>;
    /// The counts at the end of an instant at which they changed.
    fn occupancy(&mut self, time: SimTime, now: Occupancy) -> io::Result<()>;
    /// Writes what is buffered and closes the files.
    fn finish(&mut self) -> io::Result<()>;
}

/// A request's `target` cell, unquoted: the job, the instance (`job/task/index`), the DLC task,
/// the invocation, or a Describe call's ids (see [`describe_target`]).
pub(crate) fn write_target(out: &mut Vec<u8>, client: &Client, target: u32) {
    match client.kind.call(target) {
        CallRef::TerminateJob { job } => out.extend_from_slice(job.as_bytes()),
        CallRef::CancelTask { task_id } => out.extend_from_slice(task_id.as_bytes()),
        CallRef::CancelInvocation { invocation, .. } => out.extend_from_slice(invocation.as_bytes()),
        CallRef::Describe { ids, task, instances, .. } => {
            out.extend_from_slice(describe_target(ids, task, instances).as_bytes())
        }
        CallRef::TerminateTaskInstance { job, task, index } => {
            out.extend_from_slice(job.as_bytes());
            out.push(b'/');
            out.extend_from_slice(task.as_bytes());
            out.push(b'/');
            out.extend_from_slice(itoa::Buffer::new().format(index).as_bytes());
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

/// The account a request is made with: a trace call's own, or its client's.
pub(crate) fn account_of(client: &Client, target: u32) -> &str {
    match &client.kind {
        ClientKind::Trace { .. } => client.account_of(target),
        _ => &client.account,
    }
}

/// Rows handed to the writer thread at a time, and how many such batches may wait for it.
const BATCH: usize = 8192;
const BATCHES_IN_FLIGHT: usize = 4;

/// The model's recorder for a run that writes files: it keeps what the model reports as plain
/// rows and hands them, a batch at a time, to a thread that writes the timeline (unless
/// disabled), the requests and the occupancy in the run's format, and feeds the charts'
/// aggregates.
///
/// The event loop thus never formats a number, encodes a page or enters the kernel: on two
/// cores the model and the writing run side by side. Rows are written in the order they were
/// reported, by one thread, so the bytes are the same as if the loop wrote them itself. When the
/// files are slower than the model, the model waits for the thread (at most `BATCHES_IN_FLIGHT`
/// batches are pending), so memory stays bounded.
pub struct StreamRecorder {
    batch: Vec<Row>,
    timeline: bool,
    format: Format,
    /// The latest occupancy, not passed on until time moves on: one row per instant, so the
    /// several changes of one event never show as rows of their own.
    occupancy_pending: Option<(SimTime, Occupancy)>,
    occupancy_sent: Occupancy,
    to_writer: Option<SyncSender<Vec<Row>>>,
    /// Batches the writer has emptied, reused rather than allocated again.
    emptied: Receiver<Vec<Row>>,
    writer: Option<JoinHandle<(io::Result<()>, Option<ChartData>)>>,
}

/// The writer thread's state: the run's names and clients, the charts' aggregates, the files.
struct Stream<S> {
    names: Names,
    cfg: Config,
    charts: Option<ChartData>,
    sink: S,
}

impl<S: RowSink> Stream<S> {
    fn write(&mut self, row: &Row) -> io::Result<()> {
        match *row {
            Row::State { time, entity, from, to, cause } => {
                if let (Entity::Instance(i), State::Instance(state), Some(charts)) = (entity, to, &mut self.charts) {
                    charts.instance_state(time, i, state);
                }
                self.sink.state(&self.names, time, entity, from, to, cause)
            }
            Row::Request(ref request) => {
                if let Some(charts) = &mut self.charts {
                    charts.request(request.action.as_str(), request.sent, request.error.map(|e| e.as_str()));
                }
                self.sink.request(&self.names, &self.cfg.clients[request.client as usize], request)
            }
            Row::Occupancy { time, cvms_alive, quota_in_use } => {
                let now = Occupancy { cvms_alive: cvms_alive.into(), quota_in_use: quota_in_use.into() };
                self.occupancy(time, now)
            }
            Row::WideOccupancy(ref wide) => self.occupancy(wide.0, wide.1),
            Row::CallAdded { client, ref row } => {
                let ClientKind::Trace { rows } = &mut self.cfg.clients[client as usize].kind else {
                    unreachable!("calls are added to trace clients only")
                };
                Arc::make_mut(rows).push(TraceRow::clone(row));
                Ok(())
            }
        }
    }

    fn occupancy(&mut self, time: SimTime, now: Occupancy) -> io::Result<()> {
        if let Some(charts) = &mut self.charts {
            charts.occupancy(time, now.cvms_alive, now.quota_in_use);
        }
        self.sink.occupancy(time, now)
    }

    /// The thread's work: every batch, then the end of the files. After a failed write the rest
    /// is drained unwritten, so the model never waits on a thread that stopped.
    fn run(
        mut self,
        batches: Receiver<Vec<Row>>,
        give_back: SyncSender<Vec<Row>>,
    ) -> (io::Result<()>, Option<ChartData>) {
        let mut result = Ok(());
        for mut batch in batches {
            if result.is_ok() {
                result = batch.iter().try_for_each(|row| self.write(row));
            }
            batch.clear();
            let _ = give_back.try_send(batch);
        }
        (result.and_then(|()| self.sink.finish()), self.charts)
    }
}

impl StreamRecorder {
    /// Creates the files in `dir` and starts the writer thread. `charts`: gather what the
    /// charts need while writing.
    pub fn create(dir: &Path, cfg: &Config, timeline: bool, charts: bool, format: Format) -> io::Result<Self> {
        let charts = charts.then(|| ChartData::new(timeline));
        let names = Names::new(cfg);
        let (to_writer, batches) = sync_channel::<Vec<Row>>(BATCHES_IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<Row>>(BATCHES_IN_FLIGHT + 1);
        let thread = std::thread::Builder::new().name("stream-writer".into());
        let writer = match format {
            Format::Csv => {
                let sink = super::csv::CsvSink::create(dir, timeline)?;
                let stream = Stream { names, cfg: cfg.clone(), charts, sink };
                thread.spawn(move || stream.run(batches, give_back))?
            }
            Format::Parquet => {
                let sink = super::parquet::ParquetSink::create(dir, timeline)?;
                let stream = Stream { names, cfg: cfg.clone(), charts, sink };
                thread.spawn(move || stream.run(batches, give_back))?
            }
        };
        Ok(StreamRecorder {
            batch: Vec::with_capacity(BATCH),
            timeline,
            format,
            occupancy_pending: None,
            occupancy_sent: Occupancy::default(),
            to_writer: Some(to_writer),
            emptied,
            writer: Some(writer),
        })
    }

    /// The format of the files.
    pub fn format(&self) -> Format {
        self.format
    }

    #[inline]
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
            self.push(match (u32::try_from(now.cvms_alive), u32::try_from(now.quota_in_use)) {
                (Ok(cvms_alive), Ok(quota_in_use)) => Row::Occupancy { time, cvms_alive, quota_in_use },
                _ => Row::WideOccupancy(Box::new((time, now))),
            });
        }
    }

    /// Waits for every row to be written; the first error of the whole run, if any. Gives back
    /// the charts' aggregates, which still lack the instances' rows.
    pub fn finish(mut self) -> io::Result<Option<ChartData>> {
        self.pass_on_occupancy();
        self.hand_over();
        drop(self.to_writer.take());
        let writer = self.writer.take().expect("finish() runs once");
        let (result, charts) =
            writer.join().unwrap_or_else(|_| (Err(io::Error::other("the writer thread panicked")), None));
        result.map(|()| charts)
    }
}

impl Drop for StreamRecorder {
    /// A recorder dropped without `finish` (a run that failed elsewhere) still ends its thread.
    fn drop(&mut self) {
        drop(self.to_writer.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Recorder for StreamRecorder {
    #[inline]
    fn state_change(&mut self, time: SimTime, entity: Entity, from: Option<State>, to: State, cause: Cause) {
        // Without the timeline no one reads state changes (the charts that would are not drawn).
        if self.timeline {
            self.push(Row::State { time, entity, from, to, cause });
        }
    }

    fn request(&mut self, request: &RequestRecord) {
        self.push(Row::Request(Box::new(*request)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_change_row_is_no_larger_than_three_words() {
        assert!(size_of::<Row>() <= 24, "{} bytes", size_of::<Row>());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_error_on_the_writer_thread_fails_the_run() {
        for format in [Format::Csv, Format::Parquet] {
            // The occupancy file is /dev/full, which fails every write with ENOSPC.
            let dir = tempfile::tempdir().unwrap();
            let name = format!("occupancy.{}", format.extension());
            std::os::unix::fs::symlink("/dev/full", dir.path().join(name)).unwrap();
            let text = r#"{ "name": "t", "jobs": [ { "id": "job-a0000001", "tasks": [ { "name": "a", "instances": 1, "runtime": "1s" } ] } ] }"#;
            let scenario = crate::scenario::parse(text, Path::new("t.json")).unwrap();
            let mut recorder = StreamRecorder::create(dir.path(), &scenario.config, false, true, format).unwrap();
            // Three million rows: far more than the buffers hold, so the writes happen mid-run.
            for t in 1..=3_000_000u64 {
                recorder.occupancy(SimTime(t), Occupancy { cvms_alive: t % 7, quota_in_use: t % 5 });
            }
            let err = recorder.finish().expect_err("the disk is full");
            assert_eq!(err.raw_os_error(), Some(28), "{format:?}: {err}");
        }
    }
}
