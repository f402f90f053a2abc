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

use crate::engine::SimTime;
use crate::model::{Outcome, State, TatTaskState};

use super::charts::CancelGroup;

use super::csv::{escape, write_time_cell};

pub(crate) const CANCELLATIONS_HEADER: &str =
    "service,id,instance_id,final_state,cancel_requested_s,cancelled_s,cancel_latency_s";

/// Whether the run writes `cancellations.csv`.
pub(crate) fn applies(outcome: &Outcome) -> bool {
    !outcome.dlc.is_empty() || !outcome.tat_tasks.is_empty()
}

/// One row of the file.
pub(crate) struct CancellationRow<'a> {
    pub service: &'static str,
    pub id: &'a str,
    /// Empty for a DLC task.
    pub instance_id: &'a str,
    /// `None` if it never started (an empty cell).
    pub final_state: Option<State>,
    pub cancel_requested: Option<SimTime>,
    pub cancelled: Option<SimTime>,
}

impl CancellationRow<'_> {
    pub(crate) fn latency(&self) -> Option<SimTime> {
        self.cancel_requested.zip(self.cancelled).map(|(r, c)| c - r)
    }

    /// The cancellation chart's line this row belongs to.
    pub(crate) fn group(&self) -> CancelGroup {
        match self.final_state {
            _ if self.service == "dlc" => CancelGroup::Dlc,
            Some(State::TatTask(TatTaskState::Terminated)) => CancelGroup::TatRunning,
            _ => CancelGroup::TatUndelivered,
        }
    }
}

/// The rows, in file order: DLC tasks, then every invocation's tasks.
pub(crate) fn rows(outcome: &Outcome) -> impl Iterator<Item = CancellationRow<'_>> {
    let dlc = outcome.dlc.iter().zip(&outcome.config.dlc_tasks).map(|(task, config)| CancellationRow {
        service: "dlc",
        id: &config.id,
        instance_id: "",
        final_state: task.state.map(State::from),
        cancel_requested: task.cancel_requested,
        cancelled: task.cancelled,
    });
    let invocations = &outcome.config.tat_invocations;
    let tat = outcome.tat_tasks.iter().map(move |task| {
        let invocation = &invocations[task.invocation as usize];
        CancellationRow {
            service: "tat",
            id: &invocation.id,
            instance_id: &invocation.instances[task.instance as usize],
            final_state: task.state.map(State::from),
            cancel_requested: task.cancel_requested,
            cancelled: task.cancelled,
        }
    });
    dlc.chain(tat)
}

pub(crate) fn write(path: &Path, outcome: &Outcome) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{CANCELLATIONS_HEADER}")?;
    for row in rows(outcome) {
        let final_state = row.final_state.map_or("", State::as_str);
        write!(out, "{},{},{},{final_state}", row.service, escape(row.id), escape(row.instance_id))?;
        write_time_cell(&mut out, row.cancel_requested)?;
        write_time_cell(&mut out, row.cancelled)?;
        write_time_cell(&mut out, row.latency())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
