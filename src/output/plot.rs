//! `termsim plot DIR`: draws a results folder's charts again from its files.
//!
//! The rows are read back and handed to [`ChartData`] exactly as the run handed them while
//! writing, so the charts come out byte-identical to the run's own. `summary.json` gives the
//! titles and reference lines; `timeline.csv` is optional (`--no-timeline`), and without it the
//! charts that need instance state changes are not drawn, as in the run.
//!
//! A file that is missing or does not read as termsim wrote it is bad input: the error names
//! the file, the line and column, and the column's name.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};

use crate::engine::SimTime;
use crate::model::{InstanceState, TerminationPath};

use super::charts::{self, ChartData, InstanceRow, RunMeta};
use super::csv::{OCCUPANCY_HEADER, REQUESTS_HEADER, TIMELINE_HEADER};
use super::instances::INSTANCES_HEADER;

/// Why a results folder could not be plotted.
#[derive(Debug)]
pub enum PlotError {
    /// A file is missing or malformed: the folder is bad input.
    Input(String),
    /// The charts could not be written.
    Output(anyhow::Error),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Input(message) => f.write_str(message),
            PlotError::Output(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for PlotError {}

/// One CSV file being read, for messages that say where.
struct CsvFile {
    path: PathBuf,
    columns: Vec<&'static str>,
}

impl CsvFile {
    fn error(&self, record: &ByteRecord, field: usize, message: impl fmt::Display) -> PlotError {
        let line = record.position().map_or(0, |p| p.line());
        // Column of the field's first byte: termsim writes no quoted fields where this is used.
        let column = 1 + (0..field).map(|i| record.get(i).map_or(0, |f| f.len()) + 1).sum::<usize>();
        PlotError::Input(format!(
            "{}:{line}:{column}: column `{}`: {message}",
            self.path.display(),
            self.columns.get(field).copied().unwrap_or("?")
        ))
    }

    fn text<'r>(&self, record: &'r ByteRecord, field: usize) -> Result<&'r str, PlotError> {
        let bytes = record.get(field).ok_or_else(|| self.error(record, field, "missing"))?;
        std::str::from_utf8(bytes).map_err(|_| self.error(record, field, "not UTF-8"))
    }

    fn time(&self, record: &ByteRecord, field: usize) -> Result<SimTime, PlotError> {
        let text = self.text(record, field)?;
        SimTime::parse_seconds(text)
            .ok_or_else(|| self.error(record, field, format!("`{text}` is not a time in seconds")))
    }

    fn optional_time(&self, record: &ByteRecord, field: usize) -> Result<Option<SimTime>, PlotError> {
        if record.get(field).is_some_and(<[u8]>::is_empty) { Ok(None) } else { self.time(record, field).map(Some) }
    }

    fn count(&self, record: &ByteRecord, field: usize) -> Result<u64, PlotError> {
        let text = self.text(record, field)?;
        text.parse().map_err(|_| self.error(record, field, format!("`{text}` is not a count")))
    }

    /// Reads every row after checking the header, calling `row` for each.
    fn read(
        dir: &Path,
        name: &str,
        header: &'static str,
        mut row: impl FnMut(&CsvFile, &ByteRecord) -> Result<(), PlotError>,
    ) -> Result<(), PlotError> {
        let path = dir.join(name);
        let file = CsvFile { path, columns: header.split(',').collect() };
        let input = fs::File::open(&file.path)
            .map_err(|e| PlotError::Input(format!("{}: cannot read: {e}", file.path.display())))?;
        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 20, input));
        let mut record = ByteRecord::new();
        let bad = |e: csv::Error| PlotError::Input(format!("{}: {e}", file.path.display()));
        if !reader.read_byte_record(&mut record).map_err(bad)?
            || !record.iter().eq(header.split(',').map(str::as_bytes))
        {
            return Err(PlotError::Input(format!("{}:1:1: the header is not `{header}`", file.path.display())));
        }
        while reader.read_byte_record(&mut record).map_err(bad)? {
            if record.len() != file.columns.len() {
                let line = record.position().map_or(0, |p| p.line());
                return Err(PlotError::Input(format!(
                    "{}:{line}:1: {} fields, expected {}",
                    file.path.display(),
                    record.len(),
                    file.columns.len()
                )));
            }
            row(&file, &record)?;
        }
        Ok(())
    }
}

fn read_meta(dir: &Path) -> Result<RunMeta, PlotError> {
    let path = dir.join("summary.json");
    let text = fs::read_to_string(&path).map_err(|e| {
        PlotError::Input(format!(
            "{}: cannot read: {e} (is `{}` a termsim results folder?)",
            path.display(),
            dir.display()
        ))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| PlotError::Input(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())))?;
    RunMeta::from_summary(&value).map_err(|e| PlotError::Input(format!("{}: {e}", path.display())))
}

/// Reads the folder's files into the charts' aggregates.
pub fn read_results(dir: &Path) -> Result<(RunMeta, ChartData), PlotError> {
    let meta = read_meta(dir)?;
    let with_timeline = dir.join("timeline.csv").is_file();
    let mut data = ChartData::new(with_timeline);
    let job_index: HashMap<&str, u32> = meta.jobs.iter().enumerate().map(|(i, j)| (j.id.as_str(), i as u32)).collect();
    let mut instance_index: HashMap<Vec<u8>, u32> = HashMap::new();

    CsvFile::read(dir, "instances.csv", INSTANCES_HEADER, |f, r| {
        let job_id = f.text(r, 0)?;
        let job =
            *job_index.get(job_id).ok_or_else(|| f.error(r, 0, format!("`{job_id}` is not a job of summary.json")))?;
        let path_name = f.text(r, 5)?;
        let path = TerminationPath::parse(path_name)
            .ok_or_else(|| f.error(r, 5, format!("`{path_name}` is not a termination path")))?;
        if with_timeline {
            let id = [r.get(0), r.get(1), r.get(2)].map(|p| p.unwrap_or_default()).join(&b'/');
            instance_index.insert(id, data.instances as u32);
        }
        data.instance(&InstanceRow {
            job,
            path,
            requested: f.optional_time(r, 6)?,
            terminated: f.optional_time(r, 7)?,
            released: f.optional_time(r, 8)?,
        });
        Ok(())
    })?;

    if with_timeline {
        CsvFile::read(dir, "timeline.csv", TIMELINE_HEADER, |f, r| {
            if r.get(1) != Some(b"instance") {
                return Ok(());
            }
            let time = f.time(r, 0)?;
            let id = r.get(2).unwrap_or_default();
            let instance = *instance_index.get(id).ok_or_else(|| f.error(r, 2, "not an instance of instances.csv"))?;
            let to = f.text(r, 4)?;
            let state =
                InstanceState::parse(to).ok_or_else(|| f.error(r, 4, format!("`{to}` is not an instance state")))?;
            data.instance_state(time, instance, state);
            Ok(())
        })?;
    }

    CsvFile::read(dir, "requests.csv", REQUESTS_HEADER, |f, r| {
        let action = f.text(r, 3)?;
        let sent = f.time(r, 6)?;
        let error = match f.text(r, 8)? {
            "ok" => None,
            "error" => Some(f.text(r, 9)?),
            other => return Err(f.error(r, 8, format!("`{other}` is neither `ok` nor `error`"))),
        };
        data.request(action, sent, error);
        Ok(())
    })?;

    CsvFile::read(dir, "occupancy.csv", OCCUPANCY_HEADER, |f, r| {
        data.occupancy(f.time(r, 0)?, f.count(r, 1)?, f.count(r, 2)?);
        Ok(())
    })?;
    Ok((meta, data))
}

/// Draws `dir`'s charts again into `dir/charts/`, replacing what is there only once every chart
/// is drawn. Returns the names of the charts drawn.
pub fn plot(dir: &Path) -> Result<Vec<&'static str>, PlotError> {
    let (meta, data) = read_results(dir)?;
    let staging = dir.join(format!(".charts.tmp-{}", std::process::id()));
    let output = |e: std::io::Error, what: &str| PlotError::Output(anyhow::anyhow!("cannot {what}: {e}"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| output(e, "clear a stale staging folder"))?;
    }
    fs::create_dir(&staging).map_err(|e| output(e, &format!("create `{}`", staging.display())))?;
    let drawn = match charts::draw_all(&meta, data, &staging) {
        Ok(drawn) => drawn,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(PlotError::Output(e));
        }
    };
    let target = dir.join("charts");
    let old = dir.join(format!(".charts.old-{}", std::process::id()));
    if target.exists() {
        fs::rename(&target, &old).map_err(|e| output(e, "move the old charts aside"))?;
    }
    fs::rename(&staging, &target).map_err(|e| output(e, "move the new charts into place"))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| output(e, "remove the old charts"))?;
    }
    Ok(drawn)
}
