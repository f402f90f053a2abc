//! `cancellations.csv` (SPEC §4): one row per DLC task, written when the scenario has any.
//!
//! `service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s`: for a
//! DLC task `service` is `dlc`, `id` its `TaskId`, `instance_id` empty; `final_state` its state
//! when the run ended (empty if it was never submitted); `cancel_requested_s` when the first
//! accepted CancelTask arrived; `cancelled_s` when it became `CANCELLED`. Cells that do not apply
//! are empty.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::engine::SimTime;
use crate::model::Outcome;

use super::csv::{escape, write_time};

pub const CANCELLATIONS_HEADER: &str =
    "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s";

/// Whether the run writes `cancellations.csv`.
pub fn applies(outcome: &Outcome) -> bool {
    !outcome.dlc.is_empty()
}

fn cell(out: &mut impl Write, t: Option<SimTime>) -> io::Result<()> {
    out.write_all(b",")?;
    t.map_or(Ok(()), |t| write_time(out, t))
}

pub fn write(path: &Path, outcome: &Outcome) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{CANCELLATIONS_HEADER}")?;
    for (task, config) in outcome.dlc.iter().zip(&outcome.config.dlc_tasks) {
        let state = task.state.map_or("", |s| s.as_str());
        write!(out, "dlc,{},,{state}", escape(&config.id))?;
        cell(&mut out, task.cancel_requested)?;
        cell(&mut out, task.cancelled)?;
        cell(&mut out, task.cancel_requested.zip(task.cancelled).map(|(r, c)| c - r))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
