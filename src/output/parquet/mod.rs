//! `--format parquet`: the tables of §4 as Parquet files, with the same columns, names and
//! values as the CSV files, typed: doubles for seconds, 64-bit integers for counts and indices,
//! strings for the rest, with a dictionary for the small vocabularies (entity, states, cause,
//! path, action, outcome, error code, and the scenario's job ids, task names, environments),
//! and nulls where a CSV cell is empty. Pages are compressed with zstd; row groups of
//! [`table::GROUP_ROWS`] rows keep the writer's memory flat.
//!
//! A time in seconds is the double nearest to the six-decimal value the CSV prints, which is
//! what a CSV reader parses it to: the two formats give readers the same numbers.

mod encode;
pub(crate) mod table;

pub(crate) use encode::append;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use bytes::Bytes;
use parquet::column::writer::ColumnCloseResult;
use parquet::schema::types::ColumnDescPtr;

use crate::engine::SimTime;
use crate::model::config::{Client, EnvRef};
use crate::model::ids::request_id;
use crate::model::{
    Action, Cause, ErrorCode, InstanceState, Occupancy, Outcome, RequestRecord, State, TerminationPath,
};

use super::cancellations;
use super::names::{ENTITY_KINDS, Names};
use super::stream::{RowSink, StateRow, write_target};
use table::{Column, Columns, Compressor, DictColumn, DoubleColumn, Int64Column, Kind, StrColumn, Table, schema};

/// Seconds as the CSV files print them, as a double.
#[inline]
fn seconds(t: SimTime) -> f64 {
    t.micros() as f64 / 1e6
}

fn vocabulary<'a>(names: impl IntoIterator<Item = &'a str>) -> Arc<[Box<str>]> {
    names.into_iter().map(Box::from).collect()
}

fn states() -> Arc<[Box<str>]> {
    vocabulary(State::all().map(State::as_str))
}

/// Declares a table's columns: a struct of them, its schema, and [`Columns`] in schema order.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident $file:literal { $($field:ident: $column:ty = $header:literal, $kind:ident, $nullable:literal;)* }) => {
        $(#[$doc])*
        struct $name {
            $($field: $column,)*
        }

        impl $name {
            const FILE: &str = $file;

            fn schema() -> Arc<parquet::schema::types::Type> {
                schema($file.trim_end_matches(".parquet"), &[$(($header, Kind::$kind, $nullable)),*])
            }
        }

        impl Columns for $name {
            fn each(&mut self) -> Vec<&mut dyn Column> {
                vec![$(&mut self.$field),*]
            }
        }
    };
}

table! {
    /// `timeline.parquet`: `time_s,entity,id,from,to,cause`.
    TimelineColumns "timeline.parquet" {
        time: DoubleColumn = "time_s", Double, false;
        entity: DictColumn = "entity", Dict, false;
        id: IdColumn = "id", Str, false;
        from: DictColumn = "from", Dict, true;
        to: DictColumn = "to", Dict, false;
        cause: DictColumn = "cause", Dict, false;
    }
}

table! {
    /// `requests.parquet`, with the columns of `requests.csv`.
    RequestColumns "requests.parquet" {
        request_id: StrColumn = "request_id", Str, false;
        client: StrColumn = "client", Str, false;
        account: StrColumn = "account", Str, false;
        action: DictColumn = "action", Dict, false;
        target: StrColumn = "target", Str, false;
        attempt: Int64Column = "attempt", Int64, false;
        sent: DoubleColumn = "sent_s", Double, false;
        responded: DoubleColumn = "responded_s", Double, false;
        outcome: DictColumn = "outcome", Dict, false;
        error_code: DictColumn = "error_code", Dict, true;
    }
}

table! {
    /// `occupancy.parquet`: `time_s,cvms_alive,quota_in_use`.
    OccupancyColumns "occupancy.parquet" {
        time: DoubleColumn = "time_s", Double, false;
        cvms_alive: Int64Column = "cvms_alive", Int64, false;
        quota_in_use: Int64Column = "quota_in_use", Int64, false;
    }
}

table! {
    /// `instances.parquet`, with the columns of `instances.csv`.
    InstanceColumns "instances.parquet" {
        job_id: DictColumn = "job_id", Dict, false;
        task: DictColumn = "task", Dict, false;
        index: Int64Column = "index", Int64, false;
        env: DictColumn = "env", Dict, false;
        final_state: DictColumn = "final_state", Dict, false;
        path: DictColumn = "path", Dict, false;
        requested: DoubleColumn = "terminate_requested_s", Double, true;
        terminated: DoubleColumn = "terminated_s", Double, true;
        released: DoubleColumn = "released_s", Double, true;
        termination_latency: DoubleColumn = "termination_latency_s", Double, true;
        release_latency: DoubleColumn = "release_latency_s", Double, true;
    }
}

table! {
    /// `cancellations.parquet`, with the columns of `cancellations.csv`.
    CancellationColumns "cancellations.parquet" {
        service: DictColumn = "service", Dict, false;
        id: StrColumn = "id", Str, false;
        instance_id: StrColumn = "instance_id", Str, true;
        final_state: DictColumn = "final_state", Dict, true;
        requested: DoubleColumn = "cancel_requested_s", Double, true;
        cancelled: DoubleColumn = "cancelled_s", Double, true;
        latency: DoubleColumn = "cancel_latency_s", Double, true;
    }
}

/// The timeline's `id` column, encoded and compressed on a thread of its own: formatting 100
/// million ids and compressing their digits is half of the timeline's work, and the other
/// columns do not wait for it. Pages go to the thread as they come; a chunk is asked for at the
/// end of each row group.
struct IdColumn {
    jobs: Option<SyncSender<IdJob>>,
    chunks: Receiver<io::Result<(Bytes, ColumnCloseResult)>>,
    thread: Option<JoinHandle<()>>,
}

enum IdJob {
    Page(Arc<Names>, Arc<Vec<StateRow>>),
    EndChunk(ColumnDescPtr),
}

impl IdColumn {
    fn start() -> io::Result<Self> {
        let (jobs, received) = sync_channel::<IdJob>(4);
        let (done, chunks) = sync_channel(1);
        let mut z = Compressor::new()?;
        let thread = std::thread::Builder::new().name("timeline-ids".into()).spawn(move || {
            let mut column = StrColumn::new(false);
            let mut failed = None;
            for job in received {
                match job {
                    IdJob::Page(names, page) => {
                        for row in page.iter() {
                            column.push_with(|bytes| names.write_id(bytes, row.entity()));
                        }
                        let rows = page.len();
                        drop(page);
                        if failed.is_none() {
                            failed = column.end_page(&mut z, rows).err();
                        }
                    }
                    IdJob::EndChunk(descr) => {
                        let chunk = match failed.take() {
                            Some(e) => Err(e),
                            None => column.end_chunk(descr, &mut z),
                        };
                        if done.send(chunk).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
        Ok(IdColumn { jobs: Some(jobs), chunks, thread: Some(thread) })
    }

    fn page(&mut self, names: &Arc<Names>, page: &Arc<Vec<StateRow>>) -> io::Result<()> {
        self.send(IdJob::Page(names.clone(), page.clone()))
    }

    fn send(&mut self, job: IdJob) -> io::Result<()> {
        let stopped = || io::Error::other("the timeline's id thread stopped");
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())
    }
}

impl Column for IdColumn {
    fn end_page(&mut self, _: &mut Compressor, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn end_chunk(&mut self, descr: ColumnDescPtr, _: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)> {
        self.send(IdJob::EndChunk(descr))?;
        self.chunks.recv().map_err(|_| io::Error::other("the timeline's id thread stopped"))?
    }
}

impl Drop for IdColumn {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Parquet writers of the streamed files.
pub(crate) struct ParquetSink {
    timeline: Option<Table<TimelineColumns>>,
    requests: Option<Table<RequestColumns>>,
    occupancy: Option<Table<OccupancyColumns>>,
}

impl ParquetSink {
    pub(crate) fn create(dir: &Path, timeline: bool) -> io::Result<Self> {
        let timeline = if timeline {
            let states = states();
            let columns = TimelineColumns {
                time: DoubleColumn::new(false),
                entity: DictColumn::new(vocabulary(ENTITY_KINDS), false),
                id: IdColumn::start()?,
                from: DictColumn::new(states.clone(), true),
                to: DictColumn::new(states, false),
                cause: DictColumn::new(vocabulary(Cause::ALL.map(Cause::as_str)), false),
            };
            Some(Table::create(&dir.join(TimelineColumns::FILE), TimelineColumns::schema(), columns)?)
        } else {
            None
        };
        let requests = RequestColumns {
            request_id: StrColumn::new(false),
            client: StrColumn::new(false),
            account: StrColumn::new(false),
            action: DictColumn::new(vocabulary(Action::ALL.map(Action::as_str)), false),
            target: StrColumn::new(false),
            attempt: Int64Column::new(),
            sent: DoubleColumn::new(false),
            responded: DoubleColumn::new(false),
            outcome: DictColumn::new(vocabulary(["ok", "error"]), false),
            error_code: DictColumn::new(vocabulary(ErrorCode::ALL.map(ErrorCode::as_str)), true),
        };
        let occupancy = OccupancyColumns {
            time: DoubleColumn::new(false),
            cvms_alive: Int64Column::new(),
            quota_in_use: Int64Column::new(),
        };
        Ok(ParquetSink {
            timeline,
            requests: Some(Table::create(&dir.join(RequestColumns::FILE), RequestColumns::schema(), requests)?),
            occupancy: Some(Table::create(&dir.join(OccupancyColumns::FILE), OccupancyColumns::schema(), occupancy)?),
        })
    }
}

impl RowSink for ParquetSink {
    fn states(&mut self, names: &Arc<Names>, page: &Arc<Vec<StateRow>>) -> io::Result<()> {
        let Some(table) = self.timeline.as_mut() else { return Ok(()) };
        let c = &mut table.columns;
        c.id.page(names, page)?;
        // A column at a time: each loop is short and tight.
        for row in page.iter() {
            c.time.push(seconds(row.time));
        }
        for row in page.iter() {
            c.entity.push(usize::from(row.kind));
        }
        for row in page.iter() {
            c.from.push_option(row.from());
        }
        for row in page.iter() {
            c.to.push(usize::from(row.to));
        }
        for row in page.iter() {
            c.cause.push(usize::from(row.cause));
        }
        table.page_done(page.len())
    }

    fn request(&mut self, names: &Names, client: &Client, r: &RequestRecord) -> io::Result<()> {
        let table = self.requests.as_mut().expect("open until finish");
        let c = &mut table.columns;
        c.request_id.push(&request_id(names.seed, r.number));
        c.client.push(client.name.as_bytes());
        c.account.push(client.account_of(r.target).as_bytes());
        c.action.push(r.action.index());
        c.target.push_with(|bytes| write_target(bytes, client, r.target));
        c.attempt.push(i64::from(r.attempt));
        c.sent.push(seconds(r.sent));
        c.responded.push(seconds(r.responded));
        c.outcome.push(usize::from(r.error.is_some()));
        c.error_code.push_option(r.error.map(|e| e as usize));
        table.row_done()
    }

    fn occupancy(&mut self, time: SimTime, now: Occupancy) -> io::Result<()> {
        let table = self.occupancy.as_mut().expect("open until finish");
        let c = &mut table.columns;
        c.time.push(seconds(time));
        c.cvms_alive.push(now.cvms_alive as i64);
        c.quota_in_use.push(now.quota_in_use as i64);
        table.row_done()
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(table) = self.timeline.take() {
            table.finish()?;
        }
        self.requests.take().map_or(Ok(()), Table::finish)?;
        self.occupancy.take().map_or(Ok(()), Table::finish)
    }
}

/// `instances.parquet` in `dir`, with the columns of `instances.csv`.
pub(crate) fn write_instances(dir: &Path, outcome: &Outcome) -> io::Result<()> {
    let config = &outcome.config;
    // An entry per global task: its name (a name shared by tasks of several jobs is one
    // dictionary entry).
    let task_names = config.jobs.iter().flat_map(|j| j.tasks.iter().map(|t| t.name.as_str()));
    let envs = std::iter::once("anonymous").chain(config.environments.iter().map(|e| e.id.as_str()));
    let [requested, terminated, released, termination_latency, release_latency] =
        std::array::from_fn(|_| DoubleColumn::new(true));
    let columns = InstanceColumns {
        job_id: DictColumn::new(vocabulary(config.jobs.iter().map(|j| j.id.as_str())), false),
        task: DictColumn::new(vocabulary(task_names), false),
        index: Int64Column::new(),
        env: DictColumn::new(vocabulary(envs), false),
        final_state: DictColumn::new(vocabulary(InstanceState::ALL.map(InstanceState::as_str)), false),
        path: DictColumn::new(vocabulary(TerminationPath::ALL.map(TerminationPath::as_str)), false),
        requested,
        terminated,
        released,
        termination_latency,
        release_latency,
    };
    let mut table = Table::create(&dir.join(InstanceColumns::FILE), InstanceColumns::schema(), columns)?;
    for (i, report) in outcome.instance_reports().enumerate() {
        let t = outcome.instances[i].task as usize;
        let runtime = &outcome.tasks[t];
        let c = &mut table.columns;
        c.job_id.push(runtime.job as usize);
        c.task.push(t);
        c.index.push(i64::from(i as u32 - runtime.first_instance));
        c.env.push(match config.jobs[runtime.job as usize].env {
            EnvRef::Anonymous => 0,
            EnvRef::Named(e) => 1 + e as usize,
        });
        c.final_state.push(report.state.index());
        c.path.push(report.path as usize);
        let since_request = |t: Option<SimTime>| report.terminate_requested.zip(t).map(|(r, t)| seconds(t - r));
        c.requested.push_option(report.terminate_requested.map(seconds));
        c.terminated.push_option(report.terminated.map(seconds));
        c.released.push_option(report.released.map(seconds));
        c.termination_latency.push_option(since_request(report.terminated));
        c.release_latency.push_option(since_request(report.released));
        table.row_done()?;
    }
    table.finish()
}

/// `cancellations.parquet` in `dir`, with the columns of `cancellations.csv`.
pub(crate) fn write_cancellations(dir: &Path, outcome: &Outcome) -> io::Result<()> {
    let [requested, cancelled, latency] = std::array::from_fn(|_| DoubleColumn::new(true));
    let columns = CancellationColumns {
        service: DictColumn::new(vocabulary(["dlc", "tat"]), false),
        id: StrColumn::new(false),
        instance_id: StrColumn::new(true),
        final_state: DictColumn::new(states(), true),
        requested,
        cancelled,
        latency,
    };
    let mut table = Table::create(&dir.join(CancellationColumns::FILE), CancellationColumns::schema(), columns)?;
    for row in cancellations::rows(outcome) {
        let c = &mut table.columns;
        c.service.push(usize::from(row.service == "tat"));
        c.id.push(row.id.as_bytes());
        if row.instance_id.is_empty() {
            c.instance_id.push_null()
        } else {
            c.instance_id.push(row.instance_id.as_bytes())
        }
        c.final_state.push_option(row.final_state.map(State::index));
        c.requested.push_option(row.cancel_requested.map(seconds));
        c.cancelled.push_option(row.cancelled.map(seconds));
        c.latency.push_option(row.latency().map(seconds));
        table.row_done()?;
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    use super::table::*;

    fn read_rows(path: &std::path::Path) -> Vec<Vec<Field>> {
        let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().get_column_iter().map(|(_, f)| f.clone()).collect())
            .collect()
    }

    #[test]
    fn every_kind_of_column_reads_back_across_pages_and_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TestColumns::FILE);
        table! {
            /// Every kind of column, nullable and not.
            TestColumns "t.parquet" {
                time: DoubleColumn = "time_s", Double, false;
                maybe: DoubleColumn = "maybe_s", Double, true;
                count: Int64Column = "count", Int64, false;
                state: DictColumn = "state", Dict, false;
                error: DictColumn = "error", Dict, true;
                id: StrColumn = "id", Str, false;
                other: StrColumn = "other", Str, true;
            }
        }
        let vocabulary: Arc<[Box<str>]> = ["RUNNING", "FAILED", "RUNNING", "x"].into_iter().map(Box::from).collect();
        let columns = TestColumns {
            time: DoubleColumn::new(false),
            maybe: DoubleColumn::new(true),
            count: Int64Column::new(),
            state: DictColumn::new(vocabulary.clone(), false),
            error: DictColumn::new(vocabulary, true),
            id: StrColumn::new(false),
            other: StrColumn::new(true),
        };
        // 7-row pages and 21-row groups: 100 rows make five groups, the last one short.
        let mut table = Table::create(&path, TestColumns::schema(), columns).unwrap().with_sizes(7, 21);
        let n = 100usize;
        for i in 0..n {
            let c = &mut table.columns;
            c.time.push(i as f64 / 8.0);
            c.maybe.push_option((i % 3 != 0).then_some(i as f64 * 1.5));
            c.count.push(i as i64 - 50);
            // After the first group, entry 2 (a second `RUNNING`) comes before entry 0.
            c.state.push(if i < 30 { 0 } else { 2 - i % 3 });
            c.error.push_option((i % 5 == 0).then_some(3));
            c.id.push_with(|b| b.extend_from_slice(format!("job-abc/task/{i}").as_bytes()));
            if i % 4 == 0 {
                c.other.push_null()
            } else {
                c.other.push(format!("ins-{i:08}").as_bytes())
            }
            table.row_done().unwrap();
        }
        table.finish().unwrap();

        let rows = read_rows(&path);
        assert_eq!(rows.len(), n);
        for (i, row) in rows.iter().enumerate() {
            let expected = vec![
                Field::Double(i as f64 / 8.0),
                if i % 3 != 0 { Field::Double(i as f64 * 1.5) } else { Field::Null },
                Field::Long(i as i64 - 50),
                Field::Str(["RUNNING", "FAILED", "RUNNING"][if i < 30 { 0 } else { 2 - i % 3 }].to_owned()),
                if i % 5 == 0 { Field::Str("x".to_owned()) } else { Field::Null },
                Field::Str(format!("job-abc/task/{i}")),
                if i % 4 == 0 { Field::Null } else { Field::Str(format!("ins-{i:08}")) },
            ];
            assert_eq!(row, &expected, "row {i}");
        }
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 5);
        // `RUNNING` is two entries of the vocabulary but one of each dictionary: the first group
        // uses entry 0 alone, the others entries 0, 1 and 2, which are two names.
        for g in 0..5 {
            let mut pages = reader.get_row_group(g).unwrap().get_column_page_reader(3).unwrap();
            match pages.get_next_page().unwrap().unwrap() {
                parquet::column::page::Page::DictionaryPage { num_values, .. } => {
                    assert_eq!(num_values, if g == 0 { 1 } else { 2 }, "row group {g}")
                }
                other => panic!("row group {g} starts with a {:?} page", other.page_type()),
            }
        }
        let stats = reader.metadata().row_group(0).column(0).statistics().unwrap().clone();
        assert_eq!(
            stats,
            parquet::file::statistics::Statistics::double(Some(0.0), Some(20.0 / 8.0), None, Some(0), false)
        );
    }

    #[test]
    fn extreme_and_random_values_read_back() {
        // Lengths from 0 to 300 bytes, shared prefixes of every length, integers at both ends of
        // their range, doubles of every magnitude, long runs and single values in a dictionary.
        table! {
            /// One column of each kind.
            RandomColumns "r.parquet" {
                x: DoubleColumn = "x", Double, true;
                n: Int64Column = "n", Int64, false;
                d: DictColumn = "d", Dict, true;
                s: StrColumn = "s", Str, false;
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let vocabulary: Arc<[Box<str>]> = (0..300).map(|k| format!("v{k}").into_boxed_str()).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RandomColumns::FILE);
        let columns = RandomColumns {
            x: DoubleColumn::new(true),
            n: Int64Column::new(),
            d: DictColumn::new(vocabulary, true),
            s: StrColumn::new(false),
        };
        let mut table = Table::create(&path, RandomColumns::schema(), columns).unwrap().with_sizes(1000, 3000);
        let mut expected = Vec::new();
        let mut previous = String::new();
        for i in 0..10_000u64 {
            let r = next();
            let x = match r % 5 {
                0 => None,
                1 => Some(f64::from_bits(next()) % 1e300),
                2 => Some(f64::MAX),
                _ => Some(i as f64 / 1e6),
            }
            .filter(|v: &f64| v.is_finite());
            let n = match r % 7 {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => next() as i64 >> (r % 60),
            };
            let d = if i % 1000 < 500 { Some(7) } else { (r % 3 != 0).then_some((next() % 300) as usize) };
            let keep = (next() % (previous.len() as u64 + 1)) as usize;
            let tail: String = (0..next() % 300).map(|_| char::from(b'a' + (next() % 26) as u8)).collect();
            let s = format!("{}{tail}", &previous[..keep]);
            let c = &mut table.columns;
            c.x.push_option(x);
            c.n.push(n);
            c.d.push_option(d);
            c.s.push(s.as_bytes());
            table.row_done().unwrap();
            expected.push(vec![
                x.map_or(Field::Null, Field::Double),
                Field::Long(n),
                d.map_or(Field::Null, |d| Field::Str(format!("v{d}"))),
                Field::Str(s.clone()),
            ]);
            previous = s;
        }
        table.finish().unwrap();
        let rows = read_rows(&path);
        assert_eq!(rows.len(), expected.len());
        for (i, (row, expected)) in rows.iter().zip(&expected).enumerate() {
            assert_eq!(row, expected, "row {i}");
        }
    }
}
