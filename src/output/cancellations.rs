//! `cancellations.csv` (SPEC §4): one row per DLC task and per TAT invocation task, written
//! when the scenario has any.
//!
//! `service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s`: for a
//! DLC task `service` is `dlc`, `id` its `TaskId`, `instance_id` empty; for a TAT invocation task
//! `service` is `tat`, `id` the invocation and `instance_id` its instance. `final_state` is the
//! state when the run ended (empty if it never started); `cancel_requested_s` when the first
//! accepted cancel that covers it arrived; `cancelled_s` when it became `CANCELLED` (or, for a
//! TAT task that was running, `TERMINATED`). Cells that do not apply are empty.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::model::Outcome;

use super::csv::{escape, write_time_cell};

pub const CANCELLATIONS_HEADER: &str =
    "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s";

/// Whether the run writes `cancellations.csv`.
pub fn applies(outcome: &Outcome) -> bool {
    !outcome.dlc.is_empty() || !outcome.tat_tasks.is_empty()
}

pub fn write(path: &Path, outcome: &Outcome) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{CANCELLATIONS_HEADER}")?;
    for (task, config) in outcome.dlc.iter().zip(&outcome.config.dlc_tasks) {
        let state = task.state.map_or("", |s| s.as_str());
        write!(out, "dlc,{},,{state}", escape(&config.id))?;
        write_time_cell(&mut out, task.cancel_requested)?;
        write_time_cell(&mut out, task.cancelled)?;
        write_time_cell(&mut out, task.cancel_requested.zip(task.cancelled).map(|(r, c)| c - r))?;
        out.write_all(b"\n")?;
    }
    let invocations = &outcome.config.tat_invocations;
    for task in &outcome.tat_tasks {
        let invocation = &invocations[task.invocation as usize];
        let state = task.state.map_or("", |s| s.as_str());
        let instance = &invocation.instances[task.instance as usize];
        write!(out, "tat,{},{},{state}", escape(&invocation.id), escape(instance))?;
        write_time_cell(&mut out, task.cancel_requested)?;
        write_time_cell(&mut out, task.cancelled)?;
        write_time_cell(&mut out, task.cancel_requested.zip(task.cancelled).map(|(r, c)| c - r))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
