//! The CSV form of the streamed files: `timeline.csv`, `requests.csv` and `occupancy.csv`.
//!
//! Rows are formatted by hand into buffered writers: no `String` per row, no quoting work for
//! fields that cannot need it (ids and state names are validated plain text).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use crate::engine::SimTime;
use crate::model::config::Client;
use crate::model::ids::request_id;
use crate::model::{Cause, Occupancy, RequestRecord};

use super::names::{ENTITY_KINDS, Names};
use super::stream::{RowSink, StateRow, state_names, write_target};

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

/// The CSV writers of the streamed files.
pub(crate) struct CsvSink {
    timeline: Option<BufWriter<File>>,
    requests: BufWriter<File>,
    occupancy: BufWriter<File>,
    /// A request's target, put together before it is quoted if need be.
    target: Vec<u8>,
    /// An entity's id, put together before it is written.
    id: Vec<u8>,
}

impl CsvSink {
    pub(crate) fn create(dir: &Path, timeline: bool) -> io::Result<Self> {
        let open = |name: &str, header: &str| -> io::Result<BufWriter<File>> {
            let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        Ok(CsvSink {
            timeline: if timeline { Some(open("timeline.csv", TIMELINE_HEADER)?) } else { None },
            requests: open("requests.csv", REQUESTS_HEADER)?,
            occupancy: open("occupancy.csv", OCCUPANCY_HEADER)?,
            target: Vec::new(),
            id: Vec::with_capacity(64),
        })
    }
}

impl RowSink for CsvSink {
    fn states(&mut self, names: &Arc<Names>, page: &Arc<Vec<StateRow>>) -> io::Result<()> {
        let Some(out) = self.timeline.as_mut() else { return Ok(()) };
        let states = state_names();
        for row in page.iter() {
            write_time(out, row.time)?;
            out.write_all(b",")?;
            out.write_all(ENTITY_KINDS[usize::from(row.kind)].as_bytes())?;
            out.write_all(b",")?;
            self.id.clear();
            names.write_id(&mut self.id, row.entity());
            out.write_all(&self.id)?;
            out.write_all(b",")?;
            out.write_all(row.from().map_or("", |s| states[s]).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(states[usize::from(row.to)].as_bytes())?;
            out.write_all(b",")?;
            out.write_all(Cause::ALL[usize::from(row.cause)].as_str().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn request(&mut self, names: &Names, client: &Client, r: &RequestRecord) -> io::Result<()> {
        let out = &mut self.requests;
        out.write_all(&request_id(names.seed, r.number))?;
        let (name, _) = &names.clients[r.client as usize];
        write!(out, ",{name},{},", escape(client.account_of(r.target)))?;
        out.write_all(r.action.as_str().as_bytes())?;
        out.write_all(b",")?;
        self.target.clear();
        write_target(&mut self.target, client, r.target);
        match std::str::from_utf8(&self.target) {
            Ok(target) => out.write_all(escape(target).as_bytes())?,
            Err(_) => unreachable!("targets are put together from strings"),
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

    fn occupancy(&mut self, time: SimTime, now: Occupancy) -> io::Result<()> {
        let out = &mut self.occupancy;
        write_time(out, time)?;
        out.write_all(b",")?;
        out.write_all(itoa::Buffer::new().format(now.cvms_alive).as_bytes())?;
        out.write_all(b",")?;
        out.write_all(itoa::Buffer::new().format(now.quota_in_use).as_bytes())?;
        out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(t) = self.timeline.as_mut() {
            t.flush()?;
        }
        self.requests.flush()?;
        self.occupancy.flush()
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
