//! `instances.csv`: one row per task instance, in job, task and index order.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::engine::SimTime;
use crate::model::Outcome;
use crate::model::config::EnvRef;

use super::csv::{Names, write_time};

pub const INSTANCES_HEADER: &str = "job_id,task,index,env,final_state,path,terminate_requested_s,terminated_s,released_s,termination_latency_s,release_latency_s";

fn cell(out: &mut impl Write, t: Option<SimTime>) -> io::Result<()> {
    out.write_all(b",")?;
    match t {
        Some(t) => write_time(out, t),
        None => Ok(()),
    }
}

pub fn write(path: &Path, outcome: &Outcome) -> io::Result<()> {
    let names = Names::new(&outcome.config);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(out, "{INSTANCES_HEADER}")?;
    for (i, inst) in outcome.instance_reports().enumerate() {
        let task = &outcome.tasks[outcome.instances[i].task as usize];
        let job = &outcome.config.jobs[task.job as usize];
        let env = match job.env {
            EnvRef::Anonymous => "anonymous",
            EnvRef::Named(e) => outcome.config.environments[e as usize].id.as_str(),
        };
        // `job_id,task,index` is the instance id with its slashes made commas.
        let mut id = Vec::with_capacity(40);
        names.write_instance(&mut id, i as u32)?;
        for b in id.iter_mut().filter(|b| **b == b'/') {
            *b = b',';
        }
        out.write_all(&id)?;
        write!(out, ",{env},{},{}", inst.state.as_str(), inst.path.as_str())?;
        let requested = inst.terminate_requested;
        cell(&mut out, requested)?;
        cell(&mut out, inst.terminated)?;
        cell(&mut out, inst.released)?;
        cell(&mut out, requested.zip(inst.terminated).map(|(r, t)| t - r))?;
        cell(&mut out, requested.zip(inst.released).map(|(r, t)| t - r))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
