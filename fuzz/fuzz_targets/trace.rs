//! The trace reader on arbitrary bytes: a trace file is read with its client's scenario, and is
//! either accepted or refused with a located error, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const SCENARIO: &str = r#"{ "name": "fuzz-trace", "horizon": "1h",
  "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 3, "runtime": "10m" } ] } ],
  "dlc": { "tasks": [ { "id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564" } ] },
  "tat": { "invocations": [ { "id": "inv-aaaaaaaa", "instances": ["ins-aaaaaaaa", "ins-bbbbbbbb"] } ] },
  "clients": [ { "type": "trace", "csv": "trace.csv", "retry": { "max_attempts": 2 } } ] }"#;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("termsim-fuzz-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder();
    std::fs::write(dir.join("trace.csv"), data).expect("write the trace");
    let Ok(scenario) = termsim::scenario::parse(SCENARIO, &dir.join("fuzz.json")) else { return };
    // An accepted trace runs: its calls, erroneous ones included, are answered.
    if scenario.config.clients.iter().map(|c| c.kind.call_count()).sum::<usize>() <= 5_000 {
        let mut model = termsim::model::Model::new(scenario.config, termsim::model::NullRecorder)
            .expect("the loader refuses what the model refuses");
        let _ = model.run();
    }
});
