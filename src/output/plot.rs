//! `termsim plot DIR`: draws a results folder's charts again from its files.
//!
//! The rows are read back and handed to [`ChartData`] exactly as the run handed them while
//! writing, so the charts come out byte-identical to the run's own. `summary.json` gives the
//! titles and reference lines; `timeline.csv` is optional (`--no-timeline`), and without it the
//! charts that need instance state changes are not drawn, as in the run; `cancellations.csv`
//! too, and without it there is no cancellation chart, as in a run without DLC or TAT tasks.
//!
//! A file that is missing or does not read as termsim wrote it is bad input ([`Error::Input`]):
//! the error names the file, the line and column, and the column's name. Charts that cannot be
//! written are an [`Error::Output`].

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};

use crate::Error;
use crate::engine::SimTime;
use crate::model::{Action, InstanceState, TerminationPath};

use super::cancellations::CANCELLATIONS_HEADER;
use super::charts::data::LATEST;
use super::charts::{self, CancelGroup, ChartData, InstanceRow, RunMeta};
use super::csv::{OCCUPANCY_HEADER, REQUESTS_HEADER, TIMELINE_HEADER};
use super::instances::INSTANCES_HEADER;

/// One table being read, for messages that say where: a CSV file, or a Parquet file whose rows
/// are handed over as the CSV file would hold them.
struct CsvFile {
    path: PathBuf,
    columns: Vec<&'static str>,
    parquet: bool,
}

impl CsvFile {
    fn error(&self, record: &ByteRecord, field: usize, message: impl fmt::Display) -> Error {
        let line = record.position().map_or(0, |p| p.line());
        if self.parquet {
            return Error::Input(format!(
                "{}: row {line}: column `{}`: {message}",
                self.path.display(),
                self.columns.get(field).copied().unwrap_or("?")
            ));
        }
        // Column of the field's first byte, counting the fields before it as termsim wrote them:
        // quoted when they hold a comma, a quote or a line break, quotes doubled.
        let written = |f: &[u8]| {
            let quotes = f.iter().filter(|&&b| b == b'"').count();
            if f.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) { f.len() + 2 + quotes } else { f.len() }
        };
        let column = 1 + (0..field).map(|i| record.get(i).map_or(0, written) + 1).sum::<usize>();
        Error::Input(format!(
            "{}:{line}:{column}: column `{}`: {message}",
            self.path.display(),
            self.columns.get(field).copied().unwrap_or("?")
        ))
    }

    fn text<'r>(&self, record: &'r ByteRecord, field: usize) -> Result<&'r str, Error> {
        let bytes = record.get(field).ok_or_else(|| self.error(record, field, "missing"))?;
        std::str::from_utf8(bytes).map_err(|_| self.error(record, field, "not UTF-8"))
    }

    fn time(&self, record: &ByteRecord, field: usize) -> Result<SimTime, Error> {
        let text = self.text(record, field)?;
        let time = SimTime::parse_seconds(text)
            .ok_or_else(|| self.error(record, field, format!("`{text}` is not a time in seconds")))?;
        // The charts' arithmetic is sized for the times a run writes (found by fuzzing: a time
        // near 2^64 µs overflowed it).
        if time > LATEST {
            return Err(self.error(
                record,
                field,
                format!("`{text}` is after {LATEST} s (ten years), the longest horizon: no run writes it"),
            ));
        }
        Ok(time)
    }

    fn optional_time(&self, record: &ByteRecord, field: usize) -> Result<Option<SimTime>, Error> {
        if record.get(field).is_some_and(<[u8]>::is_empty) { Ok(None) } else { self.time(record, field).map(Some) }
    }

    fn count(&self, record: &ByteRecord, field: usize) -> Result<u64, Error> {
        let text = self.text(record, field)?;
        text.parse().map_err(|_| self.error(record, field, format!("`{text}` is not a count")))
    }

    /// Reads every row after checking the header, calling `row` for each; returns how many rows
    /// there were.
    fn read(
        dir: &Path,
        name: &str,
        header: &'static str,
        mut row: impl FnMut(&CsvFile, &ByteRecord) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let parquet = dir.join(name.replace(".csv", ".parquet"));
        if !dir.join(name).exists() && parquet.exists() {
            return Self::read_parquet(parquet, header, row);
        }
        let path = dir.join(name);
        let file = CsvFile { path, columns: header.split(',').collect(), parquet: false };
        let cannot_read = |e: std::io::Error| Error::Input(format!("{}: cannot read: {e}", file.path.display()));
        let mut input = fs::File::open(&file.path).map_err(cannot_read)?;
        // termsim ends every row with a line break: a file without one was cut short, and its
        // last row may be cut inside a field that still parses.
        let mut last = [0u8];
        let size = input.metadata().map_err(cannot_read)?.len();
        input.seek(SeekFrom::Start(size.saturating_sub(1))).map_err(cannot_read)?;
        if size == 0 || input.read(&mut last).map_err(cannot_read)? != 1 || last[0] != b'\n' {
            return Err(Error::Input(format!(
                "{}: does not end with a line break: the file was cut short",
                file.path.display()
            )));
        }
        input.seek(SeekFrom::Start(0)).map_err(cannot_read)?;
        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 20, input));
        let mut record = ByteRecord::new();
        let bad = |e: csv::Error| Error::Input(format!("{}: {e}", file.path.display()));
        if !reader.read_byte_record(&mut record).map_err(bad)?
            || !record.iter().eq(header.split(',').map(str::as_bytes))
        {
            return Err(Error::Input(format!("{}:1:1: the header is not `{header}`", file.path.display())));
        }
        let mut rows = 0;
        while reader.read_byte_record(&mut record).map_err(bad)? {
            rows += 1;
            if record.len() != file.columns.len() {
                let line = record.position().map_or(0, |p| p.line());
                return Err(Error::Input(format!(
                    "{}:{line}:1: {} fields, expected {}",
                    file.path.display(),
                    record.len(),
                    file.columns.len()
                )));
            }
            row(&file, &record)?;
        }
        Ok(rows)
    }

    /// As [`CsvFile::read`], for a table written with `--format parquet`: each row is handed
    /// over as the CSV file holds it (a time with six decimals, an empty cell for a null), so
    /// both formats are read by the same code and give the same charts. The file is read a row
    /// group at a time, a column at a time: the crate's row-by-row reader took 2 µs a row.
    fn read_parquet(
        path: PathBuf,
        header: &'static str,
        mut row: impl FnMut(&CsvFile, &ByteRecord) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        use parquet::column::reader::ColumnReader;
        use parquet::file::reader::{FileReader, SerializedFileReader};

        let file = CsvFile { columns: header.split(',').collect(), parquet: true, path };
        let bad = |e: &dyn fmt::Display| Error::Input(format!("{}: {e}", file.path.display()));
        let input = fs::File::open(&file.path).map_err(|e| bad(&format!("cannot read: {e}")))?;
        let reader = SerializedFileReader::new(input).map_err(|e| bad(&e))?;
        let names: Vec<&str> =
            reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name()).collect();
        if names != file.columns {
            return Err(bad(&format!("the columns are not `{header}`")));
        }
        let mut record = ByteRecord::new();
        let mut rows = 0u64;
        for g in 0..reader.num_row_groups() {
            let group = reader.get_row_group(g).map_err(|e| bad(&e))?;
            let count = usize::try_from(group.metadata().num_rows()).map_err(|e| bad(&e))?;
            // The file says how many rows; a damaged one may say any number, so that number is
            // never an allocation's size (reading stops with an error when the rows run out).
            let expected = count.min(1 << 20);
            // Each column's cells as the CSV writes them, and where each ends.
            let mut columns = Vec::with_capacity(names.len());
            for (c, name) in names.iter().enumerate() {
                let mut cells = Vec::new();
                let mut ends = Vec::with_capacity(expected);
                let mut levels = Vec::new();
                let present = |levels: &[i16], i: usize| levels.get(i).is_none_or(|&l| l > 0);
                match group.get_column_reader(c).map_err(|e| bad(&e))? {
                    ColumnReader::ByteArrayColumnReader(mut r) => {
                        let mut values = Vec::new();
                        read_all(|| r.read_records(count, Some(&mut levels), None, &mut values), count)
                            .map_err(|e| bad(&e))?;
                        let mut values = values.iter();
                        for i in 0..count {
                            if present(&levels, i) {
                                cells.extend_from_slice(
                                    values.next().ok_or_else(|| bad(&"fewer values than rows"))?.data(),
                                );
                            }
                            ends.push(cells.len());
                        }
                    }
                    ColumnReader::Int64ColumnReader(mut r) => {
                        let mut values = Vec::new();
                        read_all(|| r.read_records(count, Some(&mut levels), None, &mut values), count)
                            .map_err(|e| bad(&e))?;
                        let mut values = values.iter();
                        for i in 0..count {
                            if present(&levels, i) {
                                let n = values.next().ok_or_else(|| bad(&"fewer values than rows"))?;
                                cells.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                            }
                            ends.push(cells.len());
                        }
                    }
                    ColumnReader::DoubleColumnReader(mut r) => {
                        let mut values = Vec::new();
                        read_all(|| r.read_records(count, Some(&mut levels), None, &mut values), count)
                            .map_err(|e| bad(&e))?;
                        let mut values = values.iter();
                        for i in 0..count {
                            if present(&levels, i) {
                                let x = *values.next().ok_or_else(|| bad(&"fewer values than rows"))?;
                                // Seconds: the six-decimal text the CSV holds, when the double is one.
                                if x.is_finite() && x >= 0.0 && x <= LATEST.as_secs_f64() {
                                    super::csv::write_time(&mut cells, SimTime((x * 1e6).round() as u64))
                                        .expect("a Vec takes it");
                                } else {
                                    cells.extend_from_slice(x.to_string().as_bytes());
                                }
                            }
                            ends.push(cells.len());
                        }
                    }
                    _ => return Err(bad(&format!("column `{name}` is not of a type termsim writes"))),
                }
                columns.push((cells, ends));
            }
            for i in 0..count {
                rows += 1;
                record.clear();
                for (cells, ends) in &columns {
                    let start = if i == 0 { 0 } else { ends[i - 1] };
                    record.push_field(&cells[start..ends[i]]);
                }
                let mut position = csv::Position::new();
                position.set_line(rows);
                record.set_position(Some(position));
                row(&file, &record)?;
            }
        }
        Ok(rows)
    }

    /// A time that must not be before `previous` (the rows are in time order).
    fn time_in_order(&self, record: &ByteRecord, field: usize, previous: &mut SimTime) -> Result<SimTime, Error> {
        let time = self.time(record, field)?;
        if time < *previous {
            return Err(self.error(
                record,
                field,
                format!("{time} is before the row above ({previous}): rows are in time order"),
            ));
        }
        *previous = time;
        Ok(time)
    }
}

fn read_meta(dir: &Path) -> Result<(RunMeta, serde_json::Value), Error> {
    let path = dir.join("summary.json");
    let text = fs::read_to_string(&path).map_err(|e| {
        Error::Input(format!("{}: cannot read: {e} (is `{}` a termsim results folder?)", path.display(), dir.display()))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())))?;
    let meta = RunMeta::from_summary(&value).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    Ok((meta, value))
}

/// A file's row count must be the count `summary.json` gives at `pointer`.
fn check_count(dir: &Path, file: &str, rows: u64, summary: &serde_json::Value, pointer: &str) -> Result<(), Error> {
    let expected = summary.pointer(pointer).and_then(serde_json::Value::as_u64);
    if expected == Some(rows) {
        return Ok(());
    }
    let expected = expected.map_or_else(|| "no count".to_owned(), |n| n.to_string());
    Err(Error::Input(format!(
        "{}: {rows} rows, but summary.json has {expected} at `{pointer}`: the files are not of one run",
        dir.join(file).display()
    )))
}

/// Reads the folder's files into the charts' aggregates.
pub fn read_results(dir: &Path) -> Result<(RunMeta, ChartData), Error> {
    let (meta, summary) = read_meta(dir)?;
    let with_timeline = dir.join("timeline.csv").is_file() || dir.join("timeline.parquet").is_file();
    let mut data = ChartData::new(with_timeline);
    let job_index: HashMap<&str, u32> = meta.jobs.iter().enumerate().map(|(i, j)| (j.id.as_str(), i as u32)).collect();
    let mut instance_index: HashMap<Vec<u8>, u32> = HashMap::new();

    let instances = CsvFile::read(dir, "instances.csv", INSTANCES_HEADER, |f, r| {
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
    check_count(dir, "instances.csv", instances, &summary, "/instances/total")?;

    if with_timeline {
        let mut previous = SimTime::ZERO;
        CsvFile::read(dir, "timeline.csv", TIMELINE_HEADER, |f, r| {
            if r.get(1) != Some(b"instance") {
                return Ok(());
            }
            let time = f.time_in_order(r, 0, &mut previous)?;
            let id = r.get(2).unwrap_or_default();
            let instance = *instance_index.get(id).ok_or_else(|| f.error(r, 2, "not an instance of instances.csv"))?;
            let to = f.text(r, 4)?;
            let state =
                InstanceState::parse(to).ok_or_else(|| f.error(r, 4, format!("`{to}` is not an instance state")))?;
            data.instance_state(time, instance, state);
            Ok(())
        })?;
    }

    let requests = CsvFile::read(dir, "requests.csv", REQUESTS_HEADER, |f, r| {
        let action = f.text(r, 3)?;
        // The API-call chart has a panel per action: a made-up one per row would draw a chart
        // of any height (found by fuzzing: 1,500 rows of 1,500 actions took 20 s and 1.8 GB).
        if !Action::ALL.iter().any(|a| a.as_str() == action) {
            return Err(f.error(r, 3, format!("`{action}` is not an action of the API termsim answers")));
        }
        let sent = f.time(r, 6)?;
        let error = match f.text(r, 8)? {
            "ok" => None,
            "error" => Some(f.text(r, 9)?),
            other => return Err(f.error(r, 8, format!("`{other}` is neither `ok` nor `error`"))),
        };
        data.request(action, sent, error);
        Ok(())
    })?;
    check_count(dir, "requests.csv", requests, &summary, "/requests/total")?;

    let mut previous = SimTime::ZERO;
    CsvFile::read(dir, "occupancy.csv", OCCUPANCY_HEADER, |f, r| {
        data.occupancy(f.time_in_order(r, 0, &mut previous)?, f.count(r, 1)?, f.count(r, 2)?);
        Ok(())
    })?;

    if dir.join("cancellations.csv").is_file() || dir.join("cancellations.parquet").is_file() {
        data.cancellations_file();
        CsvFile::read(dir, "cancellations.csv", CANCELLATIONS_HEADER, |f, r| {
            let service = f.text(r, 0)?;
            let group = CancelGroup::of(service, f.text(r, 3)?)
                .ok_or_else(|| f.error(r, 0, format!("`{service}` is neither `dlc` nor `tat`")))?;
            data.cancellation(group, f.optional_time(r, 6)?);
            Ok(())
        })?;
    }
    Ok((meta, data))
}

/// Draws `dir`'s charts again into `dir/charts/`, replacing what is there only once every chart
/// is drawn. Returns the names of the charts drawn.
pub fn plot(dir: &Path) -> Result<Vec<String>, Error> {
    let (meta, data) = read_results(dir)?;
    let target = dir.join("charts");
    if target.exists() && !target.is_dir() {
        return Err(Error::Input(format!("{}: exists and is not a folder", target.display())));
    }
    let staging = dir.join(format!(".charts.tmp-{}", std::process::id()));
    let output = |e: std::io::Error, what: &str| Error::Output(anyhow::anyhow!("cannot {what}: {e}"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| output(e, "clear a stale staging folder"))?;
    }
    fs::create_dir(&staging).map_err(|e| output(e, &format!("create `{}`", staging.display())))?;
    let drawn = match charts::draw_all(&meta, data, &staging) {
        Ok(drawn) => drawn,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(Error::Output(e));
        }
    };
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

/// Calls `read` until it has read `count` records, or fails when it reads none before that.
fn read_all(
    mut read: impl FnMut() -> parquet::errors::Result<(usize, usize, usize)>,
    count: usize,
) -> Result<(), String> {
    let mut done = 0;
    while done < count {
        let (records, _, _) = read().map_err(|e| e.to_string())?;
        if records == 0 {
            return Err(format!("{done} rows where the row group has {count}"));
        }
        done += records;
    }
    Ok(())
}
