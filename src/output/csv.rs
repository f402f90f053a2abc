//! Streaming CSV writers for `timeline.csv`, `requests.csv` and `occupancy.csv`.
//!
//! Rows are formatted by hand into a buffered writer as the run produces them: no `String` per
//! row, no quoting work for fields that cannot need it (ids and state names are validated plain
//! text), so memory stays flat however long the timeline grows.
//!
//! The same place hands each row to the charts' aggregates ([`ChartData`]), so that what the
//! charts are drawn from is exactly what the files say.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::engine::SimTime;
use crate::model::config::{ClientKind, Config};
use crate::model::ids::{cvm_id, request_id};
use crate::model::{Entity, InstanceState, Occupancy, Recorder, RequestRecord};

use super::charts::ChartData;

const BUFFER: usize = 1 << 20;

pub const TIMELINE_HEADER: &str = "time_s,entity,id,from,to,cause";
pub const REQUESTS_HEADER: &str =
    "request_id,client,account,action,target,attempt,sent_s,responded_s,outcome,error_code";
pub const OCCUPANCY_HEADER: &str = "time_s,cvms_alive,quota_in_use";

/// Seconds with six decimals.
pub fn write_time(out: &mut impl Write, t: SimTime) -> io::Result<()> {
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

/// A field as CSV wants it: quoted when it holds a comma, a quote or a line break.
pub fn escape(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The textual names of a run's entities, prepared once.
pub struct Names {
    seed: u64,
    job_ids: Vec<String>,
    /// `job-…/TASK` per global task.
    task_labels: Vec<String>,
    /// First global instance of each task, ascending: the task of an instance is found by
    /// binary search.
    task_starts: Vec<u32>,
    clients: Vec<(String, String)>,
}

impl Names {
    pub fn new(cfg: &Config) -> Self {
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
            clients: cfg.clients.iter().map(|c| (escape(&c.name), escape(&c.account))).collect(),
        }
    }

    pub fn write_instance(&self, out: &mut impl Write, i: u32) -> io::Result<()> {
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
        }
    }
}

/// Writes the timeline (unless disabled), the requests and the occupancy as the model reports
/// them, feeds the charts' aggregates (when charts are wanted), and keeps the first I/O error to
/// report it when the run ends.
pub struct CsvRecorder<'a> {
    names: Names,
    cfg: &'a Config,
    timeline: Option<BufWriter<File>>,
    requests: BufWriter<File>,
    occupancy: BufWriter<File>,
    /// The latest occupancy, not written until time moves on: one row per instant, so the
    /// several changes of one event never show as rows of their own.
    occupancy_pending: Option<(SimTime, Occupancy)>,
    occupancy_written: Occupancy,
    charts: Option<ChartData>,
    error: Option<io::Error>,
}

impl<'a> CsvRecorder<'a> {
    /// `charts`: gather what the charts need while writing.
    pub fn create(dir: &Path, cfg: &'a Config, timeline: bool, charts: bool) -> io::Result<Self> {
        let open = |name: &str, header: &str| -> io::Result<BufWriter<File>> {
            let mut w = BufWriter::with_capacity(BUFFER, File::create(dir.join(name))?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        Ok(CsvRecorder {
            names: Names::new(cfg),
            cfg,
            timeline: if timeline { Some(open("timeline.csv", TIMELINE_HEADER)?) } else { None },
            requests: open("requests.csv", REQUESTS_HEADER)?,
            occupancy: open("occupancy.csv", OCCUPANCY_HEADER)?,
            occupancy_pending: None,
            occupancy_written: Occupancy::default(),
            charts: charts.then(|| ChartData::new(timeline)),
            error: None,
        })
    }

    /// Flushes the files; the first error of the whole run, if any. Gives back the charts'
    /// aggregates, which still lack `instances.csv`'s rows.
    pub fn finish(mut self) -> io::Result<Option<ChartData>> {
        let r = self.flush_occupancy();
        self.keep(r);
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(t) = self.timeline.as_mut() {
            t.flush()?;
        }
        self.requests.flush()?;
        self.occupancy.flush()?;
        Ok(self.charts)
    }

    fn flush_occupancy(&mut self) -> io::Result<()> {
        let Some((time, now)) = self.occupancy_pending.take() else { return Ok(()) };
        if now == self.occupancy_written {
            return Ok(());
        }
        self.occupancy_written = now;
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

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    fn write_request(&mut self, r: &RequestRecord) -> io::Result<()> {
        let out = &mut self.requests;
        let (client, account) = &self.names.clients[r.client as usize];
        out.write_all(request_id(self.names.seed, r.number).as_bytes())?;
        write!(out, ",{client},{account},{},", r.action.as_str())?;
        match &self.cfg.clients[r.client as usize].kind {
            ClientKind::TerminateJob { job, .. } => out.write_all(escape(job).as_bytes())?,
            ClientKind::TerminateTaskInstances { job, task, indices, .. } => {
                let target = format!("{job}/{task}/{}", indices.get(r.target as usize));
                out.write_all(escape(&target).as_bytes())?;
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

impl Recorder for CsvRecorder<'_> {
    fn state_change(
        &mut self,
        time: SimTime,
        entity: Entity,
        from: Option<&'static str>,
        to: &'static str,
        cause: &'static str,
    ) {
        let Some(out) = self.timeline.as_mut() else { return };
        if let (Entity::Instance(i), Some(charts)) = (entity, &mut self.charts) {
            let state = InstanceState::parse(to).expect("an instance changes to an instance state");
            charts.instance_state(time, i, state);
        }
        let r = (|| {
            write_time(out, time)?;
            out.write_all(b",")?;
            self.names.write_entity(out, entity)?;
            out.write_all(b",")?;
            out.write_all(from.unwrap_or("").as_bytes())?;
            out.write_all(b",")?;
            out.write_all(to.as_bytes())?;
            out.write_all(b",")?;
            out.write_all(cause.as_bytes())?;
            out.write_all(b"\n")
        })();
        self.keep(r);
    }

    fn request(&mut self, request: &RequestRecord) {
        if let Some(charts) = &mut self.charts {
            charts.request(request.action.as_str(), request.sent, request.error.map(|e| e.as_str()));
        }
        let r = self.write_request(request);
        self.keep(r);
    }

    fn occupancy(&mut self, time: SimTime, now: Occupancy) {
        if self.occupancy_pending.is_some_and(|(t, _)| t != time) {
            let r = self.flush_occupancy();
            self.keep(r);
        }
        self.occupancy_pending = Some((time, now));
    }
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

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
