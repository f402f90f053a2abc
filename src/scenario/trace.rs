//! Trace files: the calls a `trace` client replays, one CSV row each (SPEC §2).
//!
//! The header names the nine columns
//! `at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids`, each once, in
//! any order, and no others. Each row is one call:
//! - `at_s`: when it is sent, in seconds (rounded to the microsecond), plus the client's `at`.
//!   Rows are in time order (equal times allowed, sent in file order): a trace out of order is
//!   more likely two logs pasted together than a plan, so it is refused rather than sorted.
//! - `account`: empty for the client's `account`.
//! - `action`: `TerminateTaskInstance` (needs `job_id`, `task_name`, `index`), `TerminateJob`
//!   (`job_id`), `CancelTask` (`task_id`) or `CancelInvocation` (`invocation_id`, and
//!   `instance_ids` separated by `;`, empty for all). A cell the action does not use must be
//!   empty, as a scenario refuses a field that does not apply.
//!
//! Cells are trimmed of ASCII whitespace, fields may be quoted (RFC 4180), blank lines are
//! skipped. No cell holds a line break: ids never do, and a quote left open would otherwise
//! swallow the rest of the file without a word. Any defect is bad input: the message names the
//! trace file, the line and column of the cell, the client's `csv` field and the column. A
//! well-formed call that will be answered with an error (an unknown job, a malformed id) is a
//! warning, as for the other clients: the first few are named, then counted.
//!
//! A scenario's traces hold at most [`MAX_TRACE_ROWS`] rows in all. The scenarios of a sweep
//! share the rows of a trace they read alike ([`TraceCache`]).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::SimTime;
use crate::model::Action;
use crate::model::config::{Call, TraceRow};

use super::calls::{CallCheck, Param};
use super::context::{Ctx, Result};
use super::error::{InputError, JsonPath};
use super::limits::{MAX_TRACE_BYTES, MAX_TRACE_ROWS};
use super::values::parse_seconds;

const AT: usize = 0;
const ACCOUNT: usize = 1;
const ACTION: usize = 2;
const JOB_ID: usize = 3;
const TASK_NAME: usize = 4;
const INDEX: usize = 5;
const TASK_ID: usize = 6;
const INVOCATION_ID: usize = 7;
const INSTANCE_IDS: usize = 8;

/// The columns, in the order SPEC §2 lists them; the constants above index this list.
pub(super) const COLUMNS: [&str; 9] =
    ["at_s", "account", "action", "job_id", "task_name", "index", "task_id", "invocation_id", "instance_ids"];

/// The columns each action needs; the others of `JOB_ID..=INSTANCE_IDS` must be empty, except
/// those it [`may`] leave empty.
fn needs(action: Action) -> &'static [usize] {
    match action {
        Action::TerminateTaskInstance => &[JOB_ID, TASK_NAME, INDEX],
        Action::TerminateJob | Action::DescribeJob => &[JOB_ID],
        Action::DescribeTask => &[JOB_ID, TASK_NAME],
        Action::CancelTask | Action::DescribeTaskResult => &[TASK_ID],
        Action::CancelInvocation => &[INVOCATION_ID],
        Action::DescribeJobs | Action::DescribeTasks | Action::DescribeInvocations => &[],
        Action::DescribeInvocationTasks => &[],
    }
}

/// The columns an action may fill or leave empty: lists of ids, `;`-separated, empty for all.
fn may(action: Action) -> &'static [usize] {
    match action {
        Action::CancelInvocation => &[INSTANCE_IDS],
        Action::DescribeJobs => &[JOB_ID],
        Action::DescribeTasks => &[TASK_ID],
        Action::DescribeInvocations => &[INVOCATION_ID],
        Action::DescribeInvocationTasks => &[INVOCATION_ID, INSTANCE_IDS],
        _ => &[],
    }
}

fn column_of(param: Param) -> usize {
    match param {
        Param::At => AT,
        Param::Job => JOB_ID,
        Param::Task => TASK_NAME,
        Param::Index => INDEX,
        Param::TaskId => TASK_ID,
        Param::Invocation => INVOCATION_ID,
        Param::Instances => INSTANCE_IDS,
    }
}

/// Warnings named one by one; the rest are counted.
const NAMED_WARNINGS: usize = 5;

/// Traces already read, by file and offset, for scenarios that differ elsewhere: the points of a
/// sweep. A trace taken from here is not checked for warnings again (the sweep's base scenario
/// was), and its rows are shared, not copied.
#[derive(Clone, Default)]
pub struct TraceCache(Arc<Mutex<HashMap<TraceKey, Arc<Vec<TraceRow>>>>>);

/// A trace as a client reads it: the file, and the client's `at` added to each row.
type TraceKey = (PathBuf, SimTime);

impl std::fmt::Debug for TraceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceCache")
    }
}

/// A cache is not part of what a sweep is: any two are alike.
impl PartialEq for TraceCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The rows of the trace at `csv_path` (relative to the scenario's folder) for the client whose
/// `csv` field is `field`; `offset` is the client's `at`; at most `budget` rows.
pub(super) fn load(
    ctx: &mut Ctx,
    field: &JsonPath,
    csv_path: &str,
    offset: SimTime,
    budget: usize,
    calls: &mut CallCheck,
) -> Result<Arc<Vec<TraceRow>>> {
    let full = ctx.file.parent().unwrap_or(Path::new(".")).join(csv_path);
    let key = (full.clone(), offset);
    if let Some(rows) = ctx.traces.and_then(|cache| cache.0.lock().expect("not poisoned").get(&key).cloned()) {
        return Ok(rows);
    }
    let rows = Arc::new(read(ctx, field, &full, offset, budget, calls)?);
    if let Some(cache) = ctx.traces {
        cache.0.lock().expect("not poisoned").insert(key, rows.clone());
    }
    Ok(rows)
}

fn read(
    ctx: &mut Ctx,
    field: &JsonPath,
    full: &Path,
    offset: SimTime,
    budget: usize,
    calls: &mut CallCheck,
) -> Result<Vec<TraceRow>> {
    let text = read_file(full).map_err(|message| ctx.err(field, message))?;
    let trace = Trace { text: &text, file: full.to_owned(), field };
    // Cells are trimmed when read (the reader's own trimming copies every record), and row
    // lengths checked here, so that a line of spaces counts as blank.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_slice());
    let header = reader.headers().map_err(|e| trace.csv_error(&e))?.clone();
    let order = trace.column_order(&header)?;

    let mut rows = Vec::new();
    let mut shared = Shared::default();
    let mut warned = 0usize;
    let mut previous: Option<(SimTime, u64)> = None;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| trace.csv_error(&e))? {
        let cells = Cells { trace: &trace, record: &record, order: &order };
        if record.len() == 1 && record[0].trim_ascii().is_empty() {
            continue;
        }
        cells.check_shape(header.len())?;
        if rows.len() == budget {
            let message = if budget == MAX_TRACE_ROWS {
                format!("a trace holds at most {MAX_TRACE_ROWS} rows")
            } else {
                format!("the traces of a scenario hold at most {MAX_TRACE_ROWS} rows in all")
            };
            return Err(cells.error(AT, message));
        }
        let at_s = parse_seconds(cells.get(AT)).map_err(|e| cells.error(AT, e))?;
        let byte = cells.start().byte();
        if let Some((before, before_byte)) = previous.filter(|&(before, _)| at_s < before) {
            let (line, _) = trace.line_of(before_byte as usize);
            return Err(cells.error(
                AT,
                format!("rows must be in time order, and this one ({at_s} s) comes before line {line} ({before} s): sort the file by at_s"),
            ));
        }
        previous = Some((at_s, byte));
        let at = offset + at_s;
        let row = cells.row(at, &mut shared)?;
        if let Some((param, message)) = calls.problem(row.call.as_ref(), at) {
            if warned < NAMED_WARNINGS {
                let (line, column) = cells.place(column_of(param));
                let name = COLUMNS[column_of(param)];
                ctx.warnings.push(format!(
                    "{}:{line}:{column}: {field}: warning: column `{name}`: {message}",
                    trace.file.display()
                ));
            }
            warned += 1;
        }
        rows.push(row);
    }
    if warned > NAMED_WARNINGS {
        let more = warned - NAMED_WARNINGS;
        ctx.warn(field, format!("{more} more {} of the trace will be answered with an error", rows_word(more)));
    }
    if rows.is_empty() {
        ctx.warn(field, "the trace has no rows: this client makes no call");
    }
    Ok(rows)
}

pub(super) fn rows_word(n: usize) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// The whole file, which must be a regular file of at most [`MAX_TRACE_BYTES`] (a FIFO or
/// `/dev/zero` would never end).
fn read_file(full: &Path) -> std::result::Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", full.display());
    if !std::fs::metadata(full).map_err(cannot)?.is_file() {
        return Err(format!("`{}` is not a regular file", full.display()));
    }
    let mut text = Vec::new();
    std::fs::File::open(full).and_then(|f| f.take(MAX_TRACE_BYTES + 1).read_to_end(&mut text)).map_err(cannot)?;
    if text.len() as u64 > MAX_TRACE_BYTES {
        return Err(format!("`{}` is larger than {MAX_TRACE_BYTES} bytes", full.display()));
    }
    Ok(text)
}

/// A trace file's text, for messages that say where.
struct Trace<'a> {
    text: &'a [u8],
    file: PathBuf,
    field: &'a JsonPath,
}

/// A line break ends at `i`: `\n`, or a `\r` not followed by `\n` (the reader takes both).
fn ends_line(text: &[u8], i: usize) -> bool {
    text[i] == b'\n' || (text[i] == b'\r' && text.get(i + 1) != Some(&b'\n'))
}

impl Trace<'_> {
    fn error(&self, position: Option<(usize, usize)>, message: String) -> InputError {
        InputError { file: self.file.clone(), position, path: Some(self.field.clone()), message }
    }

    fn csv_error(&self, e: &csv::Error) -> InputError {
        match e.kind() {
            csv::ErrorKind::Utf8 { pos: Some(pos), err } => {
                self.error(Some(self.place(pos, err.field())), "this cell is not UTF-8 text".to_owned())
            }
            _ => self.error(e.position().map(|p| (self.line_of(p.byte() as usize).0, 1)), e.to_string()),
        }
    }

    /// The 1-based line of byte `at`, and where that line starts. The reader's own line count
    /// ignores lone `\r` line breaks, so lines are counted here.
    fn line_of(&self, at: usize) -> (usize, usize) {
        let text = &self.text[..at];
        let breaks = (0..at).filter(|&i| ends_line(self.text, i)).count();
        let start = text.iter().rposition(|&b| b == b'\n' || b == b'\r').map_or(0, |n| n + 1);
        (breaks + 1, start)
    }

    /// Line and column of the `field`-th cell of the record that starts at `start`: its first
    /// character after the whitespace the reader trims. Quoted cells may hold commas, so the raw
    /// text is scanned as the reader reads it rather than the parsed cells measured.
    fn place(&self, start: &csv::Position, field: usize) -> (usize, usize) {
        let text = self.text;
        let mut i = start.byte() as usize;
        let (mut line, mut line_start) = self.line_of(i);
        let (mut cell, mut quoted, mut cell_start) = (0, false, true);
        while cell < field && i < text.len() {
            let b = text[i];
            if quoted {
                if b == b'"' {
                    // A doubled quote is a quote inside the cell.
                    if text.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
            } else if b == b',' {
                cell += 1;
                cell_start = true;
                i += 1;
                continue;
            } else if b == b'"' && cell_start {
                quoted = true;
            }
            if ends_line(text, i) {
                line += 1;
                line_start = i + 1;
            }
            cell_start = false;
            i += 1;
        }
        while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\x0b' | b'\x0c') {
            i += 1;
        }
        let bom = if line_start == 0 && text.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 };
        // Characters, not bytes: a UTF-8 continuation byte does not start one.
        // A cell at the very start of the file begins after the BOM, not within it.
        let from = (line_start + bom).min(i);
        let column = 1 + text[from..i].iter().filter(|&&b| b & 0xC0 != 0x80).count();
        (line, column)
    }

    /// Where each of [`COLUMNS`] sits in the file's header.
    fn column_order(&self, header: &csv::StringRecord) -> Result<[usize; 9]> {
        let start = header.position().cloned().unwrap_or_else(csv::Position::new);
        let mut order = [usize::MAX; 9];
        for (at, name) in header.iter().map(str::trim_ascii).enumerate() {
            let Some(c) = COLUMNS.iter().position(|n| *n == name) else {
                return Err(self.error(
                    Some(self.place(&start, at)),
                    format!("unknown column `{name}`: a trace has the columns {}", COLUMNS.join(",")),
                ));
            };
            if order[c] != usize::MAX {
                return Err(self.error(Some(self.place(&start, at)), format!("column `{name}` appears twice")));
            }
            order[c] = at;
        }
        if let Some(c) = order.iter().position(|&at| at == usize::MAX) {
            return Err(self.error(
                Some((self.line_of(start.byte() as usize).0, 1)),
                format!("no column `{}`: a trace has the columns {}", COLUMNS[c], COLUMNS.join(",")),
            ));
        }
        Ok(order)
    }
}

/// The cells of one row, by column.
struct Cells<'a> {
    trace: &'a Trace<'a>,
    record: &'a csv::StringRecord,
    order: &'a [usize; 9],
}

impl Cells<'_> {
    fn start(&self) -> &csv::Position {
        self.record.position().expect("records read from a reader have a position")
    }

    fn get(&self, column: usize) -> &str {
        self.record.get(self.order[column]).unwrap_or("").trim_ascii()
    }

    fn place(&self, column: usize) -> (usize, usize) {
        self.trace.place(self.start(), self.order[column])
    }

    fn error(&self, column: usize, message: impl AsRef<str>) -> InputError {
        self.trace.error(Some(self.place(column)), format!("column `{}`: {}", COLUMNS[column], message.as_ref()))
    }

    /// As many cells as the header, none holding a line break.
    fn check_shape(&self, columns: usize) -> Result<()> {
        let cells = self.record.len();
        if cells != columns {
            let (line, _) = self.trace.line_of(self.start().byte() as usize);
            let hint = if cells > columns { ": a cell holding a comma must be quoted" } else { "" };
            return Err(self
                .trace
                .error(Some((line, 1)), format!("this row has {cells} cells, the header {columns}{hint}")));
        }
        if let Some(at) = self.record.iter().position(|c| c.contains(['\n', '\r'])) {
            let column = self.order.iter().position(|&o| o == at).expect("every cell has a column");
            return Err(self.error(column, "a cell holds a line break: is a quote left open?"));
        }
        Ok(())
    }

    fn row(&self, at: SimTime, shared: &mut Shared) -> Result<TraceRow> {
        let account = match self.get(ACCOUNT) {
            "" => None,
            a if a.chars().count() > 128 => return Err(self.error(ACCOUNT, "an account has 1 to 128 characters")),
            a => Some(shared.text(a)),
        };
        let name = self.get(ACTION);
        let names = || Action::ALL.map(Action::as_str).join(", ");
        let Some(action) = Action::ALL.into_iter().find(|a| a.as_str() == name) else {
            let message = match name {
                "" => format!("missing: one of {}", names()),
                _ => format!("`{name}` is not an action: one of {}", names()),
            };
            return Err(self.error(ACTION, message));
        };
        let needed = needs(action);
        for column in JOB_ID..=INSTANCE_IDS {
            let optional = may(action).contains(&column);
            match (self.get(column).is_empty(), needed.contains(&column)) {
                (true, true) => return Err(self.error(column, format!("{name} needs it"))),
                (false, false) if !optional => {
                    return Err(self.error(column, format!("does not apply to {name}: leave it empty")));
                }
                _ => {}
            }
        }
        let mut text = |column| shared.text(self.get(column));
        let call = match action {
            Action::TerminateTaskInstance => {
                Call::TerminateTaskInstance { job: text(JOB_ID), task: text(TASK_NAME), index: self.index()? }
            }
            Action::TerminateJob => Call::TerminateJob { job: text(JOB_ID) },
            Action::CancelTask => Call::CancelTask { task_id: text(TASK_ID) },
            Action::CancelInvocation => {
                Call::CancelInvocation { invocation: text(INVOCATION_ID), instances: self.list(INSTANCE_IDS, shared)? }
            }
            describe => {
                let one = |column| Some(Arc::from([self.get(column).to_owned()]));
                let (ids, task, instances) = match describe {
                    Action::DescribeJob => (one(JOB_ID), None, None),
                    Action::DescribeTask => (one(JOB_ID), Some(text(TASK_NAME)), None),
                    Action::DescribeTaskResult => (one(TASK_ID), None, None),
                    Action::DescribeJobs => (self.list(JOB_ID, shared)?, None, None),
                    Action::DescribeTasks => (self.list(TASK_ID, shared)?, None, None),
                    Action::DescribeInvocations => (self.list(INVOCATION_ID, shared)?, None, None),
                    _ => (self.list(INVOCATION_ID, shared)?, None, self.list(INSTANCE_IDS, shared)?),
                };
                Call::Describe { action: describe, ids, task, instances }
            }
        };
        Ok(TraceRow { at, account, call })
    }

    fn index(&self) -> Result<i64> {
        let cell = self.get(INDEX);
        cell.parse().map_err(|e: std::num::ParseIntError| {
            let message = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    format!("`{cell}` is out of range: an index fits in 64 bits")
                }
                _ => format!("`{cell}` is not a whole number"),
            };
            self.error(INDEX, message)
        })
    }

    /// A `;`-separated list of ids; `None` for an empty cell: all (every instance of the
    /// invocation, every job...).
    fn list(&self, column: usize, shared: &mut Shared) -> Result<Option<Arc<[String]>>> {
        let cell = self.get(column);
        if cell.is_empty() {
            return Ok(None);
        }
        if let Some(ids) = shared.lists.get(cell) {
            return Ok(Some(ids.clone()));
        }
        let ids: Vec<String> = cell.split(';').map(|id| id.trim_ascii().to_owned()).collect();
        if ids.iter().any(String::is_empty) {
            let what = if column == INSTANCE_IDS { "instance id" } else { "id" };
            return Err(self.error(column, format!("an empty {what}: ids are separated by single `;`")));
        }
        let ids: Arc<[String]> = ids.into();
        shared.lists.insert(cell.into(), ids.clone());
        Ok(Some(ids))
    }
}

/// One copy of each distinct cell text and instance list: a trace of a million rows names a few
/// thousand ids.
#[derive(Default)]
struct Shared {
    texts: HashMap<Box<str>, Arc<str>>,
    lists: HashMap<Box<str>, Arc<[String]>>,
}

impl Shared {
    fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = text.into();
        self.texts.insert(text.into(), shared.clone());
        shared
    }
}
