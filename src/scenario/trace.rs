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
//! Cells are trimmed, fields may be quoted (RFC 4180), blank lines are skipped. Any defect is bad
//! input: the message names the trace file, the line and column of the cell, the client's `csv`
//! field and the column. A well-formed call that will be answered with an error (an unknown job,
//! a malformed id) is a warning, as for the other clients: the first few are named, then counted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::SimTime;
use crate::model::config::{Call, TraceRow};

use super::build::{Ctx, Result};
use super::clients::{Known, Param};
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
pub const COLUMNS: [&str; 9] =
    ["at_s", "account", "action", "job_id", "task_name", "index", "task_id", "invocation_id", "instance_ids"];

const ACTIONS: [&str; 4] = ["TerminateTaskInstance", "TerminateJob", "CancelTask", "CancelInvocation"];

/// The columns each action needs; the others of `JOB_ID..=INSTANCE_IDS` must be empty, except
/// `instance_ids`, which CancelInvocation may leave empty.
fn needs(action: &str) -> &'static [usize] {
    match action {
        "TerminateTaskInstance" => &[JOB_ID, TASK_NAME, INDEX],
        "TerminateJob" => &[JOB_ID],
        "CancelTask" => &[TASK_ID],
        "CancelInvocation" => &[INVOCATION_ID],
        _ => unreachable!("the action is checked first"),
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

/// Reads the trace at `csv_path` (relative to the scenario's folder) for the client whose `csv`
/// field is `field`; `offset` is the client's `at`.
pub(super) fn read(
    ctx: &mut Ctx,
    field: &JsonPath,
    csv_path: &str,
    offset: SimTime,
    known: &Known,
) -> Result<Vec<TraceRow>> {
    let full = ctx.file.parent().unwrap_or(Path::new(".")).join(csv_path);
    let size = std::fs::metadata(&full).map(|m| m.len()).unwrap_or(0);
    if size > MAX_TRACE_BYTES {
        return Err(ctx.err(field, format!("`{}` is larger than {MAX_TRACE_BYTES} bytes", full.display())));
    }
    let text = std::fs::read(&full).map_err(|e| ctx.err(field, format!("cannot read `{}`: {e}", full.display())))?;
    let trace = Trace { text: &text, file: full.clone(), field };
    // Cells are trimmed when read: the reader's own trimming copies every record.
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_slice());
    let header = reader.headers().map_err(|e| trace.csv_error(&e))?.clone();
    let order = trace.column_order(&header)?;

    let mut rows = Vec::new();
    let mut shared = Shared::default();
    let mut warned = 0usize;
    let mut previous: Option<(SimTime, u64)> = None;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| trace.csv_error(&e))? {
        let position = record.position().expect("records read from a reader have a position").clone();
        let cells = Cells { trace: &trace, record: &record, order: &order, position: &position };
        if rows.len() == MAX_TRACE_ROWS {
            return Err(cells.error(AT, format!("a trace holds at most {MAX_TRACE_ROWS} rows")));
        }
        let at = offset + parse_seconds(cells.get(AT)).map_err(|e| cells.error(AT, e))?;
        if let Some((before, line)) = previous.filter(|&(before, _)| at < before) {
            return Err(cells.error(
                AT,
                format!(
                    "rows must be in time order, and this one ({at} s) comes before line {line} ({before} s): sort the file by at_s"
                ),
            ));
        }
        previous = Some((at, position.line()));
        let row = cells.row(at, &mut shared)?;
        if let Some((param, message)) = known.problem(row.call.as_ref(), at) {
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
        ctx.warn(field, format!("{} more rows of the trace will be answered with an error", warned - NAMED_WARNINGS));
    }
    if rows.is_empty() {
        ctx.warn(field, "the trace has no rows: this client makes no call");
    }
    Ok(rows)
}

/// A trace file's text, for messages that say where.
struct Trace<'a> {
    text: &'a [u8],
    file: PathBuf,
    field: &'a JsonPath,
}

impl Trace<'_> {
    fn error(&self, position: Option<(usize, usize)>, message: String) -> InputError {
        InputError { file: self.file.clone(), position, path: Some(self.field.clone()), message }
    }

    fn csv_error(&self, e: &csv::Error) -> InputError {
        let place = e.position().map(|p| (p.line() as usize, 1));
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("this row has {len} cells, the header {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".to_owned(),
            _ => e.to_string(),
        };
        self.error(place, message)
    }

    /// Line and column of the `field`-th cell of the record that starts at `start`: the first
    /// character of the cell after the spaces the reader trims. Quoted cells may hold commas and
    /// line breaks, so the raw text is scanned rather than the parsed cells measured.
    fn place(&self, start: &csv::Position, field: usize) -> (usize, usize) {
        let text = self.text;
        let mut i = start.byte() as usize;
        let mut line = start.line() as usize;
        let mut line_start = text[..i].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
        let (mut cell, mut quoted) = (0, false);
        while cell < field && i < text.len() {
            match text[i] {
                b'"' => quoted = !quoted,
                b',' if !quoted => cell += 1,
                b'\n' => {
                    line += 1;
                    line_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        while i < text.len() && matches!(text[i], b' ' | b'\t') {
            i += 1;
        }
        // Characters, not bytes: a UTF-8 continuation byte does not start one.
        let column = 1 + text[line_start..i].iter().filter(|&&b| b & 0xC0 != 0x80).count();
        (line, column)
    }

    /// Where each of [`COLUMNS`] sits in the file's header.
    fn column_order(&self, header: &csv::StringRecord) -> Result<[usize; 9]> {
        let start = header.position().cloned().unwrap_or_else(csv::Position::new);
        let mut order = [usize::MAX; 9];
        for (at, name) in header.iter().map(str::trim).enumerate() {
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
                Some((start.line() as usize, 1)),
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
    position: &'a csv::Position,
}

impl Cells<'_> {
    fn get(&self, column: usize) -> &str {
        self.record.get(self.order[column]).unwrap_or("").trim()
    }

    fn place(&self, column: usize) -> (usize, usize) {
        self.trace.place(self.position, self.order[column])
    }

    fn error(&self, column: usize, message: impl AsRef<str>) -> InputError {
        self.trace.error(Some(self.place(column)), format!("column `{}`: {}", COLUMNS[column], message.as_ref()))
    }

    fn row(&self, at: SimTime, shared: &mut Shared) -> Result<TraceRow> {
        let account = match self.get(ACCOUNT) {
            "" => None,
            a if a.len() > 128 => return Err(self.error(ACCOUNT, "an account has 1 to 128 characters")),
            a => Some(shared.text(a)),
        };
        let action = self.get(ACTION);
        if !ACTIONS.contains(&action) {
            let message = match action {
                "" => format!("missing: one of {}", ACTIONS.join(", ")),
                _ => format!("`{action}` is not an action: one of {}", ACTIONS.join(", ")),
            };
            return Err(self.error(ACTION, message));
        }
        let needed = needs(action);
        for column in JOB_ID..=INSTANCE_IDS {
            let optional = column == INSTANCE_IDS && action == "CancelInvocation";
            match (self.get(column).is_empty(), needed.contains(&column)) {
                (true, true) => return Err(self.error(column, format!("{action} needs it"))),
                (false, false) if !optional => {
                    return Err(self.error(column, format!("does not apply to {action}: leave it empty")));
                }
                _ => {}
            }
        }
        let mut text = |column| shared.text(self.get(column));
        let call = match action {
            "TerminateTaskInstance" => Call::TerminateTaskInstance {
                job: text(JOB_ID),
                task: text(TASK_NAME),
                index: self
                    .get(INDEX)
                    .parse()
                    .map_err(|_| self.error(INDEX, format!("`{}` is not a whole number", self.get(INDEX))))?,
            },
            "TerminateJob" => Call::TerminateJob { job: text(JOB_ID) },
            "CancelTask" => Call::CancelTask { task_id: text(TASK_ID) },
            _ => Call::CancelInvocation { invocation: text(INVOCATION_ID), instances: self.instance_ids(shared)? },
        };
        Ok(TraceRow { at, account, call })
    }

    /// `None` for an empty cell: every instance of the invocation.
    fn instance_ids(&self, shared: &mut Shared) -> Result<Option<Arc<[String]>>> {
        let cell = self.get(INSTANCE_IDS);
        if cell.is_empty() {
            return Ok(None);
        }
        if let Some(ids) = shared.lists.get(cell) {
            return Ok(Some(ids.clone()));
        }
        let ids: Vec<String> = cell.split(';').map(|id| id.trim().to_owned()).collect();
        if ids.iter().any(String::is_empty) {
            return Err(self.error(INSTANCE_IDS, "an empty instance id: ids are separated by single `;`"));
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
