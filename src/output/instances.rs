//! `instances.csv`: one row per task instance, in job, task and index order.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::model::Outcome;
use crate::model::config::EnvRef;

use super::csv::write_time_cell;
use super::names::Names;

pub(crate) const INSTANCES_HEADER: &str = "job_id,task,index,env,final_state,path,terminate_requested_s,terminated_s,released_s,termination_latency_s,release_latency_s";

pub(crate) fn write(path: &Path, outcome: &Outcome) -> io::Result<()> {
    let names = Names::new(&outcome.config);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(out, "{INSTANCES_HEADER}")?;
    // Each row is put together in one buffer and written at once: a million rows of small
    // writes through the formatting machinery cost more than the rest of the file.
    let mut row = Vec::with_capacity(256);
    for (i, inst) in outcome.instance_reports().enumerate() {
        let task = &outcome.tasks[outcome.instances[i].task as usize];
        let job = &outcome.config.jobs[task.job as usize];
        let env = match job.env {
            EnvRef::Anonymous => "anonymous",
            EnvRef::Named(e) => outcome.config.environments[e as usize].id.as_str(),
        };
        row.clear();
        // `job_id,task,index` is the instance id with its slashes made commas.
        names.write_instance(&mut row, i as u32);
        for b in row.iter_mut().filter(|b| **b == b'/') {
            *b = b',';
        }
        for field in [env, inst.state.as_str(), inst.path.as_str()] {
            row.push(b',');
            row.extend_from_slice(field.as_bytes());
        }
        let requested = inst.terminate_requested;
        write_time_cell(&mut row, requested)?;
        write_time_cell(&mut row, inst.terminated)?;
        write_time_cell(&mut row, inst.released)?;
        write_time_cell(&mut row, requested.zip(inst.terminated).map(|(r, t)| t - r))?;
        write_time_cell(&mut row, requested.zip(inst.released).map(|(r, t)| t - r))?;
        row.push(b'\n');
        out.write_all(&row)?;
    }
    out.flush()
}
