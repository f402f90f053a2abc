//! The outputs written while the model runs: the timeline, the requests and the occupancy.
//!
//! The model's reports are kept as plain rows and written on a thread of their own, in CSV
//! ([`super::csv`]) or Parquet ([`super::parquet`]): no `String` per row, memory flat however
//! long the timeline grows ([`StreamRecorder`] explains the threading). The same thread hands
//! each row to the charts' aggregates ([`ChartData`]), so that what the charts are drawn from is
//! exactly what the files say, in either format.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::engine::SimTime;
use crate::model::config::{CallRef, Client, ClientKind, Config, TraceRow};
use crate::model::{Cause, Entity, InstanceState, Occupancy, Recorder, RequestRecord, State};

use super::Format;
use super::charts::ChartData;
use super::names::{INSTANCE_KIND, Names, entity_of, entity_parts};

/// A state change as the writers receive it, in 16 bytes: most of what the model reports is
/// these, so their size is most of the traffic between the model and the writers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StateRow {
    pub(crate) time: SimTime,
    /// The entity's index within its kind ([`entity_parts`]).
    pub(crate) index: u32,
    /// The entity's kind ([`entity_parts`]).
    pub(crate) kind: u8,
    /// [`State::index`] plus one; 0 for a new entity.
    from: u8,
    /// [`State::index`].
    pub(crate) to: u8,
    /// `Cause as u8`.
    pub(crate) cause: u8,
}

impl StateRow {
    #[inline]
    fn new(time: SimTime, entity: Entity, from: Option<State>, to: State, cause: Cause) -> Self {
        let (kind, index) = entity_parts(entity);
        let from = from.map_or(0, |s| s.index() as u8 + 1);
        StateRow { time, index, kind, from, to: to.index() as u8, cause: cause as u8 }
    }

    #[inline]
    pub(crate) fn entity(self) -> Entity {
        entity_of(self.kind, self.index)
    }

    /// [`State::index`] of the state before, if there was one.
    #[inline]
    pub(crate) fn from(self) -> Option<usize> {
        (self.from > 0).then(|| usize::from(self.from) - 1)
    }
}

/// The names of the states, by [`State::index`].
pub(crate) fn state_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| State::all().map(State::as_str).collect())
}

/// What the model reported besides state changes, kept as data until the writer thread writes
/// it.
#[derive(Clone, Debug)]
enum Row {
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

/// What the recorder hands the writer thread: a page of state changes, or a batch of the rest.
/// Each kind keeps its order; across kinds there is none (a page of states goes when it is
/// full, a batch of other rows when it is), which the sinks do not need: every kind is a file
/// of its own, and the charts fed from several kinds do not compare them by arrival.
enum Message {
    States(Vec<StateRow>),
    Rows(Vec<Row>),
}

/// A format's writer of the streamed files, on the writer thread.
pub(crate) trait RowSink: Send + 'static {
    /// A page of state changes (only when the timeline is written). A sink that keeps the page
    /// beyond the call keeps a clone of the `Arc`: the page is reused once every clone is gone.
    fn states(&mut self, names: &Arc<Names>, page: &Arc<Vec<StateRow>>) -> io::Result<()>;
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

/// Rows handed to the writer thread at a time, and how many such batches may wait for it.
const BATCH: usize = 8192;
const BATCHES_IN_FLIGHT: usize = 4;
/// State changes handed over at a time: a page of the Parquet timeline.
const STATE_PAGE: usize = super::parquet::table::PAGE_ROWS;

/// The model's recorder for a run that writes files: it keeps what the model reports as plain
/// rows and hands them, a page or a batch at a time, to a thread that writes the timeline
/// (unless disabled), the requests and the occupancy in the run's format, and feeds the charts'
/// aggregates.
///
/// The event loop thus never formats a number, encodes a page or enters the kernel: on two
/// cores the model and the writing run side by side. Rows are written in the order they were
/// reported, so the bytes are the same as if the loop wrote them itself. When the files are
/// slower than the model, the model waits for the thread (at most `BATCHES_IN_FLIGHT` messages
/// are pending), so memory stays bounded.
pub struct StreamRecorder {
    states: Vec<StateRow>,
    batch: Vec<Row>,
    timeline: bool,
    format: Format,
    /// The latest occupancy, not passed on until time moves on: one row per instant, so the
    /// several changes of one event never show as rows of their own.
    occupancy_pending: Option<(SimTime, Occupancy)>,
    occupancy_sent: Occupancy,
    to_writer: Option<SyncSender<Message>>,
    /// Batches and pages the writer has emptied, reused rather than allocated again.
    emptied: Receiver<Vec<Row>>,
    emptied_states: Receiver<Vec<StateRow>>,
    writer: Option<JoinHandle<(io::Result<()>, Option<ChartData>)>>,
}

/// The writer thread's state: the run's names and clients, the charts' aggregates, the files.
struct Stream<S> {
    names: Arc<Names>,
    cfg: Config,
    charts: Option<ChartData>,
    sink: S,
    /// Pages handed to the sink, oldest first, until the sink has let go of them.
    lent: VecDeque<Arc<Vec<StateRow>>>,
}

impl<S: RowSink> Stream<S> {
    fn states(&mut self, page: Vec<StateRow>) -> io::Result<()> {
        if let Some(charts) = &mut self.charts {
            for row in page.iter().filter(|r| r.kind == INSTANCE_KIND) {
                if let Some(&state) = InstanceState::ALL.get(usize::from(row.to)) {
                    charts.instance_state(row.time, row.index, state);
                }
            }
        }
        let page = Arc::new(page);
        let written = self.sink.states(&self.names, &page);
        self.lent.push_back(page);
        written
    }

    /// The next page the sink is done with, emptied.
    fn returned_page(&mut self) -> Option<Vec<StateRow>> {
        if Arc::strong_count(self.lent.front()?) > 1 {
            return None;
        }
        let mut page = Arc::try_unwrap(self.lent.pop_front()?).ok()?;
        page.clear();
        Some(page)
    }

    fn write(&mut self, row: &Row) -> io::Result<()> {
        match *row {
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

    /// The thread's work: every page and batch, then the end of the files. After a failed write
    /// the rest is drained unwritten, so the model never waits on a thread that stopped.
    fn run(
        mut self,
        messages: Receiver<Message>,
        give_back: SyncSender<Vec<Row>>,
        give_back_states: SyncSender<Vec<StateRow>>,
    ) -> (io::Result<()>, Option<ChartData>) {
        let mut result = Ok(());
        for message in messages {
            match message {
                Message::States(page) => {
                    if result.is_ok() {
                        result = self.states(page);
                    }
                }
                Message::Rows(mut batch) => {
                    if result.is_ok() {
                        result = batch.iter().try_for_each(|row| self.write(row));
                    }
                    batch.clear();
                    let _ = give_back.try_send(batch);
                }
            }
            while let Some(page) = self.returned_page() {
                let _ = give_back_states.try_send(page);
            }
        }
        (result.and_then(|()| self.sink.finish()), self.charts)
    }
}

impl StreamRecorder {
    /// Creates the files in `dir` and starts the writer thread. `charts`: gather what the
    /// charts need while writing.
    pub fn create(dir: &Path, cfg: &Config, timeline: bool, charts: bool, format: Format) -> io::Result<Self> {
        let charts = charts.then(|| ChartData::new(timeline));
        let names = Arc::new(Names::new(cfg));
        let (to_writer, messages) = sync_channel::<Message>(BATCHES_IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<Row>>(BATCHES_IN_FLIGHT + 1);
        let (give_back_states, emptied_states) = sync_channel::<Vec<StateRow>>(2 * BATCHES_IN_FLIGHT + 2);
        let thread = std::thread::Builder::new().name("stream-writer".into());
        let lent = VecDeque::new();
        let writer = match format {
            Format::Csv => {
                let sink = super::csv::CsvSink::create(dir, timeline)?;
                let stream = Stream { names, cfg: cfg.clone(), charts, sink, lent };
                thread.spawn(move || stream.run(messages, give_back, give_back_states))?
            }
            Format::Parquet => {
                let sink = super::parquet::ParquetSink::create(dir, timeline)?;
                let stream = Stream { names, cfg: cfg.clone(), charts, sink, lent };
                thread.spawn(move || stream.run(messages, give_back, give_back_states))?
            }
        };
        Ok(StreamRecorder {
            states: Vec::new(),
            batch: Vec::with_capacity(BATCH),
            timeline,
            format,
            occupancy_pending: None,
            occupancy_sent: Occupancy::default(),
            to_writer: Some(to_writer),
            emptied,
            emptied_states,
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
        self.send(Message::Rows(batch));
    }

    #[inline]
    fn push_state(&mut self, row: StateRow) {
        if self.states.len() == self.states.capacity() {
            self.grow_states();
        }
        self.states.push(row);
    }

    /// A page starts small (a small run never touches 2 MB), grows up to [`STATE_PAGE`] rows,
    /// and is handed over when full.
    #[cold]
    fn grow_states(&mut self) {
        let len = self.states.len();
        if len < STATE_PAGE {
            self.states.reserve_exact((2 * len).clamp(1024, STATE_PAGE) - len);
        } else {
            self.hand_over_states();
        }
    }

    fn hand_over_states(&mut self) {
        let next = self.emptied_states.try_recv().unwrap_or_else(|_| Vec::with_capacity(STATE_PAGE));
        let page = std::mem::replace(&mut self.states, next);
        self.send(Message::States(page));
    }

    fn send(&mut self, message: Message) {
        // A send fails only if the writer thread is gone, which only a panic does: finish()
        // reports it.
        let _ = self.to_writer.as_ref().expect("only finish() drops the sender").send(message);
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
        if !self.states.is_empty() {
            self.hand_over_states();
        }
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
            self.push_state(StateRow::new(time, entity, from, to, cause));
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
    fn a_state_change_is_sixteen_bytes_and_keeps_what_it_was_given() {
        assert_eq!(size_of::<StateRow>(), 16);
        for (i, to) in State::all().enumerate() {
            let from = State::all().nth((i + 7) % State::COUNT);
            let cause = Cause::ALL[i % Cause::ALL.len()];
            for entity in [Entity::Job(0), Entity::Instance(u32::MAX), Entity::TatInvocation(7), Entity::Node(3)] {
                let row = StateRow::new(SimTime(42), entity, from, to, cause);
                assert_eq!(row.entity(), entity);
                assert_eq!(row.from(), from.map(State::index));
                assert_eq!(state_names()[usize::from(row.to)], to.as_str());
                assert_eq!(Cause::ALL[usize::from(row.cause)], cause);
            }
            assert_eq!(StateRow::new(SimTime(1), Entity::Cvm(1), None, to, cause).from(), None);
        }
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
