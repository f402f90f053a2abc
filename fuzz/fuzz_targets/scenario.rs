//! The scenario loader on arbitrary text: it answers with a scenario or an error, never a panic.
//! A small scenario it accepts is also run, so that what `validate` lets through runs to its end.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use termsim::model::{Model, NullRecorder};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(scenario) = termsim::scenario::parse(text, Path::new("fuzz.json")) else { return };
    let config = scenario.config;
    let calls: usize = config.clients.iter().map(|c| c.kind.call_count()).sum();
    let tat: usize = config.tat_invocations.iter().map(|v| v.instances.len()).sum();
    // Big scenarios are valid but slow: the run is for the small ones the fuzzer makes by the
    // thousand.
    if config.total_instances() > 200 || calls > 2_000 || tat > 500 || config.dlc_tasks.len() > 200 {
        return;
    }
    let nodes: u64 = config.environments.iter().map(|e| u64::from(e.nodes)).sum();
    if nodes > 200 {
        return;
    }
    let mut model = Model::new(config, NullRecorder).expect("the loader refuses what the model refuses");
    let _ = model.run();
    let _ = model.finish();
});
